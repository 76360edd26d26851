/*
 * test_import_batches.c — the import's batches without a savepoint per row
 * (domain/import.h, cu_member_apply_in_batch in domain/members.h): a
 * duplicate e-mail inside one batch, across batches and against a member
 * registered before the import is refused alone, by line, whether it comes
 * first, in the middle or last in its batch; the rows around it are
 * imported.  A store failure in the middle of a batch, before or after the
 * member row is written, and a collision of the audit chain after it, stop
 * the import and roll the open batch back whole: the batches committed
 * before stay, no member is left without its audit entry, and none is
 * reported as a duplicate.  The audit chain verifies after each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/import.h"
#include "domain/members.h"
#include "store/store.h"
#include "support.h"

#define REJECTS_MAX 16
#define CSV_MAX     8192

struct reject {
	uint64_t line;
	cu_result rc;
	char field[CU_FIELD_NAME_MAX], reason[CU_FIELD_NAME_MAX];
};

struct fixture {
	cu_ctx *ctx;
	char *dir;
	size_t nrej;
	struct reject rej[REJECTS_MAX];
	cu_import_report report;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->ctx = cu_test_ctx_new(&fx->dir);
	assert_non_null(fx->ctx);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cu_test_ctx_free(fx->ctx, fx->dir);
	free(fx);
	return 0;
}

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	struct fixture *fx = ud;
	struct reject *r;

	assert_true(fx->nrej < REJECTS_MAX);
	assert_non_null(errs);
	assert_true(errs->n >= 1);
	r = &fx->rej[fx->nrej++];
	r->line = line;
	r->rc = rc;
	snprintf(r->field, sizeof(r->field), "%s", errs->e[0].field);
	snprintf(r->reason, sizeof(r->reason), "%s", errs->e[0].reason);
}

/*
 * A CSV of `rows` members: row i (its line is i + 1) is "row<i>@example.com";
 * dup_of[i], when non-zero, makes row i carry row dup_of[i]'s address in
 * capitals; bad[i] leaves row i's required telephone empty.
 */
static void make_csv(char *buf, size_t len, int rows, const int *dup_of, const int *bad)
{
	size_t off = (size_t)snprintf(buf, len, "name,address,phone,email\n");

	for (int i = 1; i <= rows; i++) {
		char email[64];

		if (dup_of && dup_of[i])
			snprintf(email, sizeof(email), "ROW%d@Example.com", dup_of[i]);
		else
			snprintf(email, sizeof(email), "row%d@example.com", i);
		off +=
		    (size_t)snprintf(buf + off, len - off, "Row Number%d,%d Batch Street,%s,%s\n",
		                     i, i, bad && bad[i] ? "" : "090-7000-0000", email);
		assert_true(off < len);
	}
}

static cu_result import_csv(struct fixture *fx, const char *csv)
{
	char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/batch.csv", fx->dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(csv, 1, strlen(csv), f), strlen(csv));
	assert_int_equal(fclose(f), 0);
	fx->nrej = 0;
	fx->err[0] = '\0';
	return cu_import_file(fx->ctx, &cu_test_operator, path, &fx->report, on_reject, NULL, fx,
	                      fx->err, sizeof(fx->err));
}

static uint64_t member_count(cu_ctx *ctx)
{
	uint64_t n = 0;

	assert_int_equal(cu_store_member_count(ctx->store, &n), CU_OK);
	return n;
}

static bool registered(cu_ctx *ctx, int row)
{
	char email[64], id[CU_ID_LEN + 1];
	cu_result rc;

	snprintf(email, sizeof(email), "row%d@example.com", row);
	rc = cu_member_find(ctx, &cu_test_operator, "email", email, id);
	if (rc != CU_OK && rc != CU_ERR_NOT_FOUND)
		fail_msg("find row %d: %s", row, cu_strerror(rc));
	return rc == CU_OK;
}

static void expect_reject(const struct fixture *fx, size_t i, uint64_t line, cu_result rc,
                          const char *field, const char *reason)
{
	if (i >= fx->nrej)
		fail_msg("expected a reject of line %llu, got only %zu rejects",
		         (unsigned long long)line, fx->nrej);
	assert_int_equal(fx->rej[i].line, line);
	assert_int_equal(fx->rej[i].rc, rc);
	assert_string_equal(fx->rej[i].field, field);
	assert_string_equal(fx->rej[i].reason, reason);
}

static long long query_int(cu_ctx *ctx, const char *sql)
{
	char url[1024];

	cu_test_ctx_store_url(ctx, url, sizeof(url));
	return cu_test_store_sql_int(url, sql);
}

/*
 * The store as a whole: nothing left open, exactly one "register" audit
 * entry per member, a chain that verifies.
 */
