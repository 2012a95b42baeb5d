// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * BTF -> ISF base_types, user_types and enums, in the shapes dwarf2json
 * gives the same kernel's DWARF: typedefs and qualifiers are looked
 * through, an anonymous struct named by a typedef takes its name, other
 * anonymous structs, unions and enums are "unnamed_<BTF id>", anonymous
 * members "unnamed_field_<n>" with "anonymous": true (Volatility lifts
 * their members into the parent), bitfields split into a byte offset and a
 * bit position below 8.  BTF is guest data: every name, offset and type
 * chain is checked before it is written.
 */
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/isf_priv.h"

/* No real C type chain (pointer to array of pointer ...) is this deep. */
#define MAX_CHAIN 64
/* Anonymous struct inside anonymous struct ...: real kernels use 3 or 4. */
#define MAX_ANON_DEPTH 16

struct isf_types {
	const struct btf *btf;
	uint32_t n;               /* btf__type_cnt */
	const char **alias;       /* typedef name given to an anonymous struct/union/enum */
	uint8_t *renamed;         /* 1: a struct whose name an earlier, different layout has */
	struct isf_strset vars;   /* VAR name -> type id */
};

const struct isf_strset *isf_types_vars(const struct isf_types *t)
{
	return &t->vars;
}

const struct btf *isf_types_btf(const struct isf_types *t)
{
	return t->btf;
}

static const char *tname(const struct isf_types *t, const struct btf_type *bt)
{
	return btf__name_by_offset(t->btf, bt->name_off);
}

static struct vms_error *check_name(uint32_t id, const char *what, const char *s)
{
	if (!s)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF type [%u]: %s name offset outside the string section", id, what);
	long bad = isf_text_bad(s);
	if (bad >= 0)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF type [%u]: %s name has byte 0x%02x at offset %ld: not a kernel identifier",
			id, what, (unsigned char)s[bad], bad);
	return NULL;
}

struct vms_error *isf_types_new(const struct btf *btf, struct isf_types **ret)
{
	struct isf_types *t = calloc(1, sizeof(*t));
	if (!t)
		return &vms_error_nomem;
	t->btf = btf;
	t->n = btf__type_cnt(btf);
	t->alias = calloc(t->n ? t->n : 1, sizeof(*t->alias));
	t->renamed = calloc(t->n ? t->n : 1, 1);
	if (!t->alias || !t->renamed) {
		free(t->alias);
		free(t->renamed);
		free(t);
		return &vms_error_nomem;
	}
	struct vms_error *err = NULL;
	for (uint32_t id = 1; id < t->n && !err; id++) {
		const struct btf_type *bt = btf__type_by_id(btf, id);
		const char *name = tname(t, bt);
		if ((err = check_name(id, "type", name)))
			break;
		if (btf_is_typedef(bt) && bt->type < t->n) {
			/* typedef struct { ... } atomic_t; is "atomic_t" to dwarf2json */
			const struct btf_type *to = btf__type_by_id(btf, bt->type);
			if ((btf_is_composite(to) || btf_is_any_enum(to)) && !to->name_off &&
			    !t->alias[bt->type] && name[0])
				t->alias[bt->type] = name;
		} else if (btf_is_var(bt) && name[0]) {
			if (isf_strset_add(&t->vars, name, bt->type, NULL) < 0)
				err = &vms_error_nomem;
		}
	}
	if (err) {
		isf_types_free(t);
		return err;
	}
	*ret = t;
	return NULL;
}

void isf_types_free(struct isf_types *t)
{
	if (!t)
		return;
	free(t->alias);
	free(t->renamed);
	isf_strset_free(&t->vars);
	free(t);
}

/* The ISF name of struct, union or enum @id. */
static void put_agg_name(const struct isf_types *t, struct isf_buf *b, uint32_t id)
{
	const struct btf_type *bt = btf__type_by_id(t->btf, id);
	const char *name = tname(t, bt);
	if (name[0] && t->renamed[id])
		isf_putf(b, "\"%s__%x\"", name, id);
	else if (name[0])
		isf_put_str(b, name);
	else if (t->alias[id])
		isf_put_str(b, t->alias[id]);
	else
		isf_putf(b, "\"unnamed_%x\"", id);
}

