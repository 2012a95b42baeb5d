// SPDX-License-Identifier: LGPL-2.1-or-later
/* Symbol table (many symbols, duplicates, absolute symbols) and BTF
 * (header check, a small BTF built with libbpf's writer, member lookup
 * through nested, anonymous and bitfield members, enums). */
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmsight/symbols.h>
#include <vmsight/types.h>

#include "check.h"


static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void symtab_many(void)
{
	enum { N = 100000 };
	struct vms_symtab *tab;
	CHECK(!vms_symtab_create(&tab), "symtab: create");
	/* Distinct addresses, added in random order. */
	uint64_t *addrs = malloc(N * sizeof(*addrs));
	for (unsigned i = 0; i < N; i++)
		addrs[i] = 0xffffffff81000000ULL + 16ULL * i;
	for (unsigned i = N - 1; i > 0; i--) {
		unsigned j = (unsigned)(rnd() % (i + 1));
		uint64_t t = addrs[i];
		addrs[i] = addrs[j];
		addrs[j] = t;
	}
	char name[64];
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "sym_%llx",
			 (unsigned long long)addrs[i]);
		/* name_len shorter than the string: only that much is copied */
		struct vms_error *err = vms_symtab_add(tab, addrs[i], i % 2 ? 't' : 'T',
						       name, strlen(name), NULL);
		if (err) {
			CHECK(0, "symtab: add");
			return;
		}
	}
	CHECK(!vms_symtab_by_name(tab, "sym_ffffffff81000000"),
	      "symtab: by_name before finish -> NULL");
	CHECK(!vms_symtab_finish(tab), "symtab: finish");
	CHECK(vms_symtab_count(tab) == N, "symtab: count");
	unsigned bad = 0;
	for (size_t i = 1; i < N; i++)
		if (vms_symtab_at(tab, i - 1)->addr > vms_symtab_at(tab, i)->addr)
			bad++;
	CHECK(!bad, "symtab: sorted by address after finish");
	CHECK(!vms_symtab_at(tab, N), "symtab: at(count) -> NULL");
	bad = 0;
	for (unsigned i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "sym_%llx", (unsigned long long)addrs[i]);
		const struct vms_symbol *s = vms_symtab_by_name(tab, name);
		if (!s || s->addr != addrs[i] || strcmp(s->name, name))
			bad++;
	}
	CHECKD(!bad, "symtab: by_name for 100000 symbols", "%u wrong", bad);
	qsort(addrs, N, sizeof(*addrs), cmp_u64);
	bad = 0;
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t a = 0xffffffff81000000ULL - 64 + rnd() % (16ULL * N + 128);
		uint64_t off = 0;
		const struct vms_symbol *s = vms_symtab_by_addr(tab, a, &off);
		/* brute force: greatest address <= a */
		size_t lo = 0, hi = N;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;
			if (addrs[mid] <= a)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == 0 ? s != NULL : (!s || s->addr != addrs[lo - 1] ||
					   off != a - addrs[lo - 1]))
			bad++;
	}
	CHECKD(!bad, "symtab: by_addr matches a brute-force search", "%u wrong", bad);
	CHECK(!vms_symtab_by_name(tab, "sym_"), "symtab: missing name");
	CHECK(!vms_symtab_by_name(tab, ""), "symtab: empty name");
	free(addrs);
	vms_symtab_destroy(tab);
}

