// SPDX-License-Identifier: LGPL-2.1-or-later
/* The Prometheus exposition writer and parser (include/vmsight/prom.h):
 * label values a hostile guest chooses (injection attempts, invalid UTF-8,
 * control bytes, huge names) stay one label value; families render once
 * with their samples together; the parser refuses what the format refuses. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/prom.h>

#include "check.h"

enum { F_UP, F_PROC, F_CPU, F_FAKE, NFAM };
static const struct vms_prom_family fams[NFAM] = {
	[F_UP] = { "vmsight_guest_up", VMS_PROM_GAUGE, "1 if the guest could be read." },
	[F_PROC] = { "vmsight_guest_process_cpu_ratio", VMS_PROM_GAUGE,
		     "CPU of a process, 1 = one CPU (help with a \\ backslash\nand newline)." },
	[F_CPU] = { "vmsight_guest_cpu_seconds_total", VMS_PROM_COUNTER, "CPU time." },
	[F_FAKE] = { "vmsight_fake", VMS_PROM_GAUGE, "never written" },
};

struct seen {
	size_t n, fake, proc;
	char last_comm[256];
	char last_name[256];
	double last_value;
};

static int on_sample(const char *name, const struct vms_prom_label *l, size_t nl, double v,
		     void *arg)
{
	struct seen *s = arg;
	s->n++;
	snprintf(s->last_name, sizeof(s->last_name), "%s", name);
	s->last_value = v;
	if (!strcmp(name, "vmsight_fake"))
		s->fake++;
	if (!strcmp(name, "vmsight_guest_process_cpu_ratio"))
		s->proc++;
	for (size_t i = 0; i < nl; i++)
		if (!strcmp(l[i].name, "comm"))
			snprintf(s->last_comm, sizeof(s->last_comm), "%s", l[i].value);
	return 0;
}

static bool utf8_ok(const char *s)
{
	/* Independent of the library: decode and check the ranges. */
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		uint32_t cp;
		int n;
		if (*p < 0x80) { cp = *p; n = 1; }
		else if ((*p & 0xe0) == 0xc0) { cp = *p & 0x1f; n = 2; }
		else if ((*p & 0xf0) == 0xe0) { cp = *p & 0x0f; n = 3; }
		else if ((*p & 0xf8) == 0xf0) { cp = *p & 0x07; n = 4; }
		else return false;
		for (int i = 1; i < n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n;
	}
	return true;
}

/* Render one process sample whose comm is @comm; parse it back. */
static bool roundtrip(const char *comm, struct seen *s, char **text)
{
	struct vms_prom_set *set;
	memset(s, 0, sizeof(*s));
	if (vms_prom_set_new(fams, NFAM, 1 << 20, 0, &set))
		return false;
	struct vms_prom_label l[] = { { "guest", "g1" }, { "pid", "42" }, { "comm", comm } };
	struct vms_error *err = vms_prom_add(set, F_PROC, l, 3, 0.5);
	bool ok = !err;
	vms_error_free(err);
	const struct vms_prom_set *sets[] = { set };
	size_t len;
	err = vms_prom_render(sets, 1, text, &len);
	ok = ok && !err;
	vms_error_free(err);
	if (ok) {
		err = vms_prom_parse(*text, len, on_sample, s);
		if (err)
			printf("# parse: %s\n", err->message);
		ok = !err;
		vms_error_free(err);
	}
	vms_prom_set_free(set);
	return ok;
}

