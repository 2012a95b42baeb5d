// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the System.map parser.  The input is the file's text,
 * handed over as an exact-size heap copy (no terminating NUL) so ASan sees
 * any read past it.  Parse, finish, then look up every parsed name and a
 * few addresses: nothing may crash, and the counts must add up.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const seeds[][2] = {
	{ "good", "ffffffff81000000 T _text\nffffffff81000000 T startup_64\n"
		  "0000000000000000 D __per_cpu_start\nffffffff82000000 D linux_banner\n"
		  "ffffffff81001000 t local_fn\nffffffffc0000000 t mod_fn\t[dummy]\n" },
	{ "stub", "ffffffffffffffff B The real System.map is in the linux-image-x-dbg package\n" },
	{ "crlf", "ffffffff81000000 T _text\r\nffffffff81000010 T b\r\n" },
	{ "bad", "zz T x\nffffffff81000000 TT y\n12345678901234567 T z\nffffffff81000000 T\n"
		 "ffffffff81000000 T a b\nffffffff81000000 T a [m\n\n\nffffffff81000000 T ok" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (!dir)
		return 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", dir, seeds[i][0]);
		FILE *f = fopen(path, "wb");
		if (!f)
			continue;
		fputs(seeds[i][1], f);
		fclose(f);
	}
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	struct vms_symtab *tab;
	if (vms_symtab_create(&tab)) {
		free(text);
		return 0;
	}
	struct vms_system_map_stats st;
	struct vms_error *err = vms_system_map_parse(text, size, tab, &st);
	if (!err) {
		if (st.symbols != vms_symtab_count(tab) || st.bad_lines > st.lines ||
		    (st.bad_lines && !st.first_bad_line))
			abort();
		if (!vms_symtab_finish(tab)) {
			for (size_t i = 0; i < vms_symtab_count(tab); i++) {
				const struct vms_symbol *s = vms_symtab_at(tab, i);
				if (!vms_symtab_by_name(tab, s->name))
					abort();
				uint64_t off;
				vms_symtab_by_addr(tab, s->addr, &off);
			}
		}
	}
	vms_error_free(err);
	vms_symtab_destroy(tab);
	free(text);
	return 0;
}
