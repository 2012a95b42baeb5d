// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vms_isf_build: a Volatility 3 symbol table of the guest kernel from its
 * BTF (types), kallsyms (symbols) and linux_banner, all from guest memory.
 *
 * Symbols go back to their link-time addresses (kallsyms address minus
 * the KASLR virtual offset), as System.map and dwarf2json have them:
 * Volatility finds the shift itself.  Per-CPU symbols are offsets in the
 * per-CPU area, not relocated, and stay as they are.
 *
 * BTF types only the per-CPU variables.  dwarf2json types every variable
 * from DWARF; Volatility's Linux plugins need the types of a few globals
 * (init_task, modules, prb, ...).  Those come from a table below (their C
 * declarations, which have not changed in the kernels vmsight reads),
 * resolved against the guest's own BTF.  Other symbols are "void", as
 * dwarf2json writes symbols that only System.map knows.
 */
#include <bpf/btf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/isf.h>

#include "export/isf_priv.h"

/* Declared type of a global BTF does not describe: "struct task_struct",
 * "char *", "struct gate_struct [256]", a base type or typedef name. */
struct fill {
	const char *symbol;
	const char *type;
};

static const struct fill fills[] = {
	{ "init_task", "struct task_struct" },
	{ "init_mm", "struct mm_struct" },
	{ "init_files", "struct files_struct" },
	{ "init_fs", "struct fs_struct" },
	{ "init_pid_ns", "struct pid_namespace" },
	{ "init_uts_ns", "struct uts_namespace" },
	{ "init_ipc_ns", "struct ipc_namespace" },
	{ "init_user_ns", "struct user_namespace" },
	{ "init_nsproxy", "struct nsproxy" },
	{ "init_cred", "struct cred" },
	{ "init_net", "struct net" },
	{ "init_struct_pid", "struct pid" },
	{ "kthreadd_task", "struct task_struct *" },
	{ "modules", "struct list_head" },
	{ "module_kset", "struct kset *" },
	{ "tty_drivers", "struct list_head" },
	{ "net_namespace_list", "struct list_head" },
	{ "super_blocks", "struct list_head" },
	{ "slab_caches", "struct list_head" },
	{ "file_systems", "struct file_system_type *" },
	{ "mount_hashtable", "struct hlist_head *" },
	{ "prb", "struct printk_ringbuffer *" },
	{ "printk_rb_static", "struct printk_ringbuffer" },
	{ "log_buf", "char *" },
	{ "log_buf_len", "unsigned int" },
	{ "idt_table", "struct gate_struct [256]" },
	{ "socket_file_ops", "struct file_operations" },
	{ "sockfs_dentry_operations", "struct dentry_operations" },
	{ "keyboard_notifier_list", "struct atomic_notifier_head" },
	{ "prog_idr", "struct idr" },
	{ "map_idr", "struct idr" },
	{ "iomem_resource", "struct resource" },
	{ "ioport_resource", "struct resource" },
	{ "tcp_hashinfo", "struct inet_hashinfo" },
	{ "ftrace_ops_list", "struct ftrace_ops *" },
	{ "page_offset_base", "long unsigned int" },
	{ "vmalloc_base", "long unsigned int" },
	{ "vmemmap_base", "long unsigned int" },
	{ "jiffies", "long unsigned int" },
	{ "jiffies_64", "long long unsigned int" },
	{ "nr_cpu_ids", "unsigned int" },
	{ "cap_last_cap", "int" },
	{ "__cpu_online_mask", "struct cpumask" },
	{ "__cpu_possible_mask", "struct cpumask" },
	{ "__cpu_present_mask", "struct cpumask" },
	{ "__cpu_active_mask", "struct cpumask" },
};

/* The ISF descriptor of a fills[] type, or false when the guest's BTF has
 * no such named type (the symbol then stays void). */
