/*
 * src/domain/casework.h — the casework machine that requests (requests.h) and
 * complaints (complaints.h) both run on.
 *
 * A case is a member's request or complaint: the member files it, officers
 * work it on a clock, the member and officers read it with its sealed texts
 * opened, and an erasure of the member closes whatever is still open.  This
 * module holds what is the same for both kinds, so each rule has one source:
 *
 *   1. Kinds.  One table (cu_case_kinds): the kind's name (the key of its
 *      audit reasons, "request=ID"), the action its audited reading writes,
 *      and its open states.
 *   2. Clock.  A due date is fixed at filing, now + days (the days come from
 *      the configuration: [requests] target_days / hard_days, [complaints]
 *      due_days); a later configuration moves only later cases.  Days left
 *      are whole days rounded down (13.5 is 13, half a day late is -1); a
 *      case is overdue once now is past its due date.  The officer's overdue
 *      list asks the store for the open cases due before now.  Every
 *      function takes now_us, so tests can move time.
 *   3. Who.  A member files their own cases (the operator may record one
 *      made on paper); an officer or the operator works them; the member and
 *      officers read them, and anyone else is told the case does not exist.
 *   4. Audit.  One entry per step; a refusal is audited in its own
 *      transaction level and stands whatever happens; a reading is audited
 *      before anything is opened.
 *   5. Sealed texts.  What the member and the officers write is sealed under
 *      the member's data key (access/sealed_text.h); cu_case_key opens them.
 *      An erased member has no key: nothing opens, the view says "erased".
 *   6. Events.  A case's history grows one step at a time (cu_case_append);
 *      a request's step names the state, the actor, their role and the time.
 *   7. JSON.  Times as "YYYY-MM-DDTHH:MM:SSZ", optional strings as null, the
 *      clock of an open case (days left, overdue).
 *   8. Closing on erasure.  cu_case_close_member closes a member's open
 *      requests and complaints with note "member_erased": the one erasure
 *      (erasure.h) calls it inside its transaction.
 *
 * Depends on neither requests.c nor complaints.c; both depend on it.
 */
#ifndef CUSTODIAN_CASEWORK_H
#define CUSTODIAN_CASEWORK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "store/request.h"
#include "util/date.h"
#include "util/result.h"

/* ---- 1. kinds ------------------------------------------------------------ */

typedef enum cu_case_kind {
	CU_CASE_REQUEST = 0,
	CU_CASE_COMPLAINT = 1,
} cu_case_kind;
#define CU_CASE_KINDS           2
#define CU_CASE_OPEN_STATES_MAX 3

typedef struct cu_case_kind_info {
	const char *name;        /* "request", "complaint": reasons read "request=ID" */
	const char *read_action; /* the audited reading: "read_request", "read_complaint" */
	/* the states in which the case is open, NULL-terminated */
	const char *open_states[CU_CASE_OPEN_STATES_MAX + 1];
} cu_case_kind_info;

extern const cu_case_kind_info cu_case_kinds[CU_CASE_KINDS];

/* Whether `state` is one of the open states of `kind` (false for NULL or a bad kind). */
bool cu_case_state_open(cu_case_kind kind, const char *state);

/* The note of a case closed by its member's erasure. */
#define CU_CASE_NOTE_ERASED "member_erased"

/* ---- 2. clock ------------------------------------------------------------ */

#define CU_CASE_DAY_US     (86400LL * 1000000)
#define CU_CASE_DAY_BYTES  16            /* "YYYY-MM-DD" and its NUL, with room */
#define CU_CASE_TIME_BYTES CU_TIME_BYTES /* "YYYY-MM-DDTHH:MM:SSZ" and its NUL, with room */

/* The due date of a case filed at now_us with `days` to answer it. */
int64_t cu_case_due(int64_t now_us, unsigned days);

/*
 * Whole days left until due_us at now_us, rounded down: 13.5 days is 13,
 * half a day late is -1.  Negative means overdue.
 */
long cu_case_days_left(int64_t due_us, int64_t now_us);

/* Whether a case due at due_us is overdue at now_us (strictly past it). */
bool cu_case_overdue(int64_t due_us, int64_t now_us);

/*
 * What the officer's list asks the store for: open cases due before the
 * returned time, 0 meaning every open case (overdue false).
 */
int64_t cu_case_due_before(bool overdue, int64_t now_us);

