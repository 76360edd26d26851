/*
 * test_tokens.c — staff and service tokens (tokens.h): created once, kept
 * only as a hash, refused when wrong, expired or revoked, always audited.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/tokens.h"
#include "vault/secret.h"
#include "support.h"

#define HOUR_US ((int64_t)3600 * 1000000)

struct fx {
	cu_ctx *ctx;
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
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

static void create_ok(cu_ctx *ctx, cu_role role, const char *name, int64_t expires_us,
                      char secret[CU_TOKEN_SECRET_LEN + 1], char id[CU_ID_LEN + 1])
{
	assert_int_equal(cu_token_create(ctx, NULL, role, name, expires_us, secret, id), CU_OK);
}

static bool is_b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		            s[i]) ||
		    !s[i])
			return false;
	return true;
}

static void test_create_and_authenticate(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], secret2[CU_TOKEN_SECRET_LEN + 1];
	char id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	int64_t before = cu_now_us();
	cu_token_info t;

	create_ok(f->ctx, CU_ROLE_STAFF, "Support desk", 0, secret, id);
	assert_int_equal(strlen(secret), CU_TOKEN_SECRET_LEN);
	assert_memory_equal(secret, "cu_", 3);
	assert_true(is_b64url(secret + 3, CU_TOKEN_SECRET_LEN - 3));
	assert_int_equal(strlen(id), CU_ID_LEN);

	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t), CU_OK);
	assert_string_equal(t.id, id);
	assert_int_equal(t.role, CU_ROLE_STAFF);
	assert_string_equal(t.name, "Support desk");
	assert_true(t.created_us >= before && t.created_us <= cu_now_us());
	assert_int_equal(t.expires_us, 0);
	assert_int_equal(t.revoked_us, 0);
	assert_int_equal(cu_token_status_at(&t, INT64_MAX), CU_TOKEN_ACTIVE);

	/* Each token is its own: a second one has another secret and id. */
	create_ok(f->ctx, CU_ROLE_SERVICE, "Learning app", 0, secret2, id2);
	assert_string_not_equal(secret, secret2);
	assert_string_not_equal(id, id2);
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret2, cu_now_us(), &t), CU_OK);
	assert_string_equal(t.id, id2);
	assert_int_equal(t.role, CU_ROLE_SERVICE);

	/* Every role a token may carry. */
	for (cu_role r = CU_ROLE_STAFF; r <= CU_ROLE_ADMIN; r++) {
		create_ok(f->ctx, r, cu_role_name(r), 0, secret, id);
		assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t),
		                 CU_OK);
		assert_int_equal(t.role, r);
	}
}

static void test_wrong_secret(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], bad[80];
	int64_t now = cu_now_us();
	cu_token_info t;

	create_ok(f->ctx, CU_ROLE_STAFF, "Support desk", 0, secret, id);

	/* One character off: a well-formed secret that no token has. */
	memcpy(bad, secret, sizeof(secret));
	bad[10] = bad[10] == 'A' ? 'B' : 'A';
	memset(&t, 0x5a, sizeof(t));
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(t.id[0], '\0'); /* nothing of another token leaks out */
	assert_int_equal(t.name[0], '\0');

	/* Malformed ones are refused with the same answer. */
	snprintf(bad, sizeof(bad), "%s", secret + 3); /* no prefix */
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%sx", secret); /* one too long */
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%s\n", secret); /* a trailing newline from a file */
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%.*s", CU_TOKEN_SECRET_LEN - 1, secret); /* one too short */
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	snprintf(bad, sizeof(bad), "%s", secret);
	bad[20] = '+'; /* base64, not base64url */
	assert_int_equal(cu_token_authenticate(f->ctx->store, bad, now, &t),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_token_authenticate(f->ctx->store, "", now, &t), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_token_authenticate(f->ctx->store, NULL, now, &t),
	                 CU_ERR_UNAUTHENTICATED);

	/* The real one still works. */
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, now, &t), CU_OK);
}

static void test_expiry(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
	int64_t now = cu_now_us(), expires = now + HOUR_US;
	cu_token_info t;

	create_ok(f->ctx, CU_ROLE_SUBCONTRACTOR, "Mailing house", expires, secret, id);
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, expires - 1, &t), CU_OK);
	assert_int_equal(t.expires_us, expires);
	assert_int_equal(cu_token_status_at(&t, expires - 1), CU_TOKEN_ACTIVE);
	assert_int_equal(cu_token_status_at(&t, expires), CU_TOKEN_EXPIRED);
	/* From the expiry on, refused, with the same answer as a wrong secret. */
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, expires, &t),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(t.id[0], '\0');
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, expires + HOUR_US, &t),
	                 CU_ERR_UNAUTHENTICATED);

	/* An expiry that is not in the future is refused, and nothing is stored. */
	{
		unsigned long long entries = cu_test_audit_count(f->ctx);

		assert_int_equal(
		    cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, "x", now - 1, secret, id),
		    CU_ERR_INVALID_ARGUMENT);
		assert_string_equal(secret, "");
		assert_string_equal(id, "");
		assert_int_equal(cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, "x", -5, secret, id),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_test_audit_count(f->ctx), entries);
	}
}

