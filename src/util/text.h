/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest text made safe for a person's terminal (docs/output.md).
 *
 * Strings read from guest memory (task names, command lines, paths, module
 * and symbol names, kernel log lines) are attacker-controlled: written raw,
 * an ESC starts a terminal control sequence and a newline forges a table
 * row.  Every text (non-JSON) output path escapes them with one of these
 * styles; JSON keeps the exact bytes (json-c escapes them itself).
 *
 * Common to all styles: printable ASCII (0x20-0x7e) and valid, printable
 * UTF-8 are kept; C0 controls (0x00-0x1f, including tab, newline and CR),
 * DEL (0x7f), the C1 controls U+0080-U+009F, the bidirectional formatting
 * controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), the line
 * and paragraph separators U+2028/U+2029, and every byte of invalid UTF-8
 * (stray continuation bytes, overlong forms, surrogates, > U+10FFFF,
 * truncated sequences) are replaced, byte by byte.  So the output never
 * holds a byte < 0x20 (except a tab in VMS_ESCAPE_LOG) or 0x7f, is valid
 * UTF-8, and a guest string can never end a line or start a sequence.
 */
#ifndef VMSIGHT_UTIL_TEXT_H
#define VMSIGHT_UTIL_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * The length (1-4) of the well-formed UTF-8 sequence at @s (at most @n > 0
 * bytes), its code point in *@cp (may be NULL); 0 when @s[0] does not start
 * one (Unicode 15, table 3-7: no overlong forms, no surrogates, nothing
 * above U+10FFFF).
 */
size_t vms_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

enum vms_escape {
	/* As procps ps shows names: every replaced byte becomes '?'.  The
	 * output has exactly as many bytes as the input (a fixed buffer of
	 * the source's size always fits), but is not reversible. */
	VMS_ESCAPE_PS,
	/* As dmesg shows log text: every replaced byte becomes \xNN (lower
	 * case hex), and a backslash itself becomes \x5c, so the escaping is
	 * unambiguous: the bytes can be recovered.  Up to 4 bytes per input
	 * byte. */
	VMS_ESCAPE_HEX,
	/* VMS_ESCAPE_HEX, but a tab stays a tab and a backslash stays a
	 * backslash, as util-linux and busybox dmesg print them (ACPI paths
	 * such as \_SB_ are common in kernel logs): a tab cannot end a line
	 * and a backslash starts no sequence.  For log text only, never for a
	 * table column. */
	VMS_ESCAPE_LOG,
};

/* Buffer sizes (with the NUL) that always hold the escaped form of @n
 * input bytes. */
#define VMS_ESCAPE_PS_SIZE(n) ((n) + 1)
#define VMS_ESCAPE_HEX_SIZE(n) (4 * (n) + 1)

/*
 * Escape @srclen bytes at @src (NUL bytes included: they are replaced like
 * any control byte) into @dst, @dstsize bytes with the terminating NUL.
 * Returns the length of the whole escaped text, as snprintf does: a result
 * >= @dstsize means @dst holds a truncated prefix.  Truncation never splits
 * an escape sequence or a UTF-8 character.  @dst may be NULL when @dstsize
 * is 0 (to measure).
 */
size_t vms_text_escape(char *dst, size_t dstsize, const char *src, size_t srclen,
		       enum vms_escape style);

/* The NUL-terminated string @src escaped into the fixed buffer @dst
 * (truncated to fit, at a character boundary); returns @dst.  For use in
 * printf arguments: printf("%s", vms_text_str(buf, sizeof(buf), s, st)). */
const char *vms_text_str(char *dst, size_t dstsize, const char *src, enum vms_escape style);

/* Write @srclen bytes at @src escaped to @out, whatever their length.
 * Returns 0, or EOF on a write error. */
int vms_text_fwrite(FILE *out, const char *src, size_t srclen, enum vms_escape style);

#endif
