// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * xentrace analyzer engine: per-pcpu cursors over the file's windows, the
 * time-ordered merge, vcpu/runstate tracking, HVM exit arcs, and the
 * --dump-all lines.  The record order and attribution rules are those of
 * xenalyze (described in docs/xentrace.md) so that reports agree with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/text.h"
#include "xt_priv.h"

#define XT_BUF_SIZE (64 * 1024)
/* File sources are mapped in chunks of XT_CHUNK bytes plus a tail, so that
 * any record (at most 40 bytes) starting in a chunk is inside its mapping. */
#define XT_CHUNK (1u << 20)
#define XT_CHUNK_TAIL 4096u

enum { POST_NONE, POST_GENERIC, POST_CR_WRITE, POST_IO_READ, POST_IO_WRITE, POST_VMCALL,
       POST_MMIO, POST_MSR };

void xt_warn(struct vms_xt_analyzer *a, const char *fmt, ...)
{
	if (!a->warn)
		return;
	if (a->warn == a->out)
		xt_out_flush(a);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(a->warn, fmt, ap);
	va_end(ap);
}

void xt_fail(struct vms_xt_analyzer *a, enum vms_error_code code,
	     const char *fmt, ...)
{
	a->st.errors++;
	va_list ap;
	if (a->warn) {
		if (a->warn == a->out)
			xt_out_flush(a);
		va_start(ap, fmt);
		fprintf(a->warn, "error: ");
		vfprintf(a->warn, fmt, ap);
		fprintf(a->warn, "\n");
		va_end(ap);
	}
	if (a->err)
		return;
	va_start(ap, fmt);
	a->err = vms_error_vcreate(code, fmt, ap);
	va_end(ap);
}

static inline uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* ---- options ---- */

void vms_xt_options_init(struct vms_xt_options *o)
{
	memset(o, 0, sizeof(*o));
	o->cpu_hz = 2400000000ULL;
	o->sample_size = VMS_XT_SAMPLE_SIZE_DEFAULT;
	o->sample_max = VMS_XT_SAMPLE_MAX_DEFAULT;
	o->pio_enumeration = 1;
	o->mmio_skip_vga = 1;
	o->interval_seconds = 1.0;
}

struct vms_error *vms_xt_parse_hz(const char *s, uint64_t *hz)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || errno || v <= 0)
		return vms_error_create(VMS_ERR_INVALID, "invalid cpu frequency '%s'", s);
	double mul = 1;
	switch (*end) {
	case '\0': break;
	case 'G': case 'g': mul = 1e9; end++; break;
	case 'M': case 'm': mul = 1e6; end++; break;
	case 'K': case 'k': mul = 1e3; end++; break;
	default:
		return vms_error_create(VMS_ERR_INVALID, "unknown suffix in cpu frequency '%s'", s);
	}
	if (*end && strcmp(end, "Hz") && strcmp(end, "hz"))
		return vms_error_create(VMS_ERR_INVALID, "invalid cpu frequency '%s'", s);
	double r = v * mul;
	if (r < 1000 || r > 1e13)
		return vms_error_create(VMS_ERR_INVALID, "cpu frequency '%s' out of range (1 kHz to 10 THz)", s);
	/* xenalyze converts through a float; do the same so that "2.4G" is
	 * the same number of Hz as there. */
	*hz = (uint64_t)(long long)((float)v * mul);
	return NULL;
}

/* ---- time ---- */

void xt_time(const struct vms_xt_analyzer *a, uint64_t tsc, unsigned *s,
	     unsigned *ns)
{
	if (tsc > a->first_tsc) {
		/* xenalyze's Q10 conversion: (cycles << 10) / (hz*1024/1e9) */
		uint64_t t = ((tsc - a->first_tsc) << 10) / a->cpu_qhz;
		*s = (unsigned)(t / 1000000000ULL);
		*ns = (unsigned)(t % 1000000000ULL);
	} else {
		*s = *ns = 0;
	}
}

static void cycles_time(const struct vms_xt_analyzer *a, uint64_t c,
			unsigned *s, unsigned *ns)
{
	uint64_t t = (c << 10) / a->cpu_qhz;
	*s = (unsigned)(t / 1000000000ULL);
	*ns = (unsigned)(t % 1000000000ULL);
}

/* ---- symbols ---- */

static const char *find_symbol(struct vms_xt_analyzer *a, uint64_t addr)
{
	if (!a->n_syms || addr < a->syms[0].addr)
		return "";
	size_t lo = 0, hi = a->n_syms;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (a->syms[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	snprintf(a->symbuf, sizeof(a->symbuf), " (%s +%" PRIx64 ")",
		 a->syms[lo].name, addr - a->syms[lo].addr);
	return a->symbuf;
}

static struct vms_error *load_symbols(struct vms_xt_analyzer *a, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return vms_error_create(VMS_ERR_IO, "%s: %s", path, strerror(errno));
	char line[512];
	size_t cap = 0, lineno = 0;
	struct vms_error *err = NULL;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *end;
		uint64_t addr = strtoull(line, &end, 16);
		if (end == line)
			continue;
		while (*end == ' ' || *end == '\t')
			end++;
		size_t len = strcspn(end, "\r\n");
		if (!len)
			continue;
		if (a->n_syms && addr < a->syms[a->n_syms - 1].addr) {
			err = vms_error_create(VMS_ERR_FORMAT, "%s:%zu: symbols not in ascending order", path, lineno);
			break;
		}
		if (a->n_syms == cap) {
			cap = cap ? cap * 2 : 256;
			struct xt_symbol *n = realloc(a->syms, cap * sizeof(*n));
			if (!n) { err = &vms_error_nomem; break; }
			a->syms = n;
		}
		/* Printed in reports: a symbol file made from a guest's
		 * kallsyms is guest text, escaped as ps shows names. */
		char *name = malloc(VMS_ESCAPE_PS_SIZE(len));
		if (!name) { err = &vms_error_nomem; break; }
		vms_text_escape(name, VMS_ESCAPE_PS_SIZE(len), end, len, VMS_ESCAPE_PS);
		a->syms[a->n_syms].addr = addr;
		a->syms[a->n_syms++].name = name;
	}
	fclose(f);
	return err;
}

/* ---- create / destroy ---- */

static void interval_domain(struct vms_xt_analyzer *a, struct xt_domain *d)
{
	d->interval_col = -1;
	if (a->o.interval != VMS_XT_INTERVAL_NONE)
		xt_interval_add_domain(a, d);
}

struct vms_error *vms_xt_analyzer_create(const struct vms_xt_options *o,
					 struct vms_xt_analyzer **ret)
{
	struct vms_xt_analyzer *a = calloc(1, sizeof(*a));
	if (!a)
		return &vms_error_nomem;
	a->o = *o;
	a->out = o->out ? o->out : stdout;
	a->warn = o->warn;
	xt_out_init(a);
	if (!a->ob) {
		free(a);
		return &vms_error_nomem;
	}
	a->fd = -1;
	if (o->cpu_hz < 1000) {
		xt_out_free(a);
		free(a);
		return vms_error_create(VMS_ERR_INVALID, "cpu frequency %" PRIu64 " Hz too low", o->cpu_hz);
	}
	a->cpu_qhz = (o->cpu_hz << 10) / 1000000000ULL;
	if (!a->cpu_qhz)
		a->cpu_qhz = 1;
	a->samples.size = o->sample_size < 0 ? 0 : o->sample_size;
	/* percentiles are printed only by these two reports: without them
	 * (--dump-all, intervals, scatterplots) no samples are kept */
	if (!o->summary && !o->report_pcpu)
		a->samples.size = 0;
	a->samples.max = o->sample_max < 0 ? 0 : o->sample_max;
	if (o->interval != VMS_XT_INTERVAL_NONE) {
		bool one = o->interval == VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY ||
			   o->interval == VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT ||
			   o->interval == VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS;
		if (o->n_interval_domains < 0 || o->n_interval_domains > 64 ||
		    (one && o->n_interval_domains != 1)) {
			xt_out_free(a);
			free(a);
			return vms_error_create(VMS_ERR_INVALID, "bad interval domain list (one domain for the short-summary, guest-interrupt and grant-maps reports, at most 64)");
		}
		bool cr3 = o->interval == VMS_XT_INTERVAL_CR3_SCHEDULE_TIME ||
			   o->interval == VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL ||
			   o->interval == VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED ||
			   o->interval == VMS_XT_INTERVAL_CR3_SHORT_SUMMARY;
		if (o->n_interval_cr3 < 0 || o->n_interval_cr3 > 64 ||
		    (o->interval == VMS_XT_INTERVAL_CR3_SCHEDULE_TIME && o->n_interval_cr3 < 1) ||
		    (o->interval == VMS_XT_INTERVAL_CR3_SHORT_SUMMARY && o->n_interval_cr3 != 1) ||
		    (cr3 && o->interval_csv)) {
			xt_out_free(a);
			free(a);
			return vms_error_create(VMS_ERR_INVALID, "bad cr3 interval options (1 to 64 values, one for the short summary; no CSV form)");
		}
		if (!(o->interval_seconds > 0)) {
			xt_out_free(a);
			free(a);
			return vms_error_create(VMS_ERR_INVALID, "interval must be positive");
		}
		double c = o->interval_seconds * (double)o->cpu_hz;
		/* xenalyze truncates to whole ms (0 below 1 ms, then hangs:
		 * its bug #3); we keep the exact length, at least 1 cycle. */
		a->interval_cycles = c < 1 ? 1 : (uint64_t)(c + 0.5);
	}
	a->pcpu = calloc(XT_MAX_CPUS, sizeof(*a->pcpu));
	if (!a->pcpu) {
		xt_out_free(a);
		free(a);
		return &vms_error_nomem;
	}
	for (int i = 0; i < XT_MAX_CPUS; i++) {
		a->pcpu[i].pid = i;
		a->pcpu[i].lost.seen_valid_schedule = true;
	}
	a->max_active_pcpu = -1;
	a->pstr_max = -1;
	a->pstr_last = -1;
	a->default_domain.did = XT_DEFAULT_DOMAIN;
	interval_domain(a, &a->default_domain);
	xt_interval_head(a);
	if (o->symbol_file) {
		struct vms_error *err = load_symbols(a, o->symbol_file);
		if (err) {
			vms_xt_analyzer_destroy(a);
			return err;
		}
	}
	*ret = a;
	return NULL;
}

static void free_hnodes(struct xt_hnode *n)
{
	while (n) {
		struct xt_hnode *next = n->next;
		xt_sum_free(&n->s);
		free(n);
		n = next;
	}
}

static void free_io(struct xt_ioaddr *p)
{
	while (p) {
		struct xt_ioaddr *n = p->next;
		xt_sum_free(&p->s[0]);
		xt_sum_free(&p->s[1]);
		free(p);
		p = n;
	}
}

static void free_vcpu(struct xt_vcpu *v)
{
	for (int i = 0; i < RS_MAX; i++)
		xt_sum_free(&v->runstates[i]);
	for (int i = 0; i < RN_MAX; i++)
		xt_sum_free(&v->runnable[i]);
	xt_sum_free(&v->aff_all);
	if (v->aff_pcpu) {
		for (int i = 0; i < XT_MAX_CPUS; i++)
			xt_sum_free(&v->aff_pcpu[i]);
		free(v->aff_pcpu);
	}
	if (v->hvm) {
		struct xt_hvm *h = v->hvm;
		for (int i = 0; i <= XT_EXIT_MAX; i++) {
			xt_sum_free(&h->exit[i]);
			free_hnodes(h->handlers[i]);
		}
		for (int i = 0; i <= XT_HYPERCALL_MAX; i++)
			xt_sum_free(&h->vmcall[i]);
		for (int i = 0; i < 4; i++)
			xt_sum_free(&h->mmio[i]);
		for (int i = 0; i < XT_CR_MAX; i++)
			xt_sum_free(&h->cr_write[i]);
		for (int i = 0; i <= XT_RESYNCS_MAX; i++)
			xt_sum_free(&h->cr3_resyncs[i]);
		for (int i = 0; i <= XT_GUEST_INT_MAX; i++)
			for (int j = 0; j < 4; j++)
				xt_sum_free(&h->gi[i].runtime[j]);
		free_io(h->pio);
		free_io(h->mmio_list);
		free(h);
	}
	free(v->pv);
	free(v);
}

static void free_domain(struct xt_domain *d)
{
	for (int i = 0; i < XT_MAX_CPUS; i++)
		if (d->vcpu[i])
			free_vcpu(d->vcpu[i]);
	for (int i = 0; i < DS_MAX; i++)
		xt_sum_free(&d->runstates[i]);
	xt_sum_free(&d->total_time);
	free(d->gi_iv);
}

void vms_xt_analyzer_destroy(struct vms_xt_analyzer *a)
{
	if (!a)
		return;
	struct xt_domain *d = a->domains;
	while (d) {
		struct xt_domain *n = d->next;
		free_domain(d);
		free(d);
		d = n;
	}
	free_domain(&a->default_domain);
	xt_cr3_free_all(a);
	if (a->pcpu) {
		for (int i = 0; i < XT_MAX_CPUS; i++) {
			xt_sum_free(&a->pcpu[i].time.idle);
			xt_sum_free(&a->pcpu[i].time.running);
			xt_sum_free(&a->pcpu[i].time.lost);
			free(a->pcpu[i].buf);
		}
		free(a->pcpu);
	}
	for (int i = 0; i < XT_MAX_CPUS; i++)
		if (a->chunk[i].base)
			munmap(a->chunk[i].base, a->chunk[i].len);
	for (size_t i = 0; i < a->n_syms; i++)
		free(a->syms[i].name);
	free(a->syms);
	for (size_t i = 0; i < a->n_irows; i++)
		free(a->irows[i]);
	free(a->irows);
	free(a->icols);
	if (a->svg_tmp)
		fclose(a->svg_tmp);
	if (a->fd >= 0)
		close(a->fd);
	vms_error_free(a->err);
	xt_out_flush(a);
	xt_out_free(a);
	free(a);
}

void vms_xt_get_stats(const struct vms_xt_analyzer *a, struct vms_xt_stats *st)
{
	*st = a->st;
	st->first_tsc = a->first_tsc;
	st->last_tsc = a->last_tsc;
}

/* ---- reading ---- */

static void chunk_release(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	if (p->chunk) {
		struct xt_chunk *c = &a->chunk[p->chunk - 1];
		if (--c->refs == 0) {
			munmap(c->base, c->len);
			c->base = NULL;
		}
		p->chunk = 0;
	}
	p->map = NULL;
	p->map_lo = p->map_hi = 0;
}

/* Map the chunk holding @off for @p; false when mmap is not possible. */
static bool chunk_get(struct vms_xt_analyzer *a, struct xt_pcpu *p, uint64_t off)
{
	uint64_t start = off & ~(uint64_t)(XT_CHUNK - 1);
	chunk_release(a, p);
	int free_slot = -1, slot = -1;
	for (int i = 0; i < XT_MAX_CPUS; i++) {
		if (!a->chunk[i].base) {
			if (free_slot < 0)
				free_slot = i;
		} else if (a->chunk[i].start == start) {
			slot = i;
			break;
		}
	}
	if (slot < 0) {
		if (free_slot < 0)
			return false;  /* cannot happen: one chunk per pcpu */
		uint64_t len = a->file_size - start;
		if (len > XT_CHUNK + XT_CHUNK_TAIL)
			len = XT_CHUNK + XT_CHUNK_TAIL;
		void *m = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			       a->fd, (off_t)start);
		if (m == MAP_FAILED)
			return false;
		slot = free_slot;
		a->chunk[slot] = (struct xt_chunk){ .start = start, .base = m, .len = (size_t)len };
	}
	struct xt_chunk *c = &a->chunk[slot];
	c->refs++;
	p->chunk = slot + 1;
	p->map = c->base;
	p->map_lo = c->start;
	p->map_hi = c->start + c->len;
	return true;
}

