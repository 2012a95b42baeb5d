// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A guest as Prometheus metrics: the schema of vmsight exporter's metrics
 * and one guest's collection (include/vmsight/guest_metrics.h).  Every
 * value a guest names goes through the label cleaning of vms_prom_add; a
 * walk that ends early on corrupt data says so in vmsight_guest_walk_truncated.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmsight/check.h>
#include <vmsight/ftrace.h>
#include <vmsight/guest_metrics.h>
#include <vmsight/host.h>
#include <vmsight/kernel.h>
#include <vmsight/linux.h>
#include <vmsight/source.h>
#include <vmsight/sysstat.h>
#include <vmsight/top.h>

#include "util/consume.h"

#define G VMS_PROM_GAUGE
#define C VMS_PROM_COUNTER

const struct vms_prom_family vms_guest_metric_families[VMS_M_NR_FAMILIES] = {
	[VMS_M_EXPORTER_GUESTS] = { "vmsight_exporter_guests", G, "Guests the exporter watches." },
	[VMS_M_EXPORTER_START] = { "vmsight_exporter_start_time_seconds", G,
			       "When the exporter started, seconds since the epoch." },
	[VMS_M_EXPORTER_REQUESTS] = { "vmsight_exporter_http_requests_total", C,
				  "HTTP requests answered, by status code." },
	[VMS_M_EXPORTER_DISCOVERY_RUNS] = { "vmsight_exporter_discovery_runs_total", C,
					"Scans of the host for QEMU guests (--discover)." },
	[VMS_M_EXPORTER_DISCOVERY_ERRORS] = { "vmsight_exporter_discovery_errors_total", C,
					  "Scans of the host that failed." },
	[VMS_M_PROCESS_CPU] = { "process_cpu_seconds_total", C,
			    "Total user and system CPU time spent in seconds." },
	[VMS_M_PROCESS_RSS] = { "process_resident_memory_bytes", G, "Resident memory size in bytes." },
	[VMS_M_PROCESS_VSZ] = { "process_virtual_memory_bytes", G, "Virtual memory size in bytes." },
	[VMS_M_PROCESS_FDS] = { "process_open_fds", G, "Number of open file descriptors." },
	[VMS_M_PROCESS_START] = { "process_start_time_seconds", G,
			      "Start time of the process since unix epoch in seconds." },
	[VMS_M_GUEST_UP] = { "vmsight_guest_up", G,
			 "1 if the guest's kernel was found and its last collection succeeded in time." },
	[VMS_M_GUEST_SCRAPE_ERROR] = { "vmsight_guest_scrape_error", G,
				   "1 if the guest could not be read (garbage memory, gone, timed out)." },
	[VMS_M_SCRAPE_DURATION] = { "vmsight_scrape_duration_seconds", G,
				"How long the guest's last collection took." },
	[VMS_M_SCRAPE_SUCCESS] = { "vmsight_scrape_success", G,
			       "1 if the guest's last collection succeeded (and is not overdue)." },
	[VMS_M_GUEST_DISCOVERY] = { "vmsight_guest_discovery_seconds", G,
				"How long opening the guest and discovering its kernel took (last attempt)." },
	[VMS_M_GUEST_LAST_COLLECTION] = { "vmsight_guest_last_collection_timestamp_seconds", G,
				      "When the guest was last read successfully, seconds since the epoch." },
	[VMS_M_GUEST_COLLECTIONS] = { "vmsight_guest_collections_total", C,
				  "Collections of the guest attempted." },
	[VMS_M_GUEST_COLLECTION_ERRORS] = { "vmsight_guest_collection_errors_total", C,
					"Collections (or discoveries) of the guest that failed." },
	[VMS_M_GUEST_TIMEOUTS] = { "vmsight_guest_collection_timeouts_total", C,
			       "Collections that ran past --scrape.timeout." },
	[VMS_M_GUEST_WARNINGS] = { "vmsight_guest_warnings_total", C,
			       "Warnings while reading the guest (corrupt or torn structures)." },
	[VMS_M_GUEST_SAMPLES_DROPPED] = { "vmsight_guest_samples_dropped", G,
				      "Samples of the last collection left out because the guest's metric text was full." },
	[VMS_M_SCRAPE_COLLECTOR_SUCCESS] = { "vmsight_scrape_collector_success", G,
					 "1 if the collector succeeded in the guest's last collection." },
	[VMS_M_SCRAPE_COLLECTOR_DURATION] = { "vmsight_scrape_collector_duration_seconds", G,
					  "How long the collector took in the guest's last collection." },
	[VMS_M_GUEST_INFO] = { "vmsight_guest_info", G, "A watched guest and the source spec it is read from, value 1." },
	[VMS_M_GUEST_KERNEL_INFO] = { "vmsight_guest_kernel_info", G,
				  "The guest kernel's release (init_uts_ns), value 1." },
	[VMS_M_GUEST_UPTIME] = { "vmsight_guest_uptime_seconds", G, "Guest uptime, as its /proc/uptime." },
	[VMS_M_GUEST_PROCESSES] = { "vmsight_guest_processes", G,
				"Processes by state (ps letters) and kind (user, kernel threads)." },
	[VMS_M_GUEST_THREADS] = { "vmsight_guest_threads", G, "Threads by state and kind." },
	[VMS_M_GUEST_NR_RUNNING] = { "vmsight_guest_nr_running", G,
				 "Runnable tasks, the sum of the runqueues (as /proc/loadavg's 4th field)." },
	[VMS_M_GUEST_CPUS_ONLINE] = { "vmsight_guest_cpus_online", G, "Online guest CPUs." },
	[VMS_M_GUEST_CPU_NR_RUNNING] = { "vmsight_guest_cpu_nr_running", G,
				     "rq->nr_running of each guest CPU." },
	[VMS_M_GUEST_LOAD1] = { "vmsight_guest_load1", G, "1m load average." },
	[VMS_M_GUEST_LOAD5] = { "vmsight_guest_load5", G, "5m load average." },
	[VMS_M_GUEST_LOAD15] = { "vmsight_guest_load15", G, "15m load average." },
	[VMS_M_GUEST_MEM_TOTAL] = { "vmsight_guest_memory_total_bytes", G, "MemTotal of /proc/meminfo." },
	[VMS_M_GUEST_MEM_FREE] = { "vmsight_guest_memory_free_bytes", G, "MemFree of /proc/meminfo." },
	[VMS_M_GUEST_MEM_AVAILABLE] = { "vmsight_guest_memory_available_bytes", G,
				    "MemAvailable of /proc/meminfo." },
	[VMS_M_GUEST_MEM_CACHED] = { "vmsight_guest_memory_cached_bytes", G, "Cached of /proc/meminfo." },
	[VMS_M_GUEST_MEM_BUFFERS] = { "vmsight_guest_memory_buffers_bytes", G, "Buffers of /proc/meminfo." },
	[VMS_M_GUEST_MEM_SHMEM] = { "vmsight_guest_memory_shmem_bytes", G, "Shmem of /proc/meminfo." },
	[VMS_M_GUEST_MEM_SRECLAIMABLE] = { "vmsight_guest_memory_sreclaimable_bytes", G,
				       "SReclaimable of /proc/meminfo." },
	[VMS_M_GUEST_SWAP_TOTAL] = { "vmsight_guest_swap_total_bytes", G, "SwapTotal of /proc/meminfo." },
	[VMS_M_GUEST_SWAP_FREE] = { "vmsight_guest_swap_free_bytes", G, "SwapFree of /proc/meminfo." },
	[VMS_M_GUEST_CPU_SECONDS] = { "vmsight_guest_cpu_seconds_total", C,
				  "Seconds each guest CPU spent in each mode (/proc/stat)." },
	[VMS_M_GUEST_CPU_GUEST_SECONDS] = { "vmsight_guest_cpu_guest_seconds_total", C,
					"Seconds each guest CPU spent running its own guests (also counted in user and nice)." },
	[VMS_M_GUEST_MODULES] = { "vmsight_guest_modules", G, "Loaded kernel modules (the modules list)." },
	[VMS_M_GUEST_WALK_TRUNCATED] = { "vmsight_guest_walk_truncated", G,
				     "1 if a walk of guest structures ended early on corrupt data." },
	[VMS_M_GUEST_PROCESS_CPU] = { "vmsight_guest_process_cpu_ratio", G,
				  "CPU used by the busiest processes since the previous collection, 1 = one CPU (top N only)." },
	[VMS_M_GUEST_QEMU_CPU] = { "vmsight_guest_qemu_cpu_ratio", G,
			       "Host CPU used by the guest's QEMU process, 1 = one host CPU." },
	[VMS_M_GUEST_QEMU_RSS] = { "vmsight_guest_qemu_resident_memory_bytes", G,
			       "Resident memory of the guest's QEMU process on the host." },
	[VMS_M_GUEST_VCPU_CPU] = { "vmsight_guest_vcpu_cpu_ratio", G,
			       "Host CPU used by each vCPU thread, 1 = one host CPU." },
	[VMS_M_GUEST_VCPU_WAIT] = { "vmsight_guest_vcpu_wait_ratio", G,
				"Share of time each vCPU thread was runnable but waiting for a host CPU." },
	[VMS_M_GUEST_FTRACE_RECORDING] = { "vmsight_guest_ftrace_recording", G,
				       "1 if the guest's global ftrace buffer records (tracing_on)." },
	[VMS_M_GUEST_FTRACE_INFO] = { "vmsight_guest_ftrace_info", G, "The guest's current tracer, value 1." },
	[VMS_M_GUEST_FTRACE_ENTRIES] = { "vmsight_guest_ftrace_entries", G,
				     "Events in each CPU's ftrace buffer." },
	[VMS_M_GUEST_FTRACE_OVERRUN] = { "vmsight_guest_ftrace_overrun_total", C,
				     "Events each CPU's ftrace buffer overwrote." },
	[VMS_M_CHECK_FINDINGS] = { "vmsight_check_findings", G,
			       "Findings of each rootkit check in its last run (0 for a check that ran clean)." },
	[VMS_M_CHECK_LAST_RUN] = { "vmsight_check_last_run_timestamp_seconds", G,
			       "When the rootkit checks last ran, seconds since the epoch." },
	[VMS_M_CHECK_DURATION] = { "vmsight_check_duration_seconds", G, "How long the last check run took." },
	[VMS_M_CHECK_SKIPPED] = { "vmsight_check_skipped", G,
			      "Checks that could not run on this kernel in the last run." },
};

