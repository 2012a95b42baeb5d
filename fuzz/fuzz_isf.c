// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the ISF writer's BTF part (src/export/isf_types.c).
 * The input is a raw .BTF blob; whatever libbpf accepts must give either
 * an error or a document that parses as JSON (never a malformed file):
 * a document that does not parse aborts.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write a BTF built with libbpf there, exit.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/isf_priv.h"

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static void write_seed(const char *dir)
{
	struct btf *b = btf__new_empty();
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_SIGNED);
	int fwd = btf__add_fwd(b, "list_head", BTF_FWD_STRUCT);
	int plh = btf__add_ptr(b, fwd);
	int lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", plh, 0, 0);
	btf__add_field(b, "prev", plh, 64, 0);
	int anon = btf__add_struct(b, NULL, 4);
	btf__add_field(b, "counter", i32, 0, 0);
	int at = btf__add_typedef(b, "atomic_t", anon);
	int un = btf__add_union(b, NULL, 4);
	btf__add_field(b, "a", u32, 0, 0);
	btf__add_field(b, "b", at, 0, 0);
	int comm = btf__add_array(b, i32, chr, 16);
	int e = btf__add_enum(b, "pid_type", 4);
	btf__add_enum_value(b, "PIDTYPE_PID", 0);
	btf__add_enum_value(b, "PIDTYPE_MAX", -1);
	btf__add_struct(b, "task_struct", 64);
	btf__add_field(b, "tasks", lh, 0, 0);
	btf__add_field(b, NULL, un, 128, 0);
	btf__add_field(b, "flags", u32, 160, 3);
	btf__add_field(b, "bits", u32, 163, 7);
	btf__add_field(b, "comm", comm, 192, 0);
	btf__add_field(b, "type", e, 320, 0);
	btf__add_var(b, "runqueues", BTF_VAR_GLOBAL_ALLOCATED, lh);
	uint32_t sz;
	const void *raw = btf__raw_data(b, &sz);
	if (raw)
		fuzz_write_seed(dir, "btf-isf", raw, sz);
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
	struct btf *btf = btf__new(data, (uint32_t)size);
	if (!btf)
		return 0;
	struct isf_types *ty;
	struct vms_isf_stats st = { 0 };
	struct vms_error *err = isf_types_new(btf, &ty);
	if (!err) {
		struct isf_buf b = { 0 };
		isf_puts(&b, "{");
		err = isf_types_write(ty, &b, &st);
		isf_puts(&b, "}");
		if (!err && !b.oom) {
			struct json_tokener *tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 8);
			struct json_object *o = json_tokener_parse_ex(tok, b.p, (int)b.len);
			if (!o || json_tokener_get_error(tok) != json_tokener_success)
				abort();  /* a malformed document */
			json_object_put(o);
			json_tokener_free(tok);
		}
		free(b.p);
		isf_types_free(ty);
	}
	vms_error_free(err);
	btf__free(btf);
	return 0;
}
