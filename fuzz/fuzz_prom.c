// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the Prometheus exposition writer and parser
 * (include/vmsight/prom.h).  The input's first byte picks a mode:
 *   even: the rest, split at 0xff bytes, is up to 8 label values (what a
 *         hostile guest names its processes, modules, kernel release); they
 *         are written as samples of three families in two sets, rendered,
 *         and the text must parse back line by line (each line a comment or
 *         `name{labels} value`) with exactly the samples written, each label
 *         value reading back as vms_prom_clean_value() of the input, never
 *         longer than the bound, and no sample of a family never written;
 *   odd:  the rest is exposition text for the parser (must not crash or
 *         read out of bounds; its samples are re-rendered and re-parsed).
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/prom.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

enum { F_A, F_B, F_C, F_NEVER, NFAM };
static const struct vms_prom_family fams[NFAM] = {
	{ "vmsight_guest_process_cpu_ratio", VMS_PROM_GAUGE, "a" },
	{ "vmsight_guest_kernel_info", VMS_PROM_GAUGE, "b \\ \n" },
	{ "vmsight_guest_cpu_seconds_total", VMS_PROM_COUNTER, "c" },
	{ "vmsight_fake", VMS_PROM_GAUGE, "never written" },
};

#define MAXV 8
#define BOUND 64

struct expect {
	char clean[MAXV][BOUND + 1];
	size_t nv;
	size_t samples, never;
	bool mismatch;
};

static int check_sample(const char *name, const struct vms_prom_label *l, size_t nl, double v,
			void *arg)
{
	struct expect *e = arg;
	e->samples++;
	if (!strcmp(name, "vmsight_fake"))
		e->never++;
	/* Labels: i (the value's index), v (the value itself). */
	long idx = -1;
	const char *val = NULL;
	for (size_t i = 0; i < nl; i++) {
		if (!strcmp(l[i].name, "i"))
			idx = strtol(l[i].value, NULL, 10);
		else if (!strcmp(l[i].name, "v"))
			val = l[i].value;
		if (strlen(l[i].value) > BOUND)
			e->mismatch = true;
	}
	if (idx < 0 || (size_t)idx >= e->nv || !val || strcmp(val, e->clean[idx]) ||
	    v != (double)idx)
		e->mismatch = true;
	return 0;
}

static void writer_mode(const uint8_t *data, size_t size)
{
	const char *vals[MAXV];
	char *copies[MAXV];
	size_t nv = 0, start = 0;
	struct expect e = { 0 };
	for (size_t i = 0; i <= size && nv < MAXV; i++) {
		if (i == size || data[i] == 0xff) {
			size_t n = i - start;
			copies[nv] = malloc(n + 1);
			if (!copies[nv])
				abort();
			memcpy(copies[nv], data + start, n);
			copies[nv][n] = '\0';
			/* The writer takes C strings: the value ends at a NUL. */
			vms_prom_clean_value(e.clean[nv], sizeof(e.clean[nv]), copies[nv],
					     strlen(copies[nv]), BOUND);
			vals[nv] = copies[nv];
			nv++;
			start = i + 1;
		}
	}
	e.nv = nv;
	struct vms_prom_set *s1, *s2;
	if (vms_prom_set_new(fams, NFAM, 1 << 20, BOUND, &s1) ||
	    vms_prom_set_new(fams, NFAM, 1 << 20, BOUND, &s2))
		abort();
	size_t written = 0;
	for (size_t i = 0; i < nv; i++) {
		char idx[16];
		snprintf(idx, sizeof(idx), "%zu", i);
		struct vms_prom_label l[] = { { "guest", i % 2 ? "g2" : "g1" }, { "i", idx },
					      { "v", vals[i] } };
		struct vms_prom_set *s = i % 2 ? s2 : s1;
		for (size_t f = 0; f < 3; f++) {
			struct vms_error *err = vms_prom_add(s, f, l, 3, (double)i);
			if (err)
				abort();   /* our label names are valid: never an error */
			written++;
		}
	}
	const struct vms_prom_set *sets[] = { s1, s2 };
	char *text;
	size_t len;
	if (vms_prom_render(sets, 2, &text, &len))
		abort();
	struct vms_error *err = vms_prom_parse(text, len, check_sample, &e);
	if (err) {
		fprintf(stderr, "rendered text does not parse: %s\n%s\n", err->message, text);
		abort();
	}
	if (e.mismatch || e.samples != written || e.never) {
		fprintf(stderr, "read back %zu of %zu samples, %zu injected, mismatch %d\n%s\n",
			e.samples, written, e.never, e.mismatch, text);
		abort();
	}
	/* Every line: a comment or name{labels} value (the line-level rule). */
	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		if (!nl)
			abort();
		if (*p != '#' && !strncmp(p, "vmsight_fake", 12))
			abort();
		p = nl + 1;
	}
	free(text);
	vms_prom_set_free(s1);
	vms_prom_set_free(s2);
	for (size_t i = 0; i < nv; i++)
		free(copies[i]);
}

struct rerender {
	struct vms_prom_set *s;
	size_t n;
};

static int collect(const char *name, const struct vms_prom_label *l, size_t nl, double v,
		   void *arg)
{
	(void)name;
	struct rerender *r = arg;
	if (nl > 16)
		nl = 16;
	/* Parsed label names are valid; the writer may still refuse "__x". */
	vms_error_free(vms_prom_add(r->s, r->n++ % 3, l, nl, v));
	return 0;
}

static void parser_mode(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so ASan sees a read past the end. */
	char *t = malloc(size ? size : 1);
	if (!t)
		abort();
	memcpy(t, data, size);
	struct rerender r = { 0 };
	if (vms_prom_set_new(fams, NFAM, 1 << 20, BOUND, &r.s))
		abort();
	struct vms_error *err = vms_prom_parse(t, size, collect, &r);
	vms_error_free(err);
	/* What the parser accepted, written again, must parse (unless two
	 * samples became one series by cleaning: then only memory safety). */
	const struct vms_prom_set *sets[] = { r.s };
	char *text;
	size_t len;
	if (vms_prom_render(sets, 1, &text, &len))
		abort();
	err = vms_prom_parse(text, len, NULL, NULL);
	if (err && !strstr(err->message, "twice")) {
		fprintf(stderr, "re-rendered text does not parse: %s\n%s\n", err->message, text);
		abort();
	}
	vms_error_free(err);
	free(text);
	vms_prom_set_free(r.s);
	free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] % 2 == 0)
		writer_mode(data + 1, size - 1);
	else
		parser_mode(data + 1, size - 1);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (!dir)
		return 0;
	static const char *const seeds[] = {
		"\x00sleeper-a\xffx\"} 1\nvmsight_fake 1\xff\\\xff\xc3\xa9\xed\xa0\x80\xff\x1b[31m",
		("\x00" "6.1.0-57-cloud-amd64\xffkworker/0:1-events\xff\xf0\x9f\x98\x80"),
		"\x01# HELP a x\n# TYPE a gauge\na{b=\"c\\\"\\n\"} 1\nb 2 3\n",
		"\x01# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
	};
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "seed-%zu", i);
		/* The first byte may be NUL: the length is the literal's, less its NUL. */
		size_t n = i < 2 ? 1 + strlen(seeds[i] + 1) : strlen(seeds[i]);
		fuzz_write_seed(dir, name, (const uint8_t *)seeds[i], n);
	}
	exit(0);
}
