/*
 * test_ctx.c — every way opening a data directory can fail (src/ctx/ctx.c).
 *
 * Each broken directory must be refused with a result code and one line in
 * err naming what is wrong, *out left NULL, and nothing in the directory
 * created or changed, so the operator can fix the one thing and try again.
 *
 * On SQLite and, with CU_TEST_STORE=pg, on PostgreSQL (docs/postgresql.md,
 * "Conformance"): there the directory's store is a schema of its own, named
 * by CUSTODIAN_CUSTODIAN_STORE as the operator would name it, and "nothing
 * changed" covers every row of that schema as well as the directory's files.
 * The cases about SQLite's file itself run on SQLite only; each says why and
 * what stands for it on PostgreSQL.
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

#include "ctx/ctx.h"
#include "support.h"

#define STORE_ENV       "CUSTODIAN_CUSTODIAN_STORE" /* the setting custodian.store */
#define DIR_PATH_MAX    600
#define STORE_URL_MAX   800
#define STORE_PRINT_MAX 64 /* an md5 in hex, with room */
#define LISTING_MAX     2048

struct fixture {
	char *tmp;
	char dir[DIR_PATH_MAX];
	char url[STORE_URL_MAX]; /* the directory's store */
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char err[512] = "";

	if (!fx)
		return -1;
	fx->tmp = cu_test_tmpdir();
	snprintf(fx->dir, sizeof(fx->dir), "%s/var", fx->tmp);
	/* On PostgreSQL: a fresh schema, named through the environment (cu_test_ctx_new does the same). */
	if (cu_test_store_is_pg()) {
		cu_test_store_url(fx->tmp, fx->url, sizeof(fx->url));
		setenv(STORE_ENV, fx->url, 1);
	} else {
		snprintf(fx->url, sizeof(fx->url), "sqlite:%s/custodian.db", fx->dir);
	}
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

	if (cu_test_store_is_pg()) {
		cu_test_store_drop(fx->url);
		unsetenv(STORE_ENV);
	}
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

/*
 * Every row of every table of a PostgreSQL store, hashed by the server
 * (through a connection of the test's own: committed state only).
 */
static void store_print(const struct fixture *fx, char *out, size_t n)
{
	cu_test_store_sql_text(
	    fx->url,
	    "SELECT md5(coalesce(string_agg(table_name || ':' || query_to_xml(format("
	    "'SELECT * FROM %I x ORDER BY x::text', table_name), true, false, '')::text, '|'"
	    " ORDER BY table_name), ''))"
	    " FROM information_schema.tables WHERE table_schema = current_schema()"
	    " AND table_type = 'BASE TABLE'",
	    out, n);
}

/*
 * Names and sizes of what the directory holds, to see that a refusal changed
 * nothing; on PostgreSQL the store's rows too (SQLite's are in custodian.db).
 */
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
	if (cu_test_store_is_pg() && o < n) {
		char print[STORE_PRINT_MAX];

		store_print(fx, print, sizeof(print));
		snprintf(out + o, n - o, "store %s;", print);
	}
}

/* Opening fx->dir is refused with rc, one line in err holding `words`, nothing changed. */
static void refused(const struct fixture *fx, cu_result rc, const char *words)
{
	char err[512] = "", before[LISTING_MAX], after[LISTING_MAX];
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

/*
 * SQLite only: custodian.db overwritten with bytes that are not a database
 * is a case of SQLite's file.  On PostgreSQL the store is no file in the
 * directory; its counterpart, a schema holding another program's tables, is
 * test_store_not_custodians below.
 */
static void test_store_not_sqlite(void **state)
{
	struct fixture *fx = *state;
	char path[700], junk[8192];

	if (cu_test_store_is_pg())
		skip();
	path_in(fx, "custodian.db-wal", path, sizeof(path));
	unlink(path);
	path_in(fx, "custodian.db-shm", path, sizeof(path));
	unlink(path);
	memset(junk, 'x', sizeof(junk) - 1);
	junk[sizeof(junk) - 1] = '\0';
	write_in(fx, "custodian.db", junk, 0600);
	refused(fx, CU_ERR_STORE, "not a database");
}

/*
 * PostgreSQL only: the schema the store names holds another program's
 * tables, a meta table among them (SQLite's counterpart, a file that is not
 * a database, is test_store_not_sqlite above): refused, nothing added to it.
 */
static void test_store_not_custodians(void **state)
{
	struct fixture *fx = *state;

	if (!cu_test_store_is_pg())
		skip();
	cu_test_store_empty(fx->url);
	cu_test_store_sql(fx->url,
	                  "CREATE TABLE meta (note text); INSERT INTO meta VALUES ('mine')");
	refused(fx, CU_ERR_STORE, "schema version");
	assert_int_equal(cu_test_store_sql_int(fx->url,
	                                       "SELECT count(*) FROM information_schema.tables"
	                                       " WHERE table_schema = current_schema()"),
	                 1);
}

static void test_store_unknown_url(void **state)
{
	struct fixture *fx = *state;

	/* custodian.conf names the store (on PostgreSQL the fixture's environment would win). */
	unsetenv(STORE_ENV);
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

	/*
	 * A store whose meta table another program dropped (the schema version,
	 * the audit head): taken for a new store, whose first migration meets
	 * the tables already there; refused, nothing made or changed.
	 */
	cu_test_store_sql(fx->url, "DROP TABLE meta");
	refused(fx, CU_ERR_STORE, "cannot migrate the schema");
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
	    cmocka_unit_test_setup_teardown(test_store_not_custodians, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_unknown_url, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_without_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
