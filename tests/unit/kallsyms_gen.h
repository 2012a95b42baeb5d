/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Synthetic kallsyms tables, laid out as scripts/kallsyms.c writes them,
 * for unit tests and fuzzing.  Every table starts 8-byte aligned:
 *   layout 1 (<= 6.3): offsets, relative_base, num_syms, names, markers,
 *                      [seqs_of_names], token_table, token_index
 *   layout 2 (6.4+):   num_syms, names, markers, token_table, token_index,
 *                      offsets, relative_base, seqs_of_names
 * The tables sit inside an image of pseudo-random junk (mapped at
 * KGEN_VADDR) that also holds a decoy "0\0" "1\0" ... "9\0" run which is
 * not a token table.
 *
 * Token table: printable bytes 0x21..0x7e are tokens of their own value;
 * 0x80 "sym_", 0x81 "_fn", 0x82 "tsym_" (a type letter merged into a
 * token), 0x83 "per_cpu_"; every other byte is an unused filler token
 * "~XX".  Names are compressed greedily with those tokens.
 */
#ifndef VMSIGHT_TEST_KALLSYMS_GEN_H
#define VMSIGHT_TEST_KALLSYMS_GEN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KGEN_VADDR 0xffffffff81000000ULL
#define KGEN_NAME_MAX 256

struct kgen_opts {
	int layout;         /* 1 or 2 */
	bool seqs;          /* layout 1: kallsyms_seqs_of_names present (6.2/6.3) */
	bool abs_percpu;    /* KALLSYMS_ABSOLUTE_PERCPU offsets */
	bool big_symbol;    /* one names entry >= 128 bytes (two-byte length) */
	bool markers8;      /* layout 1: 8-byte markers (older kernels) */
	unsigned nsyms;     /* total symbols, per-CPU ones included */
	size_t img_len;     /* bytes of image (junk around the tables) */
	size_t table_off;   /* where the first table starts (8-aligned) */
	uint64_t seed;      /* junk */
	/* Rename the last symbols (type 'D'), e.g. "init_task" for a
	 * synthetic guest. */
	const char *const *last_names;
	unsigned nr_last_names;
};

struct kgen_sym {
	uint64_t addr;
	char type;          /* letter encoded in the names table */
	char expect_type;   /* what recovery must report ('A' for per-CPU) */
	bool absolute;      /* per-CPU absolute in abs_percpu mode */
	char name[KGEN_NAME_MAX];
};

struct kgen {
	struct kgen_opts o;
	uint8_t *img;
	size_t len;
	uint64_t vaddr;
	struct kgen_sym *syms;
	unsigned n;
	unsigned nr_percpu;
	uint64_t relative_base;
	/* Offsets in img of each table. */
	size_t offsets, relative_base_off, num_syms_off, names, names_end,
	       markers, nr_markers, seqs, token_table, token_index, end;
	/* Special symbols, by index (UINT32_MAX when absent). */
	unsigned dup_local, dup_global, dup_local2, abs_in_text, big;
	const char *tokens[256];
	char token_store[256][8];
};

static inline uint64_t kgen_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

static inline size_t kgen_align8(size_t x)
{
	return (x + 7) & ~(size_t)7;
}

/* Zero-fill up to the next 8-byte boundary, as .balign 8 does in .rodata. */
static inline size_t kgen_pad(uint8_t *img, size_t pos)
{
	while (pos & 7)
		img[pos++] = 0;
	return pos;
}

static inline void kgen_put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void kgen_put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline void kgen_tokens(struct kgen *g)
{
	for (int b = 0; b < 256; b++) {
		if (b >= 0x21 && b <= 0x7e) {
			g->token_store[b][0] = (char)b;
			g->token_store[b][1] = 0;
		} else {
			snprintf(g->token_store[b], sizeof(g->token_store[b]),
				 "~%02x", b);
		}
		g->tokens[b] = g->token_store[b];
	}
	g->tokens[0x80] = "sym_";
	g->tokens[0x81] = "_fn";
	g->tokens[0x82] = "tsym_";
	g->tokens[0x83] = "per_cpu_";
}

