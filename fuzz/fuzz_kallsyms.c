// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: kallsyms recovery.  Structure-aware: the input's
 * first byte picks a mode.
 *   mode 0..3: a valid synthetic table (one of four variants) with the rest
 *              of the input applied as (u16 offset, u8 value) mutations to
 *              the tables;
 *   mode 4..:  the rest of the input is the kernel image itself.
 * The image handed to the library is an exact-size heap copy so ASan sees
 * any read past it.  Recovery, finish and lookups must never crash.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

#include "../tests/unit/kallsyms_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define NVAR 4
static struct kgen gens[NVAR];

static void write_file(const char *dir, const char *name, const uint8_t *a,
		       size_t alen, const uint8_t *b, size_t blen)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(a, 1, alen, f);
	if (blen)
		fwrite(b, 1, blen, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	static const struct kgen_opts opts[NVAR] = {
		{ .layout = 1, .seqs = true, .abs_percpu = true, .nsyms = 300,
		  .img_len = 48 << 10, .table_off = 0x1000, .seed = 3 },
		{ .layout = 1, .nsyms = 290, .big_symbol = false,
		  .img_len = 48 << 10, .table_off = 0x1800 },
		{ .layout = 2, .nsyms = 520, .big_symbol = true,
		  .img_len = 64 << 10, .table_off = 0x1008, .seed = 5 },
		{ .layout = 2, .abs_percpu = true, .nsyms = 260, .markers8 = false,
		  .img_len = 40 << 10, .table_off = 0x1000 },
	};
	for (int i = 0; i < NVAR; i++)
		if (kgen_build(&gens[i], &opts[i])) {
			fprintf(stderr, "fuzz_kallsyms: kgen_build %d failed\n", i);
			abort();
		}
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		for (int i = 0; i < NVAR; i++) {
			char name[32];
			uint8_t mode = (uint8_t)i;
			/* unmutated table, and one mutation in the names */
			snprintf(name, sizeof(name), "table%d", i);
			write_file(dir, name, &mode, 1, NULL, 0);
			uint8_t mut[4] = { mode, 0x10, 0x00, 0x41 };
			snprintf(name, sizeof(name), "table%d-mut", i);
			write_file(dir, name, mut, 4, NULL, 0);
			/* raw image mode: the tables themselves, trimmed */
			uint8_t raw = 4;
			const struct kgen *g = &gens[i];
			snprintf(name, sizeof(name), "raw%d", i);
			write_file(dir, name, &raw, 1, g->img + g->o.table_off - 64,
				   g->end - g->o.table_off + 64);
		}
		exit(0);
	}
	return 0;
}

static void run(const uint8_t *img, size_t len, size_t scan_start, size_t scan_end)
{
	struct vms_symtab *tab;
	if (vms_symtab_create(&tab))
		return;
	struct vms_kallsyms_info info;
	struct vms_error *err = vms_kallsyms_recover(img, len, KGEN_VADDR, scan_start,
						     scan_end, tab, &info);
	if (!err) {
		err = vms_symtab_finish(tab);
		if (!err) {
			size_t n = vms_symtab_count(tab);
			for (size_t i = 0; i < n && i < 8; i++) {
				const struct vms_symbol *s = vms_symtab_at(tab, i);
				if (vms_symtab_by_name(tab, s->name) == NULL)
					abort();  /* every name must be found */
				uint64_t off;
				vms_symtab_by_addr(tab, s->addr + 3, &off);
			}
			vms_symtab_by_name(tab, "_text");
			vms_symtab_by_addr(tab, KGEN_VADDR + 0x1234, NULL);
			vms_symtab_by_addr(tab, 0, NULL);
			vms_symtab_by_addr(tab, ~0ULL, NULL);
		}
	}
	vms_error_free(err);
	vms_symtab_destroy(tab);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned mode = data[0];
	data++;
	size--;
	if (mode >= NVAR) {
		if (!size)
			return 0;
		uint8_t *img = malloc(size);
		memcpy(img, data, size);
		run(img, size, 0, size);
		free(img);
		return 0;
	}
	const struct kgen *g = &gens[mode];
	uint8_t *img = malloc(g->len);
	memcpy(img, g->img, g->len);
	size_t span = g->end - g->o.table_off + 64;
	for (size_t i = 0; i + 3 <= size; i += 3) {
		size_t off = (size_t)(data[i] | data[i + 1] << 8) % span;
		img[g->o.table_off - 32 + off] = data[i + 2];
	}
	/* A trailing byte, if any, cuts the image short. */
	size_t len = g->len;
	if (size % 3 == 1)
		len = g->o.table_off + (size_t)data[size - 1] * (g->end - g->o.table_off) / 255;
	if (len != g->len) {
		uint8_t *cut = malloc(len);
		memcpy(cut, img, len);
		free(img);
		img = cut;
	}
	run(img, len, 0, len);
	free(img);
	return 0;
}
