/*
 * src/domain/audit_log.h — the audit log as the front ends read it.
 *
 * Reads for the front ends on any handle (a network thread's reader, say): each
 * is the store function of the same name, so the store stays private to the
 * domain.  Rows passed to fn are valid during the call only; fn returns
 * non-zero to stop.
 */
#ifndef CU_DOMAIN_AUDIT_LOG_H
#define CU_DOMAIN_AUDIT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/*
 * The entries with seq >= from, in seq order; only those about member when it is
 * not NULL (a member's access log), else all (the officer's view).
 */
CU_WARN_UNUSED cu_result cu_audit_log_scan(cu_store *s, uint64_t from, const char *member,
                                           cu_store_audit_fn fn, void *ud);

#endif
