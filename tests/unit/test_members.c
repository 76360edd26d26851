/*
 * test_members.c — registration, validation, lookup, eligibility, erasure,
 * and the rule that no personal value reaches the disk in plaintext.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/sessions.h"
#include "vault/record.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

/* Distinctive values: if any of these bytes shows up on disk, plaintext leaked. */
static const cu_kv alice[] = {
    {"name", "Zyxwvut Alicequorn"},  {"address", "77 Quillfeather Lane, Snowmarsh"},
    {"phone", "090-1234-5678"},      {"email", "Alice.Quorn@Example.ORG"},
    {"occupation", "Glassblowerxq"},
};

static const cu_kv bob[] = {
    {"name", "Bob Rook"},
    {"address", "1 Main St"},
    {"phone", "+44 20 7946 0018"},
    {"email", "bob@example.net"},
};

static uint64_t member_count(cu_ctx *ctx)
{
	uint64_t n = 0;

	assert_int_equal(cu_store_member_count(ctx->store, &n), CU_OK);
	return n;
}

static int has_error(const cu_errors *e, const char *field, const char *reason)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->e[i].field, field) && !strcmp(e->e[i].reason, reason))
			return 1;
	return 0;
}

static void register_ok(cu_ctx *ctx, const cu_kv *kv, size_t n, char id[CU_ID_LEN + 1])
{
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, n, NULL, id, &errs), CU_OK);
	assert_int_equal(strlen(id), CU_ID_LEN);
}

static void test_normalise(void **state)
{
	char out[300];

	(void)state;
	assert_int_equal(cu_member_normalise_email("  Alice@Example.COM ", out, sizeof(out)),
	                 CU_OK);
	assert_string_equal(out, "alice@example.com");
	assert_int_equal(cu_member_normalise_phone("090-1234-5678", out, sizeof(out)), CU_OK);
	assert_string_equal(out, "+819012345678");
	assert_int_equal(cu_member_normalise_phone("03 (1234) 5678", out, sizeof(out)), CU_OK);
	assert_string_equal(out, "+81312345678");
	assert_int_equal(cu_member_normalise_phone("+81 90 1234 5678", out, sizeof(out)), CU_OK);
	assert_string_equal(out, "+819012345678");
	assert_int_equal(cu_member_normalise_phone("+1 (415) 555-0100", out, sizeof(out)), CU_OK);
	assert_string_equal(out, "+14155550100");

	static const char *bad_email[] = {"",          "plain",         "a@b",        "a@@b.com",
	                                  ".a@b.com",  "a.@b.com",      "a..b@c.com", "a@-b.com",
	                                  "a@b-.com",  "a@b..com",      "a@b.com.",   "a b@c.com",
	                                  "a@b_c.com", "\xc3\xa9@b.com"};
	for (size_t i = 0; i < N(bad_email); i++)
		assert_int_equal(cu_member_normalise_email(bad_email[i], out, sizeof(out)),
		                 CU_ERR_INVALID_FIELD);
	static const char *bad_phone[] = {"",
	                                  "12345",
	                                  "+0123456789",
	                                  "+1234567",
	                                  "+1234567890123456",
	                                  "90-1234-5678",
	                                  "0012345678",
	                                  "090-1234-567x",
	                                  "090/1234/5678",
	                                  "0901234567890"};
	for (size_t i = 0; i < N(bad_phone); i++)
		assert_int_equal(cu_member_normalise_phone(bad_phone[i], out, sizeof(out)),
		                 CU_ERR_INVALID_FIELD);
}

