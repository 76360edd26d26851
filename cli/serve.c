/*
 * cli/serve.c — `custodian serve`: the HTTP API (server/), in this process.
 *
 * Every setting of the table (util/config.h) may be given here as a flag,
 * --SECTION.KEY VALUE, over the environment and the file; --listen is
 * --server.listen.  The whole configuration is checked before the server
 * starts: a refused value is one line naming its source, exit 2.
 */
#include <string.h>

#include "cli.h"
#include "server.h"
#include "util/config.h"

enum { OPT_LISTEN = 'l', OPT_QUIET = 'q' };

static const struct cu_cli_option options[] = {
    {"listen", "ADDR:PORT", OPT_LISTEN, "where to listen: the same as --server.listen"},
    {"quiet", NULL, OPT_QUIET, "no access log on standard output"},
    {0},
};

/* `serve --help`, after the options: the flags every setting gives. */
static void settings_flags(FILE *f)
{
	fputs("Any setting of `custodian config --help` is also a flag, --SECTION.KEY VALUE\n"
	      "(--server.threads 8), and an environment variable, CUSTODIAN_SECTION_KEY\n"
	      "(CUSTODIAN_SERVER_THREADS=8).  A flag wins over the environment, which wins\n"
	      "over custodian.conf, which wins over the default.  A refused value from any of\n"
	      "them is one line naming where it came from, and exit 2.\n",
	      f);
}

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char path[CU_CLI_PATH_MAX], err[CU_CLI_ERR_MAX] = "";
	cu_config_flags flags = {0};
	cu_config config;
	struct cu_cli_args a;
	bool quiet = false;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_LISTEN) {
			if (cu_config_flags_add(&flags, "server.listen", a.value))
				return cu_cli_usage_error(cmd, "too many settings given as flags");
		} else if (c == OPT_QUIET) {
			quiet = true;
		} else if (c == CU_CLI_BAD && !strncmp(a.value, "--", 2) &&
		           cu_config_is_setting(a.value + 2)) {
			/* --SECTION.KEY VALUE: the table's setting; the value is the next argument. */
			const char *key = a.value + 2;

			if (a.i >= a.argc)
				return cu_cli_usage_error(cmd, "option '%s' needs a value",
				                          a.value);
			if (cu_config_flags_add(&flags, key, a.argv[a.i++]))
				return cu_cli_usage_error(cmd, "too many settings given as flags");
		} else {
			return cu_cli_bad_argument(cmd, a.value);
		}
	}
	/* The whole configuration, checked before anything opens. */
	snprintf(path, sizeof(path), "%s/custodian.conf", cu_cli_data_dir);
	if (cu_config_resolve(path, &flags, &config, err, sizeof(err))) {
		cu_cli_error("%s", err);
		return CU_CLI_EXIT_USAGE;
	}
	return cu_server_run(cu_cli_data_dir, &flags, quiet) == 0 ? 0 : CU_CLI_EXIT_NO;
}

const struct cu_cli_command cu_cli_serve = {
    .name = "serve",
    .run = run,
    .usage =
        "custodian [--data DIR] serve [--listen ADDR:PORT] [--quiet] [--SECTION.KEY VALUE ...]",
    .help = "Serves the API on ADDR:PORT (default from custodian.conf, 127.0.0.1:8080).\n"
            "Writes a JSON access log line per request on standard output (not with\n"
            "--quiet).  SIGTERM or SIGINT stops after requests in flight finish; SIGHUP\n"
            "re-reads custodian.conf (the reloadable settings) and the policy file.  Under\n"
            "systemd (Type=notify) it says READY=1 once it serves, RELOADING=1 and READY=1\n"
            "around a reload, STOPPING=1, and pings the watchdog when WatchdogSec= is set.",
    .options = options,
    .more_help = settings_flags,
};
