/*
 * cli/third_parties.c — whom members' data may go to: `custodian third-party
 * add|list` (provision to third parties), `subcontractor add|list`
 * (subcontractors and their contracts) and `provisions purge` (records of
 * provisions past the three years they are kept).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "util/date.h"

enum {
	OPT_ID = 'i',
	OPT_NAME = 'n',
	OPT_CONTACT = 'c',
	OPT_PURPOSE = 'p',
	OPT_FIELDS = 'f',
	OPT_PURPOSES = 'P',
	OPT_MEASURE = 'm',
	OPT_START = 's',
	OPT_END = 'e',
	OPT_BEFORE = 'b',
};

/* One line naming each bad input of a registration. */
static void field_errors(const char *what, const cu_errors *errs)
{
	char line[CU_CLI_WORDS_MAX];

	cu_cli_errors_words(errs, "--", line, sizeof(line));
	cu_cli_error("%s refused: %s", what, line);
}

/* ---- third-party -------------------------------------------------------------- */

static const struct cu_cli_option third_party_add_options[] = {
    {"id", "ID", OPT_ID, "a-z, 0-9, _ and -, at most 40: what members consent to"},
    {"name", "N", OPT_NAME, "the third party's name"},
    {"contact", "C", OPT_CONTACT, "how to reach it"},
    {"purpose", "TEXT", OPT_PURPOSE, "the purpose of provision shown to members"},
    {"fields", "F1,F2", OPT_FIELDS, "the policy fields that may be provided to it"},
    {0},
};

