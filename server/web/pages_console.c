/*
 * server/web/pages_console.c — the staff console's base: its session (log
 * in with a token, log out), the overview for each role, finding a member
 * and opening them for a purpose, and diary review.  The audit trail and
 * the tokens are in pages_console_admin.c; the officer's queues are pages
 * of their own.
 *
 * The console session (docs/web.md, "Console"): the cookie cu_console
 * holds the secret of the token a staff member pasted on /console/login,
 * checked there with cu_http_auth_token; every console page authenticates
 * from it again (cu_web_begin, CU_WEB_STAFF), so a revoked or expired
 * token ends the session on the next request.  Every read is the API's,
 * as that token, and audited there.
 */
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "domain/tokens.h"

/* A message key we compose: a prefix and an API word (a code, a field, a role). */

/* A JSON string's value, or "" when it is none. */
static const char *str_of(const json_t *v)
{
	const char *s = json_string_value(v);

	return s ? s : "";
}

/* Whether s can be an id (22 base64url characters): anything else is no member. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	return n == CU_ID_LEN && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                                   "0123456789-_") == n;
}

/* ---- words --------------------------------------------------------------------------------- */

/* ---- GET and POST /console/login, POST /console/logout -------------------------------------- */

static enum MHD_Result login_form(cu_request *r, int status, const char *error, bool ended)
{
	cu_web_page *pg = r->web;
	const char *done = cu_web_param(r, "done");

	return cu_web_render(
	    r, status, "con_login",
	    json_pack("{s:s,s:s?,s:b,s:b,s:b}", "title", cu_web_text(r, "con_login_title"), "error",
	              error ? cu_web_text(r, error) : NULL, "ended", ended, "logged_out",
	              done && !strcmp(done, "logout"), "necessary_refused",
	              !pg->choice.allowed[CU_COOKIE_NECESSARY]));
}

static enum MHD_Result p_login(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const char *held;
	cu_result rc;

	if (!pg)
		return ret;
	held = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, CU_CONSOLE_COOKIE);
	if (held && *held) {
		rc = CU_OK;
		if (strlen(held) <= CU_TOKEN_SECRET_LEN && !cu_http_auth_token(r, held, &rc))
			return cu_web_redirect(r, "/console");
		if (rc == CU_ERR_STORE)
			return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
		/* Its token was revoked or has expired: the session is over; the cookie goes. */
		cu_web_set_console_cookie(r, NULL);
		return login_form(r, MHD_HTTP_OK, NULL, true);
	}
	return login_form(r, MHD_HTTP_OK, NULL, false);
}

/*
 * The pasted token without the spaces and line breaks a copy picks up
 * around it, into out; false when nothing or too much is left.
 */
static bool token_trim(const char *in, char out[CU_TOKEN_SECRET_LEN + 1])
{
	size_t n;

	in += strspn(in, " \t\r\n");
	n = strlen(in);
	while (n && strchr(" \t\r\n", in[n - 1]))
		n--;
	if (n == 0 || n > CU_TOKEN_SECRET_LEN)
		return false;
	memcpy(out, in, n);
	out[n] = '\0';
	return true;
}

static enum MHD_Result p_login_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	char token[CU_TOKEN_SECRET_LEN + 1];
	const char *pasted;
	cu_result rc = CU_OK;

	if (!pg)
		return ret;
	pasted = cu_web_field(pg, "token");
	/* The session is a necessary cookie: refused, there is no console. */
	if (!pg->choice.allowed[CU_COOKIE_NECESSARY])
		return login_form(r, MHD_HTTP_FORBIDDEN, "con_login_needs_cookie", false);
	if (!pasted || !pasted[strspn(pasted, " \t\r\n")])
		return login_form(r, MHD_HTTP_BAD_REQUEST, "con_login_missing", false);
	/* The token is never shown again, right or wrong: the form comes back empty. */
	if (!token_trim(pasted, token) || cu_http_auth_token(r, token, &rc)) {
		sodium_memzero(token, sizeof(token));
		if (rc == CU_ERR_STORE)
			return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
		return login_form(r, MHD_HTTP_UNAUTHORIZED, "con_login_failed", false);
	}
	cu_web_set_console_cookie(r, token);
	sodium_memzero(token, sizeof(token));
	return cu_web_redirect(r, "/console");
}

