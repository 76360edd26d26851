/*
 * test_vault_refusals.c — what the vault (src/vault/vault.c) refuses: key
 * files malformed in each way the parser names, and every function's bad
 * arguments.  Each case checks the code, the message where there is one,
 * and that nothing was handed out or written.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "support.h"
#include "vault/keyring.h"
#include "vault/vault.h"

#define HEX1   "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define HEX2   "2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110"
#define MEMBER "Zm9vYmFyYmF6cXV4cXV1eA"

static cu_vault *open_ok(const char *text)
{
	char err[256] = "";
	cu_vault *v = NULL;

	if (cu_vault_open_text(text, &v, err, sizeof(err)) != CU_OK)
		fail_msg("open_text: %s", err);
	return v;
}

static void write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	assert_non_null(f);
	buf = malloc(1 << 20);
	assert_non_null(buf);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static int dir_setup(void **state)
{
	*state = cu_test_tmpdir();
	return *state ? 0 : -1;
}

static int dir_teardown(void **state)
{
	cu_test_rmdir(*state);
	return 0;
}

static void join(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

/* ---- key text ------------------------------------------------------------ */

/* Text that must be refused with CU_ERR_CRYPTO and a message naming the reason. */
static void refused_text(const char *text, const char *why)
{
	char err[256] = "";
	cu_vault *v = (cu_vault *)1;

	assert_int_equal(cu_vault_open_text(text, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_null(v);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
	/* The message never quotes a key. */
	assert_null(strstr(err, "0102030405"));
}

static void test_key_text_each_reason(void **state)
{
	(void)state;
	refused_text("0 " HEX1 "\n", "line 1: expected a key id");
	refused_text("2147483648 " HEX1 "\n", "expected a key id");
	refused_text("12345678901 " HEX1 "\n", "expected a key id");
	refused_text("1x " HEX1 "\n", "expected a key id");
	refused_text("1 " HEX1 "\n\n# c\n1 " HEX2 "\n", "line 4: duplicate key id 1");
	refused_text("1 " HEX1 "0\n", "expected 64 hex digits");
	refused_text("1 0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	             "expected 64 hex digits");
	refused_text("1\n", "expected 64 hex digits");
	refused_text("1 " HEX1 " extra\n", "unexpected text after the key");
	refused_text("# only a comment\n\n   \n", "master key: no key found");
	refused_text("", "no key found");
	/* Blanks and CRs around a line are trimmed; the largest id is accepted. */
	{
		cu_vault *v = open_ok(" \t2147483647 \t" HEX1 " \r\n");

		assert_int_equal(cu_vault_current_key_id(v), 2147483647u);
		cu_vault_free(v);
	}
}

static void test_key_text_arguments(void **state)
{
	char err[64] = "x";
	cu_vault *v = NULL;

	(void)state;
	assert_int_equal(cu_vault_open_text(NULL, &v, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "master key: no key text");
	assert_int_equal(cu_vault_open_text("1 " HEX1, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	/* No room for a message is no reason to fail differently. */
	assert_int_equal(cu_vault_open_text("0 " HEX1, &v, NULL, 0), CU_ERR_CRYPTO);
	assert_null(v);
	assert_int_equal(cu_vault_open_text("0 " HEX1, &v, err, 0), CU_ERR_CRYPTO);
	/* A vault of nothing answers zero, not a crash. */
	assert_int_equal(cu_vault_current_key_id(NULL), 0);
	assert_int_equal(cu_vault_key_count(NULL), 0);
	assert_int_equal(cu_vault_key_id_at(NULL, 0), 0);
	v = open_ok("1 " HEX1);
	assert_int_equal(cu_vault_key_id_at(v, 1), 0);
	assert_null(cu_vault_keyring(v));
	assert_null(cu_vault_keyring(NULL));
	cu_vault_free(v);
	cu_vault_free(NULL);
	cu_vault_data_key_wipe(NULL);
}

/* ---- key files ----------------------------------------------------------- */

static void refused_file(const char *path, cu_result want, const char *why)
{
	char err[512] = "";
	cu_vault *v = (cu_vault *)1;

	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), want);
	assert_null(v);
	if (!strstr(err, why))
		fail_msg("'%s' does not say '%s'", err, why);
}

static void test_key_file_each_reason(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256];
	static char big[64 * 1024 + 2];
	const char nul[] = "1 " HEX1 "\n\0\n";
	cu_vault *v = NULL;

	join(path, sizeof(path), dir, "keys");
	refused_file(path, CU_ERR_IO, "cannot open master key file");
	refused_file(dir, CU_ERR_IO, "is not a regular file");

	write_file(path, nul, sizeof(nul) - 1, 0600);
	refused_file(path, CU_ERR_CRYPTO, "contains a NUL byte");

	memset(big, '#', sizeof(big) - 1);
	write_file(path, big, 64 * 1024 + 1, 0600);
	refused_file(path, CU_ERR_CRYPTO, "is larger than 65536 bytes");
	/* Exactly the bound is still a key file (all comment: no key). */
	big[0] = '1';
	memcpy(big + 1, " " HEX1 "\n", 66);
	write_file(path, big, 64 * 1024, 0600);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	cu_vault_free(v);

	write_file(path, "1 " HEX1 "\n", 67, 0640);
	refused_file(path, CU_ERR_CRYPTO, "has mode 0640");
	write_file(path, "1 " HEX1 "\n", 67, 0604);
	refused_file(path, CU_ERR_CRYPTO, "(chmod 600)");

	write_file(path, "1 " HEX1 "\n1 " HEX2 "\n", 134, 0600);
	refused_file(path, CU_ERR_CRYPTO, "line 2: duplicate key id 1");
	/* The message names the file, so an operator knows which one. */
	refused_file(path, CU_ERR_CRYPTO, "master key file '");

	assert_int_equal(cu_vault_open_file(NULL, &v, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "master key file: no path");
	assert_int_equal(cu_vault_open_file(path, NULL, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
}

static void test_create_file_refusals(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], cwd[PATH_MAX], err[256];
	cu_vault *v = NULL;

	assert_int_equal(cu_vault_create_file(NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_create_file(""), CU_ERR_INVALID_ARGUMENT);
	/* A parent that is not a directory: an I/O error, and nothing left behind. */
	join(path, sizeof(path), dir, "file");
	write_file(path, "x", 1, 0600);
	join(path, sizeof(path), dir, "file/keys");
	assert_int_equal(cu_vault_create_file(path), CU_ERR_IO);
	join(path, sizeof(path), dir, "none/keys");
	assert_int_equal(cu_vault_create_file(path), CU_ERR_IO);
	assert_int_equal(access(path, F_OK), -1);
	/* A relative name is created in the working directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(dir), 0);
	assert_int_equal(cu_vault_create_file("relkeys"), CU_OK);
	assert_int_equal(cu_vault_create_file("relkeys"), CU_ERR_EXISTS);
	assert_int_equal(chdir(cwd), 0);
	join(path, sizeof(path), dir, "relkeys");
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_current_key_id(v), 1);
	cu_vault_free(v);
}

/* ---- rotation ------------------------------------------------------------ */

static void test_add_key_refusals(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256], *text;
	uint32_t id = 0;
	size_t len;
	cu_vault *v = NULL;

	join(path, sizeof(path), dir, "keys");
	assert_int_equal(cu_vault_file_add_key(NULL, 0, &id, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_file_add_key(path, 0, NULL, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	/* A missing file is refused as an open would refuse it. */
	assert_int_equal(cu_vault_file_add_key(path, 0, &id, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "cannot open"));
	/* No id left above the largest. */
	write_file(path, "2147483647 " HEX1 "\n", 76, 0600);
	assert_int_equal(cu_vault_file_add_key(path, 0, &id, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "no key id left above 2147483647");
	assert_int_equal(id, 0);
	/* A last line without its newline gets one before the new key. */
	write_file(path, "1 " HEX1, 66, 0600);
	assert_int_equal(cu_vault_file_add_key(path, 7, &id, err, sizeof(err)), CU_OK);
	assert_int_equal(id, 7);
	text = read_all(path, &len);
	assert_memory_equal(text, "1 " HEX1 "\n7 ", 69);
	free(text);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 2);
	assert_int_equal(cu_vault_current_key_id(v), 7);
	cu_vault_free(v);
	/* The environment's keys cannot be rotated through a file. */
	setenv("CUSTODIAN_MASTER_KEY", "1 " HEX1, 1);
	assert_int_equal(cu_vault_file_add_key(path, 0, &id, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "$CUSTODIAN_MASTER_KEY"));
	unsetenv("CUSTODIAN_MASTER_KEY");
}

/*
 * A file that holds the most keys a vault loads takes no more: a 17th line
 * would make the file one that no process can open (every member lost until
 * an operator edits it by hand).
 */
static void test_add_key_refused_when_full(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256], text[2048];
	size_t len = 0;
	uint32_t id = 0;
	cu_vault *v = NULL;

	join(path, sizeof(path), dir, "keys");
	for (int i = 1; i <= CU_VAULT_KEYS_MAX; i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%d %s\n", i,
		                        i % 2 ? HEX1 : HEX2);
	write_file(path, text, len, 0600);
	assert_int_equal(cu_vault_file_add_key(path, 0, &id, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(err, "16 keys"));
	assert_int_equal(id, 0);
	/* The file is as it was, and still opens. */
	assert_true(cu_test_file_contains(path, "16 " HEX2 "\n"));
	assert_false(cu_test_file_contains(path, "\n17 "));
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), CU_VAULT_KEYS_MAX);
	cu_vault_free(v);
}

/* ---- every function's refusals -------------------------------------------- */

static void test_wrap_and_seal_arguments(void **state)
{
	cu_vault *v = open_ok("1 " HEX1);
	cu_data_key dk;
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES], sealed[64], out[64];
	uint32_t kid = 0;
	size_t outlen = 99;

	(void)state;
	cu_vault_data_key_new(&dk);
	assert_int_equal(cu_vault_wrap(NULL, MEMBER, &dk, wrapped, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, MEMBER, NULL, wrapped, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, NULL, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, wrapped, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, NULL, &dk, wrapped, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(kid, 0);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, wrapped, &kid), CU_OK);
	assert_int_equal(cu_vault_unwrap(NULL, MEMBER, 1, wrapped, &dk), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, NULL, &dk), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, wrapped, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_unwrap(v, "a:b", 1, wrapped, &dk), CU_ERR_INVALID_ARGUMENT);
	/* Unknown key id: refused, and the key given back is zeros. */
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 2, wrapped, &dk), CU_ERR_CRYPTO);
	assert_true(sodium_is_zero(dk.k, sizeof(dk.k)));
	/* A format-2 wrap needs a keyring, which this vault has not. */
	wrapped[0] = CU_VAULT_WRAP_TREE;
	cu_vault_data_key_new(&dk);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, wrapped, &dk), CU_ERR_CRYPTO);
	assert_true(sodium_is_zero(dk.k, sizeof(dk.k)));

	assert_int_equal(
	    cu_vault_seal(NULL, MEMBER, "email", (const unsigned char *)"x", 1, sealed),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "email", (const unsigned char *)"x", 1, NULL),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "email", NULL, 1, sealed),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_vault_seal(&dk, MEMBER, "email", (const unsigned char *)"x", SIZE_MAX, sealed),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal(&dk, MEMBER, NULL, (const unsigned char *)"x", 1, sealed),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Nothing at all is a value too (an empty field). */
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "email", NULL, 0, sealed), CU_OK);
	assert_int_equal(
	    cu_vault_open(&dk, MEMBER, "email", sealed, CU_VAULT_SEAL_OVERHEAD, out, &outlen),
	    CU_OK);
	assert_int_equal(outlen, 0);
	assert_string_equal((char *)out, "");

	outlen = 99;
	assert_int_equal(cu_vault_open(NULL, MEMBER, "email", sealed, 41, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(outlen, 0);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, 41, NULL, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, 41, out, NULL),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", NULL, 41, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open(&dk, "", "email", sealed, 41, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Too short to be sealed, or another version: not authentic. */
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, 40, out, &outlen),
	                 CU_ERR_CRYPTO);
	sealed[0] = 9;
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, 41, out, &outlen),
	                 CU_ERR_CRYPTO);
	assert_string_equal((char *)out, "");
	cu_vault_data_key_wipe(&dk);
	assert_true(sodium_is_zero(dk.k, sizeof(dk.k)));
	cu_vault_free(v);
}

