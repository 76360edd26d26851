/*
 * test_ratelimit.c — the attempt limits of server/http/ratelimit.c (rules in
 * server/http/ratelimit.h): reservations hold a limit under any concurrency, are all or
 * nothing across keys, and are finished by counting, releasing or clearing;
 * windows, lockouts and the fixed table's collisions; client addresses as keys
 * (an IPv6 /64 is one client).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "http/http.h"

#define MIN_US  (60LL * 1000000)
#define T0      (1000LL * MIN_US) /* any clock value: the caller passes the time */
#define THREADS 64

static cu_ratelimit rl;

static int setup(void **state)
{
	(void)state;
	return cu_ratelimit_init(&rl);
}

static int teardown(void **state)
{
	(void)state;
	cu_ratelimit_release(&rl);
	return 0;
}

/* A key whose table slot is decided by `home` and whose identity by `tag`. */
static cu_ratelimit_key key(uint64_t home, unsigned tag, unsigned limit)
{
	cu_ratelimit_key k = {.limit = limit, .window_us = CU_LOGIN_WINDOW_US};

	memcpy(k.id, &home, sizeof(home));
	memcpy(k.id + sizeof(home), &tag, sizeof(tag));
	k.id[CU_RATELIMIT_KEY_LEN - 1] = 0x5a;
	return k;
}

static bool try_one(const cu_ratelimit_key *keys, size_t n, int64_t now, cu_ratelimit_hold *h)
{
	return cu_ratelimit_reserve(&rl, keys, n, now, h, NULL) == CU_OK;
}

/* Reserves and counts (a failed login) `times` attempts; returns how many were admitted. */
static unsigned fail_times(const cu_ratelimit_key *keys, size_t n, unsigned times, int64_t now)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < times; i++) {
		cu_ratelimit_hold h;

		if (try_one(keys, n, now, &h)) {
			ok++;
			cu_ratelimit_finish_all(&rl, &h, CU_RATELIMIT_COUNT, now);
		}
	}
	return ok;
}

/* ---- concurrency: the defect (200 logins at once all got their hash) ---- */

struct race {
	pthread_barrier_t *start;
	cu_ratelimit_key keys[2];
	size_t nkeys;
	unsigned rounds;
	bool finish; /* count each admitted attempt at once, or keep it in flight */
	atomic_uint admitted;
	cu_ratelimit_hold holds[THREADS];
	atomic_uint next;
};

static void *racer(void *arg)
{
	struct race *rc = arg;
	unsigned me = atomic_fetch_add(&rc->next, 1);

	pthread_barrier_wait(rc->start);
	for (unsigned i = 0; i < rc->rounds; i++) {
		cu_ratelimit_hold h;

		if (!try_one(rc->keys, rc->nkeys, T0, &h))
			continue;
		atomic_fetch_add(&rc->admitted, 1);
		if (rc->finish)
			cu_ratelimit_finish_all(&rl, &h, CU_RATELIMIT_COUNT, T0);
		else
			rc->holds[me] = h; /* one round when in flight */
	}
	return NULL;
}

static unsigned run_race(struct race *rc)
{
	pthread_t t[THREADS];
	pthread_barrier_t start;

	atomic_init(&rc->admitted, 0);
	atomic_init(&rc->next, 0);
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	rc->start = &start;
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, rc), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	return atomic_load(&rc->admitted);
}

static void test_threads_at_once_admit_exactly_the_limit(void **state)
{
	static struct race rc;
	int64_t retry = 0;
	cu_ratelimit_hold h;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.keys[0] = key(7, 1, CU_LOGIN_ACCOUNT_LIMIT);
	rc.nkeys = 1;
	rc.rounds = 1;
	/* 64 attempts at the same instant, none finished: exactly 5 get through. */
	assert_int_equal(run_race(&rc), CU_LOGIN_ACCOUNT_LIMIT);
	assert_int_equal(cu_ratelimit_reserve(&rl, rc.keys, 1, T0, &h, &retry),
	                 CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_RATELIMIT_BUSY_RETRY_US);
	assert_false(cu_ratelimit_held(&h));
	/* All five fail: the key is locked out for the window. */
	for (int i = 0; i < THREADS; i++)
		cu_ratelimit_finish_all(&rl, &rc.holds[i], CU_RATELIMIT_COUNT, T0);
	assert_int_equal(cu_ratelimit_reserve(&rl, rc.keys, 1, T0 + 1, &h, &retry),
	                 CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_LOGIN_WINDOW_US - 1);
}

