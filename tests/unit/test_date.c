/*
 * test_date.c — times in RFC 3339 UTC (cu_time_parse, cu_time_format): the
 * forms accepted and their values in microseconds, the fraction kept to the
 * microsecond, every other offset and malformed form refused, and a time
 * formatted then parsed back unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "util/date.h"

/* 2026-12-01T00:00:00Z in microseconds since the epoch. */
#define DEC_1_US ((int64_t)1796083200 * 1000000)

static void test_time_parse_accepts(void **state)
{
	static const struct {
		const char *s;
		int64_t us;
	} good[] = {
	    {"2026-12-01", DEC_1_US},
	    {"2026-12-01T00:00:00Z", DEC_1_US},
	    {"2026-12-01t00:00:00z", DEC_1_US},
	    {"2026-12-01T00:00:00+00:00", DEC_1_US},
	    {"2026-12-01T09:30:15Z", DEC_1_US + ((int64_t)9 * 3600 + 30 * 60 + 15) * 1000000},
	    {"2026-12-01T00:00:00.5Z", DEC_1_US + 500000},
	    {"2026-12-01T00:00:00.000001Z", DEC_1_US + 1},
	    {"2026-12-01T00:00:00.123456789Z", DEC_1_US + 123456},
	    {"2026-12-01T23:59:59Z", DEC_1_US + (int64_t)86399 * 1000000},
	};
	int64_t us;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		us = -1;
		assert_int_equal(cu_time_parse(good[i].s, &us), CU_OK);
		assert_int_equal(us, good[i].us);
	}
}

static void test_time_parse_refuses(void **state)
{
	static const char *const bad[] = {
	    "",
	    "2026-12-01T00:00:00",       /* no zone */
	    "2026-12-01T00:00:00+09:00", /* UTC only */
	    "2026-12-01 00:00:00Z",      /* RFC 3339 allows it; we do not */
	    "2026-12-01T24:00:00Z",
	    "2026-12-01T00:60:00Z",
	    "2026-12-01T00:00:60Z", /* no leap second */
	    "2026-02-30T00:00:00Z",
	    "2026-12-01T0:00:00Z",
	    "2026-12-01T00:00:00.Z",
	    "2026-12-01T00:00:00.1234567890Z",
	    "2026-12-01T00:00:00ZZ",
	    "1969-12-31T23:59:59Z",
	    "yesterday",
	};
	int64_t us = 42;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cu_time_parse(bad[i], &us), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(us, 42);
	assert_int_equal(cu_time_parse(NULL, &us), CU_ERR_INVALID_ARGUMENT);
}

static void test_time_format_round_trip(void **state)
{
	static const int64_t times[] = {0, DEC_1_US, DEC_1_US + 1, DEC_1_US + 999999,
	                                DEC_1_US + 500000};
	char out[CU_TIME_BYTES];
	int64_t back;

	(void)state;
	cu_time_format(DEC_1_US, out);
	assert_string_equal(out, "2026-12-01T00:00:00Z");
	cu_time_format(DEC_1_US + 1, out);
	assert_string_equal(out, "2026-12-01T00:00:00.000001Z");
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		cu_time_format(times[i], out);
		assert_int_equal(cu_time_parse(out, &back), CU_OK);
		assert_int_equal(back, times[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_parse_accepts),
	    cmocka_unit_test(test_time_parse_refuses),
	    cmocka_unit_test(test_time_format_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
