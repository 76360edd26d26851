/*
 * src/store/sqlite/third_party.c — the third-party area on SQLite: third parties, the
 * provisions made to them and members' own shares.  No personal values:
 * names of fields, ids and times only.  The migration that made this
 * area's tables made the subcontractor area's too (one migration, as
 * shipped: migrations never change once released).
 */
#include "store/third_party_backend.h"
#include "store/sqlite/sqlite.h"

#include <stdio.h>
#include <string.h>

/*
 * Migration 6: the registries — third parties, provisions, shares,
 * subcontractors, reviews and contract-bound tokens (sqlite/subcontractor.c
 * reads and writes the last three).
 */
const char cu_sqlite_migration_registries[] =
    "CREATE TABLE third_parties ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  purpose TEXT NOT NULL,"
    "  fields TEXT NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL"
    ");"
    /*
	 * A record of every provision made; what was handed over is named, never
	 * copied.  Kept at least three years (3 x 366 days): the triggers refuse
	 * any change, and a deletion of a younger row, whatever the caller.
	 */
    "CREATE TABLE provisions ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  third_party TEXT NOT NULL REFERENCES third_parties(id),"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  fields TEXT NOT NULL,"
    "  basis TEXT NOT NULL,"
    "  exception TEXT NOT NULL,"
    "  exception_record TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX provisions_member ON provisions(member, rowid);"
    "CREATE INDEX provisions_time ON provisions(time_us);"
    "CREATE TRIGGER provisions_no_update BEFORE UPDATE ON provisions"
    " BEGIN SELECT RAISE(ABORT, 'provisions are never changed'); END;"
    "CREATE TRIGGER provisions_keep BEFORE DELETE ON provisions"
    " WHEN OLD.time_us > (CAST(strftime('%s', 'now') AS INTEGER) - 94867200) * 1000000"
    " BEGIN SELECT RAISE(ABORT, 'provisions are kept three years'); END;"
    /* A member's own links: only the hash of the link token is kept. */
    "CREATE TABLE shares ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  hash BLOB NOT NULL UNIQUE,"
    "  fields TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL,"
    "  revoked_us INTEGER"
    ");"
    "CREATE INDEX shares_member ON shares(member, rowid);"
    "CREATE TABLE subcontractors ("
    "  id TEXT PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  contact TEXT NOT NULL,"
    "  fields TEXT NOT NULL,"
    "  purposes TEXT NOT NULL,"
    "  measures TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  created_by TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL"
    ");"
    "CREATE TABLE subcontractor_reviews ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  subcontractor TEXT NOT NULL REFERENCES subcontractors(id),"
    "  due_us INTEGER NOT NULL,"
    "  findings TEXT NOT NULL,"
    "  done_us INTEGER,"
    "  created_by TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX subcontractor_reviews_sub ON subcontractor_reviews(subcontractor, due_us);"
    "CREATE INDEX subcontractor_reviews_open ON subcontractor_reviews(due_us)"
    " WHERE done_us IS NULL;"
    "CREATE TABLE token_contracts ("
    "  token TEXT PRIMARY KEY REFERENCES tokens(id),"
    "  contract TEXT NOT NULL REFERENCES subcontractors(id)"
    ");";

enum {
	S_TP_INSERT = CU_SQLITE_SLOTS_THIRD_PARTIES,
	S_TP_GET,
	S_TP_LIST,
	S_PROV_INSERT,
	S_PROV_LIST,
	S_PROV_PURGE,
	S_PROV_CENSUS,
	S_SHARE_INSERT,
	S_SHARE_GET,
	S_SHARE_REVOKE,
	S_SHARE_LIST,
	S_END_
};

/* The area's slots end where the next area's begin. */
_Static_assert((int)S_END_ <= (int)CU_SQLITE_SLOTS_SUBCONTRACTORS,
               "third-party statements overflow their slots");

#define TP_COLS "id, name, contact, purpose, fields, created_by, created_us"
#define PROV_COLS                                                                                  \
	"id, third_party, member, fields, basis, exception, exception_record, actor, role, time_us"
#define SHARE_COLS "id, member, hash, fields, created_us, expires_us, revoked_us"

/* ---- third parties ------------------------------------------------------ */

