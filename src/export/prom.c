// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The Prometheus text exposition format 0.0.4: a writer that groups samples
 * by family (so that sets filled apart render as one valid exposition) and
 * a strict parser.  Label values are cleaned (UTF-8, control bytes, length)
 * and escaped here, once, for every caller: guest text never reaches the
 * output any other way.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/prom.h>

#include "util/text.h"

#define MAX_LABELS 16          /* per sample, writer side */
#define MAX_NAME 128           /* metric and label names, writer side */
#define PARSE_MAX_LINE (64 * 1024)
#define PARSE_MAX_LABELS 64

const char *vms_prom_type_name(enum vms_prom_type t)
{
	switch (t) {
	case VMS_PROM_GAUGE: return "gauge";
	case VMS_PROM_COUNTER: return "counter";
	default: return "untyped";
	}
}

static bool is_alpha_(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool name_char(int c, bool colon)
{
	return is_alpha_(c) || is_digit(c) || (colon && c == ':');
}

static bool valid_name(const char *s, size_t n, bool colon)
{
	if (!n || !(is_alpha_((unsigned char)s[0]) || (colon && s[0] == ':')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!name_char((unsigned char)s[i], colon))
			return false;
	return true;
}

bool vms_prom_valid_metric_name(const char *name)
{
	return name && strlen(name) <= MAX_NAME && valid_name(name, strlen(name), true);
}

bool vms_prom_valid_label_name(const char *name)
{
	return name && strlen(name) <= MAX_NAME && valid_name(name, strlen(name), false) &&
	       strncmp(name, "__", 2) != 0;
}

/* ---- UTF-8 ---- */

static bool valid_utf8(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t k = vms_utf8_seq((const unsigned char *)s + i, n - i, NULL);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

size_t vms_prom_clean_value(char *dst, size_t size, const char *src, size_t len,
			    size_t max)
{
	static const char repl[] = "\xef\xbf\xbd";  /* U+FFFD */
	if (!size)
		return 0;
	if (max >= size)
		max = size - 1;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		const unsigned char *p = (const unsigned char *)src + i;
		size_t k = vms_utf8_seq(p, len - i, NULL);
		const char *emit = (const char *)p;
		size_t elen = k;
		if (!k || (k == 1 && ((p[0] < 0x20 && p[0] != '\t' && p[0] != '\n') ||
				      p[0] == 0x7f))) {
			emit = repl;
			elen = 3;
			k = 1;
		}
		if (o + elen > max)
			break;
		memcpy(dst + o, emit, elen);
		o += elen;
		i += k;
	}
	dst[o] = '\0';
	return o;
}

/* ---- the writer ---- */

struct fam_buf {
	char *buf;
	size_t len, cap;
	size_t samples;
};

struct vms_prom_set {
	const struct vms_prom_family *fams;
	size_t nfams;
	struct fam_buf *f;
	size_t max_bytes, max_label;
	size_t bytes, dropped, samples;
};

struct vms_error *vms_prom_set_new(const struct vms_prom_family *fams, size_t nfams,
				   size_t max_bytes, size_t max_label,
				   struct vms_prom_set **out)
{
	*out = NULL;
	for (size_t i = 0; i < nfams; i++) {
		if (!vms_prom_valid_metric_name(fams[i].name) || !fams[i].help)
			return vms_error_create(VMS_ERR_INVALID,
						"metric family %zu: invalid name '%s' or no help",
						i, fams[i].name ? fams[i].name : "(null)");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(fams[i].name, fams[j].name))
				return vms_error_create(VMS_ERR_INVALID,
							"metric family '%s' registered twice",
							fams[i].name);
	}
	struct vms_prom_set *s = calloc(1, sizeof(*s));
	if (!s)
		return &vms_error_nomem;
	s->f = calloc(nfams ? nfams : 1, sizeof(*s->f));
	if (!s->f) {
		free(s);
		return &vms_error_nomem;
	}
	s->fams = fams;
	s->nfams = nfams;
	s->max_bytes = max_bytes;
	s->max_label = max_label ? max_label : VMS_PROM_LABEL_MAX;
	if (s->max_label > 4096)
		s->max_label = 4096;
	*out = s;
	return NULL;
}

void vms_prom_set_free(struct vms_prom_set *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nfams; i++)
		free(s->f[i].buf);
	free(s->f);
	free(s);
}