/* The UTC day of us ("YYYY-MM-DD"), for notices. */
void cu_case_day(int64_t us, char out[CU_CASE_DAY_BYTES]);
/* The UTC time of us ("YYYY-MM-DDTHH:MM:SSZ"). */
void cu_case_time(int64_t us, char out[CU_CASE_TIME_BYTES]);

/* ---- 3. who -------------------------------------------------------------- */

/* An officer or the operator: who works cases. */
bool cu_case_officer(const cu_actor *a);
/* The actor's name, "" for none. */
const char *cu_case_actor_name(const cu_actor *a);
/* Whether a may file a case of `member`: that member, or the operator. */
bool cu_case_may_file(const cu_actor *a, const char *member);
/* Whether a may read a case of `member`: an officer, the operator, or that member. */
bool cu_case_may_read(const cu_actor *a, const char *member);

/*
 * The member a case is filed for, into *m (release it): CU_ERR_NOT_FOUND
 * for an unknown member, CU_ERR_ERASED for an erased one (*m is then
 * released already).
 */
CU_WARN_UNUSED cu_result cu_case_member_live(cu_store *s, const char *member, cu_member_row *m);

/* ---- 4. audit ------------------------------------------------------------ */

/*
 * Appends one audit entry in the caller's transaction: the actor's name and
 * role, action, member (NULL: ""), fields (NULL: ""), decision, reason.
 */
CU_WARN_UNUSED cu_result cu_case_audit(cu_ctx *ctx, const cu_actor *actor, const char *action,
                                       const char *member, const char *fields, const char *decision,
                                       const char *reason);

/*
 * Audits a refusal (decision "deny") in its own transaction level and
 * returns `why` (or the error that kept it from being written).  The
 * entry's reason is the result's code, then ": " and `reason` when reason
 * is not NULL.
 */
CU_WARN_UNUSED cu_result cu_case_refuse(cu_ctx *ctx, const cu_actor *actor, const char *action,
                                        const char *member, const char *reason, cu_result why);

/*
 * The audited reading of case `id` of `member`: anyone but the member, an
 * officer or the operator gets CU_ERR_NOT_FOUND (as for an id that does not
 * exist; not audited).  Reads the member into *m (release it, whatever the
 * result), then audits the kind's read action (decision "allow", reason
 * "<kind>=ID") in a transaction of its own: when the entry cannot be
 * written, nothing may be opened.
 */
CU_WARN_UNUSED cu_result cu_case_read(cu_ctx *ctx, const cu_actor *actor, cu_case_kind kind,
                                      const char *id, const char *member, cu_member_row *m);

/*
 * Ends the caller's transaction level with the result of its work: rolls
 * back and returns rc when rc is an error, commits (and returns the
 * commit's result) otherwise.
 */
CU_WARN_UNUSED cu_result cu_case_end(cu_ctx *ctx, cu_result rc);

/* ---- 5. sealed texts ----------------------------------------------------- */

#define CU_CASE_FIELD_BYTES 64 /* a sealed text's field name (the vault takes 40 at most) */

/* The member's data key, for opening a case's texts.  Wipe it when done. */
typedef struct cu_case_key {
	cu_data_key dk;
	const char *member; /* the member's id (borrowed from the row) */
	bool have;          /* false: the member was erased and nothing opens */
} cu_case_key;

/* Unwraps m's data key into *k (k->have false for an erased member: CU_OK). */
CU_WARN_UNUSED cu_result cu_case_key_get(const cu_vault *v, const cu_member_row *m, cu_case_key *k);

/*
 * Opens a text sealed under field into a new string *out (wipe it:
 * cu_wipe_free).  *out is NULL, and the result CU_OK, when there is no key
 * (an erased member) or nothing sealed.
 */
CU_WARN_UNUSED cu_result cu_case_text_open(const cu_case_key *k, const char *field,
                                           const unsigned char *sealed, size_t len, char **out);

/* Wipes the key; safe on one never got, or got for an erased member. */
void cu_case_key_wipe(cu_case_key *k);

/*
 * A case's history being opened: the store and case id to list it from,
 * the size of one step, the steps opened so far (items, n: the caller
 * moves them into its view, whatever the result, and wipes them with
 * cu_case_history_wipe) and, while cu_case_open runs, the member's key.
 * rc holds the first failure of a step.  Fill the first three members,
 * zero the rest.
 */
