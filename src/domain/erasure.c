/*
 * src/domain/erasure.c — the one erasure operation (erasure.h): closes what is open,
 * forgets the texts and diaries, crypto-shreds the member, ends sessions,
 * drops pending mail, audits and signs a certificate, in one transaction.
 *
 * Every way of erasing a member calls cu_erasure_carry_out; nothing else
 * writes an erasure.
 */
#include "domain/erasure.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "domain/casework.h"
#include "store/store.h"
#include "store/backup.h"
#include "store/diary.h"
#include "store/notify.h"
#include "store/request.h"
#include "vault/keyring.h"
#include "vault/signed_json.h"

/* "crypto-shredded requests_closed=<n> complaints_closed=<n>" and the request, and its NUL. */
#define REASON_BYTES 160

#define NOTE_ERASED CU_CASE_NOTE_ERASED
#define ISO_LEN     CU_CASE_TIME_BYTES

/* ---- the certificate ----------------------------------------------------- */

struct counts {
	uint64_t diaries, texts, sessions, requests, complaints;
};

/*
 * What was destroyed, when, for which request — ids, times, field names and
 * counts, nothing of the person — signed like a consent receipt (Ed25519
 * over the canonical JSON of the certificate).
 */
static cu_result certificate(const cu_vault *v, const cu_policy *p, const cu_actor *actor,
                             const cu_member_row *before, const cu_request_row *request,
                             int64_t erased_us, const struct counts *n, char **out)
{
	char pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1], requested[ISO_LEN], erased[ISO_LEN];
	json_t *cert = NULL, *fields = json_array(), *bidx = json_array();
	uint32_t key_id = 0;
	cu_result rc;

	*out = NULL;
	for (size_t i = 0; fields && i < p->nfields; i++)
		if ((before->present >> i) & 1)
			json_array_append_new(fields, json_string(p->fields[i].name));
	if (bidx && before->has_email_bidx)
		json_array_append_new(bidx, json_string("email"));
	if (bidx && before->has_phone_bidx)
		json_array_append_new(bidx, json_string("phone"));
	if (request)
		cu_case_time(request->received_us, requested);
	cu_case_time(erased_us, erased);
	rc = cu_signed_json_key(v, &key_id, pkhex);
	if (rc)
		goto out;
	cert = json_pack("{s:s,s:s?,s:s,s:s?,s:o,s:s,s:I,s:s,s:{s:b,s:O,s:O,s:b,s:I,s:I,s:I},"
	                 "s:{s:I,s:I,s:s},s:[s,s,s],s:I,s:s}",
	                 "type", "erasure", "request", request ? request->id : NULL, "member",
	                 before->id, "requested", request ? requested : NULL, "requested_us",
	                 request ? json_integer(request->received_us) : json_null(), "erased",
	                 erased, "erased_us", (json_int_t)erased_us, "decided_by",
	                 cu_case_actor_name(actor), "destroyed", "data_key", 1, "fields", fields,
	                 "blind_indexes", bidx, "password_hash", before->password_hash != NULL,
	                 "diary_entries", (json_int_t)n->diaries, "request_and_complaint_texts",
	                 (json_int_t)n->texts, "sessions", (json_int_t)n->sessions, "closed",
	                 "requests", (json_int_t)n->requests, "complaints",
	                 (json_int_t)n->complaints, "note", NOTE_ERASED, "kept",
	                 "the member id and the time of erasure: the erasure record",
	                 "the audit log: who did what, when, with field names, never values",
	                 "requests and complaints without their texts: types, states, times",
	                 "key_id", (json_int_t)key_id, "public_key", pkhex);
	rc = cu_signed_json_seal(v, "certificate", cert, out);
out:
	json_decref(fields);
	json_decref(bidx);
	json_decref(cert);
	return rc;
}

/* ---- the operation ------------------------------------------------------- */

/* Everything but the refusal checks, inside the transaction. */
static cu_result shred(cu_ctx *ctx, const cu_actor *actor, const cu_member_row *before,
                       const cu_request_row *request, int64_t now_us, char **cert)
{
	const char *member = before->id;
	struct counts n = {0};
	cu_member_row after = {0};
	char reason[REASON_BYTES];
	cu_result rc;

	rc = cu_case_close_member(ctx, actor, member, request ? request->id : NULL, now_us,
	                          &n.requests, &n.complaints);
	/* Shredded with the key anyway; deleting the bytes leaves nothing to find. */
	if (!rc)
		rc = cu_store_request_forget_member(ctx->store, member, &n.texts);
	if (!rc)
		rc = cu_store_diary_delete_member(ctx->store, member, &n.diaries);
	if (!rc)
		rc = cu_store_member_erase(ctx->store, member, now_us);
	/* And outside the store: the member's key-tree leaves, once this commits. */
	if (!rc)
		rc = cu_ctx_shred_after_commit(ctx, member);
	if (!rc)
		rc = cu_store_session_delete_member(ctx->store, member, &n.sessions);
	/* Nothing is sent to someone who no longer has an address here. */
	if (!rc)
		rc = cu_store_outbox_drop_member(ctx->store, member, NULL);
	if (!rc) {
		snprintf(reason, sizeof(reason),
		         "crypto-shredded requests_closed=%llu complaints_closed=%llu%s%s",
		         (unsigned long long)n.requests, (unsigned long long)n.complaints,
		         request ? " request=" : "", request ? request->id : "");
		rc = cu_case_audit(ctx, actor, "erase", member, NULL, "done", reason);
	}
	if (!rc)
		rc = cu_store_member_get(ctx->store, member, &after);
	if (!rc && cert)
		rc = certificate(ctx->vault, ctx->policy, actor, before, request,
		                 after.erased_us ? after.erased_us : now_us, &n, cert);
	cu_member_row_release(&after);
	return rc;
}

