/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest kernel's ftrace ring buffer, read from guest memory
 * (src/os/linux/ftrace*.c).  Layouts come from BTF, event type ids and
 * field lists from the kernel's own event list (`ftrace_events`), never
 * from the guest's tracefs.
 */
#ifndef VMSIGHT_FTRACE_H
#define VMSIGHT_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vmsight/kernel.h>
#include <vmsight/linux.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The page decoder: a pure function over one data page ---- */

/* Where the header of a struct buffer_data_page lives (from BTF). */
struct vms_ftrace_page_layout {
	uint32_t ts_off;      /* time_stamp (u64) */
	uint32_t commit_off;  /* commit (local_t) */
	uint32_t commit_size; /* 4 or 8 */
	uint32_t data_off;    /* data[] */
};

/* One data event of a page: its payload (the trace_entry and what follows). */
typedef int (*vms_ftrace_raw_fn)(uint64_t ts, const uint8_t *payload,
				 size_t len, size_t offset, void *arg);

struct vms_ftrace_page_result {
	size_t events;        /* data events reported */
	uint64_t last_ts;     /* running time stamp at the end */
	bool corrupt;         /* nothing reported: the page is inconsistent */
	char reason[160];
};

/*
 * Decode the buffer_data_page in @page (@size bytes, the whole sub-buffer),
 * reporting data events whose offset in data[] is >= @from (the reader
 * page's read offset) to @fn in order.  @prev_ts is the time stamp of the
 * previous page (restores the top bits of absolute stamps).  The page is
 * validated first: a commit past the page end, an event running past the
 * commit, a data event too short to hold a trace_entry or an absurd length
 * makes the whole page corrupt (nothing reported, @res->reason says why).
 * Safe on arbitrary bytes; bounded by the page size.  Returns non-zero if
 * @fn stopped the walk.
 */
int vms_ftrace_decode_page(const uint8_t *page, size_t size,
			   const struct vms_ftrace_page_layout *L, size_t from,
			   uint64_t prev_ts, vms_ftrace_raw_fn fn, void *arg,
			   struct vms_ftrace_page_result *res);

/* ---- Event formats (the guest's ftrace_events list) ---- */

struct vms_ftrace_field {
	char name[64];
	char type[96];
	uint32_t offset, size;
	bool is_signed;
};

struct vms_ftrace_format {
	uint32_t type;          /* event.type */
	char system[32];
	char name[64];
	uint64_t call;          /* struct trace_event_call */
	size_t nr_fields;       /* class->fields, in offset order (common ones excluded) */
	struct vms_ftrace_field *fields;
};

/* What the built-in ftrace entries are (their type ids from memory). */
enum vms_ftrace_kind {
	VMS_FTRACE_OTHER,       /* a trace event with a known format, or unknown */
	VMS_FTRACE_FN,          /* function tracer: ip, parent_ip */
	VMS_FTRACE_GRAPH_ENT,   /* function_graph entry: func, depth */
	VMS_FTRACE_GRAPH_RET,   /* function_graph return: func, depth, times */
	VMS_FTRACE_PRINT,       /* trace_printk with a string */
	VMS_FTRACE_BPRINT,      /* trace_printk with binary args */
	VMS_FTRACE_BPUTS,       /* trace_puts */
};

/* One decoded event. */
struct vms_ftrace_record {
	unsigned cpu;
	uint64_t ts;
	uint16_t type;
	uint8_t flags;          /* trace_entry.flags (TRACE_FLAG_*) */
	uint8_t preempt_count;
	int32_t pid;
	enum vms_ftrace_kind kind;
	const struct vms_ftrace_format *format;  /* NULL if unknown type */
	uint64_t ip, parent_ip;  /* FN; GRAPH_*: ip = func; PRINT/BPRINT: ip */
	int32_t depth;
	uint32_t overrun;
	uint64_t calltime, rettime;
	char *text;             /* PRINT/BPRINT/BPUTS: the message (malloc'ed) */
	const uint8_t *data;    /* the whole entry (trace_entry first) */
	size_t len;
};

struct vms_ftrace_cpu_stats {
	unsigned cpu;
	uint64_t entries, overrun, commit_overrun, dropped_events, read;
	uint64_t nr_pages;
	uint32_t record_disabled;  /* per-CPU */
	size_t events;             /* events decoded */
	size_t bad_pages;          /* pages skipped as corrupt */
};

