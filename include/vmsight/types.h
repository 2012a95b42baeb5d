/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Kernel types: the kernel's own BTF (found in guest memory) loaded with
 * libbpf, queried by structure and member name so that no offset is ever
 * hard-coded.
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
	uint32_t type_id;     /* BTF id of the member's type */
};

/* Load a raw .BTF blob (header included); @data is copied. */
struct vms_error *vms_types_from_btf(const void *data, size_t size,
				     struct vms_types **ret);
void vms_types_destroy(struct vms_types *types);
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

/*
 * Check that @data (at most @avail bytes) starts a plausible BTF blob;
 * returns its total size (header + types + strings) or 0.
 */
size_t vms_btf_blob_size(const uint8_t *data, size_t avail);

#ifdef __cplusplus
}
#endif
#endif
