/*
 * server/routes/consent.c — consents, receipts, policy versions and legal
 * exceptions over HTTP.
 */
#include "routes/routes.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/members.h"
#include "domain/versions.h"
#include "domain/consent.h"

#define TARGET_KEY_MAX  80   /* "kind:target" of a choice, as a JSON key */
#define REVIEW_TEXT_MAX 2000 /* an exception review's text, in bytes */
#include "domain/versions.h"


static json_t *consent_json(const cu_consent_row *row)
{
	char ts[CU_HTTP_TIME_LEN];

	cu_http_iso_time(row->time_us, ts);
	return json_pack("{s:s,s:s,s:s,s:b,s:s,s:s}", "id", row->id, "kind", row->kind, "target",
	                 row->target, "granted", row->granted, "policy_version",
	                 row->policy_version, "time", ts);
}

/* Routes that take no query parameters refuse them, like every other route. */
static bool has_query(cu_request *r)
{
	return cu_http_query_only(r, (const char *const[]){NULL}) != 0;
}

static enum MHD_Result no_query(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
}

/* ---- GET /v1/me/consents ------------------------------------------------- */

struct current {
	json_t *by_target; /* "kind:target" -> latest choice */
};

static int keep_latest(void *ud, const cu_consent_row *row)
{
	struct current *c = ud;
	char key[TARGET_KEY_MAX];

	snprintf(key, sizeof(key), "%s:%s", row->kind, row->target);
	json_object_set_new(c->by_target, key, consent_json(row));
	return 0;
}

static enum MHD_Result h_consents_get(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	const cu_policy *p = cu_http_policy(r->srv);
	struct current c;
	cu_member_row row = {0};
	char accepted[CU_VERSION_MAX + 1] = "";
	const cu_policy *then = NULL;
	json_t *choices, *purposes, *cookies, *v;
	const char *key;
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	c.by_target = json_object();
	choices = json_array();
	purposes = json_array();
	cookies = json_array();
	if (!reader) {
		json_decref(c.by_target);
		json_decref(choices);
		json_decref(purposes);
		json_decref(cookies);
		return cu_http_store_unavailable(r);
	}
	rc = cu_consent_list(reader, r->member, keep_latest, &c);
	if (!rc)
		rc = cu_member_get(reader, r->member, &row);
	if (!rc)
		rc = cu_versions_accepted(reader, r->member, row.created_us, accepted);
	cu_member_row_release(&row);
	if (!rc && strcmp(accepted, p->version))
		rc = cu_versions_get(reader, accepted, &then);
	if (rc && rc != CU_ERR_NOT_FOUND) {
		json_decref(c.by_target);
		json_decref(choices);
		json_decref(purposes);
		json_decref(cookies);
		return cu_http_reply_error(r, rc, NULL, NULL);
	}
	json_object_foreach(c.by_target, key, v) json_array_append(choices, v);
	json_decref(c.by_target);
	/*
	 * What the member can decide: uses outside the purposes of use, purposes
	 * added since the version they accepted (consent.h), refusable cookies.
	 */
	for (size_t i = 0; i < p->npurposes; i++) {
		const cu_policy_purpose *pp = &p->purposes[i];
		const cu_policy_purpose *was = then ? cu_policy_purpose_find(then, pp->id) : NULL;
		bool only_with_consent = pp->consent_required || (was && was->consent_required);

		if (only_with_consent || (then && !was))
			json_array_append_new(purposes, json_pack("{s:s,s:s,s:s}", "id", pp->id,
			                                          "text", pp->text, "reason",
			                                          only_with_consent
			                                              ? "outside_purposes_of_use"
			                                              : "added_since_accepted"));
	}
	for (size_t i = 0; i < p->ncookies; i++)
		json_array_append_new(cookies, json_pack("{s:s,s:s,s:b}", "id", p->cookies[i].id,
		                                         "text", p->cookies[i].text, "required",
		                                         p->cookies[i].required));
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:{s:s,s:s},s:o,s:{s:o,s:o}}", "policy", "in_force",
	                                    p->version, "accepted", accepted, "choices", choices,
	                                    "choosable", "purposes", purposes, "cookies", cookies));
}

