// SPDX-License-Identifier: LGPL-2.1-or-later
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/error.h>

struct vms_error vms_error_nomem = { .code = VMS_ERR_NOMEM };

struct vms_error *vms_error_vcreate(enum vms_error_code code,
				    const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		len = 0;
	struct vms_error *err = malloc(sizeof(*err) + (size_t)len + 1);
	if (!err)
		return &vms_error_nomem;
	err->code = code;
	vsnprintf(err->message, (size_t)len + 1, fmt, ap);
	return err;
}

struct vms_error *vms_error_create(enum vms_error_code code,
				   const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct vms_error *err = vms_error_vcreate(code, fmt, ap);
	va_end(ap);
	return err;
}

struct vms_error *vms_error_wrap(struct vms_error *err, const char *fmt, ...)
{
	if (!err || err == &vms_error_nomem)
		return err;
	char prefix[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	struct vms_error *wrapped = vms_error_create(err->code, "%s: %s",
						     prefix, err->message);
	vms_error_free(err);
	return wrapped;
}

void vms_error_free(struct vms_error *err)
{
	if (err && err != &vms_error_nomem)
		free(err);
}

const char *vms_error_code_name(enum vms_error_code code)
{
	switch (code) {
	case VMS_ERR_OK: return "ok";
	case VMS_ERR_NOMEM: return "out of memory";
	case VMS_ERR_IO: return "I/O error";
	case VMS_ERR_FORMAT: return "format error";
	case VMS_ERR_NOT_FOUND: return "not found";
	case VMS_ERR_FAULT: return "address fault";
	case VMS_ERR_CORRUPT: return "corrupt guest data";
	case VMS_ERR_INVALID: return "invalid argument";
	case VMS_ERR_UNSUPPORTED: return "unsupported";
	}
	return "error";
}
