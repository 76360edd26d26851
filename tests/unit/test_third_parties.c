/*
 * tests/unit/test_third_parties.c — third parties, provisions, members' shares and
 * subcontractors: a provision only with the member's consent to that third
 * party (or an officer's legal exception), audited either way and recorded
 * only when made; registries refuse bad input field by field; a
 * subcontractor reads only the fields and purposes of a contract in force;
 * overdue supervision reviews are listed; a share opens only its fields,
 * only until it expires or is revoked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "domain/consent.h"
#include "domain/members.h"
#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "domain/tokens.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

static const cu_kv person[] = {
    {"name", "Partnera Personq"},      {"address", "7 Handover Lane"}, {"phone", "0312345671"},
    {"email", "partnera@example.com"}, {"occupation", "Bookbinderq"},
};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char id[CU_ID_LEN + 1];
	cu_actor self;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_member_register(f->ctx, &service, person, N(person), NULL, f->id, &errs), CU_OK);
	f->self = (cu_actor){f->id, CU_ROLE_MEMBER, f->id, NULL};
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

static cu_fieldset fields_of(cu_ctx *ctx, const char *a, const char *b)
{
	cu_fieldset s = (cu_fieldset)1 << cu_policy_field_index(ctx->policy, a);

	if (b)
		s |= (cu_fieldset)1 << cu_policy_field_index(ctx->policy, b);
	return s;
}

/* The last audit entry. */
struct last {
	char action[32], decision[16], purpose[64], fields[256], reason[1200], actor[64];
};

static int keep_last(void *ud, const cu_audit_entry *e)
{
	struct last *l = ud;

	snprintf(l->action, sizeof(l->action), "%s", e->action);
	snprintf(l->decision, sizeof(l->decision), "%s", e->decision);
	snprintf(l->purpose, sizeof(l->purpose), "%s", e->purpose);
	snprintf(l->fields, sizeof(l->fields), "%s", e->fields);
	snprintf(l->reason, sizeof(l->reason), "%s", e->reason);
	snprintf(l->actor, sizeof(l->actor), "%s", e->actor);
	return 0;
}

static struct last last_entry(cu_ctx *ctx)
{
	struct last l = {0};

	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, keep_last, &l), CU_OK);
	return l;
}

static int count_row(void *ud, const cu_provision_row *row)
{
	(void)row;
	(*(int *)ud)++;
	return 0;
}

static int provisions_of(cu_ctx *ctx, const char *member)
{
	int n = 0;

	assert_int_equal(cu_store_provision_list(ctx->store, member, count_row, &n), CU_OK);
	return n;
}

static void register_tp(cu_ctx *ctx, const char *id)
{
	const char *fields[] = {"name", "address"};
	cu_third_party_input in = {id,
	                           "Acme Printing Co.",
	                           "privacy@acme.example",
	                           "Printing and mailing course certificates.",
	                           fields,
	                           2};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_third_party_register(ctx, &officer, &in, NULL, &errs), CU_OK);
}

static cu_result provide(cu_ctx *ctx, const cu_actor *a, const char *tp, const char *member,
                         cu_fieldset fields, const char *exception, cu_record *rec,
                         cu_provision_row *prov)
{
	cu_provision_request req = {
	    a,      tp,        member,
	    fields, exception, exception ? "Court order 2026-77 requires the address." : NULL};
	cu_access_decision d;

	cu_record_init(rec);
	return cu_access_provide(ctx, &req, &d, rec, prov);
}

