/*
 * test_notify.c — notices and their outbox rows are written in the caller's
 * transaction and undone with it; delivery to files keeps addresses off the
 * disk; SMTP delivery (to a sink in this process) reads the address through
 * the door, sends one message per row with a stable Message-ID, backs off
 * and gives up on schedule, stops promptly when cancelled; erased members'
 * rows are dropped; malformed input is refused whole.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/config.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/notify.h"
#include "store/notify.h"
#include "support.h"

#define SEC   1000000LL
#define EMAIL "Notify.Quillfeather@Example-Mail.ORG"

struct fx {
	cu_ctx *ctx;
	char *tmp;
	char member[CU_ID_LEN + 1];
	cu_notify_config cfg;
};

static void register_one(cu_ctx *ctx, const char *email, const char *name, char id[CU_ID_LEN + 1])
{
	cu_kv kv[] = {
	    {"name", name},
	    {"address", "9 Lanternwick Row, Snowmarsh"},
	    {"phone", "090-8765-4321"},
	    {"email", email},
	};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &cu_test_operator, kv, 4, NULL, id, &errs), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->tmp);
	register_one(f->ctx, EMAIL, "Quentin Notifyworth", f->member);
	cu_notify_config_from_ctx(f->ctx, &f->cfg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->tmp);
	free(f);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

static int count_notice(void *ud, const cu_notice_row *n)
{
	(void)n;
	(*(int *)ud)++;
	return 0;
}

static int notices(cu_ctx *ctx, const char *member)
{
	int n = 0;

	assert_int_equal(cu_store_notice_list(ctx->store, member, 1000, count_notice, &n), CU_OK);
	return n;
}

static uint64_t outbox_count(cu_ctx *ctx, cu_outbox_status st)
{
	uint64_t c[CU_OUTBOX_STATUS_COUNT_];

	assert_int_equal(cu_store_outbox_counts(ctx->store, c), CU_OK);
	return c[st];
}

static int first_outbox(void *ud, const cu_outbox_row *o)
{
	*(cu_outbox_row *)ud = *o;
	return 1;
}

/* The newest outbox row. */
static cu_outbox_row newest(cu_ctx *ctx)
{
	cu_outbox_row o;

	memset(&o, 0, sizeof(o));
	assert_int_equal(
	    cu_store_outbox_list(ctx->store, true, CU_OUTBOX_PENDING, 1, first_outbox, &o), CU_OK);
	assert_true(o.id[0] != '\0');
	return o;
}

static cu_outbox_row reread(cu_ctx *ctx, const char *id)
{
	cu_outbox_row o;

	assert_int_equal(cu_store_outbox_get(ctx->store, id, &o), CU_OK);
	return o;
}

static void notify(cu_ctx *ctx, const char *member, const char *kind)
{
	assert_int_equal(
	    cu_notify_member(ctx, member, kind, "Your request R-2026-0042 was decided",
	                     "The request R-2026-0042 was decided.\nSee your account."),
	    CU_OK);
}

static cu_notify_report deliver(struct fx *f, int64_t now)
{
	cu_notify_report rep;

	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, now, 100, &rep), CU_OK);
	return rep;
}

/* Audit entries by actor "notifier" (the address reads), and how many were allowed. */
struct audit_count {
	int reads, allowed;
	char last_reason[160];
};

static int on_audit(void *ud, const cu_audit_entry *e)
{
	struct audit_count *c = ud;

	if (strcmp(e->actor, "notifier"))
		return 0;
	assert_string_equal(e->action, "read");
	assert_string_equal(e->fields, "email");
	c->reads++;
	c->allowed += !strcmp(e->decision, "allow");
	snprintf(c->last_reason, sizeof(c->last_reason), "%s", e->reason);
	return 0;
}

static struct audit_count notifier_reads(cu_ctx *ctx)
{
	struct audit_count c = {0};

	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, on_audit, &c), CU_OK);
	return c;
}

/* ---- an SMTP sink in this process ----------------------------------------- */

