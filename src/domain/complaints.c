/*
 * src/domain/complaints.c — complaints about the handling of personal information:
 * filing, assignment, responses, closing (only with a response), and the
 * officer's lists on a clock.
 *
 * The member's words and the officer's answers are sealed under the
 * member's data key here and opened here, for the two of them
 * (complaints.h).
 */
#include "domain/complaints.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/sealed_text.h"
#include "domain/casework.h"
#include "domain/notify.h"
#include "util/text.h"

/* The notices and audit reasons this file writes, each sized for its text (subjects at most
 * CU_NOTIFY_SUBJECT_MAX). */
#define RESPONSE_BODY_BYTES    800
#define RECEIVED_SUBJECT_BYTES 120
#define RECEIVED_BODY_BYTES    400
#define FILE_REASON_BYTES      64  /* "complaint=<id> about=<word>" */
#define ASSIGN_REASON_BYTES    200 /* "complaint=<id>" */
#define RESPOND_REASON_BYTES   80  /* "complaint=<id> closed" */

static const char *const abouts[] = {"use", "provision", "disclosure", "amendment", "other", NULL};

bool cu_complaint_about_valid(const char *about)
{
	for (const char *const *a = abouts; about && *a; a++)
		if (!strcmp(*a, about))
			return true;
	return false;
}

/* The sealed field of a complaint's text, or of response `response`. */
static void field_of(char *out, size_t n, const char *id, const char *response)
{
	if (response)
		snprintf(out, n, "complaint-reply.%s", response);
	else
		snprintf(out, n, "complaint-text.%s", id);
}

/* The notice of a response: it names the complaint and the date, never its words. */
static cu_result notify_response(cu_ctx *ctx, const cu_complaint_row *row, bool closed)
{
	char subject[CU_NOTIFY_SUBJECT_MAX], body[RESPONSE_BODY_BYTES], when[CU_CASE_DAY_BYTES];

	cu_case_day(row->updated_us, when);
	if (closed) {
		snprintf(subject, sizeof(subject), "Your complaint %s was closed", row->id);
		snprintf(body, sizeof(body),
		         "Your complaint %s was answered and closed on %s.\n"
		         "The response is in your account.",
		         row->id, when);
	} else {
		snprintf(subject, sizeof(subject), "There is a response to your complaint %s",
		         row->id);
		snprintf(body, sizeof(body),
		         "An officer responded to your complaint %s on %s.\n"
		         "The response is in your account.",
		         row->id, when);
	}
	return cu_notify_member(ctx, row->member, "complaint", subject, body);
}

/* ---- filing -------------------------------------------------------------- */

cu_result cu_complaint_file(cu_ctx *ctx, const cu_actor *actor, const char *member,
                            const char *about, const char *text, int64_t now_us,
                            cu_complaint_row *out, cu_errors *errs)
{
	cu_complaint_row row;
	cu_member_row m = {0};
	char field[CU_CASE_FIELD_BYTES], reason[FILE_REASON_BYTES], due[CU_CASE_DAY_BYTES];
	const char *why;
	cu_result rc;
	int bad = 0;

	memset(&row, 0, sizeof(row));
	if (out)
		memset(out, 0, sizeof(*out));
	if (!ctx || !member)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_may_file(actor, member))
		return cu_case_refuse(ctx, actor, "complaint_file", "", NULL, CU_ERR_FORBIDDEN);
	if (!cu_complaint_about_valid(about)) {
		cu_errors_add(errs, "about", about && *about ? "unknown" : "required");
		bad = 1;
	}
	why = cu_text_free_problem(text, CU_COMPLAINT_TEXT_MAX, true);
	if (why) {
		cu_errors_add(errs, "text", why);
		bad = 1;
	}
	if (bad)
		return CU_ERR_INVALID_FIELD;
	rc = cu_case_member_live(ctx->store, member, &m);
	if (rc)
		return rc;
	cu_vault_random_id(row.id);
	memcpy(row.member, m.id, sizeof(row.member));
	snprintf(row.about, sizeof(row.about), "%s", about);
	snprintf(row.state, sizeof(row.state), "received");
	row.received_us = row.updated_us = now_us;
	row.due_us = cu_case_due(now_us, ctx->config.complaint_due_days);
	field_of(field, sizeof(field), row.id, NULL);
	rc = cu_sealed_text_seal(ctx->vault, &m, field, text, &row.text, &row.text_len);
	if (rc)
		goto out;
	snprintf(reason, sizeof(reason), "complaint=%s about=%s", row.id, row.about);
	cu_case_day(row.due_us, due);
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_complaint_insert(ctx->store, &row);
	if (!rc) {
		char subject[RECEIVED_SUBJECT_BYTES], body[RECEIVED_BODY_BYTES],
		    got[CU_CASE_DAY_BYTES];

		cu_case_day(now_us, got);
		snprintf(subject, sizeof(subject), "Your complaint %s was received", row.id);
		snprintf(body, sizeof(body),
		         "We received your complaint %s about %s on %s.\n"
		         "We aim to answer and close it by %s.\n"
		         "You can follow it, and read our responses, in your account.",
		         row.id, row.about, got, due);
		rc = cu_notify_member(ctx, row.member, "complaint", subject, body);
	}
	if (!rc)
		rc = cu_case_audit(ctx, actor, "complaint_file", row.member, NULL, "done", reason);
	rc = cu_case_end(ctx, rc);
	if (!rc && out) {
		*out = row;
		memset(&row, 0, sizeof(row));
	}
