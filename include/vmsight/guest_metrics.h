/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A guest as Prometheus metrics (src/export/guest_metrics.c): opens a
 * guest, and at each collection reads it (tasks, load, memory and the host
 * side through vms_top; the thread walk; per-CPU /proc/stat counters and
 * runqueues; modules; ftrace's control words; the rootkit checks on their
 * own schedule) into a metric set (vms_prom_set).  vmsight exporter runs
 * one per guest in a thread of its own; any front end that wants a guest's
 * figures as metrics (a push gateway, Python) uses the same.  Not
 * thread-safe: one collector per thread.
 */
#ifndef VMSIGHT_GUEST_METRICS_H
#define VMSIGHT_GUEST_METRICS_H

#include <stdbool.h>

#include <vmsight/error.h>
#include <vmsight/kernel.h>
#include <vmsight/prom.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The metric families, in output order (the schema of vmsight exporter;
 * names, types and help in vms_guest_metric_families). */
enum vms_guest_metric {
	/* the exporter itself */
	VMS_M_EXPORTER_GUESTS,
	VMS_M_EXPORTER_START,
	VMS_M_EXPORTER_REQUESTS,
	VMS_M_EXPORTER_DISCOVERY_RUNS,
	VMS_M_EXPORTER_DISCOVERY_ERRORS,
	VMS_M_PROCESS_CPU,
	VMS_M_PROCESS_RSS,
	VMS_M_PROCESS_VSZ,
	VMS_M_PROCESS_FDS,
	VMS_M_PROCESS_START,
	/* per guest: status (made at scrape time) */
	VMS_M_GUEST_UP,
	VMS_M_GUEST_SCRAPE_ERROR,
	VMS_M_SCRAPE_DURATION,
	VMS_M_SCRAPE_SUCCESS,
	VMS_M_GUEST_DISCOVERY,
	VMS_M_GUEST_LAST_COLLECTION,
	VMS_M_GUEST_COLLECTIONS,
	VMS_M_GUEST_COLLECTION_ERRORS,
	VMS_M_GUEST_TIMEOUTS,
	VMS_M_GUEST_WARNINGS,
	VMS_M_GUEST_SAMPLES_DROPPED,
	/* per guest: the collected snapshot */
	VMS_M_SCRAPE_COLLECTOR_SUCCESS,
	VMS_M_SCRAPE_COLLECTOR_DURATION,
	VMS_M_GUEST_INFO,
	VMS_M_GUEST_KERNEL_INFO,
	VMS_M_GUEST_UPTIME,
	VMS_M_GUEST_PROCESSES,
	VMS_M_GUEST_THREADS,
	VMS_M_GUEST_NR_RUNNING,
	VMS_M_GUEST_CPUS_ONLINE,
	VMS_M_GUEST_CPU_NR_RUNNING,
	VMS_M_GUEST_LOAD1,
	VMS_M_GUEST_LOAD5,
	VMS_M_GUEST_LOAD15,
	VMS_M_GUEST_MEM_TOTAL,
	VMS_M_GUEST_MEM_FREE,
	VMS_M_GUEST_MEM_AVAILABLE,
	VMS_M_GUEST_MEM_CACHED,
	VMS_M_GUEST_MEM_BUFFERS,
	VMS_M_GUEST_MEM_SHMEM,
	VMS_M_GUEST_MEM_SRECLAIMABLE,
	VMS_M_GUEST_SWAP_TOTAL,
	VMS_M_GUEST_SWAP_FREE,
	VMS_M_GUEST_CPU_SECONDS,
	VMS_M_GUEST_CPU_GUEST_SECONDS,
	VMS_M_GUEST_MODULES,
	VMS_M_GUEST_WALK_TRUNCATED,
	VMS_M_GUEST_PROCESS_CPU,
	VMS_M_GUEST_QEMU_CPU,
	VMS_M_GUEST_QEMU_RSS,
	VMS_M_GUEST_VCPU_CPU,
	VMS_M_GUEST_VCPU_WAIT,
	VMS_M_GUEST_FTRACE_RECORDING,
	VMS_M_GUEST_FTRACE_INFO,
	VMS_M_GUEST_FTRACE_ENTRIES,
	VMS_M_GUEST_FTRACE_OVERRUN,
	VMS_M_CHECK_FINDINGS,
	VMS_M_CHECK_LAST_RUN,
	VMS_M_CHECK_DURATION,
	VMS_M_CHECK_SKIPPED,
	VMS_M_NR_FAMILIES
};

extern const struct vms_prom_family vms_guest_metric_families[VMS_M_NR_FAMILIES];

struct vms_guest_metrics_options {
	int host_pid;              /* the QEMU serving the guest, 0 unknown */
	unsigned top;              /* busiest processes listed (0: none) */
	vms_log_fn log;            /* discovery steps and warnings; may be NULL */
	void *log_arg;
};

struct vms_guest_metrics;

/* Open guest @spec (a source spec) and discover its kernel. */
struct vms_error *vms_guest_metrics_open(const char *spec,
					 const struct vms_guest_metrics_options *o,
					 struct vms_guest_metrics **ret);
void vms_guest_metrics_close(struct vms_guest_metrics *gm);
const struct vms_kernel_info *vms_guest_metrics_kernel(const struct vms_guest_metrics *gm);
/* Why the source is gone (its RAM file removed or replaced, its QEMU
 * exited: a mapping outlives both), or NULL while it is there. */
const char *vms_guest_metrics_vanished(const struct vms_guest_metrics *gm);
/*
 * One collection into @set (made with vms_guest_metric_families), every
 * sample labelled guest=@label first.  An error when the guest could not
 * be read at all (its task walk failed); a collector of the rest that
 * fails says so in vmsight_scrape_collector_success.
 */
struct vms_error *vms_guest_metrics_collect(struct vms_guest_metrics *gm, const char *label,
					    struct vms_prom_set *set);
/* Run the rootkit checks; their results go into every later collection.
 * False if a check could not run (said through the log at INFO). */
bool vms_guest_metrics_run_checks(struct vms_guest_metrics *gm);

#ifdef __cplusplus
}
#endif
#endif
