/*
 * src/store/store.h — persistence.  The only module that speaks SQL.
 *
 * One interface, several backends: "sqlite:PATH" (or a bare PATH) is the
 * embedded default; a PostgreSQL backend ("postgresql://...") plugs in behind
 * the same functions.  Nothing here names SQLite: callers see rows of opaque
 * bytes (sealed fields, wrapped keys, blind indexes) and never plaintext.
 *
 * Schema changes are numbered migrations applied in order on open, each in
 * its own transaction; the schema version lives in the meta table.
 *
 * Transactions are explicit: cu_store_begin / commit / rollback.  Writes
 * outside a transaction are refused (CU_ERR_INTERNAL) — there is no
 * autocommit door.  The SQLite backend runs in WAL mode with
 * synchronous=FULL (a commit is durable when it returns), foreign keys on
 * and secure_delete on (erased rows are overwritten, not just unlinked).
 *
 * A cu_store is used by one thread at a time; open one per thread.
 */
#ifndef CUSTODIAN_STORE_H
#define CUSTODIAN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "store/audit_rows.h"
#include "util/result.h"
#include "vault/vault.h"

typedef struct cu_store cu_store;

/*
 * A member row.  `fields` is the packed, sealed record (see src/vault/record.h);
 * `present` says which policy fields hold a value (metadata, no values).
 * Rows read from the store own `fields` and `password_hash`: release with
 * cu_member_row_release().  Rows passed in are only read.
 */
typedef struct cu_member_row {
	char id[CU_ID_LEN + 1];
	uint32_t key_id;
	bool erased; /* crypto-shredded */
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES];
	bool has_email_bidx, has_phone_bidx;
	unsigned char email_bidx[CU_VAULT_BIDXBYTES];
	unsigned char phone_bidx[CU_VAULT_BIDXBYTES];
	unsigned char *fields;
	size_t fields_len;
	cu_fieldset present;
	char *password_hash; /* NULL when none */
	int64_t created_us, updated_us, erased_us;
} cu_member_row;

void cu_member_row_release(cu_member_row *row);

/*
 * Opens (creating if absent) and migrates.  On failure *out is NULL and
 * err holds one line.  Free with cu_store_close().
 */
CU_WARN_UNUSED cu_result cu_store_open(const char *url, cu_store **out, char *err, size_t errlen);
/* NULL is a harmless no-op. */
void cu_store_close(cu_store *s);

/* The schema version after migration. */
int cu_store_schema_version(cu_store *s);

CU_WARN_UNUSED cu_result cu_store_begin(cu_store *s);
CU_WARN_UNUSED cu_result cu_store_commit(cu_store *s);
/* Always leaves the store outside a transaction. */
void cu_store_rollback(cu_store *s);
bool cu_store_in_transaction(const cu_store *s);

/*
 * A read snapshot: every read until cu_store_snapshot_end() sees the same
 * committed state.  Audit verification needs it so that a writer on another
 * connection cannot make a chain look cut or extended half-way through a
 * walk; the server takes one per request (authentication and the handler's
 * lookups) and the door (access.h) one per decision, so that their lookups
 * are one read transaction, not one each.  A snapshot begun inside another is
 * the same snapshot: each begin is matched by one end, and the outermost end
 * closes it.  Writes are refused meanwhile.  Not inside a transaction (a
 * transaction is already a consistent view): CU_ERR_INTERNAL.
 */
CU_WARN_UNUSED cu_result cu_store_snapshot_begin(cu_store *s);
void cu_store_snapshot_end(cu_store *s);
/*
 * One consistent view for a few reads: a snapshot, unless the caller's
 * transaction already is one.  *held is true when a snapshot was begun,
 * which the caller ends with cu_store_snapshot_end(); false inside a
 * transaction and on failure.
 */
CU_WARN_UNUSED cu_result cu_store_view_begin(cu_store *s, bool *held);
/*
 * A few lookups grouped for speed, not for one view: cu_store_view_begin
 * where one read transaction costs less than one per lookup (SQLite: the
 * reader's page cache, which a commit elsewhere empties, refilled once),
 * and nothing where a BEGIN and its end are two more round trips
 * (PostgreSQL: each lookup is then its own statement-level snapshot).  The
 * server's per-request lookups and the door's use it; whatever needs one
 * view (audit verification, an export, a statistic) uses cu_store_view_begin.
 * *held as there.
 */
