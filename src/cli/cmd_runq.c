// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight runq: per CPU, the running task and the queued tasks of each
 * scheduling class, as the guest's scheduler sees them. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "commands.h"
#include "util/vec.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight runq [--json] [-v] SOURCE\n"
		"Per CPU: rq->nr_running, the running task and the tasks queued in the\n"
		"fair (CFS/EEVDF, task groups included), RT and deadline classes, with\n"
		"each task's class, prio, nice, vruntime and deadline.\n"
		"JSON Lines: one {\"kind\":\"task\"} line per task, then one\n"
		"{\"kind\":\"cpu\"} line per CPU.\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok, 2 error, 3 output printed but a queue walk stopped\n"
		"early on corrupt guest data (a warning says where).\n");
}

struct state {
	const struct cli_target *t;
	bool json;
	const char *prog;
	struct vms_rq_task *v;  /* the current CPU's tasks */
	size_t n, cap;
	bool oom;
	unsigned mismatches;
};

static int collect(const struct vms_rq_task *t, void *arg)
{
	struct state *s = arg;
	if (!vms_vec_append((void **)&s->v, &s->n, &s->cap, sizeof(*t), t)) {
		s->oom = true;
		return 1;
	}
	return 0;
}

static void hex(char *buf, size_t size, uint64_t v)
{
	snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

static void json_task(const struct vms_rq_task *t)
{
	struct json_object *o = json_object_new_object();
	char addr[24], st[2] = { t->state, 0 };
	hex(addr, sizeof(addr), t->addr);
	json_object_object_add(o, "kind", json_object_new_string("task"));
	json_object_object_add(o, "cpu", json_object_new_int((int)t->cpu));
	json_object_object_add(o, "pid", json_object_new_int(t->tgid));
	json_object_object_add(o, "tid", json_object_new_int(t->pid));
	json_object_object_add(o, "comm", json_object_new_string(t->comm));
	json_object_object_add(o, "state", json_object_new_string(st));
	json_object_object_add(o, "class",
			       json_object_new_string(vms_sched_class_name(t->sched_class)));
	json_object_object_add(o, "policy", json_object_new_int64(t->policy));
	json_object_object_add(o, "prio", json_object_new_int(t->prio));
	json_object_object_add(o, "static_prio", json_object_new_int(t->static_prio));
	json_object_object_add(o, "nice", json_object_new_int(t->nice));
	json_object_object_add(o, "rt_priority", json_object_new_int64(t->rt_priority));
	json_object_object_add(o, "weight", json_object_new_int64((int64_t)t->weight));
	json_object_object_add(o, "vruntime", json_object_new_uint64(t->vruntime));
	if (t->has_deadline)
		json_object_object_add(o, "deadline", json_object_new_uint64(t->deadline));
	if (t->has_vlag)
		json_object_object_add(o, "vlag", json_object_new_int64(t->vlag));
	json_object_object_add(o, "current", json_object_new_boolean(t->current));
	json_object_object_add(o, "queued", json_object_new_boolean(t->queued));
	json_object_object_add(o, "on_cpu", json_object_new_boolean(t->on_cpu));
	json_object_object_add(o, "delayed", json_object_new_boolean(t->delayed));
	json_object_object_add(o, "rt_throttled", json_object_new_boolean(t->rt_throttled));
	if (t->sched_class == VMS_SCHED_RT)
		json_object_object_add(o, "rt_list", json_object_new_int(t->rt_list));
	json_object_object_add(o, "group_depth", json_object_new_int((int)t->group_depth));
	json_object_object_add(o, "task", json_object_new_string(addr));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void json_cpu(const struct vms_runqueue *r)
{
	struct json_object *o = json_object_new_object();
	char a[24];
	json_object_object_add(o, "kind", json_object_new_string("cpu"));
	json_object_object_add(o, "cpu", json_object_new_int((int)r->cpu));
	hex(a, sizeof(a), r->addr);
	json_object_object_add(o, "rq", json_object_new_string(a));
	json_object_object_add(o, "nr_running", r->nr_running_absurd ? json_object_new_null()
				: json_object_new_int64(r->nr_running));
	json_object_object_add(o, "cfs_nr_running", json_object_new_int64(r->cfs_nr_running));
	json_object_object_add(o, "cfs_h_nr_running", json_object_new_int64(r->cfs_h_nr_running));
	json_object_object_add(o, "rt_nr_running", json_object_new_int64(r->rt_nr_running));
	json_object_object_add(o, "dl_nr_running", json_object_new_int64(r->dl_nr_running));
	json_object_object_add(o, "clock", json_object_new_uint64(r->clock));
	if (r->has_min_vruntime)
		json_object_object_add(o, "min_vruntime", json_object_new_uint64(r->min_vruntime));
	json_object_object_add(o, "curr_pid", json_object_new_int(r->curr_pid));
	json_object_object_add(o, "curr_comm", json_object_new_string(r->curr_comm));
	json_object_object_add(o, "curr_is_idle",
			       json_object_new_boolean(r->curr && r->curr == r->idle));
	hex(a, sizeof(a), r->curr);
	json_object_object_add(o, "curr", json_object_new_string(a));
	hex(a, sizeof(a), r->current_task);
	json_object_object_add(o, "current_task", r->current_task ? json_object_new_string(a)
				: json_object_new_null());
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)r->queued));
	json_object_object_add(o, "truncated", json_object_new_boolean(r->truncated));
	json_object_object_add(o, "rt_queued", r->has_rt_queued ?
			       json_object_new_boolean(r->rt_queued) : json_object_new_null());
	json_object_object_add(o, "rt_throttled", r->has_rt_throttled ?
			       json_object_new_boolean(r->rt_throttled) : json_object_new_null());
	if (r->rt_runtime) {
		json_object_object_add(o, "rt_time", json_object_new_uint64(r->rt_time));
		json_object_object_add(o, "rt_runtime", json_object_new_uint64(r->rt_runtime));
	}
	if (r->has_fair_server) {
		const struct vms_dl_server *S = &r->fair_server;
		struct json_object *f = json_object_new_object();
		hex(a, sizeof(a), S->addr);
		json_object_object_add(f, "addr", json_object_new_string(a));
		json_object_object_add(f, "queued", json_object_new_boolean(S->queued));
		json_object_object_add(f, "active", S->has_active ?
				       json_object_new_boolean(S->active) : json_object_new_null());
		json_object_object_add(f, "throttled", json_object_new_boolean(S->throttled));
		json_object_object_add(f, "defer", json_object_new_boolean(S->defer));
		json_object_object_add(f, "defer_running",
				       json_object_new_boolean(S->defer_running));
		json_object_object_add(f, "running", json_object_new_boolean(S->running));
		json_object_object_add(f, "runtime", json_object_new_int64(S->runtime));
		json_object_object_add(f, "deadline", json_object_new_uint64(S->deadline));
		json_object_object_add(o, "fair_server", f);
	} else {
		json_object_object_add(o, "fair_server", json_object_new_null());
	}
	json_object_object_add(o, "servers_queued", json_object_new_int64(r->servers_queued));
	json_object_object_add(o, "locked", json_object_new_boolean(r->locked));
	json_object_object_add(o, "curr_need_resched", json_object_new_boolean(r->curr_need_resched));
	json_object_object_add(o, "curr_rt_list", r->curr_rt_list >= 0 ?
			       json_object_new_int(r->curr_rt_list) : json_object_new_null());
	json_object_object_add(o, "nr_tasks_counted", json_object_new_int64(r->nr_tasks_counted));
	json_object_object_add(o, "servers_counted", json_object_new_boolean(r->servers_counted));
	json_object_object_add(o, "nr_running_accounted",
			       json_object_new_boolean(r->nr_running_accounted));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static int by_queue(const void *a, const void *b)
{
	const struct vms_rq_task *x = a, *y = b;
	if (x->current != y->current)
		return x->current ? -1 : 1;
	if (x->sched_class != y->sched_class)
		return x->sched_class < y->sched_class ? -1 : 1;
	if (x->sched_class == VMS_SCHED_FAIR) {
		/* Timeline order: vruntime (wrap-safe, as the kernel compares). */
		int64_t d = (int64_t)(x->vruntime - y->vruntime);
		if (d)
			return d < 0 ? -1 : 1;
	} else if (x->prio != y->prio) {
		return x->prio < y->prio ? -1 : 1;
	}
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static void table_cpu(struct state *s, const struct vms_runqueue *r)
{
	char nr[16];
	if (r->nr_running_absurd)
		snprintf(nr, sizeof(nr), "?");
	else
		snprintf(nr, sizeof(nr), "%u", r->nr_running);
	printf("CPU %u: nr_running %s (fair %u, rt %u, dl %u), clock %llu", r->cpu, nr,
	       r->cfs_h_nr_running ? r->cfs_h_nr_running : r->cfs_nr_running,
	       r->rt_nr_running, r->dl_nr_running, (unsigned long long)r->clock);
	if (r->has_min_vruntime)
		printf(", min_vruntime %llu", (unsigned long long)r->min_vruntime);
	printf("%s\n", r->truncated ? "  [incomplete]" : "");
	/* How rq->nr_running is made up, when anything beyond the listed
	 * tasks enters it. */
	if (!r->truncated && !r->nr_running_absurd) {
		if (r->servers_counted)
			printf("  nr_running = %u task(s) + %u queued deadline server(s) "
			       "(this kernel counts servers)\n", r->nr_tasks_counted,
			       r->servers_queued);
		else if (!r->nr_running_accounted)
			printf("  nr_running %u != %u counted task(s): %s\n", r->nr_running,
			       r->nr_tasks_counted, r->locked ?
			       "the runqueue lock was held: read mid-update" :
			       "the queues changed while read (live guest?)");
	}
	if (r->has_rt_queued && !r->rt_queued && r->rt_nr_running) {
		printf("  RT queue throttled: %u RT task(s) wait, out of nr_running", r->rt_nr_running);
		if (r->rt_runtime)
			printf(" (rt_time %.3f ms of rt_runtime %.3f ms)", r->rt_time / 1e6,
			       r->rt_runtime / 1e6);
		printf("\n");
	}
	/* Task names are the guest's: escaped as ps shows them. */
	char comm[VMS_ESCAPE_PS_SIZE(sizeof(r->curr_comm))];
	if (r->curr_need_resched)
		printf("  reschedule pending: %s is about to give up the CPU\n",
		       cli_text(s->t, comm, sizeof(comm), r->curr_comm, VMS_ESCAPE_PS));
	if (r->has_fair_server && (r->fair_server.queued || r->fair_server.running)) {
		const struct vms_dl_server *S = &r->fair_server;
		printf("  fair server: %s%s%s, runtime left %.3f ms\n",
		       S->running ? "running the current fair task" : "queued",
		       S->throttled ? ", throttled" : "",
		       S->defer ? (S->defer_running ? ", deferral over" : ", deferred") : "",
		       S->runtime / 1e6);
	}
	printf("  %1s %7s %7s %-16s %-5s %4s %4s %5s %16s %16s %s\n", "", "PID", "TID",
	       "COMM", "CLASS", "PRIO", "NICE", "RTPRI", "VRUNTIME", "DEADLINE", "S");
	for (size_t i = 0; i < s->n; i++) {
		const struct vms_rq_task *t = &s->v[i];
		char vr[24] = "-", dl[24] = "-";
		if (t->sched_class == VMS_SCHED_FAIR)
			snprintf(vr, sizeof(vr), "%llu", (unsigned long long)t->vruntime);
		if (t->has_deadline && (t->sched_class == VMS_SCHED_FAIR ||
					t->sched_class == VMS_SCHED_DL))
			snprintf(dl, sizeof(dl), "%llu", (unsigned long long)t->deadline);
		printf("  %1s %7d %7d %-16s %-5s %4d %4d %5u %16s %16s %c%s%s\n",
		       t->current ? ">" : "", t->tgid, t->pid,
		       cli_text(s->t, comm, sizeof(comm), t->comm, VMS_ESCAPE_PS),
		       vms_sched_class_name(t->sched_class), t->prio, t->nice,
		       t->rt_priority, vr, dl, t->state, t->delayed ? " (delayed dequeue)" : "",
		       t->rt_throttled ? " (RT throttled)" : "");
	}
	printf("\n");
}

static int per_cpu(const struct vms_runqueue *r, void *arg)
{
	struct state *s = arg;
	if (r->current_task && r->curr && r->current_task != r->curr) {
		s->mismatches++;
		fprintf(stderr, "%s: warning: CPU %u: per-CPU current_task 0x%llx differs "
			"from rq->curr 0x%llx (caught in a context switch?)\n", s->prog, r->cpu,
			(unsigned long long)r->current_task, (unsigned long long)r->curr);
	}
	qsort(s->v, s->n, sizeof(*s->v), by_queue);
	if (s->json) {
		for (size_t i = 0; i < s->n; i++)
			json_task(&s->v[i]);
		json_cpu(r);
	} else {
		table_cpu(s, r);
	}
	s->n = 0;
	return 0;
}

int cmd_runq(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight runq" };
	int c;
	while ((c = cli_getopt(&t, argc, argv, "", NULL)) != -1) {
		switch (c) {
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
	struct state s = { .t = &t, .json = t.json, .prog = t.prog };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_runqueue(t.kernel, per_cpu, collect,
							     &s, &res);
	int rc = err ? cli_fail(&t, err) : cli_walk_status(&t, &res, s.oom, "task(s)");
	free(s.v);
	cli_target_close(&t);
	return rc;
}
