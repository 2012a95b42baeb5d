// SPDX-License-Identifier: LGPL-2.1-or-later
/* The ISF writer's output buffer, JSON text helpers, a string set and the
 * .xz encoder (liblzma). */
#include <lzma.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/isf_priv.h"

static bool grow(struct isf_buf *b, size_t need)
{
	if (b->oom)
		return false;
	if (b->len + need + 1 <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 1 << 20;
	while (cap < b->len + need + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void isf_put(struct isf_buf *b, const char *s, size_t n)
{
	if (!grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void isf_puts(struct isf_buf *b, const char *s)
{
	isf_put(b, s, strlen(s));
}

void isf_putf(struct isf_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof(tmp)) {
		isf_put(b, tmp, (size_t)n);
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

long isf_text_bad(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			return (long)(p - (const unsigned char *)s);
	return -1;
}

void isf_put_str(struct isf_buf *b, const char *s)
{
	isf_put(b, "\"", 1);
	const char *run = s;
	for (; *s; s++) {
		if (*s == '"' || *s == '\\') {
			isf_put(b, run, (size_t)(s - run));
			isf_put(b, "\\", 1);
			run = s;
		}
	}
	isf_put(b, run, (size_t)(s - run));
	isf_put(b, "\"", 1);
}

void isf_put_base64(struct isf_buf *b, const uint8_t *d, size_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	isf_put(b, "\"", 1);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		char q[4] = { tab[v >> 18], tab[(v >> 12) & 63],
			      i + 1 < n ? tab[(v >> 6) & 63] : '=',
			      i + 2 < n ? tab[v & 63] : '=' };
		isf_put(b, q, 4);
	}
	isf_put(b, "\"", 1);
}

static uint64_t hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;  /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool strset_grow(struct isf_strset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	const char **slot = calloc(cap, sizeof(*slot));
	uint32_t *val = calloc(cap, sizeof(*val));
	if (!slot || !val) {
		free(slot);
		free(val);
		return false;
	}
	for (size_t i = 0; i < s->cap; i++) {
		if (!s->slot[i])
			continue;
		size_t j = hash(s->slot[i]) & (cap - 1);
		while (slot[j])
			j = (j + 1) & (cap - 1);
		slot[j] = s->slot[i];
		val[j] = s->val[i];
	}
	free(s->slot);
	free(s->val);
	s->slot = slot;
	s->val = val;
	s->cap = cap;
	return true;
}

int isf_strset_add(struct isf_strset *s, const char *key, uint32_t v, uint32_t *old)
{
	if ((s->used + 1) * 2 > s->cap && !strset_grow(s))
		return -1;
	size_t j = hash(key) & (s->cap - 1);
	while (s->slot[j]) {
		if (!strcmp(s->slot[j], key)) {
			if (old)
				*old = s->val[j];
			return 0;
		}
		j = (j + 1) & (s->cap - 1);
	}
	s->slot[j] = key;
	s->val[j] = v;
	s->used++;
	return 1;
}

bool isf_strset_get(const struct isf_strset *s, const char *key, uint32_t *v)
{
	if (!s->cap)
		return false;
	size_t j = hash(key) & (s->cap - 1);
	while (s->slot[j]) {
		if (!strcmp(s->slot[j], key)) {
			if (v)
				*v = s->val[j];
			return true;
		}
		j = (j + 1) & (s->cap - 1);
	}
	return false;
}

void isf_strset_clear(struct isf_strset *s)
{
	if (s->used && s->cap)
		memset(s->slot, 0, s->cap * sizeof(*s->slot));
	s->used = 0;
}

void isf_strset_free(struct isf_strset *s)
{
	free(s->slot);
	free(s->val);
	*s = (struct isf_strset){ 0 };
}

struct vms_error *vms_isf_xz(const void *data, size_t len, uint8_t **out, size_t *out_len)
{
	size_t cap = lzma_stream_buffer_bound(len);
	uint8_t *buf = malloc(cap);
	if (!buf)
		return &vms_error_nomem;
	size_t pos = 0;
	/* Preset 1: a symbol table still compresses about 12:1, in about a second
	 * rather than the 13 s (and 150 MB) of xz's default 6; CRC64 as xz writes. */
	lzma_ret r = lzma_easy_buffer_encode(1, LZMA_CHECK_CRC64, NULL, data, len,
					     buf, &pos, cap);
	if (r != LZMA_OK) {
		free(buf);
		return vms_error_create(r == LZMA_MEM_ERROR ? VMS_ERR_NOMEM : VMS_ERR_INVALID,
					"liblzma could not compress %zu bytes (lzma_ret %d)",
					len, (int)r);
	}
	*out = buf;
	*out_len = pos;
	return NULL;
}
