// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight isf: a Volatility 3 symbol table (ISF JSON) from guest memory. */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/isf.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight isf [-o FILE] [--json] [-v] SOURCE\n"
		"Write a Volatility 3 symbol table (ISF " VMS_ISF_FORMAT ", as dwarf2json writes)\n"
		"for the guest kernel in SOURCE, from its BTF, kallsyms and banner alone:\n"
		"no debug package, no System.map.  See docs/isf.md.\n"
		"  -o, --output FILE   write FILE (FILE.json.xz: xz-compressed) instead of stdout;\n"
		"                      a summary goes to stderr (--json: to stdout)\n"
		CLI_COMMON_USAGE);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcmp(s + n - m, suffix);
}

/* FILE.tmp, then rename: a reader never sees half a table. */
static bool write_file(const struct cli_target *t, const char *path, const void *data,
		       size_t len)
{
	size_t n = strlen(path) + 16;
	char *tmp = malloc(n);
	if (!tmp)
		return false;
	snprintf(tmp, n, "%s.tmp%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "wb");
	bool ok = f && fwrite(data, 1, len, f) == len;
	if (f && fclose(f))
		ok = false;
	if (ok && rename(tmp, path))
		ok = false;
	if (!ok) {
		fprintf(stderr, "%s: cannot write %s: %s\n", t->prog, path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return ok;
}

static void summary(const struct cli_target *t, const char *path, const struct vms_isf_stats *s,
		    size_t written)
{
	if (t->json) {
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(path));
		json_object_object_add(o, "format", json_object_new_string(VMS_ISF_FORMAT));
		json_object_object_add(o, "bytes", json_object_new_int64((int64_t)written));
		json_object_object_add(o, "json_bytes", json_object_new_int64((int64_t)s->json_bytes));
		json_object_object_add(o, "base_types", json_object_new_int64((int64_t)s->base_types));
		json_object_object_add(o, "user_types", json_object_new_int64((int64_t)s->user_types));
		json_object_object_add(o, "enums", json_object_new_int64((int64_t)s->enums));
		json_object_object_add(o, "symbols", json_object_new_int64((int64_t)s->symbols));
		json_object_object_add(o, "symbols_typed_btf", json_object_new_int64((int64_t)s->symbols_btf));
		json_object_object_add(o, "symbols_typed_filled", json_object_new_int64((int64_t)s->symbols_filled));
		json_object_object_add(o, "symbols_void", json_object_new_int64((int64_t)s->symbols_untyped));
		json_object_object_add(o, "duplicate_symbol_names", json_object_new_int64((int64_t)s->duplicate_names));
		json_object_object_add(o, "duplicate_type_names", json_object_new_int64((int64_t)s->duplicate_types));
		json_object_object_add(o, "duplicate_type_names_differing", json_object_new_int64((int64_t)s->duplicate_types_differing));
		struct json_object *d = json_object_new_array();
		for (size_t i = 0; i < s->duplicate_types_differing && i < VMS_ISF_NOTED; i++)
			json_object_array_add(d, json_object_new_string(s->differing[i]));
		json_object_object_add(o, "differing_type_names", d);
		json_object_object_add(o, "forward_only_types", json_object_new_int64((int64_t)s->forward_only));
		json_object_object_add(o, "banner_bytes", json_object_new_int64((int64_t)s->banner_len));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		return;
	}
	fprintf(stderr,
		"%s: wrote %s (%zu bytes, ISF %s): %zu base types, %zu user types, %zu enums, "
		"%zu symbols (%zu typed from BTF, %zu from vmsight's table of well-known globals, "
		"%zu void); %zu duplicate symbol names and %zu same-layout type copies "
		"left out, %zu other layouts of a used name written as NAME__ID, "
		"%zu names only forward-declared in BTF\n",
		t->prog, path, written, VMS_ISF_FORMAT, s->base_types, s->user_types, s->enums,
		s->symbols, s->symbols_btf, s->symbols_filled, s->symbols_untyped,
		s->duplicate_names, s->duplicate_types, s->duplicate_types_differing,
		s->forward_only);
	/* Guest names: escaped as everywhere in text output. */
	for (size_t i = 0; t->verbose && i < s->duplicate_types_differing && i < VMS_ISF_NOTED; i++) {
		char esc[VMS_ESCAPE_PS_SIZE(sizeof(s->differing[0]))];
		fprintf(stderr, "%s: another layout of a struct name, written as %s\n", t->prog,
			cli_text(t, esc, sizeof(esc), s->differing[i], VMS_ESCAPE_PS));
	}
}

int cmd_isf(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight isf" };
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ 0 }
	};
	const char *out = NULL;
	int c;
	while ((c = cli_getopt(&t, argc, argv, "o:", opts)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || (out && !out[0])) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	char *json = NULL;
	size_t len = 0;
	struct vms_isf_stats st;
	struct vms_error *err = vms_isf_build(t.kernel, &json, &len, &st);
	int rc = EXIT_OK;
	if (err) {
		rc = cli_fail(&t, err);
	} else if (!out) {
		if (fwrite(json, 1, len, stdout) != len || fflush(stdout)) {
			fprintf(stderr, "%s: writing stdout: %s\n", t.prog, strerror(errno));
			rc = EXIT_ERROR;
		}
	} else if (ends_with(out, ".xz")) {
		uint8_t *xz;
		size_t xlen;
		if ((err = vms_isf_xz(json, len, &xz, &xlen)))
			rc = cli_fail(&t, err);
		else {
			if (write_file(&t, out, xz, xlen))
				summary(&t, out, &st, xlen);
			else
				rc = EXIT_ERROR;
			free(xz);
		}
	} else if (write_file(&t, out, json, len)) {
		summary(&t, out, &st, len);
	} else {
		rc = EXIT_ERROR;
	}
	free(json);
	if (rc == EXIT_OK && t.warnings)
		rc = EXIT_PARTIAL;
	cli_target_close(&t);
	return rc;
}
