// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Trace events printed through their own print_fmt, as the guest's trace
 * file prints them, by libtraceevent: for each event type met, the tracefs
 * `format` text is rebuilt from guest memory (ft_format_text: name, ID,
 * fields, print fmt) and parsed with tep_parse_event(); a record is then
 * rendered with tep_print_event(TEP_PRINT_INFO).  %ps/%pf symbols come from
 * the guest's kallsyms through a function resolver.
 *
 * The format and the record come from a hostile guest, and libtraceevent
 * trusts both: its parser crashes on some malformed texts (found by
 * fuzzing: see text_problem) and its printer indexes the record with
 * field offsets, lengths and counts it reads from them.  So, before
 * parsing, the text must have f_show's shape and the print fmt must pass
 * a recognizer for what TP_printk produces (shape_problem, text_problem);
 * after parsing, events using what cannot be bounds-checked here (helper
 * functions, `[` indexing, division by a non-constant, hex or array dumps
 * of a computed length) are refused (arg_problem); per record, every
 * field and dynamic (__data_loc/__rel_loc) area must lie inside the
 * record, and every hex or array dump's extent too (args_ok).  The record
 * is copied with zero padding so strings always end.  What is refused is
 * printed as field=value by the caller, with one warning per event type.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <traceevent/event-parse.h>
#include <traceevent/trace-seq.h>

#include <vmsight/ftrace.h>
#include <vmsight/symbols.h>

#include "os/linux/ftrace_internal.h"
#include "util/bytes.h"
#include "util/vec.h"

#define MAX_TYPES 4096       /* event types parsed per printer */
#define MAX_NEST 64          /* expression nesting of a print fmt */
#define MAX_ARG_DEPTH 64     /* depth of libtraceevent's argument tree */
#define MAX_ARG_NODES 4096
#define MAX_DUMP 65536       /* elements of one hex/array dump */
#define PAD 256              /* zero bytes after a record copy */
#define MAX_RECORD 65536
#define MAX_PRINT_FMT_TEXT 8192

enum { T_OK = 1, T_REFUSED = -1 };

struct ptype {
	uint32_t type;
	int state;
	struct tep_event *ev;
};

struct vms_ftrace_printer {
	struct vms_kernel *k;
	struct tep_handle *tep;
	struct ptype *types;
	size_t nr, cap;
	char sym[320];               /* the resolver's answer */
	uint8_t *rec;                /* record copy + PAD */
	size_t rec_cap;
};

/* tep_func_resolver_t: "name" or "name [module]" as the kernel's %ps. */
static char *resolve(void *priv, unsigned long long *addrp, char **modp)
{
	struct vms_ftrace_printer *p = priv;
	uint64_t off = 0;
	const struct vms_symbol *s = vms_symtab_by_addr(vms_kernel_symbols(p->k), *addrp, &off);
	*modp = NULL;
	if (!s || !s->name || off > (1u << 20))
		return NULL;
	if (s->module)
		snprintf(p->sym, sizeof(p->sym), "%s [%s]", s->name, s->module);
	else
		snprintf(p->sym, sizeof(p->sym), "%s", s->name);
	*addrp = s->addr;
	return p->sym;
}

struct vms_error *vms_ftrace_printer_new(struct vms_kernel *k,
					 struct vms_ftrace_printer **out)
{
	struct vms_ftrace_printer *p = calloc(1, sizeof(*p));
	if (!p)
		return &vms_error_nomem;
	p->k = k;
	p->tep = tep_alloc();
	if (!p->tep) {
		free(p);
		return &vms_error_nomem;
	}
	tep_set_long_size(p->tep, 8);
	tep_set_page_size(p->tep, 4096);
	tep_set_file_bigendian(p->tep, TEP_LITTLE_ENDIAN);
	tep_set_local_bigendian(p->tep, tep_is_bigendian() ? TEP_BIG_ENDIAN : TEP_LITTLE_ENDIAN);
	if (k && vms_kernel_symbols(k) && tep_set_function_resolver(p->tep, resolve, p) < 0) {
		tep_free(p->tep);
		free(p);
		return &vms_error_nomem;
	}
	*out = p;
	return NULL;
}