struct sink {
	int lfd, port;
	pthread_t thread;
	int messages;
	char rcpt[256];
	char data[16384];
	size_t len;
	int reject_rcpt; /* answer RCPT with 550 */
};

struct lines {
	int fd;
	char buf[8192];
	size_t len;
};

/* One line without its CRLF into out; -1 at the end of the connection. */
static int read_line(struct lines *l, char *out, size_t cap)
{
	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);

		if (nl) {
			size_t n = (size_t)(nl - l->buf);
			size_t keep = n && l->buf[n - 1] == '\r' ? n - 1 : n;

			if (keep >= cap)
				keep = cap - 1;
			memcpy(out, l->buf, keep);
			out[keep] = '\0';
			memmove(l->buf, nl + 1, l->len - n - 1);
			l->len -= n + 1;
			return 0;
		}
		if (l->len == sizeof(l->buf))
			return -1;
		ssize_t r = recv(l->fd, l->buf + l->len, sizeof(l->buf) - l->len, 0);

		if (r <= 0)
			return -1;
		l->len += (size_t)r;
	}
}

static void say(int fd, const char *s)
{
	ssize_t w = send(fd, s, strlen(s), MSG_NOSIGNAL);

	(void)w;
}

static void serve(struct sink *k, int fd)
{
	struct lines l = {fd, {0}, 0};
	char line[2048];

	say(fd, "220 sink ESMTP\r\n");
	while (read_line(&l, line, sizeof(line)) == 0) {
		if (!strncasecmp(line, "EHLO", 4)) {
			say(fd, "250-sink\r\n250 8BITMIME\r\n");
		} else if (!strncasecmp(line, "MAIL FROM:", 10)) {
			say(fd, "250 OK\r\n");
		} else if (!strncasecmp(line, "RCPT TO:", 8)) {
			if (k->reject_rcpt) {
				say(fd, "550 no such user\r\n");
				continue;
			}
			snprintf(k->rcpt, sizeof(k->rcpt), "%.200s", line + 8);
			say(fd, "250 OK\r\n");
		} else if (!strcasecmp(line, "DATA")) {
			say(fd, "354 go on\r\n");
			while (read_line(&l, line, sizeof(line)) == 0 && strcmp(line, ".")) {
				size_t n = strlen(line);

				if (k->len + n + 2 < sizeof(k->data)) {
					memcpy(k->data + k->len, line, n);
					memcpy(k->data + k->len + n, "\r\n", 2);
					k->len += n + 2;
					k->data[k->len] = '\0';
				}
			}
			k->messages++;
			say(fd, "250 OK queued\r\n");
		} else if (!strcasecmp(line, "QUIT")) {
			say(fd, "221 bye\r\n");
			break;
		} else if (!strcasecmp(line, "RSET") || !strcasecmp(line, "NOOP")) {
			say(fd, "250 OK\r\n");
		} else {
			say(fd, "500 what\r\n");
		}
	}
	close(fd);
}

static void *sink_main(void *arg)
{
	struct sink *k = arg;
	int fd;

	while ((fd = accept(k->lfd, NULL, NULL)) >= 0)
		serve(k, fd);
	return NULL;
}

