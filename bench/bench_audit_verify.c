/*
 * bench_audit_verify — how fast `custodian audit verify` walks the chain,
 * as a ratio to raw BLAKE2b over the same bytes in the same run.
 *
 *     bench_audit_verify BUILD_DIR DATA_DIR WORK_DIR
 *
 * DATA_DIR is a data directory with a long chain (bench_import leaves one
 * with CU_BENCH_MEMBERS + 2 entries).  Environment: CU_BENCH_VERIFY_ROUNDS
 * (default 3; each side's best time counts: a walk takes about a second, so
 * one disturbed run would decide), CU_BENCH_TIMEOUT (seconds per child
 * process).  The commands' output goes to files in WORK_DIR.
 *
 * 1. Reads the audit table's size: N entries and the total length of their
 *    hash encodings (src/audit/audit.c entry_hash: 11 + 32 + 8 + 8 bytes, then per
 *    text a 4-byte length and its bytes).
 * 2. Baseline: bench_hash_baseline hashes N buffers of those lengths.
 * 3. Ours: `custodian --data DATA_DIR audit verify`, which must answer
 *    "audit intact: N entries checked".
 * Goals: entries/s at least 0.25 of the baseline's, and over 1,000,000.
 * The database is in the page cache (it was just written and read), so this
 * measures CPU, not the disk.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "bench_util.h"

#define GOAL_RATIO 0.25
#define GOAL_RATE  1000000.0
#define ROUNDS_MAX 5
/* entry_hash's fixed part: domain, prev, seq, time, nine u32 lengths */
#define FIXED_BYTES (11 + 32 + 8 + 8 + 9 * 4)

static char build_dir[2048], data_dir[2048], work_dir[2048];
static unsigned timeout_s;

static int chain_size(unsigned long long *n, unsigned long long *bytes)
{
	static const char q[] =
	    "SELECT count(*), total(length(CAST(actor AS BLOB)) + length(CAST(role AS BLOB))"
	    " + length(CAST(action AS BLOB)) + length(CAST(member AS BLOB))"
	    " + length(CAST(purpose AS BLOB)) + length(CAST(fields AS BLOB))"
	    " + length(CAST(decision AS BLOB)) + length(CAST(reason AS BLOB))"
	    " + length(CAST(case_ref AS BLOB))) FROM audit";
	char path[2200];
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int ok = 0;

	bench_path(path, sizeof(path), data_dir, "custodian.db");
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*n = (unsigned long long)sqlite3_column_int64(st, 0);
		*bytes = *n * FIXED_BYTES + (unsigned long long)sqlite3_column_double(st, 1);
		ok = *n > 0;
	}
	if (!ok)
		fprintf(stderr, "bench: cannot read the audit table of '%s': %s\n", path,
		        db ? sqlite3_errmsg(db) : "open failed");
	sqlite3_finalize(st);
	sqlite3_close(db);
	return ok ? 0 : -1;
}

static int run_baseline(unsigned long long n, unsigned long long bytes, bench_run *r)
{
	char bin[2200], err[2200], num[32], total[32];
	char *argv[] = {bin, num, total, NULL};

	bench_path(bin, sizeof(bin), build_dir, "bench_hash_baseline");
	bench_path(err, sizeof(err), work_dir, "hash.err");
	snprintf(num, sizeof(num), "%llu", n);
	snprintf(total, sizeof(total), "%llu", bytes);
	if (bench_spawn(argv, NULL, err, timeout_s, r) || r->exit_code != 0) {
		bench_report_failure("bench_hash_baseline", r, err);
		return -1;
	}
	return 0;
}

