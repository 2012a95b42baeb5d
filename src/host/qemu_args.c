// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * QEMU's command line, as /proc/PID/cmdline shows it: the guest's -name,
 * the shared memory-backend-file that holds its RAM, and a QMP socket it
 * listens on.
 *
 * Option values use QEMU's QemuOpts syntax (util/qemu-option.c):
 * "a=b,c=d", where ",," is a comma inside a value, a bare first word is the
 * option's implied key (-name NAME is guest=NAME, -object TYPE is
 * qom-type=TYPE, -chardev BACKEND is backend=BACKEND), a bare later word is
 * a flag ("server" is server=on, "nowait" wait=off), and for repeated keys
 * the last one counts.  -object also takes JSON, which libvirt passes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "host/host_priv.h"

#define ID_MAX 256   /* object / chardev ids we compare */

/* ---- argv ---------------------------------------------------------------- */

/* QEMU options that take an argument (qemu-options.hx, HAS_ARG): the word
 * after them is their value, never an option.  An option not listed here
 * takes none, so a flag such as -nographic does not swallow the next
 * option. */
static const char *const arg_opts[] = {
	"name", "machine", "M", "object", "numa", "qmp", "qmp-pretty", "mon",
	"chardev", "monitor", "device", "m", "smp", "cpu", "accel", "append",
	"kernel", "initrd", "dtb", "drive", "blockdev", "netdev", "net", "nic",
	"serial", "parallel", "debugcon", "global", "set", "fw_cfg", "smbios",
	"boot", "bios", "L", "D", "d", "display", "vga", "vnc", "spice", "k",
	"pidfile", "incoming", "uuid", "rtc", "sandbox", "msg", "overcommit",
	"trace", "loadvm", "run-with", "runas", "chroot", "fsdev", "virtfs",
	"audiodev", "audio", "soundhw", "usbdevice", "plugin", "hda", "hdb",
	"hdc", "hdd", "cdrom", "fda", "fdb", "mtdblock", "sd", "pflash",
	"add-fd", "action", "icount", "watchdog-action", "semihosting-config",
	"tpmdev", "iscsi", "option-rom", "mem-path", "gdb", "acpitable",
	"compat", "readconfig", "writeconfig", "prom-env", "xen-domid", "g",
	"tb-size", "rotate", "echr",
};

static bool takes_arg(const char *name)
{
	for (size_t i = 0; i < sizeof(arg_opts) / sizeof(arg_opts[0]); i++)
		if (!strcmp(name, arg_opts[i]))
			return true;
	return false;
}

struct argv_iter {
	const char *cmd;
	size_t len, pos;
	unsigned n;
};

static const char *next_arg(struct argv_iter *it)
{
	if (it->pos >= it->len || it->n >= HOST_MAX_ARGS)
		return NULL;
	const char *a = it->cmd + it->pos;
	it->pos += strnlen(a, it->len - it->pos) + 1;
	it->n++;
	return a;
}

/* The next option (its name without the leading "-" or "--") and its value
 * (NULL for an option that takes none or a missing value); false at the
 * end.  argv[0] is skipped by the caller's iterator start. */
static bool next_opt(struct argv_iter *it, const char **name, const char **val)
{
	for (const char *a; (a = next_arg(it));) {
		if (a[0] != '-' || !a[1])
			continue;  /* a value of an option we do not know */
		a += a[1] == '-' ? 2 : 1;
		*name = a;
		*val = takes_arg(a) ? next_arg(it) : NULL;
		return true;
	}
	return false;
}

static void argv_begin(struct argv_iter *it, const char *cmd, size_t len)
{
	*it = (struct argv_iter){ cmd, len, 0, 0 };
	next_arg(it);  /* argv[0] */
}

/* The next value of option @opt (or @alias, may be NULL). */
static const char *next_val(struct argv_iter *it, const char *opt, const char *alias)
{
	const char *name, *val;
	while (next_opt(it, &name, &val))
		if (val && (!strcmp(name, opt) || (alias && !strcmp(name, alias))))
			return val;
	return NULL;
}

/* ---- QemuOpts ------------------------------------------------------------ */

struct opts_iter {
	const char *p;
	const char *implied;  /* the first bare word's key, or NULL */
	bool first;
};

struct opt_kv {
	char key[64];
	char val[HOST_MAX_PATH];
	bool truncated;       /* val did not fit */
};

static void opts_begin(struct opts_iter *it, const char *s, const char *implied)
{
	*it = (struct opts_iter){ s, implied, true };
}