static void symtab_dups(void)
{
	struct vms_symtab *tab;
	vms_symtab_create(&tab);
	CHECK(!vms_symtab_by_name(tab, "x") && !vms_symtab_by_addr(tab, 5, NULL),
	      "symtab: lookups on an empty, unfinished table");
	/* In a child: under UBSan a bad call aborts the process. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct vms_symtab *e;
		vms_symtab_create(&e);
		struct vms_error *err = vms_symtab_finish(e);
		int ok = !err && !vms_symtab_by_name(e, "x") &&
			 !vms_symtab_by_addr(e, 5, NULL);
		vms_symtab_destroy(e);
		_exit(ok ? 0 : 3);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECKD(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "symtab: finish and lookups on an empty table",
	       "child %s %d (UBSan: qsort(NULL, 0) in vms_symtab_finish?)",
	       WIFEXITED(status) ? "exited" : "killed by signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	/* local first, then global, then another local */
	vms_symtab_add(tab, 0x1000, 't', "dup_a", 5, NULL);
	vms_symtab_add(tab, 0x3000, 'T', "dup_a", 5, NULL);
	vms_symtab_add(tab, 0x2000, 'd', "dup_a", 5, NULL);
	/* global first, then local */
	vms_symtab_add(tab, 0x5000, 'D', "dup_b", 5, NULL);
	vms_symtab_add(tab, 0x4000, 'b', "dup_b", 5, NULL);
	/* only locals */
	vms_symtab_add(tab, 0x6000, 't', "dup_c", 5, NULL);
	vms_symtab_add(tab, 0x7000, 't', "dup_c", 5, NULL);
	/* only locals, added in reverse address order: the lowest address
	 * wins, as in a table sorted by address; at one address, the first
	 * added */
	vms_symtab_add(tab, 0x7800, 't', "dup_d", 5, NULL);
	vms_symtab_add(tab, 0x7400, 't', "dup_d", 5, NULL);
	vms_symtab_add(tab, 0x7a00, 'd', "dup_e", 5, NULL);
	vms_symtab_add(tab, 0x7a00, 'b', "dup_e", 5, NULL);
	/* aliases of one address: a local added first, then two globals */
	vms_symtab_add(tab, 0x7c00, 't', "alias_local", 11, NULL);
	vms_symtab_add(tab, 0x7c00, 'T', "alias_global1", 13, NULL);
	vms_symtab_add(tab, 0x7c00, 'W', "alias_global2", 13, NULL);
	/* absolute symbols, upper and lower case */
	vms_symtab_add(tab, 0x8000, 'A', "abs_up", 6, NULL);
	vms_symtab_add(tab, 0x8800, 'a', "abs_low", 7, NULL);
	vms_symtab_add(tab, 0x9000, 'T', "after", 5, "mymod");
	/* name_len shorter than the buffer */
	vms_symtab_add(tab, 0xa000, 'T', "prefix_and_more", 6, NULL);
	/* a name longer than an arena block */
	size_t biglen = (1u << 20) + 100;
	char *big = malloc(biglen + 1);
	memset(big, 'q', biglen);
	big[biglen] = 0;
	vms_symtab_add(tab, 0xb000, 'T', big, biglen, NULL);
	vms_symtab_add(tab, 0xc000, 'T', "last", 4, NULL);
	CHECK(!vms_symtab_finish(tab), "symtab: finish with duplicates");

	const struct vms_symbol *s = vms_symtab_by_name(tab, "dup_a");
	CHECK(s && s->type == 'T' && s->addr == 0x3000, "symtab: global wins (added after a local)");
	s = vms_symtab_by_name(tab, "dup_b");
	CHECK(s && s->type == 'D' && s->addr == 0x5000, "symtab: global wins (added before a local)");
	s = vms_symtab_by_name(tab, "dup_c");
	CHECK(s && s->type == 't', "symtab: only locals: one of them");
	s = vms_symtab_by_name(tab, "dup_d");
	CHECK(s && s->addr == 0x7400, "symtab: only locals: the lowest address");
	s = vms_symtab_by_name(tab, "dup_e");
	CHECK(s && s->type == 'd', "symtab: only locals at one address: the first added");
	uint64_t off = 0;
	s = vms_symtab_by_addr(tab, 0x7c08, &off);
	CHECK(s && !strcmp(s->name, "alias_global1") && off == 8,
	      "symtab: by_addr on aliases: the first global added");
	s = vms_symtab_by_addr(tab, 0x8900, &off);
	CHECK(s && !strcmp(s->name, "alias_global1") && off == 0x8900 - 0x7c00,
	      "symtab: by_addr skips 'A' and 'a' symbols");
	{
		/* In order: by address, globals before locals at one address. */
		const char *want[] = { "alias_global1", "alias_global2", "alias_local" };
		size_t i = 0, n = vms_symtab_count(tab);
		while (i < n && vms_symtab_at(tab, i)->addr != 0x7c00)
			i++;
		bool ok = i + 3 <= n;
		for (int j = 0; ok && j < 3; j++)
			ok = !strcmp(vms_symtab_at(tab, i + (size_t)j)->name, want[j]);
		CHECK(ok, "symtab: at() order at one address: globals, then locals");
	}
	s = vms_symtab_by_name(tab, "abs_up");
	CHECK(s && s->addr == 0x8000 && s->type == 'A', "symtab: absolute symbol by name");
	s = vms_symtab_by_addr(tab, 0x9010, &off);
	CHECK(s && !strcmp(s->name, "after") && s->module && !strcmp(s->module, "mymod") &&
	      off == 0x10, "symtab: module name kept");
	s = vms_symtab_by_name(tab, "prefix");
	CHECK(s && s->addr == 0xa000, "symtab: name_len bounds the copied name");
	CHECK(!vms_symtab_by_name(tab, "prefix_and_more"), "symtab: rest of the buffer not copied");
	s = vms_symtab_by_name(tab, big);
	CHECK(s && s->addr == 0xb000 && strlen(s->name) == biglen,
	      "symtab: name longer than an arena block");
	s = vms_symtab_by_name(tab, "last");
	CHECK(s && s->addr == 0xc000, "symtab: symbol after the big name");
	CHECK(!vms_symtab_by_addr(tab, 0xfff, NULL), "symtab: by_addr below the first -> NULL");
	s = vms_symtab_by_addr(tab, 0x1000, NULL);
	CHECK(s && s->addr == 0x1000, "symtab: by_addr on the exact first address (NULL offset ok)");
	/* finish again after more symbols */
	vms_symtab_add(tab, 0x500, 'T', "early", 5, NULL);
	CHECK(!vms_symtab_finish(tab), "symtab: finish twice");
	s = vms_symtab_by_addr(tab, 0x600, &off);
	CHECK(s && !strcmp(s->name, "early") && off == 0x100 &&
	      vms_symtab_by_name(tab, "dup_a")->type == 'T',
	      "symtab: lookups after a second finish");
	free(big);
	vms_symtab_destroy(tab);
	vms_symtab_destroy(NULL);

	/* Added in address order (as kallsyms come), aliases local first:
	 * still globals first in at() and by_addr. */
	vms_symtab_create(&tab);
	vms_symtab_add(tab, 0x100, 't', "s_first", 7, NULL);
	vms_symtab_add(tab, 0x200, 't', "s_local", 7, NULL);
	vms_symtab_add(tab, 0x200, 'T', "s_global", 8, NULL);
	vms_symtab_add(tab, 0x300, 't', "s_last", 6, NULL);
	vms_symtab_finish(tab);
	s = vms_symtab_by_addr(tab, 0x210, &off);
	CHECK(s && !strcmp(s->name, "s_global") && off == 0x10 &&
	      !strcmp(vms_symtab_at(tab, 1)->name, "s_global") &&
	      !strcmp(vms_symtab_at(tab, 2)->name, "s_local"),
	      "symtab: sorted input, aliases: globals first");
	vms_symtab_destroy(tab);
}

