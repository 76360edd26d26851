/*
 * server/web/pages_casework.c — the member portal's casework pages: my
 * requests (disclosure, amendment, erasure), my complaints, my diary, my
 * notices and "who accessed my data" (the access log).
 *
 * Every read and change is a call to the API (rules in web/web.h):
 *   /me/requests        GET /v1/me/requests, POST /v1/requests
 *   /me/requests/{id}   GET /v1/requests/{id} (audited: "read_request")
 *   /me/complaints      GET /v1/me/complaints, POST /v1/complaints
 *   /me/complaints/{id} GET /v1/complaints/{id} (audited: "read_complaint")
 *   /me/diary           GET/POST /v1/me/diaries, PATCH/DELETE /v1/me/diaries/{id}
 *   /me/notices         GET /v1/me/notices, POST /v1/me/notices/{id}/read
 *   /me/access-log      GET /v1/me/access-log, GET /v1/policy (the purposes' words)
 *
 * Words the API gives as ids (a request's type and state, a refusal's
 * ground, a role, an action) are shown through the locale (case_type_*,
 * case_state_*, ...), falling back to the id itself when the locale has
 * none.  Only ids go in URLs.
 */
#include "web/web.h"

#include <stdio.h>
#include <string.h>

#define DAY_LEN      10 /* "2026-12-06" of an ISO time */
#define MINUTE_LEN   16 /* "2026-12-06T09:30" of an ISO time */
#define KEY_MAX      CU_WEB_NAME_MAX
#define API_PATH_MAX 96 /* "/v1/me/notices/<id>/read" and the like */
#define ID_MAX       22 /* an id Custodian makes: 22 base64url characters */

_Static_assert(API_PATH_MAX > sizeof("/v1/me/notices//read") + ID_MAX, "an API path holds an id");

/* ---- shared ------------------------------------------------------------------------ */

/* Whether s looks like an id of ours (base64url, at most ID_MAX): anything else is not found. */
static bool id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

/* The locale's word for prefix+value, or value itself when the locale has none. */
static const char *word(cu_request *r, const char *prefix, const char *value)
{
	char key[KEY_MAX];
	const char *s;

	if (!value || !*value)
		return value;
	snprintf(key, sizeof(key), "%s%s", prefix, value);
	s = cu_web_text(r, key);
	return s == key || !strcmp(s, key) ? value : s;
}

/* Adds o[name + "_day"]: the date of an ISO time o[name], for reading; the time stays. */
static void add_day(json_t *o, const char *name)
{
	const char *t = json_string_value(json_object_get(o, name));
	char key[KEY_MAX], day[DAY_LEN + 1];

	if (!t)
		return;
	snprintf(day, sizeof(day), "%s", t);
	snprintf(key, sizeof(key), "%s_day", name);
	json_object_set_new(o, key, json_string(day));
}

/* Adds o[name + "_minute"]: "2026-12-06 09:30 UTC" of an ISO time o[name] (the access log's when). */
static void add_minute(json_t *o, const char *name)
{
	const char *t = json_string_value(json_object_get(o, name));
	char key[KEY_MAX], minute[MINUTE_LEN + sizeof(" UTC")];

	if (!t || strlen(t) < MINUTE_LEN)
		return;
	snprintf(minute, sizeof(minute), "%.*s %.*s UTC", DAY_LEN, t, MINUTE_LEN - DAY_LEN - 1,
	         t + DAY_LEN + 1);
	snprintf(key, sizeof(key), "%s_minute", name);
	json_object_set_new(o, key, json_string(minute));
}

/* Sets o[key] to the locale's word for prefix + o[from] (see word). */
static void add_word(cu_request *r, json_t *o, const char *key, const char *prefix,
                     const char *from)
{
	const char *v = json_string_value(json_object_get(o, from));

	if (v && *v)
		json_object_set_new(o, key, json_string(word(r, prefix, v)));
}

