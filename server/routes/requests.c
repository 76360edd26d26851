/*
 * server/routes/requests.c — disclosure (the member's export), requests
 * (disclosure, amendment, erasure) and complaints over HTTP.
 *
 * Writes and every opening of a request's or complaint's texts run on the
 * writer, in the transaction of their audit entry; the answer leaves only
 * once that batch is durable.  The export decides on a reader, sends its
 * audit entries to the writer, and opens everything only after they are
 * committed — the shape of the door's reads (routes/pipeline.c).
 */
#include "routes/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/complaints.h"
#include "domain/export.h"
#include "domain/requests.h"


/* ---- shared -------------------------------------------------------------- */

static bool has_query(cu_request *r)
{
	return cu_http_query_only(r, (const char *const[]){NULL}) != 0;
}

static enum MHD_Result no_query(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
}

/* A reply holding opened texts: the document is wiped once printed, the text once sent. */
static enum MHD_Result reply_wiped(cu_request *r, int status, json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;

	cu_http_json_wipe(doc);
	json_decref(doc);
	return cu_http_reply_text(r, status, "application/json", text);
}

/* Whether every key of body is in keys (NULL-terminated). */
static bool only_keys(json_t *body, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v)
	{
		bool known = false;

		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, key);
		if (!known)
			return false;
	}
	return true;
}

/* ?status=open|overdue (default open). */
static int parse_status(cu_request *r, bool *overdue)
{
	static const char *const allowed[] = {"status", NULL};
	const char *s = cu_http_query(r, "status");

	*overdue = false;
	if (cu_http_query_only(r, allowed))
		return -1;
	if (!s || !strcmp(s, "open"))
		return 0;
	if (!strcmp(s, "overdue")) {
		*overdue = true;
		return 0;
	}
	return -1;
}

/* ---- GET /v1/me/export --------------------------------------------------- */

struct export_state {
	cu_export_plan plan; /* must not move: its audit entries point into it */
	cu_policy *policy;
};

static void export_cleanup(cu_request *r)
{
	struct export_state *st = r->state;

	cu_export_plan_release(&st->plan);
}

static cu_result run_export(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct export_state *st = r->state;

	/* Allowed or not, the entries stand; only a failure of the store undoes them. */
	return cu_http_answer(job, cu_export_record(ctx, &st->plan));
}

static enum MHD_Result h_export(cu_request *r)
{
	static const char *const allowed[] = {"format", NULL};
	struct export_state *st = r->state;
	cu_store *reader = cu_http_reader(r->srv);
	const char *format = cu_http_query(r, "format");
	cu_export_format fmt = CU_EXPORT_JSON;
	json_t *doc = NULL;
	char *text = NULL;
	size_t len = 0;
	cu_result rc;