struct vms_ftrace {
	char instance[64];         /* "" for the global (top) instance */
	uint64_t trace_array;      /* struct trace_array */
	uint64_t buffer;           /* struct trace_buffer */
	char tracer[32];           /* current_trace->name */
	uint32_t record_disabled;  /* trace_buffer.record_disabled */
	int32_t buffer_disabled;   /* trace_array.buffer_disabled */
	bool recording;            /* RB_BUFFER_OFF clear and buffer_disabled 0 */
	uint64_t clock_id;         /* trace_array.clock_id */
	unsigned nr_cpu_ids;
	struct vms_ftrace_cpu_stats *cpus;  /* nr_cpus entries (possible CPUs with a buffer) */
	size_t nr_cpus;
	/* Every event, merged over the CPUs by time stamp (ties: lower CPU). */
	struct vms_ftrace_record *records;
	size_t nr_records;
	/* Per-CPU order: index into records of the next event on the same CPU,
	 * (size_t)-1 at the end. */
	size_t *next_on_cpu;
	struct vms_ftrace_format *formats;
	size_t nr_formats;
	struct vms_walk_result res;  /* truncated: some data skipped (warnings) */
	/* Every page visited, in order (for diagnostics and tests). */
	struct vms_ftrace_page_info {
		unsigned cpu;
		uint64_t bpage;         /* struct buffer_page */
		uint64_t data;          /* struct buffer_data_page */
		uint64_t next_paddr;    /* physical address of bpage->list.next */
		uint64_t commit_paddr;  /* physical address of data->commit */
		uint64_t first_paddr;   /* physical address of data->data[0] */
		bool reader, corrupt;
		size_t events;
		uint64_t read;          /* reader page: buffer_page.read */
		const uint8_t *buf;     /* the page as read (page_size bytes) */
	} *page_info;
	size_t page_size;          /* data page size: 4096 << subbuf_order */
	size_t nr_page_info;
	/* private */
	uint8_t **pages;
	size_t nr_pages_held;
};

/*
 * Read the whole ring buffer of trace instance @instance (NULL or "" for
 * the global one): every CPU's pages from the reader page and the head to
 * the commit page, decoded and merged.  Corrupt pages or lists (cycle,
 * commit past the page end, bad event) are skipped with a warning and
 * out->res.truncated; the error return is for what makes reading
 * impossible (no ftrace in the kernel, missing types, instance not found).
 */
struct vms_error *vms_ftrace_read(struct vms_kernel *k, const char *instance,
				  struct vms_ftrace *out);
void vms_ftrace_free(struct vms_ftrace *ft);

/*
 * For polling (--follow): vms_ftrace_read() that keeps a copy of every
 * data page it read in @cache and, on the next read, reads only the
 * header (time_stamp, commit) of a page it has seen: unchanged, its copy
 * is used; changed (written to, or recycled by the writer), the page is
 * read again.  The page lists and per-CPU structures are read every time.
 * vms_ftrace_cache_stats(): pages reused / read by the last read.
 */
struct vms_ftrace_cache;
struct vms_error *vms_ftrace_cache_new(struct vms_ftrace_cache **out);
void vms_ftrace_cache_free(struct vms_ftrace_cache *c);
struct vms_error *vms_ftrace_read_cached(struct vms_kernel *k, const char *instance,
					 struct vms_ftrace_cache *cache, struct vms_ftrace *out);
void vms_ftrace_cache_stats(const struct vms_ftrace_cache *c, size_t *reused, size_t *read);

/*
 * Write @ft (from vms_ftrace_read) as a trace-cmd .dat file, version 6
 * (trace-cmd.dat.v6(5)): header_page/header_event and the event format
 * texts rebuilt from the guest's event list (every "ftrace" event and every
 * other event present in the buffer), the guest's kallsyms (the symbol
 * table, module symbols as "name\t[module]"), its saved cmdlines (@comms,
 * may be NULL), then per CPU the raw data pages in reading order (corrupt
 * pages left out).  `trace-cmd report FILE` reads it.
 */
