// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight symbol: name -> address and address -> name+offset, from the
 * kallsyms recovered out of guest memory. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include <vmsight/linux.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight symbol [--json] [-v] SOURCE NAME|ADDRESS...\n"
		"Look up kernel symbols: a NAME prints its address and type, an ADDRESS\n"
		"(0x...) prints the symbol it falls in as name+0xoffset.\n"
		"Exit status: 0 all found, 1 some not found, 2 error.\n"
		CLI_COMMON_USAGE);
}

int cmd_symbol(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight symbol" };
	static const struct option opts[] = {
		{ 0 }
	};
	int c;
	while ((c = cli_getopt(&t, argc, argv, "", opts)) != -1) {
		switch (c) {
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}

	if (argc - optind < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	/* Module symbols too, so that module addresses print as name [module];
	 * corrupt module data only costs those symbols (a warning says so). */
	struct vms_walk_result mres;
	struct vms_error *merr = vms_linux_load_module_symbols(t.kernel, &mres);
	if (merr) {
		fprintf(stderr, "%s: warning: module symbols not loaded: %s\n", t.prog,
			merr->message);
		vms_error_free(merr);
	}
	struct vms_symtab *tab = vms_kernel_symbols(t.kernel);
	int rc = EXIT_OK;
	for (int i = optind + 1; i < argc; i++) {
		const char *q = argv[i];
		char *end;
		errno = 0;
		unsigned long long addr = 0;
		bool is_addr = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
		if (is_addr) {
			addr = strtoull(q, &end, 16);
			if (*end || errno) {
				fprintf(stderr, "%s: bad address '%s'\n", t.prog, q);
				rc = EXIT_USAGE;
				break;
			}
		}
		const struct vms_symbol *s;
		uint64_t off = 0;
		s = is_addr ? vms_symtab_by_addr(tab, addr, &off) : vms_symtab_by_name(tab, q);
		if (!s) {
			fprintf(stderr, "%s: %s: no such symbol in the guest's kallsyms\n",
				t.prog, q);
			rc = EXIT_FINDINGS;
			continue;
		}
		if (t.json) {
			struct json_object *o = json_object_new_object();
			char buf[24], type[2] = { s->type, 0 };
			json_object_object_add(o, "query", json_object_new_string(q));
			json_object_object_add(o, "name", json_object_new_string(s->name));
			snprintf(buf, sizeof(buf), "0x%llx", (unsigned long long)s->addr);
			json_object_object_add(o, "address", json_object_new_string(buf));
			json_object_object_add(o, "type", json_object_new_string(type));
			json_object_object_add(o, "offset", json_object_new_int64((int64_t)off));
			if (s->module)
				json_object_object_add(o, "module", json_object_new_string(s->module));
			puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
			json_object_put(o);
			continue;
		}
		/* Names and the type letter come from the guest's kallsyms and
		 * module tables: escaped as ps shows names ('?'). */
		char name[1024], mod[VMS_ESCAPE_PS_SIZE(64)], type[2] = { s->type, 0 }, tbuf[2];
		const char *nm = cli_text(&t, name, sizeof(name), s->name, VMS_ESCAPE_PS);
		const char *tp = cli_text(&t, tbuf, sizeof(tbuf), type, VMS_ESCAPE_PS);
		if (is_addr)
			printf("%s  %s+0x%llx%s%s%s\n", q, nm, (unsigned long long)off,
			       s->module ? " [" : "",
			       s->module ? cli_text(&t, mod, sizeof(mod), s->module, VMS_ESCAPE_PS) : "",
			       s->module ? "]" : "");
		else
			printf("%016llx %s %s\n", (unsigned long long)s->addr, tp[0] ? tp : "?", nm);
	}
	cli_target_close(&t);
	return rc;
}
