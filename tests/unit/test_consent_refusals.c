/*
 * test_consent_refusals.c — members' choices (domain/consent.h) refused on
 * each ground before anything is recorded: no member, no target, a kind that
 * is not one, someone choosing for another member, an overlong member id,
 * an erased member, a third party or cookie target that is not a name; the
 * policy acceptance by someone else or for an erased member; receipts that
 * are not receipts.  The member's list of choices stays empty.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

static int count(void *ud, const cu_consent_row *row)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

static void test_choices_refused(void **state)
{
	char *tmp, a[CU_ID_LEN + 1], b[CU_ID_LEN + 1], longid[CU_ID_LEN + 8], what[128] = "",
	                                                                      summary[128] = "";
	cu_kv ka[] = {{"name", "Chooser Aq"},
	              {"address", "17 Choice Row"},
	              {"phone", "0388000001"},
	              {"email", "chooser.a@example.org"}};
	cu_kv kb[] = {{"name", "Chooser Bq"},
	              {"address", "18 Choice Row"},
	              {"phone", "0388000002"},
	              {"email", "chooser.b@example.org"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_actor self_a, self_b, self_long;
	cu_consent_row row;
	cu_errors errs;
	int n = 0;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, ka, N(ka), NULL, a, &errs), CU_OK);
	assert_int_equal(cu_member_register(ctx, &service, kb, N(kb), NULL, b, &errs), CU_OK);
	self_a = (cu_actor){a, CU_ROLE_MEMBER, a, NULL};
	self_b = (cu_actor){b, CU_ROLE_MEMBER, b, NULL};
	memset(longid, 'A', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	self_long = (cu_actor){longid, CU_ROLE_MEMBER, longid, NULL};
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, b, NULL, cu_now_us(), NULL),
	                 CU_OK);

	assert_int_equal(cu_consent_set(ctx, &self_a, NULL, CU_CONSENT_PURPOSE, "product_news",
	                                true, &row, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_consent_set(ctx, &self_a, a, CU_CONSENT_PURPOSE, NULL, true, &row, &errs),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_consent_set(ctx, &self_a, a, (cu_consent_kind)9, "product_news", true, &row, &errs),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_consent_set(ctx, &self_a, b, CU_CONSENT_PURPOSE, "product_news", true, &row, &errs),
	    CU_ERR_FORBIDDEN);
	assert_int_equal(
	    cu_consent_set(ctx, NULL, a, CU_CONSENT_PURPOSE, "product_news", true, &row, &errs),
	    CU_ERR_FORBIDDEN);
	assert_int_equal(cu_consent_set(ctx, &self_long, longid, CU_CONSENT_PURPOSE, "product_news",
	                                true, &row, &errs),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(
	    cu_consent_set(ctx, &self_b, b, CU_CONSENT_PURPOSE, "product_news", true, &row, &errs),
	    CU_ERR_ERASED);
	cu_errors_init(&errs);
	assert_int_equal(cu_consent_set(ctx, &self_a, a, CU_CONSENT_THIRD_PARTY, "Not A Name!",
	                                true, &row, &errs),
	                 CU_ERR_INVALID_FIELD);
	cu_errors_init(&errs);
	assert_int_equal(cu_consent_set(ctx, &self_a, a, CU_CONSENT_COOKIE, "", true, &row, &errs),
	                 CU_ERR_INVALID_FIELD);

	/* The policy's acceptance, by someone else or for the erased member. */
	assert_int_equal(cu_consent_accept_policy(ctx, &self_a, b), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_consent_accept_policy(ctx, &self_a, NULL), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_consent_accept_policy(ctx, &self_b, b), CU_ERR_ERASED);

	/* Nothing recorded. */
	assert_int_equal(cu_consent_list(ctx->store, a, count, &n), CU_OK);
	assert_int_equal(n, 0);

	/* Receipts that are not receipts. */
	assert_int_not_equal(cu_consent_receipt_verify("{}", 2, ctx->vault, what, sizeof(what),
	                                               summary, sizeof(summary)),
	                     CU_OK);
	assert_true(what[0] != '\0');
	assert_int_not_equal(cu_consent_receipt_verify("not json", 8, ctx->vault, what,
	                                               sizeof(what), summary, sizeof(summary)),
	                     CU_OK);
	assert_int_not_equal(cu_consent_receipt_verify("{\"receipt\":{},\"signature\":\"zz\"}", 31,
	                                               ctx->vault, what, sizeof(what), summary,
	                                               sizeof(summary)),
	                     CU_OK);
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_choices_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
