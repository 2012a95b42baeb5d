// SPDX-License-Identifier: LGPL-2.1-or-later
/* Opening a source by name, and the generic accessors. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory/filemap.h"
#include "memory/sources.h"

struct vms_error *vms_source_open_file(const char *path,
				       struct vms_source **ret)
{
	struct vms_filemap *fm;
	struct vms_error *err = vms_filemap_open(path, &fm);
	if (err)
		return err;
	if (vms_kdump_detect(fm->data, fm->file_size)) {
		/* libkdumpfile reads it by itself. */
		vms_source_close(&fm->base);
		return vms_kdump_open(path, ret);
	}
	if (fm->file_size >= 4 && !memcmp(fm->data, "\177ELF", 4))
		err = vms_elfcore_init(fm);
	else if (vms_lime_detect(fm->data, fm->file_size))
		err = vms_lime_init(fm);
	else if (fm->file_size < 4096)
		err = vms_error_create(VMS_ERR_FORMAT,
			"%s: %llu bytes is too small for a memory image (not ELF, so read as raw RAM)",
			path, (unsigned long long)fm->file_size);
	else
		err = vms_raw_init(fm);
	if (err) {
		vms_source_close(&fm->base);
		return err;
	}
	*ret = &fm->base;
	return NULL;
}

/* "qemu:1234" -> 1234; false unless all decimal digits and in range. */
static bool parse_pid(const char *s, pid_t *pid)
{
	if (!*s || strlen(s) > 9)
		return false;
	long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return false;
		v = v * 10 + (*c - '0');
	}
	if (v <= 0)
		return false;
	*pid = (pid_t)v;
	return true;
}

struct vms_error *vms_source_open(const char *spec, struct vms_source **ret)
{
	if (!spec || !*spec)
		return vms_error_create(VMS_ERR_INVALID, "no memory source named");
	/* A scheme prefix, unless a file of that very name exists. */
	const char *colon = strchr(spec, ':');
	if (colon && access(spec, F_OK) != 0) {
		size_t n = (size_t)(colon - spec);
		const char *arg = colon + 1;
		if (n == 4 && !strncmp(spec, "qemu", 4)) {
			pid_t pid;
			if (!parse_pid(arg, &pid))
				return vms_error_create(VMS_ERR_INVALID,
					"%s: expected qemu:PID with a process id", spec);
			return vms_qemu_open(spec, pid, NULL, ret);
		}
		if (n == 3 && !strncmp(spec, "qmp", 3)) {
			if (!*arg)
				return vms_error_create(VMS_ERR_INVALID,
					"%s: expected qmp:PATH of a QMP unix socket", spec);
			return vms_qmp_open(spec, arg, ret);
		}
		if (n == 7 && !strncmp(spec, "libvirt", 7)) {
			if (!*arg)
				return vms_error_create(VMS_ERR_INVALID,
					"%s: expected libvirt:DOMAIN", spec);
			return vms_libvirt_open(spec, arg, ret);
		}
		if (n == 3 && !strncmp(spec, "xen", 3)) {
			pid_t domid;  /* a domid is a small decimal number too */
			if (!parse_pid(arg, &domid) && strcmp(arg, "0"))
				return vms_error_create(VMS_ERR_INVALID,
					"%s: expected xen:DOMID with a domain id", spec);
			if (!strcmp(arg, "0"))
				domid = 0;
			if (domid >= 0x7ff0)  /* DOMID_FIRST_RESERVED */
				return vms_error_create(VMS_ERR_INVALID,
					"%s: %d is not a domain id Xen gives out", spec, (int)domid);
			return vms_xen_open(spec, (uint32_t)domid, ret);
		}
		if ((n == 4 && !strncmp(spec, "file", 4)))
			return vms_source_open_file(arg, ret);
	}
	return vms_source_open_file(spec, ret);
}

void vms_source_close(struct vms_source *src)
{
	if (!src)
		return;
	if (src->ops && src->ops->destroy)
		src->ops->destroy(src);
	free(src->path);
	free(src->ranges);
	free(src->cpus);
	free(src->vmcoreinfo);
	free(src);
}

struct vms_error *vms_source_read(struct vms_source *src, uint64_t paddr,
				  void *buf, size_t len)
{
	if (paddr + len < paddr)
		return vms_error_create(VMS_ERR_FAULT,
			"read of 0x%zx bytes at physical 0x%llx wraps",
			len, (unsigned long long)paddr);
	return src->ops->read(src, paddr, buf, len);
}

const void *vms_source_map(struct vms_source *src, uint64_t paddr, size_t len)
{
	if (!src->ops->map || paddr + len < paddr)
		return NULL;
	return src->ops->map(src, paddr, len);
}

void vms_source_describe_cost(struct vms_source *src, char *buf, size_t len)
{
	if (len)
		buf[0] = 0;
	if (src->ops->describe_cost)
		src->ops->describe_cost(src, buf, len);
}

uint64_t vms_source_phys_end(const struct vms_source *src)
{
	return src->nr_ranges ? src->ranges[src->nr_ranges - 1].end : 0;
}

uint64_t vms_source_phys_size(const struct vms_source *src)
{
	uint64_t total = 0;
	for (size_t i = 0; i < src->nr_ranges; i++)
		total += src->ranges[i].end - src->ranges[i].start;
	return total;
}

bool vms_source_is_backed(const struct vms_source *src, uint64_t paddr,
			  size_t len)
{
	if (paddr + len < paddr)
		return false;
	size_t lo = 0, hi = src->nr_ranges;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct vms_phys_range *r = &src->ranges[mid];
		if (paddr < r->start)
			hi = mid;
		else if (paddr >= r->end)
			lo = mid + 1;
		else
			return r->end - paddr >= len;
	}
	return false;
}
