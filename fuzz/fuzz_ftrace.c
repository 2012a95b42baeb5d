// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the ftrace ring-buffer page decoder
 * (vms_ftrace_decode_page), a pure function over one 4 KiB
 * buffer_data_page.  The input's first two bytes pick the reader offset
 * (from) and the header layout (commit as 4 or 8 bytes); the rest is the
 * page (zero padded to 4096), handed over as an exact-size heap copy so
 * ASan sees any read past it.  Every reported event must lie inside the
 * committed data and be at least a trace_entry long.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/ftrace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define PAGE 4096

struct chk {
	const uint8_t *page;
	size_t events;
};

static int on_event(uint64_t ts, const uint8_t *payload, size_t len, size_t off, void *arg)
{
	struct chk *c = arg;
	(void)ts;
	(void)off;
	if (payload < c->page + 16 || payload + len > c->page + PAGE || len < 8)
		abort();
	volatile uint8_t x = payload[0] ^ payload[len - 1];
	(void)x;
	c->events++;
	return 0;
}

static void seed(const char *dir)
{
	uint8_t buf[2 + PAGE] = { 0, 0 };
	uint8_t *pg = buf + 2;
	uint64_t ts = 1000000;
	memcpy(pg, &ts, 8);
	size_t off = 16;
	for (int i = 0; i < 40; i++) {
		uint32_t hdr = (uint32_t)(i % 3 == 0 ? 0 : 6) | ((uint32_t)i << 5);
		if (i % 7 == 6) {  /* time extend */
			uint32_t h = 30 | (5u << 5), a = 2;
			memcpy(pg + off, &h, 4);
			memcpy(pg + off + 4, &a, 4);
			off += 8;
		}
		if ((hdr & 31) == 0) {
			uint32_t a = 124;
			memcpy(pg + off, &hdr, 4);
			memcpy(pg + off + 4, &a, 4);
			off += 128;
		} else {
			memcpy(pg + off, &hdr, 4);
			off += 28;
		}
	}
	uint64_t commit = off - 16;
	memcpy(pg + 8, &commit, 8);
	char path[4096];
	snprintf(path, sizeof(path), "%s/ftrace-seed-0", dir);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(buf, 1, sizeof(buf), f);
		fclose(f);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		seed(dir);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t from = (size_t)data[0] * 16;
	struct vms_ftrace_page_layout L = { .ts_off = 0, .commit_off = 8,
					    .commit_size = (data[1] & 1) ? 4 : 8,
					    .data_off = 16 };
	uint8_t *page = calloc(1, PAGE);
	if (!page)
		return 0;
	memcpy(page, data + 2, size - 2 < PAGE ? size - 2 : PAGE);
	struct chk c = { page, 0 };
	struct vms_ftrace_page_result res;
	vms_ftrace_decode_page(page, PAGE, &L, from, 0, on_event, &c, &res);
	if (res.corrupt ? c.events != 0 : c.events != res.events)
		abort();
	free(page);
	return 0;
}
