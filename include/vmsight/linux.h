/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Views of a Linux guest built on a discovered kernel. */
#ifndef VMSIGHT_LINUX_H
#define VMSIGHT_LINUX_H

#include <stdbool.h>
#include <stdint.h>

#include <vmsight/kernel.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_task {
	uint64_t addr;        /* task_struct */
	int32_t pid;          /* thread id */
	int32_t tgid;         /* process id */
	int32_t ppid;         /* tgid of real_parent */
	uint32_t uid, euid, gid;
	char state;           /* as ps shows it: R S D T t X Z P I */
	uint32_t raw_state;   /* __state | exit_state */
	uint32_t flags;       /* PF_* */
	bool kthread;
	int cpu;              /* CPU the task last ran on, -1 if unknown */
	uint64_t mm;
	uint32_t nr_threads;  /* for a leader: threads in the group (walked) */
	char comm[64];        /* as /proc shows it: workqueue workers get
				 their "-desc" or "+desc" suffix */
	char base_comm[16];   /* task->comm itself */
	/* With VMS_TASKS_STATS (else zero): what /proc/PID/stat shows.  In
	 * process mode the counters are the whole thread group's (the live
	 * threads plus signal_struct's totals of the dead ones), in thread
	 * mode the thread's own. */
	bool has_stats;
	int32_t prio;         /* task->prio: 0-99 RT, 100-139 fair */
	int32_t nice;         /* static_prio - 120 */
	uint32_t policy;      /* SCHED_NORMAL 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6 */
	uint64_t runtime_ns;  /* se.sum_exec_runtime: CPU time, as top's TIME+ */
	uint64_t utime_ns, stime_ns;  /* tick-sampled user / system time */
	uint64_t start_time_ns;       /* task->start_time: monotonic ns since boot */
	uint64_t rss_pages;   /* file + anon + shmem resident pages (get_mm_rss) */
	uint64_t vm_pages;    /* mm->total_vm */
	bool stats_partial;   /* a thread or the mm could not be read */
};

enum {
	VMS_TASKS_THREADS = 1,  /* every thread, not only group leaders */
	VMS_TASKS_STATS = 2,    /* fill the has_stats fields (costs a read of the
				 * mm and, per process, of each thread's runtime) */
};

/* Return non-zero to stop the walk. */
typedef int (*vms_task_fn)(const struct vms_task *task, void *arg);

struct vms_walk_result {
	size_t count;         /* tasks reported */
	bool truncated;       /* the walk ended early on corrupt or hostile data */
	char reason[256];     /* why, naming the address */
};

/*
 * Walk the task list from init_task (pid 0 itself excluded), calling @fn
 * for each process, or each thread with VMS_TASKS_THREADS.  A corrupt list
 * (cycle, broken back link, unreadable or absurd pointer) ends the walk
 * with @res->truncated set and a warning logged; the error return is kept
 * for what makes the walk impossible (missing symbol or type).
 */
struct vms_error *vms_linux_for_each_task(struct vms_kernel *k, unsigned flags,
					  vms_task_fn fn, void *arg,
					  struct vms_walk_result *res);

/* ---- Processes: memory, command lines, maps, files (src/os/linux/mm.c,
 * vma.c, files.c) ---- */

/* Find one task by thread id (the walk stops at it). */
struct vms_error *vms_linux_find_task(struct vms_kernel *k, int32_t tid,
				      struct vms_task *out);

struct vms_mm_info {
	uint64_t mm;                /* struct mm_struct, 0 for kernel threads */
	uint64_t pgd_paddr;         /* physical address of its top-level table */
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t start_brk, brk, start_stack;
	uint32_t map_count;
};

struct vms_error *vms_linux_task_mm(struct vms_kernel *k,
				    const struct vms_task *task,
				    struct vms_mm_info *out);
/* Read @len bytes at user virtual @uaddr through the task's page table.
 * A page that is not present (swapped out, never touched) is VMS_ERR_FAULT. */
struct vms_error *vms_linux_read_user(struct vms_kernel *k,
				      const struct vms_mm_info *mm,
				      uint64_t uaddr, void *buf, size_t len);

/* What /proc/PID/cmdline or /proc/PID/environ would return, read from
 * guest memory and capped at @max bytes.  *@buf is malloc'ed (NULL with
 * *@len 0 for a kernel thread).  Hostile bounds (start > end, absurd
 * sizes, an unmapped page midway) give what could be read and a warning in
 * @res. */
struct vms_error *vms_linux_cmdline(struct vms_kernel *k,
				    const struct vms_task *task, size_t max,
				    uint8_t **buf, size_t *len,
				    struct vms_walk_result *res);
struct vms_error *vms_linux_environ(struct vms_kernel *k,
				    const struct vms_task *task, size_t max,
				    uint8_t **buf, size_t *len,
				    struct vms_walk_result *res);

