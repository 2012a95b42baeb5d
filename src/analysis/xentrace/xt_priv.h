/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal state of the xentrace analyzer (not public API). */
#ifndef VMSIGHT_XT_PRIV_H
#define VMSIGHT_XT_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <stdint.h>
#include <stdio.h>

#include <vmsight/xentrace.h>

#define XT_MAX_CPUS VMS_XT_MAX_CPUS
#define XT_IDLE_DOMAIN 32767
#define XT_DEFAULT_DOMAIN 32768

/* Event ids */
#define XT_LOST_RECORDS      0x0001f001u
#define XT_WRAP_BUFFER       0x0001f002u
#define XT_CPU_CHANGE        0x0001f003u
#define XT_LOST_RECORDS_END  0x0001f032u  /* internal, never in files */
#define XT_64_FLAG           0x100u
#define XT_HVM_HANDLER       0x00082000u

enum { RS_RUNNING, RS_RUNNABLE, RS_BLOCKED, RS_OFFLINE, RS_LOST, RS_QUEUED,
       RS_INIT, RS_MAX };
enum { RN_WAKE, RN_PREEMPT, RN_OTHER, RN_INVALID, RN_MAX };
enum { DS_BLOCKED, DS_PARTIAL_RUN, DS_FULL_RUN, DS_PARTIAL_CONTENTION,
       DS_CONCURRENCY_HAZARD, DS_FULL_CONTENTION, DS_LOST, DS_MAX };
enum { TL_GEN, TL_SCHED, TL_DOM0OP, TL_HVM, TL_MEM, TL_PV, TL_SHADOW, TL_HW,
       TL_MAX };
enum { HV_VMENTRY, HV_VMEXIT, HV_HANDLER, HV_EMUL, HV_MAX };
/* --interval-domain-short-summary columns after "running" (xenalyze's
 * hvm_short_summary order) */
enum { HSS_EMULATE, HSS_UNSYNC, HSS_FIXUP, HSS_MMIO, HSS_PROPAGATE, HSS_CR3,
       HSS_VMCALL, HSS_INTERRUPT, HSS_HLT, HSS_OTHER, HSS_MAX };
/* --interval-domain-guest-interrupt: vectors tracked (xenalyze's limit) */
#define XT_INTERVAL_GI_MAX 10
/* TRC_MEM minors */
enum { MEM_GRANT_MAP = 1, MEM_GRANT_UNMAP, MEM_GRANT_TRANSFER, MEM_SET_P2M,
       MEM_DECREASE_RESERVATION, MEM_POD_POPULATE = 16, MEM_POD_ZERO_RECLAIM,
       MEM_POD_SPLINTER, MEM_MAX };
enum { POD_CTX_UNKNOWN, POD_CTX_FAULT, POD_CTX_BALLOON, POD_CTX_MAX };
#define XT_POD_ORDER_MAX 4

#define XT_EXIT_MAX 1025          /* SVM NPF is 1024 */
#define XT_HYPERCALL_NAMED 38     /* xenalyze's table size */
#define XT_HYPERCALL_MAX 64       /* ours */
#define XT_CSTATE_MAX 5           /* xenalyze's CSTATE_MAX */
#define XT_GUEST_INT_MAX 256
#define XT_HANDLER_MAX 0x28

/* A bucket of durations: count, sum and percentile samples.  Samples are
 * kept as 32-bit values (half the memory and bandwidth of xenalyze's 64
 * bits) until one does not fit; the bucket is then widened to 64 bits, in
 * the same order. */
struct xt_sum {
	uint32_t event_count;  /* incl. zero-length events */
	uint32_t count;        /* non-zero events */
	uint64_t cycles;
	void *sample;          /* uint32_t[], or int64_t[] when wide */
	uint32_t sample_size;
	bool wide;
	uint64_t interval_cycles;
};

struct xt_cfg_samples { int size, max; };
void xt_sum_add_slow(struct xt_sum *s, uint64_t c, const struct xt_cfg_samples *cfg);
/* Add a duration; the common case (a free narrow sample slot, a duration
 * of 1 to 2^32-1 cycles) is inline. */
