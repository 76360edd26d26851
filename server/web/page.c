/*
 * server/web/page.c — a page's life: who may see it, its form and CSRF
 * token, its language, the visitor's cookie choice, rendering (rules in
 * web/web.h).  The calls to API routes are in call.c.
 */
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/text.h"

#define FORM_TYPE     "application/x-www-form-urlencoded"
#define FORM_TYPE_LEN (sizeof(FORM_TYPE) - 1)
#define CHOICE_LEN    8  /* "n1p0s1a0" */
#define LANG_TAG_MAX  16 /* a language tag of Accept-Language we look at */

_Static_assert(CU_WEB_CSRF_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(CU_VAULT_MACBYTES,
                                             sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "a form token is the base64url of one MAC");

/* ---- form tokens ------------------------------------------------------------ */

/*
 * Tokens of forms without a session are MACs under the vault's MAC subkey
 * (cu_vault_mac): every server with the same master keys makes and checks
 * the same token, so a form survives a restart and may be sent to another
 * server behind the load balancer, and nothing about a visitor is kept to
 * check it.  A failed MAC leaves out empty, which matches nothing.
 */
static void mac_token(const cu_request *r, const char *label, const void *data, size_t len,
                      char out[CU_WEB_CSRF_LEN + 1])
{
	unsigned char mac[CU_VAULT_MACBYTES];

	out[0] = '\0';
	if (cu_vault_mac(r->srv->ctx->vault, label, data, len, mac) == CU_OK)
		sodium_bin2base64(out, CU_WEB_CSRF_LEN + 1, mac, sizeof(mac),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(mac, sizeof(mac));
}

/* A visitor's token for the current hour (hours_ago 0) or the one before. */
static void anon_token(const cu_request *r, int hours_ago, char out[CU_WEB_CSRF_LEN + 1])
{
	unsigned char hour[8];
	uint64_t h = (uint64_t)time(NULL) / 3600 - (uint64_t)hours_ago;

	for (int i = 0; i < 8; i++)
		hour[i] = (unsigned char)(h >> (8 * i));
	mac_token(r, "cu-form-anon-v2", hour, sizeof(hour), out);
}

static void console_token(const cu_request *r, const char *secret, char out[CU_WEB_CSRF_LEN + 1])
{
	mac_token(r, "cu-form-console-v2", secret, strlen(secret), out);
}

static bool same_token(const char *a, const char *b)
{
	return a && strlen(a) == CU_WEB_CSRF_LEN && strlen(b) == CU_WEB_CSRF_LEN &&
	       sodium_memcmp(a, b, CU_WEB_CSRF_LEN) == 0;
}

/* ---- pure parsers ---------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes n bytes of s (+ is a space, %XX a byte) into a new string; NULL when malformed. */
static char *form_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1);
	size_t o = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			out[o++] = ' ';
		} else if (s[i] == '%') {
			int hi, lo;

			if (i + 2 >= n) {
				sodium_memzero(out, n + 1);
				free(out);
				return NULL;
			}
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0) {
				sodium_memzero(out, n + 1);
				free(out);
				return NULL;
			}
			out[o++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
	/* A NUL or invalid UTF-8 in a field is refused; line breaks and tabs are text. */
	if (strlen(out) != o || cu_text_check(out, o, "\n\r\t")) {
		sodium_memzero(out, n + 1);
		free(out);
		return NULL;
	}
	return out;
}

json_t *cu_web_form_parse(const char *body, size_t len)
{
	json_t *form = json_object();
	size_t i = 0, fields = 0;

	if (!form)
		return NULL;
	while (i < len) {
		size_t end = i, eq;
		char *key = NULL, *val = NULL;
		json_t *old, *v;

		while (end < len && body[end] != '&')
			end++;
		for (eq = i; eq < end && body[eq] != '='; eq++)
			;
		if (end > i) {
			if (++fields > CU_WEB_FIELDS_MAX)
				goto bad;
			key = form_decode(body + i, eq - i);
			val = eq < end ? form_decode(body + eq + 1, end - eq - 1)
			               : form_decode("", 0);
			if (!key || !val || !*key) {
				if (val)
					sodium_memzero(val, strlen(val));
				free(key);
				free(val);
				goto bad;
			}
			v = json_string(val);
			sodium_memzero(val, strlen(val));
			free(val);
			if (!v) {
				free(key);
				goto bad;
			}
			old = json_object_get(form, key);
			if (!old) {
				json_object_set_new(form, key, v);
			} else if (json_is_array(old)) {
				json_array_append_new(old, v);
			} else {
				json_t *a = json_pack("[O,o]", old, v);

				if (!a) {
					free(key);
					goto bad;
				}
				json_object_set_new(form, key, a);
			}
			free(key);
		}
		i = end + 1;
	}
	return form;
bad:
	cu_http_json_wipe(form);
	json_decref(form);
	return NULL;
}

