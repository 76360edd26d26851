/*
 * test_openapi.c — the OpenAPI document compiled into the server
 * (server/openapi/openapi.json) describes exactly the routes of cu_routes: no route
 * undocumented, no documented operation without a route, every operation
 * with an operationId and responses, every 4xx answered with the Error
 * schema, x-roles equal to what the route table admits, every path
 * parameter declared.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"

#include "openapi/openapi.h"

#define ERROR_SCHEMA "#/components/schemas/Error"

/* The operation keys of a Path Item (OpenAPI 3.1, 4.8.9); other keys it may hold. */
static const char *const op_keys[] = {"get",  "put",   "post",  "delete", "options",
                                      "head", "patch", "trace", NULL};
static const char *const path_item_keys[] = {"$ref",    "summary",    "description",
                                             "servers", "parameters", NULL};

static bool in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (!strcmp(*list, s))
			return true;
	return false;
}

static void lower(const char *in, char *out, size_t n)
{
	size_t i = 0;

	for (; in[i] && i + 1 < n; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[i] = '\0';
}

static void upper(const char *in, char *out, size_t n)
{
	size_t i = 0;

	for (; in[i] && i + 1 < n; i++)
		out[i] = (char)toupper((unsigned char)in[i]);
	out[i] = '\0';
}

/* Problems are collected and printed, so one run names every one of them. */
static int problems;

#define PROBLEM(...)                                                                               \
	do {                                                                                       \
		print_error("openapi.json: " __VA_ARGS__);                                         \
		print_error("\n");                                                                 \
		problems++;                                                                        \
	} while (0)

/* The document as served: the frame merged with every area's fragment. */
static int load(void **state)
{
	char why[256] = "";
	char *text = cu_openapi_document(why, sizeof(why));
	json_error_t err;
	json_t *doc = text ? json_loads(text, JSON_REJECT_DUPLICATES, &err) : NULL;

	free(text);
	if (!doc) {
		print_error("the OpenAPI document cannot be assembled: %s\n", why);
		return -1;
	}
	*state = doc;
	return 0;
}

static int unload(void **state)
{
	json_decref(*state);
	return 0;
}

static json_t *paths_of(json_t *doc)
{
	json_t *paths = json_object_get(doc, "paths");

	assert_true(json_is_object(paths));
	return paths;
}

/* Resolves {"$ref": "#/components/<kind>/<name>"} once; anything else as is. */
static json_t *deref(json_t *doc, json_t *obj, const char *kind)
{
	const char *ref = json_string_value(json_object_get(obj, "$ref"));
	char prefix[64];

	if (!ref)
		return obj;
	snprintf(prefix, sizeof(prefix), "#/components/%s/", kind);
	if (strncmp(ref, prefix, strlen(prefix)) != 0)
		return NULL;
	return json_object_get(json_object_get(json_object_get(doc, "components"), kind),
	                       ref + strlen(prefix));
}

/* ---- the tests ----------------------------------------------------------- */

static void document_is_openapi_3_1(void **state)
{
	json_t *doc = *state;
	json_t *error = json_object_get(
	    json_object_get(json_object_get(doc, "components"), "schemas"), "Error");
	json_t *err_props = json_object_get(
	    json_object_get(json_object_get(error, "properties"), "error"), "properties");

	assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
	assert_non_null(json_string_value(json_object_get(json_object_get(doc, "info"), "title")));
	assert_non_null(
	    json_string_value(json_object_get(json_object_get(doc, "info"), "version")));
	/* The one error model: {"error":{"code","message","fields"}}. */
	assert_non_null(json_object_get(err_props, "code"));
	assert_non_null(json_object_get(err_props, "message"));
	assert_non_null(json_object_get(err_props, "fields"));
	/* Both ways in are described. */
	{
		json_t *schemes =
		    json_object_get(json_object_get(doc, "components"), "securitySchemes");
		json_t *cookie = json_object_get(schemes, "sessionCookie");

		assert_string_equal(json_string_value(json_object_get(
		                        json_object_get(schemes, "bearerToken"), "scheme")),
		                    "bearer");
		assert_string_equal(json_string_value(json_object_get(cookie, "name")),
		                    CU_SESSION_COOKIE);
		assert_string_equal(json_string_value(json_object_get(cookie, "in")), "cookie");
		assert_string_equal(json_string_value(json_object_get(
		                        json_object_get(schemes, "csrfHeader"), "name")),
		                    "X-CSRF-Token");
	}
}

static void every_route_is_documented(void **state)
{
	json_t *paths = paths_of(*state);

	problems = 0;
	for (size_t i = 0; i < cu_routes_count; i++) {
		const cu_route *rt = &cu_routes[i];
		json_t *item = json_object_get(paths, rt->name);
		char m[16];

		/* Web pages (server/web/) are HTML, not operations of the API. */
		if (rt->page)
			continue;
		lower(rt->method, m, sizeof(m));
		if (!json_is_object(item))
			PROBLEM("route %s %s: path missing from the document", rt->method,
			        rt->name);
		else if (!json_is_object(json_object_get(item, m)))
			PROBLEM("route %s %s: the path has no '%s' operation", rt->method, rt->name,
			        m);
	}
	assert_int_equal(problems, 0);
}

static void every_documented_operation_is_a_route(void **state)
{
	json_t *paths = paths_of(*state), *item;
	const char *path, *key;
	json_t *op;

	problems = 0;
	json_object_foreach(paths, path, item)
	{
		bool any_route = false;

		for (size_t i = 0; i < cu_routes_count; i++)
			any_route |= !strcmp(cu_routes[i].name, path);
		if (!any_route)
			PROBLEM("path %s is not in cu_routes", path);
		if (!json_is_object(item)) {
			PROBLEM("path %s is not an object", path);
			continue;
		}
		json_object_foreach(item, key, op)
		{
			char m[16];
			bool found = false;

			if (!in_list(op_keys, key)) {
				if (!in_list(path_item_keys, key) && strncmp(key, "x-", 2) != 0)
					PROBLEM(
					    "path %s: '%s' is neither a method nor a path item key",
					    path, key);
				continue;
			}
			upper(key, m, sizeof(m));
			for (size_t i = 0; i < cu_routes_count; i++)
				found |= !strcmp(cu_routes[i].name, path) &&
				         !strcmp(cu_routes[i].method, m);
			if (!found)
				PROBLEM("%s %s is documented but not in cu_routes", m, path);
		}
	}
	assert_int_equal(problems, 0);
}

static void operations_have_ids_and_responses(void **state)
{
	json_t *paths = paths_of(*state), *item, *op, *ids = json_object();
	const char *path, *key;

	problems = 0;
	json_object_foreach(paths, path, item)
	{
		json_object_foreach(item, key, op)
		{
			const char *id;
			json_t *responses;

			if (!in_list(op_keys, key))
				continue;
			id = json_string_value(json_object_get(op, "operationId"));
			responses = json_object_get(op, "responses");
			if (!id || !*id)
				PROBLEM("%s %s: no operationId", key, path);
			else if (json_object_get(ids, id))
				PROBLEM("%s %s: operationId '%s' is used twice", key, path, id);
			else
				json_object_set_new(ids, id, json_true());
			if (!json_is_object(responses) || json_object_size(responses) == 0)
				PROBLEM("%s %s: no responses", key, path);
			if (!json_is_string(json_object_get(op, "description")))
				PROBLEM("%s %s: no description", key, path);
		}
	}
	json_decref(ids);
	assert_int_equal(problems, 0);
}

static void client_errors_use_the_error_schema(void **state)
{
	json_t *doc = *state, *paths = paths_of(doc), *item, *op, *resp;
	const char *path, *key, *status;
	int n4xx = 0;

	problems = 0;
	json_object_foreach(paths, path, item)
	{
		json_object_foreach(item, key, op)
		{
			if (!in_list(op_keys, key))
				continue;
			json_object_foreach(json_object_get(op, "responses"), status, resp)
			{
				json_t *r, *schema;
				const char *ref;

				if (status[0] != '4')
					continue;
				n4xx++;
				r = deref(doc, resp, "responses");
				if (!r) {
					PROBLEM("%s %s %s: unresolvable $ref", key, path, status);
					continue;
				}
				schema =
				    json_object_get(json_object_get(json_object_get(r, "content"),
				                                    "application/json"),
				                    "schema");
				ref = json_string_value(json_object_get(schema, "$ref"));
				if (!ref || strcmp(ref, ERROR_SCHEMA) != 0)
					PROBLEM("%s %s %s: not an application/json " ERROR_SCHEMA,
					        key, path, status);
			}
		}
	}
	assert_int_equal(problems, 0);
	assert_true(n4xx > 0);
}

/* x-roles: the role names of rt->who, "anonymous" if public_ok; "anyone" if who is 0. */
static void roles_match_the_route_table(void **state)
{
	json_t *paths = paths_of(*state);

	problems = 0;
	for (size_t i = 0; i < cu_routes_count; i++) {
		const cu_route *rt = &cu_routes[i];
		json_t *want, *roles, *v;
		char m[16];
		size_t k;

		if (rt->page)
			continue;
		want = json_array();

		lower(rt->method, m, sizeof(m));
		roles = json_object_get(json_object_get(json_object_get(paths, rt->name), m),
		                        "x-roles");
		if (!json_is_array(roles)) {
			PROBLEM("%s %s: no x-roles", rt->method, rt->name);
			json_decref(want);
			continue;
		}
		if (rt->who == 0) {
			json_array_append_new(want, json_string("anyone"));
		} else {
			for (int r = 0; r < CU_ROLE_COUNT_; r++)
				if ((rt->who >> r) & 1)
					json_array_append_new(
					    want, json_string(cu_role_name((cu_role)r)));
			if (rt->public_ok)
				json_array_append_new(want, json_string("anonymous"));
		}
		/* Same set, in any order. */
		json_array_foreach(want, k, v)
		{
			bool found = false;
			size_t j;
			json_t *w;

			json_array_foreach(roles, j, w) found |= json_equal(v, w);
			if (!found)
				PROBLEM("%s %s: x-roles lacks '%s'", rt->method, rt->name,
				        json_string_value(v));
		}
		json_array_foreach(roles, k, v)
		{
			bool found = false;
			size_t j;
			json_t *w;

			json_array_foreach(want, j, w) found |= json_equal(v, w);
			if (!found)
				PROBLEM("%s %s: x-roles names '%s', which the route does not admit",
				        rt->method, rt->name,
				        json_is_string(v) ? json_string_value(v)
				                          : "(not a string)");
		}
		json_decref(want);
	}
	assert_int_equal(problems, 0);
}

/* Every {name} of a template is a declared path parameter, and the template is the pattern. */
static void path_parameters_are_declared(void **state)
{
	json_t *doc = *state, *paths = paths_of(doc);

	problems = 0;
	for (size_t i = 0; i < cu_routes_count; i++) {
		const cu_route *rt = &cu_routes[i];
		char m[16], pattern[256], *o = pattern;
		const char *s = rt->name;
		json_t *params;

		if (rt->page)
			continue;

		/* The template with {name} turned into {} is the pattern the router matches. */
		while (*s && o < pattern + sizeof(pattern) - 3) {
			if (*s == '{') {
				*o++ = '{';
				*o++ = '}';
				s = strchr(s, '}');
				assert_non_null(s);
				s++;
			} else {
				*o++ = *s++;
			}
		}
		*o = '\0';
		if (strcmp(pattern, rt->pattern) != 0)
			PROBLEM("route %s %s: template does not match pattern %s", rt->method,
			        rt->name, rt->pattern);

		lower(rt->method, m, sizeof(m));
		params = json_object_get(json_object_get(json_object_get(paths, rt->name), m),
		                         "parameters");
		for (s = strchr(rt->name, '{'); s; s = strchr(s + 1, '{')) {
			const char *end = strchr(s, '}');
			char name[64];
			bool found = false;
			size_t j;
			json_t *p;

			if (!end || (size_t)(end - s - 1) >= sizeof(name))
				break;
			memcpy(name, s + 1, (size_t)(end - s - 1));
			name[end - s - 1] = '\0';
			json_array_foreach(params, j, p)
			{
				json_t *d = deref(doc, p, "parameters");
				const char *in = json_string_value(json_object_get(d, "in"));
				const char *pn = json_string_value(json_object_get(d, "name"));

				found |= in && pn && !strcmp(in, "path") && !strcmp(pn, name) &&
				         json_is_true(json_object_get(d, "required"));
			}
			if (!found)
				PROBLEM(
				    "%s %s: path parameter '%s' not declared (in: path, required)",
				    rt->method, rt->name, name);
		}
	}
	assert_int_equal(problems, 0);
}

/* The refusal of personal data in URLs is part of the contract. */
static void members_query_refusal_is_documented(void **state)
{
	json_t *op = json_object_get(json_object_get(paths_of(*state), "/v1/members"), "get");
	const char *desc = json_string_value(json_object_get(op, "description"));
	char *text = json_dumps(json_object_get(op, "responses"), 0);

	assert_non_null(desc);
	assert_non_null(strstr(desc, "/v1/members/search"));
	assert_non_null(text);
	assert_non_null(strstr(text, "personal_data_in_url"));
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(document_is_openapi_3_1),
	    cmocka_unit_test(every_route_is_documented),
	    cmocka_unit_test(every_documented_operation_is_a_route),
	    cmocka_unit_test(operations_have_ids_and_responses),
	    cmocka_unit_test(client_errors_use_the_error_schema),
	    cmocka_unit_test(roles_match_the_route_table),
	    cmocka_unit_test(path_parameters_are_declared),
	    cmocka_unit_test(members_query_refusal_is_documented),
	};

	return cmocka_run_group_tests(tests, load, unload);
}
