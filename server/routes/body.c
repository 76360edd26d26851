/*
 * server/routes/body.c — small helpers for query strings, JSON bodies and
 * answers that the third parties' and subcontractors' routes share
 * (declared in routes/routes.h).
 */
#include "routes/routes.h"

#include <string.h>

#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"

#define DATE_LEN 11 /* YYYY-MM-DD and its NUL (cu_date_format) */

bool cu_route_has_query(cu_request *r)
{
	return cu_http_query_only(r, (const char *const[]){NULL}) != 0;
}

enum MHD_Result cu_route_no_query(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
}

/* Whether every key of body is one of keys (NULL-terminated). */
bool cu_route_only_keys(json_t *body, const char *const *keys)
{
	const char *key;
	json_t *v;

	json_object_foreach(body, key, v)
	{
		bool known = false;

		(void)v;
		for (const char *const *k = keys; *k; k++)
			known |= !strcmp(*k, key);
		if (!known)
			return false;
	}
	return true;
}

/* A string member, or NULL; *bad when present but not a string. */
const char *cu_route_opt_string(json_t *body, const char *key, bool *bad)
{
	json_t *v = json_object_get(body, key);

	if (v && !json_is_string(v))
		*bad = true;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * An array of strings into out (borrowed from the body); *n = 0 when the
 * key is absent.  -1 when present but not an array of at most max strings.
 */
int cu_route_string_list(json_t *body, const char *key, const char **out, size_t max, size_t *n)
{
	json_t *a = json_object_get(body, key), *v;
	size_t i;

	*n = 0;
	if (!a)
		return 0;
	if (!json_is_array(a) || json_array_size(a) > max)
		return -1;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return -1;
		out[(*n)++] = json_string_value(v);
	}
	return 0;
}

/* "a,b" (or lines, with sep '\n') as a JSON array of strings. */
json_t *cu_route_list_json(const char *text, char sep)
{
	json_t *a = json_array();
	char delim[2] = {sep, '\0'};

	while (text && *text) {
		size_t n = strcspn(text, delim);

		if (n)
			json_array_append_new(a, json_stringn(text, n));
		text += n;
		if (*text == sep)
			text++;
	}
	return a;
}

json_t *cu_route_iso(int64_t us)
{
	char ts[CU_HTTP_TIME_LEN];

	cu_http_iso_time(us, ts);
	return json_string(ts);
}

json_t *cu_route_day(int64_t us)
{
	char d[DATE_LEN];

	cu_date_format(us, d);
	return json_string(d);
}


void cu_route_body_cleanup(cu_request *r)
{
	json_t **body = r->state; /* every state that uses it starts with its body */

	json_decref(*body);
}
