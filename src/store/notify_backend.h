/*
 * src/store/notify_backend.h — the notify area's backend interface (private).
 */
#ifndef CU_STORE_NOTIFY_IMPL_H
#define CU_STORE_NOTIFY_IMPL_H

#include "store/notify.h"

struct cu_store_notify_ops {
	cu_result (*notice_insert)(cu_store *s, const cu_notice_row *row);
	cu_result (*notice_get)(cu_store *s, const char *id, cu_notice_row *out);
	cu_result (*notice_list)(cu_store *s, const char *member, size_t limit,
	                         cu_store_notice_fn fn, void *ud);
	cu_result (*notice_mark_read)(cu_store *s, const char *member, const char *id,
	                              int64_t when_us);
	cu_result (*outbox_insert)(cu_store *s, const cu_outbox_row *row);
	cu_result (*outbox_get)(cu_store *s, const char *id, cu_outbox_row *out);
	cu_result (*outbox_due)(cu_store *s, int64_t now_us, bool ignore_backoff, size_t max,
	                        cu_store_outbox_fn fn, void *ud);
	cu_result (*outbox_claim)(cu_store *s, const char *id, int64_t now_us, int64_t until_us,
	                          bool ignore_backoff);
	cu_result (*outbox_settle)(cu_store *s, const cu_outbox_row *row);
	cu_result (*outbox_counts)(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_]);
	cu_result (*outbox_list)(cu_store *s, bool all, cu_outbox_status status, size_t limit,
	                         cu_store_outbox_fn fn, void *ud);
	/* *n is never NULL here: the dispatcher passes its own counter. */
	cu_result (*outbox_drop_member)(cu_store *s, const char *member, uint64_t *n);
};

#endif
