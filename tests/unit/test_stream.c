/*
 * test_stream.c — the backup container and the backup key file
 * (src/vault/stream.h): a stream of chunks comes back as written, with its
 * manifest; any one flipped byte anywhere in the file, and any cut, is
 * refused; another backup key does not open it; the key file is refused
 * when group or others can read it, rotation appends a key and older
 * containers still open; the manifest reads without a key.
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

#include "support.h"
#include "vault/stream.h"

#define PATH_BYTES 4200
#define NCHUNKS    3
#define CHUNK_LEN  1000

static const char manifest[] = "{\"format\":\"custodian-backup\",\"members\":3}";

struct fixture {
	char *dir;
	char keys_path[PATH_BYTES], file[PATH_BYTES];
	cu_vault *keys;
	unsigned char chunks[NCHUNKS][CHUNK_LEN];
};

/* Writes a container of NCHUNKS chunks (the last one shorter) to f->file. */
static void write_container(struct fixture *f, const cu_vault *keys)
{
	cu_stream_writer *w = NULL;
	int fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(cu_stream_writer_new(keys, fd, &w), CU_OK);
	for (int i = 0; i < NCHUNKS; i++)
		assert_int_equal(
		    cu_stream_write(w, f->chunks[i], i == NCHUNKS - 1 ? CHUNK_LEN / 2 : CHUNK_LEN),
		    CU_OK);
	assert_int_equal(cu_stream_writer_finish(w, manifest, strlen(manifest)), CU_OK);
	assert_int_equal((long long)cu_stream_writer_bytes(w), (long long)lseek(fd, 0, SEEK_END));
	cu_stream_writer_free(w);
	assert_int_equal(close(fd), 0);
}

/* Reads the container at path whole; CU_OK only if every chunk and the end authenticate. */
static cu_result read_container(const char *path, const cu_vault *keys, struct fixture *f,
                                bool compare)
{
	unsigned char *buf = malloc(CU_STREAM_CHUNK_MAX);
	char err[CU_ERR_MSG_MAX] = "";
	cu_stream_reader *r = NULL;
	size_t len;
	bool done = false;
	int fd = open(path, O_RDONLY), i = 0;
	cu_result rc;

	assert_true(fd >= 0);
	assert_non_null(buf);
	rc = cu_stream_reader_new(keys, fd, &r, err, sizeof(err));
	while (!rc && !done) {
		rc = cu_stream_read(r, buf, &len, &done, err, sizeof(err));
		if (!rc && !done && compare) {
			assert_true(i < NCHUNKS);
			assert_int_equal(len, i == NCHUNKS - 1 ? CHUNK_LEN / 2 : CHUNK_LEN);
			assert_memory_equal(buf, f->chunks[i], len);
			i++;
		}
	}
	if (!rc && compare) {
		assert_int_equal(i, NCHUNKS);
		assert_string_equal(cu_stream_reader_manifest(r), manifest);
	}
	if (rc)
		assert_true(err[0] != '\0'); /* a refusal says why, in one line */
	assert_null(strchr(err, '\n'));
	cu_stream_reader_free(r);
	close(fd);
	free(buf);
	return rc;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[CU_ERR_MSG_MAX];

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	snprintf(f->keys_path, sizeof(f->keys_path), "%s/backup.key", f->dir);
	snprintf(f->file, sizeof(f->file), "%s/b.cubackup", f->dir);
	assert_int_equal(cu_stream_key_file_create(f->keys_path), CU_OK);
	assert_int_equal(cu_stream_key_file_open(f->keys_path, &f->keys, err, sizeof(err)), CU_OK);
	randombytes_buf(f->chunks, sizeof(f->chunks));
	write_container(f, f->keys);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	cu_vault_free(f->keys);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	char id[CU_ID_LEN + 1], err[CU_ERR_MSG_MAX], *m = NULL;
	uint32_t key_id = 0;
	size_t len = 0;
	int fd;

	assert_int_equal(read_container(f->file, f->keys, f, true), CU_OK);
	/* The manifest without a key. */
	fd = open(f->file, O_RDONLY);
	assert_int_equal(cu_stream_manifest_read(fd, &m, &len, &key_id, id, err, sizeof(err)),
	                 CU_OK);
	close(fd);
	assert_string_equal(m, manifest);
	assert_int_equal(len, strlen(manifest));
	assert_int_equal(key_id, 1);
	assert_true(cu_vault_id_well_formed(id));
	free(m);
}

static unsigned char *slurp(const char *path, size_t *n)
{
	struct stat st;
	unsigned char *p;
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	assert_int_equal(fstat(fileno(fp), &st), 0);
	*n = (size_t)st.st_size;
	p = malloc(*n);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, *n, fp), *n);
	fclose(fp);
	return p;
}

