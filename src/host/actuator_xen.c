// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The xen-credit2 actuator: a Xen domain's credit2 weight, set from dom0
 * with libxenctrl (XEN_DOMCTL_scheduler_op, what `xl sched-credit2 -d N -w W`
 * does).  The weight is per domain, so the unit steered is the domain: the
 * "tid" of the actuator API is the domain id.  Levels: boost 1024 (4x
 * credit2's default 256), demote 64 (a floor: the domain still gets 1/4 of
 * a default one's share when both want the CPU), normal = the weight found.
 * The cap is left as it was (a put with cap 0 would remove it).
 *
 * Before a domain is first changed, its domid, uuid and weight go to the
 * state file (same file and shape as the thread actuators', entries with
 * "actuator": "xen-credit2"), so --restore after kill -9 puts the weight
 * back; the uuid keeps a domid reused by another domain from being touched.
 * A domain that is gone is forgotten, never an error.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/xenhost.h>

#include "actuator_priv.h"

#define XEN_DEFAULT_BOOST 1024u
#define XEN_DEFAULT_DEMOTE 64u
#define XEN_MAX_WEIGHT 65535u        /* credit2 weights are 1 .. 65535 */
#define XEN_MAX_STEERED 4096u

#ifndef VMS_HAVE_XEN

struct vms_error *act_xen_open(const struct vms_actuator_options *o, struct act_xen **ret)
{
	(void)o;
	*ret = NULL;
	return vms_error_create(VMS_ERR_UNSUPPORTED,
		"xen-credit2 actuator: this vmsight was built without Xen support "
		"(libxen-dev was not found at build time)");
}

struct vms_error *act_xen_set(struct act_xen *x, int domid, enum vms_level l,
			      struct vms_change *chg)
{
	(void)x, (void)domid, (void)l;
	memset(chg, 0, sizeof(*chg));
	return vms_error_create(VMS_ERR_UNSUPPORTED, "xen-credit2 actuator: built without Xen");
}

struct vms_error *act_xen_restore(struct act_xen *x, int domid)
{
	(void)x, (void)domid;
	return NULL;
}

struct vms_error *act_xen_restore_all(struct act_xen *x)
{
	(void)x;
	return NULL;
}

void act_xen_close(struct act_xen *x)
{
	(void)x;
}

struct vms_error *act_xen_restore_entry(struct json_object *o, bool *undone)
{
	(void)o;
	*undone = false;
	return vms_error_create(VMS_ERR_UNSUPPORTED,
		"state file has a xen-credit2 entry, but this vmsight was built without Xen support");
}

#else

#include "util/vec.h"
#include "xen_priv.h"

struct xen_entry {
	uint32_t domid;
	char uuid[37];
	unsigned weight;                /* what it had */
	bool live;
};

struct act_xen {
	xc_interface *xch;              /* host's */
	struct vms_xen_host *host;      /* domain info (uuid, state) */
	const char *state_file;
	bool dry_run;
	unsigned boost, demote;
	struct xen_entry *e;
	size_t n, cap;
};

/* An error naming the call, the domain, and the permission it needs. */
static struct vms_error *xen_error(const char *what, uint32_t domid)
{
	int e = errno;
	const char *hint = e == EPERM || e == EACCES ?
		" (permission denied: needs root in dom0, /dev/xen/privcmd read-write)" :
		e == EINVAL ? " (is the domain in a credit2 cpupool? `xl sched-credit2` lists them)" : "";
	return vms_error_create(e == ESRCH ? VMS_ERR_NOT_FOUND : VMS_ERR_IO,
				"xen-credit2 actuator: %s of domain %u: %s%s", what, domid,
				strerror(e), hint);
}

struct vms_error *act_xen_open(const struct vms_actuator_options *o, struct act_xen **ret)
{
	*ret = NULL;
	struct act_xen *x = calloc(1, sizeof(*x));
	if (!x)
		return &vms_error_nomem;
	x->state_file = o->state_file;
	x->dry_run = o->dry_run;
	x->boost = o->xen_boost_weight ? o->xen_boost_weight : XEN_DEFAULT_BOOST;
	x->demote = o->xen_demote_weight ? o->xen_demote_weight : XEN_DEFAULT_DEMOTE;
	if (x->boost > XEN_MAX_WEIGHT || x->demote > XEN_MAX_WEIGHT) {
		free(x);
		return vms_error_create(VMS_ERR_INVALID,
			"xen-credit2 actuator: weights are 1 to %u", XEN_MAX_WEIGHT);
	}
	struct vms_error *err = vms_xen_host_open(&x->host);
	if (err) {
		free(x);
		return vms_error_wrap(err, "xen-credit2 actuator");
	}
	x->xch = xen_host_xch(x->host);
	*ret = x;
	return NULL;
}

void act_xen_close(struct act_xen *x)
{
	if (!x)
		return;
	vms_xen_host_close(x->host);
	free(x->e);
	free(x);
}

/* ---- the state file (the same shape actuator.c writes) ---- */

static struct vms_error *save_state(struct act_xen *x)
{
	if (!x->state_file || x->dry_run)
		return NULL;
	struct json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object_object_add(root, "vmsight_sched_state", json_object_new_int(1));
	for (size_t i = 0; i < x->n; i++) {
		const struct xen_entry *e = &x->e[i];
		if (!e->live)
			continue;
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "actuator", json_object_new_string("xen-credit2"));
		json_object_object_add(o, "tid", json_object_new_int((int)e->domid));
		json_object_object_add(o, "domid", json_object_new_int((int)e->domid));
		json_object_object_add(o, "uuid", json_object_new_string(e->uuid));
		json_object_object_add(o, "weight", json_object_new_int((int)e->weight));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "threads", arr);
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", x->state_file);
	struct vms_error *err = NULL;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = act_errno_error("create state file", tmp);
	} else {
		const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY);
		if (write(fd, s, strlen(s)) < 0 || write(fd, "\n", 1) < 0)
			err = act_errno_error("write state file", tmp);
		close(fd);
		if (!err && rename(tmp, x->state_file) < 0)
			err = act_errno_error("rename state file to", x->state_file);
	}
	json_object_put(root);
	return err;
}

