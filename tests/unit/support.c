/* nftw() and FTW_* are X/Open extensions, outside _POSIX_C_SOURCE; memmem() is GNU's. */
#define _GNU_SOURCE

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
#include <time.h>
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
	/* On PostgreSQL: a fresh schema for this directory, named as the operator would name it. */
	if (cu_test_store_is_pg()) {
		char url[800];

		cu_test_store_url(tmp, url, sizeof(url));
		setenv("CUSTODIAN_CUSTODIAN_STORE", url, 1);
	}
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
	const char *url = getenv("CUSTODIAN_CUSTODIAN_STORE");

	cu_ctx_close(ctx);
	if (cu_test_store_is_pg() && url)
		cu_test_store_drop(url);
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
	found = nlen > 0 && memmem(buf, len, needle, nlen) != NULL;
	free(buf);
	return found;
}

/* ---- the store's files ---- */

#ifdef CU_HAVE_POSTGRES
static const void *walk_needle;
static size_t walk_len;
static bool walk_found;
#endif

#ifdef CU_HAVE_POSTGRES
static int walk_file(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_F && cu_test_file_contains_bytes(path, walk_needle, walk_len))
		walk_found = true;
	return walk_found ? 1 : 0;
}
#endif

#ifdef CU_HAVE_POSTGRES
/*
 * Every file under path searched for the needle.  Other tests' schemas come
 * and go in the same cluster meanwhile: a walk that met a file or directory
 * as it vanished is walked again.
 */
static bool walk_tree(const char *path, const void *needle, size_t n)
{
	walk_needle = needle;
	walk_len = n;
	for (int tries = 0; tries < 5; tries++) {
		walk_found = false;
		if (nftw(path, walk_file, 16, FTW_PHYS) == 0 || walk_found)
			return walk_found;
	}
	fail_msg("cannot read the cluster's files under %s", path);
	return false;
}

static bool pg_search(const char *sub, const void *needle, size_t n);
#endif

bool cu_test_store_files_contain(const char *data_dir, const void *needle, size_t n)
{
	char path[1024];

	if (!cu_test_store_is_pg()) {
		snprintf(path, sizeof(path), "%s/custodian.db", data_dir);
		if (cu_test_file_contains_bytes(path, needle, n))
			return true;
		snprintf(path, sizeof(path), "%s/custodian.db-wal", data_dir);
		return cu_test_file_contains_bytes(path, needle, n);
	}
#ifdef CU_HAVE_POSTGRES
	return pg_search("", needle, n);
#else
	fail_msg("CU_TEST_STORE=pg, but this build has no PostgreSQL store (libpq)");
	return false;
#endif
}

bool cu_test_store_tables_contain(const char *url, const char *data_dir, const char *tables,
                                  const void *needle, size_t n)
{
#ifdef CU_HAVE_POSTGRES
	char sql[256], err[256];

	if (!cu_test_store_is_pg())
		return cu_test_store_files_contain(data_dir, needle, n);
	snprintf(sql, sizeof(sql), "VACUUM FULL %s", tables);
	if (!cu_test_pg_exec(url, sql, err, sizeof(err)))
		fail_msg("%s: %s", sql, err);
	return pg_search("/base", needle, n);
#else
	(void)url;
	(void)tables;
	return cu_test_store_files_contain(data_dir, needle, n);
#endif
}

bool cu_test_store_tables_clear_of(const char *url, const char *data_dir, const char *tables,
                                   const void *needle, size_t n)
{
	/*
	 * On PostgreSQL a vacuum keeps the old versions that a transaction still
	 * open anywhere in the cluster may see (other tests run beside this one):
	 * asked again until those have ended, for up to ten seconds.
	 */
	for (int tries = 0; tries < 40; tries++) {
		if (!cu_test_store_tables_contain(url, data_dir, tables, needle, n))
			return true;
		if (!cu_test_store_is_pg())
			return false;
		usleep(250000);
	}
	return false;
}

bool cu_test_store_files_contain_text(const char *data_dir, const char *needle)
{
	return cu_test_store_files_contain(data_dir, needle, strlen(needle));
}

/* ---- the store tests on both backends ---- */

#ifdef CU_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

bool cu_test_store_is_pg(void)
{
	const char *b = getenv("CU_TEST_STORE");

	return b && strcmp(b, "pg") == 0;
}