static enum MHD_Result p_logout(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	/* The token stays valid for the API; only this browser's session ends. */
	cu_web_set_console_cookie(r, NULL);
	return cu_web_redirect(r, "/console/login?done=logout");
}

/* ---- GET /console ------------------------------------------------------------------------------ */

/*
 * A queue's summary from a list reply: how many, how many overdue, and the
 * nearest clock (the smallest due of key due_key, with its days_left).
 */
static json_t *queue_json(const cu_http_capture *c, const char *list_key, const char *due_key,
                          bool all_overdue)
{
	json_t *list = json_object_get(c->json, list_key), *item, *next = NULL;
	size_t i, overdue = 0;

	if (c->status != MHD_HTTP_OK || !json_is_array(list))
		return json_pack("{s:b}", "unavailable", 1);
	json_array_foreach(list, i, item)
	{
		const char *due = json_string_value(json_object_get(item, due_key));
		const char *best = json_string_value(json_object_get(next, due_key));

		if (all_overdue || json_is_true(json_object_get(item, "overdue")))
			overdue++;
		/* ISO 8601 in UTC sorts as text. */
		if (due && (!best || strcmp(due, best) < 0))
			next = item;
	}
	return json_pack("{s:I,s:I,s:s?,s:O?}", "count", (json_int_t)json_array_size(list),
	                 "overdue", (json_int_t)overdue, "next",
	                 json_string_value(json_object_get(next, due_key)), "days_left",
	                 json_object_get(next, "days_left"));
}

static int count_status(const json_t *tokens, const char *status)
{
	json_t *t;
	size_t i;
	int n = 0;

	json_array_foreach(tokens, i, t) n += !strcmp(str_of(json_object_get(t, "status")), status);
	return n;
}

static enum MHD_Result p_home(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	cu_role role = r->actor.role;
	json_t *model;

	if (!pg)
		return ret;
	model = json_pack(
	    "{s:s,s:b,s:b,s:b}", "title", cu_web_text(r, "con_home_title"), "finds",
	    role == CU_ROLE_STAFF || role == CU_ROLE_SERVICE || role == CU_ROLE_OFFICER ||
	        role == CU_ROLE_ADMIN,
	    /* The statistics pages (pages_statistics.c): who asks, who watches the budget. */
	    "statistics", role == CU_ROLE_ANALYST || role == CU_ROLE_STAFF, "budget",
	    role == CU_ROLE_OFFICER);
	if (role == CU_ROLE_OFFICER) {
		static const struct {
			const char *path, *list, *due, *name;
			bool all_overdue;
		} queues[] = {
		    {"/v1/requests", "requests", "due", "requests", false},
		    {"/v1/complaints", "complaints", "due", "complaints", false},
		    {"/v1/exceptions", "exceptions", "opened", "exceptions", false},
		    {"/v1/subcontractors/reviews/overdue", "reviews", "due", "reviews", true},
		};
		const cu_http_capture *c[sizeof(queues) / sizeof(queues[0])];

		for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
			if (!(c[i] = cu_web_call(r, "GET", queues[i].path, NULL, NULL, &ret))) {
				json_decref(model);
				return ret;
			}
		for (size_t i = 0; i < sizeof(queues) / sizeof(queues[0]); i++)
			json_object_set_new(
			    model, queues[i].name,
			    queue_json(c[i], queues[i].list, queues[i].due, queues[i].all_overdue));
	}
	if (role == CU_ROLE_ADMIN) {
		const cu_http_capture *tokens, *versions;
		json_t *list;

		if (!(tokens = cu_web_call(r, "GET", "/v1/tokens", NULL, NULL, &ret)) ||
		    !(versions = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, &ret))) {
			json_decref(model);
			return ret;
		}
		list = json_object_get(tokens->json, "tokens");
		json_object_set_new(model, "tokens",
		                    json_pack("{s:i,s:i,s:i}", "active",
		                              count_status(list, "active"), "expired",
		                              count_status(list, "expired"), "revoked",
		                              count_status(list, "revoked")));
		json_object_set(model, "in_force", json_object_get(versions->json, "in_force"));
		json_object_set_new(model, "versions",
		                    json_integer((json_int_t)json_array_size(
		                        json_object_get(versions->json, "versions"))));
	}
	return cu_web_render(r, MHD_HTTP_OK, "con_home", model);
}

