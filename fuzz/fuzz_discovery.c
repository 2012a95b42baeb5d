// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: profile-free kernel discovery and the task walk.
 * First input byte picks the mode:
 *   even: the rest of the input is guest physical memory from 0 (a
 *         buffer source): page-table probing and the full-memory scan;
 *   odd:  a synthetic guest (page tables, a 4 MiB kernel image with
 *         kallsyms and BTF, a task list with threads) with the rest of the
 *         input applied as (u16 offset, u8 region, u8 value) mutations;
 *         region picks the page tables, the kallsyms tables, the BTF or
 *         the tasks.
 * Then vms_kernel_open and, if it opens, vms_linux_for_each_task with
 * threads.  Keep raw inputs <= 1 MiB (-max_len): discovery may scan every
 * page.  VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seeds and exit.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/kernel.h>
#include <vmsight/linux.h>
#include <vmsight/source.h>

#include "fuzz_file.h"

#include "../tests/unit/kallsyms_gen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define GUEST_SIZE (6u << 20)
#define IMG_PHYS 0x200000ULL
#define IMG_SIZE (4u << 20)
#define TASKS_OFF 0x100000u   /* image offset of the task area */
#define TASK_SIZE 0x80u

static uint8_t *guest;
static struct kgen g;
static size_t btf_off, btf_size;   /* image offsets */
static uint64_t init_task_off;     /* image offset */

/* Field offsets in the synthetic task_struct. */
enum {
	T_TASKS = 0x00, T_COMM = 0x10, T_PID = 0x20, T_TGID = 0x24, T_STATE = 0x28,
	T_EXIT = 0x2c, T_FLAGS = 0x30, T_CPU = 0x34, T_PARENT = 0x38, T_CRED = 0x40,
	T_MM = 0x48, T_SIGNAL = 0x50, T_THREAD_NODE = 0x58,
};

static void put64(uint64_t img_off, uint64_t v)
{
	memcpy(guest + IMG_PHYS + img_off, &v, 8);
}
static void put32(uint64_t img_off, uint32_t v)
{
	memcpy(guest + IMG_PHYS + img_off, &v, 4);
}
static uint64_t va(uint64_t img_off)
{
	return KGEN_VADDR + img_off;
}

static int build_btf(uint8_t *out, size_t room)
{
	struct btf *b = btf__new_empty();
	if (!b)
		return -1;
	int i32 = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	int u32 = btf__add_int(b, "unsigned int", 4, 0);
	int chr = btf__add_int(b, "char", 1, BTF_INT_CHAR);
	int vp = btf__add_ptr(b, 0);
	int lh = btf__add_struct(b, "list_head", 16);
	btf__add_field(b, "next", vp, 0, 0);
	btf__add_field(b, "prev", vp, 64, 0);
	int comm = btf__add_array(b, i32, chr, 16);
	btf__add_struct(b, "task_struct", TASK_SIZE);
	btf__add_field(b, "tasks", lh, T_TASKS * 8, 0);
	btf__add_field(b, "comm", comm, T_COMM * 8, 0);
	btf__add_field(b, "pid", i32, T_PID * 8, 0);
	btf__add_field(b, "tgid", i32, T_TGID * 8, 0);
	btf__add_field(b, "__state", u32, T_STATE * 8, 0);
	btf__add_field(b, "exit_state", i32, T_EXIT * 8, 0);
	btf__add_field(b, "flags", u32, T_FLAGS * 8, 0);
	btf__add_field(b, "cpu", u32, T_CPU * 8, 0);
	btf__add_field(b, "real_parent", vp, T_PARENT * 8, 0);
	btf__add_field(b, "cred", vp, T_CRED * 8, 0);
	btf__add_field(b, "mm", vp, T_MM * 8, 0);
	btf__add_field(b, "signal", vp, T_SIGNAL * 8, 0);
	btf__add_field(b, "thread_node", lh, T_THREAD_NODE * 8, 0);
	btf__add_struct(b, "cred", 32);
	btf__add_field(b, "uid", u32, 4 * 8, 0);
	btf__add_field(b, "gid", u32, 8 * 8, 0);
	btf__add_field(b, "euid", u32, 20 * 8, 0);
	btf__add_struct(b, "signal_struct", 24);
	btf__add_field(b, "nr_threads", i32, 0, 0);
	btf__add_field(b, "thread_head", lh, 64, 0);
	uint32_t sz;
	const void *raw = btf__raw_data(b, &sz);
	int ret = -1;
	if (raw && sz <= room) {
		memcpy(out, raw, sz);
		ret = (int)sz;
	}
	btf__free(b);
	return ret;
}