static void test_register_and_find(void **state)
{
	char *dir, id[CU_ID_LEN + 1], found[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);

	(void)state;
	register_ok(ctx, alice, N(alice), id);
	register_ok(ctx, bob, N(bob), id2);
	assert_string_not_equal(id, id2);
	assert_int_equal(member_count(ctx), 2);

	assert_int_equal(cu_member_find(ctx, &service, "email", " alice.quorn@EXAMPLE.org", found),
	                 CU_OK);
	assert_string_equal(found, id);
	/* The same number written the two documented ways finds the same member. */
	assert_int_equal(cu_member_find(ctx, &service, "phone", "+81 90-1234-5678", found), CU_OK);
	assert_string_equal(found, id);
	assert_int_equal(cu_member_find(ctx, &service, "phone", "+442079460018", found), CU_OK);
	assert_string_equal(found, id2);
	assert_int_equal(cu_member_find(ctx, &service, "email", "nobody@example.org", found),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_member_find(ctx, &service, "email", "not-an-email", found),
	                 CU_ERR_INVALID_FIELD);
	cu_test_ctx_free(ctx, dir);
}

/* Each bad registration is refused with the field named and stores nothing. */
static void test_invalid_registration_stores_nothing(void **state)
{
	static const struct {
		const char *field, *value, *reason;
	} cases[] = {
	    {"email", "", "required"},
	    {"email", "   ", "required"},
	    {"email", "alice@", "malformed"},
	    {"phone", "12-34", "malformed"},
	    {"name", "Bad\x01Name", "malformed"},
	    {"name",
	     "Bad\xff\xfe"
	     "Name",
	     "invalid_utf8"},
	    {"name", "Over\xc0\xafLong", "invalid_utf8"},
	    {"name", "Surrogate\xed\xa0\x80", "invalid_utf8"},
	    {"address",
	     "C1\xc2\x85"
	     "control",
	     "malformed"},
	    {"date_of_birth", "1990-02-30", "malformed"},
	    {"date_of_birth", "19900101", "malformed"},
	    {"age", "abc", "not_a_number"},
	    {"age", "151", "out_of_range"},
	    {"age", "-1", "out_of_range"},
	    {"shoe_size", "44", "unknown_field"},
	};
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	unsigned long long audits = cu_test_audit_count(ctx);

	(void)state;
	for (size_t c = 0; c < N(cases); c++) {
		cu_kv kv[N(bob) + 1];
		size_t n = 0;
		int replaced = 0;
		cu_errors errs;

		for (size_t i = 0; i < N(bob); i++) {
			kv[n] = bob[i];
			if (!strcmp(bob[i].name, cases[c].field)) {
				kv[n].value = cases[c].value;
				replaced = 1;
			}
			n++;
		}
		if (!replaced)
			kv[n++] = (cu_kv){cases[c].field, cases[c].value};
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, n, NULL, id, &errs),
		                 CU_ERR_INVALID_FIELD);
		if (!has_error(&errs, cases[c].field, cases[c].reason))
			fail_msg("case %zu: expected %s: %s", c, cases[c].field, cases[c].reason);
		assert_string_equal(id, "");
	}
	/* A missing field (not just an empty one) and a repeated one. */
	{
		cu_errors errs;

		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, bob, 3, NULL, id, &errs),
		                 CU_ERR_INVALID_FIELD);
		assert_true(has_error(&errs, "email", "required"));
		cu_kv twice[] = {bob[0], bob[1], bob[2], bob[3], {"name", "Again"}};
		cu_errors_init(&errs);
		assert_int_equal(
		    cu_member_register(ctx, &service, twice, N(twice), NULL, id, &errs),
		    CU_ERR_INVALID_FIELD);
		assert_true(has_error(&errs, "name", "duplicate"));
	}
	/* Too long, by one byte. */
	{
		char longname[202];
		cu_errors errs;

		memset(longname, 'x', 201);
		longname[201] = '\0';
		cu_kv kv[] = {{"name", longname}, bob[1], bob[2], bob[3]};
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs),
		                 CU_ERR_INVALID_FIELD);
		assert_true(has_error(&errs, "name", "too_long"));
		longname[200] = '\0';
		register_ok(ctx, kv, N(kv), id);
	}
	assert_int_equal(member_count(ctx), 1);
	assert_int_equal(cu_test_audit_count(ctx), audits + 1);
	cu_test_ctx_free(ctx, dir);
}

