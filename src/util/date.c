/*
 * src/util/date.c — calendar days as YYYY-MM-DD (date.h).
 */
#include "util/date.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int leap_year(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

cu_result cu_date_parse(const char *s, int64_t *out_us)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, m, d;

	if (!s || !out_us || strlen(s) != CU_DATE_LEN || s[4] != '-' || s[7] != '-')
		return CU_ERR_INVALID_ARGUMENT;
	for (int i = 0; i < CU_DATE_LEN; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return CU_ERR_INVALID_ARGUMENT;
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap_year(y)))
		return CU_ERR_INVALID_ARGUMENT;
	*out_us = days_from_civil(y, m, d) * CU_DAY_US;
	return CU_OK;
}

void cu_date_format(int64_t us, char out[CU_DATE_LEN + 1])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, CU_DATE_LEN + 1, "%Y-%m-%d", &tm) != CU_DATE_LEN)
		snprintf(out, CU_DATE_LEN + 1, "0000-00-00");
}
