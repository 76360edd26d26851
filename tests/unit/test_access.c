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

#include "domain/members.h"
#include "domain/subcontractors.h"
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
	char role[32], member[48];
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
	snprintf(l->member, sizeof(l->member), "%s", e->member);
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
	cu_subcontractor_input in = {.id = "whole",
	                             .name = "Everything Ltd",
	                             .contact = "po@x",
	                             .measures = measures,
	                             .nmeasures = 1,
	                             .start = "2000-01-01",
	                             .end = "2999-12-31"};
	cu_errors errs;

	cu_errors_init(&errs);
	for (size_t i = 0; i < ctx->policy->nfields; i++)
		fields[in.nfields++] = ctx->policy->fields[i].name;
	for (size_t i = 0; i < ctx->policy->npurposes && i < 64; i++)
		purposes[in.npurposes++] = ctx->policy->purposes[i].id;
	in.fields = fields;
	in.purposes = purposes;
	assert_int_equal(cu_subcontractor_register(ctx, &cu_test_operator, &in, NULL, &errs),
	                 CU_OK);
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
	assert_int_equal(
	    cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs), CU_OK);
	whole_contract(ctx);
	for (int role = CU_ROLE_STAFF; role < CU_ROLE_COUNT_; role++) {
		for (size_t pi = 0; pi < p->npurposes; pi++) {
			const cu_policy_purpose *pp = &p->purposes[pi];

			for (int with_case = 0; with_case < 2; with_case++) {
				/* A subcontractor under a contract of the whole policy: the policy decides. */
				cu_actor a = {"tester", (cu_role)role, NULL,
				              role == CU_ROLE_SUBCONTRACTOR ? "whole" : NULL};
				cu_access_request req = {.actor = &a,
				                         .purpose = pp->id,
				                         .member = id,
				                         .fields = 0,
				                         .case_ref = with_case ? "CASE-42" : NULL};
				cu_access_decision d;
				cu_record rec;
				unsigned long long before = cu_test_audit_count(ctx);
				cu_result want;
				cu_result got;
				struct last l;

				if (role != CU_ROLE_OPERATOR &&
				    !cu_policy_purpose_allows_role(pp, (cu_role)role))
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
					assert_true(d.withheld ==
					            (cu_policy_all_fields(p) & ~pp->fields));
					for (size_t f = 0; f < p->nfields; f++)
						assert_true(!!d.reason[f] ==
						            !((pp->fields >> f) & 1));
					for (size_t i = 0; i < rec.n; i++)
						assert_string_equal(
						    rec.v[i].value,
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
				assert_string_equal(
				    l.decision, want ? "deny" : (d.withheld ? "partial" : "allow"));
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
	cu_access_request req = {
	    .actor = &staff, .purpose = "support", .member = NULL, .fields = 0, .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;
	cu_errors errs;
	int email = cu_policy_field_index(p, "email");
	int income = cu_policy_field_index(p, "income");

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs), CU_OK);
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
	assert_int_equal(
	    cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs), CU_OK);
	cu_kv other[] = {
	    {"name", "O"}, {"address", "A"}, {"phone", "0312345678"}, {"email", "o@example.com"}};
	assert_int_equal(cu_member_register(ctx, &service, other, N(other), NULL, id2, &errs),
	                 CU_OK);
	cu_record_init(&rec);

	cu_access_request unknown = {.actor = &cu_test_operator,
	                             .purpose = "marketing_resale",
	                             .member = id,
	                             .fields = 0,
	                             .case_ref = NULL};
	before = cu_test_audit_count(ctx);
	assert_int_equal(cu_access_read(ctx, &unknown, &d, &rec), CU_ERR_PURPOSE_UNKNOWN);
	assert_int_equal(cu_test_audit_count(ctx), before + 1);
	assert_string_equal(last_entry(ctx).decision, "deny");

	cu_access_request nobody = {.actor = &cu_test_operator,
	                            .purpose = "support",
	                            .member = "AAAAAAAAAAAAAAAAAAAAAA",
	                            .fields = 0,
	                            .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &nobody, &d, &rec), CU_ERR_NOT_FOUND);
	assert_string_equal(last_entry(ctx).decision, "deny");

	/* A member reads all of their own record, and nothing of anyone else's. */
	cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	cu_access_request mine = {
	    .actor = &self, .purpose = "self", .member = id, .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &mine, &d, &rec), CU_OK);
	assert_int_equal(rec.n, N(everything));
	cu_record_wipe(&rec);
	cu_access_request theirs = {
	    .actor = &self, .purpose = "self", .member = id2, .fields = 0, .case_ref = NULL};
	assert_int_equal(cu_access_read(ctx, &theirs, &d, &rec), CU_ERR_FORBIDDEN);
	assert_int_equal(rec.n, 0);
	assert_string_equal(last_entry(ctx).decision, "deny");

	/* decide() audits too, and opens nothing. */
	cu_actor analyst = {"lab", CU_ROLE_ANALYST, NULL, NULL};
	cu_access_request analysis = {
	    .actor = &analyst, .purpose = "analysis", .member = id, .fields = 0, .case_ref = NULL};
	before = cu_test_audit_count(ctx);
	assert_int_equal(cu_access_decide(ctx, &analysis, &d), CU_OK);
	assert_string_equal(d.decision, "partial");
	assert_int_equal(cu_test_audit_count(ctx), before + 1);

	/* Oversized request values are refused before anything else. */
	char huge[300];
	memset(huge, 'p', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	cu_access_request big = {.actor = &cu_test_operator,
	                         .purpose = huge,
	                         .member = id,
	                         .fields = 0,
	                         .case_ref = NULL};
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
	cu_access_request req = {.actor = &cu_test_operator,
	                         .purpose = "support",
	                         .member = NULL,
	                         .fields = 0,
	                         .case_ref = NULL};
	cu_access_decision d;
	cu_record rec;
	cu_errors errs;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs), CU_OK);
	req.member = id;
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	cu_record_wipe(&rec);
	assert_int_equal(cu_member_find(ctx, &service, "email", "full.field@example.com", found),
	                 CU_OK);
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, no_values, NULL), CU_OK);
	cu_test_ctx_free(ctx, dir);
}

