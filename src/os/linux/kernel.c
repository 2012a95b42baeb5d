// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Profile-free discovery of a Linux kernel: page table and image (arch
 * layer), then kallsyms and BTF from the image, then the facts `info`
 * shows.  Nothing here depends on a kernel version: every structure offset
 * comes from BTF.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/linux/kernel_internal.h"
#include "symbols/kallsyms.h"
#include "util/bytes.h"
#include "util/consume.h"

void vms_kernel_log(const struct vms_kernel *k, enum vms_log_level level,
		    const char *fmt, ...)
{
	if (!k->opts.log)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	k->opts.log(k->opts.log_arg, level, msg);
}

const struct vms_kernel_info *vms_kernel_info(const struct vms_kernel *k)
{
	return &k->info;
}
struct vms_source *vms_kernel_source(const struct vms_kernel *k)
{
	return k->src;
}
struct vms_symtab *vms_kernel_symbols(const struct vms_kernel *k)
{
	return k->syms;
}
struct vms_types *vms_kernel_types(const struct vms_kernel *k)
{
	return k->types;
}

struct vms_error *vms_kernel_read(struct vms_kernel *k, uint64_t vaddr,
				  void *buf, size_t len)
{
	/* The kernel image is linear: serve it without walking tables.  From
	 * a copy of a live source's image (xen:, qemu:PID), taken at
	 * discovery, only what cannot change (text, rodata): .data/.bss
	 * (jiffies_64, avenrun, the task list's head) move on, and those
	 * reads go to the source. */
	if (vaddr >= k->map.text_vaddr && vaddr - k->map.text_vaddr < k->map.image_size &&
	    len <= k->map.image_size - (vaddr - k->map.text_vaddr) &&
	    (!(k->image_copy && k->src->live) ||
	     (k->copy_ro_end && vaddr + len <= k->copy_ro_end))) {
		memcpy(buf, k->image + (vaddr - k->map.text_vaddr), len);
		return NULL;
	}
	return vms_addrspace_read(&k->as, vaddr, buf, len);
}

struct vms_error *vms_kernel_read_u64(struct vms_kernel *k, uint64_t vaddr,
				      uint64_t *val)
{
	uint8_t b[8];
	struct vms_error *err = vms_kernel_read(k, vaddr, b, 8);
	if (!err)
		*val = vms_le64(b);
	return err;
}

struct vms_error *vms_kernel_read_u32(struct vms_kernel *k, uint64_t vaddr,
				      uint32_t *val)
{
	uint8_t b[4];
	struct vms_error *err = vms_kernel_read(k, vaddr, b, 4);
	if (!err)
		*val = vms_le32(b);
	return err;
}

struct vms_error *vms_kernel_read_string(struct vms_kernel *k, uint64_t vaddr,
					 char *buf, size_t size)
{
	if (!size)
		return NULL;
	size_t got = 0;
	while (got < size - 1) {
		/* Read up to the end of the page, so an unmapped next page
		 * only matters if the string runs into it. */
		size_t n = 4096 - ((vaddr + got) & 0xfff);
		if (n > size - 1 - got)
			n = size - 1 - got;
		struct vms_error *err = vms_kernel_read(k, vaddr + got, buf + got, n);
		if (err) {
			buf[got] = '\0';
			return err;
		}
		void *nul = memchr(buf + got, 0, n);
		if (nul)
			return NULL;
		got += n;
	}
	buf[size - 1] = '\0';
	return NULL;
}

struct vms_error *vms_kernel_translate(struct vms_kernel *k, uint64_t vaddr,
				       uint64_t *paddr)
{
	return vms_addrspace_translate(&k->as, vaddr, paddr);
}

struct vms_error *vms_kernel_symbol(const struct vms_kernel *k,
				    const char *name, uint64_t *addr)
{
	const struct vms_symbol *s = vms_symtab_by_name(k->syms, name);
	if (!s)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"symbol %s not found in the guest's kallsyms", name);
	*addr = s->addr;
	return NULL;
}

/* The cache slot for @key, or NULL when the cache cannot hold it; @fresh
 * tells whether the slot is new (to be filled by the caller). */
static struct field_cache_slot *cache_slot(struct vms_kernel *k, const char *key,
					   bool *fresh)
{
	size_t n = strlen(key);
	if (n >= FIELD_CACHE_KEY)
		return NULL;
	if (!k->field_cache &&
	    !(k->field_cache = calloc(FIELD_CACHE_SLOTS, sizeof(*k->field_cache))))
		return NULL;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)key[i]) * 16777619u;
	for (unsigned probe = 0; probe < 16; probe++) {
		struct field_cache_slot *slot =
			&k->field_cache[(h + probe) % FIELD_CACHE_SLOTS];
		if (!slot->key[0]) {
			memcpy(slot->key, key, n + 1);
			*fresh = true;
			return slot;
		}
		if (!strcmp(slot->key, key)) {
			*fresh = false;
			return slot;
		}
	}
	return NULL;  /* crowded: look up without the cache */
}

enum memo_kind { MEMO_FIELD = 'f', MEMO_SIZE = 's', MEMO_ENUM = 'e' };

