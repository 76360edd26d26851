/*
 * test_ctx.c — every way opening a data directory can fail (src/ctx/ctx.c).
 *
 * Each broken directory must be refused with a result code and one line in
 * err naming what is wrong, *out left NULL, and nothing in the directory
 * created or changed, so the operator can fix the one thing and try again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ctx/ctx.h"
#include "support.h"

struct fixture {
	char *tmp;
	char dir[600];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[512] = "";

	if (!fx)
		return -1;
	fx->tmp = cu_test_tmpdir();
	snprintf(fx->dir, sizeof(fx->dir), "%s/var", fx->tmp);
	if (cu_ctx_init_dir(fx->dir, NULL, err, sizeof(err)) != CU_OK) {
		fprintf(stderr, "init: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cu_test_rmdir(fx->tmp);
	free(fx);
	return 0;
}

static void path_in(const struct fixture *fx, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", fx->dir, name);
}

static void write_in(const struct fixture *fx, const char *name, const char *text, mode_t mode)
{
	char path[700];
	FILE *f;

	path_in(fx, name, path, sizeof(path));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void append_in(const struct fixture *fx, const char *name, const char *text)
{
	char path[700];
	FILE *f;

	path_in(fx, name, path, sizeof(path));
	f = fopen(path, "a");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Names and sizes of what the directory holds, to see that a refusal changed nothing. */
static void listing(const struct fixture *fx, char *out, size_t n)
{
	static const char *const names[] = {
	    "custodian.conf",   "policy.json",      "master.key",      "custodian.db",
	    "custodian.db-wal", "custodian.db-shm", "audit.checkpoint"};
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char path[700];
		struct stat st;

		path_in(fx, names[i], path, sizeof(path));
		if (stat(path, &st) == 0)
			o += (size_t)snprintf(out + o, n - o, "%s %lld %o %lld;", names[i],
			                      (long long)st.st_size, (unsigned)st.st_mode,
			                      (long long)st.st_mtim.tv_nsec);
	}
}

/* Opening fx->dir is refused with rc, one line in err holding `words`, nothing changed. */
static void refused(const struct fixture *fx, cu_result rc, const char *words)
{
	char err[512] = "", before[2048], after[2048];
	cu_ctx *ctx = (cu_ctx *)&ctx;

	listing(fx, before, sizeof(before));
	assert_int_equal(cu_ctx_open(fx->dir, &ctx, err, sizeof(err)), rc);
	assert_null(ctx);
	if (!strstr(err, words))
		fail_msg("expected '%s' in the error, got '%s'", words, err);
	assert_null(strchr(err, '\n'));
	listing(fx, after, sizeof(after));
	assert_string_equal(before, after);
}

static void test_opens_when_whole(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "";
	cu_ctx *ctx = NULL;

	assert_int_equal(cu_ctx_open(fx->dir, &ctx, err, sizeof(err)), CU_OK);
	assert_non_null(ctx);
	cu_ctx_close(ctx);
}

static void test_no_directory(void **state)
{
	struct fixture *fx = *state;
	char err[512] = "", path[700];
	cu_ctx *ctx = NULL;

	snprintf(path, sizeof(path), "%s/absent", fx->tmp);
	assert_int_equal(cu_ctx_open(path, &ctx, err, sizeof(err)), CU_ERR_NOT_FOUND);
	assert_null(ctx);
	assert_non_null(strstr(err, "custodian init"));
	assert_int_equal(access(path, F_OK), -1);

	/* A file where the directory should be is not one. */
	path_in(fx, "policy.json", path, sizeof(path));
	assert_int_equal(cu_ctx_open(path, &ctx, err, sizeof(err)), CU_ERR_NOT_FOUND);
	assert_null(ctx);
}

static void test_config_broken(void **state)
{
	struct fixture *fx = *state;

	append_in(fx, "custodian.conf", "[[[not a section\n");
	refused(fx, CU_ERR_CONFIG, "custodian.conf");
}

static void test_config_unknown_key(void **state)
{
	struct fixture *fx = *state;

	append_in(fx, "custodian.conf", "[server]\nlisten_harder = yes\n");
	refused(fx, CU_ERR_CONFIG, "listen_harder");
}