	if (r->phase == 0) {
		if (cu_http_query_only(r, allowed) ||
		    (format && cu_export_format_parse(format, &fmt)))
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
			                           "format must be json or csv", NULL);
		if (!reader)
			return cu_http_store_unavailable(r);
		st = cu_arena_alloc(&r->arena, sizeof(*st));
		if (!st)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		memset(st, 0, sizeof(*st));
		r->state = st;
		r->cleanup = export_cleanup;
		st->policy = cu_http_policy(r->srv);
		/* Decided here; the decision is audited next, whatever it is. */
		(void)!cu_export_prepare(st->policy, reader, &r->actor, r->member, fmt, &st->plan);
		return cu_http_wait_writer(r, run_export);
	}
	/* Fail closed: no committed audit entry, no data. */
	if (r->job.rc)
		return cu_http_reply_error(r, CU_ERR_STORE, "the export could not be audited",
		                           NULL);
	if (st->plan.rc == CU_ERR_DISCLOSURE_REFUSED) {
		char why[CU_HTTP_MESSAGE_MAX];

		/* Names the refusal (ids and the ground's id only): the member can ask about it. */
		snprintf(why, sizeof(why),
		         "the export is suspended while the refusal of disclosure request %s "
		         "(ground %s) stands",
		         st->plan.refusal, st->plan.refusal_ground);
		return cu_http_reply_error(r, st->plan.rc, why, NULL);
	}
	if (st->plan.rc)
		return cu_http_reply_error(r, st->plan.rc, NULL, NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc =
	    cu_export_collect(st->policy, r->srv->ctx->vault, reader, &st->plan, cu_now_us(), &doc);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	if (st->plan.format == CU_EXPORT_CSV) {
		rc = cu_export_csv(doc, &text, &len);
		cu_export_free(doc);
		if (rc)
			return cu_http_reply_error(r, rc, NULL, NULL);
		cu_http_header(r, "Content-Disposition",
		               "attachment; filename=\"custodian-export.csv\"");
		return cu_http_reply_text(r, MHD_HTTP_OK, "text/csv; charset=utf-8", text);
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	cu_export_free(doc);
	cu_http_header(r, "Content-Disposition", "attachment; filename=\"custodian-export.json\"");
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", text);
}

/* ---- POST /v1/requests --------------------------------------------------- */

struct file_state {
	json_t *body;
	cu_errors errs;
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	cu_request_input in;
	cu_request_row row;
	char token[CU_REQUEST_TOKEN_LEN + 1];
};

static void file_cleanup(cu_request *r)
{
	struct file_state *st = r->state;

	cu_request_row_release(&st->row);
	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result run_file(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct file_state *st = r->state;

	return cu_http_answer(job, cu_request_file(ctx, &r->actor, r->member, &st->in, cu_now_us(),
	                                           &st->row, st->token, &st->errs));
}

/*
 * {"changes": {field: value|null}, "reason": text} for an amendment,
 * {"note": text} (optional) otherwise.  Shape errors are 400; values are
 * checked by the library (422 with the fields named).  -1 when it replied.
 */
static int read_details(cu_request *r, struct file_state *st, json_t *details,
                        enum MHD_Result *reply)
{
	static const char *const amendment_keys[] = {"changes", "reason", NULL};
	static const char *const note_keys[] = {"note", NULL};
	json_t *changes, *text, *v;
	const char *key;

	if (st->in.type == CU_REQUEST_AMENDMENT) {
		changes = json_object_get(details, "changes");
		text = json_object_get(details, "reason");
		if (!json_is_object(details) || !only_keys(details, amendment_keys) ||
		    !json_is_object(changes) || (text && !json_is_string(text))) {
			*reply =
			    cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
			                        "an amendment needs details {\"changes\": {field: "
			                        "value or null}, \"reason\": ...}",
			                        NULL);
			return -1;
		}
		json_object_foreach(changes, key, v)
		{
			if (st->in.nchanges >= CU_POLICY_FIELDS_MAX) {
				cu_errors_add(&st->errs, "changes", "too_many_fields");
				*reply =
				    cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
				return -1;
			}
			st->kv[st->in.nchanges].name = key;
			switch (cu_http_field_value(r, cu_http_policy(r->srv), key, v,
			                            &st->kv[st->in.nchanges].value, &st->errs)) {
			case 0:
				break;
			case -1:
				*reply =
				    cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
				return -1;
			default:
				*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
				return -1;
			}
			st->in.nchanges++;
		}
		st->in.changes = st->kv;
		st->in.text = text ? json_string_value(text) : NULL;
		return 0;
	}
	if (!details)
		return 0;
	text = json_object_get(details, "note");
	if (!json_is_object(details) || !only_keys(details, note_keys) ||
	    (text && !json_is_string(text))) {
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                             "details of a disclosure or erasure: {\"note\": ...}",
		                             NULL);
		return -1;
	}
	st->in.text = text ? json_string_value(text) : NULL;
	return 0;
}

