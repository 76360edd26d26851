/*
 * server/web/pages_officer_registry.c — the privacy officer's registries in
 * the console: subcontractors and their supervision reviews (the overdue
 * ones first), third parties and provisions to them, and the policy's
 * versions with publishing a new one.  Rules in pages_officer.h.
 */
#include "web/pages_officer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared ----------------------------------------------------------------------- */

/*
 * The policy in force as published (its fields, purposes and exceptions,
 * for the forms' choices): two calls, GET /v1/policy/versions for the
 * version in force and GET /v1/policy/versions/{version} for its document.
 * The document's reply, or NULL with *ret to return.
 */
static const cu_http_capture *policy_doc(cu_request *r, enum MHD_Result *ret)
{
	const cu_http_capture *v, *d;
	const char *in_force;
	char path[CU_OFF_PATH_MAX];

	if (!(v = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, ret)))
		return NULL;
	in_force = json_string_value(json_object_get(v->json, "in_force"));
	if (v->status != MHD_HTTP_OK || !cu_off_id_ok(in_force)) {
		*ret = cu_off_refused(r, v);
		return NULL;
	}
	snprintf(path, sizeof(path), "/v1/policy/versions/%s", in_force);
	if (!(d = cu_web_call(r, "GET", path, NULL, NULL, ret)))
		return NULL;
	if (d->status != MHD_HTTP_OK || !json_is_object(d->json)) {
		*ret = cu_off_refused(r, d);
		return NULL;
	}
	return d;
}

/* The strings at key of each object of list (e.g. the policy's field names): a new array. */
static json_t *pluck(const json_t *list, const char *key)
{
	json_t *out = json_array(), *o;
	size_t i;

	json_array_foreach(list, i, o)
	{
		json_t *v = json_object_get(o, key);

		if (json_is_string(v))
			json_array_append(out, v);
	}
	return out;
}

/* A form's text field, or "" (a form shown again keeps what was typed). */
static const char *kept(const cu_web_page *pg, const char *name)
{
	const char *v = pg->form ? cu_web_field(pg, name) : NULL;

	return v ? v : "";
}

/* Sets body[name] to the form's field when it is not empty. */
static void put_text(json_t *body, const cu_web_page *pg, const char *name)
{
	const char *v = cu_web_field(pg, name);

	if (body && v && *v)
		json_object_set_new(body, name, json_string(v));
}

/* One line of text per element: a textarea's lines, without blanks (and without \r). */
static json_t *lines_of(const char *text)
{
	json_t *out = json_array();

	while (text && *text) {
		size_t n = strcspn(text, "\n");
		size_t m = n;

		while (m && (text[m - 1] == '\r' || text[m - 1] == ' '))
			m--;
		if (m)
			json_array_append_new(out, json_stringn(text, m));
		text += n + (text[n] == '\n');
	}
	return out;
}

/* Adds model.alert (the failed call's message) and model.done (?done=). */
static void finish_model(cu_request *r, json_t *model, const cu_http_capture *failed)
{
	if (!model)
		return;
	if (failed)
		json_object_set_new(model, "alert", json_string(cu_off_message(r, failed)));
	cu_off_done(r, model);
}

/* 303 to prefix + id + "?done=" + done. */
static enum MHD_Result back_to(cu_request *r, const char *prefix, const char *id, const char *done)
{
	char loc[CU_OFF_PATH_MAX];

	snprintf(loc, sizeof(loc), "%s%s?done=%s", prefix, id, done);
	return cu_web_redirect(r, loc);
}

/* A created item's id in a reply ({key: {"id": ...}}), when it may stand in a path. */
static const char *created_id(const cu_http_capture *c, const char *key)
{
	const char *id = json_string_value(json_object_get(json_object_get(c->json, key), "id"));

	return cu_off_id_ok(id) ? id : NULL;
}

/* ---- /console/subcontractors ---------------------------------------------------- */

