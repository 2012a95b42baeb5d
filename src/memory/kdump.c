// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * kdump-compressed dumps (makedumpfile, virsh dump --format=kdump-*,
 * QEMU dump-guest-memory format=kdump-*), read with libkdumpfile.
 *
 * libkdumpfile is loaded when a kdump file is opened (dlopen), so the
 * library and the command do not depend on it otherwise.  Reads go through
 * kdump_read(KDUMP_MACHPHYSADDR): libkdumpfile decompresses page by page into
 * its own small cache, so cost follows what is read, not the dump size.
 * (KDUMP_KPHYSADDR needs a kernel-physical to machine-physical map that
 * libkdumpfile 0.5 sets up only for Xen; outside Xen the two are the same
 * and the page bitmap is indexed by machine frame, so machine physical is
 * read directly.)  The backed ranges come from the file's page bitmap ("file.pagemap").
 * vCPU registers: libkdumpfile 0.5 exposes none for these dumps; QEMU's own
 * CPU notes are read from the note area (read_cpu_notes) when present.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libkdumpfile/kdumpfile.h>

#include "memory/sources.h"

/* More runs of pages than this: keep one range per 1 GiB instead. */
#define KDUMP_MAX_RANGES 65536

struct kdump_api {
	void *lib;
	kdump_ctx_t *(*new_ctx)(void);
	void (*free_ctx)(kdump_ctx_t *);
	kdump_status (*open_fdset)(kdump_ctx_t *, unsigned, const int *);
	const char *(*get_err)(kdump_ctx_t *);
	kdump_status (*read)(kdump_ctx_t *, kdump_addrspace_t, kdump_addr_t,
			     void *, size_t *);
	kdump_status (*get_attr)(kdump_ctx_t *, const char *, kdump_attr_t *);
	kdump_status (*set_attr)(kdump_ctx_t *, const char *, const kdump_attr_t *);
	kdump_status (*vmcoreinfo_raw)(kdump_ctx_t *, char **);
	kdump_status (*bmp_find_set)(kdump_bmp_t *, kdump_addr_t *);
	kdump_status (*bmp_find_clear)(kdump_bmp_t *, kdump_addr_t *);
};

struct kdump_source {
	struct vms_source base;
	struct kdump_api api;
	kdump_ctx_t *ctx;
	int fd;
};

bool vms_kdump_detect(const void *data, uint64_t size)
{
	return size >= 16 && (!memcmp(data, "KDUMP   ", 8) ||
			      !memcmp(data, "DISKDUMP", 8) ||
			      !memcmp(data, "makedumpfile\0", 13));
}

static struct vms_error *load_api(const char *path, struct kdump_api *api)
{
	static const char *const names[] = { "libkdumpfile.so.10",
					     "libkdumpfile.so" };
	for (size_t i = 0; i < 2 && !api->lib; i++)
		api->lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
	if (!api->lib)
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"kdump %s: reading kdump-compressed dumps needs libkdumpfile (Debian: libkdumpfile10): %s",
			path, dlerror());
	struct {
		void **slot;
		const char *name;
	} syms[] = {
		{ (void **)&api->new_ctx, "kdump_new" },
		{ (void **)&api->free_ctx, "kdump_free" },
		{ (void **)&api->open_fdset, "kdump_open_fdset" },
		{ (void **)&api->get_err, "kdump_get_err" },
		{ (void **)&api->read, "kdump_read" },
		{ (void **)&api->get_attr, "kdump_get_attr" },
		{ (void **)&api->set_attr, "kdump_set_attr" },
		{ (void **)&api->vmcoreinfo_raw, "kdump_vmcoreinfo_raw" },
		{ (void **)&api->bmp_find_set, "kdump_bmp_find_set" },
		{ (void **)&api->bmp_find_clear, "kdump_bmp_find_clear" },
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		*syms[i].slot = dlsym(api->lib, syms[i].name);
		if (!*syms[i].slot)
			return vms_error_create(VMS_ERR_UNSUPPORTED,
				"kdump %s: libkdumpfile lacks %s (too old?)",
				path, syms[i].name);
	}
	return NULL;
}

static struct vms_error *kdump_src_read(struct vms_source *src, uint64_t paddr,
					void *buf, size_t len)
{
	struct kdump_source *k = (struct kdump_source *)src;
	size_t got = len;
	kdump_status st = k->api.read(k->ctx, KDUMP_MACHPHYSADDR, paddr, buf, &got);
	if (st == KDUMP_OK)
		return NULL;
	uint64_t bad = paddr + (got < len ? got : 0);
	if (st == KDUMP_ERR_NODATA || st == KDUMP_ERR_ADDRXLAT)
		return vms_error_create(VMS_ERR_FAULT,
			"physical address 0x%llx is not in kdump %s",
			(unsigned long long)bad, src->path);
	return vms_error_create(VMS_ERR_IO,
		"kdump %s: reading physical 0x%llx: %s",
		src->path, (unsigned long long)bad, k->api.get_err(k->ctx));
}

