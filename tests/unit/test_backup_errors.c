/*
 * test_backup_errors.c — how backups fail (domain/backup.h): verify without
 * a backup key or under another directory's; containers sealed under the
 * right key whose manifest lies (about its id, its length, its checksum, its
 * layout) or whose body is not a whole zstd stream, each refused by verify
 * and by restore with nothing left behind; restore into a file, into a
 * directory whose keyring is a symbolic link, from a directory naming a
 * store URL; prune with nothing to prune and with a file named like a backup
 * that is not one (left alone, and refused by the key use); the manifest
 * parser on each field that lies.
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
#include <zstd.h>

#include "domain/backup.h"
#include "domain/members.h"
#include "support.h"
#include "vault/stream.h"
#include "vault/vault.h"

#define PATH_BYTES 4200
#define PAGE       512
#define BODY       (2 * PAGE)

static const cu_actor service = {"svc", CU_ROLE_SERVICE, NULL, NULL};

static void register_one(cu_ctx *ctx)
{
	cu_kv kv[] = {{"name", "Backup Member"},
	              {"address", "1-2-3 Shibuya"},
	              {"phone", "+819000000001"},
	              {"email", "backup-errors@example.org"}};
	char id[CU_ID_LEN + 1];
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, 4, NULL, id, &errs), CU_OK);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* What a crafted container's manifest says; the rest is filled in honestly. */
struct lie {
	const char *id;          /* NULL: the header's own */
	uint64_t database_bytes; /* 0: BODY */
	uint64_t page_size;      /* 0: PAGE */
	bool wrong_checksum;     /* the checksum of other bytes */
	enum { ZSTD_WHOLE, ZSTD_CUT, RAW } body;
};

/*
 * Writes path: a container sealed under dir's backup key, its body BODY bytes
 * (compressed as lie->body says), its manifest as lie says.
 */
static void craft(const char *dir, const char *path, const struct lie *lie)
{
	unsigned char db[BODY], sum[CU_BACKUP_CHECKSUMBYTES], z[BODY + 256];
	char keyfile[PATH_BYTES], hex[2 * CU_BACKUP_CHECKSUMBYTES + 1], manifest[1024],
	    err[CU_ERR_MSG_MAX] = "";
	cu_stream_writer *w = NULL;
	cu_vault *keys = NULL;
	cu_result rc;
	size_t zlen;
	int fd;

	for (size_t i = 0; i < sizeof(db); i++)
		db[i] = (unsigned char)(i * 7);
	crypto_generichash(sum, sizeof(sum), db, sizeof(db), NULL, 0);
	if (lie->wrong_checksum)
		sum[0] ^= 1;
	sodium_bin2hex(hex, sizeof(hex), sum, sizeof(sum));
	zlen = ZSTD_compress(z, sizeof(z), db, sizeof(db), 3);
	assert_false(ZSTD_isError(zlen));
	if (lie->body == ZSTD_CUT)
		zlen /= 2;

	snprintf(keyfile, sizeof(keyfile), "%s/%s", dir, CU_BACKUP_KEY_FILE);
	rc = cu_stream_key_file_create(keyfile);
	assert_true(rc == CU_OK || rc == CU_ERR_EXISTS); /* init made it */
	if (cu_stream_key_file_open(keyfile, &keys, err, sizeof(err)))
		fail_msg("backup key: %s", err);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(cu_stream_writer_new(keys, fd, &w), CU_OK);
	if (lie->body == RAW)
		assert_int_equal(cu_stream_write(w, db, sizeof(db)), CU_OK);
	else
		assert_int_equal(cu_stream_write(w, z, zlen), CU_OK);
	snprintf(manifest, sizeof(manifest),
	         "{\"format\":\"%s\",\"version\":%d,\"id\":\"%s\",\"created_us\":1,"
	         "\"schema_version\":1,\"members\":0,\"audit_entries\":0,\"audit_head_seq\":0,"
	         "\"master_key_ids\":[],\"tree_ids\":[],\"backup_key_id\":%u,"
	         "\"database_bytes\":%llu,\"page_size\":%llu,\"stored_bytes\":%zu,"
	         "\"compression_level\":3,\"checksum\":\"blake2b-256:%s\"}",
	         CU_BACKUP_FORMAT, CU_STREAM_VERSION, lie->id ? lie->id : cu_stream_writer_id(w),
	         (unsigned)cu_stream_writer_key_id(w),
	         (unsigned long long)(lie->database_bytes ? lie->database_bytes : BODY),
	         (unsigned long long)(lie->page_size ? lie->page_size : PAGE), zlen, hex);
	assert_int_equal(cu_stream_writer_finish(w, manifest, strlen(manifest)), CU_OK);
	cu_stream_writer_free(w);
	assert_int_equal(fsync(fd), 0);
	assert_int_equal(close(fd), 0);
	cu_vault_free(keys);
}

