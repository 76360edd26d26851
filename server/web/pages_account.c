/*
 * server/web/pages_account.c — a member's account in the portal: sign up,
 * log in, log out, and the member's own page (the dashboard).  The pages
 * of the member's data, consents and export are in pages_me.c.
 */
#include "web/account.h"

#include <string.h>

/* ---- GET and POST /signup ------------------------------------------------------------ */

/*
 * The sign-up form: every field of the policy in force, the password, and
 * the survey apart (optional; which services need which answers).  values:
 * the form as sent (kept on an error, except the password); errors: field
 * -> message; alert: a message for the whole form (a key), or NULL.
 */
static enum MHD_Result signup_form(cu_request *r, int status, const json_t *policy,
                                   const json_t *values, const json_t *errors, const char *alert)
{
	cu_web_page *pg = r->web;
	const char *pw_error = json_string_value(json_object_get(errors, "password"));
	json_t *form = cu_account_form(r, policy, values, errors);

	if (!form)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	json_object_set_new(form, "necessary_refused",
	                    json_boolean(!pg->choice.allowed[CU_COOKIE_NECESSARY]));
	if (alert)
		json_object_set_new(form, "alert", json_string(cu_web_text(r, alert)));
	if (pw_error)
		json_object_set_new(form, "password_error", json_string(pw_error));
	if (errors && json_object_size(errors) && !alert)
		json_object_set_new(form, "alert", json_string(cu_web_text(r, "err_form")));
	json_object_set_new(form, "title", json_string(cu_web_text(r, "acc_signup_title")));
	return cu_web_render(r, status, "acc_signup", form);
}

static enum MHD_Result p_signup(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const cu_http_capture *policy;

	if (!pg)
		return ret;
	if (r->auth == CU_AUTH_SESSION)
		return cu_web_redirect(r, "/me");
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	return signup_form(r, MHD_HTTP_OK, policy->json, NULL, NULL, NULL);
}

/*
 * The body of POST /v1/members from the form: each field of the policy the
 * form filled in (a blank one is not answered), and the password.
 */
static json_t *signup_body(const cu_web_page *pg, const json_t *policy)
{
	json_t *body = json_object(), *f;
	const char *password = cu_web_field(pg, "password");
	size_t i;

	if (!body)
		return NULL;
	json_array_foreach(json_object_get(policy, "fields"), i, f)
	{
		const char *name = json_string_value(json_object_get(f, "name"));
		const char *v = name ? cu_web_field(pg, name) : NULL;

		if (v && *v)
			json_object_set_new(body, name, json_string(v));
	}
	json_object_set_new(body, "password", json_string(password ? password : ""));
	return body;
}

/* The form's values to show again: every field but the password and the token. */
static json_t *kept_values(const cu_web_page *pg)
{
	json_t *kept = json_deep_copy(pg->form);

	json_object_del(kept, "password");
	json_object_del(kept, "csrf");
	return kept;
}

static enum MHD_Result p_signup_post(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_ANYONE, &ret);
	const cu_http_capture *policy, *created, *session;
	json_t *kept, *errors;
	const char *email;

	if (!pg)
		return ret;
	/* Already a member, and logged in: nothing to sign up for. */
	if (r->auth == CU_AUTH_SESSION)
		return cu_web_redirect(r, "/me");
	if (!(policy = cu_web_call(r, "GET", "/v1/policy", NULL, NULL, &ret)))
		return ret;
	if (policy->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	/* Logging in after signing up needs the session cookie: refused, no account is made. */
	if (!pg->choice.allowed[CU_COOKIE_NECESSARY]) {
		kept = kept_values(pg);
		ret = signup_form(r, MHD_HTTP_FORBIDDEN, policy->json, kept, NULL,
		                  "acc_signup_needs_cookie");
		cu_http_json_wipe(kept);
		json_decref(kept);
		return ret;
	}
	if (!(created =
	          cu_web_call(r, "POST", "/v1/members", NULL, signup_body(pg, policy->json), &ret)))
		return ret;
	if (created->status != MHD_HTTP_CREATED) {
		int status = created->status;

		errors = cu_account_errors(r, created);
		kept = kept_values(pg);
		if (status == MHD_HTTP_TOO_MANY_REQUESTS)
			ret = signup_form(r, status, policy->json, kept, errors,
			                  "acc_signup_rate_limited");
		else if (json_object_size(errors))
			ret = signup_form(r, cu_result_http(CU_ERR_INVALID_FIELD), policy->json,
			                  kept, errors, NULL);
		else if (status >= MHD_HTTP_INTERNAL_SERVER_ERROR)
			/* The store failed, not the visitor: "try again", the form kept. */
			ret =
			    signup_form(r, status, policy->json, kept, errors, "error_unavailable");
		else
			ret = signup_form(
			    r, status >= 400 && status < 500 ? status : MHD_HTTP_BAD_REQUEST,
			    policy->json, kept, errors, "acc_signup_failed");
		cu_http_json_wipe(kept);
		json_decref(kept);
		json_decref(errors);
		return ret;
	}
	email = cu_web_field(pg, "email");
	if (!(session = cu_web_call(r, "POST", "/v1/session", NULL,
	                            json_pack("{s:s,s:s}", "email", email ? email : "", "password",
	                                      cu_web_field(pg, "password")),
	                            &ret)))
		return ret;
	/* Signed up but not logged in (the log-in limit, say): the log-in page says what to do. */
	if (session->status != MHD_HTTP_OK)
		return cu_web_redirect(r, "/login?done=signed_up");
	return cu_web_redirect(r, "/me?done=welcome");
}

