/*
 * fuzz_cookie — what a client's credentials go through: the session
 * cookie's value (cu_session_check, cu_session_csrf_token), the
 * X-CSRF-Token header (cu_session_csrf_ok) and a bearer token
 * (cu_token_authenticate), with the length limits server/http/auth.c applies
 * first.  The input is "cookie value\nheader value".
 *
 * Once per process a member is registered and logged in, so a CSRF token
 * is also checked against a live session.
 */
#include <stdlib.h>
#include <string.h>

#include "domain/members.h"
#include "domain/sessions.h"
#include "domain/tokens.h"
#include "fuzz.h"

#define NOW_US     ((int64_t)1800000000 * 1000000) /* fixed: the same input, the same path */
#define COOKIE_MAX 128 /* server/http/auth.c refuses longer ones unread (CU_HTTP_SESSION_ID_MAX) */
#define AUTH_MAX   200

static cu_session_info live;

static void log_in_once(cu_ctx *c)
{
	static const cu_actor op = {"operator", CU_ROLE_OPERATOR, NULL, NULL};
	static const cu_kv kv[] = {{"name", "Fuzz Member"},
	                           {"address", "1 Test Street"},
	                           {"phone", "+81312345678"},
	                           {"email", "fuzz@example.org"}};
	char id[CU_ID_LEN + 1], secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	static int done;
	cu_errors errs;

	if (done)
		return;
	done = 1;
	cu_errors_init(&errs);
	if (cu_member_register(c, &op, kv, sizeof(kv) / sizeof(kv[0]), NULL, id, &errs) != CU_OK ||
	    cu_session_create(c, id, CU_SESSION_TTL_MAX_US, secret, csrf) != CU_OK ||
	    cu_session_check(c->store, secret, cu_now_us(), &live) != CU_OK)
		abort();
}

static void credentials(cu_ctx *c, const char *value)
{
	char csrf[CU_SESSION_CSRF_LEN + 1];
	cu_session_info info;
	cu_token_info token;

	if (strlen(value) <= COOKIE_MAX &&
	    cu_session_check(c->store, value, NOW_US, &info) == CU_OK)
		abort(); /* no secret of the live session is in the corpus */
	FUZZ_IGNORE(cu_session_csrf_token(value, csrf));
	FUZZ_IGNORE(cu_session_csrf_ok(&live, value));
	if (strlen(value) <= AUTH_MAX)
		FUZZ_IGNORE(cu_token_authenticate(c->store, value, NOW_US, &token));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cu_ctx *c = fuzz_ctx();
	char *s = fuzz_cstr(data, size), *nl;

	log_in_once(c);
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	credentials(c, s);
	if (nl)
		credentials(c, nl + 1);
	free(s);
	return 0;
}
