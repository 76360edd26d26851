/*
 * server/web/pages_statistics.c — the console's statistics (docs/web.md,
 * "Console: statistics"): members counted by a survey answer, the web
 * beacons' traffic over days, and the privacy budget with its ledger.
 *
 * Every figure is the API's (GET /v1/stats/members, /v1/stats/beacons,
 * /v1/stats/budget), called in-process as the console's token: which role
 * may ask, for which purpose, what is suppressed, the noise and the
 * budget, and the audit entry are all decided there.  The pages choose
 * the question, draw the answer (chart.h: a chart and the same figures as
 * a table) and show a refusal in words.
 *
 * A release of member statistics is asked with a POST: with noise it
 * spends privacy budget (not something a reload should repeat), and a
 * filter's value may be words a member typed (an occupation), which do
 * not go in a URL.  Traffic and the budget are GET pages: their
 * parameters are days and page or event names, none of them personal.
 */
#include "web/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctx/ctx.h"
#include "util/date.h"
#include "web/chart.h"

#define NOTE_MAX        128                    /* "suppressed (< 10)" in the page's language */
#define DESC_MAX        512                    /* a chart's description */
#define WHERE_VALUE_MAX 200                    /* a filter's value: longer than any survey answer */
#define WHERE_MAX       (WHERE_VALUE_MAX + 32) /* "field:value" of a filter */
#define TRAFFIC_DAYS    14                     /* the traffic page's range when none is chosen */
#define STAT_PARAM_MAX  64                     /* a page or event name, a number as typed */

/* What GET /v1/stats/members counts by (the API's words). */
static const char *const fields[] = {
    "age_band", "occupation",  "income",  "newspapers_magazines", "products", "services",
    "hobbies",  "eligibility", "consent",
};
/* The purposes a release is made for; the policy says which roles have each. */
static const char *const purposes[] = {"research", "analysis", "materials"};
static const char *const mechanisms[] = {"laplace", "gaussian", "none"};

static bool one_of(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		if (!strcmp(s, list[i]))
			return true;
	return false;
}

#define ONE_OF(s, list) one_of((s), (list), sizeof(list) / sizeof((list)[0]))

/* A count from the API: an integer, or a real (noise) rounded; false when null or absent. */
static bool count_of(const json_t *v, int64_t *out)
{
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		double d = json_real_value(v);

		*out = d >= 9.2e18    ? INT64_MAX
		       : d <= -9.2e18 ? INT64_MIN
		                      : (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
		return true;
	}
	return false;
}

/* text with its "{k}" replaced by k, into out. */
static const char *with_k(const char *text, const json_t *k, char out[NOTE_MAX])
{
	const char *at = strstr(text, "{k}");
	char num[CU_CHART_NUMBER_MAX];
	int64_t v;

	if (!at || !count_of(k, &v)) {
		snprintf(out, NOTE_MAX, "%s", text);
		return out;
	}
	snprintf(out, NOTE_MAX, "%.*s%s%s", (int)(at - text), text, cu_chart_number(v, num),
	         at + 3);
	return out;
}

/* ---- GET and POST /console/statistics -------------------------------------------------------- */

/* The purposes of a release the policy (GET /v1/policy) grants the viewer's role. */
static json_t *purposes_for(cu_request *r, const cu_http_capture *policy, const char *chosen)
{
	const char *role = cu_role_name(r->actor.role);
	json_t *out = json_array(), *p, *v;
	size_t i, j;

	json_array_foreach(json_object_get(policy->json, "purposes"), i, p)
	{
		const char *id = json_string_value(json_object_get(p, "id"));
		bool granted = false;

		json_array_foreach(json_object_get(p, "roles"), j, v) granted |=
		    json_is_string(v) && !strcmp(json_string_value(v), role);
		if (!granted || !ONE_OF(id, purposes))
			continue;
		json_array_append_new(out, json_pack("{s:s,s:O?,s:O?,s:b}", "id", id, "number",
		                                     json_object_get(p, "number"), "text",
		                                     json_object_get(p, "text"), "selected",
		                                     chosen && !strcmp(chosen, id)));
	}
	return out;
}

