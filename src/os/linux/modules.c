// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Loaded modules: the list headed by the kallsyms symbol `modules`, each
 * struct module linked through .list.  What /proc/modules shows (m_show()
 * and print_unload_info()) and the module symbols /proc/kallsyms adds
 * (module_get_kallsym()).  Offsets come from BTF; the memory layout is
 * core_layout/init_layout up to 6.3 and mem[MOD_MEM_NUM_TYPES] from 6.4,
 * told apart by member name.  The taint letters are the kernel's ABI
 * (include/linux/panic.h), not in BTF.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_MODULES 65536u
#define MAX_MODULE_STRUCT (64u << 10)
#define MAX_MEM_TYPES 16u
#define MAX_MODULE_SYMS (1u << 20)
#define MAX_STRTAB (16u << 20)
#define KSYM_NAME_LEN 512
#define MODULE_REF_BASE 1

struct mod_layout {
	size_t size;
	struct vms_field list, name, state, refcnt, source_list, init, exit, taints,
		kallsyms;
	bool has_refcnt, has_source_list, has_exit, has_taints;
	/* 6.4+: mem[] of struct module_memory */
	bool has_mem;
	struct vms_field mem, mm_base, mm_size;
	size_t mm_struct_size, nr_mem;
	int64_t mod_text;
	/* up to 6.3: core_layout / init_layout */
	struct vms_field core_base, core_size, core_text_size, init_size;
	/* struct module_use */
	struct vms_field use_source_list, use_source;
	/* struct mod_kallsyms */
	struct vms_field ks_symtab, ks_num_symtab, ks_strtab, ks_typetab;
	size_t sym_size;
	struct vms_field st_name, st_value;
	/* struct kernel_symbol: PREL32 offsets, or absolute pointers */
	struct vms_field syms, num_syms, ks_value, ks_name;
	size_t ksym_size;
	bool has_ksyms, ksym_prel32;
	int64_t st_live, st_coming, st_going, st_unformed;
};

static struct vms_error *need(struct vms_kernel *k, const char *s,
			      const char *m, struct vms_field *f)
{
	return vms_kernel_field(k, s, m, f);
}

static bool have(struct vms_kernel *k, const char *s, const char *m,
		 struct vms_field *f)
{
	return vms_ok(need(k, s, m, f));
}

static int64_t enum_or(struct vms_kernel *k, const char *name, int64_t dflt)
{
	int64_t v;
	return vms_ok(vms_kernel_enum_value(k, name, &v)) ? v : dflt;
}

static struct vms_error *layout(struct vms_kernel *k, struct mod_layout *L)
{
	struct vms_types *T = vms_kernel_types(k);
	struct vms_error *err;
	memset(L, 0, sizeof(*L));
	if ((err = vms_types_struct_size(T, "module", &L->size)))
		return err;
	if (L->size > MAX_MODULE_STRUCT)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF says struct module is %zu bytes: too large", L->size);
	if ((err = need(k, "module", "list", &L->list)) ||
	    (err = need(k, "module", "name", &L->name)) ||
	    (err = need(k, "module", "state", &L->state)) ||
	    (err = need(k, "module", "init", &L->init)))
		return err;
	L->has_refcnt = have(k, "module", "refcnt", &L->refcnt);
	L->has_source_list = have(k, "module", "source_list", &L->source_list) &&
			     have(k, "module_use", "source_list", &L->use_source_list) &&
			     have(k, "module_use", "source", &L->use_source);
	L->has_exit = have(k, "module", "exit", &L->exit);
	L->has_taints = have(k, "module", "taints", &L->taints);
	if (have(k, "module", "mem", &L->mem)) {
		L->has_mem = true;
		if ((err = vms_types_struct_size(T, "module_memory", &L->mm_struct_size)) ||
		    (err = need(k, "module_memory", "base", &L->mm_base)) ||
		    (err = need(k, "module_memory", "size", &L->mm_size)))
			return err;
		if (!L->mm_struct_size)
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF says struct module_memory is empty");
		L->nr_mem = L->mem.size / L->mm_struct_size;
		if (L->nr_mem > MAX_MEM_TYPES)
			L->nr_mem = MAX_MEM_TYPES;
		L->mod_text = enum_or(k, "MOD_TEXT", 0);
		if (L->mod_text < 0 || (size_t)L->mod_text >= L->nr_mem)
			L->mod_text = 0;
	} else if ((err = need(k, "module", "core_layout.base", &L->core_base)) ||
		   (err = need(k, "module", "core_layout.size", &L->core_size)) ||
		   (err = need(k, "module", "init_layout.size", &L->init_size))) {
		return vms_error_wrap(err, "struct module has neither mem[] nor core_layout");
	} else if (!have(k, "module", "core_layout.text_size", &L->core_text_size)) {
		L->core_text_size = L->core_size;
	}
	L->st_live = enum_or(k, "MODULE_STATE_LIVE", 0);
	L->st_coming = enum_or(k, "MODULE_STATE_COMING", 1);
	L->st_going = enum_or(k, "MODULE_STATE_GOING", 2);
	L->st_unformed = enum_or(k, "MODULE_STATE_UNFORMED", 3);
	if (L->list.offset + 16 > L->size || L->name.offset + L->name.size > L->size)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF layout of struct module is inconsistent (list at %u, size %zu)",
			L->list.offset, L->size);
	return NULL;
}

