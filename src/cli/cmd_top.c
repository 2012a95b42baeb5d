// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight top: a live top of guests, read from outside.  The numbers come
 * from the library (vms_top_refresh); this file only renders them: a
 * full-screen view with top's keys, top -b style batch frames, or one JSON
 * object per guest per refresh.
 */
#include <curses.h>
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmsight/host.h>
#include <vmsight/top.h>
#include <vmsight/xenhost.h>

#include "commands.h"
#include "target.h"
#include "util/consume.h"

#define MAX_GUESTS 256

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight top [-b] [-n N] [-d SECS] [-H] [--json] [--all | GUEST...]\n"
		"A live top of each guest, from its memory: uptime, load, tasks, per-CPU\n"
		"split, memory, and per task PID, UID, PR, NI, VIRT, RES, S, %%CPU, TIME+,\n"
		"COMMAND; beside them the host's view of the QEMU process and its vCPU\n"
		"threads (CPU and run-queue wait), or for xen:DOMID in dom0 what xentop\n"
		"shows (CPU seconds and %%, memory, vCPUs, state).  GUEST is any re-readable source (RAM\n"
		"file, qemu:PID, qmp:SOCKET, libvirt:NAME, xen:DOMID); a dump shows one\n"
		"snapshot.  %%CPU: 100 = one CPU, over the guest's own clock; a task first\n"
		"seen shows its lifetime average.\n"
		"  -b            batch mode: frames on stdout, as top -b\n"
		"  -n N          stop after N refreshes (default: until q, or 1 for a dump)\n"
		"  -d SECS       delay between refreshes (default 3, as top)\n"
		"  -H            one row per thread\n"
		"  --all         every QEMU guest (and, in dom0, Xen domain) on this host,\n"
		"                followed as they come and go\n"
		"  --json        one JSON object per guest per refresh\n"
		"Keys: P M N T sort by CPU, memory, PID, time; H threads; 1 per-CPU lines;\n"
		"Tab next guest; A all guests; q quit.\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok, 2 no guest could be read, 64 usage.\n");
}

struct guest {
	char spec[4200];
	char name[128];
	struct cli_target t;
	struct vms_top *top;
	const struct vms_top_snapshot *snap;
	int host_pid;
	bool xen;              /* xen:DOMID: the host panel is xentop's */
	uint32_t domid;
	bool gone;
	bool live;             /* a source that changes (else: one snapshot) */
	unsigned long frames;  /* refreshes read */
	char error[256];
};

struct view {
	bool threads, per_cpu, all;
	enum vms_top_sort sort;
	size_t cur;            /* guest shown in the full-screen view */
};

struct app {
	struct guest *g[MAX_GUESTS];
	size_t n;
	struct view v;
	bool json, batch, discover;
	long iterations;
	double delay;
	const char *prog;
	int verbose;
	bool raw;
};

/* Guest text goes to a terminal: escaped as ps shows names (control
 * characters and invalid UTF-8 as '?'), unless --raw (docs/output.md). */
static void printable(const struct guest *g, char *dst, size_t n, const char *src)
{
	if (g->t.raw)
		snprintf(dst, n, "%s", src);
	else
		vms_text_str(dst, n, src, VMS_ESCAPE_PS);
}

static struct vms_error *guest_start(struct app *a, struct guest *g)
{
	struct vms_top_options o = { .threads = a->v.threads, .host_pid = g->host_pid,
				     .xen = g->xen, .xen_domid = g->domid };
	vms_top_free(g->top);
	g->top = NULL;
	g->snap = NULL;
	return vms_top_new(g->t.kernel, &o, &g->top);
}

