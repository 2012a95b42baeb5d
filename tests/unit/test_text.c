// SPDX-License-Identifier: LGPL-2.1-or-later
/* Escaping guest text for people (src/util/text.c, docs/output.md): escape
 * sequences, newline, CR, quotes, DEL, C1 in UTF-8, invalid UTF-8,
 * truncation at character boundaries, empty and NUL-holding input. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

#include "check.h"

/* Escape @n bytes of @s into a static buffer (large enough). */
static const char *esc(const char *s, size_t n, enum vms_escape st)
{
	static char buf[4096];
	vms_text_escape(buf, sizeof(buf), s, n, st);
	return buf;
}

#define PS(lit) esc(lit, sizeof(lit) - 1, VMS_ESCAPE_PS)
#define HEX(lit) esc(lit, sizeof(lit) - 1, VMS_ESCAPE_HEX)
#define LOG(lit) esc(lit, sizeof(lit) - 1, VMS_ESCAPE_LOG)

/* A FAIL line shows both texts HEX-escaped, so that it stays one line. */
static void eq(const char *got, const char *want, const char *name)
{
	char g[200], w[200];
	CHECKD(!strcmp(got, want), name, "got '%s', want '%s'",
	       vms_text_str(g, sizeof(g), got, VMS_ESCAPE_HEX),
	       vms_text_str(w, sizeof(w), want, VMS_ESCAPE_HEX));
}
#define EQ(got, want, name) eq(got, want, name)

/* What vms_text_fwrite writes, for comparison with vms_text_escape. */
static char *via_stream(const char *s, size_t n, enum vms_escape st, int *rc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	*rc = vms_text_fwrite(f, s, n, st);
	fclose(f);
	return buf;
}