/* The ?done= confirmation, as the locale's message key prefix+done (only known words). */
static const char *done_message(cu_request *r, const char *prefix, const char *const *known)
{
	const char *done = cu_web_param(r, "done");

	for (const char *const *k = known; done && *k; k++)
		if (!strcmp(done, *k))
			return word(r, prefix, done);
	return NULL;
}

/* The page for an API reply that is neither success nor a field error. */
static enum MHD_Result api_failed(cu_request *r, const cu_http_capture *c)
{
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "case_not_found");
	if (c->status == MHD_HTTP_TOO_MANY_REQUESTS)
		return cu_web_error(r, CU_ERR_RATE_LIMITED, "case_rate_limited");
	return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
}

/* A request or complaint row dressed for a page: words, days, the overdue tag. */
static void dress_case(cu_request *r, json_t *o)
{
	add_word(r, o, "type_label", "case_type_", "type");
	add_word(r, o, "about_label", "cpl_about_", "about");
	add_word(r, o, "state_label", "case_state_", "state");
	add_word(r, o, "ground_label", "case_ground_", "ground");
	add_day(o, "received");
	add_day(o, "due");
	add_day(o, "hard_due");
	add_day(o, "decided");
	add_day(o, "updated");
	add_day(o, "time");
	/* Open: days_left is there. */
	json_object_set_new(o, "open", json_boolean(json_object_get(o, "days_left") != NULL));
}

static json_t *dressed_list(cu_request *r, json_t *list)
{
	json_t *out = json_deep_copy(list), *v;
	size_t i;

	if (!json_is_array(out)) {
		json_decref(out);
		return json_array();
	}
	json_array_foreach(out, i, v)
	{
		dress_case(r, v);
	}
	return out;
}

/* ---- requests ---------------------------------------------------------------------- */

/*
 * The field list for an amendment: the policy in force's fields with their
 * labels (from the policy document as published).  Two calls.
 */
static json_t *policy_fields(cu_request *r, enum MHD_Result *ret, bool *waiting)
{
	const cu_http_capture *v, *doc;
	char path[API_PATH_MAX + 64];
	json_t *out = json_array(), *f;
	const char *in_force;
	size_t i;

	*waiting = false;
	if (!(v = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, ret))) {
		*waiting = true;
		json_decref(out);
		return NULL;
	}
	in_force = json_string_value(json_object_get(v->json, "in_force"));
	snprintf(path, sizeof(path), "/v1/policy/versions/%s", in_force ? in_force : "-");
	if (!(doc = cu_web_call(r, "GET", path, NULL, NULL, ret))) {
		*waiting = true;
		json_decref(out);
		return NULL;
	}
	json_array_foreach(json_object_get(doc->json, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *label = json_string_value(json_object_get(f, "label"));

		if (name)
			json_array_append_new(out, json_pack("{s:s,s:s}", "name", name, "label",
			                                     label ? label : name));
	}
	return out;
}

/*
 * The requests page: the list and the three forms.  form: what was sent
 * (kept), errors: field -> message, kind: the form they belong to.
 */
static enum MHD_Result requests_page(cu_request *r, int status, const char *kind, json_t *errors)
{
	static const char *const known[] = {"filed", NULL};
	const cu_http_capture *c;
	enum MHD_Result ret;
	json_t *fields, *model, *f, *list;
	bool waiting;
	size_t i;
	const char *chosen = cu_web_field(r->web, "field");

	if (!(c = cu_web_call(r, "GET", "/v1/me/requests", NULL, NULL, &ret))) {
		json_decref(errors);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_decref(errors);
		return api_failed(r, c);
	}
	fields = policy_fields(r, &ret, &waiting);
	if (waiting) {
		json_decref(errors);
		return ret;
	}
	json_array_foreach(fields, i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));

		json_object_set_new(f, "selected", json_boolean(chosen && !strcmp(chosen, name)));
	}
	list = dressed_list(r, json_object_get(c->json, "requests"));
	model = json_pack("{s:o,s:b,s:o,s:s?,s:o}", "requests", list, "has_requests",
	                  json_array_size(list) > 0, "fields", fields, "done",
	                  done_message(r, "case_done_", known), "errors",
	                  errors ? errors : json_object());
	if (model && kind && *kind) {
		char key[KEY_MAX];

		/* The form sent comes back as it was, next to its messages. */
		snprintf(key, sizeof(key), "sent_%s", kind);
		json_object_set_new(model, key,
		                    json_pack("{s:s?,s:s?,s:s?,s:b}", "note",
		                              cu_web_field(r->web, "note"), "value",
		                              cu_web_field(r->web, "value"), "reason",
		                              cu_web_field(r->web, "reason"), "confirm",
		                              cu_web_field(r->web, "confirm") != NULL));
		json_object_set_new(model, "has_errors", json_true());
	}
	return cu_web_render(r, status, "case_requests", model);
}

