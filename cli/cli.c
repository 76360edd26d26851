/*
 * cli/cli.c — what the command line's files share (cli.h): running a command and
 * its --help, the argument iterator over getopt_long, messages, opening the
 * data directory and small printing helpers.
 */
#include "cli.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util/json_wipe.h"
#include "vault/vault.h"

/* The width of the progress bar, in characters. */
#define PROGRESS_WIDTH 40
/* The option column of --help: "  --name ARG" padded to this. */
#define HELP_OPTION_COLUMN 22
/* How a usage line that names the global option begins. */
#define USAGE_GLOBAL "custodian [--data DIR] "
/* Room for "--name ARG" (a longer one is cut). */
#define HELP_OPTION_MAX 80

const char *cu_cli_data_dir;
const cu_actor cu_cli_operator = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

/* ---- messages ------------------------------------------------------------ */

static void verror(const char *fmt, va_list ap)
{
	fputs("custodian: ", stderr);
	vfprintf(stderr, fmt, ap);
}

void cu_cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cu_cli_usage_error(const struct cu_cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(fmt, ap);
	va_end(ap);
	/* The global option is the same for every command: the one line names the command's own. */
	if (!strncmp(cmd->usage, USAGE_GLOBAL, strlen(USAGE_GLOBAL)))
		fprintf(stderr, " (usage: custodian %s)\n", cmd->usage + strlen(USAGE_GLOBAL));
	else
		fprintf(stderr, " (usage: %s)\n", cmd->usage);
	return CU_CLI_EXIT_USAGE;
}

int cu_cli_bad_argument(const struct cu_cli_command *cmd, const char *arg)
{
	return cu_cli_usage_error(cmd, "unexpected argument '%s'", arg);
}

int cu_cli_only_flag(const struct cu_cli_command *cmd, int argc, char **argv, int flag, bool *set)
{
	struct cu_cli_args a;
	int c;

	*set = false;
	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != flag)
			return cu_cli_bad_argument(cmd, a.value);
		*set = true;
	}
	return 0;
}

void cu_cli_errors_words(const cu_errors *errs, const char *prefix, char *line, size_t len)
{
	size_t o = 0;

	line[0] = '\0';
	for (size_t i = 0; i < errs->n && o < len; i++)
		o += (size_t)snprintf(line + o, len - o, "%s%s%s %s", i ? ", " : "", prefix,
		                      errs->e[i].field, errs->e[i].reason);
	if (!line[0])
		snprintf(line, len, "invalid input");
}

/* ---- running and help ------------------------------------------------------ */

static bool is_help(const char *arg)
{
	return !strcmp(arg, "--help") || !strcmp(arg, "-h");
}

static bool want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return false;
		if (is_help(argv[i]))
			return true;
	}
	return false;
}

static void print_usages(FILE *f, const struct cu_cli_command *cmds)
{
	fprintf(f, "usage:\n");
	for (const struct cu_cli_command *c = cmds; c->name; c++)
		fprintf(f, "  %s\n", c->usage);
}

void cu_cli_print_help(FILE *f, const struct cu_cli_command *cmd)
{
	fprintf(f, "usage: %s\n\n%s\n", cmd->usage, cmd->help);
	if (cmd->options && cmd->options->name) {
		fprintf(f, "\noptions:\n");
		for (const struct cu_cli_option *o = cmd->options; o->name; o++) {
			char left[HELP_OPTION_MAX];
			int n = snprintf(left, sizeof(left), "--%s%s%s", o->name, o->arg ? " " : "",
			                 o->arg ? o->arg : "");

			if (n < 0 || (size_t)n >= HELP_OPTION_COLUMN)
				fprintf(f, "  %s\n  %-*s  %s\n", left, HELP_OPTION_COLUMN, "",
				        o->help);
			else
				fprintf(f, "  %-*s  %s\n", HELP_OPTION_COLUMN, left, o->help);
		}
	}
	if (cmd->more_help) {
		fputc('\n', f);
		cmd->more_help(f);
	}
}

static int run_group(const struct cu_cli_command *group, int argc, char **argv)
{
	if (argc < 2 || is_help(argv[1])) {
		FILE *f = argc < 2 ? stderr : stdout;

		if (argc < 2)
			cu_cli_error("'%s' needs a subcommand", group->name);
		print_usages(f, group->sub);
		return argc < 2 ? CU_CLI_EXIT_USAGE : 0;
	}
	for (const struct cu_cli_command *c = group->sub; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return cu_cli_run(c, argc - 1, argv + 1);
	cu_cli_error("unknown %s command '%s'", group->name, argv[1]);
	return CU_CLI_EXIT_USAGE;
}

int cu_cli_run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	/* "token create --help" is create's help: a group hands on first. */
	if (cmd->sub && argc > 1 && argv[1][0] != '-')
		return run_group(cmd, argc, argv);
	if (want_help(argc, argv)) {
		cu_cli_print_help(stdout, cmd);
		return 0;
	}
	/* A group with a run of its own ("backup [--to F]") runs it when no subcommand is named. */
	if (cmd->sub && !cmd->run)
		return run_group(cmd, argc, argv);
	return cmd->run(cmd, argc, argv);
}