void cu_web_choice_parse(const char *cookie, const char *gpc, cu_web_choice *out)
{
	static const char letters[CU_COOKIE_CATEGORIES] = {'n', 'p', 's', 'a'};

	memset(out, 0, sizeof(*out));
	out->gpc = gpc && !strcmp(gpc, "1");
	if (cookie && strlen(cookie) == CHOICE_LEN) {
		bool ok = true;

		for (int c = 0; c < CU_COOKIE_CATEGORIES; c++) {
			ok &= cookie[2 * c] == letters[c] &&
			      (cookie[2 * c + 1] == '0' || cookie[2 * c + 1] == '1');
			out->chosen[c] = cookie[2 * c + 1] == '1';
		}
		out->made = ok;
		if (!ok)
			memset(out->chosen, 0, sizeof(out->chosen));
	}
	/* Nothing chosen: only what is necessary, and that only when a visitor logs in. */
	if (!out->made)
		out->chosen[CU_COOKIE_NECESSARY] = true;
	memcpy(out->allowed, out->chosen, sizeof(out->allowed));
	/* Global Privacy Control refuses advertising, and statistics unless chosen. */
	if (out->gpc) {
		out->allowed[CU_COOKIE_ADVERTISING] = false;
		if (!out->made)
			out->allowed[CU_COOKIE_STATISTICS] = false;
	}
}

int cu_web_lang_accept(const char *accept)
{
	static const char *const langs[CU_WEB_LANGS] = CU_WEB_LANG_LIST;
	double best_q = 0;
	int best = 0;

	while (accept && *accept) {
		char tag[LANG_TAG_MAX];
		size_t n = strcspn(accept, ",;");
		double q = 1.0;
		const char *end = accept + strcspn(accept, ",");

		while (n && accept[n - 1] == ' ')
			n--;
		while (*accept == ' ' && n) {
			accept++;
			n--;
		}
		snprintf(tag, sizeof(tag), "%.*s", (int)(n < LANG_TAG_MAX ? n : 0), accept);
		{
			const char *qp = strstr(accept, ";q=");

			if (qp && qp < end)
				q = strtod(qp + 3, NULL);
		}
		for (int l = 0; l < CU_WEB_LANGS; l++) {
			size_t ln = strlen(langs[l]);

			if (!strncasecmp(tag, langs[l], ln) &&
			    (tag[ln] == '\0' || tag[ln] == '-') && q > best_q) {
				best_q = q;
				best = l;
			}
		}
		accept = *end ? end + 1 : end;
	}
	return best;
}

/* ---- a page ------------------------------------------------------------------ */

static const char *cookie_value(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static void page_cleanup(cu_request *r)
{
	cu_web_page *pg = r->web;

	if (!pg)
		return;
	for (int i = 0; i < CU_WEB_CALLS_MAX; i++)
		cu_http_capture_release(&pg->calls[i]);
	if (pg->form) {
		cu_http_json_wipe(pg->form);
		json_decref(pg->form);
	}
	if (pg->call_body) {
		sodium_memzero(pg->call_body, strlen(pg->call_body));
		free(pg->call_body);
	}
	if (pg->outer_body)
		sodium_memzero(pg->outer_body, pg->outer_len);
	sodium_memzero(pg, sizeof(*pg));
	free(pg);
	r->web = NULL;
}

static int pick_lang(cu_request *r, cu_web_page *pg)
{
	static const char *const langs[CU_WEB_LANGS] = CU_WEB_LANG_LIST;
	const char *q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "lang");
	const char *c = cookie_value(r, CU_LANG_COOKIE);

	for (int l = 0; l < CU_WEB_LANGS; l++)
		if (q && !strcmp(q, langs[l])) {
			pg->lang_asked = true;
			return l;
		}
	if (c && pg->choice.allowed[CU_COOKIE_PREFERENCES])
		for (int l = 0; l < CU_WEB_LANGS; l++)
			if (!strcmp(c, langs[l]))
				return l;
	return cu_web_lang_accept(cu_http_header_value(r, "Accept-Language"));
}

