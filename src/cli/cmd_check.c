// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight check: rootkit checks from outside the guest (docs/check.md). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/check.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight check [--only LIST] [--json] [-v] SOURCE\n"
		"Look for rootkit hooks and hidden objects in the guest's kernel memory:\n"
		"syscall table and dispatcher, ftrace ops, kprobes, IDT, hidden modules\n"
		"and hidden processes, malformed task and module lists.  Each finding\n"
		"names the technique, the place, the target and the owner of that memory.\n"
		"  --only LIST    comma-separated subset of: syscalls, ftrace, kprobes,\n"
		"                 idt, modules, tasks, lists\n"
		CLI_COMMON_USAGE
		"Exit status: 0 clean, 1 findings, 2 error (or a check could not be\n"
		"completed on corrupt guest data and found nothing: a warning says why).\n");
}

static bool parse_only(const char *s, unsigned *which)
{
	static const struct { const char *name; unsigned bit; } names[] = {
		{ "syscalls", VMS_CHECK_SYSCALLS }, { "ftrace", VMS_CHECK_FTRACE },
		{ "kprobes", VMS_CHECK_KPROBES }, { "idt", VMS_CHECK_IDT },
		{ "modules", VMS_CHECK_MODULES }, { "tasks", VMS_CHECK_TASKS },
		{ "lists", VMS_CHECK_LISTS },
	};
	*which = 0;
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return false;
		*which |= names[i].bit;
	}
	return *which != 0;
}

static void hex(char *buf, size_t size, uint64_t v)
{
	snprintf(buf, size, "0x%llx", (unsigned long long)v);
}

static int print_finding(const struct vms_finding *f, void *arg)
{
	const struct cli_target *t = arg;
	char a[24], b[24];
	hex(a, sizeof(a), f->place_addr);
	hex(b, sizeof(b), f->target);
	if (t->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "check", json_object_new_string(f->check));
		json_object_object_add(o, "technique", json_object_new_string(f->technique));
		json_object_object_add(o, "place", json_object_new_string(f->place));
		json_object_object_add(o, "place_addr", json_object_new_string(a));
		json_object_object_add(o, "target", json_object_new_string(b));
		json_object_object_add(o, "target_symbol", json_object_new_string(f->target_symbol));
		json_object_object_add(o, "owner", json_object_new_string(vms_owner_name(f->owner)));
		if (f->owner == VMS_OWNER_MODULE)
			json_object_object_add(o, "module", json_object_new_string(f->owner_name));
		json_object_object_add(o, "detail", json_object_new_string(f->detail));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		/* Places, symbols, module names and details name guest objects:
		 * escaped as ps shows names ('?'). */
		char owner[96], name[VMS_ESCAPE_PS_SIZE(sizeof(f->owner_name))];
		char place[VMS_ESCAPE_PS_SIZE(sizeof(f->place))];
		char target[VMS_ESCAPE_PS_SIZE(sizeof(f->target_symbol))];
		char detail[VMS_ESCAPE_PS_SIZE(sizeof(f->detail))];
		if (f->owner == VMS_OWNER_MODULE)
			snprintf(owner, sizeof(owner), "module %s",
				 cli_text(t, name, sizeof(name), f->owner_name, VMS_ESCAPE_PS));
		else
			snprintf(owner, sizeof(owner), "%s", vms_owner_name(f->owner));
		printf("%-15s %s\n  place:  %s (%s)\n  target: %s (%s), owner: %s\n  %s\n",
		       f->check, f->technique,
		       cli_text(t, place, sizeof(place), f->place, VMS_ESCAPE_PS), a,
		       f->target_symbol[0] ? cli_text(t, target, sizeof(target), f->target_symbol,
						      VMS_ESCAPE_PS) : b,
		       b, owner, cli_text(t, detail, sizeof(detail), f->detail, VMS_ESCAPE_PS));
	}
	fflush(stdout);
	return 0;
}

int cmd_check(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight check" };
	unsigned which = VMS_CHECK_ALL;
	static const struct option opts[] = {
		{ "only", required_argument, NULL, 'o' },
		{ 0 }
	};
	int c;
	while ((c = cli_getopt(&t, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'o':
			if (!parse_only(optarg, &which)) {
				fprintf(stderr, "%s: bad --only list '%s'\n", t.prog, optarg);
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
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	struct vms_check_result res;
	struct vms_error *err = vms_check_run(t.kernel, which, print_finding, &t, &res);
	if (err) {
		int rc = cli_fail(&t, err);
		cli_target_close(&t);
		return rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (!t.json)
		printf("%zu finding(s); %u check(s) run, %u skipped, %zu object(s) examined, %.2f s\n",
		       res.findings, res.checks_run, res.checks_skipped, res.examined, secs);
	else if (t.verbose)
		fprintf(stderr, "%s: %zu finding(s); %u check(s) run, %u skipped, %zu examined, %.2f s\n",
			t.prog, res.findings, res.checks_run, res.checks_skipped, res.examined, secs);
	int rc = res.findings ? EXIT_FINDINGS : EXIT_OK;
	if (res.truncated) {
		fprintf(stderr, "%s: incomplete: %s\n", t.prog, res.reason);
		if (!res.findings)
			rc = EXIT_ERROR;
	}
	cli_target_close(&t);
	return rc;
}
