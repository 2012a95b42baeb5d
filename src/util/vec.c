// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdlib.h>
#include <string.h>

#include "util/vec.h"

bool vms_vec_append(void **items, size_t *n, size_t *cap, size_t size,
		    const void *item)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		if (ncap > (size_t)-1 / size)
			return false;
		void *p = realloc(*items, ncap * size);
		if (!p)
			return false;
		*items = p;
		*cap = ncap;
	}
	memcpy((char *)*items + *n * size, item, size);
	(*n)++;
	return true;
}