static const char *kind_word(const struct btf_type *bt)
{
	return btf_is_union(bt) ? "union" : "struct";
}

/* @depth counts every step, through nested pointers and arrays too, so
 * that a cycle in corrupt BTF ends in an error. */
static struct vms_error *desc(struct isf_types *t, struct isf_buf *b, uint32_t id, int depth)
{
	for (; depth < MAX_CHAIN; depth++) {
		if (id == 0) {
			isf_puts(b, "{\"kind\":\"base\",\"name\":\"void\"}");
			return NULL;
		}
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (!bt)
			return vms_error_create(VMS_ERR_CORRUPT, "BTF type id %u out of range", id);
		switch (btf_kind(bt)) {
		case BTF_KIND_INT:
		case BTF_KIND_FLOAT:
			if (!tname(t, bt)[0])
				return vms_error_create(VMS_ERR_CORRUPT,
					"BTF type [%u]: a base type without a name", id);
			isf_puts(b, "{\"kind\":\"base\",\"name\":");
			isf_put_str(b, tname(t, bt));
			isf_puts(b, "}");
			return NULL;
		case BTF_KIND_PTR: {
			isf_puts(b, "{\"kind\":\"pointer\",\"subtype\":");
			struct vms_error *err = desc(t, b, bt->type, depth + 1);
			if (err)
				return err;
			isf_puts(b, "}");
			return NULL;
		}
		case BTF_KIND_ARRAY: {
			const struct btf_array *a = btf_array(bt);
			isf_putf(b, "{\"count\":%u,\"kind\":\"array\",\"subtype\":", a->nelems);
			struct vms_error *err = desc(t, b, a->type, depth + 1);
			if (err)
				return err;
			isf_puts(b, "}");
			return NULL;
		}
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			isf_putf(b, "{\"kind\":\"%s\",\"name\":", kind_word(bt));
			put_agg_name(t, b, id);
			isf_puts(b, "}");
			return NULL;
		case BTF_KIND_FWD:
			isf_putf(b, "{\"kind\":\"%s\",\"name\":", btf_kflag(bt) ? "union" : "struct");
			isf_put_str(b, tname(t, bt));
			isf_puts(b, "}");
			return NULL;
		case BTF_KIND_ENUM:
		case BTF_KIND_ENUM64:
			isf_puts(b, "{\"kind\":\"enum\",\"name\":");
			put_agg_name(t, b, id);
			isf_puts(b, "}");
			return NULL;
		/* (an anonymous struct behind a typedef is named after its
		 * first typedef: put_agg_name) */
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = bt->type;
			continue;
		case BTF_KIND_FUNC_PROTO:
		case BTF_KIND_FUNC:
			isf_puts(b, "{\"kind\":\"function\"}");
			return NULL;
		default:
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF type [%u] (kind %u) cannot be the type of a member or variable",
				id, btf_kind(bt));
		}
	}
	return vms_error_create(VMS_ERR_CORRUPT,
		"BTF type [%u]: type chain deeper than %d (a cycle?)", id, MAX_CHAIN);
}

struct vms_error *isf_type_desc(struct isf_types *t, struct isf_buf *b, uint32_t id)
{
	return desc(t, b, id, 0);
}

/* Typedefs and qualifiers looked through, within the chain cap. */
static const struct btf_type *resolve(const struct isf_types *t, uint32_t *id)
{
	for (int depth = 0; depth < MAX_CHAIN; depth++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, *id);
		if (!bt || *id == 0)
			return bt;
		if (!btf_is_mod(bt) && !btf_is_typedef(bt) && !btf_is_type_tag(bt))
			return bt;
		*id = bt->type;
	}
	return NULL;
}

