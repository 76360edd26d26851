/*
 * src/domain/notify.h — notifications: notices a member sees in their
 * account, and the e-mails that announce them.
 *
 * Writing.  cu_notify_member() writes one notice row (what the member sees
 * in their account) and one outbox row (what will be e-mailed) inside the
 * caller's transaction: call it between the cu_tx_begin and cu_tx_commit of
 * the change it announces, so the notice exists exactly when the change
 * does (a rollback takes both back).  It opens its own level (cu_tx_begin
 * nests), so it also works alone.
 *
 * RULE — no personal values.  The subject and body are stored and sent as
 * given, in plaintext: they are templates that may name fields ("your
 * e-mail address was amended"), request ids, policy versions, dates — never
 * a value the member gave (not the new address, not their name).  The
 * outbox row names the member by id, never by address.
 *
 * Bounds: kind 1..CU_NOTIFY_KIND_MAX bytes of [a-z0-9_.-]; subject
 * 1..CU_NOTIFY_SUBJECT_MAX bytes of valid UTF-8 without control
 * characters; body 1..CU_NOTIFY_BODY_MAX bytes of valid UTF-8 whose only
 * control character is the newline, no line over 998 bytes (RFC 5322).
 * Anything else is CU_ERR_INVALID_ARGUMENT and writes nothing.
 *
 * Delivering.  cu_notify_deliver() takes the due outbox rows one by one:
 * it claims the row (so two deliverers — the server's notifier and
 * `custodian notify deliver` — never send one row twice), sends it, and
 * records the outcome in a transaction of its own.  No transaction is held
 * while a message is sent.
 *   - smtp: the member's e-mail address is read through the access door
 *     (cu_access_read) as actor "notifier", role operator, for the
 *     configured purpose (default "support": a notice about the member's
 *     requests, complaints and the policy is support of the member).  Every
 *     resolution is audited like any read and shows in the member's access
 *     log.  The message (From, To, Subject, Date, Message-ID
 *     <outbox-id@custodian>, text/plain UTF-8) is sent with libcurl; the
 *     Message-ID is the same at every attempt, so a receiver can recognise
 *     a message that was sent again after a crash between the SMTP server's
 *     acceptance and the record of it.  The address and the message are
 *     wiped from memory after use.
 *   - files (development): the message is written to
 *     DATA/outbox/<outbox-id>.eml (temp file, fsync, rename; mode 0600),
 *     addressed To: <member-id>@members.invalid.  No address is resolved:
 *     even in development no plaintext personal data reaches the disk
 *     (".invalid" is reserved, RFC 2606, so such a file can never be mailed
 *     by mistake).
 *   - off: nothing is sent; rows stay pending.
 * A failed attempt counts, and the row is due again after a back-off of
 * 30 s × 2^(attempts − 1), at most 1 h (cu_notify_backoff_us); after
 * max_attempts attempts it is marked failed.  last_error is a short code
 * ("connect_failed", "timeout", "smtp_550", ...) without personal data.
 * A row of an erased (or unknown) member is dropped: nothing to send to.
 */
#ifndef CUSTODIAN_NOTIFY_H
#define CUSTODIAN_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctx/ctx.h"
#include "util/config.h"
#include "util/file_atomic.h"
#include "util/result.h"
#include "store/notify.h"

/*
 * Writes a notice and its outbox row for `member` (a live member:
 * CU_ERR_NOT_FOUND / CU_ERR_ERASED otherwise) in the caller's transaction.
 * See the RULE above: subject and body never carry a personal value.
 */
CU_WARN_UNUSED cu_result cu_notify_member(cu_ctx *ctx, const char *member, const char *kind,
                                          const char *subject, const char *body);

/* Marks a notice of `member` read (the member's own act).  CU_ERR_NOT_FOUND if not theirs. */
CU_WARN_UNUSED cu_result cu_notify_mark_read(cu_ctx *ctx, const char *member, const char *id);

/*
 * An erasure (erasure.h) drops the member's pending outbox rows in its own
 * transaction; delivery drops any it finds for an erased member anyway.
 */

typedef enum cu_notify_mode {
	CU_NOTIFY_OFF = 0,
	CU_NOTIFY_FILES = 1,
	CU_NOTIFY_SMTP = 2,
} cu_notify_mode;

#define CU_NOTIFY_LEASE_US        (10LL * 60 * 1000000) /* how long a claim holds a row */
#define CU_NOTIFY_BACKOFF_BASE_US (30LL * 1000000)
#define CU_NOTIFY_BACKOFF_MAX_US  (3600LL * 1000000)

typedef struct cu_notify_config {
	cu_notify_mode mode;
	char smtp_url[CU_CONFIG_URL_BYTES];
	char from[CU_CONFIG_ADDRESS_BYTES];
	char purpose[CU_CONFIG_PURPOSE_BYTES];
	unsigned max_attempts;
	char outbox_dir[CU_DATA_PATH_MAX]; /* files mode: DATA/outbox */
	bool ignore_backoff;               /* the operator's "try every pending row now" */
	long connect_timeout_s;            /* SMTP: connecting, 10 by default */
	long timeout_s;                    /* SMTP: the whole exchange, 60 by default */
	/* Asked between rows and during a send; non-zero stops the pass early. */
	int (*cancelled)(void *ud);
	void *cancel_ud;
} cu_notify_config;

/* The configuration of ctx's data directory ([notify] of custodian.conf). */
void cu_notify_config_from_ctx(const cu_ctx *ctx, cu_notify_config *cfg);

typedef struct cu_notify_report {
	size_t sent;      /* accepted by the SMTP server, or written as a file */
	size_t failed;    /* attempts that failed (the row is retried or gives up) */
	size_t gave_up;   /* of those, rows now marked failed for good */
	size_t dropped;   /* rows of erased members */
	uint64_t pending; /* rows still pending after the pass */
} cu_notify_report;

/*
 * One pass: up to `max` due rows (due at now_us).  Not inside a
 * transaction of ctx (each row settles in its own).  CU_OK unless the
 * store failed; delivery failures are counted in *out, not returned.
 */
CU_WARN_UNUSED cu_result cu_notify_deliver(cu_ctx *ctx, const cu_notify_config *cfg, int64_t now_us,
                                           size_t max, cu_notify_report *out);

/* The wait after the n-th failed attempt (n >= 1): 30 s × 2^(n-1), at most 1 h. */
int64_t cu_notify_backoff_us(unsigned attempts);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* A member's notices, newest first, at most limit. */
CU_WARN_UNUSED cu_result cu_notice_list(cu_store *s, const char *member, size_t limit,
                                        cu_store_notice_fn fn, void *ud);

/* One notice by id (the caller checks whose it is); CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_notice_get(cu_store *s, const char *id, cu_notice_row *out);

/* How many outbox rows are in each status. */
CU_WARN_UNUSED cu_result cu_outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_]);

/* Outbox rows, newest first, at most limit; only rows of status unless all. */
CU_WARN_UNUSED cu_result cu_outbox_list(cu_store *s, bool all, cu_outbox_status status,
                                        size_t limit, cu_store_outbox_fn fn, void *ud);

#endif
