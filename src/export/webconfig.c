// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The exporter-toolkit web configuration (TLS files, basic-auth users with
 * bcrypt hashes), read with libyaml's document loader; passwords checked
 * with libxcrypt.  See include/vmsight/webconfig.h for what is supported.
 */
#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <yaml.h>

#include <vmsight/webconfig.h>

#define MAX_FILE (1u << 20)
#define MAX_USERS 1024
#define CACHE_SLOTS 16

struct cache_slot {
	char *user;
	char digest[CRYPT_OUTPUT_SIZE];
};

struct vms_webconfig_cache {
	pthread_mutex_t lock;
	char setting[64];            /* $5$rounds=1000$<random salt>$ */
	struct cache_slot slot[CACHE_SLOTS];
	unsigned next;
};

/* A valid bcrypt hash of a random password: unknown users are checked
 * against it, so that they cost the same as known ones. */
static const char dummy_hash[] = "$2b$10$5YJL0inTF6wE5U2JYjDFPeCvikrk6pgxmYkrmJY2OoBQ9bYtGx.7O";

struct ctx {
	yaml_document_t *doc;
	const char *path;
	char dir[4096];
	struct vms_webconfig *c;
};

static struct vms_error *cerr(const struct ctx *x, const yaml_node_t *n, const char *fmt,
			      const char *what)
{
	return vms_error_create(VMS_ERR_FORMAT, "%s:%zu: %s%s%s", x->path ? x->path : "web config",
				n ? (size_t)n->start_mark.line + 1 : 0, fmt, what ? " " : "",
				what ? what : "");
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_null(const yaml_node_t *n)
{
	const char *s = scalar(n);
	return !n || (s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
		      (!*s || !strcmp(s, "~") || !strcmp(s, "null")));
}

static char *path_join(const struct ctx *x, const char *p)
{
	size_t n = strlen(x->dir) + strlen(p) + 2;
	char *s = malloc(n);
	if (!s)
		return NULL;
	if (p[0] == '/' || !x->dir[0])
		snprintf(s, n, "%s", p);
	else
		snprintf(s, n, "%s/%s", x->dir, p);
	return s;
}

static struct vms_error *tls_section(struct ctx *x, yaml_node_t *m)
{
	if (is_null(m))
		return NULL;
	if (m->type != YAML_MAPPING_NODE)
		return cerr(x, m, "tls_server_config must be a mapping", NULL);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *key = scalar(k), *val = scalar(v);
		if (!key)
			return cerr(x, k, "a key must be a string", NULL);
		if (!strcmp(key, "cert_file") || !strcmp(key, "key_file")) {
			if (!val || !*val)
				return cerr(x, v, "wants a file name:", key);
			char **dst = key[0] == 'c' ? &x->c->cert_file : &x->c->key_file;
			if (*dst)
				return cerr(x, k, "given twice:", key);
			if (!(*dst = path_join(x, val)))
				return &vms_error_nomem;
		} else if (!strcmp(key, "min_version")) {
			if (!val || (strcmp(val, "TLS12") && strcmp(val, "TLS13")))
				return cerr(x, v, "min_version must be TLS12 or TLS13", NULL);
			x->c->tls13_only = !strcmp(val, "TLS13");
		} else {
			return cerr(x, k, "tls_server_config key not supported by vmsight:", key);
		}
	}
	if (!x->c->cert_file != !x->c->key_file)
		return cerr(x, m, "tls_server_config needs both cert_file and key_file", NULL);
	return NULL;
}

static bool bcrypt_hash(const char *h)
{
	/* $2a$, $2b$, $2y$, two-digit cost, 53 characters of salt + hash. */
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' || !strchr("aby", h[2]) ||
	    h[3] != '$' || h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9' || h[6] != '$')
		return false;
	for (size_t i = 7; i < 60; i++)
		if (!strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", h[i]))
			return false;
	return true;
}

static struct vms_error *users_section(struct ctx *x, yaml_node_t *m)
{
	if (is_null(m))
		return NULL;
	if (m->type != YAML_MAPPING_NODE)
		return cerr(x, m, "basic_auth_users must be a mapping of user: bcrypt-hash", NULL);
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	if (n > MAX_USERS)
		return cerr(x, m, "too many basic_auth_users", NULL);
	x->c->users = calloc(n ? n : 1, sizeof(*x->c->users));
	if (!x->c->users)
		return &vms_error_nomem;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *user = scalar(k), *hash = scalar(v);
		if (!user || !*user || strchr(user, ':'))
			return cerr(x, k, "a user name must be a non-empty string without ':'", NULL);
		for (size_t i = 0; i < x->c->nr_users; i++)
			if (!strcmp(x->c->users[i].name, user))
				return cerr(x, k, "user given twice:", user);
		if (!hash || !bcrypt_hash(hash))
			return cerr(x, v, "the password must be a bcrypt hash ($2y$...) for user", user);
		struct vms_webconfig_user *u = &x->c->users[x->c->nr_users++];
		u->name = strdup(user);
		u->hash = strdup(hash);
		if (!u->name || !u->hash)
			return &vms_error_nomem;
	}
	return NULL;
}

