// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Actuators: host scheduler settings of vCPU threads, always undoable.
 * Before a thread is first changed, what it had is written to the state
 * file (atomically: write, rename), so that a run killed with
 * SIGKILL can be undone by vms_actuator_restore_state().  A thread is
 * recognised across runs by tid plus start time, so a reused tid is left
 * alone.
 *
 * nice:    setpriority(PRIO_PROCESS, tid): boost -10, demote +10 (a floor:
 *          a +10 thread still gets ~1/10 of a nice-0 one), normal = as found.
 * cgroup1: a cpu cgroup of its own for each thread, created below the
 *          thread's current one (so that limits above it, e.g. libvirt's
 *          per-vCPU cgroups, still hold), with cpu.shares 8192 / 1024 / 128.
 *          Undo: the thread goes back, the cgroup is removed.
 * cgroup2: needs the cpu controller in the v2 hierarchy; on hosts where it
 *          is bound to cgroup v1 (this lab's) it is refused with the reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsight/steer.h>

#define MAX_ENTRIES 65536

struct entry {
	int pid, tid;
	unsigned long long starttime;   /* /proc/PID/task/TID/stat field 22 */
	int orig_nice;
	char orig_cgroup[512];          /* cgroup1: the cpu cgroup directory it was in */
	char created[560];              /* cgroup1: the one made for it */
	bool live;
};

struct vms_actuator {
	struct vms_actuator_options o;
	char v1[256];
	struct entry *e;
	size_t n, cap;
};

const char *vms_actuator_name(enum vms_actuator_kind k)
{
	switch (k) {
	case VMS_ACT_NICE: return "nice";
	case VMS_ACT_CGROUP_V1: return "cgroup1";
	case VMS_ACT_CGROUP_V2: return "cgroup2";
	default: return "auto";
	}
}

bool vms_actuator_parse(const char *name, enum vms_actuator_kind *k)
{
	static const enum vms_actuator_kind all[] = { VMS_ACT_AUTO, VMS_ACT_NICE,
						      VMS_ACT_CGROUP_V1, VMS_ACT_CGROUP_V2 };
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(name, vms_actuator_name(all[i]))) {
			*k = all[i];
			return true;
		}
	return false;
}

enum vms_actuator_kind vms_actuator_kind(const struct vms_actuator *a)
{
	return a->o.kind;
}

static struct vms_error *errno_error(const char *what, const char *where)
{
	int e = errno;
	const char *hint = e == EACCES || e == EPERM ?
		" (permission denied: run as root, or with CAP_SYS_NICE for nice and write access to the cgroup)" : "";
	return vms_error_create(e == ENOENT || e == ESRCH ? VMS_ERR_NOT_FOUND : VMS_ERR_IO,
				"%s %s: %s%s", what, where, strerror(e), hint);
}

static bool read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)n, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

static struct vms_error *write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno_error("open", path);
	ssize_t w = write(fd, s, strlen(s));
	struct vms_error *err = w < 0 ? errno_error("write to", path) : NULL;
	close(fd);
	return err;
}

static bool thread_starttime(int pid, int tid, unsigned long long *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (!read_line(path, buf, sizeof(buf)))
		return false;
	char *p = strrchr(buf, ')');
	/* after ')': state is field 3; starttime is field 22 */
	int field = 2;
	for (p = p ? p + 1 : NULL; p && *p; p++)
		if (*p == ' ' && ++field == 22)
			return sscanf(p + 1, "%llu", st) == 1;
	return false;
}

/* The thread's cgroup (v1) for the cpu controller, relative to its mount. */
static bool thread_cpu_cgroup(int pid, int tid, char *out, size_t n)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		for (char *tok = strtok(c1 + 1, ","); tok; tok = strtok(NULL, ","))
			if (!strcmp(tok, "cpu")) {
				snprintf(out, n, "%s", c2 + 1);
				found = true;
				break;
			}
	}
	fclose(f);
	return found;
}

/* ---- the state file ---- */

static struct json_object *entry_json(const struct entry *e, enum vms_actuator_kind k)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "actuator", json_object_new_string(vms_actuator_name(k)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "tid", json_object_new_int(e->tid));
	json_object_object_add(o, "starttime", json_object_new_uint64(e->starttime));
	if (k == VMS_ACT_NICE) {
		json_object_object_add(o, "nice", json_object_new_int(e->orig_nice));
	} else {
		json_object_object_add(o, "cgroup", json_object_new_string(e->orig_cgroup));
		json_object_object_add(o, "created", json_object_new_string(e->created));
	}
	return o;
}

