// SPDX-License-Identifier: LGPL-2.1-or-later
/* The ISF writer (src/export/isf*.c) on small BTF built with libbpf's
 * writer: shapes Volatility reads (bitfields, anonymous members, typedef
 * names, signed and 64-bit enums, same-named layouts), and corrupt BTF and
 * symbol names: an error naming the type id or symbol, never output. */
#include <bpf/btf.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

#include "check.h"
#include "export/isf_priv.h"

/* The types and symbols of @btf (+ @tab) as one JSON object; NULL and
 * *@err on error. */
static struct json_object *isf_json(struct btf *btf, struct vms_symtab *tab,
				    struct vms_error **errp, struct vms_isf_stats *st)
{
	struct isf_types *ty;
	struct isf_buf b = { 0 };
	*st = (struct vms_isf_stats){ 0 };
	struct vms_error *err = isf_types_new(btf, &ty);
	if (!err) {
		isf_puts(&b, "{");
		err = isf_types_write(ty, &b, st);
		if (!err && tab)
			err = isf_write_symbols(&b, tab, 0x1000000, ty, "Linux version x\n", 17, st);
		isf_puts(&b, "}");
		isf_types_free(ty);
	}
	*errp = err;
	struct json_object *o = err ? NULL : json_tokener_parse(b.p);
	free(b.p);
	return o;
}

static struct json_object *get(struct json_object *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *save, *k = strtok_r(buf, "/", &save); k && o; k = strtok_r(NULL, "/", &save))
		if (!json_object_object_get_ex(o, k, &o))
			return NULL;
	return o;
}

static long long num(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? (long long)json_object_get_int64(v) : -999;
}

static unsigned long long unum(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? (unsigned long long)json_object_get_uint64(v) : 0;
}

static const char *str(struct json_object *o, const char *path)
{
	struct json_object *v = get(o, path);
	return v ? json_object_get_string(v) : "";
}

