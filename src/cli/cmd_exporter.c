// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight exporter: a Prometheus exporter for guests, read from outside.
 * Each guest has a collector thread (exporter_collect.c) that refreshes a
 * cached metric set; /metrics only concatenates the latest sets (grouped by
 * family, vms_prom_render), so a scrape costs no guest read and one slow or
 * hostile guest cannot hold up another, nor the scrape.  HTTP is
 * libmicrohttpd's (no parser of our own); TLS and basic auth follow the
 * exporter-toolkit's --web.config.file (src/export/webconfig.c).  Read-only:
 * it never writes guest memory.  See docs/exporter.md.
 */
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <vmsight/host.h>
#include <vmsight/prom.h>
#include <vmsight/webconfig.h>

#include "commands.h"
#include "exporter.h"
#include "target.h"
#include "util/consume.h"

/*
 * The default port.  Prometheus keeps a list of exporters' default ports in
 * 9100-9999 (node_exporter 9100); that range has been fully allocated since
 * 2023, so no free number is left to claim there.  9777 is in the range,
 * away from the ports of the Prometheus server and its own components
 * (9090-9094) and of the exporters usually run beside a hypervisor
 * (node 9100, libvirt 9177, process 9256), so that it can run next to them
 * on the same host; --web.listen-address changes it.
 */
#define DEFAULT_LISTEN "127.0.0.1:9777"
#define REALM "vmsight"
#define MAX_PEM (1u << 20)

static const unsigned codes[] = { 200, 401, 404, 405, 500, 503 };
#define NR_CODES (sizeof(codes) / sizeof(codes[0]))

struct app {
	struct exp_app x;          /* first: the collectors' view */
	struct MHD_Daemon *d;
	struct vms_webconfig *web;
	char path[1024];           /* --web.telemetry-path */
	char *landing;             /* the page at / */
	size_t landing_len;
	unsigned max_requests;
	atomic_uint inflight;
	atomic_ulong requests[NR_CODES];
	atomic_ulong discovery_runs, discovery_errors;
	double start_wall;
	bool discover;
};

/* A request's state: whether it holds a scrape slot. */
struct req {
	bool counted;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vmsight exporter [options] [GUEST...]\n"
		"A Prometheus exporter: each GUEST (any re-readable source: RAM file,\n"
		"qemu:PID, qmp:SOCKET, libvirt:NAME, xen:DOMID) is read from outside by a\n"
		"thread of its own; /metrics serves the latest figures of every guest in\n"
		"the text exposition format 0.0.4.  Read-only.  See docs/exporter.md.\n"
		"  --web.listen-address HOST:PORT  where to listen (default " DEFAULT_LISTEN ";\n"
		"                      [::1]:PORT for IPv6, :PORT for every address, port 0\n"
		"                      for any free one: the address is printed on stderr)\n"
		"  --web.telemetry-path PATH       metrics path (default /metrics)\n"
		"  --web.config.file FILE          TLS and basic auth, exporter-toolkit YAML\n"
		"  --web.max-requests N            concurrent scrapes (default 4; more: 503)\n"
		"  --config FILE       guests and settings, one directive a line:\n"
		"                      guest SPEC [name=NAME], discover, collect-interval S, ...\n"
		"  --discover          every QEMU guest on this host, rescanned periodically\n"
		"  --discover.interval SECS   rescan period (default 30)\n"
		"  --collect.interval SECS    read each guest this often (default 5)\n"
		"  --collect.top N            export the N busiest processes (default 5, max 20)\n"
		"  --check.interval SECS      run the rootkit checks this often (default 60;\n"
		"                             0: never)\n"
		"  --scrape.timeout SECS      a guest's collection running longer is reported\n"
		"                             down (default 10)\n"
		"  -v, --verbose       log discovery steps and guest warnings on stderr\n"
		"The label `guest` is the QEMU -name, else the spec (or name= of --config).\n"
		"Exit status: 0 stopped by SIGINT/SIGTERM, 2 error (cannot listen), 64 usage.\n");
}

