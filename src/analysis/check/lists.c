// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * list-integrity: the kernel's own object lists must be well formed.  A
 * rootkit that unlinks a task or a module by hand, or a guest that corrupts
 * a list to blind the tools reading it, leaves marks a sound list never
 * has: a node whose ->next->prev is not itself, a pointer outside kernel
 * memory or unreadable, a cycle that never comes back to the head, a list
 * longer than the kernel could hold, or a forward walk and a backward walk
 * that disagree.  Each is a finding with the address and what was wrong,
 * never just an error: the other checks still run.
 *
 * Lists: the task list (init_task.tasks), the module list (modules) and
 * the module kobjects (module_kset->list).  On a live guest a list can be
 * read mid-update: a defect is reported only when a second walk finds it
 * again at the same place (the finding says so); one seen once is logged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analysis/check/check_priv.h"
#include "util/addrset.h"
#include "util/consume.h"

#define MAX_LIST_NODES (1u << 22)   /* the kernel's pid limit, with room */

struct list_defect {
	bool found;
	uint64_t at;             /* the node where it shows */
	char what[224];
};

/* A kernel pointer: non-zero and in the upper half, where every 64-bit
 * kernel we read (x86-64, arm64) keeps its memory. */
static bool kernel_half(uint64_t a)
{
	return a >> 63;
}

static void defect(struct list_defect *d, uint64_t at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void defect(struct list_defect *d, uint64_t at, const char *fmt, ...)
{
	if (d->found)
		return;
	d->found = true;
	d->at = at;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->what, sizeof(d->what), fmt, ap);
	va_end(ap);
}

/* Walk the circular list at @head both ways; the first defect into @d. */
static void walk(struct ck_ctx *c, uint64_t head, struct list_defect *d, size_t *count)
{
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t fwd = 0, back = 0;
	uint64_t prev = head, node;
	memset(d, 0, sizeof(*d));
	if (!vms_ok(vms_kernel_read_u64(c->k, head, &node))) {
		defect(d, head, "the head is unreadable");
		goto out;
	}
	while (node != head) {
		if (!node || !kernel_half(node)) {
			defect(d, prev, "->next is 0x%llx, outside kernel memory",
			       (unsigned long long)node);
			goto out;
		}
		int added = vms_addrset_add(&seen, node);
		if (added < 0) {
			defect(d, node, "out of memory while walking");
			goto out;
		}
		if (!added) {
			defect(d, node, "a cycle that does not return to the head (after %zu nodes)",
			       fwd);
			goto out;
		}
		if (++fwd > MAX_LIST_NODES) {
			defect(d, node, "longer than %u nodes", MAX_LIST_NODES);
			goto out;
		}
		uint64_t next, nprev;
		if (!vms_ok(vms_kernel_read_u64(c->k, node, &next)) ||
		    !vms_ok(vms_kernel_read_u64(c->k, node + 8, &nprev))) {
			defect(d, node, "node unreadable (reached from 0x%llx)",
			       (unsigned long long)prev);
			goto out;
		}
		if (nprev != prev) {
			defect(d, node, "->prev is 0x%llx, but 0x%llx links to it",
			       (unsigned long long)nprev, (unsigned long long)prev);
			goto out;
		}
		prev = node;
		node = next;
	}
	/* The head's ->prev must be the last node; then backwards, the same
	 * number of nodes (every one already seen going forwards). */
	uint64_t hprev;
	if (!vms_ok(vms_kernel_read_u64(c->k, head + 8, &hprev))) {
		defect(d, head, "the head's ->prev is unreadable");
		goto out;
	}
	if (hprev != prev) {
		defect(d, head, "the head's ->prev is 0x%llx, but the last node is 0x%llx",
		       (unsigned long long)hprev, (unsigned long long)prev);
		goto out;
	}
	for (node = hprev; node != head && back <= fwd; back++) {
		if (vms_addrset_add(&seen, node) != 0) {
			defect(d, node, "walking back reaches 0x%llx, not on the forward list",
			       (unsigned long long)node);
			goto out;
		}
		if (!vms_ok(vms_kernel_read_u64(c->k, node + 8, &node))) {
			defect(d, node, "unreadable walking back");
			goto out;
		}
	}
	if (back != fwd)
		defect(d, head, "%zu nodes forwards, %zu backwards", fwd, back);
out:
	vms_addrset_free(&seen);
	*count = fwd;
}

static void check_list(struct ck_ctx *c, const char *name, uint64_t head, size_t node_off,
		       const char *object)
{
	struct list_defect d, again;
	size_t n = 0;
	c->res->checks_run++;
	walk(c, head, &d, &n);
	c->res->examined += n;
	bool live = vms_kernel_source(c->k)->live;
	bool confirmed = false;
	if (d.found && live) {
		/* Mid-update on a running guest, or for real?  Read again. */
		walk(c, head, &again, &n);
		confirmed = again.found && again.at == d.at;
		if (!confirmed) {
			vms_kernel_log(c->k, VMS_LOG_INFO,
				       "check: %s at 0x%llx: %s; not seen on a second read "
				       "(the guest changed it meanwhile): not a finding",
				       name, (unsigned long long)d.at, d.what);
			return;
		}
	}
	if (!d.found)
		return;
	struct vms_finding f = { .check = "list-integrity", .owner = VMS_OWNER_NONE };
	f.technique = "a kernel object list is malformed (unlinked by hand, or corrupted to "
		      "hide from list walkers)";
	snprintf(f.place, sizeof(f.place), "%s", name);
	f.place_addr = head;
	f.target = d.at;
	snprintf(f.target_symbol, sizeof(f.target_symbol), "%s at 0x%llx", object,
		 (unsigned long long)(d.at - node_off));
	snprintf(f.detail, sizeof(f.detail), "%s%s", d.what,
		 confirmed ? " (seen again on a second read)" : "");
	ck_report(c, &f);
}

void ck_lists(struct ck_ctx *c)
{
	uint64_t a;
	struct vms_field tasks, mlist, kset_list, kobj_entry;
	if (vms_ok(vms_kernel_symbol(c->k, "init_task", &a)) &&
	    ck_field(c, "task_struct", "tasks", &tasks))
		check_list(c, "task list (init_task.tasks)", a + tasks.offset, tasks.offset,
			   "task_struct");
	else
		ck_skip(c, "list-integrity: init_task or task_struct.tasks not known");
	if (vms_ok(vms_kernel_symbol(c->k, "modules", &a)) &&
	    ck_field(c, "module", "list", &mlist))
		check_list(c, "module list (modules)", a, mlist.offset, "struct module");
	else
		ck_skip(c, "list-integrity: modules or module.list not known");
	uint64_t kset;
	if (vms_ok(vms_kernel_symbol(c->k, "module_kset", &a)) &&
	    vms_ok(vms_kernel_read_u64(c->k, a, &kset)) && kernel_half(kset) &&
	    ck_field(c, "kset", "list", &kset_list) && ck_field(c, "kobject", "entry", &kobj_entry))
		check_list(c, "module kobjects (module_kset->list)", kset + kset_list.offset,
			   kobj_entry.offset, "kobject");
	else
		ck_skip(c, "list-integrity: module_kset not readable");
}
