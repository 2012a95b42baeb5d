// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Hidden objects by cross-view.  Modules: every module kobject in
 * module_kset (struct module_kobject.mod) and every module-area vmap_area
 * allocated by the module loader must belong to a module on the modules
 * list.  Processes: every task reachable from the PID namespace
 * (init_pid_ns.idr, an xarray: struct pid -> tasks[PIDTYPE_PID] ->
 * task_struct.pid_links[0]), from a runqueue or from current_task must be
 * on the task list; and no task may keep a known hiding mark.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check/check_priv.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_KOBJECTS 65536u
#define MAX_VMAP_AREAS (1u << 22)
#define MAX_VMAP_NODES 4096u
#define MAX_XA_NODES (1u << 20)
#define MAX_XA_DEPTH 12u
#define MAX_HIDDEN_REPORT 4096u
/* Diamorphine's PF_INVISIBLE; on 6.x it is PF_MEMALLOC_PIN, which the
 * kernel sets only for the length of a long-term GUP call
 * (include/linux/sched.h; not in BTF). */
#define PF_HIDE_MARK 0x10000000u

static bool listed_module(const struct ck_ctx *c, uint64_t mod)
{
	for (size_t i = 0; i < c->nmods; i++)
		if (c->mods[i].addr == mod)
			return true;
	return false;
}

