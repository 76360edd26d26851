/*
 * cli/backup.c — `custodian backup [--to FILE]`, `backup verify FILE`,
 * `backup prune` and `custodian restore FILE --into NEWDIR`
 * (domain/backup.h, docs/backup.md).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "domain/backup.h"

enum { OPT_TO = 't', OPT_INTO = 'i' };

/* A progress bar per phase on a terminal (cu_cli_progress draws nothing otherwise). */
struct bar {
	const char *phase;
};

static void on_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
	struct bar *b = ud;

	if (b->phase && strcmp(b->phase, phase))
		cu_cli_progress_clear();
	b->phase = phase;
	cu_cli_progress((void *)phase, done, total);
}

static void print_manifest(const cu_backup_manifest *m)
{
	char t[CU_CLI_TIME_MAX];

	printf("  id %s, taken %s, schema %d\n", m->id,
	       cu_cli_format_time(m->created_us, t, sizeof(t)), m->schema_version);
	printf("  members %llu (erased included), audit entries %llu\n",
	       (unsigned long long)m->members, (unsigned long long)m->audit_entries);
	printf("  database %llu bytes, stored %llu bytes; backup key %u; master keys",
	       (unsigned long long)m->database_bytes, (unsigned long long)m->stored_bytes,
	       (unsigned)m->backup_key_id);
	for (size_t i = 0; i < m->n_master_key_ids; i++)
		printf("%s%u", i ? "," : " ", (unsigned)m->master_key_ids[i]);
	printf("%s; key trees", m->n_master_key_ids ? "" : " none");
	for (size_t i = 0; i < m->n_tree_ids; i++)
		printf("%s%u", i ? "," : " ", (unsigned)m->tree_ids[i]);
	printf("%s\n", m->n_tree_ids ? "" : " none");
}

static const struct cu_cli_option backup_options[] = {
    {"to", "FILE", OPT_TO, "write here (never over an existing file)"},
    {0},
};

static int backup(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "", path[CU_DATA_PATH_MAX];
	const char *to = NULL;
	struct bar bar = {0};
	cu_backup_manifest m;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != OPT_TO)
			return cu_cli_bad_argument(cmd, a.value);
		to = a.value;
	}
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	rc = cu_backup_create(ctx, to, on_progress, &bar, path, &m, err, sizeof(err));
	cu_cli_progress_clear();
	cu_ctx_close(ctx);
	if (rc) {
		cu_cli_error("backup failed: %s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("backup written: %s\n", path);
	print_manifest(&m);
	return 0;
}

static int verify(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "";
	const char *file = NULL;
	struct bar bar = {0};
	cu_backup_manifest m;
	struct cu_cli_args a;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c != CU_CLI_ARG || file)
			return cu_cli_bad_argument(cmd, a.value);
		file = a.value;
	}
	if (!file)
		return cu_cli_usage_error(cmd, "which backup?");
	rc = cu_backup_verify(cu_cli_data_dir, file, on_progress, &bar, &m, err, sizeof(err));
	cu_cli_progress_clear();
	if (rc) {
		cu_cli_error("backup '%s' refused: %s", file, err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("backup intact: %s\n", file);
	print_manifest(&m);
	return 0;
}

static int prune(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "", dir[CU_DATA_PATH_MAX];
	cu_backup_prune_report r;
	struct cu_cli_args a;
	cu_ctx *ctx;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	if ((c = cu_cli_args_next(&a)) != CU_CLI_END)
		return cu_cli_bad_argument(cmd, a.value);
	ctx = cu_cli_open();
	if (!ctx)
		return CU_CLI_EXIT_NO;
	cu_backup_dir(ctx, dir);
	rc = cu_backup_prune(ctx, cu_now_us(), &r, err, sizeof(err));
	printf("backups in '%s': kept %zu (keep_count %u, keep_days %u), removed %zu\n", dir,
	       r.kept, ctx->config.backup_keep_count, ctx->config.backup_keep_days, r.removed);
	cu_ctx_close(ctx);
	if (r.unreadable)
		cu_cli_error("%zu file(s) named like backups have no readable manifest: left alone",
		             r.unreadable);
	if (rc) {
		cu_cli_error("backup prune failed: %s", err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	return 0;
}

static const struct cu_cli_command backup_sub[] = {
    {
        .name = "verify",
        .run = verify,
        .usage = "custodian [--data DIR] backup verify FILE",
        .help = "Checks a backup with DIR's backup keys: every chunk authenticates, the\n"
                "manifest authenticates, the database decompresses to its checksum and\n"
                "passes SQLite's integrity check.  A damaged or cut backup: one line, exit 1.",
    },
    {
        .name = "prune",
        .run = prune,
        .usage = "custodian [--data DIR] backup prune",
        .help = "Deletes the backups in the backup directory that [backup] keep_count and\n"
                "keep_days do not keep: the newest keep_count stay, and every one younger\n"
                "than keep_days.",
    },
    {0},
};

const struct cu_cli_command cu_cli_backup = {
    .name = "backup",
    .run = backup,
    .usage = "custodian [--data DIR] backup [--to FILE] | backup verify FILE | backup prune",
    .help = "Writes an online, consistent backup of the store while the server goes on:\n"
            "compressed (zstd) and encrypted under DIR/backup.key (made if missing), with a\n"
            "manifest of counts, key ids and a checksum.  Without --to, into the [backup]\n"
            "dir setting (default DIR/backups), named by UTC time.  Audited.  See\n"
            "docs/backup.md.",
    .options = backup_options,
    .sub = backup_sub,
};

static const struct cu_cli_option restore_options[] = {
    {"into", "NEWDIR", OPT_INTO, "the new data directory (absent or empty)"},
    {0},
};

static int restore(const struct cu_cli_command *cmd, int argc, char **argv)
{
	char err[CU_CLI_ERR_MAX] = "";
	const char *file = NULL, *into = NULL;
	cu_backup_restore_report r;
	struct bar bar = {0};
	struct cu_cli_args a;
	cu_result rc;
	int c;

	cu_cli_args_init(&a, cmd, argc, argv);
	while ((c = cu_cli_args_next(&a)) != CU_CLI_END) {
		if (c == OPT_INTO)
			into = a.value;
		else if (c == CU_CLI_ARG && !file)
			file = a.value;
		else
			return cu_cli_bad_argument(cmd, a.value);
	}
	if (!file || !into)
		return cu_cli_usage_error(cmd, "restore needs FILE and --into NEWDIR");
	rc =
	    cu_backup_restore(cu_cli_data_dir, file, into, on_progress, &bar, &r, err, sizeof(err));
	cu_cli_progress_clear();
	if (rc) {
		cu_cli_error("restore of '%s' refused: %s", file, err[0] ? err : cu_strerror(rc));
		return CU_CLI_EXIT_NO;
	}
	printf("restored into '%s' (%zu files copied from '%s')\n", into, r.files_copied,
	       cu_cli_data_dir);
	print_manifest(&r.manifest);
	printf("erasure replay: %zu member(s) erased since the backup were erased again\n",
	       r.replayed);
	return 0;
}

const struct cu_cli_command cu_cli_restore = {
    .name = "restore",
    .run = restore,
    .usage = "custodian [--data DIR] restore FILE --into NEWDIR",
    .help = "Restores a backup into a new data directory: the database (checked as\n"
            "`backup verify` does), and custodian.conf, the policy, master.key, backup.key\n"
            "and keyring copied from DIR; then every member erased since the backup was\n"
            "taken is erased again (the erasure replay) and the restore is audited.",
    .options = restore_options,
};
