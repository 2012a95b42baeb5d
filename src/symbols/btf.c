// SPDX-License-Identifier: LGPL-2.1-or-later
#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/types.h>

#include "symbols/dwarf.h"
#include "util/bytes.h"

/* Struct/union name -> BTF id, filled as names are asked for: libbpf finds
 * a name by walking every type, and the same few structures are asked
 * for again and again (once per member). */
#define NAME_CACHE_SLOTS 512
#define NAME_CACHE_KEY 64

struct name_slot {
	char name[NAME_CACHE_KEY];
	int32_t id;             /* < 0: not there */
};

/* One of two backends: BTF (libbpf) or a vmlinux's DWARF (dwarf.c).  The
 * name cache is lazy state behind const pointers: a vms_types, like the
 * vms_kernel holding it, is used by one thread at a time. */
struct vms_types {
	struct btf *btf;
	size_t size;
	struct vms_dwarf *dwarf;
	struct name_slot *names;  /* NAME_CACHE_SLOTS, allocated on first use */
};

size_t vms_btf_blob_size(const uint8_t *d, size_t avail)
{
	/* struct btf_header: magic u16, version u8, flags u8, hdr_len u32,
	 * type_off, type_len, str_off, str_len (u32, relative to hdr end). */
	if (avail < 24 || vms_le16(d) != 0xeb9f || d[2] != 1)
		return 0;
	uint32_t hdr_len = vms_le32(d + 4);
	if (hdr_len < 24 || hdr_len > 256 || hdr_len > avail)
		return 0;
	uint64_t type_off = vms_le32(d + 8), type_len = vms_le32(d + 12);
	uint64_t str_off = vms_le32(d + 16), str_len = vms_le32(d + 20);
	uint64_t end = type_off + type_len;
	if (str_off + str_len > end)
		end = str_off + str_len;
	if (type_off + type_len > str_off + str_len && str_off + str_len > type_off)
		return 0;  /* overlapping sections */
	end += hdr_len;
	if (!type_len || !str_len || end > avail || end > (1ULL << 31))
		return 0;
	return (size_t)end;
}

struct vms_error *vms_types_from_btf(const void *data, size_t size,
				     struct vms_types **ret)
{
	if (!vms_btf_blob_size(data, size))
		return vms_error_create(VMS_ERR_FORMAT,
			"BTF blob of %zu bytes has a bad header", size);
	errno = 0;
	struct btf *btf = btf__new(data, (uint32_t)size);
	if (!btf)  /* libbpf 1.x: NULL and errno on failure */
		return vms_error_create(VMS_ERR_FORMAT,
			"libbpf rejected the kernel's BTF (%zu bytes): %s",
			size, strerror(errno ? errno : EINVAL));
	struct vms_types *t = calloc(1, sizeof(*t));
	if (!t) {
		btf__free(btf);
		return &vms_error_nomem;
	}
	t->btf = btf;
	t->size = size;
	*ret = t;
	return NULL;
}

struct vms_error *vms_types_from_dwarf(const char *path, struct vms_types **ret)
{
	struct vms_types *t = calloc(1, sizeof(*t));
	if (!t)
		return &vms_error_nomem;
	struct vms_error *err = vms_dwarf_open(path, &t->dwarf);
	if (err) {
		free(t);
		return err;
	}
	*ret = t;
	return NULL;
}

void vms_types_destroy(struct vms_types *types)
{
	if (!types)
		return;
	btf__free(types->btf);
	vms_dwarf_close(types->dwarf);
	free(types->names);
	free(types);
}

enum vms_types_backend vms_types_backend(const struct vms_types *types)
{
	return types->dwarf ? VMS_TYPES_DWARF : VMS_TYPES_BTF;
}

void vms_types_index_stats(const struct vms_types *types,
			   struct vms_types_index_stats *out)
{
	if (types->dwarf)
		vms_dwarf_stats(types->dwarf, out);
	else
		*out = (struct vms_types_index_stats){ 0 };
}

struct btf *vms_types_btf(const struct vms_types *types)
{
	return types->btf;
}

size_t vms_types_btf_size(const struct vms_types *types)
{
	return types->size;
}

uint32_t vms_types_count(const struct vms_types *types)
{
	if (types->dwarf) {
		struct vms_types_index_stats st;
		vms_dwarf_stats(types->dwarf, &st);
		return (uint32_t)st.names;
	}
	return btf__type_cnt(types->btf);
}

static int32_t find_composite_uncached(const struct btf *btf, const char *name)
{
	int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
	return id;
}

static int32_t find_composite(const struct vms_types *ctypes, const char *name)
{
	struct vms_types *types = (struct vms_types *)ctypes;  /* lazy state */
	size_t n = strlen(name);
	if (n >= NAME_CACHE_KEY)
		return find_composite_uncached(types->btf, name);
	if (!types->names &&
	    !(types->names = calloc(NAME_CACHE_SLOTS, sizeof(*types->names))))
		return find_composite_uncached(types->btf, name);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)name[i]) * 16777619u;
	for (unsigned probe = 0; probe < 8; probe++) {
		struct name_slot *s = &types->names[(h + probe) % NAME_CACHE_SLOTS];
		if (!s->name[0]) {
			s->id = find_composite_uncached(types->btf, name);
			memcpy(s->name, name, n + 1);
			return s->id;
		}
		if (!strcmp(s->name, name))
			return s->id;
	}
	return find_composite_uncached(types->btf, name);  /* crowded */
}

