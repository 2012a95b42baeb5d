// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight exporter: one collector thread per guest.  Each opens its guest
 * (source + kernel discovery), then every collection interval reads it
 * (vms_top for tasks, load, memory and the host side; the thread walk; the
 * per-CPU /proc/stat counters and runqueues; modules; ftrace's control
 * words; the rootkit checks on their slower schedule) into a new metric
 * set, and swaps it in for the scrapes.  A scrape never reads guest memory:
 * a slow or hostile guest delays only its own thread.  Everything a guest
 * names goes through the library's label cleaning (vms_prom_add).
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
#include <vmsight/host.h>
#include <vmsight/kernel.h>
#include <vmsight/linux.h>
#include <vmsight/source.h>
#include <vmsight/sysstat.h>
#include <vmsight/top.h>

#include "exporter.h"
#include "util/consume.h"

#define G VMS_PROM_GAUGE
#define C VMS_PROM_COUNTER

const struct vms_prom_family exp_families[M_NR_FAMILIES] = {
	[M_EXPORTER_GUESTS] = { "vmsight_exporter_guests", G, "Guests the exporter watches." },
	[M_EXPORTER_START] = { "vmsight_exporter_start_time_seconds", G,
			       "When the exporter started, seconds since the epoch." },
	[M_EXPORTER_REQUESTS] = { "vmsight_exporter_http_requests_total", C,
				  "HTTP requests answered, by status code." },
	[M_EXPORTER_DISCOVERY_RUNS] = { "vmsight_exporter_discovery_runs_total", C,
					"Scans of the host for QEMU guests (--discover)." },
	[M_EXPORTER_DISCOVERY_ERRORS] = { "vmsight_exporter_discovery_errors_total", C,
					  "Scans of the host that failed." },
	[M_PROCESS_CPU] = { "process_cpu_seconds_total", C,
			    "Total user and system CPU time spent in seconds." },
	[M_PROCESS_RSS] = { "process_resident_memory_bytes", G, "Resident memory size in bytes." },
	[M_PROCESS_VSZ] = { "process_virtual_memory_bytes", G, "Virtual memory size in bytes." },
	[M_PROCESS_FDS] = { "process_open_fds", G, "Number of open file descriptors." },
	[M_PROCESS_START] = { "process_start_time_seconds", G,
			      "Start time of the process since unix epoch in seconds." },
	[M_GUEST_UP] = { "vmsight_guest_up", G,
			 "1 if the guest's kernel was found and its last collection succeeded in time." },
	[M_GUEST_SCRAPE_ERROR] = { "vmsight_guest_scrape_error", G,
				   "1 if the guest could not be read (garbage memory, gone, timed out)." },
	[M_SCRAPE_DURATION] = { "vmsight_scrape_duration_seconds", G,
				"How long the guest's last collection took." },
	[M_SCRAPE_SUCCESS] = { "vmsight_scrape_success", G,
			       "1 if the guest's last collection succeeded (and is not overdue)." },
	[M_GUEST_DISCOVERY] = { "vmsight_guest_discovery_seconds", G,
				"How long opening the guest and discovering its kernel took (last attempt)." },
	[M_GUEST_LAST_COLLECTION] = { "vmsight_guest_last_collection_timestamp_seconds", G,
				      "When the guest was last read successfully, seconds since the epoch." },
	[M_GUEST_COLLECTIONS] = { "vmsight_guest_collections_total", C,
				  "Collections of the guest attempted." },
	[M_GUEST_COLLECTION_ERRORS] = { "vmsight_guest_collection_errors_total", C,
					"Collections (or discoveries) of the guest that failed." },
	[M_GUEST_TIMEOUTS] = { "vmsight_guest_collection_timeouts_total", C,
			       "Collections that ran past --scrape.timeout." },
	[M_GUEST_WARNINGS] = { "vmsight_guest_warnings_total", C,
			       "Warnings while reading the guest (corrupt or torn structures)." },
	[M_GUEST_SAMPLES_DROPPED] = { "vmsight_guest_samples_dropped", G,
				      "Samples of the last collection left out because the guest's metric text was full." },
	[M_SCRAPE_COLLECTOR_SUCCESS] = { "vmsight_scrape_collector_success", G,
					 "1 if the collector succeeded in the guest's last collection." },
	[M_SCRAPE_COLLECTOR_DURATION] = { "vmsight_scrape_collector_duration_seconds", G,
					  "How long the collector took in the guest's last collection." },
	[M_GUEST_INFO] = { "vmsight_guest_info", G, "A watched guest and the source spec it is read from, value 1." },
	[M_GUEST_KERNEL_INFO] = { "vmsight_guest_kernel_info", G,
				  "The guest kernel's release (init_uts_ns), value 1." },
	[M_GUEST_UPTIME] = { "vmsight_guest_uptime_seconds", G, "Guest uptime, as its /proc/uptime." },
	[M_GUEST_PROCESSES] = { "vmsight_guest_processes", G,
				"Processes by state (ps letters) and kind (user, kernel threads)." },
	[M_GUEST_THREADS] = { "vmsight_guest_threads", G, "Threads by state and kind." },
	[M_GUEST_NR_RUNNING] = { "vmsight_guest_nr_running", G,
				 "Runnable tasks, the sum of the runqueues (as /proc/loadavg's 4th field)." },
	[M_GUEST_CPUS_ONLINE] = { "vmsight_guest_cpus_online", G, "Online guest CPUs." },
	[M_GUEST_CPU_NR_RUNNING] = { "vmsight_guest_cpu_nr_running", G,
				     "rq->nr_running of each guest CPU." },
	[M_GUEST_LOAD1] = { "vmsight_guest_load1", G, "1m load average." },
	[M_GUEST_LOAD5] = { "vmsight_guest_load5", G, "5m load average." },
	[M_GUEST_LOAD15] = { "vmsight_guest_load15", G, "15m load average." },
	[M_GUEST_MEM_TOTAL] = { "vmsight_guest_memory_total_bytes", G, "MemTotal of /proc/meminfo." },
	[M_GUEST_MEM_FREE] = { "vmsight_guest_memory_free_bytes", G, "MemFree of /proc/meminfo." },
	[M_GUEST_MEM_AVAILABLE] = { "vmsight_guest_memory_available_bytes", G,
				    "MemAvailable of /proc/meminfo." },
	[M_GUEST_MEM_CACHED] = { "vmsight_guest_memory_cached_bytes", G, "Cached of /proc/meminfo." },
	[M_GUEST_MEM_BUFFERS] = { "vmsight_guest_memory_buffers_bytes", G, "Buffers of /proc/meminfo." },
	[M_GUEST_MEM_SHMEM] = { "vmsight_guest_memory_shmem_bytes", G, "Shmem of /proc/meminfo." },
	[M_GUEST_MEM_SRECLAIMABLE] = { "vmsight_guest_memory_sreclaimable_bytes", G,
				       "SReclaimable of /proc/meminfo." },
	[M_GUEST_SWAP_TOTAL] = { "vmsight_guest_swap_total_bytes", G, "SwapTotal of /proc/meminfo." },
	[M_GUEST_SWAP_FREE] = { "vmsight_guest_swap_free_bytes", G, "SwapFree of /proc/meminfo." },
	[M_GUEST_CPU_SECONDS] = { "vmsight_guest_cpu_seconds_total", C,
				  "Seconds each guest CPU spent in each mode (/proc/stat)." },
	[M_GUEST_CPU_GUEST_SECONDS] = { "vmsight_guest_cpu_guest_seconds_total", C,
					"Seconds each guest CPU spent running its own guests (also counted in user and nice)." },
	[M_GUEST_MODULES] = { "vmsight_guest_modules", G, "Loaded kernel modules (the modules list)." },
	[M_GUEST_WALK_TRUNCATED] = { "vmsight_guest_walk_truncated", G,
				     "1 if a walk of guest structures ended early on corrupt data." },
	[M_GUEST_PROCESS_CPU] = { "vmsight_guest_process_cpu_ratio", G,
				  "CPU used by the busiest processes since the previous collection, 1 = one CPU (top N only)." },
	[M_GUEST_QEMU_CPU] = { "vmsight_guest_qemu_cpu_ratio", G,
			       "Host CPU used by the guest's QEMU process, 1 = one host CPU." },
	[M_GUEST_QEMU_RSS] = { "vmsight_guest_qemu_resident_memory_bytes", G,
			       "Resident memory of the guest's QEMU process on the host." },
	[M_GUEST_VCPU_CPU] = { "vmsight_guest_vcpu_cpu_ratio", G,
			       "Host CPU used by each vCPU thread, 1 = one host CPU." },
	[M_GUEST_VCPU_WAIT] = { "vmsight_guest_vcpu_wait_ratio", G,
				"Share of time each vCPU thread was runnable but waiting for a host CPU." },
	[M_GUEST_FTRACE_RECORDING] = { "vmsight_guest_ftrace_recording", G,
				       "1 if the guest's global ftrace buffer records (tracing_on)." },
	[M_GUEST_FTRACE_INFO] = { "vmsight_guest_ftrace_info", G, "The guest's current tracer, value 1." },
	[M_GUEST_FTRACE_ENTRIES] = { "vmsight_guest_ftrace_entries", G,
				     "Events in each CPU's ftrace buffer." },
	[M_GUEST_FTRACE_OVERRUN] = { "vmsight_guest_ftrace_overrun_total", C,
				     "Events each CPU's ftrace buffer overwrote." },
	[M_CHECK_FINDINGS] = { "vmsight_check_findings", G,
			       "Findings of each rootkit check in its last run (0 for a check that ran clean)." },
	[M_CHECK_LAST_RUN] = { "vmsight_check_last_run_timestamp_seconds", G,
			       "When the rootkit checks last ran, seconds since the epoch." },
	[M_CHECK_DURATION] = { "vmsight_check_duration_seconds", G, "How long the last check run took." },
	[M_CHECK_SKIPPED] = { "vmsight_check_skipped", G,
			      "Checks that could not run on this kernel in the last run." },
};

