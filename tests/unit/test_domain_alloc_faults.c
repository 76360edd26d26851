/*
 * test_domain_alloc_faults.c — the domain's reports when memory runs out
 * (tests/unit/alloc_fault.h): the record of processing, a breach assessment
 * and its draft, the retention plan, a member's export and its CSV, the keys'
 * status.  For N = 1, 2, ...: the Nth
 * allocation fails, the operation runs once.  An attempt that met a failure
 * ends in "out of memory" or a store error — never a wrong answer (not
 * found, forbidden, invalid) — and hands back no document; the first N the
 * operation no longer reaches must succeed with the same answer as before.
 * Uses the process's malloc where the build allows (no sanitizer), else
 * SQLite's allocator only.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fault.h"
#include "domain/breach.h"
#include "domain/export.h"
#include "domain/keys.h"
#include "domain/members.h"
#include "domain/records.h"
#include "domain/retention.h"
#include "support.h"

#define N(a)       (sizeof(a) / sizeof((a)[0]))
#define MAX_POINTS 20000

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

/* A resource failure, not an answer. */
static bool resource_failure(cu_result rc)
{
	return rc == CU_ERR_NOMEM || rc == CU_ERR_STORE || rc == CU_ERR_IO || rc == CU_ERR_INTERNAL;
}

typedef cu_result (*op_fn)(cu_ctx *ctx, void *ud, size_t *answer);

/* Runs op with the Nth allocation failing, N = 1, 2, ... until it no longer fails. */
static void sweep(cu_ctx *ctx, cu_fault_kind kind, const char *name, op_fn op, void *ud)
{
	size_t want = 0, got = 0;
	unsigned long n;

	assert_int_equal(op(ctx, ud, &want), CU_OK);
	for (n = 1; n < MAX_POINTS; n++) {
		cu_result rc;
		bool injected;

		cu_fault_arm(kind, n, false);
		rc = op(ctx, ud, &got);
		injected = cu_fault_disarm();
		if (!injected) {
			if (rc != CU_OK)
				fail_msg("%s: failed (%d) with no injected fault at %lu", name,
				         (int)rc, n);
			assert_int_equal(got, want);
			break;
		}
		if (rc != CU_OK && !resource_failure(rc))
			fail_msg("%s: allocation %lu failed, answered %d", name, n, (int)rc);
		if (rc == CU_OK)
			assert_int_equal(got,
			                 want); /* a failure it recovered from changed nothing */
	}
	assert_true(n > 1);
	assert_true(n < MAX_POINTS);
}

static cu_result op_records(cu_ctx *ctx, void *ud, size_t *answer)
{
	json_t *rec = NULL;
	char *md = NULL;
	size_t len = 0;
	cu_result rc;

	(void)ud;
	rc = cu_records_build(ctx, &rec);
	if (rc) {
		assert_null(rec);
		return rc;
	}
	rc = cu_records_markdown(rec, &md, &len);
	if (!rc)
		*answer = json_array_size(json_object_get(rec, "purposes"));
	else
		assert_null(md);
	free(md);
	json_decref(rec);
	return rc;
}

static cu_result op_breach(cu_ctx *ctx, void *ud, size_t *answer)
{
	cu_breach_query *q = ud;
	json_t *rep = NULL;
	char *md = NULL;
	size_t len = 0;
	cu_result rc;

	rc = cu_breach_assess(ctx, &officer, q, &rep);
	if (rc) {
		assert_null(rep);
		return rc;
	}
	rc = cu_breach_markdown(rep, &md, &len);
	if (!rc)
		*answer = json_array_size(json_object_get(rep, "members"));
	else
		assert_null(md);
	free(md);
	json_decref(rep);
	return rc;
}

static int count_item(void *ud, const cu_retention_item *it)
{
	(void)it;
	(*(size_t *)ud)++;
	return 0;
}

static cu_result op_plan(cu_ctx *ctx, void *ud, size_t *answer)
{
	(void)ud;
	*answer = 0;
	return cu_retention_plan(ctx, cu_now_us(), count_item, answer);
}

static cu_result op_export(cu_ctx *ctx, void *ud, size_t *answer)
{
	const char *member = ud;
	cu_actor self = {member, CU_ROLE_MEMBER, member, NULL};
	json_t *doc = NULL;
	char *csv = NULL;
	size_t len = 0;
	cu_result rc;

	rc = cu_export_member(ctx, &self, member, CU_EXPORT_JSON, cu_now_us(), &doc);
	if (rc) {
		assert_null(doc);
		return rc;
	}
	rc = cu_export_csv(doc, &csv, &len);
	if (!rc)
		*answer = json_object_size(json_object_get(doc, "fields"));
	else
		assert_null(csv);
	free(csv);
	cu_export_free(doc);
	return rc;
}

static cu_result op_keys(cu_ctx *ctx, void *ud, size_t *answer)
{
	cu_keys_status st;
	cu_result rc;

	(void)ud;
	rc = cu_keys_status_get(ctx, &st);
	if (!rc)
		*answer = (size_t)st.live;
	return rc;
}

static void run_all(cu_fault_kind kind)
{
	char *tmp, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_breach_query q = {0};

	for (int i = 0; i < 3; i++) {
		char email[64], phone[32];
		cu_kv kv[] = {{"name", "Faulted Memberq"},
		              {"address", "19 Fault Line"},
		              {"phone", phone},
		              {"email", email}};
		cu_errors errs;

		snprintf(email, sizeof(email), "faulted%d@example.org", i);
		snprintf(phone, sizeof(phone), "0399%06d", i);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs),
		                 CU_OK);
	}
	q.since_us = 0;
	q.until_us = cu_now_us();
	q.by = CU_BREACH_ALL;
	sweep(ctx, kind, "records", op_records, NULL);
	sweep(ctx, kind, "breach", op_breach, &q);
	/*
	 * The plan parses the policy versions with jansson, whose lexer asserts when
	 * its own buffer cannot grow (load.c, lex_scan_string): not under the process's
	 * malloc, then, only under SQLite's allocator.
	 */
	if (kind == CU_FAULT_SQLITE) {
		sweep(ctx, kind, "retention plan", op_plan, NULL);
		sweep(ctx, kind, "export", op_export, id);
	}
	sweep(ctx, kind, "keys status", op_keys, NULL);
	cu_test_ctx_free(ctx, tmp);
}

static void test_sqlite_allocator(void **state)
{
	(void)state;
	run_all(CU_FAULT_SQLITE);
}

static void test_process_malloc(void **state)
{
	(void)state;
	if (!cu_fault_libc_available())
		skip();
	run_all(CU_FAULT_LIBC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sqlite_allocator),
	    cmocka_unit_test(test_process_malloc),
	};

	cu_fault_install();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
