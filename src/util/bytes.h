/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unaligned little-endian loads from untrusted buffers. */
#ifndef VMSIGHT_UTIL_BYTES_H
#define VMSIGHT_UTIL_BYTES_H
#include <stdint.h>
#include <string.h>

static inline uint16_t vms_le16(const void *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static inline uint32_t vms_le32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
static inline uint64_t vms_le64(const void *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}
#define VMS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
