/*
 * test_breach_scan.c — what a breach assessment counts (domain/breach.h),
 * from audit entries of every kind an exposure can take: reads of diaries,
 * request and complaint texts (named as such, not as policy fields); a read
 * naming a field the policy no longer has (listed by its name); several reads
 * of one member (one row, their fields joined, every event counted); an
 * erased member (no key, counted last); a refused read (not an exposure); a
 * token whose name and role another token shares (said in the limits); the
 * key selector (live members only; a key nobody uses: nobody); a window with
 * no data (an empty report that still renders).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit.h"
#include "domain/breach.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/subcontractors.h"
#include "domain/tokens.h"
#include "support.h"
#include "vault/keyring.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define US   1000000LL

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char id[3][CU_ID_LEN + 1];
	int64_t t0, t1;
};

/* One audit entry as the door would write it. */
static void entry_why(cu_ctx *ctx, const char *actor, const char *role, const char *action,
                      const char *member, const char *fields, const char *decision,
                      const char *reason)
{
	cu_audit_entry e = {0};

	e.actor = actor;
	e.role = role;
	e.action = action;
	e.member = member;
	e.purpose = "support";
	e.fields = fields;
	e.decision = decision;
	e.reason = reason;
	e.case_ref = "";
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_audit_append(ctx->audit, ctx->store, &e), CU_OK);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
}

static void entry(cu_ctx *ctx, const char *actor, const char *role, const char *action,
                  const char *member, const char *fields, const char *decision)
{
	entry_why(ctx, actor, role, action, member, fields, decision, "");
}

static int setup(void **state)
{
	static const char *const emails[] = {"scan.a@example.com", "scan.b@example.com",
	                                     "scan.c@example.com"};
	static const char *const phones[] = {"0312340001", "0312340002", "0312340003"};
	struct fx *f = calloc(1, sizeof(*f));
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	for (int i = 0; i < 3; i++) {
		cu_kv person[] = {{"name", "Scanna Personq"},
		                  {"address", "9 Incident Lane"},
		                  {"phone", phones[i]},
		                  {"email", emails[i]}};

		cu_errors_init(&errs);
		assert_int_equal(
		    cu_member_register(f->ctx, &service, person, N(person), NULL, f->id[i], &errs),
		    CU_OK);
	}
	f->t0 = cu_now_us();
	/* Member 0: four reads by the desk, one of them of a field the policy dropped. */
	entry(f->ctx, "desk", "staff", "read", f->id[0], "name", "allow");
	entry(f->ctx, "desk", "staff", "read", f->id[0], "email,fax_number", "partial");
	entry(f->ctx, "desk", "staff", "read_diaries", f->id[0], "diaries", "allow");
	entry(f->ctx, "desk", "staff", "read_request", f->id[0], "", "allow");
	/* Refused, and an action that opens nothing: not exposures. */
	entry(f->ctx, "desk", "staff", "read", f->id[0], "phone", "deny");
	entry(f->ctx, "desk", "staff", "consent_set", f->id[0], "", "allow");
	/* Member 1: a complaint's text, by another reader; then erased. */
	entry(f->ctx, "other desk", "staff", "read_complaint", f->id[1], "", "allow");
	/* Member 2: provided to a third party. */
	entry(f->ctx, "desk", "staff", "provide", f->id[2], "name,email", "allow");
	f->t1 = cu_now_us();
	assert_int_equal(
	    cu_erasure_carry_out(f->ctx, &cu_test_operator, f->id[1], NULL, cu_now_us(), NULL),
	    CU_OK);
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

static json_t *member_row(json_t *rep, const char *id)
{
	size_t i;
	json_t *m;

	json_array_foreach(json_object_get(rep, "members"), i, m)
	{
		if (!strcmp(json_string_value(json_object_get(m, "id")), id))
			return m;
	}
	return NULL;
}

static bool has_string(json_t *a, const char *s)
{
	size_t i;
	json_t *v;

	json_array_foreach(a, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static void test_every_kind_of_exposure(void **state)
{
	struct fx *f = *state;
	cu_breach_query q = {f->t0, f->t1, CU_BREACH_ALL, NULL, 0};
	json_t *rep = NULL, *m, *fields, *keys;
	char *md = NULL;
	size_t len = 0;

	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(rep, "summary"), "events")), 6);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 3);
	assert_int_equal(json_array_size(json_object_get(rep, "timeline")), 6);

	m = member_row(rep, f->id[0]);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "events")), 4);
	fields = json_object_get(m, "fields");
	assert_true(has_string(fields, "name"));
	assert_true(has_string(fields, "email"));
	assert_true(has_string(fields, "fax_number")); /* retired: by its name */
	assert_true(has_string(fields, "diaries"));
	assert_true(has_string(fields, "request_texts"));
	assert_false(has_string(fields, "phone")); /* the refused read */
	assert_false(has_string(fields, "complaint_texts"));
	assert_false(json_is_true(json_object_get(m, "erased")));

	m = member_row(rep, f->id[1]);
	assert_non_null(m);
	assert_true(has_string(json_object_get(m, "fields"), "complaint_texts"));
	assert_true(json_is_true(json_object_get(m, "erased")));
	assert_true(json_is_null(json_object_get(m, "key_id")));

	m = member_row(rep, f->id[2]);
	assert_non_null(m);
	assert_int_equal(json_array_size(json_object_get(m, "fields")), 2);

	/* Keys: the live members' tree, then the erased (no key) last. */
	keys = json_object_get(json_object_get(rep, "encryption"), "keys");
	assert_int_equal(json_array_size(keys), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(keys, 0), "key_id")),
	                 cu_keyring_current_tree(cu_vault_keyring(f->ctx->vault)));
	assert_int_equal(json_integer_value(json_object_get(json_array_get(keys, 0), "members")),
	                 2);
	assert_true(json_is_null(json_object_get(json_array_get(keys, 1), "key_id")));

	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_non_null(strstr(md, "fax_number"));
	assert_non_null(strstr(md, "Diary entries"));
	assert_non_null(strstr(md, "Texts of requests"));
	assert_non_null(strstr(md, "Texts of complaints"));
	assert_null(strstr(md, "scan.a@example.com"));
	free(md);
	json_decref(rep);
}

