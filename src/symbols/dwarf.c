// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The DWARF backend of struct vms_types: struct, union and enum types of a
 * vmlinux file read with elfutils libdw, for kernels built without BTF.
 *
 * A debug vmlinux has thousands of compilation units, each with its own copy
 * of the common types.  Nothing is read at open.  The first lookup scans the
 * top-level DIEs of every unit once and records each struct and union name
 * (first definition wins; declarations are skipped) and every enumerator of
 * top-level enums in a hash table; later lookups are O(1) plus a walk of the
 * one type asked for.  Names point into libdw's mapped string section.
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "symbols/dwarf.h"

enum entry_kind { E_STRUCT, E_UNION, E_ENUMERATOR };

struct entry {
	const char *name;
	uint64_t hash;
	Dwarf_Off die;      /* struct/union DIE */
	int64_t value;      /* enumerator value */
	uint8_t kind;
};

struct vms_dwarf {
	char *path;
	int fd;
	Dwarf *dbg;
	bool indexed;
	struct vms_error *index_err;  /* kept if the scan failed */
	struct entry *entries;
	size_t nr, cap;
	uint32_t *slots;              /* index+1, 0 empty */
	size_t nslots;
	struct vms_types_index_stats stats;
};

#define MAX_DEPTH 16

static uint64_t hash_name(const char *s, uint8_t kind)
{
	uint64_t h = 1469598103934665603ULL ^ kind;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

struct vms_error *vms_dwarf_open(const char *path, struct vms_dwarf **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_error_create(VMS_ERR_IO, "cannot open vmlinux %s: %s", path,
					strerror(errno));
	Dwarf *dbg = dwarf_begin(fd, DWARF_C_READ);
	if (!dbg) {
		close(fd);
		return vms_error_create(VMS_ERR_FORMAT,
			"vmlinux %s has no readable DWARF (libdw: %s); it must be the unstripped vmlinux of a debug package",
			path, dwarf_errmsg(-1));
	}
	struct vms_dwarf *d = calloc(1, sizeof(*d));
	char *p = strdup(path);
	if (!d || !p) {
		free(d);
		free(p);
		dwarf_end(dbg);
		close(fd);
		return &vms_error_nomem;
	}
	d->path = p;
	d->fd = fd;
	d->dbg = dbg;
	*ret = d;
	return NULL;
}

void vms_dwarf_close(struct vms_dwarf *d)
{
	if (!d)
		return;
	dwarf_end(d->dbg);
	close(d->fd);
	free(d->entries);
	free(d->slots);
	vms_error_free(d->index_err);
	free(d->path);
	free(d);
}

void vms_dwarf_stats(const struct vms_dwarf *d, struct vms_types_index_stats *out)
{
	*out = d->stats;
}

static const struct entry *lookup(const struct vms_dwarf *d, const char *name,
				  uint8_t kind)
{
	if (!d->nslots)
		return NULL;
	uint64_t h = hash_name(name, kind);
	for (size_t s = h & (d->nslots - 1);; s = (s + 1) & (d->nslots - 1)) {
		uint32_t i = d->slots[s];
		if (!i)
			return NULL;
		const struct entry *e = &d->entries[i - 1];
		if (e->hash == h && e->kind == kind && !strcmp(e->name, name))
			return e;
	}
}

static bool grow_slots(struct vms_dwarf *d)
{
	size_t n = d->nslots ? d->nslots * 2 : 1 << 16;
	uint32_t *slots = calloc(n, sizeof(*slots));
	if (!slots)
		return false;
	for (size_t i = 0; i < d->nr; i++) {
		size_t s = d->entries[i].hash & (n - 1);
		while (slots[s])
			s = (s + 1) & (n - 1);
		slots[s] = (uint32_t)i + 1;
	}
	free(d->slots);
	d->slots = slots;
	d->nslots = n;
	return true;
}

static bool insert(struct vms_dwarf *d, const char *name, uint8_t kind,
		   Dwarf_Off die, int64_t value)
{
	if (lookup(d, name, kind))
		return true;  /* first definition wins */
	if (d->nr >= (1u << 30))
		return true;
	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 1 << 14;
		struct entry *e = realloc(d->entries, cap * sizeof(*e));
		if (!e)
			return false;
		d->entries = e;
		d->cap = cap;
	}
	if ((d->nr + 1) * 2 > d->nslots) {
		if (!grow_slots(d))
			return false;
	}
	uint64_t h = hash_name(name, kind);
	d->entries[d->nr] = (struct entry){ name, h, die, value, kind };
	size_t s = h & (d->nslots - 1);
	while (d->slots[s])
		s = (s + 1) & (d->nslots - 1);
	d->slots[s] = (uint32_t)++d->nr;
	return true;
}