/* Compress type letter + name into @out; returns the number of bytes. */
static inline size_t kgen_compress(const struct kgen *g, char type,
				   const char *name, uint8_t *out)
{
	char full[KGEN_NAME_MAX + 2];
	snprintf(full, sizeof(full), "%c%s", type, name);
	size_t n = 0, i = 0, len = strlen(full);
	while (i < len) {
		int best = -1;
		size_t best_len = 1;
		for (int t = 0x80; t <= 0x83; t++) {
			size_t tl = strlen(g->tokens[t]);
			if (tl > best_len && i + tl <= len &&
			    !memcmp(full + i, g->tokens[t], tl)) {
				best = t;
				best_len = tl;
			}
		}
		out[n++] = best >= 0 ? (uint8_t)best : (uint8_t)full[i];
		i += best_len;
	}
	return n;
}

static inline void kgen_make_syms(struct kgen *g)
{
	unsigned n = g->o.nsyms;
	g->syms = calloc(n, sizeof(*g->syms));
	g->n = n;
	g->dup_local = g->dup_global = g->dup_local2 = UINT32_MAX;
	g->abs_in_text = g->big = UINT32_MAX;
	unsigned i = 0;
	g->nr_percpu = 0;
	if (g->o.abs_percpu) {
		static const char *const pcpu[] = { "fixed_percpu_data",
			"per_cpu_runqueues", "per_cpu_current_task", "per_cpu_hrtimer_bases" };
		for (unsigned j = 0; j < 4; j++, i++) {
			struct kgen_sym *s = &g->syms[i];
			s->addr = 0x1000ULL * j + (j ? 0x80 : 0);
			/* scripts/kallsyms rewrites per-CPU types to 'A'; one
			 * keeps its section letter to check the override. */
			s->type = j == 2 ? 'd' : 'A';
			s->expect_type = 'A';
			s->absolute = true;
			snprintf(s->name, sizeof(s->name), "%s", pcpu[j]);
		}
		g->nr_percpu = 4;
	}
	uint64_t addr = KGEN_VADDR;
	for (unsigned k = 0; i < n; i++, k++) {
		struct kgen_sym *s = &g->syms[i];
		if (k) {
			addr += 0x10 + ((k * 37) % 32) * 0x10;
		}
		s->addr = addr;
		if (k == 0) {
			s->type = 'T';
			snprintf(s->name, sizeof(s->name), "_text");
		} else if (k == 100) {
			s->type = 't';
			snprintf(s->name, sizeof(s->name), "dup_name");
			g->dup_local = i;
		} else if (k == 101) {
			s->type = 'T';
			snprintf(s->name, sizeof(s->name), "dup_name");
			g->dup_global = i;
		} else if (k == 102) {
			s->type = 'd';
			snprintf(s->name, sizeof(s->name), "dup_name");
			g->dup_local2 = i;
		} else if (k == 300) {
			s->type = 'A';
			snprintf(s->name, sizeof(s->name), "abs_in_text");
			g->abs_in_text = i;
		} else if (k == 400 && g->o.big_symbol) {
			s->type = 'T';
			memcpy(s->name, "big_", 4);
			memset(s->name + 4, 'x', 180);
			memcpy(s->name + 184, "_end", 5);
			g->big = i;
		} else {
			switch (k % 6) {
			case 0: s->type = 'T'; snprintf(s->name, sizeof(s->name), "sym_%u_fn", k); break;
			case 1: s->type = 't'; snprintf(s->name, sizeof(s->name), "sym_local_%u", k); break;
			case 2: s->type = 'D'; snprintf(s->name, sizeof(s->name), "data_obj%u", k); break;
			case 3: s->type = 'b'; snprintf(s->name, sizeof(s->name), "bss_%u_fn_x", k); break;
			case 4: s->type = 'R'; snprintf(s->name, sizeof(s->name), "ro_%u", k); break;
			default: s->type = 'W'; snprintf(s->name, sizeof(s->name), "weak_Sym%u", k); break;
			}
		}
		s->expect_type = s->type;
	}
	for (unsigned j = 0; j < g->o.nr_last_names && j < n - g->nr_percpu - 1; j++) {
		struct kgen_sym *s = &g->syms[n - g->o.nr_last_names + j];
		s->type = s->expect_type = 'D';
		snprintf(s->name, sizeof(s->name), "%s", g->o.last_names[j]);
	}
}

