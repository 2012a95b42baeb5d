/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xt_gen: write a synthetic but realistic xentrace file of a requested size,
 * for benchmarks and tests of `vmsight xentrace`.
 *
 *	xt_gen [-s SIZE[K|M|G]] [-S SEED] [-p PCPUS] [-d HVM_DOMAINS] [-m] [-c] [-x]
 *	       [-j JSON_FILE] [-T EVENT_LOG] -o TRACE_FILE
 *
 * The trace is a sequence of epochs, as xentrace writes them: for each pcpu
 * (in ascending order) whose ring has data, a cpu_change record and the
 * window of records of that pcpu since the previous epoch.  Windows of one
 * epoch overlap in time, so a reader must merge them by TSC.  Each pcpu
 * keeps a Xen ring position: a record that does not fit before the ring end
 * is preceded by a wrap padding record.  The last pcpu starts late (its first
 * window is in epoch 3).
 *
 * The guests: domain 0 is PV (one vcpu on each of the first min(4, PCPUS)
 * pcpus, v2 hypercalls); HVM domains 1..D have two vcpus each, pinned to
 * pcpus (1 + 2i + j) % PCPUS, and make VMX exits (64-bit) with their handler
 * records and a vmentry, sometimes injecting a virtual interrupt.  Each pcpu
 * alternates between its idle vcpu (with PM idle records) and one of its
 * vcpus: sched_switch records and runstate changes, a wake
 * (blocked->runnable) when the vcpu was blocked, and at the end of the
 * slice a block or a preemption.  Rarely a pcpu loses records: a gap
 * followed by a lost_records record naming the running vcpu.  A window that
 * would exceed the ring size also ends in a loss.
 *
 * Same seed and parameters give the same file; a smaller SIZE gives a prefix
 * of the same simulation (whole epochs).  With -j the totals the generator
 * knows independently of any reader are written as JSON: records (excluding
 * cpu_change), windows, wrap records, lost records, per-vcpu exit,
 * hypercall and injected-vector counts, grant maps per domain.
 *
 * -m adds memory records: dom0 maps grants of the HVM domains
 * (TRC_MEM_PAGE_GRANT_MAP).  Without it the simulation is unchanged.
 * -c adds control-register writes: an eighth of the HVM exits are
 * CR_ACCESS exits with a CR_WRITE64 record, three in four to cr3 (one of
 * six page-table bases per domain, gmfn 0x100000 + domain * 0x100 + k,
 * sometimes the current one: a flush), the others to cr0 or cr4.  Without
 * it the simulation is unchanged.
 * -x adds record variety for the --dump-all comparison with xenalyze: after
 * a quarter of dom0's hypercalls, one more PV record: a v2 hypercall with
 * 32-bit, 64-bit and missing arguments (memory_op), a subcall, a preempted
 * mmu_update, a sched_op with an unknown command, a v1 (64-bit) hypercall,
 * a trap with and without error code, or a page-fault record; and a
 * frequency change after a quarter of the idle periods.  The extra
 * hypercalls are counted in the JSON; after a frequency change, an
 * interrupt handled and an IRQ move-cleanup, unmapped-vector, bind-vector
 * or clear-vector record.  Without it the simulation is
 * unchanged.
 * -T writes one line per event that the interval reports count, with the
 * TSC at which a reader processes it (a TSC-less record takes its pcpu's
 * last TSC):
 *	g DOM TSC                 grant map done for DOM
 *	i DOM VCPU VECTOR TSC     injected virtual interrupt
 *	x DOM VCPU KIND TSC CYC   HVM exit closed at TSC (its vmentry) after
 *	                          CYC cycles; KIND is the last handler record
 *	                          of the vcpu (vmcall, intr, hlt or other)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING 131064u        /* 32 pages - 8: xentrace's default ring data */
#define MAXP 64
#define MAXV 16             /* vcpus per pcpu */
#define IDLE_DOM 32767
#define CPU_HZ 2400000000ull

struct vcpu {
	int did, vid, hvm;
	int state;              /* 0 running, 1 runnable, 2 blocked */
	uint64_t state_tsc;
	uint64_t exits[64], hcalls[64], inj[256];
	uint32_t last_handler;  /* low 12 bits of the last handler record */
	uint64_t cr3;           /* -c: the last cr3 written */
};