out:
	cu_complaint_row_release(&row);
	cu_member_row_release(&m);
	return rc;
}

/* ---- assigning ----------------------------------------------------------- */

struct officer_search {
	const char *name;
	int64_t now_us;
	bool found;
};

static int find_officer(void *ud, const cu_token_row *t)
{
	struct officer_search *o = ud;

	if (t->role == CU_ROLE_OFFICER && !t->revoked_us &&
	    (!t->expires_us || t->expires_us > o->now_us) && !strcmp(t->name, o->name))
		o->found = true;
	return o->found;
}

cu_result cu_complaint_assign(cu_ctx *ctx, const cu_actor *actor, const char *id,
                              const char *officer, int64_t now_us, cu_errors *errs)
{
	struct officer_search o = {officer, now_us, false};
	cu_complaint_row row;
	char reason[ASSIGN_REASON_BYTES];
	cu_result rc;

	if (!ctx || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_officer(actor))
		return cu_case_refuse(ctx, actor, "complaint_assign", "", NULL, CU_ERR_FORBIDDEN);
	if (!officer || !*officer || strlen(officer) > CU_REQUEST_ACTOR_MAX) {
		cu_errors_add(errs, "officer", officer && *officer ? "too_long" : "required");
		return CU_ERR_INVALID_FIELD;
	}
	rc = cu_store_complaint_get(ctx->store, id, &row);
	if (rc)
		return rc;
	if (row.closed_us) {
		rc = CU_ERR_CONFLICT;
		goto out;
	}
	/* Assigned to someone who can act on it: an officer's live token names them. */
	rc = cu_store_token_list(ctx->store, find_officer, &o);
	if (rc)
		goto out;
	if (!o.found) {
		cu_errors_add(errs, "officer", "not_an_officer");
		rc = CU_ERR_INVALID_FIELD;
		goto out;
	}
	snprintf(row.assigned, sizeof(row.assigned), "%s", officer);
	if (!strcmp(row.state, "received"))
		snprintf(row.state, sizeof(row.state), "assigned");
	row.updated_us = now_us;
	snprintf(reason, sizeof(reason), "complaint=%s", row.id);
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_complaint_update(ctx->store, &row);
	if (!rc)
		rc =
		    cu_case_audit(ctx, actor, "complaint_assign", row.member, NULL, "done", reason);
	rc = cu_case_end(ctx, rc);
out:
	cu_complaint_row_release(&row);
	return rc;
}

/* ---- responding and closing ---------------------------------------------- */

