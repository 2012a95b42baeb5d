// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The guest's ftrace ring buffer, read from its memory the way the
 * kernel's non-consuming iterator reads it (kernel/trace/ring_buffer.c:
 * rb_iter_reset, rb_set_head_page): per CPU, the reader page from its read
 * offset, then the ring from the real head page (found through the flag
 * bits in its predecessor's list.next) to the commit page.  Every offset
 * comes from BTF; event type ids and field lists from the kernel's own
 * event list (ftrace_events).  Guest memory is hostile: every list walk is
 * bounded and cycle-checked, every page validated before it is decoded
 * (ftrace_page.c), and a bad page or list is skipped with a warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/ftrace.h>

#include "os/linux/ftrace_internal.h"
#include <stdarg.h>
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"
#include "util/vec.h"

/* kernel/trace/ring_buffer.c: not in BTF. */
#define RB_PAGE_HEAD   1UL
#define RB_PAGE_UPDATE 2UL
#define RB_FLAG_MASK   3UL
#define RB_BUFFER_OFF  (1u << 20)

#define MAX_CPUS 8192
#define MAX_PAGES_PER_CPU (1u << 18)     /* 1 GiB of 4 KiB pages */
#define MAX_TOTAL_PAGES (1u << 19)
#define MAX_EVENTS_LIST 65536
#define MAX_FIELDS 256
#define MAX_INSTANCES 4096
#define MAX_STRUCT (64u << 10)

struct ft_layout {
	struct vms_field tr_buffer, tr_buffer_disabled, tr_current_trace, tr_name,
		tr_list, tr_clock_id, tracer_name;
	bool has_tr_name, has_tr_list, has_clock_id;
	struct vms_field tb_record_disabled, tb_buffers, tb_subbuf_order;
	bool has_subbuf_order;
	size_t cb_size;
	struct vms_field cb_cpu, cb_record_disabled, cb_nr_pages, cb_head_page,
		cb_commit_page, cb_reader_page, cb_entries, cb_overrun,
		cb_commit_overrun, cb_dropped_events, cb_read;
	struct vms_field bp_next, bp_prev, bp_read, bp_page, bp_list;
	struct vms_ftrace_page_layout page;
	struct vms_field ent_type, ent_flags, ent_preempt, ent_pid;
	struct vms_field fn_ip, fn_parent;
	struct vms_field ge_func, ge_depth;
	struct vms_field gr_func, gr_depth, gr_overrun, gr_calltime, gr_rettime;
	struct vms_field pr_ip, pr_buf, bp_ip, bp_fmt, bp_buf, bs_ip, bs_str;
	bool has_fn, has_ge, has_gr, has_pr, has_bpr, has_bputs;
};

static struct vms_error *F(struct vms_kernel *k, const char *s, const char *m,
			   struct vms_field *f)
{
	return vms_kernel_field(k, s, m, f);
}

static bool opt(struct vms_kernel *k, const char *s, const char *m,
		struct vms_field *f)
{
	return vms_ok(F(k, s, m, f));
}

static struct vms_error *layout(struct vms_kernel *k, struct ft_layout *L)
{
	struct vms_error *err;
	struct vms_field ts, commit, data;
	memset(L, 0, sizeof(*L));
	if ((err = F(k, "trace_array", "array_buffer.buffer", &L->tr_buffer)) ||
	    (err = F(k, "trace_array", "buffer_disabled", &L->tr_buffer_disabled)) ||
	    (err = F(k, "trace_array", "current_trace", &L->tr_current_trace)) ||
	    (err = F(k, "tracer", "name", &L->tracer_name)) ||
	    (err = F(k, "trace_buffer", "record_disabled", &L->tb_record_disabled)) ||
	    (err = F(k, "trace_buffer", "buffers", &L->tb_buffers)) ||
	    (err = vms_types_struct_size(vms_kernel_types(k), "ring_buffer_per_cpu", &L->cb_size)) ||
	    (err = F(k, "ring_buffer_per_cpu", "cpu", &L->cb_cpu)) ||
	    (err = F(k, "ring_buffer_per_cpu", "record_disabled", &L->cb_record_disabled)) ||
	    (err = F(k, "ring_buffer_per_cpu", "nr_pages", &L->cb_nr_pages)) ||
	    (err = F(k, "ring_buffer_per_cpu", "head_page", &L->cb_head_page)) ||
	    (err = F(k, "ring_buffer_per_cpu", "commit_page", &L->cb_commit_page)) ||
	    (err = F(k, "ring_buffer_per_cpu", "reader_page", &L->cb_reader_page)) ||
	    (err = F(k, "ring_buffer_per_cpu", "entries", &L->cb_entries)) ||
	    (err = F(k, "ring_buffer_per_cpu", "overrun", &L->cb_overrun)) ||
	    (err = F(k, "ring_buffer_per_cpu", "commit_overrun", &L->cb_commit_overrun)) ||
	    (err = F(k, "ring_buffer_per_cpu", "dropped_events", &L->cb_dropped_events)) ||
	    (err = F(k, "ring_buffer_per_cpu", "read", &L->cb_read)) ||
	    (err = F(k, "buffer_page", "list", &L->bp_list)) ||
	    (err = F(k, "list_head", "next", &L->bp_next)) ||
	    (err = F(k, "list_head", "prev", &L->bp_prev)) ||
	    (err = F(k, "buffer_page", "read", &L->bp_read)) ||
	    (err = F(k, "buffer_page", "page", &L->bp_page)) ||
	    (err = F(k, "buffer_data_page", "time_stamp", &ts)) ||
	    (err = F(k, "buffer_data_page", "commit", &commit)) ||
	    (err = F(k, "buffer_data_page", "data", &data)) ||
	    (err = F(k, "trace_entry", "type", &L->ent_type)) ||
	    (err = F(k, "trace_entry", "flags", &L->ent_flags)) ||
	    (err = F(k, "trace_entry", "preempt_count", &L->ent_preempt)) ||
	    (err = F(k, "trace_entry", "pid", &L->ent_pid)))
		return vms_error_wrap(err, "ftrace ring buffer layout");
	if (L->cb_size > MAX_STRUCT)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF says struct ring_buffer_per_cpu is %zu bytes", L->cb_size);
	L->page.ts_off = ts.offset;
	L->page.commit_off = commit.offset;
	L->page.commit_size = commit.size;
	L->page.data_off = data.offset;
	L->has_tr_name = opt(k, "trace_array", "name", &L->tr_name);
	L->has_tr_list = opt(k, "trace_array", "list", &L->tr_list);
	L->has_clock_id = opt(k, "trace_array", "clock_id", &L->tr_clock_id);
	L->has_subbuf_order = opt(k, "trace_buffer", "subbuf_order", &L->tb_subbuf_order);
	L->has_fn = opt(k, "ftrace_entry", "ip", &L->fn_ip) &&
		    opt(k, "ftrace_entry", "parent_ip", &L->fn_parent);
	L->has_ge = opt(k, "ftrace_graph_ent_entry", "graph_ent.func", &L->ge_func) &&
		    opt(k, "ftrace_graph_ent_entry", "graph_ent.depth", &L->ge_depth);
	L->has_gr = opt(k, "ftrace_graph_ret_entry", "ret.func", &L->gr_func) &&
		    opt(k, "ftrace_graph_ret_entry", "ret.depth", &L->gr_depth) &&
		    (opt(k, "ftrace_graph_ret_entry", "ret.calltime", &L->gr_calltime) ||
		     opt(k, "ftrace_graph_ret_entry", "calltime", &L->gr_calltime)) &&
		    (opt(k, "ftrace_graph_ret_entry", "ret.rettime", &L->gr_rettime) ||
		     opt(k, "ftrace_graph_ret_entry", "rettime", &L->gr_rettime));
	if (!opt(k, "ftrace_graph_ret_entry", "ret.overrun", &L->gr_overrun))
		L->gr_overrun.size = 0;
	L->has_pr = opt(k, "print_entry", "ip", &L->pr_ip) &&
		    opt(k, "print_entry", "buf", &L->pr_buf);
	L->has_bpr = opt(k, "bprint_entry", "ip", &L->bp_ip) &&
		     opt(k, "bprint_entry", "fmt", &L->bp_fmt) &&
		     opt(k, "bprint_entry", "buf", &L->bp_buf);
	L->has_bputs = opt(k, "bputs_entry", "ip", &L->bs_ip) &&
		       opt(k, "bputs_entry", "str", &L->bs_str);
	return NULL;
}

static uint64_t getf(const uint8_t *buf, size_t len, const struct vms_field *f)
{
	if (!f->size || f->offset + f->size > len)
		return 0;
	switch (f->size) {
	case 1: return buf[f->offset];
	case 2: return vms_le16(buf + f->offset);
	case 4: return vms_le32(buf + f->offset);
	case 8: return vms_le64(buf + f->offset);
	default: return 0;
	}
}

static struct vms_error *readf(struct vms_kernel *k, uint64_t base,
			       const struct vms_field *f, uint64_t *val)
{
	uint8_t b[8] = { 0 };
	size_t n = f->size && f->size <= 8 ? f->size : 8;
	struct vms_error *err = vms_kernel_read(k, base + f->offset, b, n);
	if (err)
		return err;
	struct vms_field g = *f;
	g.offset = 0;
	g.size = (uint32_t)n;
	*val = getf(b, 8, &g);
	return NULL;
}

static void warn(struct vms_kernel *k, struct vms_walk_result *res,
		 const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void warn(struct vms_kernel *k, struct vms_walk_result *res,
		 const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!res->truncated)
		snprintf(res->reason, sizeof(res->reason), "%s", msg);
	res->truncated = true;
	vms_kernel_log(k, VMS_LOG_WARN, "ftrace: %s", msg);
}

/* ---- instances ---- */

struct inst_find {
	const char *want;
	uint64_t found;
};

static int instance_match(const char *name, uint64_t tr, void *arg)
{
	struct inst_find *f = arg;
	if (strcmp(name, f->want) == 0) {
		f->found = tr;
		return 1;
	}
	return 0;
}

static struct vms_error *find_instance(struct vms_kernel *k,
				       const char *instance, uint64_t *tr)
{
	if (!instance || !instance[0])
		return vms_kernel_symbol(k, "global_trace", tr);
	struct inst_find f = { instance, 0 };
	struct vms_error *err = vms_ftrace_for_each_instance(k, instance_match, &f);
	if (err)
		return err;
	if (!f.found)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"trace instance '%s' not found in ftrace_trace_arrays", instance);
	*tr = f.found;
	return NULL;
}