static void test_injection(void)
{
	static const char *const attacks[] = {
		"x\"} 1\nvmsight_fake 1",
		"x\"} 1\nvmsight_fake{guest=\"g1\"} 1\n# TYPE vmsight_fake gauge",
		"\\\"} 1\nvmsight_fake 1",
		"a\\",
		"a\\\\\"",
		"\n\n\n",
		"}\" 1 2 3",
		"x\r\nvmsight_fake 1",
		"x\"\x00 hidden",
		"# HELP vmsight_fake x",
		"x\xc0\"} 1\nvmsight_fake 1",   /* an invalid byte before the quote */
		"x\xe2\x80\"} 1",               /* a sequence cut by the quote */
	};
	for (size_t i = 0; i < sizeof(attacks) / sizeof(attacks[0]); i++) {
		char name[64], *text = NULL, want[256];
		struct seen s;
		bool ok = roundtrip(attacks[i], &s, &text);
		vms_prom_clean_value(want, sizeof(want), attacks[i], strlen(attacks[i]), 64);
		snprintf(name, sizeof(name), "injection %zu: one sample, no fake one", i);
		CHECKD(ok && s.n == 1 && s.proc == 1 && s.fake == 0, name, "ok=%d n=%zu fake=%zu: %s",
		       ok, s.n, s.fake, text ? text : "");
		snprintf(name, sizeof(name), "injection %zu: label value reads back", i);
		CHECKD(ok && !strcmp(s.last_comm, want), name, "'%.200s' vs '%.200s'", s.last_comm, want);
		/* Count lines: HELP, TYPE, the one sample. */
		size_t lines = 0;
		for (const char *p = text; p && *p; p++)
			lines += *p == '\n';
		snprintf(name, sizeof(name), "injection %zu: exactly 3 lines", i);
		CHECKD(lines == 3, name, "%zu lines: %s", lines, text ? text : "");
		free(text);
	}
}