static int third_party_add(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *fields_arg = NULL, *fields[CU_CLI_LIST_MAX];
	cu_third_party_input in = {0};
	struct cu_cli_args a;
	char *buf = NULL;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int n, c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_ID)
			in.id = a.value;
		else if (c == OPT_NAME)
			in.name = a.value;
		else if (c == OPT_CONTACT)
			in.contact = a.value;
		else if (c == OPT_PURPOSE)
			in.purpose = a.value;
		else if (c == OPT_FIELDS)
			fields_arg = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!in.id || !in.name || !in.contact || !in.purpose || !fields_arg)
		return cu_cli_usage_error(cmd, "expected --id, --name, --contact, --purpose and "
		                               "--fields");
	n = cu_cli_split_list(fields_arg, &buf, fields);
	if (n < 0) {
		free(buf);
		cu_cli_error("too many --fields");
		return CU_CLI_EXIT_USAGE;
	}
	in.fields = fields;
	in.nfields = (size_t)n;
	ctx = cu_cli_open();
	if (!ctx) {
		free(buf);
		return CU_CLI_EXIT_NO;
	}
	cu_errors_init(&errs);
	rc = cu_third_party_register(ctx, &cu_cli_operator, &in, NULL, &errs);
	cu_ctx_close(ctx);
	free(buf);
	if (rc == CU_ERR_INVALID_FIELD) {
		field_errors("third party", &errs);
		return CU_CLI_EXIT_USAGE;
	}
	if (rc) {
		cu_cli_error("third-party add failed: %s", rc == CU_ERR_CONFLICT
		                                               ? "a third party with this id exists"
		                                               : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("registered third party %s\n", in.id);
	return 0;
}

static int print_third_party(void *ud, const cu_third_party_row *row)
{
	char when[CU_CLI_TIME_MAX];

	(void)ud;
	printf("%s\t%s\t%s\t%s\n", row->id, row->name, row->fields_text,
	       cu_cli_format_time(row->created_us, when, sizeof(when)));
	return 0;
}

static int third_party_list(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	if (cu_cli_args_next(&a) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("ID\tNAME\tFIELDS\tREGISTERED\n");
	rc = cu_third_party_list(ctx->store, print_third_party, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("third-party list failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_command third_party_commands[] = {
    {.name = "add",
     .run = third_party_add,
     .usage = "custodian third-party add --id ID --name N --contact C --purpose TEXT "
              "--fields F1,F2",
     .help = "Registers a third party members' data may be provided to: ID (a-z, 0-9, _ and\n"
             "-, at most 40; what members consent to), its name, contact, the purpose of\n"
             "provision shown to members, and the policy fields that may be provided to\n"
             "it.  Exit 2 naming each bad input.  Audited.",
     .options = third_party_add_options},
    {.name = "list",
     .run = third_party_list,
     .usage = "custodian third-party list",
     .help = "Lists the registered third parties, tab-separated: id, name, fields,\n"
             "registered."},
    {0},
};

const struct cu_cli_command cu_cli_third_party = {
    .name = "third-party",
    .usage = "custodian [--data DIR] third-party (add|list) ...",
    .help = "Register or list the third parties data may be provided to.",
    .sub = third_party_commands,
};

/* ---- subcontractor ------------------------------------------------------------- */

static const struct cu_cli_option subcontractor_add_options[] = {
    {"id", "ID", OPT_ID, "a-z, 0-9, _ and -: the contract tokens are bound to"},
    {"name", "N", OPT_NAME, "the subcontractor's name"},
    {"contact", "C", OPT_CONTACT, "how to reach it"},
    {"fields", "F1,F2", OPT_FIELDS, "the policy fields in the contract's scope"},
    {"purposes", "P1,P2", OPT_PURPOSES, "the purposes in the contract's scope"},
    {"measure", "TEXT", OPT_MEASURE, "a safety measure required (one each, 1..32)"},
    {"start", "YYYY-MM-DD", OPT_START, "in force from 00:00 UTC on this date"},
    {"end", "YYYY-MM-DD", OPT_END, "in force through the whole of this date"},
    {0},
};

static int subcontractor_add(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *fields_arg = NULL, *purposes_arg = NULL, *fields[CU_CLI_LIST_MAX],
	           *purposes[CU_CLI_LIST_MAX], *measures[CU_SUBCONTRACTOR_MEASURES_N];
	cu_subcontractor_input in = {0};
	char *fbuf = NULL, *pbuf = NULL;
	int nf = 0, np = 0, status = 0, c;
	struct cu_cli_args a;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_ID)
			in.id = a.value;
		else if (c == OPT_NAME)
			in.name = a.value;
		else if (c == OPT_CONTACT)
			in.contact = a.value;
		else if (c == OPT_FIELDS)
			fields_arg = a.value;
		else if (c == OPT_PURPOSES)
			purposes_arg = a.value;
		else if (c == OPT_MEASURE && in.nmeasures < CU_SUBCONTRACTOR_MEASURES_N)
			measures[in.nmeasures++] = a.value;
		else if (c == OPT_START)
			in.start = a.value;
		else if (c == OPT_END)
			in.end = a.value;
		else
			return cu_cli_bad_argument(cmd, c == OPT_MEASURE ? "--measure" : a.value);
	}
	if (!in.id || !in.name || !in.contact || !fields_arg || !purposes_arg || !in.start ||
	    !in.end || !in.nmeasures)
		return cu_cli_usage_error(cmd, "expected --id, --name, --contact, --fields, "
		                               "--purposes, --measure, --start and --end");
	nf = cu_cli_split_list(fields_arg, &fbuf, fields);
	np = cu_cli_split_list(purposes_arg, &pbuf, purposes);
	if (nf < 0 || np < 0) {
		cu_cli_error("too many --fields or --purposes");
		status = CU_CLI_EXIT_USAGE;
		goto out;
	}
	in.fields = fields;
	in.nfields = (size_t)nf;
	in.purposes = purposes;
	in.npurposes = (size_t)np;
	in.measures = measures;
	ctx = cu_cli_open();
	if (!ctx) {
		status = CU_CLI_EXIT_NO;
		goto out;
	}
	cu_errors_init(&errs);
	rc = cu_subcontractor_register(ctx, &cu_cli_operator, &in, NULL, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		field_errors("subcontractor", &errs);
		status = CU_CLI_EXIT_USAGE;
	} else if (rc) {
		cu_cli_error("subcontractor add failed: %s",
		             rc == CU_ERR_CONFLICT ? "a subcontractor with this id exists"
		                                   : cu_strerror(rc));
		status = CU_CLI_EXIT_NO;
	} else {
		printf("registered subcontractor %s: in force %s through %s\n", in.id, in.start,
		       in.end);
	}
out:
	free(fbuf);
	free(pbuf);
	return status;
}

static int print_subcontractor(void *ud, const cu_subcontractor_row *row)
{
	const int64_t *now = ud;
	char start[CU_DATE_LEN + 1], end[CU_DATE_LEN + 1];

	cu_date_format(row->start_us, start);
	cu_date_format(row->end_us - CU_DAY_US, end);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row->id, row->name, start, end,
	       cu_subcontract_in_force(row, *now) ? "in force" : "not in force", row->purposes_text,
	       row->fields_text);
	return 0;
}

static int subcontractor_list(const struct cu_cli_command *cmd, int argc, char **argv)
{
	int64_t now = cu_now_us();
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	if (cu_cli_args_next(&a) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("ID\tNAME\tSTART\tEND\tSTATUS\tPURPOSES\tFIELDS\n");
	rc = cu_subcontractor_list(ctx->store, print_subcontractor, &now);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("subcontractor list failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_command subcontractor_commands[] = {
    {.name = "add",
     .run = subcontractor_add,
     .usage = "custodian subcontractor add --id ID --name N --contact C --fields F1,F2 "
              "--purposes P1,P2 --measure TEXT [--measure TEXT ...] --start YYYY-MM-DD "
              "--end YYYY-MM-DD",
     .help = "Registers a subcontractor with its contract: the policy fields and purposes\n"
             "in scope, the safety measures required (one --measure each, 1..32) and the\n"
             "term, in force from 00:00 UTC on --start through the whole of --end.  Bind\n"
             "tokens to it with 'token create --role subcontractor --contract ID'.  Audited.",
     .options = subcontractor_add_options},
    {.name = "list",
     .run = subcontractor_list,
     .usage = "custodian subcontractor list",
     .help = "Lists subcontractors, tab-separated: id, name, start, end, status (in force\n"
             "or not in force), purposes, fields."},
    {0},
};

const struct cu_cli_command cu_cli_subcontractor = {
    .name = "subcontractor",
    .usage = "custodian [--data DIR] subcontractor (add|list) ...",
    .help = "Register or list subcontractors and their contracts.",
    .sub = subcontractor_commands,
};

/* ---- provisions ----------------------------------------------------------------- */

static const struct cu_cli_option purge_options[] = {
    {"before", "YYYY-MM-DD", OPT_BEFORE, "delete records made before this date (required)"},
    {0},
};

static int provisions_purge(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *before_arg = NULL;
	struct cu_cli_args a;
	int64_t before;
	uint64_t n = 0;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_BEFORE)
			return cu_cli_bad_argument(cmd, a.value);
		before_arg = a.value;
	}
	if (!before_arg)
		return cu_cli_usage_error(cmd, "expected --before YYYY-MM-DD");
	if (cu_date_parse(before_arg, &before)) {
		cu_cli_error("malformed --before '%s': expected YYYY-MM-DD", before_arg);
		return CU_CLI_EXIT_USAGE;
	}
	/* Records of provision are kept three years: a younger cut-off is refused here too. */
	if (before > cu_now_us() - CU_PROVISION_KEEP_US) {
		cu_cli_error(
		    "--before %s is within the last three years: records of provisions are "
		    "kept at least three years",
		    before_arg);
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_provision_purge(ctx, &cu_cli_operator, before, &n);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("provisions purge failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("deleted %llu records of provisions made before %s\n", (unsigned long long)n,
	       before_arg);
	return 0;
}

static const struct cu_cli_command provisions_commands[] = {
    {.name = "purge",
     .run = provisions_purge,
     .usage = "custodian provisions purge --before YYYY-MM-DD",
     .help = "Deletes the records of provisions to third parties made before the date.\n"
             "Records are kept at least three years: a date within the last three years\n"
             "is refused (exit 2).  Prints how many were deleted.  Audited.",
     .options = purge_options},
    {0},
};

const struct cu_cli_command cu_cli_provisions = {
    .name = "provisions",
    .usage = "custodian [--data DIR] provisions purge --before DATE",
    .help = "Delete records of provisions older than three years.",
    .sub = provisions_commands,
};