/* ---- GET and POST /login ------------------------------------------------------------ */

static enum MHD_Result login_form(cu_request *r, int status, const char *email, const char *error)
{
	cu_web_page *pg = r->web;
	const char *done = cu_web_param(r, "done");

	return cu_web_render(r, status, "login",
	                     json_pack("{s:s?,s:s?,s:b,s:b,s:b,s:s}", "email", email, "error",
	                               error ? cu_web_text(r, error) : NULL, "necessary_refused",
	                               !pg->choice.allowed[CU_COOKIE_NECESSARY], "remember",
	                               cu_web_field(pg, "remember") != NULL, "signed_up",
	                               done && !strcmp(done, "signed_up"), "title",
	                               cu_web_text(r, "login_title")));
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

/* The member's pages, as the dashboard's cards: path, title key, text key. */
static const char *const cards[][3] = {
    {"/me/data", "nav_my_data", "me_card_data"},
    {"/me/consents", "nav_consents", "me_card_consents"},
    {"/me/requests", "nav_requests", "me_card_requests"},
    {"/me/complaints", "nav_complaints", "me_card_complaints"},
    {"/me/diary", "nav_diary", "me_card_diary"},
    {"/me/notices", "nav_notices", "me_card_notices"},
    {"/me/access-log", "nav_access_log", "me_card_access_log"},
    {"/me/export", "nav_export", "me_card_export"},
};

static enum MHD_Result p_me(cu_request *r)
{
	enum MHD_Result ret;
	cu_web_page *pg = cu_web_begin(r, CU_WEB_MEMBER, &ret);
	const cu_http_capture *me, *changes;
	const char *done, *from, *to;
	json_t *list, *model;

	if (!pg)
		return ret;
	if (!(me = cu_web_call(r, "GET", "/v1/me", NULL, NULL, &ret)))
		return ret;
	if (!(changes = cu_web_call(r, "GET", "/v1/me/policy/changes", NULL, NULL, &ret)))
		return ret;
	if (me->status != MHD_HTTP_OK)
		return cu_web_error(r, CU_ERR_STORE, "error_unavailable");
	list = json_array();
	for (size_t i = 0; i < sizeof(cards) / sizeof(cards[0]); i++)
		json_array_append_new(list, json_pack("{s:s,s:s,s:s}", "href", cards[i][0], "title",
		                                      cu_web_text(r, cards[i][1]), "text",
		                                      cu_web_text(r, cards[i][2])));
	/* The name is the server's (GET /v1/me), never a cookie's. */
	model = json_pack("{s:O?,s:o,s:s}", "name",
	                  json_object_get(json_object_get(me->json, "fields"), "name"), "cards",
	                  list, "title", cu_web_text(r, "nav_my_page"));
	if (!model)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	from = json_string_value(json_object_get(changes->json, "from"));
	to = json_string_value(json_object_get(changes->json, "to"));
	if (changes->status == MHD_HTTP_OK && from && to && strcmp(from, to))
		json_object_set_new(model, "policy_pending",
		                    json_pack("{s:s,s:s}", "from", from, "to", to));
	done = cu_web_param(r, "done");
	if (done && !strcmp(done, "welcome"))
		json_object_set_new(model, "welcome", json_true());
	return cu_web_render(r, MHD_HTTP_OK, "me", model);
}

const cu_route cu_pages_account[] = {
    {"GET", "/signup", "/signup", p_signup, 0, true, true, true},
    {"POST", "/signup", "/signup", p_signup_post, 0, true, true, true},
    {"GET", "/login", "/login", p_login, 0, true, true, true},
    {"POST", "/login", "/login", p_login_post, 0, true, true, true},
    {"POST", "/logout", "/logout", p_logout, 0, true, true, true},
    {"GET", "/me", "/me", p_me, 0, true, true, true},
};

const size_t cu_pages_account_count = sizeof(cu_pages_account) / sizeof(cu_pages_account[0]);