static int listen_loopback(int *port, bool do_listen)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	if (do_listen)
		assert_int_equal(listen(fd, 8), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static void sink_start(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	k->lfd = listen_loopback(&k->port, true);
	assert_int_equal(pthread_create(&k->thread, NULL, sink_main, k), 0);
}

static void sink_stop(struct sink *k)
{
	shutdown(k->lfd, SHUT_RDWR);
	close(k->lfd);
	pthread_join(k->thread, NULL);
}

static void use_smtp(struct fx *f, int port)
{
	f->cfg.mode = CU_NOTIFY_SMTP;
	snprintf(f->cfg.smtp_url, sizeof(f->cfg.smtp_url), "smtp://127.0.0.1:%d", port);
	f->cfg.connect_timeout_s = 5;
	f->cfg.timeout_s = 20;
}

/* ---- writing ------------------------------------------------------------- */

static void test_written_in_the_callers_transaction(void **state)
{
	struct fx *f = *state;

	/* Rolled back with the change it announces. */
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	notify(f->ctx, f->member, "amendment");
	assert_int_equal(notices(f->ctx, f->member), 1);
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_PENDING), 1);
	cu_tx_rollback(f->ctx);
	assert_int_equal(notices(f->ctx, f->member), 0);
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_PENDING), 0);

	/* An inner level undone alone; the batch around it commits the rest. */
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	notify(f->ctx, f->member, "undone");
	cu_tx_rollback(f->ctx);
	notify(f->ctx, f->member, "kept");
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	assert_int_equal(notices(f->ctx, f->member), 1);
	{
		cu_outbox_row o = newest(f->ctx);
		cu_notice_row n;

		assert_string_equal(o.kind, "kept");
		assert_string_equal(o.member, f->member);
		assert_int_equal(o.status, CU_OUTBOX_PENDING);
		assert_int_equal(o.attempts, 0);
		assert_int_equal(cu_store_notice_get(f->ctx->store, o.notice, &n), CU_OK);
		assert_string_equal(n.member, f->member);
		assert_string_equal(n.subject, "Your request R-2026-0042 was decided");
		assert_int_equal(n.read_us, 0);
	}
	/* Alone, it commits by itself. */
	notify(f->ctx, f->member, "alone");
	assert_int_equal(notices(f->ctx, f->member), 2);
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_PENDING), 2);
}

static void test_input_refused_whole(void **state)
{
	struct fx *f = *state;
	char long_subject[CU_NOTIFY_SUBJECT_MAX + 2], long_body[CU_NOTIFY_BODY_MAX + 2];
	char long_line[1000], ok_line[999 + 3], long_kind[CU_NOTIFY_KIND_MAX + 2];
	const char *m = f->member;

	memset(long_subject, 's', sizeof(long_subject) - 1);
	long_subject[sizeof(long_subject) - 1] = '\0';
	memset(long_body, 'b', sizeof(long_body) - 1);
	long_body[sizeof(long_body) - 1] = '\0';
	memset(long_line, 'l', sizeof(long_line) - 1); /* 999 bytes on one line */
	long_line[sizeof(long_line) - 1] = '\0';
	memset(long_kind, 'k', sizeof(long_kind) - 1);
	long_kind[sizeof(long_kind) - 1] = '\0';

	struct {
		const char *member, *kind, *subject, *body;
	} bad[] = {
	    {m, "", "s", "b"},
	    {m, "Amendment", "s", "b"},
	    {m, "a b", "s", "b"},
	    {m, long_kind, "s", "b"},
	    {m, NULL, "s", "b"},
	    {m, "k", "", "b"},
	    {m, "k", NULL, "b"},
	    {m, "k", long_subject, "b"},
	    {m, "k", "two\nlines", "b"},
	    {m, "k", "carriage\rreturn", "b"},
	    {m, "k", "tab\there", "b"},
	    {m, "k", "del\x7f", "b"},
	    {m, "k", "c1 \xc2\x85 next line", "b"},
	    {m, "k", "bad \xff byte", "b"},
	    {m, "k", "overlong \xc0\xaf", "b"},
	    {m, "k", "surrogate \xed\xa0\x80", "b"},
	    {m, "k", "cut \xe3\x81", "b"},
	    {m, "k", "s", ""},
	    {m, "k", "s", NULL},
	    {m, "k", "s", long_body},
	    {m, "k", "s", "crlf\r\nline"},
	    {m, "k", "s", "nul-free but \x01"},
	    {m, "k", "s", long_line},
	    {m, "k", "s", "bad \xf5\x80\x80\x80"},
	    {"", "k", "s", "b"},
	    {NULL, "k", "s", "b"},
	    {"../../etc/passwd", "k", "s", "b"},
	    {"AAAAAAAAAAAAAAAAAAAAAAA", "k", "s", "b"}, /* 23: longer than an id */
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cu_notify_member(f->ctx, bad[i].member, bad[i].kind, bad[i].subject,
		                     bad[i].body) != CU_ERR_INVALID_ARGUMENT)
			fail_msg("case %zu was not refused", i);
	}
	assert_int_equal(notices(f->ctx, f->member), 0);
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_PENDING), 0);

	/* No such member; an erased one. */
	assert_int_equal(cu_notify_member(f->ctx, "AAAAAAAAAAAAAAAAAAAAAA", "k", "s", "b"),
	                 CU_ERR_NOT_FOUND);
	{
		char other[CU_ID_LEN + 1];

		register_one(f->ctx, "gone@example.net", "Gone Away", other);
		assert_int_equal(
		    cu_erasure_carry_out(f->ctx, &cu_test_operator, other, NULL, cu_now_us(), NULL),
		    CU_OK);
		assert_int_equal(cu_notify_member(f->ctx, other, "k", "s", "b"), CU_ERR_ERASED);
	}
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_PENDING), 0);

	/* At the limits, and beyond ASCII: accepted. */
	memset(ok_line, 'o', 998);
	ok_line[998] = '\n';
	ok_line[999] = 'x';
	ok_line[1000] = '\0';
	long_subject[CU_NOTIFY_SUBJECT_MAX] = '\0';
	long_kind[CU_NOTIFY_KIND_MAX] = '\0';
	assert_int_equal(cu_notify_member(f->ctx, m, long_kind, long_subject, ok_line), CU_OK);
	assert_int_equal(cu_notify_member(f->ctx, m, "policy.v2-x_y", "ポリシーが改定されました",
	                                  "改定版 2026-11-29.1 をご確認ください。\n\nthanks"),
	                 CU_OK);
	assert_int_equal(notices(f->ctx, f->member), 2);
}

