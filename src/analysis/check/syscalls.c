// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Syscall dispatch.  sys_call_table entries must be __x64_sys_* (or
 * sys_ni_syscall) symbols in core text.  Since the BHI fix (6.1.y, 6.9)
 * do_syscall_64 dispatches through x64_sys_call, a compiled switch whose
 * cases tail-call (E9 rel32) or call (E8 rel32) the handlers: its first
 * instruction must not be an int3 or a jump, and no direct call or jump
 * in its body may leave core text or land on anything but a syscall
 * handler or a place inside itself.  With no instruction decoder, every
 * E8/E9 byte is tried as an opcode; a decoded target counts only when it
 * leaves core text into mapped module space or unknown memory, so an
 * immediate that merely looks like an opcode cannot raise a finding on a
 * clean kernel unless it points at such memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check/check_priv.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_SYSCALLS 1024u
#define MAX_DISPATCH_BYTES (64u << 10)

static bool handler_name(const char *n)
{
	return n && (!strncmp(n, "__x64_sys_", 10) || strstr(n, "sys_ni_syscall") ||
		     !strncmp(n, "__x64_compat_sys_", 17));
}

/* Handlers without arguments are aliases (__x64_sys_X = __ia32_sys_X =
 * __do_sys_X), and the symbol table names any one of them. */
static bool handler_alias(struct ck_ctx *c, const char *n, uint64_t addr)
{
	if (handler_name(n))
		return true;
	const char *sys = n ? strstr(n, "_sys_") : NULL;
	if (!sys || !sys[5])
		return false;
	char x64[192];
	snprintf(x64, sizeof(x64), "__x64_sys_%s", sys + 5);
	const struct vms_symbol *s = vms_symtab_by_name(vms_kernel_symbols(c->k), x64);
	return s && s->addr == addr;
}

/* The first symbol above @addr: bounds an array or a function. */
static uint64_t next_symbol(struct ck_ctx *c, uint64_t addr)
{
	struct vms_symtab *t = vms_kernel_symbols(c->k);
	uint64_t best = 0;
	size_t n = vms_symtab_count(t);
	for (size_t i = 0; i < n; i++) {
		const struct vms_symbol *s = vms_symtab_at(t, i);
		if (s->module || s->type == 'A' || s->type == 'a')
			continue;
		if (s->addr > addr && (!best || s->addr < best))
			best = s->addr;
	}
	return best;
}

static void check_table(struct ck_ctx *c)
{
	uint64_t table;
	if (!vms_ok(vms_kernel_symbol(c->k, "sys_call_table", &table))) {
		ck_skip(c, "sys_call_table not in kallsyms");
		return;
	}
	uint64_t next = next_symbol(c, table);
	size_t n = next > table ? (size_t)((next - table) / 8) : 0;
	if (!n || n > MAX_SYSCALLS)
		n = n ? MAX_SYSCALLS : 512;
	uint64_t *v = calloc(n, 8);
	if (!v)
		return;
	c->res->checks_run++;
	/* Read what is readable; padding after the table may be anything,
	 * so stop at the first entry that is not a kernel text pointer once
	 * past the handlers. */
	if (!vms_ok(vms_kernel_read(c->k, table, v, n * 8))) {
		ck_truncate(c, "sys_call_table at 0x%llx unreadable",
			    (unsigned long long)table);
		free(v);
		return;
	}
	for (size_t i = 0; i < n && !c->stop; i++) {
		uint64_t e = v[i];
		if (e < 0xffff800000000000ull)
			break;  /* past the end (padding) */
		c->res->examined++;
		uint64_t off;
		const char *name = ck_symbol_at(c, e, &off);
		if (ck_in_core_text(c, e) && off == 0 && handler_alias(c, name, e))
			continue;
		struct vms_finding f = {
			.check = "syscall-table",
			.technique = "sys_call_table entry overwritten",
			.place_addr = table + i * 8,
			.target = e,
			.owner = VMS_OWNER_UNKNOWN,
		};
		snprintf(f.place, sizeof(f.place), "sys_call_table+0x%zx (syscall %zu)",
			 i * 8, i);
		snprintf(f.detail, sizeof(f.detail),
			 "entry %zu is not a __x64_sys_* handler in core text", i);
		ck_report(c, &f);
	}
	free(v);
}

