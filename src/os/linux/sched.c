// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Runqueues: per CPU, the struct rq at the per-CPU variable runqueues.
 * rq->curr runs; the fair class queues sched_entity.run_node in the
 * cfs_rq's rb-tree (tasks_timeline) except its running entity (cfs_rq->curr),
 * an entity with my_q set being a task group whose own cfs_rq holds its
 * members; the RT class keeps sched_rt_entity.run_list on one of 100 lists
 * (rt_rq.active.queue[prio]), the running task included; the deadline class
 * keeps sched_dl_entity.rb_node in dl_rq.root (6.8+ also queues "servers",
 * which are not tasks); the stop task is only rq->stop.
 * Offsets come from BTF; members renamed across kernels are tried by each
 * name (nr_running/nr_queued, h_nr_running/h_nr_queued,
 * min_vruntime/zero_vruntime) and optional ones (EEVDF deadline and vlag,
 * sched_delayed, my_q) are reported only where present.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "os/linux/kernel_internal.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define TASK_ON_RQ_QUEUED    1        /* task_struct.on_rq */

#define MAX_TASKS       (4u << 20)    /* PID_MAX_LIMIT: no queue holds more */
#define MAX_TASK_STRUCT (64u << 10)
#define MAX_SE_SIZE     4096u
#define RB_MAX_DEPTH    96            /* an rb-tree of 4M nodes is < 46 deep */
#define MAX_GROUP_DEPTH 32            /* nested task groups (cgroups) */
#define MAX_RT_QUEUES   1024u

struct sched_layout {
	/* struct rq */
	struct vms_field rq_nr_running, rq_curr, rq_idle, rq_stop, rq_clock,
		rq_cfs, rq_rt, rq_dl, rq_fair_server;
	bool has_rq_dl, has_fair_server, has_rq_stop;
	/* struct cfs_rq */
	struct vms_field cfs_nr, cfs_h_nr, cfs_minv, cfs_root, cfs_curr;
	bool has_cfs_h_nr, has_cfs_minv;
	/* struct rt_rq / rt_prio_array */
	struct vms_field rt_active, rt_nr, rta_queue, rt_queued, rt_throttled,
		rt_time, rt_runtime;
	bool has_rt_queued, has_rt_throttled, has_rt_time;
	uint32_t rt_nq;              /* entries in queue[] */
	/* struct dl_rq */
	struct vms_field dl_root, dl_nr;
	bool has_dl_nr;
	/* rb_node, list_head */
	struct vms_field rb_pc, rb_left, rb_right, lh_next, lh_prev;
	/* struct sched_entity (offsets within it) */
	size_t se_size;
	struct vms_field se_run_node, se_my_q, se_vruntime, se_deadline,
		se_vlag, se_delayed, se_weight;
	bool has_my_q, has_deadline, has_vlag, has_delayed;
	/* struct sched_rt_entity, sched_dl_entity */
	struct vms_field rt_run_list, rt_my_q, dl_rb_node, dl_deadline,
		dl_server, dl_runtime, dl_throttled, dl_server_active, dl_defer,
		dl_defer_running;
	bool has_rt_my_q, has_dl_server, has_dl_runtime, has_dl_throttled,
		has_dl_server_active, has_dl_defer, has_dl_defer_running;
	size_t dl_se_size;
	/* which server picked rq->curr: rq->dl_server or task->dl_server */
	struct vms_field rq_dl_server, t_dl_server;
	bool has_rq_dl_server, has_t_dl_server;
	/* struct task_struct */
	size_t task_size;
	struct vms_field t_se, t_rt, t_dl, t_pid, t_tgid, t_comm, t_prio,
		t_static_prio, t_rt_priority, t_policy, t_class, t_on_cpu,
		t_on_rq, t_state, t_exit_state;
	bool has_t_dl, has_on_cpu;
	struct vms_field t_ti_flags;  /* thread_info.flags (in task_struct on x86) */
	bool has_ti_flags;
	struct vms_field rq_lock;     /* rq->__lock (5.14+) or rq->lock */
	bool has_rq_lock;
	/* per-CPU current task: current_task, or pcpu_hot.current_task */
	uint64_t current_task_sym;
	uint32_t current_task_off;
	bool has_current_task;
};

struct class_sym {
	const char *name;
	enum vms_sched_class cls;
	uint64_t addr;
};

struct rqwalk {
	struct vms_kernel *k;
	struct sched_layout L;
	struct vms_walk_result *res;
	vms_rq_task_fn task_fn;
	vms_runqueue_fn rq_fn;
	void *arg;
	bool stop;                /* a callback asked to stop */
	uint8_t *tbuf;            /* one task_struct */
	struct class_sym classes[6];
	/* the CPU being walked */
	struct vms_runqueue rq;
	struct vms_addrset seen;  /* nodes and tasks seen on this CPU */
	size_t nodes;             /* queue nodes visited on this CPU */
};

const char *vms_sched_class_name(enum vms_sched_class c)
{
	switch (c) {
	case VMS_SCHED_STOP: return "stop";
	case VMS_SCHED_DL: return "dl";
	case VMS_SCHED_RT: return "rt";
	case VMS_SCHED_FAIR: return "fair";
	case VMS_SCHED_EXT: return "ext";
	case VMS_SCHED_IDLE: return "idle";
	default: return "unknown";
	}
}