static inline void xt_sum_add(struct xt_sum *s, uint64_t c,
			      const struct xt_cfg_samples *cfg)
{
	if (c - 1 < UINT32_MAX && s->count < s->sample_size && !s->wide) {
		s->event_count++;
		((uint32_t *)s->sample)[s->count++] = (uint32_t)c;
		s->cycles += c;
		s->interval_cycles += c;
		return;
	}
	xt_sum_add_slow(s, c, cfg);
}
void xt_sum_free(struct xt_sum *s);
/* Percentiles of a bucket's first n samples: count percentiles (order
 * statistics of rank n*p/100) and xenalyze's self-weighted ones (p50, p5,
 * p95 computed in that order on one array, as xenalyze does).  They may
 * reorder the samples. */
bool xt_sum_pct_count3(struct xt_sum *s, uint32_t n, int64_t *p5, int64_t *p50, int64_t *p95);
bool xt_sum_pct_weighted3(struct xt_sum *s, uint32_t n, int64_t *p5, int64_t *p50, int64_t *p95);
int64_t xt_pct_weighted(int64_t *a, uint32_t n, int p);

/* Handler sub-line kinds under an exit reason */
enum { HK_GENERIC, HK_VMCALL, HK_INTR, HK_MMIO, HK_CR };
/* CR writes: per-cr buckets below xenalyze's CR_MAX, cr3 writes by the
 * number of shadow resyncs in the exit (RESYNCS_MAX) */
#define XT_CR_MAX 9
#define XT_RESYNCS_MAX 17
/* Distinct guest cr3 values tracked (over all domains) by
 * --with-cr3-enumeration and the cr3 interval reports; later new values
 * are not tracked (reported with -v). */
#define XT_CR3_MAX 65536

/* One guest cr3 value (page-table base gmfn) of one domain */
struct xt_cr3 {
	struct xt_cr3 *next;   /* the domain's values, creation order */
	struct xt_cr3 *gnext;  /* all values, creation order */
	struct xt_cr3 *hnext;  /* hash chain */
	const struct xt_domain *d;
	uint64_t gmfn;
	int id;
	uint64_t first_time, last_time, run_time;
	struct xt_sum total_time, guest_time, hv_time;
	uint32_t total_iv_count;   /* total_time periods this interval */
	uint32_t switch_count, flush_count;
	bool dirty;                /* in the ordered report's list */
	struct xt_sum hss[HSS_MAX];
};
struct xt_hnode {
	struct xt_hnode *next;
	int kind, id;
	struct xt_sum s;   /* HK_GENERIC */
};

struct xt_ioaddr {
	struct xt_ioaddr *next;
	uint64_t pa;
	uint32_t va;
	struct xt_sum s[2];
};

struct xt_gi {
	uint32_t count;
	uint64_t start_tsc;
	int is_wake;
	struct xt_sum runtime[4];
};

struct xt_vlapic_ipi { int vec, count, injected, valid; uint64_t first_tsc; };
#define XT_VLAPIC_LIST 16

struct xt_hvm {
	bool init, vmexit_valid, summary_info, svm;
	bool vla_used;           /* some vla[] entry was ever valid */
	unsigned exit_reason;
	uint64_t rip, exit_tsc, entry_tsc, arc_cycles;
	int post;                /* post-processing kind, see analyze.c */
	uint32_t inflight_event; /* generic handler event, 0 = none */
	unsigned io_port; int io_write;
	unsigned vmcall_eax;
	unsigned intr_vec;
	uint64_t mmio_gpa; int mmio_write, mmio_data_valid; uint32_t mmio_va;
	int event_handler;
	uint64_t last_rdtsc;
	/* short-summary kind chosen by a handler for the open exit
	 * (HSS_MAX: by event handler at close) */
	int short_kind;
	/* cr3 tracking (xenalyze's v->cr3) and the open CR write */
	uint64_t cr3_val, cr3_start;
	struct xt_cr3 *cr3;
	unsigned cr_write_cr;
	uint64_t cr_write_val;
	unsigned resyncs;
	struct xt_sum cr_write[XT_CR_MAX];
	struct xt_sum cr3_resyncs[XT_RESYNCS_MAX + 1];
	struct {
		int waking, vector, interrupts, interrupts_wanting_tsc;
	} w2h;
	struct xt_sum exit[XT_EXIT_MAX + 1];
	struct xt_hnode *handlers[XT_EXIT_MAX + 1];
	struct xt_sum vmcall[XT_HYPERCALL_MAX + 1];
	uint32_t extint[257];
	struct xt_sum mmio[4];
	struct xt_gi gi[XT_GUEST_INT_MAX + 1];
	struct xt_ioaddr *pio, *mmio_list;
	struct xt_vlapic_ipi vla[XT_VLAPIC_LIST];
};

