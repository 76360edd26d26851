/*
 * src/domain/audit_log.c — the audit log as the front ends read it (see audit_log.h).
 */
#include "domain/audit_log.h"

cu_result cu_audit_log_scan(cu_store *s, uint64_t from, const char *member, cu_store_audit_fn fn,
                            void *ud)
{
	return cu_store_audit_scan(s, from, member, fn, ud);
}