static struct vms_error *need(struct vms_kernel *k, const char *s,
			      const char *m, struct vms_field *f)
{
	return vms_kernel_field(k, s, m, f);
}

static bool have(struct vms_kernel *k, const char *s, const char *m,
		 struct vms_field *f)
{
	return vms_ok(need(k, s, m, f));
}

/* The first of @names that @s has; the error names the last one tried. */
static struct vms_error *need_any(struct vms_kernel *k, const char *s,
				  const char *const *names, struct vms_field *f)
{
	for (size_t i = 0; names[i + 1]; i++)
		if (have(k, s, names[i], f))
			return NULL;
	const char *const *last = names;
	while (last[1])
		last++;
	return need(k, s, *last, f);
}

static struct vms_error *layout(struct rqwalk *w)
{
	struct vms_kernel *k = w->k;
	struct sched_layout *L = &w->L;
	struct vms_types *T = vms_kernel_types(k);
	struct vms_error *err;
	static const char *const cfs_nr[] = { "nr_running", "nr_queued", NULL };
	static const char *const cfs_h_nr[] = { "h_nr_running", "h_nr_queued", NULL };
	static const char *const cfs_minv[] = { "min_vruntime", "zero_vruntime", NULL };
	static const char *const state[] = { "__state", "state", NULL };

