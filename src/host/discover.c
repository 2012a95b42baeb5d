// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The QEMU processes of this host and the vmsight source spec that reads
 * each guest: its shared RAM file, else its QMP socket, else qemu:PID
 * (/proc/PID/mem).  And the reverse: the QEMU that serves a spec.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsight/host.h>
#include <vmsight/xenhost.h>

#include "host/host_priv.h"
#include "util/consume.h"
#include "util/vec.h"

/* Called for each QEMU process with its command line (may be empty when it
 * does not read); false stops the walk. */
typedef bool qemu_fn(const char *root, int pid, const char *cmd, size_t len, void *ctx);

static struct vms_error *each_qemu(const char *root, qemu_fn *fn, void *ctx)
{
	DIR *d = opendir(root);
	if (!d)
		return vms_error_create(VMS_ERR_IO, "cannot list %s: %s", root,
					strerror(errno));
	struct vms_error *err = NULL;
	size_t seen = 0;
	for (struct dirent *de; (de = readdir(d)) && seen < HOST_MAX_ENTRIES; seen++) {
		int pid;
		if (!host_parse_pid(de->d_name, &pid))
			continue;
		char path[HOST_MAX_PATH];
		int n = snprintf(path, sizeof(path), "%s/%d/cmdline", root, pid);
		if (n <= 0 || (size_t)n >= sizeof(path))
			continue;
		size_t len = 0;
		char *cmd = vms_read_file(path, HOST_MAX_CMDLINE, &len);
		if (!cmd) {
			if (errno == ENOMEM) {
				err = &vms_error_nomem;
				break;
			}
			if (errno == ENOENT || errno == ESRCH)
				continue;  /* gone */
			len = 0;       /* unreadable: /proc/PID/exe may still say */
		}
		bool more = true;
		if (host_is_qemu(root, pid, cmd, len))
			more = fn(root, pid, cmd ? cmd : "", len, ctx);
		free(cmd);
		if (!more)
			break;
	}
	closedir(d);
	return err;
}

struct discover_ctx {
	struct vms_host_guest *guests;
	size_t n, cap;
	struct host_qemu_args args;
	struct vms_host_guest g;
	bool nomem;
};

static bool add_guest(const char *root, int pid, const char *cmd, size_t len, void *arg)
{
	struct discover_ctx *c = arg;
	struct vms_host_guest *g = &c->g;
	if (c->n >= HOST_MAX_GUESTS)
		return false;
	host_qemu_args_parse(root, pid, cmd, len, &c->args);
	memset(g, 0, sizeof(*g));
	g->pid = pid;
	if (c->args.name[0])
		host_copy(g->name, sizeof(g->name), c->args.name);
	else
		snprintf(g->name, sizeof(g->name), "qemu-%d", pid);
	host_copy(g->ram_path, sizeof(g->ram_path), c->args.ram_path);
	host_copy(g->qmp_path, sizeof(g->qmp_path), c->args.qmp_path);
	if (g->ram_path[0])
		host_copy(g->spec, sizeof(g->spec), g->ram_path);
	else if (g->qmp_path[0])
		snprintf(g->spec, sizeof(g->spec), "qmp:%s", g->qmp_path);
	else
		snprintf(g->spec, sizeof(g->spec), "qemu:%d", pid);
	if (!vms_vec_append((void **)&c->guests, &c->n, &c->cap, sizeof(*g), g)) {
		c->nomem = true;
		return false;
	}
	return true;
}

/* The Xen domUs, after the QEMUs.  Not being able to ask Xen is not an
 * error here: a host without Xen simply has none. */
static void add_xen(struct discover_ctx *c)
{
	struct vms_xen_host *h;
	struct vms_xen_domain *d = NULL;
	size_t n = 0;
	if (!vms_xen_host_usable() || !vms_ok(vms_xen_host_open(&h)))
		return;
	if (vms_ok(vms_xen_host_list(h, &d, &n)))
		for (size_t i = 0; i < n && c->n < HOST_MAX_GUESTS && !c->nomem; i++) {
			struct vms_host_guest *g = &c->g;
			if (d[i].domid == 0 || d[i].dying)
				continue;   /* dom0 is where we run */
			memset(g, 0, sizeof(*g));
			g->xen = true;
			g->domid = d[i].domid;
			if (d[i].name[0])
				host_copy(g->name, sizeof(g->name), d[i].name);
			else
				snprintf(g->name, sizeof(g->name), "domain-%u", d[i].domid);
			snprintf(g->spec, sizeof(g->spec), "xen:%u", d[i].domid);
			if (!vms_vec_append((void **)&c->guests, &c->n, &c->cap, sizeof(*g), g))
				c->nomem = true;
		}
	free(d);
	vms_xen_host_close(h);
}

