/*
 * src/store/sqlite/request.c — the request area on SQLite: requests
 * (disclosure, amendment, erasure) with their histories, complaints with
 * their responses.  Free text is sealed before it gets here.
 */
#include "store/request_backend.h"
#include "store/sqlite/sqlite.h"

#include <stdlib.h>
#include <string.h>

const char cu_sqlite_migration_request[] =
    /*
     * decided_us / closed_us stay NULL while a case is open, so the
     * officer's open and overdue lists read a partial index by due date.
     * Rows are never deleted: an erased member's requests and complaints
     * remain as metadata (their texts are nulled, and were sealed under the
     * shredded key anyway).
     */
    "CREATE TABLE requests ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  type TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  received_us INTEGER NOT NULL,"
    "  due_us INTEGER NOT NULL,"
    "  hard_due_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  decided_us INTEGER,"
    "  decided_by TEXT NOT NULL DEFAULT '',"
    "  ground TEXT NOT NULL DEFAULT '',"
    "  fields TEXT NOT NULL DEFAULT '',"
    "  details BLOB,"
    "  token_hash BLOB,"
    "  certificate TEXT"
    ");"
    "CREATE INDEX requests_member ON requests(member, rowid);"
    "CREATE INDEX requests_open ON requests(due_us, rowid) WHERE decided_us IS NULL;"
    "CREATE TABLE request_events ("
    "  rowid INTEGER PRIMARY KEY,"
    "  request TEXT NOT NULL REFERENCES requests(id),"
    "  state TEXT NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  ground TEXT NOT NULL DEFAULT '',"
    "  note TEXT NOT NULL DEFAULT '',"
    "  reasons BLOB"
    ");"
    "CREATE INDEX request_events_request ON request_events(request, rowid);"
    "CREATE TABLE complaints ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  about TEXT NOT NULL,"
    "  state TEXT NOT NULL,"
    "  received_us INTEGER NOT NULL,"
    "  due_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  assigned TEXT NOT NULL DEFAULT '',"
    "  closed_us INTEGER,"
    "  closed_by TEXT NOT NULL DEFAULT '',"
    "  note TEXT NOT NULL DEFAULT '',"
    "  text BLOB"
    ");"
    "CREATE INDEX complaints_member ON complaints(member, rowid);"
    "CREATE INDEX complaints_open ON complaints(due_us, rowid) WHERE closed_us IS NULL;"
    "CREATE TABLE complaint_responses ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  complaint TEXT NOT NULL REFERENCES complaints(id),"
    "  officer TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  closing INTEGER NOT NULL,"
    "  text BLOB"
    ");"
    "CREATE INDEX complaint_responses_complaint ON complaint_responses(complaint, rowid);";

/*
 * 16: a request's history and a complaint's responses carry their member,
 * taken from the request or complaint, so that every table a member owns
 * is keyed by the member (the distribution column of docs/scaling.md).
 * Written by the INSERT itself from the parent row: the store's callers
 * give no member, and cannot give a wrong one.
 */
const char cu_sqlite_migration_request_member[] =
    "ALTER TABLE request_events ADD COLUMN member TEXT NOT NULL DEFAULT '';"
    "UPDATE request_events SET member ="
    " (SELECT r.member FROM requests r WHERE r.id = request_events.request);"
    "CREATE INDEX request_events_member ON request_events(member);"
    "ALTER TABLE complaint_responses ADD COLUMN member TEXT NOT NULL DEFAULT '';"
    "UPDATE complaint_responses SET member ="
    " (SELECT c.member FROM complaints c WHERE c.id = complaint_responses.complaint);"
    "CREATE INDEX complaint_responses_member ON complaint_responses(member);";

