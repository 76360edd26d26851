/*
 * test_disk_full.c — the key files, the keyring, the checkpoint file and a
 * new data directory when the disk refuses writes: each writer says so and
 * leaves what was there as it was (or nothing, for what it was creating).
 *
 * The disk is the fault shim of tests/faults/fail_writes.c: the test binary
 * runs itself again with it preloaded ($CU_BINARY_DIR/fail_writes.so), and
 * each test arms it (a control file) for a directory of its own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "ctx/ctx.h"
#include "store/store.h"
#include "support.h"
#include "vault/keyring.h"
#include "vault/stream.h"
#include "vault/vault.h"

#define KEY1   "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define MEMBER "Zm9vYmFyYmF6cXV4cXV1eA"

struct fx {
	char *tmp;
	char dir[PATH_MAX + 16];     /* where writes fail while armed */
	char control[PATH_MAX + 16]; /* exists: armed */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char real[PATH_MAX];

	if (!f)
		return -1;
	f->tmp = cu_test_tmpdir();
	/* The shim compares the descriptor's real path with the directory. */
	if (!realpath(f->tmp, real))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/disk", real);
	snprintf(f->control, sizeof(f->control), "%s/control", real);
	if (mkdir(f->dir, 0700))
		return -1;
	setenv("CU_FAULT_DIR", f->dir, 1);
	setenv("CU_FAULT_CONTROL", f->control, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	unlink(f->control);
	cu_test_rmdir(f->tmp);
	free(f);
	return 0;
}

static void arm(struct fx *f, bool on)
{
	if (on) {
		FILE *c = fopen(f->control, "w");

		assert_non_null(c);
		assert_int_equal(fclose(c), 0);
	} else {
		assert_int_equal(unlink(f->control), 0);
	}
}

static void in_dir(const struct fx *f, const char *name, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", f->dir, name);
}