static struct guest *guest_open(struct app *a, const char *spec, const char *name, int pid)
{
	struct guest *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->spec, sizeof(g->spec), "%s", spec);
	g->t.prog = a->prog;
	g->t.verbose = a->verbose;
	g->t.raw = a->raw;
	g->xen = vms_xen_spec_domid(spec, &g->domid);
	g->host_pid = pid ? pid : g->xen ? 0 : vms_host_pid_for_spec(NULL, spec);
	if (name && *name) {
		snprintf(g->name, sizeof(g->name), "%s", name);
	} else if (g->host_pid) {
		struct vms_host_proc p;
		if (vms_ok(vms_host_proc_read(NULL, g->host_pid, &p))) {
			snprintf(g->name, sizeof(g->name), "%s", p.name[0] ? p.name : spec);
			vms_host_proc_free(&p);
		}
	}
	if (!g->name[0])
		snprintf(g->name, sizeof(g->name), "%s", spec);
	if (!cli_target_open(&g->t, spec)) {
		snprintf(g->error, sizeof(g->error), "cannot be read (see above)");
		g->gone = true;
		return g;
	}
	g->live = g->t.src->live || g->host_pid;
	struct vms_error *err = guest_start(a, g);
	if (err) {
		snprintf(g->error, sizeof(g->error), "%s", err->message);
		vms_error_free(err);
		g->gone = true;
	}
	return g;
}

static void guest_close(struct guest *g)
{
	if (!g)
		return;
	vms_top_free(g->top);
	if (g->t.src)
		cli_target_close(&g->t);
	free(g);
}

static void guest_refresh(struct guest *g)
{
	if (g->gone || !g->top)
		return;
	const struct vms_top_snapshot *s;
	struct vms_error *err = vms_top_refresh(g->top, &s);
	if (err) {
		snprintf(g->error, sizeof(g->error), "%s", err->message);
		vms_error_free(err);
		g->gone = true;
		return;
	}
	g->snap = s;
	g->frames++;
	/* The RAM file of an exited QEMU stays mapped: its process says. */
	if (s->host.gone) {
		if (g->xen)
			snprintf(g->error, sizeof(g->error), "Xen domain %u is gone", g->domid);
		else
			snprintf(g->error, sizeof(g->error), "QEMU process %d exited", g->host_pid);
		g->gone = true;
	}
}

/* --all: add the guests that appeared; a vanished one is marked by its
 * own refresh (its process is gone). */
static void discover(struct app *a)
{
	struct vms_host_guest *hg = NULL;
	size_t n = 0;
	struct vms_error *err = vms_host_discover(NULL, &hg, &n);
	if (err) {
		vms_error_free(err);
		return;
	}
	for (size_t i = 0; i < n && a->n < MAX_GUESTS; i++) {
		bool known = false;
		for (size_t j = 0; j < a->n && !known; j++)
			known = hg[i].xen ? a->g[j]->xen && a->g[j]->domid == hg[i].domid
					  : a->g[j]->host_pid == hg[i].pid;
		if (known)
			continue;
		struct guest *g = guest_open(a, hg[i].spec, hg[i].name, hg[i].pid);
		if (g)
			a->g[a->n++] = g;
	}
	free(hg);
}

/* ---- rendering (one set of lines for batch mode and the screen) ---- */

typedef void (*line_fn)(void *arg, const char *line, bool bold);

static void fmt_time(char *buf, size_t n, uint64_t ns)
{
	/* TIME+: minutes:seconds.hundredths */
	uint64_t cs = ns / 10000000ull;
	snprintf(buf, n, "%llu:%02llu.%02llu", (unsigned long long)(cs / 6000),
		 (unsigned long long)(cs / 100 % 60), (unsigned long long)(cs % 100));
}

static void fmt_pr(char *buf, size_t n, int32_t prio)
{
	/* top's PR: prio - 100; RT priority 99 (prio 0) shows as "rt". */
	if (prio <= 0)
		snprintf(buf, n, "rt");
	else
		snprintf(buf, n, "%d", prio - 100);
}

static void cpu_line(char *l, size_t n, const char *label, const struct vms_top_cpu *c)
{
	snprintf(l, n, "%s %5.1f us, %5.1f ni, %5.1f sy, %5.1f id, %5.1f wa, %5.1f hi, "
		 "%5.1f si, %5.1f st", label, c->user, c->nice, c->system, c->idle,
		 c->iowait, c->irq, c->softirq, c->steal);
}

