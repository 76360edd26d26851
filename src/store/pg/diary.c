/*
 * src/store/pg/diary.c — members' diaries on PostgreSQL (store/diary.h; the
 * SQL of store/sqlite/diary.c, whose comments say why).
 */
#include "store/diary_backend.h"
#include "store/pg/pg.h"

#include <string.h>

enum {
	S_INSERT = CU_PG_SLOTS_DIARY,
	S_GET,
	S_UPDATE,
	S_DELETE,
	S_DELETE_MEMBER,
	S_ROWID,
	S_LIST_NEWEST,
	S_LIST_BEFORE,
	S_COUNT,
};

#define DIARY_COLS "id, member, title, body, created_us, updated_us"

static cu_result read_row(const PGresult *r, int i, cu_diary_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_blob(r, i, 2, &out->title, &out->title_len);
	if (!rc)
		rc = cu_pg_copy_blob(r, i, 3, &out->body, &out->body_len);
	out->created_us = cu_pg_int(r, i, 4);
	out->updated_us = cu_pg_int(r, i, 5);
	if (rc)
		cu_diary_row_release(out);
	return rc;
}

static cu_result read_one(const PGresult *r, int i, void *out)
{
	return read_row(r, i, out);
}

static cu_result diary_insert(cu_store *s, const cu_diary_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_bytes(&p, row->title, row->title_len);
	cu_pg_param_bytes(&p, row->body, row->body_len);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_int(&p, row->updated_us);
	return cu_pg_insert(s, S_INSERT,
	                    "INSERT INTO diaries (" DIARY_COLS ") VALUES ($1, $2, $3, $4, $5, $6)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result diary_get(cu_store *s, const char *member, const char *id, cu_diary_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_GET,
	                     "SELECT " DIARY_COLS " FROM diaries WHERE member = $1 AND id = $2", &p,
	                     read_one, out);
}

static cu_result diary_update(cu_store *s, const cu_diary_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->id);
	cu_pg_param_bytes(&p, row->title, row->title_len);
	cu_pg_param_bytes(&p, row->body, row->body_len);
	cu_pg_param_int(&p, row->updated_us);
	return cu_pg_write_one(s, S_UPDATE,
	                       "UPDATE diaries SET title = $3, body = $4, updated_us = $5"
	                       " WHERE member = $1 AND id = $2",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result diary_remove(cu_store *s, const char *member, const char *id)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	cu_pg_param_text(&p, id);
	return cu_pg_write_one(s, S_DELETE, "DELETE FROM diaries WHERE member = $1 AND id = $2", &p,
	                       CU_ERR_NOT_FOUND);
}

static cu_result diary_remove_member(cu_store *s, const char *member, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	return cu_pg_write(s, S_DELETE_MEMBER, "DELETE FROM diaries WHERE member = $1", &p, n);
}

static cu_result read_rowid(const PGresult *r, int i, void *out)
{
	*(int64_t *)out = cu_pg_int(r, i, 0);
	return CU_OK;
}

static cu_result diary_list(cu_store *s, const char *member, const char *before, size_t limit,
                            cu_store_diary_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	int64_t from = 0;
	cu_result rc;

	cu_pg_param_text(&p, member);
	if (before) {
		cu_pg_param_text(&p, before);
		rc = cu_pg_one_row(s, S_ROWID,
		                   "SELECT rowid FROM diaries WHERE member = $1 AND id = $2", &p,
		                   read_rowid, &from);
		if (rc)
			return rc;
		p.n = 1;
	}
	cu_pg_param_int(&p, cu_pg_limit(limit));
	if (before) {
		cu_pg_param_int(&p, from);
		rc =
		    cu_pg_exec(s, S_LIST_BEFORE,
		               "SELECT " DIARY_COLS " FROM diaries WHERE member = $1 AND rowid < $3"
		               " ORDER BY rowid DESC LIMIT $2",
		               &p, &res);
	} else {
		rc = cu_pg_exec(s, S_LIST_NEWEST,
		                "SELECT " DIARY_COLS " FROM diaries WHERE member = $1"
		                " ORDER BY rowid DESC LIMIT $2",
		                &p, &res);
	}
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_diary_row, read_row, cu_diary_row_release, fn, ud);
	return rc;
}

static cu_result diary_count(cu_store *s, const char *member, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	return cu_pg_count(s, S_COUNT, "SELECT count(*) FROM diaries WHERE member = $1", &p, n);
}

const struct cu_store_diary_ops cu_pg_diary_ops = {
    .insert = diary_insert,
    .get = diary_get,
    .update = diary_update,
    .remove = diary_remove,
    .remove_member = diary_remove_member,
    .list = diary_list,
    .count = diary_count,
};