struct base {
	const char *name;
	uint32_t size;
	bool is_signed;
	const char *kind;
};

static int base_cmp(const void *a, const void *b)
{
	return strcmp(((const struct base *)a)->name, ((const struct base *)b)->name);
}

static struct base base_of(const struct isf_types *t, const struct btf_type *bt)
{
	struct base r = { .name = tname(t, bt), .size = bt->size, .kind = "int" };
	if (btf_is_float(bt)) {
		r.kind = "float";
		r.is_signed = true;
		return r;
	}
	uint8_t enc = btf_int_encoding(bt);
	r.is_signed = enc & BTF_INT_SIGNED;
	if (enc & BTF_INT_BOOL || !strcmp(r.name, "_Bool"))
		r.kind = "bool";
	else if (enc & BTF_INT_CHAR || strstr(r.name, "char"))
		r.kind = "char";
	return r;
}

/* "base_types": every named INT and FLOAT, plus void and pointer. */
static struct vms_error *write_base(struct isf_types *t, struct isf_buf *b,
				    struct vms_isf_stats *st, struct base **sorted, size_t *nsorted)
{
	struct isf_strset seen = { 0 };
	struct base *names = NULL;
	size_t nn = 0;
	isf_puts(b, "\"base_types\":{\n"
		 "\"void\":{\"endian\":\"little\",\"kind\":\"void\",\"signed\":false,\"size\":0},\n"
		 "\"pointer\":{\"endian\":\"little\",\"kind\":\"int\",\"signed\":false,\"size\":8}");
	st->base_types = 2;
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (!btf_is_int(bt) && !btf_is_float(bt))
			continue;
		struct base r = base_of(t, bt);
		if (!r.name[0] || !strcmp(r.name, "void") || !strcmp(r.name, "pointer"))
			continue;
		if (r.size == 0 || r.size > 16) {
			isf_strset_free(&seen);
			free(names);
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF type [%u] (%s): base type of %u bytes", id, r.name, r.size);
		}
		int added = isf_strset_add(&seen, r.name, id, NULL);
		if (added < 0)
			goto oom;
		if (!added)
			continue;
		struct base *nn2 = realloc(names, (nn + 1) * sizeof(*names));
		if (!nn2)
			goto oom;
		names = nn2;
		names[nn++] = r;
		isf_puts(b, ",\n");
		isf_put_str(b, r.name);
		isf_putf(b, ":{\"endian\":\"little\",\"kind\":\"%s\",\"signed\":%s,\"size\":%u}",
			 r.kind, r.is_signed ? "true" : "false", r.size);
		st->base_types++;
	}
	isf_puts(b, "\n}");
	isf_strset_free(&seen);
	if (nn > 1)   /* names is NULL when the BTF has no base type */
		qsort(names, nn, sizeof(*names), base_cmp);
	*sorted = names;
	*nsorted = nn;
	return NULL;
oom:
	isf_strset_free(&seen);
	free(names);
	return &vms_error_nomem;
}

/* Is @id an anonymous struct/union nested (anonymously) no deeper than the cap? */
static struct vms_error *check_anon_depth(const struct isf_types *t, uint32_t id, int depth)
{
	if (depth > MAX_ANON_DEPTH)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF type [%u]: anonymous members nested deeper than %d (a cycle?)",
			id, MAX_ANON_DEPTH);
	const struct btf_type *bt = btf__type_by_id(t->btf, id);
	const struct btf_member *m = btf_members(bt);
	for (uint16_t i = 0; i < btf_vlen(bt); i++, m++) {
		if (m->name_off)
			continue;
		uint32_t mid = m->type;
		const struct btf_type *mt = resolve(t, &mid);
		if (mt && btf_is_composite(mt)) {
			struct vms_error *err = check_anon_depth(t, mid, depth + 1);
			if (err)
				return err;
		}
	}
	return NULL;
}