static void test_threads_reserving_and_failing_admit_exactly_the_limit(void **state)
{
	static struct race rc;

	(void)state;
	memset(&rc, 0, sizeof(rc));
	rc.keys[0] = key(8, 1, CU_LOGIN_ACCOUNT_LIMIT);
	rc.keys[1] = key(9, 1, CU_LOGIN_ADDRESS_LIMIT);
	rc.nkeys = 2;
	rc.rounds = 50;
	rc.finish = true;
	/* 3200 attempts from 64 threads, each counted as soon as admitted. */
	assert_int_equal(run_race(&rc), CU_LOGIN_ACCOUNT_LIMIT);
}

static void test_threads_on_many_accounts_admit_the_address_limit(void **state)
{
	static struct race rc[THREADS];
	pthread_t t[THREADS];
	pthread_barrier_t start;
	unsigned total = 0;

	(void)state;
	/* Each thread its own account, all from one address: 20 in all. */
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (int i = 0; i < THREADS; i++) {
		memset(&rc[i], 0, sizeof(rc[i]));
		rc[i].keys[0] = key(100 + (uint64_t)i, 1, CU_LOGIN_ACCOUNT_LIMIT);
		rc[i].keys[1] = key(99, 1, CU_LOGIN_ADDRESS_LIMIT);
		rc[i].nkeys = 2;
		rc[i].rounds = 10;
		rc[i].finish = true;
		atomic_init(&rc[i].admitted, 0);
		atomic_init(&rc[i].next, 0);
		rc[i].start = &start;
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, racer, &rc[i]), 0);
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		assert_true(atomic_load(&rc[i].admitted) <= CU_LOGIN_ACCOUNT_LIMIT);
		total += atomic_load(&rc[i].admitted);
	}
	pthread_barrier_destroy(&start);
	assert_int_equal(total, CU_LOGIN_ADDRESS_LIMIT);
}

/* ---- the outcomes ------------------------------------------------------- */

static void test_all_keys_or_none(void **state)
{
	cu_ratelimit_key k[2] = {key(1, 1, 5), key(2, 1, 2)};
	cu_ratelimit_key other[2] = {key(1, 2, 5), key(2, 1, 2)};
	cu_ratelimit_key third[2] = {key(1, 3, 5), key(2, 1, 2)};
	cu_ratelimit_key third_elsewhere[2] = {key(1, 3, 5), key(3, 1, 20)};

	(void)state;
	assert_int_equal(fail_times(k, 2, 1, T0), 1);
	assert_int_equal(fail_times(other, 2, 1, T0), 1);
	/* The address is spent: the third account is refused and not charged. */
	assert_int_equal(fail_times(third, 2, 3, T0), 0);
	assert_int_equal(fail_times(third_elsewhere, 2, 10, T0), 5);
}

static void test_success_clears_the_account_not_the_address(void **state)
{
	cu_ratelimit_key k[2] = {key(1, 1, CU_LOGIN_ACCOUNT_LIMIT),
	                         key(2, 1, CU_LOGIN_ADDRESS_LIMIT)};
	cu_ratelimit_hold h;

	(void)state;
	assert_int_equal(fail_times(k, 2, 4, T0), 4);
	assert_true(try_one(k, 2, T0, &h));
	cu_ratelimit_finish(&rl, &h, 0, CU_RATELIMIT_CLEAR, T0);
	cu_ratelimit_finish(&rl, &h, 1, CU_RATELIMIT_RELEASE, T0);
	assert_false(cu_ratelimit_held(&h));
	/* Finishing again changes nothing. */
	cu_ratelimit_finish_all(&rl, &h, CU_RATELIMIT_COUNT, T0);
	/* The account starts over (5 more); the address keeps its 4: 16 more in all. */
	assert_int_equal(fail_times(k, 2, 10, T0), 5);
	k[0] = key(1, 2, CU_LOGIN_ACCOUNT_LIMIT);
	assert_int_equal(fail_times(k, 2, 10, T0), 5);
	k[0] = key(1, 3, CU_LOGIN_ACCOUNT_LIMIT);
	assert_int_equal(fail_times(k, 2, 10, T0), 5);
	k[0] = key(1, 4, CU_LOGIN_ACCOUNT_LIMIT);
	assert_int_equal(fail_times(k, 2, 10, T0), 1);
}

