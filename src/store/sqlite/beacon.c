/*
 * src/store/sqlite/beacon.c — the beacon area on SQLite: the daily salt
 * (sealed), raw hits, and their daily aggregates (store/beacon.h).
 */
#include "store/beacon_backend.h"
#include "store/sqlite/sqlite.h"

#include <string.h>

const char cu_sqlite_migration_beacon[] =
    /*
     * No column can hold an address, a user agent or a URL: a page and an
     * event are short names, the visitor a keyed hash whose key (the day's
     * salt) is deleted the next day.  beacon_rolled lists the days whose
     * aggregates are written: only their raw hits may be deleted.
     */
    "CREATE TABLE beacon_salts ("
    "  day TEXT PRIMARY KEY,"
    "  sealed BLOB NOT NULL"
    ");"
    "CREATE TABLE beacon_hits ("
    "  rowid INTEGER PRIMARY KEY,"
    "  day TEXT NOT NULL,"
    "  minute_us INTEGER NOT NULL,"
    "  page TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  category TEXT NOT NULL CHECK (category IN ('statistics', 'advertising')),"
    "  visitor BLOB NOT NULL CHECK (length(visitor) = 16)"
    ");"
    "CREATE INDEX beacon_hits_day ON beacon_hits(day);"
    "CREATE TABLE beacon_daily ("
    "  day TEXT NOT NULL,"
    "  page TEXT NOT NULL,"
    "  event TEXT NOT NULL,"
    "  category TEXT NOT NULL,"
    "  views INTEGER NOT NULL,"
    "  visitors INTEGER NOT NULL,"
    "  PRIMARY KEY (day, category, page, event)"
    ") WITHOUT ROWID;"
    "CREATE TABLE beacon_rolled (day TEXT PRIMARY KEY) WITHOUT ROWID;";

enum {
	S_SALT_GET = CU_SQLITE_SLOTS_BEACON,
	S_SALT_PUT,
	S_SALT_PURGE,
	S_INSERT,
	S_ROLLUP,
	S_ROLLED,
	S_EXPIRE,
	S_COUNT_HITS,
	S_COUNT_SALTS,
	S_DAILY,
};

static cu_result beacon_salt_get(cu_store *s, const char *day, unsigned char *sealed, size_t cap,
                                 size_t *len, bool *found)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SALT_GET,
	                                   "SELECT sealed FROM beacon_salts WHERE day = ?1", &st);
	int r;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_bind_keys(st, day, NULL)))
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

static cu_result beacon_salt_purge(cu_store *s, const char *keep, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_SALT_PURGE, "DELETE FROM beacon_salts WHERE day <> ?1", &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	rc = cu_sqlite_run_bound(st, cu_sqlite_bind_text(st, 1, keep));
	if (!rc)
		*n = (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

static cu_result beacon_salt_put(cu_store *s, const char *day, const unsigned char *sealed,
                                 size_t len)
{
	sqlite3_stmt *st;
	uint64_t n;
	cu_result rc = beacon_salt_purge(s, day, &n);
	int b;

	if (!rc)
		rc = cu_sqlite_area_stmt(
		    s, S_SALT_PUT,
		    "INSERT OR REPLACE INTO beacon_salts (day, sealed) VALUES (?1, ?2)", &st);
	if (rc)
		return rc;
	b = cu_sqlite_bind_text(st, 1, day);
	b = b ? b : sqlite3_bind_blob64(st, 2, sealed, len, SQLITE_STATIC);
	return cu_sqlite_run_bound(st, b);
}

static cu_result beacon_insert(cu_store *s, const cu_beacon_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_INSERT,
	    "INSERT INTO beacon_hits (day, minute_us, page, event, category, visitor)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->day);
	b = b ? b : sqlite3_bind_int64(st, 2, row->minute_us);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->page);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->event);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->category);
	b = b ? b : sqlite3_bind_blob(st, 6, row->visitor, CU_BEACON_VISITOR_BYTES, SQLITE_STATIC);
	return cu_sqlite_run_bound(st, b);
}

static cu_result beacon_rollup(cu_store *s, const char *today, uint64_t *days)
{
	sqlite3_stmt *agg, *mark;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_ROLLUP,
	    /* A straggler of a day already rolled (a hit committed across midnight) adds to it. */
	    "INSERT INTO beacon_daily (day, page, event, category, views, visitors)"
	    " SELECT day, page, event, category, count(*), count(DISTINCT visitor)"
	    " FROM beacon_hits WHERE day < ?1 AND day NOT IN (SELECT day FROM beacon_rolled)"
	    " GROUP BY day, page, event, category"
	    " ON CONFLICT (day, category, page, event) DO UPDATE"
	    " SET views = views + excluded.views, visitors = visitors + excluded.visitors",
	    &agg);

	if (!rc)
		rc = cu_sqlite_area_stmt(s, S_ROLLED,
		                         "INSERT OR IGNORE INTO beacon_rolled (day)"
		                         " SELECT DISTINCT day FROM beacon_hits WHERE day < ?1",
		                         &mark);
	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	rc = cu_sqlite_run_bound(agg, cu_sqlite_bind_text(agg, 1, today));
	if (!rc)
		rc = cu_sqlite_run_bound(mark, cu_sqlite_bind_text(mark, 1, today));
	if (!rc)
		*days = (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

static cu_result beacon_expire(cu_store *s, int64_t cutoff_us, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_EXPIRE,
	                                   "DELETE FROM beacon_hits WHERE minute_us < ?1"
	                                   " AND day IN (SELECT day FROM beacon_rolled)",
	                                   &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	rc = cu_sqlite_run_bound(st, sqlite3_bind_int64(st, 1, cutoff_us));
	if (!rc)
		*n = (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

static cu_result count_of(cu_store *s, int slot, const char *sql, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, slot, sql, &st);
	int r;

	if (rc)
		return rc;
	r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	rc = r == SQLITE_ROW ? CU_OK : cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result beacon_counts(cu_store *s, uint64_t *hits, uint64_t *salts)
{
	cu_result rc = count_of(s, S_COUNT_HITS, "SELECT count(*) FROM beacon_hits", hits);

	return rc ? rc : count_of(s, S_COUNT_SALTS, "SELECT count(*) FROM beacon_salts", salts);
}

static cu_result read_daily(sqlite3_stmt *st, cu_beacon_daily_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->day, CU_BEACON_DAY_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->page, CU_BEACON_NAME_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->event, CU_BEACON_NAME_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->category, CU_BEACON_CATEGORY_MAX);
	out->views = (uint64_t)sqlite3_column_int64(st, 4);
	out->visitors = (uint64_t)sqlite3_column_int64(st, 5);
	return rc;
}

static cu_result beacon_daily(cu_store *s, const char *from, const char *to,
                              cu_store_beacon_daily_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_beacon_daily_row row;
	cu_result rc = cu_sqlite_area_stmt(s, S_DAILY,
	                                   "SELECT day, page, event, category, views, visitors"
	                                   " FROM beacon_daily WHERE day >= ?1 AND day <= ?2"
	                                   " ORDER BY day, category, page, event",
	                                   &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_bind_keys(st, from, to)))
		return rc;
	CU_SQLITE_WALK(st, read_daily, row, fn, ud, rc);
	return rc;
}

const struct cu_store_beacon_ops cu_sqlite_beacon_ops = {
    .salt_get = beacon_salt_get,
    .salt_put = beacon_salt_put,
    .salt_purge = beacon_salt_purge,
    .insert = beacon_insert,
    .rollup = beacon_rollup,
    .expire = beacon_expire,
    .counts = beacon_counts,
    .daily = beacon_daily,
};