/* ---- arguments ---------------------------------------------------------------- */

void cu_cli_args_init(struct cu_cli_args *a, const struct cu_cli_command *cmd, int argc,
                      char **argv)
{
	size_t n = 0;

	memset(a, 0, sizeof(*a));
	a->argc = argc;
	a->argv = argv;
	a->i = 1;
	for (const struct cu_cli_option *o = cmd->options; o && o->name; o++) {
		/* A bug in a table, not an input: the table is fixed at build time. */
		if (n == CU_CLI_OPTIONS_MAX)
			abort();
		a->longopts[n].name = o->name;
		a->longopts[n].has_arg = o->arg ? required_argument : no_argument;
		a->longopts[n].flag = NULL;
		a->longopts[n].val = o->id;
		n++;
	}
}

/* Whether name is one of the command's options, whole (not a prefix, no "=value"). */
static bool whole_option(const struct cu_cli_args *a, const char *name)
{
	for (const struct option *o = a->longopts; o->name; o++)
		if (!strcmp(o->name, name))
			return true;
	return false;
}

int cu_cli_args_next(struct cu_cli_args *a)
{
	const char *arg;
	int c;

	if (a->i >= a->argc)
		return CU_CLI_END;
	arg = a->argv[a->i];
	if (!a->rest && !strcmp(arg, "--")) {
		a->rest = true;
		if (++a->i >= a->argc)
			return CU_CLI_END;
		arg = a->argv[a->i];
	}
	if (a->rest || strncmp(arg, "--", 2)) {
		a->value = arg;
		a->i++;
		return CU_CLI_ARG;
	}
	/*
	 * Only an option's whole name is an option: no abbreviations (a prefix
	 * that works today would break when an option is added) and no
	 * "--name=value".  Any other word starting with "--" is an id when it
	 * has an id's form (ids are random base64url: one in 4096 starts with
	 * "--"), and a usage error otherwise.
	 */
	if (!whole_option(a, arg + 2)) {
		a->value = arg;
		a->i++;
		return cu_vault_id_well_formed(arg) ? CU_CLI_ARG : CU_CLI_BAD;
	}
	/*
	 * getopt_long sees this option and what follows it, from a fresh start
	 * each time ("+": no permuting; ":": a missing value is told apart), so
	 * positional arguments stay ours and may look like short options.
	 */
	opterr = 0;
	optind = 1;
	c = getopt_long(a->argc - a->i + 1, a->argv + a->i - 1, "+:", a->longopts, NULL);
	if (c == -1 || c == '?' || c == ':' || optind <= 1) {
		a->value = arg;
		a->i++;
		return CU_CLI_BAD;
	}
	a->i += optind - 1;
	a->value = optarg;
	return c;
}

/* ---- shared helpers ------------------------------------------------------------- */

static void warn_line(const char *line)
{
	cu_cli_error("%s", line);
}

cu_ctx *cu_cli_open(void)
{
	char err[CU_CLI_ERR_MAX] = "";
	cu_ctx *ctx = NULL;
	cu_result rc = cu_ctx_open(cu_cli_data_dir, &ctx, err, sizeof(err));

	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return NULL;
	}
	ctx->audit_checkpoint_at_close = true;
	ctx->warn = warn_line;
	return ctx;
}

const char *cu_cli_format_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / CU_CLI_US_PER_S);
	struct tm tm;

	if (us == 0)
		return "never";
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)us);
	return buf;
}

int cu_cli_print_json_wiped(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int status = text ? 0 : CU_CLI_EXIT_NO;

	if (text) {
		puts(text);
		sodium_memzero(text, strlen(text));
		free(text);
	} else {
		cu_cli_error("out of memory");
	}
	cu_json_wipe(j);
	json_decref(j);
	return status;
}

int cu_cli_split_list(const char *arg, char **buf, const char **out)
{
	int n = 0;
	char *p;

	*buf = strdup(arg);
	if (!*buf)
		return -1;
	for (p = *buf; *p;) {
		size_t k = strcspn(p, ",");

		if (n == CU_CLI_LIST_MAX)
			return -1;
		out[n++] = p;
		p += k;
		if (*p == ',')
			*p++ = '\0';
	}
	return n;
}

void cu_cli_progress_clear(void)
{
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
}

void cu_cli_progress(void *ud, uint64_t done, uint64_t total)
{
	static const char bar[PROGRESS_WIDTH + 1] = "########################################";
	const char *what = ud;
	int pct, fill;

	if (!isatty(STDERR_FILENO) || total == 0)
		return;
	pct = (int)(done * 100 / total);
	fill = pct * PROGRESS_WIDTH / 100;
	fprintf(stderr, "\r%s [%.*s%*s] %3d%%", what, fill, bar, PROGRESS_WIDTH - fill, "", pct);
	fflush(stderr);
}
