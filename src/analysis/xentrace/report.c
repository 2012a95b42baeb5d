// SPDX-License-Identifier: LGPL-2.1-or-later
/* End-of-run reports of the xentrace analyzer: --summary, --report-pcpu,
 * --interval-* rows (text or CSV) and scatterplot output (text + SVG). */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xt_priv.h"

static double secs(const struct vms_xt_analyzer *a, uint64_t c)
{
	return (double)c / (double)a->o.cpu_hz;
}

static uint32_t nsamples(const struct xt_sum *s)
{
	return s->count > s->sample_size ? s->sample_size : s->count;
}

/* count  seconds  avg  {p5|p50|p95}, time-weighted percentiles */
void xt_print_time_sum(struct vms_xt_analyzer *a, struct xt_sum *s, const char *label)
{
	if (!s->count)
		return;
	int64_t avg = (int64_t)(s->cycles / s->count);
	if (a->samples.size) {
		uint32_t n = nsamples(s);
		int64_t p5, p50, p95;
		if (!xt_sum_pct_weighted3(s, n, &p5, &p50, &p95))
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for percentiles");
		xt_outf(a, "%s: %7u %5.2fs %6" PRId64 " {%6" PRId64 "|%6" PRId64 "|%6" PRId64 "}\n",
			label, s->count, secs(a, s->cycles), avg, p5, p50, p95);
	} else {
		xt_outf(a, "%s: %7u %5.2fs %6" PRId64 "\n", label, s->count, secs(a, s->cycles), avg);
	}
}

/* cpu affinity: count avg {p5|p50|p95}, count percentiles */
static void print_affinity(struct vms_xt_analyzer *a, struct xt_sum *s, const char *label)
{
	if (!s->count)
		return;
	int64_t avg = (int64_t)(s->cycles / s->count);
	if (a->samples.size) {
		uint32_t n = nsamples(s);
		int64_t p5, p50, p95;
		if (!xt_sum_pct_count3(s, n, &p5, &p50, &p95))
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for percentiles");
		xt_outf(a, "%s: %7u %6" PRId64 " {%6" PRId64 "|%6" PRId64 "|%6" PRId64 "}\n",
			label, s->count, avg, p5, p50, p95);
	} else {
		xt_outf(a, "%s: %7u %6" PRId64 "\n", label, s->count, avg);
	}
}

/* events seconds %-of-trace avg cyc {p5|p50|p95}, count percentiles */
void xt_print_event_sum(struct vms_xt_analyzer *a, struct xt_sum *s, const char *label)
{
	if (!s->event_count)
		return;
	double pct = a->total_cycles ? (double)(s->cycles * 100) / (double)a->total_cycles : 0;
	int64_t avg = s->count ? (int64_t)(s->cycles / s->count) : 0;
	xt_outs(a, label);
	if (a->samples.size) {
		uint32_t n = nsamples(s);
		int64_t p5, p50, p95;
		if (!xt_sum_pct_count3(s, n, &p5, &p50, &p95))
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for percentiles");
		xt_outf(a, " %7u %5.2fs %5.2f%% %5" PRId64 " cyc {%5" PRId64 "|%5" PRId64 "|%5" PRId64 "}\n",
			s->event_count, secs(a, s->cycles), pct, avg, p5, p50, p95);
	} else {
		xt_outf(a, " %7u %5.2fs %5.2f%% %5" PRId64 " cyc\n", s->event_count,
			secs(a, s->cycles), pct, avg);
	}
}

static void volume_summary(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	for (int j = 0; j < TL_MAX; j++) {
		if (!p->vol[j])
			continue;
		xt_outf(a, " %-6s: %10" PRIu64 "\n", xt_toplevel_name[j], p->vol[j]);
		if (j == TL_SCHED && p->vol_sched_verbose)
			xt_outf(a, " +-verbose: %10" PRIu64 "\n", p->vol_sched_verbose);
		if (j == TL_HVM)
			for (int k = 0; k < HV_MAX; k++)
				if (p->vol_hvm[k])
					xt_outf(a, " +-%-7s: %10" PRIu64 "\n", xt_hvm_vol_name[k], p->vol_hvm[k]);
	}
}

