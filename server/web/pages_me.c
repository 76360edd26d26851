/*
 * server/web/pages_me.c — a member's own data in the portal: my data (view,
 * edit, survey answers, service eligibility), my consents (purposes, third
 * parties, cookie categories) with their receipts, and the export.
 *
 * Downloads (a receipt, the export) are pages too, but not HTML: they
 * answer with the API's captured reply and Content-Disposition: attachment.
 */
#include "web/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DISPOSITION_MAX (CU_HTTP_PARAM_MAX + 64) /* a Content-Disposition we compose */

/* The message key "prefix" + done for a ?done= this page knows (from list), or NULL. */
static const char *done_message(cu_request *r, const char *prefix, const char *const *list)
{
	const char *done = cu_web_param(r, "done");

	for (; done && *list; list++)
		if (!strcmp(done, *list)) {
			char key[CU_WEB_NAME_MAX];
			const char *s;

			snprintf(key, sizeof(key), "%s%s", prefix, *list);
			s = cu_web_text(r, key);
			return s == key ? NULL : s;
		}
	return NULL;
}

/* A field's value as text (strings as they are, integers in decimal), or NULL. */
static const char *value_text(const json_t *v, char buf[CU_ACCOUNT_VALUE_MAX])
{
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, CU_ACCOUNT_VALUE_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

/* ---- GET and POST /me/data ----------------------------------------------------------------- */

/* Every field of the policy with my value (or "not given"), for reading. */
static json_t *data_rows(cu_request *r, const json_t *policy, const json_t *values)
{
	json_t *rows = json_array(), *f;
	size_t i;

	json_array_foreach(json_object_get(policy, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		json_t *v = name ? json_object_get(values, name) : NULL;

		if (!name)
			continue;
		json_array_append_new(
		    rows,
		    json_pack("{s:s,s:O?,s:b,s:b}", "label", cu_account_label(r, policy, name),
		              "value", json_is_string(v) || json_is_integer(v) ? v : NULL, "given",
		              json_is_string(v) || json_is_integer(v), "survey",
		              json_is_true(json_object_get(f, "survey"))));
	}
	return rows;
}

/*
 * Service eligibility, one call per service of the policy (the API's own
 * answer, audited as the member's check): eligible or not, and the answers
 * missing.  Calls stop at the page's budget; services past it say
 * "not checked".  Returns the list, or NULL with *ret while a call waits.
 */
static json_t *eligibility(cu_request *r, const json_t *policy, int budget, enum MHD_Result *ret)
{
	json_t *list = json_array(), *s;
	size_t i;

	json_array_foreach(json_object_get(policy, "services"), i, s)
	{
		const char *id = json_string_value(json_object_get(s, "id"));
		char path[CU_WEB_LOCATION_MAX];
		const cu_http_capture *c;
		json_t *row;

		if (!id)
			continue;
		row = json_pack("{s:s,s:s}", "id", id, "name",
		                cu_account_service_name(r, policy, id));
		if ((int)i >= budget) {
			json_object_set_new(row, "unchecked", json_true());
			json_array_append_new(list, row);
			continue;
		}
		snprintf(path, sizeof(path), "/v1/services/%s/eligibility/%s", id, r->member);
		if (!(c = cu_web_call(r, "GET", path, NULL, NULL, ret))) {
			json_decref(row);
			json_decref(list);
			return NULL;
		}
		if (c->status != MHD_HTTP_OK) {
			json_object_set_new(row, "unchecked", json_true());
		} else if (json_is_true(json_object_get(c->json, "eligible"))) {
			json_object_set_new(row, "eligible", json_true());
		} else {
			json_object_set_new(
			    row, "missing",
			    cu_account_labels(r, policy, json_object_get(c->json, "missing")));
		}
		json_array_append_new(list, row);
	}
	return list;
}

/*
 * The page: my data, eligibility (when given) and the form over values
 * (mine, or the form as sent on an error) with errors next to the fields.
 */
static enum MHD_Result data_page(cu_request *r, int status, const json_t *policy,
                                 const json_t *mine, const json_t *values, const json_t *errors,
                                 json_t *elig)
{
	static const char *const dones[] = {"saved", "unchanged", NULL};
	json_t *model = cu_account_form(r, policy, values, errors);
	const char *done = done_message(r, "acc_data_done_", dones);

	if (!model) {
		json_decref(elig);
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	}
	json_object_set_new(model, "rows", data_rows(r, policy, mine));
	if (elig) {
		json_object_set_new(model, "eligibility_shown",
		                    json_boolean(json_array_size(elig)));
		json_object_set_new(model, "services_checked", elig);
	}
	if (done && status == MHD_HTTP_OK)
		json_object_set_new(model, "done", json_string(done));
	if (errors && json_object_size(errors))
		json_object_set_new(model, "alert", json_string(cu_web_text(r, "err_form")));
	json_object_set_new(model, "title", json_string(cu_web_text(r, "nav_my_data")));
	return cu_web_render(r, status, "acc_data", model);
}

static enum MHD_Result p_data(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *me, *policy;
	const json_t *mine;
	json_t *elig;

	if (!pg)
		return ret;
	if (!(me = cu_web_call(r, "GET", "/v1/me", NULL, NULL, &ret)))
		return ret;
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (me->status != MHD_HTTP_OK || policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	if (!(elig = eligibility(r, policy->json, CU_WEB_CALLS_MAX - 2, &ret)))
		return ret;
	mine = json_object_get(me->json, "fields");
	return data_page(r, MHD_HTTP_OK, policy->json, mine, mine, NULL, elig);
}

/*
 * PATCH /v1/me's body: each field of the policy the form holds whose value
 * differs from mine — a new value, or null for one emptied (the API says
 * whether it may be: a required field may not).  Empty when nothing changed.
 */
static json_t *changes(const cu_web_page *pg, const json_t *policy, const json_t *mine)
{
	json_t *body = json_object(), *f;
	size_t i;

	json_array_foreach(json_object_get(policy, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *now = name ? cu_web_field(pg, name) : NULL;
		char buf[CU_ACCOUNT_VALUE_MAX];
		const char *was;

		if (!now)
			continue; /* not in the form: not changed */
		was = value_text(json_object_get(mine, name), buf);
		if (!*now && !was)
			continue;
		if (was && !strcmp(now, was))
			continue;
		json_object_set_new(body, name, *now ? json_string(now) : json_null());
	}
	return body;
}

static enum MHD_Result p_data_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *me, *policy, *patched;
	json_t *body, *errors, *kept;
	const json_t *mine;

	if (!pg)
		return ret;
	if (!(me = cu_web_call(r, "GET", "/v1/me", NULL, NULL, &ret)))
		return ret;
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (me->status != MHD_HTTP_OK || policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	mine = json_object_get(me->json, "fields");
	body = changes(pg, policy->json, mine);
	if (!body)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (!json_object_size(body)) {
		json_decref(body);
		return cu_web_redirect(r, "/me/data?done=unchanged");
	}
	if (!(patched = cu_web_call(r, "PATCH", "/v1/me", NULL, body, &ret)))
		return ret;
	if (patched->status == MHD_HTTP_OK)
		return cu_web_redirect(r, "/me/data?done=saved#eligibility");
	/* The store failing is not the member's mistake: say so, not "check your details". */
	if (patched->status >= MHD_HTTP_INTERNAL_SERVER_ERROR)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	errors = cu_account_errors(r, patched);
	if (!json_object_size(errors)) {
		json_decref(errors);
		return cu_web_error(
		    r,
		    patched->status == MHD_HTTP_TOO_MANY_REQUESTS ? CU_ERR_RATE_LIMITED
		                                                  : CU_ERR_INVALID_ARGUMENT,
		    patched->status == MHD_HTTP_TOO_MANY_REQUESTS ? "acc_data_rate_limited"
		                                                  : "acc_data_failed");
	}
	/* The form again, as sent, each message next to its field. */
	kept = json_deep_copy(pg->form);
	json_object_del(kept, "csrf");
	ret = data_page(r, cu_result_http(CU_ERR_INVALID_FIELD), policy->json, mine, kept, errors,
	                NULL);
	cu_http_json_wipe(kept);
	json_decref(kept);
	json_decref(errors);
	return ret;
}

/* ---- GET and POST /me/consents --------------------------------------------------------------- */

/* The choice in force for kind:target among GET /v1/me/consents' choices, or NULL. */
static const json_t *choice_of(const json_t *consents, const char *kind, const char *target)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(consents, "choices"), i, o)
	{
		const char *k = json_string_value(json_object_get(o, "kind"));
		const char *t = json_string_value(json_object_get(o, "target"));

		if (k && t && !strcmp(k, kind) && !strcmp(t, target))
			return o;
	}
	return NULL;
}

/* One thing to decide: its state (granted, withdrawn, never decided) and the receipt. */
static json_t *decision(cu_request *r, const json_t *consents, const char *kind, const char *id,
                        const char *title, const char *text)
{
	const json_t *c = choice_of(consents, kind, id);
	bool granted = json_is_true(json_object_get(c, "granted"));

	return json_pack("{s:s,s:s,s:s?,s:s?,s:b,s:b,s:b,s:s,s:O?,s:O?}", "kind", kind, "target",
	                 id, "title", title, "text", text, "granted", granted, "withdrawn",
	                 c && !granted, "undecided", !c, "state",
	                 cu_web_text(r, !c        ? "acc_consent_undecided"
	                                : granted ? "acc_consent_granted"
	                                          : "acc_consent_withdrawn"),
	                 "receipt", json_object_get(c, "id"), "time", json_object_get(c, "time"));
}

static json_t *purpose_decisions(cu_request *r, const json_t *consents)
{
	json_t *list = json_array(), *p;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(consents, "choosable"), "purposes"), i,
	                   p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		const char *reason = json_string_value(json_object_get(p, "reason"));
		json_t *d;

		if (!id)
			continue;
		d = decision(r, consents, "purpose", id, id,
		             json_string_value(json_object_get(p, "text")));
		if (reason && !strcmp(reason, "added_since_accepted"))
			json_object_set_new(d, "reason",
			                    json_string(cu_web_text(r, "acc_consent_added_since")));
		else
			json_object_set_new(d, "reason",
			                    json_string(cu_web_text(r, "acc_consent_outside")));
		json_array_append_new(list, d);
	}
	return list;
}