CU_WARN_UNUSED cu_result cu_store_lookups_begin(cu_store *s, bool *held);

/*
 * Savepoints: a part of a transaction that can be undone alone, so one
 * failed step (a duplicate registration in a batch) does not doom the
 * others.  They nest up to CU_STORE_SAVEPOINTS_MAX deep, inside a
 * transaction only (else CU_ERR_INTERNAL).  Rollback undoes the writes since
 * the matching savepoint and ends it; release keeps them and ends it.
 * Commit and rollback of the transaction end every open savepoint.
 */
#define CU_STORE_SAVEPOINTS_MAX 8
CU_WARN_UNUSED cu_result cu_store_savepoint(cu_store *s);
CU_WARN_UNUSED cu_result cu_store_savepoint_release(cu_store *s);
/* On failure the whole transaction is rolled back (the store is then outside it). */
CU_WARN_UNUSED cu_result cu_store_savepoint_rollback(cu_store *s);

/* Members.  Insert refuses an e-mail blind index already held (CU_ERR_CONFLICT). */
CU_WARN_UNUSED cu_result cu_store_member_insert(cu_store *s, const cu_member_row *row);
/* CU_ERR_NOT_FOUND if no such id.  An erased member is returned with erased=true. */
CU_WARN_UNUSED cu_result cu_store_member_get(cu_store *s, const char *id, cu_member_row *out);
/* Replaces fields, present, blind indexes, password hash and updated time. */
CU_WARN_UNUSED cu_result cu_store_member_update(cu_store *s, const cu_member_row *row);
/*
 * Crypto-shreds: drops the wrapped key, the sealed fields, the blind
 * indexes and the password hash; keeps the id and the erasure time.
 */
CU_WARN_UNUSED cu_result cu_store_member_erase(cu_store *s, const char *id, int64_t when_us);
/*
 * Finds live members by blind index.  kind is "email" or "phone".  Writes
 * up to max ids into ids and their count to *n.  *n = 0 when none.
 */
CU_WARN_UNUSED cu_result cu_store_member_find(cu_store *s, const char *kind,
                                              const unsigned char bidx[CU_VAULT_BIDXBYTES],
                                              char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n);
/* Number of member rows (erased included). */
CU_WARN_UNUSED cu_result cu_store_member_count(cu_store *s, uint64_t *n);
/*
 * Live (not erased) member ids in id order, from after `after` ("" = from
 * the start), at most max into ids; *n gets how many.  Paging lets a caller
 * write between pages on the same connection.
 */
CU_WARN_UNUSED cu_result cu_store_member_ids(cu_store *s, const char *after,
                                             char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n);

/*
 * Every member's key, erased ones included (keys rotation, erasure replay):
 * the id, the key id its data key is wrapped under, the wrapped key (none
 * once erased).  Paged by id like cu_store_member_ids.
 */
typedef struct cu_member_key {
	char id[CU_ID_LEN + 1];
	uint32_t key_id;
	bool erased, has_wrapped;
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES];
} cu_member_key;
CU_WARN_UNUSED cu_result cu_store_member_keys(cu_store *s, const char *after, cu_member_key *keys,
                                              size_t max, size_t *n);
/*
 * Replaces a live member's wrapped key if it still is `old` (nobody wrote
 * it since it was read): CU_ERR_CONFLICT otherwise.  In a transaction.
 */
CU_WARN_UNUSED cu_result cu_store_member_rewrap(cu_store *s, const char *id,
                                                const unsigned char old[CU_VAULT_WRAPPEDBYTES],
                                                const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
                                                uint32_t key_id);

/* Audit rows.  Append writes e as given (seq, prev, hash already set). */
CU_WARN_UNUSED cu_result cu_store_audit_append(cu_store *s, const cu_audit_entry *e);
/* Last seq and hash; seq 0 and zero hash when empty. */
CU_WARN_UNUSED cu_result cu_store_audit_last(cu_store *s, uint64_t *seq,
                                             unsigned char hash[CU_AUDIT_HASHBYTES]);
/* The last entry of one writer's chain (cu_audit_entry.chain); seq 0 and zero hash when none. */
CU_WARN_UNUSED cu_result cu_store_audit_chain_last(cu_store *s, const char *chain, uint64_t *seq,
                                                   unsigned char hash[CU_AUDIT_HASHBYTES]);