void vms_ftrace_printer_free(struct vms_ftrace_printer *p)
{
	if (!p)
		return;
	tep_free(p->tep);
	free(p->types);
	free(p->rec);
	free(p);
}

/* ---- checks before parsing: the text ---- */

/* Whether the format text (shape_problem-checked) declares field @name. */
static bool has_field(const char *text, const char *name, size_t n)
{
	for (const char *l = strstr(text, "\n\tfield:"); l; l = strstr(l + 1, "\n\tfield:")) {
		const char *semi = strchr(l + 8, ';');
		if (!semi)
			break;
		const char *e = semi;
		if (e > l && e[-1] == ']')  /* "name[16]" */
			while (e > l + 8 && *e != '[')
				e--;
		const char *b = e;
		while (b > l + 8 && (isalnum((unsigned char)b[-1]) || b[-1] == '_'))
			b--;
		if ((size_t)(e - b) == n && !strncmp(b, name, n))
			return true;
	}
	return false;
}

/*
 * A recognizer (not an interpreter: libtraceevent does all the work) for
 * the print fmt text: the shape TP_printk gives it, a format string then
 * comma-separated C expressions over REC->field, numbers, strings, casts,
 * the helpers libtraceevent knows and { value, "name" } tables.
 * libtraceevent's parser is not written for hostile text: fuzzing it found
 * a NULL dereference on REC->name of a missing field inside
 * __print_flags, another on a malformed number, and SIGFPE on a constant
 * division by zero.  So anything else is refused, as are: divisions or
 * modulos by anything but a non-zero literal, REC-> naming no field of the
 * event, "%*" widths (from the record) and widths over 999 in the format,
 * nesting deeper than MAX_NEST.
 */
enum { K_END, K_STR, K_NUM, K_ID, K_PUNCT, K_BAD };

struct lex {
	const char *p;          /* next character */
	int kind;
	const char *tok;        /* the current token */
	size_t len;
	unsigned long long num; /* K_NUM */
	const char *text;       /* the whole format text (field names) */
	const char *why;
	int depth;
};

static void next_tok(struct lex *x)
{
	static const char *const two[] = { "->", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||" };
	const char *c = x->p;
	while (*c == ' ' || *c == '\t')
		c++;
	x->tok = c;
	if (!*c || *c == '\n') {
		x->kind = K_END;
		x->len = 0;
		x->p = c;
		return;
	}
	if (*c == '"') {
		const char *e = c + 1;
		while (*e && *e != '"' && *e != '\n')
			e += (*e == '\\' && e[1] && e[1] != '\n') ? 2 : 1;
		if (*e != '"') {
			x->kind = K_BAD;
			x->why = "an unterminated string";
			return;
		}
		x->kind = K_STR;
		x->len = (size_t)(e + 1 - c);
		x->p = e + 1;
		return;
	}
	if (isdigit((unsigned char)*c)) {
		char *e;
		x->num = strtoull(c, &e, 0);
		while (*e == 'u' || *e == 'U' || *e == 'l' || *e == 'L')
			e++;
		if (isalnum((unsigned char)*e) || *e == '_' || *e == '.') {
			x->kind = K_BAD;
			x->why = "a malformed number";
			return;
		}
		x->kind = K_NUM;
		x->len = (size_t)(e - c);
		x->p = e;
		return;
	}
	if (isalpha((unsigned char)*c) || *c == '_') {
		const char *e = c;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		x->kind = K_ID;
		x->len = (size_t)(e - c);
		x->p = e;
		return;
	}
	for (size_t i = 0; i < sizeof(two) / sizeof(two[0]); i++)
		if (c[0] == two[i][0] && c[1] == two[i][1]) {
			x->kind = K_PUNCT;
			x->len = 2;
			x->p = c + 2;
			return;
		}
	if (strchr("()[]{},?:+-*/%<>&|^!~.", *c)) {
		x->kind = K_PUNCT;
		x->len = 1;
		x->p = c + 1;
		return;
	}
	x->kind = K_BAD;
	x->why = "a character that is not C";
}

static bool is(const struct lex *x, const char *t)
{
	return (x->kind == K_PUNCT || x->kind == K_ID) && x->len == strlen(t) &&
	       !strncmp(x->tok, t, x->len);
}

static bool fail(struct lex *x, const char *why)
{
	if (!x->why)
		x->why = why;
	return false;
}

static bool expect(struct lex *x, const char *t)
{
	if (!is(x, t))
		return fail(x, "malformed arguments");
	next_tok(x);
	return true;
}

static bool helper(const char *s, size_t n)
{
	static const char *const h[] = {
		"__print_flags", "__print_symbolic", "__print_flags_u64", "__print_symbolic_u64",
		"__print_hex", "__print_hex_str", "__print_array", "__print_dynamic_array",
		"__get_str", "__get_bitmask", "__get_cpumask", "__get_dynamic_array",
		"__get_dynamic_array_len", "__get_rel_str", "__get_rel_bitmask",
		"__get_rel_cpumask", "__get_rel_dynamic_array", "__get_rel_dynamic_array_len",
		"__get_sockaddr", "__get_rel_sockaddr", "sizeof",
	};
	for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++)
		if (strlen(h[i]) == n && !strncmp(h[i], s, n))
			return true;
	return false;
}

