/*
 * test_statistics.c — released statistics (domain/statistics.h): the policy's
 * statistics section, age bands, the cell-key perturbation table, the door
 * for aggregates (one audit entry, the fields of the purpose), and the
 * ADVERSARIAL tests of docs/statistics.md:
 *   (i)   differencing two releases, with and without a target member, over
 *         200 targets: with the defaults (DP noise, one release per question
 *         per period) the second ask gets the first release back, so the
 *         attacker learns nothing (the no-information baseline); asking
 *         `fresh` releases (each spending ε) the attacker's success stays
 *         within expected + 4σ of what a simulation of the Laplace mechanism
 *         gives (about 0.27 against a 0.25 baseline); the dummy-registration
 *         averaging attack gets no new draw at all; the cell-key method
 *         alone (allow_unnoised) keeps its measured residual; against the
 *         raw counts the attack is right every time;
 *   (ii)  a `where` that isolates fewer than k members is refused;
 *   (iii) the total minus the published cells never gives back a suppressed
 *         cell (complementary suppression), where primary suppression
 *         alone gives it exactly;
 *   (iv)  a release past the ε budget is refused and spends nothing.
 * (v) — a refused-statistics visitor stores no beacon row, yesterday's
 * visitor hashes cannot be linked to today's — is covered by test_beacon.c
 * and tests/api/test_beacon.py.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/erasure.h"
#include "domain/members.h"
#include "domain/statistics.h"
#include "store/sqlite/sqlite.h"
#include "support.h"

#define MEMBERS  420
#define TARGETS  200
#define SIMULATE 20000 /* trials of the simulated attack that gives its expected success */
#define NOCC     4
#define VALUE_SZ 64

static const char *const occupations[NOCC] = {"teacher", "engineer", "nurse", "farmer"};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char (*ids)[CU_ID_LEN + 1];
	int *occ; /* each member's occupation index */
	size_t n;
	bool fresh; /* release() asks a fresh release */
};

static const cu_actor analyst = {"stats-test analyst", CU_ROLE_ANALYST, NULL, NULL};
static const cu_actor staff = {"stats-test staff", CU_ROLE_STAFF, NULL, NULL};

static void add_members(struct fx *f, size_t n)
{
	const cu_actor service = {"stats-test service", CU_ROLE_SERVICE, NULL, NULL};
	char name[VALUE_SZ], addr[VALUE_SZ], phone[VALUE_SZ], email[VALUE_SZ], age[VALUE_SZ];
	cu_errors errs;

	f->ids = calloc(n, sizeof(*f->ids));
	f->occ = calloc(n, sizeof(*f->occ));
	assert_non_null(f->ids);
	assert_non_null(f->occ);
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	for (size_t i = 0; i < n; i++) {
		cu_kv kv[7];

		f->occ[i] = (int)(randombytes_uniform(NOCC));
		snprintf(name, sizeof(name), "Stats Person %zu", i);
		snprintf(addr, sizeof(addr), "%zu Statistics Street", i);
		snprintf(phone, sizeof(phone), "+8190%08zu", i + 1000);
		snprintf(email, sizeof(email), "stats%zu@example.org", i);
		snprintf(age, sizeof(age), "%zu", 18 + i % 50);
		kv[0] = (cu_kv){"name", name};
		kv[1] = (cu_kv){"address", addr};
		kv[2] = (cu_kv){"phone", phone};
		kv[3] = (cu_kv){"email", email};
		kv[4] = (cu_kv){"age", age};
		kv[5] = (cu_kv){"occupation", occupations[f->occ[i]]};
		kv[6] = (cu_kv){"hobbies", i % 2 ? "chess, go" : "go"};
		cu_errors_init(&errs);
		assert_int_equal(
		    cu_member_register(f->ctx, &service, kv, 7, NULL, f->ids[i], &errs), CU_OK);
	}
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	f->n = n;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->ctx = cu_test_ctx_new(&f->dir);
	assert_non_null(f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f->ids);
	free(f->occ);
	free(f);
	return 0;
}

/* One release; the caller releases t. */
static cu_result release(struct fx *f, const cu_actor *who, const char *by, const char *purpose,
                         const char *where, cu_stats_mechanism noise, double eps, double delta,
                         cu_stats_plan *plan, cu_stats_table *t)
{
	cu_stats_query q = {0};
	const char *msg = NULL;

	q.actor = who;
	q.by = by;
	q.purpose = purpose;
	q.where = where;
	q.noise = noise;
	q.epsilon = eps;
	q.delta = delta;
	q.fresh = f->fresh;
	cu_stats_table_init(t);
	return cu_stats_members(f->ctx, &q, plan, t, &msg);
}

static const cu_stats_cell *cell(const cu_stats_table *t, const char *value)
{
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->cells[i].value, value))
			return &t->cells[i];
	return NULL;
}

/* The test's policy: the cell-key-only release allowed (exact-value checks), a budget. */
static void allow_unnoised(struct fx *f, double budget)
{
	f->ctx->policy->statistics.allow_unnoised = true;
	if (budget > 0)
		f->ctx->policy->statistics.epsilon_budget = budget;
}

/* ---- the pieces ---- */

static void test_age_bands(void **state)
{
	(void)state;
	assert_string_equal(cu_stats_age_band(0), "0\u201317");
	assert_string_equal(cu_stats_age_band(17), "0\u201317");
	assert_string_equal(cu_stats_age_band(18), "18\u201324");
	assert_string_equal(cu_stats_age_band(34), "25\u201334");
	assert_string_equal(cu_stats_age_band(64), "55\u201364");
	assert_string_equal(cu_stats_age_band(65), "65+");
	assert_string_equal(cu_stats_age_band(150), "65+");
	assert_null(cu_stats_age_band(-1));
}