static void render_header(const struct guest *g, const struct view *v, line_fn out, void *arg)
{
	char l[1024], name[128], error[sizeof(g->error)];
	printable(g, name, sizeof(name), g->name);
	if (g->gone || !g->snap) {
		printable(g, error, sizeof(error), g->error);
		snprintf(l, sizeof(l), "guest %s (%.200s): [gone] %.200s", name, g->spec, error);
		out(arg, l, true);
		return;
	}
	const struct vms_top_snapshot *s = g->snap;
	uint64_t up = s->sys.uptime_ns / 1000000000ull;
	snprintf(l, sizeof(l), "guest %s (%.300s)%s", name, g->spec,
		 !g->live ? "  [snapshot]" :
		 g->frames > 1 && s->interval_s == 0 ? "  [its clock stood still: paused]" : "");
	out(arg, l, true);
	snprintf(l, sizeof(l), "top - up %llu days, %2llu:%02llu:%02llu, load average: %.2f, %.2f, %.2f",
		 (unsigned long long)(up / 86400), (unsigned long long)(up / 3600 % 24),
		 (unsigned long long)(up / 60 % 60), (unsigned long long)(up % 60),
		 s->load[0], s->load[1], s->load[2]);
	out(arg, l, false);
	snprintf(l, sizeof(l), "%s: %4u total, %4u running, %4u sleeping, %4u stopped, %4u zombie%s",
		 v->threads ? "Threads" : "Tasks", s->nr_tasks, s->nr_running,
		 s->nr_sleeping + s->nr_idle, s->nr_stopped, s->nr_zombie,
		 s->truncated ? "  [task list incomplete]" : "");
	out(arg, l, false);
	if (v->per_cpu) {
		for (unsigned c = 0; c < s->nr_cpus; c++) {
			char label[16];
			if (!s->cpus[c].online)
				continue;
			snprintf(label, sizeof(label), "%%Cpu%-3u:", c);
			cpu_line(l, sizeof(l), label, &s->cpus[c]);
			out(arg, l, false);
		}
	} else {
		cpu_line(l, sizeof(l), "%Cpu(s):", &s->cpu_total);
		out(arg, l, false);
	}
	if (s->has_mem) {
		const struct vms_meminfo *m = &s->mem;
		uint64_t cache = m->buffers + m->cached + m->sreclaimable;
		uint64_t used = m->total > m->free + cache ? m->total - m->free - cache : 0;
		snprintf(l, sizeof(l), "MiB Mem : %8.1f total, %8.1f free, %8.1f used, %8.1f buff/cache",
			 m->total / 1024.0, m->free / 1024.0, used / 1024.0, cache / 1024.0);
		out(arg, l, false);
		snprintf(l, sizeof(l), "MiB Swap: %8.1f total, %8.1f free, %8.1f used. %8.1f avail Mem",
			 m->swap_total / 1024.0, m->swap_free / 1024.0,
			 (m->swap_total - (m->swap_free < m->swap_total ? m->swap_free : m->swap_total)) / 1024.0,
			 m->available / 1024.0);
		out(arg, l, false);
	}
	const struct vms_top_host *h = &s->host;
	if (h->present && h->xen) {
		const struct vms_xen_domain *d = &h->xen_dom;
		char maxmem[32];
		if (d->max_mem_kb == UINT64_MAX)
			snprintf(maxmem, sizeof(maxmem), "no limit");
		else
			snprintf(maxmem, sizeof(maxmem), "%llu k", (unsigned long long)d->max_mem_kb);
		int n = snprintf(l, sizeof(l), "Host: xen domain %u %s, CPU %.1f s %5.1f%%, MEM %llu k "
				 "(max %s), vCPUs %u (%u online);", d->domid, d->state,
				 d->cpu_ns / 1e9, h->cpu_percent, (unsigned long long)d->mem_kb, maxmem,
				 d->vcpus, d->vcpus_online);
		for (size_t i = 0; i < h->nr_vcpus && n > 0 && (size_t)n < sizeof(l); i++)
			n += snprintf(l + n, sizeof(l) - (size_t)n, " vCPU%d %5.1f%% %c pCPU %d",
				      h->vcpus[i].vcpu, h->vcpus[i].cpu_percent, h->vcpus[i].state,
				      h->vcpus[i].pcpu);
		out(arg, l, false);
	} else if (h->present) {
		int n = snprintf(l, sizeof(l), "Host: qemu %d %5.1f%% CPU, RES %.1f MiB;", h->pid,
				 h->cpu_percent, h->rss_kb / 1024.0);
		for (size_t i = 0; i < h->nr_vcpus && n > 0 && (size_t)n < sizeof(l); i++)
			n += snprintf(l + n, sizeof(l) - (size_t)n, " vCPU%d %5.1f%% (wait %4.1f%%)",
				      h->vcpus[i].vcpu, h->vcpus[i].cpu_percent,
				      h->vcpus[i].wait_percent);
		out(arg, l, false);
	}
}

