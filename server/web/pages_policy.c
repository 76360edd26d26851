/*
 * server/web/pages_policy.c — the privacy policy in the portal, for
 * everyone: the version in force, its version history, one version as
 * published; for a logged-in member also what changed since the version
 * they accepted, and the form that accepts the version in force.
 *
 * Every read and change is a call to the API (rules in web/web.h):
 *   /policy                 GET /v1/policy, GET /v1/policy/versions,
 *                           (member) GET /v1/me/policy/changes
 *   /policy/versions/{v}    GET /v1/policy/versions/{v}, GET /v1/policy/versions,
 *                           (member) GET /v1/me/policy/changes
 *   POST /policy/accept     POST /v1/me/policy/accept
 *
 * The policy file holds one text (no clauses): it is shown paragraph by
 * paragraph as the file gives it (split at blank lines), followed by what
 * the file declares — purposes with their fields, cookie categories, the
 * legal exceptions — in the policy's own words.
 */
#include "web/web.h"

#include <stdio.h>
#include <string.h>

#define DAY_LEN      10  /* "2026-12-06" of an ISO time */
#define VERSION_MAX  64  /* a version string we put in an API path */
#define API_PATH_MAX 128 /* "/v1/policy/versions/<version>" */

_Static_assert(API_PATH_MAX > sizeof("/v1/policy/versions/") + VERSION_MAX,
               "an API path holds a version");