#undef G
#undef C

double exp_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

double exp_wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- references ---- */

void exp_snap_put(struct exp_guest *g, struct exp_snap *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&g->lock);
	int r = --s->refs;
	pthread_mutex_unlock(&g->lock);
	if (!r) {
		vms_prom_set_free(s->set);
		free(s);
	}
}

void exp_guest_put(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	int r = --g->refs;
	struct exp_snap *s = r ? NULL : g->snap;
	if (!r)
		g->snap = NULL;
	pthread_mutex_unlock(&g->lock);
	if (r)
		return;
	exp_snap_put(g, s);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->wake);
	free(g);
}

void exp_guest_stop(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->wake);
	pthread_mutex_unlock(&g->lock);
	exp_guest_put(g);
}

/* ---- one guest's reading state (the thread's own) ---- */

struct check_cache {
	bool valid;
	double when, duration;
	unsigned skipped;
	bool truncated;
	size_t n;
	struct { const char *check; unsigned findings; } v[32];
};

struct reader {
	struct exp_guest *g;
	struct vms_source *src;
	struct vms_kernel *k;
	struct vms_top *top;
	dev_t dev;
	ino_t ino;
	bool is_file;
	char file[4200];
	unsigned failures;            /* consecutive */
	double next_check;
	struct check_cache checks;
	/* the collection being built */
	struct vms_prom_set *set;
};

