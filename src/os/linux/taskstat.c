// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Per-task counters as /proc/PID/stat shows them: priority, nice, policy,
 * CPU time (se.sum_exec_runtime, which is what utime+stime add up to after
 * the kernel's cputime_adjust()), start time and resident memory
 * (mm->rss_stat: atomic counters up to 6.1, percpu_counters from 6.2,
 * whose central count is what get_mm_counter() reads too).  A process's
 * figures are its group's: every live thread plus signal_struct's totals
 * of the threads that exited.
 */
#include <string.h>

#include "os/linux/kernel_internal.h"
#include "os/linux/taskstat.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_THREADS (4u << 20)   /* PID_MAX_LIMIT */

static bool have(struct vms_kernel *k, const char *s, const char *m, struct vms_field *f)
{
	return vms_ok(vms_kernel_field(k, s, m, f));
}

static bool inside(const struct vms_field *f, size_t need, size_t size)
{
	size_t sz = f->size > need ? f->size : need;
	return f->offset <= size && sz <= size - f->offset;
}

struct vms_error *vms_taskstat_layout(struct vms_kernel *k, size_t task_size,
				      struct taskstat_layout *L)
{
	struct vms_error *err;
	memset(L, 0, sizeof(*L));
	if ((err = vms_kernel_field(k, "task_struct", "prio", &L->prio)) ||
	    (err = vms_kernel_field(k, "task_struct", "static_prio", &L->static_prio)) ||
	    (err = vms_kernel_field(k, "task_struct", "policy", &L->policy)) ||
	    (err = vms_kernel_field(k, "task_struct", "se.sum_exec_runtime", &L->runtime)) ||
	    (err = vms_kernel_field(k, "task_struct", "utime", &L->utime)) ||
	    (err = vms_kernel_field(k, "task_struct", "stime", &L->stime)) ||
	    (err = vms_kernel_field(k, "task_struct", "start_time", &L->start_time)) ||
	    (err = vms_kernel_field(k, "mm_struct", "total_vm", &L->total_vm)))
		return err;
	const struct vms_field *fs[] = { &L->prio, &L->static_prio, &L->policy,
					 &L->runtime, &L->utime, &L->stime, &L->start_time };
	for (size_t i = 0; i < sizeof(fs) / sizeof(fs[0]); i++)
		if (!inside(fs[i], 4, task_size))
			return vms_error_create(VMS_ERR_CORRUPT,
				"BTF layout of task_struct is inconsistent: a scheduling "
				"counter at %u lies outside its %zu bytes", fs[i]->offset, task_size);
	L->has_threads = have(k, "task_struct", "signal", &L->signal) &&
			 have(k, "task_struct", "thread_node", &L->thread_node) &&
			 have(k, "signal_struct", "thread_head", &L->thread_head) &&
			 inside(&L->signal, 8, task_size) && inside(&L->thread_node, 16, task_size);
	L->has_signal_totals = L->has_threads &&
			       have(k, "signal_struct", "sum_sched_runtime", &L->sig_runtime) &&
			       have(k, "signal_struct", "utime", &L->sig_utime) &&
			       have(k, "signal_struct", "stime", &L->sig_stime);

	/* mm->rss_stat: struct mm_rss_stat { atomic_long_t count[N]; } (<= 6.1)
	 * or struct percpu_counter rss_stat[N] (6.2+). */
	int64_t n = 0;
	struct vms_field cnt;
	L->has_rss = vms_ok(vms_kernel_enum_value(k, "NR_MM_COUNTERS", &n)) &&
		     n > 0 && n <= 16 &&
		     vms_ok(vms_kernel_enum_value(k, "MM_FILEPAGES", &L->mm_file)) &&
		     vms_ok(vms_kernel_enum_value(k, "MM_ANONPAGES", &L->mm_anon)) &&
		     vms_ok(vms_kernel_enum_value(k, "MM_SHMEMPAGES", &L->mm_shmem)) &&
		     have(k, "mm_struct", "rss_stat", &L->rss);
	if (L->has_rss) {
		L->rss_n = (uint32_t)n;
		if (have(k, "mm_struct", "rss_stat.count", &cnt)) {
			L->rss_stride = 8;
			L->rss_count_off = cnt.offset - L->rss.offset;
		} else if (have(k, "percpu_counter", "count", &cnt) && L->rss.size % n == 0) {
			L->rss_stride = L->rss.size / (uint32_t)n;
			L->rss_count_off = cnt.offset;
		} else {
			L->has_rss = false;
		}
		if (L->rss_stride < 8 || L->rss_count_off + 8 > L->rss_stride ||
		    L->mm_file < 0 || L->mm_file >= n || L->mm_anon < 0 || L->mm_anon >= n ||
		    L->mm_shmem < 0 || L->mm_shmem >= n)
			L->has_rss = false;
	}
	return NULL;
}

static uint64_t u64_at(const uint8_t *buf, const struct vms_field *f)
{
	return f->size == 8 ? vms_le64(buf + f->offset) : vms_field_uint(buf, f);
}

/* Resident pages and total_vm of mm @mm. */
static bool read_mm(struct vms_kernel *k, const struct taskstat_layout *L, uint64_t mm,
		    struct vms_task *t)
{
	uint64_t v;
	if (!vms_ok(vms_kernel_read_u64(k, mm + L->total_vm.offset, &v)))
		return false;
	t->vm_pages = v;
	if (!L->has_rss)
		return true;
	const int64_t idx[] = { L->mm_file, L->mm_anon, L->mm_shmem };
	uint64_t rss = 0;
	for (size_t i = 0; i < 3; i++) {
		uint64_t a = mm + L->rss.offset + (uint64_t)idx[i] * L->rss_stride +
			     L->rss_count_off;
		if (!vms_ok(vms_kernel_read_u64(k, a, &v)))
			return false;
		/* Counters may dip below zero transiently (percpu batches):
		 * get_mm_counter() reads them as 0 then. */
		if ((int64_t)v > 0)
			rss += v;
	}
	t->rss_pages = rss;
	return true;
}

/* Add the counters of @leader's other threads and of its group's dead ones. */
static bool add_group(struct vms_kernel *k, const struct taskstat_layout *L,
		      uint64_t leader, uint64_t signal, struct vms_task *t)
{
	if (L->has_signal_totals) {
		uint64_t r, u, s;
		if (!vms_ok(vms_kernel_read_u64(k, signal + L->sig_runtime.offset, &r)) ||
		    !vms_ok(vms_kernel_read_u64(k, signal + L->sig_utime.offset, &u)) ||
		    !vms_ok(vms_kernel_read_u64(k, signal + L->sig_stime.offset, &s)))
			return false;
		t->runtime_ns += r;
		t->utime_ns += u;
		t->stime_ns += s;
	}
	uint64_t head = signal + L->thread_head.offset, node;
	if (!vms_ok(vms_kernel_read_u64(k, head, &node)))
		return false;
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	bool ok = true;
	for (size_t n = 0; node != head; n++) {
		uint64_t task = node - L->thread_node.offset, r, u, s;
		if (n >= MAX_THREADS || vms_addrset_add(&seen, task) != 1) {
			ok = false;   /* a cycle or an absurd length */
			break;
		}
		if (task != leader) {
			if (!vms_ok(vms_kernel_read_u64(k, task + L->runtime.offset, &r)) ||
			    !vms_ok(vms_kernel_read_u64(k, task + L->utime.offset, &u)) ||
			    !vms_ok(vms_kernel_read_u64(k, task + L->stime.offset, &s))) {
				ok = false;
				break;
			}
			t->runtime_ns += r;
			t->utime_ns += u;
			t->stime_ns += s;
		}
		if (!vms_ok(vms_kernel_read_u64(k, node, &node))) {
			ok = false;
			break;
		}
	}
	vms_addrset_free(&seen);
	return ok;
}

void vms_taskstat_fill(struct vms_kernel *k, const struct taskstat_layout *L,
		       const uint8_t *buf, bool group, struct vms_task *t)
{
	t->has_stats = true;
	t->prio = (int32_t)vms_field_uint(buf, &L->prio);
	t->nice = (int32_t)vms_field_uint(buf, &L->static_prio) - 120;
	t->policy = (uint32_t)vms_field_uint(buf, &L->policy);
	t->runtime_ns = u64_at(buf, &L->runtime);
	t->utime_ns = u64_at(buf, &L->utime);
	t->stime_ns = u64_at(buf, &L->stime);
	t->start_time_ns = u64_at(buf, &L->start_time);
	if (t->mm && !read_mm(k, L, t->mm, t))
		t->stats_partial = true;
	if (group && L->has_threads) {
		uint64_t signal = vms_le64(buf + L->signal.offset);
		if (signal && !add_group(k, L, t->addr, signal, t))
			t->stats_partial = true;
	}
}