static void test_in_flight_holds_a_place_until_released(void **state)
{
	cu_ratelimit_key k = key(1, 1, 3);
	cu_ratelimit_hold h[4];
	int64_t retry;

	(void)state;
	for (int i = 0; i < 3; i++)
		assert_true(try_one(&k, 1, T0, &h[i]));
	assert_int_equal(cu_ratelimit_reserve(&rl, &k, 1, T0, &h[3], &retry), CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_RATELIMIT_BUSY_RETRY_US);
	cu_ratelimit_finish_all(&rl, &h[0], CU_RATELIMIT_RELEASE, T0);
	assert_true(try_one(&k, 1, T0, &h[3]));
	/* Three failures (h[1], h[2], h[3]) reach the limit; the release counted nothing. */
	for (int i = 1; i < 4; i++)
		cu_ratelimit_finish_all(&rl, &h[i], CU_RATELIMIT_COUNT, T0);
	assert_int_equal(cu_ratelimit_reserve(&rl, &k, 1, T0, &h[0], &retry), CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_LOGIN_WINDOW_US);
}

/* ---- time ---------------------------------------------------------------- */

static void test_lockout_lasts_one_window(void **state)
{
	cu_ratelimit_key k = key(1, 1, 5);

	(void)state;
	assert_int_equal(fail_times(&k, 1, 9, T0), 5);
	assert_int_equal(fail_times(&k, 1, 1, T0 + CU_LOGIN_WINDOW_US - 1), 0);
	assert_int_equal(fail_times(&k, 1, 9, T0 + CU_LOGIN_WINDOW_US), 5);
}

static void test_failures_of_a_past_window_are_forgotten(void **state)
{
	cu_ratelimit_key k = key(1, 1, 5);

	(void)state;
	assert_int_equal(fail_times(&k, 1, 4, T0), 4);
	/* A new window: these 4 and the earlier 4 are not 5 in one window. */
	assert_int_equal(fail_times(&k, 1, 4, T0 + CU_LOGIN_WINDOW_US + 1), 4);
	assert_int_equal(fail_times(&k, 1, 9, T0 + CU_LOGIN_WINDOW_US + 2), 1);
}

static void test_a_late_lockout_outlasts_its_window(void **state)
{
	cu_ratelimit_key k = key(1, 1, 5);
	int64_t late = T0 + CU_LOGIN_WINDOW_US - MIN_US;
	int64_t retry;
	cu_ratelimit_hold h;

	(void)state;
	assert_int_equal(fail_times(&k, 1, 1, T0), 1);
	assert_int_equal(fail_times(&k, 1, 4, late), 4);
	/* Locked from the fifth failure for a whole window, past the window's end. */
	assert_int_equal(
	    cu_ratelimit_reserve(&rl, &k, 1, T0 + CU_LOGIN_WINDOW_US + MIN_US, &h, &retry),
	    CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_LOGIN_WINDOW_US - 2 * MIN_US);
	assert_int_equal(fail_times(&k, 1, 1, late + CU_LOGIN_WINDOW_US), 1);
}

/* ---- the fixed table ----------------------------------------------------- */

static void test_colliding_keys_share_a_region_and_never_evict_a_lockout(void **state)
{
	enum { REGION = 8 };
	cu_ratelimit_key k[REGION + 1];
	int64_t retry;
	cu_ratelimit_hold h;

	(void)state;
	for (unsigned i = 0; i <= REGION; i++)
		k[i] = key(42, i, 2);
	/* Eight keys from one home slot lock themselves out; each is kept apart. */
	for (unsigned i = 0; i < REGION; i++)
		assert_int_equal(fail_times(&k[i], 1, 3, T0), 2);
	/* A ninth finds no room: refused, not let in by forgetting a lockout. */
	assert_int_equal(cu_ratelimit_reserve(&rl, &k[REGION], 1, T0, &h, &retry),
	                 CU_ERR_RATE_LIMITED);
	assert_int_equal(retry, CU_RATELIMIT_BUSY_RETRY_US);
	for (unsigned i = 0; i < REGION; i++)
		assert_int_equal(fail_times(&k[i], 1, 1, T0 + 1), 0);
	/* Once the lockouts end, the ninth takes the oldest slot over. */
	assert_int_equal(fail_times(&k[REGION], 1, 3, T0 + CU_LOGIN_WINDOW_US), 2);
}

