/*
 * src/domain/sessions.h — a member logged in.
 *
 * Logging in (finding the member and checking the password) is
 * domain/login.h's, which calls cu_session_create.  This module
 * starts, checks and ends the session that follows.
 *
 * A session secret is 32 random bytes as 43 base64url characters.  It is
 * the whole cookie value: the cookie carries no member id, no name, no
 * expiry — nothing a reader of the cookie could learn from.  The store
 * keeps only its BLAKE2b-256 hash, the member id, the creation time and
 * the expiry; expiry is decided here, on the server, whatever the cookie's
 * own lifetime says.
 *
 * CSRF: each session has a CSRF token (43 base64url characters) that the
 * client sends back in a header on every unsafe request.  A cross-site page
 * can make the browser send the cookie, but cannot read the token.  The
 * token is derived from the session secret — BLAKE2b-256 keyed with the
 * secret over "cu-csrf-v1" — so a server that sees the cookie can render it
 * into a page again (cu_session_csrf_token) without storing it; it reveals
 * nothing of the secret.  The store keeps its hash too, so a check needs
 * only the session row (cu_session_csrf_ok).
 *
 * Starting and ending a session each write an audit entry ("login",
 * "logout"; actor and member = the member id, role member) in the same
 * transaction as the change.  Expiry and the purge are not audited: no one
 * acted.  These functions join the caller's cu_tx_begin transaction when
 * there is one.
 */
#ifndef CUSTODIAN_SESSIONS_H
#define CUSTODIAN_SESSIONS_H

#include <stdint.h>

#include "ctx/ctx.h"
#include "util/result.h"
#include "store/store.h"

#define CU_SESSION_SECRET_LEN 43
#define CU_SESSION_CSRF_LEN   43
/* The longest session cu_session_create will start: 400 days. */
#define CU_SESSION_TTL_MAX_US ((int64_t)400 * 24 * 3600 * 1000000)

/* What a check learns about a session. */
typedef struct cu_session_info {
	char member[CU_ID_LEN + 1];
	unsigned char csrf_hash[CU_STORE_HASHBYTES];
	int64_t created_us;
	int64_t expires_us;
} cu_session_info;

/*
 * Starts a session for member_id lasting ttl_us (1 .. CU_SESSION_TTL_MAX_US)
 * from now.  On success `secret` holds the cookie value and `csrf` the CSRF
 * token, both NUL-terminated; wipe them (sodium_memzero) when sent.  On
 * failure both are empty.  CU_ERR_INVALID_ARGUMENT for a bad ttl or id,
 * CU_ERR_NOT_FOUND / CU_ERR_ERASED for no such or an erased member.
 */
CU_WARN_UNUSED cu_result cu_session_create(cu_ctx *ctx, const char *member_id, int64_t ttl_us,
                                           char secret[CU_SESSION_SECRET_LEN + 1],
                                           char csrf[CU_SESSION_CSRF_LEN + 1]);

/*
 * The session whose cookie value is `secret`, at now_us.  CU_OK with *out
 * filled while it lasts (now_us < expires_us); CU_ERR_UNAUTHENTICATED (and
 * *out zeroed) for a malformed, unknown or expired one, never saying which.
 * Reads only.  Store failures are passed on as they are.
 */
CU_WARN_UNUSED cu_result cu_session_check(cu_store *store, const char *secret, int64_t now_us,
                                          cu_session_info *out);

/*
 * Whether `presented` (the X-CSRF-Token header; NULL when absent) is the
 * CSRF token of the session s (from cu_session_check).  CU_OK, or
 * CU_ERR_FORBIDDEN: the request is authenticated but not to be trusted.
 * Compares hashes in constant time (sodium_memcmp).
 */
CU_WARN_UNUSED cu_result cu_session_csrf_ok(const cu_session_info *s, const char *presented);

/*
 * The CSRF token of the session whose cookie value is `secret`, to render
 * into a page.  CU_ERR_UNAUTHENTICATED if secret is malformed (then csrf is
 * empty).  Check the session first: this does not look at the store.
 */
CU_WARN_UNUSED cu_result cu_session_csrf_token(const char *secret,
                                               char csrf[CU_SESSION_CSRF_LEN + 1]);

/*
 * Ends the session (log out), expired or not.  CU_ERR_UNAUTHENTICATED if
 * there is no session with this secret.
 */
CU_WARN_UNUSED cu_result cu_session_delete(cu_ctx *ctx, const char *secret);

/*
 * Deletes every session that has expired by now_us; *n (may be NULL)
 * receives how many.  For a periodic sweep: expired sessions are refused
 * whether or not they were purged.
 */
CU_WARN_UNUSED cu_result cu_session_purge_expired(cu_ctx *ctx, int64_t now_us, uint64_t *n);

#endif