static const uint8_t *src_get_slow(struct vms_xt_analyzer *a, struct xt_pcpu *p,
				   uint64_t off, size_t *got)
{
	if (a->mem) {
		if (p) {
			p->map = a->mem;
			p->map_lo = 0;
			p->map_hi = a->file_size;
		}
		return a->mem + off;
	}
	if (!p) {
		ssize_t r = pread(a->fd, a->scanbuf, *got, (off_t)off);
		if (r < 0)
			r = 0;
		*got = (size_t)r;
		return a->scanbuf;
	}
	if (!a->no_mmap) {
		if (chunk_get(a, p, off)) {
			if (off + *got > p->map_hi)  /* not with a tail >= 40 */
				*got = (size_t)(p->map_hi - off);
			return p->map + (off - p->map_lo);
		}
		a->no_mmap = true;
	}
	chunk_release(a, p);
	if (!p->buf) {
		p->buf = malloc(XT_BUF_SIZE);
		if (!p->buf) {
			*got = 0;
			return NULL;
		}
	}
	ssize_t r = pread(a->fd, p->buf, XT_BUF_SIZE, (off_t)off);
	if (r < 0) {
		*got = 0;
		return NULL;
	}
	p->map = p->buf;
	p->map_lo = off;
	p->map_hi = off + (size_t)r;
	if (*got > (size_t)r)
		*got = (size_t)r;
	return p->buf;
}

/* Bytes at @off (up to @want), or NULL with *got = what is available. */
static inline const uint8_t *src_get(struct vms_xt_analyzer *a, struct xt_pcpu *p,
				     uint64_t off, size_t want, size_t *got)
{
	if (off >= a->file_size) {
		*got = 0;
		return NULL;
	}
	uint64_t avail = a->file_size - off;
	*got = avail < want ? (size_t)avail : want;
	if (p && off >= p->map_lo && off + *got <= p->map_hi)
		return p->map + (off - p->map_lo);
	return src_get_slow(a, p, off, got);
}

/* Read the record at @off into @r; returns its size, 0 at EOF, -1 if the
 * record is cut short by the end of the file. */
static inline __attribute__((always_inline))
int read_rec_at(struct vms_xt_analyzer *a, struct xt_pcpu *p,
		uint64_t off, struct xt_rec *r)
{
	size_t got;
	const uint8_t *b = src_get(a, p, off, 40, &got);
	if (!b || got == 0)
		return 0;
	if (got < 4)
		return -1;
	/* the pcpu's next records: the hardware prefetcher stops at page
	 * boundaries, and a prefetch never faults */
	__builtin_prefetch(b + 512);
	uint32_t h = le32(b);
	r->offset = off;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* event and n in one store: the compiler reads them with one 64-bit
	 * load where both are tested (fill_record), and two 32-bit stores
	 * would stall that load (no store forwarding) */
	uint64_t en = (uint64_t)(h & 0x0fffffff) | (uint64_t)((h >> 28) & 7) << 32;
	memcpy(&r->event, &en, sizeof(en));
#else
	r->event = h & 0x0fffffff;
	r->n = (h >> 28) & 7;
#endif
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	if (got >= 40) {
		/* The largest record (40 bytes) is readable: decode without
		 * branches on the header, whose fields vary record by record. */
		unsigned has = h >> 31, n = (h >> 28) & 7;
		r->has_tsc = (int)has;
		r->size = 4 + 8 * has + 4 * n;
		uint64_t t;
		memcpy(&t, b + 4, 8);
		r->tsc = t & -(uint64_t)has;
		const uint8_t *d = b + 4 + 8 * has;
		/* 28 bytes are readable: copy them all and clear the words
		 * past n, without a loop whose length varies per record
		 * (words 2j, 2j+1 in 64-bit piece j) */
#define K_(n, j) ((n) >= 2 * (j) + 2 ? ~0ull : (n) == 2 * (j) + 1 ? 0xffffffffull : 0)
#define KROW_(n) { K_(n, 0), K_(n, 1), K_(n, 2), K_(n, 3) }
		static const uint64_t keep[8][4] = {
			KROW_(0), KROW_(1), KROW_(2), KROW_(3),
			KROW_(4), KROW_(5), KROW_(6), KROW_(7),
		};
#undef KROW_
#undef K_
		const uint64_t *k = keep[n];
		uint64_t w0, w1, w2;
		uint32_t w3;
		memcpy(&w0, d, 8);
		memcpy(&w1, d + 8, 8);
		memcpy(&w2, d + 16, 8);
		memcpy(&w3, d + 24, 4);
		w0 &= k[0];
		w1 &= k[1];
		w2 &= k[2];
		w3 &= (uint32_t)k[3];
		memcpy(&r->d[0], &w0, 8);
		memcpy(&r->d[2], &w1, 8);
		memcpy(&r->d[4], &w2, 8);
		r->d[6] = w3;
		return (int)r->size;
	}
#endif
	r->has_tsc = (int)(h >> 31);
	r->size = 4 + 8 * r->has_tsc + 4 * r->n;
	if (got < r->size)
		return -1;
	const uint8_t *d = b + 4;
	r->tsc = 0;
	if (r->has_tsc) {
		r->tsc = (uint64_t)le32(d) | (uint64_t)le32(d + 4) << 32;
		d += 8;
	}
	memset(r->d, 0, sizeof(r->d));
	for (unsigned i = 0; i < r->n; i++)
		r->d[i] = le32(d + 4 * i);
	return (int)r->size;
}

static bool is_cpu_change(const struct xt_rec *r)
{
	return r->event == XT_CPU_CHANGE && !r->has_tsc;
}

/* ---- record order (sorted by order_tsc; ties keep the last processed
 * pcpu in front) ---- */

/* a->okey[i] is a->order[i]->order_tsc, kept next to the pointers so that
 * the merge does not touch the other pcpus' structures.  Only the pcpu in
 * front changes its order_tsc, and order_bubble() is called right after. */
static void order_insert(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	int i = 0;
	uint64_t key = p->order_tsc;
	while (a->order[i] && a->okey[i] < key)
		i++;
	struct xt_pcpu *cur = p;
	for (; cur; i++) {
		struct xt_pcpu *t = a->order[i];
		uint64_t tk = a->okey[i];
		a->order[i] = cur;
		a->okey[i] = key;
		cur = t;
		key = tk;
	}
}

static void order_remove(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	int i = 0;
	while (a->order[i] && a->order[i] != p)
		i++;
	if (!a->order[i])
		return;
	for (; (a->order[i] = a->order[i + 1]); i++)
		a->okey[i] = a->okey[i + 1];
}

static inline void order_bubble(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	uint64_t key = p->order_tsc;
	int i = 0;
	/* common case: @p is in front */
	if (a->order[0] != p) {
		while (a->order[i] && a->order[i] != p)
			i++;
		if (!a->order[i])
			return;
	}
	for (; a->order[i + 1] && a->okey[i + 1] < key; i++) {
		a->order[i] = a->order[i + 1];
		a->okey[i] = a->okey[i + 1];
	}
	a->order[i] = p;
	a->okey[i] = key;
}

/* ---- pcpu string for dump lines ---- */

static void pstr_draw(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	char c;
	if (p->lost.active)
		c = 'l';
	else if (!p->current)
		c = ' ';
	else if (p->current->d->did == XT_DEFAULT_DOMAIN)
		c = '.';
	else if (p->current->d->did == XT_IDLE_DOMAIN)
		c = '-';
	else
		c = '|';
	a->pstr[p->pid] = c;
}

static const char *pstr(struct vms_xt_analyzer *a, int pcpu)
{
	if (a->pstr_last >= 0)
		pstr_draw(a, &a->pcpu[a->pstr_last]);
	if (a->max_active_pcpu > a->pstr_max) {
		for (int i = a->pstr_max + 1; i <= a->max_active_pcpu; i++)
			pstr_draw(a, &a->pcpu[i]);
		a->pstr_max = a->max_active_pcpu;
	}
	a->pstr[pcpu] = 'x';
	a->pstr_last = pcpu;
	return a->pstr;
}

/* "%3u.%09u" without printf; returns the length. */
static size_t fmt_time(char *b, unsigned s, unsigned ns)
{
	char t[12];
	char *e = t + sizeof(t), *q = e;
	do {
		*--q = (char)('0' + s % 10);
		s /= 10;
	} while (s);
	size_t n = 0;
	for (size_t w = (size_t)(e - q); w < 3; w++)
		b[n++] = ' ';
	memcpy(b + n, q, (size_t)(e - q));
	n += (size_t)(e - q);
	b[n++] = '.';
	for (int i = 8; i >= 0; i--) {
		b[n + (size_t)i] = (char)('0' + ns % 10);
		ns /= 10;
	}
	return n + 9;
}

