/*
 * src/store/sqlite/sqlite.c — the embedded SQLite backend of the store.
 *
 * One connection, no mutex of its own (a cu_store is used by one thread at
 * a time), WAL with synchronous=FULL so a commit is durable when it
 * returns, secure_delete so an erased member's bytes are overwritten.
 * Every statement is prepared once at open and reused: the cost of a write
 * is then close to SQLite's own.
 */
#include "store/sqlite/sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Numbered migrations: entry N-1 takes the schema from version N-1 to N.
 * Append only; never edit one that has shipped.
 */
static const char *const migrations[] = {
    /* 1: meta, members, audit */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ");"
    "CREATE TABLE members ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  key_id INTEGER,"
    "  wrapped BLOB,"
    "  email_bidx BLOB UNIQUE,"
    "  phone_bidx BLOB,"
    "  fields BLOB,"
    "  present INTEGER NOT NULL DEFAULT 0,"
    "  password_hash TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  erased_us INTEGER"
    ");"
    "CREATE INDEX members_phone_bidx ON members(phone_bidx);"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  role TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  member TEXT NOT NULL,"
    "  purpose TEXT NOT NULL,"
    "  fields TEXT NOT NULL,"
    "  decision TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  case_ref TEXT NOT NULL,"
    "  prev BLOB NOT NULL,"
    "  hash BLOB NOT NULL"
    ");"
    "CREATE INDEX audit_member_seq ON audit(member, seq) WHERE member <> '';"
    /* The chain detects tampering; the triggers stop the accidental kind. */
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",

    /*
     * 2: tokens and sessions.  Only hashes of secrets are kept, so a copy
     * of the database lets no one in.  Sessions name a member row (ids are
     * never deleted: erasure keeps them), and are found by expiry for the
     * purge.
     */
    "CREATE TABLE tokens ("
    "  rowid INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL UNIQUE,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  role TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  expires_us INTEGER,"
    "  revoked_us INTEGER"
    ");"
    "CREATE TABLE sessions ("
    "  rowid INTEGER PRIMARY KEY,"
    "  hash BLOB NOT NULL UNIQUE,"
    "  member TEXT NOT NULL REFERENCES members(id),"
    "  csrf_hash BLOB NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  expires_us INTEGER NOT NULL"
    ");"
    "CREATE INDEX sessions_member ON sessions(member);"
    "CREATE INDEX sessions_expires ON sessions(expires_us);",

    /* 3: consents, accepted policy versions, legal exceptions (store/sqlite/consent.c) */
    cu_sqlite_migration_consent,
    /* 4: notifications: outbox and notices (store/sqlite/notify.c) */
    cu_sqlite_migration_notify,
    /* 5: diaries (store/sqlite/diary.c) */
    cu_sqlite_migration_diary,
    /* 6: third parties, provisions, shares, subcontractors (sqlite/third_party.c) */
    cu_sqlite_migration_registries,
    /* 7: requests and complaints (store/sqlite/request.c) */
    cu_sqlite_migration_request,

    /*
     * 8: signed checkpoints of the audit head (audit/checkpoint.h).  Like
     * the audit rows, append-only: the triggers stop the accidental kind of
     * change, the signatures and the copies outside the database the other.
     */
    "CREATE TABLE audit_checkpoints ("
    "  rowid INTEGER PRIMARY KEY,"
    "  seq INTEGER NOT NULL,"
    "  head BLOB NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  key_id INTEGER NOT NULL,"
    "  sig BLOB NOT NULL"
    ");"
    "CREATE INDEX audit_checkpoints_seq ON audit_checkpoints(seq);"
    "CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints"
    " BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;"
    "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints"
    " BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;",
    /*
     * 9: the fields an officer names for a legal exception (access.h); a
     * review opened before this has none on record ('').
     */
    "ALTER TABLE exceptions ADD COLUMN fields TEXT NOT NULL DEFAULT '';",
    /*
     * 10: a member's audit entries found through a table filled in bulk off
     * the request path, not an index on audit that every append updated.
     * Member ids are random, so that index put each read's commit on one
     * more random page (written to the log, then copied again by the
     * checkpointer).  audit_member holds (member, seq) for every entry up to
     * the high-water mark in meta (CU_SQLITE_AUDIT_MARK); a member's later
     * entries are found by a scan of the short tail after it (store.h:
     * cu_store_audit_index).  Filled here through the old index, which is
     * already in (member, seq) order: no sort.
     */
    "CREATE TABLE audit_member ("
    "  member TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  PRIMARY KEY (member, seq)"
    ") WITHOUT ROWID;"
    "INSERT INTO audit_member (member, seq)"
    " SELECT member, seq FROM audit WHERE member <> '' ORDER BY member, seq;"
    "DROP INDEX IF EXISTS audit_member_seq;"
    "INSERT OR REPLACE INTO meta (key, value)"
    " SELECT '" CU_SQLITE_AUDIT_MARK "', coalesce(max(seq), 0) FROM audit;",
    /*
     * 11: the version in force at a time (every read of a member who accepted
     * no version explicitly asks it) by an index, in key order: no scan of
     * the versions' documents, whose overflow pages sit before published_us,
     * and no sort.  The rowid in the index breaks ties as the query asks.
     */
    "CREATE INDEX policy_versions_published ON policy_versions(published_us);",
    /* 12: web beacons: the daily salt, raw hits, daily aggregates (store/sqlite/beacon.c) */
    cu_sqlite_migration_beacon,
    /* 13: released statistics: the stats secret (sealed), the ε ledger (store/sqlite/stats.c) */
    cu_sqlite_migration_stats,
    /* 14: released statistics kept: one release per question per period (store/sqlite/stats.c) */
    cu_sqlite_migration_stats_releases,
    /* 15: attempt limits several servers share (store/sqlite/limits.c) */
    cu_sqlite_migration_limits,
    /* 16: request histories and complaint responses keyed by member too (store/sqlite/request.c) */
    cu_sqlite_migration_request_member,
    /*
     * 17: one audit chain per writer (audit/audit.h).  Every entry names its
     * chain; the entries before this migration are the chain "main".  The
     * index finds a chain's last entry (its writer's head at start).
     */
    "ALTER TABLE audit ADD COLUMN chain TEXT NOT NULL DEFAULT 'main';"
    "CREATE INDEX audit_chain_seq ON audit(chain, seq) WHERE chain <> 'main';",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SNAPSHOT,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_MEMBER_INSERT,
	ST_MEMBER_GET,
	ST_MEMBER_UPDATE,
	ST_MEMBER_ERASE,
	ST_MEMBER_STATE,
	ST_FIND_EMAIL,
	ST_FIND_PHONE,
	ST_MEMBER_COUNT,
	ST_MEMBER_IDS,
	ST_MEMBER_KEYS,
	ST_MEMBER_REWRAP,
	ST_AUDIT_APPEND,
	ST_AUDIT_LAST,
	ST_AUDIT_COUNT,
	ST_AUDIT_SCAN,
	ST_AUDIT_SCAN_INDEXED,
	ST_AUDIT_SCAN_TAIL,
	ST_AUDIT_MARK,
	ST_AUDIT_INDEX,
	ST_AUDIT_INDEX_SCAN,
	ST_AUDIT_HASH_AT,
	ST_AUDIT_CKPT_INSERT,
	ST_AUDIT_CKPT_LAST,
	ST_AUDIT_CKPT_SCAN,
	ST_AUDIT_CHAIN_LAST,
	ST_AUDIT_MAIN_LAST,
	ST_META_GET,
	ST_META_SCAN,
	ST_META_SET,
	ST_CHECKPOINT,
	ST_TOKEN_INSERT,
	ST_TOKEN_BY_HASH,
	ST_TOKEN_GET,
	ST_TOKEN_LIST,
	ST_TOKEN_REVOKE,
	ST_SESSION_INSERT,
	ST_SESSION_GET,
	ST_SESSION_DELETE,
	ST_SESSION_DELETE_MEMBER,
	ST_SESSION_PURGE,
	ST_COUNT_
};

#define AUDIT_COLUMNS                                                                              \
	"seq, time_us, actor, role, action, member, purpose, fields, decision, reason, "           \
	"case_ref, prev, hash, chain"

#define TOKEN_COLUMNS "id, hash, role, name, created_us, expires_us, revoked_us"

