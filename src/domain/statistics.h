/*
 * src/domain/statistics.h — released statistics: counts of members by a
 * survey answer, eligibility or consent state, and of beacon traffic, that
 * identify no one (issue 13; docs/statistics.md is the manual).
 *
 * A member statistic is released in three steps, the door's (access.h,
 * "aggregates"):
 *   1. plan (cu_stats_members_plan, on any reader): the query checked, the
 *      door's rules applied, the members in scope counted, a release id
 *      drawn, and the audit entry filled;
 *   2. record (cu_stats_record, on the writer's ctx, one transaction level):
 *      REUSE decided — the same question (the query key: by, where,
 *      purpose, mechanism, ε, δ, k) already released in this period is
 *      answered from its kept release unless `fresh` is asked: nothing
 *      spent, nothing opened — or else the stats secret made if there is
 *      none, the ε budget checked and spent in the ledger (a release that
 *      would exceed it is refused, its denial audited, nothing spent); and
 *      the ONE audit entry written either way;
 *   3. compute (cu_stats_members_compute, on a reader, only once 2 is
 *      committed): the kept release read back (reuse), or one scan of the
 *      members, opening only the fields the statistic needs of the members
 *      the purpose may use, then disclosure control;
 *   4. keep (cu_stats_keep, on the writer's ctx): a new release kept
 *      (only its released, noisy and suppressed, figures) for the next
 *      ask of the same question.  A crash between 2 and 4 only means the
 *      next ask is fresh (and spends again).
 * cu_stats_members does the four on one ctx (the command line, tests).
 *
 * Noise by default: a query that names no mechanism
 * (CU_STATS_NOISE_DEFAULT) gets the policy's default_noise and
 * default_epsilon; CU_STATS_NOISE_NONE (cell-key perturbation only) is
 * refused with CU_ERR_NOISE_REQUIRED unless the policy allows it
 * (statistics.allow_unnoised).
 *
 * Disclosure control, in order (docs/statistics.md says what each stops):
 *   a. cell-key perturbation: each member's record key is BLAKE2b-32 keyed
 *      with the stats secret over their id; a cell's key is the sum of its
 *      members' record keys and of the table's population key (the sum over
 *      every member in the table) mod 2^32; the perturbation, uniform over
 *      -2..+2, is looked up from it (cu_stats_perturbation).  The same query
 *      over the same members always gets the same noise; one member more or
 *      less redraws every cell.  With noise=laplace|gaussian, differential
 *      privacy noise replaces it.
 *   b. a cell whose count is 1..k-1 (the noisy count under DP) is
 *      suppressed (reason "small"); a released count is never below k.
 *      Values of a field with no public list (free text, lists) that fall
 *      in small cells are pooled into one cell "(other)".  Zero cells are
 *      shown only for public lists (age bands, services, purposes).
 *   c. complementary suppression: in a group of cells that add up to the
 *      total, exactly one suppressed cell means the smallest released cell
 *      of the group is suppressed too (reason "complementary"); the total
 *      is suppressed when below k.
 *   d. a `where` whose population is below k refuses the whole release
 *      (CU_ERR_TOO_FEW_MEMBERS).
 */
#ifndef CUSTODIAN_DOMAIN_STATISTICS_H
#define CUSTODIAN_DOMAIN_STATISTICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "store/beacon.h"
#include "store/stats.h"