static bool fill_desc(struct isf_types *ty, struct isf_buf *b, const char *spec)
{
	const struct btf *btf = isf_types_btf(ty);
	char name[96];
	unsigned ptrs = 0, count = 0;
	snprintf(name, sizeof(name), "%s", spec);
	char *br = strchr(name, '[');
	if (br) {
		count = (unsigned)strtoul(br + 1, NULL, 10);
		*br = '\0';
	}
	size_t n = strlen(name);
	while (n && (name[n - 1] == ' ' || name[n - 1] == '*')) {
		ptrs += name[n - 1] == '*';
		name[--n] = '\0';
	}
	int32_t id;
	if (!strncmp(name, "struct ", 7))
		id = btf__find_by_name_kind(btf, name + 7, BTF_KIND_STRUCT);
	else if (!strncmp(name, "union ", 6))
		id = btf__find_by_name_kind(btf, name + 6, BTF_KIND_UNION);
	else if ((id = btf__find_by_name_kind(btf, name, BTF_KIND_INT)) <= 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return false;
	/* Into a scratch buffer first: a type that does not resolve (corrupt
	 * BTF) leaves the symbol void, not half a descriptor. */
	struct isf_buf d = { 0 };
	if (count)
		isf_putf(&d, "{\"count\":%u,\"kind\":\"array\",\"subtype\":", count);
	for (unsigned i = 0; i < ptrs; i++)
		isf_puts(&d, "{\"kind\":\"pointer\",\"subtype\":");
	struct vms_error *err = isf_type_desc(ty, &d, (uint32_t)id);
	for (unsigned i = 0; i < ptrs + (count ? 1 : 0); i++)
		isf_puts(&d, "}");
	bool ok = !err && !d.oom;
	if (ok)
		isf_put(b, d.p, d.len);
	vms_error_free(err);
	free(d.p);
	return ok;
}

static const char *fill_for(const char *name)
{
	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
		if (!strcmp(fills[i].symbol, name))
			return fills[i].type;
	return NULL;
}

/* linux_banner's bytes, its NUL included (the symbol's size), as
 * dwarf2json copies them from .rodata; Volatility scans memory for them. */
static struct vms_error *read_banner(struct vms_kernel *k, uint64_t addr, char *buf,
				     size_t size, size_t *len)
{
	struct vms_error *err = vms_kernel_read_string(k, addr, buf, size);
	if (err)
		return vms_error_wrap(err, "linux_banner at 0x%llx", (unsigned long long)addr);
	size_t n = strlen(buf);
	if (n < 14 || strncmp(buf, "Linux version ", 14) || n + 1 >= size)
		return vms_error_create(VMS_ERR_CORRUPT,
			"linux_banner at 0x%llx does not read \"Linux version ...\" (%zu bytes)",
			(unsigned long long)addr, n);
	*len = n + 1;
	return NULL;
}

static struct vms_error *write_metadata(struct vms_kernel *k, struct isf_buf *b)
{
	const struct vms_kernel_info *ki = vms_kernel_info(k);
	isf_puts(b, "{\n\"metadata\":{\"format\":\"" VMS_ISF_FORMAT "\","
		 "\"producer\":{\"name\":\"vmsight\",\"version\":\"0.1.0\"},"
		 "\"linux\":{\"symbols\":[{\"kind\":\"symtab\",\"name\":");
	char what[160];
	snprintf(what, sizeof(what), "kallsyms of %s in guest memory (%zu symbols)",
		 ki->release, ki->nr_symbols);
	if (isf_text_bad(what) >= 0)
		return vms_error_create(VMS_ERR_CORRUPT,
			"the guest's release string is not text: %s", "init_uts_ns.name.release");
	isf_put_str(b, what);
	isf_puts(b, "}],\"types\":[{\"kind\":\"dwarf\",\"name\":");
	snprintf(what, sizeof(what), "BTF of %s in guest memory (%zu bytes at 0x%llx)",
		 ki->release, ki->btf_size, (unsigned long long)ki->btf_vaddr);
	isf_put_str(b, what);
	isf_puts(b, "}]}},\n");
	return NULL;
}

/* Link-time address of kallsyms address @a: per-CPU offsets (below the
 * kernel image's range) are not relocated. */
static uint64_t unrelocate(int64_t kaslr_virt, uint64_t a)
{
	return a >= 0xffffffff80000000ULL ? a - (uint64_t)kaslr_virt : a;
}

struct vms_error *isf_write_symbols(struct isf_buf *b, struct vms_symtab *tab,
				   int64_t kaslr_virt, struct isf_types *ty,
				   const char *banner, size_t banner_len,
				   struct vms_isf_stats *st)
{
	const struct isf_strset *vars = isf_types_vars(ty);
	size_t n = vms_symtab_count(tab);
	bool first = true;
	isf_puts(b, ",\n\"symbols\":{");
	for (size_t i = 0; i < n; i++) {
		const struct vms_symbol *s = vms_symtab_at(tab, i);
		if (s->module)
			continue;
		long bad = isf_text_bad(s->name);
		if (bad >= 0 || !s->name[0])
			return vms_error_create(VMS_ERR_CORRUPT,
				"kallsyms symbol %zu at 0x%llx: name %s byte 0x%02x at offset %ld",
				i, (unsigned long long)s->addr, s->name[0] ? "has" : "is empty,",
				bad >= 0 ? (unsigned char)s->name[bad] : 0, bad < 0 ? 0 : bad);
		/* One entry per name (JSON keys are unique): the one
		 * vms_symtab_by_name answers, a global before a local. */
		if (vms_symtab_by_name(tab, s->name) != s) {
			st->duplicate_names++;
			continue;
		}
		isf_puts(b, first ? "\n" : ",\n");
		first = false;
		isf_put_str(b, s->name);
		isf_putf(b, ":{\"address\":%llu,\"type\":",
			 (unsigned long long)unrelocate(kaslr_virt, s->addr));
		uint32_t vt;
		const char *spec;
		if (!strcmp(s->name, "linux_banner") && banner) {
			isf_putf(b, "{\"count\":%zu,\"kind\":\"array\",\"subtype\":"
				 "{\"kind\":\"base\",\"name\":\"char\"}},\"constant_data\":", banner_len);
			isf_put_base64(b, (const uint8_t *)banner, banner_len);
			st->banner_len = banner_len;
			st->symbols_filled++;
		} else if (isf_strset_get(vars, s->name, &vt)) {
			struct vms_error *err = isf_type_desc(ty, b, vt);
			if (err)
				return vms_error_wrap(err, "type of per-CPU variable %s", s->name);
			st->symbols_btf++;
		} else if ((spec = fill_for(s->name)) && fill_desc(ty, b, spec)) {
			st->symbols_filled++;
		} else {
			isf_puts(b, "{\"kind\":\"base\",\"name\":\"void\"}");
			st->symbols_untyped++;
		}
		isf_puts(b, "}");
		st->symbols++;
	}
	isf_puts(b, "\n}");
	return NULL;
}

struct vms_error *vms_isf_build(struct vms_kernel *k, char **json, size_t *len,
				struct vms_isf_stats *stats)
{
	struct vms_isf_stats st = { 0 };
	struct btf *btf = vms_types_btf(vms_kernel_types(k));
	if (!btf)
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"an ISF is built from the guest's BTF; this kernel's types come from DWARF (--vmlinux): use dwarf2json on that file instead");
	if (!vms_kernel_symbols(k) || !vms_symtab_count(vms_kernel_symbols(k)))
		return vms_error_create(VMS_ERR_NOT_FOUND, "the guest has no kernel symbols");
	struct isf_types *ty;
	struct vms_error *err = isf_types_new(btf, &ty);
	if (err)
		return err;
	char banner[1024];
	size_t banner_len = 0;
	uint64_t banner_addr;
	if (vms_kernel_symbol(k, "linux_banner", &banner_addr)) {
		isf_types_free(ty);
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"no linux_banner symbol: Volatility matches a table to an image by it");
	}
	if ((err = read_banner(k, banner_addr, banner, sizeof(banner), &banner_len))) {
		isf_types_free(ty);
		return err;
	}
	struct isf_buf b = { 0 };
	if (!(err = write_metadata(k, &b)) && !(err = isf_types_write(ty, &b, &st)))
		err = isf_write_symbols(&b, vms_kernel_symbols(k), vms_kernel_info(k)->kaslr_virt,
					ty, banner, banner_len, &st);
	isf_puts(&b, "\n}\n");
	isf_types_free(ty);
	if (!err && b.oom)
		err = &vms_error_nomem;
	if (err) {
		free(b.p);
		return err;
	}
	st.json_bytes = b.len;
	*json = b.p;
	*len = b.len;
	if (stats)
		*stats = st;
	return NULL;
}
