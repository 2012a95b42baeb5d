// SPDX-License-Identifier: LGPL-2.1-or-later
/* Small helpers of the host modules: the procfs root, bounded copies,
 * pid names.  (Capped file reads: util/readfile.h.) */
#include <string.h>

#include "host/host_priv.h"

const char *host_procfs(const char *procfs)
{
	return procfs && *procfs ? procfs : "/proc";
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
