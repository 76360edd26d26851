/*
 * src/store/pg/beacon.c — web beacons on PostgreSQL (store/beacon.h; the SQL
 * of store/sqlite/beacon.c, whose comments say why).
 */
#include "store/beacon_backend.h"
#include "store/pg/pg.h"

#include <string.h>

enum {
	S_SALT_GET = CU_PG_SLOTS_BEACON,
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
	cu_pg_params p = {0};

	cu_pg_param_text(&p, day);
	return cu_pg_sealed(s, S_SALT_GET, "SELECT sealed FROM beacon_salts WHERE day = $1", &p,
	                    sealed, cap, len, found);
}

static cu_result beacon_salt_purge(cu_store *s, const char *keep, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, keep);
	return cu_pg_write(s, S_SALT_PURGE, "DELETE FROM beacon_salts WHERE day <> $1", &p, n);
}

static cu_result beacon_salt_put(cu_store *s, const char *day, const unsigned char *sealed,
                                 size_t len)
{
	cu_pg_params p = {0};
	uint64_t n;
	cu_result rc = beacon_salt_purge(s, day, &n);

	if (rc)
		return rc;
	cu_pg_param_text(&p, day);
	cu_pg_param_bytes(&p, sealed, len);
	return cu_pg_write(s, S_SALT_PUT,
	                   "INSERT INTO beacon_salts (day, sealed) VALUES ($1, $2)"
	                   " ON CONFLICT (day) DO UPDATE SET sealed = excluded.sealed",
	                   &p, NULL);
}

static cu_result beacon_insert(cu_store *s, const cu_beacon_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->day);
	cu_pg_param_int(&p, row->minute_us);
	cu_pg_param_text(&p, row->page);
	cu_pg_param_text(&p, row->event);
	cu_pg_param_text(&p, row->category);
	cu_pg_param_bytes(&p, row->visitor, CU_BEACON_VISITOR_BYTES);
	return cu_pg_write(
	    s, S_INSERT,
	    "INSERT INTO beacon_hits (day, minute_us, page, event, category, visitor)"
	    " VALUES ($1, $2, $3, $4, $5, $6)",
	    &p, NULL);
}

static cu_result beacon_rollup(cu_store *s, const char *today, uint64_t *days)
{
	cu_pg_params p = {0};
	cu_result rc;

	cu_pg_param_text(&p, today);
	/* A straggler of a day already rolled (a hit committed across midnight) adds to it. */
	rc = cu_pg_write(s, S_ROLLUP,
	                 "INSERT INTO beacon_daily (day, page, event, category, views, visitors)"
	                 " SELECT day, page, event, category, count(*), count(DISTINCT visitor)"
	                 " FROM beacon_hits WHERE day < $1"
	                 " AND day NOT IN (SELECT day FROM beacon_rolled)"
	                 " GROUP BY day, page, event, category"
	                 " ON CONFLICT (day, category, page, event) DO UPDATE"
	                 " SET views = beacon_daily.views + excluded.views,"
	                 " visitors = beacon_daily.visitors + excluded.visitors",
	                 &p, NULL);
	if (rc)
		return rc;
	return cu_pg_write(s, S_ROLLED,
	                   "INSERT INTO beacon_rolled (day)"
	                   " SELECT DISTINCT day FROM beacon_hits WHERE day < $1"
	                   " ON CONFLICT DO NOTHING",
	                   &p, days);
}

static cu_result beacon_expire(cu_store *s, int64_t cutoff_us, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_int(&p, cutoff_us);
	return cu_pg_write(s, S_EXPIRE,
	                   "DELETE FROM beacon_hits WHERE minute_us < $1"
	                   " AND day IN (SELECT day FROM beacon_rolled)",
	                   &p, n);
}

static cu_result beacon_counts(cu_store *s, uint64_t *hits, uint64_t *salts)
{
	cu_result rc = cu_pg_count(s, S_COUNT_HITS, "SELECT count(*) FROM beacon_hits", NULL, hits);

	return rc ? rc
	          : cu_pg_count(s, S_COUNT_SALTS, "SELECT count(*) FROM beacon_salts", NULL, salts);
}

static cu_result read_daily(const PGresult *r, int i, cu_beacon_daily_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->day, CU_BEACON_DAY_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->page, CU_BEACON_NAME_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->event, CU_BEACON_NAME_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->category, CU_BEACON_CATEGORY_MAX);
	out->views = (uint64_t)cu_pg_int(r, i, 4);
	out->visitors = (uint64_t)cu_pg_int(r, i, 5);
	return rc;
}

static cu_result beacon_daily(cu_store *s, const char *from, const char *to,
                              cu_store_beacon_daily_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, from);
	cu_pg_param_text(&p, to);
	rc = cu_pg_exec(s, S_DAILY,
	                "SELECT day, page, event, category, views, visitors"
	                " FROM beacon_daily WHERE day >= $1 AND day <= $2"
	                " ORDER BY day, category, page, event",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_beacon_daily_row, read_daily, cu_pg_release_none, fn, ud);
	return rc;
}

const struct cu_store_beacon_ops cu_pg_beacon_ops = {
    .salt_get = beacon_salt_get,
    .salt_put = beacon_salt_put,
    .salt_purge = beacon_salt_purge,
    .insert = beacon_insert,
    .rollup = beacon_rollup,
    .expire = beacon_expire,
    .counts = beacon_counts,
    .daily = beacon_daily,
};
