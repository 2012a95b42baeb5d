/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Report output: a large buffer written with fwrite, and a small printf
 * work-alike for it.  --dump-all prints one line per record, and stdio's
 * vfprintf (locking, stream bookkeeping, a second pass for each %s) cost
 * more than the whole analysis; this formatter handles the conversions the
 * reports use (d i u x X o c s p %, flags - 0 + space #, width and
 * precision with *, length hh h l ll z j t) and hands floating point to
 * snprintf.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "xt_priv.h"

#define XT_OBUF_SIZE (1 << 20)

void xt_out_flush(struct vms_xt_analyzer *a)
{
	if (a->ob_len) {
		if (fwrite(a->ob, 1, a->ob_len, a->out) != a->ob_len)
			a->out_error = true;
		a->ob_len = 0;
	}
}

void xt_out_init(struct vms_xt_analyzer *a)
{
	a->ob = malloc(XT_OBUF_SIZE);
	a->ob_cap = a->ob ? XT_OBUF_SIZE : 0;
	a->ob_len = 0;
}

void xt_out_free(struct vms_xt_analyzer *a)
{
	free(a->ob);
	a->ob = NULL;
	a->ob_cap = a->ob_len = 0;
}

/* Slow path of xt_outn: flush, or write a chunk larger than the buffer. */
void xt_outn_slow(struct vms_xt_analyzer *a, const char *s, size_t n)
{
	xt_out_flush(a);
	if (n >= a->ob_cap) {
		if (n && fwrite(s, 1, n, a->out) != n)
			a->out_error = true;
		return;
	}
	memcpy(a->ob, s, n);
	a->ob_len = n;
}

static void pad_slow(struct vms_xt_analyzer *a, char c, int n)
{
	char b[64];
	memset(b, c, sizeof(b));
	while (n > 0) {
		int k = n < (int)sizeof(b) ? n : (int)sizeof(b);
		xt_outn(a, b, (size_t)k);
		n -= k;
	}
}

static inline void pad(struct vms_xt_analyzer *a, char c, int n)
{
	if (n <= 0)
		return;
	if (a->ob_len + (size_t)n <= a->ob_cap) {
		memset(a->ob + a->ob_len, c, (size_t)n);
		a->ob_len += (size_t)n;
	} else {
		pad_slow(a, c, n);
	}
}

void xt_out_u64(struct vms_xt_analyzer *a, uint64_t v)
{
	char b[24];
	char *e = b + sizeof(b), *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	xt_outn(a, p, (size_t)(e - p));
}

void xt_out_hex(struct vms_xt_analyzer *a, uint64_t v)
{
	static const char hx[] = "0123456789abcdef";
	char b[20];
	char *e = b + sizeof(b), *p = e;
	do {
		*--p = hx[v & 15];
		v >>= 4;
	} while (v);
	xt_outn(a, p, (size_t)(e - p));
}

enum { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_MAX,
       LEN_PTRDIFF };

