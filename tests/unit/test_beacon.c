/*
 * test_beacon.c — web beacons (domain/beacon.h): what may be stored (the
 * choice; GPC and DNT), what a hit may name (templates, never URLs), the
 * truncated address, the visitor hash keyed by the day's salt; the salt made
 * once a day, sealed, the old one deleted, so the same visitor hashes
 * differently the next day and after a rotation; the roll-up keeps the
 * aggregates once the raw hits are gone.  The clock is the tests' (now_us).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/beacon.h"
#include "domain/statistics.h"
#include "util/date.h"
#include "support.h"

#define HOUR_US ((int64_t)3600 * 1000000)
/* 2026-03-10T12:00:00Z */
#define T0 ((int64_t)1773144000 * 1000000)

struct fx {
	cu_ctx *ctx;
	char *dir;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->ctx = cu_test_ctx_new(&f->dir);
	assert_non_null(f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f);
	return 0;
}

static bool known(const char *page)
{
	return !strcmp(page, "/") || !strcmp(page, "/me/diaries/{id}");
}

static void hit_of(cu_beacon_hit *h, const char *page, const char *event, const char *ip,
                   const char *ua)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_beacon_parse(page, event, NULL, known, h, &errs), CU_OK);
	assert_int_equal(inet_pton(AF_INET, ip, &in.sin_addr), 1);
	cu_beacon_address((struct sockaddr *)&in, h->addr, &h->addr_len);
	snprintf(h->ua, sizeof(h->ua), "%s", ua);
}

static void may_store(void **state)
{
	cu_beacon_choice c = {.statistics = true};

	(void)state;
	assert_true(cu_beacon_may_store(&c, CU_BEACON_STATISTICS));
	assert_false(cu_beacon_may_store(&c, CU_BEACON_ADVERTISING));
	c.gpc = true;
	assert_false(cu_beacon_may_store(&c, CU_BEACON_STATISTICS));
	c = (cu_beacon_choice){.statistics = true, .advertising = true, .dnt = true};
	assert_false(cu_beacon_may_store(&c, CU_BEACON_STATISTICS));
	assert_false(cu_beacon_may_store(&c, CU_BEACON_ADVERTISING));
	c = (cu_beacon_choice){.advertising = true};
	assert_true(cu_beacon_may_store(&c, CU_BEACON_ADVERTISING));
	assert_false(cu_beacon_may_store(&c, CU_BEACON_STATISTICS));
	assert_false(cu_beacon_may_store(NULL, CU_BEACON_STATISTICS));
}

static void parse(void **state)
{
	cu_beacon_hit h;
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_beacon_parse("/me/diaries/{id}", NULL, NULL, known, &h, &errs), CU_OK);
	assert_string_equal(h.page, "/me/diaries/{id}");
	assert_string_equal(h.event, CU_BEACON_DEFAULT_EVENT);
	assert_int_equal(h.category, CU_BEACON_STATISTICS);
	/* A path no page has: "other", never the path itself (it may hold an id). */
	assert_int_equal(
	    cu_beacon_parse("/me/diaries/Xy7", "open", "advertising", known, &h, &errs), CU_OK);
	assert_string_equal(h.page, CU_BEACON_OTHER_PAGE);
	assert_int_equal(h.category, CU_BEACON_ADVERTISING);
	static const char *const bad_pages[] = {"/?q=1", "/#x",  "http://a/", "me", "/a%20",
	                                        "/a b",  "/u@x", "",          NULL};
	for (int i = 0; bad_pages[i]; i++) {
		cu_errors_init(&errs);
		assert_int_equal(cu_beacon_parse(bad_pages[i], NULL, NULL, known, &h, &errs),
		                 CU_ERR_INVALID_FIELD);
		assert_string_equal(errs.e[0].field, "page");
	}
	cu_errors_init(&errs);
	assert_int_equal(cu_beacon_parse(NULL, "Bad", "other", known, &h, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(errs.n, 3);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_beacon_parse("/", "abcdefghijklmnopqrstuvwxyzabcdefg", NULL, known, &h, &errs),
	    CU_ERR_INVALID_FIELD);
}

