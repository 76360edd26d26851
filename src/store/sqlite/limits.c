/*
 * src/store/sqlite/limits.c — the shared attempt limits on SQLite
 * (store/limits.h; the rules are store/limits.c's).  One server owns a
 * SQLite file, so the server does not use them here (shared is false); the
 * conformance tests do, and they hold the same as on PostgreSQL.
 */
#include "store/limits_backend.h"
#include "store/sqlite/sqlite.h"

#include <string.h>

#include "store/backend.h"

const char cu_sqlite_migration_limits[] =
    /* One row per key; no address or e-mail, only their keyed hashes. */
    "CREATE TABLE rate_limits ("
    "  key BLOB PRIMARY KEY CHECK (length(key) = 32),"
    "  window_start_us INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL CHECK (attempts >= 0),"
    "  locked_until_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "CREATE INDEX rate_limits_expires ON rate_limits(expires_us);";

enum {
	S_PURGE = CU_SQLITE_SLOTS_LIMITS,
	S_MAKE,
	S_GET,
	S_PUT,
};

/* BEGIN IMMEDIATE, as every write of this backend: writers follow one another. */
static cu_result limits_begin(cu_store *s)
{
	return s->ops->begin(s);
}

static cu_result limits_purge(cu_store *s, int64_t now_us)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_PURGE, "DELETE FROM rate_limits WHERE expires_us < ?1", &st);

	if (rc)
		return rc;
	return cu_sqlite_run_bound(st, sqlite3_bind_int64(st, 1, now_us));
}

static cu_result limits_lock(cu_store *s, const unsigned char key[CU_LIMITS_KEY_LEN],
                             int64_t now_us, int64_t expires_us, cu_store_limit_row *out)
{
	sqlite3_stmt *st;
	cu_result rc;
	int b, r;

	/* The transaction's write lock already keeps every other writer out. */
	rc =
	    cu_sqlite_area_stmt(s, S_MAKE,
	                        "INSERT OR IGNORE INTO rate_limits (key, window_start_us, attempts,"
	                        " locked_until_us, expires_us) VALUES (?1, ?2, 0, 0, ?3)",
	                        &st);
	if (rc)
		return rc;
	b = sqlite3_bind_blob(st, 1, key, CU_LIMITS_KEY_LEN, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_int64(st, 2, now_us);
	b = b ? b : sqlite3_bind_int64(st, 3, expires_us);
	if ((rc = cu_sqlite_run_bound(st, b)))
		return rc;
	rc = cu_sqlite_area_stmt(s, S_GET,
	                         "SELECT window_start_us, attempts, locked_until_us, expires_us"
	                         " FROM rate_limits WHERE key = ?1",
	                         &st);
	if (rc)
		return rc;
	if ((b = sqlite3_bind_blob(st, 1, key, CU_LIMITS_KEY_LEN, SQLITE_STATIC))) {
		cu_sqlite_done(st);
		return cu_sqlite_map_rc(b);
	}
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		memcpy(out->key, key, CU_LIMITS_KEY_LEN);
		out->window_start_us = sqlite3_column_int64(st, 0);
		out->attempts = sqlite3_column_int64(st, 1);
		out->locked_until_us = sqlite3_column_int64(st, 2);
		out->expires_us = sqlite3_column_int64(st, 3);
	} else {
		rc = r == SQLITE_DONE ? CU_ERR_STORE : cu_sqlite_map_rc(r);
	}
	cu_sqlite_done(st);
	return rc;
}

static cu_result limits_put(cu_store *s, const cu_store_limit_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_PUT,
	                                   "UPDATE rate_limits SET window_start_us = ?2,"
	                                   " attempts = ?3, locked_until_us = ?4, expires_us = ?5"
	                                   " WHERE key = ?1",
	                                   &st);
	int b;

	if (rc)
		return rc;
	b = sqlite3_bind_blob(st, 1, row->key, CU_LIMITS_KEY_LEN, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_int64(st, 2, row->window_start_us);
	b = b ? b : sqlite3_bind_int64(st, 3, row->attempts);
	b = b ? b : sqlite3_bind_int64(st, 4, row->locked_until_us);
	b = b ? b : sqlite3_bind_int64(st, 5, row->expires_us);
	return cu_sqlite_run_one(s, st, b, CU_ERR_STORE);
}

const struct cu_store_limits_ops cu_sqlite_limits_ops = {
    .shared = false,
    .begin = limits_begin,
    .purge = limits_purge,
    .lock = limits_lock,
    .put = limits_put,
};
