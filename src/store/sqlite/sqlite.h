/*
 * src/store/sqlite/sqlite.h — the SQLite backend's insides, shared by its files
 * (private).
 *
 * store/sqlite/sqlite.c holds the connection, the migrations and the core tables
 * (members, audit, meta, tokens, sessions).  Each later area of the store
 * (consents, notifications, ...) lives in its own store/sqlite/<area>.c,
 * which prepares its statements on first use in a slot range of its own
 * (below), so areas are added without touching one another.
 */
#ifndef CU_STORE_SQLITE_H
#define CU_STORE_SQLITE_H

#include <sqlite3.h>

#include "store/backend.h"

#define CU_SQLITE_LAZY_MAX 256

/* The meta key of the per-member audit index's high-water mark (store.h: cu_store_audit_index). */
#define CU_SQLITE_AUDIT_MARK "audit_member_indexed"

/* Statement slots, 32 per area. */
enum {
	CU_SQLITE_SLOTS_CONSENT = 0,
	CU_SQLITE_SLOTS_NOTIFY = 32,
	CU_SQLITE_SLOTS_DIARY = 64,
	CU_SQLITE_SLOTS_THIRD_PARTIES = 96,
	CU_SQLITE_SLOTS_SUBCONTRACTORS = 112,
	CU_SQLITE_SLOTS_REQUESTS = 128,
	CU_SQLITE_SLOTS_LIMITS = 160, /* the first 8 of the spare */
	CU_SQLITE_SLOTS_SPARE = 168,
	CU_SQLITE_SLOTS_STATS = 192,  /* the last 32 of the spare */
	CU_SQLITE_SLOTS_BEACON = 224, /* the 16 before backup's */
	CU_SQLITE_SLOTS_BACKUP = 240, /* the last 16 */
};

struct sqlite_store {
	struct cu_store base;
	sqlite3 *db;
	sqlite3_stmt *lazy[CU_SQLITE_LAZY_MAX]; /* areas' statements, prepared on first use */
	sqlite3_stmt *st[];                     /* the core's, prepared at open */
};

static inline struct sqlite_store *cu_sqlite(cu_store *s)
{
	return (struct sqlite_store *)s;
}

/* SQLite result code -> cu_result. */
cu_result cu_sqlite_map_rc(int rc);
/* Resets a statement and drops its bindings. */
void cu_sqlite_done(sqlite3_stmt *st);
/* Steps a statement that returns no rows, then resets it. */
cu_result cu_sqlite_run(sqlite3_stmt *st);
/* Runs a write whose binds returned b (the first failing bind's code). */
cu_result cu_sqlite_run_bound(sqlite3_stmt *st, int b);
/* CU_ERR_STORE if SQLite rolled the transaction back by itself. */
cu_result cu_sqlite_tx_alive(struct sqlite_store *q);
/* Binds text (NULL as ""), borrowed until the statement is reset. */
int cu_sqlite_bind_text(sqlite3_stmt *st, int i, const char *t);
/* Binds a (and b when given) as texts 1 and 2; on failure resets st and answers CU_ERR_STORE. */
cu_result cu_sqlite_bind_keys(sqlite3_stmt *st, const char *a, const char *b);
/* Copies a text column into dst (max bytes + NUL); CU_ERR_STORE if longer. */
cu_result cu_sqlite_copy_text(sqlite3_stmt *st, int col, char *dst, size_t max);
/*
 * A members row from the statement's current row, whose columns 0-10 are,
 * in order: id, key_id, wrapped, email_bidx, phone_bidx, fields, present,
 * password_hash, created_us, updated_us, erased_us (the member get's own).
 */
cu_result cu_sqlite_read_member(sqlite3_stmt *st, cu_member_row *out);
/* The statement of `slot`, prepared from `text` on first use. */
cu_result cu_sqlite_stmt(struct sqlite_store *q, int slot, const char *text, sqlite3_stmt **out);

/* cu_sqlite_stmt for an area's function, which holds the cu_store. */
cu_result cu_sqlite_area_stmt(cu_store *s, int slot, const char *text, sqlite3_stmt **out);
/*
 * Steps a one-row query, reads the row with fn (st, out) or answers
 * CU_ERR_NOT_FOUND when there is none; resets st either way.
 */
