/*
 * src/domain/requests.h — a member's requests: disclosure, amendment,
 * erasure; handled by the privacy officer on a clock.
 *
 * The policy: "If a user requests Cerego to disclose its personal
 * information, Cerego shall respond to that request without delay, except
 * in the following cases" (three grounds, below); "If a user requests
 * Cerego to amend, add to, or delete ... Cerego shall, without delay,
 * conduct a necessary investigation ... [and] Amend the contents of the
 * personal information and notify the user of that Amendment."
 *
 * Workflow.  A member files a request (it is "received"); an officer may
 * mark it "investigating", and decides it: "applied", "rejected" or — a
 * disclosure only — "refused" on one of the three grounds, with reasons.
 * A decided request is final (CU_ERR_CONFLICT).  Applying:
 *   disclosure  the member is told their disclosure is ready (the
 *               self-service export, export.h, is the disclosure itself);
 *   amendment   the changes the member asked for are made with
 *               cu_member_amend (audited "amend": field names before and
 *               after, never values);
 *   erasure     the member is told, then erased by the one erasure
 *               operation (erasure.h: every text of their requests and
 *               complaints deleted with the key that sealed it, their other
 *               open requests and complaints closed with note
 *               "member_erased", a signed erasure certificate issued and
 *               kept on the request).
 *
 * Clock.  Each request gets, when filed, a target date (config
 * [requests] target_days, default 14: "without delay") and an outer limit
 * (hard_days, default 30: one month).  The dates are fixed at filing; a
 * configuration change moves only later requests.  Every function that
 * reads or sets a time takes now_us, so tests can move it.
 *
 * Notices.  The member is notified (notify.h, in the same transaction) at
 * filing and at every change of state.  Notices are templates: request id,
 * type, state, dates, field names, a refusal ground's policy text — never
 * the member's words nor the officer's reasons (the member reads those in
 * their account).
 *
 * Sealing.  What the member writes (the details: an amendment's changes
 * and reason, a note) and what the officer writes (reasons) is sealed under
 * the member's own data key, with the request id in the associated data
 * ("req-details.<id>", "req-why.<id>.<first three letters of the state>"), so erasure shreds
 * it.  This module opens those texts for the member and for an officer;
 * each opening outside the export is audited ("read_request").
 *
 * Audit.  "request_file" (the member; fields: an amendment's field
 * names; reason "request=ID type=..."),
 * "request_decide" (the officer; reason "request=ID action=... state=...
 * [ground=...]"), "read_request", and those of the changes applied
 * ("amend", "erase").  All in the transaction of the change.  Functions
 * that write join the caller's transaction (cu_tx_begin nests).
 */
#ifndef CUSTODIAN_REQUESTS_H
#define CUSTODIAN_REQUESTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "domain/casework.h"
#include "domain/members.h"
#include "util/result.h"
#include "store/request.h"

#define CU_REQUEST_TEXT_MAX  2000 /* bytes of UTF-8: a note, a reason, an officer's reasons */
#define CU_REQUEST_TOKEN_LEN 43   /* a certificate token: 32 random bytes, base64url */

typedef enum cu_request_type {
	CU_REQUEST_DISCLOSURE = 0,
	CU_REQUEST_AMENDMENT = 1,
	CU_REQUEST_ERASURE = 2,
} cu_request_type;

typedef enum cu_request_action {
	CU_REQUEST_INVESTIGATE = 0,
	CU_REQUEST_APPLY = 1,
	CU_REQUEST_REJECT = 2,
	CU_REQUEST_REFUSE = 3,
	/* lifts a refusal that suspends the self-service export (below): state "lifted" */
	CU_REQUEST_LIFT = 4,
} cu_request_action;
#define CU_REQUEST_ACTIONS 5

/* "disclosure", ...; NULL out of range.  Parse: CU_ERR_INVALID_ARGUMENT if unknown. */
const char *cu_request_type_name(cu_request_type t);
CU_WARN_UNUSED cu_result cu_request_type_parse(const char *name, cu_request_type *out);
/* "investigate", "apply", "reject", "refuse", "lift". */
const char *cu_request_action_name(cu_request_action a);
CU_WARN_UNUSED cu_result cu_request_action_parse(const char *name, cu_request_action *out);
/* Whether a state is one of received, investigating (the open ones). */
bool cu_request_state_open(const char *state);

/*
 * The policy's three grounds for refusing a disclosure, in its order, with
 * its words.  Defined here rather than in the policy file: they are the
 * law's grounds the policy repeats, not something a policy version picks.
 *   harm_to_life_or_rights  1. the disclosure could damage the life, body,
 *                              or assets of a user or a third party, or
 *                              prejudice other rights or interests ...
 *   business_interference   2. ... could significantly interfere with
 *                              proper performance of Cerego's business
 *   breach_of_law           3. ... breaches any law or ordinance
 */
