/*
 * cli/main.c — custodian, the operator's command line: the global options
 * (--data DIR, --help, --version), the table of commands and the usage.
 * Each command lives in its group's file (cli.h says how they are made).
 *
 * Exit status: 0 success; 1 a negative answer (not found, rejected rows,
 * broken chain) or a failure; 2 a usage error.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vault/vault.h"

/* The commands in the order the usage (and custodian(1)) lists them. */
const struct cu_cli_command *const cu_cli_commands[] = {
    &cu_cli_init,        &cu_cli_import,        &cu_cli_member,     &cu_cli_token,
    &cu_cli_third_party, &cu_cli_subcontractor, &cu_cli_provisions, &cu_cli_requests,
    &cu_cli_complaints,  &cu_cli_exceptions,    &cu_cli_consent,    &cu_cli_audit,
    &cu_cli_notify,      &cu_cli_policy,        &cu_cli_receipt,    &cu_cli_serve,
    &cu_cli_config,      &cu_cli_help,          &cu_cli_keys,       &cu_cli_records,
    &cu_cli_breach,      &cu_cli_retention,     &cu_cli_backup,     &cu_cli_restore,
    &cu_cli_beacon,      &cu_cli_stats,
};

#define NCOMMANDS (sizeof(cu_cli_commands) / sizeof(cu_cli_commands[0]))
const size_t cu_cli_ncommands = NCOMMANDS;

/* The groups whose subcommands the usage lists one by one. */
static const struct cu_cli_command *const spelled_out[] = {&cu_cli_member, &cu_cli_token};

void cu_cli_usage(FILE *f)
{
	fprintf(f, "usage: custodian [--data DIR] <command> [args]\n\n"
	           "DIR defaults to $CUSTODIAN_DATA, else ./var.  Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", cu_cli_commands[i]->usage);
	for (size_t i = 0; i < sizeof(spelled_out) / sizeof(spelled_out[0]); i++)
		for (const struct cu_cli_command *c = spelled_out[i]->sub; c->name; c++)
			fprintf(f, "  %s\n", c->usage);
	fprintf(f, "\n'custodian <command> --help' describes one command.\n");
}

enum { OPT_DATA = 'd', OPT_HELP = 'h', OPT_VERSION = 'V' };

static const struct option global_options[] = {
    {"data", required_argument, NULL, OPT_DATA},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

int main(int argc, char **argv)
{
	int c, at = 1;

	cu_cli_data_dir = getenv("CUSTODIAN_DATA");
	if (!cu_cli_data_dir || !*cu_cli_data_dir)
		cu_cli_data_dir = "var";
	/* "+": the global options come before the command; what follows is the command's. */
	opterr = 0;
	while ((at = optind, c = getopt_long(argc, argv, "+:h", global_options, NULL)) != -1) {
		switch (c) {
		case OPT_DATA:
			cu_cli_data_dir = optarg;
			break;
		case OPT_HELP:
			cu_cli_usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("custodian " CU_CLI_VERSION "\n");
			return 0;
		default:
			cu_cli_error("unknown option '%s'", argv[at]);
			return CU_CLI_EXIT_USAGE;
		}
	}
	if (!*cu_cli_data_dir) {
		cu_cli_error("--data needs a directory");
		return CU_CLI_EXIT_USAGE;
	}
	if (optind >= argc) {
		cu_cli_usage(stderr);
		return CU_CLI_EXIT_USAGE;
	}
	if (cu_vault_global_init() != CU_OK) {
		cu_cli_error("cannot initialise libsodium");
		return CU_CLI_EXIT_NO;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(cu_cli_commands[i]->name, argv[optind]))
			return cu_cli_run(cu_cli_commands[i], argc - optind, argv + optind);
	cu_cli_error("unknown custodian command '%s'", argv[optind]);
	return CU_CLI_EXIT_USAGE;
}