static void render_tasks(const struct guest *g, size_t max_rows, line_fn out, void *arg)
{
	char l[512];
	snprintf(l, sizeof(l), "%7s %-6s %3s %3s %8s %7s %s %5s %9s %s", "PID", "UID", "PR",
		 "NI", "VIRT", "RES", "S", "%CPU", "TIME+", "COMMAND");
	out(arg, l, true);
	if (g->gone || !g->snap)
		return;
	const struct vms_top_snapshot *s = g->snap;
	for (size_t i = 0; i < s->nr_tasks_listed && i < max_rows; i++) {
		const struct vms_top_task *t = &s->tasks[i];
		char pr[16], tm[24], comm[64];
		fmt_pr(pr, sizeof(pr), t->prio);
		fmt_time(tm, sizeof(tm), t->time_ns);
		printable(g, comm, sizeof(comm), t->comm);
		snprintf(l, sizeof(l), "%7d %-6u %3s %3d %8llu %7llu %c %5.1f %9s %s%s", t->pid,
			 t->uid, pr, t->nice, (unsigned long long)t->virt_kb,
			 (unsigned long long)t->rss_kb, t->state, t->cpu_percent, tm, comm,
			 t->clamped ? " [torn read]" : "");
		out(arg, l, false);
	}
}

static void render_all(const struct app *a, line_fn out, void *arg)
{
	char l[512];
	snprintf(l, sizeof(l), "%-24s %9s %6s %6s %6s %5s %8s %8s %7s %s", "GUEST", "HOST",
		 "LOAD1", "TASKS", "%GUEST", "CPUS", "MEMFREE", "%HOST", "VCPUS", "TOP TASK");
	out(arg, l, true);
	for (size_t i = 0; i < a->n; i++) {
		const struct guest *g = a->g[i];
		char name[128], error[sizeof(g->error)], host[24];
		printable(g, name, sizeof(name), g->name);
		/* the QEMU pid, or the Xen domain */
		if (g->xen)
			snprintf(host, sizeof(host), "xen:%u", g->domid);
		else
			snprintf(host, sizeof(host), "%d", g->host_pid);
		if (g->gone || !g->snap) {
			printable(g, error, sizeof(error), g->error);
			snprintf(l, sizeof(l), "%-24.24s %9s [gone] %s", name, host, error);
			out(arg, l, false);
			continue;
		}
		const struct vms_top_snapshot *s = g->snap;
		const struct vms_top_task *best = NULL;
		for (size_t j = 0; j < s->nr_tasks_listed; j++)
			if (!best || s->tasks[j].cpu_percent > best->cpu_percent)
				best = &s->tasks[j];
		char comm[64] = "-";
		if (best)
			printable(g, comm, sizeof(comm), best->comm);
		snprintf(l, sizeof(l), "%-24.24s %9s %6.2f %6u %6.1f %5u %8llu %8.1f %7zu %s %.1f%%",
			 name, host, s->load[0], s->nr_tasks,
			 100.0 - s->cpu_total.idle, s->sys.nr_cpus_online,
			 (unsigned long long)s->mem.free, s->host.cpu_percent, s->host.nr_vcpus,
			 comm, best ? best->cpu_percent : 0.0);
		out(arg, l, false);
	}
}

