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
#include <time.h>
#include <unistd.h>

#include "access/access.h"
#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "ctx/ctx.h"
#include "domain/erasure.h"
#include "domain/import.h"
#include "domain/members.h"
#include "domain/notify.h"
#include "domain/partners.h"
#include "policy/policy.h"
#include "domain/versions.h"
#include "domain/consent.h"
#include "domain/requests.h"
#include "server.h"
#include "domain/tokens.h"
#include "domain/complaints.h"
#include "util/file_read.h"
#include "util/json_wipe.h"

#define EXIT_NO 1
#define EXIT_USAGE 2

static const char *data_dir;
static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

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
	/*
	 * A group's subcommands: "token create --help" is create's help, so a
	 * group hands on to its subcommand before looking for --help.
	 */
	const struct command *sub;
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

static void warn_line(const char *line)
{
	die_line("%s", line);
}

/* Every command that appends audit entries leaves a signed checkpoint of them at close. */
static cu_ctx *open_ctx(void)
{
	char err[512] = "";
	cu_ctx *ctx = NULL;
	cu_result rc = cu_ctx_open(data_dir, &ctx, err, sizeof(err));

	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return NULL;
	}
	ctx->audit_checkpoint_at_close = true;
	ctx->warn = warn_line;
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
	/* The privacy officer needs a way in; everyone else is issued a token by them or the operator. */
	{
		char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1];
		cu_ctx *ctx = open_ctx();

		if (!ctx)
			return EXIT_NO;
		rc = cu_token_create(ctx, &operator_actor, CU_ROLE_OFFICER, "first officer", 0, secret,
				     id);
		cu_ctx_close(ctx);
		if (rc) {
			die_line("cannot create the first officer token: %s", cu_strerror(rc));
			return EXIT_NO;
		}
		printf("first officer token (id %s), shown only now and not stored:\n  %s\n", id,
		       secret);
		sodium_memzero(secret, sizeof(secret));
	}
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
		else if (!id && strcmp(argv[i], "--purpose") && strcmp(argv[i], "--case"))
			id = argv[i]; /* base64url ids may begin with '-' */
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
	/* The door refuses it too (and audits that); here it is refused before anything is written. */
	if (case_ref && cu_access_case_problem(case_ref)) {
		die_line("--case: a case reference is 1-%d bytes of one line of text, not blank, "
			 "without control characters (%s)",
			 CU_CASE_REF_MAX, cu_access_case_problem(case_ref));
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
		/* What was typed is repeated only if it is of an id's (a name's) form. */
		if (rc == CU_ERR_PURPOSE_UNKNOWN)
			die_line("unknown purpose '%s'",
				 strspn(purpose, "abcdefghijklmnopqrstuvwxyz0123456789_") ==
						 strlen(purpose)
					 ? purpose
					 : CU_AUDIT_MALFORMED);
		else if (rc == CU_ERR_NOT_FOUND)
			die_line("no member '%s'", cu_vault_id_well_formed(id) ? id : CU_AUDIT_MALFORMED);
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
	const char *certpath = NULL;
	char *cert = NULL;
	cu_ctx *ctx;
	cu_result rc;
	int status = 0;

	/* Not "starts with '-'": base64url ids may. */
	if (argc == 4 && !strcmp(argv[2], "--certificate"))
		certpath = argv[3];
	else if (argc != 2) {
		die_line("expected one ID (usage: custodian member erase ID [--certificate FILE])");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	/* The one erasure operation (erasure.h), as an erasure request would run it. */
	rc = cu_erasure_carry_out(ctx, &operator_actor, argv[1], NULL, cu_now_us(),
	                          certpath ? &cert : NULL);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED) {
		die_line("no member '%s'%s", argv[1], rc == CU_ERR_ERASED ? " (already erased)" : "");
		return EXIT_NO;
	}
	if (rc) {
		die_line("erase failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("erased %s: its data key is destroyed and its fields can no longer be opened; "
	       "its open requests and complaints are closed (member_erased)\n",
	       argv[1]);
	if (certpath) {
		FILE *fp = fopen(certpath, "wx");

		if (!fp || fputs(cert, fp) == EOF || fputc('\n', fp) == EOF) {
			die_line("could not write the certificate to '%s' (it must not exist yet); the "
			         "member is erased",
			         certpath);
			status = EXIT_NO;
		}
		if (fp && fclose(fp) && !status) {
			die_line("could not write the certificate to '%s'; the member is erased",
			         certpath);
			status = EXIT_NO;
		}
	}
	free(cert);
	return status;
}

/* ---- audit, policy ----------------------------------------------------- */

static void on_verify_progress(void *ud, uint64_t done, uint64_t total)
{
	on_progress(ud, done, total);
}

/* Bad checkpoint findings in files printed before "... and N more". */
#define VERIFY_FINDINGS_SHOWN 10

/*
 * Files' findings are printed as they come; the database's are summed up
 * as the one that covers most (the longest missing range) and a count, as
 * it holds one checkpoint every few seconds of writing.
 */
struct verify_out {
	unsigned shown, more;
	uint64_t store_bad;
	cu_audit_checkpoint_finding store_worst;
};

static void on_checkpoint_finding(void *ud, const cu_audit_checkpoint_finding *f)
{
	struct verify_out *o = ud;

	if (f->status == CU_AUDIT_CHECKPOINT_GOOD)
		return;
	if (!strcmp(f->source, "store")) {
		if (o->store_bad++ == 0 || f->cp.seq > o->store_worst.cp.seq)
			o->store_worst = *f;
		return;
	}
	if (o->shown >= VERIFY_FINDINGS_SHOWN) {
		o->more++;
		return;
	}
	o->shown++;
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	if (f->line)
		die_line("audit checkpoint in '%s' line %u: %s", f->source, f->line, f->what);
	else
		die_line("audit checkpoint file '%s': %s", f->source, f->what);
}

static int audit_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"checkpoint", required_argument, NULL, 'c'},
					     {NULL, 0, NULL, 0}};
	cu_audit_verify_request req;
	struct verify_out out = {0};
	char own[4096];
	cu_ctx *ctx;
	cu_result rc;
	int c;

	memset(&req, 0, sizeof(req));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'c') {
			req.given_file = optarg;
			continue;
		}
		die_line("unexpected argument '%s' (usage: custodian audit verify "
			 "[--checkpoint FILE])", argv[optind - 1]);
		return EXIT_USAGE;
	}
	if (optind != argc) {
		die_line("unexpected argument '%s' (usage: custodian audit verify "
			 "[--checkpoint FILE])", argv[optind]);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	/* Looking writes nothing, not even a checkpoint. */
	ctx->audit_checkpoint_at_close = false;
	cu_ctx_audit_checkpoint_path(ctx, own, sizeof(own));
	req.vault = ctx->vault;
	req.own_file = own;
	req.on_finding = on_checkpoint_finding;
	req.ud = &out;
	req.progress = on_verify_progress;
	req.progress_ud = (void *)"verifying";
	rc = cu_audit_verify_checkpoints(ctx->store, &req);
	if (isatty(STDERR_FILENO))
		fputs("\r\033[K", stderr);
	cu_ctx_close(ctx);
	if (rc && rc != CU_ERR_AUDIT_BROKEN) {
		die_line("audit verify failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	if (req.chain.broken_seq)
		die_line("audit chain broken at entry %llu: %s (%llu entries verified before it)",
			 (unsigned long long)req.chain.broken_seq, req.chain.what,
			 (unsigned long long)req.chain.checked);
	if (out.more)
		die_line("... and %u more bad checkpoints in files", out.more);
	if (out.store_bad == 1)
		die_line("audit checkpoint in the database: %s", out.store_worst.what);
	else if (out.store_bad > 1)
		die_line("audit checkpoints in the database: %llu bad, the furthest: %s",
			 (unsigned long long)out.store_bad, out.store_worst.what);
	if (rc)
		return EXIT_NO;
	printf("audit intact: %llu entries checked\n", (unsigned long long)req.chain.checked);
	if (req.covered_seq) {
		cu_audit_checkpoint cp = {.time_us = req.covered_time_us};
		char line[CU_AUDIT_CHECKPOINT_LINE_MAX], *t;

		/* The time as the line format writes it. */
		cu_audit_checkpoint_format(&cp, line);
		t = strstr(line, " time=");
		printf("checkpoints: %llu checked, all good; the newest covers entry %llu "
		       "(signed %.27s)\n",
		       (unsigned long long)req.checkpoints, (unsigned long long)req.covered_seq,
		       t ? t + 6 : "?");
	} else {
		printf("checkpoints: %llu checked, all good\n", (unsigned long long)req.checkpoints);
	}
	return 0;
}

static int audit_checkpoint(int argc, char **argv)
{
	static const struct option opts[] = {{"out", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	const char *outfile = NULL;
	cu_audit_checkpoint cp;
	char own[4096], err[600] = "", line[CU_AUDIT_CHECKPOINT_LINE_MAX];
	cu_ctx *ctx;
	cu_result rc;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'o') {
			outfile = optarg;
			continue;
		}
		die_line("unexpected argument '%s' (usage: custodian audit checkpoint [--out FILE])",
			 argv[optind - 1]);
		return EXIT_USAGE;
	}
	if (optind != argc) {
		die_line("unexpected argument '%s' (usage: custodian audit checkpoint [--out FILE])",
			 argv[optind]);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	ctx->audit_checkpoint_at_close = false; /* this command signs its own */
	cu_ctx_audit_checkpoint_path(ctx, own, sizeof(own));
	rc = cu_audit_checkpoint_save(ctx->store, ctx->vault, own, true, &cp, NULL, err,
				      sizeof(err));
	cu_ctx_close(ctx);
	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return EXIT_NO;
	}
	if (outfile) {
		rc = cu_audit_checkpoint_write_file(outfile, &cp);
		if (rc) {
			die_line("cannot write '%s': %s", outfile, strerror(errno));
			return EXIT_NO;
		}
		printf("checkpoint of entry %llu written to '%s'\n", (unsigned long long)cp.seq,
		       outfile);
		return 0;
	}
	cu_audit_checkpoint_format(&cp, line);
	printf("%s\n", line);
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

/* ---- token ------------------------------------------------------------- */

#define ROLES_FOR_TOKENS "staff, analyst, service, subcontractor, officer, admin"

/*
 * YYYY-MM-DD, a real date, to 00:00:00 UTC of that day in microseconds.
 * Returns -1 for anything else.
 */
static int64_t parse_date_us(const char *s)
{
	int64_t us;

	return cu_partner_date_parse(s, &us) ? -1 : us;
}

/* "2026-04-01T09:30:00Z", or "never" for 0. */
static const char *format_time(int64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (us == 0)
		return "never";
	if (!gmtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, len, "%lld", (long long)us);
	return buf;
}

static const char *name_problem_words(const char *reason)
{
	if (!strcmp(reason, "required"))
		return "empty --name";
	if (!strcmp(reason, "too_long"))
		return "--name longer than 64 characters";
	if (!strcmp(reason, "invalid_utf8"))
		return "--name is not valid UTF-8";
	return "--name holds a control character or an invisible mark";
}

static int token_create(int argc, char **argv)
{
	static const char usage_line[] = "usage: custodian token create --role R --name N "
					 "[--expires YYYY-MM-DD] [--contract ID]";
	const char *role_arg = NULL, *name = NULL, *expires_arg = NULL, *contract = NULL, *problem;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], when[40];
	int64_t expires_us = 0;
	cu_role role;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc) {
			role_arg = argv[++i];
		} else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			name = argv[++i];
		} else if (!strcmp(argv[i], "--expires") && i + 1 < argc) {
			expires_arg = argv[++i];
		} else if (!strcmp(argv[i], "--contract") && i + 1 < argc) {
			contract = argv[++i];
		} else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!role_arg || !name) {
		die_line("expected --role R and --name N (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (cu_role_parse(role_arg, &role) != CU_OK) {
		die_line("unknown role '%s' (one of " ROLES_FOR_TOKENS ")", role_arg);
		return EXIT_USAGE;
	}
	if (!cu_token_role_allowed(role)) {
		die_line("role '%s' cannot hold a token (one of " ROLES_FOR_TOKENS ")", role_arg);
		return EXIT_USAGE;
	}
	problem = cu_token_name_problem(name);
	if (problem) {
		/* The name is not echoed: it may hold the very characters refused. */
		die_line("%s (%s)", name_problem_words(problem), usage_line);
		return EXIT_USAGE;
	}
	if (contract && role != CU_ROLE_SUBCONTRACTOR) {
		die_line("--contract binds a subcontractor's token only (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (expires_arg) {
		expires_us = parse_date_us(expires_arg);
		if (expires_us < 0) {
			die_line("malformed --expires '%s': expected YYYY-MM-DD", expires_arg);
			return EXIT_USAGE;
		}
		if (expires_us <= cu_now_us()) {
			die_line("--expires '%s' is not in the future", expires_arg);
			return EXIT_USAGE;
		}
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_token_create_bound(ctx, NULL, role, name, expires_us, contract, secret, id);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND && contract) {
		die_line("no subcontractor '%s' (register it with 'subcontractor add')", contract);
		return EXIT_NO;
	}
	if (rc) {
		die_line("token create failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("created token %s: role %s, expires %s", id, cu_role_name(role),
	       format_time(expires_us, when, sizeof(when)));
	if (contract)
		printf(", contract %s", contract);
	printf("\n");
	if (role == CU_ROLE_SUBCONTRACTOR && !contract)
		printf("note: bound to no contract, this token reads nothing "
		       "(use --contract ID)\n");
	printf("secret: %s\n", secret);
	printf("this secret is shown only now and is not stored (only its hash is kept): "
	       "keep it safe\n");
	fflush(stdout);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

static int print_token(void *ud, const cu_token_info *t)
{
	const int64_t *now = ud;
	char created[40], expires[40];

	printf("%s\t%s\t%s\t%s\t%s\t%s\n", t->id, cu_role_name(t->role), t->name,
	       format_time(t->created_us, created, sizeof(created)),
	       format_time(t->expires_us, expires, sizeof(expires)),
	       cu_token_status_name(cu_token_status_at(t, *now)));
	return 0;
}

static int count_token(void *ud, const cu_token_info *t)
{
	(void)t;
	++*(size_t *)ud;
	return 0;
}

static int token_list(int argc, char **argv)
{
	int64_t now = cu_now_us();
	size_t n = 0;
	cu_ctx *ctx;
	cu_result rc;

	(void)argv;
	if (argc != 1) {
		die_line("unexpected argument (usage: custodian token list)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_token_list(ctx->store, count_token, &n);
	if (!rc && n == 0)
		printf("no tokens\n");
	else if (!rc) {
		printf("ID\tROLE\tNAME\tCREATED\tEXPIRES\tSTATUS\n");
		rc = cu_token_list(ctx->store, print_token, &now);
	}
	cu_ctx_close(ctx);
	if (rc) {
		die_line("token list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int token_revoke(int argc, char **argv)
{
	cu_token_info t;
	char when[40];
	cu_ctx *ctx;
	cu_result rc;

	/* Not "starts with '-'": base64url ids may. */
	if (argc != 2) {
		die_line("expected one ID (usage: custodian token revoke ID)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_token_get(ctx->store, argv[1], &t);
	if (!rc && !t.revoked_us)
		rc = cu_token_revoke(ctx, NULL, argv[1]);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT) {
		die_line("no token '%s'", argv[1]);
		return EXIT_NO;
	}
	if (rc) {
		die_line("token revoke failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	if (t.revoked_us)
		printf("token %s was already revoked at %s\n", t.id,
		       format_time(t.revoked_us, when, sizeof(when)));
	else
		printf("revoked token %s (role %s): it no longer authenticates\n", t.id,
		       cu_role_name(t.role));
	return 0;
}

/* ---- notify ------------------------------------------------------------ */

static int notify_deliver(int argc, char **argv)
{
	cu_notify_config cfg;
	cu_notify_report rep;
	bool ignore_backoff = false;
	unsigned long max = 1000;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ignore-backoff")) {
			ignore_backoff = true;
		} else if (!strcmp(argv[i], "--max") && i + 1 < argc) {
			const char *v = argv[++i];
			char *end;

			errno = 0;
			max = strtoul(v, &end, 10);
			if (v[0] < '0' || v[0] > '9' || *end || errno || max < 1 || max > 10000) {
				die_line("--max must be 1..10000");
				return EXIT_USAGE;
			}
		} else {
			die_line("unexpected argument '%s' (usage: custodian notify deliver "
				 "[--ignore-backoff] [--max N])",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_notify_config_from_ctx(ctx, &cfg);
	cfg.ignore_backoff = ignore_backoff;
	rc = cu_notify_deliver(ctx, &cfg, cu_now_us(), max, &rep);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("delivery failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("sent %zu, failed %zu, pending %llu\n", rep.sent, rep.failed,
	       (unsigned long long)rep.pending);
	if (rep.dropped)
		printf("dropped %zu (their members were erased)\n", rep.dropped);
	if (rep.gave_up)
		printf("gave up on %zu after %u attempts (status failed)\n", rep.gave_up,
		       cfg.max_attempts);
	if (cfg.mode == CU_NOTIFY_OFF)
		printf("notify.mode is off: nothing is sent\n");
	return rep.failed ? EXIT_NO : 0;
}

static int notify_test(int argc, char **argv)
{
	const char *member = NULL;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--member") && i + 1 < argc && !member) {
			member = argv[++i];
		} else {
			die_line("unexpected argument '%s' (usage: custodian notify test --member ID)",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!member) {
		die_line("expected --member ID (usage: custodian notify test --member ID)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	/* A template like every notice: nothing personal in it. */
	rc = cu_notify_member(ctx, member, "test", "Test notice from Custodian",
			      "This is a test notice: the operator is checking that notices reach "
			      "you.\nNo action is needed.");
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT || rc == CU_ERR_ERASED) {
		die_line("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		return EXIT_NO;
	}
	if (rc) {
		die_line("cannot queue the notice: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("queued a test notice for member %s\n", member);
	return 0;
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct command member_commands[] = {
	{"find", member_find, "custodian member find (--email E | --phone P)",
	 "Prints the id of the live member with that e-mail or telephone (through the\n"
	 "blind index); exit 1 when there is none.  Audited as the operator.", NULL},
	{"show", member_show, "custodian member show ID --purpose P [--case C]",
	 "Reads member ID through the access door as the operator, for purpose P:\n"
	 "prints the fields P allows as JSON and names the withheld ones.  An unknown\n"
	 "purpose is refused.  Every read is audited.", NULL},
	{"erase", member_erase, "custodian member erase ID [--certificate FILE]",
	 "Erases member ID as an applied erasure request would: destroys its data\n"
	 "key, sealed fields, blind indexes and password; closes its open requests\n"
	 "and complaints (note member_erased); ends its sessions; drops its pending\n"
	 "mail.  --certificate writes the signed erasure certificate to FILE (which\n"
	 "must not exist).  Afterwards show and find fail.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command audit_commands[] = {
	{"verify", audit_verify, "custodian audit verify [--checkpoint FILE]",
	 "Walks the hash chain and checks it against every signed checkpoint: the file\n"
	 "audit.checkpoint next to the database, those in the database, and FILE (one\n"
	 "you kept elsewhere).  Exit 0 with the number of entries when all hold; exit 1\n"
	 "naming the first broken entry, the missing range of a cut log, or a forged\n"
	 "checkpoint otherwise.", NULL},
	{"checkpoint", audit_checkpoint, "custodian audit checkpoint [--out FILE]",
	 "Signs the audit head now (Ed25519, from the master key), keeps it in the\n"
	 "database and in audit.checkpoint, and prints it (or writes it to FILE) to be\n"
	 "kept elsewhere: a log cut later is then named by 'audit verify --checkpoint'.",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static int policy_publish(int argc, char **argv)
{
	char err[512] = "", *doc;
	cu_policy *p = NULL;
	size_t len;
	cu_ctx *ctx;
	cu_result rc;

	if (argc != 2 || argv[1][0] == '-') {
		die_line("expected one FILE (usage: custodian policy publish FILE)");
		return EXIT_USAGE;
	}
	doc = cu_file_read_bounded(argv[1], 4u << 20, &len);
	if (!doc) {
		die_line("cannot read '%s'", argv[1]);
		return EXIT_NO;
	}
	ctx = open_ctx();
	if (!ctx) {
		free(doc);
		return EXIT_NO;
	}
	rc = cu_versions_publish(ctx, &operator_actor, doc, len, &p, err, sizeof(err));
	free(doc);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("%s", err[0] ? err : cu_strerror(rc));
		return EXIT_NO;
	}
	printf("published policy %s; a running server puts it in force on SIGHUP\n", p->version);
	cu_policy_free(p);
	return 0;
}

static int print_version(void *ud, const char *version, int64_t published_us, const char *by)
{
	char ts[32];
	time_t t = (time_t)(published_us / 1000000);
	struct tm tm;

	(void)ud;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("%s\t%s\t%s\n", version, ts, by);
	return 0;
}

static int policy_versions(int argc, char **argv)
{
	cu_ctx *ctx;
	cu_result rc;

	(void)argv;
	if (argc != 1) {
		die_line("unexpected argument (usage: custodian policy versions)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("VERSION\tPUBLISHED\tBY\n");
	rc = cu_store_policy_list(ctx->store, print_version, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("cannot list policy versions: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static const struct command policy_commands[] = {
	{"check", policy_check, "custodian policy check FILE",
	 "Validates a policy file; prints one line naming what is wrong, or a summary.", NULL},
	{"publish", policy_publish, "custodian [--data DIR] policy publish FILE",
	 "Publishes FILE as a new policy version: validates it, refuses a version\n"
	 "already published, keeps it in the store and replaces DIR's policy file.\n"
	 "Members are held to the version they accepted until they accept this one\n"
	 "or consent to its new purposes.  Audited.", NULL},
	{"versions", policy_versions, "custodian [--data DIR] policy versions",
	 "Lists every published policy version, when and by whom.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

/* ---- receipt ----------------------------------------------------------- */

static int receipt_verify(int argc, char **argv)
{
	char what[256] = "", summary[300] = "", *doc, err[512] = "";
	cu_ctx *ctx = NULL;
	size_t len;
	cu_result rc;

	if (argc != 2 || argv[1][0] == '-') {
		die_line("expected one FILE (usage: custodian receipt verify FILE)");
		return EXIT_USAGE;
	}
	doc = cu_file_read_bounded(argv[1], 1u << 20, &len);
	if (!doc) {
		die_line("cannot read '%s'", argv[1]);
		return EXIT_NO;
	}
	/* With a data directory, the key must also be this custodian's; without, only the signature. */
	if (cu_ctx_open(data_dir, &ctx, err, sizeof(err)) != CU_OK)
		ctx = NULL;
	{
		/* A receipt as the API returns it may be wrapped: {"consent":..., "receipt":{...}}. */
		json_t *j = json_loadb(doc, len, 0, NULL), *inner = json_object_get(j, "receipt");
		char *text = NULL;

		if (json_is_object(inner) && json_object_get(inner, "signature"))
			text = json_dumps(inner, 0);
		json_decref(j);
		if (text) {
			free(doc);
			doc = text;
			len = strlen(text);
		}
	}
	{
		/* An erasure certificate (requests.h) is signed the same way: checked here too. */
		json_t *j = json_loadb(doc, len, 0, NULL);
		bool certificate = json_is_object(json_object_get(j, "certificate"));

		json_decref(j);
		if (certificate) {
			rc = cu_request_certificate_verify(doc, len, ctx ? ctx->vault : NULL, what,
							   sizeof(what));
			free(doc);
			if (rc) {
				die_line("certificate not valid: %s", what);
				cu_ctx_close(ctx);
				return EXIT_NO;
			}
			printf("certificate valid: erasure%s\n",
			       ctx ? "; signed by this custodian"
				   : "; signature checked (no data directory to check the key "
				     "against)");
			cu_ctx_close(ctx);
			return 0;
		}
	}
	rc = cu_consent_receipt_verify(doc, len, ctx ? ctx->vault : NULL, what, sizeof(what),
				       summary, sizeof(summary));
	free(doc);
	if (rc) {
		die_line("receipt not valid: %s", what);
		cu_ctx_close(ctx);
		return EXIT_NO;
	}
	printf("receipt valid: consent %s%s\n", summary,
	       ctx ? "; signed by this custodian" : "; signature checked (no data directory to "
						     "check the key against)");
	cu_ctx_close(ctx);
	return 0;
}

static const struct command receipt_commands[] = {
	{"verify", receipt_verify, "custodian [--data DIR] receipt verify FILE",
	 "Checks a consent receipt: its Ed25519 signature over the receipt, and —\n"
	 "when DIR is a data directory — that the key is this custodian's.  Exit 0\n"
	 "and a summary when valid; exit 1 naming the problem otherwise.  An erasure\n"
	 "certificate ({\"certificate\": ..., \"signature\": ...}) is checked the same way.",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command token_commands[] = {
	{"create", token_create,
	 "custodian token create --role R --name N [--expires YYYY-MM-DD] [--contract ID]",
	 "Issues a bearer token for the API.  R is one of staff, analyst, service,\n"
	 "subcontractor, officer or admin; N (1..64 characters) says who or what holds\n"
	 "it.  With --expires the token stops working at 00:00 UTC on that date.\n"
	 "A subcontractor's token is bound with --contract to a subcontractor's\n"
	 "contract (see 'subcontractor add'): it reads only within that contract.\n"
	 "Prints the token's id and its secret.  The secret is shown only this once:\n"
	 "only its hash is stored, so it cannot be shown again; revoke and create a\n"
	 "new one if it is lost.  Audited.", NULL},
	{"list", token_list, "custodian token list",
	 "Lists every token, one per line, tab-separated: id, role, name, created,\n"
	 "expires, status (active, expired or revoked).  Never a secret or a hash.", NULL},
	{"revoke", token_revoke, "custodian token revoke ID",
	 "Revokes token ID from now on; it authenticates no more.  Revoking a revoked\n"
	 "token changes nothing.  Exit 1 when there is no such token.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
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

static int cmd_receipt(int argc, char **argv)
{
	return dispatch("receipt", receipt_commands, argc, argv);
}

static int cmd_token(int argc, char **argv)
{
	return dispatch("token", token_commands, argc, argv);
}

/* ---- third parties, subcontractors, provisions (partners.h) ------------ */

#define LIST_MAX 64

/*
 * Splits a comma-separated argument into at most LIST_MAX names, in a copy
 * (*buf, the caller frees).  Returns the count, or -1 when there are more.
 */
static int split_list(const char *arg, char **buf, const char **out)
{
	int n = 0;
	char *p;

	*buf = strdup(arg);
	if (!*buf)
		return -1;
	for (p = *buf; *p;) {
		size_t k = strcspn(p, ",");

		if (n == LIST_MAX)
			return -1;
		out[n++] = p;
		p += k;
		if (*p == ',')
			*p++ = '\0';
	}
	return n;
}

/* One line naming each bad input of a registration. */
static void field_errors(const char *what, const cu_errors *errs)
{
	char line[512] = "";
	size_t o = 0;

	for (size_t i = 0; i < errs->n && o < sizeof(line); i++)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s--%s %s", i ? ", " : "",
				      errs->e[i].field, errs->e[i].reason);
	die_line("%s refused: %s", what, line[0] ? line : "invalid input");
}

static int third_party_add(int argc, char **argv)
{
	static const char usage_line[] = "usage: custodian third-party add --id ID --name N "
					 "--contact C --purpose TEXT --fields F1,F2";
	const char *fields_arg = NULL, *fields[LIST_MAX];
	cu_third_party_input in = {0};
	char *buf = NULL;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;
	int n;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--id"))
			in.id = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--name"))
			in.name = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--contact"))
			in.contact = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--purpose"))
			in.purpose = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--fields"))
			fields_arg = argv[++i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!in.id || !in.name || !in.contact || !in.purpose || !fields_arg) {
		die_line("expected --id, --name, --contact, --purpose and --fields (%s)", usage_line);
		return EXIT_USAGE;
	}
	n = split_list(fields_arg, &buf, fields);
	if (n < 0) {
		free(buf);
		die_line("too many --fields");
		return EXIT_USAGE;
	}
	in.fields = fields;
	in.nfields = (size_t)n;
	ctx = open_ctx();
	if (!ctx) {
		free(buf);
		return EXIT_NO;
	}
	cu_errors_init(&errs);
	rc = cu_third_party_register(ctx, &operator_actor, &in, NULL, &errs);
	cu_ctx_close(ctx);
	free(buf);
	if (rc == CU_ERR_INVALID_FIELD) {
		field_errors("third party", &errs);
		return EXIT_USAGE;
	}
	if (rc) {
		die_line("third-party add failed: %s", rc == CU_ERR_CONFLICT
							    ? "a third party with this id exists"
							    : cu_strerror(rc));
		return EXIT_NO;
	}
	printf("registered third party %s\n", in.id);
	return 0;
}

static int print_third_party(void *ud, const cu_third_party_row *row)
{
	char when[40];

	(void)ud;
	printf("%s\t%s\t%s\t%s\n", row->id, row->name, row->fields_text,
	       format_time(row->created_us, when, sizeof(when)));
	return 0;
}

static int third_party_list(int argc, char **argv)
{
	cu_ctx *ctx;
	cu_result rc;

	(void)argv;
	if (argc != 1) {
		die_line("unexpected argument (usage: custodian third-party list)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("ID\tNAME\tFIELDS\tREGISTERED\n");
	rc = cu_store_third_party_list(ctx->store, print_third_party, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("third-party list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int subcontractor_add(int argc, char **argv)
{
	static const char usage_line[] =
	    "usage: custodian subcontractor add --id ID --name N --contact C --fields F1,F2 "
	    "--purposes P1,P2 --measure TEXT [--measure TEXT ...] --start YYYY-MM-DD "
	    "--end YYYY-MM-DD";
	const char *fields_arg = NULL, *purposes_arg = NULL, *fields[LIST_MAX],
		   *purposes[LIST_MAX], *measures[CU_PARTNER_MEASURES_N];
	cu_subcontractor_input in = {0};
	char *fbuf = NULL, *pbuf = NULL;
	int nf = 0, np = 0, status = 0;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--id"))
			in.id = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--name"))
			in.name = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--contact"))
			in.contact = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--fields"))
			fields_arg = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--purposes"))
			purposes_arg = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--measure") &&
			 in.nmeasures < CU_PARTNER_MEASURES_N)
			measures[in.nmeasures++] = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--start"))
			in.start = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--end"))
			in.end = argv[++i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!in.id || !in.name || !in.contact || !fields_arg || !purposes_arg || !in.start ||
	    !in.end || !in.nmeasures) {
		die_line("expected --id, --name, --contact, --fields, --purposes, --measure, "
			 "--start and --end (%s)",
			 usage_line);
		return EXIT_USAGE;
	}
	nf = split_list(fields_arg, &fbuf, fields);
	np = split_list(purposes_arg, &pbuf, purposes);
	if (nf < 0 || np < 0) {
		die_line("too many --fields or --purposes");
		status = EXIT_USAGE;
		goto out;
	}
	in.fields = fields;
	in.nfields = (size_t)nf;
	in.purposes = purposes;
	in.npurposes = (size_t)np;
	in.measures = measures;
	ctx = open_ctx();
	if (!ctx) {
		status = EXIT_NO;
		goto out;
	}
	cu_errors_init(&errs);
	rc = cu_subcontractor_register(ctx, &operator_actor, &in, NULL, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		field_errors("subcontractor", &errs);
		status = EXIT_USAGE;
	} else if (rc) {
		die_line("subcontractor add failed: %s", rc == CU_ERR_CONFLICT
							     ? "a subcontractor with this id exists"
							     : cu_strerror(rc));
		status = EXIT_NO;
	} else {
		printf("registered subcontractor %s: in force %s through %s\n", in.id, in.start,
		       in.end);
	}
out:
	free(fbuf);
	free(pbuf);
	return status;
}

static int print_subcontractor(void *ud, const cu_subcontractor_row *row)
{
	const int64_t *now = ud;
	char start[11], end[11];

	cu_partner_date_format(row->start_us, start);
	cu_partner_date_format(row->end_us - CU_DAY_US, end);
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\n", row->id, row->name, start, end,
	       cu_subcontract_in_force(row, *now) ? "in force" : "not in force",
	       row->purposes_text, row->fields_text);
	return 0;
}

static int subcontractor_list(int argc, char **argv)
{
	int64_t now = cu_now_us();
	cu_ctx *ctx;
	cu_result rc;

	(void)argv;
	if (argc != 1) {
		die_line("unexpected argument (usage: custodian subcontractor list)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("ID\tNAME\tSTART\tEND\tSTATUS\tPURPOSES\tFIELDS\n");
	rc = cu_store_subcontractor_list(ctx->store, print_subcontractor, &now);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("subcontractor list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int provisions_purge(int argc, char **argv)
{
	static const char usage_line[] = "usage: custodian provisions purge --before YYYY-MM-DD";
	const char *before_arg = NULL;
	int64_t before;
	uint64_t n = 0;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--before")) {
			before_arg = argv[++i];
		} else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!before_arg) {
		die_line("expected --before YYYY-MM-DD (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (cu_partner_date_parse(before_arg, &before)) {
		die_line("malformed --before '%s': expected YYYY-MM-DD", before_arg);
		return EXIT_USAGE;
	}
	/* Records of provision are kept three years: a younger cut-off is refused here too. */
	if (before > cu_now_us() - CU_PROVISION_KEEP_US) {
		die_line("--before %s is within the last three years: records of provisions are "
			 "kept at least three years",
			 before_arg);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_provision_purge(ctx, &operator_actor, before, &n);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("provisions purge failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("deleted %llu records of provisions made before %s\n", (unsigned long long)n,
	       before_arg);
	return 0;
}

static const struct command third_party_commands[] = {
	{"add", third_party_add,
	 "custodian third-party add --id ID --name N --contact C --purpose TEXT --fields F1,F2",
	 "Registers a third party members' data may be provided to: ID (a-z, 0-9, _ and\n"
	 "-, at most 40; what members consent to), its name, contact, the purpose of\n"
	 "provision shown to members, and the policy fields that may be provided to\n"
	 "it.  Exit 2 naming each bad input.  Audited.", NULL},
	{"list", third_party_list, "custodian third-party list",
	 "Lists the registered third parties, tab-separated: id, name, fields,\n"
	 "registered.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command subcontractor_commands[] = {
	{"add", subcontractor_add,
	 "custodian subcontractor add --id ID --name N --contact C --fields F1,F2 --purposes "
	 "P1,P2 --measure TEXT ... --start YYYY-MM-DD --end YYYY-MM-DD",
	 "Registers a subcontractor with its contract: the policy fields and purposes\n"
	 "in scope, the safety measures required (one --measure each, 1..32) and the\n"
	 "term, in force from 00:00 UTC on --start through the whole of --end.  Bind\n"
	 "tokens to it with 'token create --role subcontractor --contract ID'.  Audited.",
	 NULL},
	{"list", subcontractor_list, "custodian subcontractor list",
	 "Lists subcontractors, tab-separated: id, name, start, end, status (in force\n"
	 "or not in force), purposes, fields.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command provisions_commands[] = {
	{"purge", provisions_purge, "custodian provisions purge --before YYYY-MM-DD",
	 "Deletes the records of provisions to third parties made before the date.\n"
	 "Records are kept at least three years: a date within the last three years\n"
	 "is refused (exit 2).  Prints how many were deleted.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static int cmd_third_party(int argc, char **argv)
{
	return dispatch("third-party", third_party_commands, argc, argv);
}

static int cmd_subcontractor(int argc, char **argv)
{
	return dispatch("subcontractor", subcontractor_commands, argc, argv);
}

static int cmd_provisions(int argc, char **argv)
{
	return dispatch("provisions", provisions_commands, argc, argv);
}

static const struct command notify_commands[] = {
	{"deliver", notify_deliver, "custodian notify deliver [--ignore-backoff] [--max N]",
	 "One delivery pass over the outbox, as the server's notifier does every\n"
	 "interval: sends (or, in files mode, writes DATA/outbox/ID.eml) each due\n"
	 "notification, at most N (default 1000).  Prints 'sent N, failed M, pending P';\n"
	 "exit 1 when an attempt failed (it is retried later, with back-off).\n"
	 "--ignore-backoff tries every pending notification now, whatever its\n"
	 "schedule (after an SMTP outage is over).  Safe while the server runs: a\n"
	 "notification is never sent by both.  Each e-mail address is read through\n"
	 "the access door and audited.", NULL},
	{"test", notify_test, "custodian notify test --member ID",
	 "Queues a test notice for member ID (shown in their account and e-mailed\n"
	 "by the next delivery): the operator's check that delivery works.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static int cmd_notify(int argc, char **argv)
{
	return dispatch("notify", notify_commands, argc, argv);
}

/* ---- officer workflows: requests, complaints, exceptions, consent ------- */

/* "field reason, field reason": names and codes only, never a value. */
static void errs_words(const cu_errors *errs, char *line, size_t len)
{
	size_t o = 0;

	line[0] = '\0';
	for (size_t i = 0; i < errs->n && o < len; i++)
		o += (size_t)snprintf(line + o, len - o, "%s%s %s", i ? ", " : "",
				      errs->e[i].field, errs->e[i].reason);
	if (!line[0])
		snprintf(line, len, "invalid input");
}

/* Prints a JSON document indented, then overwrites every string in it. */
static int print_json_wiped(json_t *j)
{
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	int status = text ? 0 : EXIT_NO;

	if (text) {
		puts(text);
		sodium_memzero(text, strlen(text));
		free(text);
	} else {
		die_line("out of memory");
	}
	cu_json_wipe(j);
	json_decref(j);
	return status;
}

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

static int print_request_row(void *ud, const cu_request_row *row)
{
	const int64_t *now = ud;
	char due[40];

	printf("%s\t%s\t%s\t%s\t%s\t%ld\n", row->id, row->member, row->type, row->state,
	       format_time(row->due_us, due, sizeof(due)), cu_request_days_left(row->due_us, *now));
	return 0;
}

/* The one option of `requests list` and `complaints list`; -1 after a usage error line. */
static int parse_overdue(int argc, char **argv, const char *group, bool *overdue)
{
	*overdue = false;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--overdue")) {
			die_line("unexpected argument '%s' (usage: custodian %s list [--overdue])",
				 argv[i], group);
			return -1;
		}
		*overdue = true;
	}
	return 0;
}

static int requests_list(int argc, char **argv)
{
	int64_t now = cu_now_us();
	bool overdue = false;
	cu_ctx *ctx;
	cu_result rc;

	if (parse_overdue(argc, argv, "requests", &overdue))
		return EXIT_USAGE;
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("ID\tMEMBER\tTYPE\tSTATE\tDUE\tDAYS_LEFT\n");
	rc = cu_request_list(ctx->store, &operator_actor, overdue, now, print_request_row, &now);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("requests list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int requests_show(int argc, char **argv)
{
	cu_request_view v;
	cu_ctx *ctx;
	cu_result rc;
	int status;

	if (argc != 2) {
		die_line("expected one ID (usage: custodian requests show ID)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_request_view_init(&v);
	rc = cu_request_get(ctx, &operator_actor, argv[1], &v);
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			die_line("no request '%s'", argv[1]);
		else
			die_line("requests show failed: %s", cu_strerror(rc));
		cu_request_view_wipe(&v);
		cu_ctx_close(ctx);
		return EXIT_NO;
	}
	status = print_json_wiped(cu_request_view_json(&v, cu_now_us()));
	cu_request_view_wipe(&v);
	cu_ctx_close(ctx);
	return status;
}

/* Whether a decision's input errors are the operator's (ground, action, reasons). */
static bool decision_input_error(const cu_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strcmp(errs->e[i].field, "ground") && strcmp(errs->e[i].field, "action") &&
		    strcmp(errs->e[i].field, "reasons"))
			return false;
	return errs->n > 0;
}

static int requests_decide(int argc, char **argv)
{
	static const char usage_line[] =
	    "usage: custodian requests decide ID --action investigate|apply|reject|refuse|lift "
	    "[--ground G] --reasons TEXT";
	const char *id = NULL, *action_arg = NULL;
	cu_request_decision dec = {0};
	cu_request_row row = {0};
	char *certificate = NULL, words[512];
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--action") && i + 1 < argc)
			action_arg = argv[++i];
		else if (!strcmp(argv[i], "--ground") && i + 1 < argc)
			dec.ground = argv[++i];
		else if (!strcmp(argv[i], "--reasons") && i + 1 < argc)
			dec.reasons = argv[++i];
		else if (!id && strcmp(argv[i], "--action") && strcmp(argv[i], "--ground") &&
			 strcmp(argv[i], "--reasons"))
			id = argv[i]; /* base64url ids may begin with '-' */
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!id || !action_arg) {
		die_line("expected ID and --action A (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (cu_request_action_parse(action_arg, &dec.action) != CU_OK) {
		die_line("unknown --action '%s' (one of investigate, apply, reject, refuse, lift)",
			 action_arg);
		return EXIT_USAGE;
	}
	if (dec.action == CU_REQUEST_REFUSE && !dec.ground) {
		die_line("a refusal needs --ground (one of %s, %s, %s)", cu_refusal_grounds[0].id,
			 cu_refusal_grounds[1].id, cu_refusal_grounds[2].id);
		return EXIT_USAGE;
	}
	if (dec.ground && dec.action != CU_REQUEST_REFUSE) {
		die_line("--ground is for --action refuse only (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (dec.ground && !cu_refusal_ground_find(dec.ground)) {
		die_line("unknown --ground '%s' (one of %s, %s, %s)", dec.ground,
			 cu_refusal_grounds[0].id, cu_refusal_grounds[1].id,
			 cu_refusal_grounds[2].id);
		return EXIT_USAGE;
	}
	if ((dec.action == CU_REQUEST_REJECT || dec.action == CU_REQUEST_REFUSE) &&
	    (!dec.reasons || !*dec.reasons)) {
		die_line("a %s needs --reasons TEXT (%s)",
			 dec.action == CU_REQUEST_REJECT ? "rejection" : "refusal", usage_line);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_request_decide(ctx, &operator_actor, id, &dec, cu_now_us(), &row, &certificate,
			       &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		errs_words(&errs, words, sizeof(words));
		die_line("decision refused: %s", words);
		cu_request_row_release(&row);
		return decision_input_error(&errs) ? EXIT_USAGE : EXIT_NO;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			die_line("no request '%s'", id);
		else if (rc == CU_ERR_CONFLICT)
			die_line("request '%s' cannot be decided so: it is already decided (or under "
				 "investigation), or the amendment's e-mail is now taken",
				 id);
		else
			die_line("decision failed: %s", cu_strerror(rc));
		free(certificate);
		cu_request_row_release(&row);
		return EXIT_NO;
	}
	printf("request %s (%s): %s\n", row.id, row.type, row.state);
	if (certificate) {
		printf("erasure certificate follows (kept with the request: 'custodian requests "
		       "show %s'; check it with 'custodian receipt verify FILE'):\n%s\n",
		       row.id, certificate);
		free(certificate);
	}
	cu_request_row_release(&row);
	return 0;
}

static int requests_file(int argc, char **argv)
{
	static const char usage_line[] =
	    "usage: custodian requests file MEMBER --type disclosure|amendment|erasure "
	    "[--change FIELD=VALUE ...] [--text TEXT]";
	const char *member = NULL, *type_arg = NULL;
	cu_kv changes[LIST_MAX];
	char *copies[LIST_MAX], token[CU_REQUEST_TOKEN_LEN + 1], words[512];
	cu_request_input in = {0};
	cu_request_row row = {0};
	size_t nc = 0;
	int status = 0;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--type") && i + 1 < argc) {
			type_arg = argv[++i];
		} else if (!strcmp(argv[i], "--text") && i + 1 < argc) {
			in.text = argv[++i];
		} else if (!strcmp(argv[i], "--change") && i + 1 < argc && nc < LIST_MAX) {
			char *eq, *c = strdup(argv[++i]);

			if (!c || !(eq = strchr(c, '=')) || eq == c) {
				free(c);
				die_line("--change expects FIELD=VALUE (%s)", usage_line);
				status = EXIT_USAGE;
				goto out;
			}
			*eq = '\0';
			copies[nc] = c;
			changes[nc].name = c;
			changes[nc].value = eq + 1;
			nc++;
		} else if (!member && strcmp(argv[i], "--type") && strcmp(argv[i], "--text") &&
			   strcmp(argv[i], "--change")) {
			member = argv[i];
		} else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (!member || !type_arg) {
		die_line("expected MEMBER and --type T (%s)", usage_line);
		status = EXIT_USAGE;
		goto out;
	}
	if (cu_request_type_parse(type_arg, &in.type) != CU_OK) {
		die_line("unknown --type '%s' (one of disclosure, amendment, erasure)", type_arg);
		status = EXIT_USAGE;
		goto out;
	}
	in.changes = changes;
	in.nchanges = nc;
	ctx = open_ctx();
	if (!ctx) {
		status = EXIT_NO;
		goto out;
	}
	cu_errors_init(&errs);
	rc = cu_request_file(ctx, &operator_actor, member, &in, cu_now_us(), &row, token, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		errs_words(&errs, words, sizeof(words));
		die_line("request refused: %s", words);
		status = EXIT_USAGE;
	} else if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT) {
		die_line("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		status = EXIT_NO;
	} else if (rc) {
		die_line("request file failed: %s", cu_strerror(rc));
		status = EXIT_NO;
	} else {
		char due[40];

		printf("filed request %s (%s) for member %s, due %s\n", row.id, row.type, row.member,
		       format_time(row.due_us, due, sizeof(due)));
		if (token[0])
			printf("certificate token (give it to the member; shown only now): %s\n",
			       token);
	}
	sodium_memzero(token, sizeof(token));
	cu_request_row_release(&row);
out:
	for (size_t k = 0; k < nc; k++) {
		sodium_memzero(copies[k], strlen(copies[k]) + 1 + strlen(changes[k].value));
		free(copies[k]);
	}
	return status;
}

static int print_complaint_row(void *ud, const cu_complaint_row *row)
{
	const int64_t *now = ud;
	char due[40];

	printf("%s\t%s\t%s\t%s\t%s\t%s\t%ld\n", row->id, row->member, row->about, row->state,
	       row->assigned[0] ? row->assigned : "-", format_time(row->due_us, due, sizeof(due)),
	       cu_request_days_left(row->due_us, *now));
	return 0;
}

static int complaints_list(int argc, char **argv)
{
	int64_t now = cu_now_us();
	bool overdue = false;
	cu_ctx *ctx;
	cu_result rc;

	if (parse_overdue(argc, argv, "complaints", &overdue))
		return EXIT_USAGE;
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("ID\tMEMBER\tABOUT\tSTATE\tASSIGNED\tDUE\tDAYS_LEFT\n");
	rc = cu_complaint_list(ctx->store, &operator_actor, overdue, now, print_complaint_row, &now);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("complaints list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int complaints_show(int argc, char **argv)
{
	cu_complaint_view v;
	cu_ctx *ctx;
	cu_result rc;
	int status;

	if (argc != 2) {
		die_line("expected one ID (usage: custodian complaints show ID)");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_complaint_view_init(&v);
	rc = cu_complaint_get(ctx, &operator_actor, argv[1], &v);
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			die_line("no complaint '%s'", argv[1]);
		else
			die_line("complaints show failed: %s", cu_strerror(rc));
		cu_complaint_view_wipe(&v);
		cu_ctx_close(ctx);
		return EXIT_NO;
	}
	status = print_json_wiped(cu_complaint_view_json(&v, cu_now_us()));
	cu_complaint_view_wipe(&v);
	cu_ctx_close(ctx);
	return status;
}

static int complaints_respond(int argc, char **argv)
{
	static const char usage_line[] =
	    "usage: custodian complaints respond ID --text TEXT [--close]";
	const char *id = NULL, *text = NULL;
	cu_complaint_row row = {0};
	bool close = false;
	char words[512];
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--text") && i + 1 < argc)
			text = argv[++i];
		else if (!strcmp(argv[i], "--close"))
			close = true;
		else if (!id && strcmp(argv[i], "--text"))
			id = argv[i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!id || (!text && !close)) {
		die_line("expected ID and --text TEXT (%s)", usage_line);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_complaint_respond(ctx, &operator_actor, id, text, close, cu_now_us(), &row, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD && !text && errs.n == 1 &&
	    !strcmp(errs.e[0].reason, "response_required")) {
		die_line("complaint '%s' has no response yet: close it with --text TEXT", id);
		cu_complaint_row_release(&row);
		return EXIT_USAGE;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		errs_words(&errs, words, sizeof(words));
		die_line("response refused: %s", words);
		cu_complaint_row_release(&row);
		return EXIT_USAGE;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT)
			die_line("no complaint '%s'", id);
		else if (rc == CU_ERR_CONFLICT)
			die_line("complaint '%s' is closed", id);
		else if (rc == CU_ERR_ERASED)
			die_line("complaint '%s': its member was erased, nobody is left to answer", id);
		else
			die_line("response failed: %s", cu_strerror(rc));
		cu_complaint_row_release(&row);
		return EXIT_NO;
	}
	printf("complaint %s: %s\n", row.id, row.state);
	cu_complaint_row_release(&row);
	return 0;
}

static int complaints_file(int argc, char **argv)
{
	static const char usage_line[] =
	    "usage: custodian complaints file MEMBER --about A --text TEXT";
	const char *member = NULL, *about = NULL, *text = NULL;
	cu_complaint_row row = {0};
	char words[512];
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--about") && i + 1 < argc)
			about = argv[++i];
		else if (!strcmp(argv[i], "--text") && i + 1 < argc)
			text = argv[++i];
		else if (!member && strcmp(argv[i], "--about") && strcmp(argv[i], "--text"))
			member = argv[i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!member || !about || !text) {
		die_line("expected MEMBER, --about A and --text TEXT (%s)", usage_line);
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_complaint_file(ctx, &operator_actor, member, about, text, cu_now_us(), &row, &errs);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		errs_words(&errs, words, sizeof(words));
		die_line("complaint refused: %s", words);
		cu_complaint_row_release(&row);
		return EXIT_USAGE;
	}
	if (rc) {
		if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT)
			die_line("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		else
			die_line("complaint file failed: %s", cu_strerror(rc));
		cu_complaint_row_release(&row);
		return EXIT_NO;
	}
	printf("filed complaint %s (%s) for member %s\n", row.id, row.about, row.member);
	cu_complaint_row_release(&row);
	return 0;
}

static int print_exception(void *ud, const cu_exception_view *v)
{
	char created[40], closed[40];

	(void)ud;
	printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", v->row->id, v->row->member, v->row->officer,
	       v->row->exception, v->row->purpose, v->row->fields[0] ? v->row->fields : "-",
	       format_time(v->row->created_us, created, sizeof(created)),
	       v->row->closed_us ? format_time(v->row->closed_us, closed, sizeof(closed)) : "open");
	print_escaped(v->justification);
	putchar('\t');
	if (v->review)
		print_escaped(v->review);
	else
		putchar('-');
	putchar('\n');
	return 0;
}

static int exceptions_list(int argc, char **argv)
{
	bool all = false;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--all")) {
			all = true;
		} else {
			die_line("unexpected argument '%s' (usage: custodian exceptions list [--all])",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	printf("ID\tMEMBER\tOFFICER\tEXCEPTION\tPURPOSE\tFIELDS\tCREATED\tCLOSED\tJUSTIFICATION\tREVIEW\n");
	rc = cu_access_exception_list(ctx->store, ctx->vault, &operator_actor, !all,
				      print_exception, NULL);
	cu_ctx_close(ctx);
	if (rc) {
		die_line("exceptions list failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	return 0;
}

static int exceptions_close(int argc, char **argv)
{
	static const char usage_line[] = "usage: custodian exceptions close ID --review TEXT";
	const char *id = NULL, *review = NULL;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--review") && i + 1 < argc)
			review = argv[++i];
		else if (!id && strcmp(argv[i], "--review"))
			id = argv[i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!id || !review) {
		die_line("expected ID and --review TEXT (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (!*review || strlen(review) > 2000) {
		die_line("--review must be 1..2000 bytes");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	rc = cu_access_exception_close(ctx, &operator_actor, id, review);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT) {
		die_line("no exception '%s'", id);
		return EXIT_NO;
	}
	if (rc == CU_ERR_CONFLICT) {
		die_line("exception '%s' is already closed", id);
		return EXIT_NO;
	}
	if (rc == CU_ERR_INVALID_FIELD) {
		die_line("--review must be 1..2000 bytes");
		return EXIT_USAGE;
	}
	if (rc) {
		die_line("exceptions close failed: %s", cu_strerror(rc));
		return EXIT_NO;
	}
	printf("closed the review of exception %s\n", id);
	return 0;
}

static int consent_set(int argc, char **argv)
{
	static const char usage_line[] = "usage: custodian consent set MEMBER --kind "
					 "purpose|third_party|cookie --target T --granted yes|no";
	const char *member = NULL, *kind_arg = NULL, *target = NULL, *granted_arg = NULL;
	cu_consent_kind kind;
	cu_consent_row row = {0};
	char *receipt = NULL, words[512];
	bool granted;
	cu_errors errs;
	cu_ctx *ctx;
	cu_result rc;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--kind") && i + 1 < argc)
			kind_arg = argv[++i];
		else if (!strcmp(argv[i], "--target") && i + 1 < argc)
			target = argv[++i];
		else if (!strcmp(argv[i], "--granted") && i + 1 < argc)
			granted_arg = argv[++i];
		else if (!member && strcmp(argv[i], "--kind") && strcmp(argv[i], "--target") &&
			 strcmp(argv[i], "--granted"))
			member = argv[i];
		else {
			die_line("unexpected argument '%s' (%s)", argv[i], usage_line);
			return EXIT_USAGE;
		}
	}
	if (!member || !kind_arg || !target || !granted_arg) {
		die_line("expected MEMBER, --kind, --target and --granted (%s)", usage_line);
		return EXIT_USAGE;
	}
	if (cu_consent_kind_parse(kind_arg, &kind) != CU_OK) {
		die_line("unknown --kind '%s' (one of purpose, third_party, cookie)", kind_arg);
		return EXIT_USAGE;
	}
	if (!strcmp(granted_arg, "yes")) {
		granted = true;
	} else if (!strcmp(granted_arg, "no")) {
		granted = false;
	} else {
		die_line("--granted must be yes or no");
		return EXIT_USAGE;
	}
	ctx = open_ctx();
	if (!ctx)
		return EXIT_NO;
	cu_errors_init(&errs);
	rc = cu_consent_set(ctx, &operator_actor, member, kind, target, granted, &row, &errs);
	if (!rc) {
		rc = cu_consent_receipt(ctx->store, ctx->vault, &row, &receipt);
		cu_ctx_close(ctx);
		if (rc) {
			die_line("consent %s recorded, but its receipt could not be made: %s", row.id,
				 cu_strerror(rc));
			return EXIT_NO;
		}
		puts(receipt);
		free(receipt);
		return 0;
	}
	cu_ctx_close(ctx);
	if (rc == CU_ERR_INVALID_FIELD) {
		errs_words(&errs, words, sizeof(words));
		die_line("consent refused: %s", words);
		return EXIT_USAGE;
	}
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_ERASED || rc == CU_ERR_INVALID_ARGUMENT) {
		die_line("no member '%s'%s", member, rc == CU_ERR_ERASED ? " (erased)" : "");
		return EXIT_NO;
	}
	die_line("consent set failed: %s", cu_strerror(rc));
	return EXIT_NO;
}

static const struct command requests_commands[] = {
	{"list", requests_list, "custodian requests list [--overdue]",
	 "Lists the open requests (received, investigating), earliest target first,\n"
	 "tab-separated: id, member, type, state, due (the \"without delay\" target),\n"
	 "days left (negative: overdue).  --overdue: only those past their target.\n"
	 "Metadata only: no member's words, no officer's reasons.", NULL},
	{"show", requests_show, "custodian requests show ID",
	 "Prints request ID as the officer sees it, as JSON: its dates, state, the\n"
	 "member's details, its history with each step's reasons and, for an applied\n"
	 "erasure, the signed certificate.  Opening the texts is audited\n"
	 "(read_request).  Exit 1 when there is no such request.", NULL},
	{"decide", requests_decide,
	 "custodian requests decide ID --action investigate|apply|reject|refuse|lift [--ground G] "
	 "--reasons TEXT",
	 "Decides request ID as the operator: investigate (mark it under\n"
	 "investigation), apply (disclosure: the member is told it is ready; amendment:\n"
	 "the changes are made; erasure: the member is erased and a signed erasure\n"
	 "certificate issued), reject, or refuse (a disclosure only, on one ground:\n"
	 "harm_to_life_or_rights, business_interference or breach_of_law; the first and\n"
	 "the last suspend the member's self-service export while they stand), or lift\n"
	 "(ends such a refusal: the export works again).  Reject and refuse need\n"
	 "--reasons (sealed, shown to the member in their account).\n"
	 "Prints the new state; for an applied erasure the certificate JSON follows\n"
	 "(also in 'requests show ID').  Exit 1 when the request is already decided.\n"
	 "Audited.", NULL},
	{"file", requests_file,
	 "custodian requests file MEMBER --type disclosure|amendment|erasure "
	 "[--change FIELD=VALUE ...] [--text TEXT]",
	 "Records a request MEMBER made on paper.  An amendment names each change\n"
	 "(--change FIELD=VALUE; an empty VALUE deletes an optional field) and why\n"
	 "(--text, required); for the others --text is an optional note.  An erasure\n"
	 "prints its certificate token once: give it to the member.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command complaints_commands[] = {
	{"list", complaints_list, "custodian complaints list [--overdue]",
	 "Lists the open complaints by due date, tab-separated: id, member, about,\n"
	 "state, assigned officer (or -), due, days left.  --overdue: only those past\n"
	 "their due date.  Metadata only.", NULL},
	{"show", complaints_show, "custodian complaints show ID",
	 "Prints complaint ID with its text and every response, as JSON.  Audited\n"
	 "(read_complaint).", NULL},
	{"respond", complaints_respond, "custodian complaints respond ID --text TEXT [--close]",
	 "Answers complaint ID (1..4000 bytes, sealed; the member reads it in their\n"
	 "account and is notified).  --close closes it with this response; --close\n"
	 "without --text closes a complaint already answered.  Exit 1 when it is\n"
	 "closed.  Audited.", NULL},
	{"file", complaints_file, "custodian complaints file MEMBER --about A --text TEXT",
	 "Records a complaint MEMBER made on paper, about one of use, provision,\n"
	 "disclosure, amendment or other.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command exceptions_commands[] = {
	{"list", exceptions_list, "custodian exceptions list [--all]",
	 "The review queue of legal exceptions: each read made under an exception,\n"
	 "oldest first, tab-separated: id, member, officer, exception, purpose, the\n"
	 "fields it opened (comma-separated; - when not kept), created, closed (or\n"
	 "open), the justification and the review (or -); tabs,\n"
	 "newlines and backslashes in the texts are escaped.  --all includes the\n"
	 "closed ones.", NULL},
	{"close", exceptions_close, "custodian exceptions close ID --review TEXT",
	 "Closes the review of exception ID with a written review (1..2000 bytes,\n"
	 "sealed).  Exit 1 when there is none or it is already closed.  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static const struct command consent_commands[] = {
	{"set", consent_set,
	 "custodian consent set MEMBER --kind purpose|third_party|cookie --target T "
	 "--granted yes|no",
	 "Records a consent choice MEMBER made on paper (granted or withdrawn) for a\n"
	 "purpose needing consent, a registered third party or a cookie category.\n"
	 "Prints the signed receipt as JSON: give it to the member ('receipt verify'\n"
	 "checks it).  Audited.", NULL},
	{NULL, NULL, NULL, NULL, NULL},
};

static int cmd_requests(int argc, char **argv)
{
	return dispatch("requests", requests_commands, argc, argv);
}

static int cmd_complaints(int argc, char **argv)
{
	return dispatch("complaints", complaints_commands, argc, argv);
}

static int cmd_exceptions(int argc, char **argv)
{
	return dispatch("exceptions", exceptions_commands, argc, argv);
}

static int cmd_consent(int argc, char **argv)
{
	return dispatch("consent", consent_commands, argc, argv);
}

static int cmd_serve(int argc, char **argv)
{
	const char *listen = NULL;
	bool quiet = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--listen") && i + 1 < argc) {
			listen = argv[++i];
		} else if (!strcmp(argv[i], "--quiet")) {
			quiet = true;
		} else {
			die_line("unexpected argument '%s' (usage: custodian serve [--listen ADDR:PORT])",
				 argv[i]);
			return EXIT_USAGE;
		}
	}
	return cu_server_run(data_dir, listen, quiet) == 0 ? 0 : EXIT_NO;
}

static const struct command commands[] = {
	{"init", cmd_init, "custodian [--data DIR] init [--policy FILE]",
	 "Creates DIR with custodian.conf, the policy (the built-in default unless\n"
	 "--policy), a new master key (mode 0600) and an empty store.  Refuses to\n"
	 "touch a DIR that exists and is not empty.", NULL},
	{"import", cmd_import, "custodian [--data DIR] import FILE",
	 "Registers members from a CSV file with a header row naming policy fields,\n"
	 "or JSON Lines when FILE ends in .jsonl.  Invalid rows are refused whole and\n"
	 "reported by line and field; prints 'imported N, rejected M'; exit 0 only\n"
	 "when M is 0.", NULL},
	{"member", cmd_member, "custodian [--data DIR] member (find|show|erase) ...",
	 "Find, read through the access door, or erase a member.",
	 member_commands},
	{"token", cmd_token, "custodian [--data DIR] token (create|list|revoke) ...",
	 "Issue, list or revoke the API tokens of staff, services and the rest.",
	 token_commands},
	{"third-party", cmd_third_party, "custodian [--data DIR] third-party (add|list) ...",
	 "Register or list the third parties data may be provided to.", third_party_commands},
	{"subcontractor", cmd_subcontractor, "custodian [--data DIR] subcontractor (add|list) ...",
	 "Register or list subcontractors and their contracts.", subcontractor_commands},
	{"provisions", cmd_provisions, "custodian [--data DIR] provisions purge --before DATE",
	 "Delete records of provisions older than three years.", provisions_commands},
	{"requests", cmd_requests, "custodian [--data DIR] requests (list|show|decide|file) ...",
	 "The officer's side of members' disclosure, amendment and erasure requests.",
	 requests_commands},
	{"complaints", cmd_complaints,
	 "custodian [--data DIR] complaints (list|show|respond|file) ...",
	 "The officer's side of members' complaints.", complaints_commands},
	{"exceptions", cmd_exceptions, "custodian [--data DIR] exceptions (list|close) ...",
	 "The review queue of reads made under a legal exception.", exceptions_commands},
	{"consent", cmd_consent, "custodian [--data DIR] consent set MEMBER ...",
	 "Record a consent choice made on paper.", consent_commands},
	{"audit", cmd_audit, "custodian [--data DIR] audit verify|checkpoint",
	 "Checks the audit chain against its signed checkpoints; signs one.",
	 audit_commands},
	{"notify", cmd_notify, "custodian [--data DIR] notify (deliver|test) ...",
	 "Deliver due notifications, or queue a test notice.", notify_commands},
	{"policy", cmd_policy, "custodian [--data DIR] policy (check|publish|versions) ...",
	 "Validates, publishes or lists policy versions.", policy_commands},
	{"receipt", cmd_receipt, "custodian [--data DIR] receipt verify FILE",
	 "Checks a signed consent receipt.", receipt_commands},
	{"serve", cmd_serve, "custodian [--data DIR] serve [--listen ADDR:PORT] [--quiet]",
	 "Serves the API on ADDR:PORT (default from custodian.conf, 127.0.0.1:8080).\n"
	 "Writes a JSON access log line per request on standard output (not with\n"
	 "--quiet).  SIGTERM or SIGINT stops after requests in flight finish; SIGHUP\n"
	 "reloads the policy file.", NULL},
	{"config", config_help, "custodian config --help", "Lists the configuration settings.",
	 NULL},
	{NULL, NULL, NULL, NULL, NULL},
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
		if (c->sub && argc > 2 && argv[2][0] != '-')
			return c->run(argc - 1, argv + 1);
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
	for (const struct command *c = token_commands; c->name; c++)
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