/* ---- guests ---- */

static bool label_taken(const struct app *a, const char *label)
{
	for (size_t i = 0; i < a->x.nr_guests; i++)
		if (!strcmp(a->x.guests[i]->label, label))
			return true;
	return false;
}

/* Add and start a guest; under no lock. */
static struct exp_guest *guest_add(struct app *a, const char *spec, const char *name, int pid,
				   bool discovered)
{
	struct exp_guest *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	snprintf(g->spec, sizeof(g->spec), "%s", spec);
	g->host_pid = pid ? pid : vms_host_pid_for_spec(NULL, spec);
	g->discovered = discovered;
	g->cfg = &a->x.cfg;
	g->app = &a->x;
	char qname[128] = "";
	if (!name || !*name) {
		struct vms_host_proc p;
		if (g->host_pid && vms_ok(vms_host_proc_read(NULL, g->host_pid, &p))) {
			snprintf(qname, sizeof(qname), "%s", p.name);
			vms_host_proc_free(&p);
		}
		name = qname[0] ? qname : spec;
	}
	char base[VMS_PROM_LABEL_MAX + 1];
	vms_prom_clean_value(base, sizeof(base), name, strlen(name), VMS_PROM_LABEL_MAX);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g->wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&g->lock, NULL);
	pthread_mutex_lock(&a->x.lock);
	if (a->x.nr_guests >= EXP_MAX_GUESTS) {
		pthread_mutex_unlock(&a->x.lock);
		fprintf(stderr, "%s: %s: not watched: at most %d guests\n", a->x.prog, spec,
			EXP_MAX_GUESTS);
		g->refs = 1;
		exp_guest_put(g);
		return NULL;
	}
	/* The label identifies the guest's series: unique. */
	snprintf(g->label, sizeof(g->label), "%s", base);
	for (unsigned n = 2; label_taken(a, g->label) && n < 10000; n++) {
		char sfx[16];
		int sl = snprintf(sfx, sizeof(sfx), "-%u", n);
		char cut[VMS_PROM_LABEL_MAX + 1];
		vms_prom_clean_value(cut, sizeof(cut), base, strlen(base),
				     VMS_PROM_LABEL_MAX - (size_t)sl);
		size_t cl = strlen(cut);
		memcpy(g->label, cut, cl);
		memcpy(g->label + cl, sfx, (size_t)sl + 1);   /* cl + sl <= the bound */
	}
	if (!exp_guest_start(g)) {
		pthread_mutex_unlock(&a->x.lock);
		fprintf(stderr, "%s: %s: cannot start a thread\n", a->x.prog, spec);
		exp_guest_put(g);
		return NULL;
	}
	a->x.guests[a->x.nr_guests++] = g;
	pthread_mutex_unlock(&a->x.lock);
	if (a->x.cfg.verbose)
		fprintf(stderr, "%s: watching %s as guest \"%s\"%s\n", a->x.prog, spec, g->label,
			discovered ? " (discovered)" : "");
	return g;
}

/* --discover: add new QEMUs, drop the discovered guests that are gone. */
static void rescan(struct app *a)
{
	struct vms_host_guest *hg = NULL;
	size_t n = 0;
	struct vms_error *err = vms_host_discover(NULL, &hg, &n);
	if (err) {
		atomic_fetch_add(&a->discovery_errors, 1);
		fprintf(stderr, "%s: discovery: %s\n", a->x.prog, err->message);
		vms_error_free(err);
		return;
	}
	atomic_fetch_add(&a->discovery_runs, 1);
	struct exp_guest *gone[EXP_MAX_GUESTS];
	size_t ngone = 0;
	bool *known = calloc(n ? n : 1, sizeof(*known));
	if (!known) {
		free(hg);
		return;
	}
	pthread_mutex_lock(&a->x.lock);
	for (size_t i = 0; i < a->x.nr_guests;) {
		struct exp_guest *g = a->x.guests[i];
		bool present = false;
		for (size_t j = 0; j < n; j++) {
			if ((g->host_pid && g->host_pid == hg[j].pid) || !strcmp(g->spec, hg[j].spec)) {
				present = true;
				known[j] = true;
			}
		}
		if (g->discovered && !present) {
			gone[ngone++] = g;
			a->x.guests[i] = a->x.guests[--a->x.nr_guests];
			continue;
		}
		i++;
	}
	pthread_mutex_unlock(&a->x.lock);
	for (size_t i = 0; i < ngone; i++) {
		fprintf(stderr, "%s: guest \"%s\" (%s) is gone: dropped\n", a->x.prog,
			gone[i]->label, gone[i]->spec);
		exp_guest_stop(gone[i]);
	}
	for (size_t j = 0; j < n; j++)
		if (!known[j])
			guest_add(a, hg[j].spec, hg[j].name, hg[j].pid, true);
	free(known);
	free(hg);
}

