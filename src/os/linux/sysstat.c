// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Whole-system figures, computed from guest memory the way the guest's own
 * /proc files compute them (Linux 6.1 and 6.12):
 *
 * - uptime from jiffies_64 (kernel/time/timer.c), HZ inferred from
 *   tick_nsec (kernel/time/ntp.c, NSEC_PER_SEC / HZ give or take the NTP
 *   adjustment);
 * - /proc/loadavg (fs/proc/loadavg.c): avenrun[], nr_running() (the sum of
 *   rq->nr_running over online CPUs), nr_threads and the init PID
 *   namespace's idr cursor - 1;
 * - the per-CPU lines of /proc/stat (fs/proc/stat.c): kernel_cpustat, except
 *   idle and iowait of an online CPU on a NO_HZ kernel, which come from
 *   tick_cpu_sched (get_cpu_idle_time_us / get_cpu_iowait_time_us);
 * - /proc/meminfo (fs/proc/meminfo.c, si_meminfo, si_mem_available,
 *   nr_blockdev_pages, si_swapinfo): vm_zone_stat[], vm_node_stat[], the
 *   zones' low watermarks and the block device inodes' page caches.
 *
 * Offsets and sizes come from BTF, array indices from the kernel's enums.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/sysstat.h>

#include "os/linux/kernel_internal.h"
#include "util/addrset.h"
#include "util/bytes.h"
#include "util/consume.h"

#define NSEC_PER_SEC        1000000000ull
#define PAGE_SHIFT          12                /* x86-64 */
#define TS_FLAG_IDLE_ACTIVE (1ull << 2)       /* kernel/time/tick-sched.h, 6.9+ */

#define MAX_CPUSTAT       64u        /* NR_STATS is 10-11 */
#define MAX_VMSTAT_ITEMS  1024u      /* NR_VM_{ZONE,NODE}_STAT_ITEMS are < 100 */
#define MAX_NODES         4096u      /* MAX_NUMNODES is at most 1024 on x86 */
#define MAX_ZONES         16u        /* MAX_NR_ZONES is 4-6 */
#define MAX_WMARKS        16u        /* NR_WMARK is 4 */
#define MAX_TICK_SCHED    4096u
#define MAX_BDEV_INODES   (1u << 20) /* block devices: far fewer in practice */

/* ---- small helpers ---- */

static struct vms_error *sym_u64(struct vms_kernel *k, const char *name, uint64_t *v)
{
	uint64_t a;
	struct vms_error *err = vms_kernel_symbol(k, name, &a);
	if (!err)
		err = vms_kernel_read_u64(k, a, v);
	return err ? vms_error_wrap(err, "%s", name) : NULL;
}

static struct vms_error *sym_u32(struct vms_kernel *k, const char *name, uint32_t *v)
{
	uint64_t a;
	struct vms_error *err = vms_kernel_symbol(k, name, &a);
	if (!err)
		err = vms_kernel_read_u32(k, a, v);
	return err ? vms_error_wrap(err, "%s", name) : NULL;
}

