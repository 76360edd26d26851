/*
 * src/store/sqlite/notify.c — the notify area on SQLite: notices and the outbox.
 */
#include "store/notify_backend.h"
#include "store/sqlite/sqlite.h"

#include <string.h>

#define STATUS_BYTES 16 /* an outbox status word ("pending", "dropped"), with room */

const char cu_sqlite_migration_notify[] =
    /* Template texts only (no personal values): what the member sees in their account. */
    "CREATE TABLE notices ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  kind TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  read_us INTEGER"
    ");"
    "CREATE INDEX notices_member ON notices(member, rowid);"
    /* The member's id, never an address: that is resolved through the door when sending. */
    "CREATE TABLE outbox ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  notice TEXT NOT NULL REFERENCES notices(id),"
    "  kind TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  created_us INTEGER NOT NULL,"
    "  next_attempt_us INTEGER NOT NULL,"
    "  claimed_until_us INTEGER NOT NULL DEFAULT 0,"
    "  sent_us INTEGER,"
    "  last_error TEXT NOT NULL DEFAULT ''"
    ");"
    "CREATE INDEX outbox_due ON outbox(status, next_attempt_us, rowid);"
    "CREATE INDEX outbox_member ON outbox(member, status);";

enum {
	S_NOTICE_INSERT = CU_SQLITE_SLOTS_NOTIFY,
	S_NOTICE_GET,
	S_NOTICE_LIST,
	S_NOTICE_READ,
	S_OUTBOX_INSERT,
	S_OUTBOX_GET,
	S_OUTBOX_DUE,
	S_OUTBOX_CLAIM,
	S_OUTBOX_SETTLE,
	S_OUTBOX_COUNTS,
	S_OUTBOX_LIST_ALL,
	S_OUTBOX_LIST_STATUS,
	S_OUTBOX_DROP_MEMBER,
};

#define NOTICE_COLS "id, member, kind, subject, body, created_us, read_us"
#define OUTBOX_COLS                                                                                \
	"id, member, notice, kind, status, attempts, created_us, next_attempt_us, "                \
	"claimed_until_us, sent_us, last_error"

static cu_result read_notice(sqlite3_stmt *st, cu_notice_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->kind, CU_NOTIFY_KIND_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 3, out->subject, CU_NOTIFY_SUBJECT_MAX);
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 4, out->body, CU_NOTIFY_BODY_MAX);
	out->created_us = sqlite3_column_int64(st, 5);
	out->read_us = cu_sqlite_column_time(st, 6);
	return rc;
}

static cu_result read_outbox(sqlite3_stmt *st, cu_outbox_row *out)
{
	char status[STATUS_BYTES];
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 2, out->notice, CU_ID_LEN);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->kind, CU_NOTIFY_KIND_MAX);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 4, status, sizeof(status) - 1);
	if (!rc && cu_outbox_status_parse(status, &out->status))
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_sqlite_copy_opt_text(st, 10, out->last_error, CU_NOTIFY_ERROR_MAX);
	out->attempts = (unsigned)sqlite3_column_int64(st, 5);
	out->created_us = sqlite3_column_int64(st, 6);
	out->next_attempt_us = sqlite3_column_int64(st, 7);
	out->claimed_until_us = sqlite3_column_int64(st, 8);
	out->sent_us = cu_sqlite_column_time(st, 9);
	return rc;
}

static cu_result read_notice_v(sqlite3_stmt *st, void *out)
{
	return read_notice(st, out);
}

static cu_result read_outbox_v(sqlite3_stmt *st, void *out)
{
	return read_outbox(st, out);
}

static cu_result notice_insert(cu_store *s, const cu_notice_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_NOTICE_INSERT,
	    "INSERT INTO notices (" NOTICE_COLS ") VALUES (?1,?2,?3,?4,?5,?6,?7)", &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->kind);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->subject);
	b = b ? b : cu_sqlite_bind_text(st, 5, row->body);
	b = b ? b : sqlite3_bind_int64(st, 6, row->created_us);
	b = b ? b
	      : (row->read_us ? sqlite3_bind_int64(st, 7, row->read_us) : sqlite3_bind_null(st, 7));
	return cu_sqlite_run_bound(st, b);
}

static cu_result notice_get(cu_store *s, const char *id, cu_notice_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_NOTICE_GET, "SELECT " NOTICE_COLS " FROM notices WHERE id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_notice_v, out);
}

