/*
 * cli/stats.c — `custodian stats members|beacons|budget`: released
 * statistics for operators (docs/statistics.md).  The command line acts as
 * the operator, who is granted every purpose; the release goes through the
 * same domain call as the API (domain/statistics.h), with the same
 * disclosure control, one audit entry per release, and the same ε budget.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "domain/statistics.h"
#include "util/date.h"

enum {
	OPT_BY = 'b',
	OPT_PURPOSE = 'p',
	OPT_WHERE = 'w',
	OPT_NOISE = 'n',
	OPT_EPSILON = 'e',
	OPT_DELTA = 'd',
	OPT_FORMAT = 'f',
	OPT_FROM = 'F',
	OPT_TO = 'T',
	OPT_PAGE = 'P',
	OPT_EVENT = 'E',
	OPT_FRESH = 'R'
};

/* "json" or "table" into *json; -1 for anything else. */
static int parse_format(const char *v, bool *json)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "table"))
		*json = false;
	else
		return -1;
	return 0;
}

static int parse_number(const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	return end == v || *end ? -1 : 0;
}

static void print_count(int64_t n)
{
	if (n < 0)
		printf("%8s", "-");
	else
		printf("%8lld", (long long)n);
}

static int members(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	cu_stats_query q = {0};
	cu_stats_plan *plan = NULL;
	cu_stats_table t;
	const char *noise = NULL, *msg = NULL;
	bool json = false;
	cu_ctx *ctx;
	cu_result rc;
	int c, status = 0;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_BY)
			q.by = a.value;
		else if (c == OPT_PURPOSE)
			q.purpose = a.value;
		else if (c == OPT_WHERE)
			q.where = a.value;
		else if (c == OPT_FRESH)
			q.fresh = true;
		else if (c == OPT_NOISE)
			noise = a.value;
		else if (c == OPT_EPSILON) {
			if (parse_number(a.value, &q.epsilon))
				return cu_cli_usage_error(cmd, "--epsilon takes a number");
		} else if (c == OPT_DELTA) {
			if (parse_number(a.value, &q.delta))
				return cu_cli_usage_error(cmd, "--delta takes a number");
		} else if (c == OPT_FORMAT) {
			if (parse_format(a.value, &json))
				return cu_cli_usage_error(cmd, "--format is json or table");
		} else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!q.by || !q.purpose)
		return cu_cli_usage_error(cmd, "expected --by F and --purpose P");
	if (noise && !strcmp(noise, "laplace"))
		q.noise = CU_STATS_NOISE_LAPLACE;
	else if (noise && !strcmp(noise, "gaussian"))
		q.noise = CU_STATS_NOISE_GAUSSIAN;
	else if (noise && !strcmp(noise, "none"))
		q.noise = CU_STATS_NOISE_NONE;
	else if (noise)
		return cu_cli_usage_error(cmd, "--noise is laplace, gaussian or none");
	q.actor = &cu_cli_operator;
	plan = calloc(1, sizeof(*plan));
	if (!plan) {
		cu_cli_error("out of memory");
		return CU_CLI_EXIT_NO;
	}
	ctx = cu_cli_open();
	if (!ctx) {
		free(plan);
		return CU_CLI_EXIT_NO;
	}
	cu_stats_table_init(&t);
	rc = cu_stats_members(ctx, &q, plan, &t, &msg);
	if (rc) {
		if (msg)
			cu_cli_error("%s", msg);
		else if (rc == CU_ERR_BUDGET_EXHAUSTED)
			cu_cli_error(
			    "refused: the month's epsilon budget would be exceeded (%g spent "
			    "of %g); nothing was spent",
			    plan->spent, plan->limit);
		else
			cu_cli_error("refused: %s%s%s", cu_strerror(rc), plan->why ? ": " : "",
			             plan->why ? plan->why : "");
		status = rc == CU_ERR_INVALID_ARGUMENT || rc == CU_ERR_PURPOSE_REQUIRED
		             ? CU_CLI_EXIT_USAGE
		             : CU_CLI_EXIT_NO;
		goto out;
	}
	if (json) {
		status = cu_cli_print_json_wiped(cu_stats_members_json(plan, &t));
		goto out;
	}
	{
		char at[CU_TIME_BYTES];

		cu_time_format(plan->as_of_us, at);
		printf("members by %s for %s%s%s%s, k %d, release %s, released %s%s\n",
		       plan->by_name, plan->purpose, plan->has_where ? ", where " : "",
		       plan->has_where ? plan->where_field : "", plan->has_where ? ":" : "",
		       plan->k, plan->release, at, plan->reused ? " (reused: nothing spent)" : "");
	}
	if (plan->has_where)
		printf("  (value %s)\n", plan->where_value);
	printf("%-40s %8s  %s\n", "VALUE", "COUNT", "NOTE");
	for (size_t i = 0; i < t.n; i++) {
		printf("%-40s ", t.cells[i].value);
		print_count(t.cells[i].suppressed ? -1 : t.cells[i].count);
		printf("  %s\n", t.cells[i].suppressed ? t.cells[i].reason : "");
	}
	printf("%-40s ", "(members)");
	print_count(t.members);
	printf("  %s\n", t.members < 0 ? "small" : "");
	if (plan->noise != CU_STATS_NOISE_NONE && plan->noise != CU_STATS_NOISE_DEFAULT)
		printf("noise %s, budget %g of %g spent in %s\n", plan->noise_text, plan->spent,
		       plan->limit, plan->period);
