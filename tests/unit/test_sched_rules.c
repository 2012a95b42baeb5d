// SPDX-License-Identifier: LGPL-2.1-or-later
/* The rules file of vmsight sched (src/analysis/sched/rules.c): defaults
 * merged with the command line, per-guest overrides, and errors that name
 * the line for every malformed or oversized input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/steer.h>

#include "check.h"

static struct vms_error *parse(const char *text, const struct vms_policy_rules *base,
			       struct vms_sched_rules **r)
{
	return vms_sched_rules_parse(text, strlen(text), "rules.yaml", base, r);
}

/* An error whose message holds @want (e.g. "rules.yaml:3:"). */
static void bad(const char *text, const char *want, const char *name)
{
	struct vms_sched_rules *r = NULL;
	struct vms_error *err = parse(text, NULL, &r);
	CHECKD(err && strstr(err->message, want), name, "%s", err ? err->message : "accepted");
	vms_error_free(err);
	vms_sched_rules_free(r);
}

static const char good[] =
	"# two guests\n"
	"defaults:\n"
	"  boost: [\"make\", \"cc1*\"]\n"
	"  demote: spin*\n"
	"  hysteresis: 5\n"
	"guests:\n"
	"  - guest: qmp:/run/a.qmp\n"
	"    boost: [\"postgres*\"]\n"
	"    boost_cgroup:\n"
	"      - /db/*\n"
	"  - guest: libvirt:web\n"
	"    per_vm: true\n"
	"    keep_idle: yes\n";

