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
 * cgroup1, cgroup2: a cpu cgroup of its own per thread (actuator_cgroup.c).
 * This file keeps the records, the state file and the nice backend.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actuator_priv.h"
#include "util/vec.h"

#define MAX_ENTRIES 65536

const char *vms_actuator_name(enum vms_actuator_kind k)
{
	switch (k) {
	case VMS_ACT_NICE: return "nice";
	case VMS_ACT_CGROUP_V1: return "cgroup1";
	case VMS_ACT_CGROUP_V2: return "cgroup2";
	case VMS_ACT_XEN_CREDIT2: return "xen-credit2";
	default: return "auto";
	}
}

bool vms_actuator_parse(const char *name, enum vms_actuator_kind *k)
{
	static const enum vms_actuator_kind all[] = { VMS_ACT_AUTO, VMS_ACT_NICE,
						      VMS_ACT_CGROUP_V1, VMS_ACT_CGROUP_V2,
						      VMS_ACT_XEN_CREDIT2 };
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

struct vms_error *act_errno_error(const char *what, const char *where)
{
	int e = errno;
	const char *hint = e == EACCES || e == EPERM ?
		" (permission denied: run as root, or with CAP_SYS_NICE for nice and write access to the cgroup)" : "";
	return vms_error_create(e == ENOENT || e == ESRCH ? VMS_ERR_NOT_FOUND : VMS_ERR_IO,
				"%s %s: %s%s", what, where, strerror(e), hint);
}

bool act_read_line(const char *path, char *buf, size_t n)
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

struct vms_error *act_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return act_errno_error("open", path);
	ssize_t w = write(fd, s, strlen(s));
	struct vms_error *err = w < 0 ? act_errno_error("write to", path) : NULL;
	close(fd);
	return err;
}

bool act_thread_starttime(int pid, int tid, unsigned long long *st)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (!act_read_line(path, buf, sizeof(buf)))
		return false;
	char *p = strrchr(buf, ')');
	/* after ')': state is field 3; starttime is field 22 */
	int field = 2;
	for (p = p ? p + 1 : NULL; p && *p; p++)
		if (*p == ' ' && ++field == 22)
			return sscanf(p + 1, "%llu", st) == 1;
	return false;
}

/* ---- the state file ---- */

static struct json_object *entry_json(const struct act_entry *e, enum vms_actuator_kind k)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "actuator", json_object_new_string(vms_actuator_name(k)));
	json_object_object_add(o, "pid", json_object_new_int(e->pid));
	json_object_object_add(o, "tid", json_object_new_int(e->tid));
	json_object_object_add(o, "starttime", json_object_new_uint64(e->starttime));
	if (k == VMS_ACT_NICE) {
		json_object_object_add(o, "nice", json_object_new_int(e->orig_nice));
		json_object_object_add(o, "policy", json_object_new_int(e->orig_policy));
		json_object_object_add(o, "rtprio", json_object_new_int(e->orig_rtprio));
	} else {
		json_object_object_add(o, "cgroup", json_object_new_string(e->orig_cgroup));
		json_object_object_add(o, "created", json_object_new_string(e->created));
		if (e->enabled_cpu)
			json_object_object_add(o, "enabled_cpu", json_object_new_boolean(true));
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
		err = act_errno_error("create state file", tmp);
	} else {
		const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
		/* No fsync: the file must outlive this process (kill -9), which the
		 * page cache ensures; a host crash resets the settings anyway,
		 * and the sampling loop must not wait on the disk. */
		if (write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0)
			err = act_errno_error("write state file", tmp);
		close(fd);
		if (!err && rename(tmp, a->o.state_file) < 0)
			err = act_errno_error("rename state file to", a->o.state_file);
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
	if (a->o.kind == VMS_ACT_XEN_CREDIT2) {   /* per Xen domain: actuator_xen.c */
		struct vms_error *err = act_xen_open(&a->o, &a->xen);
		if (err) {
			free(a);
			return err;
		}
		*ret = a;
		return NULL;
	}
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
	if (!a->o.boost_weight)
		a->o.boost_weight = 800;
	if (!a->o.demote_weight)
		a->o.demote_weight = 12;
	if (a->o.boost_weight > 10000 || a->o.demote_weight < 1 || a->o.demote_weight > 10000) {
		free(a);
		return vms_error_create(VMS_ERR_INVALID, "cpu.weight must be 1..10000 (boost %u, demote %u)",
					o->boost_weight, o->demote_weight);
	}
	/* Where cgroup v2 is: the hybrid layout's /sys/fs/cgroup/unified, else
	 * the unified layout's /sys/fs/cgroup. */
	if (o->cgroup_v2)
		snprintf(a->v2, sizeof(a->v2), "%s", o->cgroup_v2);
	else
		snprintf(a->v2, sizeof(a->v2), "%s",
			 access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0 ?
			 "/sys/fs/cgroup/unified" : "/sys/fs/cgroup");
	char why[400];
	if (a->o.kind == VMS_ACT_AUTO)
		a->o.kind = access(probe, W_OK) == 0 ? VMS_ACT_CGROUP_V1 :
			    act_cgroup_v2_has_cpu(a->v2, why, sizeof(why)) ? VMS_ACT_CGROUP_V2 :
			    VMS_ACT_NICE;
	if (a->o.kind == VMS_ACT_CGROUP_V1 && !a->o.dry_run && access(probe, W_OK) != 0) {
		struct vms_error *err = act_errno_error("cgroup v1 cpu controller:", probe);
		free(a);
		return err;
	}
	if (a->o.kind == VMS_ACT_CGROUP_V2 && !act_cgroup_v2_has_cpu(a->v2, why, sizeof(why))) {
		free(a);
		return vms_error_create(VMS_ERR_UNSUPPORTED, "cgroup2 actuator: %s", why);
	}
	*ret = a;
	return NULL;
}