static void shapes(void)
{
	struct btf *btf = btf__new_empty();
	int u32 = btf__add_int(btf, "unsigned int", 4, 0);
	int s32 = btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
	int chr = btf__add_int(btf, "char", 1, BTF_INT_SIGNED);
	/* Forward-declared first, as BTF has it when a pointer comes first. */
	int fwd = btf__add_fwd(btf, "list_head", BTF_FWD_STRUCT);
	int plh = btf__add_ptr(btf, fwd);
	int lh = btf__add_struct(btf, "list_head", 16);
	btf__add_field(btf, "next", plh, 0, 0);
	btf__add_field(btf, "prev", plh, 64, 0);
	/* typedef struct { int counter; } atomic_t; */
	int anon = btf__add_struct(btf, NULL, 4);
	btf__add_field(btf, "counter", s32, 0, 0);
	int atomic = btf__add_typedef(btf, "atomic_t", anon);
	int cu32 = btf__add_const(btf, u32);
	int arr = btf__add_array(btf, u32, chr, 16);
	int un = btf__add_union(btf, NULL, 8);
	btf__add_field(btf, "a", u32, 0, 0);
	btf__add_field(btf, "b", plh, 0, 0);
	int sig = btf__add_enum(btf, "sig", 4);  /* signed: it gets a negative value */
	btf__add_enum_value(btf, "NEG", -1);
	btf__add_enum_value(btf, "POS", 7);
	int e64 = btf__add_enum64(btf, "big", 8, false);
	btf__add_enum64_value(btf, "TOP", 0xffffffffffffffe0ULL);
	int t = btf__add_struct(btf, "task_struct", 64);
	btf__add_field(btf, "tasks", lh, 0, 0);
	btf__add_field(btf, "flag_a", u32, 128, 1);
	btf__add_field(btf, "flag_b", u32, 139, 3);
	btf__add_field(btf, "count", atomic, 160, 0);
	btf__add_field(btf, "ro", cu32, 192, 0);
	btf__add_field(btf, "comm", arr, 224, 0);
	btf__add_field(btf, NULL, un, 384, 0);
	btf__add_field(btf, "state", sig, 448, 0);
	(void)e64;
	(void)t;
	/* A second struct "task_struct" of another layout. */
	int t2 = btf__add_struct(btf, "task_struct", 8);
	btf__add_field(btf, "only", u32, 0, 0);
	int holder = btf__add_struct(btf, "holder", 8);
	btf__add_field(btf, "t", t2, 0, 0);
	(void)holder;
	/* A same-layout copy of list_head. */
	int lh2 = btf__add_struct(btf, "list_head", 16);
	btf__add_field(btf, "next", plh, 0, 0);
	btf__add_field(btf, "prev", plh, 64, 0);
	(void)lh2;
	int v = btf__add_var(btf, "runqueues", BTF_VAR_GLOBAL_ALLOCATED, lh);
	(void)v;

	struct vms_symtab *tab;
	vms_symtab_create(&tab);
	vms_symtab_add(tab, 0xffffffff82000000ULL, 'D', "init_task", 9, NULL);
	vms_symtab_add(tab, 0xffffffff82001000ULL, 'R', "linux_banner", 12, NULL);
	vms_symtab_add(tab, 0x2000, 'D', "runqueues", 9, NULL);
	vms_symtab_add(tab, 0xffffffff82002000ULL, 't', "dup", 3, NULL);
	vms_symtab_add(tab, 0xffffffff82003000ULL, 'T', "dup", 3, NULL);
	vms_symtab_add(tab, 0xffffffffc0000000ULL, 't', "modsym", 6, "mod");
	vms_symtab_finish(tab);

	struct vms_error *err;
	struct vms_isf_stats st;
	struct json_object *o = isf_json(btf, tab, &err, &st);
	CHECKD(o, "isf: small BTF gives parseable JSON", "%s", err ? err->message : "parse");
	if (!o)
		goto out;
	CHECK(num(o, "user_types/task_struct/size") == 64, "isf: struct size");
	CHECK(num(o, "user_types/list_head/fields/prev/offset") == 8, "isf: member offset");
	CHECK(!strcmp(str(o, "user_types/list_head/fields/next/type/kind"), "pointer") &&
	      !strcmp(str(o, "user_types/list_head/fields/next/type/subtype/name"), "list_head"),
	      "isf: pointer to a named struct");
	CHECK(num(o, "user_types/task_struct/fields/flag_a/offset") == 16 &&
	      num(o, "user_types/task_struct/fields/flag_a/type/bit_position") == 0 &&
	      num(o, "user_types/task_struct/fields/flag_a/type/bit_length") == 1, "isf: bitfield at bit 128");
	CHECK(num(o, "user_types/task_struct/fields/flag_b/offset") == 17 &&
	      num(o, "user_types/task_struct/fields/flag_b/type/bit_position") == 3 &&
	      num(o, "user_types/task_struct/fields/flag_b/type/bit_length") == 3,
	      "isf: bitfield at bit 139 = byte 17 bit 3 (dwarf2json's split)");
	CHECK(!strcmp(str(o, "user_types/task_struct/fields/count/type/name"), "atomic_t") &&
	      num(o, "user_types/atomic_t/size") == 4,
	      "isf: typedef-named anonymous struct takes the typedef's name");
	CHECK(!strcmp(str(o, "user_types/task_struct/fields/ro/type/name"), "unsigned int"),
	      "isf: const looked through");
	CHECK(num(o, "user_types/task_struct/fields/comm/type/count") == 16, "isf: array count");
	CHECK(json_object_get_boolean(get(o, "user_types/task_struct/fields/unnamed_field_0/anonymous")) &&
	      num(o, "user_types/task_struct/fields/unnamed_field_0/offset") == 48,
	      "isf: anonymous union member, anonymous: true");
	CHECK(num(o, "enums/sig/constants/NEG") == -1 && !strcmp(str(o, "enums/sig/base"), "int"),
	      "isf: signed enum value and base");
	struct json_object *top = get(o, "enums/big/constants/TOP");
	CHECK(top && json_object_get_uint64(top) == 0xffffffffffffffe0ULL,
	      "isf: unsigned 64-bit enumerator");
	char t2name[32];
	snprintf(t2name, sizeof(t2name), "user_types/task_struct__%x/size", t2);
	CHECK(num(o, t2name) == 8, "isf: another layout of a name is NAME__ID");
	CHECK(num(o, "user_types/task_struct/size") == 64, "isf: NAME alone is the first layout");
	snprintf(t2name, sizeof(t2name), "task_struct__%x", t2);
	CHECK(!strcmp(str(o, "user_types/holder/fields/t/type/name"), t2name),
	      "isf: its users point at it");
	CHECK(st.duplicate_types == 1 && st.duplicate_types_differing == 1,
	      "isf: a same-layout copy is one type");
	CHECK(unum(o, "symbols/init_task/address") == 0xffffffff81000000ULL &&
	      !strcmp(str(o, "symbols/init_task/type/name"), "task_struct"),
	      "isf: symbol address with KASLR undone, filled type");
	CHECK(num(o, "symbols/runqueues/address") == 0x2000 &&
	      !strcmp(str(o, "symbols/runqueues/type/name"), "list_head"),
	      "isf: per-CPU symbol not relocated, typed from its BTF VAR");
	CHECK(unum(o, "symbols/dup/address") == 0xffffffff81003000ULL &&
	      st.duplicate_names == 1, "isf: one entry per name, the global one");
	CHECK(!get(o, "symbols/modsym"), "isf: module symbols left out");
	CHECK(!strcmp(str(o, "symbols/linux_banner/constant_data"), "TGludXggdmVyc2lvbiB4CgA="),
	      "isf: linux_banner constant_data, NUL included");
	json_object_put(o);
out:
	vms_symtab_destroy(tab);
	btf__free(btf);
}

