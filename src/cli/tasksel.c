// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util/vec.h"
#include "tasksel.h"

bool tasksel_add(struct tasksel *sel, const char *arg)
{
	const char *p = arg;
	while (*p) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < 0 || v > 0x7fffffff || sel->n >= TASKSEL_MAX)
			return false;
		sel->pids[sel->n++] = (int32_t)v;
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		p = end;
	}
	return sel->n > 0;
}

bool tasksel_match(const struct tasksel *sel, int32_t pid)
{
	if (!sel->n)
		return true;
	for (unsigned i = 0; i < sel->n; i++)
		if (sel->pids[i] == pid)
			return true;
	return false;
}

struct collect {
	const struct tasksel *sel;
	struct vms_task *v;
	size_t n, cap;
	bool oom;
};

static int collect(const struct vms_task *t, void *arg)
{
	struct collect *c = arg;
	if (!tasksel_match(c->sel, t->tgid))
		return 0;
	if (!vms_vec_append((void **)&c->v, &c->n, &c->cap, sizeof(*t), t)) {
		c->oom = true;
		return 1;
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct vms_task *x = a, *y = b;
	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

int tasksel_each(struct vms_kernel *k, const char *prog,
		 const struct tasksel *sel,
		 int (*fn)(struct vms_kernel *k, const struct vms_task *t, void *arg),
		 void *arg)
{
	struct collect c = { .sel = sel };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_task(k, 0, collect, &c, &res);
	if (err) {
		fprintf(stderr, "%s: %s\n", prog, err->message);
		vms_error_free(err);
		free(c.v);
		return EXIT_ERROR;
	}
	int rc = EXIT_OK;
	if (c.oom) {
		fprintf(stderr, "%s: out of memory listing tasks\n", prog);
		free(c.v);
		return EXIT_ERROR;
	}
	if (c.n)
		qsort(c.v, c.n, sizeof(*c.v), by_pid);
	for (unsigned i = 0; i < sel->n; i++) {
		bool found = false;
		for (size_t j = 0; j < c.n && !found; j++)
			found = c.v[j].tgid == sel->pids[i];
		if (!found) {
			fprintf(stderr, "%s: no process with PID %d in the guest\n", prog,
				sel->pids[i]);
			rc = EXIT_FINDINGS;
		}
	}
	for (size_t j = 0; j < c.n; j++) {
		int r = fn(k, &c.v[j], arg);
		if (r > rc)
			rc = r;
	}
	if (res.truncated) {
		fprintf(stderr, "%s: the task walk stopped early: %s\n", prog, res.reason);
		if (rc < EXIT_PARTIAL)
			rc = EXIT_PARTIAL;
	}
	free(c.v);
	return rc;
}
