/*
 * src/domain/beacon.h — web beacons: page views and events counted so that
 * no one can be identified (the policy's cookie and web-beacon clauses;
 * docs/beacons.md).
 *
 * The rules, in order:
 *   1. Nothing is stored unless the visitor chose the category: statistics
 *      for page views and events, advertising for ad events.  Sec-GPC: 1 or
 *      DNT: 1 stores nothing, whatever was chosen (cu_beacon_may_store).
 *   2. A hit names a page by a known name or route template, never by a
 *      URL or a query string (they can carry ids or personal data); an
 *      event by a short lowercase name (cu_beacon_parse).
 *   3. The visitor is counted by BLAKE2b-128, keyed with the day's salt,
 *      over the address truncated (IPv4 /24, IPv6 /48) and the user agent:
 *      no address, no user agent and no cookie is stored
 *      (cu_beacon_address, cu_beacon_visitor).
 *   4. The salt is 32 random bytes made for one UTC day, kept sealed under
 *      the master key, never logged; making a day's salt deletes every
 *      other day's, so yesterday's hashes cannot be recomputed nor linked
 *      to today's (cu_beacon_record, cu_beacon_rotate, cu_beacon_maintain).
 *   5. Raw hits are rolled up into daily aggregates (views and distinct
 *      visitors per day, page, event and category) once their day is over,
 *      then deleted when older than the window ([beacon] raw_hours).
 *      Aggregates hold no visitor hash.
 *   6. A hit is not a read of a member's data: it is not audited.
 * Every function that takes now_us uses it as the time (tests move it).
 */
#ifndef CUSTODIAN_DOMAIN_BEACON_H
#define CUSTODIAN_DOMAIN_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ctx/ctx.h"
#include "store/beacon.h"

#define CU_BEACON_SALT_BYTES    32
#define CU_BEACON_ADDR_BYTES    7   /* a family byte and at most 6 bytes of prefix (IPv6 /48) */
#define CU_BEACON_UA_MAX        512 /* bytes of the user agent that count */
#define CU_BEACON_PAGE_MAX      CU_BEACON_NAME_MAX
#define CU_BEACON_EVENT_MAX     32
#define CU_BEACON_DEFAULT_EVENT "view"
#define CU_BEACON_OTHER_PAGE    "other"

enum cu_beacon_category { CU_BEACON_STATISTICS, CU_BEACON_ADVERTISING };

/* What the visitor allows, as the request tells it. */
typedef struct cu_beacon_choice {
	bool statistics;  /* chose statistics cookies */
	bool advertising; /* chose advertising cookies */
	bool gpc;         /* Sec-GPC: 1 */
	bool dnt;         /* DNT: 1 */
} cu_beacon_choice;

/* One hit, checked; nothing in it identifies anyone once the visitor is hashed. */
typedef struct cu_beacon_hit {
	char page[CU_BEACON_PAGE_MAX + 1];
	char event[CU_BEACON_EVENT_MAX + 1];
	enum cu_beacon_category category;
	unsigned char addr[CU_BEACON_ADDR_BYTES]; /* truncated (cu_beacon_address) */
	size_t addr_len;
	char ua[CU_BEACON_UA_MAX + 1]; /* the user agent's first bytes, or "" */
} cu_beacon_hit;

/* "statistics" / "advertising". */
const char *cu_beacon_category_name(enum cu_beacon_category c);

/*
 * Checks a hit's page, event and category into out (its addr and ua are
 * left empty).  page: must be given; a page name or route template known
 * to `known` (NULL: none is) is kept, any other path "/..." is recorded
 * as CU_BEACON_OTHER_PAGE; anything with '?', '#', ':' or '%', not starting
 * with '/', or longer than CU_BEACON_PAGE_MAX is refused.  event: NULL is
 * CU_BEACON_DEFAULT_EVENT, else [a-z_]{1,32}.  category: NULL is
 * statistics, else "statistics" or "advertising".  CU_ERR_INVALID_FIELD
 * with one error per bad field ("page", "event", "category").
 */
CU_WARN_UNUSED cu_result cu_beacon_parse(const char *page, const char *event, const char *category,
                                         bool (*known)(const char *page), cu_beacon_hit *out,
                                         cu_errors *errs);

/* Rule 1: whether a hit of category c may be stored under choice. */
bool cu_beacon_may_store(const cu_beacon_choice *choice, enum cu_beacon_category c);

/*
 * Rule 3: the address, truncated, into out (*len bytes): IPv4 (and
 * IPv4-mapped IPv6) to its /24, IPv6 to its /48, with a family byte.  An
 * address of another family (or NULL) is one byte 0: all such visitors
 * share it.
 */
void cu_beacon_address(const struct sockaddr *sa, unsigned char out[CU_BEACON_ADDR_BYTES],
                       size_t *len);

/* Rule 3: BLAKE2b-128 keyed with salt over addr (addr_len bytes), a 0 byte, and ua. */
void cu_beacon_visitor(const unsigned char salt[CU_BEACON_SALT_BYTES], const unsigned char *addr,
                       size_t addr_len, const char *ua, unsigned char out[CU_BEACON_VISITOR_BYTES]);

/*
 * Stores one hit at now_us (the caller decided it may: cu_beacon_may_store),
 * in a transaction level of its own: the day's salt (made, sealed and
 * stored if the day has none yet, every other day's deleted), the visitor
 * hashed with it, the row appended.  The salt is wiped before returning.
 * With visitor non-NULL, the hash stored is copied there (tests).
 */
CU_WARN_UNUSED cu_result cu_beacon_record(cu_ctx *ctx, const cu_beacon_hit *hit, int64_t now_us,
                                          unsigned char visitor[CU_BEACON_VISITOR_BYTES]);

/*
 * Replaces the salt of now_us's day with a new one (and deletes every
 * other day's): from now on the same visitor hashes differently.  For
 * operators (`custodian beacon rotate`) and tests; the day's distinct
 * visitors then count a visitor seen on both sides twice.
 */
CU_WARN_UNUSED cu_result cu_beacon_rotate(cu_ctx *ctx, int64_t now_us);

/* What cu_beacon_maintain did. */
typedef struct cu_beacon_report {
	uint64_t days_rolled; /* days whose aggregates were written */
	uint64_t expired;     /* raw hits deleted */
	uint64_t salts;       /* salts of past days deleted */
} cu_beacon_report;

/*
 * Rule 4 and 5 at now_us, in one transaction: rolls up the days before
 * today, deletes raw hits of rolled days older than raw_window_us, and
 * deletes every salt but today's.  The server's retention worker calls it
 * every pass; `custodian beacon rollup` too.  out may be NULL.
 */
CU_WARN_UNUSED cu_result cu_beacon_maintain(cu_ctx *ctx, int64_t now_us, int64_t raw_window_us,
                                            cu_beacon_report *out);

/* Raw hits and salts held now. */
CU_WARN_UNUSED cu_result cu_beacon_counts(cu_ctx *ctx, uint64_t *hits, uint64_t *salts);

/* The aggregates from day `from` to day `to` (YYYY-MM-DD), as cu_store_beacon_daily. */
CU_WARN_UNUSED cu_result cu_beacon_daily(cu_ctx *ctx, const char *from, const char *to,
                                         cu_store_beacon_daily_fn fn, void *ud);

#endif