static void print_handlers(struct vms_xt_analyzer *a, struct xt_hvm *h, unsigned er)
{
	char label[64];
	for (struct xt_hnode *n = h->handlers[er]; n; n = n->next) {
		switch (n->kind) {
		case HK_GENERIC:
			snprintf(label, sizeof(label), "   %s ", xt_handler_name[n->id] ? xt_handler_name[n->id] : "?");
			xt_print_event_sum(a, &n->s, label);
			break;
		case HK_VMCALL:
			for (int i = 0; i < XT_HYPERCALL_MAX; i++) {
				/* xenalyze pools 38+ as "max" (and misnames them in
				 * PV, bug #4); we name each number Xen defines. */
				char num[16];
				const char *nm = xt_hypercall_name[i];
				if (!nm) {
					snprintf(num, sizeof(num), "#%d", i);
					nm = num;
				}
				snprintf(label, sizeof(label), "    [%10s] ", nm);
				xt_print_event_sum(a, &h->vmcall[i], label);
			}
			snprintf(label, sizeof(label), "    [%10s] ", "max");
			xt_print_event_sum(a, &h->vmcall[XT_HYPERCALL_MAX], label);
			break;
		case HK_INTR:
			for (int i = 0; i < 256; i++) {
				if (!h->extint[i])
					continue;
				if (xt_extint_name[i])
					xt_outf(a, "  %10s(%3d): %u\n", xt_extint_name[i], i, h->extint[i]);
				else
					xt_outf(a, "            [%3d]: %u\n", i, h->extint[i]);
			}
			if (h->extint[256])
				xt_outf(a, "  Other:         : %u\n", h->extint[256]);
			break;
		case HK_CR: {
			int cr = n->id;
			if (cr < 0 || cr >= XT_CR_MAX)
				break;
			snprintf(label, sizeof(label), "   cr%d ", cr);
			xt_print_event_sum(a, &h->cr_write[cr], label);
			if (cr != 3)
				break;
			for (int j = 0; j < XT_RESYNCS_MAX; j++) {
				snprintf(label, sizeof(label), "     *[%3d] ", j);
				xt_print_event_sum(a, &h->cr3_resyncs[j], label);
			}
			xt_print_event_sum(a, &h->cr3_resyncs[XT_RESYNCS_MAX], "     *[MAX] ");
			break;
		}
		case HK_MMIO: {
			static const char *const mn[4] = { "?", "npf", "apic", "unknown" };
			snprintf(label, sizeof(label), "   mmio %s ", mn[n->id & 3]);
			xt_print_event_sum(a, &h->mmio[n->id & 3], label);
			break;
		}
		}
	}
}

static void io_summary(struct vms_xt_analyzer *a, struct xt_ioaddr *list, const char *title)
{
	if (!list)
		return;
	xt_outf(a, "%s\n", title);
	char label[64];
	for (; list; list = list->next) {
		for (int dir = 0; dir < 2; dir++) {
			if (list->va)
				snprintf(label, sizeof(label), "%8" PRIx64 "@%8x:[%c] ", list->pa, list->va, dir ? 'w' : 'r');
			else
				snprintf(label, sizeof(label), "%8" PRIx64 ":[%c] ", list->pa, dir ? 'w' : 'r');
			xt_print_event_sum(a, &list->s[dir], label);
		}
	}
}

static void hvm_summary(struct vms_xt_analyzer *a, struct xt_hvm *h)
{
	if (!h->summary_info)
		return;
	char label[64];
	xt_outf(a, "Exit reasons:\n");
	for (unsigned i = 0; i <= XT_EXIT_MAX; i++) {
		const char *nm = i < XT_EXIT_MAX ? xt_exit_name(h->svm, i) : NULL;
		if (nm)
			snprintf(label, sizeof(label), " %-20s ", nm);
		else if (i < XT_EXIT_MAX)
			snprintf(label, sizeof(label), " %20u ", i);
		else
			snprintf(label, sizeof(label), " %20s ", "(out of range)");
		xt_print_event_sum(a, &h->exit[i], label);
		print_handlers(a, h, i);
	}
	xt_outf(a, "Guest interrupt counts:\n");
	for (int i = 0; i < XT_GUEST_INT_MAX; i++) {
		if (!h->gi[i].count)
			continue;
		xt_outf(a, "  [%3d] %u\n", i, h->gi[i].count);
		for (int j = 1; j < 4; j++) {
			snprintf(label, sizeof(label), "   * %s", xt_gi_case_name[j]);
			xt_print_time_sum(a, &h->gi[i].runtime[j], label);
		}
	}
	if (h->gi[XT_GUEST_INT_MAX].count)
		xt_outf(a, "  [%d+] %u\n", XT_GUEST_INT_MAX, h->gi[XT_GUEST_INT_MAX].count);
	io_summary(a, h->pio, "IO address summary:");
	io_summary(a, h->mmio_list, "MMIO address summary:");
}

