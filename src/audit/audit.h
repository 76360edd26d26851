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
 * One chain per writer.  Every entry belongs to a named chain
 * (cu_audit_entry.chain): its prev is the hash of the entry before it in
 * that chain, while seq numbers every entry of every chain, densely, in
 * commit order.  Entries of the chain "main" (every entry written before
 * chains had names, and every writer not given a name) hash as above; an
 * entry of another chain hashes with "cu-audit-v2" and its chain's name
 * (audit.c).  Each chain's head is kept in meta: "audit_head" for main,
 * "audit_head:NAME" for the others.  Several servers on one database give
 * each writer its own chain (custodian.conf `[audit] chain`), so no writer
 * follows another's head.  Writers that share a name share the chain: each
 * catches up with the others' entries under the store's write lock
 * (cu_audit_sync), as a command-line command does with a server's.
 *
 * Links join the chains: a link is an entry (action CU_AUDIT_LINK_ACTION)
 * whose reason is "chains=N heads=HEX", HEX the BLAKE2b-256 digest of the
 * recorded heads of every other chain at that point (cu_audit_link).  The
 * signed checkpoint the server makes after a link (audit/checkpoint.h)
 * therefore covers every chain, not only its own: an entry of another
 * chain removed, added or moved before the link makes the link disagree.
 * The verify walk recomputes each link's digest from the chains as walked.
 *
 * A cu_audit is not thread-safe: one writer owns it, and the order of its
 * chain is its commit order.
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

/* The most chains one store holds (a verify follows this many). */
#define CU_AUDIT_CHAINS_MAX 1024
/* The action of a link between chains. */
#define CU_AUDIT_LINK_ACTION "link"
/* A link's reason, "chains=N heads=HEX64", and its NUL. */
#define CU_AUDIT_LINK_REASON_MAX 96

/* Whether name can name a chain: [a-z0-9_-], 1..CU_AUDIT_CHAIN_MAX bytes. */
bool cu_audit_chain_valid(const char *name);

/*
 * Loads the head of chain `chain` (CU_ERR_INVALID_ARGUMENT if not a valid
 * name) and of all chains from the store.  Free with cu_audit_free().
 * cu_audit_open is cu_audit_open_chain(CU_AUDIT_CHAIN_MAIN).
 */
CU_WARN_UNUSED cu_result cu_audit_open_chain(cu_store *store, const char *chain, cu_audit **out);
CU_WARN_UNUSED cu_result cu_audit_open(cu_store *store, cu_audit **out);
/* The chain a's entries go to. */
const char *cu_audit_chain(const cu_audit *a);
/* NULL is a harmless no-op. */
void cu_audit_free(cu_audit *a);

/*
 * Catches up with entries another writer appended since (the command line
 * writing while a server runs, another server, on this chain or another).  Call it inside a write transaction, before
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
	uint64_t own_seq;
	unsigned char own_hash[CU_AUDIT_HASHBYTES];
	uint64_t appended;
} cu_audit_mark;
void cu_audit_mark_get(const cu_audit *a, cu_audit_mark *m);
void cu_audit_rollback_to(cu_audit *a, const cu_audit_mark *m);

/* The committed head as this handle last saw it: the last seq of all chains (0 when empty). */
uint64_t cu_audit_head_seq(const cu_audit *a);
/* Entries this handle appended and committed since it was opened. */
uint64_t cu_audit_appended(const cu_audit *a);

/*
 * Inside the caller's write transaction: when the store holds chains other
 * than a's, appends a link (above) to a's chain naming their recorded
 * heads; *linked (may be NULL) says whether it did.  Commit with
 * cu_audit_commit as any append.  CU_ERR_AUDIT_BROKEN if a recorded head
 * does not parse.
 */
CU_WARN_UNUSED cu_result cu_audit_link(cu_audit *a, cu_store *store, bool *linked);
/*
 * How many chains besides a's have a recorded head, in or out of a
 * transaction: whether a link is needed at all, asked before taking the
 * write lock for one.  CU_ERR_AUDIT_BROKEN as cu_audit_link.
 */
CU_WARN_UNUSED cu_result cu_audit_other_chains(const cu_audit *a, cu_store *store, size_t *n);

/* Computes e->hash from e->prev and the content (does not touch the store). */
void cu_audit_hash(cu_audit_entry *e);

typedef struct cu_audit_report {
	uint64_t checked;               /* entries whose hash verified */
	uint64_t chains;                /* writers' chains met (audit.h: one chain per writer) */
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
