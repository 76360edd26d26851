/*
 * src/domain/retention.h — retention: what the service stops keeping, when,
 * and why; one function says it (the plan), one does it (the run).
 *
 * The rules come from the policy in force ("retention" in the policy file,
 * policy.h cu_policy_retention; docs/retention.md is the officer's page):
 *
 *   1. A dropped field.  A record entry whose name no field of the policy in
 *      force has (a new version dropped it) goes dropped_field_grace_days
 *      after the publication of the first version without it (of the
 *      versions since which it has stayed out).  Record names are framing
 *      outside the seal (vault/record.h): the entry is cut out of the packed
 *      record and the row rewritten, no key is opened.  A name no recorded
 *      version ever had counts from the publication of the version in force.
 *   2. A field whose purposes have all ended.  A member's value of field F
 *      is held by the purposes that grant F; a purpose without a period in
 *      retention.purposes holds it while the membership lasts, one with
 *      after_last_activity_days until that many days after the member's
 *      last activity, and a consent_required purpose with
 *      after_withdrawal_days until that many days after the member withdrew
 *      their consent to it (at once if they never gave it; while it is in
 *      force, as after_last_activity_days says, or while the membership
 *      lasts).  F goes when every purpose that grants it has ended — a field
 *      no purpose grants is the member's own and stays — or, earlier, when
 *      retention.fields.F.after_last_activity_days have passed.  Required
 *      and identifier fields are never cut alone (the loader refuses a
 *      period for them): they go with the account.
 *   3. An inactive account.  With retention.inactive_accounts, a member
 *      without activity for notice_after_days is sent a notice (a notice in
 *      their account and an e-mail, notify.h; audited "retention_notice");
 *      if there is still none erase_after_notice_days after the notice, the
 *      member is erased by cu_erasure_carry_out (erasure.h, the one
 *      erasure).  Activity after the notice starts the count again.
 *   4. Records of provision (store/third_party.h) go provision_records_days
 *      after they were made — never fewer than three years: the loader
 *      refuses a shorter period, and the store's floor is checked against
 *      the wall clock whatever now_us says.  Without the setting they are
 *      kept.
 *
 * "Last activity" is what the system knows of the member acting: the later
 * of their registration and the newest audit entry they wrote themselves
 * (actor = their id: a login, their own read, a change, a consent, an
 * acceptance).  Reads of them by staff, and retention's own entries, are not
 * their activity.
 *
 * Every deletion is audited in the transaction that makes it, with ids,
 * field names and counts, never values: action "retention_delete" (actor
 * the caller, member the id, fields the names cut, reason what rule and
 * since when), one per member and run, one for an erasure (beside the
 * erasure's own "erase"), one for provision records (beside
 * "provision_purge").  After a cut the log is checkpointed (ctx.h:
 * checkpoint_due), so the old row's pages do not linger in it.
 */
#ifndef CUSTODIAN_RETENTION_H
#define CUSTODIAN_RETENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "util/result.h"

#define CU_RETENTION_NAME_BYTES 256 /* a record entry's name (at most 255 bytes) and its NUL */
#define CU_RETENTION_WHY_BYTES  240 /* an item's reason: rule, dates, days, version, purposes */

typedef enum cu_retention_kind {
	CU_RETENTION_DROPPED_FIELD = 0,   /* "dropped_field": rule 1 */
	CU_RETENTION_FIELD_ENDED = 1,     /* "field_ended": rule 2 */
	CU_RETENTION_INACTIVE_NOTICE = 2, /* "inactive_notice": rule 3, the notice */
	CU_RETENTION_INACTIVE_ERASE = 3,  /* "inactive_erase": rule 3, the erasure */
	CU_RETENTION_PROVISIONS = 4,      /* "provision_records": rule 4 */
} cu_retention_kind;

/* The kind's word ("dropped_field", ...); NULL for an out-of-range value. */
const char *cu_retention_kind_name(cu_retention_kind kind);

/* One thing that goes (or is sent): ids, names, times and counts, never a value. */
typedef struct cu_retention_item {
	cu_retention_kind kind;
	char member[CU_ID_LEN + 1];          /* "" for provision records */
	char field[CU_RETENTION_NAME_BYTES]; /* the field, for the two field kinds; else "" */
	int64_t since_us;                    /* when the period began (see why) */
	int64_t due_us;                      /* when it goes: due at now_us when due_us <= now_us */
	uint64_t count;                      /* provision records: how many; else 1 */
	char why[CU_RETENTION_WHY_BYTES];    /* the rule, its start and its length */
} cu_retention_item;

/* Called for each item; the item lives for the call.  Non-zero stops the walk (CU_OK). */
typedef int (*cu_retention_fn)(void *ud, const cu_retention_item *item);

/*
 * The plan at now_us: every item with a time — due (due_us <= now_us) or
 * later — member by member in id order, provision records last.  A member
 * whose erasure is due has that one item (the rest goes with the account).
 * Reads only; any handle of ctx's thread.
 */
CU_WARN_UNUSED cu_result cu_retention_plan(cu_ctx *ctx, int64_t now_us, cu_retention_fn fn,
                                           void *ud);

typedef struct cu_retention_report {
	uint64_t members;    /* members whose record was cut */
	uint64_t fields;     /* entries cut: dropped and ended fields */
	uint64_t notices;    /* inactive-account notices sent */
	uint64_t erasures;   /* members erased */
	uint64_t provisions; /* records of provision deleted */
	uint64_t later;      /* items not yet due */
} cu_retention_report;

/*
 * Carries out every item the plan at now_us says is due, and calls done
 * (may be NULL) with each after its transaction committed: exactly the
 * plan's due items, unless the data changed in between (each member is read
 * again inside its transaction and the rules applied to what is there).
 * Members go a page (256, in id order) to a transaction, each member in a
 * savepoint of its own (a transaction joins the caller's if there is one),
 * so a run costs one durable commit per page; provision records have one
 * of their own.  done is called once the page's transaction committed.  Only the operator (the command line, the
 * server's retention worker, actor name "retention") may:
 * CU_ERR_FORBIDDEN otherwise.  *rep (may be NULL) receives the counts; a
 * failure stops the run with what was done committed and counted.
 * cancelled (may be NULL) is asked before each member: non-zero ends the
 * run there (CU_OK; the rest waits for the next run), as does a non-zero
 * return of done.  Both get ud.
 */
CU_WARN_UNUSED cu_result cu_retention_run(cu_ctx *ctx, const cu_actor *actor, int64_t now_us,
                                          cu_retention_fn done, int (*cancelled)(void *ud),
                                          void *ud, cu_retention_report *rep);

#endif