/*
 * An unknown field's name is repeated in the error only when it has a field
 * name's form: a key a client typed may be an e-mail address (issue 8).
 */
static void test_unknown_field_name_not_echoed(void **state)
{
	static const struct {
		const char *name, *shown;
	} cases[] = {
	    {"shoe_size", "shoe_size"},
	    {"hanako@example.org", "(field name)"},
	    {"Hanako Tanaka", "(field name)"},
	    {"+81 90 1234 5678", "(field name)"},
	    {"", "(field name)"},
	    {"a_name_longer_than_any_field_name_could_ever_be", "(field name)"},
	};
	char *dir;
	cu_ctx *ctx = cu_test_ctx_new(&dir);

	(void)state;
	for (size_t c = 0; c < N(cases); c++) {
		cu_kv kv[] = {{cases[c].name, "x"}};
		cu_errors errs;

		cu_errors_init(&errs);
		assert_int_equal(cu_member_validate(ctx->policy, kv, 1, false, &errs),
		                 CU_ERR_INVALID_FIELD);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.e[0].field, cases[c].shown);
		assert_string_equal(errs.e[0].reason, "unknown_field");
	}
	cu_test_ctx_free(ctx, dir);
}

static void test_duplicate_email_refused(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_kv again[] = {{"name", "Other"},
	                 {"address", "x"},
	                 {"phone", "0312345678"},
	                 {"email", "  ALICE.QUORN@example.org"}};
	cu_errors errs;

	(void)state;
	register_ok(ctx, alice, N(alice), id);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, again, N(again), NULL, id, &errs),
	                 CU_ERR_CONFLICT);
	assert_true(has_error(&errs, "email", "duplicate"));
	assert_int_equal(member_count(ctx), 1);
	cu_test_ctx_free(ctx, dir);
}

