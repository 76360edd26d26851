/*
 * src/store/pg/notify.c — notices and the outbox on PostgreSQL
 * (store/notify.h; the SQL of store/sqlite/notify.c, whose comments say why).
 */
#include "store/notify_backend.h"
#include "store/pg/pg.h"

#include <string.h>

/* The longest status name ("dropped", "pending") and its NUL, with room. */
#define STATUS_BYTES 16

enum {
	S_NOTICE_INSERT = CU_PG_SLOTS_NOTIFY,
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

static cu_result read_notice(const PGresult *r, int i, cu_notice_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->kind, CU_NOTIFY_KIND_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 3, out->subject, CU_NOTIFY_SUBJECT_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 4, out->body, CU_NOTIFY_BODY_MAX);
	out->created_us = cu_pg_int(r, i, 5);
	out->read_us = cu_pg_int(r, i, 6);
	return rc;
}

static cu_result read_outbox(const PGresult *r, int i, cu_outbox_row *out)
{
	char status[STATUS_BYTES];
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->notice, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->kind, CU_NOTIFY_KIND_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 4, status, sizeof(status) - 1);
	if (!rc && cu_outbox_status_parse(status, &out->status))
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 10, out->last_error, CU_NOTIFY_ERROR_MAX);
	out->attempts = (unsigned)cu_pg_int(r, i, 5);
	out->created_us = cu_pg_int(r, i, 6);
	out->next_attempt_us = cu_pg_int(r, i, 7);
	out->claimed_until_us = cu_pg_int(r, i, 8);
	out->sent_us = cu_pg_int(r, i, 9);
	return rc;
}

static cu_result read_notice_v(const PGresult *r, int i, void *out)
{
	return read_notice(r, i, out);
}

static cu_result read_outbox_v(const PGresult *r, int i, void *out)
{
	return read_outbox(r, i, out);
}

static cu_result notice_insert(cu_store *s, const cu_notice_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->kind);
	cu_pg_param_text(&p, row->subject);
	cu_pg_param_text(&p, row->body);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_time(&p, row->read_us);
	return cu_pg_insert(s, S_NOTICE_INSERT,
	                    "INSERT INTO notices (" NOTICE_COLS ") VALUES ($1,$2,$3,$4,$5,$6,$7)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result notice_get(cu_store *s, const char *id, cu_notice_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_NOTICE_GET, "SELECT " NOTICE_COLS " FROM notices WHERE id = $1",
	                     &p, read_notice_v, out);
}