static cu_result notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn,
                             void *ud)
{
	sqlite3_stmt *st;
	cu_notice_row row;
	cu_result rc = cu_sqlite_area_stmt(s, S_NOTICE_LIST,
	                                   "SELECT " NOTICE_COLS " FROM notices WHERE member = ?1"
	                                   " ORDER BY rowid DESC LIMIT ?2",
	                                   &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, member) ||
	    sqlite3_bind_int64(st, 2, limit > INT64_MAX ? INT64_MAX : (int64_t)limit)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	CU_SQLITE_WALK(st, read_notice, row, fn, ud, rc);
	return rc;
}

static cu_result notice_mark_read(cu_store *s, const char *member, const char *id, int64_t when_us)
{
	sqlite3_stmt *st;
	/* The first reading counts; marking again changes nothing but is no error. */
	cu_result rc = cu_sqlite_area_stmt(s, S_NOTICE_READ,
	                                   "UPDATE notices SET read_us = coalesce(read_us, ?3)"
	                                   " WHERE id = ?1 AND member = ?2",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, id);
	b = b ? b : cu_sqlite_bind_text(st, 2, member);
	b = b ? b : sqlite3_bind_int64(st, 3, when_us);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result outbox_insert(cu_store *s, const cu_outbox_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_OUTBOX_INSERT,
	                                   "INSERT INTO outbox (" OUTBOX_COLS ") VALUES"
	                                   " (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, row->member);
	b = b ? b : cu_sqlite_bind_text(st, 3, row->notice);
	b = b ? b : cu_sqlite_bind_text(st, 4, row->kind);
	b = b ? b : cu_sqlite_bind_text(st, 5, cu_outbox_status_name(row->status));
	b = b ? b : sqlite3_bind_int64(st, 6, row->attempts);
	b = b ? b : sqlite3_bind_int64(st, 7, row->created_us);
	b = b ? b : sqlite3_bind_int64(st, 8, row->next_attempt_us);
	b = b ? b : sqlite3_bind_int64(st, 9, row->claimed_until_us);
	b = b ? b
	      : (row->sent_us ? sqlite3_bind_int64(st, 10, row->sent_us)
	                      : sqlite3_bind_null(st, 10));
	b = b ? b : cu_sqlite_bind_text(st, 11, row->last_error);
	return cu_sqlite_run_bound(st, b);
}

static cu_result outbox_get(cu_store *s, const char *id, cu_outbox_row *out)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(s, S_OUTBOX_GET,
	                                   "SELECT " OUTBOX_COLS " FROM outbox WHERE id = ?1", &st);

	if (rc)
		return rc;
	if (cu_sqlite_bind_text(st, 1, id)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return cu_sqlite_one_row(st, read_outbox_v, out);
}

/* Steps a query of outbox rows into fn. */
static cu_result each_outbox(sqlite3_stmt *st, cu_store_outbox_fn fn, void *ud)
{
	cu_outbox_row row;
	cu_result rc = CU_OK;

	CU_SQLITE_WALK(st, read_outbox, row, fn, ud, rc);
	return rc;
}

static int64_t limit64(size_t n)
{
	return n > INT64_MAX ? INT64_MAX : (int64_t)n;
}

static cu_result outbox_due(cu_store *s, int64_t now_us, bool ignore_backoff, size_t max,
                            cu_store_outbox_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_OUTBOX_DUE,
	                        "SELECT " OUTBOX_COLS " FROM outbox WHERE status = 'pending'"
	                        " AND claimed_until_us <= ?1 AND (?2 OR next_attempt_us <= ?1)"
	                        " ORDER BY next_attempt_us, rowid LIMIT ?3",
	                        &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, now_us) || sqlite3_bind_int(st, 2, ignore_backoff ? 1 : 0) ||
	    sqlite3_bind_int64(st, 3, limit64(max))) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return each_outbox(st, fn, ud);
}

static cu_result outbox_claim(cu_store *s, const char *id, int64_t now_us, int64_t until_us,
                              bool ignore_backoff)
{
	sqlite3_stmt *st;
	/* The same conditions as outbox_due: whoever updates the row first owns the attempt. */
	cu_result rc = cu_sqlite_area_stmt(s, S_OUTBOX_CLAIM,
	                                   "UPDATE outbox SET claimed_until_us = ?3 WHERE id = ?1"
	                                   " AND status = 'pending' AND claimed_until_us <= ?2"
	                                   " AND (?4 OR next_attempt_us <= ?2)",
	                                   &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, id);
	b = b ? b : sqlite3_bind_int64(st, 2, now_us);
	b = b ? b : sqlite3_bind_int64(st, 3, until_us);
	b = b ? b : sqlite3_bind_int(st, 4, ignore_backoff ? 1 : 0);
	return cu_sqlite_run_one(s, st, b, CU_ERR_CONFLICT);
}

