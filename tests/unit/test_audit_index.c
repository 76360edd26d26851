/*
 * test_audit_index.c — the per-member audit index (store.h:
 * cu_store_audit_index): a member's scan gives what the old partial index
 * (member, seq) gave, in the same order, whatever the mark (below, at,
 * above `from`; stopping early across it); a commit indexes the tail in
 * bulk unless the handle defers; the tail never passes
 * CU_STORE_AUDIT_TAIL_MAX; a rollback takes the mark back with the rows;
 * migration 10 fills the index from a version-9 store; the exact check
 * that names where index and entries disagree (audit verify's tampering
 * cases are in test_audit.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The mark's meta key and the latest schema version: the same on both stores. */
#include "store/sqlite/sqlite.h"
#include "store/store.h"
#include "support.h"

#define MEMBERS  7     /* members the entries are about, plus entries about no one */
#define SEQS_MAX 60000 /* a member's entries in test_tail_bound */

struct fx {
	char *dir;
	char url[PATH_MAX + 8]; /* sqlite:DIR/store.db, or a schema of the test database */
	cu_store *s;
	uint64_t seq; /* last appended */
};

static void open_store(struct fx *f)
{
	char err[256];

	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	open_store(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_store_close(f->s);
	cu_test_store_drop(f->url);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

/* Member k's id; k == MEMBERS is no one (""). */
static const char *member(int k)
{
	static const char *const ids[MEMBERS + 1] = {"zeta-member-00000000000",
	                                             "alpha-member-0000000000",
	                                             "mid-member-000000000000",
	                                             "a",
	                                             "zz",
	                                             "member-with-many-entries",
	                                             "b",
	                                             ""};

	return ids[k];
}

/* Appends n entries in one transaction, about members in a mixed order. */
static void append(struct fx *f, int n)
{
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 0; i < n; i++) {
		uint64_t seq = ++f->seq;
		/* Member 5 gets a third of the entries; the rest go round. */
		int k = seq % 3 == 0 ? 5 : (int)((seq * 7) % (MEMBERS + 1));
		cu_audit_entry e = {.seq = seq,
		                    .time_us = (int64_t)seq,
		                    .actor = "op",
		                    .role = "staff",
		                    .action = "read",
		                    .member = member(k),
		                    .decision = "allow"};

		memset(e.prev, (int)(seq - 1), sizeof(e.prev));
		memset(e.hash, (int)seq, sizeof(e.hash));
		assert_int_equal(cu_store_audit_append(f->s, &e), CU_OK);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
}

struct seqs {
	uint64_t v[SEQS_MAX];
	size_t n, stop_after;
};

static int collect(void *ud, const cu_audit_entry *e)
{
	struct seqs *s = ud;

	assert_true(s->n < SEQS_MAX);
	s->v[s->n++] = e->seq;
	return s->stop_after && s->n >= s->stop_after;
}

static void collect_text(void *ud, const char *value)
{
	struct seqs *s = ud;

	if (!s->stop_after || s->n < s->stop_after) {
		assert_true(s->n < SEQS_MAX);
		s->v[s->n++] = strtoull(value, NULL, 10);
	}
}

/* What the old partial index answered: the entries about m from `from`, by seq. */
static void reference(struct fx *f, uint64_t from, const char *m, size_t stop_after,
                      struct seqs *out)
{
	char sql[256];

	memset(out, 0, sizeof(*out));
	out->stop_after = stop_after;
	snprintf(sql, sizeof(sql),
	         "SELECT seq FROM audit WHERE member = '%s' AND member <> '' AND seq >= %llu"
	         " ORDER BY seq",
	         m, (unsigned long long)from);
	cu_test_store_sql_rows(f->url, sql, collect_text, out);
}

static uint64_t stored_mark(struct fx *f)
{
	char val[32];
	bool found = false;

	assert_int_equal(cu_store_meta_get(f->s, CU_SQLITE_AUDIT_MARK, val, sizeof(val), &found),
	                 CU_OK);
	assert_true(found);
	return strtoull(val, NULL, 10);
}

static uint64_t count(struct fx *f, const char *sql)
{
	return (uint64_t)cu_test_store_sql_int(f->url, sql);
}

/* Every member's scan, from points below, at and above the mark, equals the reference. */
static void check_scans(struct fx *f)
{
	uint64_t mark = stored_mark(f);
	uint64_t froms[] = {0,      1,         mark > 3 ? mark - 3 : 0, mark, mark + 1, mark + 2,
	                    f->seq, f->seq + 1};
	static struct seqs got, want;

	for (int k = 0; k <= MEMBERS; k++) {
		for (size_t i = 0; i < sizeof(froms) / sizeof(froms[0]); i++) {
			for (size_t stop = 0; stop < 4; stop += 3) {
				memset(&got, 0, sizeof(got));
				got.stop_after = stop;
				assert_int_equal(
				    cu_store_audit_scan(f->s, froms[i], member(k), collect, &got),
				    CU_OK);
				reference(f, froms[i], member(k), stop, &want);
				if (got.n != want.n ||
				    memcmp(got.v, want.v, got.n * sizeof(got.v[0])) != 0)
					fail_msg("member '%s' from %llu (mark %llu, stop %zu): %zu "
					         "entries, want %zu",
					         member(k), (unsigned long long)froms[i],
					         (unsigned long long)mark, stop, got.n, want.n);
			}
		}
	}
}

/* By default a commit indexes what it appended, in bulk: the tail is empty after it. */
static void test_commit_indexes_the_tail(void **state)
{
	struct fx *f = *state;

	assert_int_equal(stored_mark(f), 0);
	append(f, 100);
	assert_int_equal(stored_mark(f), 100);
	assert_int_equal(cu_store_audit_indexed(f->s), 100);
	assert_int_equal(count(f, "SELECT count(*) FROM audit_member"),
	                 count(f, "SELECT count(*) FROM audit WHERE member <> ''"));
	check_scans(f);
	append(f, 37);
	assert_int_equal(stored_mark(f), 137);
	check_scans(f);
}

/* A deferring handle leaves the tail: scans find it all the same, across the mark. */
static void test_scan_across_the_mark(void **state)
{
	struct fx *f = *state;
	uint64_t mark = 0;

	cu_store_audit_index_defer(f->s, true);
	append(f, 50);
	assert_int_equal(stored_mark(f), 0);
	check_scans(f); /* all tail */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(mark, 50);
	assert_int_equal(stored_mark(f), 50);
	check_scans(f); /* all indexed */
	append(f, 29);
	assert_int_equal(stored_mark(f), 50);
	check_scans(f); /* both */
	/* Indexing an empty tail writes nothing and keeps the mark. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_OK);
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(mark, 79);
	check_scans(f);
	/* Outside a transaction it is refused, like every write. */
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_audit_index(NULL, &mark), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_audit_indexed(NULL), 0);
}

/* Undone with the rows: the mark and the index rows go back together. */
static void test_rollback_takes_the_mark_back(void **state)
{
	struct fx *f = *state;
	uint64_t mark;

	cu_store_audit_index_defer(f->s, true);
	append(f, 20);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_OK);
	assert_int_equal(mark, 20);
	cu_store_rollback(f->s);
	assert_int_equal(stored_mark(f), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM audit_member"), 0);
	/* The handle does not go on believing the mark it moved. */
	assert_true(cu_store_audit_indexed(f->s) <= stored_mark(f));
	/* Nor after a savepoint undone. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_savepoint(f->s), CU_OK);
	assert_int_equal(cu_store_audit_index(f->s, &mark), CU_OK);
	assert_int_equal(cu_store_savepoint_rollback(f->s), CU_OK);
	assert_int_equal(cu_store_audit_indexed(f->s), 0);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(stored_mark(f), 0);
	check_scans(f);
}

/*
 * The bound: even a handle that defers, and never indexes, has at most
 * CU_STORE_AUDIT_TAIL_MAX entries after the mark, in small commits or one
 * big one.
 */
static void test_tail_bound(void **state)
{
	struct fx *f = *state;
	uint64_t mark;

	_Static_assert(200 * 100 > CU_STORE_AUDIT_TAIL_MAX, "the loop must pass the bound");
	cu_store_audit_index_defer(f->s, true);
	for (int i = 0; i < 200; i++) {
		append(f, 100);
		mark = stored_mark(f);
		assert_true(f->seq - mark <= CU_STORE_AUDIT_TAIL_MAX);
	}
	assert_true(stored_mark(f) > 0);
	check_scans(f);
	append(f, CU_STORE_AUDIT_TAIL_MAX + 500);
	assert_true(f->seq - stored_mark(f) <= CU_STORE_AUDIT_TAIL_MAX);
	check_scans(f);
	/* A second handle (another process) that does not know the mark keeps it too. */
	cu_store_close(f->s);
	open_store(f);
	cu_store_audit_index_defer(f->s, true);
	append(f, CU_STORE_AUDIT_TAIL_MAX);
	assert_true(f->seq - stored_mark(f) <= CU_STORE_AUDIT_TAIL_MAX);
	check_scans(f);
}

/*
 * Migration 10 on a version-9 store: the index filled from the entries
 * through the old index, the old index dropped, the mark at the last
 * entry; scans as before.
 */
static void test_migration_from_v9(void **state)
{
	struct fx *f = *state;
	char err[256];

	append(f, 300);
	cu_store_close(f->s);
	f->s = NULL;
	/* Back to version 9 as it was shipped. */
	cu_test_store_sql(f->url, "DROP TABLE audit_member;"
	                          "DROP INDEX IF EXISTS policy_versions_published;"
	                          "DROP TABLE IF EXISTS beacon_salts;"
	                          "DROP TABLE IF EXISTS beacon_hits;"
	                          "DROP TABLE IF EXISTS beacon_daily;"
	                          "DROP TABLE IF EXISTS beacon_rolled;"
	                          "DROP TABLE IF EXISTS stats_secret;"
	                          "DROP TABLE IF EXISTS stats_ledger;"
	                          "DROP TABLE IF EXISTS stats_releases;"
	                          "DROP TABLE IF EXISTS rate_limits;"
	                          "DROP INDEX request_events_member;"
	                          "DROP INDEX complaint_responses_member;"
	                          "ALTER TABLE request_events DROP COLUMN member;"
	                          "ALTER TABLE complaint_responses DROP COLUMN member;"
	                          "DROP INDEX audit_chain_seq;"
	                          "ALTER TABLE audit DROP COLUMN chain;"
	                          "DELETE FROM meta WHERE key = 'audit_member_indexed';"
	                          "CREATE INDEX audit_member_seq ON audit(member, seq)"
	                          " WHERE member <> '';"
	                          "UPDATE meta SET value = '9' WHERE key = 'schema_version';");
	open_store(f);
	assert_int_equal(cu_store_schema_version(f->s), cu_sqlite_schema_latest());
	assert_true(cu_sqlite_schema_latest() >= 10);
	assert_int_equal(stored_mark(f), 300);
	/* The old index is gone: dropping it again fails. */
	assert_false(
	    cu_test_store_sql_try(f->url, "DROP INDEX audit_member_seq", NULL, err, sizeof(err)));
	assert_int_equal(count(f, "SELECT count(*) FROM audit_member"),
	                 count(f, "SELECT count(*) FROM audit WHERE member <> ''"));
	assert_int_equal(count(f, "SELECT count(*) FROM audit a WHERE member <> '' AND NOT EXISTS"
	                          " (SELECT 1 FROM audit_member m WHERE m.member = a.member"
	                          " AND m.seq = a.seq)"),
	                 0);
	check_scans(f);
	append(f, 10);
	check_scans(f);
	/* An empty store migrates to mark 0. */
	cu_store_close(f->s);
	f->s = NULL;
	cu_test_store_empty(f->url);
	open_store(f);
	assert_int_equal(stored_mark(f), 0);
}

/* The index check that audit verify runs. */
static void test_index_check(void **state)
{
	struct fx *f = *state;
	cu_audit_index_check c;

	append(f, 40);
	assert_int_equal(cu_store_audit_index_check(f->s, &c), CU_OK);
	assert_int_equal(c.mark, 40);
	assert_int_equal(c.missing + c.extra, 0);
	cu_test_store_sql(f->url, "DELETE FROM audit_member WHERE seq IN (12, 30);"
	                          "INSERT INTO audit_member VALUES ('nobody', 7);");
	assert_int_equal(cu_store_audit_index_check(f->s, &c), CU_OK);
	assert_int_equal(c.missing, 2);
	assert_int_equal(c.first_missing, 12);
	assert_int_equal(c.extra, 1);
	assert_int_equal(c.first_extra, 7);
	{
		uint64_t mark = 1;

		assert_int_equal(cu_store_audit_mark(f->s, &mark), CU_OK);
		assert_int_equal(mark, 40);
		assert_int_equal(cu_store_audit_mark(NULL, &mark), CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_store_audit_mark(f->s, NULL), CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_store_audit_index_scan(NULL, 1, NULL, NULL),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_store_audit_index_scan(f->s, 1, NULL, NULL),
		                 CU_ERR_INVALID_ARGUMENT);
	}
	assert_int_equal(cu_store_audit_index_check(NULL, &c), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_audit_index_check(f->s, NULL), CU_ERR_INVALID_ARGUMENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_commit_indexes_the_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_across_the_mark, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_takes_the_mark_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tail_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_from_v9, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_index_check, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
