/*
 * server/routes/diaries.c — members' diaries over HTTP.
 *
 * The author (a member session) writes, lists, edits and deletes their own
 * entries under /v1/me/diaries; staff read a member's entries only through
 * the door's diary section, under a purpose marked `diaries` and with a
 * case: GET /v1/members/{id}/diaries?purpose=tos_review&case=...
 *
 * Writes run on the writer (one transaction with their audit entry, 2xx
 * only when durable).  Reads decide on a reader, send the decision's audit
 * entry to the writer, and open entries only after it is committed — the
 * same shape as the core's reads (routes/pipeline.c), for the author's list too.
 */
#include "routes/routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/diaries.h"


/*
 * A writer job's answer: refusals (and "not found") are answers whose audit
 * entries must be kept; only failures of the server itself undo the job.
 */
static cu_result answer(cu_job *job, cu_result rc)
{
	job->rc = rc;
	switch (rc) {
	case CU_ERR_INTERNAL:
	case CU_ERR_NOMEM:
	case CU_ERR_IO:
	case CU_ERR_STORE:
	case CU_ERR_CRYPTO:
	case CU_ERR_AUDIT_BROKEN:
		return rc;
	default:
		return CU_OK;
	}
}

/* ---- query parameters ------------------------------------------------------ */

/* ?limit=: digits only, 1..CU_DIARY_PAGE_MAX; 0 (the default) when absent. */
static int parse_limit(const char *s, size_t *out)
{
	size_t v = 0;

	*out = 0;
	if (!s)
		return 0;
	if (!*s || strlen(s) > 3)
		return -1;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (size_t)(*p - '0');
	}
	if (v < 1 || v > CU_DIARY_PAGE_MAX)
		return -1;
	*out = v;
	return 0;
}

/* ?before=: an entry id, as the previous page's next_before gave it. */
static int parse_before(const char *s)
{
	if (!s)
		return 0;
	if (strlen(s) != CU_ID_LEN)
		return -1;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return -1;
	return 0;
}

/* ---- reads through the door ------------------------------------------------ */

struct read_state {
	cu_diary_request req;
	cu_diary_decision d;
	cu_access_audit au;
	cu_member_row row;
	bool have_row;
	cu_diary_list list;
	bool staff; /* the answer names the purpose and the case */
};

static void read_cleanup(cu_request *r)
{
	struct read_state *st = r->state;

	if (st->have_row)
		cu_member_row_release(&st->row);
	cu_diary_list_wipe(&st->list);
}

static cu_result append_audit(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct read_state *st = r->state;

	return cu_audit_append(ctx->audit, ctx->store, &st->au.entry);
}

static enum MHD_Result start_read(cu_request *r, const char *member, const char *purpose,
                                  const char *case_ref, bool staff)
{
	struct read_state *st;
	cu_store *reader = cu_http_reader(r->srv);
	size_t limit;

	if (parse_limit(cu_http_query(r, "limit"), &limit) ||
	    parse_before(cu_http_query(r, "before")))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "limit must be 1..100 and before an entry id", NULL);
	if (!reader)
		return cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_diary_list_init(&st->list);
	r->state = st;
	r->cleanup = read_cleanup;
	st->staff = staff;
	st->req.actor = &r->actor;
	st->req.member = member;
	st->req.purpose = purpose;
	st->req.case_ref = case_ref;
	st->req.before = cu_http_query(r, "before");
	st->req.limit = limit;
	/* The rules run here, on a reader; allowed or not, the decision is audited first. */
	st->d.rc = cu_access_diaries_prepare(cu_http_policy(r->srv), reader, &st->req, &st->d,
	                                     &st->row, &st->have_row);
	cu_access_diaries_audit_fill(cu_http_policy(r->srv), &st->req, &st->d, &st->au);
	return cu_http_wait_writer(r, append_audit);
}

static json_t *entry_json(const cu_diary_entry *e)
{
	char created[CU_HTTP_TIME_LEN], updated[CU_HTTP_TIME_LEN];

	cu_http_iso_time(e->created_us, created);
	cu_http_iso_time(e->updated_us, updated);
	/* A damaged entry is named, not opened: the others still show. */
	if (e->unreadable)
		return json_pack("{s:s,s:n,s:n,s:b,s:s,s:s}", "id", e->id, "title", "body",
		                 "unreadable", 1, "created", created, "updated", updated);
	return json_pack("{s:s,s:s%,s:s%,s:s,s:s}", "id", e->id, "title", e->title, e->title_len,
	                 "body", e->body, e->body_len, "created", created, "updated", updated);
}

