/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * x86-64 virtual-to-physical translation over a memory source: 4-level and
 * 5-level (LA57) paging, 2 MiB and 1 GiB pages.  An address space is a
 * top-level table plus a small software TLB.
 */
#ifndef VMSIGHT_ARCH_X86_64_H
#define VMSIGHT_ARCH_X86_64_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/source.h>

#define X86_PTE_PRESENT  (1ULL << 0)
#define X86_PTE_RW       (1ULL << 1)
#define X86_PTE_USER     (1ULL << 2)
#define X86_PTE_PS       (1ULL << 7)
#define X86_PTE_NX       (1ULL << 63)
/* Physical address bits of an entry (bits 12..51; bit 63 is NX and the
 * AMD SME C-bit sits high in this range on encrypted guests: ignored). */
#define X86_PTE_ADDR     0x000ffffffffff000ULL

/* thread_info.flags bit set by resched_curr() (arch/x86/include/asm/thread_info.h) */
#define X86_TIF_NEED_RESCHED 3

/*
 * The guest physical address entry @e points to: its address bits, passed
 * through the source's machine_to_phys hook when it has one (Xen PV guests,
 * whose entries hold machine addresses).  False when that machine frame is
 * not the guest's.
 */
static inline bool vms_x86_64_entry_target(struct vms_source *src, uint64_t e,
					   uint64_t *paddr)
{
	*paddr = e & X86_PTE_ADDR;
	return !src->ops->machine_to_phys ||
	       src->ops->machine_to_phys(src, *paddr, paddr);
}

struct vms_x86_translation {
	uint64_t paddr;
	uint64_t page_size;  /* 4 KiB, 2 MiB or 1 GiB */
	bool writable;       /* RW along the whole walk */
	bool user;
	bool nx;             /* NX anywhere along the walk */
};

#define VMS_TLB_SIZE 256

struct vms_tlb_entry {
	uint64_t vpage;  /* vaddr >> 12, ~0 when empty */
	uint64_t ppage;
};

struct vms_addrspace {
	struct vms_source *src;
	uint64_t pgd;    /* physical address of the top-level table */
	bool la57;
	struct vms_tlb_entry tlb[VMS_TLB_SIZE];
};

void vms_addrspace_init(struct vms_addrspace *as, struct vms_source *src,
			uint64_t pgd, bool la57);
void vms_addrspace_flush(struct vms_addrspace *as);

/* Full walk, no TLB.  VMS_ERR_FAULT names the level and entry that stopped it. */
struct vms_error *vms_x86_64_walk(struct vms_source *src, uint64_t pgd,
				  bool la57, uint64_t vaddr,
				  struct vms_x86_translation *out);
struct vms_error *vms_addrspace_translate(struct vms_addrspace *as,
					  uint64_t vaddr, uint64_t *paddr);
/* Read @len bytes at virtual @vaddr, page by page. */
struct vms_error *vms_addrspace_read(struct vms_addrspace *as, uint64_t vaddr,
				     void *buf, size_t len);
bool vms_x86_64_canonical(uint64_t vaddr, bool la57);

#endif