enum { PVE_HYPERCALL = 1, PVE_TRAP = 3, PVE_PAGE_FAULT, PVE_FORCED_INVALID_OP,
       PVE_EMULATE_PRIVOP, PVE_EMULATE_4GB, PVE_MATH_STATE_RESTORE,
       PVE_PAGING_FIXUP, PVE_GDT_LDT_MAPPING_FAULT, PVE_PTWR_EMULATION,
       PVE_PTWR_EMULATION_PAE, PVE_HYPERCALL_V2, PVE_HYPERCALL_SUBCALL,
       PVE_MAX };
struct xt_pv {
	bool summary_info;
	uint32_t count[PVE_MAX];
	uint32_t hypercall[XT_HYPERCALL_MAX + 1];
	uint32_t trap[32];
};

struct xt_domain;
struct xt_pcpu;

struct xt_vcpu {
	int vid;
	struct xt_domain *d;
	struct xt_pcpu *p;
	bool activated, delayed_init;
	bool idle;               /* d->did == XT_IDLE_DOMAIN, without a load */
	int data_type;           /* 0 none, 1 hvm, 2 pv */
	struct {
		int state, runnable_state;
		uint64_t tsc;
		struct xt_last_old { int wrong, actual, pid; uint64_t tsc; } last_old;
	} rs;
	uint64_t pcpu_tsc;
	struct xt_sum runstates[RS_MAX];
	struct xt_sum runnable[RN_MAX];
	struct xt_sum aff_all;
	struct xt_sum *aff_pcpu; /* XT_MAX_CPUS, allocated lazily */
	struct xt_hvm *hvm;
	struct xt_pv *pv;
};

struct xt_domain {
	struct xt_domain *next;
	int did;
	int max_vid;
	struct xt_vcpu *vcpu[XT_MAX_CPUS];
	int runstate;
	uint64_t runstate_tsc;
	struct xt_sum runstates[DS_MAX];
	struct xt_sum total_time;
	int interval_col;         /* column index in the interval table, -1 */
	/* single-domain interval modes */
	uint64_t hss_iv[HSS_MAX];
	uint32_t *gi_iv;          /* XT_GUEST_INT_MAX + 1, guest-interrupt mode */
	/* memory records: grant ops done by / for, PoD */
	uint32_t mem_done[MEM_MAX], mem_done_for[MEM_MAX];
	uint32_t grant_map_iv;
	struct xt_cr3 *cr3_head, **cr3_tail;
	struct {
		uint32_t populate_order[XT_POD_ORDER_MAX];
		uint32_t reclaim_order[XT_POD_ORDER_MAX];
		uint32_t reclaim_context[POD_CTX_MAX];
		uint32_t reclaim_context_order[POD_CTX_MAX][XT_POD_ORDER_MAX];
	} pod;
};

struct xt_rec {
	uint64_t offset;
	uint32_t event;
	unsigned n;           /* right after event: read_rec_at stores both at once */
	int has_tsc;
	unsigned size;
	uint64_t tsc;
	uint32_t d[7];
	int cpu;
};
_Static_assert(offsetof(struct xt_rec, n) == offsetof(struct xt_rec, event) + 4 &&
	       sizeof(unsigned) == 4, "xt_rec: n must follow event");