static void pv_summary(struct vms_xt_analyzer *a, struct xt_pv *pv)
{
	if (!pv->summary_info)
		return;
	xt_outf(a, "PV events:\n");
	for (int i = 0; i < PVE_MAX; i++) {
		uint32_t c = pv->count[i];
		if (i == PVE_HYPERCALL_V2)
			c += pv->count[PVE_HYPERCALL_SUBCALL];
		if (!c || !xt_pv_name[i])
			continue;
		xt_outf(a, "  %s  %u\n", xt_pv_name[i], c);
		if (i == PVE_HYPERCALL || i == PVE_HYPERCALL_V2) {
			for (int j = 0; j <= XT_HYPERCALL_MAX; j++) {
				if (!pv->hypercall[j])
					continue;
				char num[16];
				const char *nm = j < XT_HYPERCALL_MAX ? xt_hypercall_name[j] : "max";
				if (!nm) {
					snprintf(num, sizeof(num), "#%d", j);
					nm = num;
				}
				xt_outf(a, "    %-29s[%2d]: %6u\n", nm, j, pv->hypercall[j]);
			}
		} else if (i == PVE_TRAP) {
			for (int j = 0; j < 32; j++)
				if (pv->trap[j])
					xt_outf(a, "    [%d] %u\n", j, pv->trap[j]);
		}
	}
}

static void vcpu_summary(struct vms_xt_analyzer *a, struct xt_vcpu *v)
{
	char label[32];
	xt_outf(a, "-- v%d --\n", v->vid);
	if (v->pcpu_tsc && v->p) {
		if (!v->aff_pcpu)
			v->aff_pcpu = calloc(XT_MAX_CPUS, sizeof(*v->aff_pcpu));
		xt_sum_add(&v->aff_all, a->last_tsc - v->pcpu_tsc, &a->samples);
		if (v->aff_pcpu)
			xt_sum_add(&v->aff_pcpu[v->p->pid], a->last_tsc - v->pcpu_tsc, &a->samples);
		v->pcpu_tsc = 0;
	}
	xt_outf(a, " Runstates:\n");
	for (int i = 0; i < RS_MAX; i++) {
		snprintf(label, sizeof(label), "  %8s", xt_runstate_name[i]);
		xt_print_time_sum(a, &v->runstates[i], label);
		if (i == RS_RUNNABLE)
			for (int j = 0; j < RN_MAX; j++) {
				if (j == RN_INVALID)
					continue;
				snprintf(label, sizeof(label), "    %8s", xt_runnable_name[j]);
				xt_print_time_sum(a, &v->runnable[j], label);
			}
	}
	print_affinity(a, &v->aff_all, " cpu affinity");
	if (v->aff_pcpu)
		for (int i = 0; i < XT_MAX_CPUS; i++) {
			snprintf(label, sizeof(label), "   [%d]", i);
			print_affinity(a, &v->aff_pcpu[i], label);
		}
	if (v->data_type == 1)
		hvm_summary(a, v->hvm);
	else if (v->data_type == 2)
		pv_summary(a, v->pv);
}

/* xenalyze's layout.  Grant ops are counted here (xenalyze never counts
 * them); a non-canonical PoD order is not counted. */