/* The one check of a case reference (access.h). */
static void test_case_problem(void **state)
{
	static const struct {
		const char *in, *why;
	} cases[] = {
	    {"TOS-2026-0042", NULL},
	    {"事件 42", NULL},
	    {"a  b", NULL},
	    {" TOS-1 ", NULL},
	    {NULL, "required"},
	    {"", "required"},
	    {" ", "blank"},
	    {"   ", "blank"},
	    {"\xc2\xa0", "blank"},      /* no-break space */
	    {"\xe3\x80\x80 ", "blank"}, /* ideographic space */
	    {"\t", "malformed"},
	    {"\n", "malformed"},
	    {"TOS-1\nX", "malformed"},
	    {"TOS-1\r", "malformed"},
	    {"TOS\x7f", "malformed"},
	    {"TOS\xc2\x85", "malformed"}, /* NEL, a C1 control */
	    {"TOS\xe2\x80\xa8"
	     "1",
	     "malformed"}, /* line separator */
	    {"TOS\xe2\x80\xae"
	     "1",
	     "malformed"}, /* right-to-left override */
	    {"TOS\xe2\x80\x8b"
	     "1",
	     "malformed"},                    /* zero-width space */
	    {"\xef\xbb\xbfTOS", "malformed"}, /* BOM */
	    {"TOS\xff", "invalid_utf8"},
	    {"TOS\xc0\xaf", "invalid_utf8"},     /* overlong */
	    {"TOS\xed\xa0\x80", "invalid_utf8"}, /* surrogate */
	};
	char at_max[CU_CASE_REF_MAX + 2];

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		/* One check for the door, the routes, the CLI and the audit writer. */
		const char *why = cu_case_ref_problem(cases[i].in);

		if (!cases[i].why)
			assert_null(why);
		else
			assert_string_equal(why ? why : "(ok)", cases[i].why);
	}
	memset(at_max, 'C', CU_CASE_REF_MAX);
	at_max[CU_CASE_REF_MAX] = '\0';
	assert_null(cu_case_ref_problem(at_max));
	at_max[CU_CASE_REF_MAX] = 'C';
	at_max[CU_CASE_REF_MAX + 1] = '\0';
	assert_string_equal(cu_case_ref_problem(at_max), "too_long");
}

/* An id is what cu_vault_random_id gives, and nothing else. */
static void test_id_well_formed(void **state)
{
	static const char *const not_ids[] = {
	    NULL,
	    "",
	    "someone@example.com",
	    "AAAAAAAAAAAAAAAAAAAAA",
	    "AAAAAAAAAAAAAAAAAAAAAAA",
	    "tanaka_hanako_1980x_ab", /* 22 of the alphabet; its last one carries nonzero bits */
	    "AAAAAAAAAAAAAAAAAAAAA=",
	    "AAAAAAAAAAAAAAAAAAAA A",
	    "AAAAAAAAAAAAAAAAAAAA+A",
	};
	char id[CU_ID_LEN + 1];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		cu_vault_random_id(id);
		assert_true(cu_vault_id_well_formed(id));
	}
	assert_true(cu_vault_id_well_formed("AAAAAAAAAAAAAAAAAAAAAA"));
	assert_true(cu_vault_id_well_formed("-_-_-_-_-_-_-_-_-_-_-w"));
	for (size_t i = 0; i < N(not_ids); i++)
		assert_false(cu_vault_id_well_formed(not_ids[i]));
}

/*
 * At the door: a malformed case is refused whatever the purpose (rule 0),
 * audited, and recorded as malformed; so are a member that is no id and a
 * purpose the policy does not know.  A front end cannot get around it.
 */
