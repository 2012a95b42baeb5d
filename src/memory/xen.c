// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A Xen domain's memory, read from dom0: "xen:DOMID".
 *
 * Frames are mapped read-only with libxenforeignmemory, 512 at a time (one
 * privcmd call per 2 MiB of guest physical memory touched), and kept in a
 * small cache of such chunks, so a `ps` costs a few dozen calls whatever
 * the guest's size.  vCPU registers come from libxenctrl.
 *
 * HVM and PVH guests: guest physical = the guest frame numbers Xen maps.
 *
 * PV guests have no guest physical space of their own in Xen's eyes: Xen
 * maps machine frames (MFNs), and the guest's page tables hold MFNs.  The
 * rest of vmsight expects guest physical addresses (the kernel image is
 * contiguous in them, __pa() works on them), so this source presents the
 * guest's pseudo-physical space: a read of pfn P maps p2m[P], and the page
 * walker turns the MFNs in page-table entries back into pfns through Xen's
 * machine-to-phys table (machine_to_phys()).  The p2m is read where the
 * guest publishes it for the toolstack (shared_info.arch): the 3-level
 * frame list, or the virtually mapped list at p2m_vaddr in p2m_cr3.  All of
 * that is guest-written data: every frame number is checked against the
 * domain (Xen refuses to map frames the domain does not own) and every
 * m2p answer is checked against the p2m.
 *
 * Built only when libxen-dev is found (VMS_HAVE_XEN); otherwise
 * "xen:DOMID" says that this build has no Xen support.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memory/sources.h"

#ifndef VMS_HAVE_XEN

struct vms_error *vms_xen_open(const char *spec, uint32_t domid,
			       struct vms_source **ret)
{
	(void)domid;
	(void)ret;
	return vms_error_create(VMS_ERR_UNSUPPORTED,
		"%s: this vmsight was built without Xen support (libxen-dev was not found at build time)",
		spec);
}

#else

#include <stdarg.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>
#include <xenguest.h>
#include <xentoollog.h>
#include <xen/hvm/save.h>

#define PAGE 4096ULL
#define CHUNK_PAGES 512            /* frames mapped per call: 2 MiB */
#define NR_CHUNKS 64               /* 128 MiB of guest memory mapped at most */
#define NR_FRAMES 32               /* single machine frames (p2m tables) */
#define MAX_VCPUS 1024
#define MAX_PFN_CAP (1ULL << 28)   /* 1 TiB of guest memory */
#define P2M_PER_PAGE 512
/* Linux's p2m markers: identity (I/O) and foreign frames, and "missing". */
#define P2M_FLAG_BITS (3ULL << 62)
#define M2P_CHUNK (2ULL << 20)

struct xen_chunk {
	uint64_t tag;               /* chunk index + 1, 0 = empty */
	uint8_t *addr;
	size_t pages;
	int err[CHUNK_PAGES];
};

struct xen_frame {
	uint64_t mfn_plus1;         /* 0 = empty */
	const uint64_t *addr;
};

struct xen_source {
	struct vms_source base;
	xentoollog_logger quiet;    /* libxen* log through this: silently */
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	uint32_t domid;
	bool pv;
	uint64_t max_pfn;           /* frames in the guest physical space */
	/* PV p2m: the frame-list-list, or the virtual list. */
	uint64_t fll_mfn;           /* 0: not the tree form */
	uint64_t p2m_cr3_mfn, p2m_vaddr;
	/* PV m2p: Xen's machine-to-phys table, mapped read-only. */
	const xen_pfn_t *m2p;
	unsigned long max_mfn;
	size_t m2p_bytes;
	struct xen_chunk chunks[NR_CHUNKS];
	struct xen_frame frames[NR_FRAMES];
	/* Cost. */
	uint64_t map_calls, pages_mapped, ctl_calls;
};

static void quiet_vmessage(xentoollog_logger *logger, xentoollog_level level,
			   int errnoval, const char *context,
			   const char *format, va_list al)
{
	(void)logger, (void)level, (void)errnoval, (void)context;
	(void)format, (void)al;
}

static void quiet_progress(xentoollog_logger *logger, const char *context,
			   const char *doing_what, int percent,
			   unsigned long done, unsigned long total)
{
	(void)logger, (void)context, (void)doing_what, (void)percent;
	(void)done, (void)total;
}

static void quiet_destroy(xentoollog_logger *logger)
{
	(void)logger;
}