static void print_line(void *arg, const char *line, bool bold)
{
	(void)arg;
	(void)bold;
	puts(line);
}

/* ---- JSON ---- */

static struct json_object *jcpu(const struct vms_top_cpu *c)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "cpu", json_object_new_int((int)c->cpu));
	json_object_object_add(o, "online", json_object_new_boolean(c->online));
	json_object_object_add(o, "user", json_object_new_double(c->user));
	json_object_object_add(o, "nice", json_object_new_double(c->nice));
	json_object_object_add(o, "system", json_object_new_double(c->system));
	json_object_object_add(o, "idle", json_object_new_double(c->idle));
	json_object_object_add(o, "iowait", json_object_new_double(c->iowait));
	json_object_object_add(o, "irq", json_object_new_double(c->irq));
	json_object_object_add(o, "softirq", json_object_new_double(c->softirq));
	json_object_object_add(o, "steal", json_object_new_double(c->steal));
	return o;
}

/* A Xen domain's host panel: xentop's columns, and each vCPU. */
static struct json_object *jxen(const struct vms_top_host *H)
{
	const struct vms_xen_domain *d = &H->xen_dom;
	struct json_object *h = json_object_new_object(), *vs = json_object_new_array();
	json_object_object_add(h, "kind", json_object_new_string("xen"));
	json_object_object_add(h, "domid", json_object_new_int((int)d->domid));
	json_object_object_add(h, "name", json_object_new_string(d->name));
	json_object_object_add(h, "uuid", json_object_new_string(d->uuid));
	json_object_object_add(h, "state", json_object_new_string(d->state));
	json_object_object_add(h, "cpu_ns", json_object_new_uint64(d->cpu_ns));
	json_object_object_add(h, "cpu_s", json_object_new_double(d->cpu_ns / 1e9));
	json_object_object_add(h, "cpu_percent", json_object_new_double(H->cpu_percent));
	json_object_object_add(h, "mem_kb", json_object_new_uint64(d->mem_kb));
	json_object_object_add(h, "max_mem_kb", d->max_mem_kb == UINT64_MAX ? json_object_new_null()
				: json_object_new_uint64(d->max_mem_kb));
	json_object_object_add(h, "vcpus", json_object_new_int((int)d->vcpus));
	json_object_object_add(h, "vcpus_online", json_object_new_int((int)d->vcpus_online));
	json_object_object_add(h, "hvm", json_object_new_boolean(d->hvm));
	json_object_object_add(h, "cpupool", json_object_new_int64(d->cpupool));
	for (size_t i = 0; i < H->nr_vcpus; i++) {
		const struct vms_top_vcpu *v = &H->vcpus[i];
		struct json_object *x = json_object_new_object();
		char st[2] = { v->state, 0 };
		json_object_object_add(x, "vcpu", json_object_new_int(v->vcpu));
		json_object_object_add(x, "state", json_object_new_string(st));
		json_object_object_add(x, "pcpu", json_object_new_int(v->pcpu));
		json_object_object_add(x, "cpu_percent", json_object_new_double(v->cpu_percent));
		json_object_array_add(vs, x);
	}
	json_object_object_add(h, "vcpu_list", vs);
	return h;
}

