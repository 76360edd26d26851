/*
 * bench_audit_apart — what a reader's page cache loses when the audit entries
 * of reads are committed into the same database file as the members, with
 * plain SQLite and nothing of the server.
 *
 *     bench_audit_apart DIR
 *
 * In WAL mode a read transaction that starts after another connection's
 * COMMIT to the same file finds the WAL index changed and drops its whole page
 * cache; its pages come back by pread.  The server commits an audit entry for
 * every read, so every read of the network threads' readers starts on an
 * empty cache.  This driver measures that effect on the reader alone:
 *
 *   - DIR/members.db: CU_BENCH_APART_MEMBERS members (default 100000), each a
 *     row keyed by a random 16-byte id (a UNIQUE index) with 300 bytes of
 *     fields; an audit table beside it;
 *   - DIR/audit.db: the same audit table in a file of its own;
 *   - a reader connection (cache bounded like the server's readers:
 *     CU_BENCH_APART_CACHE_KIB, default 512) that looks up random members,
 *     each lookup in a read transaction of its own (BEGIN; SELECT; COMMIT),
 *     as the server does per request;
 *   - a writer that, after every k lookups, commits k audit rows (one per
 *     lookup, as the server's group commit does) in one transaction.
 *
 * Cases, for k = 1, 4 and 16 (16: about the server's group commit; 4: what
 * each of four network threads' readers sees of a batch of 16):
 *
 *   A  the writer commits into members.db (the audit table beside the members)
 *   B  the writer commits into audit.db (another file, another connection)
 *   C  no writes at all (the upper bound)
 *
 * Only the reader's CPU is counted: the thread's CPU clock is read around
 * each run of k lookups, and the writer's commits fall outside.  The clock's
 * own cost (calibrated, printed) is subtracted.  The cases run alternately,
 * CU_BENCH_APART_ROUNDS rounds (default 5) of CU_BENCH_APART_LOOKUPS lookups
 * per case and k (default 20000), in a rotating order; the median round
 * counts.  Prints, per case and k, CPU µs per lookup and the reader's page
 * cache misses per lookup (each one a pread), then the ratios B/A and C/A.
 * CU_BENCH_APART_MMAP_MIB (default 0, as the server) gives the reader a
 * memory map of that size (PRAGMA mmap_size): its misses are then read from
 * the map, not by pread.
 *
 * The writer's commits use synchronous=NORMAL (no fsync in WAL mode) unless
 * CU_BENCH_APART_FULL=1: what a commit does to a reader's cache does not
 * depend on the fsync, and one fsync per lookup would make a run take
 * minutes.  DIR is removed of the two databases at the end.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_sqlite.h"
#include "bench_util.h"

#define ID_LEN         16  /* a member id's bytes */
#define FIELDS_LEN     300 /* a member's sealed fields, about */
#define HASH_LEN       32  /* an audit entry's hash */
#define LOAD_BATCH     10000
#define ROUNDS_MAX     9
#define CASES          3
#define KS             3
#define CALIBRATE_RUNS 100000
#define PATH_LEN       4096

