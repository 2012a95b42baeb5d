// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight maps / fds: a process's memory areas and open files. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "target.h"
#include "tasksel.h"

static void usage(FILE *out, const char *cmd)
{
	if (!strcmp(cmd, "maps"))
		fprintf(out,
			"usage: vmsight maps [-p PID[,PID...]] [--json] SOURCE\n"
			"Memory areas of processes in /proc/PID/maps form (start-end perms offset\n"
			"dev inode name), from the guest's VMA tree and dentries.\n");
	else
		fprintf(out,
			"usage: vmsight fds [-p PID[,PID...]] [--json] SOURCE\n"
			"Open files of processes, as readlink(/proc/PID/fd/N) shows them.\n");
	fprintf(out, "  -p PID             only these processes (default: all)\n"
		CLI_COMMON_USAGE);
}

struct ctx {
	const struct cli_target *t;
	const struct vms_task *task;
	bool header;
};

/* "== PID n (comm)" before a process's first line.  Names and paths are
 * the guest's: escaped as ps and ls show them ('?'). */
static void header(struct ctx *c)
{
	char comm[VMS_ESCAPE_PS_SIZE(sizeof(c->task->comm))];
	if (c->header)
		return;
	printf("== PID %d (%s)\n", c->task->tgid,
	       cli_text(c->t, comm, sizeof(comm), c->task->comm, VMS_ESCAPE_PS));
	c->header = true;
}

static int print_vma(const struct vms_vma *v, void *arg)
{
	struct ctx *c = arg;
	if (c->t->json) {
		struct json_object *o = json_object_new_object();
		char b[32];
		json_object_object_add(o, "pid", json_object_new_int(c->task->tgid));
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v->start);
		json_object_object_add(o, "start", json_object_new_string(b));
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v->end);
		json_object_object_add(o, "end", json_object_new_string(b));
		json_object_object_add(o, "perms", json_object_new_string(v->perms));
		json_object_object_add(o, "offset", json_object_new_int64((int64_t)(v->pgoff << 12)));
		snprintf(b, sizeof(b), "%02x:%02x", v->dev_major, v->dev_minor);
		json_object_object_add(o, "dev", json_object_new_string(b));
		json_object_object_add(o, "inode", json_object_new_int64((int64_t)v->inode));
		json_object_object_add(o, "name", json_object_new_string(v->name));
		snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v->addr);
		json_object_object_add(o, "vma", json_object_new_string(b));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	header(c);
	int n = printf("%08llx-%08llx %s %08llx %02x:%02x %llu ",
		       (unsigned long long)v->start, (unsigned long long)v->end, v->perms,
		       (unsigned long long)(v->pgoff << 12), v->dev_major, v->dev_minor,
		       (unsigned long long)v->inode);
	if (v->name[0]) {
		printf("%*s", n < 73 ? 73 - n : 0, "");
		cli_text_put(c->t, v->name, strlen(v->name), VMS_ESCAPE_PS);
	}
	putchar('\n');
	return 0;
}

static int print_fd(const struct vms_fd *f, void *arg)
{
	struct ctx *c = arg;
	if (c->t->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "pid", json_object_new_int(c->task->tgid));
		json_object_object_add(o, "fd", json_object_new_int(f->fd));
		json_object_object_add(o, "path", json_object_new_string(f->path));
		json_object_object_add(o, "pos", json_object_new_int64((int64_t)f->pos));
		json_object_object_add(o, "flags", json_object_new_int64(f->flags));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	header(c);
	printf("%5d -> ", f->fd);
	cli_text_put(c->t, f->path, strlen(f->path), VMS_ESCAPE_PS);
	putchar('\n');
	return 0;
}

static int finish(const struct cli_target *t, const struct vms_task *task,
		  struct vms_error *err, const struct vms_walk_result *res)
{
	if (err) {
		fprintf(stderr, "%s: PID %d: %s\n", t->prog, task->tgid, err->message);
		vms_error_free(err);
		return EXIT_PARTIAL;
	}
	if (res->truncated) {
		fprintf(stderr, "%s: warning: PID %d: %s\n", t->prog, task->tgid, res->reason);
		return EXIT_PARTIAL;
	}
	return EXIT_OK;
}

static int show_maps(struct vms_kernel *k, const struct vms_task *task, void *arg)
{
	struct ctx c = { .t = arg, .task = task };
	struct vms_walk_result res;
	if (!task->mm)
		return EXIT_OK;
	struct vms_error *err = vms_linux_for_each_vma(k, task, print_vma, &c, &res);
	return finish(c.t, task, err, &res);
}

static int show_fds(struct vms_kernel *k, const struct vms_task *task, void *arg)
{
	struct ctx c = { .t = arg, .task = task };
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_fd(k, task, print_fd, &c, &res);
	return finish(c.t, task, err, &res);
}

static int run(int argc, char **argv, const char *cmd)
{
	char prog[32];
	snprintf(prog, sizeof(prog), "vmsight %s", cmd);
	struct cli_target t = { .prog = prog };
	struct tasksel sel = { 0 };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ 0 }
	};
	int ch;
	while ((ch = cli_getopt(&t, argc, argv, "p:", opts)) != -1) {
		switch (ch) {
		case 'p':
			if (!tasksel_add(&sel, optarg)) {
				fprintf(stderr, "%s: bad PID list '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h': usage(stdout, cmd); return EXIT_OK;
		default: usage(stderr, cmd); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr, cmd);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	int rc = tasksel_each(t.kernel, t.prog, &sel,
			      !strcmp(cmd, "maps") ? show_maps : show_fds, &t);
	cli_target_close(&t);
	return rc;
}

int cmd_maps(int argc, char **argv)
{
	return run(argc, argv, "maps");
}

int cmd_fds(int argc, char **argv)
{
	return run(argc, argv, "fds");
}
