/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A Linux guest kernel seen through a memory source, discovered with no
 * profile: its page table, KASLR offsets, kallsyms and BTF all come from
 * guest memory.
 */
#ifndef VMSIGHT_KERNEL_H
#define VMSIGHT_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/error.h>
#include <vmsight/source.h>
#include <vmsight/symbols.h>
#include <vmsight/types.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vms_log_level { VMS_LOG_DEBUG, VMS_LOG_INFO, VMS_LOG_WARN };

typedef void (*vms_log_fn)(void *arg, enum vms_log_level level,
			   const char *msg);

struct vms_kernel_options {
	vms_log_fn log;   /* discovery steps (DEBUG) and warnings; may be NULL */
	void *log_arg;
	/* Optional alternative sources of symbols and types; when given they
	 * are used instead of, or checked against, kallsyms and BTF. */
	const char *system_map;
	const char *vmlinux;  /* DWARF (libdw) */
};

struct vms_kernel_info {
	char release[65];        /* init_uts_ns.name.release */
	char banner[512];        /* linux_banner, as in /proc/version */
	uint64_t text_vaddr;     /* _text */
	uint64_t text_paddr;
	uint64_t image_size;     /* bytes mapped from _text on */
	/* KASLR slides against the default link addresses
	 * (_text at 0xffffffff81000000, loaded at 16 MiB): the kernel's own
	 * kaslr_offset() for the default CONFIG_PHYSICAL_START. */
	int64_t kaslr_virt;
	int64_t kaslr_phys;
	uint64_t page_offset_base;  /* start of the direct map */
	uint64_t pgd;               /* physical address of the page table used */
	bool la57;                  /* 5-level paging */
	char pgd_origin[96];        /* how the page table was found */
	size_t nr_symbols;
	struct vms_kallsyms_info kallsyms;
	uint64_t btf_vaddr;
	size_t btf_size;
	uint32_t btf_types;
	unsigned nr_cpus_online;
	unsigned nr_cpu_ids;
	uint64_t ram_layout_lowmem; /* raw RAM file split used (0 = flat) */
};

struct vms_kernel;

/* Discover the kernel in @src.  @src must outlive the kernel object. */
struct vms_error *vms_kernel_open(struct vms_source *src,
				  const struct vms_kernel_options *opts,
				  struct vms_kernel **ret);
void vms_kernel_close(struct vms_kernel *k);

const struct vms_kernel_info *vms_kernel_info(const struct vms_kernel *k);
struct vms_source *vms_kernel_source(const struct vms_kernel *k);
struct vms_symtab *vms_kernel_symbols(const struct vms_kernel *k);
struct vms_types *vms_kernel_types(const struct vms_kernel *k);

/* Read kernel virtual memory (through the kernel's page table). */
struct vms_error *vms_kernel_read(struct vms_kernel *k, uint64_t vaddr,
				  void *buf, size_t len);
struct vms_error *vms_kernel_read_u64(struct vms_kernel *k, uint64_t vaddr,
				      uint64_t *val);
struct vms_error *vms_kernel_read_u32(struct vms_kernel *k, uint64_t vaddr,
				      uint32_t *val);
/* Read a NUL-terminated string of at most @size-1 bytes (always terminated). */
struct vms_error *vms_kernel_read_string(struct vms_kernel *k, uint64_t vaddr,
					 char *buf, size_t size);
struct vms_error *vms_kernel_translate(struct vms_kernel *k, uint64_t vaddr,
				       uint64_t *paddr);

/* Address of a kallsyms symbol; VMS_ERR_NOT_FOUND names it. */
struct vms_error *vms_kernel_symbol(const struct vms_kernel *k,
				    const char *name, uint64_t *addr);
/* Address of per-CPU variable @sym_addr (a kallsyms per-CPU symbol) on @cpu. */
struct vms_error *vms_kernel_percpu(struct vms_kernel *k, unsigned cpu,
				    uint64_t sym_addr, uint64_t *vaddr);
/* Offset of @path in struct @name, from BTF, cached; see vms_types_field(). */
struct vms_error *vms_kernel_field(struct vms_kernel *k, const char *name,
				   const char *path, struct vms_field *out);

/* Size of struct or union @name, and the value of enumerator @name, from
 * the kernel's types, cached like vms_kernel_field(). */
struct vms_error *vms_kernel_struct_size(struct vms_kernel *k, const char *name,
					 size_t *size);
struct vms_error *vms_kernel_enum_value(struct vms_kernel *k, const char *name,
					int64_t *value);

/* Emit a warning through the caller's log function. */
void vms_kernel_log(const struct vms_kernel *k, enum vms_log_level level,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
