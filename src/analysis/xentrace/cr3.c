// SPDX-License-Identifier: LGPL-2.1-or-later
/* Guest cr3 values of the xentrace analyzer (xenalyze's cr3 enumeration):
 * each HVM vcpu's current cr3, followed through CR3 writes, is a value of
 * its domain (gmfn = cr3 >> 12).  A value collects the time it was loaded
 * (from switch to switch, whether the vcpu ran or not), the guest and Xen
 * time of the exits while it was loaded and their short-summary kinds.
 * Reports: the summary's "cr3 values" tables (--with-cr3-enumeration) and
 * the --interval-cr3-* rows. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "xt_priv.h"

#define XT_CR3_HASH 16384u

bool xt_cr3_enabled(const struct vms_xt_analyzer *a)
{
	return a->o.cr3_enumeration ||
	       a->o.interval == VMS_XT_INTERVAL_CR3_SCHEDULE_TIME ||
	       a->o.interval == VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL ||
	       a->o.interval == VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED ||
	       a->o.interval == VMS_XT_INTERVAL_CR3_SHORT_SUMMARY;
}

static unsigned cr3_hash(const struct xt_domain *d, uint64_t gmfn)
{
	uint64_t k = gmfn * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)d * 0xff51afd7ed558ccdULL;
	return (unsigned)(k >> 40) % XT_CR3_HASH;
}

/* A new value of a non-default domain becomes an interval column */
static void interval_value_check(struct vms_xt_analyzer *a, struct xt_cr3 *p)
{
	switch (a->o.interval) {
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME:
		for (int i = 0; i < a->o.n_interval_cr3 && i < 64; i++) {
			if (p->gmfn != a->o.interval_cr3[i])
				continue;
			/* xenalyze stops here ("Fatal: duplicate cr3
			 * value"); we keep the first domain's value */
			if (a->icr3[i])
				xt_warn(a, "duplicate cr3 value %" PRIx64 " (domain %d); column keeps domain %d\n",
					p->gmfn, p->d->did, a->icr3[i]->d->did);
			else
				a->icr3[i] = p;
		}
		break;
	case VMS_XT_INTERVAL_CR3_SHORT_SUMMARY:
		/* the last domain to load it, as in xenalyze */
		if (a->o.n_interval_cr3 > 0 && p->gmfn == a->o.interval_cr3[0])
			a->icr3[0] = p;
		break;
	default:
		/* -all: every value of a non-default domain, in creation
		 * order (the global list); ordered: all values */
		break;
	}
}

static struct xt_cr3 *cr3_get(struct vms_xt_analyzer *a, struct xt_domain *d,
			      uint64_t gmfn, uint64_t now)
{
	if (!a->cr3_hash) {
		a->cr3_hash = calloc(XT_CR3_HASH, sizeof(*a->cr3_hash));
		if (!a->cr3_hash) {
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for cr3 values");
			return NULL;
		}
		a->cr3_tail = &a->cr3_head;
	}
	unsigned hb = cr3_hash(d, gmfn);
	for (struct xt_cr3 *p = a->cr3_hash[hb]; p; p = p->hnext)
		if (p->d == d && p->gmfn == gmfn)
			return p;
	if (a->n_cr3 >= XT_CR3_MAX) {
		if (!a->cr3_full_warned)
			xt_warn(a, "more than %d cr3 values: new values are not tracked\n", XT_CR3_MAX);
		a->cr3_full_warned = true;
		return NULL;
	}
	struct xt_cr3 *p = calloc(1, sizeof(*p));
	if (!p) {
		xt_fail(a, VMS_ERR_NOMEM, "out of memory for cr3 values");
		return NULL;
	}
	p->d = d;
	p->gmfn = gmfn;
	p->id = a->n_cr3++;
	p->first_time = now;
	p->hnext = a->cr3_hash[hb];
	a->cr3_hash[hb] = p;
	if (!d->cr3_tail)
		d->cr3_tail = &d->cr3_head;
	*d->cr3_tail = p;
	d->cr3_tail = &p->next;
	*a->cr3_tail = p;
	a->cr3_tail = &p->gnext;
	if (d->did != XT_DEFAULT_DOMAIN)
		interval_value_check(a, p);
	return p;
}

/* The ordered report prints only the values that were loaded in the
 * interval: they are listed as their time grows, so that a row costs what
 * it prints, not the number of values. */
static void mark_dirty(struct vms_xt_analyzer *a, struct xt_cr3 *p)
{
	if (p->dirty)
		return;
	if (!a->cr3_sort) {
		a->cr3_sort = malloc((size_t)XT_CR3_MAX * sizeof(*a->cr3_sort));
		if (!a->cr3_sort) {
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for the cr3 interval rows");
			return;
		}
	}
	if (a->n_cr3_sort >= XT_CR3_MAX)
		return; /* cannot happen: one entry per value */
	p->dirty = true;
	a->cr3_sort[a->n_cr3_sort++] = p;
}

/* xenalyze's cr3_switch: close the loaded value's period, load the new
 * one (none for 0).  The raw value is remembered for flush detection and
 * the dump even without enumeration. */
