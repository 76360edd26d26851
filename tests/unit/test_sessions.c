/*
 * test_sessions.c — member sessions (sessions.h): a random cookie value
 * kept as a hash, expiry on the server, the CSRF token, login and logout
 * in the audit log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/sessions.h"
#include "vault/secret.h"
#include "support.h"

#define HOUR_US ((int64_t)3600 * 1000000)

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1], bob[CU_ID_LEN + 1];
};

/*
 * A member row straight into the store: sessions need only that the
 * member exists, and this keeps these tests clear of registration.
 */
static void add_member(cu_ctx *ctx, char id[CU_ID_LEN + 1])
{
	cu_member_row row;

	memset(&row, 0, sizeof(row));
	cu_vault_random_id(row.id);
	row.key_id = 1;
	row.created_us = row.updated_us = cu_now_us();
	assert_int_equal(cu_store_begin(ctx->store), CU_OK);
	assert_int_equal(cu_store_member_insert(ctx->store, &row), CU_OK);
	assert_int_equal(cu_store_commit(ctx->store), CU_OK);
	memcpy(id, row.id, CU_ID_LEN + 1);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	add_member(f->ctx, f->alice);
	add_member(f->ctx, f->bob);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f);
	return 0;
}

static void login(struct fx *f, const char *member, int64_t ttl,
                  char secret[CU_SESSION_SECRET_LEN + 1], char csrf[CU_SESSION_CSRF_LEN + 1])
{
	assert_int_equal(cu_session_create(f->ctx, member, ttl, secret, csrf), CU_OK);
}

static void test_create_and_check(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char secret2[CU_SESSION_SECRET_LEN + 1], csrf2[CU_SESSION_CSRF_LEN + 1];
	int64_t before = cu_now_us();
	cu_session_info s;

	login(f, f->alice, HOUR_US, secret, csrf);
	assert_int_equal(strlen(secret), CU_SESSION_SECRET_LEN);
	assert_int_equal(strlen(csrf), CU_SESSION_CSRF_LEN);
	assert_string_not_equal(secret, csrf);
	/* The cookie value says nothing of the member. */
	assert_null(strstr(secret, f->alice));

	assert_int_equal(cu_session_check(f->ctx->store, secret, cu_now_us(), &s), CU_OK);
	assert_string_equal(s.member, f->alice);
	assert_true(s.created_us >= before && s.created_us <= cu_now_us());
	assert_int_equal(s.expires_us, s.created_us + HOUR_US);

	/* A second login is a second session, with its own secret and CSRF token. */
	login(f, f->alice, HOUR_US, secret2, csrf2);
	assert_string_not_equal(secret, secret2);
	assert_string_not_equal(csrf, csrf2);
	assert_int_equal(cu_session_check(f->ctx->store, secret2, cu_now_us(), &s), CU_OK);
	assert_string_equal(s.member, f->alice);
	assert_int_equal(cu_session_check(f->ctx->store, secret, cu_now_us(), &s), CU_OK);
}

static void test_wrong_secret(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1], bad[80];
	int64_t now = cu_now_us();
	cu_session_info s;

	login(f, f->alice, HOUR_US, secret, csrf);
	memcpy(bad, secret, sizeof(secret));
	bad[0] = bad[0] == 'A' ? 'B' : 'A';
	memset(&s, 0x5a, sizeof(s));
	assert_int_equal(cu_session_check(f->ctx->store, bad, now, &s), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(s.member[0], '\0');
	/* The CSRF token is not a session secret. */
	assert_int_equal(cu_session_check(f->ctx->store, csrf, now, &s), CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%s;", secret);
	assert_int_equal(cu_session_check(f->ctx->store, bad, now, &s), CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%.*s", CU_SESSION_SECRET_LEN - 1, secret);
	assert_int_equal(cu_session_check(f->ctx->store, bad, now, &s), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, "", now, &s), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, NULL, now, &s), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, secret, now, &s), CU_OK);
}

