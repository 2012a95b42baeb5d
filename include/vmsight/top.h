/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A live top of one guest (src/analysis/top/): each refresh reads the
 * guest's tasks and system counters from its memory and turns the change
 * since the previous refresh into rates (%CPU per task, per-CPU busy
 * split), as top computes them from /proc; beside them, what the host sees
 * of the QEMU process that runs the guest.  Front ends (vmsight top, the
 * exporter, bindings) only render the snapshot.
 */
#ifndef VMSIGHT_TOP_H
#define VMSIGHT_TOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/host.h>
#include <vmsight/kernel.h>
#include <vmsight/sysstat.h>
#include <vmsight/xenhost.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_top_options {
	bool threads;          /* a row per thread (top -H), else per process */
	int host_pid;          /* the QEMU process on this host, 0 for none */
	const char *procfs;    /* host procfs, NULL for /proc */
	bool xen;              /* a Xen domain: the host panel is xentop's view of */
	uint32_t xen_domid;    /* ... this domain (libxenctrl, in dom0) */
};

struct vms_top_task {
	int32_t pid;           /* thread id in thread mode, else process id */
	int32_t tgid, ppid;
	uint32_t uid;
	char state;
	int32_t prio, nice;    /* task->prio (0-99 RT, 100-139 fair), nice */
	uint32_t policy;
	int cpu;               /* guest CPU it last ran on */
	bool kthread;
	bool is_new;           /* not in the previous refresh: %CPU is over its lifetime */
	bool clamped;          /* %CPU came out above what one thread (or the
				* process's threads) can use: read torn, capped */
	bool partial;          /* a counter could not be read */
	double cpu_percent;    /* 100 = one CPU, as top's default (Irix mode) */
	uint64_t time_ns;      /* CPU time so far (TIME+) */
	uint64_t start_time_ns;  /* since guest boot: with pid, the task's identity */
	uint64_t rss_kb, virt_kb;
	char comm[64];
};

/* One guest CPU's split of the interval, in percent (sums to ~100). */
struct vms_top_cpu {
	unsigned cpu;
	bool online;
	double user, nice, system, idle, iowait, irq, softirq, steal;
};

/* One vCPU thread of the QEMU process, over the interval. */
struct vms_top_vcpu {
	int vcpu, tid;
	double cpu_percent;    /* host CPU time used, 100 = one host CPU */
	double wait_percent;   /* time runnable but waiting for a host CPU (QEMU only) */
	char state;            /* QEMU: the thread's; Xen: 'r' running, 'b' blocked, '-' */
	int pcpu;              /* host (physical) CPU it runs or last ran on, -1 unknown */
};

struct vms_top_host {
	bool present;          /* a QEMU process (or Xen domain) was named and could be read */
	bool gone;             /* it was, and has exited (been destroyed) */
	int pid;
	double cpu_percent;    /* the whole process; Xen: xentop's CPU(%) */
	uint64_t rss_kb;
	bool xen;              /* a Xen domain: xen below holds xentop's columns */
	struct vms_xen_domain xen_dom;
	struct vms_top_vcpu *vcpus;
	size_t nr_vcpus;
};

struct vms_top_snapshot {
	double interval_s;     /* guest time since the previous refresh, 0 first */
	struct vms_sysstat sys;
	double load[3];        /* avenrun as /proc/loadavg prints it */
	bool has_mem;
	struct vms_meminfo mem;
	/* tasks by state, counted per process or per thread as the rows are */
	unsigned nr_tasks, nr_running, nr_sleeping, nr_stopped, nr_zombie, nr_idle;
	struct vms_top_cpu *cpus;          /* [nr_cpus] */
	unsigned nr_cpus;
	struct vms_top_cpu cpu_total;      /* over every online CPU */
	struct vms_top_task *tasks;        /* walk order; see vms_top_sort() */
	size_t nr_tasks_listed;
	unsigned duplicates;               /* rows dropped: the same task twice */
	bool truncated;                    /* the task walk ended early */
	char reason[256];
	struct vms_top_host host;
};

struct vms_top;

struct vms_error *vms_top_new(struct vms_kernel *k, const struct vms_top_options *opts,
			      struct vms_top **ret);
void vms_top_free(struct vms_top *top);

/*
 * Read the guest (and the host process) once more.  *@snap stays valid
 * until the next refresh or vms_top_free().  An error means nothing could
 * be read (the kernel objects the walk needs are gone or garbage).
 */
struct vms_error *vms_top_refresh(struct vms_top *top,
				  const struct vms_top_snapshot **snap);

enum vms_top_sort { VMS_TOP_SORT_CPU, VMS_TOP_SORT_MEM, VMS_TOP_SORT_PID, VMS_TOP_SORT_TIME };
/* Sort rows as top's P, M, N and T keys do (largest first; PID ascending). */
void vms_top_sort(struct vms_top_task *tasks, size_t n, enum vms_top_sort key);

#ifdef __cplusplus
}
#endif
#endif
