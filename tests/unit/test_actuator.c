// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The actuators (src/host/actuator*.c) on real threads of this process:
 * each backend writes what the level asks for, undoes it on restore, and a
 * run killed with SIGKILL is undone from its state file by another process.
 *
 *   test_actuator                  nice, cgroup1 (when its cpu controller is
 *                                  writable), cgroup2 where the host has it
 *                                  (else: refused, and the error says why)
 *   test_actuator --cgroup2 ROOT   cgroup2 only, on the v2 mount ROOT, which
 *                                  must offer the cpu controller (run inside
 *                                  a lab guest by tests/host/suite_actuator)
 *
 * The oracle is the kernel: getpriority(), sched_getscheduler(),
 * /proc/self/task/TID/cgroup and the cgroup files themselves.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vmsight/steer.h>

#include "check.h"

static int pipefd[2];
static volatile int worker_tid;

static void *worker(void *arg)
{
	(void)arg;
	worker_tid = (int)syscall(SYS_gettid);
	char c;
	while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

static int nice_of(int tid)
{
	errno = 0;
	return getpriority(PRIO_PROCESS, (id_t)tid);
}

static bool read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

/* The line of /proc/self/task/TID/cgroup for the v1 cpu controller
 * ("cpu") or the unified hierarchy (""), path only. */
static void cgroup_of(int tid, const char *ctl, char *out, size_t n)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/self/task/%d/cgroup", tid);
	out[0] = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = 0;
		if (!strcmp(c1 + 1, ctl) || (*ctl && strstr(c1 + 1, ctl)))
			snprintf(out, n, "%s", c2 + 1);
	}
	fclose(f);
}

static bool file_has_word(const char *path, const char *word)
{
	char buf[512] = "", *save = NULL;
	if (!read_line(path, buf, sizeof(buf)))
		return false;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (!strcmp(t, word))
			return true;
	return false;
}

static void test_nice(const char *dir, int tid)
{
	char state[300];
	snprintf(state, sizeof(state), "%s/nice.state", dir);
	int before = nice_of(tid), before_policy = sched_getscheduler(tid);
	struct vms_actuator_options o = { .kind = VMS_ACT_NICE, .state_file = state };
	struct vms_actuator *a = NULL;
	struct vms_error *err = vms_actuator_open(&o, &a);
	CHECKD(!err, "nice: opens", "%.120s", err ? err->message : "");
	if (err)
		return;
	struct vms_change c;
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_BOOST, &c);
	CHECKD(!err && nice_of(tid) == -10 && c.tid == tid && !strcmp(c.what, "nice") &&
	       atoi(c.old_value) == before && !strcmp(c.new_value, "-10"),
	       "nice: boost sets nice -10 and reports old -> new", "%.120s nice %d change %.120s %.120s -> %.120s",
	       err ? err->message : "", nice_of(tid), c.what, c.old_value, c.new_value);
	vms_error_free(err);
	struct stat st;
	CHECK(stat(state, &st) == 0, "nice: the state file exists while a thread is changed");
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_BOOST, &c);
	CHECK(!err && c.tid == 0, "nice: setting the same level again changes nothing");
	vms_error_free(err);
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_DEMOTE, &c);
	CHECKD(!err && nice_of(tid) == 10, "nice: demote sets nice +10", "nice %d", nice_of(tid));
	vms_error_free(err);
	err = vms_actuator_restore(a, tid);
	CHECKD(!err && nice_of(tid) == before, "nice: restore puts the thread's nice back",
	       "nice %d, was %d", nice_of(tid), before);
	vms_error_free(err);
	err = vms_actuator_restore_all(a);
	CHECK(!err && stat(state, &st) < 0, "nice: restore_all removes the state file");
	vms_error_free(err);
	vms_actuator_close(a);

	/* SCHED_IDLE for demote, and back. */
	o.demote_idle = true;
	if ((err = vms_actuator_open(&o, &a))) {
		CHECKD(0, "nice --demote-idle: opens", "%.120s", err->message);
		vms_error_free(err);
		return;
	}
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_DEMOTE, &c);
	CHECKD(!err && sched_getscheduler(tid) == SCHED_IDLE && !strcmp(c.what, "policy") &&
	       !strcmp(c.new_value, "SCHED_IDLE"), "nice --demote-idle: demote is SCHED_IDLE",
	       "%.120s policy %d", err ? err->message : "", sched_getscheduler(tid));
	vms_error_free(err);
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_BOOST, &c);
	CHECKD(!err && sched_getscheduler(tid) == before_policy && nice_of(tid) == -10,
	       "nice --demote-idle: boost after it gives the policy back, then nice -10",
	       "policy %d nice %d", sched_getscheduler(tid), nice_of(tid));
	vms_error_free(err);
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_DEMOTE, &c);
	vms_error_free(err);
	err = vms_actuator_restore_all(a);
	CHECKD(!err && sched_getscheduler(tid) == before_policy && nice_of(tid) == before,
	       "nice --demote-idle: restore puts policy and nice back", "policy %d nice %d",
	       sched_getscheduler(tid), nice_of(tid));
	vms_error_free(err);
	vms_actuator_close(a);
}