static bool is_declaration(Dwarf_Die *die)
{
	Dwarf_Attribute a;
	bool flag = false;
	return dwarf_attr(die, DW_AT_declaration, &a) && dwarf_formflag(&a, &flag) == 0 && flag;
}

/* Whether enumeration @e's underlying type (DW_AT_type, DWARF 3+) is
 * unsigned; false when it does not say. */
static bool enum_unsigned(Dwarf_Die *e)
{
	Dwarf_Attribute a;
	Dwarf_Die t;
	Dwarf_Word enc;
	if (!dwarf_attr_integrate(e, DW_AT_type, &a) || !dwarf_formref_die(&a, &t) ||
	    dwarf_peel_type(&t, &t) != 0 || !dwarf_attr_integrate(&t, DW_AT_encoding, &a) ||
	    dwarf_formudata(&a, &enc) != 0)
		return false;
	return enc == DW_ATE_unsigned || enc == DW_ATE_unsigned_char || enc == DW_ATE_boolean;
}

static struct vms_error *build_index(struct vms_dwarf *d)
{
	if (d->indexed)
		return d->index_err ? vms_error_create(d->index_err->code, "%s",
						       d->index_err->message) : NULL;
	d->indexed = true;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	Dwarf_CU *cu = NULL, *next;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	while (dwarf_get_units(d->dbg, cu, &next, &version, &unit_type, &cudie,
			       &subdie) == 0) {
		cu = next;
		d->stats.units++;
		Dwarf_Die child;
		if (dwarf_child(&cudie, &child) != 0)
			continue;
		do {
			int tag = dwarf_tag(&child);
			if (tag == DW_TAG_structure_type || tag == DW_TAG_union_type) {
				const char *name = dwarf_diename(&child);
				if (!name || is_declaration(&child))
					continue;
				if (!insert(d, name, tag == DW_TAG_union_type ? E_UNION : E_STRUCT,
					    dwarf_dieoffset(&child), 0))
					goto nomem;
			} else if (tag == DW_TAG_enumeration_type) {
				Dwarf_Die en;
				if (dwarf_child(&child, &en) != 0)
					continue;
				bool uns = enum_unsigned(&child);
				do {
					if (dwarf_tag(&en) != DW_TAG_enumerator)
						continue;
					const char *name = dwarf_diename(&en);
					Dwarf_Attribute a;
					Dwarf_Sword v;
					Dwarf_Word uv;
					if (!name || !dwarf_attr(&en, DW_AT_const_value, &a))
						continue;
					/* DW_FORM_dataN has no sign, and GCC writes the
					 * value's bytes (128 of a signed enum as data1 0x80,
					 * negative ones as sdata): dwarf_formsdata would make
					 * it -128.  Only sdata/implicit_const are signed
					 * (values past 2^63 wrap in int64). */
					unsigned form = dwarf_whatform(&a);
					if (uns || (form != DW_FORM_sdata && form != DW_FORM_implicit_const)) {
						if (dwarf_formudata(&a, &uv) != 0)
							continue;
						v = (Dwarf_Sword)uv;
					} else if (dwarf_formsdata(&a, &v) != 0) {
						continue;
					}
					if (!insert(d, name, E_ENUMERATOR, 0, v))
						goto nomem;
				} while (dwarf_siblingof(&en, &en) == 0);
			}
		} while (dwarf_siblingof(&child, &child) == 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	d->stats.names = d->nr;
	d->stats.seconds = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!d->stats.units) {
		d->index_err = vms_error_create(VMS_ERR_FORMAT,
			"vmlinux %s has no DWARF compilation units", d->path);
		return vms_error_create(d->index_err->code, "%s", d->index_err->message);
	}
	return NULL;
nomem:
	d->index_err = vms_error_create(VMS_ERR_NOMEM, "out of memory indexing the DWARF of %s",
					d->path);
	return vms_error_create(VMS_ERR_NOMEM, "%s", d->index_err->message);
}

/* The definition of struct/union @name. */
static struct vms_error *find_composite(struct vms_dwarf *d, const char *name,
					Dwarf_Die *out)
{
	struct vms_error *err = build_index(d);
	if (err)
		return err;
	const struct entry *e = lookup(d, name, E_STRUCT);
	if (!e)
		e = lookup(d, name, E_UNION);
	if (!e || !dwarf_offdie(d->dbg, e->die, out))
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"struct %s not found in the DWARF of %s", name, d->path);
	return NULL;
}