/* The p-table: -2..+2, each a fifth of the keys, mean 0, and a function of the key alone. */
static void test_perturbation_table(void **state)
{
	long counts[5] = {0}, sum = 0;
	const long n = 500000;

	(void)state;
	for (long i = 0; i < n; i++) {
		uint32_t key = randombytes_random();
		int p = cu_stats_perturbation(key);

		assert_true(p >= -2 && p <= 2);
		assert_int_equal(p, cu_stats_perturbation(key));
		counts[p + 2]++;
		sum += p;
	}
	for (int i = 0; i < 5; i++)
		assert_true(labs(counts[i] - n / 5) < n / 100);
	assert_true(fabs((double)sum / (double)n) < 0.02);
	assert_int_equal(cu_stats_perturbation(0), -2);
	assert_int_equal(cu_stats_perturbation(UINT32_MAX), 2);
}

static void test_record_key_needs_the_secret(void **state)
{
	unsigned char a[CU_STATS_SECRET_BYTES] = {1}, b[CU_STATS_SECRET_BYTES] = {2};
	uint32_t ka, ka2, kb;

	(void)state;
	cu_stats_record_key(a, "member-one", &ka);
	cu_stats_record_key(a, "member-one", &ka2);
	cu_stats_record_key(b, "member-one", &kb);
	assert_int_equal(ka, ka2);
	assert_int_not_equal(ka, kb);
}

static void test_policy_section(void **state)
{
	static const char head[] =
	    "{\"version\":\"1\",\"title\":\"t\",\"text\":\"t\","
	    "\"fields\":[{\"name\":\"email\",\"label\":\"E\",\"kind\":\"email\",\"max_length\":50}],"
	    "\"purposes\":[{\"id\":\"support\",\"number\":1,\"text\":\"s\",\"roles\":[\"staff\"],"
	    "\"fields\":[\"email\"]}],\"services\":[],\"exceptions\":[],\"cookies\":[]";
	static const struct {
		const char *section;
		const char *error; /* NULL: loads */
		int k;
		double budget;
	} cases[] = {
	    {"", NULL, CU_STATS_K_DEFAULT, CU_STATS_EPSILON_BUDGET_DEFAULT},
	    {",\"statistics\":{}", NULL, 10, 5.0},
	    {",\"statistics\":{\"default_noise\":\"gaussian\",\"default_epsilon\":0.5,"
	     "\"default_delta\":1e-7,\"allow_unnoised\":true}",
	     NULL, 10, 5.0},
	    {",\"statistics\":{\"default_noise\":\"none\"}",
	     "statistics.default_noise: unknown noise 'none'", 0, 0},
	    {",\"statistics\":{\"default_epsilon\":0}",
	     "statistics.default_epsilon: 0 is out of range", 0, 0},
	    {",\"statistics\":{\"default_noise\":\"gaussian\",\"default_epsilon\":2}",
	     "statistics.default_epsilon: 2 is out of range: more than 0, at most 1", 0, 0},
	    {",\"statistics\":{\"default_delta\":1e-6}",
	     "statistics.default_delta: only gaussian noise takes a delta", 0, 0},
	    {",\"statistics\":{\"epsilon_budget\":0.1}",
	     "statistics.default_epsilon: 0.25 is more than the epsilon_budget 0.1", 0, 0},
	    {",\"statistics\":{\"allow_unnoised\":\"yes\"}",
	     "statistics.allow_unnoised: expected true or false", 0, 0},
	    {",\"statistics\":{\"k\":5,\"epsilon_budget\":0.5,\"budget_period\":\"month\"}", NULL,
	     5, 0.5},
	    {",\"statistics\":{\"k\":1}", "statistics.k: 1 is out of range", 0, 0},
	    {",\"statistics\":{\"k\":\"10\"}", "statistics.k: expected an integer", 0, 0},
	    {",\"statistics\":{\"epsilon_budget\":0}",
	     "statistics.epsilon_budget: 0 is out of range", 0, 0},
	    {",\"statistics\":{\"epsilon_budget\":-1}", "statistics.epsilon_budget", 0, 0},
	    {",\"statistics\":{\"budget_period\":\"week\"}", "unknown period 'week'", 0, 0},
	    {",\"statistics\":{\"kk\":3}", "statistics: unknown key 'kk'", 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char doc[1024], err[256];
		cu_policy *p = NULL;
		cu_result rc;

		snprintf(doc, sizeof(doc), "%s%s}", head, cases[i].section);
		rc = cu_policy_load_buffer("p.json", doc, strlen(doc), &p, err, sizeof(err));
		if (!cases[i].error) {
			if (rc)
				fail_msg("case %zu: %s", i, err);
			assert_int_equal(p->statistics.k, cases[i].k);
			if (i == 0) {
				/* The defaults: Laplace at 0.25, no release without noise. */
				assert_false(p->statistics.default_gaussian);
				assert_true(p->statistics.default_epsilon == 0.25);
				assert_false(p->statistics.allow_unnoised);
			}
			if (i == 2) {
				assert_true(p->statistics.default_gaussian);
				assert_true(p->statistics.default_delta == 1e-7);
				assert_true(p->statistics.allow_unnoised);
			}
			assert_true(p->statistics.epsilon_budget == cases[i].budget);
			cu_policy_free(p);
		} else {
			assert_int_equal(rc, CU_ERR_POLICY_INVALID);
			if (!strstr(err, cases[i].error))
				fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].error);
			assert_null(strchr(err, '\n'));
		}
	}
}

