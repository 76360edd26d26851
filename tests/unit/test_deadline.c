/*
 * test_deadline.c — the request-arrival deadline (server/http/deadline.c): a
 * connection past its deadline is shut down though it stays active; a
 * stopped clock is never; a restarted one runs again.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http/deadline.h"

#define TIMEOUT_MS 300

/* Whether the peer of s was shut down within ms (s reads the end of the stream). */
static int ended_within(int s, int ms)
{
	struct pollfd p = {.fd = s, .events = POLLIN};
	char c;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return recv(s, &c, 1, MSG_DONTWAIT) == 0;
}

static void sleep_ms(int ms)
{
	struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&t, NULL);
}

static void test_past_the_deadline_is_shut_down_despite_activity(void **state)
{
	cu_deadlines *d;
	cu_conn_deadline *c;
	int sv[2];

	(void)state;
	assert_int_equal(cu_deadlines_start(TIMEOUT_MS, &d), CU_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = cu_deadlines_add(d, sv[0]);
	assert_non_null(c);
	/* The client keeps sending: the deadline does not move. */
	for (int i = 0; i < 4; i++) {
		assert_false(ended_within(sv[1], 0));
		assert_int_equal(send(sv[1], "x", 1, 0), 1);
		sleep_ms(TIMEOUT_MS / 6);
	}
	assert_true(ended_within(sv[1], TIMEOUT_MS + 2 * CU_DEADLINE_TICK_MS));
	cu_deadlines_remove(d, c);
	close(sv[0]);
	close(sv[1]);
	cu_deadlines_stop(d);
}

static void test_a_stopped_clock_never_fires_and_a_restarted_one_does(void **state)
{
	cu_deadlines *d;
	cu_conn_deadline *c;
	int sv[2];

	(void)state;
	assert_int_equal(cu_deadlines_start(TIMEOUT_MS, &d), CU_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c = cu_deadlines_add(d, sv[0]);
	cu_deadlines_stop_clock(c);
	assert_false(ended_within(sv[1], 2 * TIMEOUT_MS));
	cu_deadlines_restart(d, c);
	assert_false(ended_within(sv[1], TIMEOUT_MS / 2));
	assert_true(ended_within(sv[1], TIMEOUT_MS + 2 * CU_DEADLINE_TICK_MS));
	cu_deadlines_remove(d, c);
	close(sv[0]);
	close(sv[1]);
	cu_deadlines_stop(d);
}

static void test_null_is_harmless_and_stop_frees_the_rest(void **state)
{
	cu_deadlines *d;
	int sv[2];

	(void)state;
	assert_null(cu_deadlines_add(NULL, 0));
	cu_deadlines_remove(NULL, NULL);
	cu_deadlines_stop_clock(NULL);
	cu_deadlines_restart(NULL, NULL);
	cu_deadlines_stop(NULL);
	assert_int_equal(cu_deadlines_start(TIMEOUT_MS, &d), CU_OK);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_non_null(cu_deadlines_add(d, sv[0]));
	/* Still registered at the stop (libmicrohttpd gone): freed there (ASan checks). */
	cu_deadlines_stop(d);
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_past_the_deadline_is_shut_down_despite_activity),
	    cmocka_unit_test(test_a_stopped_clock_never_fires_and_a_restarted_one_does),
	    cmocka_unit_test(test_null_is_harmless_and_stop_frees_the_rest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
