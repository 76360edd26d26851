/*
 * src/store/pg/stats.c — the statistics area on PostgreSQL (store/stats.h;
 * the SQL of store/sqlite/stats.c, whose comments say why).
 *
 * Two differences from SQLite's: ε and δ travel as text (the shortest
 * decimal that reads back as the same double, PostgreSQL's float8 output
 * since version 12), and the member scan reads MEMBER_PAGE members per
 * statement, after the last id seen, so a million members never sit in one
 * result (the caller's snapshot keeps the pages one view).
 */
#include "store/pg/pg.h"
#include "store/stats_backend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMBER_PAGE 1000
#define DOUBLE_TEXT 32 /* "%.17g" of any double, with its NUL */

enum {
	S_SECRET_GET = CU_PG_SLOTS_STATS,
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

static cu_result stats_secret_get(cu_store *s, unsigned char *sealed, size_t cap, size_t *len,
                                  bool *found)
{
	return cu_pg_sealed(s, S_SECRET_GET, "SELECT sealed FROM stats_secret WHERE id = 1", NULL,
	                    sealed, cap, len, found);
}

static cu_result stats_secret_put(cu_store *s, const unsigned char *sealed, size_t len)
{
	cu_pg_params p = {0};

	cu_pg_param_bytes(&p, sealed, len);
	return cu_pg_insert(s, S_SECRET_PUT,
	                    "INSERT INTO stats_secret (id, sealed) VALUES (1, $1)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result stats_ledger_insert(cu_store *s, const cu_stats_ledger_row *row)
{
	cu_pg_params p = {0};
	char eps[DOUBLE_TEXT], delta[DOUBLE_TEXT];

	snprintf(eps, sizeof(eps), "%.17g", row->epsilon);
	snprintf(delta, sizeof(delta), "%.17g", row->delta);
	cu_pg_param_text(&p, row->release);
	cu_pg_param_text(&p, row->dataset);
	cu_pg_param_text(&p, row->period);
	cu_pg_param_text(&p, eps);
	cu_pg_param_text_or_null(&p, row->delta > 0 ? delta : NULL);
	cu_pg_param_text(&p, row->mechanism);
	cu_pg_param_text(&p, row->token);
	cu_pg_param_int(&p, row->at_us);
	return cu_pg_insert(s, S_LEDGER_INSERT,
	                    "INSERT INTO stats_ledger (release, dataset, period, epsilon, delta,"
	                    " mechanism, token, at_us) VALUES ($1, $2, $3, $4::float8, $5::float8,"
	                    " $6, $7, $8) ON CONFLICT DO NOTHING",
	                    &p);
}

/* A float8 column sent as text; false if it does not read as one. */
static bool column_double(const PGresult *r, int row, int col, double *out)
{
	const char *t;
	char *end;

	*out = 0;
	if (cu_pg_null(r, row, col))
		return true;
	t = PQgetvalue(r, row, col);
	errno = 0;
	*out = strtod(t, &end);
	return end != t && !*end && !errno && isfinite(*out);
}

static cu_result stats_spent(cu_store *s, const char *dataset, const char *period, double *epsilon)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, dataset);
	cu_pg_param_text(&p, period);
	rc = cu_pg_exec(s, S_SPENT,
	                "SELECT coalesce(sum(epsilon), 0)::text FROM stats_ledger"
	                " WHERE dataset = $1 AND period = $2",
	                &p, &res);
	if (rc)
		return rc;
	if (PQntuples(res) != 1 || !column_double(res, 0, 0, epsilon))
		rc = CU_ERR_STORE;
	PQclear(res);
	return rc;
}

static cu_result read_ledger(const PGresult *r, int i, cu_stats_ledger_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->release, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->dataset, CU_STATS_DATASET_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->period, CU_STATS_PERIOD_LEN);
	if (!rc && (!column_double(r, i, 3, &out->epsilon) || !column_double(r, i, 4, &out->delta)))
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_pg_copy_text(r, i, 5, out->mechanism, CU_STATS_MECHANISM_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 6, out->token, CU_STATS_TOKEN_MAX);
	out->at_us = cu_pg_int(r, i, 7);
	return rc;
}

#define LEDGER_COLS "release, dataset, period, epsilon::text, delta::text, mechanism, token, at_us"

