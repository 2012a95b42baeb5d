/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VMSIGHT_UTIL_READFILE_H
#define VMSIGHT_UTIL_READFILE_H

#include <stddef.h>

/* The file at @path, at most @max bytes of it, NUL-terminated (malloc'ed,
 * *@len its length); NULL with errno set on failure.  For /proc files,
 * whose size stat() does not tell. */
char *vms_read_file(const char *path, size_t max, size_t *len);

#endif
