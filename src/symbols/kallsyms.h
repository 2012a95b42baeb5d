/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Private interface between kallsyms recovery and the symbol table: the
 * table keeps the guest's compressed kallsyms where they lie (the mapped
 * kernel image) and expands a name only when a lookup needs it.
 */
#ifndef VMSIGHT_SYMBOLS_KALLSYMS_H
#define VMSIGHT_SYMBOLS_KALLSYMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/symbols.h>

#define VMS_KSYMS_MAX_NAME 1024  /* expanded name, type letter and NUL included */

/* The validated kallsyms tables inside a kernel image (offsets into @img). */
struct vms_ksyms {
	const uint8_t *img;
	size_t len;
	size_t names;          /* kallsyms_names */
	size_t offsets;        /* kallsyms_offsets */
	size_t token_table;
	uint64_t relative_base;
	int absolute_percpu;
	uint16_t tok_off[256]; /* offset of each token in token_table */
	uint8_t tok_len[256];
};

/* Expand the names entry at @entry (offset from names, length prefix
 * included) into @out (VMS_KSYMS_MAX_NAME bytes): type letter, then the
 * name.  Returns the length.  The entry was bounds-checked when added. */
size_t vms_ksyms_expand(const struct vms_ksyms *ks, uint32_t entry, char *out);
/* The first expanded byte (the type letter) of the entry at @entry. */
char vms_ksyms_first(const struct vms_ksyms *ks, uint32_t entry);
/* Address of table entry @j; @absolute tells an absolute per-CPU value. */
uint64_t vms_ksyms_addr(const struct vms_ksyms *ks, uint32_t j, bool *absolute);

/*
 * Name hash shared by the table (for query strings and copied names) and
 * kallsyms (folded token by token, without expanding): a polynomial over
 * the bytes, h = h * MUL + byte from 0, so that a token's contribution can
 * be precomputed; vms_symhash_final() mixes it with the length.
 */
#define VMS_SYMHASH_MUL 0x100000001b3ULL
static inline uint64_t vms_symhash_final(uint64_t h, size_t len)
{
	h ^= (uint64_t)len * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/*
 * Hand @n recovered symbols to @tab (which must be empty): @ent[i] is the
 * names entry of symbol i, @idx[i] its index in the table (NULL: i),
 * @hash[i] the upper half of vms_symhash_final() of its name without the
 * type letter.  The
 * table takes the three arrays (malloc'd) in all cases; @ks is copied, the
 * image it points to must outlive the table (or be rebound).
 */
struct vms_error *vms_symtab_add_kallsyms(struct vms_symtab *tab,
					  const struct vms_ksyms *ks, size_t n,
					  uint32_t *ent, uint32_t *idx,
					  uint32_t *hash);
/* The kernel image moved (re-mapped, same bytes): point the table at it. */
void vms_symtab_rebind_image(struct vms_symtab *tab, const uint8_t *img);

#endif