/* Whether review id is among the overdue reviews (GET .../reviews/overdue's reply). */
static bool is_overdue(const cu_http_capture *overdue, const char *key, const char *id)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(overdue->json, "reviews"), i, o)
	{
		const char *v = json_string_value(json_object_get(o, key));

		if (id && v && !strcmp(v, id))
			return true;
	}
	return false;
}

/*
 * The list with the overdue reviews and the form to register one; failed
 * the reply of a registration that failed (the form kept), or NULL.
 */
static enum MHD_Result subcontractors_page(cu_request *r, const cu_http_capture *failed)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	const cu_http_capture *list, *overdue, *doc;
	json_t *subs, *o, *form, *model;
	json_t *fields = failed ? cu_off_form_list(pg, "fields") : json_array();
	json_t *purposes = failed ? cu_off_form_list(pg, "purposes") : json_array();
	size_t i;

	if (!(list = cu_web_call(r, "GET", "/v1/subcontractors", NULL, NULL, &ret)) ||
	    !(overdue =
	          cu_web_call(r, "GET", "/v1/subcontractors/reviews/overdue", NULL, NULL, &ret)) ||
	    !(doc = policy_doc(r, &ret))) {
		json_decref(fields);
		json_decref(purposes);
		return ret;
	}
	if (list->status != MHD_HTTP_OK || overdue->status != MHD_HTTP_OK) {
		json_decref(fields);
		json_decref(purposes);
		return cu_off_refused(r, list->status != MHD_HTTP_OK ? list : overdue);
	}
	subs = json_deep_copy(json_object_get(list->json, "subcontractors"));
	json_array_foreach(subs, i, o)
	{
		const char *id = json_string_value(json_object_get(o, "id"));

		json_object_set_new(o, "overdue",
		                    json_boolean(is_overdue(overdue, "subcontractor", id)));
	}
	{
		json_t *fn = pluck(json_object_get(doc->json, "fields"), "name");
		json_t *pn = pluck(json_object_get(doc->json, "purposes"), "id");

		form = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:o,s:o,s:o}", "id", kept(pg, "id"),
		                 "name", kept(pg, "name"), "contact", kept(pg, "contact"),
		                 "measures", kept(pg, "measures"), "start", kept(pg, "start"),
		                 "end", kept(pg, "end"), "fields", cu_off_checks(fn, fields),
		                 "purposes", cu_off_checks(pn, purposes), "errors",
		                 failed ? cu_off_errors(r, failed) : json_object());
		json_decref(fn);
		json_decref(pn);
	}
	json_decref(fields);
	json_decref(purposes);
	model = json_pack("{s:s,s:o,s:O,s:o}", "title", cu_web_text(r, "off_subs_title"),
	                  "subcontractors", subs ? subs : json_array(), "overdue",
	                  json_object_get(overdue->json, "reviews"), "form", form);
	finish_model(r, model, failed);
	return cu_web_render(r, failed ? failed->status : MHD_HTTP_OK, "off_subcontractors", model);
}

enum MHD_Result cu_off_subcontractors(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	return subcontractors_page(r, NULL);
}

