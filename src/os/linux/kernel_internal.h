/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_OS_LINUX_KERNEL_INTERNAL_H
#define VMSIGHT_OS_LINUX_KERNEL_INTERNAL_H

#include <vmsight/kernel.h>

#include "arch/x86_64.h"
#include "arch/x86_64_kernel.h"

/* Memo of BTF/DWARF member lookups: views ask for the same few dozen
 * (struct, member) pairs for every object they read, and a type lookup by
 * name scans every type. */
#define FIELD_CACHE_SLOTS 1024
#define FIELD_CACHE_KEY 96

struct field_cache_slot {
	char key[FIELD_CACHE_KEY];   /* "struct\x1fpath", "" if empty */
	bool found;
	struct vms_field field;
	int64_t value;               /* struct sizes and enumerator values */
};

struct vms_kernel {
	struct vms_source *src;
	struct vms_kernel_options opts;
	struct vms_addrspace as;
	struct vms_x86_kernel_map map;
	const uint8_t *image;      /* the kernel image, _text on */
	uint8_t *image_copy;       /* owned copy when the source can't map it */
	uint64_t copy_ro_end;      /* live source: the copy serves [_text, this), the
				    * read-only text and rodata (__end_rodata), 0 none */
	struct vms_symtab *syms;
	struct vms_types *types;
	struct vms_kernel_info info;
	uint64_t per_cpu_offset_addr;  /* __per_cpu_offset, 0 if absent */
	struct field_cache_slot *field_cache;  /* FIELD_CACHE_SLOTS, lazily */
};

/* A bitfield or plain member (at most 8 bytes) of the @bufsize-byte copy
 * @buf as an integer; 0 when it does not lie inside the copy. */
static inline uint64_t vms_field_bits(const uint8_t *buf, size_t bufsize,
				      const struct vms_field *f)
{
	if (!f->bit_size)
		return f->offset + f->size <= bufsize ? vms_field_uint(buf, f) : 0;
	uint64_t v = 0;
	size_t n = (f->bit_offset + f->bit_size + 7) / 8;
	if (n > 8 || f->offset + n > bufsize)
		return 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)buf[f->offset + i] << (8 * i);
	v >>= f->bit_offset;
	return f->bit_size >= 64 ? v : v & ((1ull << f->bit_size) - 1);
}

/* The ps letter (R, S, D, T, t, X, Z, P, I) for task_struct __state and
 * exit_state, as the kernel's task_state_index() computes it; tasks.c. */
char vms_linux_task_state_letter(uint32_t state, uint32_t exit_state);

#endif
