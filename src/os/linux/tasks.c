// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The task list: init_task.tasks links every thread-group leader; each
 * group's threads hang off signal->thread_head through thread_node.
 * Offsets come from BTF; the flag and state values below are the kernel's
 * user-visible ABI (unchanged since 4.14) and are not in BTF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "os/linux/kernel_internal.h"
#include "os/linux/taskstat.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define PF_WQ_WORKER 0x00000020
#define PF_KTHREAD   0x00200000

#define TASK_REPORT      0x7f
#define TASK_NOLOAD      0x0400
#define TASK_UNINTERRUPTIBLE 0x0002
#define TASK_RTLOCK_WAIT 0x1000

#define MAX_TASKS (4u << 20)           /* PID_MAX_LIMIT */
#define MAX_TASK_STRUCT (64u << 10)

struct task_layout {
	size_t size;
	struct vms_field tasks, pid, tgid, comm, real_parent, cred, state,
		exit_state, flags, mm, signal, thread_node, cpu, worker_private;
	bool has_cpu, has_worker_private, has_threads;
	struct vms_field thread_head, nr_threads;  /* in signal_struct */
	bool has_nr_threads;
	struct vms_field cred_uid, cred_euid, cred_gid;
	struct vms_field kthread_data;      /* struct kthread.data */
	struct vms_field kthread_full_name; /* struct kthread.full_name (5.17+) */
	bool has_full_name;
	struct vms_field worker_desc, worker_current_work, worker_pool;
	bool has_worker;
};

struct walk {
	struct vms_kernel *k;
	struct task_layout L;
	struct taskstat_layout SL;   /* with VMS_TASKS_STATS */
	uint8_t *buf;
	struct vms_addrset seen;
	struct vms_walk_result *res;
	uint64_t init_task;
	unsigned flags;
	vms_task_fn fn;
	void *arg;
};

static struct vms_error *need(struct vms_kernel *k, const char *s,
			      const char *m, struct vms_field *f)
{
	return vms_kernel_field(k, s, m, f);
}

static struct vms_error *layout(struct vms_kernel *k, struct task_layout *L)
{
	struct vms_types *T = vms_kernel_types(k);
	struct vms_error *err;
	if ((err = vms_types_struct_size(T, "task_struct", &L->size)))
		return err;
	if (L->size > MAX_TASK_STRUCT)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF says struct task_struct is %zu bytes: too large", L->size);
	if ((err = need(k, "task_struct", "tasks", &L->tasks)) ||
	    (err = need(k, "task_struct", "pid", &L->pid)) ||
	    (err = need(k, "task_struct", "tgid", &L->tgid)) ||
	    (err = need(k, "task_struct", "comm", &L->comm)) ||
	    (err = need(k, "task_struct", "real_parent", &L->real_parent)) ||
	    (err = need(k, "task_struct", "cred", &L->cred)) ||
	    (err = need(k, "task_struct", "exit_state", &L->exit_state)) ||
	    (err = need(k, "task_struct", "flags", &L->flags)) ||
	    (err = need(k, "task_struct", "mm", &L->mm)) ||
	    (err = need(k, "cred", "uid", &L->cred_uid)) ||
	    (err = need(k, "cred", "euid", &L->cred_euid)) ||
	    (err = need(k, "cred", "gid", &L->cred_gid)))
		return err;
	/* 5.14 renamed state to __state (and made it an unsigned int). */
	if (!vms_ok(need(k, "task_struct", "__state", &L->state)) &&
	    (err = need(k, "task_struct", "state", &L->state)))
		return err;
	L->has_threads = vms_ok(need(k, "task_struct", "signal", &L->signal)) &&
			 vms_ok(need(k, "task_struct", "thread_node", &L->thread_node)) &&
			 vms_ok(need(k, "signal_struct", "thread_head", &L->thread_head));
	L->has_nr_threads = vms_ok(need(k, "signal_struct", "nr_threads", &L->nr_threads));
	L->has_cpu = vms_ok(need(k, "task_struct", "thread_info.cpu", &L->cpu)) ||
		     vms_ok(need(k, "task_struct", "cpu", &L->cpu));
	L->has_worker_private = vms_ok(need(k, "task_struct", "worker_private",
					    &L->worker_private));
	L->has_full_name = L->has_worker_private &&
			   vms_ok(need(k, "kthread", "full_name", &L->kthread_full_name));
	L->has_worker = L->has_worker_private &&
			vms_ok(need(k, "kthread", "data", &L->kthread_data)) &&
			vms_ok(need(k, "worker", "desc", &L->worker_desc)) &&
			vms_ok(need(k, "worker", "current_work", &L->worker_current_work)) &&
			vms_ok(need(k, "worker", "pool", &L->worker_pool));
	/* Every member read from the task copy must lie inside it, whatever
	 * the (guest-supplied) BTF says. */
	const struct { const char *name; const struct vms_field *f; size_t need; bool used; } fs[] = {
		{ "tasks", &L->tasks, 16, true },
		{ "pid", &L->pid, 4, true },
		{ "tgid", &L->tgid, 4, true },
		{ "comm", &L->comm, 16, true },
		{ "real_parent", &L->real_parent, 8, true },
		{ "cred", &L->cred, 8, true },
		{ "state", &L->state, 1, true },
		{ "exit_state", &L->exit_state, 1, true },
		{ "flags", &L->flags, 1, true },
		{ "mm", &L->mm, 8, true },
		{ "signal", &L->signal, 8, L->has_threads },
		{ "thread_node", &L->thread_node, 16, L->has_threads },
		{ "cpu", &L->cpu, 1, L->has_cpu },
		{ "worker_private", &L->worker_private, 8, L->has_worker_private },
	};
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++) {
		const struct vms_field *f = fs[i].f;
		size_t sz = f->size > fs[i].need ? f->size : fs[i].need;
		if (fs[i].used && (f->offset > L->size || sz > L->size - f->offset))
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF layout of task_struct is inconsistent: member %s at %u (%u bytes) is outside its %zu bytes",
				fs[i].name, f->offset, f->size, L->size);
	}
	return NULL;
}


