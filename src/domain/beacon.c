/*
 * src/domain/beacon.c — web beacons (domain/beacon.h): checking a hit,
 * hashing its visitor with the day's salt, storing it; the daily salt; the
 * roll-up and the expiry of raw hits.
 */
#include "domain/beacon.h"

#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "util/date.h"

#define SALT_CONTEXT_BYTES 32 /* "beacon-salt:YYYY-MM-DD" and its NUL, with room */
#define SEALED_SALT_BYTES  (CU_BEACON_SALT_BYTES + CU_VAULT_NOTE_OVERHEAD)
#define MINUTE_US          ((int64_t)60 * 1000000)
#define V4_PREFIX_BYTES    3 /* /24 */
#define V6_PREFIX_BYTES    6 /* /48 */
#define FAMILY_V4          4
#define FAMILY_V6          6

_Static_assert(SEALED_SALT_BYTES <= CU_BEACON_SEALED_MAX, "a sealed salt fits the store's row");
_Static_assert(1 + V6_PREFIX_BYTES <= CU_BEACON_ADDR_BYTES, "a truncated address fits");
_Static_assert(CU_BEACON_VISITOR_BYTES >= crypto_generichash_BYTES_MIN &&
                   CU_BEACON_VISITOR_BYTES <= crypto_generichash_BYTES_MAX,
               "BLAKE2b gives a visitor hash of this size");
_Static_assert(CU_BEACON_SALT_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   CU_BEACON_SALT_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "a salt is a BLAKE2b key");
_Static_assert(CU_BEACON_EVENT_MAX <= CU_BEACON_NAME_MAX, "an event fits the store's row");

static const char *const category_names[] = {"statistics", "advertising"};

const char *cu_beacon_category_name(enum cu_beacon_category c)
{
	return c == CU_BEACON_ADVERTISING ? category_names[1] : category_names[0];
}

static bool event_ok(const char *e)
{
	size_t n = strnlen(e, CU_BEACON_EVENT_MAX + 1);

	if (n < 1 || n > CU_BEACON_EVENT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((e[i] >= 'a' && e[i] <= 'z') || e[i] == '_'))
			return false;
	return true;
}

/* A path, not a URL: '/' first, printable ASCII, no query, fragment, scheme or escape. */
static bool page_ok(const char *p)
{
	size_t n = strnlen(p, CU_BEACON_PAGE_MAX + 1);

	if (n < 1 || n > CU_BEACON_PAGE_MAX || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (p[i] <= ' ' || p[i] > '~' || strchr("?#:%@\\", p[i]))
			return false;
	return true;
}

cu_result cu_beacon_parse(const char *page, const char *event, const char *category,
                          bool (*known)(const char *page), cu_beacon_hit *out, cu_errors *errs)
{
	bool bad = false;

	memset(out, 0, sizeof(*out));
	if (!page || !page_ok(page)) {
		cu_errors_add(errs, "page", page ? "malformed" : "required");
		bad = true;
	} else {
		snprintf(out->page, sizeof(out->page), "%s",
		         known && known(page) ? page : CU_BEACON_OTHER_PAGE);
	}
	if (!event)
		event = CU_BEACON_DEFAULT_EVENT;
	if (!event_ok(event)) {
		cu_errors_add(errs, "event", "malformed");
		bad = true;
	} else {
		snprintf(out->event, sizeof(out->event), "%s", event);
	}
	if (!category || !strcmp(category, category_names[0])) {
		out->category = CU_BEACON_STATISTICS;
	} else if (!strcmp(category, category_names[1])) {
		out->category = CU_BEACON_ADVERTISING;
	} else {
		cu_errors_add(errs, "category", "unknown");
		bad = true;
	}
	return bad ? CU_ERR_INVALID_FIELD : CU_OK;
}

bool cu_beacon_may_store(const cu_beacon_choice *choice, enum cu_beacon_category c)
{
	if (!choice || choice->gpc || choice->dnt)
		return false;
	return c == CU_BEACON_ADVERTISING ? choice->advertising : choice->statistics;
}

void cu_beacon_address(const struct sockaddr *sa, unsigned char out[CU_BEACON_ADDR_BYTES],
                       size_t *len)
{
	memset(out, 0, CU_BEACON_ADDR_BYTES);
	*len = 1;
	if (sa && sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		out[0] = FAMILY_V4;
		memcpy(out + 1, &in->sin_addr.s_addr, V4_PREFIX_BYTES);
		*len = 1 + V4_PREFIX_BYTES;
	} else if (sa && sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		const unsigned char *a = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			out[0] = FAMILY_V4;
			memcpy(out + 1, a + 12, V4_PREFIX_BYTES);
			*len = 1 + V4_PREFIX_BYTES;
		} else {
			out[0] = FAMILY_V6;
			memcpy(out + 1, a, V6_PREFIX_BYTES);
			*len = 1 + V6_PREFIX_BYTES;
		}
	}
}

void cu_beacon_visitor(const unsigned char salt[CU_BEACON_SALT_BYTES], const unsigned char *addr,
                       size_t addr_len, const char *ua, unsigned char out[CU_BEACON_VISITOR_BYTES])
{
	crypto_generichash_state h;
	static const unsigned char sep = 0;

	crypto_generichash_init(&h, salt, CU_BEACON_SALT_BYTES, CU_BEACON_VISITOR_BYTES);
	crypto_generichash_update(&h, addr, addr_len);
	crypto_generichash_update(&h, &sep, 1);
	if (ua)
		crypto_generichash_update(&h, (const unsigned char *)ua,
		                          strnlen(ua, CU_BEACON_UA_MAX));
	crypto_generichash_final(&h, out, CU_BEACON_VISITOR_BYTES);
	sodium_memzero(&h, sizeof(h));
}

