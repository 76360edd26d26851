/*
 * src/domain/login.c — a member logging in (see login.h).
 */
#include "domain/login.h"

#include <sodium.h>
#include <string.h>

#include "domain/members.h"

cu_result cu_login_account_key(const cu_vault *v, const char *email,
                               unsigned char key[CU_VAULT_BIDXBYTES])
{
	char norm[CU_EMAIL_MAX + 1];
	cu_result rc = CU_ERR_UNAUTHENTICATED;

	if (cu_member_normalise_email(email, norm, sizeof(norm)) ||
	    cu_vault_blind_index(v, cu_vault_current_key_id(v), "email", norm, key))
		goto out;
	rc = CU_OK;
out:
	sodium_memzero(norm, sizeof(norm));
	return rc;
}

cu_result cu_login_prepare(const cu_vault *v, cu_store *reader, const char *email, cu_login *out)
{
	cu_member_row row = {0};
	cu_result rc;

	memset(out, 0, sizeof(*out));
	rc = cu_member_lookup(v, reader, "email", email, out->member);
	/* A store that cannot answer is not "no such account": no attempt is charged. */
	if (rc == CU_ERR_STORE || rc == CU_ERR_NOMEM)
		return rc;
	if (rc != CU_OK)
		return CU_OK;
	rc = cu_store_member_get(reader, out->member, &row);
	if (rc == CU_ERR_STORE || rc == CU_ERR_NOMEM) {
		memset(out, 0, sizeof(*out));
		return rc;
	}
	if (rc == CU_OK && !row.erased && row.password_hash &&
	    strlen(row.password_hash) < sizeof(out->hash)) {
		memcpy(out->hash, row.password_hash, strlen(row.password_hash) + 1);
		out->have_account = true;
	}
	cu_member_row_release(&row);
	return CU_OK;
}

cu_result cu_login_verify(const cu_login *l, const char *dummy_hash, const char *password)
{
	/* Unknown accounts cost the same hash, so timing tells nothing. */
	cu_result rc;

	if (strlen(password) > CU_LOGIN_PASSWORD_MAX)
		return CU_ERR_UNAUTHENTICATED;
	rc = cu_vault_password_verify(l->have_account ? l->hash : dummy_hash, password);
	return l->have_account ? rc : CU_ERR_UNAUTHENTICATED;
}

cu_result cu_login_open_session(cu_ctx *ctx, const cu_login *l, const char *old_secret,
                                int64_t ttl_us, char secret[CU_SESSION_SECRET_LEN + 1],
                                char csrf[CU_SESSION_CSRF_LEN + 1])
{
	cu_result rc;

	/* A new session id at every login; the one presented, if any, ends. */
	if (old_secret && old_secret[0]) {
		rc = cu_session_delete(ctx, old_secret);
		if (rc && rc != CU_ERR_NOT_FOUND && rc != CU_ERR_UNAUTHENTICATED)
			return rc;
	}
	return cu_session_create(ctx, l->member, ttl_us, secret, csrf);
}

void cu_login_wipe(cu_login *l)
{
	sodium_memzero(l, sizeof(*l));
}