static struct vms_error *write_fields(struct isf_types *t, struct isf_buf *b, uint32_t id,
				      const struct btf_type *bt, struct isf_strset *names)
{
	const struct btf_member *m = btf_members(bt);
	unsigned anon = 0;
	uint64_t limit = (uint64_t)bt->size * 8;
	isf_strset_clear(names);
	for (uint16_t i = 0; i < btf_vlen(bt); i++, m++) {
		const char *mname = btf__name_by_offset(t->btf, m->name_off);
		struct vms_error *err = check_name(id, "member", mname);
		if (err)
			return err;
		uint32_t bitoff = btf_member_bit_offset(bt, i);
		uint32_t bits = btf_member_bitfield_size(bt, i);
		uint32_t mid = m->type;
		const struct btf_type *mt = resolve(t, &mid);
		if (!mt && mid)
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF type [%u]: member %u's type chain is deeper than %d (a cycle?)",
				id, i, MAX_CHAIN);
		/* Old-style bitfield: an INT whose encoding says fewer bits. */
		if (!bits && mt && btf_is_int(mt) && btf_int_bits(mt) != mt->size * 8) {
			bits = btf_int_bits(mt);
			bitoff += btf_int_offset(mt);
		}
		uint64_t msize = bits;
		if (!bits) {
			long long sz = btf__resolve_size(t->btf, m->type);
			if (sz < 0)
				return vms_error_create(VMS_ERR_CORRUPT,
					"BTF type [%u]: member %u (\"%s\") has no resolvable size",
					id, i, mname);
			msize = (uint64_t)sz * 8;
		}
		if ((uint64_t)bitoff + msize > limit)
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF type [%u] (size %u): member %u (\"%s\") at bit %u, %llu bits, ends outside it",
				id, bt->size, i, mname, bitoff, (unsigned long long)msize);
		isf_puts(b, i ? ",\n" : "\n");
		bool anonymous = !mname[0];
		if (anonymous) {
			isf_putf(b, "\"unnamed_field_%x\":{", anon++);
		} else {
			int added = isf_strset_add(names, mname, i, NULL);
			if (added < 0)
				return &vms_error_nomem;
			if (!added)
				return vms_error_create(VMS_ERR_CORRUPT,
					"BTF type [%u]: two members named \"%s\"", id, mname);
			isf_put_str(b, mname);
			isf_puts(b, ":{");
		}
		if (anonymous && mt && btf_is_composite(mt))
			isf_puts(b, "\"anonymous\":true,");
		if (bits) {
			if (!mt || !(btf_is_int(mt) || btf_is_any_enum(mt)))
				return vms_error_create(VMS_ERR_CORRUPT,
					"BTF type [%u]: bitfield member %u (\"%s\") is not an integer or enum",
					id, i, mname);
			isf_putf(b, "\"offset\":%u,\"type\":{\"bit_length\":%u,\"bit_position\":%u,"
				 "\"kind\":\"bitfield\",\"type\":", bitoff / 8, bits, bitoff % 8);
			if ((err = isf_type_desc(t, b, mid)))
				return err;
			isf_puts(b, "}}");
		} else {
			if (bitoff % 8)
				return vms_error_create(VMS_ERR_CORRUPT,
					"BTF type [%u]: member %u (\"%s\") at bit %u is not byte-aligned",
					id, i, mname, bitoff);
			isf_putf(b, "\"offset\":%u,\"type\":", bitoff / 8);
			if ((err = isf_type_desc(t, b, m->type)))
				return err;
			isf_puts(b, "}");
		}
	}
	return NULL;
}

/* Name of @id as ISF keys it, into @out (for duplicate detection). */
static const char *agg_key(const struct isf_types *t, uint32_t id, char *tmp, size_t n)
{
	const struct btf_type *bt = btf__type_by_id(t->btf, id);
	const char *name = tname(t, bt);
	if (name[0])
		return name;
	if (t->alias[id])
		return t->alias[id];
	snprintf(tmp, n, "unnamed_%x", id);
	return NULL;  /* unique by construction */
}