out:
	cu_stats_table_release(&t);
	cu_access_audit_wipe(&plan->au);
	free(plan);
	cu_ctx_close(ctx);
	return status;
}

static int beacons(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	cu_stats_beacons *b;
	const char *from = NULL, *to = NULL, *page = NULL, *event = NULL, *msg = NULL;
	bool json = false;
	cu_ctx *ctx;
	cu_result rc;
	int c, status = 0;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_FROM)
			from = a.value;
		else if (c == OPT_TO)
			to = a.value;
		else if (c == OPT_PAGE)
			page = a.value;
		else if (c == OPT_EVENT)
			event = a.value;
		else if (c == OPT_FORMAT) {
			if (parse_format(a.value, &json))
				return cu_cli_usage_error(cmd, "--format is json or table");
		} else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!from || !to)
		return cu_cli_usage_error(cmd, "expected --from D and --to D");
	b = calloc(1, sizeof(*b));
	if (!b) {
		cu_cli_error("out of memory");
		return CU_CLI_EXIT_NO;
	}
	ctx = cu_cli_open();
	if (!ctx) {
		free(b);
		return CU_CLI_EXIT_NO;
	}
	rc = cu_stats_beacons_compute(ctx->policy, ctx->store, from, to, page, event, b, &msg);
	if (rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("%s", msg ? msg : "bad arguments");
		status = CU_CLI_EXIT_USAGE;
		goto out;
	}
	if (!rc)
		rc = cu_stats_beacons_record(ctx, &cu_cli_operator, b);
	if (rc) {
		cu_cli_error("cannot release the beacon statistic: %s", cu_strerror(rc));
		status = CU_CLI_EXIT_NO;
		goto out;
	}
	if (json) {
		status = cu_cli_print_json_wiped(cu_stats_beacons_json(b));
		goto out;
	}
	printf("beacons %s..%s, k %d, release %s\n", b->from, b->to, b->k, b->release);
	printf("%-10s %8s %8s\n", "DAY", "VIEWS", "VISITORS");
	for (size_t i = 0; i < b->n; i++) {
		printf("%-10s ", b->days[i].day);
		print_count(b->days[i].views);
		printf(" ");
		print_count(b->days[i].visitors);
		printf("%s\n", !b->days[i].counted     ? "  not counted yet"
		               : b->days[i].suppressed ? "  small"
		                                       : "");
	}
out:
	free(b);
	cu_ctx_close(ctx);
	return status;
}

