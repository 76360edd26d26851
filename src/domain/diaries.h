/*
 * src/domain/diaries.h — members' diaries: their own words, sealed.
 *
 * A member writes, edits and deletes their own diary entries; nobody else
 * writes them, and nobody else can tell whether an entry id they hold
 * belongs to someone: another member's id answers CU_ERR_NOT_FOUND, like an
 * id that never existed.
 *
 * An entry is a title (required, one line, at most CU_DIARY_TITLE_MAX bytes)
 * and a body (may be empty; newlines and tabs allowed; at most
 * CU_DIARY_BODY_MAX bytes), both valid UTF-8 without other control
 * characters.  Each is sealed under the member's own data key, with the
 * entry id in the associated data (fields "diary-title.<id>" and
 * "diary-body.<id>"), so a sealed part cannot be moved to another entry or
 * member; erasing the member crypto-shreds them, and the erasure (erasure.h) also
 * deletes the rows.
 *
 * Reading goes through the access door (access.h, "diaries"): the author
 * reads their own entries under the purpose "self" (cu_diary_list_own is
 * that call); staff read them only under a purpose the policy marks
 * `diaries` (tos_review), with a case reference.  This module never opens
 * an entry itself.
 *
 * Every write, edit and delete is audited ("diary_write", "diary_edit",
 * "diary_delete"; actor and member the author; fields the parts written;
 * reason "entry=<id>") in the transaction of the change — never the
 * content.  A refusal of another actor (CU_ERR_FORBIDDEN) or of an entry
 * that is not the member's (CU_ERR_NOT_FOUND) is audited as a denial.
 * Invalid input (CU_ERR_INVALID_FIELD, with errs naming "title" or "body")
 * is refused before anything is written and is not audited.
 *
 * These functions join the caller's cu_tx_begin transaction when there is
 * one (the server's writer batches them).
 */
#ifndef CUSTODIAN_DIARIES_H
#define CUSTODIAN_DIARIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "util/result.h"

#define CU_DIARY_TITLE_MAX 200          /* bytes of UTF-8 */
#define CU_DIARY_BODY_MAX  (60u * 1024) /* bytes; a request body (64 KiB) holds one */
/* The page sizes, cu_diary_entry and cu_diary_list (what the door opens into): access/access.h. */

/*
 * Whether s (len bytes) is valid UTF-8 (no overlongs, no surrogates, at
 * most U+10FFFF) with no NUL, C0 (except newline, carriage return and tab
 * when `multiline`), DEL or C1 control characters.  NULL when it is, else
 * the reason code ("invalid_utf8", "malformed").
 */
const char *cu_diary_text_problem(const char *s, size_t len, bool multiline);

/*
 * Checks a title and a body as a write would; NULL means "not given" (an
 * edit may leave either as it is, a write may not: "required").  CU_OK or
 * CU_ERR_INVALID_FIELD with errs (may be NULL) naming each bad part.
 */
CU_WARN_UNUSED cu_result cu_diary_validate(const char *title, const char *body, bool write,
                                           cu_errors *errs);

/*
 * Writes a new entry of `member` (the actor must be that member:
 * CU_ERR_FORBIDDEN otherwise); id receives its new random id.
 * CU_ERR_NOT_FOUND / CU_ERR_ERASED for a member who is not there.
 */
CU_WARN_UNUSED cu_result cu_diary_write(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                        const char *title, const char *body, char id[CU_ID_LEN + 1],
                                        cu_errors *errs);
/*
 * Replaces the title, the body or both (NULL keeps that part; not both
 * NULL: CU_ERR_INVALID_ARGUMENT) of the member's entry `id`.
 */
CU_WARN_UNUSED cu_result cu_diary_edit(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                       const char *id, const char *title, const char *body,
                                       cu_errors *errs);
/* Deletes the member's entry `id`. */
CU_WARN_UNUSED cu_result cu_diary_delete(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                         const char *id);

/*
 * The author's own read: a page of their entries through the door (purpose
 * "self", audited as "read_diaries").  before: NULL for the newest, or the
 * id the previous page ended with; limit 0 for CU_DIARY_PAGE_DEFAULT.
 * out must be cu_diary_list_init'd; wipe it when done.
 */
CU_WARN_UNUSED cu_result cu_diary_list_own(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                           const char *before, size_t limit, cu_diary_list *out);

#endif
