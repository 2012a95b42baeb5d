/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_OS_LINUX_FTRACE_INTERNAL_H
#define VMSIGHT_OS_LINUX_FTRACE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include <vmsight/kernel.h>

/*
 * Format trace_printk's binary arguments (vbin_printf layout: integers
 * aligned to their size, 8-byte values to 4, strings inline with their
 * NUL) with format @fmt into a malloc'ed string.  Best effort: %d %i %u %x
 * %X %o %c %s %p %ps %pS %pF %pf and length modifiers; symbols through @k
 * (may be NULL).  Bounded by @len.
 */
char *ft_bprint_format(struct vms_kernel *k, const char *fmt,
		       const uint8_t *args, size_t len);
/* "name", "name [module]" or "0x..." as %ps prints it. */
void ft_sym(struct vms_kernel *k, uint64_t addr, bool offset, char *buf,
	    size_t size);
#endif
