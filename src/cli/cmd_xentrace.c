// SPDX-License-Identifier: LGPL-2.1-or-later
/* vmsight xentrace: xenalyze-compatible reports over a xentrace file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/xentrace.h>

#include "commands.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmsight xentrace [options] TRACEFILE\n"
		"\n"
		"Reports (xenalyze-compatible names):\n"
		"  -a, --dump-all                one line per record\n"
		"  -s, --summary                 per domain / vcpu summary (default)\n"
		"      --report-pcpu             per pcpu running / idle / lost time\n"
		"      --show-default-domain-summary\n"
		"  -i, --interval=SEC            interval length (default 1; any positive value)\n"
		"      --interval-domain-total-time-all\n"
		"      --interval-domain-total-time=DOM[,DOM...]\n"
		"      --interval-domain-short-summary=DOM   running %% and %% per exit kind\n"
		"      --interval-domain-guest-interrupt=DOM injected vectors per interval\n"
		"      --interval-domain-grant-maps=DOM      grant maps done for DOM\n"
		"      --interval-cr3-schedule-time=GMFN[,GMFN...]  %% of time each guest cr3\n"
		"                                (gmfn = cr3 >> 12; 0x for hex) was loaded\n"
		"      --interval-cr3-schedule-time-all\n"
		"      --interval-cr3-schedule-ordered   cr3 values by time loaded\n"
		"      --interval-cr3-short-summary=GMFN %% loaded and %% per exit kind\n"
		"      --with-cr3-enumeration    per-cr3 tables in the summary\n"
		"      --csv                     interval output as CSV, header first\n"
		"      --scatterplot-runstate | -runstate-time | -pcpu | -vmexit-eip |\n"
		"      --scatterplot-wake-to-halt | -rdtsc | -cr3-switch | -irq\n"
		"      --scatterplot-extint-cycles=VEC | -interrupt-eip=VEC | -io=PORT\n"
		"      --svg=FILE                also draw the scatterplot as SVG\n"
		"Options:\n"
		"      --cpu-hz=HZ[G|M|K]        TSC frequency (default 2.4G)\n"
		"      --symbol-file=FILE        'hexaddr name' lines for guest rips\n"
		"      --sample-size=N           initial percentile samples (1024, 0: none)\n"
		"      --sample-max=N            cap on samples per bucket (33554432 = 128 MiB)\n"
		"      --with-mmio-enumeration   per-gpa MMIO table\n"
		"      --with-pio-enumeration    per-port I/O table (default)\n"
		"      --mmio-enumeration-skip-vga=0|1\n"
		"  -v, --verbose                 diagnostics (xenalyze's warnings) on stderr\n"
		"  -h, --help\n"
		"Exit status: 0 ok, 2 error in the trace (reports cover the good part), 64 usage.\n");
}

enum {
	O_REPORT_PCPU = 256, O_SHOW_DEFAULT, O_ITT_ALL, O_ITT, O_CSV, O_CPU_HZ,
	O_SYMBOLS, O_SAMPLE_SIZE, O_SAMPLE_MAX, O_MMIO, O_PIO, O_SKIP_VGA,
	O_SC_RUNSTATE, O_SC_RUNSTATE_TIME, O_SC_PCPU, O_SC_VMEXIT_EIP,
	O_SC_W2H, O_SC_RDTSC, O_SC_CR3_SWITCH, O_SC_IRQ, O_SC_EXTINT, O_SC_INTEIP, O_SC_IO, O_SVG,
	O_ISS, O_IGI, O_IGM, O_CR3_ENUM, O_ICR3_TIME, O_ICR3_ALL, O_ICR3_ORDERED,
	O_ICR3_SS,
};

static int parse_uint(const char *s, unsigned *v)
{
	char *end;
	unsigned long x = strtoul(s, &end, 0);
	if (end == s || *end || x > 0xffffffffUL)
		return -1;
	*v = (unsigned)x;
	return 0;
}

int cmd_xentrace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dump-all", no_argument, NULL, 'a' },
		{ "summary", no_argument, NULL, 's' },
		{ "report-pcpu", no_argument, NULL, O_REPORT_PCPU },
		{ "show-default-domain-summary", no_argument, NULL, O_SHOW_DEFAULT },
		{ "interval", required_argument, NULL, 'i' },
		{ "interval-domain-total-time-all", no_argument, NULL, O_ITT_ALL },
		{ "interval-domain-total-time", required_argument, NULL, O_ITT },
		{ "interval-domain-short-summary", required_argument, NULL, O_ISS },
		{ "interval-domain-guest-interrupt", required_argument, NULL, O_IGI },
		{ "interval-domain-grant-maps", required_argument, NULL, O_IGM },
		{ "interval-cr3-schedule-time", required_argument, NULL, O_ICR3_TIME },
		{ "interval-cr3-schedule-time-all", no_argument, NULL, O_ICR3_ALL },
		{ "interval-cr3-schedule-ordered", no_argument, NULL, O_ICR3_ORDERED },
		{ "interval-cr3-short-summary", required_argument, NULL, O_ICR3_SS },
		{ "with-cr3-enumeration", no_argument, NULL, O_CR3_ENUM },
		{ "csv", no_argument, NULL, O_CSV },
		{ "cpu-hz", required_argument, NULL, O_CPU_HZ },
		{ "symbol-file", required_argument, NULL, O_SYMBOLS },
		{ "sample-size", required_argument, NULL, O_SAMPLE_SIZE },
		{ "sample-max", required_argument, NULL, O_SAMPLE_MAX },
		{ "with-mmio-enumeration", no_argument, NULL, O_MMIO },
		{ "with-pio-enumeration", no_argument, NULL, O_PIO },
		{ "mmio-enumeration-skip-vga", required_argument, NULL, O_SKIP_VGA },
		{ "scatterplot-runstate", no_argument, NULL, O_SC_RUNSTATE },
		{ "scatterplot-runstate-time", no_argument, NULL, O_SC_RUNSTATE_TIME },
		{ "scatterplot-pcpu", no_argument, NULL, O_SC_PCPU },
		{ "scatterplot-vmexit-eip", no_argument, NULL, O_SC_VMEXIT_EIP },
		{ "scatterplot-wake-to-halt", no_argument, NULL, O_SC_W2H },
		{ "scatterplot-rdtsc", no_argument, NULL, O_SC_RDTSC },
		{ "scatterplot-cr3-switch", no_argument, NULL, O_SC_CR3_SWITCH },
		{ "scatterplot-irq", no_argument, NULL, O_SC_IRQ },
		{ "scatterplot-extint-cycles", required_argument, NULL, O_SC_EXTINT },
		{ "scatterplot-interrupt-eip", required_argument, NULL, O_SC_INTEIP },
		{ "scatterplot-io", required_argument, NULL, O_SC_IO },
		{ "svg", required_argument, NULL, O_SVG },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct vms_xt_options o;
	vms_xt_options_init(&o);
	o.out = stdout;
	int verbose = 0, any_output = 0;
	unsigned u;
	struct vms_error *err;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "asi:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': o.dump_all = 1; any_output = 1; break;
		case 's': o.summary = 1; any_output = 1; break;
		case O_REPORT_PCPU: o.report_pcpu = 1; any_output = 1; break;
		case O_SHOW_DEFAULT: o.show_default_domain = 1; break;
		case 'i': {
			char *end;
			o.interval_seconds = strtod(optarg, &end);
			if (end == optarg || *end || !(o.interval_seconds > 0) || o.interval_seconds > 1e6) {
				fprintf(stderr, "vmsight xentrace: invalid interval '%s' (seconds, > 0)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		}
		case O_ITT_ALL: o.interval = VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME_ALL; any_output = 1; break;
		case O_ITT: {
			o.interval = VMS_XT_INTERVAL_DOMAIN_TOTAL_TIME;
			any_output = 1;
			char *s = optarg, *tok, *save = NULL;
			while ((tok = strtok_r(s, ",", &save))) {
				s = NULL;
				if (parse_uint(tok, &u) || o.n_interval_domains >= 64) {
					fprintf(stderr, "vmsight xentrace: bad domain list '%s'\n", optarg);
					return EXIT_USAGE;
				}
				o.interval_domains[o.n_interval_domains++] = (int)u;
			}
			break;
		}
		case O_ISS: case O_IGI: case O_IGM:
			if (parse_uint(optarg, &u) || u > 0x7fffffff) {
				fprintf(stderr, "vmsight xentrace: bad domain '%s' (one domain id)\n", optarg);
				return EXIT_USAGE;
			}
			o.interval = c == O_ISS ? VMS_XT_INTERVAL_DOMAIN_SHORT_SUMMARY :
				     c == O_IGI ? VMS_XT_INTERVAL_DOMAIN_GUEST_INTERRUPT :
						  VMS_XT_INTERVAL_DOMAIN_GRANT_MAPS;
			o.interval_domains[0] = (int)u;
			o.n_interval_domains = 1;
			any_output = 1;
			break;
		case O_ICR3_TIME: case O_ICR3_SS: {
			/* xenalyze's parse_array: strtoull base 0, comma separated */
			o.n_interval_cr3 = 0;
			const char *q = optarg;
			for (;;) {
				char *end;
				errno = 0;
				unsigned long long x = strtoull(q, &end, 0);
				if (end == q || errno || o.n_interval_cr3 >= 64 || *q == '-' ||
				    (*end && *end != ',')) {
					fprintf(stderr, "vmsight xentrace: bad cr3 list '%s'\n", optarg);
					return EXIT_USAGE;
				}
				o.interval_cr3[o.n_interval_cr3++] = x;
				if (!*end)
					break;
				q = end + 1;
			}
			if (c == O_ICR3_SS && o.n_interval_cr3 != 1) {
				fprintf(stderr, "vmsight xentrace: --interval-cr3-short-summary takes one cr3\n");
				return EXIT_USAGE;
			}
			o.interval = c == O_ICR3_SS ? VMS_XT_INTERVAL_CR3_SHORT_SUMMARY :
						      VMS_XT_INTERVAL_CR3_SCHEDULE_TIME;
			any_output = 1;
			break;
		}
		case O_ICR3_ALL: o.interval = VMS_XT_INTERVAL_CR3_SCHEDULE_TIME_ALL; any_output = 1; break;
		case O_ICR3_ORDERED: o.interval = VMS_XT_INTERVAL_CR3_SCHEDULE_ORDERED; any_output = 1; break;
		case O_CR3_ENUM: o.cr3_enumeration = 1; break;
		case O_CSV: o.interval_csv = 1; break;
		case O_CPU_HZ:
			if ((err = vms_xt_parse_hz(optarg, &o.cpu_hz))) {
				fprintf(stderr, "vmsight xentrace: %s\n", err->message);
				vms_error_free(err);
				return EXIT_USAGE;
			}
			break;
		case O_SYMBOLS: o.symbol_file = optarg; break;
		case O_SAMPLE_SIZE:
		case O_SAMPLE_MAX:
			if (parse_uint(optarg, &u) || u > (1u << 30)) {
				fprintf(stderr, "vmsight xentrace: bad sample count '%s'\n", optarg);
				return EXIT_USAGE;
			}
			if (c == O_SAMPLE_SIZE)
				o.sample_size = (int)u;
			else
				o.sample_max = (int)u;
			break;
		case O_MMIO: o.mmio_enumeration = 1; break;
		case O_PIO: o.pio_enumeration = 1; break;
		case O_SKIP_VGA:
			if (parse_uint(optarg, &u) || u > 1) {
				fprintf(stderr, "vmsight xentrace: --mmio-enumeration-skip-vga takes 0 or 1\n");
				return EXIT_USAGE;
			}
			o.mmio_skip_vga = (int)u;
			break;
		case O_SC_RUNSTATE: o.scatter = VMS_XT_SCATTER_RUNSTATE; any_output = 1; break;
		case O_SC_RUNSTATE_TIME: o.scatter = VMS_XT_SCATTER_RUNSTATE_TIME; any_output = 1; break;
		case O_SC_PCPU: o.scatter = VMS_XT_SCATTER_PCPU; any_output = 1; break;
		case O_SC_VMEXIT_EIP: o.scatter = VMS_XT_SCATTER_VMEXIT_EIP; any_output = 1; break;
		case O_SC_W2H: o.scatter = VMS_XT_SCATTER_WAKE_TO_HALT; any_output = 1; break;
		case O_SC_RDTSC: o.scatter = VMS_XT_SCATTER_RDTSC; any_output = 1; break;
		case O_SC_CR3_SWITCH: o.scatter = VMS_XT_SCATTER_CR3_SWITCH; any_output = 1; break;
		case O_SC_IRQ: o.scatter = VMS_XT_SCATTER_IRQ; any_output = 1; break;
		case O_SC_EXTINT: case O_SC_INTEIP: case O_SC_IO:
			if (parse_uint(optarg, &u)) {
				fprintf(stderr, "vmsight xentrace: bad number '%s'\n", optarg);
				return EXIT_USAGE;
			}
			o.scatter = c == O_SC_EXTINT ? VMS_XT_SCATTER_EXTINT_CYCLES :
				    c == O_SC_INTEIP ? VMS_XT_SCATTER_INTERRUPT_EIP : VMS_XT_SCATTER_IO;
			o.scatter_arg = u;
			any_output = 1;
			break;
		case O_SVG: o.scatter_svg = optarg; break;
		case 'v': verbose = 1; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!any_output)
		o.summary = 1; /* as xenalyze: "No output defined" -> summary */
	o.warn = verbose ? stderr : NULL;
	struct vms_xt_analyzer *a;
	if ((err = vms_xt_analyzer_create(&o, &a))) {
		fprintf(stderr, "vmsight xentrace: %s\n", err->message);
		vms_error_free(err);
		return EXIT_USAGE;
	}
	int rc = EXIT_OK;
	err = vms_xt_analyze_file(a, argv[optind]);
	if (err) {
		fflush(stdout);
		fprintf(stderr, "vmsight xentrace: %s\n", err->message);
		vms_error_free(err);
		rc = EXIT_ERROR;
	}
	if ((err = vms_xt_finish(a))) {
		fprintf(stderr, "vmsight xentrace: %s\n", err->message);
		vms_error_free(err);
		rc = EXIT_ERROR;
	}
	vms_xt_analyzer_destroy(a);
	if (fflush(stdout) || ferror(stdout))
		rc = EXIT_ERROR;
	return rc;
}