/* Type of @die with typedefs and qualifiers removed; a declaration is
 * replaced by the indexed definition of the same name. */
static bool member_type(struct vms_dwarf *d, Dwarf_Die *die, Dwarf_Die *type,
			bool peel)
{
	Dwarf_Attribute a;
	if (!dwarf_attr_integrate(die, DW_AT_type, &a) || !dwarf_formref_die(&a, type))
		return false;
	if (!peel)
		return true;
	if (dwarf_peel_type(type, type) != 0)
		return false;
	int tag = dwarf_tag(type);
	if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type) &&
	    is_declaration(type)) {
		const char *name = dwarf_diename(type);
		const struct entry *e = name ? lookup(d, name, tag == DW_TAG_union_type ?
						      E_UNION : E_STRUCT) : NULL;
		if (e)
			dwarf_offdie(d->dbg, e->die, type);
	}
	return true;
}

static bool udata(Dwarf_Die *die, unsigned at, Dwarf_Word *w)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, at, &a) && dwarf_formudata(&a, w) == 0;
}

/* Bit offset of member @m in its parent, and its bit size (0: not a bitfield). */
static bool member_bits(struct vms_dwarf *d, Dwarf_Die *m, uint64_t *bits,
			uint32_t *bit_size)
{
	Dwarf_Word w = 0, bs = 0;
	*bit_size = udata(m, DW_AT_bit_size, &bs) ? (uint32_t)bs : 0;
	if (udata(m, DW_AT_data_bit_offset, &w)) {  /* DWARF 4+ */
		*bits = w;
		return true;
	}
	uint64_t loc = 0;
	Dwarf_Attribute a;
	if (dwarf_attr_integrate(m, DW_AT_data_member_location, &a)) {
		if (dwarf_formudata(&a, &w) == 0) {
			loc = w;
		} else {
			Dwarf_Op *ops;
			size_t nops;
			if (dwarf_getlocation(&a, &ops, &nops) != 0 || nops != 1 ||
			    ops[0].atom != DW_OP_plus_uconst)
				return false;
			loc = ops[0].number;
		}
	}  /* absent: a union member, at 0 */
	*bits = loc * 8;
	Dwarf_Word bo;
	if (*bit_size && udata(m, DW_AT_bit_offset, &bo)) {
		/* DWARF 2/3: counted from the most significant bit of a storage
		 * unit of DW_AT_byte_size (or the type's size); little-endian. */
		Dwarf_Word storage = 0;
		Dwarf_Die t;
		if (!udata(m, DW_AT_byte_size, &storage) &&
		    !(member_type(d, m, &t, true) && dwarf_aggregate_size(&t, &storage) == 0))
			return false;
		if (storage * 8 < bo + bs)
			return false;
		*bits += storage * 8 - bo - bs;
	}
	return true;
}

static uint32_t type_size(struct vms_dwarf *d, Dwarf_Die *m)
{
	Dwarf_Die t;
	Dwarf_Word size;
	if (!member_type(d, m, &t, false))
		return 0;
	if (dwarf_aggregate_size(&t, &size) != 0) {
		/* A declaration: size from the definition. */
		if (!member_type(d, m, &t, true) || dwarf_aggregate_size(&t, &size) != 0)
			return 0;
	}
	return size > UINT32_MAX ? 0 : (uint32_t)size;
}

