/*
 * src/store_sqlite.h — the SQLite backend's insides, shared by its files
 * (private).
 *
 * store_sqlite.c holds the connection, the migrations and the core tables
 * (members, audit, meta, tokens, sessions).  Each later area of the store
 * (consents, notifications, ...) lives in its own store_sqlite_<area>.c,
 * which prepares its statements on first use in a slot range of its own
 * (below), so areas are added without touching one another.
 */
#ifndef CU_STORE_SQLITE_H
#define CU_STORE_SQLITE_H

#include <sqlite3.h>

#include "store_impl.h"

#define CU_SQLITE_LAZY_MAX 256

/* Statement slots, 32 per area. */
enum {
	CU_SQLITE_SLOTS_CONSENT = 0,
	CU_SQLITE_SLOTS_NOTIFY = 32,
	CU_SQLITE_SLOTS_DIARY = 64,
	CU_SQLITE_SLOTS_PARTNERS = 96,
	CU_SQLITE_SLOTS_REQUESTS = 128,
	CU_SQLITE_SLOTS_SPARE = 160,
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
/* Copies a text column into dst (max bytes + NUL); CU_ERR_STORE if longer. */
cu_result cu_sqlite_copy_text(sqlite3_stmt *st, int col, char *dst, size_t max);
/* The statement of `slot`, prepared from `text` on first use. */
cu_result cu_sqlite_stmt(struct sqlite_store *q, int slot, const char *text, sqlite3_stmt **out);

/* The schema version this build migrates to. */
int cu_sqlite_schema_latest(void);

/* Each area's migration (appended in store_sqlite.c's list) and ops table. */
extern const char cu_sqlite_migration_consent[];
extern const struct cu_store_consent_ops cu_sqlite_consent_ops;
extern const char cu_sqlite_migration_notify[];
extern const struct cu_store_notify_ops cu_sqlite_notify_ops;
extern const char cu_sqlite_migration_diary[];
extern const struct cu_store_diary_ops cu_sqlite_diary_ops;
extern const char cu_sqlite_migration_request[];
extern const struct cu_store_request_ops cu_sqlite_request_ops;
extern const char cu_sqlite_migration_partner[];
extern const struct cu_store_partner_ops cu_sqlite_partner_ops;

#endif
