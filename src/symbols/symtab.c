// SPDX-License-Identifier: LGPL-2.1-or-later
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <vmsight/symbols.h>

struct vms_symtab {
	struct vms_symbol *syms;  /* sorted by address after finish */
	size_t nr, cap;
	char **arenas;            /* name storage, in blocks */
	size_t nr_arenas;
	char *arena_pos;
	size_t arena_left;
	uint32_t *hash;           /* open addressing: index+1, 0 empty */
	size_t hash_cap;
	size_t nr_module;         /* symbols tagged with a module */
};

#define ARENA_BLOCK (1u << 20)

struct vms_error *vms_symtab_create(struct vms_symtab **ret)
{
	*ret = calloc(1, sizeof(**ret));
	return *ret ? NULL : &vms_error_nomem;
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
	const char *n = arena_copy(tab, name, name_len);
	const char *m = module ? arena_copy(tab, module, strlen(module)) : NULL;
	if (!n || (module && !m))
		return &vms_error_nomem;
	tab->syms[tab->nr++] = (struct vms_symbol){ addr, n, m, type };
	if (module)
		tab->nr_module++;
	return NULL;
}

static uint64_t hash_name(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct vms_symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* Stable-ish: globals before locals at the same address. */
	return isupper((unsigned char)y->type) - isupper((unsigned char)x->type);
}

/* Which of two symbols of the same name a lookup by name returns. */
static int better_by_name(const struct vms_symbol *a, const struct vms_symbol *b)
{
	if (!a->module != !b->module)
		return !a->module;
	return isupper((unsigned char)a->type) && !isupper((unsigned char)b->type);
}

struct vms_error *vms_symtab_finish(struct vms_symtab *tab)
{
	if (tab->nr)
		qsort(tab->syms, tab->nr, sizeof(*tab->syms), sym_cmp);
	size_t cap = 16;
	while (cap < tab->nr * 2)
		cap *= 2;
	uint32_t *hash = calloc(cap, sizeof(*hash));
	if (!hash)
		return &vms_error_nomem;
	for (size_t i = 0; i < tab->nr; i++) {
		size_t slot = hash_name(tab->syms[i].name) & (cap - 1);
		for (;;) {
			uint32_t cur = hash[slot];
			if (!cur) {
				hash[slot] = (uint32_t)i + 1;
				break;
			}
			const struct vms_symbol *other = &tab->syms[cur - 1];
			if (!strcmp(other->name, tab->syms[i].name)) {
				/* Keep one entry per name: the core kernel's
				 * before a module's, then a global. */
				if (better_by_name(&tab->syms[i], other))
					hash[slot] = (uint32_t)i + 1;
				break;
			}
			slot = (slot + 1) & (cap - 1);
		}
	}
	free(tab->hash);
	tab->hash = hash;
	tab->hash_cap = cap;
	return NULL;
}

size_t vms_symtab_count(const struct vms_symtab *tab)
{
	return tab->nr;
}

size_t vms_symtab_module_count(const struct vms_symtab *tab)
{
	return tab->nr_module;
}

const struct vms_symbol *vms_symtab_at(const struct vms_symtab *tab, size_t i)
{
	return i < tab->nr ? &tab->syms[i] : NULL;
}

const struct vms_symbol *vms_symtab_by_name(const struct vms_symtab *tab,
					    const char *name)
{
	if (!tab->hash_cap)
		return NULL;
	size_t slot = hash_name(name) & (tab->hash_cap - 1);
	for (;;) {
		uint32_t cur = tab->hash[slot];
		if (!cur)
			return NULL;
		if (!strcmp(tab->syms[cur - 1].name, name))
			return &tab->syms[cur - 1];
		slot = (slot + 1) & (tab->hash_cap - 1);
	}
}

const struct vms_symbol *vms_symtab_by_addr(const struct vms_symtab *tab,
					    uint64_t addr, uint64_t *offset)
{
	size_t lo = 0, hi = tab->nr;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (tab->syms[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	while (lo > 0) {
		const struct vms_symbol *s = &tab->syms[lo - 1];
		if (s->type != 'A' && s->type != 'a') {
			/* Of several symbols at this address, the first in sort
			 * order (globals first) names it. */
			while (lo > 1 && tab->syms[lo - 2].addr == s->addr &&
			       tab->syms[lo - 2].type != 'A' && tab->syms[lo - 2].type != 'a')
				s = &tab->syms[--lo - 1];
			if (offset)
				*offset = addr - s->addr;
			return s;
		}
		lo--;
	}
	return NULL;
}