struct vms_error *vms_ftrace_for_each_instance(struct vms_kernel *k,
					       vms_ftrace_instance_fn fn, void *arg)
{
	struct ft_layout L;
	struct vms_error *err = layout(k, &L);
	uint64_t head, gt = 0;
	if (err)
		return err;
	vms_ok(vms_kernel_symbol(k, "global_trace", &gt));
	if (!L.has_tr_list || !L.has_tr_name)
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"struct trace_array has no list/name in BTF");
	if ((err = vms_kernel_symbol(k, "ftrace_trace_arrays", &head)))
		return err;
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	uint64_t cur;
	err = vms_kernel_read_u64(k, head + L.bp_next.offset, &cur);
	for (unsigned n = 0; !err && cur != head && n < MAX_INSTANCES; n++) {
		if (vms_addrset_add(&seen, cur) != 1) {
			vms_kernel_log(k, VMS_LOG_WARN,
				"ftrace: ftrace_trace_arrays loops at 0x%llx",
				(unsigned long long)cur);
			break;
		}
		uint64_t tr = cur - L.tr_list.offset, name = 0;
		char buf[64] = "";
		if (tr != gt && vms_ok(readf(k, tr, &L.tr_name, &name)) && name)
			vms_ok(vms_kernel_read_string(k, name, buf, sizeof(buf)));
		if (fn(tr == gt ? "" : buf, tr, arg))
			break;
		err = vms_kernel_read_u64(k, cur + L.bp_next.offset, &cur);
	}
	vms_addrset_free(&seen);
	return err;
}

