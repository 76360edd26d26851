/*
 * cli/cli.h — what the files of the command line share.
 *
 * The command line is thin: parse arguments, call the domain, print.  It is
 * made of one file per command group (cli/<group>.c), each exporting its
 * command: a struct cu_cli_command naming the command, its usage line, its
 * help, its option table and either a run function or a table of
 * subcommands.  cli/main.c holds the global options (--data), the table of
 * commands and the usage; cu_cli_run() dispatches and answers --help.
 *
 * Rules every command keeps:
 *   1. Options are parsed with getopt_long from the command's option table
 *      (cu_cli_args_next); the same table prints the command's --help.
 *   2. Errors are one line on stderr, "custodian: " then the problem,
 *      lowercase, problem first (cu_cli_error); never a personal value.
 *   3. Exit status: 0 success; CU_CLI_EXIT_NO (1) a negative answer (not
 *      found, rejected rows, broken chain) or a failure; CU_CLI_EXIT_USAGE
 *      (2) a usage error.
 *   4. The front end calls the domain (src/domain/) and lower, never the
 *      store: no "store/..." header is included here.
 */
#ifndef CUSTODIAN_CLI_H
#define CUSTODIAN_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "access/access.h"
#include "ctx/ctx.h"

#define CU_CLI_VERSION "0.1.0"

#define CU_CLI_EXIT_NO    1
#define CU_CLI_EXIT_USAGE 2

/* Room for an error message the library writes (cu_ctx_open, policy, import...). */
#define CU_CLI_ERR_MAX 512
/* Room for a time as cu_cli_format_time writes it ("2026-04-01T09:30:00Z"). */
#define CU_CLI_TIME_MAX 40
/* Room for one line of field errors ("field reason, field reason"). */
#define CU_CLI_WORDS_MAX 512
/* Most names in one comma-separated argument (--fields F1,F2) or repeated option (--change). */
#define CU_CLI_LIST_MAX 64
/* Most options one command declares. */
#define CU_CLI_OPTIONS_MAX 16
/* Room for a path the command line builds (the audit checkpoint file). */
#define CU_CLI_PATH_MAX 4096
/* Microseconds in a second: the store's times are microseconds since the epoch. */
#define CU_CLI_US_PER_S 1000000

/* A number as the string of its digits, for help texts built at compile time. */
#define CU_CLI_STR(x)  CU_CLI_STR_(x)
#define CU_CLI_STR_(x) #x

/*
 * One option of a command.  A table of them ends with a zeroed entry.
 * The option is "--name" followed by a value when arg is set ("--role R"),
 * a flag otherwise.  id is what cu_cli_args_next returns for it: a
 * positive number other than '?' and ':' (a letter reads well).
 */
struct cu_cli_option {
	const char *name;
	const char *arg;
	int id;
	const char *help;
};

struct cu_cli_command;
typedef int (*cu_cli_run_fn)(const struct cu_cli_command *cmd, int argc, char **argv);

/*
 * A command, or a group of commands.  A group has sub (its subcommands,
 * ending with a zeroed entry) and no run; "member show --help" is show's
 * help, "member --help" the group's.  run is called with argv[0] the
 * command's name and everything after it; it returns the exit status.
 */
struct cu_cli_command {
	const char *name;
	cu_cli_run_fn run;
	const char *usage; /* "custodian token create --role R --name N ..." */
	const char *help;  /* what it does, lines of at most 80 columns */
	const struct cu_cli_option *options;
	const struct cu_cli_command *sub;
	const void *data;           /* what a shared run function needs to tell commands apart */
	void (*more_help)(FILE *f); /* printed after the options by --help (config's table) */
};

/* The commands, one per group file. */
extern const struct cu_cli_command cu_cli_init, cu_cli_import, cu_cli_member, cu_cli_token,
    cu_cli_third_party, cu_cli_subcontractor, cu_cli_provisions, cu_cli_requests, cu_cli_complaints,
    cu_cli_exceptions, cu_cli_consent, cu_cli_audit, cu_cli_notify, cu_cli_policy, cu_cli_receipt,
    cu_cli_serve, cu_cli_config, cu_cli_help, cu_cli_keys, cu_cli_records, cu_cli_breach,
    cu_cli_retention, cu_cli_backup, cu_cli_restore, cu_cli_beacon, cu_cli_stats;