static enum MHD_Result finish_read(cu_request *r)
{
	struct read_state *st = r->state;
	cu_store *reader = cu_http_reader(r->srv);
	json_t *body, *entries;
	cu_result rc;
	char *text;

	/* Fail closed: no committed audit entry, no diary. */
	if (r->job.rc)
		return cu_http_reply_error(r, CU_ERR_STORE, "the read could not be audited", NULL);
	if (st->d.rc)
		return cu_http_reply_error(r, st->d.rc,
		                           st->d.rc == CU_ERR_CASE_REQUIRED
		                               ? "diaries are read only with a case reference"
		                               : NULL,
		                           NULL);
	if (!reader)
		return cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
	rc = cu_access_diaries_open(r->srv->ctx->vault, reader, &st->row, &st->req, &st->list);
	if (rc)
		return cu_http_reply_error(
		    r, rc, rc == CU_ERR_NOT_FOUND ? "before names no entry of this diary" : NULL,
		    NULL);
	entries = json_array();
	for (size_t i = 0; i < st->list.n; i++) {
		json_t *e = entry_json(&st->list.v[i]);

		/* jansson refuses invalid UTF-8; what was sealed was checked, so this is damage. */
		if (!e) {
			cu_http_json_wipe(entries);
			json_decref(entries);
			return cu_http_reply_error(r, CU_ERR_STORE, NULL, NULL);
		}
		json_array_append_new(entries, e);
	}
	body = json_pack("{s:o}", "entries", entries);
	if (st->staff) {
		json_object_set_new(body, "member", json_string(st->row.id));
		json_object_set_new(body, "purpose", json_string(st->req.purpose));
		json_object_set_new(body, "case", json_string(st->req.case_ref));
	}
	if (st->list.more && st->list.n)
		json_object_set_new(body, "next_before",
		                    json_string(st->list.v[st->list.n - 1].id));
	text = json_dumps(body, JSON_COMPACT);
	/* The plaintext copies inside jansson are wiped now, the text when it is sent. */
	cu_http_json_wipe(body);
	json_decref(body);
	cu_diary_list_wipe(&st->list);
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", text);
}

static enum MHD_Result h_member_diaries(cu_request *r)
{
	static const char *const allowed[] = {"purpose", "case", "limit", "before", NULL};
	const char *purpose, *case_ref;

	if (r->phase > 0)
		return finish_read(r);
	if (cu_http_query_only(r, allowed))
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "unknown query parameter; expected purpose, case, limit, "
		    "before",
		    NULL);
	purpose = cu_http_query(r, "purpose");
	case_ref = cu_http_query(r, "case");
	if (!purpose || !*purpose)
		return cu_http_reply_error(r, CU_ERR_PURPOSE_REQUIRED,
		                           "every read names its purpose: ?purpose=...", NULL);
	/* A malformed case is refused here, unwritten (access.h rule 0); none, by the door. */
	if (case_ref && *case_ref && cu_case_ref_problem(case_ref))
		return cu_http_reply_case_invalid(r);
	/* No case is refused by the door itself, so that the refusal is audited. */
	return start_read(r, r->params[0], purpose, case_ref && *case_ref ? case_ref : NULL, true);
}

static enum MHD_Result h_me_diaries_list(cu_request *r)
{
	static const char *const allowed[] = {"limit", "before", NULL};

	if (r->phase > 0)
		return finish_read(r);
	if (cu_http_query_only(r, allowed))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "unknown query parameter; expected limit, before", NULL);
	return start_read(r, r->member, "self", NULL, false);
}

/* ---- the author's writes --------------------------------------------------- */

struct write_state {
	json_t *body;
	const char *title, *text; /* borrowed from body; NULL when not given */
	char id[CU_ID_LEN + 1];
	cu_errors errs;
};