static struct vms_error *symbol_layout(struct vms_kernel *k, struct mod_layout *L)
{
	struct vms_error *err;
	if ((err = need(k, "module", "kallsyms", &L->kallsyms)) ||
	    (err = need(k, "mod_kallsyms", "symtab", &L->ks_symtab)) ||
	    (err = need(k, "mod_kallsyms", "num_symtab", &L->ks_num_symtab)) ||
	    (err = need(k, "mod_kallsyms", "strtab", &L->ks_strtab)) ||
	    (err = need(k, "mod_kallsyms", "typetab", &L->ks_typetab)))
		return err;
	struct vms_types *T = vms_kernel_types(k);
	L->has_ksyms = have(k, "module", "syms", &L->syms) &&
		       have(k, "module", "num_syms", &L->num_syms) &&
		       vms_ok(vms_types_struct_size(T, "kernel_symbol", &L->ksym_size)) &&
		       L->ksym_size && L->ksym_size <= 64;
	if (L->has_ksyms) {
		if (have(k, "kernel_symbol", "value_offset", &L->ks_value) &&
		    have(k, "kernel_symbol", "name_offset", &L->ks_name))
			L->ksym_prel32 = true;
		else if (!have(k, "kernel_symbol", "value", &L->ks_value) ||
			 !have(k, "kernel_symbol", "name", &L->ks_name))
			L->has_ksyms = false;
		unsigned w = L->ksym_prel32 ? 4 : 8;
		if (L->ks_value.offset + w > L->ksym_size || L->ks_name.offset + w > L->ksym_size)
			L->has_ksyms = false;
	}
	/* Elf64_Sym: from BTF when the kernel has it, else the ELF ABI. */
	if (vms_ok(vms_kernel_struct_size(k, "elf64_sym", &L->sym_size)) &&
	    have(k, "elf64_sym", "st_name", &L->st_name) &&
	    have(k, "elf64_sym", "st_value", &L->st_value) &&
	    L->st_name.offset + 4 <= L->sym_size && L->st_value.offset + 8 <= L->sym_size)
		return NULL;
	L->sym_size = 24;
	L->st_name = (struct vms_field){ .offset = 0, .size = 4 };
	L->st_value = (struct vms_field){ .offset = 8, .size = 8 };
	return NULL;
}


/* module_flags(): taint letters of the flags a module can carry. */
static void taint_string(uint64_t taints, int state, const struct mod_layout *L,
			 char *out, size_t size)
{
	static const struct { unsigned bit; char c; } flags[] = {
		{ 0, 'P' },  /* TAINT_PROPRIETARY_MODULE */
		{ 1, 'F' },  /* TAINT_FORCED_MODULE */
		{ 10, 'C' }, /* TAINT_CRAP */
		{ 12, 'O' }, /* TAINT_OOT_MODULE */
		{ 13, 'E' }, /* TAINT_UNSIGNED_MODULE */
		{ 15, 'K' }, /* TAINT_LIVEPATCH */
		{ 16, 'X' }, /* TAINT_AUX */
		{ 17, 'T' }, /* TAINT_RANDSTRUCT */
		{ 18, 'N' }, /* TAINT_TEST */
	};
	size_t n = 0;
	out[0] = '\0';
	if (!taints && state != L->st_going && state != L->st_coming)
		return;
	out[n++] = '(';
	for (size_t i = 0; i < VMS_ARRAY_SIZE(flags); i++)
		if (taints & (1ULL << flags[i].bit))
			out[n++] = flags[i].c;
	if (state == L->st_going)
		out[n++] = '-';
	if (state == L->st_coming)
		out[n++] = '+';
	out[n++] = ')';
	out[n] = '\0';
	(void)size;
}