/* Strip typedefs and qualifiers. */
static uint32_t skip_mods(const struct btf *btf, uint32_t id)
{
	for (int depth = 0; depth < 32; depth++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			return id;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

/* Find member @name in composite @id, looking into anonymous members. */
static bool find_member(const struct btf *btf, uint32_t id, const char *name,
			size_t name_len, uint64_t *bit_off, uint32_t *type_id,
			uint32_t *bitfield, int depth)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	if (!t || depth > 16 || !(btf_is_struct(t) || btf_is_union(t)))
		return false;
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mname = btf__name_by_offset(btf, m->name_off);
		uint64_t off = btf_member_bit_offset(t, i);
		if (mname && *mname) {
			if (strlen(mname) == name_len && !memcmp(mname, name, name_len)) {
				*bit_off = off;
				*type_id = m->type;
				*bitfield = btf_member_bitfield_size(t, i);
				return true;
			}
		} else {
			uint64_t inner;
			if (find_member(btf, skip_mods(btf, m->type), name, name_len,
					&inner, type_id, bitfield, depth + 1)) {
				*bit_off = off + inner;
				return true;
			}
		}
	}
	return false;
}

struct vms_error *vms_types_struct_size(const struct vms_types *types,
					const char *name, size_t *size)
{
	if (types->dwarf)
		return vms_dwarf_struct_size(types->dwarf, name, size);
	int32_t id = find_composite(types, name);
	if (id < 0)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"struct %s not found in the kernel's BTF", name);
	const struct btf_type *t = btf__type_by_id(types->btf, (uint32_t)id);
	*size = t->size;
	return NULL;
}

struct vms_error *vms_types_field(const struct vms_types *types,
				  const char *name, const char *path,
				  struct vms_field *out)
{
	if (types->dwarf)
		return vms_dwarf_field(types->dwarf, name, path, out);
	const struct btf *btf = types->btf;
	int32_t id = find_composite(types, name);
	if (id < 0)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"struct %s not found in the kernel's BTF", name);
	uint64_t bits = 0;
	uint32_t cur = (uint32_t)id, type_id = 0, bitfield = 0;
	const char *p = path;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		uint64_t off;
		if (!find_member(btf, skip_mods(btf, cur), p, len, &off, &type_id,
				 &bitfield, 0))
			return vms_error_create(VMS_ERR_NOT_FOUND,
				"struct %s has no member %s (looked up in the kernel's BTF)",
				name, path);
		bits += off;
		cur = type_id;
		p = dot ? dot + 1 : p + len;
	}
	long sz = btf__resolve_size(btf, type_id);
	*out = (struct vms_field){
		.offset = (uint32_t)(bits / 8),
		.size = sz > 0 ? (uint32_t)sz : 0,
		.bit_offset = (uint32_t)(bits % 8),
		.bit_size = bitfield,
		.type_id = type_id,
	};
	return NULL;
}

bool vms_types_has_field(const struct vms_types *types, const char *name,
			 const char *path)
{
	struct vms_field f;
	struct vms_error *err = vms_types_field(types, name, path, &f);
	vms_error_free(err);
	return !err;
}

/* Names from a hostile BTF may be missing (NULL). */
static bool vms_str_eq(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

struct vms_error *vms_types_enum_value(const struct vms_types *types,
				       const char *name, int64_t *value)
{
	if (types->dwarf)
		return vms_dwarf_enum_value(types->dwarf, name, value);
	const struct btf *btf = types->btf;
	uint32_t n = btf__type_cnt(btf);
	for (uint32_t id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				if (vms_str_eq(btf__name_by_offset(btf, e->name_off), name)) {
					*value = e->val;
					return NULL;
				}
		}
#ifdef BTF_KIND_ENUM64
		else if (btf_is_enum64(t)) {
			const struct btf_enum64 *e = btf_enum64(t);
			for (uint16_t i = 0; i < btf_vlen(t); i++, e++)
				if (vms_str_eq(btf__name_by_offset(btf, e->name_off), name)) {
					*value = (int64_t)btf_enum64_value(e);
					return NULL;
				}
		}
#endif
	}
	return vms_error_create(VMS_ERR_NOT_FOUND,
		"enumerator %s not found in the kernel's BTF", name);
}

struct vms_error *vms_types_members(const struct vms_types *types,
				    const char *name, bool *is_union,
				    vms_member_fn fn, void *arg)
{
	if (types->dwarf)
		return vms_dwarf_members(types->dwarf, name, is_union, fn, arg);
	const struct btf *btf = types->btf;
	int32_t id = find_composite(types, name);
	if (id < 0)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"struct %s not found in the kernel's BTF", name);
	const struct btf_type *t = btf__type_by_id(btf, (uint32_t)id);
	if (is_union)
		*is_union = btf_is_union(t);
	const struct btf_member *m = btf_members(t);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		const char *mn = btf__name_by_offset(btf, m->name_off);
		long sz = btf__resolve_size(btf, m->type);
		struct vms_member vm = {
			.name = mn ? mn : "",
			.bit_offset = btf_member_bit_offset(t, i),
			.size = sz > 0 ? (uint32_t)sz : 0,
			.bit_size = btf_member_bitfield_size(t, i),
		};
		fn(arg, &vm);
	}
	return NULL;
}
