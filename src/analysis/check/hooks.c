// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Code hooks the kernel itself runs: ftrace_ops on ftrace_ops_list, kprobes
 * in kprobe_table and IDT gates.  A hook is a handler outside core kernel
 * text (owned by a listed module or by unknown memory); for ftrace also an
 * ops structure outside the kernel image.  Offsets from BTF.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/check/check_priv.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_OPS 4096u
#define MAX_HASH_BITS 16u       /* FTRACE_HASH_MAX_BITS is 12 */
#define MAX_HASH_ENTRIES 65536u
#define MAX_FILTER_REPORT 64u
#define MAX_KPROBES 65536u
#define KPROBE_TABLE_SIZE 64u   /* kernel/kprobes.c KPROBE_HASH_BITS 6 */
#define IDT_ENTRIES 256u

/* ---- ftrace ---- */

struct ops_layout {
	struct vms_field func, next, flags, func_hash, filter_hash, size_bits,
		buckets, count, entry_ip, hlist_next;
	bool has_hash;
};

/* Collect the filter hash of one ops: the functions it hooks. */
static size_t filter_ips(struct ck_ctx *c, const struct ops_layout *L,
			 uint64_t ops, uint64_t *ips, size_t max, bool *all)
{
	*all = true;
	if (!L->has_hash)
		return 0;
	uint64_t fh = 0, hash = 0, buckets = 0;
	uint32_t bits = 0;
	if (!vms_ok(vms_kernel_read_u64(c->k, ops + L->func_hash.offset, &fh)) || !fh ||
	    !vms_ok(vms_kernel_read_u64(c->k, fh + L->filter_hash.offset, &hash)) || !hash)
		return 0;
	uint8_t hb[64] = { 0 };
	if (!vms_ok(vms_kernel_read(c->k, hash + L->size_bits.offset, hb, 4)) ||
	    !vms_ok(vms_kernel_read_u64(c->k, hash + L->buckets.offset, &buckets)))
		return 0;
	bits = L->size_bits.size == 8 ? (uint32_t)vms_le64(hb) : vms_le32(hb);
	uint64_t count = 0;
	if (L->count.size && vms_ok(vms_kernel_read_u64(c->k, hash + L->count.offset, &count)) &&
	    count == 0)
		return 0;  /* empty filter: every function */
	if (bits > MAX_HASH_BITS || !buckets) {
		ck_truncate(c, "ftrace_ops 0x%llx: filter hash 0x%llx has %u size bits",
			    (unsigned long long)ops, (unsigned long long)hash, bits);
		*all = false;
		return 0;
	}
	*all = false;
	size_t n = 0, seen = 0;
	struct vms_addrset set;
	vms_addrset_init(&set);
	for (uint64_t b = 0; b < (1ull << bits) && seen < MAX_HASH_ENTRIES; b++) {
		uint64_t node;
		if (!vms_ok(vms_kernel_read_u64(c->k, buckets + b * 8, &node))) {
			ck_truncate(c, "ftrace hash buckets at 0x%llx unreadable",
				    (unsigned long long)buckets);
			break;
		}
		while (node && seen < MAX_HASH_ENTRIES) {
			if (vms_addrset_add(&set, node) != 1) {
				ck_truncate(c, "ftrace hash 0x%llx: cycle at entry 0x%llx",
					    (unsigned long long)hash, (unsigned long long)node);
				goto out;
			}
			seen++;
			uint64_t ip, next;
			uint64_t entry = node - L->hlist_next.offset;
			if (!vms_ok(vms_kernel_read_u64(c->k, entry + L->entry_ip.offset, &ip)) ||
			    !vms_ok(vms_kernel_read_u64(c->k, node, &next))) {
				ck_truncate(c, "ftrace hash entry 0x%llx unreadable",
					    (unsigned long long)node);
				goto out;
			}
			if (n < max)
				ips[n++] = ip;
			node = next;
		}
	}
	if (seen >= MAX_HASH_ENTRIES)
		ck_truncate(c, "ftrace hash 0x%llx: more than %u entries",
			    (unsigned long long)hash, MAX_HASH_ENTRIES);
out:
	vms_addrset_free(&set);
	return n;
}