/* A store that could not say who the visitor is: the server's failure, not "log in". */
static bool store_failed(cu_result rc)
{
	return rc == CU_ERR_STORE || rc == CU_ERR_NOMEM;
}

/*
 * Who the visitor is, for pg->who; false when the page needs someone else,
 * with *failed set when the store could not tell (the page is then 503, not
 * a redirect to the login form).
 */
static bool identify(cu_request *r, cu_web_page *pg, cu_result *failed)
{
	const char *sid = cookie_value(r, CU_SESSION_COOKIE);
	const char *console = cookie_value(r, CU_CONSOLE_COOKIE);
	cu_result rc = CU_OK;

	*failed = CU_OK;
	if (pg->who == CU_WEB_STAFF) {
		if (!console || cu_http_auth_token(r, console, &rc)) {
			if (console && store_failed(rc))
				*failed = rc;
			return false;
		}
		console_token(r, console, pg->csrf);
		return true;
	}
	if (sid && cu_http_auth_session(r, sid, &rc) == 0) {
		if (cu_session_csrf_token(sid, pg->csrf) != CU_OK)
			return false;
		return true;
	}
	if (sid && store_failed(rc)) {
		*failed = rc;
		return false;
	}
	r->auth = CU_AUTH_NONE;
	anon_token(r, 0, pg->csrf);
	return pg->who == CU_WEB_ANYONE;
}

static bool csrf_ok(cu_request *r, cu_web_page *pg)
{
	const char *sent = cu_web_field(pg, "csrf");
	char prev[CU_WEB_CSRF_LEN + 1];
	bool ok;

	if (!sent)
		return false;
	if (r->auth == CU_AUTH_SESSION)
		return cu_session_csrf_ok(&r->session, sent) == CU_OK;
	if (same_token(sent, pg->csrf))
		return true;
	if (r->auth == CU_AUTH_TOKEN)
		return false;
	anon_token(r, 1, prev);
	ok = same_token(sent, prev);
	sodium_memzero(prev, sizeof(prev));
	return ok;
}

/*
 * Whether a POST came from this site's own pages, as far as the browser
 * says: Sec-Fetch-Site same-origin (or none: typed by the user), and an
 * Origin naming this host.  A visitor's form token is not bound to the
 * visitor (sending a form needs no cookie), so this is what stops another
 * site's page from posting a token it fetched (a log-in CSRF).  Clients
 * that send neither header are not browsers and are let through.
 */
static bool same_origin(cu_request *r)
{
	const char *site = cu_http_header_value(r, "Sec-Fetch-Site");
	const char *origin = cu_http_header_value(r, "Origin");
	const char *host = cu_http_header_value(r, "Host");
	const char *rest;

	if (site && strcmp(site, "same-origin") && strcmp(site, "none"))
		return false;
	if (!origin)
		return true;
	if (!host)
		return false;
	if (!strncmp(origin, "http://", strlen("http://")))
		rest = origin + strlen("http://");
	else if (!strncmp(origin, "https://", strlen("https://")))
		rest = origin + strlen("https://");
	else
		return false;
	return !strcmp(rest, host);
}