static void test_expiry_and_purge(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char longer[CU_SESSION_SECRET_LEN + 1];
	cu_session_info s;
	int64_t expires;
	uint64_t n = 99;

	login(f, f->alice, HOUR_US, secret, csrf);
	login(f, f->bob, 3 * HOUR_US, longer, csrf);
	assert_int_equal(cu_session_check(f->ctx->store, secret, cu_now_us(), &s), CU_OK);
	expires = s.expires_us;
	assert_int_equal(cu_session_check(f->ctx->store, secret, expires - 1, &s), CU_OK);
	assert_int_equal(cu_session_check(f->ctx->store, secret, expires, &s),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(s.member[0], '\0');

	/* Purging before the expiry takes nothing. */
	assert_int_equal(cu_session_purge_expired(f->ctx, expires - 1, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_session_purge_expired(f->ctx, expires, &n), CU_OK);
	assert_int_equal(n, 1);
	/* Gone: not even an earlier clock finds it now. */
	assert_int_equal(cu_session_check(f->ctx->store, secret, expires - 1, &s),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, longer, expires, &s), CU_OK);
	assert_string_equal(s.member, f->bob);
}

static void test_csrf(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char secret2[CU_SESSION_SECRET_LEN + 1], csrf2[CU_SESSION_CSRF_LEN + 1];
	char again[CU_SESSION_CSRF_LEN + 1], bad[80];
	cu_session_info s;

	login(f, f->alice, HOUR_US, secret, csrf);
	login(f, f->bob, HOUR_US, secret2, csrf2);
	assert_int_equal(cu_session_check(f->ctx->store, secret, cu_now_us(), &s), CU_OK);

	assert_int_equal(cu_session_csrf_ok(&s, csrf), CU_OK);
	/* Another session's token, a changed one, none at all: refused. */
	assert_int_equal(cu_session_csrf_ok(&s, csrf2), CU_ERR_FORBIDDEN);
	memcpy(bad, csrf, sizeof(csrf));
	bad[CU_SESSION_CSRF_LEN - 1] = bad[CU_SESSION_CSRF_LEN - 1] == 'A' ? 'B' : 'A';
	assert_int_equal(cu_session_csrf_ok(&s, bad), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_session_csrf_ok(&s, NULL), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_session_csrf_ok(&s, ""), CU_ERR_FORBIDDEN);
	snprintf(bad, sizeof(bad), "%s ", csrf);
	assert_int_equal(cu_session_csrf_ok(&s, bad), CU_ERR_FORBIDDEN);
	/* The session secret is not the CSRF token. */
	assert_int_equal(cu_session_csrf_ok(&s, secret), CU_ERR_FORBIDDEN);

	/* A page rendered later gets the same token from the cookie alone. */
	assert_int_equal(cu_session_csrf_token(secret, again), CU_OK);
	assert_string_equal(again, csrf);
	assert_int_equal(cu_session_csrf_token(secret2, again), CU_OK);
	assert_string_equal(again, csrf2);
	assert_int_equal(cu_session_csrf_token("not a secret", again), CU_ERR_UNAUTHENTICATED);
	assert_string_equal(again, "");
}

static void test_delete(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char other[CU_SESSION_SECRET_LEN + 1];
	unsigned long long entries;
	cu_session_info s;

	login(f, f->alice, HOUR_US, secret, csrf);
	login(f, f->alice, HOUR_US, other, csrf);
	entries = cu_test_audit_count(f->ctx);
	assert_int_equal(cu_session_delete(f->ctx, secret), CU_OK);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);
	assert_int_equal(cu_session_check(f->ctx->store, secret, cu_now_us(), &s),
	                 CU_ERR_UNAUTHENTICATED);
	/* Only that session ended. */
	assert_int_equal(cu_session_check(f->ctx->store, other, cu_now_us(), &s), CU_OK);

	assert_int_equal(cu_session_delete(f->ctx, secret), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_delete(f->ctx, "garbage"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_delete(f->ctx, NULL), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);
}

/* Erasure must end every session of the member at once: the store call for it. */
static void test_delete_member(void **state)
{
	struct fx *f = *state;
	char a1[CU_SESSION_SECRET_LEN + 1], a2[CU_SESSION_SECRET_LEN + 1];
	char b1[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	cu_session_info s;
	uint64_t n;

	login(f, f->alice, HOUR_US, a1, csrf);
	login(f, f->alice, HOUR_US, a2, csrf);
	login(f, f->bob, HOUR_US, b1, csrf);
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	assert_int_equal(cu_store_session_delete_member(f->ctx->store, f->alice, &n), CU_OK);
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cu_session_check(f->ctx->store, a1, cu_now_us(), &s),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, a2, cu_now_us(), &s),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_session_check(f->ctx->store, b1, cu_now_us(), &s), CU_OK);
}

