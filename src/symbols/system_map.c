// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Kernel symbols from files the user gives: a System.map (`nm -n` text) or
 * a vmlinux's ELF .symtab (libelf).  Both hold link-time addresses; kernel
 * discovery slides them by the KASLR offset and checks them against
 * kallsyms.  A System.map is untrusted text: lines are bounded, every field
 * is validated, bad lines are counted and the first one is named.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vmsight/symbols.h>

#define MAX_MAP_FILE (256u << 20)
#define MAX_MAP_SYMS (1u << 24)
#define MAX_NAME 1024

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Parse one line (no newline, no NUL inside guaranteed by the caller's
 * length); NULL on success, else a static reason. */
static const char *parse_line(const char *p, size_t n, uint64_t *addr,
			      char *type, const char **name, size_t *name_len)
{
	size_t i = 0;
	uint64_t a = 0;
	size_t digits = 0;
	while (i < n && hexval(p[i]) >= 0) {
		if (++digits > 16)
			return "address longer than 16 hex digits";
		a = (a << 4) | (uint64_t)hexval(p[i]);
		i++;
	}
	if (!digits)
		return "no hex address at the start";
	if (i >= n || !is_blank(p[i]))
		return "address not followed by a blank";
	while (i < n && is_blank(p[i]))
		i++;
	if (i >= n)
		return "no type letter";
	char t = p[i++];
	if (!((t >= 'A' && t <= 'Z') || (t >= 'a' && t <= 'z') || t == '?' || t == '-'))
		return "type is not a letter";
	if (i >= n || !is_blank(p[i]))
		return "type is not one letter followed by a blank";
	while (i < n && is_blank(p[i]))
		i++;
	size_t start = i;
	while (i < n && p[i] > ' ' && p[i] < 0x7f)
		i++;
	if (i == start)
		return "no symbol name";
	if (i - start > MAX_NAME)
		return "symbol name too long";
	size_t end = i;
	while (i < n && is_blank(p[i]))
		i++;
	/* Only an nm-style "[module]" may follow the name. */
	if (i < n) {
		if (p[i] != '[' || p[n - 1] != ']')
			return "text after the symbol name";
		for (size_t j = i + 1; j < n - 1; j++)
			if (p[j] <= ' ' || p[j] >= 0x7f || p[j] == ']')
				return "bad [module] after the symbol name";
	}
	*addr = a;
	*type = t;
	*name = p + start;
	*name_len = end - start;
	return NULL;
}

static void note_bad(struct vms_system_map_stats *st, size_t line,
		     const char *why, const char *p, size_t n)
{
	st->bad_lines++;
	if (st->first_bad_line)
		return;
	st->first_bad_line = line;
	char shown[48];
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < sizeof(shown) && i < 40; i++)
		shown[k++] = (p[i] >= ' ' && p[i] < 0x7f) ? p[i] : '?';
	shown[k] = '\0';
	snprintf(st->first_bad, sizeof(st->first_bad), "%s: \"%s%s\"", why, shown,
		 n > 40 ? "..." : "");
}

