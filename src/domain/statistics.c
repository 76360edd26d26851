/*
 * src/domain/statistics.c — released statistics (statistics.h): the query,
 * the one scan, the counting, and disclosure control.
 */
#include "domain/statistics.h"

#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/date.h"

#define SECRET_CONTEXT   "stats-secret"
#define SEALED_SECRET    (CU_STATS_SECRET_BYTES + CU_VAULT_NOTE_OVERHEAD)
#define HASH_SLOTS       4096 /* open addressing over the cells: more than CU_STATS_CELLS_MAX */
#define RECORD_KEY_BYTES 16   /* crypto_generichash's shortest output; the first 4 bytes count */

_Static_assert(SEALED_SECRET <= CU_STATS_SEALED_MAX, "a sealed secret fits the store's row");
_Static_assert(HASH_SLOTS > 2 * CU_STATS_CELLS_MAX, "the cell index stays sparse");
_Static_assert(RECORD_KEY_BYTES >= crypto_generichash_BYTES_MIN, "a valid BLAKE2b output size");
_Static_assert(CU_STATS_SECRET_BYTES >= crypto_generichash_KEYBYTES_MIN &&
                   CU_STATS_SECRET_BYTES <= crypto_generichash_KEYBYTES_MAX,
               "the secret is a BLAKE2b key");

const char *const cu_stats_datasets[] = {"members", "beacons", NULL};

static _Atomic uint64_t members_opened;

uint64_t cu_stats_members_opened(void)
{
	return atomic_load(&members_opened);
}

static const struct {
	long long lo, hi; /* inclusive; hi < 0: no upper bound */
	const char *name;
} bands[] = {
    {0, 17, "0\u201317"},   {18, 24, "18\u201324"}, {25, 34, "25\u201334"}, {35, 44, "35\u201344"},
    {45, 54, "45\u201354"}, {55, 64, "55\u201364"}, {65, -1, "65+"},
};
#define NBANDS          (sizeof(bands) / sizeof(bands[0]))
#define BAND_NAME_BYTES 16 /* "18-24" and its NUL, with room */

const char *cu_stats_age_band(long long age)
{
	for (size_t i = 0; i < NBANDS; i++)
		if (age >= bands[i].lo && (bands[i].hi < 0 || age <= bands[i].hi))
			return bands[i].name;
	return NULL;
}

/* A band typed with '-' for the dash is the same band. */
static const char *band_named(const char *v)
{
	for (size_t i = 0; i < NBANDS; i++) {
		char ascii[BAND_NAME_BYTES];
		const char *dash = strstr(bands[i].name, "\u2013");

		if (!strcmp(v, bands[i].name))
			return bands[i].name;
		if (dash) {
			snprintf(ascii, sizeof(ascii), "%.*s-%s", (int)(dash - bands[i].name),
			         bands[i].name, dash + strlen("\u2013"));
			if (!strcmp(v, ascii))
				return bands[i].name;
		}
	}
	return NULL;
}

const char *cu_stats_mechanism_name(cu_stats_mechanism m)
{
	return m == CU_STATS_NOISE_LAPLACE    ? "laplace"
	       : m == CU_STATS_NOISE_GAUSSIAN ? "gaussian"
	                                      : NULL;
}

void cu_stats_period(int64_t us, char out[CU_STATS_PERIOD_LEN + 1])
{
	char day[CU_DATE_LEN + 1];

	cu_date_format(us, day);
	snprintf(out, CU_STATS_PERIOD_LEN + 1, "%.7s", day);
}

void cu_stats_record_key(const unsigned char secret[CU_STATS_SECRET_BYTES], const char *member,
                         uint32_t *key)
{
	unsigned char h[RECORD_KEY_BYTES];

	crypto_generichash(h, sizeof(h), (const unsigned char *)member, strlen(member), secret,
	                   CU_STATS_SECRET_BYTES);
	*key = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
}

int cu_stats_perturbation(uint32_t cell_key)
{
	/* The p-table: the key's place in [0, 2^32) picks one of five equal slices. */
	return (int)(((uint64_t)cell_key * (2 * CU_STATS_PERTURB_MAX + 1)) >> 32) -
	       CU_STATS_PERTURB_MAX;
}

/* ---- tables ---- */

void cu_stats_table_init(cu_stats_table *t)
{
	memset(t, 0, sizeof(*t));
}

void cu_stats_table_release(cu_stats_table *t)
{
	if (!t)
		return;
	if (t->cells)
		sodium_memzero(t->cells, t->cap * sizeof(*t->cells));
	free(t->cells);
	cu_stats_table_init(t);
}

struct index {
	int slot[HASH_SLOTS]; /* cell index + 1, 0 = empty */
};

static uint32_t fnv(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* The cell named value (made if absent; -1 when out of memory or full). */
static int cell_of(cu_stats_table *t, struct index *ix, const char *value, int group, bool fixed)
{
	uint32_t h = fnv(value) & (HASH_SLOTS - 1);
	cu_stats_cell *c;

	while (ix->slot[h]) {
		if (!strcmp(t->cells[ix->slot[h] - 1].value, value))
			return ix->slot[h] - 1;
		h = (h + 1) & (HASH_SLOTS - 1);
	}
	if (t->n >= CU_STATS_CELLS_MAX + 1)
		return -1;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		cu_stats_cell *cells = realloc(t->cells, cap * sizeof(*cells));

		if (!cells)
			return -1;
		t->cells = cells;
		t->cap = cap;
	}
	c = &t->cells[t->n];
	memset(c, 0, sizeof(*c));
	snprintf(c->value, sizeof(c->value), "%s", value);
	c->group = group;
	c->fixed = fixed;
	ix->slot[h] = (int)++t->n;
	return (int)t->n - 1;
}

/* ---- the query ---- */

/* A `by` or `where` field name into a dimension; -1 if it names none. */
static int dim_parse(const cu_policy *p, const char *name, cu_stats_dim *out)
{
	const cu_policy_field *f;

	out->field = -1;
	if (!name)
		return -1;
	if (!strcmp(name, "age_band")) {
		out->kind = CU_STATS_BY_AGE_BAND;
		out->field = cu_policy_field_index(p, "age");
		return out->field >= 0 && p->fields[out->field].kind == CU_FIELD_INTEGER ? 0 : -1;
	}
	if (!strcmp(name, "eligibility")) {
		out->kind = CU_STATS_BY_ELIGIBILITY;
		return 0;
	}
	if (!strcmp(name, "consent")) {
		out->kind = CU_STATS_BY_CONSENT;
		return 0;
	}
	f = cu_policy_field_find(p, name);
	if (!f || !f->survey || f->identifier ||
	    (f->kind != CU_FIELD_TEXT && f->kind != CU_FIELD_LIST))
		return -1;
	out->kind = CU_STATS_BY_FIELD;
	out->field = cu_policy_field_index(p, name);
	return 0;
}