/* A type lookup, made once per kernel: answers, and NOT_FOUND, are kept. */
static struct vms_error *memo(struct vms_kernel *k, enum memo_kind kind,
			      const char *name, const char *path,
			      struct field_cache_slot *out)
{
	char key[FIELD_CACHE_KEY];
	struct field_cache_slot tmp = { 0 }, *slot = NULL;
	bool fresh = true;
	int n = snprintf(key, sizeof(key), "%c\x1f%s\x1f%s", kind, name, path ? path : "");
	if (n > 0 && (size_t)n < sizeof(key))
		slot = cache_slot(k, key, &fresh);
	if (!slot)
		slot = &tmp;  /* too long or crowded: look up without keeping it */
	if (fresh) {
		struct vms_error *err;
		size_t size = 0;
		switch (kind) {
		case MEMO_FIELD:
			err = vms_types_field(k->types, name, path, &slot->field);
			break;
		case MEMO_SIZE:
			err = vms_types_struct_size(k->types, name, &size);
			slot->value = (int64_t)size;
			break;
		default:
			err = vms_types_enum_value(k->types, name, &slot->value);
			break;
		}
		if (err && err->code != VMS_ERR_NOT_FOUND) {
			slot->key[0] = '\0';
			return err;
		}
		slot->found = !err;
		vms_error_free(err);
	}
	if (!slot->found) {
		if (kind == MEMO_FIELD)
			return vms_error_create(VMS_ERR_NOT_FOUND,
				"struct %s has no member %s (looked up in the kernel's types)",
				name, path);
		return vms_error_create(VMS_ERR_NOT_FOUND, "%s %s not found in the kernel's types",
					kind == MEMO_SIZE ? "struct" : "enumerator", name);
	}
	*out = *slot;
	return NULL;
}

struct vms_error *vms_kernel_field(struct vms_kernel *k, const char *name,
				   const char *path, struct vms_field *out)
{
	struct field_cache_slot s;
	struct vms_error *err = memo(k, MEMO_FIELD, name, path, &s);
	if (!err)
		*out = s.field;
	return err;
}

struct vms_error *vms_kernel_struct_size(struct vms_kernel *k, const char *name,
					 size_t *size)
{
	struct field_cache_slot s;
	struct vms_error *err = memo(k, MEMO_SIZE, name, NULL, &s);
	if (!err)
		*size = (size_t)s.value;
	return err;
}

struct vms_error *vms_kernel_enum_value(struct vms_kernel *k, const char *name,
					int64_t *value)
{
	struct field_cache_slot s;
	struct vms_error *err = memo(k, MEMO_ENUM, name, NULL, &s);
	if (!err)
		*value = s.value;
	return err;
}

struct vms_error *vms_kernel_percpu(struct vms_kernel *k, unsigned cpu,
				    uint64_t sym_addr, uint64_t *vaddr)
{
	if (!k->per_cpu_offset_addr)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"symbol __per_cpu_offset not found in the guest's kallsyms");
	if (cpu >= k->info.nr_cpu_ids)
		return vms_error_create(VMS_ERR_INVALID,
			"CPU %u out of range (nr_cpu_ids %u)", cpu, k->info.nr_cpu_ids);
	uint64_t off;
	struct vms_error *err = vms_kernel_read_u64(k, k->per_cpu_offset_addr + 8 * cpu, &off);
	if (err)
		return vms_error_wrap(err, "__per_cpu_offset[%u]", cpu);
	*vaddr = sym_addr + off;
	return NULL;
}

/* The read-only, non-executable part of the image (.rodata): where kallsyms
 * and BTF live.  Whole image if permissions say nothing useful. */
static void rodata_span(const struct vms_kernel *k, size_t *start, size_t *end)
{
	size_t n = (size_t)(k->map.image_size >> 21), first = n, last = n;
	for (size_t i = 0; i < n && i < X86_MAX_IMAGE_CHUNKS; i++) {
		if (k->map.chunk_ro[i] && k->map.chunk_nx[i]) {
			if (first == n)
				first = i;
			last = i;
		}
	}
	if (first == n) {
		*start = 0;
		*end = k->map.image_size;
	} else {
		*start = first << 21;
		*end = (last + 1) << 21;
	}
}

static struct vms_error *load_image(struct vms_kernel *k)
{
	free(k->image_copy);
	k->image_copy = NULL;
	k->image = vms_source_map(k->src, k->map.text_paddr, k->map.image_size);
	if (k->image)
		return NULL;
	k->image_copy = malloc(k->map.image_size);
	if (!k->image_copy)
		return &vms_error_nomem;
	struct vms_error *err = vms_source_read(k->src, k->map.text_paddr,
						k->image_copy, k->map.image_size);
	if (err)
		return vms_error_wrap(err, "reading the kernel image");
	k->image = k->image_copy;
	return NULL;
}

/* Link-time kernel image addresses (System.map, vmlinux) move by the KASLR
 * slide; per-CPU offsets and absolute values below it do not. */
#define KERNEL_MAP_START 0xffffffff80000000ULL

static uint64_t slid(uint64_t addr, int64_t slide)
{
	return addr >= KERNEL_MAP_START ? addr + (uint64_t)slide : addr;
}