static size_t fmt_int(char *b, int v)
{
	char t[12];
	char *e = t + sizeof(t), *q = e;
	unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
	do {
		*--q = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--q = '-';
	memcpy(b, q, (size_t)(e - q));
	return (size_t)(e - q);
}

static const char *tstr(struct vms_xt_analyzer *a, uint64_t tsc)
{
	unsigned s, ns;
	xt_time(a, tsc, &s, &ns);
	a->tbuf[fmt_time(a->tbuf, s, ns)] = 0;
	return a->tbuf;
}

/* The dump line prefix: time, pcpu string, current vcpu. */
static void make_header(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	unsigned s, ns;
	xt_time(a, p->ri.tsc, &s, &ns);
	char *h = a->hdr;
	size_t n;
	if (s || ns) {
		n = fmt_time(h, s, ns);
	} else {
		memset(h, ' ', 14);
		n = 14;
	}
	h[n++] = ' ';
	const char *ps = pstr(a, p->pid);
	size_t pl = strlen(ps);
	memcpy(h + n, ps, pl);
	n += pl;
	h[n++] = ' ';
	h[n++] = 'd';
	if (p->current) {
		n += fmt_int(h + n, p->current->d->did);
		h[n++] = 'v';
		n += fmt_int(h + n, p->current->vid);
	} else {
		memcpy(h + n, "?v?", 3);
		n += 3;
	}
	h[n] = 0;
}

/* ---- domains and vcpus ---- */

static struct xt_domain *domain_find(struct vms_xt_analyzer *a, int did)
{
	if (did == XT_DEFAULT_DOMAIN)
		return &a->default_domain;
	struct xt_domain **q = &a->domains, *d = a->domains;
	while (d && d->did < did) {
		q = &d->next;
		d = d->next;
	}
	if (d && d->did == did)
		return d;
	xt_warn(a, "Creating domain %d\n", did);
	struct xt_domain *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	n->did = did;
	interval_domain(a, n);
	n->next = d;
	*q = n;
	return n;
}

static struct xt_vcpu *vcpu_create(struct vms_xt_analyzer *a,
				   struct xt_domain *d, int vid)
{
	xt_warn(a, "Creating vcpu %d for dom %d\n", vid, d->did);
	struct xt_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->vid = vid;
	v->d = d;
	v->idle = d->did == XT_IDLE_DOMAIN;
	v->rs.state = RS_INIT;
	v->rs.last_old.wrong = RS_INIT;
	d->vcpu[vid] = v;
	if (vid > d->max_vid)
		d->max_vid = vid;
	return v;
}

static struct xt_vcpu *vcpu_find(struct vms_xt_analyzer *a, unsigned did,
				 unsigned vid)
{
	if (vid >= XT_MAX_CPUS) {
		/* xenalyze accepts id 256 and overflows (its bug #11) */
		xt_warn(a, "vcpu id %u out of range, record ignored\n", vid);
		return NULL;
	}
	struct xt_domain *d = domain_find(a, (int)did);
	if (!d)
		return NULL;
	return d->vcpu[vid] ? d->vcpu[vid] : vcpu_create(a, d, (int)vid);
}

static struct xt_hvm *hvm_get(struct xt_vcpu *v)
{
	if (!v->hvm) {
		v->hvm = calloc(1, sizeof(*v->hvm));
		if (v->hvm)
			v->hvm->short_kind = HSS_MAX;
	}
	return v->hvm;
}

/* ---- runstates ---- */

static int domain_runstate(struct vms_xt_analyzer *a, struct xt_domain *d)
{
	int n[RS_MAX] = { 0 }, total = 0;
	if (d->did == XT_DEFAULT_DOMAIN)
		return 0;
	for (int i = 0; i <= d->max_vid; i++)
		if (d->vcpu[i] && d->vcpu[i]->rs.state != RS_INIT) {
			total++;
			n[d->vcpu[i]->rs.state]++;
		}
	if (n[RS_LOST] == total)
		return DS_LOST;
	if (n[RS_RUNNING]) {
		if (n[RS_RUNNABLE])
			return DS_CONCURRENCY_HAZARD;
		if (n[RS_BLOCKED] || n[RS_OFFLINE])
			return DS_PARTIAL_RUN;
		return DS_FULL_RUN;
	}
	if (n[RS_RUNNABLE])
		return (n[RS_BLOCKED] || n[RS_OFFLINE]) ? DS_PARTIAL_CONTENTION
							: DS_FULL_CONTENTION;
	if (n[RS_BLOCKED] || n[RS_OFFLINE])
		return DS_BLOCKED;
	xt_warn(a, "Strange, no meaningful runstates for d%d!\n", d->did);
	return DS_LOST; /* only queued/lost vcpus */
}

static const int runstate_graph[RS_MAX] = { 3, 2, 0, 1, -1, -2, -2 };

void xt_runstate_update(struct vms_xt_analyzer *a, struct xt_vcpu *v,
			int new_rs, uint64_t tsc)
{
	struct xt_domain *d = v->d;
	char name[32];
	if (a->o.scatter == VMS_XT_SCATTER_RUNSTATE) {
		snprintf(name, sizeof(name), "%dv%d", d->did, v->vid);
		xt_scatter_point(a, name, tsc, runstate_graph[v->rs.state]);
		xt_scatter_point(a, name, tsc, runstate_graph[new_rs]);
	}
	if (v->rs.tsc > 0 && v->rs.tsc < tsc) {
		uint64_t c = tsc - v->rs.tsc;
		xt_sum_add(&v->runstates[v->rs.state], c, &a->samples);
		if (a->o.scatter == VMS_XT_SCATTER_RUNSTATE_TIME) {
			snprintf(name, sizeof(name), "%dv%d", d->did, v->vid);
			xt_scatter_point(a, name, tsc, (double)c / (double)a->o.cpu_hz);
		}
		if (v->rs.state == RS_RUNNING)
			xt_sum_add(&d->total_time, c, &a->samples);
		if (v->rs.state == RS_RUNNABLE)
			xt_sum_add(&v->runnable[v->rs.runnable_state], c, &a->samples);
	}
	if (new_rs == RS_RUNNABLE) {
		switch (v->rs.state) {
		case RS_RUNNING: v->rs.runnable_state = RN_PREEMPT; break;
		case RS_BLOCKED: case RS_OFFLINE: v->rs.runnable_state = RN_WAKE; break;
		default: v->rs.runnable_state = RN_OTHER; break;
		}
	} else {
		v->rs.runnable_state = RN_INVALID;
	}
	v->rs.state = new_rs;
	v->rs.tsc = tsc;
	if (d->runstate_tsc > 0 && d->runstate_tsc < tsc)
		xt_sum_add(&d->runstates[d->runstate], tsc - d->runstate_tsc, &a->samples);
	d->runstate = domain_runstate(a, d);
	d->runstate_tsc = tsc;
}

static void pcpu_runstate_update(struct vms_xt_analyzer *a, struct xt_pcpu *p,
				 uint64_t tsc)
{
	if (p->time.tsc) {
		if (p->current && p->current->d->did == XT_IDLE_DOMAIN)
			xt_sum_add(&p->time.idle, tsc - p->time.tsc, &a->samples);
		else
			xt_sum_add(&p->time.running, tsc - p->time.tsc, &a->samples);
		p->time.tsc = 0;
	}
}

static void vlapic_clear(struct xt_vcpu *v)
{
	if (v->hvm)
		memset(v->hvm->vla, 0, sizeof(v->hvm->vla));
}

static void lose_vcpu(struct vms_xt_analyzer *a, struct xt_vcpu *v, uint64_t tsc)
{
	if (v->data_type == 1)
		v->hvm->vmexit_valid = false;
	xt_runstate_update(a, v, RS_LOST, tsc);
	vlapic_clear(v);
	if (v->data_type == 1) {
		struct xt_hvm *h = v->hvm;
		if (a->o.dump_all)
			xt_outf(a, " [w2h] Clearing w2h state for d%dv%d\n", v->d->did, v->vid);
		h->w2h.interrupts = h->w2h.vector = h->w2h.waking = 0;
		for (int i = 0; i < XT_GUEST_INT_MAX; i++) {
			if (a->o.dump_all && h->gi[i].start_tsc)
				xt_outf(a, "  Interrupt %d clearing start_tsc %" PRIu64 "\n",
					i, h->gi[i].start_tsc);
			h->gi[i].start_tsc = 0;
		}
	}
}

static void vcpu_prev_update(struct vms_xt_analyzer *a, struct xt_pcpu *p,
			     struct xt_vcpu *prev, uint64_t tsc, int new_rs)
{
	if (prev->p != p) {
		xt_warn(a, "Strange, sched_switch on pcpu %d, prev->pcpu %d!\n",
			p->pid, prev->p ? prev->p->pid : -1);
		prev->rs.tsc = 0;
	} else if (p->current != prev) {
		xt_warn(a, "Strange, sched_switch prev d%dv%d, pcpu %d current not it\n",
			prev->d->did, prev->vid, p->pid);
		prev->rs.tsc = 0;
	} else if (prev->rs.state != RS_RUNNING) {
		xt_warn(a, "Strange, prev d%dv%d not running!\n", prev->d->did, prev->vid);
		prev->rs.tsc = 0;
	}
	pcpu_runstate_update(a, p, tsc);
	p->current = NULL;
	pstr_draw(a, p);
	xt_runstate_update(a, prev, new_rs, tsc);
}

static void vcpu_next_update(struct vms_xt_analyzer *a, struct xt_pcpu *p,
			     struct xt_vcpu *next, uint64_t tsc)
{
	if (p->current) {
		if (!p->lost.seen_valid_schedule) {
			xt_warn(a, "vcpu_next_update: p->current non-NULL, but seen_valid_schedule 0.  Ignoring.\n");
		} else {
			/* xenalyze aborts here; we account the old vcpu as
			 * lost and go on. */
			xt_warn(a, "vcpu_next_update: p%d current d%dv%d still set\n",
				p->pid, p->current->d->did, p->current->vid);
		}
		xt_runstate_update(a, p->current, RS_LOST, tsc);
		p->current = NULL;
	}
	if (next->activated) {
		if (next->rs.state == RS_RUNNING && next->d->did != XT_DEFAULT_DOMAIN) {
			xt_warn(a, "Strange, next d%dv%d already running\n", next->d->did, next->vid);
			next->rs.tsc = 0;
		}
		if (next->p != p) {
			if (next->pcpu_tsc) {
				if (!next->aff_pcpu)
					next->aff_pcpu = calloc(XT_MAX_CPUS, sizeof(*next->aff_pcpu));
				xt_sum_add(&next->aff_all, tsc - next->pcpu_tsc, &a->samples);
				if (next->aff_pcpu)
					xt_sum_add(&next->aff_pcpu[p->pid], tsc - next->pcpu_tsc, &a->samples);
			}
			next->pcpu_tsc = tsc;
		}
	} else {
		next->activated = true;
		next->pcpu_tsc = tsc;
	}
	xt_runstate_update(a, next, RS_RUNNING, tsc);
	if (a->o.scatter == VMS_XT_SCATTER_PCPU && next->d->did != XT_IDLE_DOMAIN &&
	    next->d->did != XT_DEFAULT_DOMAIN) {
		char name[32];
		snprintf(name, sizeof(name), "%dv%d", next->d->did, next->vid);
		if (next->p)
			xt_scatter_point(a, name, tsc, next->p->pid);
		xt_scatter_point(a, name, tsc, p->pid);
	}
	next->p = p;
	p->current = next;
	pstr_draw(a, p);
	p->time.tsc = tsc;
	p->lost.seen_valid_schedule = true;
}

static void vcpu_start(struct vms_xt_analyzer *a, struct xt_pcpu *p,
		       struct xt_vcpu *v, int old_rs, int new_rs, uint64_t tsc)
{
	if (old_rs == RS_RUNNING) {
		if (!p->current || p->current->d->did != XT_DEFAULT_DOMAIN) {
			xt_warn(a, "Strange, p->current not default domain!\n");
			return;
		}
		if (p->first_tsc <= p->current->rs.tsc) {
			xt_warn(a, "Strange, first_tsc before default domain runstate tsc\n");
			return;
		}
		xt_runstate_update(a, p->current, RS_QUEUED, p->first_tsc);
		p->current = NULL;
	}
	if (new_rs != RS_RUNNING) {
		if (!v->delayed_init) {
			xt_warn(a, "First schedule for d%dv%d doesn't take us into a running state; leaving in INIT\n",
				v->d->did, v->vid);
			v->delayed_init = true;
		}
		return;
	}
	if (v->delayed_init) {
		xt_warn(a, "d%dv%d RUNSTATE_RUNNING detected, leaving INIT\n", v->d->did, v->vid);
		v->delayed_init = false;
	}
	if (old_rs == RS_RUNNING) {
		xt_warn(a, "Using first_tsc for d%dv%d (%" PRIu64 " cycles)\n",
			v->d->did, v->vid, p->last_tsc - p->first_tsc);
		tsc = p->first_tsc;
	}
	xt_runstate_update(a, v, RS_RUNNING, tsc);
	p->time.tsc = tsc;
	p->current = v;
	pstr_draw(a, p);
	v->p = p;
}

static void default_vcpu_activate(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_vcpu *v = a->default_domain.vcpu[p->pid];
	if (!v)
		v = vcpu_create(a, &a->default_domain, p->pid);
	if (!v)
		return;
	v->activated = true;
	v->p = p;
	v->rs.state = RS_RUNNING;
	p->current = v;
	pstr_draw(a, p);
}

/* ---- HVM ---- */

static struct xt_hnode *hnode(struct xt_hvm *h, int kind, int id)
{
	unsigned er = h->exit_reason > XT_EXIT_MAX ? XT_EXIT_MAX : h->exit_reason;
	struct xt_hnode **q = &h->handlers[er];
	for (; *q; q = &(*q)->next)
		if ((*q)->kind == kind && (*q)->id == id)
			return *q;
	*q = calloc(1, sizeof(**q));
	if (*q) {
		(*q)->kind = kind;
		(*q)->id = id;
	}
	return *q;
}

static unsigned exit_slot(unsigned r)
{
	return r > XT_EXIT_MAX ? XT_EXIT_MAX : r;
}

static void hvm_generic_post(struct vms_xt_analyzer *a, struct xt_vcpu *v)
{
	struct xt_hvm *h = v->hvm;
	int evt = 0;
	if (h->inflight_event) {
		evt = (int)((h->inflight_event - XT_HVM_HANDLER) & ~(XT_64_FLAG | 0x200u));
	} else {
		if (h->svm) {
			if (h->exit_reason == 100 || h->exit_reason == 119)
				return;
		} else {
			switch (h->exit_reason) {
			case 7: case 43: case 40: case 54:
				return;
			}
		}
		xt_warn(a, "hvm_generic_postprocess: Strange, exit %x(%s) missing a handler\n",
			h->exit_reason, xt_exit_name(h->svm, h->exit_reason) ?
			xt_exit_name(h->svm, h->exit_reason) : "?");
	}
	if (evt < 0 || evt >= XT_HANDLER_MAX) {
		xt_warn(a, "invalid hvm handler event %x\n", h->inflight_event);
		return;
	}
	/* Per vcpu and exit reason (fixes xenalyze's bug #5, which shows a
	 * bucket only under the first vcpu and exit reason that used it). */
	struct xt_hnode *n = hnode(h, HK_GENERIC, evt);
	if (n)
		xt_sum_add(&n->s, h->arc_cycles, &a->samples);
}

static void update_io_address(struct vms_xt_analyzer *a, struct xt_ioaddr **list,
			      uint64_t pa, int dir, uint64_t cycles, uint32_t va)
{
	struct xt_ioaddr *p = *list, *q = NULL;
	while (p && p->pa < pa) {
		q = p;
		p = p->next;
	}
	if (!p || p->pa != pa) {
		struct xt_ioaddr *n = calloc(1, sizeof(*n));
		if (!n)
			return;
		n->pa = pa;
		n->va = va;
		n->next = p;
		if (q)
			q->next = n;
		else
			*list = n;
		p = n;
	}
	xt_sum_add(&p->s[dir], cycles, &a->samples);
}

/* --interval-domain-short-summary: the exit's cycles go to the kind a
 * handler chose (cr3 write, shadow fault), else to the kind of the last
 * handler record (vmcall, intr, hlt, other), as xenalyze does. */
static void short_summary_add(struct xt_domain *d, struct xt_hvm *h)
{
	int kind = h->short_kind;
	if (kind < 0 || kind >= HSS_MAX) {
		if (!h->arc_cycles)
			return;
		switch (h->event_handler) {
		case 0x12: kind = HSS_VMCALL; break;
		case 0x0f: kind = HSS_INTERRUPT; break;
		case 0x13: kind = HSS_HLT; break;
		default: kind = HSS_OTHER; break;
		}
	}
	d->hss_iv[kind] += h->arc_cycles;
}

/* The post-processing of a CR write (xenalyze's hvm_cr_write_postprocess):
 * per-cr buckets, and for cr3 the flush/switch of the tracked value. */
static void cr_write_post(struct vms_xt_analyzer *a, struct xt_vcpu *v)
{
	struct xt_hvm *h = v->hvm;
	unsigned cr = h->cr_write_cr;
	if (cr == 3) {
		uint64_t nval = h->cr_write_val;
		bool flush = false;
		if (h->cr3_val && nval == h->cr3_val) {
			if (h->cr3)
				h->cr3->flush_count++;
			flush = true;
		}
		unsigned r = h->resyncs > XT_RESYNCS_MAX ? XT_RESYNCS_MAX : h->resyncs;
		xt_sum_add(&h->cr3_resyncs[r], h->arc_cycles, &a->samples);
		xt_sum_add(&h->cr_write[3], h->arc_cycles, &a->samples);
		/* the exit counts for the value written over */
		h->short_kind = HSS_CR3;
		if (h->cr3)
			xt_sum_add(&h->cr3->hss[HSS_CR3], h->arc_cycles, &a->samples);
		if (!flush)
			xt_cr3_switch(a, v, nval);
	} else if (cr < XT_CR_MAX) {
		xt_sum_add(&h->cr_write[cr], h->arc_cycles, &a->samples);
	}
	/* xenalyze lists cr 0-15 (and reads past its 9 buckets for 9-15)
	 * and stops on others; we list the ones it counts. */
	if (cr < XT_CR_MAX)
		hnode(h, HK_CR, (int)cr);
	else
		xt_warn(a, "Unexpected cr: %u\n", cr);
}

static void hvm_close_vmexit(struct vms_xt_analyzer *a, struct xt_vcpu *v,
			     uint64_t tsc)
{
	struct xt_hvm *h = v->hvm;
	bool cr3_post = h->post == POST_CR_WRITE && h->cr_write_cr == 3;
	if (h->exit_tsc) {
		if (h->exit_tsc > tsc) {
			h->arc_cycles = 0;
		} else {
			h->arc_cycles = tsc - h->exit_tsc;
			xt_sum_add(&h->exit[exit_slot(h->exit_reason)], h->arc_cycles, &a->samples);
			h->summary_info = true;
			if (a->o.scatter == VMS_XT_SCATTER_EXTINT_CYCLES &&
			    h->exit_reason == (h->svm ? 96u : 1u) &&
			    h->intr_vec == a->o.scatter_arg) {
				char name[32];
				snprintf(name, sizeof(name), "d%dv%d", v->d->did, v->vid);
				xt_scatter_point(a, name, tsc, (double)h->arc_cycles);
			}
		}
	}
	switch (h->post) {
	case POST_GENERIC:
		hvm_generic_post(a, v);
		break;
	case POST_CR_WRITE:
		cr_write_post(a, v);
		break;
	case POST_IO_READ:
	case POST_IO_WRITE:
		if (a->o.pio_enumeration)
			update_io_address(a, &h->pio, h->io_port, h->post == POST_IO_WRITE,
					  h->arc_cycles, 0);
		if (h->post == POST_IO_READ && a->o.scatter == VMS_XT_SCATTER_IO &&
		    h->io_port == a->o.scatter_arg)
			xt_scatter_point(a, "io", h->exit_tsc, (double)(a->now - h->exit_tsc));
		break;
	case POST_VMCALL: {
		unsigned eax = h->vmcall_eax < XT_HYPERCALL_MAX ? h->vmcall_eax : XT_HYPERCALL_MAX;
		xt_sum_add(&h->vmcall[eax], h->arc_cycles, &a->samples);
		hnode(h, HK_VMCALL, 0);
		break;
	}
	case POST_MMIO: {
		int reason;
		if (h->exit_reason == 1024 || (!h->svm && h->exit_reason == 48))
			reason = 1; /* npf */
		else if (!h->svm && h->exit_reason == 44)
			reason = 2; /* apic */
		else
			reason = 3; /* unknown */
		xt_sum_add(&h->mmio[reason], h->arc_cycles, &a->samples);
		hnode(h, HK_MMIO, reason);
		if (a->o.mmio_enumeration && h->mmio_data_valid &&
		    !(a->o.mmio_skip_vga && h->mmio_gpa >= 0xa0000 && h->mmio_gpa < 0xbffff))
			update_io_address(a, &h->mmio_list, h->mmio_gpa, h->mmio_write,
					  h->arc_cycles, h->mmio_va);
		break;
	}
	default:
		break;
	}
	if (v->d == a->idom && a->o.interval == VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY)
		short_summary_add(v->d, h);
	/* per-cr3 value: the exit kind (a cr3 write was counted above for
	 * the old value), then the time in Xen for the value now loaded */
	if (h->cr3 && h->arc_cycles) {
		if (!cr3_post) {
			int kind = h->short_kind;
			if (kind < 0 || kind >= HSS_MAX) {
				switch (h->event_handler) {
				case 0x12: kind = HSS_VMCALL; break;
				case 0x0f: kind = HSS_INTERRUPT; break;
				case 0x13: kind = HSS_HLT; break;
				default: kind = HSS_OTHER; break;
				}
			}
			xt_sum_add(&h->cr3->hss[kind], h->arc_cycles, &a->samples);
		}
		h->cr3->run_time += h->arc_cycles;
		xt_sum_add(&h->cr3->hv_time, h->arc_cycles, &a->samples);
	}
	h->exit_tsc = 0;
	h->vmexit_valid = false;
	h->post = POST_NONE;
}

static void hvm_generic_dump(struct vms_xt_analyzer *a, struct xt_rec *ri,
			     const char *prefix)
{
	unsigned evt = ri->event - XT_HVM_HANDLER;
	int is64 = 0;
	if (evt & XT_64_FLAG) {
		evt &= ~XT_64_FLAG;
		is64 = 1;
	}
	char num[32];
	const char *name = evt < XT_HANDLER_MAX && evt < 0x26 ? xt_handler_name[evt] : NULL;
	if (!name) {
		snprintf(num, sizeof(num), "hvm_handler %u", evt);
		name = num;
	}
	xt_outf(a, "%s%s %s%s [", prefix, a->hdr, name, is64 ? "64" : "");
	for (unsigned i = 0; i < ri->n; i++)
		xt_outf(a, " %x", ri->d[i]);
	xt_outf(a, " ]\n");
}

static void vlapic_inject(struct vms_xt_analyzer *a, struct xt_vcpu *v, int vec)
{
	struct xt_hvm *h = v->hvm;
	struct xt_vlapic_ipi *o = NULL;
	for (int i = 0; i < XT_VLAPIC_LIST; i++) {
		if (h->vla[i].valid && h->vla[i].vec == vec) {
			o = &h->vla[i];
			break;
		}
	}
	if (!o) {
		for (int i = 0; i < XT_VLAPIC_LIST; i++) {
			if (!h->vla[i].valid) {
				o = &h->vla[i];
				o->vec = vec;
				o->valid = 1;
				h->vla_used = true;
				break;
			}
		}
	}
	if (o) {
		if (a->o.dump_all)
			xt_outf(a, "  [vla] d%dv%d vec %d injecting\n", v->d->did, v->vid, vec);
		o->injected = 1;
	}
}

static void hvm_vlapic_vmentry_cleanup(struct vms_xt_analyzer *a,
				       struct xt_vcpu *v, uint64_t tsc)
{
	struct xt_hvm *h = v->hvm;
	if (!h->vla_used)
		return;
	for (int i = 0; i < XT_VLAPIC_LIST; i++) {
		struct xt_vlapic_ipi *o = &h->vla[i];
		if (!(o->valid && o->injected))
			continue;
		uint64_t lat = tsc >= o->first_tsc ? tsc - o->first_tsc : 0;
		if (a->o.dump_all && o->count > 1) {
			unsigned s, ns;
			cycles_time(a, lat, &s, &ns);
			xt_outf(a, " [vla] d%dv%d vec %d ipis %d, latency %" PRIu64 " (%u.%09u s)\n",
				v->d->did, v->vid, o->vec, o->count, lat, s, ns);
		}
		memset(o, 0, sizeof(*o));
	}
	/* every valid entry was injected, so none is left: skip this loop
	 * until the next injection */
	bool any = false;
	for (int i = 0; i < XT_VLAPIC_LIST; i++)
		any |= h->vla[i].valid != 0;
	h->vla_used = any;
}

static void hvm_inj_virq(struct vms_xt_analyzer *a, struct xt_vcpu *v, struct xt_rec *ri)
{
	struct xt_hvm *h = v->hvm;
	unsigned vector = ri->d[0];
	if (a->o.dump_all)
		xt_outf(a, " %s inj_virq vec %u  %s\n", a->hdr, vector, ri->d[1] ? "fake" : "real");
	h->gi[vector < XT_GUEST_INT_MAX ? vector : XT_GUEST_INT_MAX].count++;
	if (a->o.interval == VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT)
		xt_interval_guest_interrupt(a, v->d, vector < XT_GUEST_INT_MAX ? vector : XT_GUEST_INT_MAX);
	if (vector < XT_GUEST_INT_MAX) {
		struct xt_gi *g = &h->gi[vector];
		if (h->w2h.waking && h->w2h.vector == 0) {
			if (a->o.dump_all)
				xt_outf(a, " [w2h] d%dv%d Setting wake_vector %u\n", v->d->did, v->vid, vector);
			h->w2h.vector = (int)vector;
			g->is_wake = 1;
		}
		if (g->start_tsc == 0) {
			g->start_tsc = 1;
			h->w2h.interrupts_wanting_tsc++;
			h->w2h.interrupts++;
			if (a->o.dump_all)
				xt_outf(a, " [w2h] d%dv%d Starting vec %u\n", v->d->did, v->vid, vector);
		}
	}
	vlapic_inject(a, v, (int)vector);
}

static void hvm_handler(struct vms_xt_analyzer *a, struct xt_pcpu *p, struct xt_vcpu *v)
{
	struct xt_rec *ri = &p->ri;
	struct xt_hvm *h = v->hvm;
	if (!h->init) {
		if (a->o.dump_all)
			hvm_generic_dump(a, ri, "!");
		return;
	}
	switch (ri->event) {
	case 0x00082002: case 0x00082102: { /* PF_INJECT */
		int is64 = (ri->event & XT_64_FLAG) != 0;
		uint64_t cr2 = is64 ? ((uint64_t)ri->d[1] | (uint64_t)ri->d[2] << 32) : ri->d[1];
		if (a->o.dump_all)
			xt_outf(a, " %s %s pf_inject%s guest_cr2 %" PRIx64 "  guest_ec %x\n",
				tstr(a, ri->tsc), pstr(a, ri->cpu), is64 ? "64" : "", cr2, ri->d[0]);
		return;
	}
	case 0x00082005: /* REINJ_VIRQ */
		if (a->o.dump_all)
			xt_outf(a, " %s %s inj_virq vec %u\n", tstr(a, ri->tsc), pstr(a, ri->cpu), ri->d[0]);
		return;
	case 0x00082003: /* INJ_EXC */
		if (a->o.dump_all) {
			static const char *const trap[20] = {
				"Divide", "RESERVED", "NMI", "Breakpoint", "Overflow",
				"BOUND", "Invalid Op", "Coprocessor not present",
				"Double Fault", "Coprocessor segment overrun", "TSS",
				"Segment not present", "Stack-segment fault", "GP",
				"Page fault", "RESERVED", "FPU", "Alignment check",
				"Machine check", "SIMD" };
			if (ri->d[0] < 20)
				xt_outf(a, " %s %s inj_exc trap %s ec %x\n", tstr(a, ri->tsc),
					pstr(a, ri->cpu), trap[ri->d[0]], ri->d[1]);
			else
				xt_outf(a, " %s %s inj_exc trap %u ec %x\n", tstr(a, ri->tsc),
					pstr(a, ri->cpu), ri->d[0], ri->d[1]);
		}
		return;
	case 0x00082004:
		hvm_inj_virq(a, v, ri);
		return;
	case 0x00082020: /* INTR_WINDOW */
		if (a->o.dump_all) {
			static const char *const src[6] = { "none", "pic", "lapic", "nmi", "mce", "vector" };
			xt_outf(a, " %s intr_window vec %u src %u(%s) ", a->hdr, ri->d[0], ri->d[1],
				ri->d[1] < 6 ? src[ri->d[1]] : "?");
			if ((int32_t)ri->d[2] > 0)
				xt_outf(a, "intr %x\n", ri->d[2]);
			else
				xt_outf(a, "intr #\n");
		}
		return;
	default:
		break;
	}
	if (!h->vmexit_valid) {
		if (a->o.dump_all)
			hvm_generic_dump(a, ri, "!");
		return;
	}
	h->event_handler = (int)(ri->event - XT_HVM_HANDLER);
	switch (ri->event) {
	case 0x0008200f: { /* INTR */
		unsigned vec = h->svm ? 0 : ri->d[0];
		h->intr_vec = vec;
		if (a->o.dump_all) {
			if (vec < 256 && xt_extint_name[vec])
				xt_outf(a, " %s intr vec %s(%x)\n", a->hdr, xt_extint_name[vec], vec);
			else
				xt_outf(a, " %s intr vec %x\n", a->hdr, vec);
		}
		if (a->o.scatter == VMS_XT_SCATTER_INTERRUPT_EIP && vec == a->o.scatter_arg) {
			char name[32];
			snprintf(name, sizeof(name), "d%dv%d", v->d->did, v->vid);
			xt_scatter_u64(a, name, h->exit_tsc, h->rip & ((1ULL << 40) - 1));
		}
		h->post = POST_NONE;
		hnode(h, HK_INTR, 0);
		h->extint[vec < 256 ? vec : 256]++;
		return;
	}
	case 0x00082016: case 0x00082216: { /* IOPORT read/write */
		int write = ri->event == 0x00082216;
		h->io_port = ri->d[0];
		h->io_write = write;
		if (h->post == POST_NONE || h->post == POST_GENERIC)
			h->post = write ? POST_IO_WRITE : POST_IO_READ;
		if (a->o.dump_all) {
			if (ri->n >= 2)
				xt_outf(a, " %s io %s port %x val %x\n", a->hdr,
					write ? "write" : "read", ri->d[0], ri->d[1]);
			else /* string I/O: no data (xenalyze prints garbage, bug #14) */
				xt_outf(a, " %s io %s port %x (no data)\n", a->hdr,
					write ? "write" : "read", ri->d[0]);
		}
		return;
	}
	case 0x00082017: case 0x00082217: case 0x00082117: case 0x00082317: {
		int is64 = (ri->event & XT_64_FLAG) != 0;
		int write = (ri->event & 0x200) != 0;
		uint64_t gpa;
		uint32_t data = 0;
		int valid;
		if (is64) {
			gpa = (uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32;
			/* Xen logs 64-bit data (4 words); xenalyze expects 3
			 * (bug #8).  Accept both. */
			valid = ri->n == 4 || ri->n == 3;
			data = ri->d[2];
		} else {
			gpa = ri->d[0];
			valid = ri->n == 2;
			data = ri->d[1];
		}
		h->mmio_gpa = gpa;
		h->mmio_write = write;
		h->mmio_data_valid = valid;
		h->mmio_va = 0;
		if (a->o.dump_all) {
			if (valid)
				xt_outf(a, "]%s mmio_assist %c gpa %" PRIx64 " data %x\n", a->hdr,
					write ? 'w' : 'r', gpa, data);
			else
				xt_outf(a, "]%s mmio_assist %c gpa %" PRIx64 " (no data)\n", a->hdr,
					write ? 'w' : 'r', gpa);
		}
		if ((gpa & 0xfffff000) == 0xfee00000 && gpa == 0xfee000b0 && a->o.dump_all)
			xt_outf(a, "              [vla] d%dv%d eoi\n", v->d->did, v->vid);
		if (h->post == POST_NONE || h->post == POST_GENERIC)
			h->post = POST_MMIO;
		return;
	}
	case 0x00082012: { /* VMMCALL */
		unsigned eax = ri->d[0];
		if (a->o.dump_all) {
			if (eax < XT_HYPERCALL_NAMED)
				xt_outf(a, " %s vmcall %2x (%s)\n", a->hdr, eax, xt_hypercall_name[eax]);
			else
				xt_outf(a, " %s vmcall %2x\n", a->hdr, eax);
		}
		h->vmcall_eax = eax;
		if (h->post == POST_NONE || h->post == POST_GENERIC)
			h->post = POST_VMCALL;
		return;
	}
	case 0x00082021: { /* NPF */
		uint64_t gpa = (uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32;
		uint64_t mfn = (uint64_t)ri->d[2] | (uint64_t)ri->d[3] << 32;
		if (a->o.dump_all)
			xt_outf(a, " %s npf gpa %" PRIx64 " q %x mfn %" PRIx64 " t %d\n", a->hdr,
				gpa, ri->d[4], mfn, (int)ri->d[5]);
		h->inflight_event = ri->event;
		return;
	}
	case 0x00082009: case 0x00082109: { /* CR_WRITE: cr; value (lo/hi) */
		unsigned cr = ri->n > 0 ? ri->d[0] : 0;
		uint64_t val = (ri->event & XT_64_FLAG) ?
			       (ri->n > 1 ? ri->d[1] : 0) | (uint64_t)(ri->n > 2 ? ri->d[2] : 0) << 32 :
			       (ri->n > 1 ? ri->d[1] : 0);
		h->cr_write_cr = cr;
		h->cr_write_val = val;
		if (h->post == POST_NONE || h->post == POST_GENERIC) {
			h->post = POST_CR_WRITE;
			if (cr == 3)
				h->short_kind = HSS_CR3;
		} else {
			xt_warn(a, "hvm_cr_write_process: Strange, h->postprocess already set!\n");
		}
		if (a->o.dump_all) {
			if (cr == 3 && h->cr3_val)
				xt_outf(a, "]%s cr_write cr3 val %" PRIx64 " oval %" PRIx64 " %s\n", a->hdr,
					val, h->cr3_val, h->cr3_val == val ? "flush" : "switch");
			else
				xt_outf(a, " %s cr_write cr%d val %" PRIx64 "\n", a->hdr, (int)cr, val);
		}
		return;
	}
	case 0x0008200c: case 0x0008200d: { /* MSR_READ, MSR_WRITE: addr; value (lo/hi) */
		const char *what = ri->event == 0x0008200c ? "msr_read" : "msr_write";
		/* xenalyze's check_extra_words: 3 words, or 4 (its tolerance
		 * of an off-by-one size); otherwise no line and no post */
		if (ri->n != 3 && ri->n != 4) {
			xt_warn(a, "ERROR: %s extra_words %u, expected 3!\n", what, ri->n);
			return;
		}
		if (a->o.dump_all)
			xt_outf(a, " %s %s addr %x val %" PRIx64 "\n", a->hdr, what, ri->d[0],
				(uint64_t)ri->d[1] | (uint64_t)ri->d[2] << 32);
		/* its own post-processing, which counts nothing: no generic
		 * handler bucket */
		if (h->post == POST_NONE || h->post == POST_GENERIC)
			h->post = POST_MSR;
		else
			xt_warn(a, "hvm_%s_process: Strange, postprocess already set\n", what);
		return;
	}
	case 0x0008201a: { /* RDTSC */
		uint64_t t = (uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32;
		if (a->o.dump_all)
			xt_outf(a, " %s rdtsc %" PRIx64 " %" PRId64 " %s\n", a->hdr, t, (int64_t)t,
				h->last_rdtsc > t ? "BACKWARDS" : "");
		if (a->o.scatter == VMS_XT_SCATTER_RDTSC) {
			char name[32];
			snprintf(name, sizeof(name), "%dv%d", v->d->did, v->vid);
			xt_scatter_u64(a, name, ri->tsc, t);
		}
		h->last_rdtsc = t;
		return;
	}
	default:
		if (a->o.dump_all)
			hvm_generic_dump(a, ri, "]");
		h->inflight_event = ri->event;
		return;
	}
}

static void hvm_vmexit(struct vms_xt_analyzer *a, struct xt_pcpu *p, struct xt_vcpu *v)
{
	struct xt_rec *ri = &p->ri;
	struct xt_hvm *h = v->hvm;
	int is64 = (ri->event & XT_64_FLAG) != 0;
	if (ri->n != (is64 ? 3u : 2u)) {
		xt_warn(a, "offset %" PRIu64 ": vmexit record has %u words\n", ri->offset, ri->n);
		return;
	}
	if (((ri->event & ~(XT_64_FLAG | 0x400u)) == 0x00081003))
		h->svm = true;
	h->vmexit_valid = true;
	h->exit_reason = ri->d[0];
	h->rip = is64 ? ((uint64_t)ri->d[1] | (uint64_t)ri->d[2] << 32) : ri->d[1];
	h->intr_vec = 0;
	h->mmio_data_valid = 0;
	if (a->o.scatter == VMS_XT_SCATTER_VMEXIT_EIP)
		xt_scatter_u64(a, "vmexit", ri->tsc, h->rip);
	/* xenalyze aborts on exit reasons past its table (bug #1); we
	 * account them under their number. */
	if (a->o.dump_all) {
		const char *name = h->exit_reason < xt_exit_named_max(h->svm) ?
				   xt_exit_name(h->svm, h->exit_reason) : NULL;
		if (!name && !h->svm)
			name = xt_exit_name(0, h->exit_reason);
		if (name)
			xt_outf(a, "]%s vmexit exit_reason %s eip %" PRIx64 "%s\n", a->hdr, name,
				h->rip, find_symbol(a, h->rip));
		else
			xt_outf(a, "]%s vmexit exit_reason %x eip %" PRIx64 "%s\n", a->hdr,
				h->exit_reason, h->rip, find_symbol(a, h->rip));
	}
	if (h->cr3 && h->entry_tsc) {
		uint64_t g = ri->tsc - h->entry_tsc;
		xt_sum_add(&h->cr3->guest_time, g, &a->samples);
		h->cr3->run_time += g;
	}
	h->exit_tsc = ri->tsc;
	h->entry_tsc = 0;
	h->resyncs = 0;
	h->post = POST_GENERIC;
	h->inflight_event = 0;
	h->short_kind = HSS_MAX;
}

static void hvm_vmentry(struct vms_xt_analyzer *a, struct xt_pcpu *p, struct xt_vcpu *v)
{
	struct xt_rec *ri = &p->ri;
	struct xt_hvm *h = v->hvm;
	if (!h->init) {
		if (a->o.dump_all)
			xt_outf(a, "!%s vmentry\n", a->hdr);
		return;
	}
	hvm_vlapic_vmentry_cleanup(a, v, ri->tsc);
	if (h->w2h.waking && a->o.dump_all)
		xt_outf(a, " [w2h] d%dv%d Finishing waking\n", v->d->did, v->vid);
	h->w2h.waking = 0;
	if (h->w2h.interrupts_wanting_tsc) {
		for (int i = 0; i < XT_GUEST_INT_MAX; i++) {
			if (h->gi[i].start_tsc == 1) {
				if (a->o.dump_all)
					xt_outf(a, " [w2h] d%dv%d Setting vec %d tsc to %" PRIu64 "\n",
						v->d->did, v->vid, i, ri->tsc);
				h->gi[i].start_tsc = ri->tsc;
				if (--h->w2h.interrupts_wanting_tsc == 0)
					break;
			}
		}
	}
	if (!h->vmexit_valid) {
		if (a->o.dump_all)
			xt_outf(a, "!%s vmentry\n", a->hdr);
		return;
	}
	if (a->o.dump_all) {
		int64_t arc = (int64_t)(ri->tsc - h->exit_tsc);
		xt_outf(a, "]%s vmentry cycles %" PRId64 " %s\n", a->hdr, arc, arc > 10000 ? "!" : "");
	}
	hvm_close_vmexit(a, v, ri->tsc);
	h->entry_tsc = ri->tsc;
}

static void hvm_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	struct xt_vcpu *v = p->current;
	unsigned sub = (ri->event >> 12) & 0xf;
	if (sub != 4) {
		if (v->data_type == 0) {
			v->data_type = 1;
			if (!hvm_get(v)) {
				xt_fail(a, VMS_ERR_NOMEM, "out of memory");
				return;
			}
			v->hvm->init = true;
		} else if (v->data_type != 1) {
			xt_warn(a, "WARNING: HVM record for PV vcpu d%dv%d\n", v->d->did, v->vid);
			return;
		}
	}
	switch (sub) {
	case 2:
		p->vol_hvm[HV_HANDLER] += ri->size;
		hvm_handler(a, p, v);
		break;
	case 4:
		p->vol_hvm[HV_EMUL] += ri->size;
		if (!a->warned_emul) {
			xt_warn(a, "WARNING: We don't yet analyze HVM_EMUL events.\n");
			a->warned_emul = true;
		}
		break;
	default:
		switch (ri->event & ~0x400u) {
		case 0x00081002: case 0x00081102: case 0x00081003: case 0x00081103:
			p->vol_hvm[HV_VMEXIT] += ri->size;
			hvm_vmexit(a, p, v);
			break;
		case 0x00081001:
			p->vol_hvm[HV_VMENTRY] += ri->size;
			hvm_vmentry(a, p, v);
			break;
		default:
			xt_warn(a, "Unknown hvm event: %x\n", ri->event);
		}
	}
}

/* ---- generic dump ---- */

static void dump_generic(struct vms_xt_analyzer *a, struct xt_rec *ri)
{
	xt_outf(a, "]%s %7x(%x:%x:%x) %u [", a->hdr, ri->event,
		(ri->event >> 16) & 0xfff, (ri->event >> 12) & 0xf, ri->event & 0xfff, ri->n);
	for (unsigned i = 0; i < ri->n; i++)
		xt_outf(a, " %x", ri->d[i]);
	xt_outf(a, " ]\n");
}

static void process_generic(struct vms_xt_analyzer *a, struct xt_rec *ri)
{
	if (a->o.dump_all)
		dump_generic(a, ri);
}

/* ---- shadow ---- */

/* Shadow page-fault records are dumped generically; for an open exit they
 * set its --interval-domain-short-summary kind (xenalyze's shadow
 * post-processors).  The full shadow summary is not done. */
static void shadow_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	struct xt_vcpu *v = p->current;
	process_generic(a, ri);
	if (v->data_type == 0) {
		if (!hvm_get(v)) {
			xt_fail(a, VMS_ERR_NOMEM, "out of memory");
			return;
		}
		v->data_type = 1;
		v->hvm->init = true;
	}
	struct xt_hvm *h = v->hvm;
	if (v->data_type != 1 || !h || !h->init || !h->vmexit_valid)
		return;
	switch (ri->event & 0xff) {
	case 1: case 2: /* not shadow (propagate), fast propagate */
		h->short_kind = HSS_PROPAGATE;
		break;
	case 3: case 5: /* fast mmio, mmio */
		h->short_kind = HSS_MMIO;
		break;
	case 6: { /* fixup: gl1e, va, flags (bit 18 = unsync) */
		unsigned gpl = ((ri->event >> 8) & 0xf) + 2;
		unsigned fi = gpl >= 4 ? 4 : gpl == 3 ? 3 : 2;
		h->short_kind = ri->n > fi && (ri->d[fi] >> 18 & 1) ? HSS_UNSYNC : HSS_FIXUP;
		break;
	}
	case 8:
		h->short_kind = HSS_EMULATE;
		break;
	case 14: case 15: /* resync full / only */
		h->resyncs++;
		break;
	default:
		break;
	}
}

/* ---- memory ---- */

static uint64_t w64(const struct xt_rec *ri, unsigned i)
{
	return (uint64_t)ri->d[i] | (uint64_t)ri->d[i + 1] << 32;
}

/* p2m order 0/9/18 -> 0/1/2; anything else is reported and not counted
 * (xenalyze counts it at index 4 of 4-entry arrays). */
static int pod_order(struct vms_xt_analyzer *a, uint32_t order)
{
	if (order % 9 || order / 9 > 2) {
		xt_warn(a, "p2m_canonical_order: Strange, non-canonical order %u\n", order);
		return -1;
	}
	return (int)(order / 9);
}

static void mem_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	unsigned minor = ri->event & 0xfff;
	struct xt_vcpu *v = p->current;
	bool dump = a->o.dump_all;
	switch (minor) {
	case MEM_GRANT_MAP: case MEM_GRANT_UNMAP: case MEM_GRANT_TRANSFER: {
		if (ri->n < 1)
			break;
		if (dump)
			xt_outf(a, " %s %s domain %u\n", a->hdr, xt_mem_name[minor], ri->d[0]);
		/* xenalyze never counts grant ops (its mem_page_grant only
		 * dumps), so its grant-maps interval is always 0: counted here
		 * as its default memory case does, by the running domain and
		 * for the domain in the record (created if new). */
		if (v && v->d) {
			v->d->mem_done[minor]++;
			/* a domain id has 16 bits: a larger word is not one
			 * (and must not create domains without bound) */
			struct xt_domain *d = ri->d[0] <= 0xffff ? domain_find(a, (int)ri->d[0]) : NULL;
			if (d) {
				d->mem_done_for[minor]++;
				if (minor == MEM_GRANT_MAP)
					d->grant_map_iv++;
			}
		}
		return;
	}
	case MEM_SET_P2M:
		if (ri->n < 6)
			break;
		if (dump)
			xt_outf(a, " %s set_p2m_entry d%u o%u t %u g %" PRIx64 " m %" PRIx64 "\n", a->hdr,
				ri->d[5] & 0xffff, ri->d[5] >> 16, ri->d[4], w64(ri, 0), w64(ri, 2));
		return;
	case MEM_DECREASE_RESERVATION:
	case MEM_POD_SPLINTER:
		if (ri->n < 4)
			break;
		if (dump)
			xt_outf(a, " %s %s d%d o%d g %" PRIx64 "\n", a->hdr,
				minor == MEM_POD_SPLINTER ? "pod_spage_splinter" : "decrease_reservation",
				(int)ri->d[2], (int)ri->d[3], w64(ri, 0));
		return;
	case MEM_POD_POPULATE: {
		if (ri->n < 6)
			break;
		if (dump)
			xt_outf(a, " %s pod_populate d%d o%d g %" PRIx64 " m %" PRIx64 "\n", a->hdr,
				(int)ri->d[4], (int)ri->d[5], w64(ri, 0), w64(ri, 2));
		if (v && v->d) {
			int o = pod_order(a, ri->d[5]);
			if (o >= 0)
				v->d->pod.populate_order[o]++;
		}
		return;
	}
	case MEM_POD_ZERO_RECLAIM: {
		if (ri->n < 6)
			break;
		int ctx = POD_CTX_UNKNOWN;
		if (v && v->data_type == 1 && v->hvm && v->hvm->vmexit_valid) {
			/* VMX numbers, as in xenalyze */
			switch (v->hvm->exit_reason) {
			case 48: case 0: ctx = POD_CTX_FAULT; break;
			case 18: ctx = POD_CTX_BALLOON; break;
			}
		}
		if (dump)
			xt_outf(a, " %s pod_zero_reclaim d%d o%d g %" PRIx64 " m %" PRIx64 " ctx %s\n", a->hdr,
				(int)ri->d[4], (int)ri->d[5], w64(ri, 0), w64(ri, 2), xt_pod_ctx_name[ctx]);
		if (v && v->d) {
			int o = pod_order(a, ri->d[5]);
			if (o >= 0) {
				v->d->pod.reclaim_order[o]++;
				v->d->pod.reclaim_context[ctx]++;
				v->d->pod.reclaim_context_order[ctx][o]++;
			}
		}
		return;
	}
	default:
		if (minor < MEM_MAX && v && v->d) {
			v->d->mem_done[minor]++;
			struct xt_domain *d = ri->d[0] <= 0xffff ? domain_find(a, (int)ri->d[0]) : NULL;
			if (d)
				d->mem_done_for[minor]++;
		}
		break;
	}
	/* unknown minor, or too few words for the decoder */
	process_generic(a, ri);
}

/* ---- scheduler ---- */

static void sched_runstate(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	unsigned lo = ri->event & 0xf;
	int new_rs, old_rs, cont;
	if (lo == 1) {
		cont = 0;
		new_rs = (ri->event >> 4) & 0xf;
		old_rs = (ri->event >> 8) & 0xf;
	} else if (lo == 2) {
		cont = 1;
		new_rs = old_rs = RS_RUNNING;
	} else {
		process_generic(a, ri);
		return;
	}
	unsigned vcpu = ri->d[0] & 0xffff, dom = ri->d[0] >> 16;
	if (a->o.dump_all) {
		if (ri->n == 5)
			xt_outf(a, " %s %s {%" PRId64 ",%" PRId64 "} d%uv%u %s->%s\n", a->hdr,
				cont ? "runstate_continue" : "runstate_change",
				(int64_t)((uint64_t)ri->d[1] | (uint64_t)ri->d[2] << 32),
				(int64_t)((uint64_t)ri->d[3] | (uint64_t)ri->d[4] << 32), dom, vcpu,
				old_rs < RS_MAX ? xt_runstate_name[old_rs] : "?",
				new_rs < RS_MAX ? xt_runstate_name[new_rs] : "?");
		else
			xt_outf(a, " %s %s d%uv%u %s->%s\n", a->hdr,
				cont ? "runstate_continue" : "runstate_change", dom, vcpu,
				old_rs < RS_MAX ? xt_runstate_name[old_rs] : "?",
				new_rs < RS_MAX ? xt_runstate_name[new_rs] : "?");
	}
	if (new_rs > RS_OFFLINE || old_rs > RS_OFFLINE) {
		xt_warn(a, "offset %" PRIu64 ": runstate change with invalid state %d->%d\n",
			ri->offset, old_rs, new_rs);
		return;
	}
	struct xt_vcpu *v = vcpu_find(a, dom, vcpu);
	if (!v)
		return;
	struct xt_last_old last_old = v->rs.last_old;
	v->rs.last_old.wrong = RS_INIT;
	if (v->rs.state == RS_INIT) {
		vcpu_start(a, p, v, old_rs, new_rs, ri->tsc);
		return;
	}
	if (new_rs == RS_RUNNABLE && v->data_type == 1 && v->hvm->vmexit_valid)
		hvm_close_vmexit(a, v, ri->tsc);
	if (v->data_type == 1 && v->rs.state != RS_LOST) {
		struct xt_hvm *h = v->hvm;
		if (new_rs == RS_RUNNABLE && old_rs == RS_BLOCKED) {
			if (a->o.dump_all)
				xt_outf(a, " [w2h] d%dv%d Setting waking\n", v->d->did, v->vid);
			h->w2h.waking = 1;
		} else if (new_rs != RS_RUNNING || old_rs != RS_RUNNABLE) {
			if (h->w2h.waking && old_rs == RS_RUNNING && new_rs != RS_OFFLINE)
				h->w2h.waking = 0;
			if (new_rs == RS_BLOCKED && old_rs == RS_RUNNING && h->w2h.interrupts) {
				for (int i = 0; i < XT_GUEST_INT_MAX; i++) {
					struct xt_gi *g = &h->gi[i];
					if (!g->start_tsc)
						continue;
					uint64_t t = g->start_tsc == 1 ? 0 : ri->tsc - g->start_tsc;
					if (a->o.dump_all)
						xt_outf(a, " [w2h] Halting vec %d is_wake %d time %" PRId64 "\n",
							i, g->is_wake, (int64_t)t);
					if (a->o.scatter == VMS_XT_SCATTER_WAKE_TO_HALT && t && g->is_wake)
						xt_scatter_point(a, "wake-to-halt", ri->tsc, (double)t);
					if (t) {
						if (g->is_wake) {
							if (h->w2h.interrupts == 1)
								xt_sum_add(&g->runtime[1], t, &a->samples);
							xt_sum_add(&g->runtime[2], t, &a->samples);
						} else {
							xt_sum_add(&g->runtime[3], t, &a->samples);
						}
					}
					g->start_tsc = 0;
					g->is_wake = 0;
				}
				h->w2h.interrupts = 0;
				h->w2h.vector = 0;
			}
		}
	}
	if (v->rs.state != old_rs && v->rs.state != RS_INIT) {
		if (v->rs.state == RS_LOST) {
			if (new_rs != RS_RUNNING)
				return;
		} else if (last_old.wrong == new_rs && last_old.actual == old_rs) {
			/* TSC skew: the pcpu that logged the contradicting
			 * change is early; shift its later TSCs. */
			if (ri->tsc < last_old.tsc)
				return;
			struct xt_pcpu *p2 = &a->pcpu[last_old.pid];
			uint64_t lag = ri->tsc - last_old.tsc;
			for (int i = 0; i < XT_MAX_CPUS / 64; i++)
				p2->skew_down[i] |= p->skew_down[i];
			p2->skew_down[p->pid / 64] |= 1ULL << (p->pid % 64);
			if (p2->skew_down[p2->pid / 64] & (1ULL << (p2->pid % 64))) {
				xt_warn(a, "Tsc skew dependency loop detected!  Resetting...\n");
				for (int i = 0; i <= a->max_active_pcpu; i++) {
					a->pcpu[i].skew_offset = 0;
					memset(a->pcpu[i].skew_down, 0, sizeof(a->pcpu[i].skew_down));
				}
				return;
			}
			p2->skew_offset += (int64_t)lag * 2;
			xt_warn(a, "TSC skew detected p%d->p%d, %" PRIu64 " cycles. Changing p%d offset to %" PRId64 "\n",
				p->pid, p2->pid, lag, p2->pid, p2->skew_offset);
			return;
		} else {
			xt_warn(a, "runstate_change old_runstate %s, d%dv%d runstate %s.  Possible tsc skew.\n",
				xt_runstate_name[old_rs], v->d->did, v->vid, xt_runstate_name[v->rs.state]);
			v->rs.last_old.wrong = old_rs;
			v->rs.last_old.actual = v->rs.state;
			v->rs.last_old.tsc = ri->tsc;
			v->rs.last_old.pid = p->pid;
			if (v->rs.state == RS_RUNNING)
				return;
		}
	}
	if (cont) {
		if (v->rs.state == RS_LOST) {
			if (p->current)
				vcpu_prev_update(a, p, p->current, ri->tsc, RS_LOST);
			vcpu_next_update(a, p, v, ri->tsc);
		}
		xt_runstate_update(a, v, RS_RUNNING, ri->tsc);
	} else if (old_rs == RS_RUNNING || v->rs.state == RS_RUNNING) {
		if (old_rs == RS_RUNNING)
			vcpu_prev_update(a, p, v, ri->tsc, new_rs);
		else if (v->p)
			vcpu_prev_update(a, v->p, v, ri->tsc, new_rs);
		if (a->lost_cpus && v->d->did != XT_IDLE_DOMAIN)
			lose_vcpu(a, v, ri->tsc);
	} else if (new_rs == RS_RUNNING) {
		vcpu_next_update(a, p, v, ri->tsc);
	} else {
		xt_runstate_update(a, v, new_rs, ri->tsc);
	}
}

static void sched_switch(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	if (a->o.dump_all)
		xt_outf(a, " %s sched_switch prev d%uv%u next d%uv%u\n", a->hdr,
			ri->d[0], ri->d[1], ri->d[2], ri->d[3]);
}

static void us(struct vms_xt_analyzer *a, uint32_t v)
{
	xt_outf(a, "%u.%uus", v / 1000, v % 1000);
}

static void sched_class(struct vms_xt_analyzer *a, struct xt_rec *ri)
{
	const char *h = a->hdr;
	const uint32_t *d = ri->d;
	if (!a->o.dump_all)
		return;
	unsigned sched = (ri->event >> 9) & 7, ev = ri->event & 0x1ff;
	uint64_t q0 = (uint64_t)d[0] | (uint64_t)d[1] << 32;
	uint64_t q1 = (uint64_t)d[2] | (uint64_t)d[3] << 32;
	switch (sched << 16 | ev) {
	/* credit */
	case 0 << 16 | 1: xt_outf(a, " %s csched:sched_tasklet\n", h); return;
	case 0 << 16 | 2: case 0 << 16 | 3:
		xt_outf(a, " %s csched:acct_%s d%uv%u, active_vcpus %u\n", h, ev == 2 ? "start" : "stop",
			d[0], d[1], d[2]);
		return;
	case 0 << 16 | 4: xt_outf(a, " %s csched:stolen_vcpu d%uv%u from cpu %u\n", h, d[1], d[2], d[0]); return;
	case 0 << 16 | 5: xt_outf(a, " %s csched:pick_cpu %u for d%uv%u\n", h, d[2], d[0], d[1]); return;
	case 0 << 16 | 6: xt_outf(a, " %s csched:runq_tickle, cpu %u\n", h, d[0]); return;
	case 0 << 16 | 7: xt_outf(a, " %s csched: d%uv%u boosted\n", h, d[0], d[1]); return;
	case 0 << 16 | 8: xt_outf(a, " %s csched: d%uv%u unboosted\n", h, d[0], d[1]); return;
	case 0 << 16 | 9:
		xt_outf(a, " %s csched:schedule cpu %u%s%s\n", h, d[0] & 0xffff,
			(d[0] >> 16) & 0xff ? ", tasklet scheduled" : "", d[0] >> 24 ? ", idle" : ", busy");
		return;
	case 0 << 16 | 10:
		xt_outf(a, " %s csched:ratelimit, d%uv%u run only ", h, d[0] >> 16, d[0] & 0xffff);
		us(a, d[1]);
		xt_outc(a, '\n');
		return;
	case 0 << 16 | 11:
		xt_outf(a, " %s csched:load_balance %s %u\n", h, d[1] ? "checking" : "skipping", d[0]);
		return;
	/* credit2 */
	case 1 << 16 | 1: case 1 << 16 | 4: return;
	case 1 << 16 | 2:
		xt_outf(a, " %s csched2:runq_insert d%uv%u, position %u\n", h, d[0] >> 16, d[0] & 0xffff, d[1]);
		return;
	case 1 << 16 | 3:
		xt_outf(a, " %s csched2:burn_credits d%uv%u, credit = %d, ", h, d[0] >> 16, d[0] & 0xffff, (int)d[1]);
		if ((int)d[2] != INT_MIN)
			xt_outf(a, "budget = %d, ", (int)d[2]);
		xt_outf(a, "delta = %d\n", (int)d[3]);
		return;
	case 1 << 16 | 5:
		xt_outf(a, " %s csched2:tickle_check d%uv%u, credit = %d, score = %d\n\n", h,
			d[0] >> 16, d[0] & 0xffff, (int)d[1], (int)d[2]);
		return;
	case 1 << 16 | 6: xt_outf(a, " %s csched2:runq_tickle cpu %u\n", h, d[0] & 0xffff); return;
	case 1 << 16 | 7:
		xt_outf(a, " %s csched2:reset_credits d%uv%u, credit_start = %d, credit_end = %d\n", h,
			d[0] >> 16, d[0] & 0xffff, (int)d[1], (int)d[2]);
		return;
	case 1 << 16 | 8: xt_outf(a, " %s csched2:sched_tasklet\n", h); return;
	case 1 << 16 | 9: xt_outf(a, " %s csched2:update_load\n", h); return;
	case 1 << 16 | 10:
		xt_outf(a, " %s csched2:runq_assign d%uv%u on rq# %u\n", h, d[0] >> 16, d[0] & 0xffff, d[1] & 0xffff);
		return;
	case 1 << 16 | 11: {
		unsigned shift = d[3];
		double load = shift < 64 ? (double)q0 * 100.0 / (double)(1ULL << shift) : 0;
		xt_outf(a, " %s csched2:update_vcpu_load d%uv%u, vcpu_load = %4.3f%% (%" PRIu64 ")\n", h,
			d[2] >> 16, d[2] & 0xffff, load, q0);
		return;
	}
	case 1 << 16 | 12: {
		unsigned shift = d[4] >> 24;
		double l1 = shift < 64 ? (double)q0 * 100.0 / (double)(1ULL << shift) : 0;
		double l2 = shift < 64 ? (double)q1 * 100.0 / (double)(1ULL << shift) : 0;
		xt_outf(a, " %s csched2:update_rq_load rq# %u, load = %u, avgload = %4.3f%% (%" PRIu64
			"), b_avgload = %4.3f%% (%" PRIu64 ")\n", h, (d[4] >> 16) & 0xff, d[4] & 0xffff,
			l1, q0, l2, q1);
		return;
	}
	case 1 << 16 | 13:
		xt_outf(a, " %s csched2:runq_tickle_new d%uv%u, processor = %u, credit = %d\n", h,
			d[0] >> 16, d[0] & 0xffff, d[1], (int)d[2]);
		return;
	case 1 << 16 | 14:
		xt_outf(a, " %s csched2:update_max_weight rq# %u, max_weight = %u\n", h, d[0] & 0xffff, d[0] >> 16);
		return;
	case 1 << 16 | 15:
		xt_outf(a, " %s csched2:migrate d%uv%u rq# %u --> rq# %u\n", h, d[0] >> 16, d[0] & 0xffff,
			d[1] & 0xffff, d[1] >> 16);
		return;
	case 1 << 16 | 16:
		xt_outf(a, " %s csched2:load_balance_check lrq# %u, orq# %u, delta = %u\n", h,
			d[0] & 0xffff, d[0] >> 16, d[1]);
		return;
	case 1 << 16 | 17:
		xt_outf(a, " %s csched2:load_balance_begin lrq# %u, avg_load = %" PRIu64 " -- orq# %u, avg_load = %" PRIu64 "\n",
			h, d[4] & 0xffff, q0, d[4] >> 16, q1);
		return;
	case 1 << 16 | 19:
		xt_outf(a, " %s csched2:picked_cpu d%uv%u, rq# %u, cpu %u\n", h, d[2] >> 16, d[2] & 0xffff,
			d[3] & 0xffff, d[3] >> 16);
		return;
	case 1 << 16 | 20:
		xt_outf(a, " %s csched2:runq_candidate d%uv%u, credit = %d, ", h, d[0] >> 16, d[0] & 0xffff, (int)d[2]);
		if (d[1] == 0xffffffffu)
			xt_outf(a, "no cpu was tickled\n");
		else
			xt_outf(a, "cpu %u was tickled\n", d[1]);
		return;
	case 1 << 16 | 21: {
		unsigned idle = (d[1] >> 8) & 0xff;
		xt_outf(a, " %s csched2:schedule cpu %u, rq# %u%s%s%s%s\n", h, d[0] & 0xffff, d[0] >> 16,
			d[1] & 0xff ? ", tasklet scheduled" : "", idle ? ", idle" : ", busy",
			idle ? ((d[1] >> 16) & 0xff ? ", SMT idle" : ", SMT busy") : "",
			d[1] >> 24 ? ", tickled" : ", not tickled");
		return;
	}
	case 1 << 16 | 22:
		xt_outf(a, " %s csched2:ratelimit, d%uv%u run only ", h, d[0] >> 16, d[0] & 0xffff);
		us(a, d[1]);
		xt_outc(a, '\n');
		return;
	case 1 << 16 | 23:
		xt_outf(a, " %s csched2:runq_cand_check d%uv%u\n", h, d[0] >> 16, d[0] & 0xffff);
		return;
	/* RTDS */
	case 4 << 16 | 1: xt_outf(a, " %s rtds:runq_tickle cpu %u\n", h, d[0] & 0xffff); return;
	case 4 << 16 | 2:
		xt_outf(a, " %s rtds:runq_pick d%uv%u, deadline = %" PRIu64 ", budget = %" PRIu64 "\n", h,
			d[0] >> 16, d[0] & 0xffff, (uint64_t)d[1] | (uint64_t)d[2] << 32,
			(uint64_t)d[3] | (uint64_t)d[4] << 32);
		return;
	case 4 << 16 | 3:
		xt_outf(a, " %s rtds:burn_budget d%uv%u, budget = %" PRIu64 ", delta = %d\n", h,
			d[0] >> 16, d[0] & 0xffff, (uint64_t)d[1] | (uint64_t)d[2] << 32, (int)d[3]);
		return;
	case 4 << 16 | 4:
		xt_outf(a, " %s rtds:repl_budget d%uv%u, deadline = %" PRIu64 ", budget = %" PRIu64 ", priority = %u\n",
			h, d[0] >> 16, d[0] & 0xffff, (uint64_t)d[2] | (uint64_t)d[3] << 32,
			(uint64_t)d[4] | (uint64_t)d[5] << 32, d[1]);
		return;
	case 4 << 16 | 5: xt_outf(a, " %s rtds:sched_tasklet\n", h); return;
	case 4 << 16 | 6:
		xt_outf(a, " %s rtds:schedule cpu %u, %s%s%s\n", h, d[0] & 0xffff,
			(d[0] >> 16) & 0xff ? ", tasklet scheduled" : "",
			(d[0] >> 24) & 0xf ? ", idle" : ", busy", d[0] >> 28 ? ", tickled" : ", not tickled");
		return;
	/* null */
	case 5 << 16 | 1:
		xt_outf(a, " %s null:picked_cpu d%uv%u, cpu %u\n", h, d[0] >> 16, d[0] & 0xffff, d[1]);
		return;
	case 5 << 16 | 2:
		xt_outf(a, " %s null:vcpu_assign d%uv%u to cpu %u\n", h, d[0] >> 16, d[0] & 0xffff, d[1]);
		return;
	case 5 << 16 | 3:
		xt_outf(a, " %s null:vcpu_deassign d%uv%u from cpu %u\n", h, d[0] >> 16, d[0] & 0xffff, d[1]);
		return;
	case 5 << 16 | 4:
		xt_outf(a, " %s null:migrate d%uv%u, cpu %u, new_cpu %u\n", h, d[0] >> 16, d[0] & 0xffff,
			d[1] & 0xffff, d[1] >> 16);
		return;
	case 5 << 16 | 5:
		xt_outf(a, " %s null:schedule cpu %u%s", h, d[0] >> 16, d[0] & 0xffff ? ", tasklet scheduled" : "");
		if ((int16_t)(d[1] & 0xffff) != -1)
			xt_outf(a, ", vcpu d%uv%d\n", d[1] >> 16, (int16_t)(d[1] & 0xffff));
		else
			xt_outf(a, ", no vcpu\n");
		return;
	case 5 << 16 | 6: xt_outf(a, " %s null:sched_tasklet\n", h); return;
	default:
		dump_generic(a, ri);
	}
}

static void sched_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	unsigned sub = (ri->event >> 12) & 0xf;
	const uint32_t *d = ri->d;
	if (sub == 0xf) {
		process_generic(a, ri);
		return;
	}
	if (sub == 1) {
		sched_runstate(a, p);
		return;
	}
	if (sub == 2) {
		sched_class(a, ri);
		return;
	}
	if (sub != 8) {
		p->vol_sched_verbose += ri->size;
		process_generic(a, ri);
		return;
	}
	if (!a->o.dump_all)
		return;
	switch (ri->event) {
	case 0x00028001: xt_outf(a, " %s sched_init_domain d%u\n", a->hdr, d[0]); break;
	case 0x00028002: xt_outf(a, " %s sched_destroy_domain d%u\n", a->hdr, d[0]); break;
	case 0x00028003: xt_outf(a, " %s vcpu_sleep d%uv%u\n", a->hdr, d[0], d[1]); break;
	case 0x00028004: xt_outf(a, " %s vcpu_wake d%uv%u\n", a->hdr, d[0], d[1]); break;
	case 0x00028005: xt_outf(a, " %s vcpu_yield d%uv%u\n", a->hdr, d[0], d[1]); break;
	case 0x00028006: xt_outf(a, " %s vcpu_block d%uv%u\n", a->hdr, d[0], d[1]); break;
	case 0x00028007: case 0x00028010:
		xt_outf(a, " %s %s d%uv%u, reason = %u\n", a->hdr,
			ri->event == 0x00028007 ? "sched_shutdown" : "sched_shutdown_code", d[0], d[1], d[2]);
		break;
	case 0x00028009: xt_outf(a, " %s sched_adjust d%u\n", a->hdr, d[0]); break;
	case 0x0002800a: sched_switch(a, p); break;
	case 0x0002800e:
		xt_outf(a, " %s sched_switch prev d%uv%d, run for ", a->hdr, d[0], (int)d[1]);
		us(a, d[2]);
		xt_outc(a, '\n');
		break;
	case 0x0002800f:
		xt_outf(a, " %s sched_switch next d%uv%u", a->hdr, d[0], d[1]);
		if (d[2]) {
			xt_outf(a, ", was runnable for ");
			us(a, d[2]);
		}
		if ((int)d[3] > 0) {
			xt_outf(a, ", next slice ");
			us(a, d[3]);
		}
		xt_outc(a, '\n');
		break;
	case 0x00028011:
		xt_outf(a, " %s sched_switch continue d%uv%u, run for ", a->hdr, d[0], d[1]);
		us(a, d[2]);
		if ((int)d[3] > 0) {
			xt_outf(a, ", next slice ");
			us(a, d[3]);
		}
		xt_outc(a, '\n');
		break;
	case 0x00028008: case 0x0002800b: case 0x0002800c: case 0x0002800d:
		break;
	default:
		dump_generic(a, ri);
	}
}

