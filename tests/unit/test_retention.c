/*
 * tests/unit/test_retention.c — the retention plan and its run, with a clock
 * the test sets (now_us): a field a new version drops is listed with its
 * grace and cut from the stored record after it, not before; a run does
 * exactly the plan's due items; a field goes only when every purpose that
 * grants it has ended (or its own period has); an inactive member is sent
 * a notice, then erased, unless they came back; records of provision go
 * after their period and never within three years of the wall clock; the
 * policy's retention section is validated; only the operator may run.
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

#include "domain/consent.h"
#include "domain/members.h"
#include "domain/records.h"
#include "domain/retention.h"
#include "domain/sessions.h"
#include "domain/third_parties.h"
#include "domain/versions.h"
#include "store/third_party.h"
#include "support.h"
#include "util/date.h"
#include "vault/record.h"

#define N(a)      (sizeof(a) / sizeof((a)[0]))
#define ITEMS_MAX 64
#define ERR_BYTES 512

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

static const cu_kv alice[] = {
    {"name", "Alicia Keptq"},
    {"address", "1 Retention Row"},
    {"phone", "0312345601"},
    {"email", "alicia@example.com"},
    {"hobbies", "Falconryq"},
    {"income", "5-7M JPY"},
    {"age", "41"},
    {"products", "Kitesq"},
    {"occupation", "Glazierq"},
};
static const cu_kv bruno[] = {
    {"name", "Bruno Plainq"},
    {"address", "2 Retention Row"},
    {"phone", "0312345602"},
    {"email", "bruno@example.com"},
};

struct fx {
	char *dir;
	cu_ctx *ctx;
	char a[CU_ID_LEN + 1], b[CU_ID_LEN + 1];
	int64_t t0; /* the real time at setup */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	f->t0 = cu_now_us();
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, alice, N(alice), NULL, f->a, &errs),
	                 CU_OK);
	assert_int_equal(cu_member_register(f->ctx, &service, bruno, N(bruno), NULL, f->b, &errs),
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

/* ---- building policies ------------------------------------------------------ */

/* The default policy as JSON, under a new version. */
static json_t *policy_json(const char *version)
{
	json_error_t e;
	json_t *p = json_loadb(cu_default_policy_json, cu_default_policy_json_len, 0, &e);

	assert_non_null(p);
	json_object_set_new(p, "version", json_string(version));
	return p;
}

/* Removes field `name` from the fields, every purpose and every service. */
static void drop_field(json_t *p, const char *name)
{
	json_t *fields = json_object_get(p, "fields"), *v;
	size_t i;

	for (i = 0; i < json_array_size(fields); i++)
		if (!strcmp(json_string_value(json_object_get(json_array_get(fields, i), "name")),
		            name))
			json_array_remove(fields, i--);
	json_array_foreach(json_object_get(p, "purposes"), i, v)
	{
		json_t *pf = json_object_get(v, "fields");

		for (size_t k = 0; k < json_array_size(pf); k++)
			if (!strcmp(json_string_value(json_array_get(pf, k)), name))
				json_array_remove(pf, k--);
	}
	json_array_foreach(json_object_get(p, "services"), i, v)
	{
		json_t *rq = json_object_get(v, "requires");

		for (size_t k = 0; k < json_array_size(rq); k++)
			if (!strcmp(json_string_value(json_array_get(rq, k)), name))
				json_array_remove(rq, k--);
	}
}

/* Publishes p (consumed) and puts it in force on ctx. */
static void publish(cu_ctx *ctx, json_t *p)
{
	char *doc = json_dumps(p, JSON_COMPACT), err[ERR_BYTES] = "";
	cu_policy *in_force = NULL;

	json_decref(p);
	assert_non_null(doc);
	if (cu_versions_publish(ctx, &officer, doc, strlen(doc), &in_force, err, sizeof(err)))
		fail_msg("publish: %s", err);
	free(doc);
	cu_policy_free(ctx->policy);
	ctx->policy = in_force;
}

/* ---- the plan, collected ---------------------------------------------------- */

struct items {
	int64_t now;
	size_t n;
	cu_retention_item it[ITEMS_MAX];
};

static int collect(void *ud, const cu_retention_item *it)
{
	struct items *s = ud;

	assert_true(s->n < ITEMS_MAX);
	s->it[s->n++] = *it;
	return 0;
}

static void plan_at(cu_ctx *ctx, int64_t now, struct items *out)
{
	memset(out, 0, sizeof(*out));
	out->now = now;
	assert_int_equal(cu_retention_plan(ctx, now, collect, out), CU_OK);
}

/* The item of kind for member (and field, if given); NULL if the plan has none. */
static const cu_retention_item *find(const struct items *s, cu_retention_kind kind,
                                     const char *member, const char *field)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->it[i].kind == kind && (!member || !strcmp(s->it[i].member, member)) &&
		    (!field || !strcmp(s->it[i].field, field)))
			return &s->it[i];
	return NULL;
}

