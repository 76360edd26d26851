/*
 * domain/consent_reads.h — members' choices, member rows and published policy versions, read.
 *
 * Reads for the front ends on any handle (a network thread's reader, say): each
 * is the store function of the same name, so the store stays private to the
 * domain.  Rows passed to fn are valid during the call only; fn returns
 * non-zero to stop.
 */
#ifndef CU_DOMAIN_CONSENT_READS_H
#define CU_DOMAIN_CONSENT_READS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/consent.h"

/* Every choice of a member, oldest first. */
CU_WARN_UNUSED cu_result cu_consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud);

/* One choice (a receipt) by its id; CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_consent_get(cu_store *s, const char *id, cu_consent_row *out);

/*
 * A member's row (sealed fields; release with cu_member_row_release).  CU_ERR_NOT_FOUND
 * if no such id; an erased member is returned with erased=true.
 */
CU_WARN_UNUSED cu_result cu_member_get(cu_store *s, const char *id, cu_member_row *out);

/* Every published policy version, oldest first. */
CU_WARN_UNUSED cu_result cu_versions_list(cu_store *s, cu_store_policy_fn fn, void *ud);

/*
 * A published version's document as published: *doc malloc'd (the caller frees);
 * published_us may be NULL.  CU_ERR_NOT_FOUND if never published.
 */
CU_WARN_UNUSED cu_result cu_versions_document(cu_store *s, const char *version, char **doc, size_t *len, int64_t *published_us);

#endif
