// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The check driver: the ownership map (core kernel text, the image, each
 * listed module's memory regions) and the finding helpers the individual
 * checks share.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check/check_priv.h"
#include "util/consume.h"

const char *vms_owner_name(enum vms_owner o)
{
	switch (o) {
	case VMS_OWNER_CORE: return "core";
	case VMS_OWNER_MODULE: return "module";
	case VMS_OWNER_UNKNOWN: return "unknown";
	default: return "none";
	}
}

bool ck_field(struct ck_ctx *c, const char *s, const char *m, struct vms_field *f)
{
	return vms_ok(vms_kernel_field(c->k, s, m, f));
}

bool ck_in_core_text(const struct ck_ctx *c, uint64_t a)
{
	return (a >= c->stext && a < c->etext) ||
	       (c->sinittext && a >= c->sinittext && a < c->einittext) ||
	       (c->entry_start && a >= c->entry_start && a < c->entry_end);
}

bool ck_in_image(const struct ck_ctx *c, uint64_t a)
{
	return a >= c->text && a < c->end;
}

long ck_module_at(const struct ck_ctx *c, uint64_t a)
{
	for (size_t i = 0; i < c->nranges; i++)
		if (a >= c->ranges[i].start && a < c->ranges[i].end)
			return (long)c->ranges[i].mod;
	return -1;
}

enum vms_owner ck_owner(const struct ck_ctx *c, uint64_t a, char *name)
{
	name[0] = '\0';
	if (ck_in_core_text(c, a))
		return VMS_OWNER_CORE;
	long m = ck_module_at(c, a);
	if (m >= 0) {
		snprintf(name, 64, "%s", c->mods[m].name);
		return VMS_OWNER_MODULE;
	}
	return VMS_OWNER_UNKNOWN;
}

const char *ck_symbol_at(const struct ck_ctx *c, uint64_t addr, uint64_t *off)
{
	uint64_t o = 0;
	const struct vms_symbol *s = vms_symtab_by_addr(vms_kernel_symbols(c->k), addr, &o);
	if (off)
		*off = o;
	return s ? s->name : NULL;
}

void ck_symbolize(const struct ck_ctx *c, uint64_t addr, char *buf, size_t size)
{
	uint64_t off = 0;
	const struct vms_symbol *s = vms_symtab_by_addr(vms_kernel_symbols(c->k), addr, &off);
	/* A symbol far below the address names nothing. */
	if (!s || off > (1u << 20) || (!s->module && !ck_in_image(c, addr))) {
		/* A module symbol applies only inside that module's memory. */
		snprintf(buf, size, "0x%llx", (unsigned long long)addr);
		return;
	}
	if (s->module && ck_module_at(c, addr) < 0 && !ck_in_image(c, addr)) {
		snprintf(buf, size, "0x%llx", (unsigned long long)addr);
		return;
	}
	if (off)
		snprintf(buf, size, "%s+0x%llx%s%s%s", s->name, (unsigned long long)off,
			 s->module ? " [" : "", s->module ? s->module : "",
			 s->module ? "]" : "");
	else
		snprintf(buf, size, "%s%s%s%s", s->name, s->module ? " [" : "",
			 s->module ? s->module : "", s->module ? "]" : "");
}

void ck_report(struct ck_ctx *c, struct vms_finding *f)
{
	if (c->stop)
		return;
	if (f->owner != VMS_OWNER_NONE) {
		f->owner = ck_owner(c, f->target, f->owner_name);
		if (!f->target_symbol[0])
			ck_symbolize(c, f->target, f->target_symbol, sizeof(f->target_symbol));
	}
	c->res->findings++;
	if (c->fn && c->fn(f, c->arg))
		c->stop = true;
}

void ck_truncate(struct ck_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!c->res->truncated) {
		c->res->truncated = true;
		snprintf(c->res->reason, sizeof(c->res->reason), "%s", msg);
	}
	vms_kernel_log(c->k, VMS_LOG_WARN, "check: walk stopped: %s", msg);
}

void ck_skip(struct ck_ctx *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->res->checks_skipped++;
	vms_kernel_log(c->k, VMS_LOG_WARN, "check skipped: %s", msg);
}

/* ---- the ownership map: each listed module's memory regions ---- */

struct mod_collect {
	struct ck_ctx *c;
	bool has_mem;
	struct vms_field mem, mm_base, mm_size, core_base, core_size,
		core_text_size, init_base, init_size;
	size_t mm_struct_size, nr_mem;
	bool oom;
};

static void add_range(struct mod_collect *mc, uint64_t base, uint64_t size,
		      bool text)
{
	struct ck_ctx *c = mc->c;
	if (!base || !size || size > (1ull << 30) || base + size < base)
		return;
	if (c->nranges % 64 == 0) {
		struct ck_range *r = realloc(c->ranges, (c->nranges + 64) * sizeof(*r));
		if (!r) {
			mc->oom = true;
			return;
		}
		c->ranges = r;
	}
	c->ranges[c->nranges++] = (struct ck_range){ base, base + size, c->nmods - 1, text };
}