static enum MHD_Result p_requests(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);

	if (!pg)
		return ret;
	return requests_page(r, MHD_HTTP_OK, NULL, NULL);
}

/* The API's field errors for the form of kind: a policy field's error is the value's. */
static json_t *request_errors(cu_request *r, const cu_http_capture *c)
{
	json_t *errs = cu_web_field_errors(r, c), *out = json_object(), *v;
	const char *name;

	json_object_foreach(errs, name, v)
	{
		const char *to = !strcmp(name, "reason") || !strcmp(name, "note") ? name
		                 : !strcmp(name, "changes")                       ? "field"
		                                                                  : "value";

		json_object_set(out, to, v);
	}
	json_decref(errs);
	if (!json_object_size(out))
		json_object_set_new(out, "form", json_string(cu_web_text(r, "err_form")));
	return out;
}

static enum MHD_Result p_requests_file(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	const char *kind, *note, *field, *value, *reason;
	json_t *details = NULL;

	if (!pg)
		return ret;
	kind = cu_web_field(pg, "kind");
	note = cu_web_field(pg, "note");
	field = cu_web_field(pg, "field");
	value = cu_web_field(pg, "value");
	reason = cu_web_field(pg, "reason");
	if (!kind ||
	    (strcmp(kind, "disclosure") && strcmp(kind, "amendment") && strcmp(kind, "erasure")))
		return cu_web_error(r, CU_ERR_INVALID_ARGUMENT, "error_form_malformed");
	if (!strcmp(kind, "erasure") && !cu_web_field(pg, "confirm"))
		return requests_page(
		    r, MHD_HTTP_BAD_REQUEST, kind,
		    json_pack("{s:s}", "confirm", cu_web_text(r, "case_erasure_confirm_needed")));
	if (!strcmp(kind, "amendment")) {
		if (!field || !*field)
			return requests_page(
			    r, MHD_HTTP_BAD_REQUEST, kind,
			    json_pack("{s:s}", "field", cu_web_text(r, "err_required")));
		details = json_pack("{s:{s:s},s:s}", "changes", field, value ? value : "", "reason",
		                    reason ? reason : "");
	} else if (note && *note) {
		details = json_pack("{s:s}", "note", note);
	}
	c = cu_web_call(r, "POST", "/v1/requests", NULL,
	                details ? json_pack("{s:s,s:o}", "type", kind, "details", details)
	                        : json_pack("{s:s}", "type", kind),
	                &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_CREATED) {
		json_t *row = json_object_get(c->json, "request");
		const char *id = json_string_value(json_object_get(row, "id"));
		const char *token =
		    json_string_value(json_object_get(c->json, "certificate_token"));
		char where[CU_WEB_LOCATION_MAX];

		/* The certificate token is shown once, here: it never goes in a URL. */
		if (token) {
			json_t *shown = json_deep_copy(row);

			dress_case(r, shown);
			return cu_web_render(
			    r, MHD_HTTP_CREATED, "case_erasure_filed",
			    json_pack("{s:o,s:s}", "request", shown, "token", token));
		}
		snprintf(where, sizeof(where), "/me/requests/%s?done=filed", id ? id : "");
		return cu_web_redirect(r, id ? where : "/me/requests?done=filed");
	}
	if (c->status == MHD_HTTP_BAD_REQUEST || c->status == MHD_HTTP_UNPROCESSABLE_CONTENT ||
	    c->status == MHD_HTTP_CONFLICT)
		return requests_page(r, c->status, kind, request_errors(r, c));
	return api_failed(r, c);
}

