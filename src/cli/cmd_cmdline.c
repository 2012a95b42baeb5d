// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight cmdline / environ: argument and environment strings of guest
 * processes, read through each process's own page table. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "target.h"
#include "tasksel.h"

struct ctx {
	const struct cli_target *t;
	bool environ;
	size_t max;
};

static void usage(FILE *out, const char *cmd)
{
	bool env = !strcmp(cmd, "environ");
	fprintf(out,
		"usage: vmsight %s [-p PID[,PID...]] [--max-bytes N] [--raw] [--json] SOURCE\n"
		"Print each process's %s as /proc/PID/%s holds it, read from the\n"
		"process's own memory (kernel threads have none: their [name] is shown).\n"
		"%s"
		"  -p PID             only these processes (repeatable)\n"
		"  --max-bytes N      read at most N bytes per process (default 131072)\n"
		CLI_COMMON_USAGE,
		cmd, env ? "environment" : "command line", cmd,
		env ? "One line per variable, each after the PID; control characters, invalid\n"
		      "UTF-8 and backslashes print as \\xNN (--raw: the bytes; --json: exact).\n"
		    : "One line per process, arguments separated by spaces; control characters\n"
		      "and invalid UTF-8 print as '?', as ps shows them (--raw: the bytes;\n"
		      "--json: exact).\n");
}

/*
 * The NUL-separated strings of @b, as /proc/PID/cmdline holds them (the
 * last one may lack its NUL).  cmdline: one line, separated by spaces and
 * escaped as `ps -o args` shows them ('?').  environ: one string per line,
 * each after the PID, so that no variable can pass for another process's
 * line, and escaped unambiguously (\xNN).
 */
static void print_strings(const struct cli_target *t, int32_t pid, const uint8_t *b, size_t n,
			  bool environ)
{
	printf("%7d ", pid);
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && b[i])
			continue;
		if (i == n && start == n && start > 0)
			break;  /* the last string ended with its NUL */
		cli_text_put(t, (const char *)b + start, i - start,
			     environ ? VMS_ESCAPE_HEX : VMS_ESCAPE_PS);
		start = i + 1;
		if (start < n) {
			if (environ)
				printf("\n%7d ", pid);
			else
				putchar(' ');
		}
	}
	putchar('\n');
}

static int show(struct vms_kernel *k, const struct vms_task *task, void *arg)
{
	struct ctx *c = arg;
	uint8_t *buf;
	size_t len;
	struct vms_walk_result res;
	struct vms_error *err = c->environ
		? vms_linux_environ(k, task, c->max, &buf, &len, &res)
		: vms_linux_cmdline(k, task, c->max, &buf, &len, &res);
	if (err) {
		fprintf(stderr, "%s: PID %d: %s\n", c->t->prog, task->tgid, err->message);
		vms_error_free(err);
		return EXIT_PARTIAL;
	}
	if (c->t->json) {
		struct json_object *o = json_object_new_object();
		struct json_object *list = json_object_new_array();
		size_t start = 0;
		for (size_t i = 0; i <= len; i++) {
			if (i == len || buf[i] == 0) {
				if (i > start || i < len)
					json_object_array_add(list, json_object_new_string_len(
						(const char *)buf + start, (int)(i - start)));
				start = i + 1;
			}
		}
		char *hex = malloc(2 * len + 1);
		for (size_t i = 0; hex && i < len; i++)
			sprintf(hex + 2 * i, "%02x", buf[i]);
		if (hex)
			hex[2 * len] = '\0';
		json_object_object_add(o, "pid", json_object_new_int(task->tgid));
		json_object_object_add(o, "comm", json_object_new_string(task->comm));
		json_object_object_add(o, c->environ ? "environ" : "args", list);
		json_object_object_add(o, "hex", json_object_new_string(hex ? hex : ""));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)len));
		if (res.truncated)
			json_object_object_add(o, "warning", json_object_new_string(res.reason));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		free(hex);
	} else if (!task->mm) {
		char comm[VMS_ESCAPE_PS_SIZE(sizeof(task->comm))];
		printf("%7d [%s]\n", task->tgid,
		       cli_text(c->t, comm, sizeof(comm), task->comm, VMS_ESCAPE_PS));
	} else {
		print_strings(c->t, task->tgid, buf, len, c->environ);
	}
	free(buf);
	if (res.truncated) {
		fprintf(stderr, "%s: warning: PID %d: %s\n", c->t->prog, task->tgid, res.reason);
		return EXIT_PARTIAL;
	}
	return EXIT_OK;
}

static int run(int argc, char **argv, bool environ)
{
	const char *cmd = environ ? "environ" : "cmdline";
	struct cli_target t = { .prog = environ ? "vmsight environ" : "vmsight cmdline" };
	struct tasksel sel = { 0 };
	struct ctx c = { .t = &t, .environ = environ, .max = 128 * 1024 };
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "max-bytes", required_argument, NULL, 'm' },
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
		case 'm': {
			char *end;
			unsigned long long v = strtoull(optarg, &end, 0);
			if (*end || !v || v > (1ULL << 30)) {
				fprintf(stderr, "%s: bad --max-bytes '%s'\n", t.prog, optarg);
				return EXIT_USAGE;
			}
			c.max = (size_t)v;
			break;
		}
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
	int rc = tasksel_each(t.kernel, t.prog, &sel, show, &c);
	cli_target_close(&t);
	return rc;
}

int cmd_cmdline(int argc, char **argv)
{
	return run(argc, argv, false);
}

int cmd_environ(int argc, char **argv)
{
	return run(argc, argv, true);
}