static size_t due_count(const struct items *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->it[i].due_us <= s->now;
	return n;
}

/* Runs at now; asserts the run did exactly the plan's due items, in order. */
static void run_as_planned(cu_ctx *ctx, int64_t now, cu_retention_report *rep)
{
	struct items plan, done;

	plan_at(ctx, now, &plan);
	memset(&done, 0, sizeof(done));
	done.now = now;
	assert_int_equal(cu_retention_run(ctx, &cu_test_operator, now, collect, NULL, &done, rep),
	                 CU_OK);
	assert_int_equal(done.n, due_count(&plan));
	for (size_t i = 0, k = 0; i < plan.n; i++) {
		if (plan.it[i].due_us > now)
			continue;
		assert_int_equal(done.it[k].kind, plan.it[i].kind);
		assert_string_equal(done.it[k].member, plan.it[i].member);
		assert_string_equal(done.it[k].field, plan.it[i].field);
		k++;
	}
}

/* Whether the member's stored record holds an entry named `name` (framing, no key). */
static bool record_has(cu_ctx *ctx, const char *member, const char *name)
{
	cu_record_entry e[ITEMS_MAX];
	cu_member_row row = {0};
	size_t n = 0;
	bool found = false;

	assert_int_equal(cu_store_member_get(ctx->store, member, &row), CU_OK);
	if (row.fields)
		assert_int_equal(cu_record_parse(row.fields, row.fields_len, e, N(e), &n), CU_OK);
	for (size_t i = 0; i < n; i++)
		found |= e[i].name_len == strlen(name) && !memcmp(e[i].name, name, e[i].name_len);
	cu_member_row_release(&row);
	return found;
}