/* ---- the door: roles, purposes, fields, one entry per release ---- */

static void test_door_and_one_entry(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	unsigned long long before;

	add_members(f, 30);
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(release(f, &analyst, "occupation", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	cu_stats_table_release(&t);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
	assert_int_equal(plan.members, 30);
	assert_non_null(strstr(plan.au.reason, "members by occupation"));
	assert_non_null(strstr(plan.au.reason, "30 members read"));
	assert_string_equal(plan.au.entry.action, "statistic");
	assert_string_equal(plan.au.entry.member, "");
	/* staff: materials only; income: analysis only; an identifier-granting purpose: none. */
	assert_int_equal(release(f, &staff, "occupation", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(release(f, &staff, "occupation", "materials", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	cu_stats_table_release(&t);
	assert_int_equal(release(f, &analyst, "income", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(
	    release(f, &cu_test_operator, "consent", "support", NULL, 0, 0, 0, &plan, &t),
	    CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(release(f, &cu_test_operator, "consent", "nope", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_PURPOSE_UNKNOWN);
	/* Each refusal one entry too, and none of them opened anything. */
	assert_int_equal(cu_test_audit_count(f->ctx), before + 6);
	/* Not a statistic at all: refused before the door, nothing written. */
	assert_int_equal(release(f, &analyst, "email", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_test_audit_count(f->ctx), before + 6);
}

/* A denied plan opens nothing, whoever calls compute. */
static void test_denied_plan_opens_nothing(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	const char *msg;
	cu_stats_query q = {&staff, "occupation", "research", NULL, 0, 0, 0, NULL, false};

	add_members(f, 12);
	assert_int_equal(cu_stats_members_plan(f->ctx->policy, f->ctx->store, &q, &plan, &msg),
	                 CU_OK);
	assert_int_equal(plan.decision, CU_ERR_PURPOSE_NOT_ALLOWED);
	cu_stats_table_init(&t);
	assert_int_equal(cu_stats_members_compute(&plan, f->ctx->vault, f->ctx->store, &t),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	assert_int_equal(t.n, 0);
}

/* Who counts: the door's rule 7, member by member. */
static void test_who_counts(void **state)
{
	struct fx *f = *state;
	const cu_policy *p = f->ctx->policy;
	cu_aggregate_scope sc;
	cu_stats_member m = {0};
	const int hobbies = cu_policy_field_index(p, "hobbies");

	memset(&sc, 0, sizeof(sc));
	sc.policy = p;
	sc.purpose = cu_policy_purpose_find(p, "research");
	sc.fields = (cu_fieldset)1 << hobbies;
	sc.allows_now = true;
	sc.nversions = 2;
	snprintf(sc.v[0].version, sizeof(sc.v[0].version), "older");
	sc.v[0].published_us = 100;
	sc.v[0].allows = false; /* its research did not read hobbies */
	snprintf(sc.v[1].version, sizeof(sc.v[1].version), "%s", p->version);
	sc.v[1].published_us = 200;
	sc.v[1].allows = true;
	m.id = "member";
	m.consents = "";
	m.created_us = 150; /* registered under the older version, accepted none since */
	assert_false(cu_access_aggregate_counts(&sc, &m));
	m.created_us = 250;
	assert_true(cu_access_aggregate_counts(&sc, &m));
	m.accepted = "older";
	assert_false(cu_access_aggregate_counts(&sc, &m));
	m.consents = "testimonials=1,research=1"; /* consented to the purpose since */
	assert_true(cu_access_aggregate_counts(&sc, &m));
	m.consents = "research=0";
	assert_false(cu_access_aggregate_counts(&sc, &m));
	m.accepted = NULL;
	m.created_us = 50; /* before any version: held to the earliest */
	m.consents = "";
	assert_false(cu_access_aggregate_counts(&sc, &m));
	/* A consent-only purpose counts only who consented. */
	sc.purpose = cu_policy_purpose_find(p, "testimonials");
	m.created_us = 250;
	assert_false(cu_access_aggregate_counts(&sc, &m));
	m.consents = "testimonials=1";
	assert_true(cu_access_aggregate_counts(&sc, &m));
}

/* ---- disclosure control ---- */

/* The cell-key method (allow_unnoised): the same members, the same noise, even fresh. */
static void test_small_cells_and_repeats(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table a, b;

	add_members(f, 60);
	allow_unnoised(f, 0);
	f->fresh = true;
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_NONE, 0,
	                         0, &plan, &a),
	                 CU_OK);
	assert_false(plan.reused);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_NONE, 0,
	                         0, &plan, &b),
	                 CU_OK);
	assert_false(plan.reused);
	assert_int_equal(a.n, b.n);
	assert_int_equal(a.members, b.members);
	for (size_t i = 0; i < a.n; i++) {
		const cu_stats_cell *c = &a.cells[i];

		/* The same members, the same noise: repeating averages nothing out. */
		assert_int_equal(c->count, b.cells[i].count);
		if (c->suppressed) {
			assert_int_equal(c->count, -1);
		} else if (c->true_count == 0) {
			assert_int_equal(c->count, 0);
		} else {
			assert_true(c->count >= 10);
			assert_true(llabs(c->count - (int64_t)c->true_count) <= 2 ||
			            c->count == 10);
		}
		if (c->true_count > 0 && c->true_count < 10)
			assert_true(c->suppressed);
	}
	cu_stats_table_release(&a);
	cu_stats_table_release(&b);
}

/* Without allow_unnoised a release without noise is refused, before the door: nothing written. */
static void test_noise_required(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	unsigned long long before;

	add_members(f, 20);
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_NONE, 0,
	                         0, &plan, &t),
	                 CU_ERR_NOISE_REQUIRED);
	assert_int_equal(t.n, 0);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	/* Named no noise: the policy's, Laplace at 0.25, spent from the budget of 5. */
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	assert_int_equal(plan.noise, CU_STATS_NOISE_LAPLACE);
	assert_true(plan.epsilon == 0.25 && fabs(plan.spent - 0.25) < 1e-9 && plan.limit == 5.0);
	assert_false(plan.reused);
	/* The kept release holds the released figures, as answered, and no true count. */
	{
		cu_stats_release_row row;
		char *text = NULL;
		bool found = false;
		json_t *kept, *cells;

		assert_int_equal(cu_store_stats_release_find(f->ctx->store, NULL, NULL, NULL,
		                                             plan.release, &row, &text, &found),
		                 CU_OK);
		assert_true(found);
		assert_string_equal(row.key, plan.key);
		assert_string_equal(row.period, plan.period);
		kept = json_loads(text, 0, NULL);
		free(text);
		assert_non_null(kept);
		cells = json_object_get(kept, "cells");
		assert_int_equal(json_array_size(cells), t.n);
		for (size_t i = 0; i < t.n; i++) {
			json_t *c = json_array_get(cells, i), *count = json_object_get(c, "count");

			assert_string_equal(json_string_value(json_object_get(c, "value")),
			                    t.cells[i].value);
			assert_true(t.cells[i].suppressed
			                ? json_is_null(count)
			                : json_integer_value(count) == t.cells[i].count);
			assert_int_equal(json_object_size(c), t.cells[i].suppressed ? 4 : 3);
		}
		json_decref(kept);
	}
	cu_stats_table_release(&t);
	/* The same question again: the kept release, nothing spent, nothing opened. */
	{
		uint64_t opened = cu_stats_members_opened();
		char first[CU_ID_LEN + 1];

		snprintf(first, sizeof(first), "%s", plan.release);
		before = cu_test_audit_count(f->ctx);
		assert_int_equal(
		    release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t), CU_OK);
		assert_true(plan.reused);
		assert_string_equal(plan.release, first);
		assert_true(fabs(plan.spent - 0.25) < 1e-9);
		assert_int_equal(cu_stats_members_opened(), opened);
		assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
		assert_non_null(strstr(plan.au.reason, "reuses release"));
		assert_non_null(strstr(plan.au.reason, first));
		cu_stats_table_release(&t);
	}
}

/* (ii): a where isolating fewer than k members releases nothing; k members release. */
static void test_narrow_where_refused(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	cu_errors errs;
	char id[CU_ID_LEN + 1];
	const cu_actor service = {"stats-test service", CU_ROLE_SERVICE, NULL, NULL};
	char email[VALUE_SZ], phone[VALUE_SZ];

	add_members(f, 40);
	allow_unnoised(f, 0); /* exact checks of k: the cell-key release, fresh each time */
	f->fresh = true;
	/* 9 astronauts: one short of k. */
	for (int i = 0; i < 10; i++) {
		cu_kv kv[] = {
		    {"name", "Rare Person"}, {"address", "1 Rare Street"}, {"phone", phone},
		    {"email", email},        {"occupation", "astronaut"},  {"age", "40"}};

		snprintf(email, sizeof(email), "rare%d@example.org", i);
		snprintf(phone, sizeof(phone), "+8180%08d", i + 7000);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(f->ctx, &service, kv, 6, NULL, id, &errs),
		                 CU_OK);
		if (i < 8)
			continue;
		assert_int_equal(release(f, &analyst, "age_band", "research",
		                         "occupation:astronaut", CU_STATS_NOISE_NONE, 0, 0, &plan,
		                         &t),
		                 i == 8 ? CU_ERR_TOO_FEW_MEMBERS : CU_OK);
		if (i == 9) {
			assert_int_equal(t.true_members, 10);
			assert_true(t.members >= 10);
		}
		cu_stats_table_release(&t);
	}
	/* Nobody (no member is under 18 here): refused too, not a table of zeros. */
	assert_int_equal(release(f, &analyst, "occupation", "research", "age_band:0-17",
	                         CU_STATS_NOISE_NONE, 0, 0, &plan, &t),
	                 CU_ERR_TOO_FEW_MEMBERS);
	/* Under the default noise too (its ε was spent: the refusal comes after the count). */
	assert_int_equal(
	    release(f, &analyst, "occupation", "research", "age_band:0-17", 0, 0, 0, &plan, &t),
	    CU_ERR_TOO_FEW_MEMBERS);
	/* At k members their answer is a cell of its own in a table of everyone. */
	assert_int_equal(release(f, &analyst, "occupation", "research", NULL, CU_STATS_NOISE_NONE,
	                         0, 0, &plan, &t),
	                 CU_OK);
	assert_non_null(cell(&t, "astronaut"));
	cu_stats_table_release(&t);
}

/* (iii): the attacker's sum: total - published cells = the suppressed ones' sum. */
static int64_t recovered(const cu_stats_table *t, bool *exact)
{
	int64_t sum = 0;
	size_t suppressed = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (t->cells[i].suppressed)
			suppressed++;
		else
			sum += t->cells[i].count;
	}
	*exact = suppressed == 1 && t->members >= 0;
	return t->members - sum;
}

static void fill(cu_stats_table *t, const uint64_t *counts, size_t n)
{
	cu_stats_table_init(t);
	t->cells = calloc(n, sizeof(*t->cells));
	assert_non_null(t->cells);
	t->cap = t->n = n;
	for (size_t i = 0; i < n; i++) {
		snprintf(t->cells[i].value, sizeof(t->cells[i].value), "v%zu", i);
		t->cells[i].true_count = counts[i];
		t->cells[i].key = randombytes_random();
		t->cells[i].fixed = true;
		t->true_members += counts[i];
	}
	t->members_key = randombytes_random();
}

static void test_sum_attack_fails(void **state)
{
	int exact_raw = 0, exact_protected = 0;

	(void)state;
	for (int trial = 0; trial < 2000; trial++) {
		uint64_t counts[6];
		size_t small = randombytes_uniform(6);
		cu_stats_table t;
		int64_t raw_sum = 0, total = 0;
		bool exact;

		for (size_t i = 0; i < 6; i++) {
			counts[i] =
			    i == small ? 1 + randombytes_uniform(9) : 10 + randombytes_uniform(40);
			total += (int64_t)counts[i];
		}
		/* Primary suppression alone, on raw counts: the one hidden cell comes back. */
		for (size_t i = 0; i < 6; i++)
			if (i != small)
				raw_sum += (int64_t)counts[i];
		exact_raw += total - raw_sum == (int64_t)counts[small];
		fill(&t, counts, 6);
		cu_stats_protect(&t, 10, CU_STATS_NOISE_NONE, 0, 0, 0, 0);
		assert_true(t.cells[small].suppressed);
		(void)recovered(&t, &exact);
		/* Never exactly one hidden cell beside a published total. */
		assert_false(exact);
		exact_protected += exact;
		{
			size_t hidden = 0;

			for (size_t i = 0; i < t.n; i++)
				hidden += t.cells[i].suppressed;
			assert_true(hidden >= 2 || t.members < 0);
		}
		cu_stats_table_release(&t);
	}
	assert_int_equal(exact_raw, 2000);
	assert_int_equal(exact_protected, 0);
}

/* A lone small cell among zeros: nothing to hide it among, so the total goes. */
static void test_lone_small_cell_hides_the_total(void **state)
{
	const uint64_t counts[] = {0, 0, 3, 0};
	cu_stats_table t;

	(void)state;
	fill(&t, counts, 4);
	cu_stats_protect(&t, 10, CU_STATS_NOISE_NONE, 0, 0, 0, 0);
	assert_int_equal(t.members, -1);
	cu_stats_table_release(&t);
}

/* (i): differencing releases with and without a target, 200 targets. */
static int guess(const cu_stats_table *with, const cu_stats_table *without)
{
	int best = -1;
	int64_t drop = INT64_MIN;

	for (int o = 0; o < NOCC; o++) {
		const cu_stats_cell *a = cell(with, occupations[o]),
		                    *b = cell(without, occupations[o]);
		int64_t d;

		if (!a || !b || a->suppressed || b->suppressed)
			continue;
		d = a->count - b->count;
		if (d > drop) {
			drop = d;
			best = o;
		}
	}
	return best;
}

/*
 * The attack simulated on the mechanism itself: four cells of about
 * `around` members, the target (in a random cell) leaves, both tables are
 * protected (cu_stats_protect: the same code as a release, with the cell
 * keys a release gives them), the guess is the cell that dropped most.
 * The expected success of the attack.
 */
static double simulated_success(cu_stats_mechanism noise, double eps, double l1, uint64_t around)
{
	long right = 0;

	for (long trial = 0; trial < SIMULATE; trial++) {
		uint64_t before[NOCC], after[NOCC];
		int target = (int)randombytes_uniform(NOCC);
		uint32_t population = randombytes_random(), leaver = randombytes_random();
		cu_stats_table a, b;

		for (int o = 0; o < NOCC; o++) {
			before[o] = around + randombytes_uniform(20);
			after[o] = before[o] - (o == target);
		}
		fill(&a, before, NOCC);
		fill(&b, after, NOCC);
		for (int o = 0; o < NOCC; o++) {
			snprintf(a.cells[o].value, sizeof(a.cells[o].value), "%s", occupations[o]);
			snprintf(b.cells[o].value, sizeof(b.cells[o].value), "%s", occupations[o]);
			/*
			 * The cell keys as a release makes them: the cell's members' record
			 * keys and the population key; the leaver's key leaves the population
			 * key of every cell, and their own cell's sum too.
			 */
			a.cells[o].key = a.cells[o].key + population;
			b.cells[o].key = a.cells[o].key - leaver - (o == target ? leaver : 0);
		}
		cu_stats_protect(&a, 10, noise, eps, 0, l1, sqrt(l1));
		cu_stats_protect(&b, 10, noise, eps, 0, l1, sqrt(l1));
		right += guess(&a, &b) == target;
		cu_stats_table_release(&a);
		cu_stats_table_release(&b);
	}
	return (double)right / SIMULATE;
}

/* The commonest answer among the targets: what an attacker with no information gets right. */
static double baseline(const struct fx *f)
{
	int freq[NOCC] = {0}, mode = 0;

	for (int t = 0; t < TARGETS; t++)
		freq[f->occ[t]]++;
	for (int o = 1; o < NOCC; o++)
		if (freq[o] > freq[mode])
			mode = o;
	return (double)freq[mode] / TARGETS;
}

/*
 * Differencing over TARGETS targets, each leaving in turn: the attacker
 * holds the release from before and the one after.  Answers how often the
 * guess was right; *raw how often it was on the raw counts (with raw).
 */
static int difference(struct fx *f, cu_stats_mechanism noise, bool raw, int *right_raw, int *reused)
{
	cu_stats_plan plan;
	cu_stats_table prev, prev_raw, cur, cur_raw;
	int right = 0;

	*right_raw = 0;
	*reused = 0;
	assert_int_equal(
	    release(f, &analyst, "occupation", "research", NULL, noise, 0, 0, &plan, &prev), CU_OK);
	cu_stats_table_init(&prev_raw);
	if (raw)
		assert_int_equal(
		    cu_stats_members_raw(&plan, f->ctx->vault, f->ctx->store, true, &prev_raw),
		    CU_OK);
	for (int t = 0; t < TARGETS; t++) {
		/* The target leaves; the attacker holds the table from before and the one after. */
		assert_int_equal(cu_erasure_carry_out(f->ctx, &cu_test_operator, f->ids[t], NULL,
		                                      cu_now_us(), NULL),
		                 CU_OK);
		assert_int_equal(
		    release(f, &analyst, "occupation", "research", NULL, noise, 0, 0, &plan, &cur),
		    CU_OK);
		*reused += plan.reused;
		cu_stats_table_init(&cur_raw);
		if (raw) {
			assert_int_equal(cu_stats_members_raw(&plan, f->ctx->vault, f->ctx->store,
			                                      true, &cur_raw),
			                 CU_OK);
			*right_raw += guess(&prev_raw, &cur_raw) == f->occ[t];
		}
		right += guess(&prev, &cur) == f->occ[t];
		cu_stats_table_release(&prev);
		cu_stats_table_release(&prev_raw);
		prev = cur;
		prev_raw = cur_raw;
	}
	cu_stats_table_release(&prev);
	cu_stats_table_release(&prev_raw);
	return right;
}

/*
 * (i) with the defaults: DP noise and one release per question per period.
 * After each departure the same question gets the same (kept) release: no
 * difference at all, so the attacker's guess is worth the baseline's.
 */
static void test_differencing_with_defaults_fails(void **state)
{
	struct fx *f = *state;
	int right, right_raw, reused;
	uint64_t opened;
	json_t *j = NULL;
	double chance;

	add_members(f, MEMBERS);
	opened = cu_stats_members_opened();
	right = difference(f, CU_STATS_NOISE_DEFAULT, false, &right_raw, &reused);
	chance = baseline(f);
	print_message("differencing (defaults): right %d/%d, every release after the first "
	              "reused (%d/%d); baseline %.3f\n",
	              right, TARGETS, reused, TARGETS, chance);
	assert_int_equal(reused, TARGETS);
	/* One scan (the first release), one ledger row of 0.25. */
	assert_int_equal(cu_stats_members_opened() - opened, MEMBERS);
	assert_int_equal(cu_stats_budget_json(f->ctx->policy, f->ctx->store, cu_now_us(), &j),
	                 CU_OK);
	assert_int_equal(json_array_size(json_object_get(j, "ledger")), 1);
	json_decref(j);
	/* Nothing changed between the tables: the guess is one fixed answer, worth the baseline. */
	assert_true((double)right / TARGETS <= chance);
}

/*
 * (i) with `fresh` on every release (each spending ε; the budget raised):
 * the attacker's success is what the Laplace mechanism lets through,
 * within expected + 4σ of TARGETS trials of the simulation.
 */
static void test_differencing_fresh_dp_bounded(void **state)
{
	struct fx *f = *state;
	const double eps = CU_STATS_DEFAULT_EPSILON;
	int right, right_raw, reused;
	double expected, sigma, chance;

	add_members(f, MEMBERS);
	f->ctx->policy->statistics.epsilon_budget = CU_STATS_EPSILON_BUDGET_MAX;
	f->fresh = true;
	right = difference(f, CU_STATS_NOISE_DEFAULT, false, &right_raw, &reused);
	assert_int_equal(reused, 0);
	chance = baseline(f);
	/* by=occupation: Δ₁ = 2 (a cell and the total), b = 2/ε = 8. */
	expected = simulated_success(CU_STATS_NOISE_LAPLACE, eps, 2.0, MEMBERS / NOCC / 2);
	sigma = sqrt(expected * (1 - expected) / TARGETS);
	print_message("differencing (fresh, laplace eps %.2f, b %.0f): right %d/%d = %.3f; "
	              "baseline %.3f; simulated expected %.3f, bound expected + 4 sigma = %.3f\n",
	              eps, 2.0 / eps, right, TARGETS, (double)right / TARGETS, chance, expected,
	              expected + 4 * sigma);
	/* The mechanism itself leaks little: far below the cell-key method's 0.40-0.48. */
	assert_true(expected < 0.30);
	assert_true((double)right / TARGETS <= expected + 4 * sigma);
}

/*
 * The averaging attack: register dummy members (public sign-up) to change
 * the population again and again, asking the same question after each, to
 * get fresh draws of the noise and average them away.  Without `fresh`
 * every ask gets the same kept release: no new draw, nothing to average.
 */
static void test_dummy_registration_averaging_fails(void **state)
{
	struct fx *f = *state;
	const cu_actor service = {"stats-test service", CU_ROLE_SERVICE, NULL, NULL};
	cu_stats_plan plan;
	cu_stats_table first, t;
	char release0[CU_ID_LEN + 1], email[VALUE_SZ], phone[VALUE_SZ], id[CU_ID_LEN + 1];
	uint64_t opened;
	json_t *j = NULL;
	cu_errors errs;

	add_members(f, 60);
	assert_int_equal(
	    release(f, &analyst, "occupation", "research", NULL, 0, 0, 0, &plan, &first), CU_OK);
	snprintf(release0, sizeof(release0), "%s", plan.release);
	opened = cu_stats_members_opened();
	for (int i = 0; i < 30; i++) {
		cu_kv kv[] = {{"name", "Dummy Person"},  {"address", "1 Dummy Street"},
		              {"phone", phone},          {"email", email},
		              {"occupation", "teacher"}, {"age", "30"}};

		snprintf(email, sizeof(email), "dummy%d@example.org", i);
		snprintf(phone, sizeof(phone), "+8170%08d", i + 3000);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(f->ctx, &service, kv, 6, NULL, id, &errs),
		                 CU_OK);
		assert_int_equal(
		    release(f, &analyst, "occupation", "research", NULL, 0, 0, 0, &plan, &t),
		    CU_OK);
		/* The same release: every count as it was, nothing to average. */
		assert_true(plan.reused);
		assert_string_equal(plan.release, release0);
		assert_int_equal(t.n, first.n);
		assert_int_equal(t.members, first.members);
		for (size_t c = 0; c < t.n; c++) {
			assert_string_equal(t.cells[c].value, first.cells[c].value);
			assert_int_equal(t.cells[c].count, first.cells[c].count);
		}
		cu_stats_table_release(&t);
	}
	/* No member opened again, one ledger row (0.25 of 5) for the 31 asks. */
	assert_int_equal(cu_stats_members_opened(), opened);
	assert_int_equal(cu_stats_budget_json(f->ctx->policy, f->ctx->store, cu_now_us(), &j),
	                 CU_OK);
	assert_int_equal(json_array_size(json_object_get(j, "ledger")), 1);
	json_decref(j);
	cu_stats_table_release(&first);
}

/*
 * The cell-key method alone (noise=none under allow_unnoised), fresh
 * releases: the documented residual.  The bound is the simulated expected
 * success of the ±2 perturbation + 4σ; against the raw counts the attack
 * is right every time.
 */
static void test_differencing_cell_key_residual(void **state)
{
	struct fx *f = *state;
	int right, right_raw, reused;
	double expected, sigma, chance;

	add_members(f, MEMBERS);
	allow_unnoised(f, 0);
	f->fresh = true;
	right = difference(f, CU_STATS_NOISE_NONE, true, &right_raw, &reused);
	chance = baseline(f);
	expected = simulated_success(CU_STATS_NOISE_NONE, 0, 0, MEMBERS / NOCC / 2);
	sigma = sqrt(expected * (1 - expected) / TARGETS);
	print_message("differencing (cell key only, fresh): right %d/%d = %.3f protected, "
	              "%d/%d raw; baseline %.3f; simulated expected %.3f, bound %.3f\n",
	              right, TARGETS, (double)right / TARGETS, right_raw, TARGETS, chance, expected,
	              expected + 4 * sigma);
	assert_int_equal(right_raw, TARGETS);
	assert_true((double)right / TARGETS <= expected + 4 * sigma);
}

/* (iv) */
static void test_budget_exhaustion_spends_nothing(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	json_t *j = NULL;
	unsigned long long before;

	add_members(f, 40);
	f->ctx->policy->statistics.epsilon_budget = 2.0;
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_LAPLACE,
	                         1.5, 0, &plan, &t),
	                 CU_OK);
	assert_true(fabs(plan.spent - 1.5) < 1e-9);
	for (size_t i = 0; i < t.n; i++)
		assert_true(t.cells[i].count == -1 || t.cells[i].count == 0 ||
		            t.cells[i].count >= 10);
	cu_stats_table_release(&t);
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_GAUSSIAN,
	                         0.6, 1e-5, &plan, &t),
	                 CU_ERR_BUDGET_EXHAUSTED);
	assert_int_equal(t.n, 0);
	/* Its denial is audited; the ledger holds one release of 1.5. */
	assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
	assert_string_equal(plan.au.entry.decision, "deny");
	assert_int_equal(cu_stats_budget_json(f->ctx->policy, f->ctx->store, cu_now_us(), &j),
	                 CU_OK);
	assert_int_equal(json_array_size(json_object_get(j, "ledger")), 1);
	assert_true(json_real_value(json_object_get(
	                json_array_get(json_object_get(j, "datasets"), 0), "spent")) == 1.5);
	json_decref(j);
	/* What is left can still be spent, to the last bit. */
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_LAPLACE,
	                         0.5, 0, &plan, &t),
	                 CU_OK);
	assert_true(fabs(plan.spent - 2.0) < 1e-9);
	cu_stats_table_release(&t);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_LAPLACE,
	                         0.01, 0, &plan, &t),
	                 CU_ERR_BUDGET_EXHAUSTED);
	/* The budget spent, a question already asked still gets its kept release, for nothing. */
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_LAPLACE,
	                         1.5, 0, &plan, &t),
	                 CU_OK);
	assert_true(plan.reused);
	assert_true(fabs(plan.spent - 2.0) < 1e-9);
	cu_stats_table_release(&t);
	/* ... but not a fresh one. */
	f->fresh = true;
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, CU_STATS_NOISE_LAPLACE,
	                         1.5, 0, &plan, &t),
	                 CU_ERR_BUDGET_EXHAUSTED);
	assert_int_equal(cu_stats_budget_json(f->ctx->policy, f->ctx->store, cu_now_us(), &j),
	                 CU_OK);
	assert_int_equal(json_array_size(json_object_get(j, "ledger")), 2);
	json_decref(j);
}

