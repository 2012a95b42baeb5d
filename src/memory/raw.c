// SPDX-License-Identifier: LGPL-2.1-or-later
/* Raw physical memory: a RAM file (QEMU memory-backend-file) or a flat dump. */
#include <stdlib.h>
#include <string.h>

#include "memory/filemap.h"

#define FOUR_GIB (4ULL << 30)

bool vms_source_is_raw(const struct vms_source *src)
{
	return src && src->ops && src->ops->destroy == vms_filemap_destroy &&
	       src->kind && !strcmp(src->kind, "raw");
}

struct vms_error *vms_source_raw_set_lowmem(struct vms_source *src,
					    uint64_t lowmem)
{
	if (!vms_source_is_raw(src))
		return vms_error_create(VMS_ERR_INVALID,
			"%s: only a raw RAM file can be re-laid out", src->path);
	struct vms_filemap *fm = (struct vms_filemap *)src;
	if (lowmem == 0 || lowmem >= fm->file_size) {
		struct vms_segment *seg = calloc(1, sizeof(*seg));
		if (!seg)
			return &vms_error_nomem;
		*seg = (struct vms_segment){ 0, fm->file_size, 0 };
		struct vms_error *err = vms_filemap_set_segments(fm, seg, 1);
		if (err)
			free(seg);
		return err;
	}
	if (lowmem > FOUR_GIB || lowmem % 4096)
		return vms_error_create(VMS_ERR_INVALID,
			"%s: bad low-memory size 0x%llx", src->path,
			(unsigned long long)lowmem);
	struct vms_segment *segs = calloc(2, sizeof(*segs));
	if (!segs)
		return &vms_error_nomem;
	segs[0] = (struct vms_segment){ 0, lowmem, 0 };
	segs[1] = (struct vms_segment){ FOUR_GIB, fm->file_size - lowmem, lowmem };
	struct vms_error *err = vms_filemap_set_segments(fm, segs, 2);
	if (err)
		free(segs);
	return err;
}

struct vms_error *vms_raw_init(struct vms_filemap *fm)
{
	fm->base.kind = "raw";
	/* A RAM file under /dev/shm is a running guest's memory. */
	fm->base.live = true;
	return vms_source_raw_set_lowmem(&fm->base, 0);
}
