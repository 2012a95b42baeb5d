// SPDX-License-Identifier: LGPL-2.1-or-later
/* x86-64 page walks over synthetic page tables in a buffer source:
 * 4- and 5-level, 4 KiB / 2 MiB / 1 GiB pages, non-present entries at
 * every level, tables outside memory, flags, reads across pages, TLB. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/source.h>

#include "arch/x86_64.h"
#include "check.h"


#define MEM_SIZE (4u << 20)
#define P  X86_PTE_PRESENT
#define RW X86_PTE_RW
#define US X86_PTE_USER
#define PS X86_PTE_PS
#define NX X86_PTE_NX

/* Physical layout of the synthetic memory. */
#define PML4   0x1000ULL
#define PDPT   0x2000ULL
#define PD     0x3000ULL
#define PT     0x4000ULL
#define PML5   0x5000ULL
#define PT2    0x6000ULL
#define PDPT0  0x7000ULL  /* user half, for the USER flag */
#define PD0    0x8000ULL
#define PT0    0x9000ULL
#define PAGE_A 0x10000ULL
#define PAGE_B 0x20000ULL
#define PAGE_C 0x30000ULL
#define PAGE_U 0x31000ULL
#define BIG2M  0x200000ULL
#define BIG1G  0x40000000ULL  /* not backed: translation only */

#define V_4K_A 0xffffffff81000000ULL  /* PT[0]: RW NX -> PAGE_A */
#define V_4K_B 0xffffffff81001000ULL  /* PT[1]: RO    -> PAGE_B */
#define V_4K_NP 0xffffffff81002000ULL /* PT[2]: not present */
#define V_2M   0xffffffff81200000ULL  /* PD[9]: 2 MiB, RO NX */
#define V_PD_NP 0xffffffff81400000ULL /* PD[10]: not present */
#define V_PD_OUT 0xffffffff81600000ULL /* PD[11]: table outside memory */
#define V_NXPD 0xffffffff81800000ULL  /* PD[12]: NX on the PDE, PT2[0] plain */
#define V_1G   0xffffffffc0000000ULL  /* PDPT[511]: 1 GiB */
#define V_PDPT_NP 0xffffffff00000000ULL /* PDPT[508]: not present */
#define V_PML4_NP 0xffff888000000000ULL /* PML4[273]: not present */
#define V_USER 0x0000000000400000ULL  /* PML4[0] -> user 4 KiB page */

static uint8_t *mem;

static void put(uint64_t table, unsigned idx, uint64_t val)
{
	memcpy(mem + table + 8 * idx, &val, 8);
}

static void build(void)
{
	mem = calloc(1, MEM_SIZE);
	put(PML5, 511, PML4 | P | RW);
	put(PML5, 0, PML4 | P | RW | US);  /* user half in 5-level too */
	put(PML4, 511, PDPT | P | RW);
	put(PML4, 0, PDPT0 | P | RW | US);
	put(PDPT, 510, PD | P | RW);
	put(PDPT, 511, BIG1G | P | RW | PS);
	put(PD, 8, PT | P | RW);
	put(PD, 9, BIG2M | P | PS | NX);
	put(PD, 11, 0x7ff000000ULL | P | RW);  /* far outside the buffer */
	put(PD, 12, PT2 | P | RW | NX);
	put(PT, 0, PAGE_A | P | RW | NX);
	put(PT, 1, PAGE_B | P);
	put(PT, 3, PAGE_C | P | RW);
	put(PT2, 0, PAGE_C | P | RW);
	put(PDPT0, 0, PD0 | P | RW | US);
	put(PD0, 2, PT0 | P | RW | US);
	put(PT0, 0, PAGE_U | P | US);
	for (unsigned i = 0; i < 4096; i++) {
		mem[PAGE_A + i] = (uint8_t)(0xa0 + i % 7);
		mem[PAGE_B + i] = (uint8_t)(0xb0 + i % 5);
	}
}

static void walk_ok(struct vms_source *src, uint64_t pgd, bool la57,
		    uint64_t va, uint64_t want_pa, uint64_t want_size,
		    bool want_w, bool want_nx, bool want_user, const char *name)
{
	struct vms_x86_translation tr;
	memset(&tr, 0xee, sizeof(tr));
	struct vms_error *err = vms_x86_64_walk(src, pgd, la57, va, &tr);
	CHECKD(!err && tr.paddr == want_pa && tr.page_size == want_size,
	       name, "%s; paddr 0x%llx size 0x%llx (want 0x%llx size 0x%llx)",
	       err ? err->message : "ok", (unsigned long long)tr.paddr,
	       (unsigned long long)tr.page_size, (unsigned long long)want_pa,
	       (unsigned long long)want_size);
	if (!err) {
		char n[256];
		snprintf(n, sizeof(n), "%s: flags", name);
		CHECKD(tr.writable == want_w && tr.nx == want_nx && tr.user == want_user,
		       n, "writable %d nx %d user %d (want %d %d %d)", tr.writable,
		       tr.nx, tr.user, want_w, want_nx, want_user);
	}
	vms_error_free(err);
}

