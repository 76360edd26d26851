/*
 * custodian — the operator's command line.  Thin: parse arguments, call the
 * library, print.  Errors are one line on stderr, lowercase, problem first.
 *
 * Exit status: 0 success; 1 a negative answer (not found, rejected rows,
 * broken chain) or a failure; 2 a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "custodian/access.h"
#include "custodian/audit.h"
#include "custodian/ctx.h"
#include "custodian/import.h"
#include "custodian/members.h"
#include "custodian/policy.h"

#define EXIT_NO 1
#define EXIT_USAGE 2

static const char *data_dir;
static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL};

static void die_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die_line(const char *fmt, ...)
{
	va_list ap;

	fputs("custodian: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *help;
};

static int want_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			return 0;
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return 1;
	}
	return 0;
}

static cu_ctx *open_ctx(void)
{
	char err[512] = "";
	cu_ctx *ctx = NULL;
	cu_result rc = cu_ctx_open(data_dir, &ctx, err, sizeof(err));

	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return NULL;
	}
	return ctx;
}

/* ---- init -------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
	const char *policy = NULL;
	char err[512] = "";
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--policy") && i + 1 < argc) {
			policy = argv[++i];
		} else {
			die_line("unexpected argument '%s' (usage: custodian init [--policy FILE])",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	rc = cu_ctx_init_dir(data_dir, policy, err, sizeof(err));
	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return EXIT_NO;
	}
	printf("initialised '%s': custodian.conf, policy.json, master.key (0600), custodian.db\n",
	       data_dir);
	return 0;
}

/* ---- import ------------------------------------------------------------ */

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	(void)ud;
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	fprintf(stderr, "line %llu: rejected:", (unsigned long long)line);
	for (size_t i = 0; i < errs->n; i++)
		fprintf(stderr, "%s %s: %s", i ? "," : "", errs->e[i].field, errs->e[i].reason);
	if (errs->n == 0)
		fprintf(stderr, " %s", cu_result_code(rc));
	if (errs->dropped)
		fprintf(stderr, " (and %zu more)", errs->dropped);
	fputc('\n', stderr);
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	const char *what = ud;
	int width = 40, pct, fill;

	if (!isatty(STDERR_FILENO) || total == 0)
		return;
	pct = (int)(done * 100 / total);
	fill = pct * width / 100;
	fprintf(stderr, "\r%s [%.*s%*s] %3d%%", what, fill,
		"########################################", width - fill, "", pct);
	fflush(stderr);
}

static int cmd_import(int argc, char **argv)
{
	cu_import_report report;
	char err[512] = "";
	cu_ctx *ctx;
	cu_result rc;

	if (argc != 2 || argv[1][0] == '-') {
		die_line("expected one FILE (usage: custodian import FILE)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_import_file(ctx, &operator_actor, argv[1], &report, on_reject, on_progress,
			    (void *)"importing", err, sizeof(err));
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	cu_ctx_close(ctx);
	printf("imported %llu, rejected %llu\n", (unsigned long long)report.imported,
	       (unsigned long long)report.rejected);
	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return EXIT_NO;
	}
	return report.rejected ? EXIT_NO : 0;
}

/* ---- member ------------------------------------------------------------ */