/* ---- one domain ---- */

static struct xen_entry *find(struct act_xen *x, uint32_t domid)
{
	for (size_t i = 0; i < x->n; i++)
		if (x->e[i].live && x->e[i].domid == domid)
			return &x->e[i];
	return NULL;
}

/* The domain's uuid; VMS_ERR_NOT_FOUND when it is gone or dying. */
static struct vms_error *domain_uuid(struct vms_xen_host *h, uint32_t domid, char *uuid,
				     size_t n)
{
	struct vms_xen_domain d;
	struct vms_error *err = vms_xen_host_domain(h, domid, &d, NULL, 0, NULL);
	if (err)
		return err;
	if (d.dying)
		return vms_error_create(VMS_ERR_NOT_FOUND, "domain %u is dying", domid);
	snprintf(uuid, n, "%s", d.uuid);
	return NULL;
}

static struct vms_error *remember(struct act_xen *x, uint32_t domid, struct xen_entry **ret)
{
	struct vms_error *err;
	if (x->n >= XEN_MAX_STEERED)
		return vms_error_create(VMS_ERR_INVALID, "more than %u domains steered",
					XEN_MAX_STEERED);
	struct xen_entry e = { .domid = domid };
	if ((err = domain_uuid(x->host, domid, e.uuid, sizeof(e.uuid))))
		return vms_error_wrap(err, "xen-credit2 actuator");
	struct xen_domctl_sched_credit2 s = { 0 };
	if (xc_sched_credit2_domain_get(x->xch, domid, &s) < 0)
		return xen_error("reading the credit2 weight (XEN_DOMCTL_SCHEDOP_getinfo)", domid);
	e.weight = s.weight;
	e.live = true;
	if (!vms_vec_append((void **)&x->e, &x->n, &x->cap, sizeof(e), &e))
		return &vms_error_nomem;
	if ((err = save_state(x))) {
		x->n--;
		return err;
	}
	*ret = &x->e[x->n - 1];
	return NULL;
}

/* Give @domid weight @want, keeping its cap; *@old gets what it had. */
static struct vms_error *put_weight(xc_interface *xch, uint32_t domid, unsigned want,
				    bool dry_run, unsigned *old)
{
	struct xen_domctl_sched_credit2 s = { 0 };
	if (xc_sched_credit2_domain_get(xch, domid, &s) < 0)
		return xen_error("reading the credit2 weight (XEN_DOMCTL_SCHEDOP_getinfo)", domid);
	*old = s.weight;
	if (s.weight == want || dry_run)
		return NULL;
	s.weight = (uint16_t)want;
	if (xc_sched_credit2_domain_set(xch, domid, &s) < 0)
		return xen_error("setting the credit2 weight (XEN_DOMCTL_SCHEDOP_putinfo)", domid);
	return NULL;
}

