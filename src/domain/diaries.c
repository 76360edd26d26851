/*
 * src/domain/diaries.c — a member's own diary: write, edit, delete, and the own read.
 *
 * Plaintext arrives from the author, is checked, sealed under the author's
 * data key and leaves this file only as ciphertext.  An edit that keeps a
 * part carries its sealed bytes across without opening them; reading is
 * the door's (access/diary.c), even for the author.
 */
#include "domain/diaries.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/diary.h"
#include "util/text.h"

#define REFUSE_REASON_BYTES 96 /* "<code>: entry=<id>" */
#define REASON_BYTES        48 /* "entry=<id>" */

/* ---- validation ------------------------------------------------------------ */

const char *cu_diary_text_problem(const char *s, size_t len, bool multiline)
{
	return cu_text_check(s, len, multiline ? "\n\r\t" : "");
}

static bool blank(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

cu_result cu_diary_validate(const char *title, const char *body, bool write, cu_errors *errs)
{
	const char *why;
	bool bad = false;

	if (!title && write) {
		cu_errors_add(errs, "title", "required");
		bad = true;
	} else if (title) {
		size_t n = strlen(title);

		if ((why = cu_diary_text_problem(title, n, false)))
			cu_errors_add(errs, "title", why);
		else if (n > CU_DIARY_TITLE_MAX)
			cu_errors_add(errs, "title", why = "too_long");
		else if (blank(title))
			cu_errors_add(errs, "title", why = "required");
		bad |= why != NULL;
	}
	if (!body && write) {
		cu_errors_add(errs, "body", "required");
		bad = true;
	} else if (body) {
		size_t n = strlen(body);

		if ((why = cu_diary_text_problem(body, n, true)))
			cu_errors_add(errs, "body", why);
		else if (n > CU_DIARY_BODY_MAX)
			cu_errors_add(errs, "body", why = "too_long");
		bad |= why != NULL;
	}
	return bad ? CU_ERR_INVALID_FIELD : CU_OK;
}

/* ---- audit ----------------------------------------------------------------- */

static cu_result audit(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                       const char *fields, const char *decision, const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor && actor->name ? actor->name : "";
	e.role = actor ? cu_role_name(actor->role) : "";
	e.action = action;
	e.member = member ? member : "";
	/* The author acts on their own data, as in cu_member_update. */
	e.purpose = actor && actor->role == CU_ROLE_MEMBER ? "self" : "";
	e.fields = fields ? fields : "";
	e.decision = decision;
	e.reason = reason ? reason : "";
	return cu_audit_append(ctx->audit, ctx->store, &e);
}

/*
 * Audits a refusal in a transaction level of its own, so it stands whatever
 * the caller does with the change; answers `why` (or the audit's failure).
 */
static cu_result refuse(cu_ctx *ctx, const cu_actor *actor, const char *action, const char *member,
                        const char *entry, cu_result why)
{
	char reason[REFUSE_REASON_BYTES];
	cu_result rc;

	snprintf(reason, sizeof(reason), "%s%s%s", cu_result_code(why), entry ? ": entry=" : "",
	         entry ? entry : "");
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = audit(ctx, actor, action, member, "", "deny", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	return rc ? rc : why;
}

/*
 * Only the author writes their diary.  The member id the audit names is the
 * actor's own (never the member an attempt named), so a refusal does not
 * show up in another member's access log.
 */
static bool is_author(const cu_actor *actor, const char *member)
{
	return actor && actor->role == CU_ROLE_MEMBER && actor->member && member &&
	       !strcmp(actor->member, member);
}

static const char *own_member(const cu_actor *actor)
{
	return actor && actor->role == CU_ROLE_MEMBER && actor->member ? actor->member : "";
}

/* ---- sealing --------------------------------------------------------------- */

/* The sealed parts' field names; each is at most 40 bytes, as the vault requires. */
static void part_name(char out[CU_DIARY_PART_NAME_BYTES], const char *part, const char *id)
{
	snprintf(out, CU_DIARY_PART_NAME_BYTES, "diary-%s.%s", part, id);
}

/* The member's data key, for a member who is there. */
static cu_result member_key(cu_ctx *ctx, const char *member, cu_data_key *dk)
{
	cu_member_row row = {0};
	cu_result rc = cu_store_member_get(ctx->store, member, &row);

	if (rc)
		return rc;
	rc = row.erased ? CU_ERR_ERASED
	                : cu_vault_unwrap(ctx->vault, row.id, row.key_id, row.wrapped, dk);
	cu_member_row_release(&row);
	return rc;
}

/* Seals text as part `part` of entry id into *out (malloc'd). */
static cu_result seal_part(const cu_data_key *dk, const char *member, const char *id,
                           const char *part, const char *text, unsigned char **out, size_t *len)
{
	char name[CU_DIARY_PART_NAME_BYTES];
	size_t n = strlen(text);
	cu_result rc;

	part_name(name, part, id);
	*out = malloc(n + CU_VAULT_SEAL_OVERHEAD);
	if (!*out)
		return CU_ERR_NOMEM;
	rc = cu_vault_seal(dk, member, name, (const unsigned char *)text, n, *out);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*len = n + CU_VAULT_SEAL_OVERHEAD;
	return CU_OK;
}

/* ---- write, edit, delete --------------------------------------------------- */

cu_result cu_diary_write(cu_ctx *ctx, const cu_actor *actor, const char *member, const char *title,
                         const char *body, char id[CU_ID_LEN + 1], cu_errors *errs)
{
	cu_diary_row row = {0};
	cu_data_key dk;
	char reason[REASON_BYTES];
	cu_result rc;

	if (id)
		id[0] = '\0';
	if (!ctx || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_author(actor, member))
		return refuse(ctx, actor, "diary_write", own_member(actor), NULL, CU_ERR_FORBIDDEN);
	rc = cu_diary_validate(title, body, true, errs);
	if (rc)
		return rc;
	rc = member_key(ctx, member, &dk);
	if (rc)
		return rc;
	cu_vault_random_id(row.id);
	memcpy(row.member, member, strlen(member) + 1);
	rc = seal_part(&dk, member, row.id, "title", title, &row.title, &row.title_len);
	if (!rc)
		rc = seal_part(&dk, member, row.id, "body", body, &row.body, &row.body_len);
	cu_vault_data_key_wipe(&dk);
	if (rc)
		goto out;
	row.created_us = row.updated_us = cu_now_us();
	snprintf(reason, sizeof(reason), "entry=%s", row.id);
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_diary_insert(ctx->store, &row);
	if (!rc)
		rc = audit(ctx, actor, "diary_write", member, "title,body", "done", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		goto out;
	}
	rc = cu_tx_commit(ctx);
	if (!rc)
		memcpy(id, row.id, CU_ID_LEN + 1);
out:
	cu_diary_row_release(&row);
	return rc;
}

cu_result cu_diary_edit(cu_ctx *ctx, const cu_actor *actor, const char *member, const char *id,
                        const char *title, const char *body, cu_errors *errs)
{
	cu_diary_row row = {0};
	unsigned char *sealed;
	size_t len;
	cu_data_key dk;
	char reason[REASON_BYTES];
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_author(actor, member))
		return refuse(ctx, actor, "diary_edit", own_member(actor), NULL, CU_ERR_FORBIDDEN);
	if (!title && !body)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_diary_validate(title, body, false, errs);
	if (rc)
		return rc;
	/* No entry has a malformed id: nothing to refuse or to audit. */
	if (!cu_vault_id_well_formed(id))
		return CU_ERR_NOT_FOUND;
	rc = member_key(ctx, member, &dk);
	if (rc)
		return rc;
	rc = cu_store_diary_get(ctx->store, member, id, &row);
	if (rc) {
		cu_vault_data_key_wipe(&dk);
		return rc == CU_ERR_NOT_FOUND ? refuse(ctx, actor, "diary_edit", member, id, rc)
		                              : rc;
	}
	/* A part not given keeps its sealed bytes, unopened. */
	if (title) {
		rc = seal_part(&dk, member, row.id, "title", title, &sealed, &len);
		if (!rc) {
			free(row.title);
			row.title = sealed;
			row.title_len = len;
		}
	}
	if (!rc && body) {
		rc = seal_part(&dk, member, row.id, "body", body, &sealed, &len);
		if (!rc) {
			free(row.body);
			row.body = sealed;
			row.body_len = len;
		}
	}
	cu_vault_data_key_wipe(&dk);
	if (rc)
		goto out;
	row.updated_us = cu_now_us();
	snprintf(reason, sizeof(reason), "entry=%s", row.id);
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	rc = cu_store_diary_update(ctx->store, &row);
	if (!rc)
		rc = audit(ctx, actor, "diary_edit", member,
		           title && body ? "title,body"
		           : title       ? "title"
		                         : "body",
		           "done", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		goto out;
	}
	rc = cu_tx_commit(ctx);
out:
	cu_diary_row_release(&row);
	return rc;
}

cu_result cu_diary_delete(cu_ctx *ctx, const cu_actor *actor, const char *member, const char *id)
{
	char reason[REASON_BYTES];
	cu_result rc;

	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_author(actor, member))
		return refuse(ctx, actor, "diary_delete", own_member(actor), NULL,
		              CU_ERR_FORBIDDEN);
	if (!cu_vault_id_well_formed(id))
		return CU_ERR_NOT_FOUND;
	snprintf(reason, sizeof(reason), "entry=%s", id);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_diary_delete(ctx->store, member, id);
	if (!rc)
		rc = audit(ctx, actor, "diary_delete", member, "", "done", reason);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc == CU_ERR_NOT_FOUND ? refuse(ctx, actor, "diary_delete", member, id, rc)
		                              : rc;
	}
	return cu_tx_commit(ctx);
}

/* ---- the author's own read ------------------------------------------------- */

cu_result cu_diary_list_own(cu_ctx *ctx, const cu_actor *actor, const char *member,
                            const char *before, size_t limit, cu_diary_list *out)
{
	cu_diary_request req = {actor, "self", member, NULL, before, limit};
	cu_diary_decision d;

	return cu_access_read_diaries(ctx, &req, &d, out);
}