cu_result cu_sqlite_one_row(sqlite3_stmt *st, cu_result (*fn)(sqlite3_stmt *, void *), void *out);
/* Like cu_sqlite_copy_text, but an empty or NULL column is "" rather than an error. */
cu_result cu_sqlite_copy_opt_text(sqlite3_stmt *st, int col, char *dst, size_t max);
/* An integer column holding a time, NULL ("not yet") read as 0. */
int64_t cu_sqlite_column_time(sqlite3_stmt *st, int col);
/* Binds a time, 0 as NULL ("not yet"); answers the bind's SQLite code. */
int cu_sqlite_bind_time(sqlite3_stmt *st, int i, int64_t us);

/*
 * Runs a write whose binds returned b that must touch exactly one row:
 * answers `none` (CU_ERR_NOT_FOUND, CU_ERR_CONFLICT, ...) when it touched none.
 */
cu_result cu_sqlite_run_one(cu_store *s, sqlite3_stmt *st, int b, cu_result none);
/*
 * A malloc'd copy of a blob column into *out, *len; a NULL or empty column
 * is a damaged row (CU_ERR_STORE, *out NULL).
 */
cu_result cu_sqlite_copy_blob(sqlite3_stmt *st, int col, unsigned char **out, size_t *len);
/* Ends a walk over rows: the step's failure r, unless reading a row failed first (rc). */
cu_result cu_sqlite_walked(sqlite3_stmt *st, cu_result rc, int r);

/*
 * Walks st's rows into rc: reads each into row with read (st, &row) and
 * hands it to fn (ud, &row), which returns non-zero to stop; resets st.
 * A macro because each area's callback has its own row type.
 */
#define CU_SQLITE_WALK(st, read, row, fn, ud, rc)                                                  \
	do {                                                                                       \
		int wr_;                                                                           \
		(rc) = CU_OK;                                                                      \
		while ((wr_ = sqlite3_step(st)) == SQLITE_ROW) {                                   \
			(rc) = read(st, &(row));                                                   \
			if ((rc) || (fn)(ud, &(row)))                                              \
				break;                                                             \
		}                                                                                  \
		(rc) = cu_sqlite_walked(st, rc, wr_);                                              \
	} while (0)

/*
 * Like CU_SQLITE_WALK for rows that own memory: each row (a local of
 * rowtype) is read with readfn, handed to fn, then freed with releasefn.
 * rc must be CU_OK on entry; answers into it.
 */
#define CU_SQLITE_LIST_LOOP(rc, st, rowtype, readfn, releasefn, fn, ud)                            \
	do {                                                                                       \
		rowtype row_;                                                                      \
		int r_;                                                                            \
                                                                                                   \
		while ((r_ = sqlite3_step(st)) == SQLITE_ROW) {                                    \
			int stop_;                                                                 \
                                                                                                   \
			(rc) = readfn(st, &row_);                                                  \
			if (rc)                                                                    \
				break;                                                             \
			stop_ = fn(ud, &row_);                                                     \
			releasefn(&row_);                                                          \
			if (stop_)                                                                 \
				break;                                                             \
		}                                                                                  \
		(rc) = cu_sqlite_walked(st, rc, r_);                                               \
	} while (0)

/* The schema version this build migrates to. */
int cu_sqlite_schema_latest(void);

/* Each area's migration (appended in store/sqlite/sqlite.c's list) and ops table. */
extern const char cu_sqlite_migration_consent[];
extern const struct cu_store_consent_ops cu_sqlite_consent_ops;
extern const char cu_sqlite_migration_notify[];
extern const struct cu_store_notify_ops cu_sqlite_notify_ops;
extern const char cu_sqlite_migration_diary[];
extern const struct cu_store_diary_ops cu_sqlite_diary_ops;
extern const char cu_sqlite_migration_request[];
extern const char cu_sqlite_migration_request_member[];
extern const struct cu_store_request_ops cu_sqlite_request_ops;
extern const struct cu_store_backup_ops cu_sqlite_backup_ops;
extern const char cu_sqlite_migration_registries[];
extern const struct cu_store_third_party_ops cu_sqlite_third_party_ops;
extern const struct cu_store_subcontractor_ops cu_sqlite_subcontractor_ops;
extern const char cu_sqlite_migration_beacon[];
extern const struct cu_store_beacon_ops cu_sqlite_beacon_ops;
extern const char cu_sqlite_migration_stats[];
extern const char cu_sqlite_migration_stats_releases[];
extern const struct cu_store_stats_ops cu_sqlite_stats_ops;
extern const char cu_sqlite_migration_limits[];
extern const struct cu_store_limits_ops cu_sqlite_limits_ops;

#endif
