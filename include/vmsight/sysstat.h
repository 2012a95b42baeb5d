/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole-system figures of a Linux guest, computed from guest memory as the
 * guest's own /proc would compute them: /proc/uptime, /proc/loadavg, the
 * per-CPU lines of /proc/stat and /proc/meminfo (src/os/linux/sysstat.c).
 * Each call re-reads guest memory; on a live guest, take them between two
 * pauses or accept that they are read while they change.
 */
#ifndef VMSIGHT_SYSSTAT_H
#define VMSIGHT_SYSSTAT_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_sysstat {
	/* Time since boot: (jiffies_64 - INITIAL_JIFFIES) / HZ, HZ from
	 * tick_nsec, or a CPU's latest idle entry when later (NO_HZ stops
	 * jiffies while all CPUs sleep).  /proc/uptime agrees to a tick on a
	 * busy guest; on a guest paused while idle, it is the last moment the
	 * guest recorded. */
	uint64_t uptime_ns;
	uint64_t jiffies;            /* jiffies_64 as read */
	unsigned hz;                 /* CONFIG_HZ, inferred */
	/* /proc/loadavg */
	uint64_t avenrun[3];         /* fixed point, FSHIFT 11 (FIXED_1 2048) */
	uint32_t nr_threads;         /* the kernel's nr_threads */
	uint32_t nr_running;         /* sum of rq->nr_running over CPUs */
	int32_t last_pid;            /* init_pid_ns's idr cursor - 1 */
	unsigned nr_cpu_ids;
	unsigned nr_cpus_online;
};

/* /proc/stat's per-CPU counters, in ns (kernel_cpustat; /proc shows them
 * in USER_HZ ticks).  idle and iowait are what /proc/stat prints: on a
 * NO_HZ kernel the tick_sched sleep times of an online CPU. */
struct vms_cpu_times {
	unsigned cpu;
	bool online;
	uint64_t user, nice, system, idle, iowait, irq, softirq, steal, guest,
		guest_nice;
};

/* /proc/meminfo, in kB. */
struct vms_meminfo {
	uint64_t total;              /* MemTotal: totalram_pages */
	uint64_t free;               /* MemFree: NR_FREE_PAGES */
	uint64_t available;          /* MemAvailable: si_mem_available() */
	uint64_t buffers;            /* Buffers: block device page cache */
	uint64_t cached;             /* Cached: file pages - swap cache - buffers */
	uint64_t shmem;              /* Shmem */
	uint64_t sreclaimable;       /* SReclaimable */
	uint64_t swap_total, swap_free;
	bool has_buffers;            /* Buffers could be computed */
};

/* Uptime, load average and task counts. */
struct vms_error *vms_linux_sysstat(struct vms_kernel *k, struct vms_sysstat *out);
/* One CPU's counters; @cpu < nr_cpu_ids. */
struct vms_error *vms_linux_cpu_times(struct vms_kernel *k, unsigned cpu,
				      struct vms_cpu_times *out);
struct vms_error *vms_linux_meminfo(struct vms_kernel *k, struct vms_meminfo *out);

#ifdef __cplusplus
}
#endif
#endif
