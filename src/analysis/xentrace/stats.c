// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Duration buckets and the two percentile estimators of xenalyze:
 * a count percentile (element of rank N*p/100) and a self-weighted one
 * (value where the running sum of values reaches p% of the total, found by
 * a weighted partition search whose bookkeeping we reproduce so that the
 * printed numbers agree with xenalyze's).
 */
#include <stdbool.h>
#include <stdlib.h>

#include "xt_priv.h"

/* Widen a bucket's samples to 64 bits, keeping their order. */
static bool widen(struct xt_sum *s)
{
	if (!s->sample_size) {
		s->wide = true;
		return true;
	}
	int64_t *w = malloc((size_t)s->sample_size * sizeof(*w));
	if (!w)
		return false;
	uint32_t n = s->count < s->sample_size ? s->count : s->sample_size;
	const uint32_t *o = s->sample;
	for (uint32_t i = 0; i < n; i++)
		w[i] = o[i];
	free(s->sample);
	s->sample = w;
	s->wide = true;
	return true;
}

static void put(struct xt_sum *s, uint32_t i, uint64_t c)
{
	if (s->wide)
		((int64_t *)s->sample)[i] = (int64_t)c;
	else
		((uint32_t *)s->sample)[i] = (uint32_t)c;
}

/* The path of xt_sum_add() that grows, widens or subsamples. */
void xt_sum_add_slow(struct xt_sum *s, uint64_t c, const struct xt_cfg_samples *cfg)
{
	s->event_count++;
	if (!c)
		return;
	if (cfg->size > 0) {
		if (c > UINT32_MAX && !s->wide && !widen(s)) {
			/* no memory: the samples stay narrow, this one is
			 * not kept (counts and sums stay exact) */
			s->count++;
			s->cycles += c;
			s->interval_cycles += c;
			return;
		}
		bool may_grow = s->count == 0 || cfg->max == 0 ||
				s->sample_size < (uint32_t)cfg->max;
		if (s->count >= s->sample_size && may_grow) {
			uint64_t want = s->sample_size ? (uint64_t)s->sample_size * 2
						       : (uint64_t)cfg->size;
			if (cfg->max && want > (uint64_t)cfg->max)
				want = (uint64_t)cfg->max;
			void *n = realloc(s->sample, (size_t)want * (s->wide ? 8 : 4));
			if (n) {
				s->sample = n;
				s->sample_size = (uint32_t)want;
			}
		}
		if (s->count < s->sample_size) {
			put(s, s->count, c);
		} else if (s->sample_size) {
			/* Deterministic subsample once the cap is reached:
			 * lap k keeps every k-th slot, shifted by k/3. */
			int64_t lap = s->count / s->sample_size + 1;
			int64_t idx = s->count % s->sample_size;
			if ((idx - lap / 3) % lap == 0)
				put(s, (uint32_t)idx, c);
		}
	}
	s->count++;
	s->cycles += c;
	s->interval_cycles += c;
}

void xt_sum_free(struct xt_sum *s)
{
	free(s->sample);
	s->sample = NULL;
	s->sample_size = 0;
}

/* Wirth's selection of the k-th smallest element of a[lo..hi]; on return
 * a[lo..k-1] <= a[k] <= a[k+1..hi]. */
#define DEFINE_SELECT(NAME, T)							\
static T NAME(T *a, int64_t lo, int64_t hi, int64_t k)			\
{										\
	while (lo < hi) {							\
		T pivot = a[k];							\
		int64_t i = lo, j = hi;						\
		while (i <= j) {						\
			while (a[i] < pivot)					\
				i++;						\
			while (pivot < a[j])					\
				j--;						\
			if (i <= j) {						\
				T t = a[i];					\
				a[i] = a[j];					\
				a[j] = t;					\
				i++;						\
				j--;						\
			}							\
		}								\
		if (j < k)							\
			lo = i;							\
		if (k < i)							\
			hi = j;							\
	}									\
	return a[k];								\
}
DEFINE_SELECT(select_kth, int64_t)
DEFINE_SELECT(select_kth32, uint32_t)

/* The 5th, 50th and 95th count percentiles (ranks n*p/100) of 32-bit
 * samples by two counting passes: the high 16 bits, then the low 16 bits
 * of the values in the three chosen high buckets.  It reads the samples
 * as a stream, without the unpredictable branches of a partition; the
 * values are the same order statistics. */
static bool radix3(const uint32_t *a, uint32_t n, const uint64_t k[3], int64_t out[3])
{
	uint32_t *hi = calloc(65536, sizeof(*hi));
	uint32_t *lo = calloc(3 * 65536, sizeof(*lo));
	if (!hi || !lo) {
		free(hi);
		free(lo);
		return false;
	}
	for (uint32_t i = 0; i < n; i++)
		hi[a[i] >> 16]++;
	uint32_t b[3], r[3];
	uint64_t cum = 0;
	int q = 0;
	for (uint32_t h = 0; h < 65536 && q < 3; h++) {
		while (q < 3 && k[q] < cum + hi[h]) {
			b[q] = h;
			r[q] = (uint32_t)(k[q] - cum);
			q++;
		}
		cum += hi[h];
	}
	/* q == 3: every k < n */
	for (uint32_t i = 0; i < n; i++) {
		uint32_t v = a[i], h = v >> 16;
		if (h == b[0])
			lo[v & 0xffff]++;
		else if (h == b[1])
			lo[65536 + (v & 0xffff)]++;
		else if (h == b[2])
			lo[2 * 65536 + (v & 0xffff)]++;
	}
	for (int j = 0; j < 3; j++) {
		/* the histogram of the first query with the same bucket */
		int src = b[j] == b[0] ? 0 : b[j] == b[1] ? 1 : 2;
		const uint32_t *l = lo + (size_t)src * 65536;
		uint64_t c = 0;
		uint32_t x = 0;
		for (; x < 65535; x++) {
			if (r[j] < c + l[x])
				break;
			c += l[x];
		}
		out[j] = (int64_t)((uint64_t)b[j] << 16 | x);
	}
	free(hi);
	free(lo);
	return true;
}

#define RADIX_MIN 32768

bool xt_sum_pct_count3(struct xt_sum *s, uint32_t n, int64_t *p5, int64_t *p50, int64_t *p95)
{
	*p5 = *p50 = *p95 = 0;
	if (n == 0)
		return true;
	int64_t k5 = (int64_t)n * 5 / 100, k50 = (int64_t)n * 50 / 100, k95 = (int64_t)n * 95 / 100;
	if (s->wide) {
		int64_t *a = s->sample;
		*p50 = select_kth(a, 0, (int64_t)n - 1, k50);
		*p5 = select_kth(a, 0, k50, k5);
		*p95 = select_kth(a, k50, (int64_t)n - 1, k95);
		return true;
	}
	uint32_t *a = s->sample;
	if (n >= RADIX_MIN) {
		const uint64_t k[3] = { (uint64_t)k5, (uint64_t)k50, (uint64_t)k95 };
		int64_t out[3];
		if (radix3(a, n, k, out)) {
			*p5 = out[0];
			*p50 = out[1];
			*p95 = out[2];
			return true;
		}
	}
	/* the median first, then each half */
	*p50 = select_kth32(a, 0, (int64_t)n - 1, k50);
	*p5 = select_kth32(a, 0, k50, k5);
	*p95 = select_kth32(a, k50, (int64_t)n - 1, k95);
	return true;
}

bool xt_sum_pct_weighted3(struct xt_sum *s, uint32_t n, int64_t *p5, int64_t *p50, int64_t *p95)
{
	*p5 = *p50 = *p95 = 0;
	if (n == 0)
		return true;
	int64_t *a = s->sample;
	if (!s->wide) {
		/* the same values in the same order, as 64-bit */
		a = malloc((size_t)n * sizeof(*a));
		if (!a)
			return false;
		const uint32_t *o = s->sample;
		for (uint32_t i = 0; i < n; i++)
			a[i] = o[i];
	}
	*p50 = xt_pct_weighted(a, n, 50);
	*p5 = xt_pct_weighted(a, n, 5);
	*p95 = xt_pct_weighted(a, n, 95);
	if (a != s->sample)
		free(a);
	return true;
}

/* Wrapping arithmetic for the weighted search: sums of hostile samples
 * may overflow (xenalyze's long long arithmetic wraps in practice; here it
 * is defined). */
static inline int64_t wadd(int64_t x, int64_t y) { return (int64_t)((uint64_t)x + (uint64_t)y); }
static inline int64_t wsub(int64_t x, int64_t y) { return (int64_t)((uint64_t)x - (uint64_t)y); }
static inline int64_t wmul(int64_t x, int64_t y) { return (int64_t)((uint64_t)x * (uint64_t)y); }

/* Self-weighted percentile.  The weight bookkeeping (left weight = sum of
 * values before the left cursor; right weight updated by the value under
 * the right cursor) follows xenalyze so results agree with it. */
int64_t xt_pct_weighted(int64_t *a, uint32_t n, int p)
{
	if (n == 0)
		return 0;
	int64_t total = 0;
	for (uint32_t x = 0; x < n; x++)
		total = wadd(total, a[x]);
	int64_t target = wmul(total, p) / 100;
	int64_t lo = 0, hi = (int64_t)n - 1;
	int64_t lo_w = 0, hi_w = wsub(total, a[hi]);
	while (lo < hi) {
		int64_t pivot = a[(lo + hi) >> 1];
		int64_t i = lo, j = hi, i_w = lo_w, j_w = hi_w;
		do {
			while (a[i] < pivot) {
				i_w = wadd(i_w, a[i]);
				i++;
			}
			while (pivot < a[j]) {
				j_w = wsub(j_w, a[j]);
				j--;
			}
			if (i <= j) {
				int64_t t = a[i];
				a[i] = a[j];
				a[j] = t;
				i_w = wadd(i_w, a[i]);
				i++;
				j_w = wsub(j_w, a[j]);
				j--;
			}
		} while (i <= j);
		bool moved = false;
		if (j_w < target) {
			lo = i;
			lo_w = i_w;
			moved = true;
		}
		if (target < i_w) {
			hi = j;
			hi_w = j_w;
			moved = true;
		}
		if (!moved) /* target falls on the pivot (or sums overflowed) */
			return pivot;
	}
	return a[lo];
}