static const char *const sql[ST_COUNT_] = {
    /* IMMEDIATE: take the write lock now, not at the first write, so a
     * busy database fails (or waits) at begin, never half-way through. */
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SNAPSHOT] = "BEGIN DEFERRED",
    /* Savepoints nest under one name: RELEASE and ROLLBACK TO act on the innermost. */
    [ST_SAVEPOINT] = "SAVEPOINT cu_sp",
    [ST_RELEASE] = "RELEASE cu_sp",
    [ST_ROLLBACK_TO] = "ROLLBACK TO cu_sp",
    [ST_MEMBER_INSERT] = "INSERT INTO members (id, key_id, wrapped, email_bidx, phone_bidx, fields,"
                         " present, password_hash, created_us, updated_us, erased_us)"
                         " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_MEMBER_GET] =
        "SELECT id, key_id, wrapped, email_bidx, phone_bidx, fields, present,"
        " password_hash, created_us, updated_us, erased_us FROM members WHERE id = ?1",
    [ST_MEMBER_UPDATE] =
        "UPDATE members SET email_bidx = ?2, phone_bidx = ?3, fields = ?4, present = ?5,"
        " password_hash = ?6, updated_us = ?7 WHERE id = ?1 AND erased_us IS NULL",
    [ST_MEMBER_ERASE] = "UPDATE members SET key_id = NULL, wrapped = NULL, email_bidx = NULL,"
                        " phone_bidx = NULL, fields = NULL, password_hash = NULL, present = 0,"
                        " erased_us = ?2, updated_us = ?2 WHERE id = ?1 AND erased_us IS NULL",
    [ST_MEMBER_STATE] = "SELECT erased_us IS NOT NULL FROM members WHERE id = ?1",
    [ST_FIND_EMAIL] = "SELECT id FROM members WHERE email_bidx = ?1 AND erased_us IS NULL"
                      " ORDER BY rowid LIMIT ?2",
    [ST_FIND_PHONE] = "SELECT id FROM members WHERE phone_bidx = ?1 AND erased_us IS NULL"
                      " ORDER BY rowid LIMIT ?2",
    [ST_MEMBER_COUNT] = "SELECT count(*) FROM members",
    [ST_MEMBER_IDS] = "SELECT id FROM members WHERE id > ?1 AND erased_us IS NULL ORDER BY id"
                      " LIMIT ?2",
    [ST_MEMBER_KEYS] = "SELECT id, key_id, wrapped, erased_us IS NOT NULL FROM members"
                       " WHERE id > ?1 ORDER BY id LIMIT ?2",
    [ST_MEMBER_REWRAP] = "UPDATE members SET key_id = ?2, wrapped = ?3"
                         " WHERE id = ?1 AND wrapped = ?4 AND erased_us IS NULL",
    [ST_AUDIT_APPEND] = "INSERT INTO audit (" AUDIT_COLUMNS ")"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [ST_AUDIT_LAST] = "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_COUNT] = "SELECT count(*) FROM audit",
    [ST_AUDIT_SCAN] = "SELECT " AUDIT_COLUMNS " FROM audit WHERE seq >= ?1 ORDER BY seq",
    /*
     * A member's entries: those up to the mark (?3) through audit_member,
     * whose (member, seq) key gives them in seq order, then the tail after
     * the mark by the seq key.  '' (entries about no one) is never indexed.
     */
    [ST_AUDIT_SCAN_INDEXED] = "SELECT a.seq, a.time_us, a.actor, a.role, a.action, a.member,"
                              " a.purpose, a.fields, a.decision, a.reason, a.case_ref, a.prev,"
                              " a.hash, a.chain FROM audit_member m JOIN audit a ON a.seq = m.seq"
                              " WHERE m.member = ?2 AND m.seq >= ?1 AND m.seq <= ?3"
                              " ORDER BY m.seq",
    [ST_AUDIT_SCAN_TAIL] = "SELECT " AUDIT_COLUMNS " FROM audit"
                           " WHERE seq > ?3 AND seq >= ?1 AND member = ?2 ORDER BY seq",
    [ST_AUDIT_MARK] = "SELECT value FROM meta WHERE key = '" CU_SQLITE_AUDIT_MARK "'",
    /*
     * The tail in bulk, sorted by the table's key so that each page of
     * audit_member is written once for all of the tail's entries on it.
     * OR IGNORE: an entry already there (a mark set back by hand) is no
     * reason to stop indexing the rest.
     */
    [ST_AUDIT_INDEX] = "INSERT OR IGNORE INTO audit_member (member, seq)"
                       " SELECT member, seq FROM audit WHERE seq > ?1 AND member <> ''"
                       " ORDER BY member, seq",
    [ST_AUDIT_INDEX_SCAN] = "SELECT member, seq FROM audit_member WHERE seq <= ?1",
    [ST_AUDIT_HASH_AT] = "SELECT hash FROM audit WHERE seq = ?1",
    [ST_AUDIT_CKPT_INSERT] = "INSERT INTO audit_checkpoints (seq, head, time_us, key_id, sig)"
                             " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_AUDIT_CKPT_LAST] = "SELECT seq, head, time_us, key_id, sig FROM audit_checkpoints"
                           " ORDER BY seq DESC, rowid DESC LIMIT 1",
    [ST_AUDIT_CKPT_SCAN] = "SELECT seq, head, time_us, key_id, sig FROM audit_checkpoints"
                           " ORDER BY rowid",
    /*
     * A chain's last entry: the main chain's by the seq key from the end (it
     * writes most entries, and its index would cost every append a second
     * index row), another's through the partial index, which the statement
     * must imply (chain <> 'main') to be used.
     */
    [ST_AUDIT_CHAIN_LAST] = "SELECT seq, hash FROM audit WHERE chain = ?1 AND chain <> 'main'"
                            " ORDER BY seq DESC LIMIT 1",
    [ST_AUDIT_MAIN_LAST] = "SELECT seq, hash FROM audit WHERE chain = 'main'"
                           " ORDER BY seq DESC LIMIT 1",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_SCAN] = "SELECT key, value FROM meta WHERE substr(key, 1, length(?1)) = ?1"
                     " ORDER BY key",
    [ST_META_SET] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_CHECKPOINT] = "PRAGMA wal_checkpoint(TRUNCATE)",
    [ST_TOKEN_INSERT] = "INSERT INTO tokens (" TOKEN_COLUMNS ")"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_TOKEN_BY_HASH] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?1",
    [ST_TOKEN_GET] = "SELECT " TOKEN_COLUMNS " FROM tokens WHERE id = ?1",
    [ST_TOKEN_LIST] = "SELECT " TOKEN_COLUMNS " FROM tokens ORDER BY rowid",
    /* COALESCE keeps the first revocation time. */
    [ST_TOKEN_REVOKE] = "UPDATE tokens SET revoked_us = COALESCE(revoked_us, ?2) WHERE id = ?1",
    [ST_SESSION_INSERT] = "INSERT INTO sessions (hash, member, csrf_hash, created_us, expires_us)"
                          " VALUES (?1, ?2, ?3, ?4, ?5)",
    [ST_SESSION_GET] = "SELECT hash, member, csrf_hash, created_us, expires_us"
                       " FROM sessions WHERE hash = ?1",
    [ST_SESSION_DELETE] = "DELETE FROM sessions WHERE hash = ?1",
    [ST_SESSION_DELETE_MEMBER] = "DELETE FROM sessions WHERE member = ?1",
    [ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires_us <= ?1",
};

int cu_sqlite_schema_latest(void)
{
	return SCHEMA_VERSION;
}

static struct sqlite_store *Q(cu_store *s)
{
	return (struct sqlite_store *)s;
}

cu_result cu_sqlite_map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return CU_OK;
	case SQLITE_NOMEM:
		return CU_ERR_NOMEM;
	case SQLITE_TOOBIG:
		return CU_ERR_TOO_LARGE;
	case SQLITE_MISUSE:
	case SQLITE_RANGE:
		return CU_ERR_INTERNAL;
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return CU_ERR_CONFLICT;
		return CU_ERR_STORE;
	default:
		/* BUSY, LOCKED, IOERR, FULL, CORRUPT, READONLY, ... */
		return CU_ERR_STORE;
	}
}

/* Makes a statement ready for its next use and drops borrowed bindings. */
void cu_sqlite_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Runs a statement that returns no rows. */
cu_result cu_sqlite_run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	cu_sqlite_done(st);
	return rc == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
}

/*
 * SQLite rolls a transaction back by itself after some errors (a full disk,
 * an I/O error).  A write that went on would then autocommit, which the
 * store promises never to do.
 */
cu_result cu_sqlite_tx_alive(struct sqlite_store *q)
{
	return sqlite3_get_autocommit(q->db) ? CU_ERR_STORE : CU_OK;
}

/*
 * Binding fails only for values over SQLite's limits (or out of memory);
 * such a value must fail the write, not be stored as NULL.  keep() holds
 * on to the first failure of a run of binds.
 */
static int keep(int first, int rc)
{
	return first != SQLITE_OK ? first : rc;
}

