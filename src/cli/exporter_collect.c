// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight exporter: one collector thread per guest.  Each opens its guest
 * and every collection interval has the library read it into a new metric
 * set (vms_guest_metrics, src/export/guest_metrics.c), and swaps it in for
 * the scrapes; the rootkit checks run on their slower schedule.  A scrape
 * never reads guest memory: a slow or hostile guest delays only its own
 * thread.  This file is the threads, their schedule and the logging.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/guest_metrics.h>

#include "exporter.h"
#include "util/consume.h"

double exp_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

double exp_wall(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* ---- references ---- */

void exp_snap_put(struct exp_guest *g, struct exp_snap *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&g->lock);
	int r = --s->refs;
	pthread_mutex_unlock(&g->lock);
	if (!r) {
		vms_prom_set_free(s->set);
		free(s);
	}
}

void exp_guest_put(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	int r = --g->refs;
	struct exp_snap *s = r ? NULL : g->snap;
	if (!r)
		g->snap = NULL;
	pthread_mutex_unlock(&g->lock);
	if (r)
		return;
	exp_snap_put(g, s);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->wake);
	free(g);
}

void exp_guest_stop(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->wake);
	pthread_mutex_unlock(&g->lock);
	exp_guest_put(g);
}

/* ---- one guest's reading state (the thread's own) ---- */

struct reader {
	struct exp_guest *g;
	struct vms_guest_metrics *gm;     /* NULL while the guest is not open */
	unsigned failures;            /* consecutive */
	double next_check;
};

static void log_cb(void *arg, enum vms_log_level level, const char *msg)
{
	struct reader *r = arg;
	if (level == VMS_LOG_WARN) {
		pthread_mutex_lock(&r->g->lock);
		r->g->warnings++;
		pthread_mutex_unlock(&r->g->lock);
	}
	if (r->g->cfg->verbose >= (level == VMS_LOG_DEBUG ? 2 : 1))
		fprintf(stderr, "%s: %s: %s%s\n", r->g->app->prog, r->g->label,
			level == VMS_LOG_WARN ? "warning: " : "", msg);
}

static void set_error(struct exp_guest *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_error(struct exp_guest *g, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&g->lock);
	bool changed = strcmp(g->error, msg) != 0;
	snprintf(g->error, sizeof(g->error), "%s", msg);
	pthread_mutex_unlock(&g->lock);
	/* Say it once, not at every retry. */
	if (changed)
		fprintf(stderr, "%s: %s: %s\n", g->app->prog, g->label, msg);
}

static void reader_close(struct reader *r)
{
	vms_guest_metrics_close(r->gm);
	r->gm = NULL;
}

static bool reader_open(struct reader *r)
{
	struct exp_guest *g = r->g;
	double t0 = exp_now();
	struct vms_guest_metrics_options o = { .host_pid = g->host_pid, .top = g->cfg->top,
					       .log = log_cb, .log_arg = r };
	struct vms_error *err = vms_guest_metrics_open(g->spec, &o, &r->gm);
	double secs = exp_now() - t0;
	pthread_mutex_lock(&g->lock);
	g->discovery_seconds = secs;
	g->open = !err;
	g->vanished = false;
	pthread_mutex_unlock(&g->lock);
	if (err) {
		set_error(g, "cannot be read: %s", err->message);
		vms_error_free(err);
		r->gm = NULL;
		return false;
	}
	if (g->cfg->verbose)
		fprintf(stderr, "%s: %s: kernel %s found in %.2f s\n", g->app->prog, g->label,
			vms_guest_metrics_kernel(r->gm)->release, secs);
	pthread_mutex_lock(&g->lock);
	g->error[0] = '\0';
	pthread_mutex_unlock(&g->lock);
	r->next_check = 0;
	return true;
}

/* ---- the thread ---- */

/* Wait until @until (monotonic) or a stop request; true to go on. */
static bool wait_until(struct exp_guest *g, double until)
{
	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		double left = until - exp_now();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		double secs = ts.tv_sec + ts.tv_nsec / 1e9 + left;
		ts.tv_sec = (time_t)secs;
		ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
		pthread_cond_timedwait(&g->wake, &g->lock, &ts);
	}
	bool go = !g->stop;
	pthread_mutex_unlock(&g->lock);
	return go;
}

