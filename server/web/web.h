/*
 * server/web/web.h — what the page handlers of server/web/ share (private):
 * a page's life (who may see it, its form, its CSRF token, its language and
 * the visitor's cookie choice), calls to the API's own routes, rendering.
 *
 * A page does nothing the API does not: every read and change is a call
 * to an API route, in-process (cu_web_call), with the page's visitor as
 * the caller — the same handlers, the same door, the same audit.  A page
 * handler looks like this:
 *
 *   static enum MHD_Result p_notices(cu_request *r)
 *   {
 *           enum MHD_Result ret;
 *           cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
 *           const cu_http_capture *c;
 *
 *           if (!pg)
 *                   return ret;
 *           if (!(c = cu_web_call(r, "GET", "/v1/me/notices", NULL, NULL, &ret)))
 *                   return ret;
 *           return cu_web_render(r, MHD_HTTP_OK, "notices",
 *                                json_pack("{s:O}", "notices", c->json));
 *   }
 *
 * A call may wait for the writer: cu_web_call then returns NULL with *ret
 * MHD_YES, the connection is suspended, and when it resumes the page
 * handler runs again from the top.  Calls already made return their kept
 * replies at once, so a handler must make the same calls in the same order
 * each time through (decide from the form and earlier replies only), and
 * must not change anything outside the page before its last call.
 *
 * Forms: every POST page receives application/x-www-form-urlencoded with a
 * field "csrf"; cu_web_begin refuses the POST (403 page) unless it holds the
 * page's token, so a handler never sees an unchecked form.  The token is
 * the session's (domain/sessions.h) for a member, one derived from the
 * console cookie for staff, and a signed, expiring one for a visitor
 * without either (sign-up, log-in): no cookie is needed to send a form.
 *
 * Cookies (the policy's cookie clause): cu_web_set_cookie sets a cookie
 * only when its category is allowed by the visitor's choice.  The choice
 * lives in the cookie cu_cookies ("n1p0s1a0": necessary, preferences,
 * statistics, advertising) and, for a member, in a consent record too.
 * Sec-GPC: 1 refuses advertising whatever the cookie says, and statistics
 * unless the visitor chose them.  No choice yet: only what is necessary
 * (and only when a visitor logs in), and the page shows the banner.
 *
 * Language: ?lang=en|ja, else the cu_lang preference cookie, else
 * Accept-Language, else English.
 */
#ifndef CU_WEB_H
#define CU_WEB_H

#include "http/http.h"
#include "web/site.h"

#define CU_WEB_CALLS_MAX     8          /* API calls one page makes */
#define CU_WEB_TEXT_KEY_MAX  96         /* a message key composed of a prefix and an API word */
#define CU_WEB_CSRF_LEN      43         /* a form's token, base64url (as a session's) */
#define CU_WEB_FIELDS_MAX    200        /* fields in one form */
#define CU_WEB_COOKIE_MAX    256        /* a Set-Cookie value we compose */
#define CU_WEB_LOCATION_MAX  256        /* a redirect's path */
#define CU_WEB_ANON_CSRF_TTL (2 * 3600) /* seconds a visitor's form token lasts */
#define CU_WEB_PREF_MAX_AGE  (365 * 24 * 3600) /* seconds a choice or preference lasts */

#define CU_CONSOLE_COOKIE "cu_console" /* the console's session: a staff token's secret */
#define CU_CHOICE_COOKIE  "cu_cookies" /* the cookie choice itself */
#define CU_LANG_COOKIE    "cu_lang"    /* the language, a preference */

/* Who a page is for. */
enum cu_web_who {
	CU_WEB_ANYONE, /* public; a logged-in member is recognised */
	CU_WEB_MEMBER, /* a member's session, or a redirect to /login */
	CU_WEB_STAFF,  /* a console session (any staff role), or a redirect to /console/login */
};

/* Cookie categories (cu_web_choice.allowed bits). */
enum cu_web_category {
	CU_COOKIE_NECESSARY,
	CU_COOKIE_PREFERENCES,
	CU_COOKIE_STATISTICS,
	CU_COOKIE_ADVERTISING,
	CU_COOKIE_CATEGORIES
};

typedef struct cu_web_choice {
	bool made;                          /* the visitor has chosen (the banner is not shown) */
	bool allowed[CU_COOKIE_CATEGORIES]; /* after Sec-GPC */
	bool chosen[CU_COOKIE_CATEGORIES];  /* as the visitor chose */
	bool gpc;                           /* Sec-GPC: 1 was sent */
} cu_web_choice;

typedef struct cu_web_page {
	enum cu_web_who who;
	int route; /* the page's own route */
	char params[2][CU_HTTP_PARAM_MAX];
	json_t *form; /* a POST's fields: name -> string, or an array when repeated */
	int lang;     /* index into CU_WEB_LANG_LIST */
	bool lang_asked;
	cu_web_choice choice;
	char csrf[CU_WEB_CSRF_LEN + 1]; /* the token this visitor's forms carry */
	char *outer_body;               /* the form as sent (wiped at the end) */
	size_t outer_len;
	char *call_body; /* the running call's JSON body (wiped) */
	int cursor, ndone;
	bool active;      /* calls[ndone] is running (waiting) */
	int active_route; /* its route */
	int keep_headers; /* r->nextra when it started: later headers are its own */
	cu_http_capture calls[CU_WEB_CALLS_MAX];
} cu_web_page;