/* ---- /metrics ---- */

struct seen_guest {
	struct exp_guest *g;
	struct exp_snap *snap;
	bool open, up, timed_out;
	double duration, discovery, last_success;
	uint64_t collections, errors, timeouts, warnings;
	size_t dropped;
};

static void add(struct vms_prom_set *s, size_t fam, double v, size_t n, ...)
{
	struct vms_prom_label l[4];
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n && i < 4; i++) {
		l[i].name = va_arg(ap, const char *);
		l[i].value = va_arg(ap, const char *);
	}
	va_end(ap);
	vms_error_free(vms_prom_add(s, fam, l, n, v));
}

static void self_metrics(struct app *a, struct vms_prom_set *s, size_t nguests)
{
	add(s, VMS_M_EXPORTER_GUESTS, (double)nguests, 0);
	add(s, VMS_M_EXPORTER_START, a->start_wall, 0);
	for (size_t i = 0; i < NR_CODES; i++) {
		char code[8];
		snprintf(code, sizeof(code), "%u", codes[i]);
		add(s, VMS_M_EXPORTER_REQUESTS, (double)atomic_load(&a->requests[i]), 1, "code", code);
	}
	if (a->discover) {
		add(s, VMS_M_EXPORTER_DISCOVERY_RUNS, (double)atomic_load(&a->discovery_runs), 0);
		add(s, VMS_M_EXPORTER_DISCOVERY_ERRORS, (double)atomic_load(&a->discovery_errors), 0);
	}
	struct rusage ru;
	if (!getrusage(RUSAGE_SELF, &ru))
		add(s, VMS_M_PROCESS_CPU, ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
			ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, 0);
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long vsz, rss;
	if (f) {
		if (fscanf(f, "%lu %lu", &vsz, &rss) == 2) {
			double page = (double)sysconf(_SC_PAGESIZE);
			add(s, VMS_M_PROCESS_RSS, rss * page, 0);
			add(s, VMS_M_PROCESS_VSZ, vsz * page, 0);
		}
		fclose(f);
	}
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		size_t nfd = 0;
		struct dirent *e;
		while ((e = readdir(d)) && nfd < 1000000)
			nfd += e->d_name[0] != '.';
		closedir(d);
		add(s, VMS_M_PROCESS_FDS, nfd ? (double)(nfd - 1) : 0, 0);   /* less the DIR's own */
	}
	add(s, VMS_M_PROCESS_START, a->start_wall, 0);
}

