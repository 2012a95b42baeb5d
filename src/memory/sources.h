/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The source kinds beyond raw RAM and ELF cores, as source.c dispatches to
 * them: LiME and kdump files (by content), and the SOURCE specs
 * qemu:PID, qmp:SOCKET, libvirt:NAME and xen:DOMID (see docs/sources.md).
 */
#ifndef VMSIGHT_MEMORY_SOURCES_H
#define VMSIGHT_MEMORY_SOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <vmsight/source.h>

struct vms_filemap;

#define VMS_LIME_MAGIC 0x4C694D45u

/* LiME: a filemap whose segments come from the range headers. */
bool vms_lime_detect(const void *data, uint64_t size);
struct vms_error *vms_lime_init(struct vms_filemap *fm);

/* kdump-compressed ("KDUMP   ", "DISKDUMP") or flattened makedumpfile
 * output, read through libkdumpfile (loaded at run time). */
bool vms_kdump_detect(const void *data, uint64_t size);
struct vms_error *vms_kdump_open(const char *path, struct vms_source **ret);

/*
 * A running QEMU's guest RAM through /proc/PID/mem.  @ram_size 0: read it
 * from QEMU's command line.  @spec names the source in errors.  @cpus
 * (may be NULL) is handed over to the source.
 */
struct vms_qemu_hint {
	uint64_t ram_size;                /* 0: unknown */
	struct vms_cpu_state *cpus;       /* owned by the callee on return */
	size_t nr_cpus;
};
struct vms_error *vms_qemu_open(const char *spec, pid_t pid,
				const struct vms_qemu_hint *hint,
				struct vms_source **ret);
/* QEMU's pc-machine low-memory size for @ram_size and QEMU's command line
 * (@cmdline, NUL-separated, @len bytes); exported for the tests. */
uint64_t vms_qemu_pc_lowmem(uint64_t ram_size, const char *cmdline,
			    size_t len);

struct vms_error *vms_qmp_open(const char *spec, const char *path,
			       struct vms_source **ret);
struct vms_error *vms_libvirt_open(const char *spec, const char *name,
				   struct vms_source **ret);

/* A Xen domain from dom0 (libxenctrl, libxenforeignmemory); xen.c.  A
 * build without libxen-dev answers VMS_ERR_UNSUPPORTED. */
struct vms_error *vms_xen_open(const char *spec, uint32_t domid,
			       struct vms_source **ret);

/* Open a file source by content (raw, ELF, LiME, kdump); source.c. */
struct vms_error *vms_source_open_file(const char *path,
				       struct vms_source **ret);

#endif