/* Runs sql on the store (a fault armed or disarmed). */
static void store_exec(struct fx *f, const char *sqlite_sql, const char *pg_sql)
{
	char err[256] = "";

	if (cu_test_store_is_pg()) {
		if (!cu_test_pg_exec(getenv("CUSTODIAN_CUSTODIAN_STORE"), pg_sql, err, sizeof(err)))
			fail_msg("%s: %s", pg_sql, err);
	} else {
		char *msg = NULL;

		if (sqlite3_exec(cu_sqlite(f->ctx->store)->db, sqlite_sql, NULL, NULL, &msg) !=
		    SQLITE_OK)
			fail_msg("%s: %s", sqlite_sql, msg ? msg : "?");
	}
}

static long long ledger_rows(struct fx *f)
{
	json_t *j = NULL;
	long long n;

	assert_int_equal(cu_stats_budget_json(f->ctx->policy, f->ctx->store, cu_now_us(), &j),
	                 CU_OK);
	n = (long long)json_array_size(json_object_get(j, "ledger"));
	json_decref(j);
	return n;
}

/*
 * Fail closed: the record step's write fails (the ledger refuses the row,
 * as a full disk would) -> an error, no release, no member opened, no
 * ledger row, no audit entry; and once the fault is gone, the next ask is
 * a fresh release.  A failing keep (step 4) answers an error too, and the
 * next ask of the question is fresh (nothing was kept).
 */