static void set_key(struct opt_kv *kv, const char *k, size_t len)
{
	if (len >= sizeof(kv->key))
		len = 0;  /* a key this long is none we look for */
	memcpy(kv->key, k, len);
	kv->key[len] = 0;
}

/* A value up to the next single comma, ",," unescaped. */
static const char *opts_value(const char *s, struct opt_kv *kv)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ',') {
			if (s[1] != ',')
				break;
			s++;
		}
		if (n + 1 < sizeof(kv->val))
			kv->val[n++] = *s;
		else
			kv->truncated = true;
	}
	kv->val[n] = 0;
	return s;
}

static bool opts_next(struct opts_iter *it, struct opt_kv *kv)
{
	const char *s = it->p;
	if (!s || !*s)
		return false;
	kv->truncated = false;
	size_t klen = strcspn(s, "=,");
	if (s[klen] == '=') {
		set_key(kv, s, klen);
		s = opts_value(s + klen + 1, kv);
	} else if (it->first && it->implied) {
		set_key(kv, it->implied, strlen(it->implied));
		s = opts_value(s, kv);
	} else {
		/* A flag: "server" is server=on, "nowait" is wait=off. */
		bool off = klen > 2 && !strncmp(s, "no", 2);
		set_key(kv, s + (off ? 2 : 0), klen - (off ? 2 : 0));
		strcpy(kv->val, off ? "off" : "on");
		s += klen;
	}
	if (*s == ',')
		s++;
	it->p = s;
	it->first = false;
	return true;
}

/* Key @key of option string @s (the last one counts): false when absent
 * or its value does not fit. */
static bool opts_get(const char *s, const char *implied, const char *key,
		     struct opt_kv *kv, char *out, size_t outsz)
{
	struct opts_iter it;
	bool found = false;
	opts_begin(&it, s, implied);
	while (opts_next(&it, kv)) {
		if (strcmp(kv->key, key))
			continue;
		found = !kv->truncated && strlen(kv->val) < outsz;
		if (found)
			strcpy(out, kv->val);
	}
	return found;
}

static bool is_on(const char *v)
{
	return !strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true") ||
	       !strcmp(v, "y");
}