/* The member's own read through the door: the cut record still opens whole. */
static void self_read(cu_ctx *ctx, const char *member, const char *field, const char *want)
{
	cu_actor self = {member, CU_ROLE_MEMBER, member, NULL};
	cu_access_request req = {&self, "self", member, 0, NULL, NULL, NULL};
	cu_access_decision d;
	cu_record rec;
	const char *got;

	cu_record_init(&rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	got = cu_record_get(&rec, cu_policy_field_index(ctx->policy, field));
	if (want)
		assert_string_equal(got, want);
	else
		assert_null(got);
	cu_record_wipe(&rec);
}

/* ---- the tests ------------------------------------------------------------------ */

static void test_dropped_field_after_grace(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	const cu_retention_item *it;
	cu_retention_report rep;
	struct items plan;
	json_t *p = policy_json("2027-01-01.1");
	int64_t published;

	json_object_set_new(p, "retention", json_pack("{s:i}", "dropped_field_grace_days", 30));
	drop_field(p, "hobbies");
	publish(ctx, p);
	published = cu_now_us();

	/* Under the grace period: listed with its date, and nothing is cut. */
	plan_at(ctx, f->t0 + 29 * CU_DAY_US, &plan);
	it = find(&plan, CU_RETENTION_DROPPED_FIELD, f->a, "hobbies");
	assert_non_null(it);
	assert_true(it->due_us > plan.now);
	assert_true(it->due_us >= f->t0 + 30 * CU_DAY_US &&
	            it->due_us <= published + 30 * CU_DAY_US);
	assert_non_null(strstr(it->why, "2027-01-01.1"));
	/* Bruno never answered it: nothing of his to cut. */
	assert_null(find(&plan, CU_RETENTION_DROPPED_FIELD, f->b, NULL));
	run_as_planned(ctx, plan.now, &rep);
	assert_int_equal(rep.fields, 0);
	assert_int_equal(rep.later, 1);
	assert_true(record_has(ctx, f->a, "hobbies"));

	/* After it: cut from the stored record, the rest kept, the cut audited. */
	{
		unsigned long long before = cu_test_audit_count(ctx);

		run_as_planned(ctx, published + 31 * CU_DAY_US, &rep);
		assert_int_equal(rep.fields, 1);
		assert_int_equal(rep.members, 1);
		assert_int_equal(cu_test_audit_count(ctx), before + 1);
	}
	assert_false(record_has(ctx, f->a, "hobbies"));
	assert_true(record_has(ctx, f->a, "income"));
	assert_true(record_has(ctx, f->a, "email"));
	/* The record still opens: the member reads what is left. */
	self_read(ctx, f->a, "income", "5-7M JPY");
	plan_at(ctx, published + 31 * CU_DAY_US, &plan);
	assert_int_equal(due_count(&plan), 0);
}

static void test_field_when_every_purpose_ended(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_retention_report rep;
	struct items plan;
	json_t *p = policy_json("2027-02-01.1");

	/* age: granted by research, analysis and materials; two of the three end. */
	json_object_set_new(p, "retention",
	                    json_pack("{s:{s:{s:i},s:{s:i}},s:{s:{s:i}}}", "purposes", "research",
	                              "after_last_activity_days", 10, "analysis",
	                              "after_last_activity_days", 20, "fields", "products",
	                              "after_last_activity_days", 100));
	publish(ctx, p);
	plan_at(ctx, f->t0 + 365 * CU_DAY_US, &plan);
	assert_null(find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "age"));
	/* products has a period of its own: 100 days after the last activity (registration). */
	{
		const cu_retention_item *it =
		    find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "products");

		assert_non_null(it);
		assert_true(it->due_us >= f->t0 + 100 * CU_DAY_US &&
		            it->due_us < f->t0 + 101 * CU_DAY_US);
		assert_non_null(strstr(it->why, "field period"));
	}
	/* income: analysis is the one purpose that grants it, and it ends after 20 days. */
	{
		const cu_retention_item *it = find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "income");

		assert_non_null(it);
		assert_true(it->due_us >= f->t0 + 20 * CU_DAY_US &&
		            it->due_us < f->t0 + 21 * CU_DAY_US);
		assert_non_null(strstr(it->why, "analysis"));
	}

	/* The third ends too: now age goes 20 days after (the latest of the three). */
	p = policy_json("2027-02-01.2");
	json_object_set_new(p, "retention",
	                    json_pack("{s:{s:{s:i},s:{s:i},s:{s:i}}}", "purposes", "research",
	                              "after_last_activity_days", 10, "analysis",
	                              "after_last_activity_days", 20, "materials",
	                              "after_last_activity_days", 5));
	publish(ctx, p);
	plan_at(ctx, f->t0 + 15 * CU_DAY_US, &plan);
	{
		const cu_retention_item *it = find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "age");

		assert_non_null(it);
		assert_true(it->due_us > plan.now);
		assert_true(it->due_us >= f->t0 + 20 * CU_DAY_US &&
		            it->due_us < f->t0 + 21 * CU_DAY_US);
		assert_non_null(strstr(it->why, "analysis"));
	}
	/* No purpose grants address and it is required: never listed. */
	assert_null(find(&plan, CU_RETENTION_FIELD_ENDED, NULL, "address"));
	run_as_planned(ctx, f->t0 + 21 * CU_DAY_US, &rep);
	/* Every survey answer of Alicia's is granted only by those three: all four go. */
	assert_int_equal(rep.fields, 4);
	assert_false(record_has(ctx, f->a, "age"));
	assert_false(record_has(ctx, f->a, "income"));
	assert_false(record_has(ctx, f->a, "products"));
	assert_false(record_has(ctx, f->a, "hobbies"));
	assert_true(record_has(ctx, f->a, "email"));
	assert_true(record_has(ctx, f->a, "address"));
	self_read(ctx, f->a, "address", "1 Retention Row");
	self_read(ctx, f->a, "age", NULL);
	/* The row's bit set follows: eligibility and the door see no age. */
	{
		cu_member_row row = {0};
		int ai = cu_policy_field_index(ctx->policy, "age");

		assert_int_equal(cu_store_member_get(ctx->store, f->a, &row), CU_OK);
		assert_false((row.present >> ai) & 1);
		cu_member_row_release(&row);
	}
}

