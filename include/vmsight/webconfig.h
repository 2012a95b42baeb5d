/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The web configuration file of Prometheus exporters (the exporter-toolkit's
 * --web.config.file), the part vmsight supports (src/export/webconfig.c):
 *
 *     tls_server_config:
 *       cert_file: /etc/vmsight/exporter.crt   # PEM; both or neither
 *       key_file: /etc/vmsight/exporter.key
 *       min_version: TLS12                     # TLS12 (default) or TLS13
 *     basic_auth_users:
 *       prometheus: $2y$10$...                 # bcrypt hashes only
 *
 * Any other key is an error (rather than a setting silently not applied).
 * An empty file means no TLS and no authentication.  Relative paths are
 * taken from the configuration file's directory, as the toolkit does.
 */
#ifndef VMSIGHT_WEBCONFIG_H
#define VMSIGHT_WEBCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <vmsight/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct vms_webconfig_user {
	char *name;
	char *hash;            /* $2a$, $2b$ or $2y$ bcrypt */
};

struct vms_webconfig {
	char *cert_file, *key_file;   /* NULL: no TLS */
	bool tls13_only;              /* min_version: TLS13 */
	struct vms_webconfig_user *users;
	size_t nr_users;              /* 0: no authentication */
	struct vms_webconfig_cache *cache;  /* private */
};

/* Parse the YAML text @text (@len bytes; @path names it in errors and is
 * the base of relative file names, may be NULL). */
struct vms_error *vms_webconfig_parse(const char *text, size_t len, const char *path,
				      struct vms_webconfig **out);
/* Read and parse the file @path (at most 1 MiB). */
struct vms_error *vms_webconfig_load(const char *path, struct vms_webconfig **out);
void vms_webconfig_free(struct vms_webconfig *c);

/*
 * Whether @user with password @pass is allowed (bcrypt through libcrypt's
 * crypt_rn).  An unknown user costs the same bcrypt as a known one.  A
 * success is remembered (a fast salted hash of the password, not the
 * password) so that a scraper sending the same credentials every few
 * seconds does not pay bcrypt each time.  Thread-safe.
 */
bool vms_webconfig_check_user(struct vms_webconfig *c, const char *user, const char *pass);

#ifdef __cplusplus
}
#endif
#endif
