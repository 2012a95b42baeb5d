// SPDX-License-Identifier: LGPL-2.1-or-later
/* Placeholder: replaced by the real command in this change series. */
#include <stdio.h>

#include "commands.h"

int cmd_runq(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "vmsight runq: not implemented yet\n");
	return EXIT_ERROR;
}
