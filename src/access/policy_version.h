/*
 * src/access/policy_version.h — published policy versions, as the door reads
 * them: a version by its string, and the version a member accepted.
 *
 * The door decides a read against the version the member accepted (access.h
 * rule 7), so reading versions lives here, beside it; publishing a version
 * (members notified) is the domain's (domain/versions.h), and recording the
 * policy in force at open is the ctx's (cu_ctx_policy_record).
 */
#ifndef CUSTODIAN_POLICY_VERSION_H
#define CUSTODIAN_POLICY_VERSION_H

#include <stdint.h>

#include "policy/policy.h"
#include "store/consent.h"
#include "store/store.h"
#include "util/result.h"

/*
 * A published version, parsed.  Cached for the life of the process
 * (versions never change), shared between threads; do not free it.
 * CU_ERR_NOT_FOUND if never published.
 */
CU_WARN_UNUSED cu_result cu_versions_get(cu_store *s, const char *version, const cu_policy **out);

/*
 * The version a member accepted: their explicit acceptance, else the one in
 * force when they registered, else (registered before any version was
 * recorded) the earliest version published.  CU_ERR_NOT_FOUND only if no
 * version was ever published.
 */
CU_WARN_UNUSED cu_result cu_versions_accepted(cu_store *s, const char *member,
                                              int64_t registered_us,
                                              char version[CU_VERSION_MAX + 1]);
/*
 * The same from what cu_store_member_context fetched with the member
 * (store/consent.h): no lookup, but the earliest version's in the rare case
 * that neither an acceptance nor a version at registration is known.
 */
CU_WARN_UNUSED cu_result cu_versions_accepted_of(cu_store *s, const cu_member_context *mc,
                                                 char version[CU_VERSION_MAX + 1]);

#endif
