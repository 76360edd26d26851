/*
 * src/store/pg/request.c — members' requests and complaints on PostgreSQL
 * (store/request.h; the SQL of store/sqlite/request.c, whose comments say why).
 */
#include "store/pg/pg.h"
#include "store/request_backend.h"

#include <stdlib.h>
#include <string.h>

enum {
	S_REQ_INSERT = CU_PG_SLOTS_REQUESTS,
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

_Static_assert((int)S_SLOTS_END_ <= (int)CU_PG_SLOTS_BEACON, "request area: too many statements");

#define REQ_COLS                                                                                   \
	"r.id, r.member, r.type, r.state, r.received_us, r.due_us, r.hard_due_us, r.updated_us,"   \
	" r.decided_us, r.decided_by, r.ground, r.fields, r.details, r.token_hash, r.certificate"
#define EV_COLS "request, state, actor, role, time_us, ground, note, reasons"
#define CMP_COLS                                                                                   \
	"c.id, c.member, c.about, c.state, c.received_us, c.due_us, c.updated_us, c.assigned,"     \
	" c.closed_us, c.closed_by, c.note, c.text"
#define RSP_COLS "id, complaint, officer, time_us, closing, text"

/* A copy of a bytea column; NULL stays NULL (a forgotten text). */
static cu_result opt_blob(const PGresult *r, int i, int col, unsigned char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (cu_pg_null(r, i, col))
		return CU_OK;
	return cu_pg_copy_blob(r, i, col, out, len);
}

static cu_result read_request(const PGresult *r, int i, cu_request_row *out)
{
	bool has = false;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->type, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->state, CU_REQUEST_WORD_MAX);
	out->received_us = cu_pg_int(r, i, 4);
	out->due_us = cu_pg_int(r, i, 5);
	out->hard_due_us = cu_pg_int(r, i, 6);
	out->updated_us = cu_pg_int(r, i, 7);
	out->decided_us = cu_pg_int(r, i, 8);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 9, out->decided_by, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 10, out->ground, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 11, out->fields, CU_REQUEST_FIELDS_MAX);
	if (!rc)
		rc = opt_blob(r, i, 12, &out->details, &out->details_len);
	if (!rc)
		rc = cu_pg_copy_fixed(r, i, 13, out->token_hash, CU_STORE_HASHBYTES, &has);
	out->has_token = has;
	if (!rc && !cu_pg_null(r, i, 14)) {
		size_t n = (size_t)PQgetlength(r, i, 14);

		out->certificate = malloc(n + 1);
		if (!out->certificate) {
			rc = CU_ERR_NOMEM;
		} else {
			memcpy(out->certificate, PQgetvalue(r, i, 14), n);
			out->certificate[n] = '\0';
		}
	}
	if (rc)
		cu_request_row_release(out);
	return rc;
}

static cu_result read_request_v(const PGresult *r, int i, void *out)
{
	return read_request(r, i, out);
}

static cu_result request_insert(cu_store *s, const cu_request_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->type);
	cu_pg_param_text(&p, row->state);
	cu_pg_param_int(&p, row->received_us);
	cu_pg_param_int(&p, row->due_us);
	cu_pg_param_int(&p, row->hard_due_us);
	cu_pg_param_int(&p, row->updated_us);
	cu_pg_param_time(&p, row->decided_us);
	cu_pg_param_text(&p, row->decided_by);
	cu_pg_param_text(&p, row->ground);
	cu_pg_param_text(&p, row->fields);
	cu_pg_param_bytes(&p, row->details, row->details_len);
	cu_pg_param_bytes(&p, row->has_token ? row->token_hash : NULL, CU_STORE_HASHBYTES);
	cu_pg_param_text_or_null(&p, row->certificate);
	return cu_pg_insert(s, S_REQ_INSERT,
	                    "INSERT INTO requests (id, member, type, state, received_us, due_us,"
	                    " hard_due_us, updated_us, decided_us, decided_by, ground, fields,"
	                    " details, token_hash, certificate)"
	                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
	                    " ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result request_get(cu_store *s, const char *id, cu_request_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_REQ_GET, "SELECT " REQ_COLS " FROM requests r WHERE r.id = $1",
	                     &p, read_request_v, out);
}

static cu_result request_update(cu_store *s, const cu_request_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->state);
	cu_pg_param_int(&p, row->updated_us);
	cu_pg_param_time(&p, row->decided_us);
	cu_pg_param_text(&p, row->decided_by);
	cu_pg_param_text(&p, row->ground);
	cu_pg_param_text_or_null(&p, row->certificate);
	return cu_pg_write_one(s, S_REQ_UPDATE,
	                       "UPDATE requests SET state = $2, updated_us = $3, decided_us = $4,"
	                       " decided_by = $5, ground = $6, certificate = $7 WHERE id = $1",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result each_request(cu_result rc, PGresult *res, cu_store_request_fn fn, void *ud)
{
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_request_row, read_request, cu_request_row_release, fn, ud);
	return rc;
}

