/*
 * cli/beacon.c — `custodian beacon rotate|rollup|stats`: the web beacons'
 * daily salt made anew, the roll-up and expiry the server's retention worker
 * runs, and the daily aggregates for operators (docs/beacons.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "domain/beacon.h"
#include "util/date.h"

#define US_PER_HOUR ((int64_t)3600 * CU_CLI_US_PER_S)

static int rotate(const struct cu_cli_command *cmd, int argc, char **argv)
{
	cu_ctx *ctx;
	cu_result rc;

	if (argc > 1)
		return cu_cli_bad_argument(cmd, argv[1]);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_beacon_rotate(ctx, cu_now_us());
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("cannot rotate the beacon salt: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("a new salt for today; every other is deleted\n");
	return 0;
}

static int rollup(const struct cu_cli_command *cmd, int argc, char **argv)
{
	cu_beacon_report rep;
	uint64_t hits = 0, salts = 0;
	cu_ctx *ctx;
	cu_result rc;

	if (argc > 1)
		return cu_cli_bad_argument(cmd, argv[1]);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_beacon_maintain(ctx, cu_now_us(),
	                        (int64_t)ctx->config.beacon_raw_hours * US_PER_HOUR, &rep);
	if (!rc)
		rc = cu_beacon_counts(ctx, &hits, &salts);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("beacon roll-up failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("rolled up %llu day(s), deleted %llu raw hit(s) and %llu old salt(s); %llu raw "
	       "hit(s) and %llu salt(s) held\n",
	       (unsigned long long)rep.days_rolled, (unsigned long long)rep.expired,
	       (unsigned long long)rep.salts, (unsigned long long)hits, (unsigned long long)salts);
	return 0;
}

static int print_row(void *ud, const cu_beacon_daily_row *row)
{
	(void)ud;
	printf("%s\t%s\t%s\t%s\t%llu\t%llu\n", row->day, row->category, row->page, row->event,
	       (unsigned long long)row->views, (unsigned long long)row->visitors);
	return 0;
}

static int stats(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *from = "1970-01-01", *to = "9999-12-31";
	int64_t us;
	cu_ctx *ctx;
	cu_result rc;

	if (argc > 3)
		return cu_cli_bad_argument(cmd, argv[3]);
	if (argc > 1)
		from = argv[1];
	if (argc > 2)
		to = argv[2];
	if (cu_date_parse(from, &us) || cu_date_parse(to, &us))
		return cu_cli_usage_error(cmd, "days are YYYY-MM-DD");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("DAY\tCATEGORY\tPAGE\tEVENT\tVIEWS\tVISITORS\n");
	rc = cu_beacon_daily(ctx, from, to, print_row, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("cannot read the beacon aggregates: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_command beacon_commands[] = {
    {.name = "rotate",
     .run = rotate,
     .usage = "custodian beacon rotate",
     .help = "Makes a new salt for today's visitor hashes and deletes every other salt:\n"
             "from now on a visitor hashes differently, so hits before and after cannot\n"
             "be linked (the day's distinct visitors then count such a visitor twice).\n"
             "The server makes a new salt each UTC day by itself."},
    {.name = "rollup",
     .run = rollup,
     .usage = "custodian beacon rollup",
     .help = "What the server's retention worker does every pass: the days that are over\n"
             "rolled up into daily aggregates (views and distinct visitors per day, page,\n"
             "event and category), raw hits of rolled days older than [beacon] raw_hours\n"
             "deleted, and every salt but today's deleted."},
    {.name = "stats",
     .run = stats,
     .usage = "custodian beacon stats [FROM [TO]]",
     .help = "The daily aggregates from FROM to TO (YYYY-MM-DD, both included; all by\n"
             "default): day, category, page, event, views, distinct visitors.  Today's\n"
             "hits appear once the day is over and rolled up."},
    {0},
};

const struct cu_cli_command cu_cli_beacon = {
    .name = "beacon",
    .usage = "custodian [--data DIR] beacon (rotate|rollup|stats)",
    .help = "Web beacons: the daily salt, the roll-up, the aggregates (docs/beacons.md).",
    .sub = beacon_commands,
};