static void mem_summary(struct vms_xt_analyzer *a, struct xt_domain *d)
{
	xt_outs(a, " Grant table ops:\n  Done by:\n");
	for (int i = 0; i < MEM_MAX; i++)
		if (d->mem_done[i])
			xt_outf(a, "   %-14s: %u\n", xt_mem_name[i] ? xt_mem_name[i] : "(null)", d->mem_done[i]);
	xt_outs(a, "  Done for:\n");
	for (int i = 0; i < MEM_MAX; i++)
		if (d->mem_done_for[i])
			xt_outf(a, "   %-14s: %u\n", xt_mem_name[i] ? xt_mem_name[i] : "(null)", d->mem_done_for[i]);
	xt_outs(a, " Populate-on-demand:\n  Populated:\n");
	for (int i = 0; i < XT_POD_ORDER_MAX; i++)
		if (d->pod.populate_order[i])
			xt_outf(a, "   [%d] %u\n", i, d->pod.populate_order[i]);
	xt_outs(a, "  Reclaim order:\n");
	for (int i = 0; i < XT_POD_ORDER_MAX; i++)
		if (d->pod.reclaim_order[i])
			xt_outf(a, "   [%d] %u\n", i, d->pod.reclaim_order[i]);
	xt_outs(a, "  Reclaim contexts:\n");
	for (int j = 0; j < POD_CTX_MAX; j++) {
		if (!d->pod.reclaim_context[j])
			continue;
		xt_outf(a, "   * [%s] %u\n", xt_pod_ctx_name[j], d->pod.reclaim_context[j]);
		for (int i = 0; i < XT_POD_ORDER_MAX; i++)
			if (d->pod.reclaim_context_order[j][i])
				xt_outf(a, "    [%d] %u\n", i, d->pod.reclaim_context_order[j][i]);
	}
}

static void domain_summary(struct vms_xt_analyzer *a, struct xt_domain *d)
{
	char label[40];
	xt_outf(a, " Runstates:\n");
	for (int i = 0; i < DS_MAX; i++) {
		snprintf(label, sizeof(label), "  %8s", xt_domain_runstate_name[i]);
		xt_print_time_sum(a, &d->runstates[i], label);
	}
	mem_summary(a, d);
	for (int i = 0; i < XT_MAX_CPUS; i++)
		if (d->vcpu[i])
			vcpu_summary(a, d->vcpu[i]);
	xt_outf(a, "Emulate eip list\n");
	xt_cr3_dump_list(a, d);
}

static const char *hz_string(uint64_t hz, char *buf, size_t len)
{
	float v;
	char suf;
	if (hz > 1000000000ULL) { v = (float)hz / 1e9f; suf = 'G'; }
	else if (hz > 1000000ULL) { v = (float)hz / 1e6f; suf = 'M'; }
	else if (hz > 1000ULL) { v = (float)hz / 1e3f; suf = 'k'; }
	else { v = (float)hz; suf = ' '; }
	snprintf(buf, len, "%1.2f %cHz", (double)v, suf);
	return buf;
}

void xt_report_summary(struct vms_xt_analyzer *a)
{
	char hz[32];
	xt_outf(a, "Total time: %.2f seconds (using cpu speed %s)\n",
		secs(a, a->total_cycles), hz_string(a->o.cpu_hz, hz, sizeof(hz)));
	xt_outf(a, "--- Log volume summary ---\n");
	for (int i = 0; i < XT_MAX_CPUS; i++) {
		struct xt_pcpu *p = &a->pcpu[i];
		if (!p->summary)
			continue;
		xt_outf(a, " - cpu %d -\n", i);
		volume_summary(a, p);
	}
	if (a->o.show_default_domain) {
		xt_outf(a, "|-- Default domain --|\n");
		for (int i = 0; i < XT_MAX_CPUS; i++)
			if (a->default_domain.vcpu[i])
				vcpu_summary(a, a->default_domain.vcpu[i]);
	}
	for (struct xt_domain *d = a->domains; d; d = d->next) {
		xt_outf(a, "|-- Domain %d --|\n", d->did);
		domain_summary(a, d);
	}
}

void xt_report_pcpu(struct vms_xt_analyzer *a)
{
	int active = 0;
	for (int i = 0; i < XT_MAX_CPUS; i++) {
		struct xt_pcpu *p = &a->pcpu[i];
		if (!p->summary)
			continue;
		xt_outf(a, "pcpu %d\n", i);
		xt_print_time_sum(a, &p->time.running, " running");
		xt_print_time_sum(a, &p->time.idle, "    idle");
		xt_print_time_sum(a, &p->time.lost, "    lost");
		if (p->time.running.count)
			active++;
	}
	xt_outf(a, "Total active cpus: %d\n", active);
}

/* ---- intervals ---- */

