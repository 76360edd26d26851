/*
 * server/routes/notify.c — notifications: the member's notices, and the privacy
 * officer's view of the outbox (counts and rows, never an address).
 */
#include "routes/routes.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/notify.h"
#include "domain/notify.h"


static json_t *iso_time(int64_t us)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char out[CU_HTTP_TIME_LEN];

	if (!us)
		return json_null();
	gmtime_r(&t, &tm);
	strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(out);
}

static int parse_limit(const char *s, size_t def, size_t max, size_t *out)
{
	char *end;
	long v;

	*out = def;
	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || (size_t)v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

static enum MHD_Result store_unavailable(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
}

static json_t *notice_json(const cu_notice_row *n)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "id", n->id, "kind", n->kind, "subject",
	                 n->subject, "body", n->body, "created", iso_time(n->created_us), "read",
	                 iso_time(n->read_us));
}

/* ---- GET /v1/me/notices -------------------------------------------------- */

static int collect_notice(void *ud, const cu_notice_row *n)
{
	json_array_append_new(ud, notice_json(n));
	return 0;
}

static enum MHD_Result h_me_notices(cu_request *r)
{
	static const char *const allowed[] = {"limit", NULL};
	cu_store *reader = cu_http_reader(r->srv);
	size_t limit;
	json_t *arr;

	if (cu_http_query_only(r, allowed) ||
	    parse_limit(cu_http_query(r, "limit"), 50, 200, &limit))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "limit must be 1..200",
		                           NULL);
	if (!reader)
		return store_unavailable(r);
	arr = json_array();
	if (cu_notice_list(reader, r->member, limit, collect_notice, arr) != CU_OK) {
		json_decref(arr);
		return store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "notices", arr));
}

/* ---- POST /v1/me/notices/{id}/read --------------------------------------- */

static cu_result run_mark_read(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	/* "Not yours" is an answer, not a failure: nothing to undo either way. */
	job->rc = cu_notify_mark_read(ctx, r->member, r->params[0]);
	return job->rc == CU_ERR_NOT_FOUND ? CU_OK : job->rc;
}

static enum MHD_Result h_me_notice_read(cu_request *r)
{
	cu_store *reader;
	cu_notice_row *n;

	if (r->phase == 0) {
		if (cu_http_query_only(r, (const char *const[]){NULL}))
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
			                           "no query parameters here", NULL);
		return cu_http_wait_writer(r, run_mark_read);
	}
	if (r->job.rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such notice", NULL);
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	reader = cu_http_reader(r->srv);
	n = cu_arena_alloc(&r->arena, sizeof(*n));
	if (!reader || !n)
		return store_unavailable(r);
	/* Committed before we were resumed: the reader sees it. */
	if (cu_notice_get(reader, r->params[0], n) != CU_OK || strcmp(n->member, r->member))
		return store_unavailable(r);
	return cu_http_reply_json(r, MHD_HTTP_OK, notice_json(n));
}

/* ---- GET /v1/notify/outbox ----------------------------------------------- */

static int collect_outbox(void *ud, const cu_outbox_row *o)
{
	json_t *row =
	    json_pack("{s:s,s:s,s:s,s:s,s:I,s:o,s:o,s:o,s:s}", "id", o->id, "member", o->member,
	              "kind", o->kind, "status", cu_outbox_status_name(o->status), "attempts",
	              (json_int_t)o->attempts, "created", iso_time(o->created_us), "next_attempt",
	              o->status == CU_OUTBOX_PENDING ? iso_time(o->next_attempt_us) : json_null(),
	              "sent", iso_time(o->sent_us), "last_error", o->last_error);

	json_array_append_new(ud, row);
	return 0;
}

static enum MHD_Result h_outbox(cu_request *r)
{
	static const char *const allowed[] = {"status", "limit", NULL};
	const char *status = cu_http_query(r, "status");
	cu_store *reader = cu_http_reader(r->srv);
	uint64_t counts[CU_OUTBOX_STATUS_COUNT_];
	cu_outbox_status st = CU_OUTBOX_PENDING;
	json_t *rows, *c;
	size_t limit;

	if (cu_http_query_only(r, allowed) ||
	    parse_limit(cu_http_query(r, "limit"), 100, 1000, &limit) ||
	    (status && cu_outbox_status_parse(status, &st)))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected status (pending, sent, failed or dropped) and "
		                           "limit (1..1000)",
		                           NULL);
	if (!reader)
		return store_unavailable(r);
	rows = json_array();
	if (cu_outbox_counts(reader, counts) ||
	    cu_outbox_list(reader, !status, st, limit, collect_outbox, rows)) {
		json_decref(rows);
		return store_unavailable(r);
	}
	c = json_object();
	for (int i = 0; i < CU_OUTBOX_STATUS_COUNT_; i++)
		json_object_set_new(c, cu_outbox_status_name((cu_outbox_status)i),
		                    json_integer((json_int_t)counts[i]));
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:o,s:o}", "counts", c, "rows", rows));
}

/* ---- the table ----------------------------------------------------------- */

const cu_route cu_routes_notify[] = {
    {"GET", "/v1/me/notices", "/v1/me/notices", h_me_notices, R(MEMBER), false, false, false},
    {"POST", "/v1/me/notices/{}/read", "/v1/me/notices/{id}/read", h_me_notice_read, R(MEMBER),
     false, false, false},
    {"GET", "/v1/notify/outbox", "/v1/notify/outbox", h_outbox, R(OFFICER), false, false, false},
};

const size_t cu_routes_notify_count = sizeof(cu_routes_notify) / sizeof(cu_routes_notify[0]);
