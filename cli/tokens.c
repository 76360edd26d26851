/*
 * cli/tokens.c — `custodian token create|list|revoke`: the API's bearer tokens.
 * A secret is printed once, at creation, and never again.
 */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "domain/tokens.h"

#define ROLES_FOR_TOKENS "staff, analyst, service, subcontractor, officer, admin"

/* The number the help and the messages give for CU_TOKEN_NAME_MAX. */
#define NAME_MAX_WORDS CU_CLI_STR(CU_TOKEN_NAME_MAX)

enum { OPT_ROLE = 'r', OPT_NAME = 'n', OPT_EXPIRES = 'e', OPT_CONTRACT = 'c' };

static const char *name_problem_words(const char *reason)
{
	if (!strcmp(reason, "required"))
		return "empty --name";
	if (!strcmp(reason, "too_long"))
		return "--name longer than " NAME_MAX_WORDS " characters";
	if (!strcmp(reason, "invalid_utf8"))
		return "--name is not valid UTF-8";
	return "--name holds a control character or an invisible mark";
}

/* ---- create ------------------------------------------------------------------- */

static const struct cu_cli_option create_options[] = {
    {"role", "R", OPT_ROLE, "one of " ROLES_FOR_TOKENS " (required)"},
    {"name", "N", OPT_NAME, "who or what holds it, 1.." NAME_MAX_WORDS " characters (required)"},
    {"expires", "YYYY-MM-DD", OPT_EXPIRES, "stops working at 00:00 UTC on that date"},
    {"contract", "ID", OPT_CONTRACT,
     "the subcontractor's contract a subcontractor's token reads in"},
    {0},
};

