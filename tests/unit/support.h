/*
 * tests/unit/support.h — helpers shared by the unit tests.
 */
#ifndef CU_TEST_SUPPORT_H
#define CU_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "ctx/ctx.h"
#include "store/store.h"

/* A fresh empty directory under $TMPDIR; the caller frees the string. */
char *cu_test_tmpdir(void);
/* rm -rf of a directory made by cu_test_tmpdir.  NULL is a no-op. */
void cu_test_rmdir(char *dir);
/* Path to a file in the source tree ($CU_SOURCE_DIR/rel); static buffer. */
const char *cu_test_source_path(const char *rel);
/* Initialises a data directory in a new tmpdir (low Argon2id cost) and opens it. */
cu_ctx *cu_test_ctx_new(char **dir_out);
/* Closes and removes. */
void cu_test_ctx_free(cu_ctx *ctx, char *dir);
/* Whether the bytes of needle occur in file path (false if no such file). */
bool cu_test_file_contains(const char *path, const char *needle);
/* As above for n arbitrary bytes. */
bool cu_test_file_contains_bytes(const char *path, const void *needle, size_t n);
/*
 * Whether n bytes occur in the files the store of data directory data_dir
 * keeps on disk: its custodian.db and WAL on SQLite; on PostgreSQL every file
 * of the test cluster's data directory (tables, indexes, WAL) after a
 * CHECKPOINT — the database server's disk, which "no plaintext on disk" is
 * about.  Pair each "not there" with a value that must be there (an id), so
 * the search is seen to work.
 */
bool cu_test_store_files_contain(const char *data_dir, const void *needle, size_t n);
bool cu_test_store_files_contain_text(const char *data_dir, const char *needle);
/*
 * The same for the store's tables alone: on SQLite as above (secure_delete
 * overwrites a row's old bytes); on PostgreSQL, which keeps a changed row's
 * old version until a vacuum and its WAL until recycled (docs/postgresql.md,
 * "Erased rows"), after VACUUM FULL of `tables` (comma-separated, in the store
 * at url) and a CHECKPOINT, the cluster's table files only.
 */
bool cu_test_store_tables_contain(const char *url, const char *data_dir, const char *tables,
                                  const void *needle, size_t n);
/* Whether they are free of it; on PostgreSQL once no open transaction may still see it. */
bool cu_test_store_tables_clear_of(const char *url, const char *data_dir, const char *tables,
                                   const void *needle, size_t n);
/* Number of audit entries in the store. */
unsigned long long cu_test_audit_count(cu_ctx *ctx);
/* The operator, as the command line acts. */
extern const struct cu_actor cu_test_operator;


/*
 * The store tests run on both backends (docs/postgresql.md, "Conformance"):
 * CU_TEST_STORE=pg runs them on PostgreSQL, anything else (or nothing) on
 * SQLite.  PostgreSQL's database is named by CU_TEST_PG_URL, or by the file
 * that CU_TEST_PG_URL_FILE names (scripts/pg-cluster writes one); a pg run
 * without either fails, it never skips.
 */
bool cu_test_store_is_pg(void);
/*
 * A url for a fresh empty store: sqlite:DIR/store.db, or on PostgreSQL a new
 * schema of its own in the test database (the url sets search_path to it),
 * so tests running at once never meet.  Fails the test when none can be made.
 */
void cu_test_store_url(const char *dir, char *url, size_t len);
/* Drops the schema cu_test_store_url made (PostgreSQL); a no-op for SQLite. */
void cu_test_store_drop(const char *url);
/*
 * Empties the store at url (closed) to nothing, so the next open makes it
 * anew: SQLite's file and its -wal and -shm removed, or the schema dropped and
 * made again under its name.
 */
void cu_test_store_empty(const char *url);
/*
 * PostgreSQL only: the first column of the first row of a query run on the
 * store at url (a connection of its own: committed state only) as text in out.
 */
void cu_test_pg_value(const char *url, const char *sql, char *out, size_t outlen);
/* PostgreSQL only: runs sql on the store at url; false and the server's message in err if it failed. */
bool cu_test_pg_exec(const char *url, const char *sql, char *err, size_t errlen);

