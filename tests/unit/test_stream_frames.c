/*
 * test_stream_frames.c — backup containers (src/vault/stream.h) refused for
 * each reason the reader names: headers, trailers and lengths wrong, chunks
 * with a tag or a length that the writer never makes (built by hand with
 * the file key, so they authenticate and only the framing is at fault), a
 * writer whose disk fails; and the backup key file's refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"
#include "vault/stream.h"

#define HEX1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX2 "2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110"
#define ID   "QmFja3VwSWRCYWNrdXBJZA" /* a well-formed backup id */

static const char manifest[] = "{\"format\":\"custodian-backup\"}";

struct fx {
	char *dir;
	char file[PATH_MAX], keyfile[PATH_MAX];
	cu_vault *keys;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];

	if (!f)
		return -1;
	f->dir = cu_test_tmpdir();
	snprintf(f->file, sizeof(f->file), "%s/b.cubackup", f->dir);
	snprintf(f->keyfile, sizeof(f->keyfile), "%s/backup.key", f->dir);
	if (cu_vault_open_text("3 " HEX1 "\n", &f->keys, err, sizeof(err)))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_vault_free(f->keys);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* One message of a hand-built stream. */
struct msg {
	const char *pt; /* may be "" */
	unsigned char tag;
	bool ad; /* the header and manifest as associated data, as the writer's final one */
};

/*
 * Builds a container as stream.h describes it, with the messages given
 * instead of the writer's, into a malloc'd buffer (*len bytes).
 */
static unsigned char *build(const cu_vault *keys, const struct msg *m, size_t n, size_t *len)
{
	unsigned char *buf = malloc(1 << 16), *p, ad[CU_STREAM_HEADER_BYTES + sizeof(manifest)];
	crypto_secretstream_xchacha20poly1305_state st;
	size_t mlen = strlen(manifest);
	unsigned long long clen;
	cu_data_key fk;
	uint32_t kid;

	assert_non_null(buf);
	memcpy(buf, "CUBACKUP", 8);
	buf[8] = CU_STREAM_VERSION;
	memcpy(buf + 13, ID, CU_ID_LEN);
	cu_vault_data_key_new(&fk);
	assert_int_equal(cu_vault_wrap(keys, ID, &fk, buf + 13 + CU_ID_LEN, &kid), CU_OK);
	put32(buf + 9, kid);
	assert_int_equal(crypto_secretstream_xchacha20poly1305_init_push(
	                     &st, buf + 13 + CU_ID_LEN + CU_VAULT_WRAPPEDBYTES, fk.k),
	                 0);
	cu_vault_data_key_wipe(&fk);
	memcpy(ad, buf, CU_STREAM_HEADER_BYTES);
	memcpy(ad + CU_STREAM_HEADER_BYTES, manifest, mlen);
	p = buf + CU_STREAM_HEADER_BYTES;
	for (size_t i = 0; i < n; i++) {
		crypto_secretstream_xchacha20poly1305_push(
		    &st, p + 4, &clen, (const unsigned char *)m[i].pt, strlen(m[i].pt),
		    m[i].ad ? ad : NULL, m[i].ad ? CU_STREAM_HEADER_BYTES + mlen : 0, m[i].tag);
		put32(p, (uint32_t)clen);
		p += 4 + clen;
	}
	memcpy(p, manifest, mlen);
	p += mlen;
	put32(p, (uint32_t)mlen);
	memcpy(p + 4, "CUBKEND1", 8);
	p += 12;
	*len = (size_t)(p - buf);
	return buf;
}

