/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared state of the rootkit checks (src/analysis/check/). */
#ifndef VMSIGHT_ANALYSIS_CHECK_PRIV_H
#define VMSIGHT_ANALYSIS_CHECK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/check.h>
#include <vmsight/kernel.h>
#include <vmsight/linux.h>

/* x86_64 module mapping space (arch/x86/include/asm/pgtable_64_types.h):
 * MODULES_VADDR = __START_KERNEL_map + KERNEL_IMAGE_SIZE (1 GiB),
 * MODULES_END = 0xffffffffff000000.  Not in BTF. */
#define CK_MODULES_VADDR 0xffffffffc0000000ull
#define CK_MODULES_END   0xffffffffff000000ull

#define CK_MAX_MODULES 65536u
#define CK_MAX_RANGES_PER_MODULE 16u

struct ck_range {
	uint64_t start, end;
	size_t mod;      /* index in ck_ctx.mods */
	bool text;
};

struct ck_mod {
	uint64_t addr;   /* struct module */
	char name[64];
};

struct ck_ctx {
	struct vms_kernel *k;
	uint64_t stext, etext, sinittext, einittext, entry_start, entry_end;
	uint64_t text, end;          /* the whole image, for data */
	struct ck_mod *mods;
	size_t nmods;
	struct ck_range *ranges;
	size_t nranges;
	bool modules_truncated;
	vms_finding_fn fn;
	void *arg;
	struct vms_check_result *res;
	bool stop;
};

/* Core kernel text: [_stext,_etext) u [_sinittext,_einittext) u entry text. */
bool ck_in_core_text(const struct ck_ctx *c, uint64_t addr);
/* The kernel image [_text,_end): core data for structures. */
bool ck_in_image(const struct ck_ctx *c, uint64_t addr);
/* Who owns @addr; module name into @name (size 64) for a module. */
enum vms_owner ck_owner(const struct ck_ctx *c, uint64_t addr, char *name);
/* Index of the listed module covering @addr, or -1. */
long ck_module_at(const struct ck_ctx *c, uint64_t addr);
/* "sym+0xoff [module]" or "0x..." */
void ck_symbolize(const struct ck_ctx *c, uint64_t addr, char *buf, size_t size);
/* Exact symbol name at @addr (offset 0) or NULL. */
const char *ck_symbol_at(const struct ck_ctx *c, uint64_t addr, uint64_t *off);
/* Fill place/target/owner of @f and report it. */
void ck_report(struct ck_ctx *c, struct vms_finding *f);
void ck_truncate(struct ck_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void ck_skip(struct ck_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool ck_field(struct ck_ctx *c, const char *s, const char *m, struct vms_field *f);

void ck_syscalls(struct ck_ctx *c);
void ck_ftrace(struct ck_ctx *c);
void ck_kprobes(struct ck_ctx *c);
void ck_idt(struct ck_ctx *c);
void ck_hidden_modules(struct ck_ctx *c);
void ck_hidden_tasks(struct ck_ctx *c);
void ck_lists(struct ck_ctx *c);

#endif
