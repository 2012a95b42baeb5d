// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * LiME dumps (Linux Memory Extractor, "lime" format).
 *
 * The file is a sequence of ranges, each a 32-byte header followed by the
 * range's bytes:
 *   u32 magic 0x4C694D45 ("EMiL" on disk, little-endian), u32 version (1),
 *   u64 s_addr, u64 e_addr (inclusive), u8 reserved[8].
 * Ranges are guest physical; they must be sorted, disjoint and in the file.
 */
#include <stdlib.h>
#include <string.h>

#include "memory/filemap.h"
#include "memory/sources.h"
#include "util/bytes.h"

#define LIME_HDR_SIZE 32
/* More ranges than this is not a memory map but garbage. */
#define LIME_MAX_RANGES (1u << 20)

bool vms_lime_detect(const void *data, uint64_t size)
{
	return size >= LIME_HDR_SIZE && vms_le32(data) == VMS_LIME_MAGIC;
}

struct vms_error *vms_lime_init(struct vms_filemap *fm)
{
	fm->base.kind = "lime";
	size_t cap = 16, nr = 0;
	struct vms_segment *segs = calloc(cap, sizeof(*segs));
	if (!segs)
		return &vms_error_nomem;
	struct vms_error *err = NULL;
	uint64_t off = 0;
	while (off < fm->file_size) {
		const uint8_t *h = fm->data + off;
		if (fm->file_size - off < LIME_HDR_SIZE) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: range %zu header at file offset 0x%llx is cut short (%llu of %d bytes): truncated dump",
				fm->base.path, nr, (unsigned long long)off,
				(unsigned long long)(fm->file_size - off), LIME_HDR_SIZE);
			break;
		}
		uint32_t magic = vms_le32(h), version = vms_le32(h + 4);
		uint64_t s = vms_le64(h + 8), e = vms_le64(h + 16);
		if (magic != VMS_LIME_MAGIC) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: range %zu at file offset 0x%llx has magic 0x%08x, not 0x%08x (\"EMiL\"): corrupt or not a LiME file",
				fm->base.path, nr, (unsigned long long)off, magic,
				VMS_LIME_MAGIC);
			break;
		}
		if (version != 1) {
			err = vms_error_create(VMS_ERR_UNSUPPORTED,
				"lime %s: range %zu at file offset 0x%llx has version %u; only version 1 is known",
				fm->base.path, nr, (unsigned long long)off, version);
			break;
		}
		if (e < s || e == UINT64_MAX) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: range %zu at file offset 0x%llx is [0x%llx, 0x%llx]: end before start",
				fm->base.path, nr, (unsigned long long)off,
				(unsigned long long)s, (unsigned long long)e);
			break;
		}
		uint64_t len = e - s + 1;
		uint64_t body = off + LIME_HDR_SIZE;
		if (len > fm->file_size - body) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: range %zu at file offset 0x%llx ([0x%llx, 0x%llx], 0x%llx bytes) runs past the end of the file (0x%llx bytes): truncated dump",
				fm->base.path, nr, (unsigned long long)off,
				(unsigned long long)s, (unsigned long long)e,
				(unsigned long long)len,
				(unsigned long long)fm->file_size);
			break;
		}
		if (nr && s <= segs[nr - 1].phys + segs[nr - 1].size - 1) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: range %zu at file offset 0x%llx starts at 0x%llx, %s the previous range [0x%llx, 0x%llx]",
				fm->base.path, nr, (unsigned long long)off,
				(unsigned long long)s,
				s >= segs[nr - 1].phys ? "inside" : "before",
				(unsigned long long)segs[nr - 1].phys,
				(unsigned long long)(segs[nr - 1].phys + segs[nr - 1].size - 1));
			break;
		}
		if (nr == LIME_MAX_RANGES) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"lime %s: more than %u ranges", fm->base.path,
				LIME_MAX_RANGES);
			break;
		}
		if (nr == cap) {
			struct vms_segment *n = realloc(segs, 2 * cap * sizeof(*segs));
			if (!n) {
				err = &vms_error_nomem;
				break;
			}
			segs = n;
			cap *= 2;
		}
		segs[nr++] = (struct vms_segment){ s, len, body };
		off = body + len;
	}
	if (!err)
		err = vms_filemap_set_segments(fm, segs, nr);
	if (err)
		free(segs);
	return err;
}