static enum MHD_Result p_request(cu_request *r)
{
	static const char *const known[] = {"filed", NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	char path[API_PATH_MAX];
	json_t *view, *h, *changes, *v, *list, *fields;
	const char *key;
	bool waiting;
	size_t i;

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "case_not_found");
	snprintf(path, sizeof(path), "/v1/requests/%s", pg->params[0]);
	if (!(c = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return api_failed(r, c);
	/* An amendment's items by the policy's labels. */
	fields = policy_fields(r, &ret, &waiting);
	if (waiting)
		return ret;
	view = json_deep_copy(c->json);
	dress_case(r, view);
	json_array_foreach(json_object_get(view, "history"), i, h)
	{
		dress_case(r, h);
		add_word(r, h, "role_label", "case_role_", "role");
	}
	/* An amendment's changes as a list of (field, value): a value may be null (deleted). */
	changes = json_object_get(json_object_get(view, "details"), "changes");
	list = json_array();
	json_object_foreach(changes, key, v)
	{
		const char *label = key;
		json_t *f;
		size_t k;

		json_array_foreach(fields, k, f)
		{
			if (!strcmp(key, json_string_value(json_object_get(f, "name"))))
				label = json_string_value(json_object_get(f, "label"));
		}
		json_array_append_new(list, json_pack("{s:s,s:O}", "field", label, "value", v));
	}
	json_decref(fields);
	json_object_set_new(view, "has_changes", json_boolean(json_array_size(list) > 0));
	json_object_set_new(view, "changes", list);
	json_object_set_new(view, "has_certificate",
	                    json_boolean(json_object_get(view, "certificate") != NULL));
	json_object_del(view, "certificate");
	json_object_set_new(view, "decided_yes",
	                    json_boolean(json_object_get(view, "decided") != NULL));
	return cu_web_render(
	    r, MHD_HTTP_OK, "case_request",
	    json_pack("{s:o,s:s?}", "request", view, "done", done_message(r, "case_done_", known)));
}

/* ---- complaints ---------------------------------------------------------------------- */

static enum MHD_Result complaints_page(cu_request *r, int status, json_t *errors)
{
	const cu_http_capture *c;
	enum MHD_Result ret;
	const char *about = cu_web_field(r->web, "about");
	json_t *abouts = json_array(), *list;
	static const char *const kinds[] = {"use",       "provision", "disclosure",
	                                    "amendment", "other",     NULL};

	if (!(c = cu_web_call(r, "GET", "/v1/me/complaints", NULL, NULL, &ret))) {
		json_decref(errors);
		json_decref(abouts);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_decref(errors);
		json_decref(abouts);
		return api_failed(r, c);
	}
	for (const char *const *k = kinds; *k; k++)
		json_array_append_new(abouts, json_pack("{s:s,s:s,s:b}", "id", *k, "label",
		                                        word(r, "cpl_about_", *k), "selected",
		                                        about && !strcmp(about, *k)));
	list = dressed_list(r, json_object_get(c->json, "complaints"));
	return cu_web_render(r, status, "cpl_complaints",
	                     json_pack("{s:o,s:b,s:o,s:o,s:s?}", "complaints", list,
	                               "has_complaints", json_array_size(list) > 0, "abouts",
	                               abouts, "errors", errors ? errors : json_object(), "text",
	                               cu_web_field(r->web, "text")));
}

static enum MHD_Result p_complaints(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);

	if (!pg)
		return ret;
	return complaints_page(r, MHD_HTTP_OK, NULL);
}

static enum MHD_Result p_complaints_file(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	const char *about, *text;

	if (!pg)
		return ret;
	about = cu_web_field(pg, "about");
	text = cu_web_field(pg, "text");
	c = cu_web_call(
	    r, "POST", "/v1/complaints", NULL,
	    json_pack("{s:s,s:s}", "about", about ? about : "", "text", text ? text : ""), &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_CREATED) {
		const char *id =
		    json_string_value(json_object_get(json_object_get(c->json, "complaint"), "id"));
		char where[CU_WEB_LOCATION_MAX];

		snprintf(where, sizeof(where), "/me/complaints/%s?done=filed", id ? id : "");
		return cu_web_redirect(r, id ? where : "/me/complaints");
	}
	if (c->status == MHD_HTTP_BAD_REQUEST || c->status == MHD_HTTP_UNPROCESSABLE_CONTENT) {
		json_t *errs = cu_web_field_errors(r, c);

		if (!json_object_size(errs))
			json_object_set_new(errs, "form", json_string(cu_web_text(r, "err_form")));
		return complaints_page(r, c->status, errs);
	}
	return api_failed(r, c);
}

static enum MHD_Result p_complaint(cu_request *r)
{
	static const char *const known[] = {"filed", NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	char path[API_PATH_MAX];
	json_t *view, *x;
	size_t i;

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "case_not_found");
	snprintf(path, sizeof(path), "/v1/complaints/%s", pg->params[0]);
	if (!(c = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return api_failed(r, c);
	view = json_deep_copy(c->json);
	dress_case(r, view);
	add_day(view, "closed");
	json_array_foreach(json_object_get(view, "responses"), i, x)
	{
		add_day(x, "time");
	}
	return cu_web_render(r, MHD_HTTP_OK, "cpl_complaint",
	                     json_pack("{s:o,s:s?}", "complaint", view, "done",
	                               done_message(r, "cpl_done_", known)));
}

/* ---- diary --------------------------------------------------------------------------- */

static enum MHD_Result diary_page(cu_request *r, int status, json_t *errors)
{
	static const char *const known[] = {"added", "saved", "deleted", NULL};
	const cu_http_capture *c;
	enum MHD_Result ret;
	json_t *entries, *e;
	size_t i;

	if (!(c = cu_web_call(r, "GET", "/v1/me/diaries", NULL, NULL, &ret))) {
		json_decref(errors);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_decref(errors);
		return api_failed(r, c);
	}
	entries = json_deep_copy(json_object_get(c->json, "entries"));
	json_array_foreach(entries, i, e)
	{
		add_day(e, "created");
		add_day(e, "updated");
	}
	return cu_web_render(
	    r, status, "diary_list",
	    json_pack("{s:o,s:o,s:s?,s:s?,s:s?}", "entries", entries ? entries : json_array(),
	              "errors", errors ? errors : json_object(), "title",
	              cu_web_field(r->web, "title"), "body", cu_web_field(r->web, "body"), "done",
	              done_message(r, "diary_done_", known)));
}

static enum MHD_Result p_diary(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);

	if (!pg)
		return ret;
	return diary_page(r, MHD_HTTP_OK, NULL);
}

static json_t *diary_errors(cu_request *r, const cu_http_capture *c)
{
	json_t *errs = cu_web_field_errors(r, c);

	if (!json_object_size(errs))
		json_object_set_new(errs, "form", json_string(cu_web_text(r, "err_form")));
	return errs;
}

static enum MHD_Result p_diary_add(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	const char *title, *body;

	if (!pg)
		return ret;
	title = cu_web_field(pg, "title");
	body = cu_web_field(pg, "body");
	c = cu_web_call(
	    r, "POST", "/v1/me/diaries", NULL,
	    json_pack("{s:s,s:s}", "title", title ? title : "", "body", body ? body : ""), &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_CREATED)
		return cu_web_redirect(r, "/me/diary?done=added");
	if (c->status == MHD_HTTP_BAD_REQUEST || c->status == MHD_HTTP_UNPROCESSABLE_CONTENT ||
	    c->status == MHD_HTTP_CONTENT_TOO_LARGE)
		return diary_page(r, c->status, diary_errors(r, c));
	return api_failed(r, c);
}

/* The entry of the page's id from the list (one call), a new reference, or NULL. */
static json_t *diary_entry(cu_request *r, const cu_http_capture *c)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(c->json, "entries"), i, e)
	{
		const char *id = json_string_value(json_object_get(e, "id"));

		if (id && !strcmp(id, r->web->params[0]))
			return json_deep_copy(e);
	}
	return NULL;
}

