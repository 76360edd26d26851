/* nftw() and FTW_* are X/Open extensions, outside _POSIX_C_SOURCE. */
#define _XOPEN_SOURCE 700

#include "support.h"

#include "access/access.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *cu_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[512];

	snprintf(tmpl, sizeof(tmpl), "%s/cu-test-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl))
		return NULL;
	return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void cu_test_rmdir(char *dir)
{
	if (!dir)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(dir);
}

const char *cu_test_source_path(const char *rel)
{
	static char buf[1024];
	const char *src = getenv("CU_SOURCE_DIR");

	snprintf(buf, sizeof(buf), "%s/%s", src && *src ? src : ".", rel);
	return buf;
}

cu_ctx *cu_test_ctx_new(char **dir_out)
{
	char err[512] = "";
	char *tmp = cu_test_tmpdir();
	char dir[600];
	cu_ctx *ctx = NULL;

	assert_non_null(tmp);
	snprintf(dir, sizeof(dir), "%s/var", tmp);
	if (cu_ctx_init_dir(dir, NULL, err, sizeof(err)) != CU_OK)
		fail_msg("init: %s", err);
	if (cu_ctx_open(dir, &ctx, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
	/* Argon2id is slow on purpose; tests use the lowest cost libsodium allows. */
	ctx->config.argon2_opslimit = 1;
	ctx->config.argon2_memlimit_kib = 8;
	*dir_out = tmp;
	return ctx;
}

void cu_test_ctx_free(cu_ctx *ctx, char *dir)
{
	cu_ctx_close(ctx);
	cu_test_rmdir(dir);
}

const cu_actor cu_test_operator = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

unsigned long long cu_test_audit_count(cu_ctx *ctx)
{
	uint64_t n = 0;

	assert_int_equal(cu_store_audit_count(ctx->store, &n), CU_OK);
	return (unsigned long long)n;
}

bool cu_test_file_contains(const char *path, const char *needle)
{
	return cu_test_file_contains_bytes(path, needle, strlen(needle));
}

bool cu_test_file_contains_bytes(const char *path, const void *needle, size_t nlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, len = 0, r;
	char *buf;
	bool found = false;

	if (!f)
		return false;
	buf = malloc(cap);
	assert_non_null(buf);
	while ((r = fread(buf + len, 1, cap - len, f)) > 0) {
		len += r;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
	}
	fclose(f);
	for (size_t i = 0; i + nlen <= len && !found; i++)
		found = memcmp(buf + i, needle, nlen) == 0;
	free(buf);
	return found;
}