void xt_cr3_switch(struct vms_xt_analyzer *a, struct xt_vcpu *v, uint64_t val)
{
	struct xt_hvm *h = v->hvm;
	if (!h || !h->init)
		return;
	uint64_t now = a->now, gmfn = val >> 12;
	if (xt_cr3_enabled(a)) {
		if (h->cr3) {
			struct xt_cr3 *cur = h->cr3;
			uint64_t cycles = now - h->cr3_start;
			xt_sum_add(&cur->total_time, cycles, &a->samples);
			if (cycles) {
				cur->total_iv_count++;
				if (a->o.interval == VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED)
					mark_dirty(a, cur);
			}
			cur->last_time = now;
		}
		struct xt_cr3 *p = gmfn ? cr3_get(a, v->d, gmfn, now) : NULL;
		if (p) {
			h->cr3_start = now;
			p->switch_count++;
		}
		h->cr3 = p;
		/* xenalyze prints the new value's id, 0 when none is loaded */
		if (a->o.scatter == VMS_XT_SCATTER_CR3_SWITCH)
			xt_scatter_u64(a, "cr3-switch", h->exit_tsc, p ? (uint64_t)p->id : 0);
	} else if (a->o.scatter == VMS_XT_SCATTER_CR3_SWITCH) {
		xt_scatter_u64(a, "cr3-switch", h->exit_tsc, gmfn);
	}
	h->cr3_val = val;
}

void xt_cr3_free_all(struct vms_xt_analyzer *a)
{
	struct xt_cr3 *p = a->cr3_head;
	while (p) {
		struct xt_cr3 *n = p->gnext;
		xt_sum_free(&p->total_time);
		xt_sum_free(&p->guest_time);
		xt_sum_free(&p->hv_time);
		for (int i = 0; i < HSS_MAX; i++)
			xt_sum_free(&p->hss[i]);
		free(p);
		p = n;
	}
	a->cr3_head = NULL;
	free(a->cr3_hash);
	a->cr3_hash = NULL;
	free(a->cr3_sort);
	a->cr3_sort = NULL;
}

/* ---- summary ---- */

static int cmp_first_time(const void *x, const void *y)
{
	const struct xt_cr3 *a = *(const struct xt_cr3 *const *)x;
	const struct xt_cr3 *b = *(const struct xt_cr3 *const *)y;
	if (a->first_time != b->first_time)
		return a->first_time > b->first_time ? 1 : -1;
	return (a->id > b->id) - (a->id < b->id);
}

/* xenalyze's print_cycle_percent_summary: count seconds %-of-total avg
 * {p5|p50|p95}, time-weighted percentiles */
static void print_percent_sum(struct vms_xt_analyzer *a, struct xt_sum *s,
			      uint64_t total, const char *label)
{
	if (!s->count)
		return;
	int64_t avg = (int64_t)(s->cycles / s->count);
	double sec = (double)s->cycles / (double)a->o.cpu_hz;
	double pct = (double)(int64_t)(s->cycles * 100) / (double)total;
	if (a->samples.size) {
		uint32_t n = s->count > s->sample_size ? s->sample_size : s->count;
		int64_t p5, p50, p95;
		if (!xt_sum_pct_weighted3(s, n, &p5, &p50, &p95))
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for percentiles");
		xt_outf(a, "%s: %7u %5.2fs %5.2f%% %6" PRId64 " {%6" PRId64 "|%6" PRId64 "|%6" PRId64 "}\n",
			label, s->count, sec, pct, avg, p5, p50, p95);
	} else {
		xt_outf(a, "%s: %7u %5.2fs %5.2f%% %6" PRId64 "\n", label, s->count, sec, pct, avg);
	}
}

void xt_cr3_dump_list(struct vms_xt_analyzer *a, const struct xt_domain *d)
{
	size_t n = 0;
	for (struct xt_cr3 *p = d->cr3_head; p; p = p->next)
		n++;
	if (!n)
		return;
	struct xt_cr3 **v = malloc(n * sizeof(*v));
	if (!v) {
		xt_fail(a, VMS_ERR_NOMEM, "out of memory for the cr3 list");
		return;
	}
	n = 0;
	for (struct xt_cr3 *p = d->cr3_head; p; p = p->next)
		v[n++] = p;
	qsort(v, n, sizeof(*v), cmp_first_time);
	xt_outs(a, "    cr3 values:\n");
	for (size_t i = 0; i < n; i++) {
		struct xt_cr3 *p = v[i];
		char desc[30], label[80];
		unsigned fs, fns, ls, lns;
		snprintf(desc, sizeof(desc), "  %8" PRIx64 " (id %d)", p->gmfn, p->id);
		xt_print_time_sum(a, &p->total_time, desc);
		print_percent_sum(a, &p->guest_time, p->run_time, "          guest");
		print_percent_sum(a, &p->hv_time, p->run_time, "          hv   ");
		for (int k = 0; k < HSS_MAX; k++) {
			snprintf(label, sizeof(label), "           + %s", xt_hss_name[k]);
			print_percent_sum(a, &p->hss[k], p->run_time, label);
		}
		xt_time(a, p->first_time, &fs, &fns);
		xt_time(a, p->last_time, &ls, &lns);
		xt_outf(a, "            Seen: %4u.%09u-%4u.%09u switch %d flush %d\n",
			fs, fns, ls, lns, (int)p->switch_count, (int)p->flush_count);
	}
	free(v);
}

