// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * File names from guest memory: d_path() over dentries and the mount tree,
 * the pseudo names /proc shows for pipes, sockets and anonymous inodes,
 * and a task's open file table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/linux.h>

#include "os/linux/kernel_internal.h"
#include "util/bytes.h"
#include "util/consume.h"

#define MAX_PATH_DEPTH 256
#define MAX_FDS (1u << 20)

struct path_layout {
	struct vms_field f_path_mnt, f_path_dentry, f_inode, f_pos, f_flags;
	struct vms_field d_parent, d_name_name, d_name_len, d_sb, d_hash_pprev;
	struct vms_field mnt_in_mount, mnt_parent, mnt_mountpoint, mnt_root;
	struct vms_field sb_type, type_name, i_ino;
};

static struct vms_error *path_layout(struct vms_kernel *k, struct path_layout *L)
{
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "file", "f_path.mnt", &L->f_path_mnt)) ||
	    (err = vms_kernel_field(k, "file", "f_path.dentry", &L->f_path_dentry)) ||
	    (err = vms_kernel_field(k, "file", "f_inode", &L->f_inode)) ||
	    (err = vms_kernel_field(k, "file", "f_pos", &L->f_pos)) ||
	    (err = vms_kernel_field(k, "file", "f_flags", &L->f_flags)) ||
	    (err = vms_kernel_field(k, "dentry", "d_parent", &L->d_parent)) ||
	    (err = vms_kernel_field(k, "dentry", "d_name.name", &L->d_name_name)) ||
	    (err = vms_kernel_field(k, "dentry", "d_name.len", &L->d_name_len)) ||
	    (err = vms_kernel_field(k, "dentry", "d_sb", &L->d_sb)) ||
	    (err = vms_kernel_field(k, "dentry", "d_hash.pprev", &L->d_hash_pprev)) ||
	    (err = vms_kernel_field(k, "mount", "mnt", &L->mnt_in_mount)) ||
	    (err = vms_kernel_field(k, "mount", "mnt_parent", &L->mnt_parent)) ||
	    (err = vms_kernel_field(k, "mount", "mnt_mountpoint", &L->mnt_mountpoint)) ||
	    (err = vms_kernel_field(k, "vfsmount", "mnt_root", &L->mnt_root)) ||
	    (err = vms_kernel_field(k, "super_block", "s_type", &L->sb_type)) ||
	    (err = vms_kernel_field(k, "file_system_type", "name", &L->type_name)) ||
	    (err = vms_kernel_field(k, "inode", "i_ino", &L->i_ino)))
		return err;
	return NULL;
}

static struct vms_error *rd64(struct vms_kernel *k, uint64_t a, uint64_t *v)
{
	return vms_kernel_read_u64(k, a, v);
}

/* Prepend @name (len bytes) and a '/' to the path being built backwards at
 * the end of @buf; @pos is the current start. */
static bool prepend(char *buf, size_t *pos, const char *name, size_t len)
{
	if (*pos < len + 1)
		return false;
	*pos -= len;
	memcpy(buf + *pos, name, len);
	buf[--*pos] = '/';
	return true;
}

static struct vms_error *dentry_name(struct vms_kernel *k,
				     const struct path_layout *L, uint64_t dentry,
				     char *name, size_t size, size_t *len)
{
	uint64_t nameptr;
	uint32_t nlen;
	struct vms_error *err;
	if ((err = rd64(k, dentry + L->d_name_name.offset, &nameptr)) ||
	    (err = vms_kernel_read_u32(k, dentry + L->d_name_len.offset, &nlen)))
		return err;
	if (nlen >= size)
		return vms_error_create(VMS_ERR_CORRUPT,
			"dentry 0x%llx: name length %u is absurd",
			(unsigned long long)dentry, nlen);
	if ((err = vms_kernel_read(k, nameptr, name, nlen)))
		return err;
	name[nlen] = '\0';
	*len = strnlen(name, nlen);
	return NULL;
}

static struct vms_error *fs_type_name(struct vms_kernel *k,
				      const struct path_layout *L, uint64_t dentry,
				      char *out, size_t size)
{
	uint64_t sb, type, name;
	struct vms_error *err;
	if ((err = rd64(k, dentry + L->d_sb.offset, &sb)) ||
	    (err = rd64(k, sb + L->sb_type.offset, &type)) ||
	    (err = rd64(k, type + L->type_name.offset, &name)))
		return err;
	return vms_kernel_read_string(k, name, out, size);
}

