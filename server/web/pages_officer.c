/*
 * server/web/pages_officer.c — the privacy officer's queues in the
 * console: requests (disclosure, amendment, erasure) and their decisions,
 * complaints (assign, respond, close), exception reviews (close with a
 * finding); the helpers the officer's pages share, and their page table.
 * Rules in pages_officer.h.
 */
#include "web/pages_officer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ----------------------------------------------------------------------- */

bool cu_off_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= CU_HTTP_PARAM_MAX || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return false;
	}
	return true;
}

static const char *error_code(const cu_http_capture *c)
{
	return json_string_value(json_object_get(json_object_get(c->json, "error"), "code"));
}

bool cu_off_role_refused(const cu_http_capture *c)
{
	const char *code = error_code(c);

	return c->status == MHD_HTTP_UNAUTHORIZED ||
	       (c->status == MHD_HTTP_FORBIDDEN && code && !strcmp(code, "forbidden"));
}

enum MHD_Result cu_off_refused(cu_request *r, const cu_http_capture *c)
{
	if (cu_off_role_refused(c))
		return cu_web_error(r, CU_ERR_FORBIDDEN, "off_not_for_role");
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
}

/* The message of key, or NULL when the locale has none. */
static const char *text_or_null(cu_request *r, const char *key)
{
	const char *s = cu_web_text(r, key);

	return s == key ? NULL : s;
}

json_t *cu_off_errors(cu_request *r, const cu_http_capture *c)
{
	json_t *out = cu_web_field_errors(r, c), *fields, *v;
	const char *name;

	fields = json_object_get(json_object_get(c->json, "error"), "fields");
	json_object_foreach(fields, name, v)
	{
		char key[CU_OFF_KEY_MAX];
		const char *msg;

		if (!json_is_string(v))
			continue;
		snprintf(key, sizeof(key), "off_err_%s", json_string_value(v));
		if (out && (msg = text_or_null(r, key)))
			json_object_set_new(out, name, json_string(msg));
	}
	return out;
}

const char *cu_off_message(cu_request *r, const cu_http_capture *c)
{
	json_t *err = json_object_get(c->json, "error");
	const char *msg = json_string_value(json_object_get(err, "message"));

	char key[CU_OFF_KEY_MAX];
	const char *own;

	if (json_object_size(json_object_get(err, "fields")))
		return cu_web_text(r, "err_form");
	/* The officer's own words for the refusals a form can meet (consent_required, ...). */
	snprintf(key, sizeof(key), "off_code_%s", error_code(c) ? error_code(c) : "");
	if ((own = text_or_null(r, key)))
		return own;
	if (c->status == MHD_HTTP_CONFLICT)
		return cu_web_text(r, "off_err_conflict");
	return msg ? msg : cu_web_text(r, "error_unavailable");
}

json_t *cu_off_form_list(const cu_web_page *pg, const char *name)
{
	json_t *v = json_object_get(pg->form, name), *out = json_array(), *e;
	size_t i;

	/* Copies: a call's body is wiped when sent, and the form is shown again after. */
	if (json_is_string(v) && json_string_length(v))
		json_array_append_new(out, json_string(json_string_value(v)));
	json_array_foreach(json_is_array(v) ? v : NULL, i, e)
	{
		if (json_is_string(e) && json_string_length(e))
			json_array_append_new(out, json_string(json_string_value(e)));
	}
	return out;
}

json_t *cu_off_checks(const json_t *names, const json_t *chosen)
{
	json_t *out = json_array(), *n, *c;
	size_t i, j;

	json_array_foreach(names, i, n)
	{
		bool on = false;

		if (!json_is_string(n))
			continue;
		json_array_foreach(chosen, j, c)
		{
			on |= json_equal(n, c);
		}
		json_array_append_new(out, json_pack("{s:O,s:b}", "name", n, "checked", on));
	}
	return out;
}

void cu_off_label(cu_request *r, json_t *o, const char *key, const char *prefix)
{
	const char *word = json_string_value(json_object_get(o, key));
	char mkey[CU_OFF_KEY_MAX], tkey[CU_OFF_KEY_MAX];
	const char *msg;

	if (!word)
		return;
	snprintf(mkey, sizeof(mkey), "%s%s", prefix, word);
	snprintf(tkey, sizeof(tkey), "%s_text", key);
	msg = text_or_null(r, mkey);
	json_object_set_new(o, tkey, json_string(msg ? msg : word));
}