/* ---- BTF ---- */

struct btf_ids {
	int i32, i64, u32, chr, inner, inner_t, cinner, outer, anon_u, anon_s,
	    anon_u2, arr, named_u, en, en64;
};

static struct btf *make_btf(struct btf_ids *id)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return NULL;
	id->i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	id->i64 = btf__add_int(b, "long", 8, BTF_INT_SIGNED);
	id->u32 = btf__add_int(b, "unsigned int", 4, 0);
	id->chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);

	/* struct inner { int b; long c; } */
	id->inner = btf__add_struct(b, "inner", 16);
	btf__add_field(b, "b", id->i32, 0, 0);
	btf__add_field(b, "c", id->i64, 64, 0);
	id->inner_t = btf__add_typedef(b, "inner_t", id->inner);
	id->cinner = btf__add_const(b, id->inner_t);

	/* union { long u1; int u2; } */
	id->anon_u = btf__add_union(b, NULL, 8);
	btf__add_field(b, "u1", id->i64, 0, 0);
	btf__add_field(b, "u2", id->i32, 0, 0);
	/* union { int deep; } inside struct { int s1; union ...; } */
	id->anon_u2 = btf__add_union(b, NULL, 4);
	btf__add_field(b, "deep", id->i32, 0, 0);
	id->anon_s = btf__add_struct(b, NULL, 8);
	btf__add_field(b, "s1", id->i32, 0, 0);
	btf__add_field(b, NULL, id->anon_u2, 32, 0);

	id->arr = btf__add_array(b, id->i32, id->chr, 16);

	/* struct outer {
	 *   int a;                 0
	 *   long x;                8
	 *   struct inner inner;    16
	 *   union {...};           32
	 *   struct {...};          40
	 *   unsigned flags_a:3, flags_b:5, flags_c:10;  48
	 *   const inner_t tdef;    56
	 *   char name[16];         72
	 * } size 88 */
	id->outer = btf__add_struct(b, "outer", 88);
	btf__add_field(b, "a", id->i32, 0, 0);
	btf__add_field(b, "x", id->i64, 64, 0);
	btf__add_field(b, "inner", id->inner, 128, 0);
	btf__add_field(b, NULL, id->anon_u, 256, 0);
	btf__add_field(b, NULL, id->anon_s, 320, 0);
	btf__add_field(b, "flags_a", id->u32, 384, 3);
	btf__add_field(b, "flags_b", id->u32, 387, 5);
	btf__add_field(b, "flags_c", id->u32, 395, 10);
	btf__add_field(b, "tdef", id->cinner, 448, 0);
	btf__add_field(b, "name", id->arr, 576, 0);

	id->named_u = btf__add_union(b, "named_u", 8);
	btf__add_field(b, "nu_a", id->i64, 0, 0);

	id->en = btf__add_enum(b, "pid_type", 4);
	btf__add_enum_value(b, "PIDTYPE_PID", 0);
	btf__add_enum_value(b, "PIDTYPE_TGID", 1);
	btf__add_enum_value(b, "PIDTYPE_MAX", 4);
	btf__add_enum_value(b, "NEG_VAL", -3);
	id->en64 = btf__add_enum64(b, "big_enum", 8, false);
	btf__add_enum64_value(b, "BIG64", 0x100000005ULL);
	return b;
}

