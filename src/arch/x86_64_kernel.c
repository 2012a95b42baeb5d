// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <string.h>

#include "arch/x86_64_kernel.h"
#include "util/bytes.h"

#define CHUNK (2ULL << 20)
#define MIN_IMAGE (4ULL << 20)   /* any real kernel maps more than this */
#define CR4_LA57 (1ULL << 12)

/*
 * The kernel image is mapped at __START_KERNEL_map + offset, from _text to
 * the end of the image, physically contiguous (cleanup_highmap() removed
 * the entries before _text).  So the first mapped 2 MiB chunk there is
 * _text, and the image runs while chunks stay mapped and contiguous.
 */
static bool probe_image(struct vms_source *src, uint64_t pgd, bool la57,
			struct vms_x86_kernel_map *out)
{
	/* Quick reject: the top-level entry for the kernel map must be present. */
	uint8_t raw[8];
	/* Both 4- and 5-level tables put the kernel map in entry 511. */
	struct vms_error *rerr = vms_source_read(src, (pgd & X86_PTE_ADDR) + 511 * 8, raw, 8);
	if (rerr) {
		vms_error_free(rerr);
		return false;
	}
	uint64_t e = vms_le64(raw), next;
	if (!(e & X86_PTE_PRESENT) || !vms_x86_64_entry_target(src, e, &next) ||
	    !vms_source_is_backed(src, next, 4096))
		return false;

	struct vms_x86_translation tr;
	uint64_t va = X86_KERNEL_MAP_START;
	for (; va < X86_KERNEL_MAP_START + X86_KERNEL_MAP_SIZE; va += CHUNK) {
		struct vms_error *err = vms_x86_64_walk(src, pgd, la57, va, &tr);
		if (!err)
			break;
		vms_error_free(err);
	}
	if (va >= X86_KERNEL_MAP_START + X86_KERNEL_MAP_SIZE)
		return false;
	uint64_t text_va = va, text_pa = tr.paddr;
	if (text_pa % CHUNK || !vms_source_is_backed(src, text_pa, 4096))
		return false;
	size_t n = 0;
	for (; va < X86_KERNEL_MAP_START + X86_KERNEL_MAP_SIZE &&
	       n < X86_MAX_IMAGE_CHUNKS; va += CHUNK, n++) {
		struct vms_error *err = vms_x86_64_walk(src, pgd, la57, va, &tr);
		if (err) {
			vms_error_free(err);
			break;
		}
		if (tr.paddr != text_pa + (va - text_va) ||
		    !vms_source_is_backed(src, tr.paddr, CHUNK))
			break;
		out->chunk_ro[n] = !tr.writable;
		out->chunk_nx[n] = tr.nx;
	}
	if (va - text_va < MIN_IMAGE)
		return false;
	out->pgd = pgd & X86_PTE_ADDR;
	out->la57 = la57;
	out->text_vaddr = text_va;
	out->text_paddr = text_pa;
	out->image_size = va - text_va;
	return true;
}

static bool probe_both(struct vms_source *src, uint64_t pgd,
		       struct vms_x86_kernel_map *out)
{
	return probe_image(src, pgd, false, out) ||
	       probe_image(src, pgd, true, out);
}

struct vms_error *vms_x86_64_find_kernel(struct vms_source *src,
					 bool allow_full_scan,
					 struct vms_x86_kernel_map *out)
{
	memset(out, 0, sizeof(*out));
	/* 1. vCPU registers.  Under PTI a vCPU in user mode holds the user
	 * half of the 8 KiB PGD pair: the kernel's is the page before. */
	for (size_t i = 0; i < src->nr_cpus; i++) {
		const struct vms_cpu_state *c = &src->cpus[i];
		bool la57 = c->cr4 & CR4_LA57;
		uint64_t cands[2] = { c->cr3 & X86_PTE_ADDR,
				      c->cr3 & X86_PTE_ADDR & ~0x1000ULL };
		for (int j = 0; j < 2; j++) {
			if (j && cands[1] == cands[0])
				break;
			if (probe_image(src, cands[j], la57, out)) {
				snprintf(out->origin, sizeof(out->origin),
					 "CR3 of vCPU %zu%s", i,
					 j ? " (kernel half of the PTI pair)" : "");
				return NULL;
			}
		}
	}
	/* 2. The real-mode trampoline (below 1 MiB) holds a copy of the
	 * kernel's top-level entries (setup_real_mode()). */
	uint8_t page[4096];
	for (uint64_t pa = 0; pa < (1ULL << 20); pa += 4096) {
		if (!vms_source_is_backed(src, pa, 4096))
			continue;
		if (probe_both(src, pa, out)) {
			snprintf(out->origin, sizeof(out->origin),
				 "real-mode trampoline page table at physical 0x%llx",
				 (unsigned long long)pa);
			return NULL;
		}
	}
	if (!allow_full_scan)
		goto fail;
	/* 3. Every page of memory (slow: the cost grows with RAM size). */
	for (size_t r = 0; r < src->nr_ranges; r++) {
		for (uint64_t pa = src->ranges[r].start; pa + 4096 <= src->ranges[r].end;
		     pa += 4096) {
			const uint8_t *p = vms_source_map(src, pa + 4088, 8);
			uint64_t e;
			if (p) {
				e = vms_le64(p);
			} else {
				struct vms_error *err = vms_source_read(src, pa + 4088, page, 8);
				if (err) {
					vms_error_free(err);
					continue;
				}
				e = vms_le64(page);
			}
			uint64_t next;
			if (!(e & X86_PTE_PRESENT) || !vms_x86_64_entry_target(src, e, &next) ||
			    next >= vms_source_phys_end(src))
				continue;
			if (probe_both(src, pa, out)) {
				snprintf(out->origin, sizeof(out->origin),
					 "page table found by scanning memory at physical 0x%llx",
					 (unsigned long long)pa);
				return NULL;
			}
		}
	}
fail:
	return vms_error_create(VMS_ERR_NOT_FOUND,
		"no Linux kernel found in %s: no page table maps a kernel image at 0x%llx-0x%llx (tried %zu vCPU CR3 value(s), the first MiB%s)",
		src->path, (unsigned long long)X86_KERNEL_MAP_START,
		(unsigned long long)(X86_KERNEL_MAP_START + X86_KERNEL_MAP_SIZE),
		src->nr_cpus, allow_full_scan ? " and every page" : "");
}