/* Symbols of --system-map FILE (or else the --vmlinux ELF .symtab). */
static struct vms_error *load_file_symbols(struct vms_kernel *k,
					   struct vms_symtab **ret,
					   const char **what, char *banner,
					   size_t banner_size)
{
	struct vms_symtab *tab;
	struct vms_error *err = vms_symtab_create(&tab);
	if (err)
		return err;
	banner[0] = '\0';
	if (k->opts.vmlinux && !k->opts.system_map) {
		size_t n;
		*what = "vmlinux";
		err = vms_elf_symbols_load(k->opts.vmlinux, tab, &n, banner, banner_size);
	} else {
		struct vms_system_map_stats st;
		*what = "System.map";
		err = vms_system_map_load(k->opts.system_map, tab, &st);
		if (!err && st.bad_lines)
			vms_kernel_log(k, VMS_LOG_WARN,
				       "System.map %s: %zu of %zu line(s) malformed and skipped; first at line %zu: %s",
				       k->opts.system_map, st.bad_lines, st.lines,
				       st.first_bad_line, st.first_bad);
		if (!err && k->opts.vmlinux) {
			/* The banner of the build the types will come from. */
			struct vms_symtab *elf;
			size_t n;
			if (vms_ok(vms_symtab_create(&elf))) {
				vms_ok(vms_elf_symbols_load(k->opts.vmlinux, elf, &n,
							    banner, banner_size));
				vms_symtab_destroy(elf);
			}
		}
	}
	if (!err)
		err = vms_symtab_finish(tab);
	if (err) {
		vms_symtab_destroy(tab);
		return err;
	}
	*ret = tab;
	return NULL;
}

/* Compare the file's symbols (slid) with kallsyms; warn on disagreement. */
static void check_file_symbols(struct vms_kernel *k, const struct vms_symtab *file,
			       const char *what, const char *path, int64_t slide)
{
	size_t n = vms_symtab_count(file), compared = 0, bad = 0, missing = 0;
	char first[320] = "";
	size_t flen = 0;
	for (size_t i = 0; i < n; i++) {
		const struct vms_symbol *s = vms_symtab_at(file, i);
		/* One entry per name: the one lookups by name return. */
		if (vms_symtab_by_name(file, s->name) != s)
			continue;
		const struct vms_symbol *o = vms_symtab_by_name(k->syms, s->name);
		if (!o) {
			missing++;
			continue;
		}
		compared++;
		uint64_t want = slid(s->addr, slide);
		if (o->addr == want)
			continue;
		if (bad++ < 3 && flen < sizeof(first))
			flen += (size_t)snprintf(first + flen, sizeof(first) - flen,
				"%s%s kallsyms 0x%llx, %s 0x%llx", bad > 1 ? "; " : "",
				s->name, (unsigned long long)o->addr, what,
				(unsigned long long)want);
	}
	if (bad || !compared)
		vms_kernel_log(k, VMS_LOG_WARN,
			       "%s %s does not match this kernel: %zu of %zu symbols in both disagree with kallsyms in guest memory (after the KASLR slide 0x%llx), e.g. %s; kallsyms is used",
			       what, path, bad, compared, (unsigned long long)slide,
			       compared ? first : "none in common");
	else
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "%s %s agrees with kallsyms on all %zu common symbols (%zu only in the file)",
			       what, path, compared, missing);
	snprintf(k->info.kallsyms.symbol_source, sizeof(k->info.kallsyms.symbol_source),
		 "kallsyms (guest memory); %s %s %s on %zu symbols", what, path,
		 bad ? "DISAGREES" : "agrees", bad ? bad : compared);
}