struct vms_error *vms_system_map_parse(const char *text, size_t len,
				       struct vms_symtab *tab,
				       struct vms_system_map_stats *stats)
{
	struct vms_system_map_stats st = { 0 };
	size_t pos = 0;
	while (pos < len) {
		const char *p = text + pos;
		const char *nl = memchr(p, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - p) : len - pos;
		pos += n + (nl ? 1 : 0);
		st.lines++;
		if (n && p[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		if (n > VMS_SYSTEM_MAP_MAX_LINE) {
			note_bad(&st, st.lines, "line longer than 4096 bytes", p, n);
			continue;
		}
		if (memchr(p, '\0', n)) {
			note_bad(&st, st.lines, "NUL byte in line", p, n);
			continue;
		}
		uint64_t addr;
		char type;
		const char *name;
		size_t name_len;
		const char *why = parse_line(p, n, &addr, &type, &name, &name_len);
		if (why) {
			note_bad(&st, st.lines, why, p, n);
			continue;
		}
		if (st.symbols >= MAX_MAP_SYMS) {
			note_bad(&st, st.lines, "more than 16M symbols", p, n);
			break;
		}
		struct vms_error *err = vms_symtab_add(tab, addr, type, name, name_len, NULL);
		if (err)
			return err;
		st.symbols++;
	}
	if (stats)
		*stats = st;
	if (!st.symbols)
		return vms_error_create(VMS_ERR_FORMAT,
			"no \"ADDRESS TYPE NAME\" line in %zu line(s) of System.map text; first bad line: %zu (%s)",
			st.lines, st.first_bad_line,
			st.first_bad_line ? st.first_bad : "none");
	return NULL;
}

struct vms_error *vms_system_map_load(const char *path, struct vms_symtab *tab,
				      struct vms_system_map_stats *stats)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_error_create(VMS_ERR_IO, "cannot open System.map %s: %s",
					path, strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return vms_error_create(VMS_ERR_IO, "System.map %s is not a regular file", path);
	}
	if ((uint64_t)sb.st_size > MAX_MAP_FILE) {
		close(fd);
		return vms_error_create(VMS_ERR_FORMAT,
			"System.map %s is %lld bytes: larger than 256 MiB", path,
			(long long)sb.st_size);
	}
	if (sb.st_size == 0) {
		close(fd);
		return vms_error_create(VMS_ERR_FORMAT, "System.map %s is empty", path);
	}
	void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (m == MAP_FAILED)
		return vms_error_create(VMS_ERR_IO, "cannot map System.map %s: %s", path,
					strerror(errno));
	struct vms_error *err = vms_system_map_parse(m, (size_t)sb.st_size, tab, stats);
	munmap(m, (size_t)sb.st_size);
	if (err)
		return vms_error_wrap(err, "%s", path);
	return NULL;
}

/* nm's letter for an ELF symbol. */
static char elf_sym_type(Elf *elf, const GElf_Sym *sym)
{
	char t;
	if (sym->st_shndx == SHN_ABS) {
		t = 'A';
	} else {
		GElf_Shdr sh;
		Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
		if (!scn || !gelf_getshdr(scn, &sh))
			t = '?';
		else if (sh.sh_flags & SHF_EXECINSTR)
			t = 'T';
		else if (sh.sh_type == SHT_NOBITS)
			t = 'B';
		else if (sh.sh_flags & SHF_WRITE)
			t = 'D';
		else
			t = 'R';
	}
	if (GELF_ST_BIND(sym->st_info) == STB_LOCAL && t != '?')
		t = (char)(t - 'A' + 'a');
	return t;
}

static void read_banner(Elf *elf, const GElf_Sym *sym, char *banner, size_t size)
{
	Elf_Scn *scn = elf_getscn(elf, sym->st_shndx);
	GElf_Shdr sh;
	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS ||
	    sym->st_value < sh.sh_addr)
		return;
	Elf_Data *d = elf_getdata(scn, NULL);
	uint64_t off = sym->st_value - sh.sh_addr;
	if (!d || !d->d_buf || off >= d->d_size)
		return;
	size_t n = d->d_size - off;
	if (n > size - 1)
		n = size - 1;
	memcpy(banner, (const char *)d->d_buf + off, n);
	banner[n] = '\0';
	banner[strnlen(banner, n)] = '\0';
}

struct vms_error *vms_elf_symbols_load(const char *path, struct vms_symtab *tab,
				       size_t *count, char *banner,
				       size_t banner_size)
{
	if (banner && banner_size)
		banner[0] = '\0';
	if (elf_version(EV_CURRENT) == EV_NONE)
		return vms_error_create(VMS_ERR_UNSUPPORTED, "libelf: %s", elf_errmsg(-1));
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vms_error_create(VMS_ERR_IO, "cannot open vmlinux %s: %s", path,
					strerror(errno));
	struct vms_error *err = NULL;
	size_t n = 0;
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		err = vms_error_create(VMS_ERR_FORMAT, "vmlinux %s is not an ELF file", path);
		goto out;
	}
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr symsh;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_SYMTAB) {
			symscn = scn;
			symsh = sh;
			break;
		}
	}
	if (!symscn) {
		err = vms_error_create(VMS_ERR_NOT_FOUND,
			"vmlinux %s has no .symtab (stripped?)", path);
		goto out;
	}
	Elf_Data *data = elf_getdata(symscn, NULL);
	if (!data || !symsh.sh_entsize) {
		err = vms_error_create(VMS_ERR_FORMAT, "vmlinux %s: unreadable .symtab: %s",
				       path, elf_errmsg(-1));
		goto out;
	}
	size_t nsyms = symsh.sh_size / symsh.sh_entsize;
	for (size_t i = 1; i < nsyms; i++) {
		GElf_Sym sym;
		if (!gelf_getsym(data, (int)i, &sym))
			break;
		int st = GELF_ST_TYPE(sym.st_info);
		if (st == STT_SECTION || st == STT_FILE || sym.st_shndx == SHN_UNDEF)
			continue;
		const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
		if (!name || !*name)
			continue;
		size_t len = strnlen(name, MAX_NAME + 1);
		if (len > MAX_NAME)
			continue;
		if (banner && banner_size && !banner[0] && !strcmp(name, "linux_banner"))
			read_banner(elf, &sym, banner, banner_size);
		if ((err = vms_symtab_add(tab, sym.st_value, elf_sym_type(elf, &sym),
					  name, len, NULL)))
			goto out;
		n++;
	}
	if (!n)
		err = vms_error_create(VMS_ERR_NOT_FOUND,
			"vmlinux %s: .symtab holds no defined symbol", path);
out:
	if (elf)
		elf_end(elf);
	close(fd);
	if (count)
		*count = n;
	return err;
}