/*
 * Raw SQL on a store, as someone with the database to themselves would run
 * it (to tamper with rows, to count them), the same statements on both
 * backends: sqlite3 on the file of a sqlite: url, libpq on a PostgreSQL url,
 * each call on a connection of its own (it sees committed state only).
 * Several statements may be given, separated by ';'.  Besides the SQL both
 * dialects share, the statements may use zeroblob(n), randomblob(n),
 * hex(bytes) (upper case) and unhex(text) on either store: the helper adds what a store lacks
 * (unhex on SQLite's connection; the four as functions in the PostgreSQL
 * store's schema).  The url of a data directory's store: cu_test_ctx_store_url.
 */
/* Runs sql; false and the store's message in err if it failed; *changed (if not NULL): the rows
 * the last statement changed. */
bool cu_test_store_sql_try(const char *url, const char *sql, long long *changed, char *err,
                           size_t errlen);
/* Runs sql and returns the rows its last statement changed; fails the test if it failed. */
long long cu_test_store_sql(const char *url, const char *sql);
/* Calls fn with each row's first column as text ("" for NULL), in order; returns the rows. */
size_t cu_test_store_sql_rows(const char *url, const char *sql,
                              void (*fn)(void *ud, const char *value), void *ud);
/* The first column of a query's first row as text in out; fails the test without a row. */
void cu_test_store_sql_text(const char *url, const char *sql, char *out, size_t outlen);
/* As cu_test_store_sql_text, read as an integer (NULL is 0). */
long long cu_test_store_sql_int(const char *url, const char *sql);
/* Drops the append-only triggers of table (TABLE_no_update, TABLE_no_delete), as an attacker would. */
void cu_test_store_unguard(const char *url, const char *table);
/*
 * XORs byte i (0-based) of the bytes in column col of the one row of table
 * that `where` (an SQL condition) selects with 0x01: a flip, undone by a second.
 */
void cu_test_store_flip(const char *url, const char *table, const char *col, const char *where,
                        size_t i);
/*
 * An injected fault: every INSERT into table fails (with the message
 * 'injected') while the SQL condition `when` holds, for every connection to
 * the store (a trigger named fault); cu_test_store_fault_clear removes it.
 */
void cu_test_store_fault(const char *url, const char *table, const char *when);
void cu_test_store_fault_clear(const char *url, const char *table);
/*
 * A consistent copy of the store at url, as a backup holds it, in a new store
 * whose url is put in to_url: SQLite's VACUUM INTO a file in dir (store.db);
 * on PostgreSQL a new schema (cu_test_store_url) with each table's columns,
 * indexes and rows, copied in one repeatable-read transaction.  Free it with
 * cu_test_store_drop.
 */
void cu_test_store_copy(const char *url, const char *dir, char *to_url, size_t len);
/*
 * Runs sql on the store's own connection, behind the store's back (e.g.
 * "ROLLBACK": the transaction lost, as after a full disk or a dropped
 * connection); false if it failed.  s must be of the backend the test runs on.
 */
bool cu_test_store_own_sql(cu_store *s, const char *sql);
/* The first column of a query's first row on the store's own connection (its transaction's view), as text. */
void cu_test_store_own_text(cu_store *s, const char *sql, char *out, size_t outlen);
/* Whether the store's own connection has no transaction open (SQLite's autocommit, PostgreSQL's idle). */
bool cu_test_store_own_idle(cu_store *s);
/*
 * Another writer holding the store's write lock until cu_test_store_unlock:
 * SQLite's BEGIN IMMEDIATE, or on PostgreSQL the transaction-level advisory
 * lock the store's writers take (src/store/pg/pg.c).
 */
struct cu_test_lock;
struct cu_test_lock *cu_test_store_lock(const char *url);
void cu_test_store_unlock(struct cu_test_lock *l);
/* The url of the store of ctx's data directory (its configured one, or sqlite:DIR/custodian.db). */
void cu_test_ctx_store_url(const cu_ctx *ctx, char *url, size_t len);

#endif
