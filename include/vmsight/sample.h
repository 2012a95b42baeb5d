/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The live sampler (src/os/linux/cpusample.c): what every CPU of a guest is
 * running right now, cheap enough to read many times a second (a handful
 * of small reads per CPU once vms_sampler_new() has resolved the layout).
 * Front ends: vmsight sched, and any poller.
 */
#ifndef VMSIGHT_SAMPLE_H
#define VMSIGHT_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_cpu_sample {
	unsigned cpu;
	bool valid;           /* every field below was read */
	bool torn;            /* rq->curr changed while it was read (the guest
			       * switched tasks): do not act on this sample */
	bool idle;            /* rq->curr is the CPU's idle task */
	uint32_t nr_running;  /* rq->nr_running */
	uint64_t task;        /* rq->curr */
	int32_t pid, tgid;
	char comm[16];
	char cgroup[256];     /* the task's cgroup in the default (v2) hierarchy,
			       * "/" for the root, "" if not known */
};

struct vms_sampler;

struct vms_error *vms_sampler_new(struct vms_kernel *k, struct vms_sampler **ret);
void vms_sampler_free(struct vms_sampler *s);
/* Number of CPUs sampled (nr_cpu_ids, capped). */
unsigned vms_sampler_nr_cpus(const struct vms_sampler *s);
/*
 * Sample every CPU into @out[vms_sampler_nr_cpus()].  A CPU whose runqueue
 * cannot be read gets valid false; the call fails only when none could.
 */
struct vms_error *vms_sampler_read(struct vms_sampler *s, struct vms_cpu_sample *out);
/* jiffies_64 now: a guest whose jiffies stop moving is paused or stuck. */
struct vms_error *vms_sampler_jiffies(struct vms_sampler *s, uint64_t *jiffies);

#ifdef __cplusplus
}
#endif
#endif
