/*
 * test_login.c — a member logging in (src/domain/login.c): the account key
 * exists for any well-formed address; the right password opens a session,
 * a wrong one and an unknown account are refused alike; a too-long
 * password is refused unhashed; the session presented before ends.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/login.h"
#include "domain/members.h"
#include "support.h"

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

static const cu_kv bob[] = {
    {"name", "Bob Rook"},
    {"address", "1 Main St"},
    {"phone", "+44 20 7946 0018"},
    {"email", "bob@example.net"},
};

#define PASSWORD "correct horse battery staple"

static void test_login_steps(void **state)
{
	char *dir = NULL, id[CU_ID_LEN + 1], dummy[CU_VAULT_PWHASH_MAX];
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char secret2[CU_SESSION_SECRET_LEN + 1];
	unsigned char k1[CU_VAULT_BIDXBYTES], k2[CU_VAULT_BIDXBYTES];
	char long_password[CU_LOGIN_PASSWORD_MAX + 2];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_session_info info;
	cu_errors errs;
	cu_login l;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, bob, 4, PASSWORD, id, &errs), CU_OK);
	assert_int_equal(cu_vault_password_hash("none", 1, 8 * 1024, dummy), CU_OK);

	/* The account key: the same for the address however it is written; none for a non-address. */
	assert_int_equal(cu_login_account_key(ctx->vault, "bob@example.net", k1), CU_OK);
	assert_int_equal(cu_login_account_key(ctx->vault, "BOB@Example.net", k2), CU_OK);
	assert_memory_equal(k1, k2, sizeof(k1));
	assert_int_equal(cu_login_account_key(ctx->vault, "not an address", k2),
	                 CU_ERR_UNAUTHENTICATED);

	/* Unknown account: prepared without one, refused. */
	assert_int_equal(cu_login_prepare(ctx->vault, ctx->store, "nobody@example.net", &l), CU_OK);
	assert_false(l.have_account);
	assert_int_equal(cu_login_verify(&l, dummy, PASSWORD), CU_ERR_UNAUTHENTICATED);

	/* The account: a wrong password and a too-long one refused, the right one accepted. */
	assert_int_equal(cu_login_prepare(ctx->vault, ctx->store, "bob@example.net", &l), CU_OK);
	assert_true(l.have_account);
	assert_string_equal(l.member, id);
	assert_int_not_equal(cu_login_verify(&l, dummy, "wrong"), CU_OK);
	memset(long_password, 'a', sizeof(long_password) - 1);
	long_password[sizeof(long_password) - 1] = '\0';
	assert_int_equal(cu_login_verify(&l, dummy, long_password), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_login_verify(&l, dummy, PASSWORD), CU_OK);

	/* A session opens; a second login ends the one it presents. */
	assert_int_equal(cu_login_open_session(ctx, &l, NULL, 60000000, secret, csrf), CU_OK);
	assert_int_equal(cu_session_check(ctx->store, secret, cu_now_us(), &info), CU_OK);
	assert_string_equal(info.member, id);
	assert_int_equal(cu_login_open_session(ctx, &l, secret, 60000000, secret2, csrf), CU_OK);
	assert_int_not_equal(cu_session_check(ctx->store, secret, cu_now_us(), &info), CU_OK);
	assert_int_equal(cu_session_check(ctx->store, secret2, cu_now_us(), &info), CU_OK);

	cu_login_wipe(&l);
	assert_false(l.have_account);
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_steps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
