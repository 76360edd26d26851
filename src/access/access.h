/*
 * src/access/access.h — the single door to a member's personal data.
 *
 * Nothing else in Custodian opens a member's sealed fields.  A read names an
 * actor (who, in which role), a purpose from the policy, the member, the
 * fields wanted, and for purposes that need one a case reference.  The door
 * decides, audits the decision — allow, partial or deny — in the store, and
 * only after that entry is committed opens the allowed fields.  Withheld
 * fields are never decrypted.
 *
 * Rules, in order (the first that fails denies the whole read):
 *   1. the member reading their own record (role member, actor_member ==
 *      member) may read every field under the purpose "self";
 *   1a. a subcontractor acts only under a contract in force (its token's,
 *      subcontractors.h): none, or outside [start, end] -> CU_ERR_FORBIDDEN
 *   2. the purpose must exist            -> CU_ERR_PURPOSE_UNKNOWN
 *   3. the role must be granted it       -> CU_ERR_PURPOSE_NOT_ALLOWED
 *      (the operator role is granted every purpose, and audited as such)
 *   3a. a subcontractor's purpose must be one its contract names
 *      -> CU_ERR_PURPOSE_NOT_ALLOWED
 *   4. an aggregate-only purpose never reads one member -> CU_ERR_AGGREGATE_ONLY
 *   0. (before the rules, whatever the purpose) a case reference given
 *      that is not well-formed (cu_case_ref_problem) -> CU_ERR_CASE_INVALID;
 *      ids and texts over their sizes -> CU_ERR_INVALID_ARGUMENT
 *   5. a purpose that requires a case needs a case (NULL or "": none)
 *      -> CU_ERR_CASE_REQUIRED
 *   6. the member must exist and not be erased -> CU_ERR_NOT_FOUND / CU_ERR_ERASED
 *   7. consent (consent.h, versions.h): a purpose marked consent_required,
 *      or one missing from the policy version the member accepted, needs
 *      the member's consent in force -> CU_ERR_CONSENT_REQUIRED; a purpose
 *      the accepted version had reads only the fields it granted there,
 *      unless the member consented to the purpose since
 * then allowed = wanted ∩ grant (∩ the contract's fields, for a
 * subcontractor: the rest withheld as "outside the subcontract"); each
 * withheld field gets a reason.
 *
 * A legal exception (see cu_access_request) replaces rule 3 and rule 7,
 * only for an officer, and is recorded for review with the audit entry.
 * Its fields are the ones the officer names (req->fields, at least one:
 * CU_ERR_INVALID_ARGUMENT otherwise), not the purpose's grant: a statute
 * may need an address the purpose never reads.  Exactly those are opened;
 * the entry and the review name them.
 * The decision is "allow" (nothing withheld), "partial" or "deny" (nothing
 * allowed: CU_ERR_PURPOSE_NOT_ALLOWED).
 */
#ifndef CUSTODIAN_ACCESS_H
#define CUSTODIAN_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "audit/case_ref.h"
#include "ctx/ctx.h"
#include "policy/policy.h"
#include "util/result.h"
#include "store/consent.h"
#include "store/stats.h"
#include "store/subcontractor.h"
#include "store/third_party.h"

typedef struct cu_actor {
	const char *name; /* token name, "operator", or the member id */
	cu_role role;
	const char *member; /* for CU_ROLE_MEMBER: the member they are */
	/*
	 * For CU_ROLE_SUBCONTRACTOR: the id of the contract its token is bound
	 * to (store/subcontractor.h), NULL for every other role.  A subcontractor
	 * without one reads nothing.
	 */
	const char *contract;
} cu_actor;

typedef struct cu_access_request {
	const cu_actor *actor;
	const char *purpose;  /* purpose id; "self" for a member's own read */
	const char *member;   /* member id */
	cu_fieldset fields;   /* wanted; 0 = every field the policy defines */
	const char *case_ref; /* case reference or NULL */
	/*
	 * A legal exception (policy exceptions: "law", "life_body_assets",
	 * "government") invoked by an officer, with a written justification
	 * (20..2000 bytes).  It stands in for the role's grant and the member's
	 * consent — never for a case reference or an aggregate-only purpose —
	 * and opens a review that an officer must close.  With an exception,
	 * `fields` must name the fields the exception needs (0 is refused):
	 * they replace the purpose's grant.  NULL: none.
	 */
	const char *exception;
	const char *justification;
} cu_access_request;

