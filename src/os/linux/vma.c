// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A task's memory areas, as /proc/PID/maps shows them.
 *
 * 6.1+ keeps them in a maple tree (mm->mm_mt): nodes are 256-byte
 * maple_node unions addressed by "encoded" pointers whose low byte carries
 * the node type (bits 3-6); the root pointer also carries the
 * internal-entry tag (bits 0-1 == 2).  Leaves hold vm_area_struct pointers.  Older kernels link them through
 * mm->mmap / vma->vm_next.  The walk collects VMA pointers, then checks
 * each against its mm and sorts them, so stale or hostile slots cannot
 * inject foreign areas.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "os/linux/kernel_internal.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"
#include "util/vec.h"

#define MAPLE_NODE_MASK 255ULL
#define MAPLE_TYPE_SHIFT 3
#define MAPLE_TYPE_MASK 0xf
#define MAX_VMAS (1u << 18)  /* 4 x the kernel's default max_map_count */
#define MAX_MAPLE_DEPTH 32

#define VM_READ     0x1
#define VM_WRITE    0x2
#define VM_EXEC     0x4
#define VM_MAYSHARE 0x80

struct vma_layout {
	struct vms_field start, end, flags, pgoff, file, mm, ops, priv;
	struct vms_field anon_name, anon_name_name;
	bool has_anon_name;
	struct vms_field f_inode, i_ino, i_sb, s_dev;
	uint64_t special_ops[2];  /* special_mapping_vmops, legacy_... */
};

struct vec {
	uint64_t *v;
	size_t n, cap;
};

static bool vec_push(struct vec *v, uint64_t x)
{
	return vms_vec_append((void **)&v->v, &v->n, &v->cap, sizeof(x), &x);
}

static void stop(struct vms_walk_result *res, const char *fmt,
		 unsigned long long a)
{
	if (res->truncated)
		return;
	res->truncated = true;
	snprintf(res->reason, sizeof(res->reason), fmt, a);
}

struct maple {
	struct vms_kernel *k;
	struct vms_walk_result *res;
	struct vms_addrset seen;
	struct vec *out;
	int64_t t_leaf, t_range, t_arange;
	struct vms_field r_slot, r_pivot, r_meta_end, a_slot, a_pivot, a_meta_end;
	size_t nodes, max_nodes;
};

static bool is_node(uint64_t e)
{
	return (e & 3) == 2 && e > 4096;
}

static bool kernel_ptr(uint64_t e)
{
	return e >> 63;
}

/*
 * One node, covering indices up to @max.  Only slots up to the node's data
 * end are live (ma_data_end()): beyond it are stale pointers, and in a
 * node that is not full the last slot holds metadata, not a pointer.
 */
