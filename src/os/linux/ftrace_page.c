// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One ring-buffer data page (struct buffer_data_page) decoded as the
 * kernel's non-consuming iterator reads it (kernel/trace/ring_buffer.c:
 * rb_iter_peek, rb_update_iter_read_stamp): a u32 header per event,
 * type_len:5 and time_delta:27, then the payload.  A pure function over
 * the page bytes, the part of the ftrace reader that is fuzzed.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <vmsight/ftrace.h>

#include "os/linux/ftrace_internal.h"
#include "util/bytes.h"

/* include/linux/ring_buffer.h: not in BTF (macros). */
#define RB_TYPE_DATA_MAX   28
#define RB_TYPE_PADDING    29
#define RB_TYPE_TIME_EXTEND 30
#define RB_TYPE_TIME_STAMP 31
#define RB_EVNT_HDR_SIZE   4
#define RB_TS_SHIFT        27
#define RB_TS_MSB          (0xf8ULL << 56)
#define RB_COMMIT_MASK     0xfffffULL  /* drops RB_MISSED_* flags */
#define TRACE_ENTRY_MIN    8           /* type, flags, preempt_count, pid */

static void corrupt(struct vms_ftrace_page_result *res, const char *fmt,
		    unsigned long long a, unsigned long long b)
{
	res->corrupt = true;
	snprintf(res->reason, sizeof(res->reason), fmt, a, b);
}

static uint64_t fix_abs_ts(uint64_t abs, uint64_t save)
{
	if (save & RB_TS_MSB) {
		abs |= save & RB_TS_MSB;
		if (abs < save)
			abs += 1ULL << 59;
	}
	return abs;
}

/* One pass over the page; with @fn NULL only validates. */
static int walk(const uint8_t *data, size_t commit, uint64_t ts, size_t from,
		vms_ftrace_raw_fn fn, void *arg, struct vms_ftrace_page_result *res)
{
	size_t off = 0;
	while (off < commit) {
		if (commit - off < RB_EVNT_HDR_SIZE) {
			corrupt(res, "event header at data offset %llu runs past commit %llu",
				off, commit);
			return -1;
		}
		uint32_t hdr = vms_le32(data + off);
		unsigned tl = hdr & 31;
		uint32_t delta = hdr >> 5;
		size_t len, poff = 0, plen = 0;
		uint32_t a0 = commit - off >= 8 ? vms_le32(data + off + 4) : 0;
		switch (tl) {
		case RB_TYPE_PADDING:
			if (delta == 0) {  /* null padding: rest of page unused */
				res->last_ts = ts;
				return 0;
			}
			if (commit - off < 8) {
				corrupt(res, "padding at data offset %llu runs past commit %llu",
					off, commit);
				return -1;
			}
			len = (size_t)a0 + RB_EVNT_HDR_SIZE;
			if (a0 < 4) {
				corrupt(res, "padding at data offset %llu has length %llu",
					off, a0);
				return -1;
			}
			break;
		case RB_TYPE_TIME_EXTEND:
		case RB_TYPE_TIME_STAMP:
			len = 8;
			if (commit - off < 8) {
				corrupt(res, "time stamp at data offset %llu runs past commit %llu",
					off, commit);
				return -1;
			}
			if (tl == RB_TYPE_TIME_EXTEND)
				ts += ((uint64_t)a0 << RB_TS_SHIFT) + delta;
			else
				ts = fix_abs_ts(((uint64_t)a0 << RB_TS_SHIFT) + delta, ts);
			break;
		case 0:
			if (commit - off < 8) {
				corrupt(res, "long event at data offset %llu runs past commit %llu",
					off, commit);
				return -1;
			}
			len = (size_t)a0 + RB_EVNT_HDR_SIZE;
			poff = 8;
			plen = a0 >= 4 ? a0 - 4 : 0;
			if (plen < TRACE_ENTRY_MIN) {
				corrupt(res, "long event at data offset %llu has length %llu",
					off, a0);
				return -1;
			}
			break;
		default:  /* 1..28 */
			len = RB_EVNT_HDR_SIZE + 4 * (size_t)tl;
			poff = 4;
			plen = 4 * (size_t)tl;
			if (plen < TRACE_ENTRY_MIN) {
				corrupt(res, "event at data offset %llu has type_len %llu: too short for an entry",
					off, tl);
				return -1;
			}
			break;
		}
		if (len > commit - off) {
			corrupt(res, "event at data offset %llu (length %llu) runs past the commit",
				off, len);
			return -1;
		}
		if (len & 3) {
			corrupt(res, "event at data offset %llu has unaligned length %llu",
				off, len);
			return -1;
		}
		if (plen) {
			uint64_t ets = ts + delta;
			ts = ets;
			if (off >= from) {
				res->events++;
				if (fn && fn(ets, data + off + poff, plen, off, arg)) {
					res->last_ts = ts;
					return 1;
				}
			}
		}
		off += len;
	}
	res->last_ts = ts;
	return 0;
}

