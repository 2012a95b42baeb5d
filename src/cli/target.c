// SPDX-License-Identifier: LGPL-2.1-or-later
#include <bpf/libbpf.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "target.h"

enum {
	OPT_JSON = 0x1000,
	OPT_SYSTEM_MAP,
	OPT_VMLINUX,
	OPT_WRITE,
	OPT_RAW,
};

static const struct option common_opts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "verbose", no_argument, NULL, 'v' },
	{ "system-map", required_argument, NULL, OPT_SYSTEM_MAP },
	{ "vmlinux", required_argument, NULL, OPT_VMLINUX },
	{ "write", no_argument, NULL, OPT_WRITE },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "noescape", no_argument, NULL, OPT_RAW },
	{ "help", no_argument, NULL, 'h' },
};

int cli_getopt(struct cli_target *t, int argc, char **argv,
	       const char *shortopts, const struct option *opts)
{
	struct option all[64];
	size_t n = 0;
	for (; opts && opts[n].name && n < 40; n++)
		all[n] = opts[n];
	for (size_t i = 0; i < sizeof(common_opts) / sizeof(common_opts[0]); i++)
		all[n++] = common_opts[i];
	memset(&all[n], 0, sizeof(all[n]));
	char sopts[64];
	snprintf(sopts, sizeof(sopts), "%svh", shortopts ? shortopts : "");
	for (;;) {
		int c = getopt_long(argc, argv, sopts, all, NULL);
		switch (c) {
		case OPT_JSON: t->json = true; continue;
		case 'v': t->verbose++; continue;
		case OPT_SYSTEM_MAP: t->system_map = optarg; continue;
		case OPT_VMLINUX: t->vmlinux = optarg; continue;
		case OPT_WRITE: t->write = true; continue;
		case OPT_RAW: t->raw = true; continue;
		default: return c;
		}
	}
}

const char *cli_text(const struct cli_target *t, char *buf, size_t size, const char *s,
		     enum vms_escape style)
{
	if (t->raw)
		return s ? s : "";
	return vms_text_str(buf, size, s, style);
}

void cli_text_put(const struct cli_target *t, const char *s, size_t len, enum vms_escape style)
{
	if (t->raw)
		fwrite(s, 1, len, stdout);
	else
		vms_text_fwrite(stdout, s, len, style);
}

/* "vmsight CMD: @pre@msg\n" on stderr: messages name guest objects, so
 * they are escaped as names are (unless --raw). */
static void message(const struct cli_target *t, const char *pre, const char *msg)
{
	fprintf(stderr, "%s: %s", t->prog, pre);
	if (t->raw)
		fputs(msg, stderr);
	else
		vms_text_fwrite(stderr, msg, strlen(msg), VMS_ESCAPE_PS);
	fputc('\n', stderr);
}

int cli_fail(const struct cli_target *t, struct vms_error *err)
{
	message(t, "", err->message[0] ? err->message : vms_error_code_name(err->code));
	vms_error_free(err);
	return EXIT_ERROR;
}

static void log_cb(void *arg, enum vms_log_level level, const char *msg)
{
	struct cli_target *t = arg;
	if (level == VMS_LOG_WARN) {
		t->warnings++;
		message(t, "warning: ", msg);
	} else if (t->verbose) {
		message(t, "", msg);
	}
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

bool cli_source_open(struct cli_target *t, const char *spec)
{
	struct vms_error *err = vms_source_open(spec, &t->src);
	if (err) {
		cli_fail(t, err);
		return false;
	}
	if (t->verbose)
		fprintf(stderr, "%s: %s: %s source, %zu range(s), %llu MiB, %zu vCPU state(s)\n",
			t->prog, spec, t->src->kind, t->src->nr_ranges,
			(unsigned long long)(vms_source_phys_size(t->src) >> 20),
			t->src->nr_cpus);
	for (size_t i = 0; t->verbose > 1 && i < t->src->nr_cpus; i++) {
		const struct vms_cpu_state *c = &t->src->cpus[i];
		fprintf(stderr, "%s: vCPU %zu: rip=0x%llx cr0=0x%llx cr3=0x%llx cr4=0x%llx gs_base=0x%llx kernel_gs_base=0x%llx\n",
			t->prog, i, (unsigned long long)c->rip, (unsigned long long)c->cr0,
			(unsigned long long)c->cr3, (unsigned long long)c->cr4,
			(unsigned long long)c->gs_base, (unsigned long long)c->kernel_gs_base);
	}
	return true;
}

/* Discover the kernel of the open source; on failure prints and, unless
 * @optional, closes the target. */
static bool kernel_open(struct cli_target *t, bool optional)
{
	struct vms_kernel_options opts = {
		.log = log_cb,
		.log_arg = t,
		.system_map = t->system_map,
		.vmlinux = t->vmlinux,
	};
	struct vms_error *err = vms_kernel_open(t->src, &opts, &t->kernel);
	if (!err)
		return true;
	if (optional) {
		fprintf(stderr, "%s: warning: %s; physical addresses are read as the source lays them out\n",
			t->prog, err->message);
		vms_error_free(err);
		t->kernel = NULL;
		return true;
	}
	cli_fail(t, err);
	cli_target_close(t);  /* -v: what the source cost, even so */
	return false;
}

bool cli_target_open(struct cli_target *t, const char *spec)
{
	/* libbpf prints its own diagnostics by default; ours say enough. */
	libbpf_set_print(libbpf_quiet);
	return cli_source_open(t, spec) && kernel_open(t, false);
}

bool cli_target_open_phys(struct cli_target *t, const char *spec)
{
	libbpf_set_print(libbpf_quiet);
	return cli_source_open(t, spec) && kernel_open(t, true);
}

void cli_target_close(struct cli_target *t)
{
	if (t->verbose && t->src) {
		char cost[256];
		vms_source_describe_cost(t->src, cost, sizeof(cost));
		if (cost[0])
			fprintf(stderr, "%s: %s\n", t->prog, cost);
	}
	vms_kernel_close(t->kernel);
	vms_source_close(t->src);
	t->kernel = NULL;
	t->src = NULL;
}

int cli_walk_status(const struct cli_target *t, const struct vms_walk_result *res,
		    bool oom, const char *what)
{
	if (oom) {
		fprintf(stderr, "%s: out of memory after %zu %s\n", t->prog,
			res->count, what);
		return EXIT_ERROR;
	}
	if (res->truncated) {
		char pre[128];
		snprintf(pre, sizeof(pre), "listed %zu %s before the walk stopped: ", res->count,
			 what);
		message(t, pre, res->reason);
		return EXIT_PARTIAL;
	}
	return EXIT_OK;
}