void ck_ftrace(struct ck_ctx *c)
{
	uint64_t head, end;
	if (!vms_ok(vms_kernel_symbol(c->k, "ftrace_ops_list", &head)) ||
	    !vms_ok(vms_kernel_symbol(c->k, "ftrace_list_end", &end))) {
		ck_skip(c, "ftrace_ops_list/ftrace_list_end not in kallsyms (no dynamic ftrace)");
		return;
	}
	struct ops_layout L = { 0 };
	if (!ck_field(c, "ftrace_ops", "func", &L.func) ||
	    !ck_field(c, "ftrace_ops", "next", &L.next) ||
	    !ck_field(c, "ftrace_ops", "flags", &L.flags)) {
		ck_skip(c, "struct ftrace_ops not in BTF");
		return;
	}
	L.has_hash = ck_field(c, "ftrace_ops", "func_hash", &L.func_hash) &&
		     ck_field(c, "ftrace_ops_hash", "filter_hash", &L.filter_hash) &&
		     ck_field(c, "ftrace_hash", "size_bits", &L.size_bits) &&
		     ck_field(c, "ftrace_hash", "buckets", &L.buckets) &&
		     ck_field(c, "ftrace_func_entry", "ip", &L.entry_ip) &&
		     ck_field(c, "ftrace_func_entry", "hlist", &L.hlist_next);
	if (!ck_field(c, "ftrace_hash", "count", &L.count))
		L.count.size = 0;
	c->res->checks_run++;
	uint64_t ops;
	if (!vms_ok(vms_kernel_read_u64(c->k, head, &ops))) {
		ck_truncate(c, "ftrace_ops_list at 0x%llx unreadable", (unsigned long long)head);
		return;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t n = 0;
	uint64_t *ips = calloc(MAX_FILTER_REPORT, 8);
	while (ops != end && !c->stop && ips) {
		if (!ops) {
			ck_truncate(c, "ftrace_ops_list: NULL link after %zu ops", n);
			break;
		}
		if (++n > MAX_OPS) {
			ck_truncate(c, "ftrace_ops_list: more than %u ops", MAX_OPS);
			break;
		}
		if (vms_addrset_add(&seen, ops) != 1) {
			ck_truncate(c, "ftrace_ops_list: cycle at ops 0x%llx",
				    (unsigned long long)ops);
			break;
		}
		uint64_t func, next;
		uint32_t flags = 0;
		if (!vms_ok(vms_kernel_read_u64(c->k, ops + L.func.offset, &func)) ||
		    !vms_ok(vms_kernel_read_u64(c->k, ops + L.next.offset, &next)) ||
		    !vms_ok(vms_kernel_read_u32(c->k, ops + L.flags.offset, &flags))) {
			ck_truncate(c, "ftrace_ops_list: ops 0x%llx unreadable",
				    (unsigned long long)ops);
			break;
		}
		c->res->examined++;
		bool func_core = ck_in_core_text(c, func);
		bool ops_core = ck_in_image(c, ops);
		if (!func_core || !ops_core) {
			bool all;
			size_t nip = filter_ips(c, &L, ops, ips, MAX_FILTER_REPORT, &all);
			char opsname[96];
			ck_symbolize(c, ops, opsname, sizeof(opsname));
			for (size_t i = 0; i < (nip ? nip : 1) && !c->stop; i++) {
				struct vms_finding f = {
					.check = "ftrace",
					.technique = "ftrace hook (ftrace_ops from outside core kernel)",
					.place_addr = nip ? ips[i] : 0,
					.target = func,
					.owner = VMS_OWNER_UNKNOWN,
				};
				if (nip)
					ck_symbolize(c, ips[i], f.place, sizeof(f.place));
				else
					snprintf(f.place, sizeof(f.place), "%s",
						 all ? "every traceable function (empty filter)"
						     : "unknown functions");
				char own[64];
				enum vms_owner oo = ck_owner(c, ops, own);
				snprintf(f.detail, sizeof(f.detail),
					 "ftrace_ops %s (%s%s%s) flags 0x%x%s%s%s",
					 opsname, ck_in_image(c, ops) ? "image" : vms_owner_name(oo),
					 oo == VMS_OWNER_MODULE ? " " : "", own, flags,
					 flags & 0x4 ? " SAVE_REGS" : "",
					 flags & 0x10 ? " RECURSION" : "",
					 flags & 0x1000 ? " IPMODIFY" : "");
				ck_report(c, &f);
			}
		}
		ops = next;
	}
	free(ips);
	vms_addrset_free(&seen);
}

/* ---- kprobes ---- */

struct kp_layout {
	struct vms_field hlist, addr, pre, post, list, flags, symbol_name;
	bool has_list;
};

static void kprobe_one(struct ck_ctx *c, const struct kp_layout *L, uint64_t kp,
		       uint64_t aggr)
{
	uint64_t addr = 0, pre = 0, post = 0;
	uint32_t flags = 0;
	if (!vms_ok(vms_kernel_read_u64(c->k, kp + L->addr.offset, &addr)) ||
	    !vms_ok(vms_kernel_read_u64(c->k, kp + L->pre.offset, &pre)) ||
	    !vms_ok(vms_kernel_read_u64(c->k, kp + L->post.offset, &post)))
		return;
	(void)vms_ok(vms_kernel_read_u32(c->k, kp + L->flags.offset, &flags));
	c->res->examined++;
	uint64_t handlers[2] = { pre, post };
	static const char *const which[2] = { "pre_handler", "post_handler" };
	for (int i = 0; i < 2 && !c->stop; i++) {
		uint64_t h = handlers[i];
		if (!h || ck_in_core_text(c, h) || (aggr && h == aggr))
			continue;
		struct vms_finding f = {
			.check = "kprobe",
			.technique = "kprobe with a handler outside core kernel",
			.place_addr = addr,
			.target = h,
			.owner = VMS_OWNER_UNKNOWN,
		};
		ck_symbolize(c, addr, f.place, sizeof(f.place));
		char kpname[96];
		ck_symbolize(c, kp, kpname, sizeof(kpname));
		snprintf(f.detail, sizeof(f.detail), "struct kprobe %s: %s, flags 0x%x%s",
			 kpname, which[i], flags, flags & 8 ? " (ftrace-based)" : "");
		ck_report(c, &f);
	}
}

void ck_kprobes(struct ck_ctx *c)
{
	uint64_t table;
	if (!vms_ok(vms_kernel_symbol(c->k, "kprobe_table", &table))) {
		ck_skip(c, "kprobe_table not in kallsyms (no kprobes)");
		return;
	}
	struct kp_layout L = { 0 };
	if (!ck_field(c, "kprobe", "hlist", &L.hlist) ||
	    !ck_field(c, "kprobe", "addr", &L.addr) ||
	    !ck_field(c, "kprobe", "pre_handler", &L.pre) ||
	    !ck_field(c, "kprobe", "post_handler", &L.post) ||
	    !ck_field(c, "kprobe", "flags", &L.flags)) {
		ck_skip(c, "struct kprobe not in BTF");
		return;
	}
	L.has_list = ck_field(c, "kprobe", "list", &L.list);
	uint64_t aggr = 0;
	(void)vms_ok(vms_kernel_symbol(c->k, "aggr_pre_handler", &aggr));
	c->res->checks_run++;
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t total = 0;
	for (unsigned b = 0; b < KPROBE_TABLE_SIZE && !c->stop; b++) {
		uint64_t node;
		if (!vms_ok(vms_kernel_read_u64(c->k, table + b * 8, &node))) {
			ck_truncate(c, "kprobe_table[%u] unreadable", b);
			break;
		}
		while (node && !c->stop) {
			if (++total > MAX_KPROBES) {
				ck_truncate(c, "kprobe_table: more than %u probes", MAX_KPROBES);
				goto out;
			}
			if (vms_addrset_add(&seen, node) != 1) {
				ck_truncate(c, "kprobe_table[%u]: cycle at 0x%llx", b,
					    (unsigned long long)node);
				break;
			}
			uint64_t kp = node - L.hlist.offset, next, pre = 0;
			if (!vms_ok(vms_kernel_read_u64(c->k, node, &next))) {
				ck_truncate(c, "kprobe_table[%u]: probe 0x%llx unreadable", b,
					    (unsigned long long)kp);
				break;
			}
			(void)vms_ok(vms_kernel_read_u64(c->k, kp + L.pre.offset, &pre));
			kprobe_one(c, &L, kp, aggr);
			/* An aggregated probe keeps its users on ->list. */
			if (aggr && pre == aggr && L.has_list) {
				uint64_t lh = kp + L.list.offset, ln;
				size_t steps = 0;
				if (vms_ok(vms_kernel_read_u64(c->k, lh, &ln))) {
					while (ln != lh && !c->stop) {
						if (++steps > 4096 || vms_addrset_add(&seen, ln) != 1) {
							ck_truncate(c, "aggregated kprobe 0x%llx: bad child list",
								    (unsigned long long)kp);
							break;
						}
						kprobe_one(c, &L, ln - L.list.offset, aggr);
						if (!vms_ok(vms_kernel_read_u64(c->k, ln, &ln))) {
							ck_truncate(c, "aggregated kprobe 0x%llx: child unreadable",
								    (unsigned long long)kp);
							break;
						}
					}
				}
			}
			node = next;
		}
	}
out:
	vms_addrset_free(&seen);
}

/* ---- IDT ---- */

void ck_idt(struct ck_ctx *c)
{
	uint64_t idt;
	if (!vms_ok(vms_kernel_symbol(c->k, "idt_table", &idt))) {
		ck_skip(c, "idt_table not in kallsyms");
		return;
	}
	struct vms_field lo, mid, hi, p;
	size_t gsize = 0;
	if (!ck_field(c, "gate_struct", "offset_low", &lo) ||
	    !ck_field(c, "gate_struct", "offset_middle", &mid) ||
	    !ck_field(c, "gate_struct", "offset_high", &hi) ||
	    !ck_field(c, "gate_struct", "bits.p", &p) ||
	    !vms_ok(vms_types_struct_size(vms_kernel_types(c->k), "gate_struct", &gsize)) ||
	    gsize != 16) {
		ck_skip(c, "struct gate_struct not in BTF (or not 16 bytes)");
		return;
	}
	uint8_t buf[IDT_ENTRIES * 16];
	if (!vms_ok(vms_kernel_read(c->k, idt, buf, sizeof(buf)))) {
		ck_truncate(c, "idt_table at 0x%llx unreadable", (unsigned long long)idt);
		return;
	}
	c->res->checks_run++;
	for (unsigned v = 0; v < IDT_ENTRIES && !c->stop; v++) {
		const uint8_t *g = buf + v * 16;
		unsigned pbit = p.offset * 8 + p.bit_offset;
		if (pbit >= 128 || !((g[pbit / 8] >> (pbit % 8)) & 1))
			continue;
		uint64_t h = vms_le16(g + lo.offset) | (uint64_t)vms_le16(g + mid.offset) << 16 |
			     (uint64_t)vms_le32(g + hi.offset) << 32;
		c->res->examined++;
		if (ck_in_core_text(c, h))
			continue;
		struct vms_finding f = {
			.check = "idt",
			.technique = "IDT gate pointing outside core kernel text",
			.place_addr = idt + v * 16,
			.target = h,
			.owner = VMS_OWNER_UNKNOWN,
		};
		snprintf(f.place, sizeof(f.place), "idt_table+0x%x (vector %u)", v * 16, v);
		snprintf(f.detail, sizeof(f.detail),
			 "handlers belong in [__entry_text_start, __entry_text_end) or core text");
		ck_report(c, &f);
	}
}