/* One machine frame, mapped alone and cached (PV p2m structures). */
static const uint64_t *map_frame(struct xen_source *x, uint64_t mfn)
{
	struct xen_frame *f = &x->frames[mfn % NR_FRAMES];
	if (f->mfn_plus1 == mfn + 1)
		return f->addr;
	if (f->addr) {
		xenforeignmemory_unmap(x->fmem, (void *)f->addr, 1);
		f->addr = NULL;
		f->mfn_plus1 = 0;
	}
	xen_pfn_t arr = mfn;
	int err = 0;
	x->map_calls++;
	void *p = xenforeignmemory_map(x->fmem, x->domid, PROT_READ, 1, &arr, &err);
	if (!p)
		return NULL;
	if (err) {
		xenforeignmemory_unmap(x->fmem, p, 1);
		return NULL;
	}
	x->pages_mapped++;
	f->addr = p;
	f->mfn_plus1 = mfn + 1;
	return f->addr;
}

/* Walk the guest's p2m_cr3 page table (entries hold MFNs) to @vaddr. */
static bool p2m_virt_lookup(struct xen_source *x, uint64_t vaddr, uint64_t *ret)
{
	uint64_t table = x->p2m_cr3_mfn;
	for (int level = 3; level >= 0; level--) {
		const uint64_t *t = map_frame(x, table);
		if (!t)
			return false;
		uint64_t e = t[(vaddr >> (12 + 9 * level)) & 511];
		if (!(e & 1))
			return false;
		uint64_t mfn = (e & 0x000ffffffffff000ULL) >> 12;
		if (level && level < 3 && (e & 0x80)) {
			/* A 2 MiB or 1 GiB leaf: machine contiguous. */
			mfn += (vaddr >> 12) & ((1ULL << (9 * level)) - 1);
			level = 0;
		}
		if (level == 0) {
			const uint64_t *p = map_frame(x, mfn);
			if (!p)
				return false;
			*ret = p[(vaddr & 0xfff) / 8];
			return true;
		}
		table = mfn;
	}
	return false;
}

/* The frame number to map for guest physical frame @pfn. */
static bool pfn_to_frame(struct xen_source *x, uint64_t pfn, uint64_t *frame)
{
	if (pfn >= x->max_pfn)
		return false;
	if (!x->pv) {
		*frame = pfn;
		return true;
	}
	uint64_t mfn;
	if (x->fll_mfn) {
		const uint64_t *fll = map_frame(x, x->fll_mfn);
		if (!fll)
			return false;
		uint64_t fl_mfn = fll[pfn / (P2M_PER_PAGE * P2M_PER_PAGE)];
		const uint64_t *fl = fl_mfn ? map_frame(x, fl_mfn) : NULL;
		if (!fl)
			return false;
		uint64_t p2m_mfn = fl[(pfn / P2M_PER_PAGE) % P2M_PER_PAGE];
		const uint64_t *p2m = p2m_mfn ? map_frame(x, p2m_mfn) : NULL;
		if (!p2m)
			return false;
		mfn = p2m[pfn % P2M_PER_PAGE];
	} else if (!p2m_virt_lookup(x, x->p2m_vaddr + pfn * 8, &mfn)) {
		return false;
	}
	if (mfn & P2M_FLAG_BITS)
		return false;   /* missing, identity (I/O) or foreign frame */
	*frame = mfn;
	return true;
}

static void chunk_drop(struct xen_source *x, struct xen_chunk *c)
{
	if (c->addr)
		xenforeignmemory_unmap(x->fmem, c->addr, c->pages);
	c->addr = NULL;
	c->tag = 0;
}

static struct vms_error *chunk_get(struct xen_source *x, uint64_t idx,
				   struct xen_chunk **ret)
{
	struct xen_chunk *c = &x->chunks[idx % NR_CHUNKS];
	if (c->tag == idx + 1) {
		*ret = c;
		return NULL;
	}
	chunk_drop(x, c);
	uint64_t first = idx * CHUNK_PAGES;
	size_t n = CHUNK_PAGES;
	if (first + n > x->max_pfn)
		n = (size_t)(x->max_pfn - first);
	xen_pfn_t arr[CHUNK_PAGES];
	bool absent[CHUNK_PAGES];
	for (size_t i = 0; i < n; i++) {
		uint64_t frame = 0;
		absent[i] = !pfn_to_frame(x, first + i, &frame);
		/* An absent pfn still needs a slot: ask for a frame Xen
		 * refuses (the domain cannot own MFN ~0), marked below. */
		arr[i] = absent[i] ? ~(xen_pfn_t)0 : frame;
	}
	x->map_calls++;
	void *p = xenforeignmemory_map(x->fmem, x->domid, PROT_READ, n, arr, c->err);
	if (!p)
		return vms_error_create(VMS_ERR_IO,
			"%s: mapping guest frames 0x%llx-0x%llx of domain %u failed: %s",
			x->base.path, (unsigned long long)first,
			(unsigned long long)(first + n - 1), x->domid, strerror(errno));
	for (size_t i = 0; i < n; i++) {
		if (absent[i] && !c->err[i])
			c->err[i] = -ENOENT;
		if (!c->err[i])
			x->pages_mapped++;
	}
	c->addr = p;
	c->pages = n;
	c->tag = idx + 1;
	*ret = c;
	return NULL;
}

