/*
 * test_retention_pages.c — the retention plan and run over more members than
 * one page (256) holds, and their stops: a plan whose callback says stop
 * lists no more; a run cancelled part way has done exactly the members before
 * the stop, committed, and the next run does the rest; a run whose done
 * callback says stop leaves the later pages for the next run; an erased
 * member is in no plan; what is not yet due is counted as later, not done.
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

#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/retention.h"
#include "domain/versions.h"
#include "support.h"
#include "util/date.h"

#define MEMBERS   300 /* more than a page */
#define ERR_BYTES 512

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char (*id)[CU_ID_LEN + 1];
	int64_t t0;
};

/* Inactive accounts get a notice after 30 days, and are erased 10 days after it. */
static void publish_inactive_rule(cu_ctx *ctx)
{
	json_error_t e;
	json_t *p = json_loadb(cu_default_policy_json, cu_default_policy_json_len, 0, &e);
	char *doc, err[ERR_BYTES] = "";
	cu_policy *in_force = NULL;

	assert_non_null(p);
	json_object_set_new(p, "version", json_string("2027-04-01.1"));
	json_object_set_new(p, "retention",
	                    json_pack("{s:{s:i,s:i}}", "inactive_accounts", "notice_after_days", 30,
	                              "erase_after_notice_days", 10));
	doc = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	assert_non_null(doc);
	if (cu_versions_publish(ctx, &officer, doc, strlen(doc), &in_force, err, sizeof(err)))
		fail_msg("publish: %s", err);
	free(doc);
	cu_policy_free(ctx->policy);
	ctx->policy = in_force;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->id = calloc(MEMBERS, sizeof(*f->id));
	assert_non_null(f->id);
	f->ctx = cu_test_ctx_new(&f->dir);
	f->t0 = cu_now_us();
	for (int i = 0; i < MEMBERS; i++) {
		char email[64], phone[32];
		cu_kv kv[] = {{"name", "Paged Memberq"},
		              {"address", "3 Retention Row"},
		              {"phone", phone},
		              {"email", email}};
		cu_errors errs;

		snprintf(email, sizeof(email), "paged%d@example.org", i);
		snprintf(phone, sizeof(phone), "0355%06d", i);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(f->ctx, &service, kv, 4, NULL, f->id[i], &errs),
		                 CU_OK);
	}
	publish_inactive_rule(f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f->id);
	free(f);
	return 0;
}

struct count {
	size_t items, stop_after, notices;
	int64_t now;
	size_t due, later;
	char erased[CU_ID_LEN + 1];
	bool saw_erased;
};

static int count_items(void *ud, const cu_retention_item *it)
{
	struct count *c = ud;

	c->items++;
	if (it->kind == CU_RETENTION_INACTIVE_NOTICE)
		c->notices++;
	if (it->due_us <= c->now)
		c->due++;
	else
		c->later++;
	if (c->erased[0] && !strcmp(it->member, c->erased))
		c->saw_erased = true;
	return c->stop_after && c->items >= c->stop_after;
}

/* Cancels once ud's counter reaches zero (asked before each member). */
static int cancel_at(void *ud)
{
	size_t *left = ud;

	if (*left == 0)
		return 1;
	(*left)--;
	return 0;
}

