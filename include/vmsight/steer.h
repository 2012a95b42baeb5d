/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest-aware vCPU scheduling: a policy turns what each vCPU of a guest is
 * running (vms_sampler samples) into a level per vCPU (src/analysis/sched/),
 * and an actuator turns levels into host scheduler settings of the vCPU
 * threads, remembering what it changed so that it can be undone
 * (src/host/actuator.c).  vmsight sched is the loop around them.
 */
#ifndef VMSIGHT_STEER_H
#define VMSIGHT_STEER_H

#include <stdbool.h>
#include <stddef.h>

#include <vmsight/error.h>
#include <vmsight/sample.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vms_level { VMS_LEVEL_NORMAL, VMS_LEVEL_BOOST, VMS_LEVEL_DEMOTE };

const char *vms_level_name(enum vms_level l);   /* "normal", "boost", "demote" */

struct vms_policy_rules {
	const char *const *boost;        /* globs on the current task's comm */
	size_t nr_boost;
	const char *const *boost_cgroup; /* globs on its cgroup path in the guest */
	size_t nr_boost_cgroup;
	const char *const *demote;       /* globs: background tasks */
	size_t nr_demote;
	bool keep_idle;                  /* do not demote idle vCPUs */
	bool per_vm;                     /* one level for the whole guest: boost
					  * when any vCPU runs a boosted task */
	unsigned hysteresis;             /* samples a new level must hold (>= 1) */
};

struct vms_policy_decision {
	enum vms_level level;            /* what the vCPU should have now */
	bool changed;                    /* differs from the previous decision */
	char task[16];                   /* the task seen, "" if idle */
	int32_t pid;
	char reason[96];
};

struct vms_policy;

struct vms_error *vms_policy_new(const struct vms_policy_rules *rules, unsigned nr_vcpus,
				 struct vms_policy **ret);
void vms_policy_free(struct vms_policy *p);
/*
 * Feed one sample per vCPU (@s[vcpu], @n of them); write the decision for
 * each into @out[n].  A torn or invalid sample keeps the vCPU's previous
 * level and votes for nothing: a torn read is never acted on.
 */
void vms_policy_update(struct vms_policy *p, const struct vms_cpu_sample *s, unsigned n,
		       struct vms_policy_decision *out);

/* ---- the rules file (src/analysis/sched/rules.c) ---- */

/* Rules for many guests: a YAML file with "defaults:" and "guests:" (a list
 * of mappings with "guest: SPEC" and the keys boost, boost_cgroup, demote
 * (a glob or a list), keep_idle, per_vm, hysteresis).  The file's default
 * globs add to @base's (the command line's, may be NULL); its keep_idle,
 * per_vm and hysteresis apply unless @base sets them (hysteresis 0: unset).
 * A guest's own keys replace the defaults' for it.  Errors name the file
 * (@name) and line. */
struct vms_sched_rules;

struct vms_error *vms_sched_rules_parse(const char *text, size_t len, const char *name,
					const struct vms_policy_rules *base,
					struct vms_sched_rules **ret);
struct vms_error *vms_sched_rules_load(const char *path, const struct vms_policy_rules *base,
				       struct vms_sched_rules **ret);
/* The guests the file lists, in its order. */
size_t vms_sched_rules_nr_guests(const struct vms_sched_rules *r);
const char *vms_sched_rules_guest(const struct vms_sched_rules *r, size_t i);
/* The rules for guest @spec: its own entry, else the defaults.  Valid until
 * vms_sched_rules_free(). */
const struct vms_policy_rules *vms_sched_rules_for(const struct vms_sched_rules *r,
						   const char *spec);
void vms_sched_rules_free(struct vms_sched_rules *r);

/* ---- actuators (src/host/actuator.c) ---- */

enum vms_actuator_kind {
	VMS_ACT_AUTO,       /* cgroup v1 cpu when writable, else cgroup v2 with cpu, else nice */
	VMS_ACT_NICE,       /* setpriority() per thread: boost -10, demote +10 */
	VMS_ACT_CGROUP_V1,  /* a cpu cgroup per vCPU thread below its own, cpu.shares */
	VMS_ACT_CGROUP_V2,  /* threaded cgroups, cpu.weight (needs the v2 cpu controller) */
	VMS_ACT_XEN_CREDIT2,/* a Xen domain's credit2 weight from dom0 (src/host/actuator_xen.c):
			     * per domain, so the "tid" of set/restore is the domain id */
};

const char *vms_actuator_name(enum vms_actuator_kind k);   /* "nice", "cgroup1", ... */
/* "nice", "cgroup1", "cgroup2", "auto" -> kind; false if unknown. */
bool vms_actuator_parse(const char *name, enum vms_actuator_kind *k);

struct vms_actuator_options {
	enum vms_actuator_kind kind;
	const char *cgroup_v1_cpu;  /* NULL: /sys/fs/cgroup/cpu */
	const char *cgroup_v2;      /* NULL: /sys/fs/cgroup/unified, else /sys/fs/cgroup */
	const char *state_file;     /* where every change is recorded before it is made */
	int boost_nice, demote_nice;        /* default -10, 10 */
	unsigned boost_shares, demote_shares;  /* cgroup1: default 8192, 128 (the floor) */
	unsigned boost_weight, demote_weight;  /* cgroup2 cpu.weight: default 800, 12 */
	bool demote_idle;           /* demote with SCHED_IDLE (nice) or cpu.idle 1 (cgroups) */
	unsigned xen_boost_weight, xen_demote_weight;  /* xen-credit2: default 1024, 64 */
	bool dry_run;               /* decide and report, write nothing */
};

/* What one set() did (or would do, with dry_run). */
struct vms_change {
	int tid;
	char what[32];              /* "nice", "cpu.shares", "cpu.weight", "cpu.idle" */
	char old_value[32], new_value[32];
	char where[640];            /* the thread or cgroup file */
};

struct vms_actuator;

/* Open (and detect) the actuator; the error names the file or call and the
 * permission missing. */
struct vms_error *vms_actuator_open(const struct vms_actuator_options *o,
				    struct vms_actuator **ret);
enum vms_actuator_kind vms_actuator_kind(const struct vms_actuator *a);
/* Give thread @tid of process @pid level @l; *@chg says what changed
 * (chg->tid 0 when nothing did). */
struct vms_error *vms_actuator_set(struct vms_actuator *a, int pid, int tid, enum vms_level l,
				   struct vms_change *chg);
/* Put thread @tid back as it was (a thread that exited is forgotten). */
struct vms_error *vms_actuator_restore(struct vms_actuator *a, int tid);
/* Restore everything, remove what was created and the state file. */
struct vms_error *vms_actuator_restore_all(struct vms_actuator *a);
void vms_actuator_close(struct vms_actuator *a);
/* Undo what the state file @path records (a run killed with SIGKILL). */
struct vms_error *vms_actuator_restore_state(const char *path, unsigned *restored);

#ifdef __cplusplus
}
#endif
#endif
