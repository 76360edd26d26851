/*
 * test_ctx_failures.c — what src/ctx/ctx.c does when things go wrong and
 * test_ctx.c does not look: init_dir refused (a directory in use, a parent
 * that is not there, a policy that cannot be read or is not valid) with
 * nothing left behind; a keyring that does not open; a context closed with
 * a transaction open or a checkpoint it cannot write; transactions nested
 * too deep, committed or rolled back with none open, or with a savepoint
 * that failed; erasures whose keyring puncture fails after the commit.
 *
 * On SQLite and, with CU_TEST_STORE=pg, on PostgreSQL (docs/postgresql.md,
 * "Conformance"): there each directory's store is a schema of its own, named
 * by CUSTODIAN_CUSTODIAN_STORE as the operator would name it, and what init
 * must not leave behind includes the store's tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/access.h"
#include "audit/checkpoint.h"
#include "ctx/ctx.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "support.h"
#include "vault/keyring.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define STORE_ENV      "CUSTODIAN_CUSTODIAN_STORE" /* the setting custodian.store */
#define STORE_URL_MAX  (PATH_MAX + 64) /* sqlite:DIR/custodian.db, or a test schema's url */
#define STORE_HEAD_MAX 128             /* meta's audit_head: "SEQ:" and a hash in hex */

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

static void put_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

/*
 * The store of the directories init_dir makes under tmp: on PostgreSQL a
 * fresh schema named through the environment (as cu_test_ctx_new does), its
 * url in url; on SQLite nothing to name (each directory's custodian.db), and
 * url "".
 */
static void store_for(const char *tmp, char *url, size_t len)
{
	url[0] = '\0';
	if (!cu_test_store_is_pg())
		return;
	cu_test_store_url(tmp, url, len);
	setenv(STORE_ENV, url, 1);
}

/* Drops what store_for made (nothing on SQLite). */
static void store_done(const char *url)
{
	if (!url[0])
		return;
	cu_test_store_drop(url);
	unsetenv(STORE_ENV);
}

/* Tables in the store at url (a PostgreSQL schema): none before init made it. */
static long long store_tables(const char *url)
{
	return cu_test_store_sql_int(url, "SELECT count(*) FROM information_schema.tables"
	                                  " WHERE table_schema = current_schema()");
}

