/*
 * test_retention_identifiers.c — when a new policy version drops an
 * identifier (the telephone number) and its grace ends, the retention run
 * cuts it from every record that held it and its blind index goes with it:
 * the member can no longer be found by that number, while the e-mail still
 * finds them and the rest of the record opens.  A member erased before the
 * run is left alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/retention.h"
#include "domain/versions.h"
#include "support.h"
#include "util/date.h"

#define N(a)      (sizeof(a) / sizeof((a)[0]))
#define ERR_BYTES 512

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

/* Removes field `name` from the fields, every purpose and every service. */
static void drop_field(json_t *p, const char *name)
{
	json_t *fields = json_object_get(p, "fields"), *v;
	size_t i;

	for (i = 0; i < json_array_size(fields); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(fields, i), "name")),
		            name))
			json_array_remove(fields, i--);
	json_array_foreach(json_object_get(p, "purposes"), i, v)
	{
		json_t *pf = json_object_get(v, "fields");

		for (size_t k = 0; k < json_array_size(pf); k++)
			if (!strcmp(json_string_value(json_array_get(pf, k)), name))
				json_array_remove(pf, k--);
	}
	json_array_foreach(json_object_get(p, "services"), i, v)
	{
		json_t *rq = json_object_get(v, "requires");

		for (size_t k = 0; k < json_array_size(rq); k++)
			if (!strcmp(json_string_value(json_array_get(rq, k)), name))
				json_array_remove(rq, k--);
	}
}

static void test_dropped_phone_is_no_longer_found(void **state)
{
	char *tmp, a[CU_ID_LEN + 1], b[CU_ID_LEN + 1], id[CU_ID_LEN + 1], err[ERR_BYTES] = "";
	cu_kv ka[] = {{"name", "Dialla Numberq"},
	              {"address", "12 Dial Road"},
	              {"phone", "03-5555-0123"},
	              {"email", "dialla@example.org"}};
	cu_kv kb[] = {{"name", "Erased Numberq"},
	              {"address", "13 Dial Road"},
	              {"phone", "03-5555-0124"},
	              {"email", "erasedn@example.org"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_policy *in_force = NULL;
	cu_retention_report rep;
	json_error_t je;
	json_t *p;
	char *doc;
	cu_errors errs;
	int64_t published;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, ka, N(ka), NULL, a, &errs), CU_OK);
	assert_int_equal(cu_member_register(ctx, &service, kb, N(kb), NULL, b, &errs), CU_OK);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "phone", "0355550123", id),
	                 CU_OK);
	assert_string_equal(id, a);
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, b, NULL, cu_now_us(), NULL),
	                 CU_OK);

	p = json_loadb(cu_default_policy_json, cu_default_policy_json_len, 0, &je);
	assert_non_null(p);
	json_object_set_new(p, "version", json_string("2027-05-01.1"));
	json_object_set_new(p, "retention", json_pack("{s:i}", "dropped_field_grace_days", 1));
	drop_field(p, "phone");
	doc = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	assert_non_null(doc);
	if (cu_versions_publish(ctx, &officer, doc, strlen(doc), &in_force, err, sizeof(err)))
		fail_msg("publish: %s", err);
	free(doc);
	cu_policy_free(ctx->policy);
	ctx->policy = in_force;
	published = cu_now_us();

	/* Within the grace: still found by the number. */
	assert_int_equal(
	    cu_retention_run(ctx, &cu_test_operator, published, NULL, NULL, NULL, &rep), CU_OK);
	assert_int_equal(rep.fields, 0);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "phone", "0355550123", id),
	                 CU_OK);

	/* After it: cut from the one live record that held it, and its index with it. */
	assert_int_equal(cu_retention_run(ctx, &cu_test_operator, published + 2 * CU_DAY_US, NULL,
	                                  NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.fields, 1);
	assert_int_equal(rep.members, 1);
	assert_int_equal(rep.erasures, 0);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "phone", "0355550123", id),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(
	    cu_member_lookup(ctx->vault, ctx->store, "email", "dialla@example.org", id), CU_OK);
	assert_string_equal(id, a);
	{
		cu_member_row row = {0};

		assert_int_equal(cu_store_member_get(ctx->store, a, &row), CU_OK);
		assert_false(row.has_phone_bidx);
		assert_true(row.has_email_bidx);
		cu_member_row_release(&row);
	}
	/* A second run finds nothing left to cut. */
	assert_int_equal(cu_retention_run(ctx, &cu_test_operator, published + 3 * CU_DAY_US, NULL,
	                                  NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.fields, 0);
	cu_test_ctx_free(ctx, tmp);
}

/* The same for the e-mail address: gone from the index, the telephone number still finds. */
static void test_dropped_email_is_no_longer_found(void **state)
{
	char *tmp, a[CU_ID_LEN + 1], id[CU_ID_LEN + 1], err[ERR_BYTES] = "";
	cu_kv ka[] = {{"name", "Maila Addressq"},
	              {"address", "15 Mail Road"},
	              {"phone", "03-5555-0125"},
	              {"email", "maila@example.org"}};
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_policy *in_force = NULL;
	cu_retention_report rep;
	json_error_t je;
	json_t *p;
	char *doc;
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, ka, N(ka), NULL, a, &errs), CU_OK);
	p = json_loadb(cu_default_policy_json, cu_default_policy_json_len, 0, &je);
	assert_non_null(p);
	json_object_set_new(p, "version", json_string("2027-06-01.1"));
	json_object_set_new(p, "retention", json_pack("{s:i}", "dropped_field_grace_days", 1));
	drop_field(p, "email");
	doc = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	assert_non_null(doc);
	if (cu_versions_publish(ctx, &officer, doc, strlen(doc), &in_force, err, sizeof(err)))
		fail_msg("publish: %s", err);
	free(doc);
	cu_policy_free(ctx->policy);
	ctx->policy = in_force;
	assert_int_equal(cu_retention_run(ctx, &cu_test_operator, cu_now_us() + 2 * CU_DAY_US, NULL,
	                                  NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.fields, 1);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "email", "maila@example.org", id),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "phone", "0355550125", id),
	                 CU_OK);
	assert_string_equal(id, a);
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dropped_phone_is_no_longer_found),
	    cmocka_unit_test(test_dropped_email_is_no_longer_found),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