static void put_file(const char *path, const unsigned char *b, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(b, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/* Reads path to its end with keys; the first failure's code, its message in err. */
static cu_result read_through(const char *path, const cu_vault *keys, char *err, size_t errlen,
                              size_t *chunks)
{
	unsigned char *buf = malloc(CU_STREAM_CHUNK_MAX);
	cu_stream_reader *r = NULL;
	bool done = false;
	size_t len;
	int fd = open(path, O_RDONLY);
	cu_result rc;

	assert_true(fd >= 0);
	assert_non_null(buf);
	err[0] = '\0';
	*chunks = 0;
	rc = cu_stream_reader_new(keys, fd, &r, err, errlen);
	while (!rc && !done) {
		rc = cu_stream_read(r, buf, &len, &done, err, errlen);
		if (!rc && !done)
			(*chunks)++;
	}
	if (!rc) {
		/* Once done, it stays done. */
		assert_int_equal(cu_stream_read(r, buf, &len, &done, err, errlen), CU_OK);
		assert_true(done);
		assert_int_equal(len, 0);
		assert_int_equal(cu_stream_reader_offset(r) + strlen(manifest) + 12,
		                 cu_stream_reader_size(r));
	}
	cu_stream_reader_free(r);
	close(fd);
	free(buf);
	return rc;
}

static void refused_msgs(struct fx *f, const struct msg *m, size_t n, const char *why)
{
	char err[CU_ERR_MSG_MAX];
	size_t len, chunks;
	unsigned char *b = build(f->keys, m, n, &len);

	put_file(f->file, b, len);
	free(b);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

#define MESSAGE crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define FINAL   crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define PUSH    crypto_secretstream_xchacha20poly1305_TAG_PUSH

static void test_hand_built_framing(void **state)
{
	struct fx *f = *state;
	char err[CU_ERR_MSG_MAX];
	size_t len, chunks;
	const struct msg good[] = {{"one", MESSAGE, false}, {"", FINAL, true}};
	const struct msg empty_msg[] = {{"", MESSAGE, false}, {"", FINAL, true}};
	const struct msg push[] = {{"one", PUSH, false}, {"", FINAL, true}};
	const struct msg final_text[] = {{"one", MESSAGE, false}, {"x", FINAL, false}};
	const struct msg early_final[] = {{"", FINAL, false}, {"one", MESSAGE, false}};
	const struct msg no_final[] = {{"one", MESSAGE, false}, {"two", MESSAGE, false}};
	unsigned char *b = build(f->keys, good, 2, &len);

	/* The builder's own container reads, so each refusal below is the framing's. */
	put_file(f->file, b, len);
	free(b);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_OK);
	assert_int_equal(chunks, 1);

	refused_msgs(f, empty_msg, 2, "unexpected chunk at byte 132");
	refused_msgs(f, push, 2, "unexpected chunk at byte 132");
	refused_msgs(f, final_text, 2, "bytes follow its final chunk");
	refused_msgs(f, early_final, 2, "bytes follow its final chunk");
	refused_msgs(f, no_final, 2, "ends without its final chunk");
	/* A final message without the header and manifest bound to it does not authenticate. */
	{
		const struct msg unbound[] = {{"one", MESSAGE, false}, {"", FINAL, false}};

		refused_msgs(f, unbound, 2, "does not authenticate");
	}
}

/* Rewrites one 32-bit field of the file at off. */
static void poke32(const char *path, long off, uint32_t v)
{
	unsigned char b[4];
	FILE *fp = fopen(path, "r+b");

	assert_non_null(fp);
	put32(b, v);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(b, 1, 4, fp), 4);
	assert_int_equal(fclose(fp), 0);
}

static void poke(const char *path, long off, const void *v, size_t n)
{
	FILE *fp = fopen(path, "r+b");

	assert_non_null(fp);
	assert_int_equal(fseek(fp, off, SEEK_SET), 0);
	assert_int_equal(fwrite(v, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static cu_result manifest_of(const char *path, char *err, size_t errlen, char **m)
{
	int fd = open(path, O_RDONLY);
	cu_result rc;

	assert_true(fd >= 0);
	err[0] = '\0';
	*m = NULL;
	rc = cu_stream_manifest_read(fd, m, NULL, NULL, NULL, err, errlen);
	close(fd);
	return rc;
}

static void refused_frame(struct fx *f, const char *why)
{
	char err[CU_ERR_MSG_MAX], *m;
	size_t chunks;

	assert_int_equal(manifest_of(f->file, err, sizeof(err), &m), CU_ERR_CRYPTO);
	assert_null(m);
	if (!strstr(err, why))
		fail_msg("manifest: '%s' does not say '%s'", err, why);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	if (!strstr(err, why))
		fail_msg("reader: '%s' does not say '%s'", err, why);
}

static void test_headers_trailers_lengths(void **state)
{
	struct fx *f = *state;
	const struct msg good[] = {
	    {"one", MESSAGE, false}, {"two", MESSAGE, false}, {"", FINAL, true}};
	size_t len, chunks, mlen = strlen(manifest);
	unsigned char *b = build(f->keys, good, 3, &len);
	long tail = (long)len - 12;
	char err[CU_ERR_MSG_MAX], *m = NULL, id[CU_ID_LEN + 1];
	uint32_t kid = 0;
	cu_vault *other = NULL;
	int fd;

#define RESET() put_file(f->file, b, len)
	RESET();
	fd = open(f->file, O_RDONLY);
	assert_int_equal(cu_stream_manifest_read(fd, NULL, NULL, NULL, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_manifest_read(fd, &m, &mlen, &kid, id, err, sizeof(err)), CU_OK);
	assert_string_equal(m, manifest);
	assert_int_equal(kid, 3);
	assert_string_equal(id, ID);
	free(m);
	close(fd);

	put_file(f->file, b, 164);
	refused_frame(f, "too short");
	RESET();
	poke(f->file, 0, "X", 1);
	refused_frame(f, "no CUBACKUP header");
	RESET();
	poke(f->file, 8, "\2", 1);
	refused_frame(f, "backup format version 2 is not known to this build (1)");
	RESET();
	poke(f->file, (long)len - 1, "2", 1);
	refused_frame(f, "no trailer");
	RESET();
	poke32(f->file, tail, 0);
	refused_frame(f, "the manifest length is wrong");
	poke32(f->file, tail, CU_STREAM_MANIFEST_MAX + 1);
	refused_frame(f, "the manifest length is wrong");
	/* Longer than the file leaves room for. */
	poke32(f->file, tail, (uint32_t)(len - CU_STREAM_HEADER_BYTES - 4 - 17 - 12 + 1));
	refused_frame(f, "the manifest length is wrong");
	RESET();
	poke(f->file, tail - 3, "\0", 1);
	refused_frame(f, "the manifest holds a NUL byte");

	/* A header whose backup id holds a character no id has. */
	RESET();
	poke(f->file, 13, "!", 1);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "the header's backup id is not an id"));
	/* Another id: the file key is bound to the id and no longer opens. */
	RESET();
	poke(f->file, 13, "R", 1);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "the file key does not open"));
	/* A backup key id the file does not hold. */
	RESET();
	poke32(f->file, 9, 4);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_string_equal(err, "backup key 4 is not in the backup key file");
	/* Same id, another key. */
	RESET();
	assert_int_equal(cu_vault_open_text("3 " HEX2 "\n", &other, err, sizeof(err)), CU_OK);
	assert_int_equal(read_through(f->file, other, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "not made with this backup key"));
	cu_vault_free(other);

	/* Chunk lengths: shorter than a tag, longer than a chunk, past the data. */
	poke32(f->file, CU_STREAM_HEADER_BYTES, 16);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_string_equal(err, "backup is damaged at byte 132: a chunk length is wrong");
	poke32(f->file, CU_STREAM_HEADER_BYTES, CU_STREAM_CHUNK_MAX + 18);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "a chunk length is wrong"));
	poke32(f->file, CU_STREAM_HEADER_BYTES, 1000);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "a chunk length is wrong"));
	/* The second chunk, one byte altered: the first still came out. */
	RESET();
	poke(f->file, CU_STREAM_HEADER_BYTES + 4 + 20 + 4 + 2, "\xff", 1);
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_ERR_CRYPTO);
	assert_int_equal(chunks, 1);
	assert_string_equal(err, "backup is damaged or altered: the chunk at byte 156 does not "
	                         "authenticate");
	RESET();
	assert_int_equal(read_through(f->file, f->keys, err, sizeof(err), &chunks), CU_OK);
	assert_int_equal(chunks, 2);