/* Without consent: refused, audited as a denial, nothing recorded; with it: recorded. */
static void test_provision_needs_consent(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_fieldset both = fields_of(ctx, "name", "address");
	cu_provision_row prov;
	cu_consent_row crow;
	cu_errors errs;
	cu_record rec;
	struct last l;
	unsigned long long before;

	register_tp(ctx, "acme-printing");
	cu_errors_init(&errs);

	before = cu_test_audit_count(ctx);
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id, both, NULL, &rec, &prov),
	                 CU_ERR_CONSENT_REQUIRED);
	assert_int_equal(rec.n, 0);
	assert_string_equal(prov.id, "");
	assert_int_equal(cu_test_audit_count(ctx), before + 1);
	l = last_entry(ctx);
	assert_string_equal(l.action, "provide");
	assert_string_equal(l.decision, "deny");
	assert_string_equal(l.purpose, "provision:acme-printing");
	assert_string_equal(l.fields, "name,address");
	assert_non_null(strstr(l.reason, "consent_required"));
	assert_int_equal(provisions_of(ctx, f->id), 0);

	/* The member consents: provided, exactly what was asked, and recorded. */
	assert_int_equal(cu_consent_set(ctx, &f->self, f->id, CU_CONSENT_THIRD_PARTY,
	                                "acme-printing", true, &crow, &errs),
	                 CU_OK);
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id, both, NULL, &rec, &prov),
	                 CU_OK);
	assert_int_equal(rec.n, 2);
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "name")),
	                    "Partnera Personq");
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "address")),
	                    "7 Handover Lane");
	cu_record_wipe(&rec);
	assert_string_equal(prov.basis, "consent");
	assert_int_equal(prov.nfields, 2);
	assert_string_equal(prov.actor, "backend");
	l = last_entry(ctx);
	assert_string_equal(l.decision, "allow");
	assert_non_null(strstr(l.reason, prov.id));
	assert_int_equal(provisions_of(ctx, f->id), 1);
	/* No plaintext in the record: names of fields only, and nothing in the database file. */
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/var/custodian.db", f->dir);
		assert_false(cu_test_file_contains(path, "Handover Lane"));
		snprintf(path, sizeof(path), "%s/var/custodian.db-wal", f->dir);
		assert_false(cu_test_file_contains(path, "Handover Lane"));
	}

	/* Withdrawn: the very next provision is refused, and the record stays as it was. */
	assert_int_equal(cu_consent_set(ctx, &f->self, f->id, CU_CONSENT_THIRD_PARTY,
	                                "acme-printing", false, &crow, &errs),
	                 CU_OK);
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id, both, NULL, &rec, &prov),
	                 CU_ERR_CONSENT_REQUIRED);
	assert_int_equal(rec.n, 0);
	assert_int_equal(provisions_of(ctx, f->id), 1);
}

