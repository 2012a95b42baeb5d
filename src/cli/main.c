// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight: look inside virtual machines from the host. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "info", cmd_info, "kernel, KASLR, symbols, BTF and paging of a guest" },
	{ "ps", cmd_ps, "processes (and threads) of a Linux guest" },
	{ "pstree", cmd_pstree, "the process tree" },
	{ "cmdline", cmd_cmdline, "command lines, read through each process's page tables" },
	{ "environ", cmd_environ, "environments, read through each process's page tables" },
	{ "maps", cmd_maps, "memory maps of a process, with file names" },
	{ "fds", cmd_fds, "open files of a process" },
	{ "runq", cmd_runq, "per-CPU runqueues: current task, queued fair and RT tasks" },
	{ "top", cmd_top, "a live top of guests, with the host's view of their vCPUs" },
	{ "sched", cmd_sched, "steer the host scheduler by what each guest's vCPUs run" },
	{ "exporter", cmd_exporter, "a Prometheus exporter: every guest's figures on /metrics" },
	{ "lsmod", cmd_lsmod, "loaded kernel modules" },
	{ "check", cmd_check, "rootkit checks: hooks and hidden modules and processes" },
	{ "dmesg", cmd_dmesg, "the kernel log from the printk ring buffer" },
	{ "ftrace", cmd_ftrace, "the guest kernel's ftrace ring buffer, read from its memory" },
	{ "symbol", cmd_symbol, "look up kernel symbols by name or address" },
	{ "rd", cmd_rd, "hex dump of guest kernel (or physical) memory" },
	{ "type", cmd_type, "structure layouts from the guest's BTF" },
	{ "isf", cmd_isf, "a Volatility 3 symbol table (ISF) from guest memory" },
	{ "xentrace", cmd_xentrace, "analyse a xentrace file (xenalyze reports)" },
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight COMMAND [options] SOURCE [ARGS]\n"
		"\n"
		"SOURCE is a guest memory image: a raw RAM file (e.g. QEMU's\n"
		"memory-backend-file under /dev/shm) or a QEMU/virsh ELF core dump;\n"
		"its kind is detected.\n"
		"\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n'vmsight COMMAND --help' describes a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "vmsight: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_USAGE;
}
