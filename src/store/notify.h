/*
 * src/store/notify.h — the store's area for notifications: the
 * notices a member sees in their account, and the outbox of e-mails still
 * to deliver.  Part of the store (store.h's rules hold: writes only inside
 * a transaction, no SQL outside the store); the domain is notify.h.
 *
 * Neither table holds personal data: a notice is a template text (field
 * names, request ids, policy versions; never a value) and an outbox row
 * names the member by id, never by address.  The address is resolved
 * through the access door at delivery time and never stored.
 *
 * Rows are inline (fixed-size arrays): nothing to release.
 */
#ifndef CUSTODIAN_STORE_NOTIFY_H
#define CUSTODIAN_STORE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "store/store.h"

#define CU_NOTIFY_KIND_MAX    32   /* bytes of a kind: [a-z0-9_.-] */
#define CU_NOTIFY_SUBJECT_MAX 200  /* bytes of UTF-8 */
#define CU_NOTIFY_BODY_MAX    4000 /* bytes of UTF-8 */
#define CU_NOTIFY_ERROR_MAX   32   /* bytes of a delivery error code */

/* What the member sees in their account. */
typedef struct cu_notice_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	char kind[CU_NOTIFY_KIND_MAX + 1]; /* "amendment", "policy", "test", ... */
	char subject[CU_NOTIFY_SUBJECT_MAX + 1];
	char body[CU_NOTIFY_BODY_MAX + 1];
	int64_t created_us;
	int64_t read_us; /* 0 while unread */
} cu_notice_row;

/* The numbers are stable; the store keeps the names. */
typedef enum cu_outbox_status {
	CU_OUTBOX_PENDING = 0, /* to be delivered (now, or at next_attempt_us) */
	CU_OUTBOX_SENT = 1,    /* accepted by the SMTP server, or written as a file */
	CU_OUTBOX_FAILED = 2,  /* gave up after the configured number of attempts */
	CU_OUTBOX_DROPPED = 3, /* nothing to send to: the member was erased */
	CU_OUTBOX_STATUS_COUNT_
} cu_outbox_status;

/* "pending", "sent", "failed", "dropped"; NULL out of range. */
const char *cu_outbox_status_name(cu_outbox_status st);
/* CU_ERR_INVALID_ARGUMENT if name is none of them. */
CU_WARN_UNUSED cu_result cu_outbox_status_parse(const char *name, cu_outbox_status *out);

/* One e-mail to deliver: the member's id and the notice it carries. */
typedef struct cu_outbox_row {
	char id[CU_ID_LEN + 1]; /* also the Message-ID's left part */
	char member[CU_ID_LEN + 1];
	char notice[CU_ID_LEN + 1];
	char kind[CU_NOTIFY_KIND_MAX + 1];
	cu_outbox_status status;
	unsigned attempts; /* delivery attempts made so far */
	int64_t created_us;
	int64_t next_attempt_us;                  /* due from then on (while pending) */
	int64_t claimed_until_us;                 /* a deliverer holds it until then; 0 = nobody */
	int64_t sent_us;                          /* 0 unless sent */
	char last_error[CU_NOTIFY_ERROR_MAX + 1]; /* a short code, "" when none */
} cu_outbox_row;

/* ---- notices ---- */

/* Refuses an id already held (CU_ERR_CONFLICT).  `member` must name a member row. */
CU_WARN_UNUSED cu_result cu_store_notice_insert(cu_store *s, const cu_notice_row *row);
CU_WARN_UNUSED cu_result cu_store_notice_get(cu_store *s, const char *id, cu_notice_row *out);
/*
 * A member's notices, newest first, at most `limit`.  The row is valid
 * during the call only; fn returns non-zero to stop.
 */
typedef int (*cu_store_notice_fn)(void *ud, const cu_notice_row *row);
CU_WARN_UNUSED cu_result cu_store_notice_list(cu_store *s, const char *member, size_t limit,
                                              cu_store_notice_fn fn, void *ud);
/*
 * Marks notice `id` of `member` read at when_us (the first time counts).
 * CU_ERR_NOT_FOUND when the member has no such notice.
 */
CU_WARN_UNUSED cu_result cu_store_notice_mark_read(cu_store *s, const char *member, const char *id,
                                                   int64_t when_us);

/* ---- outbox ---- */

/* Refuses an id already held (CU_ERR_CONFLICT).  `notice` must name a notice row. */
CU_WARN_UNUSED cu_result cu_store_outbox_insert(cu_store *s, const cu_outbox_row *row);
CU_WARN_UNUSED cu_result cu_store_outbox_get(cu_store *s, const char *id, cu_outbox_row *out);
/*
 * Pending rows nobody holds (claimed_until_us <= now_us) that are due
 * (next_attempt_us <= now_us, or any time with ignore_backoff), earliest
 * first, at most `max`.
 */
typedef int (*cu_store_outbox_fn)(void *ud, const cu_outbox_row *row);
CU_WARN_UNUSED cu_result cu_store_outbox_due(cu_store *s, int64_t now_us, bool ignore_backoff,
                                             size_t max, cu_store_outbox_fn fn, void *ud);
/*
 * Takes row `id` for delivery until until_us, if it is still what
 * cu_store_outbox_due would list: pending, unheld, and due (unless
 * ignore_backoff).  CU_ERR_CONFLICT when it is not (another deliverer took
 * it, or it is no longer pending), so two deliverers never send one row.
 */
CU_WARN_UNUSED cu_result cu_store_outbox_claim(cu_store *s, const char *id, int64_t now_us,
                                               int64_t until_us, bool ignore_backoff);
/*
 * Records the outcome of an attempt: writes status, attempts,
 * next_attempt_us, claimed_until_us, sent_us and last_error of row->id.
 * CU_ERR_NOT_FOUND if no such row.
 */
CU_WARN_UNUSED cu_result cu_store_outbox_settle(cu_store *s, const cu_outbox_row *row);
/* Rows per status (counts[CU_OUTBOX_PENDING], ...). */
CU_WARN_UNUSED cu_result cu_store_outbox_counts(cu_store *s,
                                                uint64_t counts[CU_OUTBOX_STATUS_COUNT_]);
/*
 * Newest first, at most `limit`; only rows of `status` unless all is true.
 */
CU_WARN_UNUSED cu_result cu_store_outbox_list(cu_store *s, bool all, cu_outbox_status status,
                                              size_t limit, cu_store_outbox_fn fn, void *ud);
/*
 * Drops every pending row of `member` (status dropped, last_error
 * "erased"): an erased member has nothing to send to.  *n (may be NULL)
 * receives how many.
 */
CU_WARN_UNUSED cu_result cu_store_outbox_drop_member(cu_store *s, const char *member, uint64_t *n);

#endif
