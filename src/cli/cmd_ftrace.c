// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight ftrace: the guest kernel's ftrace ring buffer read from its
 * memory, printed as the guest's own `trace` file would print it
 * (function_graph and function layouts; trace events through their
 * print_fmt by libtraceevent, or field=value where it cannot be used),
 * or as JSON Lines.  Traced code outside core kernel text and module text
 * is flagged.  --pause/--resume flip RB_BUFFER_OFF (needs --write).
 */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/ftrace.h>
#include <vmsight/linux.h>

#include "commands.h"
#include "target.h"

#define FLAG_MARK "  <== not in kernel or module text"
#define TRACE_FLAG_IRQS_OFF 0x01
#define TRACE_FLAG_NEED_RESCHED 0x04
#define TRACE_FLAG_HARDIRQ 0x08
#define TRACE_FLAG_SOFTIRQ 0x10
#define TRACE_FLAG_PREEMPT_RESCHED 0x20
#define TRACE_FLAG_NMI 0x40
#define TRACE_FLAG_BH_OFF 0x80
#define RETFUNC_DEPTH 50

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight ftrace [--instance NAME] [--json] [--stats] [--follow[=SEC]]\n"
		"                      [--interval MS] [--dat FILE]\n"
		"                      [--pause|--resume --write] SOURCE\n"
		"The guest kernel's ftrace ring buffer, read from its memory, printed as its\n"
		"own trace file (function_graph or function layout, trace events).\n"
		"  --instance NAME  a named trace instance (default: the global one)\n"
		"  --stats          per-CPU counters and the recording state only\n"
		"  --pages          the pages visited, as JSON Lines (diagnostics)\n"
		"  --follow[=SEC]   poll a live guest, print new events and overruns\n"
		"  --interval MS    poll interval of --follow in milliseconds (default 1000)\n"
		"  --dat FILE       write the buffer as a trace-cmd .dat file (v6) instead\n"
		"  --pause          stop recording (RB_BUFFER_OFF, like tracing_on=0); --write\n"
		"  --resume         restart recording; --write.  Needs a raw RAM file.\n"
		"Lines calling code outside kernel and module text end with\n"
		"'" FLAG_MARK "'.\n"
		CLI_COMMON_USAGE
		"  --write             allow --pause/--resume to write guest memory\n"
		"Exit status: 0 ok, 1 flagged calls found, 2 error, 3 some data skipped\n"
		"(corrupt pages or lists: a warning says where).\n");
}

struct ctx {
	const struct cli_target *t;
	struct vms_kernel *k;
	struct vms_ftrace *ft;
	struct vms_ftrace_comms comms;
	struct vms_ftrace_text_map text;
	bool have_text;
	struct vms_ftrace_printer *pr;  /* print_fmt rendering (NULL: field=value) */
	size_t flagged;
	int cpu_width;
};

static void sym(struct ctx *c, uint64_t a, char *buf, size_t n)
{
	uint64_t off;
	const struct vms_symbol *s = vms_symtab_by_addr(vms_kernel_symbols(c->k), a, &off);
	if (!s || off > (1u << 20))
		snprintf(buf, n, "0x%llx", (unsigned long long)a);
	else if (s->module)
		snprintf(buf, n, "%s [%s]", s->name, s->module);
	else
		snprintf(buf, n, "%s", s->name);
}

static bool flagged(struct ctx *c, uint64_t a)
{
	if (!c->have_text || !a)
		return false;
	return vms_ftrace_text_classify(&c->text, a) < 0;
}

static void comm(struct ctx *c, int32_t pid, char buf[16])
{
	vms_ftrace_comm(&c->comms, pid, buf);
}

/* Text output: task names and symbols are the guest's, escaped as ps
 * shows names ('?'); event text as dmesg shows log text (\xNN, tabs kept)
 * (docs/output.md). */
static const char *name_text(const struct ctx *c, char *buf, size_t size, const char *s)
{
	return cli_text(c->t, buf, size, s, VMS_ESCAPE_PS);
}

static void put_event_text(const struct ctx *c, const char *text)
{
	cli_text_put(c->t, text, strlen(text), VMS_ESCAPE_LOG);
}

/* ---- event fields ---- */

