/*
 * test_store_backup.c — the store's side of a backup (store/backup.h): the
 * stream of the database's pages to a sink, the key ids and erased ids a
 * backup's manifest names, and the integrity check of a database file.
 *
 * The stream must hand on a whole, consistent database file (checked by
 * opening what the sink got), report progress up to the end, pass a
 * sink's refusal back as it was, and leave the store usable afterwards.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/backup.h"
#include "store/store.h"
#include "support.h"

struct fx {
	char *dir;
	char path[512];
	cu_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[600], err[256];

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	assert_non_null(f->dir);
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	assert_int_equal(cu_store_open(url, &f->s, err, sizeof(err)), CU_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_store_close(f->s);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

#define FIELDS_BYTES 8192

/*
 * n members, member i wrapped under key id key_base + i % nkeys, the first
 * byte of its wrap saying master (1) or tree (2); every third one erased.
 */
static void add_members(cu_store *s, int n, uint32_t key_base, int nkeys, unsigned char wrap_kind)
{
	static unsigned char fields[FIELDS_BYTES];
	cu_member_row r;

	memset(fields, 0x33, sizeof(fields));
	assert_int_equal(cu_store_begin(s), CU_OK);
	for (int i = 0; i < n; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.id, sizeof(r.id), "m%c%05d", wrap_kind == 2 ? 't' : 'k', i);
		r.key_id = key_base + (uint32_t)(i % nkeys);
		memset(r.wrapped, 0x44, sizeof(r.wrapped));
		r.wrapped[0] = wrap_kind;
		r.fields = fields;
		r.fields_len = sizeof(fields);
		r.created_us = r.updated_us = 1 + i;
		assert_int_equal(cu_store_member_insert(s, &r), CU_OK);
		if (i % 3 == 2)
			assert_int_equal(cu_store_member_erase(s, r.id, 100 + i), CU_OK);
	}
	assert_int_equal(cu_store_commit(s), CU_OK);
}

struct collect {
	unsigned char *buf;
	size_t len, cap;
	int calls;
	int fail_at; /* the call (1, 2, ...) that refuses; 0 = none */
	cu_result refusal;
};

static cu_result collect_sink(void *ud, const unsigned char *p, size_t n)
{
	struct collect *c = ud;

	c->calls++;
	if (c->fail_at && c->calls == c->fail_at)
		return c->refusal;
	if (c->len + n > c->cap) {
		size_t cap = (c->len + n) * 2;
		unsigned char *nb = realloc(c->buf, cap);

		assert_non_null(nb);
		c->buf = nb;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
	return CU_OK;
}

static cu_result sink_none(void *ud, const unsigned char *p, size_t n)
{
	(void)ud;
	(void)p;
	(void)n;
	return CU_OK;
}

struct progress {
	int calls;
	uint64_t last_done, total;
	bool backwards;
};

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct progress *p = ud;

	if (done < p->last_done)
		p->backwards = true;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

/*
 * The stream hands on pages 2.. in order, then page 1 (as the copy's commit
 * left it): the file puts that last page first.
 */
static void write_file(const char *path, const unsigned char *p, size_t n, size_t page)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_true(n >= page);
	assert_int_equal(fwrite(p + n - page, 1, page, fp), page);
	assert_int_equal(fwrite(p, 1, n - page, fp), n - page);
	assert_int_equal(fclose(fp), 0);
}

