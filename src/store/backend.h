/*
 * src/store/backend.h — the store's backend interface (private).
 *
 * store.c is a thin dispatcher: it parses the url, checks arguments and the
 * transaction rules that every backend shares (no write outside a
 * transaction, no nested transaction), then calls the backend through the
 * ops table below.  A backend only speaks its own SQL; it may assume its
 * arguments were checked.
 *
 * A backend's handle starts with a `struct cu_store` (the shared part), so
 * one allocation holds both and the dispatcher can read the shared state:
 *
 *     struct sqlite_store { struct cu_store base; sqlite3 *db; ... };
 *
 * Adding PostgreSQL means writing src/store_pg.c with cu_store_pg_open()
 * and a `cu_store_ops` table, and listing it in store.c's backends table.
 */
#ifndef CU_STORE_IMPL_H
#define CU_STORE_IMPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"

/* Which blind index cu_store_member_find() looks in. */
enum cu_store_bidx_kind { CU_STORE_BIDX_EMAIL, CU_STORE_BIDX_PHONE };

typedef struct cu_store_ops {
	const char *name;
	/* Frees everything, rolling back any open transaction. */
	void (*close)(cu_store *s);

	cu_result (*begin)(cu_store *s);
	/* On failure the backend rolls back: the store is outside a transaction. */
	cu_result (*commit)(cu_store *s);
	void (*rollback)(cu_store *s);
	/* Nested savepoints inside a transaction; rollback also releases. */
	cu_result (*savepoint)(cu_store *s);
	cu_result (*savepoint_release)(cu_store *s);
	cu_result (*savepoint_rollback)(cu_store *s);
	/* A read-only transaction: one consistent view for several reads. */
	cu_result (*snapshot_begin)(cu_store *s);
	void (*snapshot_end)(cu_store *s);
	/*
	 * Whether grouping lookups in a snapshot costs more than it saves (its
	 * BEGIN and end are round trips): cu_store_lookups_begin then groups none.
	 */
	bool snapshot_per_statement;

	cu_result (*member_insert)(cu_store *s, const cu_member_row *row);
	cu_result (*member_get)(cu_store *s, const char *id, cu_member_row *out);
	cu_result (*member_update)(cu_store *s, const cu_member_row *row);
	cu_result (*member_erase)(cu_store *s, const char *id, int64_t when_us);
	cu_result (*member_find)(cu_store *s, enum cu_store_bidx_kind kind,
	                         const unsigned char bidx[CU_VAULT_BIDXBYTES],
	                         char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n);
	cu_result (*member_count)(cu_store *s, uint64_t *n);
	cu_result (*member_ids)(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
	                        size_t max, size_t *n);
	cu_result (*member_keys)(cu_store *s, const char *after, cu_member_key *keys, size_t max,
	                         size_t *n);
	cu_result (*member_rewrap)(cu_store *s, const char *id,
	                           const unsigned char old[CU_VAULT_WRAPPEDBYTES],
	                           const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
	                           uint32_t key_id);

	cu_result (*audit_append)(cu_store *s, const cu_audit_entry *e);
	cu_result (*audit_last)(cu_store *s, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES]);
	cu_result (*audit_chain_last)(cu_store *s, const char *chain, uint64_t *seq,
	                              unsigned char hash[CU_AUDIT_HASHBYTES]);
	cu_result (*audit_count)(cu_store *s, uint64_t *n);
	cu_result (*audit_scan)(cu_store *s, uint64_t from, const char *member,
	                        cu_store_audit_fn fn, void *ud);
	cu_result (*audit_hash_at)(cu_store *s, uint64_t seq,
	                           unsigned char hash[CU_AUDIT_HASHBYTES], bool *found);
	/* The per-member index's mark as stored; index: the tail in bulk, *mark the new mark. */
	cu_result (*audit_mark)(cu_store *s, uint64_t *mark);
	cu_result (*audit_index)(cu_store *s, uint64_t *mark);
	cu_result (*audit_index_check)(cu_store *s, cu_audit_index_check *out);
	cu_result (*audit_index_scan)(cu_store *s, uint64_t upto, cu_store_audit_index_fn fn,
	                              void *ud);
	cu_result (*audit_checkpoint_insert)(cu_store *s, const cu_audit_checkpoint *cp);
	cu_result (*audit_checkpoint_last)(cu_store *s, cu_audit_checkpoint *out, bool *found);
	cu_result (*audit_checkpoint_scan)(cu_store *s, cu_store_audit_checkpoint_fn fn, void *ud);

	cu_result (*token_insert)(cu_store *s, const cu_token_row *row);
	cu_result (*token_get_by_hash)(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
	                               cu_token_row *out);
	cu_result (*token_get)(cu_store *s, const char *id, cu_token_row *out);
	cu_result (*token_list)(cu_store *s, cu_store_token_fn fn, void *ud);
	cu_result (*token_revoke)(cu_store *s, const char *id, int64_t when_us);

	cu_result (*session_insert)(cu_store *s, const cu_session_row *row);
	cu_result (*session_get)(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
	                         cu_session_row *out);
	cu_result (*session_delete)(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES]);
	/* *n is never NULL here: the dispatcher passes its own counter. */
	cu_result (*session_delete_member)(cu_store *s, const char *member, uint64_t *n);
	cu_result (*session_purge_expired)(cu_store *s, int64_t now_us, uint64_t *n);

	/* meta_get: CU_ERR_TOO_LARGE if the value does not fit in vallen. */
	cu_result (*meta_get)(cu_store *s, const char *key, char *val, size_t vallen, bool *found);
	cu_result (*meta_set)(cu_store *s, const char *key, const char *val);
	cu_result (*meta_scan)(cu_store *s, const char *prefix, cu_store_meta_fn fn, void *ud);

	cu_result (*checkpoint)(cu_store *s);
	/* pages: 0 = never. */
	cu_result (*set_autocheckpoint)(cu_store *s, unsigned pages);
	/* kib: checked by the dispatcher (CU_STORE_CACHE_KIB_MIN..MAX). */
	cu_result (*set_cache_kib)(cu_store *s, unsigned kib);
	/* *log_frames and *checkpointed are never NULL here: the dispatcher passes its own. */
	cu_result (*checkpoint_passive)(cu_store *s, int *log_frames, int *checkpointed);

	/*
	 * Later areas of the store, each an ops table of its own declared in
	 * src/store_<area>.h, so adding one does not grow this table.  NULL
	 * until a backend implements the area (the dispatcher then answers
	 * CU_ERR_INTERNAL).
	 */
	const struct cu_store_consent_ops *consent;
	const struct cu_store_notify_ops *notify;
	const struct cu_store_diary_ops *diary;
	const struct cu_store_third_party_ops *third_party;
	const struct cu_store_subcontractor_ops *subcontractor;
	const struct cu_store_request_ops *request;
	const struct cu_store_backup_ops *backup;
	const struct cu_store_beacon_ops *beacon;
	const struct cu_store_stats_ops *stats;
	const struct cu_store_limits_ops *limits;
} cu_store_ops;