CU_WARN_UNUSED cu_result cu_store_audit_count(cu_store *s, uint64_t *n);
/*
 * Calls fn for each entry with seq >= from (in seq order), or only those about
 * `member` when member is non-NULL.  The entry's strings are valid during
 * the call only.  fn returns non-zero to stop early.
 */
typedef int (*cu_store_audit_fn)(void *ud, const cu_audit_entry *e);
CU_WARN_UNUSED cu_result cu_store_audit_scan(cu_store *s, uint64_t from, const char *member,
                                             cu_store_audit_fn fn, void *ud);
/*
 * The per-member audit index.  Appending an entry writes only the audit
 * row, whose key (seq) appends.  A member's entries (cu_store_audit_scan
 * with a member) are found through an index of (member, seq) filled in bulk
 * up to a high-water mark, then by a scan of the entries after the mark
 * (the tail) by seq.  Results and their order do not depend on the mark.
 *
 * cu_store_audit_index indexes the whole tail in one pass sorted by the
 * index's key (so each of its pages is written once for all the tail's
 * entries on it) and moves the mark to the last entry, inside the caller's
 * transaction: both commit or neither.  *mark (may be NULL) gets the mark.
 *
 * Who calls it: by default a commit that appended entries indexes the tail
 * just before COMMIT (the command line; an import indexes each batch, sorted,
 * at its commit), and a failure there fails the commit.  A handle set to
 * defer (cu_store_audit_index_defer; the server's writer) leaves that to its
 * owner, off the request path.  In both modes an append that finds more than
 * CU_STORE_AUDIT_TAIL_MAX entries after the mark indexes them then, so the
 * tail scan stays short even when the indexer falls behind.
 */
#define CU_STORE_AUDIT_TAIL_MAX 16384
CU_WARN_UNUSED cu_result cu_store_audit_index(cu_store *s, uint64_t *mark);
/* Whether commits leave the tail to the caller (false when the store is opened). */
void cu_store_audit_index_defer(cu_store *s, bool defer);
/*
 * The mark as this handle last read or moved it (0 when it has not): never
 * above the stored one, which another process may have moved since.  A
 * hint, e.g. for deciding when the tail is worth indexing.  NULL -> 0.
 */
uint64_t cu_store_audit_indexed(const cu_store *s);

/* The mark as stored (0 when none: every entry is tail). */
CU_WARN_UNUSED cu_result cu_store_audit_mark(cu_store *s, uint64_t *mark);
/*
 * Calls fn for each per-member index row with seq <= upto, in no promised
 * order (fn returns non-zero to stop; no nesting, as for the audit scan):
 * cu_audit_verify sums a keyed hash of them to compare with the entries.
 */
typedef int (*cu_store_audit_index_fn)(void *ud, const char *member, uint64_t seq);
CU_WARN_UNUSED cu_result cu_store_audit_index_scan(cu_store *s, uint64_t upto,
                                                   cu_store_audit_index_fn fn, void *ud);

/*
 * Whether the per-member index agrees with the audit rows up to its mark
 * (for cu_audit_verify, to name the first disagreement): `missing` entries about a member (member <> '')
 * at or below the mark have no index row (a read hidden from that member's
 * access log), the lowest being first_missing; `extra` index rows at or
 * below the mark name no such entry, the lowest first_extra.  Index rows
 * above the mark are never read and not counted.
 */
typedef struct cu_audit_index_check {
	uint64_t mark;
	uint64_t missing, first_missing;
	uint64_t extra, first_extra;
} cu_audit_index_check;
CU_WARN_UNUSED cu_result cu_store_audit_index_check(cu_store *s, cu_audit_index_check *out);

/* The stored hash of entry seq; *found false (and hash zeros) when there is no such entry. */
CU_WARN_UNUSED cu_result cu_store_audit_hash_at(cu_store *s, uint64_t seq,
                                                unsigned char hash[CU_AUDIT_HASHBYTES],
                                                bool *found);

/*
 * Signed checkpoints of the audit head (audit/checkpoint.h), a table of
 * their own: insert writes cp as given (inside a transaction); last reads
 * the one with the highest seq (*found false when none); scan calls fn for
 * each in the order written (fn returns non-zero to stop; no nesting, as
 * for the audit scan).  Rows are never updated or deleted.
 */
CU_WARN_UNUSED cu_result cu_store_audit_checkpoint_insert(cu_store *s,
                                                          const cu_audit_checkpoint *cp);
