/*
 * src/domain/tokens.c — bearer tokens for staff, services and the rest: made once,
 * kept as a hash, looked up by that hash, revoked by id.
 */
#include "domain/tokens.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/text.h"
#include "vault/secret.h"

#define PREFIX_LEN (sizeof(CU_TOKEN_PREFIX) - 1)
/* An expiry as "YYYY-MM-DDTHH:MM:SSZ", or "<microseconds> us" when it is no date; and its NUL. */
#define WHEN_BYTES 40

static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

cu_token_status cu_token_status_at(const cu_token_info *t, int64_t now_us)
{
	if (t->revoked_us)
		return CU_TOKEN_REVOKED;
	if (t->expires_us && now_us >= t->expires_us)
		return CU_TOKEN_EXPIRED;
	return CU_TOKEN_ACTIVE;
}

const char *cu_token_status_name(cu_token_status st)
{
	switch (st) {
	case CU_TOKEN_ACTIVE:
		return "active";
	case CU_TOKEN_EXPIRED:
		return "expired";
	case CU_TOKEN_REVOKED:
		return "revoked";
	}
	return "unknown";
}

bool cu_token_role_allowed(cu_role role)
{
	switch (role) {
	case CU_ROLE_STAFF:
	case CU_ROLE_ANALYST:
	case CU_ROLE_SERVICE:
	case CU_ROLE_SUBCONTRACTOR:
	case CU_ROLE_OFFICER:
	case CU_ROLE_ADMIN:
		return true;
	default:
		return false;
	}
}

/*
 * Marks that change how the text around them is shown without showing
 * themselves: a name holding one could pass for another in a listing.
 */
static bool invisible_mark(unsigned cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
	       (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

const char *cu_token_name_problem(const char *name)
{
	size_t len, i = 0, count = 0;
	bool blank = true;

	if (!name)
		return "required";
	len = strlen(name);
	while (i < len) {
		uint32_t cp;
		size_t n = cu_utf8_decode(name + i, len - i, &cp);

		if (n == 0)
			return "invalid_utf8";
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || invisible_mark(cp))
			return "malformed";
		blank = blank && cp == ' ';
		i += n;
		if (++count > CU_TOKEN_NAME_MAX)
			return "too_long";
	}
	return blank ? "required" : NULL;
}

static void to_info(const cu_token_row *row, cu_token_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->id, row->id, sizeof(out->id));
	out->role = row->role;
	memcpy(out->name, row->name, sizeof(out->name));
	out->created_us = row->created_us;
	out->expires_us = row->expires_us;
	out->revoked_us = row->revoked_us;
}

/* "2026-04-01T00:00:00Z"; the audit reason should read without a calculator. */
static void format_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld us", (long long)us);
}

/* The audit reason: which token, never its secret. */
static void describe(const cu_token_row *row, char *buf, size_t len)
{
	char when[WHEN_BYTES];

	if (row->expires_us) {
		format_time(row->expires_us, when, sizeof(when));
		snprintf(buf, len, "token %s: role %s, name '%s', expires %s", row->id,
		         cu_role_name(row->role), row->name, when);
	} else {
		snprintf(buf, len, "token %s: role %s, name '%s'", row->id, cu_role_name(row->role),
		         row->name);
	}
}

static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *decision,
                       const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor->name ? actor->name : "";
	e.role = cu_role_name(actor->role);
	e.action = action;
	e.decision = decision;
	e.reason = reason;
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

/*
 * Issuing credentials is the site administrator's job (or the operator's
 * on the host): anyone else could mint themselves a stronger role.
 */
static bool may_manage(const cu_actor *actor)
{
	return actor->role == CU_ROLE_OPERATOR || actor->role == CU_ROLE_ADMIN;
}

/* Audits a refusal in its own transaction; the refusal stands whatever happens. */
static cu_result refuse(cu_ctx *ctx, const cu_actor *actor, const char *action, cu_result why)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = audit(ctx, actor, action, "deny", cu_result_code(why));
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	return rc ? rc : why;
}

/*
 * Writes a change and its audit entry in one transaction, or neither.
 * `contract`: the contract an inserted token is bound to, or NULL.
 */
