/*
 * server/web/account.c — the member portal's shared parts (web/account.h):
 * the record's form from the policy, field errors, the cookie choice as
 * consent records.
 */
#include "web/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const cu_account_cookie_names[CU_COOKIE_CATEGORIES] = {"necessary", "preferences",
                                                                   "statistics", "advertising"};

/* ---- the policy's words in the page's language ------------------------------------------ */

static const json_t *find_by(const json_t *array, const char *key, const char *value)
{
	size_t i;
	json_t *o;

	json_array_foreach(array, i, o)
	{
		const char *v = json_string_value(json_object_get(o, key));

		if (v && !strcmp(v, value))
			return o;
	}
	return NULL;
}

/* The message prefix+id of a language other than English, else fallback (the policy's words). */
static const char *translated(cu_request *r, const char *prefix, const char *id,
                              const char *fallback)
{
	char key[CU_WEB_NAME_MAX];
	const char *s;

	if (!r->web || r->web->lang == 0)
		return fallback;
	snprintf(key, sizeof(key), "%s%s", prefix, id);
	s = cu_web_text(r, key);
	return strcmp(s, key) ? s : fallback;
}

const char *cu_account_label(cu_request *r, const json_t *policy, const char *name)
{
	const json_t *f = find_by(json_object_get(policy, "fields"), "name", name);
	const char *label = json_string_value(json_object_get(f, "label"));

	return translated(r, "acc_field_", name, label ? label : name);
}

const char *cu_account_service_name(cu_request *r, const json_t *policy, const char *id)
{
	const json_t *s = find_by(json_object_get(policy, "services"), "id", id);
	const char *name = json_string_value(json_object_get(s, "name"));

	return translated(r, "acc_service_", id, name ? name : id);
}

/* Appends s to the growing list text *out (a jansson string), sep between items. */
static void list_add(json_t **out, const char *sep, const char *s)
{
	const char *was = json_string_value(*out);
	size_t n = (was ? strlen(was) + strlen(sep) : 0) + strlen(s) + 1;
	char *buf = malloc(n);

	if (!buf)
		return;
	snprintf(buf, n, "%s%s%s", was ? was : "", was ? sep : "", s);
	json_decref(*out);
	*out = json_string(buf);
	free(buf);
}

json_t *cu_account_labels(cu_request *r, const json_t *policy, const json_t *names)
{
	const char *sep = cu_web_text(r, "acc_list_sep");
	json_t *out = NULL, *v;
	size_t i;

	json_array_foreach(names, i, v)
	{
		if (json_is_string(v))
			list_add(&out, sep, cu_account_label(r, policy, json_string_value(v)));
	}
	return out ? out : json_string("");
}

/* ---- the form ------------------------------------------------------------------------------ */

static const char *input_type(const char *kind)
{
	static const char *const types[][2] = {
	    {"email", "email"}, {"phone", "tel"}, {"date", "date"}, {"integer", "number"}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcmp(kind, types[i][0]))
			return types[i][1];
	return "text";
}

/* What the browser may fill in (WCAG 1.3.5): the well-known fields by name, else nothing. */
static const char *autocomplete(const char *name, const char *kind)
{
	static const char *const known[][2] = {{"name", "name"},
	                                       {"address", "street-address"},
	                                       {"email", "email"},
	                                       {"phone", "tel"},
	                                       {"date_of_birth", "bday"}};

	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(name, known[i][0]))
			return known[i][1];
	(void)kind;
	return "off";
}

static const char *kind_hint(const char *kind)
{
	static const char *const hints[][2] = {
	    {"date", "acc_hint_date"}, {"list", "acc_hint_list"}, {"phone", "acc_hint_phone"}};

	for (size_t i = 0; i < sizeof(hints) / sizeof(hints[0]); i++)
		if (!strcmp(kind, hints[i][0]))
			return hints[i][1];
	return NULL;
}

