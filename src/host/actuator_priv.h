/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside the actuators (src/host/actuator*.c): the record of one steered
 * thread and the backends that change and undo it.  actuator.c keeps the
 * records and the state file; each backend knows one kind of setting.
 */
#ifndef VMSIGHT_ACTUATOR_PRIV_H
#define VMSIGHT_ACTUATOR_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <vmsight/steer.h>

struct act_entry {
	int pid, tid;
	unsigned long long starttime;   /* /proc/PID/task/TID/stat field 22 */
	int orig_nice;
	int orig_policy, orig_rtprio;   /* nice: sched_getscheduler(), its priority */
	char orig_cgroup[512];          /* cgroup1/2: the cgroup directory it was in */
	char created[560];              /* cgroup1/2: the one made for it */
	bool enabled_cpu;               /* cgroup2: we added +cpu to orig's subtree_control */
	bool live;
};

struct vms_actuator {
	struct vms_actuator_options o;
	char v1[256];                   /* cgroup v1 cpu controller mount */
	char v2[256];                   /* cgroup v2 mount */
	struct act_entry *e;
	size_t n, cap;
	struct act_xen *xen;            /* xen-credit2: its own records (actuator_xen.c) */
};

/* ---- helpers (actuator.c) ---- */
struct vms_error *act_errno_error(const char *what, const char *where);
bool act_read_line(const char *path, char *buf, size_t n);
struct vms_error *act_write_str(const char *path, const char *s);
bool act_thread_starttime(int pid, int tid, unsigned long long *st);

/* ---- cgroup backends (actuator_cgroup.c) ---- */
/* Fill @e's original cgroup and the one to create for it. */
struct vms_error *act_cgroup_remember(const struct vms_actuator *a, struct act_entry *e);
/* Move the thread into its own cgroup (once) and give it level @l. */
struct vms_error *act_cgroup_set(struct vms_actuator *a, struct act_entry *e, enum vms_level l,
				 struct vms_change *chg);
/* Put the thread back in its cgroup and remove the one made for it. */
struct vms_error *act_cgroup_undo(enum vms_actuator_kind kind, const struct act_entry *e,
				  bool same_thread);
/* Whether @root is a cgroup v2 mount whose cgroup.controllers lists cpu;
 * *@why says what is missing otherwise. */
bool act_cgroup_v2_has_cpu(const char *root, char *why, size_t n);

/* ---- xen-credit2 (actuator_xen.c): per domain, @tid is the domain id ---- */
struct json_object;
struct act_xen;
struct vms_error *act_xen_open(const struct vms_actuator_options *o, struct act_xen **ret);
struct vms_error *act_xen_set(struct act_xen *x, int tid, enum vms_level l,
			      struct vms_change *chg);
struct vms_error *act_xen_restore(struct act_xen *x, int tid);
/* Every weight back (the state file is left to the caller). */
struct vms_error *act_xen_restore_all(struct act_xen *x);
void act_xen_close(struct act_xen *x);
/* Undo one "xen-credit2" entry of a state file; *@undone when it was put
 * back or there was nothing left to put back (domain gone). */
struct vms_error *act_xen_restore_entry(struct json_object *o, bool *undone);

#endif
