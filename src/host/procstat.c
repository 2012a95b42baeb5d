// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A host process and its threads from procfs (proc(5)):
 *   PID/stat                  comm, state, utime, stime, starttime
 *   PID/status                VmRSS
 *   PID/cmdline               QEMU's -name
 *   PID/task/TID/stat         each thread's state, times, last CPU
 *   PID/task/TID/comm         its full name ("CPU 1/KVM": vCPU 1)
 *   PID/task/TID/schedstat    run and wait ns, timeslices (CONFIG_SCHED_INFO)
 * comm is in parentheses and may hold spaces and ')' itself, so the fields
 * start after the last ')'.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsight/host.h>

#include "host/host_priv.h"
#include "util/vec.h"

#define NS_PER_SEC 1000000000ULL

struct stat_fields {
	char comm[64];
	char state;
	int processor;           /* -1 when the line stops before field 39 */
	uint64_t utime, stime;   /* clock ticks */
	uint64_t starttime;
};

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;
	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

/* "PID (COMM) S ppid ..." -> @f; false when it is not that shape (the
 * fields up to starttime, 22, must be there). */
static bool parse_stat(const char *buf, struct stat_fields *f)
{
	const char *open = strchr(buf, '('), *close = strrchr(buf, ')');
	if (!open || !close || close < open)
		return false;
	size_t cl = (size_t)(close - open - 1);
	if (cl >= sizeof(f->comm))
		cl = sizeof(f->comm) - 1;
	memcpy(f->comm, open + 1, cl);
	f->comm[cl] = 0;
	f->processor = -1;
	const char *p = close + 1;
	unsigned field = 3;
	for (; field <= 39; field++) {
		while (*p == ' ')
			p++;
		size_t tl = strcspn(p, " \n");
		if (!tl)
			break;
		uint64_t v = 0;
		bool num = parse_u64(p, tl, &v);
		switch (field) {
		case 3:
			if (tl != 1)
				return false;
			f->state = p[0];
			break;
		case 14:
			if (!num)
				return false;
			f->utime = v;
			break;
		case 15:
			if (!num)
				return false;
			f->stime = v;
			break;
		case 22:
			if (!num)
				return false;
			f->starttime = v;
			break;
		case 39:
			if (num && v <= INT32_MAX)
				f->processor = (int)v;
			break;
		}
		p += tl;
	}
	return field > 22;
}

static uint64_t ticks_to_ns(uint64_t ticks, uint64_t hz)
{
	uint64_t s = ticks / hz, rem = ticks % hz;
	if (s > UINT64_MAX / NS_PER_SEC)
		return UINT64_MAX;
	uint64_t ns = s * NS_PER_SEC, frac = rem * NS_PER_SEC / hz;
	return ns > UINT64_MAX - frac ? UINT64_MAX : ns + frac;
}

static uint64_t clock_hz(void)
{
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? (uint64_t)hz : 100;
}

/* @dir/@name into @buf; false when it does not fit. */
static bool join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s/%s", dir, name);
	return n > 0 && (size_t)n < size;
}

/* A small text file of @dir, NULL when it does not read. */
static char *read_small(const char *dir, const char *name, size_t max)
{
	char path[HOST_MAX_PATH];
	size_t len;
	if (!join(path, sizeof(path), dir, name)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return vms_read_file(path, max, &len);
}

/* "CPU 3/KVM" -> 3; -1 for any other name. */
static int vcpu_of(const char *comm)
{
	if (strncmp(comm, "CPU ", 4) || !isdigit((unsigned char)comm[4]))
		return -1;
	long n = 0;
	const char *p = comm + 4;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > 1 << 20)
			return -1;
	}
	return *p == '/' ? (int)n : -1;
}

/* "RUN WAIT SLICES\n": exactly three decimal numbers. */
static bool parse_schedstat(const char *s, uint64_t v[3])
{
	for (int i = 0; i < 3; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		size_t l = strcspn(s, " \t\n");
		if (!parse_u64(s, l, &v[i]))
			return false;
		s += l;
	}
	return strspn(s, " \t\n") == strlen(s);
}

/* One thread in directory @tdir (PID/task/TID).  false when it is gone or
 * unreadable: a thread that exits while read is skipped. */
static bool read_thread(const char *tdir, int tid, uint64_t hz,
			struct vms_host_thread *t)
{
	memset(t, 0, sizeof(*t));
	char *buf = read_small(tdir, "stat", HOST_MAX_SMALL);
	struct stat_fields f = { 0 };
	bool ok = buf && parse_stat(buf, &f);
	free(buf);
	if (!ok)
		return false;
	t->tid = tid;
	t->state = f.state;
	t->processor = f.processor;
	t->utime_ns = ticks_to_ns(f.utime, hz);
	t->stime_ns = ticks_to_ns(f.stime, hz);
	snprintf(t->comm, sizeof(t->comm), "%s", f.comm);
	/* comm holds the name untruncated where stat's may be cut. */
	if ((buf = read_small(tdir, "comm", HOST_MAX_SMALL))) {
		size_t l = strlen(buf);
		if (l && buf[l - 1] == '\n')
			buf[--l] = 0;
		if (l)
			snprintf(t->comm, sizeof(t->comm), "%s", buf);
		free(buf);
	}
	t->vcpu = vcpu_of(t->comm);
	if ((buf = read_small(tdir, "schedstat", HOST_MAX_SMALL))) {
		uint64_t v[3];
		t->has_schedstat = parse_schedstat(buf, v);
		if (t->has_schedstat) {
			t->run_ns = v[0];
			t->wait_ns = v[1];
			t->timeslices = v[2];
		}
		free(buf);
	}
	return true;
}