/* A task at image offset @off. */
static void task(uint64_t off, int pid, int tgid, const char *comm,
		 uint64_t parent_off, uint64_t signal_off, uint32_t flags)
{
	memset(guest + IMG_PHYS + off, 0, TASK_SIZE);
	put32(off + T_PID, (uint32_t)pid);
	put32(off + T_TGID, (uint32_t)tgid);
	memcpy(guest + IMG_PHYS + off + T_COMM, comm, strlen(comm));
	put32(off + T_STATE, 1);
	put32(off + T_FLAGS, flags);
	put64(off + T_PARENT, va(parent_off));
	put64(off + T_CRED, va(TASKS_OFF + 0x2000));
	put64(off + T_SIGNAL, signal_off ? va(signal_off) : 0);
}

/* Link the list_heads at image offsets @nodes[0..n) into a ring. */
static void ring(const uint64_t *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		put64(nodes[i], va(nodes[(i + 1) % n]));
		put64(nodes[i] + 8, va(nodes[(i + n - 1) % n]));
	}
}

static void build_guest(void)
{
	static const char *const last[] = { "init_task" };
	struct kgen_opts o = { .layout = 2, .nsyms = 300, .img_len = IMG_SIZE,
			       .table_off = 0x201000, .seed = 11,
			       .last_names = last, .nr_last_names = 1 };
	if (kgen_build(&g, &o))
		abort();
	guest = calloc(1, GUEST_SIZE);
	memcpy(guest + IMG_PHYS, g.img, IMG_SIZE);
	/* Page tables: PML4 0x1000, PDPT 0x2000, PD 0x3000; the image as two
	 * 2 MiB pages (text RW+X, rodata RO+NX). */
	uint64_t e;
	e = 0x2000 | 3; memcpy(guest + 0x1000 + 511 * 8, &e, 8);
	e = 0x3000 | 3; memcpy(guest + 0x2000 + 510 * 8, &e, 8);
	e = IMG_PHYS | 0x83; memcpy(guest + 0x3000 + 8 * 8, &e, 8);
	e = (IMG_PHYS + 0x200000) | 0x81 | (1ULL << 63);
	memcpy(guest + 0x3000 + 9 * 8, &e, 8);
	/* BTF after the kallsyms tables, in .rodata. */
	btf_off = (g.end + 0x100) & ~7ul;
	int n = build_btf(guest + IMG_PHYS + btf_off, IMG_SIZE - btf_off);
	if (n < 0)
		abort();
	btf_size = (size_t)n;
	/* Tasks: init_task (symbol) -> 1 systemd -> 2 kthreadd -> 100 bash
	 * (threads 100, 101) -> back to init_task. */
	init_task_off = g.syms[g.n - 1].addr - KGEN_VADDR;
	uint64_t t1 = TASKS_OFF, t2 = TASKS_OFF + 0x100, t3 = TASKS_OFF + 0x200,
		 t4 = TASKS_OFF + 0x300, sig = TASKS_OFF + 0x1000;
	task(init_task_off, 0, 0, "swapper/0", init_task_off, 0, 0x00200000);
	task(t1, 1, 1, "systemd", init_task_off, sig, 0);
	task(t2, 2, 2, "kthreadd", init_task_off, 0, 0x00200000);
	task(t3, 100, 100, "bash", t1, sig + 0x40, 0);
	task(t4, 101, 100, "bash", t1, sig + 0x40, 0);
	uint64_t tasks_ring[] = { init_task_off + T_TASKS, t1 + T_TASKS,
				  t2 + T_TASKS, t3 + T_TASKS };
	ring(tasks_ring, 4);
	put32(sig, 1);
	uint64_t th1[] = { sig + 8, t1 + T_THREAD_NODE };
	ring(th1, 2);
	put32(sig + 0x40, 2);
	uint64_t th3[] = { sig + 0x40 + 8, t3 + T_THREAD_NODE, t4 + T_THREAD_NODE };
	ring(th3, 3);
	put32(TASKS_OFF + 0x2000 + 4, 1000);
	put32(TASKS_OFF + 0x2000 + 8, 1000);
	put32(TASKS_OFF + 0x2000 + 20, 1000);
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

static int count_task(const struct vms_task *t, void *arg)
{
	(void)t;
	++*(unsigned *)arg;
	return 0;
}

static unsigned run(const uint8_t *mem, size_t len)
{
	struct vms_source *src;
	struct vms_error *err = vms_source_from_buffer(mem, len, 0, "fuzz", &src);
	if (err) {
		vms_error_free(err);
		return 0;
	}
	struct vms_kernel *k;
	unsigned count = 0;
	err = vms_kernel_open(src, NULL, &k);
	if (!err) {
		struct vms_walk_result res;
		err = vms_linux_for_each_task(k, VMS_TASKS_THREADS, count_task, &count, &res);
		vms_error_free(err);
		uint64_t a;
		vms_error_free(vms_kernel_percpu(k, 0, 0x1000, &a));
		char s[64];
		vms_error_free(vms_kernel_read_string(k, KGEN_VADDR + 0x1ff0, s, sizeof(s)));
		vms_kernel_close(k);
	} else {
		vms_error_free(err);
	}
	vms_source_close(src);
	return count;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	libbpf_set_print(quiet);
	build_guest();
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		unsigned n = run(guest, GUEST_SIZE);
		fprintf(stderr, "fuzz_discovery: synthetic guest: %u tasks\n", n);
		if (n != 4)  /* systemd, kthreadd, bash x2 */
			exit(1);
		uint8_t s1[] = { 1 };
		fuzz_write_seed(dir, "synthetic", s1, 1);
		uint8_t s2[] = { 1, 0x08, 0x00, 3, 0x41 };   /* task area byte */
		fuzz_write_seed(dir, "synthetic-mut", s2, sizeof(s2));
		/* raw mode: the first 64 KiB (page tables) alone */
		uint8_t *raw = malloc(0x10001);
		raw[0] = 0;
		memcpy(raw + 1, guest, 0x10000);
		fuzz_write_seed(dir, "raw-low", raw, 0x10001);
		free(raw);
		exit(0);
	}
	return 0;
}