/* ---- PV ---- */

static void pv_hypercall_v2_args(struct vms_xt_analyzer *a, const struct xt_rec *ri, unsigned op);

static void pv_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	struct xt_vcpu *v = p->current;
	if (v->data_type == 0) {
		v->data_type = 2;
		v->pv = calloc(1, sizeof(*v->pv));
		if (!v->pv) {
			xt_fail(a, VMS_ERR_NOMEM, "out of memory");
			return;
		}
	} else if (v->data_type != 2) {
		xt_warn(a, "WARNING: PV record for HVM vcpu d%dv%d\n", v->d->did, v->vid);
		return;
	}
	struct xt_pv *pv = v->pv;
	unsigned minor = ri->event & 0xff;
	int x64 = (ri->event & XT_64_FLAG) != 0;
	pv->summary_info = true;
	if (minor < PVE_MAX)
		pv->count[minor == PVE_PTWR_EMULATION_PAE ? PVE_PTWR_EMULATION : minor]++;
	switch (minor) {
	case PVE_HYPERCALL: {
		unsigned eax = x64 ? ri->d[2] : ri->d[1];
		pv->hypercall[eax < XT_HYPERCALL_MAX ? eax : XT_HYPERCALL_MAX]++;
		if (a->o.dump_all) {
			uint64_t eip = x64 ? ((uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32) : ri->d[0];
			if (eax < XT_HYPERCALL_MAX && xt_hypercall_name[eax])
				xt_outf(a, " %s hypercall %2x (%s) eip %" PRIx64 "\n", a->hdr, eax,
					xt_hypercall_name[eax], eip);
			else
				xt_outf(a, " %s hypercall %x eip %" PRIx64 "\n", a->hdr, eax, eip);
		}
		break;
	}
	case PVE_HYPERCALL_V2: case PVE_HYPERCALL_SUBCALL: {
		unsigned op = ri->d[0] & 0xfffff;
		/* xenalyze reads past its 38-entry name table for 38..55
		 * (bug #4); we name them from Xen's list. */
		pv->hypercall[op < XT_HYPERCALL_MAX ? op : XT_HYPERCALL_MAX]++;
		if (a->o.dump_all) {
			const char *ind = minor == PVE_HYPERCALL_SUBCALL ? " " : "";
			if (op < XT_HYPERCALL_MAX && xt_hypercall_name[op])
				xt_outf(a, " %s%s hypercall %2x (%s)", a->hdr, ind, op, xt_hypercall_name[op]);
			else
				xt_outf(a, " %s%s hypercall %2x", a->hdr, ind, op);
			pv_hypercall_v2_args(a, ri, op);
			xt_outc(a, '\n');
		}
		break;
	}
	case PVE_TRAP: {
		/* eip (64-bit in the x64 form), then trapnr:15 use_ec:1 ec:16 */
		uint32_t w = x64 ? ri->d[2] : ri->d[1];
		uint64_t eip = x64 ? ((uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32) : ri->d[0];
		unsigned trap = w & 0x7fff;
		if (trap < 32)
			pv->trap[trap]++;
		if (a->o.dump_all) {
			xt_outf(a, " %s trap %x eip %" PRIx64, a->hdr, trap, eip);
			if (w & 0x8000)
				xt_outf(a, " ec %x\n", w >> 16);
			else
				xt_outc(a, '\n');
		}
		break;
	}
	case PVE_PTWR_EMULATION: case PVE_PTWR_EMULATION_PAE:
		if (a->o.dump_all) {
			/* pte (64-bit); PAE form: addr, eip 32-bit; x64 form: 64-bit */
			uint64_t pte = (uint64_t)ri->d[0] | (uint64_t)ri->d[1] << 32, addr, eip;
			if (minor == PVE_PTWR_EMULATION_PAE) {
				addr = ri->d[2];
				eip = ri->d[3];
			} else {
				addr = (uint64_t)ri->d[2] | (uint64_t)ri->d[3] << 32;
				eip = (uint64_t)ri->d[4] | (uint64_t)ri->d[5] << 32;
			}
			xt_outf(a, " %s ptwr l1e %" PRIx64 " eip %" PRIx64 " addr %" PRIx64 "\n", a->hdr,
				pte, eip, addr);
		}
		if ((minor == PVE_PTWR_EMULATION_PAE) == (x64 != 0))
			xt_warn(a, "Strange: PV_PTWR_EMULATION%s, but %sx64! %x\n",
				minor == PVE_PTWR_EMULATION_PAE ? "_PAE" : "", x64 ? "" : "!", ri->event);
		break;
	default:
		/* xenalyze's pv_generic_process */
		if (a->o.dump_all) {
			if (minor < PVE_MAX && xt_pv_name[minor])
				xt_outf(a, " %s %s", a->hdr, xt_pv_name[minor]);
			else
				xt_outf(a, " %s PV-%u ", a->hdr, minor);
			if (ri->n) {
				xt_outf(a, "[ ");
				for (unsigned i = 0; i < ri->n; i++)
					xt_outf(a, "%x ", ri->d[i]);
				xt_outc(a, ']');
			}
			xt_outc(a, '\n');
		}
	}
}

/* ---- PV v2 hypercall arguments, decoded as xenalyze does ---- */

/* The arguments of a v2 hypercall record: word 0 holds the op and a 2-bit
 * code per argument (0 missing, 1 32-bit, 2 64-bit; 3 skips 3 words and
 * prints nothing, as in xenalyze); missing arguments are 0.  A 64-bit
 * argument whose high word is past the record reads 0 (xenalyze reads
 * the record buffer's next word). */
static void pv_hypercall_v2_gather(const struct xt_rec *ri, uint64_t args[6], int present[6])
{
	unsigned w = 1;
	for (int i = 0; i < 6; i++) {
		args[i] = 0;
		present[i] = -1; /* not printed: past the record */
	}
	for (int i = 0; i < 6 && w < ri->n; i++) {
		int code = (int)((ri->d[0] >> (20 + 2 * i)) & 3);
		present[i] = code;
		if (code == 1)
			args[i] = ri->d[w];
		else if (code == 2)
			args[i] = (uint64_t)ri->d[w] | (uint64_t)(w + 1 < ri->n ? ri->d[w + 1] : 0) << 32;
		w += (unsigned)code;
	}
}

static void pv_cmd(struct vms_xt_analyzer *a, const char *const *names, size_t n, uint32_t cmd)
{
	if (cmd < n)
		xt_outf(a, " %s", names[cmd]);
	else
		xt_outf(a, " unknown (%d)", (int)cmd);
}

static void pv_hypercall_v2_args(struct vms_xt_analyzer *a, const struct xt_rec *ri, unsigned op)
{
	static const char *const grant_table_op[] = {
		"map_grant_ref", "unmap_grant_ref", "setup_table", "dump_table",
		"transfer", "copy", "query_size", "unmap_and_replace",
		"set_version", "get_status_frames", "get_version", "swap_grant_ref",
	};
	static const char *const vcpu_op[] = {
		"initialise", "up", "down", "is_up", "get_runstate_info",
		"register_runstate_memory_area", "set_periodic_timer",
		"stop_periodic_timer", "set_singleshot_timer", "stop_singleshot_timer",
		"register_vcpu_info", "send_nmi", "get_physid",
		"register_vcpu_time_memory_area", "register_runstate_phys_area",
		"register_vcpu_time_phys_area",
	};
	static const char *const sched_op[] = {
		"yield", "block", "shutdown", "poll", "remote_shutdown", "shutdown_code",
		"watchdog",
	};
	uint64_t args[6];
	int present[6];
	pv_hypercall_v2_gather(ri, args, present);
	switch (op) {
	case 1: /* mmu_update; MMU_UPDATE_PREEMPTED is the top bit */
		xt_outf(a, " %d updates%s", (int)((uint32_t)args[1] & 0x7fffffffu),
			args[1] & 0x80000000u ? " (preempted)" : "");
		break;
	case 13: /* multicall */
		xt_outf(a, " %d calls", (int)(uint32_t)args[1]);
		break;
	case 20: /* grant_table_op */
		pv_cmd(a, grant_table_op, sizeof(grant_table_op) / sizeof(*grant_table_op), (uint32_t)args[0]);
		xt_outf(a, " %d ops", (int)(uint32_t)args[2]);
		break;
	case 24: /* vcpu_op */
		pv_cmd(a, vcpu_op, sizeof(vcpu_op) / sizeof(*vcpu_op), (uint32_t)args[0]);
		xt_outf(a, " vcpu %d", (int)(uint32_t)args[1]);
		break;
	case 26: /* mmuext_op */
		xt_outf(a, " %d ops", (int)(uint32_t)args[1]);
		break;
	case 29: /* sched_op */
		pv_cmd(a, sched_op, sizeof(sched_op) / sizeof(*sched_op), (uint32_t)args[0]);
		break;
	default:
		/* xenalyze prints a 64-bit argument in decimal, zero-padded
		 * to 16 digits ("%016" PRIu64); so do we */
		for (int i = 0; i < 6; i++) {
			if (present[i] == 0)
				xt_outf(a, " ??");
			else if (present[i] == 1)
				xt_outf(a, " %08x", (uint32_t)args[i]);
			else if (present[i] == 2)
				xt_outf(a, " %016" PRIu64, args[i]);
		}
		break;
	}
}

/* ---- HW: IRQ records pack irq and vector in one word (xenalyze
 * decodes two words, its bug #6) ---- */

static void hw_process(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	const uint32_t *d = ri->d;
	if (!a->o.dump_all) {
		if (ri->event == 0x00802008 && a->o.scatter != VMS_XT_SCATTER_IRQ)
			return;
	}
	switch (ri->event) {
	/* PM records, printed as xenalyze's pm_process does */
	case 0x00801001:
		if (a->o.dump_all)
			xt_outf(a, " %s pm_freq_change o%d n%d\n", a->hdr, (int)d[0], (int)d[1]);
		break;
	case 0x00801002:
		if (a->o.dump_all)
			xt_outf(a, " %s pm_idle_start c%d\n", a->hdr, (int)d[0]);
		if (d[0] <= XT_CSTATE_MAX)
			p->power_state = (int)d[0];
		break;
	case 0x00801003:
		if (a->o.dump_all)
			xt_outf(a, " %s pm_idle_end c%d\n", a->hdr, (int)d[0]);
		/* xenalyze prints this on stdout (bug #15) */
		if ((uint32_t)p->power_state != d[0])
			xt_warn(a, "Strange, pm_idle_end %d, power_state %d!\n", (int)d[0], p->power_state);
		p->power_state = 0;
		break;
	/* IRQ records, printed as xenalyze's irq_process does (names and
	 * formats), except that bind/assign carry irq and vector packed in
	 * one word (bug #6) */
	case 0x00802001: case 0x00802002:
		if (a->o.dump_all)
			xt_outf(a, " %s irq_move_cleanup%s irq %x vec %x cpu %d\n", a->hdr,
				ri->event == 0x00802001 ? "_delay" : "", d[0], d[1], (int)d[2]);
		break;
	case 0x00802003: case 0x00802006:
		if (a->o.dump_all)
			xt_outf(a, " %s irq_%s_vector irq %x vec %x mask %04x %04x %04x %04x\n", a->hdr,
				ri->event == 0x00802003 ? "bind" : "assign", d[0] & 0xffff, d[0] >> 16,
				d[4], d[3], d[2], d[1]);
		break;
	case 0x00802007:
		if (a->o.dump_all)
			xt_outf(a, " %s irq_unmapped_vector vec %x\n", a->hdr, d[0]);
		break;
	case 0x00802008:
		/* irq, start and end TSC (low 32 bits); the time as a signed
		 * 32-bit difference, as xenalyze computes it */
		if (a->o.dump_all)
			xt_outf(a, " %s irq_handled irq %x %d (%d,%d)\n", a->hdr, d[0],
				(int)(uint32_t)(d[2] - d[1]), (int)d[1], (int)d[2]);
		if (a->o.scatter == VMS_XT_SCATTER_IRQ)
			xt_scatter_irq(a, d[0], ri->tsc, p->pid);
		break;
	default:
		/* xenalyze prints nothing for HW subclasses other than PM (1)
		 * and IRQ (2); we dump every record */
		process_generic(a, ri);
	}
}

/* ---- lost records ---- */

static void lost_records(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	if (ri->n != 4) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": lost-records record has %u words, expected 4",
			ri->offset, ri->n);
		return;
	}
	unsigned did = ri->d[1] & 0xffff, vid = ri->d[1] >> 16;
	uint64_t first = (uint64_t)ri->d[2] | (uint64_t)ri->d[3] << 32;
	a->st.lost_records += ri->d[0];
	if (a->o.dump_all) {
		if (p->current)
			xt_outf(a, " %s lost_records count %d d%uv%u (cur d%dv%d) first_tsc %" PRIu64 "\n",
				a->hdr, (int)ri->d[0], did, vid, p->current->d->did, p->current->vid, first);
		else
			xt_outf(a, " %s lost_records count %d d%uv%u (cur X) first_tsc %" PRIu64 "\n",
				a->hdr, (int)ri->d[0], did, vid, first);
	}
	if (p->current) {
		vlapic_clear(p->current);
		if (p->current->data_type == 1) {
			p->current->hvm->vmexit_valid = false;
			xt_cr3_switch(a, p->current, 0);
		}
		vcpu_prev_update(a, p, p->current, first, RS_LOST);
	}
	if (!p->lost.active)
		a->lost_cpus++;
	p->lost.active = true;
	p->lost.tsc = first;
	pstr_draw(a, p);
	for (struct xt_domain *d = a->domains; d; d = d->next)
		for (int i = 0; i < XT_MAX_CPUS; i++)
			if (d->vcpu[i] && d->vcpu[i]->rs.state != RS_RUNNING)
				lose_vcpu(a, d->vcpu[i], first);
	p->lost.domain_valid = true;
	p->lost.did = did;
	p->lost.vid = vid;
}

