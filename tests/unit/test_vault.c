/*
 * test_vault.c — keys, sealing, blind indexes, passwords (src/vault/vault.c).
 *
 * The known-answer tests build their vectors with libsodium directly from
 * the formats documented in vault.h, and pin the bytes as hex constants, so
 * a change to the derivation or the wire format cannot pass unnoticed:
 * what is stored today must open tomorrow.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "vault/vault.h"

/* Master key 000102..1f, id 1: the one the known answers are computed under. */
#define KAT_HEX  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KAT_TEXT "1 " KAT_HEX "\n"
#define KEY2_HEX "2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110"
/* A 22-character member id, as cu_vault_random_id makes them. */
#define MEMBER       "Zm9vYmFyYmF6cXV4cXV1eA"
#define OTHER_MEMBER "cXV4cXV1eFpt9vYmFyYmF6"

/*
 * Blind index of ("email", "alice@example.com") under KAT_HEX id 1.  Also
 * computed outside libsodium, with Python's hashlib:
 *   sub = blake2b(b"", digest_size=32, key=mk, salt=(2).to_bytes(8,"little")+bytes(8),
 *                 person=b"cu-bidx_"+bytes(8))          # crypto_kdf, subkey id 2
 *   blake2b(b"email\0alice@example.com", digest_size=32, key=sub)
 */
#define KAT_BIDX_EMAIL "8eeed388ac74893e09b58f347262fbbce5ae1731e8121ea16c97fd7b19e7eeb5"

/*
 * seal(data key 80..9f, nonce a0..b7, MEMBER, "email", "alice@example.com")
 * and wrap(data key 80..9f) under KAT_HEX id 1, nonce c0..d7, for MEMBER:
 * version | nonce | ciphertext | tag.  Both were also computed outside
 * libsodium (Python: HChaCha20 by hand, then cryptography's ChaCha20Poly1305
 * with nonce 00000000 || nonce[16:24]).
 */
#define KAT_SEALED                                                                                 \
	"01a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7"                                       \
	"9ff2d841bfed309eca69ce758c813eb1823dd93fdeb505a7a6b7585db66ce4a22e"
#define KAT_WRAPPED                                                                                \
	"01c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7"                                       \
	"9b599993717e02fc12a9162821ce6d4f149a387eefbcc1d1f8bb9645e770d91f"                         \
	"d792243c3a2228f0a8ac98bc8d3bbdfc"

static cu_vault *open_ok(const char *text)
{
	char err[256] = "";
	cu_vault *v = NULL;

	if (cu_vault_open_text(text, &v, err, sizeof(err)) != CU_OK)
		fail_msg("open_text: %s", err);
	assert_non_null(v);
	return v;
}

static void fill(unsigned char *p, size_t n, unsigned char first)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(first + i);
}

static void unhex(const char *hex, unsigned char *out, size_t outlen)
{
	size_t len = 0;

	assert_int_equal(sodium_hex2bin(out, outlen, hex, strlen(hex), NULL, &len, NULL), 0);
	assert_int_equal(len, outlen);
}

static void assert_hex(const unsigned char *bin, size_t len, const char *want)
{
	char hex[512];

	assert_true(len * 2 < sizeof(hex));
	sodium_bin2hex(hex, sizeof(hex), bin, len);
	assert_string_equal(hex, want);
}

/* A data key 80..9f, shared by the known-answer tests. */
static void kat_data_key(cu_data_key *dk)
{
	fill(dk->k, sizeof(dk->k), 0x80);
}

/* ---- temporary directories ------------------------------------------------ */

static char tmpdir[256];

static int dir_setup(void **state)
{
	const char *base = getenv("TMPDIR");

	(void)state;
	/* A key in the developer's environment would shadow every file under test. */
	unsetenv("CUSTODIAN_MASTER_KEY");
	snprintf(tmpdir, sizeof(tmpdir), "%s/cu-vault-XXXXXX", base && *base ? base : "/tmp");
	return mkdtemp(tmpdir) ? 0 : -1;
}

/* Empties and removes the directory, also after a test failed half-way. */
static int dir_teardown(void **state)
{
	char path[600];
	struct dirent *d;
	DIR *dir;

	(void)state;
	unsetenv("CUSTODIAN_MASTER_KEY");
	dir = opendir(tmpdir);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..")) {
			snprintf(path, sizeof(path), "%s/%s", tmpdir, d->d_name);
			unlink(path);
		}
	closedir(dir);
	return rmdir(tmpdir);
}

static const char *tmp_path(const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", tmpdir, name);
	return buf;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* ---- known answers --------------------------------------------------------- */

static void test_global_init_is_idempotent(void **state)
{
	(void)state;
	assert_int_equal(cu_vault_global_init(), CU_OK);
	assert_int_equal(cu_vault_global_init(), CU_OK);
}

static void test_kat_blind_index(void **state)
{
	static const char input[] = "email\0alice@example.com";
	unsigned char mk[32], sub[32], want[32], got[32];
	cu_vault *v = open_ok(KAT_TEXT);

	(void)state;
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "alice@example.com", got), CU_OK);
	assert_hex(got, sizeof(got), KAT_BIDX_EMAIL);

	/* The derivation spelled out: subkey 2 of context "cu-bidx_", keyed BLAKE2b-256. */
	unhex(KAT_HEX, mk, sizeof(mk));
	assert_int_equal(crypto_kdf_derive_from_key(sub, sizeof(sub), 2, "cu-bidx_", mk), 0);
	assert_int_equal(crypto_generichash(want, sizeof(want), (const unsigned char *)input,
	                                    sizeof(input) - 1, sub, sizeof(sub)),
	                 0);
	assert_memory_equal(got, want, sizeof(got));
	cu_vault_free(v);
}

