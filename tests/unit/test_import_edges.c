/*
 * test_import_edges.c — imports at the reader's limits (domain/import.h): a
 * row whose values exceed the largest row is refused as too_long and the rows
 * around it are imported; a header naming more columns than the policy has
 * fields stops the import before any row; rows ended by a bare CR are rows;
 * an import larger than the sealer's queue, with progress reported, imports
 * every row once.
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
#include "support.h"

#define ROWS 20000 /* over the queue and one progress step (0x4000 rows) */

struct seen {
	uint64_t rejected_line;
	char field[64], reason[64];
	unsigned progress_calls;
	uint64_t last_done;
};

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	struct seen *s = ud;

	(void)rc;
	s->rejected_line = line;
	if (errs && errs->n) {
		snprintf(s->field, sizeof(s->field), "%s", errs->e[0].field);
		snprintf(s->reason, sizeof(s->reason), "%s", errs->e[0].reason);
	}
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct seen *s = ud;

	(void)total;
	s->progress_calls++;
	s->last_done = done;
}

static cu_result import(cu_ctx *ctx, const char *path, cu_import_report *rep, struct seen *s,
                        char *err, size_t errlen)
{
	memset(s, 0, sizeof(*s));
	return cu_import_file(ctx, &cu_test_operator, path, rep, on_reject, on_progress, s, err,
	                      errlen);
}

static void test_row_too_long(void **state)
{
	char *tmp, path[4300], err[CU_ERR_MSG_MAX] = "", id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_import_report rep;
	struct seen s;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/long.csv", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name,address,phone,email\n", f);
	fputs("Before Longq,1 Row,03-5555-0001,before@example.org\n", f);
	fputs("Long Rowq,", f);
	for (int i = 0; i < (1 << 20) + 10; i++)
		fputc('x', f);
	fputs(",03-5555-0002,long@example.org\n", f);
	fputs("After Longq,3 Row,03-5555-0003,after@example.org\n", f);
	fclose(f);
	assert_int_equal(import(ctx, path, &rep, &s, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.imported, 2);
	assert_int_equal(rep.rejected, 1);
	assert_int_equal(s.rejected_line, 3);
	assert_string_equal(s.reason, "too_long");
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "email", "after@example.org", id),
	                 CU_OK);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "email", "long@example.org", id),
	                 CU_ERR_NOT_FOUND);
	cu_test_ctx_free(ctx, tmp);
}

static void test_header_too_wide_and_bare_cr(void **state)
{
	char *tmp, path[4300], err[CU_ERR_MSG_MAX] = "", id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_import_report rep;
	struct seen s;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/wide.csv", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name", f);
	for (int i = 0; i < 200; i++)
		fprintf(f, ",c%d", i);
	fputs("\nWide Rowq\n", f);
	fclose(f);
	assert_int_not_equal(import(ctx, path, &rep, &s, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.imported, 0);
	assert_non_null(strstr(err, "line 1"));

	/* Rows ended by a bare CR (old Mac files) are rows. */
	snprintf(path, sizeof(path), "%s/cr.csv", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name,address,phone,email\r"
	      "Carriage Oneq,1 Return Rd,03-5555-0011,cr1@example.org\r"
	      "Carriage Twoq,2 Return Rd,03-5555-0012,cr2@example.org\r",
	      f);
	fclose(f);
	assert_int_equal(import(ctx, path, &rep, &s, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.imported, 2);
	assert_int_equal(cu_member_lookup(ctx->vault, ctx->store, "email", "cr2@example.org", id),
	                 CU_OK);
	cu_test_ctx_free(ctx, tmp);
}

static void test_large_import_with_progress(void **state)
{
	char *tmp, path[4300], err[CU_ERR_MSG_MAX] = "", id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_import_report rep;
	struct seen s;
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/large.csv", tmp);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("name,address,phone,email\n", f);
	for (int i = 0; i < ROWS; i++)
		fprintf(f, "Bulk Memberq,%d Bulk Row,03-7%03d-%04d,bulk%d@example.org\n", i,
		        i / 10000, i % 10000, i);
	fclose(f);
	if (import(ctx, path, &rep, &s, err, sizeof(err)))
		fail_msg("import: %s", err);
	assert_int_equal(rep.imported, ROWS);
	assert_int_equal(rep.rejected, 0);
	assert_true(s.progress_calls >= 1);
	assert_int_equal(
	    cu_member_lookup(ctx->vault, ctx->store, "email", "bulk19999@example.org", id), CU_OK);
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_row_too_long),
	    cmocka_unit_test(test_header_too_wide_and_bare_cr),
	    cmocka_unit_test(test_large_import_with_progress),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