static void kdump_src_destroy(struct vms_source *src)
{
	struct kdump_source *k = (struct kdump_source *)src;
	if (k->ctx)
		k->api.free_ctx(k->ctx);
	if (k->fd >= 0)
		close(k->fd);
	if (k->api.lib)
		dlclose(k->api.lib);
}

static const struct vms_source_ops kdump_ops = {
	.read = kdump_src_read,
	.destroy = kdump_src_destroy,
};

static struct vms_error *add_range(struct vms_source *src, size_t *cap,
				   uint64_t start, uint64_t end)
{
	struct vms_phys_range *r = src->ranges;
	if (src->nr_ranges && r[src->nr_ranges - 1].end >= start) {
		if (end > r[src->nr_ranges - 1].end)
			r[src->nr_ranges - 1].end = end;
		return NULL;
	}
	if (src->nr_ranges == *cap) {
		size_t n = *cap ? 2 * *cap : 16;
		r = realloc(r, n * sizeof(*r));
		if (!r)
			return &vms_error_nomem;
		src->ranges = r;
		*cap = n;
	}
	r[src->nr_ranges++] = (struct vms_phys_range){ start, end };
	return NULL;
}

/* Runs of set bits in the file's page bitmap → sorted, disjoint ranges. */
static struct vms_error *build_ranges(struct kdump_source *k, uint64_t page_size)
{
	kdump_attr_t a;
	if (k->api.get_attr(k->ctx, "file.pagemap", &a) != KDUMP_OK ||
	    a.type != KDUMP_BITMAP)
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: no page bitmap: %s", k->base.path,
			k->api.get_err(k->ctx));
	kdump_bmp_t *bmp = a.val.bitmap;
	size_t cap = 0;
	kdump_addr_t pfn = 0;
	uint64_t max_pfn = UINT64_MAX / page_size;
	for (size_t runs = 0;; runs++) {
		if (k->api.bmp_find_set(bmp, &pfn) != KDUMP_OK || pfn >= max_pfn)
			break;
		kdump_addr_t end = pfn;
		if (k->api.bmp_find_clear(bmp, &end) != KDUMP_OK || end > max_pfn)
			end = max_pfn;
		uint64_t s = pfn * page_size, e = end * page_size;
		if (runs >= KDUMP_MAX_RANGES) /* coarse: whole GiBs */
			s &= ~((1ULL << 30) - 1);
		struct vms_error *err = add_range(&k->base, &cap, s, e);
		if (err)
			return err;
		if (end >= max_pfn || runs > (1u << 26))
			break;
		pfn = end;
	}
	if (!k->base.nr_ranges)
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: the page bitmap marks no page as present: no guest memory in it",
			k->base.path);
	return NULL;
}

/*
 * vCPU registers: QEMU puts its "QEMU" ELF notes (QEMUCPUState, with the
 * control registers and segment bases) in the dump's note area.  The
 * regular format gives its place in the sub-header: disk_dump_header has
 * block_size at offset 428, and the kdump_sub_header in the next block
 * has offset_note and size_note at 48 and 56.
 */
