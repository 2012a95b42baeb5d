// SPDX-License-Identifier: LGPL-2.1-or-later
/* xentrace reader on small hand-built traces: record parsing (raw walk),
 * cpu_change windows, the TSC merge across pcpus (TSC-less records stay
 * with their pcpu), late pcpu activation, wrap and lost records, errors
 * with file offsets, and the report output buffer. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/xentrace.h>

#include "check.h"

struct buf {
	uint8_t d[8192];
	size_t n;
	size_t win;      /* offset of the open window's cpu_change */
};

static void w32(struct buf *b, uint32_t v)
{
	b->d[b->n++] = (uint8_t)v;
	b->d[b->n++] = (uint8_t)(v >> 8);
	b->d[b->n++] = (uint8_t)(v >> 16);
	b->d[b->n++] = (uint8_t)(v >> 24);
}

static void put32_at(struct buf *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b->d[off + (size_t)i] = (uint8_t)(v >> (8 * i));
}

static void win_open(struct buf *b, int cpu)
{
	b->win = b->n;
	w32(b, 0x2001f003u);
	w32(b, (uint32_t)cpu);
	w32(b, 0);
}

static void win_close(struct buf *b)
{
	put32_at(b, b->win + 8, (uint32_t)(b->n - b->win - 12));
}

/* tsc 0 = no TSC */
static void rec(struct buf *b, uint32_t ev, uint64_t tsc, unsigned n, const uint32_t *d)
{
	w32(b, ev | n << 28 | (tsc ? 1u << 31 : 0));
	if (tsc) {
		w32(b, (uint32_t)tsc);
		w32(b, (uint32_t)(tsc >> 32));
	}
	for (unsigned i = 0; i < n; i++)
		w32(b, d[i]);
}

static void dom_create(struct buf *b, uint64_t tsc, uint32_t dom)
{
	rec(b, 0x00041001u, tsc, 1, &dom);
}

static void runstate(struct buf *b, uint64_t tsc, int old, int new, unsigned dom, unsigned vcpu)
{
	uint32_t w = vcpu | dom << 16;
	rec(b, 0x00021001u | (uint32_t)old << 8 | (uint32_t)new << 4, tsc, 1, &w);
}

struct walk { int n; struct vms_xt_raw_record r[16]; };

static int walk_cb(const struct vms_xt_raw_record *r, void *arg)
{
	struct walk *w = arg;
	if (w->n < 16)
		w->r[w->n] = *r;
	w->n++;
	return 0;
}

/* Run the analyzer on @b with @o; returns its output (malloc'd), *err set
 * to the analysis error message (malloc'd) or NULL. */
static char *analyze(const struct buf *b, struct vms_xt_options *o,
		     struct vms_xt_stats *st, char **errmsg)
{
	char *out = NULL;
	size_t outlen = 0;
	FILE *f = open_memstream(&out, &outlen);
	o->out = f;
	o->warn = NULL;
	struct vms_xt_analyzer *a;
	struct vms_error *err = vms_xt_analyzer_create(o, &a);
	if (err) {
		fclose(f);
		free(out);
		vms_error_free(err);
		return NULL;
	}
	err = vms_xt_analyze_buffer(a, b->d, b->n);
	*errmsg = err ? strdup(err->message) : NULL;
	vms_error_free(err);
	vms_error_free(vms_xt_finish(a));
	if (st)
		vms_xt_get_stats(a, st);
	vms_xt_analyzer_destroy(a);
	fclose(f);
	return out;
}

/* the domain numbers of "domain_create domain N" lines, in output order */
static int domain_order(const char *out, unsigned *ids, int max)
{
	int n = 0;
	const char *p = out;
	while (n < max && (p = strstr(p, "domain_create domain "))) {
		p += strlen("domain_create domain ");
		ids[n++] = (unsigned)strtoul(p, NULL, 10);
	}
	return n;
}

