// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight pstree: the guest's process tree from its task list. */
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
		"usage: vmsight pstree [-p PID] [--ascii] [--json] SOURCE\n"
		"The process tree (real parents), rooted at PID 0's children or at PID.\n"
		"  -p PID      show only the subtree of PID\n"
		"  --ascii     draw with ASCII instead of box-drawing characters\n"
		CLI_COMMON_USAGE);
}

struct tree {
	struct vms_task *v;
	size_t n, cap;
	size_t *first, *next;  /* child lists by index */
	bool oom;
};

static int collect(const struct vms_task *t, void *arg)
{
	struct tree *tr = arg;
	if (!vms_vec_append((void **)&tr->v, &tr->n, &tr->cap, sizeof(*t), t)) {
		tr->oom = true;
		return 1;
	}
	return 0;
}

static int by_pid(const void *a, const void *b)
{
	const struct vms_task *x = a, *y = b;
	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static size_t find(const struct tree *tr, int32_t pid)
{
	size_t lo = 0, hi = tr->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (tr->v[mid].tgid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < tr->n && tr->v[lo].tgid == pid ? lo : (size_t)-1;
}

static void print_node(const struct cli_target *ct, const struct tree *tr, size_t i,
		       char *prefix, size_t plen, bool last, bool root, bool ascii, int depth)
{
	const struct vms_task *t = &tr->v[i];
	char comm[VMS_ESCAPE_PS_SIZE(sizeof(t->comm))];
	if (!root)
		printf("%s%s", prefix, ascii ? (last ? "`-- " : "|-- ")
					     : (last ? "└── " : "├── "));
	printf("%s%s%s(%d)\n", t->kthread ? "[" : "",
	       cli_text(ct, comm, sizeof(comm), t->comm, VMS_ESCAPE_PS), t->kthread ? "]" : "",
	       t->tgid);
	if (depth > 512)
		return;
	size_t add = root ? 0 : 4;
	char *p = prefix + plen;
	if (!root) {
		const char *seg = last ? "    " : (ascii ? "|   " : "│   ");
		size_t sl = strlen(seg);
		if (plen + sl + 1 > 8192)
			return;
		memcpy(p, seg, sl + 1);
		add = sl;
	}
	for (size_t c = tr->first[i]; c != (size_t)-1; c = tr->next[c])
		print_node(ct, tr, c, prefix, plen + add, tr->next[c] == (size_t)-1, false,
			   ascii, depth + 1);
	prefix[plen] = '\0';
}

static struct json_object *json_node(const struct tree *tr, size_t i, int depth)
{
	const struct vms_task *t = &tr->v[i];
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "pid", json_object_new_int(t->tgid));
	json_object_object_add(o, "ppid", json_object_new_int(t->ppid));
	json_object_object_add(o, "comm", json_object_new_string(t->comm));
	json_object_object_add(o, "kthread", json_object_new_boolean(t->kthread));
	struct json_object *kids = json_object_new_array();
	for (size_t c = tr->first[i]; depth < 512 && c != (size_t)-1; c = tr->next[c])
		json_object_array_add(kids, json_node(tr, c, depth + 1));
	json_object_object_add(o, "children", kids);
	return o;
}

int cmd_pstree(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight pstree" };
	int32_t root_pid = -1;
	bool ascii = false;
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "ascii", no_argument, NULL, 'A' },
		{ 0 }
	};
	int ch;
	while ((ch = cli_getopt(&t, argc, argv, "p:A", opts)) != -1) {
		switch (ch) {
		case 'p': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 0 || v > 0x7fffffff) {
				fprintf(stderr, "%s: bad PID '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			root_pid = (int32_t)v;
			break;
		}
		case 'A': ascii = true; break;
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
	struct tree tr = { 0 };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_task(t.kernel, 0, collect, &tr, &res);
	int rc = EXIT_OK;
	if (err || tr.oom) {
		rc = err ? cli_fail(&t, err) : cli_walk_status(&t, &res, true, "task(s)");
		goto out;
	}
	if (tr.n)
		qsort(tr.v, tr.n, sizeof(*tr.v), by_pid);
	tr.first = malloc((tr.n + 1) * sizeof(size_t));
	tr.next = malloc((tr.n + 1) * sizeof(size_t));
	if (!tr.first || !tr.next) {
		rc = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < tr.n; i++)
		tr.first[i] = tr.next[i] = (size_t)-1;
	/* Link children in PID order: walk backwards, push to the front. A task
	 * whose parent is missing (or itself) becomes a root. */
	size_t roots = (size_t)-1;
	for (size_t i = tr.n; i-- > 0;) {
		size_t p = tr.v[i].ppid == tr.v[i].tgid ? (size_t)-1 : find(&tr, tr.v[i].ppid);
		if (p == (size_t)-1) {
			tr.next[i] = roots;
			roots = i;
		} else {
			tr.next[i] = tr.first[p];
			tr.first[p] = i;
		}
	}
	char prefix[8192] = "";
	struct json_object *arr = t.json ? json_object_new_array() : NULL;
	if (root_pid >= 0) {
		size_t r = find(&tr, root_pid);
		if (r == (size_t)-1) {
			fprintf(stderr, "%s: no process with PID %d in the guest\n", t.prog, root_pid);
			rc = EXIT_FINDINGS;
		} else if (arr) {
			json_object_array_add(arr, json_node(&tr, r, 0));
		} else {
			print_node(&t, &tr, r, prefix, 0, true, true, ascii, 0);
		}
	} else {
		for (size_t r = roots; r != (size_t)-1; r = tr.next[r]) {
			if (arr)
				json_object_array_add(arr, json_node(&tr, r, 0));
			else
				print_node(&t, &tr, r, prefix, 0, true, true, ascii, 0);
		}
	}
	if (arr) {
		puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
		json_object_put(arr);
	}
	if (res.truncated)
		rc = cli_walk_status(&t, &res, false, "task(s)");
out:
	free(tr.first);
	free(tr.next);
	free(tr.v);
	cli_target_close(&t);
	return rc;
}