/* Whether a `where` value can match anything of its dimension (public lists are checked). */
static int where_value_ok(const cu_policy *p, const cu_stats_dim *d, char *value, size_t cap)
{
	const char *colon, *band;

	if (!*value || strlen(value) > CU_STATS_VALUE_MAX)
		return -1;
	switch (d->kind) {
	case CU_STATS_BY_AGE_BAND:
		band = band_named(value);
		if (!band)
			return -1;
		snprintf(value, cap, "%s", band);
		return 0;
	case CU_STATS_BY_ELIGIBILITY:
		colon = strchr(value, ':');
		if (!colon || (strcmp(colon + 1, "eligible") && strcmp(colon + 1, "not_eligible")))
			return -1;
		for (size_t i = 0; i < p->nservices; i++)
			if (strlen(p->services[i].id) == (size_t)(colon - value) &&
			    !strncmp(p->services[i].id, value, (size_t)(colon - value)))
				return 0;
		return -1;
	case CU_STATS_BY_CONSENT:
		colon = strchr(value, ':');
		if (!colon || (strcmp(colon + 1, "consented") && strcmp(colon + 1, "refused") &&
		               strcmp(colon + 1, "no_answer")))
			return -1;
		for (size_t i = 0; i < p->npurposes; i++)
			if (strlen(p->purposes[i].id) == (size_t)(colon - value) &&
			    !strncmp(p->purposes[i].id, value, (size_t)(colon - value)))
				return 0;
		return -1;
	case CU_STATS_BY_FIELD:
		return 0;
	}
	return -1;
}

/* The fields a dimension uses under purpose pp (eligibility: the services it can judge). */
static cu_fieldset dim_fields(const cu_policy *p, const cu_policy_purpose *pp,
                              const cu_stats_dim *d, cu_fieldset *services)
{
	cu_fieldset f = 0;

	switch (d->kind) {
	case CU_STATS_BY_AGE_BAND:
	case CU_STATS_BY_FIELD:
		return (cu_fieldset)1 << d->field;
	case CU_STATS_BY_ELIGIBILITY:
		for (size_t i = 0; i < p->nservices; i++)
			if (!pp || !(p->services[i].requires & ~pp->fields))
		f |= p->services[i].requires
		;
		if (services)
			*services = f;
		return f;
	case CU_STATS_BY_CONSENT:
		return 0;
	}
	return 0;
}

cu_result cu_stats_members_plan(const cu_policy *p, cu_store *reader, const cu_stats_query *q,
                                cu_stats_plan *plan, const char **msg)
{
	const cu_policy_purpose *pp;
	cu_aggregate_request ar;
	double epsilon, delta;
	cu_result rc;

	memset(plan, 0, sizeof(*plan));
	*msg = NULL;
	plan->policy = p;
	plan->k = p->statistics.k;
	plan->limit = p->statistics.epsilon_budget;
	if (!q || !q->actor) {
		*msg = "incomplete query";
		return CU_ERR_INVALID_ARGUMENT;
	}
	if (dim_parse(p, q->by, &plan->by)) {
		*msg = "by must be age_band, eligibility, consent or a text or list survey field";
		return CU_ERR_INVALID_ARGUMENT;
	}
	snprintf(plan->by_name, sizeof(plan->by_name), "%s", q->by);
	if (!q->purpose || !*q->purpose) {
		*msg = "a statistic names its purpose";
		return CU_ERR_PURPOSE_REQUIRED;
	}
	if (strlen(q->purpose) > CU_POLICY_ID_MAX) {
		*msg = "purpose is not a purpose id";
		return CU_ERR_INVALID_ARGUMENT;
	}
	snprintf(plan->purpose, sizeof(plan->purpose), "%s", q->purpose);
	if (q->where) {
		const char *colon = strchr(q->where, ':');

		if (!colon || (size_t)(colon - q->where) > CU_POLICY_ID_MAX) {
			*msg = "where is FIELD:VALUE";
			return CU_ERR_INVALID_ARGUMENT;
		}
		snprintf(plan->where_field, sizeof(plan->where_field), "%.*s",
		         (int)(colon - q->where), q->where);
		if (strlen(colon + 1) > CU_STATS_VALUE_MAX) {
			*msg = "where's value is too long";
			return CU_ERR_INVALID_ARGUMENT;
		}
		snprintf(plan->where_value, sizeof(plan->where_value), "%s", colon + 1);
		if (dim_parse(p, plan->where_field, &plan->where) ||
		    where_value_ok(p, &plan->where, plan->where_value, sizeof(plan->where_value))) {
			*msg = "where is FIELD:VALUE, FIELD as for by, VALUE one of its answers";
			return CU_ERR_INVALID_ARGUMENT;
		}
		plan->has_where = true;
	}
	/* A query that names no mechanism gets the policy's, with its ε (and δ) unless given. */
	plan->noise = q->noise;
	plan->fresh = q->fresh;
	epsilon = q->epsilon;
	delta = q->delta;
	if (q->noise == CU_STATS_NOISE_DEFAULT) {
		plan->noise = p->statistics.default_gaussian ? CU_STATS_NOISE_GAUSSIAN
		                                             : CU_STATS_NOISE_LAPLACE;
		if (epsilon == 0)
			epsilon = p->statistics.default_epsilon;
		if (plan->noise == CU_STATS_NOISE_GAUSSIAN && delta == 0)
			delta = p->statistics.default_delta;
	}
	if (plan->noise != CU_STATS_NOISE_NONE) {
		if (!(epsilon > 0) || epsilon > CU_STATS_EPSILON_MAX) {
			*msg = "epsilon must be more than 0 and at most 10";
			return CU_ERR_INVALID_ARGUMENT;
		}
		if (plan->noise == CU_STATS_NOISE_GAUSSIAN &&
		    (!(delta > 0) || delta > CU_STATS_DELTA_MAX || epsilon > 1)) {
			*msg = "gaussian noise needs 0 < delta <= 0.001 and epsilon <= 1";
			return CU_ERR_INVALID_ARGUMENT;
		}
		if (plan->noise == CU_STATS_NOISE_LAPLACE && delta != 0) {
			*msg = "laplace noise takes no delta";
			return CU_ERR_INVALID_ARGUMENT;
		}
		plan->epsilon = epsilon;
		plan->delta = plan->noise == CU_STATS_NOISE_GAUSSIAN ? delta : 0;
		snprintf(plan->noise_text, sizeof(plan->noise_text), "%s epsilon %g",
		         cu_stats_mechanism_name(plan->noise), epsilon);
		if (plan->delta > 0)
			snprintf(plan->noise_text, sizeof(plan->noise_text),
			         "%s epsilon %g delta %g", cu_stats_mechanism_name(plan->noise),
			         epsilon, plan->delta);
	} else if (q->epsilon != 0 || q->delta != 0) {
		*msg = "epsilon and delta come with noise=laplace|gaussian";
		return CU_ERR_INVALID_ARGUMENT;
	} else if (!p->statistics.allow_unnoised) {
		/* The cell-key method alone is the weaker release: only where the policy says so. */
		*msg = "this policy releases member statistics only with noise (laplace or "
		       "gaussian); noise=none needs statistics.allow_unnoised";
		return CU_ERR_NOISE_REQUIRED;
	}
	snprintf(plan->token, sizeof(plan->token), "%s",
	         q->token && *q->token ? q->token : "operator");

	pp = cu_policy_purpose_find(p, q->purpose);
	plan->fields = dim_fields(p, pp, &plan->by, &plan->services_fields);
	if (plan->by.kind == CU_STATS_BY_AGE_BAND || plan->by.kind == CU_STATS_BY_FIELD)
		plan->open |= plan->fields;
	if (plan->has_where) {
		cu_fieldset wf = dim_fields(p, pp, &plan->where, NULL);

		plan->fields |= wf;
		if (plan->where.kind == CU_STATS_BY_AGE_BAND ||
		    plan->where.kind == CU_STATS_BY_FIELD)
			plan->open |= wf;
		if (plan->where.kind == CU_STATS_BY_ELIGIBILITY)
			plan->services_fields |= wf;
	}
	cu_vault_random_id(plan->release);
	plan->as_of_us = cu_now_us();
	cu_stats_period(plan->as_of_us, plan->period);
	snprintf(plan->statistic, sizeof(plan->statistic), "members by %s%s%s", plan->by_name,
	         plan->has_where ? " where " : "", plan->has_where ? plan->where_field : "");
	rc = cu_store_stats_member_count(reader, &plan->members);
	if (rc)
		return rc;
	memset(&ar, 0, sizeof(ar));
	ar.actor = q->actor;
	ar.purpose = q->purpose;
	ar.statistic = plan->statistic;
	ar.fields = plan->fields;
	ar.members = plan->members;
	ar.release = plan->release;
	ar.noise = plan->noise_text[0] ? plan->noise_text : NULL;
	plan->decision = cu_access_aggregate_decide(p, &ar, &plan->why);
	cu_access_aggregate_audit_fill(p, &ar, plan->decision, plan->why, &plan->au);
	return CU_OK;
}

