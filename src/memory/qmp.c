// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * qmp:SOCKET — attach to a QEMU through its QMP socket.
 *
 * QMP serves one client at a time, so the connection is short: greeting,
 * qmp_capabilities, a few queries, close; only then is guest memory opened.
 *   query-memory-size-summary  guest RAM size
 *   query-memdev + qom-get     a shared memory-backend-file of that size:
 *                              its mem-path is opened as a raw RAM file
 *   SO_PEERCRED                else QEMU's pid: /proc/PID/mem (qemu.c)
 *   query-cpus-fast + human-monitor-command "info registers"
 *                              each vCPU's CR3 / GS / IDT / GDT; the text is
 *                              parsed defensively and discovery validates
 *                              CR3 against guest memory anyway.
 *
 * libvirt:NAME finds the domain's QEMU pid in libvirt's run directory
 * (the system daemon's, else this user's session daemon's).  libvirtd keeps
 * the domain's monitor socket connected itself, so that path reads through
 * /proc/PID/mem without registers.
 */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "memory/sources.h"

#define QMP_TIMEOUT_MS 10000
#define QMP_MAX_LINE (16u << 20)
#define QMP_MAX_CPUS 1024

struct qmp {
	const char *spec;
	int fd;
	char *buf;
	size_t len, cap;
	unsigned next_id;
};

static struct vms_error *qmp_readline(struct qmp *c, json_object **ret)
{
	for (;;) {
		char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			*nl = 0;
			json_object *o = json_tokener_parse(c->buf);
			size_t used = (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->len - used);
			c->len -= used;
			if (!o || !json_object_is_type(o, json_type_object)) {
				json_object_put(o);
				return vms_error_create(VMS_ERR_FORMAT,
					"%s: QMP sent something that is not a JSON object",
					c->spec);
			}
			*ret = o;
			return NULL;
		}
		if (c->len == c->cap) {
			if (c->cap >= QMP_MAX_LINE)
				return vms_error_create(VMS_ERR_FORMAT,
					"%s: QMP reply longer than %u bytes", c->spec,
					QMP_MAX_LINE);
			size_t n = c->cap ? 2 * c->cap : 65536;
			char *b = realloc(c->buf, n + 1);
			if (!b)
				return &vms_error_nomem;
			c->buf = b;
			c->cap = n;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int r = poll(&p, 1, QMP_TIMEOUT_MS);
		if (r == 0)
			return vms_error_create(VMS_ERR_IO,
				"%s: no answer from QMP within %d s (another client holds the monitor? QMP serves one at a time)",
				c->spec, QMP_TIMEOUT_MS / 1000);
		ssize_t n = r < 0 ? -1 : read(c->fd, c->buf + c->len, c->cap - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return vms_error_create(VMS_ERR_IO, "%s: QMP connection %s",
				c->spec, n ? strerror(errno) : "closed by QEMU");
		c->len += (size_t)n;
	}
}

/* Run @cmd with @args (a JSON object or NULL; consumed); *@ret is the
 * "return" value (caller puts the reply @reply). */
static struct vms_error *qmp_exec(struct qmp *c, const char *cmd,
				  json_object *args, json_object **reply,
				  json_object **ret)
{
	char id[32];
	snprintf(id, sizeof(id), "vms-%u", ++c->next_id);
	json_object *m = json_object_new_object();
	if (!m) {
		json_object_put(args);
		return &vms_error_nomem;
	}
	json_object_object_add(m, "execute", json_object_new_string(cmd));
	json_object_object_add(m, "id", json_object_new_string(id));
	if (args)
		json_object_object_add(m, "arguments", args);
	const char *s = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
	size_t sl = strlen(s);
	struct vms_error *err = NULL;
	size_t done = 0;
	while (done < sl) {
		ssize_t n = send(c->fd, s + done, sl - done, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = vms_error_create(VMS_ERR_IO, "%s: sending %s: %s",
					       c->spec, cmd, strerror(errno));
			break;
		}
		done += (size_t)n;
	}
	if (!err && send(c->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		err = vms_error_create(VMS_ERR_IO, "%s: sending %s: %s", c->spec,
				       cmd, strerror(errno));
	json_object_put(m);
	for (int skipped = 0; !err; skipped++) {
		json_object *o, *v;
		if ((err = qmp_readline(c, &o)))
			break;
		if (skipped > 10000) {
			json_object_put(o);
			err = vms_error_create(VMS_ERR_FORMAT,
				"%s: no reply to %s among QMP's messages", c->spec, cmd);
			break;
		}
		if (!json_object_object_get_ex(o, "id", &v) ||
		    !json_object_is_type(v, json_type_string) ||
		    strcmp(json_object_get_string(v), id)) {
			json_object_put(o);  /* an event */
			continue;
		}
		if (json_object_object_get_ex(o, "error", &v)) {
			json_object *d = NULL;
			json_object_object_get_ex(v, "desc", &d);
			err = vms_error_create(VMS_ERR_UNSUPPORTED, "%s: QMP %s failed: %.200s",
				c->spec, cmd, d ? json_object_get_string(d) : "?");
			json_object_put(o);
			break;
		}
		if (!json_object_object_get_ex(o, "return", &v)) {
			json_object_put(o);
			err = vms_error_create(VMS_ERR_FORMAT,
				"%s: QMP reply to %s has no \"return\"", c->spec, cmd);
			break;
		}
		*reply = o;
		*ret = v;
		break;
	}
	return err;
}

static struct vms_error *qmp_connect(struct qmp *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa.sun_path))
		return vms_error_create(VMS_ERR_INVALID, "%s: socket path too long",
					c->spec);
	strcpy(sa.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return vms_error_create(VMS_ERR_IO, "%s: socket: %s", c->spec,
					strerror(errno));
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return vms_error_create(errno == ENOENT ? VMS_ERR_NOT_FOUND : VMS_ERR_IO,
			"%s: cannot connect: %s", c->spec, strerror(errno));
	json_object *g, *v;
	struct vms_error *err = qmp_readline(c, &g);
	if (err)
		return err;
	bool ok = json_object_object_get_ex(g, "QMP", &v);
	json_object_put(g);
	if (!ok)
		return vms_error_create(VMS_ERR_FORMAT,
			"%s: not a QMP socket (no QMP greeting)", c->spec);
	json_object *reply, *ret;
	if ((err = qmp_exec(c, "qmp_capabilities", NULL, &reply, &ret)))
		return err;
	json_object_put(reply);
	return NULL;
}

static uint64_t jnum(json_object *o, const char *key)
{
	json_object *v;
	if (!o || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return 0;
	return (uint64_t)json_object_get_uint64(v);
}

/* "KEY=<hex>" at a word start in @text. */
static bool reg_hex(const char *text, const char *key, uint64_t *out)
{
	size_t kl = strlen(key);
	for (const char *p = text; (p = strstr(p, key)); p += kl) {
		if (p != text && !isspace((unsigned char)p[-1]))
			continue;
		const char *h = p + kl;
		while (*h == ' ')
			h++;
		uint64_t v = 0;
		int n = 0;
		while (isxdigit((unsigned char)h[n]) && n < 16) {
			int d = isdigit((unsigned char)h[n]) ? h[n] - '0'
							     : (tolower((unsigned char)h[n]) - 'a' + 10);
			v = v << 4 | (uint64_t)d;
			n++;
		}
		if (!n || isxdigit((unsigned char)h[n]))
			return false;
		*out = v;
		return true;
	}
	return false;
}

/* "GS =0000 ffff888... ffffffff 00c00000": the base (second field). */
static bool seg_base(const char *text, const char *key, uint64_t *base,
		     uint32_t *limit)
{
	size_t kl = strlen(key);
	for (const char *p = text; (p = strstr(p, key)); p += kl) {
		if (p != text && p[-1] != '\n')
			continue;
		unsigned long long a, b, l;
		if (!strncmp(key, "GDT", 3) || !strncmp(key, "IDT", 3)) {
			if (sscanf(p + kl, " %llx %llx", &b, &l) != 2)
				return false;
		} else if (sscanf(p + kl, "%llx %llx %llx", &a, &b, &l) != 3) {
			return false;
		}
		*base = b;
		if (limit)
			*limit = (uint32_t)l;
		return true;
	}
	return false;
}

static void parse_registers(const char *t, struct vms_cpu_state *cpu)
{
	reg_hex(t, "RIP=", &cpu->rip);
	reg_hex(t, "RSP=", &cpu->rsp);
	reg_hex(t, "CR0=", &cpu->cr0);
	reg_hex(t, "CR2=", &cpu->cr2);
	reg_hex(t, "CR3=", &cpu->cr3);
	reg_hex(t, "CR4=", &cpu->cr4);
	seg_base(t, "GS =", &cpu->gs_base, NULL);
	seg_base(t, "GDT=", &cpu->gdt_base, &cpu->gdt_limit);
	seg_base(t, "IDT=", &cpu->idt_base, &cpu->idt_limit);
}

static struct vms_error *get_cpus(struct qmp *c, struct vms_cpu_state **ret,
				  size_t *nr)
{
	json_object *reply, *list;
	struct vms_error *err = qmp_exec(c, "query-cpus-fast", NULL, &reply, &list);
	if (err)
		return err;
	size_t n = json_object_is_type(list, json_type_array)
			   ? json_object_array_length(list) : 0;
	if (n > QMP_MAX_CPUS)
		n = QMP_MAX_CPUS;
	struct vms_cpu_state *cpus = n ? calloc(n, sizeof(*cpus)) : NULL;
	size_t got = 0;
	for (size_t i = 0; i < n && cpus && !err; i++) {
		json_object *e = json_object_array_get_idx(list, i), *idx;
		if (!e || !json_object_object_get_ex(e, "cpu-index", &idx))
			continue;
		json_object *args = json_object_new_object(), *r2, *text;
		json_object_object_add(args, "command-line",
				       json_object_new_string("info registers"));
		json_object_object_add(args, "cpu-index",
				       json_object_new_int(json_object_get_int(idx)));
		err = qmp_exec(c, "human-monitor-command", args, &r2, &text);
		if (err)
			break;
		if (json_object_is_type(text, json_type_string)) {
			parse_registers(json_object_get_string(text), &cpus[got]);
			json_object *tid;
			if (json_object_object_get_ex(e, "thread-id", &tid))
				cpus[got].thread_id = json_object_get_int(tid);
			if (cpus[got].cr3)
				got++;
			else
				memset(&cpus[got], 0, sizeof(cpus[got]));
		}
		json_object_put(r2);
	}
	json_object_put(reply);
	if (err || !got) {
		free(cpus);
		cpus = NULL;
		got = 0;
	}
	*ret = cpus;
	*nr = got;
	return err;
}

/* A shared memory-backend-file of the guest's RAM size: its mem-path. */
static char *file_backend(struct qmp *c, uint64_t ram)
{
	json_object *reply, *list;
	struct vms_error *err = qmp_exec(c, "query-memdev", NULL, &reply, &list);
	if (err) {
		vms_error_free(err);
		return NULL;
	}
	char *path = NULL;
	size_t n = json_object_is_type(list, json_type_array)
			   ? json_object_array_length(list) : 0;
	for (size_t i = 0; i < n && i < 64 && !path; i++) {
		json_object *e = json_object_array_get_idx(list, i), *id, *share;
		if (!e || jnum(e, "size") != ram ||
		    !json_object_object_get_ex(e, "id", &id) ||
		    !json_object_object_get_ex(e, "share", &share) ||
		    !json_object_get_boolean(share))
			continue;
		char qom[256];
		snprintf(qom, sizeof(qom), "/objects/%s", json_object_get_string(id));
		json_object *args = json_object_new_object(), *r2, *mp;
		json_object_object_add(args, "path", json_object_new_string(qom));
		json_object_object_add(args, "property", json_object_new_string("mem-path"));
		err = qmp_exec(c, "qom-get", args, &r2, &mp);
		if (err) {
			vms_error_free(err);
			continue;
		}
		if (json_object_is_type(mp, json_type_string) &&
		    json_object_get_string(mp)[0] == '/')
			path = strdup(json_object_get_string(mp));
		json_object_put(r2);
	}
	json_object_put(reply);
	return path;
}

struct vms_error *vms_qmp_open(const char *spec, const char *path,
			       struct vms_source **ret)
{
	struct qmp c = { .spec = spec, .fd = -1 };
	struct vms_cpu_state *cpus = NULL;
	size_t nr_cpus = 0;
	char *file = NULL;
	uint64_t ram = 0;
	pid_t pid = 0;
	struct vms_error *err = qmp_connect(&c, path);
	if (!err) {
		struct ucred cr;
		socklen_t cl = sizeof(cr);
		if (getsockopt(c.fd, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0)
			pid = cr.pid;
		json_object *reply, *sum;
		if (!(err = qmp_exec(&c, "query-memory-size-summary", NULL, &reply, &sum))) {
			ram = jnum(sum, "base-memory");
			json_object_put(reply);
		}
	}
	if (!err)
		file = file_backend(&c, ram);
	if (!err)
		err = get_cpus(&c, &cpus, &nr_cpus);
	if (c.fd >= 0)
		close(c.fd);  /* free the monitor before reading memory */
	free(c.buf);
	if (err) {
		free(file);
		free(cpus);
		return err;
	}
	if (file) {
		err = vms_source_open_file(file, ret);
		free(file);
		if (!err) {
			(*ret)->cpus = cpus;
			(*ret)->nr_cpus = nr_cpus;
			return NULL;
		}
		vms_error_free(err);  /* unreadable file: try the process */
	}
	if (!pid) {
		free(cpus);
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"%s: RAM is not in a shared file and QEMU's pid is unknown (no SO_PEERCRED)",
			spec);
	}
	struct vms_qemu_hint hint = { ram, cpus, nr_cpus };
	return vms_qemu_open(spec, pid, &hint, ret);
}

/*
 * The pid file of libvirt domain @name: the system daemon's
 * (/run/libvirt/qemu/NAME.pid), else the session daemon's of this user
 * ($XDG_RUNTIME_DIR/libvirt/qemu/run/NAME.pid, or under
 * ${XDG_CACHE_HOME:-~/.cache}/libvirt when XDG_RUNTIME_DIR is unset, as
 * libvirt's virGetUserRuntimeDirectory() does).  Fills @tried with the
 * directories looked in, for the error.
 */
static FILE *libvirt_pidfile(const char *name, char *path, size_t pathsz,
			     char *tried, size_t triedsz)
{
	char dirs[3][256];
	size_t nd = 0;
	snprintf(dirs[nd++], sizeof(dirs[0]), "/run/libvirt/qemu");
	snprintf(dirs[nd++], sizeof(dirs[0]), "/var/run/libvirt/qemu");
	const char *rt = getenv("XDG_RUNTIME_DIR"), *cache = getenv("XDG_CACHE_HOME"),
		   *home = getenv("HOME");
	if (rt && rt[0] == '/')
		snprintf(dirs[nd++], sizeof(dirs[0]), "%.200s/libvirt/qemu/run", rt);
	else if (cache && cache[0] == '/')
		snprintf(dirs[nd++], sizeof(dirs[0]), "%.200s/libvirt/qemu/run", cache);
	else if (home && home[0] == '/')
		snprintf(dirs[nd++], sizeof(dirs[0]), "%.200s/.cache/libvirt/qemu/run", home);
	size_t tl = 0;
	tried[0] = 0;
	for (size_t i = 0; i < nd; i++) {
		snprintf(path, pathsz, "%s/%s.pid", dirs[i], name);
		FILE *f = fopen(path, "re");
		if (f)
			return f;
		if (i != 1 && tl < triedsz) /* /var/run is /run */
			tl += (size_t)snprintf(tried + tl, triedsz - tl, "%s%s",
					       tl ? " or " : "", dirs[i]);
	}
	return NULL;
}

struct vms_error *vms_libvirt_open(const char *spec, const char *name,
				   struct vms_source **ret)
{
	if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..") ||
	    strlen(name) > 200)
		return vms_error_create(VMS_ERR_INVALID, "%s: bad domain name", spec);
	char path[512], tried[700];
	FILE *f = libvirt_pidfile(name, path, sizeof(path), tried, sizeof(tried));
	if (!f)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"%s: no running libvirt domain \"%s\" (no %s.pid in %s)",
			spec, name, name, tried);
	long pid = 0;
	int n = fscanf(f, "%ld", &pid);
	fclose(f);
	if (n != 1 || pid <= 0 || pid > 0x3fffffff)
		return vms_error_create(VMS_ERR_FORMAT, "%s: %s holds no pid", spec, path);
	return vms_qemu_open(spec, (pid_t)pid, NULL, ret);
}