#define CU_STATS_SECRET_BYTES    32
#define CU_STATS_VALUE_MAX       100  /* bytes of a cell's value (longer answers are cut) */
#define CU_STATS_LIST_ITEMS_MAX  10   /* items of a list answer that count (sensitivity) */
#define CU_STATS_CELLS_MAX       1000 /* cells of one table, "(other)" taking the rest */
#define CU_STATS_PERTURB_MAX     2    /* the cell-key perturbation is in -2..+2 */
#define CU_STATS_DELTA_MAX       1e-3 /* the largest δ a Gaussian release may ask */
#define CU_STATS_EPSILON_MAX     10.0 /* the largest ε one release may ask */
#define CU_STATS_BEACON_DAYS_MAX 366  /* days one beacon statistic covers */
#define CU_STATS_OTHER           "(other)"
#define CU_STATS_NO_ANSWER       "(no answer)"
#define CU_STATS_STATISTIC_MAX   200 /* the statistic's description in the audit entry */
/* "gaussian epsilon 0.5 delta 1e-06" (%g each) and its NUL, with room. */
#define CU_STATS_NOISE_TEXT_BYTES 80

typedef enum cu_stats_by {
	CU_STATS_BY_AGE_BAND,    /* the age field in bands 0–17 ... 65+ */
	CU_STATS_BY_FIELD,       /* a text or list survey field, by its answers */
	CU_STATS_BY_ELIGIBILITY, /* per service: eligible / not_eligible */
	CU_STATS_BY_CONSENT      /* per purpose: consented / refused / no_answer */
} cu_stats_by;

typedef enum cu_stats_mechanism {
	CU_STATS_NOISE_DEFAULT = 0, /* asked: the policy's default (never in a plan) */
	CU_STATS_NOISE_NONE,        /* cell-key perturbation only (allow_unnoised) */
	CU_STATS_NOISE_LAPLACE,
	CU_STATS_NOISE_GAUSSIAN
} cu_stats_mechanism;

/* "laplace" / "gaussian"; NULL for none (and the default). */
const char *cu_stats_mechanism_name(cu_stats_mechanism m);

/* A member statistic as asked (strings borrowed for the call). */
typedef struct cu_stats_query {
	const cu_actor *actor;
	const char *by;           /* "age_band", a survey field, "eligibility", "consent" */
	const char *purpose;      /* a statistical purpose of the policy */
	const char *where;        /* "FIELD:VALUE" (same kinds as by), or NULL */
	cu_stats_mechanism noise; /* DEFAULT: the policy's */
	double epsilon;    /* > 0, at most CU_STATS_EPSILON_MAX, with noise; 0: the policy's */
	double delta;      /* (0, CU_STATS_DELTA_MAX] for gaussian; 0 otherwise (or the policy's) */
	const char *token; /* the token id that asks (the ledger's), or NULL: "operator" */
	bool fresh;        /* a new release even if this period has one of this question */
} cu_stats_query;

/* One dimension: what a `by` or a `where` names. */
typedef struct cu_stats_dim {
	cu_stats_by kind;
	int field; /* policy field index (age for age_band, -1 for eligibility/consent) */
} cu_stats_dim;

/*
 * A planned release.  Everything the record and compute steps need, held by
 * value (it travels to the writer and back).
 */
typedef struct cu_stats_plan {
	const cu_policy *policy;
	cu_stats_dim by;
	bool has_where;
	cu_stats_dim where;
	char by_name[CU_POLICY_ID_MAX + 1];
	char where_field[CU_POLICY_ID_MAX + 1];
	char where_value[CU_STATS_VALUE_MAX + 1];
	char purpose[CU_POLICY_ID_MAX + 1];
	cu_fieldset fields;          /* every field used (opened or looked at) */
	cu_fieldset open;            /* the fields opened */
	cu_fieldset services_fields; /* eligibility: the union of the services counted */
	uint64_t members;            /* live members read */
	int k;
	cu_stats_mechanism noise;
	double epsilon, delta;
	char token[CU_STATS_TOKEN_MAX + 1];
	char release[CU_ID_LEN + 1]; /* the kept release's, when reused */
	char period[CU_STATS_PERIOD_LEN + 1];
	int64_t as_of_us;               /* when released (the kept release's time, when reused) */
	double spent, limit;            /* the budget after this release (noise only) */
	bool fresh;                     /* asked */
	bool reused;                    /* set by step 2: the answer is the kept release */
	char key[CU_STATS_KEY_LEN + 1]; /* the query key (hex), set by step 2 */
	cu_result decision;             /* the door's (CU_OK: allowed) */
	const char *why;
	char statistic[CU_STATS_STATISTIC_MAX + 1];
	char noise_text[CU_STATS_NOISE_TEXT_BYTES];
	cu_access_audit au;
} cu_stats_plan;

