/*
 * src/domain/versions.h — policy versions: what was promised when.
 *
 * "Cerego may change all or part of the Privacy Policy at any time."  Each
 * version of the policy (text and machine policy) is kept, by its version
 * string, in the store: the version in force when a member registered is the
 * one they accepted, until they accept a newer one.  The access door reads a
 * member's data for a purpose only if that purpose was in the version they
 * accepted (and only the fields it granted there), unless they consented to
 * the purpose since (consent.h).
 *
 * A version is published once: publishing the same version with other
 * content is refused, so a version string always names one document.
 */
#ifndef CUSTODIAN_VERSIONS_H
#define CUSTODIAN_VERSIONS_H

#include <jansson.h>

#include "access/access.h"
#include "access/policy_version.h"
#include "ctx/ctx.h"
#include "store/consent.h"

/* Recording the policy in force at open (or reload): cu_ctx_policy_record, ctx/ctx.h. */

/*
 * Publishes a new version (the officer's act): validates doc, refuses a
 * version already published, records it, notifies every live member
 * (notify.h: a notice in their account and an e-mail), replaces
 * DATA/policy.json atomically and audits ("policy_publish") — all in one
 * transaction.  *out receives the loaded
 * policy; the caller puts it in force (the server swaps it in; the command
 * line's next open reads the file).  Officer, admin or operator only.
 */
CU_WARN_UNUSED cu_result cu_versions_publish(cu_ctx *ctx, const cu_actor *actor, const char *doc,
                                             size_t len, cu_policy **out, char *err, size_t errlen);

/* Reading versions back (cu_versions_get, cu_versions_accepted): access/policy_version.h. */

/*
 * What changed from `from` to `to`, side by side, for members: purposes
 * added, removed and changed (fields and roles gained or lost), fields
 * added and removed, exceptions and cookie categories added and removed.
 * A new JSON object (the caller decrefs), or NULL when out of memory.
 */
json_t *cu_versions_diff(const cu_policy *from, const cu_policy *to);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* Every published policy version, oldest first. */
CU_WARN_UNUSED cu_result cu_versions_list(cu_store *s, cu_store_policy_fn fn, void *ud);

/*
 * A published version's document as published: *doc malloc'd (the caller frees);
 * published_us may be NULL.  CU_ERR_NOT_FOUND if never published.
 */
CU_WARN_UNUSED cu_result cu_versions_document(cu_store *s, const char *version, char **doc,
                                              size_t *len, int64_t *published_us);

#endif