static void walk_fault(struct vms_source *src, uint64_t pgd, bool la57,
		       uint64_t va, const char *want_in_msg, const char *name)
{
	struct vms_x86_translation tr;
	struct vms_error *err = vms_x86_64_walk(src, pgd, la57, va, &tr);
	CHECKD(err && err->code == VMS_ERR_FAULT && strstr(err->message, want_in_msg),
	       name, "%s: %s (want FAULT naming \"%s\")",
	       err ? vms_error_code_name(err->code) : "no error",
	       err ? err->message : "", want_in_msg);
	if (err)
		printf("# %s: %s\n", name, err->message);
	vms_error_free(err);
}

static void levels(struct vms_source *src, bool la57)
{
	uint64_t pgd = la57 ? PML5 : PML4;
	const char *m = la57 ? "5-level" : "4-level";
	char n[128];
#define NAME(s) (snprintf(n, sizeof(n), "%s: %s", m, s), n)
	walk_ok(src, pgd, la57, V_4K_A + 0x123, PAGE_A + 0x123, 4096, true, true, false,
		NAME("4 KiB page"));
	walk_ok(src, pgd, la57, V_4K_B + 0xfff, PAGE_B + 0xfff, 4096, false, false, false,
		NAME("4 KiB read-only page"));
	walk_ok(src, pgd, la57, V_2M + 0x1234ab, BIG2M + 0x1234ab, 2u << 20, false, true,
		false, NAME("2 MiB page"));
	walk_ok(src, pgd, la57, V_1G + 0x3456789a, BIG1G + 0x3456789a, 1u << 30, true,
		false, false, NAME("1 GiB page"));
	walk_ok(src, pgd, la57, V_NXPD + 0x10, PAGE_C + 0x10, 4096, true, true, false,
		NAME("NX on the PDE propagates to the 4 KiB page"));
	walk_ok(src, pgd, la57, V_USER + 0x42, PAGE_U + 0x42, 4096, false, false, true,
		NAME("user page: USER along the whole walk"));
	/* pgd with low flag bits (as in CR3: PCID) is masked. */
	walk_ok(src, pgd | 0x5, la57, V_4K_A, PAGE_A, 4096, true, true, false,
		NAME("CR3 low bits ignored"));
	walk_fault(src, pgd, la57, V_4K_NP, "PTE[2]", NAME("non-present PTE"));
	walk_fault(src, pgd, la57, V_PD_NP, "PDE[10]", NAME("non-present PDE"));
	walk_fault(src, pgd, la57, V_PDPT_NP, "PDPTE[508]", NAME("non-present PDPTE"));
	walk_fault(src, pgd, la57, V_PML4_NP, "PML4E[273]", NAME("non-present PML4E"));
	walk_fault(src, pgd, la57, V_PD_OUT, "PTE level", NAME("table pointer outside memory"));
	walk_fault(src, 0x7fffff000ULL, la57, V_4K_A, "outside",
		   NAME("top-level table outside memory"));
	if (la57) {
		walk_fault(src, pgd, la57, 0xff00000000000000ULL, "PML5E[256]",
			   NAME("non-present PML5E"));
		walk_fault(src, pgd, la57, 0x0100000000000000ULL, "not canonical",
			   NAME("non-canonical address"));
		CHECK(vms_x86_64_canonical(0x0000800000000000ULL, true) &&
		      !vms_x86_64_canonical(0x0000800000000000ULL, false),
		      NAME("bit 47 set: canonical only with LA57"));
		CHECK(vms_x86_64_canonical(0xff00000000000000ULL, true) &&
		      !vms_x86_64_canonical(0xfe00000000000000ULL, true),
		      NAME("canonical() with 57 bits"));
	} else {
		walk_fault(src, pgd, la57, 0x0000800000000000ULL, "not canonical",
			   NAME("non-canonical address"));
		walk_fault(src, pgd, la57, 0xfffe000000000000ULL, "not canonical",
			   NAME("non-canonical high address"));
		CHECK(vms_x86_64_canonical(0xffff800000000000ULL, false) &&
		      vms_x86_64_canonical(0x00007fffffffffffULL, false) &&
		      !vms_x86_64_canonical(0x8000000000000000ULL, false),
		      NAME("canonical() with 48 bits"));
	}

	/* Address space: reads and the TLB. */
	struct vms_addrspace *as = malloc(sizeof(*as));
	vms_addrspace_init(as, src, pgd, la57);
	uint8_t buf[16], want[16];
	memcpy(want, mem + PAGE_A + 4088, 8);
	memcpy(want + 8, mem + PAGE_B, 8);
	struct vms_error *err = vms_addrspace_read(as, V_4K_A + 4088, buf, 16);
	CHECKD(!err && !memcmp(buf, want, 16),
	       NAME("read across a page boundary into two physical pages"), "%s",
	       err ? err->message : "bytes differ");
	vms_error_free(err);
	err = vms_addrspace_read(as, V_4K_B + 4090, buf, 16);
	CHECKD(err && err->code == VMS_ERR_FAULT,
	       NAME("read running into a non-present page fails"), "%s",
	       err ? err->message : "no error");
	vms_error_free(err);
	err = vms_addrspace_read(as, V_4K_A, buf, 0);
	CHECK(!err, NAME("zero-length read"));
	vms_error_free(err);
	uint8_t *big = malloc(3 * 4096);
	err = vms_addrspace_read(as, V_2M + 0x1800, big, 3 * 4096);
	CHECKD(!err && !memcmp(big, mem + BIG2M + 0x1800, 3 * 4096),
	       NAME("read of 12 KiB inside a 2 MiB page"), "%s",
	       err ? err->message : "bytes differ");
	vms_error_free(err);
	free(big);
	err = vms_addrspace_read(as, V_1G + 0x1000, buf, 8);
	CHECKD(err && err->code == VMS_ERR_FAULT,
	       NAME("read of a mapped but unbacked page fails"), "%s",
	       err ? err->message : "no error");
	vms_error_free(err);

	/* TLB answers == raw walks, twice over (second pass from the TLB),
	 * for more pages than the TLB holds. */
	unsigned bad = 0, total = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < 700; i++) {
			uint64_t va;
			if (i < 512)
				va = V_2M + 4096ULL * i + (i * 13 % 4096);
			else if (i < 600)
				va = V_1G + 0x200000ULL * (i - 512) + 0x777;
			else
				va = (i % 3 == 0 ? V_4K_A : i % 3 == 1 ? V_4K_B : V_4K_NP) + i;
			struct vms_x86_translation tr;
			uint64_t pa = 0;
			struct vms_error *e1 = vms_x86_64_walk(src, pgd, la57, va, &tr);
			struct vms_error *e2 = vms_addrspace_translate(as, va, &pa);
			total++;
			if (!!e1 != !!e2 || (!e1 && pa != tr.paddr))
				bad++;
			vms_error_free(e1);
			vms_error_free(e2);
		}
	}
	CHECKD(!bad, NAME("TLB translations equal raw walks"), "%u of %u differ",
	       bad, total);
	/* After the page table changes, a flush makes the TLB see it. */
	uint64_t pa;
	vms_error_free(vms_addrspace_translate(as, V_4K_B, &pa));
	put(PT, 1, PAGE_C | P);
	vms_addrspace_flush(as);
	err = vms_addrspace_translate(as, V_4K_B + 5, &pa);
	CHECK(!err && pa == PAGE_C + 5, NAME("flush drops stale TLB entries"));
	vms_error_free(err);
	put(PT, 1, PAGE_B | P);
	vms_addrspace_flush(as);
	free(as);