static void test_clean(void)
{
	char out[256];
	size_t n = vms_prom_clean_value(out, sizeof(out), "sleeper-a", 9, 64);
	CHECK(n == 9 && !strcmp(out, "sleeper-a"), "clean: plain ASCII unchanged");
	n = vms_prom_clean_value(out, sizeof(out), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14, 64);
	CHECK(n == 14 && !memcmp(out, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14),
	      "clean: valid UTF-8 (2, 3, 4 bytes) unchanged");
	static const struct { const char *in; size_t len; const char *why; } bad[] = {
		{ "\x80", 1, "stray continuation byte" },
		{ "\xc0\xaf", 2, "overlong '/'" },
		{ "\xe0\x80\xaf", 3, "overlong 3-byte" },
		{ "\xed\xa0\x80", 3, "UTF-16 surrogate" },
		{ "\xf4\x90\x80\x80", 4, "above U+10FFFF" },
		{ "\xf8\x88\x80\x80\x80", 5, "5-byte form" },
		{ "\xe2\x82", 2, "sequence cut short" },
		{ "\xff\xfe", 2, "0xff 0xfe" },
		{ "a\x01" "b\x1b[31m\x7f", 9, "control bytes and an escape sequence" },
		{ "a\0b", 3, "NUL" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[96];
		n = vms_prom_clean_value(out, sizeof(out), bad[i].in, bad[i].len, 64);
		snprintf(name, sizeof(name), "clean: %s -> valid UTF-8 with U+FFFD", bad[i].why);
		CHECKD(utf8_ok(out) && strlen(out) == n && strstr(out, "\xef\xbf\xbd") &&
		       !strpbrk(out, "\x01\x1b\x7f"), name, "len %zu", n);
	}
	n = vms_prom_clean_value(out, sizeof(out), "a\tb\nc", 5, 64);
	CHECK(n == 5 && !strcmp(out, "a\tb\nc"), "clean: tab and newline kept (newline is escaped later)");
	char big[1000];
	memset(big, 'A', sizeof(big));
	n = vms_prom_clean_value(out, sizeof(out), big, sizeof(big), 64);
	CHECK(n == 64, "clean: 1000 bytes cut to 64");
	/* 63 ASCII bytes then a 3-byte character: it does not fit, cut before it. */
	memset(big, 'B', 63);
	memcpy(big + 63, "\xe2\x82\xac", 3);
	n = vms_prom_clean_value(out, sizeof(out), big, 66, 64);
	CHECK(n == 63 && utf8_ok(out), "clean: cut on a character boundary, never inside one");
	/* 62 bytes then an invalid byte: U+FFFD (3 bytes) does not fit. */
	memset(big, 'C', 62);
	big[62] = (char)0xff;
	n = vms_prom_clean_value(out, sizeof(out), big, 63, 64);
	CHECK(n == 62 && utf8_ok(out), "clean: a replacement that does not fit is left out");
	n = vms_prom_clean_value(out, 8, big, 63, 64);
	CHECK(n == 7, "clean: bounded by the destination size too");
}

static void test_values(void)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 0, "0" }, { 1, "1" }, { -3, "-3" }, { 0.1, "0.1" }, { 1e-9, "1e-09" },
		{ 123456789012.0, "123456789012" }, { 1.0 / 3, "0.3333333333333333" },
		{ 18446744073709551615.0, "1.8446744073709552e+19" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vms_prom_set *set;
		char *text;
		size_t len;
		vms_prom_set_new(fams, NFAM, 4096, 0, &set);
		vms_error_free(vms_prom_add(set, F_UP, NULL, 0, cases[i].v));
		const struct vms_prom_set *sets[] = { set };
		vms_error_free(vms_prom_render(sets, 1, &text, &len));
		char want[128], name[96];
		snprintf(want, sizeof(want), "\nvmsight_guest_up %s\n", cases[i].s);
		struct seen s = { 0 };
		struct vms_error *err = vms_prom_parse(text, len, on_sample, &s);
		snprintf(name, sizeof(name), "value %s printed as the shortest round trip", cases[i].s);
		CHECKD(strstr(text, want) && !err && s.last_value == cases[i].v, name, "%s", text);
		vms_error_free(err);
		free(text);
		vms_prom_set_free(set);
	}
	struct vms_prom_set *set;
	char *text;
	size_t len;
	vms_prom_set_new(fams, NFAM, 4096, 0, &set);
	struct vms_prom_label a = { "cpu", "0" }, b = { "cpu", "1" }, c = { "cpu", "2" };
	vms_error_free(vms_prom_add(set, F_CPU, &a, 1, NAN));
	vms_error_free(vms_prom_add(set, F_CPU, &b, 1, INFINITY));
	vms_error_free(vms_prom_add(set, F_CPU, &c, 1, -INFINITY));
	const struct vms_prom_set *sets[] = { set };
	vms_error_free(vms_prom_render(sets, 1, &text, &len));
	struct vms_error *err = vms_prom_parse(text, len, NULL, NULL);
	CHECKD(strstr(text, "{cpu=\"0\"} NaN\n") && strstr(text, "{cpu=\"1\"} +Inf\n") &&
	       strstr(text, "{cpu=\"2\"} -Inf\n") && !err, "NaN, +Inf, -Inf", "%s", text);
	CHECK(strstr(text, "# TYPE vmsight_guest_cpu_seconds_total counter\n") != NULL,
	      "counter TYPE line");
	vms_error_free(err);
	free(text);
	vms_prom_set_free(set);
}

