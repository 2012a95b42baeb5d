// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ftrace helpers: trace_printk's binary arguments (lib/vsprintf.c
 * vbin_printf layout), %ps symbols, the map of legitimate kernel text
 * (core and module text) for flagging traced calls from elsewhere, and
 * pausing/resuming recording by writing the guest's control words.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsight/ftrace.h>

#include "os/linux/ftrace_internal.h"
#include "util/bytes.h"
#include "util/consume.h"

#define RB_BUFFER_OFF (1u << 20)

void ft_sym(struct vms_kernel *k, uint64_t addr, bool offset, char *buf, size_t size)
{
	uint64_t off = 0;
	const struct vms_symbol *s = k ? vms_symtab_by_addr(vms_kernel_symbols(k), addr, &off)
				       : NULL;
	/* Farther than 1 MiB from the nearest symbol: not that symbol. */
	if (!s || off > (1u << 20)) {
		snprintf(buf, size, "0x%llx", (unsigned long long)addr);
		return;
	}
	if (offset)
		snprintf(buf, size, "%s+0x%llx%s%s%s", s->name, (unsigned long long)off,
			 s->module ? " [" : "", s->module ? s->module : "",
			 s->module ? "]" : "");
	else
		snprintf(buf, size, "%s%s%s%s", s->name, s->module ? " [" : "",
			 s->module ? s->module : "", s->module ? "]" : "");
}

struct out {
	char *s;
	size_t n, cap;
};

static void put(struct out *o, const char *p, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		size_t cap = (o->n + n + 1) * 2;
		char *ns = realloc(o->s, cap);
		if (!ns)
			return;
		o->s = ns;
		o->cap = cap;
	}
	memcpy(o->s + o->n, p, n);
	o->n += n;
	o->s[o->n] = '\0';
}

