// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A process's memory seen from outside: its mm_struct, its own page table,
 * and what /proc/PID/cmdline and /proc/PID/environ would return.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "arch/x86_64.h"
#include "os/linux/kernel_internal.h"
#include "util/bytes.h"
#include "util/consume.h"

struct find_ctx {
	int32_t tid;
	struct vms_task *out;
	bool found;
};

static int find_cb(const struct vms_task *t, void *arg)
{
	struct find_ctx *c = arg;
	if (t->pid != c->tid)
		return 0;
	*c->out = *t;
	c->found = true;
	return 1;
}

struct vms_error *vms_linux_find_task(struct vms_kernel *k, int32_t tid,
				      struct vms_task *out)
{
	struct find_ctx c = { tid, out, false };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_task(k, VMS_TASKS_THREADS,
							find_cb, &c, &res);
	if (err)
		return err;
	if (!c.found)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"no task with PID %d in the guest's task list%s%s", tid,
			res.truncated ? " (the walk stopped early: " : "",
			res.truncated ? res.reason : "");
	return NULL;
}

static struct vms_error *mm_u64(struct vms_kernel *k, uint64_t mm,
				const char *member, uint64_t *val)
{
	struct vms_field f;
	struct vms_error *err = vms_kernel_field(k, "mm_struct", member, &f);
	if (err)
		return err;
	uint8_t b[8] = { 0 };
	if (f.size > 8)
		return vms_error_create(VMS_ERR_CORRUPT,
			"mm_struct.%s is %u bytes in BTF", member, f.size);
	if ((err = vms_kernel_read(k, mm + f.offset, b, f.size)))
		return vms_error_wrap(err, "mm_struct.%s at 0x%llx", member,
				      (unsigned long long)(mm + f.offset));
	*val = vms_le64(b);
	return NULL;
}

struct vms_error *vms_linux_task_mm(struct vms_kernel *k,
				    const struct vms_task *task,
				    struct vms_mm_info *out)
{
	memset(out, 0, sizeof(*out));
	out->mm = task->mm;
	if (!task->mm)
		return NULL;
	uint64_t pgd, count = 0;
	struct vms_error *err;
	if ((err = mm_u64(k, task->mm, "pgd", &pgd)) ||
	    (err = mm_u64(k, task->mm, "arg_start", &out->arg_start)) ||
	    (err = mm_u64(k, task->mm, "arg_end", &out->arg_end)) ||
	    (err = mm_u64(k, task->mm, "env_start", &out->env_start)) ||
	    (err = mm_u64(k, task->mm, "env_end", &out->env_end)) ||
	    (err = mm_u64(k, task->mm, "start_brk", &out->start_brk)) ||
	    (err = mm_u64(k, task->mm, "brk", &out->brk)) ||
	    (err = mm_u64(k, task->mm, "start_stack", &out->start_stack)))
		return vms_error_wrap(err, "task %d", task->pid);
	if (vms_ok(mm_u64(k, task->mm, "map_count", &count)))
		out->map_count = (uint32_t)count;
	if ((err = vms_kernel_translate(k, pgd, &out->pgd_paddr)))
		return vms_error_wrap(err, "task %d: page table mm->pgd 0x%llx",
				      task->pid, (unsigned long long)pgd);
	return NULL;
}

struct vms_error *vms_linux_read_user(struct vms_kernel *k,
				      const struct vms_mm_info *mm,
				      uint64_t uaddr, void *buf, size_t len)
{
	if (!mm->mm)
		return vms_error_create(VMS_ERR_INVALID,
			"a kernel thread has no user memory");
	struct vms_addrspace as;
	vms_addrspace_init(&as, k->src, mm->pgd_paddr, k->map.la57);
	return vms_addrspace_read(&as, uaddr, buf, len);
}

/* Read [start, end) page by page into a new buffer, stopping at the first
 * page that cannot be read. */
