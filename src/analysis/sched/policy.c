// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The vCPU policy: per sample, what each vCPU's current task asks for
 * (boost when its comm or guest cgroup matches a boost glob, demote when
 * the vCPU is idle or runs a named background task, normal otherwise);
 * a vCPU's level changes only once the new one held for `hysteresis`
 * consecutive samples, so settings do not flap with every context switch.
 * In per-VM mode the guest moves as one: boost if any vCPU wants boost,
 * demote only if every vCPU wants demote.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/steer.h>

struct vcpu_state {
	enum vms_level level;      /* in force */
	enum vms_level pending;    /* wanted, not yet held long enough */
	unsigned held;
};

struct vms_policy {
	struct vms_policy_rules r;
	unsigned n;
	struct vcpu_state *v;
	struct vcpu_state vm;      /* per-VM mode */
};

const char *vms_level_name(enum vms_level l)
{
	switch (l) {
	case VMS_LEVEL_BOOST: return "boost";
	case VMS_LEVEL_DEMOTE: return "demote";
	default: return "normal";
	}
}

struct vms_error *vms_policy_new(const struct vms_policy_rules *rules, unsigned nr_vcpus,
				 struct vms_policy **ret)
{
	if (!nr_vcpus || nr_vcpus > 8192)
		return vms_error_create(VMS_ERR_INVALID, "policy for %u vCPUs", nr_vcpus);
	struct vms_policy *p = calloc(1, sizeof(*p));
	if (!p)
		return &vms_error_nomem;
	p->r = *rules;
	if (!p->r.hysteresis)
		p->r.hysteresis = 1;
	p->n = nr_vcpus;
	p->v = calloc(nr_vcpus, sizeof(*p->v));
	if (!p->v) {
		free(p);
		return &vms_error_nomem;
	}
	*ret = p;
	return NULL;
}

void vms_policy_free(struct vms_policy *p)
{
	if (p) {
		free(p->v);
		free(p);
	}
}

static const char *match(const char *const *globs, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (fnmatch(globs[i], s, 0) == 0)
			return globs[i];
	return NULL;
}

/* What one sample asks for, and why; false when it says nothing (torn). */
static bool want(const struct vms_policy_rules *r, const struct vms_cpu_sample *s,
		 enum vms_level *l, char *why, size_t n)
{
	const char *g;
	if (!s->valid || s->torn)
		return false;
	if (s->idle) {
		*l = r->keep_idle ? VMS_LEVEL_NORMAL : VMS_LEVEL_DEMOTE;
		snprintf(why, n, "idle");
	} else if ((g = match(r->boost, r->nr_boost, s->comm))) {
		*l = VMS_LEVEL_BOOST;
		snprintf(why, n, "comm matches '%s'", g);
	} else if (s->cgroup[0] && (g = match(r->boost_cgroup, r->nr_boost_cgroup, s->cgroup))) {
		*l = VMS_LEVEL_BOOST;
		snprintf(why, n, "cgroup %.40s matches '%s'", s->cgroup, g);
	} else if ((g = match(r->demote, r->nr_demote, s->comm))) {
		*l = VMS_LEVEL_DEMOTE;
		snprintf(why, n, "comm matches '%s' (background)", g);
	} else {
		*l = VMS_LEVEL_NORMAL;
		snprintf(why, n, "no rule");
	}
	return true;
}

/* Move @st toward @w with hysteresis; true when the level changed. */
static bool step(struct vcpu_state *st, enum vms_level w, unsigned hysteresis)
{
	if (w == st->level) {
		st->held = 0;
		st->pending = w;
		return false;
	}
	if (w != st->pending) {
		st->pending = w;
		st->held = 0;
	}
	if (++st->held < hysteresis)
		return false;
	st->level = w;
	st->held = 0;
	return true;
}

void vms_policy_update(struct vms_policy *p, const struct vms_cpu_sample *s, unsigned n,
		       struct vms_policy_decision *out)
{
	if (n > p->n)
		n = p->n;
	bool any_boost = false, all_demote = true, any_vote = false;
	char vm_why[96] = "";
	for (unsigned i = 0; i < n; i++) {
		struct vms_policy_decision *d = &out[i];
		memset(d, 0, sizeof(*d));
		if (s[i].valid && !s[i].idle) {
			memcpy(d->task, s[i].comm, sizeof(d->task));
			d->pid = s[i].pid;
		}
		enum vms_level w;
		if (!want(&p->r, &s[i], &w, d->reason, sizeof(d->reason))) {
			snprintf(d->reason, sizeof(d->reason), "%s: level kept",
				 s[i].valid ? "torn read" : "unreadable");
			d->level = p->v[i].level;
			all_demote = false;
			continue;
		}
		any_vote = true;
		if (w == VMS_LEVEL_BOOST && !any_boost) {
			any_boost = true;
			snprintf(vm_why, sizeof(vm_why), "vCPU %u: %s", i, d->reason);
		}
		if (w != VMS_LEVEL_DEMOTE)
			all_demote = false;
		if (!p->r.per_vm) {
			d->changed = step(&p->v[i], w, p->r.hysteresis);
			d->level = p->v[i].level;
		}
	}
	if (!p->r.per_vm)
		return;
	bool changed = false;
	if (any_vote) {
		enum vms_level w = any_boost ? VMS_LEVEL_BOOST :
				   all_demote ? VMS_LEVEL_DEMOTE : VMS_LEVEL_NORMAL;
		changed = step(&p->vm, w, p->r.hysteresis);
	}
	for (unsigned i = 0; i < n; i++) {
		out[i].level = p->vm.level;
		out[i].changed = changed;
		if (any_boost)
			snprintf(out[i].reason, sizeof(out[i].reason), "per-VM: %.80s", vm_why);
	}
}