/* verify and restore of file both refuse it with CU_ERR_CRYPTO and words; nothing is left. */
static void refused(cu_ctx *ctx, const char *tmp, const char *file, const char *words)
{
	char into[PATH_BYTES], err[CU_ERR_MSG_MAX] = "";
	cu_backup_restore_report rep;
	cu_backup_manifest m;

	assert_int_equal(cu_backup_verify(ctx->dir, file, NULL, NULL, &m, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	if (!strstr(err, words))
		fail_msg("verify of %s: expected '%s', got '%s'", file, words, err);
	snprintf(into, sizeof(into), "%s/restored", tmp);
	err[0] = '\0';
	assert_int_equal(
	    cu_backup_restore(ctx->dir, file, into, NULL, NULL, &rep, err, sizeof(err)),
	    CU_ERR_CRYPTO);
	if (!strstr(err, words))
		fail_msg("restore of %s: expected '%s', got '%s'", file, words, err);
	assert_false(exists(into));
}

static void test_manifests_that_lie(void **state)
{
	char *tmp, file[PATH_BYTES], other[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	unsigned long long audit_before = cu_test_audit_count(ctx);
	struct {
		const char *name;
		struct lie lie;
		const char *words;
	} cases[] = {
	    {"id", {.id = other}, "manifest does not match its header"},
	    {"short", {.database_bytes = PAGE}, "longer than its manifest says"},
	    {"long", {.database_bytes = 4 * PAGE}, "checksum does not match"},
	    {"sum", {.wrong_checksum = true}, "checksum does not match"},
	    {"cut", {.body = ZSTD_CUT}, "compressed stream ends early"},
	    {"raw", {.body = RAW}, "does not decompress"},
	    {"page", {.page_size = 1000}, "not a backup manifest"},
	    {"tiny", {.page_size = 256, .database_bytes = 512}, "not a backup manifest"},
	    {"ragged", {.database_bytes = BODY + 1}, "not a backup manifest"},
	};

	(void)state;
	cu_vault_random_id(other);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(file, sizeof(file), "%s/%s.cubackup", tmp, cases[i].name);
		craft(ctx->dir, file, &cases[i].lie);
		refused(ctx, tmp, file, cases[i].words);
	}
	/* Refusing writes nothing to the audit log. */
	assert_int_equal(cu_test_audit_count(ctx), audit_before);
	cu_test_ctx_free(ctx, tmp);
}

static void test_keys_missing_or_wrong(void **state)
{
	char *tmp, *other = cu_test_tmpdir(), file[CU_DATA_PATH_MAX], path[PATH_BYTES],
	           err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_backup_manifest m;

	(void)state;
	register_one(ctx);
	if (cu_backup_create(ctx, NULL, NULL, NULL, file, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	/* A directory with no backup key: refused, and no key file is made by looking. */
	assert_int_not_equal(cu_backup_verify(other, file, NULL, NULL, &m, err, sizeof(err)),
	                     CU_OK);
	assert_true(err[0] != '\0');
	snprintf(path, sizeof(path), "%s/%s", other, CU_BACKUP_KEY_FILE);
	assert_false(exists(path));
	/* Another directory's key: the file key does not open. */
	assert_int_equal(cu_backup_key_rotate(other, err, sizeof(err)), CU_OK);
	err[0] = '\0';
	assert_int_equal(cu_backup_verify(other, file, NULL, NULL, &m, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_true(err[0] != '\0');
	/* A backup that is not there. */
	snprintf(path, sizeof(path), "%s/absent.cubackup", tmp);
	assert_int_equal(cu_backup_verify(ctx->dir, path, NULL, NULL, &m, err, sizeof(err)),
	                 CU_ERR_IO);
	assert_non_null(strstr(err, "cannot open backup"));
	/* The good one still verifies under its own key. */
	assert_int_equal(cu_backup_verify(ctx->dir, file, NULL, NULL, &m, err, sizeof(err)), CU_OK);
	cu_test_rmdir(other);
	cu_test_ctx_free(ctx, tmp);
}

static void test_restore_refusals(void **state)
{
	char *tmp, file[CU_DATA_PATH_MAX], into[PATH_BYTES], ring[PATH_BYTES], moved[PATH_BYTES],
	    conf[PATH_BYTES + 32], copy[PATH_BYTES], cmd[3 * PATH_BYTES], err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_backup_restore_report rep;
	cu_backup_manifest m;
	FILE *f;

	(void)state;
	register_one(ctx);
	if (cu_backup_create(ctx, NULL, NULL, NULL, file, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);

	/* Into a file: refused, the file untouched. */
	snprintf(into, sizeof(into), "%s/a-file", tmp);
	f = fopen(into, "w");
	assert_non_null(f);
	fputs("keep", f);
	fclose(f);
	assert_int_equal(
	    cu_backup_restore(ctx->dir, file, into, NULL, NULL, &rep, err, sizeof(err)),
	    CU_ERR_EXISTS);
	assert_non_null(strstr(err, "not a directory"));
	assert_true(cu_test_file_contains(into, "keep"));

	/* An empty NEWDIR is an argument error. */
	assert_int_equal(cu_backup_restore(ctx->dir, file, "", NULL, NULL, &rep, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);

	/* The keyring a symbolic link: restore copies files, not links; all it wrote is removed. */
	snprintf(ring, sizeof(ring), "%s/keyring", ctx->dir);
	snprintf(moved, sizeof(moved), "%s/keyring.real", ctx->dir);
	assert_int_equal(rename(ring, moved), 0);
	assert_int_equal(symlink(moved, ring), 0);
	snprintf(into, sizeof(into), "%s/restored", tmp);
	err[0] = '\0';
	assert_int_equal(
	    cu_backup_restore(ctx->dir, file, into, NULL, NULL, &rep, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "not a file or a directory of files"));
	assert_false(exists(into));
	assert_int_equal(unlink(ring), 0);
	assert_int_equal(rename(moved, ring), 0);

	/* A directory whose configuration names a store URL: refused before anything is made. */
	snprintf(copy, sizeof(copy), "%s/conf-copy", tmp);
	snprintf(cmd, sizeof(cmd), "cp -a '%s' '%s'", ctx->dir, copy);
	assert_int_equal(system(cmd), 0);
	snprintf(conf, sizeof(conf), "%s/custodian.conf", copy);
	f = fopen(conf, "a");
	assert_non_null(f);
	fputs("\n[custodian]\nstore = postgresql://localhost/none\n", f);
	fclose(f);
	err[0] = '\0';
	assert_int_equal(cu_backup_restore(copy, file, into, NULL, NULL, &rep, err, sizeof(err)),
	                 CU_ERR_CONFIG);
	assert_non_null(strstr(err, "store URL"));
	assert_false(exists(into));

	/* And after all that, the backup restores. */
	if (cu_backup_restore(ctx->dir, file, into, NULL, NULL, &rep, err, sizeof(err)))
		fail_msg("restore: %s", err);
	assert_int_equal(rep.replayed, 0);
	cu_test_ctx_free(ctx, tmp);
}

static void test_prune_and_key_use(void **state)
{
	char *tmp, a[CU_DATA_PATH_MAX], b[CU_DATA_PATH_MAX], dir[CU_DATA_PATH_MAX],
	    junk[PATH_BYTES + 32], err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	unsigned long long audit_before;
	cu_backup_prune_report rep;
	cu_backup_key_use use;
	cu_backup_manifest m;
	FILE *f;

	(void)state;
	/* Nothing to prune: no backup directory yet; nothing removed, nothing audited. */
	audit_before = cu_test_audit_count(ctx);
	assert_int_equal(cu_backup_prune(ctx, cu_now_us(), &rep, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.kept, 0);
	assert_int_equal(rep.removed, 0);
	assert_int_equal(rep.unreadable, 0);
	assert_int_equal(cu_test_audit_count(ctx), audit_before);
	assert_int_equal(cu_backup_key_ids_in_use(ctx, &use, err, sizeof(err)), CU_OK);
	assert_int_equal(use.backups, 0);

	register_one(ctx);
	if (cu_backup_create(ctx, NULL, NULL, NULL, a, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	if (cu_backup_create(ctx, NULL, NULL, NULL, b, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_string_not_equal(a, b);
	cu_backup_dir(ctx, dir);
	snprintf(junk, sizeof(junk), "%s/custodian-junk.cubackup", dir);
	f = fopen(junk, "w");
	assert_non_null(f);
	fputs("not a backup", f);
	fclose(f);

	/* A file named like a backup that is not one: the key use refuses to guess. */
	err[0] = '\0';
	assert_int_equal(cu_backup_key_ids_in_use(ctx, &use, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "custodian-junk.cubackup"));

	/* Keep one, by count only: the older is removed, the junk left alone and counted. */
	ctx->config.backup_keep_count = 1;
	ctx->config.backup_keep_days = 0;
	audit_before = cu_test_audit_count(ctx);
	assert_int_equal(cu_backup_prune(ctx, cu_now_us(), &rep, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.kept, 1);
	assert_int_equal(rep.removed, 1);
	assert_int_equal(rep.unreadable, 1);
	assert_true(exists(junk));
	assert_true(exists(a) != exists(b));
	assert_int_equal(cu_test_audit_count(ctx), audit_before + 1);
	/* Pruning again removes nothing more and writes nothing. */
	assert_int_equal(cu_backup_prune(ctx, cu_now_us(), &rep, err, sizeof(err)), CU_OK);
	assert_int_equal(rep.removed, 0);
	assert_int_equal(cu_test_audit_count(ctx), audit_before + 1);
	cu_test_ctx_free(ctx, tmp);
}

static void test_backup_dir_absolute_and_to(void **state)
{
	char *tmp, *elsewhere = cu_test_tmpdir(), file[CU_DATA_PATH_MAX], to[PATH_BYTES],
	           err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	cu_backup_manifest m;
	char *long_to;

	(void)state;
	register_one(ctx);
	/* An absolute [backup] dir is used as it is. */
	snprintf(ctx->config.backup_dir, sizeof(ctx->config.backup_dir), "%s/kept", elsewhere);
	if (cu_backup_create(ctx, NULL, NULL, NULL, file, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_int_equal(strncmp(file, elsewhere, strlen(elsewhere)), 0);
	/* --to an existing file: refused, the file untouched. */
	snprintf(to, sizeof(to), "%s/taken.cubackup", tmp);
	{
		FILE *f = fopen(to, "w");

		assert_non_null(f);
		fputs("mine", f);
		fclose(f);
	}
	assert_int_not_equal(cu_backup_create(ctx, to, NULL, NULL, file, &m, err, sizeof(err)),
	                     CU_OK);
	assert_true(cu_test_file_contains(to, "mine"));
	/* A path longer than any the directory can name. */
	long_to = malloc(CU_DATA_PATH_MAX + 16);
	assert_non_null(long_to);
	memset(long_to, 'a', CU_DATA_PATH_MAX + 15);
	long_to[0] = '/';
	long_to[CU_DATA_PATH_MAX + 15] = '\0';
	err[0] = '\0';
	assert_int_equal(cu_backup_create(ctx, long_to, NULL, NULL, file, &m, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "too long"));
	free(long_to);
	cu_test_rmdir(elsewhere);
	cu_test_ctx_free(ctx, tmp);
}

struct phases {
	unsigned calls;
	char last[32];
	uint64_t done, total;
};

static void on_progress(void *ud, const char *phase, uint64_t done, uint64_t total)
{
	struct phases *p = ud;

	p->calls++;
	snprintf(p->last, sizeof(p->last), "%s", phase);
	p->done = done;
	p->total = total;
}

static void test_places_and_settings(void **state)
{
	char *tmp, file[CU_DATA_PATH_MAX], blocker[PATH_BYTES + 128], path[PATH_BYTES + 64],
	    into[PATH_BYTES], err[CU_ERR_MSG_MAX] = "";
	cu_ctx *ctx = cu_test_ctx_new(&tmp);
	unsigned long long before;
	cu_backup_restore_report rep;
	cu_backup_prune_report pr;
	struct phases ph = {0};
	cu_backup_manifest m;
	FILE *f;

	(void)state;
	register_one(ctx);
	before = cu_test_audit_count(ctx);
	/* A backup directory that cannot be made: a file stands where its parent should be. */
	snprintf(blocker, sizeof(blocker), "%s/a-file", tmp);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	assert_true(strlen(blocker) + sizeof("/backups") <= sizeof(ctx->config.backup_dir));
	snprintf(ctx->config.backup_dir, sizeof(ctx->config.backup_dir), "%.*s/backups",
	         (int)(sizeof(ctx->config.backup_dir) - sizeof("/backups")), blocker);
	assert_int_equal(cu_backup_create(ctx, NULL, NULL, NULL, file, &m, err, sizeof(err)),
	                 CU_ERR_IO);
	assert_non_null(strstr(err, "cannot create backup directory"));
	/* --to into a directory that is not there. */
	snprintf(path, sizeof(path), "%s/no-such-dir/b.cubackup", tmp);
	err[0] = '\0';
	assert_int_equal(cu_backup_create(ctx, path, NULL, NULL, file, &m, err, sizeof(err)),
	                 CU_ERR_IO);
	assert_non_null(strstr(err, "cannot create"));
	assert_int_equal(cu_test_audit_count(ctx), before);

	/* Zstd's fast mode on worker threads: a backup that verifies and restores. */
	ctx->config.backup_dir[0] = '\0';
	ctx->config.backup_fast = 1;
	ctx->config.backup_threads = 1;
	if (cu_backup_create(ctx, NULL, on_progress, &ph, file, &m, err, sizeof(err)))
		fail_msg("backup: %s", err);
	assert_true(ph.calls > 0);
	assert_int_equal(m.level, -1);
	memset(&ph, 0, sizeof(ph));
	if (cu_backup_verify(ctx->dir, file, on_progress, &ph, &m, err, sizeof(err)))
		fail_msg("verify: %s", err);
	assert_true(ph.calls > 0);
	assert_string_equal(ph.last, "checking");
	memset(&ph, 0, sizeof(ph));
	snprintf(into, sizeof(into), "%s/restored", tmp);
	if (cu_backup_restore(ctx->dir, file, into, on_progress, &ph, &rep, err, sizeof(err)))
		fail_msg("restore: %s", err);
	assert_true(ph.calls > 0);
	assert_string_equal(ph.last, "restoring");

	/* Verify from a data directory that is not there: no temporary file anywhere. */
	snprintf(path, sizeof(path), "%s/no-such-dir", tmp);
	err[0] = '\0';
	assert_int_equal(cu_backup_verify(path, file, NULL, NULL, &m, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "temporary file"));
	assert_int_equal(cu_backup_verify(NULL, file, NULL, NULL, &m, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);

	/* Files not named like backups are not backups: prune neither reads nor counts them. */
	cu_backup_dir(ctx, path);
	snprintf(blocker, sizeof(blocker), "%s/.partial.cubackup", path);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(blocker, sizeof(blocker), "%s/notes.txt", path);
	f = fopen(blocker, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(cu_backup_prune(ctx, cu_now_us(), &pr, err, sizeof(err)), CU_OK);
	assert_int_equal(pr.kept, 1);
	assert_int_equal(pr.removed, 0);
	assert_int_equal(pr.unreadable, 0);
	assert_true(exists(blocker));
	assert_int_equal(cu_backup_key_rotate(NULL, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	cu_test_ctx_free(ctx, tmp);
}

/* The parser, one lie at a time, starting from an honest manifest. */
static void test_manifest_parse(void **state)
{
#define HONEST                                                                                     \
	"{\"format\":\"custodian-backup\",\"version\":1,\"id\":\"%s\",\"created_us\":5,"           \
	"\"schema_version\":3,\"members\":2,\"audit_entries\":4,\"audit_head_seq\":4,"             \
	"\"master_key_ids\":[1],\"tree_ids\":[2,3],\"backup_key_id\":1,"                           \
	"\"database_bytes\":4096,\"page_size\":4096,\"stored_bytes\":100,"                         \
	"\"compression_level\":3,\"checksum\":\"blake2b-256:"                                      \
	"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\"}"
	static const char *const lies[][2] = {
	    {"\"format\":\"custodian-backup\"", "\"format\":\"tarball\""},
	    {"\"version\":1", "\"version\":2"},
	    {"\"version\":1", "\"version\":-1"},
	    {"\"created_us\":5", "\"created_us\":\"5\""},
	    {"\"schema_version\":3", "\"schema_version\":4294967296"},
	    {"\"members\":2", "\"members\":-2"},
	    {"\"audit_entries\":4", "\"audit_entries\":null"},
	    {"\"audit_head_seq\":4", "\"audit_head_seq\":4.5"},
	    {"\"backup_key_id\":1", "\"backup_key_id\":4294967296"},
	    {"\"database_bytes\":4096", "\"database_bytes\":[]"},
	    {"\"page_size\":4096", "\"page_size\":{}"},
	    {"\"stored_bytes\":100", "\"stored_bytes\":true"},
	    {"\"compression_level\":3", "\"compression_level\":\"3\""},
	    {"\"compression_level\":3", "\"compression_level\":99"},
	    {"\"compression_level\":3", "\"compression_level\":-999999"},
	    {"blake2b-256:00", "sha256:00"},
	    {"ccddeeff\"}", "ccdd\"}"},
	    {"ccddeeff\"}", "ccddeefg\"}"},
	    {"\"master_key_ids\":[1]", "\"master_key_ids\":[0]"},
	    {"\"master_key_ids\":[1]", "\"master_key_ids\":[4294967296]"},
	    {"\"master_key_ids\":[1]", "\"master_key_ids\":[\"1\"]"},
	    {"\"master_key_ids\":[1]", "\"master_key_ids\":1"},
	    {"\"tree_ids\":[2,3]", "\"tree_ids\":null"},
	    {"\"tree_ids\":[2,3]", "\"tree_ids\":[2,-3]"},
	    {"\"members\":2,", "\"members\":2,\"members\":3,"},
	};
	char id[CU_ID_LEN + 1], text[2048], lie[2048];
	cu_backup_manifest m;

	(void)state;
	cu_vault_random_id(id);
	snprintf(text, sizeof(text), HONEST, id);
	assert_int_equal(cu_backup_manifest_parse(text, &m), CU_OK);
	assert_string_equal(m.id, id);
	assert_int_equal(m.n_master_key_ids, 1);
	assert_int_equal(m.n_tree_ids, 2);
	assert_int_equal(m.tree_ids[1], 3);
	assert_int_equal(m.page_size, 4096);
	assert_int_equal(m.checksum[1], 0x11);
	for (size_t i = 0; i < sizeof(lies) / sizeof(lies[0]); i++) {
		const char *at = strstr(text, lies[i][0]);
		size_t head;

		assert_non_null(at);
		head = (size_t)(at - text);
		snprintf(lie, sizeof(lie), "%.*s%s%s", (int)head, text, lies[i][1],
		         at + strlen(lies[i][0]));
		if (cu_backup_manifest_parse(lie, &m) != CU_ERR_CRYPTO)
			fail_msg("manifest accepted: %s", lie);
	}
	/* Not an id, not an object, not JSON. */
	snprintf(lie, sizeof(lie), HONEST, "not-an-id");
#undef HONEST
	assert_int_equal(cu_backup_manifest_parse(lie, &m), CU_ERR_CRYPTO);
	assert_int_equal(cu_backup_manifest_parse("[1,2]", &m), CU_ERR_CRYPTO);
	assert_int_equal(cu_backup_manifest_parse("{", &m), CU_ERR_CRYPTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifests_that_lie),
	    cmocka_unit_test(test_keys_missing_or_wrong),
	    cmocka_unit_test(test_restore_refusals),
	    cmocka_unit_test(test_prune_and_key_use),
	    cmocka_unit_test(test_backup_dir_absolute_and_to),
	    cmocka_unit_test(test_places_and_settings),
	    cmocka_unit_test(test_manifest_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