/* ---- PUT /v1/me/consents ------------------------------------------------- */

struct set_state {
	json_t *body;
	cu_consent_kind kind;
	const char *target;
	bool granted;
	cu_consent_row row;
	cu_errors errs;
};

static void set_cleanup(cu_request *r)
{
	struct set_state *st = r->state;

	json_decref(st->body);
}

static cu_result run_set(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct set_state *st = r->state;

	return cu_http_answer(job, cu_consent_set(ctx, &r->actor, r->member, st->kind, st->target,
	                                          st->granted, &st->row, &st->errs));
}

static enum MHD_Result receipt_reply(cu_request *r, int status, const cu_consent_row *row)
{
	cu_store *reader = cu_http_reader(r->srv);
	char *receipt = NULL;
	json_t *doc;
	cu_result rc;

	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_consent_receipt(reader, r->srv->ctx->vault, row, &receipt);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	doc = json_loads(receipt, 0, NULL);
	free(receipt);
	return cu_http_reply_json(
	    r, status, json_pack("{s:o,s:o}", "consent", consent_json(row), "receipt", doc));
}

static enum MHD_Result h_consents_put(cu_request *r)
{
	struct set_state *st = r->state;
	enum MHD_Result reply;
	json_t *kind, *target, *granted;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return receipt_reply(r, MHD_HTTP_OK, &st->row);
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
	r->cleanup = set_cleanup;
	kind = json_object_get(st->body, "kind");
	target = json_object_get(st->body, "target");
	granted = json_object_get(st->body, "granted");
	if (json_object_size(st->body) != 3 || !json_is_string(kind) || !json_is_string(target) ||
	    !json_is_boolean(granted) ||
	    cu_consent_kind_parse(json_string_value(kind), &st->kind) != CU_OK)
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "expected {\"kind\": \"purpose\"|\"third_party\"|\"cookie\", "
		    "\"target\": ..., \"granted\": true|false}",
		    NULL);
	st->target = json_string_value(target);
	st->granted = json_is_true(granted);
	return cu_http_wait_writer(r, run_set);
}

/* ---- GET /v1/me/consents/{id}/receipt ------------------------------------ */

static enum MHD_Result h_receipt(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_consent_row row;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	/* Someone else's consent id answers like an unknown one. */
	if (strlen(r->params[0]) > CU_ID_LEN ||
	    cu_consent_get(reader, r->params[0], &row) != CU_OK || strcmp(row.member, r->member))
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such consent of yours", NULL);
	return receipt_reply(r, MHD_HTTP_OK, &row);
}

/* ---- policy: accept, changes, versions ----------------------------------- */

static cu_result run_accept(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	/* The version the writer records, which a publish may since have replaced. */
	snprintf(r->state, CU_VERSION_MAX + 1, "%s", ctx->policy->version);
	return cu_http_answer(job, cu_consent_accept_policy(ctx, &r->actor, r->member));
}

static enum MHD_Result h_policy_accept(cu_request *r)
{
	if (r->phase == 0) {
		if (has_query(r))
			return no_query(r);
		r->state = cu_arena_alloc(&r->arena, CU_VERSION_MAX + 1);
		if (!r->state)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return cu_http_wait_writer(r, run_accept);
	}
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:s}", "accepted", (const char *)r->state));
}

static enum MHD_Result h_policy_changes(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	const cu_policy *now = cu_http_policy(r->srv), *then = NULL;
	char accepted[CU_VERSION_MAX + 1];
	cu_member_row row = {0};
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_member_get(reader, r->member, &row);
	if (!rc)
		rc = cu_versions_accepted(reader, r->member, row.created_us, accepted);
	cu_member_row_release(&row);
	if (!rc)
		rc = cu_versions_get(reader, accepted, &then);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return cu_http_reply_json(r, MHD_HTTP_OK, cu_versions_diff(then, now));
}