cu_result cu_complaint_respond(cu_ctx *ctx, const cu_actor *actor, const char *id, const char *text,
                               bool close, int64_t now_us, cu_complaint_row *out, cu_errors *errs)
{
	cu_complaint_row row;
	cu_complaint_response_row rsp;
	cu_member_row m = {0};
	uint64_t answered = 0;
	char field[CU_CASE_FIELD_BYTES], reason[RESPOND_REASON_BYTES];
	const char *why;
	cu_result rc;

	memset(&rsp, 0, sizeof(rsp));
	if (out)
		memset(out, 0, sizeof(*out));
	if (!ctx || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_officer(actor))
		return cu_case_refuse(ctx, actor, "complaint_respond", "", NULL, CU_ERR_FORBIDDEN);
	if (text || !close) {
		why = cu_text_free_problem(text, CU_COMPLAINT_TEXT_MAX, true);
		if (why) {
			cu_errors_add(errs, "text", why);
			return CU_ERR_INVALID_FIELD;
		}
	}
	rc = cu_store_complaint_get(ctx->store, id, &row);
	if (rc)
		return rc;
	if (row.closed_us) {
		rc = CU_ERR_CONFLICT;
		goto out;
	}
	if (!text) {
		/* Closed only with a response the member can read: one given before, at least. */
		rc = cu_store_complaint_response_count(ctx->store, row.id, &answered);
		if (!rc && !answered) {
			cu_errors_add(errs, "text", "response_required");
			rc = CU_ERR_INVALID_FIELD;
		}
		if (rc)
			goto out;
	}
	rc = cu_case_member_live(ctx->store, row.member, &m);
	if (rc)
		goto out;
	if (text) {
		cu_vault_random_id(rsp.id);
		memcpy(rsp.complaint, row.id, sizeof(rsp.complaint));
		snprintf(rsp.officer, sizeof(rsp.officer), "%s", cu_case_actor_name(actor));
		rsp.time_us = now_us;
		rsp.closing = close;
		field_of(field, sizeof(field), row.id, rsp.id);
		rc = cu_sealed_text_seal(ctx->vault, &m, field, text, &rsp.text, &rsp.text_len);
		if (rc)
			goto out;
	}
	row.updated_us = now_us;
	if (close) {
		snprintf(row.state, sizeof(row.state), "closed");
		row.closed_us = now_us;
		snprintf(row.closed_by, sizeof(row.closed_by), "%s", cu_case_actor_name(actor));
		snprintf(row.note, sizeof(row.note), "answered");
	} else {
		snprintf(row.state, sizeof(row.state), "answered");
	}
	snprintf(reason, sizeof(reason), "complaint=%s%s", row.id, close ? " closed" : "");
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	if (text)
		rc = cu_store_complaint_response_insert(ctx->store, &rsp);
	if (!rc)
		rc = cu_store_complaint_update(ctx->store, &row);
	if (!rc)
		rc = notify_response(ctx, &row, close);
	if (!rc)
		rc = cu_case_audit(ctx, actor, "complaint_respond", row.member, NULL, "done",
		                   reason);
	rc = cu_case_end(ctx, rc);
	if (!rc && out) {
		*out = row;
		memset(&row, 0, sizeof(row));
	}
out:
	cu_complaint_response_row_release(&rsp);
	cu_complaint_row_release(&row);
	cu_member_row_release(&m);
	return rc;
}

/* ---- reading ------------------------------------------------------------- */

void cu_complaint_view_init(cu_complaint_view *v)
{
	memset(v, 0, sizeof(*v));
}

void cu_complaint_view_wipe(cu_complaint_view *v)
{
	if (!v)
		return;
	cu_wipe_free(v->text);
	cu_case_history_wipe(v->responses, v->nresponses, sizeof(*v->responses),
	                     offsetof(cu_complaint_response, text));
	cu_complaint_row_release(&v->row);
	cu_complaint_view_init(v);
}

static int open_response(void *ud, const cu_complaint_response_row *row)
{
	cu_case_history *h = ud;
	cu_complaint_response *r = cu_case_history_add(h);
	char field[CU_CASE_FIELD_BYTES];

	if (!r)
		return 1;
	memcpy(r->id, row->id, sizeof(r->id));
	memcpy(r->officer, row->officer, sizeof(r->officer));
	r->time_us = row->time_us;
	r->closing = row->closing;
	field_of(field, sizeof(field), row->complaint, row->id);
	return cu_case_history_open(h, field, row->text, row->text_len, &r->text);
}