static void test_walk(void)
{
	struct buf b = { .n = 0 };
	win_open(&b, 3);
	uint32_t d3[3] = { 48, 0x81001234, 0xffffffff };
	rec(&b, 0x00081102u, 0x123456789aull, 3, d3);   /* VMX_EXIT64 */
	uint32_t d6[6] = { 1, 2, 3, 4, 5, 6 };
	rec(&b, 0x00082021u, 0, 6, d6);                   /* NPF, no TSC */
	rec(&b, 0x00081001u, 0x123456799aull, 0, NULL);  /* VMENTRY */
	win_close(&b);
	win_open(&b, 0);
	uint32_t pad[2] = { 0xdead, 0xbeef };
	rec(&b, 0x0001f002u, 0, 2, pad);                  /* wrap padding */
	win_close(&b);

	struct walk w = { 0 };
	struct vms_error *err = vms_xt_walk_buffer(b.d, b.n, walk_cb, &w);
	CHECK(!err && w.n == 4, "walk: 4 records in 2 windows");
	CHECK(w.r[0].offset == 12 && w.r[0].pcpu == 3 && w.r[0].event == 0x00081102u &&
	      w.r[0].has_tsc && w.r[0].tsc == 0x123456789aull && w.r[0].n_words == 3 &&
	      w.r[0].d[0] == 48 && w.r[0].d[2] == 0xffffffff,
	      "walk: header bits, 64-bit TSC from two words, payload");
	CHECK(w.r[1].offset == 12 + 24 && !w.r[1].has_tsc && w.r[1].n_words == 6 && w.r[1].d[5] == 6,
	      "walk: TSC-less record with 6 words");
	CHECK(w.r[2].n_words == 0 && w.r[2].tsc == 0x123456799aull, "walk: record without payload");
	CHECK(w.r[3].pcpu == 0 && w.r[3].event == 0x0001f002u, "walk: second window, its pcpu");
	vms_error_free(err);

	/* a record that crosses the end of its window */
	struct buf c = b;
	put32_at(&c, 8, 20);   /* window of 20 bytes: the exit record is 24 */
	err = vms_xt_walk_buffer(c.d, c.n, walk_cb, &w);
	CHECK(err && strstr(err->message, "offset 12"), "walk: record crossing the window end, offset named");
	vms_error_free(err);
	/* not a cpu_change */
	c = b;
	put32_at(&c, 0, 0x12345678);
	err = vms_xt_walk_buffer(c.d, c.n, walk_cb, &w);
	CHECK(err && strstr(err->message, "offset 0"), "walk: no cpu_change at offset 0");
	vms_error_free(err);
	/* pcpu out of range */
	c = b;
	put32_at(&c, 4, 4096);
	err = vms_xt_walk_buffer(c.d, c.n, walk_cb, &w);
	CHECK(err != NULL, "walk: pcpu 4096 rejected");
	vms_error_free(err);
	/* truncated file */
	err = vms_xt_walk_buffer(b.d, b.n - 3, walk_cb, &w);
	CHECK(err != NULL, "walk: truncated file");
	vms_error_free(err);
}

static void test_merge(void)
{
	/* Epoch 1: pcpu 0 then pcpu 1, overlapping in time.  Epoch 2: pcpu 0,
	 * and pcpu 2 appearing for the first time. */
	struct buf b = { .n = 0 };
	win_open(&b, 0);
	dom_create(&b, 1000, 1);
	dom_create(&b, 3000, 3);
	dom_create(&b, 0, 4);        /* no TSC: stays after 3 */
	dom_create(&b, 5000, 6);
	win_close(&b);
	win_open(&b, 1);
	dom_create(&b, 2000, 2);
	dom_create(&b, 4000, 5);
	win_close(&b);
	win_open(&b, 0);
	dom_create(&b, 8000, 9);
	win_close(&b);
	win_open(&b, 2);
	dom_create(&b, 6000, 7);
	dom_create(&b, 7000, 8);
	win_close(&b);

	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.dump_all = 1;
	struct vms_xt_stats st;
	char *em;
	char *out = analyze(&b, &o, &st, &em);
	if (getenv("XT_TEST_VERBOSE") && out)
		fputs(out, stderr);
	unsigned ids[16];
	int n = out ? domain_order(out, ids, 16) : 0;
	int ordered = n == 9;
	for (int i = 0; ordered && i < n; i++)
		ordered = ids[i] == (unsigned)i + 1;
	CHECK(!em, "merge: no error");
	CHECK(ordered, "merge: records of 3 pcpus in TSC order, TSC-less record with its pcpu");
	CHECK(st.records == 9 && st.windows == 4 && st.pcpus == 3,
	      "merge: stats count 9 records, 4 windows, 3 pcpus");
	CHECK(st.first_tsc == 1000 && st.last_tsc == 8000, "merge: first and last TSC");
	/* time column: (tsc - first) << 10 / (2.4e9 * 1024 / 1e9) */
	CHECK(out && strstr(out, "  0.000000833 x. d32768v0 domain_create domain 3") != NULL,
	      "merge: dump time 2000 cycles after the first TSC (Q10 at 2.4 GHz)");
	CHECK(out && strstr(out, " x. d32768v0 domain_create domain 1") &&
	      strstr(out, " ..x d32768v2 domain_create domain 7"),
	      "merge: placeholder vcpus; pcpu column added when pcpu 2 activates");
	free(out);
	free(em);
}

