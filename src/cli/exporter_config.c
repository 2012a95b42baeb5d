// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * vmsight exporter --config FILE: one directive per line, '#' starts a
 * comment, words are separated by blanks, a word may be "double quoted"
 * (with \" and \\ inside), also after "name=":
 *
 *     guest SPEC [name=NAME]     a guest to watch (any vmsight source spec)
 *     discover [on|off]          every QEMU on this host, as --discover
 *     collect-interval SECS      as --collect.interval
 *     check-interval SECS        as --check.interval (0: no rootkit checks)
 *     discover-interval SECS     as --discover.interval
 *     scrape-timeout SECS        as --scrape.timeout
 *     top N                      as --collect.top
 *
 * Options given on the command line win over the file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"

#define MAX_WORDS 8

/* Split @line into words; false (with @why) on a quoting error. */
static bool split(char *line, char **w, size_t *n, const char **why)
{
	*n = 0;
	char *p = line, *o = line;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p || *p == '#')
			return true;
		if (*n == MAX_WORDS) {
			*why = "too many words";
			return false;
		}
		w[(*n)++] = o;
		bool quoted = false;
		for (; *p; p++) {
			if (*p == '"') {
				quoted = !quoted;
				continue;
			}
			if (!quoted && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '#'))
				break;
			if (quoted && *p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			*o++ = *p;
		}
		if (quoted) {
			*why = "unterminated quote";
			return false;
		}
		bool end = !*p || *p == '#';
		*o++ = '\0';
		if (end)
			return true;
		p++;
	}
}

static bool seconds(const char *s, double lo, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= lo && v <= 86400))
		return false;
	*out = v;
	return true;
}

bool exp_conf_load(const char *prog, const char *path, struct exp_conf *c)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
		return false;
	}
	char line[8192];
	size_t lineno = 0;
	bool ok = true;
	while (ok && fgets(line, sizeof(line), f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			fprintf(stderr, "%s: %s:%zu: line too long\n", prog, path, lineno);
			ok = false;
			break;
		}
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char *w[MAX_WORDS];
		size_t n;
		const char *why = NULL;
		if (!split(line, w, &n, &why)) {
			fprintf(stderr, "%s: %s:%zu: %s\n", prog, path, lineno, why);
			ok = false;
			break;
		}
		if (!n)
			continue;
		double v;
		if (!strcmp(w[0], "guest")) {
			const char *name = NULL;
			if (n < 2 || n > 3 || (n == 3 && strncmp(w[2], "name=", 5))) {
				why = "wants: guest SPEC [name=NAME]";
			} else if (c->nr_guests >= EXP_MAX_GUESTS) {
				why = "too many guests";
			} else {
				name = n == 3 ? w[2] + 5 : NULL;
				struct exp_conf_guest *ng = realloc(c->guests,
					(c->nr_guests + 1) * sizeof(*ng));
				if (!ng) {
					why = "out of memory";
				} else {
					c->guests = ng;
					ng[c->nr_guests].spec = strdup(w[1]);
					ng[c->nr_guests].name = name && *name ? strdup(name) : NULL;
					if (!ng[c->nr_guests].spec || (name && *name && !ng[c->nr_guests].name))
						why = "out of memory";
					c->nr_guests++;
				}
			}
		} else if (!strcmp(w[0], "discover")) {
			if (n == 1 || (n == 2 && !strcmp(w[1], "on")))
				c->discover = 1;
			else if (n == 2 && !strcmp(w[1], "off"))
				c->discover = 0;
			else
				why = "wants: discover [on|off]";
		} else if (!strcmp(w[0], "collect-interval")) {
			if (n != 2 || !seconds(w[1], 0.2, &v))
				why = "wants seconds from 0.2 to 86400";
			else
				c->collect_interval = v;
		} else if (!strcmp(w[0], "check-interval")) {
			if (n != 2 || !seconds(w[1], 0, &v))
				why = "wants seconds from 0 (never) to 86400";
			else
				c->check_interval = v;
		} else if (!strcmp(w[0], "discover-interval")) {
			if (n != 2 || !seconds(w[1], 1, &v))
				why = "wants seconds from 1 to 86400";
			else
				c->discover_interval = v;
		} else if (!strcmp(w[0], "scrape-timeout")) {
			if (n != 2 || !seconds(w[1], 0.1, &v))
				why = "wants seconds from 0.1 to 86400";
			else
				c->scrape_timeout = v;
		} else if (!strcmp(w[0], "top")) {
			char *end;
			long t = n == 2 ? strtol(w[1], &end, 10) : -1;
			if (n != 2 || *end || t < 0 || t > EXP_MAX_TOP)
				why = "wants a count from 0 to 20";
			else
				c->top = t;
		} else {
			why = "unknown directive (guest, discover, collect-interval, check-interval, "
			      "discover-interval, scrape-timeout, top)";
		}
		if (why) {
			fprintf(stderr, "%s: %s:%zu: %s: %s\n", prog, path, lineno, w[0], why);
			ok = false;
		}
	}
	if (ok && ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, path);
		ok = false;
	}
	fclose(f);
	return ok;
}

void exp_conf_free(struct exp_conf *c)
{
	for (size_t i = 0; i < c->nr_guests; i++) {
		free(c->guests[i].spec);
		free(c->guests[i].name);
	}
	free(c->guests);
	c->guests = NULL;
	c->nr_guests = 0;
}