static void test_blind_index_and_password_arguments(void **state)
{
	cu_vault *v = open_ok("1 " HEX1);
	unsigned char bidx[CU_VAULT_BIDXBYTES];
	char hash[CU_VAULT_PWHASH_MAX], longpw[1100], longhash[CU_VAULT_PWHASH_MAX + 8];

	(void)state;
	assert_int_equal(cu_vault_blind_index(NULL, 1, "email", "a@b", bidx),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, NULL, "a@b", bidx), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, "", "a@b", bidx), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, "email", NULL, bidx), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "", bidx), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "a@b", NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 5, "email", "a@b", bidx), CU_ERR_CRYPTO);

	memset(longpw, 'p', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	assert_int_equal(cu_vault_password_hash(NULL, 1, 8192, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 1, 8192, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 0, 8192, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 1, 1, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash(longpw, 1, 8192, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 1, 8192, hash), CU_OK);
	assert_int_equal(cu_vault_password_verify(NULL, "pw"), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_verify(hash, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_verify(hash, longpw), CU_ERR_INVALID_ARGUMENT);
	/* A "hash" longer than any Argon2id string is not one of ours. */
	memset(longhash, 'h', sizeof(longhash) - 1);
	longhash[sizeof(longhash) - 1] = '\0';
	assert_int_equal(cu_vault_password_verify(longhash, "pw"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_vault_password_verify(hash, "pw"), CU_OK);
	cu_vault_free(v);
}

static void test_note_and_signature_arguments(void **state)
{
	cu_vault *v = open_ok("1 " HEX1);
	unsigned char sealed[CU_VAULT_NOTE_OVERHEAD + 8], out[16], sig[CU_VAULT_SIGBYTES],
	    pk[CU_VAULT_SIGN_PKBYTES];
	const unsigned char pt[] = "note";
	char ctx65[66];
	size_t outlen = 0;
	uint32_t kid = 0;
	cu_vault *other;

	(void)state;
	memset(ctx65, 'c', 65);
	ctx65[65] = '\0';
	assert_int_equal(cu_vault_seal_note(NULL, "c", pt, 4, sealed), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal_note(v, NULL, pt, 4, sealed), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal_note(v, "", pt, 4, sealed), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal_note(v, ctx65, pt, 4, sealed), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal_note(v, "c", NULL, 4, sealed), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal_note(v, "c", pt, 4, NULL), CU_ERR_INVALID_ARGUMENT);
	ctx65[64] = '\0'; /* 64 bytes is the most a context may be */
	assert_int_equal(cu_vault_seal_note(v, ctx65, pt, 4, sealed), CU_OK);
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 49, out, &outlen), CU_OK);
	assert_int_equal(outlen, 4);
	assert_string_equal((char *)out, "note");

	assert_int_equal(cu_vault_open_note(NULL, ctx65, sealed, 49, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open_note(v, NULL, sealed, 49, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open_note(v, "", sealed, 49, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	ctx65[64] = 'c';
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 49, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	ctx65[64] = '\0';
	assert_int_equal(cu_vault_open_note(v, ctx65, NULL, 49, out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 49, NULL, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 49, out, NULL),
	                 CU_ERR_INVALID_ARGUMENT);
	/* Too short, another version, a key id not loaded: not authentic. */
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 44, out, &outlen), CU_ERR_CRYPTO);
	other = open_ok("2 " HEX1);
	assert_int_equal(cu_vault_open_note(other, ctx65, sealed, 49, out, &outlen), CU_ERR_CRYPTO);
	cu_vault_free(other);
	sealed[0] = 2;
	assert_int_equal(cu_vault_open_note(v, ctx65, sealed, 49, out, &outlen), CU_ERR_CRYPTO);

	assert_int_equal(cu_vault_sign(NULL, pt, 4, sig, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_sign(v, NULL, 4, sig, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_sign(v, pt, 4, NULL, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(kid, 0);
	/* An empty message can be signed and verified. */
	assert_int_equal(cu_vault_sign(v, NULL, 0, sig, &kid), CU_OK);
	assert_int_equal(kid, 1);
	assert_int_equal(cu_vault_sign_public_key(v, 1, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_sign_public_key(NULL, 1, pk), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_vault_sign_public_key(v, 1, pk), CU_OK);
	assert_int_equal(cu_vault_verify_signature(pk, NULL, 0, sig), CU_OK);
	assert_int_equal(cu_vault_verify_signature(NULL, NULL, 0, sig), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_verify_signature(pk, NULL, 1, sig), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_verify_signature(pk, NULL, 0, NULL), CU_ERR_INVALID_ARGUMENT);
	cu_vault_free(v);
}

/* ---- a vault with a keyring -------------------------------------------- */

static void test_keyring_attached(void **state)
{
	const char *dir = *state;
	char path[PATH_MAX], err[256];
	cu_vault *v = open_ok("1 " HEX1);
	cu_keyring *ring = NULL, *again = NULL;
	cu_data_key dk, back;
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES];
	uint32_t kid = 0;
	const char *ids[] = {MEMBER};

	join(path, sizeof(path), dir, CU_KEYRING_FILE);
	assert_int_equal(cu_keyring_open(v, path, true, &ring, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_attach_keyring(NULL, ring), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_attach_keyring(v, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_attach_keyring(v, ring), CU_OK);
	assert_ptr_equal(cu_vault_keyring(v), ring);
	/* A second keyring is refused (and stays the caller's). */
	assert_int_equal(cu_keyring_open(v, path, false, &again, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_attach_keyring(v, again), CU_ERR_INVALID_ARGUMENT);
	cu_keyring_free(again);

	cu_vault_data_key_new(&dk);
	assert_int_equal(cu_vault_wrap(v, "bad:id", &dk, wrapped, &kid), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, wrapped, &kid), CU_OK);
	assert_int_equal(wrapped[0], CU_VAULT_WRAP_TREE);
	assert_int_equal(kid, cu_keyring_current_tree(ring));
	assert_int_equal(cu_vault_unwrap(v, MEMBER, kid, wrapped, &back), CU_OK);
	assert_memory_equal(back.k, dk.k, sizeof(dk.k));
	/* Under a tree the keyring does not hold: refused. */
	assert_int_equal(cu_vault_unwrap(v, MEMBER, kid + 40, wrapped, &back), CU_ERR_CRYPTO);
	assert_true(sodium_is_zero(back.k, sizeof(back.k)));
	/* Once the member's leaf is punctured, neither wrap nor unwrap. */
	assert_int_equal(cu_keyring_puncture(ring, ids, 1, NULL, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, kid, wrapped, &back), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, wrapped, &kid), CU_ERR_CRYPTO);
	cu_vault_data_key_wipe(&dk);
	cu_vault_free(v); /* frees the ring too */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key_text_each_reason),
	    cmocka_unit_test(test_key_text_arguments),
	    cmocka_unit_test_setup_teardown(test_key_file_each_reason, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_create_file_refusals, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_add_key_refusals, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_add_key_refused_when_full, dir_setup,
	                                    dir_teardown),
	    cmocka_unit_test(test_wrap_and_seal_arguments),
	    cmocka_unit_test(test_blind_index_and_password_arguments),
	    cmocka_unit_test(test_note_and_signature_arguments),
	    cmocka_unit_test_setup_teardown(test_keyring_attached, dir_setup, dir_teardown),
	};

	unsetenv("CUSTODIAN_MASTER_KEY");
	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
