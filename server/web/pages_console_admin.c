/*
 * server/web/pages_console_admin.c — the console's oversight pages: the
 * audit trail and its chain check (officer, admin), and the tokens (admin:
 * list, issue with the secret shown once, revoke after a confirmation).
 * Who may see them is the API's to say: a role it refuses gets the
 * refusal as a 403 page.
 */
#include "web/web.h"

#include <stdio.h>
#include <string.h>

/* A refused call's page: 403 for a role the route does not admit, else the API's status. */
static enum MHD_Result refused(cu_request *r, const cu_http_capture *c)
{
	if (c->status == MHD_HTTP_FORBIDDEN || c->status == MHD_HTTP_UNAUTHORIZED)
		return cu_web_error(r, CU_ERR_FORBIDDEN, "con_forbidden");
	if (c->status >= MHD_HTTP_INTERNAL_SERVER_ERROR)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	return cu_web_error(r, CU_ERR_INVALID_ARGUMENT, "con_bad_request");
}

/* ---- GET /console/audit ------------------------------------------------------------------ */

/* Copies the page's query parameter name into query when it is given and not empty. */
static void pass_param(cu_request *r, json_t *query, json_t *model, const char *name)
{
	const char *v = cu_web_param(r, name);

	if (v && *v) {
		json_object_set_new(query, name, json_string(v));
		json_object_set_new(model, name, json_string(v));
	}
}

static enum MHD_Result p_audit(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *list, *verify = NULL;
	const char *v = NULL;
	json_t *query, *model;
	int status = MHD_HTTP_OK;

	if (!pg)
		return ret;
	model = json_pack("{s:s}", "title", cu_web_text(r, "con_audit_title"));
	query = json_object();
	pass_param(r, query, model, "member");
	pass_param(r, query, model, "after");
	pass_param(r, query, model, "limit");
	if (!json_object_get(query, "limit"))
		json_object_set_new(query, "limit", json_string("50"));
	if (!(list = cu_web_call(r, "GET", "/v1/audit", query, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (list->status == MHD_HTTP_FORBIDDEN || list->status == MHD_HTTP_UNAUTHORIZED ||
	    list->status >= MHD_HTTP_INTERNAL_SERVER_ERROR) {
		json_decref(model);
		return refused(r, list);
	}
	v = cu_web_param(r, "verify");
	if (v && *v) {
		if (!(verify = cu_web_call(r, "GET", "/v1/audit/verify", NULL, NULL, &ret))) {
			json_decref(model);
			return ret;
		}
		if (verify->status == MHD_HTTP_OK)
			json_object_set(model, "verify", verify->json);
		else
			json_object_set_new(model, "verify_failed", json_true());
	}
	if (list->status == MHD_HTTP_OK) {
		json_t *entries = json_object_get(list->json, "entries");

		json_object_set(model, "entries", entries);
		json_object_set_new(model, "none", json_boolean(json_array_size(entries) == 0));
		json_object_set(model, "next_after", json_object_get(list->json, "next_after"));
		/* The query went to the call (and is kept with its reply). */
		json_object_set(model, "limit_used", json_object_get(list->query, "limit"));
	} else {
		/* A filter the API refuses (a member that is no id, an after that is no seq). */
		status = list->status;
		json_object_set_new(model, "filter_error",
		                    json_string(cu_web_text(r, "con_audit_filter_error")));
	}
	return cu_web_render(r, status, "con_audit", model);
}

/* ---- GET and POST /console/tokens -------------------------------------------------------------- */

static const char *const token_roles[] = {"staff",         "analyst", "service",
                                          "subcontractor", "officer", "admin"};

static json_t *roles_json(const char *chosen)
{
	json_t *out = json_array();

	for (size_t i = 0; i < sizeof(token_roles) / sizeof(token_roles[0]); i++)
		json_array_append_new(out, json_pack("{s:s,s:b}", "id", token_roles[i], "selected",
		                                     chosen && !strcmp(chosen, token_roles[i])));
	return out;
}

/* The tokens page: the list (from list, a GET /v1/tokens reply) and the form (with errors). */
static enum MHD_Result tokens_page(cu_request *r, int status, const cu_http_capture *list,
                                   json_t *errors)
{
	cu_web_page *pg = r->web;
	const char *done = cu_web_param(r, "done");
	json_t *tokens = json_object_get(list->json, "tokens");

	return cu_web_render(
	    r, status, "con_tokens",
	    json_pack("{s:s,s:O,s:b,s:o,s:s?,s:s?,s:s?,s:o,s:b,s:b}", "title",
	              cu_web_text(r, "con_tokens_title"), "tokens", tokens, "none",
	              json_array_size(tokens) == 0, "roles",
	              roles_json(pg->form ? cu_web_field(pg, "role") : "staff"), "name",
	              cu_web_field(pg, "name"), "expires", cu_web_field(pg, "expires"), "contract",
	              cu_web_field(pg, "contract"), "errors", errors ? errors : json_object(),
	              "has_errors", errors && json_object_size(errors) > 0, "revoked_done",
	              done && !strcmp(done, "revoked")));
}

static enum MHD_Result p_tokens(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *list;

	if (!pg)
		return ret;
	if (!(list = cu_web_call(r, "GET", "/v1/tokens", NULL, NULL, &ret)))
		return ret;
	if (list->status != MHD_HTTP_OK)
		return refused(r, list);
	return tokens_page(r, MHD_HTTP_OK, list, NULL);
}

static enum MHD_Result p_tokens_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *list, *c;
	const char *expires, *contract;
	json_t *body, *errors;

	if (!pg)
		return ret;
	/* Asked first, so a refused role is refused before anything is sent. */
	if (!(list = cu_web_call(r, "GET", "/v1/tokens", NULL, NULL, &ret)))
		return ret;
	if (list->status != MHD_HTTP_OK)
		return refused(r, list);
	body =
	    json_pack("{s:s,s:s}", "role", cu_web_field(pg, "role") ? cu_web_field(pg, "role") : "",
	              "name", cu_web_field(pg, "name") ? cu_web_field(pg, "name") : "");
	expires = cu_web_field(pg, "expires");
	contract = cu_web_field(pg, "contract");
	if (expires && *expires)
		json_object_set_new(body, "expires", json_string(expires));
	if (contract && *contract)
		json_object_set_new(body, "contract", json_string(contract));
	if (!(c = cu_web_call(r, "POST", "/v1/tokens", NULL, body, &ret)))
		return ret;
	if (c->status == MHD_HTTP_CREATED) {
		json_t *t = json_deep_copy(json_object_get(c->json, "token"));
		const char *role = json_string_value(json_object_get(t, "role"));

		/* A subcontractor's token without a contract reads nothing: the page says so. */
		json_object_set_new(t, "unbound",
		                    json_boolean(role && !strcmp(role, "subcontractor") &&
		                                 json_is_null(json_object_get(t, "contract"))));
		/* The secret is in this page only: it is not stored, and no URL carries it. */
		return cu_web_render(r, MHD_HTTP_OK, "con_token_created",
		                     json_pack("{s:s,s:o,s:O}", "title",
		                               cu_web_text(r, "con_created_title"), "token", t,
		                               "secret", json_object_get(c->json, "secret")));
	}
	if (c->status == MHD_HTTP_UNPROCESSABLE_CONTENT) {
		const char *why;

		errors = cu_web_field_errors(r, c);
		why = json_string_value(json_object_get(
		    json_object_get(json_object_get(c->json, "error"), "fields"), "expires"));
		/* Words of this page for the reasons a token's fields have. */
		if (why && !strcmp(why, "out_of_range"))
			json_object_set_new(errors, "expires",
			                    json_string(cu_web_text(r, "con_expires_future")));
		why = json_string_value(json_object_get(
		    json_object_get(json_object_get(c->json, "error"), "fields"), "contract"));
		if (why)
			json_object_set_new(
			    errors, "contract",
			    json_string(cu_web_text(r, !strcmp(why, "not_allowed")
			                                   ? "con_contract_not_allowed"
			                                   : "con_contract_unknown")));
		return tokens_page(r, c->status, list, errors);
	}
	return refused(r, c);
}

/* ---- GET and POST /console/tokens/{id}/revoke ---------------------------------------------------- */

/* The token with id in a GET /v1/tokens reply, or NULL. */
static json_t *find_token(const cu_http_capture *list, const char *id)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(list->json, "tokens"), i, t)
	{
		const char *tid = json_string_value(json_object_get(t, "id"));

		if (tid && !strcmp(tid, id))
			return t;
	}
	return NULL;
}