CU_WARN_UNUSED cu_result cu_store_audit_checkpoint_last(cu_store *s, cu_audit_checkpoint *out,
                                                        bool *found);
typedef int (*cu_store_audit_checkpoint_fn)(void *ud, const cu_audit_checkpoint *cp);
CU_WARN_UNUSED cu_result cu_store_audit_checkpoint_scan(cu_store *s,
                                                        cu_store_audit_checkpoint_fn fn, void *ud);

/*
 * Tokens: the credentials of staff, analysts, services, subcontractors,
 * officers and admins (see tokens.h).  A row holds the BLAKE2b-256 hash of
 * the secret, never the secret.  Everything is inline: a row owns no
 * memory and needs no release.
 */
#define CU_STORE_HASHBYTES        32
#define CU_STORE_TOKEN_NAME_BYTES 256 /* 64 code points of UTF-8, at most 4 bytes each */

typedef struct cu_token_row {
	char id[CU_ID_LEN + 1];                 /* random, public: names the token */
	unsigned char hash[CU_STORE_HASHBYTES]; /* BLAKE2b-256 of the secret */
	cu_role role;
	char name[CU_STORE_TOKEN_NAME_BYTES + 1]; /* who or what holds it */
	int64_t created_us;
	int64_t expires_us; /* 0 = never */
	int64_t revoked_us; /* 0 = not revoked */
} cu_token_row;

/* Refuses an id or hash already held (CU_ERR_CONFLICT). */
CU_WARN_UNUSED cu_result cu_store_token_insert(cu_store *s, const cu_token_row *row);
/*
 * The token whose secret hashes to `hash`, revoked and expired ones
 * included (the caller decides).  CU_ERR_NOT_FOUND if none.
 */
CU_WARN_UNUSED cu_result cu_store_token_get_by_hash(cu_store *s,
                                                    const unsigned char hash[CU_STORE_HASHBYTES],
                                                    cu_token_row *out);
/* The token with this id; CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_token_get(cu_store *s, const char *id, cu_token_row *out);
/*
 * Calls fn for each token in creation order.  The row is valid during the
 * call only.  fn returns non-zero to stop early.  Like the audit scan, a
 * callback may not start another scan (CU_ERR_INTERNAL).
 */
typedef int (*cu_store_token_fn)(void *ud, const cu_token_row *row);
CU_WARN_UNUSED cu_result cu_store_token_list(cu_store *s, cu_store_token_fn fn, void *ud);
/*
 * Marks a token revoked at when_us.  CU_ERR_NOT_FOUND if no such id.
 * Revoking twice is harmless and keeps the first time.
 */
CU_WARN_UNUSED cu_result cu_store_token_revoke(cu_store *s, const char *id, int64_t when_us);

/*
 * Sessions: a member logged in (see sessions.h).  The row holds hashes of
 * the session secret and of its CSRF token, never either secret.  Inline,
 * like a token row: nothing to release.  `member` must name a member row.
 */
typedef struct cu_session_row {
	unsigned char hash[CU_STORE_HASHBYTES]; /* BLAKE2b-256 of the session secret */
	char member[CU_ID_LEN + 1];
	unsigned char csrf_hash[CU_STORE_HASHBYTES]; /* BLAKE2b-256 of the CSRF token */
	int64_t created_us;
	int64_t expires_us;
} cu_session_row;

/* Refuses a hash already held (CU_ERR_CONFLICT). */
CU_WARN_UNUSED cu_result cu_store_session_insert(cu_store *s, const cu_session_row *row);
/* Expired sessions included (the caller decides); CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_session_get(cu_store *s,
                                              const unsigned char hash[CU_STORE_HASHBYTES],
                                              cu_session_row *out);
/* CU_ERR_NOT_FOUND if no session has this hash. */
CU_WARN_UNUSED cu_result cu_store_session_delete(cu_store *s,
                                                 const unsigned char hash[CU_STORE_HASHBYTES]);
/*
 * Deletes every session of `member` (erasure, "log out everywhere").
 * *n (may be NULL) receives how many; none is not an error.
 */
CU_WARN_UNUSED cu_result cu_store_session_delete_member(cu_store *s, const char *member,
                                                        uint64_t *n);
/* Deletes every session with expires_us <= now_us; *n (may be NULL) as above. */
CU_WARN_UNUSED cu_result cu_store_session_purge_expired(cu_store *s, int64_t now_us, uint64_t *n);