/* The secret, made now if there is none yet (inside the caller's transaction). */
static cu_result secret_ensure(cu_ctx *ctx)
{
	unsigned char sealed[CU_STATS_SEALED_MAX], secret[CU_STATS_SECRET_BYTES];
	size_t len = 0;
	bool found = false;
	cu_result rc = cu_store_stats_secret_get(ctx->store, sealed, sizeof(sealed), &len, &found);

	if (rc || found)
		return rc;
	randombytes_buf(secret, sizeof(secret));
	rc = cu_vault_seal_note(ctx->vault, SECRET_CONTEXT, secret, sizeof(secret), sealed);
	sodium_memzero(secret, sizeof(secret));
	if (!rc)
		rc = cu_store_stats_secret_put(ctx->store, sealed, SEALED_SECRET);
	return rc;
}

static cu_result secret_open(const cu_vault *v, cu_store *reader,
                             unsigned char secret[CU_STATS_SECRET_BYTES])
{
	unsigned char sealed[CU_STATS_SEALED_MAX], plain[CU_STATS_SEALED_MAX + 1];
	size_t len = 0, plen = 0;
	bool found = false;
	cu_result rc = cu_store_stats_secret_get(reader, sealed, sizeof(sealed), &len, &found);

	if (rc)
		return rc;
	if (!found || len != SEALED_SECRET)
		return CU_ERR_STORE;
	rc = cu_vault_open_note(v, SECRET_CONTEXT, sealed, len, plain, &plen);
	if (!rc && plen != CU_STATS_SECRET_BYTES)
		rc = CU_ERR_CRYPTO;
	if (!rc)
		memcpy(secret, plain, CU_STATS_SECRET_BYTES);
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

/*
 * The query key: a hash of the canonical question (dataset, by, where,
 * purpose, mechanism, ε, δ, k) in hex.  Two asks with the same key in a
 * period are the same question.
 */
static void query_key(cu_stats_plan *plan)
{
	char canon[CU_STATS_STATISTIC_MAX + CU_STATS_VALUE_MAX + 3 * CU_POLICY_ID_MAX + 160];
	unsigned char h[CU_STATS_KEY_LEN / 2];
	const char *mech = cu_stats_mechanism_name(plan->noise);

	snprintf(canon, sizeof(canon),
	         "members\nby=%s\nwhere=%s\n%s\npurpose=%s\nmechanism=%s\nepsilon=%.17g\n"
	         "delta=%.17g\nk=%d",
	         plan->by_name, plan->has_where ? plan->where_field : "",
	         plan->has_where ? plan->where_value : "", plan->purpose, mech ? mech : "none",
	         plan->epsilon, plan->delta, plan->k);
	crypto_generichash(h, sizeof(h), (const unsigned char *)canon, strlen(canon), NULL, 0);
	sodium_bin2hex(plan->key, sizeof(plan->key), h, sizeof(h));
	sodium_memzero(canon, sizeof(canon));
}

/* This period's kept release of the plan's question, if any: the plan then reuses it. */
static cu_result find_kept(cu_ctx *ctx, cu_stats_plan *plan, double spent)
{
	cu_stats_release_row row;
	char *json = NULL, at[CU_TIME_BYTES];
	bool found = false;
	cu_result rc = cu_store_stats_release_find(ctx->store, "members", plan->period, plan->key,
	                                           NULL, &row, &json, &found);

	free(json);
	if (rc || !found)
		return rc;
	plan->reused = true;
	snprintf(plan->release, sizeof(plan->release), "%s", row.release);
	plan->as_of_us = row.at_us;
	plan->spent = spent;
	cu_time_format(row.at_us, at);
	/* The one entry says which release answered: nobody was read for it. */
	snprintf(plan->au.reason, sizeof(plan->au.reason),
	         "%.200s; reuses release %.40s of %s; no member read%s%.80s", plan->statistic,
	         plan->release, at, plan->noise_text[0] ? "; noise " : "", plan->noise_text);
	return CU_OK;
}

cu_result cu_stats_record(cu_ctx *ctx, cu_stats_plan *plan)
{
	cu_stats_ledger_row row;
	double spent = 0;
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	if (!plan->decision) {
		/* Reuse is decided here, in the writer's transaction, before anything is opened. */
		query_key(plan);
		if (plan->noise != CU_STATS_NOISE_NONE)
			rc = cu_store_stats_spent(ctx->store, "members", plan->period, &spent);
		if (!rc && !plan->fresh)
			rc = find_kept(ctx, plan, spent);
		if (rc)
			goto fail;
	}
	if (!plan->decision && !plan->reused && plan->noise != CU_STATS_NOISE_NONE) {
		/* A hair of slack for sums of decimal fractions (0.1 + 0.2). */
		if (spent + plan->epsilon > plan->limit * (1 + 1e-9)) {
			/* Refused: the entry keeps its actor and role, and says why; nothing is spent. */
			plan->decision = CU_ERR_BUDGET_EXHAUSTED;
			plan->why = "the period's epsilon budget would be exceeded";
			plan->spent = spent;
			snprintf(plan->au.reason, sizeof(plan->au.reason),
			         "%s: %s; %.200s; release %.40s; spent %g of %g",
			         cu_result_code(plan->decision), plan->why, plan->statistic,
			         plan->release, spent, plan->limit);
			plan->au.entry.decision = "deny";
		} else {
			memset(&row, 0, sizeof(row));
			snprintf(row.release, sizeof(row.release), "%s", plan->release);
			snprintf(row.dataset, sizeof(row.dataset), "members");
			snprintf(row.period, sizeof(row.period), "%s", plan->period);
			row.epsilon = plan->epsilon;
			row.delta = plan->delta;
			snprintf(row.mechanism, sizeof(row.mechanism), "%s",
			         cu_stats_mechanism_name(plan->noise));
			snprintf(row.token, sizeof(row.token), "%s", plan->token);
			row.at_us = plan->as_of_us;
			rc = cu_store_stats_ledger_insert(ctx->store, &row);
			if (rc)
				goto fail;
			plan->spent = spent + plan->epsilon;
		}
	}
	if (!plan->decision && !plan->reused) {
		rc = secret_ensure(ctx);
		if (rc)
			goto fail;
	}
	rc = cu_access_record(ctx, &plan->au);
	if (rc)
		goto fail;
	rc = cu_tx_commit(ctx);
	return rc ? rc : plan->decision;
fail:
	cu_tx_rollback(ctx);
	return rc;
}

/* ---- the scan ---- */

struct scan {
	const cu_stats_plan *plan;
	const cu_policy *p;
	const cu_vault *v;
	cu_aggregate_scope scope;
	unsigned char secret[CU_STATS_SECRET_BYTES];
	bool count;   /* false: open only (the bench's baseline) */
	bool protect; /* keys wanted */
	cu_stats_table *t;
	struct index *ix;
	cu_aggregate_values vals;
	cu_result rc;
	uint64_t opened;
};

/* The list items of a list answer, distinct, trimmed, at most CU_STATS_LIST_ITEMS_MAX. */
static size_t list_items(char *text, char *items[CU_STATS_LIST_ITEMS_MAX])
{
	size_t n = 0;
	char *s = text;

	while (s && n < CU_STATS_LIST_ITEMS_MAX) {
		char *end = strchr(s, ','), *b = s, *e;
		bool seen = false;

		if (end)
			*end = '\0';
		while (*b == ' ' || *b == '\t')
			b++;
		e = b + strlen(b);
		while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
			*--e = '\0';
		for (size_t i = 0; i < n && !seen; i++)
			seen = !strcmp(items[i], b);
		if (*b && !seen)
			items[n++] = b;
		s = end ? end + 1 : NULL;
	}
	return n;
}

/* A value cut to CU_STATS_VALUE_MAX bytes on a character boundary, in place. */
static void cut(char *v)
{
	size_t n = strlen(v);

	if (n <= CU_STATS_VALUE_MAX)
		return;
	n = CU_STATS_VALUE_MAX;
	while (n > 0 && ((unsigned char)v[n] & 0xC0) == 0x80)
		n--;
	v[n] = '\0';
}

#define LABELS_MAX 64 /* labels one member adds to one dimension (list items, services, purposes) */

typedef struct labels {
	size_t n;
	char v[LABELS_MAX][CU_STATS_VALUE_MAX + CU_POLICY_ID_MAX + 16];
	int group[LABELS_MAX];
} labels;

/* Adds the label a, or "a:b" when b is given. */
static void label_add(labels *l, int group, const char *a, const char *b)
{
	if (l->n >= LABELS_MAX)
		return;
	if (b)
		snprintf(l->v[l->n], sizeof(l->v[0]), "%s:%s", a, b);
	else
		snprintf(l->v[l->n], sizeof(l->v[0]), "%s", a);
	l->group[l->n++] = group;
}

/* The member's cells of dimension d. */
static void member_labels(struct scan *sc, const cu_stats_member *m, const cu_stats_dim *d,
                          labels *out)
{
	const cu_policy *p = sc->p;
	char buf[CU_AGGREGATE_VALUE_MAX + 1], *items[CU_STATS_LIST_ITEMS_MAX];
	const char *v;
	size_t len, n;

	out->n = 0;
	switch (d->kind) {
	case CU_STATS_BY_AGE_BAND:
		v = cu_aggregate_value(&sc->vals, d->field, NULL);
		if (v) {
			char *end;
			long long age;

			errno = 0;
			age = strtoll(v, &end, 10);
			v = end != v && !*end && !errno ? cu_stats_age_band(age) : NULL;
		}
		label_add(out, 0, v ? v : CU_STATS_NO_ANSWER, NULL);
		return;
	case CU_STATS_BY_FIELD:
		v = cu_aggregate_value(&sc->vals, d->field, &len);
		if (!v) {
			label_add(out, 0, CU_STATS_NO_ANSWER, NULL);
			return;
		}
		memcpy(buf, v, len + 1);
		if (p->fields[d->field].kind == CU_FIELD_LIST) {
			n = list_items(buf, items);
			if (!n)
				label_add(out, 0, CU_STATS_NO_ANSWER, NULL);
			for (size_t i = 0; i < n; i++) {
				cut(items[i]);
				label_add(out, 0, items[i], NULL);
			}
		} else {
			char *b = buf, *e;

			while (*b == ' ' || *b == '\t')
				b++;
			e = b + strlen(b);
			while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
				*--e = '\0';
			cut(b);
			label_add(out, 0, *b ? b : CU_STATS_NO_ANSWER, NULL);
		}
		sodium_memzero(buf, len + 1);
		return;
	case CU_STATS_BY_ELIGIBILITY:
		for (size_t i = 0; i < p->nservices; i++) {
			cu_fieldset req = p->services[i].requires;

			if (req & ~sc->plan->services_fields)
				continue;
			label_add(out, (int)i, p->services[i].id,
			          (req & sc->vals.present) == req ? "eligible" : "not_eligible");
		}
		return;
	case CU_STATS_BY_CONSENT:
		for (size_t i = 0; i < p->npurposes; i++) {
			const char *id = p->purposes[i].id, *c;
			size_t idn = strlen(id);
			const char *state = "no_answer";

			for (c = m->consents; c && *c;) {
				const char *end = strchr(c, ',');
				size_t l = end ? (size_t)(end - c) : strlen(c);

				if (l == idn + 2 && !strncmp(c, id, idn) && c[idn] == '=')
					state = c[idn + 1] == '1' ? "consented" : "refused";
				c = end ? end + 1 : NULL;
			}
			label_add(out, (int)i, id, state);
		}
		return;
	}
}

static int on_member(void *ud, const cu_stats_member *m)
{
	struct scan *sc = ud;
	labels *l = NULL;
	uint32_t rk = 0;
	bool keep = true;

	/* The door's rule for every scan, the baseline's too: only members the purpose may use. */
	if (!cu_access_aggregate_counts(&sc->scope, m))
		return 0;
	sc->rc = cu_access_aggregate_open(sc->p, sc->v, m, sc->plan->open, &sc->vals);
	if (sc->rc)
		return 1;
	sc->opened++;
	atomic_fetch_add_explicit(&members_opened, 1, memory_order_relaxed);
	if (!sc->count)
		goto out;
	l = malloc(sizeof(*l));
	if (!l) {
		sc->rc = CU_ERR_NOMEM;
		goto out;
	}
	if (sc->plan->has_where) {
		member_labels(sc, m, &sc->plan->where, l);
		keep = false;
		for (size_t i = 0; i < l->n && !keep; i++)
			keep = !strcmp(l->v[i], sc->plan->where_value);
	}
	if (!keep)
		goto out;
	if (sc->protect)
		cu_stats_record_key(sc->secret, m->id, &rk);
	sc->t->true_members++;
	sc->t->members_key += rk;
	member_labels(sc, m, &sc->plan->by, l);
	for (size_t i = 0; i < l->n; i++) {
		int c = cell_of(sc->t, sc->ix, l->v[i], l->group[i], false);

		/* Past CU_STATS_CELLS_MAX distinct answers, the rest count as "(other)". */
		if (c < 0)
			c = cell_of(sc->t, sc->ix, CU_STATS_OTHER, 0, false);
		if (c < 0) {
			sc->rc = CU_ERR_NOMEM;
			break;
		}
		sc->t->cells[c].true_count++;
		sc->t->cells[c].key += rk;
	}
out:
	if (l) {
		sodium_memzero(l, sizeof(*l));
		free(l);
	}
	cu_aggregate_values_wipe(&sc->vals);
	return sc->rc ? 1 : 0;
}

/* The cells of a public list, made before counting so their zeros show. */
static cu_result fixed_cells(struct scan *sc)
{
	const cu_policy *p = sc->p;
	char v[CU_POLICY_ID_MAX + 16];
	static const char *const elig[] = {"eligible", "not_eligible"};
	static const char *const cons[] = {"consented", "refused", "no_answer"};

	switch (sc->plan->by.kind) {
	case CU_STATS_BY_AGE_BAND:
		for (size_t i = 0; i < NBANDS; i++)
			if (cell_of(sc->t, sc->ix, bands[i].name, 0, true) < 0)
				return CU_ERR_NOMEM;
		if (cell_of(sc->t, sc->ix, CU_STATS_NO_ANSWER, 0, true) < 0)
			return CU_ERR_NOMEM;
		return CU_OK;
	case CU_STATS_BY_ELIGIBILITY:
		for (size_t i = 0; i < p->nservices; i++) {
			if (p->services[i].requires & ~sc->plan->services_fields)
				continue;
			for (size_t j = 0; j < 2; j++) {
				snprintf(v, sizeof(v), "%s:%s", p->services[i].id, elig[j]);
				if (cell_of(sc->t, sc->ix, v, (int)i, true) < 0)
					return CU_ERR_NOMEM;
			}
		}
		return CU_OK;
	case CU_STATS_BY_CONSENT:
		for (size_t i = 0; i < p->npurposes; i++)
			for (size_t j = 0; j < 3; j++) {
				snprintf(v, sizeof(v), "%s:%s", p->purposes[i].id, cons[j]);
				if (cell_of(sc->t, sc->ix, v, (int)i, true) < 0)
					return CU_ERR_NOMEM;
			}
		return CU_OK;
	case CU_STATS_BY_FIELD:
		return CU_OK;
	}
	return CU_OK;
}

/* Small cells of answers with no public list pooled into "(other)" (their values never shown). */
static cu_result pool_small(cu_stats_table *t, int k)
{
	uint64_t count = 0;
	uint32_t key = 0;
	size_t w = 0;
	int other = -1;

	for (size_t i = 0; i < t->n; i++) {
		cu_stats_cell *c = &t->cells[i];

		if (!strcmp(c->value, CU_STATS_OTHER)) {
			count += c->true_count;
			key += c->key;
			continue;
		}
		if (!c->fixed && c->true_count < (uint64_t)k &&
		    strcmp(c->value, CU_STATS_NO_ANSWER)) {
			count += c->true_count;
			key += c->key;
			sodium_memzero(c->value, sizeof(c->value));
			continue;
		}
		t->cells[w++] = *c;
	}
	t->n = w;
	if (count) {
		if (t->n == t->cap) {
			cu_stats_cell *cells = realloc(t->cells, (t->cap + 1) * sizeof(*cells));

			if (!cells)
				return CU_ERR_NOMEM;
			t->cells = cells;
			t->cap++;
		}
		other = (int)t->n++;
		memset(&t->cells[other], 0, sizeof(t->cells[0]));
		snprintf(t->cells[other].value, sizeof(t->cells[0].value), "%s", CU_STATS_OTHER);
		t->cells[other].true_count = count;
		t->cells[other].key = key;
	}
	return CU_OK;
}

/* Noise of a DP mechanism with libsodium's randomness. */
static double uniform01(void)
{
	uint64_t r;

	randombytes_buf(&r, sizeof(r));
	/* 53 bits, never 0: (0, 1]. */
	return ((double)(r >> 11) + 1.0) / 9007199254740992.0;
}

static double laplace(double scale)
{
	double u = uniform01() - 0.5;

	return -scale * (u < 0 ? -1.0 : 1.0) * log(1.0 - 2.0 * fabs(u) + 1e-300);
}

static double gaussian(double sigma)
{
	double u1 = uniform01(), u2 = uniform01();

	return sigma * sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

static int64_t noisy(uint64_t truth, uint32_t key, int k, cu_stats_mechanism noise, double l1_scale,
                     double sigma, bool *small)
{
	double x;
	int64_t c;

	*small = false;
	if (noise == CU_STATS_NOISE_NONE) {
		if (truth == 0)
			return 0;
		if (truth < (uint64_t)k) {
			*small = true;
			return -1;
		}
		c = (int64_t)truth + cu_stats_perturbation(key);
		return c < k ? k : c;
	}
	x = (double)truth + (noise == CU_STATS_NOISE_LAPLACE ? laplace(l1_scale) : gaussian(sigma));
	c = (int64_t)llround(x);
	if (c < 0)
		c = 0;
	if (c > 0 && c < k) {
		*small = true;
		return -1;
	}
	return c;
}

void cu_stats_protect(cu_stats_table *t, int k, cu_stats_mechanism noise, double epsilon,
                      double delta, double sensitivity_l1, double sensitivity_l2)
{
	double scale = 0, sigma = 0;
	size_t w = 0;
	bool small;

	if (noise == CU_STATS_NOISE_LAPLACE)
		scale = sensitivity_l1 / epsilon;
	else if (noise == CU_STATS_NOISE_GAUSSIAN)
		sigma = sensitivity_l2 * sqrt(2.0 * log(1.25 / delta)) / epsilon;
	/* (a), (b): each cell and the total. */
	for (size_t i = 0; i < t->n; i++) {
		cu_stats_cell c = t->cells[i];

		c.count = noisy(c.true_count, c.key, k, noise, scale, sigma, &small);
		c.suppressed = small;
		c.reason = small ? "small" : NULL;
		/* A zero is shown only for a value on a public list. */
		if (!small && c.count == 0 && !c.fixed) {
			sodium_memzero(t->cells[i].value, sizeof(c.value));
			continue;
		}
		t->cells[w++] = c;
	}
	t->n = w;
	t->members = noisy(t->true_members, t->members_key, k, noise, scale, sigma, &small);
	if (small)
		t->members = -1;
	/* (c): complementary suppression, group by group (one pass leaves none with exactly one). */
	if (t->members < 0)
		return;
	for (size_t i = 0; i < t->n; i++) {
		int g = t->cells[i].group;
		size_t suppressed = 0, at = SIZE_MAX;
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = t->cells[j].group == g;
		if (seen)
			continue;
		for (size_t j = 0; j < t->n; j++) {
			if (t->cells[j].group != g)
				continue;
			if (t->cells[j].suppressed)
				suppressed++;
			else if (t->cells[j].count > 0 &&
			         (at == SIZE_MAX || t->cells[j].count < t->cells[at].count))
				at = j;
		}
		if (suppressed != 1)
			continue;
		if (at == SIZE_MAX) {
			/* Nothing left to hide it among: the total goes. */
			t->members = -1;
			return;
		}
		t->cells[at].suppressed = true;
		t->cells[at].count = -1;
		t->cells[at].reason = "complementary";
	}
}

static int rank(const cu_stats_cell *c)
{
	return !strcmp(c->value, CU_STATS_OTHER)       ? 2
	       : !strcmp(c->value, CU_STATS_NO_ANSWER) ? 1
	                                               : 0;
}

static int by_value(const void *a, const void *b)
{
	const cu_stats_cell *x = a, *y = b;

	if (rank(x) != rank(y))
		return rank(x) - rank(y);
	return strcmp(x->value, y->value);
}

/* Answers with no public list in byte order, "(no answer)" and "(other)" last; lists as listed. */
static void sort_cells(cu_stats_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->cells[i].fixed)
			return;
	if (t->n > 1)
		qsort(t->cells, t->n, sizeof(t->cells[0]), by_value);
}

/* The L1 and L2 sensitivity of the table: what one member more or less can change. */
static void sensitivity(const cu_stats_plan *plan, double *l1, double *l2)
{
	const cu_policy *p = plan->policy;
	double cells = 1;

	switch (plan->by.kind) {
	case CU_STATS_BY_AGE_BAND:
		cells = 1;
		break;
	case CU_STATS_BY_FIELD:
		cells =
		    p->fields[plan->by.field].kind == CU_FIELD_LIST ? CU_STATS_LIST_ITEMS_MAX : 1;
		break;
	case CU_STATS_BY_ELIGIBILITY:
		cells = 0;
		for (size_t i = 0; i < p->nservices; i++)
			if (!(p->services[i].requires & ~plan->services_fields))
				cells++;
		break;
	case CU_STATS_BY_CONSENT:
		cells = (double)p->npurposes;
		break;
	}
	/* Each cell by at most 1, and the total by 1. */
	*l1 = cells + 1;
	*l2 = sqrt(cells + 1);
}

/* The scan: every counted member opened; with count, the table too. */
static cu_result scan_members(const cu_stats_plan *plan, const cu_vault *v, cu_store *reader,
                              bool count, bool protect, cu_stats_table *out)
{
	struct scan *sc = calloc(1, sizeof(*sc));
	struct index *ix = calloc(1, sizeof(*ix));
	bool snap = false;
	cu_result rc;

	if (!sc || !ix) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	sc->plan = plan;
	sc->p = plan->policy;
	sc->v = v;
	sc->count = count;
	sc->protect = protect;
	sc->t = out;
	sc->ix = ix;
	/* One view for the versions, the secret and the scan. */
	(void)!cu_store_view_begin(reader, &snap);
	rc = cu_access_aggregate_scope(plan->policy, reader, plan->purpose, plan->fields,
	                               &sc->scope);
	if (!rc && protect)
		rc = secret_open(v, reader, sc->secret);
	if (!rc && count)
		rc = fixed_cells(sc);
	if (!rc)
		rc = cu_store_stats_member_scan(reader, on_member, sc);
	if (!rc)
		rc = sc->rc;
	if (snap)
		cu_store_snapshot_end(reader);
out:
	if (sc) {
		cu_aggregate_values_wipe(&sc->vals);
		sodium_memzero(sc, sizeof(*sc));
		free(sc);
	}
	free(ix);
	return rc;
}

/* A kept release's figures back into a table (no true count: it holds none). */
static cu_result load_kept(const cu_stats_plan *plan, cu_store *reader, cu_stats_table *out)
{
	cu_stats_release_row row;
	char *text = NULL;
	bool found = false;
	json_t *j, *cells, *c;
	size_t i;
	cu_result rc = cu_store_stats_release_find(reader, NULL, NULL, NULL, plan->release, &row,
	                                           &text, &found);

	if (rc)
		return rc;
	if (!found)
		return CU_ERR_STORE;
	j = json_loads(text, 0, NULL);
	free(text);
	cells = j ? json_object_get(j, "cells") : NULL;
	if (!json_is_array(cells) || json_array_size(cells) > CU_STATS_CELLS_MAX + 1) {
		json_decref(j);
		return CU_ERR_STORE;
	}
	out->cells = calloc(json_array_size(cells) + 1, sizeof(*out->cells));
	if (!out->cells) {
		json_decref(j);
		return CU_ERR_NOMEM;
	}
	out->cap = json_array_size(cells) + 1;
	out->members = json_is_integer(json_object_get(j, "members"))
	                   ? (int64_t)json_integer_value(json_object_get(j, "members"))
	                   : -1;
	json_array_foreach(cells, i, c)
	{
		cu_stats_cell *cell = &out->cells[out->n++];
		const char *value = json_string_value(json_object_get(c, "value"));
		const char *reason = json_string_value(json_object_get(c, "reason"));
		json_t *count = json_object_get(c, "count");

		if (!value) {
			json_decref(j);
			return CU_ERR_STORE;
		}
		snprintf(cell->value, sizeof(cell->value), "%s", value);
		cell->suppressed = json_is_true(json_object_get(c, "suppressed"));
		cell->count = json_is_integer(count) && !cell->suppressed
		                  ? (int64_t)json_integer_value(count)
		                  : -1;
		cell->reason = !cell->suppressed                            ? NULL
		               : reason && !strcmp(reason, "complementary") ? "complementary"
		                                                            : "small";
	}
	json_decref(j);
	return CU_OK;
}

cu_result cu_stats_members_compute(const cu_stats_plan *plan, const cu_vault *v, cu_store *reader,
                                   cu_stats_table *out)
{
	double l1, l2;
	cu_result rc;

	if (plan->decision)
		return plan->decision;
	if (plan->reused) {
		rc = load_kept(plan, reader, out);
		if (rc)
			goto fail;
		return CU_OK;
	}
	rc = scan_members(plan, v, reader, true, true, out);
	if (rc)
		goto fail;
	/* (d): a where that leaves fewer than k members releases nothing. */
	if (plan->has_where && out->true_members < (uint64_t)plan->k) {
		rc = CU_ERR_TOO_FEW_MEMBERS;
		goto fail;
	}
	rc = pool_small(out, plan->k);
	if (rc)
		goto fail;
	/*
	 * Every cell's key takes in the population's: one member more or less
	 * anywhere in the table redraws every cell, so a difference of two
	 * releases does not point at the one cell that changed.
	 */
	for (size_t i = 0; i < out->n; i++)
		out->cells[i].key += out->members_key;
	sort_cells(out);
	sensitivity(plan, &l1, &l2);
	cu_stats_protect(out, plan->k, plan->noise, plan->epsilon, plan->delta, l1, l2);
	return CU_OK;
fail:
	cu_stats_table_release(out);
	return rc;
}

cu_result cu_stats_members_raw(const cu_stats_plan *plan, const cu_vault *v, cu_store *reader,
                               bool count, cu_stats_table *out)
{
	cu_result rc;

	/* Like compute: only under a plan the door allowed, whose entry was recorded. */
	if (plan->decision)
		return plan->decision;
	rc = scan_members(plan, v, reader, count, false, out);
	if (!rc && count)
		for (size_t i = 0; i < out->n; i++)
			out->cells[i].count = (int64_t)out->cells[i].true_count;
	if (!rc && count)
		out->members = (int64_t)out->true_members;
	if (rc)
		cu_stats_table_release(out);
	return rc;
}

cu_result cu_stats_members(cu_ctx *ctx, const cu_stats_query *q, cu_stats_plan *plan,
                           cu_stats_table *out, const char **msg)
{
	cu_result rc = cu_stats_members_plan(ctx->policy, ctx->store, q, plan, msg);

	if (rc)
		return rc;
	rc = cu_stats_record(ctx, plan);
	if (rc)
		return rc;
	rc = cu_stats_members_compute(plan, ctx->vault, ctx->store, out);
	if (!rc)
		rc = cu_stats_keep(ctx, plan, out);
	if (rc)
		cu_stats_table_release(out);
	return rc;
}

cu_result cu_stats_keep(cu_ctx *ctx, const cu_stats_plan *plan, const cu_stats_table *t)
{
	cu_stats_release_row row;
	json_t *j;
	char *text;
	cu_result rc;

	if (plan->decision || plan->reused)
		return CU_OK;
	j = cu_stats_members_json(plan, t);
	text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!text)
		return CU_ERR_NOMEM;
	memset(&row, 0, sizeof(row));
	snprintf(row.release, sizeof(row.release), "%s", plan->release);
	snprintf(row.dataset, sizeof(row.dataset), "members");
	snprintf(row.period, sizeof(row.period), "%s", plan->period);
	snprintf(row.key, sizeof(row.key), "%s", plan->key);
	row.at_us = plan->as_of_us;
	rc = cu_tx_begin(ctx);
	if (!rc) {
		rc = cu_store_stats_release_insert(ctx->store, &row, text);
		if (rc)
			cu_tx_rollback(ctx);
		else
			rc = cu_tx_commit(ctx);
	}
	free(text);
	return rc;
}