/* An enumerator used as an array index, below @limit. */
static struct vms_error *enum_index(struct vms_kernel *k, const char *name,
				    uint32_t limit, uint32_t *idx)
{
	int64_t v;
	*idx = 0;
	struct vms_error *err = vms_kernel_enum_value(k, name, &v);
	if (err)
		return err;
	if (v < 0 || (uint64_t)v >= limit)
		return vms_error_create(VMS_ERR_CORRUPT,
			"enumerator %s is %lld, outside its array of %u entries",
			name, (long long)v, limit);
	*idx = (uint32_t)v;
	return NULL;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A signed guest counter (atomic_long_t, ktime_t) read as unsigned: a
 * negative value counts as 0, as global_node_page_state() does. */
static uint64_t nonneg(uint64_t v)
{
	return (int64_t)v < 0 ? 0 : v;
}

/* Bit @bit of the bitmap at @addr of @bytes bytes (cpumask, nodemask). */
static struct vms_error *bitmap_test(struct vms_kernel *k, uint64_t addr, size_t bytes,
				     unsigned bit, bool *set)
{
	if ((uint64_t)bit / 8 >= bytes) {
		*set = false;
		return NULL;
	}
	uint64_t word;
	struct vms_error *err = vms_kernel_read_u64(k, addr + 8ull * (bit / 64), &word);
	if (err)
		return err;
	*set = (word >> (bit % 64)) & 1;
	return NULL;
}

static struct vms_error *cpu_online(struct vms_kernel *k, unsigned cpu, bool *online)
{
	uint64_t mask;
	size_t size;
	struct vms_error *err;
	if ((err = vms_kernel_symbol(k, "__cpu_online_mask", &mask)))
		return err;
	if (!vms_ok(vms_kernel_struct_size(k, "cpumask", &size)) || size == 0 || size > 1024)
		size = (vms_kernel_info(k)->nr_cpu_ids + 63) / 64 * 8;
	err = bitmap_test(k, mask, size, cpu, online);
	return err ? vms_error_wrap(err, "__cpu_online_mask") : NULL;
}

/* ---- uptime, loadavg ---- */

static struct vms_error *infer_hz(struct vms_kernel *k, unsigned *hz)
{
	uint64_t tick_nsec;
	struct vms_error *err = sym_u64(k, "tick_nsec", &tick_nsec);
	if (err)
		return vms_error_wrap(err, "inferring HZ");
	if (tick_nsec == 0 || tick_nsec > NSEC_PER_SEC)
		return vms_error_create(VMS_ERR_CORRUPT,
			"tick_nsec is %llu: no HZ gives that tick length",
			(unsigned long long)tick_nsec);
	uint64_t h = (NSEC_PER_SEC + tick_nsec / 2) / tick_nsec;
	if (h != 100 && h != 250 && h != 300 && h != 1000)
		return vms_error_create(VMS_ERR_UNSUPPORTED,
			"tick_nsec %llu gives HZ %llu, not one of 100, 250, 300, 1000",
			(unsigned long long)tick_nsec, (unsigned long long)h);
	*hz = (unsigned)h;
	return NULL;
}

/* The latest tick_cpu_sched.idle_entrytime of any CPU, 0 if unknown. */
static uint64_t latest_idle_entry(struct vms_kernel *k, unsigned nr_cpus)
{
	uint64_t sym, ts, latest = 0, v;
	struct vms_field f;
	if (!vms_ok(vms_kernel_symbol(k, "tick_cpu_sched", &sym)) ||
	    !vms_ok(vms_kernel_field(k, "tick_sched", "idle_entrytime", &f)) || f.size != 8)
		return 0;
	for (unsigned cpu = 0; cpu < nr_cpus && cpu < 8192; cpu++)
		if (vms_ok(vms_kernel_percpu(k, cpu, sym, &ts)) &&
		    vms_ok(vms_kernel_read_u64(k, ts + f.offset, &v)) && (int64_t)v > 0 &&
		    v > latest)
			latest = v;
	return latest;
}

struct vms_error *vms_linux_sysstat(struct vms_kernel *k, struct vms_sysstat *out)
{
	struct vms_error *err;
	memset(out, 0, sizeof(*out));
	const struct vms_kernel_info *in = vms_kernel_info(k);
	out->nr_cpu_ids = in->nr_cpu_ids;
	out->nr_cpus_online = in->nr_cpus_online;

	if ((err = infer_hz(k, &out->hz)) ||
	    (err = sym_u64(k, "jiffies_64", &out->jiffies)))
		return err;
	/* include/linux/jiffies.h: INITIAL_JIFFIES ((unsigned long)(unsigned int)(-300*HZ)) */
	uint64_t initial = (uint64_t)(uint32_t)(-300 * (int32_t)out->hz);
	if (out->jiffies < initial)
		return vms_error_create(VMS_ERR_CORRUPT,
			"jiffies_64 %llu is below INITIAL_JIFFIES %llu (HZ %u)",
			(unsigned long long)out->jiffies, (unsigned long long)initial, out->hz);
	uint64_t j = out->jiffies - initial;
	out->uptime_ns = j / out->hz * NSEC_PER_SEC + j % out->hz * NSEC_PER_SEC / out->hz;
	/* With NO_HZ, jiffies stop while every CPU sleeps: a guest paused idle
	 * reads seconds behind its /proc/uptime.  The latest moment it recorded
	 * is then a CPU's idle entry (CLOCK_MONOTONIC, which is boot time in a
	 * guest that never suspended). */
	uint64_t latest = latest_idle_entry(k, in->nr_cpu_ids);
	if (latest > out->uptime_ns)
		out->uptime_ns = latest;

	uint64_t a;
	if ((err = vms_kernel_symbol(k, "avenrun", &a)))
		return err;
	for (int i = 0; i < 3; i++)
		if ((err = vms_kernel_read_u64(k, a + 8ull * i, &out->avenrun[i])))
			return vms_error_wrap(err, "avenrun[%d]", i);

	uint32_t v32;
	if ((err = sym_u32(k, "nr_threads", &v32)))
		return err;
	out->nr_threads = v32;

	/* idr_get_cursor(&init_pid_ns.idr) - 1 */
	struct vms_field f;
	if ((err = vms_kernel_symbol(k, "init_pid_ns", &a)) ||
	    (err = vms_kernel_field(k, "pid_namespace", "idr.idr_next", &f)))
		return err;
	if ((err = vms_kernel_read_u32(k, a + f.offset, &v32)))
		return vms_error_wrap(err, "init_pid_ns.idr.idr_next");
	out->last_pid = (int32_t)(v32 - 1);

	/* nr_running(): for_each_online_cpu, cpu_rq(i)->nr_running */
	uint64_t runqueues;
	if ((err = vms_kernel_symbol(k, "runqueues", &runqueues)) ||
	    (err = vms_kernel_field(k, "rq", "nr_running", &f)))
		return err;
	uint64_t sum = 0;
	for (unsigned cpu = 0; cpu < in->nr_cpu_ids; cpu++) {
		bool online;
		uint64_t rq;
		if ((err = cpu_online(k, cpu, &online)))
			return err;
		if (!online)
			continue;
		if ((err = vms_kernel_percpu(k, cpu, runqueues, &rq)) ||
		    (err = vms_kernel_read_u32(k, rq + f.offset, &v32)))
			return vms_error_wrap(err, "rq->nr_running of CPU %u", cpu);
		sum += v32;
	}
	/* The kernel sums in an unsigned int. */
	out->nr_running = (uint32_t)sum;
	return NULL;
}

/* ---- per-CPU times ---- */

static const struct {
	const char *name;
	size_t off;
} cpustat_items[] = {
	{ "CPUTIME_USER", offsetof(struct vms_cpu_times, user) },
	{ "CPUTIME_NICE", offsetof(struct vms_cpu_times, nice) },
	{ "CPUTIME_SYSTEM", offsetof(struct vms_cpu_times, system) },
	{ "CPUTIME_SOFTIRQ", offsetof(struct vms_cpu_times, softirq) },
	{ "CPUTIME_IRQ", offsetof(struct vms_cpu_times, irq) },
	{ "CPUTIME_IDLE", offsetof(struct vms_cpu_times, idle) },
	{ "CPUTIME_IOWAIT", offsetof(struct vms_cpu_times, iowait) },
	{ "CPUTIME_STEAL", offsetof(struct vms_cpu_times, steal) },
	{ "CPUTIME_GUEST", offsetof(struct vms_cpu_times, guest) },
	{ "CPUTIME_GUEST_NICE", offsetof(struct vms_cpu_times, guest_nice) },
};

/*
 * get_cpu_idle_time_us(cpu, NULL) and get_cpu_iowait_time_us(cpu, NULL):
 * the tick_sched sleep time, plus, while the CPU sleeps (idle_active), the
 * time since idle_entrytime, credited to iowait when tasks wait for I/O on
 * that CPU (rq->nr_iowait), else to idle; both truncated to microseconds.
 * The kernel takes "now" from ktime_get(), which memory does not hold: the
 * latest monotonic time the guest recorded stands in for it (the last
 * jiffies update, or the CPU's idle entry if later), so an idle CPU's
 * current sleep counts up to then.
 * Returns false when /proc/stat would use kernel_cpustat instead.
 */
static bool nohz_sleep_times(struct vms_kernel *k, unsigned cpu, uint64_t *idle,
			     uint64_t *iowait)
{
	uint32_t active;
	uint64_t sym, ts;
	size_t size;
	struct vms_field f_idle, f_iowait, f_entry, f_active;
	bool has_active, flag_word;

	/* tick_nohz_active is 0 for nohz=off or while the tick is periodic. */
	if (!vms_ok(sym_u32(k, "tick_nohz_active", &active)) || !active)
		return false;
	if (!vms_ok(vms_kernel_symbol(k, "tick_cpu_sched", &sym)) ||
	    !vms_ok(vms_kernel_struct_size(k, "tick_sched", &size)) || size > MAX_TICK_SCHED ||
	    !vms_ok(vms_kernel_field(k, "tick_sched", "idle_sleeptime", &f_idle)) ||
	    !vms_ok(vms_kernel_field(k, "tick_sched", "iowait_sleeptime", &f_iowait)) ||
	    f_idle.size != 8 || f_iowait.size != 8 ||
	    f_idle.offset + 8 > size || f_iowait.offset + 8 > size)
		return false;
	/* idle_active is a bitfield up to 6.8, TS_FLAG_IDLE_ACTIVE in flags since. */
	flag_word = false;
	has_active = vms_ok(vms_kernel_field(k, "tick_sched", "idle_active", &f_active));
	if (!has_active) {
		has_active = vms_ok(vms_kernel_field(k, "tick_sched", "flags", &f_active));
		flag_word = has_active;
	}
	if (has_active && !vms_ok(vms_kernel_field(k, "tick_sched", "idle_entrytime", &f_entry)))
		has_active = false;
	if (has_active && (f_entry.size != 8 || f_entry.offset + 8 > size))
		has_active = false;

	uint8_t buf[MAX_TICK_SCHED];
	if (!vms_ok(vms_kernel_percpu(k, cpu, sym, &ts)) ||
	    !vms_ok(vms_kernel_read(k, ts, buf, size))) {
		vms_kernel_log(k, VMS_LOG_WARN,
			       "tick_cpu_sched of CPU %u unreadable: idle and iowait "
			       "taken from kernel_cpustat", cpu);
		return false;
	}
	/* ktime_t is signed: a negative sleep time is read as 0. */
	uint64_t idle_ns = nonneg(vms_le64(buf + f_idle.offset));
	uint64_t iowait_ns = nonneg(vms_le64(buf + f_iowait.offset));

	bool sleeping = false;
	if (has_active) {
		uint64_t v = vms_field_bits(buf, size, &f_active);
		sleeping = flag_word ? (v & TS_FLAG_IDLE_ACTIVE) != 0 : v != 0;
	}
	if (sleeping) {
		int64_t entry = (int64_t)vms_le64(buf + f_entry.offset), now = entry;
		uint64_t last;
		if (vms_ok(sym_u64(k, "last_jiffies_update", &last)) && (int64_t)last > now)
			now = (int64_t)last;
		uint32_t nr_iowait = 0;
		uint64_t rqs, rq;
		struct vms_field f;
		if (!vms_ok(vms_kernel_symbol(k, "runqueues", &rqs)) ||
		    !vms_ok(vms_kernel_field(k, "rq", "nr_iowait", &f)) ||
		    !vms_ok(vms_kernel_percpu(k, cpu, rqs, &rq)) ||
		    !vms_ok(vms_kernel_read_u32(k, rq + f.offset, &nr_iowait)))
			nr_iowait = 0;
		uint64_t delta = (uint64_t)now - (uint64_t)entry;  /* now >= entry */
		if (nr_iowait)
			iowait_ns = sat_add(iowait_ns, delta);
		else
			idle_ns = sat_add(idle_ns, delta);
	}
	/* ktime_to_us(), then * NSEC_PER_USEC in fs/proc/stat.c */
	*idle = idle_ns / 1000 * 1000;
	*iowait = iowait_ns / 1000 * 1000;
	return true;
}

/*
 * kcpustat_cpu_fetch() returns the raw kernel_cpustat unless generic vtime
 * accounting runs on the CPU (a nohz_full= CPU: context_tracking_key on and
 * the CPU's context_tracking.active), in which case it adds the running
 * task's pending vtime, measured against sched_clock(), which memory does
 * not hold.  Such a CPU's user/system/guest figures then lag: say so.
 */
static void check_vtime(struct vms_kernel *k, unsigned cpu)
{
	uint64_t key, ct;
	uint32_t enabled;
	struct vms_field f_en, f_active;
	uint8_t active;
	if (!vms_ok(vms_kernel_symbol(k, "context_tracking_key", &key)) ||
	    !vms_ok(vms_kernel_field(k, "static_key_false", "key.enabled", &f_en)) ||
	    !vms_ok(vms_kernel_read_u32(k, key + f_en.offset, &enabled)) ||
	    (int32_t)enabled <= 0)
		return;
	if (!vms_ok(vms_kernel_symbol(k, "context_tracking", &ct)) ||
	    !vms_ok(vms_kernel_field(k, "context_tracking", "active", &f_active)) ||
	    !vms_ok(vms_kernel_percpu(k, cpu, ct, &ct)) ||
	    !vms_ok(vms_kernel_read(k, ct + f_active.offset, &active, 1)) || !active)
		return;
	vms_kernel_log(k, VMS_LOG_WARN,
		       "CPU %u does vtime accounting (nohz_full): its user/system/guest "
		       "times lack the running task's time since its last accounting", cpu);
}

struct vms_error *vms_linux_cpu_times(struct vms_kernel *k, unsigned cpu,
				      struct vms_cpu_times *out)
{
	struct vms_error *err;
	memset(out, 0, sizeof(*out));
	out->cpu = cpu;
	if (cpu >= vms_kernel_info(k)->nr_cpu_ids)
		return vms_error_create(VMS_ERR_INVALID, "CPU %u out of range (nr_cpu_ids %u)",
					cpu, vms_kernel_info(k)->nr_cpu_ids);

	uint64_t sym, addr;
	struct vms_field f;
	if ((err = vms_kernel_symbol(k, "kernel_cpustat", &sym)) ||
	    (err = vms_kernel_field(k, "kernel_cpustat", "cpustat", &f)))
		return err;
	uint32_t nstats = f.size / 8;
	if (nstats == 0 || nstats > MAX_CPUSTAT)
		return vms_error_create(VMS_ERR_CORRUPT,
			"kernel_cpustat.cpustat is %u bytes in BTF", f.size);
	uint64_t stats[MAX_CPUSTAT];
	if ((err = vms_kernel_percpu(k, cpu, sym, &addr)) ||
	    (err = vms_kernel_read(k, addr + f.offset, stats, 8ull * nstats)))
		return vms_error_wrap(err, "kernel_cpustat of CPU %u", cpu);
	for (size_t i = 0; i < sizeof(cpustat_items) / sizeof(cpustat_items[0]); i++) {
		uint32_t idx;
		if ((err = enum_index(k, cpustat_items[i].name, nstats, &idx)))
			return vms_error_wrap(err, "kernel_cpustat");
		uint64_t v = vms_le64((const uint8_t *)&stats[idx]);
		memcpy((char *)out + cpustat_items[i].off, &v, sizeof(v));
	}

	if ((err = cpu_online(k, cpu, &out->online)))
		return err;
	check_vtime(k, cpu);
	uint64_t idle, iowait;
	if (out->online && nohz_sleep_times(k, cpu, &idle, &iowait)) {
		out->idle = idle;
		out->iowait = iowait;
	}
	return NULL;
}

/* ---- meminfo ---- */

/* global_{zone,node}_page_state(): the counter, negative read as 0. */
static struct vms_error *vmstat(struct vms_kernel *k, const char *array,
				const char *nr_items, const char *item,
				bool optional, uint64_t *pages)
{
	int64_t n;
	uint32_t idx;
	uint64_t a, v;
	struct vms_error *err;
	*pages = 0;
	if (!vms_ok(vms_kernel_enum_value(k, nr_items, &n)) || n <= 0 ||
	    n > MAX_VMSTAT_ITEMS)
		n = MAX_VMSTAT_ITEMS;
	if ((err = enum_index(k, item, (uint32_t)n, &idx))) {
		if (!optional || err->code != VMS_ERR_NOT_FOUND)
			return err;
		vms_error_free(err);     /* an item this kernel does not have */
		return NULL;
	}
	if ((err = vms_kernel_symbol(k, array, &a)) ||
	    (err = vms_kernel_read_u64(k, a + 8ull * idx, &v)))
		return vms_error_wrap(err, "%s[%s]", array, item);
	*pages = nonneg(v);
	return NULL;
}

/*
 * Sum of low_wmark_pages() (_watermark[WMARK_LOW] + watermark_boost) over
 * for_each_zone(): every zone of every online node, populated or not.
 */
static struct vms_error *wmark_low_pages(struct vms_kernel *k, uint64_t *sum)
{
	struct vms_error *err;
	struct vms_field f_zones, f_wmark, f_boost;
	size_t zone_size;
	uint32_t low;
	*sum = 0;
	if ((err = vms_kernel_field(k, "pglist_data", "node_zones", &f_zones)) ||
	    (err = vms_kernel_field(k, "zone", "_watermark", &f_wmark)) ||
	    (err = vms_kernel_field(k, "zone", "watermark_boost", &f_boost)) ||
	    (err = vms_kernel_struct_size(k, "zone", &zone_size)))
		return err;
	if (zone_size == 0 || f_zones.size % zone_size || f_zones.size / zone_size > MAX_ZONES ||
	    f_wmark.size % 8 || f_wmark.size == 0 || f_wmark.size / 8 > MAX_WMARKS ||
	    f_boost.size != 8)
		return vms_error_create(VMS_ERR_CORRUPT,
			"BTF layout of struct zone is inconsistent (zone %zu bytes, "
			"node_zones %u, _watermark %u)", zone_size, f_zones.size, f_wmark.size);
	if ((err = enum_index(k, "WMARK_LOW", f_wmark.size / 8, &low)))
		return err;
	size_t nzones = f_zones.size / zone_size;

	/* NUMA: node_data[nid] for each node in node_states[N_ONLINE];
	 * otherwise the one contig_page_data. */
	uint64_t node_data = 0, contig = 0;
	uint64_t node_states = 0, nodemask_bytes = 0;
	uint32_t nr_nodes = 1;
	bool numa = vms_ok(vms_kernel_symbol(k, "node_data", &node_data));
	if (numa) {
		struct vms_field f_mask;
		uint32_t n_online, ids;
		if ((err = vms_kernel_symbol(k, "node_states", &node_states)) ||
		    (err = vms_kernel_field(k, "task_struct", "mems_allowed", &f_mask)) ||
		    (err = enum_index(k, "N_ONLINE", 64, &n_online)))
			return vms_error_wrap(err, "online NUMA nodes");
		nodemask_bytes = f_mask.size;   /* sizeof(nodemask_t) */
		if (nodemask_bytes == 0 || nodemask_bytes % 8 || nodemask_bytes > MAX_NODES / 8)
			return vms_error_create(VMS_ERR_CORRUPT,
				"nodemask_t is %llu bytes in BTF",
				(unsigned long long)nodemask_bytes);
		node_states += n_online * nodemask_bytes;
		nr_nodes = (uint32_t)nodemask_bytes * 8;
		if (vms_ok(sym_u32(k, "nr_node_ids", &ids)) && ids > 0 && ids < nr_nodes)
			nr_nodes = ids;
	} else if ((err = vms_kernel_symbol(k, "contig_page_data", &contig))) {
		return vms_error_wrap(err, "memory nodes (no node_data either)");
	}

	unsigned nodes_seen = 0, null_nodes = 0, first_null = 0;
	for (uint32_t nid = 0; nid < nr_nodes; nid++) {
		uint64_t pgdat;
		if (numa) {
			bool online;
			if ((err = bitmap_test(k, node_states, nodemask_bytes, nid, &online)))
				return vms_error_wrap(err, "node_states[N_ONLINE]");
			if (!online)
				continue;
			if ((err = vms_kernel_read_u64(k, node_data + 8ull * nid, &pgdat)))
				return vms_error_wrap(err, "node_data[%u]", nid);
			if (!pgdat) {
				if (!null_nodes++)
					first_null = nid;
				continue;
			}
		} else {
			pgdat = contig;
		}
		nodes_seen++;
		for (size_t z = 0; z < nzones; z++) {
			uint64_t zone = pgdat + f_zones.offset + z * zone_size, w, b;
			if ((err = vms_kernel_read_u64(k, zone + f_wmark.offset + 8ull * low, &w)) ||
			    (err = vms_kernel_read_u64(k, zone + f_boost.offset, &b)))
				return vms_error_wrap(err, "watermarks of zone %zu of node %u", z, nid);
			*sum = sat_add(*sum, sat_add(w, b));
		}
	}
	if (null_nodes)
		vms_kernel_log(k, VMS_LOG_WARN,
			       "%u online nodes have no node_data (the first: node %u): skipped",
			       null_nodes, first_null);
	if (!nodes_seen)
		return vms_error_create(VMS_ERR_CORRUPT, "no online memory node");
	return NULL;
}

/*
 * nr_blockdev_pages(): i_mapping->nrpages summed over the inodes of the
 * block device pseudo-filesystem (blockdev_superblock->s_inodes, linked
 * through inode.i_sb_list).  false (with a warning) when the list cannot
 * be walked to its end.
 */
static bool blockdev_pages(struct vms_kernel *k, uint64_t *pages)
{
	struct vms_field f_inodes, f_sb_list, f_mapping, f_nrpages, f_next, f_prev;
	uint64_t sym, sb;
	*pages = 0;
	if (!vms_ok(vms_kernel_symbol(k, "blockdev_superblock", &sym)) ||
	    !vms_ok(vms_kernel_field(k, "super_block", "s_inodes", &f_inodes)) ||
	    !vms_ok(vms_kernel_field(k, "inode", "i_sb_list", &f_sb_list)) ||
	    !vms_ok(vms_kernel_field(k, "inode", "i_mapping", &f_mapping)) ||
	    !vms_ok(vms_kernel_field(k, "address_space", "nrpages", &f_nrpages)) ||
	    !vms_ok(vms_kernel_field(k, "list_head", "next", &f_next)) ||
	    !vms_ok(vms_kernel_field(k, "list_head", "prev", &f_prev))) {
		vms_kernel_log(k, VMS_LOG_WARN,
			       "Buffers: blockdev_superblock or the inode layout not found");
		return false;
	}
	if (!vms_ok(vms_kernel_read_u64(k, sym, &sb)) || !sb) {
		vms_kernel_log(k, VMS_LOG_WARN, "Buffers: blockdev_superblock unreadable or NULL");
		return false;
	}
	uint64_t head = sb + f_inodes.offset, prev = head, node;
	if (!vms_ok(vms_kernel_read_u64(k, head + f_next.offset, &node))) {
		vms_kernel_log(k, VMS_LOG_WARN, "Buffers: s_inodes at 0x%llx unreadable",
			       (unsigned long long)head);
		return false;
	}
	struct vms_addrset seen;
	vms_addrset_init(&seen);
	uint64_t sum = 0;
	const char *why = NULL;
	size_t n = 0;
	while (node != head) {
		uint64_t back, mapping, nr;
		if (++n > MAX_BDEV_INODES) {
			why = "more inodes than the walk allows";
			break;
		}
		int added = vms_addrset_add(&seen, node);
		if (added <= 0) {
			why = added ? "out of memory" : "cycle in the list";
			break;
		}
		if (!vms_ok(vms_kernel_read_u64(k, node + f_prev.offset, &back)) || back != prev) {
			why = "broken or unreadable link";
			break;
		}
		uint64_t inode = node - f_sb_list.offset;
		if (!vms_ok(vms_kernel_read_u64(k, inode + f_mapping.offset, &mapping)) ||
		    !mapping ||
		    !vms_ok(vms_kernel_read_u64(k, mapping + f_nrpages.offset, &nr))) {
			why = "inode or its mapping unreadable";
			break;
		}
		sum += nr;
		prev = node;
		if (!vms_ok(vms_kernel_read_u64(k, node + f_next.offset, &node))) {
			why = "unreadable link";
			break;
		}
	}
	vms_addrset_free(&seen);
	if (why) {
		vms_kernel_log(k, VMS_LOG_WARN,
			       "Buffers: walk of the block device inodes stopped at 0x%llx "
			       "after %zu inodes: %s", (unsigned long long)node, n, why);
		return false;
	}
	*pages = sum;
	return true;
}

#define K(pages) ((pages) << (PAGE_SHIFT - 10))

struct vms_error *vms_linux_meminfo(struct vms_kernel *k, struct vms_meminfo *out)
{
	struct vms_error *err;
	memset(out, 0, sizeof(*out));
	uint64_t total, reserve, free_pages, file, shmem, active_file, inactive_file,
		slab_rec, misc_rec, swapcache, wmark;
	static const char Z[] = "vm_zone_stat", ZN[] = "NR_VM_ZONE_STAT_ITEMS",
			  N[] = "vm_node_stat", NN[] = "NR_VM_NODE_STAT_ITEMS";
	if ((err = sym_u64(k, "_totalram_pages", &total)) ||
	    (err = sym_u64(k, "totalreserve_pages", &reserve)) ||
	    (err = vmstat(k, Z, ZN, "NR_FREE_PAGES", false, &free_pages)) ||
	    (err = vmstat(k, N, NN, "NR_FILE_PAGES", false, &file)) ||
	    (err = vmstat(k, N, NN, "NR_SHMEM", false, &shmem)) ||
	    (err = vmstat(k, N, NN, "NR_ACTIVE_FILE", false, &active_file)) ||
	    (err = vmstat(k, N, NN, "NR_INACTIVE_FILE", false, &inactive_file)) ||
	    (err = vmstat(k, N, NN, "NR_SLAB_RECLAIMABLE_B", false, &slab_rec)) ||
	    (err = vmstat(k, N, NN, "NR_KERNEL_MISC_RECLAIMABLE", true, &misc_rec)) ||
	    (err = vmstat(k, N, NN, "NR_SWAPCACHE", true, &swapcache)) ||
	    (err = wmark_low_pages(k, &wmark)))
		return vms_error_wrap(err, "meminfo");
	total = nonneg(total);

	/* si_mem_available(), in unsigned arithmetic: free - totalreserve_pages
	 * + the page cache and reclaimable kernel memory that can go, at
	 * least 0.  The same figure as the kernel's long arithmetic. */
	uint64_t pagecache = sat_add(active_file, inactive_file);
	pagecache -= pagecache / 2 < wmark ? pagecache / 2 : wmark;
	uint64_t reclaimable = sat_add(slab_rec, misc_rec);
	reclaimable -= reclaimable / 2 < wmark ? reclaimable / 2 : wmark;
	uint64_t plus = sat_add(sat_add(free_pages, pagecache), reclaimable);
	uint64_t avail = plus > reserve ? plus - reserve : 0;

	/* meminfo_proc_show(): Cached = file pages - swap cache - Buffers, >= 0. */
	uint64_t buffers = 0;
	out->has_buffers = blockdev_pages(k, &buffers);
	uint64_t minus = sat_add(swapcache, buffers);
	uint64_t cached = file > minus ? file - minus : 0;

	/* si_swapinfo() without nr_to_be_unused: the pages of a swap area
	 * being swapped off at that moment are not counted. */
	uint64_t swap_total, swap_free;
	if ((err = sym_u64(k, "total_swap_pages", &swap_total)) ||
	    (err = sym_u64(k, "nr_swap_pages", &swap_free)))
		return vms_error_wrap(err, "meminfo");
	swap_total = nonneg(swap_total);
	swap_free = nonneg(swap_free);

	/* Guest counters are untrusted: cap so that K() cannot overflow. */
	const uint64_t cap = UINT64_MAX >> (PAGE_SHIFT - 10);
#define KB(x) K((x) > cap ? cap : (x))
	out->total = KB(total);
	out->free = KB(free_pages);
	out->available = KB(avail);
	out->buffers = KB(buffers);
	out->cached = KB(cached);
	out->shmem = KB(shmem);
	out->sreclaimable = KB(slab_rec);
	out->swap_total = KB(swap_total);
	out->swap_free = KB(swap_free);
#undef KB
	return NULL;
}