#undef RESET
	free(b);
}

static void test_not_a_file(void **state)
{
	struct fx *f = *state;
	char err[CU_ERR_MSG_MAX] = "", *m = NULL;
	cu_stream_reader *r = NULL;
	int fd = open(f->dir, O_RDONLY | O_DIRECTORY);

	assert_true(fd >= 0);
	assert_int_equal(cu_stream_manifest_read(fd, &m, NULL, NULL, NULL, err, sizeof(err)),
	                 CU_ERR_IO);
	assert_string_equal(err, "not a regular file");
	assert_int_equal(cu_stream_reader_new(f->keys, fd, &r, err, sizeof(err)), CU_ERR_IO);
	assert_null(r);
	assert_int_equal(cu_stream_reader_new(NULL, fd, &r, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_reader_new(f->keys, -1, &r, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_reader_new(f->keys, fd, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	close(fd);
}

static void test_reader_and_writer_arguments(void **state)
{
	struct fx *f = *state;
	const struct msg good[] = {{"one", MESSAGE, false}, {"", FINAL, true}};
	char err[CU_ERR_MSG_MAX], *big;
	unsigned char *b, buf[64];
	cu_stream_reader *r = NULL;
	cu_stream_writer *w = NULL;
	size_t len, got = 7;
	bool done = true;
	int fd;

	b = build(f->keys, good, 2, &len);
	put_file(f->file, b, len);
	free(b);
	fd = open(f->file, O_RDONLY);
	assert_int_equal(cu_stream_reader_new(f->keys, fd, &r, err, sizeof(err)), CU_OK);
	assert_string_equal(cu_stream_reader_id(r), ID);
	assert_int_equal(cu_stream_reader_key_id(r), 3);
	assert_int_equal(cu_stream_read(NULL, buf, &got, &done, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_read(r, NULL, &got, &done, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_read(r, buf, NULL, &done, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_read(r, buf, &got, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Nothing was consumed by the refusals. */
	assert_int_equal(cu_stream_reader_offset(r), CU_STREAM_HEADER_BYTES);
	assert_int_equal(cu_stream_read(r, buf, &got, &done, NULL, 0), CU_OK);
	assert_false(done);
	assert_int_equal(got, 3);
	assert_memory_equal(buf, "one", 3);
	cu_stream_reader_free(r);
	close(fd);

	fd = open(f->file, O_WRONLY | O_TRUNC);
	assert_int_equal(cu_stream_writer_new(f->keys, -1, &w), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_new(f->keys, fd, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_new(f->keys, fd, &w), CU_OK);
	assert_int_equal(cu_stream_writer_key_id(w), 3);
	assert_true(cu_vault_id_well_formed(cu_stream_writer_id(w)));
	assert_int_equal(cu_stream_write(NULL, buf, 1), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_write(w, NULL, 1), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_finish(NULL, manifest, 3), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_writer_finish(w, NULL, 3), CU_ERR_INVALID_ARGUMENT);
	big = calloc(1, CU_STREAM_MANIFEST_MAX + 2);
	memset(big, 'm', CU_STREAM_MANIFEST_MAX + 1);
	assert_int_equal(cu_stream_writer_finish(w, big, CU_STREAM_MANIFEST_MAX + 1),
	                 CU_ERR_INVALID_ARGUMENT);
	free(big);
	/* None of the refusals wrote a byte past the header. */
	assert_int_equal(cu_stream_writer_bytes(w), CU_STREAM_HEADER_BYTES);
	assert_int_equal(lseek(fd, 0, SEEK_END), CU_STREAM_HEADER_BYTES);
	cu_stream_writer_free(w);
	close(fd);
}

/* A disk that fails: the writer says so and stays failed. */
static void test_writer_on_a_failing_disk(void **state)
{
	struct fx *f = *state;
	cu_stream_writer *w = NULL;
	unsigned char b[16] = {1};
	int full = open("/dev/full", O_WRONLY), fd;

	if (full < 0)
		skip();
	assert_int_equal(cu_stream_writer_new(f->keys, full, &w), CU_ERR_IO);
	assert_null(w);
	/* A read-only descriptor cannot take the header either. */
	fd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_int_equal(cu_stream_writer_new(f->keys, fd, &w), CU_ERR_IO);
	close(fd);

	fd = open(f->file, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(cu_stream_writer_new(f->keys, fd, &w), CU_OK);
	assert_int_equal(cu_stream_write(w, b, sizeof(b)), CU_OK);
	/* The disk fills up under the writer. */
	assert_true(dup2(full, fd) == fd);
	assert_int_equal(cu_stream_write(w, b, sizeof(b)), CU_ERR_IO);
	assert_int_equal(cu_stream_write(w, b, sizeof(b)), CU_ERR_IO);
	assert_int_equal(cu_stream_writer_finish(w, manifest, strlen(manifest)), CU_ERR_IO);
	assert_int_equal(cu_stream_writer_bytes(w), CU_STREAM_HEADER_BYTES + 4 + 16 + 17);
	cu_stream_writer_free(w);
	close(fd);
	close(full);
}

/* ---- the backup key file -------------------------------------------------- */

static void write_text(const char *path, const char *text, size_t len, mode_t mode)
{
	put_file(path, (const unsigned char *)text, len);
	assert_int_equal(chmod(path, mode), 0);
}

static void key_refused(struct fx *f, cu_result want, const char *why)
{
	char err[CU_ERR_MSG_MAX] = "";
	cu_vault *v = (cu_vault *)1;

	assert_int_equal(cu_stream_key_file_open(f->keyfile, &v, err, sizeof(err)), want);
	assert_null(v);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void test_key_file_refusals(void **state)
{
	struct fx *f = *state;
	char err[CU_ERR_MSG_MAX], path[PATH_MAX + 16];
	static char big[65537];
	cu_vault *v = NULL;

	assert_int_equal(cu_stream_key_file_open(NULL, &v, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_key_file_open(f->keyfile, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	key_refused(f, CU_ERR_IO, "cannot open backup key file");
	assert_int_equal(mkdir(f->keyfile, 0700), 0);
	key_refused(f, CU_ERR_IO, "is not a regular file");
	assert_int_equal(rmdir(f->keyfile), 0);
	write_text(f->keyfile, "1 " HEX1 "\n", 67, 0644);
	key_refused(f, CU_ERR_CRYPTO, "has mode 0644");
	write_text(f->keyfile, "1 " HEX1 "\n\0", 68, 0600);
	key_refused(f, CU_ERR_CRYPTO, "too long or holds a NUL byte");
	memset(big, '#', sizeof(big));
	write_text(f->keyfile, big, sizeof(big), 0600);
	key_refused(f, CU_ERR_CRYPTO, "too long or holds a NUL byte");
	/* The parser's reason, naming this file and not "master key". */
	write_text(f->keyfile, "0 " HEX1 "\n", 67, 0600);
	key_refused(f, CU_ERR_CRYPTO, "backup key file '");
	key_refused(f, CU_ERR_CRYPTO, "': line 1: expected a key id");
	write_text(f->keyfile, "# none\n", 7, 0600);
	key_refused(f, CU_ERR_CRYPTO, "': no key found");
	/* The master key's variable never stands in for the backup key. */
	setenv("CUSTODIAN_MASTER_KEY", "1 " HEX1, 1);
	key_refused(f, CU_ERR_CRYPTO, "no key found");
	unsetenv("CUSTODIAN_MASTER_KEY");

	assert_int_equal(cu_stream_key_file_create(NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_key_file_create(""), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_key_file_create(f->keyfile), CU_ERR_EXISTS);
	snprintf(path, sizeof(path), "%s/none/backup.key", f->dir);
	assert_int_equal(cu_stream_key_file_create(path), CU_ERR_IO);
	assert_int_equal(access(path, F_OK), -1);
}

static void test_key_file_rotation_refusals(void **state)
{
	struct fx *f = *state;
	char err[CU_ERR_MSG_MAX], text[2048];
	static char big[65536];
	size_t n = 0;
	uint32_t id = 0;
	cu_vault *v = NULL;

	assert_int_equal(cu_stream_key_file_rotate(NULL, &id, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, &id, err, sizeof(err)), CU_ERR_IO);
	write_text(f->keyfile, "x\n", 2, 0600);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, &id, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "expected a key id"));

	for (int i = 1; i <= CU_VAULT_KEYS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%d %s\n", i, HEX1);
	write_text(f->keyfile, text, n, 0600);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, &id, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "holds 16 keys or the highest id"));
	write_text(f->keyfile, "2147483647 " HEX1 "\n", 76, 0600);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, &id, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "the highest id"));
	/* A file all but full of comments cannot take another line. */
	memset(big, '#', sizeof(big));
	big[sizeof(big) - 1] = '\n';
	memcpy(big, "1 " HEX1 "\n", 67);
	write_text(f->keyfile, big, sizeof(big) - 40, 0600);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, &id, err, sizeof(err)),
	                 CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "would grow past 65536 bytes"));
	assert_int_equal(id, 0);
	/* A last line without a newline: the new key goes on a line of its own. */
	write_text(f->keyfile, "4 " HEX1, 66, 0600);
	assert_int_equal(cu_stream_key_file_rotate(f->keyfile, NULL, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_stream_key_file_open(f->keyfile, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 2);
	assert_int_equal(cu_vault_current_key_id(v), 5);
	cu_vault_free(v);
	assert_true(cu_test_file_contains(f->keyfile, "4 " HEX1 "\n5 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hand_built_framing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_headers_trailers_lengths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_reader_and_writer_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writer_on_a_failing_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_rotation_refusals, setup, teardown),
	};

	unsetenv("CUSTODIAN_MASTER_KEY");
	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