static void test_grouping(void)
{
	struct vms_prom_set *g1, *g2, *st;
	vms_prom_set_new(fams, NFAM, 1 << 16, 0, &g1);
	vms_prom_set_new(fams, NFAM, 1 << 16, 0, &g2);
	vms_prom_set_new(fams, NFAM, 1 << 16, 0, &st);
	struct vms_prom_label l1 = { "guest", "one" }, l2 = { "guest", "two" };
	vms_error_free(vms_prom_add(g1, F_UP, &l1, 1, 1));
	vms_error_free(vms_prom_add(g1, F_PROC, &l1, 1, 0.25));
	vms_error_free(vms_prom_add(g2, F_PROC, &l2, 1, 0.5));
	vms_error_free(vms_prom_add(g2, F_UP, &l2, 1, 0));
	const struct vms_prom_set *sets[] = { g1, NULL, g2, st };
	char *text;
	size_t len;
	struct vms_error *err = vms_prom_render(sets, 4, &text, &len);
	CHECK(!err, "render of several sets");
	const char *want =
		"# HELP vmsight_guest_up 1 if the guest could be read.\n"
		"# TYPE vmsight_guest_up gauge\n"
		"vmsight_guest_up{guest=\"one\"} 1\n"
		"vmsight_guest_up{guest=\"two\"} 0\n"
		"# HELP vmsight_guest_process_cpu_ratio CPU of a process, 1 = one CPU (help with a \\\\ backslash\\nand newline).\n"
		"# TYPE vmsight_guest_process_cpu_ratio gauge\n"
		"vmsight_guest_process_cpu_ratio{guest=\"one\"} 0.25\n"
		"vmsight_guest_process_cpu_ratio{guest=\"two\"} 0.5\n";
	CHECKD(text && !strcmp(text, want), "families in registry order, HELP/TYPE once, samples together; empty families left out; HELP escaped",
	       "%s", text);
	vms_error_free(err);
	err = vms_prom_parse(text, len, NULL, NULL);
	CHECK(!err, "the rendered text parses");
	vms_error_free(err);
	free(text);
	/* A different registry cannot be mixed in. */
	static const struct vms_prom_family other[1] = { { "x", VMS_PROM_GAUGE, "x" } };
	struct vms_prom_set *o;
	vms_prom_set_new(other, 1, 1024, 0, &o);
	const struct vms_prom_set *mixed[] = { g1, o };
	err = vms_prom_render(mixed, 2, &text, &len);
	CHECK(err && err->code == VMS_ERR_INVALID, "render refuses sets of different registries");
	vms_error_free(err);
	vms_prom_set_free(o);
	vms_prom_set_free(g1);
	vms_prom_set_free(g2);
	vms_prom_set_free(st);
}

static void test_writer_errors(void)
{
	struct vms_prom_set *s;
	vms_prom_set_new(fams, NFAM, 300, 0, &s);
	struct vms_prom_label bad[] = { { "1abc", "x" } }, rsv[] = { { "__name__", "x" } },
		dup[] = { { "a", "1" }, { "a", "2" } };
	struct vms_error *e1 = vms_prom_add(s, F_UP, bad, 1, 1);
	struct vms_error *e2 = vms_prom_add(s, F_UP, rsv, 1, 1);
	struct vms_error *e3 = vms_prom_add(s, F_UP, dup, 2, 1);
	struct vms_error *e4 = vms_prom_add(s, NFAM, NULL, 0, 1);
	CHECK(e1 && e2 && e3 && e4 && vms_prom_set_samples(s) == 0,
	      "invalid, reserved, repeated label names and a bad family are refused");
	vms_error_free(e1);
	vms_error_free(e2);
	vms_error_free(e3);
	vms_error_free(e4);
	char v[200];
	memset(v, 'x', sizeof(v) - 1);
	v[sizeof(v) - 1] = '\0';
	struct vms_prom_label l = { "comm", v };
	for (int i = 0; i < 10; i++)
		vms_error_free(vms_prom_add(s, F_PROC, &l, 1, i));
	CHECKD(vms_prom_set_bytes(s) <= 300 && vms_prom_set_dropped(s) > 0 &&
	       vms_prom_set_samples(s) + vms_prom_set_dropped(s) == 10,
	       "a full set drops samples and counts them (memory bounded)", "bytes %zu dropped %zu",
	       vms_prom_set_bytes(s), vms_prom_set_dropped(s));
	vms_prom_set_clear(s);
	CHECK(vms_prom_set_bytes(s) == 0 && vms_prom_set_samples(s) == 0, "clear empties the set");
	vms_prom_set_free(s);
	static const struct vms_prom_family badfam[1] = { { "9bad", VMS_PROM_GAUGE, "x" } };
	struct vms_error *e = vms_prom_set_new(badfam, 1, 100, 0, &s);
	CHECK(e != NULL, "an invalid family name is refused");
	vms_error_free(e);
	/* The label bound is the set's. */
	vms_prom_set_new(fams, NFAM, 4096, 8, &s);
	struct vms_prom_label lb = { "comm", "0123456789abcdef" };
	vms_error_free(vms_prom_add(s, F_PROC, &lb, 1, 1));
	const struct vms_prom_set *sets[] = { s };
	char *text;
	size_t len;
	vms_error_free(vms_prom_render(sets, 1, &text, &len));
	CHECKD(strstr(text, "{comm=\"01234567\"} 1\n") != NULL, "label bound is per set", "%s", text);
	free(text);
	vms_prom_set_free(s);
}