static const struct kgen *kgen_sort_ctx;
static inline int kgen_seq_cmp(const void *a, const void *b)
{
	const struct kgen *g = kgen_sort_ctx;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int c = strcmp(g->syms[x].name, g->syms[y].name);
	if (c)
		return c;
	return x < y ? -1 : x > y;
}

/* Write tokens into img at @pos; returns the end, fills token offsets. */
static inline size_t kgen_write_tokens(struct kgen *g, size_t pos)
{
	uint16_t off[256];
	g->token_table = pos;
	for (int b = 0; b < 256; b++) {
		size_t l = strlen(g->tokens[b]);
		off[b] = (uint16_t)(pos - g->token_table);
		memcpy(g->img + pos, g->tokens[b], l + 1);
		pos += l + 1;
	}
	pos = kgen_pad(g->img, pos);
	g->token_index = pos;
	for (int b = 0; b < 256; b++)
		memcpy(g->img + pos + 2 * b, &off[b], 2);
	return pos + 512;
}

static inline size_t kgen_write_offsets(struct kgen *g, size_t pos)
{
	g->offsets = pos;
	for (unsigned i = 0; i < g->n; i++) {
		const struct kgen_sym *s = &g->syms[i];
		uint32_t v;
		if (!g->o.abs_percpu)
			v = (uint32_t)(s->addr - g->relative_base);
		else if (s->absolute)
			v = (uint32_t)s->addr;
		else
			v = (uint32_t)(int32_t)(-(int64_t)(s->addr - g->relative_base) - 1);
		kgen_put32(g->img + pos + 4 * i, v);
	}
	pos = kgen_pad(g->img, pos + 4 * (size_t)g->n);
	g->relative_base_off = pos;
	kgen_put64(g->img + pos, g->relative_base);
	return pos + 8;
}

static inline size_t kgen_write_names_markers(struct kgen *g, size_t pos)
{
	g->num_syms_off = pos;
	kgen_put32(g->img + pos, g->n);
	kgen_put32(g->img + pos + 4, 0);
	pos += 8;
	g->names = pos;
	g->nr_markers = (g->n + 255) / 256;
	uint64_t *marks = calloc(g->nr_markers, sizeof(*marks));
	for (unsigned i = 0; i < g->n; i++) {
		if (i % 256 == 0)
			marks[i / 256] = pos - g->names;
		uint8_t buf[KGEN_NAME_MAX + 2];
		size_t l = kgen_compress(g, g->syms[i].type, g->syms[i].name, buf);
		if (l >= 128) {
			g->img[pos++] = (uint8_t)((l & 0x7f) | 0x80);
			g->img[pos++] = (uint8_t)(l >> 7);
		} else {
			g->img[pos++] = (uint8_t)l;
		}
		memcpy(g->img + pos, buf, l);
		pos += l;
	}
	g->names_end = pos;
	pos = kgen_pad(g->img, pos);
	g->markers = pos;
	unsigned esz = g->o.markers8 ? 8 : 4;
	for (size_t m = 0; m < g->nr_markers; m++) {
		if (esz == 8)
			kgen_put64(g->img + pos + 8 * m, marks[m]);
		else
			kgen_put32(g->img + pos + 4 * m, (uint32_t)marks[m]);
	}
	free(marks);
	return pos + esz * g->nr_markers;
}