#define CU_STORE_LATER_KEY_MAX 32
#define CU_STORE_LATER_VAL_MAX 128

/* The part of every backend's handle that the dispatcher owns. */
struct cu_store {
	const cu_store_ops *ops;
	int schema_version; /* set by the backend's open */
	bool in_tx;         /* inside cu_store_begin .. commit/rollback */
	bool in_snapshot;   /* inside cu_store_snapshot_begin .. end */
	int snapshot_inner; /* snapshots begun inside it, each ended before it */
	bool scanning;      /* an audit or token scan is running (no nesting) */
	/* The per-member audit index (cu_store_audit_index). */
	bool audit_defer;      /* commits leave the tail to the caller */
	bool audit_appended;   /* this transaction appended entries */
	bool audit_mark_known; /* audit_mark was read or moved in a transaction that stands */
	uint64_t audit_mark;   /* the mark as this handle last saw it (never above the real one) */
	/* A meta value to write just before COMMIT (cu_store_meta_set_at_commit). */
	bool later;
	char later_key[CU_STORE_LATER_KEY_MAX];
	char later_val[CU_STORE_LATER_VAL_MAX];
	/* Open savepoints, each with the pending meta value as it stood. */
	int sp_depth;
	struct {
		bool later;
		char later_key[CU_STORE_LATER_KEY_MAX];
		char later_val[CU_STORE_LATER_VAL_MAX];
	} sp_saved[CU_STORE_SAVEPOINTS_MAX];
};

/*
 * The preambles of the area dispatchers (store_<area>.c), given the area's
 * ops table (NULL when the backend has none): a NULL store is an argument
 * error, a backend without the area an internal one.  Writes also need an
 * open transaction that is not a snapshot.
 */
/* An id of 1..CU_ID_LEN bytes: a longer one cannot name anything (an argument error). */
static inline bool cu_store_valid_id(const char *id)
{
	size_t n;

	if (!id)
		return false;
	n = strnlen(id, CU_ID_LEN + 1);
	return n > 0 && n <= CU_ID_LEN;
}

static inline cu_result cu_store_area_readable(const cu_store *s, const void *ops)
{
	if (!ops)
		return s ? CU_ERR_INTERNAL : CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

static inline cu_result cu_store_area_writable(const cu_store *s, const void *ops)
{
	if (!ops)
		return s ? CU_ERR_INTERNAL : CU_ERR_INVALID_ARGUMENT;
	if (!s->in_tx || s->in_snapshot)
		return CU_ERR_INTERNAL;
	return CU_OK;
}

/*
 * A backend's open.  `target` is what follows the scheme ("sqlite:") or the
 * whole url for backends that want it.  On failure *out is NULL and err
 * holds one line (no personal data: paths and library messages only).
 */
typedef cu_result (*cu_store_open_fn)(const char *target, cu_store **out, char *err, size_t errlen);

cu_result cu_store_sqlite_open(const char *path, cu_store **out, char *err, size_t errlen);


/*
 * Sets a meta value as of the end of the current transaction: it is
 * written once, just before COMMIT, however often it was set, and reads in
 * the transaction already see it.  The audit head changes with every entry;
 * writing it per entry cost a fifth of an append.  If that final write
 * fails, the commit fails and rolls back (fail closed).  One key at a time:
 * setting another key writes the pending one first.  A plain
 * cu_store_meta_set() of the same key cancels the pending value.
 * Key under CU_STORE_LATER_KEY_MAX bytes, value under
 * CU_STORE_LATER_VAL_MAX (else CU_ERR_TOO_LARGE).
 */
CU_WARN_UNUSED cu_result cu_store_meta_set_at_commit(cu_store *s, const char *key, const char *val);

/* A registry id or a row id that could never have been stored names nothing. */
static inline bool cu_store_id_fits(const char *id, size_t max)
{
	return id && *id && strlen(id) <= max;
}

#endif