static void maple_walk(struct maple *m, uint64_t enode, uint64_t max, int depth)
{
	if (depth > MAX_MAPLE_DEPTH) {
		stop(m->res, "maple tree deeper than the kernel allows at node 0x%llx", enode);
		return;
	}
	if (++m->nodes > m->max_nodes) {
		stop(m->res, "maple tree has more nodes than its VMA count allows (at 0x%llx)",
		     enode);
		return;
	}
	uint64_t node = enode & ~MAPLE_NODE_MASK;
	int64_t type = (int64_t)((enode >> MAPLE_TYPE_SHIFT) & MAPLE_TYPE_MASK);
	if (!kernel_ptr(node) || vms_addrset_add(&m->seen, node) != 1) {
		stop(m->res, "bad or repeated maple node 0x%llx", node);
		return;
	}
	const struct vms_field *sf, *pf, *ef;
	bool arange = type == m->t_arange;
	if (type == m->t_leaf || type == m->t_range) {
		sf = &m->r_slot, pf = &m->r_pivot, ef = &m->r_meta_end;
	} else if (arange) {
		sf = &m->a_slot, pf = &m->a_pivot, ef = &m->a_meta_end;
	} else {
		stop(m->res, "maple node 0x%llx has an unknown type", enode);
		return;
	}
	uint64_t slots[32], pivots[32];
	uint8_t meta_end;
	size_t nslots = sf->size / 8, npiv = pf->size / 8;
	if (nslots == 0 || nslots > 32 || npiv == 0 || npiv >= nslots ||
	    !vms_ok(vms_kernel_read(m->k, node + sf->offset, slots, nslots * 8)) ||
	    !vms_ok(vms_kernel_read(m->k, node + pf->offset, pivots, npiv * 8)) ||
	    !vms_ok(vms_kernel_read(m->k, node + ef->offset, &meta_end, 1))) {
		stop(m->res, "maple node 0x%llx unreadable", node);
		return;
	}
	size_t end;
	if (arange || pivots[npiv - 1] == 0)
		end = meta_end;
	else if (pivots[npiv - 1] == max)
		end = npiv - 1;
	else
		end = npiv;
	if (end >= nslots)
		end = nslots - 1;
	for (size_t i = 0; i <= end && !m->res->truncated; i++) {
		uint64_t e = slots[i];
		if (!e)
			continue;
		if (!kernel_ptr(e)) {
			stop(m->res, "maple node 0x%llx holds a non-kernel pointer", node);
			break;
		}
		if (type == m->t_leaf) {
			if (m->out->n >= 2 * (size_t)MAX_VMAS)
				stop(m->res, "maple tree holds too many entries (at node 0x%llx)", node);
			else if ((e & 7) == 0 && !vec_push(m->out, e))
				stop(m->res, "out of memory at VMA 0x%llx", e);
		} else {
			/* In an internal node every live slot is a child node
			 * (encoded: type in bits 3-6; only the root carries the
			 * internal-entry tag). */
			maple_walk(m, e, i < npiv ? pivots[i] : max, depth + 1);
		}
	}
}

static struct vms_error *collect_maple(struct vms_kernel *k, uint64_t mm,
				       uint32_t map_count, struct vec *out,
				       struct vms_walk_result *res)
{
	struct vms_field root;
	struct vms_error *err;
	struct maple m = { .k = k, .res = res, .out = out };
	if ((err = vms_kernel_field(k, "mm_struct", "mm_mt.ma_root", &root)) ||
	    (err = vms_kernel_field(k, "maple_range_64", "slot", &m.r_slot)) ||
	    (err = vms_kernel_field(k, "maple_range_64", "pivot", &m.r_pivot)) ||
	    (err = vms_kernel_field(k, "maple_range_64", "meta.end", &m.r_meta_end)) ||
	    (err = vms_kernel_field(k, "maple_arange_64", "slot", &m.a_slot)) ||
	    (err = vms_kernel_field(k, "maple_arange_64", "pivot", &m.a_pivot)) ||
	    (err = vms_kernel_field(k, "maple_arange_64", "meta.end", &m.a_meta_end)) ||
	    (err = vms_kernel_enum_value(k, "maple_leaf_64", &m.t_leaf)) ||
	    (err = vms_kernel_enum_value(k, "maple_range_64", &m.t_range)) ||
	    (err = vms_kernel_enum_value(k, "maple_arange_64", &m.t_arange)))
		return err;
	uint64_t r;
	if ((err = vms_kernel_read_u64(k, mm + root.offset, &r)))
		return vms_error_wrap(err, "mm 0x%llx maple root", (unsigned long long)mm);
	m.max_nodes = 2 * (size_t)(map_count < MAX_VMAS ? map_count : MAX_VMAS) + 64;
	vms_addrset_init(&m.seen);
	if (is_node(r))
		maple_walk(&m, r & ~3ULL, UINT64_MAX, 0);
	else if (r && kernel_ptr(r) && (r & 7) == 0)
		vec_push(out, r);  /* a tree of one entry holds it in the root */
	vms_addrset_free(&m.seen);
	return NULL;
}

static struct vms_error *collect_list(struct vms_kernel *k, uint64_t mm,
				      struct vec *out, struct vms_walk_result *res)
{
	struct vms_field head, next;
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "mm_struct", "mmap", &head)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_next", &next)))
		return err;
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	uint64_t v;
	err = vms_kernel_read_u64(k, mm + head.offset, &v);
	while (!err && v) {
		if (out->n >= MAX_VMAS || vms_addrset_add(&seen, v) != 1) {
			stop(res, "VMA list loops or is too long at 0x%llx", v);
			break;
		}
		if (!vec_push(out, v))
			break;
		if (!vms_ok(vms_kernel_read_u64(k, v + next.offset, &v))) {
			stop(res, "VMA list unreadable at 0x%llx", v);
			break;
		}
	}
	vms_addrset_free(&seen);
	return err;
}

