/*
 * bench_stats — a member statistic over many members (issue 13, "Fast";
 * docs/statistics.md) as a ratio to the raw decryption of the fields it
 * needs, measured in the same run.
 *
 *     bench_stats WORK_DIR
 *
 * Environment: CU_BENCH_MEMBERS (default 1000000), CU_BENCH_ROUNDS (default 3,
 * at most 9), CU_BENCH_STATS_BY (comma-separated statistics, default
 * "occupation,hobbies,age_band"; purpose research).
 *
 * 1. Makes WORK_DIR/data (untimed): `init`, then CU_BENCH_MEMBERS synthetic
 *    members (bench/synth.h) written as CSV and imported in-process.  A
 *    WORK_DIR/data already holding that many members is reused.
 * 2. For each statistic, plans and records one release (its audit entry
 *    and the stats secret; untimed), then alternates, round by round:
 *      baseline  the same one-statement scan, each member's data key
 *                unwrapped and the statistic's fields opened, nothing
 *                counted (cu_stats_members_raw with count = false);
 *      stat      the statistic: the same scan and opening, the door's
 *                per-member rule, counting, the cell keys, disclosure
 *                control (cu_stats_members_compute).
 *    Every time is printed, and ratio = baseline_time / stat_time per round
 *    and over all rounds (sum over sum), against the goal (>= 0.5).
 *
 * Exit status: 0 when the benchmark ran (a missed goal is printed, "GOAL
 * MISSED", not an error), 1 when something failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench_util.h"
#include "domain/import.h"
#include "domain/statistics.h"
#include "synth.h"

#define GOAL_RATIO 0.5
#define ROUNDS_MAX 9
#define BY_MAX     8
#define PATH_BYTES 4096

static const cu_actor bench_operator = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

static void csv_value(FILE *f, const char *v, size_t len)
{
	if (!strpbrk(v, ",\"\r\n")) {
		fwrite(v, 1, len, f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		if (v[i] == '"')
			fputc('"', f);
		fputc(v[i], f);
	}
	fputc('"', f);
}

static int write_csv(const char *path, uint64_t n)
{
	synth_member m;
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	for (int i = 0; i < SYNTH_NFIELDS; i++)
		fprintf(f, "%s%s", i ? "," : "", synth_fields[i]);
	fputc('\n', f);
	for (uint64_t i = 1; i <= n; i++) {
		synth_member_make(i, &m);
		for (int k = 0; k < SYNTH_NFIELDS; k++) {
			if (k)
				fputc(',', f);
			csv_value(f, m.v[k], m.len[k]);
		}
		fputc('\n', f);
	}
	return fclose(f) ? -1 : 0;
}

/* WORK_DIR/data with n members: reused when it has them, made otherwise. */
static cu_ctx *store_of(const char *work, uint64_t n)
{
	char dir[PATH_BYTES], csv[PATH_BYTES], err[CU_ERR_MSG_MAX];
	cu_import_report rep = {0};
	struct stat st;
	cu_ctx *ctx = NULL;
	cu_stats_plan *plan = calloc(1, sizeof(*plan));
	cu_stats_query q = {&bench_operator, "age_band", "research", NULL, 0, 0, 0, NULL, false};
	const char *msg;
	double t0;

	bench_path(dir, sizeof(dir), work, "data");
	if (!plan)
		return NULL;
	if (stat(dir, &st) == 0 && cu_ctx_open(dir, &ctx, err, sizeof(err)) == CU_OK &&
	    cu_stats_members_plan(ctx->policy, ctx->store, &q, plan, &msg) == CU_OK &&
	    plan->members == n) {
		printf("reusing %s: %llu members\n", dir, (unsigned long long)n);
		free(plan);
		return ctx;
	}
	free(plan);
	cu_ctx_close(ctx);
	ctx = NULL;
	bench_path(csv, sizeof(csv), work, "members.csv");
	if (stat(dir, &st) == 0) {
		fprintf(stderr,
		        "bench_stats: %s exists with another number of members; remove it\n", dir);
		return NULL;
	}
	printf("making %s: %llu members (untimed) ...\n", dir, (unsigned long long)n);
	fflush(stdout);
	t0 = bench_now();
	if (write_csv(csv, n) || cu_ctx_init_dir(dir, NULL, err, sizeof(err)) ||
	    cu_ctx_open(dir, &ctx, err, sizeof(err))) {
		fprintf(stderr, "bench_stats: cannot make the store: %s\n", err);
		cu_ctx_close(ctx);
		return NULL;
	}
	if (cu_import_file(ctx, &bench_operator, csv, &rep, NULL, NULL, NULL, err, sizeof(err)) ||
	    rep.imported != n) {
		fprintf(stderr, "bench_stats: import: %s (imported %llu)\n", err,
		        (unsigned long long)rep.imported);
		cu_ctx_close(ctx);
		return NULL;
	}
	unlink(csv);
	printf("made in %.1f s\n", bench_now() - t0);
	return ctx;
}

