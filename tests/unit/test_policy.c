// SPDX-License-Identifier: LGPL-2.1-or-later
/* The vCPU policy (src/analysis/sched/policy.c): rules, hysteresis, torn
 * samples never acted on, per-VM mode. */
#include <string.h>

#include <vmsight/steer.h>

#include "check.h"

static struct vms_cpu_sample run(unsigned cpu, const char *comm)
{
	struct vms_cpu_sample s = { .cpu = cpu, .valid = true, .pid = 100 + (int)cpu };
	snprintf(s.comm, sizeof(s.comm), "%s", comm);
	snprintf(s.cgroup, sizeof(s.cgroup), "/");
	return s;
}

static struct vms_cpu_sample idle(unsigned cpu)
{
	struct vms_cpu_sample s = { .cpu = cpu, .valid = true, .idle = true };
	snprintf(s.comm, sizeof(s.comm), "swapper/%u", cpu);
	return s;
}

int main(void)
{
	static const char *const boost[] = { "job-*" }, *const demote[] = { "bg-*" },
				 *const bcg[] = { "/important/*" };
	struct vms_policy_rules r = { .boost = boost, .nr_boost = 1, .demote = demote,
				      .nr_demote = 1, .boost_cgroup = bcg, .nr_boost_cgroup = 1,
				      .hysteresis = 3 };
	struct vms_policy *p;
	struct vms_policy_decision d[3];
	CHECK(vms_policy_new(&r, 3, &p) == NULL, "policy: created for 3 vCPUs");
	struct vms_cpu_sample s[3] = { run(0, "job-a"), run(1, "bg-spin"), run(2, "bash") };
	vms_policy_update(p, s, 3, d);
	CHECK(d[0].level == VMS_LEVEL_NORMAL && !d[0].changed,
	      "hysteresis: one sample asking for boost changes nothing");
	vms_policy_update(p, s, 3, d);
	CHECK(d[0].level == VMS_LEVEL_NORMAL, "hysteresis: two samples still nothing");
	vms_policy_update(p, s, 3, d);
	CHECKD(d[0].level == VMS_LEVEL_BOOST && d[0].changed && !strcmp(d[0].task, "job-a"),
	       "hysteresis: the third sample boosts vCPU 0", "level %d changed %d", d[0].level,
	       d[0].changed);
	CHECK(d[1].level == VMS_LEVEL_DEMOTE && d[1].changed, "a --demote task demotes vCPU 1");
	CHECK(d[2].level == VMS_LEVEL_NORMAL && !d[2].changed, "no rule: vCPU 2 normal");
	CHECK(strstr(d[0].reason, "job-*") != NULL, "the reason names the glob");

	/* Torn reads: never acted on, however many. */
	struct vms_cpu_sample t[3] = { run(0, "bash"), run(1, "job-x"), run(2, "job-y") };
	for (int i = 0; i < 3; i++)
		t[i].torn = true;
	for (int k = 0; k < 10; k++)
		vms_policy_update(p, t, 3, d);
	CHECK(d[0].level == VMS_LEVEL_BOOST && d[1].level == VMS_LEVEL_DEMOTE &&
	      d[2].level == VMS_LEVEL_NORMAL && !d[0].changed && !d[2].changed,
	      "torn samples keep every level");
	CHECK(strstr(d[2].reason, "torn") != NULL, "a torn sample says so");
	struct vms_cpu_sample inv[3] = { { .cpu = 0 }, { .cpu = 1 }, { .cpu = 2 } };
	vms_policy_update(p, inv, 3, d);
	CHECK(d[0].level == VMS_LEVEL_BOOST, "an unreadable sample keeps the level");

	/* Flapping below the hysteresis never changes anything. */
	struct vms_cpu_sample a[1] = { run(0, "bash") }, b[1] = { run(0, "job-a") };
	struct vms_policy *q;
	vms_policy_new(&r, 1, &q);
	bool changed = false;
	for (int k = 0; k < 20; k++) {
		vms_policy_update(q, k % 2 ? a : b, 1, d);
		changed |= d[0].changed;
	}
	CHECK(!changed && d[0].level == VMS_LEVEL_NORMAL, "alternating samples do not flap");
	struct vms_cpu_sample c[1] = { run(0, "x") };
	snprintf(c[0].cgroup, sizeof(c[0].cgroup), "/important/db");
	for (int k = 0; k < 3; k++)
		vms_policy_update(q, c, 1, d);
	CHECK(d[0].level == VMS_LEVEL_BOOST, "a --boost-cgroup glob boosts");
	struct vms_cpu_sample i1[1] = { idle(0) };
	for (int k = 0; k < 3; k++)
		vms_policy_update(q, i1, 1, d);
	CHECK(d[0].level == VMS_LEVEL_DEMOTE, "an idle vCPU is demoted");
	vms_policy_free(q);

	struct vms_policy_rules ki = r;
	ki.keep_idle = true;
	ki.hysteresis = 1;
	vms_policy_new(&ki, 1, &q);
	vms_policy_update(q, i1, 1, d);
	CHECK(d[0].level == VMS_LEVEL_NORMAL, "--keep-idle: idle stays normal");
	vms_policy_free(q);

	/* Per-VM: one boosted vCPU boosts them all; demote needs all. */
	struct vms_policy_rules vm = r;
	vm.per_vm = true;
	vm.hysteresis = 1;
	vms_policy_new(&vm, 3, &q);
	vms_policy_update(q, s, 3, d);
	CHECK(d[0].level == VMS_LEVEL_BOOST && d[1].level == VMS_LEVEL_BOOST &&
	      d[2].level == VMS_LEVEL_BOOST, "per-VM: any boosted vCPU boosts the guest");
	struct vms_cpu_sample bg[3] = { run(0, "bg-a"), idle(1), run(2, "bg-b") };
	vms_policy_update(q, bg, 3, d);
	CHECK(d[0].level == VMS_LEVEL_DEMOTE && d[2].level == VMS_LEVEL_DEMOTE,
	      "per-VM: all background or idle demotes the guest");
	struct vms_cpu_sample mix[3] = { run(0, "bg-a"), run(1, "bash"), idle(2) };
	vms_policy_update(q, mix, 3, d);
	CHECK(d[1].level == VMS_LEVEL_NORMAL, "per-VM: one ordinary task keeps it normal");
	vms_policy_free(q);
	vms_policy_free(p);

	struct vms_policy *bad;
	struct vms_error *err = vms_policy_new(&r, 0, &bad);
	CHECK(err && err->code == VMS_ERR_INVALID, "a policy for 0 vCPUs is refused");
	vms_error_free(err);
	return CHECK_DONE();
}