/* GET /me/diary/{id}/edit, or the form again (status, errors) after a refused edit. */
static enum MHD_Result diary_edit_page(cu_request *r, int status, json_t *errors)
{
	const cu_http_capture *c;
	enum MHD_Result ret;
	json_t *e;
	const char *title = cu_web_field(r->web, "title"), *body = cu_web_field(r->web, "body");

	if (!(c = cu_web_call(r, "GET", "/v1/me/diaries", NULL, NULL, &ret))) {
		json_decref(errors);
		return ret;
	}
	if (c->status != MHD_HTTP_OK || !(e = diary_entry(r, c))) {
		json_decref(errors);
		return c->status == MHD_HTTP_OK
		           ? cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found")
		           : api_failed(r, c);
	}
	/* What was sent is kept over what is stored. */
	if (title)
		json_object_set_new(e, "title", json_string(title));
	if (body)
		json_object_set_new(e, "body", json_string(body));
	return cu_web_render(
	    r, status, "diary_edit",
	    json_pack("{s:o,s:o}", "entry", e, "errors", errors ? errors : json_object()));
}

static enum MHD_Result p_diary_edit(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
	return diary_edit_page(r, MHD_HTTP_OK, NULL);
}

static enum MHD_Result p_diary_save(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	const char *title, *body;
	char path[API_PATH_MAX];

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
	title = cu_web_field(pg, "title");
	body = cu_web_field(pg, "body");
	snprintf(path, sizeof(path), "/v1/me/diaries/%s", pg->params[0]);
	c = cu_web_call(
	    r, "PATCH", path, NULL,
	    json_pack("{s:s,s:s}", "title", title ? title : "", "body", body ? body : ""), &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_OK)
		return cu_web_redirect(r, "/me/diary?done=saved");
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
	if (c->status == MHD_HTTP_BAD_REQUEST || c->status == MHD_HTTP_UNPROCESSABLE_CONTENT ||
	    c->status == MHD_HTTP_CONTENT_TOO_LARGE)
		return diary_edit_page(r, c->status, diary_errors(r, c));
	return api_failed(r, c);
}