/*
 * The registration fields (what a sign-up form asks, built from the policy,
 * not from code) and the services with the survey answers each needs.
 */
static json_t *policy_fields_json(const cu_policy *p)
{
	json_t *fields = json_array();

	for (size_t i = 0; i < p->nfields; i++) {
		const cu_policy_field *f = &p->fields[i];
		json_t *o = json_pack("{s:s,s:s,s:s,s:b,s:b,s:b,s:I}", "name", f->name, "label",
		                      f->label, "kind", cu_field_kind_name(f->kind), "required",
		                      f->required, "identifier", f->identifier, "survey", f->survey,
		                      "max_length", (json_int_t)f->max_length);

		if (o && f->kind == CU_FIELD_INTEGER) {
			json_object_set_new(o, "min", json_integer(f->min));
			json_object_set_new(o, "max", json_integer(f->max));
		}
		json_array_append_new(fields, o);
	}
	return fields;
}

static json_t *policy_services_json(const cu_policy *p)
{
	json_t *services = json_array();

	for (size_t i = 0; i < p->nservices; i++) {
		json_t *requires = json_array();

		for (size_t f = 0; f < p->nfields; f++)
			if ((p->services[i].requires >> f) & 1)
				json_array_append_new(requires, json_string(p->fields[f].name));
		json_array_append_new(services,
		                      json_pack("{s:s,s:s,s:o}", "id", p->services[i].id, "name",
		                                p->services[i].name, "requires", requires));
	}
	return services;
}

static enum MHD_Result h_policy(cu_request *r)
{
	const cu_policy *p = cu_http_policy(r->srv);
	json_t *purposes, *cookies, *exceptions;

	if (has_query(r))
		return no_query(r);
	purposes = json_array();
	cookies = json_array();
	exceptions = json_array();
	for (size_t i = 0; i < p->npurposes; i++) {
		const cu_policy_purpose *pp = &p->purposes[i];
		json_t *fields = json_array();

		for (size_t f = 0; f < p->nfields; f++)
			if ((pp->fields >> f) & 1)
				json_array_append_new(fields, json_string(p->fields[f].name));
		json_t *roles = json_array();

		/* Which roles may use it, so a console offers each only the purposes it has. */
		for (int role = 0; role < CU_ROLE_COUNT_; role++)
			if ((pp->roles >> role) & 1)
				json_array_append_new(roles,
				                      json_string(cu_role_name((cu_role)role)));
		json_array_append_new(
		    purposes, json_pack("{s:s,s:i,s:s,s:o,s:b,s:o,s:b,s:b,s:b}", "id", pp->id,
		                        "number", pp->number, "text", pp->text, "fields", fields,
		                        "consent_required", pp->consent_required, "roles", roles,
		                        "requires_case", pp->requires_case, "aggregate_only",
		                        pp->aggregate_only, "diaries", pp->diaries));
	}
	for (size_t i = 0; i < p->ncookies; i++)
		json_array_append_new(cookies, json_pack("{s:s,s:s,s:b}", "id", p->cookies[i].id,
		                                         "text", p->cookies[i].text, "required",
		                                         p->cookies[i].required));
	for (size_t i = 0; i < p->nexceptions; i++)
		json_array_append_new(exceptions, json_pack("{s:s,s:s}", "id", p->exceptions[i].id,
		                                            "text", p->exceptions[i].text));
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "version",
	                                    p->version, "title", p->title, "text", p->text,
	                                    "fields", policy_fields_json(p), "purposes", purposes,
	                                    "services", policy_services_json(p), "cookies", cookies,
	                                    "exceptions", exceptions));
}

static int list_version(void *ud, const char *version, int64_t published_us, const char *by)
{
	char ts[CU_HTTP_TIME_LEN];

	cu_http_iso_time(published_us, ts);
	json_array_append_new(
	    ud, json_pack("{s:s,s:s,s:s}", "version", version, "published", ts, "by", by));
	return 0;
}