/* A version string as policy files name them: [A-Za-z0-9._-], at most VERSION_MAX. */
static bool version_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > VERSION_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* The paragraphs of a text (split at blank lines), each an array of its lines. */
static json_t *paragraphs(const char *text)
{
	json_t *out = json_array(), *para = NULL;
	const char *p = text ? text : "";

	while (*p) {
		size_t n = strcspn(p, "\n");

		if (n == 0) {
			para = NULL; /* a blank line ends the paragraph */
		} else {
			json_t *line = json_stringn(p, n);

			if (!para) {
				para = json_array();
				json_array_append_new(out, json_pack("{s:o}", "lines", para));
			}
			json_array_append_new(para, json_pack("{s:o}", "line", line));
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	return out;
}

/* The strings of an array joined with ", " (a new string; "" for none). */
static json_t *joined(json_t *list)
{
	char buf[CU_WEB_LOCATION_MAX * 8];
	size_t o = 0, i;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(list, i, v)
	{
		const char *s = json_string_value(v);
		int n;

		if (!s)
			continue;
		n = snprintf(buf + o, sizeof(buf) - o, "%s%s", o ? ", " : "", s);
		if (n < 0 || (size_t)n >= sizeof(buf) - o)
			break;
		o += (size_t)n;
	}
	return json_string(buf);
}

/* The version list, newest first, the one in force and the one shown marked. */
static json_t *version_list(const cu_http_capture *c, const char *shown)
{
	json_t *in = json_object_get(c->json, "versions"), *out = json_array();
	const char *in_force = json_string_value(json_object_get(c->json, "in_force"));
	size_t n = json_array_size(in);

	for (size_t i = n; i > 0; i--) {
		json_t *v = json_array_get(in, i - 1);
		const char *ver = json_string_value(json_object_get(v, "version"));
		const char *pub = json_string_value(json_object_get(v, "published"));
		char day[DAY_LEN + 1] = "";

		if (!ver)
			continue;
		if (pub)
			snprintf(day, sizeof(day), "%s", pub);
		json_array_append_new(out, json_pack("{s:s,s:s?,s:s,s:b,s:b}", "version", ver,
		                                     "published", pub, "published_day", day,
		                                     "in_force", in_force && !strcmp(ver, in_force),
		                                     "shown", shown && !strcmp(ver, shown)));
	}
	return out;
}

/*
 * The member's pending change: the diff (from GET /v1/me/policy/changes)
 * dressed for the page, or NULL when their accepted version is in force.
 */
static json_t *diff_dressed(json_t *diff);

static json_t *pending(const cu_http_capture *c)
{
	const char *from, *to;

	if (!c || c->status != MHD_HTTP_OK)
		return NULL;
	from = json_string_value(json_object_get(c->json, "from"));
	to = json_string_value(json_object_get(c->json, "to"));
	if (!from || !to || !strcmp(from, to))
		return NULL;
	return diff_dressed(c->json);
}

/* A diff (GET /v1/me/policy/changes, /v1/policy/versions/{v}/changes) dressed for a page. */
static json_t *diff_dressed(json_t *diff)
{
	json_t *d = json_deep_copy(diff), *x;
	size_t i;

	if (!json_is_object(d)) {
		json_decref(d);
		return NULL;
	}
	json_array_foreach(json_object_get(d, "purposes_added"), i, x)
	{
		json_object_set_new(x, "fields_text", joined(json_object_get(x, "fields")));
	}
	json_array_foreach(json_object_get(d, "purposes_changed"), i, x)
	{
		json_object_set_new(x, "added_text", joined(json_object_get(x, "fields_added")));
		json_object_set_new(x, "removed_text",
		                    joined(json_object_get(x, "fields_removed")));
		json_object_set(x, "text", json_object_get(json_object_get(x, "after"), "text"));
	}
	json_object_set_new(d, "fields_added_text", joined(json_object_get(d, "fields_added")));
	json_object_set_new(d, "fields_removed_text", joined(json_object_get(d, "fields_removed")));
	json_object_set_new(d, "nothing",
	                    json_boolean(!json_is_true(json_object_get(d, "text_changed")) &&
	                                 !json_array_size(json_object_get(d, "purposes_added")) &&
	                                 !json_array_size(json_object_get(d, "purposes_removed")) &&
	                                 !json_array_size(json_object_get(d, "purposes_changed")) &&
	                                 !json_array_size(json_object_get(d, "fields_added")) &&
	                                 !json_array_size(json_object_get(d, "fields_removed"))));
	return d;
}

/*
 * A policy document (GET /v1/policy, or a version as published) for the
 * page: paragraphs, purposes with their fields joined, by the labels of
 * the fields of `labelled` (a published document; NULL: doc itself).
 */
static json_t *dress_policy(json_t *doc, json_t *labelled)
{
	json_t *p = json_deep_copy(doc), *x, *labels = json_object(), *f;
	size_t i;

	if (!json_is_object(p)) {
		json_decref(p);
		json_decref(labels);
		return json_object();
	}
	json_array_foreach(json_object_get(labelled ? labelled : p, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));

		if (name && json_is_string(json_object_get(f, "label")))
			json_object_set(labels, name, json_object_get(f, "label"));
	}
	json_object_set_new(p, "paragraphs",
	                    paragraphs(json_string_value(json_object_get(p, "text"))));
	json_array_foreach(json_object_get(p, "purposes"), i, x)
	{
		json_t *names = json_object_get(x, "fields"), *shown = json_array(), *n;
		size_t k;

		json_array_foreach(names, k, n)
		{
			json_t *l = json_is_string(n)
			                ? json_object_get(labels, json_string_value(n))
			                : NULL;

			json_array_append(shown, l ? l : n);
		}
		json_object_set_new(x, "fields_text", joined(shown));
		json_decref(shown);
	}
	json_decref(labels);
	return p;
}

/* ---- GET /policy -------------------------------------------------------------------- */

static enum MHD_Result p_policy(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const cu_http_capture *pol, *vers, *doc, *changes = NULL;
	const char *done, *in_force;
	char path[API_PATH_MAX];

	if (!pg)
		return ret;
	if (!(pol = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)) ||
	    !(vers = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, &ret)))
		return ret;
	/* The document as published holds the fields' labels, which GET /v1/policy does not. */
	in_force = json_string_value(json_object_get(pol->json, "version"));
	snprintf(path, sizeof(path), "/v1/policy/versions/%s",
	         in_force && version_ok(in_force) ? in_force : "-");
	if (!(doc = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (r->auth == CU_AUTH_SESSION &&
	    !(changes = cu_web_call(r, "GET", "/v1/me/policy/changes", NULL, NULL, &ret)))
		return ret;
	if (pol->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	done = cu_web_param(r, "done");
	return cu_web_render(
	    r, MHD_HTTP_OK, "pol_policy",
	    json_pack("{s:o,s:o,s:o*,s:b}", "policy",
	              dress_policy(pol->json, doc->status == MHD_HTTP_OK ? doc->json : NULL),
	              "versions",
	              vers->status == MHD_HTTP_OK ? version_list(vers, NULL) : json_array(),
	              "pending", pending(changes), "accepted", done && !strcmp(done, "accepted")));
}

/* ---- GET /policy/versions/{version} ------------------------------------------------- */

static enum MHD_Result p_version(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const cu_http_capture *doc, *vers, *own, *changes = NULL;
	char path[API_PATH_MAX];
	const char *v = pg ? pg->params[0] : NULL;
	json_t *pend, *list, *x, *step;
	const char *published = NULL;
	bool in_force = false, first = false;
	size_t i;

	if (!pg)
		return ret;
	if (!version_ok(v))
		return cu_web_error(r, CU_ERR_NOT_FOUND, "pol_no_such_version");
	snprintf(path, sizeof(path), "/v1/policy/versions/%s", v);
	if (!(doc = cu_web_call(r, "GET", path, NULL, NULL, &ret)) ||
	    !(vers = cu_web_call(r, "GET", "/v1/policy/versions", NULL, NULL, &ret)))
		return ret;
	snprintf(path, sizeof(path), "/v1/policy/versions/%s/changes", v);
	if (!(own = cu_web_call(r, "GET", path, NULL, NULL, &ret)))
		return ret;
	if (r->auth == CU_AUTH_SESSION &&
	    !(changes = cu_web_call(r, "GET", "/v1/me/policy/changes", NULL, NULL, &ret)))
		return ret;
	if (doc->status == MHD_HTTP_NOT_FOUND)
		return cu_web_error(r, CU_ERR_NOT_FOUND, "pol_no_such_version");
	if (doc->status != MHD_HTTP_OK || !json_is_object(doc->json))
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	list = vers->status == MHD_HTTP_OK ? version_list(vers, v) : json_array();
	json_array_foreach(list, i, x)
	{
		if (!json_is_true(json_object_get(x, "shown")))
			continue;
		published = json_string_value(json_object_get(x, "published_day"));
		in_force = json_is_true(json_object_get(x, "in_force"));
	}
	/* What changed is the member's: from the version they accepted to this one, in force. */
	pend = pending(changes);
	if (pend && strcmp(json_string_value(json_object_get(pend, "to")), v)) {
		json_decref(pend);
		pend = NULL;
	}
	/* What this version changed from the one before, for everyone (none for the first). */
	step = own->status == MHD_HTTP_OK ? diff_dressed(own->json) : NULL;
	if (step && json_is_null(json_object_get(step, "from"))) {
		json_decref(step);
		step = NULL;
		first = true;
	}
	return cu_web_render(r, MHD_HTTP_OK, "pol_version",
	                     json_pack("{s:s,s:o,s:o,s:o*,s:o*,s:b,s:s?,s:b,s:b}", "version", v,
	                               "policy", dress_policy(doc->json, NULL), "versions", list,
	                               "pending", pend, "step", step, "first", first, "published",
	                               published, "in_force", in_force, "member",
	                               r->auth == CU_AUTH_SESSION));
}

/* ---- POST /policy/accept ------------------------------------------------------------ */

static enum MHD_Result p_accept(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "POST", "/v1/me/policy/accept", NULL, NULL, &ret)))
		return ret;
	if (c->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	return cu_web_redirect(r, "/policy?done=accepted");
}

const cu_route cu_pages_policy[] = {
    {"GET", "/policy", "/policy", p_policy, 0, true, true, true},
    {"GET", "/policy/versions/{}", "/policy/versions/{version}", p_version, 0, true, true, true},
    {"POST", "/policy/accept", "/policy/accept", p_accept, 0, true, true, true},
};

const size_t cu_pages_policy_count = sizeof(cu_pages_policy) / sizeof(cu_pages_policy[0]);
