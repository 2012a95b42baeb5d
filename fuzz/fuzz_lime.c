// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: LiME dumps.  The input is written to a memfd and
 * opened through /proc/self/fd/N like any user-named file (source.c detects
 * LiME by its magic; inputs without it are also tried with the magic put in
 * front).  When it opens, the ranges are read at their edges.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write small valid LiME files there, and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmsight/source.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fuzz_file in;  /* libFuzzer's entry points share it */

static size_t lime_range(uint8_t *p, uint64_t s, uint64_t len, uint8_t fill)
{
	uint32_t magic = 0x4C694D45, version = 1;
	uint64_t e = s + len - 1;
	memcpy(p, &magic, 4);
	memcpy(p + 4, &version, 4);
	memcpy(p + 8, &s, 8);
	memcpy(p + 16, &e, 8);
	memset(p + 24, 0, 8);
	memset(p + 32, fill, len);
	return 32 + len;
}


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		static uint8_t buf[3 * 4096 + 96];
		size_t n = lime_range(buf, 0, 4096, 0x11);
		n += lime_range(buf + n, 0x100000, 4096, 0x22);
		n += lime_range(buf + n, 0x100000000ULL, 4096, 0x33);
		fuzz_write_seed(dir, "lime-3", buf, n);
		fuzz_write_seed(dir, "lime-1", buf, 32 + 4096);
		exit(0);
	}
	fuzz_file_init(&in, "vmsight-fuzz-lime");
	return 0;
}

static void try_open(void)
{
	struct vms_source *src;
	struct vms_error *err = vms_source_open(in.path, &src);
	if (err) {
		vms_error_free(err);
		return;
	}
	uint8_t buf[256];
	for (size_t i = 0; i < src->nr_ranges && i < 16; i++) {
		const struct vms_phys_range *r = &src->ranges[i];
		uint64_t len = r->end - r->start;
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		vms_error_free(vms_source_read(src, r->start, buf, n));
		vms_error_free(vms_source_read(src, r->end - n, buf, n));
		vms_error_free(vms_source_read(src, r->end - 1, buf, 2));
		vms_source_map(src, r->start, n);
		vms_source_is_backed(src, r->start, (size_t)len);
	}
	vms_source_phys_end(src);
	vms_source_phys_size(src);
	vms_source_close(src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_file_set(&in, data, size))
		return 0;
	try_open();
	if (size >= 4 && !memcmp(data, "EMiL", 4))
		return 0;
	/* The same bytes behind a LiME magic, so every input reaches the parser. */
	static const uint8_t magic[4] = { 'E', 'M', 'i', 'L' };
	if (ftruncate(in.fd, 0) || pwrite(in.fd, magic, 4, 0) != 4 ||
	    (size && pwrite(in.fd, data, size, 4) != (ssize_t)size))
		return 0;
	try_open();
	return 0;
}