int vms_ftrace_decode_page(const uint8_t *page, size_t size,
			   const struct vms_ftrace_page_layout *L, size_t from,
			   uint64_t prev_ts, vms_ftrace_raw_fn fn, void *arg,
			   struct vms_ftrace_page_result *res)
{
	memset(res, 0, sizeof(*res));
	(void)prev_ts;
	if (!L || L->data_off >= size || L->ts_off + 8 > size ||
	    (L->commit_size != 4 && L->commit_size != 8) ||
	    L->commit_off + L->commit_size > size) {
		corrupt(res, "page layout does not fit a %llu-byte page (data at %llu)",
			size, L ? L->data_off : 0);
		return 0;
	}
	uint64_t ts = vms_le64(page + L->ts_off);
	uint64_t commit = L->commit_size == 8 ? vms_le64(page + L->commit_off)
					      : vms_le32(page + L->commit_off);
	commit &= RB_COMMIT_MASK;
	size_t cap = size - L->data_off;
	if (commit > cap) {
		corrupt(res, "commit %llu is past the page end (%llu bytes of data)",
			commit, cap);
		return 0;
	}
	if (from > commit) {
		corrupt(res, "read offset %llu is past commit %llu", from, commit);
		return 0;
	}
	const uint8_t *data = page + L->data_off;
	struct vms_ftrace_page_result check = { 0 };
	if (walk(data, commit, ts, from, NULL, NULL, &check) < 0) {
		*res = check;
		res->events = 0;
		return 0;
	}
	return walk(data, commit, ts, from, fn, arg, res) > 0;
}

bool ft_page_trim(const uint8_t *page, size_t size, const struct vms_ftrace_page_layout *L,
		  size_t from, uint8_t *out)
{
	if (!L || L->data_off >= size || L->ts_off + 8 > size ||
	    (L->commit_size != 4 && L->commit_size != 8) ||
	    L->commit_off + L->commit_size > size)
		return false;
	uint64_t raw = L->commit_size == 8 ? vms_le64(page + L->commit_off)
					   : vms_le32(page + L->commit_off);
	uint64_t commit = raw & RB_COMMIT_MASK;
	if (commit > size - L->data_off || from > commit)
		return false;
	/* The stamp where the reader stopped: every element before @from
	 * (which must end exactly there), as rb_iter_reset's read_stamp. */
	const uint8_t *data = page + L->data_off;
	struct vms_ftrace_page_result r = { 0 };
	if (walk(data, from, vms_le64(page + L->ts_off), SIZE_MAX, NULL, NULL, &r) != 0 ||
	    r.corrupt)
		return false;
	memset(out, 0, size);
	memcpy(out, page, L->data_off);
	uint64_t ts = r.last_ts, nc = (raw & ~RB_COMMIT_MASK) | (commit - from);
	for (int i = 0; i < 8; i++)
		out[L->ts_off + i] = (uint8_t)(ts >> (8 * i));
	for (uint32_t i = 0; i < L->commit_size; i++)
		out[L->commit_off + i] = (uint8_t)(nc >> (8 * i));
	memcpy(out + L->data_off, data + from, commit - from);
	return true;
}
