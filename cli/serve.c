/*
 * cli/serve.c — `custodian serve`: the HTTP API (server/), in this process.
 */
#include "cli.h"
#include "server.h"

enum { OPT_LISTEN = 'l', OPT_QUIET = 'q' };

static const struct cu_cli_option options[] = {
    {"listen", "ADDR:PORT", OPT_LISTEN, "where to listen (default: server.listen)"},
    {"quiet", NULL, OPT_QUIET, "no access log on standard output"},
    {0},
};

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *listen = NULL;
	struct cu_cli_args a;
	bool quiet = false;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_LISTEN)
			listen = a.value;
		else if (c == OPT_QUIET)
			quiet = true;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	return cu_server_run(cu_cli_data_dir, listen, quiet) == 0 ? 0 : CU_CLI_EXIT_NO;
}

const struct cu_cli_command cu_cli_serve = {
    .name = "serve",
    .run = run,
    .usage = "custodian [--data DIR] serve [--listen ADDR:PORT] [--quiet]",
    .help = "Serves the API on ADDR:PORT (default from custodian.conf, 127.0.0.1:8080).\n"
            "Writes a JSON access log line per request on standard output (not with\n"
            "--quiet).  SIGTERM or SIGINT stops after requests in flight finish; SIGHUP\n"
            "reloads the policy file.",
    .options = options,
};