static cu_result request_list_open(cu_store *s, int64_t due_before_us, cu_store_request_fn fn,
                                   void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_int(&p, due_before_us);
	cu_result rc =
	    cu_pg_exec(s, S_REQ_LIST_OPEN,
	               "SELECT " REQ_COLS " FROM requests r JOIN members m ON m.id = r.member"
	               " WHERE r.decided_us IS NULL AND m.erased_us IS NULL"
	               " AND ($1 <= 0 OR r.due_us < $1) ORDER BY r.due_us, r.rowid",
	               &p, &res);

	return each_request(rc, res, fn, ud);
}

static cu_result request_list_member(cu_store *s, const char *member, cu_store_request_fn fn,
                                     void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_text(&p, member);
	cu_result rc = cu_pg_exec(
	    s, S_REQ_LIST_MEMBER,
	    "SELECT " REQ_COLS " FROM requests r WHERE r.member = $1 ORDER BY r.rowid", &p, &res);

	return each_request(rc, res, fn, ud);
}

static cu_result read_event(const PGresult *r, int i, cu_request_event_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->request, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->state, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->actor, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->role, sizeof(out->role) - 1);
	out->time_us = cu_pg_int(r, i, 4);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 5, out->ground, CU_POLICY_ID_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 6, out->note, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = opt_blob(r, i, 7, &out->reasons, &out->reasons_len);
	if (rc)
		cu_request_event_row_release(out);
	return rc;
}

static cu_result event_insert(cu_store *s, const cu_request_event_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->request);
	cu_pg_param_text(&p, row->state);
	cu_pg_param_text(&p, row->actor);
	cu_pg_param_text(&p, row->role);
	cu_pg_param_int(&p, row->time_us);
	cu_pg_param_text(&p, row->ground);
	cu_pg_param_text(&p, row->note);
	cu_pg_param_bytes(&p, row->reasons, row->reasons_len);
	return cu_pg_insert(s, S_EV_INSERT,
	                    "INSERT INTO request_events (member, " EV_COLS ")"
	                    " VALUES ((SELECT member FROM requests WHERE id = $1),"
	                    "$1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result event_list(cu_store *s, const char *request, cu_store_request_event_fn fn,
                            void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, request);
	rc = cu_pg_exec(s, S_EV_LIST,
	                "SELECT " EV_COLS " FROM request_events WHERE request = $1 ORDER BY rowid",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_request_event_row, read_event, cu_request_event_row_release, fn,
	                ud);
	return rc;
}

static cu_result read_complaint(const PGresult *r, int i, cu_complaint_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->about, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 3, out->state, CU_REQUEST_WORD_MAX);
	out->received_us = cu_pg_int(r, i, 4);
	out->due_us = cu_pg_int(r, i, 5);
	out->updated_us = cu_pg_int(r, i, 6);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 7, out->assigned, CU_REQUEST_ACTOR_MAX);
	out->closed_us = cu_pg_int(r, i, 8);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 9, out->closed_by, CU_REQUEST_ACTOR_MAX);
	if (!rc)
		rc = cu_pg_copy_opt_text(r, i, 10, out->note, CU_REQUEST_WORD_MAX);
	if (!rc)
		rc = opt_blob(r, i, 11, &out->text, &out->text_len);
	if (rc)
		cu_complaint_row_release(out);
	return rc;
}

static cu_result read_complaint_v(const PGresult *r, int i, void *out)
{
	return read_complaint(r, i, out);
}

static cu_result complaint_insert(cu_store *s, const cu_complaint_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->member);
	cu_pg_param_text(&p, row->about);
	cu_pg_param_text(&p, row->state);
	cu_pg_param_int(&p, row->received_us);
	cu_pg_param_int(&p, row->due_us);
	cu_pg_param_int(&p, row->updated_us);
	cu_pg_param_text(&p, row->assigned);
	cu_pg_param_time(&p, row->closed_us);
	cu_pg_param_text(&p, row->closed_by);
	cu_pg_param_text(&p, row->note);
	cu_pg_param_bytes(&p, row->text, row->text_len);
	return cu_pg_insert(
	    s, S_CMP_INSERT,
	    "INSERT INTO complaints (id, member, about, state, received_us, due_us,"
	    " updated_us, assigned, closed_us, closed_by, note, text)"
	    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT DO NOTHING",
	    &p);
}

static cu_result complaint_get(cu_store *s, const char *id, cu_complaint_row *out)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, id);
	return cu_pg_one_row(s, S_CMP_GET, "SELECT " CMP_COLS " FROM complaints c WHERE c.id = $1",
	                     &p, read_complaint_v, out);
}

static cu_result complaint_update(cu_store *s, const cu_complaint_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->state);
	cu_pg_param_int(&p, row->updated_us);
	cu_pg_param_text(&p, row->assigned);
	cu_pg_param_time(&p, row->closed_us);
	cu_pg_param_text(&p, row->closed_by);
	cu_pg_param_text(&p, row->note);
	return cu_pg_write_one(s, S_CMP_UPDATE,
	                       "UPDATE complaints SET state = $2, updated_us = $3, assigned = $4,"
	                       " closed_us = $5, closed_by = $6, note = $7 WHERE id = $1",
	                       &p, CU_ERR_NOT_FOUND);
}