cu_result cu_erasure_carry_out(cu_ctx *ctx, const cu_actor *actor, const char *member,
                               const cu_request_row *request, int64_t now_us, char **cert)
{
	cu_member_row before = {0};
	cu_result rc;

	if (cert)
		*cert = NULL;
	if (!ctx || !member)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_case_officer(actor))
		return cu_case_refuse(ctx, actor, "erase", member, NULL, CU_ERR_FORBIDDEN);
	if (request && strcmp(request->member, member))
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	/* Read in the transaction: an erasure that raced this one finds it done. */
	rc = cu_store_member_get(ctx->store, member, &before);
	if (!rc && before.erased)
		rc = CU_ERR_ERASED;
	if (!rc)
		rc = shred(ctx, actor, &before, request, now_us, cert);
	cu_member_row_release(&before);
	if (rc) {
		cu_tx_rollback(ctx);
		if (cert) {
			free(*cert);
			*cert = NULL;
		}
		return rc;
	}
	/*
	 * Old pages of the row must not linger in the write-ahead log: the
	 * outermost commit (this one, or the decision or batch around it)
	 * checkpoints.
	 */
	ctx->checkpoint_due = true;
	rc = cu_tx_commit(ctx);
	if (rc && cert) {
		free(*cert);
		*cert = NULL;
	}
	return rc;
}

/* ---- the keyring and the store agree ------------------------------------- */

#define KEYS_PAGE 512

static const cu_actor replay_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

cu_result cu_erasure_replay(cu_ctx *ctx, size_t *replayed)
{
	cu_keyring *ring = ctx ? cu_vault_keyring(ctx->vault) : NULL;
	char after[CU_ID_LEN + 1] = "";
	cu_member_key *page;
	size_t n;
	cu_result rc;

	if (replayed)
		*replayed = 0;
	if (!ring)
		return CU_ERR_INVALID_ARGUMENT;
	page = calloc(KEYS_PAGE, sizeof(*page));
	if (!page)
		return CU_ERR_NOMEM;
	do {
		rc = cu_store_member_keys(ctx->store, after, page, KEYS_PAGE, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			const cu_member_key *k = &page[i];

			if (k->erased || !k->has_wrapped || k->wrapped[0] != CU_VAULT_WRAP_TREE)
				continue;
			if (!cu_keyring_punctured(ring, k->key_id, k->id))
				continue;
			rc = cu_erasure_carry_out(ctx, &replay_actor, k->id, NULL, cu_now_us(),
			                          NULL);
			if (!rc && replayed)
				(*replayed)++;
		}
		if (n)
			snprintf(after, sizeof(after), "%s", page[n - 1].id);
	} while (!rc && n == KEYS_PAGE);
	free(page);
	return rc;
}

/* Whether some tree still holds the member's leaf. */
static bool leaf_left(cu_keyring *ring, const char *member)
{
	cu_keyring_tree_info trees[CU_KEYRING_TREES_MAX];
	size_t n = cu_keyring_trees(ring, trees, CU_KEYRING_TREES_MAX);

	for (size_t i = 0; i < n && i < CU_KEYRING_TREES_MAX; i++)
		if (!cu_keyring_punctured(ring, trees[i].id, member))
			return true;
	return false;
}

cu_result cu_erasure_reconcile(cu_ctx *ctx, size_t *punctured)
{
	cu_keyring *ring = ctx ? cu_vault_keyring(ctx->vault) : NULL;
	char after[CU_ID_LEN + 1] = "", err[CU_ERR_MSG_MAX];
	char(*page)[CU_ID_LEN + 1], (*left)[CU_ID_LEN + 1] = NULL;
	const char **ids = NULL;
	size_t n, nleft = 0, cap = 0, done = 0;
	cu_result rc;

	if (punctured)
		*punctured = 0;
	if (!ring)
		return CU_ERR_INVALID_ARGUMENT;
	page = calloc(KEYS_PAGE, sizeof(*page));
	if (!page)
		return CU_ERR_NOMEM;
	/*
	 * The erased ids only, checked against the keyring in memory: the file
	 * is rewritten once, for the leaves a crash left, and not at all when
	 * there are none (every start).
	 */
	do {
		rc = cu_store_member_erased_ids(ctx->store, after, page, KEYS_PAGE, &n);
		for (size_t i = 0; !rc && i < n; i++) {
			if (!leaf_left(ring, page[i]))
				continue;
			if (nleft == cap) {
				size_t grown = cap ? 2 * cap : 16;
				char(*more)[CU_ID_LEN + 1] = realloc(left, grown * sizeof(*left));

				if (!more) {
					rc = CU_ERR_NOMEM;
					break;
				}
				left = more;
				cap = grown;
			}
			memcpy(left[nleft++], page[i], sizeof(*left));
		}
		if (n)
			snprintf(after, sizeof(after), "%s", page[n - 1]);
	} while (!rc && n == KEYS_PAGE);
	if (!rc && nleft) {
		ids = calloc(nleft, sizeof(*ids));
		if (!ids)
			rc = CU_ERR_NOMEM;
		for (size_t i = 0; !rc && i < nleft; i++)
			ids[i] = left[i];
		if (!rc)
			rc = cu_keyring_puncture(ring, ids, nleft, &done, err, sizeof(err));
	}
	if (!rc && punctured)
		*punctured = done;
	free(ids);
	free(left);
	free(page);
	return rc;
}
