/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A source backed by a file mapped read-only, with a table of segments
 * mapping guest physical ranges to file offsets.  Raw RAM files and ELF
 * cores are both this; they differ only in how the table is built.
 */
#ifndef VMSIGHT_MEMORY_FILEMAP_H
#define VMSIGHT_MEMORY_FILEMAP_H

#include <vmsight/source.h>

struct vms_segment {
	uint64_t phys;    /* guest physical start */
	uint64_t size;    /* bytes backed by the file */
	uint64_t offset;  /* file offset */
};

struct vms_filemap {
	struct vms_source base;
	int fd;
	const uint8_t *data;   /* whole file, PROT_READ, MAP_SHARED */
	uint64_t file_size;
	struct vms_segment *segs;  /* sorted by phys, disjoint */
	size_t nr_segs;
	size_t last_seg;           /* lookup hint */
};

/* Map @path; the caller then fills segments and calls vms_filemap_commit(). */
struct vms_error *vms_filemap_open(const char *path, struct vms_filemap **ret);
/* Validate (in-file, sorted, disjoint) and derive the range list. */
struct vms_error *vms_filemap_set_segments(struct vms_filemap *fm,
					   struct vms_segment *segs,
					   size_t nr);
void vms_filemap_destroy(struct vms_source *src);

struct vms_error *vms_raw_init(struct vms_filemap *fm);
struct vms_error *vms_elfcore_init(struct vms_filemap *fm);

#endif