struct vms_error *vms_linux_file_path(struct vms_kernel *k, uint64_t file,
				      char *buf, size_t size)
{
	struct path_layout L;
	struct vms_error *err = path_layout(k, &L);
	if (err)
		return err;
	if (size < 64)
		return vms_error_create(VMS_ERR_INVALID, "path buffer too small");
	uint64_t vfsmnt, dentry, inode, ino = 0;
	if ((err = rd64(k, file + L.f_path_mnt.offset, &vfsmnt)) ||
	    (err = rd64(k, file + L.f_path_dentry.offset, &dentry)))
		return vms_error_wrap(err, "struct file 0x%llx", (unsigned long long)file);
	if (vms_ok(rd64(k, file + L.f_inode.offset, &inode)) && inode)
		vms_ok(rd64(k, inode + L.i_ino.offset, &ino));

	/* Pseudo filesystems name their files themselves (d_dname). */
	char fstype[32] = "";
	char name[256];
	size_t nlen;
	vms_ok(fs_type_name(k, &L, dentry, fstype, sizeof(fstype)));
	if (!strcmp(fstype, "pipefs")) {
		snprintf(buf, size, "pipe:[%llu]", (unsigned long long)ino);
		return NULL;
	}
	if (!strcmp(fstype, "sockfs")) {
		snprintf(buf, size, "socket:[%llu]", (unsigned long long)ino);
		return NULL;
	}
	if (!strcmp(fstype, "anon_inodefs")) {
		if ((err = dentry_name(k, &L, dentry, name, sizeof(name), &nlen)))
			return err;
		snprintf(buf, size, "anon_inode:%s", name);
		return NULL;
	}

	uint64_t mount = vfsmnt - L.mnt_in_mount.offset;
	/* A shmem pseudo file (alloc_file_pseudo on the internal tmpfs or
	 * hugetlbfs mount: memfd, SysV shm, shared anonymous memory) has a
	 * dentry that is its own parent but not its mount's root: d_path()
	 * then asks d_dname, simple_dname() for these, which gives
	 * "/NAME (deleted)".  (nsfs and others have d_dname of their own.) */
	uint64_t mroot = 0, dparent = 0;
	if ((!strcmp(fstype, "tmpfs") || !strcmp(fstype, "hugetlbfs")) &&
	    vms_ok(rd64(k, mount + L.mnt_in_mount.offset + L.mnt_root.offset, &mroot)) &&
	    vms_ok(rd64(k, dentry + L.d_parent.offset, &dparent)) &&
	    dparent == dentry && dentry != mroot) {
		if ((err = dentry_name(k, &L, dentry, name, sizeof(name), &nlen)))
			return vms_error_wrap(err, "struct file 0x%llx", (unsigned long long)file);
		snprintf(buf, size, "/%s (deleted)", name);
		return NULL;
	}
	uint64_t hash_pprev = 1;
	vms_ok(rd64(k, dentry + L.d_hash_pprev.offset, &hash_pprev));
	uint64_t first = dentry;
	size_t pos = size - 1;
	buf[pos] = '\0';
	for (int depth = 0; depth < MAX_PATH_DEPTH; depth++) {
		uint64_t root, parent;
		if ((err = rd64(k, mount + L.mnt_in_mount.offset + L.mnt_root.offset, &root)) ||
		    (err = rd64(k, dentry + L.d_parent.offset, &parent)))
			return vms_error_wrap(err, "path of file 0x%llx", (unsigned long long)file);
		if (dentry == root || dentry == parent) {
			uint64_t mparent, mpoint;
			if ((err = rd64(k, mount + L.mnt_parent.offset, &mparent)) ||
			    (err = rd64(k, mount + L.mnt_mountpoint.offset, &mpoint)))
				return vms_error_wrap(err, "mount 0x%llx", (unsigned long long)mount);
			if (dentry != root || mparent == mount)
				break;  /* global root (or a detached tree) */
			dentry = mpoint;
			mount = mparent;
			continue;
		}
		if ((err = dentry_name(k, &L, dentry, name, sizeof(name), &nlen)))
			return vms_error_wrap(err, "path of file 0x%llx", (unsigned long long)file);
		if (!prepend(buf, &pos, name, nlen))
			return vms_error_create(VMS_ERR_CORRUPT,
				"path of file 0x%llx is longer than %zu bytes",
				(unsigned long long)file, size);
		dentry = parent;
		if (depth == MAX_PATH_DEPTH - 1)
			return vms_error_create(VMS_ERR_CORRUPT,
				"path of file 0x%llx is deeper than %d components (dentry loop?)",
				(unsigned long long)file, MAX_PATH_DEPTH);
	}
	if (pos == size - 1)
		buf[--pos] = '/';
	memmove(buf, buf + pos, size - pos);
	/* d_path() marks unlinked files; the root of a filesystem is never
	 * "deleted". */
	uint64_t fparent = 0;
	vms_ok(rd64(k, first + L.d_parent.offset, &fparent));
	if (hash_pprev == 0 && fparent != first) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, " (deleted)");
	}
	return NULL;
}

