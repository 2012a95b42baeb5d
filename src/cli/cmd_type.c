// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight type: structure layouts from the guest kernel's own BTF. */
#include <bpf/btf.h>
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

static void print_members(const struct btf *btf, const char *name)
{
	int32_t id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	if (id < 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_UNION);
	const struct btf_type *t = btf__type_by_id(btf, (uint32_t)id);
	const struct btf_member *m = btf_members(t);
	printf("%s %s {  /* size %u */\n", btf_is_union(t) ? "union" : "struct", name,
	       t->size);
	for (uint16_t i = 0; i < btf_vlen(t); i++, m++) {
		uint32_t bit = btf_member_bit_offset(t, i);
		uint32_t bsz = btf_member_bitfield_size(t, i);
		const char *mn = btf__name_by_offset(btf, m->name_off);
		long sz = btf__resolve_size(btf, m->type);
		if (bsz)
			printf("\t%-32s /* offset %u bit %u, %u bits */\n",
			       mn && *mn ? mn : "(anonymous)", bit / 8, bit % 8, bsz);
		else
			printf("\t%-32s /* offset %u, size %ld */\n",
			       mn && *mn ? mn : "(anonymous)", bit / 8, sz);
	}
	printf("};\n");
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
		else
			print_members(vms_types_btf(types), name);
	}
	cli_target_close(&t);
	return rc;
}