enum {
	S_REQ_INSERT = CU_SQLITE_SLOTS_REQUESTS,
	S_REQ_GET,
	S_REQ_UPDATE,
	S_REQ_LIST_OPEN,
	S_REQ_LIST_MEMBER,
	S_EV_INSERT,
	S_EV_LIST,
	S_CMP_INSERT,
	S_CMP_GET,
	S_CMP_UPDATE,
	S_CMP_LIST_OPEN,
	S_CMP_LIST_MEMBER,
	S_RSP_INSERT,
	S_RSP_LIST,
	S_RSP_COUNT,
	S_FORGET_REQ,
	S_FORGET_EV,
	S_FORGET_CMP,
	S_FORGET_RSP,
	S_SLOTS_END_
};

/* The area's statements fit its slot range. */
_Static_assert(S_SLOTS_END_ <= CU_SQLITE_SLOTS_REQUESTS + 32, "request area: too many statements");

#define REQ_COLS                                                                                   \
	"r.id, r.member, r.type, r.state, r.received_us, r.due_us, r.hard_due_us, r.updated_us,"   \
	" r.decided_us, r.decided_by, r.ground, r.fields, r.details, r.token_hash, r.certificate"
#define EV_COLS "request, state, actor, role, time_us, ground, note, reasons"
#define CMP_COLS                                                                                   \
	"c.id, c.member, c.about, c.state, c.received_us, c.due_us, c.updated_us, c.assigned,"     \
	" c.closed_us, c.closed_by, c.note, c.text"
#define RSP_COLS "id, complaint, officer, time_us, closing, text"

/* A copy of a blob column; NULL stays NULL (a forgotten text). */
static cu_result opt_blob(sqlite3_stmt *st, int col, unsigned char **out, size_t *len)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		*out = NULL;
		*len = 0;
		return CU_OK;
	}
	return cu_sqlite_copy_blob(st, col, out, len);
}

static int bind_opt_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	return p ? sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* ---- requests ------------------------------------------------------------ */

static cu_result read_request(sqlite3_stmt *st, cu_request_row *out)
{
	const void *h;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->type, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->state, CU_REQUEST_WORD_MAX);
	out->received_us = sqlite3_column_int64(st, 4);
	out->due_us = sqlite3_column_int64(st, 5);
	out->hard_due_us = sqlite3_column_int64(st, 6);
	out->updated_us = sqlite3_column_int64(st, 7);
	out->decided_us = cu_sqlite_column_time(st, 8);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 9, out->decided_by, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 10, out->ground, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 11, out->fields, CU_REQUEST_FIELDS_MAX);
	if (!rc)
		rc = opt_blob(st, 12, &out->details, &out->details_len);
	if (!rc && sqlite3_column_type(st, 13) != SQLITE_NULL) {
		h = sqlite3_column_blob(st, 13);
		if (!h || sqlite3_column_bytes(st, 13) != CU_STORE_HASHBYTES) {
			rc = CU_ERR_STORE;
		} else {
			memcpy(out->token_hash, h, CU_STORE_HASHBYTES);
			out->has_token = true;
		}
	}
	if (!rc && sqlite3_column_type(st, 14) != SQLITE_NULL) {
		const unsigned char *t = sqlite3_column_text(st, 14);
		size_t n = (size_t)sqlite3_column_bytes(st, 14);

		out->certificate = t ? malloc(n + 1) : NULL;
		if (!out->certificate) {
			rc = t ? CU_ERR_NOMEM : CU_ERR_STORE;
		} else {
			memcpy(out->certificate, t, n);
			out->certificate[n] = '\0';
		}
	}
	if (rc)
		cu_request_row_release(out);
	return rc;
}

static cu_result read_request_v(sqlite3_stmt *st, void *out)
{
	return read_request(st, out);
}

