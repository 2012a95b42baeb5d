// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CPU cost of one `vmsight top` refresh per guest, warm (after discovery):
 * for each SOURCE, discover once, refresh once, then time RUNS refreshes
 * with this thread's CPU clock.  Beside it, in the same invocation, the
 * plain process walk (what `ps` costs warm) as the baseline.
 *     top_refresh RUNS [-H] SOURCE...
 * Prints one line per guest and a total for all of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/host.h>
#include <vmsight/kernel.h>
#include <vmsight/linux.h>
#include <vmsight/top.h>

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count(const struct vms_task *t, void *arg)
{
	(void)t;
	++*(size_t *)arg;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: top_refresh RUNS [-H] SOURCE...\n");
		return 64;
	}
	int runs = atoi(argv[1]), first = 2;
	bool threads = false;
	if (!strcmp(argv[2], "-H")) {
		threads = true;
		first = 3;
	}
	double all_top = 0, all_walk = 0;
	for (int i = first; i < argc; i++) {
		struct vms_source *src;
		struct vms_kernel *k;
		struct vms_top *top;
		const struct vms_top_snapshot *s;
		struct vms_error *err;
		if ((err = vms_source_open(argv[i], &src)) ||
		    (err = vms_kernel_open(src, NULL, &k))) {
			fprintf(stderr, "%s: %s\n", argv[i], err->message);
			return 2;
		}
		struct vms_top_options o = { .threads = threads,
					     .host_pid = vms_host_pid_for_spec(NULL, argv[i]) };
		if ((err = vms_top_new(k, &o, &top)) || (err = vms_top_refresh(top, &s))) {
			fprintf(stderr, "%s: %s\n", argv[i], err->message);
			return 2;
		}
		double t0 = cpu_now();
		for (int r = 0; r < runs; r++)
			if ((err = vms_top_refresh(top, &s))) {
				fprintf(stderr, "%s: %s\n", argv[i], err->message);
				return 2;
			}
		double t_top = (cpu_now() - t0) / runs;
		size_t n = 0;
		struct vms_walk_result res;
		t0 = cpu_now();
		for (int r = 0; r < runs; r++)
			if ((err = vms_linux_for_each_task(k, threads ? VMS_TASKS_THREADS : 0,
							   count, &n, &res))) {
				fprintf(stderr, "%s: %s\n", argv[i], err->message);
				return 2;
			}
		double t_walk = (cpu_now() - t0) / runs;
		printf("%s: %zu rows, %u CPUs: refresh %.3f ms CPU, task walk %.3f ms "
		       "(refresh/walk %.2f)\n", argv[i], s->nr_tasks_listed, s->nr_cpus,
		       t_top * 1e3, t_walk * 1e3, t_walk > 0 ? t_top / t_walk : 0);
		all_top += t_top;
		all_walk += t_walk;
		vms_top_free(top);
		vms_kernel_close(k);
		vms_source_close(src);
	}
	printf("all %d guest(s): refresh %.3f ms CPU, task walks %.3f ms\n", argc - first,
	       all_top * 1e3, all_walk * 1e3);
	return 0;
}