static void expect_consistent(struct fixture *fx)
{
	cu_audit_report rep;

	assert_int_equal(fx->ctx->tx_depth, 0);
	assert_int_equal(query_int(fx->ctx, "SELECT count(*) FROM audit WHERE action = 'register'"),
	                 member_count(fx->ctx));
	memset(&rep, 0, sizeof(rep));
	if (cu_audit_verify(fx->ctx->store, &rep, NULL, NULL) != CU_OK)
		fail_msg("audit chain broken at %llu: %s", (unsigned long long)rep.broken_seq,
		         rep.what);
}

/* The context still registers after the import stopped (faults removed). */
static void expect_usable(struct fixture *fx)
{
	static const cu_kv later[] = {
	    {"name", "Uma Later"},
	    {"address", "1 Urchin Upper"},
	    {"phone", "090-8000-0099"},
	    {"email", "uma.later@example.com"},
	};
	char id[CU_ID_LEN + 1];
	uint64_t before = member_count(fx->ctx);
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(fx->ctx, &cu_test_operator, later, 4, NULL, id, &errs),
	                 CU_OK);
	assert_int_equal(member_count(fx->ctx), before + 1);
	expect_consistent(fx);
}

/* ---- duplicates -------------------------------------------------------- */

static void test_duplicate_inside_one_batch(void **state)
{
	struct fixture *fx = *state;
	char csv[CSV_MAX];
	int dup_of[9] = {0};

	/* Rows 4 and 5 repeat row 2's address, in the batch that holds row 2. */
	dup_of[4] = 2;
	dup_of[5] = 2;
	make_csv(csv, sizeof(csv), 8, dup_of, NULL);
	fx->ctx->config.import_batch = 100;
	assert_int_equal(import_csv(fx, csv), CU_OK);
	assert_int_equal(fx->report.imported, 6);
	assert_int_equal(fx->report.rejected, 2);
	assert_int_equal(fx->nrej, 2);
	expect_reject(fx, 0, 5, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 1, 6, CU_ERR_CONFLICT, "email", "duplicate");
	assert_int_equal(member_count(fx->ctx), 6);
	for (int i = 1; i <= 8; i++)
		assert_int_equal(registered(fx->ctx, i), i != 4 && i != 5);
	expect_consistent(fx);
}

static void test_duplicate_across_batches(void **state)
{
	struct fixture *fx = *state;
	static const cu_kv before[] = {
	    {"name", "Pre Existing"},
	    {"address", "1 Old Road"},
	    {"phone", "090-8000-0001"},
	    {"email", "row99@example.com"},
	};
	char csv[CSV_MAX], id[CU_ID_LEN + 1];
	int dup_of[11] = {0};
	cu_errors errs;

	/* A member registered before the import: row 1 is refused against it. */
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(fx->ctx, &cu_test_operator, before, 4, NULL, id, &errs),
	                 CU_OK);
	dup_of[1] = 99;
	dup_of[6] = 2;  /* row 2's batch (rows 2, 3) is committed by then */
	dup_of[10] = 9; /* row 9 opened the batch row 10 is in */
	make_csv(csv, sizeof(csv), 10, dup_of, NULL);
	fx->ctx->config.import_batch = 2;
	assert_int_equal(import_csv(fx, csv), CU_OK);
	assert_int_equal(fx->report.imported, 7);
	assert_int_equal(fx->report.rejected, 3);
	assert_int_equal(fx->nrej, 3);
	expect_reject(fx, 0, 2, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 1, 7, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 2, 11, CU_ERR_CONFLICT, "email", "duplicate");
	assert_int_equal(member_count(fx->ctx), 8);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(registered(fx->ctx, i), i != 1 && i != 6 && i != 10);
	expect_consistent(fx);
}

/*
 * Batches of 3 registered rows (a refused row does not count towards one; a
 * batch's transaction begins with the first row that reaches the store).
 * Row (line):
 *
 *   1 (2) batch 1      2 (3) duplicate of 1: middle   3 (4) batch 1
 *   4 (5) invalid      5 (6) batch 1, commits
 *   6 (7) duplicate of 3 (committed): first in batch 2, which it opens
 *   7 (8) invalid      8 (9) batch 2      9 (10) batch 2
 *  10 (11) duplicate of 9: just before the row that closes batch 2
 *  11 (12) batch 2, commits               12 (13) batch 3
 *  13 (14) duplicate of 12: the file's last row, last in batch 3
 */
static void test_bad_row_first_middle_last(void **state)
{
	struct fixture *fx = *state;
	char csv[CSV_MAX];
	int dup_of[14] = {0}, bad[14] = {0};

	dup_of[2] = 1;
	bad[4] = 1;
	dup_of[6] = 3;
	bad[7] = 1;
	dup_of[10] = 9;
	dup_of[13] = 12;
	make_csv(csv, sizeof(csv), 13, dup_of, bad);
	fx->ctx->config.import_batch = 3;
	assert_int_equal(import_csv(fx, csv), CU_OK);
	assert_int_equal(fx->report.imported, 7);
	assert_int_equal(fx->report.rejected, 6);
	assert_int_equal(fx->nrej, 6);
	expect_reject(fx, 0, 3, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 1, 5, CU_ERR_INVALID_FIELD, "phone", "required");
	expect_reject(fx, 2, 7, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 3, 8, CU_ERR_INVALID_FIELD, "phone", "required");
	expect_reject(fx, 4, 11, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 5, 14, CU_ERR_CONFLICT, "email", "duplicate");
	assert_int_equal(member_count(fx->ctx), 7);
	for (int i = 1; i <= 13; i++)
		assert_int_equal(registered(fx->ctx, i), !dup_of[i] && !bad[i]);
	expect_consistent(fx);
}

