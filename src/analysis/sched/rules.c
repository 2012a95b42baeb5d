// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The rules file of vmsight sched: policy rules for many guests (YAML).
 *
 *   defaults:                  # every guest, the command line's included
 *     boost: ["make", "cc1*"]
 *     boost_cgroup: ["/batch/..."]
 *     demote: ["spin*"]
 *     keep_idle: false
 *     per_vm: false
 *     hysteresis: 3
 *   guests:
 *     - guest: qmp:/run/vm1.qmp
 *       boost: ["postgres*"]   # a list given here replaces the default one
 *     - guest: libvirt:web
 *       per_vm: true
 *
 * The file's default globs add to the command line's; a guest's own keys
 * replace the defaults' for that guest.  Every string and list is capped,
 * and an error names the file and line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include <vmsight/steer.h>

#include "util/readfile.h"

#define MAX_FILE (1u << 20)
#define MAX_GUESTS 4096
#define MAX_GLOBS 256
#define MAX_GLOB_LEN 255
#define MAX_SPEC_LEN 4095

enum { LIST_BOOST, LIST_BOOST_CG, LIST_DEMOTE, NR_LISTS };

struct rules_set {
	char **list[NR_LISTS];
	size_t nr[NR_LISTS];
	bool has_list[NR_LISTS];
	int keep_idle, per_vm;     /* -1: not given */
	unsigned hysteresis;       /* 0: not given */
	struct vms_policy_rules view;   /* resolved against the defaults */
};

struct guest_rules {
	char *spec;
	struct rules_set set;
};

struct vms_sched_rules {
	struct rules_set defaults;
	struct guest_rules *g;
	size_t n;
};

static const char *const list_keys[NR_LISTS] = { "boost", "boost_cgroup", "demote" };

struct ctx {
	yaml_document_t *doc;
	const char *name;
};

static struct vms_error *cerr(const struct ctx *x, const yaml_node_t *n, const char *what,
			      const char *detail)
{
	return vms_error_create(VMS_ERR_FORMAT, "%s:%zu: %s%s%s", x->name,
				n ? (size_t)n->start_mark.line + 1 : 0, what, detail ? " " : "",
				detail ? detail : "");
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void set_free(struct rules_set *s)
{
	for (int l = 0; l < NR_LISTS; l++) {
		for (size_t i = 0; i < s->nr[l]; i++)
			free(s->list[l][i]);
		free(s->list[l]);
	}
}

static struct vms_error *add_glob(const struct ctx *x, const yaml_node_t *n, struct rules_set *s,
				  int l, const char *glob)
{
	if (s->nr[l] >= MAX_GLOBS)
		return cerr(x, n, "too many globs (at most 256) in", list_keys[l]);
	if (!*glob || strlen(glob) > MAX_GLOB_LEN)
		return cerr(x, n, "a glob must be 1 to 255 characters, in", list_keys[l]);
	char **v = realloc(s->list[l], (s->nr[l] + 1) * sizeof(*v));
	if (!v)
		return &vms_error_nomem;
	s->list[l] = v;
	if (!(v[s->nr[l]] = strdup(glob)))
		return &vms_error_nomem;
	s->nr[l]++;
	return NULL;
}

static struct vms_error *parse_bool(const struct ctx *x, const yaml_node_t *n, const char *key,
				    int *out)
{
	const char *s = scalar(n);
	if (s && (!strcmp(s, "true") || !strcmp(s, "yes")))
		*out = 1;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "no")))
		*out = 0;
	else
		return cerr(x, n, "true or false wanted for", key);
	return NULL;
}