static bool is_composite(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static bool find_member(struct vms_dwarf *d, Dwarf_Die *parent, const char *name,
			size_t len, uint64_t *bits, Dwarf_Die *found,
			uint32_t *bit_size, int depth)
{
	Dwarf_Die m;
	if (depth > MAX_DEPTH || dwarf_child(parent, &m) != 0)
		return false;
	do {
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		const char *mn = dwarf_diename(&m);
		uint64_t off;
		uint32_t bs;
		if (mn) {
			if (strlen(mn) == len && !memcmp(mn, name, len)) {
				if (!member_bits(d, &m, &off, &bs))
					return false;
				*bits = off;
				*bit_size = bs;
				*found = m;
				return true;
			}
			continue;
		}
		Dwarf_Die t;
		uint64_t inner;
		if (member_type(d, &m, &t, true) && is_composite(&t) &&
		    find_member(d, &t, name, len, &inner, found, bit_size, depth + 1) &&
		    member_bits(d, &m, &off, &bs)) {
			*bits = off + inner;
			return true;
		}
	} while (dwarf_siblingof(&m, &m) == 0);
	return false;
}

struct vms_error *vms_dwarf_struct_size(struct vms_dwarf *d, const char *name,
					size_t *size)
{
	Dwarf_Die die;
	struct vms_error *err = find_composite(d, name, &die);
	if (err)
		return err;
	Dwarf_Word w;
	if (!udata(&die, DW_AT_byte_size, &w))
		return vms_error_create(VMS_ERR_FORMAT,
			"struct %s in the DWARF of %s has no size", name, d->path);
	*size = (size_t)w;
	return NULL;
}

struct vms_error *vms_dwarf_field(struct vms_dwarf *d, const char *name,
				  const char *path, struct vms_field *out)
{
	Dwarf_Die cur;
	struct vms_error *err = find_composite(d, name, &cur);
	if (err)
		return err;
	uint64_t bits = 0;
	uint32_t bit_size = 0;
	Dwarf_Die member;
	const char *p = path;
	bool any = false;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		uint64_t off;
		if (!is_composite(&cur) ||
		    !find_member(d, &cur, p, len, &off, &member, &bit_size, 0))
			return vms_error_create(VMS_ERR_NOT_FOUND,
				"struct %s has no member %s (looked up in the DWARF of %s)",
				name, path, d->path);
		any = true;
		bits += off;
		p = dot ? dot + 1 : p + len;
		if (*p && !member_type(d, &member, &cur, true))
			return vms_error_create(VMS_ERR_FORMAT,
				"struct %s: member %.*s has no type in the DWARF of %s",
				name, (int)len, p - len - 1, d->path);
	}
	if (!any)
		return vms_error_create(VMS_ERR_INVALID, "empty member path for struct %s", name);
	*out = (struct vms_field){
		.offset = (uint32_t)(bits / 8),
		.size = type_size(d, &member),
		.bit_offset = (uint32_t)(bits % 8),
		.bit_size = bit_size,
		.type_id = 0,
	};
	return NULL;
}

struct vms_error *vms_dwarf_enum_value(struct vms_dwarf *d, const char *name,
				       int64_t *value)
{
	struct vms_error *err = build_index(d);
	if (err)
		return err;
	const struct entry *e = lookup(d, name, E_ENUMERATOR);
	if (!e)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"enumerator %s not found in the DWARF of %s", name, d->path);
	*value = e->value;
	return NULL;
}

struct vms_error *vms_dwarf_members(struct vms_dwarf *d, const char *name,
				    bool *is_union, vms_member_fn fn, void *arg)
{
	Dwarf_Die die, m;
	struct vms_error *err = find_composite(d, name, &die);
	if (err)
		return err;
	if (is_union)
		*is_union = dwarf_tag(&die) == DW_TAG_union_type;
	if (dwarf_child(&die, &m) != 0)
		return NULL;
	do {
		if (dwarf_tag(&m) != DW_TAG_member)
			continue;
		struct vms_member vm = { 0 };
		const char *mn = dwarf_diename(&m);
		vm.name = mn ? mn : "";
		if (!member_bits(d, &m, &vm.bit_offset, &vm.bit_size))
			continue;
		vm.size = type_size(d, &m);
		fn(arg, &vm);
	} while (dwarf_siblingof(&m, &m) == 0);
	return NULL;
}