static bool single_domain_mode(const struct vms_xt_analyzer *a)
{
	return a->o.interval == VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY ||
	       a->o.interval == VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT ||
	       a->o.interval == VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS;
}

void xt_interval_add_domain(struct vms_xt_analyzer *a, struct xt_domain *d)
{
	if (a->o.interval != VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME &&
	    a->o.interval != VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL &&
	    !single_domain_mode(a))
		return; /* cr3 reports: columns are cr3 values */
	if (single_domain_mode(a)) {
		if (d->did == a->o.interval_domains[0])
			a->idom = d;
		return;
	}
	if (a->o.interval == VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME) {
		bool listed = false;
		for (int i = 0; i < a->o.n_interval_domains; i++)
			if (a->o.interval_domains[i] == d->did)
				listed = true;
		if (!listed)
			return;
	}
	if (a->n_icols == a->cap_icols) {
		int cap = a->cap_icols ? a->cap_icols * 2 : 16;
		struct xt_domain **n = realloc(a->icols, (size_t)cap * sizeof(*n));
		if (!n)
			return;
		a->icols = n;
		a->cap_icols = cap;
	}
	d->interval_col = a->n_icols;
	a->icols[a->n_icols++] = d;
}

/* An injected vector: it takes one of the 10 columns (whichever domain
 * injected it, as in xenalyze; a vector 0 holds its slot only until the
 * next vector), and counts for the reported domain. */
void xt_interval_guest_interrupt(struct vms_xt_analyzer *a, struct xt_domain *d,
				 unsigned vec)
{
	int i;
	for (i = 0; i < XT_INTERVAL_GI_MAX; i++) {
		if (a->ivec[i] == 0) {
			a->ivec[i] = (int)vec;
			break;
		}
		if (a->ivec[i] == (int)vec)
			break;
	}
	if (i == XT_INTERVAL_GI_MAX) {
		xt_warn(a, "FATAL: used up all %d guest interrupt slots!\n", XT_INTERVAL_GI_MAX);
		return;
	}
	if (d != a->idom)
		return;
	if (!d->gi_iv) {
		d->gi_iv = calloc(XT_GUEST_INT_MAX + 1, sizeof(*d->gi_iv));
		if (!d->gi_iv) {
			xt_fail(a, VMS_ERR_NOMEM, "out of memory");
			return;
		}
	}
	if (vec <= XT_GUEST_INT_MAX)
		d->gi_iv[vec]++;
}

static void time_str(struct vms_xt_analyzer *a, uint64_t tsc, char *buf, size_t len)
{
	unsigned s, ns;
	xt_time(a, tsc, &s, &ns);
	snprintf(buf, len, "%u.%09u", s, ns);
}

/* Header lines printed before the first row: xenalyze's short-summary
 * header, and the CSV headers whose columns are known in advance. */
void xt_interval_head(struct vms_xt_analyzer *a)
{
	const char *sep = a->o.interval_csv ? "," : " ";
	switch (a->o.interval) {
	case VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME:
		if (!a->o.interval_csv)
			return; /* the listed form has no header, as in xenalyze */
		xt_outs(a, "time");
		for (int i = 0; i < a->o.n_interval_domains; i++)
			xt_outf(a, ",d%d", a->o.interval_domains[i]);
		xt_outc(a, '\n');
		return;
	case VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY:
		xt_outf(a, "time%srunning", sep);
		for (int i = 0; i < HSS_MAX; i++)
			xt_outf(a, "%s%s", sep, xt_hss_name[i]);
		xt_outc(a, '\n');
		return;
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED:
	case VMS_XT_INTERVAL_CR3_SHORT_SUMMARY:
		xt_cr3_interval_head(a);
		return;
	case VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS:
		/* xenalyze prints no header */
		if (a->o.interval_csv)
			xt_outf(a, "time,d%d\n", a->o.interval_domains[0]);
		return;
	default:
		return;
	}
}

static double iv_pct(const struct vms_xt_analyzer *a, uint64_t c)
{
	/* xenalyze: (double)(cycles * 100) / total */
	return (double)(c * 100) / (double)a->interval_cycles;
}

/* CSV rows whose columns are only known at the end (new domains, new
 * vectors) are kept until the end so that the header comes first. */
