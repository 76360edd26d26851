/*
 * domain/notice_reads.c — members' notices and the outbox, read (see notice_reads.h).
 */
#include "domain/notice_reads.h"

cu_result cu_notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn, void *ud)
{
	return cu_store_notice_list(s, member, limit, fn, ud);
}

cu_result cu_notice_get(cu_store *s, const char *id, cu_notice_row *out)
{
	return cu_store_notice_get(s, id, out);
}

cu_result cu_outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_])
{
	return cu_store_outbox_counts(s, counts);
}

cu_result cu_outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit, cu_store_outbox_fn fn, void *ud)
{
	return cu_store_outbox_list(s, all, status, limit, fn, ud);
}