static enum MHD_Result h_request_file(cu_request *r)
{
	static const char *const keys[] = {"type", "details", NULL};
	struct file_state *st = r->state;
	enum MHD_Result reply;
	json_t *type, *out;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		out = json_pack("{s:o}", "request", cu_request_row_json(&st->row, cu_now_us()));
		if (out && st->token[0])
			json_object_set_new(out, "certificate_token", json_string(st->token));
		sodium_memzero(st->token, sizeof(st->token));
		return reply_wiped(r, MHD_HTTP_CREATED, out);
	}
	if (has_query(r))
		return no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = file_cleanup;
	type = json_object_get(st->body, "type");
	if (!only_keys(st->body, keys) || !json_is_string(type) ||
	    cu_request_type_parse(json_string_value(type), &st->in.type))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"type\": \"disclosure\"|\"amendment\"|"
		                           "\"erasure\", \"details\": {...}}",
		                           NULL);
	if (read_details(r, st, json_object_get(st->body, "details"), &reply))
		return reply;
	return cu_http_wait_writer(r, run_file);
}

/* ---- GET /v1/requests ---------------------------------------------------- */

struct list_out {
	json_t *list;
	int64_t now_us;
};

static int list_request(void *ud, const cu_request_row *row)
{
	struct list_out *o = ud;

	json_array_append_new(o->list, cu_request_row_json(row, o->now_us));
	return 0;
}

/* What the two case lists (requests, complaints) differ in: the walk and the key. */
struct case_list {
	const char *key;
	cu_result (*walk)(cu_store *reader, const cu_actor *actor, bool overdue,
	                  struct list_out *o);
};

static cu_result walk_requests(cu_store *reader, const cu_actor *actor, bool overdue,
                               struct list_out *o)
{
	return cu_request_list(reader, actor, overdue, o->now_us, list_request, o);
}

/* GET /v1/requests and /v1/complaints: open or overdue cases as the actor may see them. */
static enum MHD_Result case_list(cu_request *r, const struct case_list *k)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct list_out o = {NULL, cu_now_us()};
	char now[CU_HTTP_TIME_LEN];
	bool overdue;
	cu_result rc;

	if (parse_status(r, &overdue))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "status must be open or overdue", NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	o.list = json_array();
	rc = k->walk(reader, &r->actor, overdue, &o);
	if (rc) {
		json_decref(o.list);
		return cu_http_reply_error(r, rc, NULL, NULL);
	}
	cu_http_iso_time(o.now_us, now);
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:s,s:s,s:o}", "status", overdue ? "overdue" : "open",
	                                    "now", now, k->key, o.list));
}

static enum MHD_Result h_requests_list(cu_request *r)
{
	static const struct case_list requests = {"requests", walk_requests};

	return case_list(r, &requests);
}

/* ---- GET /v1/me/requests and /v1/me/complaints ---------------------------- */

/*
 * The member's own cases, newest first, closed ones too: the portal's lists.
 * Metadata only (ids, states, dates, field names); the texts open, audited,
 * one case at a time with GET /v1/requests/{id} and /v1/complaints/{id}.
 */
static enum MHD_Result my_cases(cu_request *r, const char *key,
                                cu_result (*walk)(cu_store *, const cu_actor *, const char *,
                                                  struct list_out *))
{
	cu_store *reader = cu_http_reader(r->srv);
	struct list_out o = {NULL, cu_now_us()};
	char now[CU_HTTP_TIME_LEN];
	json_t *newest;
	size_t n;
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	o.list = json_array();
	rc = walk(reader, &r->actor, r->member, &o);
	if (rc) {
		json_decref(o.list);
		return cu_http_reply_error(r, rc, NULL, NULL);
	}
	/* The store gives them oldest first; a member looks for the latest. */
	n = json_array_size(o.list);
	newest = json_array();
	for (size_t i = n; i > 0; i--)
		json_array_append(newest, json_array_get(o.list, i - 1));
	json_decref(o.list);
	cu_http_iso_time(o.now_us, now);
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:s,s:o}", "now", now, key, newest));
}

static cu_result walk_my_requests(cu_store *reader, const cu_actor *actor, const char *member,
                                  struct list_out *o)
{
	return cu_request_list_member(reader, actor, member, list_request, o);
}

static enum MHD_Result h_my_requests(cu_request *r)
{
	return my_cases(r, "requests", walk_my_requests);
}

/* ---- GET /v1/requests/{id} ----------------------------------------------- */

struct view_state {
	cu_request_view view;
	cu_complaint_view cview;
};