/* The keys of a defaults or guest mapping (@is_guest: "guest" allowed). */
static struct vms_error *parse_set(const struct ctx *x, yaml_node_t *m, struct rules_set *s,
				   bool is_guest, char **spec)
{
	if (m->type != YAML_MAPPING_NODE)
		return cerr(x, m, is_guest ? "a guest entry must be a mapping" :
			    "defaults must be a mapping", NULL);
	s->keep_idle = s->per_vm = -1;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *key = scalar(k);
		struct vms_error *err = NULL;
		int l = -1;
		for (int i = 0; key && i < NR_LISTS; i++)
			if (!strcmp(key, list_keys[i]))
				l = i;
		if (!key || !v) {
			err = cerr(x, k, "a key must be a string", NULL);
		} else if (l >= 0) {
			if (s->has_list[l])
				return cerr(x, k, "key given twice:", key);
			s->has_list[l] = true;
			if (scalar(v)) {
				err = add_glob(x, v, s, l, scalar(v));
			} else if (v->type == YAML_SEQUENCE_NODE) {
				for (yaml_node_item_t *it = v->data.sequence.items.start;
				     !err && it < v->data.sequence.items.top; it++) {
					yaml_node_t *g = yaml_document_get_node(x->doc, *it);
					err = scalar(g) ? add_glob(x, g, s, l, scalar(g)) :
					      cerr(x, g, "a glob must be a string, in", key);
				}
			} else {
				err = cerr(x, v, "a glob or a list of globs wanted for", key);
			}
		} else if (!strcmp(key, "keep_idle")) {
			err = parse_bool(x, v, key, &s->keep_idle);
		} else if (!strcmp(key, "per_vm")) {
			err = parse_bool(x, v, key, &s->per_vm);
		} else if (!strcmp(key, "hysteresis")) {
			const char *t = scalar(v);
			char *end;
			errno = 0;
			unsigned long h = t ? strtoul(t, &end, 10) : 0;
			if (!t || *end || errno || h < 1 || h > 1000 || *t == '-')
				err = cerr(x, v, "hysteresis wants 1 to 1000 samples", NULL);
			s->hysteresis = (unsigned)h;
		} else if (is_guest && !strcmp(key, "guest")) {
			const char *t = scalar(v);
			if (!t || !*t || strlen(t) > MAX_SPEC_LEN)
				err = cerr(x, v, "guest wants a guest spec (qmp:SOCKET, libvirt:NAME, ...)",
					   NULL);
			else if (*spec)
				err = cerr(x, k, "key given twice:", key);
			else if (!(*spec = strdup(t)))
				err = &vms_error_nomem;
		} else {
			err = cerr(x, k, "unknown key:", key);
		}
		if (err)
			return err;
	}
	if (is_guest && !*spec)
		return cerr(x, m, "a guest entry needs a 'guest' key", NULL);
	return NULL;
}

/* @s's view, each unset key taken from @d (or, for the defaults, from the
 * command line's @base, whose globs the file's add to). */
static void resolve(struct rules_set *s, const struct rules_set *d)
{
	struct vms_policy_rules *r = &s->view;
	const struct rules_set *src[NR_LISTS];
	for (int l = 0; l < NR_LISTS; l++)
		src[l] = s->has_list[l] || !d ? s : d;
	r->boost = (const char *const *)src[LIST_BOOST]->list[LIST_BOOST];
	r->nr_boost = src[LIST_BOOST]->nr[LIST_BOOST];
	r->boost_cgroup = (const char *const *)src[LIST_BOOST_CG]->list[LIST_BOOST_CG];
	r->nr_boost_cgroup = src[LIST_BOOST_CG]->nr[LIST_BOOST_CG];
	r->demote = (const char *const *)src[LIST_DEMOTE]->list[LIST_DEMOTE];
	r->nr_demote = src[LIST_DEMOTE]->nr[LIST_DEMOTE];
	r->keep_idle = s->keep_idle >= 0 ? s->keep_idle : d ? d->view.keep_idle : false;
	r->per_vm = s->per_vm >= 0 ? s->per_vm : d ? d->view.per_vm : false;
	r->hysteresis = s->hysteresis ? s->hysteresis : d ? d->view.hysteresis : 3;
}

/* The command line's rules first, then the file's defaults added. */
static struct vms_error *seed_defaults(struct rules_set *s, const struct vms_policy_rules *base)
{
	const struct ctx x = { .name = "command line" };
	if (!base)
		return NULL;
	const char *const *lists[NR_LISTS] = { base->boost, base->boost_cgroup, base->demote };
	size_t nrs[NR_LISTS] = { base->nr_boost, base->nr_boost_cgroup, base->nr_demote };
	for (int l = 0; l < NR_LISTS; l++)
		for (size_t i = 0; i < nrs[l]; i++) {
			struct vms_error *err = add_glob(&x, NULL, s, l, lists[l][i]);
			if (err)
				return err;
		}
	return NULL;
}

