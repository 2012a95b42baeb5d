/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Selecting processes by PID on the command line (-p PID, repeatable). */
#ifndef VMSIGHT_CLI_TASKSEL_H
#define VMSIGHT_CLI_TASKSEL_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/linux.h>

#define TASKSEL_MAX 256

struct tasksel {
	int32_t pids[TASKSEL_MAX];
	unsigned n;
};

/* Parse one -p argument ("12" or "12,13"); false on a bad value. */
bool tasksel_add(struct tasksel *sel, const char *arg);
bool tasksel_match(const struct tasksel *sel, int32_t pid);

/*
 * Call @fn for every process (thread-group leader) the selection names, or
 * every process if it names none, in PID order.  PIDs not found are
 * reported on stderr and make the result EXIT_FINDINGS.  Returns an exit
 * status.
 */
int tasksel_each(struct vms_kernel *k, const char *prog,
		 const struct tasksel *sel,
		 int (*fn)(struct vms_kernel *k, const struct vms_task *t, void *arg),
		 void *arg);

#endif