typedef struct cu_refusal_ground {
	const char *id;
	int number;
	const char *text;
	/*
	 * Whether a refusal on this ground suspends the member's self-service
	 * export while it stands (see "Refusals and the export" below).
	 */
	bool suspends_export;
} cu_refusal_ground;

#define CU_REFUSAL_GROUNDS 3
extern const cu_refusal_ground cu_refusal_grounds[CU_REFUSAL_GROUNDS];
/* The ground with this id, or NULL. */
const cu_refusal_ground *cu_refusal_ground_find(const char *id);

/*
 * Refusals and the export.  The self-service export (export.h) is the
 * policy's disclosure "without delay"; a refused disclosure request must
 * not be answered by it anyway.  What a refusal does to it depends on the
 * ground, because the grounds are about different things:
 *   harm_to_life_or_rights  suspends the whole export: the harm comes from
 *                           handing the data to whoever asks, and the export
 *                           hands the same data to the same person.
 *   breach_of_law           suspends the whole export: if disclosing breaches
 *                           a law (an order not to tell the subject), the
 *                           export breaches it the same way.
 *   business_interference   does not: the ground is the burden of answering
 *                           that request (its scope, its repetition), and the
 *                           export costs the business nothing; suspending it
 *                           would deny a right on a ground that does not apply.
 * A suspending refusal stands until an officer lifts it (action "lift":
 * state "refused" -> "lifted", the member notified); the export of a member
 * with a standing one is CU_ERR_DISCLOSURE_REFUSED (HTTP 403
 * "disclosure_refused", naming the request and the ground), audited.
 * Custodian cannot tell which part of the data a refusal is about, so it
 * suspends all of the export rather than guess; the member's own profile
 * page (what they entered and keep up to date) is not suspended.
 *
 * cu_request_refusal_standing: the member's newest disclosure request in
 * state "refused" on a ground that suspends the export, into *out (may be
 * NULL; release it); CU_ERR_NOT_FOUND when there is none.
 */
CU_WARN_UNUSED cu_result cu_request_refusal_standing(cu_store *s, const char *member,
                                                     cu_request_row *out);

/* What a member asks. */
typedef struct cu_request_input {
	cu_request_type type;
	/* amendment: the fields and their new values (NULL or "" deletes an optional one) */
	const cu_kv *changes;
	size_t nchanges;
	/*
	 * amendment: why the data is incorrect (required, 1..CU_REQUEST_TEXT_MAX);
	 * disclosure, erasure: an optional note (NULL for none).
	 */
	const char *text;
} cu_request_input;

/*
 * Files a request of `member` (the actor must be that member, or the
 * operator recording a request made on paper: CU_ERR_FORBIDDEN otherwise).
 * Validates before anything is written (CU_ERR_INVALID_FIELD, errs naming
 * "changes", a field, or "reason"/"note"); one field per change; the
 * values are checked as an update would check them.  *out (may be NULL)
 * receives the row.  For an erasure, token receives a certificate token
 * (shown once, only its hash is kept: it fetches the erasure certificate
 * after the member can no longer log in); otherwise token[0] is NUL.
 */
CU_WARN_UNUSED cu_result cu_request_file(cu_ctx *ctx, const cu_actor *actor, const char *member,
                                         const cu_request_input *in, int64_t now_us,
                                         cu_request_row *out, char token[CU_REQUEST_TOKEN_LEN + 1],
                                         cu_errors *errs);

/* An officer's decision. */
typedef struct cu_request_decision {
	cu_request_action action;
	const char *ground;  /* refuse: one of cu_refusal_grounds (required) */
	const char *reasons; /* reject, refuse: required; otherwise optional */
} cu_request_decision;

/*
 * Decides request `id` (officer or operator; CU_ERR_FORBIDDEN otherwise,
 * audited).  CU_ERR_NOT_FOUND, CU_ERR_CONFLICT when already decided (or
 * "investigate" twice; "lift" of anything but a standing refusal that
 * suspends the export), CU_ERR_INVALID_FIELD with errs for a refusal
 * without a ground ("ground": "required"/"unknown"), a refusal of anything
 * but a disclosure ("action": "refuse_is_for_disclosure"), missing or
 * malformed reasons ("reasons").  An amendment whose values no longer
 * validate, or whose e-mail is now taken, fails as the update would
 * (CU_ERR_INVALID_FIELD / CU_ERR_CONFLICT) and changes nothing.
 * *out (may be NULL) receives the row after.  For an applied erasure
 * *certificate (may be NULL) receives the signed certificate (malloc'd;
 * the caller frees), which the row also keeps.
 */
