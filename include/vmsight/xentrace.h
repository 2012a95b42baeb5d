/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xentrace analysis: read Xen's binary trace files (xentrace) and produce
 * the reports of xenalyze (dump, summary, per-pcpu, interval, scatterplot).
 *
 * Usage:
 *	struct vms_xt_options o;
 *	vms_xt_options_init(&o);
 *	o.summary = 1; o.out = stdout;
 *	struct vms_xt_analyzer *a;
 *	err = vms_xt_analyzer_create(&o, &a);
 *	err = vms_xt_analyze_file(a, "trace.bin");   (or _buffer)
 *	vms_xt_finish(a);    (prints the requested end-of-run reports)
 *	vms_xt_analyzer_destroy(a);
 *
 * The analysis runs over a bad file as far as its good part allows: the
 * first problem found (with its file offset) is returned by
 * vms_xt_analyze_*, the reports still cover what was processed.
 * Memory does not grow with trace length except for percentile samples
 * (bounded by sample_max per bucket: 4 bytes a sample, 8 once a bucket
 * holds a duration of 2^32 cycles or more, so 128 or 256 MiB per
 * bucket with the default cap) and the --interval CSV rows.
 */
#ifndef VMSIGHT_XENTRACE_H
#define VMSIGHT_XENTRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMS_XT_MAX_CPUS 256

enum vms_xt_interval_kind {
	VMS_XT_INTERVAL_NONE = 0,
	VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME,     /* listed domains */
	VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL, /* every domain */
	/* One domain, interval_domains[0]: */
	VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY,  /* running % and % per exit kind */
	VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT,/* injected vectors (10 at most) */
	VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS,     /* grant maps done for it */
	/* Guest cr3 values (gmfn = cr3 >> 12); imply cr3_enumeration: */
	VMS_XT_INTERVAL_CR3_SCHEDULE_TIME,     /* listed gmfns, interval_cr3[] */
	VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL, /* every gmfn */
	VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED,  /* gmfns by time, one per line */
	VMS_XT_INTERVAL_CR3_SHORT_SUMMARY,     /* one gmfn, interval_cr3[0] */
};

enum vms_xt_scatter_kind {
	VMS_XT_SCATTER_NONE = 0,
	VMS_XT_SCATTER_RUNSTATE,
	VMS_XT_SCATTER_RUNSTATE_TIME,
	VMS_XT_SCATTER_PCPU,
	VMS_XT_SCATTER_VMEXIT_EIP,
	VMS_XT_SCATTER_EXTINT_CYCLES,    /* arg: vector */
	VMS_XT_SCATTER_INTERRUPT_EIP,    /* arg: vector */
	VMS_XT_SCATTER_IO,               /* arg: port */
	VMS_XT_SCATTER_WAKE_TO_HALT,
	VMS_XT_SCATTER_RDTSC,
	VMS_XT_SCATTER_CR3_SWITCH,       /* cr3 id (with enumeration) or gmfn */
	VMS_XT_SCATTER_IRQ,              /* handled irqs: irq, time, pcpu */
};

/* Default percentile sample sizes (xenalyze's --sample-size and
 * --sample-max defaults).  A bucket holds at most VMS_XT_SAMPLE_MAX_DEFAULT
 * samples of 4 bytes (8 when a duration needs more than 32 bits), 128 MiB
 * (256 MiB); past the cap it keeps a deterministic subsample. */
#define VMS_XT_SAMPLE_SIZE_DEFAULT 1024
#define VMS_XT_SAMPLE_MAX_DEFAULT (1 << 25)   /* 33,554,432 */

struct vms_xt_options {
	int dump_all;             /* one line per record */
	int summary;              /* per-domain/vcpu summary at the end */
	int report_pcpu;          /* per-pcpu running/idle/lost */
	int show_default_domain;  /* also summarise the placeholder domain */
	uint64_t cpu_hz;          /* TSC frequency, default 2.4 GHz */
	int sample_size;          /* initial percentile slots (0: none) */
	int sample_max;           /* cap on slots per bucket (0: unlimited) */
	int mmio_enumeration;     /* per-gpa MMIO table */
	int pio_enumeration;      /* per-port I/O table (default on) */
	int mmio_skip_vga;        /* skip 0xa0000-0xbffff (default on) */
	/* Intervals */
	enum vms_xt_interval_kind interval;
	double interval_seconds;  /* default 1.0; any positive value */
	int interval_csv;         /* CSV with header first */
	int interval_domains[64];
	int n_interval_domains;
	uint64_t interval_cr3[64]; /* gmfns for the cr3 interval reports */
	int n_interval_cr3;
	int cr3_enumeration;      /* per-cr3 tables in the summary */
	/* Scatterplots: text "x y" lines on out; optional SVG file */
	enum vms_xt_scatter_kind scatter;
	unsigned scatter_arg;
	const char *scatter_svg;  /* path of an SVG plot to write, or NULL */
	/* Symbols: "hexaddr name" lines, ascending */
	const char *symbol_file;
	FILE *out;                /* reports (default stdout) */
	FILE *warn;               /* diagnostics, or NULL to drop them */
};

struct vms_xt_analyzer;

/* Counters of what was read, for tests and benchmarks. */
struct vms_xt_stats {
	uint64_t records;         /* records processed (excl. cpu_change) */
	uint64_t windows;         /* cpu_change records seen by owning pcpu */
	uint64_t bytes;           /* file size */
	uint64_t wrap_records;    /* TRC_TRACE_WRAP_BUFFER */
	uint64_t lost_records;    /* sum of LOST_RECORDS counts */
	uint64_t errors;          /* problems found (first one returned) */
	int pcpus;                /* highest pcpu seen + 1 */
	uint64_t first_tsc, last_tsc;
};

void vms_xt_options_init(struct vms_xt_options *o);
/* Parse "2.4G", "100M", "3000000K", "2400000000". */
struct vms_error *vms_xt_parse_hz(const char *s, uint64_t *hz);

struct vms_error *vms_xt_analyzer_create(const struct vms_xt_options *o,
					 struct vms_xt_analyzer **ret);
struct vms_error *vms_xt_analyze_file(struct vms_xt_analyzer *a,
				      const char *path);
/* The buffer must stay valid during the call. */
struct vms_error *vms_xt_analyze_buffer(struct vms_xt_analyzer *a,
					const void *data, size_t len);
/* Print end-of-run reports (interval tail, summary, pcpu report, SVG). */
struct vms_error *vms_xt_finish(struct vms_xt_analyzer *a);
void vms_xt_get_stats(const struct vms_xt_analyzer *a,
		      struct vms_xt_stats *st);
void vms_xt_analyzer_destroy(struct vms_xt_analyzer *a);

/* Low-level: walk the file's windows and records in file order (no merge).
 * The callback gets each record's offset, pcpu, header and payload; return
 * non-zero to stop.  Returns a format error with the offset of the first
 * malformed window or record. */
struct vms_xt_raw_record {
	uint64_t offset;
	int pcpu;
	uint32_t event;           /* bits 0-27 */
	unsigned n_words;
	int has_tsc;
	uint64_t tsc;
	uint32_t d[7];
};
typedef int (*vms_xt_raw_cb)(const struct vms_xt_raw_record *r, void *arg);
struct vms_error *vms_xt_walk_buffer(const void *data, size_t len,
				     vms_xt_raw_cb cb, void *arg);

#ifdef __cplusplus
}
#endif
#endif