#undef G
#undef C


struct check_cache {
	bool valid;
	double when, duration;
	unsigned skipped;
	bool truncated;
	size_t n;
	struct { const char *check; unsigned findings; } v[32];
};

struct vms_guest_metrics {
	struct vms_guest_metrics_options o;
	struct vms_source *src;
	struct vms_kernel *k;
	struct vms_top *top;
	dev_t dev;
	ino_t ino;
	bool is_file;
	char file[4200];
	struct check_cache checks;
	/* the collection being built */
	struct vms_prom_set *set;
	const char *label;
	bool emit_error_said;
};

static double now_mono(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double now_wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

void vms_guest_metrics_close(struct vms_guest_metrics *gm)
{
	if (!gm)
		return;
	vms_top_free(gm->top);
	vms_kernel_close(gm->k);
	vms_source_close(gm->src);
	free(gm);
}

/* The path behind a spec that names a file (else ""). */
static void spec_file(const char *spec, char *out, size_t size)
{
	out[0] = '\0';
	if (!strncmp(spec, "file:", 5)) {
		snprintf(out, size, "%s", spec + 5);
		return;
	}
	static const char *const kinds[] = { "qemu:", "qmp:", "libvirt:", "xen:" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strncmp(spec, kinds[i], strlen(kinds[i])))
			return;
	snprintf(out, size, "%s", spec);
}

struct vms_error *vms_guest_metrics_open(const char *spec,
					 const struct vms_guest_metrics_options *o,
					 struct vms_guest_metrics **ret)
{
	struct vms_guest_metrics *gm = calloc(1, sizeof(*gm));
	if (!gm)
		return &vms_error_nomem;
	gm->o = *o;
	spec_file(spec, gm->file, sizeof(gm->file));
	struct stat st;
	gm->is_file = gm->file[0] && !stat(gm->file, &st);
	if (gm->is_file) {
		gm->dev = st.st_dev;
		gm->ino = st.st_ino;
	}
	struct vms_error *err = vms_source_open(spec, &gm->src);
	if (!err) {
		struct vms_kernel_options ko = { .log = o->log, .log_arg = o->log_arg };
		err = vms_kernel_open(gm->src, &ko, &gm->k);
	}
	if (!err) {
		struct vms_top_options to = { .host_pid = o->host_pid };
		err = vms_top_new(gm->k, &to, &gm->top);
	}
	if (err) {
		vms_guest_metrics_close(gm);
		return err;
	}
	*ret = gm;
	return NULL;
}

const struct vms_kernel_info *vms_guest_metrics_kernel(const struct vms_guest_metrics *gm)
{
	return vms_kernel_info(gm->k);
}

/* Is the source still there?  A RAM file stays mapped after it is deleted
 * or its QEMU exits: check the name and the process. */
const char *vms_guest_metrics_vanished(const struct vms_guest_metrics *r)
{
	if (r->is_file) {
		struct stat st;
		if (stat(r->file, &st))
			return "its RAM file was removed";
		if (st.st_dev != r->dev || st.st_ino != r->ino)
			return "its RAM file was replaced";
	}
	if (r->o.host_pid) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d", r->o.host_pid);
		if (access(p, F_OK))
			return "its QEMU process exited";
	}
	return NULL;
}

