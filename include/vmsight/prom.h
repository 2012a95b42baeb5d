/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Prometheus text exposition format, version 0.0.4 (src/export/prom.c):
 * a writer that keeps samples grouped by metric family, so that samples
 * gathered separately (one set per guest, collected by different threads)
 * render with each family's HELP and TYPE once and its samples together, as
 * the format requires; and a strict parser, for tests and fuzzing.
 *
 * Label values often come from a guest (process names, the kernel release),
 * which is hostile: every value is cleaned before it is escaped
 * (vms_prom_clean_value: valid UTF-8, control bytes replaced, bounded in
 * length, cut on a character boundary), then escaped as the format says
 * (backslash, double quote, newline).  Nothing a guest writes can end a
 * label value, a line or a sample.
 */
#ifndef VMSIGHT_PROM_H
#define VMSIGHT_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vms_prom_type { VMS_PROM_GAUGE, VMS_PROM_COUNTER, VMS_PROM_UNTYPED };

/* "gauge", "counter", "untyped". */
const char *vms_prom_type_name(enum vms_prom_type t);

/* A metric family: its samples are all named @name (counters end in _total,
 * units are in the name: _seconds, _bytes, _ratio). */
struct vms_prom_family {
	const char *name;
	enum vms_prom_type type;
	const char *help;      /* one line; escaped on output */
};

struct vms_prom_label {
	const char *name;      /* [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" */
	const char *value;     /* any bytes up to the NUL: cleaned, then escaped */
};

/* Bound of a label value in bytes (after cleaning, before escaping). */
#define VMS_PROM_LABEL_MAX 64

/* Valid metric and label names as the format defines them. */
bool vms_prom_valid_metric_name(const char *name);
bool vms_prom_valid_label_name(const char *name);

/*
 * Make @len bytes at @src fit to be a label value: invalid UTF-8 (stray
 * continuation bytes, overlong forms, surrogates, code points above
 * U+10FFFF, a sequence cut short) and control characters other than tab
 * and newline (C0, DEL, and NUL) each become U+FFFD; the result is then
 * cut to at most @max bytes on a character boundary.  Writes a
 * NUL-terminated string to @dst (@size must be > @max; @max is lowered to
 * @size - 1 otherwise) and returns its length.
 */
size_t vms_prom_clean_value(char *dst, size_t size, const char *src, size_t len,
			    size_t max);

/*
 * A set of samples, grouped by family, for the families of @fams (the
 * registry: the array and its strings must outlive the set, and every set
 * rendered together must use the same registry).  @max_bytes bounds the
 * text the set holds: a sample past it is dropped and counted
 * (vms_prom_set_dropped), so that memory stays bounded whatever a guest
 * holds.  @max_label is the bound of each label value (0: VMS_PROM_LABEL_MAX).
 */
struct vms_prom_set;
struct vms_error *vms_prom_set_new(const struct vms_prom_family *fams, size_t nfams,
				   size_t max_bytes, size_t max_label,
				   struct vms_prom_set **out);
void vms_prom_set_free(struct vms_prom_set *s);
/* Forget every sample (the registry and bounds stay). */
void vms_prom_set_clear(struct vms_prom_set *s);

/*
 * Add the sample @fam{@labels} @value.  @fam indexes the registry.  Errors
 * (VMS_ERR_INVALID) for a bad family index, an invalid or repeated label
 * name: those are the caller's bugs, never the guest's.  Values may be any
 * double (NaN and infinities print as NaN, +Inf, -Inf).
 */
struct vms_error *vms_prom_add(struct vms_prom_set *s, size_t fam,
			       const struct vms_prom_label *labels, size_t nlabels,
			       double value);
/* Samples dropped because the set was full. */
size_t vms_prom_set_dropped(const struct vms_prom_set *s);
/* Bytes of sample text held. */
size_t vms_prom_set_bytes(const struct vms_prom_set *s);
/* Samples held. */
size_t vms_prom_set_samples(const struct vms_prom_set *s);

/*
 * Render @n sets (NULL entries skipped) as one exposition: for each family
 * of the registry that has a sample in any set, "# HELP", "# TYPE", then the
 * family's samples from each set in set order.  *@out is malloc'ed and
 * NUL-terminated, *@len its length.  Every set must share one registry
 * (the same array); VMS_ERR_INVALID otherwise.
 */
struct vms_error *vms_prom_render(const struct vms_prom_set *const *sets, size_t n,
				  char **out, size_t *len);

/* ---- The parser: a strict reading of text format 0.0.4 ---- */

typedef int (*vms_prom_sample_fn)(const char *name, const struct vms_prom_label *labels,
				  size_t nlabels, double value, void *arg);

/*
 * Parse @len bytes of exposition text, calling @fn for each sample with its
 * label values unescaped (non-zero stops the parse).  Checked: every line
 * ends with '\n' and is blank, a comment, "# HELP name text", "# TYPE name
 * type" or "name{label="value",...} value [timestamp]"; names valid; label
 * values valid UTF-8 with only \\, \" and \n escapes; no label name twice
 * in a sample; HELP and TYPE at most once per family, TYPE before the
 * family's samples; the samples of a family contiguous (a family, once
 * another has started, never continues); no series twice.  The error names
 * the line number and what is wrong.  Safe on arbitrary bytes; a line may
 * be at most 64 KiB with 64 labels.
 */
struct vms_error *vms_prom_parse(const char *text, size_t len, vms_prom_sample_fn fn,
				 void *arg);

#ifdef __cplusplus
}
#endif
#endif