static void address_truncated(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, b = {.sin_family = AF_INET};
	struct sockaddr_in6 c = {.sin6_family = AF_INET6}, d = {.sin6_family = AF_INET6},
	                    m = {.sin6_family = AF_INET6};
	unsigned char x[CU_BEACON_ADDR_BYTES], y[CU_BEACON_ADDR_BYTES];
	size_t xl, yl;

	(void)state;
	inet_pton(AF_INET, "192.0.2.17", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.250", &b.sin_addr);
	cu_beacon_address((struct sockaddr *)&a, x, &xl);
	cu_beacon_address((struct sockaddr *)&b, y, &yl);
	assert_int_equal(xl, 4);
	assert_int_equal(xl, yl);
	assert_memory_equal(x, y, xl); /* the same /24 */
	inet_pton(AF_INET6, "::ffff:192.0.2.99", &m.sin6_addr);
	cu_beacon_address((struct sockaddr *)&m, y, &yl);
	assert_int_equal(yl, xl);
	assert_memory_equal(x, y, xl); /* mapped: as IPv4 */
	inet_pton(AF_INET6, "2001:db8:1:aaaa::1", &c.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:bbbb::2", &d.sin6_addr);
	cu_beacon_address((struct sockaddr *)&c, x, &xl);
	cu_beacon_address((struct sockaddr *)&d, y, &yl);
	assert_int_equal(xl, 7);
	assert_memory_equal(x, y, xl); /* the same /48 */
	inet_pton(AF_INET6, "2001:db8:2::1", &d.sin6_addr);
	cu_beacon_address((struct sockaddr *)&d, y, &yl);
	assert_memory_not_equal(x, y, xl);
	cu_beacon_address(NULL, x, &xl);
	assert_int_equal(xl, 1);
}

static void visitor_keyed(void **state)
{
	unsigned char s1[CU_BEACON_SALT_BYTES] = {1}, s2[CU_BEACON_SALT_BYTES] = {2};
	unsigned char a[CU_BEACON_VISITOR_BYTES], b[CU_BEACON_VISITOR_BYTES];
	const unsigned char addr[] = {4, 192, 0, 2};

	(void)state;
	cu_beacon_visitor(s1, addr, sizeof(addr), "UA/1", a);
	cu_beacon_visitor(s1, addr, sizeof(addr), "UA/1", b);
	assert_memory_equal(a, b, sizeof(a));
	cu_beacon_visitor(s2, addr, sizeof(addr), "UA/1", b);
	assert_memory_not_equal(a, b, sizeof(a));
	cu_beacon_visitor(s1, addr, sizeof(addr), "UA/2", b);
	assert_memory_not_equal(a, b, sizeof(a));
}

/* The salt: the same within a day, new the next day (the old one gone), new after a rotation. */
static void salt_rotates_daily(void **state)
{
	struct fx *f = *state;
	unsigned char v1[CU_BEACON_VISITOR_BYTES], v2[CU_BEACON_VISITOR_BYTES],
	    v3[CU_BEACON_VISITOR_BYTES], v4[CU_BEACON_VISITOR_BYTES];
	uint64_t hits, salts;
	cu_beacon_hit h;

	hit_of(&h, "/", "view", "198.51.100.7", "Probe/1");
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0, v1), CU_OK);
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + HOUR_US, v2), CU_OK);
	assert_memory_equal(v1, v2, sizeof(v1));
	/* Same /24, same agent: the same visitor (a hash, not an address). */
	hit_of(&h, "/", "view", "198.51.100.200", "Probe/1");
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + 2 * HOUR_US, v2), CU_OK);
	assert_memory_equal(v1, v2, sizeof(v1));
	assert_int_equal(cu_beacon_counts(f->ctx, &hits, &salts), CU_OK);
	assert_int_equal(salts, 1);
	/* The next day: a new salt, the old one deleted, the visitor unlinkable. */
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + 24 * HOUR_US, v3), CU_OK);
	assert_memory_not_equal(v1, v3, sizeof(v1));
	assert_int_equal(cu_beacon_counts(f->ctx, &hits, &salts), CU_OK);
	assert_int_equal(salts, 1);
	assert_int_equal(hits, 4);
	/* A rotation within the day. */
	assert_int_equal(cu_beacon_rotate(f->ctx, T0 + 25 * HOUR_US), CU_OK);
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + 26 * HOUR_US, v4), CU_OK);
	assert_memory_not_equal(v3, v4, sizeof(v3));
	assert_memory_not_equal(v1, v4, sizeof(v1));
}

struct agg {
	int n;
	cu_beacon_daily_row rows[8];
};

static int collect(void *ud, const cu_beacon_daily_row *row)
{
	struct agg *a = ud;

	if (a->n < 8)
		a->rows[a->n++] = *row;
	return 0;
}

