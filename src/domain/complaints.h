/*
 * src/domain/complaints.h — complaints about the handling of personal
 * information, answered by the privacy officer.
 *
 * The policy: "Cerego shall properly and promptly process complaints
 * regarding use, provision, disclosure, or Amendment of personal
 * information, or other complaints regarding the handling of personal
 * information."  The invariant: every complaint reaches a closed state
 * with a response the member can read.
 *
 * A member files a complaint (state "received") about one of use,
 * provision, disclosure, amendment or other, in their own words
 * (1..CU_COMPLAINT_TEXT_MAX bytes).  An officer may assign it to an
 * officer by name ("assigned"; the name must be that of a live officer
 * token), writes responses the member reads ("answered"), and closes it —
 * only with a response: the closing response carries `close`, or, when a
 * response was already given, a close without new text.  A close with no
 * response at all is refused (CU_ERR_INVALID_FIELD, "text":
 * "response_required").  Closed is final (CU_ERR_CONFLICT).  When a member
 * is erased, however it happens, their open complaints close with the
 * erasure (note "member_erased", erasure.h): nobody is left to answer.
 *
 * The due date is fixed at filing: [complaints] due_days after it (default
 * 30).  The officer's lists show open complaints, or the overdue ones.
 *
 * Texts (the complaint, each response) are sealed under the member's data
 * key ("complaint-text.<id>", "complaint-reply.<response id>"), opened here for
 * the member and officers, each opening audited ("read_complaint").  The
 * member is notified at filing, at each response and at closing; notices
 * name the complaint, never its words.  Audited: "complaint_file",
 * "complaint_assign", "complaint_respond" (reason "complaint=ID[ closed]"),
 * "complaint_close" (closed by an erasure, erasure.h).
 * Every function that reads or sets a time takes now_us.
 */
#ifndef CUSTODIAN_COMPLAINTS_H
#define CUSTODIAN_COMPLAINTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "domain/casework.h"
#include "util/result.h"
#include "store/request.h"

#define CU_COMPLAINT_TEXT_MAX 4000 /* bytes of UTF-8: a complaint, a response */

/* Whether `about` is one of use, provision, disclosure, amendment, other. */
bool cu_complaint_about_valid(const char *about);

/*
 * Files a complaint of `member` (the member themself, or the operator
 * recording one received on paper).  CU_ERR_INVALID_FIELD with errs naming
 * "about" or "text".  *out (may be NULL) receives the row.
 */
CU_WARN_UNUSED cu_result cu_complaint_file(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                           const char *about, const char *text, int64_t now_us,
                                           cu_complaint_row *out, cu_errors *errs);

/*
 * Assigns complaint `id` to `officer`, the name of a live (neither revoked
 * nor expired) officer token (CU_ERR_INVALID_FIELD, "officer":
 * "not_an_officer").  Officer or operator only.  CU_ERR_CONFLICT if closed.
 */
CU_WARN_UNUSED cu_result cu_complaint_assign(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                             const char *officer, int64_t now_us, cu_errors *errs);

/*
 * An officer's response (text, may be NULL only when closing a complaint
 * already answered), closing the complaint when `close`.  Officer or
 * operator only.  CU_ERR_CONFLICT if closed; CU_ERR_ERASED if the member
 * was erased (no key to seal the answer under).  *out (may be NULL)
 * receives the complaint after.
 */
CU_WARN_UNUSED cu_result cu_complaint_respond(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                              const char *text, bool close, int64_t now_us,
                                              cu_complaint_row *out, cu_errors *errs);

/* One response, opened. */
typedef struct cu_complaint_response {
	char id[CU_ID_LEN + 1];
	char officer[CU_REQUEST_ACTOR_MAX + 1];
	int64_t time_us;
	bool closing;
	char *text; /* opened, or NULL (no longer readable) */
} cu_complaint_response;

/* A complaint with its thread opened.  Init before use; wipe when done. */
typedef struct cu_complaint_view {
	cu_complaint_row row; /* text is NULL here: see `text` */
	char *text;           /* opened, or NULL */
	size_t nresponses;
	cu_complaint_response *responses;
	bool erased;
} cu_complaint_view;

void cu_complaint_view_init(cu_complaint_view *v);
void cu_complaint_view_wipe(cu_complaint_view *v);

/*
 * Opens complaint `id` for its member or an officer (another caller and
 * another member's id: CU_ERR_NOT_FOUND).  Audited ("read_complaint")
 * before anything is opened.
 */
CU_WARN_UNUSED cu_result cu_complaint_get(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                          cu_complaint_view *out);
/* Opens without rules or audit, for callers that did both (cu_complaint_get, the export). */
CU_WARN_UNUSED cu_result cu_complaint_open(const cu_vault *v, cu_store *s,
                                           const cu_member_row *member, const cu_complaint_row *row,
                                           cu_complaint_view *out);

/* Open complaints by due date (overdue: only those past it at now_us).  Officers only. */
CU_WARN_UNUSED cu_result cu_complaint_list(cu_store *s, const cu_actor *actor, bool overdue,
                                           int64_t now_us, cu_store_complaint_fn fn, void *ud);

/*
 * The member's own list: every complaint of `member`, oldest first, closed
 * ones too.  For that member, an officer or the operator; CU_ERR_FORBIDDEN
 * for anyone else.
 */
CU_WARN_UNUSED cu_result cu_complaint_list_member(cu_store *s, const cu_actor *actor,
                                                  const char *member, cu_store_complaint_fn fn,
                                                  void *ud);

/*
 * JSON for the API and the export (new references).  A row: id, member,
 * about, state, received, due, updated, assigned, closed, closed_by, note,
 * and while open days_left / overdue at now_us.  A view: the row's members
 * plus text (or null) and responses (id, officer, time, closing, text).
 */
json_t *cu_complaint_row_json(const cu_complaint_row *row, int64_t now_us);
json_t *cu_complaint_view_json(const cu_complaint_view *v, int64_t now_us);

#endif
