/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Options every guest-reading subcommand shares, and opening its target. */
#ifndef VMSIGHT_CLI_TARGET_H
#define VMSIGHT_CLI_TARGET_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <vmsight/kernel.h>
#include <vmsight/linux.h>
#include <vmsight/source.h>

#include "util/text.h"

struct cli_target {
	const char *prog;      /* "vmsight ps" */
	int verbose;
	bool json;
	bool write;            /* --write: allow writing guest memory */
	bool raw;              /* --raw: guest text printed unescaped (docs/output.md) */
	const char *system_map;/* --system-map FILE */
	const char *vmlinux;   /* --vmlinux FILE (DWARF) */
	unsigned warnings;     /* warnings logged so far */
	struct vms_source *src;
	struct vms_kernel *kernel;
};

/* Common options, accepted by every guest-reading command:
 *   --json, -v/--verbose, --system-map FILE, --vmlinux FILE, --write,
 *   --raw (also spelt --noescape)
 * and the usage text describing them. */
#define CLI_COMMON_USAGE \
	"  --json              machine-readable output (JSON Lines for lists)\n" \
	"  --raw, --noescape   print guest text as its bytes are, control characters\n" \
	"                      included (default: escaped, see docs/output.md)\n" \
	"  -v, --verbose       show the discovery steps on stderr\n" \
	"  --system-map FILE   use (and check against) this System.map\n" \
	"  --vmlinux FILE      use this vmlinux's DWARF types and symbols\n"

/*
 * getopt_long over the command's own @opts (may be NULL) plus the common
 * ones.  Common options are handled here; the command's own come back as
 * from getopt_long.  Returns -1 at the end, '?' on an unknown option.
 * @shortopts lists the command's short options ("Tp:"), "v" and "h" added.
 */
int cli_getopt(struct cli_target *t, int argc, char **argv,
	       const char *shortopts, const struct option *opts);

/*
 * Guest text for people (docs/output.md): @s escaped in @style into @buf
 * (@size bytes: VMS_ESCAPE_PS_SIZE/VMS_ESCAPE_HEX_SIZE of the source's size
 * always fit), or @s itself with --raw.  For printf arguments.
 */
const char *cli_text(const struct cli_target *t, char *buf, size_t size, const char *s,
		     enum vms_escape style);
/* The same for @len bytes at @s (any length, NULs included), to stdout. */
void cli_text_put(const struct cli_target *t, const char *s, size_t len, enum vms_escape style);

/* Print "vmsight CMD: message" for @err on stderr, free it, return EXIT_ERROR. */
int cli_fail(const struct cli_target *t, struct vms_error *err);
/* Open SOURCE only, no kernel discovery; -vv also prints the vCPU
 * registers.  On failure prints and returns false. */
bool cli_source_open(struct cli_target *t, const char *spec);
/* Open SOURCE and discover its kernel; on failure prints and returns false. */
/* For physical reads: as cli_target_open, but a kernel that is not found
 * is only a warning (t->kernel NULL).  Discovery still runs first because
 * it fixes a large raw RAM file's layout above QEMU's PCI hole. */
bool cli_target_open_phys(struct cli_target *t, const char *spec);
bool cli_target_open(struct cli_target *t, const char *spec);
void cli_target_close(struct cli_target *t);

/*
 * The exit status of a listing command after its walk: EXIT_ERROR (printed)
 * when @oom, EXIT_PARTIAL with a warning when @res says the walk stopped
 * early, else EXIT_OK.  @what names the items ("task(s)", "module(s)").
 */
int cli_walk_status(const struct cli_target *t, const struct vms_walk_result *res,
		    bool oom, const char *what);

#endif