static struct vms_error *load_symbols(struct vms_kernel *k)
{
	size_t start, end;
	rodata_span(k, &start, &end);
	struct vms_error *err = vms_symtab_create(&k->syms);
	if (err)
		return err;
	err = vms_kallsyms_recover(k->image, k->map.image_size, k->map.text_vaddr,
				   start, end, k->syms, &k->info.kallsyms);
	if (err && (start != 0 || end != k->map.image_size)) {
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "kallsyms not in .rodata guess (%s); searching the whole image",
			       err->message);
		vms_error_free(err);
		vms_symtab_destroy(k->syms);
		if ((err = vms_symtab_create(&k->syms)))
			return err;
		err = vms_kallsyms_recover(k->image, k->map.image_size,
					   k->map.text_vaddr, 0, k->map.image_size,
					   k->syms, &k->info.kallsyms);
	}
	struct vms_error *ks_err = err;
	bool have_file = k->opts.system_map || k->opts.vmlinux;
	if (ks_err && !have_file) {
		err = vms_error_create(ks_err->code, "%s (--system-map FILE can stand in for kallsyms)",
				       ks_err->message);
		vms_error_free(ks_err);
		return err;
	}
	if (!ks_err) {
		if ((err = vms_symtab_finish(k->syms)))
			return err;
		k->info.nr_symbols = vms_symtab_count(k->syms);
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "kallsyms: %zu symbols, token table at 0x%llx, layout %d%s",
			       k->info.nr_symbols,
			       (unsigned long long)k->info.kallsyms.token_table_vaddr,
			       k->info.kallsyms.layout,
			       k->info.kallsyms.absolute_percpu ? ", absolute per-CPU" : "");
		const struct vms_symbol *text = vms_symtab_by_name(k->syms, "_text");
		if (text && text->addr != k->map.text_vaddr)
			return vms_error_create(VMS_ERR_CORRUPT,
				"kallsyms says _text is 0x%llx but the page table maps the image at 0x%llx",
				(unsigned long long)text->addr,
				(unsigned long long)k->map.text_vaddr);
		snprintf(k->info.kallsyms.symbol_source,
			 sizeof(k->info.kallsyms.symbol_source), "kallsyms (guest memory)");
		if (!have_file)
			return NULL;
	}

	/* --system-map / --vmlinux: checked against kallsyms, or used instead. */
	const char *what, *path = k->opts.system_map ? k->opts.system_map : k->opts.vmlinux;
	char file_banner[sizeof(k->info.banner)];
	struct vms_symtab *file;
	if ((err = load_file_symbols(k, &file, &what, file_banner, sizeof(file_banner)))) {
		/* The user asked for this file: not being able to use it is an
		 * error even when kallsyms would do. */
		if (ks_err) {
			err = vms_error_wrap(err, "kallsyms not found (%s); and", ks_err->message);
			vms_error_free(ks_err);
		}
		return err;
	}
	const struct vms_symbol *ftext = vms_symtab_by_name(file, "_text");
	if (!ftext || ftext->addr < KERNEL_MAP_START) {
		vms_symtab_destroy(file);
		err = vms_error_create(VMS_ERR_FORMAT,
			"%s %s has no _text symbol in the kernel mapping: cannot compute the KASLR slide",
			what, path);
		if (!ks_err)
			return vms_error_wrap(err, "%s", "--system-map/--vmlinux");
		err = vms_error_wrap(err, "kallsyms not found (%s); and", ks_err->message);
		vms_error_free(ks_err);
		return err;
	}
	int64_t slide = (int64_t)(k->map.text_vaddr - ftext->addr);
	vms_kernel_log(k, VMS_LOG_DEBUG,
		       "%s %s: %zu symbols, _text 0x%llx, KASLR slide 0x%llx (page-table _text - file _text)",
		       what, path, vms_symtab_count(file), (unsigned long long)ftext->addr,
		       (unsigned long long)slide);
	if (!ks_err) {
		char mem_banner[sizeof(k->info.banner)] = "";
		const struct vms_symbol *lb = vms_symtab_by_name(k->syms, "linux_banner");
		if (file_banner[0] && lb &&
		    vms_ok(vms_kernel_read_string(k, lb->addr, mem_banner, sizeof(mem_banner))) &&
		    strcmp(file_banner, mem_banner))
			vms_kernel_log(k, VMS_LOG_WARN,
				       "vmlinux %s is from another build: its banner is \"%.120s\", the guest's \"%.120s\"",
				       k->opts.vmlinux, file_banner, mem_banner);
		check_file_symbols(k, file, what, path, slide);
		vms_symtab_destroy(file);
		return NULL;
	}

	/* No kallsyms: the file's symbols, slid, become the symbol table. */
	vms_kernel_log(k, VMS_LOG_INFO, "kallsyms not found in guest memory (%s); using %s %s",
		       ks_err->message, what, path);
	vms_error_free(ks_err);
	vms_symtab_destroy(k->syms);
	k->syms = NULL;
	k->info.kallsyms = (struct vms_kallsyms_info){ 0 };
	if ((err = vms_symtab_create(&k->syms)))
		goto out;
	for (size_t i = 0, n = vms_symtab_count(file); i < n; i++) {
		const struct vms_symbol *s = vms_symtab_at(file, i);
		if ((err = vms_symtab_add(k->syms, slid(s->addr, slide), s->type, s->name,
					  strlen(s->name), NULL)))
			goto out;
	}
	if ((err = vms_symtab_finish(k->syms)))
		goto out;
	k->info.nr_symbols = vms_symtab_count(k->syms);
	/* Nothing left to cross-check against: the banner must be where the
	 * file says, and be the file's own when it has one. */
	char mem_banner[sizeof(k->info.banner)] = "";
	const struct vms_symbol *lb = vms_symtab_by_name(k->syms, "linux_banner");
	if (!lb) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s %s has no linux_banner symbol", what, path);
		goto out;
	}
	vms_ok(vms_kernel_read_string(k, lb->addr, mem_banner, sizeof(mem_banner)));
	if (strncmp(mem_banner, "Linux version ", 14)) {
		char shown[40];
		size_t j = 0;
		for (; j < sizeof(shown) - 1 && mem_banner[j]; j++)
			shown[j] = mem_banner[j] >= ' ' && mem_banner[j] < 0x7f ? mem_banner[j] : '?';
		shown[j] = '\0';
		err = vms_error_create(VMS_ERR_CORRUPT,
			"%s %s does not match this kernel: its linux_banner (0x%llx after the KASLR slide 0x%llx) holds \"%s\", not \"Linux version ...\" (a map from another build?)",
			what, path, (unsigned long long)lb->addr, (unsigned long long)slide, shown);
		goto out;
	}
	if (file_banner[0] && strcmp(file_banner, mem_banner)) {
		err = vms_error_create(VMS_ERR_CORRUPT,
			"vmlinux %s is from another build: its banner is \"%.120s\", the guest's \"%.120s\"",
			k->opts.vmlinux, file_banner, mem_banner);
		goto out;
	}
	snprintf(k->info.kallsyms.symbol_source, sizeof(k->info.kallsyms.symbol_source),
		 "%s %s (KASLR slide 0x%llx; no kallsyms in guest memory)", what, path,
		 (unsigned long long)slide);