static void guest_status(struct vms_prom_set *s, const struct seen_guest *v)
{
	const char *label = v->g->label;
	bool up = v->open && v->up && !v->timed_out && v->snap;
	add(s, VMS_M_GUEST_UP, up, 1, "guest", label);
	add(s, VMS_M_GUEST_SCRAPE_ERROR, !up, 1, "guest", label);
	add(s, VMS_M_SCRAPE_DURATION, v->duration, 1, "guest", label);
	add(s, VMS_M_SCRAPE_SUCCESS, v->up && !v->timed_out, 1, "guest", label);
	add(s, VMS_M_GUEST_DISCOVERY, v->discovery, 1, "guest", label);
	if (v->last_success > 0)
		add(s, VMS_M_GUEST_LAST_COLLECTION, v->last_success, 1, "guest", label);
	add(s, VMS_M_GUEST_COLLECTIONS, (double)v->collections, 1, "guest", label);
	add(s, VMS_M_GUEST_COLLECTION_ERRORS, (double)v->errors, 1, "guest", label);
	add(s, VMS_M_GUEST_TIMEOUTS, (double)v->timeouts, 1, "guest", label);
	add(s, VMS_M_GUEST_WARNINGS, (double)v->warnings, 1, "guest", label);
	add(s, VMS_M_GUEST_SAMPLES_DROPPED, (double)v->dropped, 1, "guest", label);
	add(s, VMS_M_GUEST_INFO, 1, 2, "guest", label, "spec", v->g->spec);
}

/* The exposition of every guest; NULL when out of memory. */
static char *metrics_text(struct app *a, size_t *len)
{
	struct seen_guest *v = calloc(EXP_MAX_GUESTS, sizeof(*v));
	const struct vms_prom_set **sets = calloc(EXP_MAX_GUESTS + 1, sizeof(*sets));
	struct vms_prom_set *st = NULL;
	char *text = NULL;
	if (!v || !sets || !vms_ok(vms_prom_set_new(vms_guest_metric_families, VMS_M_NR_FAMILIES, EXP_SET_BYTES, 0,
						     &st)))
		goto out;
	double now = exp_now();
	size_t n = 0;
	pthread_mutex_lock(&a->x.lock);
	for (size_t i = 0; i < a->x.nr_guests; i++) {
		struct exp_guest *g = a->x.guests[i];
		struct seen_guest *s = &v[n++];
		pthread_mutex_lock(&g->lock);
		g->refs++;
		s->g = g;
		s->open = g->open;
		s->up = g->up;
		s->timed_out = g->busy_since > 0 && now - g->busy_since > g->cfg->scrape_timeout;
		s->duration = s->timed_out ? now - g->busy_since : g->last_duration;
		s->discovery = g->discovery_seconds;
		s->last_success = g->last_success;
		s->collections = g->collections;
		s->errors = g->errors;
		s->timeouts = g->timeouts + s->timed_out;
		s->warnings = g->warnings;
		s->dropped = g->dropped;
		/* A collection past its time: the guest is down, its older
		 * figures are not served as if current. */
		if (g->snap && !s->timed_out) {
			s->snap = g->snap;
			s->snap->refs++;
		}
		pthread_mutex_unlock(&g->lock);
	}
	pthread_mutex_unlock(&a->x.lock);
	self_metrics(a, st, n);
	sets[0] = st;
	for (size_t i = 0; i < n; i++) {
		guest_status(st, &v[i]);
		sets[i + 1] = v[i].snap ? v[i].snap->set : NULL;
	}
	struct vms_error *err = vms_prom_render(sets, n + 1, &text, len);
	if (err) {
		fprintf(stderr, "%s: %s\n", a->x.prog, err->message);
		vms_error_free(err);
		text = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		exp_snap_put(v[i].g, v[i].snap);
		exp_guest_put(v[i].g);
	}
out:
	vms_prom_set_free(st);
	free(sets);
	free(v);
	return text;
}

/* ---- HTTP ---- */

static void count(struct app *a, unsigned code)
{
	for (size_t i = 0; i < NR_CODES; i++)
		if (codes[i] == code)
			atomic_fetch_add(&a->requests[i], 1);
}

static enum MHD_Result reply(struct app *a, struct MHD_Connection *c, unsigned code,
			     const char *type, char *body, size_t len, bool owned)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(
		len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!r) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	if (code == MHD_HTTP_SERVICE_UNAVAILABLE)
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1");
	enum MHD_Result ret;
	if (code == MHD_HTTP_UNAUTHORIZED)
		ret = MHD_queue_basic_auth_fail_response(c, REALM, r);
	else
		ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	count(a, code);
	return ret;
}