/* Runs a write whose binds returned b (see keep()). */
cu_result cu_sqlite_run_bound(sqlite3_stmt *st, int b)
{
	if (b != SQLITE_OK) {
		cu_sqlite_done(st);
		return cu_sqlite_map_rc(b);
	}
	return cu_sqlite_run(st);
}

/*
 * A read whose bind failed: unbound, its parameter would be NULL and match
 * nothing, a wrong "not found".  Resets st and answers the bind's failure.
 */
static cu_result bind_failed(sqlite3_stmt *st, int b)
{
	cu_sqlite_done(st);
	return cu_sqlite_map_rc(b);
}

int cu_sqlite_bind_text(sqlite3_stmt *st, int i, const char *t)
{
	return sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_STATIC);
}

/* Binds text of a run of rows; on failure resets and answers CU_ERR_STORE. */
cu_result cu_sqlite_bind_keys(sqlite3_stmt *st, const char *a, const char *b)
{
	if (cu_sqlite_bind_text(st, 1, a) || (b && cu_sqlite_bind_text(st, 2, b))) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	return CU_OK;
}

static int bind_opt_blob(sqlite3_stmt *st, int i, bool has, const void *p, size_t n)
{
	if (!has)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

static cu_result single_int(sqlite3_stmt *st, uint64_t *n)
{
	int rc = sqlite3_step(st);

	*n = rc == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
	cu_sqlite_done(st);
	return rc == SQLITE_ROW ? CU_OK : cu_sqlite_map_rc(rc == SQLITE_DONE ? SQLITE_MISUSE : rc);
}

/* ---- open, migrate, close ------------------------------------------------ */

static cu_result fail(char *err, size_t errlen, const char *what, sqlite3 *db, int rc)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
	return cu_sqlite_map_rc(rc) ? cu_sqlite_map_rc(rc) : CU_ERR_STORE;
}

static int exec(sqlite3 *db, const char *text)
{
	return sqlite3_exec(db, text, NULL, NULL, NULL);
}

/* The schema version on disk: 0 for an empty database. */
static int read_version(sqlite3 *db, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*version = 0;
	rc = sqlite3_prepare_v2(db,
	                        "SELECT (SELECT count(*) FROM sqlite_master"
	                        " WHERE type = 'table' AND name = 'meta')",
	                        -1, &st, NULL);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW)
		goto out;
	if (sqlite3_column_int(st, 0) == 0) {
		rc = SQLITE_OK;
		goto out;
	}
	sqlite3_finalize(st);
	rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
	                        NULL);
	if (rc)
		goto out;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);
		char *end;
		long n;

		errno = 0;
		n = v ? strtol(v, &end, 10) : -1;
		if (!v || errno || end == v || *end || n < 1 || n > 1000000) {
			rc = SQLITE_CORRUPT;
			goto out;
		}
		*version = (int)n;
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	}
out:
	sqlite3_finalize(st);
	return rc;
}

static int write_version(sqlite3 *db, int version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db,
	                        "INSERT INTO meta (key, value) VALUES ('schema_version', ?1)"
	                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
	                        -1, &st, NULL);
	if (rc)
		return rc;
	sqlite3_bind_int(st, 1, version);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/*
 * Applies the next missing migration in its own transaction.  The version
 * is read again under the write lock, so two processes opening a new
 * database at once do not both apply it.
 */
static cu_result migrate_one(sqlite3 *db, int *version, char *err, size_t errlen)
{
	int rc, next;

	rc = exec(db, "BEGIN IMMEDIATE");
	if (rc)
		return fail(err, errlen, "cannot begin a migration", db, rc);
	rc = read_version(db, version);
	if (!rc && *version < SCHEMA_VERSION) {
		next = *version + 1;
		rc = exec(db, migrations[next - 1]);
		if (!rc)
			rc = write_version(db, next);
		if (!rc)
			*version = next;
	}
	if (!rc)
		rc = exec(db, "COMMIT");
	if (rc) {
		/* Words first: the rollback resets the connection's message. */
		cu_result r = fail(err, errlen, "cannot migrate the schema", db, rc);

		exec(db, "ROLLBACK");
		return r;
	}
	return CU_OK;
}

static cu_result migrate(sqlite3 *db, int *version, char *err, size_t errlen)
{
	cu_result r;
	int rc;

	rc = read_version(db, version);
	if (rc)
		return fail(err, errlen, "cannot read the schema version", db, rc);
	while (*version < SCHEMA_VERSION) {
		r = migrate_one(db, version, err, errlen);
		if (r)
			return r;
	}
	if (*version > SCHEMA_VERSION) {
		if (err && errlen)
			snprintf(err, errlen,
			         "store schema version %d is newer than this build knows (%d)",
			         *version, SCHEMA_VERSION);
		return CU_ERR_STORE;
	}
	return CU_OK;
}

/*
 * Creates the file with mode 0600 before SQLite does (it would honour the
 * umask, typically 0644); the -wal and -shm files copy the mode of the
 * database file.  An existing file is left alone.
 */
static void precreate(const char *path)
{
	int fd;

	if (strcmp(path, ":memory:") == 0)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
}

static cu_result pragmas(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *mode;
	int rc;

	rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
	if (rc)
		return fail(err, errlen, "cannot set journal_mode", db, rc);
	rc = sqlite3_step(st);
	mode = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
	if (!mode || (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)) {
		if (err && errlen)
			snprintf(err, errlen, "cannot use write-ahead logging for '%s'", path);
		sqlite3_finalize(st);
		return CU_ERR_STORE;
	}
	sqlite3_finalize(st);
	/*
	 * temp_store=MEMORY keeps savepoint sub-journals in memory.  Each nested
	 * level (one per registration in an import batch) copies the pages it
	 * changes there; once that journal outgrew 64 KiB SQLite moved it to a
	 * file in /var/tmp for good, and the import spent most of its time in
	 * pwrite to it (bench/bench_import, docs/performance.md) — and old page
	 * images landed on disk outside the database, past secure_delete's reach.
	 * The journal is emptied at each outermost release, so it stays small.
	 */
	rc = exec(db, "PRAGMA synchronous=FULL;"
	              "PRAGMA foreign_keys=ON;"
	              "PRAGMA secure_delete=ON;"
	              "PRAGMA temp_store=MEMORY;");
	if (rc)
		return fail(err, errlen, "cannot set pragmas", db, rc);
	return CU_OK;
}

static void sqlite_close(cu_store *s)
{
	struct sqlite_store *q = Q(s);

	for (int i = 0; i < ST_COUNT_; i++)
		sqlite3_finalize(q->st[i]);
	for (int i = 0; i < CU_SQLITE_LAZY_MAX; i++)
		sqlite3_finalize(q->lazy[i]);
	/* Closing rolls back an open transaction. */
	sqlite3_close(q->db);
	free(q);
}

static const cu_store_ops sqlite_ops;

/*
 * Before SQLite starts, once per process: no memory statistics.  Debian's
 * SQLite keeps them on, and then every allocation of every connection takes
 * one global mutex (11.6 % of a read's samples were its waits).  Nothing here
 * reads them.  SQLITE_MISUSE when SQLite already started (a program that
 * used it first) leaves them on: slower, not wrong.
 */
static pthread_once_t configure_once = PTHREAD_ONCE_INIT;

