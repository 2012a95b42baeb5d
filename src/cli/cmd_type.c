// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight type: structure layouts from the guest kernel's own BTF. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight type [--json] [-v] SOURCE STRUCT[.MEMBER[.MEMBER...]]\n"
		"Show a structure's size and members (STRUCT) or one member's offset and\n"
		"size (STRUCT.MEMBER), from the BTF found in guest memory.\n"
		CLI_COMMON_USAGE);
}

/* Member names come from the guest's BTF: escaped as ps shows names. */
static void print_member(void *arg, const struct vms_member *m)
{
	const struct cli_target *t = arg;
	char name[1024];
	const char *mn = m->name[0] ? cli_text(t, name, sizeof(name), m->name, VMS_ESCAPE_PS)
				    : "(anonymous)";
	if (m->bit_size)
		printf("\t%-32s /* offset %llu bit %llu, %u bits */\n", mn,
		       (unsigned long long)(m->bit_offset / 8),
		       (unsigned long long)(m->bit_offset % 8), m->bit_size);
	else
		printf("\t%-32s /* offset %llu, size %u */\n", mn,
		       (unsigned long long)(m->bit_offset / 8), m->size);
}

static void no_member(void *arg, const struct vms_member *m)
{
	(void)arg;
	(void)m;
}

/* BTF or DWARF (--vmlinux on a kernel without BTF): same output. */
static struct vms_error *print_members(const struct cli_target *t,
				       const struct vms_types *types, const char *name,
				       size_t size)
{
	bool is_union = false;
	struct vms_error *err = vms_types_members(types, name, &is_union, no_member, NULL);
	if (err)
		return err;
	printf("%s %s {  /* size %zu */\n", is_union ? "union" : "struct", name, size);
	err = vms_types_members(types, name, NULL, print_member, (void *)t);
	printf("};\n");
	return err;
}

int cmd_type(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight type" };
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

	if (argc - optind != 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	char name[256];
	snprintf(name, sizeof(name), "%s", argv[optind + 1]);
	char *dot = strchr(name, '.');
	const char *path = NULL;
	if (dot) {
		*dot = '\0';
		path = dot + 1;
	}
	struct vms_types *types = vms_kernel_types(t.kernel);
	struct vms_error *err;
	int rc = EXIT_OK;
	if (path) {
		struct vms_field f;
		if ((err = vms_types_field(types, name, path, &f))) {
			rc = cli_fail(&t, err);
		} else if (t.json) {
			printf("{\"struct\":\"%s\",\"member\":\"%s\",\"offset\":%u,\"size\":%u,\"bit_offset\":%u,\"bit_size\":%u}\n",
			       name, path, f.offset, f.size, f.bit_offset, f.bit_size);
		} else {
			printf("%s.%s: offset %u, size %u", name, path, f.offset, f.size);
			if (f.bit_size)
				printf(", bits %u..%u", f.bit_offset, f.bit_offset + f.bit_size - 1);
			printf("\n");
		}
	} else {
		size_t size;
		if ((err = vms_types_struct_size(types, name, &size)))
			rc = cli_fail(&t, err);
		else if (t.json)
			printf("{\"struct\":\"%s\",\"size\":%zu}\n", name, size);
		else if ((err = print_members(&t, types, name, size)))
			rc = cli_fail(&t, err);
	}
	cli_target_close(&t);
	return rc;
}
