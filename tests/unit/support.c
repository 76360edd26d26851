/* nftw() and FTW_* are X/Open extensions, outside _POSIX_C_SOURCE; memmem() is GNU's. */
#define _GNU_SOURCE

#include "support.h"

#include "access/access.h"
#include "store/sqlite/sqlite.h"
#ifdef CU_HAVE_POSTGRES
#include "store/pg/pg.h"
#endif

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

/* ---- raw SQL on either store ---- */

#include <sqlite3.h>

/* A connection of the helper's own to the store at a url. */
struct raw_conn {
	sqlite3 *db; /* SQLite */
#ifdef CU_HAVE_POSTGRES
	PGconn *pg; /* PostgreSQL */
#endif
};

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* unhex(text) on SQLite's connection (SQLite has it from 3.41 only): NULL for odd or bad hex. */
static void sqlite_unhex(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
	const unsigned char *t = sqlite3_value_text(argv[0]);
	size_t n = (size_t)sqlite3_value_bytes(argv[0]);
	unsigned char *out;

	(void)argc;
	if (!t || n % 2)
		return;
	out = malloc(n / 2 + 1);
	if (!out) {
		sqlite3_result_error_nomem(cx);
		return;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hex_digit(t[2 * i]), lo = hex_digit(t[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(out);
			return;
		}
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	sqlite3_result_blob(cx, out, (int)(n / 2), free);
}

#ifdef CU_HAVE_POSTGRES
/* SQLite's zeroblob and hex, and unhex, in the store's schema, once. */
static const char pg_shims[] =
    "CREATE FUNCTION zeroblob(n integer) RETURNS bytea LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT decode(repeat('00', n), 'hex') $f$;"
    "CREATE FUNCTION hex(b bytea) RETURNS text LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT upper(encode(b, 'hex')) $f$;"
    "CREATE FUNCTION unhex(t text) RETURNS bytea LANGUAGE sql IMMUTABLE"
    " AS $f$ SELECT decode(t, 'hex') $f$;"
    "CREATE FUNCTION randomblob(n integer) RETURNS bytea LANGUAGE sql VOLATILE"
    " AS $f$ SELECT decode(string_agg(lpad(to_hex((random() * 255)::int), 2, '0'), ''),"
    " 'hex') FROM generate_series(1, n) $f$;";
#endif

/* Whether url names a PostgreSQL store (anything but sqlite:, as cu_store_open reads it). */
static bool url_is_pg(const char *url)
{
	return strncmp(url, "sqlite:", 7) != 0;
}

static void raw_open(const char *url, const char *sql, struct raw_conn *c)
{
	memset(c, 0, sizeof(*c));
	if (strncmp(url, "sqlite:", 7) == 0) {
		if (sqlite3_open_v2(url + 7, &c->db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
			fail_msg("cannot open %s: %s", url + 7,
			         c->db ? sqlite3_errmsg(c->db) : "no memory");
		sqlite3_busy_timeout(c->db, 5000);
		assert_int_equal(sqlite3_create_function(c->db, "unhex", 1,
		                                         SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL,
		                                         sqlite_unhex, NULL, NULL),
		                 SQLITE_OK);
		return;
	}
#ifdef CU_HAVE_POSTGRES
	c->pg = pg_connect(url);
	if (strstr(sql, "blob(") || strstr(sql, "hex(")) {
		PGresult *r = PQexec(c->pg, "SELECT to_regprocedure('unhex(text)') IS NULL");
		bool missing = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
		               strcmp(PQgetvalue(r, 0, 0), "t") == 0;

		PQclear(r);
		if (missing)
			pg_run(c->pg, pg_shims);
	}
#else
	(void)sql;
	fail_msg("no PostgreSQL store in this build: %s", url);
#endif
}

static void raw_close(struct raw_conn *c)
{
	if (c->db)
		assert_int_equal(sqlite3_close(c->db), SQLITE_OK);
#ifdef CU_HAVE_POSTGRES
	if (c->pg)
		PQfinish(c->pg);
#endif
	memset(c, 0, sizeof(*c));
}

static bool raw_exec(struct raw_conn *c, const char *sql, long long *changed, char *err,
                     size_t errlen)
{
	bool ok;

	if (changed)
		*changed = 0;
	if (c->db) {
		char *msg = NULL;

		ok = sqlite3_exec(c->db, sql, NULL, NULL, &msg) == SQLITE_OK;
		if (err && errlen)
			snprintf(err, errlen, "%s", ok ? "" : msg ? msg : sqlite3_errmsg(c->db));
		sqlite3_free(msg);
		if (ok && changed)
			*changed = sqlite3_changes(c->db);
		return ok;
	}
#ifdef CU_HAVE_POSTGRES
	{
		PGresult *r = PQexec(c->pg, sql);

		ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK ||
		           PQresultStatus(r) == PGRES_TUPLES_OK);
		if (err && errlen)
			snprintf(err, errlen, "%s", ok ? "" : PQerrorMessage(c->pg));
		if (ok && changed)
			*changed = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
		return ok;
	}
#else
	return false;
#endif
}

static size_t raw_rows(struct raw_conn *c, const char *sql, void (*fn)(void *, const char *),
                       void *ud)
{
	size_t n = 0;

	if (c->db) {
		sqlite3_stmt *st;
		int rc;

		if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
			fail_msg("%s: %s", sql, sqlite3_errmsg(c->db));
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *v = sqlite3_column_text(st, 0);

			fn(ud, v ? (const char *)v : "");
			n++;
		}
		if (rc != SQLITE_DONE)
			fail_msg("%s: %s", sql, sqlite3_errmsg(c->db));
		sqlite3_finalize(st);
		return n;
	}
#ifdef CU_HAVE_POSTGRES
	{
		PGresult *r = PQexec(c->pg, sql);

		if (!r || PQresultStatus(r) != PGRES_TUPLES_OK)
			fail_msg("%s: %s", sql, PQerrorMessage(c->pg));
		n = (size_t)PQntuples(r);
		for (size_t i = 0; i < n; i++)
			fn(ud, PQgetvalue(r, (int)i, 0));
		PQclear(r);
	}
#endif
	return n;
}

bool cu_test_store_sql_try(const char *url, const char *sql, long long *changed, char *err,
                           size_t errlen)
{
	struct raw_conn c;
	bool ok;

	raw_open(url, sql, &c);
	ok = raw_exec(&c, sql, changed, err, errlen);
	raw_close(&c);
	return ok;
}

long long cu_test_store_sql(const char *url, const char *sql)
{
	char err[512];
	long long changed = 0;

	if (!cu_test_store_sql_try(url, sql, &changed, err, sizeof(err)))
		fail_msg("%s: %s", sql, err);
	return changed;
}

size_t cu_test_store_sql_rows(const char *url, const char *sql,
                              void (*fn)(void *ud, const char *value), void *ud)
{
	struct raw_conn c;
	size_t n;

	raw_open(url, sql, &c);
	n = raw_rows(&c, sql, fn, ud);
	raw_close(&c);
	return n;
}

struct first_text {
	char *out;
	size_t len;
	bool seen;
};

static void keep_first(void *ud, const char *value)
{
	struct first_text *t = ud;

	if (!t->seen)
		snprintf(t->out, t->len, "%s", value);
	t->seen = true;
}

void cu_test_store_sql_text(const char *url, const char *sql, char *out, size_t outlen)
{
	struct first_text t = {out, outlen, false};

	if (cu_test_store_sql_rows(url, sql, keep_first, &t) == 0)
		fail_msg("%s: no row", sql);
}

long long cu_test_store_sql_int(const char *url, const char *sql)
{
	char v[64];

	cu_test_store_sql_text(url, sql, v, sizeof(v));
	return strtoll(v, NULL, 10);
}

void cu_test_store_unguard(const char *url, const char *table)
{
	char sql[512];
	bool pg = url_is_pg(url);

	/* PostgreSQL's triggers belong to their table (DROP TRIGGER ... ON), SQLite's do not. */
	snprintf(sql, sizeof(sql),
	         "DROP TRIGGER IF EXISTS %s_no_update%s%s; DROP TRIGGER IF EXISTS %s_no_delete%s%s",
	         table, pg ? " ON " : "", pg ? table : "", table, pg ? " ON " : "",
	         pg ? table : "");
	cu_test_store_sql(url, sql);
}

void cu_test_store_flip(const char *url, const char *table, const char *col, const char *where,
                        size_t i)
{
	struct raw_conn c;
	struct first_text t = {NULL, 0, false};
	size_t sqllen;
	char *sql, *hex, err[512];
	long long changed = 0;
	int b;

	/* The hex of the whole value, and the same hex with one byte changed. */
	sqllen = strlen(table) + strlen(col) + strlen(where) + 64;
	sql = malloc(sqllen);
	assert_non_null(sql);
	snprintf(sql, sqllen, "SELECT length(%s) FROM %s WHERE %s", col, table, where);
	raw_open(url, "hex(", &c);
	{
		char len[32] = "";

		t.out = len;
		t.len = sizeof(len);
		if (raw_rows(&c, sql, keep_first, &t) != 1)
			fail_msg("%s: not one row", sql);
		t.len = 2 * (size_t)strtoll(len, NULL, 10) + 1;
	}
	assert_true(i < t.len / 2);
	hex = malloc(t.len + sqllen);
	assert_non_null(hex);
	t.out = hex;
	t.seen = false;
	snprintf(sql, sqllen, "SELECT hex(%s) FROM %s WHERE %s", col, table, where);
	raw_rows(&c, sql, keep_first, &t);
	b = hex_digit(hex[2 * i + 1]) ^ 0x01;
	hex[2 * i + 1] = "0123456789ABCDEF"[b];
	free(sql);
	sqllen += t.len;
	sql = malloc(sqllen);
	assert_non_null(sql);
	snprintf(sql, sqllen, "UPDATE %s SET %s = unhex('%s') WHERE %s", table, col, hex, where);
	if (!raw_exec(&c, sql, &changed, err, sizeof(err)))
		fail_msg("tamper: %s", err);
	assert_int_equal(changed, 1);
	free(hex);
	free(sql);
	raw_close(&c);
}

void cu_test_store_fault(const char *url, const char *table, const char *when)
{
	char sql[1024];

	if (url_is_pg(url))
		snprintf(sql, sizeof(sql),
		         "CREATE FUNCTION fault_%s() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN"
		         " IF %s THEN RAISE EXCEPTION 'injected'; END IF; RETURN NEW; END $f$;"
		         "CREATE TRIGGER fault BEFORE INSERT ON %s FOR EACH ROW"
		         " EXECUTE FUNCTION fault_%s()",
		         table, when, table, table);
	else
		snprintf(sql, sizeof(sql),
		         "CREATE TRIGGER fault BEFORE INSERT ON %s WHEN %s"
		         " BEGIN SELECT RAISE(ABORT, 'injected'); END",
		         table, when);
	cu_test_store_sql(url, sql);
}

void cu_test_store_fault_clear(const char *url, const char *table)
{
	char sql[256];

	if (url_is_pg(url))
		snprintf(sql, sizeof(sql), "DROP TRIGGER fault ON %s; DROP FUNCTION fault_%s()",
		         table, table);
	else
		snprintf(sql, sizeof(sql), "DROP TRIGGER fault");
	cu_test_store_sql(url, sql);
}

void cu_test_ctx_store_url(const cu_ctx *ctx, char *url, size_t len)
{
	if (ctx->config.store[0])
		snprintf(url, len, "%s", ctx->config.store);
	else
		snprintf(url, len, "sqlite:%s/custodian.db", ctx->dir);
}

void cu_test_store_copy(const char *url, const char *dir, char *to_url, size_t len)
{
	char sql[2048];

	cu_test_store_url(dir, to_url, len);
	if (!cu_test_store_is_pg()) {
		/* No such file yet: VACUUM INTO writes a new one. */
		assert_int_not_equal(access(to_url + strlen("sqlite:"), F_OK), 0);
		snprintf(sql, sizeof(sql), "VACUUM INTO '%s'", to_url + strlen("sqlite:"));
		cu_test_store_sql(url, sql);
		return;
	}
#ifdef CU_HAVE_POSTGRES
	{
		char from[64], to[64];

		url_schema(url, from, sizeof(from));
		url_schema(to_url, to, sizeof(to));
		assert_true(from[0] && to[0]);
		/* The identity columns (rowid) go on from the rows copied, as in the original. */
		snprintf(
		    sql, sizeof(sql),
		    "BEGIN ISOLATION LEVEL REPEATABLE READ;"
		    "DO $f$ DECLARE t text; c text; BEGIN"
		    " FOR t IN SELECT table_name FROM information_schema.tables"
		    "  WHERE table_schema = '%s' AND table_type = 'BASE TABLE' LOOP"
		    "  EXECUTE format('CREATE TABLE %%I.%%I (LIKE %%I.%%I INCLUDING ALL)',"
		    "   '%s', t, '%s', t);"
		    "  EXECUTE format('INSERT INTO %%I.%%I SELECT * FROM %%I.%%I', '%s', t, '%s', t);"
		    " END LOOP;"
		    " FOR t, c IN SELECT table_name, column_name FROM information_schema.columns"
		    "  WHERE table_schema = '%s' AND is_identity = 'YES' LOOP"
		    "  EXECUTE format('SELECT setval(pg_get_serial_sequence(%%L, %%L),"
		    "   (SELECT coalesce(max(%%I), 0) + 1 FROM %%I.%%I), false)',"
		    "   '%s.' || t, c, c, '%s', t);"
		    " END LOOP; END $f$;"
		    "COMMIT",
		    from, to, from, to, from, to, to, to);
		cu_test_store_sql(url, sql);
	}
#endif
}

bool cu_test_store_own_sql(cu_store *s, const char *sql)
{
	if (!cu_test_store_is_pg())
		return sqlite3_exec(cu_sqlite(s)->db, sql, NULL, NULL, NULL) == SQLITE_OK;
#ifdef CU_HAVE_POSTGRES
	{
		PGresult *r = PQexec(cu_pg(s)->conn, sql);
		bool ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK ||
		                PQresultStatus(r) == PGRES_TUPLES_OK);

		PQclear(r);
		return ok;
	}
#else
	return false;
#endif
}

void cu_test_store_own_text(cu_store *s, const char *sql, char *out, size_t outlen)
{
	if (!cu_test_store_is_pg()) {
		sqlite3_stmt *st = NULL;
		const unsigned char *v;

		if (sqlite3_prepare_v2(cu_sqlite(s)->db, sql, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			fail_msg("%s: %s", sql, sqlite3_errmsg(cu_sqlite(s)->db));
		v = sqlite3_column_text(st, 0);
		snprintf(out, outlen, "%s", v ? (const char *)v : "");
		sqlite3_finalize(st);
		return;
	}
#ifdef CU_HAVE_POSTGRES
	{
		PGresult *r = PQexec(cu_pg(s)->conn, sql);

		if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1)
			fail_msg("%s: %s", sql, PQerrorMessage(cu_pg(s)->conn));
		snprintf(out, outlen, "%s", PQgetvalue(r, 0, 0));
		PQclear(r);
	}
#endif
}

bool cu_test_store_own_idle(cu_store *s)
{
	if (!cu_test_store_is_pg())
		return sqlite3_get_autocommit(cu_sqlite(s)->db) != 0;
#ifdef CU_HAVE_POSTGRES
	return PQtransactionStatus(cu_pg(s)->conn) == PQTRANS_IDLE;
#else
	return false;
#endif
}

struct cu_test_lock {
	struct raw_conn c;
};

struct cu_test_lock *cu_test_store_lock(const char *url)
{
	struct cu_test_lock *l = calloc(1, sizeof(*l));
	char err[512];

	assert_non_null(l);
	raw_open(url, "", &l->c);
	if (!raw_exec(&l->c,
	              l->c.db ? "BEGIN IMMEDIATE"
	                      : "BEGIN; SELECT pg_advisory_xact_lock(hashtext(current_schema()))",
	              NULL, err, sizeof(err)))
		fail_msg("cannot take the write lock: %s", err);
	return l;
}

void cu_test_store_unlock(struct cu_test_lock *l)
{
	if (!l)
		return;
	assert_true(raw_exec(&l->c, "ROLLBACK", NULL, NULL, 0));
	raw_close(&l->c);
	free(l);
}

void cu_test_store_empty(const char *url)
{
	char path[1100];

	if (!cu_test_store_is_pg()) {
		static const char *const sides[] = {"", "-wal", "-shm"};

		assert_int_equal(strncmp(url, "sqlite:", 7), 0);
		for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", url + 7, sides[i]);
			unlink(path);
		}
		return;
	}
#ifdef CU_HAVE_POSTGRES
	{
		char schema[64], sql[192];

		url_schema(url, schema, sizeof(schema));
		assert_true(schema[0] != '\0');
		snprintf(sql, sizeof(sql), "DROP SCHEMA %s CASCADE; CREATE SCHEMA %s", schema,
		         schema);
		cu_test_store_sql(url, sql);
	}
#endif
}