static bool rec_field(struct lex *x)
{
	/* at "->" after REC */
	if (!expect(x, "->"))
		return fail(x, "REC without ->field");
	if (x->kind != K_ID || !has_field(x->text, x->tok, x->len))
		return fail(x, "REC-> names no field of the event");
	next_tok(x);
	return true;
}

static bool expr(struct lex *x);

static bool unary(struct lex *x)
{
	if (++x->depth > MAX_NEST)
		return fail(x, "expressions nested too deep");
	bool ok;
	if (is(x, "!") || is(x, "~") || is(x, "-") || is(x, "+")) {
		next_tok(x);
		ok = unary(x);
	} else if (x->kind == K_NUM) {
		next_tok(x);
		ok = true;
	} else if (x->kind == K_STR) {
		while (x->kind == K_STR)
			next_tok(x);
		ok = true;
	} else if (x->kind == K_ID && x->len == 3 && !strncmp(x->tok, "REC", 3)) {
		next_tok(x);
		ok = rec_field(x);
	} else if (x->kind == K_ID) {
		const char *name = x->tok;
		size_t n = x->len;
		next_tok(x);
		if (!is(x, "(")) {
			ok = true;  /* a bare name (an enum value): an atom */
		} else if (!helper(name, n)) {
			ok = fail(x, "a helper libtraceevent does not know");
		} else {
			next_tok(x);
			ok = true;
			if (!is(x, ")"))
				while (ok && (ok = expr(x)) && is(x, ","))
					next_tok(x);
			ok = ok && expect(x, ")");
		}
	} else if (is(x, "{")) {  /* { value, "name" } */
		next_tok(x);
		ok = expr(x) && expect(x, ",") && expr(x) && expect(x, "}");
	} else if (is(x, "(")) {
		/* (REC)->f, a cast "(unsigned long *)", or a parenthesis */
		struct lex save = *x;
		next_tok(x);
		if (x->kind == K_ID && x->len == 3 && !strncmp(x->tok, "REC", 3)) {
			next_tok(x);
			if (is(x, ")")) {
				next_tok(x);
				ok = rec_field(x);
				goto done;
			}
			*x = save;
			next_tok(x);
		}
		size_t ids = 0;
		while (x->kind == K_ID && !(x->len == 3 && !strncmp(x->tok, "REC", 3))) {
			ids++;
			next_tok(x);
		}
		while (ids && is(x, "*"))
			next_tok(x);
		if (ids && is(x, ")")) {
			next_tok(x);
			if (x->kind == K_END || is(x, ",") || is(x, ")") || is(x, ":") || is(x, "?") ||
			    is(x, "]") || is(x, "}")) {
				ok = true;  /* "(NAME)": a parenthesised atom */
			} else {
				ok = unary(x);  /* a cast */
			}
		} else {
			*x = save;
			next_tok(x);
			ok = expr(x) && expect(x, ")");
		}
	} else {
		ok = fail(x, x->kind == K_BAD ? x->why : "malformed arguments");
	}
done:
	/* No postfix: libtraceevent only indexes ('[', refused after
	 * parsing anyway) and has no members but REC's. */
	x->depth--;
	return ok;
}