/* ---- intervals ---- */

static double pct_of(uint64_t c, uint64_t total)
{
	/* xenalyze: (double)(cycles * 100) / total, signed */
	return (double)(int64_t)(c * 100) / (double)(int64_t)total;
}

static void clear_total(struct xt_cr3 *p)
{
	p->total_time.interval_cycles = 0;
	p->total_iv_count = 0;
}

void xt_cr3_interval_head(struct vms_xt_analyzer *a)
{
	/* only the short summary has a header first (xenalyze never prints
	 * the listed form's header; -all prints it at the end) */
	if (a->o.interval != VMS_XT_INTERVAL_CR3_SHORT_SUMMARY)
		return;
	xt_outs(a, "time guest");
	for (int i = 0; i < HSS_MAX; i++)
		xt_outf(a, " %s", xt_hss_name[i]);
	xt_outc(a, '\n');
}

static int cmp_interval_time(const void *x, const void *y)
{
	const struct xt_cr3 *a = *(const struct xt_cr3 *const *)x;
	const struct xt_cr3 *b = *(const struct xt_cr3 *const *)y;
	uint64_t ca = a->total_time.interval_cycles, cb = b->total_time.interval_cycles;
	if (ca != cb)
		return ca < cb ? 1 : -1;
	if (a->total_iv_count != b->total_iv_count)
		return a->total_iv_count < b->total_iv_count ? 1 : -1;
	return (a->id > b->id) - (a->id < b->id);
}

static void ordered_row(struct vms_xt_analyzer *a, const char *t)
{
	if (!a->n_cr3)
		return;
	size_t n = (size_t)a->n_cr3_sort;
	if (n)
		qsort(a->cr3_sort, n, sizeof(*a->cr3_sort), cmp_interval_time);
	/* As xenalyze: the time, then one " gmfn: % [*]" line per value that
	 * was loaded (the first on the time's line; '*' = first seen in this
	 * interval), most time first.  An interval in which no value was
	 * switched away from prints its time without a newline. */
	xt_outs(a, t);
	for (size_t i = 0; i < n; i++) {
		struct xt_cr3 *p = a->cr3_sort[i];
		if (p->total_time.interval_cycles > 0)
			xt_outf(a, " %8" PRIx64 ": %.02f %c\n", p->gmfn,
				pct_of(p->total_time.interval_cycles, a->interval_cycles),
				p->first_time > a->interval_start ? '*' : ' ');
		clear_total(p);
		p->dirty = false;
	}
	a->n_cr3_sort = 0;
}

void xt_cr3_interval_row(struct vms_xt_analyzer *a, const char *t)
{
	switch (a->o.interval) {
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME:
		xt_outs(a, t);
		for (int i = 0; i < a->o.n_interval_cr3 && i < 64; i++) {
			struct xt_cr3 *p = a->icr3[i];
			if (p) {
				xt_outf(a, " %.02f", pct_of(p->total_time.interval_cycles, a->interval_cycles));
				clear_total(p);
			} else {
				xt_outs(a, " 0.0");
			}
		}
		xt_outc(a, '\n');
		return;
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL:
		xt_outs(a, t);
		for (struct xt_cr3 *p = a->cr3_head; p; p = p->gnext) {
			if (p->d->did == XT_DEFAULT_DOMAIN)
				continue;
			xt_outf(a, " %.02f", pct_of(p->total_time.interval_cycles, a->interval_cycles));
			clear_total(p);
		}
		xt_outc(a, '\n');
		return;
	case VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED:
		ordered_row(a, t);
		return;
	case VMS_XT_INTERVAL_CR3_SHORT_SUMMARY: {
		struct xt_cr3 *p = a->icr3[0];
		if (!p)
			return;
		xt_outs(a, t);
		uint64_t tot = p->total_time.interval_cycles;
		xt_outf(a, " %.02f", pct_of(tot, a->interval_cycles));
		/* shares of the value's own loaded time: nan/inf when it
		 * was not switched away from in the interval, as xenalyze */
		for (int i = 0; i < HSS_MAX; i++) {
			xt_outf(a, " %.02f", pct_of(p->hss[i].interval_cycles, tot));
			p->hss[i].interval_cycles = 0;
		}
		clear_total(p);
		xt_outc(a, '\n');
		return;
	}
	default:
		return;
	}
}

void xt_cr3_interval_tail(struct vms_xt_analyzer *a)
{
	if (a->o.interval != VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL)
		return;
	xt_outs(a, "time");
	for (struct xt_cr3 *p = a->cr3_head; p; p = p->gnext)
		if (p->d->did != XT_DEFAULT_DOMAIN)
			xt_outf(a, " %" PRIx64, p->gmfn);
	xt_outc(a, '\n');
}
