/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A growable array of fixed-size items (doubling), for collecting walks. */
#ifndef VMSIGHT_UTIL_VEC_H
#define VMSIGHT_UTIL_VEC_H
#include <stdbool.h>
#include <stddef.h>

/* Append the @size bytes at @item to *@items (holding *@n of *@cap);
 * false when memory runs out (the array is left as it was). */
bool vms_vec_append(void **items, size_t *n, size_t *cap, size_t size,
		    const void *item);
#endif
