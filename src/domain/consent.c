/*
 * src/domain/consent.c — members' choices, acceptance of policy versions, receipts.
 */
#include "domain/consent.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/versions.h"
#include "store/third_party.h"
#include "util/date.h"
#include "vault/signed_json.h"

#define REASON_BYTES 200 /* "<kind> <target> under policy <version>" */

/* A registry id: lower-case letters, digits, '_' and '-', 1..40 long. */
static bool id_form(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > CU_POLICY_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* Whether a member may decide about this purpose (consent.h). */
static cu_result purpose_choosable(cu_ctx *ctx, const cu_member_row *row, const char *target,
                                   bool *ok)
{
	const cu_policy_purpose *pp = cu_policy_purpose_find(ctx->policy, target);
	char version[CU_VERSION_MAX + 1];
	const cu_policy *accepted;
	cu_result rc;

	*ok = false;
	if (!pp)
		return CU_OK;
	if (pp->consent_required) {
		*ok = true;
		return CU_OK;
	}
	rc = cu_versions_accepted(ctx->store, row->id, row->created_us, version);
	if (rc == CU_ERR_NOT_FOUND)
		return CU_OK;
	if (!rc && strcmp(version, ctx->policy->version))
		rc = cu_versions_get(ctx->store, version, &accepted);
	else
		return rc;
	if (!rc) {
		const cu_policy_purpose *then = cu_policy_purpose_find(accepted, target);

		/* New since, or consent-only in the version the member accepted. */
		*ok = !then || then->consent_required;
	}
	return rc == CU_ERR_NOT_FOUND ? CU_OK : rc;
}

static bool actor_may_choose(const cu_actor *a, const char *member)
{
	if (!a)
		return false;
	if (a->role == CU_ROLE_MEMBER)
		return a->member && !strcmp(a->member, member);
	return a->role == CU_ROLE_OPERATOR;
}

cu_result cu_consent_set(cu_ctx *ctx, const cu_actor *actor, const char *member,
                         cu_consent_kind kind, const char *target, bool granted,
                         cu_consent_row *out, cu_errors *errs)
{
	cu_member_row mrow = {0};
	cu_consent_row row = {0};
	cu_audit_entry e = {0};
	char reason[REASON_BYTES];
	bool ok = false;
	cu_result rc;

	if (!member || !target || !cu_consent_kind_name(kind))
		return CU_ERR_INVALID_ARGUMENT;
	if (!actor_may_choose(actor, member))
		return CU_ERR_FORBIDDEN;
	if (strlen(member) > CU_ID_LEN)
		return CU_ERR_NOT_FOUND;
	rc = cu_store_member_get(ctx->store, member, &mrow);
	if (rc)
		return rc;
	if (mrow.erased) {
		rc = CU_ERR_ERASED;
		goto out;
	}
	switch (kind) {
	case CU_CONSENT_PURPOSE:
		rc = purpose_choosable(ctx, &mrow, target, &ok);
		break;
	case CU_CONSENT_THIRD_PARTY:
		/*
		 * Consent is given to a third party the registry names; a choice
		 * withdrawn may name one since removed from it.
		 */
		ok = id_form(target);
		if (ok && granted) {
			cu_third_party_row tp;

			rc = cu_store_third_party_get(ctx->store, target, &tp);
			ok = rc == CU_OK;
			if (rc == CU_ERR_NOT_FOUND)
				rc = CU_OK;
		}
		break;
	case CU_CONSENT_COOKIE:
		for (size_t i = 0; i < ctx->policy->ncookies; i++)
			if (!strcmp(ctx->policy->cookies[i].id, target))
				ok = !ctx->policy->cookies[i].required;
		break;
	}
	if (rc)
		goto out;
	if (!ok) {
		cu_errors_add(errs, "target", "not_choosable");
		rc = CU_ERR_INVALID_FIELD;
		goto out;
	}
	cu_vault_random_id(row.id);
	memcpy(row.member, mrow.id, sizeof(row.member));
	snprintf(row.kind, sizeof(row.kind), "%s", cu_consent_kind_name(kind));
	snprintf(row.target, sizeof(row.target), "%s", target);
	row.granted = granted;
	snprintf(row.policy_version, sizeof(row.policy_version), "%s", ctx->policy->version);
	row.time_us = cu_now_us();
	snprintf(reason, sizeof(reason), "%s %s under policy %s", row.kind, row.target,
	         row.policy_version);
	e.actor = actor->name ? actor->name : "";
	e.role = cu_role_name(actor->role);
	e.action = "consent";
	e.member = row.member;
	e.purpose = kind == CU_CONSENT_PURPOSE ? row.target : "";
	e.decision = granted ? "granted" : "withdrawn";
	e.reason = reason;
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_consent_insert(ctx->store, &row);
	if (!rc)
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	if (rc) {
		cu_tx_rollback(ctx);
		goto out;
	}
	rc = cu_tx_commit(ctx);
	if (!rc && out)
		*out = row;
out:
	cu_member_row_release(&mrow);
	return rc;
}

cu_result cu_consent_accept_policy(cu_ctx *ctx, const cu_actor *actor, const char *member)
{
	cu_member_row mrow = {0};
	cu_audit_entry e = {0};
	cu_result rc;

	if (!member || !actor_may_choose(actor, member))
		return CU_ERR_FORBIDDEN;
	rc = cu_store_member_get(ctx->store, member, &mrow);
	if (rc)
		return rc;
	rc = mrow.erased ? CU_ERR_ERASED : CU_OK;
	cu_member_row_release(&mrow);
	if (rc)
		return rc;
	e.actor = actor->name ? actor->name : "";
	e.role = cu_role_name(actor->role);
	e.action = "policy_accept";
	e.member = member;
	e.decision = "done";
	e.reason = ctx->policy->version;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_accepted_set(ctx->store, member, ctx->policy->version, cu_now_us());
	if (!rc)
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

/* ---- receipts ------------------------------------------------------------ */

static void iso(int64_t us, char out[CU_TIME_BYTES])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

cu_result cu_consent_receipt(cu_store *s, const cu_vault *v, const cu_consent_row *row, char **json)
{
	char pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1], digest[2 * CU_POLICY_DIGESTBYTES + 1],
	    when[CU_TIME_BYTES];
	const cu_policy *version;
	json_t *receipt;
	uint32_t key_id = 0;
	cu_result rc;

	*json = NULL;
	rc = cu_versions_get(s, row->policy_version, &version);
	if (rc)
		return rc;
	sodium_bin2hex(digest, sizeof(digest), version->digest, 32);
	iso(row->time_us, when);
	rc = cu_signed_json_key(v, &key_id, pkhex);
	if (rc)
		return rc;
	receipt =
	    json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:I,s:s}", "type", "consent", "id",
	              row->id, "member", row->member, "kind", row->kind, "target", row->target,
	              "choice", row->granted ? "granted" : "withdrawn", "time", when, "time_us",
	              (json_int_t)row->time_us, "policy_version", row->policy_version,
	              "policy_digest", digest, "key_id", (json_int_t)key_id, "public_key", pkhex);
	rc = cu_signed_json_seal(v, "receipt", receipt, json);
	json_decref(receipt);
	return rc;
}