/* ---- beacons ---- */

struct beacon_sum {
	cu_stats_beacons *b;
	int64_t from_us;
};

static int on_daily(void *ud, const cu_beacon_daily_row *row)
{
	struct beacon_sum *bs = ud;
	cu_stats_beacons *b = bs->b;
	int64_t day_us;
	size_t i;

	if (strcmp(row->category, "statistics") != 0)
		return 0;
	if ((b->page && strcmp(row->page, b->page)) || (b->event && strcmp(row->event, b->event)))
		return 0;
	if (cu_date_parse(row->day, &day_us) || day_us < bs->from_us)
		return 0;
	i = (size_t)((day_us - bs->from_us) / CU_DAY_US);
	if (i >= b->n)
		return 0;
	b->days[i].views += (int64_t)row->views;
	b->days[i].visitors += (int64_t)row->visitors;
	return 0;
}

cu_result cu_stats_beacons_compute(const cu_policy *p, cu_store *reader, const char *from,
                                   const char *to, const char *page, const char *event,
                                   cu_stats_beacons *out, const char **msg)
{
	struct beacon_sum bs;
	char mark[CU_BEACON_DAY_LEN + 1] = "";
	bool rolled = false;
	int64_t from_us, to_us;
	cu_result rc;

	memset(out, 0, sizeof(*out));
	*msg = NULL;
	if (!from || !to || cu_date_parse(from, &from_us) || cu_date_parse(to, &to_us)) {
		*msg = "from and to are days, YYYY-MM-DD";
		return CU_ERR_INVALID_ARGUMENT;
	}
	if (to_us < from_us || (to_us - from_us) / CU_DAY_US >= CU_STATS_BEACON_DAYS_MAX) {
		*msg = "from is at most to, and at most 366 days before it";
		return CU_ERR_INVALID_ARGUMENT;
	}
	if ((page && (!*page || strlen(page) > CU_BEACON_NAME_MAX)) ||
	    (event && (!*event || strlen(event) > CU_BEACON_NAME_MAX))) {
		*msg = "page and event are names of at most 64 bytes";
		return CU_ERR_INVALID_ARGUMENT;
	}
	cu_date_format(from_us, out->from);
	cu_date_format(to_us, out->to);
	out->page = page;
	out->event = event;
	out->k = p->statistics.k;
	out->n = (size_t)((to_us - from_us) / CU_DAY_US) + 1;
	for (size_t i = 0; i < out->n; i++)
		cu_date_format(from_us + (int64_t)i * CU_DAY_US, out->days[i].day);
	bs.b = out;
	bs.from_us = from_us;
	rc = cu_store_meta_get(reader, CU_BEACON_ROLLED_META, mark, sizeof(mark), &rolled);
	if (!rc)
		rc = cu_store_beacon_daily(reader, out->from, out->to, on_daily, &bs);
	if (rc)
		return rc;
	for (size_t i = 0; i < out->n; i++) {
		cu_stats_beacon_day *d = &out->days[i];

		/* A day on or after the last roll-up's is not in the aggregates yet: unknown, not 0. */
		d->counted = rolled && strcmp(d->day, mark) < 0;
		if (!d->counted) {
			d->views = -1;
			d->visitors = -1;
		} else if (d->visitors > 0 && d->visitors < out->k) {
			d->views = -1;
			d->visitors = -1;
			d->suppressed = true;
		}
	}
	cu_vault_random_id(out->release);
	return CU_OK;
}