static void field(const struct vms_types *t, const char *s, const char *path,
		  uint32_t off, uint32_t size, uint32_t bit_off, uint32_t bit_size)
{
	struct vms_field f;
	memset(&f, 0xcc, sizeof(f));
	struct vms_error *err = vms_types_field(t, s, path, &f);
	char name[128];
	snprintf(name, sizeof(name), "btf: %s.%s", s, path);
	CHECKD(!err && f.offset == off && f.size == size && f.bit_offset == bit_off &&
	       f.bit_size == bit_size, name,
	       "%s; offset %u size %u bit %u:%u (want %u %u %u:%u)",
	       err ? err->message : "ok", f.offset, f.size, f.bit_offset, f.bit_size,
	       off, size, bit_off, bit_size);
	vms_error_free(err);
}

static void missing(const struct vms_types *t, const char *s, const char *path)
{
	struct vms_field f;
	struct vms_error *err = vms_types_field(t, s, path, &f);
	char name[128];
	snprintf(name, sizeof(name), "btf: %s.%s missing -> NOT_FOUND", s, path);
	CHECKD(err && err->code == VMS_ERR_NOT_FOUND && err->message[0], name, "%s",
	       err ? err->message : "found");
	vms_error_free(err);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static bool vms_ok_load(const void *d, size_t n, struct vms_types **t)
{
	struct vms_error *err = vms_types_from_btf(d, n, t);
	vms_error_free(err);
	return !err;
}

static void btf_tests(void)
{
	struct btf_ids id;
	struct btf *b = make_btf(&id);
	CHECK(b && id.outer > 0 && id.en64 > 0, "btf: built with libbpf");
	if (!b)
		return;
	uint32_t raw_size = 0;
	const uint8_t *raw = btf__raw_data(b, &raw_size);
	CHECK(raw && raw_size > 24, "btf: raw data");

	/* Header checks. */
	size_t avail = raw_size + 100;
	uint8_t *buf = calloc(1, avail);
	memcpy(buf, raw, raw_size);
	CHECK(vms_btf_blob_size(buf, avail) == raw_size, "btf_blob_size: good blob with trailing bytes");
	CHECK(vms_btf_blob_size(buf, raw_size) == raw_size, "btf_blob_size: exact size");
	CHECK(vms_btf_blob_size(buf, raw_size - 1) == 0, "btf_blob_size: one byte short -> 0");
	CHECK(vms_btf_blob_size(buf, 23) == 0, "btf_blob_size: shorter than a header -> 0");
	uint8_t *c = malloc(avail);
#define MUT(stmt, label)                                                   \
	do {                                                               \
		memcpy(c, buf, avail);                                     \
		stmt;                                                      \
		CHECK(vms_btf_blob_size(c, avail) == 0, label);            \
	} while (0)
	MUT(c[0] = 0x9e, "btf_blob_size: bad magic -> 0");
	MUT((c[0] = 0xeb, c[1] = 0x9f), "btf_blob_size: big-endian magic -> 0");
	MUT(c[2] = 2, "btf_blob_size: version 2 -> 0");
	MUT(put32(c + 4, 16), "btf_blob_size: hdr_len < 24 -> 0");
	MUT(put32(c + 4, 4096), "btf_blob_size: hdr_len > 256 -> 0");
	MUT(put32(c + 12, 0), "btf_blob_size: type_len 0 -> 0");
	MUT(put32(c + 20, 0), "btf_blob_size: str_len 0 -> 0");
	MUT(put32(c + 20, 0xfffffff0), "btf_blob_size: str_len past the buffer -> 0");
	MUT(put32(c + 16, 0xffffffff), "btf_blob_size: str_off huge -> 0");
	MUT(put32(c + 16, 4), "btf_blob_size: strings overlap types -> 0");
#undef MUT

	/* Load and query. */
	struct vms_types *t = NULL;
	struct vms_error *err = vms_types_from_btf(buf, raw_size, &t);
	CHECKD(!err, "btf: vms_types_from_btf", "%s", err ? err->message : "");
	vms_error_free(err);
	if (t) {
		CHECK(vms_types_count(t) == btf__type_cnt(b), "btf: type count");
		CHECK(vms_types_btf_size(t) == raw_size, "btf: size");
		size_t sz = 0;
		err = vms_types_struct_size(t, "outer", &sz);
		CHECK(!err && sz == 88, "btf: sizeof(struct outer)");
		vms_error_free(err);
		err = vms_types_struct_size(t, "named_u", &sz);
		CHECK(!err && sz == 8, "btf: sizeof(union named_u)");
		vms_error_free(err);
		err = vms_types_struct_size(t, "nostruct", &sz);
		CHECK(err && err->code == VMS_ERR_NOT_FOUND, "btf: sizeof missing struct -> NOT_FOUND");
		vms_error_free(err);
		err = vms_types_struct_size(t, "int", &sz);
		CHECK(err && err->code == VMS_ERR_NOT_FOUND, "btf: sizeof a non-struct -> NOT_FOUND");
		vms_error_free(err);

		field(t, "outer", "a", 0, 4, 0, 0);
		field(t, "outer", "x", 8, 8, 0, 0);
		field(t, "outer", "inner", 16, 16, 0, 0);
		field(t, "outer", "inner.b", 16, 4, 0, 0);
		field(t, "outer", "inner.c", 24, 8, 0, 0);
		field(t, "outer", "u1", 32, 8, 0, 0);
		field(t, "outer", "u2", 32, 4, 0, 0);
		field(t, "outer", "s1", 40, 4, 0, 0);
		field(t, "outer", "deep", 44, 4, 0, 0);
		field(t, "outer", "flags_a", 48, 4, 0, 3);
		field(t, "outer", "flags_b", 48, 4, 3, 5);
		field(t, "outer", "flags_c", 49, 4, 3, 10);
		field(t, "outer", "tdef", 56, 16, 0, 0);
		field(t, "outer", "tdef.b", 56, 4, 0, 0);
		field(t, "outer", "tdef.c", 64, 8, 0, 0);
		field(t, "outer", "name", 72, 16, 0, 0);
		field(t, "inner", "c", 8, 8, 0, 0);
		field(t, "named_u", "nu_a", 0, 8, 0, 0);
		struct vms_field f;
		err = vms_types_field(t, "outer", "inner.b", &f);
		CHECK(!err && f.type_id == (uint32_t)id.i32, "btf: field type_id");
		vms_error_free(err);
		CHECK(vms_types_has_field(t, "outer", "deep") &&
		      !vms_types_has_field(t, "outer", "shallow"), "btf: has_field");
		missing(t, "outer", "nope");
		missing(t, "outer", "inner.nope");
		missing(t, "outer", "a.b");
		missing(t, "outer", "inner.b.c");
		missing(t, "outer", "in");
		missing(t, "outer", "innerx");
		missing(t, "nostruct", "a");

		int64_t v = -1;
		err = vms_types_enum_value(t, "PIDTYPE_TGID", &v);
		CHECK(!err && v == 1, "btf: enum value PIDTYPE_TGID");
		vms_error_free(err);
		err = vms_types_enum_value(t, "PIDTYPE_MAX", &v);
		CHECK(!err && v == 4, "btf: enum value PIDTYPE_MAX");
		vms_error_free(err);
		err = vms_types_enum_value(t, "NEG_VAL", &v);
		CHECK(!err && v == -3, "btf: negative enum value");
		vms_error_free(err);
		err = vms_types_enum_value(t, "BIG64", &v);
		CHECKD(!err && v == 0x100000005LL, "btf: enum64 value", "%s, %lld",
		       err ? err->message : "ok", (long long)v);
		vms_error_free(err);
		err = vms_types_enum_value(t, "NO_SUCH", &v);
		CHECK(err && err->code == VMS_ERR_NOT_FOUND, "btf: missing enum value -> NOT_FOUND");
		vms_error_free(err);
		vms_types_destroy(t);
	}
	vms_types_destroy(NULL);

	/* Bad blobs are rejected with a message. */
	t = NULL;
	memcpy(c, buf, avail);
	c[0] = 0;
	err = vms_types_from_btf(c, raw_size, &t);
	CHECK(err && err->code == VMS_ERR_FORMAT && err->message[0] && !t,
	      "btf: bad header -> FORMAT");
	vms_error_free(err);
	/* A type with an invalid kind inside a good header. */
	memcpy(c, buf, avail);
	uint32_t hdr_len, type_off;
	memcpy(&hdr_len, c + 4, 4);
	memcpy(&type_off, c + 8, 4);
	c[hdr_len + type_off + 4 + 3] = 0x1f;  /* first type's info: kind 31 */
	err = vms_types_from_btf(c, raw_size, &t);
	CHECK(err && err->code == VMS_ERR_FORMAT && err->message[0],
	      "btf: invalid type kind -> FORMAT from libbpf");
	if (err)
		printf("# %s\n", err->message);
	vms_error_free(err);

	/* An enumerator whose name is outside the string section: libbpf
	 * 1.x loads it; looking enums up must not crash (found by
	 * fuzz_btf).  Run in a child: a NULL strcmp kills the process. */
	memcpy(c, buf, avail);
	int max_off = btf__find_str(b, "PIDTYPE_MAX");
	uint32_t str_len, type_len;
	memcpy(&type_len, c + 12, 4);
	memcpy(&str_len, c + 20, 4);
	bool patched = false;
	for (uint32_t o = 0; max_off > 0 && o + 8 <= type_len; o += 4) {
		uint32_t no, val;
		memcpy(&no, c + hdr_len + type_off + o, 4);
		memcpy(&val, c + hdr_len + type_off + o + 4, 4);
		if (no == (uint32_t)max_off && val == 4) {
			put32(c + hdr_len + type_off + o, str_len + 1000);
			patched = true;
			break;
		}
	}
	CHECK(patched, "btf: patch an enumerator name offset");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct vms_types *bt = NULL;
		if (vms_ok_load(c, raw_size, &bt)) {
			int64_t v;
			vms_error_free(vms_types_enum_value(bt, "NO_SUCH", &v));
			vms_error_free(vms_types_enum_value(bt, "BIG64", &v));
			vms_types_destroy(bt);
		}
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECKD(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       "btf: enum lookup with an enumerator name outside the strings",
	       "child %s %d (NULL from btf__name_by_offset passed to strcmp in vms_types_enum_value)",
	       WIFEXITED(status) ? "exited" : "killed by signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	free(c);
	free(buf);
	btf__free(b);
}

int main(void)
{
	symtab_many();
	symtab_dups();
	btf_tests();
	return CHECK_DONE();
}
