/*
 * src/domain/shares.c — members' own shares: links to chosen fields of their record,
 * created, revoked and read (through the door) here.
 */
#include "domain/shares.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "access/name_list.h"
#include "domain/change.h"
#include "vault/secret.h"

#define CREATE_REASON_BYTES 120 /* "share <id>, for <n> minutes" */
#define REVOKE_REASON_BYTES 80  /* "share <id> revoked" */

/* ---- a member's own shares ---------------------------------------------- */

/* A member acting for themself: role member, with a member id. */
static bool is_member(const cu_actor *a)
{
	return a && a->role == CU_ROLE_MEMBER && a->member && *a->member &&
	       strlen(a->member) <= CU_ID_LEN;
}

static cu_result write_share(cu_store *s, const void *arg)
{
	return cu_store_share_insert(s, arg);
}

cu_result cu_share_create(cu_ctx *ctx, const cu_actor *actor, cu_fieldset fields, int64_t ttl_us,
                          char token[CU_SHARE_TOKEN_LEN + 1], cu_share_row *out, cu_errors *errs)
{
	cu_fieldset all;
	cu_member_row m = {0};
	cu_share_row row;
	char reason[CREATE_REASON_BYTES];
	bool bad = false;
	cu_result rc;

	if (token)
		token[0] = '\0';
	if (!ctx || !token)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_member(actor))
		return CU_ERR_FORBIDDEN;
	all = cu_policy_all_fields(ctx->policy);
	if (!fields || (fields & ~all)) {
		cu_errors_add(errs, "fields", fields ? "unknown_field" : "required");
		bad = true;
	}
	if (ttl_us < 60 * 1000000LL || ttl_us > CU_SHARE_TTL_MAX_US) {
		cu_errors_add(errs, "expires_in_minutes", "out_of_range");
		bad = true;
	}
	if (bad)
		return CU_ERR_INVALID_FIELD;
	rc = cu_store_member_get(ctx->store, actor->member, &m);
	if (rc)
		return rc;
	rc = m.erased ? CU_ERR_ERASED : CU_OK;
	cu_member_row_release(&m);
	if (rc)
		return rc;
	memset(&row, 0, sizeof(row));
	cu_vault_random_id(row.id);
	memcpy(row.member, actor->member, strlen(actor->member) + 1);
	cu_policy_fieldset_format(ctx->policy, fields, row.fields_text, sizeof(row.fields_text));
	row.created_us = cu_now_us();
	row.expires_us = row.created_us + ttl_us;
	cu_secret_new(token);
	cu_secret_hash("share", token, CU_SHARE_TOKEN_LEN, row.hash);
	snprintf(reason, sizeof(reason), "share %s, for %lld minutes", row.id,
	         (long long)(ttl_us / 60000000));
	rc = cu_change_write(ctx, &(struct cu_change){actor, "share_create", row.member,
	                                              row.fields_text, reason, write_share, &row});
	if (rc) {
		sodium_memzero(token, CU_SHARE_TOKEN_LEN + 1);
		return rc;
	}
	if (out)
		*out = row;
	return CU_OK;
}

struct revoke {
	const char *member, *id;
	int64_t now;
};

static cu_result write_revoke(cu_store *s, const void *arg)
{
	const struct revoke *r = arg;

	return cu_store_share_revoke(s, r->member, r->id, r->now);
}

cu_result cu_share_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id)
{
	struct revoke rv;
	char reason[REVOKE_REASON_BYTES];

	if (!ctx || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_member(actor))
		return CU_ERR_FORBIDDEN;
	if (!*id || strlen(id) > CU_ID_LEN)
		return CU_ERR_NOT_FOUND;
	rv = (struct revoke){actor->member, id, cu_now_us()};
	snprintf(reason, sizeof(reason), "share %s revoked", id);
	return cu_change_write(ctx, &(struct cu_change){actor, "share_revoke", actor->member, NULL,
	                                                reason, write_revoke, &rv});
}

cu_result cu_share_find(cu_store *s, const char *token, int64_t now_us, cu_share_row *out)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	/* The shape of a link is public; checking it first spares the store. */
	if (!token || !cu_secret_well_formed(token))
		return CU_ERR_NOT_FOUND;
	cu_secret_hash("share", token, CU_SHARE_TOKEN_LEN, hash);
	rc = cu_store_share_get_by_hash(s, hash, out);
	if (!rc && (out->revoked_us || now_us >= out->expires_us))
		rc = CU_ERR_NOT_FOUND;
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

void cu_share_access(const cu_policy *p, const cu_share_row *sh, cu_actor *actor,
                     cu_access_request *req)
{
	*actor = (cu_actor){sh->member, CU_ROLE_MEMBER, sh->member, NULL};
	memset(req, 0, sizeof(*req));
	req->actor = actor;
	req->purpose = "self";
	req->member = sh->member;
	/* Never 0, which would mean every field: a share with no field known now opens nothing. */
	req->fields = cu_name_list_fieldset(p, sh->fields_text);
	if (!req->fields)
		req->fields = ~cu_policy_all_fields(p);
}

void cu_share_audit_mark(cu_access_audit *au, const cu_share_row *sh)
{
	size_t n = strlen(au->reason);

	au->entry.action = "share_read";
	snprintf(au->reason + n, sizeof(au->reason) - n, "; share %s", sh->id);
}

cu_result cu_share_read(cu_ctx *ctx, const char *token, cu_access_decision *d, cu_record *out,
                        cu_share_row *sh)
{
	cu_member_row row = {0};
	cu_access_request req;
	cu_access_audit au;
	cu_actor actor;
	bool have_row = false;
	cu_result rc;

	memset(d, 0, sizeof(*d));
	rc = cu_share_find(ctx->store, token, cu_now_us(), sh);
	if (rc) {
		/* No share, no member: nothing to decide about, nothing to audit against anyone. */
		d->rc = rc;
		d->decision = "deny";
		return rc;
	}
	cu_share_access(ctx->policy, sh, &actor, &req);
	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_prepare(ctx->policy, ctx->store, &req, d, &row, &have_row) != d->rc) {
		if (have_row)
			cu_member_row_release(&row);
		return CU_ERR_INTERNAL;
	}
	cu_access_audit_fill(ctx->policy, &req, d, &au);
	cu_share_audit_mark(&au, sh);
	rc = cu_access_record(ctx, &au);
	cu_access_audit_wipe(&au);
	if (rc) {
		/* Fails closed: an unaudited decision is no decision. */
		d->rc = rc;
		d->decision = "deny";
	} else {
		rc = d->rc;
		if (!rc)
			rc = cu_access_open(ctx->policy, ctx->vault, &row, d->allowed, out);
	}
	if (have_row)
		cu_member_row_release(&row);
	return rc;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_share_list(cu_store *s, const char *member, cu_store_share_fn fn, void *ud)
{
	return cu_store_share_list(s, member, fn, ud);
}
