// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * QEMU / virsh ELF core dumps (dump-guest-memory, virsh dump --memory-only).
 *
 * PT_LOAD p_paddr is the guest physical address.  Notes: one CORE
 * NT_PRSTATUS per vCPU (general registers), one "QEMU" note per vCPU with
 * QEMUCPUState (control registers, segment bases), and optionally a
 * VMCOREINFO note.
 */
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "memory/filemap.h"
#include "util/bytes.h"

/* Layout of QEMU's QEMUCPUState note (target/i386/arch_dump.c), version 1. */
#define QEMU_NOTE_VERSION        0
#define QEMU_NOTE_SIZE           4
#define QEMU_NOTE_RSP            56
#define QEMU_NOTE_RIP            136
#define QEMU_NOTE_SEG(i)         (152 + 24 * (i)) /* cs ds es fs gs ss ldt tr gdt idt */
#define QEMU_NOTE_SEG_LIMIT      4
#define QEMU_NOTE_SEG_BASE       16
#define QEMU_NOTE_CR(i)          (392 + 8 * (i))
#define QEMU_NOTE_KERNEL_GS_BASE 432
#define QEMU_NOTE_MIN_SIZE       432

static void parse_qemu_note(const uint8_t *d, size_t n, struct vms_cpu_state *cpu)
{
	cpu->rsp = vms_le64(d + QEMU_NOTE_RSP);
	cpu->rip = vms_le64(d + QEMU_NOTE_RIP);
	cpu->gs_base = vms_le64(d + QEMU_NOTE_SEG(4) + QEMU_NOTE_SEG_BASE);
	cpu->gdt_base = vms_le64(d + QEMU_NOTE_SEG(8) + QEMU_NOTE_SEG_BASE);
	cpu->gdt_limit = vms_le32(d + QEMU_NOTE_SEG(8) + QEMU_NOTE_SEG_LIMIT);
	cpu->idt_base = vms_le64(d + QEMU_NOTE_SEG(9) + QEMU_NOTE_SEG_BASE);
	cpu->idt_limit = vms_le32(d + QEMU_NOTE_SEG(9) + QEMU_NOTE_SEG_LIMIT);
	cpu->cr0 = vms_le64(d + QEMU_NOTE_CR(0));
	cpu->cr2 = vms_le64(d + QEMU_NOTE_CR(2));
	cpu->cr3 = vms_le64(d + QEMU_NOTE_CR(3));
	cpu->cr4 = vms_le64(d + QEMU_NOTE_CR(4));
	if (n >= QEMU_NOTE_KERNEL_GS_BASE + 8) {
		cpu->kernel_gs_base = vms_le64(d + QEMU_NOTE_KERNEL_GS_BASE);
		cpu->has_kernel_gs_base = true;
	}
}