static void write_cleanup(cu_request *r)
{
	struct write_state *st = r->state;

	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

/*
 * Reads {"title": ..., "body": ...} into st.  Returns 0, or -1 with the
 * reply queued in *reply (bad JSON, a key of neither name, a non-string).
 */
static int take_body(cu_request *r, struct write_state *st, enum MHD_Result *reply)
{
	const char *key;
	json_t *v;
	bool bad = false;

	st->body = cu_http_body_json(r, reply);
	if (!st->body)
		return -1;
	json_object_foreach(st->body, key, v)
	{
		const char **slot = !strcmp(key, "title")  ? &st->title
		                    : !strcmp(key, "body") ? &st->text
		                                           : NULL;

		if (!slot) {
			cu_errors_add(&st->errs,
			              strlen(key) < CU_HTTP_FIELD_ECHO_MAX ? key : "(field)",
			              "unknown_field");
			bad = true;
		} else if (!json_is_string(v)) {
			cu_errors_add(&st->errs, key, "malformed");
			bad = true;
		} else {
			*slot = json_string_value(v);
		}
	}
	if (bad) {
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
		return -1;
	}
	return 0;
}

static struct write_state *write_state_new(cu_request *r)
{
	struct write_state *st = cu_arena_alloc(&r->arena, sizeof(*st));

	if (!st)
		return NULL;
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	r->state = st;
	r->cleanup = write_cleanup;
	return st;
}

static cu_result run_write(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct write_state *st = r->state;

	return answer(
	    job, cu_diary_write(ctx, &r->actor, r->member, st->title, st->text, st->id, &st->errs));
}

static enum MHD_Result h_me_diaries_create(cu_request *r)
{
	struct write_state *st = r->state;
	enum MHD_Result reply;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(r, MHD_HTTP_CREATED, json_pack("{s:s}", "id", st->id));
	}
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
	st = write_state_new(r);
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (take_body(r, st, &reply))
		return reply;
	/* Checked here, so a bad body never reaches the writer. */
	if (cu_diary_validate(st->title, st->text, true, &st->errs))
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	return cu_http_wait_writer(r, run_write);
}

static cu_result run_edit(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct write_state *st = r->state;

	return answer(job, cu_diary_edit(ctx, &r->actor, r->member, r->params[0], st->title,
	                                 st->text, &st->errs));
}

static enum MHD_Result h_me_diaries_edit(cu_request *r)
{
	struct write_state *st = r->state;
	enum MHD_Result reply;

	if (r->phase > 0) {
		json_t *names;

		if (r->job.rc)
			return cu_http_reply_error(
			    r, r->job.rc,
			    r->job.rc == CU_ERR_NOT_FOUND ? "no such entry in your diary" : NULL,
			    &st->errs);
		names = json_array();
		if (st->title)
			json_array_append_new(names, json_string("title"));
		if (st->text)
			json_array_append_new(names, json_string("body"));
		return cu_http_reply_json(
		    r, MHD_HTTP_OK, json_pack("{s:s,s:o}", "id", r->params[0], "updated", names));
	}
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
	st = write_state_new(r);
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (take_body(r, st, &reply))
		return reply;
	if (!st->title && !st->text)
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "nothing to change", NULL);
	if (cu_diary_validate(st->title, st->text, false, &st->errs))
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	return cu_http_wait_writer(r, run_edit);
}

static cu_result run_delete(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return answer(job, cu_diary_delete(ctx, &r->actor, r->member, r->params[0]));
}

static enum MHD_Result h_me_diaries_delete(cu_request *r)
{
	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(
			    r, r->job.rc,
			    r->job.rc == CU_ERR_NOT_FOUND ? "no such entry in your diary" : NULL,
			    NULL);
		return cu_http_reply_empty(r, MHD_HTTP_NO_CONTENT);
	}
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
	return cu_http_wait_writer(r, run_delete);
}

/* ---- the table ------------------------------------------------------------- */

const cu_route cu_routes_diary[] = {
    {"POST", "/v1/me/diaries", "/v1/me/diaries", h_me_diaries_create, R(MEMBER), false, false,
     false},
    {"GET", "/v1/me/diaries", "/v1/me/diaries", h_me_diaries_list, R(MEMBER), false, false, false},
    {"PATCH", "/v1/me/diaries/{}", "/v1/me/diaries/{id}", h_me_diaries_edit, R(MEMBER), false,
     false, false},
    {"DELETE", "/v1/me/diaries/{}", "/v1/me/diaries/{id}", h_me_diaries_delete, R(MEMBER), false,
     false, false},
    {"GET", "/v1/members/{}/diaries", "/v1/members/{id}/diaries", h_member_diaries, STAFFISH, false,
     false, false},
};

const size_t cu_routes_diary_count = sizeof(cu_routes_diary) / sizeof(cu_routes_diary[0]);
