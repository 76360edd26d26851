/*
 * src/domain/shares.h — a member's own shares: links to chosen fields of
 * their own record.
 *
 * A member may share chosen fields of their own through a link that expires
 * (at most seven days).  That is the member's own act: Cerego is "not
 * liable if a user uses the functions of the service ... to provide or
 * release personal information to a third party", and the record of shares
 * is kept apart from provisions (third_parties.h).  A share's read goes
 * through the door all the same, as the member's own read.
 *
 * Every change here is audited (("share_create", "share_revoke";
 * a read, "share_read")) in the same transaction as the
 * change, naming ids and field names, never values.  These functions join
 * the caller's cu_tx_begin transaction when there is one.
 *
 * Who may: the member themself.  Others get CU_ERR_FORBIDDEN.
 */
#ifndef CUSTODIAN_SHARES_H
#define CUSTODIAN_SHARES_H

#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "store/third_party.h"

#define CU_SHARE_TOKEN_LEN  43 /* 256 random bits, base64url */
#define CU_SHARE_TTL_MAX_US ((int64_t)7 * 24 * 3600 * 1000000)

/* ---- a member's own shares ---------------------------------------------- */

/*
 * Creates a link to `fields` (non-empty) of the member's own record,
 * valid for ttl_us (1 minute .. CU_SHARE_TTL_MAX_US).  token receives the
 * link's secret — shown once; only its hash is kept — and *out (may be NULL)
 * the row.  CU_ERR_INVALID_FIELD ("fields", "expires_in_minutes").
 */
CU_WARN_UNUSED cu_result cu_share_create(cu_ctx *ctx, const cu_actor *actor, cu_fieldset fields,
                                         int64_t ttl_us, char token[CU_SHARE_TOKEN_LEN + 1],
                                         cu_share_row *out, cu_errors *errs);
/* Revokes the member's own share; CU_ERR_NOT_FOUND if they have none with this id. */
CU_WARN_UNUSED cu_result cu_share_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id);
/*
 * The share a link token opens at now_us.  CU_ERR_NOT_FOUND alike for a
 * malformed, unknown, expired or revoked token: a link tells nothing about
 * the links that do not work.  Reads only.
 */
CU_WARN_UNUSED cu_result cu_share_find(cu_store *s, const char *token, int64_t now_us,
                                       cu_share_row *out);
/*
 * A share's read through the door is the member's own act: actor the
 * member (role member), purpose "self", the share's fields.  This fills
 * actor and req for it (req->actor points at actor; both borrow from sh).
 */
void cu_share_access(const cu_policy *p, const cu_share_row *sh, cu_actor *actor,
                     cu_access_request *req);
/* Marks a share read's audit entry: action "share_read", the share named in the reason. */
void cu_share_audit_mark(cu_access_audit *au, const cu_share_row *sh);
/* The whole read: find, decide, audit ("share_read"), open into out (cu_record_init'd). */
CU_WARN_UNUSED cu_result cu_share_read(cu_ctx *ctx, const char *token, cu_access_decision *d,
                                       cu_record *out, cu_share_row *sh);

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */
/* Each is the store function of the same name (the store is private to the
 * domain); rows passed to fn live for the call only, fn's non-zero return stops. */

/* A member's own shares (links to their data). */
CU_WARN_UNUSED cu_result cu_share_list(cu_store *s, const char *member, cu_store_share_fn fn,
                                       void *ud);

#endif