struct vms_error *act_xen_set(struct act_xen *x, int tid, enum vms_level l,
			      struct vms_change *chg)
{
	memset(chg, 0, sizeof(*chg));
	if (tid <= 0)
		return vms_error_create(VMS_ERR_INVALID,
			"xen-credit2 actuator: domain %d: dom0 and invalid ids are not steered", tid);
	uint32_t domid = (uint32_t)tid;
	struct xen_entry *e = find(x, domid);
	struct vms_error *err;
	if (!e) {
		if (l == VMS_LEVEL_NORMAL)
			return NULL;
		if ((err = remember(x, domid, &e)))
			return err;
	}
	unsigned want = l == VMS_LEVEL_BOOST ? x->boost : l == VMS_LEVEL_DEMOTE ? x->demote :
			e->weight;
	unsigned old = 0;
	if ((err = put_weight(x->xch, domid, want, x->dry_run, &old)))
		return err;
	if (old == want)
		return NULL;
	chg->tid = tid;
	snprintf(chg->what, sizeof(chg->what), "credit2 weight");
	snprintf(chg->old_value, sizeof(chg->old_value), "%u", old);
	snprintf(chg->new_value, sizeof(chg->new_value), "%u", want);
	snprintf(chg->where, sizeof(chg->where), "Xen domain %u (%s)", domid, e->uuid);
	return NULL;
}

/* Put @domid's weight back if it is still the domain we changed. */
static struct vms_error *undo(xc_interface *xch, struct vms_xen_host *h, uint32_t domid,
			      const char *uuid, unsigned weight, bool *done)
{
	char now[37];
	*done = false;
	struct vms_error *err = domain_uuid(h, domid, now, sizeof(now));
	if (err && err->code == VMS_ERR_NOT_FOUND) {
		vms_error_free(err);
		return NULL;   /* gone: nothing to undo */
	}
	if (err)
		return vms_error_wrap(err, "xen-credit2 actuator: restoring domain %u", domid);
	if (strcmp(now, uuid))
		return NULL;   /* the id belongs to another domain now */
	unsigned old;
	if ((err = put_weight(xch, domid, weight, false, &old))) {
		if (err->code == VMS_ERR_NOT_FOUND) {   /* went meanwhile */
			vms_error_free(err);
			return NULL;
		}
		return err;
	}
	*done = true;
	return NULL;
}

struct vms_error *act_xen_restore(struct act_xen *x, int tid)
{
	struct xen_entry *e = tid > 0 ? find(x, (uint32_t)tid) : NULL;
	if (!e)
		return NULL;
	bool done;
	struct vms_error *err = x->dry_run ? NULL :
		undo(x->xch, x->host, e->domid, e->uuid, e->weight, &done);
	e->live = false;
	struct vms_error *err2 = save_state(x);
	if (err) {
		vms_error_free(err2);
		return err;
	}
	return err2;
}

/* Everything back; the caller (actuator.c) removes the state file. */
struct vms_error *act_xen_restore_all(struct act_xen *x)
{
	struct vms_error *first = NULL;
	for (size_t i = 0; i < x->n; i++) {
		struct xen_entry *e = &x->e[i];
		if (!e->live)
			continue;
		bool done;
		struct vms_error *err = x->dry_run ? NULL :
			undo(x->xch, x->host, e->domid, e->uuid, e->weight, &done);
		if (err && !first)
			first = err;
		else
			vms_error_free(err);
		e->live = false;
	}
	return first;
}

struct vms_error *act_xen_restore_entry(struct json_object *o, bool *undone)
{
	*undone = false;
	struct json_object *v;
	int domid = -1, weight = -1;
	const char *uuid = NULL;
	if (json_object_object_get_ex(o, "domid", &v))
		domid = json_object_get_int(v);
	if (json_object_object_get_ex(o, "weight", &v))
		weight = json_object_get_int(v);
	if (json_object_object_get_ex(o, "uuid", &v))
		uuid = json_object_get_string(v);
	if (domid <= 0 || domid > 0x7fef || weight < 1 || weight > (int)XEN_MAX_WEIGHT || !uuid ||
	    strlen(uuid) != 36)
		return vms_error_create(VMS_ERR_FORMAT,
			"state file: a xen-credit2 entry without a valid domid, uuid and weight");
	struct vms_actuator_options opts = { .kind = VMS_ACT_XEN_CREDIT2 };
	struct act_xen *x;
	struct vms_error *err = act_xen_open(&opts, &x);
	if (err)
		return err;
	err = undo(x->xch, x->host, (uint32_t)domid, uuid, (unsigned)weight, undone);
	act_xen_close(x);
	if (!err)
		*undone = true;   /* put back, or nothing left to put back */
	return err;
}

#endif /* VMS_HAVE_XEN */