static struct act_entry *find(struct vms_actuator *a, int tid)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->e[i].live && a->e[i].tid == tid)
			return &a->e[i];
	return NULL;
}

/* Remember thread @tid as it is now, in memory and in the state file. */
static struct vms_error *remember(struct vms_actuator *a, int pid, int tid, struct act_entry **ret)
{
	if (a->n >= MAX_ENTRIES)
		return vms_error_create(VMS_ERR_INVALID, "more than %d threads steered", MAX_ENTRIES);
	struct act_entry e = { .pid = pid, .tid = tid };
	char where[64];
	snprintf(where, sizeof(where), "thread %d of process %d", tid, pid);
	if (!act_thread_starttime(pid, tid, &e.starttime)) {
		errno = ESRCH;
		return act_errno_error("read /proc of", where);
	}
	if (a->o.kind == VMS_ACT_NICE) {
		errno = 0;
		e.orig_nice = getpriority(PRIO_PROCESS, (id_t)tid);
		if (errno)
			return act_errno_error("getpriority of", where);
		struct sched_param sp = { 0 };
		e.orig_policy = sched_getscheduler(tid);
		if (e.orig_policy < 0 || sched_getparam(tid, &sp) < 0)
			return act_errno_error("sched_getscheduler of", where);
		e.orig_rtprio = sp.sched_priority;
	} else {
		struct vms_error *err = act_cgroup_remember(a, &e);
		if (err)
			return err;
	}
	e.live = true;
	if (!vms_vec_append((void **)&a->e, &a->n, &a->cap, sizeof(e), &e))
		return &vms_error_nomem;
	struct vms_error *err = save_state(a);
	if (err) {
		a->n--;
		return err;
	}
	*ret = &a->e[a->n - 1];
	return NULL;
}

static const char *policy_name(int p)
{
	switch (p) {
	case SCHED_OTHER: return "SCHED_OTHER";
	case SCHED_BATCH: return "SCHED_BATCH";
	case SCHED_IDLE: return "SCHED_IDLE";
	case SCHED_FIFO: return "SCHED_FIFO";
	case SCHED_RR: return "SCHED_RR";
	default: return "other";
	}
}

/* With demote_idle, demote is SCHED_IDLE; boost and normal give the thread
 * its own policy back first, then a nice value. */
static struct vms_error *set_nice(struct vms_actuator *a, struct act_entry *e, enum vms_level l,
				  struct vms_change *chg)
{
	char where[64];
	snprintf(where, sizeof(where), "thread %d of process %d", e->tid, e->pid);
	int policy = sched_getscheduler(e->tid);
	if (policy < 0)
		return act_errno_error("sched_getscheduler of", where);
	bool idle = a->o.demote_idle && l == VMS_LEVEL_DEMOTE;
	int want_policy = idle ? SCHED_IDLE : e->orig_policy;
	if (policy != want_policy) {
		chg->tid = e->tid;
		snprintf(chg->what, sizeof(chg->what), "policy");
		snprintf(chg->old_value, sizeof(chg->old_value), "%s", policy_name(policy));
		snprintf(chg->new_value, sizeof(chg->new_value), "%s", policy_name(want_policy));
		snprintf(chg->where, sizeof(chg->where), "%s", where);
		struct sched_param sp = { .sched_priority = idle ? 0 : e->orig_rtprio };
		if (!a->o.dry_run && sched_setscheduler(e->tid, want_policy, &sp) < 0)
			return act_errno_error("sched_setscheduler of", where);
	}
	if (idle)
		return NULL;
	int want = l == VMS_LEVEL_BOOST ? a->o.boost_nice :
		   l == VMS_LEVEL_DEMOTE ? a->o.demote_nice : e->orig_nice;
	errno = 0;
	int now = getpriority(PRIO_PROCESS, (id_t)e->tid);
	if (errno)
		return act_errno_error("getpriority of", where);
	if (now == want)
		return NULL;
	if (!chg->tid) {
		chg->tid = e->tid;
		snprintf(chg->what, sizeof(chg->what), "nice");
		snprintf(chg->old_value, sizeof(chg->old_value), "%d", now);
		snprintf(chg->new_value, sizeof(chg->new_value), "%d", want);
		snprintf(chg->where, sizeof(chg->where), "%s", where);
	}
	if (!a->o.dry_run && setpriority(PRIO_PROCESS, (id_t)e->tid, want) < 0)
		return act_errno_error("setpriority of", where);
	return NULL;
}