struct vms_error *vms_linux_for_each_fd(struct vms_kernel *k,
					const struct vms_task *task,
					vms_fd_fn fn, void *arg,
					struct vms_walk_result *res)
{
	memset(res, 0, sizeof(*res));
	struct vms_field files_f, fdt_f, max_f, fd_f;
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "task_struct", "files", &files_f)) ||
	    (err = vms_kernel_field(k, "files_struct", "fdt", &fdt_f)) ||
	    (err = vms_kernel_field(k, "fdtable", "max_fds", &max_f)) ||
	    (err = vms_kernel_field(k, "fdtable", "fd", &fd_f)))
		return err;
	struct path_layout L;
	if ((err = path_layout(k, &L)))
		return err;
	uint64_t files, fdt, fdarr;
	uint32_t max;
	if ((err = rd64(k, task->addr + files_f.offset, &files)))
		return vms_error_wrap(err, "task %d files", task->pid);
	if (!files)
		return NULL;  /* exited, or a kernel thread without files */
	if ((err = rd64(k, files + fdt_f.offset, &fdt)) ||
	    (err = vms_kernel_read_u32(k, fdt + max_f.offset, &max)) ||
	    (err = rd64(k, fdt + fd_f.offset, &fdarr)))
		return vms_error_wrap(err, "task %d file table", task->pid);
	if (max > MAX_FDS) {
		res->truncated = true;
		snprintf(res->reason, sizeof(res->reason),
			 "file table 0x%llx claims %u descriptors; read the first %u",
			 (unsigned long long)fdt, max, MAX_FDS);
		max = MAX_FDS;
	}
	struct vms_fd *fd = malloc(sizeof(*fd));
	if (!fd)
		return &vms_error_nomem;
	uint64_t chunk[64];
	for (uint32_t base = 0; base < max; base += 64) {
		uint32_t n = max - base < 64 ? max - base : 64;
		if ((err = vms_kernel_read(k, fdarr + 8ULL * base, chunk, 8ULL * n))) {
			res->truncated = true;
			snprintf(res->reason, sizeof(res->reason),
				 "fd array 0x%llx unreadable at fd %u: %s",
				 (unsigned long long)fdarr, base, err->message);
			vms_error_free(err);
			break;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t file = chunk[i];
			if (!file)
				continue;
			memset(fd, 0, sizeof(*fd));
			fd->fd = (int)(base + i);
			fd->file = file;
			vms_ok(rd64(k, file + L.f_pos.offset, &fd->pos));
			vms_ok(vms_kernel_read_u32(k, file + L.f_flags.offset, &fd->flags));
			if ((err = vms_linux_file_path(k, file, fd->path, sizeof(fd->path)))) {
				snprintf(fd->path, sizeof(fd->path), "? (%s)", err->message);
				vms_kernel_log(k, VMS_LOG_WARN, "task %d fd %d: %s", task->pid,
					       fd->fd, err->message);
				vms_error_free(err);
			}
			res->count++;
			if (fn(fd, arg)) {
				free(fd);
				return NULL;
			}
		}
	}
	free(fd);
	return NULL;
}