struct pcpu {
	int id;
	uint64_t tsc;
	unsigned rpos;                 /* ring position */
	uint8_t *win;                  /* this epoch's window */
	size_t wlen;
	struct vcpu *vc[MAXV];
	int nvc;
	struct vcpu idle;
	struct vcpu *cur;
	uint64_t slice_end;
	uint64_t last_emit_tsc;        /* TSC of the last record with one */
	int lost_pending;
	uint64_t lost_first, lost_count;
};

struct gen {
	uint64_t rng;
	struct pcpu p[MAXP];
	int np;
	struct vcpu *all[256];
	int nall;
	uint64_t records, windows, wraps, lost, lost_events, bytes;
	uint64_t first_tsc, last_tsc;
	int nd, mem, cr, var;
	uint64_t grant_for[101];
	FILE *tlog;
};

static inline uint64_t rnd(struct gen *g)
{
	/* xorshift64* */
	uint64_t x = g->rng;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	g->rng = x;
	return x * 0x2545f4914f6cdd1dull;
}

static inline uint64_t range(struct gen *g, uint64_t lo, uint64_t hi)
{
	return lo + rnd(g) % (hi - lo + 1);
}

static inline void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}

/* Append one record to @p's window (and ring), with a wrap padding record
 * first when it does not fit before the ring end. */
static void emit(struct gen *g, struct pcpu *p, uint32_t event, int tsc,
		 unsigned n, const uint32_t *d)
{
	unsigned size = 4 + (tsc ? 8 : 0) + 4 * n;
	if (p->rpos + size > RING) {
		unsigned pad = RING - p->rpos;   /* 4..36 */
		int pt = pad > 32;
		unsigned pn = (pad - 4 - (pt ? 8 : 0)) / 4;
		uint8_t *b = p->win + p->wlen;
		put32(b, 0x0001f002u | pn << 28 | (pt ? 1u << 31 : 0));
		b += 4;
		if (pt) {
			put32(b, (uint32_t)p->tsc);
			put32(b + 4, (uint32_t)(p->tsc >> 32));
			b += 8;
			p->last_emit_tsc = p->tsc;
		}
		for (unsigned i = 0; i < pn; i++)
			put32(b + 4 * i, (uint32_t)rnd(g));  /* stale ring bytes */
		p->wlen += pad;
		p->rpos = 0;
		g->wraps++;
		g->records++;
	}
	uint8_t *b = p->win + p->wlen;
	put32(b, event | n << 28 | (tsc ? 1u << 31 : 0));
	b += 4;
	if (tsc) {
		put32(b, (uint32_t)p->tsc);
		put32(b + 4, (uint32_t)(p->tsc >> 32));
		b += 8;
		if (!g->first_tsc || p->tsc < g->first_tsc)
			g->first_tsc = p->tsc;
		if (p->tsc > g->last_tsc)
			g->last_tsc = p->tsc;
		p->last_emit_tsc = p->tsc;
	}
	for (unsigned i = 0; i < n; i++)
		put32(b + 4 * i, d[i]);
	p->wlen += size;
	p->rpos = (p->rpos + size) % RING;
	g->records++;
}

#define EMIT(g, p, ev, t, ...) do { \
	const uint32_t w_[] = { __VA_ARGS__ }; \
	emit(g, p, ev, t, sizeof(w_) / 4, w_); \
} while (0)

static void runstate(struct gen *g, struct pcpu *p, struct vcpu *v, int new)
{
	uint32_t ev = 0x00021001u | (uint32_t)v->state << 8 | (uint32_t)new << 4;
	EMIT(g, p, ev, 1, (uint32_t)v->vid | (uint32_t)v->did << 16);
	v->state = new;
	v->state_tsc = p->tsc;
}

static uint32_t ns(uint64_t cyc)
{
	return (uint32_t)(cyc * 10 / 24);
}

