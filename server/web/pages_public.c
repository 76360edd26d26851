/*
 * server/web/pages_public.c — the pages anyone may see: the home page, the
 * static files, and the cookie choice (the banner's form and the
 * preferences page).
 */
#include "web/account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- GET / ------------------------------------------------------------------ */

static enum MHD_Result p_home(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);

	if (!pg)
		return ret;
	return cu_web_render(r, MHD_HTTP_OK, "home", json_object());
}

/* ---- GET /static/{name} --------------------------------------------------------- */

static enum MHD_Result p_static(cu_request *r)
{
	const char *type;
	size_t len;
	const char *data = cu_web_static(r->srv->site, r->params[0], &len, &type);
	char *copy;

	if (!data)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such file", NULL);
	copy = malloc(len + 1);
	if (!copy)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memcpy(copy, data, len);
	copy[len] = '\0';
	return cu_http_reply_text(r, MHD_HTTP_OK, type, copy);
}

/* ---- the cookie choice: GET and POST /cookies ------------------------------------ */

static enum MHD_Result p_cookies(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const char *done;

	if (!pg)
		return ret;
	done = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "done");
	return cu_web_render(r, MHD_HTTP_OK, "cookies",
	                     json_pack("{s:b}", "saved", done && !strcmp(done, "1")));
}

/*
 * Category c as chosen: the banner's buttons (all=accept|reject: necessary
 * cookies stay, since "reject all" means what is not needed) or the
 * preferences page's checkboxes, necessary among them.
 */
static bool chosen(const cu_web_page *pg, int c, const char *name)
{
	const char *all = cu_web_field(pg, "all");
	const char *v = cu_web_field(pg, name);

	if (all)
		return c == CU_COOKIE_NECESSARY || !strcmp(all, "accept");
	return v && !strcmp(v, "on");
}

static enum MHD_Result p_cookies_save(cu_request *r)
{
	static const char *const names[CU_COOKIE_CATEGORIES] = {"necessary", "preferences",
	                                                        "statistics", "advertising"};
	static const char *const cookies[CU_COOKIE_CATEGORIES] = {NULL, CU_LANG_COOKIE, NULL, NULL};
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	char value[CU_COOKIE_CATEGORIES * 2 + 1];
	const char *back;

	if (!pg)
		return ret;
	for (int c = 0; c < CU_COOKIE_CATEGORIES; c++) {
		bool on = chosen(pg, c, names[c]);

		snprintf(value + 2 * c, 3, "%c%c", names[c][0], on ? '1' : '0');
		pg->choice.chosen[c] = on;
		pg->choice.allowed[c] = on && !(pg->choice.gpc && c == CU_COOKIE_ADVERTISING);
	}
	/*
	 * A member's choice is a consent record too (as in force: Sec-GPC's
	 * refusal is recorded), made before any cookie is set: the calls may
	 * wait, and this handler then runs again from the top.
	 */
	if (r->auth == CU_AUTH_SESSION && !cu_account_record_cookies(r, pg->choice.allowed, &ret))
		return ret;
	/* A category refused now: its cookies go. */
	for (int c = 0; c < CU_COOKIE_CATEGORIES; c++)
		if (!pg->choice.chosen[c] && cookies[c])
			cu_web_set_cookie(r, (enum cu_web_category)c, cookies[c], "", 0);
	pg->choice.made = true;
	/* The choice itself is a necessary cookie: kept only if necessary ones are allowed. */
	if (pg->choice.allowed[CU_COOKIE_NECESSARY])
		cu_web_set_cookie(r, CU_COOKIE_NECESSARY, CU_CHOICE_COOKIE, value,
		                  CU_WEB_PREF_MAX_AGE);
	else
		cu_web_set_cookie(r, CU_COOKIE_NECESSARY, CU_CHOICE_COOKIE, "", 0);
	back = cu_web_field(pg, "back");
	/* Back to the page the banner was on: a path of this site only. */
	if (back && back[0] == '/' && back[1] != '/' && back[1] != '\\' &&
	    strlen(back) < CU_WEB_LOCATION_MAX && !strpbrk(back, "\r\n"))
		return cu_web_redirect(r, back);
	return cu_web_redirect(r, "/cookies?done=1");
}

const cu_route cu_pages_public[] = {
    {"GET", "/", "/", p_home, 0, true, true, true},
    {"GET", "/static/{}", "/static/{name}", p_static, 0, true, true, true},
    {"GET", "/cookies", "/cookies", p_cookies, 0, true, true, true},
    {"POST", "/cookies", "/cookies", p_cookies_save, 0, true, true, true},
};

const size_t cu_pages_public_count = sizeof(cu_pages_public) / sizeof(cu_pages_public[0]);
