// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight sched: steer the host scheduler by what each guest runs.  Every
 * interval it samples each vCPU's current task (vms_sampler), asks the
 * policy for a level (vms_policy) and has the actuator apply it to that
 * vCPU's host thread (vms_actuator), logging each change; everything is
 * undone on exit, SIGINT and SIGTERM, for a guest that exits or stalls, and
 * by --restore after a run killed with SIGKILL.  This file is the loop and
 * the output; the decisions and the writes live in the library.
 */
#include <errno.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vmsight/host.h>
#include <vmsight/sample.h>
#include <vmsight/steer.h>
#include <vmsight/xenhost.h>

#include "commands.h"
#include "target.h"
#include "util/consume.h"

#define MAX_GUESTS 64
#define MAX_RULES 64
#define STALL_SECONDS 1.0
#define DEFAULT_STATE "/run/vmsight-sched.state"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight sched [--boost GLOB]... [--boost-cgroup GLOB]... [--demote GLOB]...\n"
		"                     [--keep-idle] [--per-vm] [--interval MS] [--hysteresis N]\n"
		"                     [--actuator auto|nice|cgroup1|cgroup2|xen-credit2] [--demote-idle]\n"
		"                     [--xen-weights BOOST,DEMOTE] [--dry-run]\n"
		"                     [--log FILE] [--duration SECS] [--state FILE]\n"
		"                     [--rules FILE] GUEST...\n"
		"       vmsight sched --restore [--state FILE]\n"
		"Steer each vCPU thread by what the guest runs on that vCPU: boost a vCPU\n"
		"whose current task's name (or guest cgroup) matches a --boost glob, demote\n"
		"one that is idle or runs a --demote task (a floor: nice +10 / cpu.shares 128,\n"
		"never starved), leave the others as they were.  A level must hold for\n"
		"--hysteresis samples (3) before it is applied; --per-vm moves the whole\n"
		"guest instead.  GUEST: qemu:PID, qmp:SOCKET, libvirt:NAME or a RAM file of a\n"
		"running QEMU (vCPU threads found by their names: QEMU -name N,debug-threads=on),\n"
		"or xen:DOMID in dom0: its credit2 weight, per domain (--per-vm is implied;\n"
		"boost 1024, demote 64, normal the weight it had; --xen-weights changes them).\n"
		"Every change is logged (JSON Lines with --log or --json) and recorded in the\n"
		"state file before it is made; all is restored on exit, SIGINT, SIGTERM, when\n"
		"a guest exits or stalls, and by --restore after kill -9.\n"
		"  --interval MS   sampling interval (default 50)\n"
		"  --duration SECS stop after SECS (default: until SIGINT/SIGTERM)\n"
		"  --dry-run       decide and print, change nothing\n"
		"  --rules FILE    rules for many guests (YAML: defaults:, guests: - guest: SPEC\n"
		"                  with boost, boost_cgroup, demote, keep_idle, per_vm,\n"
		"                  hysteresis); its guests are steered too (docs/sched.md)\n"
		"  --demote-idle   demote with SCHED_IDLE (nice) or cpu.idle 1 (cgroups) instead of\n"
		"                  nice +10 / a low share (no floor: a demoted vCPU runs only when idle)\n"
		CLI_COMMON_USAGE
		"Exit status: 0 ok (settings restored), 2 error, 64 usage.\n");
}

struct vcpu {
	int tid;
	enum vms_level applied;
};

struct guest {
	char spec[4200];
	char name[128];
	struct cli_target t;
	struct vms_sampler *sampler;
	struct vms_policy *policy;
	struct vms_cpu_sample *samples;
	struct vms_policy_decision *dec;
	unsigned nr_cpus;
	struct vcpu *vcpu;            /* [nr_cpus]: tid 0 when no thread for that CPU */
	int pid;
	bool xen;                     /* xen:DOMID: steered as a whole (credit2 weight) */
	uint32_t domid;
	struct vms_xen_host *xh;      /* xen: whether the domain is still there */
	bool gone, stalled;
	uint64_t jiffies;
	double jiffies_seen;          /* when jiffies last moved */
};