struct vms_vma {
	uint64_t addr;              /* struct vm_area_struct */
	uint64_t start, end;
	uint64_t flags;             /* vm_flags */
	uint64_t pgoff;             /* in pages */
	uint64_t file;              /* struct file, 0 if anonymous */
	uint32_t dev_major, dev_minor;
	uint64_t inode;
	char perms[5];              /* "r-xp" */
	char name[4096];            /* path, [heap], [stack], [vdso], ... or "" */
};

typedef int (*vms_vma_fn)(const struct vms_vma *vma, void *arg);
/* The task's memory areas in address order (maple tree on 6.1+, the mmap
 * list before). */
struct vms_error *vms_linux_for_each_vma(struct vms_kernel *k,
					 const struct vms_task *task,
					 vms_vma_fn fn, void *arg,
					 struct vms_walk_result *res);

struct vms_fd {
	int fd;
	uint64_t file;              /* struct file */
	uint64_t pos;
	uint32_t flags;             /* f_flags */
	char path[4096];            /* as readlink(/proc/PID/fd/N) shows it */
};

typedef int (*vms_fd_fn)(const struct vms_fd *fd, void *arg);
struct vms_error *vms_linux_for_each_fd(struct vms_kernel *k,
					const struct vms_task *task,
					vms_fd_fn fn, void *arg,
					struct vms_walk_result *res);

/* The path of a struct file (d_path over the mount tree, or the pseudo
 * names of pipes, sockets and anonymous inodes). */
struct vms_error *vms_linux_file_path(struct vms_kernel *k, uint64_t file,
				      char *buf, size_t size);

/* ---- Runqueues (src/os/linux/sched.c) ---- */

enum vms_sched_class {
	VMS_SCHED_UNKNOWN,   /* sched_class pointer matches no known class */
	VMS_SCHED_STOP,
	VMS_SCHED_DL,
	VMS_SCHED_RT,
	VMS_SCHED_FAIR,
	VMS_SCHED_EXT,
	VMS_SCHED_IDLE,
};

/* "stop", "dl", "rt", "fair", "ext", "idle" or "unknown". */
const char *vms_sched_class_name(enum vms_sched_class c);

/* A task on a CPU's runqueue, or running on it. */
struct vms_rq_task {
	unsigned cpu;
	uint64_t addr;          /* task_struct */
	int32_t pid, tgid;
	char comm[16];          /* task->comm */
	char state;             /* as ps shows it (R S D ...) */
	enum vms_sched_class sched_class;
	uint32_t policy;        /* SCHED_NORMAL 0, FIFO 1, RR 2, BATCH 3, IDLE 5, DEADLINE 6 */
	int32_t prio;           /* task->prio: 0-99 RT, 100-139 fair (120 = nice 0) */
	int32_t static_prio;
	int32_t nice;           /* static_prio - 120 */
	uint32_t rt_priority;   /* the user-visible RT priority (chrt) */
	uint64_t weight;        /* se.load.weight (scaled by 1024 on 64-bit) */
	uint64_t vruntime;      /* se.vruntime */
	bool has_deadline;      /* EEVDF (6.6+), or a DL task's dl.deadline */
	uint64_t deadline;
	bool has_vlag;
	int64_t vlag;           /* se.vlag (EEVDF) */
	bool current;           /* rq->curr */
	bool on_cpu;            /* task->on_cpu */
	bool queued;            /* found in the cfs tree / rt or dl queue */
	bool delayed;           /* se.sched_delayed: dequeue deferred (6.12+) */
	int32_t rt_list;        /* RT: the priority list it was found on (what the
				 * kernel picks from: the first task of the lowest
				 * non-empty list), normally == prio; -1 otherwise */
	bool rt_throttled;      /* an RT task whose rt_rq is throttled: it waits on
				 * the priority list but rq->nr_running leaves it out */
	unsigned group_depth;   /* task groups (cgroups) above it, 0 = root */
};

/*
 * A deadline server (6.8+: rq->fair_server): a sched_dl_entity that runs
 * the fair class's tasks inside a bandwidth reservation, so that RT tasks
 * cannot starve them (it replaced RT throttling in 6.12).  It is queued in
 * the deadline tree like a deadline task; with dl_defer it waits, throttled,
 * until the fair tasks have starved for a while.
 */
struct vms_dl_server {
	uint64_t addr;          /* the sched_dl_entity */
	bool queued;            /* on the deadline tree (its rb_node is linked) */
	bool has_active;
	bool active;            /* dl_server_active: started, fair tasks present */
	bool throttled;         /* dl_throttled: runtime used up, or deferred */
	bool defer;             /* dl_defer: runs only once fair tasks starve */
	bool defer_running;     /* dl_defer_running: the deferral ended */
	bool running;           /* rq->curr was picked through this server */
	int64_t runtime;        /* ns of reservation left (dl_se->runtime) */
	uint64_t deadline;      /* absolute, rq clock */
};

