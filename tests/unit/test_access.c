/*
 * test_access.c — the single door: for every purpose and role of the policy,
 * exactly the allowed fields come back, the rest are withheld with a
 * reason, and every decision — allow or deny — lands in the audit log.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "custodian/members.h"
#include "custodian/partners.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

/* Every field of the default policy answered, with values that stand out. */
static const cu_kv everything[] = {
	{"name", "Qwertyname Fullfield"},
	{"address", "9 Distinctaddress Road"},
	{"phone", "+81 80 9999 0001"},
	{"email", "full.field@example.com"},
	{"date_of_birth", "1988-04-01"},
	{"age", "38"},
	{"occupation", "Lighthousekeeperq"},
	{"income", "band-7q"},
	{"newspapers_magazines", "Tidings Weeklyq"},
	{"products", "Flashcardsq"},
	{"services", "Live tutoringq"},
	{"hobbies", "Origamiq, bouldering"},
};

struct last {
	char decision[16], purpose[48], fields[1024], reason[1200], case_ref[64], action[32];
	char role[32];
	uint64_t seq;
};

static int keep_last(void *ud, const cu_audit_entry *e)
{
	struct last *l = ud;

	l->seq = e->seq;
	snprintf(l->decision, sizeof(l->decision), "%s", e->decision);
	snprintf(l->purpose, sizeof(l->purpose), "%s", e->purpose);
	snprintf(l->fields, sizeof(l->fields), "%s", e->fields);
	snprintf(l->reason, sizeof(l->reason), "%s", e->reason);
	snprintf(l->case_ref, sizeof(l->case_ref), "%s", e->case_ref);
	snprintf(l->action, sizeof(l->action), "%s", e->action);
	snprintf(l->role, sizeof(l->role), "%s", e->role);
	return 0;
}

static struct last last_entry(cu_ctx *ctx)
{
	struct last l = {0};

	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, keep_last, &l), CU_OK);
	return l;
}

static cu_fieldset record_set(const cu_record *r)
{
	cu_fieldset s = 0;

	for (size_t i = 0; i < r->n; i++)
		s |= (cu_fieldset)1 << r->v[i].field;
	return s;
}

/*
 * The matrix: role x purpose (x with and without a case), against the
 * policy file itself.  An expected outcome computed from the policy, not
 * written down by hand, so a changed policy is still checked.
 */
/* A subcontract "whole" naming every field and purpose, in force for centuries. */
static void whole_contract(cu_ctx *ctx)
{
	const char *fields[CU_POLICY_FIELDS_MAX], *purposes[64];
	const char *measures[] = {"encryption at rest"};
	cu_subcontractor_input in = {.id = "whole", .name = "Everything Ltd", .contact = "po@x",
				     .measures = measures, .nmeasures = 1, .start = "2000-01-01",
				     .end = "2999-12-31"};
	cu_errors errs;

	cu_errors_init(&errs);
	for (size_t i = 0; i < ctx->policy->nfields; i++)
		fields[in.nfields++] = ctx->policy->fields[i].name;
	for (size_t i = 0; i < ctx->policy->npurposes && i < 64; i++)
		purposes[in.npurposes++] = ctx->policy->purposes[i].id;
	in.fields = fields;
	in.purposes = purposes;
	assert_int_equal(cu_subcontractor_register(ctx, &cu_test_operator, &in, NULL, &errs), CU_OK);
}