static void view_cleanup(cu_request *r)
{
	struct view_state *st = r->state;

	cu_request_view_wipe(&st->view);
	cu_complaint_view_wipe(&st->cview);
}

static cu_result run_request_get(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct view_state *st = r->state;

	return cu_http_answer(job, cu_request_get(ctx, &r->actor, r->params[0], &st->view));
}

static enum MHD_Result start_view(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *))
{
	struct view_state *st;

	if (has_query(r))
		return no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_request_view_init(&st->view);
	cu_complaint_view_init(&st->cview);
	r->state = st;
	r->cleanup = view_cleanup;
	return cu_http_wait_writer(r, run);
}

static enum MHD_Result h_request_get(cu_request *r)
{
	struct view_state *st = r->state;

	if (r->phase == 0)
		return start_view(r, run_request_get);
	if (r->job.rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such request of yours", NULL);
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	return reply_wiped(r, MHD_HTTP_OK, cu_request_view_json(&st->view, cu_now_us()));
}

/* ---- POST /v1/requests/{id}/decision ------------------------------------- */

struct decide_state {
	json_t *body;
	cu_errors errs;
	cu_request_decision dec;
	cu_request_row row;
	char *certificate;
};

static void decide_cleanup(cu_request *r)
{
	struct decide_state *st = r->state;

	cu_request_row_release(&st->row);
	free(st->certificate);
	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result run_decide(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct decide_state *st = r->state;

	return cu_http_answer(job,
	                      cu_request_decide(ctx, &r->actor, r->params[0], &st->dec, cu_now_us(),
	                                        &st->row, &st->certificate, &st->errs));
}

static enum MHD_Result h_request_decide(cu_request *r)
{
	static const char *const keys[] = {"action", "ground", "reasons", NULL};
	struct decide_state *st = r->state;
	enum MHD_Result reply;
	json_t *action, *ground, *reasons, *out;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_NOT_FOUND)
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such request", NULL);
		if (r->job.rc == CU_ERR_CONFLICT && !st->errs.n)
			return cu_http_reply_error(r, CU_ERR_CONFLICT,
			                           "this request is already decided, or already "
			                           "being investigated",
			                           NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		out = json_pack("{s:o}", "request", cu_request_row_json(&st->row, cu_now_us()));
		if (out && st->certificate) {
			json_t *c = json_loads(st->certificate, 0, NULL);

			if (c)
				json_object_set_new(out, "certificate", c);
		}
		return cu_http_reply_json(r, MHD_HTTP_OK, out);
	}
	if (has_query(r))
		return no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = decide_cleanup;
	action = json_object_get(st->body, "action");
	ground = json_object_get(st->body, "ground");
	reasons = json_object_get(st->body, "reasons");
	if (!only_keys(st->body, keys) || !json_is_string(action) ||
	    cu_request_action_parse(json_string_value(action), &st->dec.action) ||
	    (ground && !json_is_string(ground)) || (reasons && !json_is_string(reasons)))
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "expected {\"action\": \"investigate\"|\"apply\"|\"reject\"|"
		    "\"refuse\"|\"lift\", \"ground\": ..., \"reasons\": ...}",
		    NULL);
	st->dec.ground = ground ? json_string_value(ground) : NULL;
	st->dec.reasons = reasons ? json_string_value(reasons) : NULL;
	return cu_http_wait_writer(r, run_decide);
}

/* ---- GET /v1/requests/{id}/certificate ----------------------------------- */

static enum MHD_Result h_certificate(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	const char *token = cu_http_header_value(r, "X-Certificate-Token");
	char *json = NULL;
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	/* After an erasure there is no login: the token given when it was asked stands in. */
	if (r->auth == CU_AUTH_NONE && !token)
		return cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
		                           "log in, or send the certificate token as "
		                           "X-Certificate-Token",
		                           NULL);
	rc = cu_request_certificate(reader, r->auth == CU_AUTH_NONE ? NULL : &r->actor,
	                            r->params[0], token, &json);
	if (rc == CU_ERR_UNAUTHENTICATED)
		return cu_http_reply_error(r, rc, "the certificate token does not match", NULL);
	if (rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND,
		                           "no erasure certificate for this request (yet)", NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", json);
}

