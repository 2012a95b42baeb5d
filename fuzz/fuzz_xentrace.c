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
	 * byte the domain of the single-domain reports and the cr3 (gmfn)
	 * of the cr3 reports; cr3 values are always enumerated */
	static const enum vms_xt_interval_kind kinds[8] = {
		VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL,
		VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY,
		VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT,
		VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS,
		VMS_XT_INTERVAL_CR3_SCHEDULE_TIME,
		VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL,
		VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED,
		VMS_XT_INTERVAL_CR3_SHORT_SUMMARY,
	};
	o.interval = kinds[size % 8];
	o.cr3_enumeration = 1;
	uint8_t last = size ? data[size - 1] : 0;
	if (size % 8 < 4) {
		o.interval_csv = (int)(size / 8 % 2);
		if (o.interval != VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL) {
			o.interval_domains[0] = last % 16;
			o.n_interval_domains = 1;
		}
	} else {
		o.interval_cr3[0] = last;
		o.interval_cr3[1] = last + 1u;
		o.n_interval_cr3 = o.interval == VMS_XT_INTERVAL_CR3_SHORT_SUMMARY ? 1 : 2;
	}
	o.interval_seconds = 0.5;
	/* and, divided by 16, the scatterplot (its argument: the last byte) */
	o.scatter = (enum vms_xt_scatter_kind)(size / 16 % (VMS_XT_SCATTER_IRQ + 1));
	o.scatter_arg = last;
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
