// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight rd: read guest kernel memory (hex dump, like crash's rd). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "target.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight rd [--phys] [-8] SOURCE ADDRESS|SYMBOL [LENGTH]\n"
		"Hex dump LENGTH bytes (default 64, at most 1 MiB) of guest kernel\n"
		"virtual memory at ADDRESS or a kallsyms SYMBOL.\n"
		"  --phys     ADDRESS is a guest physical address\n"
		"  -8         print 64-bit words instead of bytes\n"
		CLI_COMMON_USAGE);
}

int cmd_rd(int argc, char **argv)
{
	struct cli_target t = { .prog = "vmsight rd" };
	bool phys = false, words = false;
	static const struct option opts[] = {
		{ "phys", no_argument, NULL, 'P' },
		{ 0 }
	};
	int ch;
	while ((ch = cli_getopt(&t, argc, argv, "8", opts)) != -1) {
		switch (ch) {
		case 'P': phys = true; break;
		case '8': words = true; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return EXIT_USAGE;
	}
	unsigned long long len = 64;
	if (argc - optind == 3) {
		char *end;
		errno = 0;
		len = strtoull(argv[optind + 2], &end, 0);
		if (*end || errno || !len || len > (1u << 20)) {
			fprintf(stderr, "%s: bad length '%s' (1 to 1048576)\n", t.prog,
				argv[optind + 2]);
			return EXIT_USAGE;
		}
	}
	/* Physical reads need no kernel: they work on any guest. */
	if (!(phys ? cli_target_open_phys(&t, argv[optind]) : cli_target_open(&t, argv[optind])))
		return EXIT_ERROR;
	const char *what = argv[optind + 1];
	uint64_t addr;
	char *end;
	errno = 0;
	addr = strtoull(what, &end, 0);
	int rc = EXIT_OK;
	struct vms_error *err = NULL;
	if (*end || errno) {
		if (phys) {
			fprintf(stderr, "%s: bad physical address '%s'\n", t.prog, what);
			cli_target_close(&t);
			return EXIT_USAGE;
		}
		err = vms_kernel_symbol(t.kernel, what, &addr);
	}
	uint8_t *buf = err ? NULL : malloc(len);
	if (!err && !buf)
		err = &vms_error_nomem;
	if (!err)
		err = phys ? vms_source_read(t.src, addr, buf, len)
			   : vms_kernel_read(t.kernel, addr, buf, len);
	if (err) {
		rc = cli_fail(&t, err);
	} else {
		for (unsigned long long off = 0; off < len; off += 16) {
			printf("%016llx:", (unsigned long long)(addr + off));
			for (unsigned i = 0; i < 16 && off + i < len; i += words ? 8 : 1) {
				if (words && off + i + 8 <= len) {
					uint64_t w;
					memcpy(&w, buf + off + i, 8);
					printf(" %016llx", (unsigned long long)w);
				} else {
					printf(" %02x", buf[off + i]);
				}
			}
			putchar('\n');
		}
	}
	free(buf);
	cli_target_close(&t);
	return rc;
}
