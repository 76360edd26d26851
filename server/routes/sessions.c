/*
 * server/routes/sessions.c — a member's login and logout (POST and DELETE /v1/session): the
 * attempt limits, the password check on the hashing pool, the session cookie.
 */
#include "routes/routes.h"

#include "domain/login.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- sessions ------------------------------------------------------------ */

struct login_state {
	json_t *body;
	const char *email, *password;
	cu_login login;
	cu_ratelimit_key keys[2]; /* LOGIN_ACCOUNT, LOGIN_ADDRESS */
	cu_route_limit hold;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char old[CU_SESSION_SECRET_LEN + 8];
	int64_t ttl_us;
	bool remember; /* "remember me": CU_LOGIN_REMEMBER_US instead of session_ttl_minutes */
};

enum { LOGIN_ACCOUNT, LOGIN_ADDRESS };
_Static_assert(CU_VAULT_BIDXBYTES == CU_RATELIMIT_KEY_LEN, "an account key is a rate-limit key");

static void login_cleanup(cu_request *r)
{
	struct login_state *st = r->state;

	/* Ended while its hash ran (the client went away): it counts, as a failure would. */
	cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
	cu_http_json_wipe(st->body);
	json_decref(st->body);
	cu_login_wipe(&st->login);
	sodium_memzero(st, sizeof(*st));
}

static cu_result login_verify(cu_job *job)
{
	cu_request *r = job->arg;
	struct login_state *st = r->state;

	return cu_login_verify(&st->login, r->srv->dummy_hash, st->password);
}

static cu_result login_create(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct login_state *st = r->state;

	return cu_login_open_session(ctx, &st->login, st->old, st->ttl_us, st->secret, st->csrf);
}

static enum MHD_Result login_refused(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED, "wrong e-mail address or password",
	                           NULL);
}

static enum MHD_Result h_session_create(cu_request *r)
{
	struct login_state *st = r->state;
	const cu_vault *v = r->srv->ctx->vault;
	cu_store *reader;
	enum MHD_Result reply;
	json_t *email, *password, *remember;
	int64_t now = cu_now_us(), retry_us;
	cu_result rc;

	switch (r->phase) {
	case 0:
		st = cu_arena_alloc(&r->arena, sizeof(*st));
		if (!st)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		memset(st, 0, sizeof(*st));
		st->body = cu_http_body_json(r, &reply);
		if (!st->body)
			return reply;
		r->state = st;
		r->cleanup = login_cleanup;
		email = json_object_get(st->body, "email");
		password = json_object_get(st->body, "password");
		remember = json_object_get(st->body, "remember");
		if (json_object_size(st->body) != 2 + (remember != NULL) ||
		    !json_is_string(email) || !json_is_string(password) ||
		    (remember && !json_is_boolean(remember)))
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
			                           "expected {\"email\": ..., \"password\": ..., "
			                           "\"remember\": true|false (optional)}",
			                           NULL);
		st->remember = json_is_true(remember);
		st->email = json_string_value(email);
		st->password = json_string_value(password);
		if (strlen(st->password) > CU_LOGIN_PASSWORD_MAX)
			return login_refused(r);
		/* The account key exists whether or not the account does. */
		if (cu_login_account_key(v, st->email, st->keys[LOGIN_ACCOUNT].id))
			return login_refused(r);
		st->keys[LOGIN_ACCOUNT].limit = CU_LOGIN_ACCOUNT_LIMIT;
		st->keys[LOGIN_ACCOUNT].window_us = CU_LOGIN_WINDOW_US;
		cu_route_address_key(r, CU_RATELIMIT_LOGIN_ADDRESS, st->keys[LOGIN_ADDRESS].id);
		st->keys[LOGIN_ADDRESS].limit = CU_LOGIN_ADDRESS_LIMIT;
		st->keys[LOGIN_ADDRESS].window_us = CU_LOGIN_WINDOW_US;
		/*
		 * The attempt is reserved before its hash is computed, so attempts
		 * sent at once are held to the limits as if sent one by one.
		 */
		rc = cu_route_limit_reserve(r, st->keys, 2, now, &st->hold, &retry_us);
		if (rc == CU_ERR_RATE_LIMITED)
			return cu_route_reply_rate_limited(
			    r, retry_us, "too many failed logins; try again later");
		if (rc)
			return cu_http_store_unavailable(r);
		reader = cu_http_reader(r->srv);
		if (!reader) {
			cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_RELEASE, now);
			return cu_http_store_unavailable(r);
		}
		if (cu_login_prepare(v, reader, st->email, &st->login)) {
			cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_RELEASE, now);
			return cu_http_store_unavailable(r);
		}
		return cu_http_wait_hasher(r, login_verify);
	case 1:
		if (r->job.rc) {
			cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_COUNT, now);
			return login_refused(r);
		}
		/* The account's failures are forgiven; the address's stand. */
		cu_route_limit_finish(r, &st->hold, LOGIN_ACCOUNT, CU_RATELIMIT_CLEAR, now);
		cu_route_limit_finish(r, &st->hold, LOGIN_ADDRESS, CU_RATELIMIT_RELEASE, now);
		{
			const char *old = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
			                                              CU_SESSION_COOKIE);

			if (old && strlen(old) < sizeof(st->old))
				memcpy(st->old, old, strlen(old) + 1);
		}
		/* session_ttl_minutes as SIGHUP last left it (http/serve.c). */
		st->ttl_us = st->remember
		                 ? CU_LOGIN_REMEMBER_US
		                 : (int64_t)atomic_load(&r->srv->session_ttl_min) * 60 * 1000000;
		return cu_http_wait_writer(r, login_create);
	default: {
		char cookie[CU_SESSION_COOKIE_MAX], ts[CU_HTTP_TIME_LEN];

		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		/* The cookie carries a random id only; Secure is added when served over TLS. */
		snprintf(cookie, sizeof(cookie),
		         "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld", CU_SESSION_COOKIE,
		         st->secret, (long long)(st->ttl_us / 1000000));
		cu_http_header(r, "Set-Cookie", cookie);
		sodium_memzero(cookie, sizeof(cookie));
		cu_http_iso_time(now + st->ttl_us, ts);
		return cu_http_reply_json(r, MHD_HTTP_OK,
		                          json_pack("{s:s,s:s,s:s}", "member", st->login.member,
		                                    "csrf", st->csrf, "expires", ts));
	}
	}
}

static cu_result logout_run(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return cu_session_delete(
	    ctx, MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, CU_SESSION_COOKIE));
}

static enum MHD_Result h_session_delete(cu_request *r)
{
	if (r->phase == 0)
		return cu_http_wait_writer(r, logout_run);
	if (r->job.rc && r->job.rc != CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	cu_http_header(r, "Set-Cookie",
	               CU_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
	return cu_http_reply_empty(r, MHD_HTTP_NO_CONTENT);
}

const cu_route cu_routes_sessions[] = {
    {"POST", "/v1/session", "/v1/session", h_session_create, 0, true, true, false},
    {"DELETE", "/v1/session", "/v1/session", h_session_delete, R(MEMBER), false, false, false},
};

const size_t cu_routes_sessions_count = sizeof(cu_routes_sessions) / sizeof(cu_routes_sessions[0]);