/* The services of policy that need field name, as one line in the page's language. */
static json_t *needed_by(cu_request *r, const json_t *policy, const char *name)
{
	const char *sep = cu_web_text(r, "acc_list_sep");
	json_t *out = NULL, *s, *f;
	size_t i, j;

	json_array_foreach(json_object_get(policy, "services"), i, s)
	{
		json_array_foreach(json_object_get(s, "requires"), j, f)
		{
			const char *id = json_string_value(json_object_get(s, "id"));

			if (id && json_is_string(f) && !strcmp(json_string_value(f), name))
				list_add(&out, sep, cu_account_service_name(r, policy, id));
		}
	}
	return out;
}

static json_t *field_model(cu_request *r, const json_t *policy, const json_t *f,
                           const json_t *values, const json_t *errors)
{
	const char *name = json_string_value(json_object_get(f, "name"));
	const char *kind = json_string_value(json_object_get(f, "kind"));
	const char *hint_key, *error;
	char describedby[2 * CU_ACCOUNT_ID_MAX + 2] = "";
	json_t *o, *v, *needs;

	if (!name || !kind)
		return NULL;
	hint_key = kind_hint(kind);
	error = json_string_value(json_object_get(errors, name));
	o = json_pack("{s:s,s:s,s:s,s:b,s:s,s:b,s:O?}", "name", name, "label",
	              cu_account_label(r, policy, name), "input", input_type(kind), "textarea",
	              !strcmp(kind, "address"), "autocomplete", autocomplete(name, kind),
	              "required", json_is_true(json_object_get(f, "required")), "maxlength",
	              json_object_get(f, "max_length"));
	if (!o)
		return NULL;
	if (!strcmp(kind, "integer")) {
		char n[CU_ACCOUNT_VALUE_MAX];

		/* As text: a bound of 0 is a bound, and a section would hide it. */
		snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(f, "min")));
		json_object_set_new(o, "min", json_string(n));
		snprintf(n, sizeof(n), "%" JSON_INTEGER_FORMAT,
		         json_integer_value(json_object_get(f, "max")));
		json_object_set_new(o, "max", json_string(n));
	}
	v = json_object_get(values, name);
	if (json_is_string(v) || json_is_integer(v))
		json_object_set(o, "value", v);
	needs = json_is_true(json_object_get(f, "survey")) ? needed_by(r, policy, name) : NULL;
	if (hint_key || needs) {
		json_t *hint = hint_key ? json_string(cu_web_text(r, hint_key)) : NULL;

		if (needs) {
			list_add(&hint, " ", cu_web_text(r, "acc_needed_for"));
			list_add(&hint, " ", json_string_value(needs));
			json_decref(needs);
		}
		json_object_set_new(o, "hint", hint);
		snprintf(describedby, sizeof(describedby), "h-%s", name);
	}
	if (error) {
		size_t n = strlen(describedby);

		json_object_set_new(o, "error", json_string(error));
		snprintf(describedby + n, sizeof(describedby) - n, "%se-%s", n ? " " : "", name);
	}
	if (describedby[0])
		json_object_set_new(o, "describedby", json_string(describedby));
	return o;
}

json_t *cu_account_form(cu_request *r, const json_t *policy, const json_t *values,
                        const json_t *errors)
{
	json_t *main_part = json_array(), *survey = json_array(), *services = json_array();
	json_t *f, *s;
	size_t i;

	if (!main_part || !survey || !services)
		goto nomem;
	json_array_foreach(json_object_get(policy, "fields"), i, f)
	{
		json_t *m = field_model(r, policy, f, values, errors);

		if (!m)
			continue;
		json_array_append_new(
		    json_is_true(json_object_get(f, "survey")) ? survey : main_part, m);
	}
	json_array_foreach(json_object_get(policy, "services"), i, s)
	{
		const char *id = json_string_value(json_object_get(s, "id"));
		json_t *req = json_object_get(s, "requires");

		if (!id)
			continue;
		json_array_append_new(services,
		                      json_pack("{s:s,s:s,s:o,s:b}", "id", id, "name",
		                                cu_account_service_name(r, policy, id), "needs",
		                                cu_account_labels(r, policy, req), "needs_nothing",
		                                json_array_size(req) == 0));
	}
	return json_pack("{s:b,s:o,s:o,s:o}", "has_survey", json_array_size(survey) > 0, "main",
	                 main_part, "survey", survey, "services", services);
nomem:
	json_decref(main_part);
	json_decref(survey);
	json_decref(services);
	return NULL;
}

