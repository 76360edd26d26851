/*
 * src/vault/secret.h — random secrets that are shown once and kept only as a
 * hash: token secrets, session secrets, CSRF tokens (private).
 *
 * A secret is 32 bytes from the operating system's generator, written as
 * 43 characters of unpadded base64url so it travels in headers, cookies
 * and shells unquoted.  The store keeps BLAKE2b-256 of those characters.
 */
#ifndef CU_SECRET_H
#define CU_SECRET_H

#include <stdbool.h>
#include <stddef.h>

#define CU_SECRET_BYTES  32
#define CU_SECRET_B64LEN 43
/* BLAKE2b-256: the hash the store keeps (CU_STORE_HASHBYTES, checked equal in store.c). */
#define CU_SECRET_HASHBYTES 32

/* Fills out with a new secret: 43 characters and a NUL. */
void cu_secret_new(char out[CU_SECRET_B64LEN + 1]);

/*
 * Whether s holds exactly 43 base64url characters (then a NUL).  Reads at
 * most 44 bytes, so an overlong input costs nothing.
 */
bool cu_secret_well_formed(const char *s);

/* BLAKE2b-256 of len bytes of text, domain-separated by `kind`. */
void cu_secret_hash(const char *kind, const char *text, size_t len,
                    unsigned char out[CU_SECRET_HASHBYTES]);

#endif