char *ft_bprint_format(struct vms_kernel *k, const char *fmt, const uint8_t *args,
		       size_t len)
{
	struct out o = { 0 };
	size_t a = 0;
	put(&o, "", 0);
	for (const char *p = fmt; *p && o.n < 4096;) {
		if (*p != '%') {
			const char *q = strchr(p, '%');
			size_t n = q ? (size_t)(q - p) : strlen(p);
			put(&o, p, n);
			p += n;
			continue;
		}
		const char *start = p++;
		if (*p == '%') {
			put(&o, "%", 1);
			p++;
			continue;
		}
		char spec[32];
		size_t sn = 0;
		spec[sn++] = '%';
		while (*p && strchr("-+ #0", *p) && sn < 20)
			spec[sn++] = *p++;
		int width = -1, prec = -1;
		if (*p == '*') {
			p++;
			a = (a + 3) & ~(size_t)3;
			width = a + 4 <= len ? (int)vms_le32(args + a) : 0;
			a += 4;
		} else {
			while (isdigit((unsigned char)*p) && sn < 24)
				spec[sn++] = *p++;
		}
		if (*p == '.') {
			p++;
			if (*p == '*') {
				p++;
				a = (a + 3) & ~(size_t)3;
				prec = a + 4 <= len ? (int)vms_le32(args + a) : 0;
				a += 4;
			} else {
				prec = 0;
				while (isdigit((unsigned char)*p))
					prec = prec * 10 + (*p++ - '0');
			}
		}
		int size = 4;
		if (*p == 'h') {
			size = 2;
			if (*++p == 'h') {
				size = 1;
				p++;
			}
		} else if (*p == 'l' || *p == 'z' || *p == 't' || *p == 'j' || *p == 'L') {
			size = 8;
			if (*++p == 'l')
				p++;
		}
		char conv = *p ? *p++ : '\0';
		char tmp[256];
		tmp[0] = '\0';
		if (width > 1000)
			width = 1000;
		if (prec > 1000)
			prec = 1000;
		switch (conv) {
		case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': case 'c': {
			size_t al = size == 8 ? 4 : (size_t)size;
			a = (a + al - 1) & ~(al - 1);
			uint64_t v = 0;
			if (a + (size_t)size <= len)
				v = size == 8 ? vms_le64(args + a) : size == 4 ? vms_le32(args + a)
				  : size == 2 ? vms_le16(args + a) : args[a];
			a += (size_t)size;
			char f[40];
			memcpy(f, spec, sn);
			size_t fn = sn;
			if (width >= 0)
				fn += (size_t)snprintf(f + fn, sizeof(f) - fn, "%d", width);
			if (prec >= 0)
				fn += (size_t)snprintf(f + fn, sizeof(f) - fn, ".%d", prec);
			if (conv == 'c') {
				snprintf(f + fn, sizeof(f) - fn, "c");
				snprintf(tmp, sizeof(tmp), f, (int)(char)v);
			} else {
				snprintf(f + fn, sizeof(f) - fn, "ll%c", conv);
				if (conv == 'd' || conv == 'i') {
					int64_t sv = size == 8 ? (int64_t)v : size == 4 ? (int32_t)v
						   : size == 2 ? (int16_t)v : (int8_t)v;
					snprintf(tmp, sizeof(tmp), f, (long long)sv);
				} else {
					snprintf(tmp, sizeof(tmp), f, (unsigned long long)v);
				}
			}
			break;
		}
		case 's': {
			size_t n = 0;
			while (a + n < len && args[a + n])
				n++;
			size_t show = prec >= 0 && (size_t)prec < n ? (size_t)prec : n;
			if (show > sizeof(tmp) - 1)
				show = sizeof(tmp) - 1;
			int w = width > (int)show ? width - (int)show : 0;
			if (w > 200)
				w = 200;
			bool left = memchr(spec, '-', sn) != NULL;
			if (!left)
				for (int i = 0; i < w; i++)
					put(&o, " ", 1);
			if (a < len)
				put(&o, (const char *)args + a, show);
			if (left)
				for (int i = 0; i < w; i++)
					put(&o, " ", 1);
			a += n + 1;
			break;
		}
		case 'p': {
			char ext = *p;
			if (isalnum((unsigned char)ext) && !strchr("sSfFxKeB", ext)) {
				/* Other %p extensions were stored as strings. */
				p++;
				while (isalnum((unsigned char)*p))
					p++;
				size_t n = 0;
				while (a + n < len && args[a + n])
					n++;
				if (a < len)
					put(&o, (const char *)args + a, n < 255 ? n : 255);
				a += n + 1;
				break;
			}
			a = (a + 3) & ~(size_t)3;
			uint64_t v = a + 8 <= len ? vms_le64(args + a) : 0;
			a += 8;
			if (ext == 's' || ext == 'f' || ext == 'S' || ext == 'F' || ext == 'B') {
				p++;
				ft_sym(k, v, ext == 'S' || ext == 'F' || ext == 'B', tmp, sizeof(tmp));
			} else {
				if (isalnum((unsigned char)ext))
					p++;
				snprintf(tmp, sizeof(tmp), "%016llx", (unsigned long long)v);
			}
			break;
		}
		default:
			put(&o, start, (size_t)(p - start));
			continue;
		}
		put(&o, tmp, strlen(tmp));
	}
	return o.s;
}

/* ---- legitimate text ---- */

static int add_mod(const struct vms_module *m, void *arg)
{
	struct vms_ftrace_text_map *map = arg;
	if (map->nr_mods % 64 == 0) {
		void *nv = realloc(map->mods, (map->nr_mods + 64) * sizeof(*map->mods));
		if (!nv)
			return 1;
		map->mods = nv;
	}
	map->mods[map->nr_mods].start = m->base;
	map->mods[map->nr_mods].end = m->base + (m->text_size ? m->text_size : m->size);
	map->nr_mods++;
	return 0;
}

