/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Memory sources: where guest physical memory comes from.
 *
 * A source answers reads of guest physical addresses.  Every kind (raw RAM
 * file, ELF core, later LiME, kdump, a QEMU process, Xen) implements the
 * small vms_source_ops table; nothing above this layer knows which kind it
 * talks to.  A source may also carry per-vCPU register state (ELF cores
 * have it, a raw RAM file does not).
 */
#ifndef VMSIGHT_SOURCE_H
#define VMSIGHT_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Registers of one vCPU at the time of the snapshot, where known. */
struct vms_cpu_state {
	uint64_t rip, rsp;
	uint64_t cr0, cr2, cr3, cr4;
	uint64_t gs_base;         /* GS base as loaded (kernel per-CPU in kernel mode) */
	uint64_t kernel_gs_base;  /* MSR_KERNEL_GS_BASE (swapped-out GS), 0 if unknown */
	uint64_t idt_base, gdt_base;
	uint32_t idt_limit, gdt_limit;
	bool has_kernel_gs_base;
	int thread_id;            /* host thread running this vCPU (QMP thread-id), 0 if unknown */
};

/* One run of guest physical memory backed by the source. */
struct vms_phys_range {
	uint64_t start;  /* first guest physical address */
	uint64_t end;    /* one past the last */
};

struct vms_source;

struct vms_source_ops {
	/* Copy @len bytes at guest physical @paddr into @buf.  Fails with
	 * VMS_ERR_FAULT naming the first address not backed. */
	struct vms_error *(*read)(struct vms_source *src, uint64_t paddr,
				  void *buf, size_t len);
	/* Optional zero-copy access: a pointer to @len bytes at @paddr if
	 * they are backed contiguously, else NULL. */
	const void *(*map)(struct vms_source *src, uint64_t paddr, size_t len);
	void (*destroy)(struct vms_source *src);
	/* Optional, for sources whose page-table entries hold machine
	 * addresses rather than guest physical ones (Xen PV guests): the guest
	 * physical address of machine address @maddr, false if no frame of
	 * the guest is there.  The page walker applies it to every entry. */
	bool (*machine_to_phys)(struct vms_source *src, uint64_t maddr,
				uint64_t *paddr);
	/* Optional: a one-line account of what the source cost so far (e.g.
	 * foreign-map calls), for -v output and benchmarks. */
	void (*describe_cost)(struct vms_source *src, char *buf, size_t len);
};

struct vms_source {
	const struct vms_source_ops *ops;
	const char *kind;                 /* "raw", "elf-core", ... */
	char *path;                       /* what the user named */
	bool live;                        /* memory may change while read */
	struct vms_phys_range *ranges;    /* sorted, disjoint */
	size_t nr_ranges;
	struct vms_cpu_state *cpus;       /* NULL if the source has none */
	size_t nr_cpus;
	char *vmcoreinfo;                 /* VMCOREINFO note text, if any */
};

/*
 * Open a source named by the user.  @spec is a path (a raw RAM file, an
 * ELF core, a LiME or a kdump-compressed dump; the kind is detected from the
 * content), or "qemu:PID" (a running QEMU's RAM via /proc/PID/mem),
 * "qmp:SOCKET" (ask QEMU over QMP, then as qemu: or as its RAM file, with
 * the vCPUs' registers), "libvirt:DOMAIN", or "xen:DOMID" (a Xen domain's
 * memory and vCPU registers, from dom0); "file:PATH" forces a path.
 * A spec is taken as a path when a file of that name exists.  Errors name
 * the path or spec and what was wrong with it.  See docs/sources.md.
 */
struct vms_error *vms_source_open(const char *spec, struct vms_source **ret);
void vms_source_close(struct vms_source *src);

/*
 * A source over memory the caller already holds: @size bytes at @data are
 * guest physical [@phys_base, @phys_base + @size).  Not copied: @data must
 * outlive the source.  @name is used in error messages.  For tests, fuzzing
 * and embedding.
 */
struct vms_error *vms_source_from_buffer(const void *data, size_t size,
					 uint64_t phys_base, const char *name,
					 struct vms_source **ret);

struct vms_error *vms_source_read(struct vms_source *src, uint64_t paddr,
				  void *buf, size_t len);
const void *vms_source_map(struct vms_source *src, uint64_t paddr, size_t len);
/* Highest backed physical address + 1. */
uint64_t vms_source_phys_end(const struct vms_source *src);
/* Total bytes of guest memory the source backs. */
uint64_t vms_source_phys_size(const struct vms_source *src);
bool vms_source_is_backed(const struct vms_source *src, uint64_t paddr,
			  size_t len);

/*
 * For a raw RAM file from QEMU, guest physical = file offset only for guests
 * below the PCI hole.  A larger guest's RAM file holds [0, lowmem) at file
 * offset 0 and the rest at 4 GiB upwards.  Re-lay the file out that way
 * (lowmem 0 = flat).  Discovery tries the usual QEMU splits by itself.
 */
struct vms_error *vms_source_raw_set_lowmem(struct vms_source *src,
					    uint64_t lowmem);
bool vms_source_is_raw(const struct vms_source *src);

/* The source's cost so far as one line ("" if it keeps no account). */
void vms_source_describe_cost(struct vms_source *src, char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
