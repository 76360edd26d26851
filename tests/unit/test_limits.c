/*
 * test_limits.c — the attempt limits that several servers share
 * (store/limits.h), on SQLite and (as unit/test_limits/pg) on PostgreSQL:
 * windows, lockouts, all-or-none over two keys, the outcomes, rows that go
 * when they expire, and exactly `limit` attempts through when four
 * connections ask at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/limits.h"
#include "store/store.h"
#include "support.h"

#define T0     1000000000000LL /* a time, in microseconds */
#define WINDOW 60000000LL      /* a minute */

struct fx {
	char *dir;
	char url[700];
	cu_store *s;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	assert_non_null(f->dir);
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("cannot open the store: %s", err);
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

static cu_store_limit_key key(unsigned char b, unsigned limit)
{
	cu_store_limit_key k = {.limit = limit, .window_us = WINDOW};

	memset(k.id, b, sizeof(k.id));
	return k;
}

/* Reserves one attempt on k at now: the result, and the window in *ws. */
static cu_result one(cu_store *s, const cu_store_limit_key *k, int64_t now, int64_t *ws,
                     int64_t *retry)
{
	int64_t w[CU_LIMITS_KEYS_MAX] = {0};
	cu_result rc = cu_store_limit_reserve(s, k, 1, now, w, retry);

	if (ws)
		*ws = w[0];
	return rc;
}

/* Rows in rate_limits, through a connection of the test's own. */
static long rows(const struct fx *f)
{
	if (cu_test_store_is_pg()) {
		char out[32];

		cu_test_pg_value(f->url, "SELECT count(*) FROM rate_limits", out, sizeof(out));
		return strtol(out, NULL, 10);
	} else {
		char path[600];
		sqlite3 *db;
		sqlite3_stmt *st;
		long n;

		snprintf(path, sizeof(path), "%s/store.db", f->dir);
		assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
		assert_int_equal(
		    sqlite3_prepare_v2(db, "SELECT count(*) FROM rate_limits", -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		n = (long)sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		sqlite3_close(db);
		return n;
	}
}

static void test_window_admits_limit_then_refuses(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key k = key(1, 3);
	int64_t retry = 0;

	for (int i = 0; i < 3; i++)
		assert_int_equal(one(f->s, &k, T0 + i, NULL, NULL), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 10, NULL, &retry), CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, WINDOW - 10);
	/* The window starts over at its end. */
	assert_int_equal(one(f->s, &k, T0 + WINDOW, NULL, NULL), CU_OK);
}

static void test_count_locks_out_for_a_window(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key k = key(2, 2);
	int64_t ws, retry = 0, at = T0 + 5000;

	for (int i = 0; i < 2; i++) {
		assert_int_equal(one(f->s, &k, T0 + i, &ws, NULL), CU_OK);
		assert_int_equal(cu_store_limit_finish(f->s, &k, ws, CU_STORE_LIMIT_COUNT, at),
		                 CU_OK);
	}
	/* Past the window's end, the lockout (from the second failure) still runs. */
	assert_int_equal(one(f->s, &k, T0 + WINDOW + 1, NULL, &retry), CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, at + WINDOW - (T0 + WINDOW + 1));
	assert_int_equal(one(f->s, &k, at + WINDOW, NULL, NULL), CU_OK);
}

static void test_release_and_clear(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key k = key(3, 2);
	int64_t ws, old;

	/* A released attempt is as if never made. */
	for (int i = 0; i < 5; i++) {
		assert_int_equal(one(f->s, &k, T0 + i, &ws, NULL), CU_OK);
		assert_int_equal(
		    cu_store_limit_finish(f->s, &k, ws, CU_STORE_LIMIT_RELEASE, T0 + i), CU_OK);
	}
	/* One failure, then a success that clears: two more are admitted. */
	assert_int_equal(one(f->s, &k, T0 + 10, &ws, NULL), CU_OK);
	assert_int_equal(cu_store_limit_finish(f->s, &k, ws, CU_STORE_LIMIT_COUNT, T0 + 10), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 11, &ws, NULL), CU_OK);
	assert_int_equal(cu_store_limit_finish(f->s, &k, ws, CU_STORE_LIMIT_CLEAR, T0 + 11), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 12, NULL, NULL), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 13, &old, NULL), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 14, NULL, NULL), CU_ERR_RATE_LIMITED);
	/* A release finished after its window ran out gives the new window nothing. */
	assert_int_equal(one(f->s, &k, T0 + 11 + WINDOW, NULL, NULL), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 12 + WINDOW, NULL, NULL), CU_OK);
	assert_int_equal(
	    cu_store_limit_finish(f->s, &k, old, CU_STORE_LIMIT_RELEASE, T0 + 13 + WINDOW), CU_OK);
	assert_int_equal(one(f->s, &k, T0 + 14 + WINDOW, NULL, NULL), CU_ERR_RATE_LIMITED);
}

