/*
 * test_members_refusals.c — what domain/members.h refuses, and that a refusal
 * changes nothing: an update by no one, by another member, under no purpose,
 * an unknown purpose (audited as malformed, not repeated), a purpose the role
 * may not use, an aggregate-only purpose, fields outside the purpose; an
 * amendment without a request, with nothing to change, or by staff; a find by
 * a role that may not, of an unknown kind or an overlong value; eligibility
 * for someone else or an unknown service; values the validator refuses (dates
 * and integers at their edges, telephone numbers that are not).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/members.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor analyst = {"numbers", CU_ROLE_ANALYST, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char id[CU_ID_LEN + 1], other[CU_ID_LEN + 1];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_kv a[] = {{"name", "Refusa Memberq"},
	             {"address", "4 Refusal Road"},
	             {"phone", "0312349901"},
	             {"email", "refusa@example.org"}};
	cu_kv b[] = {{"name", "Otherq Memberq"},
	             {"address", "5 Refusal Road"},
	             {"phone", "0312349902"},
	             {"email", "otherq@example.org"}};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, a, N(a), NULL, f->id, &errs), CU_OK);
	assert_int_equal(cu_member_register(f->ctx, &service, b, N(b), NULL, f->other, &errs),
	                 CU_OK);
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

/* The member's sealed record, as stored (a copy the caller frees). */
static unsigned char *sealed(cu_ctx *ctx, const char *id, size_t *len)
{
	cu_member_row row = {0};
	unsigned char *copy;

	assert_int_equal(cu_store_member_get(ctx->store, id, &row), CU_OK);
	*len = row.fields_len;
	copy = malloc(row.fields_len ? row.fields_len : 1);
	assert_non_null(copy);
	memcpy(copy, row.fields, row.fields_len);
	cu_member_row_release(&row);
	return copy;
}

static void test_update_refusals(void **state)
{
	struct fx *f = *state;
	cu_actor self_other = {f->other, CU_ROLE_MEMBER, f->other, NULL};
	cu_kv name[] = {{"name", "Changed Nameq"}};
	cu_kv age[] = {{"age", "50"}};
	struct {
		const cu_actor *actor;
		const char *purpose;
		const cu_kv *kv;
		cu_result want;
	} cases[] = {
	    {NULL, "support", name, CU_ERR_FORBIDDEN},
	    {&self_other, NULL, name, CU_ERR_FORBIDDEN},
	    {&staff, NULL, name, CU_ERR_PURPOSE_UNKNOWN},
	    {&staff, "no_such_purpose", name, CU_ERR_PURPOSE_UNKNOWN},
	    {&staff, "research", age, CU_ERR_PURPOSE_NOT_ALLOWED},
	    {&analyst, "materials", age, CU_ERR_AGGREGATE_ONLY},
	    {&staff, "support", age, CU_ERR_PURPOSE_NOT_ALLOWED},
	};
	unsigned long long before = cu_test_audit_count(f->ctx);
	size_t len0, len;
	unsigned char *rec0 = sealed(f->ctx, f->id, &len0), *rec;

	for (size_t i = 0; i < N(cases); i++) {
		cu_errors errs;

		cu_errors_init(&errs);
		if (cu_member_update(f->ctx, cases[i].actor, cases[i].purpose, f->id, cases[i].kv,
		                     1, &errs) != cases[i].want)
			fail_msg("update case %zu: not refused as expected", i);
	}
	/* Every refusal audited, and the record untouched. */
	assert_int_equal(cu_test_audit_count(f->ctx), before + N(cases));
	rec = sealed(f->ctx, f->id, &len);
	assert_int_equal(len, len0);
	assert_memory_equal(rec, rec0, len);
	free(rec);
	free(rec0);
	/* The unknown purpose is not repeated in the audit log. */
	{
		char url[1024];

		cu_test_ctx_store_url(f->ctx, url, sizeof(url));
		assert_int_equal(cu_test_store_sql_int(url, "select count(*) from audit where"
		                                            " purpose = 'no_such_purpose'"),
		                 0);
		/* A known purpose refused is (the query is seen to find rows). */
		assert_true(cu_test_store_sql_int(
		                url, "select count(*) from audit where purpose = 'research'") > 0);
	}
}