static cu_result request_insert(cu_store *s, const cu_request_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_REQ_INSERT,
	    "INSERT INTO requests (id, member, type, state, received_us, due_us,"
	    " hard_due_us, updated_us, decided_us, decided_by, ground, fields, details,"
	    " token_hash, certificate)"
	    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->type);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->state);
	b = b ? b : sqlite3_bind_int64(st, 5, row->received_us);
	b = b ? b : sqlite3_bind_int64(st, 6, row->due_us);
	b = b ? b : sqlite3_bind_int64(st, 7, row->hard_due_us);
	b = b ? b : sqlite3_bind_int64(st, 8, row->updated_us);
	b = b ? b : cu_sqlite_bind_time(st, 9, row->decided_us);
	b = b ? b : cu_sqlite_bind_text(st, 10, row->decided_by);
	b = b ? b : cu_sqlite_bind_text(st, 11, row->ground);
	b = b ? b : cu_sqlite_bind_text(st, 12, row->fields);
	b = b ? b : bind_opt_blob(st, 13, row->details, row->details_len);
	b = b ? b
	      : bind_opt_blob(st, 14, row->has_token ? row->token_hash : NULL, CU_STORE_HASHBYTES);
	b = b ? b
	      : (row->certificate ? cu_sqlite_bind_text(st, 15, row->certificate)
	                          : sqlite3_bind_null(st, 15));
	return cu_sqlite_run_bound(st, b);
}

static cu_result request_get(cu_store *s, const char *id, cu_request_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_REQ_GET, "SELECT " REQ_COLS " FROM requests r WHERE r.id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_request_v, out);
}

static cu_result request_update(cu_store *s, const cu_request_row *row)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_REQ_UPDATE,
	                        "UPDATE requests SET state = ?2, updated_us = ?3, decided_us = ?4,"
	                        " decided_by = ?5, ground = ?6, certificate = ?7 WHERE id = ?1",
	                        &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->state);
	b = b ? b : sqlite3_bind_int64(st, 3, row->updated_us);
	b = b ? b : cu_sqlite_bind_time(st, 4, row->decided_us);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->decided_by);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->ground);
	b = b ? b
	      : (row->certificate ? cu_sqlite_bind_text(st, 7, row->certificate)
	                          : sqlite3_bind_null(st, 7));
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result request_list_open(cu_store *s, int64_t due_before_us, cu_store_request_fn fn,
                                   void *ud)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_REQ_LIST_OPEN,
	    "SELECT " REQ_COLS " FROM requests r JOIN members m ON m.id = r.member"
	    " WHERE r.decided_us IS NULL AND m.erased_us IS NULL"
	    " AND (?1 <= 0 OR r.due_us < ?1) ORDER BY r.due_us, r.rowid",
	    &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, due_before_us)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_request_row, read_request, cu_request_row_release, fn, ud);
	return rc;
}

static cu_result request_list_member(cu_store *s, const char *member, cu_store_request_fn fn,
                                     void *ud)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_REQ_LIST_MEMBER,
	    "SELECT " REQ_COLS " FROM requests r WHERE r.member = ?1 ORDER BY r.rowid", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_request_row, read_request, cu_request_row_release, fn, ud);
	return rc;
}

static cu_result read_event(sqlite3_stmt *st, cu_request_event_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->request, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->state, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->actor, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->role, sizeof(out->role) - 1);
	out->time_us = sqlite3_column_int64(st, 4);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 5, out->ground, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 6, out->note, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = opt_blob(st, 7, &out->reasons, &out->reasons_len);
	if (rc)
		cu_request_event_row_release(out);
	return rc;
}

static cu_result event_insert(cu_store *s, const cu_request_event_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_EV_INSERT,
	    "INSERT INTO request_events (member, " EV_COLS ")"
	    " VALUES ((SELECT member FROM requests WHERE id = ?1),?1,?2,?3,?4,?5,?6,?7,?8)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->request);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->state);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->actor);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->role);
	b = b ? b : sqlite3_bind_int64(st, 5, row->time_us);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->ground);
	b = b ? b : cu_sqlite_bind_text(st, 7, row->note);
	b = b ? b : bind_opt_blob(st, 8, row->reasons, row->reasons_len);
	return cu_sqlite_run_bound(st, b);
}