static void lost_records_end(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	if (!p->lost.active || ri->tsc <= p->lost.tsc)
		return;
	if (a->o.dump_all)
		xt_outf(a, "               %s lost_records end ---\n", pstr(a, p->pid));
	xt_sum_add(&p->time.lost, ri->tsc - p->lost.tsc, &a->samples);
	if (p->lost.domain_valid) {
		if (a->o.dump_all)
			xt_outf(a, "               %s lost_records end d%uv%u---\n", pstr(a, p->pid),
				p->lost.did, p->lost.vid);
		if (p->current) {
			xt_warn(a, "lost_record valid, but current d%dv%d\n", p->current->d->did, p->current->vid);
		} else {
			struct xt_vcpu *v = vcpu_find(a, p->lost.did, p->lost.vid);
			if (v)
				vcpu_next_update(a, p, v, ri->tsc);
		}
		p->lost.domain_valid = false;
		p->lost.seen_valid_schedule = false;
	} else if (a->o.dump_all) {
		xt_outf(a, "               %s lost_records end (domain invalid)---\n", pstr(a, p->pid));
	}
	p->lost.active = false;
	pstr_draw(a, p);
	if (a->lost_cpus > 0)
		a->lost_cpus--;
}

/* ---- pcpu activation and windows ---- */