static struct vms_error *save_state(struct vms_actuator *a)
{
	if (!a->o.state_file || a->o.dry_run)
		return NULL;
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(root, "vmsight_sched_state", json_object_new_int(1));
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].live)
			json_object_array_add(arr, entry_json(&a->e[i], a->o.kind));
	json_object_object_add(root, "threads", arr);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->o.state_file);
	struct vms_error *err = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno_error("create state file", tmp);
	} else {
		const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
		/* No fsync: the file must outlive this process (kill -9), which the
		 * page cache ensures; a host crash resets the settings anyway,
		 * and the sampling loop must not wait on the disk. */
		if (write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0)
			err = errno_error("write state file", tmp);
		close(fd);
		if (!err && rename(tmp, a->o.state_file) < 0)
			err = errno_error("rename state file to", a->o.state_file);
	}
	json_object_put(root);
	return err;
}

/* ---- open ---- */

struct vms_error *vms_actuator_open(const struct vms_actuator_options *o,
				    struct vms_actuator **ret)
{
	struct vms_actuator *a = calloc(1, sizeof(*a));
	if (!a)
		return &vms_error_nomem;
	a->o = *o;
	if (!a->o.boost_nice && !a->o.demote_nice) {
		a->o.boost_nice = -10;
		a->o.demote_nice = 10;
	}
	if (!a->o.boost_shares)
		a->o.boost_shares = 8192;
	if (!a->o.demote_shares)
		a->o.demote_shares = 128;
	snprintf(a->v1, sizeof(a->v1), "%s", o->cgroup_v1_cpu ? o->cgroup_v1_cpu : "/sys/fs/cgroup/cpu");
	char probe[300];
	snprintf(probe, sizeof(probe), "%s/cpu.shares", a->v1);
	if (a->o.kind == VMS_ACT_AUTO)
		a->o.kind = access(probe, W_OK) == 0 ? VMS_ACT_CGROUP_V1 : VMS_ACT_NICE;
	if (a->o.kind == VMS_ACT_CGROUP_V1 && !a->o.dry_run && access(probe, W_OK) != 0) {
		struct vms_error *err = errno_error("cgroup v1 cpu controller:", probe);
		free(a);
		return err;
	}
	if (a->o.kind == VMS_ACT_CGROUP_V2) {
		const char *root = o->cgroup_v2 ? o->cgroup_v2 : "/sys/fs/cgroup/unified";
		char path[300], ctl[512] = "";
		snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
		bool has_cpu = false;
		if (read_line(path, ctl, sizeof(ctl)))
			for (char *t = strtok(ctl, " "); t; t = strtok(NULL, " "))
				has_cpu |= !strcmp(t, "cpu");
		free(a);
		if (!has_cpu)
			return vms_error_create(VMS_ERR_UNSUPPORTED,
				"cgroup2 actuator: %s does not list the cpu controller (on this "
				"host it is bound to cgroup v1: use --actuator cgroup1 or nice)", path);
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"cgroup2 actuator (threaded cgroups, cpu.weight) is not implemented yet: "
			"use --actuator cgroup1 or nice");
	}
	*ret = a;
	return NULL;
}

static struct entry *find(struct vms_actuator *a, int tid)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].live && a->e[i].tid == tid)
			return &a->e[i];
	return NULL;
}

/* Remember thread @tid as it is now, in memory and in the state file. */
static struct vms_error *remember(struct vms_actuator *a, int pid, int tid, struct entry **ret)
{
	if (a->n == a->cap) {
		if (a->cap >= MAX_ENTRIES)
			return vms_error_create(VMS_ERR_INVALID, "more than %d threads steered",
						MAX_ENTRIES);
		size_t cap = a->cap ? a->cap * 2 : 16;
		struct entry *e = realloc(a->e, cap * sizeof(*e));
		if (!e)
			return &vms_error_nomem;
		a->e = e;
		a->cap = cap;
	}
	struct entry *e = &a->e[a->n];
	memset(e, 0, sizeof(*e));
	e->pid = pid;
	e->tid = tid;
	char where[64];
	snprintf(where, sizeof(where), "thread %d of process %d", tid, pid);
	if (!thread_starttime(pid, tid, &e->starttime)) {
		errno = ESRCH;
		return errno_error("read /proc of", where);
	}
	if (a->o.kind == VMS_ACT_NICE) {
		errno = 0;
		e->orig_nice = getpriority(PRIO_PROCESS, (id_t)tid);
		if (errno)
			return errno_error("getpriority of", where);
	} else {
		char cg[400];
		if (!thread_cpu_cgroup(pid, tid, cg, sizeof(cg))) {
			errno = ENOENT;
			return errno_error("cpu cgroup (v1) of", where);
		}
		snprintf(e->orig_cgroup, sizeof(e->orig_cgroup), "%.200s%.300s", a->v1,
			 strcmp(cg, "/") ? cg : "");
		snprintf(e->created, sizeof(e->created), "%s/vmsight-%d-%d", e->orig_cgroup, pid,
			 tid);
	}
	e->live = true;
	a->n++;
	struct vms_error *err = save_state(a);
	if (err) {
		e->live = false;
		a->n--;
		return err;
	}
	*ret = e;
	return NULL;
}

