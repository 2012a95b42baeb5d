/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the vmsight rootkit test modules: kallsyms_lookup_name via the
 * kprobe trick (it is not exported since 5.7). */
#include <linux/kprobes.h>

typedef unsigned long (*rk_lookup_fn)(const char *name);

static unsigned long rk_lookup(const char *name)
{
	static rk_lookup_fn lookup;
	if (!lookup) {
		struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
		if (register_kprobe(&kp) < 0)
			return 0;
		lookup = (rk_lookup_fn)kp.addr;
		unregister_kprobe(&kp);
	}
	return lookup ? lookup(name) : 0;
}
