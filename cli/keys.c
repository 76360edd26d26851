/*
 * cli/keys.c — `custodian keys status|rotate|retire|reconcile`: what uses each
 * key, rotation of the member key tree and of the master key, retiring an
 * old tree, and finishing punctures a crash interrupted (domain/keys.h,
 * docs/keys.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "domain/backup.h"
#include "domain/erasure.h"
#include "domain/keys.h"

enum { OPT_TREE = 't', OPT_MASTER = 'm', OPT_BIDX = 'b', OPT_BACKUP = 'k', OPT_JSON = 'j' };

/* A progress line on a terminal, nothing otherwise. */
static void progress(void *ud, uint64_t done, uint64_t total)
{
	const char *what = ud;

	if (!isatty(STDERR_FILENO))
		return;
	if (total < done)
		total = done;
	fprintf(stderr, "\r%-12s %3llu%%  %llu/%llu members", what,
	        total ? (unsigned long long)(done * 100 / total) : 100ULL, (unsigned long long)done,
	        (unsigned long long)total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

static const char *format_name(int format)
{
	return format == CU_VAULT_WRAP_TREE ? "tree" : "master";
}

static int status(const struct cu_cli_command *cmd, int argc, char **argv)
{
	cu_keys_status st;
	bool json = false;
	cu_ctx *ctx;
	cu_result rc;
	int ex = cu_cli_only_flag(cmd, argc, argv, OPT_JSON, &json);

	if (ex)
		return ex;
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_keys_status_get(ctx, &st);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("keys status failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	if (json) {
		json_t *doc = json_object(), *m = json_array(), *t = json_array(),
		       *u = json_array();

		for (size_t i = 0; i < st.nmaster; i++)
			json_array_append_new(m,
			                      json_pack("{s:I,s:b}", "id", (json_int_t)st.master[i],
			                                "current", i + 1 == st.nmaster));
		for (size_t i = 0; i < st.ntrees; i++)
			json_array_append_new(t, json_pack("{s:I,s:b,s:I}", "id",
			                                   (json_int_t)st.trees[i].id, "current",
			                                   st.trees[i].current, "nodes",
			                                   (json_int_t)st.trees[i].nodes));
		for (size_t i = 0; i < st.nusage; i++)
			json_array_append_new(
			    u, json_pack("{s:I,s:s,s:I}", "key_id", (json_int_t)st.usage[i].key_id,
			                 "kind", format_name(st.usage[i].format), "members",
			                 (json_int_t)st.usage[i].members));
		json_object_set_new(doc, "master_keys", m);
		json_object_set_new(doc, "keyring",
		                    json_pack("{s:I,s:I,s:o}", "sealed_under",
		                              (json_int_t)st.keyring_sealed_under, "generation",
		                              (json_int_t)st.keyring_generation, "trees", t));
		json_object_set_new(doc, "wrapped", u);
		json_object_set_new(doc, "members",
		                    json_pack("{s:I,s:I}", "live", (json_int_t)st.live, "erased",
		                              (json_int_t)st.erased));
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(doc);
		return 0;
	}
	printf("master keys:");
	for (size_t i = 0; i < st.nmaster; i++)
		printf(" %u%s", (unsigned)st.master[i], i + 1 == st.nmaster ? " (current)" : "");
	printf("\nkeyring: sealed under master key %u, generation %u\n",
	       (unsigned)st.keyring_sealed_under, (unsigned)st.keyring_generation);
	for (size_t i = 0; i < st.ntrees; i++)
		printf("  tree %u%s: %zu nodes\n", (unsigned)st.trees[i].id,
		       st.trees[i].current ? " (current)" : "", st.trees[i].nodes);
	printf("members: %llu live, %llu erased\n", (unsigned long long)st.live,
	       (unsigned long long)st.erased);
	for (size_t i = 0; i < st.nusage; i++)
		printf("  %llu wrapped under %s key %u\n", (unsigned long long)st.usage[i].members,
		       format_name(st.usage[i].format), (unsigned)st.usage[i].key_id);
	return 0;
}

static const struct cu_cli_option rotate_options[] = {
    {"tree", NULL, OPT_TREE, "only the member key tree"},
    {"master", NULL, OPT_MASTER, "only the master key (and the blind-index key it derives)"},
    {"blind-index", NULL, OPT_BIDX, "the blind-index key: the same as --master"},
    {"backup", NULL, OPT_BACKUP, "only the backup key"},
    {0},
};

static int rotate_master(void)
{
	char err[CU_CLI_ERR_MAX] = "";
	uint64_t n = 0;
	uint32_t id;
	cu_ctx *ctx;
	cu_result rc;

	rc = cu_keys_rotate_master(cu_cli_data_dir, &id, err, sizeof(err));
	if (rc) {
		cu_cli_error("%s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("master key %u added and current; the keyring is sealed under it\n", (unsigned)id);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_keys_rewrap(ctx, &cu_cli_operator, progress, "rewrapping", &n);
	if (!rc)
		printf("%llu members moved from the master key into the tree\n",
		       (unsigned long long)n);
	if (!rc)
		rc = cu_keys_reindex(ctx, &cu_cli_operator, progress, "reindexing", &n);
	if (!rc)
		printf("%llu members' blind indexes recomputed under master key %u\n",
		       (unsigned long long)n, (unsigned)id);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("master key rotation unfinished: %s (run it again)", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("restart custodian serve so it loads the new master key\n");
	return 0;
}

static int rotate_tree(void)
{
	char err[CU_CLI_ERR_MAX] = "";
	uint64_t n = 0;
	uint32_t tree = 0;
	cu_ctx *ctx;
	cu_result rc;

	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_keys_rotate_tree(ctx, &cu_cli_operator, &tree, progress, "rewrapping", &n, err,
	                         sizeof(err));
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("tree rotation unfinished: %s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("tree %u is current; %llu members' data keys rewrapped under it\n", (unsigned)tree,
	       (unsigned long long)n);
	return 0;
}

static int rotate_backup(void)
{
	char err[CU_CLI_ERR_MAX] = "";
	cu_ctx *ctx = cu_cli_open();
	cu_result rc;

	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_keys_rotate_backup(ctx, &cu_cli_operator, err, sizeof(err));
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("backup key rotation failed: %s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("a new backup key is current; backups from now on are sealed under it\n");
	return 0;
}

static int rotate(const struct cu_cli_command *cmd, int argc, char **argv)
{
	bool tree = false, master = false, backup = false;
	struct cu_cli_args a;
	int c, rc = 0;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_TREE)
			tree = true;
		else if (c == OPT_MASTER || c == OPT_BIDX)
			master = true;
		else if (c == OPT_BACKUP)
			backup = true;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!tree && !master && !backup)
		tree = master = backup = true;
	if (master)
		rc = rotate_master();
	if (!rc && tree)
		rc = rotate_tree();
	if (!rc && backup)
		rc = rotate_backup();
	return rc;
}

static int retire(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "";
	cu_backup_key_use use;
	const char *arg = NULL;
	struct cu_cli_args a;
	unsigned long tree;
	char *end;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == CU_CLI_ARG && !arg)
			arg = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!arg)
		return cu_cli_usage_error(cmd, "expected the tree's id");
	tree = strtoul(arg, &end, 10);
	if (!*arg || *end || tree == 0 || tree > 2147483647UL) {
		cu_cli_error("'%s' is not a tree id (1..2147483647)", arg);
		return CU_CLI_EXIT_USAGE;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	/* The trees the retained backups' manifests name stay. */
	rc = cu_backup_key_ids_in_use(ctx, &use, err, sizeof(err));
	if (!rc)
		rc = cu_keys_retire_tree(ctx, &cu_cli_operator, (uint32_t)tree, use.tree_ids,
		                         use.n_tree_ids, err, sizeof(err));
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("tree %lu not retired: %s", tree, err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("tree %lu destroyed\n", tree);
	return 0;
}

static int reconcile(const struct cu_cli_command *cmd, int argc, char **argv)
{
	struct cu_cli_args a;
	size_t n = 0;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_erasure_reconcile(ctx, &n);
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("keys reconcile failed: %s", cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("%zu keyring leaves of erased members punctured now\n", n);
	return 0;
}

static const struct cu_cli_option status_options[] = {
    {"json", NULL, OPT_JSON, "print JSON"},
    {0},
};

static const struct cu_cli_command keys_commands[] = {
    {.name = "status",
     .run = status,
     .usage = "custodian keys status [--json]",
     .help = "The master key ids (the last is current), the keyring's trees and how\n"
             "many nodes each holds, and how many members' data keys each key wraps.\n"
             "No key material is printed.",
     .options = status_options},
    {.name = "rotate",
     .run = rotate,
     .usage = "custodian keys rotate [--tree] [--master] [--blind-index] [--backup]",
     .help = "Without options, all three.  --master appends a new master key to master.key,\n"
             "seals the keyring under it, moves members still wrapped under a master\n"
             "key into the tree and recomputes every blind index under the new key\n"
             "(the blind-index key is derived from the master key: --blind-index is\n"
             "the same); restart the server afterwards.  --tree adds a new member key\n"
             "tree and rewraps every member's data key under it, online, while the\n"
             "server runs.  --backup appends a new backup key (backup.key); older ones\n"
             "stay to open older backups.  Progress on a terminal.  Audited.",
     .options = rotate_options},
    {.name = "retire",
     .run = retire,
     .usage = "custodian keys retire TREE",
     .help = "Destroys an old member key tree: refused while it is current, wraps a\n"
             "member's data key, or is named by a backup in the backup directory (a\n"
             "backup kept elsewhere that needs it cannot be restored afterwards).\n"
             "Audited.",
     .options = NULL},
    {.name = "reconcile",
     .run = reconcile,
     .usage = "custodian keys reconcile",
     .help = "Punctures the keyring leaves of every erased member (after a crash between\n"
             "an erasure and its puncture; the server does it at start).",
     .options = NULL},
    {0},
};

const struct cu_cli_command cu_cli_keys = {
    .name = "keys",
    .usage = "custodian [--data DIR] keys (status|rotate|retire|reconcile) ...",
    .help = "Keys: what uses each, rotation, retirement (docs/keys.md).",
    .sub = keys_commands,
};