static void log_cb(void *arg, enum vms_log_level level, const char *msg)
{
	struct reader *r = arg;
	if (level == VMS_LOG_WARN) {
		pthread_mutex_lock(&r->g->lock);
		r->g->warnings++;
		pthread_mutex_unlock(&r->g->lock);
	}
	if (r->g->cfg->verbose > (level == VMS_LOG_WARN ? 0 : 1))
		fprintf(stderr, "%s: %s: %s%s\n", r->g->app->prog, r->g->label,
			level == VMS_LOG_WARN ? "warning: " : "", msg);
}

static void set_error(struct exp_guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct exp_guest *g, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&g->lock);
	bool changed = strcmp(g->error, msg) != 0;
	snprintf(g->error, sizeof(g->error), "%s", msg);
	pthread_mutex_unlock(&g->lock);
	/* Say it once, not at every retry. */
	if (changed)
		fprintf(stderr, "%s: %s: %s\n", g->app->prog, g->label, msg);
}

static void reader_close(struct reader *r)
{
	vms_top_free(r->top);
	vms_kernel_close(r->k);
	vms_source_close(r->src);
	r->top = NULL;
	r->k = NULL;
	r->src = NULL;
	r->checks.valid = false;
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

static bool reader_open(struct reader *r)
{
	struct exp_guest *g = r->g;
	double t0 = exp_now();
	spec_file(g->spec, r->file, sizeof(r->file));
	struct stat st;
	r->is_file = r->file[0] && !stat(r->file, &st);
	if (r->is_file) {
		r->dev = st.st_dev;
		r->ino = st.st_ino;
	}
	struct vms_error *err = vms_source_open(g->spec, &r->src);
	if (!err) {
		struct vms_kernel_options o = { .log = log_cb, .log_arg = r };
		err = vms_kernel_open(r->src, &o, &r->k);
	}
	if (!err) {
		struct vms_top_options to = { .host_pid = g->host_pid };
		err = vms_top_new(r->k, &to, &r->top);
	}
	double secs = exp_now() - t0;
	pthread_mutex_lock(&g->lock);
	g->discovery_seconds = secs;
	g->open = !err;
	g->vanished = false;
	pthread_mutex_unlock(&g->lock);
	if (err) {
		set_error(g, "cannot be read: %s", err->message);
		vms_error_free(err);
		reader_close(r);
		return false;
	}
	if (g->cfg->verbose)
		fprintf(stderr, "%s: %s: kernel %s found in %.2f s\n", g->app->prog, g->label,
			vms_kernel_info(r->k)->release, secs);
	pthread_mutex_lock(&g->lock);
	g->error[0] = '\0';
	pthread_mutex_unlock(&g->lock);
	r->next_check = 0;
	return true;
}

/* Is the source still there?  A RAM file stays mapped after it is deleted
 * or its QEMU exits: check the name and the process. */
static const char *vanished(struct reader *r)
{
	if (r->is_file) {
		struct stat st;
		if (stat(r->file, &st))
			return "its RAM file was removed";
		if (st.st_dev != r->dev || st.st_ino != r->ino)
			return "its RAM file was replaced";
	}
	if (r->g->host_pid) {
		char p[64];
		snprintf(p, sizeof(p), "/proc/%d", r->g->host_pid);
		if (access(p, F_OK))
			return "its QEMU process exited";
	}
	return NULL;
}

/* ---- emitting samples (the guest label first) ---- */

static void emit(struct reader *r, size_t fam, double v, size_t n, ...)
{
	struct vms_prom_label l[8] = { { "guest", r->g->label } };
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
		fprintf(stderr, "%s: internal error: %s\n", r->g->app->prog, err->message);
		vms_error_free(err);
	}
}