static void test_consent_withdrawn(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	cu_actor self = {f->a, CU_ROLE_MEMBER, f->a, NULL};
	const cu_retention_item *it;
	cu_retention_report rep;
	struct items plan;
	cu_errors errs;
	int64_t withdrawn;
	json_t *p = policy_json("2027-02-15.1");

	/* occupation: research, analysis, materials (ended at once) and testimonials (consent). */
	json_object_set_new(p, "retention",
	                    json_pack("{s:{s:{s:i},s:{s:i},s:{s:i},s:{s:i}}}", "purposes",
	                              "research", "after_last_activity_days", 0, "analysis",
	                              "after_last_activity_days", 0, "materials",
	                              "after_last_activity_days", 0, "testimonials",
	                              "after_withdrawal_days", 10));
	publish(ctx, p);
	/* Never given: testimonials never held it, and the others have ended. */
	plan_at(ctx, f->t0 + CU_DAY_US, &plan);
	it = find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "occupation");
	assert_non_null(it);
	assert_true(it->due_us <= plan.now);
	assert_non_null(strstr(it->why, "testimonials (consent never given)"));

	/* Given: held while it is in force. */
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_consent_set(ctx, &self, f->a, CU_CONSENT_PURPOSE, "testimonials", true, NULL, &errs),
	    CU_OK);
	plan_at(ctx, f->t0 + 365 * CU_DAY_US, &plan);
	assert_null(find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "occupation"));
	assert_non_null(find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "age"));

	/* Withdrawn: ten days after the withdrawal, not before. */
	assert_int_equal(cu_consent_set(ctx, &self, f->a, CU_CONSENT_PURPOSE, "testimonials", false,
	                                NULL, &errs),
	                 CU_OK);
	withdrawn = cu_now_us();
	plan_at(ctx, withdrawn + 9 * CU_DAY_US, &plan);
	it = find(&plan, CU_RETENTION_FIELD_ENDED, f->a, "occupation");
	assert_non_null(it);
	assert_true(it->due_us > plan.now);
	assert_true(it->due_us <= withdrawn + 10 * CU_DAY_US);
	assert_non_null(strstr(it->why, "consent withdrawn"));
	run_as_planned(ctx, withdrawn + 9 * CU_DAY_US, &rep);
	assert_true(record_has(ctx, f->a, "occupation"));
	run_as_planned(ctx, withdrawn + 10 * CU_DAY_US, &rep);
	assert_false(record_has(ctx, f->a, "occupation"));
	self_read(ctx, f->a, "name", "Alicia Keptq");
}