/* A child process steers our thread @tid to @l and is then killed with
 * SIGKILL: what it changed stays until the state file is restored. */
static bool killed_run(const struct vms_actuator_options *o, int tid, enum vms_level l)
{
	int ready[2];
	if (pipe(ready) < 0)
		return false;
	pid_t child = fork();
	if (child == 0) {
		struct vms_actuator *a;
		struct vms_change c;
		struct vms_error *err = vms_actuator_open(o, &a);
		if (!err)
			err = vms_actuator_set(a, getppid(), tid, l, &c);
		if (err)
			_exit(3);
		if (write(ready[1], "x", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(ready[1]);
	char x;
	bool ok = read(ready[0], &x, 1) == 1;
	close(ready[0]);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return ok;
}

static void test_nice_killed(const char *dir, int tid)
{
	char state[300];
	snprintf(state, sizeof(state), "%s/killed.state", dir);
	int before = nice_of(tid);
	struct vms_actuator_options o = { .kind = VMS_ACT_NICE, .state_file = state };
	bool ran = killed_run(&o, tid, VMS_LEVEL_BOOST);
	CHECKD(ran && nice_of(tid) == -10, "nice, kill -9: the killed run's setting stays",
	       "ran %d nice %d", ran, nice_of(tid));
	unsigned n = 0;
	struct vms_error *err = vms_actuator_restore_state(state, &n);
	struct stat st;
	CHECKD(!err && n == 1 && nice_of(tid) == before && stat(state, &st) < 0,
	       "nice, kill -9: --restore from the state file puts it back and removes the file",
	       "%.120s restored %u nice %d", err ? err->message : "", n, nice_of(tid));
	vms_error_free(err);
}

/* cgroup1 or cgroup2 at @root. */
static void test_cgroup(const char *dir, int tid, enum vms_actuator_kind kind, const char *root)
{
	bool v2 = kind == VMS_ACT_CGROUP_V2;
	const char *k = v2 ? "cgroup2" : "cgroup1";
	const char *ctl = v2 ? "" : "cpu";
	char state[300], name[160], orig[512], now[512], path[1200], buf[64];
	snprintf(state, sizeof(state), "%s/%s.state", dir, k);
	cgroup_of(tid, ctl, orig, sizeof(orig));
	char orig_dir[800];
	snprintf(orig_dir, sizeof(orig_dir), "%s%s", root, strcmp(orig, "/") ? orig : "");
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", orig_dir);
	bool had_cpu = v2 && file_has_word(path, "cpu");
	struct vms_actuator_options o = { .kind = kind, .state_file = state };
	if (v2)
		o.cgroup_v2 = root;
	else
		o.cgroup_v1_cpu = root;
	struct vms_actuator *a = NULL;
	struct vms_error *err = vms_actuator_open(&o, &a);
	snprintf(name, sizeof(name), "%s: opens on %s", k, root);
	CHECKD(!err, name, "%.120s", err ? err->message : "");
	if (err) {
		vms_error_free(err);
		return;
	}
	struct vms_change c;
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_BOOST, &c);
	cgroup_of(tid, ctl, now, sizeof(now));
	char created[800];
	snprintf(created, sizeof(created), "%s%s", root, now);
	snprintf(path, sizeof(path), "%s/%s", created, v2 ? "cpu.weight" : "cpu.shares");
	buf[0] = 0;
	read_line(path, buf, sizeof(buf));
	char want_dir[64];
	snprintf(want_dir, sizeof(want_dir), "/vmsight-%d-%d", getpid(), tid);
	snprintf(name, sizeof(name), "%s: boost moves the thread into its own cgroup below its "
		 "own, %s %s", k, v2 ? "cpu.weight" : "cpu.shares", v2 ? "800" : "8192");
	CHECKD(!err && strstr(now, want_dir) && !strncmp(now, orig, strcmp(orig, "/") ? strlen(orig) : 0) &&
	       !strcmp(buf, v2 ? "800" : "8192") && c.tid == tid, name,
	       "%.120s cgroup %.120s (was %.120s) value '%.120s'", err ? err->message : "", now, orig, buf);
	vms_error_free(err);
	cgroup_of(getpid(), ctl, now, sizeof(now));
	snprintf(name, sizeof(name), "%s: the process's other threads stay where they were", k);
	CHECKD(!strcmp(now, orig), name, "main thread in %.120s, was %.120s", now, orig);
	if (v2) {
		snprintf(path, sizeof(path), "%s/cgroup.type", created);
		read_line(path, buf, sizeof(buf));
		CHECKD(!strcmp(buf, "threaded"), "cgroup2: the new cgroup is threaded", "'%.120s'", buf);
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", orig_dir);
		CHECK(file_has_word(path, "cpu"), "cgroup2: cpu is enabled below the thread's cgroup");
	}
	err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_DEMOTE, &c);
	snprintf(path, sizeof(path), "%s/%s", created, v2 ? "cpu.weight" : "cpu.shares");
	read_line(path, buf, sizeof(buf));
	snprintf(name, sizeof(name), "%s: demote writes the floor %s", k, v2 ? "12" : "128");
	CHECKD(!err && !strcmp(buf, v2 ? "12" : "128"), name, "%.120s '%.120s'",
	       err ? err->message : "", buf);
	vms_error_free(err);
	err = vms_actuator_restore_all(a);
	cgroup_of(tid, ctl, now, sizeof(now));
	struct stat st;
	snprintf(name, sizeof(name), "%s: restore moves the thread back and removes the cgroup", k);
	CHECKD(!err && !strcmp(now, orig) && stat(created, &st) < 0 && stat(state, &st) < 0,
	       name, "%.120s in %.120s (was %.120s), created exists %d", err ? err->message : "", now, orig,
	       stat(created, &st) == 0);
	vms_error_free(err);
	if (v2) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", orig_dir);
		CHECKD(file_has_word(path, "cpu") == had_cpu,
		       "cgroup2: subtree_control is as it was (cpu taken back out if we added it)",
		       "had cpu %d", had_cpu);
	}
	vms_actuator_close(a);

	/* demote with cpu.idle */
	snprintf(path, sizeof(path), "%s/cpu.idle", orig_dir);
	if (access(path, F_OK) == 0 || v2) {
		o.demote_idle = true;
		if (!(err = vms_actuator_open(&o, &a))) {
			err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_DEMOTE, &c);
			snprintf(path, sizeof(path), "%s%s/cpu.idle", orig_dir, want_dir);
			buf[0] = 0;
			read_line(path, buf, sizeof(buf));
			snprintf(name, sizeof(name), "%s --demote-idle: demote writes cpu.idle 1", k);
			CHECKD(!err && !strcmp(buf, "1") && !strcmp(c.what, "cpu.idle"), name,
			       "%.120s '%.120s' %.120s", err ? err->message : "", buf, c.what);
			vms_error_free(err);
			err = vms_actuator_restore_all(a);
			snprintf(path, sizeof(path), "%s%s", orig_dir, want_dir);
			snprintf(name, sizeof(name), "%s --demote-idle: restored", k);
			CHECK(!err && stat(path, &st) < 0, name);
			vms_actuator_close(a);
		}
		vms_error_free(err);
		o.demote_idle = false;
	}

	/* kill -9, then --restore from the state file. */
	bool ran = killed_run(&o, tid, VMS_LEVEL_BOOST);
	cgroup_of(tid, ctl, now, sizeof(now));
	snprintf(name, sizeof(name), "%s, kill -9: the killed run left the thread in its cgroup", k);
	CHECKD(ran && strstr(now, want_dir), name, "ran %d cgroup %.120s", ran, now);
	unsigned n = 0;
	err = vms_actuator_restore_state(state, &n);
	cgroup_of(tid, ctl, now, sizeof(now));
	snprintf(path, sizeof(path), "%s%s", orig_dir, want_dir);
	snprintf(name, sizeof(name), "%s, kill -9: --restore moves it back and removes the cgroup", k);
	CHECKD(!err && n == 1 && !strcmp(now, orig) && stat(path, &st) < 0, name,
	       "%.120s restored %u, in %.120s (was %.120s)", err ? err->message : "", n, now, orig);
	vms_error_free(err);
	if (v2) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", orig_dir);
		CHECKD(file_has_word(path, "cpu") == had_cpu,
		       "cgroup2, kill -9: --restore takes back the +cpu it added", "had cpu %d",
		       had_cpu);
	}
}