/* ---- GET and POST /console/members --------------------------------------------------------- */

static enum MHD_Result find_form(cu_request *r, int status, json_t *errors, const char *notice)
{
	cu_web_page *pg = r->web;

	return cu_web_render(
	    r, status, "con_members",
	    json_pack("{s:s,s:s?,s:s?,s:o,s:s?}", "title", cu_web_text(r, "con_find_title"),
	              "email", cu_web_field(pg, "email"), "phone", cu_web_field(pg, "phone"),
	              "errors", errors ? errors : json_object(), "notice",
	              notice ? cu_web_text(r, notice) : NULL));
}

static enum MHD_Result p_members(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	return find_form(r, MHD_HTTP_OK, NULL, NULL);
}

static enum MHD_Result p_members_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *email, *phone, *kind, *id;
	char location[CU_WEB_LOCATION_MAX];
	const cu_http_capture *c;

	if (!pg)
		return ret;
	email = cu_web_field(pg, "email");
	phone = cu_web_field(pg, "phone");
	email = email && *email ? email : NULL;
	phone = phone && *phone ? phone : NULL;
	if (!email == !phone)
		return find_form(r, MHD_HTTP_BAD_REQUEST,
		                 json_pack("{s:s}", "email", cu_web_text(r, "con_find_one")), NULL);
	kind = email ? "email" : "phone";
	/* In the body of a POST, never in a URL: the API's lookup, audited there. */
	c = cu_web_call(r, "POST", "/v1/members/search", NULL,
	                json_pack("{s:s}", kind, email ? email : phone), &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_NOT_FOUND)
		return find_form(r, MHD_HTTP_NOT_FOUND, NULL, "con_find_none");
	if (c->status == MHD_HTTP_UNPROCESSABLE_CONTENT || c->status == MHD_HTTP_BAD_REQUEST)
		return find_form(r, c->status,
		                 json_pack("{s:s}", kind, cu_web_text(r, "err_malformed")), NULL);
	if (c->status != MHD_HTTP_OK || !(id = json_string_value(json_object_get(c->json, "id"))))
		return cu_web_render(
		    r, c->status, "con_members",
		    json_pack("{s:s,s:o,s:o}", "title", cu_web_text(r, "con_find_title"), "errors",
		              json_object(), "refusal", cu_web_refusal(r, c, "con_refused_")));
	/* The member's id is random and opaque: it may go in the path. */
	snprintf(location, sizeof(location), "/console/members/%s", id);
	return cu_web_redirect(r, location);
}

/* ---- GET /console/members/{id} ------------------------------------------------------------ */

