// SPDX-License-Identifier: LGPL-2.1-or-later
/* The exporter's --web.config.file (include/vmsight/webconfig.h): the
 * supported YAML, what is refused, and bcrypt checks of basic-auth users
 * (hashes made here with libcrypt, cost 5 to keep the test quick). */
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vmsight/webconfig.h>

#include "check.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static struct vms_error *parse(const char *text, struct vms_webconfig **c)
{
	return vms_webconfig_parse(text, strlen(text), "/etc/vmsight/web.yml", c);
}

int main(void)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE], hash[CRYPT_OUTPUT_SIZE];
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	if (!cd || !crypt_gensalt_rn("$2b$", 5, NULL, 0, salt, sizeof(salt)) ||
	    !crypt_rn("s3cret \"pass\"", salt, cd, sizeof(*cd))) {
		printf("FAIL setup: libcrypt has no bcrypt\n");
		return 1;
	}
	snprintf(hash, sizeof(hash), "%s", cd->output);
	free(cd);

	char yml[1024];
	snprintf(yml, sizeof(yml),
		 "# the exporter-toolkit format\n"
		 "tls_server_config:\n"
		 "  cert_file: exporter.crt\n"
		 "  key_file: \"/abs/exporter.key\"\n"
		 "  min_version: TLS13\n"
		 "basic_auth_users:\n"
		 "  prometheus: '%s'\n"
		 "  other: %s\n", hash, hash);
	struct vms_webconfig *c = NULL;
	struct vms_error *err = parse(yml, &c);
	CHECKD(!err, "a full config parses", "%s", err ? err->message : "");
	vms_error_free(err);
	if (!c)
		return CHECK_DONE();
	CHECK(!strcmp(c->cert_file, "/etc/vmsight/exporter.crt") &&
	      !strcmp(c->key_file, "/abs/exporter.key") && c->tls13_only,
	      "TLS files: relative to the config's directory, absolute kept; min_version");
	CHECK(c->nr_users == 2 && !strcmp(c->users[0].name, "prometheus"), "two users");
	CHECK(vms_webconfig_check_user(c, "prometheus", "s3cret \"pass\""), "right password accepted");
	double t0 = now();
	bool again = vms_webconfig_check_user(c, "prometheus", "s3cret \"pass\"");
	double cached = now() - t0;
	CHECKD(again, "a remembered success is accepted again", "%.3f s", cached);
	CHECK(!vms_webconfig_check_user(c, "prometheus", "s3cret"), "wrong password refused");
	CHECK(!vms_webconfig_check_user(c, "prometheus", ""), "empty password refused");
	CHECK(!vms_webconfig_check_user(c, "nobody", "s3cret \"pass\""), "unknown user refused");
	CHECK(!vms_webconfig_check_user(c, "Prometheus", "s3cret \"pass\""), "user names are case-sensitive");
	CHECK(vms_webconfig_check_user(c, "other", "s3cret \"pass\""), "second user accepted");
	vms_webconfig_free(c);

	err = parse("", &c);
	CHECK(!err && c && !c->cert_file && !c->nr_users, "an empty file: no TLS, no auth");
	vms_error_free(err);
	vms_webconfig_free(c);
	err = parse("---\n# nothing\n", &c);
	CHECK(!err && c && !c->nr_users, "a document with only a comment");
	vms_error_free(err);
	vms_webconfig_free(c);

	static const struct { const char *text; const char *want; const char *why; } bad[] = {
		{ "tls_server_config:\n  cert_file: a.crt\n", "both", "cert without key" },
		{ "tls_server_config:\n  client_ca_file: ca.crt\n", "client_ca_file",
		  "unsupported TLS key named" },
		{ "http_server_config:\n  http2: true\n", "http_server_config", "unsupported section named" },
		{ "basic_auth_users:\n  bob: plaintext\n", "bcrypt", "plain password refused" },
		{ "basic_auth_users:\n  bob: $1$abc$def\n", "bcrypt", "md5-crypt refused" },
		{ "basic_auth_users:\n  - bob\n", "mapping", "users as a list" },
		{ "tls_server_config: [\n", "web.yml", "YAML syntax error names the file" },
		{ "- a\n- b\n", "mapping", "a list at the top" },
		{ "tls_server_config:\n  min_version: TLS10\n", "min_version", "TLS 1.0 refused" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[128];
		c = NULL;
		err = parse(bad[i].text, &c);
		snprintf(name, sizeof(name), "refused: %s", bad[i].why);
		CHECKD(err && !c && strstr(err->message, bad[i].want), name, "%s",
		       err ? err->message : "accepted");
		vms_error_free(err);
	}
	char dup[1024];
	snprintf(dup, sizeof(dup), "basic_auth_users:\n  bob: %s\n  bob: %s\n", hash, hash);
	err = parse(dup, &c);
	CHECK(err && strstr(err->message, "twice"), "refused: a user given twice");
	vms_error_free(err);
	err = vms_webconfig_load("/nonexistent/web.yml", &c);
	CHECK(err && strstr(err->message, "/nonexistent/web.yml"), "a missing file is named");
	vms_error_free(err);
	return CHECK_DONE();
}
