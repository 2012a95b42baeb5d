/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A Volatility 3 symbol table (ISF, "intermediate symbol format") built
 * from guest memory alone: types from the kernel's BTF, symbols from
 * kallsyms (moved back to their link-time addresses, as System.map has
 * them), linux_banner read from memory for Volatility's banner matching.
 * The format is the one dwarf2json 0.9 writes (6.2.0).  See docs/isf.md.
 */
#ifndef VMSIGHT_ISF_H
#define VMSIGHT_ISF_H

#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>
#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMS_ISF_FORMAT "6.2.0"

/* What went into the table, and what BTF lacked and how it was filled. */
struct vms_isf_stats {
	size_t base_types;
	size_t user_types;       /* structs and unions, anonymous ones included */
	size_t enums;
	size_t symbols;          /* core-kernel kallsyms names (one per name) */
	size_t symbols_btf;      /* typed from a BTF VAR (per-CPU variables) */
	size_t symbols_filled;   /* typed from vmsight's table of well-known globals */
	size_t symbols_untyped;  /* "void", as dwarf2json does for System.map-only symbols */
	size_t duplicate_names;  /* same-named kallsyms symbols left out (one kept) */
	size_t duplicate_types;  /* same-named, same-layout BTF copies left out */
	/* Structs and unions whose name an earlier, different layout has:
	 * written as "NAME__<BTF id>" (members using them point there), and
	 * the first of them.  Such a NAME alone means the first definition. */
	size_t duplicate_types_differing;
#define VMS_ISF_NOTED 16
	char differing[VMS_ISF_NOTED][64];
	size_t forward_only;     /* struct names BTF has only as forward declarations */
	size_t banner_len;       /* bytes of linux_banner's constant_data */
	size_t json_bytes;
};

/*
 * Build the ISF of kernel @k (BTF types and kallsyms symbols: a kernel
 * opened with --vmlinux DWARF types is refused).  On success *@json
 * (malloc'd, NUL-terminated, *@len bytes) is the whole document; on error
 * nothing is returned: corrupt BTF or kallsyms (a name that is not text, a
 * member outside its structure, a type cycle) is an error naming the type
 * id or symbol address, never a malformed file.
 */
struct vms_error *vms_isf_build(struct vms_kernel *k, char **json, size_t *len,
				struct vms_isf_stats *stats);

/* Compress @len bytes at @data to the .xz format (liblzma, CRC64), as
 * Volatility reads `.json.xz` symbol files.  *@out is malloc'd. */
struct vms_error *vms_isf_xz(const void *data, size_t len, uint8_t **out,
			     size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