static struct vms_error *set_nice(struct vms_actuator *a, struct entry *e, enum vms_level l,
				  struct vms_change *chg)
{
	int want = l == VMS_LEVEL_BOOST ? a->o.boost_nice :
		   l == VMS_LEVEL_DEMOTE ? a->o.demote_nice : e->orig_nice;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)e->tid);
	char where[64];
	snprintf(where, sizeof(where), "thread %d of process %d", e->tid, e->pid);
	if (errno)
		return errno_error("getpriority of", where);
	if (now == want)
		return NULL;
	chg->tid = e->tid;
	snprintf(chg->what, sizeof(chg->what), "nice");
	snprintf(chg->old_value, sizeof(chg->old_value), "%d", now);
	snprintf(chg->new_value, sizeof(chg->new_value), "%d", want);
	snprintf(chg->where, sizeof(chg->where), "%s", where);
	if (!a->o.dry_run && setpriority(PRIO_PROCESS, (id_t)e->tid, want) < 0)
		return errno_error("setpriority of", where);
	return NULL;
}

static struct vms_error *set_shares(struct vms_actuator *a, struct entry *e, enum vms_level l,
				    struct vms_change *chg)
{
	unsigned want = l == VMS_LEVEL_BOOST ? a->o.boost_shares :
			l == VMS_LEVEL_DEMOTE ? a->o.demote_shares : 1024;
	char path[640], buf[64] = "1024";
	struct vms_error *err;
	struct stat st;
	if (!a->o.dry_run && stat(e->created, &st) < 0) {
		if (mkdir(e->created, 0755) < 0 && errno != EEXIST)
			return errno_error("create cgroup", e->created);
		snprintf(path, sizeof(path), "%s/tasks", e->created);
		snprintf(buf, sizeof(buf), "%d", e->tid);
		if ((err = write_str(path, buf)))
			return err;
		snprintf(buf, sizeof(buf), "1024");
	}
	snprintf(path, sizeof(path), "%s/cpu.shares", e->created);
	if (!a->o.dry_run && !read_line(path, buf, sizeof(buf)))
		return errno_error("read", path);
	if ((unsigned)strtoul(buf, NULL, 10) == want)
		return NULL;
	chg->tid = e->tid;
	snprintf(chg->what, sizeof(chg->what), "cpu.shares");
	snprintf(chg->old_value, sizeof(chg->old_value), "%.31s", buf);
	snprintf(chg->new_value, sizeof(chg->new_value), "%u", want);
	snprintf(chg->where, sizeof(chg->where), "%s", path);
	if (a->o.dry_run)
		return NULL;
	snprintf(buf, sizeof(buf), "%u", want);
	return write_str(path, buf);
}

struct vms_error *vms_actuator_set(struct vms_actuator *a, int pid, int tid, enum vms_level l,
				   struct vms_change *chg)
{
	memset(chg, 0, sizeof(*chg));
	struct entry *e = find(a, tid);
	struct vms_error *err;
	if (!e) {
		if (l == VMS_LEVEL_NORMAL)
			return NULL;   /* nothing to change, nothing to remember */
		if ((err = remember(a, pid, tid, &e)))
			return err;
	}
	return a->o.kind == VMS_ACT_NICE ? set_nice(a, e, l, chg) : set_shares(a, e, l, chg);
}

