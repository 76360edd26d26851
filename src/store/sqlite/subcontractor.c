/*
 * src/store/sqlite/subcontractor.c — the subcontractor area on SQLite: subcontractors
 * with their supervision reviews, and the contract each subcontractor token
 * is bound to (tables made by migration 6, sqlite/third_party.c).
 */
#include "store/subcontractor_backend.h"
#include "store/sqlite/sqlite.h"

#include <stdio.h>
#include <string.h>

enum {
	S_SUB_INSERT = CU_SQLITE_SLOTS_SUBCONTRACTORS,
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

/* The area's slots end where the next area's begin. */
_Static_assert((int)S_END_ <= (int)CU_SQLITE_SLOTS_REQUESTS,
               "subcontractor statements overflow their slots");

#define SUB_COLS                                                                                   \
	"id, name, contact, fields, purposes, measures, start_us, end_us, created_by, created_us"
#define REV_COLS "id, subcontractor, due_us, findings, done_us, created_by, created_us"

/* ---- subcontractors ----------------------------------------------------- */

static cu_result read_sub(sqlite3_stmt *st, void *p)
{
	cu_subcontractor_row *out = p;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->name, CU_REGISTRY_NAME_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->contact, CU_REGISTRY_CONTACT_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->fields_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 4, out->purposes_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 5, out->measures, CU_REGISTRY_MEASURES_MAX);
	out->start_us = sqlite3_column_int64(st, 6);
	out->end_us = sqlite3_column_int64(st, 7);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 8, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = sqlite3_column_int64(st, 9);
	return rc;
}

static cu_result subcontractor_insert(cu_store *s, const cu_subcontractor_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SUB_INSERT,
	                                   "INSERT INTO subcontractors (" SUB_COLS ")"
	                                   " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->name);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->contact);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->fields_text);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->purposes_text);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->measures);
	b = b ? b : sqlite3_bind_int64(st, 7, row->start_us);
	b = b ? b : sqlite3_bind_int64(st, 8, row->end_us);
	b = b ? b : cu_sqlite_bind_text(st, 9, row->created_by);
	b = b ? b : sqlite3_bind_int64(st, 10, row->created_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_SUB_GET, "SELECT " SUB_COLS " FROM subcontractors WHERE id = ?1", &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, id, NULL)))
		return rc;
	return cu_sqlite_one_row(st, read_sub, out);
}

static cu_result subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud)
{
	cu_subcontractor_row row;
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_SUB_LIST, "SELECT " SUB_COLS " FROM subcontractors ORDER BY id", &st);

	if (rc)
		return rc;
	CU_SQLITE_WALK(st, read_sub, row, fn, ud, rc);
	return rc;
}

/* ---- supervision reviews ------------------------------------------------ */

static cu_result read_rev(sqlite3_stmt *st, void *p)
{
	cu_review_row *out = p;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->subcontractor, CU_REGISTRY_ID_MAX);
	out->due_us = sqlite3_column_int64(st, 2);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 3, out->findings, CU_REGISTRY_TEXT_MAX);
	out->done_us = cu_sqlite_column_time(st, 4);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 5, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = sqlite3_column_int64(st, 6);
	return rc;
}

static cu_result review_insert(cu_store *s, const cu_review_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_REV_INSERT,
	                                   "INSERT INTO subcontractor_reviews (" REV_COLS ")"
	                                   " VALUES (?1,?2,?3,?4,?5,?6,?7)",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->subcontractor);
	b = b ? b : sqlite3_bind_int64(st, 3, row->due_us);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->findings);
	b = b ? b : cu_sqlite_bind_time(st, 5, row->done_us);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->created_by);
	b = b ? b : sqlite3_bind_int64(st, 7, row->created_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result review_get(cu_store *s, const char *id, cu_review_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_REV_GET, "SELECT " REV_COLS " FROM subcontractor_reviews WHERE id = ?1", &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, id, NULL)))
		return rc;
	return cu_sqlite_one_row(st, read_rev, out);
}

static cu_result review_update(cu_store *s, const char *id, const char *findings, int64_t done_us)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_REV_UPDATE,
	                        "UPDATE subcontractor_reviews SET findings = ?2, done_us = ?3"
	                        " WHERE id = ?1",
	                        &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, id);
	b = b ? b : cu_sqlite_bind_text(st, 2, findings);
	b = b ? b : cu_sqlite_bind_time(st, 3, done_us);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn,
                             void *ud)
{
	cu_review_row row;
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_REV_LIST,
	                                   "SELECT " REV_COLS " FROM subcontractor_reviews"
	                                   " WHERE subcontractor = ?1"
	                                   " ORDER BY due_us, rowid",
	                                   &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, subcontractor, NULL)))
		return rc;
	CU_SQLITE_WALK(st, read_rev, row, fn, ud, rc);
	return rc;
}

static cu_result review_overdue(cu_store *s, int64_t due_before_us, cu_store_review_fn fn, void *ud)
{
	cu_review_row row;
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_REV_OVERDUE,
	                        "SELECT " REV_COLS " FROM subcontractor_reviews"
	                        " WHERE done_us IS NULL AND due_us < ?1 ORDER BY due_us, rowid",
	                        &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, due_before_us)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_WALK(st, read_rev, row, fn, ud, rc);
	return rc;
}

/* ---- contract-bound tokens ---------------------------------------------- */

static cu_result token_contract_set(cu_store *s, const char *token_id, const char *contract)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_TC_SET, "INSERT INTO token_contracts (token, contract) VALUES (?1, ?2)", &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, token_id);
	b = b ? b : cu_sqlite_bind_text(st, 2, contract);
	return cu_sqlite_run_bound(st, b);
}

static cu_result read_contract(sqlite3_stmt *st, void *out)
{
	return cu_sqlite_copy_text(st, 0, out, CU_REGISTRY_ID_MAX);
}

static cu_result token_contract_get(cu_store *s, const char *token_id,
                                    char contract[CU_REGISTRY_ID_MAX + 1])
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_TC_GET, "SELECT contract FROM token_contracts WHERE token = ?1", &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, token_id, NULL)))
		return rc;
	return cu_sqlite_one_row(st, read_contract, contract);
}

const struct cu_store_subcontractor_ops cu_sqlite_subcontractor_ops = {
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