static enum MHD_Result h_versions(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	json_t *list;

	if (has_query(r))
		return no_query(r);
	list = json_array();
	if (!reader || cu_versions_list(reader, list_version, list) != CU_OK) {
		json_decref(list);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(
	    r, MHD_HTTP_OK,
	    json_pack("{s:s,s:o}", "in_force", cu_http_policy(r->srv)->version, "versions", list));
}

static enum MHD_Result h_version(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	char *doc = NULL;
	size_t len;
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = strlen(r->params[0]) > CU_VERSION_MAX
	         ? CU_ERR_NOT_FOUND
	         : cu_versions_document(reader, r->params[0], &doc, &len, NULL);
	if (rc)
		return rc == CU_ERR_NOT_FOUND ? cu_http_reply_error(r, CU_ERR_NOT_FOUND,
		                                                    "no such policy version", NULL)
		                              : cu_http_reply_error(r, rc, NULL, NULL);
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", doc);
}

/* ---- GET /v1/policy/versions/{version}/changes ---------------------------- */

struct prev_walk {
	const char *target;
	char prev[CU_VERSION_MAX + 1]; /* the version published just before target, or "" */
	bool found;
};

static int find_prev(void *ud, const char *version, int64_t published_us, const char *by)
{
	struct prev_walk *w = ud;

	(void)published_us;
	(void)by;
	if (!strcmp(version, w->target)) {
		w->found = true;
		return 1;
	}
	snprintf(w->prev, sizeof(w->prev), "%s", version);
	return 0;
}

/*
 * What a version changed: the difference from the version published just
 * before it (the history of the policy, for everyone).  The first version
 * changed nothing: "from" is null and every list empty.
 */
static enum MHD_Result h_version_changes(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct prev_walk w = {r->params[0], "", false};
	const cu_policy *from = NULL, *to = NULL;
	json_t *diff;
	cu_result rc;

	if (has_query(r))
		return no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	if (strlen(r->params[0]) > CU_VERSION_MAX)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such policy version", NULL);
	rc = cu_versions_list(reader, find_prev, &w);
	if (!rc && !w.found)
		rc = CU_ERR_NOT_FOUND;
	if (!rc)
		rc = cu_versions_get(reader, r->params[0], &to);
	if (!rc)
		rc = w.prev[0] ? cu_versions_get(reader, w.prev, &from) : CU_OK;
	if (rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such policy version", NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	diff = cu_versions_diff(from ? from : to, to);
	if (diff && !from)
		json_object_set_new(diff, "from", json_null());
	return cu_http_reply_json(r, MHD_HTTP_OK, diff);
}

struct publish_state {
	json_t *body;
	char err[CU_SERVER_ERR_MAX];
	cu_policy *published;
};

static void publish_cleanup(cu_request *r)
{
	struct publish_state *st = r->state;

	json_decref(st->body);
}

static cu_result run_publish(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct publish_state *st = r->state;
	cu_result rc = cu_versions_publish(ctx, &r->actor, r->body, r->body_len, &st->published,
	                                   st->err, sizeof(st->err));

	if (!rc) {
		/* In force at once: for the writer (this thread) and for new requests. */
		ctx->policy = st->published;
		cu_server_install_policy(r->srv, st->published);
	}
	return cu_http_answer(job, rc);
}

static enum MHD_Result h_publish(cu_request *r)
{
	struct publish_state *st = r->state;
	enum MHD_Result reply;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, st->err[0] ? st->err : NULL, NULL);
		return cu_http_reply_json(r, MHD_HTTP_CREATED,
		                          json_pack("{s:s}", "version", st->published->version));
	}
	if (has_query(r))
		return no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = publish_cleanup;
	return cu_http_wait_writer(r, run_publish);
}

/* ---- legal exceptions ---------------------------------------------------- */

