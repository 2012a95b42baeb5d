// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: BTF loading (header check + libbpf) and the member
 * and enum lookups vmsight does on it.  The input is a raw .BTF blob.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write a BTF built with libbpf there, exit.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/types.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void write_seed(const char *dir)
{
	struct btf *b = btf__new_empty();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	int vp = btf__add_ptr(b, 0);
	int lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", vp, 0, 0);
	btf__add_field(b, "prev", vp, 64, 0);
	int se = btf__add_struct(b, "sched_entity", 16);
	btf__add_field(b, "load", i32, 0, 0);
	btf__add_field(b, "vruntime", vp, 64, 0);
	int au = btf__add_union(b, NULL, 4);
	btf__add_field(b, "__state", u32, 0, 0);
	btf__add_field(b, "state_alias", i32, 0, 0);
	int comm = btf__add_array(b, i32, chr, 16);
	int td = btf__add_typedef(b, "se_t", se);
	int cse = btf__add_const(b, td);
	btf__add_struct(b, "task_struct", 96);
	btf__add_field(b, "tasks", lh, 0, 0);
	btf__add_field(b, NULL, au, 128, 0);
	btf__add_field(b, "pid", i32, 160, 0);
	btf__add_field(b, "tgid", i32, 192, 0);
	btf__add_field(b, "flags", u32, 224, 3);
	btf__add_field(b, "bits", u32, 227, 7);
	btf__add_field(b, "se", cse, 256, 0);
	btf__add_field(b, "comm", comm, 384, 0);
	btf__add_enum(b, "pid_type", 4);
	btf__add_enum_value(b, "PIDTYPE_PID", 0);
	btf__add_enum_value(b, "PIDTYPE_TGID", 1);
	btf__add_enum64(b, "big", 8, false);
	btf__add_enum64_value(b, "BIG_VAL", 1ULL << 40);
	uint32_t sz;
	const void *raw = btf__raw_data(b, &sz);
	char path[4096];
	snprintf(path, sizeof(path), "%s/btf-libbpf", dir);
	FILE *f = fopen(path, "wb");
	if (f && raw) {
		fwrite(raw, 1, sz, f);
		fclose(f);
	}
	btf__free(b);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	libbpf_set_print(quiet);
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		write_seed(dir);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exact-size copy: ASan sees reads past the blob */
	uint8_t *copy = malloc(size ? size : 1);
	memcpy(copy, data, size);
	vms_btf_blob_size(copy, size);
	struct vms_types *t = NULL;
	struct vms_error *err = vms_types_from_btf(copy, size, &t);
	free(copy);
	if (err) {
		vms_error_free(err);
		return 0;
	}
	static const char *const structs[] = { "task_struct", "list_head",
					       "sched_entity", "nope" };
	static const char *const paths[] = { "tasks", "tasks.next", "pid", "__state",
		"state_alias", "flags", "bits", "se.vruntime", "comm", "se.load.x",
		"", ".", "..", "a..b", "nope" };
	for (size_t i = 0; i < sizeof(structs) / sizeof(*structs); i++) {
		size_t sz;
		vms_error_free(vms_types_struct_size(t, structs[i], &sz));
		for (size_t j = 0; j < sizeof(paths) / sizeof(*paths); j++) {
			struct vms_field f;
			vms_error_free(vms_types_field(t, structs[i], paths[j], &f));
		}
	}
	/* Every named struct/union in the blob, with its members. */
	const struct btf *btf = vms_types_btf(t);
	uint32_t n = vms_types_count(t);
	for (uint32_t id = 1; id < n && id < 64; id++) {
		const struct btf_type *bt = btf__type_by_id(btf, id);
		if (!bt || !(btf_is_struct(bt) || btf_is_union(bt)))
			continue;
		const char *name = btf__name_by_offset(btf, bt->name_off);
		if (!name || !*name)
			continue;
		size_t sz;
		vms_error_free(vms_types_struct_size(t, name, &sz));
		const struct btf_member *m = btf_members(bt);
		for (uint16_t i = 0; i < btf_vlen(bt) && i < 16; i++) {
			const char *mn = btf__name_by_offset(btf, m[i].name_off);
			if (mn && *mn)
				vms_types_has_field(t, name, mn);
		}
	}
	int64_t v;
	vms_error_free(vms_types_enum_value(t, "PIDTYPE_TGID", &v));
	vms_error_free(vms_types_enum_value(t, "BIG_VAL", &v));
	vms_error_free(vms_types_enum_value(t, "NO_SUCH_VALUE", &v));
	vms_types_destroy(t);
	return 0;
}