static cu_result outbox_settle(cu_store *s, const cu_outbox_row *row)
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_OUTBOX_SETTLE,
	    "UPDATE outbox SET status = ?2, attempts = ?3, next_attempt_us = ?4,"
	    " claimed_until_us = ?5, sent_us = ?6, last_error = ?7 WHERE id = ?1",
	    &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, row->id);
	b = b ? b : cu_sqlite_bind_text(st, 2, cu_outbox_status_name(row->status));
	b = b ? b : sqlite3_bind_int64(st, 3, row->attempts);
	b = b ? b : sqlite3_bind_int64(st, 4, row->next_attempt_us);
	b = b ? b : sqlite3_bind_int64(st, 5, row->claimed_until_us);
	b = b ? b
	      : (row->sent_us ? sqlite3_bind_int64(st, 6, row->sent_us) : sqlite3_bind_null(st, 6));
	b = b ? b : cu_sqlite_bind_text(st, 7, row->last_error);
	return cu_sqlite_run_one(s, st, b, CU_ERR_NOT_FOUND);
}

static cu_result outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_])
{
	sqlite3_stmt *st;
	cu_result rc = cu_sqlite_area_stmt(
	    s, S_OUTBOX_COUNTS, "SELECT status, count(*) FROM outbox GROUP BY status", &st);
	int r;

	if (rc)
		return rc;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		cu_outbox_status status;

		if (cu_outbox_status_parse((const char *)sqlite3_column_text(st, 0), &status)) {
			rc = CU_ERR_STORE;
			break;
		}
		counts[status] = (uint64_t)sqlite3_column_int64(st, 1);
	}
	return cu_sqlite_walked(st, rc, r);
}

static cu_result outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit,
                             cu_store_outbox_fn fn, void *ud)
{
	sqlite3_stmt *st;
	cu_result rc =
	    all ? cu_sqlite_area_stmt(
	              s, S_OUTBOX_LIST_ALL,
	              "SELECT " OUTBOX_COLS " FROM outbox ORDER BY rowid DESC LIMIT ?1", &st)
	        : cu_sqlite_area_stmt(s, S_OUTBOX_LIST_STATUS,
	                              "SELECT " OUTBOX_COLS " FROM outbox WHERE status = ?2"
	                              " ORDER BY rowid DESC LIMIT ?1",
	                              &st);

	if (rc)
		return rc;
	if (sqlite3_bind_int64(st, 1, limit64(limit)) ||
	    (!all && cu_sqlite_bind_text(st, 2, cu_outbox_status_name(status)))) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return each_outbox(st, fn, ud);
}

static cu_result outbox_drop_member(cu_store *s, const char *member, uint64_t *n)
{
	sqlite3_stmt *st;
	cu_result rc =
	    cu_sqlite_area_stmt(s, S_OUTBOX_DROP_MEMBER,
	                        "UPDATE outbox SET status = 'dropped', last_error = 'erased',"
	                        " claimed_until_us = 0 WHERE member = ?1 AND status = 'pending'",
	                        &st);
	int b;

	if (rc)
		return rc;
	if ((rc = cu_sqlite_tx_alive(cu_sqlite(s))))
		return rc;
	b = cu_sqlite_bind_text(st, 1, member);
	rc = cu_sqlite_run_bound(st, b);
	if (!rc)
		*n = (uint64_t)sqlite3_changes(cu_sqlite(s)->db);
	return rc;
}

const struct cu_store_notify_ops cu_sqlite_notify_ops = {
    .notice_insert = notice_insert,
    .notice_get = notice_get,
    .notice_list = notice_list,
    .notice_mark_read = notice_mark_read,
    .outbox_insert = outbox_insert,
    .outbox_get = outbox_get,
    .outbox_due = outbox_due,
    .outbox_claim = outbox_claim,
    .outbox_settle = outbox_settle,
    .outbox_counts = outbox_counts,
    .outbox_list = outbox_list,
    .outbox_drop_member = outbox_drop_member,
};
