/*
 * src/util/date.h — calendar days written YYYY-MM-DD, in UTC: the terms of
 * contracts, the due days of reviews, cut-offs given on the command line;
 * and times in RFC 3339 UTC (the window of a breach assessment).
 */
#ifndef CU_DATE_H
#define CU_DATE_H

#include <stdint.h>

#include "util/result.h"

#define CU_DATE_LEN   10 /* "YYYY-MM-DD" */
#define CU_TIME_BYTES 32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */
#define CU_DAY_US     ((int64_t)24 * 3600 * 1000000)

/* YYYY-MM-DD (a real date, 1970..9999) to 00:00 UTC of that day; CU_ERR_INVALID_ARGUMENT else. */
CU_WARN_UNUSED cu_result cu_date_parse(const char *s, int64_t *out_us);
/* The UTC date of us as YYYY-MM-DD ("0000-00-00" if it cannot be told). */
void cu_date_format(int64_t us, char out[CU_DATE_LEN + 1]);

/*
 * An RFC 3339 time in UTC to microseconds since the epoch:
 * "YYYY-MM-DDTHH:MM:SS" with an optional fraction (".5", up to 9 digits, kept
 * to the microsecond) and "Z" (or "+00:00"); a bare "YYYY-MM-DD" is 00:00 UTC
 * of that day.  Other offsets, a leap second and anything else:
 * CU_ERR_INVALID_ARGUMENT.
 */
CU_WARN_UNUSED cu_result cu_time_parse(const char *s, int64_t *out_us);
/* us as "YYYY-MM-DDTHH:MM:SSZ", with ".ffffff" before the Z when us has a fraction. */
void cu_time_format(int64_t us, char out[CU_TIME_BYTES]);

#endif