/* The files init_dir makes (custodian.db only on SQLite). */
static size_t entries(const char *dir)
{
	char path[PATH_MAX + 32];
	struct stat st;
	size_t n = 0;
	static const char *const names[] = {"custodian.conf", "policy.json", "master.key",
	                                    "custodian.db"};

	for (size_t i = 0; i < N(names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		n += stat(path, &st) == 0;
	}
	return n;
}

/* ---- init_dir ------------------------------------------------------------ */

static void test_init_dir_refusals(void **state)
{
	char *tmp = cu_test_tmpdir(), dir[PATH_MAX], path[PATH_MAX + 32], err[512],
	     url[STORE_URL_MAX];
	struct stat st;

	(void)state;
	store_for(tmp, url, sizeof(url));
	/* A directory in use: refused, what it holds untouched. */
	snprintf(dir, sizeof(dir), "%s/used", tmp);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	put_text(path, "mine\n");
	err[0] = '\0';
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_ERR_EXISTS);
	assert_non_null(strstr(err, "already exists and is not empty; refusing to overwrite"));
	assert_true(cu_test_file_contains(path, "mine\n"));
	assert_int_equal(entries(dir), 0);

	/* A file where the directory would go. */
	assert_int_equal(cu_ctx_init_dir(path, NULL, err, sizeof(err)), CU_ERR_EXISTS);
	assert_true(cu_test_file_contains(path, "mine\n"));

	/* A parent that is not there: nothing made anywhere. */
	snprintf(dir, sizeof(dir), "%s/none/var", tmp);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot create '"));
	snprintf(path, sizeof(path), "%s/none", tmp);
	assert_int_equal(access(path, F_OK), -1);
	/* A parent that is a file: said as it is, not as a directory in use. */
	snprintf(path, sizeof(path), "%s/used/notes.txt/var", tmp);
	assert_int_equal(cu_ctx_init_dir(path, NULL, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot create '"));
	assert_non_null(strstr(err, "': Not a directory"));

	/* A policy that cannot be read, or does not load: the directory is not made. */
	snprintf(dir, sizeof(dir), "%s/var", tmp);
	snprintf(path, sizeof(path), "%s/absent.json", tmp);
	assert_int_equal(cu_ctx_init_dir(dir, path, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot read policy '"));
	assert_int_equal(access(dir, F_OK), -1);
	snprintf(path, sizeof(path), "%s/bad.json", tmp);
	put_text(path, "{\"version\":\"1\"}");
	assert_int_equal(cu_ctx_init_dir(dir, path, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_non_null(strstr(err, "bad.json: (top level): missing required key 'title'"));
	assert_int_equal(access(dir, F_OK), -1);

#ifdef CU_HAVE_POSTGRES
	/* A store that does not answer: what init made before it is taken back, the directory too. */
	setenv(STORE_ENV, "postgres://127.0.0.1:1/custodian", 1);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_ERR_STORE);
	assert_non_null(strstr(err, "cannot connect to the PostgreSQL store"));
	assert_int_equal(access(dir, F_OK), -1);
	if (url[0])
		setenv(STORE_ENV, url, 1);
	else
		unsetenv(STORE_ENV);
#endif

	/* None of the refusals reached the store. */
	if (url[0])
		assert_int_equal(store_tables(url), 0);

	/* An existing empty directory is used, and closed to everyone but the owner. */
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_OK);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(entries(dir), url[0] ? 3 : 4);
	/* On PostgreSQL the store is the schema, its chain begun by the birth entry. */
	if (url[0])
		assert_int_equal(cu_test_store_sql_int(url, "SELECT count(*) FROM audit"), 1);

	/*
	 * A store in use: another directory named onto the store just made (on
	 * SQLite its custodian.db, by url) is refused, the store's chain left
	 * as it was and the new directory not made.
	 */
	{
		char used[STORE_URL_MAX], head[STORE_HEAD_MAX], again[STORE_HEAD_MAX];
		static const char head_sql[] = "SELECT value FROM meta WHERE key = 'audit_head'";

		if (url[0])
			snprintf(used, sizeof(used), "%s", url);
		else
			snprintf(used, sizeof(used), "sqlite:%s/custodian.db", dir);
		setenv(STORE_ENV, used, 1);
		cu_test_store_sql_text(used, head_sql, head, sizeof(head));
		snprintf(path, sizeof(path), "%s/second", tmp);
		assert_int_equal(cu_ctx_init_dir(path, NULL, err, sizeof(err)), CU_ERR_EXISTS);
		assert_non_null(strstr(err, "already holds another data directory's audit chain"));
		assert_int_equal(access(path, F_OK), -1);
		assert_int_equal(cu_test_store_sql_int(used, "SELECT count(*) FROM audit"), 1);
		cu_test_store_sql_text(used, head_sql, again, sizeof(again));
		assert_string_equal(head, again);
		if (!url[0])
			unsetenv(STORE_ENV);
	}

	store_done(url);
	cu_test_rmdir(tmp);
}

/* ---- open ------------------------------------------------------------------ */

static void test_open_policy_by_absolute_path(void **state)
{
	char *tmp = cu_test_tmpdir(), dir[PATH_MAX], conf[PATH_MAX + 32], pol[PATH_MAX + 32],
	     text[PATH_MAX + 64], err[512] = "", url[STORE_URL_MAX];
	cu_ctx *ctx = NULL;

	(void)state;
	store_for(tmp, url, sizeof(url));
	snprintf(dir, sizeof(dir), "%s/var", tmp);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_OK);
	/* The policy moved out of the directory, named by an absolute path. */
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	snprintf(text, sizeof(text), "%s/elsewhere.json", tmp);
	assert_int_equal(rename(pol, text), 0);
	snprintf(conf, sizeof(conf), "%s/custodian.conf", dir);
	{
		FILE *f = fopen(conf, "a");

		assert_non_null(f);
		fprintf(f, "[custodian]\npolicy = %s\n", text);
		assert_int_equal(fclose(f), 0);
	}
	assert_int_equal(cu_ctx_open(dir, &ctx, err, sizeof(err)), CU_OK);
	assert_string_equal(ctx->config.policy, text);
	assert_true(ctx->policy->npurposes > 0);
	cu_ctx_close(ctx);
	store_done(url);
	cu_test_rmdir(tmp);
}

static void test_open_keyring_that_does_not_open(void **state)
{
	char *tmp, path[PATH_MAX], err[512] = "", url[STORE_URL_MAX];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	FILE *f;
	int c;

	(void)state;
	cu_test_ctx_store_url(ctx, url, sizeof(url));
	cu_ctx_close(ctx);
	ctx = NULL;
	/* One byte of the sealed keyring altered. */
	snprintf(path, sizeof(path), "%s/var/%s", tmp, CU_KEYRING_FILE);
	f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 40, SEEK_SET), 0);
	c = fgetc(f);
	assert_int_equal(fseek(f, 40, SEEK_SET), 0);
	fputc(c ^ 1, f);
	assert_int_equal(fclose(f), 0);
	snprintf(path, sizeof(path), "%s/var", tmp);
	assert_int_equal(cu_ctx_open(path, &ctx, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_null(ctx);
	assert_non_null(strstr(err, "does not open with the master keys loaded"));
	cu_test_store_drop(url);
	cu_test_rmdir(tmp);
}

static void register_one(cu_ctx *ctx, const char *email, char id[CU_ID_LEN + 1])
{
	const cu_kv kv[] = {{"name", "Orla Brennick"},
	                    {"address", "1 Old Road"},
	                    {"phone", "+81312345678"},
	                    {"email", email}};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs), CU_OK);
}

/* A store whose audit head was rewritten: the directory does not open (fail closed). */
static void test_open_audit_head_rewritten(void **state)
{
	char *tmp, path[PATH_MAX], err[512] = "", url[STORE_URL_MAX];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);

	(void)state;
	cu_test_ctx_store_url(ctx, url, sizeof(url));
	cu_ctx_close(ctx);
	ctx = (cu_ctx *)1;
	assert_int_equal(cu_test_store_sql(url, "UPDATE meta SET value = '1:"
	                                        "00112233445566778899aabbccddeeff001122334455667788"
	                                        "99aabbccddeeff' WHERE key = 'audit_head'"),
	                 1);
	snprintf(path, sizeof(path), "%s/var", tmp);
	assert_int_equal(cu_ctx_open(path, &ctx, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_null(ctx);
	assert_non_null(strstr(err, "cannot read the audit head: "));
	cu_test_store_drop(url);
	cu_test_rmdir(tmp);
}

/* ---- close ------------------------------------------------------------------- */

static char warned[1024];

static void warn(const char *line)
{
	snprintf(warned, sizeof(warned), "%s", line);
}

static void test_close_with_a_transaction_open(void **state)
{
	char *tmp, dir[PATH_MAX], err[512] = "", val[16] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	bool found = true;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/var", tmp);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_store_meta_set(ctx->store, "test_left_open", "1"), CU_OK);
	cu_ctx_close(ctx); /* two levels open: both undone */
	assert_int_equal(cu_ctx_open(dir, &ctx, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_meta_get(ctx->store, "test_left_open", val, sizeof(val), &found),
	                 CU_OK);
	assert_false(found);
	cu_test_ctx_free(ctx, tmp);
}

static void test_close_cannot_write_its_checkpoint(void **state)
{
	char *tmp, path[PATH_MAX], url[STORE_URL_MAX];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);

	(void)state;
	cu_test_ctx_store_url(ctx, url, sizeof(url));
	warned[0] = '\0';
	cu_ctx_audit_checkpoint_path(ctx, path, sizeof(path));
	/* Something else where the checkpoint file goes: evidence, not overwritten. */
	put_text(path, "not a checkpoint\n");
	ctx->audit_checkpoint_at_close = true;
	ctx->warn = warn;
	cu_ctx_close(ctx);
	assert_non_null(strstr(warned, "audit checkpoint not written: '"));
	assert_non_null(strstr(warned, "(line 1 is not a checkpoint)"));
	assert_true(cu_test_file_contains(path, "not a checkpoint\n"));

	/* Without a way to warn, a failing close is quiet and still frees everything. */
	snprintf(path, sizeof(path), "%s/var", tmp);
	{
		char err[512], id[CU_ID_LEN + 1];

		assert_int_equal(cu_ctx_open(path, &ctx, err, sizeof(err)), CU_OK);
		register_one(ctx, "new@example.com", id);
	}
	ctx->audit_checkpoint_at_close = true;
	warned[0] = '\0';
	cu_ctx_close(ctx);
	assert_string_equal(warned, "");
	snprintf(path, sizeof(path), "%s/var/%s", tmp, CU_AUDIT_CHECKPOINT_FILE);
	assert_true(cu_test_file_contains(path, "not a checkpoint\n"));
	cu_ctx_close(NULL);
	cu_test_store_drop(url);
	cu_test_rmdir(tmp);
}

/* ---- transactions -------------------------------------------------------------- */

static bool meta_has(cu_ctx *ctx, const char *key)
{
	char val[16];
	bool found = false;

	assert_int_equal(cu_store_meta_get(ctx->store, key, val, sizeof(val), &found), CU_OK);
	return found;
}

static void test_transactions_misused(void **state)
{
	char *tmp;
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	int depth;

	(void)state;
	/* Nothing open: a commit is a bug, a rollback does nothing. */
	assert_int_equal(cu_tx_commit(ctx), CU_ERR_INTERNAL);
	cu_tx_rollback(ctx);
	assert_int_equal(ctx->tx_depth, 0);

	/* As deep as savepoints go, and no deeper. */
	for (depth = 0; depth <= CU_STORE_SAVEPOINTS_MAX; depth++)
		assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_tx_begin(ctx), CU_ERR_INTERNAL);
	assert_int_equal(ctx->tx_depth, CU_STORE_SAVEPOINTS_MAX + 1);
	while (ctx->tx_depth > 1)
		assert_int_equal(cu_tx_commit(ctx), CU_OK);
	cu_tx_rollback(ctx);
	assert_int_equal(ctx->tx_depth, 0);

	/* An inner rollback undoes only its own level. */
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_store_meta_set(ctx->store, "test_outer", "1"), CU_OK);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_store_meta_set(ctx->store, "test_inner", "1"), CU_OK);
	cu_tx_rollback(ctx);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	assert_true(meta_has(ctx, "test_outer"));
	assert_false(meta_has(ctx, "test_inner"));

	/*
	 * A savepoint that could not be undone fails every level above it and
	 * the outermost commit: nothing of the batch is written.
	 */
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_store_meta_set(ctx->store, "test_failed", "1"), CU_OK);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	ctx->tx_failed = 1;
	cu_tx_rollback(ctx); /* stays failed, nothing undone at this level */
	assert_int_equal(ctx->tx_depth, 2);
	assert_int_equal(cu_tx_commit(ctx), CU_ERR_STORE);
	assert_int_equal(cu_tx_commit(ctx), CU_ERR_STORE);
	assert_int_equal(ctx->tx_depth, 0);
	assert_false(meta_has(ctx, "test_failed"));
	/* The next transaction starts clean. */
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(ctx->tx_failed, 0);
	cu_tx_rollback(ctx);
	cu_test_ctx_free(ctx, tmp);
}