static void test_revoke(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], other[CU_TOKEN_SECRET_LEN + 1];
	char id[CU_ID_LEN + 1], other_id[CU_ID_LEN + 1];
	unsigned long long entries;
	cu_token_info t;
	int64_t revoked;

	create_ok(f->ctx, CU_ROLE_OFFICER, "Privacy officer", 0, secret, id);
	create_ok(f->ctx, CU_ROLE_STAFF, "Support desk", 0, other, other_id);
	entries = cu_test_audit_count(f->ctx);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, id), CU_OK);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);

	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t),
	                 CU_ERR_UNAUTHENTICATED);
	/* Only that one. */
	assert_int_equal(cu_token_authenticate(f->ctx->store, other, cu_now_us(), &t), CU_OK);

	assert_int_equal(cu_token_get(f->ctx->store, id, &t), CU_OK);
	assert_true(t.revoked_us > 0);
	assert_int_equal(cu_token_status_at(&t, cu_now_us()), CU_TOKEN_REVOKED);
	revoked = t.revoked_us;

	/* Again: nothing changes, nothing is audited. */
	assert_int_equal(cu_token_revoke(f->ctx, NULL, id), CU_OK);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);
	assert_int_equal(cu_token_get(f->ctx->store, id, &t), CU_OK);
	assert_int_equal(t.revoked_us, revoked);

	assert_int_equal(cu_token_revoke(f->ctx, NULL, "no-such-token"), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, "an-id-far-too-long-to-be-one"),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, NULL), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_token_get(f->ctx->store, "no-such-token", &t), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);
}

/* The secret reaches neither the database nor its log; its hash does. */
static void test_secret_not_stored(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
	char var[600];
	unsigned char hash[CU_STORE_HASHBYTES];

	snprintf(var, sizeof(var), "%s/var", f->dir);
	create_ok(f->ctx, CU_ROLE_SERVICE, "Learning app", 0, secret, id);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, id), CU_OK);

	/* The search can fail: the row is there, by its id and its hash. */
	cu_secret_hash("token", secret, CU_TOKEN_SECRET_LEN, hash);
	assert_true(cu_test_store_files_contain_text(var, id));
	assert_true(cu_test_store_files_contain(var, hash, sizeof(hash)));

	assert_false(cu_test_store_files_contain_text(var, secret));
	/* Not even without its prefix. */
	assert_false(cu_test_store_files_contain_text(var, secret + 3));
	/* Nor once the log is copied into the main file. */
	assert_int_equal(cu_store_checkpoint(f->ctx->store), CU_OK);
	assert_false(cu_test_store_files_contain_text(var, secret + 3));
}

static void test_invalid_role_refused(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1] = "x", id[CU_ID_LEN + 1] = "x";
	unsigned long long entries = cu_test_audit_count(f->ctx);
	static const cu_role bad[] = {CU_ROLE_MEMBER, CU_ROLE_OPERATOR, CU_ROLE_COUNT_,
	                              (cu_role)-1};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(cu_token_role_allowed(bad[i]));
		assert_int_equal(cu_token_create(f->ctx, NULL, bad[i], "Someone", 0, secret, id),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_string_equal(secret, "");
		assert_string_equal(id, "");
	}
	assert_int_equal(cu_test_audit_count(f->ctx), entries);
}

static int count_tokens(void *ud, const cu_token_info *t)
{
	(void)t;
	++*(int *)ud;
	return 0;
}