/* The options of a select over list, labelled by prefix + word, `chosen` selected. */
static json_t *options(cu_request *r, const char *const *list, size_t n, const char *prefix,
                       const char *chosen)
{
	json_t *out = json_array();

	for (size_t i = 0; i < n; i++)
		json_array_append_new(out,
		                      json_pack("{s:s,s:s,s:b}", "id", list[i], "label",
		                                cu_web_text_or(r, prefix, list[i], list[i]),
		                                "selected", chosen && !strcmp(chosen, list[i])));
	return out;
}

/* The form's model: its choices, what was chosen kept. */
static json_t *members_form(cu_request *r, const cu_http_capture *policy)
{
	cu_web_page *pg = r->web;
	const char *by = cu_web_field(pg, "by"), *purpose = cu_web_field(pg, "purpose");
	const char *where_field = cu_web_field(pg, "where_field"),
	           *noise = cu_web_field(pg, "noise");
	json_t *p = purposes_for(r, policy, purpose);

	return json_pack(
	    "{s:s,s:o,s:b,s:o,s:o,s:s?,s:o,s:s?,s:s?,s:b}", "title", cu_web_text(r, "stat_title"),
	    "purposes", p, "any_purpose", json_array_size(p) > 0, "fields",
	    options(r, fields, sizeof(fields) / sizeof(fields[0]), "stat_by_", by), "where_fields",
	    options(r, fields, sizeof(fields) / sizeof(fields[0]), "stat_by_", where_field),
	    "where_value", cu_web_field(pg, "where_value"), "mechanisms",
	    options(r, mechanisms, sizeof(mechanisms) / sizeof(mechanisms[0]), "stat_noise_",
	            noise),
	    "epsilon", cu_web_field(pg, "epsilon"), "delta", cu_web_field(pg, "delta"),
	    "budget_link", r->actor.role == CU_ROLE_OFFICER);
}

/* The release's model: the cells as a table and a chart, k, the noise and the budget left. */
static json_t *members_result(cu_request *r, const json_t *rel)
{
	const json_t *cells = json_object_get(rel, "cells"), *k = json_object_get(rel, "k");
	const json_t *noise = json_object_get(rel, "noise");
	const char *by = json_string_value(json_object_get(rel, "by"));
	size_t n = json_array_size(cells), suppressed = 0;
	cu_chart_bar *bars = calloc(n ? n : 1, sizeof(*bars));
	char small[NOTE_MAX], desc[DESC_MAX], title[DESC_MAX], num[CU_CHART_NUMBER_MAX];
	const char *complementary = cu_web_text(r, "stat_suppressed_complementary");
	json_t *rows = json_array(), *cell, *out, *chart;
	int64_t v, total = 0;
	size_t i;

	if (!bars || !rows) {
		free(bars);
		json_decref(rows);
		return NULL;
	}
	with_k(cu_web_text(r, "stat_suppressed_small"), k, small);
	json_array_foreach(cells, i, cell)
	{
		const char *value = json_string_value(json_object_get(cell, "value"));
		const char *reason = json_string_value(json_object_get(cell, "reason"));
		bool hidden = json_is_true(json_object_get(cell, "suppressed")) ||
		              !count_of(json_object_get(cell, "count"), &v);

		bars[i].label = value ? value : "";
		bars[i].suppressed = hidden;
		bars[i].count = hidden ? 0 : v;
		bars[i].note = reason && !strcmp(reason, "complementary") ? complementary : small;
		suppressed += hidden;
		total += hidden ? 0 : v;
		json_array_append_new(rows, json_pack("{s:s,s:b,s:s,s:s}", "value", bars[i].label,
		                                      "suppressed", hidden, "count",
		                                      hidden ? "" : cu_chart_number(v, num), "note",
		                                      hidden ? bars[i].note : ""));
	}
	snprintf(title, sizeof(title), "%s: %s", cu_web_text(r, "stat_chart_members"),
	         cu_web_text_or(r, "stat_by_", by, by ? by : ""));
	snprintf(desc, sizeof(desc), "%s %zu · %s %zu · %s %s", cu_web_text(r, "stat_desc_cells"),
	         n, cu_web_text(r, "stat_desc_suppressed"), suppressed,
	         cu_web_text(r, "stat_desc_shown_total"), cu_chart_number(total, num));
	chart = cu_chart_bars(bars, n, title, desc);
	free(bars);
	out = json_pack("{s:o,s:o*,s:s,s:O?,s:O?,s:O?,s:O?,s:b,s:b,s:b}", "rows", rows, "chart",
	                chart, "by_label", cu_web_text_or(r, "stat_by_", by, by ? by : ""), "k", k,
	                "release", json_object_get(rel, "release"), "as_of",
	                json_object_get(rel, "as_of"), "where", json_object_get(rel, "where"),
	                "any_suppressed", suppressed > 0, "more_than_drawn", n > CU_CHART_BARS_MAX,
	                "reused", json_is_true(json_object_get(rel, "reused")));
	if (out && count_of(json_object_get(rel, "members"), &v))
		json_object_set_new(out, "members", json_string(cu_chart_number(v, num)));
	if (out && json_is_object(noise)) {
		const json_t *b = json_object_get(noise, "budget");
		double spent = json_number_value(json_object_get(b, "spent"));
		double limit = json_number_value(json_object_get(b, "limit"));

		json_object_set_new(
		    out, "noise",
		    json_pack(
		        "{s:s,s:O?,s:O?,s:O?,s:O?,s:O?,s:O?,s:f}", "mechanism",
		        cu_web_text_or(r, "stat_noise_",
		                       json_string_value(json_object_get(noise, "mechanism")), ""),
		        "epsilon", json_object_get(noise, "epsilon"), "delta",
		        json_object_get(noise, "delta"), "dataset", json_object_get(b, "dataset"),
		        "period", json_object_get(b, "period"), "spent",
		        json_object_get(b, "spent"), "limit", json_object_get(b, "limit"), "left",
		        limit - spent > 0 ? limit - spent : 0.0));
	}
	return out;
}