CU_WARN_UNUSED cu_result cu_request_decide(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                           const cu_request_decision *dec, int64_t now_us,
                                           cu_request_row *out, char **certificate,
                                           cu_errors *errs);

/* One step of the history, opened. */
typedef struct cu_request_event {
	char state[CU_REQUEST_WORD_MAX + 1];
	char actor[CU_REQUEST_ACTOR_MAX + 1];
	char role[CU_ROLE_NAME_BYTES];
	int64_t time_us;
	char ground[CU_POLICY_ID_MAX + 1];
	char note[CU_REQUEST_WORD_MAX + 1];
	char *reasons; /* opened, or NULL (none, or no longer readable) */
} cu_request_event;

/*
 * A request with its texts opened.  details is the JSON text the member's
 * details were kept as ({"changes": {...}, "reason": ...} or {"note": ...}),
 * or NULL (none, or erased).  Init before use; wipe when done.
 */
typedef struct cu_request_view {
	cu_request_row row;
	char *details;
	size_t nevents;
	cu_request_event *events;
	bool erased; /* the member was erased: texts cannot be opened */
} cu_request_view;

void cu_request_view_init(cu_request_view *v);
/* Wipes the opened texts and frees everything.  Safe on an initialised, empty view. */
void cu_request_view_wipe(cu_request_view *v);

/*
 * Opens request `id` for its member or an officer (or the operator).  Any
 * other caller, and another member's id, get CU_ERR_NOT_FOUND, as for an
 * id that does not exist.  Audited ("read_request", reason "request=ID")
 * before anything is opened; if the entry cannot be written nothing is.
 */
CU_WARN_UNUSED cu_result cu_request_get(cu_ctx *ctx, const cu_actor *actor, const char *id,
                                        cu_request_view *out);

/*
 * Opens a request's texts with the member's key: no rules, no audit — for
 * the callers that did both (cu_request_get, the export).  `member` is the
 * request's member row (an erased one opens nothing: out->erased).
 */
CU_WARN_UNUSED cu_result cu_request_open(const cu_vault *v, cu_store *s,
                                         const cu_member_row *member, const cu_request_row *row,
                                         cu_request_view *out);

/*
 * The officer's lists: open requests (received, investigating), earliest
 * target first; with overdue, only those past their target at now_us.
 * Metadata only.  CU_ERR_FORBIDDEN for anyone but an officer or the operator.
 */
CU_WARN_UNUSED cu_result cu_request_list(cu_store *s, const cu_actor *actor, bool overdue,
                                         int64_t now_us, cu_store_request_fn fn, void *ud);

/*
 * The member's own list: every request of `member`, oldest first, closed
 * ones too (metadata only, as the officer's list).  For that member, an
 * officer or the operator; CU_ERR_FORBIDDEN for anyone else.
 */
CU_WARN_UNUSED cu_result cu_request_list_member(cu_store *s, const cu_actor *actor,
                                                const char *member, cu_store_request_fn fn,
                                                void *ud);

/*
 * The erasure certificate of request `id`, as issued: for the member (by
 * id), an officer, or whoever holds the certificate token given when the
 * request was filed (actor NULL, token set; compared in constant time).
 * CU_ERR_UNAUTHENTICATED for a token that does not match (or no such
 * request, when asked with a token), CU_ERR_NOT_FOUND when there is none
 * (yet).  *json is malloc'd.
 */
CU_WARN_UNUSED cu_result cu_request_certificate(cu_store *s, const cu_actor *actor, const char *id,
                                                const char *token, char **json);

/*
 * JSON for the API and the export (new references; NULL when out of
 * memory).  A row: id, member, type, state, received, due, hard_due,
 * updated, decided (when decided), decided_by, ground, fields (names),
 * and while open days_left / hard_days_left / overdue at now_us.  A view:
 * the row's members plus details (the member's details as an object, or
 * null), history (state, time, actor, role, ground, note, reasons), and
 * certificate (the signed certificate as an object) when issued.
 */
json_t *cu_request_row_json(const cu_request_row *row, int64_t now_us);
json_t *cu_request_view_json(const cu_request_view *v, int64_t now_us);

/*
 * Checks an erasure certificate: well-formed ({"certificate": {...},
 * "signature": hex}), and signed by the key it names over the
 * certificate object's canonical JSON (compact, keys sorted).  When v is
 * given, the key must also be one of v's.  CU_OK, or CU_ERR_CRYPTO /
 * CU_ERR_INVALID_ARGUMENT with `what` saying why in one line.
 */
CU_WARN_UNUSED cu_result cu_request_certificate_verify(const char *json, size_t len,
                                                       const cu_vault *v, char *what,
                                                       size_t whatlen);

#endif
