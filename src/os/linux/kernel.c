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
	/* The kernel image is linear: serve it without walking tables. */
	if (vaddr >= k->map.text_vaddr && vaddr - k->map.text_vaddr < k->map.image_size &&
	    len <= k->map.image_size - (vaddr - k->map.text_vaddr)) {
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

struct vms_error *vms_kernel_field(struct vms_kernel *k, const char *name,
				   const char *path, struct vms_field *out)
{
	return vms_types_field(k->types, name, path, out);
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
	if (err)
		return err;
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
			vms_kernel_log(k, VMS_LOG_WARN,
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
	if (!size)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"no BTF found in the kernel image at 0x%llx (no __start_BTF symbol, no BTF header 9f eb 01 00 18 00 00 00); a kernel built without CONFIG_DEBUG_INFO_BTF needs --vmlinux",
			(unsigned long long)tv);
	struct vms_error *err = vms_types_from_btf(k->image + off, size, &k->types);
	if (err)
		return vms_error_wrap(err, "BTF at 0x%llx", (unsigned long long)(tv + off));
	k->info.btf_vaddr = tv + off;
	k->info.btf_size = size;
	k->info.btf_types = vms_types_count(k->types);
	vms_kernel_log(k, VMS_LOG_DEBUG, "BTF: %zu bytes at 0x%llx, %u types", size,
		       (unsigned long long)(tv + off), k->info.btf_types);
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
