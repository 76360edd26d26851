/*
 * server/web/pages_account.c — a member's account in the portal: log in,
 * log out, and the member's own page.
 */
#include "web/web.h"

#include <string.h>

/* ---- GET and POST /login ------------------------------------------------------------ */

static enum MHD_Result login_form(cu_request *r, int status, const char *email, const char *error)
{
	cu_web_page *pg = r->web;

	return cu_web_render(r, status, "login",
	                     json_pack("{s:s?,s:s?,s:b,s:b}", "email", email, "error",
	                               error ? cu_web_text(r, error) : NULL, "necessary_refused",
	                               !pg->choice.allowed[CU_COOKIE_NECESSARY], "remember",
	                               cu_web_field(pg, "remember") != NULL));
}

static enum MHD_Result p_login(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);

	if (!pg)
		return ret;
	if (r->auth == CU_AUTH_SESSION)
		return cu_web_redirect(r, "/me");
	return login_form(r, MHD_HTTP_OK, NULL, NULL);
}

static enum MHD_Result p_login_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const cu_http_capture *c;
	const char *email, *password;

	if (!pg)
		return ret;
	email = cu_web_field(pg, "email");
	password = cu_web_field(pg, "password");
	/* The session is a necessary cookie: refused, there is no logging in. */
	if (!pg->choice.allowed[CU_COOKIE_NECESSARY])
		return login_form(r, MHD_HTTP_FORBIDDEN, email, "login_needs_cookie");
	if (!email || !*email || !password || !*password)
		return login_form(r, MHD_HTTP_BAD_REQUEST, email, "login_missing");
	c = cu_web_call(r, "POST", "/v1/session", NULL,
	                json_pack("{s:s,s:s,s:b}", "email", email, "password", password, "remember",
	                          cu_web_field(pg, "remember") != NULL),
	                &ret);
	if (!c)
		return ret;
	if (c->status == MHD_HTTP_TOO_MANY_REQUESTS)
		return login_form(r, c->status, email, "login_rate_limited");
	if (c->status != MHD_HTTP_OK)
		return login_form(r, MHD_HTTP_UNAUTHORIZED, email, "login_failed");
	return cu_web_redirect(r, "/me");
}

/* ---- POST /logout -------------------------------------------------------------------- */

static enum MHD_Result p_logout(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *c;

	if (!pg)
		return ret;
	if (!(c = cu_web_call(r, "DELETE", "/v1/session", NULL, NULL, &ret)))
		return ret;
	return cu_web_redirect(r, "/");
}

/* ---- GET /me ------------------------------------------------------------------------- */

static enum MHD_Result p_me(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *me;

	if (!pg)
		return ret;
	if (!(me = cu_web_call(r, "GET", "/v1/me", NULL, NULL, &ret)))
		return ret;
	if (me->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	return cu_web_render(r, MHD_HTTP_OK, "me", json_pack("{s:O}", "me", me->json));
}

const cu_route cu_pages_account[] = {
    {"GET", "/login", "/login", p_login, 0, true, true, true},
    {"POST", "/login", "/login", p_login_post, 0, true, true, true},
    {"POST", "/logout", "/logout", p_logout, 0, true, true, true},
    {"GET", "/me", "/me", p_me, 0, true, true, true},
};

const size_t cu_pages_account_count = sizeof(cu_pages_account) / sizeof(cu_pages_account[0]);