static cu_result notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn,
                             void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, member);
	cu_pg_param_int(&p, cu_pg_limit(limit));
	rc = cu_pg_exec(s, S_NOTICE_LIST,
	                "SELECT " NOTICE_COLS " FROM notices WHERE member = $1"
	                " ORDER BY rowid DESC LIMIT $2",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_notice_row, read_notice, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result notice_mark_read(cu_store *s, const char *member, const char *id, int64_t when_us)
{
	cu_pg_params p = {0};

	/* The first reading counts; marking again changes nothing but is no error. */
	cu_pg_param_text(&p, id);
	cu_pg_param_text(&p, member);
	cu_pg_param_int(&p, when_us);
	return cu_pg_write_one(s, S_NOTICE_READ,
	                       "UPDATE notices SET read_us = coalesce(read_us, $3)"
	                       " WHERE id = $1 AND member = $2",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result outbox_insert(cu_store *s, const cu_outbox_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->notice);
	cu_pg_param_text(&p, row->kind);
	cu_pg_param_text(&p, cu_outbox_status_name(row->status));
	cu_pg_param_int(&p, row->attempts);
	cu_pg_param_int(&p, row->created_us);
	cu_pg_param_int(&p, row->next_attempt_us);
	cu_pg_param_int(&p, row->claimed_until_us);
	cu_pg_param_time(&p, row->sent_us);
	cu_pg_param_text(&p, row->last_error);
	return cu_pg_insert(s, S_OUTBOX_INSERT,
	                    "INSERT INTO outbox (" OUTBOX_COLS ") VALUES"
	                    " ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result outbox_get(cu_store *s, const char *id, cu_outbox_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_OUTBOX_GET, "SELECT " OUTBOX_COLS " FROM outbox WHERE id = $1",
	                     &p, read_outbox_v, out);
}

static cu_result each_outbox(PGresult *res, cu_store_outbox_fn fn, void *ud)
{
	cu_result rc = CU_OK;

	CU_PG_LIST_LOOP(rc, res, cu_outbox_row, read_outbox, cu_pg_release_none, fn, ud);
	return rc;
}

static cu_result outbox_due(cu_store *s, int64_t now_us, bool ignore_backoff, size_t max,
                            cu_store_outbox_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_int(&p, now_us);
	cu_pg_param_int(&p, ignore_backoff ? 1 : 0);
	cu_pg_param_int(&p, cu_pg_limit(max));
	rc = cu_pg_exec(s, S_OUTBOX_DUE,
	                "SELECT " OUTBOX_COLS " FROM outbox WHERE status = 'pending'"
	                " AND claimed_until_us <= $1 AND ($2 <> 0 OR next_attempt_us <= $1)"
	                " ORDER BY next_attempt_us, rowid LIMIT $3",
	                &p, &res);
	return rc ? rc : each_outbox(res, fn, ud);
}

static cu_result outbox_claim(cu_store *s, const char *id, int64_t now_us, int64_t until_us,
                              bool ignore_backoff)
{
	cu_pg_params p = {0};

	/* The same conditions as outbox_due: whoever updates the row first owns the attempt. */
	cu_pg_param_text(&p, id);
	cu_pg_param_int(&p, now_us);
	cu_pg_param_int(&p, until_us);
	cu_pg_param_int(&p, ignore_backoff ? 1 : 0);
	return cu_pg_write_one(s, S_OUTBOX_CLAIM,
	                       "UPDATE outbox SET claimed_until_us = $3 WHERE id = $1"
	                       " AND status = 'pending' AND claimed_until_us <= $2"
	                       " AND ($4 <> 0 OR next_attempt_us <= $2)",
	                       &p, CU_ERR_CONFLICT);
}

static cu_result outbox_settle(cu_store *s, const cu_outbox_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, cu_outbox_status_name(row->status));
	cu_pg_param_int(&p, row->attempts);
	cu_pg_param_int(&p, row->next_attempt_us);
	cu_pg_param_int(&p, row->claimed_until_us);
	cu_pg_param_time(&p, row->sent_us);
	cu_pg_param_text(&p, row->last_error);
	return cu_pg_write_one(
	    s, S_OUTBOX_SETTLE,
	    "UPDATE outbox SET status = $2, attempts = $3, next_attempt_us = $4,"
	    " claimed_until_us = $5, sent_us = $6, last_error = $7 WHERE id = $1",
	    &p, CU_ERR_NOT_FOUND);
}

static cu_result outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_])
{
	PGresult *res;
	cu_result rc = cu_pg_exec(
	    s, S_OUTBOX_COUNTS, "SELECT status, count(*) FROM outbox GROUP BY status", NULL, &res);

	if (rc)
		return rc;
	for (int i = 0; i < PQntuples(res); i++) {
		cu_outbox_status status;

		if (cu_outbox_status_parse(cu_pg_str(res, i, 0), &status)) {
			rc = CU_ERR_STORE;
			break;
		}
		counts[status] = (uint64_t)cu_pg_int(res, i, 1);
	}
	PQclear(res);
	return rc;
}

static cu_result outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit,
                             cu_store_outbox_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_int(&p, cu_pg_limit(limit));
	if (all) {
		rc = cu_pg_exec(s, S_OUTBOX_LIST_ALL,
		                "SELECT " OUTBOX_COLS " FROM outbox ORDER BY rowid DESC LIMIT $1",
		                &p, &res);
	} else {
		cu_pg_param_text(&p, cu_outbox_status_name(status));
		rc = cu_pg_exec(s, S_OUTBOX_LIST_STATUS,
		                "SELECT " OUTBOX_COLS " FROM outbox WHERE status = $2"
		                " ORDER BY rowid DESC LIMIT $1",
		                &p, &res);
	}
	return rc ? rc : each_outbox(res, fn, ud);
}

static cu_result outbox_drop_member(cu_store *s, const char *member, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, member);
	return cu_pg_write(s, S_OUTBOX_DROP_MEMBER,
	                   "UPDATE outbox SET status = 'dropped', last_error = 'erased',"
	                   " claimed_until_us = 0 WHERE member = $1 AND status = 'pending'",
	                   &p, n);
}

const struct cu_store_notify_ops cu_pg_notify_ops = {
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
