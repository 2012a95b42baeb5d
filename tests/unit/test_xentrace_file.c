// SPDX-License-Identifier: LGPL-2.1-or-later
/* The file reader (the trace mapped in 1 MiB chunks shared by the pcpu
 * cursors) against the in-memory reader: a 3 MiB trace of 3 pcpus whose
 * records of every size straddle the chunk boundaries gives the same
 * --dump-all and --summary output and statistics from a file as from a
 * buffer, also when the file is cut in the middle of a record. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/xentrace.h>

#include "check.h"

struct buf {
	uint8_t *d;
	size_t n, cap;
	size_t win;
};

static void w32(struct buf *b, uint32_t v)
{
	if (b->n + 4 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 1 << 16;
		b->d = realloc(b->d, b->cap);
		if (!b->d)
			abort();
	}
	for (int i = 0; i < 4; i++)
		b->d[b->n++] = (uint8_t)(v >> (8 * i));
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
	uint32_t v = (uint32_t)(b->n - b->win - 12);
	for (int i = 0; i < 4; i++)
		b->d[b->win + 8 + (size_t)i] = (uint8_t)(v >> (8 * i));
}

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

/* Windows of 3 pcpus, overlapping in time; each pcpu runs dom0 vcpu N
 * and makes PV hypercalls (v2 records of 1 to 6 words) and some
 * TSC-less records, so that record sizes vary from 4 to 40 bytes. */
static void build(struct buf *b, size_t size)
{
	uint64_t t[3] = { 1000, 1003, 1007 };
	uint32_t seq = 0;
	for (int c = 0; c < 3; c++) {
		win_open(b, c);
		uint32_t w = (uint32_t)c;
		rec(b, 0x00021001u | 3u << 8 | 0u << 4, t[c]++, 1, &w); /* d0vN offline -> running */
		win_close(b);
	}
	while (b->n < size) {
		for (int c = 0; c < 3; c++) {
			win_open(b, c);
			int nrec = 50 + (int)(seq % 97);
			for (int i = 0; i < nrec; i++, seq++) {
				uint32_t d[7] = { seq % 40, seq, seq * 7, 1, 2, 3, 4 };
				unsigned n = 1 + seq % 6;
				t[c] += 100 + seq % 13;
				if (seq % 11 == 0)
					rec(b, 0x0020f00du, 0, n, d);  /* TSC-less */
				else
					rec(b, 0x0020100du, t[c], n, d); /* PV hypercall v2 */
			}
			win_close(b);
		}
	}
}

struct result {
	char *out, *err;
	struct vms_xt_stats st;
};

static void run(struct result *r, int dump, const struct buf *b, const char *path)
{
	size_t outlen = 0;
	r->out = NULL;
	r->err = NULL;
	FILE *f = open_memstream(&r->out, &outlen);
	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.dump_all = dump;
	o.summary = !dump;
	o.out = f;
	struct vms_xt_analyzer *a;
	struct vms_error *err = vms_xt_analyzer_create(&o, &a);
	if (err) {
		vms_error_free(err);
		fclose(f);
		return;
	}
	err = path ? vms_xt_analyze_file(a, path) : vms_xt_analyze_buffer(a, b->d, b->n);
	if (err) {
		/* the file reader prefixes the path */
		const char *m = err->message;
		if (path && strncmp(m, path, strlen(path)) == 0)
			m += strlen(path) + 2;
		r->err = strdup(m);
	}
	vms_error_free(err);
	vms_error_free(vms_xt_finish(a));
	vms_xt_get_stats(a, &r->st);
	vms_xt_analyzer_destroy(a);
	fclose(f);
}

static int same(const struct result *x, const struct result *y)
{
	return x->out && y->out && strcmp(x->out, y->out) == 0 &&
	       ((!x->err && !y->err) || (x->err && y->err && strcmp(x->err, y->err) == 0)) &&
	       x->st.records == y->st.records && x->st.windows == y->st.windows;
}

static void clear(struct result *r)
{
	free(r->out);
	free(r->err);
}

static void compare(struct buf *b, const char *path, const char *what, int want_err)
{
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(b->d, 1, b->n, f) != b->n || fclose(f)) {
		CHECK(0, "write the temporary trace");
		return;
	}
	char name[160];
	for (int dump = 1; dump >= 0; dump--) {
		struct result m, fl;
		run(&m, dump, b, NULL);
		run(&fl, dump, NULL, path);
		snprintf(name, sizeof(name), "%s, %s: file and buffer give the same output", what,
			 dump ? "--dump-all" : "--summary");
		CHECK(same(&m, &fl), name);
		if (dump) {
			snprintf(name, sizeof(name), "%s: %s", what,
				 want_err ? "error naming an offset" : "no error, every record read");
			if (want_err)
				CHECK(fl.err && strstr(fl.err, "offset "), name);
			else
				CHECK(!fl.err && fl.st.records > 100000, name);
		}
		clear(&m);
		clear(&fl);
	}
}

int main(void)
{
	char path[] = "/tmp/test_xentrace_file.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		CHECK(0, "temporary file");
		return CHECK_DONE();
	}
	close(fd);
	struct buf b = { 0 };
	build(&b, 3u << 20);
	compare(&b, path, "3 MiB trace", 0);
	/* cut in the middle of a record past the second chunk */
	size_t cut = (5u << 19) + 6;
	b.n = cut;
	compare(&b, path, "trace cut at 2.5 MiB", 1);
	unlink(path);
	free(b.d);
	return CHECK_DONE();
}