static void print_json(const struct guest *g)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "guest", json_object_new_string(g->name));
	json_object_object_add(o, "spec", json_object_new_string(g->spec));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(o, "gone", json_object_new_boolean(g->gone));
	if (g->gone || !g->snap) {
		json_object_object_add(o, "error", json_object_new_string(g->error));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	const struct vms_top_snapshot *s = g->snap;
	json_object_object_add(o, "interval_s", json_object_new_double(s->interval_s));
	json_object_object_add(o, "uptime_s", json_object_new_double(s->sys.uptime_ns / 1e9));
	struct json_object *ld = json_object_new_array();
	for (int i = 0; i < 3; i++)
		json_object_array_add(ld, json_object_new_double(s->load[i]));
	json_object_object_add(o, "load", ld);
	json_object_object_add(o, "nr_threads", json_object_new_int64(s->sys.nr_threads));
	json_object_object_add(o, "nr_running", json_object_new_int64(s->sys.nr_running));
	json_object_object_add(o, "last_pid", json_object_new_int(s->sys.last_pid));
	struct json_object *cnt = json_object_new_object();
	json_object_object_add(cnt, "total", json_object_new_int64(s->nr_tasks));
	json_object_object_add(cnt, "running", json_object_new_int64(s->nr_running));
	json_object_object_add(cnt, "sleeping", json_object_new_int64(s->nr_sleeping));
	json_object_object_add(cnt, "idle", json_object_new_int64(s->nr_idle));
	json_object_object_add(cnt, "stopped", json_object_new_int64(s->nr_stopped));
	json_object_object_add(cnt, "zombie", json_object_new_int64(s->nr_zombie));
	json_object_object_add(o, "task_counts", cnt);
	struct json_object *cpus = json_object_new_array();
	for (unsigned c = 0; c < s->nr_cpus; c++)
		json_object_array_add(cpus, jcpu(&s->cpus[c]));
	json_object_object_add(o, "cpus", cpus);
	json_object_object_add(o, "cpu_total", jcpu(&s->cpu_total));
	if (s->has_mem) {
		struct json_object *m = json_object_new_object();
		json_object_object_add(m, "total_kb", json_object_new_uint64(s->mem.total));
		json_object_object_add(m, "free_kb", json_object_new_uint64(s->mem.free));
		json_object_object_add(m, "available_kb", json_object_new_uint64(s->mem.available));
		json_object_object_add(m, "buffers_kb", s->mem.has_buffers ?
				       json_object_new_uint64(s->mem.buffers) : json_object_new_null());
		json_object_object_add(m, "cached_kb", json_object_new_uint64(s->mem.cached));
		json_object_object_add(m, "sreclaimable_kb", json_object_new_uint64(s->mem.sreclaimable));
		json_object_object_add(m, "shmem_kb", json_object_new_uint64(s->mem.shmem));
		json_object_object_add(m, "swap_total_kb", json_object_new_uint64(s->mem.swap_total));
		json_object_object_add(m, "swap_free_kb", json_object_new_uint64(s->mem.swap_free));
		json_object_object_add(o, "mem", m);
	}
	if (s->host.present && s->host.xen) {
		json_object_object_add(o, "host", jxen(&s->host));
	} else if (s->host.present) {
		struct json_object *h = json_object_new_object(), *vs = json_object_new_array();
		json_object_object_add(h, "pid", json_object_new_int(s->host.pid));
		json_object_object_add(h, "cpu_percent", json_object_new_double(s->host.cpu_percent));
		json_object_object_add(h, "rss_kb", json_object_new_uint64(s->host.rss_kb));
		for (size_t i = 0; i < s->host.nr_vcpus; i++) {
			const struct vms_top_vcpu *v = &s->host.vcpus[i];
			struct json_object *x = json_object_new_object();
			char st[2] = { v->state, 0 };
			json_object_object_add(x, "vcpu", json_object_new_int(v->vcpu));
			json_object_object_add(x, "tid", json_object_new_int(v->tid));
			json_object_object_add(x, "state", json_object_new_string(st));
			json_object_object_add(x, "cpu_percent", json_object_new_double(v->cpu_percent));
			json_object_object_add(x, "wait_percent", json_object_new_double(v->wait_percent));
			json_object_array_add(vs, x);
		}
		json_object_object_add(h, "vcpus", vs);
		json_object_object_add(o, "host", h);
	}
	json_object_object_add(o, "truncated", json_object_new_boolean(s->truncated));
	if (s->truncated)
		json_object_object_add(o, "reason", json_object_new_string(s->reason));
	json_object_object_add(o, "duplicates_dropped", json_object_new_int64(s->duplicates));
	struct json_object *ts = json_object_new_array();
	for (size_t i = 0; i < s->nr_tasks_listed; i++) {
		const struct vms_top_task *t = &s->tasks[i];
		struct json_object *x = json_object_new_object();
		char st[2] = { t->state, 0 };
		json_object_object_add(x, "pid", json_object_new_int(t->pid));
		json_object_object_add(x, "tgid", json_object_new_int(t->tgid));
		json_object_object_add(x, "ppid", json_object_new_int(t->ppid));
		json_object_object_add(x, "uid", json_object_new_int64(t->uid));
		json_object_object_add(x, "comm", json_object_new_string(t->comm));
		json_object_object_add(x, "state", json_object_new_string(st));
		json_object_object_add(x, "prio", json_object_new_int(t->prio));
		json_object_object_add(x, "nice", json_object_new_int(t->nice));
		json_object_object_add(x, "cpu", json_object_new_int(t->cpu));
		json_object_object_add(x, "cpu_percent", json_object_new_double(t->cpu_percent));
		json_object_object_add(x, "time_ns", json_object_new_uint64(t->time_ns));
		json_object_object_add(x, "rss_kb", json_object_new_uint64(t->rss_kb));
		json_object_object_add(x, "virt_kb", json_object_new_uint64(t->virt_kb));
		json_object_object_add(x, "kthread", json_object_new_boolean(t->kthread));
		json_object_object_add(x, "is_new", json_object_new_boolean(t->is_new));
		if (t->clamped)
			json_object_object_add(x, "clamped", json_object_new_boolean(true));
		json_object_array_add(ts, x);
	}
	json_object_object_add(o, "tasks", ts);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* ---- the loops ---- */

static void refresh_all(struct app *a)
{
	if (a->discover)
		discover(a);
	for (size_t i = 0; i < a->n; i++) {
		guest_refresh(a->g[i]);
		if (a->g[i]->snap && !a->g[i]->gone)
			vms_top_sort((struct vms_top_task *)a->g[i]->snap->tasks,
				     a->g[i]->snap->nr_tasks_listed, a->v.sort);
	}
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static bool any_live(const struct app *a)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->g[i]->live && !a->g[i]->gone)
			return true;
	return a->discover;
}

