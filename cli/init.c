/*
 * cli/init.c — `custodian init`: a new data directory, and the first officer's
 * token (the privacy officer needs a way in; everyone else is issued a
 * token by them or the operator).
 */
#include <sodium.h>
#include <stdio.h>

#include "cli.h"
#include "domain/backup.h"
#include "domain/tokens.h"

enum { OPT_POLICY = 'p' };

static const struct cu_cli_option options[] = {
    {"policy", "FILE", OPT_POLICY, "the policy to start with (default: the built-in one)"},
    {0},
};

static int run(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char secret[CU_TOKEN_SECRET_LEN + 1], id[CU_ID_LEN + 1], err[CU_CLI_ERR_MAX] = "";
	const char *policy = NULL;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_POLICY)
			return cu_cli_bad_argument(cmd, a.value);
		policy = a.value;
	}
	rc = cu_ctx_init_dir(cu_cli_data_dir, policy, err, sizeof(err));
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	rc = cu_backup_key_rotate(cu_cli_data_dir, err, sizeof(err));
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* The store the settings name: never its url, which may hold a password. */
	printf("initialised '%s': custodian.conf, policy.json, master.key (0600), backup.key "
	       "(0600), %s\n",
	       cu_cli_data_dir,
	       ctx->config.store[0] ? "the store custodian.store names (migrated)"
	                            : "custodian.db");
	rc =
	    cu_token_create(ctx, &cu_cli_operator, CU_ROLE_OFFICER, "first officer", 0, secret, id);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("cannot create the first officer token: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("first officer token (id %s), shown only now and not stored:\n  %s\n", id, secret);
	sodium_memzero(secret, sizeof(secret));
	return 0;
}

const struct cu_cli_command cu_cli_init = {
    .name = "init",
    .run = run,
    .usage = "custodian [--data DIR] init [--policy FILE]",
    .help = "Creates DIR with custodian.conf, the policy (the built-in default unless\n"
            "--policy), a new master key (mode 0600) and an empty store.  Refuses to\n"
            "touch a DIR that exists and is not empty, or a store (custodian.store)\n"
            "that holds another data directory's audit chain already.",
    .options = options,
};
