// SPDX-License-Identifier: LGPL-2.1-or-later
/* Which host thread runs each vCPU of a QEMU guest. */
#include <stdio.h>
#include <string.h>

#include <vmsight/host.h>

#include "host/host_priv.h"

struct vms_error *vms_host_vcpu_threads(const char *procfs, int pid,
					const struct vms_source *src, int *tids, unsigned n,
					char *name, size_t name_size)
{
	memset(tids, 0, n * sizeof(*tids));
	struct vms_host_proc p;
	struct vms_error *err = vms_host_proc_read(procfs, pid, &p);
	if (err)
		return err;
	if (name && name_size)
		host_copy(name, name_size, p.name);
	size_t found = 0;
	/* qmp: and libvirt: sources know each vCPU's thread from QMP (in
	 * cpu-index order; used only when every vCPU answered). */
	bool all = src && src->cpus && src->nr_cpus == n;
	for (size_t i = 0; all && i < src->nr_cpus; i++)
		all = src->cpus[i].thread_id > 0;
	for (size_t i = 0; all && i < src->nr_cpus; i++, found++)
		tids[i] = src->cpus[i].thread_id;
	for (size_t i = 0; !all && i < p.nr_threads; i++) {
		int v = p.threads[i].vcpu;
		if (v >= 0 && (unsigned)v < n && !tids[v]) {
			tids[v] = p.threads[i].tid;
			found++;
		}
	}
	vms_host_proc_free(&p);
	if (!found)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"QEMU process %d has no threads named 'CPU n/TCG' or 'CPU n/KVM': start "
			"it with -name NAME,debug-threads=on, or name it as qmp:SOCKET (QMP "
			"query-cpus-fast gives the threads)", pid);
	return NULL;
}