static bool binary_op(const struct lex *x)
{
	static const char *const ops[] = { "+", "-", "*", "/", "%", "<<", ">>", "<", ">", "<=",
					   ">=", "==", "!=", "&", "|", "^", "&&", "||" };
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (x->kind == K_PUNCT && is(x, ops[i]))
			return true;
	return false;
}

static bool expr(struct lex *x)
{
	if (++x->depth > MAX_NEST)
		return fail(x, "expressions nested too deep");
	bool ok = unary(x);
	while (ok && binary_op(x)) {
		bool div = is(x, "/") || is(x, "%");
		next_tok(x);
		if (div) {
			if (x->kind != K_NUM || !x->num) {
				ok = fail(x, "a division by anything but a non-zero number");
			} else {
				next_tok(x);
				/* libtraceevent may group "a / 2 % 2" as a / (2 % 2) */
				if (is(x, "*") || is(x, "/") || is(x, "%"))
					ok = fail(x, "a division followed by * / or %");
			}
		} else {
			ok = unary(x);
		}
	}
	if (ok && is(x, "?")) {
		next_tok(x);
		ok = expr(x) && expect(x, ":") && expr(x);
	}
	x->depth--;
	return ok;
}

/* The quoted format: no "%*" (a width from the record), no width > 999. */
static const char *format_problem(const char *s, size_t n)
{
	for (size_t i = 1; i + 1 < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (s[i] != '%')
			continue;
		if (s[i + 1] == '%') {
			i++;
			continue;
		}
		size_t digits = 0;
		for (size_t j = i + 1; j + 1 < n && strchr("#-+ 0123456789.*hlLzZ", s[j]); j++) {
			if (s[j] == '*')
				return "a width or precision taken from the record";
			digits = isdigit((unsigned char)s[j]) ? digits + 1 : 0;
			if (digits > 3)
				return "a width or precision over 999";
		}
	}
	return NULL;
}

static const char *text_problem(const char *pf, const char *text)
{
	struct lex x = { .p = pf, .text = text };
	next_tok(&x);
	if (x.kind != K_STR)
		return x.why ? x.why : "the print fmt does not start with a string";
	const char *why = format_problem(x.tok, x.len);
	if (why)
		return why;
	next_tok(&x);
	while (is(&x, ",")) {
		next_tok(&x);
		if (!expr(&x))
			return x.why ? x.why : "malformed arguments";
	}
	if (x.kind != K_END)
		return x.why ? x.why : "malformed arguments";
	return NULL;
}