/* Switch @p from its current vcpu to @next (old state @old_new). */
static void sched_switch(struct gen *g, struct pcpu *p, struct vcpu *next, int prev_state)
{
	struct vcpu *prev = p->cur;
	if (next->state == 2) {
		EMIT(g, p, 0x00028004u, 1, (uint32_t)next->did, (uint32_t)next->vid);
		p->tsc += range(g, 100, 300);
		runstate(g, p, next, 1);
		p->tsc += range(g, 200, 2000);
	}
	uint64_t slice = range(g, 240000, 7200000);   /* 0.1 - 3 ms */
	EMIT(g, p, 0x0002800eu, 1, (uint32_t)prev->did, (uint32_t)prev->vid, ns(p->tsc - prev->state_tsc));
	p->tsc += range(g, 80, 200);
	EMIT(g, p, 0x0002800fu, 1, (uint32_t)next->did, (uint32_t)next->vid, ns(p->tsc - next->state_tsc), ns(slice));
	p->tsc += range(g, 80, 200);
	EMIT(g, p, 0x0002800au, 1, (uint32_t)prev->did, (uint32_t)prev->vid, (uint32_t)next->did, (uint32_t)next->vid);
	p->tsc += range(g, 80, 200);
	runstate(g, p, prev, prev_state);
	p->tsc += range(g, 80, 200);
	runstate(g, p, next, 0);
	p->cur = next;
	p->slice_end = p->tsc + slice;
}

static const unsigned exit_reason[16] = { 1, 1, 1, 1, 48, 48, 48, 30, 30, 31, 32, 10, 18, 18, 44, 7 };

static void hvm_step(struct gen *g, struct pcpu *p, struct vcpu *v)
{
	unsigned r = exit_reason[rnd(g) & 15];
	if (g->cr && (rnd(g) & 7) == 0)
		r = 28; /* CR_ACCESS */
	uint64_t rip = 0xffffffff81000000ull + (rnd(g) & 0xffffc);
	EMIT(g, p, 0x00081102u, 1, r, (uint32_t)rip, (uint32_t)(rip >> 32));
	uint64_t exit_tsc = p->tsc;
	v->exits[r]++;
	/* the handler record each reason gets below (7: none) */
	switch (r) {
	case 1: v->last_handler = 0x0f; break;
	case 48: v->last_handler = 0x21; break;
	case 30: v->last_handler = 0x16; break;
	case 31: v->last_handler = 0x0c; break;
	case 32: v->last_handler = 0x0d; break;
	case 10: v->last_handler = 0x0e; break;
	case 18: v->last_handler = 0x12; break;
	case 44: v->last_handler = 0x25; break;
	case 28: v->last_handler = 0x109; break;
	default: break;
	}
	switch (r) {
	case 1: {
		static const uint32_t vec[4] = { 0x31, 0xf1, 0xfa, 0xfb };
		EMIT(g, p, 0x0008200fu, 0, vec[rnd(g) & 3]);
		break;
	}
	case 48: {
		uint64_t gpa = (rnd(g) & 0xfffff000ull) | 0x100000000ull;
		EMIT(g, p, 0x00082021u, 0, (uint32_t)gpa, (uint32_t)(gpa >> 32),
		     (uint32_t)(gpa >> 12), 0, 0x181, 0);
		break;
	}
	case 30: {
		static const uint32_t port[4] = { 0x3f8, 0x70, 0x71, 0xcfc };
		uint32_t w = (rnd(g) & 1) ? 0x200 : 0;
		EMIT(g, p, 0x00082016u | w, 0, port[rnd(g) & 3], (uint32_t)rnd(g) & 0xff);
		break;
	}
	case 31:
	case 32: {
		static const uint32_t msr[4] = { 0x1b, 0x6e0, 0x830, 0xc0000080 };
		uint64_t val = rnd(g);
		EMIT(g, p, r == 31 ? 0x0008200cu : 0x0008200du, 0, msr[rnd(g) & 3],
		     (uint32_t)val, (uint32_t)(val >> 32));
		break;
	}
	case 10:
		EMIT(g, p, 0x0008200eu, 0, (uint32_t)rnd(g) & 0xd, 0, 0xd, 0x756e6547, 0x6c65746e, 0x49656e69);
		break;
	case 18: {
		static const uint32_t hc[4] = { 24, 29, 32, 33 };
		EMIT(g, p, 0x00082012u, 0, hc[rnd(g) & 3]);
		break;
	}
	case 44:
		EMIT(g, p, 0x00082025u, 0);
		break;
	case 28: {
		uint32_t cr = 3;
		uint64_t val;
		if ((rnd(g) & 3) == 0) {
			cr = (rnd(g) & 1) ? 0 : 4;
			val = cr ? 0x3626f0 : 0x80050033;
		} else {
			val = (0x100000ull + (uint64_t)v->did * 0x100 + rnd(g) % 6) << 12;
			v->cr3 = val;
		}
		EMIT(g, p, 0x00082109u, 0, cr, (uint32_t)val, (uint32_t)(val >> 32));
		break;
	}
	default:
		break;
	}
	p->tsc += range(g, 800, 12000);
	if ((rnd(g) & 7) == 0) {
		uint32_t vec = (rnd(g) & 1) ? 0xf3 : 0xec;
		EMIT(g, p, 0x00082004u, 0, vec, 0);
		v->inj[vec]++;
		if (g->tlog)
			fprintf(g->tlog, "i %d %d %u %" PRIu64 "\n", v->did, v->vid, vec, p->last_emit_tsc);
	}
	EMIT(g, p, 0x00081001u, 1);
	if (g->tlog) {
		const char *kind = v->last_handler == 0x12 ? "vmcall" : v->last_handler == 0x0f ? "intr" :
				   v->last_handler == 0x13 ? "hlt" : "other";
		fprintf(g->tlog, "x %d %d %s %" PRIu64 " %" PRIu64 "\n", v->did, v->vid, kind, p->tsc,
			p->tsc - exit_tsc);
	}
	p->tsc += range(g, 1000, 30000);
}

