// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The domains of a Xen host from dom0, as xentop shows them: one
 * XEN_DOMCTL_getdomaininfo per domain (xc_domain_getinfolist, in batches)
 * gives the CPU time, tot_pages / max_pages, the vCPU count and the state
 * flags; xc_vcpu_getinfo each vCPU's time and physical CPU; xenstore the
 * name.  The numbers come from Xen, not from the guest, but are still
 * bounded (domain and vCPU counts capped, strings cut to fit).
 *
 * xentop conventions kept here: MEM(k) is tot_pages * 4, MAXMEM(k) is
 * max_pages * 4 ("no limit" when max_pages is all ones), VCPUS is
 * max_vcpu_id + 1, STATE is six letters d s b c p r ('-' when not set; s
 * is a shutdown other than a crash, c a crash, as libxenstat has them),
 * CPU(%) is the CPU time's growth over the wall clock's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/xenhost.h>

#define XEN_MAX_DOMID 0x7fefu        /* DOMID_FIRST_RESERVED - 1 */
#define PRIVCMD "/dev/xen/privcmd"

bool vms_xen_spec_domid(const char *spec, uint32_t *domid)
{
	if (!spec || strncmp(spec, "xen:", 4))
		return false;
	const char *p = spec + 4;
	uint32_t v = 0;
	if (!*p)
		return false;
	for (; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (uint32_t)(*p - '0');
		if (v > XEN_MAX_DOMID)
			return false;
	}
	*domid = v;
	return true;
}

double vms_xen_cpu_percent(uint64_t prev_ns, uint64_t now_ns, double wall_s)
{
	if (!(wall_s > 0) || now_ns < prev_ns)
		return 0;
	return (double)(now_ns - prev_ns) / 1e9 / wall_s * 100;
}

#ifndef VMS_HAVE_XEN

static struct vms_error *no_xen(void)
{
	return vms_error_create(VMS_ERR_UNSUPPORTED,
		"this vmsight was built without Xen support (libxen-dev was not found at build time)");
}

bool vms_xen_host_usable(void)
{
	return false;
}

struct vms_error *vms_xen_host_open(struct vms_xen_host **ret)
{
	*ret = NULL;
	return no_xen();
}

void vms_xen_host_close(struct vms_xen_host *h)
{
	(void)h;
}

struct vms_error *vms_xen_host_list(struct vms_xen_host *h, struct vms_xen_domain **out,
				    size_t *n)
{
	(void)h;
	*out = NULL;
	*n = 0;
	return no_xen();
}

struct vms_error *vms_xen_host_domain(struct vms_xen_host *h, uint32_t domid,
				      struct vms_xen_domain *out, struct vms_xen_vcpu *vcpus,
				      unsigned max, unsigned *nr_vcpus)
{
	(void)h, (void)domid, (void)out, (void)vcpus, (void)max;
	if (nr_vcpus)
		*nr_vcpus = 0;
	return no_xen();
}

#else

#include <stdarg.h>

#include <xenctrl.h>
#include <xenstore.h>
#include <xentoollog.h>

#include "xen_priv.h"

#define BATCH 64u
#define MAX_NAME 256u               /* bytes of a xenstore name read */

struct vms_xen_host {
	xentoollog_logger quiet;    /* libxenctrl logs through this: silently */
	xc_interface *xch;
	struct xs_handle *xs;       /* NULL: no names */
	/* The last name read, by domid and uuid: a loop that asks about one
	 * domain often (sched, top) asks xenstore once. */
	uint32_t name_domid;
	char name_uuid[37], name[128];
};

static void quiet_vmessage(xentoollog_logger *l, xentoollog_level level, int errnoval,
			   const char *context, const char *format, va_list al)
{
	(void)l, (void)level, (void)errnoval, (void)context, (void)format, (void)al;
}

static void quiet_progress(xentoollog_logger *l, const char *context, const char *doing_what,
			   int percent, unsigned long done, unsigned long total)
{
	(void)l, (void)context, (void)doing_what, (void)percent, (void)done, (void)total;
}

static void quiet_destroy(xentoollog_logger *l)
{
	(void)l;
}