static void test_invalid_name_refused(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
	char longest[CU_TOKEN_NAME_MAX + 2], wide[CU_TOKEN_NAME_MAX * 3 + 4];
	unsigned long long entries = cu_test_audit_count(f->ctx);
	int n = 0;
	static const struct {
		const char *name, *reason;
	} bad[] = {
	    {"", "required"},
	    {"   ", "required"},
	    {"tab\there", "malformed"},
	    {"new\nline", "malformed"},
	    {"del\x7f", "malformed"},
	    {"c1 \xc2\x85", "malformed"}, /* U+0085 NEXT LINE */
	    {"evil\xe2\x80\xae"
	     "gnp.exe",
	     "malformed"},                     /* U+202E RIGHT-TO-LEFT OVERRIDE */
	    {"iso\xe2\x81\xa6x", "malformed"}, /* U+2066 LEFT-TO-RIGHT ISOLATE */
	    {"bom\xef\xbb\xbf", "malformed"},  /* U+FEFF */
	    {"latin1 \xe9t\xe9", "invalid_utf8"},
	    {"overlong \xc0\xaf", "invalid_utf8"},
	    {"surrogate \xed\xa0\x80", "invalid_utf8"},
	    {"cut \xe3\x81", "invalid_utf8"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = cu_token_name_problem(bad[i].name);

		if (!why || strcmp(why, bad[i].reason) != 0)
			fail_msg("name %zu: expected %s, got %s", i, bad[i].reason,
			         why ? why : "(accepted)");
		assert_int_equal(
		    cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, bad[i].name, 0, secret, id),
		    CU_ERR_INVALID_ARGUMENT);
	}
	assert_string_equal(cu_token_name_problem(NULL), "required");
	assert_int_equal(cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, NULL, 0, secret, id),
	                 CU_ERR_INVALID_ARGUMENT);

	/* 64 characters fit, 65 do not; characters, not bytes. */
	memset(longest, 'a', CU_TOKEN_NAME_MAX);
	longest[CU_TOKEN_NAME_MAX] = '\0';
	assert_null(cu_token_name_problem(longest));
	longest[CU_TOKEN_NAME_MAX] = 'a';
	longest[CU_TOKEN_NAME_MAX + 1] = '\0';
	assert_string_equal(cu_token_name_problem(longest), "too_long");
	assert_int_equal(cu_token_create(f->ctx, NULL, CU_ROLE_STAFF, longest, 0, secret, id),
	                 CU_ERR_INVALID_ARGUMENT);
	for (int i = 0; i < CU_TOKEN_NAME_MAX; i++)
		memcpy(wide + 3 * i, "\xe5\x8f\x97", 3); /* 受 */
	wide[3 * CU_TOKEN_NAME_MAX] = '\0';
	assert_null(cu_token_name_problem(wide));
	assert_null(cu_token_name_problem("株式会社 Example — support"));
	assert_int_equal(cu_test_audit_count(f->ctx), entries);
	assert_int_equal(cu_token_list(f->ctx->store, count_tokens, &n), CU_OK);
	assert_int_equal(n, 0);

	create_ok(f->ctx, CU_ROLE_SUBCONTRACTOR, wide, 0, secret, id);
	{
		cu_token_info t;

		assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t),
		                 CU_OK);
		assert_string_equal(t.name, wide);
	}
}

/* Only the operator and admins issue or revoke tokens; others are refused and audited. */
static void test_who_may_manage(void **state)
{
	struct fx *f = *state;
	static const cu_actor staff = {"Support desk", CU_ROLE_STAFF, NULL, NULL};
	static const cu_actor admin = {"Site admin", CU_ROLE_ADMIN, NULL, NULL};
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	unsigned long long entries = cu_test_audit_count(f->ctx);
	int n = 0;

	assert_int_equal(
	    cu_token_create(f->ctx, &staff, CU_ROLE_ADMIN, "Me, promoted", 0, secret, id),
	    CU_ERR_FORBIDDEN);
	assert_string_equal(secret, "");
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 1);
	assert_int_equal(cu_token_list(f->ctx->store, count_tokens, &n), CU_OK);
	assert_int_equal(n, 0);

	assert_int_equal(cu_token_create(f->ctx, &admin, CU_ROLE_STAFF, "New hire", 0, secret, id),
	                 CU_OK);
	assert_int_equal(cu_token_revoke(f->ctx, &staff, id), CU_ERR_FORBIDDEN);
	{
		cu_token_info t;

		assert_int_equal(cu_token_get(f->ctx->store, id, &t), CU_OK);
		assert_int_equal(t.revoked_us, 0);
	}
	assert_int_equal(cu_token_revoke(f->ctx, &admin, id), CU_OK);
	create_ok(f->ctx, CU_ROLE_ADMIN, "Second admin", 0, secret, id2);
	assert_int_equal(cu_test_audit_count(f->ctx), entries + 5);
}

struct entries {
	int n;
	char action[8][24], actor[8][24], role[8][24], decision[8][8], reason[8][400];
};

static int keep_entry(void *ud, const cu_audit_entry *e)
{
	struct entries *l = ud;

	if (l->n < 8) {
		snprintf(l->action[l->n], sizeof(l->action[0]), "%s", e->action);
		snprintf(l->actor[l->n], sizeof(l->actor[0]), "%s", e->actor);
		snprintf(l->role[l->n], sizeof(l->role[0]), "%s", e->role);
		snprintf(l->decision[l->n], sizeof(l->decision[0]), "%s", e->decision);
		snprintf(l->reason[l->n], sizeof(l->reason[0]), "%s", e->reason);
	}
	l->n++;
	return 0;
}

