/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel symbol tables: name -> address and address -> name+offset.
 * Filled from kallsyms recovered from guest memory (or, later, System.map
 * or module symbol tables).
 */
#ifndef VMSIGHT_SYMBOLS_H
#define VMSIGHT_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_symbol {
	uint64_t addr;
	const char *name;
	const char *module;  /* NULL for the core kernel */
	char type;           /* nm-style letter: T t D d R r B b A ... */
};

struct vms_symtab;

struct vms_error *vms_symtab_create(struct vms_symtab **ret);
void vms_symtab_destroy(struct vms_symtab *tab);
/* Add a symbol; @name is copied.  Call vms_symtab_finish() before lookups. */
struct vms_error *vms_symtab_add(struct vms_symtab *tab, uint64_t addr,
				 char type, const char *name, size_t name_len,
				 const char *module);
struct vms_error *vms_symtab_finish(struct vms_symtab *tab);

size_t vms_symtab_count(const struct vms_symtab *tab);
const struct vms_symbol *vms_symtab_at(const struct vms_symtab *tab, size_t i);
/* Exact name; a global (upper-case type) wins over a local of the same name. */
const struct vms_symbol *vms_symtab_by_name(const struct vms_symtab *tab,
					    const char *name);
/* The symbol with the greatest address <= @addr, ignoring absolute ('A')
 * symbols; NULL if none.  @offset gets addr - symbol address. */
const struct vms_symbol *vms_symtab_by_addr(const struct vms_symtab *tab,
					    uint64_t addr, uint64_t *offset);

/* Where recovered kallsyms tables were found (for `info -v` and tests). */
struct vms_kallsyms_info {
	uint64_t num_syms;
	uint64_t relative_base;
	uint64_t names_vaddr, markers_vaddr, token_table_vaddr,
		 token_index_vaddr, offsets_vaddr;
	int layout;            /* 1: offsets first (<= 6.3), 2: offsets after token_index (6.4+) */
	int absolute_percpu;   /* 1 if non-negative offsets are absolute values */
};

/*
 * Recover kallsyms from a kernel image: @img holds @len bytes of the kernel
 * mapped at virtual @img_vaddr (contiguous, starting at _text).  Search
 * only [@scan_start, @scan_end) for the token table (pass 0, len for all).
 * Symbols are added to @tab (not finished).  Pure function over the buffer:
 * safe on arbitrary bytes.
 */
struct vms_error *vms_kallsyms_recover(const uint8_t *img, size_t len,
				       uint64_t img_vaddr, size_t scan_start,
				       size_t scan_end, struct vms_symtab *tab,
				       struct vms_kallsyms_info *info);

#ifdef __cplusplus
}
#endif
#endif