/* ---- event formats (ftrace_events) ---- */

static int field_cmp(const void *a, const void *b)
{
	const struct vms_ftrace_field *x = a, *y = b;
	return (x->offset > y->offset) - (x->offset < y->offset);
}

struct field_layout {
	struct vms_field link, name, type, offset, size, is_signed;
};

static bool field_layout(struct vms_kernel *k, struct field_layout *fl)
{
	return opt(k, "ftrace_event_field", "link", &fl->link) &&
	       opt(k, "ftrace_event_field", "name", &fl->name) &&
	       opt(k, "ftrace_event_field", "type", &fl->type) &&
	       opt(k, "ftrace_event_field", "offset", &fl->offset) &&
	       opt(k, "ftrace_event_field", "size", &fl->size) &&
	       opt(k, "ftrace_event_field", "is_signed", &fl->is_signed);
}

static void read_fields(struct vms_kernel *k, const struct field_layout *fl,
			uint64_t head, struct vms_ftrace_format *fmt,
			struct vms_walk_result *res)
{
	const struct vms_field link = fl->link, name = fl->name, type = fl->type,
		offset = fl->offset, size = fl->size, is_signed = fl->is_signed;
	uint64_t cur;
	/* Syscall events keep their fields elsewhere (get_fields): an
	 * unset list head means no list. */
	if (!vms_ok(vms_kernel_read_u64(k, head, &cur)) || !cur)
		return;
	struct vms_ftrace_field *v = calloc(MAX_FIELDS, sizeof(*v));
	size_t n = 0;
	if (!v)
		return;
	while (cur != head) {
		if (n == MAX_FIELDS) {
			warn(k, res, "event %s: field list longer than %d (loop?) at 0x%llx",
			     fmt->name, MAX_FIELDS, (unsigned long long)head);
			break;
		}
		uint64_t f = cur - link.offset, p = 0, val = 0;
		struct vms_ftrace_field *o = &v[n];
		if (!vms_ok(readf(k, f, &name, &p)) ||
		    !vms_ok(vms_kernel_read_string(k, p, o->name, sizeof(o->name))) ||
		    !vms_ok(readf(k, f, &type, &p)) ||
		    !vms_ok(vms_kernel_read_string(k, p, o->type, sizeof(o->type)))) {
			warn(k, res, "event %s: unreadable field at 0x%llx", fmt->name,
			     (unsigned long long)f);
			break;
		}
		if (vms_ok(readf(k, f, &offset, &val)))
			o->offset = (uint32_t)val;
		if (vms_ok(readf(k, f, &size, &val)))
			o->size = (uint32_t)val;
		if (vms_ok(readf(k, f, &is_signed, &val)))
			o->is_signed = val != 0;
		n++;
		if (!vms_ok(vms_kernel_read_u64(k, cur, &cur)))
			break;
	}
	qsort(v, n, sizeof(*v), field_cmp);
	fmt->fields = v;
	fmt->nr_fields = n;
}

