// SPDX-License-Identifier: LGPL-2.1-or-later
#include <string.h>

#include "arch/x86_64.h"
#include "util/bytes.h"

static const char *const level_names[] = { "PTE", "PDE", "PDPTE", "PML4E", "PML5E" };

bool vms_x86_64_canonical(uint64_t vaddr, bool la57)
{
	int bits = la57 ? 57 : 48;
	int64_t s = (int64_t)(vaddr << (64 - bits)) >> (64 - bits);
	return (uint64_t)s == vaddr;
}

struct vms_error *vms_x86_64_walk(struct vms_source *src, uint64_t pgd,
				  bool la57, uint64_t vaddr,
				  struct vms_x86_translation *out)
{
	if (!vms_x86_64_canonical(vaddr, la57))
		return vms_error_create(VMS_ERR_FAULT,
			"virtual address 0x%llx is not canonical",
			(unsigned long long)vaddr);
	uint64_t table = pgd & X86_PTE_ADDR;
	bool writable = true, user = true, nx = false;
	for (int level = la57 ? 4 : 3; level >= 0; level--) {
		unsigned idx = (vaddr >> (12 + 9 * level)) & 511;
		uint8_t raw[8];
		struct vms_error *err = vms_source_read(src, table + idx * 8, raw, 8);
		if (err) {
			vms_error_free(err);
			return vms_error_create(VMS_ERR_FAULT,
				"virtual 0x%llx: page table (%s level) at physical 0x%llx is outside the memory image",
				(unsigned long long)vaddr, level_names[level],
				(unsigned long long)table);
		}
		uint64_t e = vms_le64(raw);
		if (!(e & X86_PTE_PRESENT))
			return vms_error_create(VMS_ERR_FAULT,
				"virtual 0x%llx not mapped: %s[%u] = 0x%llx at physical 0x%llx is not present",
				(unsigned long long)vaddr, level_names[level], idx,
				(unsigned long long)e,
				(unsigned long long)(table + idx * 8));
		writable &= !!(e & X86_PTE_RW);
		user &= !!(e & X86_PTE_USER);
		nx |= !!(e & X86_PTE_NX);
		uint64_t target;
		if (!vms_x86_64_entry_target(src, e, &target))
			return vms_error_create(VMS_ERR_FAULT,
				"virtual 0x%llx: %s[%u] = 0x%llx at physical 0x%llx points to machine memory that is not the guest's",
				(unsigned long long)vaddr, level_names[level], idx,
				(unsigned long long)e,
				(unsigned long long)(table + idx * 8));
		if (level == 0 || ((level == 1 || level == 2) && (e & X86_PTE_PS))) {
			uint64_t size = 1ULL << (12 + 9 * level);
			uint64_t base = target & ~(size - 1);
			*out = (struct vms_x86_translation){
				.paddr = base | (vaddr & (size - 1)),
				.page_size = size,
				.writable = writable,
				.user = user,
				.nx = nx,
			};
			return NULL;
		}
		table = target;
	}
	return NULL; /* not reached */
}

void vms_addrspace_flush(struct vms_addrspace *as)
{
	for (size_t i = 0; i < VMS_TLB_SIZE; i++)
		as->tlb[i].vpage = ~0ULL;
}

void vms_addrspace_init(struct vms_addrspace *as, struct vms_source *src,
			uint64_t pgd, bool la57)
{
	as->src = src;
	as->pgd = pgd;
	as->la57 = la57;
	vms_addrspace_flush(as);
}

struct vms_error *vms_addrspace_translate(struct vms_addrspace *as,
					  uint64_t vaddr, uint64_t *paddr)
{
	uint64_t vpage = vaddr >> 12;
	struct vms_tlb_entry *t = &as->tlb[(vpage ^ (vpage >> 8)) % VMS_TLB_SIZE];
	if (t->vpage == vpage) {
		*paddr = (t->ppage << 12) | (vaddr & 0xfff);
		return NULL;
	}
	struct vms_x86_translation tr;
	struct vms_error *err = vms_x86_64_walk(as->src, as->pgd, as->la57,
						vaddr, &tr);
	if (err)
		return err;
	t->vpage = vpage;
	t->ppage = tr.paddr >> 12;
	*paddr = tr.paddr;
	return NULL;
}

struct vms_error *vms_addrspace_read(struct vms_addrspace *as, uint64_t vaddr,
				     void *buf, size_t len)
{
	uint8_t *out = buf;
	while (len) {
		size_t n = 4096 - (vaddr & 0xfff);
		if (n > len)
			n = len;
		uint64_t paddr;
		struct vms_error *err = vms_addrspace_translate(as, vaddr, &paddr);
		if (!err)
			err = vms_source_read(as->src, paddr, out, n);
		if (err)
			return err;
		out += n;
		vaddr += n;
		len -= n;
	}
	return NULL;
}