	if ((err = need(k, "rq", "nr_running", &L->rq_nr_running)) ||
	    (err = need(k, "rq", "curr", &L->rq_curr)) ||
	    (err = need(k, "rq", "idle", &L->rq_idle)) ||
	    (err = need(k, "rq", "clock", &L->rq_clock)) ||
	    (err = need(k, "rq", "cfs", &L->rq_cfs)) ||
	    (err = need(k, "rq", "rt", &L->rq_rt)) ||
	    (err = need_any(k, "cfs_rq", cfs_nr, &L->cfs_nr)) ||
	    (err = need(k, "cfs_rq", "tasks_timeline.rb_root.rb_node", &L->cfs_root)) ||
	    (err = need(k, "cfs_rq", "curr", &L->cfs_curr)) ||
	    (err = need(k, "rt_rq", "active", &L->rt_active)) ||
	    (err = need(k, "rt_rq", "rt_nr_running", &L->rt_nr)) ||
	    (err = need(k, "rt_prio_array", "queue", &L->rta_queue)) ||
	    (err = need(k, "rb_node", "__rb_parent_color", &L->rb_pc)) ||
	    (err = need(k, "rb_node", "rb_left", &L->rb_left)) ||
	    (err = need(k, "rb_node", "rb_right", &L->rb_right)) ||
	    (err = need(k, "list_head", "next", &L->lh_next)) ||
	    (err = need(k, "list_head", "prev", &L->lh_prev)) ||
	    (err = need(k, "sched_entity", "run_node", &L->se_run_node)) ||
	    (err = need(k, "sched_entity", "vruntime", &L->se_vruntime)) ||
	    (err = need(k, "sched_entity", "load.weight", &L->se_weight)) ||
	    (err = need(k, "sched_rt_entity", "run_list", &L->rt_run_list)) ||
	    (err = need(k, "task_struct", "se", &L->t_se)) ||
	    (err = need(k, "task_struct", "rt", &L->t_rt)) ||
	    (err = need(k, "task_struct", "pid", &L->t_pid)) ||
	    (err = need(k, "task_struct", "tgid", &L->t_tgid)) ||
	    (err = need(k, "task_struct", "comm", &L->t_comm)) ||
	    (err = need(k, "task_struct", "prio", &L->t_prio)) ||
	    (err = need(k, "task_struct", "static_prio", &L->t_static_prio)) ||
	    (err = need(k, "task_struct", "rt_priority", &L->t_rt_priority)) ||
	    (err = need(k, "task_struct", "policy", &L->t_policy)) ||
	    (err = need(k, "task_struct", "sched_class", &L->t_class)) ||
	    (err = need(k, "task_struct", "on_rq", &L->t_on_rq)) ||
	    (err = need(k, "task_struct", "exit_state", &L->t_exit_state)) ||
	    (err = need_any(k, "task_struct", state, &L->t_state)))
		return err;
	L->has_rq_stop = have(k, "rq", "stop", &L->rq_stop);
	L->has_cfs_h_nr = vms_ok(need_any(k, "cfs_rq", cfs_h_nr, &L->cfs_h_nr));
	L->has_cfs_minv = vms_ok(need_any(k, "cfs_rq", cfs_minv, &L->cfs_minv));
	L->has_rq_dl = have(k, "rq", "dl", &L->rq_dl) &&
		       have(k, "dl_rq", "root.rb_root.rb_node", &L->dl_root) &&
		       have(k, "sched_dl_entity", "rb_node", &L->dl_rb_node) &&
		       have(k, "task_struct", "dl", &L->t_dl);
	L->has_t_dl = L->has_rq_dl;
	L->has_dl_nr = have(k, "dl_rq", "dl_nr_running", &L->dl_nr);
	if (L->has_rq_dl && !have(k, "sched_dl_entity", "deadline", &L->dl_deadline))
		L->dl_deadline.size = 0;
	L->has_dl_server = have(k, "sched_dl_entity", "dl_server", &L->dl_server);
	L->has_fair_server = have(k, "rq", "fair_server", &L->rq_fair_server) &&
			     L->has_rq_dl;
	L->has_dl_runtime = have(k, "sched_dl_entity", "runtime", &L->dl_runtime);
	L->has_dl_throttled = have(k, "sched_dl_entity", "dl_throttled", &L->dl_throttled);
	L->has_dl_server_active = have(k, "sched_dl_entity", "dl_server_active",
				       &L->dl_server_active);
	L->has_dl_defer = have(k, "sched_dl_entity", "dl_defer", &L->dl_defer);
	L->has_dl_defer_running = have(k, "sched_dl_entity", "dl_defer_running",
				       &L->dl_defer_running);
	L->has_rq_dl_server = have(k, "rq", "dl_server", &L->rq_dl_server);
	L->has_t_dl_server = have(k, "task_struct", "dl_server", &L->t_dl_server);
	L->has_rt_queued = have(k, "rt_rq", "rt_queued", &L->rt_queued);
	L->has_rt_throttled = have(k, "rt_rq", "rt_throttled", &L->rt_throttled);
	L->has_rt_time = have(k, "rt_rq", "rt_time", &L->rt_time) &&
			 have(k, "rt_rq", "rt_runtime", &L->rt_runtime);
	L->has_my_q = have(k, "sched_entity", "my_q", &L->se_my_q);
	L->has_deadline = have(k, "sched_entity", "deadline", &L->se_deadline);
	L->has_vlag = have(k, "sched_entity", "vlag", &L->se_vlag);
	L->has_delayed = have(k, "sched_entity", "sched_delayed", &L->se_delayed);
	L->has_rt_my_q = have(k, "sched_rt_entity", "my_q", &L->rt_my_q);
	L->has_on_cpu = have(k, "task_struct", "on_cpu", &L->t_on_cpu);
	L->has_ti_flags = have(k, "task_struct", "thread_info.flags", &L->t_ti_flags);
	L->has_rq_lock = have(k, "rq", "__lock", &L->rq_lock) || have(k, "rq", "lock", &L->rq_lock);
	if (L->has_fair_server &&
	    (!vms_ok(vms_types_struct_size(T, "sched_dl_entity", &L->dl_se_size)) ||
	     L->dl_se_size > MAX_SE_SIZE || L->dl_rb_node.offset + 24 > L->dl_se_size))
		L->has_fair_server = false;
	if ((err = vms_types_struct_size(T, "sched_entity", &L->se_size)) ||
	    (err = vms_types_struct_size(T, "task_struct", &L->task_size)))
		return err;
	L->rt_nq = L->rta_queue.size / 16;
	if (L->se_size > MAX_SE_SIZE || L->task_size > MAX_TASK_STRUCT ||
	    L->t_se.offset + L->se_size > L->task_size || L->t_comm.size < 16 ||
	    L->t_comm.offset + 16 > L->task_size || L->rt_nq == 0 ||
	    L->rt_nq > MAX_RT_QUEUES || L->lh_next.size != 8 || L->lh_prev.size != 8 ||
	    L->rb_left.size != 8 || L->rb_right.size != 8 || L->rb_pc.size != 8)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF layout of the scheduler structures is inconsistent "
			"(task_struct %zu bytes, sched_entity %zu at %u, rt queue[] %u bytes)",
			L->task_size, L->se_size, L->t_se.offset, L->rta_queue.size);

	/* x86 keeps current in current_task (≤6.1, 6.15+) or pcpu_hot. */
	struct vms_field ph;
	if (vms_ok(vms_kernel_symbol(k, "current_task", &L->current_task_sym))) {
		L->has_current_task = true;
	} else if (vms_ok(vms_kernel_symbol(k, "pcpu_hot", &L->current_task_sym)) &&
		   have(k, "pcpu_hot", "current_task", &ph)) {
		L->has_current_task = true;
		L->current_task_off = ph.offset;
	}
	return NULL;
}


