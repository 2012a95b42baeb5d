/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared helpers of the host modules (src/host/): capped procfs reads and
 * QEMU's command line. */
#ifndef VMSIGHT_HOST_PRIV_H
#define VMSIGHT_HOST_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "util/readfile.h"

/* Caps on what is read from procfs: a hostile or odd process must not make
 * us allocate without bound. */
#define HOST_MAX_CMDLINE (1u << 20)   /* bytes of /proc/PID/cmdline */
#define HOST_MAX_ARGS 65536u          /* arguments of one command line */
#define HOST_MAX_SMALL 4096u          /* stat, comm, schedstat */
#define HOST_MAX_STATUS 65536u        /* /proc/PID/status */
#define HOST_MAX_THREADS 16384u       /* threads of one process */
#define HOST_MAX_ENTRIES (1u << 23)   /* directory entries of procfs looked at */
#define HOST_MAX_GUESTS 4096u         /* QEMU processes reported (12 KiB each) */
#define HOST_MAX_PATH 4096u           /* a path, with its NUL (PATH_MAX) */

/* @procfs, or "/proc" when NULL or empty. */
const char *host_procfs(const char *procfs);


/* @src into @dst of @size bytes, cut to fit. */
void host_copy(char *dst, size_t size, const char *src);

/* A decimal process id (1 .. 2^30) that is all of @s. */
bool host_parse_pid(const char *s, int *pid);

/* What QEMU's command line says about the guest.  Values that do not fit
 * are dropped ("") rather than truncated: a truncated path is another
 * path. */
struct host_qemu_args {
	char name[1024];              /* -name [guest=]NAME, or "" */
	char ram_path[HOST_MAX_PATH]; /* the guest RAM's shared memory-backend-file */
	char qmp_path[HOST_MAX_PATH]; /* a QMP unix socket QEMU listens on */
};

/* Whether process @pid of @root (its NUL-separated command line @cmd of
 * @len bytes, may be empty) is a QEMU system emulator: argv[0]'s basename,
 * else /proc/PID/exe's, starts with "qemu-system-". */
bool host_is_qemu(const char *root, int pid, const char *cmd, size_t len);

/* Parse @cmd (@len bytes, NUL-separated, cmd[len] == 0).  Relative paths
 * are made absolute with @root/@pid/cwd when that link reads. */
void host_qemu_args_parse(const char *root, int pid, const char *cmd, size_t len,
			  struct host_qemu_args *out);

/* Whether any memory-backend-file of @cmd (shared or not) has a mem-path
 * for which @match returns true (relative paths made absolute as above). */
bool host_qemu_any_mem_path(const char *root, int pid, const char *cmd, size_t len,
			    bool (*match)(const char *path, void *ctx), void *ctx);

#endif