static void test_audit_entries(void **state)
{
	struct fx *f = *state;
	static const cu_actor admin = {"Site admin", CU_ROLE_ADMIN, NULL, NULL};
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
	uint64_t from = cu_test_audit_count(f->ctx) + 1;
	struct entries l = {0};
	cu_audit_report r;

	create_ok(f->ctx, CU_ROLE_ANALYST, "Research team", cu_now_us() + HOUR_US, secret, id);
	assert_int_equal(cu_token_revoke(f->ctx, &admin, id), CU_OK);
	assert_int_equal(cu_store_audit_scan(f->ctx->store, from, NULL, keep_entry, &l), CU_OK);
	assert_int_equal(l.n, 2);

	assert_string_equal(l.action[0], "token_create");
	assert_string_equal(l.actor[0], "operator");
	assert_string_equal(l.role[0], "operator");
	assert_string_equal(l.decision[0], "done");
	assert_non_null(strstr(l.reason[0], id));
	assert_non_null(strstr(l.reason[0], "analyst"));
	assert_non_null(strstr(l.reason[0], "Research team"));
	assert_non_null(strstr(l.reason[0], "expires"));

	assert_string_equal(l.action[1], "token_revoke");
	assert_string_equal(l.actor[1], "Site admin");
	assert_string_equal(l.role[1], "admin");
	assert_non_null(strstr(l.reason[1], id));
	assert_non_null(strstr(l.reason[1], "Research team"));

	for (int i = 0; i < 2; i++) {
		assert_null(strstr(l.reason[i], secret + 3));
		assert_null(strstr(l.reason[i], "cu_"));
	}
	assert_int_equal(cu_audit_verify(f->ctx->store, &r, NULL, NULL), CU_OK);
	assert_int_equal(r.checked, cu_test_audit_count(f->ctx));
}

struct listing {
	int64_t now;
	int n;
	char ids[4][CU_ID_LEN + 1];
	cu_token_status status[4];
};

static int keep_token(void *ud, const cu_token_info *t)
{
	struct listing *l = ud;

	if (l->n < 4) {
		memcpy(l->ids[l->n], t->id, sizeof(l->ids[0]));
		l->status[l->n] = cu_token_status_at(t, l->now);
	}
	l->n++;
	return 0;
}

static void test_list(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], ids[3][CU_ID_LEN + 1];
	struct listing l = {0};

	create_ok(f->ctx, CU_ROLE_STAFF, "One", 0, secret, ids[0]);
	create_ok(f->ctx, CU_ROLE_STAFF, "Two", cu_now_us() + 60 * 1000000, secret, ids[1]);
	create_ok(f->ctx, CU_ROLE_STAFF, "Three", 0, secret, ids[2]);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, ids[2]), CU_OK);
	/* An hour on, "Two" has expired. */
	l.now = cu_now_us() + HOUR_US;
	assert_int_equal(cu_token_list(f->ctx->store, keep_token, &l), CU_OK);
	assert_int_equal(l.n, 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(l.ids[i], ids[i]);
	assert_int_equal(l.status[0], CU_TOKEN_ACTIVE);
	assert_int_equal(l.status[1], CU_TOKEN_EXPIRED);
	assert_int_equal(l.status[2], CU_TOKEN_REVOKED);
	assert_string_equal(cu_token_status_name(CU_TOKEN_REVOKED), "revoked");
	assert_string_equal(cu_token_status_name(CU_TOKEN_EXPIRED), "expired");
	assert_string_equal(cu_token_status_name(CU_TOKEN_ACTIVE), "active");
}

/* Inside a caller's transaction: its rollback takes the token back, audit and all. */
static void test_caller_transaction(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
	unsigned long long entries = cu_test_audit_count(f->ctx);
	cu_token_info t;
	int n = 0;

	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	create_ok(f->ctx, CU_ROLE_STAFF, "Temp", 0, secret, id);
	cu_tx_rollback(f->ctx);
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_token_list(f->ctx->store, count_tokens, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_test_audit_count(f->ctx), entries);

	/* Revoking an unknown id writes nothing and does not spoil the caller's commit. */
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	create_ok(f->ctx, CU_ROLE_STAFF, "Kept", 0, secret, id);
	assert_int_equal(cu_token_revoke(f->ctx, NULL, "no-such-token"), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	assert_int_equal(cu_token_authenticate(f->ctx->store, secret, cu_now_us(), &t), CU_OK);
	{
		cu_audit_report r;

		assert_int_equal(cu_audit_verify(f->ctx->store, &r, NULL, NULL), CU_OK);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_and_authenticate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_secret, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_secret_not_stored, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_role_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_invalid_name_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_who_may_manage, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_caller_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