static int cmp_tid(const void *a, const void *b)
{
	const struct vms_host_thread *x = a, *y = b;
	return (x->tid > y->tid) - (x->tid < y->tid);
}

static uint64_t vm_rss_kb(const char *pdir)
{
	char *buf = read_small(pdir, "status", HOST_MAX_STATUS);
	uint64_t kb = 0;
	if (!buf)
		return 0;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		unsigned long long v;
		if (!strncmp(line, "VmRSS:", 6) && sscanf(line + 6, "%llu", &v) == 1) {
			kb = v;
			break;
		}
		line = nl ? nl + 1 : NULL;
	}
	free(buf);
	return kb;
}

static struct vms_error *read_threads(const char *pdir, int pid, uint64_t hz,
				      struct vms_host_proc *out)
{
	char tasks[HOST_MAX_PATH];
	if (!join(tasks, sizeof(tasks), pdir, "task"))
		return vms_error_create(VMS_ERR_INVALID, "%s/task: path too long", pdir);
	DIR *d = opendir(tasks);
	if (!d) {
		struct stat st;
		if (errno == ENOENT && stat(pdir, &st) < 0)
			return vms_error_create(VMS_ERR_NOT_FOUND,
						"process %d: gone while read (%s)", pid, pdir);
		return NULL;  /* no thread list: the process alone */
	}
	size_t cap = 0, seen = 0;
	struct vms_error *err = NULL;
	for (struct dirent *de; (de = readdir(d)) && seen < HOST_MAX_ENTRIES; seen++) {
		int tid;
		if (!host_parse_pid(de->d_name, &tid))
			continue;
		if (out->nr_threads >= HOST_MAX_THREADS)
			break;
		char tdir[HOST_MAX_PATH];
		struct vms_host_thread t;
		if (!join(tdir, sizeof(tdir), tasks, de->d_name) ||
		    !read_thread(tdir, tid, hz, &t))
			continue;
		if (!vms_vec_append((void **)&out->threads, &out->nr_threads, &cap,
				    sizeof(t), &t)) {
			err = &vms_error_nomem;
			break;
		}
		if (t.vcpu >= 0)
			out->nr_vcpus++;
	}
	closedir(d);
	if (!err && out->nr_threads > 1)
		qsort(out->threads, out->nr_threads, sizeof(*out->threads), cmp_tid);
	return err;
}

struct vms_error *vms_host_proc_read(const char *procfs, int pid,
				     struct vms_host_proc *out)
{
	if (!out)
		return vms_error_create(VMS_ERR_INVALID, "vms_host_proc_read: no output");
	memset(out, 0, sizeof(*out));
	const char *root = host_procfs(procfs);
	if (pid <= 0)
		return vms_error_create(VMS_ERR_INVALID, "%d is not a process id", pid);
	char pdir[HOST_MAX_PATH];
	int n = snprintf(pdir, sizeof(pdir), "%s/%d", root, pid);
	if (n <= 0 || (size_t)n >= sizeof(pdir))
		return vms_error_create(VMS_ERR_INVALID, "%s: path too long", root);

	char *buf = read_small(pdir, "stat", HOST_MAX_SMALL);
	if (!buf) {
		if (errno == ENOENT || errno == ESRCH || errno == ENOTDIR)
			return vms_error_create(VMS_ERR_NOT_FOUND, "no process %d in %s",
						pid, root);
		return vms_error_create(VMS_ERR_IO, "cannot read %s/stat: %s", pdir,
					strerror(errno));
	}
	struct stat_fields f = { 0 };
	bool ok = parse_stat(buf, &f);
	free(buf);
	if (!ok)
		return vms_error_create(VMS_ERR_FORMAT,
			"%s/stat: not \"PID (COMM) STATE ...\" with 22 fields or more", pdir);

	uint64_t hz = clock_hz();
	out->pid = pid;
	snprintf(out->comm, sizeof(out->comm), "%s", f.comm);
	out->utime_ns = ticks_to_ns(f.utime, hz);
	out->stime_ns = ticks_to_ns(f.stime, hz);
	out->starttime_ns = ticks_to_ns(f.starttime, hz);
	out->rss_kb = vm_rss_kb(pdir);

	char path[HOST_MAX_PATH];
	size_t len = 0;
	char *cmd = join(path, sizeof(path), pdir, "cmdline")
		? vms_read_file(path, HOST_MAX_CMDLINE, &len) : NULL;
	if (cmd && host_is_qemu(root, pid, cmd, len)) {
		struct host_qemu_args *a = malloc(sizeof(*a));
		if (a) {
			host_qemu_args_parse(root, pid, cmd, len, a);
			host_copy(out->name, sizeof(out->name), a->name);
			free(a);
		}
	}
	free(cmd);

	struct vms_error *err = read_threads(pdir, pid, hz, out);
	if (err)
		vms_host_proc_free(out);
	return err;
}

void vms_host_proc_free(struct vms_host_proc *p)
{
	if (!p)
		return;
	free(p->threads);
	p->threads = NULL;
	p->nr_threads = 0;
	p->nr_vcpus = 0;
}