static cu_result event_list(cu_store *s, const char *request, cu_store_request_event_fn fn,
                            void *ud)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_EV_LIST,
	    "SELECT " EV_COLS " FROM request_events WHERE request = ?1 ORDER BY rowid", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, request)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_request_event_row, read_event, cu_request_event_row_release,
	                    fn, ud);
	return rc;
}

/* ---- complaints ---------------------------------------------------------- */

static cu_result read_complaint(sqlite3_stmt *st, cu_complaint_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->about, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->state, CU_REQUEST_WORD_MAX);
	out->received_us = sqlite3_column_int64(st, 4);
	out->due_us = sqlite3_column_int64(st, 5);
	out->updated_us = sqlite3_column_int64(st, 6);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 7, out->assigned, CU_REQUEST_ACTOR_MAX);
	out->closed_us = cu_sqlite_column_time(st, 8);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 9, out->closed_by, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 10, out->note, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = opt_blob(st, 11, &out->text, &out->text_len);
	if (rc)
		cu_complaint_row_release(out);
	return rc;
}

static cu_result read_complaint_v(sqlite3_stmt *st, void *out)
{
	return read_complaint(st, out);
}

static cu_result complaint_insert(cu_store *s, const cu_complaint_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CMP_INSERT,
	    "INSERT INTO complaints (id, member, about, state, received_us, due_us,"
	    " updated_us, assigned, closed_us, closed_by, note, text)"
	    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->about);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->state);
	b = b ? b : sqlite3_bind_int64(st, 5, row->received_us);
	b = b ? b : sqlite3_bind_int64(st, 6, row->due_us);
	b = b ? b : sqlite3_bind_int64(st, 7, row->updated_us);
	b = b ? b : cu_sqlite_bind_text(st, 8, row->assigned);
	b = b ? b : cu_sqlite_bind_time(st, 9, row->closed_us);
	b = b ? b : cu_sqlite_bind_text(st, 10, row->closed_by);
	b = b ? b : cu_sqlite_bind_text(st, 11, row->note);
	b = b ? b : bind_opt_blob(st, 12, row->text, row->text_len);
	return cu_sqlite_run_bound(st, b);
}

static cu_result complaint_get(cu_store *s, const char *id, cu_complaint_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CMP_GET, "SELECT " CMP_COLS " FROM complaints c WHERE c.id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_complaint_v, out);
}

static cu_result complaint_update(cu_store *s, const cu_complaint_row *row)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_CMP_UPDATE,
	                        "UPDATE complaints SET state = ?2, updated_us = ?3, assigned = ?4,"
	                        " closed_us = ?5, closed_by = ?6, note = ?7 WHERE id = ?1",
	                        &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->state);
	b = b ? b : sqlite3_bind_int64(st, 3, row->updated_us);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->assigned);
	b = b ? b : cu_sqlite_bind_time(st, 5, row->closed_us);
	b = b ? b : cu_sqlite_bind_text(st, 6, row->closed_by);
	b = b ? b : cu_sqlite_bind_text(st, 7, row->note);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result complaint_list_open(cu_store *s, int64_t due_before_us, cu_store_complaint_fn fn,
                                     void *ud)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_CMP_LIST_OPEN,
	    "SELECT " CMP_COLS " FROM complaints c JOIN members m ON m.id = c.member"
	    " WHERE c.closed_us IS NULL AND m.erased_us IS NULL"
	    " AND (?1 <= 0 OR c.due_us < ?1) ORDER BY c.due_us, c.rowid",
	    &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, due_before_us)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_complaint_row, read_complaint, cu_complaint_row_release, fn,
	                    ud);
	return rc;
}

static cu_result complaint_list_member(cu_store *s, const char *member, cu_store_complaint_fn fn,
                                       void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_CMP_LIST_MEMBER,
	                        "SELECT " CMP_COLS " FROM complaints c WHERE c.member = ?1"
	                        " ORDER BY c.rowid",
	                        &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_complaint_row, read_complaint, cu_complaint_row_release, fn,
	                    ud);
	return rc;
}

