/*
 * cli/retention.c — `custodian retention plan|run`: what the retention rules
 * would delete next, when and why; and carrying out what is due now (the
 * server's retention worker does the same on its interval).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "domain/retention.h"

enum { OPT_JSON = 'j' };

static const struct cu_cli_option json_options[] = {
    {"json", NULL, OPT_JSON, "print JSON instead of a table"},
    {0},
};

/* What the walk collects: a JSON array, or a table printed as it goes. */
struct out {
	bool json;
	int64_t now;
	json_t *items;
	unsigned long long due, later;
};

static json_t *item_json(const cu_retention_item *it, int64_t now)
{
	char due[CU_CLI_TIME_MAX], since[CU_CLI_TIME_MAX];

	return json_pack(
	    "{s:s,s:s?,s:s?,s:s,s:I,s:s,s:I,s:b,s:I,s:s}", "kind", cu_retention_kind_name(it->kind),
	    "member", it->member[0] ? it->member : NULL, "field", it->field[0] ? it->field : NULL,
	    "due", cu_cli_format_time(it->due_us, due, sizeof(due)), "due_us",
	    (json_int_t)it->due_us, "since", cu_cli_format_time(it->since_us, since, sizeof(since)),
	    "since_us", (json_int_t)it->since_us, "due_now", it->due_us <= now, "count",
	    (json_int_t)it->count, "why", it->why);
}

static int collect(void *ud, const cu_retention_item *it)
{
	struct out *o = ud;
	char due[CU_CLI_TIME_MAX];

	if (it->due_us <= o->now)
		o->due++;
	else
		o->later++;
	if (o->json) {
		json_t *j = item_json(it, o->now);

		return !j || json_array_append_new(o->items, j) != 0;
	}
	printf("%s\t%s\t%s\t%s\t%s\t%llu\t%s\n", it->due_us <= o->now ? "now" : "later",
	       cu_cli_format_time(it->due_us, due, sizeof(due)), cu_retention_kind_name(it->kind),
	       it->member[0] ? it->member : "-", it->field[0] ? it->field : "-",
	       (unsigned long long)it->count, it->why);
	return 0;
}

static int parse_json_flag(const struct cu_cli_command *cmd, int argc, char **argv, bool *json)
{
	struct cu_cli_args a;
	int c;

	*json = false;
	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_JSON)
			return cu_cli_bad_argument(cmd, a.value);
		*json = true;
	}
	return 0;
}

static int plan(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct out o = {0};
	char now[CU_CLI_TIME_MAX];
	cu_ctx *ctx;
	cu_result rc;
	int ex = parse_json_flag(cmd, argc, argv, &o.json);

	if (ex)
		return ex;
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	o.now = cu_now_us();
	o.items = o.json ? json_array() : NULL;
	if (!o.json)
		printf("STATE\tDUE\tKIND\tMEMBER\tFIELD\tCOUNT\tWHY\n");
	rc = cu_retention_plan(ctx, o.now, collect, &o);
	cu_ctx_close(ctx);
	if (rc) {
		json_decref(o.items);
		cu_cli_error("cannot make the retention plan: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (o.json)
		return cu_cli_print_json_wiped(json_pack(
		    "{s:s,s:I,s:I,s:I,s:o}", "now", cu_cli_format_time(o.now, now, sizeof(now)),
		    "now_us", (json_int_t)o.now, "due", (json_int_t)o.due, "later",
		    (json_int_t)o.later, "items", o.items));
	printf("%llu due now, %llu later\n", o.due, o.later);
	return 0;
}

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct out o = {0};
	cu_retention_report rep;
	char now[CU_CLI_TIME_MAX];
	cu_ctx *ctx;
	cu_result rc;
	int ex = parse_json_flag(cmd, argc, argv, &o.json);

	if (ex)
		return ex;
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	o.now = cu_now_us();
	o.items = o.json ? json_array() : NULL;
	if (!o.json)
		printf("STATE\tDUE\tKIND\tMEMBER\tFIELD\tCOUNT\tWHY\n");
	rc = cu_retention_run(ctx, &cu_cli_operator, o.now, collect, NULL, &o, &rep);
	cu_ctx_close(ctx);
	if (rc) {
		json_decref(o.items);
		/* What was done before the failure is committed and audited. */
		cu_cli_error("retention run stopped: %s (done before it: %llu fields, %llu "
		             "erasures, %llu notices)",
		             cu_strerror(rc), (unsigned long long)rep.fields,
		             (unsigned long long)rep.erasures, (unsigned long long)rep.notices);
		return CU_CLI_EXIT_NO;
	}
	if (o.json)
		return cu_cli_print_json_wiped(json_pack(
		    "{s:s,s:I,s:o,s:{s:I,s:I,s:I,s:I,s:I,s:I}}", "now",
		    cu_cli_format_time(o.now, now, sizeof(now)), "now_us", (json_int_t)o.now,
		    "done", o.items, "report", "members", (json_int_t)rep.members, "fields",
		    (json_int_t)rep.fields, "notices", (json_int_t)rep.notices, "erasures",
		    (json_int_t)rep.erasures, "provisions", (json_int_t)rep.provisions, "later",
		    (json_int_t)rep.later));
	printf("cut %llu field(s) of %llu member(s), sent %llu notice(s), erased %llu "
	       "member(s), deleted %llu provision record(s); %llu item(s) later\n",
	       (unsigned long long)rep.fields, (unsigned long long)rep.members,
	       (unsigned long long)rep.notices, (unsigned long long)rep.erasures,
	       (unsigned long long)rep.provisions, (unsigned long long)rep.later);
	return 0;
}

static const struct cu_cli_command retention_commands[] = {
    {.name = "plan",
     .run = plan,
     .usage = "custodian retention plan [--json]",
     .help = "What the retention rules of the policy in force (its \"retention\" section)\n"
             "delete next, when and why: fields a new policy version dropped (after their\n"
             "grace period), fields whose every purpose has ended, inactive accounts\n"
             "(notice, then erasure), records of provision past their period.  One line\n"
             "per item, 'now' when it is due; ids, field names, dates and counts, never a\n"
             "value.  Reads only.  See docs/retention.md.",
     .options = json_options},
    {.name = "run",
     .run = run,
     .usage = "custodian retention run [--json]",
     .help = "Carries out what the plan says is due now, as the server's retention worker\n"
             "does on its interval ([retention] interval_seconds): each member in a\n"
             "transaction of its own, each deletion audited (\"retention_delete\"),\n"
             "erasures through the one erasure (\"erase\").  Prints what was done.",
     .options = json_options},
    {0},
};

const struct cu_cli_command cu_cli_retention = {
    .name = "retention",
    .usage = "custodian [--data DIR] retention (plan|run) [--json]",
    .help = "Retention: what goes next, and carrying out what is due.",
    .sub = retention_commands,
};
