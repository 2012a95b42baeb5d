/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Options every guest-reading subcommand shares, and opening its target. */
#ifndef VMSIGHT_CLI_TARGET_H
#define VMSIGHT_CLI_TARGET_H

#include <stdbool.h>

#include <vmsight/kernel.h>
#include <vmsight/source.h>

struct cli_target {
	const char *prog;      /* "vmsight ps" */
	int verbose;
	bool json;
	unsigned warnings;     /* warnings logged so far */
	struct vms_source *src;
	struct vms_kernel *kernel;
};

/* Print "vmsight CMD: message" for @err on stderr, free it, return EXIT_ERROR. */
int cli_fail(const struct cli_target *t, struct vms_error *err);
/* Open SOURCE and discover its kernel; on failure prints and returns false. */
bool cli_target_open(struct cli_target *t, const char *spec);
void cli_target_close(struct cli_target *t);

#endif