static void keep_row(struct vms_xt_analyzer *a, char *row)
{
	if (a->n_irows == a->cap_irows) {
		size_t cap = a->cap_irows ? a->cap_irows * 2 : 64;
		char **nr = realloc(a->irows, cap * sizeof(*nr));
		if (!nr) {
			free(row);
			xt_fail(a, VMS_ERR_NOMEM, "out of memory for the interval rows");
			return;
		}
		a->irows = nr;
		a->cap_irows = cap;
	}
	a->irows[a->n_irows++] = row;
}

static void guest_interrupt_row(struct vms_xt_analyzer *a, const char *t)
{
	struct xt_domain *d = a->idom;
	const char *sep = a->o.interval_csv ? "," : " ";
	char row[32 + XT_INTERVAL_GI_MAX * 12];
	size_t n = (size_t)snprintf(row, sizeof(row), "%s", t);
	for (int i = 0; i < XT_INTERVAL_GI_MAX; i++) {
		int v = a->ivec[i];
		if (v == 0)
			break;
		uint32_t c = 0;
		if (d->gi_iv && v >= 0 && v <= XT_GUEST_INT_MAX) {
			c = d->gi_iv[v];
			d->gi_iv[v] = 0;
		}
		n += (size_t)snprintf(row + n, sizeof(row) - n, "%s%u", sep, c);
	}
	if (!a->o.interval_csv) {
		xt_outs(a, row);
		xt_outc(a, '\n');
		return;
	}
	char *r = strdup(row);
	if (r)
		keep_row(a, r);
	else
		xt_fail(a, VMS_ERR_NOMEM, "out of memory for the interval rows");
}

void xt_interval_row(struct vms_xt_analyzer *a)
{
	char t[32];
	time_str(a, a->interval_start, t, sizeof(t));
	const char *sep = a->o.interval_csv ? "," : " ";
	switch (a->o.interval) {
	case VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY: {
		struct xt_domain *d = a->idom;
		if (!d)
			return; /* no row before the domain exists, as in xenalyze */
		xt_outs(a, t);
		xt_outf(a, "%s%.02f", sep, iv_pct(a, d->total_time.interval_cycles));
		d->total_time.interval_cycles = 0;
		for (int i = 0; i < HSS_MAX; i++) {
			xt_outf(a, "%s%.02f", sep, iv_pct(a, d->hss_iv[i]));
			d->hss_iv[i] = 0;
		}
		xt_outc(a, '\n');
		return;
	}
	case VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT:
		if (a->idom)
			guest_interrupt_row(a, t);
		return;
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED:
	case VMS_XT_INTERVAL_CR3_SHORT_SUMMARY:
		xt_cr3_interval_row(a, t);
		return;
	case VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS:
		if (!a->idom)
			return;
		xt_outf(a, "%s%s%u\n", t, sep, a->idom->grant_map_iv);
		a->idom->grant_map_iv = 0;
		return;
	case VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME:
		/* listed form: columns in the order given */
		xt_outs(a, t);
		for (int i = 0; i < a->o.n_interval_domains; i++) {
			struct xt_domain *d = NULL;
			for (int j = 0; j < a->n_icols; j++)
				if (a->icols[j]->did == a->o.interval_domains[i])
					d = a->icols[j];
			if (d) {
				xt_outf(a, "%s%.02f", sep, iv_pct(a, d->total_time.interval_cycles));
				d->total_time.interval_cycles = 0;
			} else {
				xt_outs(a, a->o.interval_csv ? ",0.00" : " 0.0");
			}
		}
		xt_outc(a, '\n');
		return;
	default:
		break;
	}
	if (!a->o.interval_csv) {
		xt_outs(a, t);
		for (int i = 0; i < a->n_icols; i++) {
			struct xt_domain *d = a->icols[i];
			xt_outf(a, " %.02f", iv_pct(a, d->total_time.interval_cycles));
			d->total_time.interval_cycles = 0;
		}
		xt_outc(a, '\n');
		return;
	}
	/* CSV: keep rows until the end so the header (all columns) comes
	 * first; columns that did not exist yet are 0. */
	size_t len = strlen(t) + 1 + (size_t)a->n_icols * 24;
	char *row = malloc(len);
	if (!row) {
		xt_fail(a, VMS_ERR_NOMEM, "out of memory for the interval rows");
		return;
	}
	size_t n = (size_t)snprintf(row, len, "%s", t);
	for (int i = 0; i < a->n_icols; i++) {
		struct xt_domain *d = a->icols[i];
		n += (size_t)snprintf(row + n, len - n, ",%.02f", iv_pct(a, d->total_time.interval_cycles));
		d->total_time.interval_cycles = 0;
	}
	keep_row(a, row);
}

