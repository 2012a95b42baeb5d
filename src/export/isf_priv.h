/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals of the ISF writer (src/export/isf*.c). */
#ifndef VMSIGHT_EXPORT_ISF_PRIV_H
#define VMSIGHT_EXPORT_ISF_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/isf.h>

struct btf;

/* The document grows in one buffer: nothing reaches the caller unless all
 * of it was built, so an error never leaves half a file. */
struct isf_buf {
	char *p;
	size_t len, cap;
	bool oom;
};

void isf_put(struct isf_buf *b, const char *s, size_t n);
void isf_puts(struct isf_buf *b, const char *s);
void isf_putf(struct isf_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A JSON string; @s is known to be printable ASCII (isf_text_ok). */
void isf_put_str(struct isf_buf *b, const char *s);
void isf_put_base64(struct isf_buf *b, const uint8_t *d, size_t n);
/* Guest names must be printable ASCII (what kernel identifiers and
 * kallsyms names are); returns the offset of the first bad byte, or -1. */
long isf_text_bad(const char *s);

/* A set of strings (not copied: they must outlive the set), open
 * addressing; grows as needed. */
struct isf_strset {
	const char **slot;
	uint32_t *val;
	size_t cap, used;
};
/* Insert @s with @v; returns 1 if added, 0 if present (*@old gets its
 * value if non-NULL), -1 out of memory. */
int isf_strset_add(struct isf_strset *s, const char *key, uint32_t v, uint32_t *old);
bool isf_strset_get(const struct isf_strset *s, const char *key, uint32_t *v);
void isf_strset_clear(struct isf_strset *s);
void isf_strset_free(struct isf_strset *s);

/* Types from BTF (isf_types.c). */
struct isf_types;
struct vms_error *isf_types_new(const struct btf *btf, struct isf_types **ret);
void isf_types_free(struct isf_types *t);
/* "base_types", "user_types" and "enums", each as `"key":{...}` */
struct vms_error *isf_types_write(struct isf_types *t, struct isf_buf *b,
				  struct vms_isf_stats *st);
/* The descriptor of BTF type @id ({"kind":...}). */
struct vms_error *isf_type_desc(struct isf_types *t, struct isf_buf *b, uint32_t id);
/* Per-CPU variables BTF describes: name -> VAR's type id. */
const struct isf_strset *isf_types_vars(const struct isf_types *t);
const struct btf *isf_types_btf(const struct isf_types *t);

/* "symbols": core-kernel symbols of @tab at link-time addresses (@kaslr_virt
 * undone), typed from BTF VARs, the table of well-known globals, or void;
 * linux_banner gets @banner (@banner_len bytes, NUL included). */
struct vms_symtab;
struct vms_error *isf_write_symbols(struct isf_buf *b, struct vms_symtab *tab,
				   int64_t kaslr_virt, struct isf_types *ty,
				   const char *banner, size_t banner_len,
				   struct vms_isf_stats *st);

#endif
