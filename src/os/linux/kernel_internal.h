/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_OS_LINUX_KERNEL_INTERNAL_H
#define VMSIGHT_OS_LINUX_KERNEL_INTERNAL_H

#include <vmsight/kernel.h>

#include "arch/x86_64.h"
#include "arch/x86_64_kernel.h"

struct vms_kernel {
	struct vms_source *src;
	struct vms_kernel_options opts;
	struct vms_addrspace as;
	struct vms_x86_kernel_map map;
	const uint8_t *image;      /* the kernel image, _text on */
	uint8_t *image_copy;       /* owned copy when the source can't map it */
	struct vms_symtab *syms;
	struct vms_types *types;
	struct vms_kernel_info info;
	uint64_t per_cpu_offset_addr;  /* __per_cpu_offset, 0 if absent */
};

#endif