static void deactivate_pcpu(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	if (p->current) {
		pcpu_runstate_update(a, p, p->last_tsc);
		xt_warn(a, "deactivate_pcpu: setting d%dv%d to state LOST\n", p->current->d->did, p->current->vid);
		lose_vcpu(a, p->current, p->last_tsc);
	}
	p->active = false;
	chunk_release(a, p);
	order_remove(a, p);
	if (p->pid == a->max_active_pcpu) {
		int m = -1;
		for (int i = 0; i <= a->max_active_pcpu; i++)
			if (a->pcpu[i].active)
				m = i;
		a->max_active_pcpu = m;
	}
}

/* Decode @r (a TSC or TSC-less record) into p->ri with the pcpu's clock. */
static bool fill_record(struct vms_xt_analyzer *a, struct xt_pcpu *p, struct xt_rec *r)
{
	if (r != &p->ri)
		p->ri = *r;
	p->ri.cpu = p->pid;
	if (r->has_tsc) {
		if (r->tsc < p->raw_last_tsc) {
			xt_fail(a, VMS_ERR_CORRUPT,
				"offset %" PRIu64 ": pcpu %d TSC goes backwards (%" PRIu64 " after %" PRIu64 "); rest of this pcpu ignored",
				r->offset, p->pid, r->tsc, p->raw_last_tsc);
			return false;
		}
		p->raw_last_tsc = r->tsc;
		uint64_t tsc = r->tsc + (uint64_t)p->skew_offset;
		p->ri.tsc = tsc;
		if (!p->first_tsc)
			p->first_tsc = tsc;
		if (r->event == XT_LOST_RECORDS && r->n == 4)
			p->order_tsc = ((uint64_t)r->d[2] | (uint64_t)r->d[3] << 32) + (uint64_t)p->skew_offset;
		else
			p->order_tsc = tsc;
		p->last_tsc = tsc;
	} else {
		p->ri.tsc = p->last_tsc;
	}
	return true;
}

