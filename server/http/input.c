/*
 * server/http/input.c — request input: headers, query parameters, the bounded JSON body (depth
 * limit, duplicate keys refused, allocation failures told apart) and its wipe.
 */
#include "http/http.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JSON_TYPE     "application/json"
#define JSON_TYPE_LEN (sizeof(JSON_TYPE) - 1)

/* ---- input --------------------------------------------------------------- */

const char *cu_http_header_value(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *cu_http_query(cu_request *r, const char *name)
{
	if (r->capture)
		return json_string_value(json_object_get(r->capture->query, name));
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_check {
	const char *const *allowed;
	const char *bad;
	int count;
};

static enum MHD_Result check_one(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
	struct query_check *q = cls;

	(void)kind;
	(void)value;
	q->count++;
	for (const char *const *a = q->allowed; a && *a; a++)
		if (!strcmp(*a, key))
			return MHD_YES;
	q->bad = key;
	return MHD_NO;
}

int cu_http_query_only(cu_request *r, const char *const *allowed)
{
	struct query_check q = {allowed, NULL, 0};

	if (r->capture) {
		const char *key;
		json_t *v;

		json_object_foreach(r->capture->query, key, v)
		    check_one(&q, MHD_GET_ARGUMENT_KIND, key, NULL);
		return q.bad ? -1 : 0;
	}
	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_one, &q);
	return q.bad ? -1 : 0;
}

int cu_http_json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

/*
 * jansson's error codes do not say "out of memory" when its allocator fails
 * (it reports the token it could not finish), so the server's allocator for
 * jansson notes the failure on the thread that saw it.
 */
static _Thread_local bool json_alloc_failed;

static void *json_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		json_alloc_failed = true;
	return p;
}

static void json_alloc_install(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

json_t *cu_http_json_parse(const char *buf, size_t len, json_error_t *jerr, bool *nomem)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	json_t *j;

	pthread_once(&once, json_alloc_install);
	json_alloc_failed = false;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, jerr);
	*nomem = json_alloc_failed;
	if (j && *nomem) {
		/* A failure jansson recovered from: the value is whole, keep it. */
		*nomem = false;
	}
	return j;
}

json_t *cu_http_body_json(cu_request *r, enum MHD_Result *reply)
{
	bool nomem;
	const char *type = cu_http_header_value(r, "Content-Type");
	json_error_t jerr;
	json_t *j;

	*reply = MHD_YES;
	if (r->body_nomem) {
		*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	if (r->body_too_large) {
		*reply = cu_http_reply_error(r, CU_ERR_TOO_LARGE, "request body over 64 KiB", NULL);
		return NULL;
	}
	/* A web page's call to a route hands over JSON it made itself. */
	if (r->capture)
		type = JSON_TYPE;
	if (!type || strncasecmp(type, JSON_TYPE, JSON_TYPE_LEN) != 0 ||
	    (type[JSON_TYPE_LEN] && type[JSON_TYPE_LEN] != ';' && type[JSON_TYPE_LEN] != ' ')) {
		*reply = cu_http_reply_error(r, CU_ERR_UNSUPPORTED_MEDIA,
		                             "the body must be application/json", NULL);
		return NULL;
	}
	if (!r->body || r->body_len == 0) {
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, "the body is empty", NULL);
		return NULL;
	}
	if (cu_http_json_depth(r->body, r->body_len) > CU_JSON_DEPTH_MAX) {
		*reply =
		    cu_http_reply_error(r, CU_ERR_INVALID_JSON, "the body nests too deeply", NULL);
		return NULL;
	}
	/* jansson refuses invalid UTF-8 and \u0000 by default; duplicates are refused too. */
	j = cu_http_json_parse(r->body, r->body_len, &jerr, &nomem);
	if (!j && nomem) {
		/* The server ran out, not the client's JSON: 503, not 400. */
		*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	if (!j) {
		char msg[CU_HTTP_MESSAGE_MAX];

		/* jansson's words name a position and a problem, never the input itself. */
		snprintf(msg, sizeof(msg), "invalid JSON at line %d, column %d", jerr.line,
		         jerr.column);
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON,
		                             "the body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

void cu_http_json_wipe(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		sodium_memzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v) cu_http_json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) cu_http_json_wipe(v);
	}
}
