/*
 * src/audit/audit.h — the append-only, hash-chained audit log.
 *
 * Every decision of the access door, every registration, change and erasure
 * leaves one entry, written in the same store transaction as the change or
 * read it records.  Entries name who (actor, role), what (action, field
 * names, purpose, case), whom (member id), the decision and its reason —
 * never a personal value.
 *
 * Chain: entry n has
 *     hash_n = BLAKE2b-256( "cu-audit-v1" | prev = hash_{n-1} | encode(entry_n) )
 * where encode() is a fixed, length-prefixed encoding of seq, time and every
 * text field (see cu_audit_hash).  Entry 1's prev is 32 zero bytes.  Editing,
 * deleting, inserting or reordering any entry breaks the chain at that
 * entry; cu_audit_verify() names the first broken one.  The head (last seq
 * and hash) is also kept in the store's meta table, so cutting entries off
 * the end is caught too — unless the meta head is rewritten with them.
 * Someone who can rewrite the whole database can rewrite the whole chain:
 * signed checkpoints of the head, kept in and outside the database,
 * catch both (audit/checkpoint.h).
 *
 * One chain per writer.  A cu_audit is not thread-safe: the process's one
 * writer owns it, and the order of the chain is the commit order.
 */
#ifndef CUSTODIAN_AUDIT_H
#define CUSTODIAN_AUDIT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/audit_rows.h"
#include "util/result.h"

typedef struct cu_store cu_store;
typedef struct cu_audit cu_audit;

/* CU_AUDIT_HASHBYTES and cu_audit_entry, the row the store keeps: store/audit_rows.h. */

/*
 * What an entry records in place of a value a client typed into an id
 * position (a member id, a purpose, a case reference) that is not a
 * well-formed id or name: that it was malformed, never the value.  Audit
 * entries cannot be erased, so a refused request must not leave an e-mail
 * address typed where an id belongs in them.
 */
#define CU_AUDIT_MALFORMED "(malformed)"
/* Why a chain is broken, as cu_audit_report says it ("hash mismatch"), and its NUL. */
#define CU_AUDIT_WHAT_BYTES 160

/* Loads the chain head from the store.  Free with cu_audit_free(). */
CU_WARN_UNUSED cu_result cu_audit_open(cu_store *store, cu_audit **out);
/* NULL is a harmless no-op. */
void cu_audit_free(cu_audit *a);

/*
 * Catches up with entries another process appended since (the command line
 * writing while a server runs).  Call it inside a write transaction, before
 * the first append: the store's write lock then guarantees nobody appends
 * between the check and the entries that follow.  CU_ERR_AUDIT_BROKEN if
 * the store's head does not agree with its last entry.
 */
CU_WARN_UNUSED cu_result cu_audit_sync(cu_audit *a, cu_store *store);

/*
 * Appends `e` inside the caller's open store transaction: assigns seq, time
 * (if 0), prev and hash, and writes the row.  Before anything is hashed,
 * the writer of every entry, whoever built it, replaces with
 * CU_AUDIT_MALFORMED (and points e's member / purpose / case_ref at it):
 *   - a member that is neither "" nor a well-formed id (cu_vault_id_well_formed);
 *   - a purpose that is neither "" nor of a policy id's form ([a-z][a-z0-9_]*,
 *     at most CU_POLICY_ID_MAX) nor "provision:" and a registry id
 *     ([a-z0-9_-], at most CU_REGISTRY_ID_MAX);
 *   - a case reference that is neither "" nor well-formed (cu_case_ref_problem, case_ref.h).
 * (Whether a purpose of that form is one the policy knows is the door's
 * check, access.h: the writer does not know the policy.)  The new head is pending until
 * cu_audit_commit() (after the store committed) or cu_audit_rollback().
 * Fails closed: if this fails, the caller must roll back its change.
 */
CU_WARN_UNUSED cu_result cu_audit_append(cu_audit *a, cu_store *store, cu_audit_entry *e);
void cu_audit_commit(cu_audit *a);
void cu_audit_rollback(cu_audit *a);

/*
 * Marks for savepoints: the pending head at a point inside a transaction,
 * and a return to it when the store rolls back to the matching savepoint.
 */
typedef struct cu_audit_mark {
	uint64_t seq;
	unsigned char hash[CU_AUDIT_HASHBYTES];
} cu_audit_mark;
void cu_audit_mark_get(const cu_audit *a, cu_audit_mark *m);
void cu_audit_rollback_to(cu_audit *a, const cu_audit_mark *m);

/* The committed head: last seq (0 when empty) and its hash. */
uint64_t cu_audit_head_seq(const cu_audit *a);

/* Computes e->hash from e->prev and the content (does not touch the store). */
void cu_audit_hash(cu_audit_entry *e);

typedef struct cu_audit_report {
	uint64_t checked;               /* entries whose hash verified */
	uint64_t broken_seq;            /* first broken entry (0 if intact) */
	char what[CU_AUDIT_WHAT_BYTES]; /* why it is broken, e.g. "hash mismatch" */
} cu_audit_report;

/*
 * Walks the whole chain in seq order.  CU_OK when intact (report->checked
 * entries), CU_ERR_AUDIT_BROKEN with broken_seq/what otherwise.  `progress`
 * (may be NULL) is called now and then with the count so far.  The hashing
 * runs on a helper thread that the call starts and joins; the store and the
 * callback are used on the caller's thread only, and memory stays about
 * 1 MiB whatever the chain's length.  Inside the caller's transaction or
 * read snapshot it checks that view.
 *
 * Then it checks that the per-member index (store.h: cu_store_audit_index)
 * agrees with the entries up to its mark, and that the mark is not past the
 * last entry (what = which, broken_seq = the first such entry).
 *
 * This cannot see entries cut off the end when the head in meta was
 * rewritten to match: cu_audit_verify_checkpoints (audit/checkpoint.h)
 * checks the chain against signed checkpoints kept outside the database.
 */
typedef void (*cu_audit_progress_fn)(void *ud, uint64_t done, uint64_t total);
CU_WARN_UNUSED cu_result cu_audit_verify(cu_store *store, cu_audit_report *report,
                                         cu_audit_progress_fn progress, void *ud);

#endif