typedef struct cu_stats_cell {
	char value[CU_STATS_VALUE_MAX + 1 + CU_POLICY_ID_MAX + 16];
	int64_t count; /* -1: suppressed (null in JSON) */
	bool suppressed;
	const char *reason; /* "small" | "complementary" | NULL */
	/* private to the module (tests read them): */
	uint64_t true_count;
	uint32_t key;
	int group;  /* cells of a group add up to the total (single-valued answers) */
	bool fixed; /* the value is on a public list: a zero may be shown */
} cu_stats_cell;

/* A released table.  init before use, release when done. */
typedef struct cu_stats_table {
	int64_t members; /* the total, -1 when suppressed */
	uint64_t true_members;
	uint32_t members_key; /* the population key: the sum of its members' record keys */
	size_t n, cap;
	cu_stats_cell *cells;
} cu_stats_table;

void cu_stats_table_init(cu_stats_table *t);
/* Frees the cells (their values wiped).  NULL-safe, and safe twice. */
void cu_stats_table_release(cu_stats_table *t);

/*
 * Step 1.  CU_ERR_INVALID_ARGUMENT (with *msg, static words) for a query
 * that names no statistic this module makes: nothing is audited for it.
 * Otherwise CU_OK, and plan->decision holds the door's answer (audited by
 * step 2 either way).  reader: any handle (counts the members in scope).
 */
CU_WARN_UNUSED cu_result cu_stats_members_plan(const cu_policy *p, cu_store *reader,
                                               const cu_stats_query *q, cu_stats_plan *plan,
                                               const char **msg);
/*
 * Step 2, on the writer's ctx: answers plan->decision, or
 * CU_ERR_BUDGET_EXHAUSTED (its denial audited, nothing spent), or the
 * store's failure (nothing written: the caller rolls back).
 */
CU_WARN_UNUSED cu_result cu_stats_record(cu_ctx *ctx, cu_stats_plan *plan);
/*
 * Step 3, after step 2 committed an allowing entry: scans, opens, counts and
 * protects into out (cu_stats_table_init'd) — or, for a reused plan, reads
 * the kept release back into out (its cells' true counts and keys are 0:
 * it holds none).  CU_ERR_TOO_FEW_MEMBERS when a `where` leaves fewer than
 * k members.
 */
CU_WARN_UNUSED cu_result cu_stats_members_compute(const cu_stats_plan *plan, const cu_vault *v,
                                                  cu_store *reader, cu_stats_table *out);
/*
 * Step 4, on the writer's ctx (one transaction level): keeps a new release
 * (cu_stats_members_json's figures, never a true count) under the plan's
 * query key.  CU_OK and nothing written for a reused or refused plan.
 */
CU_WARN_UNUSED cu_result cu_stats_keep(cu_ctx *ctx, const cu_stats_plan *plan,
                                       const cu_stats_table *t);
/* The four steps on one ctx. */
CU_WARN_UNUSED cu_result cu_stats_members(cu_ctx *ctx, const cu_stats_query *q, cu_stats_plan *plan,
                                          cu_stats_table *out, const char **msg);

/*
 * The same scan, open and count without disclosure control: for the
 * adversarial tests' "raw" attacker and the bench's baseline (which passes
 * count = false: scan, door rule, unwrap and open, nothing counted).  The
 * same contract as compute: only after cu_stats_record committed the
 * plan's allowing entry (a denied plan answers its refusal, opening
 * nothing).  No front end calls it: its counts are unprotected.
 */