static void sqlite_configure(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

cu_result cu_store_sqlite_open(const char *path, cu_store **out, char *err, size_t errlen)
{
	struct sqlite_store *q;
	cu_result r;
	int rc;

	*out = NULL;
	q = calloc(1, sizeof(*q) + ST_COUNT_ * sizeof(q->st[0]));
	if (!q)
		return CU_ERR_NOMEM;
	q->base.ops = &sqlite_ops;
	pthread_once(&configure_once, sqlite_configure);
	precreate(path);
	rc = sqlite3_open_v2(
	    path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "cannot open store '%s': %s", path,
			         q->db ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
		r = cu_sqlite_map_rc(rc) ? cu_sqlite_map_rc(rc) : CU_ERR_STORE;
		goto fail;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, 5000);
	r = pragmas(q->db, path, err, errlen);
	if (r)
		goto fail;
	r = migrate(q->db, &q->base.schema_version, err, errlen);
	if (r)
		goto fail;
	for (int i = 0; i < ST_COUNT_; i++) {
		rc = sqlite3_prepare_v3(q->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &q->st[i],
		                        NULL);
		if (rc) {
			r = fail(err, errlen, "cannot prepare a statement", q->db, rc);
			goto fail;
		}
	}
	*out = &q->base;
	return CU_OK;
fail:
	sqlite_close(&q->base);
	return r;
}

cu_result cu_sqlite_stmt(struct sqlite_store *q, int slot, const char *text, sqlite3_stmt **out)
{
	int rc;

	if (slot < 0 || slot >= CU_SQLITE_LAZY_MAX)
		return CU_ERR_INTERNAL;
	if (!q->lazy[slot]) {
		rc = sqlite3_prepare_v3(q->db, text, -1, SQLITE_PREPARE_PERSISTENT, &q->lazy[slot],
		                        NULL);
		if (rc)
			return cu_sqlite_map_rc(rc) ? cu_sqlite_map_rc(rc) : CU_ERR_STORE;
	}
	*out = q->lazy[slot];
	return CU_OK;
}

cu_result cu_sqlite_area_stmt(cu_store *s, int slot, const char *text, sqlite3_stmt **out)
{
	return cu_sqlite_stmt(cu_sqlite(s), slot, text, out);
}

/* Steps a one-row query; reads the row with fn or answers CU_ERR_NOT_FOUND. */
cu_result cu_sqlite_one_row(sqlite3_stmt *st, cu_result (*fn)(sqlite3_stmt *, void *), void *out)
{
	int r = sqlite3_step(st);
	cu_result rc;

	if (r == SQLITE_ROW)
		rc = fn(st, out);
	else
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

/* Like cu_sqlite_copy_text, but "" (and NULL) is a value here. */
cu_result cu_sqlite_copy_opt_text(sqlite3_stmt *st, int col, char *dst, size_t max)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	dst[0] = '\0';
	if (!t || n == 0)
		return CU_OK;
	if (n > max || memchr(t, '\0', n))
		return CU_ERR_STORE;
	memcpy(dst, t, n);
	dst[n] = '\0';
	return CU_OK;
}

int64_t cu_sqlite_column_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, col);
}

int cu_sqlite_bind_time(sqlite3_stmt *st, int i, int64_t us)
{
	return us ? sqlite3_bind_int64(st, i, us) : sqlite3_bind_null(st, i);
}

/* Ends a walk over rows: the step's failure, unless reading a row failed first. */
cu_result cu_sqlite_walked(sqlite3_stmt *st, cu_result rc, int r)
{
	if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

/* A write that must touch exactly one row: none is `none` (e.g. CU_ERR_NOT_FOUND). */
cu_result cu_sqlite_run_one(cu_store *s, sqlite3_stmt *st, int b, cu_result none)
{
	cu_result rc = cu_sqlite_run_bound(st, b);

	if (rc)
		return rc;
	return sqlite3_changes(cu_sqlite(s)->db) > 0 ? CU_OK : none;
}

/* A copy of a blob column; a NULL or empty one is a damaged row. */
cu_result cu_sqlite_copy_blob(sqlite3_stmt *st, int col, unsigned char **out, size_t *len)
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	*out = NULL;
	*len = 0;
	if (!p || !n)
		return CU_ERR_STORE;
	*out = malloc(n);
	if (!*out)
		return CU_ERR_NOMEM;
	memcpy(*out, p, n);
	*len = n;
	return CU_OK;
}

/* ---- transactions -------------------------------------------------------- */

static cu_result sqlite_begin(cu_store *s)
{
	return cu_sqlite_run(Q(s)->st[ST_BEGIN]);
}

static void sqlite_rollback(cu_store *s)
{
	struct sqlite_store *q = Q(s);

	if (!sqlite3_get_autocommit(q->db))
		(void)cu_sqlite_run(q->st[ST_ROLLBACK]);
}

static cu_result sqlite_commit(cu_store *s)
{
	struct sqlite_store *q = Q(s);
	cu_result rc = cu_sqlite_tx_alive(q);

	if (!rc)
		rc = cu_sqlite_run(q->st[ST_COMMIT]);
	/* A failed COMMIT leaves the transaction open; the contract is "out". */
	if (rc)
		sqlite_rollback(s);
	return rc;
}

static cu_result sqlite_savepoint(cu_store *s)
{
	return cu_sqlite_run(Q(s)->st[ST_SAVEPOINT]);
}

static cu_result sqlite_savepoint_release(cu_store *s)
{
	return cu_sqlite_run(Q(s)->st[ST_RELEASE]);
}

static cu_result sqlite_savepoint_rollback(cu_store *s)
{
	struct sqlite_store *q = Q(s);
	cu_result rc = cu_sqlite_run(q->st[ST_ROLLBACK_TO]);

	/* ROLLBACK TO keeps the savepoint on the stack; release it too. */
	if (!rc)
		rc = cu_sqlite_run(q->st[ST_RELEASE]);
	return rc;
}

static cu_result sqlite_snapshot_begin(cu_store *s)
{
	return cu_sqlite_run(Q(s)->st[ST_SNAPSHOT]);
}

static void sqlite_snapshot_end(cu_store *s)
{
	sqlite_rollback(s);
}

/* ---- members ------------------------------------------------------------- */

static cu_result sqlite_member_insert(cu_store *s, const cu_member_row *row)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_MEMBER_INSERT];
	bool live = !row->erased;
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	/* An erased row (a restore replaying an erasure) carries no key or data. */
	b = keep(b, sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC));
	if (live)
		b = keep(b, sqlite3_bind_int64(st, 2, row->key_id));
	b = keep(b, bind_opt_blob(st, 3, live, row->wrapped, sizeof(row->wrapped)));
	b = keep(b, bind_opt_blob(st, 4, live && row->has_email_bidx, row->email_bidx,
	                          sizeof(row->email_bidx)));
	b = keep(b, bind_opt_blob(st, 5, live && row->has_phone_bidx, row->phone_bidx,
	                          sizeof(row->phone_bidx)));
	b = keep(b, bind_opt_blob(st, 6, live && row->fields, row->fields, row->fields_len));
	b = keep(b, sqlite3_bind_int64(st, 7, live ? (sqlite3_int64)row->present : 0));
	if (live && row->password_hash)
		b = keep(b, sqlite3_bind_text(st, 8, row->password_hash, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 9, row->created_us));
	b = keep(b, sqlite3_bind_int64(st, 10, row->updated_us));
	if (!live)
		b = keep(b, sqlite3_bind_int64(st, 11, row->erased_us));
	return cu_sqlite_run_bound(st, b);
}

static cu_result copy_fixed(sqlite3_stmt *st, int col, unsigned char *dst, size_t n, bool *has)
{
	const void *p;

	if (has)
		*has = false;
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return CU_OK;
	p = sqlite3_column_blob(st, col);
	if ((size_t)sqlite3_column_bytes(st, col) != n || !p)
		return CU_ERR_STORE;
	memcpy(dst, p, n);
	if (has)
		*has = true;
	return CU_OK;
}

cu_result cu_sqlite_read_member(sqlite3_stmt *st, cu_member_row *out)
{
	const unsigned char *t;
	const void *p;
	size_t n;
	cu_result rc;

	t = sqlite3_column_text(st, 0);
	n = (size_t)sqlite3_column_bytes(st, 0);
	if (!t || n == 0 || n > CU_ID_LEN)
		return CU_ERR_STORE;
	memcpy(out->id, t, n);
	out->id[n] = '\0';
	out->erased = sqlite3_column_type(st, 10) != SQLITE_NULL;
	out->erased_us = sqlite3_column_int64(st, 10);
	out->created_us = sqlite3_column_int64(st, 8);
	out->updated_us = sqlite3_column_int64(st, 9);
	if (out->erased)
		return CU_OK;
	out->key_id = (uint32_t)sqlite3_column_int64(st, 1);
	rc = copy_fixed(st, 2, out->wrapped, sizeof(out->wrapped), NULL);
	if (!rc)
		rc = copy_fixed(st, 3, out->email_bidx, sizeof(out->email_bidx),
		                &out->has_email_bidx);
	if (!rc)
		rc = copy_fixed(st, 4, out->phone_bidx, sizeof(out->phone_bidx),
		                &out->has_phone_bidx);
	if (rc)
		return rc;
	out->present = (cu_fieldset)sqlite3_column_int64(st, 6);
	p = sqlite3_column_blob(st, 5);
	n = (size_t)sqlite3_column_bytes(st, 5);
	if (p && n) {
		out->fields = malloc(n);
		if (!out->fields)
			return CU_ERR_NOMEM;
		memcpy(out->fields, p, n);
		out->fields_len = n;
	}
	t = sqlite3_column_text(st, 7);
	if (t) {
		n = (size_t)sqlite3_column_bytes(st, 7);
		out->password_hash = malloc(n + 1);
		if (!out->password_hash)
			return CU_ERR_NOMEM;
		memcpy(out->password_hash, t, n + 1);
	}
	return CU_OK;
}