/* One CPU's struct rq, reported after its tasks. */
struct vms_runqueue {
	unsigned cpu;
	uint64_t addr;              /* struct rq */
	uint32_t nr_running;        /* rq->nr_running */
	bool nr_running_absurd;     /* larger than the PID limit: ignored */
	uint32_t cfs_nr_running;    /* rq->cfs.nr_running (nr_queued) */
	uint32_t cfs_h_nr_running;  /* h_nr_running / h_nr_queued */
	uint32_t rt_nr_running;
	uint32_t dl_nr_running;
	uint64_t clock;
	bool has_min_vruntime;
	uint64_t min_vruntime;      /* cfs min_vruntime (or zero_vruntime) */
	uint64_t curr, idle, stop;  /* task_struct addresses */
	int32_t curr_pid;
	char curr_comm[16];
	uint64_t current_task;      /* per-CPU current_task (0 if unknown) */
	size_t queued;              /* tasks found queued (curr not counted) */
	bool curr_queued;           /* curr was also found in a queue */
	int32_t curr_rt_list;       /* the RT priority list curr was found on, or -1 */
	bool locked;                /* rq->__lock held when read: a CPU (paused, or
				     * live) was in the middle of changing this
				     * runqueue, whose counts may disagree then */
	bool curr_need_resched;     /* TIF_NEED_RESCHED on curr: the scheduler has
				     * decided to switch and will at the next
				     * preemption point (the queues already say what) */
	bool truncated;             /* this CPU's walk stopped early */
	/*
	 * RT bandwidth (sched_rt_runtime_us): when the RT tasks used up their
	 * runtime the top rt_rq is throttled and dequeued (rt_queued 0): its
	 * tasks stay on the priority lists and in rt_nr_running, but
	 * rq->nr_running drops them until the period refills.  6.12 removed
	 * the default throttling (rt_throttled is then absent).
	 */
	bool has_rt_queued, rt_queued;
	bool has_rt_throttled, rt_throttled;
	uint64_t rt_time, rt_runtime;   /* ns used / allowed this period (0 if absent) */
	bool has_fair_server;
	struct vms_dl_server fair_server;
	unsigned servers_queued;        /* deadline servers found in the deadline tree */
	/*
	 * rq->nr_running accounted from what the walk found: the tasks that
	 * count (a non-idle current, every queued task, less RT tasks of a
	 * throttled rt_rq) and, on kernels that count them (6.8 up to the
	 * 6.17 fix "sched/deadline: don't count nr_running for dl_server
	 * proxy tasks"), the queued servers.  Which kind the kernel is is
	 * inferred per CPU: nr_running_accounted says whether either sum
	 * equals rq->nr_running; servers_counted whether the servers did.
	 */
	uint32_t nr_tasks_counted;
	bool nr_running_accounted;
	bool servers_counted;
};

typedef int (*vms_rq_task_fn)(const struct vms_rq_task *task, void *arg);
typedef int (*vms_runqueue_fn)(const struct vms_runqueue *rq, void *arg);

/*
 * For each possible CPU: call @task_fn for rq->curr and for every task
 * queued in the CFS tree (descending into task groups), the RT priority
 * lists, the deadline tree and the stop task, then @rq_fn with the CPU's
 * summary.  Either callback may be NULL; non-zero stops the walk.  Corrupt
 * trees and lists (cycle, broken parent/back link, unreadable pointer,
 * absurd depth or length) end that queue's walk with @res->truncated set
 * and a warning; the walk goes on with the next queue and CPU.
 * @res->count counts tasks reported.
 */
struct vms_error *vms_linux_for_each_runqueue(struct vms_kernel *k,
					      vms_runqueue_fn rq_fn,
					      vms_rq_task_fn task_fn, void *arg,
					      struct vms_walk_result *res);

/* ---- Loaded modules and module symbols (src/os/linux/modules.c) ---- */

struct vms_module {
	uint64_t addr;              /* struct module */
	char name[64];
	uint64_t base;              /* text base, as /proc/modules shows it */
	uint64_t size;              /* every memory region (core + init), as /proc/modules */
	uint64_t text_size;         /* executable part of the core region */
	int state;                  /* enum module_state value */
	const char *state_name;     /* "Live", "Loading" or "Unloading" */
	int32_t refcount;           /* refcnt - MODULE_REF_BASE, as /proc/modules */
	bool permanent;             /* an init routine and no exit: "[permanent]" */
	char taints[24];            /* "(OE)"-style flags as /proc/modules, "" if none */
	size_t nr_used_by;          /* modules that use this one (source_list) */
	const char *const *used_by; /* their names; valid during the callback only */
	uint64_t kallsyms;          /* struct mod_kallsyms in use */
	uint32_t num_symtab;        /* its symbol count */
	uint64_t ksymtab;           /* struct kernel_symbol[]: EXPORT_SYMBOL (not _GPL) */
	uint32_t num_ksyms;
	bool used_by_truncated;     /* the source_list walk stopped early */
};