/* ---- emitting samples (the guest label first) ---- */

static void emit(struct vms_guest_metrics *r, size_t fam, double v, size_t n, ...)
{
	struct vms_prom_label l[8] = { { "guest", r->label } };
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n && i < 7; i++) {
		l[i + 1].name = va_arg(ap, const char *);
		l[i + 1].value = va_arg(ap, const char *);
	}
	va_end(ap);
	/* Label names are ours: an error is a bug, said once per run. */
	struct vms_error *err = vms_prom_add(r->set, fam, l, n + 1, v);
	if (err) {
		if (!r->emit_error_said)
			vms_kernel_log(r->k, VMS_LOG_INFO, "internal error: %s", err->message);
		r->emit_error_said = true;
		vms_error_free(err);
	}
}

static void collector(struct vms_guest_metrics *r, const char *name, bool ok, double t0)
{
	emit(r, VMS_M_SCRAPE_COLLECTOR_SUCCESS, ok, 1, "collector", name);
	emit(r, VMS_M_SCRAPE_COLLECTOR_DURATION, now_mono() - t0, 1, "collector", name);
}

static const char states[] = "RSDTtXZPI";

static int state_index(char c)
{
	const char *p = c ? strchr(states, c) : NULL;
	return p ? (int)(p - states) : (int)sizeof(states) - 1;  /* last: "other" */
}