static cu_result read_tp(sqlite3_stmt *st, void *p)
{
	cu_third_party_row *out = p;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->name, CU_REGISTRY_NAME_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->contact, CU_REGISTRY_CONTACT_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->purpose, CU_REGISTRY_TEXT_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 4, out->fields_text, CU_REGISTRY_LIST_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 5, out->created_by, CU_REGISTRY_ACTOR_MAX);
	out->created_us = sqlite3_column_int64(st, 6);
	return rc;
}

static cu_result third_party_insert(cu_store *s, const cu_third_party_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_TP_INSERT, "INSERT INTO third_parties (" TP_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->name);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->contact);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->purpose);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->fields_text);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->created_by);
	b = b ? b : sqlite3_bind_int64(st, 7, row->created_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result third_party_get(cu_store *s, const char *id, cu_third_party_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_TP_GET, "SELECT " TP_COLS " FROM third_parties WHERE id = ?1", &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, id, NULL)))
		return rc;
	return cu_sqlite_one_row(st, read_tp, out);
}

static cu_result third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud)
{
	cu_third_party_row row;
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_TP_LIST, "SELECT " TP_COLS " FROM third_parties ORDER BY id", &st);

	if (rc)
		return rc;
	CU_SQLITE_WALK(st, read_tp, row, fn, ud, rc);
	return rc;
}

/* ---- provisions --------------------------------------------------------- */

/* "a,b,c" -> the row's array of names. */
static cu_result split_fields(const char *text, cu_provision_row *out)
{
	out->nfields = 0;
	while (*text) {
		size_t n = strcspn(text, ",");

		if (n == 0 || n > CU_POLICY_ID_MAX || out->nfields >= CU_POLICY_FIELDS_MAX)
			return CU_ERR_STORE;
		memcpy(out->fields[out->nfields], text, n);
		out->fields[out->nfields][n] = '\0';
		out->nfields++;
		text += n;
		if (*text == ',')
			text++;
	}
	return out->nfields ? CU_OK : CU_ERR_STORE;
}

static cu_result join_fields(const cu_provision_row *row, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < row->nfields; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? "," : "", row->fields[i]);

		if (n < 0 || (size_t)n >= len - o || !row->fields[i][0] ||
		    strchr(row->fields[i], ','))
			return CU_ERR_INVALID_ARGUMENT;
		o += (size_t)n;
	}
	return CU_OK;
}

static cu_result read_prov(sqlite3_stmt *st, void *p)
{
	cu_provision_row *out = p;
	char fields[CU_POLICY_FIELDS_MAX * (CU_POLICY_ID_MAX + 1) + 1];
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->third_party, CU_REGISTRY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, fields, sizeof(fields) - 1);
	if (!rc)
		rc = split_fields(fields, out);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 4, out->basis, sizeof(out->basis) - 1);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 5, out->exception, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 6, out->exception_record, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 7, out->actor, CU_REGISTRY_ACTOR_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 8, out->role, sizeof(out->role) - 1);
	out->time_us = sqlite3_column_int64(st, 9);
	return rc;
}

static cu_result provision_insert(cu_store *s, const cu_provision_row *row)
{
	char fields[CU_POLICY_FIELDS_MAX * (CU_POLICY_ID_MAX + 1) + 1];
	sqlite3_stmt *st;
	cu_result rc = join_fields(row, fields, sizeof(fields));
	int b;

	if (rc)
		return rc;
	rc = cu_sqlite_area_stmt(
	    s, S_PROV_INSERT,
	    "INSERT INTO provisions (" PROV_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)", &st);
	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->third_party);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 4, fields);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->basis);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->exception);
	b = b ? b : cu_sqlite_bind_text(st, 7, row->exception_record);
	b = b ? b : cu_sqlite_bind_text(st, 8, row->actor);
	b = b ? b : cu_sqlite_bind_text(st, 9, row->role);
	b = b ? b : sqlite3_bind_int64(st, 10, row->time_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result provision_list(cu_store *s, const char *member, cu_store_provision_fn fn, void *ud)
{
	cu_provision_row row;
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_PROV_LIST, "SELECT " PROV_COLS " FROM provisions WHERE member = ?1 ORDER BY rowid",
	    &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, member, NULL)))
		return rc;
	CU_SQLITE_WALK(st, read_prov, row, fn, ud, rc);
	return rc;
}

