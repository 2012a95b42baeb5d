/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A set of 64-bit addresses, for cycle detection in guest list walks. */
#ifndef VMSIGHT_UTIL_ADDRSET_H
#define VMSIGHT_UTIL_ADDRSET_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vms_addrset {
	uint64_t *slots;  /* 0 = empty; address 0 is never inserted */
	size_t cap, count;
};

void vms_addrset_init(struct vms_addrset *set);
void vms_addrset_free(struct vms_addrset *set);
/* 1 inserted, 0 already present, -1 out of memory. */
int vms_addrset_add(struct vms_addrset *set, uint64_t addr);
#endif