static void test_inactive_accounts(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	const cu_retention_item *ia, *ib;
	cu_retention_report rep;
	struct items plan;
	json_t *p = policy_json("2027-03-01.1");
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];

	json_object_set_new(p, "retention",
	                    json_pack("{s:{s:i,s:i}}", "inactive_accounts", "notice_after_days", 30,
	                              "erase_after_notice_days", 10));
	publish(ctx, p);
	plan_at(ctx, f->t0 + 29 * CU_DAY_US, &plan);
	ia = find(&plan, CU_RETENTION_INACTIVE_NOTICE, f->a, NULL);
	assert_non_null(ia);
	assert_true(ia->due_us > plan.now);

	/* Thirty days without activity: both are sent the notice. */
	run_as_planned(ctx, f->t0 + 31 * CU_DAY_US, &rep);
	assert_int_equal(rep.notices, 2);
	assert_int_equal(rep.erasures, 0);
	/* Bruno logs in after the notice: his count starts again. */
	assert_int_equal(cu_session_create(ctx, f->b, CU_DAY_US, secret, csrf), CU_OK);

	plan_at(ctx, f->t0 + 31 * CU_DAY_US, &plan);
	ia = find(&plan, CU_RETENTION_INACTIVE_ERASE, f->a, NULL);
	ib = find(&plan, CU_RETENTION_INACTIVE_NOTICE, f->b, NULL);
	assert_non_null(ia);
	assert_non_null(ib);
	assert_null(find(&plan, CU_RETENTION_INACTIVE_ERASE, f->b, NULL));
	/* Alicia's erasure: ten days after the notice (sent on the wall clock, now). */
	assert_true(ia->due_us >= f->t0 + 10 * CU_DAY_US);
	assert_true(ib->due_us >= f->t0 + 30 * CU_DAY_US);

	/* Eleven days later by the test's clock: Alicia is erased, Bruno stays. */
	run_as_planned(ctx, f->t0 + 12 * CU_DAY_US, &rep);
	assert_int_equal(rep.erasures, 1);
	{
		cu_member_row row = {0};

		assert_int_equal(cu_store_member_get(ctx->store, f->a, &row), CU_OK);
		assert_true(row.erased);
		assert_null(row.fields);
		cu_member_row_release(&row);
		assert_int_equal(cu_store_member_get(ctx->store, f->b, &row), CU_OK);
		assert_false(row.erased);
		cu_member_row_release(&row);
	}
	/* The erased member is in no later plan. */
	plan_at(ctx, f->t0 + 400 * CU_DAY_US, &plan);
	assert_null(find(&plan, CU_RETENTION_INACTIVE_ERASE, f->a, NULL));
	assert_null(find(&plan, CU_RETENTION_INACTIVE_NOTICE, f->a, NULL));
}

static void insert_provision(cu_ctx *ctx, const char *id, const char *member, int64_t when)
{
	cu_provision_row row;

	memset(&row, 0, sizeof(row));
	snprintf(row.id, sizeof(row.id), "%s", id);
	snprintf(row.third_party, sizeof(row.third_party), "acme-printing");
	snprintf(row.member, sizeof(row.member), "%s", member);
	row.nfields = 1;
	snprintf(row.fields[0], sizeof(row.fields[0]), "name");
	snprintf(row.basis, sizeof(row.basis), "consent");
	snprintf(row.actor, sizeof(row.actor), "backend");
	snprintf(row.role, sizeof(row.role), "service");
	row.time_us = when;
	assert_int_equal(cu_store_begin(ctx->store), CU_OK);
	assert_int_equal(cu_store_provision_insert(ctx->store, &row), CU_OK);
	assert_int_equal(cu_store_commit(ctx->store), CU_OK);
}

