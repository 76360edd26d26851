/*
 * bench_sqlite_commits — the durable-write benchmark's yardstick: how many
 * durable commits a lone SQLite writer makes on this disk, one row each.
 *
 *     bench_sqlite_commits DIR SECONDS
 *
 * Creates DIR/commits.db with the store's durability settings
 * (journal_mode=WAL, synchronous=FULL: every COMMIT waits for fsync of the
 * WAL), then, for SECONDS, INSERTs one row per transaction: a 22-character
 * id, a 32-byte index key (UNIQUE, as the e-mail blind index) and a
 * 400-byte blob (about the size of a registered member's sealed record).
 * That is what a server without group commit could do at best: one fsync
 * per write.  Prints
 *
 *     commits: N in S s = W/s
 *
 * and removes the database.  DIR should be the data directory's file
 * system (bench/run-http passes its scratch directory).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_sqlite.h"
#include "bench_util.h"

static int exec(sqlite3 *db, const char *sql)
{
	return bench_sqlite_exec("bench_sqlite_commits", db, sql);
}

int main(int argc, char **argv)
{
	char path[4096], side[4200], id[23], blob[400];
	unsigned char key[32];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	unsigned long long n = 0;
	double secs, t0, t;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: bench_sqlite_commits DIR SECONDS\n");
		return 2;
	}
	secs = (double)bench_arg("seconds", argv[2], 1, 3600);
	bench_path(path, sizeof(path), argv[1], "commits.db");
	unlink(path);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL)) {
		fprintf(stderr, "bench_sqlite_commits: cannot open %s\n", path);
		goto out;
	}
	if (exec(db, "PRAGMA journal_mode=WAL") || exec(db, "PRAGMA synchronous=FULL") ||
	    exec(db, "CREATE TABLE t (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	             " k BLOB UNIQUE, data BLOB)"))
		goto out;
	if (sqlite3_prepare_v2(db, "INSERT INTO t (id, k, data) VALUES (?1, ?2, ?3)", -1, &st,
	                       NULL)) {
		fprintf(stderr, "bench_sqlite_commits: %s\n", sqlite3_errmsg(db));
		goto out;
	}
	memset(blob, 0xa5, sizeof(blob));
	t0 = bench_now();
	do {
		/* Autocommit: each INSERT is its own transaction, made durable before the next. */
		for (size_t i = 0; i < sizeof(key); i += 8) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			memcpy(key + i, &x, 8);
		}
		snprintf(id, sizeof(id), "%022llu", n);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, key, sizeof(key), SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, blob, sizeof(blob), SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			fprintf(stderr, "bench_sqlite_commits: insert: %s\n", sqlite3_errmsg(db));
			goto out;
		}
		sqlite3_reset(st);
		n++;
		t = bench_now() - t0;
	} while (t < secs);
	printf("commits: %llu in %.2f s = %.0f/s\n", n, t, (double)n / t);
	status = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return status;
}