/* Publish @set (NULL: the guest is down) as the guest's snapshot. */
static void publish(struct exp_guest *g, struct vms_prom_set *set, bool ok, double t0)
{
	struct exp_snap *ns = NULL;
	if (set) {
		ns = malloc(sizeof(*ns));
		if (ns) {
			ns->refs = 1;
			ns->set = set;
		} else {
			vms_prom_set_free(set);
			ok = false;
		}
	}
	pthread_mutex_lock(&g->lock);
	struct exp_snap *old = g->snap;
	g->snap = ns;
	g->up = ok;
	g->busy_since = 0;
	g->last_duration = exp_now() - t0;
	g->collections++;
	if (g->last_duration > g->cfg->scrape_timeout)
		g->timeouts++;
	if (ok)
		g->last_success = exp_wall();
	else
		g->errors++;
	g->dropped = ns ? vms_prom_set_dropped(ns->set) : 0;
	pthread_mutex_unlock(&g->lock);
	exp_snap_put(g, old);
}

static bool stopping(struct exp_guest *g)
{
	pthread_mutex_lock(&g->lock);
	bool s = g->stop;
	pthread_mutex_unlock(&g->lock);
	return s;
}

static void *guest_thread(void *arg)
{
	struct exp_guest *g = arg;
	struct reader r = { .g = g };
	const struct exp_settings *cfg = g->cfg;
	while (!stopping(g)) {
		double t0 = exp_now();
		pthread_mutex_lock(&g->lock);
		g->busy_since = t0;
		pthread_mutex_unlock(&g->lock);
		const char *gone = r.gm ? vms_guest_metrics_vanished(r.gm) : NULL;
		if (gone) {
			set_error(g, "%s; retried until it is back", gone);
			reader_close(&r);
			pthread_mutex_lock(&g->lock);
			g->open = false;
			g->vanished = true;
			pthread_mutex_unlock(&g->lock);
		} else if (!r.gm) {
			if (reader_open(&r))
				r.failures = 0;
			else
				r.failures++;
		}
		bool ok = false, again = false;
		struct vms_prom_set *set = NULL;
		if (r.gm && vms_ok(vms_prom_set_new(vms_guest_metric_families, VMS_M_NR_FAMILIES,
						    EXP_SET_BYTES, 0, &set))) {
			struct vms_error *err = vms_guest_metrics_collect(r.gm, g->label, set);
			ok = !err;
			if (err) {
				set_error(g, "%s", err->message);
				vms_error_free(err);
			}
			if (ok) {
				r.failures = 0;
			} else if (++r.failures >= 3) {
				/* Three failed reads: rediscover (the guest may have
				 * rebooted: its memory is not what it was). */
				reader_close(&r);
				pthread_mutex_lock(&g->lock);
				g->open = false;
				pthread_mutex_unlock(&g->lock);
			}
		}
		if (!ok) {
			vms_prom_set_free(set);
			set = NULL;
		}
		publish(g, set, ok, t0);
		if (ok && cfg->check_interval > 0 && exp_now() >= r.next_check) {
			/* Once the fast figures are out (and not in their
			 * duration); a snapshot with the results follows right
			 * away.  A check run that hangs times out as a collection. */
			pthread_mutex_lock(&g->lock);
			g->busy_since = exp_now();
			pthread_mutex_unlock(&g->lock);
			vms_guest_metrics_run_checks(r.gm);
			r.next_check = exp_now() + cfg->check_interval;
			again = true;
		}
		/* A guest that cannot be read (yet) costs a discovery at each
		 * attempt: back off, up to 5 minutes apart. */
		double next = t0 + cfg->collect_interval;
		if (!r.gm) {
			unsigned f = r.failures < 7 ? r.failures : 7;
			double d = cfg->collect_interval * (double)(1u << f);
			next = t0 + (d < 300 ? d : (cfg->collect_interval > 300 ? cfg->collect_interval : 300));
		}
		if (!wait_until(g, again ? 0 : next))
			break;
	}
	reader_close(&r);
	struct exp_app *a = g->app;
	exp_guest_put(g);
	pthread_mutex_lock(&a->lock);
	a->threads--;
	pthread_cond_broadcast(&a->idle);
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

bool exp_guest_start(struct exp_guest *g)
{
	pthread_attr_t at;
	pthread_t th;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	g->refs = 2;
	g->app->threads++;      /* the caller holds the app's lock */
	int e = pthread_create(&th, &at, guest_thread, g);
	pthread_attr_destroy(&at);
	if (e) {
		g->refs = 1;
		g->app->threads--;
		return false;
	}
	return true;
}