cu_result cu_stats_beacons_record(cu_ctx *ctx, const cu_actor *actor, const cu_stats_beacons *b)
{
	cu_access_audit au;
	cu_audit_entry *e = &au.entry;
	cu_result rc;

	memset(&au, 0, sizeof(au));
	snprintf(au.actor, sizeof(au.actor), "%s", actor && actor->name ? actor->name : "");
	snprintf(au.role, sizeof(au.role), "%s", actor ? cu_role_name(actor->role) : "");
	/* Page and event are names the beacon routes checked; the days are dates. */
	snprintf(au.reason, sizeof(au.reason), "beacons %s..%s%s%.64s%s%.64s; release %s", b->from,
	         b->to, b->page ? " page " : "", b->page ? b->page : "", b->event ? " event " : "",
	         b->event ? b->event : "", b->release);
	e->actor = au.actor;
	e->role = au.role;
	e->action = "statistic";
	e->member = "";
	e->purpose = "";
	e->fields = "";
	e->decision = "allow";
	e->reason = au.reason;
	e->case_ref = "";
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_audit_append(ctx->audit, ctx->store, e);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

static json_t *count_json(int64_t n)
{
	return n < 0 ? json_null() : json_integer((json_int_t)n);
}

json_t *cu_stats_members_json(const cu_stats_plan *plan, const cu_stats_table *t)
{
	char at[CU_TIME_BYTES];
	json_t *o, *cells = json_array(), *noise = json_null(), *where = json_null();

	for (size_t i = 0; cells && i < t->n; i++) {
		const cu_stats_cell *c = &t->cells[i];
		json_t *cj = json_pack("{s:s,s:o,s:b}", "value", c->value, "count",
		                       count_json(c->suppressed ? -1 : c->count), "suppressed",
		                       c->suppressed);

		if (cj && c->suppressed)
			json_object_set_new(cj, "reason", json_string(c->reason));
		json_array_append_new(cells, cj);
	}
	if (plan->has_where)
		where =
		    json_pack("{s:s,s:s}", "field", plan->where_field, "value", plan->where_value);
	if (plan->noise != CU_STATS_NOISE_NONE && plan->noise != CU_STATS_NOISE_DEFAULT)
		noise = json_pack("{s:s,s:f,s:o,s:{s:s,s:s,s:f,s:f}}", "mechanism",
		                  cu_stats_mechanism_name(plan->noise), "epsilon", plan->epsilon,
		                  "delta", plan->delta > 0 ? json_real(plan->delta) : json_null(),
		                  "budget", "dataset", "members", "period", plan->period, "spent",
		                  plan->spent, "limit", plan->limit);
	cu_time_format(plan->as_of_us, at);
	o = json_pack("{s:s,s:s,s:s,s:o,s:i,s:o,s:o,s:o,s:s,s:s,s:b}", "statistic", "members", "by",
	              plan->by_name, "purpose", plan->purpose, "where", where, "k", plan->k,
	              "members", count_json(t->members), "cells", cells, "noise", noise, "release",
	              plan->release, "as_of", at, "reused", plan->reused);
	return o;
}

json_t *cu_stats_beacons_json(const cu_stats_beacons *b)
{
	json_t *days = json_array();

	for (size_t i = 0; days && i < b->n; i++)
		json_array_append_new(
		    days, json_pack("{s:s,s:o,s:o,s:b,s:b}", "day", b->days[i].day, "views",
		                    count_json(b->days[i].views), "visitors",
		                    count_json(b->days[i].visitors), "suppressed",
		                    b->days[i].suppressed, "counted", b->days[i].counted));
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:i,s:o,s:s}", "statistic", "beacons", "from",
	                 b->from, "to", b->to, "page", b->page ? json_string(b->page) : json_null(),
	                 "event", b->event ? json_string(b->event) : json_null(), "k", b->k, "days",
	                 days, "release", b->release);
}

