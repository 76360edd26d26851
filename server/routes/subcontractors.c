/*
 * server/routes/subcontractors.c — subcontractors and their supervision
 * reviews (and the overdue list), over HTTP.
 */
#include "routes/routes.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "domain/consent.h"
#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"

#include "http/json_out.h"

#define PURPOSES_MAX 64 /* purposes a subcontract names */

/* ---- subcontractors ------------------------------------------------------ */

static json_t *subcontractor_json(const cu_subcontractor_row *c, int64_t now)
{
	return json_pack(
	    "{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b,s:o,s:s}", "id", c->id, "name", c->name,
	    "contact", c->contact, "fields", cu_route_list_json(c->fields_text, ','), "purposes",
	    cu_route_list_json(c->purposes_text, ','), "measures",
	    cu_route_list_json(c->measures, '\n'), "start", cu_route_day(c->start_us), "end",
	    cu_route_day(c->end_us - CU_DAY_US), "in_force", cu_subcontract_in_force(c, now),
	    "registered", cu_route_iso(c->created_us), "registered_by", c->created_by);
}

static json_t *review_json(const cu_review_row *rv)
{
	json_t *o = json_pack("{s:s,s:s,s:o,s:s,s:b,s:o,s:s}", "id", rv->id, "subcontractor",
	                      rv->subcontractor, "due", cu_route_day(rv->due_us), "findings",
	                      rv->findings, "done", rv->done_us != 0, "created",
	                      cu_route_iso(rv->created_us), "created_by", rv->created_by);

	if (o && rv->done_us)
		json_object_set_new(o, "done_at", cu_route_iso(rv->done_us));
	return o;
}

struct sub_state {
	json_t *body;
	cu_subcontractor_input in;
	const char *fields[CU_POLICY_FIELDS_MAX], *purposes[PURPOSES_MAX],
	    *measures[CU_SUBCONTRACTOR_MEASURES_N];
	cu_subcontractor_row row;
	cu_errors errs;
};

static cu_result run_sub(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct sub_state *st = r->state;

	return cu_http_answer(
	    job, cu_subcontractor_register(ctx, &r->actor, &st->in, &st->row, &st->errs));
}

static enum MHD_Result h_sub_create(cu_request *r)
{
	static const char *const keys[] = {"id",       "name",  "contact", "fields", "purposes",
	                                   "measures", "start", "end",     NULL};
	struct sub_state *st = r->state;
	enum MHD_Result reply;
	bool bad = false;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_CONFLICT)
			return cu_http_reply_error(
			    r, CU_ERR_CONFLICT, "a subcontractor with this id is registered", NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(
		    r, MHD_HTTP_CREATED,
		    json_pack("{s:o}", "subcontractor", subcontractor_json(&st->row, cu_now_us())));
	}
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = cu_route_body_cleanup;
	st->in.id = cu_route_opt_string(st->body, "id", &bad);
	st->in.name = cu_route_opt_string(st->body, "name", &bad);
	st->in.contact = cu_route_opt_string(st->body, "contact", &bad);
	st->in.start = cu_route_opt_string(st->body, "start", &bad);
	st->in.end = cu_route_opt_string(st->body, "end", &bad);
	if (bad || !cu_route_only_keys(st->body, keys) ||
	    cu_route_string_list(st->body, "fields", st->fields, CU_POLICY_FIELDS_MAX,
	                         &st->in.nfields) ||
	    cu_route_string_list(st->body, "purposes", st->purposes, PURPOSES_MAX,
	                         &st->in.npurposes) ||
	    cu_route_string_list(st->body, "measures", st->measures, CU_SUBCONTRACTOR_MEASURES_N,
	                         &st->in.nmeasures))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"id\", \"name\", \"contact\", \"start\", "
		                           "\"end\": strings, \"fields\", \"purposes\", "
		                           "\"measures\": [strings]}",
		                           NULL);
	st->in.fields = st->fields;
	st->in.purposes = st->purposes;
	st->in.measures = st->measures;
	return cu_http_wait_writer(r, run_sub);
}

struct sub_list {
	json_t *list;
	int64_t now;
};

static int collect_sub(void *ud, const cu_subcontractor_row *row)
{
	struct sub_list *c = ud;

	json_array_append_new(c->list, subcontractor_json(row, c->now));
	return 0;
}

static enum MHD_Result h_sub_list(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct sub_list c = {NULL, cu_now_us()};

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.list = json_array();
	if (cu_subcontractor_list(reader, collect_sub, &c)) {
		json_decref(c.list);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "subcontractors", c.list));
}

static int collect_review(void *ud, const cu_review_row *row)
{
	json_array_append_new(ud, review_json(row));
	return 0;
}

static enum MHD_Result h_sub_get(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_subcontractor_row row;
	json_t *reviews;
	cu_result rc;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_subcontractor_get(reader, r->params[0], &row);
	if (rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such subcontractor", NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	reviews = json_array();
	if (cu_review_list(reader, row.id, collect_review, reviews)) {
		json_decref(reviews);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:o,s:o}", "subcontractor",
	                                    subcontractor_json(&row, cu_now_us()), "reviews",
	                                    reviews));
}

