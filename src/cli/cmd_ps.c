// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight ps: the guest's processes (or threads), read from its memory. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "commands.h"
#include "util/vec.h"
#include "target.h"
#include "tasksel.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight ps [--threads] [-p PID[,PID...]] [--json] [-v] SOURCE\n"
		"List the guest's processes from its task list, sorted by PID.\n"
		"  -T, --threads  one line per thread (TID column)\n"
		"  -p PID         only these processes (with -T: their threads)\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok, 2 error, 3 list printed but the walk stopped early\n"
		"on corrupt guest data (a warning says where).\n");
}

struct task_vec {
	struct vms_task *v;
	size_t n, cap;
	bool oom;
};

static int collect(const struct vms_task *t, void *arg)
{
	struct task_vec *tv = arg;
	if (!vms_vec_append((void **)&tv->v, &tv->n, &tv->cap, sizeof(*t), t)) {
		tv->oom = true;
		return 1;
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct vms_task *x = a, *y = b;
	if (x->tgid != y->tgid)
		return x->tgid < y->tgid ? -1 : 1;
	/* The group leader first, then threads by TID. */
	if ((x->pid == x->tgid) != (y->pid == y->tgid))
		return x->pid == x->tgid ? -1 : 1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void print_json(const struct vms_task *t)
{
	struct json_object *o = json_object_new_object();
	char addr[24];
	snprintf(addr, sizeof(addr), "0x%llx", (unsigned long long)t->addr);
	char st[2] = { t->state, 0 };
	json_object_object_add(o, "pid", json_object_new_int(t->tgid));
	json_object_object_add(o, "tid", json_object_new_int(t->pid));
	json_object_object_add(o, "ppid", json_object_new_int(t->ppid));
	json_object_object_add(o, "state", json_object_new_string(st));
	json_object_object_add(o, "uid", json_object_new_int64(t->uid));
	json_object_object_add(o, "euid", json_object_new_int64(t->euid));
	json_object_object_add(o, "gid", json_object_new_int64(t->gid));
	json_object_object_add(o, "comm", json_object_new_string(t->comm));
	json_object_object_add(o, "task_comm", json_object_new_string(t->base_comm));
	json_object_object_add(o, "kthread", json_object_new_boolean(t->kthread));
	json_object_object_add(o, "threads", json_object_new_int((int)t->nr_threads));
	json_object_object_add(o, "cpu", json_object_new_int(t->cpu));
	json_object_object_add(o, "flags", json_object_new_int64(t->flags));
	json_object_object_add(o, "task", json_object_new_string(addr));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

int cmd_ps(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight ps" };
	bool threads = false;
	static const struct option opts[] = {
		{ "threads", no_argument, NULL, 'T' },
		{ "pid", required_argument, NULL, 'p' },
		{ 0 }
	};
	int c;
	struct tasksel sel = { 0 };
	while ((c = cli_getopt(&t, argc, argv, "Tp:", opts)) != -1) {
		switch (c) {
		case 'T': threads = true; break;
		case 'p':
			if (!tasksel_add(&sel, optarg)) {
				fprintf(stderr, "%s: bad PID list '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}

	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	struct task_vec tv = { 0 };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_task(
		t.kernel, threads ? VMS_TASKS_THREADS : 0, collect, &tv, &res);
	if (err) {
		free(tv.v);
		int rc = cli_fail(&t, err);
		cli_target_close(&t);
		return rc;
	}
	if (tv.n)
		qsort(tv.v, tv.n, sizeof(*tv.v), by_pid);
	if (!t.json) {
		if (threads)
			printf("%7s %7s %7s %s %6s %s\n", "PID", "TID", "PPID", "S", "UID", "COMMAND");
		else
			printf("%7s %7s %s %6s %4s %s\n", "PID", "PPID", "S", "UID", "NLWP", "COMMAND");
	}
	for (size_t i = 0; i < tv.n; i++) {
		const struct vms_task *p = &tv.v[i];
		char comm[VMS_ESCAPE_PS_SIZE(sizeof(p->comm))];
		if (!tasksel_match(&sel, p->tgid))
			continue;
		if (t.json) {
			print_json(p);
			continue;
		}
		/* The name is the guest's: escaped as ps shows it. */
		const char *name = cli_text(&t, comm, sizeof(comm), p->comm, VMS_ESCAPE_PS);
		if (threads)
			printf("%7d %7d %7d %c %6u %s%s%s\n", p->tgid, p->pid, p->ppid,
			       p->state, p->euid, p->kthread ? "[" : "", name,
			       p->kthread ? "]" : "");
		else
			printf("%7d %7d %c %6u %4u %s%s%s\n", p->tgid, p->ppid, p->state,
			       p->euid, p->nr_threads, p->kthread ? "[" : "", name,
			       p->kthread ? "]" : "");
	}
	int rc = cli_walk_status(&t, &res, tv.oom, "task(s)");
	free(tv.v);
	cli_target_close(&t);
	return rc;
}