static json_t *third_party_decisions(cu_request *r, const json_t *consents, const json_t *prov)
{
	const char *sep = cu_web_text(r, "acc_list_sep");
	json_t *list = json_array(), *tp, *f;
	size_t i, j;

	json_array_foreach(json_object_get(prov, "third_parties"), i, tp)
	{
		const char *id = json_string_value(json_object_get(tp, "id"));
		json_t *d, *fields = NULL;

		if (!id)
			continue;
		d = decision(r, consents, "third_party", id,
		             json_string_value(json_object_get(tp, "name")),
		             json_string_value(json_object_get(tp, "purpose")));
		json_array_foreach(json_object_get(tp, "fields"), j, f)
		{
			if (json_is_string(f)) {
				const char *was = json_string_value(fields);
				size_t n = (was ? strlen(was) + strlen(sep) : 0) +
				           strlen(json_string_value(f)) + 1;
				char *buf = malloc(n);

				if (!buf)
					break;
				snprintf(buf, n, "%s%s%s", was ? was : "", was ? sep : "",
				         json_string_value(f));
				json_decref(fields);
				fields = json_string(buf);
				free(buf);
			}
		}
		json_object_set_new(d, "fields", fields ? fields : json_string(""));
		/* The API's word on whether the consent is in force (it knows withdrawals best). */
		json_object_set(d, "in_force", json_object_get(tp, "consent"));
		json_array_append_new(list, d);
	}
	return list;
}