/* Undo @e (without the state file); a thread that is gone is fine. */
static struct vms_error *undo(enum vms_actuator_kind kind, const struct entry *e)
{
	unsigned long long st = 0;
	bool same = thread_starttime(e->pid, e->tid, &st) && st == e->starttime;
	char buf[32];
	if (kind == VMS_ACT_NICE) {
		if (same && setpriority(PRIO_PROCESS, (id_t)e->tid, e->orig_nice) < 0 && errno != ESRCH) {
			char where[64];
			snprintf(where, sizeof(where), "thread %d", e->tid);
			return errno_error("setpriority (restore) of", where);
		}
		return NULL;
	}
	struct vms_error *err = NULL;
	if (same) {
		char path[600];
		snprintf(path, sizeof(path), "%s/tasks", e->orig_cgroup);
		snprintf(buf, sizeof(buf), "%d", e->tid);
		err = write_str(path, buf);
		if (err && err->code == VMS_ERR_NOT_FOUND) {
			vms_error_free(err);   /* the thread exited meanwhile */
			err = NULL;
		}
	}
	if (!err && e->created[0] && rmdir(e->created) < 0 && errno != ENOENT)
		err = errno_error("remove cgroup", e->created);
	return err;
}

struct vms_error *vms_actuator_restore(struct vms_actuator *a, int tid)
{
	struct entry *e = find(a, tid);
	if (!e)
		return NULL;
	struct vms_error *err = a->o.dry_run ? NULL : undo(a->o.kind, e);
	e->live = false;
	struct vms_error *err2 = save_state(a);
	if (err) {
		vms_error_free(err2);
		return err;
	}
	return err2;
}

struct vms_error *vms_actuator_restore_all(struct vms_actuator *a)
{
	struct vms_error *first = NULL;
	for (size_t i = 0; i < a->n; i++) {
		if (!a->e[i].live)
			continue;
		struct vms_error *err = a->o.dry_run ? NULL : undo(a->o.kind, &a->e[i]);
		if (err && !first)
			first = err;
		else
			vms_error_free(err);
		a->e[i].live = false;
	}
	if (!first && a->o.state_file && !a->o.dry_run && unlink(a->o.state_file) < 0 &&
	    errno != ENOENT)
		first = errno_error("remove state file", a->o.state_file);
	return first;
}

void vms_actuator_close(struct vms_actuator *a)
{
	if (a) {
		free(a->e);
		free(a);
	}
}

struct vms_error *vms_actuator_restore_state(const char *path, unsigned *restored)
{
	*restored = 0;
	struct json_object *root = json_object_from_file(path);
	if (!root)
		return vms_error_create(errno == ENOENT ? VMS_ERR_NOT_FOUND : VMS_ERR_FORMAT,
					"state file %s: %s", path,
					errno == ENOENT ? "not found" : "not a vmsight sched state file");
	struct json_object *arr, *v;
	struct vms_error *first = NULL;
	if (!json_object_object_get_ex(root, "vmsight_sched_state", &v) ||
	    !json_object_object_get_ex(root, "threads", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		json_object_put(root);
		return vms_error_create(VMS_ERR_FORMAT, "state file %s: not a vmsight sched state file",
					path);
	}
	size_t n = json_object_array_length(arr);
	for (size_t i = 0; i < n && i < MAX_ENTRIES; i++) {
		struct json_object *o = json_object_array_get_idx(arr, i), *x;
		struct entry e = { 0 };
		enum vms_actuator_kind k = VMS_ACT_NICE;
		if (json_object_object_get_ex(o, "actuator", &x))
			vms_actuator_parse(json_object_get_string(x), &k);
		if (json_object_object_get_ex(o, "pid", &x))
			e.pid = json_object_get_int(x);
		if (json_object_object_get_ex(o, "tid", &x))
			e.tid = json_object_get_int(x);
		if (json_object_object_get_ex(o, "starttime", &x))
			e.starttime = json_object_get_uint64(x);
		if (json_object_object_get_ex(o, "nice", &x))
			e.orig_nice = json_object_get_int(x);
		if (json_object_object_get_ex(o, "cgroup", &x))
			snprintf(e.orig_cgroup, sizeof(e.orig_cgroup), "%s", json_object_get_string(x));
		if (json_object_object_get_ex(o, "created", &x))
			snprintf(e.created, sizeof(e.created), "%s", json_object_get_string(x));
		/* Only paths vmsight itself makes are removed. */
		if (e.tid <= 0 || (k == VMS_ACT_CGROUP_V1 && !strstr(e.created, "/vmsight-")))
			continue;
		struct vms_error *err = undo(k, &e);
		if (err && !first)
			first = err;
		else
			vms_error_free(err);
		if (!err)
			++*restored;
	}
	json_object_put(root);
	if (!first && unlink(path) < 0)
		first = errno_error("remove state file", path);
	return first;
}