static int one(cu_ctx *ctx, const char *by, unsigned rounds, double *base_sum, double *stat_sum)
{
	cu_stats_plan *plan = calloc(1, sizeof(*plan));
	cu_stats_query q = {&bench_operator, by, "research", NULL, 0, 0, 0, NULL, false};
	double b = 0, s = 0;
	const char *msg = NULL;
	cu_result rc;

	if (!plan)
		return -1;
	/* The default release (Laplace, the policy's ε), on a store the bench may reuse: room. */
	ctx->policy->statistics.epsilon_budget = CU_STATS_EPSILON_BUDGET_MAX;
	rc = cu_stats_members_plan(ctx->policy, ctx->store, &q, plan, &msg);
	if (!rc)
		rc = cu_stats_record(ctx, plan);
	if (rc) {
		fprintf(stderr, "bench_stats: %s: %s %s\n", by, cu_strerror(rc), msg ? msg : "");
		free(plan);
		return -1;
	}
	printf("\nmembers by %s (purpose research, %llu members)\n", by,
	       (unsigned long long)plan->members);
	printf("  %-6s %12s %12s %8s\n", "round", "baseline s", "stat s", "ratio");
	for (unsigned r = 0; r < rounds; r++) {
		cu_stats_table t;
		double t0, tb = 0, ts = 0;

		/* Alternating: baseline first in even rounds, the statistic first in odd ones. */
		for (int side = 0; side < 2; side++) {
			bool base = (side == 0) == (r % 2 == 0);

			cu_stats_table_init(&t);
			t0 = bench_now();
			rc = base ? cu_stats_members_raw(plan, ctx->vault, ctx->store, false, &t)
			          : cu_stats_members_compute(plan, ctx->vault, ctx->store, &t);
			if (base)
				tb = bench_now() - t0;
			else
				ts = bench_now() - t0;
			cu_stats_table_release(&t);
			if (rc) {
				fprintf(stderr, "bench_stats: %s: %s\n", by, cu_strerror(rc));
				free(plan);
				return -1;
			}
		}
		printf("  %-6u %12.3f %12.3f %8.3f\n", r + 1, tb, ts, tb / ts);
		b += tb;
		s += ts;
	}
	printf("  %-6s %12.3f %12.3f %8.3f  goal >= %.1f: %s\n", "all", b, s, b / s, GOAL_RATIO,
	       bench_verdict(b / s >= GOAL_RATIO));
	*base_sum += b;
	*stat_sum += s;
	free(plan);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long n, rounds;
	char bys[256], *save = NULL;
	const char *by_env = getenv("CU_BENCH_STATS_BY");
	double b = 0, s = 0;
	cu_ctx *ctx;
	int rc = 0;

	/* Each line as it comes, into a log file too: a long run shows where it is. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2) {
		fprintf(stderr, "usage: bench_stats WORK_DIR\n");
		return 1;
	}
	n = bench_env("CU_BENCH_MEMBERS", 1000000, 100, 100000000);
	rounds = bench_env("CU_BENCH_ROUNDS", 3, 1, ROUNDS_MAX);
	snprintf(bys, sizeof(bys), "%s",
	         by_env && *by_env ? by_env : "occupation,hobbies,age_band");
	ctx = store_of(argv[1], n);
	if (!ctx)
		return 1;
	for (char *by = strtok_r(bys, ",", &save); by && !rc; by = strtok_r(NULL, ",", &save))
		rc = one(ctx, by, (unsigned)rounds, &b, &s);
	cu_ctx_close(ctx);
	if (rc)
		return 1;
	printf("\nall statistics: baseline %.3f s, stat %.3f s, ratio %.3f (goal >= %.1f): %s\n", b,
	       s, b / s, GOAL_RATIO, bench_verdict(b / s >= GOAL_RATIO));
	return 0;
}