static int cmp_pid(const void *a, const void *b)
{
	const struct vms_host_guest *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

struct vms_error *vms_host_discover(const char *procfs, struct vms_host_guest **out,
				    size_t *n)
{
	if (!out || !n)
		return vms_error_create(VMS_ERR_INVALID, "vms_host_discover: no output");
	*out = NULL;
	*n = 0;
	struct discover_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return &vms_error_nomem;
	struct vms_error *err = each_qemu(host_procfs(procfs), add_guest, c);
	if (!err && c->nomem)
		err = &vms_error_nomem;
	if (err) {
		free(c->guests);
	} else {
		if (c->n > 1)
			qsort(c->guests, c->n, sizeof(*c->guests), cmp_pid);
		add_xen(c);
		if (c->nomem) {
			free(c->guests);
			free(c);
			return &vms_error_nomem;
		}
		*out = c->guests;
		*n = c->n;
	}
	free(c);
	return err;
}

enum match_kind { MATCH_PATH, MATCH_QMP, MATCH_NAME };

struct match_ctx {
	enum match_kind kind;
	const char *want;
	char want_real[PATH_MAX];   /* realpath(want), or "" */
	char buf[PATH_MAX];
	struct host_qemu_args args;
	int best;
};

/* The same file: the same name, or the same realpath(). */
static bool same_path(const char *path, void *arg)
{
	struct match_ctx *m = arg;
	if (!strcmp(path, m->want))
		return true;
	return m->want_real[0] && realpath(path, m->buf) && !strcmp(m->buf, m->want_real);
}

static bool match_one(const char *root, int pid, const char *cmd, size_t len, void *arg)
{
	struct match_ctx *m = arg;
	bool hit;
	if (m->best && pid >= m->best)
		return true;  /* the lowest pid wins, whatever the directory order */
	if (m->kind == MATCH_PATH) {
		hit = host_qemu_any_mem_path(root, pid, cmd, len, same_path, m);
	} else {
		host_qemu_args_parse(root, pid, cmd, len, &m->args);
		if (m->kind == MATCH_NAME)
			hit = !strcmp(m->args.name, m->want);
		else
			hit = m->args.qmp_path[0] && same_path(m->args.qmp_path, m);
	}
	if (hit)
		m->best = pid;
	return true;
}

static bool has_prefix(const char *s, size_t n, const char *scheme)
{
	return n == strlen(scheme) && !strncmp(s, scheme, n);
}

int vms_host_pid_for_spec(const char *procfs, const char *spec)
{
	if (!spec || !*spec)
		return 0;
	const char *root = host_procfs(procfs);
	enum match_kind kind = MATCH_PATH;
	const char *want = spec;
	/* As vms_source_open(): a scheme, unless a file of that name exists. */
	const char *colon = strchr(spec, ':');
	if (colon && access(spec, F_OK) != 0) {
		size_t n = (size_t)(colon - spec);
		const char *arg = colon + 1;
		if (has_prefix(spec, n, "qemu")) {
			int pid;
			char dir[HOST_MAX_PATH];
			struct stat st;
			if (!host_parse_pid(arg, &pid))
				return 0;
			int l = snprintf(dir, sizeof(dir), "%s/%d", root, pid);
			return l > 0 && (size_t)l < sizeof(dir) && stat(dir, &st) == 0 &&
			       S_ISDIR(st.st_mode) ? pid : 0;
		}
		if (has_prefix(spec, n, "qmp")) {
			kind = MATCH_QMP;
			want = arg;
		} else if (has_prefix(spec, n, "libvirt")) {
			kind = MATCH_NAME;
			want = arg;
		} else if (has_prefix(spec, n, "xen")) {
			return 0;
		} else if (has_prefix(spec, n, "file")) {
			want = arg;
		}
	}
	if (!*want)
		return 0;
	struct match_ctx *m = calloc(1, sizeof(*m));
	if (!m)
		return 0;
	m->kind = kind;
	m->want = want;
	if (kind != MATCH_NAME && !realpath(want, m->want_real))
		m->want_real[0] = 0;
	int pid = 0;
	struct vms_error *err = each_qemu(root, match_one, m);
	if (!err)
		pid = m->best;
	vms_error_free(err);
	free(m);
	return pid;
}
