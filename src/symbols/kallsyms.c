// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Recover the kernel's kallsyms tables from its image in memory, with no
 * System.map.  Layout written by scripts/kallsyms.c; each table starts
 * 8-byte aligned:
 *   up to 6.3:  offsets, relative_base, num_syms, names, markers,
 *               [seqs_of_names], token_table, token_index
 *   6.4 on:     num_syms, names, markers, token_table, token_index,
 *               offsets, relative_base, seqs_of_names
 * The token table is found by its digit tokens ("0".."9" keep their own
 * byte value), the rest by walking outwards from it and checking every
 * table against the others (markers vs decoded names, sorted addresses).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

#include "symbols/kallsyms.h"
#include "util/bytes.h"

#define MAX_TOKEN_LEN 256      /* bytes of one token, NUL excluded */
#define MAX_ENTRY_LEN 1024     /* compressed bytes of one names entry */
#define MAX_NAME_LEN VMS_KSYMS_MAX_NAME  /* expanded symbol name */
#define MAX_SYMS (1u << 24)
#define MARKER_SCAN_BACK (8u << 20)

struct kimg {
	const uint8_t *p;
	size_t len;
	uint64_t vaddr;
};

static bool in_img(const struct kimg *k, size_t off, size_t n)
{
	return off <= k->len && n <= k->len - off;
}

static size_t align8(const struct kimg *k, size_t off)
{
	uint64_t a = (k->vaddr + off + 7) & ~7ULL;
	return (size_t)(a - k->vaddr);
}

static bool is_aligned8(const struct kimg *k, size_t off)
{
	return ((k->vaddr + off) & 7) == 0;
}

struct tokens {
	size_t table;        /* offset of token_table */
	size_t index;        /* offset of token_index */
	uint16_t off[256];   /* offset of each token in the table */
	uint8_t len[256];
};

/*
 * @hit is the "0" token (index 0x30).  Walk forward to the end of token
 * 255; token_index follows, 8-aligned, and its entry 0x30 gives the
 * table's start.  (Walking backwards instead would need a NUL before token
 * 0, and the byte there belongs to the previous table.)
 */
static bool check_token_table(const struct kimg *k, size_t hit, struct tokens *t)
{
	size_t pos = hit;
	for (int i = '0'; i < 256; i++) {
		size_t n = 0;
		while (pos + n < k->len && k->p[pos + n])
			if (++n > MAX_TOKEN_LEN)
				return false;
		if (pos + n >= k->len)
			return false;
		pos += n + 1;
	}
	size_t idx = align8(k, pos);
	if (!in_img(k, idx, 512))
		return false;
	size_t rel0 = vms_le16(k->p + idx + 2 * '0');
	if (rel0 > hit || vms_le16(k->p + idx) != 0)
		return false;
	size_t start = hit - rel0;
	pos = start;
	for (int i = 0; i < 256; i++) {
		if (pos - start > 0xffff || vms_le16(k->p + idx + 2 * i) != pos - start)
			return false;
		t->off[i] = (uint16_t)(pos - start);
		size_t n = 0;
		/* Tokens are pieces of symbol names and type letters: printable
		 * ASCII only.  Anything else is another table, or a corrupt one
		 * (whose names would carry control bytes to a terminal). */
		while (pos + n < k->len && k->p[pos + n]) {
			if (k->p[pos + n] < 0x21 || k->p[pos + n] > 0x7e || ++n > MAX_TOKEN_LEN)
				return false;
		}
		if (pos + n >= k->len || n > 255)
			return false;
		t->len[i] = (uint8_t)n;
		pos += n + 1;
	}
	if (align8(k, pos) != idx)
		return false;
	t->table = start;
	t->index = idx;
	return true;
}

static bool find_tokens(const struct kimg *k, size_t scan_start,
			size_t scan_end, struct tokens *t)
{
	static const char digits[20] = { '0', 0, '1', 0, '2', 0, '3', 0, '4', 0,
					 '5', 0, '6', 0, '7', 0, '8', 0, '9', 0 };
	size_t pos = scan_start;
	while (pos < scan_end) {
		const uint8_t *hit = memmem(k->p + pos, scan_end - pos, digits,
					    sizeof(digits));
		if (!hit)
			return false;
		size_t h = (size_t)(hit - k->p);
		if (check_token_table(k, h, t))
			return true;
		pos = h + 1;
	}
	return false;
}

