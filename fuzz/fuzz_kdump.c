// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: kdump-compressed dumps, read with libkdumpfile (loaded
 * at run time by src/memory/kdump.c).  The input goes to a memfd and is
 * opened through /proc/self/fd/N; an input not starting with a kdump
 * signature gets "KDUMP   " put in front, so every input reaches
 * libkdumpfile.  When it opens: reads at range edges, the vCPU notes, and
 * VMCOREINFO.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write a small valid kdump file there (16
 * uncompressed pages, a QEMU CPU note, VMCOREINFO), and exit.  Real dumps
 * (lab.kdump_unflatten output, cut to their first 64 KiB) seed well too.
 */
#include <stdbool.h>
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
const char *__asan_default_options(void);

/*
 * libkdumpfile sizes some buffers from header fields that src/memory/kdump.c
 * cannot all check (e.g. from VMCOREINFO): such a malloc fails and the
 * library returns an error, as in a normal build.  Under ASan a failing
 * huge malloc would abort instead, so let it return NULL; memory errors
 * are still reported.
 */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

static struct fuzz_file in;  /* libFuzzer's entry points share it */

#define BS 4096u
#define NPAGES 16u

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static size_t note(uint8_t *p, const char *name, uint32_t type,
		   const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	put32(p, namesz);
	put32(p + 4, descsz);
	put32(p + 8, type);
	memcpy(p + 12, name, namesz);
	size_t off = 12 + ((namesz + 3) & ~3u);
	memcpy(p + off, desc, descsz);
	return off + ((descsz + 3) & ~3u);
}

/* Header, sub-header, 2 bitmap blocks, notes, page descriptors, pages. */
static size_t make_kdump(uint8_t *b)
{
	size_t size = (6 + NPAGES) * BS;
	memset(b, 0, size);
	memcpy(b, "KDUMP   ", 8);
	put32(b + 8, 6);                        /* header_version */
	memcpy(b + 12 + 4 * 65, "x86_64", 6);   /* utsname.machine */
	put32(b + 428, BS);                     /* block_size */
	put32(b + 432, 1);                      /* sub_hdr_size */
	put32(b + 436, 2);                      /* bitmap_blocks */
	put32(b + 440, NPAGES);                 /* max_mapnr */
	put32(b + 460, 1);                      /* nr_cpus */
	uint8_t *sub = b + BS;
	put32(sub + 8, 1);                      /* dump_level */
	uint8_t *notes = b + 4 * BS;
	uint8_t qemu[440] = { 0 };
	put32(qemu, 1);
	put32(qemu + 4, sizeof(qemu));
	put64(qemu + 392 + 24, 0x1000);         /* CR3 */
	size_t nn = note(notes, "QEMU", 0, qemu, sizeof(qemu));
	static const char vmci[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
	size_t vmci_off = nn + 12 + 12;
	nn += note(notes + nn, "VMCOREINFO", 0, vmci, sizeof(vmci) - 1);
	put64(sub + 32, 4 * BS + vmci_off);     /* offset_vmcoreinfo */
	put64(sub + 40, sizeof(vmci) - 1);
	put64(sub + 48, 4 * BS);                /* offset_note */
	put64(sub + 56, nn);
	put64(sub + 96, NPAGES);                /* max_mapnr_64 */
	memset(b + 2 * BS, 0xff, NPAGES / 8);   /* 1st bitmap: RAM */
	memset(b + 3 * BS, 0xff, NPAGES / 8);   /* 2nd bitmap: dumped */
	for (uint32_t i = 0; i < NPAGES; i++) {
		uint8_t *d = b + 5 * BS + 24 * i;  /* struct page_desc */
		put64(d, (uint64_t)(6 + i) * BS);
		put32(d + 8, BS);                  /* size, flags 0: raw */
		memset(b + (6 + i) * BS, (int)i, BS);
	}
	return size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		static uint8_t buf[(6 + NPAGES) * BS];
		size_t n = make_kdump(buf);
		fuzz_write_seed(dir, "kdump-16", buf, n);
		exit(0);
	}
	fuzz_file_init(&in, "vmsight-fuzz-kdump");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (4u << 20))
		return 0;
	bool sig = size >= 8 && (!memcmp(data, "KDUMP   ", 8) ||
				 !memcmp(data, "DISKDUMP", 8));
	if (ftruncate(in.fd, 0))
		return 0;
	size_t off = 0;
	if (!sig) {
		if (pwrite(in.fd, "KDUMP   ", 8, 0) != 8)
			return 0;
		off = 8;
	}
	if (size && pwrite(in.fd, data, size, (off_t)off) != (ssize_t)size)
		return 0;
	struct vms_source *src;
	struct vms_error *err = vms_source_open(in.path, &src);
	if (err) {
		vms_error_free(err);
		return 0;
	}
	uint8_t buf[4096 + 16];
	for (size_t i = 0; i < src->nr_ranges && i < 8; i++) {
		const struct vms_phys_range *r = &src->ranges[i];
		uint64_t len = r->end - r->start;
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		vms_error_free(vms_source_read(src, r->start, buf, n));
		vms_error_free(vms_source_read(src, r->end - n, buf, n));
		vms_error_free(vms_source_read(src, r->end - 1, buf, 2));
	}
	vms_error_free(vms_source_read(src, ~0ULL - 4, buf, 16));
	volatile uint64_t sum = 0;
	for (size_t i = 0; i < src->nr_cpus; i++)
		sum += src->cpus[i].cr3;
	if (src->vmcoreinfo)
		sum += strlen(src->vmcoreinfo);
	(void)sum;
	vms_source_close(src);
	return 0;
}
