/*
 * cli/notify.c — `custodian notify deliver|test`: one delivery pass over the
 * outbox (as the server's notifier does), and a test notice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "domain/notify.h"

/* Notifications one pass sends at most: the default and the bounds of --max. */
#define DELIVER_MAX_DEFAULT 1000
#define DELIVER_MAX_LOW     1
#define DELIVER_MAX_HIGH    10000

#define DECIMAL 10

enum { OPT_IGNORE_BACKOFF = 'i', OPT_MAX = 'm', OPT_MEMBER = 'M' };

static const struct cu_cli_option deliver_options[] = {
    {"ignore-backoff", NULL, OPT_IGNORE_BACKOFF, "try every pending notification now"},
    {"max", "N", OPT_MAX,
     "send at most N, " CU_CLI_STR(DELIVER_MAX_LOW) ".." CU_CLI_STR(
         DELIVER_MAX_HIGH) " (default " CU_CLI_STR(DELIVER_MAX_DEFAULT) ")"},
    {0},
};

/* --max's value, or 0 when it is not a number in bounds. */
static unsigned long parse_max(const char *v)
{
	unsigned long max;
	char *end;

	errno = 0;
	max = strtoul(v, &end, DECIMAL);
	if (v[0] < '0' || v[0] > '9' || *end || errno || max < DELIVER_MAX_LOW ||
	    max > DELIVER_MAX_HIGH)
		return 0;
	return max;
}

static int deliver(const struct cu_cli_command *cmd, int argc, char **argv)
{
	unsigned long max = DELIVER_MAX_DEFAULT;
	bool ignore_backoff = false;
	struct cu_cli_args a;
	cu_notify_config cfg;
	cu_notify_report rep;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_IGNORE_BACKOFF) {
			ignore_backoff = true;
		} else if (c == OPT_MAX) {
			max = parse_max(a.value);
			if (!max) {
				cu_cli_error("--max must be %d..%d", DELIVER_MAX_LOW,
				             DELIVER_MAX_HIGH);
				return CU_CLI_EXIT_USAGE;
			}
		} else {
			return cu_cli_bad_argument(cmd, a.value);
		}
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_notify_config_from_ctx(ctx, &cfg);
	cfg.ignore_backoff = ignore_backoff;
	rc = cu_notify_deliver(ctx, &cfg, cu_now_us(), max, &rep);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("delivery failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("sent %zu, failed %zu, pending %llu\n", rep.sent, rep.failed,
	       (unsigned long long)rep.pending);
	if (rep.dropped)
		printf("dropped %zu (their members were erased)\n", rep.dropped);
	if (rep.gave_up)
		printf("gave up on %zu after %u attempts (status failed)\n", rep.gave_up,
		       cfg.max_attempts);
	if (cfg.mode == CU_NOTIFY_OFF)
		printf("notify.mode is off: nothing is sent\n");
	return rep.failed ? CU_CLI_EXIT_NO : 0;
}

static const struct cu_cli_option test_options[] = {
    {"member", "ID", OPT_MEMBER, "the member the test notice is for (required)"},
    {0},
};

static int test(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *member = NULL;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_MEMBER || member)
			return cu_cli_bad_argument(cmd, c == OPT_MEMBER ? "--member" : a.value);
		member = a.value;
	}
	if (!member)
		return cu_cli_usage_error(cmd, "expected --member ID");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* A template like every notice: nothing personal in it. */
	rc = cu_notify_member(ctx, member, "test", "Test notice from Custodian",
	                      "This is a test notice: the operator is checking that notices reach "
	                      "you.\nNo action is needed.");
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT || rc == CU_ERR_ERASED) {
		cu_cli_error("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("cannot queue the notice: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("queued a test notice for member %s\n", member);
	return 0;
}

static const struct cu_cli_command notify_commands[] = {
    {.name = "deliver",
     .run = deliver,
     .usage = "custodian notify deliver [--ignore-backoff] [--max N]",
     .help = "One delivery pass over the outbox, as the server's notifier does every\n"
             "interval: sends (or, in files mode, writes DATA/outbox/ID.eml) each due\n"
             "notification, at most N (default 1000).  Prints 'sent N, failed M, pending P';\n"
             "exit 1 when an attempt failed (it is retried later, with back-off).\n"
             "--ignore-backoff tries every pending notification now, whatever its\n"
             "schedule (after an SMTP outage is over).  Safe while the server runs: a\n"
             "notification is never sent by both.  Each e-mail address is read through\n"
             "the access door and audited.",
     .options = deliver_options},
    {.name = "test",
     .run = test,
     .usage = "custodian notify test --member ID",
     .help = "Queues a test notice for member ID (shown in their account and e-mailed\n"
             "by the next delivery): the operator's check that delivery works.",
     .options = test_options},
    {0},
};

const struct cu_cli_command cu_cli_notify = {
    .name = "notify",
    .usage = "custodian [--data DIR] notify (deliver|test) ...",
    .help = "Deliver due notifications, or queue a test notice.",
    .sub = notify_commands,
};