/* The rules before consent: who, which third party, which fields; exceptions for officers. */
static void test_provision_rules(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_fieldset name = fields_of(ctx, "name", NULL);
	cu_provision_row prov;
	cu_exception_row ex;
	cu_consent_row crow;
	cu_errors errs;
	cu_record rec;

	register_tp(ctx, "acme-printing");
	cu_errors_init(&errs);
	assert_int_equal(cu_consent_set(ctx, &f->self, f->id, CU_CONSENT_THIRD_PARTY,
	                                "acme-printing", true, &crow, &errs),
	                 CU_OK);
	/* Staff do not provide; nor does anyone to an unregistered third party. */
	assert_int_equal(provide(ctx, &staff, "acme-printing", f->id, name, NULL, &rec, &prov),
	                 CU_ERR_FORBIDDEN);
	assert_string_equal(last_entry(ctx).purpose, "provision:acme-printing");
	/* A third party not in the registry is not repeated in the audit, whatever its form. */
	assert_int_equal(provide(ctx, &service, "nobody-kk", f->id, name, NULL, &rec, &prov),
	                 CU_ERR_NOT_FOUND);
	assert_string_equal(last_entry(ctx).purpose, "provision:" CU_AUDIT_MALFORMED);
	assert_int_equal(provide(ctx, &service, "Not An Id", f->id, name, NULL, &rec, &prov),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_string_equal(last_entry(ctx).purpose, "provision:" CU_AUDIT_MALFORMED);
	/* A field outside the registration refuses the whole provision; none refuses too. */
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id,
	                         fields_of(ctx, "name", "phone"), NULL, &rec, &prov),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_non_null(strstr(last_entry(ctx).reason, "registered fields"));
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id, 0, NULL, &rec, &prov),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(
	    provide(ctx, &service, "acme-printing", "no-such-member", name, NULL, &rec, &prov),
	    CU_ERR_NOT_FOUND);
	assert_int_equal(provisions_of(ctx, f->id), 0);

	/* A legal exception: only an officer, and then without the consent, with a review. */
	assert_int_equal(cu_consent_set(ctx, &f->self, f->id, CU_CONSENT_THIRD_PARTY,
	                                "acme-printing", false, &crow, &errs),
	                 CU_OK);
	assert_int_equal(provide(ctx, &service, "acme-printing", f->id, name, "law", &rec, &prov),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(
	    provide(ctx, &officer, "acme-printing", f->id, name, "no-such-law", &rec, &prov),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(provide(ctx, &officer, "acme-printing", f->id, name, "law", &rec, &prov),
	                 CU_OK);
	assert_int_equal(rec.n, 1);
	cu_record_wipe(&rec);
	assert_string_equal(prov.basis, "exception");
	assert_string_equal(prov.exception, "law");
	assert_int_equal(cu_store_exception_get(ctx->store, prov.exception_record, &ex), CU_OK);
	assert_string_equal(ex.purpose, "provision:acme-printing");
	assert_int_equal(ex.closed_us, 0);
	cu_exception_row_release(&ex);
	assert_int_equal(provisions_of(ctx, f->id), 1);
}

/* Registries refuse bad input, each problem named; duplicates conflict; officers only. */
static void test_registry_validation(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	const char *bad_fields[] = {"name", "shoe_size"}, *dup[] = {"name", "name"};
	const char *fields[] = {"email"}, *purposes[] = {"support"}, *none[] = {"x"};
	const char *measures[] = {"encryption at rest"}, *two_lines[] = {"one\ntwo"};
	cu_third_party_input tp = {"Bad Id!", "", "c", "p", bad_fields, 2};
	cu_subcontractor_input sub = {"mailhouse", "Mail House", "sec@x",     fields,
	                              1,           purposes,     1,           measures,
	                              1,           "2026-01-01", "2026-12-31"};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_third_party_register(ctx, &officer, &tp, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(errs.n, 3);
	assert_string_equal(errs.e[0].field, "id");
	assert_string_equal(errs.e[0].reason, "malformed");
	assert_string_equal(errs.e[1].field, "name");
	assert_string_equal(errs.e[1].reason, "required");
	assert_string_equal(errs.e[2].field, "fields");
	assert_string_equal(errs.e[2].reason, "unknown_field");
	tp = (cu_third_party_input){"acme", "Acme", "c", "p", dup, 2};
	cu_errors_init(&errs);
	assert_int_equal(cu_third_party_register(ctx, &officer, &tp, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "duplicate");
	tp.fields = fields;
	tp.nfields = 1;
	assert_int_equal(cu_third_party_register(ctx, &staff, &tp, NULL, &errs), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_third_party_register(ctx, &officer, &tp, NULL, &errs), CU_OK);
	assert_int_equal(cu_third_party_register(ctx, &officer, &tp, NULL, &errs), CU_ERR_CONFLICT);
	assert_string_equal(last_entry(ctx).action, "third_party_register");

	/* Subcontractors: unknown purposes, a measure of two lines, a term backwards. */
	sub.purposes = none;
	sub.measures = two_lines;
	sub.end = "2025-12-31";
	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &sub, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.e[0].field, "purposes");
	assert_string_equal(errs.e[0].reason, "unknown_purpose");
	assert_string_equal(errs.e[1].field, "measures");
	sub.purposes = purposes;
	sub.measures = measures;
	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &sub, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "end");
	assert_string_equal(errs.e[0].reason, "before_start");
	sub.end = "2026-02-30";
	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &sub, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].reason, "malformed");
	sub.end = "2026-12-31";
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &sub, NULL, &errs), CU_OK);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &sub, NULL, &errs),
	                 CU_ERR_CONFLICT);
}

static void add_contract(cu_ctx *ctx, const char *id, const char *start, const char *end)
{
	const char *fields[] = {"name", "email"}, *purposes[] = {"support"};
	const char *measures[] = {"encryption at rest", "named staff only"};
	cu_subcontractor_input in = {
	    id, "Call Centre KK", "sec@cc.example", fields, 2, purposes, 1, measures, 2, start,
	    end};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_subcontractor_register(ctx, &officer, &in, NULL, &errs), CU_OK);
}

static cu_result sub_read(cu_ctx *ctx, const char *contract, const char *purpose,
                          const char *member, cu_access_decision *d)
{
	cu_actor a = {"call centre", CU_ROLE_SUBCONTRACTOR, NULL, contract};
	cu_access_request req = {.actor = &a, .purpose = purpose, .member = member};
	cu_record rec;
	cu_result rc;

	cu_record_init(&rec);
	rc = cu_access_read(ctx, &req, d, &rec);
	assert_true(rc != CU_OK || rec.n > 0);
	assert_true(rc == CU_OK || rec.n == 0);
	cu_record_wipe(&rec);
	return rc;
}

