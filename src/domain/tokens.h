/*
 * src/domain/tokens.h — who is who, for everyone but members: the bearer
 * tokens of staff, analysts, services, subcontractors, officers and admins.
 *
 * A token has a public id (22 characters, shown in lists and the audit
 * log), a role, a name (who or what holds it), a creation time, an
 * optional expiry and, once revoked, a revocation time.  Its secret is
 *
 *     "cu_" + base64url(32 random bytes, no padding)        46 characters
 *
 * and is handed out once, by cu_token_create(); Custodian keeps only its
 * BLAKE2b-256 hash.  No salt and no slow hash: those protect secrets people
 * choose, which are few enough to guess.  A 256-bit random secret cannot be
 * guessed, so a fast unsalted hash is as strong as the secret and lets a
 * request be authenticated with one indexed lookup.  The "cu_" prefix lets
 * secret scanners (and people) recognise a leaked token.
 *
 * Authentication looks the token up by the hash of what was presented; it
 * never compares a secret with a stored one byte by byte, so its timing
 * says nothing about any stored secret.  Every refusal — malformed,
 * unknown, expired, revoked — is the same CU_ERR_UNAUTHENTICATED, so a
 * caller cannot learn which tokens exist.
 *
 * Creating and revoking a token each write an audit entry ("token_create",
 * "token_revoke"; the reason names the token's id, role and name, never the
 * secret) in the same transaction as the change.  These functions join the
 * caller's cu_tx_begin transaction when there is one.
 */
#ifndef CUSTODIAN_TOKENS_H
#define CUSTODIAN_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "policy/policy.h"
#include "util/result.h"
#include "store/store.h"
#include "store/subcontractor.h"

#define CU_TOKEN_PREFIX     "cu_"
#define CU_TOKEN_SECRET_LEN 46 /* "cu_" + 43 base64url characters */
#define CU_TOKEN_NAME_MAX   64 /* code points */
#define CU_TOKEN_NAME_BYTES CU_STORE_TOKEN_NAME_BYTES

/* What a caller may know about a token: everything but its hash. */
typedef struct cu_token_info {
	char id[CU_ID_LEN + 1];
	cu_role role;
	char name[CU_TOKEN_NAME_BYTES + 1];
	int64_t created_us;
	int64_t expires_us; /* 0 = never */
	int64_t revoked_us; /* 0 = not revoked */
} cu_token_info;

typedef enum cu_token_status {
	CU_TOKEN_ACTIVE = 0,
	CU_TOKEN_EXPIRED = 1,
	CU_TOKEN_REVOKED = 2 /* revoked wins over expired */
} cu_token_status;

/* The token's status at now_us.  Expired means now_us >= expires_us. */
cu_token_status cu_token_status_at(const cu_token_info *t, int64_t now_us);
/* "active", "expired", "revoked"; never NULL. */
const char *cu_token_status_name(cu_token_status st);

/*
 * Whether a token may carry this role: staff, analyst, service,
 * subcontractor, officer or admin.  Never member (members log in and get a
 * session, see sessions.h) and never operator (the operator is whoever runs
 * the `custodian` command on the host).
 */
bool cu_token_role_allowed(cu_role role);
/*
 * NULL if `name` is acceptable, else a reason code: "required" (empty or
 * only spaces), "too_long" (over CU_TOKEN_NAME_MAX code points),
 * "invalid_utf8", or "malformed" (a control character — C0, DEL, C1 — or
 * an invisible direction or line-separator mark that could disguise the
 * name in a listing).
 */
const char *cu_token_name_problem(const char *name);

/*
 * Creates a token.  `actor` is who asks (NULL: the operator); only the
 * operator and the admin role may issue tokens (anyone else could mint
 * themselves a stronger role): others get CU_ERR_FORBIDDEN, audited as a
 * refusal.  `expires_us` is the time the token stops working, or 0 for
 * never, and must lie in the future.
 * On success `secret` holds the NUL-terminated secret — show it once and
 * wipe it (sodium_memzero) — and `id` the token's id.  On failure both are
 * empty strings.
 *
 * CU_ERR_INVALID_ARGUMENT for a role cu_token_role_allowed() refuses, a
 * name cu_token_name_problem() refuses, or an expiry not in the future.
 */
CU_WARN_UNUSED cu_result cu_token_create(cu_ctx *ctx, const cu_actor *actor, cu_role role,
                                         const char *name, int64_t expires_us,
                                         char secret[CU_TOKEN_SECRET_LEN + 1],
                                         char id[CU_ID_LEN + 1]);

/*
 * As cu_token_create, for a subcontractor: the token is bound to contract
 * `contract` (a subcontractor's id, subcontractors.h) in the same transaction,
 * and the access door keeps it inside that contract.  role must be
 * CU_ROLE_SUBCONTRACTOR (else CU_ERR_INVALID_ARGUMENT); CU_ERR_NOT_FOUND if
 * no subcontractor has that id.  A subcontractor token made without a
 * contract authenticates but reads nothing.  The audit reason names the
 * contract.
 */
CU_WARN_UNUSED cu_result cu_token_create_bound(cu_ctx *ctx, const cu_actor *actor, cu_role role,
                                               const char *name, int64_t expires_us,
                                               const char *contract,
                                               char secret[CU_TOKEN_SECRET_LEN + 1],
                                               char id[CU_ID_LEN + 1]);

/*
 * The contract a token is bound to; CU_ERR_NOT_FOUND if it is bound to none.
 * Reads only.
 */
CU_WARN_UNUSED cu_result cu_token_contract(cu_store *store, const char *id,
                                           char contract[CU_REGISTRY_ID_MAX + 1]);

/*
 * Who presents `secret` at now_us.  CU_OK with *out filled for an active
 * token; CU_ERR_UNAUTHENTICATED (and *out zeroed) for anything else,
 * whatever the reason.  Reads only: a store of the caller's thread will do.
 * Store failures are passed on as they are (they are not the caller's fault).
 */
CU_WARN_UNUSED cu_result cu_token_authenticate(cu_store *store, const char *secret, int64_t now_us,
                                               cu_token_info *out);

/* The token with this id, whatever its status.  CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_token_get(cu_store *store, const char *id, cu_token_info *out);

/*
 * Calls fn for every token, in creation order, revoked and expired ones
 * included.  `t` is valid during the call only.  fn returns non-zero to
 * stop early.
 */
typedef int (*cu_token_list_fn)(void *ud, const cu_token_info *t);
CU_WARN_UNUSED cu_result cu_token_list(cu_store *store, cu_token_list_fn fn, void *ud);

/*
 * Revokes a token from now on.  `actor` as for cu_token_create (operator or
 * admin, else CU_ERR_FORBIDDEN).
 * CU_ERR_NOT_FOUND if there is no such id.  Revoking a revoked token
 * changes nothing, writes no audit entry and returns CU_OK.
 */
CU_WARN_UNUSED cu_result cu_token_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id);

#endif