/* Every row of a batch refused: the batch commits nothing, the next goes on. */
static void test_batch_of_refusals_only(void **state)
{
	struct fixture *fx = *state;
	char csv[CSV_MAX];
	int dup_of[8] = {0};

	dup_of[3] = 1;
	dup_of[4] = 2;
	dup_of[5] = 1;
	make_csv(csv, sizeof(csv), 7, dup_of, NULL);
	fx->ctx->config.import_batch = 2;
	assert_int_equal(import_csv(fx, csv), CU_OK);
	assert_int_equal(fx->report.imported, 4);
	assert_int_equal(fx->report.rejected, 3);
	expect_reject(fx, 0, 4, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 1, 5, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 2, 6, CU_ERR_CONFLICT, "email", "duplicate");
	assert_int_equal(member_count(fx->ctx), 4);
	expect_consistent(fx);
}

/* ---- store failures in the middle of a batch ---------------------------- */

/*
 * Eight rows in batches of two; a fault (armed by `arm` on the store, for
 * every connection) strikes row 6 (line 7), in the third batch after row 5
 * is written.  Rows 1-4 stay, rows 5-8 are not there, nothing is refused.
 */
static void import_into_fault(struct fixture *fx, void (*arm)(const char *url, bool on))
{
	char csv[CSV_MAX], url[1024];

	cu_test_ctx_store_url(fx->ctx, url, sizeof(url));
	make_csv(csv, sizeof(csv), 8, NULL, NULL);
	fx->ctx->config.import_batch = 2;
	arm(url, true);
	assert_int_equal(import_csv(fx, csv), CU_ERR_STORE);
	arm(url, false);
	assert_non_null(strstr(fx->err, "line 7"));
	assert_null(strstr(fx->err, "row6"));
	assert_int_equal(fx->report.imported, 4);
	assert_int_equal(fx->report.rejected, 0);
	assert_int_equal(fx->nrej, 0);
	assert_int_equal(member_count(fx->ctx), 4);
	for (int i = 1; i <= 8; i++)
		assert_int_equal(registered(fx->ctx, i), i <= 4);
	expect_consistent(fx);
	expect_usable(fx);
}

static void fail_member_insert(const char *url, bool on)
{
	if (on)
		cu_test_store_fault(url, "members", "(SELECT count(*) FROM members) >= 5");
	else
		cu_test_store_fault_clear(url, "members");
}

/* The member INSERT itself fails (as on a full disk): nothing of row 6 was written. */
static void test_store_failure_at_member_row(void **state)
{
	import_into_fault(*state, fail_member_insert);
}

static void fail_audit_insert(const char *url, bool on)
{
	if (on)
		cu_test_store_fault(url, "audit", "(SELECT count(*) FROM members) >= 6");
	else
		cu_test_store_fault_clear(url, "audit");
}

/* The audit INSERT fails after row 6's member row went in: the batch goes whole. */
static void test_store_failure_after_member_row(void **state)
{
	import_into_fault(*state, fail_audit_insert);
}

/* The seq after which an audit entry collides (fail_audit_collision). */
static long long collide_after;

static void fail_audit_collision(const char *url, bool on)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "CREATE UNIQUE INDEX fault ON audit(action) WHERE seq > %lld",
	         collide_after);
	cu_test_store_sql(url, on ? sql : "DROP INDEX fault");
}

/*
 * Row 6's audit entry collides with a unique index after its member row is
 * written (as when another writer took the sequence number): a conflict, but
 * not the row's duplicate e-mail.  The import stops as on any store failure
 * instead of refusing the row with a half-written batch under it.
 */
static void test_audit_collision_after_member_row(void **state)
{
	struct fixture *fx = *state;

	/* Batches 1 and 2 add entries seq+1 .. seq+4; row 5 gets seq+5, row 6 collides with it. */
	collide_after = query_int(fx->ctx, "SELECT max(seq) FROM audit") + 4;
	import_into_fault(fx, fail_audit_collision);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_duplicate_inside_one_batch),       T(test_duplicate_across_batches),
	    T(test_bad_row_first_middle_last),        T(test_batch_of_refusals_only),
	    T(test_store_failure_at_member_row),      T(test_store_failure_after_member_row),
	    T(test_audit_collision_after_member_row),
	};
#undef T

	/* These small files go through the sealer thread and its queue (test_import.c
	 * runs them on the caller's thread alone). */
	cu_import_thread_from = 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