void cu_off_done(cu_request *r, json_t *model)
{
	static const char *const keys[] = {"decided",      "assigned",  "answered",
	                                   "closed",       "added",     "review",
	                                   "review_saved", "published", NULL};
	const char *done = cu_web_param(r, "done");
	char key[CU_OFF_KEY_MAX];

	for (const char *const *k = keys; done && *k; k++)
		if (!strcmp(done, *k)) {
			snprintf(key, sizeof(key), "off_done_%s", *k);
			json_object_set_new(model, "done", json_string(cu_web_text(r, key)));
		}
}

/* The labels of each case of a list: state, and type or about. */
static void label_cases(cu_request *r, json_t *list, const char *kind_key, const char *kind_prefix)
{
	json_t *o;
	size_t i;

	json_array_foreach(list, i, o)
	{
		cu_off_label(r, o, "state", "off_state_");
		cu_off_label(r, o, kind_key, kind_prefix);
	}
}

/* ?status=overdue, else open: the two lists the API keeps. */
static bool want_overdue(cu_request *r)
{
	const char *s = cu_web_param(r, "status");

	return s && !strcmp(s, "overdue");
}

/* ---- GET /console/requests -------------------------------------------------------- */

static enum MHD_Result p_requests(cu_request *r)
{
	static const char *const types[] = {"disclosure", "amendment", "erasure", NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *type = cu_web_param(r, "type");
	bool overdue = want_overdue(r), known = false;
	const cu_http_capture *c;
	json_t *list, *shown, *o, *model, *kinds;
	size_t i;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "GET", "/v1/requests",
	                      json_pack("{s:s}", "status", overdue ? "overdue" : "open"), NULL,
	                      &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_off_refused(r, c);
	for (const char *const *t = types; type && *t; t++)
		known |= !strcmp(type, *t);
	if (!known)
		type = NULL;
	/* The kind is chosen here, over the API's list: the API filters by state only. */
	list = json_object_get(c->json, "requests");
	shown = json_array();
	json_array_foreach(list, i, o)
	{
		const char *t = json_string_value(json_object_get(o, "type"));

		if (!type || (t && !strcmp(t, type)))
			json_array_append(shown, o);
	}
	label_cases(r, shown, "type", "off_type_");
	kinds = json_array();
	for (const char *const *t = types; *t; t++) {
		char key[CU_OFF_KEY_MAX];

		snprintf(key, sizeof(key), "off_type_%s", *t);
		json_array_append_new(kinds, json_pack("{s:s,s:s,s:b}", "id", *t, "text",
		                                       cu_web_text(r, key), "selected",
		                                       type && !strcmp(type, *t)));
	}
	model =
	    json_pack("{s:s,s:o,s:b,s:b,s:o,s:O}", "title", cu_web_text(r, "off_requests_title"),
	              "requests", shown, "overdue_only", overdue, "open_only", !overdue, "kinds",
	              kinds, "now", json_object_get(c->json, "now"));
	return cu_web_render(r, MHD_HTTP_OK, "off_requests", model);
}

/* ---- GET and POST /console/requests/{id} ------------------------------------------ */

/* The grounds a disclosure may be refused on (docs/requests.md): fixed by the law the policy repeats. */
static const char *const grounds[] = {"harm_to_life_or_rights", "business_interference",
                                      "breach_of_law", NULL};
/* The grounds whose refusal suspends the member's export, and so may be lifted. */
static bool ground_suspends(const char *g)
{
	return g && (!strcmp(g, "harm_to_life_or_rights") || !strcmp(g, "breach_of_law"));
}

static const char *const actions[] = {"investigate", "apply", "reject", "refuse", "lift", NULL};

/*
 * The request's page: req is GET /v1/requests/{id}'s reply; posted the
 * action of a decision that failed (with dec its reply), or NULL.
 */
static enum MHD_Result request_page(cu_request *r, int status, const cu_http_capture *req,
                                    const char *posted, const cu_http_capture *dec)
{
	cu_web_page *pg = r->web;
	json_t *q = json_deep_copy(req->json), *details, *changes, *list, *forms, *h, *v;
	const char *type, *state, *ground, *field;
	bool open, received;
	json_t *model;
	size_t i;

	if (!q)
		return cu_web_error(r, CU_ERR_NOMEM, "error_unavailable");
	type = json_string_value(json_object_get(q, "type"));
	state = json_string_value(json_object_get(q, "state"));
	ground = json_string_value(json_object_get(q, "ground"));
	open = state && (!strcmp(state, "received") || !strcmp(state, "investigating"));
	received = state && !strcmp(state, "received");
	cu_off_label(r, q, "state", "off_state_");
	cu_off_label(r, q, "type", "off_type_");
	cu_off_label(r, q, "ground", "off_ground_");
	json_array_foreach(json_object_get(q, "history"), i, h)
	{
		cu_off_label(r, h, "state", "off_state_");
		cu_off_label(r, h, "ground", "off_ground_");
	}
	/* An amendment's changes as rows: the field, and its new value (null: deleted). */
	details = json_object_get(q, "details");
	changes = json_object_get(details, "changes");
	list = json_array();
	json_object_foreach(changes, field, v)
	{
		json_array_append_new(list, json_pack("{s:s,s:O,s:b}", "field", field, "value", v,
		                                      "deleted", json_is_null(v)));
	}
	json_object_set_new(q, "change_list", list);
	/* One form per action the request's state allows. */
	forms = json_object();
	for (const char *const *a = actions; *a; a++) {
		bool mine = posted && !strcmp(posted, *a);
		bool allowed = !strcmp(*a, "investigate") ? received
		               : !strcmp(*a, "refuse") ? open && type && !strcmp(type, "disclosure")
		               : !strcmp(*a, "lift")
		                   ? state && !strcmp(state, "refused") && ground_suspends(ground)
		                   : open;
		const char *reasons = mine ? cu_web_field(pg, "reasons") : NULL;
		json_t *f, *gl;

		if (!allowed)
			continue;
		f = json_pack("{s:s,s:o}", "reasons", reasons ? reasons : "", "errors",
		              mine ? cu_off_errors(r, dec) : json_object());
		if (!strcmp(*a, "refuse")) {
			const char *chosen = mine ? cu_web_field(pg, "ground") : NULL;

			gl = json_array();
			for (const char *const *g = grounds; *g; g++) {
				char key[CU_OFF_KEY_MAX];

				snprintf(key, sizeof(key), "off_ground_%s", *g);
				json_array_append_new(gl,
				                      json_pack("{s:s,s:s,s:b}", "id", *g, "text",
				                                cu_web_text(r, key), "selected",
				                                chosen && !strcmp(chosen, *g)));
			}
			json_object_set_new(f, "grounds", gl);
		}
		json_object_set_new(forms, *a, f);
	}
	/* An erasure's signed certificate, as issued: the officer hands it over if asked. */
	if (json_is_object(json_object_get(q, "certificate"))) {
		char *cert = json_dumps(json_object_get(q, "certificate"), JSON_INDENT(2));

		if (cert)
			json_object_set_new(q, "certificate_text", json_string(cert));
		free(cert);
	}
	model = json_pack("{s:s,s:o,s:o,s:b,s:b,s:b,s:b}", "title",
	                  cu_web_text(r, "off_request_title"), "request", q, "forms", forms,
	                  "is_amendment", type && !strcmp(type, "amendment"), "is_erasure",
	                  type && !strcmp(type, "erasure"), "is_disclosure",
	                  type && !strcmp(type, "disclosure"), "is_open", open);
	if (model && dec) {
		json_t *problems = json_array(), *errs = cu_off_errors(r, dec), *m;
		const char *name;

		json_object_set_new(model, "alert", json_string(cu_off_message(r, dec)));
		json_object_foreach(errs, name, m)
		{
			json_array_append_new(problems,
			                      json_pack("{s:s,s:O}", "field", name, "message", m));
		}
		json_decref(errs);
		json_object_set_new(model, "problems", problems);
	}
	if (model)
		cu_off_done(r, model);
	return cu_web_render(r, status, "off_request", model);
}

/* prefix, the page's id, suffix into out: an API path; false when the id may not stand in one. */
static bool request_path(cu_request *r, const char *prefix, const char *suffix,
                         char out[CU_OFF_PATH_MAX])
{
	if (!cu_off_id_ok(r->web->params[0]))
		return false;
	snprintf(out, CU_OFF_PATH_MAX, "%s%s%s", prefix, r->web->params[0], suffix);
	return true;
}

static enum MHD_Result p_request(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!request_path(r, "/v1/requests/", "", path))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	if (!(c = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_off_refused(r, c);
	return request_page(r, MHD_HTTP_OK, c, NULL, NULL);
}

static enum MHD_Result p_request_decide(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_OFF_PATH_MAX], back[CU_OFF_PATH_MAX];
	const char *action, *ground, *reasons;
	const cu_http_capture *dec, *req;
	json_t *body;

	if (!pg)
		return ret;
	if (!request_path(r, "/v1/requests/", "/decision", path))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	action = cu_web_field(pg, "action");
	ground = cu_web_field(pg, "ground");
	reasons = cu_web_field(pg, "reasons");
	body = json_pack("{s:s}", "action", action ? action : "");
	if (body && ground && *ground && action && !strcmp(action, "refuse"))
		json_object_set_new(body, "ground", json_string(ground));
	if (body && reasons && *reasons)
		json_object_set_new(body, "reasons", json_string(reasons));
	if (!(dec = cu_web_call(r, "POST", path, NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(dec) || dec->status == MHD_HTTP_NOT_FOUND)
		return cu_off_refused(r, dec);
	snprintf(back, sizeof(back), "/console/requests/%s", pg->params[0]);
	if (dec->status == MHD_HTTP_OK) {
		snprintf(back + strlen(back), sizeof(back) - strlen(back), "?done=decided");
		return cu_web_redirect(r, back);
	}
	request_path(r, "/v1/requests/", "", path);
	if (!(req = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (req->status != MHD_HTTP_OK)
		return cu_off_refused(r, req);
	return request_page(r, dec->status, req, action, dec);
}

/* ---- GET /console/complaints ------------------------------------------------------ */

static enum MHD_Result p_complaints(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	bool overdue = want_overdue(r);
	const cu_http_capture *c;
	json_t *list;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "GET", "/v1/complaints",
	                      json_pack("{s:s}", "status", overdue ? "overdue" : "open"), NULL,
	                      &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_off_refused(r, c);
	list = json_deep_copy(json_object_get(c->json, "complaints"));
	label_cases(r, list, "about", "off_about_");
	return cu_web_render(
	    r, MHD_HTTP_OK, "off_complaints",
	    json_pack("{s:s,s:o,s:b,s:b,s:O}", "title", cu_web_text(r, "off_complaints_title"),
	              "complaints", list ? list : json_array(), "overdue_only", overdue,
	              "open_only", !overdue, "now", json_object_get(c->json, "now")));
}

/* ---- GET /console/complaints/{id}, POST .../assign and .../responses ---------------- */

/*
 * The complaint's page: got is GET /v1/complaints/{id}'s reply; posted
 * "assign" or "respond" when that form failed (with res its reply).
 */
static enum MHD_Result complaint_page(cu_request *r, int status, const cu_http_capture *got,
                                      const char *posted, const cu_http_capture *res)
{
	cu_web_page *pg = r->web;
	json_t *k = json_deep_copy(got->json), *model, *assign, *respond;
	const char *state, *officer, *text;
	bool mine_a = posted && !strcmp(posted, "assign");
	bool mine_r = posted && !strcmp(posted, "respond");
	bool open;

	if (!k)
		return cu_web_error(r, CU_ERR_NOMEM, "error_unavailable");
	state = json_string_value(json_object_get(k, "state"));
	open = state && strcmp(state, "closed") != 0;
	cu_off_label(r, k, "state", "off_state_");
	cu_off_label(r, k, "about", "off_about_");
	officer = mine_a ? cu_web_field(pg, "officer") : NULL;
	if (!officer)
		officer = json_string_value(json_object_get(k, "assigned"));
	if (!officer)
		officer = r->actor.name;
	text = mine_r ? cu_web_field(pg, "text") : NULL;
	assign = json_pack("{s:s,s:o}", "officer", officer ? officer : "", "errors",
	                   mine_a ? cu_off_errors(r, res) : json_object());
	respond = json_pack("{s:s,s:b,s:o}", "text", text ? text : "", "close",
	                    mine_r && cu_web_field(pg, "close") != NULL, "errors",
	                    mine_r ? cu_off_errors(r, res) : json_object());
	model = json_pack("{s:s,s:o,s:b,s:o,s:o}", "title", cu_web_text(r, "off_complaint_title"),
	                  "complaint", k, "is_open", open, "assign", assign, "respond", respond);
	if (model && res)
		json_object_set_new(model, "alert", json_string(cu_off_message(r, res)));
	if (model)
		cu_off_done(r, model);
	return cu_web_render(r, status, "off_complaint", model);
}

static enum MHD_Result p_complaint(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!request_path(r, "/v1/complaints/", "", path))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	if (!(c = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_off_refused(r, c);
	return complaint_page(r, MHD_HTTP_OK, c, NULL, NULL);
}

/*
 * POSTs the complaint's form (what: "assign" or "respond") to
 * /v1/complaints/{id}{api_suffix}; its page again when it fails.
 */
static enum MHD_Result complaint_post(cu_request *r, const char *what, const char *api_suffix,
                                      json_t *body, const char *done)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	char path[CU_OFF_PATH_MAX], back[CU_OFF_PATH_MAX];
	const cu_http_capture *res, *got;

	if (!request_path(r, "/v1/complaints/", api_suffix, path)) {
		json_decref(body);
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	}
	if (!(res = cu_web_call(r, "POST", path, NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(res) || res->status == MHD_HTTP_NOT_FOUND)
		return cu_off_refused(r, res);
	if (res->status == MHD_HTTP_OK || res->status == MHD_HTTP_CREATED) {
		snprintf(back, sizeof(back), "/console/complaints/%s?done=%s", pg->params[0], done);
		return cu_web_redirect(r, back);
	}
	request_path(r, "/v1/complaints/", "", path);
	if (!(got = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (got->status != MHD_HTTP_OK)
		return cu_off_refused(r, got);
	return complaint_page(r, res->status, got, what, res);
}

static enum MHD_Result p_complaint_assign(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *officer;

	if (!pg)
		return ret;
	officer = cu_web_field(pg, "officer");
	return complaint_post(r, "assign", "/assign",
	                      json_pack("{s:s}", "officer", officer ? officer : ""), "assigned");
}

static enum MHD_Result p_complaint_respond(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *text;
	bool close;
	json_t *body;

	if (!pg)
		return ret;
	text = cu_web_field(pg, "text");
	close = cu_web_field(pg, "close") != NULL;
	/* An empty text is no text: closing alone is allowed after a response (the API decides). */
	body = json_pack("{s:b}", "close", close);
	if (body && text && *text)
		json_object_set_new(body, "text", json_string(text));
	return complaint_post(r, "respond", "/responses", body, close ? "closed" : "answered");
}

/* ---- GET /console/exceptions, POST /console/exceptions/{id}/close ------------------ */

/*
 * The review queue: list is GET /v1/exceptions' reply; posted the id of a
 * review whose closing failed (res its reply), or NULL.
 */
static enum MHD_Result exceptions_page(cu_request *r, int status, const cu_http_capture *list,
                                       bool all, const char *posted, const cu_http_capture *res)
{
	cu_web_page *pg = r->web;
	json_t *items = json_deep_copy(json_object_get(list->json, "exceptions")), *x, *model;
	size_t i;

	json_array_foreach(items, i, x)
	{
		const char *id = json_string_value(json_object_get(x, "id"));
		bool mine = posted && id && !strcmp(id, posted);
		const char *review = mine ? cu_web_field(pg, "review") : NULL;

		cu_off_label(r, x, "exception", "off_exception_");
		json_object_set_new(x, "is_open", json_boolean(!json_object_get(x, "closed")));
		json_object_set_new(x, "form",
		                    json_pack("{s:s,s:o}", "review", review ? review : "", "errors",
		                              mine ? cu_off_errors(r, res) : json_object()));
	}
	model =
	    json_pack("{s:s,s:o,s:b,s:b}", "title", cu_web_text(r, "off_exceptions_title"),
	              "exceptions", items ? items : json_array(), "all", all, "open_only", !all);
	if (model && res)
		json_object_set_new(model, "alert", json_string(cu_off_message(r, res)));
	if (model)
		cu_off_done(r, model);
	return cu_web_render(r, status, "off_exceptions", model);
}

static bool want_all(cu_request *r)
{
	const char *s = cu_web_param(r, "status");

	return s && !strcmp(s, "all");
}

static enum MHD_Result p_exceptions(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	bool all = want_all(r);
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "GET", "/v1/exceptions",
	                      json_pack("{s:s}", "status", all ? "all" : "open"), NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_off_refused(r, c);
	return exceptions_page(r, MHD_HTTP_OK, c, all, NULL, NULL);
}

static enum MHD_Result p_exception_close(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *res, *list;
	const char *review;

	if (!pg)
		return ret;
	if (!request_path(r, "/v1/exceptions/", "/close", path))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	review = cu_web_field(pg, "review");
	if (!(res = cu_web_call(r, "POST", path, NULL,
	                        json_pack("{s:s}", "review", review ? review : ""), &ret)))
		return ret;
	if (cu_off_role_refused(res) || res->status == MHD_HTTP_NOT_FOUND)
		return cu_off_refused(r, res);
	if (res->status == MHD_HTTP_OK)
		return cu_web_redirect(r, "/console/exceptions?done=closed");
	if (!(list = cu_web_call(r, "GET", "/v1/exceptions", json_pack("{s:s}", "status", "all"),
	                         NULL, &ret)))
		return ret;
	if (list->status != MHD_HTTP_OK)
		return cu_off_refused(r, list);
	return exceptions_page(r, res->status, list, true, pg->params[0], res);
}

/* ---- the table -------------------------------------------------------------------- */

/* A page route: its pattern, its template (as the access log names it), its handler. */
#define PAGE(method, pattern, template, handler)                                                   \
	{                                                                                          \
		method, pattern, template, handler, 0, true, true, true                            \
	}

const cu_route cu_pages_officer[] = {
    PAGE("GET", "/console/requests", "/console/requests", p_requests),
    PAGE("GET", "/console/requests/{}", "/console/requests/{id}", p_request),
    PAGE("POST", "/console/requests/{}", "/console/requests/{id}", p_request_decide),
    PAGE("GET", "/console/complaints", "/console/complaints", p_complaints),
    PAGE("GET", "/console/complaints/{}", "/console/complaints/{id}", p_complaint),
    PAGE("POST", "/console/complaints/{}/assign", "/console/complaints/{id}/assign",
         p_complaint_assign),
    PAGE("POST", "/console/complaints/{}/responses", "/console/complaints/{id}/responses",
         p_complaint_respond),
    PAGE("GET", "/console/exceptions", "/console/exceptions", p_exceptions),
    PAGE("POST", "/console/exceptions/{}/close", "/console/exceptions/{id}/close",
         p_exception_close),
    PAGE("GET", "/console/subcontractors", "/console/subcontractors", cu_off_subcontractors),
    PAGE("POST", "/console/subcontractors", "/console/subcontractors", cu_off_subcontractor_add),
    PAGE("GET", "/console/subcontractors/{}", "/console/subcontractors/{id}", cu_off_subcontractor),
    PAGE("POST", "/console/subcontractors/{}/reviews", "/console/subcontractors/{id}/reviews",
         cu_off_review_add),
    PAGE("POST", "/console/subcontractors/{}/reviews/{}",
         "/console/subcontractors/{id}/reviews/{review}", cu_off_review_update),
    PAGE("GET", "/console/third-parties", "/console/third-parties", cu_off_third_parties),
    PAGE("POST", "/console/third-parties", "/console/third-parties", cu_off_third_party_add),
    PAGE("GET", "/console/third-parties/{}", "/console/third-parties/{id}", cu_off_third_party),
    PAGE("POST", "/console/third-parties/{}/provisions", "/console/third-parties/{id}/provisions",
         cu_off_provision),
    PAGE("GET", "/console/policy", "/console/policy", cu_off_policy),
    PAGE("POST", "/console/policy", "/console/policy", cu_off_policy_publish),
    PAGE("GET", "/console/policy/{}", "/console/policy/{version}", cu_off_policy_version),
};

const size_t cu_pages_officer_count = sizeof(cu_pages_officer) / sizeof(cu_pages_officer[0]);
