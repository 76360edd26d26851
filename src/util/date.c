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

cu_result cu_time_parse(const char *s, int64_t *out_us)
{
	char day[CU_DATE_LEN + 1];
	const char *p;
	int64_t us = 0, frac = 0, scale = 1000000;
	long hh, mm, ss;

	if (!s || !out_us || strlen(s) < CU_DATE_LEN)
		return CU_ERR_INVALID_ARGUMENT;
	memcpy(day, s, CU_DATE_LEN);
	day[CU_DATE_LEN] = '\0';
	if (cu_date_parse(day, &us))
		return CU_ERR_INVALID_ARGUMENT;
	p = s + CU_DATE_LEN;
	if (*p == '\0') {
		*out_us = us;
		return CU_OK;
	}
	/* "THH:MM:SS", each a digit pair, in range (no leap second: 60 is refused). */
	if ((p[0] != 'T' && p[0] != 't') || strlen(p) < 10 || p[3] != ':' || p[6] != ':')
		return CU_ERR_INVALID_ARGUMENT;
	for (int i = 1; i < 9; i++)
		if (i != 3 && i != 6 && (p[i] < '0' || p[i] > '9'))
			return CU_ERR_INVALID_ARGUMENT;
	hh = (p[1] - '0') * 10 + (p[2] - '0');
	mm = (p[4] - '0') * 10 + (p[5] - '0');
	ss = (p[7] - '0') * 10 + (p[8] - '0');
	if (hh > 23 || mm > 59 || ss > 59)
		return CU_ERR_INVALID_ARGUMENT;
	p += 9;
	if (*p == '.') {
		int digits = 0;

		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		if (digits == 0 || digits > 9)
			return CU_ERR_INVALID_ARGUMENT;
	}
	/* UTC only: "Z", or an offset of zero. */
	if (strcmp(p, "Z") && strcmp(p, "z") && strcmp(p, "+00:00") && strcmp(p, "-00:00"))
		return CU_ERR_INVALID_ARGUMENT;
	*out_us = us + ((int64_t)hh * 3600 + mm * 60 + ss) * 1000000 + frac;
	return CU_OK;
}

void cu_time_format(int64_t us, char out[CU_TIME_BYTES])
{
	time_t t = (time_t)(us / 1000000);
	int64_t frac = us % 1000000;
	struct tm tm;
	size_t n;

	if (us < 0 || !gmtime_r(&t, &tm) ||
	    (n = strftime(out, CU_TIME_BYTES, "%Y-%m-%dT%H:%M:%S", &tm)) == 0) {
		snprintf(out, CU_TIME_BYTES, "0000-00-00T00:00:00Z");
		return;
	}
	if (frac)
		snprintf(out + n, CU_TIME_BYTES - n, ".%06lldZ", (long long)frac);
	else
		snprintf(out + n, CU_TIME_BYTES - n, "Z");
}