static json_t *cookie_decisions(cu_request *r, const json_t *consents)
{
	json_t *list = json_array(), *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(consents, "choosable"), "cookies"), i, c)
	{
		const char *id = json_string_value(json_object_get(c, "id"));
		char key[CU_WEB_NAME_MAX];
		json_t *d;

		if (!id)
			continue;
		snprintf(key, sizeof(key), "cookies_%s", id);
		d = decision(r, consents, "cookie", id,
		             strcmp(cu_web_text(r, key), key) ? cu_web_text(r, key) : id,
		             json_string_value(json_object_get(c, "text")));
		json_object_set(d, "required", json_object_get(c, "required"));
		/* What this browser allows now (its cookie, Sec-GPC), beside the record. */
		for (int cat = 0; cat < CU_COOKIE_CATEGORIES; cat++)
			if (!strcmp(id, cu_account_cookie_names[cat]))
				json_object_set_new(d, "browser",
				                    json_string(cu_web_text(
				                        r, r->web->choice.allowed[cat]
				                               ? "acc_consent_browser_allowed"
				                               : "acc_consent_browser_refused")));
		json_array_append_new(list, d);
	}
	return list;
}

/* Every choice in force, newest first, each with its receipt. */
static json_t *record_rows(cu_request *r, const json_t *consents)
{
	json_t *rows = json_array(), *c;
	size_t i;

	json_array_foreach(json_object_get(consents, "choices"), i, c)
	{
		bool granted = json_is_true(json_object_get(c, "granted"));
		const char *kind = json_string_value(json_object_get(c, "kind"));
		char key[CU_WEB_NAME_MAX];

		snprintf(key, sizeof(key), "acc_consent_kind_%s", kind ? kind : "");
		json_array_insert_new(
		    rows, 0,
		    json_pack(
		        "{s:O,s:s,s:O,s:s,s:O,s:O}", "id", json_object_get(c, "id"), "kind",
		        cu_web_text(r, key), "target", json_object_get(c, "target"), "state",
		        cu_web_text(r, granted ? "acc_consent_granted" : "acc_consent_withdrawn"),
		        "time", json_object_get(c, "time"), "version",
		        json_object_get(c, "policy_version")));
	}
	return rows;
}