static void test_shred_after_commit(void **state)
{
	char *tmp, id[CU_ID_LEN + 1], gone[CU_ID_LEN + 1], lock[PATH_MAX], other[CU_ID_LEN + 8];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	uint32_t tree = cu_keyring_current_tree(ring);
	size_t punctured = 0;

	(void)state;
	register_one(ctx, "kept@example.com", id);
	register_one(ctx, "gone@example.com", gone);
	/* Refused outside a transaction and for what is not a member id. */
	assert_int_equal(cu_ctx_shred_after_commit(ctx, id), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_ctx_shred_after_commit(NULL, id), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_ctx_shred_after_commit(ctx, NULL), CU_ERR_INVALID_ARGUMENT);
	memset(other, 'A', sizeof(other) - 1);
	other[sizeof(other) - 1] = '\0';
	assert_int_equal(cu_ctx_shred_after_commit(ctx, other), CU_ERR_INVALID_ARGUMENT);
	/* Members not erased (or not there at all) are not punctured by a commit. */
	for (int i = 0; i < 12; i++) {
		snprintf(other, sizeof(other), "AAAAAAAAAAAAAAAAAAAA%02d", i);
		other[CU_ID_LEN] = '\0';
		assert_int_equal(cu_ctx_shred_after_commit(ctx, other), CU_OK);
	}
	assert_int_equal(cu_ctx_shred_after_commit(ctx, id), CU_OK);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	assert_false(cu_keyring_punctured(ring, tree, id));
	assert_int_equal(ctx->nshred, 0);

	/*
	 * The keyring cannot be locked when the erasure commits: the erasure
	 * stands, the failure is told, and reconciling later punctures the leaf.
	 */
	snprintf(lock, sizeof(lock), "%s/var/%s", tmp, CU_KEYRING_LOCK_FILE);
	unlink(lock);
	assert_int_equal(mkdir(lock, 0700), 0);
	warned[0] = '\0';
	ctx->warn = warn;
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, gone, NULL, 1, NULL), CU_OK);
	assert_non_null(strstr(warned, "keyring not punctured after an erasure: cannot lock"));
	assert_false(cu_keyring_punctured(ring, tree, gone));
	assert_int_equal(rmdir(lock), 0);
	assert_int_equal(cu_erasure_reconcile(ctx, &punctured), CU_OK);
	assert_int_equal(punctured, 1);
	assert_true(cu_keyring_punctured(ring, tree, gone));
	assert_false(cu_keyring_punctured(ring, tree, id));
	ctx->warn = NULL;
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_init_dir_refusals),
	    cmocka_unit_test(test_open_policy_by_absolute_path),
	    cmocka_unit_test(test_open_keyring_that_does_not_open),
	    cmocka_unit_test(test_open_audit_head_rewritten),
	    cmocka_unit_test(test_close_with_a_transaction_open),
	    cmocka_unit_test(test_close_cannot_write_its_checkpoint),
	    cmocka_unit_test(test_transactions_misused),
	    cmocka_unit_test(test_shred_after_commit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