/* config.h: a missing file is not an error; the defaults hold. */
static void test_config_missing_means_defaults(void **state)
{
	struct fixture *fx = *state;
	char path[700], err[512] = "";
	cu_ctx *ctx = NULL;

	path_in(fx, "custodian.conf", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cu_ctx_open(fx->dir, &ctx, err, sizeof(err)), CU_OK);
	assert_string_equal(ctx->config.listen, "127.0.0.1:8080");
	cu_ctx_close(ctx);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_policy_missing(void **state)
{
	struct fixture *fx = *state;
	char path[700];

	path_in(fx, "policy.json", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	refused(fx, CU_ERR_IO, "cannot read policy");
}

static void test_policy_not_json(void **state)
{
	struct fixture *fx = *state;

	write_in(fx, "policy.json", "{not json\n", 0644);
	refused(fx, CU_ERR_POLICY_INVALID, "invalid JSON");
}

static void test_policy_changed_under_its_version(void **state)
{
	struct fixture *fx = *state;
	char path[700], err[512] = "", *doc, *at;
	cu_ctx *ctx = NULL;
	long n;
	FILE *f;

	/* Opened once, the version is recorded as published (versions.h) ... */
	assert_int_equal(cu_ctx_open(fx->dir, &ctx, err, sizeof(err)), CU_OK);
	cu_ctx_close(ctx);
	/* ... and the same version with other content is refused: it never changes. */
	path_in(fx, "policy.json", path, sizeof(path));
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	doc = calloc(1, (size_t)n + 1);
	assert_non_null(doc);
	assert_int_equal(fread(doc, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	at = strstr(doc, "\"title\"");
	assert_non_null(at);
	at = strchr(at + 8, '"');
	assert_non_null(at);
	at[1] = at[1] == 'X' ? 'Y' : 'X';
	write_in(fx, "policy.json", doc, 0644);
	free(doc);
	refused(fx, CU_ERR_CONFLICT, "published before with other content");
}

static void test_key_mode(void **state)
{
	struct fixture *fx = *state;
	char path[700];

	path_in(fx, "master.key", path, sizeof(path));
	assert_int_equal(chmod(path, 0644), 0);
	refused(fx, CU_ERR_CRYPTO, "mode 0644");
}

static void test_key_garbage(void **state)
{
	struct fixture *fx = *state;

	write_in(fx, "master.key", "this is not a key file\n", 0600);
	refused(fx, CU_ERR_CRYPTO, "master.key");
}

static void test_key_missing(void **state)
{
	struct fixture *fx = *state;
	char path[700];

	path_in(fx, "master.key", path, sizeof(path));
	assert_int_equal(unlink(path), 0);
	refused(fx, CU_ERR_IO, "master.key");
}

static void test_store_not_sqlite(void **state)
{
	struct fixture *fx = *state;
	char path[700], junk[8192];

	path_in(fx, "custodian.db-wal", path, sizeof(path));
	unlink(path);
	path_in(fx, "custodian.db-shm", path, sizeof(path));
	unlink(path);
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	write_in(fx, "custodian.db", junk, 0600);
	refused(fx, CU_ERR_STORE, "not a database");
}

static void test_store_unknown_url(void **state)
{
	struct fixture *fx = *state;

#ifdef CU_HAVE_POSTGRES
	/* A PostgreSQL store nobody serves: refused in one line, nothing changed. */
	append_in(fx, "custodian.conf", "[custodian]\nstore = postgres://127.0.0.1:1/custodian\n");
	refused(fx, CU_ERR_STORE, "PostgreSQL");
#else
	append_in(fx, "custodian.conf", "[custodian]\nstore = postgres://db.example/custodian\n");
	refused(fx, CU_ERR_INVALID_ARGUMENT, "postgres");
#endif
}

static void test_store_without_audit(void **state)
{
	struct fixture *fx = *state;
	char path[700];
	sqlite3 *db;

	/* A store another program emptied: the audit head cannot be read. */
	path_in(fx, "custodian.db", path, sizeof(path));
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP TABLE meta", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	refused(fx, CU_ERR_STORE, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_opens_when_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_directory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_broken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_unknown_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_missing_means_defaults, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_not_json, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_changed_under_its_version, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_garbage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_missing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_not_sqlite, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_unknown_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_without_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