/* @btf's raw bytes with patch @fn applied, loaded again. */
static struct btf *patched(struct btf *btf, void (*fn)(uint8_t *raw, uint32_t size, void *arg),
			   void *arg)
{
	uint32_t size;
	const void *raw = btf__raw_data(btf, &size);
	uint8_t *copy = malloc(size);
	memcpy(copy, raw, size);
	fn(copy, size, arg);
	struct btf *r = btf__new(copy, size);
	free(copy);
	return r;
}

/* Find u32 @from at or after the type section and replace it by @to. */
struct subst { uint32_t from, to, skip; };
static void subst_u32(uint8_t *raw, uint32_t size, void *arg)
{
	struct subst *s = arg;
	uint32_t hl;
	memcpy(&hl, raw + 4, 4);
	for (uint32_t i = hl; i + 4 <= size; i += 4) {
		uint32_t v;
		memcpy(&v, raw + i, 4);
		if (v == s->from && !s->skip--) {
			memcpy(raw + i, &s->to, 4);
			return;
		}
	}
}

static void replace_str(uint8_t *raw, uint32_t size, void *arg)
{
	const char *s = arg;
	size_t n = strlen(s);
	for (uint32_t i = 0; i + n <= size; i++)
		if (!memcmp(raw + i, s, n)) {
			raw[i + 1] = 0x01;
			return;
		}
}

static void expect_error(struct btf *btf, struct vms_symtab *tab, const char *name,
			 const char *needle)
{
	struct vms_error *err = NULL;
	struct vms_isf_stats st;
	struct json_object *o = btf ? isf_json(btf, tab, &err, &st) : NULL;
	CHECKD(btf && !o && err && strstr(err->message, needle), name, "%s",
	       !btf ? "libbpf rejected the patched BTF" : err ? err->message : "no error");
	json_object_put(o);
	if (err)
		vms_error_free(err);
}

static void hostile(void)
{
	/* A pointer made to point at itself: a type cycle. */
	struct btf *b = btf__new_empty();
	int u = btf__add_int(b, "unsigned int", 4, 0);
	int p = btf__add_ptr(b, u);
	int s = btf__add_struct(b, "s", 8);
	btf__add_field(b, "p", p, 0, 0);
	(void)s;
	/* The PTR's type field: kind PTR info word, then "type" = u (1). */
	struct subst sub = { .from = (uint32_t)u, .to = (uint32_t)p, .skip = 1 };
	struct btf *c = patched(b, subst_u32, &sub);
	expect_error(c, NULL, "isf: pointer cycle in BTF: error, no output", "cycle");
	btf__free(c);
	btf__free(b);

	/* A member beyond its struct. */
	b = btf__new_empty();
	u = btf__add_int(b, "unsigned int", 4, 0);
	btf__add_struct(b, "small", 4);
	btf__add_field(b, "far", u, 4096, 0);
	expect_error(b, NULL, "isf: member outside its struct: error naming it", "\"far\"");
	btf__free(b);

	/* Two members of one name. */
	b = btf__new_empty();
	u = btf__add_int(b, "unsigned int", 4, 0);
	btf__add_struct(b, "twice", 8);
	btf__add_field(b, "x", u, 0, 0);
	btf__add_field(b, "x", u, 32, 0);
	expect_error(b, NULL, "isf: duplicate member name: error", "two members named");
	btf__free(b);

	/* A control byte in a name. */
	b = btf__new_empty();
	u = btf__add_int(b, "unsigned int", 4, 0);
	btf__add_struct(b, "victim", 4);
	btf__add_field(b, "v", u, 0, 0);
	c = patched(b, replace_str, "victim");
	expect_error(c, NULL, "isf: control byte in a BTF name: error naming the type id",
		     "not a kernel identifier");
	btf__free(c);

	/* A control byte in a kallsyms name. */
	struct vms_symtab *tab;
	vms_symtab_create(&tab);
	vms_symtab_add(tab, 0xffffffff81234000ULL, 'T', "bad\x01name", 8, NULL);
	vms_symtab_finish(tab);
	expect_error(b, tab, "isf: control byte in a kallsyms name: error naming its address",
		     "0xffffffff81234000");
	vms_symtab_destroy(tab);
	btf__free(b);
}

int main(void)
{
	shapes();
	hostile();
	return CHECK_DONE();
}
