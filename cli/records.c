/*
 * cli/records.c — `custodian records [--json]`: the record of processing,
 * generated from the policy in force and the registries (domain/records.h,
 * docs/records.md).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "domain/records.h"

enum { OPT_JSON = 'j' };

static const struct cu_cli_option records_options[] = {
    {"json", NULL, OPT_JSON, "the record as JSON instead of Markdown"},
    {0},
};

static int records(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	bool as_json = false;
	json_t *rec = NULL;
	char *md = NULL;
	size_t len = 0;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_JSON)
			return cu_cli_bad_argument(cmd, a.value);
		as_json = true;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* Generating the record reads only: no entry, no checkpoint. */
	ctx->audit_checkpoint_at_close = false;
	rc = cu_records_build(ctx, &rec);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("records failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (as_json)
		return cu_cli_print_json_wiped(rec);
	rc = cu_records_markdown(rec, &md, &len);
	json_decref(rec);
	if (rc) {
		cu_cli_error("records failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	fwrite(md, 1, len, stdout);
	free(md);
	return 0;
}

const struct cu_cli_command cu_cli_records = {
    .name = "records",
    .run = records,
    .usage = "custodian [--data DIR] records [--json]",
    .help = "Prints the record of processing, from the policy in force and the registries:\n"
            "purposes (the roles that may use each, the fields each grants), fields and\n"
            "their categories, roles, third parties and what is provided to them,\n"
            "subcontractors and what they process, retention, and the safety measures\n"
            "Custodian applies.  Markdown by default; --json for the same record as JSON.\n"
            "The same data directory gives the same output.  Reads only.",
    .options = records_options,
};