static struct vms_error *parse_root(struct ctx *x, yaml_node_t *root, struct vms_sched_rules *r,
				    const struct vms_policy_rules *base)
{
	struct vms_error *err;
	struct rules_set file = { .keep_idle = -1, .per_vm = -1 };
	bool have_defaults = false;
	if (root->type != YAML_MAPPING_NODE)
		return cerr(x, root, "the rules file must be a mapping (defaults:, guests:)", NULL);
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(x->doc, p->key);
		yaml_node_t *v = yaml_document_get_node(x->doc, p->value);
		const char *key = scalar(k);
		if (key && !strcmp(key, "defaults") && v) {
			if (have_defaults) {
				err = cerr(x, k, "key given twice:", key);
				goto out;
			}
			have_defaults = true;
			if ((err = parse_set(x, v, &file, false, NULL)))
				goto out;
		} else if (key && !strcmp(key, "guests") && v) {
			if (v->type != YAML_SEQUENCE_NODE || r->n) {
				err = cerr(x, v, "guests must be one list of guest entries", NULL);
				goto out;
			}
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top; it++) {
				yaml_node_t *m = yaml_document_get_node(x->doc, *it);
				if (r->n >= MAX_GUESTS) {
					err = cerr(x, m, "too many guests (at most 4096)", NULL);
					goto out;
				}
				struct guest_rules *g = realloc(r->g, (r->n + 1) * sizeof(*g));
				if (!g) {
					err = &vms_error_nomem;
					goto out;
				}
				r->g = g;
				memset(&g[r->n], 0, sizeof(g[r->n]));
				r->n++;
				if ((err = m ? parse_set(x, m, &g[r->n - 1].set, true, &g[r->n - 1].spec)
					     : cerr(x, v, "an empty guest entry", NULL)))
					goto out;
				for (size_t i = 0; i + 1 < r->n; i++)
					if (!strcmp(r->g[i].spec, g[r->n - 1].spec)) {
						err = cerr(x, m, "guest listed twice:", g[r->n - 1].spec);
						goto out;
					}
			}
		} else {
			err = cerr(x, k, "unknown key:", key ? key : "(not a string)");
			goto out;
		}
	}
	/* defaults = the command line's globs + the file's; its scalars unless
	 * the command line gave them. */
	if ((err = seed_defaults(&r->defaults, base)))
		goto out;
	for (int l = 0; l < NR_LISTS; l++)
		for (size_t i = 0; i < file.nr[l]; i++)
			if ((err = add_glob(x, NULL, &r->defaults, l, file.list[l][i])))
				goto out;
	r->defaults.keep_idle = base && base->keep_idle ? 1 : file.keep_idle;
	r->defaults.per_vm = base && base->per_vm ? 1 : file.per_vm;
	r->defaults.hysteresis = base && base->hysteresis ? base->hysteresis : file.hysteresis;
	resolve(&r->defaults, NULL);
	for (size_t i = 0; i < r->n; i++)
		resolve(&r->g[i].set, &r->defaults);
out:
	set_free(&file);
	return err;
}

struct vms_error *vms_sched_rules_parse(const char *text, size_t len, const char *name,
					const struct vms_policy_rules *base,
					struct vms_sched_rules **ret)
{
	struct vms_sched_rules *r = calloc(1, sizeof(*r));
	if (!r)
		return &vms_error_nomem;
	struct ctx x = { .name = name ? name : "rules" };
	struct vms_error *err = NULL;
	if (len > MAX_FILE) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s: larger than 1 MiB", x.name);
		goto fail;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		err = &vms_error_nomem;
		goto fail;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s:%zu:%zu: %s %s", x.name,
				       (size_t)parser.problem_mark.line + 1,
				       (size_t)parser.problem_mark.column + 1,
				       parser.problem ? parser.problem : "YAML error",
				       parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		goto fail;
	}
	x.doc = &doc;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !(root->type == YAML_SCALAR_NODE && !*scalar(root))) {
		err = parse_root(&x, root, r, base);
	} else if (!(err = seed_defaults(&r->defaults, base))) {
		/* an empty file: the command line's rules alone */
		r->defaults.keep_idle = base && base->keep_idle;
		r->defaults.per_vm = base && base->per_vm;
		r->defaults.hysteresis = base ? base->hysteresis : 0;
		resolve(&r->defaults, NULL);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (err)
		goto fail;
	*ret = r;
	return NULL;
fail:
	vms_sched_rules_free(r);
	return err;
}

struct vms_error *vms_sched_rules_load(const char *path, const struct vms_policy_rules *base,
				       struct vms_sched_rules **ret)
{
	size_t len = 0;
	char *text = vms_read_file(path, MAX_FILE + 1, &len);
	if (!text)
		return vms_error_create(errno == ENOENT ? VMS_ERR_NOT_FOUND : VMS_ERR_IO,
					"rules file %s: %s", path, strerror(errno));
	struct vms_error *err = vms_sched_rules_parse(text, len, path, base, ret);
	free(text);
	return err;
}

size_t vms_sched_rules_nr_guests(const struct vms_sched_rules *r)
{
	return r->n;
}

const char *vms_sched_rules_guest(const struct vms_sched_rules *r, size_t i)
{
	return i < r->n ? r->g[i].spec : NULL;
}

const struct vms_policy_rules *vms_sched_rules_for(const struct vms_sched_rules *r,
						   const char *spec)
{
	for (size_t i = 0; spec && i < r->n; i++)
		if (!strcmp(r->g[i].spec, spec))
			return &r->g[i].set.view;
	return &r->defaults.view;
}

void vms_sched_rules_free(struct vms_sched_rules *r)
{
	if (!r)
		return;
	set_free(&r->defaults);
	for (size_t i = 0; i < r->n; i++) {
		set_free(&r->g[i].set);
		free(r->g[i].spec);
	}
	free(r->g);
	free(r);
}