#undef NAME
}

int main(void)
{
	build();
	struct vms_source *src;
	struct vms_error *err = vms_source_from_buffer(mem, MEM_SIZE, 0, "synthetic", &src);
	CHECK(!err, "buffer source");
	if (err)
		return 1;
	levels(src, false);
	levels(src, true);
	vms_source_close(src);

	/* The same tables at a non-zero physical base. */
	err = vms_source_from_buffer(mem + PML4, MEM_SIZE - PML4, PML4, "offset", &src);
	CHECK(!err, "buffer source at a physical base");
	if (!err) {
		struct vms_x86_translation tr;
		err = vms_x86_64_walk(src, PML4, false, V_4K_A + 1, &tr);
		CHECK(!err && tr.paddr == PAGE_A + 1, "walk with a non-zero phys base");
		vms_error_free(err);
		err = vms_x86_64_walk(src, 0, false, V_4K_A, &tr);
		CHECK(err && err->code == VMS_ERR_FAULT, "top-level table below the phys base");
		vms_error_free(err);
		vms_source_close(src);
	}

	/* Random page tables: every walk either succeeds inside limits or
	 * fails with FAULT; nothing reads outside the buffer. */
	uint8_t *rnd = malloc(64 * 4096);
	uint64_t s = 0x1234567;
	for (size_t i = 0; i < 64 * 4096 / 8; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		uint64_t e = s & (0x3fULL << 12 | NX | 0xff);  /* tables in the buffer */
		memcpy(rnd + 8 * i, &e, 8);
	}
	err = vms_source_from_buffer(rnd, 64 * 4096, 0, "random", &src);
	unsigned ok = 0, fault = 0, other = 0;
	for (unsigned i = 0; i < 20000; i++) {
		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		struct vms_x86_translation tr;
		bool la57 = i & 1;
		int bits = la57 ? 57 : 48;
		uint64_t va = (uint64_t)((int64_t)(s << (64 - bits)) >> (64 - bits));
		struct vms_error *e = vms_x86_64_walk(src, (s >> 40) & 0x3f000, la57, va, &tr);
		if (!e)
			ok += tr.page_size == 4096 || tr.page_size == (2u << 20) ||
			      tr.page_size == (1u << 30);
		else if (e->code == VMS_ERR_FAULT)
			fault++;
		else
			other++;
		vms_error_free(e);
	}
	printf("# random tables: %u translated, %u faults\n", ok, fault);
	CHECK(ok + fault == 20000 && !other, "random page tables: only translations or faults");
	vms_source_close(src);
	free(rnd);
	free(mem);
	return CHECK_DONE();
}
