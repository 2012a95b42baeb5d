// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the printk ring buffer decoder (vms_prb_decode), a pure
 * function over copies of the descriptor, info and text arrays.
 * Structure-aware: a valid synthetic ring (16 descriptors, 512 bytes of
 * text, wrapping blocks, multi-line and data-less records, written the way
 * the kernel's printk_ringbuffer.c writes them) is built once; the input's
 * first byte picks a mode:
 *   mode 0..127: the rest is (u16 offset, u8 value) mutations applied to
 *                [ring indexes (32 bytes) | descs | infos | data];
 *   mode 128..:  the rest replaces that whole area (zero padded).
 * Every array handed to the decoder is an exact-size heap copy, so ASan sees
 * any read past it.  Records must come with a NUL-terminated text of at most
 * 65535 bytes and the walk must stay within the descriptor count.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CBITS 4
#define SBITS 9
#define NDESC (1u << CBITS)
#define DSIZE (1u << SBITS)
#define DESC_SZ 24
#define INFO_SZ 88
#define HDR 32
#define AREA (HDR + NDESC * DESC_SZ + NDESC * INFO_SZ + DSIZE)

static uint8_t area0[AREA];

static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static const struct vms_prb_layout layout = {
	.desc_size = DESC_SZ, .desc_state_var = 0, .desc_begin = 8, .desc_next = 16,
	.info_size = INFO_SZ, .info_seq = 0, .info_ts_nsec = 8, .info_text_len = 16,
	.info_facility = 18, .info_caller_id = 20,
	.info_level_byte = 19, .info_level_shift = 5, .info_level_bits = 3,
	.info_flags_byte = 19, .info_flags_shift = 0, .info_flags_bits = 5,
};

/* Write 40 records the way printk does; the last 16 descriptors remain,
 * those whose text was overwritten become reusable. */
static void build(void)
{
	uint8_t *descs = area0 + HDR, *infos = descs + NDESC * DESC_SZ,
		*text = infos + NDESC * INFO_SZ;
	/* id0: ids and seqs agree modulo the descriptor count, as in the kernel */
	uint64_t lpos = 0, id0 = 96, begins[64], nexts[64];
	unsigned nrec = 40;
	for (unsigned i = 0; i < nrec; i++) {
		uint64_t id = id0 + i;
		char msg[64];
		int len = i % 11 == 5 ? 0 :
			  snprintf(msg, sizeof(msg), i % 7 == 3 ? "line %u\nsecond line" :
				   "record number %u here", i);
		uint8_t *d = descs + (id % NDESC) * DESC_SZ, *in = infos + (id % NDESC) * INFO_SZ;
		put64(d, (2ULL << 62) | id);   /* finalized */
		put64(in, id - id0);           /* seq */
		put64(in + 8, 1000000ULL * i + 17);
		put16(in + 16, (uint16_t)len);
		in[18] = 0;
		in[19] = (uint8_t)(((i % 8) << 5) | 2);
		if (!len) {
			put64(d + 8, 3);
			put64(d + 16, 3);
			begins[i] = nexts[i] = 3;
			continue;
		}
		uint64_t size = (8 + (uint64_t)len + 7) & ~7ULL, begin = lpos, next = lpos + size;
		if ((begin >> SBITS) != (next >> SBITS))
			next = ((next + DSIZE - 1) & ~(uint64_t)(DSIZE - 1)) + size;
		put64(text + (begin & (DSIZE - 1)), id);
		uint64_t at = (begin >> SBITS) == (next >> SBITS) ? begin & (DSIZE - 1) : 0;
		put64(text + at, id);
		memcpy(text + at + 8, msg, (size_t)len);
		put64(d + 8, begin);
		put64(d + 16, next);
		begins[i] = begin;
		nexts[i] = next;
		lpos = next;
	}
	uint64_t head = id0 + nrec - 1, tail = head - NDESC + 1, tail_lpos = lpos;
	for (uint64_t id = tail; id <= head; id++) {
		unsigned i = (unsigned)(id - id0);
		if (begins[i] & 1)
			continue;
		if (lpos - begins[i] > DSIZE) {
			put64(descs + (id % NDESC) * DESC_SZ, (3ULL << 62) | id);   /* reusable */
			continue;
		}
		if (begins[i] < tail_lpos)
			tail_lpos = begins[i];
	}
	(void)nexts;
	put64(area0, head);
	put64(area0 + 8, tail);
	put64(area0 + 16, lpos);
	put64(area0 + 24, tail_lpos);
}

struct check {
	size_t n;
};

static int on_record(const struct vms_printk_record *r, void *arg)
{
	struct check *c = arg;
	if (r->text_len > 0xffff || r->text[r->text_len] != '\0' || r->level > 7)
		abort();
	if (++c->n > NDESC)
		abort();   /* never more records than descriptors */
	return 0;
}

static void decode(const uint8_t *a)
{
	uint8_t *descs = malloc(NDESC * DESC_SZ), *infos = malloc(NDESC * INFO_SZ),
		*text = malloc(DSIZE);
	if (!descs || !infos || !text)
		abort();
	memcpy(descs, a + HDR, NDESC * DESC_SZ);
	memcpy(infos, a + HDR + NDESC * DESC_SZ, NDESC * INFO_SZ);
	memcpy(text, a + HDR + NDESC * (DESC_SZ + INFO_SZ), DSIZE);
	struct vms_prb_image img = {
		.L = layout, .count_bits = CBITS, .size_bits = SBITS,
		.descs = descs, .descs_len = NDESC * DESC_SZ,
		.infos = infos, .infos_len = NDESC * INFO_SZ,
		.data = text, .data_len = DSIZE,
		.head_id = get64(a), .tail_id = get64(a + 8),
		.head_lpos = get64(a + 16), .tail_lpos = get64(a + 24),
	};
	struct check c = { 0 };
	struct vms_walk_result res = { 0 };
	size_t bad;
	struct vms_error *err = vms_prb_decode(&img, on_record, &c, &res, &bad);
	if (!err && c.n != res.count)
		abort();
	vms_error_free(err);
	free(descs);
	free(infos);
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	build();
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		static const uint8_t seeds[][4] = {
			{ 0 },                         /* the ring as built */
			{ 1, 0x20, 0x00, 0x41 },       /* a descriptor's state */
			{ 2, 0x80, 0x01, 0xff },       /* an info byte */
			{ 3, 0x00, 0x00, 0x99 },       /* head_id */
		};
		for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/ring%zu", dir, i);
			FILE *f = fopen(path, "wb");
			if (!f)
				continue;
			fwrite(seeds[i], 1, i ? 4 : 1, f);
			fclose(f);
		}
		char path[4096];
		snprintf(path, sizeof(path), "%s/raw", dir);
		FILE *f = fopen(path, "wb");
		if (f) {
			fputc(0x80, f);
			fwrite(area0, 1, AREA, f);
			fclose(f);
		}
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	static uint8_t a[AREA];
	if (data[0] < 128) {
		memcpy(a, area0, AREA);
		for (size_t i = 1; i + 3 <= size; i += 3) {
			size_t off = ((size_t)data[i] | (size_t)data[i + 1] << 8) % AREA;
			a[off] = data[i + 2];
		}
	} else {
		memset(a, 0, AREA);
		memcpy(a, data + 1, size - 1 < AREA ? size - 1 : AREA);
	}
	decode(a);
	return 0;
}