out:
	vms_symtab_destroy(file);
	return err;
}

/* The struct offsets and sizes vmsight's views use (src/os/linux/). */
static const char *const checked_fields[][2] = {
	{ "task_struct", "tasks" }, { "task_struct", "pid" }, { "task_struct", "tgid" },
	{ "task_struct", "comm" }, { "task_struct", "real_parent" },
	{ "task_struct", "cred" }, { "task_struct", "exit_state" },
	{ "task_struct", "flags" }, { "task_struct", "mm" }, { "task_struct", "signal" },
	{ "task_struct", "__state" }, { "task_struct", "state" },
	{ "task_struct", "thread_info.cpu" }, { "task_struct", "cpu" },
	{ "task_struct", "thread_node" }, { "task_struct", "worker_private" },
	{ "task_struct", "se.vruntime" }, { "task_struct", "thread_group" },
	{ "cred", "uid" }, { "cred", "euid" }, { "cred", "gid" },
	{ "signal_struct", "nr_threads" }, { "signal_struct", "thread_head" },
	{ "kthread", "data" }, { "kthread", "full_name" },
	{ "worker", "desc" }, { "worker", "current_work" },
	{ "uts_namespace", "name.release" }, { "mm_struct", "pgd" },
	{ "mm_struct", "mm_mt" }, { "mm_struct", "mmap" }, { "mm_struct", "arg_start" },
	{ "boot_params", "e820_entries" }, { "boot_params", "e820_table" },
	{ "boot_e820_entry", "addr" }, { "boot_e820_entry", "size" },
	{ "boot_e820_entry", "type" }, { "list_head", "next" },
	{ "module", "list" }, { "module", "name" },
};
static const char *const checked_structs[] = {
	"task_struct", "vm_area_struct", "mm_struct", "cred", "module", "boot_e820_entry",
};

/* BTF and --vmlinux DWARF both present: the offsets the code uses must agree. */
static void check_dwarf_against_btf(struct vms_kernel *k)
{
	struct vms_types *dw;
	struct vms_error *err = vms_types_from_dwarf(k->opts.vmlinux, &dw);
	if (err) {
		vms_kernel_log(k, VMS_LOG_WARN, "%s; using BTF only", err->message);
		vms_error_free(err);
		return;
	}
	size_t compared = 0, bad = 0;
	char first[320] = "";
	size_t flen = 0;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(checked_fields); i++) {
		const char *s = checked_fields[i][0], *m = checked_fields[i][1];
		struct vms_field a, b;
		struct vms_error *ea = vms_types_field(k->types, s, m, &a);
		struct vms_error *eb = vms_types_field(dw, s, m, &b);
		bool ok = (ea && eb) || (!ea && !eb && a.offset == b.offset &&
					 a.size == b.size && a.bit_offset == b.bit_offset &&
					 a.bit_size == b.bit_size);
		if (!ea || !eb)
			compared++;
		if (!ok && bad++ < 3 && flen < sizeof(first))
			flen += (size_t)snprintf(first + flen, sizeof(first) - flen,
				"%s%s.%s BTF %s%u DWARF %s%u", bad > 1 ? "; " : "", s, m,
				ea ? "none/" : "", ea ? 0 : a.offset, eb ? "none/" : "",
				eb ? 0 : b.offset);
		vms_error_free(ea);
		vms_error_free(eb);
	}
	for (size_t i = 0; i < VMS_ARRAY_SIZE(checked_structs); i++) {
		size_t a = 0, b = 0;
		bool ha = vms_ok(vms_types_struct_size(k->types, checked_structs[i], &a));
		bool hb = vms_ok(vms_types_struct_size(dw, checked_structs[i], &b));
		if (ha || hb)
			compared++;
		if ((ha != hb || a != b) && bad++ < 3 && flen < sizeof(first))
			flen += (size_t)snprintf(first + flen, sizeof(first) - flen,
				"%ssizeof(%s) BTF %zu DWARF %zu", bad > 1 ? "; " : "",
				checked_structs[i], a, b);
	}
	struct vms_types_index_stats st;
	vms_types_index_stats(dw, &st);
	if (bad)
		vms_kernel_log(k, VMS_LOG_WARN,
			       "vmlinux %s does not match this kernel's BTF: %zu of %zu offsets and sizes vmsight uses differ, e.g. %s; BTF is used",
			       k->opts.vmlinux, bad, compared, first);
	else
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "DWARF of %s agrees with BTF on %zu offsets and sizes (index: %llu units, %llu names, %.2f s)",
			       k->opts.vmlinux, compared, (unsigned long long)st.units,
			       (unsigned long long)st.names, st.seconds);
	snprintf(k->info.kallsyms.types_source, sizeof(k->info.kallsyms.types_source),
		 "BTF (guest memory); DWARF of %s %s on %zu offsets", k->opts.vmlinux,
		 bad ? "DISAGREES" : "agrees", bad ? bad : compared);
	vms_types_destroy(dw);
}