enum MHD_Result cu_off_subcontractor_add(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *c;
	const char *id;
	json_t *body;

	if (!pg)
		return ret;
	body = json_pack("{s:o,s:o,s:o}", "fields", cu_off_form_list(pg, "fields"), "purposes",
	                 cu_off_form_list(pg, "purposes"), "measures",
	                 lines_of(cu_web_field(pg, "measures")));
	put_text(body, pg, "id");
	put_text(body, pg, "name");
	put_text(body, pg, "contact");
	put_text(body, pg, "start");
	put_text(body, pg, "end");
	if (!(c = cu_web_call(r, "POST", "/v1/subcontractors", NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(c))
		return cu_off_refused(r, c);
	if (c->status == MHD_HTTP_CREATED && (id = created_id(c, "subcontractor")))
		return back_to(r, "/console/subcontractors/", id, "added");
	return subcontractors_page(r, c);
}

/*
 * One subcontractor and its reviews; posted "add" or the id of the review
 * whose form failed (failed its reply), or NULL.
 */
static enum MHD_Result subcontractor_page(cu_request *r, const char *posted,
                                          const cu_http_capture *failed)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *got, *overdue;
	json_t *reviews, *rv, *add, *model;
	bool mine_add = posted && !strcmp(posted, "add");
	size_t i;

	snprintf(path, sizeof(path), "/v1/subcontractors/%s", pg->params[0]);
	if (!(got = cu_web_call(r, "GET", path, NULL, NULL, &ret)) ||
	    !(overdue =
	          cu_web_call(r, "GET", "/v1/subcontractors/reviews/overdue", NULL, NULL, &ret)))
		return ret;
	if (got->status != MHD_HTTP_OK)
		return cu_off_refused(r, got);
	if (overdue->status != MHD_HTTP_OK)
		return cu_off_refused(r, overdue);
	reviews = json_deep_copy(json_object_get(got->json, "reviews"));
	json_array_foreach(reviews, i, rv)
	{
		const char *id = json_string_value(json_object_get(rv, "id"));
		bool mine = posted && id && !strcmp(posted, id);

		json_object_set_new(rv, "overdue", json_boolean(is_overdue(overdue, "id", id)));
		json_object_set_new(rv, "form",
		                    json_pack("{s:o,s:b,s:o}", "findings",
		                              mine ? json_string(kept(pg, "findings"))
		                                   : json_incref(json_object_get(rv, "findings")),
		                              "done",
		                              mine ? cu_web_field(pg, "done") != NULL
		                                   : json_is_true(json_object_get(rv, "done")),
		                              "errors",
		                              mine ? cu_off_errors(r, failed) : json_object()));
	}
	add = json_pack("{s:s,s:s,s:b,s:o}", "due", mine_add ? kept(pg, "due") : "", "findings",
	                mine_add ? kept(pg, "findings") : "", "done",
	                mine_add && cu_web_field(pg, "done") != NULL, "errors",
	                mine_add ? cu_off_errors(r, failed) : json_object());
	model = json_pack("{s:s,s:O,s:o,s:o}", "title", cu_web_text(r, "off_sub_title"),
	                  "subcontractor", json_object_get(got->json, "subcontractor"), "reviews",
	                  reviews ? reviews : json_array(), "add", add);
	finish_model(r, model, failed);
	return cu_web_render(r, failed ? failed->status : MHD_HTTP_OK, "off_subcontractor", model);
}

enum MHD_Result cu_off_subcontractor(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	if (!cu_off_id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	return subcontractor_page(r, NULL, NULL);
}

/* A review's form: POST (add) or PATCH (update, review the second id) with the form's fields. */
static enum MHD_Result review_post(cu_request *r, bool update)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *c;
	json_t *body;

	if (!cu_off_id_ok(pg->params[0]) || (update && !cu_off_id_ok(pg->params[1])))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	if (update)
		snprintf(path, sizeof(path), "/v1/subcontractors/%s/reviews/%s", pg->params[0],
		         pg->params[1]);
	else
		snprintf(path, sizeof(path), "/v1/subcontractors/%s/reviews", pg->params[0]);
	body = json_pack("{s:s,s:b}", "findings", kept(pg, "findings"), "done",
	                 cu_web_field(pg, "done") != NULL);
	if (!update)
		put_text(body, pg, "due");
	if (!(c = cu_web_call(r, update ? "PATCH" : "POST", path, NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(c) || (c->status == MHD_HTTP_NOT_FOUND && !update))
		return cu_off_refused(r, c);
	if (c->status == MHD_HTTP_OK || c->status == MHD_HTTP_CREATED)
		return back_to(r, "/console/subcontractors/", pg->params[0],
		               update ? "review_saved" : "review");
	return subcontractor_page(r, update ? pg->params[1] : "add", c);
}

enum MHD_Result cu_off_review_add(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	return pg ? review_post(r, false) : ret;
}

enum MHD_Result cu_off_review_update(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	return pg ? review_post(r, true) : ret;
}

/* ---- /console/third-parties ------------------------------------------------------ */

static enum MHD_Result third_parties_page(cu_request *r, const cu_http_capture *failed)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	const cu_http_capture *list, *doc;
	json_t *chosen = failed ? cu_off_form_list(pg, "fields") : json_array(), *fn, *model;

	if (!(list = cu_web_call(r, "GET", "/v1/third-parties", NULL, NULL, &ret)) ||
	    !(doc = policy_doc(r, &ret))) {
		json_decref(chosen);
		return ret;
	}
	if (list->status != MHD_HTTP_OK) {
		json_decref(chosen);
		return cu_off_refused(r, list);
	}
	fn = pluck(json_object_get(doc->json, "fields"), "name");
	model = json_pack("{s:s,s:O,s:{s:s,s:s,s:s,s:s,s:o,s:o}}", "title",
	                  cu_web_text(r, "off_tps_title"), "third_parties",
	                  json_object_get(list->json, "third_parties"), "form", "id",
	                  kept(pg, "id"), "name", kept(pg, "name"), "contact", kept(pg, "contact"),
	                  "purpose", kept(pg, "purpose"), "fields", cu_off_checks(fn, chosen),
	                  "errors", failed ? cu_off_errors(r, failed) : json_object());
	json_decref(fn);
	json_decref(chosen);
	finish_model(r, model, failed);
	return cu_web_render(r, failed ? failed->status : MHD_HTTP_OK, "off_third_parties", model);
}

enum MHD_Result cu_off_third_parties(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	return pg ? third_parties_page(r, NULL) : ret;
}

enum MHD_Result cu_off_third_party_add(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *c;
	const char *id;
	json_t *body;

	if (!pg)
		return ret;
	body = json_pack("{s:o}", "fields", cu_off_form_list(pg, "fields"));
	put_text(body, pg, "id");
	put_text(body, pg, "name");
	put_text(body, pg, "contact");
	put_text(body, pg, "purpose");
	if (!(c = cu_web_call(r, "POST", "/v1/third-parties", NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(c))
		return cu_off_refused(r, c);
	if (c->status == MHD_HTTP_CREATED && (id = created_id(c, "third_party")))
		return back_to(r, "/console/third-parties/", id, "added");
	return third_parties_page(r, c);
}

/* One third party with the form to record a provision to it; failed: that form's reply. */
static enum MHD_Result third_party_page(cu_request *r, const cu_http_capture *failed)
{
	enum MHD_Result ret;
	cu_web_page *pg = r->web;
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *got, *pol;
	json_t *chosen, *bases, *x, *model, *errors;
	const char *basis = failed ? cu_web_field(pg, "basis") : NULL;
	size_t i;

	snprintf(path, sizeof(path), "/v1/third-parties/%s", pg->params[0]);
	if (!(got = cu_web_call(r, "GET", path, NULL, NULL, &ret)) ||
	    !(pol = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (got->status != MHD_HTTP_OK)
		return cu_off_refused(r, got);
	if (pol->status != MHD_HTTP_OK)
		return cu_off_refused(r, pol);
	/* The bases of a provision: the member's consent, or one of the policy's legal exceptions. */
	bases = json_array();
	json_array_append_new(bases, json_pack("{s:s,s:s,s:b}", "id", "consent", "id_text",
	                                       cu_web_text(r, "off_basis_consent"), "selected",
	                                       !basis || !strcmp(basis, "consent")));
	json_array_foreach(json_object_get(pol->json, "exceptions"), i, x)
	{
		const char *id = json_string_value(json_object_get(x, "id"));
		json_t *b;

		if (!id)
			continue;
		b = json_pack("{s:s,s:b}", "id", id, "selected", basis && !strcmp(basis, id));
		cu_off_label(r, b, "id", "off_exception_");
		json_array_append_new(bases, b);
	}
	chosen = failed ? cu_off_form_list(pg, "fields") : json_array();
	errors = failed ? cu_off_errors(r, failed) : json_object();
	/* A member the API does not know (404) is the member field's error. */
	if (failed && failed->status == MHD_HTTP_NOT_FOUND && errors)
		json_object_set_new(errors, "member",
		                    json_string(cu_web_text(r, "off_err_no_member")));
	model = json_pack(
	    "{s:s,s:O,s:{s:s,s:s,s:o,s:o,s:o}}", "title", cu_web_text(r, "off_tp_title"),
	    "third_party", json_object_get(got->json, "third_party"), "form", "member",
	    kept(pg, "member"), "justification", kept(pg, "justification"), "fields",
	    cu_off_checks(json_object_get(json_object_get(got->json, "third_party"), "fields"),
	                  chosen),
	    "bases", bases, "errors", errors);
	json_decref(chosen);
	finish_model(r, model, failed);
	return cu_web_render(r, failed ? failed->status : MHD_HTTP_OK, "off_third_party", model);
}

enum MHD_Result cu_off_third_party(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	if (!cu_off_id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	return third_party_page(r, NULL);
}

/*
 * Records a provision (POST /v1/provisions).  The answer holds the fields
 * handed over, which the officer passes on: shown once, on this page (not
 * a redirect: they are not kept anywhere to show again).
 */
enum MHD_Result cu_off_provision(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *c;
	const char *basis;
	json_t *body, *values, *v, *prov;
	const char *name;

	if (!pg)
		return ret;
	if (!cu_off_id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	basis = cu_web_field(pg, "basis");
	body = json_pack("{s:s,s:s,s:o}", "third_party", pg->params[0], "member",
	                 kept(pg, "member"), "fields", cu_off_form_list(pg, "fields"));
	put_text(body, pg, "basis");
	if (basis && strcmp(basis, "consent"))
		put_text(body, pg, "justification");
	if (!(c = cu_web_call(r, "POST", "/v1/provisions", NULL, body, &ret)))
		return ret;
	if (cu_off_role_refused(c))
		return cu_off_refused(r, c);
	if (c->status != MHD_HTTP_CREATED)
		return third_party_page(r, c);
	values = json_array();
	json_object_foreach(json_object_get(c->json, "fields"), name, v)
	{
		json_array_append_new(values, json_pack("{s:s,s:O}", "name", name, "value", v));
	}
	prov = json_deep_copy(json_object_get(c->json, "provision"));
	cu_off_label(r, prov, "basis", "off_basis_");
	return cu_web_render(r, MHD_HTTP_CREATED, "off_provision",
	                     json_pack("{s:s,s:o,s:o,s:s}", "title",
	                               cu_web_text(r, "off_provision_title"), "provision",
	                               prov ? prov : json_object(), "values", values, "back",
	                               pg->params[0]));
}

/* ---- /console/policy ----------------------------------------------------------------- */

/*
 * The policy's versions are public in the API (members read them), so the
 * API does not refuse other roles here: the page keeps to the roles that
 * may publish (officer, admin).
 */
static bool may_publish(cu_request *r)
{
	return r->actor.role == CU_ROLE_OFFICER || r->actor.role == CU_ROLE_ADMIN;
}

/*
 * The versions, and the form to publish one holding document (the version
 * in force, pretty, to start from; or what was sent, when it failed with
 * error, status).
 */
static enum MHD_Result policy_page(cu_request *r, int status, const char *document,
                                   const char *error)
{
	enum MHD_Result ret;
	const cu_http_capture *v, *d = NULL;
	const char *in_force;
	char path[CU_OFF_PATH_MAX];
	char *pretty = NULL;
	json_t *list, *o, *model;
	size_t i;

	if (!(v = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, &ret)))
		return ret;
	if (v->status != MHD_HTTP_OK)
		return cu_off_refused(r, v);
	in_force = json_string_value(json_object_get(v->json, "in_force"));
	if (!document && cu_off_id_ok(in_force)) {
		snprintf(path, sizeof(path), "/v1/policy/versions/%s", in_force);
		if (!(d = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
			return ret;
		if (d->status == MHD_HTTP_OK && d->json)
			pretty = json_dumps(d->json, JSON_INDENT(2));
	}
	list = json_deep_copy(json_object_get(v->json, "versions"));
	json_array_foreach(list, i, o)
	{
		const char *ver = json_string_value(json_object_get(o, "version"));

		json_object_set_new(o, "in_force",
		                    json_boolean(ver && in_force && !strcmp(ver, in_force)));
		json_object_set_new(o, "linkable", json_boolean(cu_off_id_ok(ver)));
	}
	model = json_pack("{s:s,s:s?,s:o,s:s,s:s?}", "title", cu_web_text(r, "off_policy_title"),
	                  "in_force", in_force, "versions", list ? list : json_array(), "document",
	                  document ? document
	                  : pretty ? pretty
	                           : "",
	                  "error", error);
	free(pretty);
	finish_model(r, model, NULL);
	return cu_web_render(r, status, "off_policy", model);
}

enum MHD_Result cu_off_policy(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);

	if (!pg)
		return ret;
	if (!may_publish(r))
		return cu_web_error(r, CU_ERR_FORBIDDEN, "off_not_for_role");
	return policy_page(r, MHD_HTTP_OK, NULL, NULL);
}

enum MHD_Result cu_off_policy_publish(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *document;
	const cu_http_capture *c;
	json_error_t jerr;
	json_t *doc;
	char msg[CU_OFF_PATH_MAX + JSON_ERROR_TEXT_LENGTH];

	if (!pg)
		return ret;
	if (!may_publish(r))
		return cu_web_error(r, CU_ERR_FORBIDDEN, "off_not_for_role");
	document = kept(pg, "document");
	/* Parsed here, so a typing mistake is named by line before anything is sent. */
	doc = json_loads(document, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(doc)) {
		if (doc)
			snprintf(msg, sizeof(msg), "%s", cu_web_text(r, "off_policy_not_object"));
		else
			snprintf(msg, sizeof(msg), "%s %d: %s",
			         cu_web_text(r, "off_policy_not_json"), jerr.line, jerr.text);
		json_decref(doc);
		return policy_page(r, MHD_HTTP_BAD_REQUEST, document, msg);
	}
	if (!(c = cu_web_call(r, "POST", "/v1/policy/versions", NULL, doc, &ret)))
		return ret;
	if (cu_off_role_refused(c))
		return cu_off_refused(r, c);
	if (c->status == MHD_HTTP_CREATED)
		return cu_web_redirect(r, "/console/policy?done=published");
	return policy_page(r, c->status, document, cu_off_message(r, c));
}

enum MHD_Result cu_off_policy_version(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char path[CU_OFF_PATH_MAX];
	const cu_http_capture *v, *d;
	json_t *meta = NULL, *o;
	char *pretty;
	size_t i;

	if (!pg)
		return ret;
	if (!may_publish(r))
		return cu_web_error(r, CU_ERR_FORBIDDEN, "off_not_for_role");
	if (!cu_off_id_ok(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "off_not_found");
	snprintf(path, sizeof(path), "/v1/policy/versions/%s", pg->params[0]);
	if (!(v = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, &ret)) ||
	    !(d = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (v->status != MHD_HTTP_OK)
		return cu_off_refused(r, v);
	if (d->status != MHD_HTTP_OK || !d->json)
		return cu_off_refused(r, d);
	json_array_foreach(json_object_get(v->json, "versions"), i, o)
	{
		const char *ver = json_string_value(json_object_get(o, "version"));

		if (ver && !strcmp(ver, pg->params[0]))
			meta = o;
	}
	pretty = json_dumps(d->json, JSON_INDENT(2));
	o = json_pack(
	    "{s:s,s:s,s:O?,s:b,s:s}", "title", cu_web_text(r, "off_policy_version_title"),
	    "version", pg->params[0], "meta", meta, "in_force",
	    !strcmp(pg->params[0], json_string_value(json_object_get(v->json, "in_force"))
	                               ? json_string_value(json_object_get(v->json, "in_force"))
	                               : ""),
	    "document", pretty ? pretty : "");
	free(pretty);
	return cu_web_render(r, MHD_HTTP_OK, "off_policy_version", o);
}