#define DDH_BLOCK_SIZE   428
#define KSH_OFFSET_NOTE  48
#define KSH_SIZE_NOTE    56
#define MAX_NOTES_SIZE   (16u << 20)
/* QEMUCPUState (target/i386/arch_dump.c) */
#define QN_RSP 56
#define QN_RIP 136
#define QN_SEG(i) (152 + 24 * (i))
#define QN_CR(i) (392 + 8 * (i))
#define QN_KGS 432
#define QN_MIN 432

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void read_cpu_notes(struct kdump_source *k)
{
	uint8_t h[DDH_BLOCK_SIZE + 4], sub[KSH_SIZE_NOTE + 8];
	if (pread(k->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, "KDUMP   ", 8))
		return;
	uint32_t bs = le32(h + DDH_BLOCK_SIZE);
	if (bs < sizeof(h) || bs > (1u << 20) ||
	    pread(k->fd, sub, sizeof(sub), bs) != (ssize_t)sizeof(sub))
		return;
	uint64_t off = le64(sub + KSH_OFFSET_NOTE), size = le64(sub + KSH_SIZE_NOTE);
	if (!size || size > MAX_NOTES_SIZE || off > INT64_MAX - size)
		return;
	uint8_t *n = malloc(size);
	if (!n || pread(k->fd, n, size, (off_t)off) != (ssize_t)size) {
		free(n);
		return;
	}
	size_t nr = 0;
	for (uint64_t p = 0; p + 12 <= size;) {
		uint64_t namesz = le32(n + p), descsz = le32(n + p + 4);
		uint64_t name = p + 12, desc = name + ((namesz + 3) & ~3ULL);
		if (desc > size || descsz > size - desc)
			break;
		if (namesz == 5 && !memcmp(n + name, "QEMU", 5) &&
		    descsz >= QN_MIN && le32(n + desc) == 1 && nr < 4096) {
			struct vms_cpu_state *c = realloc(k->base.cpus,
							  (nr + 1) * sizeof(*c));
			if (!c)
				break;
			k->base.cpus = c;
			const uint8_t *d = n + desc;
			uint64_t dl = le32(d + 4) < descsz ? le32(d + 4) : descsz;
			c[nr] = (struct vms_cpu_state){
				.rsp = le64(d + QN_RSP),
				.rip = le64(d + QN_RIP),
				.gs_base = le64(d + QN_SEG(4) + 16),
				.gdt_base = le64(d + QN_SEG(8) + 16),
				.gdt_limit = le32(d + QN_SEG(8) + 4),
				.idt_base = le64(d + QN_SEG(9) + 16),
				.idt_limit = le32(d + QN_SEG(9) + 4),
				.cr0 = le64(d + QN_CR(0)),
				.cr2 = le64(d + QN_CR(2)),
				.cr3 = le64(d + QN_CR(3)),
				.cr4 = le64(d + QN_CR(4)),
			};
			if (dl >= QN_KGS + 8) {
				c[nr].kernel_gs_base = le64(d + QN_KGS);
				c[nr].has_kernel_gs_base = true;
			}
			k->base.nr_cpus = ++nr;
		}
		p = desc + ((descsz + 3) & ~3ULL);
	}
	free(n);
}

/*
 * libkdumpfile allocates what the header says (block size, bitmap, notes,
 * VMCOREINFO): check those sizes against the file before it sees it.
 * disk_dump_header: header_version @8, block_size @428, sub_hdr_size @432,
 * bitmap_blocks @436, max_mapnr @440, nr_cpus @460; kdump_sub_header:
 * size_vmcoreinfo @40, size_note @56, size_eraseinfo @72, max_mapnr_64 @96.
 */
static struct vms_error *check_header(const char *path, int fd, uint64_t fsize)
{
	uint8_t h[464], sub[104];
	if (pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: header cut short (%llu bytes): truncated dump",
			path, (unsigned long long)fsize);
	uint32_t version = le32(h + 8), bs = le32(h + 428), subn = le32(h + 432);
	uint32_t bmb = le32(h + 436), ncpu = le32(h + 460);
	uint64_t max_mapnr = le32(h + 440);
	if (bs < 512 || bs > (1u << 20) || (bs & (bs - 1)))
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: block size %u at file offset 0x1ac is not a power of two in [512, 1 MiB]",
			path, bs);
	uint64_t need = (uint64_t)bs * (1 + (uint64_t)subn + bmb);
	if (need > fsize)
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: headers and bitmaps (%u + %u blocks of %u bytes) run past the end of the file (%llu bytes): truncated dump",
			path, subn, bmb, bs, (unsigned long long)fsize);
	if (ncpu > 65536)
		return vms_error_create(VMS_ERR_FORMAT, "kdump %s: %u CPUs?", path, ncpu);
	/* makedumpfile writes versions 1 to 6; libkdumpfile reads later
	 * fields (and sizes buffers from them) by the version alone. */
	if (version == 0 || version > 6)
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: header version %u at file offset 0x8 (known: 1 to 6)",
			path, version);
	if (!memcmp(h, "KDUMP   ", 8)) {
		if (pread(fd, sub, sizeof(sub), bs) != (ssize_t)sizeof(sub))
			return vms_error_create(VMS_ERR_FORMAT,
				"kdump %s: sub-header at file offset 0x%x cut short", path, bs);
		/* (offset, size) of VMCOREINFO, notes, erase info */
		static const unsigned sizes[] = { 40, 56, 72 };
		for (size_t i = 0; i < 3; i++)
			if (le64(sub + sizes[i]) > fsize ||
			    le64(sub + sizes[i] - 8) > fsize - le64(sub + sizes[i]))
				return vms_error_create(VMS_ERR_FORMAT,
					"kdump %s: sub-header field at 0x%x claims 0x%llx bytes, more than the file holds",
					path, bs + sizes[i],
					(unsigned long long)le64(sub + sizes[i]));
		if (version >= 6)
			max_mapnr = le64(sub + 96);
	}
	/* Each bitmap (valid, dumped) has a bit per page. */
	if (max_mapnr / 8 > (uint64_t)bmb * bs)
		return vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: %llu pages but bitmaps of %llu bytes",
			path, (unsigned long long)max_mapnr,
			(unsigned long long)bmb * bs);
	return NULL;
}