/* No BTF: the types come from --vmlinux's DWARF. */
static struct vms_error *load_dwarf(struct vms_kernel *k, const char *why)
{
	struct vms_error *err = vms_types_from_dwarf(k->opts.vmlinux, &k->types);
	if (err)
		return vms_error_wrap(err, "%s; and", why);
	size_t size;
	/* Build the name index now, so that its cost shows in -v. */
	if ((err = vms_types_struct_size(k->types, "task_struct", &size))) {
		vms_types_destroy(k->types);
		k->types = NULL;
		return vms_error_wrap(err, "%s; and --vmlinux", why);
	}
	struct vms_types_index_stats st;
	vms_types_index_stats(k->types, &st);
	vms_kernel_log(k, VMS_LOG_INFO,
		       "no BTF in guest memory; types from the DWARF of %s (index: %llu units, %llu names, %.2f s)",
		       k->opts.vmlinux, (unsigned long long)st.units,
		       (unsigned long long)st.names, st.seconds);
	snprintf(k->info.kallsyms.types_source, sizeof(k->info.kallsyms.types_source),
		 "DWARF of %s (no BTF in guest memory)", k->opts.vmlinux);
	return NULL;
}

static struct vms_error *load_btf(struct vms_kernel *k)
{
	const struct vms_symbol *start = vms_symtab_by_name(k->syms, "__start_BTF");
	const struct vms_symbol *stop = vms_symtab_by_name(k->syms, "__stop_BTF");
	size_t off = 0, size = 0;
	uint64_t tv = k->map.text_vaddr;
	if (start && stop && start->addr >= tv && stop->addr > start->addr &&
	    stop->addr - tv <= k->map.image_size) {
		off = start->addr - tv;
		size = vms_btf_blob_size(k->image + off, stop->addr - start->addr);
		if (!size)
			vms_kernel_log(k, k->opts.vmlinux ? VMS_LOG_DEBUG : VMS_LOG_WARN,
				       "__start_BTF at 0x%llx holds no valid BTF header; scanning",
				       (unsigned long long)start->addr);
	}
	if (!size) {
		static const uint8_t magic[8] = { 0x9f, 0xeb, 1, 0, 24, 0, 0, 0 };
		size_t s, e;
		rodata_span(k, &s, &e);
		for (int pass = 0; pass < 2 && !size; pass++) {
			size_t pos = pass ? 0 : s, lim = pass ? k->map.image_size : e;
			while (pos < lim) {
				const uint8_t *hit = memmem(k->image + pos, lim - pos,
							    magic, sizeof(magic));
				if (!hit)
					break;
				off = (size_t)(hit - k->image);
				size = vms_btf_blob_size(hit, k->map.image_size - off);
				if (size)
					break;
				pos = off + 1;
			}
		}
	}
	if (!size) {
		char why[160];
		snprintf(why, sizeof(why), "no BTF found in the kernel image at 0x%llx",
			 (unsigned long long)tv);
		if (k->opts.vmlinux)
			return load_dwarf(k, why);
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"%s (no __start_BTF symbol, no BTF header 9f eb 01 00 18 00 00 00); a kernel built without CONFIG_DEBUG_INFO_BTF needs --vmlinux",
			why);
	}
	struct vms_error *err = vms_types_from_btf(k->image + off, size, &k->types);
	if (err) {
		err = vms_error_wrap(err, "BTF at 0x%llx", (unsigned long long)(tv + off));
		if (!k->opts.vmlinux) {
			struct vms_error *e2 = vms_error_create(err->code,
				"%s; a kernel without usable BTF needs --vmlinux", err->message);
			vms_error_free(err);
			return e2;
		}
		char why[256];
		snprintf(why, sizeof(why), "%s", err->message);
		vms_error_free(err);
		return load_dwarf(k, why);
	}
	k->info.btf_vaddr = tv + off;
	k->info.btf_size = size;
	k->info.btf_types = vms_types_count(k->types);
	vms_kernel_log(k, VMS_LOG_DEBUG, "BTF: %zu bytes at 0x%llx, %u types", size,
		       (unsigned long long)(tv + off), k->info.btf_types);
	snprintf(k->info.kallsyms.types_source, sizeof(k->info.kallsyms.types_source),
		 "BTF (guest memory)");
	if (k->opts.vmlinux)
		check_dwarf_against_btf(k);
	return NULL;
}

/*
 * A raw RAM file of a guest with more RAM than fits below QEMU's PCI hole
 * holds [0, lowmem) then [4 GiB, ...).  The firmware's memory map, kept in
 * boot_params in the kernel image, tells where low RAM ends.
 */