static void test_amend_refusals(void **state)
{
	struct fx *f = *state;
	cu_kv name[] = {{"name", "Amended Nameq"}};
	char long_request[CU_ID_LEN + 8];
	unsigned long long before;
	cu_errors errs;

	memset(long_request, 'r', sizeof(long_request) - 1);
	long_request[sizeof(long_request) - 1] = '\0';
	cu_errors_init(&errs);
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(cu_member_amend(f->ctx, &officer, f->id, NULL, name, 1, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_member_amend(f->ctx, &officer, f->id, "", name, 1, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_member_amend(f->ctx, &officer, f->id, long_request, name, 1, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_member_amend(f->ctx, &officer, f->id, "req1", name, 0, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_test_audit_count(f->ctx), before); /* argument errors: no entry */
	/* Staff may not carry out an amendment: refused and audited. */
	assert_int_equal(cu_member_amend(f->ctx, &staff, f->id, "req1", name, 1, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_amend(f->ctx, NULL, f->id, "req1", name, 1, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 2);
	/* A value the validator refuses, named by field. */
	{
		cu_kv bad[] = {{"age", "old"}};

		cu_errors_init(&errs);
		assert_int_equal(cu_member_amend(f->ctx, &officer, f->id, "req1", bad, 1, &errs),
		                 CU_ERR_INVALID_FIELD);
		assert_int_equal(errs.n, 1);
		assert_string_equal(errs.e[0].field, "age");
	}
}

static void test_find_and_lookup_refusals(void **state)
{
	struct fx *f = *state;
	cu_actor self = {f->id, CU_ROLE_MEMBER, f->id, NULL};
	char id[CU_ID_LEN + 1], long_value[CU_EMAIL_MAX + 8];
	unsigned long long before = cu_test_audit_count(f->ctx);

	memset(long_value, 'a', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(cu_member_find(f->ctx, &staff, "fax", "x", id), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_member_find(f->ctx, &staff, NULL, "x", id), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	/* A member may not search for others: refused, audited, no id given. */
	id[0] = 'x';
	assert_int_equal(cu_member_find(f->ctx, &self, "email", "otherq@example.org", id),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_find(f->ctx, NULL, "email", "otherq@example.org", id),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 2);
	assert_int_not_equal(cu_member_find(f->ctx, &staff, "email", long_value, id), CU_OK);
	assert_int_not_equal(cu_member_find(f->ctx, &staff, "phone", "not a phone", id), CU_OK);

	/* The login lookup: the same words for kinds and values, and no audit. */
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(cu_member_lookup(f->ctx->vault, f->ctx->store, "fax", "x", id),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_member_lookup(f->ctx->vault, f->ctx->store, "email", long_value, id),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(cu_member_lookup(f->ctx->vault, f->ctx->store, "email", NULL, id),
	                 CU_ERR_INVALID_FIELD);
	assert_int_not_equal(cu_member_lookup(f->ctx->vault, f->ctx->store, "phone", "12", id),
	                     CU_OK);
	assert_int_equal(
	    cu_member_lookup(f->ctx->vault, f->ctx->store, "phone", "03-1234-9902", id), CU_OK);
	assert_string_equal(id, f->other);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
}

static void test_eligibility_refusals(void **state)
{
	struct fx *f = *state;
	cu_actor self_other = {f->other, CU_ROLE_MEMBER, f->other, NULL};
	cu_actor self = {f->id, CU_ROLE_MEMBER, f->id, NULL};
	cu_fieldset missing = 1;

	assert_int_equal(cu_member_eligibility(f->ctx, NULL, "newsletter", f->id, &missing),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_member_eligibility(f->ctx, &self_other, "newsletter", f->id, &missing),
	                 CU_ERR_FORBIDDEN);
	assert_int_not_equal(
	    cu_member_eligibility(f->ctx, &self, "no_such_service", f->id, &missing), CU_OK);
	assert_int_not_equal(cu_member_eligibility(f->ctx, &self, NULL, f->id, &missing), CU_OK);
	assert_int_equal(cu_member_eligibility(f->ctx, &self, "newsletter", f->id, &missing),
	                 CU_OK);
}

static void test_values_at_their_edges(void **state)
{
	struct fx *f = *state;
	static const struct {
		const char *field, *value;
		bool ok;
	} cases[] = {
	    {"date_of_birth", "2000-02-29", true},
	    {"date_of_birth", "1900-02-29", false},
	    {"date_of_birth", "2001-02-29", false},
	    {"date_of_birth", "2000-13-01", false},
	    {"date_of_birth", "2000-00-10", false},
	    {"date_of_birth", "2000-01-00", false},
	    {"date_of_birth", "0999-01-01", false},
	    {"date_of_birth", "2000-0a-01", false},
	    {"date_of_birth", "2000/01/01", false},
	    {"date_of_birth", "2000-01-1", false},
	    {"date_of_birth", "2000-04-31", false},
	    {"age", " 40", false},
	    {"age", "40x", false},
	    {"age", "", true},
	    {"age", "99999999999999999999", false},
	    {"phone", "+44 20 7946 0958", true},
	    {"phone", "+0 20 7946 0958", false},
	    {"phone", "+1234567", false},
	    {"phone", "+1234567890123456", false},
	    {"phone", "003 1234 5678", false},
	    {"phone", "03-1234-567a", false},
	    {"phone", "  03 1234 5678", true},
	    {"phone", "031234567890123456789012345678901234567890", false},
	};

	for (size_t i = 0; i < N(cases); i++) {
		cu_kv kv[] = {{cases[i].field, cases[i].value}};
		cu_errors errs;
		cu_result rc;

		cu_errors_init(&errs);
		rc = cu_member_validate(f->ctx->policy, kv, 1, false, &errs);
		if ((rc == CU_OK) != cases[i].ok)
			fail_msg("%s '%s': %s", cases[i].field, cases[i].value,
			         cases[i].ok ? "refused" : "accepted");
		if (!cases[i].ok) {
			assert_int_equal(errs.n, 1);
			assert_string_equal(errs.e[0].field, cases[i].field);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_update_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_amend_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_and_lookup_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_eligibility_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_values_at_their_edges, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