/* Length of one names entry at @off (length prefix included), 0 if bad. */
static size_t entry_size(const struct kimg *k, size_t off, size_t limit,
			 size_t *hdr, size_t *len)
{
	if (off >= limit)
		return 0;
	size_t n = k->p[off], h = 1;
	if (n & 0x80) {  /* "big symbol" (6.1+): two-byte length */
		if (off + 1 >= limit)
			return 0;
		n = (n & 0x7f) | ((size_t)k->p[off + 1] << 7);
		h = 2;
	}
	if (n == 0 || n > MAX_ENTRY_LEN || n > limit - off - h)
		return 0;
	*hdr = h;
	*len = n;
	return h + n;
}

struct markers {
	size_t start;     /* offset of markers[0] */
	size_t count;
	unsigned esz;     /* 4 (u32) or 8 (unsigned long, old kernels) */
};

static uint64_t marker_at(const struct kimg *k, const struct markers *m,
			  size_t i)
{
	const uint8_t *p = k->p + m->start + i * m->esz;
	return m->esz == 4 ? vms_le32(p) : vms_le64(p);
}

/* Decode-walk @num entries from @names and check them against the markers;
 * returns the end offset or 0. */
static size_t walk_names(const struct kimg *k, size_t names, uint64_t num,
			 const struct markers *m, size_t limit)
{
	size_t off = names;
	for (uint64_t i = 0; i < num; i++) {
		if (i % 256 == 0) {
			size_t mi = (size_t)(i / 256);
			if (mi >= m->count || marker_at(k, m, mi) != off - names)
				return 0;
		}
		size_t hdr, len, sz = entry_size(k, off, limit, &hdr, &len);
		if (!sz)
			return 0;
		off += sz;
	}
	return off;
}

struct layout {
	size_t names, num_slot, offsets;
	uint64_t num, relative_base;
	int kind;
	int absolute_percpu;
};

/* Given a candidate markers array, find num_syms and names before it. */
static bool find_names(const struct kimg *k, const struct markers *m,
		       size_t tt, struct layout *lay)
{
	uint64_t last = marker_at(k, m, m->count - 1);
	if (last >= m->start)
		return false;
	size_t hi = m->start - (size_t)last;  /* names start below this */
	size_t window = 256 * (MAX_ENTRY_LEN + 2) + 16;
	size_t lo = hi > window ? hi - window : 0;
	uint64_t nmin = 256 * (uint64_t)(m->count - 1) + 1, nmax = 256 * (uint64_t)m->count;
	for (size_t q = hi >= 4 ? hi - 4 : 0; q >= lo && q + 4 <= k->len; q--) {
		if (((k->vaddr + q) & 3) != 0)
			goto next;
		uint32_t v = vms_le32(k->p + q);
		if (v < nmin || v > nmax)
			goto next;
		size_t cands[2] = { q + 4, align8(k, q + 4) };
		for (int c = 0; c < 2; c++) {
			if (c == 1 && cands[1] == cands[0])
				break;
			size_t end = walk_names(k, cands[c], v, m, m->start);
			if (!end)
				continue;
			/* names end where markers start (after padding), and the
			 * markers (plus seqs_of_names, if present) reach tt. */
			if (align8(k, end) != m->start)
				continue;
			size_t mend = align8(k, m->start + m->count * m->esz);
			if (mend != tt && align8(k, mend + 3 * (size_t)v) != tt)
				continue;
			lay->names = cands[c];
			lay->num_slot = q;
			lay->num = v;
			return true;
		}
next:
		if (q == 0)
			break;
	}
	return false;
}

/* Candidate marker arrays tried before giving up: bounds the work on
 * hostile images full of zeros before a token table. */
#define MAX_MARKER_CANDIDATES 64

static bool find_markers_and_names(const struct kimg *k, size_t tt,
				   struct layout *lay)
{
	size_t lo = tt > MARKER_SCAN_BACK ? tt - MARKER_SCAN_BACK : 0;
	unsigned tried = 0;
	for (unsigned esz = 4; esz <= 8; esz += 4) {
		if (tt < esz + 8)
			continue;
		size_t top = tt - esz;
		top -= (k->vaddr + top) & 7;  /* markers start 8-byte aligned */
		for (size_t p = top; p >= lo && p > 0; p -= 8) {
			struct markers m = { p, 0, esz };
			if ((esz == 4 ? vms_le32(k->p + p) : vms_le64(k->p + p)) != 0)
				continue;
			uint64_t prev = 0;
			size_t n = 1;
			while (p + (n + 1) * esz <= tt) {
				m.count = n + 1;
				uint64_t v = marker_at(k, &m, n);
				if (v <= prev || v - prev > 256 * (MAX_ENTRY_LEN + 2))
					break;
				prev = v;
				n++;
			}
			/* A real kernel has more than 256 symbols: at least two
			 * markers.  A lone zero is padding or data. */
			if (n >= 2) {
				if (++tried > MAX_MARKER_CANDIDATES)
					return false;
				for (size_t c = n; c >= 2 && c + 4 > n; c--) {
					m.count = c;
					if (find_names(k, &m, tt, lay))
						return true;
				}
			}
			if (p < 8)
				break;
		}
	}
	return false;
}

