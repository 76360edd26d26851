/*
 * src/store/sqlite/stats.c — the statistics area on SQLite: the stats
 * secret (sealed), the ε ledger, and the one-statement member scan
 * (store/stats.h).
 */
#include "store/sqlite/sqlite.h"
#include "store/stats_backend.h"

#include <stdlib.h>
#include <string.h>

const char cu_sqlite_migration_stats[] =
    /*
     * One secret, never replaced (id is always 1).  The ledger is
     * append-only: a spent ε is never given back.
     */
    "CREATE TABLE stats_secret ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  sealed BLOB NOT NULL"
    ");"
    "CREATE TABLE stats_ledger ("
    "  rowid INTEGER PRIMARY KEY,"
    "  release TEXT NOT NULL UNIQUE,"
    "  dataset TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  epsilon REAL NOT NULL CHECK (epsilon > 0),"
    "  delta REAL,"
    "  mechanism TEXT NOT NULL,"
    "  token TEXT NOT NULL,"
    "  at_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX stats_ledger_period ON stats_ledger(dataset, period);"
    "CREATE TRIGGER stats_ledger_no_update BEFORE UPDATE ON stats_ledger"
    " BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;"
    "CREATE TRIGGER stats_ledger_no_delete BEFORE DELETE ON stats_ledger"
    " BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;";

enum {
	S_SECRET_GET = CU_SQLITE_SLOTS_STATS,
	S_SECRET_PUT,
	S_LEDGER_INSERT,
	S_SPENT,
	S_LEDGER_LIST,
	S_LEDGER_LIST_ALL,
	S_MEMBER_COUNT,
	S_MEMBER_SCAN,
	S_RELEASE_INSERT,
	S_RELEASE_FIND,
	S_RELEASE_GET,
};

/*
 * Migration 14: the kept releases.  A fresh release of the same question
 * adds a row; the latest (highest rowid) answers.  Append-only.
 */
const char cu_sqlite_migration_stats_releases[] =
    "CREATE TABLE stats_releases ("
    "  rowid INTEGER PRIMARY KEY,"
    "  release TEXT NOT NULL UNIQUE,"
    "  dataset TEXT NOT NULL,"
    "  period TEXT NOT NULL,"
    "  query_key TEXT NOT NULL,"
    "  released TEXT NOT NULL,"
    "  at_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX stats_releases_key ON stats_releases(dataset, period, query_key);"
    "CREATE TRIGGER stats_releases_no_update BEFORE UPDATE ON stats_releases"
    " BEGIN SELECT RAISE(ABORT, 'kept releases are append-only'); END;"
    "CREATE TRIGGER stats_releases_no_delete BEFORE DELETE ON stats_releases"
    " BEGIN SELECT RAISE(ABORT, 'kept releases are append-only'); END;";

static cu_result stats_secret_get(cu_store *s, unsigned char *sealed, size_t cap, size_t *len,
                                  bool *found)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SECRET_GET,
	                                   "SELECT sealed FROM stats_secret WHERE id = 1", &st);
	int r;

	if (rc)
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const void *b = sqlite3_column_blob(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (!b || !n)
			rc = CU_ERR_STORE;
		else if (n > cap)
			rc = CU_ERR_TOO_LARGE;
		else {
			memcpy(sealed, b, n);
			*len = n;
			*found = true;
		}
	} else if (r != SQLITE_DONE) {
		rc = cu_sqlite_map_rc(r);
	}
	cu_sqlite_done(st);
	return rc;
}

static cu_result stats_secret_put(cu_store *s, const unsigned char *sealed, size_t len)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_SECRET_PUT, "INSERT INTO stats_secret (id, sealed) VALUES (1, ?1)", &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	return cu_sqlite_run_bound(st, sqlite3_bind_blob64(st, 1, sealed, len, SQLITE_STATIC));
}

