// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight top's model: rates between two reads of a guest.  Per task, %CPU
 * is the growth of se.sum_exec_runtime (what /proc/PID/stat's utime+stime
 * add up to) over the growth of the guest's uptime, so a paused or slow
 * guest is measured on its own clock, as its own top would.  A task is the
 * same one across refreshes when pid and start time agree; otherwise (new,
 * or a reused pid) its %CPU is its lifetime average and is_new is set.
 * The per-CPU split is the change of each /proc/stat counter over the sum
 * of their changes, as top does.  Host figures use the host's monotonic
 * clock.  For a Xen domain the host figures are xentop's (libxenctrl from
 * dom0): CPU seconds and %, memory, vCPUs and their times, state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/linux.h>
#include <vmsight/top.h>

#include "util/consume.h"
#include "util/vec.h"

#define MAX_TOP_CPUS 8192u           /* NR_CPUS of the largest configs */
#define FIXED_1 2048.0               /* avenrun's fixed point */

struct prev_task {
	int32_t pid;
	uint64_t start_time, time_ns;
};

struct prev_thread {
	int tid;
	uint64_t cpu_ns, wait_ns;
};

struct vms_top {
	struct vms_kernel *k;
	struct vms_top_options opts;
	struct vms_top_snapshot snap;
	bool have_prev;
	uint64_t prev_uptime;
	struct prev_task *prev;          /* sorted by pid */
	size_t nr_prev;
	struct vms_cpu_times *prev_cpus; /* [snap.nr_cpus] */
	/* host */
	bool host_seen;
	double prev_wall;
	uint64_t prev_host_cpu;
	struct prev_thread *prev_threads;
	size_t nr_prev_threads;
	struct vms_xen_host *xen;        /* opts.xen: the control interface */
	/* the walk's collector */
	struct vms_top_task *rows;
	size_t nr_rows, cap_rows;
	bool oom;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct vms_error *vms_top_new(struct vms_kernel *k, const struct vms_top_options *opts,
			      struct vms_top **ret)
{
	struct vms_top *t = calloc(1, sizeof(*t));
	if (!t)
		return &vms_error_nomem;
	t->k = k;
	if (opts)
		t->opts = *opts;
	unsigned n = vms_kernel_info(k)->nr_cpu_ids;
	if (n == 0 || n > MAX_TOP_CPUS)
		n = n ? MAX_TOP_CPUS : 1;
	t->snap.nr_cpus = n;
	t->snap.cpus = calloc(n, sizeof(*t->snap.cpus));
	t->prev_cpus = calloc(n, sizeof(*t->prev_cpus));
	if (!t->snap.cpus || !t->prev_cpus) {
		vms_top_free(t);
		return &vms_error_nomem;
	}
	struct vms_error *err = t->opts.xen ? vms_xen_host_open(&t->xen) : NULL;
	if (err) {
		vms_top_free(t);
		return err;
	}
	*ret = t;
	return NULL;
}

void vms_top_free(struct vms_top *t)
{
	if (!t)
		return;
	free(t->snap.cpus);
	free(t->snap.tasks);
	free(t->snap.host.vcpus);
	free(t->prev_cpus);
	free(t->prev);
	free(t->prev_threads);
	free(t->rows);
	vms_xen_host_close(t->xen);
	free(t);
}

static int collect(const struct vms_task *task, void *arg)
{
	struct vms_top *t = arg;
	struct vms_top_task r = {
		.pid = t->opts.threads ? task->pid : task->tgid,
		.tgid = task->tgid, .ppid = task->ppid, .uid = task->uid,
		.state = task->state, .prio = task->prio, .nice = task->nice,
		.policy = task->policy, .cpu = task->cpu, .kthread = task->kthread,
		.partial = task->stats_partial, .time_ns = task->runtime_ns,
		.rss_kb = task->rss_pages * 4, .virt_kb = task->vm_pages * 4,
	};
	r.start_time_ns = task->start_time_ns;
	memcpy(r.comm, task->comm, sizeof(r.comm));
	r.comm[sizeof(r.comm) - 1] = '\0';
	if (!vms_vec_append((void **)&t->rows, &t->nr_rows, &t->cap_rows, sizeof(r), &r)) {
		t->oom = true;
		return 1;
	}
	return 0;
}

static int by_pid_row(const void *a, const void *b)
{
	const struct vms_top_task *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int by_pid_prev(const void *a, const void *b)
{
	const struct prev_task *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void cpu_split(const struct vms_cpu_times *a, const struct vms_cpu_times *b,
		      struct vms_top_cpu *out)
{
#define D(f) (b->f >= a->f ? (double)(b->f - a->f) : 0.0)
	double user = D(user), nice = D(nice), sys = D(system), idle = D(idle),
	       iow = D(iowait), irq = D(irq), sirq = D(softirq), steal = D(steal);
#undef D
	double sum = user + nice + sys + idle + iow + irq + sirq + steal;
	unsigned cpu = out->cpu;
	memset(out, 0, sizeof(*out));
	out->cpu = cpu;
	out->online = b->online;
	if (sum <= 0) {
		out->idle = 100;   /* no time passed (a paused guest) */
		return;
	}
	out->user = 100 * user / sum;
	out->nice = 100 * nice / sum;
	out->system = 100 * sys / sum;
	out->idle = 100 * idle / sum;
	out->iowait = 100 * iow / sum;
	out->irq = 100 * irq / sum;
	out->softirq = 100 * sirq / sum;
	out->steal = 100 * steal / sum;
}

static void read_cpus(struct vms_top *t)
{
	struct vms_top_snapshot *S = &t->snap;
	struct vms_cpu_times tot_a = { 0 }, tot_b = { 0 };
	for (unsigned c = 0; c < S->nr_cpus; c++) {
		struct vms_cpu_times now;
		struct vms_top_cpu *o = &S->cpus[c];
		memset(o, 0, sizeof(*o));
		o->cpu = c;
		if (!vms_ok(vms_linux_cpu_times(t->k, c, &now))) {
			memset(&now, 0, sizeof(now));
			now.cpu = c;
		}
		/* First refresh: the split since boot, as /proc/stat's totals. */
		struct vms_cpu_times zero = { .cpu = c };
		const struct vms_cpu_times *base = t->have_prev ? &t->prev_cpus[c] : &zero;
		cpu_split(base, &now, o);
		if (now.online) {
#define ADD(f) tot_a.f += base->f; tot_b.f += now.f
			ADD(user); ADD(nice); ADD(system); ADD(idle); ADD(iowait);
			ADD(irq); ADD(softirq); ADD(steal);
#undef ADD
		}
		t->prev_cpus[c] = now;
	}
	tot_b.online = true;
	cpu_split(&tot_a, &tot_b, &S->cpu_total);
}

/* xentop's columns for the domain; CPU% over the host's clock, as xentop. */
static void read_host_xen(struct vms_top *t, struct vms_top_host *H)
{
	struct vms_xen_vcpu *v = calloc(VMS_XEN_MAX_VCPUS, sizeof(*v));
	unsigned nv = 0;
	H->xen = true;
	H->pid = -1;
	struct vms_error *err = v ? vms_xen_host_domain(t->xen, t->opts.xen_domid, &H->xen_dom, v,
						       VMS_XEN_MAX_VCPUS, &nv) : &vms_error_nomem;
	if (err || H->xen_dom.dying) {
		H->gone = t->host_seen && (!err || err->code == VMS_ERR_NOT_FOUND);
		vms_error_free(err);
		free(v);
		return;
	}
	double wall = now_s(), dt = t->host_seen ? wall - t->prev_wall : 0;
	struct prev_thread *now = calloc(nv ? nv : 1, sizeof(*now));
	H->vcpus = calloc(nv ? nv : 1, sizeof(*H->vcpus));
	if (!now || !H->vcpus) {
		free(now);
		free(v);
		return;
	}
	H->present = true;
	H->rss_kb = H->xen_dom.mem_kb;
	H->cpu_percent = t->host_seen ? vms_xen_cpu_percent(t->prev_host_cpu, H->xen_dom.cpu_ns, dt) : 0;
	for (unsigned i = 0; i < nv; i++) {
		struct vms_top_vcpu *o = &H->vcpus[H->nr_vcpus++];
		now[i] = (struct prev_thread){ (int)v[i].vcpu, v[i].cpu_ns, 0 };
		o->vcpu = (int)v[i].vcpu;
		o->pcpu = v[i].pcpu;
		o->state = !v[i].online ? '-' : v[i].running ? 'r' : v[i].blocked ? 'b' : '-';
		for (size_t j = 0; j < t->nr_prev_threads; j++)
			if (t->prev_threads[j].tid == o->vcpu)
				o->cpu_percent = vms_xen_cpu_percent(t->prev_threads[j].cpu_ns,
								     v[i].cpu_ns, dt);
	}
	free(v);
	free(t->prev_threads);
	t->prev_threads = now;
	t->nr_prev_threads = nv;
	t->prev_wall = wall;
	t->prev_host_cpu = H->xen_dom.cpu_ns;
	t->host_seen = true;
}

static void read_host(struct vms_top *t)
{
	struct vms_top_host *H = &t->snap.host;
	free(H->vcpus);
	memset(H, 0, sizeof(*H));
	if (t->opts.xen) {
		read_host_xen(t, H);
		return;
	}
	if (!t->opts.host_pid)
		return;
	H->pid = t->opts.host_pid;
	struct vms_host_proc p;
	struct vms_error *err = vms_host_proc_read(t->opts.procfs, t->opts.host_pid, &p);
	if (err) {
		H->gone = t->host_seen && err->code == VMS_ERR_NOT_FOUND;
		vms_error_free(err);
		return;
	}
	double wall = now_s(), dt = t->host_seen ? wall - t->prev_wall : 0;
	uint64_t cpu = p.utime_ns + p.stime_ns;
	H->present = true;
	H->rss_kb = p.rss_kb;
	if (dt > 0 && cpu >= t->prev_host_cpu)
		H->cpu_percent = (cpu - t->prev_host_cpu) / 1e9 / dt * 100;
	struct prev_thread *now = calloc(p.nr_threads ? p.nr_threads : 1, sizeof(*now));
	H->vcpus = calloc(p.nr_vcpus ? p.nr_vcpus : 1, sizeof(*H->vcpus));
	if (!now || !H->vcpus) {
		free(now);
		vms_host_proc_free(&p);
		return;
	}
	for (size_t i = 0; i < p.nr_threads; i++) {
		const struct vms_host_thread *th = &p.threads[i];
		now[i].tid = th->tid;
		now[i].cpu_ns = th->utime_ns + th->stime_ns;
		now[i].wait_ns = th->wait_ns;
		if (th->vcpu < 0 || H->nr_vcpus >= p.nr_vcpus)
			continue;
		struct vms_top_vcpu *v = &H->vcpus[H->nr_vcpus++];
		v->vcpu = th->vcpu;
		v->tid = th->tid;
		v->state = th->state;
		v->pcpu = th->processor;
		for (size_t j = 0; dt > 0 && j < t->nr_prev_threads; j++) {
			const struct prev_thread *o = &t->prev_threads[j];
			if (o->tid != th->tid)
				continue;
			if (now[i].cpu_ns >= o->cpu_ns)
				v->cpu_percent = (now[i].cpu_ns - o->cpu_ns) / 1e9 / dt * 100;
			if (th->has_schedstat && now[i].wait_ns >= o->wait_ns)
				v->wait_percent = (now[i].wait_ns - o->wait_ns) / 1e9 / dt * 100;
			break;
		}
	}
	free(t->prev_threads);
	t->prev_threads = now;
	t->nr_prev_threads = p.nr_threads;
	t->prev_wall = wall;
	t->prev_host_cpu = cpu;
	t->host_seen = true;
	vms_host_proc_free(&p);
}

struct vms_error *vms_top_refresh(struct vms_top *t, const struct vms_top_snapshot **snap)
{
	struct vms_top_snapshot *S = &t->snap;
	struct vms_error *err;
	struct vms_sysstat sys;
	if ((err = vms_linux_sysstat(t->k, &sys)))
		return err;
	S->sys = sys;
	for (int i = 0; i < 3; i++)
		S->load[i] = sys.avenrun[i] / FIXED_1;
	S->has_mem = vms_ok(vms_linux_meminfo(t->k, &S->mem));
	read_cpus(t);

	/* Tasks. */
	t->nr_rows = 0;
	t->oom = false;
	struct vms_walk_result res;
	unsigned flags = VMS_TASKS_STATS | (t->opts.threads ? VMS_TASKS_THREADS : 0);
	if ((err = vms_linux_for_each_task(t->k, flags, collect, t, &res)))
		return err;
	S->truncated = res.truncated || t->oom;
	snprintf(S->reason, sizeof(S->reason), "%s",
		 t->oom ? "out of memory" : res.truncated ? res.reason : "");
	/* The walk reports a task once per address; a list read while it
	 * changed can still show a pid twice: keep the first. */
	qsort(t->rows, t->nr_rows, sizeof(*t->rows), by_pid_row);
	size_t n = 0;
	S->duplicates = 0;
	for (size_t i = 0; i < t->nr_rows; i++) {
		if (n && t->rows[n - 1].pid == t->rows[i].pid) {
			S->duplicates++;
			continue;
		}
		t->rows[n++] = t->rows[i];
	}
	/* Rates. */
	struct prev_task *now = calloc(n ? n : 1, sizeof(*now));
	if (!now)
		return &vms_error_nomem;
	uint64_t up = sys.uptime_ns;
	double dt = t->have_prev && up > t->prev_uptime ? (double)(up - t->prev_uptime) : 0;
	S->interval_s = dt / 1e9;
	unsigned ncpu = sys.nr_cpus_online ? sys.nr_cpus_online : 1;
	S->nr_tasks = (unsigned)n;
	S->nr_running = S->nr_sleeping = S->nr_stopped = S->nr_zombie = S->nr_idle = 0;
	for (size_t i = 0; i < n; i++) {
		struct vms_top_task *r = &t->rows[i];
		now[i] = (struct prev_task){ r->pid, r->start_time_ns, r->time_ns };
		struct prev_task key = { .pid = r->pid };
		const struct prev_task *o = t->nr_prev ?
			bsearch(&key, t->prev, t->nr_prev, sizeof(key), by_pid_prev) : NULL;
		double pct;
		bool known = o && o->start_time == r->start_time_ns && r->time_ns >= o->time_ns;
		if (known && dt > 0) {
			pct = (double)(r->time_ns - o->time_ns) / dt * 100;
		} else if (known) {
			pct = 0;   /* the guest's clock stood still: paused, no time to share */
		} else {
			/* New since the last refresh (or the first one): its
			 * lifetime average, as top shows a task it has not seen. */
			r->is_new = t->have_prev;
			double life = up > r->start_time_ns ? (double)(up - r->start_time_ns) : 0;
			pct = life > 0 ? (double)r->time_ns / life * 100 : 0;
		}
		/* A thread cannot use more than one CPU, a process more than all
		 * of them: beyond that the counters were read while changing. */
		double cap = t->opts.threads ? 100.0 : 100.0 * ncpu;
		if (pct > cap) {
			pct = cap;
			r->clamped = true;
		}
		r->cpu_percent = pct;
		switch (r->state) {
		case 'R': S->nr_running++; break;
		case 'T': case 't': S->nr_stopped++; break;
		case 'Z': S->nr_zombie++; break;
		case 'I': S->nr_idle++; break;
		default: S->nr_sleeping++; break;
		}
	}
	free(t->prev);
	t->prev = now;            /* rows are sorted by pid already */
	t->nr_prev = n;
	t->prev_uptime = up;
	t->have_prev = true;

	struct vms_top_task *rows = realloc(S->tasks, (n ? n : 1) * sizeof(*rows));
	if (!rows)
		return &vms_error_nomem;
	memcpy(rows, t->rows, n * sizeof(*rows));
	S->tasks = rows;
	S->nr_tasks_listed = n;
	read_host(t);
	*snap = S;
	return NULL;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return (a < b) - (a > b);
}

static int sort_cpu(const void *a, const void *b)
{
	const struct vms_top_task *x = a, *y = b;
	if (x->cpu_percent != y->cpu_percent)
		return x->cpu_percent < y->cpu_percent ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int sort_mem(const void *a, const void *b)
{
	const struct vms_top_task *x = a, *y = b;
	int c = cmp_u64_desc(x->rss_kb, y->rss_kb);
	return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

static int sort_time(const void *a, const void *b)
{
	const struct vms_top_task *x = a, *y = b;
	int c = cmp_u64_desc(x->time_ns, y->time_ns);
	return c ? c : (x->pid > y->pid) - (x->pid < y->pid);
}

void vms_top_sort(struct vms_top_task *tasks, size_t n, enum vms_top_sort key)
{
	int (*cmp)(const void *, const void *) =
		key == VMS_TOP_SORT_MEM ? sort_mem : key == VMS_TOP_SORT_TIME ? sort_time :
		key == VMS_TOP_SORT_PID ? by_pid_row : sort_cpu;
	qsort(tasks, n, sizeof(*tasks), cmp);
}