static cu_result sqlite_member_get(cu_store *s, const char *id, cu_member_row *out)
{
	sqlite3_stmt *st = Q(s)->st[ST_MEMBER_GET];
	cu_result rc;
	int r = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);

	if (r)
		return bind_failed(st, r);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = cu_sqlite_read_member(st, out);
	else
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	if (rc) {
		cu_member_row_release(out);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

/* Why an update or erase touched no row: no such member, or erased. */
static cu_result member_state(struct sqlite_store *q, const char *id, bool *erased)
{
	sqlite3_stmt *st = q->st[ST_MEMBER_STATE];
	cu_result rc;
	int r = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);

	if (r)
		return bind_failed(st, r);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*erased = sqlite3_column_int(st, 0) != 0;
		rc = CU_OK;
	} else {
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	}
	cu_sqlite_done(st);
	return rc;
}

static cu_result sqlite_member_update(cu_store *s, const cu_member_row *row)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_MEMBER_UPDATE];
	bool erased = false;
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC));
	b = keep(
	    b, bind_opt_blob(st, 2, row->has_email_bidx, row->email_bidx, sizeof(row->email_bidx)));
	b = keep(
	    b, bind_opt_blob(st, 3, row->has_phone_bidx, row->phone_bidx, sizeof(row->phone_bidx)));
	b = keep(b, bind_opt_blob(st, 4, row->fields != NULL, row->fields, row->fields_len));
	b = keep(b, sqlite3_bind_int64(st, 5, (sqlite3_int64)row->present));
	if (row->password_hash)
		b = keep(b, sqlite3_bind_text(st, 6, row->password_hash, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 7, row->updated_us));
	rc = cu_sqlite_run_bound(st, b);
	if (rc || sqlite3_changes(q->db) > 0)
		return rc;
	rc = member_state(q, row->id, &erased);
	return rc ? rc : erased ? CU_ERR_ERASED : CU_ERR_INTERNAL;
}

static cu_result sqlite_member_erase(cu_store *s, const char *id, int64_t when_us)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_MEMBER_ERASE];
	bool erased = false;
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 2, when_us));
	rc = cu_sqlite_run_bound(st, b);
	if (rc || sqlite3_changes(q->db) > 0)
		return rc;
	/* Erasing twice is harmless and keeps the first erasure time. */
	rc = member_state(q, id, &erased);
	return rc ? rc : erased ? CU_OK : CU_ERR_INTERNAL;
}

static cu_result sqlite_member_find(cu_store *s, enum cu_store_bidx_kind kind,
                                    const unsigned char bidx[CU_VAULT_BIDXBYTES],
                                    char (*ids)[CU_ID_LEN + 1], size_t max, size_t *n)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[kind == CU_STORE_BIDX_EMAIL ? ST_FIND_EMAIL : ST_FIND_PHONE];
	cu_result rc = CU_OK;
	int r;

	r = keep(
	    sqlite3_bind_blob(st, 1, bidx, CU_VAULT_BIDXBYTES, SQLITE_STATIC),
	    sqlite3_bind_int64(st, 2, max > (size_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)max));
	if (r)
		return bind_failed(st, r);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && *n < max) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);

		if (!t || len == 0 || len > CU_ID_LEN) {
			rc = CU_ERR_STORE;
			break;
		}
		memcpy(ids[*n], t, len);
		ids[*n][len] = '\0';
		(*n)++;
	}
	if (!rc && r != SQLITE_ROW && r != SQLITE_DONE)
		rc = cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	if (rc)
		*n = 0;
	return rc;
}

static cu_result sqlite_member_count(cu_store *s, uint64_t *n)
{
	return single_int(Q(s)->st[ST_MEMBER_COUNT], n);
}

static cu_result sqlite_member_ids(cu_store *s, const char *after, char (*ids)[CU_ID_LEN + 1],
                                   size_t max, size_t *n)
{
	sqlite3_stmt *st = Q(s)->st[ST_MEMBER_IDS];
	cu_result rc = CU_OK;
	int r;

	if (cu_sqlite_bind_text(st, 1, after) || sqlite3_bind_int64(st, 2, (sqlite3_int64)max)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cu_sqlite_copy_text(st, 0, ids[*n], CU_ID_LEN);
		if (rc)
			break;
		(*n)++;
	}
	if (!rc && *n < max && r != SQLITE_DONE)
		rc = cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result sqlite_member_keys(cu_store *s, const char *after, cu_member_key *keys, size_t max,
                                    size_t *n)
{
	sqlite3_stmt *st = Q(s)->st[ST_MEMBER_KEYS];
	cu_result rc = CU_OK;
	int r = SQLITE_DONE;

	if (cu_sqlite_bind_text(st, 1, after) || sqlite3_bind_int64(st, 2, (sqlite3_int64)max)) {
		cu_sqlite_done(st);
		return CU_ERR_STORE;
	}
	while (*n < max && (r = sqlite3_step(st)) == SQLITE_ROW) {
		cu_member_key *k = &keys[*n];
		const void *w = sqlite3_column_blob(st, 2);

		memset(k, 0, sizeof(*k));
		rc = cu_sqlite_copy_text(st, 0, k->id, CU_ID_LEN);
		if (rc)
			break;
		k->key_id = (uint32_t)sqlite3_column_int64(st, 1);
		k->erased = sqlite3_column_int(st, 3) != 0;
		if (w && sqlite3_column_bytes(st, 2) == CU_VAULT_WRAPPEDBYTES) {
			memcpy(k->wrapped, w, CU_VAULT_WRAPPEDBYTES);
			k->has_wrapped = true;
		}
		(*n)++;
	}
	if (!rc && *n < max && r != SQLITE_DONE)
		rc = cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	return rc;
}

static cu_result sqlite_member_rewrap(cu_store *s, const char *id,
                                      const unsigned char old[CU_VAULT_WRAPPEDBYTES],
                                      const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
                                      uint32_t key_id)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_MEMBER_REWRAP];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 2, key_id));
	b = keep(b, sqlite3_bind_blob(st, 3, wrapped, CU_VAULT_WRAPPEDBYTES, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_blob(st, 4, old, CU_VAULT_WRAPPEDBYTES, SQLITE_STATIC));
	rc = cu_sqlite_run_bound(st, b);
	if (rc)
		return rc;
	return sqlite3_changes(q->db) > 0 ? CU_OK : CU_ERR_CONFLICT;
}

/* ---- audit --------------------------------------------------------------- */

static cu_result sqlite_audit_append(cu_store *s, const cu_audit_entry *e)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_AUDIT_APPEND];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_int64(st, 1, (sqlite3_int64)e->seq));
	b = keep(b, sqlite3_bind_int64(st, 2, e->time_us));
	b = keep(b, cu_sqlite_bind_text(st, 3, e->actor));
	b = keep(b, cu_sqlite_bind_text(st, 4, e->role));
	b = keep(b, cu_sqlite_bind_text(st, 5, e->action));
	b = keep(b, cu_sqlite_bind_text(st, 6, e->member));
	b = keep(b, cu_sqlite_bind_text(st, 7, e->purpose));
	b = keep(b, cu_sqlite_bind_text(st, 8, e->fields));
	b = keep(b, cu_sqlite_bind_text(st, 9, e->decision));
	b = keep(b, cu_sqlite_bind_text(st, 10, e->reason));
	b = keep(b, cu_sqlite_bind_text(st, 11, e->case_ref));
	b = keep(b, sqlite3_bind_blob(st, 12, e->prev, CU_AUDIT_HASHBYTES, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_blob(st, 13, e->hash, CU_AUDIT_HASHBYTES, SQLITE_STATIC));
	b = keep(b, cu_sqlite_bind_text(st, 14, e->chain ? e->chain : CU_AUDIT_CHAIN_MAIN));
	return cu_sqlite_run_bound(st, b);
}

/*
 * A hash column of the wrong size (only tampering makes one) is passed on
 * zero-padded or cut to size; the chain check then fails on it.
 */
