/*
 * src/access/exception.c — the review queue of legal exceptions (part of the
 * access module: it opens the sealed notes that exceptional reads leave).
 */
#include "access/access.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/sealed_text.h"

#define NOTE_MAX     2000
#define REASON_BYTES 128 /* "review <id> of exception <id> closed" */

static bool is_officer(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_OPERATOR);
}

/* Opens a sealed note into a malloc'd string (wiped and freed by the caller). */
static char *open_note(const cu_vault *v, const char *id, const unsigned char *sealed, size_t len)
{
	char context[CU_EXCEPTION_CONTEXT_BYTES];
	size_t n;
	char *out;

	if (!sealed || len < CU_VAULT_NOTE_OVERHEAD || len > NOTE_MAX + CU_VAULT_NOTE_OVERHEAD)
		return NULL;
	out = malloc(len - CU_VAULT_NOTE_OVERHEAD + 1);
	if (!out)
		return NULL;
	snprintf(context, sizeof(context), "exception:%s", id);
	if (cu_vault_open_note(v, context, sealed, len, (unsigned char *)out, &n) != CU_OK) {
		free(out);
		return NULL;
	}
	return out;
}

struct list_ctx {
	const cu_vault *v;
	cu_exception_fn fn;
	void *ud;
	cu_result rc;
};

static int each(void *ud, const cu_exception_row *row)
{
	struct list_ctx *c = ud;
	char *why = open_note(c->v, row->id, row->justification, row->justification_len);
	char *review = row->review ? open_note(c->v, row->id, row->review, row->review_len) : NULL;
	cu_exception_view view = {row, why, review};
	int stop;

	if (!why || (row->review && !review)) {
		/* A note no loaded key opens: the master key it was sealed under is gone. */
		c->rc = CU_ERR_CRYPTO;
		cu_wipe_free(why);
		cu_wipe_free(review);
		return 1;
	}
	stop = c->fn(c->ud, &view);
	cu_wipe_free(why);
	cu_wipe_free(review);
	return stop;
}

cu_result cu_access_exception_list(cu_store *s, const cu_vault *v, const cu_actor *actor,
                                   bool open_only, cu_exception_fn fn, void *ud)
{
	struct list_ctx c = {v, fn, ud, CU_OK};
	cu_result rc;

	if (!is_officer(actor))
		return CU_ERR_FORBIDDEN;
	rc = cu_store_exception_list(s, open_only, each, &c);
	return rc ? rc : c.rc;
}

cu_result cu_access_exception_close(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                    const char *review)
{
	cu_exception_row row;
	cu_audit_entry e = {0};
	unsigned char *sealed = NULL;
	char context[CU_EXCEPTION_CONTEXT_BYTES], reason[REASON_BYTES];
	size_t n = review ? strlen(review) : 0;
	cu_result rc;

	if (!is_officer(actor))
		return CU_ERR_FORBIDDEN;
	if (!id || strlen(id) > CU_ID_LEN)
		return CU_ERR_NOT_FOUND;
	if (n == 0 || n > NOTE_MAX)
		return CU_ERR_INVALID_FIELD;
	rc = cu_store_exception_get(ctx->store, id, &row);
	if (rc)
		return rc;
	sealed = malloc(n + CU_VAULT_NOTE_OVERHEAD);
	if (!sealed) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	snprintf(context, sizeof(context), "exception:%s", id);
	rc = cu_vault_seal_note(ctx->vault, context, (const unsigned char *)review, n, sealed);
	if (rc)
		goto out;
	snprintf(reason, sizeof(reason), "review %s of exception %s closed", id, row.exception);
	e.actor = actor->name ? actor->name : "";
	e.role = cu_role_name(actor->role);
	e.action = "exception_review";
	e.member = row.member;
	e.purpose = row.purpose;
	e.decision = "done";
	e.reason = reason;
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_exception_close(ctx->store, id, e.actor, sealed, n + CU_VAULT_NOTE_OVERHEAD,
	                              cu_now_us());
	if (!rc)
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	if (rc)
		cu_tx_rollback(ctx);
	else
		rc = cu_tx_commit(ctx);
out:
	free(sealed);
	cu_exception_row_release(&row);
	return rc;
}
