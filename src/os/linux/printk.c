// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel log: the lockless printk ring buffer of 5.10+
 * (kernel/printk/printk_ringbuffer.c).  `prb` points to a struct
 * printk_ringbuffer: a descriptor ring (descs[] and infos[], 1 << count_bits
 * of each, indexed by id) and a text data ring (1 << size_bits bytes, logical
 * positions "lpos" that only grow).  A descriptor's state sits in the top
 * two bits of its state_var, its id in the rest.  A data block starts with
 * the id of its descriptor; a block that would cross the end of the ring is
 * stored whole at its start ("wrapping" block).
 *
 * The ring is copied out of guest memory once, then decoded by
 * vms_prb_decode(), a pure function over the copies (fuzzed).  Offsets
 * come from BTF; the state and lpos encodings below are the ring buffer's
 * own format, which BTF does not describe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "util/bytes.h"
#include "util/consume.h"

#define DESC_SV_BITS 64
#define DESC_FLAGS_SHIFT (DESC_SV_BITS - 2)
#define DESC_ID_MASK ((1ULL << DESC_FLAGS_SHIFT) - 1)
enum { desc_reserved = 0, desc_committed = 1, desc_finalized = 2, desc_reusable = 3 };
#define LPOS_DATALESS(lpos) ((lpos) & 1ULL)
#define FAILED_LPOS 0x1ULL
#define NO_LPOS 0x3ULL
#define ID_SIZE 8   /* struct prb_data_block.id: unsigned long */

/* Caps on sizes read from the guest: CONFIG_LOG_BUF_SHIFT is at most 25
 * and log_buf_len= rarely goes past a few hundred MiB. */
#define MAX_SIZE_BITS 28
#define MAX_COUNT_BITS 23
#define MAX_RECORD_STRUCT 1024