static void test_dry_run(const char *dir, int tid, enum vms_actuator_kind kind, const char *root)
{
	char state[300], orig[512], now[512], name[128];
	snprintf(state, sizeof(state), "%s/dry.state", dir);
	const char *ctl = kind == VMS_ACT_CGROUP_V2 ? "" : "cpu";
	cgroup_of(tid, ctl, orig, sizeof(orig));
	int before = nice_of(tid);
	struct vms_actuator_options o = { .kind = kind, .state_file = state, .dry_run = true };
	if (kind == VMS_ACT_CGROUP_V2)
		o.cgroup_v2 = root;
	struct vms_actuator *a = NULL;
	struct vms_error *err = vms_actuator_open(&o, &a);
	struct vms_change c = { 0 };
	if (!err)
		err = vms_actuator_set(a, getpid(), tid, VMS_LEVEL_BOOST, &c);
	cgroup_of(tid, ctl, now, sizeof(now));
	struct stat st;
	snprintf(name, sizeof(name), "%s --dry-run: reports the change, writes nothing",
		 vms_actuator_name(kind));
	CHECKD(!err && c.tid == tid && nice_of(tid) == before && !strcmp(now, orig) &&
	       stat(state, &st) < 0, name, "%.120s nice %d cgroup %.120s state %d",
	       err ? err->message : "", nice_of(tid), now, stat(state, &st) == 0);
	vms_error_free(err);
	if (a) {
		vms_error_free(vms_actuator_restore_all(a));
		vms_actuator_close(a);
	}
}