/* The invariant of DESIGN.md: the database and its log hold no plaintext (on either store). */
static void test_no_plaintext_on_disk(void **state)
{
	char *dir, id[CU_ID_LEN + 1], path[600];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_access_request req = {.actor = &cu_test_operator,
	                         .purpose = "support",
	                         .member = NULL,
	                         .fields = 0,
	                         .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;

	(void)state;
	register_ok(ctx, alice, N(alice), id);
	/* Reads and lookups write audit entries: those must not carry values either. */
	req.member = id;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	cu_record_wipe(&rec);
	{
		char found[CU_ID_LEN + 1];

		assert_int_equal(cu_member_find(ctx, &service, "email", alice[3].value, found),
		                 CU_OK);
	}
	snprintf(path, sizeof(path), "%s/var", dir);
	for (size_t i = 0; i < N(alice); i++)
		if (cu_test_store_files_contain_text(path, alice[i].value))
			fail_msg("the store's files hold the plaintext of %s", alice[i].name);
	assert_false(cu_test_store_files_contain_text(path, "alice.quorn@example.org"));
	assert_false(cu_test_store_files_contain_text(path, "+819012345678"));
	/* The files were really written to (the test would be empty otherwise). */
	assert_true(cu_test_store_files_contain_text(path, id));
	cu_test_ctx_free(ctx, dir);
}

static void test_eligibility(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	const cu_policy *p;
	cu_fieldset missing;
	cu_errors errs;

	(void)state;
	p = ctx->policy;
	register_ok(ctx, alice, N(alice), id);
	/* Alice answered occupation only. */
	assert_int_equal(cu_member_eligibility(ctx, &service, "newsletter", id, &missing), CU_OK);
	assert_true(missing == 0);
	assert_int_equal(cu_member_eligibility(ctx, &service, "live_classes", id, &missing), CU_OK);
	assert_true(missing == (cu_fieldset)1 << cu_policy_field_index(p, "hobbies"));
	assert_int_equal(cu_member_eligibility(ctx, &service, "career_coaching", id, &missing),
	                 CU_OK);
	assert_true(missing == ((cu_fieldset)1 << cu_policy_field_index(p, "date_of_birth") |
	                        (cu_fieldset)1 << cu_policy_field_index(p, "income")));

	/* The member answers one more; exactly that one drops out. */
	cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	cu_kv answer[] = {{"income", "5-7M JPY"}};
	cu_errors_init(&errs);
	assert_int_equal(cu_member_update(ctx, &self, NULL, id, answer, 1, &errs), CU_OK);
	assert_int_equal(cu_member_eligibility(ctx, &service, "career_coaching", id, &missing),
	                 CU_OK);
	assert_true(missing == (cu_fieldset)1 << cu_policy_field_index(p, "date_of_birth"));
	/* Clearing an answer makes it missing again. */
	cu_kv clear[] = {{"occupation", ""}};
	assert_int_equal(cu_member_update(ctx, &self, NULL, id, clear, 1, &errs), CU_OK);
	assert_int_equal(cu_member_eligibility(ctx, &service, "live_classes", id, &missing), CU_OK);
	assert_true(missing == ((cu_fieldset)1 << cu_policy_field_index(p, "hobbies") |
	                        (cu_fieldset)1 << cu_policy_field_index(p, "occupation")));

	assert_int_equal(cu_member_eligibility(ctx, &service, "no_such_service", id, &missing),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(
	    cu_member_eligibility(ctx, &service, "newsletter", "AAAAAAAAAAAAAAAAAAAAAA", &missing),
	    CU_ERR_NOT_FOUND);
	cu_test_ctx_free(ctx, dir);
}

static void test_update_rules(void **state)
{
	char *dir, id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1], found[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_errors errs;
	cu_access_request req = {.actor = &cu_test_operator,
	                         .purpose = "support",
	                         .member = NULL,
	                         .fields = 0,
	                         .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;

	(void)state;
	register_ok(ctx, alice, N(alice), id);
	register_ok(ctx, bob, N(bob), id2);
	cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	cu_actor other = {id2, CU_ROLE_MEMBER, id2, NULL};
	cu_kv newmail[] = {{"email", "alice@new.example"}};

	cu_errors_init(&errs);
	assert_int_equal(cu_member_update(ctx, &other, NULL, id, newmail, 1, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_update(ctx, &self, NULL, id, newmail, 1, &errs), CU_OK);
	/* The blind index follows the change. */
	assert_int_equal(cu_member_find(ctx, &service, "email", "alice@new.example", found), CU_OK);
	assert_string_equal(found, id);
	assert_int_equal(cu_member_find(ctx, &service, "email", alice[3].value, found),
	                 CU_ERR_NOT_FOUND);
	/* A required field cannot be cleared; a taken e-mail cannot be claimed. */
	cu_kv clear_name[] = {{"name", ""}};
	assert_int_equal(cu_member_update(ctx, &self, NULL, id, clear_name, 1, &errs),
	                 CU_ERR_INVALID_FIELD);
	cu_kv steal[] = {{"email", "BOB@example.net"}};
	assert_int_equal(cu_member_update(ctx, &self, NULL, id, steal, 1, &errs), CU_ERR_CONFLICT);
	/* Staff may change only what the named purpose allows. */
	cu_actor staff = {"support-desk", CU_ROLE_STAFF, NULL, NULL};
	cu_kv phone[] = {{"phone", "+81 3 1234 5678"}};
	cu_kv income[] = {{"income", "high"}};
	assert_int_equal(cu_member_update(ctx, &staff, "support", id, phone, 1, &errs), CU_OK);
	assert_int_equal(cu_member_update(ctx, &staff, "support", id, income, 1, &errs),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	/* Unchanged fields survive an update intact. */
	req.member = id;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "name")),
	                    alice[0].value);
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "phone")),
	                    "+81 3 1234 5678");
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "email")),
	                    "alice@new.example");
	cu_record_wipe(&rec);
	cu_test_ctx_free(ctx, dir);
}