typedef struct cu_case_history {
	cu_store *store;
	const char *id;
	size_t size;
	void *items;
	size_t n;
	const cu_case_key *key;
	cu_result rc;
} cu_case_history;

/* Lists the case's steps from h->store, each through cu_case_history_add. */
typedef cu_result (*cu_case_walk_fn)(cu_case_history *h);

/*
 * Opens a case for reading, without rules or audit (cu_case_read did
 * both): gets m's key (none for an erased member), opens the case's own
 * text sealed under `field` into *text (NULL when none or erased), then
 * has walk(h) open the steps into h; wipes the key.  On failure *text is
 * wiped and NULL; the steps kept in h are the caller's to wipe.
 */
CU_WARN_UNUSED cu_result cu_case_open(const cu_vault *v, const cu_member_row *m, const char *field,
                                      const unsigned char *sealed, size_t len, char **text,
                                      cu_case_walk_fn walk, cu_case_history *h);

/*
 * The next step of the history (zeroed, appended to h's array), or NULL
 * with h->rc set when out of memory.
 */
void *cu_case_history_add(cu_case_history *h);

/*
 * Opens a step's text sealed under `field` into *out with h's key (NULL
 * when erased or nothing sealed); a failure is kept in h->rc.  Returns
 * what a store listing callback returns: 0 to go on, 1 to stop.
 */
int cu_case_history_open(cu_case_history *h, const char *field, const unsigned char *sealed,
                         size_t len, char **out);

/*
 * Wipes the opened text of each of the n steps of `size` bytes at items
 * (the char * at offset text_at in each), then frees the array.
 */
void cu_case_history_wipe(void *items, size_t n, size_t size, size_t text_at);

/* ---- 6. events ----------------------------------------------------------- */

#define CU_CASE_GROW 8 /* items an array of history steps grows by */

/*
 * Appends one zeroed item of `size` bytes to the array *items of *n items
 * (grown by CU_CASE_GROW at a time), *slot pointing at it.  CU_ERR_NOMEM
 * leaves the array as it was.
 */
CU_WARN_UNUSED cu_result cu_case_append(void **items, size_t *n, size_t size, void **slot);

/*
 * A request's history step (zeroed first): request id, state, the actor's
 * name and role, the time.  Ground, note and reasons are the caller's.
 */
void cu_case_event_init(cu_request_event_row *ev, const char *request, const char *state,
                        const cu_actor *actor, int64_t now_us);

/* ---- 7. JSON ------------------------------------------------------------- */

/* Sets o[key] to the time us ("YYYY-MM-DDTHH:MM:SSZ"). */
void cu_case_json_time(json_t *o, const char *key, int64_t us);
/* A new string, or null for NULL and "". */
json_t *cu_case_json_opt(const char *s);
/* Sets o[key] to the whole days left until due_us at now_us. */
void cu_case_json_days_left(json_t *o, const char *key, int64_t due_us, int64_t now_us);

/*
 * The clock of a case into o, keys in this order: "received", "due",
 * "hard_due" (only when hard_due_us is not 0: a request's outer limit) and
 * "updated" times; then for a case that ended (ended_us not 0) its end
 * under ended_key ("closed", "decided"), and for an open one "days_left",
 * "hard_days_left" (with hard_due) and "overdue" at now_us.
 */
void cu_case_json_clock(json_t *o, int64_t received_us, int64_t due_us, int64_t hard_due_us,
                        int64_t updated_us, const char *ended_key, int64_t ended_us,
                        int64_t now_us);

/* ---- 8. closing on erasure ----------------------------------------------- */

/*
 * Closes every open case of `member`, in the caller's transaction:
 *   requests (received, investigating; `except`, the erasure request being
 *     carried out, left alone when not NULL): state "closed", decided now by
 *     the actor, a history step "closed" with note "member_erased";
 *   complaints: state "closed", closed now by the actor, note
 *     "member_erased", each closing audited ("complaint_close", reason
 *     "complaint=ID closed member_erased").
 * *requests and *complaints receive the counts closed.
 */
CU_WARN_UNUSED cu_result cu_case_close_member(cu_ctx *ctx, const cu_actor *actor,
                                              const char *member, const char *except,
                                              int64_t now_us, uint64_t *requests,
                                              uint64_t *complaints);

#endif