static void pv_step(struct gen *g, struct pcpu *p, struct vcpu *v)
{
	static const uint32_t ops[16] = { 1, 1, 13, 13, 20, 20, 23, 23, 23, 24, 24, 29, 29, 32, 15, 26 };
	uint32_t op = ops[rnd(g) & 15];
	v->hcalls[op]++;
	switch (op) {
	case 1: case 26: case 13:      /* argument 1: count */
		EMIT(g, p, 0x0020100du, 1, op | 1u << 22, (uint32_t)range(g, 1, 64));
		break;
	case 20:                       /* arguments 0 and 2 */
		EMIT(g, p, 0x0020100du, 1, op | 1u << 20 | 1u << 24, (uint32_t)range(g, 0, 5), (uint32_t)range(g, 1, 8));
		break;
	case 24:                       /* arguments 0 and 1 */
		EMIT(g, p, 0x0020100du, 1, op | 1u << 20 | 1u << 22, (uint32_t)range(g, 0, 12), (uint32_t)v->vid);
		break;
	case 29:
		EMIT(g, p, 0x0020100du, 1, op | 1u << 20, (uint32_t)range(g, 0, 3));
		break;
	default:
		EMIT(g, p, 0x0020100du, 1, op);
	}
	if (g->var && (rnd(g) & 3) == 0) {
		p->tsc += range(g, 2000, 40000);
		uint64_t ip = 0xffffffff81000000ull + (rnd(g) & 0xffffc);
		uint64_t big = rnd(g);
		switch (rnd(g) & 7) {
		case 0: /* memory_op: a0 32-bit, a1 64-bit, a2 missing, a3 32-bit */
			v->hcalls[12]++;
			EMIT(g, p, 0x0020100du, 1, 12u | 1u << 20 | 2u << 22 | 1u << 26,
			     (uint32_t)range(g, 0, 30), (uint32_t)big, (uint32_t)(big >> 32), (uint32_t)rnd(g));
			break;
		case 1: /* a subcall of a multicall: evtchn_op */
			v->hcalls[32]++;
			EMIT(g, p, 0x0020100eu, 1, 32u | 1u << 20 | 1u << 22, (uint32_t)range(g, 0, 11),
			     (uint32_t)rnd(g));
			break;
		case 2: /* preempted mmu_update */
			v->hcalls[1]++;
			EMIT(g, p, 0x0020100du, 1, 1u | 1u << 22, 0x80000000u | (uint32_t)range(g, 1, 64));
			break;
		case 3: /* sched_op with a command xenalyze does not name */
			v->hcalls[29]++;
			EMIT(g, p, 0x0020100du, 1, 29u | 1u << 20, (uint32_t)range(g, 7, 12));
			break;
		case 4: /* v1 hypercall, 64-bit: eip, eax */
			v->hcalls[17]++;
			EMIT(g, p, 0x00201101u, 1, (uint32_t)ip, (uint32_t)(ip >> 32), 17);
			break;
		case 5: /* trap, 64-bit: eip; trapnr:15 use_ec:1 ec:16 */
			EMIT(g, p, 0x00201103u, 1, (uint32_t)ip, (uint32_t)(ip >> 32),
			     (rnd(g) & 1) ? 13u | 1u << 15 | (uint32_t)(rnd(g) & 0xfff8) << 16 : 6u);
			break;
		case 6: /* page fault, 64-bit: eip, addr, error code */
			EMIT(g, p, 0x00201104u, 1, (uint32_t)ip, (uint32_t)(ip >> 32), (uint32_t)big,
			     (uint32_t)(big >> 32), (uint32_t)(rnd(g) & 0x1f));
			break;
		default: /* an argument-less v2 hypercall: xen_version */
			v->hcalls[17]++;
			EMIT(g, p, 0x0020100du, 1, 17);
		}
	}
	p->tsc += range(g, 2000, 40000);
	if (g->mem && g->nd && (rnd(g) & 7) == 0) {
		/* dom0 maps a page granted by an HVM domain */
		uint32_t dom = (uint32_t)range(g, 1, (uint64_t)g->nd);
		EMIT(g, p, 0x0010f001u, 1, dom);
		g->grant_for[dom]++;
		if (g->tlog)
			fprintf(g->tlog, "g %u %" PRIu64 "\n", dom, p->tsc);
		p->tsc += range(g, 500, 5000);
	}
}

