// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The live sampler: per CPU, rq->nr_running, rq->curr and rq->idle, then the
 * current task's pid, tgid, comm and cgroup, then rq->curr once more: if it
 * changed, the guest switched tasks while we read, and the sample is torn.
 * Per-CPU runqueue addresses and every offset are resolved once; cgroup
 * paths are cached by (cgroup, kernfs node) address and re-resolved every
 * CGROUP_CACHE_TTL samples, since a freed cgroup's memory can be reused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/sample.h>

#include "os/linux/kernel_internal.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_SAMPLE_CPUS 8192u
#define MAX_CGROUP_DEPTH 64
#define CGROUP_CACHE 64
#define CGROUP_CACHE_TTL 256

struct cgroup_memo {
	uint64_t cgrp, kn;
	unsigned age;
	char path[256];
};

struct vms_sampler {
	struct vms_kernel *k;
	unsigned nr_cpus;
	uint64_t *rq;                  /* per CPU, 0 if unknown */
	uint64_t jiffies_addr;
	struct vms_field rq_nr, rq_curr, rq_idle;
	struct vms_field t_pid, t_tgid, t_comm, t_cgroups;
	struct vms_field cs_dfl, cg_kn, kn_name, kn_parent;
	bool has_cgroup;
	struct cgroup_memo memo[CGROUP_CACHE];
	unsigned clock;
};

unsigned vms_sampler_nr_cpus(const struct vms_sampler *s)
{
	return s->nr_cpus;
}

struct vms_error *vms_sampler_new(struct vms_kernel *k, struct vms_sampler **ret)
{
	struct vms_sampler *s = calloc(1, sizeof(*s));
	if (!s)
		return &vms_error_nomem;
	s->k = k;
	struct vms_error *err;
	uint64_t runqueues;
	if ((err = vms_kernel_symbol(k, "runqueues", &runqueues)) ||
	    (err = vms_kernel_field(k, "rq", "nr_running", &s->rq_nr)) ||
	    (err = vms_kernel_field(k, "rq", "curr", &s->rq_curr)) ||
	    (err = vms_kernel_field(k, "rq", "idle", &s->rq_idle)) ||
	    (err = vms_kernel_field(k, "task_struct", "pid", &s->t_pid)) ||
	    (err = vms_kernel_field(k, "task_struct", "tgid", &s->t_tgid)) ||
	    (err = vms_kernel_field(k, "task_struct", "comm", &s->t_comm))) {
		free(s);
		return err;
	}
	if ((err = vms_kernel_symbol(k, "jiffies_64", &s->jiffies_addr))) {
		free(s);
		return err;
	}
	s->has_cgroup = vms_ok(vms_kernel_field(k, "task_struct", "cgroups", &s->t_cgroups)) &&
			vms_ok(vms_kernel_field(k, "css_set", "dfl_cgrp", &s->cs_dfl)) &&
			vms_ok(vms_kernel_field(k, "cgroup", "kn", &s->cg_kn)) &&
			vms_ok(vms_kernel_field(k, "kernfs_node", "name", &s->kn_name)) &&
			vms_ok(vms_kernel_field(k, "kernfs_node", "parent", &s->kn_parent));
	unsigned n = vms_kernel_info(k)->nr_cpu_ids;
	s->nr_cpus = n == 0 ? 1 : n > MAX_SAMPLE_CPUS ? MAX_SAMPLE_CPUS : n;
	s->rq = calloc(s->nr_cpus, sizeof(*s->rq));
	if (!s->rq) {
		free(s);
		return &vms_error_nomem;
	}
	for (unsigned c = 0; c < s->nr_cpus; c++)
		if (!vms_ok(vms_kernel_percpu(k, c, runqueues, &s->rq[c])))
			s->rq[c] = 0;
	if (!s->rq[0]) {
		vms_sampler_free(s);
		return vms_error_create(VMS_ERR_NOT_FOUND, "no runqueue address for CPU 0");
	}
	*ret = s;
	return NULL;
}

void vms_sampler_free(struct vms_sampler *s)
{
	if (!s)
		return;
	free(s->rq);
	free(s);
}

