// SPDX-License-Identifier: LGPL-2.1-or-later
/* Escaping guest text for people (src/util/text.h, docs/output.md). */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "util/text.h"

/* The longest output of one unit: a 3-byte character escaped as \xNN. */
#define UNIT_MAX 12

size_t vms_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
	unsigned char c = s[0];
	size_t len;
	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	unsigned char lo = 0x80, hi = 0xbf;  /* the second byte's range */
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	uint32_t v = c & (0x7f >> len);
	for (size_t i = 1; i < len; i++)
		v = v << 6 | (s[i] & 0x3f);
	if (cp)
		*cp = v;
	return len;
}

/* Code points that are well-formed but must not reach a terminal: C1
 * controls, bidirectional formatting, line and paragraph separators. */
static bool unsafe_cp(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9f) || cp == 0x61c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static size_t replace(const unsigned char *s, size_t len, enum vms_escape style, char *out)
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (style == VMS_ESCAPE_PS) {
			out[o++] = '?';
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hx[s[i] >> 4];
			out[o++] = hx[s[i] & 0xf];
		}
	}
	return o;
}

/*
 * One unit of output for the input at @s (@n > 0 bytes): a character kept
 * or replaced, or one byte of invalid UTF-8 replaced.  Its text goes to
 * @out (UNIT_MAX bytes at most), its length to *@olen; returns the number
 * of input bytes it covers.
 */
static size_t unit(const unsigned char *s, size_t n, enum vms_escape style, char *out,
		   size_t *olen)
{
	unsigned char c = s[0];
	if (c < 0x80) {
		bool keep = (c >= 0x20 && c < 0x7f && !(c == '\\' && style == VMS_ESCAPE_HEX)) ||
			    (c == '\t' && style == VMS_ESCAPE_LOG);
		if (keep) {
			out[0] = (char)c;
			*olen = 1;
		} else {
			*olen = replace(s, 1, style, out);
		}
		return 1;
	}
	uint32_t cp;
	size_t len = vms_utf8_seq(s, n, &cp);
	if (!len) {
		*olen = replace(s, 1, style, out);
		return 1;
	}
	if (unsafe_cp(cp)) {
		*olen = replace(s, len, style, out);
	} else {
		memcpy(out, s, len);
		*olen = len;
	}
	return len;
}

size_t vms_text_escape(char *dst, size_t dstsize, const char *src, size_t srclen,
		       enum vms_escape style)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t total = 0, used = 0;
	bool full = dstsize == 0;
	char u[UNIT_MAX];
	for (size_t i = 0; i < srclen;) {
		size_t ul;
		i += unit(s + i, srclen - i, style, u, &ul);
		if (!full && used + ul < dstsize) {
			memcpy(dst + used, u, ul);
			used += ul;
		} else {
			full = true;
		}
		total += ul;
	}
	if (dstsize)
		dst[used] = '\0';
	return total;
}

const char *vms_text_str(char *dst, size_t dstsize, const char *src, enum vms_escape style)
{
	if (!dstsize)
		return "";
	vms_text_escape(dst, dstsize, src ? src : "", src ? strlen(src) : 0, style);
	return dst;
}

int vms_text_fwrite(FILE *out, const char *src, size_t srclen, enum vms_escape style)
{
	const unsigned char *s = (const unsigned char *)src;
	char buf[1024];
	size_t used = 0;
	for (size_t i = 0; i < srclen;) {
		size_t ul;
		if (used + UNIT_MAX > sizeof(buf)) {
			if (fwrite(buf, 1, used, out) != used)
				return EOF;
			used = 0;
		}
		i += unit(s + i, srclen - i, style, buf + used, &ul);
		used += ul;
	}
	if (used && fwrite(buf, 1, used, out) != used)
		return EOF;
	return 0;
}
