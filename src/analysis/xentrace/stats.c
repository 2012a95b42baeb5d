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

/* The path of xt_sum_add() that grows or subsamples (see xt_priv.h). */
void xt_sum_add_slow(struct xt_sum *s, uint64_t c, const struct xt_cfg_samples *cfg)
{
	s->event_count++;
	if (!c)
		return;
	if (cfg->size > 0) {
		bool may_grow = s->count == 0 || cfg->max == 0 ||
				s->sample_size < (uint32_t)cfg->max;
		if (s->count >= s->sample_size && may_grow) {
			uint64_t want = s->sample_size ? (uint64_t)s->sample_size * 2
						       : (uint64_t)cfg->size;
			if (cfg->max && want > (uint64_t)cfg->max)
				want = (uint64_t)cfg->max;
			int64_t *n = realloc(s->sample, want * sizeof(*n));
			if (n) {
				s->sample = n;
				s->sample_size = (uint32_t)want;
			}
		}
		if (s->count < s->sample_size) {
			s->sample[s->count] = (int64_t)c;
		} else if (s->sample_size) {
			/* Deterministic subsample once the cap is reached:
			 * lap k keeps every k-th slot, shifted by k/3. */
			int64_t lap = s->count / s->sample_size + 1;
			int64_t idx = s->count % s->sample_size;
			if ((idx - lap / 3) % lap == 0)
				s->sample[idx] = (int64_t)c;
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

static void swap64(int64_t *a, int64_t *b)
{
	int64_t t = *a;
	*a = *b;
	*b = t;
}

/* Wirth's selection of the k-th smallest element of a[lo..hi]; on return
 * a[lo..k-1] <= a[k] <= a[k+1..hi]. */
static int64_t select_kth(int64_t *a, int64_t lo, int64_t hi, int64_t k)
{
	while (lo < hi) {
		int64_t pivot = a[k], i = lo, j = hi;
		while (i <= j) {
			while (a[i] < pivot)
				i++;
			while (pivot < a[j])
				j--;
			if (i <= j) {
				swap64(&a[i], &a[j]);
				i++;
				j--;
			}
		}
		if (j < k)
			lo = i;
		if (k < i)
			hi = j;
	}
	return a[k];
}

/* k-th smallest (0-based k = n*p/100), Hoare-style selection. */
int64_t xt_pct_count(int64_t *a, uint32_t n, int p)
{
	if (n == 0)
		return 0;
	return select_kth(a, 0, (int64_t)n - 1, (int64_t)n * p / 100);
}

/* The 5th, 50th and 95th count percentiles at once: the values are order
 * statistics, so after the median only the halves need searching. */
void xt_pct_count3(int64_t *a, uint32_t n, int64_t *p5, int64_t *p50, int64_t *p95)
{
	if (n == 0) {
		*p5 = *p50 = *p95 = 0;
		return;
	}
	int64_t k50 = (int64_t)n * 50 / 100;
	*p50 = select_kth(a, 0, (int64_t)n - 1, k50);
	*p5 = select_kth(a, 0, k50, (int64_t)n * 5 / 100);
	*p95 = select_kth(a, k50, (int64_t)n - 1, (int64_t)n * 95 / 100);
}

/* Self-weighted percentile.  The weight bookkeeping (left weight = sum of
 * values before the left cursor; right weight updated by the value under
 * the right cursor) follows xenalyze so results agree with it. */
int64_t xt_pct_weighted(int64_t *a, uint32_t n, int p)
{
	if (n == 0)
		return 0;
	int64_t total = 0;
	for (uint32_t x = 0; x < n; x++)
		total += a[x];
	int64_t target = total * p / 100;
	int64_t lo = 0, hi = (int64_t)n - 1;
	int64_t lo_w = 0, hi_w = total - a[hi];
	while (lo < hi) {
		int64_t pivot = a[(lo + hi) >> 1];
		int64_t i = lo, j = hi, i_w = lo_w, j_w = hi_w;
		do {
			while (a[i] < pivot) {
				i_w += a[i];
				i++;
			}
			while (pivot < a[j]) {
				j_w -= a[j];
				j--;
			}
			if (i <= j) {
				swap64(&a[i], &a[j]);
				i_w += a[i];
				i++;
				j_w -= a[j];
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