struct xt_pcpu {
	int pid;
	bool active, summary, ever;
	uint64_t first_tsc, last_tsc, order_tsc, raw_last_tsc;
	uint64_t file_offset, next_cpu_change_offset, win_end;
	int last_cpu_change_pid;
	int power_state;          /* last pm_idle_start C-state (0..XT_CSTATE_MAX) */
	struct xt_rec ri;
	struct xt_vcpu *current;
	struct {
		bool active, domain_valid, seen_valid_schedule;
		unsigned did, vid;
		uint64_t tsc;
	} lost;
	int64_t skew_offset;
	uint64_t skew_down[XT_MAX_CPUS / 64];
	uint64_t vol[TL_MAX], vol_hvm[HV_MAX], vol_sched_verbose;
	struct {
		uint64_t tsc;
		struct xt_sum idle, running, lost;
	} time;
	/* The bytes [map_lo, map_hi) of the trace are at map: a shared mapped
	 * chunk (chunk = slot + 1, 0 = none), the pread fallback buffer, or
	 * the in-memory source. */
	const uint8_t *map;
	uint64_t map_lo, map_hi;
	int chunk;
	/* pread fallback buffer when mmap is not possible */
	uint8_t *buf;
};

/* A mapped chunk of the trace file, shared by the pcpu cursors in it.
 * Cursors only move forward, so a chunk is unmapped when its last cursor
 * leaves: the mapped memory is bounded by the number of pcpus, not by the
 * trace length. */
struct xt_chunk {
	uint64_t start;
	uint8_t *base;
	size_t len;
	int refs;
};

struct xt_symbol { uint64_t addr; char *name; };

struct xt_irow { char *text; };

struct vms_xt_analyzer {
	struct vms_xt_options o;
	struct xt_cfg_samples samples;
	uint64_t cpu_qhz;
	FILE *out, *warn;
	/* report output buffer (out.c) */
	char *ob;
	size_t ob_len, ob_cap;
	bool out_error;
	/* source */
	const uint8_t *mem;
	int fd;
	uint64_t file_size;
	bool no_mmap;
	struct xt_chunk chunk[XT_MAX_CPUS];
	/* global */
	struct xt_pcpu *pcpu;          /* XT_MAX_CPUS */
	struct xt_pcpu *order[XT_MAX_CPUS + 1];
	uint64_t okey[XT_MAX_CPUS + 1];     /* order[i]->order_tsc */
	int max_active_pcpu;
	uint64_t last_epoch_offset;
	bool early_eof;
	int lost_cpus;
	uint64_t first_tsc, last_tsc, total_cycles, now;
	struct xt_domain default_domain;
	struct xt_domain *domains;
	/* dump pcpu string */
	char pstr[XT_MAX_CPUS + 1];
	int pstr_max, pstr_last;
	char hdr[XT_MAX_CPUS + 64];
	char tbuf[32];
	uint8_t scanbuf[64];
	bool warned_emul;
	/* intervals */
	uint64_t interval_cycles, interval_start;
	struct xt_domain **icols;
	int n_icols, cap_icols;
	struct xt_domain *idom;       /* single-domain interval modes */
	int ivec[XT_INTERVAL_GI_MAX]; /* guest-interrupt columns, 0 = free */
	char **irows; size_t n_irows, cap_irows;
	/* cr3 values (cr3.c) */
	struct xt_cr3 *cr3_head, **cr3_tail;
	struct xt_cr3 **cr3_hash;     /* XT_CR3_HASH chains */
	struct xt_cr3 **cr3_sort;     /* ordered report: values loaded this
					 * interval (XT_CR3_MAX slots) */
	int n_cr3, n_cr3_sort;
	bool cr3_full_warned;
	struct xt_cr3 *icr3[64];      /* cr3 interval columns (listed values) */
	/* scatter (for svg) */
	FILE *svg_tmp;
	/* symbols */
	struct xt_symbol *syms; size_t n_syms;
	char symbuf[160];
	/* results */
	struct vms_error *err;
	struct vms_xt_stats st;
	bool finished_run;
};