static int member_find(int argc, char **argv)
{
	const char *kind = NULL, *value = NULL;
	char id[CU_ID_LEN + 1];
	cu_ctx *ctx;
	cu_result rc;

	if (argc == 3 && (!strcmp(argv[1], "--email") || !strcmp(argv[1], "--phone"))) {
		kind = argv[1] + 2;
		value = argv[2];
	} else {
		die_line("expected --email E or --phone P (usage: custodian member find --email E)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_member_find(ctx, &operator_actor, kind, value, id);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND) {
		die_line("no member with that %s", kind);
		return EXIT_NO;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		/* The value is personal data: the message names the kind, not the value. */
		die_line("malformed %s", kind);
		return EXIT_USAGE;
	}
	if (rc) {
		die_line("find failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("%s\n", id);
	return 0;
}

static int member_show(int argc, char **argv)
{
	const char *id = NULL, *purpose = NULL, *case_ref = NULL;
	cu_access_request req = {0};
	cu_access_decision d;
	cu_record rec;
	json_t *out, *fields, *withheld, *v;
	const char *key;
	char *text;
	int status;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--purpose") && i + 1 < argc)
			purpose = argv[++i];
		else if (!strcmp(argv[i], "--case") && i + 1 < argc)
			case_ref = argv[++i];
		else if (!id && argv[i][0] != '-')
			id = argv[i];
		else {
			die_line("unexpected argument '%s' (usage: custodian member show ID --purpose P)",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!id || !purpose) {
		die_line("expected ID and --purpose P (usage: custodian member show ID --purpose P)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	req.actor = &operator_actor;
	req.purpose = purpose;
	req.member = id;
	req.case_ref = case_ref;
	cu_record_init(&rec);
	rc = cu_access_read(ctx, &req, &d, &rec);
	if (rc) {
		if (rc == CU_ERR_PURPOSE_UNKNOWN)
			die_line("unknown purpose '%s'", purpose);
		else if (rc == CU_ERR_NOT_FOUND)
			die_line("no member '%s'", id);
		else
			die_line("refused: %s", cu_strerror(rc));
		cu_ctx_close(ctx);
		return EXIT_NO;
	}
	out = json_object();
	fields = json_object();
	withheld = json_object();
	json_object_set_new(out, "member", json_string(id));
	json_object_set_new(out, "purpose", json_string(purpose));
	for (size_t i = 0; i < rec.n; i++)
		json_object_set_new(fields, ctx->policy->fields[rec.v[i].field].name,
				    json_stringn(rec.v[i].value, rec.v[i].len));
	for (size_t i = 0; i < ctx->policy->nfields; i++)
		if (d.reason[i])
			json_object_set_new(withheld, ctx->policy->fields[i].name,
					    json_string(d.reason[i]));
	json_object_set_new(out, "fields", fields);
	json_object_set_new(out, "withheld", withheld);
	text = json_dumps(out, JSON_INDENT(2) | JSON_SORT_KEYS);
	status = text ? 0 : EXIT_NO; /* text is not to be looked at once freed */
	if (text) {
		puts(text);
		sodium_memzero(text, strlen(text));
		free(text);
	}
	/* jansson copied the plaintext: overwrite it before it is freed. */
	json_object_foreach(fields, key, v) if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
	json_decref(out);
	cu_record_wipe(&rec);
	cu_ctx_close(ctx);
	return status;
}

static int member_erase(int argc, char **argv)
{
	cu_ctx *ctx;
	cu_result rc;

	if (argc != 2 || argv[1][0] == '-') {
		die_line("expected one ID (usage: custodian member erase ID)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_member_erase(ctx, &operator_actor, argv[1]);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED) {
		die_line("no member '%s'%s", argv[1], rc == CU_ERR_ERASED ? " (already erased)" : "");
		return EXIT_NO;
	}
	if (rc) {
		die_line("erase failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("erased %s: its data key is destroyed and its fields can no longer be opened\n",
	       argv[1]);
	return 0;
}

/* ---- audit, policy ----------------------------------------------------- */

static void on_verify_progress(void *ud, uint64_t done, uint64_t total)
{
	on_progress(ud, done, total);
}

static int audit_verify(int argc, char **argv)
{
	cu_audit_report report;
	cu_ctx *ctx;
	cu_result rc;

	(void)argv;
	if (argc != 1) {
		die_line("unexpected argument (usage: custodian audit verify)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_audit_verify(ctx->store, &report, on_verify_progress, (void *)"verifying");
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_AUDIT_BROKEN) {
		die_line("audit chain broken at entry %llu: %s (%llu entries verified before it)",
			 (unsigned long long)report.broken_seq, report.what,
			 (unsigned long long)report.checked);
		return EXIT_NO;
	}
	if (rc) {
		die_line("audit verify failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("audit intact: %llu entries checked\n", (unsigned long long)report.checked);
	return 0;
}

static int policy_check(int argc, char **argv)
{
	char err[512] = "";
	cu_policy *p = NULL;
	cu_result rc;

	if (argc != 2 || argv[1][0] == '-') {
		die_line("expected one FILE (usage: custodian policy check FILE)");
		return EXIT_USAGE;
	}
	rc = cu_policy_load_file(argv[1], &p, err, sizeof(err));
	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return EXIT_NO;
	}
	printf("policy '%s' ok: version %s, %zu fields, %zu purposes, %zu services\n", argv[1],
	       p->version, p->nfields, p->npurposes, p->nservices);
	cu_policy_free(p);
	return 0;
}

static int config_help(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("settings in DATA/custodian.conf:\n");
	cu_config_describe(stdout);
	return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct command member_commands[] = {
	{"find", member_find, "custodian member find (--email E | --phone P)",
	 "Prints the id of the live member with that e-mail or telephone (through the\n"
	 "blind index); exit 1 when there is none.  Audited as the operator."},
	{"show", member_show, "custodian member show ID --purpose P [--case C]",
	 "Reads member ID through the access door as the operator, for purpose P:\n"
	 "prints the fields P allows as JSON and names the withheld ones.  An unknown\n"
	 "purpose is refused.  Every read is audited."},
	{"erase", member_erase, "custodian member erase ID",
	 "Crypto-shreds member ID: destroys its data key, sealed fields, blind\n"
	 "indexes and password.  Afterwards show and find fail.  Audited."},
	{NULL, NULL, NULL, NULL},
};

static const struct command audit_commands[] = {
	{"verify", audit_verify, "custodian audit verify",
	 "Walks the hash chain; exit 0 with the number of entries when intact, exit 1\n"
	 "naming the first broken entry otherwise."},
	{NULL, NULL, NULL, NULL},
};

static const struct command policy_commands[] = {
	{"check", policy_check, "custodian policy check FILE",
	 "Validates a policy file; prints one line naming what is wrong, or a summary."},
	{NULL, NULL, NULL, NULL},
};

static int dispatch(const char *group, const struct command *cmds, int argc, char **argv);

static int cmd_member(int argc, char **argv)
{
	return dispatch("member", member_commands, argc, argv);
}

static int cmd_audit(int argc, char **argv)
{
	return dispatch("audit", audit_commands, argc, argv);
}

static int cmd_policy(int argc, char **argv)
{
	return dispatch("policy", policy_commands, argc, argv);
}

static const struct command commands[] = {
	{"init", cmd_init, "custodian [--data DIR] init [--policy FILE]",
	 "Creates DIR with custodian.conf, the policy (the built-in default unless\n"
	 "--policy), a new master key (mode 0600) and an empty store.  Refuses to\n"
	 "touch a DIR that exists and is not empty."},
	{"import", cmd_import, "custodian [--data DIR] import FILE",
	 "Registers members from a CSV file with a header row naming policy fields,\n"
	 "or JSON Lines when FILE ends in .jsonl.  Invalid rows are refused whole and\n"
	 "reported by line and field; prints 'imported N, rejected M'; exit 0 only\n"
	 "when M is 0."},
	{"member", cmd_member, "custodian [--data DIR] member (find|show|erase) ...",
	 "Find, read through the access door, or erase a member."},
	{"audit", cmd_audit, "custodian [--data DIR] audit verify", "Checks the audit chain."},
	{"policy", cmd_policy, "custodian policy check FILE", "Validates a policy file."},
	{"config", config_help, "custodian config --help", "Lists the configuration settings."},
	{NULL, NULL, NULL, NULL},
};

static void print_help(FILE *f, const struct command *cmds)
{
	for (const struct command *c = cmds; c->name; c++)
		fprintf(f, "  %s\n", c->usage);
}

static int dispatch(const char *group, const struct command *cmds, int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		FILE *f = argc < 2 ? stderr : stdout;

		if (argc < 2)
			die_line("'%s' needs a subcommand", group);
		fprintf(f, "usage:\n");
		print_help(f, cmds);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	for (const struct command *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[1]))
			continue;
		if (want_help(argc - 1, argv + 1)) {
			printf("usage: %s\n\n%s\n", c->usage, c->help);
			return 0;
		}
		return c->run(argc - 1, argv + 1);
	}
	die_line("unknown %s command '%s'", group, argv[1]);
	return EXIT_USAGE;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: custodian [--data DIR] <command> [args]\n\n"
		   "DIR defaults to $CUSTODIAN_DATA, else ./var.  Commands:\n");
	print_help(f, commands);
	for (const struct command *c = member_commands; c->name; c++)
		fprintf(f, "  %s\n", c->usage);
	fprintf(f, "\n'custodian <command> --help' describes one command.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	data_dir = getenv("CUSTODIAN_DATA");
	if (!data_dir || !*data_dir)
		data_dir = "var";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc) {
			data_dir = argv[++i];
		} else if (!strncmp(argv[i], "--data=", 7)) {
			data_dir = argv[i] + 7;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("custodian 0.1.0\n");
			return 0;
		} else {
			die_line("unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!*data_dir) {
		die_line("--data needs a directory");
		return EXIT_USAGE;
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (cu_vault_global_init() != CU_OK) {
		die_line("cannot initialise libsodium");
		return EXIT_NO;
	}
	return dispatch("custodian", commands, argc - i + 1, argv + i - 1);
}