static void salt_context(const char *day, char out[SALT_CONTEXT_BYTES])
{
	snprintf(out, SALT_CONTEXT_BYTES, "beacon-salt:%s", day);
}

/* A new salt for day, sealed and stored (every other day's deleted); salt receives it. */
static cu_result salt_new(cu_ctx *ctx, const char *day, unsigned char salt[CU_BEACON_SALT_BYTES])
{
	unsigned char sealed[SEALED_SALT_BYTES];
	char context[SALT_CONTEXT_BYTES];
	cu_result rc;

	randombytes_buf(salt, CU_BEACON_SALT_BYTES);
	salt_context(day, context);
	rc = cu_vault_seal_note(ctx->vault, context, salt, CU_BEACON_SALT_BYTES, sealed);
	if (!rc)
		rc = cu_store_beacon_salt_put(ctx->store, day, sealed, sizeof(sealed));
	return rc;
}

/* The salt of day: opened from the store, or made now. */
static cu_result salt_of(cu_ctx *ctx, const char *day, unsigned char salt[CU_BEACON_SALT_BYTES])
{
	unsigned char sealed[CU_BEACON_SEALED_MAX];
	unsigned char plain[CU_BEACON_SEALED_MAX + 1];
	char context[SALT_CONTEXT_BYTES];
	size_t len = 0, plen = 0;
	bool found = false;
	cu_result rc =
	    cu_store_beacon_salt_get(ctx->store, day, sealed, sizeof(sealed), &len, &found);

	if (rc)
		return rc;
	if (!found)
		return salt_new(ctx, day, salt);
	if (len != SEALED_SALT_BYTES)
		return CU_ERR_STORE;
	salt_context(day, context);
	rc = cu_vault_open_note(ctx->vault, context, sealed, len, plain, &plen);
	if (!rc && plen != CU_BEACON_SALT_BYTES)
		rc = CU_ERR_CRYPTO;
	if (!rc)
		memcpy(salt, plain, CU_BEACON_SALT_BYTES);
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

cu_result cu_beacon_record(cu_ctx *ctx, const cu_beacon_hit *hit, int64_t now_us,
                           unsigned char visitor[CU_BEACON_VISITOR_BYTES])
{
	unsigned char salt[CU_BEACON_SALT_BYTES];
	cu_beacon_row row;
	cu_result rc;

	if (!ctx || !hit || now_us <= 0)
		return CU_ERR_INVALID_ARGUMENT;
	memset(&row, 0, sizeof(row));
	cu_date_format(now_us, row.day);
	row.minute_us = now_us - now_us % MINUTE_US;
	snprintf(row.page, sizeof(row.page), "%s", hit->page);
	snprintf(row.event, sizeof(row.event), "%s", hit->event);
	snprintf(row.category, sizeof(row.category), "%s", cu_beacon_category_name(hit->category));
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = salt_of(ctx, row.day, salt);
	if (!rc) {
		cu_beacon_visitor(salt, hit->addr, hit->addr_len, hit->ua, row.visitor);
		sodium_memzero(salt, sizeof(salt));
		rc = cu_store_beacon_insert(ctx->store, &row);
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	if (!rc && visitor)
		memcpy(visitor, row.visitor, CU_BEACON_VISITOR_BYTES);
	return rc;
}

cu_result cu_beacon_rotate(cu_ctx *ctx, int64_t now_us)
{
	unsigned char salt[CU_BEACON_SALT_BYTES];
	char day[CU_DATE_LEN + 1];
	cu_result rc;

	if (!ctx || now_us <= 0)
		return CU_ERR_INVALID_ARGUMENT;
	cu_date_format(now_us, day);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = salt_new(ctx, day, salt);
	sodium_memzero(salt, sizeof(salt));
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_beacon_maintain(cu_ctx *ctx, int64_t now_us, int64_t raw_window_us,
                             cu_beacon_report *out)
{
	cu_beacon_report rep = {0};
	char today[CU_DATE_LEN + 1];
	cu_result rc;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!ctx || now_us <= 0 || raw_window_us <= 0)
		return CU_ERR_INVALID_ARGUMENT;
	cu_date_format(now_us, today);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	/* The roll-up first: only rolled days' hits may go. */
	rc = cu_store_beacon_rollup(ctx->store, today, &rep.days_rolled);
	/* Every day before today is now in the aggregates: statistics count them. */
	if (!rc) {
		char mark[CU_DATE_LEN + 1] = "";
		bool found = false;

		rc = cu_store_meta_get(ctx->store, CU_BEACON_ROLLED_META, mark, sizeof(mark),
		                       &found);
		/* The mark only moves forward. */
		if (!rc && (!found || strcmp(mark, today) < 0))
			rc = cu_store_meta_set(ctx->store, CU_BEACON_ROLLED_META, today);
	}
	if (!rc)
		rc = cu_store_beacon_expire(ctx->store, now_us - raw_window_us, &rep.expired);
	if (!rc)
		rc = cu_store_beacon_salt_purge(ctx->store, today, &rep.salts);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	if (!rc && out)
		*out = rep;
	return rc;
}

cu_result cu_beacon_counts(cu_ctx *ctx, uint64_t *hits, uint64_t *salts)
{
	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	return cu_store_beacon_counts(ctx->store, hits, salts);
}

cu_result cu_beacon_daily(cu_ctx *ctx, const char *from, const char *to,
                          cu_store_beacon_daily_fn fn, void *ud)
{
	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	return cu_store_beacon_daily(ctx->store, from, to, fn, ud);
}
