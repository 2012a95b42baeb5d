// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The cgroup actuators.  Each steered thread gets a cpu cgroup of its own,
 * created below the cgroup it was found in, so that whatever limits sit
 * above it (libvirt's per-vCPU cgroups, a systemd slice's quota) still hold.
 * Undo: the thread goes back, the cgroup is removed.
 *
 * cgroup1: mkdir, write the tid to tasks, cpu.shares 8192 / 1024 / 128.
 * cgroup2: a thread can leave its process's cgroup only into a threaded
 *          child: mkdir, "threaded" into its cgroup.type (which makes the
 *          process's cgroup a threaded domain, exempt from the no-internal-
 *          process rule), +cpu into the parent's cgroup.subtree_control if
 *          it was not there (taken back out when the last child is gone),
 *          the tid into cgroup.threads, then cpu.weight 800 / 100 / 12 --
 *          the same ratios as the v1 shares: weight 100 is what each thread
 *          left in the parent weighs (nice 0).
 * With demote_idle, a demoted thread's cgroup gets cpu.idle 1 instead of a
 * low share or weight (SCHED_IDLE for the group: no floor, it runs only
 * when nothing else wants the CPU).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actuator_priv.h"

/* @src into @out, or false when it does not fit: a cut path is another
 * cgroup. */
static bool copy_path(char *out, size_t n, const char *src)
{
	size_t len = strlen(src);
	if (len >= n)
		return false;
	memcpy(out, src, len + 1);
	return true;
}

/* The thread's cgroup path for the cpu controller (v1), or in the unified
 * hierarchy ("0::PATH", v2), relative to its mount. */
static bool thread_cgroup(int pid, int tid, bool v2, char *out, size_t n)
{
	char path[64], line[1024];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/cgroup", pid, tid);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c2 = '\0';
		if (v2) {
			if (c1 == line + 1 && line[0] == '0' && c2 == c1 + 1)
				found = copy_path(out, n, c2 + 1);
			continue;
		}
		char *save = NULL;
		for (char *tok = strtok_r(c1 + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			if (!strcmp(tok, "cpu")) {
				found = copy_path(out, n, c2 + 1);
				break;
			}
	}
	fclose(f);
	return found;
}

/* Whether the space-separated list in file @path names @word. */
static bool file_lists(const char *path, const char *word)
{
	char buf[512] = "", *save = NULL;
	if (!act_read_line(path, buf, sizeof(buf)))
		return false;
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
		if (!strcmp(t, word))
			return true;
	return false;
}

bool act_cgroup_v2_has_cpu(const char *root, char *why, size_t n)
{
	char path[320];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	if (access(path, R_OK) != 0) {
		snprintf(why, n, "%s: %s (no cgroup v2 mounted there)", path, strerror(errno));
		return false;
	}
	if (!file_lists(path, "cpu")) {
		snprintf(why, n, "%s does not list the cpu controller (on this host it is "
			 "bound to cgroup v1: use --actuator cgroup1 or nice)", path);
		return false;
	}
	return true;
}

struct vms_error *act_cgroup_remember(const struct vms_actuator *a, struct act_entry *e)
{
	bool v2 = a->o.kind == VMS_ACT_CGROUP_V2;
	char cg[400], where[64];
	snprintf(where, sizeof(where), "thread %d of process %d", e->tid, e->pid);
	if (!thread_cgroup(e->pid, e->tid, v2, cg, sizeof(cg))) {
		errno = ENOENT;
		return act_errno_error(v2 ? "cgroup (v2) of" : "cpu cgroup (v1) of", where);
	}
	snprintf(e->orig_cgroup, sizeof(e->orig_cgroup), "%.200s%.300s", v2 ? a->v2 : a->v1,
		 strcmp(cg, "/") ? cg : "");
	snprintf(e->created, sizeof(e->created), "%s/vmsight-%d-%d", e->orig_cgroup, e->pid,
		 e->tid);
	if (v2) {
		/* Another steered thread of the same cgroup may have enabled cpu
		 * there already: whoever leaves last takes it back out. */
		for (size_t i = 0; i < a->n; i++)
			if (a->e[i].live && a->e[i].enabled_cpu &&
			    !strcmp(a->e[i].orig_cgroup, e->orig_cgroup))
				e->enabled_cpu = true;
	}
	return NULL;
}

/* cgroup2: make @e->created a threaded child with the cpu controller and
 * move the thread in.  Each step's error names its file. */
static struct vms_error *v2_create(struct vms_actuator *a, struct act_entry *e)
{
	char path[640], buf[32];
	struct vms_error *err;
	snprintf(path, sizeof(path), "%s/cgroup.controllers", e->orig_cgroup);
	if (!file_lists(path, "cpu"))
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"cgroup2 actuator: %s does not list cpu (enable it in the parent's "
			"cgroup.subtree_control, or delegate it to this subtree)", path);
	if (mkdir(e->created, 0755) < 0 && errno != EEXIST)
		return act_errno_error("create cgroup", e->created);
	snprintf(path, sizeof(path), "%s/cgroup.type", e->created);
	if ((err = act_write_str(path, "threaded")))
		goto undo_dir;
	snprintf(path, sizeof(path), "%s/cgroup.subtree_control", e->orig_cgroup);
	if (!file_lists(path, "cpu")) {
		if ((err = act_write_str(path, "+cpu")))
			goto undo_dir;
		e->enabled_cpu = true;
		for (size_t i = 0; i < a->n; i++)
			if (a->e[i].live && !strcmp(a->e[i].orig_cgroup, e->orig_cgroup))
				a->e[i].enabled_cpu = true;
	}
	snprintf(path, sizeof(path), "%s/cgroup.threads", e->created);
	snprintf(buf, sizeof(buf), "%d", e->tid);
	if ((err = act_write_str(path, buf)))
		goto undo_dir;
	return NULL;
undo_dir:
	rmdir(e->created);
	return err;
}