static void dispatch_finding(struct ck_ctx *c, uint64_t fn, size_t off,
			     uint64_t target, const char *why)
{
	struct vms_finding f = {
		.check = "x64_sys_call",
		.technique = "syscall dispatcher code patched",
		.place_addr = fn + off,
		.target = target,
		.owner = VMS_OWNER_UNKNOWN,
	};
	snprintf(f.place, sizeof(f.place), "x64_sys_call+0x%zx", off);
	snprintf(f.detail, sizeof(f.detail), "%s", why);
	ck_report(c, &f);
}

static void check_dispatch(struct ck_ctx *c)
{
	uint64_t fn;
	if (!vms_ok(vms_kernel_symbol(c->k, "x64_sys_call", &fn))) {
		ck_skip(c, "x64_sys_call absent: this kernel dispatches through sys_call_table");
		return;
	}
	uint64_t end = next_symbol(c, fn);
	size_t len = end > fn ? (size_t)(end - fn) : 0;
	if (!len || len > MAX_DISPATCH_BYTES) {
		ck_skip(c, "x64_sys_call at 0x%llx: size unknown", (unsigned long long)fn);
		return;
	}
	uint8_t *b = malloc(len + 8);
	if (!b)
		return;
	memset(b, 0, len + 8);
	if (!vms_ok(vms_kernel_read(c->k, fn, b, len))) {
		ck_truncate(c, "x64_sys_call at 0x%llx unreadable", (unsigned long long)fn);
		free(b);
		return;
	}
	c->res->checks_run++;
	/* Its entry: optional endbr64, then the fentry site (a 5-byte NOP,
	 * or a call to ftrace when traced).  An int3 or a jump there is a
	 * patch (kprobe, inline hook). */
	size_t p = 0;
	if (b[0] == 0xf3 && b[1] == 0x0f && b[2] == 0x1e && b[3] == 0xfa)
		p = 4;
	if (b[p] == 0xcc)
		dispatch_finding(c, fn, p, fn + p, "int3 at the entry of the dispatcher");
	else if (b[p] == 0xe9 || b[p] == 0xeb || (b[p] == 0xff && (b[p + 1] & 0x38) == 0x20)) {
		uint64_t t = b[p] == 0xe9 ? fn + p + 5 + (int64_t)(int32_t)vms_le32(b + p + 1)
			   : b[p] == 0xeb ? fn + p + 2 + (int64_t)(int8_t)b[p + 1] : 0;
		dispatch_finding(c, fn, p, t, "jump at the entry of the dispatcher");
	} else if (b[p] == 0xe8) {
		uint64_t t = fn + p + 5 + (int64_t)(int32_t)vms_le32(b + p + 1);
		uint64_t o;
		const char *n = ck_symbol_at(c, t, &o);
		bool ftrace = ck_in_core_text(c, t) && n && strstr(n, "ftrace");
		if (!ftrace && !ck_in_core_text(c, t))
			dispatch_finding(c, fn, p, t, "call out of core text at the entry of the dispatcher");
	}
	for (size_t i = p; i + 5 <= len && !c->stop; i++) {
		if (b[i] != 0xe8 && b[i] != 0xe9)
			continue;
		uint64_t t = fn + i + 5 + (int64_t)(int32_t)vms_le32(b + i + 1);
		c->res->examined++;
		if (ck_in_core_text(c, t))
			continue;
		/* Outside core text: only a real target in mapped module space
		 * or in the module area counts (see the comment on top).  The
		 * scan is byte by byte, so an E8/E9 inside another instruction
		 * decodes to a random target: a call or a patched jump goes to a
		 * function's entry, so require one (a module symbol at offset 0,
		 * or, in memory no module owns, the 16-byte function alignment). */
		bool module = ck_module_at(c, t) >= 0;
		uint8_t probe;
		bool mapped = vms_ok(vms_kernel_read(c->k, t, &probe, 1));
		if (!module && !(mapped && t >= CK_MODULES_VADDR && t < CK_MODULES_END))
			continue;
		uint64_t soff = 1;
		const char *sname = ck_symbol_at(c, t, &soff);
		if (module ? !(sname && soff == 0) : (t & 15) != 0)
			continue;
		char why[96];
		snprintf(why, sizeof(why), "%s out of core text inside the dispatcher",
			 b[i] == 0xe8 ? "call" : "jump");
		dispatch_finding(c, fn, i, t, why);
		i += 4;
	}
	free(b);
}

void ck_syscalls(struct ck_ctx *c)
{
	check_table(c);
	if (!c->stop)
		check_dispatch(c);
}