static enum MHD_Result text(struct app *a, struct MHD_Connection *c, unsigned code,
			    const char *msg)
{
	return reply(a, c, code, "text/plain; charset=utf-8", (char *)msg, strlen(msg), false);
}

static bool authorized(struct app *a, struct MHD_Connection *c)
{
	if (!a->web || !a->web->nr_users)
		return true;
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(c, &pass);
	bool ok = user && pass && vms_webconfig_check_user(a->web, user, pass);
	MHD_free(user);
	MHD_free(pass);
	return ok;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **req_cls)
{
	struct app *a = cls;
	(void)version;
	(void)upload;
	if (!*req_cls) {
		/* Headers only, so far.  Anything but GET and HEAD is refused
		 * before its body is read. */
		struct req *r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		*req_cls = r;
		if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
			return text(a, c, MHD_HTTP_METHOD_NOT_ALLOWED, "Method Not Allowed\n");
		return MHD_YES;
	}
	struct req *r = *req_cls;
	if (*upload_size) {
		*upload_size = 0;   /* a GET with a body: ignored */
		return MHD_YES;
	}
	if (!authorized(a, c))
		return text(a, c, MHD_HTTP_UNAUTHORIZED, "Unauthorized\n");
	if (!strcmp(url, a->path)) {
		if (atomic_fetch_add(&a->inflight, 1) >= a->max_requests) {
			atomic_fetch_sub(&a->inflight, 1);
			return text(a, c, MHD_HTTP_SERVICE_UNAVAILABLE,
				    "Too many concurrent scrapes (--web.max-requests)\n");
		}
		r->counted = true;   /* released when the response is sent */
		size_t len = 0;
		char *body = metrics_text(a, &len);
		if (!body)
			return text(a, c, MHD_HTTP_INTERNAL_SERVER_ERROR, "Out of memory\n");
		return reply(a, c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body,
			     len, true);
	}
	if (!strcmp(url, "/"))
		return reply(a, c, MHD_HTTP_OK, "text/html; charset=utf-8", a->landing,
			     a->landing_len, false);
	return text(a, c, MHD_HTTP_NOT_FOUND, "Not Found\n");
}

static void completed(void *cls, struct MHD_Connection *c, void **req_cls,
		      enum MHD_RequestTerminationCode toe)
{
	struct app *a = cls;
	(void)c;
	(void)toe;
	struct req *r = *req_cls;
	if (r && r->counted)
		atomic_fetch_sub(&a->inflight, 1);
	free(r);
	*req_cls = NULL;
}

/*
 * Each connection gets a fixed send buffer.  Left to autotuning, the kernel
 * takes up to 4 MiB of a response per socket, so a client that does not
 * read would pin that much kernel memory and give its scrape slot back at
 * once; with 64 KiB a slow reader keeps its slot (--web.max-requests)
 * until it has read the response.
 */
#define SNDBUF (64 * 1024)

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)cls;
	(void)socket_context;
	if (toe != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	int sz = SNDBUF;
	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
}

static void html_escape(char *dst, size_t size, const char *s)
{
	size_t o = 0;
	for (; *s && o + 7 < size; s++) {
		const char *e = *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '&' ? "&amp;" :
				*s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
		if (e) {
			memcpy(dst + o, e, strlen(e));
			o += strlen(e);
		} else {
			dst[o++] = *s;
		}
	}
	dst[o] = '\0';
}

static bool make_landing(struct app *a)
{
	char p[6 * sizeof(a->path)];
	html_escape(p, sizeof(p), a->path);
	size_t n = 2 * strlen(p) + 512;
	a->landing = malloc(n);
	if (!a->landing)
		return false;
	a->landing_len = (size_t)snprintf(a->landing, n,
		"<!DOCTYPE html>\n<html>\n<head><title>vmsight exporter</title></head>\n<body>\n"
		"<h1>vmsight exporter</h1>\n"
		"<p>Guest virtual machines, read from the host without an agent.</p>\n"
		"<ul><li><a href=\"%s\">Metrics</a></li></ul>\n</body>\n</html>\n", p);
	return true;
}