typedef struct cu_access_decision {
	cu_result rc;
	cu_fieldset wanted, allowed, withheld;
	/* reason[i] for each withheld field index i, static strings */
	const char *reason[CU_POLICY_FIELDS_MAX];
	const char *decision; /* "allow" | "partial" | "deny" */
	const char *basis;    /* "purpose", "consent", "exception", "self" (when allowed) */
	bool registered;      /* a provision's: the third party is in the registry */
} cu_access_decision;

/*
 * One opened field.  value is NUL-terminated plaintext inside its record's
 * block, wiped by cu_record_wipe.
 */
typedef struct cu_record_value {
	int field; /* policy field index */
	char *value;
	size_t len;
} cu_record_value;

/*
 * The opened fields of one member.  Every value lives in one allocation,
 * block (block_len bytes of it in use), which the record owns: a read
 * allocates once, whatever the number of fields it opens.
 */
typedef struct cu_record {
	size_t n;
	cu_record_value v[CU_POLICY_FIELDS_MAX];
	char *block;
	size_t block_len;
} cu_record;

void cu_record_init(cu_record *r);
/* Wipes every value and frees the block.  Safe on an initialised, empty record. */
void cu_record_wipe(cu_record *r);
/* The value of field index i, or NULL. */
const char *cu_record_get(const cu_record *r, int field);

/*
 * Decides and audits, without opening anything.  Returns the decision's rc.
 */
CU_WARN_UNUSED cu_result cu_access_decide(cu_ctx *ctx, const cu_access_request *req,
                                          cu_access_decision *d);
/*
 * Decides, audits, and (when allowed) opens the allowed fields into out
 * (cu_record_init'd by the caller; wipe it when done).  If the audit entry
 * cannot be written nothing is opened and the read fails.
 */
CU_WARN_UNUSED cu_result cu_access_read(cu_ctx *ctx, const cu_access_request *req,
                                        cu_access_decision *d, cu_record *out);

/*
 * The same door in three steps, for a server whose audit entries are
 * committed by a separate writer (group commit).  cu_access_read is exactly
 * prepare -> commit the audit entry -> open; a caller of these must do the
 * same, in that order, and open nothing unless the entry was committed.
 *
 * cu_access_prepare applies the rules with a reader's store handle and
 * fills d; when the member exists *row receives it (release it with
 * cu_member_row_release) and *have_row is true.
 */
CU_WARN_UNUSED cu_result cu_access_prepare(const cu_policy *p, cu_store *reader,
                                           const cu_access_request *req, cu_access_decision *d,
                                           cu_member_row *row, bool *have_row);

/*
 * The audit entry of a decision, with copies of every text it needs, so it
 * can travel to another thread.  entry points into the struct itself: do
 * not move it after cu_access_audit_fill.
 */
#define CU_ACCESS_MEMBER_BYTES 72   /* a member id, or CU_AUDIT_MALFORMED, and its NUL, with room */
#define CU_ACCESS_REASON_BYTES 1200 /* the entry's reason: the withheld fields and why */
/* A legal exception's justification (20-2000 bytes, cu_text_justification_ok), and its NUL. */
#define CU_ACCESS_JUSTIFICATION_BYTES 2048

typedef struct cu_access_audit {
	cu_audit_entry entry;
	/* purpose: a policy purpose, or "provision:" and a third party id */
	char actor[CU_ACTOR_MAX + 1], role[CU_ROLE_NAME_BYTES], member[CU_ACCESS_MEMBER_BYTES],
	    purpose[CU_PURPOSE_TEXT_BYTES];
	char case_ref[CU_CASE_REF_MAX + 1], fields[CU_FIELDSET_TEXT_MAX + 1],
	    reason[CU_ACCESS_REASON_BYTES];
	/* an allowed legal exception: its review, written with the entry */
	bool exception;
	char exception_id[CU_ID_LEN + 1], exception_kind[CU_POLICY_ID_MAX + 1];
	char justification[CU_ACCESS_JUSTIFICATION_BYTES]; /* wiped by cu_access_audit_wipe */
} cu_access_audit;
/*
 * Fills the entry from the request and the decision.  The entry holds no
 * text a client typed that is not an id or a name the policy knows: a
 * member that is not a well-formed id (cu_vault_id_well_formed), a purpose
 * that is neither "self" nor one of p's, and a case reference that is not
 * well-formed (cu_case_ref_problem) are each recorded as
 * CU_AUDIT_MALFORMED (audit.h), never as typed.  The same holds for the
 * diary and provision fills below (a third party not in the registry: the
 * purpose reads "provision:" CU_AUDIT_MALFORMED).
 */