void vms_prom_set_clear(struct vms_prom_set *s)
{
	for (size_t i = 0; i < s->nfams; i++) {
		s->f[i].len = 0;
		s->f[i].samples = 0;
	}
	s->bytes = s->dropped = s->samples = 0;
}

size_t vms_prom_set_dropped(const struct vms_prom_set *s) { return s->dropped; }
size_t vms_prom_set_bytes(const struct vms_prom_set *s) { return s->bytes; }
size_t vms_prom_set_samples(const struct vms_prom_set *s) { return s->samples; }

/* The shortest decimal that reads back as @v (as Go's FormatFloat 'g', -1). */
static int format_value(char *buf, size_t size, double v)
{
	if (isnan(v))
		return snprintf(buf, size, "NaN");
	if (isinf(v))
		return snprintf(buf, size, v > 0 ? "+Inf" : "-Inf");
	if (v == 0)
		return snprintf(buf, size, "0");
	if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0)
		return snprintf(buf, size, "%lld", (long long)v);
	int n = 0;
	for (int prec = 15; prec <= 17; prec++) {
		n = snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	return n;
}

static char *put_escaped(char *o, const char *s, size_t n, bool quote)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (c == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (quote && c == '"') {
			*o++ = '\\';
			*o++ = '"';
		} else {
			*o++ = c;
		}
	}
	return o;
}

struct vms_error *vms_prom_add(struct vms_prom_set *s, size_t fam,
			       const struct vms_prom_label *labels, size_t nlabels,
			       double value)
{
	if (fam >= s->nfams)
		return vms_error_create(VMS_ERR_INVALID, "metric family %zu of %zu", fam,
					s->nfams);
	if (nlabels > MAX_LABELS)
		return vms_error_create(VMS_ERR_INVALID, "%s: %zu labels (at most %d)",
					s->fams[fam].name, nlabels, MAX_LABELS);
	const char *name = s->fams[fam].name;
	size_t need = strlen(name) + 64;
	for (size_t i = 0; i < nlabels; i++) {
		if (!vms_prom_valid_label_name(labels[i].name))
			return vms_error_create(VMS_ERR_INVALID, "%s: invalid label name '%s'",
						name, labels[i].name ? labels[i].name : "(null)");
		for (size_t j = 0; j < i; j++)
			if (!strcmp(labels[i].name, labels[j].name))
				return vms_error_create(VMS_ERR_INVALID,
							"%s: label '%s' given twice", name,
							labels[i].name);
		need += strlen(labels[i].name) + 4 + 2 * s->max_label;
	}
	struct fam_buf *f = &s->f[fam];
	if (f->cap - f->len < need) {
		size_t cap = f->cap ? f->cap : 256;
		while (cap - f->len < need)
			cap *= 2;
		char *b = realloc(f->buf, cap);
		if (!b)
			return &vms_error_nomem;
		f->buf = b;
		f->cap = cap;
	}
	char *start = f->buf + f->len, *o = start;
	size_t n = strlen(name);
	memcpy(o, name, n);
	o += n;
	char clean[4097];
	for (size_t i = 0; i < nlabels; i++) {
		*o++ = i ? ',' : '{';
		n = strlen(labels[i].name);
		memcpy(o, labels[i].name, n);
		o += n;
		*o++ = '=';
		*o++ = '"';
		const char *v = labels[i].value ? labels[i].value : "";
		size_t cl = vms_prom_clean_value(clean, sizeof(clean), v, strlen(v), s->max_label);
		o = put_escaped(o, clean, cl, true);
		*o++ = '"';
	}
	if (nlabels)
		*o++ = '}';
	*o++ = ' ';
	o += format_value(o, 40, value);
	*o++ = '\n';
	size_t line = (size_t)(o - start);
	if (s->bytes + line > s->max_bytes) {
		s->dropped++;
		return NULL;
	}
	f->len += line;
	f->samples++;
	s->bytes += line;
	s->samples++;
	return NULL;
}

