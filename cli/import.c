/*
 * cli/import.c — `custodian import FILE`: members from CSV or JSON Lines, each
 * refused row reported by line and field (never a value).
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "domain/import.h"

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	(void)ud;
	cu_cli_progress_clear();
	fprintf(stderr, "line %llu: rejected:", (unsigned long long)line);
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s %s: %s", i ? "," : "", errs->e[i].field, errs->e[i].reason);
	if (errs->n == 0)
		fprintf(stderr, " %s", cu_result_code(rc));
	if (errs->dropped)
		fprintf(stderr, " (and %zu more)", errs->dropped);
	fputc('\n', stderr);
}

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "";
	const char *file = NULL;
	cu_import_report report;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != CU_CLI_ARG || file || a.value[0] == '-') {
			cu_cli_error("expected one FILE (usage: custodian import FILE)");
			return CU_CLI_EXIT_USAGE;
		}
		file = a.value;
	}
	if (!file) {
		cu_cli_error("expected one FILE (usage: custodian import FILE)");
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_import_file(ctx, &cu_cli_operator, file, &report, on_reject, cu_cli_progress,
	                    (void *)"importing", err, sizeof(err));
	cu_cli_progress_clear();
	cu_ctx_close(ctx);
	printf("imported %llu, rejected %llu\n", (unsigned long long)report.imported,
	       (unsigned long long)report.rejected);
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return report.rejected ? CU_CLI_EXIT_NO : 0;
}

const struct cu_cli_command cu_cli_import = {
    .name = "import",
    .run = run,
    .usage = "custodian [--data DIR] import FILE",
    .help = "Registers members from a CSV file with a header row naming policy fields,\n"
            "or JSON Lines when FILE ends in .jsonl.  Invalid rows are refused whole and\n"
            "reported by line and field; prints 'imported N, rejected M'; exit 0 only\n"
            "when M is 0.",
};
