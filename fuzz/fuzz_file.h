/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * For harnesses whose parser opens a file by path (sources, libkdumpfile):
 * the input goes to a memfd, opened as /proc/self/fd/N; and seed files are
 * written for VMSIGHT_FUZZ_WRITE_SEEDS.
 */
#ifndef VMSIGHT_FUZZ_FILE_H
#define VMSIGHT_FUZZ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[64];   /* /proc/self/fd/N */
};

/* Create the memfd; aborts when the kernel has none (nothing to fuzz). */
static inline void fuzz_file_init(struct fuzz_file *f, const char *name)
{
	f->fd = memfd_create(name, MFD_CLOEXEC);
	if (f->fd < 0) {
		perror("memfd_create");
		abort();
	}
	snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Make the file exactly @size bytes of @data; false on a write error. */
static inline int fuzz_file_set(struct fuzz_file *f, const uint8_t *data,
				size_t size)
{
	return !ftruncate(f->fd, 0) &&
	       (!size || pwrite(f->fd, data, size, 0) == (ssize_t)size);
}

static inline void fuzz_write_seed(const char *dir, const char *name,
				   const uint8_t *buf, size_t n)
{
	char p[4096];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (f) {
		fwrite(buf, 1, n, f);
		fclose(f);
	}
}

#endif