static void read_formats(struct vms_kernel *k, struct vms_ftrace *ft)
{
	struct vms_field list, klass, name, tp, type, flags, system, fields, tp_name;
	struct field_layout flay;
	bool have_fields = field_layout(k, &flay);
	uint64_t head, cur;
	int64_t fl_tp = 0x10;
	vms_ok(vms_types_enum_value(vms_kernel_types(k), "TRACE_EVENT_FL_TRACEPOINT", &fl_tp));
	if (!vms_ok(vms_kernel_symbol(k, "ftrace_events", &head)) ||
	    !opt(k, "trace_event_call", "list", &list) ||
	    !opt(k, "trace_event_call", "class", &klass) ||
	    !opt(k, "trace_event_call", "name", &name) ||
	    !opt(k, "trace_event_call", "tp", &tp) ||
	    !opt(k, "trace_event_call", "event.type", &type) ||
	    !opt(k, "trace_event_call", "flags", &flags) ||
	    !opt(k, "trace_event_class", "system", &system) ||
	    !opt(k, "trace_event_class", "fields", &fields) ||
	    !opt(k, "tracepoint", "name", &tp_name)) {
		vms_kernel_log(k, VMS_LOG_WARN,
			"ftrace: no event list (ftrace_events) or its types: events undecoded");
		return;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	size_t cap = 256;
	ft->formats = calloc(cap, sizeof(*ft->formats));
	if (!ft->formats || !vms_ok(vms_kernel_read_u64(k, head, &cur)))
		goto out;
	while (cur != head) {
		if (ft->nr_formats >= MAX_EVENTS_LIST || vms_addrset_add(&seen, cur) != 1) {
			warn(&*k, &ft->res, "ftrace_events list loops or is too long at 0x%llx",
			     (unsigned long long)cur);
			break;
		}
		if (ft->nr_formats == cap) {
			void *nv = realloc(ft->formats, 2 * cap * sizeof(*ft->formats));
			if (!nv)
				break;
			ft->formats = nv;
			cap *= 2;
		}
		uint64_t call = cur - list.offset, v = 0, kl = 0, p = 0;
		struct vms_ftrace_format *f = &ft->formats[ft->nr_formats];
		memset(f, 0, sizeof(*f));
		f->call = call;
		if (vms_ok(readf(k, call, &type, &v)))
			f->type = (uint32_t)v;
		uint64_t fl = 0;
		vms_ok(readf(k, call, &flags, &fl));
		if (fl & (uint64_t)fl_tp) {
			if (vms_ok(readf(k, call, &tp, &p)) && p &&
			    vms_ok(readf(k, p, &tp_name, &p)) && p)
				vms_ok(vms_kernel_read_string(k, p, f->name, sizeof(f->name)));
		} else if (vms_ok(readf(k, call, &name, &p)) && p) {
			vms_ok(vms_kernel_read_string(k, p, f->name, sizeof(f->name)));
		}
		if (vms_ok(readf(k, call, &klass, &kl)) && kl) {
			if (vms_ok(readf(k, kl, &system, &p)) && p)
				vms_ok(vms_kernel_read_string(k, p, f->system, sizeof(f->system)));
			if (have_fields)
				read_fields(k, &flay, kl + fields.offset, f, &ft->res);
		}
		if (f->type && f->name[0])
			ft->nr_formats++;
		else {
			free(f->fields);
			f->fields = NULL;
		}
		if (!vms_ok(vms_kernel_read_u64(k, cur, &cur)))
			break;
	}
out:
	vms_addrset_free(&seen);
}

static const struct vms_ftrace_format *format_by_type(const struct vms_ftrace *ft,
						      uint32_t type)
{
	for (size_t i = 0; i < ft->nr_formats; i++)
		if (ft->formats[i].type == type)
			return &ft->formats[i];
	return NULL;
}

static int ftrace_type(struct vms_kernel *k, const struct vms_ftrace *ft,
		       const char *name, const char *enumerator)
{
	for (size_t i = 0; i < ft->nr_formats; i++)
		if (!strcmp(ft->formats[i].system, "ftrace") &&
		    !strcmp(ft->formats[i].name, name))
			return (int)ft->formats[i].type;
	int64_t v;
	if (vms_ok(vms_types_enum_value(vms_kernel_types(k), enumerator, &v)))
		return (int)v;
	return -1;
}

/* ---- per-CPU pages ---- */

struct cpu_events {
	struct raw { uint64_t ts; const uint8_t *p; size_t len; } *v;
	size_t n, cap;
	bool oom;
};

static int collect_raw(uint64_t ts, const uint8_t *payload, size_t len,
		       size_t off, void *arg)
{
	(void)off;
	struct cpu_events *ce = arg;
	if (ce->n == ce->cap) {
		size_t cap = ce->cap ? ce->cap * 2 : 1024;
		void *nv = realloc(ce->v, cap * sizeof(*ce->v));
		if (!nv) {
			ce->oom = true;
			return 1;
		}
		ce->v = nv;
		ce->cap = cap;
	}
	ce->v[ce->n++] = (struct raw){ ts, payload, len };
	return 0;
}

/* Data pages kept from the previous read (--follow): a page whose
 * header (time_stamp, commit) did not change is not read again. */
struct cpage {
	uint64_t addr;
	uint8_t *buf;
};

struct vms_ftrace_cache {
	struct cpage *old, *cur;
	size_t nr_old, nr_cur, cap_old, cap_cur;
	size_t page_size;
	size_t reused, read;
};

struct reader {
	struct vms_kernel *k;
	const struct ft_layout *L;
	struct vms_ftrace *ft;
	size_t page_size;
	uint64_t pob;  /* page_offset_base */
	struct vms_ftrace_cache *cache;
};

static int cpage_cmp(const void *a, const void *b)
{
	const struct cpage *x = a, *y = b;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* Read data page @data into @buf, through the cache when there is one. */
static struct vms_error *read_data_page(struct reader *r, uint64_t data, uint8_t *buf)
{
	struct vms_ftrace_cache *c = r->cache;
	size_t hdr = r->L->page.data_off;
	if (!c || hdr >= r->page_size)
		return vms_kernel_read(r->k, data, buf, r->page_size);
	if (c->page_size != r->page_size) {  /* sub-buffer size changed */
		for (size_t i = 0; i < c->nr_old; i++)
			free(c->old[i].buf);
		c->nr_old = 0;
		c->page_size = r->page_size;
	}
	struct vms_error *err = vms_kernel_read(r->k, data, buf, hdr);
	if (err)
		return err;
	struct cpage key = { data, NULL };
	struct cpage *o = c->nr_old ? bsearch(&key, c->old, c->nr_old, sizeof(*o), cpage_cmp) : NULL;
	if (o && o->buf && !memcmp(o->buf, buf, hdr)) {
		memcpy(buf + hdr, o->buf + hdr, r->page_size - hdr);
		c->reused++;
	} else {
		if ((err = vms_kernel_read(r->k, data + hdr, buf + hdr, r->page_size - hdr)))
			return err;
		c->read++;
	}
	/* Keep it for the next read (the old copy's buffer moves over).  Out
	 * of memory here only means no reuse next time. */
	bool moved = o && o->buf;
	struct cpage cp = { data, moved ? o->buf : malloc(r->page_size) };
	if (!cp.buf)
		return NULL;
	if (!vms_vec_append((void **)&c->cur, &c->nr_cur, &c->cap_cur, sizeof(cp), &cp)) {
		if (!moved)
			free(cp.buf);
		return NULL;
	}
	if (moved)
		o->buf = NULL;
	memcpy(cp.buf, buf, r->page_size);
	return NULL;
}

struct vms_error *vms_ftrace_cache_new(struct vms_ftrace_cache **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? NULL : &vms_error_nomem;
}

void vms_ftrace_cache_free(struct vms_ftrace_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_old; i++)
		free(c->old[i].buf);
	for (size_t i = 0; i < c->nr_cur; i++)
		free(c->cur[i].buf);
	free(c->old);
	free(c->cur);
	free(c);
}

void vms_ftrace_cache_stats(const struct vms_ftrace_cache *c, size_t *reused, size_t *read)
{
	*reused = c ? c->reused : 0;
	*read = c ? c->read : 0;
}

/* After a read: what was seen becomes the old generation. */
static void cache_rotate(struct vms_ftrace_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nr_old; i++)
		free(c->old[i].buf);
	struct cpage *t = c->old;
	size_t tcap = c->cap_old;
	c->old = c->cur;
	c->cap_old = c->cap_cur;
	c->nr_old = c->nr_cur;
	c->cur = t;
	c->cap_cur = tcap;
	c->nr_cur = 0;
	qsort(c->old, c->nr_old, sizeof(*c->old), cpage_cmp);
	/* The same data page twice in one walk (hostile lists): keep one. */
	size_t w = 0;
	for (size_t i = 0; i < c->nr_old; i++) {
		if (w && c->old[w - 1].addr == c->old[i].addr) {
			free(c->old[i].buf);
			continue;
		}
		c->old[w++] = c->old[i];
	}
	c->nr_old = w;
}