static cu_result provision_purge(cu_store *s, int64_t before_us, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_PROV_PURGE, "DELETE FROM provisions WHERE time_us < ?1", &st);

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	rc = cu_sqlite_run_bound(st, sqlite3_bind_int64(st, 1, before_us));
	*n = rc ? 0 : (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

static cu_result provision_census(cu_store *s, int64_t before_us, uint64_t *n, int64_t *oldest_us)
{
	sqlite3_stmt *st;
	/* sum() and min() are NULL over no rows: read as 0. */
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_PROV_CENSUS, "SELECT sum(time_us < ?1), min(time_us) FROM provisions", &st);
	int r;

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, before_us) != SQLITE_OK) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	r = sqlite3_step(st);
	*n = r == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	*oldest_us = r == SQLITE_ROW ? sqlite3_column_int64(st, 1) : 0;
	rc = r == SQLITE_ROW ? CU_OK : cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	cu_sqlite_done(st);
	return rc;
}

/* ---- shares ------------------------------------------------------------- */

static cu_result read_share(sqlite3_stmt *st, void *p)
{
	cu_share_row *out = p;
	const void *h;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	h = sqlite3_column_blob(st, 2);
	if (!rc && (!h || sqlite3_column_bytes(st, 2) != CU_STORE_HASHBYTES))
		rc = CU_ERR_STORE;
	if (!rc)
		memcpy(out->hash, h, CU_STORE_HASHBYTES);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->fields_text, CU_REGISTRY_LIST_MAX);
	out->created_us = sqlite3_column_int64(st, 4);
	out->expires_us = sqlite3_column_int64(st, 5);
	out->revoked_us = cu_sqlite_column_time(st, 6);
	return rc;
}

static cu_result share_insert(cu_store *s, const cu_share_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_SHARE_INSERT, "INSERT INTO shares (" SHARE_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : sqlite3_bind_blob(st, 3, row->hash, CU_STORE_HASHBYTES, SQLITE_STATIC);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->fields_text);
	b = b ? b : sqlite3_bind_int64(st, 5, row->created_us);
	b = b ? b : sqlite3_bind_int64(st, 6, row->expires_us);
	b = b ? b : cu_sqlite_bind_time(st, 7, row->revoked_us);
	return cu_sqlite_run_bound(st, b);
}

static cu_result share_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                   cu_share_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_SHARE_GET, "SELECT " SHARE_COLS " FROM shares WHERE hash = ?1", &st);

	if (rc)
		return rc;
	if (sqlite3_bind_blob(st, 1, hash, CU_STORE_HASHBYTES, SQLITE_STATIC)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_share, out);
}

static cu_result share_revoke(cu_store *s, const char *member, const char *id, int64_t when_us)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SHARE_REVOKE,
	                                   /* Revoking twice keeps the first time. */
	                                   "UPDATE shares SET revoked_us = COALESCE(revoked_us, ?3)"
	                                   " WHERE member = ?1 AND id = ?2",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, member);
	b = b ? b : cu_sqlite_bind_text(st, 2, id);
	b = b ? b : sqlite3_bind_int64(st, 3, when_us);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud)
{
	cu_share_row row;
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_SHARE_LIST,
	                                   "SELECT " SHARE_COLS " FROM shares WHERE member = ?1"
	                                   " ORDER BY rowid DESC",
	                                   &st);

	if (rc || (rc = cu_sqlite_bind_keys(st, member, NULL)))
		return rc;
	CU_SQLITE_WALK(st, read_share, row, fn, ud, rc);
	return rc;
}

const struct cu_store_third_party_ops cu_sqlite_third_party_ops = {
    .third_party_insert = third_party_insert,
    .third_party_get = third_party_get,
    .third_party_list = third_party_list,
    .provision_insert = provision_insert,
    .provision_list = provision_list,
    .provision_purge = provision_purge,
    .provision_census = provision_census,
    .share_insert = share_insert,
    .share_get_by_hash = share_get_by_hash,
    .share_revoke = share_revoke,
    .share_list = share_list,
};