CU_WARN_UNUSED cu_result cu_stats_members_raw(const cu_stats_plan *plan, const cu_vault *v,
                                              cu_store *reader, bool count, cu_stats_table *out);

/*
 * Members whose fields any statistic's scan opened in this process (a
 * counter for the tests' fail-closed checks).
 */
uint64_t cu_stats_members_opened(void);

/* The cell-key method's pieces (tests, docs). */
void cu_stats_record_key(const unsigned char secret[CU_STATS_SECRET_BYTES], const char *member,
                         uint32_t *key);
/* The perturbation of a cell key: -2..+2, each with probability 1/5. */
int cu_stats_perturbation(uint32_t cell_key);
/*
 * Disclosure control (b, c) on a counted table whose true counts and keys
 * are set; with DP (noise != NONE) the noise is drawn here.  For tests.
 */
void cu_stats_protect(cu_stats_table *t, int k, cu_stats_mechanism noise, double epsilon,
                      double delta, double sensitivity_l1, double sensitivity_l2);

/* The age band of an age: "0–17", "18–24", ..., "65+"; NULL for a negative age. */
const char *cu_stats_age_band(long long age);

/* ---- beacons ---- */

typedef struct cu_stats_beacon_day {
	char day[CU_BEACON_DAY_LEN + 1];
	int64_t views, visitors; /* -1: suppressed or not counted */
	bool suppressed;
	bool counted; /* false: the day is not rolled up yet (its figures unknown, not 0) */
} cu_stats_beacon_day;

typedef struct cu_stats_beacons {
	char from[CU_BEACON_DAY_LEN + 1], to[CU_BEACON_DAY_LEN + 1];
	const char *page, *event; /* borrowed from the query, or NULL */
	int k;
	size_t n;
	cu_stats_beacon_day days[CU_STATS_BEACON_DAYS_MAX];
	char release[CU_ID_LEN + 1];
} cu_stats_beacons;

/*
 * Views and visitors per day from the daily aggregates (statistics
 * category), summed over pages and events (or only page / event), each day
 * from..to listed; a day with fewer than k visitors is suppressed.  A day
 * on or after the store's roll-up mark (meta CU_BEACON_ROLLED_META, set by
 * the beacon maintenance: every day before it is rolled up) is not counted
 * yet: counted false, figures -1.  Beacons
 * are no member's data: no audit entry.  CU_ERR_INVALID_ARGUMENT (with
 * *msg) for bad days or more than CU_STATS_BEACON_DAYS_MAX of them.
 */
CU_WARN_UNUSED cu_result cu_stats_beacons_compute(const cu_policy *p, cu_store *reader,
                                                  const char *from, const char *to,
                                                  const char *page, const char *event,
                                                  cu_stats_beacons *out, const char **msg);

/*
 * The beacon release's one audit entry (action "statistic", no member, no
 * purpose: beacons hold no member's data), in a transaction level of ctx.
 */
CU_WARN_UNUSED cu_result cu_stats_beacons_record(cu_ctx *ctx, const cu_actor *actor,
                                                 const cu_stats_beacons *b);

/* ---- the answers, as the API and `custodian stats --format json` print them ---- */

/* New references (NULL when out of memory); docs/api.md gives their shapes. */
json_t *cu_stats_members_json(const cu_stats_plan *plan, const cu_stats_table *t);
json_t *cu_stats_beacons_json(const cu_stats_beacons *b);
/* The budget of now's period and its ledger; CU_ERR_* from the store. */
CU_WARN_UNUSED cu_result cu_stats_budget_json(const cu_policy *p, cu_store *reader, int64_t now_us,
                                              json_t **out);

/* ---- the budget ---- */

/* The period of a time: "YYYY-MM" (UTC). */
void cu_stats_period(int64_t us, char out[CU_STATS_PERIOD_LEN + 1]);
/* The datasets a budget is kept for, NULL-terminated. */
extern const char *const cu_stats_datasets[];

#endif