static void column_hash(sqlite3_stmt *st, int col, unsigned char out[CU_AUDIT_HASHBYTES])
{
	const void *p = sqlite3_column_blob(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (p && n == CU_AUDIT_HASHBYTES) {
		memcpy(out, p, CU_AUDIT_HASHBYTES);
		return;
	}
	memset(out, 0, CU_AUDIT_HASHBYTES);
	if (p)
		memcpy(out, p, n < CU_AUDIT_HASHBYTES ? n : CU_AUDIT_HASHBYTES);
}

/* (seq, hash) of the one row st (bound) answers; seq 0 and a zero hash when none. */
static cu_result seq_hash_row(sqlite3_stmt *st, uint64_t *seq,
                              unsigned char hash[CU_AUDIT_HASHBYTES])
{
	int r = sqlite3_step(st);

	*seq = 0;
	memset(hash, 0, CU_AUDIT_HASHBYTES);
	if (r == SQLITE_ROW) {
		*seq = (uint64_t)sqlite3_column_int64(st, 0);
		column_hash(st, 1, hash);
	}
	cu_sqlite_done(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_audit_last(cu_store *s, uint64_t *seq,
                                   unsigned char hash[CU_AUDIT_HASHBYTES])
{
	return seq_hash_row(Q(s)->st[ST_AUDIT_LAST], seq, hash);
}

static cu_result sqlite_audit_chain_last(cu_store *s, const char *chain, uint64_t *seq,
                                         unsigned char hash[CU_AUDIT_HASHBYTES])
{
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_CHAIN_LAST];
	int r;

	if (!strcmp(chain, CU_AUDIT_CHAIN_MAIN))
		return seq_hash_row(Q(s)->st[ST_AUDIT_MAIN_LAST], seq, hash);
	r = sqlite3_bind_text(st, 1, chain, -1, SQLITE_STATIC);
	if (r) {
		*seq = 0;
		memset(hash, 0, CU_AUDIT_HASHBYTES);
		return bind_failed(st, r);
	}
	return seq_hash_row(st, seq, hash);
}

static cu_result sqlite_audit_count(cu_store *s, uint64_t *n)
{
	return single_int(Q(s)->st[ST_AUDIT_COUNT], n);
}

static const char *column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

/* A uint64_t in decimal and its NUL. */
#define CU_SQLITE_U64_TEXT 21

/* The per-member index's high-water mark: 0 when absent or not a number (all is tail). */
static cu_result read_mark(struct sqlite_store *q, uint64_t *mark)
{
	sqlite3_stmt *st = q->st[ST_AUDIT_MARK];
	int r = sqlite3_step(st);

	*mark = 0;
	if (r == SQLITE_ROW && sqlite3_column_int64(st, 0) > 0)
		*mark = (uint64_t)sqlite3_column_int64(st, 0);
	cu_sqlite_done(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_audit_mark(cu_store *s, uint64_t *mark)
{
	return read_mark(Q(s), mark);
}

/*
 * Indexes every entry after the mark, sorted, and moves the mark to the
 * last entry: one statement and (when there was a tail) one meta row.
 */
static cu_result sqlite_audit_index(cu_store *s, uint64_t *mark)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_AUDIT_INDEX];
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char text[CU_SQLITE_U64_TEXT];
	uint64_t from, head;
	cu_result rc = cu_sqlite_tx_alive(q);

	if (!rc)
		rc = read_mark(q, &from);
	if (!rc)
		rc = sqlite_audit_last(s, &head, hash);
	if (rc)
		return rc;
	*mark = from;
	if (head <= from)
		return CU_OK;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)from);
	rc = cu_sqlite_run(st);
	if (rc)
		return rc;
	snprintf(text, sizeof(text), "%llu", (unsigned long long)head);
	st = q->st[ST_META_SET];
	rc = cu_sqlite_run_bound(
	    st, keep(sqlite3_bind_text(st, 1, CU_SQLITE_AUDIT_MARK, -1, SQLITE_STATIC),
	             sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT)));
	if (!rc)
		*mark = head;
	return rc;
}

/* Runs a count-and-lowest query of the index check (?1 the mark); prepared per use (verify is rare). */
static cu_result check_query(struct sqlite_store *q, const char *text, uint64_t mark, uint64_t *n,
                             uint64_t *first)
{
	sqlite3_stmt *st = NULL;
	int r = sqlite3_prepare_v2(q->db, text, -1, &st, NULL);

	if (!r)
		r = sqlite3_bind_int64(st, 1, (sqlite3_int64)mark);
	if (!r)
		r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*n = (uint64_t)sqlite3_column_int64(st, 0);
		*first = (uint64_t)sqlite3_column_int64(st, 1);
		r = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return cu_sqlite_map_rc(r);
}

/*
 * Each side looked up in the other by its key: an audit row at or below the
 * mark in audit_member by (member, seq), an audit_member row in audit by seq.
 */
static cu_result sqlite_audit_index_check(cu_store *s, cu_audit_index_check *out)
{
	struct sqlite_store *q = Q(s);
	cu_result rc = read_mark(q, &out->mark);
	uint64_t mark = out->mark > (uint64_t)INT64_MAX ? INT64_MAX : out->mark;

	if (!rc)
		rc = check_query(q,
		                 "SELECT count(*), coalesce(min(a.seq), 0) FROM audit a"
		                 " WHERE a.seq <= ?1 AND a.member <> '' AND NOT EXISTS"
		                 " (SELECT 1 FROM audit_member m WHERE m.member = a.member"
		                 " AND m.seq = a.seq)",
		                 mark, &out->missing, &out->first_missing);
	if (!rc)
		rc = check_query(
		    q,
		    "SELECT count(*), coalesce(min(m.seq), 0) FROM audit_member m"
		    " WHERE m.seq <= ?1 AND NOT EXISTS"
		    " (SELECT 1 FROM audit a WHERE a.seq = m.seq AND a.member = m.member)",
		    mark, &out->extra, &out->first_extra);
	return rc;
}

static cu_result sqlite_audit_index_scan(cu_store *s, uint64_t upto, cu_store_audit_index_fn fn,
                                         void *ud)
{
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_INDEX_SCAN];
	int r =
	    sqlite3_bind_int64(st, 1, upto > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)upto);

	if (r)
		return bind_failed(st, r);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ud, column_str(st, 0), (uint64_t)sqlite3_column_int64(st, 1))) {
			r = SQLITE_DONE;
			break;
		}
	cu_sqlite_done(st);
	return r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

/*
 * The hot loop of audit verification: the entry's strings point straight
 * into SQLite's row buffers, valid until the next step.  Steps st (bound)
 * to its end or until fn stops (*stopped), and resets it.
 */
static cu_result scan_rows(sqlite3_stmt *st, cu_store_audit_fn fn, void *ud, bool *stopped)
{
	cu_audit_entry e;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		e.seq = (uint64_t)sqlite3_column_int64(st, 0);
		e.time_us = sqlite3_column_int64(st, 1);
		e.actor = column_str(st, 2);
		e.role = column_str(st, 3);
		e.action = column_str(st, 4);
		e.member = column_str(st, 5);
		e.purpose = column_str(st, 6);
		e.fields = column_str(st, 7);
		e.decision = column_str(st, 8);
		e.reason = column_str(st, 9);
		e.case_ref = column_str(st, 10);
		column_hash(st, 11, e.prev);
		column_hash(st, 12, e.hash);
		e.chain = column_str(st, 13);
		if (fn(ud, &e)) {
			*stopped = true;
			r = SQLITE_DONE;
			break;
		}
	}
	cu_sqlite_done(st);
	return r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

/*
 * A member's entries: the indexed ones up to the mark, then the tail.  The
 * two statements need no common snapshot: rows are never deleted, and the
 * mark read first only ever moves up, so an indexer committing in between
 * hides nothing (the tail scan starts at the mark read, not the new one).
 */
static cu_result scan_member(struct sqlite_store *q, sqlite3_int64 from, const char *member,
                             cu_store_audit_fn fn, void *ud)
{
	static const int stmts[] = {ST_AUDIT_SCAN_INDEXED, ST_AUDIT_SCAN_TAIL};
	bool stopped = false;
	uint64_t mark;
	cu_result rc;

	if (!*member)
		return CU_OK; /* entries about no one are nobody's */
	rc = read_mark(q, &mark);
	if (mark > (uint64_t)INT64_MAX)
		mark = INT64_MAX;
	for (size_t i = 0; !rc && !stopped && i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_stmt *st = q->st[stmts[i]];
		int r = sqlite3_bind_int64(st, 1, from);

		r = keep(r, sqlite3_bind_text(st, 2, member, -1, SQLITE_STATIC));
		r = keep(r, sqlite3_bind_int64(st, 3, (sqlite3_int64)mark));
		rc = r ? bind_failed(st, r) : scan_rows(st, fn, ud, &stopped);
	}
	return rc;
}

static cu_result sqlite_audit_scan(cu_store *s, uint64_t from, const char *member,
                                   cu_store_audit_fn fn, void *ud)
{
	sqlite3_int64 f = from > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)from;
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_SCAN];
	bool stopped = false;
	int r;

	if (member)
		return scan_member(Q(s), f, member, fn, ud);
	r = sqlite3_bind_int64(st, 1, f);
	if (r)
		return bind_failed(st, r);
	return scan_rows(st, fn, ud, &stopped);
}