static bool plausible_base(const struct kimg *k, uint64_t rb)
{
	/* relative_base is _text (or close): a kernel-half address near the image. */
	if (!(rb >> 63))
		return false;
	uint64_t lo = k->vaddr > (1ULL << 30) ? k->vaddr - (1ULL << 30) : 0;
	return rb >= lo && rb - lo <= (2ULL << 30) + k->len;
}

static uint64_t sym_addr(const struct kimg *k, const struct layout *lay,
			 uint64_t i, bool *absolute)
{
	int32_t off = (int32_t)vms_le32(k->p + lay->offsets + 4 * i);
	if (lay->absolute_percpu) {
		*absolute = off >= 0;
		if (off >= 0)
			return (uint64_t)off;
		return lay->relative_base - 1 - (int64_t)off;
	}
	*absolute = false;
	return lay->relative_base + (uint32_t)off;
}

/* Addresses of non-absolute symbols must be sorted. */
static bool check_offsets(const struct kimg *k, struct layout *lay)
{
	if (!in_img(k, lay->offsets, 4 * (size_t)lay->num))
		return false;
	lay->absolute_percpu = 0;
	for (uint64_t i = 0; i < lay->num; i++)
		if ((int32_t)vms_le32(k->p + lay->offsets + 4 * i) < 0) {
			lay->absolute_percpu = 1;
			break;
		}
	uint64_t prev = 0;
	size_t relative = 0;
	for (uint64_t i = 0; i < lay->num; i++) {
		bool abs;
		uint64_t a = sym_addr(k, lay, i, &abs);
		if (abs)
			continue;
		if (relative && a < prev)
			return false;
		prev = a;
		relative++;
	}
	return relative > 0;
}

static bool find_offsets(const struct kimg *k, const struct tokens *t,
			 struct layout *lay)
{
	/* 6.4+: offsets and relative_base follow token_index. */
	size_t off2 = align8(k, t->index + 512);
	size_t rb2 = align8(k, off2 + 4 * (size_t)lay->num);
	if (in_img(k, rb2, 8) && plausible_base(k, vms_le64(k->p + rb2))) {
		lay->offsets = off2;
		lay->relative_base = vms_le64(k->p + rb2);
		lay->kind = 2;
		if (check_offsets(k, lay))
			return true;
	}
	/* Up to 6.3: offsets, relative_base, then num_syms. */
	if (lay->num_slot >= 8 + 4 * lay->num) {
		size_t rb1 = lay->num_slot - 8;
		size_t off1 = rb1 - 4 * (size_t)lay->num;
		if (!is_aligned8(k, off1))
			off1 -= 4;
		if (is_aligned8(k, rb1) && in_img(k, rb1, 8) &&
		    plausible_base(k, vms_le64(k->p + rb1))) {
			lay->offsets = off1;
			lay->relative_base = vms_le64(k->p + rb1);
			lay->kind = 1;
			if (check_offsets(k, lay))
				return true;
		}
	}
	return false;
}

/* The entry's header (1 or 2 length bytes) and length; checked when added. */
static const uint8_t *entry_tokens(const struct vms_ksyms *ks, uint32_t entry,
				   size_t *len)
{
	const uint8_t *p = ks->img + ks->names + entry;
	if (p[0] & 0x80) {
		*len = (p[0] & 0x7fu) | ((size_t)p[1] << 7);
		return p + 2;
	}
	*len = p[0];
	return p + 1;
}

size_t vms_ksyms_expand(const struct vms_ksyms *ks, uint32_t entry, char *out)
{
	size_t len, n = 0;
	const uint8_t *tok = entry_tokens(ks, entry, &len);
	for (size_t i = 0; i < len; i++) {
		size_t tl = ks->tok_len[tok[i]];
		if (n + tl >= MAX_NAME_LEN)
			tl = MAX_NAME_LEN - 1 - n;
		memcpy(out + n, ks->img + ks->token_table + ks->tok_off[tok[i]], tl);
		n += tl;
	}
	out[n] = '\0';
	return n;
}

