/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Views of a Linux guest built on a discovered kernel. */
#ifndef VMSIGHT_LINUX_H
#define VMSIGHT_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_task {
	uint64_t addr;        /* task_struct */
	int32_t pid;          /* thread id */
	int32_t tgid;         /* process id */
	int32_t ppid;         /* tgid of real_parent */
	uint32_t uid, euid, gid;
	char state;           /* as ps shows it: R S D T t X Z P I */
	uint32_t raw_state;   /* __state | exit_state */
	uint32_t flags;       /* PF_* */
	bool kthread;
	int cpu;              /* CPU the task last ran on, -1 if unknown */
	uint64_t mm;
	uint32_t nr_threads;  /* for a leader: threads in the group (walked) */
	char comm[64];        /* as /proc shows it: workqueue workers get
				 their "-desc" or "+desc" suffix */
	char base_comm[16];   /* task->comm itself */
};

enum {
	VMS_TASKS_THREADS = 1,  /* every thread, not only group leaders */
};

/* Return non-zero to stop the walk. */
typedef int (*vms_task_fn)(const struct vms_task *task, void *arg);

struct vms_walk_result {
	size_t count;         /* tasks reported */
	bool truncated;       /* the walk ended early on corrupt or hostile data */
	char reason[256];     /* why, naming the address */
};

/*
 * Walk the task list from init_task (pid 0 itself excluded), calling @fn
 * for each process, or each thread with VMS_TASKS_THREADS.  A corrupt list
 * (cycle, broken back link, unreadable or absurd pointer) ends the walk
 * with @res->truncated set and a warning logged; the error return is kept
 * for what makes the walk impossible (missing symbol or type).
 */
struct vms_error *vms_linux_for_each_task(struct vms_kernel *k, unsigned flags,
					  vms_task_fn fn, void *arg,
					  struct vms_walk_result *res);

#ifdef __cplusplus
}
#endif
#endif