/* Same kind, size and member names and offsets: pahole's leftovers of
 * one definition, not two different types of one name. */
static bool same_layout(const struct isf_types *t, const struct btf_type *a,
			const struct btf_type *b)
{
	if (btf_kind(a) != btf_kind(b) || a->size != b->size || btf_vlen(a) != btf_vlen(b))
		return false;
	for (uint16_t i = 0; i < btf_vlen(a); i++) {
		const struct btf_member *ma = btf_members(a) + i, *mb = btf_members(b) + i;
		const char *na = btf__name_by_offset(t->btf, ma->name_off);
		const char *nb = btf__name_by_offset(t->btf, mb->name_off);
		if (!na || !nb || strcmp(na, nb) ||
		    btf_member_bit_offset(a, i) != btf_member_bit_offset(b, i) ||
		    btf_member_bitfield_size(a, i) != btf_member_bitfield_size(b, i))
			return false;
	}
	return true;
}

/*
 * Structs of one name but different layouts (e.g. two files' private
 * "struct getdents_callback"): the first keeps the name, the others are
 * "NAME__<BTF id>", so that every member still points at its own layout
 * (dwarf2json keeps only the last and misreads the others' users).
 * Same-layout copies are one type.
 */
static struct vms_error *mark_renamed(struct isf_types *t, struct vms_isf_stats *st)
{
	struct isf_strset first = { 0 };
	for (uint32_t id = 1; id < t->n; id++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (!btf_is_composite(bt) || !bt->name_off)
			continue;
		const char *name = tname(t, bt);
		uint32_t old;
		int added = isf_strset_add(&first, name, id, &old);
		if (added < 0) {
			isf_strset_free(&first);
			return &vms_error_nomem;
		}
		if (added || same_layout(t, btf__type_by_id(t->btf, old), bt))
			continue;
		t->renamed[id] = 1;
		if (st->duplicate_types_differing < VMS_ISF_NOTED)
			snprintf(st->differing[st->duplicate_types_differing],
				 sizeof(st->differing[0]), "%s__%x", name, id);
		st->duplicate_types_differing++;
	}
	isf_strset_free(&first);
	return NULL;
}

static struct vms_error *write_user(struct isf_types *t, struct isf_buf *b,
				    struct vms_isf_stats *st)
{
	struct isf_strset seen = { 0 }, names = { 0 };
	struct vms_error *err = NULL;
	bool first = true;
	isf_puts(b, ",\n\"user_types\":{");
	for (uint32_t id = 1; id < t->n && !err; id++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (!btf_is_composite(bt))
			continue;
		char tmp[32];
		const char *key = t->renamed[id] ? NULL : agg_key(t, id, tmp, sizeof(tmp));
		if (key) {
			uint32_t old;
			int added = isf_strset_add(&seen, key, id, &old);
			if (added < 0) {
				err = &vms_error_nomem;
				break;
			}
			if (!added && !t->renamed[id]) {
				st->duplicate_types++;
				continue;
			}
		}
		if ((err = check_anon_depth(t, id, 0)))
			break;
		isf_puts(b, first ? "\n" : ",\n");
		first = false;
		put_agg_name(t, b, id);
		isf_putf(b, ":{\"kind\":\"%s\",\"size\":%u,\"fields\":{", kind_word(bt), bt->size);
		err = write_fields(t, b, id, bt, &names);
		isf_puts(b, "}}");
		st->user_types++;
	}
	/* Names only ever forward-declared (dwarf2json leaves them out too). */
	for (uint32_t id = 1; id < t->n && !err; id++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (btf_is_fwd(bt) && !isf_strset_get(&seen, tname(t, bt), NULL))
			st->forward_only++;
	}
	isf_puts(b, "\n}");
	isf_strset_free(&seen);
	isf_strset_free(&names);
	return err;
}

/* The base type an enum is read as: an "int" kind of its size and
 * signedness, first in name order (as dwarf2json picks), else any base of
 * that size and signedness, else void. */