static void test_blind_index_separates_kinds(void **state)
{
	unsigned char a[32], b[32];
	cu_vault *v = open_ok(KAT_TEXT);

	(void)state;
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "x@example.com", a), CU_OK);
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "x@example.com", b), CU_OK);
	assert_memory_equal(a, b, sizeof(a));
	assert_int_equal(cu_vault_blind_index(v, 1, "phone", "x@example.com", b), CU_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	/* The NUL between kind and value: ("ab","c") is not ("a","bc"). */
	assert_int_equal(cu_vault_blind_index(v, 1, "ab", "c", a), CU_OK);
	assert_int_equal(cu_vault_blind_index(v, 1, "a", "bc", b), CU_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(cu_vault_blind_index(v, 2, "email", "x@example.com", a), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_blind_index(v, 1, "", "x@example.com", a),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_blind_index(v, 1, "email", "", a), CU_ERR_INVALID_ARGUMENT);
	cu_vault_free(v);
}

static void test_kat_open_fixed_sealed(void **state)
{
	static const char ad[] = "cu-field:" MEMBER ":email";
	static const char pt[] = "alice@example.com";
	unsigned char sealed[sizeof(pt) - 1 + CU_VAULT_SEAL_OVERHEAD];
	unsigned char out[sizeof(pt)];
	unsigned long long clen = 0;
	size_t outlen = 99;
	cu_data_key dk;

	(void)state;
	kat_data_key(&dk);
	/* version 1 | nonce | ciphertext | tag, built with libsodium alone. */
	sealed[0] = 1;
	fill(sealed + 1, 24, 0xa0);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(
	                     sealed + 25, &clen, (const unsigned char *)pt, sizeof(pt) - 1,
	                     (const unsigned char *)ad, sizeof(ad) - 1, NULL, sealed + 1, dk.k),
	                 0);
	assert_int_equal(clen + 25, sizeof(sealed));
	assert_hex(sealed, sizeof(sealed), KAT_SEALED);

	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, sizeof(sealed), out, &outlen),
	                 CU_OK);
	assert_int_equal(outlen, sizeof(pt) - 1);
	assert_string_equal((const char *)out, pt);
}

static void test_kat_unwrap_fixed_wrapped(void **state)
{
	static const char ad[] = "cu-wrap:" MEMBER ":1";
	unsigned char mk[32], sub[32], wrapped[CU_VAULT_WRAPPEDBYTES];
	unsigned long long clen = 0;
	cu_data_key dk, got;
	cu_vault *v = open_ok(KAT_TEXT);

	(void)state;
	kat_data_key(&dk);
	unhex(KAT_HEX, mk, sizeof(mk));
	assert_int_equal(crypto_kdf_derive_from_key(sub, sizeof(sub), 1, "cu-wrap_", mk), 0);
	wrapped[0] = 1;
	fill(wrapped + 1, 24, 0xc0);
	assert_int_equal(crypto_aead_xchacha20poly1305_ietf_encrypt(
	                     wrapped + 25, &clen, dk.k, sizeof(dk.k), (const unsigned char *)ad,
	                     sizeof(ad) - 1, NULL, wrapped + 1, sub),
	                 0);
	assert_int_equal(clen + 25, CU_VAULT_WRAPPEDBYTES);
	assert_hex(wrapped, sizeof(wrapped), KAT_WRAPPED);

	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, wrapped, &got), CU_OK);
	assert_memory_equal(got.k, dk.k, sizeof(dk.k));
	cu_vault_free(v);
}

/* ---- round trips ------------------------------------------------------------ */

static void test_wrap_round_trip(void **state)
{
	unsigned char w1[CU_VAULT_WRAPPEDBYTES], w2[CU_VAULT_WRAPPEDBYTES];
	uint32_t id = 0;
	cu_data_key dk, got;
	cu_vault *v = open_ok(KAT_TEXT);

	(void)state;
	cu_vault_data_key_new(&dk);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, w1, &id), CU_OK);
	assert_int_equal(id, 1);
	assert_int_equal(w1[0], 1);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, w2, &id), CU_OK);
	/* A fresh nonce each time: equal keys do not give equal wraps. */
	assert_memory_not_equal(w1, w2, sizeof(w1));
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, w1, &got), CU_OK);
	assert_memory_equal(got.k, dk.k, sizeof(dk.k));
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, w2, &got), CU_OK);
	assert_memory_equal(got.k, dk.k, sizeof(dk.k));
	cu_vault_data_key_wipe(&got);
	assert_memory_equal(got.k, (unsigned char[CU_VAULT_KEYBYTES]){0}, sizeof(got.k));
	cu_vault_data_key_wipe(NULL);
	cu_vault_free(v);
}

