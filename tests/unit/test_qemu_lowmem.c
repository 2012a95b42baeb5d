// SPDX-License-Identifier: LGPL-2.1-or-later
/* QEMU's split of guest RAM below and above 4 GiB (vms_qemu_pc_lowmem),
 * for the pc (i440fx) and q35 machines, as QEMU computes it in
 * hw/i386/pc_piix.c and pc_q35.c, from the command line QEMU was given
 * (NUL-separated, as /proc/PID/cmdline). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "memory/sources.h"

#define MiB (1ULL << 20)
#define GiB (1ULL << 30)

/* "a b c" -> "a\0b\0c\0" in @buf; returns the length. */
static size_t argv_of(const char *line, char *buf, size_t size)
{
	size_t n = strlen(line);
	if (n + 1 > size)
		return 0;
	memcpy(buf, line, n + 1);
	for (size_t i = 0; i < n; i++)
		if (buf[i] == ' ')
			buf[i] = 0;
	return n + 1;
}

static void expect(const char *name, uint64_t ram, const char *line, uint64_t want)
{
	char buf[512];
	size_t len = line ? argv_of(line, buf, sizeof(buf)) : 0;
	uint64_t got = vms_qemu_pc_lowmem(ram, line ? buf : NULL, len);
	CHECKD(got == want, name, "ram %llu MiB, cmdline '%s': lowmem 0x%llx, want 0x%llx",
	       (unsigned long long)(ram / MiB), line ? line : "(none)",
	       (unsigned long long)got, (unsigned long long)want);
}

int main(void)
{
	/* pc: below 3.5 GiB everything is low; at or above it, 3 GiB. */
	expect("pc: 512 MiB is all below 4 GiB", 512 * MiB, "qemu -m 512M", 512 * MiB);
	expect("pc: no command line is the pc machine", 4 * GiB, NULL, 3 * GiB);
	expect("pc: 3.5 GiB - 1 MiB stays low", 3584 * MiB - MiB, "qemu -machine pc",
	       3584 * MiB - MiB);
	expect("pc: 3.5 GiB splits at 3 GiB", 3584 * MiB, "qemu -machine pc", 3 * GiB);
	expect("pc: 4 GiB splits at 3 GiB", 4 * GiB, "qemu -M pc-i440fx-7.2", 3 * GiB);
	expect("pc: max-ram-below-4g=2G", 4 * GiB, "qemu -machine pc,max-ram-below-4g=2G",
	       2 * GiB);
	/* q35: low memory is 2 GiB when RAM reaches 2.75 GiB, else 2.75 GiB. */
	expect("q35: 2 GiB is all low", 2 * GiB, "qemu -machine q35", 2 * GiB);
	expect("q35: 2.75 GiB - 1 MiB stays low", 2816 * MiB - MiB, "qemu -M q35",
	       2816 * MiB - MiB);
	expect("q35: 4 GiB splits at 2 GiB", 4 * GiB, "qemu -machine type=q35", 2 * GiB);
	expect("q35: pc-q35-7.2 is q35", 4 * GiB, "qemu -machine pc-q35-7.2", 2 * GiB);
	expect("q35: max-ram-below-4g=1G", 4 * GiB, "qemu -machine q35,max-ram-below-4g=1G",
	       1 * GiB);
	/* Repeated -machine options merge; the last value of a key wins. */
	expect("repeated -machine: type from the first, option from the second", 4 * GiB,
	       "qemu -machine q35 -machine max-ram-below-4g=1G", 1 * GiB);
	expect("repeated -machine: the last type wins", 4 * GiB,
	       "qemu -M q35 -machine pc", 3 * GiB);
	/* Hostile or odd input must not crash: a trailing option without value. */
	expect("a trailing -machine with no value is the default machine", 4 * GiB,
	       "qemu -machine", 3 * GiB);
	return CHECK_DONE();
}