static const char *arena_copy(cu_request *r, json_t *v)
{
	return json_is_string(v) ? cu_arena_strdup(&r->arena, json_string_value(v)) : NULL;
}

/*
 * The fields an exception needs, named by the officer: a non-empty array of
 * the policy's field names.  0 when it is not one (nothing is echoed: a
 * client string in a field's place may be anything).
 */
static cu_fieldset exception_fields(const cu_policy *p, json_t *a)
{
	cu_fieldset set = 0;
	json_t *v;
	size_t i;
	int idx;

	if (!json_is_array(a) || json_array_size(a) == 0)
		return 0;
	json_array_foreach(a, i, v)
	{
		idx = json_is_string(v) ? cu_policy_field_index(p, json_string_value(v)) : -1;
		if (idx < 0)
			return 0;
		set |= (cu_fieldset)1 << idx;
	}
	return set;
}

static enum MHD_Result h_exception_read(cu_request *r)
{
	static const char *const keys[] = {"member", "purpose", "exception", "justification",
	                                   "case",   "fields",  NULL};
	const char *member, *purpose, *exception, *justification, *case_ref = NULL, *key;
	cu_fieldset fields;
	enum MHD_Result reply;
	json_t *body, *v;

	if (r->phase > 0)
		return cu_http_finish_read(r);
	if (has_query(r))
		return no_query(r);
	body = cu_http_body_json(r, &reply);
	if (!body)
		return reply;
	json_object_foreach(body, key, v)
	{
		int known = 0;

		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, key);
		if (!known || (strcmp(key, "fields") && !json_is_string(v))) {
			json_decref(body);
			return cu_http_reply_error(
			    r, CU_ERR_INVALID_ARGUMENT,
			    "expected member, purpose, exception, "
			    "justification (and case) as strings, and fields",
			    NULL);
		}
	}
	fields = exception_fields(cu_http_policy(r->srv), json_object_get(body, "fields"));
	if (!fields) {
		cu_http_json_wipe(body);
		json_decref(body);
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "fields: a non-empty list of the policy's field names the "
		    "exception needs",
		    NULL);
	}
	member = arena_copy(r, json_object_get(body, "member"));
	purpose = arena_copy(r, json_object_get(body, "purpose"));
	exception = arena_copy(r, json_object_get(body, "exception"));
	justification = arena_copy(r, json_object_get(body, "justification"));
	if (json_object_get(body, "case"))
		case_ref = arena_copy(r, json_object_get(body, "case"));
	cu_http_json_wipe(body);
	json_decref(body);
	if (!member || !purpose || !exception || !justification)
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "member, purpose, exception and justification are required", NULL);
	return cu_http_start_read(r, member, purpose, case_ref, fields, exception, justification);
}

/* "a,b" -> ["a","b"]; "" -> [] (a review opened before fields were kept). */
static json_t *names_json(const char *list)
{
	json_t *a = json_array();
	const char *p = list;

	while (a && p && *p) {
		size_t n = strcspn(p, ",");

		json_array_append_new(a, json_stringn(p, n));
		p += n + (p[n] == ',');
	}
	return a;
}

static int view_json(void *ud, const cu_exception_view *x)
{
	char created[CU_HTTP_TIME_LEN], closed[CU_HTTP_TIME_LEN];
	json_t *o;

	cu_http_iso_time(x->row->created_us, created);
	o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:s,s:s}", "id", x->row->id, "member",
	              x->row->member, "officer", x->row->officer, "exception", x->row->exception,
	              "purpose", x->row->purpose, "fields", names_json(x->row->fields),
	              "justification", x->justification, "opened", created);
	if (x->row->closed_us) {
		cu_http_iso_time(x->row->closed_us, closed);
		json_object_set_new(o, "closed", json_string(closed));
		json_object_set_new(o, "closed_by", json_string(x->row->closed_by));
		json_object_set_new(o, "review", json_string(x->review ? x->review : ""));
	}
	json_array_append_new(ud, o);
	return 0;
}