static cu_result stats_ledger_insert(cu_store *s, const cu_stats_ledger_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_LEDGER_INSERT,
	    "INSERT INTO stats_ledger (release, dataset, period, epsilon, delta, mechanism, token,"
	    " at_us) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->release);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->dataset);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->period);
	b = b ? b : sqlite3_bind_double(st, 4, row->epsilon);
	b = b ? b
	      : (row->delta > 0 ? sqlite3_bind_double(st, 5, row->delta)
	                        : sqlite3_bind_null(st, 5));
	b = b ? b : cu_sqlite_bind_text(st, 6, row->mechanism);
	b = b ? b : cu_sqlite_bind_text(st, 7, row->token);
	b = b ? b : sqlite3_bind_int64(st, 8, row->at_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result stats_spent(cu_store *s, const char *dataset, const char *period, double *epsilon)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SPENT,
	                                   "SELECT total(epsilon) FROM stats_ledger"
	                                   " WHERE dataset = ?1 AND period = ?2",
	                                   &st);
	int r;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_bind_keys(st, dataset, period)))
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*epsilon = sqlite3_column_double(st, 0);
	else
		rc = cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result read_ledger(sqlite3_stmt *st, cu_stats_ledger_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->release, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->dataset, CU_STATS_DATASET_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->period, CU_STATS_PERIOD_LEN);
	out->epsilon = sqlite3_column_double(st, 3);
	out->delta = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 : sqlite3_column_double(st, 4);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 5, out->mechanism, CU_STATS_MECHANISM_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 6, out->token, CU_STATS_TOKEN_MAX);
	out->at_us = sqlite3_column_int64(st, 7);
	return rc;
}

#define LEDGER_COLS "release, dataset, period, epsilon, delta, mechanism, token, at_us"

static cu_result stats_ledger_list(cu_store *s, const char *period, cu_store_stats_ledger_fn fn,
                                   void *ud)
{
	sqlite3_stmt *st;
	cu_stats_ledger_row row;
	cu_result rc;

	if (period) {
		rc =
		    cu_sqlite_area_stmt(s, S_LEDGER_LIST,
		                        "SELECT " LEDGER_COLS " FROM stats_ledger WHERE period = ?1"
		                        " ORDER BY rowid",
		                        &st);
		if (!rc)
			rc = cu_sqlite_bind_keys(st, period, NULL);
	} else {
		rc = cu_sqlite_area_stmt(s, S_LEDGER_LIST_ALL,
		                         "SELECT " LEDGER_COLS " FROM stats_ledger ORDER BY rowid",
		                         &st);
	}
	if (rc)
		return rc;
	CU_SQLITE_WALK(st, read_ledger, row, fn, ud, rc);
	return rc;
}

