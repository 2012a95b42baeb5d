// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Symbol table.  Two kinds of symbols share one index space: first those
 * recovered from kallsyms, kept compressed in the guest image (kallsyms.h)
 * and expanded only when a lookup returns or compares them; then symbols
 * added with vms_symtab_add() (System.map, vmlinux, modules), copied.
 *
 * Nothing is sorted or indexed up front: a command that looks up a few
 * names pays for a hash of the names (built on the first lookup by name,
 * from hashes computed while the symbols were added); the address order is
 * built on the first lookup by address or in order.  The lazy state makes
 * a table, like the vms_kernel that holds it, usable by one thread at a
 * time (each exporter collector owns its kernel).
 */
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

#include "symbols/kallsyms.h"

/* The address order: (address, globals first, index); the index makes it
 * the order a stable sort by (address, globals first) of the table gives. */
struct addr_rec {
	uint64_t addr;
	uint32_t idx;
	char type;
};

struct vms_symtab {
	/* kallsyms symbols [0, nk) */
	struct vms_ksyms ks;
	size_t nk;
	uint32_t *k_ent, *k_idx;   /* names entry; table index (NULL: same) */
	struct vms_symbol *k_mat;  /* expanded on demand (name NULL: not yet) */
	/* copied symbols [nk, nk + nr) */
	struct vms_symbol *syms;
	size_t nr, cap;
	char **arenas;             /* name storage, in blocks */
	size_t nr_arenas;
	char *arena_pos;
	size_t arena_left;
	size_t nr_module;          /* symbols tagged with a module */
	uint32_t *hash;            /* per symbol (both kinds): name hash, upper half */
	size_t hash_cap_syms;
	/* Lookups see the first nf symbols (those of the last finish). */
	size_t nf;
	uint32_t *slots;           /* open addressing: index+1, 0 empty */
	size_t slot_cap;
	struct addr_rec *order;    /* nf records in address order */
};

#define ARENA_BLOCK (1u << 18)

struct vms_error *vms_symtab_create(struct vms_symtab **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? NULL : &vms_error_nomem;
}

static void drop_indexes(struct vms_symtab *tab)
{
	free(tab->slots);
	tab->slots = NULL;
	tab->slot_cap = 0;
	free(tab->order);
	tab->order = NULL;
}

void vms_symtab_destroy(struct vms_symtab *tab)
{
	if (!tab)
		return;
	for (size_t i = 0; i < tab->nr_arenas; i++)
		free(tab->arenas[i]);
	free(tab->arenas);
	free(tab->syms);
	free(tab->hash);
	free(tab->k_ent);
	free(tab->k_idx);
	free(tab->k_mat);
	drop_indexes(tab);
	free(tab);
}

static char *arena_copy(struct vms_symtab *tab, const char *s, size_t len)
{
	if (len + 1 > tab->arena_left) {
		size_t size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;
		char **arenas = realloc(tab->arenas,
					(tab->nr_arenas + 1) * sizeof(*arenas));
		if (!arenas)
			return NULL;
		tab->arenas = arenas;
		char *block = malloc(size);
		if (!block)
			return NULL;
		tab->arenas[tab->nr_arenas++] = block;
		tab->arena_pos = block;
		tab->arena_left = size;
	}
	char *out = tab->arena_pos;
	memcpy(out, s, len);
	out[len] = '\0';
	tab->arena_pos += len + 1;
	tab->arena_left -= len + 1;
	return out;
}

static uint32_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0;
	for (size_t i = 0; i < len; i++)
		h = h * VMS_SYMHASH_MUL + (unsigned char)s[i];
	return (uint32_t)(vms_symhash_final(h, len) >> 32);
}

static bool grow_hash(struct vms_symtab *tab, size_t need)
{
	if (need <= tab->hash_cap_syms)
		return true;
	size_t cap = tab->hash_cap_syms ? tab->hash_cap_syms * 2 : 4096;
	while (cap < need)
		cap *= 2;
	uint32_t *h = realloc(tab->hash, cap * sizeof(*h));
	if (!h)
		return false;
	tab->hash = h;
	tab->hash_cap_syms = cap;
	return true;
}

struct vms_error *vms_symtab_add(struct vms_symtab *tab, uint64_t addr,
				 char type, const char *name, size_t name_len,
				 const char *module)
{
	if (tab->nr == tab->cap) {
		size_t cap = tab->cap ? tab->cap * 2 : 4096;
		struct vms_symbol *syms = realloc(tab->syms, cap * sizeof(*syms));
		if (!syms)
			return &vms_error_nomem;
		tab->syms = syms;
		tab->cap = cap;
	}
	if (!grow_hash(tab, tab->nk + tab->nr + 1))
		return &vms_error_nomem;
	const char *n = arena_copy(tab, name, name_len);
	const char *m = module ? arena_copy(tab, module, strlen(module)) : NULL;
	if (!n || (module && !m))
		return &vms_error_nomem;
	/* The name ends at a NUL inside @name_len, if any: hash what is kept. */
	tab->hash[tab->nk + tab->nr] = hash_bytes(n, strlen(n));
	tab->syms[tab->nr++] = (struct vms_symbol){ addr, n, m, type };
	if (module)
		tab->nr_module++;
	return NULL;
}