static void emit_states(struct vms_guest_metrics *r, size_t fam, unsigned counts[2][sizeof(states)])
{
	for (int kind = 0; kind < 2; kind++)
		for (size_t s = 0; s < sizeof(states); s++) {
			char st[8];
			if (s < sizeof(states) - 1)
				snprintf(st, sizeof(st), "%c", states[s]);
			else
				snprintf(st, sizeof(st), "other");
			emit(r, fam, counts[kind][s], 2, "kind", kind ? "kernel" : "user", "state", st);
		}
}

struct thread_count {
	unsigned c[2][sizeof(states)];
};

static int count_thread(const struct vms_task *t, void *arg)
{
	struct thread_count *tc = arg;
	tc->c[t->kthread][state_index(t->state)]++;
	return 0;
}

struct rq_count {
	struct vms_guest_metrics *r;
	unsigned n;
};

static int on_rq(const struct vms_runqueue *rq, void *arg)
{
	struct rq_count *c = arg;
	char cpu[16];
	snprintf(cpu, sizeof(cpu), "%u", rq->cpu);
	if (!rq->nr_running_absurd)
		emit(c->r, VMS_M_GUEST_CPU_NR_RUNNING, rq->nr_running, 1, "cpu", cpu);
	c->n++;
	return c->n > 8192;
}

