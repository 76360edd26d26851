/*
 * domain/notice_reads.h — members' notices and the outbox, read.
 *
 * Reads for the front ends on any handle (a network thread's reader, say): each
 * is the store function of the same name, so the store stays private to the
 * domain.  Rows passed to fn are valid during the call only; fn returns
 * non-zero to stop.
 */
#ifndef CU_DOMAIN_NOTICE_READS_H
#define CU_DOMAIN_NOTICE_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/notify.h"

/* A member's notices, newest first, at most limit. */
CU_WARN_UNUSED cu_result cu_notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn, void *ud);

/* One notice by id (the caller checks whose it is); CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_notice_get(cu_store *s, const char *id, cu_notice_row *out);

/* How many outbox rows are in each status. */
CU_WARN_UNUSED cu_result cu_outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_]);

/* Outbox rows, newest first, at most limit; only rows of status unless all. */
CU_WARN_UNUSED cu_result cu_outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit, cu_store_outbox_fn fn, void *ud);

#endif
