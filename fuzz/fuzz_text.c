// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: escaping guest text for people (src/util/text.c).
 * The input (an exact-size heap copy) is escaped in every style into a
 * buffer of a size taken from its first byte and into one that fits; the
 * output must never hold a byte < 0x20 (but a tab in VMS_ESCAPE_LOG) nor
 * 0x7f, must be valid UTF-8 without C1 controls, the truncated output must
 * be a prefix of the whole one, ending at a unit boundary, the stream
 * writer must give the same text, PS must keep the length, and HEX/LOG
 * must decode back to the input.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const seeds[][2] = {
	{ "esc", "\x20" "bash\x1b[31mred\x1b[0m\n  1 fake row\r\"q\"\x7f" },
	{ "c1", "\x08" "a\xc2\x9b" "31m\x9b" "b\xe2\x80\xae" "c\xe2\x80\xa8" },
	{ "utf8", "\x40" "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \\x41 \t tab" },
	{ "bad", "\x03\xc0\xaf\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82\xff\xfe\x80" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (!dir)
		return 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i][0]);
		FILE *f = fopen(path, "wb");
		if (!f)
			continue;
		fputs(seeds[i][1], f);
		fclose(f);
	}
	exit(0);
}

/* Valid UTF-8 (no overlong forms, surrogates or > U+10FFFF), no C0 byte
 * (but a tab with @tab), no DEL, no C1 code point. */
static void check_clean(const unsigned char *s, size_t n, int tab)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f)
				abort();
			i++;
			continue;
		}
		size_t len = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
			   : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		if (!len || i + len > n)
			abort();
		uint32_t cp = c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				abort();
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
			abort();
		i += len;
	}
}

static int hexval(unsigned char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* HEX: every backslash starts \xNN; decoding gives the input back
 * (@prefix: a prefix of it, for truncated output).  LOG keeps backslashes
 * as dmesg does, so it is not decodable and is not checked here. */
static void check_decodes(const unsigned char *out, size_t n, const uint8_t *in, size_t size,
			  int prefix)
{
	size_t j = 0;
	for (size_t i = 0; i < n; j++) {
		unsigned char c = out[i];
		if (c == '\\') {
			if (i + 4 > n || out[i + 1] != 'x' || hexval(out[i + 2]) < 0 ||
			    hexval(out[i + 3]) < 0)
				abort();
			c = (unsigned char)(hexval(out[i + 2]) << 4 | hexval(out[i + 3]));
			i += 4;
		} else {
			i++;
		}
		if (j >= size || in[j] != c)
			abort();
	}
	if (!prefix && j != size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size ? size : 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	size_t small = size ? data[0] : 0;
	static const enum vms_escape styles[] = { VMS_ESCAPE_PS, VMS_ESCAPE_HEX, VMS_ESCAPE_LOG };
	for (size_t s = 0; s < sizeof(styles) / sizeof(styles[0]); s++) {
		enum vms_escape st = styles[s];
		size_t need = vms_text_escape(NULL, 0, in, size, st);
		if (need > 4 * size || (st == VMS_ESCAPE_PS && need != size))
			abort();
		char *full = malloc(need + 1), *part = malloc(small ? small : 1);
		if (!full || !part) {
			free(full);
			free(part);
			break;
		}
		if (vms_text_escape(full, need + 1, in, size, st) != need || strlen(full) != need)
			abort();
		check_clean((const unsigned char *)full, need, st == VMS_ESCAPE_LOG);
		if (st == VMS_ESCAPE_HEX)
			check_decodes((const unsigned char *)full, need, data, size, 0);
		/* The truncated output: a prefix, at a unit boundary (an
		 * escape or character is whole or absent). */
		if (small) {
			if (vms_text_escape(part, small, in, size, st) != need)
				abort();
			size_t pl = strlen(part);
			if (pl >= small || memcmp(part, full, pl))
				abort();
			check_clean((const unsigned char *)part, pl, st == VMS_ESCAPE_LOG);
			if (st == VMS_ESCAPE_HEX)
				check_decodes((const unsigned char *)part, pl, data, size, 1);
			if (need >= small && pl + 12 < small)  /* no unit is longer than 12 */
				abort();
		}
		char *buf = NULL;
		size_t blen = 0;
		FILE *f = open_memstream(&buf, &blen);
		if (f) {
			if (vms_text_fwrite(f, in, size, st))
				abort();
			fclose(f);
			if (blen != need || memcmp(buf, full, need))
				abort();
			free(buf);
		}
		free(full);
		free(part);
	}
	free(in);
	return 0;
}
