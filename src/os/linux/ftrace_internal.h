/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_OS_LINUX_FTRACE_INTERNAL_H
#define VMSIGHT_OS_LINUX_FTRACE_INTERNAL_H
#include <stdbool.h>
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
/*
 * The tracefs `format` text of event @f (name, ID, common and class
 * fields, print fmt read from trace_event_call.print_fmt, capped), as the
 * kernel's f_show prints it; malloc'ed, NULL when out of memory.
 */
struct vms_ftrace_format;
char *ft_format_text(struct vms_kernel *k, const struct vms_ftrace_format *f, size_t *len);
/*
 * A copy of data page @page (@size bytes) without the events before data
 * offset @from (the part a trace_pipe reader consumed): the data from @from
 * moved to the start, commit reduced (its RB_MISSED_* flags kept) and
 * time_stamp set to the running stamp at @from.  Into @out (@size bytes).
 * False if the page is inconsistent or @from is not an event boundary.
 */
struct vms_ftrace_page_layout;
bool ft_page_trim(const uint8_t *page, size_t size, const struct vms_ftrace_page_layout *L,
		  size_t from, uint8_t *out);
/*
 * Give printer @p the format text of event type @type directly (the fuzz
 * harness: a printer made with a NULL kernel parses nothing by itself).
 * 0 if usable, -1 if refused.
 */
struct vms_ftrace_printer;
int ft_printer_add_format(struct vms_ftrace_printer *p, uint32_t type, const char *system,
			  const char *text, size_t len);
#endif