static const char *text_of(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "?";
}

cu_result cu_consent_receipt_verify(const char *json, size_t len, const cu_vault *v, char *what,
                                    size_t whatlen, char *summary, size_t summarylen)
{
	unsigned char sig[CU_VAULT_SIGBYTES], pk[CU_VAULT_SIGN_PKBYTES],
	    ours[CU_VAULT_SIGN_PKBYTES];
	json_t *doc = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *receipt;
	const char *sighex, *pkhex;
	char *canon = NULL;
	size_t n;
	cu_result rc = CU_ERR_INVALID_ARGUMENT;

	receipt = json_object_get(doc, "receipt");
	sighex = json_string_value(json_object_get(doc, "signature"));
	pkhex = json_string_value(json_object_get(receipt, "public_key"));
	if (!json_is_object(receipt) || !sighex || !pkhex || json_object_size(doc) != 2) {
		snprintf(what, whatlen,
		         "not a receipt: expected {\"receipt\": {...}, \"signature\": ...}");
		goto out;
	}
	if (sodium_hex2bin(sig, sizeof(sig), sighex, strlen(sighex), NULL, &n, NULL) ||
	    n != sizeof(sig) ||
	    sodium_hex2bin(pk, sizeof(pk), pkhex, strlen(pkhex), NULL, &n, NULL) ||
	    n != sizeof(pk)) {
		snprintf(what, whatlen, "malformed signature or public key");
		goto out;
	}
	canon = json_dumps(receipt, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	if (cu_vault_verify_signature(pk, (const unsigned char *)canon, strlen(canon), sig)) {
		snprintf(what, whatlen, "the signature does not match the receipt: it was altered");
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	if (v) {
		json_int_t kid = json_integer_value(json_object_get(receipt, "key_id"));

		if (kid <= 0 || kid > 2147483647 ||
		    cu_vault_sign_public_key(v, (uint32_t)kid, ours) != CU_OK ||
		    sodium_memcmp(ours, pk, sizeof(pk)) != 0) {
			snprintf(what, whatlen, "signed by a key that is not this custodian's");
			rc = CU_ERR_CRYPTO;
			goto out;
		}
	}
	if (summary)
		snprintf(summary, summarylen, "%s %s %s at %s under policy %s",
		         text_of(receipt, "kind"), text_of(receipt, "target"),
		         text_of(receipt, "choice"), text_of(receipt, "time"),
		         text_of(receipt, "policy_version"));
	rc = CU_OK;
out:
	free(canon);
	json_decref(doc);
	return rc;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_consent_list(cu_store *s, const char *member, cu_store_consent_fn fn, void *ud)
{
	return cu_store_consent_list(s, member, fn, ud);
}

cu_result cu_consent_get(cu_store *s, const char *id, cu_consent_row *out)
{
	return cu_store_consent_get(s, id, out);
}