/* One step of @p: a guest exit/hypercall, or a scheduling decision. */
static void step(struct gen *g, struct pcpu *p)
{
	struct vcpu *c = p->cur;
	if (p->lost_pending) {
		/* The ring was full: records were dropped until now. */
		p->tsc += range(g, 1000, 5000);
		EMIT(g, p, 0x0001f001u, 1, (uint32_t)p->lost_count,
		     (uint32_t)c->did | (uint32_t)c->vid << 16,
		     (uint32_t)p->lost_first, (uint32_t)(p->lost_first >> 32));
		g->lost += p->lost_count;
		g->lost_events++;
		p->lost_pending = 0;
		return;
	}
	if (c == &p->idle) {
		uint64_t idle = range(g, 24000, 1200000);   /* 10 us - 0.5 ms */
		EMIT(g, p, 0x00801002u, 1, 2, (uint32_t)p->tsc, ns(idle) / 1000, ns(idle) / 1000);
		p->tsc += idle;
		EMIT(g, p, 0x00801003u, 1, 2, (uint32_t)p->tsc, 0, 0, 0, 0);
		p->tsc += range(g, 200, 2000);
		if (g->var && (rnd(g) & 3) == 0) {
			/* old and new frequency (MHz) */
			EMIT(g, p, 0x00801001u, 1, (uint32_t)range(g, 800, 3600), (uint32_t)range(g, 800, 3600));
			p->tsc += range(g, 200, 2000);
			/* an interrupt handled, then an IRQ vector record */
			uint32_t irq = (uint32_t)range(g, 16, 120), vec = (uint32_t)range(g, 0x30, 0xef);
			EMIT(g, p, 0x00802008u, 1, irq, (uint32_t)p->tsc, (uint32_t)(p->tsc + range(g, 300, 9000)));
			p->tsc += range(g, 9000, 12000);
			switch (rnd(g) & 3) {
			case 0: /* move cleanup (delayed or not): irq, vector, cpu */
				EMIT(g, p, 0x00802001u + (uint32_t)(rnd(g) & 1), 1, irq, vec, (uint32_t)p->id);
				break;
			case 1:
				EMIT(g, p, 0x00802007u, 1, vec);
				break;
			default: /* bind or clear: irq and vector packed, cpu mask */
				EMIT(g, p, (rnd(g) & 1) ? 0x00802003u : 0x00802004u, 1, irq | vec << 16,
				     1u << p->id, 0, 0, 0);
			}
			p->tsc += range(g, 200, 2000);
		}
		if (p->nvc)
			sched_switch(g, p, p->vc[rnd(g) % (unsigned)p->nvc], 1);
		return;
	}
	if (p->tsc >= p->slice_end) {
		int block = (rnd(g) % 10) < 7;
		if (block)
			EMIT(g, p, 0x00028006u, 1, (uint32_t)c->did, (uint32_t)c->vid);
		p->tsc += range(g, 200, 1000);
		sched_switch(g, p, &p->idle, block ? 2 : 1);
		p->slice_end = p->tsc;
		return;
	}
	if (rnd(g) % 200000 == 0) {
		/* A hole: dom0 did not run xentrace in time. */
		p->lost_first = p->tsc;
		uint64_t gap = range(g, 50000, 2000000);
		p->lost_count = gap / 3000 + 1;
		p->tsc += gap;
		p->lost_pending = 1;
		return;
	}
	if (c->hvm)
		hvm_step(g, p, c);
	else
		pv_step(g, p, c);
}