/* Activate pcpu whose window starts at @off if new; returns the offset
 * after that window, or 0 when nothing was activated. */
static uint64_t scan_for_new_pcpu(struct vms_xt_analyzer *a, uint64_t off)
{
	struct xt_rec r;
	int n = read_rec_at(a, NULL, off, &r);
	if (n <= 0) {
		if (n < 0)
			xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": file ends inside a cpu_change record", off);
		return 0;
	}
	if (!is_cpu_change(&r) || r.n != 2) {
		xt_fail(a, VMS_ERR_FORMAT,
			"offset %" PRIu64 ": expected a cpu_change record (0x%08x), found header 0x%08x",
			off, 0x2001f003u, (r.has_tsc ? 0x80000000u : 0) | r.n << 28 | r.event);
		return 0;
	}
	int32_t cpu = (int32_t)r.d[0];
	if (cpu < 0 || cpu >= XT_MAX_CPUS) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": cpu_change for pcpu %d (limit %d)", off, cpu, XT_MAX_CPUS);
		return 0;
	}
	struct xt_pcpu *p = &a->pcpu[cpu];
	if (cpu > a->max_active_pcpu || !p->active) {
		if (p->ever && !p->active)
			return 0;
		xt_warn(a, "scan_for_new_pcpu: Activating pcpu %d at offset %" PRIu64 "\n", cpu, off);
		p->active = p->ever = true;
		p->ri = r;
		p->ri.cpu = cpu;
		p->ri.tsc = p->last_tsc;
		p->file_offset = off;
		p->next_cpu_change_offset = off;
		order_insert(a, p);
		default_vcpu_activate(a, p);
		if (cpu > a->max_active_pcpu)
			a->max_active_pcpu = cpu;
		if (cpu + 1 > a->st.pcpus)
			a->st.pcpus = cpu + 1;
		return off + r.size + r.d[1];
	}
	return 0;
}