static int create(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *role_arg = NULL, *name = NULL, *expires_arg = NULL, *contract = NULL, *problem;
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], when[CU_CLI_TIME_MAX];
	int64_t expires_us = 0;
	struct cu_cli_args a;
	cu_role role;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_ROLE)
			role_arg = a.value;
		else if (c == OPT_NAME)
			name = a.value;
		else if (c == OPT_EXPIRES)
			expires_arg = a.value;
		else if (c == OPT_CONTRACT)
			contract = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!role_arg || !name)
		return cu_cli_usage_error(cmd, "expected --role R and --name N");
	if (cu_role_parse(role_arg, &role) != CU_OK) {
		cu_cli_error("unknown role '%s' (one of " ROLES_FOR_TOKENS ")", role_arg);
		return CU_CLI_EXIT_USAGE;
	}
	if (!cu_token_role_allowed(role)) {
		cu_cli_error("role '%s' cannot hold a token (one of " ROLES_FOR_TOKENS ")",
		             role_arg);
		return CU_CLI_EXIT_USAGE;
	}
	problem = cu_token_name_problem(name);
	if (problem) /* The name is not echoed: it may hold the very characters refused. */
		return cu_cli_usage_error(cmd, "%s", name_problem_words(problem));
	if (contract && role != CU_ROLE_SUBCONTRACTOR)
		return cu_cli_usage_error(cmd, "--contract binds a subcontractor's token only");
	if (expires_arg) {
		if (cu_date_parse(expires_arg, &expires_us)) {
			cu_cli_error("malformed --expires '%s': expected YYYY-MM-DD", expires_arg);
			return CU_CLI_EXIT_USAGE;
		}
		if (expires_us <= cu_now_us()) {
			cu_cli_error("--expires '%s' is not in the future", expires_arg);
			return CU_CLI_EXIT_USAGE;
		}
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_token_create_bound(ctx, NULL, role, name, expires_us, contract, secret, id);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND && contract) {
		cu_cli_error("no subcontractor '%s' (register it with 'subcontractor add')",
		             contract);
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("token create failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("created token %s: role %s, expires %s", id, cu_role_name(role),
	       cu_cli_format_time(expires_us, when, sizeof(when)));
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

/* ---- list --------------------------------------------------------------------- */

static int print_token(void *ud, const cu_token_info *t)
{
	const int64_t *now = ud;
	char created[CU_CLI_TIME_MAX], expires[CU_CLI_TIME_MAX];

	printf("%s\t%s\t%s\t%s\t%s\t%s\n", t->id, cu_role_name(t->role), t->name,
	       cu_cli_format_time(t->created_us, created, sizeof(created)),
	       cu_cli_format_time(t->expires_us, expires, sizeof(expires)),
	       cu_token_status_name(cu_token_status_at(t, *now)));
	return 0;
}

static int count_token(void *ud, const cu_token_info *t)
{
	(void)t;
	++*(size_t *)ud;
	return 0;
}

static int list(const struct cu_cli_command *cmd, int argc, char **argv)
{
	int64_t now = cu_now_us();
	struct cu_cli_args a;
	size_t n = 0;
	cu_ctx *ctx;
	cu_result rc;

	cu_cli_args_init(&a, cmd, argc, argv);
	if (cu_cli_args_next(&a) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_token_list(ctx->store, count_token, &n);
	if (!rc && n == 0)
		printf("no tokens\n");
	else if (!rc) {
		printf("ID\tROLE\tNAME\tCREATED\tEXPIRES\tSTATUS\n");
		rc = cu_token_list(ctx->store, print_token, &now);
	}
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("token list failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

/* ---- revoke ------------------------------------------------------------------- */

static int revoke(const struct cu_cli_command *cmd, int argc, char **argv)
{
	const char *id = NULL;
	char when[CU_CLI_TIME_MAX];
	struct cu_cli_args a;
	cu_token_info t;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != CU_CLI_ARG || id) /* not "starts with '-'": base64url ids may */
			return cu_cli_usage_error(cmd, "expected one ID");
		id = a.value;
	}
	if (!id)
		return cu_cli_usage_error(cmd, "expected one ID");
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_token_get(ctx->store, id, &t);
	if (!rc && !t.revoked_us)
		rc = cu_token_revoke(ctx, NULL, id);
	cu_ctx_close(ctx);
	if (rc == CU_ERR_NOT_FOUND || rc == CU_ERR_INVALID_ARGUMENT) {
		cu_cli_error("no token '%s'", id);
		return CU_CLI_EXIT_NO;
	}
	if (rc) {
		cu_cli_error("token revoke failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (t.revoked_us)
		printf("token %s was already revoked at %s\n", t.id,
		       cu_cli_format_time(t.revoked_us, when, sizeof(when)));
	else
		printf("revoked token %s (role %s): it no longer authenticates\n", t.id,
		       cu_role_name(t.role));
	return 0;
}

static const struct cu_cli_command token_commands[] = {
    {.name = "create",
     .run = create,
     .usage = "custodian token create --role R --name N [--expires YYYY-MM-DD] [--contract ID]",
     .help = "Issues a bearer token for the API.  R is one of staff, analyst, service,\n"
             "subcontractor, officer or admin; N (1.." NAME_MAX_WORDS
             " characters) says who or what holds\n"
             "it.  With --expires the token stops working at 00:00 UTC on that date.\n"
             "A subcontractor's token is bound with --contract to a subcontractor's\n"
             "contract (see 'subcontractor add'): it reads only within that contract.\n"
             "Prints the token's id and its secret.  The secret is shown only this once:\n"
             "only its hash is stored, so it cannot be shown again; revoke and create a\n"
             "new one if it is lost.  Audited.",
     .options = create_options},
    {.name = "list",
     .run = list,
     .usage = "custodian token list",
     .help = "Lists every token, one per line, tab-separated: id, role, name, created,\n"
             "expires, status (active, expired or revoked).  Never a secret or a hash."},
    {.name = "revoke",
     .run = revoke,
     .usage = "custodian token revoke ID",
     .help = "Revokes token ID from now on; it authenticates no more.  Revoking a revoked\n"
             "token changes nothing.  Exit 1 when there is no such token.  Audited."},
    {0},
};

const struct cu_cli_command cu_cli_token = {
    .name = "token",
    .usage = "custodian [--data DIR] token (create|list|revoke) ...",
    .help = "Issue, list or revoke the API tokens of staff, services and the rest.",
    .sub = token_commands,
};