static void test_colliding_keys_never_evict_attempts_in_flight(void **state)
{
	enum { REGION = 8 };
	cu_ratelimit_key k[REGION + 1];
	cu_ratelimit_hold h[REGION + 1];

	(void)state;
	for (unsigned i = 0; i <= REGION; i++)
		k[i] = key(43, i, 5);
	for (unsigned i = 0; i < REGION; i++)
		assert_true(try_one(&k[i], 1, T0, &h[i]));
	assert_false(try_one(&k[REGION], 1, T0, &h[REGION]));
	/* One finishes: its slot may go, and the others' holds are intact. */
	cu_ratelimit_finish_all(&rl, &h[0], CU_RATELIMIT_RELEASE, T0);
	assert_true(try_one(&k[REGION], 1, T0, &h[REGION]));
	for (unsigned i = 1; i <= REGION; i++) {
		cu_ratelimit_finish_all(&rl, &h[i], CU_RATELIMIT_COUNT, T0);
		assert_int_equal(fail_times(&k[i], 1, 9, T0), 4);
	}
}

static void test_keys_in_different_regions_do_not_meet(void **state)
{
	cu_ratelimit_key a = key(5, 1, 1), b = key(5000, 1, 1);

	(void)state;
	assert_int_equal(fail_times(&a, 1, 2, T0), 1);
	assert_int_equal(fail_times(&b, 1, 2, T0), 1);
	assert_int_equal(fail_times(&a, 1, 1, T0), 0);
}

/* ---- client addresses ---------------------------------------------------- */

static void addr_key(const char *text, const char *use, unsigned char out[CU_RATELIMIT_KEY_LEN])
{
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	struct sockaddr_in6 v6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, text, &v4.sin_addr) == 1) {
		v4.sin_port = htons(40000);
		cu_ratelimit_address_key((const struct sockaddr *)&v4, use, out);
		return;
	}
	assert_int_equal(inet_pton(AF_INET6, text, &v6.sin6_addr), 1);
	v6.sin6_port = htons(40001);
	cu_ratelimit_address_key((const struct sockaddr *)&v6, use, out);
}

static bool same(const char *a, const char *b, const char *use_a, const char *use_b)
{
	unsigned char ka[CU_RATELIMIT_KEY_LEN], kb[CU_RATELIMIT_KEY_LEN];

	addr_key(a, use_a, ka);
	addr_key(b, use_b, kb);
	return !memcmp(ka, kb, sizeof(ka));
}

static void test_address_keys(void **state)
{
	const char *login = CU_RATELIMIT_LOGIN_ADDRESS, *signup = CU_RATELIMIT_SIGNUP_ADDRESS;
	unsigned char none[CU_RATELIMIT_KEY_LEN], v4[CU_RATELIMIT_KEY_LEN];

	(void)state;
	assert_true(same("192.0.2.7", "192.0.2.7", login, login));
	assert_false(same("192.0.2.7", "192.0.2.8", login, login));
	/* The same client over IPv4 or through an IPv4-mapped socket. */
	assert_true(same("192.0.2.7", "::ffff:192.0.2.7", login, login));
	/* One /64 is one client, whatever its lower 64 bits; the next /64 another. */
	assert_true(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe", login, login));
	assert_false(same("2001:db8:1:2::1", "2001:db8:1:3::1", login, login));
	/* Logins and sign-ups count apart. */
	assert_false(same("192.0.2.7", "192.0.2.7", login, signup));
	/* No address: one key, not an IPv4 address of zeros. */
	cu_ratelimit_address_key(NULL, login, none);
	addr_key("0.0.0.0", login, v4);
	assert_memory_not_equal(none, v4, sizeof(v4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_threads_at_once_admit_exactly_the_limit, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_threads_reserving_and_failing_admit_exactly_the_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threads_on_many_accounts_admit_the_address_limit,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_all_keys_or_none, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_success_clears_the_account_not_the_address, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_in_flight_holds_a_place_until_released, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_lockout_lasts_one_window, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_failures_of_a_past_window_are_forgotten, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_a_late_lockout_outlasts_its_window, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(
	        test_colliding_keys_share_a_region_and_never_evict_a_lockout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_colliding_keys_never_evict_attempts_in_flight,
	                                    setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keys_in_different_regions_do_not_meet, setup,
	                                    teardown),
	    cmocka_unit_test(test_address_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