struct undo {
	size_t off;
	uint8_t old;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (!(data[0] & 1)) {
		if (size < 2)
			return 0;
		uint8_t *mem = malloc(size - 1);
		memcpy(mem, data + 1, size - 1);
		run(mem, size - 1);
		free(mem);
		return 0;
	}
	size_t nmut = (size - 1) / 4;
	struct undo *u = malloc((nmut ? nmut : 1) * sizeof(*u));
	size_t kt = IMG_PHYS + g.o.table_off;
	const size_t base[4] = { 0, kt, IMG_PHYS + btf_off, IMG_PHYS + TASKS_OFF };
	const size_t span[4] = { 0x4000, g.end - g.o.table_off, btf_size, 0x2100 };
	for (size_t i = 0; i < nmut; i++) {
		const uint8_t *m = data + 1 + 4 * i;
		unsigned region = m[2] & 3;
		size_t off = base[region] + (size_t)(m[0] | m[1] << 8) % span[region];
		if (region == 3 && m[2] & 4)  /* init_task instead of the task area */
			off = IMG_PHYS + init_task_off + (m[0] % TASK_SIZE);
		u[i].off = off;
		u[i].old = guest[off];
		guest[off] = m[3];
	}
	run(guest, GUEST_SIZE);
	for (size_t i = nmut; i-- > 0;)
		guest[u[i].off] = u[i].old;
	free(u);
	return 0;
}
