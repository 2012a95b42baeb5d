/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_UTIL_CONSUME_H
#define VMSIGHT_UTIL_CONSUME_H
#include <stdbool.h>
#include <vmsight/error.h>

/* For optional steps: true on success; an error is freed and gives false. */
static inline bool vms_ok(struct vms_error *err)
{
	if (!err)
		return true;
	vms_error_free(err);
	return false;
}
#endif