static void collector(struct reader *r, const char *name, bool ok, double t0)
{
	emit(r, M_SCRAPE_COLLECTOR_SUCCESS, ok, 1, "collector", name);
	emit(r, M_SCRAPE_COLLECTOR_DURATION, exp_now() - t0, 1, "collector", name);
}

static const char states[] = "RSDTtXZPI";

static int state_index(char c)
{
	const char *p = c ? strchr(states, c) : NULL;
	return p ? (int)(p - states) : (int)sizeof(states) - 1;  /* last: "other" */
}

static void emit_states(struct reader *r, size_t fam, unsigned counts[2][sizeof(states)])
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
	struct reader *r;
	unsigned n;
};

static int on_rq(const struct vms_runqueue *rq, void *arg)
{
	struct rq_count *c = arg;
	char cpu[16];
	snprintf(cpu, sizeof(cpu), "%u", rq->cpu);
	if (!rq->nr_running_absurd)
		emit(c->r, M_GUEST_CPU_NR_RUNNING, rq->nr_running, 1, "cpu", cpu);
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

static bool run_checks(struct reader *r)
{
	struct check_cache c = { 0 };
	double t0 = exp_now();
	bool ok = true;
	uint64_t a;
	bool has_dispatch = vms_ok(vms_kernel_symbol(r->k, "x64_sys_call", &a));
	for (size_t i = 0; i < sizeof(check_groups) / sizeof(check_groups[0]); i++) {
		struct vms_check_result res;
		struct vms_error *err = vms_check_run(r->k, check_groups[i].bit, on_finding, &c, &res);
		if (err) {
			ok = false;
			if (r->g->cfg->verbose)
				fprintf(stderr, "%s: %s: check: %s\n", r->g->app->prog, r->g->label,
					err->message);
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
	c.when = exp_wall();
	c.duration = exp_now() - t0;
	r->checks = c;
	return ok;
}

static void emit_checks(struct reader *r)
{
	const struct check_cache *c = &r->checks;
	if (!c->valid)
		return;
	for (size_t i = 0; i < c->n; i++)
		emit(r, M_CHECK_FINDINGS, c->v[i].findings, 1, "check", c->v[i].check);
	emit(r, M_CHECK_LAST_RUN, c->when, 0);
	emit(r, M_CHECK_DURATION, c->duration, 0);
	emit(r, M_CHECK_SKIPPED, c->skipped, 0);
	emit(r, M_GUEST_WALK_TRUNCATED, c->truncated, 1, "walk", "check");
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

/* Fill r->set; false when the guest could not be read at all. */
static bool collect(struct reader *r)
{
	struct vms_kernel *k = r->k;
	const struct vms_kernel_info *ki = vms_kernel_info(k);
	double t0 = exp_now();
	const struct vms_top_snapshot *s = NULL;
	struct vms_error *err = vms_top_refresh(r->top, &s);
	if (err) {
		set_error(r->g, "reading its tasks failed: %s", err->message);
		vms_error_free(err);
		return false;
	}
	collector(r, "top", true, t0);
	emit(r, M_GUEST_KERNEL_INFO, 1, 1, "release", ki->release);
	emit(r, M_GUEST_UPTIME, s->sys.uptime_ns / 1e9, 0);
	emit(r, M_GUEST_NR_RUNNING, s->sys.nr_running, 0);
	emit(r, M_GUEST_CPUS_ONLINE, s->sys.nr_cpus_online, 0);
	emit(r, M_GUEST_LOAD1, s->load[0], 0);
	emit(r, M_GUEST_LOAD5, s->load[1], 0);
	emit(r, M_GUEST_LOAD15, s->load[2], 0);
	if (s->has_mem) {
		const struct vms_meminfo *m = &s->mem;
		emit(r, M_GUEST_MEM_TOTAL, m->total * 1024.0, 0);
		emit(r, M_GUEST_MEM_FREE, m->free * 1024.0, 0);
		emit(r, M_GUEST_MEM_AVAILABLE, m->available * 1024.0, 0);
		emit(r, M_GUEST_MEM_CACHED, m->cached * 1024.0, 0);
		if (m->has_buffers)
			emit(r, M_GUEST_MEM_BUFFERS, m->buffers * 1024.0, 0);
		emit(r, M_GUEST_MEM_SHMEM, m->shmem * 1024.0, 0);
		emit(r, M_GUEST_MEM_SRECLAIMABLE, m->sreclaimable * 1024.0, 0);
		emit(r, M_GUEST_SWAP_TOTAL, m->swap_total * 1024.0, 0);
		emit(r, M_GUEST_SWAP_FREE, m->swap_free * 1024.0, 0);
	}
	/* Processes by state and kind, from the rows top read. */
	unsigned pc[2][sizeof(states)] = { { 0 } };
	for (size_t i = 0; i < s->nr_tasks_listed; i++)
		pc[s->tasks[i].kthread][state_index(s->tasks[i].state)]++;
	emit_states(r, M_GUEST_PROCESSES, pc);
	emit(r, M_GUEST_WALK_TRUNCATED, s->truncated, 1, "walk", "tasks");
	/* The busiest processes (bounded cardinality: top N). */
	size_t n = s->nr_tasks_listed;
	if (r->g->cfg->top && n) {
		struct vms_top_task *t = malloc(n * sizeof(*t));
		if (t) {
			memcpy(t, s->tasks, n * sizeof(*t));
			qsort(t, n, sizeof(*t), by_cpu_desc);
			for (size_t i = 0; i < n && i < r->g->cfg->top; i++) {
				char pid[16];
				snprintf(pid, sizeof(pid), "%d", t[i].pid);
				emit(r, M_GUEST_PROCESS_CPU, t[i].cpu_percent / 100.0, 2, "pid", pid,
				     "comm", t[i].comm);
			}
			free(t);
		}
	}
	/* The host side. */
	if (s->host.present && !s->host.gone) {
		emit(r, M_GUEST_QEMU_CPU, s->host.cpu_percent / 100.0, 0);
		emit(r, M_GUEST_QEMU_RSS, s->host.rss_kb * 1024.0, 0);
		for (size_t i = 0; i < s->host.nr_vcpus && i < 1024; i++) {
			char v[16];
			snprintf(v, sizeof(v), "%d", s->host.vcpus[i].vcpu);
			emit(r, M_GUEST_VCPU_CPU, s->host.vcpus[i].cpu_percent / 100.0, 1, "vcpu", v);
			emit(r, M_GUEST_VCPU_WAIT, s->host.vcpus[i].wait_percent / 100.0, 1, "vcpu", v);
		}
	}

	/* Threads by state: a walk of its own (no per-task statistics). */
	double t1 = exp_now();
	struct thread_count tc = { { { 0 } } };
	struct vms_walk_result wr;
	err = vms_linux_for_each_task(k, VMS_TASKS_THREADS, count_thread, &tc, &wr);
	if (!err) {
		emit_states(r, M_GUEST_THREADS, tc.c);
		emit(r, M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "threads");
	}
	collector(r, "threads", vms_ok(err), t1);

	/* Per-CPU /proc/stat counters. */
	t1 = exp_now();
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
			emit(r, M_GUEST_CPU_SECONDS, v[m] / 1e9, 2, "cpu", cpu, "mode", modes[m]);
		emit(r, M_GUEST_CPU_GUEST_SECONDS, ct.guest / 1e9, 2, "cpu", cpu, "mode", "user");
		emit(r, M_GUEST_CPU_GUEST_SECONDS, ct.guest_nice / 1e9, 2, "cpu", cpu, "mode", "nice");
	}
	collector(r, "cpu", cpu_ok, t1);

	/* Runqueues: nr_running per CPU. */
	t1 = exp_now();
	struct rq_count rc = { r, 0 };
	err = vms_linux_for_each_runqueue(k, on_rq, NULL, &rc, &wr);
	if (!err)
		emit(r, M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "runqueues");
	collector(r, "runqueues", vms_ok(err), t1);

	/* Modules. */
	t1 = exp_now();
	size_t nmod = 0;
	err = vms_linux_for_each_module(k, count_module, &nmod, &wr);
	if (!err) {
		emit(r, M_GUEST_MODULES, (double)nmod, 0);
		emit(r, M_GUEST_WALK_TRUNCATED, wr.truncated, 1, "walk", "modules");
	}
	collector(r, "modules", vms_ok(err), t1);

	/* ftrace: the control words and per-CPU counters only. */
	t1 = exp_now();
	struct vms_ftrace ft;
	memset(&ft, 0, sizeof(ft));
	err = vms_ftrace_status(k, NULL, &ft);
	if (!err) {
		emit(r, M_GUEST_FTRACE_RECORDING, ft.recording, 0);
		emit(r, M_GUEST_FTRACE_INFO, 1, 1, "tracer", ft.tracer);
		for (size_t i = 0; i < ft.nr_cpus && i < 8192; i++) {
			char cpu[16];
			snprintf(cpu, sizeof(cpu), "%u", ft.cpus[i].cpu);
			emit(r, M_GUEST_FTRACE_ENTRIES, (double)ft.cpus[i].entries, 1, "cpu", cpu);
			emit(r, M_GUEST_FTRACE_OVERRUN, (double)ft.cpus[i].overrun, 1, "cpu", cpu);
		}
		vms_ftrace_free(&ft);
	}
	collector(r, "ftrace", vms_ok(err), t1);
	emit_checks(r);
	return true;
}

/* ---- the thread ---- */

/* Wait until @until (monotonic) or a stop request; true to go on. */
static bool wait_until(struct exp_guest *g, double until)
{
	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		double left = until - exp_now();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double secs = ts.tv_sec + ts.tv_nsec / 1e9 + left;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	bool go = !g->stop;
	pthread_mutex_unlock(&g->lock);
	return go;
}

/* Publish @set (NULL: the guest is down) as the guest's snapshot. */
static void publish(struct exp_guest *g, struct vms_prom_set *set, bool ok, double t0)
{
	struct exp_snap *ns = NULL;
	if (set) {
		ns = malloc(sizeof(*ns));
		if (ns) {
			ns->refs = 1;
			ns->set = set;
		} else {
			vms_prom_set_free(set);
			ok = false;
		}
	}
	pthread_mutex_lock(&g->lock);
	struct exp_snap *old = g->snap;
	g->snap = ns;
	g->up = ok;
	g->busy_since = 0;
	g->last_duration = exp_now() - t0;
	g->collections++;
	if (g->last_duration > g->cfg->scrape_timeout)
		g->timeouts++;
	if (ok)
		g->last_success = exp_wall();
	else
		g->errors++;
	g->dropped = ns ? vms_prom_set_dropped(ns->set) : 0;
	pthread_mutex_unlock(&g->lock);
	exp_snap_put(g, old);
}

static bool stopping(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	bool s = g->stop;
	pthread_mutex_unlock(&g->lock);
	return s;
}

static void *guest_thread(void *arg)
{
	struct exp_guest *g = arg;
	struct reader r = { .g = g };
	const struct exp_settings *cfg = g->cfg;
	while (!stopping(g)) {
		double t0 = exp_now();
		pthread_mutex_lock(&g->lock);
		g->busy_since = t0;
		pthread_mutex_unlock(&g->lock);
		const char *gone = r.k ? vanished(&r) : NULL;
		if (gone) {
			set_error(g, "%s; retried until it is back", gone);
			reader_close(&r);
			pthread_mutex_lock(&g->lock);
			g->open = false;
			g->vanished = true;
			pthread_mutex_unlock(&g->lock);
		} else if (!r.k) {
			if (reader_open(&r))
				r.failures = 0;
			else
				r.failures++;
		}
		bool ok = false, again = false;
		struct vms_prom_set *set = NULL;
		if (r.k && vms_ok(vms_prom_set_new(exp_families, M_NR_FAMILIES, EXP_SET_BYTES, 0,
						   &set))) {
			r.set = set;
			ok = collect(&r);
			r.set = NULL;
			if (ok) {
				r.failures = 0;
			} else if (++r.failures >= 3) {
				/* Three failed reads: rediscover (the guest may have
				 * rebooted: its memory is not what it was). */
				reader_close(&r);
				pthread_mutex_lock(&g->lock);
				g->open = false;
				pthread_mutex_unlock(&g->lock);
			}
		}
		if (!ok) {
			vms_prom_set_free(set);
			set = NULL;
		}
		publish(g, set, ok, t0);
		if (ok && cfg->check_interval > 0 && exp_now() >= r.next_check) {
			/* Once the fast figures are out (and not in their
			 * duration); a snapshot with the results follows right
			 * away.  A check run that hangs times out as a collection. */
			pthread_mutex_lock(&g->lock);
			g->busy_since = exp_now();
			pthread_mutex_unlock(&g->lock);
			run_checks(&r);
			r.next_check = exp_now() + cfg->check_interval;
			again = true;
		}
		/* A guest that cannot be read (yet) costs a discovery at each
		 * attempt: back off, up to 5 minutes apart. */
		double next = t0 + cfg->collect_interval;
		if (!r.k) {
			unsigned f = r.failures < 7 ? r.failures : 7;
			double d = cfg->collect_interval * (double)(1u << f);
			next = t0 + (d < 300 ? d : (cfg->collect_interval > 300 ? cfg->collect_interval : 300));
		}
		if (!wait_until(g, again ? 0 : next))
			break;
	}
	reader_close(&r);
	struct exp_app *a = g->app;
	exp_guest_put(g);
	pthread_mutex_lock(&a->lock);
	a->threads--;
	pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

bool exp_guest_start(struct exp_guest *g)
{
	pthread_attr_t at;
	pthread_t th;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	g->refs = 2;
	g->app->threads++;      /* the caller holds the app's lock */
	int e = pthread_create(&th, &at, guest_thread, g);
	pthread_attr_destroy(&at);
	if (e) {
		g->refs = 1;
		g->app->threads--;
		return false;
	}
	return true;
}