static void test_provision_records(void **state)
{
	struct fx *f = *state;
	cu_ctx *ctx = f->ctx;
	const char *fields[] = {"name"};
	cu_third_party_input in = {"acme-printing",
	                           "Acme Printing Co.",
	                           "privacy@acme.example",
	                           "Printing certificates.",
	                           fields,
	                           1};
	cu_retention_report rep;
	struct items plan;
	cu_errors errs;
	uint64_t n = 0;
	json_t *p;

	cu_errors_init(&errs);
	assert_int_equal(cu_third_party_register(ctx, &officer, &in, NULL, &errs), CU_OK);
	/* Written straight to the store: the wall clock cannot be turned back. */
	insert_provision(ctx, "four-years-ago", f->a, f->t0 - 4 * 366 * CU_DAY_US);
	insert_provision(ctx, "two-years-ago", f->a, f->t0 - 2 * 366 * CU_DAY_US);

	/* Without the setting, records are kept: no item at all. */
	plan_at(ctx, f->t0, &plan);
	assert_null(find(&plan, CU_RETENTION_PROVISIONS, NULL, NULL));

	p = policy_json("2027-04-01.1");
	json_object_set_new(
	    p, "retention",
	    json_pack("{s:i}", "provision_records_days", CU_RETENTION_PROVISION_MIN_DAYS));
	publish(ctx, p);
	plan_at(ctx, f->t0, &plan);
	{
		const cu_retention_item *it = find(&plan, CU_RETENTION_PROVISIONS, NULL, NULL);

		assert_non_null(it);
		assert_int_equal(it->count, 1);
		assert_true(it->due_us <= plan.now);
	}
	/* A year ahead by the test's clock: the two-year-old one is still within the floor. */
	run_as_planned(ctx, f->t0 + 366 * CU_DAY_US, &rep);
	assert_int_equal(rep.provisions, 1);
	assert_int_equal(cu_store_provision_census(ctx->store, f->t0, &n, NULL), CU_OK);
	assert_int_equal(n, 1);
	/* What is left goes at its own time, listed as later. */
	plan_at(ctx, f->t0, &plan);
	{
		const cu_retention_item *it = find(&plan, CU_RETENTION_PROVISIONS, NULL, NULL);

		assert_non_null(it);
		assert_true(it->due_us > plan.now);
		assert_true(it->due_us >= f->t0 - 2 * 366 * CU_DAY_US +
		                              CU_RETENTION_PROVISION_MIN_DAYS * CU_DAY_US);
	}
}

static void expect_refused(const char *retention, const char *words)
{
	char err[ERR_BYTES] = "", *doc;
	json_error_t e;
	json_t *p = policy_json("2027-05-01.1"), *r = json_loads(retention, 0, &e);
	cu_policy *out = NULL;

	assert_non_null(r);
	json_object_set_new(p, "retention", r);
	doc = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	assert_int_equal(cu_policy_load_buffer("p.json", doc, strlen(doc), &out, err, sizeof(err)),
	                 CU_ERR_POLICY_INVALID);
	assert_null(out);
	free(doc);
	if (!strstr(err, words))
		fail_msg("'%s' not in: %s", words, err);
	assert_null(strchr(err, '\n'));
}