static void test_key_selector(void **state)
{
	struct fx *f = *state;
	uint32_t tree = cu_keyring_current_tree(cu_vault_keyring(f->ctx->vault));
	cu_breach_query q = {f->t0, cu_now_us(), CU_BREACH_KEY, NULL, tree};
	json_t *rep = NULL;

	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	/* Every live member's key is under the tree; the erased one's is gone. */
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 2);
	assert_non_null(member_row(rep, f->id[0]));
	assert_non_null(member_row(rep, f->id[2]));
	assert_null(member_row(rep, f->id[1]));
	json_decref(rep);

	q.key_id = tree + 1000;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 0);
	json_decref(rep);
}

static void test_window_with_no_data(void **state)
{
	struct fx *f = *state;
	cu_breach_query q = {US, 2 * US, CU_BREACH_ALL, NULL, 0};
	unsigned long long before = cu_test_audit_count(f->ctx);
	json_t *rep = NULL;
	char *md = NULL;
	size_t len = 0;

	assert_int_equal(cu_breach_assess(f->ctx, &cu_test_operator, &q, &rep), CU_OK);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(rep, "summary"), "events")), 0);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 0);
	assert_int_equal(json_array_size(json_object_get(rep, "timeline")), 0);
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_true(len > 0);
	free(md);
	json_decref(rep);
	/* The assessment itself is audited, even of nothing. */
	assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
}

static void test_token_sharing_its_name(void **state)
{
	struct fx *f = *state;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	cu_breach_query q = {0};
	json_t *rep = NULL, *limits;
	bool said = false;
	size_t i;
	json_t *v;

	assert_int_equal(
	    cu_token_create(f->ctx, &cu_test_operator, CU_ROLE_STAFF, "desk", 0, secret, id),
	    CU_OK);
	assert_int_equal(
	    cu_token_create(f->ctx, &cu_test_operator, CU_ROLE_STAFF, "desk", 0, secret, id2),
	    CU_OK);
	q.since_us = f->t0;
	q.until_us = f->t1;
	q.by = CU_BREACH_TOKEN;
	q.id = id;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	/* The desk's reads: members 0 and 2, not the other desk's. */
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 2);
	assert_null(member_row(rep, f->id[1]));
	limits = json_object_get(rep, "limits");
	json_array_foreach(limits, i, v)
	{
		if (strstr(json_string_value(v), "1 other token(s) share"))
			said = true;
	}
	assert_true(said);
	json_decref(rep);
}

