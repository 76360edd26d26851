/*
 * src/domain/login.h — a member logging in with an e-mail address and a
 * password, in the steps a server runs on different threads:
 *
 *   1. cu_login_account_key: the account's attempt-limit key (the e-mail's
 *      blind index), which exists whether or not the account does, so
 *      attempts on unknown accounts are limited alike;
 *   2. cu_login_prepare: on a reader, the account's member id and password
 *      hash, if there is such an account (erased members have none);
 *   3. cu_login_verify: Argon2id, on a hashing thread, against the account's
 *      hash or, when there is no account, a dummy hash of the same cost, so
 *      timing does not tell whether an account exists;
 *   4. cu_login_open_session: in the writer's transaction, the session the
 *      login opens (a new id at every login; the one presented, if any, ends).
 *
 * A refused login is one answer whatever the cause (unknown account, wrong
 * password, password too long): CU_ERR_UNAUTHENTICATED.  The attempt limits
 * themselves are the front end's (server/http/http.h).
 */
#ifndef CU_DOMAIN_LOGIN_H
#define CU_DOMAIN_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx/ctx.h"
#include "domain/sessions.h"
#include "util/result.h"
#include "vault/vault.h"

/* Passwords longer than this are refused unhashed (no account has one). */
#define CU_LOGIN_PASSWORD_MAX 1024
/* How long a "remember me" session lasts: 30 days. */
#define CU_LOGIN_REMEMBER_US ((int64_t)30 * 24 * 3600 * 1000000)

/* What step 2 found; wipe with cu_login_wipe. */
typedef struct cu_login {
	char member[CU_ID_LEN + 1];
	char hash[CU_VAULT_PWHASH_MAX];
	bool have_account;
} cu_login;

/*
 * The account's attempt-limit key for email: its blind index under the
 * current key.  CU_ERR_UNAUTHENTICATED when email cannot be an address (the
 * login is refused as any other).
 */
CU_WARN_UNUSED cu_result cu_login_account_key(const cu_vault *v, const char *email,
                                              unsigned char key[CU_VAULT_BIDXBYTES]);

/*
 * Fills *out from the reader: the member with this e-mail address and its
 * password hash.  No account (or an erased one, or one without a password)
 * is not an error: out->have_account is false and step 3 refuses.  *out is
 * zeroed first.  CU_OK, or CU_ERR_STORE / CU_ERR_NOMEM when the reader could
 * not answer (the store is down, or failing over): the server's failure, so
 * the caller answers 503 and charges no attempt to the account or address.
 */
CU_WARN_UNUSED cu_result cu_login_prepare(const cu_vault *v, cu_store *reader, const char *email,
                                          cu_login *out);

/*
 * Verifies password against the account's hash, or against dummy_hash
 * (cu_vault_password_hash of any password at the configured cost) when
 * there is no account.  CU_OK only for an account whose password it is.
 */
CU_WARN_UNUSED cu_result cu_login_verify(const cu_login *l, const char *dummy_hash,
                                         const char *password);

/*
 * Opens the session of a verified login (cu_session_create: secret and csrf
 * receive the cookie value and its CSRF token), ending the session presented
 * as old_secret first (NULL or "" for none; one already ended is no error).
 */
CU_WARN_UNUSED cu_result cu_login_open_session(cu_ctx *ctx, const cu_login *l,
                                               const char *old_secret, int64_t ttl_us,
                                               char secret[CU_SESSION_SECRET_LEN + 1],
                                               char csrf[CU_SESSION_CSRF_LEN + 1]);

/* Overwrites the member id and the hash. */
void cu_login_wipe(cu_login *l);

#endif