struct app {
	struct guest *g[MAX_GUESTS];
	size_t n;
	struct vms_policy_rules rules;    /* the command line's */
	struct vms_sched_rules *set;      /* with --rules FILE's, per guest */
	struct vms_actuator *act;
	bool dry_run, json;
	bool raw;                     /* --raw: guest text unescaped */
	FILE *log;
	const char *prog;
	unsigned long samples, changes, torn;
	double sample_cpu;            /* thread CPU seconds spent sampling */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void iso_time(char *buf, size_t n)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t w = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + w, n - w, ".%03ldZ", ts.tv_nsec / 1000000);
}

/* Text for people: guest task names reach the decisions' reasons, escaped
 * as ps shows names ('?') unless --raw (docs/output.md). */
static void put_text(const struct app *a, const char *s)
{
	if (a->raw)
		fputs(s, stdout);
	else
		vms_text_fwrite(stdout, s, strlen(s), VMS_ESCAPE_PS);
}

/* One log record: JSON Lines to --log (and stdout with --json), a line for
 * people on stdout otherwise. */
static void log_event(struct app *a, const struct guest *g, int vcpu, const char *event,
		      const struct vms_policy_decision *d, const struct vms_change *c,
		      const char *detail)
{
	char when[40];
	iso_time(when, sizeof(when));
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "time", json_object_new_string(when));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "guest", json_object_new_string(g->name));
	if (vcpu >= 0) {
		json_object_object_add(o, "vcpu", json_object_new_int(vcpu));
		json_object_object_add(o, g->xen ? "domid" : "tid",
				       json_object_new_int(g->vcpu[vcpu].tid));
	}
	if (d) {
		json_object_object_add(o, "task", json_object_new_string(d->task));
		json_object_object_add(o, "task_pid", json_object_new_int(d->pid));
		json_object_object_add(o, "level", json_object_new_string(vms_level_name(d->level)));
		json_object_object_add(o, "reason", json_object_new_string(d->reason));
	}
	if (c && c->tid) {
		json_object_object_add(o, "actuator",
				       json_object_new_string(vms_actuator_name(vms_actuator_kind(a->act))));
		json_object_object_add(o, "setting", json_object_new_string(c->what));
		json_object_object_add(o, "old", json_object_new_string(c->old_value));
		json_object_object_add(o, "new", json_object_new_string(c->new_value));
		json_object_object_add(o, "where", json_object_new_string(c->where));
	}
	if (detail)
		json_object_object_add(o, "detail", json_object_new_string(detail));
	json_object_object_add(o, "dry_run", json_object_new_boolean(a->dry_run));
	const char *js = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (a->log) {
		fprintf(a->log, "%s\n", js);
		fflush(a->log);
	}
	if (a->json) {
		puts(js);
	} else {
		printf("%s ", when);
		put_text(a, g->name);
		if (vcpu >= 0 && g->xen)
			printf(" domain %d", g->vcpu[vcpu].tid);
		else if (vcpu >= 0)
			printf(" vCPU %d (tid %d)", vcpu, g->vcpu[vcpu].tid);
		printf(": %s", event);
		if (d) {
			printf(" %s [", vms_level_name(d->level));
			put_text(a, d->reason);
			printf("]");
		}
		if (c && c->tid) {
			printf(" ");
			put_text(a, c->what);
			printf(" ");
			put_text(a, c->old_value);
			printf(" -> ");
			put_text(a, c->new_value);
			printf("%s", a->dry_run ? " (dry run)" : "");
		}
		if (detail) {
			printf(" ");
			put_text(a, detail);
		}
		printf("\n");
	}
	fflush(stdout);
	json_object_put(o);
}

/* The host thread of each vCPU.  A Xen domain is steered as a whole: vCPU
 * 0 (the policy decides per VM) carries the domain id, the others nothing. */
static bool map_vcpus(struct app *a, struct guest *g)
{
	if (g->xen) {
		struct vms_xen_domain d;
		struct vms_error *err = vms_xen_host_domain(g->xh, g->domid, &d, NULL, 0, NULL);
		if (err) {
			fprintf(stderr, "%s: %s: %s\n", a->prog, g->spec, err->message);
			vms_error_free(err);
			return false;
		}
		if (d.name[0])
			snprintf(g->name, sizeof(g->name), "%s", d.name);
		g->vcpu[0].tid = (int)g->domid;
		return true;
	}
	int *tids = calloc(g->nr_cpus, sizeof(*tids));
	char name[sizeof(g->name)] = "";
	struct vms_error *err = tids ? vms_host_vcpu_threads(NULL, g->pid, g->t.src, tids,
							     g->nr_cpus, name, sizeof(name))
				     : &vms_error_nomem;
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", a->prog, g->spec, err->message);
		vms_error_free(err);
		free(tids);
		return false;
	}
	if (name[0])
		snprintf(g->name, sizeof(g->name), "%s", name);
	for (unsigned i = 0; i < g->nr_cpus; i++)
		g->vcpu[i].tid = tids[i];
	free(tids);
	return true;
}

