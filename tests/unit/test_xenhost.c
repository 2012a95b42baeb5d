// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The host-side Xen pieces that can be checked without Xen
 * (src/host/xendom.c, src/host/actuator_xen.c): spec parsing, xentop's
 * CPU%, the actuator's name, state files with xen-credit2 entries, and
 * clear errors on a host without /dev/xen/privcmd.  The Xen lab
 * (tests/xen/suite_xen) checks the real thing against xentop, xl list and
 * xl sched-credit2 in dom0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vmsight/host.h>
#include <vmsight/steer.h>
#include <vmsight/xenhost.h>

#include "check.h"

static void write_file(const char *path, const char *s)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(s, f);
		fclose(f);
	}
}

int main(void)
{
	uint32_t d = 99;
	CHECK(vms_xen_spec_domid("xen:0", &d) && d == 0, "xen:0 is domain 0");
	CHECK(vms_xen_spec_domid("xen:32751", &d) && d == 32751, "xen:32751 (the last domid)");
	CHECK(!vms_xen_spec_domid("xen:32752", &d), "xen:32752 is a reserved id");
	CHECK(!vms_xen_spec_domid("xen:", &d) && !vms_xen_spec_domid("xen:1a", &d) &&
	      !vms_xen_spec_domid("xen:-1", &d) && !vms_xen_spec_domid("qemu:1", &d) &&
	      !vms_xen_spec_domid("xen:99999999999999999999", &d),
	      "bad xen specs are refused (no overflow)");

	CHECK(vms_xen_cpu_percent(1000000000, 1500000000, 1.0) == 50.0, "0.5 s over 1 s is 50%");
	CHECK(vms_xen_cpu_percent(2000000000, 1000000000, 1.0) == 0.0,
	      "a counter that went back (a new domain) gives 0, not a huge number");
	CHECK(vms_xen_cpu_percent(0, 1000000000, 0.0) == 0.0, "no time passed gives 0");

	enum vms_actuator_kind k = VMS_ACT_AUTO;
	CHECK(vms_actuator_parse("xen-credit2", &k) && k == VMS_ACT_XEN_CREDIT2 &&
	      !strcmp(vms_actuator_name(k), "xen-credit2"), "the xen-credit2 actuator is named");

	bool has_privcmd = access("/dev/xen/privcmd", F_OK) == 0;
	if (!has_privcmd) {
		struct vms_xen_host *h = NULL;
		struct vms_error *err = vms_xen_host_open(&h);
		CHECKD(err && strstr(err->message, "/dev/xen/privcmd") && !h,
		       "without Xen, opening the control interface names /dev/xen/privcmd",
		       "%s", err ? err->message : "no error");
		vms_error_free(err);
		CHECK(!vms_xen_host_usable(), "without Xen, Xen is not usable");
		struct vms_actuator_options o = { .kind = VMS_ACT_XEN_CREDIT2 };
		struct vms_actuator *a = NULL;
		err = vms_actuator_open(&o, &a);
		CHECKD(err && strstr(err->message, "xen-credit2") &&
		       strstr(err->message, "/dev/xen/privcmd"),
		       "without Xen, the xen-credit2 actuator says what is missing",
		       "%s", err ? err->message : "opened");
		vms_error_free(err);
		vms_actuator_close(a);
		struct vms_host_guest *g = NULL;
		size_t n = 0;
		err = vms_host_discover(NULL, &g, &n);
		bool any_xen = false;
		for (size_t i = 0; i < n; i++)
			any_xen |= g[i].xen;
		CHECK(!err && !any_xen, "without Xen, discovery still works and lists no domain");
		vms_error_free(err);
		free(g);
	}

	/* State files: a malformed xen entry is a format error; a valid one
	 * on a host without Xen is an error naming the device, and the file
	 * stays for a later --restore. */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/test_xenhost.%d.state", (int)getpid());
	write_file(path, "{\"vmsight_sched_state\":1,\"threads\":[{\"actuator\":\"xen-credit2\","
			 "\"tid\":3,\"domid\":3,\"weight\":0,\"uuid\":\"x\"}]}");
	unsigned restored = 7;
	struct vms_error *err = vms_actuator_restore_state(path, &restored);
	CHECKD(err && err->code == VMS_ERR_FORMAT && restored == 0 && access(path, F_OK) == 0,
	       "a xen-credit2 entry without a valid weight and uuid is refused, the file kept",
	       "%s restored=%u", err ? err->message : "no error", restored);
	vms_error_free(err);
	if (!has_privcmd) {
		write_file(path, "{\"vmsight_sched_state\":1,\"threads\":[{\"actuator\":\"xen-credit2\","
				 "\"tid\":3,\"domid\":3,\"weight\":256,"
				 "\"uuid\":\"0f3c5d4e-1111-2222-3333-444455556666\"}]}");
		err = vms_actuator_restore_state(path, &restored);
		CHECKD(err && strstr(err->message, "/dev/xen/privcmd") && restored == 0 &&
		       access(path, F_OK) == 0,
		       "restoring a credit2 weight without Xen names /dev/xen/privcmd, keeps the file",
		       "%s", err ? err->message : "no error");
		vms_error_free(err);
	}
	unlink(path);
	return CHECK_DONE();
}