static int count_module(const struct vms_module *m, void *arg)
{
	(void)m;
	(*(size_t *)arg)++;
	return 0;
}

/* ---- rootkit checks (their own schedule, results kept between) ---- */

static const struct {
	unsigned bit;
	const char *names[2];
} check_groups[] = {
	{ VMS_CHECK_SYSCALLS, { "syscall-table", "x64_sys_call" } },
	{ VMS_CHECK_FTRACE, { "ftrace", NULL } },
	{ VMS_CHECK_KPROBES, { "kprobe", NULL } },
	{ VMS_CHECK_IDT, { "idt", NULL } },
	{ VMS_CHECK_MODULES, { "hidden-module", NULL } },
	{ VMS_CHECK_TASKS, { "hidden-process", "hiding-mark" } },
	{ VMS_CHECK_LISTS, { "list-integrity", NULL } },
};

static void check_count(struct check_cache *c, const char *check, unsigned add)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].check, check)) {
			c->v[i].findings += add;
			return;
		}
	if (c->n < sizeof(c->v) / sizeof(c->v[0])) {
		c->v[c->n].check = check;   /* the library's constant strings */
		c->v[c->n++].findings = add;
	}
}

static int on_finding(const struct vms_finding *f, void *arg)
{
	check_count(arg, f->check, 1);
	return 0;
}

bool vms_guest_metrics_run_checks(struct vms_guest_metrics *r)
{
	struct check_cache c = { 0 };
	double t0 = now_mono();
	bool ok = true;
	uint64_t a;
	bool has_dispatch = vms_ok(vms_kernel_symbol(r->k, "x64_sys_call", &a));
	for (size_t i = 0; i < sizeof(check_groups) / sizeof(check_groups[0]); i++) {
		struct vms_check_result res;
		struct vms_error *err = vms_check_run(r->k, check_groups[i].bit, on_finding, &c, &res);
		if (err) {
			ok = false;
			vms_kernel_log(r->k, VMS_LOG_INFO, "check: %s", err->message);
			vms_error_free(err);
			continue;
		}
		c.skipped += res.checks_skipped;
		c.truncated |= res.truncated;
		/* A check that ran says 0 when it found nothing. */
		if (res.checks_run)
			for (size_t j = 0; j < 2; j++)
				if (check_groups[i].names[j] &&
				    (strcmp(check_groups[i].names[j], "x64_sys_call") || has_dispatch))
					check_count(&c, check_groups[i].names[j], 0);
	}
	c.valid = ok || c.n;
	c.when = now_wall();
	c.duration = now_mono() - t0;
	r->checks = c;
	return ok;
}

static void emit_checks(struct vms_guest_metrics *r)
{
	const struct check_cache *c = &r->checks;
	if (!c->valid)
		return;
	for (size_t i = 0; i < c->n; i++)
		emit(r, VMS_M_CHECK_FINDINGS, c->v[i].findings, 1, "check", c->v[i].check);
	emit(r, VMS_M_CHECK_LAST_RUN, c->when, 0);
	emit(r, VMS_M_CHECK_DURATION, c->duration, 0);
	emit(r, VMS_M_CHECK_SKIPPED, c->skipped, 0);
	emit(r, VMS_M_GUEST_WALK_TRUNCATED, c->truncated, 1, "walk", "check");
}

/* ---- one collection ---- */

