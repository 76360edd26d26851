/*
 * src/store/beacon.h — the store's area for web beacons (domain/beacon.h).
 * Part of the store (store.h's rules hold: writes only inside a
 * transaction, no SQL outside the store).
 *
 * Three tables, none holding personal data:
 *   1. salts: at most one row per UTC day, the day's salt sealed under the
 *      master key (vault.h, a note).  Putting a day's salt deletes every
 *      other day's (secure_delete overwrites the pages).
 *   2. raw hits: day, minute, page, event, category and the visitor's
 *      16-byte keyed hash; never an address, a user agent or a URL.
 *   3. daily aggregates: (day, page, event, category) -> views and distinct
 *      visitors.  No visitor hash ever reaches them.
 * A day is rolled up once (its aggregate rows written from its raw hits,
 * and the day marked rolled); raw hits are deleted only for rolled days.
 */
#ifndef CUSTODIAN_STORE_BEACON_H
#define CUSTODIAN_STORE_BEACON_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CU_BEACON_DAY_LEN 10 /* "YYYY-MM-DD" */
/* Meta key: the day of the last roll-up; every day before it is rolled up (domain/beacon.c). */
#define CU_BEACON_ROLLED_META   "beacon_rolled_before"
#define CU_BEACON_NAME_MAX      64 /* a page (route template) or an event name, bytes */
#define CU_BEACON_CATEGORY_MAX  11 /* "statistics" / "advertising" */
#define CU_BEACON_VISITOR_BYTES 16 /* BLAKE2b-128 */
#define CU_BEACON_SEALED_MAX    128

/* One raw hit, as stored. */
typedef struct cu_beacon_row {
	char day[CU_BEACON_DAY_LEN + 1];
	int64_t minute_us; /* the time, truncated to the minute */
	char page[CU_BEACON_NAME_MAX + 1];
	char event[CU_BEACON_NAME_MAX + 1];
	char category[CU_BEACON_CATEGORY_MAX + 1];
	unsigned char visitor[CU_BEACON_VISITOR_BYTES];
} cu_beacon_row;

/* One aggregate row. */
typedef struct cu_beacon_daily_row {
	char day[CU_BEACON_DAY_LEN + 1];
	char page[CU_BEACON_NAME_MAX + 1];
	char event[CU_BEACON_NAME_MAX + 1];
	char category[CU_BEACON_CATEGORY_MAX + 1];
	uint64_t views, visitors;
} cu_beacon_daily_row;

/*
 * The sealed salt of `day` into sealed (cap bytes), *len its length;
 * *found false (and CU_OK) when the day has none.  CU_ERR_TOO_LARGE if it
 * does not fit.
 */
CU_WARN_UNUSED cu_result cu_store_beacon_salt_get(cu_store *s, const char *day,
                                                  unsigned char *sealed, size_t cap, size_t *len,
                                                  bool *found);
/* Stores `day`'s sealed salt (replacing one it had) and deletes every other day's. */
CU_WARN_UNUSED cu_result cu_store_beacon_salt_put(cu_store *s, const char *day,
                                                  const unsigned char *sealed, size_t len);
/* Deletes every salt but `keep`'s; *n (may be NULL) how many. */
CU_WARN_UNUSED cu_result cu_store_beacon_salt_purge(cu_store *s, const char *keep, uint64_t *n);
/* Appends one raw hit. */
CU_WARN_UNUSED cu_result cu_store_beacon_insert(cu_store *s, const cu_beacon_row *row);
/*
 * Rolls up every day before `today` that has raw hits and is not rolled
 * yet: one aggregate row per (day, page, event, category), then marks the
 * day rolled.  *days (may be NULL) how many days.
 */
CU_WARN_UNUSED cu_result cu_store_beacon_rollup(cu_store *s, const char *today, uint64_t *days);
/* Deletes the raw hits of rolled days older than cutoff_us; *n (may be NULL) how many. */
CU_WARN_UNUSED cu_result cu_store_beacon_expire(cu_store *s, int64_t cutoff_us, uint64_t *n);
/* The number of raw hits, and of salts held. */
CU_WARN_UNUSED cu_result cu_store_beacon_counts(cu_store *s, uint64_t *hits, uint64_t *salts);
/*
 * Calls fn for each aggregate row with from <= day <= to (days as
 * YYYY-MM-DD), in (day, category, page, event) order.  The row is valid
 * during the call only; fn returns non-zero to stop, and may not call the
 * store.
 */
typedef int (*cu_store_beacon_daily_fn)(void *ud, const cu_beacon_daily_row *row);
CU_WARN_UNUSED cu_result cu_store_beacon_daily(cu_store *s, const char *from, const char *to,
                                               cu_store_beacon_daily_fn fn, void *ud);

#endif