void cu_access_audit_fill(const cu_policy *p, const cu_access_request *req,
                          const cu_access_decision *d, cu_access_audit *out);
/*
 * The member, purpose and case of an entry under that rule, into out's
 * copies: what every fill of the door uses, and what a front end that
 * audits a refusal before the door should use too.  NULL or "": "".
 */
void cu_access_audit_names(const cu_policy *p, const char *member, const char *purpose,
                           const char *case_ref, cu_access_audit *out);
/*
 * Writes the entry (and an exception's review, its justification sealed)
 * in one transaction level of ctx: what the writer runs for a read.  An
 * entry alone inside a transaction the caller holds is one statement and
 * takes no savepoint of its own: if it fails, the caller rolls back the level
 * it is in (cu_audit_append's rule), which undoes it.
 */
CU_WARN_UNUSED cu_result cu_access_record(cu_ctx *ctx, cu_access_audit *au);
void cu_access_audit_wipe(cu_access_audit *au);

/*
 * The review queue of legal exceptions.  Each exceptional read opened one;
 * an officer reads the justification and closes it with a written review
 * (sealed like the justification, 1..2000 bytes).  Closing is audited
 * ("exception_review").  CU_ERR_CONFLICT if already closed.
 */
typedef struct cu_exception_view {
	const cu_exception_row *row;
	const char *justification; /* opened; valid during the callback */
	const char *review;        /* opened, or NULL while open */
} cu_exception_view;
typedef int (*cu_exception_fn)(void *ud, const cu_exception_view *view);
CU_WARN_UNUSED cu_result cu_access_exception_list(cu_store *s, const cu_vault *v,
                                                  const cu_actor *actor, bool open_only,
                                                  cu_exception_fn fn, void *ud);
CU_WARN_UNUSED cu_result cu_access_exception_close(cu_ctx *ctx, const cu_actor *actor,
                                                   const char *id, const char *review);

/*
 * Opens the allowed fields of row into out (cu_record_init'd, empty); nothing
 * else.  One allocation holds every value opened (none when none is).
 * CU_ERR_CRYPTO when the wrapped key or a sealed value does not
 * authenticate; CU_ERR_STORE for a damaged record — malformed, a field twice,
 * or a field the row marks present whose entry is not there (its name, which
 * is framing outside the seal, was altered).  On failure out is empty.
 */
CU_WARN_UNUSED cu_result cu_access_open(const cu_policy *p, const cu_vault *v,
                                        const cu_member_row *row, cu_fieldset allowed,
                                        cu_record *out);

/* ---- diaries ------------------------------------------------------------
 *
 * Members' diary entries (diaries.h) are not profile fields: a purpose's
 * `fields` never reach them.  They are opened here, and only here, for two
 * readers (src/access/diary.c).  Rules, in order (the first that fails
 * denies the read):
 *   1. the author (role member, actor_member == member) reads their own
 *      entries under the purpose "self"; another member -> CU_ERR_FORBIDDEN,
 *      another purpose -> CU_ERR_PURPOSE_UNKNOWN; then rule 6;
 *   2. the purpose must exist                   -> CU_ERR_PURPOSE_UNKNOWN
 *   3. the role must be granted it              -> CU_ERR_PURPOSE_NOT_ALLOWED
 *      (the operator role is granted every purpose, and audited as such);
 *      a subcontractor, as for field reads (rules 1a and 3a), only under a
 *      contract in force that names the purpose
 *   4. the purpose must be marked `diaries`      -> CU_ERR_PURPOSE_NOT_ALLOWED
 *   0. (before the rules, whoever reads) a case reference given that is
 *      not well-formed (cu_case_ref_problem) -> CU_ERR_CASE_INVALID
 *   5. a case reference, whatever the purpose says
 *      (no case reference, no diary)            -> CU_ERR_CASE_REQUIRED
 *   6. the member must exist and not be erased  -> CU_ERR_NOT_FOUND / CU_ERR_ERASED
 *   7. what the member agreed to, as for field reads: their consent to the
 *      purpose (consent.h) allows; without it, a purpose marked
 *      consent_required, or one the policy version they accepted did not
 *      mark `diaries` (or lacked)               -> CU_ERR_CONSENT_REQUIRED
 * Every decision, allow or deny, is audited: action "read_diaries", the
 * actor, role, member, purpose and case, fields "diaries", the decision and
 * its reason — never an entry's content.
 */

