/*
 * tests/unit/test_breach.c — breach triage and the record of processing on
 * the library: a subcontractor's reads are told from those of a contract
 * whose id begins the same; every allowed read counts without a selector; a
 * refused read does not; only an officer or the operator may assess (a
 * refusal audited), bad queries write nothing; the record lists the
 * registries and "not set" retention, and its Markdown is written from it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "domain/breach.h"
#include "domain/members.h"
#include "domain/records.h"
#include "domain/subcontractors.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define US   ((int64_t)1000000)

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char id[3][CU_ID_LEN + 1];
	int64_t t0;
};

static void add_contract(cu_ctx *ctx, const char *id)
{
	const char *fields[] = {"name", "email"}, *purposes[] = {"support"};
	const char *measures[] = {"encryption at rest"};
	cu_subcontractor_input in = {
	    id, "Call Centre KK", "sec@cc.example", fields, 2, purposes, 1, measures,
	    1,  "2026-01-01",     "2999-12-31"};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &in, NULL, &errs), CU_OK);
}

static cu_result read_as(cu_ctx *ctx, const cu_actor *a, const char *purpose, const char *member)
{
	cu_access_request req = {.actor = a, .purpose = purpose, .member = member};
	cu_access_decision d;
	cu_record rec;
	cu_result rc;

	cu_record_init(&rec);
	rc = cu_access_read(ctx, &req, &d, &rec);
	cu_record_wipe(&rec);
	return rc;
}

static int setup(void **state)
{
	static const char *const emails[] = {"breach.a@example.com", "breach.b@example.com",
	                                     "breach.c@example.com"};
	static const char *const phones[] = {"0312345671", "0312345672", "0312345673"};
	struct fx *f = calloc(1, sizeof(*f));
	cu_actor cc = {"call centre", CU_ROLE_SUBCONTRACTOR, NULL, "cc"};
	cu_actor cc2 = {"call centre", CU_ROLE_SUBCONTRACTOR, NULL, "cc-2"};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	f->t0 = cu_now_us();
	for (int i = 0; i < 3; i++) {
		cu_kv person[] = {{"name", "Breacha Personq"},
		                  {"address", "7 Incident Lane"},
		                  {"phone", phones[i]},
		                  {"email", emails[i]}};

		cu_errors_init(&errs);
		assert_int_equal(
		    cu_member_register(f->ctx, &service, person, N(person), NULL, f->id[i], &errs),
		    CU_OK);
	}
	add_contract(f->ctx, "cc");
	add_contract(f->ctx, "cc-2");
	assert_int_equal(read_as(f->ctx, &cc, "support", f->id[0]), CU_OK);
	assert_int_equal(read_as(f->ctx, &cc2, "support", f->id[1]), CU_OK);
	assert_int_equal(read_as(f->ctx, &staff, "support", f->id[2]), CU_OK);
	/* Refused: staff may not use research.  Not an exposure. */
	assert_int_not_equal(read_as(f->ctx, &staff, "research", f->id[0]), CU_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f);
	return 0;
}

static const char *member_id(const json_t *rep, size_t i)
{
	return json_string_value(
	    json_object_get(json_array_get(json_object_get(rep, "members"), i), "id"));
}

static void test_subcontractor_told_from_a_longer_id(void **state)
{
	struct fx *f = *state;
	cu_breach_query q = {f->t0, cu_now_us(), CU_BREACH_SUBCONTRACTOR, "cc", 0};
	json_t *rep = NULL, *fields;

	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 1);
	assert_string_equal(member_id(rep, 0), f->id[0]);
	fields = json_object_get(json_array_get(json_object_get(rep, "members"), 0), "fields");
	assert_int_equal(json_array_size(fields), 2);
	assert_string_equal(json_string_value(json_array_get(fields, 0)), "name");
	assert_string_equal(json_string_value(json_array_get(fields, 1)), "email");
	json_decref(rep);
	q.id = "cc-2";
	assert_int_equal(cu_breach_assess(f->ctx, &cu_test_operator, &q, &rep), CU_OK);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 1);
	assert_string_equal(member_id(rep, 0), f->id[1]);
	json_decref(rep);
}

static void test_all_reads(void **state)
{
	struct fx *f = *state;
	cu_breach_query q = {f->t0, cu_now_us(), CU_BREACH_ALL, NULL, 0};
	json_t *rep = NULL;
	char *md = NULL;
	size_t len = 0;

	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	/* Three allowed reads; the refused one is not an event. */
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(rep, "summary"), "events")), 3);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 3);
	assert_int_equal(json_array_size(json_object_get(rep, "timeline")), 3);
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_int_equal(strlen(md), len);
	for (int i = 0; i < 3; i++)
		assert_non_null(strstr(md, f->id[i]));
	assert_null(strstr(md, "breach.a@example.com"));
	free(md);
	json_decref(rep);
	rep = json_object();
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_ERR_INVALID_ARGUMENT);
	assert_null(md);
	json_decref(rep);
}

static void test_who_may_and_bad_queries(void **state)
{
	struct fx *f = *state;
	cu_breach_query q = {f->t0, cu_now_us(), CU_BREACH_ALL, NULL, 0};
	unsigned long long before = cu_test_audit_count(f->ctx);
	json_t *rep = (json_t *)1;

	assert_int_equal(cu_breach_assess(f->ctx, &staff, &q, &rep), CU_ERR_FORBIDDEN);
	assert_null(rep);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 1); /* the refusal */
	before++;
	q.since_us = q.until_us + US;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_INVALID_ARGUMENT);
	q.since_us = f->t0;
	q.by = CU_BREACH_KEY;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_INVALID_ARGUMENT);
	q.by = CU_BREACH_SUBCONTRACTOR;
	q.id = "nobody";
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_NOT_FOUND);
	q.by = CU_BREACH_TOKEN;
	q.id = "AAAAAAAAAAAAAAAAAAAAAA";
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_test_audit_count(f->ctx), before); /* nothing assessed */
}

static void test_records(void **state)
{
	struct fx *f = *state;
	json_t *rec = NULL, *subs, *pu;
	char *md = NULL, *md2 = NULL;
	size_t len = 0, len2 = 0, i;

	assert_int_equal(cu_records_build(f->ctx, &rec), CU_OK);
	subs = json_object_get(rec, "subcontractors");
	assert_int_equal(json_array_size(subs), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 0), "id")),
	                    "cc");
	assert_string_equal(json_string_value(json_object_get(json_array_get(subs, 1), "id")),
	                    "cc-2");
	assert_int_equal(json_array_size(json_object_get(rec, "purposes")),
	                 f->ctx->policy->npurposes);
	json_array_foreach(json_object_get(rec, "purposes"), i, pu) assert_string_equal(
	    json_string_value(json_object_get(pu, "retention")), CU_RECORDS_NOT_SET);
	assert_int_equal(cu_records_markdown(rec, &md, &len), CU_OK);
	assert_non_null(strstr(md, "| `cc-2` |"));
	assert_non_null(strstr(md, "## Safety measures"));
	assert_int_equal(cu_records_markdown(rec, &md2, &len2), CU_OK);
	assert_int_equal(len, len2);
	assert_memory_equal(md, md2, len);
	free(md);
	free(md2);
	json_decref(rec);
	assert_int_equal(cu_records_markdown(NULL, &md, &len), CU_ERR_INVALID_ARGUMENT);
	assert_null(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_subcontractor_told_from_a_longer_id, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_all_reads, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_who_may_and_bad_queries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
