/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * types_query: answer many type questions from one vmlinux's DWARF (the
 * library's --vmlinux route, vms_types_from_dwarf) in one process, so that
 * a test can compare a whole symbol table with the kernel's own DWARF
 * without re-indexing it per question.
 *
 *	types_query VMLINUX < QUERIES > ANSWERS
 *
 * One query per line, one JSON line per answer, in order:
 *	S NAME          {"size":N,"union":B,"members":[[name,bit_offset,size,bit_size]...]}
 *	F NAME PATH     {"offset":N,"size":N,"bit_offset":N,"bit_size":N}
 *	E ENUMERATOR    {"value":N}
 * or {"error":"..."} when the DWARF does not answer.
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/types.h>

static void add_member(void *arg, const struct vms_member *m)
{
	struct json_object *row = json_object_new_array();
	json_object_array_add(row, json_object_new_string(m->name));
	json_object_array_add(row, json_object_new_int64((int64_t)m->bit_offset));
	json_object_array_add(row, json_object_new_int64(m->size));
	json_object_array_add(row, json_object_new_int64(m->bit_size));
	json_object_array_add(arg, row);
}

static struct json_object *answer(struct vms_types *ty, char *line)
{
	struct json_object *o = json_object_new_object();
	struct vms_error *err = NULL;
	char *name = line + 2;
	if (line[0] == 'S' && line[1] == ' ') {
		size_t size = 0;
		bool is_union = false;
		struct json_object *members = json_object_new_array();
		if (!(err = vms_types_struct_size(ty, name, &size)) &&
		    !(err = vms_types_members(ty, name, &is_union, add_member, members))) {
			json_object_object_add(o, "size", json_object_new_int64((int64_t)size));
			json_object_object_add(o, "union", json_object_new_boolean(is_union));
			json_object_object_add(o, "members", members);
		} else {
			json_object_put(members);
		}
	} else if (line[0] == 'F' && line[1] == ' ') {
		char *path = strchr(name, ' ');
		struct vms_field f;
		if (!path) {
			err = vms_error_create(VMS_ERR_INVALID, "F needs NAME PATH");
		} else {
			*path++ = '\0';
			if (!(err = vms_types_field(ty, name, path, &f))) {
				json_object_object_add(o, "offset", json_object_new_int64(f.offset));
				json_object_object_add(o, "size", json_object_new_int64(f.size));
				json_object_object_add(o, "bit_offset", json_object_new_int64(f.bit_offset));
				json_object_object_add(o, "bit_size", json_object_new_int64(f.bit_size));
			}
		}
	} else if (line[0] == 'E' && line[1] == ' ') {
		int64_t v;
		if (!(err = vms_types_enum_value(ty, name, &v)))
			json_object_object_add(o, "value", json_object_new_int64(v));
	} else {
		err = vms_error_create(VMS_ERR_INVALID, "unknown query");
	}
	if (err) {
		json_object_object_add(o, "error", json_object_new_string(err->message));
		vms_error_free(err);
	}
	return o;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: types_query VMLINUX < QUERIES\n");
		return 64;
	}
	struct vms_types *ty;
	struct vms_error *err = vms_types_from_dwarf(argv[1], &ty);
	if (err) {
		fprintf(stderr, "types_query: %s\n", err->message);
		vms_error_free(err);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) > 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = '\0';
		if (n < 3)
			continue;
		struct json_object *o = answer(ty, line);
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
	}
	free(line);
	vms_types_destroy(ty);
	return 0;
}
