/*
 * server/http/router.c — routing: a path against the route table (routes/table.c), then
 * authentication and the route's roles, then its handler; 404 and 405 here.
 */
#include "http/http.h"

#include <stdio.h>
#include <string.h>

/* ---- routing ------------------------------------------------------------- */

int cu_http_match(const char *pattern, const char *path, char params[2][CU_HTTP_PARAM_MAX])
{
	int np = 0;

	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		if (!strncmp(pattern, "{}", 2)) {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= CU_HTTP_PARAM_MAX || np >= 2)
				return 0;
			memcpy(params[np], path, n);
			params[np][n] = '\0';
			np++;
			pattern += 2;
			path += n;
		} else {
			size_t n = strcspn(pattern, "/");

			if (strncmp(pattern, path, n) || (path[n] && path[n] != '/'))
				return 0;
			pattern += n;
			path += n;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

bool cu_http_route_allows(const cu_request *r, const cu_route *rt)
{
	if (!rt->who)
		return true;
	if (r->auth == CU_AUTH_TOKEN)
		return (rt->who >> r->actor.role) & 1;
	if (r->auth == CU_AUTH_SESSION)
		return (rt->who >> CU_ROLE_MEMBER) & 1;
	return rt->public_ok;
}

int cu_http_find_route(const char *method, const char *path, char params[2][CU_HTTP_PARAM_MAX])
{
	for (size_t i = 0; i < cu_routes_count; i++)
		if (!strcmp(cu_routes[i].method, method) &&
		    cu_http_match(cu_routes[i].pattern, path, params))
			return (int)i;
	return -1;
}

static enum MHD_Result authorised(cu_request *r, const cu_route *rt)
{
	enum MHD_Result reply;

	if (!rt->anon && cu_http_authenticate(r, rt->public_ok, &reply))
		return reply;
	if (!cu_http_route_allows(r, rt))
		return r->auth == CU_AUTH_NONE
		           ? cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
		                                 "authentication required", NULL)
		           : cu_http_reply_error(r, CU_ERR_FORBIDDEN,
		                                 "this role may not use this route", NULL);
	return rt->handler(r);
}

/*
 * A GET reads: its token or session, and whatever its handler looks up
 * before it answers or waits for the writer (a member read: the member, the
 * consents, the accepted version), grouped on the thread's reader where that
 * is cheaper (cu_store_lookups_begin): on SQLite one read transaction instead
 * of one per lookup, and the reader's page cache, which every commit of the
 * writer empties, refilled once; on PostgreSQL none (a BEGIN and its end
 * would be two more round trips for every GET).  Ended
 * before the handler's first call returns: a request that waits holds none.
 * Other methods keep a lookup per transaction (a handler may write through
 * the reader: a snapshot refuses writes).
 */
static enum MHD_Result dispatch(cu_request *r, const cu_route *rt)
{
	cu_store *reader = strcmp(r->method, "GET") ? NULL : cu_http_reader(r->srv);
	bool snap = false;
	enum MHD_Result reply;

	if (reader)
		(void)!cu_store_lookups_begin(reader, &snap);
	reply = authorised(r, rt);

	if (snap)
		cu_store_snapshot_end(reader);
	return reply;
}

enum MHD_Result cu_http_route(cu_request *r)
{
	char allow[CU_HTTP_ALLOW_MAX] = "";
	int path_matched = 0;

	for (size_t i = 0; i < cu_routes_count; i++) {
		const cu_route *rt = &cu_routes[i];

		if (!cu_http_match(rt->pattern, r->url, r->params))
			continue;
		path_matched = 1;
		if (strcmp(rt->method, r->method)) {
			size_t n = strlen(allow);

			snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", rt->method);
			continue;
		}
		r->route = (int)i;
		return dispatch(r, rt);
	}
	r->route = -1;
	if (path_matched) {
		cu_http_header(r, "Allow", allow);
		return cu_http_reply_error(r, CU_ERR_METHOD_NOT_ALLOWED, NULL, NULL);
	}
	/* A browser (it accepts HTML) asking for a page that is not there gets a page saying so. */
	if (r->srv->page_not_found && strncmp(r->url, "/v1/", strlen("/v1/")) != 0) {
		const char *accept = cu_http_header_value(r, "Accept");

		if (accept && strstr(accept, "text/html"))
			return r->srv->page_not_found(r);
	}
	return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such route", NULL);
}
