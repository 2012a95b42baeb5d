// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A trace-cmd .dat file (version 6, trace-cmd.dat.v6(5)) from a ring
 * buffer read out of guest memory: the format texts the guest's tracefs
 * would show (rebuilt from its event list: name, ID, fields, print fmt),
 * its kallsyms and saved cmdlines, then per CPU the raw data pages in the
 * order vms_ftrace_read() visited them.  trace-cmd reads the pages with
 * libtraceevent's kbuffer, exactly as the guest's own ring buffer pages.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/ftrace.h>
#include <vmsight/symbols.h>

#include "os/linux/ftrace_internal.h"
#include "util/consume.h"

#define MAX_PRINT_FMT 8192

struct sbuf {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		if (b->oom)
			return;
		size_t room = b->cap - b->n;
		va_start(ap, fmt);
		int w = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (w < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)w < room) {
			b->n += (size_t)w;
			return;
		}
		size_t cap = b->cap ? b->cap : 4096;
		while (cap - b->n <= (size_t)w)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

struct out {
	FILE *f;
	uint64_t pos;
	bool err;
};

static void put(struct out *o, const void *p, size_t n)
{
	if (n && fwrite(p, 1, n, o->f) != n)
		o->err = true;
	o->pos += n;
}

static void put32(struct out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	put(o, b, 4);
}

static void put64(struct out *o, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(o, b, 8);
}

/* One events/<system>/<name>/format text, as the kernel's f_show prints it. */
static void format_text(struct vms_kernel *k, const struct vms_ftrace_format *f,
			const struct vms_field *print_fmt, struct sbuf *b)
{
	static const struct { const char *type, *name, *member; int sign; } common[] = {
		{ "unsigned short", "common_type", "type", 0 },
		{ "unsigned char", "common_flags", "flags", 0 },
		{ "unsigned char", "common_preempt_count", "preempt_count", 0 },
		{ "int", "common_pid", "pid", 1 },
	};
	sb_printf(b, "name: %s\nID: %u\nformat:\n", f->name, f->type);
	for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++) {
		struct vms_field fl;
		if (!vms_ok(vms_kernel_field(k, "trace_entry", common[i].member, &fl)))
			continue;
		sb_printf(b, "\tfield:%s %s;\toffset:%u;\tsize:%u;\tsigned:%d;\n",
			  common[i].type, common[i].name, fl.offset, fl.size, common[i].sign);
	}
	sb_printf(b, "\n");
	for (size_t i = 0; i < f->nr_fields; i++) {
		const struct vms_ftrace_field *x = &f->fields[i];
		const char *arr = strchr(x->type, '[');
		if (arr && strncmp(x->type, "__data_loc", 10))
			sb_printf(b, "\tfield:%.*s %s%s;", (int)(arr - x->type), x->type,
				  x->name, arr);
		else
			sb_printf(b, "\tfield:%s %s;", x->type, x->name);
		sb_printf(b, "\toffset:%u;\tsize:%u;\tsigned:%d;\n", x->offset, x->size,
			  x->is_signed ? 1 : 0);
	}
	char *pf = NULL;
	uint64_t p = 0;
	if (print_fmt && vms_ok(vms_kernel_read_u64(k, f->call + print_fmt->offset, &p)) && p &&
	    (pf = malloc(MAX_PRINT_FMT)) &&
	    !vms_ok(vms_kernel_read_string(k, p, pf, MAX_PRINT_FMT))) {
		free(pf);
		pf = NULL;
	}
	sb_printf(b, "\nprint fmt: %s\n", pf ? pf : "\"\"");
	free(pf);
}

static void put_text8(struct out *o, const struct sbuf *b)
{
	put64(o, b->n);
	put(o, b->p, b->n);
}

char *ft_format_text(struct vms_kernel *k, const struct vms_ftrace_format *f, size_t *len)
{
	struct vms_field pfmt;
	struct sbuf b = { 0 };
	bool have_pfmt = vms_ok(vms_kernel_field(k, "trace_event_call", "print_fmt", &pfmt));
	format_text(k, f, have_pfmt ? &pfmt : NULL, &b);
	if (b.oom || !b.p) {
		free(b.p);
		return NULL;
	}
	*len = b.n;
	return b.p;
}