static const char *enum_base(const struct base *sorted, size_t n, uint32_t size,
			     bool is_signed)
{
	const char *fallback = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct base *r = &sorted[i];
		if (r->size != size || r->is_signed != is_signed || !strcmp(r->kind, "float"))
			continue;
		if (!strcmp(r->kind, "int"))
			return r->name;
		if (!fallback)
			fallback = r->name;
	}
	return fallback ? fallback : "void";
}

static struct vms_error *write_enums(struct isf_types *t, struct isf_buf *b,
				     struct vms_isf_stats *st, const struct base *sorted, size_t nsorted)
{
	struct isf_strset seen = { 0 }, names = { 0 };
	struct vms_error *err = NULL;
	bool first = true;
	isf_puts(b, ",\n\"enums\":{");
	for (uint32_t id = 1; id < t->n && !err; id++) {
		const struct btf_type *bt = btf__type_by_id(t->btf, id);
		if (!btf_is_any_enum(bt))
			continue;
		char tmp[32];
		const char *key = agg_key(t, id, tmp, sizeof(tmp));
		if (key) {
			int added = isf_strset_add(&seen, key, id, NULL);
			if (added < 0) {
				err = &vms_error_nomem;
				break;
			}
			if (!added) {
				st->duplicate_types++;
				continue;
			}
		}
		if (bt->size == 0 || bt->size > 8) {
			err = vms_error_create(VMS_ERR_CORRUPT,
				"BTF type [%u]: enum of %u bytes", id, bt->size);
			break;
		}
		/* BTF's kflag says signed (pahole >= 1.24); a negative value
		 * makes it signed for dwarf2json too. */
		bool is_signed = btf_kflag(bt);
		isf_puts(b, first ? "\n" : ",\n");
		first = false;
		put_agg_name(t, b, id);
		isf_puts(b, ":{\"constants\":{");
		isf_strset_clear(&names);
		for (uint16_t i = 0; i < btf_vlen(bt) && !err; i++) {
			const char *en;
			long long sv;
			unsigned long long uv;
			if (btf_is_enum(bt)) {
				const struct btf_enum *e = btf_enum(bt) + i;
				en = btf__name_by_offset(t->btf, e->name_off);
				sv = e->val;
				uv = (uint32_t)e->val;
			} else {
				const struct btf_enum64 *e = btf_enum64(bt) + i;
				en = btf__name_by_offset(t->btf, e->name_off);
				uv = btf_enum64_value(e);
				sv = (long long)uv;
			}
			if ((err = check_name(id, "enumerator", en)))
				break;
			int added = isf_strset_add(&names, en, i, NULL);
			if (added <= 0) {
				err = added < 0 ? &vms_error_nomem :
					vms_error_create(VMS_ERR_CORRUPT,
						"BTF type [%u]: two enumerators named \"%s\"", id, en);
				break;
			}
			isf_puts(b, i ? "," : "");
			isf_put_str(b, en);
			if (is_signed)
				isf_putf(b, ":%lld", sv);
			else
				isf_putf(b, ":%llu", uv);
		}
		isf_puts(b, "},\"base\":");
		isf_put_str(b, enum_base(sorted, nsorted, bt->size, is_signed));
		isf_putf(b, ",\"size\":%u}", bt->size);
		st->enums++;
	}
	isf_puts(b, "\n}");
	isf_strset_free(&seen);
	isf_strset_free(&names);
	return err;
}

struct vms_error *isf_types_write(struct isf_types *t, struct isf_buf *b,
				  struct vms_isf_stats *st)
{
	struct base *sorted = NULL;
	size_t nsorted = 0;
	struct vms_error *err = write_base(t, b, st, &sorted, &nsorted);
	if (!err)
		err = mark_renamed(t, st);
	if (!err)
		err = write_user(t, b, st);
	if (!err)
		err = write_enums(t, b, st, sorted, nsorted);
	free(sorted);
	return err;
}
