// SPDX-License-Identifier: LGPL-2.1-or-later
/* Capped reads of procfs files for the host modules. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host_priv.h"

const char *host_procfs(const char *procfs)
{
	return procfs && *procfs ? procfs : "/proc";
}

char *host_read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t cap = max < 4096 ? max : 4096, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			if (cap >= max)
				break;
			size_t ncap = cap * 2 > max ? max : cap * 2;
			char *b = realloc(buf, ncap + 1);
			if (!b) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = b;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(buf);
			close(fd);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (!buf) {
		errno = ENOMEM;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

void host_copy(char *dst, size_t size, const char *src)
{
	if (!size)
		return;
	size_t n = strnlen(src, size - 1);
	memcpy(dst, src, n);
	dst[n] = 0;
}

bool host_parse_pid(const char *s, int *pid)
{
	if (!s || !*s || *s == '0')
		return false;  /* "0100" is not a second name of 100 */
	long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9' || c - s >= 10)
			return false;
		v = v * 10 + (*c - '0');
	}
	if (v <= 0 || v > (1L << 30))
		return false;
	*pid = (int)v;
	return true;
}