static struct vms_error *layout(struct vms_kernel *k, struct vma_layout *L)
{
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "vm_area_struct", "vm_start", &L->start)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_end", &L->end)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_flags", &L->flags)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_pgoff", &L->pgoff)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_file", &L->file)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_mm", &L->mm)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_ops", &L->ops)) ||
	    (err = vms_kernel_field(k, "vm_area_struct", "vm_private_data", &L->priv)) ||
	    (err = vms_kernel_field(k, "file", "f_inode", &L->f_inode)) ||
	    (err = vms_kernel_field(k, "inode", "i_ino", &L->i_ino)) ||
	    (err = vms_kernel_field(k, "inode", "i_sb", &L->i_sb)) ||
	    (err = vms_kernel_field(k, "super_block", "s_dev", &L->s_dev)))
		return err;
	L->has_anon_name = vms_ok(vms_kernel_field(k, "vm_area_struct", "anon_name", &L->anon_name)) &&
			   vms_ok(vms_kernel_field(k, "anon_vma_name", "name", &L->anon_name_name));
	const char *ops[2] = { "special_mapping_vmops", "legacy_special_mapping_vmops" };
	for (int i = 0; i < 2; i++)
		if (!vms_ok(vms_kernel_symbol(k, ops[i], &L->special_ops[i])))
			L->special_ops[i] = 0;
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct vma_key {
	uint64_t start, end, ptr;
};

static int cmp_key(const void *a, const void *b)
{
	const struct vma_key *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}


/* Name of an area without a file, as show_map_vma() picks it. */
static void special_name(struct vms_kernel *k, const struct vma_layout *L,
			 const uint8_t *b, const struct vms_mm_info *mm,
			 struct vms_vma *v)
{
	uint64_t ops = vms_field_uint(b, &L->ops), priv = vms_field_uint(b, &L->priv), name;
	if (ops && (ops == L->special_ops[0] || ops == L->special_ops[1]) && priv &&
	    vms_ok(vms_kernel_read_u64(k, priv, &name)) && name &&
	    vms_ok(vms_kernel_read_string(k, name, v->name, sizeof(v->name))))
		return;
	if (v->start <= mm->brk && v->end >= mm->start_brk) {
		snprintf(v->name, sizeof(v->name), "[heap]");
		return;
	}
	if (v->start <= mm->start_stack && v->end >= mm->start_stack) {
		snprintf(v->name, sizeof(v->name), "[stack]");
		return;
	}
	uint64_t an;
	char anon[256];
	if (L->has_anon_name && (an = vms_field_uint(b, &L->anon_name)) &&
	    vms_ok(vms_kernel_read_string(k, an + L->anon_name_name.offset, anon,
					  sizeof(anon))))
		snprintf(v->name, sizeof(v->name), "[anon:%s]", anon);
}