/* The purposes the policy (GET /v1/policy) grants this role, for one member (diaries: only those). */
static json_t *purposes_for(cu_request *r, const cu_http_capture *policy, const char *chosen,
                            bool diaries)
{
	const char *role = cu_role_name(r->actor.role);
	json_t *out = json_array(), *p, *roles, *v;
	size_t i, j;

	json_array_foreach(json_object_get(policy->json, "purposes"), i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		bool granted = false;

		roles = json_object_get(p, "roles");
		json_array_foreach(roles, j, v) granted |= !strcmp(str_of(v), role);
		if (!id || !granted || json_is_true(json_object_get(p, "aggregate_only")) ||
		    (diaries && !json_is_true(json_object_get(p, "diaries"))))
			continue;
		json_array_append_new(
		    out,
		    json_pack("{s:s,s:O?,s:O?,s:b,s:b,s:b}", "id", id, "number",
		              json_object_get(p, "number"), "text", json_object_get(p, "text"),
		              "requires_case", json_is_true(json_object_get(p, "requires_case")),
		              "consent_required",
		              json_is_true(json_object_get(p, "consent_required")), "checked",
		              chosen && !strcmp(chosen, id)));
	}
	return out;
}

/* A field's label: con_field_<name> when the locale has one, else the policy's name. */
static const char *field_label(cu_request *r, const char *name)
{
	return cu_web_text_or(r, "con_field_", name, name);
}

/* The read's answer: allowed fields with values, withheld ones with the reason in words. */
static json_t *read_json(cu_request *r, const cu_http_capture *c)
{
	static const struct {
		const char *api, *key;
	} reasons[] = {
	    {"not allowed for this purpose", "con_reason_purpose"},
	    {"outside the subcontract", "con_reason_subcontract"},
	    {"not in the policy version the member accepted", "con_reason_version"},
	};
	json_t *fields = json_array(), *withheld = json_array(), *v;
	const char *name;

	json_object_foreach(json_object_get(c->json, "fields"), name, v)
	    json_array_append_new(fields, json_pack("{s:s,s:s,s:O}", "name", name, "label",
	                                            field_label(r, name), "value", v));
	json_object_foreach(json_object_get(c->json, "withheld"), name, v)
	{
		const char *why = str_of(v);
		const char *words = why;

		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			if (!strcmp(why, reasons[i].api))
				words = cu_web_text(r, reasons[i].key);
		json_array_append_new(withheld, json_pack("{s:s,s:s,s:s,s:s}", "name", name,
		                                          "label", field_label(r, name), "reason",
		                                          words, "api_reason", why));
	}
	return json_pack("{s:o,s:o,s:b}", "fields", fields, "withheld", withheld, "any_withheld",
	                 json_array_size(withheld) > 0);
}