static int write_all(FILE *f, const void *b, size_t n)
{
	return fwrite(b, 1, n, f) == n ? 0 : -1;
}

static uint64_t parse_size(const char *s)
{
	char *e;
	double v = strtod(s, &e);
	switch (*e) {
	case 'k': case 'K': v *= 1024; break;
	case 'm': case 'M': v *= 1024 * 1024; break;
	case 'g': case 'G': v *= 1024.0 * 1024 * 1024; break;
	default: break;
	}
	return (uint64_t)v;
}

static void json(struct gen *g, FILE *f)
{
	fprintf(f, "{\"records\": %" PRIu64 ", \"bytes\": %" PRIu64 ", \"windows\": %" PRIu64
		", \"wrap_records\": %" PRIu64 ", \"lost_records\": %" PRIu64 ", \"lost_events\": %" PRIu64
		", \"pcpus\": %d, \"first_tsc\": %" PRIu64 ", \"last_tsc\": %" PRIu64 ", \"vcpus\": {",
		g->records, g->bytes, g->windows, g->wraps, g->lost, g->lost_events, g->np,
		g->first_tsc, g->last_tsc);
	for (int i = 0; i < g->nall; i++) {
		struct vcpu *v = g->all[i];
		fprintf(f, "%s\n  \"d%dv%d\": {\"hvm\": %d, \"exits\": {", i ? "," : "", v->did, v->vid, v->hvm);
		const char *sep = "";
		for (int r = 0; r < 64; r++)
			if (v->exits[r]) {
				fprintf(f, "%s\"%d\": %" PRIu64, sep, r, v->exits[r]);
				sep = ", ";
			}
		fprintf(f, "}, \"hypercalls\": {");
		sep = "";
		for (int r = 0; r < 64; r++)
			if (v->hcalls[r]) {
				fprintf(f, "%s\"%d\": %" PRIu64, sep, r, v->hcalls[r]);
				sep = ", ";
			}
		fprintf(f, "}, \"injections\": {");
		sep = "";
		for (int r = 0; r < 256; r++)
			if (v->inj[r]) {
				fprintf(f, "%s\"%d\": %" PRIu64, sep, r, v->inj[r]);
				sep = ", ";
			}
		fprintf(f, "}}");
	}
	fprintf(f, "\n}, \"grant_maps_for\": {");
	const char *sep = "";
	for (int d = 0; d <= 100; d++)
		if (g->grant_for[d]) {
			fprintf(f, "%s\"%d\": %" PRIu64, sep, d, g->grant_for[d]);
			sep = ", ";
		}
	fprintf(f, "}}\n");
}

