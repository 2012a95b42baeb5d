// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: the rules file of vmsight sched
 * (src/analysis/sched/rules.c).  Any input either parses -- and then every
 * guest's rules are within the caps (globs 1..255 characters, at most 256
 * per list, hysteresis 1..1000) -- or gives an error naming the file.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write seed inputs there and exit.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/steer.h>

#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const char *const seeds[][2] = {
	{ "full", "defaults:\n  boost: [make, \"cc1*\"]\n  demote: spin*\n  hysteresis: 5\n"
		  "guests:\n  - guest: qmp:/run/a.qmp\n    boost_cgroup: [/db/x]\n"
		  "  - guest: libvirt:web\n    per_vm: true\n    keep_idle: no\n" },
	{ "alias", "defaults:\n  boost: &b [a, b]\nguests:\n  - guest: x\n    boost: *b\n" },
	{ "flow", "{defaults: {demote: [x]}, guests: [{guest: y, hysteresis: 1000}]}\n" },
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (!dir)
		return 0;
	for (size_t i = 0; i < sizeof(seeds) / sizeof(seeds[0]); i++)
		fuzz_write_seed(dir, seeds[i][0], (const uint8_t *)seeds[i][1],
				strlen(seeds[i][1]));
	exit(0);
}

static void check_rules(const struct vms_policy_rules *r)
{
	const char *const *lists[] = { r->boost, r->boost_cgroup, r->demote };
	size_t nrs[] = { r->nr_boost, r->nr_boost_cgroup, r->nr_demote };
	for (int l = 0; l < 3; l++) {
		if (nrs[l] > 256 * 2)   /* the command line's (none here) + the file's */
			abort();
		for (size_t i = 0; i < nrs[l]; i++)
			if (!lists[l][i][0] || strlen(lists[l][i]) > 255)
				abort();
	}
	if (r->hysteresis < 1 || r->hysteresis > 1000)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	struct vms_sched_rules *r = NULL;
	struct vms_error *err = vms_sched_rules_parse(text, size, "fuzz.yaml", NULL, &r);
	if (err) {
		if (!strstr(err->message, "fuzz.yaml") && err != &vms_error_nomem)
			abort();
		vms_error_free(err);
	} else {
		check_rules(vms_sched_rules_for(r, NULL));
		for (size_t i = 0; i < vms_sched_rules_nr_guests(r); i++)
			check_rules(vms_sched_rules_for(r, vms_sched_rules_guest(r, i)));
		vms_sched_rules_free(r);
	}
	free(text);
	return 0;
}