static struct vms_error *parse_notes(struct vms_filemap *fm, Elf *elf,
				     const GElf_Phdr *ph)
{
	Elf_Data *data = elf_getdata_rawchunk(elf, (int64_t)ph->p_offset,
					      ph->p_filesz, ELF_T_NHDR);
	if (!data)
		return vms_error_create(VMS_ERR_FORMAT,
			"%s: PT_NOTE at file offset 0x%llx (0x%llx bytes) is unreadable: %s",
			fm->base.path, (unsigned long long)ph->p_offset,
			(unsigned long long)ph->p_filesz, elf_errmsg(-1));
	size_t off = 0, name_off, desc_off;
	GElf_Nhdr nh;
	size_t nr_qemu = 0;
	while (off < data->d_size &&
	       (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
		const char *name = (const char *)data->d_buf + name_off;
		const uint8_t *desc = (const uint8_t *)data->d_buf + desc_off;
		if (nh.n_namesz == 5 && !memcmp(name, "QEMU", 5) && nh.n_type == 0 &&
		    nh.n_descsz >= QEMU_NOTE_MIN_SIZE &&
		    vms_le32(desc + QEMU_NOTE_VERSION) == 1) {
			size_t n = vms_le32(desc + QEMU_NOTE_SIZE);
			if (n > nh.n_descsz)
				n = nh.n_descsz;
			if (nr_qemu > 4096)
				continue;
			struct vms_cpu_state *cpus = realloc(fm->base.cpus,
				(nr_qemu + 1) * sizeof(*cpus));
			if (!cpus)
				return &vms_error_nomem;
			fm->base.cpus = cpus;
			memset(&cpus[nr_qemu], 0, sizeof(cpus[0]));
			parse_qemu_note(desc, n, &cpus[nr_qemu]);
			nr_qemu++;
			fm->base.nr_cpus = nr_qemu;
		} else if (nh.n_namesz == 11 && !memcmp(name, "VMCOREINFO", 11) &&
			   !fm->base.vmcoreinfo && nh.n_descsz < (1u << 20)) {
			fm->base.vmcoreinfo = strndup((const char *)desc, nh.n_descsz);
			if (!fm->base.vmcoreinfo)
				return &vms_error_nomem;
		}
	}
	return NULL;
}

static const char *etype_name(unsigned t)
{
	switch (t) {
	case ET_REL: return "ET_REL, an object file";
	case ET_EXEC: return "ET_EXEC, an executable";
	case ET_DYN: return "ET_DYN, a shared object or PIE";
	default: return "unknown type";
	}
}

struct vms_error *vms_elfcore_init(struct vms_filemap *fm)
{
	struct vms_error *err = NULL;
	fm->base.kind = "elf-core";
	elf_version(EV_CURRENT);
	Elf *elf = elf_memory((char *)fm->data, fm->file_size);
	if (!elf)
		return vms_error_create(VMS_ERR_FORMAT, "%s: not a readable ELF file: %s",
					fm->base.path, elf_errmsg(-1));
	GElf_Ehdr eh;
	if (!gelf_getehdr(elf, &eh)) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s: bad ELF header: %s",
				       fm->base.path, elf_errmsg(-1));
		goto out;
	}
	if (eh.e_type != ET_CORE) {
		err = vms_error_create(VMS_ERR_FORMAT,
			"%s: ELF file is not a memory dump (e_type %u: %s; expected ET_CORE from dump-guest-memory or virsh dump --memory-only)",
			fm->base.path, eh.e_type, etype_name(eh.e_type));
		goto out;
	}
	if (eh.e_machine != EM_X86_64) {
		err = vms_error_create(VMS_ERR_UNSUPPORTED,
			"%s: ELF core is for machine %u, only x86-64 (62) is supported",
			fm->base.path, eh.e_machine);
		goto out;
	}
	size_t phnum;
	if (elf_getphdrnum(elf, &phnum) != 0) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s: bad program header count: %s",
				       fm->base.path, elf_errmsg(-1));
		goto out;
	}
	if (phnum > (1u << 20)) {
		err = vms_error_create(VMS_ERR_FORMAT, "%s: absurd program header count %zu",
				       fm->base.path, phnum);
		goto out;
	}
	struct vms_segment *segs = calloc(phnum ? phnum : 1, sizeof(*segs));
	if (!segs) {
		err = &vms_error_nomem;
		goto out;
	}
	size_t nr = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(elf, (int)i, &ph)) {
			err = vms_error_create(VMS_ERR_FORMAT,
				"%s: program header %zu unreadable (truncated file?): %s",
				fm->base.path, i, elf_errmsg(-1));
			break;
		}
		if (ph.p_type == PT_LOAD) {
			segs[nr++] = (struct vms_segment){ ph.p_paddr, ph.p_filesz,
							   ph.p_offset };
		} else if (ph.p_type == PT_NOTE) {
			if (ph.p_offset > fm->file_size ||
			    ph.p_filesz > fm->file_size - ph.p_offset) {
				err = vms_error_create(VMS_ERR_FORMAT,
					"%s: PT_NOTE at file offset 0x%llx runs past the end of the file (truncated dump?)",
					fm->base.path, (unsigned long long)ph.p_offset);
				break;
			}
			err = parse_notes(fm, elf, &ph);
			if (err)
				break;
		}
	}
	if (!err && !nr)
		err = vms_error_create(VMS_ERR_FORMAT,
			"%s: ELF core has no PT_LOAD segments: no guest memory in it",
			fm->base.path);
	if (!err)
		err = vms_filemap_set_segments(fm, segs, nr);
	if (err)
		free(segs);
out:
	elf_end(elf);
	return err;
}
