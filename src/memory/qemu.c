// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A running QEMU's guest RAM, read through /proc/PID/mem.
 *
 * QEMU holds a pc guest's RAM in one host mapping (the "pc.ram" RAM block,
 * or the memory backend's mapping), anonymous or file-backed.  It is found
 * in /proc/PID/maps as the readable, writable, non-executable mapping of
 * exactly the guest's RAM size (from QMP, or QEMU's -m option), or, when
 * the kernel merged it with an anonymous mapping below, as the top of such
 * a mapping that ends at QEMU's PROT_NONE guard page.  Guest
 * physical [0, lowmem) is the block's start, [4 GiB, ...) the rest, with
 * lowmem computed as QEMU's pc / q35 machines do.
 *
 * Reads are pread()s of /proc/PID/mem through a small page cache: nothing
 * is copied up front, and the guest keeps running (live = true).  Needs
 * ptrace access to the process (root, or the same user without Yama).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "memory/sources.h"
#include "util/readfile.h"

#define FOUR_GIB (4ULL << 30)
#define CACHE_PAGES 256
#define PAGE 4096ULL
#define MAX_CMDLINE (1u << 20)
#define MAX_MAPS_LINES (1u << 20)
/* QEMU_VMALLOC_ALIGN: RAM blocks start 2 MiB aligned on x86-64 hosts. */
#define QEMU_RAM_ALIGN (2ULL << 20)

struct qemu_seg {
	uint64_t phys, size, hva;
};

struct qemu_source {
	struct vms_source base;
	int fd;                      /* /proc/PID/mem */
	pid_t pid;
	struct qemu_seg segs[2];
	size_t nr_segs;
	uint64_t tags[CACHE_PAGES];  /* guest page + 1, 0 = empty */
	uint8_t (*pages)[PAGE];
};

static const struct qemu_seg *find_seg(const struct qemu_source *q,
				       uint64_t paddr)
{
	for (size_t i = 0; i < q->nr_segs; i++)
		if (paddr >= q->segs[i].phys &&
		    paddr - q->segs[i].phys < q->segs[i].size)
			return &q->segs[i];
	return NULL;
}

static struct vms_error *fill(struct qemu_source *q, uint64_t page,
			      const uint8_t **ret)
{
	size_t slot = (size_t)((page / PAGE) % CACHE_PAGES);
	if (q->tags[slot] == page + 1) {
		*ret = q->pages[slot];
		return NULL;
	}
	const struct qemu_seg *s = find_seg(q, page);
	if (!s)
		return vms_error_create(VMS_ERR_FAULT,
			"physical address 0x%llx is not in %s",
			(unsigned long long)page, q->base.path);
	uint64_t hva = s->hva + (page - s->phys);
	ssize_t n = pread(q->fd, q->pages[slot], PAGE, (off_t)hva);
	if (n != (ssize_t)PAGE) {
		q->tags[slot] = 0;
		return vms_error_create(VMS_ERR_IO,
			"%s: reading guest physical 0x%llx (QEMU address 0x%llx) from /proc/%d/mem: %s",
			q->base.path, (unsigned long long)page,
			(unsigned long long)hva, (int)q->pid,
			n < 0 ? strerror(errno) : "short read (process gone?)");
	}
	q->tags[slot] = page + 1;
	*ret = q->pages[slot];
	return NULL;
}

static struct vms_error *qemu_read(struct vms_source *src, uint64_t paddr,
				   void *buf, size_t len)
{
	struct qemu_source *q = (struct qemu_source *)src;
	uint8_t *out = buf;
	while (len) {
		uint64_t page = paddr & ~(PAGE - 1), in = paddr - page;
		size_t n = (size_t)(PAGE - in) < len ? (size_t)(PAGE - in) : len;
		const uint8_t *p;
		struct vms_error *err = fill(q, page, &p);
		if (err)
			return err;
		memcpy(out, p + in, n);
		out += n;
		paddr += n;
		len -= n;
	}
	return NULL;
}