struct vms_error *vms_actuator_set(struct vms_actuator *a, int pid, int tid, enum vms_level l,
				   struct vms_change *chg)
{
	memset(chg, 0, sizeof(*chg));
	if (a->xen)
		return act_xen_set(a->xen, tid, l, chg);
	struct act_entry *e = find(a, tid);
	struct vms_error *err;
	if (!e) {
		if (l == VMS_LEVEL_NORMAL)
			return NULL;   /* nothing to change, nothing to remember */
		if ((err = remember(a, pid, tid, &e)))
			return err;
	}
	if (a->o.kind == VMS_ACT_NICE)
		return set_nice(a, e, l, chg);
	bool had_cpu = e->enabled_cpu;
	err = act_cgroup_set(a, e, l, chg);
	/* Record that +cpu was added, so that --restore takes it back out. */
	if (!err && e->enabled_cpu != had_cpu)
		err = save_state(a);
	return err;
}

/* Undo @e (without the state file); a thread that is gone is fine. */
static struct vms_error *undo(enum vms_actuator_kind kind, const struct act_entry *e)
{
	unsigned long long st = 0;
	bool same = act_thread_starttime(e->pid, e->tid, &st) && st == e->starttime;
	if (kind != VMS_ACT_NICE)
		return act_cgroup_undo(kind, e, same);
	if (!same)
		return NULL;
	char where[64];
	snprintf(where, sizeof(where), "thread %d", e->tid);
	struct sched_param sp = { .sched_priority = e->orig_rtprio };
	int policy = sched_getscheduler(e->tid);
	if (policy >= 0 && policy != e->orig_policy &&
	    sched_setscheduler(e->tid, e->orig_policy, &sp) < 0 && errno != ESRCH)
		return act_errno_error("sched_setscheduler (restore) of", where);
	if (setpriority(PRIO_PROCESS, (id_t)e->tid, e->orig_nice) < 0 && errno != ESRCH)
		return act_errno_error("setpriority (restore) of", where);
	return NULL;
}

struct vms_error *vms_actuator_restore(struct vms_actuator *a, int tid)
{
	if (a->xen)
		return act_xen_restore(a->xen, tid);
	struct act_entry *e = find(a, tid);
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
	struct vms_error *first = a->xen ? act_xen_restore_all(a->xen) : NULL;
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
		first = act_errno_error("remove state file", a->o.state_file);
	return first;
}

void vms_actuator_close(struct vms_actuator *a)
{
	if (a) {
		act_xen_close(a->xen);
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
		struct act_entry e = { 0 };
		enum vms_actuator_kind k = VMS_ACT_NICE;
		if (json_object_object_get_ex(o, "actuator", &x))
			vms_actuator_parse(json_object_get_string(x), &k);
		if (k == VMS_ACT_XEN_CREDIT2) {   /* a domain's weight: actuator_xen.c */
			bool undone;
			struct vms_error *err = act_xen_restore_entry(o, &undone);
			if (err && !first)
				first = err;
			else
				vms_error_free(err);
			*restored += undone;
			continue;
		}
		if (json_object_object_get_ex(o, "pid", &x))
			e.pid = json_object_get_int(x);
		if (json_object_object_get_ex(o, "tid", &x))
			e.tid = json_object_get_int(x);
		if (json_object_object_get_ex(o, "starttime", &x))
			e.starttime = json_object_get_uint64(x);
		if (json_object_object_get_ex(o, "nice", &x))
			e.orig_nice = json_object_get_int(x);
		if (json_object_object_get_ex(o, "policy", &x))
			e.orig_policy = json_object_get_int(x);
		if (json_object_object_get_ex(o, "rtprio", &x))
			e.orig_rtprio = json_object_get_int(x);
		if (json_object_object_get_ex(o, "cgroup", &x))
			snprintf(e.orig_cgroup, sizeof(e.orig_cgroup), "%s", json_object_get_string(x));
		if (json_object_object_get_ex(o, "created", &x))
			snprintf(e.created, sizeof(e.created), "%s", json_object_get_string(x));
		if (json_object_object_get_ex(o, "enabled_cpu", &x))
			e.enabled_cpu = json_object_get_boolean(x);
		/* Only paths vmsight itself makes are removed. */
		if (e.tid <= 0 || (k != VMS_ACT_NICE && !strstr(e.created, "/vmsight-")))
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
		first = act_errno_error("remove state file", path);
	return first;
}
