// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memory/filemap.h"

static const struct vms_segment *find_seg(struct vms_filemap *fm,
					  uint64_t paddr)
{
	if (fm->last_seg < fm->nr_segs) {
		const struct vms_segment *s = &fm->segs[fm->last_seg];
		if (paddr >= s->phys && paddr - s->phys < s->size)
			return s;
	}
	size_t lo = 0, hi = fm->nr_segs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vms_segment *s = &fm->segs[mid];
		if (paddr < s->phys)
			hi = mid;
		else if (paddr - s->phys >= s->size)
			lo = mid + 1;
		else {
			fm->last_seg = mid;
			return s;
		}
	}
	return NULL;
}

static struct vms_error *filemap_read(struct vms_source *src, uint64_t paddr,
				      void *buf, size_t len)
{
	struct vms_filemap *fm = (struct vms_filemap *)src;
	uint8_t *out = buf;
	while (len) {
		const struct vms_segment *s = find_seg(fm, paddr);
		if (!s)
			return vms_error_create(VMS_ERR_FAULT,
				"physical address 0x%llx is not in %s",
				(unsigned long long)paddr, src->path);
		uint64_t in = paddr - s->phys;
		uint64_t n = s->size - in;
		if (n > len)
			n = len;
		memcpy(out, fm->data + s->offset + in, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static const void *filemap_map(struct vms_source *src, uint64_t paddr,
			       size_t len)
{
	struct vms_filemap *fm = (struct vms_filemap *)src;
	const struct vms_segment *s = find_seg(fm, paddr);
	if (!s || s->size - (paddr - s->phys) < len)
		return NULL;
	return fm->data + s->offset + (paddr - s->phys);
}

void vms_filemap_destroy(struct vms_source *src)
{
	struct vms_filemap *fm = (struct vms_filemap *)src;
	if (fm->data)
		munmap((void *)fm->data, fm->file_size);
	if (fm->fd >= 0)
		close(fm->fd);
	free(fm->segs);
}

static const struct vms_source_ops filemap_ops = {
	.read = filemap_read,
	.map = filemap_map,
	.destroy = vms_filemap_destroy,
};

struct vms_error *vms_filemap_open(const char *path, struct vms_filemap **ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_error_create(VMS_ERR_IO, "cannot open %s: %s", path,
					strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return vms_error_create(VMS_ERR_IO, "cannot stat %s: %s", path,
					strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return vms_error_create(VMS_ERR_FORMAT,
			"%s is not a regular file (a memory image or dump is expected)",
			path);
	}
	if (st.st_size == 0) {
		close(fd);
		return vms_error_create(VMS_ERR_FORMAT,
			"%s is empty (0 bytes): no guest memory in it", path);
	}
	void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (data == MAP_FAILED) {
		int e = errno;
		close(fd);
		return vms_error_create(VMS_ERR_IO, "cannot map %s: %s", path,
					strerror(e));
	}
	struct vms_filemap *fm = calloc(1, sizeof(*fm));
	char *p = strdup(path);
	if (!fm || !p) {
		free(fm);
		free(p);
		munmap(data, (size_t)st.st_size);
		close(fd);
		return &vms_error_nomem;
	}
	fm->base.ops = &filemap_ops;
	fm->base.path = p;
	fm->fd = fd;
	fm->data = data;
	fm->file_size = (uint64_t)st.st_size;
	*ret = fm;
	return NULL;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct vms_segment *x = a, *y = b;
	return x->phys < y->phys ? -1 : x->phys > y->phys;
}

struct vms_error *vms_filemap_set_segments(struct vms_filemap *fm,
					   struct vms_segment *segs, size_t nr)
{
	qsort(segs, nr, sizeof(*segs), seg_cmp);
	size_t out = 0;
	for (size_t i = 0; i < nr; i++) {
		struct vms_segment *s = &segs[i];
		if (!s->size)
			continue;
		if (s->offset > fm->file_size ||
		    s->size > fm->file_size - s->offset)
			return vms_error_create(VMS_ERR_FORMAT,
				"%s: segment for physical 0x%llx (0x%llx bytes at file offset 0x%llx) runs past the end of the file (0x%llx bytes): truncated dump?",
				fm->base.path, (unsigned long long)s->phys,
				(unsigned long long)s->size,
				(unsigned long long)s->offset,
				(unsigned long long)fm->file_size);
		if (s->phys + s->size < s->phys)
			return vms_error_create(VMS_ERR_FORMAT,
				"%s: segment at physical 0x%llx wraps the address space",
				fm->base.path, (unsigned long long)s->phys);
		if (out && segs[out - 1].phys + segs[out - 1].size > s->phys)
			return vms_error_create(VMS_ERR_FORMAT,
				"%s: segments overlap at physical 0x%llx",
				fm->base.path, (unsigned long long)s->phys);
		segs[out++] = *s;
	}
	if (!out)
		return vms_error_create(VMS_ERR_FORMAT,
			"%s: no guest memory segments", fm->base.path);
	struct vms_phys_range *ranges = calloc(out, sizeof(*ranges));
	if (!ranges)
		return &vms_error_nomem;
	size_t nr_ranges = 0;
	for (size_t i = 0; i < out; i++) {
		if (nr_ranges && ranges[nr_ranges - 1].end == segs[i].phys)
			ranges[nr_ranges - 1].end += segs[i].size;
		else
			ranges[nr_ranges++] = (struct vms_phys_range){
				segs[i].phys, segs[i].phys + segs[i].size };
	}
	free(fm->segs);
	free(fm->base.ranges);
	fm->segs = segs;
	fm->nr_segs = out;
	fm->last_seg = 0;
	fm->base.ranges = ranges;
	fm->base.nr_ranges = nr_ranges;
	return NULL;
}