static void guest_close(struct guest *g);

static struct guest *guest_open(struct app *a, const char *spec, int verbose)
{
	struct guest *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->spec, sizeof(g->spec), "%s", spec);
	snprintf(g->name, sizeof(g->name), "%s", spec);
	g->t.prog = a->prog;
	g->t.verbose = verbose;
	g->xen = vms_xen_spec_domid(spec, &g->domid);
	bool xen_act = vms_actuator_kind(a->act) == VMS_ACT_XEN_CREDIT2;
	g->pid = g->xen ? 0 : vms_host_pid_for_spec(NULL, spec);
	const char *why = g->xen && !xen_act ?
			  "a Xen domain is steered with --actuator xen-credit2 (its weight is per domain)" :
			  !g->xen && xen_act ? "--actuator xen-credit2 steers xen:DOMID guests only" :
			  g->xen && !g->domid ? "dom0 is not steered (it runs vmsight)" :
			  !g->xen && !g->pid ? "no running QEMU process serves it on this host" : NULL;
	struct vms_error *err;
	if (!why && g->xen && (err = vms_xen_host_open(&g->xh))) {
		fprintf(stderr, "%s: %s: %s\n", a->prog, spec, err->message);
		vms_error_free(err);
		free(g);
		return NULL;
	}
	if (why) {
		fprintf(stderr, "%s: %s: %s\n", a->prog, spec, why);
		free(g);
		return NULL;
	}
	if (!cli_target_open(&g->t, spec)) {
		vms_xen_host_close(g->xh);
		free(g);
		return NULL;
	}
	if ((err = vms_sampler_new(g->t.kernel, &g->sampler))) {
		cli_fail(&g->t, err);
		goto fail;
	}
	g->nr_cpus = vms_sampler_nr_cpus(g->sampler);
	g->samples = calloc(g->nr_cpus, sizeof(*g->samples));
	g->dec = calloc(g->nr_cpus, sizeof(*g->dec));
	g->vcpu = calloc(g->nr_cpus, sizeof(*g->vcpu));
	if (!g->samples || !g->dec || !g->vcpu) {
		fprintf(stderr, "%s: out of memory\n", a->prog);
		goto fail;
	}
	struct vms_policy_rules rules = *vms_sched_rules_for(a->set, spec);
	if (g->xen && !rules.per_vm) {
		rules.per_vm = true;
		fprintf(stderr, "%s: %s: per-VM mode (a credit2 weight is per domain)\n", a->prog, spec);
	}
	if ((err = vms_policy_new(&rules, g->nr_cpus, &g->policy))) {
		cli_fail(&g->t, err);
		goto fail;
	}
	if (!map_vcpus(a, g))
		goto fail;
	g->jiffies_seen = mono();
	return g;
fail:
	guest_close(g);
	return NULL;
}

static void guest_close(struct guest *g)
{
	vms_policy_free(g->policy);
	vms_sampler_free(g->sampler);
	free(g->samples);
	free(g->dec);
	free(g->vcpu);
	vms_xen_host_close(g->xh);
	cli_target_close(&g->t);
	free(g);
}

/* Put a guest's threads back (it exited, stalled, or we stop). */
static void guest_restore(struct app *a, struct guest *g, const char *why)
{
	for (unsigned i = 0; i < g->nr_cpus; i++) {
		if (!g->vcpu[i].tid || g->vcpu[i].applied == VMS_LEVEL_NORMAL)
			continue;
		struct vms_error *err = vms_actuator_restore(a->act, g->vcpu[i].tid);
		if (err) {
			log_event(a, g, (int)i, "restore failed", NULL, NULL, err->message);
			vms_error_free(err);
		} else {
			log_event(a, g, (int)i, "restored", NULL, NULL, why);
		}
		g->vcpu[i].applied = VMS_LEVEL_NORMAL;
	}
}