struct vms_error *act_cgroup_set(struct vms_actuator *a, struct act_entry *e, enum vms_level l,
				 struct vms_change *chg)
{
	bool v2 = a->o.kind == VMS_ACT_CGROUP_V2;
	bool idle = a->o.demote_idle;
	unsigned normal = v2 ? 100 : 1024;
	unsigned want = l == VMS_LEVEL_BOOST ? (v2 ? a->o.boost_weight : a->o.boost_shares) :
			l == VMS_LEVEL_DEMOTE ? (v2 ? a->o.demote_weight : a->o.demote_shares) :
			normal;
	char path[640], buf[64];
	struct vms_error *err;
	struct stat st;
	if (!a->o.dry_run && stat(e->created, &st) < 0) {
		if (v2) {
			if ((err = v2_create(a, e)))
				return err;
		} else {
			if (mkdir(e->created, 0755) < 0 && errno != EEXIST)
				return act_errno_error("create cgroup", e->created);
			snprintf(path, sizeof(path), "%s/tasks", e->created);
			snprintf(buf, sizeof(buf), "%d", e->tid);
			if ((err = act_write_str(path, buf))) {
				rmdir(e->created);
				return err;
			}
		}
	}
	/* demote_idle: demote is cpu.idle 1 (v1 has the file too, 5.15+), the
	 * others cpu.idle 0 plus their weight. */
	if (idle) {
		const char *want_idle = l == VMS_LEVEL_DEMOTE ? "1" : "0";
		snprintf(path, sizeof(path), "%s/cpu.idle", e->created);
		snprintf(buf, sizeof(buf), "0");
		if (!a->o.dry_run && !act_read_line(path, buf, sizeof(buf)))
			return act_errno_error("read", path);
		if (strcmp(buf, want_idle)) {
			chg->tid = e->tid;
			snprintf(chg->what, sizeof(chg->what), "cpu.idle");
			snprintf(chg->old_value, sizeof(chg->old_value), "%.31s", buf);
			snprintf(chg->new_value, sizeof(chg->new_value), "%s", want_idle);
			snprintf(chg->where, sizeof(chg->where), "%s", path);
			if (!a->o.dry_run && (err = act_write_str(path, want_idle)))
				return err;
		}
		if (l == VMS_LEVEL_DEMOTE)
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", e->created, v2 ? "cpu.weight" : "cpu.shares");
	snprintf(buf, sizeof(buf), "%u", normal);
	if (!a->o.dry_run && !act_read_line(path, buf, sizeof(buf)))
		return act_errno_error("read", path);
	if ((unsigned)strtoul(buf, NULL, 10) == want)
		return NULL;
	if (!chg->tid) {
		chg->tid = e->tid;
		snprintf(chg->what, sizeof(chg->what), "%s", v2 ? "cpu.weight" : "cpu.shares");
		snprintf(chg->old_value, sizeof(chg->old_value), "%.31s", buf);
		snprintf(chg->new_value, sizeof(chg->new_value), "%u", want);
		snprintf(chg->where, sizeof(chg->where), "%s", path);
	}
	if (a->o.dry_run)
		return NULL;
	snprintf(buf, sizeof(buf), "%u", want);
	return act_write_str(path, buf);
}

/* Whether directory @dir has a subdirectory (a child cgroup). */
static bool has_child_cgroup(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return false;
	bool found = false;
	for (struct dirent *de; !found && (de = readdir(d));)
		found = de->d_type == DT_DIR && strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return found;
}

struct vms_error *act_cgroup_undo(enum vms_actuator_kind kind, const struct act_entry *e,
				  bool same_thread)
{
	bool v2 = kind == VMS_ACT_CGROUP_V2;
	struct vms_error *err = NULL;
	char path[640], buf[32];
	if (same_thread) {
		snprintf(path, sizeof(path), "%s/%s", e->orig_cgroup, v2 ? "cgroup.threads" : "tasks");
		snprintf(buf, sizeof(buf), "%d", e->tid);
		err = act_write_str(path, buf);
		if (err && (err->code == VMS_ERR_NOT_FOUND ||
			    access(e->created, F_OK) != 0)) {
			vms_error_free(err);   /* the thread or its cgroup went away meanwhile */
			err = NULL;
		}
	}
	if (!err && e->created[0] && rmdir(e->created) < 0 && errno != ENOENT)
		err = act_errno_error("remove cgroup", e->created);
	/* Take +cpu back out only when no child cgroup is left that uses it:
	 * disabling it under another one would drop that one's weight. */
	if (!err && v2 && e->enabled_cpu && !has_child_cgroup(e->orig_cgroup)) {
		snprintf(path, sizeof(path), "%s/cgroup.subtree_control", e->orig_cgroup);
		if (file_lists(path, "cpu"))
			err = act_write_str(path, "-cpu");
	}
	return err;
}