/* Erased: unreadable, unfindable, and its wrapped key gone from every file. */
static void test_erase_shreds(void **state)
{
	char *dir, id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1], found[CU_ID_LEN + 1], path[600];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_member_row before = {0}, after = {0}, other = {0};
	cu_record_entry ents[CU_POLICY_FIELDS_MAX];
	cu_access_request req = {.actor = &cu_test_operator,
	                         .purpose = "support",
	                         .member = NULL,
	                         .fields = 0,
	                         .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;
	cu_data_key dk;
	size_t n;
	unsigned char buf[512];
	size_t len;

	(void)state;
	register_ok(ctx, alice, N(alice), id);
	register_ok(ctx, bob, N(bob), id2);
	assert_int_equal(cu_store_member_get(ctx->store, id, &before), CU_OK);
	/* Make sure the wrapped key was on disk to begin with. */
	assert_int_equal(cu_store_checkpoint(ctx->store), CU_OK);
	snprintf(path, sizeof(path), "%s/var", dir);
	assert_true(cu_test_store_tables_contain(ctx->config.store, path, "members", before.wrapped,
	                                         sizeof(before.wrapped)));

	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	cu_session_info si;
	assert_int_equal(cu_session_create(ctx, id, 3600000000LL, secret, csrf), CU_OK);
	assert_int_equal(cu_session_check(ctx->store, secret, cu_now_us(), &si), CU_OK);

	cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
	assert_int_equal(cu_erasure_carry_out(ctx, &staff, id, NULL, cu_now_us(), NULL),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, id, NULL, cu_now_us(), NULL),
	                 CU_OK);
	/* Logged out everywhere. */
	assert_int_equal(cu_session_check(ctx->store, secret, cu_now_us(), &si),
	                 CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, id, NULL, cu_now_us(), NULL),
	                 CU_ERR_ERASED);

	req.member = id;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_ERASED);
	assert_int_equal(rec.n, 0);
	assert_int_equal(cu_member_find(ctx, &service, "email", alice[3].value, found),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_member_find(ctx, &service, "phone", alice[2].value, found),
	                 CU_ERR_NOT_FOUND);

	assert_int_equal(cu_store_member_get(ctx->store, id, &after), CU_OK);
	assert_true(after.erased);
	assert_null(after.fields);
	/* No table holds the wrapped key any more (on PostgreSQL, once vacuumed) ... */
	assert_true(cu_test_store_tables_clear_of(ctx->config.store, path, "members",
	                                          before.wrapped, sizeof(before.wrapped)));
	/* ... and no key that remains opens the old ciphertext: not another member's. */
	assert_int_equal(cu_store_member_get(ctx->store, id2, &other), CU_OK);
	assert_int_equal(cu_vault_unwrap(ctx->vault, id2, other.key_id, other.wrapped, &dk), CU_OK);
	assert_int_equal(
	    cu_record_parse(before.fields, before.fields_len, ents, CU_POLICY_FIELDS_MAX, &n),
	    CU_OK);
	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		char name[64];

		memcpy(name, ents[i].name, ents[i].name_len);
		name[ents[i].name_len] = '\0';
		assert_int_equal(
		    cu_vault_open(&dk, id, name, ents[i].sealed, ents[i].sealed_len, buf, &len),
		    CU_ERR_CRYPTO);
	}
	cu_vault_data_key_wipe(&dk);
	cu_member_row_release(&before);
	cu_member_row_release(&after);
	cu_member_row_release(&other);
	cu_test_ctx_free(ctx, dir);
}

/* A batch with a duplicate in the middle keeps the others. */
static void test_batch_with_duplicate(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_errors errs;

	(void)state;
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	register_ok(ctx, alice, N(alice), id);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, alice, N(alice), NULL, id, &errs),
	                 CU_ERR_CONFLICT);
	register_ok(ctx, bob, N(bob), id);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	assert_int_equal(member_count(ctx), 2);
	{
		cu_audit_report r;

		assert_int_equal(cu_audit_verify(ctx->store, &r, NULL, NULL), CU_OK);
	}
	cu_test_ctx_free(ctx, dir);
}