enum { CASE_SAME, CASE_APART, CASE_NONE };
static const char *const case_name[CASES] = {"A same file", "B apart", "C no writes"};
static const unsigned ks[KS] = {1, 4, 16};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	return bench_xorshift64(&rng);
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int exec(sqlite3 *db, const char *sql)
{
	return bench_sqlite_exec("bench_audit_apart", db, sql);
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit_apart: %s: %s\n", sql, sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}

/* Runs a statement that returns no row, and resets it. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		fprintf(stderr, "bench_audit_apart: %s: %s\n", sqlite3_sql(st),
		        sqlite3_errmsg(sqlite3_db_handle(st)));
		return -1;
	}
	return 0;
}

static int open_db(const char *path, sqlite3 **db)
{
	if (sqlite3_open_v2(path, db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	                    NULL) != SQLITE_OK) {
		fprintf(stderr, "bench_audit_apart: cannot open %s\n", path);
		return -1;
	}
	sqlite3_busy_timeout(*db, 5000);
	return exec(*db, "PRAGMA journal_mode=WAL");
}

#define AUDIT_TABLE                                                                                \
	"CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, time_us INTEGER NOT NULL,"     \
	" action TEXT NOT NULL, member BLOB NOT NULL, purpose TEXT NOT NULL, hash BLOB NOT NULL)"

/* members.db with its members and an empty audit table; audit.db with an empty one. */
static int load(sqlite3 *mdb, sqlite3 *adb, unsigned char *ids, unsigned long members)
{
	unsigned char fields[FIELDS_LEN];
	sqlite3_stmt *ins = NULL;
	int r = -1;

	if (exec(mdb, "CREATE TABLE members (rowid INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
	              " created_us INTEGER NOT NULL, fields BLOB)") ||
	    exec(mdb, AUDIT_TABLE) || exec(adb, AUDIT_TABLE) ||
	    prepare(mdb, "INSERT INTO members (id, created_us, fields) VALUES (?1, ?2, ?3)", &ins))
		goto out;
	for (unsigned long i = 0; i < members; i++) {
		unsigned char *id = ids + i * ID_LEN;

		for (size_t j = 0; j < ID_LEN; j += sizeof(uint64_t)) {
			uint64_t x = next_random();

			memcpy(id + j, &x, sizeof(x));
		}
		for (size_t j = 0; j < FIELDS_LEN; j++)
			fields[j] = (unsigned char)next_random();
		if (i % LOAD_BATCH == 0 && exec(mdb, "BEGIN"))
			goto out;
		sqlite3_bind_blob(ins, 1, id, ID_LEN, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 2, (sqlite3_int64)i);
		sqlite3_bind_blob(ins, 3, fields, FIELDS_LEN, SQLITE_STATIC);
		if (step_done(ins))
			goto out;
		if ((i % LOAD_BATCH == LOAD_BATCH - 1 || i == members - 1) && exec(mdb, "COMMIT"))
			goto out;
	}
	r = exec(mdb, "PRAGMA wal_checkpoint(TRUNCATE)");
out:
	sqlite3_finalize(ins);
	return r;
}

struct writer {
	sqlite3 *db;
	sqlite3_stmt *begin, *insert, *commit;
	sqlite3_int64 seq;
};

static int writer_open(struct writer *w, const char *path, int full)
{
	memset(w, 0, sizeof(*w));
	if (open_db(path, &w->db) ||
	    exec(w->db, full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL") ||
	    prepare(w->db, "BEGIN IMMEDIATE", &w->begin) ||
	    prepare(w->db,
	            "INSERT INTO audit (time_us, action, member, purpose, hash)"
	            " VALUES (?1, 'read', ?2, 'support', ?3)",
	            &w->insert) ||
	    prepare(w->db, "COMMIT", &w->commit))
		return -1;
	return 0;
}

static void writer_close(struct writer *w)
{
	sqlite3_finalize(w->begin);
	sqlite3_finalize(w->insert);
	sqlite3_finalize(w->commit);
	sqlite3_close(w->db);
}

/* One transaction of n audit rows, as the server's writer commits a batch of reads. */
static int writer_commit(struct writer *w, const unsigned char *member, unsigned n)
{
	unsigned char hash[HASH_LEN];

	if (step_done(w->begin))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		for (size_t j = 0; j < HASH_LEN; j++)
			hash[j] = (unsigned char)next_random();
		sqlite3_bind_int64(w->insert, 1, ++w->seq);
		sqlite3_bind_blob(w->insert, 2, member, ID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(w->insert, 3, hash, HASH_LEN, SQLITE_STATIC);
		if (step_done(w->insert))
			return -1;
	}
	return step_done(w->commit);
}

struct reader {
	sqlite3 *db;
	sqlite3_stmt *begin, *lookup, *commit;
};

/* One lookup in a read transaction of its own; 0 when the member was found. */
static int reader_lookup(struct reader *rd, const unsigned char *id, uint64_t *sum)
{
	int rc;

	if (step_done(rd->begin))
		return -1;
	sqlite3_bind_blob(rd->lookup, 1, id, ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(rd->lookup);
	if (rc == SQLITE_ROW) {
		const unsigned char *f = sqlite3_column_blob(rd->lookup, 0);

		*sum += f ? f[0] : 0;
	}
	sqlite3_reset(rd->lookup);
	if (step_done(rd->commit) || rc != SQLITE_ROW)
		return -1;
	return 0;
}

struct result {
	double us;     /* reader CPU per lookup */
	double misses; /* reader page cache misses per lookup */
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char mpath[PATH_LEN], apath[PATH_LEN], side[PATH_LEN + 8];
	unsigned long members, lookups, rounds, cache_kib, mmap_mib;
	struct result res[ROUNDS_MAX][CASES][KS];
	struct writer same = {0}, apart = {0};
	struct reader rd = {0};
	unsigned char *ids = NULL;
	sqlite3 *mdb = NULL, *adb = NULL;
	double clock_cost, t0;
	uint64_t sum = 0;
	int full, status = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_audit_apart DIR\n");
		return 2;
	}
	members = bench_env("CU_BENCH_APART_MEMBERS", 100000, 1000, 10000000);
	lookups = bench_env("CU_BENCH_APART_LOOKUPS", 20000, 16, 10000000);
	rounds = bench_env("CU_BENCH_APART_ROUNDS", 5, 1, ROUNDS_MAX);
	mmap_mib = bench_env("CU_BENCH_APART_MMAP_MIB", 0, 0, 65536);
	cache_kib = bench_env("CU_BENCH_APART_CACHE_KIB", 512, 16, 1048576);
	full = (int)bench_env("CU_BENCH_APART_FULL", 0, 0, 1);
	bench_path(mpath, sizeof(mpath), argv[1], "members.db");
	bench_path(apath, sizeof(apath), argv[1], "audit.db");
	bench_sqlite_remove(mpath);
	bench_sqlite_remove(apath);
	ids = malloc(members * ID_LEN);
	if (!ids)
		goto out;

	/* The data, then the connections: two writers, one reader. */
	if (open_db(mpath, &mdb) || open_db(apath, &adb) || load(mdb, adb, ids, members))
		goto out;
	sqlite3_close(mdb);
	sqlite3_close(adb);
	mdb = adb = NULL;
	if (writer_open(&same, mpath, full) || writer_open(&apart, apath, full))
		goto out;
	if (open_db(mpath, &rd.db))
		goto out;
	snprintf(side, sizeof(side), "PRAGMA cache_size = -%lu", cache_kib);
	if (exec(rd.db, side))
		goto out;
	snprintf(side, sizeof(side), "PRAGMA mmap_size = %lu", mmap_mib * 1048576);
	if (exec(rd.db, side) || prepare(rd.db, "BEGIN", &rd.begin) ||
	    prepare(rd.db, "SELECT fields FROM members WHERE id = ?1", &rd.lookup) ||
	    prepare(rd.db, "COMMIT", &rd.commit))
		goto out;

	/* What reading the thread's CPU clock twice costs, taken off every run of k lookups. */
	t0 = thread_cpu();
	for (int i = 0; i < CALIBRATE_RUNS; i++)
		(void)thread_cpu();
	clock_cost = (thread_cpu() - t0) / CALIBRATE_RUNS;

	printf("bench_audit_apart: %lu members, %lu lookups per case and k, %lu rounds, reader "
	       "cache %lu KiB, reader mmap %lu MiB, writer synchronous=%s; the CPU clock costs "
	       "%.2f µs a reading\n",
	       members, lookups, rounds, cache_kib, mmap_mib, full ? "FULL" : "NORMAL",
	       clock_cost * 1e6);
	/* Warm the file system's cache and the reader's statements, uncounted. */
	for (unsigned long i = 0; i < members; i += 7)
		if (reader_lookup(&rd, ids + i * ID_LEN, &sum))
			goto out;

	for (unsigned long r = 0; r < rounds; r++) {
		for (int c0 = 0; c0 < CASES; c0++) {
			int c = (int)((c0 + r) % CASES); /* rotating order: A B C, B C A, C A B */

			for (int ki = 0; ki < KS; ki++) {
				unsigned k = ks[ki];
				struct writer *w = c == CASE_SAME    ? &same
				                   : c == CASE_APART ? &apart
				                                     : NULL;
				int cur, hi;
				double cpu = 0;

				sqlite3_db_status(rd.db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1);
				for (unsigned long i = 0; i < lookups; i += k) {
					const unsigned char *id = NULL;
					double t;

					t = thread_cpu();
					for (unsigned j = 0; j < k; j++) {
						id = ids + (next_random() % members) * ID_LEN;
						if (reader_lookup(&rd, id, &sum))
							goto out;
					}
					cpu += thread_cpu() - t - clock_cost;
					if (w && writer_commit(w, id, k))
						goto out;
				}
				sqlite3_db_status(rd.db, SQLITE_DBSTATUS_CACHE_MISS, &cur, &hi, 1);
				res[r][c][ki].us = cpu * 1e6 / (double)lookups;
				res[r][c][ki].misses = (double)cur / (double)lookups;
				printf("  round %lu  %-12s k=%-2u  %7.2f µs/lookup  %5.2f "
				       "misses/lookup\n",
				       r + 1, case_name[c], k, res[r][c][ki].us,
				       res[r][c][ki].misses);
			}
		}
	}

	printf("median of %lu rounds (reader CPU per lookup; page cache misses per lookup):\n",
	       rounds);
	for (int ki = 0; ki < KS; ki++) {
		double med[CASES], mis[CASES];

		for (int c = 0; c < CASES; c++) {
			double v[ROUNDS_MAX], m[ROUNDS_MAX];

			for (unsigned long r = 0; r < rounds; r++) {
				v[r] = res[r][c][ki].us;
				m[r] = res[r][c][ki].misses;
			}
			qsort(v, rounds, sizeof(v[0]), cmp_double);
			qsort(m, rounds, sizeof(m[0]), cmp_double);
			med[c] = v[rounds / 2];
			mis[c] = m[rounds / 2];
		}
		printf("  k=%-2u  A %.2f µs (%.2f misses)  B %.2f µs (%.2f)  C %.2f µs (%.2f)  "
		       "B/A %.2f  C/A %.2f  A-B %.2f µs\n",
		       ks[ki], med[CASE_SAME], mis[CASE_SAME], med[CASE_APART], mis[CASE_APART],
		       med[CASE_NONE], mis[CASE_NONE], med[CASE_APART] / med[CASE_SAME],
		       med[CASE_NONE] / med[CASE_SAME], med[CASE_SAME] - med[CASE_APART]);
	}
	status = sum == 0; /* the fields were read */
out:
	sqlite3_finalize(rd.begin);
	sqlite3_finalize(rd.lookup);
	sqlite3_finalize(rd.commit);
	sqlite3_close(rd.db);
	writer_close(&same);
	writer_close(&apart);
	sqlite3_close(mdb);
	sqlite3_close(adb);
	free(ids);
	bench_sqlite_remove(mpath);
	bench_sqlite_remove(apath);
	return status;
}