/* analyze.c */
void xt_warn(struct vms_xt_analyzer *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xt_fail(struct vms_xt_analyzer *a, enum vms_error_code code,
	     const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void xt_time(const struct vms_xt_analyzer *a, uint64_t tsc,
	     unsigned *s, unsigned *ns);
void xt_runstate_update(struct vms_xt_analyzer *a, struct xt_vcpu *v,
			int new_rs, uint64_t tsc);

/* out.c: buffered report output */
void xt_out_init(struct vms_xt_analyzer *a);
void xt_out_free(struct vms_xt_analyzer *a);
void xt_out_flush(struct vms_xt_analyzer *a);
void xt_outn_slow(struct vms_xt_analyzer *a, const char *s, size_t n);
void xt_outf(struct vms_xt_analyzer *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void xt_voutf(struct vms_xt_analyzer *a, const char *fmt, va_list ap);
void xt_out_u64(struct vms_xt_analyzer *a, uint64_t v);
void xt_out_hex(struct vms_xt_analyzer *a, uint64_t v);

static inline void xt_outn(struct vms_xt_analyzer *a, const char *s, size_t n)
{
	if (a->ob_len + n <= a->ob_cap) {
		memcpy(a->ob + a->ob_len, s, n);
		a->ob_len += n;
	} else {
		xt_outn_slow(a, s, n);
	}
}

static inline void xt_outs(struct vms_xt_analyzer *a, const char *s)
{
	xt_outn(a, s, strlen(s));
}

static inline void xt_outc(struct vms_xt_analyzer *a, char c)
{
	if (a->ob_len < a->ob_cap)
		a->ob[a->ob_len++] = c;
	else
		xt_outn_slow(a, &c, 1);
}

/* cr3.c */
bool xt_cr3_enabled(const struct vms_xt_analyzer *a);
void xt_cr3_switch(struct vms_xt_analyzer *a, struct xt_vcpu *v, uint64_t val);
void xt_cr3_free_all(struct vms_xt_analyzer *a);
void xt_cr3_dump_list(struct vms_xt_analyzer *a, const struct xt_domain *d);
void xt_cr3_interval_head(struct vms_xt_analyzer *a);
void xt_cr3_interval_row(struct vms_xt_analyzer *a, const char *t);
void xt_cr3_interval_tail(struct vms_xt_analyzer *a);
void xt_print_time_sum(struct vms_xt_analyzer *a, struct xt_sum *s, const char *label);
void xt_print_event_sum(struct vms_xt_analyzer *a, struct xt_sum *s, const char *label);

/* report.c */
void xt_report_summary(struct vms_xt_analyzer *a);
void xt_report_pcpu(struct vms_xt_analyzer *a);
void xt_interval_row(struct vms_xt_analyzer *a);
void xt_interval_add_domain(struct vms_xt_analyzer *a, struct xt_domain *d);
void xt_interval_tail(struct vms_xt_analyzer *a);
void xt_interval_head(struct vms_xt_analyzer *a);
void xt_interval_guest_interrupt(struct vms_xt_analyzer *a, struct xt_domain *d,
				 unsigned vec);
void xt_scatter_point(struct vms_xt_analyzer *a, const char *series,
		      uint64_t tsc, double y);
void xt_scatter_u64(struct vms_xt_analyzer *a, const char *series,
		    uint64_t tsc, uint64_t y);
void xt_scatter_irq(struct vms_xt_analyzer *a, uint32_t irq, uint64_t tsc, int pid);
struct vms_error *xt_scatter_svg(struct vms_xt_analyzer *a);

/* names.c */
extern const char *const xt_runstate_name[RS_MAX];
extern const char *const xt_runnable_name[RN_MAX];
extern const char *const xt_domain_runstate_name[DS_MAX];
extern const char *const xt_toplevel_name[TL_MAX];
extern const char *const xt_hvm_vol_name[HV_MAX];
extern const char *const xt_handler_name[XT_HANDLER_MAX];
extern const char *const xt_hypercall_name[XT_HYPERCALL_MAX];
extern const char *const xt_extint_name[256];
extern const char *const xt_gi_case_name[4];
extern const char *const xt_pv_name[PVE_MAX];
extern const char *const xt_hss_name[HSS_MAX];
extern const char *const xt_mem_name[MEM_MAX];
extern const char *const xt_pod_ctx_name[POD_CTX_MAX];
const char *xt_exit_name(int svm, unsigned reason);
/* xenalyze's own table bounds (dump prints names only below these) */
unsigned xt_exit_named_max(int svm);

#endif