static cu_result stats_release_insert(cu_store *s, const cu_stats_release_row *row,
                                      const char *json)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_RELEASE_INSERT,
	    "INSERT INTO stats_releases (release, dataset, period, query_key, released, at_us)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->release);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->dataset);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->period);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->key);
	b = b ? b : cu_sqlite_bind_text(st, 5, json);
	b = b ? b : sqlite3_bind_int64(st, 6, row->at_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result stats_release_find(cu_store *s, const char *dataset, const char *period,
                                    const char *key, const char *release, cu_stats_release_row *out,
                                    char **json, bool *found)
{
	sqlite3_stmt *st;
	cu_result rc;
	int r;

	if (release) {
		rc = cu_sqlite_area_stmt(
		    s, S_RELEASE_GET,
		    "SELECT release, dataset, period, query_key, released, at_us"
		    " FROM stats_releases WHERE release = ?1",
		    &st);
		if (!rc)
			rc = cu_sqlite_bind_keys(st, release, NULL);
	} else {
		rc = cu_sqlite_area_stmt(
		    s, S_RELEASE_FIND,
		    "SELECT release, dataset, period, query_key, released, at_us"
		    " FROM stats_releases WHERE dataset = ?1 AND period = ?2 AND query_key = ?3"
		    " ORDER BY rowid DESC LIMIT 1",
		    &st);
		if (!rc)
			rc = cu_sqlite_bind_keys(st, dataset, period);
		if (!rc && cu_sqlite_bind_text(st, 3, key) != SQLITE_OK)
			rc = CU_ERR_STORE;
	}
	if (rc)
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(st, 4);

		rc = cu_sqlite_copy_text(st, 0, out->release, CU_ID_LEN);
		if (!rc)
			rc = cu_sqlite_copy_text(st, 1, out->dataset, CU_STATS_DATASET_MAX);
		if (!rc)
			rc = cu_sqlite_copy_text(st, 2, out->period, CU_STATS_PERIOD_LEN);
		if (!rc)
			rc = cu_sqlite_copy_text(st, 3, out->key, CU_STATS_KEY_LEN);
		out->at_us = sqlite3_column_int64(st, 5);
		if (!rc && !text)
			rc = CU_ERR_STORE;
		if (!rc && !(*json = strdup(text)))
			rc = CU_ERR_NOMEM;
		*found = !rc;
	} else if (r != SQLITE_DONE) {
		rc = cu_sqlite_map_rc(r);
	}
	cu_sqlite_done(st);
	return rc;
}

static cu_result stats_member_count(cu_store *s, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_MEMBER_COUNT, "SELECT count(*) FROM members WHERE erased_us IS NULL", &st);
	int r;

	if (rc)
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*n = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result read_member(sqlite3_stmt *st, cu_stats_member *m)
{
	const void *w = sqlite3_column_blob(st, 2);

	memset(m, 0, sizeof(*m));
	m->id = (const char *)sqlite3_column_text(st, 0);
	m->key_id = (uint32_t)sqlite3_column_int64(st, 1);
	if (!m->id || !w || sqlite3_column_bytes(st, 2) != CU_VAULT_WRAPPEDBYTES)
		return CU_ERR_STORE;
	m->wrapped = w;
	m->fields = sqlite3_column_blob(st, 3);
	m->fields_len = (size_t)sqlite3_column_bytes(st, 3);
	m->created_us = sqlite3_column_int64(st, 4);
	m->accepted = (const char *)sqlite3_column_text(st, 5);
	m->consents = (const char *)sqlite3_column_text(st, 6);
	if (!m->consents)
		m->consents = "";
	return CU_OK;
}

static cu_result stats_member_scan(cu_store *s, cu_store_stats_member_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_stats_member m;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_MEMBER_SCAN,
	    /*
	     * The latest choice per purpose: the row with the highest rowid of
	     * its (member, kind, target), found through consents_current.
	     */
	    "SELECT m.id, m.key_id, m.wrapped, m.fields, m.created_us, a.version,"
	    " (SELECT group_concat(c.target || '=' || c.granted, ',') FROM consents c"
	    "   WHERE c.member = m.id AND c.kind = 'purpose' AND c.rowid ="
	    "   (SELECT max(c2.rowid) FROM consents c2 WHERE c2.member = m.id"
	    "     AND c2.kind = 'purpose' AND c2.target = c.target))"
	    " FROM members m LEFT JOIN accepted a ON a.member = m.id"
	    " WHERE m.erased_us IS NULL ORDER BY m.id",
	    &st);

	if (rc)
		return rc;
	CU_SQLITE_WALK(st, read_member, m, fn, ud, rc);
	return rc;
}

const struct cu_store_stats_ops cu_sqlite_stats_ops = {
    .secret_get = stats_secret_get,
    .secret_put = stats_secret_put,
    .ledger_insert = stats_ledger_insert,
    .spent = stats_spent,
    .ledger_list = stats_ledger_list,
    .release_insert = stats_release_insert,
    .release_find = stats_release_find,
    .member_count = stats_member_count,
    .member_scan = stats_member_scan,
};