/* Bytes of samples family @fi holds over all @n sets. */
static size_t family_len(const struct vms_prom_set *const *sets, size_t n, size_t fi)
{
	size_t body = 0;
	for (size_t i = 0; i < n; i++)
		if (sets[i])
			body += sets[i]->f[fi].len;
	return body;
}

struct vms_error *vms_prom_render(const struct vms_prom_set *const *sets, size_t n,
				  char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	const struct vms_prom_set *first = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!sets[i])
			continue;
		if (!first)
			first = sets[i];
		else if (sets[i]->fams != first->fams || sets[i]->nfams != first->nfams)
			return vms_error_create(VMS_ERR_INVALID,
						"metric sets %zu and the first have different registries",
						i);
	}
	size_t total = 1;
	for (size_t fi = 0; first && fi < first->nfams; fi++) {
		size_t body = family_len(sets, n, fi);
		if (!body)
			continue;
		const struct vms_prom_family *F = &first->fams[fi];
		total += body + 2 * strlen(F->name) + 2 * strlen(F->help) + 32;
	}
	char *buf = malloc(total), *o = buf;
	if (!buf)
		return &vms_error_nomem;
	for (size_t fi = 0; first && fi < first->nfams; fi++) {
		if (!family_len(sets, n, fi))
			continue;
		const struct vms_prom_family *F = &first->fams[fi];
		o += sprintf(o, "# HELP %s ", F->name);
		o = put_escaped(o, F->help, strlen(F->help), false);
		o += sprintf(o, "\n# TYPE %s %s\n", F->name, vms_prom_type_name(F->type));
		for (size_t i = 0; i < n; i++) {
			if (!sets[i] || !sets[i]->f[fi].len)
				continue;
			memcpy(o, sets[i]->f[fi].buf, sets[i]->f[fi].len);
			o += sets[i]->f[fi].len;
		}
	}
	*o = '\0';
	*out = buf;
	*len = (size_t)(o - buf);
	return NULL;
}

/* ---- the parser ---- */

/* A set of strings (series keys, family names): open addressing. */
struct strset {
	char **v;
	size_t n, cap;
};

static uint64_t hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* 1 added, 0 present, -1 out of memory. */
static int strset_add(struct strset *s, const char *k, size_t n)
{
	if (s->n * 2 >= s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		char **v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < s->cap; i++) {
			if (!s->v[i])
				continue;
			size_t j = hash(s->v[i], strlen(s->v[i])) & (cap - 1);
			while (v[j])
				j = (j + 1) & (cap - 1);
			v[j] = s->v[i];
		}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	size_t j = hash(k, n) & (s->cap - 1);
	for (; s->v[j]; j = (j + 1) & (s->cap - 1))
		if (strlen(s->v[j]) == n && !memcmp(s->v[j], k, n))
			return 0;
	char *c = malloc(n + 1);
	if (!c)
		return -1;
	memcpy(c, k, n);
	c[n] = '\0';
	s->v[j] = c;
	s->n++;
	return 1;
}

static bool strset_has(const struct strset *s, const char *k, size_t n)
{
	if (!s->cap)
		return false;
	for (size_t j = hash(k, n) & (s->cap - 1); s->v[j]; j = (j + 1) & (s->cap - 1))
		if (strlen(s->v[j]) == n && !memcmp(s->v[j], k, n))
			return true;
	return false;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
}

struct parser {
	struct strset done;     /* families that ended (another one started) */
	struct strset helped, typed, series;
	char cur[MAX_NAME * 4 + 1];   /* the family being read, "" if none */
	int cur_type;           /* -1 unknown, else index in type_names */
	bool cur_has_samples;
	size_t lineno;
	char *scratch;          /* PARSE_MAX_LINE * 2 */
};

static const char *const type_names[] = { "counter", "gauge", "histogram", "summary",
					  "untyped" };

static struct vms_error *perr(const struct parser *p, const char *fmt, const char *what)
{
	return vms_error_create(VMS_ERR_FORMAT, "exposition line %zu: %s%s%s", p->lineno, fmt,
				what ? ": " : "", what ? what : "");
}