static void test_seal_round_trip(void **state)
{
	static const unsigned char binary[] = {0, 1, 2, 0xff, 0, 'x'};
	unsigned char big[4096], sealed[sizeof(big) + CU_VAULT_SEAL_OVERHEAD], out[sizeof(big) + 1];
	size_t outlen = 0;
	cu_data_key dk;

	(void)state;
	cu_vault_data_key_new(&dk);

	/* Empty plaintext: still authenticated, and out is an empty C string. */
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "income", NULL, 0, sealed), CU_OK);
	out[0] = 'x';
	assert_int_equal(
	    cu_vault_open(&dk, MEMBER, "income", sealed, CU_VAULT_SEAL_OVERHEAD, out, &outlen),
	    CU_OK);
	assert_int_equal(outlen, 0);
	assert_int_equal(out[0], '\0');

	assert_int_equal(cu_vault_seal(&dk, MEMBER, "hobbies", binary, sizeof(binary), sealed),
	                 CU_OK);
	assert_int_equal(sealed[0], 1);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "hobbies", sealed,
	                               sizeof(binary) + CU_VAULT_SEAL_OVERHEAD, out, &outlen),
	                 CU_OK);
	assert_int_equal(outlen, sizeof(binary));
	assert_memory_equal(out, binary, sizeof(binary));
	assert_int_equal(out[outlen], '\0');

	randombytes_buf(big, sizeof(big));
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "diary", big, sizeof(big), sealed), CU_OK);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "diary", sealed, sizeof(sealed), out, &outlen),
	                 CU_OK);
	assert_int_equal(outlen, sizeof(big));
	assert_memory_equal(out, big, sizeof(big));
}

/*
 * Nonces are drawn from a per-thread pool: they stay distinct across its
 * refills, and a forked child does not replay its parent's pool.
 */
static void test_nonces_never_repeat(void **state)
{
	enum { N = 400 }; /* more than two 4 KiB pool refills of 24-byte nonces */
	static unsigned char nonces[N][24];
	unsigned char sealed[1 + CU_VAULT_SEAL_OVERHEAD], child[24];
	int fds[2], status = 0;
	size_t i, j;
	ssize_t r;
	pid_t pid;
	cu_data_key dk;

	(void)state;
	cu_vault_data_key_new(&dk);
	for (i = 0; i < N; i++) {
		assert_int_equal(
		    cu_vault_seal(&dk, MEMBER, "email", (const unsigned char *)"x", 1, sealed),
		    CU_OK);
		memcpy(nonces[i], sealed + 1, 24);
		for (j = 0; j < i; j++)
			assert_memory_not_equal(nonces[i], nonces[j], 24);
	}

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (cu_vault_seal(&dk, MEMBER, "email", (const unsigned char *)"x", 1, sealed) ||
		    write(fds[1], sealed + 1, 24) != 24)
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	r = read(fds[0], child, sizeof(child));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(r, 24);
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "email", (const unsigned char *)"x", 1, sealed),
	                 CU_OK);
	assert_memory_not_equal(child, sealed + 1, 24);
}

/* ---- tampering and misuse --------------------------------------------------- */

static void test_seal_tampering_fails(void **state)
{
	static const char pt[] = "+819012345678";
	unsigned char sealed[sizeof(pt) - 1 + CU_VAULT_SEAL_OVERHEAD], out[sizeof(pt)];
	size_t i, outlen;
	cu_data_key dk, other;

	(void)state;
	cu_vault_data_key_new(&dk);
	cu_vault_data_key_new(&other);
	assert_int_equal(
	    cu_vault_seal(&dk, MEMBER, "phone", (const unsigned char *)pt, sizeof(pt) - 1, sealed),
	    CU_OK);
	for (i = 0; i < sizeof(sealed); i++) {
		sealed[i] ^= 0x01;
		outlen = 99;
		assert_int_equal(
		    cu_vault_open(&dk, MEMBER, "phone", sealed, sizeof(sealed), out, &outlen),
		    CU_ERR_CRYPTO);
		assert_int_equal(outlen, 0);
		sealed[i] ^= 0x01;
	}
	/* Truncated, too short to hold a tag, and a version this code does not know. */
	assert_int_equal(
	    cu_vault_open(&dk, MEMBER, "phone", sealed, sizeof(sealed) - 1, out, &outlen),
	    CU_ERR_CRYPTO);
	assert_int_equal(
	    cu_vault_open(&dk, MEMBER, "phone", sealed, CU_VAULT_SEAL_OVERHEAD - 1, out, &outlen),
	    CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "phone", sealed, 0, out, &outlen),
	                 CU_ERR_CRYPTO);
	sealed[0] = 2;
	assert_int_equal(cu_vault_open(&dk, MEMBER, "phone", sealed, sizeof(sealed), out, &outlen),
	                 CU_ERR_CRYPTO);
	sealed[0] = 1;

	/* Moved to another member, another field, or opened with another key. */
	assert_int_equal(
	    cu_vault_open(&dk, OTHER_MEMBER, "phone", sealed, sizeof(sealed), out, &outlen),
	    CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_open(&dk, MEMBER, "email", sealed, sizeof(sealed), out, &outlen),
	                 CU_ERR_CRYPTO);
	assert_int_equal(
	    cu_vault_open(&other, MEMBER, "phone", sealed, sizeof(sealed), out, &outlen),
	    CU_ERR_CRYPTO);
	/* Untouched, it still opens: the failures above were the changes. */
	assert_int_equal(cu_vault_open(&dk, MEMBER, "phone", sealed, sizeof(sealed), out, &outlen),
	                 CU_OK);
	assert_string_equal((const char *)out, pt);
}