char vms_ksyms_first(const struct vms_ksyms *ks, uint32_t entry)
{
	size_t len;
	const uint8_t *tok = entry_tokens(ks, entry, &len);
	for (size_t i = 0; i < len; i++)
		if (ks->tok_len[tok[i]])
			return (char)ks->img[ks->token_table + ks->tok_off[tok[i]]];
	return '\0';
}

uint64_t vms_ksyms_addr(const struct vms_ksyms *ks, uint32_t j, bool *absolute)
{
	int32_t off = (int32_t)vms_le32(ks->img + ks->offsets + 4 * (size_t)j);
	if (ks->absolute_percpu) {
		*absolute = off >= 0;
		if (off >= 0)
			return (uint64_t)off;
		return ks->relative_base - 1 - (int64_t)off;
	}
	*absolute = false;
	return ks->relative_base + (uint32_t)off;
}

/* Each token's share of the name hash (kallsyms.h), whole and without its
 * first byte (the type letter, when the token starts a name). */
struct tokhash {
	uint64_t h[256], mul[256];
	uint64_t h1[256], mul1[256];
	size_t min_len, max_len;   /* of the 256 tokens */
};

static void tokhash_init(const struct kimg *k, const struct tokens *t,
			 struct tokhash *th)
{
	th->min_len = 255;
	th->max_len = 0;
	for (int i = 0; i < 256; i++) {
		if (t->len[i] < th->min_len)
			th->min_len = t->len[i];
		if (t->len[i] > th->max_len)
			th->max_len = t->len[i];
		const uint8_t *p = k->p + t->table + t->off[i];
		uint64_t h = 0, m = 1, h1 = 0, m1 = 1;
		for (size_t b = 0; b < t->len[i]; b++) {
			h = h * VMS_SYMHASH_MUL + p[b];
			m *= VMS_SYMHASH_MUL;
			if (b) {
				h1 = h1 * VMS_SYMHASH_MUL + p[b];
				m1 *= VMS_SYMHASH_MUL;
			}
		}
		th->h[i] = h;
		th->mul[i] = m;
		th->h1[i] = h1;
		th->mul1[i] = m1;
	}
}

/*
 * Hash the name of an entry (type letter left out) without expanding it,
 * and give its expanded length (type letter included), as expand would:
 * the bytes past MAX_NAME_LEN - 1 are cut.
 */
static uint32_t hash_entry(const struct kimg *k, const struct tokens *t,
			   const struct tokhash *th, size_t entry, size_t hdr,
			   size_t len, size_t *n_out)
{
	uint64_t h = 0;
	size_t n = 0;
	const uint8_t *toks = k->p + entry + hdr;
	if (th->min_len && len * th->max_len < MAX_NAME_LEN) {
		/* No empty token, no cut: the common case, one step a token. */
		h = th->h1[toks[0]];
		n = t->len[toks[0]];
		for (size_t i = 1; i < len; i++) {
			h = h * th->mul[toks[i]] + th->h[toks[i]];
			n += t->len[toks[i]];
		}
		*n_out = n;
		return (uint32_t)(vms_symhash_final(h, n - 1) >> 32);
	}
	for (size_t i = 0; i < len; i++) {
		uint8_t tok = toks[i];
		size_t tl = t->len[tok];
		if (!tl)
			continue;
		if (n + tl >= MAX_NAME_LEN) {  /* cut: byte by byte */
			const uint8_t *p = k->p + t->table + t->off[tok];
			for (size_t b = 0; n + b < MAX_NAME_LEN - 1; b++)
				if (n + b)
					h = h * VMS_SYMHASH_MUL + p[b];
			n = MAX_NAME_LEN - 1;
			break;
		}
		if (n)
			h = h * th->mul[tok] + th->h[tok];
		else
			h = h * th->mul1[tok] + th->h1[tok];
		n += tl;
	}
	*n_out = n;
	return (uint32_t)(vms_symhash_final(h, n ? n - 1 : 0) >> 32);
}

/* Index every entry of the validated tables for the symbol table: where
 * its name is and its hash; nothing is expanded. */