/* ---- complaints ---------------------------------------------------------- */

struct complaint_state {
	json_t *body;
	cu_errors errs;
	const char *about, *text, *officer;
	bool close;
	cu_complaint_row row;
};

static void complaint_cleanup(cu_request *r)
{
	struct complaint_state *st = r->state;

	cu_complaint_row_release(&st->row);
	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

/* Parses the body into a new complaint_state; non-NULL reply when it already answered. */
static struct complaint_state *complaint_body(cu_request *r, enum MHD_Result *reply)
{
	struct complaint_state *st;

	if (has_query(r)) {
		*reply = no_query(r);
		return NULL;
	}
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st) {
		*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, reply);
	if (!st->body)
		return NULL;
	r->state = st;
	r->cleanup = complaint_cleanup;
	return st;
}

static cu_result run_complaint_file(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct complaint_state *st = r->state;

	return cu_http_answer(job, cu_complaint_file(ctx, &r->actor, r->member, st->about, st->text,
	                                             cu_now_us(), &st->row, &st->errs));
}

static enum MHD_Result h_complaint_file(cu_request *r)
{
	static const char *const keys[] = {"about", "text", NULL};
	struct complaint_state *st = r->state;
	enum MHD_Result reply;
	json_t *about, *text;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(
		    r, MHD_HTTP_CREATED,
		    json_pack("{s:o}", "complaint", cu_complaint_row_json(&st->row, cu_now_us())));
	}
	st = complaint_body(r, &reply);
	if (!st)
		return reply;
	about = json_object_get(st->body, "about");
	text = json_object_get(st->body, "text");
	if (!only_keys(st->body, keys) || !json_is_string(about) || !json_is_string(text))
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "expected {\"about\": \"use\"|\"provision\"|\"disclosure\"|"
		    "\"amendment\"|\"other\", \"text\": ...}",
		    NULL);
	st->about = json_string_value(about);
	st->text = json_string_value(text);
	return cu_http_wait_writer(r, run_complaint_file);
}

static int list_complaint(void *ud, const cu_complaint_row *row)
{
	struct list_out *o = ud;

	json_array_append_new(o->list, cu_complaint_row_json(row, o->now_us));
	return 0;
}

static cu_result walk_complaints(cu_store *reader, const cu_actor *actor, bool overdue,
                                 struct list_out *o)
{
	return cu_complaint_list(reader, actor, overdue, o->now_us, list_complaint, o);
}

static cu_result walk_my_complaints(cu_store *reader, const cu_actor *actor, const char *member,
                                    struct list_out *o)
{
	return cu_complaint_list_member(reader, actor, member, list_complaint, o);
}

static enum MHD_Result h_my_complaints(cu_request *r)
{
	return my_cases(r, "complaints", walk_my_complaints);
}

static enum MHD_Result h_complaints_list(cu_request *r)
{
	static const struct case_list complaints = {"complaints", walk_complaints};

	return case_list(r, &complaints);
}

static cu_result run_complaint_get(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct view_state *st = r->state;

	return cu_http_answer(job, cu_complaint_get(ctx, &r->actor, r->params[0], &st->cview));
}

static enum MHD_Result h_complaint_get(cu_request *r)
{
	struct view_state *st = r->state;