static void test_unwrap_tampering_fails(void **state)
{
	unsigned char w[CU_VAULT_WRAPPEDBYTES];
	uint32_t id = 0;
	size_t i;
	cu_data_key dk, got;
	cu_vault *v = open_ok(KAT_TEXT);
	cu_vault *other = open_ok("1 " KEY2_HEX "\n");

	(void)state;
	cu_vault_data_key_new(&dk);
	assert_int_equal(cu_vault_wrap(v, MEMBER, &dk, w, &id), CU_OK);
	for (i = 0; i < sizeof(w); i++) {
		w[i] ^= 0x80;
		assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, w, &got), CU_ERR_CRYPTO);
		w[i] ^= 0x80;
	}
	/* Failure leaves no key behind. */
	assert_memory_equal(got.k, (unsigned char[CU_VAULT_KEYBYTES]){0}, sizeof(got.k));
	assert_int_equal(cu_vault_unwrap(v, OTHER_MEMBER, 1, w, &got), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 2, w, &got), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 0, w, &got), CU_ERR_CRYPTO);
	/* Same id, different master key: the id alone proves nothing. */
	assert_int_equal(cu_vault_unwrap(other, MEMBER, 1, w, &got), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_unwrap(v, MEMBER, 1, w, &got), CU_OK);
	assert_memory_equal(got.k, dk.k, sizeof(dk.k));
	cu_vault_free(other);
	cu_vault_free(v);
}

static void test_associated_data_bounds(void **state)
{
	static const char field40[] = "ffffffffffffffffffffffffffffffffffffffff";
	static const char field41[] = "fffffffffffffffffffffffffffffffffffffffff";
	unsigned char sealed[8 + CU_VAULT_SEAL_OVERHEAD], out[9], w[CU_VAULT_WRAPPEDBYTES];
	size_t outlen;
	uint32_t id;
	cu_data_key dk;
	cu_vault *v = open_ok(KAT_TEXT);

	(void)state;
	assert_int_equal(strlen(field40), 40);
	cu_vault_data_key_new(&dk);
	assert_int_equal(
	    cu_vault_seal(&dk, MEMBER, field40, (const unsigned char *)"12345678", 8, sealed),
	    CU_OK);
	assert_int_equal(cu_vault_open(&dk, MEMBER, field40, sealed, sizeof(sealed), out, &outlen),
	                 CU_OK);
	assert_int_equal(
	    cu_vault_seal(&dk, MEMBER, field41, (const unsigned char *)"12345678", 8, sealed),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_open(&dk, MEMBER, field41, sealed, sizeof(sealed), out, &outlen),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal(&dk, MEMBER, "", (const unsigned char *)"x", 1, sealed),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_vault_seal(&dk, MEMBER "A", "email", (const unsigned char *)"x", 1, sealed),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_seal(&dk, "", "email", (const unsigned char *)"x", 1, sealed),
	                 CU_ERR_INVALID_ARGUMENT);
	/* ':' would let "a:b"+"c" pass for "a"+"b:c". */
	assert_int_equal(cu_vault_seal(&dk, "a:b", "email", (const unsigned char *)"x", 1, sealed),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, MEMBER "A", &dk, w, &id), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_wrap(v, NULL, &dk, w, &id), CU_ERR_INVALID_ARGUMENT);
	cu_vault_free(v);
}

/* ---- master key text and files ---------------------------------------------- */

static void test_key_text_accepts_comments_and_blanks(void **state)
{
	char err[256] = "";
	cu_vault *v = NULL;

	(void)state;
	assert_int_equal(cu_vault_open_text("# custodian master keys\n\n"
	                                    "  7\t" KAT_HEX "  \r\n"
	                                    "   # retired keys above, current below\n"
	                                    "12 " KEY2_HEX,
	                                    &v, err, sizeof(err)),
	                 CU_OK);
	assert_string_equal(err, "");
	assert_int_equal(cu_vault_key_count(v), 2);
	assert_int_equal(cu_vault_key_id_at(v, 0), 7);
	assert_int_equal(cu_vault_key_id_at(v, 1), 12);
	assert_int_equal(cu_vault_key_id_at(v, 2), 0);
	assert_int_equal(cu_vault_current_key_id(v), 12);
	cu_vault_free(v);
	cu_vault_free(NULL);

	/* The largest id there is; upper-case hex is hex. */
	v = open_ok("2147483647 000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
	assert_int_equal(cu_vault_current_key_id(v), 2147483647u);
	cu_vault_free(v);
}

static void test_key_text_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"", "master key: no key found"},
	    {"# only a comment\n\n", "master key: no key found"},
	    {"1 " KAT_HEX "0\n", "master key line 1: expected 64 hex digits"},
	    {"# c\n1 "
	     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
	     "master key line 2: expected 64 hex digits"},
	    {"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
	     "master key line 1: expected 64 hex digits"},
	    {"1\n", "master key line 1: expected 64 hex digits"},
	    {"1 " KAT_HEX " extra\n", "master key line 1: unexpected text after the key"},
	    {"1 " KAT_HEX "\n1 " KEY2_HEX "\n", "master key line 2: duplicate key id 1"},
	    {"0 " KAT_HEX "\n", "master key line 1: expected a key id from 1 to 2147483647"},
	    {"2147483648 " KAT_HEX "\n",
	     "master key line 1: expected a key id from 1 to 2147483647"},
	    {"-1 " KAT_HEX "\n", "master key line 1: expected a key id from 1 to 2147483647"},
	    {KAT_HEX "\n", "master key line 1: expected a key id from 1 to 2147483647"},
	};
	char err[256];
	size_t i;
	cu_vault *v;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = (cu_vault *)&v; /* must be reset to NULL */
		err[0] = '\0';
		assert_int_equal(cu_vault_open_text(cases[i].text, &v, err, sizeof(err)),
		                 CU_ERR_CRYPTO);
		assert_null(v);
		assert_string_equal(err, cases[i].want);
		/* Never the key, not even a piece of it. */
		assert_null(strstr(err, "0001020304"));
		assert_null(strstr(err, "2f2e2d2c"));
	}
	/* A NULL or short err buffer is allowed. */
	assert_int_equal(cu_vault_open_text("", &v, NULL, 0), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_open_text("", &v, err, 4), CU_ERR_CRYPTO);
	assert_string_equal(err, "mas");
}