static void print_kept_rows(struct vms_xt_analyzer *a, int ncols, const char *pad)
{
	for (size_t r = 0; r < a->n_irows; r++) {
		int commas = 0;
		for (const char *c = a->irows[r]; *c; c++)
			commas += *c == ',';
		xt_outs(a, a->irows[r]);
		for (int i = commas; i < ncols; i++)
			xt_outs(a, pad);
		xt_outc(a, '\n');
	}
}

void xt_interval_tail(struct vms_xt_analyzer *a)
{
	switch (a->o.interval) {
	case VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL:
		break;
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL:
	case VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED:
	case VMS_XT_INTERVAL_CR3_SHORT_SUMMARY:
		xt_cr3_interval_tail(a);
		return;
	case VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT: {
		int n = 0;
		while (n < XT_INTERVAL_GI_MAX && a->ivec[n])
			n++;
		/* xenalyze's header names a "running" column that its rows
		 * do not have; the text form keeps it, CSV does not. */
		xt_outs(a, a->o.interval_csv ? "time" : "time running");
		for (int i = 0; i < n; i++)
			xt_outf(a, a->o.interval_csv ? ",%d" : " %d", a->ivec[i]);
		xt_outc(a, '\n');
		if (a->o.interval_csv)
			print_kept_rows(a, n, ",0");
		return;
	}
	default:
		return; /* header already printed first, or none */
	}
	if (!a->o.interval_csv) {
		xt_outs(a, "time");
		for (int i = 0; i < a->n_icols; i++)
			xt_outf(a, " %d", a->icols[i]->did);
		xt_outc(a, '\n');
		return;
	}
	xt_outs(a, "time");
	for (int i = 0; i < a->n_icols; i++)
		xt_outf(a, ",d%d", a->icols[i]->did);
	xt_outc(a, '\n');
	print_kept_rows(a, a->n_icols, ",0.00");
}

/* ---- scatterplots ---- */

static void svg_point(struct vms_xt_analyzer *a, const char *series, uint64_t tsc, double y)
{
	if (!a->o.scatter_svg)
		return;
	if (!a->svg_tmp)
		a->svg_tmp = tmpfile();
	if (a->svg_tmp) {
		unsigned s, ns;
		xt_time(a, tsc, &s, &ns);
		fprintf(a->svg_tmp, "%s %.9f %.17g\n", series, s + ns / 1e9, y);
	}
}

/* Addresses and counters: exact unsigned (xenalyze printed rips as
 * negative decimals, its bug #9). */
void xt_scatter_u64(struct vms_xt_analyzer *a, const char *series, uint64_t tsc, uint64_t y)
{
	char t[32];
	time_str(a, tsc, t, sizeof(t));
	if (!strcmp(series, "vmexit") || !strcmp(series, "cr3-switch"))
		xt_outf(a, "%s %" PRIu64 "\n", t, y);
	else
		xt_outf(a, "%s %s %" PRIu64 "\n", series, t, y);
	svg_point(a, series, tsc, (double)y);
}

void xt_scatter_point(struct vms_xt_analyzer *a, const char *series,
		      uint64_t tsc, double y)
{
	char t[32];
	time_str(a, tsc, t, sizeof(t));
	bool bare = !strcmp(series, "vmexit") || !strcmp(series, "io") ||
		    !strcmp(series, "wake-to-halt");
	enum vms_xt_scatter_kind k = a->o.scatter;
	if (bare)
		xt_outf(a, "%s %.0f\n", t, y);
	else if (k == VMS_XT_SCATTER_RUNSTATE_TIME)
		xt_outf(a, "%s %s %.9f\n", series, t, y);
	else
		xt_outf(a, "%s %s %.0f\n", series, t, y);
	svg_point(a, series, tsc, y);
}