static void test_record_failure_fails_closed(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	unsigned long long audits;
	uint64_t opened;

	add_members(f, 30);
	audits = cu_test_audit_count(f->ctx);
	opened = cu_stats_members_opened();
	store_exec(f,
	           "CREATE TEMP TRIGGER fault BEFORE INSERT ON main.stats_ledger"
	           " BEGIN SELECT RAISE(ABORT, 'injected'); END",
	           "CREATE TRIGGER fault BEFORE INSERT ON stats_ledger"
	           " FOR EACH ROW EXECUTE FUNCTION cu_refuse('injected')");
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_STORE);
	store_exec(f, "DROP TRIGGER temp.fault", "DROP TRIGGER fault ON stats_ledger");
	assert_int_equal(t.n, 0);
	assert_int_equal(cu_stats_members_opened(), opened);
	assert_int_equal(cu_test_audit_count(f->ctx), audits);
	assert_int_equal(ledger_rows(f), 0);

	/* The keep fails: an error, and nothing kept... */
	store_exec(f,
	           "CREATE TEMP TRIGGER fault BEFORE INSERT ON main.stats_releases"
	           " BEGIN SELECT RAISE(ABORT, 'injected'); END",
	           "CREATE TRIGGER fault BEFORE INSERT ON stats_releases"
	           " FOR EACH ROW EXECUTE FUNCTION cu_refuse('injected')");
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_ERR_STORE);
	store_exec(f, "DROP TRIGGER temp.fault", "DROP TRIGGER fault ON stats_releases");
	assert_int_equal(t.n, 0);
	assert_int_equal(ledger_rows(f), 1);
	/* ... so the next ask is fresh (and spends again). */
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	assert_false(plan.reused);
	assert_int_equal(ledger_rows(f), 2);
	cu_stats_table_release(&t);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	assert_true(plan.reused);
	cu_stats_table_release(&t);
}