static cu_result sqlite_audit_hash_at(cu_store *s, uint64_t seq,
                                      unsigned char hash[CU_AUDIT_HASHBYTES], bool *found)
{
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_HASH_AT];
	int r;

	sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		column_hash(st, 0, hash);
		*found = true;
	}
	cu_sqlite_done(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_audit_checkpoint_insert(cu_store *s, const cu_audit_checkpoint *cp)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_AUDIT_CKPT_INSERT];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_int64(st, 1, (sqlite3_int64)cp->seq));
	b = keep(b, sqlite3_bind_blob(st, 2, cp->head, CU_AUDIT_HASHBYTES, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 3, cp->time_us));
	b = keep(b, sqlite3_bind_int64(st, 4, (sqlite3_int64)cp->key_id));
	b = keep(b, sqlite3_bind_blob(st, 5, cp->sig, CU_VAULT_SIGBYTES, SQLITE_STATIC));
	return cu_sqlite_run_bound(st, b);
}

/*
 * A row as stored.  A blob of the wrong size (only tampering makes one) is
 * zero-padded or cut, so its signature then fails to verify.
 */
static void column_checkpoint(sqlite3_stmt *st, cu_audit_checkpoint *cp)
{
	const void *p = sqlite3_column_blob(st, 4);
	size_t n = (size_t)sqlite3_column_bytes(st, 4);

	memset(cp, 0, sizeof(*cp));
	cp->seq = (uint64_t)sqlite3_column_int64(st, 0);
	column_hash(st, 1, cp->head);
	cp->time_us = sqlite3_column_int64(st, 2);
	cp->key_id = (uint32_t)sqlite3_column_int64(st, 3);
	if (p)
		memcpy(cp->sig, p, n < CU_VAULT_SIGBYTES ? n : CU_VAULT_SIGBYTES);
}

static cu_result sqlite_audit_checkpoint_last(cu_store *s, cu_audit_checkpoint *out, bool *found)
{
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_CKPT_LAST];
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW) {
		column_checkpoint(st, out);
		*found = true;
	}
	cu_sqlite_done(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_audit_checkpoint_scan(cu_store *s, cu_store_audit_checkpoint_fn fn,
                                              void *ud)
{
	sqlite3_stmt *st = Q(s)->st[ST_AUDIT_CKPT_SCAN];
	cu_audit_checkpoint cp;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		column_checkpoint(st, &cp);
		if (fn(ud, &cp)) {
			r = SQLITE_DONE;
			break;
		}
	}
	cu_sqlite_done(st);
	return r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

/* ---- meta ---------------------------------------------------------------- */

static cu_result sqlite_meta_get(cu_store *s, const char *key, char *val, size_t vallen,
                                 bool *found)
{
	sqlite3_stmt *st = Q(s)->st[ST_META_GET];
	cu_result rc = CU_OK;
	int r = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);

	if (r)
		return bind_failed(st, r);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		size_t n = (size_t)sqlite3_column_bytes(st, 0);

		if (!t) {
			rc = CU_ERR_STORE;
		} else if (n >= vallen) {
			rc = CU_ERR_TOO_LARGE;
		} else {
			memcpy(val, t, n + 1);
			*found = true;
		}
	} else if (r != SQLITE_DONE) {
		rc = cu_sqlite_map_rc(r);
	}
	cu_sqlite_done(st);
	return rc;
}

static cu_result sqlite_meta_scan(cu_store *s, const char *prefix, cu_store_meta_fn fn, void *ud)
{
	sqlite3_stmt *st = Q(s)->st[ST_META_SCAN];
	int r = sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);

	if (r)
		return bind_failed(st, r);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(ud, column_str(st, 0), column_str(st, 1))) {
			r = SQLITE_DONE;
			break;
		}
	cu_sqlite_done(st);
	return r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_meta_set(cu_store *s, const char *key, const char *val)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_META_SET];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_text(st, 2, val, -1, SQLITE_STATIC));
	return cu_sqlite_run_bound(st, b);
}

/*
 * TRUNCATE copies every frame into the database file and empties the log,
 * so old page images (an erased member's included) are gone from both.  A
 * reader holding an old snapshot keeps frames alive: that is a failure here,
 * since the caller relies on the log being empty.
 */
static cu_result sqlite_checkpoint(cu_store *s)
{
	sqlite3_stmt *st = Q(s)->st[ST_CHECKPOINT];
	cu_result rc = CU_OK;
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW) {
		if (sqlite3_column_int(st, 0) != 0)
			rc = CU_ERR_STORE;
	} else {
		rc = cu_sqlite_map_rc(r == SQLITE_DONE ? SQLITE_MISUSE : r);
	}
	cu_sqlite_done(st);
	return rc;
}

/*
 * SQLite's own checkpoint at the commit that takes the log past pages (0:
 * never); a connection opened here starts with SQLite's default, 1000.
 */
static cu_result sqlite_set_autocheckpoint(cu_store *s, unsigned pages)
{
	int r = sqlite3_wal_autocheckpoint(Q(s)->db, pages > INT_MAX ? INT_MAX : (int)pages);

	return r == SQLITE_OK ? CU_OK : cu_sqlite_map_rc(r);
}

/* PRAGMA cache_size in its negative form: KiB, not pages. */
#define CACHE_PRAGMA_LEN 48 /* "PRAGMA cache_size = -" and an unsigned */

static cu_result sqlite_set_cache_kib(cu_store *s, unsigned kib)
{
	char pragma[CACHE_PRAGMA_LEN];

	snprintf(pragma, sizeof(pragma), "PRAGMA cache_size = -%u", kib);
	return exec(Q(s)->db, pragma) == SQLITE_OK ? CU_OK : CU_ERR_STORE;
}

/*
 * PASSIVE copies what no reader still needs and takes no lock that waits:
 * SQLITE_BUSY (another checkpoint is running, or the database is being
 * recovered) is not an error, only a pass with nothing done.  Without a WAL
 * (journal_mode=memory, for :memory: stores) SQLite reports -1 frames.
 */
static cu_result sqlite_checkpoint_passive(cu_store *s, int *log_frames, int *checkpointed)
{
	int r = sqlite3_wal_checkpoint_v2(Q(s)->db, NULL, SQLITE_CHECKPOINT_PASSIVE, log_frames,
	                                  checkpointed);

	if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
		return CU_OK;
	return r == SQLITE_OK ? CU_OK : cu_sqlite_map_rc(r);
}

/* ---- tokens -------------------------------------------------------------- */

static int bind_opt_int64(sqlite3_stmt *st, int i, int64_t v)
{
	/* 0 means "none" in the row structs: NULL in the table. */
	return v ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

/* Copies a text column of 1..max bytes into dst (max + 1 bytes). */
cu_result cu_sqlite_copy_text(sqlite3_stmt *st, int col, char *dst, size_t max)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = (size_t)sqlite3_column_bytes(st, col);

	if (!t || n == 0 || n > max || memchr(t, '\0', n))
		return CU_ERR_STORE;
	memcpy(dst, t, n);
	dst[n] = '\0';
	return CU_OK;
}

static cu_result read_token(sqlite3_stmt *st, cu_token_row *out)
{
	bool has = false;
	cu_result rc;

	rc = cu_sqlite_copy_text(st, 0, out->id, CU_ID_LEN);
	if (!rc)
		rc = copy_fixed(st, 1, out->hash, sizeof(out->hash), &has);
	if (!rc && !has)
		rc = CU_ERR_STORE;
	/* A role this build does not know is a damaged row, not a guess. */
	if (!rc && cu_role_parse(column_str(st, 2), &out->role) != CU_OK)
		rc = CU_ERR_STORE;
	if (!rc)
		rc = cu_sqlite_copy_text(st, 3, out->name, CU_STORE_TOKEN_NAME_BYTES);
	if (rc)
		return rc;
	out->created_us = sqlite3_column_int64(st, 4);
	out->expires_us = sqlite3_column_int64(st, 5);
	out->revoked_us = sqlite3_column_int64(st, 6);
	return CU_OK;
}

/* Runs a one-row lookup whose key is already bound. */
static cu_result token_lookup(sqlite3_stmt *st, cu_token_row *out)
{
	cu_result rc;
	int r = sqlite3_step(st);

	if (r == SQLITE_ROW)
		rc = read_token(st, out);
	else
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static cu_result sqlite_token_insert(cu_store *s, const cu_token_row *row)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_TOKEN_INSERT];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_blob(st, 2, row->hash, sizeof(row->hash), SQLITE_STATIC));
	b = keep(b, cu_sqlite_bind_text(st, 3, cu_role_name(row->role)));
	b = keep(b, sqlite3_bind_text(st, 4, row->name, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 5, row->created_us));
	b = keep(b, bind_opt_int64(st, 6, row->expires_us));
	b = keep(b, bind_opt_int64(st, 7, row->revoked_us));
	return cu_sqlite_run_bound(st, b);
}

