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

int cu_http_auth_token(cu_request *r, const char *secret, cu_result *rc)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_result c;

	if (!reader) {
		*rc = CU_ERR_STORE;
		return -1;
	}
	c = cu_token_authenticate(reader, secret, cu_now_us(), &r->token);
	if (c != CU_OK) {
		/* The store's failure is the server's (503), not the caller's token. */
		*rc = c == CU_ERR_STORE || c == CU_ERR_NOMEM ? c : CU_ERR_UNAUTHENTICATED;
		return -1;
	}
	r->actor.name = r->token.name;
	r->actor.role = r->token.role;
	r->actor.member = NULL;
	r->actor.contract = NULL;
	/* A subcontractor acts under its contract; without one the door refuses it. */
	if (r->token.role == CU_ROLE_SUBCONTRACTOR) {
		c = cu_token_contract(reader, r->token.id, r->contract);
		if (c == CU_OK)
			r->actor.contract = r->contract;
		else if (c != CU_ERR_NOT_FOUND) {
			*rc = c;
			return -1;
		}
	}
	r->auth = CU_AUTH_TOKEN;
	return 0;
}

int cu_http_auth_session(cu_request *r, const char *sid, cu_result *rc)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_session_info info;
	cu_result c;

	if (!reader) {
		*rc = CU_ERR_STORE;
		return -1;
	}
	if (strlen(sid) > CU_HTTP_SESSION_ID_MAX) {
		*rc = CU_ERR_UNAUTHENTICATED;
		return -1;
	}
	c = cu_session_check(reader, sid, cu_now_us(), &info);
	if (c != CU_OK) {
		*rc = c;
		return -1;
	}
	memcpy(r->member, info.member, sizeof(r->member));
	r->session = info;
	r->actor.name = r->member;
	r->actor.role = CU_ROLE_MEMBER;
	r->actor.member = r->member;
	r->auth = CU_AUTH_SESSION;
	return 0;
}

/*
 * Fills r->actor from a bearer token or a session cookie.  Returns 0, or an
 * error already replied (-1 with *reply set).
 */
int cu_http_authenticate(cu_request *r, bool public_ok, enum MHD_Result *reply)
{
	const char *auth = cu_http_header_value(r, "Authorization");
	const char *sid = cookie(r, CU_SESSION_COOKIE);
	cu_result rc;

	if (!cu_http_reader(r->srv)) {
		*reply = cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
		return -1;
	}
	if (auth) {
		if (strncasecmp(auth, "Bearer ", strlen("Bearer ")) != 0 ||
		    strlen(auth) > CU_HTTP_AUTHORIZATION_MAX) {
			*reply =
			    cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
			                        "expected 'Authorization: Bearer TOKEN'", NULL);
			return -1;
		}
		if (cu_http_auth_token(r, auth + strlen("Bearer "), &rc)) {
			*reply = rc == CU_ERR_UNAUTHENTICATED
			             ? cu_http_reply_error(r, rc, "the token is not valid", NULL)
			             : cu_http_reply_error(r, rc, NULL, NULL);
			return -1;
		}
		return 0;
	}
	if (sid) {
		if (cu_http_auth_session(r, sid, &rc)) {
			/*
			 * A store that cannot say whether the session stands is the
			 * server's failure (503): not "log in again", not anonymous.
			 */
			if (rc == CU_ERR_STORE || rc == CU_ERR_NOMEM) {
				*reply = cu_http_reply_error(r, rc, NULL, NULL);
				return -1;
			}
			/* A stale cookie does not stop what anyone may do (sign up, say). */
			if (public_ok) {
				r->auth = CU_AUTH_NONE;
				return 0;
			}
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
			                             "the session has ended; log in again", NULL);
			return -1;
		}
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