static enum MHD_Result p_members(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *policy;

	if (!pg)
		return ret;
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	return cu_web_render(r, MHD_HTTP_OK, "stat_members", members_form(r, policy));
}

static enum MHD_Result p_members_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const char *by, *purpose, *where_field, *where_value, *noise, *epsilon, *delta, *fresh;
	const cu_http_capture *policy, *c;
	json_t *model, *query, *errors;

	if (!pg)
		return ret;
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	by = cu_web_field(pg, "by");
	purpose = cu_web_field(pg, "purpose");
	where_field = cu_web_field(pg, "where_field");
	where_value = cu_web_field(pg, "where_value");
	noise = cu_web_field(pg, "noise");
	epsilon = cu_web_field(pg, "epsilon");
	delta = cu_web_field(pg, "delta");
	fresh = cu_web_field(pg, "fresh");
	model = members_form(r, policy);
	errors = json_object();
	/* Only the API's own words are sent: a choice outside them is the form's error. */
	if (!ONE_OF(by, fields))
		json_object_set_new(errors, "by", json_string(cu_web_text(r, "stat_err_choose")));
	if (!purpose || !*purpose)
		json_object_set_new(errors, "purpose",
		                    json_string(cu_web_text(r, "stat_err_choose")));
	if (where_value && *where_value && !ONE_OF(where_field, fields))
		json_object_set_new(errors, "where_field",
		                    json_string(cu_web_text(r, "stat_err_choose")));
	/* "field:value" must fit, whole: a value cut short would ask another question. */
	if (where_value && strlen(where_value) >= WHERE_VALUE_MAX)
		json_object_set_new(errors, "where_value",
		                    json_string(cu_web_text(r, "stat_err_too_long")));
	if (noise && *noise && !ONE_OF(noise, mechanisms))
		json_object_set_new(errors, "noise",
		                    json_string(cu_web_text(r, "stat_err_choose")));
	if (noise && *noise && strcmp(noise, "none") && (!epsilon || !*epsilon))
		json_object_set_new(errors, "epsilon",
		                    json_string(cu_web_text(r, "stat_err_epsilon")));
	if (json_object_size(errors)) {
		json_object_set_new(model, "errors", errors);
		return cu_web_render(r, MHD_HTTP_BAD_REQUEST, "stat_members", model);
	}
	json_object_set_new(model, "errors", errors);
	query = json_pack("{s:s,s:s}", "by", by, "purpose", purpose);
	if (where_value && *where_value) {
		char where[WHERE_MAX];

		snprintf(where, sizeof(where), "%s:%s", where_field, where_value);
		json_object_set_new(query, "where", json_string(where));
	}
	if (noise && !strcmp(noise, "none")) {
		json_object_set_new(query, "noise", json_string(noise));
	} else if (noise && *noise) {
		json_object_set_new(query, "noise", json_string(noise));
		json_object_set_new(query, "epsilon", json_string(epsilon));
		if (delta && *delta)
			json_object_set_new(query, "delta", json_string(delta));
	}
	/* A fresh release spends ε again; otherwise this month's release of the question is reused. */
	if (fresh && !strcmp(fresh, "true"))
		json_object_set_new(query, "fresh", json_string("true"));
	/* The API decides who may ask, suppresses, adds the noise, spends the budget and audits. */
	if (!(c = cu_web_call(r, "GET", "/v1/stats/members", query, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_object_set_new(model, "refusal", cu_web_refusal(r, c, "stat_refused_"));
		return cu_web_render(r, c->status, "stat_members", model);
	}
	json_object_set_new(model, "result", members_result(r, c->json));
	return cu_web_render(r, MHD_HTTP_OK, "stat_members", model);
}

/* ---- GET /console/statistics/traffic --------------------------------------------------------- */

/* A query parameter that is a day, or fallback when absent or not one (the API checks it again). */
static const char *day_param(cu_request *r, const char *name, const char *fallback)
{
	const char *s = cu_web_param(r, name);
	int64_t us;

	return s && *s && cu_date_parse(s, &us) == CU_OK ? s : fallback;
}

static json_t *traffic_result(cu_request *r, const json_t *rel)
{
	const json_t *list = json_object_get(rel, "days"), *d;
	size_t n = json_array_size(list), suppressed = 0, i;
	cu_chart_day *days = calloc(n ? n : 1, sizeof(*days));
	const char *names[2] = {cu_web_text(r, "stat_views"), cu_web_text(r, "stat_visitors")};
	char note[NOTE_MAX], desc[DESC_MAX], num[CU_CHART_NUMBER_MAX];
	json_t *rows = json_array(), *chart;
	int64_t views = 0, visitors = 0;

	if (!days || !rows) {
		free(days);
		json_decref(rows);
		return NULL;
	}
	with_k(cu_web_text(r, "stat_suppressed_small"), json_object_get(rel, "k"), note);
	json_array_foreach(list, i, d)
	{
		const char *day = json_string_value(json_object_get(d, "day"));
		char a[CU_CHART_NUMBER_MAX] = "", b[CU_CHART_NUMBER_MAX] = "";

		bool counted = !json_is_false(json_object_get(d, "counted"));

		days[i].day = day ? day : "";
		days[i].suppressed = json_is_true(json_object_get(d, "suppressed"));
		days[i].known[0] = count_of(json_object_get(d, "views"), &days[i].value[0]);
		days[i].known[1] = count_of(json_object_get(d, "visitors"), &days[i].value[1]);
		suppressed += days[i].suppressed;
		if (!days[i].suppressed && days[i].known[0]) {
			views += days[i].value[0];
			cu_chart_number(days[i].value[0], a);
		}
		if (!days[i].suppressed && days[i].known[1]) {
			visitors += days[i].value[1];
			cu_chart_number(days[i].value[1], b);
		}
		json_array_append_new(
		    rows, json_pack("{s:s,s:s,s:s,s:b,s:s}", "day", days[i].day, "views", a,
		                    "visitors", b, "suppressed", days[i].suppressed, "note",
		                    days[i].suppressed ? note
		                    : counted          ? ""
		                                       : cu_web_text(r, "stat_not_counted")));
	}
	snprintf(desc, sizeof(desc), "%s %zu · %s %zu · %s %s", cu_web_text(r, "stat_desc_days"), n,
	         cu_web_text(r, "stat_desc_suppressed"), suppressed,
	         cu_web_text(r, "stat_desc_views_total"), cu_chart_number(views, num));
	chart =
	    cu_chart_series(days, n, 2, names, note, cu_web_text(r, "stat_chart_traffic"), desc);
	free(days);
	return json_pack("{s:o,s:o*,s:O?,s:O?,s:b,s:b,s:s}", "rows", rows, "chart", chart, "k",
	                 json_object_get(rel, "k"), "release", json_object_get(rel, "release"),
	                 "any_suppressed", suppressed > 0, "more_than_drawn", n > CU_CHART_DAYS_MAX,
	                 "visitors_total", cu_chart_number(visitors, num));
}

static enum MHD_Result p_traffic(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	char last[CU_DATE_LEN + 1], first[CU_DATE_LEN + 1];
	const char *from, *to, *page, *event;
	const cu_http_capture *c;
	json_t *model, *query;
	int64_t now = cu_now_us();

	if (!pg)
		return ret;
	/* Days are released once rolled up, after they end: by default the last TRAFFIC_DAYS before today. */
	cu_date_format(now - CU_DAY_US, last);
	cu_date_format(now - TRAFFIC_DAYS * CU_DAY_US, first);
	from = day_param(r, "from", first);
	to = day_param(r, "to", last);
	page = cu_web_param(r, "page");
	event = cu_web_param(r, "event");
	page = page && *page && strlen(page) < STAT_PARAM_MAX ? page : NULL;
	event = event && *event && strlen(event) < STAT_PARAM_MAX ? event : NULL;
	model = json_pack("{s:s,s:s,s:s,s:s?,s:s?}", "title", cu_web_text(r, "stat_traffic_title"),
	                  "from", from, "to", to, "page", page, "event", event);
	query = json_pack("{s:s,s:s}", "from", from, "to", to);
	if (page)
		json_object_set_new(query, "page", json_string(page));
	if (event)
		json_object_set_new(query, "event", json_string(event));
	if (!(c = cu_web_call(r, "GET", "/v1/stats/beacons", query, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_object_set_new(model, "refusal", cu_web_refusal(r, c, "stat_refused_"));
		return cu_web_render(r, c->status, "stat_traffic", model);
	}
	json_object_set_new(model, "result", traffic_result(r, c->json));
	return cu_web_render(r, MHD_HTTP_OK, "stat_traffic", model);
}

/* ---- GET /console/statistics/budget ---------------------------------------------------------- */

static enum MHD_Result p_budget(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_STAFF, &ret);
	const cu_http_capture *c;
	json_t *model, *datasets, *d, *e, *ledger;
	size_t i;

	if (!pg)
		return ret;
	model = json_pack("{s:s}", "title", cu_web_text(r, "stat_budget_title"));
	if (!(c = cu_web_call(r, "GET", "/v1/stats/budget", NULL, NULL, &ret))) {
		json_decref(model);
		return ret;
	}
	if (c->status != MHD_HTTP_OK) {
		json_object_set_new(model, "refusal", cu_web_refusal(r, c, "stat_refused_"));
		return cu_web_render(r, c->status, "stat_budget", model);
	}
	datasets = json_array();
	json_array_foreach(json_object_get(c->json, "datasets"), i, d)
	{
		double spent = json_number_value(json_object_get(d, "spent"));
		double limit = json_number_value(json_object_get(d, "limit"));

		json_array_append_new(datasets, json_pack("{s:O?,s:O?,s:O?,s:f,s:b}", "dataset",
		                                          json_object_get(d, "dataset"), "spent",
		                                          json_object_get(d, "spent"), "limit",
		                                          json_object_get(d, "limit"), "left",
		                                          limit - spent > 0 ? limit - spent : 0.0,
		                                          "exhausted", limit - spent <= 0));
	}
	ledger = json_array();
	json_array_foreach(json_object_get(c->json, "ledger"), i, e) json_array_append_new(
	    ledger,
	    json_pack("{s:O?,s:O?,s:O?,s:O?,s:s,s:O?}", "release", json_object_get(e, "release"),
	              "dataset", json_object_get(e, "dataset"), "epsilon",
	              json_object_get(e, "epsilon"), "delta", json_object_get(e, "delta"),
	              "mechanism",
	              cu_web_text_or(r, "stat_noise_",
	                             json_string_value(json_object_get(e, "mechanism")), ""),
	              "at", json_object_get(e, "at")));
	json_object_set(model, "period", json_object_get(c->json, "period"));
	json_object_set_new(model, "datasets", datasets);
	json_object_set_new(model, "none", json_boolean(json_array_size(ledger) == 0));
	json_object_set_new(model, "ledger", ledger);
	return cu_web_render(r, MHD_HTTP_OK, "stat_budget", model);
}

const cu_route cu_pages_statistics[] = {
    {"GET", "/console/statistics", "/console/statistics", p_members, 0, true, true, true},
    {"POST", "/console/statistics", "/console/statistics", p_members_post, 0, true, true, true},
    {"GET", "/console/statistics/traffic", "/console/statistics/traffic", p_traffic, 0, true, true,
     true},
    {"GET", "/console/statistics/budget", "/console/statistics/budget", p_budget, 0, true, true,
     true},
};

const size_t cu_pages_statistics_count =
    sizeof(cu_pages_statistics) / sizeof(cu_pages_statistics[0]);