static int run_verify(unsigned long long n, bench_run *r)
{
	char bin[2200], out[2200], err[2200], line[256], want[80];
	char *argv[] = {bin, "--data", data_dir, "audit", "verify", NULL};

	bench_path(bin, sizeof(bin), build_dir, "custodian");
	bench_path(out, sizeof(out), work_dir, "verify.out");
	bench_path(err, sizeof(err), work_dir, "verify.err");
	if (bench_spawn(argv, out, err, timeout_s, r) || r->exit_code != 0) {
		bench_report_failure("custodian audit verify", r, err);
		return -1;
	}
	snprintf(want, sizeof(want), "audit intact: %llu entries checked", n);
	if (bench_first_line(out, line, sizeof(line)) || strcmp(line, want) != 0) {
		fprintf(stderr, "bench: custodian audit verify said '%s', expected '%s'\n", line,
		        want);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	bench_run base[ROUNDS_MAX], ours[ROUNDS_MAX];
	const bench_run *bb, *bo;
	double ratio, rate;
	long rss_base, rss_ours;
	unsigned long long n = 0, bytes = 0;
	unsigned rounds;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_audit_verify BUILD_DIR DATA_DIR WORK_DIR\n");
		return 2;
	}
	snprintf(build_dir, sizeof(build_dir), "%s", argv[1]);
	snprintf(data_dir, sizeof(data_dir), "%s", argv[2]);
	snprintf(work_dir, sizeof(work_dir), "%s", argv[3]);
	rounds = (unsigned)bench_env("CU_BENCH_VERIFY_ROUNDS", 3, 1, ROUNDS_MAX);
	timeout_s = (unsigned)bench_env("CU_BENCH_TIMEOUT", BENCH_TIMEOUT_DEFAULT, 10, 86400);
	if (chain_size(&n, &bytes))
		return 1;
	printf("== audit verify: %llu entries, %.1f bytes hashed per entry, %u round(s)\n", n,
	       (double)bytes / (double)n, rounds);
	for (unsigned r = 0; r < rounds; r++) {
		int failed = r % 2 == 0
		                 ? run_baseline(n, bytes, &base[r]) || run_verify(n, &ours[r])
		                 : run_verify(n, &ours[r]) || run_baseline(n, bytes, &base[r]);

		if (failed)
			return 1;
		printf("  round %u: BLAKE2b %.3f s, custodian %.3f s, ratio %.3f\n", r + 1,
		       base[r].secs, ours[r].secs, base[r].secs / ours[r].secs);
	}
	bb = bench_best(base, rounds);
	bo = bench_best(ours, rounds);
	rss_base = bench_max_rss(base, rounds);
	rss_ours = bench_max_rss(ours, rounds);
	ratio = bb->secs / bo->secs;
	rate = (double)n / bo->secs;
	printf("\n");
	bench_table_head("audit verify (best round each)", "entries/s");
	bench_table_row("baseline: BLAKE2b-256, same bytes", bb, n, rss_base);
	bench_table_row("custodian audit verify", bo, n, rss_ours);
	printf("  verify throughput ratio (custodian / BLAKE2b) = %.3f   goal >= %.2f   %s\n",
	       ratio, GOAL_RATIO, bench_verdict(ratio >= GOAL_RATIO));
	printf("  verify entries/s = %.0f   goal > %.0f   %s\n", rate, GOAL_RATE,
	       bench_verdict(rate > GOAL_RATE));
	printf("  verify peak RSS ratio (custodian / BLAKE2b)   = %.2f\n",
	       (double)rss_ours / (double)rss_base);
	if (n < 1000000)
		printf(
		    "  (the goals are set for 1000000+ entries; a smaller chain is a smoke test:\n"
		    "   opening the data directory weighs more than the walk)\n");
	printf("result: audit_verify entries=%llu baseline_entries_per_s=%.0f"
	       " custodian_entries_per_s=%.0f ratio=%.3f goal=%.2f %s rate_goal=%.0f %s"
	       " rss_custodian_mib=%.1f rss_baseline_mib=%.1f\n",
	       n, (double)n / bb->secs, rate, ratio, GOAL_RATIO, bench_verdict(ratio >= GOAL_RATIO),
	       GOAL_RATE, bench_verdict(rate > GOAL_RATE), (double)rss_ours / 1024.0,
	       (double)rss_base / 1024.0);
	return 0;
}
