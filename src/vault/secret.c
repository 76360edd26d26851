/*
 * src/vault/secret.c — making, checking and hashing secrets shown once.
 */
#include "vault/secret.h"

#include <sodium.h>
#include <string.h>

void cu_secret_new(char out[CU_SECRET_B64LEN + 1])
{
	unsigned char b[CU_SECRET_BYTES];

	/*
	 * Straight from the kernel, not from the vault's pool of random bytes
	 * for nonces and ids: a secret's bytes should sit in no buffer that
	 * outlives this call.
	 */
	randombytes_buf(b, sizeof(b));
	sodium_bin2base64(out, CU_SECRET_B64LEN + 1, b, sizeof(b),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(b, sizeof(b));
}

static bool b64url(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool cu_secret_well_formed(const char *s)
{
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < CU_SECRET_B64LEN; i++)
		if (!b64url((unsigned char)s[i]))
			return false;
	return s[i] == '\0';
}

void cu_secret_hash(const char *kind, const char *text, size_t len,
                    unsigned char out[CU_SECRET_HASHBYTES])
{
	crypto_generichash_state st;

	/*
	 * The kind ("token", "session", "csrf") goes in first, NUL included,
	 * so one random string never hashes alike in two roles.  No key and
	 * no salt: the input is 256 random bits (see tokens.h).
	 */
	crypto_generichash_init(&st, NULL, 0, CU_SECRET_HASHBYTES);
	crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_generichash_update(&st, (const unsigned char *)text, len);
	crypto_generichash_final(&st, out, CU_SECRET_HASHBYTES);
	sodium_memzero(&st, sizeof(st));
}