static cu_result each_complaint(cu_result rc, PGresult *res, cu_store_complaint_fn fn, void *ud)
{
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_complaint_row, read_complaint, cu_complaint_row_release, fn,
	                ud);
	return rc;
}

static cu_result complaint_list_open(cu_store *s, int64_t due_before_us, cu_store_complaint_fn fn,
                                     void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_int(&p, due_before_us);
	cu_result rc =
	    cu_pg_exec(s, S_CMP_LIST_OPEN,
	               "SELECT " CMP_COLS " FROM complaints c JOIN members m ON m.id = c.member"
	               " WHERE c.closed_us IS NULL AND m.erased_us IS NULL"
	               " AND ($1 <= 0 OR c.due_us < $1) ORDER BY c.due_us, c.rowid",
	               &p, &res);

	return each_complaint(rc, res, fn, ud);
}

static cu_result complaint_list_member(cu_store *s, const char *member, cu_store_complaint_fn fn,
                                       void *ud)
{
	cu_pg_params p = {0};
	PGresult *res = NULL;

	cu_pg_param_text(&p, member);
	cu_result rc = cu_pg_exec(s, S_CMP_LIST_MEMBER,
	                          "SELECT " CMP_COLS " FROM complaints c WHERE c.member = $1"
	                          " ORDER BY c.rowid",
	                          &p, &res);

	return each_complaint(rc, res, fn, ud);
}

static cu_result read_response(const PGresult *r, int i, cu_complaint_response_row *out)
{
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_pg_copy_text(r, i, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 1, out->complaint, CU_ID_LEN);
	if (!rc)
		rc = cu_pg_copy_text(r, i, 2, out->officer, CU_REQUEST_ACTOR_MAX);
	out->time_us = cu_pg_int(r, i, 3);
	out->closing = cu_pg_int(r, i, 4) != 0;
	if (!rc)
		rc = opt_blob(r, i, 5, &out->text, &out->text_len);
	if (rc)
		cu_complaint_response_row_release(out);
	return rc;
}

static cu_result response_insert(cu_store *s, const cu_complaint_response_row *row)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, row->id);
	cu_pg_param_text(&p, row->complaint);
	cu_pg_param_text(&p, row->officer);
	cu_pg_param_int(&p, row->time_us);
	cu_pg_param_int(&p, row->closing ? 1 : 0);
	cu_pg_param_bytes(&p, row->text, row->text_len);
	return cu_pg_insert(s, S_RSP_INSERT,
	                    "INSERT INTO complaint_responses (member, " RSP_COLS ")"
	                    " VALUES ((SELECT member FROM complaints WHERE id = $2),"
	                    "$1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING",
	                    &p);
}

static cu_result response_list(cu_store *s, const char *complaint,
                               cu_store_complaint_response_fn fn, void *ud)
{
	cu_pg_params p = {0};
	PGresult *res;
	cu_result rc;

	cu_pg_param_text(&p, complaint);
	rc = cu_pg_exec(s, S_RSP_LIST,
	                "SELECT " RSP_COLS " FROM complaint_responses WHERE complaint = $1"
	                " ORDER BY rowid",
	                &p, &res);
	if (rc)
		return rc;
	CU_PG_LIST_LOOP(rc, res, cu_complaint_response_row, read_response,
	                cu_complaint_response_row_release, fn, ud);
	return rc;
}

static cu_result response_count(cu_store *s, const char *complaint, uint64_t *n)
{
	cu_pg_params p = {0};

	cu_pg_param_text(&p, complaint);
	return cu_pg_count(s, S_RSP_COUNT,
	                   "SELECT count(*) FROM complaint_responses WHERE complaint = $1", &p, n);
}

static cu_result forget_member(cu_store *s, const char *member, uint64_t *n)
{
	static const struct {
		int slot;
		const char *sql;
	} steps[] = {
	    {S_FORGET_REQ, "UPDATE requests SET details = NULL"
	                   " WHERE member = $1 AND details IS NOT NULL"},
	    {S_FORGET_EV, "UPDATE request_events SET reasons = NULL"
	                  " WHERE member = $1 AND reasons IS NOT NULL"},
	    {S_FORGET_CMP, "UPDATE complaints SET text = NULL"
	                   " WHERE member = $1 AND text IS NOT NULL"},
	    {S_FORGET_RSP, "UPDATE complaint_responses SET text = NULL"
	                   " WHERE member = $1 AND text IS NOT NULL"},
	};

	*n = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		cu_pg_params p = {0};
		uint64_t k = 0;
		cu_result rc;

		cu_pg_param_text(&p, member);
		rc = cu_pg_write(s, steps[i].slot, steps[i].sql, &p, &k);
		if (rc)
			return rc;
		*n += k;
	}
	return CU_OK;
}

const struct cu_store_request_ops cu_pg_request_ops = {
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