/* A subcontractor reads only the purposes and fields of a contract in force. */
static void test_subcontract_scope(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	int phone = cu_policy_field_index(ctx->policy, "phone");
	cu_access_decision d;
	char past[11], future[11];

	add_contract(ctx, "callcentre", "2020-01-01", "2999-12-31");
	/* support allows name, phone, email; the contract names name and email. */
	assert_int_equal(sub_read(ctx, "callcentre", "support", f->id, &d), CU_OK);
	assert_true(d.allowed == fields_of(ctx, "name", "email"));
	assert_string_equal(d.reason[phone], "outside the subcontract");
	assert_string_equal(last_entry(ctx).decision, "partial");
	/* The policy grants subcontractors product_news; this contract does not. */
	assert_int_equal(sub_read(ctx, "callcentre", "product_news", f->id, &d),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_non_null(strstr(last_entry(ctx).reason, "outside the subcontract"));
	/* No contract, or an unknown one: nothing. */
	assert_int_equal(sub_read(ctx, NULL, "support", f->id, &d), CU_ERR_FORBIDDEN);
	assert_int_equal(sub_read(ctx, "nonesuch", "support", f->id, &d), CU_ERR_FORBIDDEN);
	assert_string_equal(last_entry(ctx).decision, "deny");

	/* Expired yesterday, or not begun: "contract not in force", audited. */
	cu_date_format(cu_now_us() - 3 * CU_DAY_US, past);
	cu_date_format(cu_now_us() + 3 * CU_DAY_US, future);
	add_contract(ctx, "expired", "2020-01-01", past);
	add_contract(ctx, "later", future, "2999-12-31");
	assert_int_equal(sub_read(ctx, "expired", "support", f->id, &d), CU_ERR_FORBIDDEN);
	assert_non_null(strstr(last_entry(ctx).reason, "contract not in force"));
	assert_int_equal(sub_read(ctx, "later", "support", f->id, &d), CU_ERR_FORBIDDEN);
	assert_non_null(strstr(last_entry(ctx).reason, "contract not in force"));
	/* Outside the term, not even the purpose is examined. */
	assert_int_equal(sub_read(ctx, "expired", "nonesuch", f->id, &d), CU_ERR_FORBIDDEN);
}

/* Tokens bound to a contract: only a subcontractor's, only to a registered one. */
static void test_bound_tokens(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], contract[CU_REGISTRY_ID_MAX + 1];
	cu_token_info info;

	add_contract(ctx, "callcentre", "2020-01-01", "2999-12-31");
	assert_int_equal(
	    cu_token_create_bound(ctx, NULL, CU_ROLE_STAFF, "desk", 0, "callcentre", secret, id),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_token_create_bound(ctx, NULL, CU_ROLE_SUBCONTRACTOR, "cc", 0,
	                                       "nonesuch", secret, id),
	                 CU_ERR_NOT_FOUND);
	assert_int_equal(cu_token_create_bound(ctx, NULL, CU_ROLE_SUBCONTRACTOR, "cc", 0,
	                                       "callcentre", secret, id),
	                 CU_OK);
	assert_non_null(strstr(last_entry(ctx).reason, "contract callcentre"));
	assert_int_equal(cu_token_authenticate(ctx->store, secret, cu_now_us(), &info), CU_OK);
	assert_int_equal(cu_token_contract(ctx->store, info.id, contract), CU_OK);
	assert_string_equal(contract, "callcentre");
	/* An unbound one has none. */
	assert_int_equal(cu_token_create(ctx, NULL, CU_ROLE_SUBCONTRACTOR, "loose", 0, secret, id),
	                 CU_OK);
	assert_int_equal(cu_token_contract(ctx->store, id, contract), CU_ERR_NOT_FOUND);
}

struct ids {
	int n;
	char id[8][CU_ID_LEN + 1];
};

static int keep_id(void *ud, const cu_review_row *row)
{
	struct ids *c = ud;

	if (c->n < 8)
		memcpy(c->id[c->n++], row->id, CU_ID_LEN + 1);
	return 0;
}