char vms_linux_task_state_letter(uint32_t state, uint32_t exit_state)
{
	static const char letters[] = "RSDTtXZPI";
	uint32_t s = (state | exit_state) & TASK_REPORT;
	if ((state & (TASK_UNINTERRUPTIBLE | TASK_NOLOAD)) ==
	    (TASK_UNINTERRUPTIBLE | TASK_NOLOAD))
		s = TASK_REPORT + 1;
	else if (state == TASK_RTLOCK_WAIT)
		s = TASK_UNINTERRUPTIBLE;
	unsigned idx = s ? 32 - (unsigned)__builtin_clz(s) : 0;
	return idx < sizeof(letters) - 1 ? letters[idx] : '?';
}

static void truncate_walk(struct walk *w, const char *fmt, uint64_t addr,
			  const char *detail)
{
	if (w->res->truncated)
		return;
	w->res->truncated = true;
	snprintf(w->res->reason, sizeof(w->res->reason), fmt,
		 (unsigned long long)addr, detail ? detail : "");
	vms_kernel_log(w->k, VMS_LOG_WARN, "task walk stopped: %s", w->res->reason);
}

/* The name /proc shows for a kernel thread whose name did not fit in
 * comm: kthread->full_name (get_kthread_comm()). */
static void kthread_full_name(struct walk *w, struct vms_task *t, const uint8_t *buf)
{
	const struct task_layout *L = &w->L;
	uint64_t kthread = vms_le64(buf + L->worker_private.offset), name;
	char full[64];
	if (!kthread ||
	    !vms_ok(vms_kernel_read_u64(w->k, kthread + L->kthread_full_name.offset, &name)) ||
	    !name || !vms_ok(vms_kernel_read_string(w->k, name, full, sizeof(full))))
		return;
	snprintf(t->comm, sizeof(t->comm), "%s", full);
}

/* The name /proc shows for a workqueue worker: comm plus its last work's
 * description (wq_worker_comm()). */