static int ledger_json(void *ud, const cu_stats_ledger_row *row)
{
	char at[CU_TIME_BYTES];

	cu_time_format(row->at_us, at);
	json_array_append_new(ud,
	                      json_pack("{s:s,s:s,s:f,s:o,s:s,s:s}", "release", row->release,
	                                "dataset", row->dataset, "epsilon", row->epsilon, "delta",
	                                row->delta > 0 ? json_real(row->delta) : json_null(),
	                                "mechanism", row->mechanism, "at", at));
	return 0;
}

cu_result cu_stats_budget_json(const cu_policy *p, cu_store *reader, int64_t now_us, json_t **out)
{
	char period[CU_STATS_PERIOD_LEN + 1];
	json_t *datasets = json_array(), *ledger = json_array();
	cu_result rc = CU_OK;

	*out = NULL;
	cu_stats_period(now_us, period);
	for (size_t i = 0; !rc && cu_stats_datasets[i]; i++) {
		double spent = 0;

		rc = cu_store_stats_spent(reader, cu_stats_datasets[i], period, &spent);
		if (!rc)
			json_array_append_new(datasets,
			                      json_pack("{s:s,s:f,s:f}", "dataset",
			                                cu_stats_datasets[i], "spent", spent,
			                                "limit", p->statistics.epsilon_budget));
	}
	if (!rc)
		rc = cu_store_stats_ledger_list(reader, period, ledger_json, ledger);
	if (rc) {
		json_decref(datasets);
		json_decref(ledger);
		return rc;
	}
	*out = json_pack("{s:s,s:o,s:o}", "period", period, "datasets", datasets, "ledger", ledger);
	return *out ? CU_OK : CU_ERR_NOMEM;
}
