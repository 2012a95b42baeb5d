/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vmsight subcommands.  Each returns the process exit status. */
#ifndef VMSIGHT_CLI_COMMANDS_H
#define VMSIGHT_CLI_COMMANDS_H

/* Exit statuses shared by all subcommands. */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,  /* `check`: something suspicious found */
	EXIT_ERROR = 2,     /* the request could not be carried out */
	EXIT_PARTIAL = 3,   /* output printed, but incomplete (corrupt guest data) */
	EXIT_USAGE = 64,    /* bad command line (EX_USAGE) */
};

int cmd_info(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_symbol(int argc, char **argv);
int cmd_rd(int argc, char **argv);
int cmd_pstree(int argc, char **argv);
int cmd_cmdline(int argc, char **argv);
int cmd_environ(int argc, char **argv);
int cmd_maps(int argc, char **argv);
int cmd_fds(int argc, char **argv);
int cmd_runq(int argc, char **argv);
int cmd_lsmod(int argc, char **argv);
int cmd_dmesg(int argc, char **argv);
int cmd_type(int argc, char **argv);
int cmd_isf(int argc, char **argv);
int cmd_xentrace(int argc, char **argv);
int cmd_ftrace(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_sched(int argc, char **argv);
int cmd_exporter(int argc, char **argv);

#endif