bool vms_xen_host_usable(void)
{
	return access(PRIVCMD, R_OK | W_OK) == 0;
}

struct vms_error *vms_xen_host_open(struct vms_xen_host **ret)
{
	*ret = NULL;
	if (access(PRIVCMD, F_OK) != 0)
		return vms_error_create(VMS_ERR_IO,
			"cannot open Xen's control interface: %s is missing (not dom0 of a Xen host, "
			"or the xen_privcmd module is not loaded)", PRIVCMD);
	struct vms_xen_host *h = calloc(1, sizeof(*h));
	if (!h)
		return &vms_error_nomem;
	h->quiet = (xentoollog_logger){ quiet_vmessage, quiet_progress, quiet_destroy };
	h->xch = xc_interface_open(&h->quiet, &h->quiet, 0);
	if (!h->xch) {
		int e = errno;
		free(h);
		return vms_error_create(VMS_ERR_IO, "cannot open Xen's control interface (%s): %s%s",
					PRIVCMD, strerror(e),
					e == EACCES || e == EPERM ? " (needs root in dom0)" : "");
	}
	/* The socket only: falling back to /dev/xen/xenbus blocks for good
	 * when no xenstored answers.  Without xenstore there are no names. */
	h->xs = xs_open(XS_OPEN_SOCKETONLY | XS_OPEN_READONLY);
	*ret = h;
	return NULL;
}

xc_interface *xen_host_xch(struct vms_xen_host *h)
{
	return h->xch;
}

void vms_xen_host_close(struct vms_xen_host *h)
{
	if (!h)
		return;
	if (h->xs)
		xs_close(h->xs);
	xc_interface_close(h->xch);
	free(h);
}

static void read_name(struct vms_xen_host *h, uint32_t domid, const char *uuid, char *out,
		      size_t n)
{
	out[0] = '\0';
	if (!h->xs)
		return;
	if (h->name_uuid[0] && h->name_domid == domid && !strcmp(h->name_uuid, uuid)) {
		snprintf(out, n, "%s", h->name);
		return;
	}
	char path[64];
	unsigned len = 0;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	char *v = xs_read(h->xs, XBT_NULL, path, &len);
	if (!v)
		return;
	size_t l = len < MAX_NAME ? len : MAX_NAME;
	l = strnlen(v, l);
	if (l >= n)
		l = n - 1;
	memcpy(out, v, l);
	out[l] = '\0';
	free(v);
	h->name_domid = domid;
	snprintf(h->name_uuid, sizeof(h->name_uuid), "%s", uuid);
	snprintf(h->name, sizeof(h->name), "%s", out);
}

