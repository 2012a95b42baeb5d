/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Errors returned by libvmsight.
 *
 * Every fallible library call returns a struct vms_error * (NULL on
 * success), in the style of libdrgn: the error carries a category code and
 * a one-line message that names what was looked for and where (file,
 * offset, address).  The library never prints; the caller decides.
 */
#ifndef VMSIGHT_ERROR_H
#define VMSIGHT_ERROR_H

#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

enum vms_error_code {
	VMS_ERR_OK = 0,
	VMS_ERR_NOMEM,      /* allocation failed */
	VMS_ERR_IO,         /* a file or device could not be read */
	VMS_ERR_FORMAT,     /* input is not in the expected format */
	VMS_ERR_NOT_FOUND,  /* something looked for is not there */
	VMS_ERR_FAULT,      /* address not mapped / outside the source */
	VMS_ERR_CORRUPT,    /* guest data is inconsistent (hostile or torn) */
	VMS_ERR_INVALID,    /* bad argument from the caller */
	VMS_ERR_UNSUPPORTED,/* a feature the source or build lacks */
};

struct vms_error {
	enum vms_error_code code;
	char message[];
};

/* Returned when even allocating an error fails; never freed. */
extern struct vms_error vms_error_nomem;

struct vms_error *vms_error_create(enum vms_error_code code,
				   const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
struct vms_error *vms_error_vcreate(enum vms_error_code code,
				    const char *fmt, va_list ap);
/* Prefix an existing error's message with more context; consumes @err. */
struct vms_error *vms_error_wrap(struct vms_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vms_error_free(struct vms_error *err);
const char *vms_error_code_name(enum vms_error_code code);

#ifdef __cplusplus
}
#endif
#endif
