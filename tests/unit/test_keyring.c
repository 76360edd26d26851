/*
 * test_keyring.c — the member key tree (vault/keyring.h) and what it
 * promises about old backups (docs/keys.md, "What an old backup reveals"):
 *
 *   - a copy of the database taken before an erasure, opened with the live
 *     master key and the live keyring, does not open the erased member, and
 *     opens every other member;
 *   - a restore replays the erasure (cu_erasure_replay);
 *   - a copy of the keyring as old as the backup does open the member —
 *     which is why the keyring is replicated and never archived;
 *   - punctures from two processes are never lost; a tampered or exposed
 *     keyring file is refused; a directory that lost its keyring is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "access/access.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "store/store.h"
#include "support.h"
#include "vault/keyring.h"

#define N(a)     (sizeof(a) / sizeof((a)[0]))
#define PATH_LEN 1024

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out;
	char buf[8192];
	size_t n;

	assert_non_null(in);
	out = fopen(to, "wb");
	assert_non_null(out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		assert_int_equal(fwrite(buf, 1, n, out), n);
	fclose(in);
	assert_int_equal(fclose(out), 0);
	assert_int_equal(chmod(to, 0600), 0);
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

/* Whether the member's data key opens with ctx's keys. */
static cu_result unwrap(cu_ctx *ctx, const char *id)
{
	cu_member_row row;
	cu_data_key dk;
	cu_result rc;

	rc = cu_store_member_get(ctx->store, id, &row);
	if (rc)
		return rc;
	rc = row.erased ? CU_ERR_ERASED
	                : cu_vault_unwrap(ctx->vault, row.id, row.key_id, row.wrapped, &dk);
	cu_vault_data_key_wipe(&dk);
	cu_member_row_release(&row);
	return rc;
}

/*
 * A data directory `to` made of the live one's settings and keys, a copy of
 * the backup's store (its url in store, to drop) and the keyring given.
 */
static cu_ctx *assemble(const char *live, const char *to, const char *backup, const char *keyring,
                        char *store, size_t storelen)
{
	static const char *const files[] = {"custodian.conf", "policy.json", "master.key"};
	char a[PATH_LEN], b[PATH_LEN], err[256] = "";
	const char *env = getenv("CUSTODIAN_CUSTODIAN_STORE");
	char *live_store = env ? strdup(env) : NULL;
	cu_ctx *ctx = NULL;

	assert_int_equal(mkdir(to, 0700), 0);
	for (size_t i = 0; i < N(files); i++) {
		snprintf(a, sizeof(a), "%s/var/%s", live, files[i]);
		snprintf(b, sizeof(b), "%s/%s", to, files[i]);
		copy_file(a, b);
	}
	snprintf(b, sizeof(b), "%s/keyring", to);
	copy_file(keyring, b);
	/* The restored store, named as the operator would name it (the environment's setting). */
	cu_test_store_copy(backup, to, store, storelen);
	assert_int_equal(setenv("CUSTODIAN_CUSTODIAN_STORE", store, 1), 0);
	if (cu_ctx_open(to, &ctx, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
	if (live_store)
		assert_int_equal(setenv("CUSTODIAN_CUSTODIAN_STORE", live_store, 1), 0);
	else
		assert_int_equal(unsetenv("CUSTODIAN_CUSTODIAN_STORE"), 0);
	free(live_store);
	return ctx;
}

static void test_old_backup_with_live_keys(void **state)
{
	char *dir, kept[CU_ID_LEN + 1], gone[CU_ID_LEN + 1];
	char backup[PATH_LEN], old_ring[PATH_LEN], live_ring[PATH_LEN], restored[PATH_LEN],
	    olddir[PATH_LEN], live[PATH_LEN], store[PATH_LEN];
	cu_ctx *ctx = cu_test_ctx_new(&dir), *r, *o;
	size_t replayed = 0;

	(void)state;
	register_one(ctx, "kept@example.com", kept);
	register_one(ctx, "gone@example.com", gone);
	snprintf(live_ring, sizeof(live_ring), "%s/var/keyring", dir);
	snprintf(old_ring, sizeof(old_ring), "%s/keyring.old", dir);
	cu_test_ctx_store_url(ctx, live, sizeof(live));
	cu_test_store_copy(live, dir, backup, sizeof(backup));
	copy_file(live_ring, old_ring);

	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, gone, NULL, 1, NULL), CU_OK);
	assert_int_equal(unwrap(ctx, gone), CU_ERR_ERASED);
	assert_int_equal(unwrap(ctx, kept), CU_OK);

	/* The old backup with the live master key and the live keyring. */
	snprintf(restored, sizeof(restored), "%s/restored", dir);
	r = assemble(dir, restored, backup, live_ring, store, sizeof(store));
	assert_int_equal(unwrap(r, kept), CU_OK);
	assert_int_equal(unwrap(r, gone), CU_ERR_CRYPTO); /* the row is there, its key is not */
	{
		cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
		cu_access_request req = {.actor = &staff, .purpose = "support", .member = gone};
		cu_access_decision d;
		cu_record rec;

		cu_record_init(&rec);
		assert_int_not_equal(cu_access_read(r, &req, &d, &rec), CU_OK);
		assert_int_equal(rec.n, 0);
		cu_record_wipe(&rec);
		req.member = kept;
		assert_int_equal(cu_access_read(r, &req, &d, &rec), CU_OK);
		assert_true(rec.n > 0);
		cu_record_wipe(&rec);
	}
	/* The restore replays the erasure: the member is erased there too, once. */
	assert_int_equal(cu_erasure_replay(r, &replayed), CU_OK);
	assert_int_equal(replayed, 1);
	assert_int_equal(unwrap(r, gone), CU_ERR_ERASED);
	assert_int_equal(unwrap(r, kept), CU_OK);
	assert_int_equal(cu_erasure_replay(r, &replayed), CU_OK);
	assert_int_equal(replayed, 0);
	cu_ctx_close(r);
	cu_test_store_drop(store);

	/* What the docs warn of: a keyring copy as old as the backup opens it. */
	snprintf(olddir, sizeof(olddir), "%s/old", dir);
	o = assemble(dir, olddir, backup, old_ring, store, sizeof(store));
	assert_int_equal(unwrap(o, gone), CU_OK);
	cu_ctx_close(o);
	cu_test_store_drop(store);
	cu_test_store_drop(backup);
	cu_test_ctx_free(ctx, dir);
}