/* Whether the domain is still there to be steered (not dying or shut down). */
static bool xen_domain_alive(struct guest *g)
{
	struct vms_xen_domain d;
	struct vms_error *err = vms_xen_host_domain(g->xh, g->domid, &d, NULL, 0, NULL);
	bool gone = (err && err->code == VMS_ERR_NOT_FOUND) || (!err && (d.dying || d.shutdown));
	vms_error_free(err);
	return !gone;
}

static void guest_step(struct app *a, struct guest *g)
{
	if (g->gone)
		return;
	if (g->xen ? !xen_domain_alive(g) : kill(g->pid, 0) < 0 && errno == ESRCH) {
		g->gone = true;
		log_event(a, g, -1, "guest gone", NULL, NULL,
			  g->xen ? "the Xen domain is gone (destroyed, dying or shut down)"
				 : "its QEMU process exited");
		guest_restore(a, g, "guest exited");
		return;
	}
	double t0 = cpu_now(), now = mono();
	uint64_t j = 0;
	struct vms_error *err = vms_sampler_jiffies(g->sampler, &j);
	if (!err)
		err = vms_sampler_read(g->sampler, g->samples);
	a->sample_cpu += cpu_now() - t0;
	a->samples++;
	if (err) {
		vms_error_free(err);
		j = g->jiffies;   /* unreadable counts as not moving */
	}
	if (j != g->jiffies) {
		g->jiffies = j;
		g->jiffies_seen = now;
		if (g->stalled) {
			g->stalled = false;
			log_event(a, g, -1, "guest answering again", NULL, NULL, NULL);
		}
	} else if (!g->stalled && now - g->jiffies_seen > STALL_SECONDS) {
		g->stalled = true;
		log_event(a, g, -1, "guest stalled", NULL, NULL,
			  "its clock stopped (paused, or not answering): settings restored");
		guest_restore(a, g, "guest stalled");
	}
	if (g->stalled)
		return;
	for (unsigned i = 0; i < g->nr_cpus; i++)
		a->torn += g->samples[i].valid && g->samples[i].torn;
	vms_policy_update(g->policy, g->samples, g->nr_cpus, g->dec);
	for (unsigned i = 0; i < g->nr_cpus; i++) {
		const struct vms_policy_decision *d = &g->dec[i];
		if (!g->vcpu[i].tid || d->level == g->vcpu[i].applied)
			continue;
		struct vms_change c;
		if (d->level == VMS_LEVEL_NORMAL) {
			err = vms_actuator_restore(a->act, g->vcpu[i].tid);
			memset(&c, 0, sizeof(c));
		} else {
			err = vms_actuator_set(a->act, g->pid, g->vcpu[i].tid, d->level, &c);
		}
		if (err) {
			log_event(a, g, (int)i, "change failed", d, NULL, err->message);
			fprintf(stderr, "%s: %s\n", a->prog, err->message);
			vms_error_free(err);
			continue;
		}
		g->vcpu[i].applied = d->level;
		a->changes++;
		if (d->level == VMS_LEVEL_NORMAL)
			log_event(a, g, (int)i, "unset", d, NULL, "back to the setting it had");
		else
			log_event(a, g, (int)i, "set", d, &c, NULL);
	}
}

static void sleep_until(double t)
{
	double d = t - mono();
	if (d <= 0)
		return;
	struct timespec ts = { (time_t)d, (long)((d - (time_t)d) * 1e9) };
	nanosleep(&ts, NULL);
}

