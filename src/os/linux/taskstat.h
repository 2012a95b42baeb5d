/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-task counters for VMS_TASKS_STATS (src/os/linux/taskstat.c), used by
 * the task walk. */
#ifndef VMSIGHT_OS_LINUX_TASKSTAT_H
#define VMSIGHT_OS_LINUX_TASKSTAT_H

#include <vmsight/linux.h>

struct taskstat_layout {
	struct vms_field prio, static_prio, policy, runtime, utime, stime,
		start_time, signal, thread_head, thread_node;
	/* signal_struct totals of the group's dead threads */
	struct vms_field sig_runtime, sig_utime, sig_stime;
	bool has_signal_totals, has_threads;
	/* mm_struct */
	struct vms_field total_vm, rss;
	uint32_t rss_stride, rss_count_off, rss_n;  /* elements of mm->rss_stat */
	int64_t mm_file, mm_anon, mm_shmem;         /* enum indices */
	bool has_rss;
};

/* Offsets from BTF; an error when a required member is missing.  @task_size
 * bounds the members read from the task copy. */
struct vms_error *vms_taskstat_layout(struct vms_kernel *k, size_t task_size,
				      struct taskstat_layout *L);
/* Fill @t's stats from its task_struct copy @buf (@t->mm set).  @group: add
 * the other threads' and the dead threads' counters (process mode). */
void vms_taskstat_fill(struct vms_kernel *k, const struct taskstat_layout *L,
		       const uint8_t *buf, bool group, struct vms_task *t);

#endif