static void test_mark_read(void **state)
{
	struct fx *f = *state;
	char other[CU_ID_LEN + 1];
	cu_notice_row n, again;
	cu_outbox_row o;

	register_one(f->ctx, "other.reader@example.net", "Other Reader", other);
	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	/* Only the member's own notice. */
	assert_int_equal(cu_notify_mark_read(f->ctx, other, o.notice), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_notify_mark_read(f->ctx, f->member, "AAAAAAAAAAAAAAAAAAAAAA"),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_notify_mark_read(f->ctx, f->member, "no/such"), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_notice_get(f->ctx->store, o.notice, &n), CU_OK);
	assert_int_equal(n.read_us, 0);
	assert_int_equal(cu_notify_mark_read(f->ctx, f->member, o.notice), CU_OK);
	assert_int_equal(cu_store_notice_get(f->ctx->store, o.notice, &n), CU_OK);
	assert_true(n.read_us > 0);
	/* The first reading counts. */
	usleep(2000);
	assert_int_equal(cu_notify_mark_read(f->ctx, f->member, o.notice), CU_OK);
	assert_int_equal(cu_store_notice_get(f->ctx->store, o.notice, &again), CU_OK);
	assert_int_equal(again.read_us, n.read_us);
}

/* ---- delivery: files ------------------------------------------------------ */