/* Switch to family @name (a HELP, TYPE or sample of it). */
static struct vms_error *enter_family(struct parser *p, const char *name, size_t n)
{
	if (strlen(p->cur) == n && !memcmp(p->cur, name, n))
		return NULL;
	if (strset_has(&p->done, name, n))
		return perr(p, "samples of a family are not together", NULL);
	if (p->cur[0] && strset_add(&p->done, p->cur, strlen(p->cur)) < 0)
		return &vms_error_nomem;
	if (n >= sizeof(p->cur))
		return perr(p, "metric name too long", NULL);
	memcpy(p->cur, name, n);
	p->cur[n] = '\0';
	p->cur_type = -1;
	p->cur_has_samples = false;
	return NULL;
}

static bool blank(char c)
{
	return c == ' ' || c == '\t';
}

static size_t skip_blank(const char *l, size_t n, size_t i)
{
	while (i < n && blank(l[i]))
		i++;
	return i;
}

static size_t name_end(const char *l, size_t n, size_t i, bool colon)
{
	while (i < n && name_char((unsigned char)l[i], colon))
		i++;
	return i;
}

static struct vms_error *comment(struct parser *p, const char *l, size_t n)
{
	size_t i = skip_blank(l, n, 1);
	size_t w = i;
	while (w < n && !blank(l[w]))
		w++;
	bool help = w - i == 4 && !memcmp(l + i, "HELP", 4);
	bool type = w - i == 4 && !memcmp(l + i, "TYPE", 4);
	if (!help && !type)
		return valid_utf8(l, n) ? NULL : perr(p, "comment is not UTF-8", NULL);
	i = skip_blank(l, n, w);
	size_t e = name_end(l, n, i, true);
	if (e == i || !valid_name(l + i, e - i, true) || (e < n && !blank(l[e])))
		return perr(p, help ? "HELP without a valid metric name" :
				      "TYPE without a valid metric name", NULL);
	struct vms_error *err = enter_family(p, l + i, e - i);
	if (err)
		return err;
	size_t t = skip_blank(l, n, e);
	if (help) {
		int r = strset_add(&p->helped, l + i, e - i);
		if (r < 0)
			return &vms_error_nomem;
		if (!r)
			return perr(p, "second HELP for", p->cur);
		for (size_t k = t; k < n; k++)
			if (l[k] == '\\' && (k + 1 >= n || (l[k + 1] != '\\' && l[k + 1] != 'n')))
				return perr(p, "invalid escape in HELP", NULL);
			else if (l[k] == '\\')
				k++;
		return valid_utf8(l + t, n - t) ? NULL : perr(p, "HELP is not UTF-8", NULL);
	}
	int r = strset_add(&p->typed, l + i, e - i);
	if (r < 0)
		return &vms_error_nomem;
	if (!r)
		return perr(p, "second TYPE for", p->cur);
	if (p->cur_has_samples)
		return perr(p, "TYPE after samples of", p->cur);
	size_t te = t;
	while (te < n && !blank(l[te]))
		te++;
	for (size_t k = 0; k < sizeof(type_names) / sizeof(type_names[0]); k++)
		if (strlen(type_names[k]) == te - t && !memcmp(l + t, type_names[k], te - t))
			p->cur_type = (int)k;
	if (p->cur_type < 0 || skip_blank(l, n, te) != n)
		return perr(p, "unknown metric type", NULL);
	return NULL;
}

static bool parse_value(const char *s, size_t n, double *v)
{
	char buf[64];
	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!strcmp(buf, "NaN")) {
		*v = NAN;
		return true;
	}
	if (!strcmp(buf, "+Inf") || !strcmp(buf, "Inf")) {
		*v = INFINITY;
		return true;
	}
	if (!strcmp(buf, "-Inf")) {
		*v = -INFINITY;
		return true;
	}
	/* [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)? */
	size_t i = 0, d = 0;
	if (buf[i] == '+' || buf[i] == '-')
		i++;
	while (is_digit(buf[i]))
		i++, d++;
	if (buf[i] == '.') {
		i++;
		while (is_digit(buf[i]))
			i++, d++;
	}
	if (!d)
		return false;
	if (buf[i] == 'e' || buf[i] == 'E') {
		i++;
		if (buf[i] == '+' || buf[i] == '-')
			i++;
		if (!is_digit(buf[i]))
			return false;
		while (is_digit(buf[i]))
			i++;
	}
	if (buf[i])
		return false;
	*v = strtod(buf, NULL);
	return true;
}