/* ---- field errors ---------------------------------------------------------------------------- */

json_t *cu_account_errors(cu_request *r, const cu_http_capture *c)
{
	json_t *out = cu_web_field_errors(r, c), *v;
	json_t *fields = json_object_get(json_object_get(c->json, "error"), "fields");
	const char *name;

	json_object_foreach(fields, name, v)
	{
		char key[CU_WEB_NAME_MAX];
		const char *msg = json_string_value(json_object_get(out, name));
		const char *reason = json_string_value(v);

		/* The shared messages lack it (the key came back): this area's, if it has one. */
		if (!reason || !msg || strncmp(msg, "err_", 4))
			continue;
		snprintf(key, sizeof(key), "acc_err_%s", reason);
		if (strcmp(cu_web_text(r, key), key))
			json_object_set_new(out, name, json_string(cu_web_text(r, key)));
		else
			json_object_set_new(out, name,
			                    json_string(cu_web_text(r, "err_malformed")));
	}
	return out;
}

/* ---- the cookie choice as consent records ------------------------------------------------------ */

bool cu_account_record_cookies(cu_request *r, const bool allowed[CU_COOKIE_CATEGORIES],
                               enum MHD_Result *ret)
{
	const cu_http_capture *c, *put;
	const json_t *cookies, *choices, *o;
	size_t i;

	if (!(c = cu_web_call(r, "GET", "/v1/me/consents", NULL, NULL, ret)))
		return false;
	if (c->status != MHD_HTTP_OK)
		return true;
	cookies = json_object_get(json_object_get(c->json, "choosable"), "cookies");
	choices = json_object_get(c->json, "choices");
	for (int cat = 0; cat < CU_COOKIE_CATEGORIES; cat++) {
		const char *id = cu_account_cookie_names[cat];
		const json_t *recorded = NULL;
		bool choosable = false;

		json_array_foreach(cookies, i, o)
		{
			const char *cid = json_string_value(json_object_get(o, "id"));

			if (cid && !strcmp(cid, id) &&
			    !json_is_true(json_object_get(o, "required")))
				choosable = true;
		}
		if (!choosable)
			continue;
		json_array_foreach(choices, i, o)
		{
			const char *kind = json_string_value(json_object_get(o, "kind"));
			const char *target = json_string_value(json_object_get(o, "target"));

			if (kind && target && !strcmp(kind, "cookie") && !strcmp(target, id))
				recorded = o;
		}
		/* The same choice again is no new decision: no new record, no new receipt. */
		if (recorded && json_is_true(json_object_get(recorded, "granted")) == allowed[cat])
			continue;
		put = cu_web_call(r, "PUT", "/v1/me/consents", NULL,
		                  json_pack("{s:s,s:s,s:b}", "kind", "cookie", "target", id,
		                            "granted", allowed[cat]),
		                  ret);
		if (!put)
			return false;
	}
	return true;
}

void cu_account_set_choice_cookie(cu_request *r, const bool chosen[CU_COOKIE_CATEGORIES])
{
	char value[CU_COOKIE_CATEGORIES * 2 + 1];

	for (int c = 0; c < CU_COOKIE_CATEGORIES; c++)
		snprintf(value + 2 * c, 3, "%c%c", cu_account_cookie_names[c][0],
		         c == CU_COOKIE_NECESSARY || chosen[c] ? '1' : '0');
	cu_web_set_cookie(r, CU_COOKIE_NECESSARY, CU_CHOICE_COOKIE, value, CU_WEB_PREF_MAX_AGE);
}