static enum MHD_Result p_consents(cu_request *r)
{
	static const char *const dones[] = {"saved", NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *consents, *prov;
	const char *done;
	json_t *model;

	if (!pg)
		return ret;
	if (!(consents = cu_web_call(r, "GET", "/v1/me/consents", NULL, NULL, &ret)))
		return ret;
	if (!(prov = cu_web_call(r, "GET", "/v1/me/provisions", NULL, NULL, &ret)))
		return ret;
	if (consents->status != MHD_HTTP_OK || prov->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	model = json_pack(
	    "{s:o,s:o,s:o,s:o,s:O,s:s}", "purposes", purpose_decisions(r, consents->json),
	    "third_parties", third_party_decisions(r, consents->json, prov->json), "cookie_cats",
	    cookie_decisions(r, consents->json), "records", record_rows(r, consents->json),
	    "policy", json_object_get(consents->json, "policy"), "title",
	    cu_web_text(r, "nav_consents"));
	if (!model)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	done = done_message(r, "acc_consent_done_", dones);
	if (done)
		json_object_set_new(model, "done", json_string(done));
	return cu_web_render(r, MHD_HTTP_OK, "acc_consents", model);
}

static enum MHD_Result p_consents_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const char *kind, *target, *granted;
	const cu_http_capture *c;
	bool grant;

	if (!pg)
		return ret;
	kind = cu_web_field(pg, "kind");
	target = cu_web_field(pg, "target");
	granted = cu_web_field(pg, "granted");
	if (!kind || !target || !granted || (strcmp(granted, "1") && strcmp(granted, "0")))
		return cu_web_error(r, CU_ERR_INVALID_ARGUMENT, "acc_consent_failed");
	grant = !strcmp(granted, "1");
	if (!(c = cu_web_call(
	          r, "PUT", "/v1/me/consents", NULL,
	          json_pack("{s:s,s:s,s:b}", "kind", kind, "target", target, "granted", grant),
	          &ret)))
		return ret;
	/* A store that failed is not the member's mistake: "try again", not "invalid". */
	if (c->status >= MHD_HTTP_INTERNAL_SERVER_ERROR)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	if (c->status != MHD_HTTP_OK)
		return cu_web_error(
		    r, c->status == MHD_HTTP_NOT_FOUND ? CU_ERR_NOT_FOUND : CU_ERR_INVALID_FIELD,
		    "acc_consent_failed");
	/* A cookie category decided here is this browser's choice too. */
	if (!strcmp(kind, "cookie"))
		for (int cat = 0; cat < CU_COOKIE_CATEGORIES; cat++)
			if (!strcmp(target, cu_account_cookie_names[cat])) {
				bool chosen[CU_COOKIE_CATEGORIES];

				memcpy(chosen, pg->choice.chosen, sizeof(chosen));
				chosen[cat] = grant;
				pg->choice.allowed[cat] =
				    grant && !(pg->choice.gpc && cat == CU_COOKIE_ADVERTISING);
				cu_account_set_choice_cookie(r, chosen);
				/* Preferences refused: the language cookie goes. */
				if (cat == CU_COOKIE_PREFERENCES && !grant)
					cu_web_set_cookie(r, CU_COOKIE_PREFERENCES, CU_LANG_COOKIE,
					                  "", 0);
			}
	return cu_web_redirect(r, "/me/consents?done=saved");
}

/* ---- downloads ---------------------------------------------------------------------------------- */

/* Whether s may go into a file name as it is: an id's characters only. */
static bool id_chars(const char *s)
{
	return *s &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
	           strlen(s);
}

/* A call's reply as a file to save: JSON written out again, text as it came. */
static enum MHD_Result download(cu_request *r, const cu_http_capture *c, const char *filename)
{
	char disposition[DISPOSITION_MAX];
	const char *type = "application/json";
	char *text;