int cmd_sched(int argc, char **argv)
{
	enum { OPT_BOOST = 0x2000, OPT_BOOST_CG, OPT_DEMOTE, OPT_PER_VM, OPT_INTERVAL,
	       OPT_ACT, OPT_DRY, OPT_LOG, OPT_DURATION, OPT_RESTORE, OPT_STATE,
	       OPT_KEEP_IDLE, OPT_HYST, OPT_DEMOTE_IDLE, OPT_RULES, OPT_XEN_WEIGHTS };
	static const struct option opts[] = {
		{ "boost", required_argument, NULL, OPT_BOOST },
		{ "boost-cgroup", required_argument, NULL, OPT_BOOST_CG },
		{ "demote", required_argument, NULL, OPT_DEMOTE },
		{ "keep-idle", no_argument, NULL, OPT_KEEP_IDLE },
		{ "per-vm", no_argument, NULL, OPT_PER_VM },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "hysteresis", required_argument, NULL, OPT_HYST },
		{ "actuator", required_argument, NULL, OPT_ACT },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		{ "demote-idle", no_argument, NULL, OPT_DEMOTE_IDLE },
		{ "rules", required_argument, NULL, OPT_RULES },
		{ "xen-weights", required_argument, NULL, OPT_XEN_WEIGHTS },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "duration", required_argument, NULL, OPT_DURATION },
		{ "restore", no_argument, NULL, OPT_RESTORE },
		{ "state", required_argument, NULL, OPT_STATE },
		{ NULL, 0, NULL, 0 },
	};
	static const char *boost[MAX_RULES], *boost_cg[MAX_RULES], *demote[MAX_RULES];
	struct app a = { .prog = "vmsight sched" };
	struct cli_target common = { .prog = a.prog };
	struct vms_actuator_options ao = { .kind = VMS_ACT_AUTO };
	const char *log_path = NULL, *state = DEFAULT_STATE, *rules_path = NULL;
	double interval = 0.05, duration = 0;
	bool restore = false;
	a.rules.boost = boost;
	a.rules.boost_cgroup = boost_cg;
	a.rules.demote = demote;
	a.rules.hysteresis = 0;   /* not given: the rules file's, else 3 */
	int c;
	char *end;
	while ((c = cli_getopt(&common, argc, argv, "", opts)) != -1) {
		switch (c) {
		case OPT_BOOST:
		case OPT_BOOST_CG:
		case OPT_DEMOTE: {
			size_t *n = c == OPT_BOOST ? &a.rules.nr_boost :
				    c == OPT_BOOST_CG ? &a.rules.nr_boost_cgroup : &a.rules.nr_demote;
			const char **v = c == OPT_BOOST ? boost : c == OPT_BOOST_CG ? boost_cg : demote;
			if (*n == MAX_RULES) {
				fprintf(stderr, "%s: at most %d globs per rule\n", a.prog, MAX_RULES);
				return EXIT_USAGE;
			}
			v[(*n)++] = optarg;
			break;
		}
		case OPT_KEEP_IDLE: a.rules.keep_idle = true; break;
		case OPT_PER_VM: a.rules.per_vm = true; break;
		case OPT_INTERVAL:
			interval = strtod(optarg, &end) / 1000;
			if (*end || !(interval >= 0.001 && interval <= 60)) {
				fprintf(stderr, "%s: --interval wants 1 to 60000 ms, not '%s'\n", a.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_HYST:
			a.rules.hysteresis = (unsigned)strtoul(optarg, &end, 10);
			if (*end || a.rules.hysteresis < 1 || a.rules.hysteresis > 1000) {
				fprintf(stderr, "%s: --hysteresis wants 1 to 1000 samples\n", a.prog);
				return EXIT_USAGE;
			}
			break;
		case OPT_ACT:
			if (!vms_actuator_parse(optarg, &ao.kind)) {
				fprintf(stderr, "%s: unknown actuator '%s' (auto, nice, cgroup1, cgroup2, "
					"xen-credit2)\n",
					a.prog, optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_DRY: a.dry_run = true; break;
		case OPT_DEMOTE_IDLE: ao.demote_idle = true; break;
		case OPT_RULES: rules_path = optarg; break;
		case OPT_XEN_WEIGHTS: {
			unsigned long b = strtoul(optarg, &end, 10), d = 0;
			if (*end == ',')
				d = strtoul(end + 1, &end, 10);
			if (*end || b < 1 || b > 65535 || d < 1 || d > 65535) {
				fprintf(stderr, "%s: --xen-weights wants BOOST,DEMOTE credit2 weights "
					"(1 to 65535), not '%s'\n", a.prog, optarg);
				return EXIT_USAGE;
			}
			ao.xen_boost_weight = (unsigned)b;
			ao.xen_demote_weight = (unsigned)d;
			break;
		}
		case OPT_LOG: log_path = optarg; break;
		case OPT_DURATION:
			duration = strtod(optarg, &end);
			if (*end || !(duration > 0)) {
				fprintf(stderr, "%s: --duration wants seconds > 0\n", a.prog);
				return EXIT_USAGE;
			}
			break;
		case OPT_RESTORE: restore = true; break;
		case OPT_STATE: state = optarg; break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	a.json = common.json;
	a.raw = common.raw;
	if (restore) {
		if (optind != argc) {
			usage(stderr);
			return EXIT_USAGE;
		}
		unsigned n;
		struct vms_error *err = vms_actuator_restore_state(state, &n);
		if (err)
			return cli_fail(&common, err);
		printf("restored %u thread(s) from %s\n", n, state);
		return EXIT_OK;
	}
	struct vms_error *err = rules_path ? vms_sched_rules_load(rules_path, &a.rules, &a.set)
					   : vms_sched_rules_parse("", 0, "command line", &a.rules, &a.set);
	if (err)
		return cli_fail(&common, err);
	size_t nr_file = vms_sched_rules_nr_guests(a.set);
	if (optind == argc && !nr_file) {
		usage(stderr);
		vms_sched_rules_free(a.set);
		return EXIT_USAGE;
	}
	if (!a.dry_run && access(state, F_OK) == 0) {
		fprintf(stderr, "%s: %s exists: a previous run did not finish; undo it with "
			"'vmsight sched --restore --state %s'\n", a.prog, state, state);
		vms_sched_rules_free(a.set);
		return EXIT_ERROR;
	}
	if (log_path && !(a.log = fopen(log_path, "a"))) {
		fprintf(stderr, "%s: cannot open log %s: %s\n", a.prog, log_path, strerror(errno));
		vms_sched_rules_free(a.set);
		return EXIT_ERROR;
	}
	ao.state_file = state;
	ao.dry_run = a.dry_run;
	/* auto: Xen domains can only be steered through their credit2 weight. */
	for (size_t i = optind; ao.kind == VMS_ACT_AUTO && i < (size_t)argc + nr_file; i++) {
		uint32_t domid;
		if (vms_xen_spec_domid(i < (size_t)argc ? argv[i]
				       : vms_sched_rules_guest(a.set, i - argc), &domid))
			ao.kind = VMS_ACT_XEN_CREDIT2;
	}
	err = vms_actuator_open(&ao, &a.act);
	if (err) {
		if (a.log)
			fclose(a.log);
		vms_sched_rules_free(a.set);
		return cli_fail(&common, err);
	}
	int rc = EXIT_OK;
	/* The command line's guests, then the rules file's not already named. */
	for (size_t i = optind; i < (size_t)argc + nr_file && a.n < MAX_GUESTS; i++) {
		const char *spec = i < (size_t)argc ? argv[i] : vms_sched_rules_guest(a.set, i - argc);
		bool dup = false;
		for (size_t j = 0; j < a.n; j++)
			dup |= !strcmp(a.g[j]->spec, spec);
		if (dup)
			continue;
		struct guest *g = guest_open(&a, spec, common.verbose);
		if (!g) {
			rc = EXIT_ERROR;
			break;
		}
		a.g[a.n++] = g;
		log_event(&a, g, -1, "watching", NULL, NULL, g->spec);
	}
	if (rc == EXIT_OK) {
		struct sigaction sa = { .sa_handler = on_signal };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		double start = mono(), next = start;
		while (!stop_requested && (duration <= 0 || mono() - start < duration)) {
			bool any = false;
			for (size_t i = 0; i < a.n; i++) {
				guest_step(&a, a.g[i]);
				any |= !a.g[i]->gone;
			}
			if (!any)
				break;
			next += interval;
			if (next < mono())
				next = mono();
			sleep_until(next);
		}
	}
	for (size_t i = 0; i < a.n; i++)
		guest_restore(&a, a.g[i], "vmsight sched exits");
	if ((err = vms_actuator_restore_all(a.act))) {
		fprintf(stderr, "%s: restoring: %s\n", a.prog, err->message);
		vms_error_free(err);
		rc = EXIT_ERROR;
	}
	fprintf(stderr, "%s: %lu sample(s) of %zu guest(s), %lu change(s), %lu torn vCPU read(s) "
		"ignored, sampling %.1f us CPU each%s\n", a.prog, a.samples, a.n, a.changes, a.torn,
		a.samples ? a.sample_cpu / a.samples * 1e6 : 0.0,
		a.dry_run ? " (dry run: nothing written)" : "; every setting restored");
	for (size_t i = 0; i < a.n; i++)
		guest_close(a.g[i]);
	vms_actuator_close(a.act);
	vms_sched_rules_free(a.set);
	if (a.log)
		fclose(a.log);
	return rc;
}
