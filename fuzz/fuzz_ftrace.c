// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the ftrace ring-buffer page decoder
 * (vms_ftrace_decode_page), a pure function over one 4 KiB
 * buffer_data_page.  The input's first two bytes pick the reader offset
 * (from) and the header layout (commit as 4 or 8 bytes); the rest is the
 * page (zero padded to 4096), handed over as an exact-size heap copy so
 * ASan sees any read past it.  Every reported event must lie inside the
 * committed data and be at least a trace_entry long.
 *
 * Inputs starting with "FMT" exercise the print_fmt printer instead
 * (src/os/linux/ftrace_print.c over libtraceevent): "FMT", a 2-byte record
 * length L, L record bytes (its first two bytes the event type), then a
 * tracefs format text (its ID should be that type).  The format is parsed
 * and the record printed; what the printer accepts must not read outside
 * the record (an exact-size heap copy) nor crash.  Run with
 * -detect_leaks=0: libtraceevent leaks on some of its parse-error paths.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/ftrace.h>

#include "os/linux/ftrace_internal.h"

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

/* sched_switch as 6.1 prints it, with a record: the printer seed. */
static const char SWITCH_FMT[] =
	"name: sched_switch\nID: 316\nformat:\n"
	"\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n"
	"\tfield:unsigned char common_flags;\toffset:2;\tsize:1;\tsigned:0;\n"
	"\tfield:unsigned char common_preempt_count;\toffset:3;\tsize:1;\tsigned:0;\n"
	"\tfield:int common_pid;\toffset:4;\tsize:4;\tsigned:1;\n\n"
	"\tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t prev_pid;\toffset:24;\tsize:4;\tsigned:1;\n"
	"\tfield:int prev_prio;\toffset:28;\tsize:4;\tsigned:1;\n"
	"\tfield:long prev_state;\toffset:32;\tsize:8;\tsigned:1;\n"
	"\tfield:char next_comm[16];\toffset:40;\tsize:16;\tsigned:0;\n"
	"\tfield:pid_t next_pid;\toffset:56;\tsize:4;\tsigned:1;\n"
	"\tfield:int next_prio;\toffset:60;\tsize:4;\tsigned:1;\n"
	"\tfield:__data_loc char[] name;\toffset:64;\tsize:4;\tsigned:0;\n\n"
	"print fmt: \"prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s "
	"next_pid=%d next_prio=%d %s %s\", REC->prev_comm, REC->prev_pid, REC->prev_prio, "
	"(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1)) ? "
	"__print_flags(REC->prev_state & ((((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) - 1), "
	"\"|\", { 0x00000001, \"S\" }, { 0x00000002, \"D\" }) : \"R\", REC->prev_state & "
	"(((0x00000000 | 0x00000001 | 0x00000002) + 1) << 1) ? \"+\" : \"\", REC->next_comm, "
	"REC->next_pid, REC->next_prio, __get_str(name), __print_hex(REC->prev_comm, REC->prev_pid)\n";

static void seed_fmt(const char *dir)
{
	uint8_t rec[72] = { 0 };
	uint16_t type = 316;
	memcpy(rec, &type, 2);
	memcpy(rec + 8, "bash", 4);
	uint32_t v = 4, loc = (4u << 16) | 68;
	memcpy(rec + 24, &v, 4);
	memcpy(rec + 40, "swapper", 7);
	memcpy(rec + 64, &loc, 4);
	memcpy(rec + 68, "abc", 4);
	char path[4096];
	snprintf(path, sizeof(path), "%s/ftrace-seed-fmt", dir);
	FILE *f = fopen(path, "wb");
	if (f) {
		uint16_t l = sizeof(rec);
		fwrite("FMT", 1, 3, f);
		fwrite(&l, 1, 2, f);
		fwrite(rec, 1, sizeof(rec), f);
		fwrite(SWITCH_FMT, 1, sizeof(SWITCH_FMT) - 1, f);
		fclose(f);
	}
}

static void fuzz_printer(const uint8_t *data, size_t size)
{
	if (size < 5)
		return;
	size_t l = (size_t)data[3] | (size_t)data[4] << 8;
	if (l < 8 || l > size - 5)
		return;
	uint8_t *rec = malloc(l);
	size_t tl = size - 5 - l;
	char *text = malloc(tl + 1);
	struct vms_ftrace_printer *p = NULL;
	if (!rec || !text || vms_ftrace_printer_new(NULL, &p)) {
		free(rec);
		free(text);
		return;
	}
	memcpy(rec, data + 5, l);
	memcpy(text, data + 5 + l, tl);
	text[tl] = 0;
	struct vms_ftrace_format f = { .type = (uint32_t)rec[0] | (uint32_t)rec[1] << 8 };
	char out[4096];
	if (ft_printer_add_format(p, f.type, "fuzz", text, tl) == 0) {
		struct vms_ftrace_record r = { .type = (uint16_t)f.type, .format = &f, .data = rec,
					       .len = l };
		vms_ftrace_print_info(p, &r, out, sizeof(out));
	}
	vms_ftrace_printer_free(p);
	free(rec);
	free(text);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		seed(dir);
		seed_fmt(dir);
		exit(0);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 3 && !memcmp(data, "FMT", 3)) {
		fuzz_printer(data, size);
		return 0;
	}
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
