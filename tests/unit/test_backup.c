/*
 * test_backup.c — backups through the library (domain/backup.h): a backup
 * of a store with members passes verify (SQLite's integrity check of the
 * stream's pages put back in place, across the lock-byte page, moved into
 * reach for this process) and restores them; its manifest counts them and
 * names the key tree; the erasure replay (the live keyring) erases in the
 * restored store exactly the members erased after the backup; a restore into a used
 * directory is refused; rotating the backup key makes later backups use
 * the new key while older ones still open, and the key use lists both;
 * the audit log records backups and restores.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/backup.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "support.h"
#include "util/file_read.h"
#include "vault/keyring.h"

#define PATH_BYTES   4200
#define MEMBERS      40
#define LOCK_BYTE_AT 0x10000

static const cu_actor service = {"svc", CU_ROLE_SERVICE, NULL, NULL};

static void register_n(cu_ctx *ctx, char ids[][CU_ID_LEN + 1], size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char email[64], phone[32];
		cu_kv kv[] = {{"name", "Backup Member"},
		              {"address", "1-2-3 Shibuya"},
		              {"phone", phone},
		              {"email", email}};
		cu_errors errs;

		snprintf(email, sizeof(email), "member%zu@example.org", i);
		snprintf(phone, sizeof(phone), "+8190%08zu", i);
		cu_errors_init(&errs);
		assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, ids[i], &errs),
		                 CU_OK);
	}
}

static bool erased_in(const char *dir, const char *id)
{
	char err[CU_ERR_MSG_MAX] = "";
	cu_member_row row = {0};
	cu_ctx *ctx = NULL;
	bool erased;

	if (cu_ctx_open(dir, &ctx, err, sizeof(err)))
		fail_msg("open %s: %s", dir, err);
	assert_int_equal(cu_store_member_get(ctx->store, id, &row), CU_OK);
	erased = row.erased;
	cu_member_row_release(&row);
	cu_ctx_close(ctx);
	return erased;
}

static void test_backup_restore_replay(void **state)
{
	char *tmp, ids[MEMBERS][CU_ID_LEN + 1], file[CU_DATA_PATH_MAX], into[PATH_BYTES + 16],
	    busy[PATH_BYTES], err[CU_ERR_MSG_MAX] = "";
	cu_backup_restore_report rep;
	cu_backup_manifest m, v;
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	uint64_t audit_before;
	FILE *f;

	(void)state;
	register_n(ctx, ids, MEMBERS);
	/* Erased before the backup: in it as erased, not replayed. */
	assert_int_equal(
	    cu_erasure_carry_out(ctx, &cu_test_operator, ids[0], NULL, cu_now_us(), NULL), CU_OK);
	audit_before = cu_test_audit_count(ctx);
	if (cu_backup_create(ctx, NULL, NULL, NULL, file, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_int_equal(cu_test_audit_count(ctx), audit_before + 1);
	assert_int_equal(m.members, MEMBERS);
	/* New members' data keys are wrapped under the keyring's current tree. */
	assert_int_equal(m.n_master_key_ids, 0);
	assert_int_equal(m.n_tree_ids, 1);
	assert_int_equal(m.tree_ids[0], cu_keyring_current_tree(cu_vault_keyring(ctx->vault)));
	assert_int_equal(m.backup_key_id, 1);
	assert_int_equal(m.audit_head_seq, audit_before);
	assert_int_equal(m.database_bytes % m.page_size, 0);
	assert_true(m.database_bytes > LOCK_BYTE_AT + m.page_size); /* the gap is inside */
	assert_non_null(strstr(file, "/backups/custodian-"));
	/* Erased after it: the replay must erase these two in the restored store. */
	assert_int_equal(
	    cu_erasure_carry_out(ctx, &cu_test_operator, ids[1], NULL, cu_now_us(), NULL), CU_OK);
	assert_int_equal(
	    cu_erasure_carry_out(ctx, &cu_test_operator, ids[2], NULL, cu_now_us(), NULL), CU_OK);

	if (cu_backup_verify(ctx->dir, file, NULL, NULL, &v, err, sizeof(err)))
		fail_msg("verify: %s", err);
	assert_string_equal(v.id, m.id);
	assert_memory_equal(v.checksum, m.checksum, sizeof(m.checksum));

	/* A used directory is refused and left alone. */
	snprintf(busy, sizeof(busy), "%s/busy", tmp);
	assert_int_equal(mkdir(busy, 0700), 0);
	snprintf(into, sizeof(into), "%s/keep", busy);
	f = fopen(into, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(
	    cu_backup_restore(ctx->dir, file, busy, NULL, NULL, &rep, err, sizeof(err)),
	    CU_ERR_EXISTS);
	assert_int_equal(access(into, F_OK), 0);

	snprintf(into, sizeof(into), "%s/restored", tmp);
	if (cu_backup_restore(ctx->dir, file, into, NULL, NULL, &rep, err, sizeof(err)))
		fail_msg("restore: %s", err);
	assert_int_equal(rep.replayed, 2);
	assert_int_equal(rep.files_copied, 5); /* conf, policy, master.key, backup.key, keyring */
	{
		/* The live keyring, with the punctures of the erasures since, copied as it is. */
		char a[PATH_BYTES + 32], b[PATH_BYTES + 32];
		size_t la = 0, lb = 0;
		char *x, *y;
		struct stat st;

		snprintf(a, sizeof(a), "%s/keyring", ctx->dir);
		snprintf(b, sizeof(b), "%s/keyring", into);
		assert_int_equal(stat(b, &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);
		x = cu_file_read_bounded(a, 1 << 24, &la);
		y = cu_file_read_bounded(b, 1 << 24, &lb);
		assert_non_null(x);
		assert_non_null(y);
		assert_int_equal(la, lb);
		assert_memory_equal(x, y, la);
		free(x);
		free(y);
	}
	assert_true(erased_in(into, ids[0]));
	assert_true(erased_in(into, ids[1]));
	assert_true(erased_in(into, ids[2]));
	for (size_t i = 3; i < MEMBERS; i++)
		assert_false(erased_in(into, ids[i]));
	/* A restored member opens with the copied master key. */
	{
		cu_ctx *r = NULL;
		cu_member_row row = {0};
		cu_data_key dk;

		assert_int_equal(cu_ctx_open(into, &r, err, sizeof(err)), CU_OK);
		assert_int_equal(cu_store_member_get(r->store, ids[5], &row), CU_OK);
		assert_int_equal(cu_vault_unwrap(r->vault, ids[5], row.key_id, row.wrapped, &dk),
		                 CU_OK);
		cu_vault_data_key_wipe(&dk);
		cu_member_row_release(&row);
		cu_ctx_close(r);
	}
	cu_test_ctx_free(ctx, tmp);
}

static void test_key_rotation_and_use(void **state)
{
	char *tmp, ids[2][CU_ID_LEN + 1], first[CU_DATA_PATH_MAX], second[CU_DATA_PATH_MAX],
	    err[CU_ERR_MSG_MAX] = "";
	cu_backup_manifest m1, m2, v;
	cu_backup_key_use use;
	cu_ctx *ctx = cu_test_ctx_new(&tmp);

	(void)state;
	register_n(ctx, ids, 2);
	/* A directory made before backup.key existed: the first backup makes it. */
	if (cu_backup_create(ctx, NULL, NULL, NULL, first, &m1, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_int_equal(m1.backup_key_id, 1);
	assert_int_equal(cu_backup_key_rotate(ctx->dir, err, sizeof(err)), CU_OK);
	snprintf(second, sizeof(second), "%s/second.cubackup", ctx->dir);
	if (cu_backup_create(ctx, second, NULL, NULL, NULL, &m2, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_int_equal(m2.backup_key_id, 2);
	/* Never over an existing file. */
	assert_int_equal(cu_backup_create(ctx, second, NULL, NULL, NULL, NULL, err, sizeof(err)),
	                 CU_ERR_EXISTS);
	/* Both open with the rotated file. */
	assert_int_equal(cu_backup_verify(ctx->dir, first, NULL, NULL, &v, err, sizeof(err)),
	                 CU_OK);
	assert_int_equal(cu_backup_verify(ctx->dir, second, NULL, NULL, &v, err, sizeof(err)),
	                 CU_OK);
	/* The backup directory holds only the first: key 1 in use, and master key 1. */
	assert_int_equal(cu_backup_key_ids_in_use(ctx, &use, err, sizeof(err)), CU_OK);
	assert_int_equal(use.backups, 1);
	assert_int_equal(use.n_backup_key_ids, 1);
	assert_int_equal(use.backup_key_ids[0], 1);
	assert_int_equal(use.n_master_key_ids, 0);
	assert_int_equal(use.n_tree_ids, 1);
	assert_int_equal(use.tree_ids[0], cu_keyring_current_tree(cu_vault_keyring(ctx->vault)));
	cu_test_ctx_free(ctx, tmp);
}

int main(void)
{
	/*
	 * SQLite never writes the page holding its lock byte (at 1 GiB); the
	 * backup stream must carry it as the zeros a file holds there.  Moved to
	 * 64 KiB for this process, before any database opens, every backup here
	 * crosses it.
	 */
	if (sqlite3_test_control(SQLITE_TESTCTRL_PENDING_BYTE, LOCK_BYTE_AT) != 0x40000000) {
		fprintf(stderr, "test_backup: SQLite would not move its lock byte\n");
		return 1;
	}
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_backup_restore_replay),
	    cmocka_unit_test(test_key_rotation_and_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