static void early_eof(struct vms_xt_analyzer *a)
{
	a->early_eof = true;
	for (int i = 0; i <= a->max_active_pcpu; i++) {
		struct xt_pcpu *p = &a->pcpu[i];
		if (p->active && p->file_offset > a->last_epoch_offset)
			deactivate_pcpu(a, p);
	}
}

static void process_cpu_change(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	int32_t cpu = (int32_t)ri->d[0];
	uint32_t wsize = ri->d[1];
	if (ri->n != 2 || cpu < 0 || cpu >= XT_MAX_CPUS) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": cpu_change record for pcpu %d with %u words",
			ri->offset, cpu, ri->n);
		deactivate_pcpu(a, p);
		return;
	}
	if (p->last_cpu_change_pid > cpu && p->file_offset > a->last_epoch_offset)
		a->last_epoch_offset = p->file_offset;
	struct xt_pcpu *p2 = &a->pcpu[cpu];
	if (!p2->active && !p2->ever) {
		p2->active = p2->ever = true;
		if (cpu > a->max_active_pcpu)
			a->max_active_pcpu = cpu;
		if (cpu + 1 > a->st.pcpus)
			a->st.pcpus = cpu + 1;
		p2->ri = *ri;
		p2->ri.cpu = cpu;
		p2->file_offset = p->file_offset;
		p2->next_cpu_change_offset = p->file_offset;
		xt_warn(a, "process_cpu_change: Activating pcpu %d at offset %" PRIu64 "\n", cpu, p->file_offset);
		order_insert(a, p2);
		default_vcpu_activate(a, p2);
	}
	p->last_cpu_change_pid = cpu;
	uint64_t wend = p->file_offset + ri->size + (uint64_t)wsize;
	if (wend > a->file_size) {
		xt_fail(a, VMS_ERR_FORMAT,
			"offset %" PRIu64 ": cpu_change window for pcpu %d claims %u bytes, only %" PRIu64 " remain",
			p->file_offset, cpu, wsize, a->file_size - p->file_offset - ri->size);
	}
	if (p->pid != cpu) {
		p->file_offset = wend;
		p->next_cpu_change_offset = wend;
		if (wend > a->file_size)
			early_eof(a);
		else if (a->early_eof && p->file_offset > a->last_epoch_offset)
			deactivate_pcpu(a, p);
	} else {
		a->st.windows++;
		p->file_offset += ri->size;
		p->next_cpu_change_offset = wend;
		p->win_end = wend;
		if (wend > a->file_size) {
			/* Keep the good records of this last window (xenalyze
			 * drops the whole last epoch). */
			p->win_end = a->file_size;
			p->next_cpu_change_offset = a->file_size;
		} else if (p->pid == a->max_active_pcpu) {
			scan_for_new_pcpu(a, wend);
		}
	}
}

/* Read the next record of @p; deactivates it at the end or on errors. */
static void read_record(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	/* decoded in place: after a failure p is deactivated and its record
	 * is not used again */
	struct xt_rec *r = &p->ri;
	uint64_t off = p->file_offset;
	int n = read_rec_at(a, p, off, r);
	if (n < 0) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": file ends inside a record (pcpu %d)", off, p->pid);
		deactivate_pcpu(a, p);
		return;
	}
	if (n == 0) {
		xt_warn(a, "read_record: read returned zero, deactivating pcpu %d\n", p->pid);
		deactivate_pcpu(a, p);
		return;
	}
	if (off < p->win_end && off + r->size > p->win_end) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": record of %u bytes crosses the end of its window (%" PRIu64 ")",
			off, r->size, p->win_end);
		deactivate_pcpu(a, p);
		return;
	}
	if (off >= p->win_end && !is_cpu_change(r)) {
		xt_fail(a, VMS_ERR_FORMAT, "offset %" PRIu64 ": expected a cpu_change record, found event 0x%07x",
			off, r->event);
		deactivate_pcpu(a, p);
		return;
	}
	if (!fill_record(a, p, r))
		deactivate_pcpu(a, p);
}

/* ---- main loop ---- */

static int toplevel_of(uint32_t event)
{
	unsigned main = (event >> 16) & 0xfff;
	if (main && !(main & (main - 1))) {
		int t = __builtin_ctz(main);
		return t < TL_MAX ? t : -1;
	}
	return -1;
}

static void interval_tick(struct vms_xt_analyzer *a, uint64_t tsc)
{
	if (a->o.interval == VMS_XT_INTERVAL_NONE)
		return;
	if (tsc < a->interval_start)
		return;
	uint64_t n = (tsc - a->interval_start) / a->interval_cycles;
	if (n > 1000000) {
		/* A TSC jump this large is corruption, not time: do not
		 * print a million empty rows. */
		xt_fail(a, VMS_ERR_CORRUPT, "TSC jumps by %" PRIu64 " intervals (tsc %" PRIu64 "); empty intervals skipped",
			n, tsc);
		a->interval_start += (n - 1) * a->interval_cycles;
	}
	while (tsc - a->interval_start > a->interval_cycles) {
		xt_interval_row(a);
		a->interval_start += a->interval_cycles;
	}
}

static void process_record(struct vms_xt_analyzer *a, struct xt_pcpu *p)
{
	struct xt_rec *ri = &p->ri;
	if (ri->event == XT_CPU_CHANGE && !ri->has_tsc) {
		process_cpu_change(a, p);
		return;
	}
	p->summary = true;
	a->st.records++;
	if (ri->tsc && ri->tsc >= a->first_tsc) {
		uint64_t tsc = p->order_tsc;
		if (!a->first_tsc) {
			a->first_tsc = tsc;
			a->interval_start = tsc;
		} else {
			interval_tick(a, tsc);
		}
		a->last_tsc = tsc;
		a->total_cycles = a->last_tsc - a->first_tsc;
		a->now = tsc;
	}
	if (a->o.dump_all)
		make_header(a, p);
	int tl = toplevel_of(ri->event);
	if (tl < 0) {
		/* xenalyze aborts on an unknown class (e.g. guest records,
		 * its bug #2); we dump them generically. */
		if (ri->event >> 16 == 0x800) {
			if (a->o.dump_all)
				dump_generic(a, ri);
		} else {
			xt_warn(a, "offset %" PRIu64 ": unexpected event class in %x\n", ri->offset, ri->event);
			if (a->o.dump_all)
				dump_generic(a, ri);
		}
		goto out;
	}
	if (tl == TL_HVM || tl == TL_SHADOW || tl == TL_PV) {
		bool emul = tl == TL_HVM && ((ri->event >> 12) & 0xf) == 4;
		if (!p->current) {
			xt_warn(a, "WARNING: p->current null!  Not processing\n");
			goto out;
		}
		if (!emul && p->current->idle) {
			xt_warn(a, "WARNING: Unexpected record for idle domain! Not processing\n");
			goto out;
		}
		int want = tl == TL_PV ? 2 : 1;
		if (!(p->current->data_type == 0 || p->current->data_type == want || emul)) {
			xt_warn(a, "WARNING: Unexpected vcpu data type for d%dv%d\n", p->current->d->did, p->current->vid);
			goto out;
		}
	}
	switch (tl) {
	case TL_GEN:
		switch (ri->event) {
		case XT_WRAP_BUFFER: a->st.wrap_records++; break;
		case XT_LOST_RECORDS: lost_records(a, p); break;
		case XT_LOST_RECORDS_END: lost_records_end(a, p); break;
		default: process_generic(a, ri);
		}
		break;
	case TL_SCHED: sched_process(a, p); break;
	case TL_HVM: hvm_process(a, p); break;
	case TL_PV: pv_process(a, p); break;
	case TL_HW: hw_process(a, p); break;
	case TL_MEM: mem_process(a, p); break;
	case TL_SHADOW: shadow_process(a, p); break;
	case TL_DOM0OP:
		if (a->o.dump_all) {
			if (ri->event == 0x00041001 || ri->event == 0x00041002)
				xt_outf(a, " %s %s domain %u\n", a->hdr,
					ri->event == 0x00041001 ? "domain_create" : "domain_destroy", ri->d[0]);
			else
				dump_generic(a, ri);
		}
		break;
	default:
		process_generic(a, ri);
	}
	if (tl >= 0)
		p->vol[tl] += ri->size;
out:;
}

static void process_records(struct vms_xt_analyzer *a)
{
	/* Start: walk the first windows until a pcpu repeats. */
	uint64_t off = 0;
	do {
		off = scan_for_new_pcpu(a, off);
	} while (off);
	xt_warn(a, "init_pcpus: through first trace write, done for now.\n");
	struct xt_pcpu *p;
	while ((p = a->order[0])) {
		process_record(a, p);
		if (p->ri.event == XT_LOST_RECORDS && p->ri.n == 4) {
			/* processed again at its own TSC */
			p->ri.event = XT_LOST_RECORDS_END;
			if (p->ri.tsc > p->order_tsc)
				p->order_tsc = p->ri.tsc;
		} else if (p->active) {
			if (!(p->ri.event == XT_CPU_CHANGE && !p->ri.has_tsc))
				p->file_offset += p->ri.size;
			read_record(a, p);
		}
		if (p->active)
			order_bubble(a, p);
	}
}

static struct vms_error *run(struct vms_xt_analyzer *a)
{
	a->st.bytes = a->file_size;
	if (a->file_size == 0) {
		xt_fail(a, VMS_ERR_FORMAT, "offset 0: empty trace file");
	} else {
		process_records(a);
	}
	xt_out_flush(a);
	a->finished_run = true;
	if (a->err)
		return vms_error_create(a->err->code, "%s", a->err->message);
	return NULL;
}

struct vms_error *vms_xt_analyze_buffer(struct vms_xt_analyzer *a,
					const void *data, size_t len)
{
	if (a->finished_run)
		return vms_error_create(VMS_ERR_INVALID, "analyzer already used");
	a->mem = data;
	a->file_size = len;
	return run(a);
}

struct vms_error *vms_xt_analyze_file(struct vms_xt_analyzer *a, const char *path)
{
	if (a->finished_run)
		return vms_error_create(VMS_ERR_INVALID, "analyzer already used");
	a->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (a->fd < 0)
		return vms_error_create(VMS_ERR_IO, "%s: %s", path, strerror(errno));
	struct stat sb;
	if (fstat(a->fd, &sb) < 0)
		return vms_error_create(VMS_ERR_IO, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return vms_error_create(VMS_ERR_INVALID, "%s: not a regular file", path);
	a->file_size = (uint64_t)sb.st_size;
	(void)posix_fadvise(a->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct vms_error *err = run(a);
	return err ? vms_error_wrap(err, "%s", path) : NULL;
}

/* ---- raw walk ---- */

struct vms_error *vms_xt_walk_buffer(const void *data, size_t len,
				     vms_xt_raw_cb cb, void *arg)
{
	const uint8_t *b = data;
	uint64_t off = 0;
	while (off < len) {
		if (len - off < 12)
			return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": file ends inside a cpu_change record", off);
		if (le32(b + off) != 0x2001f003u)
			return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": expected a cpu_change record, found 0x%08x",
						off, le32(b + off));
		int32_t cpu = (int32_t)le32(b + off + 4);
		uint32_t ws = le32(b + off + 8);
		if (cpu < 0 || cpu >= XT_MAX_CPUS)
			return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": cpu_change for pcpu %d", off, cpu);
		off += 12;
		if (ws > len - off)
			return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": window of %u bytes, only %" PRIu64 " remain",
						off - 12, ws, (uint64_t)len - off);
		uint64_t end = off + ws;
		while (off < end) {
			if (end - off < 4)
				return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": record crosses window end", off);
			uint32_t h = le32(b + off);
			struct vms_xt_raw_record r = { .offset = off, .pcpu = cpu };
			r.event = h & 0x0fffffff;
			r.n_words = (h >> 28) & 7;
			r.has_tsc = (int)(h >> 31);
			uint64_t size = 4 + 8 * (uint64_t)r.has_tsc + 4 * (uint64_t)r.n_words;
			if (size > end - off)
				return vms_error_create(VMS_ERR_FORMAT, "offset %" PRIu64 ": record of %" PRIu64 " bytes crosses window end",
							off, size);
			const uint8_t *d = b + off + 4;
			if (r.has_tsc) {
				r.tsc = (uint64_t)le32(d) | (uint64_t)le32(d + 4) << 32;
				d += 8;
			}
			for (unsigned i = 0; i < r.n_words; i++)
				r.d[i] = le32(d + 4 * i);
			if (cb && cb(&r, arg))
				return NULL;
			off += size;
		}
	}
	return NULL;
}
