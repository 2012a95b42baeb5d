/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel types, queried by structure and member name so that no offset is
 * ever hard-coded.  Two backends answer the same queries: the kernel's own
 * BTF (found in guest memory) loaded with libbpf, or the DWARF of a vmlinux
 * file (libdw), for kernels built without BTF (see docs/symbol-sources.md).
 */
#ifndef VMSIGHT_TYPES_H
#define VMSIGHT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct btf;
struct vms_types;

/* Where a member lives inside its outermost structure. */
struct vms_field {
	uint32_t offset;      /* bytes from the start of the structure */
	uint32_t size;        /* bytes of the member's type (0 for a flexible array) */
	uint32_t bit_offset;  /* for bitfields: bit within @offset's byte */
	uint32_t bit_size;    /* 0 unless a bitfield */
	uint32_t type_id;     /* BTF id of the member's type (0 from DWARF) */
};

enum vms_types_backend { VMS_TYPES_BTF, VMS_TYPES_DWARF };

/* The unsigned value of field @f inside a copy of its structure at @buf
 * (1, 2, 4 or 8 bytes, little-endian; 0 for other sizes). */
static inline uint64_t vms_field_uint(const void *buf, const struct vms_field *f)
{
	const unsigned char *p = (const unsigned char *)buf + f->offset;
	uint64_t v = 0;
	if (f->size == 1 || f->size == 2 || f->size == 4 || f->size == 8)
		for (unsigned i = 0; i < f->size; i++)
			v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* Load a raw .BTF blob (header included); @data is copied. */
struct vms_error *vms_types_from_btf(const void *data, size_t size,
				     struct vms_types **ret);
/*
 * Open the DWARF of vmlinux @path (libdw).  Cheap: the index of type and
 * enumerator names is built at the first lookup (one pass over every
 * compilation unit's top-level DIEs), after which lookups are O(1).
 */
struct vms_error *vms_types_from_dwarf(const char *path, struct vms_types **ret);
void vms_types_destroy(struct vms_types *types);
enum vms_types_backend vms_types_backend(const struct vms_types *types);
/* The libbpf object; NULL for the DWARF backend. */
struct btf *vms_types_btf(const struct vms_types *types);
size_t vms_types_btf_size(const struct vms_types *types);
uint32_t vms_types_count(const struct vms_types *types);

/* Size of struct or union @name. */
struct vms_error *vms_types_struct_size(const struct vms_types *types,
					const char *name, size_t *size);
/*
 * Member @path ("tasks", "se.vruntime", "name.release") of struct or union
 * @name; anonymous structs and unions on the way are searched through.
 */
struct vms_error *vms_types_field(const struct vms_types *types,
				  const char *name, const char *path,
				  struct vms_field *out);
bool vms_types_has_field(const struct vms_types *types, const char *name,
			 const char *path);
/* Value of enumerator @name (any enum), e.g. "PIDTYPE_PID". */
struct vms_error *vms_types_enum_value(const struct vms_types *types,
				       const char *name, int64_t *value);

/* Direct members of struct or union @name, in order, for either backend. */
struct vms_member {
	const char *name;     /* "" for an anonymous struct or union */
	uint64_t bit_offset;  /* from the start of the structure */
	uint32_t size;        /* bytes of the member's type */
	uint32_t bit_size;    /* 0 unless a bitfield */
};
typedef void (*vms_member_fn)(void *arg, const struct vms_member *m);
struct vms_error *vms_types_members(const struct vms_types *types,
				    const char *name, bool *is_union,
				    vms_member_fn fn, void *arg);

/* Cost of the DWARF name index (all zero for BTF, or before first use). */
struct vms_types_index_stats {
	uint64_t units;        /* compilation units scanned */
	uint64_t names;        /* struct, union and enumerator names indexed */
	double seconds;        /* wall time of the scan */
};
void vms_types_index_stats(const struct vms_types *types,
			   struct vms_types_index_stats *out);

/*
 * Check that @data (at most @avail bytes) starts a plausible BTF blob;
 * returns its total size (header + types + strings) or 0.
 */
size_t vms_btf_blob_size(const uint8_t *data, size_t avail);

#ifdef __cplusplus
}
#endif
#endif