static void fill(struct vms_xen_host *h, const xc_domaininfo_t *i, struct vms_xen_domain *d)
{
	memset(d, 0, sizeof(*d));
	d->domid = i->domain;
	uint32_t f = i->flags;
	d->dying = f & XEN_DOMINF_dying;
	d->shutdown = f & XEN_DOMINF_shutdown;
	d->crashed = d->shutdown &&
		((f >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask) == SHUTDOWN_crash;
	d->paused = f & XEN_DOMINF_paused;
	d->blocked = f & XEN_DOMINF_blocked;
	d->running = f & XEN_DOMINF_running;
	d->hvm = f & XEN_DOMINF_hvm_guest;
	snprintf(d->state, sizeof(d->state), "%c%c%c%c%c%c", d->dying ? 'd' : '-',
		 d->shutdown && !d->crashed ? 's' : '-', d->blocked ? 'b' : '-', d->crashed ? 'c' : '-',
		 d->paused ? 'p' : '-', d->running ? 'r' : '-');
	d->cpu_ns = i->cpu_time;
	d->mem_kb = i->tot_pages > UINT64_MAX / 4 ? UINT64_MAX : i->tot_pages * 4;
	/* max_pages is all ones (of its width in Xen) for "no limit". */
	d->max_mem_kb = i->max_pages == UINT32_MAX || i->max_pages == UINT64_MAX ||
			i->max_pages > UINT64_MAX / 4 ? UINT64_MAX : i->max_pages * 4;
	d->vcpus = i->max_vcpu_id == XEN_INVALID_MAX_VCPU_ID ? 0 : i->max_vcpu_id + 1;
	d->vcpus_online = i->nr_online_vcpus;
	d->cpupool = i->cpupool;
	d->ssidref = i->ssidref;
	const uint8_t *u = i->handle;
	snprintf(d->uuid, sizeof(d->uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
	read_name(h, d->domid, d->uuid, d->name, sizeof(d->name));
}

static struct vms_error *getinfo_error(uint32_t first)
{
	int e = errno;
	return vms_error_create(VMS_ERR_IO,
				"asking Xen about domains from %u (XEN_DOMCTL_getdomaininfo): %s%s",
				first, strerror(e),
				e == EPERM || e == EACCES ? " (needs root in dom0)" : "");
}

struct vms_error *vms_xen_host_list(struct vms_xen_host *h, struct vms_xen_domain **out,
				    size_t *n)
{
	*out = NULL;
	*n = 0;
	xc_domaininfo_t *info = calloc(BATCH, sizeof(*info));
	struct vms_xen_domain *doms = NULL;
	size_t nr = 0, cap = 0;
	if (!info)
		return &vms_error_nomem;
	uint32_t first = 0;
	struct vms_error *err = NULL;
	while (first <= XEN_MAX_DOMID && nr < VMS_XEN_MAX_DOMAINS) {
		int got = xc_domain_getinfolist(h->xch, first, BATCH, info);
		if (got < 0 && errno == ESRCH)
			got = 0;   /* no domain at or above @first */
		if (got < 0) {
			err = getinfo_error(first);
			break;
		}
		if (got == 0)
			break;
		uint32_t last = first;
		for (int i = 0; i < got && i < (int)BATCH && nr < VMS_XEN_MAX_DOMAINS; i++) {
			/* Xen answers in increasing domid order; anything else
			 * would make this loop go round: stop there. */
			if (info[i].domain < first || info[i].domain > XEN_MAX_DOMID)
				break;
			if (nr == cap) {
				size_t c = cap ? cap * 2 : 16;
				struct vms_xen_domain *d = realloc(doms, c * sizeof(*d));
				if (!d) {
					err = &vms_error_nomem;
					break;
				}
				doms = d;
				cap = c;
			}
			fill(h, &info[i], &doms[nr++]);
			last = info[i].domain;
		}
		if (err || got < (int)BATCH || last < first)
			break;
		first = last + 1;
	}
	free(info);
	if (err) {
		free(doms);
		return err;
	}
	*out = doms;
	*n = nr;
	return NULL;
}

struct vms_error *vms_xen_host_domain(struct vms_xen_host *h, uint32_t domid,
				      struct vms_xen_domain *out, struct vms_xen_vcpu *vcpus,
				      unsigned max, unsigned *nr_vcpus)
{
	if (nr_vcpus)
		*nr_vcpus = 0;
	xc_domaininfo_t info;
	int got = xc_domain_getinfolist(h->xch, domid, 1, &info);
	if (got < 0 && errno == ESRCH)
		got = 0;
	if (got < 0)
		return getinfo_error(domid);
	if (got == 0 || info.domain != domid)
		return vms_error_create(VMS_ERR_NOT_FOUND, "Xen has no domain %u", domid);
	fill(h, &info, out);
	if (!vcpus || !max || !nr_vcpus)
		return NULL;
	unsigned n = out->vcpus < max ? out->vcpus : max;
	if (n > VMS_XEN_MAX_VCPUS)
		n = VMS_XEN_MAX_VCPUS;
	for (unsigned v = 0; v < n; v++) {
		xc_vcpuinfo_t vi;
		if (xc_vcpu_getinfo(h->xch, domid, v, &vi) < 0)
			continue;   /* a hole in the vCPU ids, or the domain went */
		struct vms_xen_vcpu *o = &vcpus[(*nr_vcpus)++];
		o->vcpu = v;
		o->online = vi.online;
		o->blocked = vi.blocked;
		o->running = vi.running;
		o->cpu_ns = vi.cpu_time;
		o->pcpu = vi.cpu <= INT32_MAX ? (int)vi.cpu : -1;
	}
	return NULL;
}

#endif /* VMS_HAVE_XEN */