/* Pages of opened entries (the diaries themselves: domain/diaries.h). */
#define CU_DIARY_PAGE_DEFAULT 20 /* entries per page */
#define CU_DIARY_PAGE_MAX     100

/* One opened entry.  title and body are NUL-terminated plaintext, wiped by cu_diary_list_wipe. */
typedef struct cu_diary_entry {
	char id[CU_ID_LEN + 1];
	char *title;
	size_t title_len;
	char *body;
	size_t body_len;
	int64_t created_us, updated_us;
	/*
	 * Its sealed title or body did not open (the stored bytes are damaged):
	 * title and body are NULL, the rest of the page is opened as usual.
	 * One damaged entry never hides the others (an export reports it).
	 */
	bool unreadable;
} cu_diary_entry;

/*
 * A page of opened entries, newest first.  Caller-allocated: init before
 * use, wipe when done.  `more` says that older entries follow the last one
 * (ask again with before = v[n - 1].id).
 */
typedef struct cu_diary_list {
	size_t n;
	bool more;
	cu_diary_entry v[CU_DIARY_PAGE_MAX];
} cu_diary_list;

void cu_diary_list_init(cu_diary_list *l);
/* Wipes and frees every title and body.  Safe on an initialised, empty list. */
void cu_diary_list_wipe(cu_diary_list *l);


typedef struct cu_diary_request {
	const cu_actor *actor;
	const char *purpose;  /* "self" for the author; else a purpose marked diaries */
	const char *member;   /* whose diary */
	const char *case_ref; /* required for every reader but the author */
	const char *before;   /* the page after this entry id; NULL = the newest */
	size_t limit;         /* entries per page; 0 = CU_DIARY_PAGE_DEFAULT, <= _MAX */
} cu_diary_request;

typedef struct cu_diary_decision {
	cu_result rc;
	const char *decision; /* "allow" | "deny" */
	const char *reason;   /* why, in a few static words (for the audit entry) */
} cu_diary_decision;

/*
 * Decides, audits, and (when allowed) opens a page of the member's entries
 * into out (cu_diary_list_init'd by the caller; wipe it when done).  If the
 * audit entry cannot be written nothing is opened and the read fails.
 * Returns the decision's rc, or the failure that came after it (a `before`
 * that is not one of the member's entries: CU_ERR_NOT_FOUND).
 */
CU_WARN_UNUSED cu_result cu_access_read_diaries(cu_ctx *ctx, const cu_diary_request *req,
                                                cu_diary_decision *d, cu_diary_list *out);

/*
 * The same in three steps, like cu_access_prepare / _audit_fill / _open: a
 * caller of these must commit the audit entry between prepare and open,
 * and open nothing unless the decision allowed and the entry was committed.
 * prepare applies the rules with a reader's store handle; when the member
 * exists *row receives it (release it with cu_member_row_release) and
 * *have_row is true.  open lists and opens one page with the reader.
 */
CU_WARN_UNUSED cu_result cu_access_diaries_prepare(const cu_policy *p, cu_store *reader,
                                                   const cu_diary_request *req,
                                                   cu_diary_decision *d, cu_member_row *row,
                                                   bool *have_row);
void cu_access_diaries_audit_fill(const cu_policy *p, const cu_diary_request *req,
                                  const cu_diary_decision *d, cu_access_audit *out);
CU_WARN_UNUSED cu_result cu_access_diaries_open(const cu_vault *v, cu_store *reader,
                                                const cu_member_row *row,
                                                const cu_diary_request *req, cu_diary_list *out);