static struct vms_error *xen_read(struct vms_source *src, uint64_t paddr,
				  void *buf, size_t len)
{
	struct xen_source *x = (struct xen_source *)src;
	uint8_t *out = buf;
	while (len) {
		uint64_t pfn = paddr / PAGE;
		size_t off = (size_t)(paddr % PAGE);
		size_t n = PAGE - off < len ? PAGE - off : len;
		if (pfn >= x->max_pfn)
			return vms_error_create(VMS_ERR_FAULT,
				"physical address 0x%llx is beyond %s's memory (0x%llx frames)",
				(unsigned long long)paddr, src->path,
				(unsigned long long)x->max_pfn);
		struct xen_chunk *c;
		struct vms_error *err = chunk_get(x, pfn / CHUNK_PAGES, &c);
		if (err)
			return err;
		size_t i = (size_t)(pfn % CHUNK_PAGES);
		if (c->err[i])
			return vms_error_create(VMS_ERR_FAULT,
				"physical address 0x%llx of %s cannot be mapped (%s)",
				(unsigned long long)paddr, src->path,
				strerror(-c->err[i]));
		memcpy(out, c->addr + i * PAGE + off, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static bool xen_machine_to_phys(struct vms_source *src, uint64_t maddr,
				uint64_t *paddr)
{
	struct xen_source *x = (struct xen_source *)src;
	uint64_t mfn = (maddr & 0x000ffffffffff000ULL) >> 12, frame;
	if (!x->m2p || mfn >= x->max_mfn)
		return false;
	uint64_t pfn = x->m2p[mfn];
	/* The guest writes its own m2p entries: believe one only when the
	 * guest's p2m agrees. */
	if (!pfn_to_frame(x, pfn, &frame) || frame != mfn)
		return false;
	*paddr = pfn * PAGE | (maddr & 0xfff);
	return true;
}

static void xen_describe_cost(struct vms_source *src, char *buf, size_t len)
{
	struct xen_source *x = (struct xen_source *)src;
	snprintf(buf, len,
		 "%s: %llu foreign-map calls (%llu pages mapped), %llu other control calls; %s guest, 0x%llx frames%s",
		 src->path, (unsigned long long)x->map_calls,
		 (unsigned long long)x->pages_mapped,
		 (unsigned long long)x->ctl_calls, x->pv ? "PV" : "HVM/PVH",
		 (unsigned long long)x->max_pfn,
		 !x->pv ? "" : x->fll_mfn ? ", p2m from the frame list" :
		 ", p2m from the virtual list");
}

static void xen_destroy(struct vms_source *src)
{
	struct xen_source *x = (struct xen_source *)src;
	for (size_t i = 0; i < NR_CHUNKS; i++)
		chunk_drop(x, &x->chunks[i]);
	for (size_t i = 0; i < NR_FRAMES; i++)
		if (x->frames[i].addr)
			xenforeignmemory_unmap(x->fmem, (void *)x->frames[i].addr, 1);
	if (x->m2p)
		munmap((void *)x->m2p, x->m2p_bytes);
	if (x->fmem)
		xenforeignmemory_close(x->fmem);
	if (x->xch)
		xc_interface_close(x->xch);
}

/* HVM and PVH guests' page tables hold guest frames: no translation. */
static const struct vms_source_ops xen_hvm_ops = {
	.read = xen_read,
	.destroy = xen_destroy,
	.describe_cost = xen_describe_cost,
};

static const struct vms_source_ops xen_pv_ops = {
	.read = xen_read,
	.destroy = xen_destroy,
	.machine_to_phys = xen_machine_to_phys,
	.describe_cost = xen_describe_cost,
};

/* PV: where the guest publishes its p2m, from its shared_info page. */
static struct vms_error *pv_setup(struct xen_source *x, const xc_dominfo_t *info)
{
	const struct vms_source *s = &x->base;
	const shared_info_t *si = (const shared_info_t *)map_frame(x, info->shared_info_frame);
	if (!si)
		return vms_error_create(VMS_ERR_IO,
			"%s: cannot map the domain's shared_info frame 0x%lx: %s",
			s->path, info->shared_info_frame, strerror(errno));
	/* Copy before the frame can be evicted from the cache. */
	uint64_t max_pfn = si->arch.max_pfn;
	uint64_t fll = si->arch.pfn_to_mfn_frame_list_list;
	uint64_t p2m_cr3 = si->arch.p2m_cr3, p2m_vaddr = si->arch.p2m_vaddr;
	if (!max_pfn)
		max_pfn = info->nr_pages;
	if (max_pfn > MAX_PFN_CAP)
		return vms_error_create(VMS_ERR_CORRUPT,
			"%s: shared_info says the guest has 0x%llx frames, more than vmsight accepts",
			s->path, (unsigned long long)max_pfn);
	x->max_pfn = max_pfn;
	if (fll && fll != ~0ULL && fll != (uint64_t)~0U) {
		x->fll_mfn = fll;
	} else if (p2m_cr3) {
		x->p2m_cr3_mfn = p2m_cr3 >> 12;
		x->p2m_vaddr = p2m_vaddr;
	} else {
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"%s: the PV guest publishes no p2m in shared_info (not booted far enough?)",
			s->path);
	}
	x->ctl_calls++;
	if (xc_maximum_ram_page(x->xch, &x->max_mfn) < 0)
		return vms_error_create(VMS_ERR_IO,
			"%s: asking Xen for the highest machine frame: %s",
			s->path, strerror(errno));
	x->m2p = xc_map_m2p(x->xch, x->max_mfn, PROT_READ, NULL);
	if (!x->m2p)
		return vms_error_create(VMS_ERR_IO,
			"%s: mapping Xen's machine-to-phys table: %s",
			s->path, strerror(errno));
	x->m2p_bytes = (size_t)((x->max_mfn * sizeof(xen_pfn_t) + M2P_CHUNK - 1) &
				~(M2P_CHUNK - 1));
	return NULL;
}

static void pv_cpu(struct xen_source *x, const vcpu_guest_context_any_t *ctx,
		   struct vms_cpu_state *cpu)
{
	const struct vcpu_guest_context_x86_64 *c = &ctx->x64;
	uint64_t cr3_maddr = (uint64_t)(c->ctrlreg[3] >> 12) << 12, cr3 = 0;
	/* The walker works in pseudo-physical addresses. */
	if (!xen_machine_to_phys(&x->base, cr3_maddr, &cr3))
		cr3 = 0;
	*cpu = (struct vms_cpu_state){
		.rip = c->user_regs.rip,
		.rsp = c->user_regs.rsp,
		.cr0 = c->ctrlreg[0],
		.cr2 = c->ctrlreg[2],
		.cr3 = cr3,
		.cr4 = c->ctrlreg[4],
		.gs_base = c->gs_base_kernel,
		.kernel_gs_base = c->gs_base_user,
		.has_kernel_gs_base = true,
	};
}

static bool hvm_cpu(struct xen_source *x, unsigned vcpu, struct vms_cpu_state *cpu)
{
	struct hvm_hw_cpu c;
	x->ctl_calls++;
	if (xc_domain_hvm_getcontext_partial(x->xch, x->domid, HVM_SAVE_CODE(CPU),
					     (uint16_t)vcpu, &c, sizeof(c)) < 0)
		return false;
	*cpu = (struct vms_cpu_state){
		.rip = c.rip, .rsp = c.rsp,
		.cr0 = c.cr0, .cr2 = c.cr2, .cr3 = c.cr3, .cr4 = c.cr4,
		.gs_base = c.gs_base,
		.kernel_gs_base = c.shadow_gs,
		.has_kernel_gs_base = true,
		.idt_base = c.idtr_base, .idt_limit = c.idtr_limit,
		.gdt_base = c.gdtr_base, .gdt_limit = c.gdtr_limit,
	};
	return true;
}

static struct vms_error *read_cpus(struct xen_source *x, const xc_dominfo_t *info)
{
	size_t n = (size_t)info->max_vcpu_id + 1;
	if (n > MAX_VCPUS)
		n = MAX_VCPUS;
	x->base.cpus = calloc(n, sizeof(*x->base.cpus));
	if (!x->base.cpus)
		return vms_error_create(VMS_ERR_NOMEM, "%s: vCPU table", x->base.path);
	size_t got = 0;
	for (size_t v = 0; v < n; v++) {
		xc_vcpuinfo_t vi;
		x->ctl_calls++;
		if (xc_vcpu_getinfo(x->xch, x->domid, (uint32_t)v, &vi) < 0 || !vi.online)
			continue;
		if (x->pv) {
			vcpu_guest_context_any_t ctx;
			x->ctl_calls++;
			if (xc_vcpu_getcontext(x->xch, x->domid, (uint32_t)v, &ctx) < 0)
				continue;
			pv_cpu(x, &ctx, &x->base.cpus[got++]);
		} else if (hvm_cpu(x, (unsigned)v, &x->base.cpus[got])) {
			got++;
		}
	}
	x->base.nr_cpus = got;
	return NULL;
}

struct vms_error *vms_xen_open(const char *spec, uint32_t domid,
			       struct vms_source **ret)
{
	struct xen_source *x = calloc(1, sizeof(*x));
	if (!x)
		return vms_error_create(VMS_ERR_NOMEM, "%s", spec);
	x->base.ops = &xen_hvm_ops;  /* until the domain turns out to be PV */
	x->base.kind = "xen";
	x->base.live = true;
	x->domid = domid;
	x->quiet = (xentoollog_logger){ quiet_vmessage, quiet_progress, quiet_destroy };
	struct vms_error *err = NULL;
	if (!(x->base.path = strdup(spec))) {
		free(x);
		return vms_error_create(VMS_ERR_NOMEM, "%s", spec);
	}
	x->xch = xc_interface_open(&x->quiet, &x->quiet, 0);
	if (!x->xch) {
		err = vms_error_create(VMS_ERR_IO,
			"%s: cannot open Xen's control interface (/dev/xen/privcmd): %s; run in dom0, as root",
			spec, strerror(errno));
		goto fail;
	}
	x->fmem = xenforeignmemory_open(&x->quiet, 0);
	if (!x->fmem) {
		err = vms_error_create(VMS_ERR_IO,
			"%s: cannot open Xen's foreign-memory interface (/dev/xen/privcmd): %s",
			spec, strerror(errno));
		goto fail;
	}
	xc_dominfo_t info;
	x->ctl_calls++;
	int n = xc_domain_getinfo(x->xch, domid, 1, &info);
	if (n < 0 && errno == ESRCH)
		n = 0;  /* Xen's answer when no domain is at or above @domid */
	if (n < 0) {
		err = vms_error_create(VMS_ERR_IO, "%s: asking Xen about domain %u: %s",
				       spec, domid, strerror(errno));
		goto fail;
	}
	if (n == 0 || info.domid != domid) {
		err = vms_error_create(VMS_ERR_NOT_FOUND,
				       "%s: Xen has no domain %u", spec, domid);
		goto fail;
	}
	if (info.dying || info.shutdown) {
		err = vms_error_create(VMS_ERR_NOT_FOUND,
				       "%s: domain %u is %s", spec, domid,
				       info.dying ? "dying" : "shut down");
		goto fail;
	}
	x->pv = !info.hvm;
	if (x->pv) {
		x->base.ops = &xen_pv_ops;
		if ((err = pv_setup(x, &info)))
			goto fail;
	} else {
		xen_pfn_t max_gpfn = 0;
		x->ctl_calls++;
		if (xc_domain_maximum_gpfn(x->xch, domid, &max_gpfn) < 0) {
			err = vms_error_create(VMS_ERR_IO,
				"%s: asking Xen for domain %u's highest frame: %s",
				spec, domid, strerror(errno));
			goto fail;
		}
		x->max_pfn = (uint64_t)max_gpfn + 1 < MAX_PFN_CAP ? (uint64_t)max_gpfn + 1 : MAX_PFN_CAP;
	}
	x->base.ranges = malloc(sizeof(*x->base.ranges));
	if (!x->base.ranges) {
		err = vms_error_create(VMS_ERR_NOMEM, "%s", spec);
		goto fail;
	}
	x->base.ranges[0] = (struct vms_phys_range){ 0, x->max_pfn * PAGE };
	x->base.nr_ranges = 1;
	if ((err = read_cpus(x, &info)))
		goto fail;
	*ret = &x->base;
	return NULL;
fail:
	vms_source_close(&x->base);
	return err;
}

#endif /* VMS_HAVE_XEN */