cu_web_page *cu_web_begin(cu_request *r, enum cu_web_who who, enum MHD_Result *ret)
{
	cu_web_page *pg = r->web;
	cu_result failed;

	*ret = MHD_YES;
	if (pg) {
		/* Resumed after a call waited: the calls made replay their replies. */
		pg->cursor = 0;
		return pg;
	}
	pg = calloc(1, sizeof(*pg));
	if (!pg) {
		*ret = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	r->web = pg;
	r->web_cleanup = page_cleanup;
	pg->who = who;
	pg->route = r->route;
	memcpy(pg->params, r->params, sizeof(pg->params));
	pg->outer_body = r->body;
	pg->outer_len = r->body_len;
	cu_web_choice_parse(cookie_value(r, CU_CHOICE_COOKIE), cu_http_header_value(r, "Sec-GPC"),
	                    &pg->choice);
	pg->lang = pick_lang(r, pg);
	if (pg->lang_asked) {
		static const char *const langs[CU_WEB_LANGS] = CU_WEB_LANG_LIST;

		/* Remembered only as a preference, and only when preferences are allowed. */
		cu_web_set_cookie(r, CU_COOKIE_PREFERENCES, CU_LANG_COOKIE, langs[pg->lang],
		                  CU_WEB_PREF_MAX_AGE);
	}
	if (!identify(r, pg, &failed)) {
		*ret = failed
		           ? cu_web_error(r, failed, "error_unavailable")
		           : cu_web_redirect(r, who == CU_WEB_STAFF ? "/console/login" : "/login");
		return NULL;
	}
	if (!strcmp(r->method, "POST")) {
		const char *type = cu_http_header_value(r, "Content-Type");

		if (r->body_too_large) {
			*ret = cu_web_error(r, CU_ERR_TOO_LARGE, "error_too_large");
			return NULL;
		}
		if (!type || strncasecmp(type, FORM_TYPE, FORM_TYPE_LEN) != 0) {
			*ret = cu_web_error(r, CU_ERR_UNSUPPORTED_MEDIA, "error_form_type");
			return NULL;
		}
		pg->form = cu_web_form_parse(r->body ? r->body : "", r->body_len);
		if (!pg->form) {
			*ret = cu_web_error(r, CU_ERR_INVALID_ARGUMENT, "error_form_malformed");
			return NULL;
		}
		if (!same_origin(r) || !csrf_ok(r, pg)) {
			*ret = cu_web_error(r, CU_ERR_CSRF_REQUIRED, "error_csrf");
			return NULL;
		}
	}
	return pg;
}

const char *cu_web_param(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

json_t *cu_web_field_errors(cu_request *r, const cu_http_capture *c)
{
	json_t *out = json_object(), *fields, *v;
	const char *name;

	fields = json_object_get(json_object_get(c->json, "error"), "fields");
	json_object_foreach(fields, name, v)
	{
		char key[CU_WEB_NAME_MAX];
		const char *reason = json_string_value(v);

		if (!reason)
			continue;
		snprintf(key, sizeof(key), "err_%s", reason);
		json_object_set_new(out, name, json_string(cu_web_text(r, key)));
	}
	return out;
}

const char *cu_web_field(const cu_web_page *pg, const char *name)
{
	json_t *v = json_object_get(pg->form, name);

	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_string_value(v);
}

const char *cu_web_text(cu_request *r, const char *key)
{
	const char *s = json_string_value(
	    json_object_get(cu_web_messages(r->srv->site, r->web ? r->web->lang : 0), key));

	return s ? s : key;
}

const char *cu_web_text_or(cu_request *r, const char *prefix, const char *word,
                           const char *fallback)
{
	char key[CU_WEB_TEXT_KEY_MAX];
	const char *s;

	snprintf(key, sizeof(key), "%s%s", prefix, word ? word : "");
	s = json_string_value(
	    json_object_get(cu_web_messages(r->srv->site, r->web ? r->web->lang : 0), key));
	return s ? s : fallback;
}

json_t *cu_web_refusal(cu_request *r, const cu_http_capture *c, const char *prefix)
{
	json_t *err = json_object_get(c->json, "error");
	const char *code = json_string_value(json_object_get(err, "code"));
	const char *message = json_string_value(json_object_get(err, "message"));

	return json_pack("{s:s,s:s,s:s?,s:i}", "code", code ? code : "error", "message",
	                 cu_web_text_or(r, prefix, code,
	                                message ? message : cu_web_text(r, "error_unavailable")),
	                 "detail", message, "status", c->status);
}

bool cu_web_set_cookie(cu_request *r, enum cu_web_category cat, const char *name, const char *value,
                       long max_age)
{
	char line[CU_WEB_COOKIE_MAX];
	bool allowed = r->web ? r->web->choice.allowed[cat] : cat == CU_COOKIE_NECESSARY;

	/* Deleting is always allowed: it is how a refusal takes effect. */
	if (!allowed && max_age != 0)
		return false;
	if (max_age > 0)
		snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%ld",
		         name, value, max_age);
	else if (max_age == 0)
		snprintf(line, sizeof(line), "%s=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
		         name);
	else
		snprintf(line, sizeof(line), "%s=%s; Path=/; HttpOnly; SameSite=Lax", name, value);
	cu_http_header(r, "Set-Cookie", line);
	sodium_memzero(line, sizeof(line));
	return true;
}

bool cu_web_set_console_cookie(cu_request *r, const char *secret)
{
	char line[CU_WEB_COOKIE_MAX];

	/* Its own attributes, the same rule: a refused category sets nothing. */
	if (secret && r->web && !r->web->choice.allowed[CU_COOKIE_NECESSARY])
		return false;
	if (secret)
		/* The cookie's own value, in a header (never a log); the line is wiped below. */
		snprintf(line, sizeof(line), /* checksrc: ok a Set-Cookie line, not a log */
		         "%s=%s; Path=/console; HttpOnly; SameSite=Strict", CU_CONSOLE_COOKIE,
		         secret);
	else
		snprintf(line, sizeof(line),
		         "%s=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0",
		         CU_CONSOLE_COOKIE);
	cu_http_header(r, "Set-Cookie", line);
	sodium_memzero(line, sizeof(line));
	return true;
}

/* ---- rendering ------------------------------------------------------------------ */

static json_t *viewer_json(cu_request *r)
{
	if (r->auth == CU_AUTH_SESSION)
		return json_pack("{s:b,s:s}", "member", 1, "id", r->member);
	if (r->auth == CU_AUTH_TOKEN) {
		char key[CU_ROLE_NAME_BYTES + 8];

		snprintf(key, sizeof(key), "is_%s", cu_role_name(r->actor.role));
		return json_pack("{s:b,s:s,s:s,s:b}", "staff", 1, "role",
		                 cu_role_name(r->actor.role), "name", r->actor.name, key, 1);
	}
	return json_pack("{s:b}", "visitor", 1);
}

enum MHD_Result cu_web_render(cu_request *r, int status, const char *name, json_t *model)
{
	static const char *const parts[] = {"_head", NULL, "_foot"};
	static const char *const langs[CU_WEB_LANGS] = CU_WEB_LANG_LIST;
	cu_web_page *pg = r->web;
	const cu_web_choice *ch;
	cu_template_out out;
	json_t *langlist;
	cu_result rc = CU_OK;

	if (!model || !pg) {
		json_decref(model);
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	}
	ch = &pg->choice;
	json_object_set(model, "t", (json_t *)cu_web_messages(r->srv->site, pg->lang));
	json_object_set_new(model, "lang", json_string(langs[pg->lang]));
	langlist = json_array();
	for (int l = 0; l < CU_WEB_LANGS; l++)
		json_array_append_new(
		    langlist, json_pack("{s:s,s:b}", "code", langs[l], "current", l == pg->lang));
	json_object_set_new(model, "langs", langlist);
	json_object_set_new(model, "csrf", json_string(pg->csrf));
	json_object_set_new(model, "cookies",
	                    json_pack("{s:b,s:b,s:b,s:b,s:b}", "made", ch->made, "preferences",
	                              ch->chosen[CU_COOKIE_PREFERENCES], "statistics",
	                              ch->chosen[CU_COOKIE_STATISTICS], "advertising",
	                              ch->chosen[CU_COOKIE_ADVERTISING], "gpc", ch->gpc));
	json_object_set_new(model, "banner", json_boolean(!ch->made));
	json_object_set_new(model, "path", json_string(r->url));
	json_object_set_new(model, "viewer", viewer_json(r));
	cu_template_out_init(&out, 0);
	for (size_t i = 0; rc == CU_OK && i < sizeof(parts) / sizeof(parts[0]); i++) {
		const cu_template *t = cu_web_template(r->srv->site, parts[i] ? parts[i] : name);

		rc = t ? cu_template_render(t, model, &out) : CU_ERR_INTERNAL;
	}
	/* The messages are the site's, shared by every page: not wiped with the rest. */
	json_object_del(model, "t");
	cu_http_json_wipe(model);
	json_decref(model);
	if (rc) {
		cu_template_out_release(&out);
		return cu_http_reply_error(r, rc == CU_ERR_INVALID_ARGUMENT ? CU_ERR_INTERNAL : rc,
		                           "the page could not be rendered", NULL);
	}
	/* Ownership of the text passes to the reply, which wipes it when sent. */
	return cu_http_reply_html(r, status, out.buf);
}

enum MHD_Result cu_web_error(cu_request *r, cu_result rc, const char *msg)
{
	if (!r->web)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return cu_web_render(r, cu_result_http(rc), "error",
	                     json_pack("{s:s,s:s,s:i}", "message", cu_web_text(r, msg), "code",
	                               cu_result_code(rc), "status", cu_result_http(rc)));
}

enum MHD_Result cu_web_not_found(cu_request *r)
{
	enum MHD_Result ret;

	if (!cu_web_begin(r, CU_WEB_ANYONE, &ret))
		return ret;
	return cu_web_error(r, CU_ERR_NOT_FOUND, "error_not_found");
}

enum MHD_Result cu_web_redirect(cu_request *r, const char *location)
{
	return cu_http_reply_redirect(r, location);
}