/* --scatterplot-irq: "iIRQ time pcpu", one series per irq in the SVG */
void xt_scatter_irq(struct vms_xt_analyzer *a, uint32_t irq, uint64_t tsc, int pid)
{
	char t[32], series[16];
	time_str(a, tsc, t, sizeof(t));
	xt_outf(a, "i%x %s %d\n", irq, t, pid);
	snprintf(series, sizeof(series), "i%x", irq);
	svg_point(a, series, tsc, pid);
}

static const char *const palette[8] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
	"#e377c2", "#7f7f7f",
};

struct vms_error *xt_scatter_svg(struct vms_xt_analyzer *a)
{
	if (!a->o.scatter_svg)
		return NULL;
	FILE *f = fopen(a->o.scatter_svg, "w");
	if (!f)
		return vms_error_create(VMS_ERR_IO, "%s: cannot create SVG", a->o.scatter_svg);
	double xmin = INFINITY, xmax = -INFINITY, ymin = INFINITY, ymax = -INFINITY;
	char series[64], names[8][64];
	int nseries = 0;
	double x, y;
	uint64_t npts = 0;
	if (a->svg_tmp) {
		rewind(a->svg_tmp);
		while (fscanf(a->svg_tmp, "%63s %lf %lf", series, &x, &y) == 3) {
			npts++;
			xmin = fmin(xmin, x); xmax = fmax(xmax, x);
			ymin = fmin(ymin, y); ymax = fmax(ymax, y);
		}
	}
	if (!npts) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; }
	if (xmax <= xmin) xmax = xmin + 1;
	if (ymax <= ymin) ymax = ymin + 1;
	const double W = 900, H = 500, L = 90, R = 160, T = 30, B = 50;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n", W, H);
	fprintf(f, "<text x=\"%.0f\" y=\"18\" font-size=\"14\">vmsight xentrace scatterplot (%" PRIu64 " points)</text>\n",
		L, npts);
	fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n",
		L, T, W - L - R, H - T - B);
	for (int i = 0; i <= 4; i++) {
		double fx = L + (W - L - R) * i / 4, fy = H - B - (H - T - B) * i / 4;
		fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.3f</text>\n", fx, H - B + 16,
			xmin + (xmax - xmin) * i / 4);
		fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.4g</text>\n", L - 4, fy + 4,
			ymin + (ymax - ymin) * i / 4);
	}
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">time (s)</text>\n", L + (W - L - R) / 2, H - 12);
	if (a->svg_tmp) {
		rewind(a->svg_tmp);
		/* Points beyond 200k are thinned so the file stays openable. */
		uint64_t step = npts > 200000 ? npts / 200000 + 1 : 1, i = 0;
		while (fscanf(a->svg_tmp, "%63s %lf %lf", series, &x, &y) == 3) {
			int si = 0;
			while (si < nseries && strcmp(names[si], series))
				si++;
			if (si == nseries && nseries < 8)
				snprintf(names[nseries++], sizeof(names[0]), "%s", series);
			if (si >= 8)
				si = 7;
			if (i++ % step)
				continue;
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\" fill=\"%s\"/>\n",
				L + (x - xmin) / (xmax - xmin) * (W - L - R),
				H - B - (y - ymin) / (ymax - ymin) * (H - T - B), palette[si]);
		}
	}
	for (int i = 0; i < nseries; i++)
		fprintf(f, "<text x=\"%.0f\" y=\"%d\" fill=\"%s\">%s</text>\n", W - R + 10, 40 + 16 * i,
			palette[i], names[i]);
	fprintf(f, "</svg>\n");
	if (fclose(f))
		return vms_error_create(VMS_ERR_IO, "%s: write failed", a->o.scatter_svg);
	return NULL;
}

struct vms_error *vms_xt_finish(struct vms_xt_analyzer *a)
{
	bool had_error = a->err != NULL;
	if (a->o.interval != VMS_XT_INTERVAL_NONE)
		xt_interval_tail(a);
	if (a->o.summary)
		xt_report_summary(a);
	if (a->o.report_pcpu)
		xt_report_pcpu(a);
	xt_out_flush(a);
	fflush(a->out);
	if (a->out_error)
		return vms_error_create(VMS_ERR_IO, "writing the report failed");
	if (!had_error && a->err) /* e.g. no memory for percentiles */
		return vms_error_create(a->err->code, "%s", a->err->message);
	return xt_scatter_svg(a);
}