static int budget(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	json_t *j = NULL, *v;
	bool json = false;
	cu_ctx *ctx;
	cu_result rc;
	size_t i;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_FORMAT) {
			if (parse_format(a.value, &json))
				return cu_cli_usage_error(cmd, "--format is json or table");
		} else
			return cu_cli_bad_argument(cmd, a.value);
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_stats_budget_json(ctx->policy, ctx->store, cu_now_us(), &j);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("cannot read the budget: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (json)
		return cu_cli_print_json_wiped(j);
	printf("period %s\n%-10s %10s %10s\n", json_string_value(json_object_get(j, "period")),
	       "DATASET", "SPENT", "LIMIT");
	json_array_foreach(json_object_get(j, "datasets"), i, v)
	    printf("%-10s %10g %10g\n", json_string_value(json_object_get(v, "dataset")),
	           json_real_value(json_object_get(v, "spent")),
	           json_real_value(json_object_get(v, "limit")));
	printf("%-22s %-8s %-9s %8s %10s %s\n", "RELEASE", "DATASET", "MECHANISM", "EPSILON",
	       "DELTA", "AT");
	json_array_foreach(json_object_get(j, "ledger"), i, v) printf(
	    "%-22s %-8s %-9s %8g %10g %s\n", json_string_value(json_object_get(v, "release")),
	    json_string_value(json_object_get(v, "dataset")),
	    json_string_value(json_object_get(v, "mechanism")),
	    json_real_value(json_object_get(v, "epsilon")),
	    json_is_real(json_object_get(v, "delta")) ? json_real_value(json_object_get(v, "delta"))
	                                              : 0.0,
	    json_string_value(json_object_get(v, "at")));
	json_decref(j);
	return 0;
}

static const struct cu_cli_option format_option[] = {
    {"format", "json|table", OPT_FORMAT, "json, or a plain table (the default)"},
    {0},
};

static const struct cu_cli_option members_options[] = {
    {"by", "F", OPT_BY, "age_band, eligibility, consent, or a text or list survey field"},
    {"purpose", "P", OPT_PURPOSE, "a statistical purpose of the policy (research, ...)"},
    {"where", "F:V", OPT_WHERE, "only members whose F (as for --by) is V"},
    {"noise", "M", OPT_NOISE,
     "laplace or gaussian (default: the policy's), or none (only under allow_unnoised)"},
    {"epsilon", "E", OPT_EPSILON,
     "the release's epsilon, spent from the month's budget (default: the policy's)"},
    {"delta", "D", OPT_DELTA, "the release's delta (gaussian only)"},
    {"fresh", NULL, OPT_FRESH,
     "a new release (spending epsilon) even if this month has one of this question"},
    {"format", "json|table", OPT_FORMAT, "json, or a plain table (the default)"},
    {0},
};

static const struct cu_cli_option beacons_options[] = {
    {"from", "D", OPT_FROM, "the first day, YYYY-MM-DD"},
    {"to", "D", OPT_TO, "the last day, YYYY-MM-DD (at most 366 days)"},
    {"page", "NAME", OPT_PAGE, "one page (a route template) only"},
    {"event", "NAME", OPT_EVENT, "one event only"},
    {"format", "json|table", OPT_FORMAT, "json, or a plain table (the default)"},
    {0},
};

static const struct cu_cli_command stats_commands[] = {
    {.name = "members",
     .run = members,
     .usage = "custodian stats members --by F --purpose P [--where F:V] [--noise laplace "
              "--epsilon E] [--fresh]",
     .help = "Members counted by an answer, eligibility or consent state, under a purpose,\n"
             "with the API's disclosure control: differential privacy (the policy's noise and\n"
             "epsilon unless given) from the month's budget, cells of fewer than k members\n"
             "suppressed, complementary suppression, a --where of fewer than k members\n"
             "refused.  The same question in the same month answers the kept release and\n"
             "spends nothing, unless --fresh.  One audit entry per release\n"
             "(docs/statistics.md).",
     .options = members_options},
    {.name = "beacons",
     .run = beacons,
     .usage = "custodian stats beacons --from D --to D [--page NAME] [--event NAME]",
     .help = "Page views and visitors per day from the beacons' daily aggregates; a day\n"
             "with fewer than k visitors is suppressed.",
     .options = beacons_options},
    {.name = "budget",
     .run = budget,
     .usage = "custodian stats budget [--format json|table]",
     .help = "The epsilon budget of this month per dataset, and the ledger of its\n"
             "releases with noise.",
     .options = format_option},
    {0},
};

const struct cu_cli_command cu_cli_stats = {
    .name = "stats",
    .usage = "custodian [--data DIR] stats (members|beacons|budget)",
    .help = "Released statistics that identify no one (docs/statistics.md).",
    .sub = stats_commands,
};