static void field_text(const struct vms_ftrace_record *r, const struct vms_ftrace_field *f,
		       char *buf, size_t n)
{
	int64_t v;
	if (!strncmp(f->type, "__data_loc", 10) && f->size == 4 &&
	    f->offset + 4 <= r->len) {
		uint32_t dl;
		memcpy(&dl, r->data + f->offset, 4);
		size_t off = dl & 0xffff, len = dl >> 16;
		if (off + len > r->len)
			len = off < r->len ? r->len - off : 0;
		if (strstr(f->type, "char")) {
			snprintf(buf, n, "%.*s", (int)strnlen((const char *)r->data + off, len),
				 (const char *)r->data + off);
		} else {
			snprintf(buf, n, "<%zu bytes>", len);
		}
		return;
	}
	if (strstr(f->type, "char") && strchr(f->type, '[') && f->offset + f->size <= r->len) {
		snprintf(buf, n, "%.*s", (int)strnlen((const char *)r->data + f->offset, f->size),
			 (const char *)r->data + f->offset);
		return;
	}
	if (vms_ftrace_field_int(r, f, &v)) {
		if (strchr(f->type, '*') || (!f->is_signed && f->size == 8 && (uint64_t)v > 0xffffffffULL))
			snprintf(buf, n, "0x%llx", (unsigned long long)v);
		else if (f->is_signed)
			snprintf(buf, n, "%lld", (long long)v);
		else
			snprintf(buf, n, "%llu", (unsigned long long)(uint64_t)v);
		return;
	}
	snprintf(buf, n, "<%u bytes>", f->size);
}

/* The event's own text: "name: a=1 b=2" or the message. */
static void event_text(struct ctx *c, const struct vms_ftrace_record *r, char *buf, size_t n,
		       bool graph)
{
	char a[256], b[256];
	size_t o = 0;
	switch (r->kind) {
	case VMS_FTRACE_FN:
		sym(c, r->ip, a, sizeof(a));
		sym(c, r->parent_ip, b, sizeof(b));
		snprintf(buf, n, "%s <-%s", a, b);
		return;
	case VMS_FTRACE_PRINT:
	case VMS_FTRACE_BPRINT:
	case VMS_FTRACE_BPUTS: {
		const char *t = r->text ? r->text : "";
		size_t l = strlen(t);
		while (l && t[l - 1] == '\n')
			l--;
		if (graph) {
			snprintf(buf, n, "%.*s", (int)l, t);
		} else {
			sym(c, r->ip, a, sizeof(a));
			snprintf(buf, n, "%s: %.*s", a, (int)l, t);
		}
		return;
	}
	default:
		break;
	}
	if (!r->format) {
		snprintf(buf, n, "type %u (%zu bytes)", r->type, r->len);
		return;
	}
	o = (size_t)snprintf(buf, n, "%s: ", r->format->name);
	if (o < n && vms_ftrace_print_info(c->pr, r, buf + o, n - o) > 0)
		return;
	/* field=value: "name: a=1 b=2" */
	o = (size_t)snprintf(buf, n, "%s:", r->format->name);
	for (size_t i = 0; i < r->format->nr_fields && o < n; i++) {
		const struct vms_ftrace_field *f = &r->format->fields[i];
		field_text(r, f, a, sizeof(a));
		o += (size_t)snprintf(buf + o, n - o, " %s=%s", f->name, a);
	}
}

/* ---- JSON ---- */