static void test_matrix(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	const cu_policy *p = ctx->policy;
	cu_errors errs;
	size_t cases = 0;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs),
			 CU_OK);
	whole_contract(ctx);
	for (int role = CU_ROLE_STAFF; role < CU_ROLE_COUNT_; role++) {
		for (size_t pi = 0; pi < p->npurposes; pi++) {
			const cu_policy_purpose *pp = &p->purposes[pi];

			for (int with_case = 0; with_case < 2; with_case++) {
				/* A subcontractor under a contract of the whole policy: the policy decides. */
				cu_actor a = {"tester", (cu_role)role, NULL,
					      role == CU_ROLE_SUBCONTRACTOR ? "whole" : NULL};
				cu_access_request req = {.actor = &a, .purpose = pp->id, .member = id, .fields = 0, .case_ref = with_case ? "CASE-42" : NULL};
				cu_access_decision d;
				cu_record rec;
				unsigned long long before = cu_test_audit_count(ctx);
				cu_result want;
				cu_result got;
				struct last l;

				if (role != CU_ROLE_OPERATOR && !cu_policy_purpose_allows_role(pp, (cu_role)role))
					want = CU_ERR_PURPOSE_NOT_ALLOWED;
				else if (pp->aggregate_only)
					want = CU_ERR_AGGREGATE_ONLY;
				else if (pp->requires_case && !with_case)
					want = CU_ERR_CASE_REQUIRED;
				else if (pp->consent_required)
					want = CU_ERR_CONSENT_REQUIRED; /* no one consented */
				else
					want = CU_OK;

				cu_record_init(&rec);
				got = cu_access_read(ctx, &req, &d, &rec);
				if (got != want)
					fail_msg("role %s purpose %s case %d: got %s want %s",
						 cu_role_name((cu_role)role), pp->id, with_case,
						 cu_result_code(got), cu_result_code(want));
				if (want == CU_OK) {
					/* Exactly the purpose's fields, and nothing else opened. */
					assert_true(record_set(&rec) == pp->fields);
					assert_true(d.allowed == pp->fields);
					assert_true(d.withheld == (cu_policy_all_fields(p) & ~pp->fields));
					for (size_t f = 0; f < p->nfields; f++)
						assert_true(!!d.reason[f] == !((pp->fields >> f) & 1));
					for (size_t i = 0; i < rec.n; i++)
						assert_string_equal(rec.v[i].value,
								    everything[rec.v[i].field].value);
				} else {
					assert_int_equal(rec.n, 0);
					assert_true(d.allowed == 0);
				}
				/* One audit entry per decision, allow or deny. */
				assert_int_equal(cu_test_audit_count(ctx), before + 1);
				l = last_entry(ctx);
				assert_string_equal(l.action, "read");
				assert_string_equal(l.purpose, pp->id);
				assert_string_equal(l.role, cu_role_name((cu_role)role));
				assert_string_equal(l.decision,
						    want ? "deny" : (d.withheld ? "partial" : "allow"));
				assert_string_equal(l.case_ref, with_case ? "CASE-42" : "");
				cu_record_wipe(&rec);
				cases++;
			}
		}
	}
	assert_true(cases >= 100);
	cu_test_ctx_free(ctx, dir);
}

/* Asking for one field narrows the read to it; asking for a withheld one gets nothing. */
static void test_requested_subset(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	const cu_policy *p = ctx->policy;
	cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
	cu_access_request req = {.actor = &staff, .purpose = "support", .member = NULL, .fields = 0, .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;
	cu_errors errs;
	int email = cu_policy_field_index(p, "email");
	int income = cu_policy_field_index(p, "income");

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs),
			 CU_OK);
	req.member = id;
	req.fields = (cu_fieldset)1 << email;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	assert_int_equal(rec.n, 1);
	assert_string_equal(d.decision, "allow");
	cu_record_wipe(&rec);

	req.fields = (cu_fieldset)1 << income;
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(rec.n, 0);
	assert_string_equal(last_entry(ctx).decision, "deny");
	assert_non_null(strstr(last_entry(ctx).fields, "income"));
	cu_test_ctx_free(ctx, dir);
}

