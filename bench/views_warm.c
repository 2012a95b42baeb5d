// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Warm cost of each view: discover the kernel once, then time repeated
 * library calls (mean of N runs).  bench/views.py runs it beside the cold
 * (fresh process) timings.
 *     views_warm SOURCE [RUNS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <vmsight/kernel.h>
#include <vmsight/linux.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_task(const struct vms_task *t, void *arg)
{
	(void)t;
	++*(size_t *)arg;
	return 0;
}

struct vm_ctx {
	struct vms_kernel *k;
	size_t n;
};

static int count_vma(const struct vms_vma *v, void *arg)
{
	(void)v;
	++*(size_t *)arg;
	return 0;
}

static int count_fd(const struct vms_fd *f, void *arg)
{
	(void)f;
	++*(size_t *)arg;
	return 0;
}

static int per_task_maps(const struct vms_task *t, void *arg)
{
	struct vm_ctx *c = arg;
	struct vms_walk_result res;
	if (t->mm)
		vms_error_free(vms_linux_for_each_vma(c->k, t, count_vma, &c->n, &res));
	return 0;
}

static int per_task_fds(const struct vms_task *t, void *arg)
{
	struct vm_ctx *c = arg;
	struct vms_walk_result res;
	vms_error_free(vms_linux_for_each_fd(c->k, t, count_fd, &c->n, &res));
	return 0;
}

static int per_task_cmdline(const struct vms_task *t, void *arg)
{
	struct vm_ctx *c = arg;
	struct vms_walk_result res;
	uint8_t *buf;
	size_t len;
	if (!vms_linux_cmdline(c->k, t, 1 << 17, &buf, &len, &res)) {
		c->n += len;
		free(buf);
	}
	return 0;
}

static int count_mod(const struct vms_module *m, void *arg)
{
	(void)m;
	++*(size_t *)arg;
	return 0;
}

static int count_printk(const struct vms_printk_record *r, void *arg)
{
	(void)r;
	++*(size_t *)arg;
	return 0;
}

static int count_rq(const struct vms_runqueue *rq, void *arg)
{
	(void)rq;
	++*(size_t *)arg;
	return 0;
}

static int count_rqt(const struct vms_rq_task *t, void *arg)
{
	(void)t;
	++*(size_t *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: views_warm SOURCE [RUNS]\n");
		return 64;
	}
	int runs = argc > 2 ? atoi(argv[2]) : 20;
	struct vms_source *src;
	struct vms_kernel *k;
	struct vms_error *err = vms_source_open(argv[1], &src);
	if (!err)
		err = vms_kernel_open(src, NULL, &k);
	if (err) {
		fprintf(stderr, "views_warm: %s\n", err->message);
		return 2;
	}
	const char *names[] = { "ps", "ps --threads", "cmdline (all)", "maps (all)",
				"fds (all)", "lsmod", "dmesg", "runq" };
	for (int view = 0; view < 8; view++) {
		size_t n = 0;
		struct vms_walk_result res;
		double t0 = now();
		for (int r = 0; r < runs; r++) {
			struct vm_ctx c = { k, 0 };
			switch (view) {
			case 0: err = vms_linux_for_each_task(k, 0, count_task, &n, &res); break;
			case 1: err = vms_linux_for_each_task(k, VMS_TASKS_THREADS, count_task, &n, &res); break;
			case 2: err = vms_linux_for_each_task(k, 0, per_task_cmdline, &c, &res); break;
			case 3: err = vms_linux_for_each_task(k, 0, per_task_maps, &c, &res); break;
			case 4: err = vms_linux_for_each_task(k, 0, per_task_fds, &c, &res); break;
			case 5: err = vms_linux_for_each_module(k, count_mod, &n, &res); break;
			case 6: err = vms_linux_for_each_printk(k, count_printk, &n, &res); break;
			case 7: err = vms_linux_for_each_runqueue(k, count_rq, count_rqt, &n, &res); break;
			}
			vms_error_free(err);
			n += c.n;
		}
		printf("%-16s %9.3f ms warm (mean of %d)\n", names[view],
		       (now() - t0) * 1000 / runs, runs);
	}
	vms_kernel_close(k);
	vms_source_close(src);
	return 0;
}