static void test_door_keeps_typed_text_out(void **state)
{
	static const char *const bad_cases[] = {" ", "\t", "TOS-1\nX", "\xe3\x80\x80", "TOS\xff"};
	static const char *const purposes[] = {"tos_review", "support"};
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_actor desk = {"desk", CU_ROLE_STAFF, NULL, NULL};
	cu_access_decision d;
	unsigned long long before;
	cu_record rec;
	cu_errors errs;
	struct last l;

	(void)state;
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_member_register(ctx, &service, everything, N(everything), NULL, id, &errs), CU_OK);
	cu_record_init(&rec);
	for (size_t i = 0; i < N(bad_cases); i++) {
		for (size_t j = 0; j < N(purposes); j++) {
			cu_access_request req = {.actor = &desk,
			                         .purpose = purposes[j],
			                         .member = id,
			                         .case_ref = bad_cases[i]};

			before = cu_test_audit_count(ctx);
			assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_CASE_INVALID);
			assert_int_equal(rec.n, 0);
			assert_int_equal(cu_test_audit_count(ctx), before + 1);
			l = last_entry(ctx);
			assert_string_equal(l.decision, "deny");
			assert_string_equal(l.case_ref, CU_AUDIT_MALFORMED);
			assert_string_equal(l.purpose, purposes[j]);
			assert_string_equal(l.member, id);
			assert_int_equal(strncmp(l.reason, "case_invalid", 12), 0);
		}
	}
	/* A well-formed case is read with, and recorded as given. */
	{
		cu_access_request req = {.actor = &desk,
		                         .purpose = "tos_review",
		                         .member = id,
		                         .case_ref = "TOS-2026-7"};

		assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
		cu_record_wipe(&rec);
		assert_string_equal(last_entry(ctx).case_ref, "TOS-2026-7");
	}
	/* An e-mail address where the member id goes; a name where the purpose goes. */
	{
		cu_access_request req = {
		    .actor = &desk, .purpose = "support", .member = "someone@example.com"};

		assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_NOT_FOUND);
		l = last_entry(ctx);
		assert_string_equal(l.member, CU_AUDIT_MALFORMED);
		assert_string_equal(l.purpose, "support");
		req.member = id;
		req.purpose = "someone@example.com";
		assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_PURPOSE_UNKNOWN);
		l = last_entry(ctx);
		assert_string_equal(l.member, id);
		assert_string_equal(l.purpose, CU_AUDIT_MALFORMED);
		req.purpose = "hanako_tanaka"; /* a policy id's form, in no policy */
		assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_PURPOSE_UNKNOWN);
		assert_string_equal(last_entry(ctx).purpose, CU_AUDIT_MALFORMED);
	}
	/* Through the three steps a server uses, the fill says the same. */
	{
		cu_access_request req = {.actor = &desk,
		                         .purpose = "tos_review",
		                         .member = "someone@example.com",
		                         .case_ref = "a\nb"};
		cu_access_audit au;
		cu_member_row row;
		bool have_row;

		assert_int_equal(
		    cu_access_prepare(ctx->policy, ctx->store, &req, &d, &row, &have_row),
		    CU_ERR_CASE_INVALID);
		assert_false(have_row);
		cu_access_audit_fill(ctx->policy, &req, &d, &au);
		assert_string_equal(au.entry.member, CU_AUDIT_MALFORMED);
		assert_string_equal(au.entry.case_ref, CU_AUDIT_MALFORMED);
		cu_access_audit_wipe(&au);
	}
	cu_test_ctx_free(ctx, dir);
}

/* Whoever builds an entry, the writer keeps no typed text in an id position (audit.h). */
static void test_audit_writer_scrubs(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_audit_entry e = {.actor = "desk",
	                    .role = "staff",
	                    .action = "update",
	                    .member = "someone@example.com",
	                    .purpose = "Some One",
	                    .case_ref = "line\nbreak",
	                    .decision = "deny",
	                    .reason = "forbidden"};
	struct last l;

	(void)state;
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_audit_append(ctx->audit, ctx->store, &e), CU_OK);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	l = last_entry(ctx);
	assert_string_equal(l.member, CU_AUDIT_MALFORMED);
	assert_string_equal(l.purpose, CU_AUDIT_MALFORMED);
	assert_string_equal(l.case_ref, CU_AUDIT_MALFORMED);
	/* Ids, purposes and provisions of the right form, and a case one can cite, stay. */
	cu_vault_random_id(id);
	e = (cu_audit_entry){.actor = "desk",
	                     .role = "staff",
	                     .action = "provide",
	                     .member = id,
	                     .purpose = "provision:acme-printing",
	                     .case_ref = "TOS 7",
	                     .decision = "deny",
	                     .reason = "x"};
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_audit_append(ctx->audit, ctx->store, &e), CU_OK);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	l = last_entry(ctx);
	assert_string_equal(l.member, id);
	assert_string_equal(l.purpose, "provision:acme-printing");
	assert_string_equal(l.case_ref, "TOS 7");
	/* The chain still verifies over what was written. */
	{
		cu_audit_report r;

		assert_int_equal(cu_audit_verify(ctx->store, &r, NULL, NULL), CU_OK);
	}
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
	    cmocka_unit_test(test_case_problem),
	    cmocka_unit_test(test_id_well_formed),
	    cmocka_unit_test(test_door_keeps_typed_text_out),
	    cmocka_unit_test(test_audit_writer_scrubs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