static void test_wrap_lost(void)
{
	struct buf b = { .n = 0 };
	win_open(&b, 0);
	runstate(&b, 100000, 1, 0, 5, 0);      /* d5v0 runnable->running */
	uint32_t pad[1] = { 0 };
	rec(&b, 0x0001f002u, 0, 1, pad);
	uint32_t lost[4] = { 1234, 5 | 0 << 16, 101000, 0 };
	rec(&b, 0x0001f001u, 151000, 4, lost);  /* gap 101000..151000 */
	runstate(&b, 160000, 0, 2, 5, 0);
	win_close(&b);
	win_open(&b, 1);
	runstate(&b, 100010, 1, 0, 6, 0);
	runstate(&b, 170000, 0, 2, 6, 0);
	win_close(&b);

	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.report_pcpu = 1;
	struct vms_xt_stats st;
	char *em;
	char *out = analyze(&b, &o, &st, &em);
	CHECK(!em && st.wrap_records == 1, "wrap record skipped and counted");
	CHECK(st.lost_records == 1234, "lost records: count summed");
	const char *p = out ? strstr(out, "pcpu 0\n") : NULL;
	p = p ? strstr(p, "lost:") : NULL;
	unsigned long cnt = 0, cyc = 0;
	if (p)
		sscanf(p, "lost: %lu %*s %lu", &cnt, &cyc);
	CHECK(cnt == 1 && cyc == 50000, "lost records: gap of 50000 cycles on pcpu 0");
	free(out);
	free(em);

	o.report_pcpu = 0;
	o.dump_all = 1;
	out = analyze(&b, &o, &st, &em);
	CHECK(out && strstr(out, "lost_records count 1234 d5v0") && strstr(out, " xl") == NULL &&
	      strstr(out, "lost_records end d5v0"), "lost records: dumped at first-lost and at own TSC");
	free(out);
	free(em);
}

static void test_errors(void)
{
	struct buf b = { .n = 0 };
	win_open(&b, 0);
	runstate(&b, 100000, 1, 0, 1, 0);
	runstate(&b, 200000, 0, 2, 1, 0);
	runstate(&b, 150000, 2, 1, 1, 0);      /* backwards, offset 44 */
	win_close(&b);
	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.summary = 1;
	struct vms_xt_stats st;
	char *em;
	char *out = analyze(&b, &o, &st, &em);
	CHECK(em && strstr(em, "offset 44") && strstr(em, "backwards"), "TSC going backwards: error with offset");
	CHECK(out && strncmp(out, "Total time", 10) == 0 && st.records == 2,
	      "TSC going backwards: summary of the 2 good records");
	free(out);
	free(em);

	struct buf c = { .n = 0 };
	win_open(&c, 0);
	runstate(&c, 100000, 1, 0, 1, 0);
	win_close(&c);
	put32_at(&c, 8, 1000);                 /* window beyond the file */
	out = analyze(&c, &o, &st, &em);
	CHECK(em && strstr(em, "offset 0") && strstr(em, "claims"), "window bigger than the file: error with offset");
	free(out);
	free(em);

	struct buf e = { .n = 0 };
	out = analyze(&e, &o, &st, &em);
	CHECK(em && strstr(em, "empty"), "empty trace: error");
	free(out);
	free(em);
}

static void test_output_buffer(void)
{
	/* Many dump lines through the output buffer: complete and in order.
	 * (The suite checks a dump larger than the buffer.) */
	static struct buf b;
	b.n = 0;
	win_open(&b, 0);
	int n = 0;
	for (uint64_t t = 1000; b.n + 16 < sizeof(b.d); t += 1000, n++)
		dom_create(&b, t, (uint32_t)n);
	win_close(&b);
	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.dump_all = 1;
	char *em;
	char *out = analyze(&b, &o, NULL, &em);
	unsigned ids[1024];
	int k = out ? domain_order(out, ids, 1024) : 0;
	int ok = k == n;
	for (int i = 0; ok && i < k; i++)
		ok = ids[i] == (unsigned)i;
	CHECK(ok, "dump output: every line, in order");
	free(out);
	free(em);
}

int main(void)
{
	test_walk();
	test_merge();
	test_wrap_lost();
	test_errors();
	test_output_buffer();
	return CHECK_DONE();
}
