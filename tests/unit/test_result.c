/*
 * test_result.c — the result table (src/util/result.c): every cu_result has
 * words, an API code and an HTTP status; codes are unique; the codes and
 * statuses clients see do not move.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/result.h"

static void test_every_result_has_a_code_a_status_and_words(void **state)
{
	(void)state;
	for (int i = 0; i < (int)CU_RESULT_COUNT_; i++) {
		cu_result rc = (cu_result)i;
		const char *code = cu_result_code(rc);
		int status = cu_result_http(rc);

		assert_non_null(code);
		assert_true(strlen(code) > 0);
		/* "internal" is the fallback for an unknown code: only CU_ERR_INTERNAL has it. */
		if (rc != CU_ERR_INTERNAL)
			assert_string_not_equal(code, "internal");
		assert_string_not_equal(cu_strerror(rc), "unknown error");
		if (rc == CU_OK)
			assert_int_equal(status, 200);
		else
			assert_true(status >= 400 && status <= 599);
	}
}

static void test_codes_are_unique(void **state)
{
	(void)state;
	for (int i = 0; i < (int)CU_RESULT_COUNT_; i++)
		for (int j = i + 1; j < (int)CU_RESULT_COUNT_; j++)
			assert_string_not_equal(cu_result_code((cu_result)i),
			                        cu_result_code((cu_result)j));
}

/* What clients saw before these codes joined the table (docs/api.md, Errors). */
static void test_server_codes_keep_their_status(void **state)
{
	static const struct {
		cu_result rc;
		const char *code;
		int status;
	} pinned[] = {
	    {CU_ERR_INVALID_ARGUMENT, "invalid_argument", 400},
	    {CU_ERR_NOT_FOUND, "not_found", 404},
	    {CU_ERR_CONFLICT, "conflict", 409},
	    {CU_ERR_INVALID_JSON, "invalid_json", 400},
	    {CU_ERR_CSRF_REQUIRED, "csrf_required", 403},
	    {CU_ERR_NOT_READY, "not_ready", 503},
	    {CU_ERR_INVALID_FRAMING, "invalid_framing", 400},
	    {CU_ERR_TOO_MANY_PARAMETERS, "too_many_parameters", 414},
	    {CU_ERR_PERSONAL_DATA_IN_URL, "personal_data_in_url", 400},
	    {CU_ERR_PURPOSE_REQUIRED, "purpose_required", 400},
	    {CU_ERR_TOO_FEW_MEMBERS, "too_few_members", 403},
	    {CU_ERR_BUDGET_EXHAUSTED, "budget_exhausted", 403},
	    {CU_ERR_NOISE_REQUIRED, "noise_required", 403},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(pinned) / sizeof(pinned[0]); i++) {
		assert_string_equal(cu_result_code(pinned[i].rc), pinned[i].code);
		assert_int_equal(cu_result_http(pinned[i].rc), pinned[i].status);
	}
}

static void test_out_of_range_is_internal(void **state)
{
	(void)state;
	assert_string_equal(cu_result_code(CU_RESULT_COUNT_), "internal");
	assert_int_equal(cu_result_http(CU_RESULT_COUNT_), 500);
	assert_string_equal(cu_strerror((cu_result)-1), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_result_has_a_code_a_status_and_words),
	    cmocka_unit_test(test_codes_are_unique),
	    cmocka_unit_test(test_server_codes_keep_their_status),
	    cmocka_unit_test(test_out_of_range_is_internal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