/*
 * Starts (or, after a wait, resumes) a page for who.  Returns the page, or
 * NULL with the reply already queued in *ret: a redirect to the log-in
 * page, a 403 page for a form without its token, a 400 page for a form
 * that does not parse.
 */
cu_web_page *cu_web_begin(cu_request *r, enum cu_web_who who, enum MHD_Result *ret);

/*
 * Calls the API route for method and path (query: an object of strings, or
 * NULL; body: a JSON object for POST/PUT/PATCH, or NULL — both are stolen)
 * as the page's visitor.  Returns the kept reply (status, json or text),
 * or NULL with *ret to return: MHD_YES while the call waits (the handler
 * runs again), or a reply already queued when it could not be made.
 * Headers the route sets are dropped, except Set-Cookie.
 */
const cu_http_capture *cu_web_call(cu_request *r, const char *method, const char *path,
                                   json_t *query, json_t *body, enum MHD_Result *ret);

/*
 * Renders templates _head, name and _foot over model (stolen) and replies
 * with status.  The model gains: t (the messages of the page's language),
 * lang, langs, csrf, cookies (the choice: made, preferences, statistics,
 * advertising, gpc), banner (no choice yet), path, and viewer (member: true
 * and id; staff: role and name; or nothing).
 */
enum MHD_Result cu_web_render(cu_request *r, int status, const char *name, json_t *model);
/* The error page for rc (status from the result table) with message key msg of the locale. */
enum MHD_Result cu_web_error(cu_request *r, cu_result rc, const char *msg);
/* The 404 page for a path outside /v1/ that no route has (srv->page_not_found). */
enum MHD_Result cu_web_not_found(cu_request *r);
/* 303 to location (a path of this site). */
enum MHD_Result cu_web_redirect(cu_request *r, const char *location);

/* A query parameter of the page's own URL (?done=saved), or NULL. */
const char *cu_web_param(cu_request *r, const char *name);
/*
 * The field errors of a call's 4xx reply as an object: field name ->
 * message in the page's language (message key "err_" + the API's reason,
 * e.g. err_required; the reason itself when the locale has no message).
 * An empty object when the reply has none; NULL when out of memory.
 */
json_t *cu_web_field_errors(cu_request *r, const cu_http_capture *c);
/* A form field's value (the first when repeated), or NULL. */
const char *cu_web_field(const cu_web_page *pg, const char *name);
/* The message key of the page's language (the key itself when missing). */
const char *cu_web_text(cu_request *r, const char *key);
/* The message prefix + word (an API's word, e.g. an error code) in the page's language, or
 * fallback when the locale has none (word NULL is ""). */
const char *cu_web_text_or(cu_request *r, const char *prefix, const char *word,
                           const char *fallback);
/*
 * An API refusal as a page shows it: {code, message, detail, status} — message the
 * locale's words for prefix + code when it has them, else the API's message; detail
 * the API's own message (absent when it gave none).  NULL when out of memory.
 */
json_t *cu_web_refusal(cu_request *r, const cu_http_capture *c, const char *prefix);

/*
 * Sets cookie name=value (Path=/, HttpOnly unless script is true, SameSite=Lax;
 * Max-Age when max_age > 0, 0 deletes) if its category is allowed.  Returns
 * whether it was set.  Values are the server's own: random tokens and choices.
 */
bool cu_web_set_cookie(cu_request *r, enum cu_web_category cat, const char *name, const char *value,
                       long max_age);

/*
 * Sets the console's session cookie cu_console to secret (a staff token's
 * secret), or clears it (secret NULL): Path=/console, HttpOnly,
 * SameSite=Strict and no Max-Age, so it is sent to the console only, never
 * from another site's link, and ends with the browser.  A necessary cookie:
 * refused (false) when the visitor refused necessary cookies; clearing is
 * always allowed.
 */
bool cu_web_set_console_cookie(cu_request *r, const char *secret);

/*
 * The page tables, one per file of pages, listed in routes/table.c after
 * the API's.  A page route: {"GET", "/path", "/path", handler, 0, true,
 * true, true} — anyone may reach it (the page decides with cu_web_begin),
 * it authenticates itself, and it is a page (not in OpenAPI).
 */
#define CU_PAGE_TABLE(name)                                                                        \
	extern const cu_route cu_pages_##name[];                                                   \
	extern const size_t cu_pages_##name##_count
CU_PAGE_TABLE(public);
CU_PAGE_TABLE(account);
CU_PAGE_TABLE(officer);
CU_PAGE_TABLE(me);
CU_PAGE_TABLE(console);
CU_PAGE_TABLE(console_admin);
CU_PAGE_TABLE(casework);
CU_PAGE_TABLE(policy);
CU_PAGE_TABLE(statistics);

/* The pure parts, exposed for unit tests and fuzzing (page.c). */
/* Parses a urlencoded form; NULL when malformed (bad %XX, invalid UTF-8, too many fields). */
json_t *cu_web_form_parse(const char *body, size_t len);
/* Parses a cu_cookies value and the Sec-GPC header into *out. */
void cu_web_choice_parse(const char *cookie, const char *gpc, cu_web_choice *out);
/* The language index for an Accept-Language header (0, English, by default). */
int cu_web_lang_accept(const char *accept);

#endif