static void test_key_text_too_many_keys(void **state)
{
	char text[(CU_VAULT_KEYS_MAX + 1) * 80], err[256] = "";
	size_t i, n = 0;
	cu_vault *v = NULL;

	(void)state;
	for (i = 1; i <= CU_VAULT_KEYS_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%zu %s\n", i, KAT_HEX);
	v = open_ok(text);
	assert_int_equal(cu_vault_key_count(v), CU_VAULT_KEYS_MAX);
	assert_int_equal(cu_vault_current_key_id(v), CU_VAULT_KEYS_MAX);
	cu_vault_free(v);

	snprintf(text + n, sizeof(text) - n, "%d %s\n", CU_VAULT_KEYS_MAX + 1, KAT_HEX);
	assert_int_equal(cu_vault_open_text(text, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_null(v);
	assert_string_equal(err, "master key line 17: more than 16 keys");
}

static void test_key_file_mode_refused(void **state)
{
	char path[320], err[512] = "";
	cu_vault *v = NULL;

	(void)state;
	tmp_path("master.key", path, sizeof(path));
	write_file(path, KAT_TEXT, 0644);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_null(v);
	assert_non_null(strstr(err, "has mode 0644"));
	assert_non_null(strstr(err, path));
	assert_null(strstr(err, "0001020304"));

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);

	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_current_key_id(v), 1);
	cu_vault_free(v);
	assert_int_equal(unlink(path), 0);
}

static void test_key_file_errors(void **state)
{
	char path[320], err[512] = "", *big;
	size_t n = 70 * 1024;
	cu_vault *v = NULL;

	(void)state;
	tmp_path("absent.key", path, sizeof(path));
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "absent.key"));

	/* A parse error names the file and the line, not the key. */
	tmp_path("bad.key", path, sizeof(path));
	write_file(path, "# keys\n1 " KAT_HEX "\n2 xyz\n", 0600);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "bad.key' line 3: expected 64 hex digits"));
	assert_null(strstr(err, "0001020304"));
	assert_int_equal(unlink(path), 0);

	/* Far too large to be a key file. */
	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, '#', n);
	big[n] = '\0';
	tmp_path("big.key", path, sizeof(path));
	write_file(path, big, 0600);
	free(big);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_non_null(strstr(err, "larger than"));
	assert_int_equal(unlink(path), 0);

	/* A directory is not a key file. */
	assert_int_equal(cu_vault_open_file(tmpdir, &v, err, sizeof(err)), CU_ERR_IO);
	assert_non_null(strstr(err, "is not a regular file"));
	assert_null(v);
}

/* Each way a key file can be damaged: refused with a line naming the file, never the key. */
static void test_key_file_damaged(void **state)
{
	static const struct {
		const char *text, *words;
	} cases[] = {
	    {"", "no key found"},
	    {"# only a comment\n\n", "no key found"},
	    {"1 " KAT_HEX "\n", NULL}, /* the good one */
	    {"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
	     "expected 64 hex digits"},                      /* a digit short */
	    {"1 " KAT_HEX "0\n", "expected 64 hex digits"},  /* a digit long */
	    {"1 " KAT_HEX "00\n", "expected 64 hex digits"}, /* a byte long */
	    {"1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
	     "expected 64 hex digits"},                    /* not hex */
	    {"0 " KAT_HEX "\n", "line 1"},                 /* id 0 */
	    {"x " KAT_HEX "\n", "line 1"},                 /* no id */
	    {"1 " KAT_HEX "\n1 " KEY2_HEX "\n", "line 2"}, /* an id twice */
	    {"\x89PNG\r\n\x1a\n garbage", "master"},       /* not text */
	};
	char path[320], err[512];
	cu_vault *v;

	(void)state;
	tmp_path("damaged.key", path, sizeof(path));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = NULL;
		err[0] = '\0';
		write_file(path, cases[i].text, 0600);
		if (!cases[i].words) {
			assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
			cu_vault_free(v);
			continue;
		}
		assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
		assert_null(v);
		if (!strstr(err, cases[i].words) || !strstr(err, "damaged.key"))
			fail_msg("case %zu: expected '%s' and the file's name, got '%s'", i,
			         cases[i].words, err);
		assert_null(strstr(err, "0001020304"));
		assert_null(strchr(err, '\n'));
	}
	assert_int_equal(unlink(path), 0);
}

