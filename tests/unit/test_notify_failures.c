/*
 * test_notify_failures.c — delivery failures test_notify.c does not meet: in
 * files mode, an outbox directory that cannot be made (a file stands where
 * its parent should be) fails the attempt as write_failed, the row is kept
 * and retried, and given up after the configured attempts, with nothing
 * written; in SMTP mode, a server that accepts the connection and never
 * speaks fails the attempt as timeout; a notice for a member who is not
 * there, or not well named, is refused before anything is queued.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <sodium.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/members.h"
#include "domain/notify.h"
#include "support.h"
#include "util/file_read.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char member[CU_ID_LEN + 1];
	cu_notify_config cfg;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_kv kv[] = {{"name", "Undelivered Memberq"},
	              {"address", "9 Outbox Lane"},
	              {"phone", "+81312340099"},
	              {"email", "undelivered@notify.example"}};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, kv, N(kv), NULL, f->member, &errs),
	                 CU_OK);
	cu_notify_config_from_ctx(f->ctx, &f->cfg);
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

static int first_row(void *ud, const cu_outbox_row *row)
{
	*(cu_outbox_row *)ud = *row;
	return 1;
}

/* The one outbox row, whatever its status. */
static cu_outbox_row the_row(cu_ctx *ctx)
{
	cu_outbox_row o;

	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    cu_store_outbox_list(ctx->store, true, CU_OUTBOX_PENDING, 1, first_row, &o), CU_OK);
	assert_true(o.id[0] != '\0');
	return o;
}

static void queue(struct fx *f)
{
	assert_int_equal(cu_notify_member(f->ctx, f->member, "amendment",
	                                  "Your request was decided", "See your account."),
	                 CU_OK);
}

static void test_outbox_that_cannot_be_made(void **state)
{
	struct fx *f = *state;
	char blocker[CU_DATA_PATH_MAX - 16];
	cu_notify_report rep;
	cu_outbox_row o;
	FILE *b;

	/* A regular file where the outbox's parent directory should be. */
	snprintf(blocker, sizeof(blocker), "%s/not-a-dir", f->dir);
	b = fopen(blocker, "w");
	assert_non_null(b);
	fclose(b);
	f->cfg.mode = CU_NOTIFY_FILES;
	snprintf(f->cfg.outbox_dir, sizeof(f->cfg.outbox_dir), "%s/outbox", blocker);
	f->cfg.max_attempts = 2;
	f->cfg.ignore_backoff = true;
	queue(f);

	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 10, &rep), CU_OK);
	assert_int_equal(rep.sent, 0);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.gave_up, 0);
	assert_int_equal(rep.pending, 1);
	o = the_row(f->ctx);
	assert_int_equal(o.status, CU_OUTBOX_PENDING);
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.last_error, "write_failed");
	assert_true(o.next_attempt_us > 0);

	/* The second attempt is the last the configuration allows. */
	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 10, &rep), CU_OK);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.gave_up, 1);
	assert_int_equal(rep.pending, 0);
	o = the_row(f->ctx);
	assert_int_equal(o.status, CU_OUTBOX_FAILED);
	assert_int_equal(o.attempts, 2);
	/* Given up: a later pass does not touch it. */
	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 10, &rep), CU_OK);
	assert_int_equal(rep.sent + rep.failed + rep.dropped, 0);
}

static void test_server_that_never_speaks(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	cu_notify_report rep;
	cu_outbox_row o;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/* Listening, so the connection is made; never accepted, so no greeting comes. */
	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(listen(fd, 8), 0);
	f->cfg.mode = CU_NOTIFY_SMTP;
	snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "smtp://127.0.0.1:%d",
	         ntohs(a.sin_port));
	f->cfg.connect_timeout_s = 1;
	f->cfg.timeout_s = 1;
	f->cfg.max_attempts = 5;
	queue(f);

	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 10, &rep), CU_OK);
	close(fd);
	assert_int_equal(rep.sent, 0);
	assert_int_equal(rep.failed, 1);
	o = the_row(f->ctx);
	assert_int_equal(o.status, CU_OUTBOX_PENDING);
	assert_string_equal(o.last_error, "timeout");
}

static void test_refused_before_queueing(void **state)
{
	struct fx *f = *state;
	uint64_t counts[CU_OUTBOX_STATUS_COUNT_];

	assert_int_not_equal(
	    cu_notify_member(f->ctx, "AAAAAAAAAAAAAAAAAAAAAA", "amendment", "Subject", "Body"),
	    CU_OK);
	assert_int_equal(cu_notify_member(f->ctx, "not an id", "amendment", "Subject", "Body"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_notify_member(f->ctx, f->member, "no such kind!", "Subject", "Body"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_notify_member(NULL, f->member, "amendment", "Subject", "Body"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_notify_mark_read(f->ctx, "not an id", "AAAAAAAAAAAAAAAAAAAAAA"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_notify_mark_read(f->ctx, f->member, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_outbox_counts(f->ctx->store, counts), CU_OK);
	for (int i = 0; i < CU_OUTBOX_STATUS_COUNT_; i++)
		assert_int_equal(counts[i], 0);
}

/* The decoded Subject of the message file at path, its encoded words joined; words counted. */
static void decoded_subject(const char *path, char *out, size_t outlen, int *words)
{
	size_t len = 0, o = 0;
	char *text = cu_file_read_bounded(path, 1 << 20, &len), *p, *end;

	assert_non_null(text);
	p = strstr(text, "Subject: ");
	assert_non_null(p);
	end = strstr(p, "\r\n\r\n");
	assert_non_null(end);
	*words = 0;
	while ((p = strstr(p, "=?UTF-8?B?")) && p < end) {
		char *q = strstr(p + 10, "?=");
		unsigned char bin[64];
		size_t n = 0;

		assert_non_null(q);
		assert_int_equal(sodium_base642bin(bin, sizeof(bin), p + 10, (size_t)(q - p - 10),
		                                   NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
		                 0);
		/* Each word is whole characters: it never starts inside one. */
		assert_true(n > 0 && (bin[0] & 0xc0) != 0x80);
		assert_true(o + n < outlen);
		memcpy(out + o, bin, n);
		o += n;
		(*words)++;
		p = q + 2;
	}
	out[o] = '\0';
	free(text);
}

static void test_one_at_a_time_and_a_long_subject(void **state)
{
	struct fx *f = *state;
	char subject[128] = "A", path[CU_DATA_PATH_MAX + 64], got[256];
	cu_notify_report rep;
	cu_outbox_row o;
	int words = 0;

	/* 46 bytes: the 45-byte cut falls inside the fifteenth three-byte character. */
	for (int i = 0; i < 15; i++)
		memcpy(subject + 1 + 3 * i, "\xe6\x97\xa5", 4);
	f->cfg.mode = CU_NOTIFY_FILES;
	assert_int_equal(cu_notify_member(f->ctx, f->member, "amendment", subject, "Body."), CU_OK);
	o = the_row(f->ctx);
	queue(f);
	/* At most one a pass: the other waits. */
	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 1, &rep), CU_OK);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(rep.pending, 1);
	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 1, &rep), CU_OK);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(rep.pending, 0);

	snprintf(path, sizeof(path), "%s/%s.eml", f->cfg.outbox_dir, o.id);
	decoded_subject(path, got, sizeof(got), &words);
	assert_int_equal(words, 2);
	assert_string_equal(got, subject);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_outbox_that_cannot_be_made, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_server_that_never_speaks, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused_before_queueing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_one_at_a_time_and_a_long_subject, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
