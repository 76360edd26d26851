/*
 * src/domain/sessions.c — member sessions: a random cookie value kept as a hash,
 * expiry decided on the server, a CSRF token derived from the cookie.
 */
#include "domain/sessions.h"

#include <sodium.h>
#include <string.h>

#include "vault/secret.h"

static const char csrf_context[] = "cu-csrf-v1";

/* csrf = base64url(BLAKE2b-256(key = secret, "cu-csrf-v1")). */
static void derive_csrf(const char *secret, char csrf[CU_SESSION_CSRF_LEN + 1])
{
	unsigned char b[CU_SECRET_BYTES];

	crypto_generichash(b, sizeof(b), (const unsigned char *)csrf_context,
	                   sizeof(csrf_context) - 1, (const unsigned char *)secret,
	                   CU_SESSION_SECRET_LEN);
	sodium_bin2base64(csrf, CU_SESSION_CSRF_LEN + 1, b, sizeof(b),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

static cu_result audit(cu_ctx *ctx, const char *member, const char *action)
{
	cu_audit_entry e = {0};

	e.actor = member;
	e.role = cu_role_name(CU_ROLE_MEMBER);
	e.action = action;
	e.member = member;
	e.decision = "done";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

cu_result cu_session_create(cu_ctx *ctx, const char *member_id, int64_t ttl_us,
                            char secret[CU_SESSION_SECRET_LEN + 1],
                            char csrf[CU_SESSION_CSRF_LEN + 1])
{
	cu_session_row row;
	cu_member_row member = {0};
	cu_result rc;

	if (secret)
		secret[0] = '\0';
	if (csrf)
		csrf[0] = '\0';
	if (!ctx || !secret || !csrf || ttl_us <= 0 || ttl_us > CU_SESSION_TTL_MAX_US)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_store_member_get(ctx->store, member_id, &member);
	if (!rc && member.erased)
		rc = CU_ERR_ERASED;
	cu_member_row_release(&member);
	if (rc)
		return rc;

	memset(&row, 0, sizeof(row));
	memcpy(row.member, member.id, sizeof(row.member));
	row.created_us = cu_now_us();
	row.expires_us = row.created_us + ttl_us;
	cu_secret_new(secret);
	derive_csrf(secret, csrf);
	cu_secret_hash("session", secret, CU_SESSION_SECRET_LEN, row.hash);
	cu_secret_hash("csrf", csrf, CU_SESSION_CSRF_LEN, row.csrf_hash);

	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_session_insert(ctx->store, &row);
	if (!rc)
		rc = audit(ctx, row.member, "login");
	if (rc) {
		cu_tx_rollback(ctx);
		goto out;
	}
	rc = cu_tx_commit(ctx);
out:
	if (rc) {
		sodium_memzero(secret, CU_SESSION_SECRET_LEN + 1);
		sodium_memzero(csrf, CU_SESSION_CSRF_LEN + 1);
	}
	return rc;
}

cu_result cu_session_check(cu_store *store, const char *secret, int64_t now_us,
                           cu_session_info *out)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_session_row row;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!store)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_secret_well_formed(secret))
		return CU_ERR_UNAUTHENTICATED;
	cu_secret_hash("session", secret, CU_SESSION_SECRET_LEN, hash);
	rc = cu_store_session_get(store, hash, &row);
	if (rc == CU_ERR_NOT_FOUND)
		return CU_ERR_UNAUTHENTICATED;
	if (rc)
		return rc;
	if (now_us >= row.expires_us)
		return CU_ERR_UNAUTHENTICATED;
	memcpy(out->member, row.member, sizeof(out->member));
	memcpy(out->csrf_hash, row.csrf_hash, sizeof(out->csrf_hash));
	out->created_us = row.created_us;
	out->expires_us = row.expires_us;
	return CU_OK;
}

cu_result cu_session_csrf_ok(const cu_session_info *s, const char *presented)
{
	unsigned char hash[CU_STORE_HASHBYTES];

	if (!s)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_secret_well_formed(presented))
		return CU_ERR_FORBIDDEN;
	cu_secret_hash("csrf", presented, CU_SESSION_CSRF_LEN, hash);
	return sodium_memcmp(hash, s->csrf_hash, sizeof(hash)) == 0 ? CU_OK : CU_ERR_FORBIDDEN;
}

cu_result cu_session_csrf_token(const char *secret, char csrf[CU_SESSION_CSRF_LEN + 1])
{
	if (!csrf)
		return CU_ERR_INVALID_ARGUMENT;
	csrf[0] = '\0';
	if (!cu_secret_well_formed(secret))
		return CU_ERR_UNAUTHENTICATED;
	derive_csrf(secret, csrf);
	return CU_OK;
}

cu_result cu_session_delete(cu_ctx *ctx, const char *secret)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_session_row row;
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_secret_well_formed(secret))
		return CU_ERR_UNAUTHENTICATED;
	cu_secret_hash("session", secret, CU_SESSION_SECRET_LEN, hash);
	/*
	 * Read first: an unknown session writes nothing, so it opens no
	 * transaction; the row also names the member for the audit entry.
	 */
	rc = cu_store_session_get(ctx->store, hash, &row);
	if (rc)
		return rc == CU_ERR_NOT_FOUND ? CU_ERR_UNAUTHENTICATED : rc;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_session_delete(ctx->store, hash);
	if (!rc)
		rc = audit(ctx, row.member, "logout");
	if (rc) {
		cu_tx_rollback(ctx);
		/* Another process logged it out meanwhile. */
		return rc == CU_ERR_NOT_FOUND ? CU_ERR_UNAUTHENTICATED : rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_session_purge_expired(cu_ctx *ctx, int64_t now_us, uint64_t *n)
{
	uint64_t count = 0;
	cu_result rc;

	if (n)
		*n = 0;
	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_session_purge_expired(ctx->store, now_us, &count);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	/* Nothing is deleted until the commit holds. */
	if (!rc && n)
		*n = count;
	return rc;
}
