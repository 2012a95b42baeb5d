/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmsight exporter (cmd_exporter.c): the parts shared by the HTTP side
 * (cmd_exporter.c), the per-guest collector threads (exporter_collect.c; the
 * metrics themselves are the library's, vmsight/guest_metrics.h) and the
 * configuration file (exporter_config.c).
 */
#ifndef VMSIGHT_CLI_EXPORTER_H
#define VMSIGHT_CLI_EXPORTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vmsight/guest_metrics.h>
#include <vmsight/prom.h>

#define EXP_MAX_GUESTS 256
#define EXP_SET_BYTES (1u << 20)      /* bound of one guest's metric text */
#define EXP_MAX_TOP 20


/* Settings shared by every collector. */
struct exp_settings {
	double collect_interval;   /* seconds between two collections of a guest */
	double check_interval;     /* seconds between rootkit check runs, 0: never */
	double discover_interval;  /* seconds between two host scans (--discover) */
	double scrape_timeout;     /* a collection running longer counts as failed */
	unsigned top;              /* processes listed by CPU (0: none) */
	int verbose;
};

/* A metric set shared between a collector and the scrapes reading it. */
struct exp_snap {
	int refs;                  /* under the guest's lock */
	struct vms_prom_set *set;
};

struct exp_guest {
	/* fixed at creation */
	char spec[4200];
	char label[VMS_PROM_LABEL_MAX + 1];  /* the guest label, unique */
	int host_pid;              /* the QEMU serving it, 0 unknown */
	bool discovered;           /* found by --discover (dropped when it goes) */
	const struct exp_settings *cfg;
	struct exp_app *app;

	pthread_mutex_t lock;      /* everything below */
	pthread_cond_t wake;
	int refs;                  /* the list's and the thread's */
	bool stop;
	bool open;                 /* a kernel is discovered */
	bool up;                   /* the last collection succeeded */
	bool vanished;             /* its source is gone */
	double busy_since;         /* monotonic start of the running collection, 0 idle */
	double last_duration;      /* seconds, the last collection */
	double discovery_seconds;  /* source open + kernel discovery, the last one */
	double last_success;       /* wall clock of the last good collection */
	uint64_t collections, errors, timeouts, warnings;
	size_t dropped;            /* samples the last snapshot could not hold */
	char error[256];           /* the last error, for the log */
	struct exp_snap *snap;     /* NULL while down */
};

/* The parts of the application the collectors see. */
struct exp_app {
	pthread_mutex_t lock;      /* the guest list, the counters */
	pthread_cond_t idle;       /* signalled when a collector thread ends */
	struct exp_guest *guests[EXP_MAX_GUESTS];
	size_t nr_guests;
	unsigned threads;          /* collector threads running */
	struct exp_settings cfg;
	const char *prog;
};

/* Start the collector thread of @g (refs: one for the list, one for the
 * thread), with the app's lock held.  False if the thread could not be
 * created. */
bool exp_guest_start(struct exp_guest *g);
/* Ask @g's thread to stop and drop the caller's reference. */
void exp_guest_stop(struct exp_guest *g);
void exp_guest_put(struct exp_guest *g);
void exp_snap_put(struct exp_guest *g, struct exp_snap *s);

double exp_now(void);        /* monotonic seconds */
double exp_wall(void);       /* seconds since the epoch */

/* ---- the configuration file (exporter_config.c) ---- */

struct exp_conf_guest {
	char *spec;
	char *name;                /* may be NULL */
};

struct exp_conf {
	struct exp_conf_guest *guests;
	size_t nr_guests;
	int discover;              /* -1 not said, 0 off, 1 on */
	double collect_interval, check_interval, discover_interval, scrape_timeout;  /* < 0: not said */
	long top;                  /* < 0: not said */
};

/* Read @path; on error prints "prog: path:line: why" and returns false. */
bool exp_conf_load(const char *prog, const char *path, struct exp_conf *out);
void exp_conf_free(struct exp_conf *c);

#endif