static int run_batch(struct app *a)
{
	long n = a->iterations > 0 ? a->iterations : (any_live(a) ? -1 : 1);
	for (long i = 0; (n < 0 || i < n) && !stop_requested; i++) {
		if (i)
			sleep_s(a->delay);
		refresh_all(a);
		for (size_t j = 0; j < a->n; j++) {
			if (a->json) {
				print_json(a->g[j]);
			} else {
				render_header(a->g[j], &a->v, print_line, NULL);
				puts("");
				render_tasks(a->g[j], (size_t)-1, print_line, NULL);
				puts("");
			}
		}
		fflush(stdout);
		if (!any_live(a))
			break;
	}
	return EXIT_OK;
}

struct screen {
	int row;
};

static void screen_line(void *arg, const char *line, bool bold)
{
	struct screen *s = arg;
	if (s->row >= LINES)
		return;
	if (bold)
		attron(A_REVERSE);
	mvaddnstr(s->row, 0, line, COLS);
	if (bold)
		attroff(A_REVERSE);
	s->row++;
}

static void set_threads(struct app *a, bool on)
{
	a->v.threads = on;
	for (size_t i = 0; i < a->n; i++) {
		struct guest *g = a->g[i];
		if (g->gone)
			continue;
		struct vms_error *err = guest_start(a, g);
		if (err) {
			snprintf(g->error, sizeof(g->error), "%s", err->message);
			vms_error_free(err);
			g->gone = true;
		}
	}
}