struct lab {
	size_t name, name_len;   /* offsets into the line */
	size_t value;            /* offset into scratch */
};

static int cmp_lab_names(const char *l, const struct lab *a, const struct lab *b)
{
	size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
	int c = memcmp(l + a->name, l + b->name, n);
	return c ? c : (a->name_len > b->name_len) - (a->name_len < b->name_len);
}

static struct vms_error *sample(struct parser *p, const char *l, size_t n,
				vms_prom_sample_fn fn, void *arg, bool *stop)
{
	size_t i = skip_blank(l, n, 0);
	size_t ns = i, ne = name_end(l, n, i, true);
	if (ne == ns || !valid_name(l + ns, ne - ns, true))
		return perr(p, "a sample must start with a metric name", NULL);
	if (ne - ns > MAX_NAME * 4)
		return perr(p, "metric name too long", NULL);
	/* Which family: a histogram or summary owns its _bucket/_sum/_count. */
	size_t fam_len = ne - ns;
	size_t cl = strlen(p->cur);
	if (p->cur_type == 2 || p->cur_type == 3) {
		static const char *const sfx[] = { "_bucket", "_sum", "_count" };
		for (size_t k = 0; k < 3; k++) {
			size_t sl = strlen(sfx[k]);
			if (fam_len == cl + sl && !memcmp(l + ns, p->cur, cl) &&
			    !memcmp(l + ns + cl, sfx[k], sl) && (k || p->cur_type == 2))
				fam_len = cl;
		}
	}
	struct vms_error *err = enter_family(p, l + ns, fam_len);
	if (err)
		return err;
	p->cur_has_samples = true;
	struct lab labs[PARSE_MAX_LABELS];
	size_t nl = 0, so = 0;
	i = ne;
	size_t j = skip_blank(l, n, ne);
	if (j < n && l[j] == '{') {
		i = skip_blank(l, n, j + 1);
		while (i < n && l[i] != '}') {
			if (nl == PARSE_MAX_LABELS)
				return perr(p, "too many labels", NULL);
			size_t le = name_end(l, n, i, false);
			if (le == i || !valid_name(l + i, le - i, false))
				return perr(p, "invalid label name", NULL);
			if (le - i > MAX_NAME * 4)
				return perr(p, "label name too long", NULL);
			labs[nl].name = i;
			labs[nl].name_len = le - i;
			i = skip_blank(l, n, le);
			if (i >= n || l[i] != '=')
				return perr(p, "expected '=' after a label name", NULL);
			i = skip_blank(l, n, i + 1);
			if (i >= n || l[i] != '"')
				return perr(p, "expected '\"' to open a label value", NULL);
			i++;
			labs[nl].value = so;
			size_t vs = so;
			for (;;) {
				if (i >= n)
					return perr(p, "label value not closed", NULL);
				char c = l[i++];
				if (c == '"')
					break;
				if (c == '\\') {
					if (i >= n)
						return perr(p, "label value not closed", NULL);
					char e = l[i++];
					c = e == 'n' ? '\n' : e == '\\' ? '\\' : e == '"' ? '"' : 0;
					if (!c)
						return perr(p, "invalid escape in a label value", NULL);
				}
				p->scratch[so++] = c;
			}
			if (!valid_utf8(p->scratch + vs, so - vs))
				return perr(p, "label value is not UTF-8", NULL);
			p->scratch[so++] = '\0';
			nl++;
			i = skip_blank(l, n, i);
			if (i < n && l[i] == ',')
				i = skip_blank(l, n, i + 1);
			else if (i < n && l[i] != '}')
				return perr(p, "expected ',' or '}' after a label value", NULL);
		}
		if (i >= n)
			return perr(p, "labels not closed", NULL);
		i++;
	}
	if (i >= n || !blank(l[i]))
		return perr(p, "expected a blank before the value", NULL);
	i = skip_blank(l, n, i);
	size_t vs = i;
	while (i < n && !blank(l[i]))
		i++;
	double v;
	if (!parse_value(l + vs, i - vs, &v))
		return perr(p, "invalid sample value", NULL);
	i = skip_blank(l, n, i);
	if (i < n) {
		size_t ts = i;
		if (l[i] == '-')
			i++;
		size_t d = i;
		while (i < n && is_digit(l[i]))
			i++;
		if (i == d || i - ts > 19 || skip_blank(l, n, i) != n)
			return perr(p, "invalid timestamp", NULL);
	}
	/* Labels: none twice; the series (name + sorted labels) only once. */
	for (size_t a = 1; a < nl; a++)
		for (size_t b = a; b > 0 && cmp_lab_names(l, &labs[b - 1], &labs[b]) > 0; b--) {
			struct lab t = labs[b];
			labs[b] = labs[b - 1];
			labs[b - 1] = t;
		}
	for (size_t a = 1; a < nl; a++)
		if (!cmp_lab_names(l, &labs[a - 1], &labs[a]))
			return perr(p, "a label given twice", NULL);
	char *key = p->scratch + so;
	size_t kl = 0;
	memcpy(key, l + ns, ne - ns);
	kl = ne - ns;
	for (size_t a = 0; a < nl; a++) {
		key[kl++] = '\x01';
		memcpy(key + kl, l + labs[a].name, labs[a].name_len);
		kl += labs[a].name_len;
		key[kl++] = '\x02';
		size_t vl = strlen(p->scratch + labs[a].value);
		memcpy(key + kl, p->scratch + labs[a].value, vl);
		kl += vl;
	}
	int r = strset_add(&p->series, key, kl);
	if (r < 0)
		return &vms_error_nomem;
	if (!r)
		return perr(p, "a series given twice", NULL);
	if (fn) {
		char names[PARSE_MAX_LABELS][MAX_NAME * 4 + 1];
		char mname[MAX_NAME * 4 + 1];
		struct vms_prom_label out[PARSE_MAX_LABELS];
		memcpy(mname, l + ns, ne - ns);
		mname[ne - ns] = '\0';
		for (size_t a = 0; a < nl; a++) {
			memcpy(names[a], l + labs[a].name, labs[a].name_len);
			names[a][labs[a].name_len] = '\0';
			out[a].name = names[a];
			out[a].value = p->scratch + labs[a].value;
		}
		if (fn(mname, out, nl, v, arg))
			*stop = true;
	}
	return NULL;
}