static void test_env_overrides_file(void **state)
{
	char path[320], err[512] = "";
	cu_vault *v = NULL;

	(void)state;
	/* No file at all, and a file that would be refused: the variable wins. */
	tmp_path("absent.key", path, sizeof(path));
	assert_int_equal(setenv("CUSTODIAN_MASTER_KEY", "1 " KAT_HEX "\n5 " KEY2_HEX, 1), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 2);
	assert_int_equal(cu_vault_current_key_id(v), 5);
	cu_vault_free(v);

	assert_int_equal(setenv("CUSTODIAN_MASTER_KEY", "5 abc", 1), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_CRYPTO);
	assert_string_equal(err, "CUSTODIAN_MASTER_KEY line 1: expected 64 hex digits");
	assert_int_equal(unsetenv("CUSTODIAN_MASTER_KEY"), 0);
	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_ERR_IO);
}

static void test_create_file(void **state)
{
	char path[320], err[512] = "", text[512] = "";
	struct stat st;
	mode_t old;
	FILE *f;
	size_t n;
	cu_vault *v = NULL;

	(void)state;
	tmp_path("master.key", path, sizeof(path));
	/* A umask that would leave the owner without read: fchmod puts 0600 back. */
	old = umask(0277);
	assert_int_equal(cu_vault_create_file(path), CU_OK);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = '\0';
	assert_int_equal(text[0], '#');
	assert_non_null(strstr(text, "\n1 "));
	assert_int_equal(text[n - 1], '\n');

	assert_int_equal(cu_vault_open_file(path, &v, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_key_count(v), 1);
	assert_int_equal(cu_vault_current_key_id(v), 1);
	cu_vault_free(v);

	/* Never overwrites a key: that would shred every member. */
	assert_int_equal(cu_vault_create_file(path), CU_ERR_EXISTS);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal((size_t)st.st_size, n);
	assert_int_equal(unlink(path), 0);

	tmp_path("no/such/dir/master.key", path, sizeof(path));
	assert_int_equal(cu_vault_create_file(path), CU_ERR_IO);
}

static void test_create_file_keys_differ(void **state)
{
	char a[320], b[320], err[256];
	unsigned char ia[32], ib[32];
	cu_vault *va = NULL, *vb = NULL;

	(void)state;
	tmp_path("a.key", a, sizeof(a));
	tmp_path("b.key", b, sizeof(b));
	assert_int_equal(cu_vault_create_file(a), CU_OK);
	assert_int_equal(cu_vault_create_file(b), CU_OK);
	assert_int_equal(cu_vault_open_file(a, &va, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_open_file(b, &vb, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_vault_blind_index(va, 1, "email", "a@example.com", ia), CU_OK);
	assert_int_equal(cu_vault_blind_index(vb, 1, "email", "a@example.com", ib), CU_OK);
	assert_memory_not_equal(ia, ib, sizeof(ia));
	cu_vault_free(va);
	cu_vault_free(vb);
	assert_int_equal(unlink(a), 0);
	assert_int_equal(unlink(b), 0);
}

/* ---- rotation ----------------------------------------------------------------- */

static void test_rotation(void **state)
{
	unsigned char w1[CU_VAULT_WRAPPEDBYTES], w2[CU_VAULT_WRAPPEDBYTES];
	unsigned char b1[32], b2[32], b[32];
	uint32_t id = 0;
	cu_data_key dk1, dk2, got;
	cu_vault *old = open_ok(KAT_TEXT);
	cu_vault *rotated = open_ok(KAT_TEXT "2 " KEY2_HEX "\n");

	(void)state;
	cu_vault_data_key_new(&dk1);
	cu_vault_data_key_new(&dk2);
	assert_int_equal(cu_vault_wrap(old, MEMBER, &dk1, w1, &id), CU_OK);
	assert_int_equal(id, 1);

	/* After appending key 2, new wraps use it and key 1's still open. */
	assert_int_equal(cu_vault_current_key_id(rotated), 2);
	assert_int_equal(cu_vault_wrap(rotated, MEMBER, &dk2, w2, &id), CU_OK);
	assert_int_equal(id, 2);
	assert_int_equal(cu_vault_unwrap(rotated, MEMBER, 1, w1, &got), CU_OK);
	assert_memory_equal(got.k, dk1.k, sizeof(got.k));
	assert_int_equal(cu_vault_unwrap(rotated, MEMBER, 2, w2, &got), CU_OK);
	assert_memory_equal(got.k, dk2.k, sizeof(got.k));
	/* The old vault cannot open what the new key wrapped. */
	assert_int_equal(cu_vault_unwrap(old, MEMBER, 2, w2, &got), CU_ERR_CRYPTO);
	/* Nor does a wrap open under the other id's key. */
	assert_int_equal(cu_vault_unwrap(rotated, MEMBER, 1, w2, &got), CU_ERR_CRYPTO);

	/* Blind indexes: key 1's are unchanged by rotation, key 2's differ. */
	assert_int_equal(cu_vault_blind_index(rotated, 1, "email", "alice@example.com", b1), CU_OK);
	assert_hex(b1, sizeof(b1), KAT_BIDX_EMAIL);
	assert_int_equal(cu_vault_blind_index(rotated, 2, "email", "alice@example.com", b2), CU_OK);
	assert_memory_not_equal(b1, b2, sizeof(b1));
	assert_int_equal(cu_vault_blind_index(old, 1, "email", "alice@example.com", b), CU_OK);
	assert_memory_equal(b, b1, sizeof(b));
	cu_vault_free(old);
	cu_vault_free(rotated);
}

/* ---- passwords ------------------------------------------------------------------ */

static void test_password(void **state)
{
	char hash[CU_VAULT_PWHASH_MAX], other[CU_VAULT_PWHASH_MAX], longpw[1026];

	(void)state;
	/* The lowest cost libsodium allows: fast enough for a test. */
	assert_int_equal(cu_vault_password_hash("correct horse", 1, 8192, hash), CU_OK);
	assert_int_equal(strncmp(hash, "$argon2id$", 10), 0);
	assert_non_null(strstr(hash, "m=8,t=1,"));
	assert_int_equal(cu_vault_password_verify(hash, "correct horse"), CU_OK);
	assert_int_equal(cu_vault_password_verify(hash, "correct horsf"), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_vault_password_verify(hash, ""), CU_ERR_UNAUTHENTICATED);
	assert_int_equal(cu_vault_password_verify("not a hash", "correct horse"),
	                 CU_ERR_UNAUTHENTICATED);
	/* A random salt each time. */
	assert_int_equal(cu_vault_password_hash("correct horse", 1, 8192, other), CU_OK);
	assert_string_not_equal(hash, other);

	/* Below the minimum cost is a configuration mistake, not a weaker hash. */
	assert_int_equal(cu_vault_password_hash("pw", 0, 8192, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 1, 8191, hash), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_hash("pw", 1, 8, hash), CU_ERR_INVALID_ARGUMENT);

	memset(longpw, 'p', sizeof(longpw) - 2);
	longpw[1024] = '\0';
	assert_int_equal(cu_vault_password_hash(longpw, 1, 8192, hash), CU_OK);
	assert_int_equal(cu_vault_password_verify(hash, longpw), CU_OK);
	longpw[1024] = 'p';
	longpw[1025] = '\0';
	assert_int_equal(cu_vault_password_hash(longpw, 1, 8192, other), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_password_verify(hash, longpw), CU_ERR_INVALID_ARGUMENT);
}

/* ---- ids ------------------------------------------------------------------------ */

static void test_random_id(void **state)
{
	char a[CU_ID_LEN + 1], b[CU_ID_LEN + 1];
	size_t i;

	(void)state;
	cu_vault_random_id(a);
	cu_vault_random_id(b);
	assert_int_equal(strlen(a), CU_ID_LEN);
	assert_int_equal(strlen(b), CU_ID_LEN);
	assert_string_not_equal(a, b);
	for (i = 0; i < CU_ID_LEN; i++)
		assert_non_null(memchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                       "0123456789-_",
		                       a[i], 64));
}

/* Notes: sealed under the current key, bound to their context, opened by any loaded key. */
static void test_notes(void **state)
{
	static const char keys1[] =
	    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	static const char keys12[] =
	    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	    "2 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
	cu_vault *v1 = open_ok(keys1), *v12 = open_ok(keys12);
	const char *text = "court order 2026-17 under the law exception";
	unsigned char sealed[200], out[200];
	size_t n = strlen(text), len;

	(void)state;
	assert_int_equal(
	    cu_vault_seal_note(v1, "exception:abc", (const unsigned char *)text, n, sealed), CU_OK);
	for (size_t i = 0; i + 10 <= n + CU_VAULT_NOTE_OVERHEAD; i++)
		assert_true(memcmp(sealed + i, text, 10) != 0);
	/* Key 1 is still loaded after rotation: the note opens. */
	assert_int_equal(
	    cu_vault_open_note(v12, "exception:abc", sealed, n + CU_VAULT_NOTE_OVERHEAD, out, &len),
	    CU_OK);
	assert_int_equal(len, n);
	assert_memory_equal(out, text, n);
	/* Another context, a flipped byte, a short note: refused. */
	assert_int_equal(
	    cu_vault_open_note(v1, "exception:abd", sealed, n + CU_VAULT_NOTE_OVERHEAD, out, &len),
	    CU_ERR_CRYPTO);
	sealed[20] ^= 1;
	assert_int_equal(
	    cu_vault_open_note(v1, "exception:abc", sealed, n + CU_VAULT_NOTE_OVERHEAD, out, &len),
	    CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_open_note(v1, "exception:abc", sealed, 10, out, &len),
	                 CU_ERR_CRYPTO);
	/* New notes use the current key (2), which v1 does not hold. */
	assert_int_equal(cu_vault_seal_note(v12, "x", (const unsigned char *)"y", 1, sealed),
	                 CU_OK);
	assert_int_equal(sealed[4], 2);
	assert_int_equal(cu_vault_open_note(v1, "x", sealed, 1 + CU_VAULT_NOTE_OVERHEAD, out, &len),
	                 CU_ERR_CRYPTO);
	cu_vault_free(v1);
	cu_vault_free(v12);
}

static void test_signatures(void **state)
{
	static const char keys12[] =
	    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	    "2 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
	cu_vault *v = open_ok(keys12);
	unsigned char sig[CU_VAULT_SIGBYTES], pk1[32], pk2[32], again[CU_VAULT_SIGBYTES];
	const unsigned char msg[] = "{\"granted\":true}";
	uint32_t kid = 0;

	(void)state;
	assert_int_equal(cu_vault_sign(v, msg, sizeof(msg) - 1, sig, &kid), CU_OK);
	assert_int_equal(kid, 2);
	assert_int_equal(cu_vault_sign_public_key(v, 1, pk1), CU_OK);
	assert_int_equal(cu_vault_sign_public_key(v, 2, pk2), CU_OK);
	assert_int_equal(cu_vault_sign_public_key(v, 3, pk2), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_vault_verify_signature(pk2, msg, sizeof(msg) - 1, sig), CU_OK);
	assert_int_equal(cu_vault_verify_signature(pk1, msg, sizeof(msg) - 1, sig), CU_ERR_CRYPTO);
	assert_int_equal(cu_vault_verify_signature(pk2, msg, sizeof(msg) - 2, sig), CU_ERR_CRYPTO);
	/* Ed25519 is deterministic: a receipt can be re-issued identically. */
	assert_int_equal(cu_vault_sign(v, msg, sizeof(msg) - 1, again, NULL), CU_OK);
	assert_memory_equal(sig, again, sizeof(sig));
	cu_vault_free(v);
}

static void test_macs(void **state)
{
	static const char key1[] =
	    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
	static const char keys12[] =
	    "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
	    "2 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f\n";
	cu_vault *a = open_ok(key1), *b = open_ok(key1), *r = open_ok(keys12);
	unsigned char m1[CU_VAULT_MACBYTES], m2[CU_VAULT_MACBYTES], m3[CU_VAULT_MACBYTES];

	(void)state;
	/* Two vaults of the same keys (two servers) agree. */
	assert_int_equal(cu_vault_mac(a, "form", "abc", 3, m1), CU_OK);
	assert_int_equal(cu_vault_mac(b, "form", "abc", 3, m2), CU_OK);
	assert_memory_equal(m1, m2, sizeof(m1));
	/* Another label, other data, a rotated key: another tag. */
	assert_int_equal(cu_vault_mac(a, "form2", "abc", 3, m2), CU_OK);
	assert_memory_not_equal(m1, m2, sizeof(m1));
	assert_int_equal(cu_vault_mac(a, "form", "abd", 3, m2), CU_OK);
	assert_memory_not_equal(m1, m2, sizeof(m1));
	assert_int_equal(cu_vault_mac(r, "form", "abc", 3, m2), CU_OK);
	assert_memory_not_equal(m1, m2, sizeof(m1));
	/* The label ends at its NUL: "fo" + "rmabc" is not "form" + "abc". */
	assert_int_equal(cu_vault_mac(a, "fo", "rmabc", 5, m3), CU_OK);
	assert_memory_not_equal(m1, m3, sizeof(m1));
	/* Empty data is data; a missing vault, label or data is refused. */
	assert_int_equal(cu_vault_mac(a, "form", NULL, 0, m3), CU_OK);
	assert_int_equal(cu_vault_mac(NULL, "form", "abc", 3, m3), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_mac(a, NULL, "abc", 3, m3), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_vault_mac(a, "form", NULL, 3, m3), CU_ERR_INVALID_ARGUMENT);
	cu_vault_free(a);
	cu_vault_free(b);
	cu_vault_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_macs),
	    cmocka_unit_test(test_notes),
	    cmocka_unit_test(test_signatures),
	    cmocka_unit_test(test_global_init_is_idempotent),
	    cmocka_unit_test(test_kat_blind_index),
	    cmocka_unit_test(test_blind_index_separates_kinds),
	    cmocka_unit_test(test_kat_open_fixed_sealed),
	    cmocka_unit_test(test_kat_unwrap_fixed_wrapped),
	    cmocka_unit_test(test_wrap_round_trip),
	    cmocka_unit_test(test_seal_round_trip),
	    cmocka_unit_test(test_nonces_never_repeat),
	    cmocka_unit_test(test_seal_tampering_fails),
	    cmocka_unit_test(test_unwrap_tampering_fails),
	    cmocka_unit_test(test_associated_data_bounds),
	    cmocka_unit_test(test_key_text_accepts_comments_and_blanks),
	    cmocka_unit_test(test_key_text_errors),
	    cmocka_unit_test(test_key_text_too_many_keys),
	    cmocka_unit_test_setup_teardown(test_key_file_mode_refused, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_errors, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_key_file_damaged, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_env_overrides_file, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_create_file, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(test_create_file_keys_differ, dir_setup, dir_teardown),
	    cmocka_unit_test(test_rotation),
	    cmocka_unit_test(test_password),
	    cmocka_unit_test(test_random_id),
	};

	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