static void test_files_mode_writes_no_address(void **state)
{
	struct fx *f = *state;
	char path[4400], want[128];
	struct stat st;
	cu_outbox_row o;
	cu_notify_report rep;
	int64_t now;
	unsigned long long audit_before = cu_test_audit_count(f->ctx);

	assert_int_equal(f->cfg.mode, CU_NOTIFY_FILES); /* the default */
	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	now = cu_now_us();
	rep = deliver(f, now);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.pending, 0);

	snprintf(path, sizeof(path), "%s/outbox/%s.eml", f->ctx->dir, o.id);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(want, sizeof(want), "To: %s@members.invalid\r\n", f->member);
	assert_true(cu_test_file_contains(path, want));
	snprintf(want, sizeof(want), "Message-ID: <%s@custodian>\r\n", o.id);
	assert_true(cu_test_file_contains(path, want));
	assert_true(
	    cu_test_file_contains(path, "Subject: Your request R-2026-0042 was decided\r\n"));
	assert_true(cu_test_file_contains(path, "\r\n\r\nThe request R-2026-0042 was decided.\r\n"
	                                        "See your account.\r\n"));
	/* No address was read, so none is on the disk — in any case or form. */
	assert_false(cu_test_file_contains(path, EMAIL));
	assert_false(cu_test_file_contains(path, "quillfeather"));
	assert_false(cu_test_file_contains(path, "Quillfeather"));
	assert_int_equal(cu_test_audit_count(f->ctx), audit_before);
	snprintf(path, sizeof(path), "%s/outbox", f->ctx->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	o = reread(f->ctx, o.id);
	assert_int_equal(o.status, CU_OUTBOX_SENT);
	assert_int_equal(o.attempts, 1);
	assert_int_equal(o.sent_us, now);
	assert_int_equal(o.claimed_until_us, 0);

	/* Nothing twice. */
	rep = deliver(f, now + 3600 * SEC);
	assert_int_equal(rep.sent + rep.failed + rep.dropped, 0);
}

static void test_off_mode_keeps_pending(void **state)
{
	struct fx *f = *state;
	cu_notify_report rep;

	f->cfg.mode = CU_NOTIFY_OFF;
	notify(f->ctx, f->member, "amendment");
	rep = deliver(f, cu_now_us());
	assert_int_equal(rep.sent + rep.failed + rep.dropped, 0);
	assert_int_equal(rep.pending, 1);
	assert_int_equal(newest(f->ctx).attempts, 0);
}

static void test_erased_member_dropped(void **state)
{
	struct fx *f = *state;
	char path[4400];
	struct stat st;
	cu_notify_report rep;
	cu_outbox_row a, b;

	/* Files: erasure drops what was queued at once; delivery finds nothing to send. */
	notify(f->ctx, f->member, "amendment");
	a = newest(f->ctx);
	assert_int_equal(
	    cu_erasure_carry_out(f->ctx, &cu_test_operator, f->member, NULL, cu_now_us(), NULL),
	    CU_OK);
	a = reread(f->ctx, a.id);
	assert_int_equal(a.status, CU_OUTBOX_DROPPED);
	rep = deliver(f, cu_now_us());
	assert_int_equal(rep.sent + rep.failed + rep.dropped, 0);
	assert_int_equal(rep.pending, 0);
	snprintf(path, sizeof(path), "%s/outbox/%s.eml", f->ctx->dir, a.id);
	assert_int_not_equal(stat(path, &st), 0);

	/* SMTP: the door refuses (and audits the refusal); dropped, nothing sent. */
	{
		char other[CU_ID_LEN + 1];
		struct sink k;
		struct audit_count c;

		register_one(f->ctx, "second.erased@example.net", "Second Erased", other);
		notify(f->ctx, other, "amendment");
		b = newest(f->ctx);
		/* Erasure's own step (the store's drop) drops it at once ... */
		assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
		assert_int_equal(cu_store_outbox_drop_member(f->ctx->store, other, NULL), CU_OK);
		assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
		assert_int_equal(reread(f->ctx, b.id).status, CU_OUTBOX_DROPPED);
		/* ... and delivery drops what an erasure without the hook left (the bare store erase). */
		notify(f->ctx, other, "amendment");
		b = newest(f->ctx);
		assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
		assert_int_equal(cu_store_member_erase(f->ctx->store, other, cu_now_us()), CU_OK);
		assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
		sink_start(&k);
		use_smtp(f, k.port);
		rep = deliver(f, cu_now_us());
		sink_stop(&k);
		assert_int_equal(rep.dropped, 1);
		assert_int_equal(k.messages, 0);
		assert_int_equal(reread(f->ctx, b.id).status, CU_OUTBOX_DROPPED);
		c = notifier_reads(f->ctx);
		assert_int_equal(c.reads, 1);
		assert_int_equal(c.allowed, 0);
		assert_non_null(strstr(c.last_reason, "erased"));
	}
}

