/*
 * cli/config.c — `custodian config`: the settings of DATA/custodian.conf, from
 * the one table in src/util/config.c: as text (`config`, `config --help`)
 * or as the Markdown of docs/configuration.md (`config --markdown`).
 */
#include <stdio.h>

#include "cli.h"
#include "util/config.h"

enum { OPT_MARKDOWN = 'm' };

static const struct cu_cli_option options[] = {
    {"markdown", NULL, OPT_MARKDOWN, "print docs/configuration.md (generated from the table)"},
    {0},
};

static void settings_text(FILE *f)
{
	cu_config_describe(f, CU_CONFIG_TEXT);
}

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	enum cu_config_format format = CU_CONFIG_TEXT;
	struct cu_cli_args a;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_MARKDOWN)
			return cu_cli_bad_argument(cmd, a.value);
		format = CU_CONFIG_MARKDOWN;
	}
	cu_config_describe(stdout, format);
	return 0;
}

const struct cu_cli_command cu_cli_config = {
    .name = "config",
    .run = run,
    .usage = "custodian config [--help | --markdown]",
    .help = "Lists the configuration settings of DATA/custodian.conf, each with its type,\n"
            "default, whether SIGHUP may change it, its environment variable and flag,\n"
            "and what it means.  --markdown prints the same table as\n"
            "docs/configuration.md.",
    .options = options,
    .more_help = settings_text,
};
