/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's side of a guest (src/host/): the QEMU process and its vCPU
 * threads as the host's /proc shows them, and the guests running on this
 * host.  Nothing here reads guest memory.
 *
 * Every function takes @procfs, the procfs mount to read ("/proc" when
 * NULL), so that tests can point it at a fabricated tree.
 */
#ifndef VMSIGHT_HOST_H
#define VMSIGHT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>
#include <vmsight/source.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One host thread: /proc/PID/task/TID/stat and schedstat. */
struct vms_host_thread {
	int tid;
	char comm[64];         /* e.g. "CPU 1/TCG" (QEMU -name ...,debug-threads=on) */
	int vcpu;              /* vCPU index parsed from "CPU n/...", else -1 */
	char state;            /* R S D ... */
	int processor;         /* host CPU it last ran on */
	uint64_t utime_ns, stime_ns;   /* stat fields 14, 15 (ticks -> ns) */
	bool has_schedstat;
	uint64_t run_ns;       /* schedstat: time on a CPU */
	uint64_t wait_ns;      /* schedstat: time runnable, waiting for a CPU */
	uint64_t timeslices;   /* schedstat: times run */
};

/* One host process (a QEMU), with its threads. */
struct vms_host_proc {
	int pid;
	char comm[64];
	char name[128];        /* QEMU's -name guest[,...] value, or "" */
	uint64_t utime_ns, stime_ns;   /* the whole process */
	uint64_t rss_kb;       /* VmRSS */
	uint64_t starttime_ns; /* stat field 22, since host boot */
	struct vms_host_thread *threads;
	size_t nr_threads;
	size_t nr_vcpus;       /* threads with vcpu >= 0 */
};

/* Read process @pid and its threads.  VMS_ERR_NOT_FOUND when it is gone. */
struct vms_error *vms_host_proc_read(const char *procfs, int pid,
				     struct vms_host_proc *out);
void vms_host_proc_free(struct vms_host_proc *p);

/* A guest found on this host. */
struct vms_host_guest {
	int pid;               /* the QEMU process; 0 for a Xen domain */
	bool xen;              /* a Xen domain (spec "xen:DOMID") */
	uint32_t domid;
	char name[128];        /* -name, else "qemu-PID"; Xen: its name, else "domain-N" */
	char spec[4200];       /* a vmsight source spec that reads it: the RAM
				* file (memory-backend-file ... share=on), else
				* "qmp:SOCKET" when a QMP unix socket is given, else
				* "qemu:PID" */
	char ram_path[4096];   /* the RAM file, or "" */
	char qmp_path[4096];   /* the QMP socket, or "" */
};

/*
 * Every QEMU process on the host (qemu-system-* by /proc/PID/exe or
 * cmdline), sorted by pid, then -- in dom0, when /dev/xen/privcmd is
 * usable -- every Xen domU that is not dying, by domid.  *@out is malloc'ed
 * (free()).  Processes that vanish while read are skipped.
 */
struct vms_error *vms_host_discover(const char *procfs, struct vms_host_guest **out,
				    size_t *n);

/* The QEMU process that serves @spec (a RAM file path: the process whose
 * memory-backend-file mem-path is it; "qemu:PID"; "qmp:SOCKET": the one with
 * that socket), 0 when none is found. */
int vms_host_pid_for_spec(const char *procfs, const char *spec);

/*
 * The host thread of each of the @n vCPUs of QEMU process @pid into
 * @tids[n] (0 where unknown): the QMP thread ids of @src (qmp:, libvirt:)
 * when every vCPU has one, else QEMU's thread names ("CPU n/TCG").  The
 * QEMU -name goes to @name (may be NULL).  VMS_ERR_NOT_FOUND, saying how
 * to get them, when no vCPU thread is found.
 */
struct vms_error *vms_host_vcpu_threads(const char *procfs, int pid,
					const struct vms_source *src, int *tids, unsigned n,
					char *name, size_t name_size);

#ifdef __cplusplus
}
#endif
#endif