/* ---- delivery: smtp ------------------------------------------------------- */

static void test_smtp_sends_once_through_the_door(void **state)
{
	struct fx *f = *state;
	struct sink k;
	cu_notify_report rep;
	cu_outbox_row o;
	struct audit_count c;
	char want[128];

	assert_int_equal(
	    cu_notify_member(f->ctx, f->member, "policy",
	                     "ポリシー改定のお知らせ: version 2026-11-29.1 is in force",
	                     "Policy 2026-11-29.1 is in force.\n.\n.leading dot\nEnd."),
	    CU_OK);
	o = newest(f->ctx);
	sink_start(&k);
	use_smtp(f, k.port);
	rep = deliver(f, cu_now_us());
	assert_int_equal(rep.sent, 1);
	rep = deliver(f, cu_now_us() + 3600 * SEC);
	assert_int_equal(rep.sent + rep.failed, 0);
	sink_stop(&k);

	assert_int_equal(k.messages, 1);
	assert_string_equal(k.rcpt, "<" EMAIL ">");
	assert_non_null(strstr(k.data, "To: " EMAIL "\r\n"));
	assert_non_null(strstr(k.data, "From: custodian@localhost\r\n"));
	snprintf(want, sizeof(want), "Message-ID: <%s@custodian>\r\n", o.id);
	assert_non_null(strstr(k.data, want));
	assert_non_null(strstr(k.data, "Date: "));
	assert_non_null(strstr(k.data, "Content-Type: text/plain; charset=UTF-8\r\n"));
	/* The subject in encoded words (RFC 2047), never raw 8-bit in a header. */
	assert_non_null(strstr(k.data, "Subject: =?UTF-8?B?"));
	assert_null(strstr(k.data, "ポリシー"));
	/* Dot-stuffed on the wire (RFC 5321 4.5.2): a body line "." does not end the message. */
	assert_non_null(strstr(k.data, "\r\n..\r\n..leading dot\r\nEnd.\r\n"));

	o = reread(f->ctx, o.id);
	assert_int_equal(o.status, CU_OUTBOX_SENT);
	assert_int_equal(o.attempts, 1);
	/* One read of the address, through the door, audited as allowed. */
	c = notifier_reads(f->ctx);
	assert_int_equal(c.reads, 1);
	assert_int_equal(c.allowed, 1);
	/* The address never reaches the store or its log. */
	{
		char path[4400];

		snprintf(path, sizeof(path), "%s/custodian.db", f->ctx->dir);
		assert_false(cu_test_file_contains(path, EMAIL));
		snprintf(path, sizeof(path), "%s/custodian.db-wal", f->ctx->dir);
		assert_false(cu_test_file_contains(path, EMAIL));
		snprintf(path, sizeof(path), "%s/outbox", f->ctx->dir);
		assert_int_not_equal(access(path, F_OK), 0);
	}
}

