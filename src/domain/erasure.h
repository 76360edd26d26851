/*
 * src/domain/erasure.h — erasing a member: the one operation every way in calls.
 *
 * The policy promises that personal information is deleted when the member
 * asks for it (or when the service ends their membership).  There are two
 * ways in — the privacy officer applying an erasure request
 * (cu_request_decide, POST /v1/requests/{id}/decision) and the operator's
 * `custodian member erase ID` — and both call cu_erasure_carry_out, so an
 * erased member looks the same whichever way it happened.
 *
 * What erasure does, all in one transaction (nothing or everything):
 *   1-2. (casework.h, cu_case_close_member)
 *   1. closes every open request of the member (received or
 *      investigating; the erasure request being applied excepted — its
 *      caller marks it applied): state "closed", a history step with note
 *      "member_erased", decided by the actor.  Nobody is left to answer.
 *   2. closes every open complaint of the member the same way: state
 *      "closed", note "member_erased", closed by the actor; each closing
 *      audited ("complaint_close", reason "complaint=ID closed member_erased").
 *   3. deletes the sealed texts of all the member's requests and complaints
 *      (secure_delete overwrites the bytes), keeping types, states, times;
 *   4. deletes the member's diary entries (sealed under the key that goes);
 *   5. crypto-shreds the member: the wrapped data key, every sealed field,
 *      both blind indexes (e-mail, phone) and the password hash are dropped;
 *      the member id and the time of erasure stay (the erasure record);
 *   6. ends every session of the member (logged out everywhere);
 *   7. drops the member's pending mail in the outbox (status "dropped",
 *      "erased"): there is no address to send to any more;
 *   8. writes one audit entry: action "erase", decision "done", reason
 *      "crypto-shredded requests_closed=N complaints_closed=M" and, when a
 *      request is carried out, " request=ID" — ids and counts, never values;
 *   9. issues a signed erasure certificate (below).
 * After the commit the store is checkpointed so old pages of the row do not
 * linger in the write-ahead log (ctx.h: checkpoint_due).
 *
 * The certificate ({"certificate": {...}, "signature": hex}, Ed25519 over the
 * certificate's canonical JSON, checked by cu_request_certificate_verify)
 * says what was destroyed and when — ids, times, field names and counts,
 * nothing of the person: type "erasure", member, request and requested
 * (null for an erasure ordered directly), erased, decided_by, destroyed
 * {data_key, fields, blind_indexes, password_hash, diary_entries,
 * request_and_complaint_texts, sessions}, closed {requests, complaints,
 * note "member_erased"}, kept [...], key_id, public_key.  For a request the caller keeps it on the
 * request row (GET /v1/requests/{id}/certificate); the command line writes
 * it where the operator asks (`member erase ID --certificate FILE`).
 */
#ifndef CUSTODIAN_ERASURE_H
#define CUSTODIAN_ERASURE_H

#include <stdint.h>

#include "ctx/ctx.h"
#include "access/access.h"
#include "store/request.h"
#include "util/result.h"

/*
 * Erases member `member` as described above.  The actor must be an officer
 * or the operator (CU_ERR_FORBIDDEN otherwise, the refusal audited).
 * CU_ERR_NOT_FOUND for an unknown member, CU_ERR_ERASED for one already
 * erased.  `request` is the erasure request being carried out (it is left
 * as it is: the caller marks it applied in the same transaction) or NULL
 * for an erasure ordered directly.  Opens a transaction of its own, nested
 * in the caller's if there is one.  *certificate (may be NULL) receives the
 * signed certificate (malloc'd; the caller frees).
 */
CU_WARN_UNUSED cu_result cu_erasure_carry_out(cu_ctx *ctx, const cu_actor *actor,
                                              const char *member, const cu_request_row *request,
                                              int64_t now_us, char **certificate);

/*
 * Erasures made after a backup was taken, carried into its restored store
 * (`custodian restore`): every live member whose data key is wrapped under
 * a key-tree leaf the keyring has punctured since (vault/keyring.h) is
 * erased here as above, by the operator.  *replayed (may be NULL) counts
 * them.  Members whose key is in the master-key format (1) cannot be told
 * apart and are left; `keys rotate` moves them into the tree.
 */
CU_WARN_UNUSED cu_result cu_erasure_replay(cu_ctx *ctx, size_t *replayed);

/*
 * The other direction, after a crash between an erasure's commit and the
 * keyring's puncture: punctures the leaves of every erased member in every
 * tree (idempotent).  *punctured (may be NULL) counts leaves punctured now.
 * The server runs it at start and at every retention pass, which is also how
 * a machine with its own copy of the keyring drops the leaves of members
 * erased through another machine.
 */
CU_WARN_UNUSED cu_result cu_erasure_reconcile(cu_ctx *ctx, size_t *punctured);

#endif