static int collect_module(const struct vms_module *m, void *arg)
{
	struct mod_collect *mc = arg;
	struct ck_ctx *c = mc->c;
	if (c->nmods >= CK_MAX_MODULES)
		return 1;
	if (c->nmods % 64 == 0) {
		struct ck_mod *v = realloc(c->mods, (c->nmods + 64) * sizeof(*v));
		if (!v) {
			mc->oom = true;
			return 1;
		}
		c->mods = v;
	}
	struct ck_mod *cm = &c->mods[c->nmods++];
	cm->addr = m->addr;
	snprintf(cm->name, sizeof(cm->name), "%s", m->name);
	if (mc->has_mem) {
		for (size_t i = 0; i < mc->nr_mem; i++) {
			uint64_t at = m->addr + mc->mem.offset + i * mc->mm_struct_size;
			uint64_t base = 0;
			uint32_t size = 0;
			if (vms_ok(vms_kernel_read_u64(c->k, at + mc->mm_base.offset, &base)) &&
			    vms_ok(vms_kernel_read_u32(c->k, at + mc->mm_size.offset, &size)))
				add_range(mc, base, size, i == 0);
		}
	} else {
		uint64_t base = 0, ibase = 0;
		uint32_t size = 0, isize = 0;
		if (vms_ok(vms_kernel_read_u64(c->k, m->addr + mc->core_base.offset, &base)) &&
		    vms_ok(vms_kernel_read_u32(c->k, m->addr + mc->core_size.offset, &size)))
			add_range(mc, base, size, true);
		if (vms_ok(vms_kernel_read_u64(c->k, m->addr + mc->init_base.offset, &ibase)) &&
		    vms_ok(vms_kernel_read_u32(c->k, m->addr + mc->init_size.offset, &isize)))
			add_range(mc, ibase, isize, true);
	}
	return mc->oom;
}

static void collect_modules(struct ck_ctx *c)
{
	struct mod_collect mc = { .c = c };
	struct vms_types *T = vms_kernel_types(c->k);
	if (ck_field(c, "module", "mem", &mc.mem) &&
	    vms_ok(vms_types_struct_size(T, "module_memory", &mc.mm_struct_size)) &&
	    mc.mm_struct_size && ck_field(c, "module_memory", "base", &mc.mm_base) &&
	    ck_field(c, "module_memory", "size", &mc.mm_size)) {
		mc.has_mem = true;
		mc.nr_mem = mc.mem.size / mc.mm_struct_size;
		if (mc.nr_mem > CK_MAX_RANGES_PER_MODULE)
			mc.nr_mem = CK_MAX_RANGES_PER_MODULE;
	} else if (!(ck_field(c, "module", "core_layout.base", &mc.core_base) &&
		     ck_field(c, "module", "core_layout.size", &mc.core_size) &&
		     ck_field(c, "module", "init_layout.base", &mc.init_base) &&
		     ck_field(c, "module", "init_layout.size", &mc.init_size))) {
		ck_skip(c, "struct module has neither mem[] nor core_layout in BTF: "
			   "module memory is unknown");
		return;
	}
	struct vms_walk_result wr;
	struct vms_error *err = vms_linux_for_each_module(c->k, collect_module, &mc, &wr);
	if (err) {
		ck_skip(c, "modules list: %s", err->message);
		vms_error_free(err);
		return;
	}
	if (wr.truncated) {
		c->modules_truncated = true;
		ck_truncate(c, "modules list: %s", wr.reason);
	}
}

static uint64_t sym_or_zero(struct vms_kernel *k, const char *name)
{
	uint64_t a = 0;
	return vms_ok(vms_kernel_symbol(k, name, &a)) ? a : 0;
}

struct vms_error *vms_check_run(struct vms_kernel *k, unsigned which,
				vms_finding_fn fn, void *arg,
				struct vms_check_result *res)
{
	memset(res, 0, sizeof(*res));
	struct ck_ctx c = { .k = k, .fn = fn, .arg = arg, .res = res };
	c.stext = sym_or_zero(k, "_stext");
	c.etext = sym_or_zero(k, "_etext");
	c.text = sym_or_zero(k, "_text");
	c.end = sym_or_zero(k, "_end");
	if (!c.stext || c.etext <= c.stext || !c.text || c.end <= c.text)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"kallsyms lacks _stext/_etext/_text/_end: cannot tell core kernel text");
	c.sinittext = sym_or_zero(k, "_sinittext");
	c.einittext = sym_or_zero(k, "_einittext");
	if (c.einittext <= c.sinittext)
		c.sinittext = c.einittext = 0;
	c.entry_start = sym_or_zero(k, "__entry_text_start");
	c.entry_end = sym_or_zero(k, "__entry_text_end");
	if (c.entry_end <= c.entry_start)
		c.entry_start = c.entry_end = 0;

	collect_modules(&c);
	struct vms_walk_result wr;
	if (!vms_ok(vms_linux_load_module_symbols(k, &wr)))
		vms_kernel_log(k, VMS_LOG_WARN,
			       "check: module symbols not loaded; module targets shown as addresses");

	static void (*const checks[])(struct ck_ctx *) = {
		ck_syscalls, ck_ftrace, ck_kprobes, ck_idt, ck_hidden_modules,
		ck_hidden_tasks, ck_lists,
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]) && !c.stop; i++)
		if (which & (1u << i))
			checks[i](&c);
	free(c.mods);
	free(c.ranges);
	return NULL;
}