static void test_punctures_from_two_handles(void **state)
{
	char *dir, path[PATH_LEN], err[256];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_keyring *a, *b, *c;
	unsigned char before[CU_VAULT_KEYBYTES], after[CU_VAULT_KEYBYTES];
	const char *x[] = {"AAAAAAAAAAAAAAAAAAAAAA"}, *y[] = {"BBBBBBBBBBBBBBBBBBBBBA"};
	const char *z = "CCCCCCCCCCCCCCCCCCCCCA";
	uint32_t tree;
	size_t changed;

	(void)state;
	snprintf(path, sizeof(path), "%s/var/keyring", dir);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &a, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &b, err, sizeof(err)), CU_OK);
	tree = cu_keyring_current_tree(a);
	assert_int_equal(cu_keyring_member_kek(a, tree, z, before), CU_OK);
	/* b has not seen a's change when it makes its own: neither is lost. */
	assert_int_equal(cu_keyring_puncture(a, x, 1, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(cu_keyring_puncture(b, y, 1, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(cu_keyring_puncture(b, x, 1, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &c, err, sizeof(err)), CU_OK);
	assert_true(cu_keyring_punctured(c, tree, x[0]));
	assert_true(cu_keyring_punctured(c, tree, y[0]));
	assert_false(cu_keyring_punctured(c, tree, z));
	assert_int_equal(cu_keyring_member_kek(c, tree, x[0], after), CU_ERR_ERASED);
	/* Every other leaf keeps its key. */
	assert_int_equal(cu_keyring_member_kek(c, tree, z, after), CU_OK);
	assert_memory_equal(before, after, sizeof(before));
	/* c has z's leaf in its cache; another handle erases z: within a second c forgets it. */
	{
		const char *zz[] = {z};

		assert_int_equal(cu_keyring_puncture(a, zz, 1, &changed, err, sizeof(err)), CU_OK);
		assert_int_equal(changed, 1);
		usleep(1100 * 1000);
		assert_int_equal(cu_keyring_member_kek(c, tree, z, after), CU_ERR_ERASED);
	}
	cu_keyring_free(a);
	cu_keyring_free(b);
	cu_keyring_free(c);
	cu_test_ctx_free(ctx, dir);
}

/* Many punctures: every leaf left keeps its key, every punctured one is gone. */
static void test_many_punctures(void **state)
{
	enum { MEMBERS = 400 };
	char *dir, path[PATH_LEN], err[256], (*ids)[CU_ID_LEN + 1];
	unsigned char(*keks)[CU_VAULT_KEYBYTES], k[CU_VAULT_KEYBYTES];
	const char *gone[MEMBERS / 2];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_keyring *a, *b;
	uint32_t tree;
	size_t changed;

	(void)state;
	ids = calloc(MEMBERS, sizeof(*ids));
	keks = calloc(MEMBERS, sizeof(*keks));
	assert_non_null(ids);
	assert_non_null(keks);
	snprintf(path, sizeof(path), "%s/var/keyring", dir);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &a, err, sizeof(err)), CU_OK);
	tree = cu_keyring_current_tree(a);
	for (int i = 0; i < MEMBERS; i++) {
		cu_vault_random_id(ids[i]);
		assert_int_equal(cu_keyring_member_kek(a, tree, ids[i], keks[i]), CU_OK);
	}
	for (int i = 0; i < MEMBERS / 2; i++)
		gone[i] = ids[2 * i];
	/* Half in one batch, in two calls, to cover both paths. */
	assert_int_equal(cu_keyring_puncture(a, gone, 10, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, 10);
	assert_int_equal(
	    cu_keyring_puncture(a, gone + 10, MEMBERS / 2 - 10, &changed, err, sizeof(err)), CU_OK);
	assert_int_equal(changed, MEMBERS / 2 - 10);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &b, err, sizeof(err)), CU_OK);
	for (int i = 0; i < MEMBERS; i++) {
		if (i % 2 == 0) {
			assert_int_equal(cu_keyring_member_kek(b, tree, ids[i], k), CU_ERR_ERASED);
		} else {
			assert_int_equal(cu_keyring_member_kek(b, tree, ids[i], k), CU_OK);
			assert_memory_equal(k, keks[i], sizeof(k));
		}
	}
	cu_keyring_free(a);
	cu_keyring_free(b);
	free(ids);
	free(keks);
	cu_test_ctx_free(ctx, dir);
}