/* Listen on @spec (HOST:PORT, [V6]:PORT, :PORT); prints the address. */
static int listen_on(const char *prog, const char *spec, bool tls, const char *path)
{
	char host[256], port[32];
	const char *colon = strrchr(spec, ':');
	if (!colon || !colon[1] || strlen(colon + 1) >= sizeof(port)) {
		fprintf(stderr, "%s: --web.listen-address wants HOST:PORT, not '%s'\n", prog, spec);
		return -1;
	}
	size_t hl = (size_t)(colon - spec);
	if (hl >= 2 && spec[0] == '[' && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		fprintf(stderr, "%s: --web.listen-address: host too long\n", prog);
		return -1;
	}
	memcpy(host, spec, hl);
	host[hl] = '\0';
	snprintf(port, sizeof(port), "%s", colon + 1);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *res;
	int e = getaddrinfo(hl ? host : NULL, port, &hints, &res);
	if (e) {
		fprintf(stderr, "%s: --web.listen-address %s: %s\n", prog, spec, gai_strerror(e));
		return -1;
	}
	int fd = -1, saved = 0;
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 64)) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog, spec, strerror(saved));
		return -1;
	}
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char h[NI_MAXHOST], p[NI_MAXSERV];
	if (!getsockname(fd, (struct sockaddr *)&ss, &sl) &&
	    !getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
			 NI_NUMERICHOST | NI_NUMERICSERV))
		fprintf(stderr, "%s: listening on %s://%s%s%s:%s%s\n", prog, tls ? "https" : "http",
			ss.ss_family == AF_INET6 ? "[" : "", h, ss.ss_family == AF_INET6 ? "]" : "",
			p, path);
	return fd;
}