/* ---- provisions to third parties ----------------------------------------
 *
 * A provision hands fields of a member's record to a registered third
 * party (third_parties.h): the plaintext it opens is what is handed over.  It
 * goes through the door with rules of its own, in order (the first that
 * fails denies the whole provision; src/access/provision.c):
 *   1. the actor is an officer, a service or the operator -> CU_ERR_FORBIDDEN
 *   2. the third party is registered                   -> CU_ERR_NOT_FOUND
 *      (an id not of the registry's form               -> CU_ERR_INVALID_ARGUMENT)
 *   3. fields are named, and every one is among the third party's
 *      registered fields: nothing is provided in part -> CU_ERR_PURPOSE_NOT_ALLOWED
 *   4. a legal exception, when invoked, as for reads: an officer, a known
 *      exception, a justification of 20..2000 bytes  -> CU_ERR_FORBIDDEN /
 *                                                        CU_ERR_INVALID_ARGUMENT
 *   5. the member exists and is not erased             -> CU_ERR_NOT_FOUND / CU_ERR_ERASED
 *   6. without an exception, the member's consent to this third party is
 *      in force (consent.h, kind "third_party")       -> CU_ERR_CONSENT_REQUIRED
 * Every decision is audited: action "provide", purpose
 * "provision:<third party>", the fields, the decision and its basis.  An
 * allowed one is recorded (store/third_party.h) in the same transaction as its
 * audit entry; a refused one records nothing.  An exception opens a review
 * that an officer must close, as for reads.
 */
typedef struct cu_provision_request {
	const cu_actor *actor;
	const char *third_party; /* registry id */
	const char *member;      /* member id */
	cu_fieldset fields;      /* wanted: at least one */
	const char *exception;   /* NULL: by the member's consent */
	const char *justification;
} cu_provision_request;

/*
 * Decides, audits, records and (when allowed) opens the fields into out
 * (cu_record_init'd by the caller; wipe it when done).  *prov (may be NULL)
 * receives the record of the provision; its id is "" when refused.  If the
 * audit entry or the record cannot be written nothing is opened.
 */
CU_WARN_UNUSED cu_result cu_access_provide(cu_ctx *ctx, const cu_provision_request *req,
                                           cu_access_decision *d, cu_record *out,
                                           cu_provision_row *prov);

/*
 * The same in three steps, like the reads': prepare applies the rules with a
 * reader's store handle (when the member exists *row receives it: release
 * it); audit_fill prepares the entry and, when allowed, the record of the
 * provision (prov->id "" otherwise); record writes both in one transaction
 * level of ctx; only then may cu_access_open run, with d->allowed.
 */
CU_WARN_UNUSED cu_result cu_access_provide_prepare(const cu_policy *p, cu_store *reader,
                                                   const cu_provision_request *req,
                                                   cu_access_decision *d, cu_member_row *row,
                                                   bool *have_row);
void cu_access_provide_audit_fill(const cu_policy *p, const cu_provision_request *req,
                                  const cu_access_decision *d, cu_access_audit *au,
                                  cu_provision_row *prov);
CU_WARN_UNUSED cu_result cu_access_provide_record(cu_ctx *ctx, cu_access_audit *au,
                                                  const cu_provision_row *prov);

/* ---- aggregates: released statistics ----------------------------------
 *
 * A statistic (domain/statistics.h) reads many members' fields and
 * releases only counts.  It goes through the door with rules of its own,
 * in order (src/access/aggregate.c; the first that fails denies the whole
 * release):
 *   1. the actor is not a member nor a subcontractor -> CU_ERR_FORBIDDEN
 *   2. the purpose exists                           -> CU_ERR_PURPOSE_UNKNOWN
 *   3. the role is granted it (the operator every purpose)
 *                                                   -> CU_ERR_PURPOSE_NOT_ALLOWED
 *   4. it is a statistical purpose: it grants no direct identifier, needs
 *      no case and no consent beyond the purposes of use (in the default
 *      policy: research, analysis, materials)      -> CU_ERR_PURPOSE_NOT_ALLOWED
 *   5. every field the statistic uses is among the purpose's fields
 *                                                   -> CU_ERR_PURPOSE_NOT_ALLOWED
 * Allowed or not, ONE audit entry per release: action "statistic", no
 * member, the purpose, the fields used, the decision, and a reason naming
 * the statistic, the release id and the number of members read.  It is
 * committed before any field is opened (fail closed); no member gets an
 * entry of their own for an aggregate.
 *
 * Which members count: those whose data the purpose may use under the
 * door's rule 7, member by member (cu_access_aggregate_counts): a member
 * who consented to the purpose counts; otherwise the policy version they
 * accepted (or the one in force when they registered) must have had the
 * purpose, not marked consent_required, granting every field used.
 */