static enum MHD_Result p_member(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *purpose, *case_ref;
	const cu_http_capture *policy, *c;
	char path[CU_WEB_LOCATION_MAX];
	json_t *model, *diary_purposes, *query;
	int status = MHD_HTTP_OK;

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "con_refused_not_found");
	purpose = cu_web_param(r, "purpose");
	case_ref = cu_web_param(r, "case");
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	diary_purposes = purposes_for(r, policy, NULL, true);
	model = json_pack("{s:s,s:s,s:o,s:s?,s:s?,s:b}", "title",
	                  cu_web_text(r, "con_member_title"), "id", pg->params[0], "purposes",
	                  purposes_for(r, policy, purpose, false), "purpose", purpose, "case",
	                  case_ref, "diaries", json_array_size(diary_purposes) > 0);
	json_decref(diary_purposes);
	if (!model)
		return cu_web_error(r, CU_ERR_NOMEM, "error_unavailable");
	if (!purpose || !*purpose)
		return cu_web_render(r, status, "con_member", model);
	/* The door decides, audits, and only then opens what it allows. */
	query = json_pack("{s:s}", "purpose", purpose);
	if (case_ref && *case_ref)
		json_object_set_new(query, "case", json_string(case_ref));
	snprintf(path, sizeof(path), "/v1/members/%s", pg->params[0]);
	if (!(c = cu_web_call(r, "GET", path, query, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (c->status == MHD_HTTP_OK) {
		json_object_set_new(model, "read", read_json(r, c));
	} else {
		const char *code =
		    json_string_value(json_object_get(json_object_get(c->json, "error"), "code"));

		status = c->status;
		/* A case the API refuses is the case field's error, next to it. */
		if (code && (!strcmp(code, "case_invalid") || !strcmp(code, "case_required")))
			json_object_set_new(
			    model, "case_error",
			    json_string(cu_web_text_or(r, "con_refused_", code, code)));
		json_object_set_new(model, "refusal", cu_web_refusal(r, c, "con_refused_"));
	}
	return cu_web_render(r, status, "con_member", model);
}

/* ---- GET /console/members/{id}/diaries -------------------------------------------------------- */

static enum MHD_Result p_diaries(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *purpose, *case_ref, *before;
	const cu_http_capture *policy, *c;
	char path[CU_WEB_LOCATION_MAX];
	json_t *model, *purposes, *query;
	int status = MHD_HTTP_OK;

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "con_refused_not_found");
	purpose = cu_web_param(r, "purpose");
	case_ref = cu_web_param(r, "case");
	before = cu_web_param(r, "before");
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	purposes = purposes_for(r, policy, purpose, true);
	/* One purpose reads diaries in the default policy (tos_review): chosen unless another is. */
	if ((!purpose || !*purpose) && json_array_size(purposes))
		purpose = json_string_value(json_object_get(json_array_get(purposes, 0), "id"));
	model =
	    json_pack("{s:s,s:s,s:o,s:s?,s:s?}", "title", cu_web_text(r, "con_diaries_title"), "id",
	              pg->params[0], "purposes", purposes, "purpose", purpose, "case", case_ref);
	if (!model)
		return cu_web_error(r, CU_ERR_NOMEM, "error_unavailable");
	/* Not asked yet: the form.  Asked without a case: the form, with the case required. */
	if (!case_ref)
		return cu_web_render(r, status, "con_diaries", model);
	if (!*case_ref || !purpose) {
		json_object_set_new(model, "case_error",
		                    json_string(cu_web_text(r, "con_diaries_case_required")));
		return cu_web_render(r, MHD_HTTP_BAD_REQUEST, "con_diaries", model);
	}
	query = json_pack("{s:s,s:s}", "purpose", purpose, "case", case_ref);
	if (before && *before)
		json_object_set_new(query, "before", json_string(before));
	snprintf(path, sizeof(path), "/v1/members/%s/diaries", pg->params[0]);
	if (!(c = cu_web_call(r, "GET", path, query, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (c->status == MHD_HTTP_OK) {
		json_t *entries = json_object_get(c->json, "entries");

		json_object_set_new(model, "shown", json_true());
		json_object_set(model, "entries", entries);
		json_object_set_new(model, "none", json_boolean(json_array_size(entries) == 0));
		json_object_set(model, "next_before", json_object_get(c->json, "next_before"));
	} else {
		const char *code =
		    json_string_value(json_object_get(json_object_get(c->json, "error"), "code"));

		status = c->status;
		if (code && (!strcmp(code, "case_invalid") || !strcmp(code, "case_required")))
			json_object_set_new(
			    model, "case_error",
			    json_string(cu_web_text_or(r, "con_refused_", code, code)));
		json_object_set_new(model, "refusal", cu_web_refusal(r, c, "con_refused_"));
	}
	return cu_web_render(r, status, "con_diaries", model);
}

const cu_route cu_pages_console[] = {
    {"GET", "/console/login", "/console/login", p_login, 0, true, true, true},
    {"POST", "/console/login", "/console/login", p_login_post, 0, true, true, true},
    {"POST", "/console/logout", "/console/logout", p_logout, 0, true, true, true},
    {"GET", "/console", "/console", p_home, 0, true, true, true},
    {"GET", "/console/members", "/console/members", p_members, 0, true, true, true},
    {"POST", "/console/members", "/console/members", p_members_post, 0, true, true, true},
    {"GET", "/console/members/{}", "/console/members/{id}", p_member, 0, true, true, true},
    {"GET", "/console/members/{}/diaries", "/console/members/{id}/diaries", p_diaries, 0, true,
     true, true},
};

const size_t cu_pages_console_count = sizeof(cu_pages_console) / sizeof(cu_pages_console[0]);
