/*
 * server/http/reply.c — replies: JSON, text and empty bodies with the common headers; every error
 * reply takes its status and code from the result table (cu_http_reply_error).
 */
#include "http/http.h"

#include <assert.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ----------------------------------------------------------- */

static void free_wiped(void *p)
{
	if (p) {
		sodium_memzero(p, strlen(p));
		free(p);
	}
}

static void common_headers(cu_request *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (int i = 0; i < r->nextra; i++)
		MHD_add_response_header(resp, r->extra[i].name, r->extra[i].value);
}

void cu_http_header(cu_request *r, const char *name, const char *value)
{
	/* A route sets at most a few headers: more is a bug, not a client's doing. */
	assert(r->nextra < (int)(sizeof(r->extra) / sizeof(r->extra[0])));
	if (r->nextra >= (int)(sizeof(r->extra) / sizeof(r->extra[0]))) {
		r->header_lost = true;
		return;
	}
	r->extra[r->nextra].name = cu_arena_strdup(&r->arena, name);
	r->extra[r->nextra].value = cu_arena_strdup(&r->arena, value);
	if (r->extra[r->nextra].name && r->extra[r->nextra].value)
		r->nextra++;
	else
		r->header_lost = true;
}

/*
 * A reply missing a header its route set (a Set-Cookie, a Retry-After) is
 * not the reply the route meant: it becomes 503 out_of_memory, with none of
 * the route's headers.  True when it did.
 */
static bool lost_header(cu_request *r, enum MHD_Result *ret)
{
	if (!r->header_lost)
		return false;
	r->header_lost = false;
	r->nextra = 0;
	*ret = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	return true;
}

void cu_http_capture_release(cu_http_capture *c)
{
	if (!c)
		return;
	if (c->json) {
		cu_http_json_wipe(c->json);
		json_decref(c->json);
	}
	free_wiped(c->text);
	json_decref(c->query);
	memset(c, 0, sizeof(*c));
}

/* A reply kept for the web page that called the route (server/web/call.c). */
static enum MHD_Result capture(cu_request *r, int status, const char *type, char *text,
                               json_t *json)
{
	cu_http_capture *c = r->capture;

	c->status = status;
	c->type = type;
	c->text = text;
	c->json = json;
	c->done = true;
	return MHD_YES;
}

/* The headers of every HTML page: what it may load, who may frame it, what a link reveals. */
#define CU_PAGE_CSP                                                                                \
	"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

static enum MHD_Result queue(cu_request *r, int status, const char *type, char *text, bool page)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!text)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (r->capture)
		return capture(r, status, type, text, NULL);
	if (lost_header(r, &ret)) {
		free_wiped(text);
		return ret;
	}
	/* The body may hold personal data: wipe it when libmicrohttpd lets it go. */
	resp = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free_wiped);
	if (!resp) {
		free_wiped(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	if (page) {
		MHD_add_response_header(resp, "Content-Security-Policy", CU_PAGE_CSP);
		MHD_add_response_header(resp, "Referrer-Policy", "same-origin");
		MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	}
	common_headers(r, resp);
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result cu_http_reply_text(cu_request *r, int status, const char *type, char *text)
{
	return queue(r, status, type, text, false);
}

enum MHD_Result cu_http_reply_html(cu_request *r, int status, char *text)
{
	return queue(r, status, "text/html; charset=utf-8", text, true);
}

enum MHD_Result cu_http_reply_redirect(cu_request *r, const char *location)
{
	/* Only a path of this site: a redirect never leaves it. */
	assert(location[0] == '/' && location[1] != '/');
	cu_http_header(r, "Location", location);
	return cu_http_reply_empty(r, MHD_HTTP_SEE_OTHER);
}

enum MHD_Result cu_http_reply_json(cu_request *r, int status, json_t *body)
{
	char *text;

	if (r->capture && body)
		return capture(r, status, "application/json", NULL, body);
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_decref(body);
	return cu_http_reply_text(r, status, "application/json", text);
}

enum MHD_Result cu_http_reply_empty(cu_request *r, int status)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->capture)
		return capture(r, status, NULL, NULL, NULL);
	if (lost_header(r, &ret))
		return ret;
	resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	common_headers(r, resp);
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result cu_http_reply_static(cu_request *r, int status, const char *type, const void *data,
                                     size_t len)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (r->capture)
		return capture(r, status, type, NULL, NULL);
	if (lost_header(r, &ret))
		return ret;
	resp = MHD_create_response_from_buffer(len, (void *)data, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", type);
	common_headers(r, resp);
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result cu_http_reply_error(cu_request *r, cu_result rc, const char *message,
                                    const cu_errors *errs)
{
	json_t *err = json_object(), *body = json_object();
	int status = cu_result_http(rc);

	/* A client never causes a 5xx; these are the server's own failures. */
	json_object_set_new(err, "code", json_string(cu_result_code(rc)));
	json_object_set_new(err, "message", json_string(message ? message : cu_strerror(rc)));
	if (errs && (errs->n || errs->dropped)) {
		json_t *fields = json_object();

		for (size_t i = 0; i < errs->n; i++)
			json_object_set_new(fields, errs->e[i].field,
			                    json_string(errs->e[i].reason));
		json_object_set_new(err, "fields", fields);
	}
	json_object_set_new(body, "error", err);
	return cu_http_reply_json(r, status, body);
}