static void print_json(struct ctx *c, const struct vms_ftrace_record *r)
{
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();
	char a[256], hex[24];
	json_object_object_add(o, "cpu", json_object_new_int((int)r->cpu));
	json_object_object_add(o, "ts", json_object_new_uint64(r->ts));
	json_object_object_add(o, "type", json_object_new_int(r->type));
	const char *name = r->format ? r->format->name : "unknown";
	json_object_object_add(o, "name", json_object_new_string(name));
	if (r->format)
		json_object_object_add(o, "system", json_object_new_string(r->format->system));
	json_object_object_add(o, "pid", json_object_new_int(r->pid));
	char cm[16];
	comm(c, r->pid, cm);
	json_object_object_add(o, "comm", json_object_new_string(cm));
	json_object_object_add(o, "flags", json_object_new_int(r->flags));
	json_object_object_add(o, "preempt_count", json_object_new_int(r->preempt_count));
	bool flag = false;
	switch (r->kind) {
	case VMS_FTRACE_FN:
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)r->ip);
		json_object_object_add(f, "ip", json_object_new_string(hex));
		sym(c, r->ip, a, sizeof(a));
		json_object_object_add(f, "func", json_object_new_string(a));
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)r->parent_ip);
		json_object_object_add(f, "parent_ip", json_object_new_string(hex));
		sym(c, r->parent_ip, a, sizeof(a));
		json_object_object_add(f, "parent", json_object_new_string(a));
		flag = flagged(c, r->ip) || flagged(c, r->parent_ip);
		break;
	case VMS_FTRACE_GRAPH_ENT:
	case VMS_FTRACE_GRAPH_RET:
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)r->ip);
		json_object_object_add(f, "ip", json_object_new_string(hex));
		sym(c, r->ip, a, sizeof(a));
		json_object_object_add(f, "func", json_object_new_string(a));
		json_object_object_add(f, "depth", json_object_new_int(r->depth));
		if (r->kind == VMS_FTRACE_GRAPH_RET) {
			json_object_object_add(f, "calltime", json_object_new_uint64(r->calltime));
			json_object_object_add(f, "rettime", json_object_new_uint64(r->rettime));
			json_object_object_add(f, "overrun", json_object_new_int64(r->overrun));
		}
		flag = flagged(c, r->ip);
		break;
	case VMS_FTRACE_PRINT:
	case VMS_FTRACE_BPRINT:
	case VMS_FTRACE_BPUTS:
		snprintf(hex, sizeof(hex), "0x%llx", (unsigned long long)r->ip);
		json_object_object_add(f, "ip", json_object_new_string(hex));
		json_object_object_add(f, "buf", json_object_new_string(r->text ? r->text : ""));
		break;
	default:
		for (size_t i = 0; r->format && i < r->format->nr_fields; i++) {
			const struct vms_ftrace_field *fl = &r->format->fields[i];
			int64_t v;
			if (!strchr(fl->type, '[') && strncmp(fl->type, "__data_loc", 10) &&
			    vms_ftrace_field_int(r, fl, &v)) {
				json_object_object_add(f, fl->name, json_object_new_int64(v));
			} else {
				field_text(r, fl, a, sizeof(a));
				json_object_object_add(f, fl->name, json_object_new_string(a));
			}
		}
	}
	json_object_object_add(o, "fields", f);
	if (flag) {
		c->flagged++;
		json_object_object_add(o, "flagged", json_object_new_boolean(true));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* ---- the function (and nop) tracer layout ---- */

static void lat_fmt(const struct vms_ftrace_record *r, char out[8])
{
	unsigned f = r->flags;
	bool nmi = f & TRACE_FLAG_NMI, hard = f & TRACE_FLAG_HARDIRQ,
	     soft = f & TRACE_FLAG_SOFTIRQ, bh = f & TRACE_FLAG_BH_OFF;
	out[0] = (f & TRACE_FLAG_IRQS_OFF && bh) ? 'D' : (f & TRACE_FLAG_IRQS_OFF) ? 'd'
	       : bh ? 'b' : '.';
	switch (f & (TRACE_FLAG_NEED_RESCHED | TRACE_FLAG_PREEMPT_RESCHED)) {
	case TRACE_FLAG_NEED_RESCHED | TRACE_FLAG_PREEMPT_RESCHED: out[1] = 'N'; break;
	case TRACE_FLAG_NEED_RESCHED: out[1] = 'n'; break;
	case TRACE_FLAG_PREEMPT_RESCHED: out[1] = 'p'; break;
	default: out[1] = '.';
	}
	out[2] = (nmi && hard) ? 'Z' : nmi ? 'z' : (hard && soft) ? 'H' : hard ? 'h'
	       : soft ? 's' : '.';
	static const char hx[] = "0123456789abcdef";
	out[3] = (r->preempt_count & 0xf) ? hx[r->preempt_count & 0xf] : '.';
	out[4] = (r->preempt_count & 0xf0) ? hx[r->preempt_count >> 4] : '.';
	out[5] = '\0';
}

static void print_fn_line(struct ctx *c, const struct vms_ftrace_record *r)
{
	char cm[16], ecm[VMS_ESCAPE_PS_SIZE(16)], lat[8], text[2048];
	comm(c, r->pid, cm);
	lat_fmt(r, lat);
	uint64_t us = (r->ts + 500) / 1000;
	event_text(c, r, text, sizeof(text), false);
	bool flag = r->kind == VMS_FTRACE_FN && (flagged(c, r->ip) || flagged(c, r->parent_ip));
	if (flag)
		c->flagged++;
	printf("%16s-%-7d [%03u] %s %5llu.%06llu: ", name_text(c, ecm, sizeof(ecm), cm), r->pid,
	       r->cpu, lat, (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
	put_event_text(c, text);
	printf("%s\n", flag ? FLAG_MARK : "");
}

static void print_fn_header(struct ctx *c)
{
	size_t n = c->ft->nr_records;
	char tracer[VMS_ESCAPE_PS_SIZE(sizeof(c->ft->tracer))];
	printf("# tracer: %s\n#\n", c->ft->tracer[0] ? name_text(c, tracer, sizeof(tracer),
							       c->ft->tracer) : "nop");
	printf("# entries-in-buffer/entries-written: %zu/%zu   #P:%zu\n#\n", n, n, c->ft->nr_cpus);
	printf("#                                _-----=> irqs-off/BH-disabled\n"
	       "#                               / _----=> need-resched\n"
	       "#                              | / _---=> hardirq/softirq\n"
	       "#                              || / _--=> preempt-depth\n"
	       "#                              ||| / _-=> migrate-disable\n"
	       "#                              |||| /     delay\n"
	       "#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
	       "#              | |         |   |||||     |         |\n");
}

/* ---- the function_graph layout (kernel/trace/trace_functions_graph.c) ---- */

struct gcpu {
	int32_t last_pid;
	int depth;
	uint64_t enter[RETFUNC_DEPTH];
};

static char mark(uint64_t d)
{
	static const struct { uint64_t v; char s; } m[] = {
		{ 1000000000ULL, '$' }, { 100000000ULL, '@' }, { 10000000ULL, '*' },
		{ 1000000ULL, '#' }, { 100000ULL, '!' }, { 10000ULL, '+' },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (d > m[i].v)
			return m[i].s;
	return ' ';
}

static void duration(uint64_t d)
{
	char us[24], ns[8] = "";
	int len = snprintf(us, sizeof(us), "%llu", (unsigned long long)(d / 1000));
	printf("%c %s", mark(d), us);
	if (len < 7) {
		size_t slen = 8 - (size_t)len < 5 ? 8 - (size_t)len : 5;
		snprintf(ns, slen, "%03llu", (unsigned long long)(d % 1000));
		printf(".%s", ns);
		len += (int)strlen(ns) + 1;
	}
	printf(" us ");
	for (int i = len; i < 8; i++)
		putchar(' ');
	printf("|  ");
}

static void graph_proc(struct ctx *c, int32_t pid)
{
	char raw[16], buf[VMS_ESCAPE_PS_SIZE(16)], ps[16];
	comm(c, pid, raw);
	raw[7] = '\0';
	const char *cm = name_text(c, buf, sizeof(buf), raw);
	snprintf(ps, sizeof(ps), "%d", pid);
	int len = (int)(strlen(cm) + strlen(ps) + 1), sp = len < 14 ? 14 - len : 0;
	printf("%*s%s-%s%*s", sp / 2, "", cm, ps, sp - sp / 2, "");
}

static void graph_prologue(struct ctx *c, struct gcpu *g, const struct vms_ftrace_record *r)
{
	if (g->last_pid != r->pid) {
		int32_t prev = g->last_pid;
		g->last_pid = r->pid;
		if (prev != -1) {
			printf(" ------------------------------------------\n");
			printf(" %*u) ", c->cpu_width, r->cpu);
			graph_proc(c, prev);
			printf(" => ");
			graph_proc(c, r->pid);
			printf("\n ------------------------------------------\n\n");
		}
	}
	printf(" %*u) ", c->cpu_width, r->cpu);
}

static void print_graph(struct ctx *c)
{
	struct vms_ftrace *ft = c->ft;
	struct gcpu *g = calloc(ft->nr_cpu_ids, sizeof(*g));
	bool *done = calloc(ft->nr_records + 1, 1);
	char raw[256], name[VMS_ESCAPE_PS_SIZE(256)], text[2048];
	char tracer[VMS_ESCAPE_PS_SIZE(sizeof(ft->tracer))];
	if (!g || !done) {
		free(g);
		free(done);
		return;
	}
	for (unsigned i = 0; i < ft->nr_cpu_ids; i++) {
		g[i].last_pid = -1;
		g[i].depth = -1;
	}
	printf("# tracer: %s\n#\n", name_text(c, tracer, sizeof(tracer), ft->tracer));
	printf("# CPU  DURATION                  FUNCTION CALLS\n");
	printf("# |     |   |                     |   |   |   |\n");
	for (size_t i = 0; i < ft->nr_records; i++) {
		if (done[i])
			continue;
		const struct vms_ftrace_record *r = &ft->records[i];
		struct gcpu *gc = &g[r->cpu < ft->nr_cpu_ids ? r->cpu : 0];
		graph_prologue(c, gc, r);
		if (r->kind == VMS_FTRACE_GRAPH_ENT) {
			size_t j = ft->next_on_cpu[i];
			const struct vms_ftrace_record *n = j != (size_t)-1 ? &ft->records[j] : NULL;
			bool flag = flagged(c, r->ip);
			sym(c, r->ip, raw, sizeof(raw));
			const char *nm = name_text(c, name, sizeof(name), raw);
			int ind = r->depth > 0 && r->depth < 1000 ? r->depth * 2 : 0;
			if (n && n->kind == VMS_FTRACE_GRAPH_RET && n->pid == r->pid && n->ip == r->ip) {
				done[j] = true;
				gc->depth = r->depth - 1;
				if (r->depth >= 0 && r->depth < RETFUNC_DEPTH)
					gc->enter[r->depth] = 0;
				duration(n->rettime - n->calltime);
				printf("%*s%s();%s\n", ind, "", nm, flag ? FLAG_MARK : "");
			} else {
				gc->depth = r->depth;
				if (r->depth >= 0 && r->depth < RETFUNC_DEPTH)
					gc->enter[r->depth] = r->ip;
				printf("              |  %*s%s() {%s\n", ind, "", nm,
				       flag ? FLAG_MARK : "");
			}
			if (flag)
				c->flagged++;
		} else if (r->kind == VMS_FTRACE_GRAPH_RET) {
			bool match = true, flag = flagged(c, r->ip);
			gc->depth = r->depth - 1;
			if (r->depth >= 0 && r->depth < RETFUNC_DEPTH) {
				if (gc->enter[r->depth] != r->ip)
					match = false;
				gc->enter[r->depth] = 0;
			}
			int ind = r->depth > 0 && r->depth < 1000 ? r->depth * 2 : 0;
			duration(r->rettime - r->calltime);
			if (match) {
				printf("%*s}%s\n", ind, "", flag ? FLAG_MARK : "");
			} else {
				sym(c, r->ip, raw, sizeof(raw));
				printf("%*s} /* %s */%s\n", ind, "", name_text(c, name, sizeof(name), raw),
				       flag ? FLAG_MARK : "");
			}
			if (flag)
				c->flagged++;
		} else {
			event_text(c, r, text, sizeof(text), true);
			printf("              |  ");
			if (gc->depth > 0)
				printf("%*s", (gc->depth + 1) * 2, "");
			printf("/* ");
			put_event_text(c, text);
			printf(" */\n");
		}
	}
	free(g);
	free(done);
}

static void print_stats(struct ctx *c)
{
	struct vms_ftrace *ft = c->ft;
	for (size_t i = 0; i < ft->nr_cpus; i++) {
		const struct vms_ftrace_cpu_stats *s = &ft->cpus[i];
		printf("cpu%u: entries %llu overrun %llu commit_overrun %llu dropped %llu read %llu pages %llu%s\n",
		       s->cpu, (unsigned long long)s->entries, (unsigned long long)s->overrun,
		       (unsigned long long)s->commit_overrun, (unsigned long long)s->dropped_events,
		       (unsigned long long)s->read, (unsigned long long)s->nr_pages,
		       s->record_disabled ? " (cpu recording disabled)" : "");
	}
}

static void print_status(const struct cli_target *t, struct vms_ftrace *ft)
{
	if (t->json) {
		struct json_object *o = json_object_new_object(), *a = json_object_new_array();
		json_object_object_add(o, "instance", json_object_new_string(ft->instance));
		json_object_object_add(o, "tracer", json_object_new_string(ft->tracer));
		json_object_object_add(o, "recording", json_object_new_boolean(ft->recording));
		json_object_object_add(o, "record_disabled", json_object_new_int64(ft->record_disabled));
		json_object_object_add(o, "buffer_disabled", json_object_new_int(ft->buffer_disabled));
		for (size_t i = 0; i < ft->nr_cpus; i++) {
			const struct vms_ftrace_cpu_stats *s = &ft->cpus[i];
			struct json_object *c = json_object_new_object();
			json_object_object_add(c, "cpu", json_object_new_int((int)s->cpu));
			json_object_object_add(c, "entries", json_object_new_uint64(s->entries));
			json_object_object_add(c, "overrun", json_object_new_uint64(s->overrun));
			json_object_object_add(c, "commit_overrun", json_object_new_uint64(s->commit_overrun));
			json_object_object_add(c, "dropped_events", json_object_new_uint64(s->dropped_events));
			json_object_object_add(c, "read", json_object_new_uint64(s->read));
			json_object_object_add(c, "nr_pages", json_object_new_uint64(s->nr_pages));
			json_object_array_add(a, c);
		}
		json_object_object_add(o, "cpus", a);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	char inst[VMS_ESCAPE_PS_SIZE(sizeof(ft->instance))];
	char tracer[VMS_ESCAPE_PS_SIZE(sizeof(ft->tracer))];
	printf("instance: %s\ntracer: %s\nrecording: %s (record_disabled 0x%x, buffer_disabled %d)\n",
	       ft->instance[0] ? cli_text(t, inst, sizeof(inst), ft->instance, VMS_ESCAPE_PS)
			       : "(global)",
	       cli_text(t, tracer, sizeof(tracer), ft->tracer, VMS_ESCAPE_PS),
	       ft->recording ? "on" : "off", ft->record_disabled, ft->buffer_disabled);
	struct ctx c = { .t = t, .ft = ft };
	print_stats(&c);
}

/* --follow ends cleanly (after the current poll) on SIGINT/SIGTERM. */
static volatile sig_atomic_t follow_stop;

static void follow_signal(int sig)
{
	(void)sig;
	follow_stop = 1;
}

static int follow(struct cli_target *t, const char *instance, double interval)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = follow_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Poll: print events newer than the last one seen on their CPU (per
	 * CPU the stream is ordered; events sharing the last time stamp are
	 * counted so none is printed twice), and report overruns. */
	uint64_t *last_ts = NULL, *prev_over = NULL;
	size_t *at_last = NULL;
	unsigned ncpu = 0;
	bool first = true;
	struct vms_ftrace_printer *pr = NULL;
	struct vms_ftrace_cache *cache = NULL;
	struct vms_error *perr = vms_ftrace_cache_new(&cache);
	if (perr)
		return cli_fail(t, perr);
	perr = vms_ftrace_printer_new(t->kernel, &pr);
	if (perr) {
		fprintf(stderr, "%s: warning: %s (events printed as field=value)\n", t->prog,
			perr->message);
		vms_error_free(perr);
	}
	while (!follow_stop) {
		struct vms_ftrace ft;
		struct vms_error *err = vms_ftrace_read_cached(t->kernel, instance, cache, &ft);
		if (err) {
			free(last_ts);
			free(prev_over);
			free(at_last);
			vms_ftrace_printer_free(pr);
			vms_ftrace_cache_free(cache);
			return cli_fail(t, err);
		}
		if (t->verbose) {
			size_t reused, nread;
			vms_ftrace_cache_stats(cache, &reused, &nread);
			fprintf(stderr, "%s: poll: %zu data pages read, %zu unchanged (header only)\n",
				t->prog, nread, reused);
		}
		struct ctx c = { .t = t, .k = t->kernel, .ft = &ft, .pr = pr };
		struct vms_error *ce = vms_ftrace_comms_load(t->kernel, &c.comms);
		if (ce)
			vms_error_free(ce);
		if (!last_ts) {
			ncpu = ft.nr_cpu_ids;
			last_ts = calloc(ncpu, sizeof(*last_ts));
			prev_over = calloc(ncpu, sizeof(*prev_over));
			at_last = calloc(ncpu, sizeof(*at_last));
			if (!last_ts || !prev_over || !at_last) {
				free(last_ts);
				free(prev_over);
				free(at_last);
				vms_ftrace_comms_free(&c.comms);
				vms_ftrace_free(&ft);
				vms_ftrace_printer_free(pr);
				vms_ftrace_cache_free(cache);
				return cli_fail(t, &vms_error_nomem);
			}
		}
		/* Events were lost on a CPU when its overrun grew and the
		 * oldest event still in its buffer is newer than the last one
		 * printed (no overlap with the previous poll). */
		for (size_t i = 0; i < ft.nr_cpus; i++) {
			unsigned cpu = ft.cpus[i].cpu;
			if (cpu >= ncpu)
				continue;
			uint64_t oldest = 0;
			bool any = false;
			for (size_t j = 0; j < ft.nr_records; j++)
				if (ft.records[j].cpu == cpu) {
					oldest = ft.records[j].ts;
					any = true;
					break;
				}
			if (!first && ft.cpus[i].overrun > prev_over[cpu] &&
			    (!any || !last_ts[cpu] || oldest > last_ts[cpu]))
				fprintf(stderr, "%s: cpu%u: overrun: events lost since the last poll "
					"(the buffer wrapped: %llu overwritten, oldest left at %llu ns, "
					"last printed %llu ns)\n",
					t->prog, cpu,
					(unsigned long long)(ft.cpus[i].overrun - prev_over[cpu]),
					(unsigned long long)oldest, (unsigned long long)last_ts[cpu]);
			prev_over[cpu] = ft.cpus[i].overrun;
		}
		size_t *seen = calloc(ncpu, sizeof(*seen));
		uint64_t *nts = malloc(ncpu * sizeof(*nts));
		size_t *nat = calloc(ncpu, sizeof(*nat));
		if (seen && nts && nat) {
			memcpy(nts, last_ts, ncpu * sizeof(*nts));
			for (size_t i = 0; i < ft.nr_records; i++) {
				const struct vms_ftrace_record *r = &ft.records[i];
				unsigned cpu = r->cpu;
				if (cpu >= ncpu)
					continue;
				if (r->ts < last_ts[cpu])
					continue;
				if (r->ts == last_ts[cpu] && seen[cpu]++ < at_last[cpu])
					continue;
				if (t->json)
					print_json(&c, r);
				else
					print_fn_line(&c, r);
				if (r->ts > nts[cpu]) {
					nts[cpu] = r->ts;
					nat[cpu] = 0;
				}
				if (r->ts == nts[cpu])
					nat[cpu]++;
			}
			for (unsigned cpu = 0; cpu < ncpu; cpu++) {
				if (nts[cpu] == last_ts[cpu])
					at_last[cpu] += nat[cpu];
				else
					at_last[cpu] = nat[cpu];
				last_ts[cpu] = nts[cpu];
			}
		}
		free(seen);
		free(nts);
		free(nat);
		first = false;
		fflush(stdout);
		vms_ftrace_comms_free(&c.comms);
		vms_ftrace_free(&ft);
		if (!follow_stop)
			usleep((useconds_t)(interval * 1e6));
	}
	free(last_ts);
	free(prev_over);
	free(at_last);
	vms_ftrace_printer_free(pr);
	vms_ftrace_cache_free(cache);
	return EXIT_OK;
}

int cmd_ftrace(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight ftrace" };
	const char *instance = NULL;
	bool stats = false, pause = false, resume = false, fol = false, pages = false;
	const char *dat = NULL;
	double interval = 1.0;
	static const struct option opts[] = {
		{ "instance", required_argument, NULL, 'i' },
		{ "stats", no_argument, NULL, 's' },
		{ "pause", no_argument, NULL, 'P' },
		{ "resume", no_argument, NULL, 'R' },
		{ "follow", optional_argument, NULL, 'f' },
		{ "pages", no_argument, NULL, 'G' },
		{ "dat", required_argument, NULL, 'D' },
		{ "interval", required_argument, NULL, 'I' },
		{ 0 }
	};
	int o;
	while ((o = cli_getopt(&t, argc, argv, "i:s", opts)) != -1) {
		switch (o) {
		case 'i': instance = optarg; break;
		case 's': stats = true; break;
		case 'G': pages = true; break;
		case 'D': dat = optarg; break;
		case 'I':
			if ((interval = atof(optarg) / 1000.0) <= 0) {
				fprintf(stderr, "%s: bad interval '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'P': pause = true; break;
		case 'R': resume = true; break;
		case 'f':
			fol = true;
			if (optarg && (interval = atof(optarg)) <= 0) {
				fprintf(stderr, "%s: bad interval '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (pause && resume)) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((pause || resume) && !t.write) {
		fprintf(stderr, "%s: --pause/--resume write guest memory: add --write\n", t.prog);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	struct vms_error *err;
	int rc = EXIT_OK;
	if (pause || resume) {
		err = vms_ftrace_set_recording(t.kernel, argv[optind], instance, resume);
		if (err) {
			rc = cli_fail(&t, err);
			cli_target_close(&t);
			return rc;
		}
		stats = true;
	}
	struct vms_walk_result mres;
	struct vms_error *merr = vms_linux_load_module_symbols(t.kernel, &mres);
	if (merr) {
		fprintf(stderr, "%s: warning: module symbols: %s\n", t.prog, merr->message);
		vms_error_free(merr);
	}
	if (fol) {
		rc = follow(&t, instance, interval);
		cli_target_close(&t);
		return rc;
	}
	struct vms_ftrace ft;
	err = stats ? vms_ftrace_status(t.kernel, instance, &ft)
		    : vms_ftrace_read(t.kernel, instance, &ft);
	if (err) {
		rc = cli_fail(&t, err);
		cli_target_close(&t);
		return rc;
	}
	if (stats) {
		print_status(&t, &ft);
	} else {
		struct ctx c = { .t = &t, .k = t.kernel, .ft = &ft, .cpu_width = 1 };
		struct vms_error *e2 = vms_ftrace_comms_load(t.kernel, &c.comms);
		if (e2) {
			fprintf(stderr, "%s: warning: saved cmdlines: %s\n", t.prog, e2->message);
			vms_error_free(e2);
		}
		e2 = vms_ftrace_text_map_load(t.kernel, &c.text);
		if (e2) {
			fprintf(stderr, "%s: warning: module list: %s (calls not flagged)\n",
				t.prog, e2->message);
			vms_error_free(e2);
		} else {
			c.have_text = true;
		}
		c.cpu_width = snprintf(NULL, 0, "%u", ft.nr_cpu_ids ? ft.nr_cpu_ids - 1 : 0);
		if (!dat && !pages && !t.json) {
			e2 = vms_ftrace_printer_new(t.kernel, &c.pr);
			if (e2) {
				fprintf(stderr, "%s: warning: %s (events printed as field=value)\n",
					t.prog, e2->message);
				vms_error_free(e2);
			}
		}
		if (dat) {
			e2 = vms_ftrace_write_dat(t.kernel, &ft, &c.comms, dat);
			if (e2)
				rc = cli_fail(&t, e2);
		} else if (pages) {
			for (size_t i = 0; i < ft.nr_page_info; i++) {
				const struct vms_ftrace_page_info *p = &ft.page_info[i];
				printf("{\"cpu\":%u,\"bpage\":\"0x%llx\",\"data\":\"0x%llx\","
				       "\"next_paddr\":%llu,\"commit_paddr\":%llu,\"first_paddr\":%llu,"
				       "\"reader\":%s,\"read\":%llu,\"corrupt\":%s,\"events\":%zu}\n",
				       p->cpu, (unsigned long long)p->bpage, (unsigned long long)p->data,
				       (unsigned long long)p->next_paddr,
				       (unsigned long long)p->commit_paddr,
				       (unsigned long long)p->first_paddr, p->reader ? "true" : "false",
				       (unsigned long long)p->read, p->corrupt ? "true" : "false", p->events);
			}
		} else if (t.json) {
			for (size_t i = 0; i < ft.nr_records; i++)
				print_json(&c, &ft.records[i]);
		} else if (!strcmp(ft.tracer, "function_graph")) {
			print_graph(&c);
		} else {
			print_fn_header(&c);
			for (size_t i = 0; i < ft.nr_records; i++)
				print_fn_line(&c, &ft.records[i]);
		}
		if (c.flagged) {
			fprintf(stderr, "%s: %zu traced call(s) outside kernel and module text\n",
				t.prog, c.flagged);
			rc = EXIT_FINDINGS;
		}
		vms_ftrace_comms_free(&c.comms);
		vms_ftrace_text_map_free(&c.text);
		vms_ftrace_printer_free(c.pr);
	}
	if (ft.res.truncated) {
		fprintf(stderr, "%s: incomplete: %s\n", t.prog, ft.res.reason);
		if (rc == EXIT_OK)
			rc = EXIT_PARTIAL;
	}
	vms_ftrace_free(&ft);
	cli_target_close(&t);
	return rc;
}