static void read_range(struct vms_kernel *k, const struct vms_mm_info *mm,
		       uint64_t start, uint64_t end, uint8_t *out, size_t *got,
		       struct vms_walk_result *res)
{
	struct vms_addrspace as;
	vms_addrspace_init(&as, k->src, mm->pgd_paddr, k->map.la57);
	*got = 0;
	uint64_t a = start;
	while (a < end) {
		size_t n = 4096 - (a & 0xfff);
		if (n > end - a)
			n = (size_t)(end - a);
		struct vms_error *err = vms_addrspace_read(&as, a, out + (a - start), n);
		if (err) {
			if (!res->truncated) {
				res->truncated = true;
				snprintf(res->reason, sizeof(res->reason),
					 "user memory at 0x%llx unreadable after %llu bytes (%s)",
					 (unsigned long long)a,
					 (unsigned long long)(a - start), err->message);
			}
			vms_error_free(err);
			break;
		}
		a += n;
	}
	*got = (size_t)(a - start);
}

/* Clamp a guest-supplied [start, end) to @max bytes, noting why. */
static bool clamp(uint64_t start, uint64_t *end, size_t max, const char *what,
		  struct vms_walk_result *res)
{
	if (*end < start) {
		res->truncated = true;
		snprintf(res->reason, sizeof(res->reason),
			 "%s start 0x%llx is above its end 0x%llx", what,
			 (unsigned long long)start, (unsigned long long)*end);
		return false;
	}
	if (*end - start > max) {
		res->truncated = true;
		snprintf(res->reason, sizeof(res->reason),
			 "%s is %llu bytes (0x%llx-0x%llx); read the first %zu",
			 what, (unsigned long long)(*end - start),
			 (unsigned long long)start, (unsigned long long)*end, max);
		*end = start + max;
	}
	return true;
}

static struct vms_error *read_area(struct vms_kernel *k,
				   const struct vms_mm_info *mm, uint64_t start,
				   uint64_t end, size_t max, const char *what,
				   uint8_t **buf, size_t *len,
				   struct vms_walk_result *res)
{
	*buf = NULL;
	*len = 0;
	if (!clamp(start, &end, max, what, res) || end == start)
		return NULL;
	uint8_t *b = malloc((size_t)(end - start));
	if (!b)
		return &vms_error_nomem;
	read_range(k, mm, start, end, b, len, res);
	*buf = b;
	return NULL;
}

struct vms_error *vms_linux_cmdline(struct vms_kernel *k,
				    const struct vms_task *task, size_t max,
				    uint8_t **buf, size_t *len,
				    struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	*buf = NULL;
	*len = 0;
	struct vms_mm_info mm;
	struct vms_error *err = vms_linux_task_mm(k, task, &mm);
	if (err || !mm.mm)
		return err;
	/* get_mm_cmdline(): a program may overwrite its arguments
	 * (setproctitle) into the environment area; the kernel then shows
	 * everything up to the first NUL. */
	uint8_t last = 0;
	if (mm.arg_end > mm.arg_start &&
	    vms_ok(vms_linux_read_user(k, &mm, mm.arg_end - 1, &last, 1)) && last) {
		uint64_t end = mm.env_start == mm.arg_end && mm.env_end >= mm.env_start
				       ? mm.env_end : mm.arg_end;
		if ((err = read_area(k, &mm, mm.arg_start, end, max, "command line",
				     buf, len, res)))
			return err;
		/* get_mm_proctitle(): one page from arg_start, up to and
		 * including the first NUL. */
		size_t n = *len < 4096 ? *len : 4096;
		uint8_t *nul = *buf ? memchr(*buf, 0, n) : NULL;
		*len = nul ? (size_t)(nul - *buf) + 1 : n;
		return NULL;
	}
	return read_area(k, &mm, mm.arg_start, mm.arg_end, max, "command line",
			 buf, len, res);
}

struct vms_error *vms_linux_environ(struct vms_kernel *k,
				    const struct vms_task *task, size_t max,
				    uint8_t **buf, size_t *len,
				    struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	*buf = NULL;
	*len = 0;
	struct vms_mm_info mm;
	struct vms_error *err = vms_linux_task_mm(k, task, &mm);
	if (err || !mm.mm)
		return err;
	return read_area(k, &mm, mm.env_start, mm.env_end, max, "environment",
			 buf, len, res);
}