/*
 * POST /me/diary/{id}/delete.  Deleting needs confirmed=yes: the list's
 * form asks in the browser (data-confirm; site.js then sets confirmed),
 * and without script the form lands here unconfirmed and gets the
 * confirmation page, whose button sends confirmed=yes.
 */
static enum MHD_Result p_diary_delete(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	const char *confirmed;
	char path[API_PATH_MAX];

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
	confirmed = cu_web_field(pg, "confirmed");
	if (!confirmed || strcmp(confirmed, "yes")) {
		json_t *e;

		if (!(c = cu_web_call(r, "GET", "/v1/me/diaries", NULL, NULL, &ret)))
			return ret;
		if (c->status != MHD_HTTP_OK)
			return api_failed(r, c);
		if (!(e = diary_entry(r, c)))
			return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
		return cu_web_render(r, MHD_HTTP_OK, "diary_delete",
		                     json_pack("{s:o}", "entry", e));
	}
	snprintf(path, sizeof(path), "/v1/me/diaries/%s", pg->params[0]);
	if (!(c = cu_web_call(r, "DELETE", path, NULL, NULL, &ret)))
		return ret;
	if (c->status == MHD_HTTP_NO_CONTENT || c->status == MHD_HTTP_OK)
		return cu_web_redirect(r, "/me/diary?done=deleted");
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "diary_not_found");
	return api_failed(r, c);
}

/* ---- notices ------------------------------------------------------------------------- */