static uint8_t *hold_page(struct reader *r)
{
	struct vms_ftrace *ft = r->ft;
	if (ft->nr_pages_held >= MAX_TOTAL_PAGES)
		return NULL;
	if ((ft->nr_pages_held & (ft->nr_pages_held - 1)) == 0 || !ft->pages) {
		size_t cap = ft->nr_pages_held ? ft->nr_pages_held * 2 : 64;
		void *nv = realloc(ft->pages, cap * sizeof(*ft->pages));
		if (!nv)
			return NULL;
		ft->pages = nv;
	}
	uint8_t *p = malloc(r->page_size);
	if (p)
		ft->pages[ft->nr_pages_held++] = p;
	return p;
}

/* Read and decode one buffer_page; false if the walk must stop. */
static bool do_page(struct reader *r, struct vms_ftrace_cpu_stats *cs,
		    uint64_t bpage, bool reader_page, struct cpu_events *ce,
		    uint64_t *prev_ts)
{
	const struct ft_layout *L = r->L;
	uint64_t data = 0, rd = 0;
	if (!vms_ok(readf(r->k, bpage, &L->bp_page, &data)) ||
	    (reader_page && !vms_ok(readf(r->k, bpage, &L->bp_read, &rd)))) {
		warn(r->k, &r->ft->res, "cpu %u: buffer_page 0x%llx unreadable",
		     cs->cpu, (unsigned long long)bpage);
		return false;
	}
	if (data & 0xfff) {
		warn(r->k, &r->ft->res, "cpu %u: buffer_page 0x%llx: data page 0x%llx not page-aligned: skipped",
		     cs->cpu, (unsigned long long)bpage, (unsigned long long)data);
		cs->bad_pages++;
		return true;
	}
	uint8_t *buf = hold_page(r);
	if (!buf) {
		warn(r->k, &r->ft->res, "cpu %u: page limit reached", cs->cpu);
		return false;
	}
	if (!vms_ok(read_data_page(r, data, buf))) {
		warn(r->k, &r->ft->res, "cpu %u: data page 0x%llx unreadable: skipped",
		     cs->cpu, (unsigned long long)data);
		cs->bad_pages++;
		return true;
	}
	struct vms_ftrace_page_result pr;
	size_t before = ce->n;
	struct vms_ftrace_page_info *pi = NULL;
	struct vms_ftrace *ft = r->ft;
	bool room = ft->page_info && ft->nr_page_info % 256 != 0;
	if (!room && ft->nr_page_info < MAX_TOTAL_PAGES) {
		void *nv = realloc(ft->page_info, (ft->nr_page_info + 256) * sizeof(*pi));
		if (nv) {
			ft->page_info = nv;
			room = true;
		}
	}
	if (room) {
		pi = &ft->page_info[ft->nr_page_info++];
		memset(pi, 0, sizeof(*pi));
		pi->cpu = cs->cpu;
		pi->bpage = bpage;
		pi->data = data;
		pi->reader = reader_page;
		pi->read = rd;
		pi->buf = buf;
		vms_ok(vms_kernel_translate(r->k, bpage + L->bp_list.offset + L->bp_next.offset,
					    &pi->next_paddr));
		vms_ok(vms_kernel_translate(r->k, data + L->page.commit_off, &pi->commit_paddr));
		vms_ok(vms_kernel_translate(r->k, data + L->page.data_off, &pi->first_paddr));
	}
	vms_ftrace_decode_page(buf, r->page_size, &L->page, reader_page ? rd : 0,
			       *prev_ts, collect_raw, ce, &pr);
	if (pr.corrupt) {
		warn(r->k, &r->ft->res, "cpu %u: page 0x%llx skipped: %s", cs->cpu,
		     (unsigned long long)data, pr.reason);
		cs->bad_pages++;
		if (pi)
			pi->corrupt = true;
		return true;
	}
	*prev_ts = pr.last_ts;
	cs->events += ce->n - before;
	if (pi)
		pi->events = ce->n - before;
	return !ce->oom;
}