static void qemu_destroy(struct vms_source *src)
{
	struct qemu_source *q = (struct qemu_source *)src;
	if (q->fd >= 0)
		close(q->fd);
	free(q->pages);
}

static const struct vms_source_ops qemu_ops = {
	.read = qemu_read,
	.destroy = qemu_destroy,
};

/* QEMU size syntax: a number with an optional K/M/G/T suffix; @unit when
 * there is none.  0 on error. */
static uint64_t parse_size(const char *s, uint64_t unit)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s)
		return 0;
	switch (*end) {
	case 'k': case 'K': unit = 1ULL << 10; end++; break;
	case 'm': case 'M': unit = 1ULL << 20; end++; break;
	case 'g': case 'G': unit = 1ULL << 30; end++; break;
	case 't': case 'T': unit = 1ULL << 40; end++; break;
	case 'b': case 'B': unit = 1; end++; break;
	}
	if (*end && *end != ',')
		return 0;
	if (v > UINT64_MAX / unit)
		return 0;
	return v * unit;
}

/* Is argument @a option @opt ("-m")?  Also "--m"; "-m=VALUE" gives the
 * value inline in *@inline_val. */
static bool is_opt(const char *a, const char *opt, const char **inline_val)
{
	size_t ol = strlen(opt);
	if (a[0] == '-' && a[1] == '-')
		a++;
	if (strncmp(a, opt, ol))
		return false;
	if (a[ol] == '=') {
		*inline_val = a + ol + 1;
		return true;
	}
	*inline_val = NULL;
	return !a[ol];
}

/* Key @key in a QEMU option string "a,key=val,..." (the first, bare word
 * counts as @first_key). */