static int64_t count_in(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

/* A store bigger than the stream's buffer goes whole, in steps, and opens as a database. */
static void test_stream_whole(void **state)
{
	struct fx *f = *state;
	struct collect c = {0};
	struct progress p = {0};
	cu_store_backup_stats stats;
	char copy[600], err[256] = "";

	add_members(f->s, 200, 7, 2, 1); /* 1.6 MB of sealed fields */
	assert_int_equal(cu_store_backup_stream(f->s, 16, collect_sink, &c, on_progress, &p, &stats,
	                                        err, sizeof(err)),
	                 CU_OK);
	assert_string_equal(err, "");
	assert_true(c.calls >= 2); /* more than one buffer's worth */
	assert_int_equal(stats.members, 200);
	assert_int_equal(stats.n_key_ids, 2);
	assert_int_equal(stats.key_ids[0], 7);
	assert_int_equal(stats.key_ids[1], 8);
	assert_int_equal(stats.n_tree_ids, 0);
	assert_int_equal(stats.audit_head_seq, 0);
	assert_int_equal(stats.schema_version, cu_store_schema_version(f->s));
	assert_true(stats.page_size >= 512);
	assert_int_equal(c.len, stats.pages * stats.page_size);
	/* Progress: many steps, never backwards, ending at the whole. */
	assert_true(p.calls > 1);
	assert_false(p.backwards);
	assert_int_equal(p.last_done, p.total);
	assert_int_equal(p.total, stats.pages);

	snprintf(copy, sizeof(copy), "%s/copy.db", f->dir);
	write_file(copy, c.buf, c.len, stats.page_size);
	assert_int_equal(cu_store_file_check(copy, err, sizeof(err)), CU_OK);
	assert_int_equal(count_in(copy, "SELECT count(*) FROM members"), 200);
	assert_int_equal(count_in(copy, "SELECT count(*) FROM members WHERE erased_us IS NOT NULL"),
	                 66);
	free(c.buf);

	/* The read transaction is over: the store writes again. */
	add_members(f->s, 1, 9, 1, 2);
}

/* The sink's refusal ends the copy with that very answer, wherever it comes. */
static void test_stream_sink_refuses(void **state)
{
	struct fx *f = *state;
	char err[256];

	add_members(f->s, 200, 7, 1, 1);
	/* In the middle of the steps, and at the final flush. */
	for (int at = 1; at <= 3; at++) {
		struct collect c = {.fail_at = at, .refusal = CU_ERR_IO};
		cu_result rc = cu_store_backup_stream(f->s, 64, collect_sink, &c, NULL, NULL, NULL,
		                                      err, sizeof(err));

		if (rc == CU_OK) {
			/* This store needs fewer calls than `at`: the refusal never came. */
			assert_true(c.calls < at);
			free(c.buf);
			break;
		}
		assert_int_equal(rc, CU_ERR_IO);
		assert_int_equal(c.calls, at);
		free(c.buf);
	}
	/* A small store goes in one call at the end: refused there. */
	{
		struct fx g = {0};
		char url[600];
		struct collect c = {.fail_at = 1, .refusal = CU_ERR_NOMEM};

		g.dir = cu_test_tmpdir();
		snprintf(url, sizeof(url), "sqlite:%s/small.db", g.dir);
		assert_int_equal(cu_store_open(url, &g.s, err, sizeof(err)), CU_OK);
		assert_int_equal(
		    cu_store_backup_stream(g.s, 8, collect_sink, &c, NULL, NULL, NULL, NULL, 0),
		    CU_ERR_NOMEM);
		assert_int_equal(c.calls, 1);
		cu_store_close(g.s);
		cu_test_rmdir(g.dir);
	}
	/* The store is left outside any transaction. */
	assert_false(cu_store_in_transaction(f->s));
	add_members(f->s, 1, 9, 1, 2);
}

/* Key ids, master and tree apart, ascending; more than max is too large. */
static void test_key_ids(void **state)
{
	struct fx *f = *state;
	uint32_t m[4], t[4];
	size_t nm = 9, nt = 9;

	assert_int_equal(cu_store_wrapping_key_ids(f->s, m, &nm, t, &nt, 4), CU_OK);
	assert_int_equal(nm, 0);
	assert_int_equal(nt, 0);
	add_members(f->s, 9, 30, 3, 1); /* erased ones keep no wrap */
	add_members(f->s, 6, 5, 2, 2);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, m, &nm, t, &nt, 4), CU_OK);
	assert_int_equal(nm, 2); /* key 32's members (2, 5, 8) were all erased */
	assert_int_equal(m[0], 30);
	assert_int_equal(m[1], 31);
	assert_int_equal(nt, 2);
	assert_int_equal(t[0], 5);
	assert_int_equal(t[1], 6);
	assert_int_equal(cu_store_wrapping_key_ids(f->s, m, &nm, t, &nt, 1), CU_ERR_TOO_LARGE);
}