static int by_cpu_desc(const void *a, const void *b)
{
	const struct vms_top_task *x = a, *y = b;
	if (x->cpu_percent != y->cpu_percent)
		return x->cpu_percent < y->cpu_percent ? 1 : -1;
	/* Equal (an idle or paused guest): the most CPU time so far. */
	if (x->time_ns != y->time_ns)
		return x->time_ns < y->time_ns ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct vms_error *collect(struct vms_guest_metrics *r)
{
	struct vms_kernel *k = r->k;
	const struct vms_kernel_info *ki = vms_kernel_info(k);
	double t0 = now_mono();
	const struct vms_top_snapshot *s = NULL;
	struct vms_error *err = vms_top_refresh(r->top, &s);
	if (err) {
		struct vms_error *e = vms_error_create(err->code, "reading its tasks failed: %s",
						       err->message);
		vms_error_free(err);
		return e;
	}
	collector(r, "top", true, t0);
	emit(r, VMS_M_GUEST_KERNEL_INFO, 1, 1, "release", ki->release);
	emit(r, VMS_M_GUEST_UPTIME, s->sys.uptime_ns / 1e9, 0);
	emit(r, VMS_M_GUEST_NR_RUNNING, s->sys.nr_running, 0);
	emit(r, VMS_M_GUEST_CPUS_ONLINE, s->sys.nr_cpus_online, 0);
	emit(r, VMS_M_GUEST_LOAD1, s->load[0], 0);
	emit(r, VMS_M_GUEST_LOAD5, s->load[1], 0);
	emit(r, VMS_M_GUEST_LOAD15, s->load[2], 0);
	if (s->has_mem) {
		const struct vms_meminfo *m = &s->mem;
		emit(r, VMS_M_GUEST_MEM_TOTAL, m->total * 1024.0, 0);
		emit(r, VMS_M_GUEST_MEM_FREE, m->free * 1024.0, 0);
		emit(r, VMS_M_GUEST_MEM_AVAILABLE, m->available * 1024.0, 0);
		emit(r, VMS_M_GUEST_MEM_CACHED, m->cached * 1024.0, 0);
		if (m->has_buffers)
			emit(r, VMS_M_GUEST_MEM_BUFFERS, m->buffers * 1024.0, 0);
		emit(r, VMS_M_GUEST_MEM_SHMEM, m->shmem * 1024.0, 0);
		emit(r, VMS_M_GUEST_MEM_SRECLAIMABLE, m->sreclaimable * 1024.0, 0);
		emit(r, VMS_M_GUEST_SWAP_TOTAL, m->swap_total * 1024.0, 0);
		emit(r, VMS_M_GUEST_SWAP_FREE, m->swap_free * 1024.0, 0);
	}
	/* Processes by state and kind, from the rows top read. */
	unsigned pc[2][sizeof(states)] = { { 0 } };
	for (size_t i = 0; i < s->nr_tasks_listed; i++)
		pc[s->tasks[i].kthread][state_index(s->tasks[i].state)]++;
	emit_states(r, VMS_M_GUEST_PROCESSES, pc);
	emit(r, VMS_M_GUEST_WALK_TRUNCATED, s->truncated, 1, "walk", "tasks");
	/* The busiest processes (bounded cardinality: top N). */
	size_t n = s->nr_tasks_listed;
	if (r->o.top && n) {
		struct vms_top_task *t = malloc(n * sizeof(*t));
		if (t) {
			memcpy(t, s->tasks, n * sizeof(*t));
			qsort(t, n, sizeof(*t), by_cpu_desc);
			for (size_t i = 0; i < n && i < r->o.top; i++) {
				char pid[16];
				snprintf(pid, sizeof(pid), "%d", t[i].pid);
				emit(r, VMS_M_GUEST_PROCESS_CPU, t[i].cpu_percent / 100.0, 2, "pid", pid,
				     "comm", t[i].comm);
			}
			free(t);
		}
	}
	/* The host side. */
	if (s->host.present && !s->host.gone) {
		emit(r, VMS_M_GUEST_QEMU_CPU, s->host.cpu_percent / 100.0, 0);
		emit(r, VMS_M_GUEST_QEMU_RSS, s->host.rss_kb * 1024.0, 0);
		for (size_t i = 0; i < s->host.nr_vcpus && i < 1024; i++) {
			char v[16];
			snprintf(v, sizeof(v), "%d", s->host.vcpus[i].vcpu);
			emit(r, VMS_M_GUEST_VCPU_CPU, s->host.vcpus[i].cpu_percent / 100.0, 1, "vcpu", v);
			emit(r, VMS_M_GUEST_VCPU_WAIT, s->host.vcpus[i].wait_percent / 100.0, 1, "vcpu", v);
		}
	}

	/* Threads by state: a walk of its own (no per-task statistics). */
	double t1 = now_mono();
	struct thread_count tc = { { { 0 } } };
	struct vms_walk_result wr;
	err = vms_linux_for_each_task(k, VMS_TASKS_THREADS, count_thread, &tc, &wr);
	if (!err) {
		emit_states(r, VMS_M_GUEST_THREADS, tc.c);
		emit(r, VMS_M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "threads");
	}
	collector(r, "threads", vms_ok(err), t1);

	/* Per-CPU /proc/stat counters. */
	t1 = now_mono();
	unsigned ncpu = s->sys.nr_cpu_ids ? s->sys.nr_cpu_ids : ki->nr_cpu_ids;
	if (ncpu > 8192)
		ncpu = 8192;
	bool cpu_ok = true;
	for (unsigned c = 0; c < ncpu; c++) {
		struct vms_cpu_times ct;
		if (!vms_ok(vms_linux_cpu_times(k, c, &ct))) {
			cpu_ok = false;
			continue;
		}
		if (!ct.online)
			continue;
		char cpu[16];
		snprintf(cpu, sizeof(cpu), "%u", c);
		static const char *const modes[] = { "user", "nice", "system", "idle", "iowait",
						     "irq", "softirq", "steal" };
		const uint64_t v[] = { ct.user, ct.nice, ct.system, ct.idle, ct.iowait, ct.irq,
				       ct.softirq, ct.steal };
		for (size_t m = 0; m < 8; m++)
			emit(r, VMS_M_GUEST_CPU_SECONDS, v[m] / 1e9, 2, "cpu", cpu, "mode", modes[m]);
		emit(r, VMS_M_GUEST_CPU_GUEST_SECONDS, ct.guest / 1e9, 2, "cpu", cpu, "mode", "user");
		emit(r, VMS_M_GUEST_CPU_GUEST_SECONDS, ct.guest_nice / 1e9, 2, "cpu", cpu, "mode", "nice");
	}
	collector(r, "cpu", cpu_ok, t1);

	/* Runqueues: nr_running per CPU. */
	t1 = now_mono();
	struct rq_count rc = { r, 0 };
	err = vms_linux_for_each_runqueue(k, on_rq, NULL, &rc, &wr);
	if (!err)
		emit(r, VMS_M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "runqueues");
	collector(r, "runqueues", vms_ok(err), t1);

	/* Modules. */
	t1 = now_mono();
	size_t nmod = 0;
	err = vms_linux_for_each_module(k, count_module, &nmod, &wr);
	if (!err) {
		emit(r, VMS_M_GUEST_MODULES, (double)nmod, 0);
		emit(r, VMS_M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "modules");
	}
	collector(r, "modules", vms_ok(err), t1);

	/* ftrace: the control words and per-CPU counters only. */
	t1 = now_mono();
	struct vms_ftrace ft;
	memset(&ft, 0, sizeof(ft));
	err = vms_ftrace_status(k, NULL, &ft);
	if (!err) {
		emit(r, VMS_M_GUEST_FTRACE_RECORDING, ft.recording, 0);
		emit(r, VMS_M_GUEST_FTRACE_INFO, 1, 1, "tracer", ft.tracer);
		for (size_t i = 0; i < ft.nr_cpus && i < 8192; i++) {
			char cpu[16];
			snprintf(cpu, sizeof(cpu), "%u", ft.cpus[i].cpu);
			emit(r, VMS_M_GUEST_FTRACE_ENTRIES, (double)ft.cpus[i].entries, 1, "cpu", cpu);
			emit(r, VMS_M_GUEST_FTRACE_OVERRUN, (double)ft.cpus[i].overrun, 1, "cpu", cpu);
		}
		vms_ftrace_free(&ft);
	}
	collector(r, "ftrace", vms_ok(err), t1);
	emit_checks(r);
	return NULL;
}

struct vms_error *vms_guest_metrics_collect(struct vms_guest_metrics *gm, const char *label,
					    struct vms_prom_set *set)
{
	gm->set = set;
	gm->label = label;
	struct vms_error *err = collect(gm);
	gm->set = NULL;
	gm->label = NULL;
	return err;
}

