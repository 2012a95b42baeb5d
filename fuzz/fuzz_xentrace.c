// SPDX-License-Identifier: LGPL-2.1-or-later
/* libFuzzer harness: the xentrace reader, merge and all reports on
 * arbitrary bytes must never crash, hang or read out of bounds. */
#include <stdint.h>
#include <stdio.h>

#include <vmsight/xentrace.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *null = fopen("/dev/null", "w");
	if (!null)
		return 0;
	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.dump_all = 1;
	o.summary = 1;
	o.report_pcpu = 1;
	/* the input's length picks the interval report and CSV, its last
	 * byte the domain of the single-domain reports */
	static const enum vms_xt_interval_kind kinds[4] = {
		VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL,
		VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY,
		VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT,
		VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS,
	};
	o.interval = kinds[size % 4];
	o.interval_csv = (int)(size / 4 % 2);
	if (o.interval != VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL) {
		o.interval_domains[0] = size ? data[size - 1] % 16 : 0;
		o.n_interval_domains = 1;
	}
	o.interval_seconds = 0.5;
	o.out = null;
	struct vms_xt_analyzer *a;
	if (!vms_xt_analyzer_create(&o, &a)) {
		vms_error_free(vms_xt_analyze_buffer(a, data, size));
		vms_error_free(vms_xt_finish(a));
		vms_xt_analyzer_destroy(a);
	}
	vms_error_free(vms_xt_walk_buffer(data, size, NULL, NULL));
	fclose(null);
	return 0;
}