static void test_two_keys_all_or_none(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key both[2] = {key(5, 4), key(4, 1)};
	int64_t w[CU_LIMITS_KEYS_MAX], retry = 0;

	/* The second key (sorted first) admits one; the next pair is refused whole. */
	assert_int_equal(cu_store_limit_reserve(f->s, both, 2, T0, w, NULL), CU_OK);
	assert_int_equal(w[0], T0);
	assert_int_equal(w[1], T0);
	assert_int_equal(cu_store_limit_reserve(f->s, both, 2, T0 + 1, w, &retry),
	                 CU_ERR_RATE_LIMITED);
	assert_true(retry > 0);
	/* The first key was charged once, not twice: three more alone. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(one(f->s, &both[0], T0 + 2 + i, NULL, NULL), CU_OK);
	assert_int_equal(one(f->s, &both[0], T0 + 9, NULL, NULL), CU_ERR_RATE_LIMITED);
}

static void test_rows_go_when_they_expire(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key a = key(6, 1), b = key(7, 1), c = key(8, 1);
	int64_t ws;

	assert_int_equal(one(f->s, &a, T0, NULL, NULL), CU_OK);
	assert_int_equal(one(f->s, &b, T0, &ws, NULL), CU_OK);
	assert_int_equal(cu_store_limit_finish(f->s, &b, ws, CU_STORE_LIMIT_COUNT, T0 + WINDOW / 2),
	                 CU_OK);
	assert_int_equal(rows(f), 2);
	/* a's window is over; b's lockout runs on; c is new. */
	assert_int_equal(one(f->s, &c, T0 + WINDOW + 1, NULL, NULL), CU_OK);
	assert_int_equal(rows(f), 2);
	assert_int_equal(one(f->s, &c, T0 + 2 * WINDOW + 1, NULL, NULL), CU_OK);
	assert_int_equal(rows(f), 1);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	cu_store_limit_key k = key(9, 1), zero = key(9, 0);
	int64_t w[CU_LIMITS_KEYS_MAX];

	assert_int_equal(cu_store_limit_reserve(f->s, &k, 0, T0, w, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_limit_reserve(f->s, &k, 3, T0, w, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_limit_reserve(f->s, &zero, 1, T0, w, NULL),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_limit_reserve(NULL, &k, 1, T0, w, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_limit_finish(f->s, &k, T0, (enum cu_store_limit_outcome)7, T0),
	                 CU_ERR_INVALID_ARGUMENT);
	/* A transaction of its own: not inside the caller's. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_limit_reserve(f->s, &k, 1, T0, w, NULL), CU_ERR_INTERNAL);
	cu_store_rollback(f->s);
	assert_int_equal(one(f->s, &k, T0, NULL, NULL), CU_OK);
	assert_int_equal(cu_store_limits_shared(f->s), cu_test_store_is_pg());
}

/* ---- four connections at once ------------------------------------------ */

#define THREADS 4
#define TRIES   25
#define LIMIT   20

struct racer {
	const char *url;
	int ok, limited, other;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	cu_store_limit_key k = key(10, LIMIT);
	cu_store *s;
	char err[256];

	if (cu_store_open(r->url, &s, err, sizeof(err)) != CU_OK) {
		r->other = TRIES;
		return NULL;
	}
	for (int i = 0; i < TRIES; i++) {
		cu_result rc = one(s, &k, T0 + i, NULL, NULL);

		if (rc == CU_OK)
			r->ok++;
		else if (rc == CU_ERR_RATE_LIMITED)
			r->limited++;
		else
			r->other++;
	}
	cu_store_close(s);
	return NULL;
}

static void test_connections_at_once_get_exactly_the_limit(void **state)
{
	struct fx *f = *state;
	struct racer r[THREADS];
	pthread_t t[THREADS];
	int ok = 0, limited = 0, other = 0;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < THREADS; i++) {
		r[i].url = f->url;
		assert_int_equal(pthread_create(&t[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		ok += r[i].ok;
		limited += r[i].limited;
		other += r[i].other;
	}
	assert_int_equal(other, 0);
	assert_int_equal(ok, LIMIT);
	assert_int_equal(limited, THREADS * TRIES - LIMIT);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_window_admits_limit_then_refuses),
	    T(test_count_locks_out_for_a_window),
	    T(test_release_and_clear),
	    T(test_two_keys_all_or_none),
	    T(test_rows_go_when_they_expire),
	    T(test_refusals),
	    T(test_connections_at_once_get_exactly_the_limit),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
