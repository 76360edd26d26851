/*
 * src/domain/consent.h — a member's consents, and the receipts that prove them.
 *
 * "If handling personal information outside the scope of the purpose of
 * use, Cerego shall obtain the consent of the user"; "Cerego shall not
 * provide to a third party ... without the consent of the user"; cookies by
 * category, which users may refuse.  A consent is a choice by the member —
 * granted or withdrawn — about one target:
 *
 *   kind "purpose"      a purpose of the policy that needs consent: one
 *                       marked consent_required (a use outside the nine), or
 *                       one the version the member accepted lacked
 *   kind "third_party"  a registered third party data may be provided to
 *   kind "cookie"       a cookie category that can be refused
 *
 * Choices are kept as history: the latest choice per target is in force,
 * from the moment it is committed (a withdrawal stops the next read).  Each
 * records the policy version it was given under and is audited.  No choice
 * is no consent; a category marked required (necessary cookies) is always
 * in force.
 *
 * Receipts: each choice can be given to the member as a signed receipt
 * (Ed25519, vault.h) naming the choice, its time and the policy version with
 * the BLAKE2b-256 digest of that version's document, so the member holds
 * proof of what they agreed to under which text.
 */
#ifndef CUSTODIAN_CONSENT_H
#define CUSTODIAN_CONSENT_H

#include <stdbool.h>

#include "access/access.h"
#include "access/consent_state.h"
#include "ctx/ctx.h"
#include "store/consent.h"

/* cu_consent_kind, its names and cu_consent_granted (the state the door reads): access/consent_state.h. */

/*
 * Records a choice for `member`: by the member themself, or by the operator
 * (recording a choice made on paper).  The target must be one the member
 * can decide (see above; a third party id is checked for form here and
 * against the registry by the provisions module).  *out (may be NULL)
 * receives the recorded row.  CU_ERR_INVALID_FIELD with errs naming
 * "target" for a target that cannot be chosen; CU_ERR_ERASED / NOT_FOUND
 * for the member.
 */
CU_WARN_UNUSED cu_result cu_consent_set(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                        cu_consent_kind kind, const char *target, bool granted,
                                        cu_consent_row *out, cu_errors *errs);

/*
 * The member accepts the version in force (ctx->policy): from then on
 * reads are decided against it.  Audited ("policy_accept").
 */
CU_WARN_UNUSED cu_result cu_consent_accept_policy(cu_ctx *ctx, const cu_actor *actor,
                                                  const char *member);

/*
 * A signed receipt for a recorded choice, as JSON text (malloc'd, the
 * caller frees):
 *   {"receipt": {"type":"consent", "id", "member", "kind", "target",
 *                "choice":"granted"|"withdrawn", "time", "time_us",
 *                "policy_version", "policy_digest", "key_id", "public_key"},
 *    "signature": hex Ed25519 over the receipt object's canonical JSON
 *                 (jansson, compact, keys sorted)}
 * Ed25519 is deterministic: the same choice always yields the same receipt.
 */
CU_WARN_UNUSED cu_result cu_consent_receipt(cu_store *s, const cu_vault *v,
                                            const cu_consent_row *row, char **json);

/*
 * Checks a receipt: well-formed, and signed by the key it names.  When
 * `v` is given the key must also be one of v's (a receipt Custodian issued,
 * not one signed by anybody's key).  CU_OK, or CU_ERR_CRYPTO / INVALID_ARGUMENT
 * with `what` saying why in one line.  *summary (may be NULL) gets "kind
 * target choice time" for display.
 */
CU_WARN_UNUSED cu_result cu_consent_receipt_verify(const char *json, size_t len, const cu_vault *v,
                                                   char *what, size_t whatlen, char *summary,
                                                   size_t summarylen);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* Every choice of a member, oldest first. */
CU_WARN_UNUSED cu_result cu_consent_list(cu_store *s, const char *member, cu_store_consent_fn fn,
                                         void *ud);

/* One choice (a receipt) by its id; CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_consent_get(cu_store *s, const char *id, cu_consent_row *out);

#endif