struct vms_error *vms_prom_parse(const char *text, size_t len, vms_prom_sample_fn fn,
				 void *arg)
{
	struct parser p = { .cur_type = -1 };
	/* Unescaped values (<= line) then the series key (<= 2 x line). */
	p.scratch = malloc(PARSE_MAX_LINE * 4);
	if (!p.scratch)
		return &vms_error_nomem;
	struct vms_error *err = NULL;
	bool stop = false;
	size_t i = 0;
	while (i < len && !err && !stop) {
		p.lineno++;
		const char *nl = memchr(text + i, '\n', len - i);
		if (!nl) {
			err = perr(&p, "the last line does not end with a newline", NULL);
			break;
		}
		size_t n = (size_t)(nl - (text + i));
		const char *l = text + i;
		i += n + 1;
		if (n > PARSE_MAX_LINE) {
			err = perr(&p, "line longer than 64 KiB", NULL);
			break;
		}
		if (memchr(l, '\0', n)) {
			err = perr(&p, "NUL byte", NULL);
			break;
		}
		size_t s = skip_blank(l, n, 0);
		if (s == n)
			continue;
		if (l[s] == '#')
			err = comment(&p, l + s, n - s);
		else
			err = sample(&p, l, n, fn, arg, &stop);
	}
	strset_free(&p.done);
	strset_free(&p.helped);
	strset_free(&p.typed);
	strset_free(&p.series);
	free(p.scratch);
	return err;
}