/* Reviews due before today and not done are overdue; done ones and future ones are not. */
static void test_overdue_reviews(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_review_row late, later, done, today;
	struct ids c = {0};
	char d1[11], d2[11], d3[11];
	cu_errors errs;

	add_contract(ctx, "callcentre", "2020-01-01", "2999-12-31");
	cu_errors_init(&errs);
	cu_date_format(cu_now_us() - 10 * CU_DAY_US, d1);
	cu_date_format(cu_now_us() + 10 * CU_DAY_US, d2);
	cu_date_format(cu_now_us(), d3);
	assert_int_equal(
	    cu_subcontractor_review_add(ctx, &officer, "callcentre", d1, NULL, false, &late, &errs),
	    CU_OK);
	assert_int_equal(cu_subcontractor_review_add(ctx, &officer, "callcentre", d2, NULL, false,
	                                             &later, &errs),
	                 CU_OK);
	assert_int_equal(cu_subcontractor_review_add(ctx, &officer, "callcentre", d1, "all fine",
	                                             true, &done, &errs),
	                 CU_OK);
	assert_int_equal(cu_subcontractor_review_add(ctx, &officer, "callcentre", d3, NULL, false,
	                                             &today, &errs),
	                 CU_OK);
	assert_int_equal(
	    cu_subcontractor_review_add(ctx, &officer, "nonesuch", d1, NULL, false, NULL, &errs),
	    CU_ERR_NOT_FOUND);
	assert_int_equal(cu_subcontractor_review_add(ctx, &officer, "callcentre", "someday", NULL,
	                                             false, NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_int_equal(
	    cu_subcontractor_review_add(ctx, &staff, "callcentre", d1, NULL, false, NULL, &errs),
	    CU_ERR_FORBIDDEN);

	assert_int_equal(cu_subcontractor_reviews_overdue(ctx->store, cu_now_us(), keep_id, &c),
	                 CU_OK);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.id[0], late.id);
	/* Once done, no longer overdue; a later day makes the future one overdue. */
	assert_int_equal(cu_subcontractor_review_update(ctx, &officer, "callcentre", late.id,
	                                                "measures checked on site", 1, NULL, &errs),
	                 CU_OK);
	assert_int_equal(
	    cu_subcontractor_review_update(ctx, &officer, "other", late.id, NULL, 1, NULL, &errs),
	    CU_ERR_NOT_FOUND);
	c.n = 0;
	assert_int_equal(cu_subcontractor_reviews_overdue(ctx->store, cu_now_us(), keep_id, &c),
	                 CU_OK);
	assert_int_equal(c.n, 0);
	c.n = 0;
	assert_int_equal(
	    cu_subcontractor_reviews_overdue(ctx->store, cu_now_us() + 20 * CU_DAY_US, keep_id, &c),
	    CU_OK);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.id[0], today.id);
	assert_string_equal(c.id[1], later.id);
}