/* An inner level is a savepoint: undone alone, with its audit entries. */
static void test_nested_rollback(void **state)
{
	char *dir, id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1], found[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	unsigned long long audits = cu_test_audit_count(ctx);
	cu_audit_report r;

	(void)state;
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	register_ok(ctx, alice, N(alice), id);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	register_ok(ctx, bob, N(bob), id2);
	cu_tx_rollback(ctx);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	assert_int_equal(member_count(ctx), 1);
	assert_int_equal(cu_test_audit_count(ctx), audits + 1);
	assert_int_equal(cu_member_find(ctx, &service, "email", bob[3].value, found),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_member_find(ctx, &service, "email", alice[3].value, found), CU_OK);
	assert_int_equal(cu_audit_verify(ctx->store, &r, NULL, NULL), CU_OK);
	assert_int_equal(r.checked, audits + 3);
	cu_test_ctx_free(ctx, dir);
}

/* Two writers on one directory (the command line while a server runs) keep one chain. */
static void test_two_writers(void **state)
{
	char *dir, id[CU_ID_LEN + 1], path[600], err[256];
	cu_ctx *a = cu_test_ctx_new(&dir), *b = NULL;
	cu_audit_report r;

	(void)state;
	snprintf(path, sizeof(path), "%s/var", dir);
	assert_int_equal(cu_ctx_open(path, &b, err, sizeof(err)), CU_OK);
	register_ok(a, alice, N(alice), id);
	register_ok(b, bob, N(bob), id);
	register_ok(a,
	            (cu_kv[]){{"name", "C"},
	                      {"address", "c"},
	                      {"phone", "0312345679"},
	                      {"email", "c@example.com"}},
	            4, id);
	assert_int_equal(cu_audit_verify(a->store, &r, NULL, NULL), CU_OK);
	assert_int_equal(r.checked, cu_audit_head_seq(a->audit));
	cu_ctx_close(b);
	cu_test_ctx_free(a, dir);
}

static void test_password(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_member_row row = {0};
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, bob, N(bob), "short", id, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_true(has_error(&errs, "password", "too_short"));
	assert_int_equal(cu_member_register(ctx, &service, bob, N(bob), "correct horse", id, &errs),
	                 CU_OK);
	assert_int_equal(cu_store_member_get(ctx->store, id, &row), CU_OK);
	assert_non_null(row.password_hash);
	assert_null(strstr(row.password_hash, "correct horse"));
	assert_int_equal(cu_vault_password_verify(row.password_hash, "correct horse"), CU_OK);
	assert_int_equal(cu_vault_password_verify(row.password_hash, "wrong horse"),
	                 CU_ERR_UNAUTHENTICATED);
	cu_member_row_release(&row);
	cu_test_ctx_free(ctx, dir);
}

/* The password the member logs in with, as a login checks it (sessions.h). */
static cu_result password_is(cu_ctx *ctx, const char *id, const char *password)
{
	cu_member_row row = {0};
	cu_result rc = cu_store_member_get(ctx->store, id, &row);

	if (!rc)
		rc = row.password_hash ? cu_vault_password_verify(row.password_hash, password)
		                       : CU_ERR_UNAUTHENTICATED;
	cu_member_row_release(&row);
	return rc;
}