typedef struct cu_aggregate_request {
	const cu_actor *actor;
	const char *purpose;
	const char *statistic; /* what is released, e.g. "members by age_band where occupation" */
	cu_fieldset fields;    /* every field the statistic opens or looks at */
	uint64_t members;      /* the members it reads */
	const char *release;   /* the release id */
	const char *noise;     /* e.g. "laplace epsilon 0.5", or NULL */
} cu_aggregate_request;

/* Rules 1-5: CU_OK or the refusal, *why (static words) saying which. */
CU_WARN_UNUSED cu_result cu_access_aggregate_decide(const cu_policy *p,
                                                    const cu_aggregate_request *req,
                                                    const char **why);
/*
 * The release's audit entry into au, from the request and the decision
 * (rc, why): "allow" when rc is CU_OK, "deny" with the code otherwise.
 */
void cu_access_aggregate_audit_fill(const cu_policy *p, const cu_aggregate_request *req,
                                    cu_result rc, const char *why, cu_access_audit *au);

/* Who counts: built once per release on a reader, then asked per member. */
#define CU_AGGREGATE_VERSIONS_MAX 64
typedef struct cu_aggregate_scope {
	const cu_policy *policy;
	const cu_policy_purpose *purpose;
	cu_fieldset fields;
	bool allows_now; /* the policy in force allows the use */
	size_t nversions;
	struct {
		char version[CU_VERSION_MAX + 1];
		int64_t published_us;
		bool allows; /* the purpose, not consent_required, granting every field used */
	} v[CU_AGGREGATE_VERSIONS_MAX];
} cu_aggregate_scope;
/*
 * Reads the published versions (with reader) and judges each once.  More
 * than CU_AGGREGATE_VERSIONS_MAX versions: the oldest beyond are judged as
 * not allowing (their members are not counted).
 */
CU_WARN_UNUSED cu_result cu_access_aggregate_scope(const cu_policy *p, cu_store *reader,
                                                   const char *purpose, cu_fieldset fields,
                                                   cu_aggregate_scope *out);
/* Whether member m (as the statistics scan hands it) counts under the scope. */
bool cu_access_aggregate_counts(const cu_aggregate_scope *sc, const cu_stats_member *m);

/*
 * A counted member's opened fields, in caller-owned buffers (a statistic
 * opens a million members: no allocation per value).  present: the fields
 * the record holds a value for (read from its framing, nothing opened).
 * Wipe with cu_aggregate_values_wipe.
 */
#define CU_AGGREGATE_OPEN_MAX  4    /* fields one statistic opens: its `by` and its `where` */
#define CU_AGGREGATE_VALUE_MAX 4096 /* bytes of one opened value */
typedef struct cu_aggregate_values {
	cu_fieldset present;
	size_t n;
	struct {
		int field;
		size_t len;
		char value[CU_AGGREGATE_VALUE_MAX + 1];
	} v[CU_AGGREGATE_OPEN_MAX];
} cu_aggregate_values;
/*
 * Opens the fields of `open` (at most CU_AGGREGATE_OPEN_MAX) of a scanned
 * member into out: only under an aggregate release whose audit entry is
 * committed, and only for a member cu_access_aggregate_counts admitted.
 * CU_ERR_CRYPTO when the key or a value does not authenticate, CU_ERR_STORE
 * for a damaged record, CU_ERR_TOO_LARGE for a value over
 * CU_AGGREGATE_VALUE_MAX.  On failure out is wiped.
 */
CU_WARN_UNUSED cu_result cu_access_aggregate_open(const cu_policy *p, const cu_vault *v,
                                                  const cu_stats_member *m, cu_fieldset open,
                                                  cu_aggregate_values *out);
/* The value of field index i in vals, or NULL (absent). */
const char *cu_aggregate_value(const cu_aggregate_values *vals, int field, size_t *len);
void cu_aggregate_values_wipe(cu_aggregate_values *vals);

#endif