static cu_result walk_responses(cu_case_history *h)
{
	return cu_store_complaint_response_list(h->store, h->id, open_response, h);
}

cu_result cu_complaint_open(const cu_vault *v, cu_store *s, const cu_member_row *member,
                            const cu_complaint_row *row, cu_complaint_view *out)
{
	cu_case_history h = {s, row->id, sizeof(*out->responses), NULL, 0, NULL, CU_OK};
	char field[CU_CASE_FIELD_BYTES];
	cu_result rc;

	cu_complaint_view_wipe(out);
	out->row = *row;
	out->row.text = NULL;
	out->row.text_len = 0;
	out->erased = member->erased;
	field_of(field, sizeof(field), row->id, NULL);
	rc = cu_case_open(v, member, field, row->text, row->text_len, &out->text, walk_responses,
	                  &h);
	out->responses = h.items;
	out->nresponses = h.n;
	if (rc)
		cu_complaint_view_wipe(out);
	return rc;
}

/* Opens complaint `id` for whoever may read it, the reading audited (casework.h). */
cu_result cu_complaint_get(cu_ctx *ctx, const cu_actor *actor, const char *id,
                           cu_complaint_view *out)
{
	cu_complaint_row row;
	cu_member_row m = {0};
	cu_result rc;

	if (!ctx || !id || !out)
		return CU_ERR_INVALID_ARGUMENT;
	cu_complaint_view_wipe(out);
	rc = cu_store_complaint_get(ctx->store, id, &row);
	if (!rc) {
		rc = cu_case_read(ctx, actor, CU_CASE_COMPLAINT, row.id, row.member, &m);
		if (!rc)
			rc = cu_complaint_open(ctx->vault, ctx->store, &m, &row, out);
		cu_member_row_release(&m);
		cu_complaint_row_release(&row);
	}
	return rc;
}

cu_result cu_complaint_list(cu_store *s, const cu_actor *actor, bool overdue, int64_t now_us,
                            cu_store_complaint_fn fn, void *ud)
{
	if (!cu_case_officer(actor))
		return CU_ERR_FORBIDDEN;
	return cu_store_complaint_list_open(s, cu_case_due_before(overdue, now_us), fn, ud);
}

cu_result cu_complaint_list_member(cu_store *s, const cu_actor *actor, const char *member,
                                   cu_store_complaint_fn fn, void *ud)
{
	if (!cu_case_may_read(actor, member))
		return CU_ERR_FORBIDDEN;
	return cu_store_complaint_list_member(s, member, fn, ud);
}

/* ---- JSON ---------------------------------------------------------------- */

json_t *cu_complaint_row_json(const cu_complaint_row *row, int64_t now_us)
{
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", row->id, "member", row->member, "about",
	    row->about, "state", row->state, "assigned", cu_case_json_opt(row->assigned),
	    "closed_by", cu_case_json_opt(row->closed_by), "note", cu_case_json_opt(row->note));

	if (!o)
		return NULL;
	cu_case_json_clock(o, row->received_us, row->due_us, 0, row->updated_us, "closed",
	                   row->closed_us, now_us);
	return o;
}

json_t *cu_complaint_view_json(const cu_complaint_view *v, int64_t now_us)
{
	json_t *o = cu_complaint_row_json(&v->row, now_us), *responses = json_array();

	if (!o || !responses) {
		json_decref(o);
		json_decref(responses);
		return NULL;
	}
	json_object_set_new(o, "text", cu_case_json_opt(v->text));
	for (size_t i = 0; i < v->nresponses; i++) {
		const cu_complaint_response *r = &v->responses[i];
		json_t *j = json_pack("{s:s,s:s,s:b,s:o}", "id", r->id, "officer", r->officer,
		                      "closing", r->closing, "text", cu_case_json_opt(r->text));

		if (!j)
			continue;
		cu_case_json_time(j, "time", r->time_us);
		json_array_append_new(responses, j);
	}
	json_object_set_new(o, "responses", responses);
	json_object_set_new(o, "texts_erased", json_boolean(v->erased));
	return o;
}