/* Kept releases are append-only, like the ledger. */
static void test_kept_releases_append_only(void **state)
{
	struct fx *f = *state;
	cu_stats_plan plan;
	cu_stats_table t;
	char err[256] = "";

	add_members(f, 20);
	assert_int_equal(release(f, &analyst, "age_band", "research", NULL, 0, 0, 0, &plan, &t),
	                 CU_OK);
	cu_stats_table_release(&t);
	if (cu_test_store_is_pg()) {
		const char *url = getenv("CUSTODIAN_CUSTODIAN_STORE");

		assert_false(cu_test_pg_exec(url, "UPDATE stats_releases SET released = '{}'", err,
		                             sizeof(err)));
		assert_non_null(strstr(err, "append-only"));
		assert_false(cu_test_pg_exec(url, "DELETE FROM stats_releases", err, sizeof(err)));
		assert_non_null(strstr(err, "append-only"));
	} else {
		sqlite3 *db = cu_sqlite(f->ctx->store)->db;

		assert_int_not_equal(
		    sqlite3_exec(db, "UPDATE stats_releases SET released = '{}'", NULL, NULL, NULL),
		    SQLITE_OK);
		assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
		assert_int_not_equal(
		    sqlite3_exec(db, "DELETE FROM stats_releases", NULL, NULL, NULL), SQLITE_OK);
	}
}