static cu_result stats_ledger_list(cu_store *s, const char *period, cu_store_stats_ledger_fn fn,
                                   void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	if (period) {
		cu_pg_param_text(&p, period);
		rc = cu_pg_exec(s, S_LEDGER_LIST,
		                "SELECT " LEDGER_COLS " FROM stats_ledger WHERE period = $1"
		                " ORDER BY rowid",
		                &p, &res);
	} else {
		rc = cu_pg_exec(s, S_LEDGER_LIST_ALL,
		                "SELECT " LEDGER_COLS " FROM stats_ledger ORDER BY rowid", NULL,
		                &res);
	}
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_stats_ledger_row, read_ledger, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result stats_release_insert(cu_store *s, const cu_stats_release_row *row,
                                      const char *json)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->release);
	cu_pg_param_text(&p, row->dataset);
	cu_pg_param_text(&p, row->period);
	cu_pg_param_text(&p, row->key);
	cu_pg_param_text(&p, json);
	cu_pg_param_int(&p, row->at_us);
	return cu_pg_insert(s, S_RELEASE_INSERT,
	                    "INSERT INTO stats_releases (release, dataset, period, query_key,"
	                    " released, at_us) VALUES ($1, $2, $3, $4, $5, $6)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

#define RELEASE_COLS "release, dataset, period, query_key, released, at_us"

static cu_result stats_release_find(cu_store *s, const char *dataset, const char *period,
                                    const char *key, const char *release, cu_stats_release_row *out,
                                    char **json, bool *found)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	if (release) {
		cu_pg_param_text(&p, release);
		rc = cu_pg_exec(s, S_RELEASE_GET,
		                "SELECT " RELEASE_COLS " FROM stats_releases WHERE release = $1",
		                &p, &res);
	} else {
		cu_pg_param_text(&p, dataset);
		cu_pg_param_text(&p, period);
		cu_pg_param_text(&p, key);
		rc = cu_pg_exec(s, S_RELEASE_FIND,
		                "SELECT " RELEASE_COLS " FROM stats_releases WHERE dataset = $1"
		                " AND period = $2 AND query_key = $3 ORDER BY rowid DESC LIMIT 1",
		                &p, &res);
	}
	if (rc)
		return rc;
	if (PQntuples(res) == 1) {
		rc = cu_pg_copy_text(res, 0, 0, out->release, CU_ID_LEN);
		if (!rc)
			rc = cu_pg_copy_text(res, 0, 1, out->dataset, CU_STATS_DATASET_MAX);
		if (!rc)
			rc = cu_pg_copy_text(res, 0, 2, out->period, CU_STATS_PERIOD_LEN);
		if (!rc)
			rc = cu_pg_copy_text(res, 0, 3, out->key, CU_STATS_KEY_LEN);
		out->at_us = cu_pg_int(res, 0, 5);
		if (!rc && cu_pg_null(res, 0, 4))
			rc = CU_ERR_STORE;
		if (!rc && !(*json = strdup(PQgetvalue(res, 0, 4))))
			rc = CU_ERR_NOMEM;
		*found = !rc;
	}
	PQclear(res);
	return rc;
}

static cu_result stats_member_count(cu_store *s, uint64_t *n)
{
	return cu_pg_count(s, S_MEMBER_COUNT,
	                   "SELECT count(*) FROM members WHERE erased_us IS NULL", NULL, n);
}

/* A row as the scan's callback sees it: pointers into the result, valid until it is cleared. */
static cu_result read_member(const PGresult *r, int i, cu_stats_member *m)
{
	memset(m, 0, sizeof(*m));
	if (cu_pg_null(r, i, 0) || cu_pg_null(r, i, 2) ||
	    PQgetlength(r, i, 2) != CU_VAULT_WRAPPEDBYTES)
		return CU_ERR_STORE;
	m->id = PQgetvalue(r, i, 0);
	m->key_id = (uint32_t)cu_pg_int(r, i, 1);
	m->wrapped = (const unsigned char *)PQgetvalue(r, i, 2);
	if (!cu_pg_null(r, i, 3)) {
		m->fields = (const unsigned char *)PQgetvalue(r, i, 3);
		m->fields_len = (size_t)PQgetlength(r, i, 3);
	}
	m->created_us = cu_pg_int(r, i, 4);
	m->accepted = cu_pg_null(r, i, 5) ? NULL : PQgetvalue(r, i, 5);
	m->consents = cu_pg_null(r, i, 6) ? "" : PQgetvalue(r, i, 6);
	return CU_OK;
}

static cu_result stats_member_scan(cu_store *s, cu_store_stats_member_fn fn, void *ud)
{
	char after[CU_ID_LEN + 1] = "";
	bool more = true;
	cu_result rc = CU_OK;

	while (more && !rc) {
		cu_pg_params p = {0};
		PGresult *res;
		int n;

		cu_pg_param_text(&p, after);
		cu_pg_param_int(&p, MEMBER_PAGE);
		rc = cu_pg_exec(
		    s, S_MEMBER_SCAN,
		    /* The latest choice per purpose: its highest rowid (consents_current). */
		    "SELECT m.id, m.key_id, m.wrapped, m.fields, m.created_us, a.version,"
		    " (SELECT string_agg(c.target || '=' || c.granted, ',') FROM consents c"
		    "   WHERE c.member = m.id AND c.kind = 'purpose' AND c.rowid ="
		    "   (SELECT max(c2.rowid) FROM consents c2 WHERE c2.member = m.id"
		    "     AND c2.kind = 'purpose' AND c2.target = c.target))"
		    " FROM members m LEFT JOIN accepted a ON a.member = m.id"
		    " WHERE m.erased_us IS NULL AND m.id > $1 ORDER BY m.id LIMIT $2",
		    &p, &res);
		if (rc)
			break;
		n = PQntuples(res);
		more = n == MEMBER_PAGE;
		for (int i = 0; i < n && !rc; i++) {
			cu_stats_member m;

			rc = read_member(res, i, &m);
			if (!rc && fn(ud, &m)) {
				more = false;
				break;
			}
			if (!rc && i == n - 1)
				rc = cu_pg_copy_text(res, i, 0, after, CU_ID_LEN);
		}
		PQclear(res);
	}
	return rc;
}

const struct cu_store_stats_ops cu_pg_stats_ops = {
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