static char *read_pem(const char *prog, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_PEM + 1);
	size_t n = buf ? fread(buf, 1, MAX_PEM, f) : 0;
	fclose(f);
	if (!buf || !n) {
		fprintf(stderr, "%s: %s: empty or unreadable\n", prog, path);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* ---- options ---- */

static bool opt_seconds(const char *prog, const char *opt, const char *s, double lo,
			double *out)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !(v >= lo && v <= 86400)) {
		fprintf(stderr, "%s: %s wants seconds (%g to 86400), not '%s'\n", prog, opt, lo, s);
		return false;
	}
	*out = v;
	return true;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int cmd_exporter(int argc, char **argv)
{
	enum {
		O_LISTEN = 0x3000, O_PATH, O_WEBCONF, O_MAXREQ, O_CONFIG, O_DISCOVER,
		O_DISC_INT, O_COLL_INT, O_TOP, O_CHECK_INT, O_TIMEOUT,
	};
	static const struct option opts[] = {
		{ "web.listen-address", required_argument, NULL, O_LISTEN },
		{ "web.telemetry-path", required_argument, NULL, O_PATH },
		{ "web.config.file", required_argument, NULL, O_WEBCONF },
		{ "web.max-requests", required_argument, NULL, O_MAXREQ },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "discover", no_argument, NULL, O_DISCOVER },
		{ "discover.interval", required_argument, NULL, O_DISC_INT },
		{ "collect.interval", required_argument, NULL, O_COLL_INT },
		{ "collect.top", required_argument, NULL, O_TOP },
		{ "check.interval", required_argument, NULL, O_CHECK_INT },
		{ "scrape.timeout", required_argument, NULL, O_TIMEOUT },
		{ NULL, 0, NULL, 0 },
	};
	const char *prog = "vmsight exporter";
	struct cli_target common = { .prog = prog };
	const char *listen_addr = DEFAULT_LISTEN, *path = "/metrics", *webconf = NULL,
		   *config = NULL;
	double coll = -1, disc = -1, check = -1, timeout = -1;
	long top = -1, maxreq = 4;
	int discover = -1, c;
	char *end;
	while ((c = cli_getopt(&common, argc, argv, "", opts)) != -1) {
		switch (c) {
		case O_LISTEN: listen_addr = optarg; break;
		case O_PATH: path = optarg; break;
		case O_WEBCONF: webconf = optarg; break;
		case O_CONFIG: config = optarg; break;
		case O_DISCOVER: discover = 1; break;
		case O_MAXREQ:
			maxreq = strtol(optarg, &end, 10);
			if (*end || maxreq < 1 || maxreq > 1024) {
				fprintf(stderr, "%s: --web.max-requests wants 1 to 1024\n", prog);
				return EXIT_USAGE;
			}
			break;
		case O_TOP:
			top = strtol(optarg, &end, 10);
			if (*end || top < 0 || top > EXP_MAX_TOP) {
				fprintf(stderr, "%s: --collect.top wants 0 to %d\n", prog, EXP_MAX_TOP);
				return EXIT_USAGE;
			}
			break;
		case O_DISC_INT:
			if (!opt_seconds(prog, "--discover.interval", optarg, 1, &disc))
				return EXIT_USAGE;
			break;
		case O_COLL_INT:
			if (!opt_seconds(prog, "--collect.interval", optarg, 0.2, &coll))
				return EXIT_USAGE;
			break;
		case O_CHECK_INT:
			if (!opt_seconds(prog, "--check.interval", optarg, 0, &check))
				return EXIT_USAGE;
			break;
		case O_TIMEOUT:
			if (!opt_seconds(prog, "--scrape.timeout", optarg, 0.1, &timeout))
				return EXIT_USAGE;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (common.write) {
		fprintf(stderr, "%s: the exporter is read-only: --write is not accepted\n", prog);
		return EXIT_USAGE;
	}
	if (common.system_map || common.vmlinux || common.json) {
		fprintf(stderr, "%s: --system-map, --vmlinux and --json do not apply to the exporter\n",
			prog);
		return EXIT_USAGE;
	}
	if (path[0] != '/' || strlen(path) >= sizeof(((struct app *)0)->path)) {
		fprintf(stderr, "%s: --web.telemetry-path must start with '/'\n", prog);
		return EXIT_USAGE;
	}
	struct exp_conf conf = { .discover = -1, .collect_interval = -1, .check_interval = -1,
				 .discover_interval = -1, .scrape_timeout = -1, .top = -1 };
	if (config && !exp_conf_load(prog, config, &conf)) {
		exp_conf_free(&conf);
		return EXIT_USAGE;
	}
	struct app *a = calloc(1, sizeof(*a));
	if (!a) {
		exp_conf_free(&conf);
		return EXIT_ERROR;
	}
	a->x.prog = prog;
	a->x.cfg.verbose = common.verbose;
	/* Defaults, then the file, then the command line. */
	a->x.cfg.collect_interval = coll >= 0 ? coll : conf.collect_interval >= 0 ? conf.collect_interval : 5;
	a->x.cfg.check_interval = check >= 0 ? check : conf.check_interval >= 0 ? conf.check_interval : 60;
	a->x.cfg.discover_interval = disc >= 0 ? disc : conf.discover_interval >= 0 ? conf.discover_interval : 30;
	a->x.cfg.scrape_timeout = timeout >= 0 ? timeout : conf.scrape_timeout >= 0 ? conf.scrape_timeout : 10;
	a->x.cfg.top = (unsigned)(top >= 0 ? top : conf.top >= 0 ? conf.top : 5);
	a->discover = discover >= 0 ? discover == 1 : conf.discover == 1;
	a->max_requests = (unsigned)maxreq;
	a->start_wall = exp_wall();
	snprintf(a->path, sizeof(a->path), "%s", path);
	pthread_mutex_init(&a->x.lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->x.idle, &ca);
	pthread_condattr_destroy(&ca);

	int rc = EXIT_ERROR, fd = -1;
	char *cert = NULL, *key = NULL;
	if (optind == argc && !conf.nr_guests && !a->discover) {
		fprintf(stderr, "%s: no guests: name them, list them in --config, or --discover\n",
			prog);
		usage(stderr);
		rc = EXIT_USAGE;
		goto out;
	}
	if (webconf) {
		struct vms_error *err = vms_webconfig_load(webconf, &a->web);
		if (err) {
			fprintf(stderr, "%s: --web.config.file: %s\n", prog, err->message);
			vms_error_free(err);
			rc = EXIT_USAGE;
			goto out;
		}
		if (a->web->cert_file) {
			if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
				fprintf(stderr, "%s: this libmicrohttpd has no TLS support\n", prog);
				goto out;
			}
			cert = read_pem(prog, a->web->cert_file);
			key = read_pem(prog, a->web->key_file);
			if (!cert || !key)
				goto out;
		}
	}
	if (!make_landing(a))
		goto out;

	/* Signals go to the main thread's sigtimedwait; every thread started
	 * from here on inherits the mask. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	libbpf_set_print(libbpf_quiet);

	fd = listen_on(prog, listen_addr, cert != NULL, a->path);
	if (fd < 0)
		goto out;
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
	if (cert)
		flags |= MHD_USE_TLS;
	const char *prio = a->web && a->web->tls13_only ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
			   : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
	struct MHD_OptionItem tls_opts[] = {
		{ cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, key },
		{ MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)prio },
		{ MHD_OPTION_END, 0, NULL },
	};
	a->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, a,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned)2,
				/* bounded connections, each idle at most 30 s */
				MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768,
				MHD_OPTION_NOTIFY_COMPLETED, completed, a,
				MHD_OPTION_NOTIFY_CONNECTION, on_connection, a,
				MHD_OPTION_ARRAY, tls_opts,
				MHD_OPTION_END);
	if (!a->d) {
		fprintf(stderr, "%s: the HTTP server did not start (libmicrohttpd)\n", prog);
		close(fd);
		goto out;
	}

	for (int i = optind; i < argc; i++)
		guest_add(a, argv[i], NULL, 0, false);
	for (size_t i = 0; i < conf.nr_guests; i++)
		guest_add(a, conf.guests[i].spec, conf.guests[i].name, 0, false);
	if (a->discover)
		rescan(a);

	double next_scan = exp_now() + a->x.cfg.discover_interval;
	for (;;) {
		double left = a->discover ? next_scan - exp_now() : 3600;
		if (left < 0)
			left = 0;
		struct timespec ts = { (time_t)left, (long)((left - (double)(time_t)left) * 1e9) };
		int sig = sigtimedwait(&sigs, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (a->discover && exp_now() >= next_scan) {
			rescan(a);
			next_scan = exp_now() + a->x.cfg.discover_interval;
		}
	}
	fprintf(stderr, "%s: stopping\n", prog);
	rc = EXIT_OK;
	MHD_stop_daemon(a->d);   /* no scrape runs after this; closes fd */
out:
	/* Stop the collectors; one stuck in a read is left behind after 10 s
	 * (the process exits anyway). */
	pthread_mutex_lock(&a->x.lock);
	size_t n = a->x.nr_guests;
	a->x.nr_guests = 0;
	pthread_mutex_unlock(&a->x.lock);
	for (size_t i = 0; i < n; i++)
		exp_guest_stop(a->x.guests[i]);
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += 10;
	bool stuck = false;
	pthread_mutex_lock(&a->x.lock);
	while (a->x.threads && !stuck)
		stuck = pthread_cond_timedwait(&a->x.idle, &a->x.lock, &dl) == ETIMEDOUT;
	pthread_mutex_unlock(&a->x.lock);
	if (stuck) {
		fprintf(stderr, "%s: %u collector(s) still reading after 10 s; exiting anyway\n",
			prog, a->x.threads);
		fflush(stderr);
		_exit(rc);
	}
	free(cert);
	free(key);
	free(a->landing);
	vms_webconfig_free(a->web);
	exp_conf_free(&conf);
	pthread_cond_destroy(&a->x.idle);
	pthread_mutex_destroy(&a->x.lock);
	free(a);
	return rc;
}