static void test_backoff_schedule(void **state)
{
	struct fx *f = *state;
	int port, fd = listen_loopback(&port, false); /* bound, not listening: refused */
	int64_t t = 1900000000LL * SEC;
	cu_notify_report rep;
	cu_outbox_row o;

	assert_int_equal(cu_notify_backoff_us(1), 30 * SEC);
	assert_int_equal(cu_notify_backoff_us(2), 60 * SEC);
	assert_int_equal(cu_notify_backoff_us(3), 120 * SEC);
	assert_int_equal(cu_notify_backoff_us(7), 1920 * SEC);
	assert_int_equal(cu_notify_backoff_us(8), 3600 * SEC);
	assert_int_equal(cu_notify_backoff_us(60), 3600 * SEC);
	assert_int_equal(cu_notify_backoff_us(4000000000u), 3600 * SEC);

	use_smtp(f, port);
	f->cfg.max_attempts = 3;
	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	assert_int_equal(cu_store_outbox_settle(f->ctx->store, &o), CU_ERR_INTERNAL); /* no tx */
	/* created now, due now: a "now" far ahead sees it due */

	rep = deliver(f, t);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.pending, 1);
	o = reread(f->ctx, o.id);
	assert_int_equal(o.attempts, 1);
	assert_int_equal(o.status, CU_OUTBOX_PENDING);
	assert_string_equal(o.last_error, "connect_failed");
	assert_int_equal(o.next_attempt_us, t + 30 * SEC);
	assert_int_equal(o.claimed_until_us, 0);

	/* Not due yet: untouched. */
	rep = deliver(f, t + 29 * SEC);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(reread(f->ctx, o.id).attempts, 1);

	/* The operator's "now, whatever the schedule". */
	f->cfg.ignore_backoff = true;
	rep = deliver(f, t + 29 * SEC);
	f->cfg.ignore_backoff = false;
	assert_int_equal(rep.failed, 1);
	o = reread(f->ctx, o.id);
	assert_int_equal(o.attempts, 2);
	assert_int_equal(o.next_attempt_us, t + 29 * SEC + 60 * SEC);

	/* The last attempt gives up. */
	rep = deliver(f, t + 89 * SEC);
	assert_int_equal(rep.failed, 1);
	assert_int_equal(rep.gave_up, 1);
	assert_int_equal(rep.pending, 0);
	o = reread(f->ctx, o.id);
	assert_int_equal(o.status, CU_OUTBOX_FAILED);
	assert_int_equal(o.attempts, 3);
	assert_int_equal(outbox_count(f->ctx, CU_OUTBOX_FAILED), 1);
	rep = deliver(f, t + 100000 * SEC);
	assert_int_equal(rep.failed + rep.sent, 0);
	close(fd);

	/* Every attempt read the address through the door. */
	assert_int_equal(notifier_reads(f->ctx).reads, 3);
}

static void test_refused_by_the_server_is_retried(void **state)
{
	struct fx *f = *state;
	struct sink k;
	cu_notify_report rep;
	cu_outbox_row o;

	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	sink_start(&k);
	k.reject_rcpt = 1;
	use_smtp(f, k.port);
	rep = deliver(f, cu_now_us());
	assert_int_equal(rep.failed, 1);
	o = reread(f->ctx, o.id);
	assert_string_equal(o.last_error, "smtp_550");
	assert_int_equal(o.status, CU_OUTBOX_PENDING);
	/* The server takes it now: sent, once. */
	k.reject_rcpt = 0;
	rep = deliver(f, o.next_attempt_us);
	sink_stop(&k);
	assert_int_equal(rep.sent, 1);
	assert_int_equal(k.messages, 1);
	o = reread(f->ctx, o.id);
	assert_int_equal(o.status, CU_OUTBOX_SENT);
	assert_int_equal(o.attempts, 2);
	assert_string_equal(o.last_error, "");
}

static void test_a_claimed_row_is_not_sent_by_another(void **state)
{
	struct fx *f = *state;
	int64_t now;
	cu_notify_report rep;
	cu_outbox_row o;

	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	now = cu_now_us();
	/* Another deliverer holds it. */
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	assert_int_equal(
	    cu_store_outbox_claim(f->ctx->store, o.id, now, now + CU_NOTIFY_LEASE_US, false),
	    CU_OK);
	assert_int_equal(
	    cu_store_outbox_claim(f->ctx->store, o.id, now, now + CU_NOTIFY_LEASE_US, true),
	    CU_ERR_CONFLICT);
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	f->cfg.ignore_backoff = true; /* not even the operator's override takes it */
	rep = deliver(f, now + SEC);
	assert_int_equal(rep.sent + rep.failed, 0);
	assert_int_equal(rep.pending, 1);
	/* A deliverer that died: its claim runs out and the row is due again. */
	rep = deliver(f, now + CU_NOTIFY_LEASE_US);
	assert_int_equal(rep.sent, 1);
}

static int cancel_after(void *ud)
{
	struct timespec *t0 = ud, t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000 > 300;
}