	if (c->json) {
		text = json_dumps(c->json, JSON_INDENT(2) | JSON_SORT_KEYS);
	} else if (c->text) {
		text = strdup(c->text);
		type = c->type ? c->type : "text/plain; charset=utf-8";
	} else {
		return cu_web_error(r, CU_ERR_INTERNAL, "error_unavailable");
	}
	if (!text)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
	cu_http_header(r, "Content-Disposition", disposition);
	return cu_http_reply_text(r, MHD_HTTP_OK, type, text);
}

static enum MHD_Result p_receipt(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	char path[CU_WEB_LOCATION_MAX], filename[CU_WEB_LOCATION_MAX];
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!id_chars(pg->params[0]))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "acc_receipt_not_found");
	snprintf(path, sizeof(path), "/v1/me/consents/%s/receipt", pg->params[0]);
	if (!(c = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "acc_receipt_not_found");
	snprintf(filename, sizeof(filename), "consent-receipt-%s.json", pg->params[0]);
	return download(r, c, filename);
}

static enum MHD_Result p_export(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);

	if (!pg)
		return ret;
	return cu_web_render(r, MHD_HTTP_OK, "acc_export",
	                     json_pack("{s:s}", "title", cu_web_text(r, "nav_export")));
}

static enum MHD_Result p_export_download(cu_request *r)
{
	static const char *const formats[] = {"json", "csv"};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	char filename[CU_WEB_LOCATION_MAX];
	const cu_http_capture *c;
	const char *format = NULL;

	if (!pg)
		return ret;
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (!strcmp(pg->params[0], formats[i]))
			format = formats[i];
	if (!format)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "error_not_found");
	if (!(c = cu_web_call(r, "GET", "/v1/me/export", json_pack("{s:s}", "format", format), NULL,
	                      &ret)))
		return ret;
	if (c->status == MHD_HTTP_FORBIDDEN)
		return cu_web_error(r, CU_ERR_DISCLOSURE_REFUSED, "acc_export_refused");
	if (c->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	snprintf(filename, sizeof(filename), "custodian-export.%s", format);
	return download(r, c, filename);
}

const cu_route cu_pages_me[] = {
    {"GET", "/me/data", "/me/data", p_data, 0, true, true, true},
    {"POST", "/me/data", "/me/data", p_data_post, 0, true, true, true},
    {"GET", "/me/consents", "/me/consents", p_consents, 0, true, true, true},
    {"POST", "/me/consents", "/me/consents", p_consents_post, 0, true, true, true},
    {"GET", "/me/consents/{}/receipt", "/me/consents/{id}/receipt", p_receipt, 0, true, true, true},
    {"GET", "/me/export", "/me/export", p_export, 0, true, true, true},
    {"GET", "/me/export/{}", "/me/export/{format}", p_export_download, 0, true, true, true},
};

const size_t cu_pages_me_count = sizeof(cu_pages_me) / sizeof(cu_pages_me[0]);