static void test_parser(void)
{
	static const struct { const char *text; bool ok; const char *why; } cases[] = {
		{ "a 1\n", true, "plain sample" },
		{ "a{b=\"c\",} 1 1700000000000\n", true, "trailing comma and timestamp" },
		{ "# random comment\n\n  \na{} 1\n", true, "comment, blank lines, empty braces" },
		{ "a{b=\"\\\\\\\"\\n\"} 1\n", true, "the three escapes" },
		{ "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 2\nh_count 1\n", true,
		  "histogram owns its _bucket/_sum/_count" },
		{ "a 1", false, "no final newline" },
		{ "a{b=\"\\t\"} 1\n", false, "invalid escape" },
		{ "a{b=\"c} 1\n", false, "unterminated value" },
		{ "a{b=\"\xff\"} 1\n", false, "invalid UTF-8" },
		{ "a{b=\"c\" d=\"e\"} 1\n", false, "missing comma" },
		{ "a{b=\"1\",b=\"2\"} 1\n", false, "repeated label" },
		{ "a 1\na 2\n", false, "duplicate series" },
		{ "a{x=\"1\",y=\"2\"} 1\na{y=\"2\",x=\"1\"} 2\n", false, "duplicate series, labels reordered" },
		{ "a 1\nb 1\na{c=\"d\"} 1\n", false, "family not contiguous" },
		{ "a 1\n# TYPE a gauge\n", false, "TYPE after samples" },
		{ "# TYPE a gauge\n# TYPE a gauge\n", false, "TYPE twice" },
		{ "# HELP a x\n# HELP a y\n", false, "HELP twice" },
		{ "# TYPE a bogus\n", false, "unknown type" },
		{ "# HELP a bad \\t escape\n", false, "bad HELP escape" },
		{ "a 1x\n", false, "bad value" },
		{ "a 0x10\n", false, "hex value" },
		{ "a{b=\"c\"}1\n", false, "no blank before the value" },
		{ "1a 1\n", false, "invalid metric name" },
		{ "a{1b=\"c\"} 1\n", false, "invalid label name" },
		{ "a 1 2 3\n", false, "extra fields" },
		{ "a\0 1\n", false, "NUL byte" },
		{ "a 1\n}\" 1\n", false, "garbage line" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].text);
		if (i == sizeof(cases) / sizeof(cases[0]) - 2)
			len = 5;  /* the NUL case */
		struct vms_error *err = vms_prom_parse(cases[i].text, len, NULL, NULL);
		char name[128];
		snprintf(name, sizeof(name), "parser %s: %s", cases[i].ok ? "accepts" : "refuses",
			 cases[i].why);
		CHECKD(!err == cases[i].ok, name, "%s", err ? err->message : "accepted");
		vms_error_free(err);
	}
}

int main(void)
{
	test_clean();
	test_injection();
	test_values();
	test_grouping();
	test_writer_errors();
	test_parser();
	return CHECK_DONE();
}