static struct vms_error *add_symbols(const struct kimg *k, const struct tokens *t,
				     const struct layout *lay, struct vms_symtab *tab,
				     size_t *end)
{
	struct tokhash th;
	tokhash_init(k, t, &th);
	uint32_t *ent = malloc((size_t)(lay->num ? lay->num : 1) * sizeof(*ent));
	uint32_t *hash = malloc((size_t)(lay->num ? lay->num : 1) * sizeof(*hash));
	uint32_t *idx = NULL;
	size_t n = 0, off = lay->names;
	struct vms_error *err = NULL;
	if (!ent || !hash) {
		err = &vms_error_nomem;
		goto fail;
	}
	for (uint64_t i = 0; i < lay->num; i++) {
		size_t hdr, elen, sz = entry_size(k, off, k->len, &hdr, &elen);
		if (!sz || off - lay->names > UINT32_MAX) {  /* walk_names checked this */
			err = vms_error_create(VMS_ERR_CORRUPT,
				"kallsyms names entry %llu at 0x%llx is malformed",
				(unsigned long long)i,
				(unsigned long long)(k->vaddr + off));
			goto fail;
		}
		size_t len;
		uint32_t h = hash_entry(k, t, &th, off, hdr, elen, &len);
		if (len < 2) {
			/* No name: no symbol.  From here on symbol and table
			 * indexes differ. */
			if (!idx) {
				if (!(idx = malloc((size_t)lay->num * sizeof(*idx)))) {
					err = &vms_error_nomem;
					goto fail;
				}
				for (size_t j = 0; j < n; j++)
					idx[j] = (uint32_t)j;
			}
		} else {
			ent[n] = (uint32_t)(off - lay->names);
			hash[n] = h;
			if (idx)
				idx[n] = (uint32_t)i;
			n++;
		}
		off += sz;
	}
	*end = off;
	struct vms_ksyms ks = {
		.img = k->p,
		.len = k->len,
		.names = lay->names,
		.offsets = lay->offsets,
		.token_table = t->table,
		.relative_base = lay->relative_base,
		.absolute_percpu = lay->absolute_percpu,
	};
	memcpy(ks.tok_off, t->off, sizeof(ks.tok_off));
	memcpy(ks.tok_len, t->len, sizeof(ks.tok_len));
	return vms_symtab_add_kallsyms(tab, &ks, n, ent, idx, hash);
fail:
	free(ent);
	free(hash);
	free(idx);
	return err;
}

struct vms_error *vms_kallsyms_recover(const uint8_t *img, size_t len,
				       uint64_t img_vaddr, size_t scan_start,
				       size_t scan_end, struct vms_symtab *tab,
				       struct vms_kallsyms_info *info)
{
	struct kimg k = { img, len, img_vaddr };
	if (scan_end > len)
		scan_end = len;
	if (scan_start > scan_end)
		scan_start = scan_end;
	struct tokens t;
	if (!find_tokens(&k, scan_start, scan_end, &t))
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"kallsyms token table not found in the kernel image at 0x%llx-0x%llx (searched 0x%zx bytes for the digit tokens \"0\"..\"9\")",
			(unsigned long long)img_vaddr,
			(unsigned long long)(img_vaddr + len),
			scan_end - scan_start);
	struct layout lay = { 0 };
	if (!find_markers_and_names(&k, t.table, &lay))
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"kallsyms token table found at 0x%llx, but no kallsyms_markers/kallsyms_names before it agree with it",
			(unsigned long long)(img_vaddr + t.table));
	if (lay.num > MAX_SYMS)
		return vms_error_create(VMS_ERR_CORRUPT,
			"kallsyms_num_syms at 0x%llx is %llu: too many",
			(unsigned long long)(img_vaddr + lay.num_slot),
			(unsigned long long)lay.num);
	if (!find_offsets(&k, &t, &lay))
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"kallsyms names found at 0x%llx (%llu symbols), but no kallsyms_offsets/kallsyms_relative_base beside them give sorted addresses",
			(unsigned long long)(img_vaddr + lay.names),
			(unsigned long long)lay.num);
	size_t off;
	struct vms_error *err = add_symbols(&k, &t, &lay, tab, &off);
	if (err)
		return err;
	if (info) {
		*info = (struct vms_kallsyms_info){
			.num_syms = lay.num,
			.relative_base = lay.relative_base,
			.names_vaddr = img_vaddr + lay.names,
			.markers_vaddr = img_vaddr + align8(&k, lay.names), /* refined below */
			.token_table_vaddr = img_vaddr + t.table,
			.token_index_vaddr = img_vaddr + t.index,
			.offsets_vaddr = img_vaddr + lay.offsets,
			.layout = lay.kind,
			.absolute_percpu = lay.absolute_percpu,
		};
		info->markers_vaddr = img_vaddr + align8(&k, off);
	}
	return NULL;
}