	if (r->phase == 0)
		return start_view(r, run_complaint_get);
	if (r->job.rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such complaint of yours", NULL);
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	return reply_wiped(r, MHD_HTTP_OK, cu_complaint_view_json(&st->cview, cu_now_us()));
}

static cu_result run_assign(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct complaint_state *st = r->state;

	return cu_http_answer(job, cu_complaint_assign(ctx, &r->actor, r->params[0], st->officer,
	                                               cu_now_us(), &st->errs));
}

static enum MHD_Result h_complaint_assign(cu_request *r)
{
	static const char *const keys[] = {"officer", NULL};
	struct complaint_state *st = r->state;
	enum MHD_Result reply;
	json_t *officer;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_NOT_FOUND)
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such complaint", NULL);
		if (r->job.rc == CU_ERR_CONFLICT)
			return cu_http_reply_error(r, CU_ERR_CONFLICT, "this complaint is closed",
			                           NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(
		    r, MHD_HTTP_OK,
		    json_pack("{s:s,s:s}", "id", r->params[0], "assigned", st->officer));
	}
	st = complaint_body(r, &reply);
	if (!st)
		return reply;
	officer = json_object_get(st->body, "officer");
	if (!only_keys(st->body, keys) || !json_is_string(officer))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"officer\": ...}", NULL);
	st->officer = json_string_value(officer);
	return cu_http_wait_writer(r, run_assign);
}

static cu_result run_respond(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct complaint_state *st = r->state;

	return cu_http_answer(job,
	                      cu_complaint_respond(ctx, &r->actor, r->params[0], st->text,
	                                           st->close, cu_now_us(), &st->row, &st->errs));
}

static enum MHD_Result h_complaint_respond(cu_request *r)
{
	static const char *const keys[] = {"text", "close", NULL};
	struct complaint_state *st = r->state;
	enum MHD_Result reply;
	json_t *text, *close;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_NOT_FOUND)
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such complaint", NULL);
		if (r->job.rc == CU_ERR_CONFLICT)
			return cu_http_reply_error(r, CU_ERR_CONFLICT, "this complaint is closed",
			                           NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(
		    r, MHD_HTTP_CREATED,
		    json_pack("{s:o}", "complaint", cu_complaint_row_json(&st->row, cu_now_us())));
	}
	st = complaint_body(r, &reply);
	if (!st)
		return reply;
	text = json_object_get(st->body, "text");
	close = json_object_get(st->body, "close");
	if (!only_keys(st->body, keys) || json_object_size(st->body) == 0 ||
	    (text && !json_is_string(text)) || (close && !json_is_boolean(close)))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"text\": ..., \"close\": true|false}", NULL);
	st->text = text ? json_string_value(text) : NULL;
	st->close = json_is_true(close);
	return cu_http_wait_writer(r, run_respond);
}

const cu_route cu_routes_request[] = {
    {"GET", "/v1/me/export", "/v1/me/export", h_export, R(MEMBER), false, false, false},
    {"POST", "/v1/requests", "/v1/requests", h_request_file, R(MEMBER), false, false, false},
    {"GET", "/v1/requests", "/v1/requests", h_requests_list, R(OFFICER), false, false, false},
    {"GET", "/v1/requests/{}", "/v1/requests/{id}", h_request_get, R(MEMBER) | R(OFFICER), false,
     false, false},
    {"POST", "/v1/requests/{}/decision", "/v1/requests/{id}/decision", h_request_decide, R(OFFICER),
     false, false, false},
    {"GET", "/v1/requests/{}/certificate", "/v1/requests/{id}/certificate", h_certificate,
     R(MEMBER) | R(OFFICER), true, false, false},
    {"POST", "/v1/complaints", "/v1/complaints", h_complaint_file, R(MEMBER), false, false, false},
    {"GET", "/v1/complaints", "/v1/complaints", h_complaints_list, R(OFFICER), false, false, false},
    {"GET", "/v1/complaints/{}", "/v1/complaints/{id}", h_complaint_get, R(MEMBER) | R(OFFICER),
     false, false, false},
    {"POST", "/v1/complaints/{}/assign", "/v1/complaints/{id}/assign", h_complaint_assign,
     R(OFFICER), false, false, false},
    {"POST", "/v1/complaints/{}/responses", "/v1/complaints/{id}/responses", h_complaint_respond,
     R(OFFICER), false, false, false},
    {"GET", "/v1/me/requests", "/v1/me/requests", h_my_requests, R(MEMBER), false, false, false},
    {"GET", "/v1/me/complaints", "/v1/me/complaints", h_my_complaints, R(MEMBER), false, false,
     false},
};

const size_t cu_routes_request_count = sizeof(cu_routes_request) / sizeof(cu_routes_request[0]);