void xt_voutf(struct vms_xt_analyzer *a, const char *fmt, va_list ap)
{
	static const char lo[] = "0123456789abcdef", up[] = "0123456789ABCDEF";
	const char *f = fmt;
	for (;;) {
		const char *pct = f;
		while (*pct && *pct != '%')
			pct++;
		if (pct > f)
			xt_outn(a, f, (size_t)(pct - f));
		if (!*pct)
			return;
		const char *spec = pct;
		f = pct + 1;
		/* fast paths: plain %s %u %d %x %lu %lx */
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);
			xt_outs(a, s ? s : "(null)");
			f++;
			continue;
		}
		case 'u':
			xt_out_u64(a, va_arg(ap, unsigned));
			f++;
			continue;
		case 'd': {
			int v = va_arg(ap, int);
			if (v < 0) {
				xt_outc(a, '-');
				xt_out_u64(a, 0 - (uint64_t)(int64_t)v);
			} else {
				xt_out_u64(a, (uint64_t)v);
			}
			f++;
			continue;
		}
		case 'x':
			xt_out_hex(a, va_arg(ap, unsigned));
			f++;
			continue;
		case 'l':
			if (f[1] == 'u') {
				xt_out_u64(a, va_arg(ap, unsigned long));
				f += 2;
				continue;
			}
			if (f[1] == 'x') {
				xt_out_hex(a, va_arg(ap, unsigned long));
				f += 2;
				continue;
			}
			break;
		default:
			break;
		}
		bool left = false, zero = false, plus = false, space = false, alt = false;
		for (;; f++) {
			if (*f == '-') left = true;
			else if (*f == '0') zero = true;
			else if (*f == '+') plus = true;
			else if (*f == ' ') space = true;
			else if (*f == '#') alt = true;
			else break;
		}
		int width = 0, prec = -1;
		if (*f == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = -width;
			}
			f++;
		} else {
			while (*f >= '0' && *f <= '9')
				width = width * 10 + (*f++ - '0');
		}
		if (*f == '.') {
			f++;
			prec = 0;
			if (*f == '*') {
				prec = va_arg(ap, int);
				f++;
			} else {
				while (*f >= '0' && *f <= '9')
					prec = prec * 10 + (*f++ - '0');
			}
		}
		int len = LEN_INT;
		switch (*f) {
		case 'h':
			len = LEN_SHORT;
			if (*++f == 'h') {
				len = LEN_CHAR;
				f++;
			}
			break;
		case 'l':
			len = LEN_LONG;
			if (*++f == 'l') {
				len = LEN_LLONG;
				f++;
			}
			break;
		case 'z': len = LEN_SIZE; f++; break;
		case 'j': len = LEN_MAX; f++; break;
		case 't': len = LEN_PTRDIFF; f++; break;
		case 'L': f++; break;
		default: break;
		}
		char conv = *f;
		if (!conv) {
			xt_outs(a, spec);
			return;
		}
		f++;
		switch (conv) {
		case '%':
			xt_outc(a, '%');
			continue;
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!left)
				pad(a, ' ', width - 1);
			xt_outc(a, c);
			if (left)
				pad(a, ' ', width - 1);
			continue;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			size_t n = prec >= 0 ? strnlen(s, (size_t)prec) : strlen(s);
			if (!left)
				pad(a, ' ', width - (int)n);
			xt_outn(a, s, n);
			if (left)
				pad(a, ' ', width - (int)n);
			continue;
		}
		case 'e': case 'E': case 'f': case 'F': case 'g': case 'G':
		case 'a': case 'A': {
			/* floating point: rebuild the single conversion */
			char sf[32], buf[512];
			size_t sl = (size_t)(f - spec);
			if (sl >= sizeof(sf))
				sl = sizeof(sf) - 1;
			memcpy(sf, spec, sl);
			sf[sl] = 0;
			double v;
			if (len == LEN_INT && spec[sl - 2] == 'L')
				v = (double)va_arg(ap, long double);
			else
				v = va_arg(ap, double);
			/* '*' was already consumed: print with the values */
			char sf2[64];
			int k = 0;
			sf2[k++] = '%';
			if (left) sf2[k++] = '-';
			if (zero) sf2[k++] = '0';
			if (plus) sf2[k++] = '+';
			if (space) sf2[k++] = ' ';
			if (alt) sf2[k++] = '#';
			sf2[k++] = '*';
			sf2[k++] = '.';
			sf2[k++] = '*';
			sf2[k++] = conv;
			sf2[k] = 0;
			int n = snprintf(buf, sizeof(buf), sf2, width, prec < 0 ? 6 : prec, v);
			if (n < 0)
				continue;
			if ((size_t)n < sizeof(buf)) {
				xt_outn(a, buf, (size_t)n);
			} else {
				char *big = malloc((size_t)n + 1);
				if (big) {
					snprintf(big, (size_t)n + 1, sf2, width, prec < 0 ? 6 : prec, v);
					xt_outn(a, big, (size_t)n);
					free(big);
				}
			}
			continue;
		}
		case 'p': {
			void *p = va_arg(ap, void *);
			char b[24];
			int n;
			if (p)
				n = snprintf(b, sizeof(b), "0x%" PRIxPTR, (uintptr_t)p);
			else
				n = snprintf(b, sizeof(b), "(nil)");
			if (!left)
				pad(a, ' ', width - n);
			xt_outn(a, b, (size_t)n);
			if (left)
				pad(a, ' ', width - n);
			continue;
		}
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
			break;
		default:
			/* unknown conversion: print it as is */
			xt_outn(a, spec, (size_t)(f - spec));
			continue;
		}
		bool sgn = conv == 'd' || conv == 'i';
		uint64_t u;
		bool neg = false;
		if (sgn) {
			int64_t v;
			switch (len) {
			case LEN_CHAR: v = (signed char)va_arg(ap, int); break;
			case LEN_SHORT: v = (short)va_arg(ap, int); break;
			case LEN_LONG: v = va_arg(ap, long); break;
			case LEN_LLONG: v = va_arg(ap, long long); break;
			case LEN_SIZE: v = (int64_t)va_arg(ap, size_t); break;
			case LEN_MAX: v = va_arg(ap, intmax_t); break;
			case LEN_PTRDIFF: v = va_arg(ap, ptrdiff_t); break;
			default: v = va_arg(ap, int);
			}
			neg = v < 0;
			u = neg ? 0 - (uint64_t)v : (uint64_t)v;
		} else {
			switch (len) {
			case LEN_CHAR: u = (unsigned char)va_arg(ap, unsigned); break;
			case LEN_SHORT: u = (unsigned short)va_arg(ap, unsigned); break;
			case LEN_LONG: u = va_arg(ap, unsigned long); break;
			case LEN_LLONG: u = va_arg(ap, unsigned long long); break;
			case LEN_SIZE: u = va_arg(ap, size_t); break;
			case LEN_MAX: u = va_arg(ap, uintmax_t); break;
			case LEN_PTRDIFF: u = (uint64_t)va_arg(ap, ptrdiff_t); break;
			default: u = va_arg(ap, unsigned);
			}
		}
		char digits[32];
		char *e = digits + sizeof(digits), *p = e;
		unsigned base = conv == 'x' || conv == 'X' ? 16 : conv == 'o' ? 8 : 10;
		const char *dig = conv == 'X' ? up : lo;
		uint64_t t = u;
		while (t) {
			*--p = dig[t % base];
			t /= base;
		}
		int nd = (int)(e - p);
		if (prec < 0 && nd == 0) {
			*--p = '0';
			nd = 1;
		}
		if (conv == 'o' && alt && (nd == 0 || *p != '0') && prec <= nd)
			prec = nd + 1;
		int zeros = prec > nd ? prec - nd : 0;
		char prefix[3];
		int np = 0;
		if (sgn) {
			if (neg) prefix[np++] = '-';
			else if (plus) prefix[np++] = '+';
			else if (space) prefix[np++] = ' ';
		} else if (alt && base == 16 && u) {
			prefix[np++] = '0';
			prefix[np++] = conv;
		}
		int total = np + zeros + nd;
		if (zero && !left && prec < 0 && width > total) {
			zeros += width - total;
			total = width;
		}
		if (!left)
			pad(a, ' ', width - total);
		xt_outn(a, prefix, (size_t)np);
		pad(a, '0', zeros);
		xt_outn(a, p, (size_t)nd);
		if (left)
			pad(a, ' ', width - total);
	}
}

void xt_outf(struct vms_xt_analyzer *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	xt_voutf(a, fmt, ap);
	va_end(ap);
}
