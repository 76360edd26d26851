/*
 * src/store/pg/limits.c — the shared attempt limits on PostgreSQL
 * (store/limits.h; the rules are store/limits.c's, the SQL that of
 * store/sqlite/limits.c).  Here several servers use them: a key's row is
 * locked FOR UPDATE, so two servers counting one key follow one another,
 * and none of it waits for the audit chain's write lock.
 */
#include "store/limits_backend.h"
#include "store/pg/pg.h"

#include <string.h>

#include "store/backend.h"

enum {
	S_PURGE = CU_PG_SLOTS_LIMITS,
	S_MAKE,
	S_GET,
	S_PUT,
};

static cu_result limits_purge(cu_store *s, int64_t now_us)
{
	cu_pg_params p = {0};

	/*
	 * Rows another reservation holds are left for a later purge: waiting for
	 * them while holding the rows deleted so far could close a ring of waits.
	 */
	cu_pg_param_int(&p, now_us);
	return cu_pg_write(s, S_PURGE,
	                   "DELETE FROM rate_limits WHERE key IN (SELECT key FROM rate_limits"
	                   " WHERE expires_us < $1 FOR UPDATE SKIP LOCKED)",
	                   &p, NULL);
}

static cu_result limits_lock(cu_store *s, const unsigned char key[CU_LIMITS_KEY_LEN],
                             int64_t now_us, int64_t expires_us, cu_store_limit_row *out)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	/* Made if missing: a second maker waits for the first, then finds the row. */
	cu_pg_param_bytes(&p, key, CU_LIMITS_KEY_LEN);
	cu_pg_param_int(&p, now_us);
	cu_pg_param_int(&p, expires_us);
	rc = cu_pg_write(s, S_MAKE,
	                 "INSERT INTO rate_limits (key, window_start_us, attempts, locked_until_us,"
	                 " expires_us) VALUES ($1, $2, 0, 0, $3) ON CONFLICT (key) DO NOTHING",
	                 &p, NULL);
	if (rc)
		return rc;
	memset(&p, 0, sizeof(p));
	cu_pg_param_bytes(&p, key, CU_LIMITS_KEY_LEN);
	rc = cu_pg_exec(s, S_GET,
	                "SELECT window_start_us, attempts, locked_until_us, expires_us"
	                " FROM rate_limits WHERE key = $1 FOR UPDATE",
	                &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) != 1 || PQnfields(res) != 4) {
		PQclear(res);
		return CU_ERR_STORE;
	}
	memcpy(out->key, key, CU_LIMITS_KEY_LEN);
	out->window_start_us = cu_pg_int(res, 0, 0);
	out->attempts = cu_pg_int(res, 0, 1);
	out->locked_until_us = cu_pg_int(res, 0, 2);
	out->expires_us = cu_pg_int(res, 0, 3);
	PQclear(res);
	return CU_OK;
}

static cu_result limits_put(cu_store *s, const cu_store_limit_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_bytes(&p, row->key, CU_LIMITS_KEY_LEN);
	cu_pg_param_int(&p, row->window_start_us);
	cu_pg_param_int(&p, row->attempts);
	cu_pg_param_int(&p, row->locked_until_us);
	cu_pg_param_int(&p, row->expires_us);
	return cu_pg_write_one(s, S_PUT,
	                       "UPDATE rate_limits SET window_start_us = $2, attempts = $3,"
	                       " locked_until_us = $4, expires_us = $5 WHERE key = $1",
	                       &p, CU_ERR_STORE);
}

const struct cu_store_limits_ops cu_pg_limits_ops = {
    .shared = true,
    .begin = cu_pg_begin_unlocked,
    .purge = limits_purge,
    .lock = limits_lock,
    .put = limits_put,
};