static cu_result read_response(sqlite3_stmt *st, cu_complaint_response_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->complaint, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->officer, CU_REQUEST_ACTOR_MAX);
	out->time_us = sqlite3_column_int64(st, 3);
	out->closing = sqlite3_column_int(st, 4) != 0;
	if (!rc)
		rc = opt_blob(st, 5, &out->text, &out->text_len);
	if (rc)
		cu_complaint_response_row_release(out);
	return rc;
}

static cu_result response_insert(cu_store *s, const cu_complaint_response_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_RSP_INSERT,
	    "INSERT INTO complaint_responses (member, " RSP_COLS ")"
	    " VALUES ((SELECT member FROM complaints WHERE id = ?2),?1,?2,?3,?4,?5,?6)",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->complaint);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->officer);
	b = b ? b : sqlite3_bind_int64(st, 4, row->time_us);
	b = b ? b : sqlite3_bind_int(st, 5, row->closing ? 1 : 0);
	b = b ? b : bind_opt_blob(st, 6, row->text, row->text_len);
	return cu_sqlite_run_bound(st, b);
}

static cu_result response_list(cu_store *s, const char *complaint,
                               cu_store_complaint_response_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_RSP_LIST,
	                        "SELECT " RSP_COLS " FROM complaint_responses WHERE complaint = ?1"
	                        " ORDER BY rowid",
	                        &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, complaint)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_LIST_LOOP(rc, st, cu_complaint_response_row, read_response,
	                    cu_complaint_response_row_release, fn, ud);
	return rc;
}

static cu_result read_count(sqlite3_stmt *st, void *out)
{
	*(uint64_t *)out = (uint64_t)sqlite3_column_int64(st, 0);
	return CU_OK;
}

static cu_result response_count(cu_store *s, const char *complaint, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_RSP_COUNT, "SELECT count(*) FROM complaint_responses WHERE complaint = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, complaint)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_count, n);
}

/* ---- erasure ------------------------------------------------------------- */

static cu_result forget_member(cu_store *s, const char *member, uint64_t *n)
{
	static const struct {
		int slot;
		const char *sql;
	} steps[] = {
	    {S_FORGET_REQ, "UPDATE requests SET details = NULL"
	                   " WHERE member = ?1 AND details IS NOT NULL"},
	    {S_FORGET_EV, "UPDATE request_events SET reasons = NULL"
	                  " WHERE member = ?1 AND reasons IS NOT NULL"},
	    {S_FORGET_CMP, "UPDATE complaints SET text = NULL"
	                   " WHERE member = ?1 AND text IS NOT NULL"},
	    {S_FORGET_RSP, "UPDATE complaint_responses SET text = NULL"
	                   " WHERE member = ?1 AND text IS NOT NULL"},
	};
	struct sqlite_store *q = cu_sqlite(s);
	sqlite3_stmt *st;
	cu_result rc;

	*n = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		rc = cu_sqlite_area_stmt(s, steps[i].slot, steps[i].sql, &st);
		if (rc)
			return rc;
		if ((rc = cu_sqlite_tx_alive(q)))
			return rc;
		rc = cu_sqlite_run_bound(st, cu_sqlite_bind_text(st, 1, member));
		if (rc)
			return rc;
		*n += (uint64_t)sqlite3_changes(q->db);
	}
	return CU_OK;
}

const struct cu_store_request_ops cu_sqlite_request_ops = {
    .request_insert = request_insert,
    .request_get = request_get,
    .request_update = request_update,
    .request_list_open = request_list_open,
    .request_list_member = request_list_member,
    .event_insert = event_insert,
    .event_list = event_list,
    .complaint_insert = complaint_insert,
    .complaint_get = complaint_get,
    .complaint_update = complaint_update,
    .complaint_list_open = complaint_list_open,
    .complaint_list_member = complaint_list_member,
    .response_insert = response_insert,
    .response_list = response_list,
    .response_count = response_count,
    .forget_member = forget_member,
};