static void test_policy_validation(void **state)
{
	char *doc;
	json_t *p;
	cu_policy *out = NULL;
	char err[ERR_BYTES];

	(void)state;
	expect_refused("{\"provision_records_days\": 1095}", "less than three years");
	expect_refused("{\"provision_records_days\": 0}", "less than three years");
	expect_refused("{\"dropped_field_grace_days\": -1}", "out of range");
	expect_refused("{\"dropped_field_grace_days\": \"30\"}", "expected an integer");
	expect_refused("{\"grace\": 3}", "unknown key 'grace'");
	expect_refused("{\"purposes\": {\"nope\": {\"after_last_activity_days\": 1}}}",
	               "unknown purpose 'nope'");
	expect_refused("{\"purposes\": {\"research\": {\"after_withdrawal_days\": 1}}}",
	               "only for a consent_required purpose");
	expect_refused("{\"purposes\": {\"research\": {}}}", "retention.purposes.research");
	expect_refused("{\"fields\": {\"email\": {\"after_last_activity_days\": 1}}}",
	               "kept while the membership lasts");
	expect_refused("{\"fields\": {\"income\": {\"days\": 1}}}", "unknown key 'days'");
	expect_refused("{\"inactive_accounts\": {\"notice_after_days\": 10}}",
	               "missing required key 'erase_after_notice_days'");
	expect_refused("{\"inactive_accounts\": {\"notice_after_days\": 0, "
	               "\"erase_after_notice_days\": 1}}",
	               "notice_after_days");

	/* A good one loads, and says what it said. */
	p = policy_json("2027-05-01.2");
	json_object_set_new(p, "retention",
	                    json_pack("{s:i,s:i,s:{s:i,s:i},s:{s:{s:i},s:{s:i}},s:{s:{s:i}}}",
	                              "dropped_field_grace_days", 7, "provision_records_days", 1200,
	                              "inactive_accounts", "notice_after_days", 730,
	                              "erase_after_notice_days", 30, "purposes", "research",
	                              "after_last_activity_days", 365, "testimonials",
	                              "after_withdrawal_days", 0, "fields", "income",
	                              "after_last_activity_days", 400));
	doc = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	assert_int_equal(cu_policy_load_buffer("p.json", doc, strlen(doc), &out, err, sizeof(err)),
	                 CU_OK);
	free(doc);
	assert_int_equal(out->retention.dropped_field_grace_days, 7);
	assert_int_equal(out->retention.provision_records_days, 1200);
	assert_int_equal(out->retention.inactive_notice_days, 730);
	assert_int_equal(out->retention.inactive_erase_days, 30);
	assert_int_equal(cu_policy_purpose_find(out, "research")->retention_days, 365);
	assert_int_equal(cu_policy_purpose_find(out, "testimonials")->withdrawal_days, 0);
	assert_int_equal(cu_policy_purpose_find(out, "support")->retention_days, CU_RETENTION_NONE);
	assert_int_equal(cu_policy_field_find(out, "income")->retention_days, 400);
	/* The record of processing shows the same periods (domain/records.h). */
	{
		json_t *r = cu_records_retention(out, "purpose", "research");

		assert_string_equal(json_string_value(r),
		                    "365 days after the member's last activity");
		json_decref(r);
		r = cu_records_retention(out, "purpose", "testimonials");
		assert_string_equal(json_string_value(r), "0 days after consent is withdrawn");
		json_decref(r);
		r = cu_records_retention(out, "field", "income");
		assert_string_equal(json_string_value(r),
		                    "400 days after the member's last activity");
		json_decref(r);
		r = cu_records_retention(out, "purpose", "support");
		assert_string_equal(json_string_value(r), CU_RECORDS_NOT_SET);
		json_decref(r);
	}
	cu_policy_free(out);
	/* Without the section: the default grace, nothing else. */
	assert_int_equal(cu_policy_load_buffer("d.json", cu_default_policy_json,
	                                       cu_default_policy_json_len, &out, err, sizeof(err)),
	                 CU_OK);
	assert_int_equal(out->retention.dropped_field_grace_days, CU_RETENTION_GRACE_DEFAULT);
	assert_int_equal(out->retention.provision_records_days, CU_RETENTION_NONE);
	assert_int_equal(out->retention.inactive_notice_days, CU_RETENTION_NONE);
	cu_policy_free(out);
}

static void test_only_the_operator(void **state)
{
	struct fx *f = *state;
	cu_retention_report rep;

	assert_int_equal(cu_retention_run(f->ctx, &officer, f->t0, NULL, NULL, NULL, &rep),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_retention_run(f->ctx, &service, f->t0, NULL, NULL, NULL, &rep),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_retention_run(f->ctx, NULL, f->t0, NULL, NULL, NULL, &rep),
	                 CU_ERR_FORBIDDEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dropped_field_after_grace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_field_when_every_purpose_ended, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consent_withdrawn, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_inactive_accounts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_provision_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_policy_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_only_the_operator, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