static cu_result sqlite_token_get_by_hash(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                          cu_token_row *out)
{
	sqlite3_stmt *st = Q(s)->st[ST_TOKEN_BY_HASH];
	int b = sqlite3_bind_blob(st, 1, hash, CU_STORE_HASHBYTES, SQLITE_STATIC);

	return b ? bind_failed(st, b) : token_lookup(st, out);
}

static cu_result sqlite_token_get(cu_store *s, const char *id, cu_token_row *out)
{
	sqlite3_stmt *st = Q(s)->st[ST_TOKEN_GET];
	int b = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);

	return b ? bind_failed(st, b) : token_lookup(st, out);
}

static cu_result sqlite_token_list(cu_store *s, cu_store_token_fn fn, void *ud)
{
	sqlite3_stmt *st = Q(s)->st[ST_TOKEN_LIST];
	cu_token_row row;
	cu_result rc = CU_OK;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		rc = read_token(st, &row);
		if (rc || fn(ud, &row)) {
			r = SQLITE_DONE;
			break;
		}
	}
	cu_sqlite_done(st);
	return rc ? rc : r == SQLITE_DONE ? CU_OK : cu_sqlite_map_rc(r);
}

static cu_result sqlite_token_revoke(cu_store *s, const char *id, int64_t when_us)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_TOKEN_REVOKE];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 2, when_us));
	rc = cu_sqlite_run_bound(st, b);
	if (rc)
		return rc;
	return sqlite3_changes(q->db) > 0 ? CU_OK : CU_ERR_NOT_FOUND;
}

/* ---- sessions ------------------------------------------------------------ */

static cu_result sqlite_session_insert(cu_store *s, const cu_session_row *row)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_SESSION_INSERT];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b = SQLITE_OK;

	if (rc)
		return rc;
	b = keep(b, sqlite3_bind_blob(st, 1, row->hash, sizeof(row->hash), SQLITE_STATIC));
	b = keep(b, sqlite3_bind_text(st, 2, row->member, -1, SQLITE_STATIC));
	b = keep(b,
	         sqlite3_bind_blob(st, 3, row->csrf_hash, sizeof(row->csrf_hash), SQLITE_STATIC));
	b = keep(b, sqlite3_bind_int64(st, 4, row->created_us));
	b = keep(b, sqlite3_bind_int64(st, 5, row->expires_us));
	return cu_sqlite_run_bound(st, b);
}

static cu_result read_session(sqlite3_stmt *st, cu_session_row *out)
{
	bool has_hash = false, has_csrf = false;
	cu_result rc;

	rc = copy_fixed(st, 0, out->hash, sizeof(out->hash), &has_hash);
	if (!rc)
		rc = cu_sqlite_copy_text(st, 1, out->member, CU_ID_LEN);
	if (!rc)
		rc = copy_fixed(st, 2, out->csrf_hash, sizeof(out->csrf_hash), &has_csrf);
	if (!rc && !(has_hash && has_csrf))
		rc = CU_ERR_STORE;
	if (rc)
		return rc;
	out->created_us = sqlite3_column_int64(st, 3);
	out->expires_us = sqlite3_column_int64(st, 4);
	return CU_OK;
}

static cu_result sqlite_session_get(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES],
                                    cu_session_row *out)
{
	sqlite3_stmt *st = Q(s)->st[ST_SESSION_GET];
	cu_result rc;
	int r = sqlite3_bind_blob(st, 1, hash, CU_STORE_HASHBYTES, SQLITE_STATIC);

	if (r)
		return bind_failed(st, r);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		rc = read_session(st, out);
	else
		rc = r == SQLITE_DONE ? CU_ERR_NOT_FOUND : cu_sqlite_map_rc(r);
	cu_sqlite_done(st);
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

static cu_result sqlite_session_delete(cu_store *s, const unsigned char hash[CU_STORE_HASHBYTES])
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_SESSION_DELETE];
	cu_result rc = cu_sqlite_tx_alive(q);

	if (rc)
		return rc;
	rc = cu_sqlite_run_bound(st,
	                         sqlite3_bind_blob(st, 1, hash, CU_STORE_HASHBYTES, SQLITE_STATIC));
	if (rc)
		return rc;
	return sqlite3_changes(q->db) > 0 ? CU_OK : CU_ERR_NOT_FOUND;
}

/* Runs a bound DELETE and counts the rows it removed. */
static cu_result run_counted(struct sqlite_store *q, sqlite3_stmt *st, uint64_t *n)
{
	cu_result rc = cu_sqlite_run(st);

	if (!rc)
		*n = (uint64_t)sqlite3_changes(q->db);
	return rc;
}

static cu_result sqlite_session_delete_member(cu_store *s, const char *member, uint64_t *n)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_SESSION_DELETE_MEMBER];
	cu_result rc = cu_sqlite_tx_alive(q);
	int b;

	if (rc)
		return rc;
	b = sqlite3_bind_text(st, 1, member, -1, SQLITE_STATIC);
	if (b) {
		/* Unbound, the DELETE would match nothing and look like "no sessions". */
		cu_sqlite_done(st);
		return cu_sqlite_map_rc(b);
	}
	return run_counted(q, st, n);
}

static cu_result sqlite_session_purge_expired(cu_store *s, int64_t now_us, uint64_t *n)
{
	struct sqlite_store *q = Q(s);
	sqlite3_stmt *st = q->st[ST_SESSION_PURGE];
	cu_result rc = cu_sqlite_tx_alive(q);

	if (rc)
		return rc;
	sqlite3_bind_int64(st, 1, now_us);
	return run_counted(q, st, n);
}

static const cu_store_ops sqlite_ops = {
    .name = "sqlite",
    .close = sqlite_close,
    .begin = sqlite_begin,
    .commit = sqlite_commit,
    .rollback = sqlite_rollback,
    .savepoint = sqlite_savepoint,
    .savepoint_release = sqlite_savepoint_release,
    .savepoint_rollback = sqlite_savepoint_rollback,
    .snapshot_begin = sqlite_snapshot_begin,
    .snapshot_end = sqlite_snapshot_end,
    .member_insert = sqlite_member_insert,
    .member_get = sqlite_member_get,
    .member_update = sqlite_member_update,
    .member_erase = sqlite_member_erase,
    .member_find = sqlite_member_find,
    .member_count = sqlite_member_count,
    .member_ids = sqlite_member_ids,
    .member_keys = sqlite_member_keys,
    .member_rewrap = sqlite_member_rewrap,
    .audit_append = sqlite_audit_append,
    .audit_last = sqlite_audit_last,
    .audit_chain_last = sqlite_audit_chain_last,
    .audit_count = sqlite_audit_count,
    .audit_scan = sqlite_audit_scan,
    .audit_hash_at = sqlite_audit_hash_at,
    .audit_mark = sqlite_audit_mark,
    .audit_index = sqlite_audit_index,
    .audit_index_check = sqlite_audit_index_check,
    .audit_index_scan = sqlite_audit_index_scan,
    .audit_checkpoint_insert = sqlite_audit_checkpoint_insert,
    .audit_checkpoint_last = sqlite_audit_checkpoint_last,
    .audit_checkpoint_scan = sqlite_audit_checkpoint_scan,
    .meta_get = sqlite_meta_get,
    .meta_set = sqlite_meta_set,
    .meta_scan = sqlite_meta_scan,
    .checkpoint = sqlite_checkpoint,
    .set_autocheckpoint = sqlite_set_autocheckpoint,
    .set_cache_kib = sqlite_set_cache_kib,
    .checkpoint_passive = sqlite_checkpoint_passive,
    .consent = &cu_sqlite_consent_ops,
    .notify = &cu_sqlite_notify_ops,
    .diary = &cu_sqlite_diary_ops,
    .request = &cu_sqlite_request_ops,
    .third_party = &cu_sqlite_third_party_ops,
    .subcontractor = &cu_sqlite_subcontractor_ops,
    .backup = &cu_sqlite_backup_ops,
    .beacon = &cu_sqlite_beacon_ops,
    .stats = &cu_sqlite_stats_ops,
    .limits = &cu_sqlite_limits_ops,
    .token_insert = sqlite_token_insert,
    .token_get_by_hash = sqlite_token_get_by_hash,
    .token_get = sqlite_token_get,
    .token_list = sqlite_token_list,
    .token_revoke = sqlite_token_revoke,
    .session_insert = sqlite_session_insert,
    .session_get = sqlite_session_get,
    .session_delete = sqlite_session_delete,
    .session_delete_member = sqlite_session_delete_member,
    .session_purge_expired = sqlite_session_purge_expired,
};