typedef int (*vms_module_fn)(const struct vms_module *mod, void *arg);

/*
 * Walk the loaded modules from the kallsyms symbol `modules`, in list
 * order (the order of /proc/modules: newest first), skipping unformed
 * ones.  Corrupt lists (cycle, broken back link, unreadable pointer, more
 * than 65536 modules) end the walk, or that module's used-by list, with
 * @res->truncated set and a warning.  @res->count counts modules reported.
 */
struct vms_error *vms_linux_for_each_module(struct vms_kernel *k,
					    vms_module_fn fn, void *arg,
					    struct vms_walk_result *res);

/*
 * Add every loaded module's symbols (its mod_kallsyms: Elf64_Sym st_value,
 * strtab name, typetab letter, upper case when exported by EXPORT_SYMBOL:
 * as /proc/kallsyms shows them) to the
 * kernel's symbol table, tagged with the module name, and finish the table
 * again.  Pointers obtained from the table before are invalidated.  A
 * second call does nothing.  Corrupt module data: warning, @res->truncated,
 * the symbols read so far kept.  @res->count counts symbols added.
 */
struct vms_error *vms_linux_load_module_symbols(struct vms_kernel *k,
						struct vms_walk_result *res);

/* ---- The kernel log: printk ring buffer (src/os/linux/printk.c) ---- */

struct vms_printk_record {
	uint64_t seq;
	uint64_t ts_nsec;           /* local_clock() at logging time */
	uint8_t level;              /* 0 (emerg) .. 7 (debug) */
	uint8_t facility;           /* 0 kernel, 1 user (/dev/kmsg), ... */
	uint8_t flags;              /* LOG_NEWLINE, LOG_CONT */
	uint32_t caller_id;         /* 0x80000000|cpu, or task id */
	uint64_t id;                /* descriptor id */
	const char *text;           /* NUL-terminated, @text_len bytes */
	size_t text_len;            /* may hold '\n': a multi-line record */
};

typedef int (*vms_printk_fn)(const struct vms_printk_record *r, void *arg);

/*
 * Call @fn for each record of the kernel log (5.10+ lockless ring buffer,
 * symbol `prb`), oldest first.  Records being written (reserved) or whose
 * data was recycled are skipped, as the kernel's readers do; committed but
 * not yet finalized records at the head are reported.  Corrupt descriptors
 * (id, seq or lpos inconsistent, text_len past its data block) are skipped
 * with a warning and @res->truncated.  The pre-5.10 log_buf format is not
 * supported (VMS_ERR_UNSUPPORTED).
 */
struct vms_error *vms_linux_for_each_printk(struct vms_kernel *k,
					    vms_printk_fn fn, void *arg,
					    struct vms_walk_result *res);

/* Layout of the ring buffer's records, from BTF (offsets in bytes). */
struct vms_prb_layout {
	uint32_t desc_size, desc_state_var, desc_begin, desc_next;
	uint32_t info_size, info_seq, info_ts_nsec, info_text_len,
		 info_facility, info_caller_id;
	uint32_t info_level_byte, info_level_shift, info_level_bits;
	uint32_t info_flags_byte, info_flags_shift, info_flags_bits;
};

/* A copy of a printk ring buffer: its arrays and its ring indexes. */
struct vms_prb_image {
	struct vms_prb_layout L;
	unsigned count_bits;        /* 1 << count_bits descriptors and infos */
	unsigned size_bits;         /* 1 << size_bits bytes of text data */
	const uint8_t *descs;
	size_t descs_len;
	const uint8_t *infos;
	size_t infos_len;
	const uint8_t *data;
	size_t data_len;
	uint64_t head_id, tail_id, head_lpos, tail_lpos;
};

/*
 * Decode the records of @img, oldest first: a pure function over the
 * buffers, safe on arbitrary bytes (the fuzzed part of
 * vms_linux_for_each_printk).  Problems go to @res (the first one in
 * @res->reason) and *@nr_bad counts skipped corrupt records.  Errors only
 * for an inconsistent @img (arrays shorter than its sizes say).
 */
struct vms_error *vms_prb_decode(const struct vms_prb_image *img,
				 vms_printk_fn fn, void *arg,
				 struct vms_walk_result *res, size_t *nr_bad);

#ifdef __cplusplus
}
#endif
#endif