static void test_cancel_stops_a_send_promptly(void **state)
{
	struct fx *f = *state;
	int port, fd = listen_loopback(&port, true); /* accepts, never greets */
	struct timespec t0, t1;
	cu_notify_report rep;
	cu_outbox_row o;

	notify(f->ctx, f->member, "amendment");
	o = newest(f->ctx);
	use_smtp(f, port);
	f->cfg.timeout_s = 60;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	f->cfg.cancelled = cancel_after;
	f->cfg.cancel_ud = &t0;
	rep = deliver(f, cu_now_us());
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	assert_true(t1.tv_sec - t0.tv_sec < 5);
	/* Abandoned, not failed: the attempt does not count and the row is due again. */
	assert_int_equal(rep.sent + rep.failed, 0);
	o = reread(f->ctx, o.id);
	assert_int_equal(o.status, CU_OUTBOX_PENDING);
	assert_int_equal(o.attempts, 0);
	assert_int_equal(o.claimed_until_us, 0);
}

static void test_deliver_outside_a_transaction_only(void **state)
{
	struct fx *f = *state;
	cu_notify_report rep;

	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	assert_int_equal(cu_notify_deliver(f->ctx, &f->cfg, cu_now_us(), 10, &rep),
	                 CU_ERR_INTERNAL);
	cu_tx_rollback(f->ctx);
}

/* ---- configuration -------------------------------------------------------- */

static void test_config(void **state)
{
	struct fx *f = *state;
	char path[4400], err[512];
	cu_config c;
	static const char *const bad[] = {
	    "[notify]\nmode = email\n",
	    "[notify]\nsmtp_url = http://127.0.0.1:25\n",
	    "[notify]\nsmtp_url = smtp://a b\n",
	    "[notify]\nfrom = Custodian <c@example.org>\n",
	    "[notify]\nfrom = nobody\n",
	    "[notify]\nfrom = a@b@c\n",
	    "[notify]\nmax_attempts = 0\n",
	    "[notify]\ninterval_ms = 1\n",
	    "[notify]\npurpose =\n",
	};

	snprintf(path, sizeof(path), "%s/test.conf", f->tmp);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		fputs(bad[i], fp);
		fclose(fp);
		cu_config_defaults(&c);
		if (cu_config_load(path, &c, err, sizeof(err)) != CU_ERR_CONFIG)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(err, "notify."));
	}
	{
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		fputs("[notify]\nmode = smtp\nsmtp_url = smtps://mail.example.org:465\n"
		      "from = privacy@example.org\nmax_attempts = 3\ninterval_ms = 50\n",
		      fp);
		fclose(fp);
	}
	cu_config_defaults(&c);
	assert_string_equal(c.notify_mode, "files");
	assert_int_equal(c.notify_max_attempts, 8);
	assert_int_equal(c.notify_interval_ms, 1000);
	assert_int_equal(cu_config_load(path, &c, err, sizeof(err)), CU_OK);
	assert_string_equal(c.notify_mode, "smtp");
	assert_string_equal(c.notify_from, "privacy@example.org");
	assert_int_equal(c.notify_max_attempts, 3);
	f->ctx->config = c;
	cu_notify_config_from_ctx(f->ctx, &f->cfg);
	assert_int_equal(f->cfg.mode, CU_NOTIFY_SMTP);
	assert_string_equal(f->cfg.smtp_url, "smtps://mail.example.org:465");
	assert_string_equal(f->cfg.purpose, "support");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_written_in_the_callers_transaction),
	    T(test_input_refused_whole),
	    T(test_mark_read),
	    T(test_files_mode_writes_no_address),
	    T(test_off_mode_keeps_pending),
	    T(test_erased_member_dropped),
	    T(test_smtp_sends_once_through_the_door),
	    T(test_backoff_schedule),
	    T(test_refused_by_the_server_is_retried),
	    T(test_a_claimed_row_is_not_sent_by_another),
	    T(test_cancel_stops_a_send_promptly),
	    T(test_deliver_outside_a_transaction_only),
	    T(test_config),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