static void test_tampered_or_exposed_file_refused(void **state)
{
	char *dir, path[PATH_LEN], err[256];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_keyring *r = NULL;
	struct stat st;
	unsigned char byte;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/var/keyring", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	for (off_t at = 0; at < st.st_size; at += st.st_size / 7 + 1) {
		fd = open(path, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &byte, 1, at), 1);
		byte ^= 0x01;
		assert_int_equal(pwrite(fd, &byte, 1, at), 1);
		assert_int_equal(cu_keyring_open(ctx->vault, path, false, &r, err, sizeof(err)),
		                 CU_ERR_CRYPTO);
		assert_null(r);
		assert_non_null(strstr(err, "keyring"));
		byte ^= 0x01;
		assert_int_equal(pwrite(fd, &byte, 1, at), 1);
		close(fd);
	}
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &r, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cu_keyring_open(ctx->vault, path, false, &r, err, sizeof(err)), CU_OK);
	cu_keyring_free(r);
	cu_test_ctx_free(ctx, dir);
}

static void test_missing_keyring_refused(void **state)
{
	char *dir, path[PATH_LEN], data[PATH_LEN], err[512] = "";
	cu_ctx *ctx = cu_test_ctx_new(&dir), *again = NULL;

	(void)state;
	cu_ctx_close(ctx);
	snprintf(path, sizeof(path), "%s/var/keyring", dir);
	snprintf(data, sizeof(data), "%s/var", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(cu_ctx_open(data, &again, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_null(again);
	assert_non_null(strstr(err, "keyring"));
	/* And no new, empty keyring was made in its place. */
	assert_int_not_equal(access(path, F_OK), 0);
	cu_test_store_drop(getenv("CUSTODIAN_CUSTODIAN_STORE")); /* PostgreSQL's schema */
	cu_test_rmdir(dir);
}

static void test_new_tree(void **state)
{
	char *dir, old_member[CU_ID_LEN + 1], new_member[CU_ID_LEN + 1], err[256];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_keyring *ring = cu_vault_keyring(ctx->vault);
	cu_keyring_tree_info info[CU_KEYRING_TREES_MAX];
	cu_member_row row;
	uint32_t first, second;

	(void)state;
	first = cu_keyring_current_tree(ring);
	/* Tree ids never meet master key ids, so a key id names one key. */
	assert_true(first > cu_vault_current_key_id(ctx->vault));
	register_one(ctx, "before@example.com", old_member);
	assert_int_equal(cu_keyring_add_tree(ring, &second, err, sizeof(err)), CU_OK);
	assert_true(second > first);
	register_one(ctx, "after@example.com", new_member);
	assert_int_equal(cu_store_member_get(ctx->store, new_member, &row), CU_OK);
	assert_int_equal(row.key_id, second);
	assert_int_equal(row.wrapped[0], CU_VAULT_WRAP_TREE);
	cu_member_row_release(&row);
	assert_int_equal(unwrap(ctx, old_member), CU_OK);
	assert_int_equal(cu_keyring_trees(ring, info, N(info)), 2);
	assert_int_equal(info[0].id, first);
	assert_false(info[0].current);
	assert_true(info[1].current);
	/* An erasure punctures the member in every tree. */
	assert_int_equal(cu_erasure_carry_out(ctx, &cu_test_operator, old_member, NULL, 1, NULL),
	                 CU_OK);
	assert_true(cu_keyring_punctured(ring, first, old_member));
	assert_true(cu_keyring_punctured(ring, second, old_member));
	assert_int_equal(cu_keyring_drop_tree(ring, second, err, sizeof(err)), CU_ERR_CONFLICT);
	assert_int_equal(cu_keyring_drop_tree(ring, first, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_keyring_trees(ring, info, N(info)), 1);
	assert_int_equal(unwrap(ctx, new_member), CU_OK);
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_old_backup_with_live_keys),
	    cmocka_unit_test(test_punctures_from_two_handles),
	    cmocka_unit_test(test_many_punctures),
	    cmocka_unit_test(test_tampered_or_exposed_file_refused),
	    cmocka_unit_test(test_missing_keyring_refused),
	    cmocka_unit_test(test_new_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