/* Every command, in the order the usage lists them (cli/main.c); help.c walks them. */
extern const struct cu_cli_command *const cu_cli_commands[];
extern const size_t cu_cli_ncommands;
/* The usage of every command (`custodian --help`, `custodian help`). */
void cu_cli_usage(FILE *f);

/* The data directory (--data, $CUSTODIAN_DATA or "var"); set by main. */
extern const char *cu_cli_data_dir;
/* Whoever runs the command line acts as the operator. */
extern const cu_actor cu_cli_operator;

/* ---- running and help --------------------------------------------------- */

/*
 * Runs cmd with argv[0] its name: a group hands on to its subcommand, --help
 * (or -h) anywhere before "--" prints the command's help on stdout (exit 0).
 */
int cu_cli_run(const struct cu_cli_command *cmd, int argc, char **argv);
/* Prints "usage: ...", the help and the options table of cmd. */
void cu_cli_print_help(FILE *f, const struct cu_cli_command *cmd);

/* ---- arguments ------------------------------------------------------------ */

/* What cu_cli_args_next returns besides an option's id. */
enum {
	CU_CLI_END = -1, /* no more arguments */
	CU_CLI_ARG = -2, /* a positional argument, in value */
	CU_CLI_BAD = -3, /* an unknown option or one missing its value; value is what was typed */
};

/*
 * An iterator over a command's arguments, parsed with getopt_long from its
 * option table.  Options and positional arguments may come in any order.
 * An argument that begins with a single '-' is positional (base64url ids
 * may begin with '-'); after "--" every argument is positional.
 */
struct cu_cli_args {
	int argc;
	char **argv;
	int i;             /* the next argument */
	bool rest;         /* after "--" */
	const char *value; /* the option's value, or the positional argument */
	struct option longopts[CU_CLI_OPTIONS_MAX + 1];
};

/* Prepares to walk argv[1..argc-1] with cmd's options. */
void cu_cli_args_init(struct cu_cli_args *a, const struct cu_cli_command *cmd, int argc,
                      char **argv);
/* The next option's id, CU_CLI_ARG, CU_CLI_BAD or CU_CLI_END. */
int cu_cli_args_next(struct cu_cli_args *a);

/* ---- messages ---------------------------------------------------------------- */

/* One line on stderr: "custodian: " and the message. */
void cu_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line: the message and "(usage: <cmd's usage>)"; returns CU_CLI_EXIT_USAGE. */
int cu_cli_usage_error(const struct cu_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "unexpected argument 'ARG' (usage: ...)"; returns CU_CLI_EXIT_USAGE. */
int cu_cli_bad_argument(const struct cu_cli_command *cmd, const char *arg);
/*
 * For a command whose only argument is one flag (`--json`): walks the
 * arguments, sets *set if the option with id `flag` is there, and answers 0,
 * or CU_CLI_EXIT_USAGE after cu_cli_bad_argument for anything else.
 */
int cu_cli_only_flag(const struct cu_cli_command *cmd, int argc, char **argv, int flag, bool *set);
/* "field reason, field reason" (names and codes only, never a value) into line. */
void cu_cli_errors_words(const cu_errors *errs, const char *prefix, char *line, size_t len);

/* ---- shared helpers ------------------------------------------------------------ */

/*
 * Opens the data directory; on failure prints one line and returns NULL.
 * Every command that appends audit entries leaves a signed checkpoint of
 * them at close (the ctx is set so).
 */
cu_ctx *cu_cli_open(void);
/* "2026-04-01T09:30:00Z" into buf (CU_CLI_TIME_MAX), or "never" for 0. */
const char *cu_cli_format_time(int64_t us, char *buf, size_t len);
/* Prints a JSON document indented, overwrites every string in it and frees it. */
int cu_cli_print_json_wiped(json_t *j);
/*
 * Splits a comma-separated argument into at most CU_CLI_LIST_MAX names, in a
 * copy (*buf, the caller frees).  Returns the count, or -1 when there are more.
 */
int cu_cli_split_list(const char *arg, char **buf, const char **out);
/* Clears a progress line on a terminal (before a message or at the end). */
void cu_cli_progress_clear(void);
/* A progress bar on stderr when it is a terminal; ud is the label (a string). */
void cu_cli_progress(void *ud, uint64_t done, uint64_t total);

#endif