int main(int argc, char **argv)
{
	uint64_t size = 64 << 20, seed = 1;
	int np = 8, nd = 4;
	const char *out = NULL, *jpath = NULL, *tpath = NULL;
	int c, mem = 0, cr = 0, var = 0;
	while ((c = getopt(argc, argv, "s:S:p:d:o:j:T:mcxh")) != -1) {
		switch (c) {
		case 's': size = parse_size(optarg); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'p': np = atoi(optarg); break;
		case 'd': nd = atoi(optarg); break;
		case 'o': out = optarg; break;
		case 'j': jpath = optarg; break;
		case 'T': tpath = optarg; break;
		case 'm': mem = 1; break;
		case 'c': cr = 1; break;
		case 'x': var = 1; break;
		default:
			fprintf(stderr, "usage: xt_gen [-s SIZE[K|M|G]] [-S SEED] [-p PCPUS(2-%d)] "
				"[-d HVM_DOMAINS(0-100)] [-m] [-c] [-x] [-j JSON] [-T EVENT_LOG] -o TRACE\n", MAXP);
			return c == 'h' ? 0 : 64;
		}
	}
	if (!out || np < 2 || np > MAXP || nd < 0 || nd > 100) {
		fprintf(stderr, "xt_gen: need -o FILE, 2-%d pcpus, 0-100 domains\n", MAXP);
		return 64;
	}
	struct gen *g = calloc(1, sizeof(*g));
	if (!g)
		return 2;
	g->rng = seed * 0x9e3779b97f4a7c15ull + 0x1234567;
	g->np = np;
	g->nd = nd;
	g->mem = mem;
	g->cr = cr;
	g->var = var;
	if (tpath) {
		g->tlog = fopen(tpath, "w");
		if (!g->tlog) {
			fprintf(stderr, "xt_gen: %s: %s\n", tpath, strerror(errno));
			return 2;
		}
	}
	uint64_t base = 1000000000000ull + (rnd(g) & 0xffffffffull);
	for (int i = 0; i < np; i++) {
		struct pcpu *p = &g->p[i];
		p->id = i;
		p->tsc = base + range(g, 0, 20000);
		p->rpos = (unsigned)(rnd(g) % (RING / 4)) * 4;
		p->win = malloc(RING + 4096);
		if (!p->win)
			return 2;
		p->idle = (struct vcpu){ .did = IDLE_DOM, .vid = i, .state = 0, .state_tsc = p->tsc };
		p->cur = &p->idle;
		p->slice_end = p->tsc;
	}
	/* domain 0: PV, one vcpu on each of the first min(4, np) pcpus */
	for (int v = 0; v < np && v < 4; v++) {
		struct vcpu *x = calloc(1, sizeof(*x));
		*x = (struct vcpu){ .did = 0, .vid = v, .hvm = 0, .state = 1, .state_tsc = base };
		g->all[g->nall++] = x;
		struct pcpu *p = &g->p[v];
		p->vc[p->nvc++] = x;
	}
	for (int d = 1; d <= nd; d++)
		for (int j = 0; j < 2; j++) {
			struct pcpu *p = &g->p[(1 + 2 * (d - 1) + j) % np];
			if (p->nvc >= MAXV || g->nall >= 256)
				continue;
			struct vcpu *x = calloc(1, sizeof(*x));
			*x = (struct vcpu){ .did = d, .vid = j, .hvm = 1, .state = 1, .state_tsc = base };
			g->all[g->nall++] = x;
			p->vc[p->nvc++] = x;
		}
	FILE *f = fopen(out, "wb");
	if (!f) {
		fprintf(stderr, "xt_gen: %s: %s\n", out, strerror(errno));
		return 2;
	}
	static char obuf[1 << 20];
	setvbuf(f, obuf, _IOFBF, sizeof(obuf));
	uint64_t epoch_end = base;
	for (int e = 0; g->bytes < size; e++) {
		epoch_end += range(g, 2400000, 9600000);   /* 1 - 4 ms */
		for (int i = 0; i < np; i++) {
			struct pcpu *p = &g->p[i];
			p->wlen = 0;
			if (i == np - 1 && e < 3) {
				/* the last pcpu starts late */
				p->tsc = epoch_end;
				p->idle.state_tsc = p->tsc;
				p->slice_end = p->tsc;
				continue;
			}
			while (p->tsc < epoch_end) {
				if (p->wlen + 512 > RING) {
					/* ring full: the rest of this epoch is lost */
					if (!p->lost_pending) {
						p->lost_pending = 1;
						p->lost_first = p->tsc;
						p->lost_count = 0;
					}
					p->lost_count += (epoch_end - p->tsc) / 3000 + 1;
					p->tsc = epoch_end;
					break;
				}
				step(g, p);
			}
			if (!p->wlen)
				continue;
			uint8_t hdr[12];
			put32(hdr, 0x2001f003u);
			put32(hdr + 4, (uint32_t)i);
			put32(hdr + 8, (uint32_t)p->wlen);
			if (write_all(f, hdr, 12) || write_all(f, p->win, p->wlen)) {
				fprintf(stderr, "xt_gen: %s: %s\n", out, strerror(errno));
				return 2;
			}
			g->windows++;
			g->bytes += 12 + p->wlen;
		}
	}
	if (fclose(f)) {
		fprintf(stderr, "xt_gen: %s: %s\n", out, strerror(errno));
		return 2;
	}
	if (jpath) {
		FILE *j = strcmp(jpath, "-") ? fopen(jpath, "w") : stdout;
		if (!j) {
			fprintf(stderr, "xt_gen: %s: %s\n", jpath, strerror(errno));
			return 2;
		}
		json(g, j);
		if (j != stdout)
			fclose(j);
	}
	if (g->tlog && fclose(g->tlog)) {
		fprintf(stderr, "xt_gen: %s: write failed\n", tpath);
		return 2;
	}
	for (int i = 0; i < g->nall; i++)
		free(g->all[i]);
	for (int i = 0; i < np; i++)
		free(g->p[i].win);
	free(g);
	return 0;
}