static void worker_comm(struct walk *w, struct vms_task *t, const uint8_t *buf)
{
	const struct task_layout *L = &w->L;
	uint64_t kthread = vms_le64(buf + L->worker_private.offset), worker, cur, pool;
	char desc[64] = "";
	size_t dlen = L->worker_desc.size < sizeof(desc) ? L->worker_desc.size
							  : sizeof(desc) - 1;
	if (!kthread ||
	    !vms_ok(vms_kernel_read_u64(w->k, kthread + L->kthread_data.offset, &worker)) ||
	    !worker ||
	    !vms_ok(vms_kernel_read(w->k, worker + L->worker_desc.offset, desc, dlen)) ||
	    !vms_ok(vms_kernel_read_u64(w->k, worker + L->worker_current_work.offset, &cur)) ||
	    !vms_ok(vms_kernel_read_u64(w->k, worker + L->worker_pool.offset, &pool)) ||
	    !pool)  /* a rescuer between rescues: /proc shows the bare comm */
		return;
	desc[dlen] = '\0';
	if (!desc[0])
		return;
	/* /proc cuts the name at 64 bytes, like this. */
	int room = (int)(sizeof(t->comm) - strlen(t->base_comm) - 2);
	snprintf(t->comm, sizeof(t->comm), "%s%c%.*s", t->base_comm, cur ? '+' : '-',
		 room > 0 ? room : 0, desc);
}

static struct vms_error *read_task(struct walk *w, uint64_t addr,
				   struct vms_task *t)
{
	const struct task_layout *L = &w->L;
	struct vms_error *err = vms_kernel_read(w->k, addr, w->buf, L->size);
	if (err)
		return err;
	const uint8_t *b = w->buf;
	memset(t, 0, sizeof(*t));
	t->addr = addr;
	t->pid = (int32_t)vms_field_uint(b, &L->pid);
	t->tgid = (int32_t)vms_field_uint(b, &L->tgid);
	t->flags = (uint32_t)vms_field_uint(b, &L->flags);
	t->kthread = t->flags & PF_KTHREAD;
	uint32_t st = (uint32_t)vms_field_uint(b, &L->state);
	uint32_t ex = (uint32_t)vms_field_uint(b, &L->exit_state);
	t->raw_state = st | ex;
	t->state = vms_linux_task_state_letter(st, ex);
	t->mm = vms_le64(b + L->mm.offset);
	t->cpu = L->has_cpu ? (int)vms_field_uint(b, &L->cpu) : -1;
	memcpy(t->base_comm, b + L->comm.offset, 15);
	t->base_comm[15] = '\0';
	snprintf(t->comm, sizeof(t->comm), "%s", t->base_comm);
	if ((t->flags & PF_WQ_WORKER) && L->has_worker)
		worker_comm(w, t, b);
	else if (t->kthread && L->has_full_name)
		kthread_full_name(w, t, b);

	if (w->flags & VMS_TASKS_STATS)
		vms_taskstat_fill(w->k, &w->SL, b, !(w->flags & VMS_TASKS_THREADS), t);

	uint64_t parent = vms_le64(b + L->real_parent.offset);
	uint32_t ptgid = 0;
	if (parent == w->init_task) {
		t->ppid = 0;
	} else if (vms_ok(vms_kernel_read_u32(w->k, parent + L->tgid.offset, &ptgid))) {
		t->ppid = (int32_t)ptgid;
	} else {
		t->ppid = -1;
		vms_kernel_log(w->k, VMS_LOG_WARN,
			       "task %d at 0x%llx: real_parent 0x%llx unreadable",
			       t->pid, (unsigned long long)addr,
			       (unsigned long long)parent);
	}
	uint64_t cred = vms_le64(b + L->cred.offset);
	uint8_t cb[4];
	if (cred && vms_ok(vms_kernel_read(w->k, cred + L->cred_uid.offset, cb, 4))) {
		t->uid = vms_le32(cb);
		if (vms_ok(vms_kernel_read(w->k, cred + L->cred_euid.offset, cb, 4)))
			t->euid = vms_le32(cb);
		if (vms_ok(vms_kernel_read(w->k, cred + L->cred_gid.offset, cb, 4)))
			t->gid = vms_le32(cb);
	}
	return NULL;
}

/*
 * Follow one circular list of tasks.  @head is the list_head address,
 * @link the offset of the node in task_struct.  The callback sees each
 * task; the list is checked for cycles (a node seen before that is not
 * the head) and broken back links.
 */