static void test_refusals(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1] = "x", csrf[CU_SESSION_CSRF_LEN + 1] = "x";
	unsigned long long entries = cu_test_audit_count(f->ctx);

	assert_int_equal(cu_session_create(f->ctx, f->alice, 0, secret, csrf),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_string_equal(secret, "");
	assert_string_equal(csrf, "");
	assert_int_equal(cu_session_create(f->ctx, f->alice, -HOUR_US, secret, csrf),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_session_create(f->ctx, f->alice, CU_SESSION_TTL_MAX_US + 1, secret, csrf),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_session_create(f->ctx, "no-such-member", HOUR_US, secret, csrf),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_session_create(f->ctx, NULL, HOUR_US, secret, csrf),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_session_create(f->ctx, "an-id-far-too-long-to-be-one", HOUR_US, secret, csrf),
	    CU_ERR_INVALID_ARGUMENT);

	/* An erased member cannot log in. */
	assert_int_equal(cu_store_begin(f->ctx->store), CU_OK);
	assert_int_equal(cu_store_member_erase(f->ctx->store, f->bob, cu_now_us()), CU_OK);
	assert_int_equal(cu_store_commit(f->ctx->store), CU_OK);
	assert_int_equal(cu_session_create(f->ctx, f->bob, HOUR_US, secret, csrf), CU_ERR_ERASED);
	assert_string_equal(secret, "");
	assert_int_equal(cu_test_audit_count(f->ctx), entries);

	/* The longest session allowed is allowed. */
	login(f, f->alice, CU_SESSION_TTL_MAX_US, secret, csrf);
}

/* Neither the cookie value nor the CSRF token reaches the disk; their hashes do. */
static void test_secrets_not_stored(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char var[600];
	unsigned char hash[CU_STORE_HASHBYTES];

	snprintf(var, sizeof(var), "%s/var", f->dir);
	login(f, f->alice, HOUR_US, secret, csrf);

	/* The search can fail: the session row is there. */
	cu_secret_hash("session", secret, CU_SESSION_SECRET_LEN, hash);
	assert_true(cu_test_store_files_contain(var, hash, sizeof(hash)));
	cu_secret_hash("csrf", csrf, CU_SESSION_CSRF_LEN, hash);
	assert_true(cu_test_store_files_contain(var, hash, sizeof(hash)));

	assert_false(cu_test_store_files_contain_text(var, secret));
	assert_false(cu_test_store_files_contain_text(var, csrf));
}

struct entries {
	int n;
	char action[4][16], actor[4][32], role[4][16], member[4][32];
};

static int keep_entry(void *ud, const cu_audit_entry *e)
{
	struct entries *l = ud;

	if (l->n < 4) {
		snprintf(l->action[l->n], sizeof(l->action[0]), "%s", e->action);
		snprintf(l->actor[l->n], sizeof(l->actor[0]), "%s", e->actor);
		snprintf(l->role[l->n], sizeof(l->role[0]), "%s", e->role);
		snprintf(l->member[l->n], sizeof(l->member[0]), "%s", e->member);
	}
	l->n++;
	return 0;
}

struct secrets {
	const char *secret, *csrf;
};

static int no_secret(void *ud, const cu_audit_entry *e)
{
	const struct secrets *x = ud;
	const char *text[] = {e->actor,  e->role,     e->action, e->member,  e->purpose,
	                      e->fields, e->decision, e->reason, e->case_ref};

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++) {
		assert_null(strstr(text[i], x->secret));
		assert_null(strstr(text[i], x->csrf));
	}
	return 0;
}

static void test_audit(void **state)
{
	struct fx *f = *state;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	struct entries l = {0};
	cu_audit_report r;
	uint64_t n;

	login(f, f->alice, HOUR_US, secret, csrf);
	assert_int_equal(cu_session_delete(f->ctx, secret), CU_OK);
	/* In the member's own trail, as the member. */
	assert_int_equal(cu_store_audit_scan(f->ctx->store, 1, f->alice, keep_entry, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.action[0], "login");
	assert_string_equal(l.action[1], "logout");
	for (int i = 0; i < 2; i++) {
		assert_string_equal(l.actor[i], f->alice);
		assert_string_equal(l.role[i], "member");
		assert_string_equal(l.member[i], f->alice);
	}
	/* No session secret or CSRF token anywhere in the log. */
	{
		struct secrets x = {secret, csrf};

		assert_int_equal(cu_store_audit_scan(f->ctx->store, 1, NULL, no_secret, &x), CU_OK);
	}
	assert_int_equal(cu_store_audit_count(f->ctx->store, &n), CU_OK);
	assert_int_equal(cu_audit_verify(f->ctx->store, &r, NULL, NULL), CU_OK);
	assert_int_equal(r.checked, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry_and_purge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_delete_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secrets_not_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