static void test_bad_queries_and_long_drafts(void **state)
{
	struct fx *f = *state;
	char longid[80];
	cu_breach_query q = {f->t0, f->t1, CU_BREACH_ALL, NULL, 0};
	json_t *rep = NULL, *members, *timeline, *m0, *e0;
	char *md = NULL;
	size_t len = 0;

	memset(longid, 'c', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	q.by = (cu_breach_by)9;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_INVALID_ARGUMENT);
	q.by = CU_BREACH_TOKEN;
	q.id = "";
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_INVALID_ARGUMENT);
	q.id = "not a token id";
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_NOT_FOUND);
	q.by = CU_BREACH_SUBCONTRACTOR;
	q.id = longid;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_breach_assess(NULL, &officer, &q, &rep), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_breach_assess(f->ctx, NULL, &q, &rep), CU_ERR_FORBIDDEN);
	assert_null(rep);

	/* The key selector's draft names the key. */
	q.by = CU_BREACH_KEY;
	q.id = NULL;
	q.key_id = cu_keyring_current_tree(cu_vault_keyring(f->ctx->vault));
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_non_null(strstr(md, "wrapped under"));
	free(md);
	json_decref(rep);

	/* A draft lists at most so many members and events, and says how many more. */
	q.by = CU_BREACH_ALL;
	q.key_id = 0;
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	members = json_object_get(rep, "members");
	timeline = json_object_get(rep, "timeline");
	m0 = json_deep_copy(json_array_get(members, 0));
	e0 = json_deep_copy(json_array_get(timeline, 0));
	while (json_array_size(members) < CU_BREACH_MD_MEMBERS_MAX + 2)
		json_array_append(members, m0);
	while (json_array_size(timeline) < CU_BREACH_MD_TIMELINE_MAX + 3)
		json_array_append(timeline, e0);
	json_decref(m0);
	json_decref(e0);
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_non_null(strstr(md, "and 2 more: `--json` lists every one"));
	assert_non_null(strstr(md, "and 3 more events"));
	free(md);
	assert_int_equal(cu_breach_markdown(rep, NULL, &len), CU_ERR_INVALID_ARGUMENT);
	json_decref(rep);
}

/* A subcontractor's reads are told by "contract ID" in the reason, whole. */
static void test_subcontractor_reads_told_by_contract(void **state)
{
	struct fx *f = *state;
	const char *fields[] = {"name", "email"}, *purposes[] = {"support"};
	const char *measures[] = {"encryption at rest"};
	cu_subcontractor_input in = {
	    "callc", "Call Centre KK", "sec@cc.example", fields, 2, purposes, 1, measures,
	    1,       "2026-01-01",     "2999-12-31"};
	cu_breach_query q = {0};
	json_t *rep = NULL, *m;
	cu_errors errs;
	char *md = NULL;
	size_t len = 0;
	int64_t t0 = cu_now_us();

	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(f->ctx, &officer, &in, NULL, &errs), CU_OK);
	entry_why(f->ctx, "cc desk", "subcontractor", "read", f->id[0], "name", "allow",
	          "contract callc");
	entry_why(f->ctx, "cc desk", "subcontractor", "read", f->id[0], ",email,,", "allow",
	          "contract callc; ticket 7");
	/* Not this contract: another id that starts the same, a word that ends the same. */
	entry_why(f->ctx, "cc desk", "subcontractor", "read", f->id[2], "name", "allow",
	          "contract callcx");
	entry_why(f->ctx, "cc desk", "subcontractor", "read", f->id[2], "name", "allow",
	          "subcontract callc");
	/* Not a subcontractor's read at all. */
	entry_why(f->ctx, "desk", "staff", "read", f->id[2], "name", "allow", "contract callc");
	q.since_us = t0;
	q.until_us = cu_now_us();
	q.by = CU_BREACH_SUBCONTRACTOR;
	q.id = "callc";
	assert_int_equal(cu_breach_assess(f->ctx, &officer, &q, &rep), CU_OK);
	assert_int_equal(json_array_size(json_object_get(rep, "members")), 1);
	m = member_row(rep, f->id[0]);
	assert_non_null(m);
	assert_int_equal(json_integer_value(json_object_get(m, "events")), 2);
	assert_true(has_string(json_object_get(m, "fields"), "name"));
	assert_true(has_string(json_object_get(m, "fields"), "email"));
	assert_int_equal(json_array_size(json_object_get(m, "fields")), 2);
	/* The draft names the contract's scope. */
	assert_int_equal(cu_breach_markdown(rep, &md, &len), CU_OK);
	assert_non_null(strstr(md, "subcontractor `callc`"));
	assert_non_null(strstr(md, "support"));
	free(md);
	json_decref(rep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_kind_of_exposure),
	    cmocka_unit_test(test_key_selector),
	    cmocka_unit_test(test_window_with_no_data),
	    cmocka_unit_test(test_token_sharing_its_name),
	    cmocka_unit_test(test_bad_queries_and_long_drafts),
	    cmocka_unit_test(test_subcontractor_reads_told_by_contract),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