/* The shim is in place: a write under the directory fails while armed, and only then. */
static void test_the_disk_fills_up(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX + 64];
	int fd;

	in_dir(f, "probe", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	arm(f, true);
	errno = 0;
	assert_int_equal(write(fd, "x", 1), -1);
	assert_int_equal(errno, ENOSPC);
	arm(f, false);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static void test_key_files(void **state)
{
	struct fx *f = *state;
	char keys[PATH_MAX + 64], fresh[PATH_MAX + 64], backup[PATH_MAX + 64], err[512] = "";
	uint32_t id = 0;
	cu_vault *v = NULL;

	in_dir(f, "master.key", keys, sizeof(keys));
	in_dir(f, "fresh.key", fresh, sizeof(fresh));
	in_dir(f, "backup.key", backup, sizeof(backup));
	assert_int_equal(cu_vault_create_file(keys), CU_OK);
	assert_int_equal(cu_stream_key_file_create(backup), CU_OK);
	arm(f, true);

	/* New key files: refused, and no empty or half file left behind. */
	assert_int_equal(cu_vault_create_file(fresh), CU_ERR_IO);
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(access(fresh, F_OK), -1);
	assert_int_equal(cu_stream_key_file_create(fresh), CU_ERR_IO);
	assert_int_equal(access(fresh, F_OK), -1);

	/* Rotation: refused, and the file keeps its one key. */
	assert_int_equal(cu_vault_file_add_key(keys, 0, &id, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot write master key file '"));
	assert_int_equal(id, 0);
	assert_int_equal(cu_stream_key_file_rotate(backup, &id, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot write backup key file '"));
	assert_int_equal(id, 0);
	arm(f, false);

	assert_int_equal(cu_vault_open_file(keys, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 1);
	cu_vault_free(v);
	assert_int_equal(cu_stream_key_file_open(backup, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 1);
	cu_vault_free(v);
}

static void test_keyring(void **state)
{
	struct fx *f = *state;
	char path[PATH_MAX + 64], err[512] = "";
	const char *ids[] = {MEMBER};
	cu_vault *v = NULL;
	cu_keyring *r = NULL, *again = NULL;
	uint32_t tree, id = 0;
	size_t changed = 9;

	assert_int_equal(cu_vault_open_text(KEY1, &v, err, sizeof(err)), CU_OK);
	in_dir(f, CU_KEYRING_FILE, path, sizeof(path));
	arm(f, true);
	/* Not made at all on a full disk. */
	assert_int_equal(cu_keyring_open(v, path, true, &r, err, sizeof(err)), CU_ERR_IO);
	assert_null(r);
	assert_non_null(strstr(err, "cannot write keyring '"));
	assert_int_equal(access(path, F_OK), -1);
	arm(f, false);

	assert_int_equal(cu_keyring_open(v, path, true, &r, err, sizeof(err)), CU_OK);
	tree = cu_keyring_current_tree(r);
	arm(f, true);
	assert_int_equal(cu_keyring_puncture(r, ids, 1, &changed, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "No space left on device"));
	assert_int_equal(changed, 0);
	assert_int_equal(cu_keyring_add_tree(r, &id, err, sizeof(err)), CU_ERR_IO);
	arm(f, false);
	/* Neither in memory nor in the file did anything change. */
	assert_false(cu_keyring_punctured(r, tree, MEMBER));
	assert_int_equal(cu_keyring_current_tree(r), tree);
	assert_int_equal(cu_keyring_open(v, path, false, &again, err, sizeof(err)), CU_OK);
	assert_false(cu_keyring_punctured(again, tree, MEMBER));
	assert_int_equal(cu_keyring_trees(again, NULL, 0), 1);
	cu_keyring_free(again);
	cu_keyring_free(r);
	cu_vault_free(v);
}

static void test_checkpoint_file(void **state)
{
	struct fx *f = *state;
	char url[PATH_MAX + 96], ck[PATH_MAX + 96], err[512] = "";
	cu_vault *v = NULL;
	cu_store *s = NULL;
	cu_audit *a = NULL;
	cu_audit_checkpoint cp;
	bool written = false;

	/* The store on a disk that works; the checkpoint file on the full one. */
	snprintf(url, sizeof(url), "sqlite:%s/store.db", f->tmp);
	assert_int_equal(cu_store_open(url, &s, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_audit_open(s, &a), CU_OK);
	assert_int_equal(cu_vault_open_text(KEY1, &v, err, sizeof(err)), CU_OK);
	in_dir(f, CU_AUDIT_CHECKPOINT_FILE, ck, sizeof(ck));
	arm(f, true);
	assert_int_equal(
	    cu_audit_checkpoint_save(s, v, NULL, ck, true, &cp, &written, err, sizeof(err)),
	    CU_ERR_IO);
	assert_non_null(strstr(err, "cannot write '"));
	assert_true(written); /* the store has it */
	assert_int_equal(access(ck, F_OK), -1);
	assert_int_equal(cu_audit_checkpoint_write_file(ck, &cp), CU_ERR_IO);
	arm(f, false);
	assert_int_equal(cu_audit_checkpoint_write_file(ck, &cp), CU_OK);
	cu_audit_free(a);
	cu_store_close(s);
	cu_vault_free(v);
}

static void test_init_dir(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX + 64], err[512] = "";

	in_dir(f, "var", dir, sizeof(dir));
	arm(f, true);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot write '"));
	/* Nothing half-written: the directory it made is gone again. */
	assert_int_equal(access(dir, F_OK), -1);
	arm(f, false);
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_OK);
}

/* A data directory on a full disk does not open: the store cannot start its journal. */
static void test_ctx_open(void **state)
{
	struct fx *f = *state;
	char dir[PATH_MAX + 64], err[512] = "";
	cu_ctx *ctx = (cu_ctx *)1;

	in_dir(f, "var", dir, sizeof(dir));
	assert_int_equal(cu_ctx_init_dir(dir, NULL, err, sizeof(err)), CU_OK);
	arm(f, true);
	assert_int_equal(cu_ctx_open(dir, &ctx, err, sizeof(err)), CU_ERR_STORE);
	assert_null(ctx);
	assert_non_null(strstr(err, "disk I/O error"));
	assert_null(strchr(err, '\n'));
	arm(f, false);
	assert_int_equal(cu_ctx_open(dir, &ctx, err, sizeof(err)), CU_OK);
	cu_ctx_close(ctx);
}

/* The store on the full disk: no checkpoint is signed into it, and no file is written. */
static void test_checkpoint_store_full(void **state)
{
	struct fx *f = *state;
	char url[PATH_MAX + 96], ck[PATH_MAX + 96], err[512] = "";
	cu_vault *v = NULL;
	cu_store *s = NULL;
	cu_audit *a = NULL;
	bool written = true;
	cu_result rc;

	snprintf(url, sizeof(url), "sqlite:%s/store.db", f->dir);
	assert_int_equal(cu_store_open(url, &s, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_audit_open(s, &a), CU_OK);
	assert_int_equal(cu_vault_open_text(KEY1, &v, err, sizeof(err)), CU_OK);
	in_dir(f, CU_AUDIT_CHECKPOINT_FILE, ck, sizeof(ck));
	arm(f, true);
	rc = cu_audit_checkpoint_save(s, v, NULL, ck, true, NULL, &written, err, sizeof(err));
	arm(f, false);
	assert_int_equal(rc, CU_ERR_STORE);
	assert_non_null(strstr(err, "cannot store a checkpoint: "));
	assert_false(written);
	assert_int_equal(access(ck, F_OK), -1);
	cu_audit_free(a);
	cu_store_close(s);
	cu_vault_free(v);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_the_disk_fills_up, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_init_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctx_open, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_store_full, setup, teardown),
	};
	const char *bin = getenv("CU_BINARY_DIR");
	char shim[PATH_MAX];

	(void)argc;
	if (!getenv("CU_DISK_FULL_CHILD")) {
		/* Run again with the shim preloaded; ASan need not come first for it. */
		snprintf(shim, sizeof(shim), "%s/fail_writes.so", bin ? bin : ".");
		if (access(shim, R_OK)) {
			fprintf(stderr, "test_disk_full: no fault shim at '%s' (CU_BINARY_DIR)\n",
			        shim);
			return 1;
		}
		setenv("LD_PRELOAD", shim, 1);
		setenv("CU_DISK_FULL_CHILD", "1", 1);
		{
			/* Added to whatever the suite already asks of ASan (scripts/test-all sets some). */
			const char *was = getenv("ASAN_OPTIONS");
			char opts[1024];

			snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", was ? was : "",
			         was && *was ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
		}
		execv("/proc/self/exe", argv);
		perror("test_disk_full: exec");
		return 1;
	}
	unsetenv("CUSTODIAN_MASTER_KEY");
	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