#ifdef CU_HAVE_POSTGRES
/* The test database's url, from the environment or the harness's file. */
static void pg_base_url(char *url, size_t len)
{
	const char *u = getenv("CU_TEST_PG_URL");
	const char *file = getenv("CU_TEST_PG_URL_FILE");
	FILE *fp;

	url[0] = '\0';
	if (u && *u) {
		snprintf(url, len, "%s", u);
		return;
	}
	if (!file || !*file)
		fail_msg("CU_TEST_STORE=pg needs CU_TEST_PG_URL or CU_TEST_PG_URL_FILE");
	fp = fopen(file, "r");
	if (!fp)
		fail_msg("cannot read %s (is the pg fixture running? scripts/pg-cluster)", file);
	if (!fgets(url, (int)len, fp))
		url[0] = '\0';
	fclose(fp);
	url[strcspn(url, "\r\n")] = '\0';
	if (!url[0])
		fail_msg("%s holds no url", file);
}

static PGconn *pg_connect(const char *url)
{
	PGconn *c = PQconnectdb(url);

	if (!c || PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to the test database: %s",
		         c ? PQerrorMessage(c) : "no memory");
	PQclear(PQexec(c, "SET client_min_messages = warning"));
	return c;
}

static void pg_run(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);

	if (!r || (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK))
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	PQclear(r);
}

/* The cluster's data directory: beside the url file scripts/pg-cluster wrote. */
static void pg_cluster_files(char *out, size_t len)
{
	const char *file = getenv("CU_TEST_PG_URL_FILE");
	const char *slash = file ? strrchr(file, '/') : NULL;

	if (!slash)
		fail_msg(
		    "CU_TEST_STORE=pg: the cluster's files are found from CU_TEST_PG_URL_FILE");
	snprintf(out, len, "%.*s/data", (int)(slash - file), file);
}

/* Every table's pages written to their files (the WAL has every commit already). */
static void pg_checkpoint(void)
{
	char base[512];
	PGconn *c;

	pg_base_url(base, sizeof(base));
	c = pg_connect(base);
	pg_run(c, "CHECKPOINT");
	PQfinish(c);
}

/* Every file under the cluster's data directory (sub: "" or "/base"), after a CHECKPOINT. */
static bool pg_search(const char *sub, const void *needle, size_t n)
{
	char path[1024], dir[1000];

	pg_checkpoint();
	pg_cluster_files(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s%s", dir, sub);
	return walk_tree(path, needle, n);
}

/* The schema a url made by cu_test_store_url names ("" for another url). */
static void url_schema(const char *url, char *schema, size_t len)
{
	const char *p = strstr(url, "search_path%3D");

	schema[0] = '\0';
	if (p)
		snprintf(schema, len, "%.*s", (int)strcspn(p + 14, "&"), p + 14);
}
#endif

void cu_test_store_url(const char *dir, char *url, size_t len)
{
	if (!cu_test_store_is_pg()) {
		snprintf(url, len, "sqlite:%s/store.db", dir);
		return;
	}
#ifdef CU_HAVE_POSTGRES
	{
		static unsigned counter;
		char base[512], schema[64], sql[128];
		PGconn *c;

		pg_base_url(base, sizeof(base));
		snprintf(schema, sizeof(schema), "t_%ld_%u_%u", (long)getpid(), counter++,
		         (unsigned)time(NULL) % 100000u);
		c = pg_connect(base);
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
		pg_run(c, sql);
		PQfinish(c);
		snprintf(url, len, "%s%coptions=-csearch_path%%3D%s", base,
		         strchr(base, '?') ? '&' : '?', schema);
	}
#else
	(void)dir;
	fail_msg("CU_TEST_STORE=pg, but this build has no PostgreSQL store (libpq)");
#endif
}

void cu_test_store_drop(const char *url)
{
#ifdef CU_HAVE_POSTGRES
	char schema[64], sql[128];
	PGconn *c;

	if (!cu_test_store_is_pg() || !url)
		return;
	url_schema(url, schema, sizeof(schema));
	if (!schema[0])
		return;
	c = pg_connect(url);
	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE", schema);
	pg_run(c, sql);
	PQfinish(c);
#else
	(void)url;
#endif
}

void cu_test_pg_value(const char *url, const char *sql, char *out, size_t outlen)
{
#ifdef CU_HAVE_POSTGRES
	PGconn *c = pg_connect(url);
	PGresult *r = PQexec(c, sql);

	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
		fail_msg("%s: %s", sql, PQerrorMessage(c));
	snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
#else
	(void)url;
	(void)sql;
	(void)out;
	(void)outlen;
	fail_msg("no PostgreSQL store in this build");
#endif
}

bool cu_test_pg_exec(const char *url, const char *sql, char *err, size_t errlen)
{
#ifdef CU_HAVE_POSTGRES
	PGconn *c = pg_connect(url);
	PGresult *r = PQexec(c, sql);
	bool ok =
	    r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);

	if (err && errlen)
		snprintf(err, errlen, "%s", ok ? "" : PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return ok;
#else
	(void)url;
	(void)sql;
	(void)err;
	(void)errlen;
	fail_msg("no PostgreSQL store in this build");
	return false;
#endif
}