static inline size_t kgen_write_seqs(struct kgen *g, size_t pos)
{
	uint32_t *idx = malloc(g->n * sizeof(*idx));
	for (unsigned i = 0; i < g->n; i++)
		idx[i] = i;
	kgen_sort_ctx = g;
	qsort(idx, g->n, sizeof(*idx), kgen_seq_cmp);
	g->seqs = pos;
	for (unsigned i = 0; i < g->n; i++) {
		g->img[pos++] = (uint8_t)(idx[i] >> 16);
		g->img[pos++] = (uint8_t)(idx[i] >> 8);
		g->img[pos++] = (uint8_t)idx[i];
	}
	free(idx);
	return pos;
}

/* Junk before the tables: a decoy digit run that is preceded by 48
 * strings and followed by more, but has no token_index after it. */
static inline void kgen_write_decoy(struct kgen *g, size_t pos)
{
	g->img[pos++] = 0;
	for (int i = 0; i < 256; i++) {
		char s[8];
		if (i >= '0' && i <= '9')
			snprintf(s, sizeof(s), "%c", i);
		else
			snprintf(s, sizeof(s), "d%x", i);
		size_t l = strlen(s) + 1;
		memcpy(g->img + pos, s, l);
		pos += l;
	}
}

/* Build the image.  Returns 0 on success. */
static inline int kgen_build(struct kgen *g, const struct kgen_opts *o)
{
	memset(g, 0, sizeof(*g));
	g->o = *o;
	if (!g->o.layout)
		g->o.layout = 1;
	if (g->o.layout == 2)
		g->o.seqs = true;
	if (g->o.nsyms < 8)
		g->o.nsyms = 8;
	if (!g->o.img_len)
		g->o.img_len = 1u << 20;
	if (!g->o.table_off)
		g->o.table_off = 0x8000;
	g->o.table_off = kgen_align8(g->o.table_off);
	g->len = g->o.img_len;
	g->vaddr = KGEN_VADDR;
	g->img = malloc(g->len);
	if (!g->img)
		return -1;
	uint64_t seed = g->o.seed ? g->o.seed : 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < g->len; i++) {
		uint8_t b = (uint8_t)(kgen_rand(&seed) >> 32);
		g->img[i] = b ? b : 0x5a;
	}
	kgen_tokens(g);
	kgen_make_syms(g);
	g->relative_base = g->syms[g->nr_percpu].addr;
	/* Worst case per symbol: 2 + 200 bytes of name, offsets, seqs. */
	size_t need = g->o.table_off + (size_t)g->n * 40 + 16384;
	if (g->o.big_symbol)
		need += 512;
	if (need > g->len || g->o.table_off < 0x1000) {
		free(g->img);
		free(g->syms);
		return -1;
	}
	kgen_write_decoy(g, g->o.table_off / 4);
	size_t pos = g->o.table_off;
	if (g->o.layout == 1) {
		pos = kgen_write_offsets(g, pos);
		pos = kgen_pad(g->img, pos);
		pos = kgen_write_names_markers(g, pos);
		if (g->o.seqs)
			pos = kgen_write_seqs(g, kgen_pad(g->img, pos));
		pos = kgen_write_tokens(g, kgen_pad(g->img, pos));
	} else {
		pos = kgen_write_names_markers(g, pos);
		pos = kgen_write_tokens(g, kgen_pad(g->img, pos));
		pos = kgen_write_offsets(g, kgen_pad(g->img, pos));
		pos = kgen_write_seqs(g, kgen_pad(g->img, pos));
	}
	g->end = kgen_pad(g->img, pos);
	return 0;
}

static inline void kgen_free(struct kgen *g)
{
	free(g->img);
	free(g->syms);
	g->img = NULL;
	g->syms = NULL;
}

#endif