static cu_result write_audited(cu_ctx *ctx, const cu_actor *actor, const char *action,
                               const cu_token_row *row, bool insert, int64_t now,
                               const char *contract)
{
	char reason[CU_STORE_TOKEN_NAME_BYTES + 220];
	cu_result rc;

	describe(row, reason, sizeof(reason));
	if (contract) {
		size_t n = strlen(reason);

		snprintf(reason + n, sizeof(reason) - n, ", contract %s", contract);
	}
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	if (insert)
		rc = cu_store_token_insert(ctx->store, row);
	else
		rc = cu_store_token_revoke(ctx->store, row->id, now);
	if (!rc && contract)
		rc = cu_store_token_contract_set(ctx->store, row->id, contract);
	if (!rc)
		rc = audit(ctx, actor, action, "done", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_token_create(cu_ctx *ctx, const cu_actor *actor, cu_role role, const char *name,
                          int64_t expires_us, char secret[CU_TOKEN_SECRET_LEN + 1],
                          char id[CU_ID_LEN + 1])
{
	return cu_token_create_bound(ctx, actor, role, name, expires_us, NULL, secret, id);
}

cu_result cu_token_create_bound(cu_ctx *ctx, const cu_actor *actor, cu_role role, const char *name,
                                int64_t expires_us, const char *contract,
                                char secret[CU_TOKEN_SECRET_LEN + 1], char id[CU_ID_LEN + 1])
{
	cu_subcontractor_row sub;
	cu_token_row row;
	int64_t now = cu_now_us();
	cu_result rc;

	if (secret)
		secret[0] = '\0';
	if (id)
		id[0] = '\0';
	if (!ctx || !secret || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!actor)
		actor = &operator_actor;
	if (!may_manage(actor))
		return refuse(ctx, actor, "token_create", CU_ERR_FORBIDDEN);
	if (!cu_token_role_allowed(role) || cu_token_name_problem(name) || expires_us < 0 ||
	    (expires_us && expires_us <= now))
		return CU_ERR_INVALID_ARGUMENT;
	if (contract) {
		/* Only a subcontractor has a contract; one that names nothing binds nothing. */
		if (role != CU_ROLE_SUBCONTRACTOR)
			return CU_ERR_INVALID_ARGUMENT;
		rc = cu_store_subcontractor_get(ctx->store, contract, &sub);
		if (rc)
			return rc;
	}

	memset(&row, 0, sizeof(row));
	cu_vault_random_id(row.id);
	row.role = role;
	memcpy(row.name, name, strlen(name) + 1);
	row.created_us = now;
	row.expires_us = expires_us;
	memcpy(secret, CU_TOKEN_PREFIX, PREFIX_LEN);
	cu_secret_new(secret + PREFIX_LEN);
	cu_secret_hash("token", secret, CU_TOKEN_SECRET_LEN, row.hash);

	rc = write_audited(ctx, actor, "token_create", &row, true, now, contract ? sub.id : NULL);
	if (rc) {
		sodium_memzero(secret, CU_TOKEN_SECRET_LEN + 1);
		return rc;
	}
	memcpy(id, row.id, CU_ID_LEN + 1);
	return CU_OK;
}

cu_result cu_token_authenticate(cu_store *store, const char *secret, int64_t now_us,
                                cu_token_info *out)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_token_row row;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	if (!store)
		return CU_ERR_INVALID_ARGUMENT;
	/* The shape of a token is public; checking it first spares the store. */
	if (!secret || strncmp(secret, CU_TOKEN_PREFIX, PREFIX_LEN) != 0 ||
	    !cu_secret_well_formed(secret + PREFIX_LEN))
		return CU_ERR_UNAUTHENTICATED;
	cu_secret_hash("token", secret, CU_TOKEN_SECRET_LEN, hash);
	rc = cu_store_token_get_by_hash(store, hash, &row);
	if (rc == CU_ERR_NOT_FOUND)
		return CU_ERR_UNAUTHENTICATED;
	if (rc)
		return rc;
	to_info(&row, out);
	if (cu_token_status_at(out, now_us) != CU_TOKEN_ACTIVE) {
		memset(out, 0, sizeof(*out));
		return CU_ERR_UNAUTHENTICATED;
	}
	return CU_OK;
}

cu_result cu_token_contract(cu_store *store, const char *id, char contract[CU_REGISTRY_ID_MAX + 1])
{
	if (!contract)
		return CU_ERR_INVALID_ARGUMENT;
	return cu_store_token_contract_get(store, id, contract);
}

cu_result cu_token_get(cu_store *store, const char *id, cu_token_info *out)
{
	cu_token_row row;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	rc = cu_store_token_get(store, id, &row);
	if (!rc)
		to_info(&row, out);
	return rc;
}

struct list_state {
	cu_token_list_fn fn;
	void *ud;
};

static int list_one(void *ud, const cu_token_row *row)
{
	struct list_state *ls = ud;
	cu_token_info info;

	to_info(row, &info);
	return ls->fn(ls->ud, &info);
}

cu_result cu_token_list(cu_store *store, cu_token_list_fn fn, void *ud)
{
	struct list_state ls = {fn, ud};

	if (!fn)
		return CU_ERR_INVALID_ARGUMENT;
	return cu_store_token_list(store, list_one, &ls);
}

cu_result cu_token_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id)
{
	cu_token_row row;
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	if (!actor)
		actor = &operator_actor;
	if (!may_manage(actor))
		return refuse(ctx, actor, "token_revoke", CU_ERR_FORBIDDEN);
	/*
	 * Read first: a missing or already revoked token writes nothing, so it
	 * opens no transaction (and leaves no savepoint in a caller's batch).
	 */
	rc = cu_store_token_get(ctx->store, id, &row);
	if (rc == CU_ERR_INVALID_ARGUMENT)
		return CU_ERR_NOT_FOUND; /* an id of the wrong shape names no token */
	if (rc || row.revoked_us)
		return rc;
	return write_audited(ctx, actor, "token_revoke", &row, false, cu_now_us(), NULL);
}