int main(void)
{
	static const char *const cli_boost[] = { "job-*" };
	struct vms_policy_rules cli = { .boost = cli_boost, .nr_boost = 1 };
	struct vms_sched_rules *r = NULL;
	struct vms_error *err = parse(good, &cli, &r);
	CHECKD(!err, "a good file parses", "%s", err ? err->message : "");
	if (err)
		return 1;
	CHECK(vms_sched_rules_nr_guests(r) == 2 &&
	      !strcmp(vms_sched_rules_guest(r, 0), "qmp:/run/a.qmp") &&
	      !strcmp(vms_sched_rules_guest(r, 1), "libvirt:web") && !vms_sched_rules_guest(r, 2),
	      "its guests, in order");
	const struct vms_policy_rules *d = vms_sched_rules_for(r, "qemu:123");
	CHECK(d->nr_boost == 3 && !strcmp(d->boost[0], "job-*") && !strcmp(d->boost[1], "make") &&
	      !strcmp(d->boost[2], "cc1*"), "defaults: the file's boost globs add to the command line's");
	CHECK(d->nr_demote == 1 && !strcmp(d->demote[0], "spin*"), "defaults: a single glob as a scalar");
	CHECK(d->hysteresis == 5 && !d->per_vm && !d->keep_idle && d->nr_boost_cgroup == 0,
	      "defaults: hysteresis from the file, booleans false when not given");
	const struct vms_policy_rules *a = vms_sched_rules_for(r, "qmp:/run/a.qmp");
	CHECK(a->nr_boost == 1 && !strcmp(a->boost[0], "postgres*") && a->nr_boost_cgroup == 1 &&
	      !strcmp(a->boost_cgroup[0], "/db/*"), "guest a: its own lists replace the defaults'");
	CHECK(a->nr_demote == 1 && a->hysteresis == 5 && !a->per_vm,
	      "guest a: what it does not give comes from the defaults");
	const struct vms_policy_rules *w = vms_sched_rules_for(r, "libvirt:web");
	CHECK(w->per_vm && w->keep_idle && w->nr_boost == 3, "guest web: per_vm, keep_idle, default boost");
	vms_sched_rules_free(r);

	cli.hysteresis = 2;
	cli.per_vm = true;
	err = parse(good, &cli, &r);
	CHECK(!err && vms_sched_rules_for(r, "x")->hysteresis == 2 &&
	      vms_sched_rules_for(r, "x")->per_vm &&
	      vms_sched_rules_for(r, "libvirt:web")->hysteresis == 2,
	      "the command line's hysteresis and per_vm win over the file's defaults");
	vms_error_free(err);
	vms_sched_rules_free(r);

	err = parse("", &cli, &r);
	CHECK(!err && vms_sched_rules_nr_guests(r) == 0 && vms_sched_rules_for(r, "x")->nr_boost == 1,
	      "an empty file: the command line's rules alone");
	vms_error_free(err);
	vms_sched_rules_free(r);
	err = parse("defaults: {}\n", NULL, &r);
	CHECK(!err && vms_sched_rules_for(r, "x")->hysteresis == 3 && !vms_sched_rules_for(r, "x")->nr_boost,
	      "no command line, empty defaults: hysteresis 3, no globs");
	vms_error_free(err);
	vms_sched_rules_free(r);

	bad("defaults:\n  boost: [a\n", "rules.yaml:", "YAML syntax error: file and line");
	bad("- a\n- b\n", "rules.yaml:1: the rules file must be a mapping", "not a mapping");
	bad("defaults:\n  bost: [a]\n", "rules.yaml:2: unknown key: bost", "unknown key, with its line");
	bad("colour: red\n", "unknown key: colour", "unknown top-level key");
	bad("guests:\n  - boost: [a]\n", "rules.yaml:2: a guest entry needs a 'guest' key", "guest without spec");
	bad("guests:\n  - guest: x\n  - guest: x\n", "guest listed twice: x", "guest listed twice");
	bad("defaults:\n  hysteresis: 0\n", "hysteresis wants 1 to 1000", "hysteresis 0");
	bad("defaults:\n  hysteresis: -1\n", "hysteresis wants 1 to 1000", "hysteresis negative");
	bad("defaults:\n  hysteresis: 99999999999999999999\n", "hysteresis wants", "hysteresis overflow");
	bad("defaults:\n  per_vm: maybe\n", "true or false wanted for per_vm", "bad boolean");
	bad("defaults:\n  boost: {a: b}\n", "a glob or a list of globs wanted for boost", "boost as a mapping");
	bad("defaults:\n  boost: [[a]]\n", "a glob must be a string, in boost", "nested list");
	bad("defaults:\n  boost: [\"\"]\n", "a glob must be 1 to 255 characters", "empty glob");
	bad("defaults:\n  boost: a\n  boost: b\n", "key given twice: boost", "key twice");
	bad("guests: 3\n", "guests must be one list", "guests not a list");
	bad("guests:\n  - 3\n", "a guest entry must be a mapping", "guest entry a scalar");
	bad("guests:\n  - guest: [x]\n", "guest wants a guest spec", "guest spec not a string");
	/* caps: 257 globs, a 256-character glob, 4097 guests, > 1 MiB */
	char *big = malloc(1 << 21);
	if (!big)
		return 1;
	size_t n = (size_t)sprintf(big, "defaults:\n  demote:\n");
	for (int i = 0; i < 257; i++)
		n += (size_t)sprintf(big + n, "    - g%d\n", i);
	bad(big, "too many globs (at most 256) in demote", "257 globs refused");
	n = (size_t)sprintf(big, "defaults:\n  demote: ");
	memset(big + n, 'x', 256);
	big[n + 256] = 0;
	bad(big, "a glob must be 1 to 255 characters", "a 256-character glob refused");
	n = (size_t)sprintf(big, "guests:\n");
	for (int i = 0; i < 4097; i++)
		n += (size_t)sprintf(big + n, "  - guest: qemu:%d\n", i + 1);
	bad(big, "too many guests (at most 4096)", "4097 guests refused");
	n = (size_t)sprintf(big, "# ");
	memset(big + n, 'x', (1 << 20));
	big[n + (1 << 20)] = 0;
	bad(big, "larger than 1 MiB", "a file over 1 MiB refused");
	/* aliases share one node: a list used many times stays bounded */
	n = (size_t)sprintf(big, "x: &l [a, b]\n");
	bad(big, "unknown key: x", "anchors parse, unknown key still refused");
	free(big);
	err = vms_sched_rules_load("/nonexistent/rules.yaml", NULL, &r);
	CHECKD(err && strstr(err->message, "/nonexistent/rules.yaml") && err->code == VMS_ERR_NOT_FOUND,
	       "a missing file: not found, naming it", "%s", err ? err->message : "");
	vms_error_free(err);
	return CHECK_DONE();
}