static enum MHD_Result p_revoke(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *list;
	json_t *t;

	if (!pg)
		return ret;
	if (!(list = cu_web_call(r, "GET", "/v1/tokens", NULL, NULL, &ret)))
		return ret;
	if (list->status != MHD_HTTP_OK)
		return refused(r, list);
	if (!(t = find_token(list, pg->params[0])))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "con_token_unknown");
	return cu_web_render(r, MHD_HTTP_OK, "con_token_revoke",
	                     json_pack("{s:s,s:O,s:b}", "title", cu_web_text(r, "con_revoke_title"),
	                               "token", t, "self", !strcmp(pg->params[0], r->token.id)));
}

static enum MHD_Result p_revoke_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_WEB_LOCATION_MAX];
	const cu_http_capture *c;

	if (!pg)
		return ret;
	/* An id is base64url; anything else names no token (and never another route). */
	if (strlen(pg->params[0]) != strspn(pg->params[0],
	                                    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	                                    "abcdefghijklmnopqrstuvwxyz0123456789-_"))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "con_token_unknown");
	snprintf(path, sizeof(path), "/v1/tokens/%s", pg->params[0]);
	if (!(c = cu_web_call(r, "DELETE", path, NULL, NULL, &ret)))
		return ret;
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "con_token_unknown");
	if (c->status != MHD_HTTP_OK)
		return refused(r, c);
	return cu_web_redirect(r, "/console/tokens?done=revoked");
}

const cu_route cu_pages_console_admin[] = {
    {"GET", "/console/audit", "/console/audit", p_audit, 0, true, true, true},
    {"GET", "/console/tokens", "/console/tokens", p_tokens, 0, true, true, true},
    {"POST", "/console/tokens", "/console/tokens", p_tokens_post, 0, true, true, true},
    {"GET", "/console/tokens/{}/revoke", "/console/tokens/{id}/revoke", p_revoke, 0, true, true,
     true},
    {"POST", "/console/tokens/{}/revoke", "/console/tokens/{id}/revoke", p_revoke_post, 0, true,
     true, true},
};

const size_t cu_pages_console_admin_count =
    sizeof(cu_pages_console_admin) / sizeof(cu_pages_console_admin[0]);
