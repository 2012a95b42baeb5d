// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight dmesg: the guest's kernel log, read from its printk ring buffer. */
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
		"usage: vmsight dmesg [-r] [-t] [--noescape] [--json] [-v] SOURCE\n"
		"Print the guest's kernel log from its printk ring buffer, oldest first,\n"
		"as dmesg does: \"[seconds.micros] text\", each line of a multi-line record\n"
		"with the record's prefix.  As util-linux dmesg, control characters, invalid\n"
		"UTF-8 and (unambiguously) backslashes print as \\xNN; tabs stay.\n"
		"  -r, --raw           prefix each line with <facility*8+level>, as dmesg -r\n"
		"                      (dmesg's meaning: here --raw does not stop escaping)\n"
		"  -t, --notime        no timestamps\n"
		"  --noescape          print the log's bytes unescaped, as dmesg --noescape\n"
		"  --json              one object per record: seq, ts_nsec, level, facility,\n"
		"                      flags, caller, text (exact bytes)\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok, 2 error, 3 log printed but corrupt records were\n"
		"skipped (a warning says where).\n");
}

struct ctx {
	const struct cli_target *t;
	bool json, raw, notime;
};

static void print_json(const struct vms_printk_record *r)
{
	struct json_object *o = json_object_new_object();
	char caller[16];
	json_object_object_add(o, "seq", json_object_new_int64((int64_t)r->seq));
	json_object_object_add(o, "ts_nsec", json_object_new_int64((int64_t)r->ts_nsec));
	json_object_object_add(o, "level", json_object_new_int(r->level));
	json_object_object_add(o, "facility", json_object_new_int(r->facility));
	json_object_object_add(o, "flags", json_object_new_int(r->flags));
	/* As CONFIG_PRINTK_CALLER prints it: T<pid> or C<cpu>. */
	snprintf(caller, sizeof(caller), "%c%u", r->caller_id & 0x80000000u ? 'C' : 'T',
		 r->caller_id & ~0x80000000u);
	json_object_object_add(o, "caller", json_object_new_string(caller));
	json_object_object_add(o, "text", json_object_new_string_len(r->text, (int)r->text_len));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

/* record_print_text(): every line of the record gets the prefix. */
static int show(const struct vms_printk_record *r, void *arg)
{
	const struct ctx *c = arg;
	if (c->json) {
		print_json(r);
		return 0;
	}
	char prefix[64];
	size_t n = 0;
	if (c->raw)
		n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, "<%u>",
				      (unsigned)r->facility << 3 | r->level);
	if (!c->notime)
		n += (size_t)snprintf(prefix + n, sizeof(prefix) - n, "[%5llu.%06llu] ",
				      (unsigned long long)(r->ts_nsec / 1000000000u),
				      (unsigned long long)(r->ts_nsec % 1000000000u / 1000));
	const char *p = r->text, *end = r->text + r->text_len;
	do {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		fwrite(prefix, 1, n, stdout);
		cli_text_put(c->t, p, (size_t)(e - p), VMS_ESCAPE_LOG);
		putchar('\n');
		p = nl ? nl + 1 : end;
	} while (p < end);
	return 0;
}

int cmd_dmesg(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight dmesg" };
	struct ctx c = { .t = &t };
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "notime", no_argument, NULL, 't' },
		{ 0 }
	};
	int ch;
	while ((ch = cli_getopt(&t, argc, argv, "rt", opts)) != -1) {
		switch (ch) {
		case 'r': c.raw = true; break;
		case 't': c.notime = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	c.json = t.json;
	if (!cli_target_open(&t, argv[optind]))
		return EXIT_ERROR;
	struct vms_walk_result res;
	struct vms_error *err = vms_linux_for_each_printk(t.kernel, show, &c, &res);
	if (err) {
		int rc = cli_fail(&t, err);
		cli_target_close(&t);
		return rc;
	}
	int rc = cli_walk_status(&t, &res, false, "log record(s)");
	cli_target_close(&t);
	return rc;
}
