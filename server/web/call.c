/*
 * server/web/call.c — a page calls an API route in-process, as its visitor
 * (rules in web/web.h): the route's handler runs on this request with its
 * reply captured, suspending and resuming as it would for a client.
 */
#include "web/web.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/*
 * Runs (or resumes) the route's handler with its reply captured; the
 * request's route is the page's again after, so a resumption comes back to
 * the page.  True when the route has replied.
 */
static bool run(cu_request *r, cu_web_page *pg, cu_http_capture *c)
{
	r->route = pg->active_route;
	r->capture = c;
	cu_routes[pg->active_route].handler(r);
	r->route = pg->route;
	r->capture = NULL;
	return c->done;
}

/* A refusal the router would have answered, kept as the route's reply. */
static void refuse(cu_request *r, cu_http_capture *c, cu_result rc, const char *message)
{
	r->capture = c;
	cu_http_reply_error(r, rc, message, NULL);
	r->capture = NULL;
}

/* The call is over: the route's state goes, the page's body comes back. */
static void finish(cu_request *r, cu_web_page *pg, cu_http_capture *c, int keep)
{
	int o = keep;

	if (r->cleanup)
		r->cleanup(r);
	r->cleanup = NULL;
	r->state = NULL;
	r->phase = 0;
	if (pg->call_body) {
		sodium_memzero(pg->call_body, strlen(pg->call_body));
		free(pg->call_body);
		pg->call_body = NULL;
	}
	r->body = pg->outer_body;
	r->body_len = pg->outer_len;
	memcpy(r->params, pg->params, sizeof(r->params));
	/* Of the route's headers only Set-Cookie (a log-in's session) is the page's too. */
	for (int i = keep; i < r->nextra; i++)
		if (!strcasecmp(r->extra[i].name, "Set-Cookie"))
			r->extra[o++] = r->extra[i];
	r->nextra = o;
	/* Some routes write their JSON as text (http/json_out.h): the page reads it as JSON. */
	if (c->done && !c->json && c->text && c->type && !strcmp(c->type, "application/json")) {
		c->json = json_loads(c->text, 0, NULL);
		sodium_memzero(c->text, strlen(c->text));
		free(c->text);
		c->text = NULL;
	}
	pg->active = false;
	pg->ndone++;
}

const cu_http_capture *cu_web_call(cu_request *r, const char *method, const char *path,
                                   json_t *query, json_t *body, enum MHD_Result *ret)
{
	cu_web_page *pg = r->web;
	cu_http_capture *c;
	int i, route;

	*ret = MHD_YES;
	if (!pg || pg->cursor >= CU_WEB_CALLS_MAX) {
		json_decref(query);
		json_decref(body);
		*ret = cu_http_reply_error(r, CU_ERR_INTERNAL, "a page made too many calls", NULL);
		return NULL;
	}
	i = pg->cursor++;
	c = &pg->calls[i];
	if (i < pg->ndone) {
		/* Made before this pass: its reply is kept. */
		json_decref(query);
		json_decref(body);
		return c;
	}
	if (pg->active) {
		/* Resumed: back into the route that waited. */
		json_decref(query);
		json_decref(body);
		if (!run(r, pg, c))
			return NULL;
		finish(r, pg, c, pg->keep_headers);
		return c;
	}
	route = cu_http_find_route(method, path, r->params);
	c->query = query;
	if (route < 0 || cu_routes[route].page) {
		json_decref(body);
		refuse(r, c, CU_ERR_NOT_FOUND, "no such route");
		finish(r, pg, c, r->nextra);
		return c;
	}
	if (!cu_http_route_allows(r, &cu_routes[route])) {
		json_decref(body);
		refuse(r, c, r->auth == CU_AUTH_NONE ? CU_ERR_UNAUTHENTICATED : CU_ERR_FORBIDDEN,
		       r->auth == CU_AUTH_NONE ? "authentication required"
		                               : "this role may not use this route");
		finish(r, pg, c, r->nextra);
		return c;
	}
	if (body) {
		pg->call_body = json_dumps(body, JSON_COMPACT);
		cu_http_json_wipe(body);
		json_decref(body);
		if (!pg->call_body) {
			finish(r, pg, c, r->nextra);
			*ret = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
			return NULL;
		}
		r->body = pg->call_body;
		r->body_len = strlen(pg->call_body);
	} else {
		r->body = NULL;
		r->body_len = 0;
	}
	pg->active = true;
	pg->active_route = route;
	pg->keep_headers = r->nextra;
	r->state = NULL;
	r->cleanup = NULL;
	r->phase = 0;
	if (!run(r, pg, c))
		return NULL;
	finish(r, pg, c, pg->keep_headers);
	return c;
}