struct vms_error *vms_kdump_open(const char *path, struct vms_source **ret)
{
	struct kdump_source *k = calloc(1, sizeof(*k));
	char *p = strdup(path);
	if (!k || !p) {
		free(k);
		free(p);
		return &vms_error_nomem;
	}
	k->base.ops = &kdump_ops;
	k->base.kind = "kdump";
	k->base.path = p;
	k->fd = -1;
	struct vms_error *err = load_api(path, &k->api);
	if (err)
		goto fail;
	k->fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (k->fd < 0 || fstat(k->fd, &st) < 0) {
		err = vms_error_create(VMS_ERR_IO, "cannot open %s: %s", path,
				       strerror(errno));
		goto fail;
	}
	k->ctx = k->api.new_ctx();
	if (!k->ctx) {
		err = &vms_error_nomem;
		goto fail;
	}
	uint8_t head[16] = { 0 };
	if (pread(k->fd, head, sizeof(head), 0) == (ssize_t)sizeof(head) &&
	    !memcmp(head, "makedumpfile\0", 13)) {
		/* libkdumpfile (up to 0.5.2) reads only the regular format. */
		err = vms_error_create(VMS_ERR_UNSUPPORTED,
			"kdump %s: flattened makedumpfile format (QEMU before 8.2 writes it for kdump-*; makedumpfile -F), which libkdumpfile cannot read: convert it with `makedumpfile -R OUT < %s`, or dump with format kdump-raw-* (QEMU 8.2+)",
			path, path);
		goto fail;
	}
	if ((err = check_header(path, k->fd, (uint64_t)st.st_size)))
		goto fail;
	/* libkdumpfile trusts the header's offsets inside its mmap of the
	 * file: a truncated dump would fault (SIGBUS).  read(2) reports EOF. */
	kdump_attr_t never = { .type = KDUMP_NUMBER, .val.number = KDUMP_MMAP_NEVER };
	if (k->api.set_attr(k->ctx, "file.mmap_policy", &never) != KDUMP_OK) {
		err = vms_error_create(VMS_ERR_UNSUPPORTED,
			"kdump %s: libkdumpfile refuses file.mmap_policy: %s",
			path, k->api.get_err(k->ctx));
		goto fail;
	}
	if (k->api.open_fdset(k->ctx, 1, &k->fd) != KDUMP_OK) {
		err = vms_error_create(VMS_ERR_FORMAT,
			"kdump %s: libkdumpfile cannot open it (%llu bytes): %s",
			path, (unsigned long long)st.st_size, k->api.get_err(k->ctx));
		goto fail;
	}
	/* Pages makedumpfile left out as zero-filled read as zeros. */
	kdump_attr_t one = { .type = KDUMP_NUMBER, .val.number = 1 };
	k->api.set_attr(k->ctx, "file.zero_excluded", &one);
	kdump_attr_t a;
	if (k->api.get_attr(k->ctx, "arch.name", &a) == KDUMP_OK &&
	    a.type == KDUMP_STRING && a.val.string &&
	    strcmp(a.val.string, "x86_64")) {
		err = vms_error_create(VMS_ERR_UNSUPPORTED,
			"kdump %s: dump is for %s, only x86_64 is supported",
			path, a.val.string);
		goto fail;
	}
	if (k->api.get_attr(k->ctx, "xen.type", &a) == KDUMP_OK &&
	    a.type == KDUMP_NUMBER && a.val.number != 0) {
		err = vms_error_create(VMS_ERR_UNSUPPORTED,
			"kdump %s: a Xen dump; only plain Linux guests are supported",
			path);
		goto fail;
	}
	uint64_t page_size = 4096;
	if (k->api.get_attr(k->ctx, "arch.page_size", &a) == KDUMP_OK &&
	    a.type == KDUMP_NUMBER) {
		if (a.val.number != 4096) {
			err = vms_error_create(VMS_ERR_UNSUPPORTED,
				"kdump %s: page size %llu, expected 4096",
				path, (unsigned long long)a.val.number);
			goto fail;
		}
	}
	if ((err = build_ranges(k, page_size)))
		goto fail;
	read_cpu_notes(k);
	char *vmci = NULL;
	if (k->api.vmcoreinfo_raw(k->ctx, &vmci) == KDUMP_OK && vmci) {
		k->base.vmcoreinfo = strdup(vmci);
		free(vmci);
	}
	*ret = &k->base;
	return NULL;
fail:
	vms_source_close(&k->base);
	return err;
}