struct vms_error *vms_ftrace_text_map_load(struct vms_kernel *k,
					   struct vms_ftrace_text_map *map)
{
	static const char *const names[2][2] = { { "_stext", "_etext" },
						 { "_sinittext", "_einittext" } };
	memset(map, 0, sizeof(*map));
	for (int i = 0; i < 2; i++) {
		uint64_t a, b;
		if (vms_ok(vms_kernel_symbol(k, names[i][0], &a)) &&
		    vms_ok(vms_kernel_symbol(k, names[i][1], &b)) && a < b) {
			map->core[i][0] = a;
			map->core[i][1] = b;
		}
	}
	if (!map->core[0][0]) {
		/* No _stext: the kernel image as mapped. */
		const struct vms_kernel_info *ki = vms_kernel_info(k);
		map->core[0][0] = ki->text_vaddr;
		map->core[0][1] = ki->text_vaddr + ki->image_size;
	}
	struct vms_walk_result res;
	return vms_linux_for_each_module(k, add_mod, map, &res);
}

int vms_ftrace_text_classify(const struct vms_ftrace_text_map *map, uint64_t addr)
{
	for (int i = 0; i < 2; i++)
		if (addr >= map->core[i][0] && addr < map->core[i][1])
			return 0;
	for (size_t i = 0; i < map->nr_mods; i++)
		if (addr >= map->mods[i].start && addr < map->mods[i].end)
			return 1;
	return -1;
}

void vms_ftrace_text_map_free(struct vms_ftrace_text_map *map)
{
	free(map->mods);
	memset(map, 0, sizeof(*map));
}

/* ---- writing the control words ---- */

struct vms_error *vms_ftrace_set_recording(struct vms_kernel *k, const char *ram_path,
					   const char *instance, bool on)
{
	struct vms_ftrace ft;
	struct vms_field rd, bd;
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "trace_buffer", "record_disabled", &rd)) ||
	    (err = vms_kernel_field(k, "trace_array", "buffer_disabled", &bd)))
		return err;
	if (rd.size != 4 || bd.size != 4)
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"record_disabled/buffer_disabled are not 4-byte words");
	if ((err = vms_ftrace_status(k, instance, &ft)))
		return err;
	uint64_t va[2] = { ft.buffer + rd.offset, ft.trace_array + bd.offset }, pa[2];
	vms_ftrace_free(&ft);
	for (int i = 0; i < 2; i++)
		if ((err = vms_kernel_translate(k, va[i], &pa[i])))
			return err;
	uint64_t lowmem = vms_kernel_info(k)->ram_layout_lowmem;
	int fd = open(ram_path, O_RDWR);
	if (fd < 0)
		return vms_error_create(VMS_ERR_IO, "%s: cannot open read-write: %m", ram_path);
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"%s: writing needs a raw RAM file", ram_path);
	}
	for (int i = 0; i < 2; i++) {
		uint64_t off = pa[i];
		if (lowmem && off >= (4ULL << 30))
			off = off - (4ULL << 30) + lowmem;
		if (off + 4 > (uint64_t)st.st_size || (off & 3)) {
			close(fd);
			return vms_error_create(VMS_ERR_FAULT,
				"%s: physical 0x%llx is outside the RAM file", ram_path,
				(unsigned long long)pa[i]);
		}
		long pg = sysconf(_SC_PAGESIZE);
		uint64_t base = off & ~((uint64_t)pg - 1);
		uint8_t *m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
				  (off_t)base);
		if (m == MAP_FAILED) {
			close(fd);
			return vms_error_create(VMS_ERR_IO, "%s: mmap at 0x%llx: %m", ram_path,
						(unsigned long long)base);
		}
		uint32_t *w = (uint32_t *)(void *)(m + (off - base));
		/* Atomic like the kernel's cmpxchg loop: the guest may update
		 * the nesting counter in the low bits meanwhile. */
		if (i == 0) {
			if (on)
				__atomic_fetch_and(w, ~RB_BUFFER_OFF, __ATOMIC_SEQ_CST);
			else
				__atomic_fetch_or(w, RB_BUFFER_OFF, __ATOMIC_SEQ_CST);
		} else {
			__atomic_store_n(w, on ? 0u : 1u, __ATOMIC_SEQ_CST);
		}
		munmap(m, (size_t)pg);
	}
	close(fd);
	return NULL;
}

