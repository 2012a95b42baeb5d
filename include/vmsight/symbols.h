/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel symbol tables: name -> address and address -> name+offset.
 * Filled from kallsyms recovered from guest memory, or from a System.map or
 * a vmlinux's ELF symbol table given by the user (link-time addresses: the
 * caller slides them by the KASLR offset).
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

/*
 * A table indexes lazily: kallsyms stay compressed in the guest image and a
 * name is expanded when a lookup needs it; the name index is built by the
 * first lookup by name, the address order by the first lookup by address
 * or in order.  Lookups therefore change hidden state: use a table (like
 * the vms_kernel holding it) from one thread at a time.
 */
struct vms_symtab;

struct vms_error *vms_symtab_create(struct vms_symtab **ret);
void vms_symtab_destroy(struct vms_symtab *tab);
/* Add a symbol; @name is copied.  Lookups see the symbols added before the
 * last vms_symtab_finish().  Symbols may be added after a finish (module
 * symbols): finish again; an add invalidates the struct vms_symbol pointers
 * handed out before. */
struct vms_error *vms_symtab_add(struct vms_symtab *tab, uint64_t addr,
				 char type, const char *name, size_t name_len,
				 const char *module);
struct vms_error *vms_symtab_finish(struct vms_symtab *tab);

size_t vms_symtab_count(const struct vms_symtab *tab);
/* How many of the symbols carry a module name. */
size_t vms_symtab_module_count(const struct vms_symtab *tab);
/* Symbol @i: in address order (globals first at one address) when the table
 * is finished, in the order of adding when symbols were added since. */
const struct vms_symbol *vms_symtab_at(const struct vms_symtab *tab, size_t i);
/* Exact name; the core kernel's symbol wins over a module's of the same
 * name, then a global (upper-case type) over a local, then the lowest
 * address. */
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
	/* Filled by kernel discovery: the symbol and type sources in use, for
	 * `info` ("kallsyms", "System.map FILE", "BTF", "DWARF FILE", and
	 * what each was checked against). */
	char symbol_source[256];
	char types_source[256];
};

/* What vms_system_map_parse() read. */
struct vms_system_map_stats {
	size_t lines;           /* lines seen */
	size_t symbols;         /* symbols added */
	size_t bad_lines;       /* lines skipped as malformed */
	size_t first_bad_line;  /* 1-based line number of the first, 0 if none */
	char first_bad[160];    /* why it was rejected, with its start */
};

#define VMS_SYSTEM_MAP_MAX_LINE 4096

/*
 * Parse System.map text (`nm -n` output: "ADDR TYPE NAME" per line, hex
 * address, one-letter type, name without blanks, optional "\t[module]"
 * ignored).  Malformed lines (too long, bad address, type or name) are
 * skipped and counted in @stats; an error if no symbol was read.  Symbols
 * are added to @tab (not finished) at their link-time addresses.  Pure
 * function over the buffer: safe on arbitrary bytes.
 */
struct vms_error *vms_system_map_parse(const char *text, size_t len,
				       struct vms_symtab *tab,
				       struct vms_system_map_stats *stats);
/* Same, from the file at @path (at most 256 MiB). */
struct vms_error *vms_system_map_load(const char *path, struct vms_symtab *tab,
				      struct vms_system_map_stats *stats);

/*
 * Symbols of a vmlinux's ELF .symtab (libelf), with nm-style types derived
 * from binding and section flags; the System.map alternative.  @banner, if
 * not NULL, gets the file's linux_banner string ("" if absent), to tell
 * whether the file is the running kernel's build.
 */
struct vms_error *vms_elf_symbols_load(const char *path, struct vms_symtab *tab,
				       size_t *count, char *banner,
				       size_t banner_size);

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