static uint64_t next_page(struct reader *r, uint64_t bpage, uint64_t *raw)
{
	uint64_t n = 0;
	if (!vms_ok(vms_kernel_read_u64(r->k, bpage + r->L->bp_list.offset +
					r->L->bp_next.offset, &n)))
		return 0;
	if (raw)
		*raw = n;
	n &= ~RB_FLAG_MASK;
	return n ? n - r->L->bp_list.offset : 0;
}

/* rb_set_head_page: the page whose predecessor's next carries a flag. */
static uint64_t find_head(struct reader *r, uint64_t hint, uint64_t nr_pages)
{
	const struct ft_layout *L = r->L;
	uint64_t p = hint;
	for (uint64_t i = 0; p && i < 3 * (nr_pages + 1); i++) {
		uint64_t prev = 0, raw = 0;
		if (!vms_ok(vms_kernel_read_u64(r->k, p + L->bp_list.offset + L->bp_prev.offset,
						&prev)))
			return 0;
		prev &= ~RB_FLAG_MASK;
		if (!prev || !vms_ok(vms_kernel_read_u64(r->k, prev + L->bp_next.offset, &raw)))
			return 0;
		if ((raw & ~RB_FLAG_MASK) == p + L->bp_list.offset && (raw & RB_FLAG_MASK))
			return p;
		p = next_page(r, p, NULL);
	}
	return 0;
}