struct vms_error *vms_linux_for_each_vma(struct vms_kernel *k,
					 const struct vms_task *task,
					 vms_vma_fn fn, void *arg,
					 struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	struct vms_mm_info mm;
	struct vms_error *err = vms_linux_task_mm(k, task, &mm);
	if (err || !mm.mm)
		return err;
	struct vma_layout L;
	if ((err = layout(k, &L)))
		return err;
	struct vec ptrs = { 0 };
	if (vms_ok(vms_kernel_field(k, "mm_struct", "mm_mt", &(struct vms_field){ 0 })))
		err = collect_maple(k, mm.mm, mm.map_count, &ptrs, res);
	else
		err = collect_list(k, mm.mm, &ptrs, res);
	if (err) {
		free(ptrs.v);
		return err;
	}
	if (ptrs.n)
		qsort(ptrs.v, ptrs.n, sizeof(*ptrs.v), cmp_u64);
	size_t vsize;
	if ((err = vms_kernel_struct_size(k, "vm_area_struct", &vsize)) ||
	    vsize > 4096) {
		free(ptrs.v);
		return err ? err : vms_error_create(VMS_ERR_CORRUPT, "vm_area_struct too large");
	}
	/* Pass 1: check each VMA belongs to this mm and sort by address, keeping
	 * 24 bytes per area; pass 2 builds one full record at a time. */
	uint8_t *b = malloc(vsize);
	struct vma_key *keys = calloc(ptrs.n ? ptrs.n : 1, sizeof(*keys));
	struct vms_vma *v = malloc(sizeof(*v));
	if (!b || !keys || !v) {
		free(b);
		free(keys);
		free(v);
		free(ptrs.v);
		return &vms_error_nomem;
	}
	size_t n = 0;
	for (size_t i = 0; i < ptrs.n; i++) {
		if (i && ptrs.v[i] == ptrs.v[i - 1])
			continue;
		if (!vms_ok(vms_kernel_read(k, ptrs.v[i], b, vsize))) {
			stop(res, "VMA 0x%llx unreadable", ptrs.v[i]);
			continue;
		}
		if (vms_field_uint(b, &L.mm) != mm.mm) {
			stop(res, "VMA 0x%llx belongs to another mm", ptrs.v[i]);
			continue;
		}
		keys[n] = (struct vma_key){ vms_field_uint(b, &L.start), vms_field_uint(b, &L.end), ptrs.v[i] };
		if (keys[n].start >= keys[n].end) {
			stop(res, "VMA 0x%llx is empty or inverted", ptrs.v[i]);
			continue;
		}
		n++;
	}
	qsort(keys, n, sizeof(*keys), cmp_key);
	for (size_t i = 0; i < n; i++) {
		if (i && keys[i].start < keys[i - 1].end) {
			stop(res, "VMAs overlap at 0x%llx", keys[i].start);
			break;
		}
		if (!vms_ok(vms_kernel_read(k, keys[i].ptr, b, vsize))) {
			stop(res, "VMA 0x%llx unreadable", keys[i].ptr);
			break;
		}
		memset(v, 0, sizeof(*v));
		v->addr = keys[i].ptr;
		v->start = keys[i].start;
		v->end = keys[i].end;
		v->flags = vms_field_uint(b, &L.flags);
		v->file = vms_field_uint(b, &L.file);
		snprintf(v->perms, sizeof(v->perms), "%c%c%c%c",
			 v->flags & VM_READ ? 'r' : '-', v->flags & VM_WRITE ? 'w' : '-',
			 v->flags & VM_EXEC ? 'x' : '-', v->flags & VM_MAYSHARE ? 's' : 'p');
		if (v->file) {
			v->pgoff = vms_field_uint(b, &L.pgoff);
			uint64_t inode, sb;
			uint32_t dev;
			if (vms_ok(vms_kernel_read_u64(k, v->file + L.f_inode.offset, &inode)) &&
			    inode) {
				vms_ok(vms_kernel_read_u64(k, inode + L.i_ino.offset, &v->inode));
				if (vms_ok(vms_kernel_read_u64(k, inode + L.i_sb.offset, &sb)) &&
				    vms_ok(vms_kernel_read_u32(k, sb + L.s_dev.offset, &dev))) {
					v->dev_major = dev >> 20;
					v->dev_minor = dev & 0xfffff;
				}
			}
			struct vms_error *perr = vms_linux_file_path(k, v->file, v->name,
								     sizeof(v->name));
			if (perr) {
				snprintf(v->name, sizeof(v->name), "? (%s)", perr->message);
				vms_error_free(perr);
			}
		} else {
			special_name(k, &L, b, &mm, v);
		}
		res->count++;
		if (fn(v, arg))
			break;
	}
	if (mm.map_count && n != mm.map_count && !res->truncated)
		vms_kernel_log(k, VMS_LOG_WARN,
			       "task %d: found %zu memory areas, mm->map_count says %u",
			       task->pid, n, mm.map_count);
	free(v);
	free(keys);
	free(b);
	free(ptrs.v);
	return NULL;
}
