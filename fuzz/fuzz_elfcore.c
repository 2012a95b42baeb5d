// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libFuzzer harness: opening a memory source from a file (ELF core, or raw
 * RAM when not ELF).  The input is written to a memfd and opened through
 * /proc/self/fd/N like any user-named file; when it opens, a few ranges,
 * the vCPU states and VMCOREINFO are read.
 * VMSIGHT_FUZZ_WRITE_SEEDS=dir: write a small valid QEMU-style ELF core
 * there, and exit.
 */
#include <elf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vmsight/source.h>

#include "fuzz_file.h"

const char *__asan_default_options(void);

/*
 * vms_source_open() detects the kind by content, so some inputs reach
 * libkdumpfile, which sizes buffers from header fields src/memory/kdump.c
 * cannot all check: let such a malloc fail (NULL) as it would in a normal
 * build, instead of ASan aborting on the size (as fuzz_kdump.c does).
 */
const char *__asan_default_options(void)
{
	return "allocator_may_return_null=1";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct fuzz_file in;  /* libFuzzer's entry points share it */

static size_t note(uint8_t *p, const char *name, uint32_t type,
		   const void *desc, uint32_t descsz)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	memcpy(p, &namesz, 4);
	memcpy(p + 4, &descsz, 4);
	memcpy(p + 8, &type, 4);
	size_t off = 12;
	memcpy(p + off, name, namesz);
	off += (namesz + 3) & ~3u;
	memcpy(p + off, desc, descsz);
	off += (descsz + 3) & ~3u;
	return off;
}

/* ELF64 core: PT_NOTE (NT_PRSTATUS, QEMU x2, VMCOREINFO) and two PT_LOADs. */
static size_t make_core(uint8_t *buf)
{
	memset(buf, 0, 0x5000);
	Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 3;
	Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
	size_t noff = 0x200, n = 0;
	uint8_t prstatus[336] = { 0 };
	n += note(buf + noff + n, "CORE", 1, prstatus, sizeof(prstatus));
	uint8_t qemu[440] = { 0 };
	uint32_t v = 1, qsz = sizeof(qemu);
	memcpy(qemu, &v, 4);
	memcpy(qemu + 4, &qsz, 4);
	uint64_t cr3 = 0x1000, cr4 = 0x20, rip = 0xffffffff81000000ULL;
	memcpy(qemu + 392 + 24, &cr3, 8);
	memcpy(qemu + 392 + 32, &cr4, 8);
	memcpy(qemu + 136, &rip, 8);
	n += note(buf + noff + n, "QEMU", 0, qemu, sizeof(qemu));
	n += note(buf + noff + n, "QEMU", 0, qemu, sizeof(qemu));
	static const char vmci[] = "OSRELEASE=6.1.0\nPAGESIZE=4096\n";
	n += note(buf + noff + n, "VMCOREINFO", 0, vmci, sizeof(vmci) - 1);
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = noff, .p_filesz = n };
	ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x2000, .p_paddr = 0,
			      .p_filesz = 0x2000, .p_memsz = 0x2000 };
	ph[2] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_offset = 0x4000,
			      .p_paddr = 0x100000, .p_filesz = 0x1000, .p_memsz = 0x1000 };
	for (int i = 0; i < 0x3000; i++)
		buf[0x2000 + i] = (uint8_t)(i * 7);
	return 0x5000;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *dir = getenv("VMSIGHT_FUZZ_WRITE_SEEDS");
	if (dir) {
		static uint8_t buf[0x5000];
		size_t n = make_core(buf);
		fuzz_write_seed(dir, "core-qemu", buf, n);
		/* a core with one PT_LOAD, no notes */
		Elf64_Ehdr *eh = (Elf64_Ehdr *)buf;
		Elf64_Phdr *ph = (Elf64_Phdr *)(buf + sizeof(*eh));
		ph[0] = ph[1];
		eh->e_phnum = 1;
		fuzz_write_seed(dir, "core-noteless", buf, n);
		exit(0);
	}
	fuzz_file_init(&in, "vmsight-fuzz");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!fuzz_file_set(&in, data, size))
		return 0;
	struct vms_source *src;
	struct vms_error *err = vms_source_open(in.path, &src);
	if (err) {
		vms_error_free(err);
		return 0;
	}
	uint8_t buf[256];
	for (size_t i = 0; i < src->nr_ranges && i < 16; i++) {
		const struct vms_phys_range *r = &src->ranges[i];
		uint64_t len = r->end - r->start;
		size_t n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		vms_error_free(vms_source_read(src, r->start, buf, n));
		vms_error_free(vms_source_read(src, r->end - n, buf, n));
		vms_error_free(vms_source_read(src, r->end - 1, buf, 2));  /* may cross a gap */
		vms_source_map(src, r->start, n);
		vms_source_map(src, r->end - 1, 2);
		vms_source_is_backed(src, r->start, (size_t)len);
	}
	vms_error_free(vms_source_read(src, ~0ULL - 4, buf, 16));
	vms_source_phys_end(src);
	vms_source_phys_size(src);
	volatile uint64_t sum = 0;
	for (size_t i = 0; i < src->nr_cpus; i++)
		sum += src->cpus[i].cr3 + src->cpus[i].rip + src->cpus[i].kernel_gs_base;
	if (src->vmcoreinfo)
		sum += strlen(src->vmcoreinfo);
	(void)sum;
	vms_source_close(src);
	return 0;
}
