/*
 * bench/bench_sqlite.h — what the drivers that use SQLite directly share:
 * a statement run with its error said, and a database removed with its
 * write-ahead log and shared-memory file.
 *
 * Header-only (static inline), as bench_util.h, for the same reason.
 */
#ifndef CU_BENCH_SQLITE_H
#define CU_BENCH_SQLITE_H

#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

/* A database's path and its longest suffix ("-wal"), and the NUL. */
#define BENCH_SQLITE_PATH_MAX (4096 + 8)

/* Runs sql on db; on failure says so on stderr as "WHO: SQL: message" and returns -1. */
static inline int bench_sqlite_exec(const char *who, sqlite3 *db, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fprintf(stderr, "%s: %s: %s\n", who, sql, msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Removes the database at path and its -wal and -shm files (those missing are no error). */
static inline void bench_sqlite_remove(const char *path)
{
	static const char *const sides[] = {"", "-wal", "-shm"};
	char p[BENCH_SQLITE_PATH_MAX];

	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sides[i]);
		unlink(p);
	}
}

#endif
