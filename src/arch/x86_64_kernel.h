/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Finding an x86-64 Linux kernel's page table and image without registers. */
#ifndef VMSIGHT_ARCH_X86_64_KERNEL_H
#define VMSIGHT_ARCH_X86_64_KERNEL_H

#include "arch/x86_64.h"

#define X86_KERNEL_MAP_START 0xffffffff80000000ULL  /* __START_KERNEL_map */
#define X86_KERNEL_MAP_SIZE  (1ULL << 30)           /* KERNEL_IMAGE_SIZE with KASLR */
#define X86_DEFAULT_TEXT     0xffffffff81000000ULL  /* _text for CONFIG_PHYSICAL_START=16M */
#define X86_DEFAULT_LOAD     0x1000000ULL
#define X86_MAX_IMAGE_CHUNKS 512                    /* 2 MiB chunks in the kernel map */

struct vms_x86_kernel_map {
	uint64_t pgd;
	bool la57;
	uint64_t text_vaddr, text_paddr;
	uint64_t image_size;           /* physically contiguous bytes from _text */
	/* Per 2 MiB chunk of the image: page permissions of its first page. */
	bool chunk_ro[X86_MAX_IMAGE_CHUNKS];
	bool chunk_nx[X86_MAX_IMAGE_CHUNKS];
	char origin[96];
};

/*
 * Find a page table that maps the kernel image, trying in order: the
 * vCPUs' CR3 (when the source has registers), the real-mode trampoline's
 * copy of the kernel's top-level table in the first MiB, then (slow) every
 * page of memory.  Validated by the kernel image mapping it must hold.
 */
struct vms_error *vms_x86_64_find_kernel(struct vms_source *src,
					 bool allow_full_scan,
					 struct vms_x86_kernel_map *out);

#endif
