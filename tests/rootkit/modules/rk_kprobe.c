// SPDX-License-Identifier: GPL-2.0
/* Technique 3: a kprobe with a pre_handler in the module. */
#include <linux/module.h>
#include <linux/kprobes.h>

static int rk_kprobe_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static struct kprobe rk_kp = {
	.symbol_name = "do_sys_openat2",
	.pre_handler = rk_kprobe_pre,
};

static int __init rk_kprobe_init(void)
{
	int err = register_kprobe(&rk_kp);
	pr_info("rk_kprobe: register_kprobe %d at %px\n", err, rk_kp.addr);
	return err;
}
module_init(rk_kprobe_init);
MODULE_LICENSE("GPL");