int main(int argc, char **argv)
{
	const char *cg2_root = NULL;
	if (argc == 3 && !strcmp(argv[1], "--cgroup2"))
		cg2_root = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: test_actuator [--cgroup2 ROOT]\n");
		return 64;
	}
	char dir[] = "/tmp/vmsight-test-actuator-XXXXXX";
	if (!mkdtemp(dir) || pipe(pipefd) < 0)
		return 2;
	pthread_t th;
	if (pthread_create(&th, NULL, worker, NULL))
		return 2;
	while (!worker_tid)
		usleep(1000);
	int tid = worker_tid;
	bool root = geteuid() == 0;

	if (cg2_root) {
		test_cgroup(dir, tid, VMS_ACT_CGROUP_V2, cg2_root);
		test_dry_run(dir, tid, VMS_ACT_CGROUP_V2, cg2_root);
	} else {
		if (!root) {
			printf("SKIP actuators: needs root (setpriority below 0, cgroup writes)\n");
		} else {
			test_nice(dir, tid);
			test_nice_killed(dir, tid);
			test_dry_run(dir, tid, VMS_ACT_NICE, NULL);
			if (access("/sys/fs/cgroup/cpu/cpu.shares", W_OK) == 0)
				test_cgroup(dir, tid, VMS_ACT_CGROUP_V1, "/sys/fs/cgroup/cpu");
			else
				printf("SKIP cgroup1: /sys/fs/cgroup/cpu/cpu.shares is not writable here\n");
		}
		/* cgroup2 on this host: either it works, or it is refused and the
		 * error names the file that says why. */
		const char *v2 = access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0 ?
				 "/sys/fs/cgroup/unified" : "/sys/fs/cgroup";
		char ctl[600];
		snprintf(ctl, sizeof(ctl), "%s/cgroup.controllers", v2);
		if (root && file_has_word(ctl, "cpu")) {
			test_cgroup(dir, tid, VMS_ACT_CGROUP_V2, v2);
		} else {
			struct vms_actuator_options o = { .kind = VMS_ACT_CGROUP_V2, .cgroup_v2 = v2 };
			struct vms_actuator *a = NULL;
			struct vms_error *err = vms_actuator_open(&o, &a);
			CHECKD(err && strstr(err->message, ctl) && strstr(err->message, "cpu"),
			       "cgroup2 without the cpu controller: refused, naming cgroup.controllers",
			       "%.120s", err ? err->message : "opened");
			vms_error_free(err);
			vms_actuator_close(a);
		}
	}
	if (write(pipefd[1], "x", 1) != 1)
		return 2;
	pthread_join(th, NULL);
	rmdir(dir);
	return CHECK_DONE();
}