/* The kernfs path of @kn, root first ("/" for the root itself). */
static bool kn_path(struct vms_sampler *s, uint64_t kn, char *out, size_t size)
{
	char names[MAX_CGROUP_DEPTH][64];
	unsigned depth = 0;
	for (;;) {
		uint64_t parent, name;
		if (!vms_ok(vms_kernel_read_u64(s->k, kn + s->kn_parent.offset, &parent)) ||
		    !vms_ok(vms_kernel_read_u64(s->k, kn + s->kn_name.offset, &name)))
			return false;
		if (!parent)
			break;   /* the root's name is not part of the path */
		if (depth == MAX_CGROUP_DEPTH ||
		    !vms_ok(vms_kernel_read_string(s->k, name, names[depth], sizeof(names[0]))))
			return false;
		depth++;
		kn = parent;
	}
	size_t len = 0;
	out[0] = '\0';
	if (!depth)
		snprintf(out, size, "/");
	while (depth--) {
		int w = snprintf(out + len, size - len, "/%s", names[depth]);
		if (w < 0 || (size_t)w >= size - len)
			return false;
		len += (size_t)w;
	}
	return true;
}

static void task_cgroup(struct vms_sampler *s, uint64_t task, char *out, size_t size)
{
	uint64_t cset, cgrp, kn;
	out[0] = '\0';
	if (!s->has_cgroup ||
	    !vms_ok(vms_kernel_read_u64(s->k, task + s->t_cgroups.offset, &cset)) || !cset ||
	    !vms_ok(vms_kernel_read_u64(s->k, cset + s->cs_dfl.offset, &cgrp)) || !cgrp ||
	    !vms_ok(vms_kernel_read_u64(s->k, cgrp + s->cg_kn.offset, &kn)) || !kn)
		return;
	struct cgroup_memo *m = &s->memo[(cgrp >> 6) % CGROUP_CACHE];
	if (m->cgrp == cgrp && m->kn == kn && s->clock - m->age < CGROUP_CACHE_TTL) {
		snprintf(out, size, "%s", m->path);
		return;
	}
	if (!kn_path(s, kn, m->path, sizeof(m->path))) {
		m->cgrp = 0;
		return;
	}
	m->cgrp = cgrp;
	m->kn = kn;
	m->age = s->clock;
	snprintf(out, size, "%s", m->path);
}

struct vms_error *vms_sampler_read(struct vms_sampler *s, struct vms_cpu_sample *out)
{
	unsigned ok = 0;
	s->clock++;
	for (unsigned c = 0; c < s->nr_cpus; c++) {
		struct vms_cpu_sample *o = &out[c];
		memset(o, 0, sizeof(*o));
		o->cpu = c;
		uint64_t rq = s->rq[c], curr, idle, again;
		uint32_t nr, pid, tgid;
		if (!rq ||
		    !vms_ok(vms_kernel_read_u32(s->k, rq + s->rq_nr.offset, &nr)) ||
		    !vms_ok(vms_kernel_read_u64(s->k, rq + s->rq_curr.offset, &curr)) ||
		    !vms_ok(vms_kernel_read_u64(s->k, rq + s->rq_idle.offset, &idle)) || !curr ||
		    !vms_ok(vms_kernel_read_u32(s->k, curr + s->t_pid.offset, &pid)) ||
		    !vms_ok(vms_kernel_read_u32(s->k, curr + s->t_tgid.offset, &tgid)) ||
		    !vms_ok(vms_kernel_read(s->k, curr + s->t_comm.offset, o->comm, 15)))
			continue;
		o->comm[15] = '\0';
		o->nr_running = nr;
		o->task = curr;
		o->idle = curr == idle;
		o->pid = (int32_t)pid;
		o->tgid = (int32_t)tgid;
		if (!o->idle)
			task_cgroup(s, curr, o->cgroup, sizeof(o->cgroup));
		if (!vms_ok(vms_kernel_read_u64(s->k, rq + s->rq_curr.offset, &again)))
			continue;
		o->torn = again != curr;
		o->valid = true;
		ok++;
	}
	if (!ok)
		return vms_error_create(VMS_ERR_FAULT,
					"no runqueue of the %u CPU(s) could be read", s->nr_cpus);
	return NULL;
}

struct vms_error *vms_sampler_jiffies(struct vms_sampler *s, uint64_t *jiffies)
{
	return vms_kernel_read_u64(s->k, s->jiffies_addr, jiffies);
}
