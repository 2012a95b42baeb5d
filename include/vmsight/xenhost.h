/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The Xen side of the host (src/host/xendom.c): the domains of this Xen
 * host as dom0 sees them through libxenctrl -- what `xentop` shows (CPU
 * seconds, memory, vCPUs, state) -- and each vCPU's time.  Nothing here
 * reads guest memory.  Needs dom0 with /dev/xen/privcmd (root); a build
 * without libxen-dev answers every call with VMS_ERR_UNSUPPORTED.
 */
#ifndef VMSIGHT_XENHOST_H
#define VMSIGHT_XENHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VMS_XEN_MAX_DOMAINS 4096u   /* domains listed at most */
#define VMS_XEN_MAX_VCPUS 512u      /* vCPUs read per domain at most */

/* One domain, as xentop's columns. */
struct vms_xen_domain {
	uint32_t domid;
	char name[128];          /* xenstore /local/domain/N/name, else "" */
	char uuid[37];           /* the domain handle, as xl list -l prints it */
	char state[7];           /* xentop's STATE: "dsbcpr", '-' for each flag not set */
	bool dying, shutdown, crashed, paused, blocked, running, hvm;  /* shutdown: any
				  * reason, crash included (STATE's 's' excludes it) */
	uint64_t cpu_ns;         /* CPU time of all its vCPUs, CPU(sec) */
	uint64_t mem_kb;         /* tot_pages * 4: MEM(k) */
	uint64_t max_mem_kb;     /* max_pages * 4: MAXMEM(k); UINT64_MAX for "no limit" */
	unsigned vcpus;          /* max_vcpu_id + 1: xentop's VCPUS */
	unsigned vcpus_online;   /* xl list's VCPUs */
	uint32_t cpupool, ssidref;
};

/* One vCPU of a domain (xc_vcpu_getinfo). */
struct vms_xen_vcpu {
	unsigned vcpu;
	bool online, blocked, running;
	uint64_t cpu_ns;
	int pcpu;                /* physical CPU it runs or last ran on */
};

struct vms_xen_host;

/* Whether this process can use Xen's control interface: the build has Xen
 * support and /dev/xen/privcmd is there, readable and writable. */
bool vms_xen_host_usable(void);

/* Open the control interface (and xenstore, for names, when it answers);
 * the error names /dev/xen/privcmd and the permission missing. */
struct vms_error *vms_xen_host_open(struct vms_xen_host **ret);
void vms_xen_host_close(struct vms_xen_host *h);

/* Every domain (dom0 included), sorted by domid; *@out is malloc'ed. */
struct vms_error *vms_xen_host_list(struct vms_xen_host *h, struct vms_xen_domain **out,
				    size_t *n);

/* Domain @domid, and up to @max of its vCPUs into @vcpus (may be NULL;
 * *@nr_vcpus gets how many).  VMS_ERR_NOT_FOUND when there is none. */
struct vms_error *vms_xen_host_domain(struct vms_xen_host *h, uint32_t domid,
				      struct vms_xen_domain *out, struct vms_xen_vcpu *vcpus,
				      unsigned max, unsigned *nr_vcpus);

/* "xen:DOMID" -> @domid (0 .. 0x7fef, Xen's DOMID_FIRST_RESERVED - 1). */
bool vms_xen_spec_domid(const char *spec, uint32_t *domid);

/* xentop's CPU(%): the CPU time grown from @prev_ns to @now_ns over
 * @wall_s seconds of the host's clock, 100 = one physical CPU; 0 when no
 * time passed or the counter went back (another domain with that id). */
double vms_xen_cpu_percent(uint64_t prev_ns, uint64_t now_ns, double wall_s);

#ifdef __cplusplus
}
#endif
#endif