int main(void)
{
	/* Plain text, quotes and backslashes. */
	EQ(PS("bash"), "bash", "ps: printable ASCII kept");
	EQ(PS("a \"b\" 'c' `d`"), "a \"b\" 'c' `d`", "ps: quotes are printable: kept");
	EQ(HEX("a \"b\" 'c'"), "a \"b\" 'c'", "hex: quotes kept");
	EQ(PS("C:\\x1b"), "C:\\x1b", "ps: backslash kept");
	EQ(HEX("C:\\x1b"), "C:\\x5cx1b", "hex: backslash -> \\x5c (unambiguous)");
	EQ(PS(" ~"), " ~", "ps: 0x20 and 0x7e kept");

	/* Terminal escape sequences. */
	EQ(PS("\x1b[31mred\x1b[0m"), "?[31mred?[0m", "ps: ESC[31m -> ?[31m");
	EQ(HEX("\x1b[31mred"), "\\x1b[31mred", "hex: ESC[31m -> \\x1b[31m");
	EQ(PS("\x1b]0;title\x07"), "?]0;title?", "ps: OSC title sequence and BEL");
	EQ(PS("a\x9b" "31m"), "a?31m", "ps: a lone 0x9b (8-bit CSI) -> ?");
	EQ(HEX("a\x9b"), "a\\x9b", "hex: a lone 0x9b -> \\x9b");

	/* Line structure: newline, CR, tab. */
	EQ(PS("a\nb"), "a?b", "ps: newline -> ?");
	EQ(PS("a\rb"), "a?b", "ps: CR -> ?");
	EQ(PS("a\tb"), "a?b", "ps: tab -> ? (cannot shift a column)");
	EQ(HEX("a\nb\r\t"), "a\\x0ab\\x0d\\x09", "hex: newline, CR, tab -> \\x0a \\x0d \\x09");
	EQ(LOG("\trcu: a\n\r"), "\trcu: a\\x0a\\x0d", "log: tab kept, newline and CR escaped");
	EQ(LOG("ACPI: \\_SB_"), "ACPI: \\_SB_", "log: a backslash stays, as dmesg prints it");

	/* DEL and the other C0 bytes. */
	EQ(PS("x\x7fy"), "x?y", "ps: DEL -> ?");
	EQ(HEX("x\x7fy\x01"), "x\\x7fy\\x01", "hex: DEL, SOH -> \\x7f \\x01");

	/* UTF-8: printable kept, C1 and bidi controls replaced byte by byte. */
	EQ(PS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	   "ps: valid printable UTF-8 (2, 3, 4 bytes) kept");
	EQ(PS("a\xc2\x9b" "31m"), "a??31m", "ps: U+009B (CSI in UTF-8) -> ??");
	EQ(PS("\xc2\x80\xc2\x9f\xc2\xa0"), "????\xc2\xa0", "ps: U+0080, U+009F -> ??; U+00A0 kept");
	EQ(HEX("\xc2\x85"), "\\xc2\\x85", "hex: U+0085 (NEL) -> \\xc2\\x85");
	EQ(PS("a\xe2\x80\xae" "b"), "a???b", "ps: U+202E (right-to-left override) -> ???");
	EQ(PS("a\xe2\x80\xa8" "b"), "a???b", "ps: U+2028 (line separator) -> ???");
	EQ(PS("\xe2\x81\xa6\xe2\x81\xa9"), "??????", "ps: U+2066/U+2069 (bidi isolates) -> ?");
	EQ(PS("\xe2\x80\x8b"), "\xe2\x80\x8b", "ps: U+200B (zero width space) kept");

	/* Invalid UTF-8: each byte replaced, the rest resynchronised. */
	EQ(PS("\xff\xfe" "ok"), "??ok", "ps: 0xff 0xfe -> ??");
	EQ(PS("\x80" "a"), "?a", "ps: stray continuation byte -> ?");
	EQ(PS("\xc3" "a"), "?a", "ps: lead byte without continuation -> ?");
	EQ(PS("\xc0\xaf"), "??", "ps: overlong '/' (C0 AF) -> ??");
	EQ(PS("\xe0\x80\xaf"), "???", "ps: overlong 3-byte -> ???");
	EQ(PS("\xed\xa0\x80"), "???", "ps: surrogate U+D800 -> ???");
	EQ(PS("\xf4\x90\x80\x80"), "????", "ps: > U+10FFFF -> ????");
	EQ(PS("\xe2\x82"), "??", "ps: truncated 3-byte sequence at the end -> ??");
	EQ(HEX("\xe2\x82" "a"), "\\xe2\\x82a", "hex: truncated sequence -> \\xe2\\x82");
	EQ(PS("\xc3\xc3\xa9"), "?\xc3\xa9", "ps: bad lead then a good character");

	/* Empty and NUL-holding input. */
	EQ(esc("", 0, VMS_ESCAPE_PS), "", "ps: empty input -> empty");
	EQ(esc("", 0, VMS_ESCAPE_HEX), "", "hex: empty input -> empty");
	EQ(esc("a\0b", 3, VMS_ESCAPE_PS), "a?b", "ps: NUL inside the input -> ?");
	EQ(esc("a\0b", 3, VMS_ESCAPE_HEX), "a\\x00b", "hex: NUL inside the input -> \\x00");
	{
		char b[8];
		EQ(vms_text_str(b, sizeof(b), "", VMS_ESCAPE_PS), "", "str: empty string");
		EQ(vms_text_str(b, sizeof(b), NULL, VMS_ESCAPE_PS), "", "str: NULL -> empty");
		EQ(vms_text_str(b, sizeof(b), "a\x1b" "b", VMS_ESCAPE_PS), "a?b", "str: escapes");
		EQ(vms_text_str(b, sizeof(b), "0123456789", VMS_ESCAPE_PS), "0123456",
		   "str: truncated to the buffer");
		CHECK(!strcmp(vms_text_str(b, 0, "x", VMS_ESCAPE_PS), ""), "str: size 0 -> \"\"");
	}

	/* Truncation: the return value is the full length, and the buffer
	 * never ends inside an escape or a UTF-8 character. */
	{
		char b[16];
		size_t n = vms_text_escape(b, 5, "ab\x1b" "c", 4, VMS_ESCAPE_HEX);
		CHECKD(n == 7 && !strcmp(b, "ab"), "hex: truncation never splits \\xNN",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(b, 6, "ab\x1b" "c", 4, VMS_ESCAPE_HEX);
		CHECKD(n == 7 && !strcmp(b, "ab"), "hex: no later unit after a cut one",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(b, 7, "ab\x1b" "c", 4, VMS_ESCAPE_HEX);
		CHECKD(n == 7 && !strcmp(b, "ab\\x1b"), "hex: room for the escape, not the rest",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(b, 4, "ab\xc3\xa9", 4, VMS_ESCAPE_PS);
		CHECKD(n == 4 && !strcmp(b, "ab"), "ps: truncation at a UTF-8 boundary (2-byte)",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(b, 5, "a\xf0\x9f\x98\x80", 5, VMS_ESCAPE_PS);
		CHECKD(n == 5 && !strcmp(b, "a"), "ps: a 4-byte character is kept whole or dropped",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(b, 5, "a\xe2\x82\xac" "b", 5, VMS_ESCAPE_PS);
		CHECKD(n == 5 && !strcmp(b, "a\xe2\x82\xac"), "ps: a 3-byte character fits exactly",
		       "n=%zu '%s'", n, b);
		n = vms_text_escape(NULL, 0, "\x01\x02", 2, VMS_ESCAPE_HEX);
		CHECK(n == 8, "hex: measuring with a NULL buffer of size 0");
		n = vms_text_escape(b, 1, "abc", 3, VMS_ESCAPE_PS);
		CHECK(n == 3 && b[0] == '\0', "ps: a 1-byte buffer holds the NUL only");
	}

	/* PS keeps the length; the HEX bound holds for the worst case. */
	{
		char in[256], out[VMS_ESCAPE_HEX_SIZE(256)];
		for (int i = 0; i < 256; i++)
			in[i] = (char)i;
		size_t n = vms_text_escape(out, VMS_ESCAPE_PS_SIZE(256), in, 256, VMS_ESCAPE_PS);
		bool clean = n == 256;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
				clean = false;
		CHECKD(clean, "ps: all 256 bytes -> 256 printable ASCII bytes", "n=%zu", n);
		n = vms_text_escape(out, sizeof(out), in, 256, VMS_ESCAPE_HEX);
		CHECKD(n < sizeof(out) && n == 4 * (32 + 1 + 1 + 128) + (256 - 32 - 2 - 128),
		       "hex: all 256 bytes fit VMS_ESCAPE_HEX_SIZE", "n=%zu", n);
	}

	/* The stream writer gives the same text, also across its buffer. */
	{
		size_t len = 5000;
		char *in = malloc(len);
		int rc = -1;
		for (size_t i = 0; in && i < len; i++)
			in[i] = (char)(i % 7 == 0 ? 0x1b : i % 5 == 0 ? 0xc3 : 'a' + (int)(i % 26));
		char *want = in ? malloc(VMS_ESCAPE_HEX_SIZE(len)) : NULL;
		char *got = in ? via_stream(in, len, VMS_ESCAPE_HEX, &rc) : NULL;
		if (want)
			vms_text_escape(want, VMS_ESCAPE_HEX_SIZE(len), in, len, VMS_ESCAPE_HEX);
		CHECK(got && want && rc == 0 && !strcmp(got, want),
		      "fwrite: same text as vms_text_escape over 5000 bytes");
		free(got);
		free(want);
		free(in);
		got = via_stream("a\nb", 3, VMS_ESCAPE_PS, &rc);
		CHECK(got && rc == 0 && !strcmp(got, "a?b"), "fwrite: newline -> ?");
		free(got);
	}
	return CHECK_DONE();
}