/* ---- saved cmdlines ---- */

#define NO_CMDLINE_MAP 0xffffffffu
#define MAX_SAVED_CMDLINES (1u << 20)

struct vms_error *vms_ftrace_comms_load(struct vms_kernel *k, struct vms_ftrace_comms *c)
{
	struct vms_field map, to_pid, num, names;
	uint64_t sym, sc, p;
	uint32_t nr;
	struct vms_error *err;
	memset(c, 0, sizeof(*c));
	if ((err = vms_kernel_symbol(k, "savedcmd", &sym)) ||
	    (err = vms_kernel_field(k, "saved_cmdlines_buffer", "map_pid_to_cmdline", &map)) ||
	    (err = vms_kernel_field(k, "saved_cmdlines_buffer", "map_cmdline_to_pid", &to_pid)) ||
	    (err = vms_kernel_field(k, "saved_cmdlines_buffer", "cmdline_num", &num)) ||
	    (err = vms_kernel_field(k, "saved_cmdlines_buffer", "saved_cmdlines", &names)) ||
	    (err = vms_kernel_read_u64(k, sym, &sc)) ||
	    (err = vms_kernel_read_u32(k, sc + num.offset, &nr)))
		return err;
	if (map.size < 8 || map.size > (4u << 22) || nr > MAX_SAVED_CMDLINES)
		return vms_error_create(VMS_ERR_CORRUPT,
			"saved cmdlines at 0x%llx: %u entries, map of %u bytes",
			(unsigned long long)sc, nr, map.size);
	c->pid_max = map.size / 4 - 1;
	c->nr = nr;
	c->pid_to_cmdline = malloc(map.size);
	c->cmdline_to_pid = malloc((size_t)nr * 4 + 4);
	c->names = calloc((size_t)nr + 1, 16);
	if (!c->pid_to_cmdline || !c->cmdline_to_pid || !c->names) {
		vms_ftrace_comms_free(c);
		return &vms_error_nomem;
	}
	uint64_t names_addr = sc + names.offset;
	if (names.size == 8 && (err = vms_kernel_read_u64(k, names_addr, &names_addr)))
		goto fail;
	if ((err = vms_kernel_read(k, sc + map.offset, c->pid_to_cmdline, map.size)) ||
	    (err = vms_kernel_read_u64(k, sc + to_pid.offset, &p)) ||
	    (err = vms_kernel_read(k, p, c->cmdline_to_pid, (size_t)nr * 4)) ||
	    (err = vms_kernel_read(k, names_addr, c->names, (size_t)nr * 16)))
		goto fail;
	return NULL;
fail:
	vms_ftrace_comms_free(c);
	return err;
}

void vms_ftrace_comm(const struct vms_ftrace_comms *c, int32_t pid, char buf[16])
{
	if (pid == 0) {
		snprintf(buf, 16, "<idle>");
		return;
	}
	if (pid < 0) {
		snprintf(buf, 16, "<XXX>");
		return;
	}
	if (c && c->pid_to_cmdline && c->pid_max) {
		uint32_t tpid = (uint32_t)pid & (c->pid_max - 1);
		uint32_t map = c->pid_to_cmdline[tpid];
		if (map != NO_CMDLINE_MAP && map < c->nr &&
		    c->cmdline_to_pid[map] == (uint32_t)pid) {
			memcpy(buf, c->names + (size_t)map * 16, 15);
			buf[15] = '\0';
			return;
		}
	}
	snprintf(buf, 16, "<...>");
}

void vms_ftrace_comms_free(struct vms_ftrace_comms *c)
{
	free(c->pid_to_cmdline);
	free(c->cmdline_to_pid);
	free(c->names);
	memset(c, 0, sizeof(*c));
}
