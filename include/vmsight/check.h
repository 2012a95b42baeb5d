/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rootkit checks from outside the guest: hooks and hidden objects found by
 * comparing the guest kernel's own structures with each other and with
 * the memory that owns each code pointer (core kernel text, a module on
 * the modules list, or unknown memory).  Read-only; every walk bounded.
 * See docs/check.md.
 */
#ifndef VMSIGHT_CHECK_H
#define VMSIGHT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	VMS_CHECK_SYSCALLS = 1 << 0,   /* sys_call_table and x64_sys_call */
	VMS_CHECK_FTRACE   = 1 << 1,   /* ftrace_ops_list */
	VMS_CHECK_KPROBES  = 1 << 2,   /* kprobe_table */
	VMS_CHECK_IDT      = 1 << 3,   /* idt_table */
	VMS_CHECK_MODULES  = 1 << 4,   /* module kobjects, module-area vmap_areas */
	VMS_CHECK_TASKS    = 1 << 5,   /* pid idr, runqueues, hiding marks */
	VMS_CHECK_LISTS    = 1 << 6,   /* task, module, module kobject lists well formed */
	VMS_CHECK_ALL      = (1 << 7) - 1,
};

enum vms_owner {
	VMS_OWNER_NONE,     /* no code address involved (e.g. a hidden task) */
	VMS_OWNER_CORE,     /* core kernel text (or image data for structures) */
	VMS_OWNER_MODULE,   /* a module on the modules list (owner_name) */
	VMS_OWNER_UNKNOWN,  /* anything else */
};

/* "core", "module", "unknown" or "none". */
const char *vms_owner_name(enum vms_owner o);

struct vms_finding {
	const char *check;       /* "syscall-table", "x64_sys_call", "ftrace",
				    "kprobe", "idt", "hidden-module",
				    "hidden-process", "hiding-mark",
				    "list-integrity" */
	const char *technique;   /* one line, human readable */
	char place[192];         /* the hooked place: symbol+0xoff, or what */
	uint64_t place_addr;
	uint64_t target;         /* the hook's target (handler), or the object */
	char target_symbol[192]; /* symbol+0xoff [module], or "" */
	enum vms_owner owner;    /* who owns @target's memory */
	char owner_name[64];     /* module name for VMS_OWNER_MODULE */
	char detail[256];
};

typedef int (*vms_finding_fn)(const struct vms_finding *f, void *arg);

struct vms_check_result {
	unsigned checks_run;      /* individual checks carried out */
	unsigned checks_skipped;  /* not applicable to this kernel (warned) */
	size_t examined;          /* entries, ops, probes, gates, objects looked at */
	size_t findings;
	bool truncated;           /* some walk ended early on corrupt data */
	char reason[256];         /* the first such reason */
};

/*
 * Run the checks selected by @which (VMS_CHECK_*), calling @fn for each
 * finding (non-zero stops).  Module symbols are loaded to name targets.
 * Corrupt or hostile structures end that walk with a warning and
 * @res->truncated; the other checks go on.  Errors only for what makes
 * every check impossible.
 */
struct vms_error *vms_check_run(struct vms_kernel *k, unsigned which,
				vms_finding_fn fn, void *arg,
				struct vms_check_result *res);

#ifdef __cplusplus
}
#endif
#endif