static void test_plan_over_pages_and_its_stop(void **state)
{
	struct fx *f = *state;
	struct count c = {0};

	/* Erased before any plan: it holds nothing to keep or cut. */
	assert_int_equal(
	    cu_erasure_carry_out(f->ctx, &cu_test_operator, f->id[7], NULL, cu_now_us(), NULL),
	    CU_OK);
	snprintf(c.erased, sizeof(c.erased), "%s", f->id[7]);
	/* Not yet due: every live member's notice is later. */
	c.now = f->t0 + 29 * CU_DAY_US;
	assert_int_equal(cu_retention_plan(f->ctx, c.now, count_items, &c), CU_OK);
	assert_int_equal(c.notices, MEMBERS - 1);
	assert_int_equal(c.due, 0);
	assert_int_equal(c.later, MEMBERS - 1);
	assert_false(c.saw_erased);

	/* The callback says stop after ten items: no eleventh. */
	memset(&c, 0, sizeof(c));
	c.now = f->t0 + 31 * CU_DAY_US;
	c.stop_after = 10;
	assert_int_equal(cu_retention_plan(f->ctx, c.now, count_items, &c), CU_OK);
	assert_int_equal(c.items, 10);

	assert_int_equal(cu_retention_plan(f->ctx, c.now, NULL, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_retention_plan(NULL, c.now, count_items, &c), CU_ERR_INVALID_ARGUMENT);
}

static void test_run_cancelled_then_resumed(void **state)
{
	struct fx *f = *state;
	int64_t now = f->t0 + 31 * CU_DAY_US;
	unsigned long long before = cu_test_audit_count(f->ctx);
	cu_retention_report rep;
	struct count c = {0};
	size_t left = 5;

	/* Not yet due: nothing is done, everything counted as later. */
	assert_int_equal(cu_retention_run(f->ctx, &cu_test_operator, f->t0 + 29 * CU_DAY_US, NULL,
	                                  NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.notices, 0);
	assert_int_equal(rep.erasures, 0);
	assert_int_equal(cu_test_audit_count(f->ctx), before);

	/* Cancelled before the sixth member: five notices sent, committed. */
	assert_int_equal(
	    cu_retention_run(f->ctx, &cu_test_operator, now, NULL, cancel_at, &left, &rep), CU_OK);
	assert_int_equal(rep.notices, 5);

	/* The next run does the rest, across the page boundary, and not the five again. */
	c.now = now;
	assert_int_equal(
	    cu_retention_run(f->ctx, &cu_test_operator, now, count_items, NULL, &c, &rep), CU_OK);
	assert_int_equal(rep.notices, MEMBERS - 5);
	assert_int_equal(c.notices, MEMBERS - 5);
	/*
	 * The notices went out on the wall clock, ten days before the test's: the five
	 * noticed first were due for erasure in this run, the others are in the next.
	 */
	assert_int_equal(rep.erasures, 5);
	assert_int_equal(cu_retention_run(f->ctx, &cu_test_operator, now, NULL, NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.notices, 0);
	assert_int_equal(rep.erasures, MEMBERS - 5);

	/* And then nothing is left to do. */
	assert_int_equal(cu_retention_run(f->ctx, &cu_test_operator, now, NULL, NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.notices, 0);
	assert_int_equal(rep.erasures, 0);
	assert_true(cu_test_audit_count(f->ctx) > before);
}

static void test_run_stopped_by_done(void **state)
{
	struct fx *f = *state;
	/* Ten days after the notices the first runs sent: every member's erasure is due. */
	int64_t notice_at = f->t0 + 31 * CU_DAY_US;
	cu_retention_report rep;
	struct count c = {0};
	size_t erased = 0;

	assert_int_equal(
	    cu_retention_run(f->ctx, &cu_test_operator, notice_at, NULL, NULL, NULL, &rep), CU_OK);
	assert_int_equal(rep.notices, MEMBERS);
	c.now = cu_now_us() + 11 * CU_DAY_US;
	c.stop_after = 1;
	/* done says stop at its first item: the first page is committed, the rest waits. */
	assert_int_equal(
	    cu_retention_run(f->ctx, &cu_test_operator, c.now, count_items, NULL, &c, &rep), CU_OK);
	assert_int_equal(c.items, 1);
	assert_int_equal(rep.erasures, 256);
	for (int i = 0; i < MEMBERS; i++) {
		cu_member_row row = {0};

		assert_int_equal(cu_store_member_get(f->ctx->store, f->id[i], &row), CU_OK);
		erased += row.erased;
		cu_member_row_release(&row);
	}
	assert_int_equal(erased, 256);
	/* The rest on the next run. */
	assert_int_equal(cu_retention_run(f->ctx, &cu_test_operator, c.now, NULL, NULL, NULL, &rep),
	                 CU_OK);
	assert_int_equal(rep.erasures, MEMBERS - 256);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plan_over_pages_and_its_stop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_cancelled_then_resumed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_run_stopped_by_done, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