static void read_cpu(struct reader *r, unsigned cpu, uint64_t cb,
		     struct vms_ftrace_cpu_stats *cs, struct cpu_events *ce)
{
	const struct ft_layout *L = r->L;
	uint8_t *b = malloc(L->cb_size);
	if (!b)
		return;
	cs->cpu = cpu;
	if (!vms_ok(vms_kernel_read(r->k, cb, b, L->cb_size))) {
		warn(r->k, &r->ft->res, "cpu %u: ring_buffer_per_cpu 0x%llx unreadable",
		     cpu, (unsigned long long)cb);
		free(b);
		return;
	}
	cs->nr_pages = getf(b, L->cb_size, &L->cb_nr_pages);
	cs->entries = getf(b, L->cb_size, &L->cb_entries);
	cs->overrun = getf(b, L->cb_size, &L->cb_overrun);
	cs->commit_overrun = getf(b, L->cb_size, &L->cb_commit_overrun);
	cs->dropped_events = getf(b, L->cb_size, &L->cb_dropped_events);
	cs->read = getf(b, L->cb_size, &L->cb_read);
	cs->record_disabled = (uint32_t)getf(b, L->cb_size, &L->cb_record_disabled);
	uint64_t reader = getf(b, L->cb_size, &L->cb_reader_page);
	uint64_t commit = getf(b, L->cb_size, &L->cb_commit_page);
	uint64_t hint = getf(b, L->cb_size, &L->cb_head_page);
	free(b);
	if (!ce)
		return;
	uint64_t nr = cs->nr_pages;
	if (nr > MAX_PAGES_PER_CPU) {
		warn(r->k, &r->ft->res, "cpu %u: nr_pages %llu is absurd: capped at %u",
		     cpu, (unsigned long long)nr, MAX_PAGES_PER_CPU);
		nr = MAX_PAGES_PER_CPU;
	}
	uint64_t ts = 0;
	if (reader && !do_page(r, cs, reader, true, ce, &ts))
		return;
	if (!reader || reader == commit)
		return;
	uint64_t head = find_head(r, hint, nr);
	if (!head) {
		warn(r->k, &r->ft->res, "cpu %u: no head page found from 0x%llx: using the hint",
		     cpu, (unsigned long long)hint);
		head = hint;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	uint64_t p = head;
	bool reached = false;
	for (uint64_t i = 0; p && i < nr + 1; i++) {
		if (vms_addrset_add(&seen, p) != 1) {
			warn(r->k, &r->ft->res, "cpu %u: page list loops at buffer_page 0x%llx before the commit page",
			     cpu, (unsigned long long)p);
			reached = true;  /* reported */
			break;
		}
		if (!do_page(r, cs, p, false, ce, &ts)) {
			reached = true;
			break;
		}
		if (p == commit) {
			reached = true;
			break;
		}
		p = next_page(r, p, NULL);
	}
	if (!reached)
		warn(r->k, &r->ft->res, "cpu %u: page list does not reach the commit page 0x%llx within %llu pages",
		     cpu, (unsigned long long)commit, (unsigned long long)nr + 1);
	vms_addrset_free(&seen);
}

/* ---- records ---- */

static void decode_record(struct vms_kernel *k, const struct ft_layout *L,
			  const int types[6], struct vms_ftrace *ft,
			  struct vms_ftrace_record *rec)
{
	const uint8_t *d = rec->data;
	size_t n = rec->len;
	rec->type = (uint16_t)getf(d, n, &L->ent_type);
	rec->flags = (uint8_t)getf(d, n, &L->ent_flags);
	rec->preempt_count = (uint8_t)getf(d, n, &L->ent_preempt);
	rec->pid = (int32_t)getf(d, n, &L->ent_pid);
	rec->format = format_by_type(ft, rec->type);
	int t = rec->type;
	if (L->has_fn && t == types[0]) {
		rec->kind = VMS_FTRACE_FN;
		rec->ip = getf(d, n, &L->fn_ip);
		rec->parent_ip = getf(d, n, &L->fn_parent);
	} else if (L->has_ge && t == types[1]) {
		rec->kind = VMS_FTRACE_GRAPH_ENT;
		rec->ip = getf(d, n, &L->ge_func);
		rec->depth = (int32_t)getf(d, n, &L->ge_depth);
	} else if (L->has_gr && t == types[2]) {
		rec->kind = VMS_FTRACE_GRAPH_RET;
		rec->ip = getf(d, n, &L->gr_func);
		rec->depth = (int32_t)getf(d, n, &L->gr_depth);
		rec->overrun = (uint32_t)getf(d, n, &L->gr_overrun);
		rec->calltime = getf(d, n, &L->gr_calltime);
		rec->rettime = getf(d, n, &L->gr_rettime);
	} else if (L->has_pr && t == types[3]) {
		rec->kind = VMS_FTRACE_PRINT;
		rec->ip = getf(d, n, &L->pr_ip);
		if (L->pr_buf.offset < n)
			rec->text = strndup((const char *)d + L->pr_buf.offset,
					    n - L->pr_buf.offset);
	} else if (L->has_bpr && t == types[4]) {
		rec->kind = VMS_FTRACE_BPRINT;
		rec->ip = getf(d, n, &L->bp_ip);
		uint64_t fp = getf(d, n, &L->bp_fmt);
		char fmt[512];
		if (fp && vms_ok(vms_kernel_read_string(k, fp, fmt, sizeof(fmt))) &&
		    L->bp_buf.offset <= n)
			rec->text = ft_bprint_format(k, fmt, d + L->bp_buf.offset,
						     n - L->bp_buf.offset);
	} else if (L->has_bputs && t == types[5]) {
		rec->kind = VMS_FTRACE_BPUTS;
		rec->ip = getf(d, n, &L->bs_ip);
		uint64_t sp = getf(d, n, &L->bs_str);
		char s[512];
		if (sp && vms_ok(vms_kernel_read_string(k, sp, s, sizeof(s))))
			rec->text = strdup(s);
	}
}

static struct vms_error *open_buffer(struct vms_kernel *k, const struct ft_layout *L,
				     const char *instance, struct vms_ftrace *ft)
{
	struct vms_error *err;
	uint64_t tr, v, tracer = 0;
	memset(ft, 0, sizeof(*ft));
	snprintf(ft->instance, sizeof(ft->instance), "%s", instance ? instance : "");
	if ((err = find_instance(k, instance, &tr)))
		return err;
	ft->trace_array = tr;
	if ((err = readf(k, tr, &L->tr_buffer, &ft->buffer)))
		return vms_error_wrap(err, "trace_array 0x%llx", (unsigned long long)tr);
	if (!ft->buffer)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"trace_array 0x%llx has no ring buffer", (unsigned long long)tr);
	if ((err = readf(k, ft->buffer, &L->tb_record_disabled, &v)))
		return vms_error_wrap(err, "trace_buffer 0x%llx", (unsigned long long)ft->buffer);
	ft->record_disabled = (uint32_t)v;
	if (vms_ok(readf(k, tr, &L->tr_buffer_disabled, &v)))
		ft->buffer_disabled = (int32_t)v;
	ft->recording = !(ft->record_disabled & RB_BUFFER_OFF) && !ft->buffer_disabled;
	if (L->has_clock_id && vms_ok(readf(k, tr, &L->tr_clock_id, &v)))
		ft->clock_id = v;
	if (vms_ok(readf(k, tr, &L->tr_current_trace, &tracer)) && tracer &&
	    vms_ok(readf(k, tracer, &L->tracer_name, &v)) && v)
		vms_ok(vms_kernel_read_string(k, v, ft->tracer, sizeof(ft->tracer)));
	uint64_t ncpu_addr;
	uint32_t ncpu = 1;
	if (vms_ok(vms_kernel_symbol(k, "nr_cpu_ids", &ncpu_addr)))
		vms_ok(vms_kernel_read_u32(k, ncpu_addr, &ncpu));
	if (ncpu == 0 || ncpu > MAX_CPUS)
		return vms_error_create(VMS_ERR_CORRUPT, "nr_cpu_ids %u is absurd", ncpu);
	ft->nr_cpu_ids = ncpu;
	ft->cpus = calloc(ncpu, sizeof(*ft->cpus));
	if (!ft->cpus)
		return &vms_error_nomem;
	return NULL;
}

static struct vms_error *walk_cpus(struct vms_kernel *k, const struct ft_layout *L,
				   struct vms_ftrace *ft, struct cpu_events *ces,
				   struct vms_ftrace_cache *cache)
{
	struct reader r = { .k = k, .L = L, .ft = ft, .page_size = 4096, .cache = cache };
	uint64_t buffers, order = 0;
	struct vms_error *err = readf(k, ft->buffer, &L->tb_buffers, &buffers);
	if (err)
		return err;
	if (L->has_subbuf_order && vms_ok(readf(k, ft->buffer, &L->tb_subbuf_order, &order))) {
		if (order > 4) {
			warn(k, &ft->res, "trace_buffer.subbuf_order %llu is absurd: using 0",
			     (unsigned long long)order);
			order = 0;
		}
		r.page_size = 4096u << order;
	}
	ft->page_size = r.page_size;
	for (unsigned cpu = 0; cpu < ft->nr_cpu_ids; cpu++) {
		uint64_t cb = 0;
		if (!vms_ok(vms_kernel_read_u64(k, buffers + 8ull * cpu, &cb)) || !cb)
			continue;
		struct vms_ftrace_cpu_stats *cs = &ft->cpus[ft->nr_cpus++];
		read_cpu(&r, cpu, cb, cs, ces ? &ces[cpu] : NULL);
	}
	return NULL;
}

