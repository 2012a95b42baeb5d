// SPDX-License-Identifier: LGPL-2.1-or-later
/* The host's view of QEMU processes (include/vmsight/host.h): a fabricated
 * procfs tree with several QEMUs (command lines in QEMU's option syntax,
 * libvirt's JSON, odd and truncated content) and other processes, then the
 * host's real /proc for this very process and a thread it names as a vCPU. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmsight/host.h>

#include "check.h"

static char tmp[256];   /* the temp dir; the fake procfs is tmp/proc */
static char proc[300];
static uint64_t hz;

static uint64_t ns(uint64_t ticks)
{
	return ticks / hz * 1000000000ULL + ticks % hz * 1000000000ULL / hz;
}

static void die(const char *what) __attribute__((noreturn));
static void die(const char *what)
{
	printf("FAIL setup: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void mkdirs(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirs(const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			die(path);
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		die(path);
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		die(path);
	close(fd);
}

/* File @rel of the fake procfs (or of tmp when @rel starts with "/") */
static void putf(const char *rel, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(const char *rel, const char *fmt, ...)
{
	char path[1024], data[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(data, sizeof(data), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", rel[0] == '/' ? tmp : proc,
		 rel[0] == '/' ? rel + 1 : rel);
	put(path, data, (size_t)n);
}

static void link_at(const char *target, const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	if (symlink(target, path) < 0)
		die(path);
}

/* A command line from NULL-terminated words: "TMP" in a word becomes the
 * temp dir.  Each word ends in NUL, as the kernel writes argv. */
static void cmdline(int pid, const char *const *argv)
{
	char buf[16384], path[512];
	size_t n = 0;
	for (; *argv; argv++) {
		const char *w = *argv, *t;
		while ((t = strstr(w, "TMP"))) {
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%.*s%s",
					      (int)(t - w), w, tmp);
			w = t + 3;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", w) + 1;
	}
	snprintf(path, sizeof(path), "%s/%d/cmdline", proc, pid);
	put(path, buf, n);
}

/* A stat line of 52 fields: fields 14, 15, 22, 39 as given, the rest
 * plausible (negative ones too). */
static void stat_file(const char *rel, int pid, const char *comm, char state,
		      uint64_t utime, uint64_t stime, uint64_t start, int cpu)
{
	char buf[2048];
	int n = snprintf(buf, sizeof(buf), "%d (%s) %c", pid, comm, state);
	for (int f = 4; f <= 52; f++) {
		long long v = f == 14 ? (long long)utime : f == 15 ? (long long)stime
			    : f == 22 ? (long long)start : f == 39 ? cpu
			    : f == 8 ? -1 : f == 18 ? 20 : f;
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %lld", v);
	}
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "\n");
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", proc, rel);
	put(path, buf, (size_t)n);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void build_tree(void)
{
	snprintf(proc, sizeof(proc), "%s/proc", tmp);
	mkdirs("%s", proc);
	putf("/ram-a", "ram");
	putf("/ivshmem", "shm");
	char p[512];
	snprintf(p, sizeof(p), "%s/ram-link", tmp);
	if (symlink("ram-a", p) < 0)
		die(p);
	mkdirs("%s/cwd-d", tmp);
	putf("/cwd-d/ram-d", "ram");

	/* 100: a QEMU with a comm of spaces and parentheses, four threads. */
	mkdirs("%s/100/task/100", proc);
	mkdirs("%s/100/task/101", proc);
	mkdirs("%s/100/task/102", proc);
	mkdirs("%s/100/task/103", proc);
	mkdirs("%s/100/task/104", proc);   /* gone: no stat */
	mkdirs("%s/100/task/abc", proc);
	cmdline(100, (const char *const[]){
		"/usr/bin/qemu-system-x86_64", "-nographic", "-name",
		"guest=web,,1,debug-threads=on", "-machine", "pc", "-m", "512",
		"-object", "memory-backend-file,id=other,size=1M,mem-path=TMP/ivshmem,share=on",
		"-device", "ivshmem-plain,memdev=other",
		"-object", "memory-backend-file,id=mem,size=512M,mem-path=TMP/ram-a,share=on",
		"-machine", "memory-backend=mem",
		"-qmp", "unix:TMP/qmp-a.sock,server=on,wait=off", NULL });
	stat_file("100/stat", 100, "qemu (x) ) y", 'S', 250, 50, 12345, 3);
	putf("100/status", "Name:\tqemu (x) ) y\nState:\tS (sleeping)\nVmPeak:\t  999 kB\n"
	     "VmRSS:\t  524288 kB\nThreads:\t4\n");
	stat_file("100/task/100/stat", 100, "qemu (x) ) y", 'S', 20, 30, 12345, 0);
	putf("100/task/100/comm", "qemu-system-x86\n");
	putf("100/task/100/schedstat", "5000 6000 7\n");
	stat_file("100/task/101/stat", 101, "CPU 0/TCG", 'R', 200, 10, 12350, 2);
	putf("100/task/101/comm", "CPU 0/TCG\n");
	putf("100/task/101/schedstat", "123456789 2000 42\n");
	stat_file("100/task/102/stat", 102, "CPU 1/TC", 'S', 30, 5, 12351, 1);
	putf("100/task/102/comm", "CPU 1/TCG\n");
	stat_file("100/task/103/stat", 103, "worker) (", 'D', 0, 1, 12360, 5);
	putf("100/task/103/schedstat", "1 2\n");

	/* 200: a QMP socket through -chardev + -mon, RAM file not shared. */
	mkdirs("%s/200/task/200", proc);
	cmdline(200, (const char *const[]){
		"qemu-system-aarch64", "-name", "vm2",
		"-object", "memory-backend-file,id=m,size=64M,mem-path=TMP/ram-b",
		"-machine", "virt,memory-backend=m",
		"-chardev", "socket,id=hmp,path=TMP/hmp.sock,server,nowait", "-mon", "hmp",
		"-chardev", "socket,id=mon0,path=TMP/qmp-b.sock,server=on,wait=off",
		"-mon", "chardev=mon0,mode=control", NULL });
	putf("200/stat", "200 (qemu-system-aar) R 1 2 3 4 5 6 7 8 9 10 7 8 13 14 15 16 17 18 99\n");
	putf("200/task/200/stat", "200 (qemu-system-aar) R 1 2 3 4 5 6 7 8 9 10 7 8 13 14 "
	     "15 16 17 18 99 20 21 22 23 24 25\n");

	/* 300: QEMU by /proc/PID/exe only; no QMP it serves, no shared RAM. */
	mkdirs("%s/300", proc);
	cmdline(300, (const char *const[]){
		"/opt/wrapper/qemu", "-nographic",
		"-qmp", "unix:TMP/qmp-c.sock", "-qmp", "tcp:localhost:4444,server=on",
		"-monitor", "unix:TMP/hmp-c.sock,server,nowait",
		"-object", "memory-backend-file,id=x,mem-path=TMP/ram-c,share=off", NULL });
	link_at("/usr/bin/qemu-system-x86_64 (deleted)", "300/exe");

	/* 400: libvirt's style: JSON -object, relative mem-path, fd monitor. */
	mkdirs("%s/400", proc);
	char cwd[512];
	snprintf(cwd, sizeof(cwd), "%s/cwd-d", tmp);
	link_at(cwd, "400/cwd");
	cmdline(400, (const char *const[]){
		"/usr/bin/qemu-system-x86_64", "-name", "guest=dom,debug-threads=on", "-S",
		"-object", "{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\","
		"\"mem-path\":\"ram-d\",\"share\":true,\"size\":1073741824}",
		"-machine", "pc-q35-8.2,usb=off,memory-backend=pc.ram",
		"-chardev", "socket,id=charmonitor,fd=31,server=on,wait=off",
		"-mon", "chardev=charmonitor,id=monitor,mode=control", NULL });

	/* 450: no backend named: the shared file no -device uses. */
	mkdirs("%s/450", proc);
	cmdline(450, (const char *const[]){
		"qemu-system-x86_64", "-m", "1G", "-name", "a,,b",
		"-object", "memory-backend-file,id=pmem0,share=on,mem-path=TMP/pmem",
		"-device", "{\"driver\":\"nvdimm\",\"memdev\":\"pmem0\",\"id\":\"nv0\"}",
		"-object", "memory-backend-file,id=ram0,share=on,mem-path=TMP/ram-,,e",
		"-qmp", "unix:TMP/qmp,,e.sock,server,nowait", NULL });

	/* 460: RAM over two NUMA backends is not one file. */
	mkdirs("%s/460", proc);
	cmdline(460, (const char *const[]){
		"qemu-system-x86_64",
		"-object", "memory-backend-file,id=r0,share=on,mem-path=TMP/r0",
		"-object", "memory-backend-file,id=r1,share=on,mem-path=TMP/r1",
		"-numa", "node,nodeid=0,memdev=r0", "-numa", "node,nodeid=1,memdev=r1", NULL });

	/* 250: not QEMU, even with QEMU-looking words. */
	mkdirs("%s/250", proc);
	cmdline(250, (const char *const[]){
		"/usr/bin/python3", "qemu-system-x86_64", "-name", "fake", NULL });
	link_at("/usr/bin/python3.11", "250/exe");
	stat_file("250/stat", 250, "python3", 'S', 1, 1, 1, 0);

	/* 500: odd content: no parentheses in stat, options without values,
	 * a last word without its NUL. */
	mkdirs("%s/500", proc);
	static const char odd[] = "qemu-system-x86_64\0-object\0memory-backend-file,share=on\0"
				  "-qmp\0unix:\0-mon\0,,,\0-name";
	char path[1024];
	snprintf(path, sizeof(path), "%s/500/cmdline", proc);
	put(path, odd, sizeof(odd) - 1);
	putf("500/stat", "500 garbage no parens\n");

	/* 600: gone (an empty directory); 700: a kernel thread (no cmdline,
	 * no exe); 0100: not a pid; self: not a pid. */
	mkdirs("%s/600", proc);
	mkdirs("%s/700", proc);
	putf("700/cmdline", "%s", "");
	mkdirs("%s/0100", proc);
	putf("0100/cmdline", "qemu-system-x86_64");
	link_at("100", "self");

	/* 800: a command line over the cap; its -name is cut off and dropped. */
	mkdirs("%s/800", proc);
	size_t big = (2u << 20) + 100;
	char *b = malloc(big);
	if (!b)
		die("malloc");
	memcpy(b, "qemu-system-x86_64\0-name\0", 25);
	memset(b + 25, 'A', big - 26);
	b[big - 1] = 0;
	snprintf(path, sizeof(path), "%s/800/cmdline", proc);
	put(path, b, big);
	free(b);
}

static void test_proc_read(void)
{
	struct vms_host_proc p;
	struct vms_error *err = vms_host_proc_read(proc, 100, &p);
	CHECKD(!err, "proc 100: reads", "%s", err ? err->message : "");
	if (err) {
		vms_error_free(err);
		return;
	}
	CHECK(p.pid == 100, "proc 100: pid");
	CHECKD(!strcmp(p.comm, "qemu (x) ) y"), "proc 100: comm with spaces and ')' (last ')')",
	       "comm '%s'", p.comm);
	CHECKD(!strcmp(p.name, "web,1"), "proc 100: -name guest=web,,1 is 'web,1'",
	       "name '%s'", p.name);
	CHECKD(p.utime_ns == ns(250) && p.stime_ns == ns(50), "proc 100: utime, stime in ns",
	       "utime %llu stime %llu", (unsigned long long)p.utime_ns,
	       (unsigned long long)p.stime_ns);
	CHECK(p.starttime_ns == ns(12345), "proc 100: starttime in ns");
	CHECKD(p.rss_kb == 524288, "proc 100: VmRSS", "rss %llu", (unsigned long long)p.rss_kb);
	CHECKD(p.nr_threads == 4, "proc 100: four threads (gone and non-numeric skipped)",
	       "%zu threads", p.nr_threads);
	CHECKD(p.nr_vcpus == 2, "proc 100: two vCPUs", "%zu vcpus", p.nr_vcpus);
	if (p.nr_threads == 4) {
		struct vms_host_thread *t = p.threads;
		CHECK(t[0].tid == 100 && t[1].tid == 101 && t[2].tid == 102 && t[3].tid == 103,
		      "proc 100: threads sorted by tid");
		CHECK(!strcmp(t[0].comm, "qemu-system-x86") && t[0].vcpu == -1,
		      "thread 100: main thread, not a vCPU");
		CHECK(t[0].has_schedstat && t[0].run_ns == 5000 && t[0].wait_ns == 6000 &&
		      t[0].timeslices == 7, "thread 100: schedstat");
		CHECKD(!strcmp(t[1].comm, "CPU 0/TCG") && t[1].vcpu == 0,
		       "thread 101: 'CPU 0/TCG' is vCPU 0", "comm '%s' vcpu %d", t[1].comm,
		       t[1].vcpu);
		CHECK(t[1].state == 'R' && t[1].processor == 2, "thread 101: state, processor");
		CHECK(t[1].utime_ns == ns(200) && t[1].stime_ns == ns(10),
		      "thread 101: utime, stime");
		CHECK(t[1].has_schedstat && t[1].run_ns == 123456789 && t[1].wait_ns == 2000 &&
		      t[1].timeslices == 42, "thread 101: schedstat");
		CHECKD(!strcmp(t[2].comm, "CPU 1/TCG") && t[2].vcpu == 1,
		       "thread 102: comm file beats stat's cut name, vCPU 1", "comm '%s' vcpu %d",
		       t[2].comm, t[2].vcpu);
		CHECK(!t[2].has_schedstat && !t[2].run_ns, "thread 102: no schedstat file");
		CHECKD(!strcmp(t[3].comm, "worker) (") && t[3].vcpu == -1 && t[3].state == 'D' &&
		       t[3].processor == 5, "thread 103: no comm file: stat's comm",
		       "comm '%s' vcpu %d state %c cpu %d", t[3].comm, t[3].vcpu, t[3].state,
		       t[3].processor);
		CHECK(!t[3].has_schedstat, "thread 103: a two-number schedstat is none");
	}
	vms_host_proc_free(&p);
	CHECK(!p.threads && !p.nr_threads, "proc_free: clears");
	vms_host_proc_free(&p);
	vms_host_proc_free(NULL);

	err = vms_host_proc_read(proc, 200, &p);
	CHECKD(!err && p.nr_threads == 1 && p.threads[0].processor == -1 &&
	       !strcmp(p.name, "vm2") && p.rss_kb == 0 && p.utime_ns == ns(7),
	       "proc 200: short stat lines, no status file", "%s",
	       err ? err->message : "fields");
	if (!err && p.nr_threads == 1)
		CHECKD(p.threads[0].tid == 200 && p.threads[0].state == 'R' &&
		       p.threads[0].vcpu == -1, "proc 200: its thread", "tid %d",
		       p.threads[0].tid);
	vms_error_free(err);
	vms_host_proc_free(&p);

	err = vms_host_proc_read(proc, 250, &p);
	CHECKD(!err && !p.name[0] && !strcmp(p.comm, "python3") && p.nr_threads == 0,
	       "proc 250: not QEMU: no -name, no task dir", "%s", err ? err->message : p.name);
	vms_error_free(err);
	vms_host_proc_free(&p);

	err = vms_host_proc_read(proc, 999, &p);
	CHECKD(err && err->code == VMS_ERR_NOT_FOUND, "proc 999: not found",
	       "%s", err ? err->message : "no error");
	vms_error_free(err);
	err = vms_host_proc_read(proc, 600, &p);
	CHECKD(err && err->code == VMS_ERR_NOT_FOUND, "proc 600 (empty dir): not found",
	       "%s", err ? err->message : "no error");
	vms_error_free(err);
	err = vms_host_proc_read(proc, 500, &p);
	CHECKD(err && err->code == VMS_ERR_FORMAT && strstr(err->message, "500/stat"),
	       "proc 500: a stat without (comm) is a format error naming the file",
	       "%s", err ? err->message : "no error");
	vms_error_free(err);
	err = vms_host_proc_read(proc, 0, &p);
	CHECK(err && err->code == VMS_ERR_INVALID, "proc 0: invalid");
	vms_error_free(err);
	err = vms_host_proc_read("/nonexistent-procfs", 1, &p);
	CHECK(err && err->code == VMS_ERR_NOT_FOUND, "missing procfs: not found");
	vms_error_free(err);
}

static const struct vms_host_guest *find(const struct vms_host_guest *g, size_t n, int pid)
{
	for (size_t i = 0; i < n; i++)
		if (g[i].pid == pid)
			return &g[i];
	return NULL;
}

static void expect_guest(const struct vms_host_guest *g, size_t n, int pid,
			 const char *name, const char *ram, const char *qmp, const char *spec)
{
	char label[128], want_ram[512], want_qmp[512], want_spec[512];
	const struct vms_host_guest *x = find(g, n, pid);
	snprintf(label, sizeof(label), "discover %d: found", pid);
	CHECK(x, label);
	if (!x)
		return;
	snprintf(want_ram, sizeof(want_ram), ram[0] ? "%s%s" : "%.0s%s", tmp, ram);
	snprintf(want_qmp, sizeof(want_qmp), qmp[0] ? "%s%s" : "%.0s%s", tmp, qmp);
	if (!strncmp(spec, "qmp:", 4))
		snprintf(want_spec, sizeof(want_spec), "qmp:%s%s", tmp, spec + 4);
	else if (spec[0] == '/')
		snprintf(want_spec, sizeof(want_spec), "%s%s", tmp, spec);
	else
		snprintf(want_spec, sizeof(want_spec), "%s", spec);
	snprintf(label, sizeof(label), "discover %d: name '%s'", pid, name);
	CHECKD(!strcmp(x->name, name), label, "name '%s'", x->name);
	snprintf(label, sizeof(label), "discover %d: ram_path", pid);
	CHECKD(!strcmp(x->ram_path, want_ram), label, "'%.200s', want '%.200s'", x->ram_path, want_ram);
	snprintf(label, sizeof(label), "discover %d: qmp_path", pid);
	CHECKD(!strcmp(x->qmp_path, want_qmp), label, "'%.200s', want '%.200s'", x->qmp_path, want_qmp);
	snprintf(label, sizeof(label), "discover %d: spec", pid);
	CHECKD(!strcmp(x->spec, want_spec), label, "'%.200s', want '%.200s'", x->spec, want_spec);
}

static void test_discover(void)
{
	struct vms_host_guest *g = NULL;
	size_t n = 0;
	struct vms_error *err = vms_host_discover(proc, &g, &n);
	CHECKD(!err, "discover: fake procfs", "%s", err ? err->message : "");
	vms_error_free(err);
	static const int want[] = { 100, 200, 300, 400, 450, 460, 500, 800 };
	size_t nw = sizeof(want) / sizeof(want[0]);
	bool same = n == nw;
	for (size_t i = 0; same && i < n; i++)
		same = g[i].pid == want[i];
	char got[256] = "";
	for (size_t i = 0, l = 0; i < n && l < sizeof(got) - 12; i++)
		l += (size_t)snprintf(got + l, sizeof(got) - l, " %d", g[i].pid);
	CHECKD(same, "discover: the QEMUs, sorted by pid (not 250, 600, 700, 0100, self)",
	       "pids:%s", got);
	expect_guest(g, n, 100, "web,1", "/ram-a", "/qmp-a.sock", "/ram-a");
	expect_guest(g, n, 200, "vm2", "", "/qmp-b.sock", "qmp:/qmp-b.sock");
	expect_guest(g, n, 300, "qemu-300", "", "", "qemu:300");
	expect_guest(g, n, 400, "dom", "/cwd-d/ram-d", "", "/cwd-d/ram-d");
	expect_guest(g, n, 450, "a,b", "/ram-,e", "/qmp,e.sock", "/ram-,e");
	expect_guest(g, n, 460, "qemu-460", "", "", "qemu:460");
	expect_guest(g, n, 500, "qemu-500", "", "", "qemu:500");
	expect_guest(g, n, 800, "qemu-800", "", "", "qemu:800");
	free(g);

	g = (void *)1;
	n = 5;
	err = vms_host_discover("/nonexistent-procfs", &g, &n);
	CHECK(err && err->code == VMS_ERR_IO && !g && !n, "discover: missing procfs is an error");
	vms_error_free(err);
}

static void expect_pid(const char *spec, int want)
{
	char s[600], label[700];
	const char *t = spec ? strstr(spec, "TMP") : NULL;
	if (t)
		snprintf(s, sizeof(s), "%.*s%s%s", (int)(t - spec), spec, tmp, t + 3);
	else
		snprintf(s, sizeof(s), "%s", spec ? spec : "");
	int got = vms_host_pid_for_spec(proc, spec ? s : NULL);
	snprintf(label, sizeof(label), "pid_for_spec %s: %d", spec ? spec : "NULL", want);
	CHECKD(got == want, label, "got %d", got);
}

static void test_pid_for_spec(void)
{
	expect_pid("TMP/ram-a", 100);
	expect_pid("TMP/ram-link", 100);   /* a symlink: realpath */
	expect_pid("TMP/./ram-a", 100);
	expect_pid("file:TMP/ram-a", 100);
	expect_pid("TMP/ram-b", 200);      /* not shared, but its file */
	expect_pid("TMP/cwd-d/ram-d", 400);  /* relative to QEMU's cwd */
	expect_pid("TMP/nope", 0);
	expect_pid("qmp:TMP/qmp-b.sock", 200);
	expect_pid("qmp:TMP/qmp-a.sock", 100);
	expect_pid("qmp:TMP/qmp-c.sock", 0);  /* QEMU is that socket's client */
	expect_pid("qmp:TMP/hmp.sock", 0);    /* a human monitor */
	expect_pid("libvirt:dom", 400);
	expect_pid("libvirt:web,1", 100);
	expect_pid("libvirt:nope", 0);
	expect_pid("libvirt:", 0);
	expect_pid("qemu:250", 250);
	expect_pid("qemu:999", 0);
	expect_pid("qemu:abc", 0);
	expect_pid("qemu:0100", 0);
	expect_pid("xen:1", 0);
	expect_pid("", 0);
	expect_pid(NULL, 0);
}

/* ---- the real /proc ----------------------------------------------------- */

static int pipefd[2];
static volatile uint64_t sink;

static void *sleeper(void *arg)
{
	(void)arg;
	char c;
	while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_real_proc(void)
{
	pthread_t th;
	if (pipe(pipefd) < 0 || pthread_create(&th, NULL, sleeper, NULL))
		die("thread");
	pthread_setname_np(th, "CPU 7/TEST");
	/* Burn some CPU so that utime has ticks, and let the thread block. */
	uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
	while (clock_ns(CLOCK_PROCESS_CPUTIME_ID) < 60000000ULL &&
	       clock_ns(CLOCK_MONOTONIC) - t0 < 5000000000ULL)
		for (int i = 0; i < 100000; i++)
			sink += (uint64_t)i;
	usleep(20000);

	struct vms_host_proc p;
	int self = getpid();
	struct vms_error *err = vms_host_proc_read(NULL, self, &p);
	uint64_t cpu = clock_ns(CLOCK_PROCESS_CPUTIME_ID), boot = clock_ns(CLOCK_BOOTTIME);
	CHECKD(!err, "real /proc: this process reads", "%s", err ? err->message : "");
	if (!err) {
		char comm[64] = "";
		FILE *f = fopen("/proc/self/comm", "re");
		if (f) {
			if (!fgets(comm, sizeof(comm), f))
				comm[0] = 0;
			fclose(f);
		}
		comm[strcspn(comm, "\n")] = 0;
		CHECK(p.pid == self, "real /proc: pid");
		CHECKD(!strcmp(p.comm, comm), "real /proc: comm", "'%s' want '%s'", p.comm, comm);
		CHECK(!p.name[0], "real /proc: not QEMU, no name");
		/* The kernel splits the process's runtime into utime and stime
		 * by the ticks it sampled, so a busy loop can land all in stime
		 * (seen in CI: utime 0, stime 50 ms): check only their sum. */
		CHECKD(p.utime_ns + p.stime_ns > 0 &&
		       p.utime_ns + p.stime_ns <= cpu + 1000000000ULL / hz,
		       "real /proc: utime + stime > 0 and within the process's CPU time",
		       "utime %llu stime %llu cpu %llu", (unsigned long long)p.utime_ns,
		       (unsigned long long)p.stime_ns, (unsigned long long)cpu);
		CHECKD(p.starttime_ns > 0 && p.starttime_ns <= boot,
		       "real /proc: starttime since boot", "start %llu boottime %llu",
		       (unsigned long long)p.starttime_ns, (unsigned long long)boot);
		CHECKD(p.rss_kb > 0, "real /proc: VmRSS", "%llu", (unsigned long long)p.rss_kb);
		const struct vms_host_thread *me = NULL, *vcpu = NULL;
		for (size_t i = 0; i < p.nr_threads; i++) {
			if (p.threads[i].tid == self)
				me = &p.threads[i];
			if (!strcmp(p.threads[i].comm, "CPU 7/TEST"))
				vcpu = &p.threads[i];
		}
		CHECKD(p.nr_threads >= 2, "real /proc: two threads or more", "%zu", p.nr_threads);
		CHECK(me && me->state == 'R' && me->processor >= 0 && me->vcpu == -1 &&
		      !strcmp(me->comm, comm), "real /proc: the main thread, running");
		CHECK(vcpu && vcpu->vcpu == 7 && vcpu->state == 'S' && p.nr_vcpus >= 1,
		      "real /proc: the thread named 'CPU 7/TEST' is vCPU 7, sleeping");
		if (access("/proc/self/schedstat", R_OK) == 0)
			CHECKD(me && me->has_schedstat && me->run_ns > 0 && me->timeslices > 0,
			       "real /proc: schedstat", "run %llu slices %llu",
			       me ? (unsigned long long)me->run_ns : 0ULL,
			       me ? (unsigned long long)me->timeslices : 0ULL);
		else
			printf("SKIP real /proc: schedstat: the kernel has no /proc/PID/schedstat\n");
		vms_host_proc_free(&p);
	}
	vms_error_free(err);

	struct vms_host_guest *g = NULL;
	size_t n = 0;
	err = vms_host_discover(NULL, &g, &n);
	bool sorted = true, filled = true;
	for (size_t i = 0; i < n; i++) {
		sorted &= !i || g[i - 1].pid < g[i].pid;
		filled &= g[i].pid > 0 && g[i].spec[0] && g[i].name[0] && g[i].pid != self;
	}
	CHECKD(!err && sorted && filled, "real /proc: discover (sorted, every spec filled)",
	       "%s; %zu guests", err ? err->message : "ok", n);
	vms_error_free(err);
	free(g);

	char spec[32];
	snprintf(spec, sizeof(spec), "qemu:%d", self);
	CHECK(vms_host_pid_for_spec(NULL, spec) == self, "real /proc: pid_for_spec qemu:SELF");

	if (write(pipefd[1], "x", 1) != 1)
		die("pipe");
	pthread_join(th, NULL);
	close(pipefd[0]);
	close(pipefd[1]);
}

int main(void)
{
	long t = sysconf(_SC_CLK_TCK);
	hz = t > 0 ? (uint64_t)t : 100;
	const char *base = getenv("TMPDIR");
	snprintf(tmp, sizeof(tmp), "%s/vmsight-host-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmp))
		die("mkdtemp");
	build_tree();
	test_proc_read();
	test_discover();
	test_pid_for_spec();
	test_real_proc();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return CHECK_DONE();
}
