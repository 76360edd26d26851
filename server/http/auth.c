/*
 * server/http/auth.c — authentication: a bearer token or a session cookie (with its CSRF
 * token for changes) fills the request's actor.
 */
#include "http/http.h"

#include <string.h>

/* ---- authentication ------------------------------------------------------ */

/* The value of cookie `name`, or NULL. */
static const char *cookie(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static int is_unsafe(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/*
 * Fills r->actor from a bearer token or a session cookie.  Returns 0, or an
 * error already replied (-1 with *reply set).
 */
int cu_http_authenticate(cu_request *r, bool public_ok, enum MHD_Result *reply)
{
	const char *auth = cu_http_header_value(r, "Authorization");
	const char *sid = cookie(r, CU_SESSION_COOKIE);
	cu_store *reader = cu_http_reader(r->srv);

	if (!reader) {
		*reply = cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
		return -1;
	}
	if (auth) {
		const char *secret;

		if (strncasecmp(auth, "Bearer ", strlen("Bearer ")) != 0 ||
		    strlen(auth) > CU_HTTP_AUTHORIZATION_MAX) {
			*reply =
			    cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
			                        "expected 'Authorization: Bearer TOKEN'", NULL);
			return -1;
		}
		secret = auth + strlen("Bearer ");
		if (cu_token_authenticate(reader, secret, cu_now_us(), &r->token) != CU_OK) {
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
			                             "the token is not valid", NULL);
			return -1;
		}
		r->actor.name = r->token.name;
		r->actor.role = r->token.role;
		r->actor.member = NULL;
		r->actor.contract = NULL;
		/* A subcontractor acts under its contract; without one the door refuses it. */
		if (r->token.role == CU_ROLE_SUBCONTRACTOR) {
			cu_result rc = cu_token_contract(reader, r->token.id, r->contract);

			if (rc == CU_OK)
				r->actor.contract = r->contract;
			else if (rc != CU_ERR_NOT_FOUND) {
				*reply = cu_http_reply_error(r, rc, NULL, NULL);
				return -1;
			}
		}
		r->auth = CU_AUTH_TOKEN;
		return 0;
	}
	if (sid) {
		cu_session_info info;

		if (strlen(sid) > CU_HTTP_SESSION_ID_MAX ||
		    cu_session_check(reader, sid, cu_now_us(), &info) != CU_OK) {
			/* A stale cookie does not stop what anyone may do (sign up, say). */
			if (public_ok) {
				r->auth = CU_AUTH_NONE;
				return 0;
			}
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
			                             "the session has ended; log in again", NULL);
			return -1;
		}
		memcpy(r->member, info.member, sizeof(r->member));
		r->session = info;
		r->actor.name = r->member;
		r->actor.role = CU_ROLE_MEMBER;
		r->actor.member = r->member;
		r->auth = CU_AUTH_SESSION;
		if (is_unsafe(r->method)) {
			const char *csrf = cu_http_header_value(r, "X-CSRF-Token");

			if (!csrf || cu_session_csrf_ok(&r->session, csrf) != CU_OK) {
				*reply = cu_http_reply_error(r, CU_ERR_CSRF_REQUIRED,
				                             "a cookie-authenticated change needs "
				                             "the X-CSRF-Token header",
				                             NULL);
				return -1;
			}
		}
		return 0;
	}
	r->auth = CU_AUTH_NONE;
	return 0;
}
