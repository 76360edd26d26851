/*
 * src/store/sqlite/diary.c — the diary area on SQLite: members' diary entries,
 * title and body sealed, listed newest first by the member's own index.
 */
#include "store/diary_backend.h"
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

const char cu_sqlite_migration_diary[] =
    /*
	 * rowid orders a member's entries (newest first is rowid DESC); the
	 * random id is what leaves the store, so no id tells how many entries
	 * exist.  Erasure deletes the rows (secure_delete overwrites them).
	 */
    "CREATE TABLE diaries ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  title BLOB NOT NULL,"
    "  body BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX diaries_member ON diaries(member, rowid);";

enum {
	S_INSERT = CU_SQLITE_SLOTS_DIARY,
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

static cu_result read_row(sqlite3_stmt *st, cu_diary_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_blob(st, 2, &out->title, &out->title_len);
	if (!rc)
		rc = cu_sqlite_copy_blob(st, 3, &out->body, &out->body_len);
	out->created_us = sqlite3_column_int64(st, 4);
	out->updated_us = sqlite3_column_int64(st, 5);
	if (rc)
		cu_diary_row_release(out);
	return rc;
}

/* Binds (member, id) as ?1, ?2; the statement is reset on failure. */
static cu_result bind_member_id(sqlite3_stmt *st, const char *member, const char *id)
{
	if (cu_sqlite_bind_text(st, 1, member) || cu_sqlite_bind_text(st, 2, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return CU_OK;
}

static cu_result diary_insert(cu_store *s, const cu_diary_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_INSERT, "INSERT INTO diaries (" DIARY_COLS ") VALUES (?1,?2,?3,?4,?5,?6)", &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : sqlite3_bind_blob64(st, 3, row->title, row->title_len, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_blob64(st, 4, row->body, row->body_len, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_int64(st, 5, row->created_us);
	b = b ? b : sqlite3_bind_int64(st, 6, row->updated_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result diary_get(cu_store *s, const char *member, const char *id, cu_diary_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_GET, "SELECT " DIARY_COLS " FROM diaries WHERE member = ?1 AND id = ?2", &st);
	int r;

	if (rc)
		return rc;
	if ((rc = bind_member_id(st, member, id)))
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = read_row(st, out);
	else
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result diary_update(cu_store *s, const cu_diary_row *row)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_UPDATE,
	                        "UPDATE diaries SET title = ?3, body = ?4, updated_us = ?5"
	                        " WHERE member = ?1 AND id = ?2",
	                        &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->id);
	b = b ? b : sqlite3_bind_blob64(st, 3, row->title, row->title_len, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_blob64(st, 4, row->body, row->body_len, SQLITE_STATIC);
	b = b ? b : sqlite3_bind_int64(st, 5, row->updated_us);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result diary_remove(cu_store *s, const char *member, const char *id)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_DELETE, "DELETE FROM diaries WHERE member = ?1 AND id = ?2", &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, member);
	b = b ? b : cu_sqlite_bind_text(st, 2, id);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result diary_remove_member(cu_store *s, const char *member, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_DELETE_MEMBER, "DELETE FROM diaries WHERE member = ?1", &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	rc = cu_sqlite_run_bound(st, cu_sqlite_bind_text(st, 1, member));
	if (!rc)
		*n = (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

/* The rowid of the member's entry `id`: where a page that continues after it starts. */
static cu_result entry_rowid(cu_store *s, const char *member, const char *id, int64_t *rowid)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_ROWID, "SELECT rowid FROM diaries WHERE member = ?1 AND id = ?2", &st);
	int r;

	if (rc)
		return rc;
	if ((rc = bind_member_id(st, member, id)))
		return rc;
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*rowid = sqlite3_column_int64(st, 0);
	rc = r == SQLITE_ROW ? CU_OK : r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result diary_list(cu_store *s, const char *member, const char *before, size_t limit,
                            cu_store_diary_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int64_t from = 0;
	cu_result rc;
	int b;

	if (before) {
		rc = entry_rowid(s, member, before, &from);
		if (rc)
			return rc;
		rc = cu_sqlite_area_stmt(s, S_LIST_BEFORE,
		                         "SELECT " DIARY_COLS
		                         " FROM diaries WHERE member = ?1 AND rowid < ?3"
		                         " ORDER BY rowid DESC LIMIT ?2",
		                         &st);
	} else {
		rc = cu_sqlite_area_stmt(s, S_LIST_NEWEST,
		                         "SELECT " DIARY_COLS " FROM diaries WHERE member = ?1"
		                         " ORDER BY rowid DESC LIMIT ?2",
		                         &st);
	}
	if (rc)
		return rc;
	b = cu_sqlite_bind_text(st, 1, member);
	b = b ? b
	      : sqlite3_bind_int64(st, 2,
	                           limit > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)limit);
	if (!b && before)
		b = sqlite3_bind_int64(st, 3, from);
	if (b) {
		cu_sqlite_done(st);
		return cu_sqlite_map_rc(b);
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_diary_row, read_row, cu_diary_row_release, fn, ud);
	return rc;
}

static cu_result diary_count(cu_store *s, const char *member, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_COUNT, "SELECT count(*) FROM diaries WHERE member = ?1", &st);
	int r;

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	rc = r == SQLITE_ROW ? CU_OK : cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	cu_sqlite_done(st);
	return rc;
}

const struct cu_store_diary_ops cu_sqlite_diary_ops = {
    .insert = diary_insert,
    .get = diary_get,
    .update = diary_update,
    .remove = diary_remove,
    .remove_member = diary_remove_member,
    .list = diary_list,
    .count = diary_count,
};