static bool is_json(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	return *s == '{';
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* ---- paths --------------------------------------------------------------- */

/* @path made absolute with the process's working directory when relative
 * (kept relative when that link does not read); false when it does not
 * fit @outsz. */
static bool absolute_path(const char *root, int pid, const char *path, char *out,
			  size_t outsz)
{
	if (path[0] != '/') {
		char link[HOST_MAX_PATH], cwd[HOST_MAX_PATH];
		int n = snprintf(link, sizeof(link), "%s/%d/cwd", root, pid);
		ssize_t r = n > 0 && (size_t)n < sizeof(link)
			? readlink(link, cwd, sizeof(cwd) - 1) : -1;
		if (r > 0 && cwd[0] == '/') {
			cwd[r] = 0;
			const char *rel = path;
			while (rel[0] == '.' && rel[1] == '/')
				rel += 2;
			bool slash = cwd[r - 1] == '/';
			n = snprintf(out, outsz, "%s%s%s", cwd, slash ? "" : "/", rel);
			return n > 0 && (size_t)n < outsz;
		}
	}
	if (strlen(path) >= outsz)
		return false;
	strcpy(out, path);
	return true;
}

/* ---- -object memory-backend-file ----------------------------------------- */

struct mem_obj {
	bool is_file;            /* memory-backend-file */
	bool share;
	char id[ID_MAX];
	char path[HOST_MAX_PATH];  /* "" when absent or too long */
};

static void parse_object(const char *val, struct opt_kv *kv, struct mem_obj *o)
{
	memset(o, 0, sizeof(*o));
	if (is_json(val)) {
		json_object *j = json_tokener_parse(val);
		if (j && json_object_is_type(j, json_type_object)) {
			const char *type = json_str(j, "qom-type"), *id = json_str(j, "id");
			const char *path = json_str(j, "mem-path");
			json_object *share;
			o->is_file = type && !strcmp(type, "memory-backend-file");
			if (id && strlen(id) < sizeof(o->id))
				strcpy(o->id, id);
			if (path && strlen(path) < sizeof(o->path))
				strcpy(o->path, path);
			if (json_object_object_get_ex(j, "share", &share)) {
				if (json_object_is_type(share, json_type_boolean))
					o->share = json_object_get_boolean(share);
				else if (json_object_is_type(share, json_type_string))
					o->share = is_on(json_object_get_string(share));
			}
		}
		json_object_put(j);
		return;
	}
	char type[64], share[16];
	o->is_file = opts_get(val, "qom-type", "qom-type", kv, type, sizeof(type)) &&
		     !strcmp(type, "memory-backend-file");
	if (!o->is_file)
		return;
	if (!opts_get(val, "qom-type", "id", kv, o->id, sizeof(o->id)))
		o->id[0] = 0;
	if (!opts_get(val, "qom-type", "mem-path", kv, o->path, sizeof(o->path)))
		o->path[0] = 0;
	o->share = opts_get(val, "qom-type", "share", kv, share, sizeof(share)) &&
		   is_on(share);
}

/* Whether a -device (pc-dimm, nvdimm, virtio-mem, ivshmem-plain...) uses
 * memory backend @id: then it is not the guest's main RAM. */
static bool device_uses(const char *cmd, size_t len, const char *id, struct opt_kv *kv)
{
	struct argv_iter it;
	argv_begin(&it, cmd, len);
	for (const char *v; (v = next_val(&it, "device", NULL));) {
		if (is_json(v)) {
			json_object *j = json_tokener_parse(v);
			const char *m = j && json_object_is_type(j, json_type_object)
				? json_str(j, "memdev") : NULL;
			bool used = m && !strcmp(m, id);
			json_object_put(j);
			if (used)
				return true;
			continue;
		}
		char m[ID_MAX];
		if (opts_get(v, "driver", "memdev", kv, m, sizeof(m)) && !strcmp(m, id))
			return true;
	}
	return false;
}

/*
 * The mem-path of the guest's RAM: the memory backend -machine
 * memory-backend= names, else the one -numa node,memdev= names when there
 * is one node with a memdev (RAM over several backends is not one file),
 * else the first memory-backend-file no -device uses.  It must be
 * share=on: a private mapping's changes never reach the file.
 */
static void find_ram(const char *root, int pid, const char *cmd, size_t len,
		     struct opt_kv *kv, struct host_qemu_args *out)
{
	struct argv_iter it;
	char want[ID_MAX] = "", id[ID_MAX];
	bool named = false;

	argv_begin(&it, cmd, len);
	for (const char *v; (v = next_val(&it, "machine", "M"));) {
		struct opts_iter oi;
		opts_begin(&oi, v, "type");
		while (opts_next(&oi, kv)) {
			if (strcmp(kv->key, "memory-backend"))
				continue;
			named = true;
			if (kv->truncated || strlen(kv->val) >= sizeof(want))
				want[0] = 0;  /* matches no id */
			else
				strcpy(want, kv->val);
		}
	}
	if (!named) {
		unsigned nodes = 0;
		argv_begin(&it, cmd, len);
		for (const char *v; (v = next_val(&it, "numa", NULL));) {
			if (!opts_get(v, "type", "memdev", kv, id, sizeof(id)))
				continue;
			if (!nodes++)
				strcpy(want, id);
		}
		if (nodes > 1)
			return;
		named = nodes == 1;
	}

	struct mem_obj *o = calloc(1, sizeof(*o));
	if (!o)
		return;
	bool hit = false;
	argv_begin(&it, cmd, len);
	for (const char *v; !hit && (v = next_val(&it, "object", NULL));) {
		parse_object(v, kv, o);
		bool shared_file = o->is_file && o->share && o->path[0];
		if (named) {
			if (!want[0] || strcmp(o->id, want))
				continue;
			if (!shared_file)
				break;  /* the RAM backend is not a shared file */
			hit = true;
		} else {
			hit = shared_file && !(o->id[0] && device_uses(cmd, len, o->id, kv));
		}
	}
	if (hit && !absolute_path(root, pid, o->path, out->ram_path, sizeof(out->ram_path)))
		out->ram_path[0] = 0;
	free(o);
}

bool host_qemu_any_mem_path(const char *root, int pid, const char *cmd, size_t len,
			    bool (*match)(const char *path, void *ctx), void *ctx)
{
	struct opt_kv *kv = malloc(sizeof(*kv));
	struct mem_obj *o = malloc(sizeof(*o));
	char *abs = malloc(HOST_MAX_PATH);
	bool found = false;
	if (kv && o && abs) {
		struct argv_iter it;
		argv_begin(&it, cmd, len);
		for (const char *v; !found && (v = next_val(&it, "object", NULL));) {
			parse_object(v, kv, o);
			found = o->is_file && o->path[0] &&
				absolute_path(root, pid, o->path, abs, HOST_MAX_PATH) &&
				match(abs, ctx);
		}
	}
	free(kv);
	free(o);
	free(abs);
	return found;
}

/* ---- QMP ----------------------------------------------------------------- */

/* A socket chardev option string (@implied: its first bare word's key) that
 * QEMU listens on at a unix path: that path in @path. */
static bool listening_socket(const char *s, const char *implied, struct opt_kv *kv,
			     char *path, size_t pathsz)
{
	struct opts_iter it;
	bool server = false, have = false, other = false;
	opts_begin(&it, s, implied);
	while (opts_next(&it, kv)) {
		if (!strcmp(kv->key, "server"))
			server = is_on(kv->val);
		else if (!strcmp(kv->key, "path")) {
			have = !kv->truncated && kv->val[0] && strlen(kv->val) < pathsz;
			if (have)
				strcpy(path, kv->val);
		} else if (!strcmp(kv->key, "host") || !strcmp(kv->key, "port") ||
			   !strcmp(kv->key, "fd")) {
			other = true;  /* TCP, or a socket libvirt passed */
		} else if (!strcmp(kv->key, "abstract")) {
			other = is_on(kv->val);  /* no file system path */
		}
	}
	return server && have && !other;
}

/* -qmp unix:PATH,server=on[,...] (or -qmp-pretty), else
 * -chardev socket,id=X,path=PATH,server=on + -mon chardev=X,mode=control. */
static void find_qmp(const char *root, int pid, const char *cmd, size_t len,
		     struct opt_kv *kv, struct host_qemu_args *out)
{
	char *path = malloc(HOST_MAX_PATH);
	if (!path)
		return;
	bool found = false;
	struct argv_iter it;
	argv_begin(&it, cmd, len);
	const char *name, *v;
	while (!found && next_opt(&it, &name, &v)) {
		if (!v || (strcmp(name, "qmp") && strcmp(name, "qmp-pretty")))
			continue;
		if (!strncmp(v, "unix:", 5))
			found = listening_socket(v + 5, "path", kv, path, HOST_MAX_PATH);
	}

	argv_begin(&it, cmd, len);
	while (!found && (v = next_val(&it, "mon", NULL))) {
		char chr[ID_MAX], mode[32];
		if (!opts_get(v, "chardev", "chardev", kv, chr, sizeof(chr)) ||
		    !opts_get(v, "chardev", "mode", kv, mode, sizeof(mode)) ||
		    strcmp(mode, "control"))
			continue;
		struct argv_iter ci;
		argv_begin(&ci, cmd, len);
		for (const char *c; !found && (c = next_val(&ci, "chardev", NULL));) {
			char backend[32], id[ID_MAX];
			if (opts_get(c, "backend", "backend", kv, backend, sizeof(backend)) &&
			    !strcmp(backend, "socket") &&
			    opts_get(c, "backend", "id", kv, id, sizeof(id)) && !strcmp(id, chr))
				found = listening_socket(c, "backend", kv, path, HOST_MAX_PATH);
		}
	}
	if (found && !absolute_path(root, pid, path, out->qmp_path, sizeof(out->qmp_path)))
		out->qmp_path[0] = 0;
	free(path);
}

/* ---- the whole ----------------------------------------------------------- */

static bool qemu_base(const char *path)
{
	const char *b = strrchr(path, '/');
	return !strncmp(b ? b + 1 : path, "qemu-system-", 12);
}

bool host_is_qemu(const char *root, int pid, const char *cmd, size_t len)
{
	if (cmd && len && qemu_base(cmd))
		return true;
	char link[HOST_MAX_PATH], exe[HOST_MAX_PATH];
	int n = snprintf(link, sizeof(link), "%s/%d/exe", root, pid);
	if (n <= 0 || (size_t)n >= sizeof(link))
		return false;
	ssize_t r = readlink(link, exe, sizeof(exe) - 1);
	if (r <= 0)
		return false;
	exe[r] = 0;
	return qemu_base(exe);
}

void host_qemu_args_parse(const char *root, int pid, const char *cmd, size_t len,
			  struct host_qemu_args *out)
{
	memset(out, 0, sizeof(*out));
	if (!cmd || !len)
		return;
	struct opt_kv *kv = malloc(sizeof(*kv));
	if (!kv)
		return;

	/* -name: QEMU merges repeated ones; the last guest= counts. */
	struct argv_iter it;
	argv_begin(&it, cmd, len);
	for (const char *v; (v = next_val(&it, "name", NULL));) {
		struct opts_iter oi;
		opts_begin(&oi, v, "guest");
		while (opts_next(&oi, kv)) {
			if (strcmp(kv->key, "guest"))
				continue;
			if (kv->truncated || strlen(kv->val) >= sizeof(out->name))
				out->name[0] = 0;
			else
				strcpy(out->name, kv->val);
		}
	}
	find_ram(root, pid, cmd, len, kv, out);
	find_qmp(root, pid, cmd, len, kv, out);
	free(kv);
}