/* End this CPU's current queue walk; the first reason is kept. */
static void truncate_walk(struct rqwalk *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void truncate_walk(struct rqwalk *w, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->rq.truncated = true;
	if (!w->res->truncated) {
		w->res->truncated = true;
		int n = snprintf(w->res->reason, sizeof(w->res->reason), "CPU %u: ",
				 w->rq.cpu);
		if (n > 0 && (size_t)n < sizeof(w->res->reason))
			snprintf(w->res->reason + n, sizeof(w->res->reason) - (size_t)n,
				 "%.*s", (int)(sizeof(w->res->reason) - (size_t)n - 1), msg);
	}
	vms_kernel_log(w->k, VMS_LOG_WARN, "runqueue walk of CPU %u stopped: %s",
		       w->rq.cpu, msg);
}

/* Count a visited queue node; false (walk truncated) past the limits. */
static bool count_node(struct rqwalk *w, uint64_t node, const char *what)
{
	if (++w->nodes > MAX_TASKS) {
		truncate_walk(w, "more entries than the kernel's PID limit in the %s (last at 0x%llx)",
			      what, (unsigned long long)node);
		return false;
	}
	int added = vms_addrset_add(&w->seen, node);
	if (added == 0) {
		truncate_walk(w, "cycle in the %s: node 0x%llx seen twice", what,
			      (unsigned long long)node);
		return false;
	}
	if (added < 0) {
		truncate_walk(w, "out of memory at node 0x%llx of the %s",
			      (unsigned long long)node, what);
		return false;
	}
	return true;
}

static enum vms_sched_class class_of(const struct rqwalk *w, uint64_t cls)
{
	for (size_t i = 0; i < sizeof(w->classes) / sizeof(w->classes[0]); i++)
		if (w->classes[i].addr && w->classes[i].addr == cls)
			return w->classes[i].cls;
	return VMS_SCHED_UNKNOWN;
}

static struct vms_error *read_task(struct rqwalk *w, uint64_t addr,
				   struct vms_rq_task *t)
{
	const struct sched_layout *L = &w->L;
	struct vms_error *err = vms_kernel_read(w->k, addr, w->tbuf, L->task_size);
	if (err)
		return err;
	const uint8_t *b = w->tbuf, *se = b + L->t_se.offset;
	memset(t, 0, sizeof(*t));
	t->rt_list = -1;
	t->cpu = w->rq.cpu;
	t->addr = addr;
	t->pid = (int32_t)vms_field_uint(b, &L->t_pid);
	t->tgid = (int32_t)vms_field_uint(b, &L->t_tgid);
	memcpy(t->comm, b + L->t_comm.offset, 15);
	t->comm[15] = '\0';
	t->state = vms_linux_task_state_letter((uint32_t)vms_field_uint(b, &L->t_state),
				(uint32_t)vms_field_uint(b, &L->t_exit_state));
	t->sched_class = class_of(w, vms_le64(b + L->t_class.offset));
	t->policy = (uint32_t)vms_field_uint(b, &L->t_policy);
	t->prio = (int32_t)vms_field_uint(b, &L->t_prio);
	t->static_prio = (int32_t)vms_field_uint(b, &L->t_static_prio);
	t->nice = t->static_prio - 120;
	t->rt_priority = (uint32_t)vms_field_uint(b, &L->t_rt_priority);
	t->weight = vms_field_uint(se, &L->se_weight);
	t->vruntime = vms_field_uint(se, &L->se_vruntime);
	if (L->has_deadline) {
		t->has_deadline = true;
		t->deadline = vms_field_uint(se, &L->se_deadline);
	}
	if (L->has_vlag) {
		t->has_vlag = true;
		t->vlag = (int64_t)vms_field_uint(se, &L->se_vlag);
	}
	if (L->has_delayed)
		t->delayed = vms_field_bits(se, L->se_size, &L->se_delayed) != 0;
	if (t->sched_class == VMS_SCHED_DL && L->has_t_dl && L->dl_deadline.size == 8) {
		t->has_deadline = true;
		t->deadline = vms_le64(b + L->t_dl.offset + L->dl_deadline.offset);
	}
	if (L->has_on_cpu)
		t->on_cpu = vms_field_uint(b, &L->t_on_cpu) != 0;
	return NULL;
}

static void emit(struct rqwalk *w, struct vms_rq_task *t)
{
	struct vms_runqueue *R = &w->rq;
	w->res->count++;
	if (!t->current)
		R->queued++;
	/* A dequeued (throttled) top rt_rq keeps its tasks listed but not
	 * counted.  CONFIG_RT_GROUP_SCHED's per-group throttling is not
	 * modelled: Debian's kernels are built without it. */
	if (t->sched_class == VMS_SCHED_RT && R->has_rt_queued && !R->rt_queued &&
	    R->rt_nr_running)
		t->rt_throttled = true;
	if (!t->rt_throttled && !(t->current && t->sched_class == VMS_SCHED_IDLE))
		R->nr_tasks_counted++;
	if (w->task_fn && w->task_fn(t, w->arg))
		w->stop = true;
}

/* A task found in a queue at @task (container_of already applied). */
static bool queued_task(struct rqwalk *w, uint64_t task, unsigned depth,
			const char *what, int32_t rt_list)
{
	if (task == w->rq.curr) {
		w->rq.curr_queued = true;  /* RT and DL keep curr queued */
		w->rq.curr_rt_list = rt_list;
		return true;
	}
	struct vms_rq_task t;
	struct vms_error *err = read_task(w, task, &t);
	if (err) {
		truncate_walk(w, "the %s points to unreadable task 0x%llx (%s)", what,
			      (unsigned long long)task, err->message);
		vms_error_free(err);
		return false;
	}
	t.queued = true;
	t.group_depth = depth;
	t.rt_list = rt_list;
	emit(w, &t);
	return !w->stop;
}

struct rb_visit {
	bool (*fn)(struct rqwalk *w, uint64_t node, void *ctx);
	void *ctx;
	const char *what;
};

/*
 * In-order walk of the rb-tree whose root node is @node.  Each node's
 * parent pointer must name the node we came from; depth, node count and
 * cycles are bounded.
 */
static bool rb_walk(struct rqwalk *w, uint64_t node, const struct rb_visit *v)
{
	const struct sched_layout *L = &w->L;
	struct { uint64_t node, right; } stack[RB_MAX_DEPTH];
	unsigned sp = 0;
	uint64_t parent = 0;
	uint8_t nb[64];
	size_t nsize = 0;
	const struct vms_field *fs[3] = { &L->rb_pc, &L->rb_left, &L->rb_right };
	for (int i = 0; i < 3; i++)
		if (fs[i]->offset + 8 > nsize)
			nsize = fs[i]->offset + 8;
	if (nsize > sizeof(nb)) {
		truncate_walk(w, "rb_node layout from BTF is %zu bytes: too large", nsize);
		return false;
	}
	while (node || sp) {
		while (node) {
			if (sp == RB_MAX_DEPTH) {
				truncate_walk(w, "the %s is deeper than %u levels at 0x%llx",
					      v->what, RB_MAX_DEPTH, (unsigned long long)node);
				return false;
			}
			if (!count_node(w, node, v->what))
				return false;
			struct vms_error *err = vms_kernel_read(w->k, node, nb, nsize);
			if (err) {
				truncate_walk(w, "the %s points to unreadable memory at 0x%llx (%s)",
					      v->what, (unsigned long long)node, err->message);
				vms_error_free(err);
				return false;
			}
			uint64_t up = vms_le64(nb + L->rb_pc.offset) & ~3ull;
			if (up != parent) {
				truncate_walk(w, "broken parent link in the %s at 0x%llx "
					      "(its parent is 0x%llx, expected 0x%llx)", v->what,
					      (unsigned long long)node, (unsigned long long)up,
					      (unsigned long long)parent);
				return false;
			}
			stack[sp].node = node;
			stack[sp].right = vms_le64(nb + L->rb_right.offset);
			sp++;
			parent = node;
			node = vms_le64(nb + L->rb_left.offset);
		}
		sp--;
		if (!v->fn(w, stack[sp].node, v->ctx))
			return false;
		parent = stack[sp].node;
		node = stack[sp].right;
	}
	return true;
}

static bool walk_cfs(struct rqwalk *w, uint64_t cfs_rq, unsigned depth);

/* A sched_entity of a cfs_rq: a task, or a group to descend into. */
static bool cfs_entity(struct rqwalk *w, uint64_t se, unsigned depth,
		       bool running, const char *what)
{
	const struct sched_layout *L = &w->L;
	uint64_t my_q = 0;
	if (L->has_my_q) {
		struct vms_error *err = vms_kernel_read_u64(w->k, se + L->se_my_q.offset, &my_q);
		if (err) {
			truncate_walk(w, "the %s holds unreadable entity 0x%llx (%s)", what,
				      (unsigned long long)se, err->message);
			vms_error_free(err);
			return false;
		}
	}
	if (my_q)
		return walk_cfs(w, my_q, depth + 1);
	/* The fair class takes its running entity out of the tree. */
	if (running && se - L->t_se.offset == w->rq.curr)
		return true;
	return queued_task(w, se - L->t_se.offset, depth, what, -1);
}

struct cfs_ctx {
	unsigned depth;
};

static bool cfs_node(struct rqwalk *w, uint64_t node, void *ctx)
{
	const struct cfs_ctx *c = ctx;
	return cfs_entity(w, node - w->L.se_run_node.offset, c->depth, false, "CFS tree");
}

/* The tasks of one cfs_rq: its tree, then its running entity when that is
 * a group (whose queue holds waiting tasks) or a task other than rq->curr. */
static bool walk_cfs(struct rqwalk *w, uint64_t cfs_rq, unsigned depth)
{
	const struct sched_layout *L = &w->L;
	if (depth > MAX_GROUP_DEPTH) {
		truncate_walk(w, "task groups nested deeper than %u levels at cfs_rq 0x%llx",
			      MAX_GROUP_DEPTH, (unsigned long long)cfs_rq);
		return false;
	}
	if (depth && !count_node(w, cfs_rq, "task-group hierarchy"))
		return false;
	uint64_t root, curr;
	struct vms_error *err;
	if ((err = vms_kernel_read_u64(w->k, cfs_rq + L->cfs_root.offset, &root)) ||
	    (err = vms_kernel_read_u64(w->k, cfs_rq + L->cfs_curr.offset, &curr))) {
		truncate_walk(w, "cfs_rq at 0x%llx unreadable (%s)",
			      (unsigned long long)cfs_rq, err->message);
		vms_error_free(err);
		return false;
	}
	struct cfs_ctx c = { depth };
	struct rb_visit v = { cfs_node, &c, "CFS tree" };
	if (!rb_walk(w, root, &v))
		return false;
	if (!curr)
		return true;
	if (!count_node(w, curr, "CFS running entity"))
		return false;
	return cfs_entity(w, curr, depth, true, "CFS running entity");
}

static bool walk_rt(struct rqwalk *w, uint64_t rt_rq, unsigned depth)
{
	const struct sched_layout *L = &w->L;
	if (depth > MAX_GROUP_DEPTH) {
		truncate_walk(w, "RT groups nested deeper than %u levels at rt_rq 0x%llx",
			      MAX_GROUP_DEPTH, (unsigned long long)rt_rq);
		return false;
	}
	uint64_t base = rt_rq + L->rt_active.offset + L->rta_queue.offset;
	size_t qsize = (size_t)L->rt_nq * 16;
	uint8_t *q = malloc(qsize);
	if (!q) {
		truncate_walk(w, "out of memory for the RT queue of 0x%llx",
			      (unsigned long long)rt_rq);
		return false;
	}
	struct vms_error *err = vms_kernel_read(w->k, base, q, qsize);
	if (err) {
		truncate_walk(w, "RT queue at 0x%llx unreadable (%s)",
			      (unsigned long long)base, err->message);
		vms_error_free(err);
		free(q);
		return false;
	}
	bool ok = true;
	for (uint32_t i = 0; ok && i < L->rt_nq && !w->stop; i++) {
		uint64_t head = base + 16ull * i, prev = head;
		uint64_t node = vms_le64(q + 16 * i + L->lh_next.offset);
		char what[48];
		snprintf(what, sizeof(what), "RT queue of priority %u", i);
		while (ok && node != head && !w->stop) {
			if (!count_node(w, node, what)) {
				ok = false;
				break;
			}
			uint8_t lh[16];
			if ((err = vms_kernel_read(w->k, node, lh, sizeof(lh)))) {
				truncate_walk(w, "the %s points to unreadable memory at 0x%llx (%s)",
					      what, (unsigned long long)node, err->message);
				vms_error_free(err);
				ok = false;
				break;
			}
			uint64_t back = vms_le64(lh + L->lh_prev.offset);
			if (back != prev) {
				truncate_walk(w, "broken link in the %s at 0x%llx "
					      "(its prev is 0x%llx, expected 0x%llx)", what,
					      (unsigned long long)node, (unsigned long long)back,
					      (unsigned long long)prev);
				ok = false;
				break;
			}
			uint64_t rt_se = node - L->rt_run_list.offset, my_q = 0;
			if (L->has_rt_my_q &&
			    !vms_ok(vms_kernel_read_u64(w->k, rt_se + L->rt_my_q.offset, &my_q)))
				my_q = 0;
			if (my_q)
				ok = walk_rt(w, my_q, depth + 1);
			else
				ok = queued_task(w, rt_se - L->t_rt.offset, depth, what,
						 (int32_t)i);
			prev = node;
			node = vms_le64(lh + L->lh_next.offset);
		}
	}
	free(q);
	return ok;
}

static bool dl_node(struct rqwalk *w, uint64_t node, void *ctx)
{
	const struct sched_layout *L = &w->L;
	(void)ctx;
	uint64_t dl_se = node - L->dl_rb_node.offset;
	/* 6.8+ deadline servers (rq->fair_server, ...) run a class, not a task:
	 * counted and named, not listed. */
	if (L->has_fair_server && dl_se == w->rq.addr + L->rq_fair_server.offset) {
		w->rq.servers_queued++;
		return true;
	}
	if (L->has_dl_server) {
		uint8_t b[8];
		struct vms_field f = L->dl_server;
		f.offset = 0;
		if (vms_ok(vms_kernel_read(w->k, dl_se + L->dl_server.offset, b, sizeof(b))) &&
		    vms_field_bits(b, sizeof(b), &f)) {
			w->rq.servers_queued++;
			return true;
		}
	}
	return queued_task(w, dl_se - L->t_dl.offset, 0, "deadline tree", -1);
}

/* RT bandwidth state of the top rt_rq at @rt. */
static void read_rt_bandwidth(struct rqwalk *w, uint64_t rt)
{
	const struct sched_layout *L = &w->L;
	struct vms_runqueue *R = &w->rq;
	uint32_t v32;
	uint64_t v64;
	if (L->has_rt_queued &&
	    vms_ok(vms_kernel_read_u32(w->k, rt + L->rt_queued.offset, &v32))) {
		R->has_rt_queued = true;
		R->rt_queued = v32 != 0;
	}
	if (L->has_rt_throttled &&
	    vms_ok(vms_kernel_read_u32(w->k, rt + L->rt_throttled.offset, &v32))) {
		R->has_rt_throttled = true;
		R->rt_throttled = v32 != 0;
	}
	if (L->has_rt_time) {
		if (vms_ok(vms_kernel_read_u64(w->k, rt + L->rt_time.offset, &v64)))
			R->rt_time = v64;
		if (vms_ok(vms_kernel_read_u64(w->k, rt + L->rt_runtime.offset, &v64)))
			R->rt_runtime = v64;
	}
}

static bool dl_bit(const struct sched_layout *L, const uint8_t *b, bool has,
		   const struct vms_field *f)
{
	return has && vms_field_bits(b, L->dl_se_size, f) != 0;
}

/* rq->fair_server: its state, and whether it is what picked rq->curr. */
static void read_fair_server(struct rqwalk *w, uint64_t curr_dl_server,
			     enum vms_sched_class curr_class)
{
	const struct sched_layout *L = &w->L;
	struct vms_runqueue *R = &w->rq;
	struct vms_dl_server *S = &R->fair_server;
	uint64_t addr = R->addr + L->rq_fair_server.offset;
	uint8_t b[MAX_SE_SIZE];
	if (!vms_ok(vms_kernel_read(w->k, addr, b, L->dl_se_size)))
		return;
	R->has_fair_server = true;
	S->addr = addr;
	/* RB_EMPTY_NODE(): an unlinked rb_node is its own parent. */
	uint64_t node = addr + L->dl_rb_node.offset;
	S->queued = (vms_le64(b + L->dl_rb_node.offset + L->rb_pc.offset) & ~3ull) != node;
	S->has_active = L->has_dl_server_active;
	S->active = dl_bit(L, b, L->has_dl_server_active, &L->dl_server_active);
	S->throttled = dl_bit(L, b, L->has_dl_throttled, &L->dl_throttled);
	S->defer = dl_bit(L, b, L->has_dl_defer, &L->dl_defer);
	S->defer_running = dl_bit(L, b, L->has_dl_defer_running, &L->dl_defer_running);
	if (L->has_dl_runtime)
		S->runtime = (int64_t)vms_field_uint(b, &L->dl_runtime);
	if (L->dl_deadline.size == 8)
		S->deadline = vms_le64(b + L->dl_deadline.offset);
	/* 6.8-6.15 mark the picked task (p->dl_server); later kernels mark the
	 * rq (rq->dl_server).  6.12.117 has both and sets only the first, and
	 * leaves it set when the task changes class: only a fair current
	 * counts. */
	uint64_t rq_picker = 0;
	if (L->has_rq_dl_server &&
	    !vms_ok(vms_kernel_read_u64(w->k, R->addr + L->rq_dl_server.offset, &rq_picker)))
		rq_picker = 0;
	S->running = (curr_dl_server == addr || rq_picker == addr) &&
		     R->curr && R->curr != R->idle && curr_class == VMS_SCHED_FAIR;
}

static void walk_cpu(struct rqwalk *w, unsigned cpu, uint64_t rq)
{
	const struct sched_layout *L = &w->L;
	struct vms_runqueue *R = &w->rq;
	memset(R, 0, sizeof(*R));
	R->cpu = cpu;
	R->addr = rq;
	R->curr_rt_list = -1;
	vms_addrset_init(&w->seen);
	w->nodes = 0;

	uint32_t nr = 0, v32 = 0;
	uint64_t v64;
	struct vms_error *err;
	if ((err = vms_kernel_read_u32(w->k, rq + L->rq_nr_running.offset, &nr)) ||
	    (err = vms_kernel_read_u64(w->k, rq + L->rq_curr.offset, &R->curr)) ||
	    (err = vms_kernel_read_u64(w->k, rq + L->rq_idle.offset, &R->idle))) {
		truncate_walk(w, "struct rq at 0x%llx unreadable (%s)",
			      (unsigned long long)rq, err->message);
		vms_error_free(err);
		goto done;
	}
	R->nr_running = nr;
	if (nr > MAX_TASKS) {
		R->nr_running_absurd = true;
		vms_kernel_log(w->k, VMS_LOG_WARN,
			       "CPU %u: rq->nr_running %u is absurd (more than the PID limit): ignored",
			       cpu, nr);
	}
	if (L->has_rq_stop && !vms_ok(vms_kernel_read_u64(w->k, rq + L->rq_stop.offset, &R->stop)))
		R->stop = 0;
	if (vms_ok(vms_kernel_read_u64(w->k, rq + L->rq_clock.offset, &v64)))
		R->clock = v64;
	uint64_t cfs = rq + L->rq_cfs.offset, rt = rq + L->rq_rt.offset;
	if (vms_ok(vms_kernel_read_u32(w->k, cfs + L->cfs_nr.offset, &v32)))
		R->cfs_nr_running = v32;
	if (L->has_cfs_h_nr && vms_ok(vms_kernel_read_u32(w->k, cfs + L->cfs_h_nr.offset, &v32)))
		R->cfs_h_nr_running = v32;
	if (L->has_cfs_minv && vms_ok(vms_kernel_read_u64(w->k, cfs + L->cfs_minv.offset, &v64))) {
		R->has_min_vruntime = true;
		R->min_vruntime = v64;
	}
	if (vms_ok(vms_kernel_read_u32(w->k, rt + L->rt_nr.offset, &v32)))
		R->rt_nr_running = v32;
	if (L->has_rq_dl && L->has_dl_nr &&
	    vms_ok(vms_kernel_read_u32(w->k, rq + L->rq_dl.offset + L->dl_nr.offset, &v32)))
		R->dl_nr_running = v32;
	if (L->has_current_task) {
		uint64_t pc;
		if (vms_ok(vms_kernel_percpu(w->k, cpu, L->current_task_sym, &pc)) &&
		    vms_ok(vms_kernel_read_u64(w->k, pc + L->current_task_off, &v64)))
			R->current_task = v64;
	}

	read_rt_bandwidth(w, rt);
	/* A raw spinlock (qspinlock) word is non-zero while held or contended. */
	if (L->has_rq_lock && vms_ok(vms_kernel_read_u32(w->k, rq + L->rq_lock.offset, &v32)))
		R->locked = v32 != 0;

	/* The running task. */
	uint64_t curr_dl_server = 0;
	enum vms_sched_class curr_class = VMS_SCHED_UNKNOWN;
	if (R->curr) {
		struct vms_rq_task t;
		vms_addrset_add(&w->seen, R->curr);
		if ((err = read_task(w, R->curr, &t))) {
			truncate_walk(w, "rq->curr 0x%llx unreadable (%s)",
				      (unsigned long long)R->curr, err->message);
			vms_error_free(err);
			goto done;
		}
		t.current = true;
		if (R->curr == R->idle)
			t.sched_class = VMS_SCHED_IDLE;
		if (L->has_t_dl_server && L->t_dl_server.size == 8)
			curr_dl_server = vms_le64(w->tbuf + L->t_dl_server.offset);
		curr_class = t.sched_class;
		if (L->has_ti_flags)
			R->curr_need_resched = (vms_field_bits(w->tbuf, L->task_size, &L->t_ti_flags) >>
						X86_TIF_NEED_RESCHED) & 1;
		R->curr_pid = t.pid;
		memcpy(R->curr_comm, t.comm, sizeof(R->curr_comm));
		emit(w, &t);
	}
	/* Each queue ends on its own; the next one is still walked. */
	if (!w->stop)
		walk_cfs(w, cfs, 0);
	if (!w->stop)
		walk_rt(w, rt, 0);
	if (!w->stop && L->has_rq_dl) {
		uint64_t root;
		uint64_t a = rq + L->rq_dl.offset + L->dl_root.offset;
		if ((err = vms_kernel_read_u64(w->k, a, &root))) {
			truncate_walk(w, "deadline tree root at 0x%llx unreadable (%s)",
				      (unsigned long long)a, err->message);
			vms_error_free(err);
		} else {
			struct rb_visit v = { dl_node, NULL, "deadline tree" };
			rb_walk(w, root, &v);
		}
	}
	/* The stop task is in no queue: rq->stop with on_rq set. */
	if (!w->stop && R->stop && R->stop != R->curr) {
		uint32_t on_rq = 0;
		if (vms_ok(vms_kernel_read_u32(w->k, R->stop + L->t_on_rq.offset, &on_rq)) &&
		    on_rq == TASK_ON_RQ_QUEUED && count_node(w, R->stop, "stop task"))
			queued_task(w, R->stop, 0, "stop task", -1);
	}
	if (L->has_fair_server)
		read_fair_server(w, curr_dl_server, curr_class);
	if (!R->truncated && !R->nr_running_absurd && !w->stop) {
		R->servers_counted = R->servers_queued &&
				     nr == R->nr_tasks_counted + R->servers_queued;
		R->nr_running_accounted = nr == R->nr_tasks_counted || R->servers_counted;
	}
done:
	vms_addrset_free(&w->seen);
	if (!w->stop && w->rq_fn && w->rq_fn(R, w->arg))
		w->stop = true;
}

struct vms_error *vms_linux_for_each_runqueue(struct vms_kernel *k,
					      vms_runqueue_fn rq_fn,
					      vms_rq_task_fn task_fn, void *arg,
					      struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	struct rqwalk *w = calloc(1, sizeof(*w));
	if (!w)
		return &vms_error_nomem;
	w->k = k;
	w->res = res;
	w->rq_fn = rq_fn;
	w->task_fn = task_fn;
	w->arg = arg;
	struct vms_error *err = layout(w);
	uint64_t runqueues = 0;
	if (!err)
		err = vms_kernel_symbol(k, "runqueues", &runqueues);
	if (err) {
		free(w);
		return vms_error_wrap(err, "runqueues");
	}
	static const struct { const char *name; enum vms_sched_class cls; } cls[] = {
		{ "stop_sched_class", VMS_SCHED_STOP }, { "dl_sched_class", VMS_SCHED_DL },
		{ "rt_sched_class", VMS_SCHED_RT }, { "fair_sched_class", VMS_SCHED_FAIR },
		{ "ext_sched_class", VMS_SCHED_EXT }, { "idle_sched_class", VMS_SCHED_IDLE },
	};
	for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++) {
		w->classes[i].name = cls[i].name;
		w->classes[i].cls = cls[i].cls;
		if (!vms_ok(vms_kernel_symbol(k, cls[i].name, &w->classes[i].addr)))
			w->classes[i].addr = 0;
	}
	w->tbuf = malloc(w->L.task_size);
	if (!w->tbuf) {
		free(w);
		return &vms_error_nomem;
	}
	unsigned ncpu = vms_kernel_info(k)->nr_cpu_ids;
	for (unsigned cpu = 0; cpu < ncpu && !w->stop; cpu++) {
		uint64_t rq;
		if ((err = vms_kernel_percpu(k, cpu, runqueues, &rq))) {
			if (cpu == 0) {
				free(w->tbuf);
				free(w);
				return vms_error_wrap(err, "runqueues of CPU 0");
			}
			w->rq.cpu = cpu;
			truncate_walk(w, "no runqueue address (%s)", err->message);
			vms_error_free(err);
			continue;
		}
		walk_cpu(w, cpu, rq);
	}
	free(w->tbuf);
	free(w);
	return NULL;
}
