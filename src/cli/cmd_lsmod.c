// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight lsmod: the guest's loaded modules, as /proc/modules shows them. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight lsmod [--proc] [--json] [-v] SOURCE\n"
		"List the guest's loaded modules from its module list, in list order\n"
		"(newest first): name, size, reference count, users, state, text base.\n"
		"  --proc              print the lines of the guest's /proc/modules\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok, 2 error, 3 list printed but the walk stopped early\n"
		"on corrupt guest data (a warning says where).\n");
}

enum { OUT_TABLE, OUT_PROC, OUT_JSON };

struct ctx {
	const struct cli_target *t;
	int mode;
	bool header;
};

/* /proc/modules: "a,b," or "-", plus "[permanent]," as print_unload_info()
 * writes it; the table drops the trailing comma. */
static void used_by(const struct cli_target *t, const struct vms_module *m, char *buf,
		    size_t size, bool proc)
{
	size_t n = 0;
	buf[0] = '\0';
	for (size_t i = 0; i <= m->nr_used_by; i++) {
		char esc[VMS_ESCAPE_PS_SIZE(sizeof(m->name))];
		const char *name = i < m->nr_used_by ? m->used_by[i]
			: m->permanent ? "[permanent]" : NULL;
		if (!name)
			break;
		int w = snprintf(buf + n, size - n, "%s,", cli_text(t, esc, sizeof(esc), name,
								     VMS_ESCAPE_PS));
		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
	if (!n)
		snprintf(buf, size, "-");
	else if (!proc)
		buf[n - 1] = '\0';
}

static int show(const struct vms_module *m, void *arg)
{
	struct ctx *c = arg;
	char users[4096], addr[24];
	snprintf(addr, sizeof(addr), "0x%016llx", (unsigned long long)m->base);
	if (c->mode == OUT_JSON) {
		struct json_object *o = json_object_new_object();
		struct json_object *u = json_object_new_array();
		char buf[24];
		for (size_t i = 0; i < m->nr_used_by; i++)
			json_object_array_add(u, json_object_new_string(m->used_by[i]));
		json_object_object_add(o, "name", json_object_new_string(m->name));
		json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
		json_object_object_add(o, "refcount", json_object_new_int(m->refcount));
		json_object_object_add(o, "used_by", u);
		json_object_object_add(o, "permanent", json_object_new_boolean(m->permanent));
		json_object_object_add(o, "state", json_object_new_string(m->state_name));
		json_object_object_add(o, "addr", json_object_new_string(addr));
		json_object_object_add(o, "text_size", json_object_new_int64((int64_t)m->text_size));
		json_object_object_add(o, "taints", json_object_new_string(m->taints));
		snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)m->addr);
		json_object_object_add(o, "module", json_object_new_string(buf));
		json_object_object_add(o, "symbols", json_object_new_int64(m->num_symtab));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return 0;
	}
	/* Module names are the guest's: escaped as ps shows names ('?'). */
	char name[VMS_ESCAPE_PS_SIZE(sizeof(m->name))], taints[VMS_ESCAPE_PS_SIZE(sizeof(m->taints))];
	const char *nm = cli_text(c->t, name, sizeof(name), m->name, VMS_ESCAPE_PS);
	const char *tn = cli_text(c->t, taints, sizeof(taints), m->taints, VMS_ESCAPE_PS);
	if (c->mode == OUT_PROC) {
		used_by(c->t, m, users, sizeof(users), true);
		printf("%s %llu %d %s %s %s%s%s\n", nm, (unsigned long long)m->size,
		       m->refcount, users, m->state_name, addr, tn[0] ? " " : "", tn);
		return 0;
	}
	if (!c->header) {
		printf("%-24s %8s %5s  %-9s %-18s %s\n", "Module", "Size", "Refs", "State",
		       "Address", "Used by");
		c->header = true;
	}
	used_by(c->t, m, users, sizeof(users), false);
	printf("%-24s %8llu %5d  %-9s %-18s %s%s%s\n", nm, (unsigned long long)m->size,
	       m->refcount, m->state_name, addr, users, tn[0] ? " " : "", tn);
	return 0;
}

int cmd_lsmod(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight lsmod" };
	struct ctx c = { .t = &t, .mode = OUT_TABLE };
	static const struct option opts[] = {
		{ "proc", no_argument, NULL, 'p' },
		{ 0 }
	};
	int ch;
	while ((ch = cli_getopt(&t, argc, argv, "", opts)) != -1) {
		switch (ch) {
		case 'p': c.mode = OUT_PROC; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (t.json)
		c.mode = OUT_JSON;
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_module(t.kernel, show, &c, &res);
	if (err) {
		int rc = cli_fail(&t, err);
		cli_target_close(&t);
		return rc;
	}
	int rc = cli_walk_status(&t, &res, false, "module(s)");
	cli_target_close(&t);
	return rc;
}
