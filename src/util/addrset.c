// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdlib.h>

#include "util/addrset.h"

void vms_addrset_init(struct vms_addrset *set)
{
	set->slots = NULL;
	set->cap = set->count = 0;
}

void vms_addrset_free(struct vms_addrset *set)
{
	free(set->slots);
	vms_addrset_init(set);
}

static size_t slot_of(uint64_t addr, size_t cap)
{
	addr ^= addr >> 33;
	addr *= 0xff51afd7ed558ccdULL;
	addr ^= addr >> 33;
	return (size_t)addr & (cap - 1);
}

static int insert(uint64_t *slots, size_t cap, uint64_t addr)
{
	size_t i = slot_of(addr, cap);
	while (slots[i]) {
		if (slots[i] == addr)
			return 0;
		i = (i + 1) & (cap - 1);
	}
	slots[i] = addr;
	return 1;
}

int vms_addrset_add(struct vms_addrset *set, uint64_t addr)
{
	if (!addr)
		return 0;
	if ((set->count + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 1024;
		uint64_t *slots = calloc(cap, sizeof(*slots));
		if (!slots)
			return -1;
		for (size_t i = 0; i < set->cap; i++)
			if (set->slots[i])
				insert(slots, cap, set->slots[i]);
		free(set->slots);
		set->slots = slots;
		set->cap = cap;
	}
	int r = insert(set->slots, set->cap, addr);
	set->count += (size_t)r;
	return r;
}