/* A member's share opens only its fields, audited as their own act, until expiry or revocation. */
static void test_shares(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	char token[CU_SHARE_TOKEN_LEN + 1];
	cu_access_decision d;
	cu_share_row row, sh;
	cu_errors errs;
	cu_record rec;
	struct last l;

	cu_errors_init(&errs);
	assert_int_equal(cu_share_create(ctx, &staff, fields_of(ctx, "email", NULL),
	                                 60000000LL * 10, token, &row, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_share_create(ctx, &f->self, fields_of(ctx, "email", NULL),
	                                 CU_SHARE_TTL_MAX_US + 1, token, &row, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_string_equal(errs.e[0].field, "expires_in_minutes");
	assert_int_equal(cu_share_create(ctx, &f->self, fields_of(ctx, "email", "occupation"),
	                                 60000000LL * 10, token, &row, &errs),
	                 CU_OK);
	assert_int_equal(strlen(token), CU_SHARE_TOKEN_LEN);
	assert_string_equal(row.fields_text, "email,occupation");

	cu_record_init(&rec);
	assert_int_equal(cu_share_read(ctx, token, &d, &rec, &sh), CU_OK);
	assert_int_equal(rec.n, 2);
	assert_string_equal(cu_record_get(&rec, cu_policy_field_index(ctx->policy, "email")),
	                    "partnera@example.com");
	cu_record_wipe(&rec);
	l = last_entry(ctx);
	assert_string_equal(l.action, "share_read");
	assert_string_equal(l.actor, f->id);
	assert_string_equal(l.purpose, "self");
	assert_non_null(strstr(l.reason, row.id));

	/* Expired: the same token opens nothing at a later time. */
	assert_int_equal(cu_share_find(ctx->store, token, row.expires_us, &sh), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_share_find(ctx->store, "not-a-token", cu_now_us(), &sh),
	                 CU_ERR_NOT_FOUND);
	/* Revoked: nothing; another member cannot revoke it. */
	{
		cu_actor other = {"someone", CU_ROLE_MEMBER, "AAAAAAAAAAAAAAAAAAAAAA", NULL};

		assert_int_equal(cu_share_revoke(ctx, &other, row.id), CU_ERR_NOT_FOUND);
	}
	assert_int_equal(cu_share_revoke(ctx, &f->self, row.id), CU_OK);
	cu_record_init(&rec);
	assert_int_equal(cu_share_read(ctx, token, &d, &rec, &sh), CU_ERR_NOT_FOUND);
	assert_int_equal(rec.n, 0);
	/* Only the hash of the token is kept. */
	{
		char path[600];

		snprintf(path, sizeof(path), "%s/var/custodian.db", f->dir);
		assert_false(cu_test_file_contains(path, token));
		snprintf(path, sizeof(path), "%s/var/custodian.db-wal", f->dir);
		assert_false(cu_test_file_contains(path, token));
	}
}

/* Records of provisions are kept three years: a younger cut-off is refused. */
static void test_provision_retention(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_provision_row old;
	uint64_t n = 99;

	register_tp(ctx, "acme-printing");
	/* One made four years ago: written straight to the store (time cannot be turned back). */
	memset(&old, 0, sizeof(old));
	snprintf(old.id, sizeof(old.id), "old-provision");
	snprintf(old.third_party, sizeof(old.third_party), "acme-printing");
	snprintf(old.member, sizeof(old.member), "%s", f->id);
	old.nfields = 1;
	snprintf(old.fields[0], sizeof(old.fields[0]), "name");
	snprintf(old.basis, sizeof(old.basis), "consent");
	snprintf(old.actor, sizeof(old.actor), "backend");
	snprintf(old.role, sizeof(old.role), "service");
	old.time_us = cu_now_us() - 4 * 366 * CU_DAY_US;
	assert_int_equal(cu_store_begin(ctx->store), CU_OK);
	assert_int_equal(cu_store_provision_insert(ctx->store, &old), CU_OK);
	assert_int_equal(cu_store_commit(ctx->store), CU_OK);

	assert_int_equal(cu_provision_purge(ctx, &officer, cu_now_us() - CU_PROVISION_KEEP_US, &n),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(
	    cu_provision_purge(ctx, &cu_test_operator, cu_now_us() - 2 * 366 * CU_DAY_US, &n),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(provisions_of(ctx, f->id), 1);
	/* Past the library, the store refuses a young cut-off... */
	assert_int_equal(cu_store_begin(ctx->store), CU_OK);
	assert_int_equal(cu_store_provision_purge(ctx->store, cu_now_us(), cu_now_us(), &n),
	                 CU_ERR_INVALID_ARGUMENT);
	cu_store_rollback(ctx->store);
	/* ...and past the store, the table's triggers refuse changes and young deletions. */
	{
		cu_provision_row young = old;
		char path[600];
		sqlite3 *db;

		snprintf(young.id, sizeof(young.id), "young-provision");
		young.time_us = cu_now_us();
		assert_int_equal(cu_store_begin(ctx->store), CU_OK);
		assert_int_equal(cu_store_provision_insert(ctx->store, &young), CU_OK);
		assert_int_equal(cu_store_commit(ctx->store), CU_OK);
		snprintf(path, sizeof(path), "%s/var/custodian.db", f->dir);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		sqlite3_busy_timeout(db, 5000);
		assert_int_not_equal(sqlite3_exec(db, "DELETE FROM provisions", NULL, NULL, NULL),
		                     SQLITE_OK);
		assert_int_not_equal(
		    sqlite3_exec(db, "UPDATE provisions SET fields = 'income'", NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
		assert_int_equal(provisions_of(ctx, f->id), 2);
	}
	assert_int_equal(cu_provision_purge(ctx, &cu_test_operator,
	                                    cu_now_us() - CU_PROVISION_KEEP_US - CU_DAY_US, &n),
	                 CU_OK);
	assert_int_equal(n, 1);
	assert_int_equal(provisions_of(ctx, f->id), 1); /* the young one stays */
	assert_string_equal(last_entry(ctx).action, "provision_purge");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_provision_needs_consent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provision_rules, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_registry_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_subcontract_scope, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_tokens, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_overdue_reviews, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shares, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provision_retention, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