struct vms_error *vms_symtab_add_kallsyms(struct vms_symtab *tab,
					  const struct vms_ksyms *ks, size_t n,
					  uint32_t *ent, uint32_t *idx,
					  uint32_t *hash)
{
	if (tab->nk || tab->nr) {
		free(ent);
		free(idx);
		free(hash);
		return vms_error_create(VMS_ERR_INVALID,
			"kallsyms can only be added to an empty symbol table");
	}
	free(tab->hash);
	tab->ks = *ks;
	tab->nk = n;
	tab->k_ent = ent;
	tab->k_idx = idx;
	tab->hash = hash;
	tab->hash_cap_syms = n;
	return NULL;
}

void vms_symtab_rebind_image(struct vms_symtab *tab, const uint8_t *img)
{
	if (tab)
		tab->ks.img = img;
}

static uint32_t k_table_index(const struct vms_symtab *tab, size_t i)
{
	return tab->k_idx ? tab->k_idx[i] : (uint32_t)i;
}

/* Type and address of kallsyms symbol @i, without keeping its name. */
static char k_type(const struct vms_symtab *tab, size_t i, uint64_t *addr)
{
	bool abs;
	*addr = vms_ksyms_addr(&tab->ks, k_table_index(tab, i), &abs);
	return abs && tab->ks.absolute_percpu ? 'A' : vms_ksyms_first(&tab->ks, tab->k_ent[i]);
}

/*
 * The symbol behind index @i, its kallsyms name expanded the first time.
 * Returned pointers stay valid until the next add or finish.  NULL only
 * when memory runs out.
 */
static const struct vms_symbol *sym_at(const struct vms_symtab *ctab, size_t i)
{
	if (i >= ctab->nk)
		return &ctab->syms[i - ctab->nk];
	/* Lazy state behind a const table (see the head comment). */
	struct vms_symtab *tab = (struct vms_symtab *)ctab;
	if (!tab->k_mat && !(tab->k_mat = calloc(tab->nk, sizeof(*tab->k_mat))))
		return NULL;
	struct vms_symbol *s = &tab->k_mat[i];
	if (!s->name) {
		char name[VMS_KSYMS_MAX_NAME];
		bool abs;
		size_t n = vms_ksyms_expand(&tab->ks, tab->k_ent[i], name);
		const char *copy = arena_copy(tab, name + 1, n - 1);
		if (!copy)
			return NULL;
		s->addr = vms_ksyms_addr(&tab->ks, k_table_index(tab, i), &abs);
		s->type = abs && tab->ks.absolute_percpu ? 'A' : name[0];
		s->module = NULL;
		s->name = copy;
	}
	return s;
}

static bool is_global(char type)
{
	return type >= 'A' && type <= 'Z';
}

struct vms_error *vms_symtab_finish(struct vms_symtab *tab)
{
	drop_indexes(tab);
	tab->nf = tab->nk + tab->nr;
	return NULL;
}

size_t vms_symtab_count(const struct vms_symtab *tab)
{
	return tab->nk + tab->nr;
}

size_t vms_symtab_module_count(const struct vms_symtab *tab)
{
	return tab->nr_module;
}

static int rec_cmp(const void *a, const void *b)
{
	const struct addr_rec *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	bool gx = is_global(x->type), gy = is_global(y->type);
	if (gx != gy)
		return gx ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* @o is sorted by address: order each run of one address globals first,
 * keeping the order of adding within each kind (a stable partition). */
static void order_equal_runs(struct addr_rec *o, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		bool need = false;
		while (j < n && o[j].addr == o[i].addr) {
			if (is_global(o[j].type) && !is_global(o[j - 1].type))
				need = true;
			j++;
		}
		if (need)  /* runs are short: aliases of one address */
			qsort(o + i, j - i, sizeof(*o), rec_cmp);
		i = j;
	}
}

/* The address order, built on first use.  Kallsyms come sorted by address
 * already, so the sort is mostly skipped. */