static bool walk_list(struct walk *w, struct vms_addrset *seen, uint64_t head,
		      uint32_t link,
		      bool (*visit)(struct walk *w, struct vms_task *t))
{
	uint64_t prev = head, node;
	if (!vms_ok(vms_kernel_read_u64(w->k, head, &node))) {
		truncate_walk(w, "list head at 0x%llx unreadable%s", head, "");
		return false;
	}
	while (node != head) {
		if (w->res->count >= MAX_TASKS) {
			truncate_walk(w, "more than the kernel's PID limit of tasks (last at 0x%llx)%s",
				      node, "");
			return false;
		}
		uint64_t task = node - link;
		int added = vms_addrset_add(seen, task);
		if (added == 0) {
			truncate_walk(w, "cycle in the task list: task 0x%llx seen twice%s",
				      task, "");
			return false;
		}
		if (added < 0) {
			truncate_walk(w, "out of memory at task 0x%llx%s", task, "");
			return false;
		}
		struct vms_task t;
		struct vms_error *err = read_task(w, task, &t);
		if (err) {
			char why[160];
			snprintf(why, sizeof(why), " (%s)", err->message);
			vms_error_free(err);
			truncate_walk(w, "task list points to unreadable memory at 0x%llx%s",
				      node, why);
			return false;
		}
		uint64_t back = vms_le64(w->buf + link + 8);
		if (back != prev) {
			char why[96];
			snprintf(why, sizeof(why), " (its prev is 0x%llx, expected 0x%llx)",
				 (unsigned long long)back, (unsigned long long)prev);
			truncate_walk(w, "broken link in the task list at 0x%llx%s", node, why);
			return false;
		}
		uint64_t next = vms_le64(w->buf + link);
		if (!visit(w, &t))
			return false;
		prev = node;
		node = next;
	}
	return true;
}

static bool emit(struct walk *w, struct vms_task *t)
{
	w->res->count++;
	return w->fn(t, w->arg) == 0;
}

static bool visit_thread(struct walk *w, struct vms_task *t)
{
	return emit(w, t);
}

static bool visit_leader(struct walk *w, struct vms_task *t)
{
	const struct task_layout *L = &w->L;
	uint64_t signal = vms_le64(w->buf + L->signal.offset);
	uint32_t nr = 1;
	if (signal && L->has_nr_threads &&
	    vms_ok(vms_kernel_read_u32(w->k, signal + L->nr_threads.offset, &nr)) &&
	    (nr == 0 || nr > MAX_TASKS))
		nr = 1;
	t->nr_threads = nr;
	if (!(w->flags & VMS_TASKS_THREADS) || !L->has_threads || !signal)
		return emit(w, t);
	/* Threads are reported in group order (the leader first); the
	 * thread list has its own cycle check. */
	struct vms_addrset threads;
	vms_addrset_init(&threads);
	bool ok = walk_list(w, &threads, signal + L->thread_head.offset,
			    L->thread_node.offset, visit_thread);
	vms_addrset_free(&threads);
	return ok;
}

struct vms_error *vms_linux_for_each_task(struct vms_kernel *k, unsigned flags,
					  vms_task_fn fn, void *arg,
					  struct vms_walk_result *res)
{
	struct walk w = { .k = k, .flags = flags, .fn = fn, .arg = arg, .res = res };
	memset(res, 0, sizeof(*res));
	struct vms_error *err = layout(k, &w.L);
	if (err)
		return err;
	if ((err = vms_kernel_symbol(k, "init_task", &w.init_task)))
		return err;
	if ((flags & VMS_TASKS_STATS) && (err = vms_taskstat_layout(k, w.L.size, &w.SL)))
		return err;
	w.buf = malloc(w.L.size);
	if (!w.buf)
		return &vms_error_nomem;
	vms_addrset_init(&w.seen);
	vms_addrset_add(&w.seen, w.init_task);
	walk_list(&w, &w.seen, w.init_task + w.L.tasks.offset, w.L.tasks.offset,
		  visit_leader);
	vms_addrset_free(&w.seen);
	free(w.buf);
	return NULL;
}
