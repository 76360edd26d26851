/*
 * src/store/pg/subcontractor.c — subcontractors, their supervision reviews
 * and contract-bound tokens on PostgreSQL (store/subcontractor.h; the SQL of
 * store/sqlite/subcontractor.c).
 */
#include "store/pg/pg.h"
#include "store/subcontractor_backend.h"

#include <string.h>

enum {
	S_SUB_INSERT = CU_PG_SLOTS_SUBCONTRACTORS,
	S_SUB_GET,
	S_SUB_LIST,
	S_REV_INSERT,
	S_REV_GET,
	S_REV_UPDATE,
	S_REV_LIST,
	S_REV_OVERDUE,
	S_TC_SET,
	S_TC_GET,
	S_END_
};

_Static_assert((int)S_END_ <= (int)CU_PG_SLOTS_REQUESTS,
               "subcontractor statements overflow their slots");

#define SUB_COLS                                                                                   \
	"id, name, contact, fields, purposes, measures, start_us, end_us, created_by, created_us"
#define REV_COLS "id, subcontractor, due_us, findings, done_us, created_by, created_us"

static cu_result read_sub(const PGresult *r, int i, cu_subcontractor_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->name, CU_REGISTRY_NAME_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->contact, CU_REGISTRY_CONTACT_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->fields_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 4, out->purposes_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 5, out->measures, CU_REGISTRY_MEASURES_MAX);
	out->start_us = cu_pg_int(r, i, 6);
	out->end_us = cu_pg_int(r, i, 7);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 8, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = cu_pg_int(r, i, 9);
	return rc;
}

static cu_result read_sub_v(const PGresult *r, int i, void *out)
{
	return read_sub(r, i, out);
}

static cu_result subcontractor_insert(cu_store *s, const cu_subcontractor_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->name);
	cu_pg_param_text(&p, row->contact);
	cu_pg_param_text(&p, row->fields_text);
	cu_pg_param_text(&p, row->purposes_text);
	cu_pg_param_text(&p, row->measures);
	cu_pg_param_int(&p, row->start_us);
	cu_pg_param_int(&p, row->end_us);
	cu_pg_param_text(&p, row->created_by);
	cu_pg_param_int(&p, row->created_us);
	return cu_pg_insert(s, S_SUB_INSERT,
	                    "INSERT INTO subcontractors (" SUB_COLS ")"
	                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_SUB_GET, "SELECT " SUB_COLS " FROM subcontractors WHERE id = $1",
	                     &p, read_sub_v, out);
}

static cu_result subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud)
{
	PGresult *res;
	cu_result rc = cu_pg_exec(
	    s, S_SUB_LIST, "SELECT " SUB_COLS " FROM subcontractors ORDER BY id", NULL, &res);

	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_subcontractor_row, read_sub, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result read_rev(const PGresult *r, int i, cu_review_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->subcontractor, CU_REGISTRY_ID_MAX);
	out->due_us = cu_pg_int(r, i, 2);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 3, out->findings, CU_REGISTRY_TEXT_MAX);
	out->done_us = cu_pg_int(r, i, 4);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 5, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = cu_pg_int(r, i, 6);
	return rc;
}

static cu_result read_rev_v(const PGresult *r, int i, void *out)
{
	return read_rev(r, i, out);
}

static cu_result review_insert(cu_store *s, const cu_review_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->subcontractor);
	cu_pg_param_int(&p, row->due_us);
	cu_pg_param_text(&p, row->findings);
	cu_pg_param_time(&p, row->done_us);
	cu_pg_param_text(&p, row->created_by);
	cu_pg_param_int(&p, row->created_us);
	return cu_pg_insert(s, S_REV_INSERT,
	                    "INSERT INTO subcontractor_reviews (" REV_COLS ")"
	                    " VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result review_get(cu_store *s, const char *id, cu_review_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_REV_GET,
	                     "SELECT " REV_COLS " FROM subcontractor_reviews WHERE id = $1", &p,
	                     read_rev_v, out);
}

static cu_result review_update(cu_store *s, const char *id, const char *findings, int64_t done_us)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	cu_pg_param_text(&p, findings);
	cu_pg_param_time(&p, done_us);
	return cu_pg_write_one(s, S_REV_UPDATE,
	                       "UPDATE subcontractor_reviews SET findings = $2, done_us = $3"
	                       " WHERE id = $1",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result each_review(cu_result rc, PGresult *res, cu_store_review_fn fn, void *ud)
{
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_review_row, read_rev, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn,
                             void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_text(&p, subcontractor);
	cu_result rc = cu_pg_exec(s, S_REV_LIST,
	                          "SELECT " REV_COLS " FROM subcontractor_reviews"
	                          " WHERE subcontractor = $1 ORDER BY due_us, rowid",
	                          &p, &res);

	return each_review(rc, res, fn, ud);
}

static cu_result review_overdue(cu_store *s, int64_t due_before_us, cu_store_review_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_int(&p, due_before_us);
	cu_result rc = cu_pg_exec(s, S_REV_OVERDUE,
	                          "SELECT " REV_COLS " FROM subcontractor_reviews"
	                          " WHERE done_us IS NULL AND due_us < $1 ORDER BY due_us, rowid",
	                          &p, &res);

	return each_review(rc, res, fn, ud);
}

static cu_result token_contract_set(cu_store *s, const char *token_id, const char *contract)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, token_id);
	cu_pg_param_text(&p, contract);
	return cu_pg_insert(s, S_TC_SET,
	                    "INSERT INTO token_contracts (token, contract) VALUES ($1, $2)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result read_contract(const PGresult *r, int i, void *out)
{
	return cu_pg_copy_text(r, i, 0, out, CU_REGISTRY_ID_MAX);
}

static cu_result token_contract_get(cu_store *s, const char *token_id,
                                    char contract[CU_REGISTRY_ID_MAX + 1])
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, token_id);
	return cu_pg_one_row(s, S_TC_GET, "SELECT contract FROM token_contracts WHERE token = $1",
	                     &p, read_contract, contract);
}

const struct cu_store_subcontractor_ops cu_pg_subcontractor_ops = {
    .subcontractor_insert = subcontractor_insert,
    .subcontractor_get = subcontractor_get,
    .subcontractor_list = subcontractor_list,
    .review_insert = review_insert,
    .review_get = review_get,
    .review_update = review_update,
    .review_list = review_list,
    .review_overdue = review_overdue,
    .token_contract_set = token_contract_set,
    .token_contract_get = token_contract_get,
};