static void problem(struct vms_walk_result *res, size_t *nr_bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void problem(struct vms_walk_result *res, size_t *nr_bad, const char *fmt, ...)
{
	(*nr_bad)++;
	if (res->truncated)
		return;
	res->truncated = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static uint32_t bits(const uint8_t *rec, uint32_t byte, uint32_t shift, uint32_t n)
{
	if (!n || n > 8 || shift + n > 8)
		return 0;
	return (rec[byte] >> shift) & ((1u << n) - 1);
}

static bool layout_ok(const struct vms_prb_layout *L)
{
	return L->desc_size && L->desc_size <= MAX_RECORD_STRUCT &&
	       L->desc_state_var + 8 <= L->desc_size &&
	       L->desc_begin + 8 <= L->desc_size && L->desc_next + 8 <= L->desc_size &&
	       L->info_size && L->info_size <= MAX_RECORD_STRUCT &&
	       L->info_seq + 8 <= L->info_size && L->info_ts_nsec + 8 <= L->info_size &&
	       L->info_text_len + 2 <= L->info_size &&
	       L->info_facility + 1 <= L->info_size &&
	       L->info_caller_id + 4 <= L->info_size &&
	       L->info_level_byte < L->info_size && L->info_flags_byte < L->info_size;
}

struct vms_error *vms_prb_decode(const struct vms_prb_image *img,
				 vms_printk_fn fn, void *arg,
				 struct vms_walk_result *res, size_t *nr_bad)
{
	const struct vms_prb_layout *L = &img->L;
	*nr_bad = 0;
	if (!layout_ok(L))
		return vms_error_create(VMS_ERR_CORRUPT,
			"printk ring buffer: record layout out of range (prb_desc %u bytes, printk_info %u bytes)",
			L->desc_size, L->info_size);
	if (img->count_bits > MAX_COUNT_BITS || img->size_bits > MAX_SIZE_BITS ||
	    img->size_bits < 3)
		return vms_error_create(VMS_ERR_CORRUPT,
			"printk ring buffer: implausible sizes (count_bits %u, size_bits %u)",
			img->count_bits, img->size_bits);
	uint64_t count = 1ULL << img->count_bits, cmask = count - 1;
	uint64_t dsize = 1ULL << img->size_bits, dmask = dsize - 1;
	if (img->descs_len / L->desc_size < count || img->infos_len / L->info_size < count ||
	    img->data_len < dsize)
		return vms_error_create(VMS_ERR_INVALID,
			"printk ring buffer: arrays shorter than 1 << %u records / 1 << %u bytes",
			img->count_bits, img->size_bits);

	uint64_t head = img->head_id & DESC_ID_MASK, tail = img->tail_id & DESC_ID_MASK;
	uint64_t n = ((head - tail) & DESC_ID_MASK) + 1;
	if (n > count) {
		problem(res, nr_bad,
			"head_id 0x%llx and tail_id 0x%llx are %llu ids apart, more than the %llu descriptors",
			(unsigned long long)head, (unsigned long long)tail,
			(unsigned long long)n, (unsigned long long)count);
		tail = (head - count + 1) & DESC_ID_MASK;
		n = count;
	}
	uint64_t head_lpos = img->head_lpos, tail_lpos = img->tail_lpos;
	bool lpos_ok = head_lpos - tail_lpos <= dsize && !(head_lpos & 7) && !(tail_lpos & 7);
	if (!lpos_ok)
		problem(res, nr_bad,
			"text data ring positions inconsistent (tail_lpos 0x%llx, head_lpos 0x%llx, size 0x%llx)",
			(unsigned long long)tail_lpos, (unsigned long long)head_lpos,
			(unsigned long long)dsize);
	char *text = malloc(0x10000 + 1);   /* text_len is a u16 */
	if (!text)
		return &vms_error_nomem;
	bool have_seq = false;
	uint64_t last_seq = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t id = (tail + i) & DESC_ID_MASK;
		const uint8_t *d = img->descs + (id & cmask) * L->desc_size;
		const uint8_t *in = img->infos + (id & cmask) * L->info_size;
		uint64_t sv = vms_le64(d + L->desc_state_var);
		unsigned state = (unsigned)(sv >> DESC_FLAGS_SHIFT);
		if ((sv & DESC_ID_MASK) != id) {
			problem(res, nr_bad, "descriptor %llu holds id 0x%llx, expected 0x%llx",
				(unsigned long long)(id & cmask),
				(unsigned long long)(sv & DESC_ID_MASK), (unsigned long long)id);
			continue;
		}
		/* Being written, or its data recycled: not a record (yet). */
		if (state == desc_reserved || state == desc_reusable)
			continue;
		struct vms_printk_record r = { .id = id, .text = text };
		r.seq = vms_le64(in + L->info_seq);
		r.ts_nsec = vms_le64(in + L->info_ts_nsec);
		r.facility = in[L->info_facility];
		r.caller_id = vms_le32(in + L->info_caller_id);
		r.level = (uint8_t)bits(in, L->info_level_byte, L->info_level_shift,
					L->info_level_bits);
		r.flags = (uint8_t)bits(in, L->info_flags_byte, L->info_flags_shift,
					L->info_flags_bits);
		uint16_t text_len = vms_le16(in + L->info_text_len);
		if ((r.seq & cmask) != (id & cmask) || (have_seq && r.seq <= last_seq)) {
			problem(res, nr_bad, "record id 0x%llx has sequence number %llu out of order",
				(unsigned long long)id, (unsigned long long)r.seq);
			continue;
		}
		uint64_t begin = vms_le64(d + L->desc_begin), next = vms_le64(d + L->desc_next);
		if (LPOS_DATALESS(begin) && LPOS_DATALESS(next)) {
			if (begin == FAILED_LPOS && next == FAILED_LPOS)
				continue;   /* its text was lost when logged */
			if (begin != NO_LPOS || next != NO_LPOS) {
				problem(res, nr_bad, "record %llu: bad data-less lpos 0x%llx/0x%llx",
					(unsigned long long)r.seq, (unsigned long long)begin,
					(unsigned long long)next);
				continue;
			}
			r.text_len = 0;
		} else {
			uint64_t off, size;
			if (lpos_ok && (begin - tail_lpos > head_lpos - tail_lpos ||
					next - tail_lpos > head_lpos - tail_lpos)) {
				problem(res, nr_bad,
					"record %llu: text at lpos 0x%llx..0x%llx lies outside the data ring (0x%llx..0x%llx)",
					(unsigned long long)r.seq, (unsigned long long)begin,
					(unsigned long long)next, (unsigned long long)tail_lpos,
					(unsigned long long)head_lpos);
				continue;
			}
			if ((begin >> img->size_bits) == (next >> img->size_bits) && begin < next) {
				off = begin & dmask;
				size = next - begin;
			} else if (((begin + dsize) >> img->size_bits) == (next >> img->size_bits)) {
				off = 0;
				size = next & dmask;
			} else {
				problem(res, nr_bad, "record %llu: illegal lpos 0x%llx..0x%llx",
					(unsigned long long)r.seq, (unsigned long long)begin,
					(unsigned long long)next);
				continue;
			}
			if ((begin & 7) || (next & 7) || size < ID_SIZE || off + size > dsize) {
				problem(res, nr_bad, "record %llu: misaligned or empty data block at lpos 0x%llx",
					(unsigned long long)r.seq, (unsigned long long)begin);
				continue;
			}
			uint64_t blk_id = vms_le64(img->data + off);
			if ((blk_id & DESC_ID_MASK) != id) {
				problem(res, nr_bad, "record %llu: data block at lpos 0x%llx belongs to id 0x%llx, not 0x%llx",
					(unsigned long long)r.seq, (unsigned long long)begin,
					(unsigned long long)blk_id, (unsigned long long)id);
				continue;
			}
			size -= ID_SIZE;
			if (text_len > size) {
				problem(res, nr_bad, "record %llu: text_len %u exceeds its %llu-byte data block",
					(unsigned long long)r.seq, text_len, (unsigned long long)size);
				continue;
			}
			memcpy(text, img->data + off + ID_SIZE, text_len);
			r.text_len = text_len;
		}
		text[r.text_len] = '\0';
		have_seq = true;
		last_seq = r.seq;
		res->count++;
		if (fn(&r, arg))
			break;
	}
	free(text);
	return NULL;
}

/* ---- reading the ring out of guest memory ---- */

static struct vms_error *field(struct vms_kernel *k, const char *s, const char *m,
			       uint32_t *off)
{
	struct vms_field f;
	struct vms_error *err = vms_kernel_field(k, s, m, &f);
	if (!err)
		*off = f.offset;
	return err;
}

static struct vms_error *bitfield(struct vms_kernel *k, const char *m, uint32_t *byte,
				  uint32_t *shift, uint32_t *n)
{
	struct vms_field f;
	struct vms_error *err = vms_kernel_field(k, "printk_info", m, &f);
	if (err)
		return err;
	/* A plain u8 member (no bitfield) is 8 bits at bit 0. */
	*byte = f.offset + f.bit_offset / 8;
	*shift = f.bit_offset % 8;
	*n = f.bit_size ? f.bit_size : 8;
	return NULL;
}

static struct vms_error *prb_layout(struct vms_kernel *k, struct vms_prb_layout *L)
{
	struct vms_types *T = vms_kernel_types(k);
	size_t ds, is;
	struct vms_error *err;
	if ((err = vms_types_struct_size(T, "prb_desc", &ds)) ||
	    (err = vms_types_struct_size(T, "printk_info", &is)))
		return err;
	L->desc_size = (uint32_t)(ds > MAX_RECORD_STRUCT ? MAX_RECORD_STRUCT + 1 : ds);
	L->info_size = (uint32_t)(is > MAX_RECORD_STRUCT ? MAX_RECORD_STRUCT + 1 : is);
	uint32_t lpos;
	if ((err = field(k, "prb_desc", "state_var", &L->desc_state_var)) ||
	    (err = field(k, "prb_desc", "text_blk_lpos", &lpos)) ||
	    (err = field(k, "prb_data_blk_lpos", "begin", &L->desc_begin)) ||
	    (err = field(k, "prb_data_blk_lpos", "next", &L->desc_next)) ||
	    (err = field(k, "printk_info", "seq", &L->info_seq)) ||
	    (err = field(k, "printk_info", "ts_nsec", &L->info_ts_nsec)) ||
	    (err = field(k, "printk_info", "text_len", &L->info_text_len)) ||
	    (err = field(k, "printk_info", "facility", &L->info_facility)) ||
	    (err = field(k, "printk_info", "caller_id", &L->info_caller_id)) ||
	    (err = bitfield(k, "level", &L->info_level_byte, &L->info_level_shift,
			    &L->info_level_bits)) ||
	    (err = bitfield(k, "flags", &L->info_flags_byte, &L->info_flags_shift,
			    &L->info_flags_bits)))
		return err;
	L->desc_begin += lpos;
	L->desc_next += lpos;
	return NULL;
}

struct vms_error *vms_linux_for_each_printk(struct vms_kernel *k,
					    vms_printk_fn fn, void *arg,
					    struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	uint64_t prb_sym, rb;
	struct vms_error *err = vms_kernel_symbol(k, "prb", &prb_sym);
	if (err) {
		uint64_t old;
		if (vms_ok(vms_kernel_symbol(k, "log_first_idx", &old))) {
			vms_error_free(err);
			return vms_error_create(VMS_ERR_UNSUPPORTED,
				"the kernel log is in the pre-5.10 log_buf format, which is not supported");
		}
		return err;
	}
	if ((err = vms_kernel_read_u64(k, prb_sym, &rb)))
		return vms_error_wrap(err, "printk ring buffer pointer prb at 0x%llx",
				      (unsigned long long)prb_sym);
	struct vms_prb_image img = { 0 };
	if ((err = prb_layout(k, &img.L)))
		return err;
	uint32_t o_desc_ring, o_text_ring, o_count_bits, o_descs, o_infos, o_head_id,
		o_tail_id, o_size_bits, o_data, o_head_lpos, o_tail_lpos;
	if ((err = field(k, "printk_ringbuffer", "desc_ring", &o_desc_ring)) ||
	    (err = field(k, "printk_ringbuffer", "text_data_ring", &o_text_ring)) ||
	    (err = field(k, "prb_desc_ring", "count_bits", &o_count_bits)) ||
	    (err = field(k, "prb_desc_ring", "descs", &o_descs)) ||
	    (err = field(k, "prb_desc_ring", "infos", &o_infos)) ||
	    (err = field(k, "prb_desc_ring", "head_id", &o_head_id)) ||
	    (err = field(k, "prb_desc_ring", "tail_id", &o_tail_id)) ||
	    (err = field(k, "prb_data_ring", "size_bits", &o_size_bits)) ||
	    (err = field(k, "prb_data_ring", "data", &o_data)) ||
	    (err = field(k, "prb_data_ring", "head_lpos", &o_head_lpos)) ||
	    (err = field(k, "prb_data_ring", "tail_lpos", &o_tail_lpos)))
		return err;
	uint64_t dr = rb + o_desc_ring, tr = rb + o_text_ring, descs, infos, data;
	uint32_t count_bits, size_bits;
	if ((err = vms_kernel_read_u32(k, dr + o_count_bits, &count_bits)) ||
	    (err = vms_kernel_read_u64(k, dr + o_descs, &descs)) ||
	    (err = vms_kernel_read_u64(k, dr + o_infos, &infos)) ||
	    (err = vms_kernel_read_u64(k, dr + o_head_id, &img.head_id)) ||
	    (err = vms_kernel_read_u64(k, dr + o_tail_id, &img.tail_id)) ||
	    (err = vms_kernel_read_u32(k, tr + o_size_bits, &size_bits)) ||
	    (err = vms_kernel_read_u64(k, tr + o_data, &data)) ||
	    (err = vms_kernel_read_u64(k, tr + o_head_lpos, &img.head_lpos)) ||
	    (err = vms_kernel_read_u64(k, tr + o_tail_lpos, &img.tail_lpos)))
		return vms_error_wrap(err, "printk ring buffer at 0x%llx", (unsigned long long)rb);
	if (count_bits > MAX_COUNT_BITS || size_bits > MAX_SIZE_BITS || size_bits < 3 ||
	    img.L.desc_size > MAX_RECORD_STRUCT || img.L.info_size > MAX_RECORD_STRUCT)
		return vms_error_create(VMS_ERR_CORRUPT,
			"printk ring buffer at 0x%llx: implausible sizes (count_bits %u, size_bits %u)",
			(unsigned long long)rb, count_bits, size_bits);
	img.count_bits = count_bits;
	img.size_bits = size_bits;
	img.descs_len = ((size_t)1 << count_bits) * img.L.desc_size;
	img.infos_len = ((size_t)1 << count_bits) * img.L.info_size;
	img.data_len = (size_t)1 << size_bits;
	uint8_t *bd = malloc(img.descs_len), *bi = malloc(img.infos_len),
		*bt = malloc(img.data_len);
	if (!bd || !bi || !bt) {
		err = &vms_error_nomem;
	} else if ((err = vms_kernel_read(k, descs, bd, img.descs_len))) {
		err = vms_error_wrap(err, "printk descriptors (%zu bytes at 0x%llx)",
				     img.descs_len, (unsigned long long)descs);
	} else if ((err = vms_kernel_read(k, infos, bi, img.infos_len))) {
		err = vms_error_wrap(err, "printk record infos (%zu bytes at 0x%llx)",
				     img.infos_len, (unsigned long long)infos);
	} else if ((err = vms_kernel_read(k, data, bt, img.data_len))) {
		err = vms_error_wrap(err, "printk text data ring (%zu bytes at 0x%llx)",
				     img.data_len, (unsigned long long)data);
	} else {
		img.descs = bd;
		img.infos = bi;
		img.data = bt;
		size_t bad = 0;
		err = vms_prb_decode(&img, fn, arg, res, &bad);
		if (!err && res->truncated)
			vms_kernel_log(k, VMS_LOG_WARN,
				       "kernel log: %zu corrupt record(s) or ring index(es) skipped; first: %s",
				       bad, res->reason);
	}
	free(bd);
	free(bi);
	free(bt);
	return err;
}