/* Small key/value metadata (schema version, audit head, policy digest). */
CU_WARN_UNUSED cu_result cu_store_meta_get(cu_store *s, const char *key, char *val, size_t vallen,
                                           bool *found);
CU_WARN_UNUSED cu_result cu_store_meta_set(cu_store *s, const char *key, const char *val);
/*
 * Calls fn for every meta key that begins with `prefix` (the audit chains'
 * heads), with a value set at commit in place of the stored one; in no
 * particular order.  fn returns non-zero to stop.  The strings are valid
 * during the call only.
 */
typedef int (*cu_store_meta_fn)(void *ud, const char *key, const char *val);
CU_WARN_UNUSED cu_result cu_store_meta_scan(cu_store *s, const char *prefix, cu_store_meta_fn fn,
                                            void *ud);

/*
 * Flushes the write-ahead log into the main file and truncates it, so that
 * pages of erased rows do not linger in the log.  Outside a transaction.
 */
CU_WARN_UNUSED cu_result cu_store_checkpoint(cu_store *s);

/*
 * Checkpoints off the committing connection.  In WAL mode SQLite by
 * default checkpoints inside the COMMIT that takes the log past 1000
 * pages, so one writer's commit now and then also copies every page of the
 * log into the main file: a long pause for every job of that batch.  A
 * server raises that threshold on its writing connection to a backstop and
 * runs cu_store_checkpoint_passive from another connection of its own.
 *
 * Durability is unchanged: with WAL and synchronous=FULL a commit is
 * durable when its frames in the log are synced, which COMMIT still does;
 * a checkpoint only moves pages that are already durable into the main
 * file (and is itself synced before the log is reused).  What changes is
 * only who pays for that copy.  If nobody checkpoints the log grows; it is
 * never lost.
 */

/* SQLite's default threshold, in log pages (4 KiB each here). */
#define CU_STORE_AUTOCHECKPOINT_DEFAULT 1000u
/*
 * on = false: this handle never checkpoints by itself (wal_autocheckpoint
 * = 0); on = true: SQLite's default.  Concerns this handle only, not the
 * others open on the same database.  Outside a transaction.
 */
CU_WARN_UNUSED cu_result cu_store_set_autocheckpoint(cu_store *s, bool on);
/*
 * The same with a threshold: this handle checkpoints (PASSIVE, inside the
 * COMMIT) only when that commit takes the log past pages; 0 = never.  A
 * high threshold is a backstop for a handle whose checkpoints another
 * handle normally does: PASSIVE passes from elsewhere copy the log but,
 * under a steady stream of commits, none begins just when all of it is
 * copied, so the log is never started over and only grows.  The writer's
 * own checkpoint then copies only what the other passes have not, and its
 * next transaction starts the log from the beginning.
 */
CU_WARN_UNUSED cu_result cu_store_set_autocheckpoint_pages(cu_store *s, unsigned pages);
/*
 * The most memory this handle's page cache may hold, in KiB (SQLite's
 * cache_size; a connection opened here starts with SQLite's 2000).  For a
 * handle that only reads: whenever another handle has committed, SQLite
 * empties a reader's cache at its next read, so a small one costs a reader
 * nothing between requests and bounds what one long scan (an export of a
 * long access log) leaves held.  A no-op on PostgreSQL, whose cache is the
 * server's.  Outside a transaction; kib in CU_STORE_CACHE_KIB_MIN..MAX.
 */
#define CU_STORE_CACHE_KIB_MIN 64u
#define CU_STORE_CACHE_KIB_MAX (1024u * 1024u)
CU_WARN_UNUSED cu_result cu_store_set_cache_kib(cu_store *s, unsigned kib);
/*
 * One PASSIVE checkpoint: copies as many log frames into the main file as no
 * reader's snapshot still needs, without waiting for (or blocking) readers
 * or the writer; a later pass copies the rest.  Another checkpoint running
 * at the same moment is not an error (nothing is done).  If the log has
 * been copied entirely when a commit begins, that commit starts it again
 * from the beginning and the log file stops growing; under a steady stream
 * of commits that moment may never come (see above).  *log_frames receives
 * the frames in the log, *checkpointed the frames now in the main file
 * (either may be NULL; both -1 when the store keeps no log).  Outside a transaction.
 */
CU_WARN_UNUSED cu_result cu_store_checkpoint_passive(cu_store *s, int *log_frames,
                                                     int *checkpointed);

#endif