static struct vms_error *read_common(struct vms_kernel *k, const char *instance,
				     struct vms_ftrace *ft, bool events,
				     struct vms_ftrace_cache *cache)
{
	struct ft_layout L;
	struct vms_error *err = layout(k, &L);
	if (err)
		return err;
	if ((err = open_buffer(k, &L, instance, ft))) {
		vms_ftrace_free(ft);
		return err;
	}
	if (!events)
		return walk_cpus(k, &L, ft, NULL, NULL);
	struct cpu_events *ces = calloc(ft->nr_cpu_ids, sizeof(*ces));
	if (!ces)
		return &vms_error_nomem;
	read_formats(k, ft);
	if (cache)
		cache->reused = cache->read = 0;
	err = walk_cpus(k, &L, ft, ces, cache);
	cache_rotate(cache);
	size_t total = 0;
	for (unsigned c = 0; c < ft->nr_cpu_ids; c++) {
		if (ces[c].oom)
			warn(k, &ft->res, "cpu %u: out of memory after %zu events", c, ces[c].n);
		total += ces[c].n;
	}
	if (!err && total) {
		ft->records = calloc(total, sizeof(*ft->records));
		ft->next_on_cpu = calloc(total, sizeof(size_t));
		size_t *pos = calloc(ft->nr_cpu_ids, sizeof(size_t));
		size_t *last = calloc(ft->nr_cpu_ids, sizeof(size_t));
		if (!ft->records || !ft->next_on_cpu || !pos || !last) {
			free(pos);
			free(last);
			err = &vms_error_nomem;
		} else {
			int types[6] = {
				ftrace_type(k, ft, "function", "TRACE_FN"),
				ftrace_type(k, ft, "funcgraph_entry", "TRACE_GRAPH_ENT"),
				ftrace_type(k, ft, "funcgraph_exit", "TRACE_GRAPH_RET"),
				ftrace_type(k, ft, "print", "TRACE_PRINT"),
				ftrace_type(k, ft, "bprint", "TRACE_BPRINT"),
				ftrace_type(k, ft, "bputs", "TRACE_BPUTS"),
			};
			for (unsigned c = 0; c < ft->nr_cpu_ids; c++)
				last[c] = (size_t)-1;
			/* Merge as trace_find_next_entry(): smallest time
			 * stamp, the lower CPU on ties. */
			for (size_t i = 0; i < total; i++) {
				unsigned best = 0;
				bool found = false;
				for (unsigned c = 0; c < ft->nr_cpu_ids; c++) {
					if (pos[c] >= ces[c].n)
						continue;
					if (!found || ces[c].v[pos[c]].ts < ces[best].v[pos[best]].ts) {
						best = c;
						found = true;
					}
				}
				struct raw *rw = &ces[best].v[pos[best]++];
				struct vms_ftrace_record *rec = &ft->records[i];
				rec->cpu = best;
				rec->ts = rw->ts;
				rec->data = rw->p;
				rec->len = rw->len;
				decode_record(k, &L, types, ft, rec);
				ft->next_on_cpu[i] = (size_t)-1;
				if (last[best] != (size_t)-1)
					ft->next_on_cpu[last[best]] = i;
				last[best] = i;
			}
			ft->nr_records = total;
			free(pos);
			free(last);
		}
	}
	for (unsigned c = 0; c < ft->nr_cpu_ids; c++)
		free(ces[c].v);
	free(ces);
	if (err)
		vms_ftrace_free(ft);
	return err;
}

struct vms_error *vms_ftrace_read(struct vms_kernel *k, const char *instance,
				  struct vms_ftrace *out)
{
	return read_common(k, instance, out, true, NULL);
}

struct vms_error *vms_ftrace_read_cached(struct vms_kernel *k, const char *instance,
					 struct vms_ftrace_cache *cache, struct vms_ftrace *out)
{
	return read_common(k, instance, out, true, cache);
}

struct vms_error *vms_ftrace_status(struct vms_kernel *k, const char *instance,
				    struct vms_ftrace *out)
{
	return read_common(k, instance, out, false, NULL);
}

void vms_ftrace_free(struct vms_ftrace *ft)
{
	if (!ft)
		return;
	for (size_t i = 0; i < ft->nr_records; i++)
		free(ft->records[i].text);
	free(ft->records);
	free(ft->next_on_cpu);
	for (size_t i = 0; i < ft->nr_formats; i++)
		free(ft->formats[i].fields);
	free(ft->formats);
	for (size_t i = 0; i < ft->nr_pages_held; i++)
		free(ft->pages[i]);
	free(ft->pages);
	free(ft->cpus);
	free(ft->page_info);
	memset(ft, 0, sizeof(*ft));
}

bool vms_ftrace_field_int(const struct vms_ftrace_record *rec,
			  const struct vms_ftrace_field *f, int64_t *val)
{
	if (!f->size || f->size > 8 || (f->size & (f->size - 1)) ||
	    f->offset + f->size > rec->len)
		return false;
	const uint8_t *p = rec->data + f->offset;
	uint64_t u = f->size == 1 ? p[0] : f->size == 2 ? vms_le16(p)
		   : f->size == 4 ? vms_le32(p) : vms_le64(p);
	if (f->is_signed && f->size < 8 && (u >> (f->size * 8 - 1)) & 1)
		u |= ~0ULL << (f->size * 8);
	*val = (int64_t)u;
	return true;
}