/* Laplace noise of scale Δ/ε: its mean absolute error is about the scale. */
static void test_laplace_scale(void **state)
{
	const uint64_t counts[] = {1000, 2000};
	double err = 0;
	int n = 0;

	(void)state;
	for (int trial = 0; trial < 4000; trial++) {
		cu_stats_table t;

		fill(&t, counts, 2);
		cu_stats_protect(&t, 10, CU_STATS_NOISE_LAPLACE, 1.0, 0, 2.0, sqrt(2.0));
		for (size_t i = 0; i < t.n; i++) {
			err += fabs((double)t.cells[i].count - (double)t.cells[i].true_count);
			n++;
		}
		cu_stats_table_release(&t);
	}
	err /= n;
	assert_true(err > 1.6 && err < 2.4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_age_bands),
	    cmocka_unit_test(test_perturbation_table),
	    cmocka_unit_test(test_record_key_needs_the_secret),
	    cmocka_unit_test(test_policy_section),
	    cmocka_unit_test(test_sum_attack_fails),
	    cmocka_unit_test(test_lone_small_cell_hides_the_total),
	    cmocka_unit_test(test_laplace_scale),
	    cmocka_unit_test_setup_teardown(test_door_and_one_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_who_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_denied_plan_opens_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_small_cells_and_repeats, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_narrow_where_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_budget_exhaustion_spends_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_noise_required, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_differencing_with_defaults_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_differencing_fresh_dp_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dummy_registration_averaging_fails, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_differencing_cell_key_residual, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_record_failure_fails_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kept_releases_append_only, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