static bool ident(const char *s, size_t n)
{
	if (!n || n > 127 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

static bool number(const char *s, const char *end)
{
	if (s == end || end - s > 10)
		return false;
	for (; s < end; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* "\tfield:TYPE NAME;\toffset:N;\tsize:N;\tsigned:N;" with a C type made
 * of identifiers, '*', spaces and [N] / [] array suffixes. */
static bool field_line(const char *l, const char *end)
{
	static const char *const keys[] = { "\toffset:", "\tsize:", "\tsigned:" };
	if (end - l < 8 || strncmp(l, "\tfield:", 7))
		return false;
	const char *decl = l + 7, *semi = memchr(decl, ';', (size_t)(end - decl));
	if (!semi || semi == decl)
		return false;
	/* Words "**name**[N]" (stars, an identifier, stars, an optional [N],
	 * [NAME] or [] suffix), at least two (type and name), one space apart. */
	size_t words = 0;
	for (const char *c = decl; c < semi;) {
		while (c < semi && *c == '*')
			c++;
		if (c == semi || !(isalpha((unsigned char)*c) || *c == '_'))
			return false;
		while (c < semi && (isalnum((unsigned char)*c) || *c == '_'))
			c++;
		while (c < semi && *c == '*')
			c++;
		if (c < semi && *c == '[') {
			c++;
			while (c < semi && (isalnum((unsigned char)*c) || *c == '_'))
				c++;  /* [16], [TASK_COMM_LEN] (an enum) */
			if (c == semi || *c != ']')
				return false;
			c++;
		}
		words++;
		if (c < semi) {
			if (*c != ' ' || c + 1 == semi)
				return false;
			c++;
		}
	}
	if (words < 2)
		return false;
	const char *c = semi + 1;
	for (size_t i = 0; i < 3; i++) {
		size_t kl = strlen(keys[i]);
		if ((size_t)(end - c) < kl || strncmp(c, keys[i], kl))
			return false;
		c += kl;
		const char *e = memchr(c, ';', (size_t)(end - c));
		if (!e || !number(c, e))
			return false;
		c = e + 1;
	}
	return c == end;
}

/*
 * The whole format text must have the shape f_show gives it: "name: ID",
 * "ID: N", "format:", field lines, empty lines, then one "print fmt:" line
 * of printable ASCII, last.  libtraceevent's parser is not meant for
 * hostile text (a print fmt running over several lines crashed it in
 * fuzzing), and a guest's field names or types could carry any bytes.
 */
static const char *shape_problem(const char *text)
{
	const char *l = text;
	int state = 0;  /* 0 name, 1 ID, 2 format:, 3 fields, 4 done */
	while (*l) {
		const char *end = strchr(l, '\n');
		if (!end)
			end = l + strlen(l);
		size_t n = (size_t)(end - l);
		switch (state) {
		case 0:
			if (n < 7 || strncmp(l, "name: ", 6) || !ident(l + 6, n - 6))
				return "the event name is not an identifier";
			state = 1;
			break;
		case 1:
			if (n < 5 || strncmp(l, "ID: ", 4) || !number(l + 4, end))
				return "malformed ID line";
			state = 2;
			break;
		case 2:
			if (n != 7 || strncmp(l, "format:", 7))
				return "no format: line";
			state = 3;
			break;
		case 3:
			if (n >= 11 && !strncmp(l, "print fmt: ", 11)) {
				if (n > 11 + MAX_PRINT_FMT_TEXT)
					return "print fmt too long";
				for (const char *c = l + 11; c < end; c++)
					if (*c < 0x20 || *c > 0x7e)
						return "print fmt with control or non-ASCII bytes";
				state = 4;
			} else if (n && !field_line(l, end)) {
				return "a field whose name or type is not C";
			}
			break;
		default:
			return "text after the print fmt line";
		}
		l = *end ? end + 1 : end;
	}
	return state == 4 ? NULL : "no print fmt";
}

/* ---- checks after parsing: the argument tree ---- */

/* A dump length libtraceevent evaluates as we do (no casts: a signed
 * cast would turn a small byte into a huge unsigned count). */
static bool is_len_arg(const struct tep_print_arg *a)
{
	return a && (a->type == TEP_PRINT_ATOM || a->type == TEP_PRINT_FIELD ||
		     a->type == TEP_PRINT_DYNAMIC_ARRAY_LEN);
}

static bool is_area_arg(const struct tep_print_arg *a)
{
	return a && (a->type == TEP_PRINT_FIELD || a->type == TEP_PRINT_DYNAMIC_ARRAY);
}

static const char *arg_problem(const struct tep_print_arg *a, int depth, size_t *nodes)
{
	const char *why;
	for (; a; a = a->next) {
		if (depth > MAX_ARG_DEPTH || ++*nodes > MAX_ARG_NODES)
			return "argument tree too large";
		switch (a->type) {
		case TEP_PRINT_FUNC:
			return "a helper function";
		case TEP_PRINT_OP:
			if (!a->op.op)
				return "an operator without a name";
			if (!strcmp(a->op.op, "["))
				return "array indexing";
			if ((a->op.op[0] == '/' || a->op.op[0] == '%') && !a->op.op[1] &&
			    !(a->op.right && a->op.right->type == TEP_PRINT_ATOM &&
			      a->op.right->atom.atom && strtoull(a->op.right->atom.atom, NULL, 0)))
				return "a division by a value from the record";
			if ((why = arg_problem(a->op.left, depth + 1, nodes)) ||
			    (why = arg_problem(a->op.right, depth + 1, nodes)))
				return why;
			break;
		case TEP_PRINT_TYPE:
			if ((why = arg_problem(a->typecast.item, depth + 1, nodes)))
				return why;
			break;
		case TEP_PRINT_FLAGS:
			if ((why = arg_problem(a->flags.field, depth + 1, nodes)))
				return why;
			break;
		case TEP_PRINT_SYMBOL:
			if ((why = arg_problem(a->symbol.field, depth + 1, nodes)))
				return why;
			break;
		case TEP_PRINT_HEX:
		case TEP_PRINT_HEX_STR:
			if (!is_area_arg(a->hex.field) || !is_len_arg(a->hex.size))
				return "a hex dump of a computed length";
			break;
		case TEP_PRINT_INT_ARRAY:
			if (!is_area_arg(a->int_array.field) || !is_len_arg(a->int_array.count) ||
			    !is_len_arg(a->int_array.el_size))
				return "an array dump of a computed length";
			break;
		default:
			break;
		}
	}
	return NULL;
}

static struct ptype *find_type(struct vms_ftrace_printer *p, uint32_t type)
{
	for (size_t i = 0; i < p->nr; i++)
		if (p->types[i].type == type)
			return &p->types[i];
	return NULL;
}

static struct ptype *refuse(struct vms_ftrace_printer *p, struct ptype *t, const char *system,
			    const char *name, const char *why)
{
	t->state = T_REFUSED;
	if (p->k)
		vms_kernel_log(p->k, VMS_LOG_WARN,
			       "ftrace: event %s:%s (type %u): print fmt not used (%s): printed as field=value",
			       system, name, t->type, why);
	return t;
}

static struct ptype *new_type(struct vms_ftrace_printer *p, uint32_t type)
{
	struct ptype t = { .type = type };
	if (p->nr >= MAX_TYPES ||
	    !vms_vec_append((void **)&p->types, &p->nr, &p->cap, sizeof(t), &t))
		return NULL;
	return &p->types[p->nr - 1];
}

/* Parse one tracefs format text for event type @type (checks above). */
static struct ptype *parse_text(struct vms_ftrace_printer *p, struct ptype *t, const char *system,
				const char *name, const char *text, size_t len)
{
	if (t->type > 0xffff)
		return refuse(p, t, system, name, "type id above 65535");
	if (!text || memchr(text, 0, len))
		return refuse(p, t, system, name, "no format text");
	const char *why = shape_problem(text);
	const char *pf = strstr(text, "\nprint fmt: ");
	if (!why)
		why = pf ? text_problem(pf + 12, text) : "no print fmt";
	if (!why && !strncmp(pf + 12, "\"\"", 2) && (pf[14] == '\n' || !pf[14]))
		why = "empty print fmt";
	if (why)
		return refuse(p, t, system, name, why);
	if (tep_find_event(p->tep, (int)t->type))
		/* Parsed before for another call with this id (a reloaded
		 * module): libtraceevent cannot replace it. */
		return refuse(p, t, system, name, "type id reused");
	enum tep_errno e = tep_parse_event(p->tep, text, len, system[0] ? system : "ftrace");
	struct tep_event *ev = tep_find_event(p->tep, (int)t->type);
	if (e || !ev || (ev->flags & TEP_EVENT_FL_FAILED)) {
		char msg[160] = "libtraceevent could not parse it";
		char eb[128];
		if (e && tep_strerror(p->tep, e, eb, sizeof(eb)) == 0)
			snprintf(msg, sizeof(msg), "libtraceevent: %s", eb);
		else if (ev && (int)t->type != ev->id)
			snprintf(msg, sizeof(msg), "its ID is not %u", t->type);
		return refuse(p, t, system, name, msg);
	}
	size_t nodes = 0;
	if ((why = arg_problem(ev->print_fmt.args, 0, &nodes)))
		return refuse(p, t, system, name, why);
	t->ev = ev;
	t->state = T_OK;
	return t;
}

static struct ptype *load_type(struct vms_ftrace_printer *p, const struct vms_ftrace_format *f)
{
	struct ptype *t = find_type(p, f->type);
	if (t || !p->k)
		return t;
	if (!(t = new_type(p, f->type)))
		return NULL;
	size_t len = 0;
	char *text = ft_format_text(p->k, f, &len);
	if (!text)
		return refuse(p, t, f->system, f->name, "out of memory");
	parse_text(p, t, f->system, f->name, text, len);
	free(text);
	return t;
}

int ft_printer_add_format(struct vms_ftrace_printer *p, uint32_t type, const char *system,
			  const char *text, size_t len)
{
	struct ptype *t = find_type(p, type);
	if (t)
		return t->state == T_OK ? 0 : -1;
	if (!(t = new_type(p, type)))
		return -1;
	return parse_text(p, t, system, "?", text, len)->state == T_OK ? 0 : -1;
}

/* ---- checks per record ---- */

/* The [offset, offset+len) of dynamic field @fl in @d (__data_loc: absolute,
 * __rel_loc: from the end of the field). */
static bool dyn_area(const struct tep_format_field *fl, const uint8_t *d, size_t n,
		     size_t *off, size_t *len)
{
	if (fl->offset < 0 || (size_t)fl->offset + 4 > n || (fl->size != 4 && fl->size != 2))
		return false;
	uint32_t v = fl->size == 4 ? vms_le32(d + fl->offset) : vms_le16(d + fl->offset);
	size_t o = fl->size == 4 ? (v & 0xffff) : v, l = fl->size == 4 ? v >> 16 : 0;
	if (fl->flags & TEP_FIELD_IS_RELATIVE)
		o += (size_t)fl->offset + (size_t)fl->size;
	if (o > n || l > n - o)
		return false;
	*off = o;
	*len = l;
	return true;
}

static bool fields_ok(const struct tep_format_field *fl, const uint8_t *d, size_t n)
{
	for (unsigned i = 0; fl && i < 4096; fl = fl->next, i++) {
		if (fl->offset < 0 || fl->size < 0 || (size_t)fl->offset > n ||
		    (size_t)fl->size > n - (size_t)fl->offset)
			return false;
		size_t o, l;
		if ((fl->flags & TEP_FIELD_IS_DYNAMIC) && !dyn_area(fl, d, n, &o, &l))
			return false;
	}
	return !fl;
}

static const struct tep_format_field *arg_field(const struct tep_event *ev,
						const struct tep_print_arg *a)
{
	if (a->type == TEP_PRINT_FIELD)
		return a->field.field ? a->field.field
				      : tep_find_any_field((struct tep_event *)ev, a->field.name);
	return a->dynarray.field;
}

static bool len_value(const struct tep_event *ev, const struct tep_print_arg *a,
		      const uint8_t *d, size_t n, uint64_t *v)
{
	while (a->type == TEP_PRINT_TYPE)
		a = a->typecast.item;
	if (a->type == TEP_PRINT_ATOM) {
		*v = a->atom.atom ? strtoull(a->atom.atom, NULL, 0) : 0;
		return true;
	}
	const struct tep_format_field *fl = arg_field(ev, a);
	if (!fl)
		return false;
	if (a->type == TEP_PRINT_DYNAMIC_ARRAY_LEN) {
		size_t o, l;
		if (!dyn_area(fl, d, n, &o, &l))
			return false;
		*v = l;
		return true;
	}
	if (fl->size < 1 || fl->size > 8 || (size_t)fl->offset + (size_t)fl->size > n)
		return false;
	uint64_t x = 0;
	for (int i = fl->size - 1; i >= 0; i--)
		x = x << 8 | d[fl->offset + i];
	*v = x;
	return true;
}

/* The dump's first byte and its extent must lie in the record. */
static bool dump_ok(const struct tep_event *ev, const struct tep_print_arg *area,
		    const struct tep_print_arg *count, const struct tep_print_arg *el,
		    const uint8_t *d, size_t n)
{
	const struct tep_format_field *fl = arg_field(ev, area);
	size_t off, room;
	uint64_t c, e = 1;
	if (!fl || !len_value(ev, count, d, n, &c) || (el && !len_value(ev, el, d, n, &e)))
		return false;
	if (area->type == TEP_PRINT_DYNAMIC_ARRAY) {
		size_t l;
		if (!dyn_area(fl, d, n, &off, &l))
			return false;
		room = n - off;
	} else {
		if (fl->offset < 0 || (size_t)fl->offset > n)
			return false;
		off = (size_t)fl->offset;
		room = n - off;
	}
	if (el && e != 1 && e != 2 && e != 4 && e != 8)
		e = 1;  /* printed as "BAD SIZE", one byte each */
	return c <= MAX_DUMP && c * e <= room;
}

static bool args_ok(const struct tep_event *ev, const struct tep_print_arg *a,
		    const uint8_t *d, size_t n, int depth)
{
	for (; a && depth <= MAX_ARG_DEPTH; a = a->next) {
		switch (a->type) {
		case TEP_PRINT_OP:
			if (!args_ok(ev, a->op.left, d, n, depth + 1) ||
			    !args_ok(ev, a->op.right, d, n, depth + 1))
				return false;
			break;
		case TEP_PRINT_TYPE:
			if (!args_ok(ev, a->typecast.item, d, n, depth + 1))
				return false;
			break;
		case TEP_PRINT_HEX:
		case TEP_PRINT_HEX_STR:
			if (!dump_ok(ev, a->hex.field, a->hex.size, NULL, d, n))
				return false;
			break;
		case TEP_PRINT_INT_ARRAY:
			if (!dump_ok(ev, a->int_array.field, a->int_array.count,
				     a->int_array.el_size, d, n))
				return false;
			break;
		case TEP_PRINT_STRING:
		case TEP_PRINT_BITMASK:
		case TEP_PRINT_CPUMASK:
		case TEP_PRINT_DYNAMIC_ARRAY:
		case TEP_PRINT_DYNAMIC_ARRAY_LEN: {
			/* Read as a __data_loc whatever the field says it is. */
			const struct tep_format_field *fl;
			const char *nm = a->type == TEP_PRINT_STRING ? a->string.string
				       : a->type == TEP_PRINT_BITMASK || a->type == TEP_PRINT_CPUMASK
				       ? a->bitmask.bitmask : NULL;
			fl = a->type == TEP_PRINT_STRING ? a->string.field
			   : a->type == TEP_PRINT_BITMASK || a->type == TEP_PRINT_CPUMASK
			   ? a->bitmask.field : a->dynarray.field;
			if (!fl && nm)
				fl = tep_find_any_field((struct tep_event *)ev, nm);
			size_t o, l;
			if (fl && !dyn_area(fl, d, n, &o, &l))
				return false;
			break;
		}
		default:
			break;
		}
	}
	return true;
}

int vms_ftrace_print_info(struct vms_ftrace_printer *p, const struct vms_ftrace_record *rec,
			  char *buf, size_t size)
{
	if (!p || !rec->format || !rec->data || !size)
		return -1;
	struct ptype *t = load_type(p, rec->format);
	if (!t || t->state != T_OK)
		return -1;
	if (rec->len > MAX_RECORD)
		return 0;
	/* Zeros after the copy: as long again plus PAD (a __rel_loc offset
	 * counts from its field, so it can reach twice the record). */
	size_t need = 2 * rec->len + PAD;
	if (p->rec_cap < need) {
		uint8_t *nb = realloc(p->rec, need);
		if (!nb)
			return 0;
		p->rec = nb;
		p->rec_cap = need;
	}
	memcpy(p->rec, rec->data, rec->len);
	memset(p->rec + rec->len, 0, need - rec->len);
	const struct tep_event *ev = t->ev;
	if (!fields_ok(ev->format.common_fields, p->rec, rec->len) ||
	    !fields_ok(ev->format.fields, p->rec, rec->len) ||
	    !args_ok(ev, ev->print_fmt.args, p->rec, rec->len, 0))
		return 0;
	struct tep_record r = { .ts = rec->ts, .size = (int)rec->len, .record_size = (int)rec->len,
				.data = p->rec, .cpu = (int)rec->cpu };
	struct trace_seq s;
	trace_seq_init(&s);
	tep_print_event(p->tep, &s, &r, "%s", TEP_PRINT_INFO);
	trace_seq_terminate(&s);
	int ok = s.state == TRACE_SEQ__GOOD && s.buffer ? 1 : 0;
	if (ok)
		snprintf(buf, size, "%s", s.buffer);
	trace_seq_destroy(&s);
	return ok;
}