static int run_screen(struct app *a)
{
	if (!initscr())
		return EXIT_ERROR;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	curs_set(0);
	long done = 0;
	bool redraw_only = false;
	while (!stop_requested) {
		if (!redraw_only) {
			refresh_all(a);
			done++;
		}
		redraw_only = false;
		erase();
		struct screen s = { 0 };
		if (a->v.all || a->n == 0) {
			render_all(a, screen_line, &s);
		} else {
			if (a->v.cur >= a->n)
				a->v.cur = 0;
			render_header(a->g[a->v.cur], &a->v, screen_line, &s);
			s.row++;
			render_tasks(a->g[a->v.cur], (size_t)(LINES > s.row ? LINES - s.row - 1 : 0),
				     screen_line, &s);
		}
		refresh();
		if (a->iterations > 0 && done >= a->iterations)
			break;
		timeout((int)(a->delay * 1000));
		int c = getch();
		switch (c) {
		case 'q': stop_requested = 1; break;
		case 'P': a->v.sort = VMS_TOP_SORT_CPU; redraw_only = true; break;
		case 'M': a->v.sort = VMS_TOP_SORT_MEM; redraw_only = true; break;
		case 'N': a->v.sort = VMS_TOP_SORT_PID; redraw_only = true; break;
		case 'T': a->v.sort = VMS_TOP_SORT_TIME; redraw_only = true; break;
		case '1': a->v.per_cpu = !a->v.per_cpu; redraw_only = true; break;
		case 'H': set_threads(a, !a->v.threads); break;
		case 'A': a->v.all = !a->v.all; redraw_only = true; break;
		case '\t': a->v.cur = a->n ? (a->v.cur + 1) % a->n : 0; a->v.all = false;
			redraw_only = true; break;
		default: break;
		}
		if (redraw_only) {
			for (size_t i = 0; i < a->n; i++)
				if (a->g[i]->snap && !a->g[i]->gone)
					vms_top_sort((struct vms_top_task *)a->g[i]->snap->tasks,
						     a->g[i]->snap->nr_tasks_listed, a->v.sort);
		}
	}
	endwin();
	return EXIT_OK;
}

int cmd_top(int argc, char **argv)
{
	enum { OPT_ALL = 0x2000 };
	static const struct option opts[] = {
		{ "all", no_argument, NULL, OPT_ALL },
		{ NULL, 0, NULL, 0 },
	};
	struct app a = { .prog = "vmsight top", .delay = 3.0, .v.sort = VMS_TOP_SORT_CPU };
	struct cli_target common = { .prog = a.prog };
	int c;
	char *end;
	while ((c = cli_getopt(&common, argc, argv, "bn:d:H", opts)) != -1) {
		switch (c) {
		case 'b': a.batch = true; break;
		case 'n':
			a.iterations = strtol(optarg, &end, 10);
			if (*end || a.iterations < 1) {
				fprintf(stderr, "%s: -n wants a count >= 1, not '%s'\n", a.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			a.delay = strtod(optarg, &end);
			if (*end || !(a.delay >= 0.05 && a.delay <= 86400)) {
				fprintf(stderr, "%s: -d wants seconds (0.05 to 86400), not '%s'\n",
					a.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'H': a.v.threads = true; break;
		case OPT_ALL: a.discover = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	a.json = common.json;
	a.verbose = common.verbose;
	a.raw = common.raw;
	if ((optind == argc) == !a.discover) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc && a.n < MAX_GUESTS; i++) {
		struct guest *g = guest_open(&a, argv[i], NULL, 0);
		if (g)
			a.g[a.n++] = g;
	}
	if (a.discover)
		discover(&a);
	bool any = a.discover;
	for (size_t i = 0; i < a.n; i++)
		any |= !a.g[i]->gone;
	int rc = EXIT_ERROR;
	if (any) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		rc = (a.batch || a.json || !isatty(STDOUT_FILENO)) ? run_batch(&a) : run_screen(&a);
	}
	for (size_t i = 0; i < a.n; i++)
		guest_close(a.g[i]);
	return rc;
}