static enum MHD_Result p_notices(cu_request *r)
{
	static const char *const known[] = {"read", NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	json_t *unread, *read, *n;
	size_t i;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "GET", "/v1/me/notices", NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return api_failed(r, c);
	/* Unread first, each list as the API orders it (newest first). */
	unread = json_array();
	read = json_array();
	json_array_foreach(json_object_get(c->json, "notices"), i, n)
	{
		json_t *x = json_deep_copy(n);

		add_day(x, "created");
		add_day(x, "read");
		add_word(r, x, "kind_label", "notice_kind_", "kind");
		json_array_append_new(json_is_string(json_object_get(n, "read")) ? read : unread,
		                      x);
	}
	return cu_web_render(r, MHD_HTTP_OK, "notice_list",
	                     json_pack("{s:o,s:o,s:s?}", "unread", unread, "read", read, "done",
	                               done_message(r, "notice_done_", known)));
}

static enum MHD_Result p_notice_read(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;
	char path[API_PATH_MAX];

	if (!pg)
		return ret;
	if (!id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "notice_not_found");
	snprintf(path, sizeof(path), "/v1/me/notices/%s/read", pg->params[0]);
	if (!(c = cu_web_call(r, "POST", path, NULL, NULL, &ret)))
		return ret;
	if (c->status == MHD_HTTP_OK || c->status == MHD_HTTP_NO_CONTENT)
		return cu_web_redirect(r, "/me/notices?done=read");
	if (c->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "notice_not_found");
	return api_failed(r, c);
}

/* ---- the access log ------------------------------------------------------------------ */

/*
 * Whether an entry's decision let the data through: "allow", "partial"
 * (some fields withheld) and "done" (a write or a lookup that was made);
 * anything else is a refusal and its reason.
 */
static bool decision_allowed(const char *d)
{
	return d && (!strcmp(d, "allow") || !strcmp(d, "partial") || !strcmp(d, "done"));
}

/*
 * An entry's fields ("name,phone,email") in words: each by its label in the
 * policy ("Name, Telephone number, E-mail address"), a field the policy no
 * longer has by its name.  null for none.
 */
static json_t *field_words(json_t *labels, const char *fields)
{
	char out[CU_WEB_FIELDS_MAX * 8], name[KEY_MAX];
	size_t o = 0;

	if (!fields || !*fields)
		return json_null();
	out[0] = '\0';
	while (*fields) {
		size_t n = strcspn(fields, ",");
		const char *label;
		int w;

		snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1),
		         fields);
		label = json_string_value(json_object_get(labels, name));
		w = snprintf(out + o, sizeof(out) - o, "%s%s", o ? ", " : "", label ? label : name);
		if (w < 0 || (size_t)w >= sizeof(out) - o)
			break;
		o += (size_t)w;
		fields += n;
		if (*fields == ',')
			fields++;
	}
	return json_string(out);
}

