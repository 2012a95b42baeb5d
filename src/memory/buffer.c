// SPDX-License-Identifier: LGPL-2.1-or-later
/* A source over a caller's buffer. */
#include <stdlib.h>
#include <string.h>

#include <vmsight/source.h>

struct buffer_source {
	struct vms_source base;
	const uint8_t *data;
	uint64_t phys_base;
	size_t size;
};

static struct vms_error *buffer_read(struct vms_source *src, uint64_t paddr,
				     void *buf, size_t len)
{
	struct buffer_source *b = (struct buffer_source *)src;
	if (paddr < b->phys_base || paddr - b->phys_base > b->size ||
	    len > b->size - (paddr - b->phys_base))
		return vms_error_create(VMS_ERR_FAULT,
			"physical address 0x%llx (0x%zx bytes) is not in %s",
			(unsigned long long)paddr, len, src->path);
	memcpy(buf, b->data + (paddr - b->phys_base), len);
	return NULL;
}

static const void *buffer_map(struct vms_source *src, uint64_t paddr, size_t len)
{
	struct buffer_source *b = (struct buffer_source *)src;
	if (paddr < b->phys_base || paddr - b->phys_base > b->size ||
	    len > b->size - (paddr - b->phys_base))
		return NULL;
	return b->data + (paddr - b->phys_base);
}

static void buffer_destroy(struct vms_source *src)
{
	(void)src;
}

static const struct vms_source_ops buffer_ops = {
	.read = buffer_read,
	.map = buffer_map,
	.destroy = buffer_destroy,
};

struct vms_error *vms_source_from_buffer(const void *data, size_t size,
					 uint64_t phys_base, const char *name,
					 struct vms_source **ret)
{
	if (!size || phys_base + size < phys_base)
		return vms_error_create(VMS_ERR_INVALID,
			"%s: empty or wrapping buffer", name ? name : "buffer");
	struct buffer_source *b = calloc(1, sizeof(*b));
	struct vms_phys_range *r = calloc(1, sizeof(*r));
	char *path = strdup(name ? name : "buffer");
	if (!b || !r || !path) {
		free(b);
		free(r);
		free(path);
		return &vms_error_nomem;
	}
	b->base.ops = &buffer_ops;
	b->base.kind = "buffer";
	b->base.path = path;
	r->start = phys_base;
	r->end = phys_base + size;
	b->base.ranges = r;
	b->base.nr_ranges = 1;
	b->data = data;
	b->phys_base = phys_base;
	b->size = size;
	*ret = &b->base;
	return NULL;
}
