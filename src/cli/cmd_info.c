// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight info: what discovery found. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight info [--json] [-v] SOURCE\n"
		"Show the guest kernel found in SOURCE: release, banner, KASLR offsets,\n"
		"symbols recovered from kallsyms, BTF, CPUs and paging mode.\n"
		CLI_COMMON_USAGE);
}

static char *hex(char *buf, uint64_t v)
{
	sprintf(buf, "0x%llx", (unsigned long long)v);
	return buf;
}

static char *shex(char *buf, int64_t v)
{
	if (v < 0)
		sprintf(buf, "-0x%llx", (unsigned long long)-(uint64_t)v);
	else
		sprintf(buf, "0x%llx", (unsigned long long)v);
	return buf;
}

int cmd_info(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight info" };
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

	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	const struct vms_kernel_info *in = vms_kernel_info(t.kernel);
	char b[8][32];
	char banner[sizeof(in->banner)];
	snprintf(banner, sizeof(banner), "%s", in->banner);
	size_t bl = strlen(banner);
	while (bl && banner[bl - 1] == '\n')
		banner[--bl] = '\0';
	const char *paging = in->la57 ? "5-level (LA57)" : "4-level";
	if (t.json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "source", json_object_new_string(t.src->path));
		json_object_object_add(o, "source_kind", json_object_new_string(t.src->kind));
		json_object_object_add(o, "memory_bytes", json_object_new_int64((int64_t)vms_source_phys_size(t.src)));
		json_object_object_add(o, "release", json_object_new_string(in->release));
		json_object_object_add(o, "banner", json_object_new_string(banner));
		json_object_object_add(o, "text_vaddr", json_object_new_string(hex(b[0], in->text_vaddr)));
		json_object_object_add(o, "text_paddr", json_object_new_string(hex(b[1], in->text_paddr)));
		json_object_object_add(o, "kaslr_virt_offset", json_object_new_string(shex(b[2], in->kaslr_virt)));
		json_object_object_add(o, "kaslr_phys_offset", json_object_new_string(shex(b[3], in->kaslr_phys)));
		json_object_object_add(o, "page_offset_base", json_object_new_string(hex(b[4], in->page_offset_base)));
		json_object_object_add(o, "page_table", json_object_new_string(hex(b[5], in->pgd)));
		json_object_object_add(o, "page_table_origin", json_object_new_string(in->pgd_origin));
		json_object_object_add(o, "paging", json_object_new_string(in->la57 ? "5-level" : "4-level"));
		json_object_object_add(o, "symbols", json_object_new_int64((int64_t)in->nr_symbols));
		json_object_object_add(o, "kallsyms_layout", json_object_new_int(in->kallsyms.layout));
		json_object_object_add(o, "symbol_source", json_object_new_string(in->kallsyms.symbol_source));
		json_object_object_add(o, "types_source", json_object_new_string(in->kallsyms.types_source));
		json_object_object_add(o, "btf_vaddr", json_object_new_string(hex(b[6], in->btf_vaddr)));
		json_object_object_add(o, "btf_bytes", json_object_new_int64((int64_t)in->btf_size));
		json_object_object_add(o, "btf_types", json_object_new_int64(in->btf_types));
		json_object_object_add(o, "cpus_online", json_object_new_int((int)in->nr_cpus_online));
		json_object_object_add(o, "nr_cpu_ids", json_object_new_int((int)in->nr_cpu_ids));
		json_object_object_add(o, "vcpu_states", json_object_new_int((int)t.src->nr_cpus));
		json_object_object_add(o, "ram_file_lowmem", json_object_new_string(hex(b[7], in->ram_layout_lowmem)));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	} else {
		printf("%-18s %s (%s, %llu MiB)\n", "source", t.src->path, t.src->kind,
		       (unsigned long long)(vms_source_phys_size(t.src) >> 20));
		/* Release and banner are the guest's strings: escaped as ps
		 * shows names ('?'). */
		char esc[VMS_ESCAPE_PS_SIZE(sizeof(in->banner))];
		printf("%-18s %s\n", "release", cli_text(&t, esc, sizeof(esc), in->release,
							   VMS_ESCAPE_PS));
		printf("%-18s %s\n", "banner", cli_text(&t, esc, sizeof(esc), banner, VMS_ESCAPE_PS));
		printf("%-18s %s (physical %s)\n", "_text", hex(b[0], in->text_vaddr),
		       hex(b[1], in->text_paddr));
		printf("%-18s virtual %s, physical %s\n", "KASLR offset",
		       shex(b[2], in->kaslr_virt), shex(b[3], in->kaslr_phys));
		printf("%-18s %s\n", "direct map", hex(b[4], in->page_offset_base));
		printf("%-18s %s, table %s (%s)\n", "paging", paging, hex(b[5], in->pgd),
		       in->pgd_origin);
		printf("%-18s %zu, from %s\n", "symbols", in->nr_symbols, in->kallsyms.symbol_source);
		printf("%-18s from %s\n", "types", in->kallsyms.types_source);
		printf("%-18s %zu bytes, %u types, at %s\n", "BTF", in->btf_size,
		       in->btf_types, hex(b[6], in->btf_vaddr));
		printf("%-18s %u online (nr_cpu_ids %u)\n", "CPUs", in->nr_cpus_online,
		       in->nr_cpu_ids);
	}
	int rc = t.warnings ? EXIT_PARTIAL : EXIT_OK;
	cli_target_close(&t);
	return rc;
}
