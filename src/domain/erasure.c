/*
 * erasure.c — the one erasure operation (erasure.h): closes what is open,
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
#include "store/store.h"
#include "store/diary.h"
#include "store/notify.h"
#include "store/request.h"
#include "vault/signed_json.h"

#define NOTE_ERASED "member_erased"
#define ISO_LEN     32 /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */

static bool may_erase(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_OPERATOR);
}

static const char *actor_name(const cu_actor *a)
{
	return a && a->name ? a->name : "";
}

static void iso(int64_t us, char out[ISO_LEN])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, ISO_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                       const char *decision, const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor_name(actor);
	e.role = actor ? cu_role_name(actor->role) : "";
	e.action = action;
	e.member = member ? member : "";
	e.purpose = "";
	e.fields = "";
	e.decision = decision;
	e.reason = reason ? reason : "";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

/* Audits a refusal in its own transaction level; the refusal stands whatever happens. */
static cu_result refuse(cu_ctx *ctx, const cu_actor *actor, const char *member, cu_result why)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = audit(ctx, actor, "erase", member, "deny", cu_result_code(why));
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	return rc ? rc : why;
}

/* ---- the open requests and complaints ------------------------------------ */

/* Ids collected from a listing (the rows are changed after the walk). */
struct ids {
	const char *except; /* a request id to leave alone, or NULL */
	char (*id)[CU_ID_LEN + 1];
	size_t n, cap;
	cu_result rc;
};

static int ids_add(struct ids *o, const char *id)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		void *p = realloc(o->id, cap * sizeof(*o->id));

		if (!p) {
			o->rc = CU_ERR_NOMEM;
			return 1;
		}
		o->id = p;
		o->cap = cap;
	}
	memcpy(o->id[o->n++], id, CU_ID_LEN + 1);
	return 0;
}

static int open_request(void *ud, const cu_request_row *row)
{
	struct ids *o = ud;

	if (!cu_request_state_open(row->state) || (o->except && !strcmp(row->id, o->except)))
		return 0;
	return ids_add(o, row->id);
}

static int open_complaint(void *ud, const cu_complaint_row *row)
{
	return row->closed_us ? 0 : ids_add(ud, row->id);
}

static cu_result close_requests(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                const char *except, int64_t now_us, uint64_t *closed)
{
	struct ids o = {except, NULL, 0, 0, CU_OK};
	cu_result rc = cu_store_request_list_member(ctx->store, member, open_request, &o);

	if (!rc)
		rc = o.rc;
	for (size_t i = 0; !rc && i < o.n; i++) {
		cu_request_row row;
		cu_request_event_row ev = {0};

		rc = cu_store_request_get(ctx->store, o.id[i], &row);
		if (rc)
			break;
		snprintf(row.state, sizeof(row.state), "closed");
		row.updated_us = row.decided_us = now_us;
		snprintf(row.decided_by, sizeof(row.decided_by), "%s", actor_name(actor));
		rc = cu_store_request_update(ctx->store, &row);
		memcpy(ev.request, row.id, sizeof(ev.request));
		snprintf(ev.state, sizeof(ev.state), "closed");
		snprintf(ev.actor, sizeof(ev.actor), "%s", actor_name(actor));
		snprintf(ev.role, sizeof(ev.role), "%s", cu_role_name(actor->role));
		ev.time_us = now_us;
		snprintf(ev.note, sizeof(ev.note), NOTE_ERASED);
		if (!rc)
			rc = cu_store_request_event_insert(ctx->store, &ev);
		cu_request_row_release(&row);
	}
	if (!rc)
		*closed = o.n;
	free(o.id);
	return rc;
}

static cu_result close_complaints(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                  int64_t now_us, uint64_t *closed)
{
	struct ids o = {NULL, NULL, 0, 0, CU_OK};
	char reason[80];
	cu_result rc = cu_store_complaint_list_member(ctx->store, member, open_complaint, &o);

	if (!rc)
		rc = o.rc;
	for (size_t i = 0; !rc && i < o.n; i++) {
		cu_complaint_row row;

		rc = cu_store_complaint_get(ctx->store, o.id[i], &row);
		if (rc)
			break;
		snprintf(row.state, sizeof(row.state), "closed");
		row.updated_us = row.closed_us = now_us;
		snprintf(row.closed_by, sizeof(row.closed_by), "%s", actor_name(actor));
		snprintf(row.note, sizeof(row.note), NOTE_ERASED);
		snprintf(reason, sizeof(reason), "complaint=%s closed " NOTE_ERASED, row.id);
		rc = cu_store_complaint_update(ctx->store, &row);
		if (!rc)
			rc = audit(ctx, actor, "complaint_close", row.member, "done", reason);
		cu_complaint_row_release(&row);
	}
	if (!rc)
		*closed = o.n;
	free(o.id);
	return rc;
}

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
		iso(request->received_us, requested);
	iso(erased_us, erased);
	rc = cu_signed_json_key(v, &key_id, pkhex);
	if (rc)
		goto out;
	cert = json_pack(
	    "{s:s,s:s?,s:s,s:s?,s:o,s:s,s:I,s:s,s:{s:b,s:O,s:O,s:b,s:I,s:I,s:I},"
	    "s:{s:I,s:I,s:s},s:[s,s,s],s:I,s:s}",
	    "type", "erasure", "request", request ? request->id : NULL, "member", before->id,
	    "requested", request ? requested : NULL, "requested_us",
	    request ? json_integer(request->received_us) : json_null(), "erased", erased,
	    "erased_us", (json_int_t)erased_us, "decided_by", actor_name(actor), "destroyed",
	    "data_key", 1, "fields", fields, "blind_indexes", bidx, "password_hash",
	    before->password_hash != NULL, "diary_entries", (json_int_t)n->diaries,
	    "request_and_complaint_texts", (json_int_t)n->texts, "sessions",
	    (json_int_t)n->sessions, "closed", "requests", (json_int_t)n->requests, "complaints",
	    (json_int_t)n->complaints, "note", NOTE_ERASED, "kept",
	    "the member id and the time of erasure: the erasure record",
	    "the audit log: who did what, when, with field names, never values",
	    "requests and complaints without their texts: types, states, times", "key_id",
	    (json_int_t)key_id, "public_key", pkhex);
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
	char reason[160];
	cu_result rc;

	rc = close_requests(ctx, actor, member, request ? request->id : NULL, now_us, &n.requests);
	if (!rc)
		rc = close_complaints(ctx, actor, member, now_us, &n.complaints);
	/* Shredded with the key anyway; deleting the bytes leaves nothing to find. */
	if (!rc)
		rc = cu_store_request_forget_member(ctx->store, member, &n.texts);
	if (!rc)
		rc = cu_store_diary_delete_member(ctx->store, member, &n.diaries);
	if (!rc)
		rc = cu_store_member_erase(ctx->store, member, now_us);
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
		rc = audit(ctx, actor, "erase", member, "done", reason);
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
	if (!may_erase(actor))
		return refuse(ctx, actor, member, CU_ERR_FORBIDDEN);
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