static void kobjects(struct ck_ctx *c)
{
	uint64_t ksetp, kset;
	struct vms_field kset_list, kobj_entry, kobj_name, mk_kobj, mk_mod, mod_name;
	if (!vms_ok(vms_kernel_symbol(c->k, "module_kset", &ksetp)) ||
	    !ck_field(c, "kset", "list", &kset_list) ||
	    !ck_field(c, "kobject", "entry", &kobj_entry) ||
	    !ck_field(c, "kobject", "name", &kobj_name) ||
	    !ck_field(c, "module_kobject", "kobj", &mk_kobj) ||
	    !ck_field(c, "module_kobject", "mod", &mk_mod) ||
	    !ck_field(c, "module", "name", &mod_name)) {
		ck_skip(c, "module_kset or struct module_kobject not available");
		return;
	}
	if (!vms_ok(vms_kernel_read_u64(c->k, ksetp, &kset)) || !kset) {
		ck_truncate(c, "module_kset at 0x%llx unreadable", (unsigned long long)ksetp);
		return;
	}
	c->res->checks_run++;
	uint64_t head = kset + kset_list.offset, node, prev = head;
	if (!vms_ok(vms_kernel_read_u64(c->k, head, &node))) {
		ck_truncate(c, "module_kset list at 0x%llx unreadable", (unsigned long long)head);
		return;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t n = 0;
	while (node != head && !c->stop) {
		if (++n > MAX_KOBJECTS || vms_addrset_add(&seen, node) != 1) {
			ck_truncate(c, "module_kset list: cycle or more than %u kobjects at 0x%llx",
				    MAX_KOBJECTS, (unsigned long long)node);
			break;
		}
		uint64_t kobj = node - kobj_entry.offset, next, back, mod = 0, namep = 0;
		if (!vms_ok(vms_kernel_read_u64(c->k, node, &next)) ||
		    !vms_ok(vms_kernel_read_u64(c->k, node + 8, &back))) {
			ck_truncate(c, "module_kset list: kobject 0x%llx unreadable",
				    (unsigned long long)kobj);
			break;
		}
		if (back != prev) {
			ck_truncate(c, "module_kset list: broken back link at 0x%llx",
				    (unsigned long long)node);
			break;
		}
		c->res->examined++;
		uint64_t mk = kobj - mk_kobj.offset;
		(void)vms_ok(vms_kernel_read_u64(c->k, mk + mk_mod.offset, &mod));
		if (mod && !listed_module(c, mod) && !c->modules_truncated) {
			char name[64] = "?", mname[64] = "";
			if (vms_ok(vms_kernel_read_u64(c->k, kobj + kobj_name.offset, &namep)) && namep)
				(void)vms_ok(vms_kernel_read_string(c->k, namep, name, sizeof(name)));
			size_t ml = mod_name.size < sizeof(mname) ? mod_name.size : sizeof(mname) - 1;
			(void)vms_ok(vms_kernel_read(c->k, mod + mod_name.offset, mname, ml));
			mname[ml] = '\0';
			struct vms_finding f = {
				.check = "hidden-module",
				.technique = "module unlinked from the modules list (kobject remains)",
				.place_addr = kobj,
				.target = mod,
				.owner = VMS_OWNER_NONE,
			};
			snprintf(f.place, sizeof(f.place), "module_kset: kobject '%s'", name);
			snprintf(f.target_symbol, sizeof(f.target_symbol), "struct module '%s'", mname);
			snprintf(f.detail, sizeof(f.detail),
				 "struct module 0x%llx named '%s' is not on the modules list",
				 (unsigned long long)mod, mname);
			ck_report(c, &f);
		}
		prev = node;
		node = next;
	}
	vms_addrset_free(&seen);
}

/* Module memory: module-area vmap_areas allocated by the module loader. */
struct va_layout {
	struct vms_field start, end, vm, list, caller, vm_size;
};

static bool loader_caller(const char *n)
{
	static const char *const names[] = {
		"move_module", "module_alloc", "module_memory_alloc", "load_module",
		"layout_and_allocate", "execmem_alloc", "execmem_vmalloc",
		"__execmem_alloc", "module_alloc_mem",
	};
	for (size_t i = 0; n && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(n, names[i]))
			return true;
	return false;
}

static bool covered(const struct ck_ctx *c, uint64_t s, uint64_t e)
{
	for (size_t i = 0; i < c->nranges; i++)
		if (c->ranges[i].start < e && c->ranges[i].end > s)
			return true;
	return false;
}

static bool vmap_list(struct ck_ctx *c, const struct va_layout *L, uint64_t head,
		      struct vms_addrset *seen, size_t *n)
{
	uint64_t node;
	if (!vms_ok(vms_kernel_read_u64(c->k, head, &node))) {
		ck_truncate(c, "vmap_area list at 0x%llx unreadable", (unsigned long long)head);
		return false;
	}
	while (node != head && !c->stop) {
		if (++*n > MAX_VMAP_AREAS || vms_addrset_add(seen, node) != 1) {
			ck_truncate(c, "vmap_area list: cycle or too long at 0x%llx",
				    (unsigned long long)node);
			return false;
		}
		uint64_t va = node - L->list.offset, s, e, vm = 0, next;
		if (!vms_ok(vms_kernel_read_u64(c->k, node, &next)) ||
		    !vms_ok(vms_kernel_read_u64(c->k, va + L->start.offset, &s)) ||
		    !vms_ok(vms_kernel_read_u64(c->k, va + L->end.offset, &e))) {
			ck_truncate(c, "vmap_area 0x%llx unreadable", (unsigned long long)va);
			return false;
		}
		node = next;
		if (s < CK_MODULES_VADDR || s >= CK_MODULES_END)
			continue;
		c->res->examined++;
		uint64_t caller = 0;
		if (!vms_ok(vms_kernel_read_u64(c->k, va + L->vm.offset, &vm)) || !vm ||
		    !vms_ok(vms_kernel_read_u64(c->k, vm + L->caller.offset, &caller)))
			continue;
		if (covered(c, s, e))
			continue;
		uint64_t off;
		const char *cn = ck_symbol_at(c, caller, &off);
		char cs[128];
		ck_symbolize(c, caller, cs, sizeof(cs));
		vms_kernel_log(c->k, VMS_LOG_DEBUG,
			       "check: module-area vmap_area 0x%llx-0x%llx not a listed module, caller %s",
			       (unsigned long long)s, (unsigned long long)e, cs);
		if (!ck_in_core_text(c, caller) || !loader_caller(cn))
			continue;
		struct vms_finding f = {
			.check = "hidden-module",
			.technique = "module memory not covered by any listed module",
			.place_addr = va,
			.target = s,
			.owner = VMS_OWNER_UNKNOWN,
		};
		snprintf(f.place, sizeof(f.place), "vmap_area 0x%llx-0x%llx",
			 (unsigned long long)s, (unsigned long long)e);
		snprintf(f.detail, sizeof(f.detail), "allocated by %s (module loader), %llu bytes",
			 cs, (unsigned long long)(e - s));
		ck_report(c, &f);
	}
	return true;
}

static void vmap_areas(struct ck_ctx *c)
{
	struct va_layout L;
	if (!ck_field(c, "vmap_area", "va_start", &L.start) ||
	    !ck_field(c, "vmap_area", "va_end", &L.end) ||
	    !ck_field(c, "vmap_area", "vm", &L.vm) ||
	    !ck_field(c, "vmap_area", "list", &L.list) ||
	    !ck_field(c, "vm_struct", "caller", &L.caller)) {
		ck_skip(c, "struct vmap_area/vm_struct not in BTF");
		return;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t n = 0;
	uint64_t head, nodes;
	if (vms_ok(vms_kernel_symbol(c->k, "vmap_area_list", &head))) {
		c->res->checks_run++;
		vmap_list(c, &L, head, &seen, &n);
	} else if (vms_ok(vms_kernel_symbol(c->k, "vmap_nodes", &nodes))) {
		/* 6.9+: per-node busy lists, vmap_nodes[nr_vmap_nodes]. */
		struct vms_field busy;
		size_t nsize = 0;
		uint64_t arr, nrp;
		uint32_t nr = 1;
		if (!ck_field(c, "vmap_node", "busy.head", &busy) ||
		    !vms_ok(vms_types_struct_size(vms_kernel_types(c->k), "vmap_node", &nsize)) ||
		    !nsize || !vms_ok(vms_kernel_read_u64(c->k, nodes, &arr))) {
			ck_skip(c, "vmap_nodes: struct vmap_node not usable");
			goto out;
		}
		if (vms_ok(vms_kernel_symbol(c->k, "nr_vmap_nodes", &nrp)))
			(void)vms_ok(vms_kernel_read_u32(c->k, nrp, &nr));
		if (nr == 0 || nr > MAX_VMAP_NODES) {
			ck_truncate(c, "nr_vmap_nodes is %u", nr);
			nr = nr ? MAX_VMAP_NODES : 1;
		}
		c->res->checks_run++;
		for (uint32_t i = 0; i < nr && !c->stop; i++)
			if (!vmap_list(c, &L, arr + i * nsize + busy.offset, &seen, &n))
				break;
	} else {
		ck_skip(c, "neither vmap_area_list nor vmap_nodes in kallsyms");
	}
out:
	vms_addrset_free(&seen);
}

void ck_hidden_modules(struct ck_ctx *c)
{
	kobjects(c);
	if (!c->stop)
		vmap_areas(c);
}

/* ---- processes ---- */

/* The tasks on the task list, sorted for lookups. */
struct tset {
	uint64_t *v;
	size_t n, cap;
	bool oom;
};

static int add_task(const struct vms_task *t, void *arg)
{
	struct tset *ts = arg;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? ts->cap * 2 : 1024;
		uint64_t *v = realloc(ts->v, cap * sizeof(*v));
		if (!v) {
			ts->oom = true;
			return 1;
		}
		ts->v = v;
		ts->cap = cap;
	}
	ts->v[ts->n++] = t->addr;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static bool in_set(const struct tset *s, uint64_t a)
{
	return s->n && bsearch(&a, s->v, s->n, sizeof(*s->v), cmp_u64);
}

struct hidden_ctx {
	struct ck_ctx *c;
	const struct tset *listed;
	struct vms_addrset reported;
	struct vms_field t_pid, t_comm, t_flags;
	size_t nreported;
	const char *partial;      /* why the task list walk stopped early, or NULL */
};

static void report_hidden(struct hidden_ctx *h, uint64_t task, const char *where)
{
	struct ck_ctx *c = h->c;
	if (!task || in_set(h->listed, task) || c->stop)
		return;
	if (vms_addrset_add(&h->reported, task) != 1 || ++h->nreported > MAX_HIDDEN_REPORT)
		return;
	uint32_t pid = 0;
	char comm[17] = "";
	if (!vms_ok(vms_kernel_read_u32(c->k, task + h->t_pid.offset, &pid)))
		return;
	if (pid == 0)
		return;  /* the idle tasks are on no task list */
	(void)vms_ok(vms_kernel_read(c->k, task + h->t_comm.offset, comm, 16));
	comm[16] = '\0';
	struct vms_finding f = {
		.check = "hidden-process",
		.technique = "process unlinked from the task list",
		.place_addr = task,
		.target = task,
		.owner = VMS_OWNER_NONE,
	};
	snprintf(f.place, sizeof(f.place), "pid %u (%s)", pid, comm);
	snprintf(f.target_symbol, sizeof(f.target_symbol), "task_struct 0x%llx",
		 (unsigned long long)task);
	if (h->partial)
		snprintf(f.detail, sizeof(f.detail), "found through %s but not on init_task.tasks "
			 "as far as it could be walked (%.120s)", where, h->partial);
	else
		snprintf(f.detail, sizeof(f.detail), "found through %s but not on init_task.tasks",
			 where);
	ck_report(c, &f);
}

struct xa_walk {
	struct hidden_ctx *h;
	struct vms_field shift, slots, pid_tasks, pid_links;
	uint32_t chunk;
	int64_t pidtype_pid;
	struct vms_addrset nodes;
	size_t nnodes;
	bool stop;
};

static void xa_entry(struct xa_walk *x, uint64_t e, unsigned depth)
{
	struct ck_ctx *c = x->h->c;
	if (x->stop || c->stop || !e)
		return;
	if ((e & 3) == 2) {
		if (e <= 4096)
			return;  /* sibling, retry or zero entry */
		uint64_t node = e - 2;
		if (depth >= MAX_XA_DEPTH) {
			ck_truncate(c, "pid xarray deeper than %u levels at node 0x%llx",
				    MAX_XA_DEPTH, (unsigned long long)node);
			x->stop = true;
			return;
		}
		if (++x->nnodes > MAX_XA_NODES || vms_addrset_add(&x->nodes, node) != 1) {
			ck_truncate(c, "pid xarray: cycle or too many nodes at 0x%llx",
				    (unsigned long long)node);
			x->stop = true;
			return;
		}
		uint64_t slots[256];
		if (!vms_ok(vms_kernel_read(c->k, node + x->slots.offset, slots, x->chunk * 8))) {
			ck_truncate(c, "pid xarray node 0x%llx unreadable", (unsigned long long)node);
			x->stop = true;
			return;
		}
		for (uint32_t i = 0; i < x->chunk && !x->stop; i++)
			xa_entry(x, slots[i], depth + 1);
		return;
	}
	if (e & 1)
		return;  /* a value entry, not a pointer */
	/* struct pid */
	c->res->examined++;
	uint64_t first = 0;
	if (!vms_ok(vms_kernel_read_u64(c->k, e + x->pid_tasks.offset +
					(uint64_t)x->pidtype_pid * 8, &first)) || !first)
		return;
	report_hidden(x->h, first - x->pid_links.offset, "the PID namespace (init_pid_ns.idr)");
}

static void pid_idr(struct hidden_ctx *h)
{
	struct ck_ctx *c = h->c;
	struct xa_walk x = { .h = h };
	struct vms_field head;
	uint64_t ns, xa_head;
	if (!vms_ok(vms_kernel_symbol(c->k, "init_pid_ns", &ns)) ||
	    !ck_field(c, "pid_namespace", "idr.idr_rt.xa_head", &head) ||
	    !ck_field(c, "xa_node", "shift", &x.shift) ||
	    !ck_field(c, "xa_node", "slots", &x.slots) ||
	    !ck_field(c, "pid", "tasks", &x.pid_tasks) ||
	    !ck_field(c, "task_struct", "pid_links", &x.pid_links)) {
		ck_skip(c, "init_pid_ns idr (xarray) not available: PID namespace view skipped");
		return;
	}
	x.chunk = x.slots.size / 8;
	if (x.chunk == 0 || x.chunk > 256) {
		ck_skip(c, "xa_node.slots has %u bytes", x.slots.size);
		return;
	}
	if (!vms_ok(vms_types_enum_value(vms_kernel_types(c->k), "PIDTYPE_PID", &x.pidtype_pid)) ||
	    x.pidtype_pid < 0 || x.pidtype_pid > 8)
		x.pidtype_pid = 0;
	if (!vms_ok(vms_kernel_read_u64(c->k, ns + head.offset, &xa_head))) {
		ck_truncate(c, "init_pid_ns at 0x%llx unreadable", (unsigned long long)ns);
		return;
	}
	c->res->checks_run++;
	vms_addrset_init(&x.nodes);
	xa_entry(&x, xa_head, 0);
	vms_addrset_free(&x.nodes);
}

static int rq_task(const struct vms_rq_task *t, void *arg)
{
	struct hidden_ctx *h = arg;
	if (t->pid)
		report_hidden(h, t->addr, t->current ? "a runqueue (running)" : "a runqueue");
	return h->c->stop;
}

static int rq_summary(const struct vms_runqueue *rq, void *arg)
{
	struct hidden_ctx *h = arg;
	if (rq->current_task && rq->current_task != rq->idle)
		report_hidden(h, rq->current_task, "per-CPU current_task");
	return h->c->stop;
}

struct mark_ctx {
	struct ck_ctx *c;
};

static int mark_task(const struct vms_task *t, void *arg)
{
	struct mark_ctx *m = arg;
	if (!(t->flags & PF_HIDE_MARK))
		return 0;
	struct vms_finding f = {
		.check = "hiding-mark",
		.technique = "task carries a hiding flag (PF 0x10000000, Diamorphine's PF_INVISIBLE)",
		.place_addr = t->addr,
		.target = t->addr,
		.owner = VMS_OWNER_NONE,
	};
	snprintf(f.place, sizeof(f.place), "pid %d (%s)", t->pid, t->base_comm);
	snprintf(f.target_symbol, sizeof(f.target_symbol), "task_struct 0x%llx",
		 (unsigned long long)t->addr);
	snprintf(f.detail, sizeof(f.detail),
		 "flags 0x%x: the kernel sets 0x10000000 (PF_MEMALLOC_PIN) only during a GUP call",
		 t->flags);
	ck_report(m->c, &f);
	return m->c->stop;
}

void ck_hidden_tasks(struct ck_ctx *c)
{
	struct tset ts = { 0 };
	struct vms_walk_result wr;
	struct vms_error *err = vms_linux_for_each_task(c->k, VMS_TASKS_THREADS, add_task,
							&ts, &wr);
	if (err) {
		ck_skip(c, "task list: %s", err->message);
		vms_error_free(err);
		free(ts.v);
		return;
	}
	if (ts.oom) {
		ck_truncate(c, "task list: out of memory");
		free(ts.v);
		return;
	}
	/* A list that breaks off (a cycle, a bad link: list-integrity says
	 * which) hides every task past the break from list walkers: compare
	 * with what it did reach, and say so in each finding. */
	char partial[sizeof(wr.reason)] = "";
	if (wr.truncated) {
		ck_truncate(c, "task list: %s", wr.reason);
		snprintf(partial, sizeof(partial), "%s", wr.reason);
	}
	qsort(ts.v, ts.n, sizeof(*ts.v), cmp_u64);
	c->res->checks_run++;
	struct mark_ctx m = { c };
	err = vms_linux_for_each_task(c->k, VMS_TASKS_THREADS, mark_task, &m, &wr);
	vms_error_free(err);
	struct hidden_ctx h = { .c = c, .listed = &ts, .partial = partial[0] ? partial : NULL };
	vms_addrset_init(&h.reported);
	if (ck_field(c, "task_struct", "pid", &h.t_pid) &&
	    ck_field(c, "task_struct", "comm", &h.t_comm)) {
		pid_idr(&h);
		struct vms_walk_result rr;
		err = vms_linux_for_each_runqueue(c->k, rq_summary, rq_task, &h, &rr);
		if (err) {
			ck_skip(c, "runqueues: %s", err->message);
			vms_error_free(err);
		} else {
			c->res->checks_run++;
			if (rr.truncated)
				ck_truncate(c, "runqueues: %s", rr.reason);
		}
	}
	vms_addrset_free(&h.reported);
	free(ts.v);
}
