/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Minimal check macros for unit tests: one PASS/FAIL line per check,
 * understood by tests/run. */
#ifndef VMSIGHT_TEST_CHECK_H
#define VMSIGHT_TEST_CHECK_H
#include <stdio.h>

static int check_failures;

#define CHECK(cond, name)                                                   \
	do {                                                                \
		if (cond) {                                                 \
			printf("PASS %s\n", name);                          \
		} else {                                                    \
			printf("FAIL %s: %s (%s:%d)\n", name, #cond,        \
			       __FILE__, __LINE__);                         \
			check_failures++;                                   \
		}                                                           \
	} while (0)

/* CHECK whose FAIL line carries a formatted detail. */
#define CHECKD(cond, name, ...)                                             \
	do {                                                                \
		if (cond) {                                                 \
			printf("PASS %s\n", name);                          \
		} else {                                                    \
			char d_[512];                                       \
			snprintf(d_, sizeof(d_), __VA_ARGS__);              \
			printf("FAIL %s: %s (%s:%d)\n", name, d_, __FILE__, \
			       __LINE__);                                   \
			check_failures++;                                   \
		}                                                           \
	} while (0)

#define CHECK_DONE() (check_failures ? 1 : 0)
#endif