static bool opt_value(const char *opts, const char *key, const char *first_key,
		      char *out, size_t outsz)
{
	size_t kl = strlen(key);
	bool first = true;
	for (const char *p = opts; p && *p; first = false) {
		const char *comma = strchr(p, ',');
		size_t l = comma ? (size_t)(comma - p) : strlen(p);
		const char *eq = memchr(p, '=', l);
		const char *v = NULL;
		size_t vl = 0;
		if (eq && (size_t)(eq - p) == kl && !strncmp(p, key, kl)) {
			v = eq + 1;
			vl = l - kl - 1;
		} else if (!eq && first && first_key && !strcmp(key, first_key)) {
			v = p;
			vl = l;
		}
		if (v) {
			if (vl >= outsz)
				vl = outsz - 1;
			memcpy(out, v, vl);
			out[vl] = 0;
			return true;
		}
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* The value of the next -@opt (or -@alias) in QEMU's NUL-separated argv
 * from *@pos on ("-opt=v" or "-opt v"), advancing *@pos; NULL at the end. */
static const char *next_opt(const char *cmd, size_t len, size_t *pos,
			    const char *opt, const char *alias)
{
	while (*pos < len) {
		const char *a = cmd + *pos;
		size_t al = strnlen(a, len - *pos);
		const char *next = a + al + 1, *val = NULL;
		bool match = is_opt(a, opt, &val) || (alias && is_opt(a, alias, &val));
		if (match && !val && next < cmd + len) {
			val = next;
			al += strnlen(next, (size_t)(cmd + len - next)) + 1;
		}
		*pos += al + 1;
		if (match && val)
			return val;
	}
	return NULL;
}

/*
 * Key @key of option @opt (or its alias @alias, may be NULL) in a
 * NUL-separated command line.  QEMU merges repeated -machine / -m options
 * ("-machine q35 -machine memory-backend=mem" is one machine), so every
 * occurrence counts and the last value of @key wins.
 */
static bool merged_opt(const char *cmd, size_t len, const char *opt,
		       const char *alias, const char *key, const char *first_key,
		       char *out, size_t outsz)
{
	bool found = false;
	size_t pos = 0;
	for (const char *val; (val = next_opt(cmd, len, &pos, opt, alias));)
		if (opt_value(val, key, first_key, out, outsz))
			found = true;
	return found;
}

uint64_t vms_qemu_pc_lowmem(uint64_t ram_size, const char *cmd, size_t len)
{
	char type[64], v[64];
	uint64_t max_below = 0;
	bool q35 = false;  /* QEMU's default machine is pc (i440fx) */
	if (cmd && merged_opt(cmd, len, "-machine", "-M", "type", "type", type,
			      sizeof(type)))
		q35 = !strncmp(type, "q35", 3) || !strncmp(type, "pc-q35", 6);
	if (cmd && merged_opt(cmd, len, "-machine", "-M", "max-ram-below-4g",
			      NULL, v, sizeof(v)))
		max_below = parse_size(v, 1);
	uint64_t lowmem;
	if (q35) {
		/* hw/i386/pc_q35.c */
		if (!max_below)
			max_below = FOUR_GIB;
		lowmem = ram_size >= 0xb0000000ULL ? 0x80000000ULL : 0xb0000000ULL;
		if (lowmem > max_below)
			lowmem = max_below;
	} else {
		/* hw/i386/pc_piix.c (gigabyte_align, all current machine types) */
		if (!max_below)
			max_below = 0xe0000000ULL;
		lowmem = max_below;
		if (ram_size >= max_below && lowmem > 0xc0000000ULL)
			lowmem = 0xc0000000ULL;
	}
	return ram_size > lowmem ? lowmem : ram_size;
}

/* The "size" of the -object whose id is @id: "memory-backend-ram,id=X,
 * size=4G" or libvirt's JSON {"qom-type":..., "id":"X", "size":4294967296}.
 * 0 when there is none. */
static uint64_t object_size(const char *cmd, size_t len, const char *id)
{
	uint64_t size = 0;
	char v[64];
	size_t pos = 0;
	for (const char *val; (val = next_opt(cmd, len, &pos, "-object", NULL));) {
		if (val[0] == '{') {
			json_object *o = json_tokener_parse(val), *jid, *js;
			if (o && json_object_object_get_ex(o, "id", &jid) &&
			    json_object_is_type(jid, json_type_string) &&
			    !strcmp(json_object_get_string(jid), id) &&
			    json_object_object_get_ex(o, "size", &js)) {
				if (json_object_is_type(js, json_type_int))
					size = (uint64_t)json_object_get_uint64(js);
				else if (json_object_is_type(js, json_type_string))
					size = parse_size(json_object_get_string(js), 1);
			}
			json_object_put(o);
		} else if (opt_value(val, "id", NULL, v, sizeof(v)) && !strcmp(v, id) &&
			   opt_value(val, "size", NULL, v, sizeof(v))) {
			size = parse_size(v, 1);
		}
	}
	return size;
}

/* The guest's RAM size from QEMU's command line: -m (MiB by default; every
 * -m counts, as QEMU merges them), else the size of the -machine
 * memory-backend object, else QEMU's default of 128 MiB.  0: unreadable. */
static uint64_t cmdline_ram_size(const char *cmd, size_t len)
{
	char v[64];
	if (merged_opt(cmd, len, "-m", NULL, "size", "size", v, sizeof(v)))
		return parse_size(v, 1ULL << 20);
	if (merged_opt(cmd, len, "-machine", "-M", "memory-backend", NULL, v,
		       sizeof(v)))
		return object_size(cmd, len, v);
	return 128ULL << 20;  /* QEMU's default */
}

/* How many -numa options name a memdev: guest RAM then lies in that many
 * backends, which this source cannot piece together. */
static unsigned numa_memdevs(const char *cmd, size_t len)
{
	unsigned n = 0;
	size_t pos = 0;
	for (const char *val; (val = next_opt(cmd, len, &pos, "-numa", NULL));)
		if (strstr(val, "memdev"))
			n++;
	return n;
}

struct map_cand {
	uint64_t start, end;
	int rank;  /* lower is better; -1 none */
};

/* Find the RAM mapping: rw, not x, exactly @ram bytes (adjacent pieces of
 * one mapping are joined).  Anonymous, memfd and /dev/shm beat other files. */
static struct vms_error *find_ram_mapping(const char *spec, pid_t pid,
					  uint64_t ram, uint64_t *hva,
					  size_t *nr_found)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return vms_error_create(VMS_ERR_IO, "%s: cannot read %s: %s",
					spec, path, strerror(errno));
	struct map_cand best = { 0, 0, -1 }, cur = { 0, 0, -1 };
	char cur_name[PATH_MAX] = "", line[PATH_MAX + 256];
	size_t found = 0, lines = 0;
	bool done = false;
	while (!done) {
		unsigned long long s = 0, e = 0;
		char perms[8] = "", name[PATH_MAX] = "";
		bool have = fgets(line, sizeof(line), f) && lines++ < MAX_MAPS_LINES;
		if (have) {
			int off = 0;
			if (sscanf(line, "%llx-%llx %7s %*s %*s %*s%n", &s, &e, perms, &off) < 3)
				continue;
			const char *n = line + off;
			while (*n == ' ')
				n++;
			snprintf(name, sizeof(name), "%s", n);
			name[strcspn(name, "\n")] = 0;
		}
		bool ok = have && perms[0] == 'r' && perms[1] == 'w' && perms[2] != 'x';
		/* Join with the previous piece of the same mapping. */
		if (ok && cur.rank >= 0 && cur.end == s && !strcmp(cur_name, name)) {
			cur.end = e;
			continue;
		}
		if (cur.rank >= 0 && cur.end - cur.start == ram) {
			found++;
			if (best.rank < 0 || cur.rank < best.rank)
				best = cur;
		} else if (cur.rank == 0 && cur.end - cur.start > ram && have &&
			   s == cur.end && !strncmp(perms, "---", 3) &&
			   (cur.end - ram) % QEMU_RAM_ALIGN == 0) {
			/* The kernel merged the block with an anonymous mapping
			 * below it; QEMU's PROT_NONE guard page marks its end. */
			found++;
			if (best.rank < 0 || best.rank > 3)
				best = (struct map_cand){ cur.end - ram, cur.end, 3 };
		}
		if (!have)
			break;
		cur.rank = -1;
		if (ok) {
			cur = (struct map_cand){ s, e, 2 };
			if (!name[0] || !strncmp(name, "/memfd:", 7) ||
			    !strncmp(name, "/dev/shm/", 9) ||
			    !strncmp(name, "/dev/zero", 9))
				cur.rank = 0;
			else if (name[0] == '[' || strstr(name, ".so"))
				cur.rank = -1;
			else if (!strncmp(name, "/dev/hugepages", 14) ||
				 !strncmp(name, "/hugetlbfs", 10))
				cur.rank = 1;
			snprintf(cur_name, sizeof(cur_name), "%s", name);
		}
	}
	fclose(f);
	if (best.rank < 0)
		return vms_error_create(VMS_ERR_NOT_FOUND,
			"%s: no mapping of the guest's RAM size (%llu MiB) in /proc/%d/maps",
			spec, (unsigned long long)(ram >> 20), (int)pid);
	*hva = best.start;
	*nr_found = found;
	return NULL;
}

struct vms_error *vms_qemu_open(const char *spec, pid_t pid,
				const struct vms_qemu_hint *hint,
				struct vms_source **ret)
{
	struct vms_error *err = NULL;
	char path[64], *cmd = NULL;
	size_t len = 0;
	struct qemu_source *q = NULL;
	struct vms_cpu_state *cpus = hint ? hint->cpus : NULL;

	snprintf(path, sizeof(path), "/proc/%d", (int)pid);
	struct stat st;
	if (stat(path, &st) < 0) {
		err = vms_error_create(VMS_ERR_NOT_FOUND, "%s: no process %d",
				       spec, (int)pid);
		goto fail;
	}
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	cmd = vms_read_file(path, MAX_CMDLINE, &len);
	if (!cmd) {
		err = vms_error_create(VMS_ERR_IO, "%s: cannot read %s: %s",
				       spec, path, strerror(errno));
		goto fail;
	}
	const char *argv0 = cmd, *slash = strrchr(cmd, '/');
	if (slash)
		argv0 = slash + 1;
	if (!len || strncmp(argv0, "qemu", 4)) {
		char comm[64] = "";
		size_t cl;
		snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
		char *c = vms_read_file(path, 64, &cl);
		if (c) {
			snprintf(comm, sizeof(comm), "%s", c);
			comm[strcspn(comm, "\n")] = 0;
			free(c);
		}
		err = vms_error_create(VMS_ERR_INVALID,
			"%s: process %d (%s) is not QEMU (its command is \"%.60s\")",
			spec, (int)pid, comm[0] ? comm : "?", len ? cmd : "");
		goto fail;
	}
	uint64_t ram = hint && hint->ram_size ? hint->ram_size
					      : cmdline_ram_size(cmd, len);
	if (!ram || ram % PAGE) {
		err = vms_error_create(VMS_ERR_FORMAT,
			"%s: cannot tell the guest's RAM size from QEMU's -m option or its -machine memory-backend",
			spec);
		goto fail;
	}
	uint64_t hva;
	size_t nr_found;
	if ((err = find_ram_mapping(spec, pid, ram, &hva, &nr_found))) {
		unsigned nodes = numa_memdevs(cmd, len);
		if (nodes > 1) {
			vms_error_free(err);
			err = vms_error_create(VMS_ERR_UNSUPPORTED,
				"%s: the guest's %llu MiB of RAM are split over %u NUMA memory backends (-numa ...,memdev=); this source reads one RAM block",
				spec, (unsigned long long)(ram >> 20), nodes);
		}
		goto fail;
	}

	q = calloc(1, sizeof(*q));
	char *p = strdup(spec);
	struct vms_phys_range *ranges = calloc(2, sizeof(*ranges));
	uint8_t (*pages)[PAGE] = malloc(CACHE_PAGES * PAGE);
	if (!q || !p || !ranges || !pages) {
		free(q);
		free(p);
		free(ranges);
		free(pages);
		q = NULL;
		err = &vms_error_nomem;
		goto fail;
	}
	q->fd = -1;
	q->pid = pid;
	q->base.ops = &qemu_ops;
	q->base.kind = "qemu";
	q->base.path = p;
	q->base.live = true;
	q->base.ranges = ranges;
	q->pages = pages;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	q->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (q->fd < 0) {
		err = vms_error_create(VMS_ERR_IO,
			"%s: cannot open %s: %s (reading another process's memory needs root or ptrace permission)",
			spec, path, strerror(errno));
		goto fail;
	}
	uint64_t low = vms_qemu_pc_lowmem(ram, cmd, len);
	q->segs[0] = (struct qemu_seg){ 0, low, hva };
	q->nr_segs = 1;
	ranges[0] = (struct vms_phys_range){ 0, low };
	q->base.nr_ranges = 1;
	if (ram > low) {
		q->segs[1] = (struct qemu_seg){ FOUR_GIB, ram - low, hva + low };
		q->nr_segs = 2;
		ranges[1] = (struct vms_phys_range){ FOUR_GIB, FOUR_GIB + ram - low };
		q->base.nr_ranges = 2;
	}
	/* Prove access now rather than on the first read. */
	const uint8_t *pg;
	if ((err = fill(q, 0, &pg)))
		goto fail;
	if (cpus) {
		q->base.cpus = cpus;
		q->base.nr_cpus = hint->nr_cpus;
		cpus = NULL;
	}
	free(cmd);
	*ret = &q->base;
	return NULL;
fail:
	free(cmd);
	free(cpus);
	if (q)
		vms_source_close(&q->base);
	return err;
}