static void test_denials(void **state)
{
	char *dir, id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_access_decision d;
	cu_record rec;
	cu_errors errs;
	unsigned long long before;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs),
			 CU_OK);
	cu_kv other[] = {{"name", "O"}, {"address", "A"}, {"phone", "0312345678"},
			 {"email", "o@example.com"}};
	assert_int_equal(cu_member_register(ctx, &service, other, N(other), NULL, id2, &errs), CU_OK);
	cu_record_init(&rec);

	cu_access_request unknown = {.actor = &cu_test_operator, .purpose = "marketing_resale", .member = id, .fields = 0, .case_ref = NULL};
	before = cu_test_audit_count(ctx);
	assert_int_equal(cu_access_read(ctx, &unknown, &d, &rec), CU_ERR_PURPOSE_UNKNOWN);
	assert_int_equal(cu_test_audit_count(ctx), before + 1);
	assert_string_equal(last_entry(ctx).decision, "deny");

	cu_access_request nobody = {.actor = &cu_test_operator, .purpose = "support", .member = "AAAAAAAAAAAAAAAAAAAAAA", .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &nobody, &d, &rec), CU_ERR_NOT_FOUND);
	assert_string_equal(last_entry(ctx).decision, "deny");

	/* A member reads all of their own record, and nothing of anyone else's. */
	cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	cu_access_request mine = {.actor = &self, .purpose = "self", .member = id, .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &mine, &d, &rec), CU_OK);
	assert_int_equal(rec.n, N(everything));
	cu_record_wipe(&rec);
	cu_access_request theirs = {.actor = &self, .purpose = "self", .member = id2, .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &theirs, &d, &rec), CU_ERR_FORBIDDEN);
	assert_int_equal(rec.n, 0);
	assert_string_equal(last_entry(ctx).decision, "deny");

	/* decide() audits too, and opens nothing. */
	cu_actor analyst = {"lab", CU_ROLE_ANALYST, NULL, NULL};
	cu_access_request analysis = {.actor = &analyst, .purpose = "analysis", .member = id, .fields = 0, .case_ref = NULL};
	before = cu_test_audit_count(ctx);
	assert_int_equal(cu_access_decide(ctx, &analysis, &d), CU_OK);
	assert_string_equal(d.decision, "partial");
	assert_int_equal(cu_test_audit_count(ctx), before + 1);

	/* Oversized request values are refused before anything else. */
	char huge[300];
	memset(huge, 'p', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	cu_access_request big = {.actor = &cu_test_operator, .purpose = huge, .member = id, .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &big, &d, &rec), CU_ERR_INVALID_ARGUMENT);
	cu_test_ctx_free(ctx, dir);
}

/* The analysis and research purposes never see a direct identifier. */
static void test_no_identifiers_for_research(void **state)
{
	char *dir;
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	const cu_policy *p = ctx->policy;

	(void)state;
	for (size_t f = 0; f < p->nfields; f++) {
		if (!p->fields[f].identifier)
			continue;
		assert_false((cu_policy_purpose_find(p, "analysis")->fields >> f) & 1);
		assert_false((cu_policy_purpose_find(p, "research")->fields >> f) & 1);
	}
	cu_test_ctx_free(ctx, dir);
}

/* No audit entry carries a personal value. */
static int no_values(void *ud, const cu_audit_entry *e)
{
	(void)ud;
	for (size_t i = 0; i < N(everything); i++) {
		const char *v = everything[i].value;

		if (strlen(v) < 4)
			continue;
		assert_null(strstr(e->reason, v));
		assert_null(strstr(e->fields, v));
		assert_null(strstr(e->actor, v));
		assert_null(strstr(e->case_ref, v));
	}
	return 0;
}

static void test_audit_holds_no_values(void **state)
{
	char *dir, id[CU_ID_LEN + 1], found[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_access_request req = {.actor = &cu_test_operator, .purpose = "support", .member = NULL, .fields = 0, .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs),
			 CU_OK);
	req.member = id;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	cu_record_wipe(&rec);
	assert_int_equal(cu_member_find(ctx, &service, "email", "full.field@example.com", found), CU_OK);
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, no_values, NULL), CU_OK);
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_requested_subset),
		cmocka_unit_test(test_denials),
		cmocka_unit_test(test_no_identifiers_for_research),
		cmocka_unit_test(test_audit_holds_no_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
