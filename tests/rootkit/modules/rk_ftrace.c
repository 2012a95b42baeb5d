// SPDX-License-Identifier: GPL-2.0
/* Technique 2: ftrace hook (ilammy/ftrace-hook pattern) on __x64_sys_kill
 * and __x64_sys_getdents64.  The callback changes nothing. */
#include <linux/module.h>
#include <linux/ftrace.h>
#include "rk_common.h"

static void notrace rk_ftrace_thunk(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops rk_ops = {
	.func = rk_ftrace_thunk,
	.flags = FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		 FTRACE_OPS_FL_IPMODIFY,
};

static int __init rk_ftrace_init(void)
{
	static const char *const names[] = { "__x64_sys_kill", "__x64_sys_getdents64" };
	int i, err;
	for (i = 0; i < 2; i++) {
		unsigned long ip = rk_lookup(names[i]);
		if (!ip)
			return -ENOENT;
		err = ftrace_set_filter_ip(&rk_ops, ip, 0, 0);
		if (err)
			return err;
	}
	err = register_ftrace_function(&rk_ops);
	pr_info("rk_ftrace: registered %d\n", err);
	return err;
}
module_init(rk_ftrace_init);
MODULE_LICENSE("GPL");