struct review_state {
	json_t *body;
	const char *due, *findings;
	int done; /* -1 keep (updates), 0, 1 */
	cu_review_row row;
	cu_errors errs;
};

static cu_result run_review_add(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct review_state *st = r->state;

	return cu_http_answer(job, cu_subcontractor_review_add(ctx, &r->actor, r->params[0],
	                                                       st->due, st->findings, st->done == 1,
	                                                       &st->row, &st->errs));
}

static cu_result run_review_update(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct review_state *st = r->state;

	return cu_http_answer(job, cu_subcontractor_review_update(ctx, &r->actor, r->params[0],
	                                                          r->params[1], st->findings,
	                                                          st->done, &st->row, &st->errs));
}

/* Parses {due?, findings?, done?}; the reply when it is not that. */
static enum MHD_Result review_body(cu_request *r, bool update, struct review_state **out)
{
	static const char *const add_keys[] = {"due", "findings", "done", NULL};
	static const char *const update_keys[] = {"findings", "done", NULL};
	struct review_state *st;
	enum MHD_Result reply;
	json_t *done;
	bool bad = false;

	*out = NULL;
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = cu_route_body_cleanup;
	st->due = cu_route_opt_string(st->body, "due", &bad);
	st->findings = cu_route_opt_string(st->body, "findings", &bad);
	done = json_object_get(st->body, "done");
	st->done = done ? json_is_true(done) : update ? -1 : 0;
	if (bad || (done && !json_is_boolean(done)) ||
	    !cu_route_only_keys(st->body, update ? update_keys : add_keys) ||
	    (update && json_object_size(st->body) == 0))
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    update ? "expected {\"findings\": string, \"done\": bool}"
		           : "expected {\"due\": \"YYYY-MM-DD\", \"findings\": string, "
		             "\"done\": bool}",
		    NULL);
	*out = st;
	return MHD_YES;
}

static enum MHD_Result review_reply(cu_request *r, int status)
{
	struct review_state *st = r->state;

	if (r->job.rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND,
		                           r->params[1][0] ? "no such review of this subcontractor"
		                                           : "no such subcontractor",
		                           NULL);
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
	return cu_http_reply_json(r, status, json_pack("{s:o}", "review", review_json(&st->row)));
}

static enum MHD_Result h_review_add(cu_request *r)
{
	struct review_state *st;
	enum MHD_Result reply;

	if (r->phase > 0)
		return review_reply(r, MHD_HTTP_CREATED);
	reply = review_body(r, false, &st);
	return st ? cu_http_wait_writer(r, run_review_add) : reply;
}

static enum MHD_Result h_review_update(cu_request *r)
{
	struct review_state *st;
	enum MHD_Result reply;

	if (r->phase > 0)
		return review_reply(r, MHD_HTTP_OK);
	reply = review_body(r, true, &st);
	return st ? cu_http_wait_writer(r, run_review_update) : reply;
}

struct overdue {
	cu_store *reader;
	json_t *list;
};

static int collect_overdue(void *ud, const cu_review_row *row)
{
	struct overdue *c = ud;
	cu_subcontractor_row sub;
	json_t *o = review_json(row);

	if (cu_subcontractor_get(c->reader, row->subcontractor, &sub) == CU_OK)
		json_object_set_new(o, "subcontractor_name", json_string(sub.name));
	json_array_append_new(c->list, o);
	return 0;
}

static enum MHD_Result h_overdue(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct overdue c = {reader, NULL};

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.list = json_array();
	if (cu_subcontractor_reviews_overdue(reader, cu_now_us(), collect_overdue, &c)) {
		json_decref(c.list);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "reviews", c.list));
}

/* cu_route_cu_route_body_cleanup finds the body first in each of these. */
_Static_assert(offsetof(struct sub_state, body) == 0, "body first");
_Static_assert(offsetof(struct review_state, body) == 0, "body first");

/* ---- the table ----------------------------------------------------------- */

const cu_route cu_routes_subcontractors[] = {
    {"POST", "/v1/subcontractors", "/v1/subcontractors", h_sub_create, R(OFFICER), false, false,
     false},
    {"GET", "/v1/subcontractors", "/v1/subcontractors", h_sub_list, R(OFFICER), false, false,
     false},
    {"GET", "/v1/subcontractors/reviews/overdue", "/v1/subcontractors/reviews/overdue", h_overdue,
     R(OFFICER), false, false, false},
    {"GET", "/v1/subcontractors/{}", "/v1/subcontractors/{id}", h_sub_get, R(OFFICER), false, false,
     false},
    {"POST", "/v1/subcontractors/{}/reviews", "/v1/subcontractors/{id}/reviews", h_review_add,
     R(OFFICER), false, false, false},
    {"PATCH", "/v1/subcontractors/{}/reviews/{}", "/v1/subcontractors/{id}/reviews/{review}",
     h_review_update, R(OFFICER), false, false, false},
};

const size_t cu_routes_subcontractors_count =
    sizeof(cu_routes_subcontractors) / sizeof(cu_routes_subcontractors[0]);