static const struct addr_rec *addr_order(const struct vms_symtab *ctab)
{
	struct vms_symtab *tab = (struct vms_symtab *)ctab;  /* lazy state */
	if (tab->order || !tab->nf)
		return tab->order;
	struct addr_rec *o = malloc(tab->nf * sizeof(*o));
	if (!o)
		return NULL;
	bool by_addr = true;
	for (size_t i = 0; i < tab->nf; i++) {
		o[i].idx = (uint32_t)i;
		if (i < tab->nk) {
			o[i].type = k_type(tab, i, &o[i].addr);
		} else {
			o[i].addr = tab->syms[i - tab->nk].addr;
			o[i].type = tab->syms[i - tab->nk].type;
		}
		if (i && o[i - 1].addr > o[i].addr)
			by_addr = false;
	}
	if (by_addr)
		order_equal_runs(o, tab->nf);
	else
		qsort(o, tab->nf, sizeof(*o), rec_cmp);
	tab->order = o;
	return o;
}

const struct vms_symbol *vms_symtab_at(const struct vms_symtab *tab, size_t i)
{
	if (i >= vms_symtab_count(tab))
		return NULL;
	/* Added since the last finish: in the order of adding. */
	if (tab->nf != vms_symtab_count(tab))
		return sym_at(tab, i);
	const struct addr_rec *o = addr_order(tab);
	return o ? sym_at(tab, o[i].idx) : NULL;
}

static bool build_slots(struct vms_symtab *tab)
{
	/* At most half full: short probes when every symbol goes in. */
	size_t cap = 16;
	while (cap < tab->nf * 2)
		cap *= 2;
	uint32_t *slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return false;
	/* Every symbol goes in, duplicate names too: a lookup compares the
	 * few that share its hash and picks one (see better()). */
	for (size_t i = 0; i < tab->nf; i++) {
		size_t slot = tab->hash[i] & (cap - 1);
		while (slots[slot])
			slot = (slot + 1) & (cap - 1);
		slots[slot] = (uint32_t)i + 1;
	}
	tab->slots = slots;
	tab->slot_cap = cap;
	return true;
}

/* Of two symbols of the same name, the one a lookup by name returns: the
 * core kernel's before a module's, then a global, then the first in the
 * address order (as a table sorted by address and then hashed kept). */
static bool better(const struct vms_symbol *a, size_t ai,
		   const struct vms_symbol *b, size_t bi)
{
	if (!a->module != !b->module)
		return !a->module;
	if (is_global(a->type) != is_global(b->type))
		return is_global(a->type);
	if (a->addr != b->addr)
		return a->addr < b->addr;
	return ai < bi;
}

const struct vms_symbol *vms_symtab_by_name(const struct vms_symtab *ctab,
					    const char *name)
{
	struct vms_symtab *tab = (struct vms_symtab *)ctab;  /* lazy state */
	if (!tab->nf)
		return NULL;
	if (!tab->slots && !build_slots(tab))
		return NULL;
	size_t len = strlen(name);
	uint32_t h = hash_bytes(name, len);
	const struct vms_symbol *best = NULL;
	size_t best_i = 0;
	char buf[VMS_KSYMS_MAX_NAME];
	for (size_t slot = h & (tab->slot_cap - 1);; slot = (slot + 1) & (tab->slot_cap - 1)) {
		uint32_t cur = tab->slots[slot];
		if (!cur)
			break;
		size_t i = cur - 1;
		if (tab->hash[i] != h)
			continue;
		if (i < tab->nk) {
			/* Compare before keeping a copy of the name. */
			size_t n = vms_ksyms_expand(&tab->ks, tab->k_ent[i], buf);
			if (n - 1 != len || memcmp(buf + 1, name, len))
				continue;
		} else if (strcmp(tab->syms[i - tab->nk].name, name)) {
			continue;
		}
		const struct vms_symbol *s = sym_at(tab, i);
		if (!s)
			return NULL;
		if (!best || better(s, i, best, best_i)) {
			best = s;
			best_i = i;
		}
	}
	return best;
}

static bool is_abs(char type)
{
	return type == 'A' || type == 'a';
}

const struct vms_symbol *vms_symtab_by_addr(const struct vms_symtab *tab,
					    uint64_t addr, uint64_t *offset)
{
	const struct addr_rec *o = addr_order(tab);
	if (!o)
		return NULL;
	size_t lo = 0, hi = tab->nf;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (o[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		if (!is_abs(o[lo - 1].type)) {
			/* Of several symbols at this address, the first in
			 * address order (globals first) names it. */
			while (lo > 1 && o[lo - 2].addr == o[lo - 1].addr &&
			       !is_abs(o[lo - 2].type))
				lo--;
			const struct vms_symbol *s = sym_at(tab, o[lo - 1].idx);
			if (s && offset)
				*offset = addr - s->addr;
			return s;
		}
		lo--;
	}
	return NULL;
}
