/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* DWARF backend of struct vms_types (dwarf.c), called by btf.c's API. */
#ifndef VMSIGHT_SYMBOLS_DWARF_H
#define VMSIGHT_SYMBOLS_DWARF_H

#include <vmsight/types.h>

struct vms_dwarf;

struct vms_error *vms_dwarf_open(const char *path, struct vms_dwarf **ret);
void vms_dwarf_close(struct vms_dwarf *d);
struct vms_error *vms_dwarf_struct_size(struct vms_dwarf *d, const char *name,
					size_t *size);
struct vms_error *vms_dwarf_field(struct vms_dwarf *d, const char *name,
				  const char *path, struct vms_field *out);
struct vms_error *vms_dwarf_enum_value(struct vms_dwarf *d, const char *name,
				       int64_t *value);
struct vms_error *vms_dwarf_members(struct vms_dwarf *d, const char *name,
				    bool *is_union, vms_member_fn fn, void *arg);
void vms_dwarf_stats(const struct vms_dwarf *d, struct vms_types_index_stats *out);

#endif