struct walk {
	struct vms_kernel *k;
	struct mod_layout L;
	uint8_t *buf;
	struct vms_walk_result *res;
	/* used-by names of the current module */
	char (*names)[64];
	const char **ptrs;
	size_t nr_names, cap_names;
};

static void truncate_walk(struct walk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void truncate_walk(struct walk *w, const char *fmt, ...)
{
	if (w->res->truncated)
		return;
	w->res->truncated = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(w->res->reason, sizeof(w->res->reason), fmt, ap);
	va_end(ap);
	vms_kernel_log(w->k, VMS_LOG_WARN, "module walk stopped: %s", w->res->reason);
}

static bool add_user(struct walk *w, const char *name)
{
	if (w->nr_names == w->cap_names) {
		size_t cap = w->cap_names ? w->cap_names * 2 : 16;
		char (*names)[64] = realloc(w->names, cap * sizeof(*names));
		if (!names)
			return false;
		w->names = names;
		w->cap_names = cap;
	}
	snprintf(w->names[w->nr_names++], 64, "%s", name);
	return true;
}

/* print_unload_info(): the modules on mod->source_list (module_use entries
 * whose ->source uses this module). */
static void read_used_by(struct walk *w, uint64_t mod, struct vms_module *m)
{
	const struct mod_layout *L = &w->L;
	w->nr_names = 0;
	if (!L->has_source_list)
		return;
	uint64_t head = mod + L->source_list.offset, prev = head, node;
	uint64_t link = L->use_source_list.offset;
	if (!vms_ok(vms_kernel_read_u64(w->k, head, &node))) {
		m->used_by_truncated = true;
		return;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	while (node != head) {
		const char *why = NULL;
		uint64_t next, back, source;
		char name[64];
		if (w->nr_names >= MAX_MODULES)
			why = "too long";
		else if (vms_addrset_add(&seen, node) != 1)
			why = "cycle";
		else if (!vms_ok(vms_kernel_read_u64(w->k, node, &next)) ||
			 !vms_ok(vms_kernel_read_u64(w->k, node + 8, &back)) ||
			 !vms_ok(vms_kernel_read_u64(w->k, node - link + L->use_source.offset,
						     &source)))
			why = "unreadable entry";
		else if (back != prev)
			why = "broken back link";
		else if (!vms_ok(vms_kernel_read(w->k, source + L->name.offset, name,
						 sizeof(name) - 1)))
			why = "unreadable user module";
		if (why) {
			m->used_by_truncated = true;
			truncate_walk(w, "used-by list of module %s: %s at 0x%llx", m->name, why,
				      (unsigned long long)node);
			break;
		}
		name[L->name.size < sizeof(name) ? L->name.size - 1 : sizeof(name) - 1] = '\0';
		if (!add_user(w, name)) {
			m->used_by_truncated = true;
			break;
		}
		prev = node;
		node = next;
	}
	vms_addrset_free(&seen);
}

static void fill(struct walk *w, uint64_t mod, struct vms_module *m)
{
	const struct mod_layout *L = &w->L;
	const uint8_t *b = w->buf;
	memset(m, 0, sizeof(*m));
	m->addr = mod;
	size_t nl = L->name.size < sizeof(m->name) ? L->name.size : sizeof(m->name) - 1;
	memcpy(m->name, b + L->name.offset, nl);
	m->name[nl < sizeof(m->name) ? nl : sizeof(m->name) - 1] = '\0';
	m->name[sizeof(m->name) - 1] = '\0';
	m->state = (int)vms_field_uint(b, &L->state);
	m->state_name = m->state == L->st_going ? "Unloading" :
			m->state == L->st_coming ? "Loading" : "Live";
	if (L->has_mem) {
		for (size_t i = 0; i < L->nr_mem; i++) {
			size_t off = L->mem.offset + i * L->mm_struct_size;
			if (off + L->mm_struct_size > L->size)
				break;
			struct vms_field f = L->mm_size;
			f.offset += (uint32_t)off;
			m->size += vms_field_uint(b, &f);
			if (i == (size_t)L->mod_text) {
				m->base = vms_le64(b + off + L->mm_base.offset);
				m->text_size = vms_field_uint(b, &f);
			}
		}
	} else {
		m->base = vms_le64(b + L->core_base.offset);
		m->size = vms_field_uint(b, &L->core_size) + vms_field_uint(b, &L->init_size);
		m->text_size = vms_field_uint(b, &L->core_text_size);
	}
	m->refcount = L->has_refcnt ? (int32_t)vms_field_uint(b, &L->refcnt) - MODULE_REF_BASE : 0;
	m->permanent = L->has_exit && vms_le64(b + L->init.offset) &&
		       !vms_le64(b + L->exit.offset);
	taint_string(L->has_taints ? vms_field_uint(b, &L->taints) : 0, m->state, L,
		     m->taints, sizeof(m->taints));
	if (L->kallsyms.size == 8) {
		m->kallsyms = vms_le64(b + L->kallsyms.offset);
		uint32_t n;
		if (m->kallsyms &&
		    vms_ok(vms_kernel_read_u32(w->k, m->kallsyms + L->ks_num_symtab.offset, &n)))
			m->num_symtab = n;
	}
	if (L->has_ksyms) {
		m->ksymtab = vms_le64(b + L->syms.offset);
		m->num_ksyms = (uint32_t)vms_field_uint(b, &L->num_syms);
	}
	read_used_by(w, mod, m);
	if (w->nr_names) {
		const char **ptrs = realloc(w->ptrs, w->nr_names * sizeof(*ptrs));
		if (ptrs) {
			w->ptrs = ptrs;
			for (size_t i = 0; i < w->nr_names; i++)
				ptrs[i] = w->names[i];
			m->used_by = ptrs;
			m->nr_used_by = w->nr_names;
		}
	}
}

static struct vms_error *walk_modules(struct vms_kernel *k, struct mod_layout *L,
				      vms_module_fn fn, void *arg,
				      struct vms_walk_result *res)
{
	struct walk w = { .k = k, .L = *L, .res = res };
	uint64_t head;
	struct vms_error *err = vms_kernel_symbol(k, "modules", &head);
	if (err)
		return err;
	w.buf = malloc(L->size);
	if (!w.buf)
		return &vms_error_nomem;
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	uint64_t prev = head, node;
	if (!vms_ok(vms_kernel_read_u64(k, head, &node)))
		truncate_walk(&w, "list head `modules` at 0x%llx unreadable",
			      (unsigned long long)head);
	else while (node != head) {
		if (res->count >= MAX_MODULES) {
			truncate_walk(&w, "more than %u modules (last at 0x%llx)", MAX_MODULES,
				      (unsigned long long)node);
			break;
		}
		uint64_t mod = node - L->list.offset;
		int added = vms_addrset_add(&seen, mod);
		if (added <= 0) {
			truncate_walk(&w, added ? "out of memory at module 0x%llx"
					      : "cycle in the module list: module 0x%llx seen twice",
				      (unsigned long long)mod);
			break;
		}
		if ((err = vms_kernel_read(k, mod, w.buf, L->size))) {
			truncate_walk(&w, "module list points to unreadable memory at 0x%llx (%s)",
				      (unsigned long long)node, err->message);
			vms_error_free(err);
			err = NULL;
			break;
		}
		uint64_t back = vms_le64(w.buf + L->list.offset + 8);
		if (back != prev) {
			truncate_walk(&w, "broken link in the module list at 0x%llx (its prev is 0x%llx, expected 0x%llx)",
				      (unsigned long long)node, (unsigned long long)back,
				      (unsigned long long)prev);
			break;
		}
		uint64_t next = vms_le64(w.buf + L->list.offset);
		struct vms_module m;
		fill(&w, mod, &m);
		if (m.state != L->st_unformed) {
			res->count++;
			if (fn(&m, arg))
				break;
		}
		prev = node;
		node = next;
	}
	vms_addrset_free(&seen);
	free(w.names);
	free(w.ptrs);
	free(w.buf);
	return NULL;
}

struct vms_error *vms_linux_for_each_module(struct vms_kernel *k,
					    vms_module_fn fn, void *arg,
					    struct vms_walk_result *res)
{
	struct mod_layout L;
	memset(res, 0, sizeof(*res));
	struct vms_error *err = layout(k, &L);
	if (err)
		return err;
	if (!vms_ok(symbol_layout(k, &L)))
		L.kallsyms.size = 0;
	return walk_modules(k, &L, fn, arg, res);
}

/* ---- module symbols ---- */

struct sym_ctx {
	struct vms_kernel *k;
	struct mod_layout L;
	struct vms_symtab *tab;
	struct vms_walk_result *res;
	struct vms_error *err;   /* out of memory */
	uint8_t *symtab;
	char *strtab;
	uint8_t *typetab;
	struct export *exports;
	size_t nr_exports;
};

static void sym_warn(struct sym_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sym_warn(struct sym_ctx *c, const char *fmt, ...)
{
	if (c->res->truncated)
		return;
	c->res->truncated = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res->reason, sizeof(c->res->reason), fmt, ap);
	va_end(ap);
	vms_kernel_log(c->k, VMS_LOG_WARN, "module symbols: %s", c->res->reason);
}

struct export {
	uint64_t value;
	char *name;
};

static int export_cmp(const void *a, const void *b)
{
	const struct export *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	return c ? c : (x->value > y->value) - (x->value < y->value);
}

static void free_exports(struct sym_ctx *c)
{
	for (size_t i = 0; i < c->nr_exports; i++)
		free(c->exports[i].name);
	free(c->exports);
	c->exports = NULL;
	c->nr_exports = 0;
}

/* The module's EXPORT_SYMBOL table (mod->syms; not the GPL one): the
 * symbols /proc/kallsyms shows in upper case (is_exported()). */
static void read_exports(struct sym_ctx *c, const struct vms_module *m)
{
	const struct mod_layout *L = &c->L;
	free_exports(c);
	if (!L->has_ksyms || !m->ksymtab || !m->num_ksyms)
		return;
	if (m->num_ksyms > MAX_MODULE_SYMS) {
		sym_warn(c, "module %s claims %u exported symbols: ignored", m->name,
			 m->num_ksyms);
		return;
	}
	size_t n = m->num_ksyms;
	uint8_t *tab = malloc(n * L->ksym_size);
	c->exports = calloc(n, sizeof(*c->exports));
	if (!tab || !c->exports ||
	    !vms_ok(vms_kernel_read(c->k, m->ksymtab, tab, n * L->ksym_size))) {
		free(tab);
		free(c->exports);
		c->exports = NULL;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = tab + i * L->ksym_size;
		uint64_t at = m->ksymtab + i * L->ksym_size, value, name;
		if (L->ksym_prel32) {
			value = at + L->ks_value.offset +
				(uint64_t)(int64_t)(int32_t)vms_le32(e + L->ks_value.offset);
			name = at + L->ks_name.offset +
			       (uint64_t)(int64_t)(int32_t)vms_le32(e + L->ks_name.offset);
		} else {
			value = vms_le64(e + L->ks_value.offset);
			name = vms_le64(e + L->ks_name.offset);
		}
		char buf[KSYM_NAME_LEN];
		if (!vms_ok(vms_kernel_read_string(c->k, name, buf, sizeof(buf))))
			continue;
		char *copy = strdup(buf);
		if (!copy)
			break;
		c->exports[c->nr_exports++] = (struct export){ value, copy };
	}
	free(tab);
	qsort(c->exports, c->nr_exports, sizeof(*c->exports), export_cmp);
}

static bool is_exported(const struct sym_ctx *c, const char *name, uint64_t value)
{
	struct export key = { value, (char *)name };
	return c->nr_exports &&
	       bsearch(&key, c->exports, c->nr_exports, sizeof(key), export_cmp);
}

static int add_module_syms(const struct vms_module *m, void *arg)
{
	struct sym_ctx *c = arg;
	const struct mod_layout *L = &c->L;
	uint64_t ks = m->kallsyms, symtab, strtab, typetab;
	uint32_t n = m->num_symtab;
	if (!ks)
		return 0;
	if (n > MAX_MODULE_SYMS) {
		sym_warn(c, "module %s claims %u symbols (at 0x%llx): skipped", m->name, n,
			 (unsigned long long)ks);
		return 0;
	}
	if (!n)
		return 0;
	if (!vms_ok(vms_kernel_read_u64(c->k, ks + L->ks_symtab.offset, &symtab)) ||
	    !vms_ok(vms_kernel_read_u64(c->k, ks + L->ks_strtab.offset, &strtab)) ||
	    !vms_ok(vms_kernel_read_u64(c->k, ks + L->ks_typetab.offset, &typetab))) {
		sym_warn(c, "module %s: mod_kallsyms at 0x%llx unreadable", m->name,
			 (unsigned long long)ks);
		return 0;
	}
	free(c->symtab);
	free(c->typetab);
	c->symtab = malloc((size_t)n * L->sym_size);
	c->typetab = malloc(n);
	if (!c->symtab || !c->typetab) {
		c->err = &vms_error_nomem;
		return 1;
	}
	if (!vms_ok(vms_kernel_read(c->k, symtab, c->symtab, (size_t)n * L->sym_size)) ||
	    !vms_ok(vms_kernel_read(c->k, typetab, c->typetab, n))) {
		sym_warn(c, "module %s: symbol table at 0x%llx (%u symbols) unreadable",
			 m->name, (unsigned long long)symtab, n);
		return 0;
	}
	read_exports(c, m);
	/* The string table: read once up to the last name (plus its longest
	 * length), bounded; names not inside come one by one. */
	uint64_t max_name = 0;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t off = vms_le32(c->symtab + (size_t)i * L->sym_size + L->st_name.offset);
		if (off > max_name)
			max_name = off;
	}
	size_t strsize = max_name + KSYM_NAME_LEN > MAX_STRTAB ? MAX_STRTAB
							       : max_name + KSYM_NAME_LEN;
	free(c->strtab);
	c->strtab = malloc(strsize + 1);
	if (!c->strtab) {
		c->err = &vms_error_nomem;
		return 1;
	}
	/* Shrink to what is mapped: the table may end just before a hole. */
	size_t have = strsize;
	while (have && !vms_ok(vms_kernel_read(c->k, strtab, c->strtab, have)))
		have = have > 4096 ? (have - 1) & ~(size_t)4095 : 0;
	c->strtab[have] = '\0';
	size_t bad = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *s = c->symtab + (size_t)i * L->sym_size;
		uint64_t off = vms_le32(s + L->st_name.offset);
		uint64_t value = vms_le64(s + L->st_value.offset);
		char buf[KSYM_NAME_LEN];
		const char *name;
		size_t len;
		const char *nul = off < have ? memchr(c->strtab + off, 0, have - off) : NULL;
		if (nul) {
			name = c->strtab + off;
			len = (size_t)(nul - name);
		} else if (vms_ok(vms_kernel_read_string(c->k, strtab + off, buf, sizeof(buf)))) {
			name = buf;
			len = strlen(buf);
		} else {
			bad++;
			continue;
		}
		if (!len)
			continue;   /* /proc/kallsyms skips unnamed symbols */
		char type = (char)c->typetab[i];
		if (type < 0x21 || type > 0x7e)
			type = '?';
		/* s_show(): "global" if exported, "local" otherwise. */
		if (type >= 'A' && type <= 'Z' && !is_exported(c, name, value))
			type = (char)(type - 'A' + 'a');
		else if (type >= 'a' && type <= 'z' && is_exported(c, name, value))
			type = (char)(type - 'a' + 'A');
		struct vms_error *err = vms_symtab_add(c->tab, value, type, name, len, m->name);
		if (err) {
			c->err = err;
			return 1;
		}
		c->res->count++;
	}
	if (bad)
		sym_warn(c, "module %s: %zu of %u symbol names unreadable (strtab at 0x%llx)",
			 m->name, bad, n, (unsigned long long)strtab);
	return 0;
}

struct vms_error *vms_linux_load_module_symbols(struct vms_kernel *k,
						struct vms_walk_result *res)
{
	struct sym_ctx c = { .k = k, .tab = vms_kernel_symbols(k), .res = res };
	memset(res, 0, sizeof(*res));
	if (vms_symtab_module_count(c.tab))
		return NULL;
	struct vms_error *err = layout(k, &c.L);
	if (err || (err = symbol_layout(k, &c.L)))
		return err;
	struct vms_walk_result walk = { 0 };
	size_t before = vms_symtab_count(c.tab);
	err = walk_modules(k, &c.L, add_module_syms, &c, &walk);
	free(c.symtab);
	free(c.strtab);
	free(c.typetab);
	free_exports(&c);
	if (!err)
		err = c.err;
	if (walk.truncated && !res->truncated) {
		res->truncated = true;
		snprintf(res->reason, sizeof(res->reason), "%s", walk.reason);
	}
	if (vms_symtab_count(c.tab) != before) {
		struct vms_error *ferr = vms_symtab_finish(c.tab);
		if (!err)
			err = ferr;
		else if (ferr)
			vms_error_free(ferr);
	}
	return err;
}