static void test_set_password(void **state)
{
	char *dir, id[CU_ID_LEN + 1], other[CU_ID_LEN + 1], path[600];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_errors errs;
	const cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	const cu_actor someone_else = {other, CU_ROLE_MEMBER, other, NULL};
	const cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
	const cu_actor officer = {"dpo", CU_ROLE_OFFICER, NULL, NULL};
	char long_password[1026];
	unsigned long long audits;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, bob, N(bob), "correct horse", id, &errs),
	                 CU_OK);
	register_ok(ctx, alice, N(alice), other);
	assert_int_equal(password_is(ctx, id, "correct horse"), CU_OK);

	/* The member sets a new one: the old no longer works, the new one does. */
	audits = cu_test_audit_count(ctx);
	assert_int_equal(cu_member_set_password(ctx, &self, id, "battery staple"), CU_OK);
	assert_int_equal(password_is(ctx, id, "correct horse"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(password_is(ctx, id, "battery staple"), CU_OK);
	assert_int_equal(cu_test_audit_count(ctx), audits + 1);
	/* The operator may set one too (a member without one gets one). */
	assert_int_equal(password_is(ctx, other, "tr0ub4dor&3"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_member_set_password(ctx, &cu_test_operator, other, "tr0ub4dor&3"),
	                 CU_OK);
	assert_int_equal(password_is(ctx, other, "tr0ub4dor&3"), CU_OK);
	assert_int_equal(cu_test_audit_count(ctx), audits + 2);

	/* Refused, and nothing changes: another member, staff, an officer, nobody ... */
	assert_int_equal(cu_member_set_password(ctx, &someone_else, id, "stolen password"),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_set_password(ctx, &staff, id, "stolen password"),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_set_password(ctx, &officer, id, "stolen password"),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_set_password(ctx, NULL, id, "stolen password"),
	                 CU_ERR_FORBIDDEN);
	/* ... too short, too long, none ... */
	assert_int_equal(cu_member_set_password(ctx, &self, id, "short"), CU_ERR_INVALID_FIELD);
	memset(long_password, 'p', sizeof(long_password) - 1);
	long_password[sizeof(long_password) - 1] = '\0';
	assert_int_equal(cu_member_set_password(ctx, &self, id, long_password),
	                 CU_ERR_INVALID_FIELD);
	long_password[1024] = '\0';
	assert_int_equal(cu_member_set_password(ctx, &cu_test_operator, other, long_password),
	                 CU_OK);
	assert_int_equal(password_is(ctx, other, long_password), CU_OK);
	assert_int_equal(cu_member_set_password(ctx, &self, id, NULL), CU_ERR_INVALID_FIELD);
	/* ... an unknown member, an erased one. */
	assert_int_equal(cu_member_set_password(ctx, &cu_test_operator, "AAAAAAAAAAAAAAAAAAAAAA",
	                                        "a fine password"),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(password_is(ctx, id, "battery staple"), CU_OK);
	assert_int_equal(password_is(ctx, id, "stolen password"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_test_audit_count(ctx), audits + 3);

	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, id, NULL, cu_now_us(), NULL),
	                 CU_OK);
	assert_int_equal(cu_member_set_password(ctx, &self, id, "after the erasure"),
	                 CU_ERR_ERASED);

	/* Never stored in clear. */
	assert_int_equal(cu_store_checkpoint(ctx->store), CU_OK);
	snprintf(path, sizeof(path), "%s/var/custodian.db", dir);
	assert_false(cu_test_file_contains(path, "battery staple"));
	assert_false(cu_test_file_contains(path, "tr0ub4dor&3"));
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalise),
	    cmocka_unit_test(test_register_and_find),
	    cmocka_unit_test(test_invalid_registration_stores_nothing),
	    cmocka_unit_test(test_unknown_field_name_not_echoed),
	    cmocka_unit_test(test_duplicate_email_refused),
	    cmocka_unit_test(test_no_plaintext_on_disk),
	    cmocka_unit_test(test_eligibility),
	    cmocka_unit_test(test_update_rules),
	    cmocka_unit_test(test_erase_shreds),
	    cmocka_unit_test(test_batch_with_duplicate),
	    cmocka_unit_test(test_nested_rollback),
	    cmocka_unit_test(test_two_writers),
	    cmocka_unit_test(test_password),
	    cmocka_unit_test(test_set_password),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
