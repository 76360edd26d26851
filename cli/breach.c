/*
 * cli/breach.c — `custodian breach assess`: which members and fields could
 * have been exposed in a window, from the audit trail and key usage, and the
 * draft report an officer must send (domain/breach.h, docs/breach.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "domain/breach.h"
#include "util/date.h"

/* The largest master key id (docs/keys.md). */
#define KEY_ID_MAX 2147483647UL

enum {
	OPT_SINCE = 's',
	OPT_UNTIL = 'u',
	OPT_KEY = 'k',
	OPT_TOKEN = 't',
	OPT_SUBCONTRACTOR = 'c',
	OPT_JSON = 'j',
};

static const struct cu_cli_option assess_options[] = {
    {"since", "T", OPT_SINCE, "start of the window, RFC 3339 UTC (2026-12-01T00:00:00Z)"},
    {"until", "T", OPT_UNTIL, "end of the window, included, RFC 3339 UTC"},
    {"token", "ID", OPT_TOKEN, "what this token's holder read"},
    {"subcontractor", "ID", OPT_SUBCONTRACTOR, "what this subcontractor read under its contract"},
    {"key", "ID", OPT_KEY, "the members whose data key is wrapped under this master key"},
    {"json", NULL, OPT_JSON, "the assessment as JSON instead of the Markdown draft"},
    {0},
};

/* A master key id: decimal digits only, 1..KEY_ID_MAX. */
static int parse_key_id(const char *s, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 10)
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > KEY_ID_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int assess(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *since = NULL, *until = NULL, *key = NULL, *selector = NULL;
	cu_breach_query q = {0};
	struct cu_cli_args a;
	bool as_json = false;
	json_t *rep = NULL;
	char *md = NULL;
	size_t len = 0;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_SINCE && !since)
			since = a.value;
		else if (c == OPT_UNTIL && !until)
			until = a.value;
		else if (c == OPT_JSON)
			as_json = true;
		else if ((c == OPT_TOKEN || c == OPT_SUBCONTRACTOR || c == OPT_KEY) && !selector) {
			selector = c == OPT_TOKEN ? "--token"
			           : c == OPT_KEY ? "--key"
			                          : "--subcontractor";
			q.by = c == OPT_TOKEN ? CU_BREACH_TOKEN
			       : c == OPT_KEY ? CU_BREACH_KEY
			                      : CU_BREACH_SUBCONTRACTOR;
			if (c == OPT_KEY)
				key = a.value;
			else
				q.id = a.value;
		} else if (c == OPT_TOKEN || c == OPT_SUBCONTRACTOR || c == OPT_KEY)
			return cu_cli_usage_error(
			    cmd, "at most one of --token, --subcontractor and --key");
		else if (c == OPT_SINCE || c == OPT_UNTIL)
			return cu_cli_usage_error(cmd, "--%s given twice",
			                          c == OPT_SINCE ? "since" : "until");
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!since || !until)
		return cu_cli_usage_error(cmd, "expected --since and --until");
	if (cu_time_parse(since, &q.since_us)) {
		cu_cli_error("malformed --since '%s': expected an RFC 3339 time in UTC, "
		             "e.g. 2026-12-01T09:30:00Z",
		             since);
		return CU_CLI_EXIT_USAGE;
	}
	if (cu_time_parse(until, &q.until_us)) {
		cu_cli_error("malformed --until '%s': expected an RFC 3339 time in UTC, "
		             "e.g. 2026-12-01T09:30:00Z",
		             until);
		return CU_CLI_EXIT_USAGE;
	}
	if (q.since_us > q.until_us) {
		cu_cli_error("--since %s is after --until %s", since, until);
		return CU_CLI_EXIT_USAGE;
	}
	if (key && parse_key_id(key, &q.key_id)) {
		cu_cli_error("malformed --key '%s': expected a master key id, 1 to %lu", key,
		             KEY_ID_MAX);
		return CU_CLI_EXIT_USAGE;
	}
	if (q.id && !*q.id)
		return cu_cli_usage_error(cmd, "%s needs an id", selector);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_breach_assess(ctx, &cu_cli_operator, &q, &rep);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND) {
		cu_cli_error("breach assess: no %s with this id",
		             q.by == CU_BREACH_TOKEN ? "token" : "subcontractor");
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("breach assess failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (as_json)
		return cu_cli_print_json_wiped(rep);
	rc = cu_breach_markdown(rep, &md, &len);
	json_decref(rep);
	if (rc) {
		cu_cli_error("breach assess failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	fwrite(md, 1, len, stdout);
	free(md);
	return 0;
}

static const struct cu_cli_command breach_commands[] = {
    {.name = "assess",
     .run = assess,
     .usage = "custodian breach assess --since T --until T [--token ID | --subcontractor ID |"
              " --key ID] [--json]",
     .help = "Lists which members (by id) and which fields could have been exposed between\n"
             "--since and --until (RFC 3339 UTC, both included), from the audit trail:\n"
             "every allowed read in the window; with --token, the reads of that token's\n"
             "holder; with --subcontractor, the reads under its contract; with --key, every\n"
             "member whose data key is wrapped under that master key (all their fields).\n"
             "Says whether the data was encrypted at rest and drafts the report to send\n"
             "(counts, categories, timeline; no personal value).  Markdown by default.\n"
             "Exit 2 for a bad argument, 1 for an unknown token or subcontractor.  Audited.",
     .options = assess_options},
    {0},
};

const struct cu_cli_command cu_cli_breach = {
    .name = "breach",
    .usage = "custodian [--data DIR] breach assess --since T --until T [...]",
    .help = "Assess which members and fields a breach could have exposed.",
    .sub = breach_commands,
};