struct vms_error *vms_ftrace_write_dat(struct vms_kernel *k,
				       const struct vms_ftrace *ft,
				       const struct vms_ftrace_comms *comms,
				       const char *path)
{
	struct vms_field commit, data, ts, pfmt;
	struct vms_error *err;
	if ((err = vms_kernel_field(k, "buffer_data_page", "time_stamp", &ts)) ||
	    (err = vms_kernel_field(k, "buffer_data_page", "commit", &commit)) ||
	    (err = vms_kernel_field(k, "buffer_data_page", "data", &data)))
		return vms_error_wrap(err, "trace-cmd .dat header_page");
	bool have_pfmt = vms_ok(vms_kernel_field(k, "trace_event_call", "print_fmt", &pfmt));
	size_t psz = ft->page_size ? ft->page_size : 4096;
	if (psz <= data.offset)
		return vms_error_create(VMS_ERR_CORRUPT, "page size %zu", psz);
	FILE *f = fopen(path, "wb");
	if (!f)
		return vms_error_create(VMS_ERR_IO, "cannot create %s", path);
	struct out o = { .f = f };
	struct sbuf b = { 0 };

	put(&o, "\x17\x08\x44tracing6", 12); /* with the NUL of "6" */
	uint8_t endian_long[2] = { 0, 8 };
	put(&o, endian_long, 2);
	put32(&o, (uint32_t)psz);

	/* ring_buffer_print_page_header() */
	sb_printf(&b, "\tfield: u64 timestamp;\toffset:%u;\tsize:%u;\tsigned:0;\n",
		  ts.offset, ts.size);
	sb_printf(&b, "\tfield: local_t commit;\toffset:%u;\tsize:%u;\tsigned:1;\n",
		  commit.offset, commit.size);
	sb_printf(&b, "\tfield: int overwrite;\toffset:%u;\tsize:1;\tsigned:1;\n",
		  commit.offset);
	sb_printf(&b, "\tfield: char data;\toffset:%u;\tsize:%zu;\tsigned:0;\n",
		  data.offset, psz - data.offset);
	put(&o, "header_page", 12);
	put_text8(&o, &b);
	b.n = 0;
	/* ring_buffer_print_entry_header() */
	sb_printf(&b, "# compressed entry header\n\ttype_len    :    5 bits\n"
		  "\ttime_delta  :   27 bits\n\tarray       :   32 bits\n\n"
		  "\tpadding     : type == 29\n\ttime_extend : type == 30\n"
		  "\ttime_stamp : type == 31\n\tdata max type_len  == 28\n");
	put(&o, "header_event", 13);
	put_text8(&o, &b);

	/* ftrace formats: every event of the "ftrace" system. */
	uint32_t n = 0;
	for (size_t i = 0; i < ft->nr_formats; i++)
		n += !strcmp(ft->formats[i].system, "ftrace");
	put32(&o, n);
	for (size_t i = 0; i < ft->nr_formats; i++) {
		if (strcmp(ft->formats[i].system, "ftrace"))
			continue;
		b.n = 0;
		format_text(k, &ft->formats[i], have_pfmt ? &pfmt : NULL, &b);
		put_text8(&o, &b);
	}

	/* Other events: those present in the buffer, grouped by system. */
	bool *used = calloc(ft->nr_formats + 1, 1), *done = calloc(ft->nr_formats + 1, 1);
	bool *present = calloc(65536, 1);  /* event types in the buffer (u16) */
	if (!used || !done || !present) {
		free(used);
		free(done);
		free(present);
		fclose(f);
		free(b.p);
		return &vms_error_nomem;
	}
	uint32_t nsys = 0;
	for (size_t i = 0; i < ft->nr_records; i++)
		present[ft->records[i].type] = true;
	for (size_t i = 0; i < ft->nr_formats; i++) {
		used[i] = strcmp(ft->formats[i].system, "ftrace") && ft->formats[i].system[0] &&
			  ft->formats[i].type < 65536 && present[ft->formats[i].type];
	}
	free(present);
	for (size_t i = 0; i < ft->nr_formats; i++) {
		if (!used[i])
			continue;
		bool first = true;
		for (size_t j = 0; j < i; j++)
			if (used[j] && !strcmp(ft->formats[j].system, ft->formats[i].system))
				first = false;
		nsys += first;
	}
	put32(&o, nsys);
	for (size_t i = 0; i < ft->nr_formats; i++) {
		if (!used[i] || done[i])
			continue;
		const char *sys = ft->formats[i].system;
		uint32_t cnt = 0;
		for (size_t j = i; j < ft->nr_formats; j++)
			cnt += used[j] && !strcmp(ft->formats[j].system, sys);
		put(&o, sys, strlen(sys) + 1);
		put32(&o, cnt);
		for (size_t j = i; j < ft->nr_formats; j++) {
			if (!used[j] || strcmp(ft->formats[j].system, sys))
				continue;
			done[j] = true;
			b.n = 0;
			format_text(k, &ft->formats[j], have_pfmt ? &pfmt : NULL, &b);
			put_text8(&o, &b);
		}
	}
	free(used);
	free(done);

	/* kallsyms */
	b.n = 0;
	const struct vms_symtab *st = vms_kernel_symbols(k);
	size_t nsyms = st ? vms_symtab_count(st) : 0;
	for (size_t i = 0; i < nsyms; i++) {
		const struct vms_symbol *s = vms_symtab_at(st, i);
		if (!s || !s->name)
			continue;
		if (s->module)
			sb_printf(&b, "%016llx %c %s\t[%s]\n", (unsigned long long)s->addr,
				  s->type ? s->type : 't', s->name, s->module);
		else
			sb_printf(&b, "%016llx %c %s\n", (unsigned long long)s->addr,
				  s->type ? s->type : 't', s->name);
	}
	put32(&o, (uint32_t)b.n);
	put(&o, b.p, b.n);
	/* printk formats: none (bprint formats are read from guest memory). */
	put32(&o, 0);
	/* saved cmdlines */
	b.n = 0;
	for (uint32_t i = 0; comms && comms->names && comms->cmdline_to_pid && i < comms->nr; i++) {
		uint32_t pid = comms->cmdline_to_pid[i];
		const char *nm = comms->names + 16ull * i;
		if (!pid || pid == (uint32_t)-1 || pid > comms->pid_max || !nm[0])
			continue;
		sb_printf(&b, "%u %.*s\n", pid, (int)strnlen(nm, 16), nm);
	}
	put_text8(&o, &b);

	/* CPU data: nr_cpu_ids slots, each CPU's good pages in order. */
	unsigned ncpu = ft->nr_cpu_ids ? ft->nr_cpu_ids : 1;
	uint64_t *cnt = calloc(ncpu, sizeof(*cnt));
	if (!cnt || b.oom) {
		free(cnt);
		fclose(f);
		free(b.p);
		return &vms_error_nomem;
	}
	for (size_t i = 0; i < ft->nr_page_info; i++) {
		const struct vms_ftrace_page_info *p = &ft->page_info[i];
		if (p->cpu < ncpu && p->buf && !p->corrupt)
			cnt[p->cpu]++;
	}
	put32(&o, ncpu);
	put(&o, "flyrecord", 10);
	uint64_t start = o.pos + 16ull * ncpu;
	start = (start + psz - 1) / psz * psz;
	uint64_t off = start;
	for (unsigned c = 0; c < ncpu; c++) {
		put64(&o, cnt[c] ? off : 0);
		put64(&o, cnt[c] * psz);
		off += cnt[c] * psz;
	}
	static const uint8_t zero[4096];
	while (o.pos < start)
		put(&o, zero, start - o.pos < sizeof(zero) ? start - o.pos : sizeof(zero));
	/* A reader page partly consumed by a trace_pipe reader: only what
	 * is left of it (as the trace file and vms_ftrace_read show it). */
	struct vms_ftrace_page_layout L = { .ts_off = ts.offset, .commit_off = commit.offset,
					    .commit_size = commit.size, .data_off = data.offset };
	uint8_t *trim = malloc(psz);
	for (unsigned c = 0; c < ncpu; c++)
		for (size_t i = 0; i < ft->nr_page_info; i++) {
			const struct vms_ftrace_page_info *p = &ft->page_info[i];
			if (p->cpu != c || !p->buf || p->corrupt)
				continue;
			if (p->reader && p->read && trim &&
			    ft_page_trim(p->buf, psz, &L, (size_t)p->read, trim))
				put(&o, trim, psz);
			else
				put(&o, p->buf, psz);
		}
	free(trim);
	free(cnt);
	free(b.p);
	if (fclose(f) != 0 || o.err)
		return vms_error_create(VMS_ERR_IO, "writing %s failed", path);
	return NULL;
}
