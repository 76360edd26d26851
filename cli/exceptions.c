/*
 * cli/exceptions.c — `custodian exceptions list|close`: the review queue of
 * reads made under a legal exception, and closing a review.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A review is 1..REVIEW_MAX bytes (the door refuses more too). */
#define REVIEW_MAX       2000
#define REVIEW_MAX_WORDS CU_CLI_STR(REVIEW_MAX)

enum { OPT_ALL = 'a', OPT_REVIEW = 'r' };

/* A free text on one line: tab, newline and backslash escaped. */
static void print_escaped(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\t')
			fputs("\\t", stdout);
		else if (*s == '\r')
			fputs("\\r", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

static int print_exception(void *ud, const cu_exception_view *v)
{
	char created[CU_CLI_TIME_MAX], closed[CU_CLI_TIME_MAX];

	(void)ud;
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", v->row->id, v->row->member, v->row->officer,
	       v->row->exception, v->row->purpose, v->row->fields[0] ? v->row->fields : "-",
	       cu_cli_format_time(v->row->created_us, created, sizeof(created)),
	       v->row->closed_us ? cu_cli_format_time(v->row->closed_us, closed, sizeof(closed))
	                         : "open");
	print_escaped(v->justification);
	putchar('\t');
	if (v->review)
		print_escaped(v->review);
	else
		putchar('-');
	putchar('\n');
	return 0;
}

static const struct cu_cli_option list_options[] = {
    {"all", NULL, OPT_ALL, "include the closed ones"},
    {0},
};

static int list(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	bool all = false;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_ALL)
			return cu_cli_bad_argument(cmd, a.value);
		all = true;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	printf("ID\tMEMBER\tOFFICER\tEXCEPTION\tPURPOSE\tFIELDS\tCREATED\tCLOSED\tJUSTIFICATION\tRE"
	       "VIEW\n");
	rc = cu_access_exception_list(ctx->store, ctx->vault, &cu_cli_operator, !all,
	                              print_exception, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("exceptions list failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_option close_options[] = {
    {"review", "TEXT", OPT_REVIEW,
     "the written review, 1.." REVIEW_MAX_WORDS " bytes (sealed; required)"},
    {0},
};

static int close_review(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *id = NULL, *review = NULL;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_REVIEW)
			review = a.value;
		else if (c == CU_CLI_ARG && !id)
			id = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!id || !review)
		return cu_cli_usage_error(cmd, "expected ID and --review TEXT");
	if (!*review || strlen(review) > REVIEW_MAX) {
		cu_cli_error("--review must be 1.." REVIEW_MAX_WORDS " bytes");
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_access_exception_close(ctx, &cu_cli_operator, id, review);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("no exception '%s'", id);
		return CU_CLI_EXIT_NO;
	}
	if (rc == CU_ERR_CONFLICT) {
		cu_cli_error("exception '%s' is already closed", id);
		return CU_CLI_EXIT_NO;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		cu_cli_error("--review must be 1.." REVIEW_MAX_WORDS " bytes");
		return CU_CLI_EXIT_USAGE;
	}
	if (rc) {
		cu_cli_error("exceptions close failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("closed the review of exception %s\n", id);
	return 0;
}

static const struct cu_cli_command exceptions_commands[] = {
    {.name = "list",
     .run = list,
     .usage = "custodian exceptions list [--all]",
     .help = "The review queue of legal exceptions: each read made under an exception,\n"
             "oldest first, tab-separated: id, member, officer, exception, purpose, the\n"
             "fields it opened (comma-separated; - when not kept), created, closed (or\n"
             "open), the justification and the review (or -); tabs,\n"
             "newlines and backslashes in the texts are escaped.  --all includes the\n"
             "closed ones.",
     .options = list_options},
    {.name = "close",
     .run = close_review,
     .usage = "custodian exceptions close ID --review TEXT",
     .help = "Closes the review of exception ID with a written review (1..2000 bytes,\n"
             "sealed).  Exit 1 when there is none or it is already closed.  Audited.",
     .options = close_options},
    {0},
};

const struct cu_cli_command cu_cli_exceptions = {
    .name = "exceptions",
    .usage = "custodian [--data DIR] exceptions (list|close) ...",
    .help = "The review queue of reads made under a legal exception.",
    .sub = exceptions_commands,
};