static uint64_t raw_lowmem_from_e820(struct vms_kernel *k)
{
	uint64_t bp = 0;
	struct vms_field n_f, tab_f, addr_f, size_f, type_f;
	size_t entsz;
	if (!vms_ok(vms_kernel_symbol(k, "boot_params", &bp)) ||
	    !vms_ok(vms_types_field(k->types, "boot_params", "e820_entries", &n_f)) ||
	    !vms_ok(vms_types_field(k->types, "boot_params", "e820_table", &tab_f)) ||
	    !vms_ok(vms_types_field(k->types, "boot_e820_entry", "addr", &addr_f)) ||
	    !vms_ok(vms_types_field(k->types, "boot_e820_entry", "size", &size_f)) ||
	    !vms_ok(vms_types_field(k->types, "boot_e820_entry", "type", &type_f)) ||
	    !vms_ok(vms_types_struct_size(k->types, "boot_e820_entry", &entsz)) || !entsz)
		return 0;
	uint8_t nent;
	if (!vms_ok(vms_kernel_read(k, bp + n_f.offset, &nent, 1)))
		return 0;
	uint64_t low_end = 0;
	bool high = false;
	for (unsigned i = 0; i < nent && i < 128; i++) {
		uint8_t e[64];
		if (entsz > sizeof(e) ||
		    !vms_ok(vms_kernel_read(k, bp + tab_f.offset + i * entsz, e, entsz)))
			return 0;
		uint64_t a = vms_le64(e + addr_f.offset), s = vms_le64(e + size_f.offset);
		uint32_t t = vms_le32(e + type_f.offset);
		if (t != 1)  /* E820_TYPE_RAM */
			continue;
		if (a >= (4ULL << 30))
			high = true;
		else if (a + s > low_end)
			low_end = a + s;
	}
	if (!high)
		return 0;
	/* QEMU splits at 2, 2.75, 3 or 3.5 GiB; firmware reserves a little
	 * below the split. */
	return (low_end + (256ULL << 20) - 1) & ~((256ULL << 20) - 1);
}

static void free_discovery(struct vms_kernel *k)
{
	free(k->field_cache);
	k->field_cache = NULL;
	vms_symtab_destroy(k->syms);
	k->syms = NULL;
	vms_types_destroy(k->types);
	k->types = NULL;
	free(k->image_copy);
	k->image_copy = NULL;
	k->image = NULL;
}

/*
 * A raw RAM file bigger than QEMU's PCI hole may be split (see
 * vms_source_raw_set_lowmem()).  Page tables allocated late sit high in
 * RAM, so a wrong layout shows as a kernel image that stops early: keep the
 * layout under which the image mapping runs longest.
 */
static struct vms_error *find_kernel_any_layout(struct vms_kernel *k)
{
	static const uint64_t splits[] = { 0, 3ULL << 30, 2ULL << 30,
					   0xe0000000ULL, 0xb0000000ULL };
	uint64_t best = 0, best_size = 0;
	struct vms_error *first_err = NULL;
	for (size_t i = 0; i < VMS_ARRAY_SIZE(splits); i++) {
		if (splits[i] && splits[i] >= vms_source_phys_size(k->src))
			continue;
		struct vms_error *err = vms_source_raw_set_lowmem(k->src, splits[i]);
		if (!err)
			err = vms_x86_64_find_kernel(k->src, false, &k->map);
		if (err) {
			if (!first_err)
				first_err = err;
			else
				vms_error_free(err);
			continue;
		}
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "RAM file split at 0x%llx: kernel image of %llu MiB mapped",
			       (unsigned long long)splits[i],
			       (unsigned long long)(k->map.image_size >> 20));
		if (k->map.image_size > best_size) {
			best_size = k->map.image_size;
			best = splits[i];
		}
	}
	if (!best_size) {
		vms_error_free(vms_source_raw_set_lowmem(k->src, 0));
		return first_err;
	}
	vms_error_free(first_err);
	k->info.ram_layout_lowmem = best;
	struct vms_error *err = vms_source_raw_set_lowmem(k->src, best);
	if (!err)
		err = vms_x86_64_find_kernel(k->src, false, &k->map);
	return err;
}

static struct vms_error *discover_image(struct vms_kernel *k)
{
	struct vms_error *err;
	if (vms_source_is_raw(k->src) && vms_source_phys_size(k->src) > (2ULL << 30))
		err = find_kernel_any_layout(k);
	else
		err = vms_x86_64_find_kernel(k->src, false, &k->map);
	if (err && err->code == VMS_ERR_NOT_FOUND) {
		vms_kernel_log(k, VMS_LOG_INFO,
			       "no kernel page table in vCPU state or the first MiB; scanning all of %s (slow)",
			       k->src->path);
		vms_error_free(err);
		err = vms_x86_64_find_kernel(k->src, true, &k->map);
	}
	if (err)
		return err;
	vms_addrspace_init(&k->as, k->src, k->map.pgd, k->map.la57);
	vms_kernel_log(k, VMS_LOG_DEBUG,
		       "page table 0x%llx (%s, %s): _text at 0x%llx = physical 0x%llx, image %llu MiB",
		       (unsigned long long)k->map.pgd, k->map.origin,
		       k->map.la57 ? "5-level" : "4-level",
		       (unsigned long long)k->map.text_vaddr,
		       (unsigned long long)k->map.text_paddr,
		       (unsigned long long)(k->map.image_size >> 20));
	return load_image(k);
}