static struct vms_error *cache_new(struct vms_webconfig *c)
{
	struct vms_webconfig_cache *k = calloc(1, sizeof(*k));
	if (!k)
		return &vms_error_nomem;
	unsigned char r[16];
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		free(k);
		return vms_error_create(VMS_ERR_IO, "getrandom: %s", strerror(errno));
	}
	static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	char salt[17];
	for (size_t i = 0; i < 16; i++)
		salt[i] = b64[r[i] & 63];
	salt[16] = '\0';
	snprintf(k->setting, sizeof(k->setting), "$5$rounds=1000$%s$", salt);
	pthread_mutex_init(&k->lock, NULL);
	c->cache = k;
	return NULL;
}

struct vms_error *vms_webconfig_parse(const char *text, size_t len, const char *path,
				      struct vms_webconfig **out)
{
	*out = NULL;
	struct vms_webconfig *c = calloc(1, sizeof(*c));
	if (!c)
		return &vms_error_nomem;
	struct ctx x = { .path = path, .c = c };
	if (path) {
		const char *slash = strrchr(path, '/');
		if (slash)
			snprintf(x.dir, sizeof(x.dir), "%.*s", (int)(slash - path), path);
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	struct vms_error *err = NULL;
	if (!yaml_parser_initialize(&parser)) {
		vms_webconfig_free(c);
		return &vms_error_nomem;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s:%zu:%zu: %s %s",
				       path ? path : "web config",
				       (size_t)parser.problem_mark.line + 1,
				       (size_t)parser.problem_mark.column + 1,
				       parser.problem ? parser.problem : "YAML error",
				       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		vms_webconfig_free(c);
		return err;
	}
	x.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !is_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			err = cerr(&x, root, "the web config must be a mapping", NULL);
		} else {
			for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
			     !err && p < root->data.mapping.pairs.top; p++) {
				yaml_node_t *k = yaml_document_get_node(&doc, p->key);
				yaml_node_t *v = yaml_document_get_node(&doc, p->value);
				const char *key = scalar(k);
				if (key && !strcmp(key, "tls_server_config"))
					err = tls_section(&x, v);
				else if (key && !strcmp(key, "basic_auth_users"))
					err = users_section(&x, v);
				else
					err = cerr(&x, k, "key not supported by vmsight:",
						   key ? key : "(not a string)");
			}
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (!err)
		err = cache_new(c);
	if (err) {
		vms_webconfig_free(c);
		return err;
	}
	*out = c;
	return NULL;
}

struct vms_error *vms_webconfig_load(const char *path, struct vms_webconfig **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return vms_error_create(VMS_ERR_IO, "%s: %s", path, strerror(errno));
	char *buf = malloc(MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return &vms_error_nomem;
	}
	size_t n = fread(buf, 1, MAX_FILE + 1, f);
	bool bad = ferror(f);
	fclose(f);
	struct vms_error *err;
	if (bad)
		err = vms_error_create(VMS_ERR_IO, "%s: read error", path);
	else if (n > MAX_FILE)
		err = vms_error_create(VMS_ERR_FORMAT, "%s: larger than 1 MiB", path);
	else
		err = vms_webconfig_parse(buf, n, path, out);
	free(buf);
	return err;
}

void vms_webconfig_free(struct vms_webconfig *c)
{
	if (!c)
		return;
	free(c->cert_file);
	free(c->key_file);
	for (size_t i = 0; i < c->nr_users; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	free(c->users);
	if (c->cache) {
		for (size_t i = 0; i < CACHE_SLOTS; i++)
			free(c->cache->slot[i].user);
		pthread_mutex_destroy(&c->cache->lock);
		free(c->cache);
	}
	free(c);
}

/* Equal strings, in time that depends only on their lengths. */
static bool same(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	unsigned char d = na != nb;
	for (size_t i = 0; i < na && i < nb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return !d;
}

bool vms_webconfig_check_user(struct vms_webconfig *c, const char *user, const char *pass)
{
	if (!c || !user || !pass)
		return false;
	const struct vms_webconfig_user *u = NULL;
	for (size_t i = 0; i < c->nr_users; i++)
		if (!strcmp(c->users[i].name, user))
			u = &c->users[i];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd)
		return false;
	/* The fast digest first: a remembered success. */
	char digest[CRYPT_OUTPUT_SIZE] = "";
	const char *d = crypt_rn(pass, c->cache->setting, cd, (int)sizeof(*cd));
	if (d && d[0] != '*')
		snprintf(digest, sizeof(digest), "%s", d);
	bool ok = false;
	if (u && digest[0]) {
		pthread_mutex_lock(&c->cache->lock);
		for (size_t i = 0; i < CACHE_SLOTS && !ok; i++)
			ok = c->cache->slot[i].user && !strcmp(c->cache->slot[i].user, user) &&
			     same(c->cache->slot[i].digest, digest);
		pthread_mutex_unlock(&c->cache->lock);
		if (ok) {
			free(cd);
			return true;
		}
	}
	const char *h = crypt_rn(pass, u ? u->hash : dummy_hash, cd, (int)sizeof(*cd));
	ok = u && h && h[0] != '*' && same(h, u->hash);
	free(cd);
	if (ok && digest[0]) {
		pthread_mutex_lock(&c->cache->lock);
		struct cache_slot *s = &c->cache->slot[c->cache->next++ % CACHE_SLOTS];
		free(s->user);
		s->user = strdup(user);
		snprintf(s->digest, sizeof(s->digest), "%s", digest);
		pthread_mutex_unlock(&c->cache->lock);
	}
	return ok;
}