struct vms_ftrace_comms;
struct vms_error *vms_ftrace_write_dat(struct vms_kernel *k,
				       const struct vms_ftrace *ft,
				       const struct vms_ftrace_comms *comms,
				       const char *path);

/*
 * Trace events as the guest's trace file prints them: through each event's
 * print_fmt (read from guest memory with its fields, parsed once per event
 * type by libtraceevent; %ps/%pf symbols from the guest's kallsyms).  One
 * printer serves any number of reads of the same guest (it keeps what it
 * parsed, keyed by event type id).  The format and the record are
 * untrusted: what libtraceevent would read out of bounds is refused (see
 * src/os/linux/ftrace_print.c) with one warning per event type.
 */
struct vms_ftrace_printer;
struct vms_error *vms_ftrace_printer_new(struct vms_kernel *k,
					 struct vms_ftrace_printer **out);
void vms_ftrace_printer_free(struct vms_ftrace_printer *p);
/*
 * The text after "name: " in the trace file for @rec (a trace event with a
 * format), into @buf.  Returns 1 if printed, 0 if this record was refused
 * (a field or dynamic area outside it), -1 if the event's print fmt is not
 * usable (unparsable or refused: warned once); then print field=value.
 */
int vms_ftrace_print_info(struct vms_ftrace_printer *p, const struct vms_ftrace_record *rec,
			  char *buf, size_t size);

/* Only the control words and per-CPU counters (no pages). */
struct vms_error *vms_ftrace_status(struct vms_kernel *k, const char *instance,
				    struct vms_ftrace *out);

/* Names of the trace instances (ftrace_trace_arrays): "" for the global one. */
typedef int (*vms_ftrace_instance_fn)(const char *name, uint64_t tr, void *arg);
struct vms_error *vms_ftrace_for_each_instance(struct vms_kernel *k,
					       vms_ftrace_instance_fn fn, void *arg);

/* The value of field @f of @rec (integers up to 8 bytes, sign-extended). */
bool vms_ftrace_field_int(const struct vms_ftrace_record *rec,
			  const struct vms_ftrace_field *f, int64_t *val);

/*
 * Classify a code address: 0 core kernel text, 1 module text (see
 * vms_ftrace_text_map), -1 neither (the rootkit signal).
 */
struct vms_ftrace_text_map {
	uint64_t core[2][2];        /* [_stext,_etext), [_sinittext,_einittext) */
	size_t nr_mods;
	struct { uint64_t start, end; } *mods;
};
struct vms_error *vms_ftrace_text_map_load(struct vms_kernel *k,
					   struct vms_ftrace_text_map *map);
int vms_ftrace_text_classify(const struct vms_ftrace_text_map *map, uint64_t addr);
void vms_ftrace_text_map_free(struct vms_ftrace_text_map *map);

/*
 * Pause (@on false) or resume (@on true) recording as tracing_on does:
 * RB_BUFFER_OFF in trace_buffer.record_disabled and
 * trace_array.buffer_disabled.  Writes through @ram_path, which must be a
 * raw RAM file (guest physical = file offset, or split at the kernel's
 * ram_layout_lowmem); it is opened read-write and mapped only for this.
 */
struct vms_error *vms_ftrace_set_recording(struct vms_kernel *k,
					   const char *ram_path,
					   const char *instance, bool on);

/*
 * The task name the trace shows for @pid, as trace_find_cmdline() finds it
 * in the guest's saved cmdlines (savedcmd): "<idle>" for 0, "<...>" when
 * not saved.  Load once per trace; free with vms_ftrace_comms_free().
 */
struct vms_ftrace_comms {
	uint32_t pid_max;          /* PID_MAX_DEFAULT */
	uint32_t *pid_to_cmdline;  /* pid_max + 1 entries */
	uint32_t nr;               /* cmdline_num */
	uint32_t *cmdline_to_pid;
	char *names;               /* nr * 16 bytes */
};
struct vms_error *vms_ftrace_comms_load(struct vms_kernel *k,
					struct vms_ftrace_comms *c);
void vms_ftrace_comm(const struct vms_ftrace_comms *c, int32_t pid,
		     char buf[16]);
void vms_ftrace_comms_free(struct vms_ftrace_comms *c);

#ifdef __cplusplus
}
#endif
#endif