static void spill(const char *path, const unsigned char *p, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

/* Every byte of the file, flipped one at a time: never accepted. */
static void test_every_flipped_byte_refused(void **state)
{
	struct fixture *f = *state;
	char bad[PATH_BYTES];
	size_t n;
	unsigned char *p = slurp(f->file, &n);

	snprintf(bad, sizeof(bad), "%s/bad.cubackup", f->dir);
	for (size_t i = 0; i < n; i++) {
		p[i] ^= 0x01;
		spill(bad, p, n);
		if (read_container(bad, f->keys, f, false) == CU_OK)
			fail_msg("a container with byte %zu flipped was accepted", i);
		p[i] ^= 0x01;
	}
	spill(bad, p, n);
	assert_int_equal(read_container(bad, f->keys, f, true), CU_OK);
	free(p);
}

/* Every cut, and bytes added at the end: never accepted. */
static void test_cut_refused(void **state)
{
	struct fixture *f = *state;
	char bad[PATH_BYTES];
	size_t n;
	unsigned char *p = slurp(f->file, &n), *q;

	snprintf(bad, sizeof(bad), "%s/cut.cubackup", f->dir);
	for (size_t len = 0; len < n; len++) {
		spill(bad, p, len);
		if (read_container(bad, f->keys, f, false) == CU_OK)
			fail_msg("a container cut to %zu of %zu bytes was accepted", len, n);
	}
	q = malloc(n + 1);
	assert_non_null(q);
	memcpy(q, p, n);
	q[n] = 'x';
	spill(bad, q, n + 1);
	assert_int_not_equal(read_container(bad, f->keys, f, false), CU_OK);
	free(q);
	free(p);
}

/* Another key file's key of the same id does not open it. */
static void test_other_key_refused(void **state)
{
	struct fixture *f = *state;
	char other[PATH_BYTES], err[CU_ERR_MSG_MAX];
	cu_vault *keys = NULL;

	snprintf(other, sizeof(other), "%s/other.key", f->dir);
	assert_int_equal(cu_stream_key_file_create(other), CU_OK);
	assert_int_equal(cu_stream_key_file_create(other), CU_ERR_EXISTS);
	assert_int_equal(cu_stream_key_file_open(other, &keys, err, sizeof(err)), CU_OK);
	assert_int_equal(read_container(f->file, keys, f, false), CU_ERR_CRYPTO);
	cu_vault_free(keys);
}

static void test_key_file_mode_and_rotation(void **state)
{
	struct fixture *f = *state;
	char path[PATH_BYTES], err[CU_ERR_MSG_MAX] = "";
	cu_vault *keys = NULL;
	uint32_t id = 0;
	struct stat st;

	snprintf(path, sizeof(path), "%s/rot.key", f->dir);
	assert_int_equal(cu_stream_key_file_create(path), CU_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Readable by the group: refused, the mode named. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cu_stream_key_file_open(path, &keys, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "0640"));
	assert_int_equal(chmod(path, 0600), 0);
	/* $CUSTODIAN_MASTER_KEY never stands in for the backup key file. */
	setenv("CUSTODIAN_MASTER_KEY",
	       "7 0000000000000000000000000000000000000000000000000000000000000000", 1);
	assert_int_equal(cu_stream_key_file_open(path, &keys, err, sizeof(err)), CU_OK);
	unsetenv("CUSTODIAN_MASTER_KEY");
	assert_int_equal(cu_vault_key_count(keys), 1);
	assert_int_equal(cu_vault_current_key_id(keys), 1);
	cu_vault_free(keys);
	/* Rotation: a second key, current; the file stays 0600. */
	assert_int_equal(cu_stream_key_file_rotate(path, &id, err, sizeof(err)), CU_OK);
	assert_int_equal(id, 2);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(cu_stream_key_file_open(path, &keys, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(keys), 2);
	assert_int_equal(cu_vault_current_key_id(keys), 2);
	cu_vault_free(keys);

	/* The fixture's file rotated: old containers still open, new ones use key 2. */
	assert_int_equal(cu_stream_key_file_rotate(f->keys_path, &id, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_stream_key_file_open(f->keys_path, &keys, err, sizeof(err)), CU_OK);
	assert_int_equal(read_container(f->file, keys, f, true), CU_OK);
	write_container(f, keys);
	{
		char *m = NULL;
		uint32_t kid = 0;
		int fd = open(f->file, O_RDONLY);

		assert_int_equal(
		    cu_stream_manifest_read(fd, &m, NULL, &kid, NULL, err, sizeof(err)), CU_OK);
		close(fd);
		free(m);
		assert_int_equal(kid, 2);
	}
	assert_int_equal(read_container(f->file, keys, f, true), CU_OK);
	/* The old vault (key 1 only) cannot open a container of key 2, and says so. */
	assert_int_equal(read_container(f->file, f->keys, f, false), CU_ERR_CRYPTO);
	cu_vault_free(keys);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	cu_stream_writer *w = NULL;
	unsigned char b = 0;
	int fd = open(f->file, O_WRONLY | O_APPEND);

	assert_true(fd >= 0);
	assert_int_equal(cu_stream_writer_new(NULL, fd, &w), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_new(f->keys, fd, &w), CU_OK);
	assert_int_equal(cu_stream_write(w, &b, 0), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_write(w, &b, CU_STREAM_CHUNK_MAX + 1), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_finish(w, "", 0), CU_ERR_INVALID_ARGUMENT);
	cu_stream_writer_free(w);
	cu_stream_writer_free(NULL);
	cu_stream_reader_free(NULL);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_flipped_byte_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cut_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_key_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_mode_and_rotation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