static enum MHD_Result h_exceptions(cu_request *r)
{
	static const char *const allowed[] = {"status", NULL};
	const char *status = cu_http_query(r, "status");
	cu_store *reader = cu_http_reader(r->srv);
	json_t *list;
	cu_result rc;

	if (cu_http_query_only(r, allowed) ||
	    (status && strcmp(status, "open") && strcmp(status, "all")))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "status must be open or all",
		                           NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	list = json_array();
	rc = cu_access_exception_list(reader, r->srv->ctx->vault, &r->actor,
	                              !status || !strcmp(status, "open"), view_json, list);
	if (rc) {
		json_decref(list);
		return cu_http_reply_error(r, rc, NULL, NULL);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "exceptions", list));
}

struct close_state {
	json_t *body;
	const char *review;
};

static void close_cleanup(cu_request *r)
{
	struct close_state *st = r->state;

	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result run_close(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct close_state *st = r->state;

	return cu_http_answer(job,
	                      cu_access_exception_close(ctx, &r->actor, r->params[0], st->review));
}

static enum MHD_Result h_exception_close(cu_request *r)
{
	struct close_state *st = r->state;
	enum MHD_Result reply;
	json_t *review;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_CONFLICT)
			return cu_http_reply_error(r, CU_ERR_CONFLICT,
			                           "this review is already closed", NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(r, MHD_HTTP_OK,
		                          json_pack("{s:s,s:b}", "id", r->params[0], "closed", 1));
	}
	if (has_query(r))
		return no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = close_cleanup;
	review = json_object_get(st->body, "review");
	if (json_object_size(st->body) != 1 || !json_is_string(review))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "expected {\"review\": ...}",
		                           NULL);
	if (json_string_length(review) == 0 || json_string_length(review) > REVIEW_TEXT_MAX) {
		cu_errors errs;

		cu_errors_init(&errs);
		cu_errors_add(&errs, "review",
		              json_string_length(review) ? "too_long" : "required");
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &errs);
	}
	st->review = json_string_value(review);
	return cu_http_wait_writer(r, run_close);
}

const cu_route cu_routes_consent[] = {
    {"GET", "/v1/me/consents", "/v1/me/consents", h_consents_get, R(MEMBER), false, false, false},
    {"PUT", "/v1/me/consents", "/v1/me/consents", h_consents_put, R(MEMBER), false, false, false},
    {"GET", "/v1/me/consents/{}/receipt", "/v1/me/consents/{id}/receipt", h_receipt, R(MEMBER),
     false, false, false},
    {"POST", "/v1/me/policy/accept", "/v1/me/policy/accept", h_policy_accept, R(MEMBER), false,
     false, false},
    {"GET", "/v1/me/policy/changes", "/v1/me/policy/changes", h_policy_changes, R(MEMBER), false,
     false, false},
    {"GET", "/v1/policy", "/v1/policy", h_policy, 0, true, true, false},
    {"GET", "/v1/policy/versions", "/v1/policy/versions", h_versions, 0, true, true, false},
    {"GET", "/v1/policy/versions/{}", "/v1/policy/versions/{version}", h_version, 0, true, true,
     false},
    {"GET", "/v1/policy/versions/{}/changes", "/v1/policy/versions/{version}/changes",
     h_version_changes, 0, true, true, false},
    {"POST", "/v1/policy/versions", "/v1/policy/versions", h_publish, R(OFFICER) | R(ADMIN), false,
     false, false},
    {"POST", "/v1/exceptions", "/v1/exceptions", h_exception_read, R(OFFICER), false, false, false},
    {"GET", "/v1/exceptions", "/v1/exceptions", h_exceptions, R(OFFICER), false, false, false},
    {"POST", "/v1/exceptions/{}/close", "/v1/exceptions/{id}/close", h_exception_close, R(OFFICER),
     false, false, false},
};

const size_t cu_routes_consent_count = sizeof(cu_routes_consent) / sizeof(cu_routes_consent[0]);