static void rollup_keeps_aggregates(void **state)
{
	struct fx *f = *state;
	cu_beacon_report rep;
	struct agg a = {0};
	uint64_t hits, salts;
	cu_beacon_hit h;

	hit_of(&h, "/", "view", "203.0.113.1", "A/1");
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0, NULL), CU_OK);
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + 1, NULL), CU_OK);
	hit_of(&h, "/", "view", "203.0.113.1", "B/1");
	assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + 2, NULL), CU_OK);
	/* The same day: nothing rolled, nothing expired. */
	assert_int_equal(cu_beacon_maintain(f->ctx, T0 + HOUR_US, 48 * HOUR_US, &rep), CU_OK);
	assert_int_equal(rep.days_rolled, 0);
	assert_int_equal(rep.expired, 0);
	/* The next day: rolled, kept (inside the window). */
	assert_int_equal(cu_beacon_maintain(f->ctx, T0 + 24 * HOUR_US, 48 * HOUR_US, &rep), CU_OK);
	assert_int_equal(rep.days_rolled, 1);
	assert_int_equal(rep.expired, 0);
	assert_int_equal(rep.salts, 1); /* the day's salt is gone even without a new hit */
	/* Past the window: the raw hits go, the aggregates stay, counted once. */
	assert_int_equal(cu_beacon_maintain(f->ctx, T0 + 49 * HOUR_US, 48 * HOUR_US, &rep), CU_OK);
	assert_int_equal(rep.days_rolled, 0);
	assert_int_equal(rep.expired, 3);
	assert_int_equal(cu_beacon_counts(f->ctx, &hits, &salts), CU_OK);
	assert_int_equal(hits, 0);
	assert_int_equal(salts, 0);
	assert_int_equal(cu_beacon_daily(f->ctx, "2026-03-10", "2026-03-10", collect, &a), CU_OK);
	assert_int_equal(a.n, 1);
	assert_string_equal(a.rows[0].page, "/");
	assert_string_equal(a.rows[0].category, "statistics");
	assert_int_equal(a.rows[0].views, 3);
	assert_int_equal(a.rows[0].visitors, 2);
}

/*
 * Days not rolled up yet are "not counted" in a beacon statistic (their
 * figures unknown: null, not 0); once the roll-up ran, they count.
 */
static void statistics_mark_days_not_rolled_up(void **state)
{
	struct fx *f = *state;
	char before[CU_DATE_LEN + 1], d0[CU_DATE_LEN + 1], d1[CU_DATE_LEN + 1];
	cu_beacon_report rep;
	cu_stats_beacons *b = calloc(1, sizeof(*b));
	const char *msg = NULL;
	cu_beacon_hit h;

	assert_non_null(b);
	cu_date_format(T0 - 24 * HOUR_US, before);
	cu_date_format(T0, d0);
	cu_date_format(T0 + 24 * HOUR_US, d1);
	for (int i = 0; i < 12; i++) {
		char ua[16];

		snprintf(ua, sizeof(ua), "UA/%d", i);
		hit_of(&h, "/", "view", "203.0.113.1", ua);
		assert_int_equal(cu_beacon_record(f->ctx, &h, T0 + i, NULL), CU_OK);
	}
	/* No roll-up yet: no day is counted. */
	assert_int_equal(cu_stats_beacons_compute(f->ctx->policy, f->ctx->store, before, d1, NULL,
	                                          NULL, b, &msg),
	                 CU_OK);
	assert_int_equal(b->n, 3);
	for (size_t i = 0; i < b->n; i++) {
		assert_false(b->days[i].counted);
		assert_int_equal(b->days[i].views, -1);
		assert_int_equal(b->days[i].visitors, -1);
	}
	/* The roll-up of the next day: the days before it count, that day does not yet. */
	assert_int_equal(cu_beacon_maintain(f->ctx, T0 + 24 * HOUR_US, 48 * HOUR_US, &rep), CU_OK);
	assert_int_equal(cu_stats_beacons_compute(f->ctx->policy, f->ctx->store, before, d1, NULL,
	                                          NULL, b, &msg),
	                 CU_OK);
	assert_true(b->days[0].counted);
	assert_int_equal(b->days[0].views, 0);
	assert_true(b->days[1].counted);
	assert_int_equal(b->days[1].views, 12);
	assert_int_equal(b->days[1].visitors, 12);
	assert_false(b->days[2].counted);
	assert_int_equal(b->days[2].views, -1);
	{
		json_t *j = cu_stats_beacons_json(b), *day2;

		assert_non_null(j);
		day2 = json_array_get(json_object_get(j, "days"), 2);
		assert_true(json_is_false(json_object_get(day2, "counted")));
		assert_true(json_is_null(json_object_get(day2, "views")));
		json_decref(j);
	}
	/* An earlier run does not move the mark back. */
	assert_int_equal(cu_beacon_maintain(f->ctx, T0, 48 * HOUR_US, &rep), CU_OK);
	assert_int_equal(cu_stats_beacons_compute(f->ctx->policy, f->ctx->store, before, d1, NULL,
	                                          NULL, b, &msg),
	                 CU_OK);
	assert_true(b->days[1].counted);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(may_store),
	    cmocka_unit_test(parse),
	    cmocka_unit_test(address_truncated),
	    cmocka_unit_test(visitor_keyed),
	    cmocka_unit_test_setup_teardown(salt_rotates_daily, setup, teardown),
	    cmocka_unit_test_setup_teardown(rollup_keeps_aggregates, setup, teardown),
	    cmocka_unit_test_setup_teardown(statistics_mark_days_not_rolled_up, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