static enum MHD_Result p_access_log(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *log, *pol, *doc;
	json_t *entries, *e, *p, *purposes = json_object(), *labels;
	const char *in_force;
	char path[API_PATH_MAX];
	size_t i;

	if (!pg) {
		json_decref(purposes);
		return ret;
	}
	if (!(log = cu_web_call(r, "GET", "/v1/me/access-log", NULL, NULL, &ret)) ||
	    !(pol = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret))) {
		json_decref(purposes);
		return ret;
	}
	/* The policy in force as published: its fields' labels, the items' plain names. */
	in_force = json_string_value(json_object_get(pol->json, "version"));
	snprintf(path, sizeof(path), "/v1/policy/versions/%s",
	         in_force && strlen(in_force) < sizeof(path) - sizeof("/v1/policy/versions/")
	             ? in_force
	             : "-");
	if (!(doc = cu_web_call(r, "GET", path, NULL, NULL, &ret))) {
		json_decref(purposes);
		return ret;
	}
	if (log->status != MHD_HTTP_OK) {
		json_decref(purposes);
		return api_failed(r, log);
	}
	labels = json_object();
	json_array_foreach(json_object_get(doc->json, "fields"), i, p)
	{
		const char *name = json_string_value(json_object_get(p, "name"));

		if (name && json_is_string(json_object_get(p, "label")))
			json_object_set(labels, name, json_object_get(p, "label"));
	}
	/* The policy's words for its purposes: a purpose it no longer has shows its id. */
	json_array_foreach(json_object_get(pol->json, "purposes"), i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		json_t *text = json_object_get(p, "text");

		if (id && json_is_string(text))
			json_object_set(purposes, id, text);
	}
	entries = json_array();
	json_array_foreach(json_object_get(log->json, "entries"), i, e)
	{
		const char *actor = json_string_value(json_object_get(e, "actor"));
		const char *role = json_string_value(json_object_get(e, "role"));
		const char *purpose = json_string_value(json_object_get(e, "purpose"));
		const char *fields = json_string_value(json_object_get(e, "fields"));
		const char *decision = json_string_value(json_object_get(e, "decision"));
		const char *cs = json_string_value(json_object_get(e, "case"));
		json_t *x, *ptext = purpose ? json_object_get(purposes, purpose) : NULL;
		bool allowed = decision_allowed(decision);

		/*
		 * Who: the role, in words — never a staff member's name (a token's
		 * name may be one) nor another member's id; "self" and "another
		 * member" are the API's own labels.
		 */
		x = json_pack(
		    "{s:s?,s:s?,s:s?,s:s?,s:s?,s:s?,s:b,s:s?,s:s?,s:s?}", "time",
		    json_string_value(json_object_get(e, "time")), "who",
		    actor && !strcmp(actor, "self") ? cu_web_text(r, "alog_who_self")
		    : actor && !strcmp(actor, "another member")
		        ? cu_web_text(r, "alog_who_another_member")
		        : word(r, "alog_role_", role),
		    "action",
		    word(r, "alog_action_", json_string_value(json_object_get(e, "action"))),
		    "purpose", purpose && *purpose ? purpose : NULL, "purpose_text",
		    json_string_value(ptext), "fields", NULL, "allowed", allowed, "decision",
		    allowed ? word(r, "alog_decision_", decision) : cu_web_text(r, "alog_denied"),
		    "reason", allowed ? NULL : decision, "case", cs && *cs ? cs : NULL);
		if (x) {
			json_object_set_new(x, "fields", field_words(labels, fields));
			add_minute(x, "time");
			json_array_append_new(entries, x);
		}
	}
	json_decref(purposes);
	json_decref(labels);
	return cu_web_render(r, MHD_HTTP_OK, "alog_list",
	                     json_pack("{s:b,s:o}", "has_entries", json_array_size(entries) > 0,
	                               "entries", entries));
}

const cu_route cu_pages_casework[] = {
    {"GET", "/me/requests", "/me/requests", p_requests, 0, true, true, true},
    {"POST", "/me/requests", "/me/requests", p_requests_file, 0, true, true, true},
    {"GET", "/me/requests/{}", "/me/requests/{id}", p_request, 0, true, true, true},
    {"GET", "/me/complaints", "/me/complaints", p_complaints, 0, true, true, true},
    {"POST", "/me/complaints", "/me/complaints", p_complaints_file, 0, true, true, true},
    {"GET", "/me/complaints/{}", "/me/complaints/{id}", p_complaint, 0, true, true, true},
    {"GET", "/me/diary", "/me/diary", p_diary, 0, true, true, true},
    {"POST", "/me/diary", "/me/diary", p_diary_add, 0, true, true, true},
    {"GET", "/me/diary/{}/edit", "/me/diary/{id}/edit", p_diary_edit, 0, true, true, true},
    {"POST", "/me/diary/{}/edit", "/me/diary/{id}/edit", p_diary_save, 0, true, true, true},
    {"POST", "/me/diary/{}/delete", "/me/diary/{id}/delete", p_diary_delete, 0, true, true, true},
    {"GET", "/me/notices", "/me/notices", p_notices, 0, true, true, true},
    {"POST", "/me/notices/{}/read", "/me/notices/{id}/read", p_notice_read, 0, true, true, true},
    {"GET", "/me/access-log", "/me/access-log", p_access_log, 0, true, true, true},
};

const size_t cu_pages_casework_count = sizeof(cu_pages_casework) / sizeof(cu_pages_casework[0]);