static void read_facts(struct vms_kernel *k)
{
	struct vms_kernel_info *in = &k->info;
	uint64_t a = 0;
	struct vms_field f;
	struct vms_error *err;

	if (!(err = vms_kernel_symbol(k, "linux_banner", &a)))
		err = vms_kernel_read_string(k, a, in->banner, sizeof(in->banner));
	if (err) {
		vms_kernel_log(k, VMS_LOG_WARN, "kernel banner: %s", err->message);
		vms_error_free(err);
	}
	if (!(err = vms_kernel_symbol(k, "init_uts_ns", &a)) &&
	    !(err = vms_types_field(k->types, "uts_namespace", "name.release", &f)))
		err = vms_kernel_read_string(k, a + f.offset, in->release,
					     sizeof(in->release));
	if (err) {
		vms_kernel_log(k, VMS_LOG_WARN, "kernel release: %s", err->message);
		vms_error_free(err);
	}
	uint64_t pob;
	if (vms_ok(vms_kernel_symbol(k, "page_offset_base", &a)) &&
	    vms_ok(vms_kernel_read_u64(k, a, &pob)))
		in->page_offset_base = pob;

	uint32_t ids = 0;
	if (vms_ok(vms_kernel_symbol(k, "nr_cpu_ids", &a)) &&
	    !vms_ok(vms_kernel_read_u32(k, a, &ids)))
		ids = 0;
	if (ids == 0 || ids > 8192)
		ids = 1;
	in->nr_cpu_ids = ids;
	if (!vms_ok(vms_kernel_symbol(k, "__per_cpu_offset", &k->per_cpu_offset_addr)))
		k->per_cpu_offset_addr = 0;
	/* Online CPUs: the bits of __cpu_online_mask below nr_cpu_ids. */
	if (vms_ok(vms_kernel_symbol(k, "__cpu_online_mask", &a))) {
		unsigned online = 0;
		for (unsigned w = 0; w < (ids + 63) / 64; w++) {
			uint64_t bits;
			if (!vms_ok(vms_kernel_read_u64(k, a + 8 * w, &bits)))
				break;
			if (w == (ids - 1) / 64 && ids % 64)
				bits &= (1ULL << (ids % 64)) - 1;
			online += (unsigned)__builtin_popcountll(bits);
		}
		in->nr_cpus_online = online;
	}
	/* Cross-check the paging mode with the kernel's own flag. */
	uint32_t l5;
	if (vms_ok(vms_kernel_symbol(k, "__pgtable_l5_enabled", &a)) &&
	    vms_ok(vms_kernel_read_u32(k, a, &l5)) && (l5 != 0) != k->map.la57)
		vms_kernel_log(k, VMS_LOG_WARN,
			       "__pgtable_l5_enabled is %u but the page table was walked as %s",
			       l5, k->map.la57 ? "5-level" : "4-level");
}

static struct vms_error *discover(struct vms_kernel *k)
{
	struct vms_error *err;
	for (int attempt = 0; attempt < 2; attempt++) {
		if ((err = discover_image(k)) || (err = load_symbols(k)) ||
		    (err = load_btf(k)))
			return err;
		if (!vms_source_is_raw(k->src) || attempt)
			break;
		uint64_t lowmem = raw_lowmem_from_e820(k);
		if (lowmem == k->info.ram_layout_lowmem)
			break;
		vms_kernel_log(k, VMS_LOG_DEBUG,
			       "firmware memory map: RAM above 4 GiB; the RAM file holds low memory up to 0x%llx",
			       (unsigned long long)lowmem);
		if ((err = vms_source_raw_set_lowmem(k->src, lowmem)))
			return err;
		k->info.ram_layout_lowmem = lowmem;
		if (k->map.text_paddr + k->map.image_size <= lowmem &&
		    k->map.pgd < lowmem) {
			/* Image and top-level table lie below the split, where
			 * nothing moved: keep what was parsed from them. */
			vms_addrspace_flush(&k->as);
			if ((err = load_image(k)))
				return err;
			/* The symbols read their names from the image. */
			vms_symtab_rebind_image(k->syms, k->image);
			break;
		}
		free_discovery(k);
	}
	struct vms_kernel_info *in = &k->info;
	in->text_vaddr = k->map.text_vaddr;
	in->text_paddr = k->map.text_paddr;
	in->image_size = k->map.image_size;
	in->kaslr_virt = (int64_t)(k->map.text_vaddr - X86_DEFAULT_TEXT);
	in->kaslr_phys = (int64_t)(k->map.text_paddr - X86_DEFAULT_LOAD);
	in->pgd = k->map.pgd;
	in->la57 = k->map.la57;
	snprintf(in->pgd_origin, sizeof(in->pgd_origin), "%s", k->map.origin);
	read_facts(k);
	return NULL;
}

struct vms_error *vms_kernel_open(struct vms_source *src,
				  const struct vms_kernel_options *opts,
				  struct vms_kernel **ret)
{
	struct vms_kernel *k = calloc(1, sizeof(*k));
	if (!k)
		return &vms_error_nomem;
	k->src = src;
	if (opts)
		k->opts = *opts;
	struct vms_error *err = discover(k);
	if (err) {
		vms_kernel_close(k);
		return err;
	}
	/* Text and rodata end at __end_rodata, which x86-64 aligns to 2 MiB
	 * and maps read-only: a copy of them stays true. */
	uint64_t ro_end = 0;
	if (k->image_copy && k->src->live &&
	    vms_ok(vms_kernel_symbol(k, "__end_rodata", &ro_end)) &&
	    ro_end > k->map.text_vaddr && ro_end - k->map.text_vaddr <= k->map.image_size)
		k->copy_ro_end = ro_end;
	*ret = k;
	return NULL;
}

void vms_kernel_close(struct vms_kernel *k)
{
	if (!k)
		return;
	free_discovery(k);
	free(k);
}