/* Erased ids in id order, paged. */
static void test_erased_ids(void **state)
{
	struct fx *f = *state;
	char ids[2][CU_ID_LEN + 1];
	size_t n = 9;

	assert_int_equal(cu_store_member_erased_ids(f->s, "", ids, 2, &n), CU_OK);
	assert_int_equal(n, 0);
	add_members(f->s, 9, 1, 1, 1); /* erased: mk00002, mk00005, mk00008 */
	assert_int_equal(cu_store_member_erased_ids(f->s, "", ids, 2, &n), CU_OK);
	assert_int_equal(n, 2);
	assert_string_equal(ids[0], "mk00002");
	assert_string_equal(ids[1], "mk00005");
	assert_int_equal(cu_store_member_erased_ids(f->s, ids[1], ids, 2, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "mk00008");
	assert_int_equal(cu_store_member_erased_ids(f->s, "mk00008", ids, 2, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_member_erased_ids(f->s, "", ids, 0, &n), CU_OK);
	assert_int_equal(n, 0);
}

/* The integrity check: a good copy passes; a damaged, foreign or missing file does not. */
static void test_file_check(void **state)
{
	struct fx *f = *state;
	struct collect c = {0};
	cu_store_backup_stats stats;
	char path[600], err[256];
	FILE *fp;

	assert_int_equal(cu_store_file_check(NULL, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_file_check("", err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);

	/* Missing, under a name SQLite would read as a URI's query or fragment. */
	snprintf(path, sizeof(path), "%s/no%%such?file#here.db", f->dir);
	err[0] = '\0';
	assert_int_equal(cu_store_file_check(path, err, sizeof(err)), CU_ERR_STORE);
	assert_non_null(strstr(err, "integrity check"));

	/* Not a database. */
	snprintf(path, sizeof(path), "%s/notes.txt", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 200; i++)
		fputs("this is not a database file at all\n", fp);
	assert_int_equal(fclose(fp), 0);
	err[0] = '\0';
	assert_int_equal(cu_store_file_check(path, err, sizeof(err)), CU_ERR_STORE);
	assert_non_null(strstr(err, "integrity check"));
	assert_int_equal(cu_store_file_check(path, NULL, 0), CU_ERR_STORE);

	/* A good copy, then the same with most of its pages overwritten. */
	add_members(f->s, 60, 1, 1, 1);
	assert_int_equal(
	    cu_store_backup_stream(f->s, 8, collect_sink, &c, NULL, NULL, &stats, NULL, 0), CU_OK);
	snprintf(path, sizeof(path), "%s/copy%%1.db", f->dir);
	write_file(path, c.buf, c.len, stats.page_size);
	assert_int_equal(cu_store_file_check(path, err, sizeof(err)), CU_OK);
	/* Pages 2.. damaged, page 1 (the header and schema) whole. */
	memset(c.buf + c.len / 4, 0xa5, c.len - c.len / 4 - stats.page_size);
	write_file(path, c.buf, c.len, stats.page_size);
	err[0] = '\0';
	assert_int_equal(cu_store_file_check(path, err, sizeof(err)), CU_ERR_STORE);
	assert_non_null(strstr(err, "integrity check"));
	free(c.buf);
}

/* The stream's file system serves a copy in progress only: opened by anyone else, it refuses. */
static void test_stream_vfs_refuses_strangers(void **state)
{
	struct fx *f = *state;
	sqlite3 *d = NULL;

	/* A first copy registers it. */
	assert_int_equal(
	    cu_store_backup_stream(f->s, 8, sink_none, NULL, NULL, NULL, NULL, NULL, 0), CU_OK);
	assert_non_null(sqlite3_vfs_find("cu-backup-stream"));
	assert_int_not_equal(sqlite3_open_v2("elsewhere.db", &d,
	                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
	                                     "cu-backup-stream"),
	                     SQLITE_OK);
	sqlite3_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_stream_whole, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_sink_refuses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erased_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_file_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream_vfs_refuses_strangers, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
