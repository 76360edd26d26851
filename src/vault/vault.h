/*
 * src/vault/vault.h — keys and sealing (libsodium).
 *
 * Key hierarchy:
 *
 *   master keys (file, mode 0600, or $CUSTODIAN_MASTER_KEY)
 *     each line "ID HEX64"; the last line is the current key, earlier ones
 *     are kept only to open what they wrapped (rotation).
 *       |-- wrapping subkey  (crypto_kdf, context "cu-wrap_", id 1)
 *       |      wraps one random 256-bit data key per member
 *       |-- blind-index subkey (crypto_kdf, context "cu-bidx_", id 2)
 *       |      keyed BLAKE2b-256 over a normalised e-mail or telephone
 *       |-- note subkey (id 3) and signing seed (id 4): below
 *       '-- MAC subkey (crypto_kdf, context "cu-mac__", id 5): cu_vault_mac
 *
 *   member data key (random, 32 bytes), wrapped with XChaCha20-Poly1305
 *   under the wrapping subkey, associated data = "cu-wrap:" member id ":" key id.
 *       '-- each personal field sealed with XChaCha20-Poly1305,
 *           associated data = "cu-field:" member id ":" field name,
 *           so a sealed value cannot be moved to another member or field.
 *
 * With a keyring attached (keyring.h, every data directory since the
 * keyring), a member's data key is wrapped instead under that member's leaf
 * of the key tree, which erasure destroys outside the database:
 *   wrapped key  = version(1)=2 | nonce(24) | ciphertext(32) | tag(16)     73 bytes
 *   associated data "cu-wrap2:" member id ":" tree id; the row's key id is
 *   the tree id.  Format 1 values (below) still open; `keys rotate`
 *   re-wraps them.
 *
 * Wire formats (all binary, stored as BLOBs):
 *   wrapped key  = version(1)=1 | nonce(24) | ciphertext(32) | tag(16)     73 bytes
 *   sealed field = version(1)=1 | nonce(24) | ciphertext(n)  | tag(16)  n + 41 bytes
 *   blind index  = 32 bytes
 *
 * Erasing a member destroys its wrapped data key (crypto-shredding): no key
 * that remains can open its sealed fields.
 *
 * Secrets live in sodium_malloc'd, mlock'd memory and are wiped on release.
 * Every opening function is warn_unused_result: a failed open is an answer.
 */
#ifndef CUSTODIAN_VAULT_H
#define CUSTODIAN_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"

#define CU_VAULT_KEYBYTES      32
#define CU_VAULT_WRAPPEDBYTES  73
#define CU_VAULT_SEAL_OVERHEAD 41
#define CU_VAULT_BIDXBYTES     32
#define CU_VAULT_KEYS_MAX      16
#define CU_VAULT_WRAP_MASTER   1   /* the first byte of a data key wrapped under a master key */
#define CU_VAULT_WRAP_TREE     2   /* ... under a key-tree leaf (keyring.h) */
#define CU_VAULT_PWHASH_MAX    128 /* Argon2id string, incl. NUL */

typedef struct cu_vault cu_vault;

/* A member's unwrapped data key; wipe with cu_vault_data_key_wipe(). */
typedef struct cu_data_key {
	unsigned char k[CU_VAULT_KEYBYTES];
} cu_data_key;

/* Initialises libsodium once; safe to call many times. */
CU_WARN_UNUSED cu_result cu_vault_global_init(void);

/*
 * Parses master keys from text ("ID HEX64" per line, '#' comments, blank
 * lines ignored; IDs are 1..2^31-1 and unique).  The text is not retained.
 * On success *out is a new vault; free it with cu_vault_free().
 * CU_ERR_CRYPTO with a one-line reason in err (never the key) otherwise.
 */
CU_WARN_UNUSED cu_result cu_vault_open_text(const char *text, cu_vault **out, char *err,
                                            size_t errlen);
/*
 * Reads the key file at path.  Refuses (CU_ERR_CRYPTO) a file that group or
 * others can read.  If the environment variable CUSTODIAN_MASTER_KEY is set
 * it is used instead of the file.
 */
CU_WARN_UNUSED cu_result cu_vault_open_file(const char *path, cu_vault **out, char *err,
                                            size_t errlen);
/* Creates a new key file (mode 0600, O_EXCL) holding one random key, id 1. */
CU_WARN_UNUSED cu_result cu_vault_create_file(const char *path);
/* Wipes and frees.  NULL is a harmless no-op. */
void cu_vault_free(cu_vault *v);
/*
 * Rotation: appends a new random key to the key file at path (atomically,
 * mode 0600), with an id above every id in the file and at least min_id;
 * it becomes the current key for every process that opens the file from now
 * on.  *id gets it.  Refused (CU_ERR_INVALID_ARGUMENT) when the keys come
 * from $CUSTODIAN_MASTER_KEY, or when the file holds CU_VAULT_KEYS_MAX keys
 * already (one more would make it a file no process opens).  err gets one
 * line (never a key).
 */
CU_WARN_UNUSED cu_result cu_vault_file_add_key(const char *path, uint32_t min_id, uint32_t *id,
                                               char *err, size_t errlen);

/*
 * Hands the vault a keyring (keyring.h), which it then owns and frees: from
 * now on data keys are wrapped under members' key-tree leaves (format 2).
 * CU_ERR_INVALID_ARGUMENT if one is attached already.
 */
struct cu_keyring;
CU_WARN_UNUSED cu_result cu_vault_attach_keyring(cu_vault *v, struct cu_keyring *ring);
/* The attached keyring, or NULL. */
struct cu_keyring *cu_vault_keyring(const cu_vault *v);

/* The id of the current master key (the one new data keys are wrapped with). */
uint32_t cu_vault_current_key_id(const cu_vault *v);
/* Number of master keys loaded, and the id of the i-th (0 = oldest). */
size_t cu_vault_key_count(const cu_vault *v);
uint32_t cu_vault_key_id_at(const cu_vault *v, size_t i);

/* A fresh random data key. */
void cu_vault_data_key_new(cu_data_key *dk);
void cu_vault_data_key_wipe(cu_data_key *dk);

/*
 * Wraps dk for member_id: under the current tree of the attached keyring
 * (*key_id = the tree id), or without one under the current master key
 * (*key_id = its id).
 */
CU_WARN_UNUSED cu_result cu_vault_wrap(const cu_vault *v, const char *member_id,
                                       const cu_data_key *dk,
                                       unsigned char out[CU_VAULT_WRAPPEDBYTES], uint32_t *key_id);
/*
 * Unwraps either format; CU_ERR_CRYPTO if the key id is unknown, the
 * member's leaf is punctured (erased) or the wrap was tampered with.
 */
CU_WARN_UNUSED cu_result cu_vault_unwrap(const cu_vault *v, const char *member_id, uint32_t key_id,
                                         const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES],
                                         cu_data_key *dk);

/*
 * Seals len bytes of plaintext for (member_id, field).  out must hold
 * len + CU_VAULT_SEAL_OVERHEAD bytes.
 */
CU_WARN_UNUSED cu_result cu_vault_seal(const cu_data_key *dk, const char *member_id,
                                       const char *field, const unsigned char *pt, size_t len,
                                       unsigned char *out);
/*
 * Opens a sealed value; out must hold sealed_len - CU_VAULT_SEAL_OVERHEAD
 * bytes (plus one for the NUL this function appends, so text can be used as
 * a C string).  CU_ERR_CRYPTO if it does not authenticate.  The caller wipes
 * out with sodium_memzero when done.
 */
CU_WARN_UNUSED cu_result cu_vault_open(const cu_data_key *dk, const char *member_id,
                                       const char *field, const unsigned char *sealed,
                                       size_t sealed_len, unsigned char *out, size_t *outlen);

/*
 * Blind index of an already normalised value under master key `key_id`
 * (the lookup tries every loaded key).  `kind` separates domains ("email",
 * "phone") so equal strings of different kinds do not collide.
 */
CU_WARN_UNUSED cu_result cu_vault_blind_index(const cu_vault *v, uint32_t key_id, const char *kind,
                                              const char *normalised,
                                              unsigned char out[CU_VAULT_BIDXBYTES]);

/* Argon2id.  opslimit/memlimit come from configuration (see config.h). */
CU_WARN_UNUSED cu_result cu_vault_password_hash(const char *password, unsigned long long opslimit,
                                                size_t memlimit, char out[CU_VAULT_PWHASH_MAX]);
/* CU_OK if it matches, CU_ERR_UNAUTHENTICATED if not. */
CU_WARN_UNUSED cu_result cu_vault_password_verify(const char *hash, const char *password);

/*
 * Notes: text written by staff about a member (an officer's justification
 * for a legal exception, a review finding) is not a member's field, yet may
 * name personal matters, so it is sealed at rest too — under a subkey of the
 * current master key ("cu-note_", id 3), with `context` (1..64 bytes, e.g.
 * "exception:ID") as associated data.
 *   sealed note = version(1)=1 | key id(4, big-endian) | nonce(24) | ct(n) | tag(16)
 * open appends a NUL (out holds sealed_len - CU_VAULT_NOTE_OVERHEAD + 1).
 */
#define CU_VAULT_NOTE_OVERHEAD 45
CU_WARN_UNUSED cu_result cu_vault_seal_note(const cu_vault *v, const char *context,
                                            const unsigned char *pt, size_t len,
                                            unsigned char *out);
CU_WARN_UNUSED cu_result cu_vault_open_note(const cu_vault *v, const char *context,
                                            const unsigned char *sealed, size_t sealed_len,
                                            unsigned char *out, size_t *outlen);

/*
 * MACs of what the server hands out and later takes back unchanged (the
 * tokens of web forms): keyed BLAKE2b-256 under a subkey of the current
 * master key ("cu-mac__", id 5), over `label` (its NUL included, so labels
 * separate uses) and then `data`.  Every server that holds the same master
 * keys computes the same tag, so a form stays good across a restart and
 * across the servers behind a load balancer, and nothing about a visitor is
 * kept to check it.  A master key rotation voids the tags made before it.
 * CU_ERR_INVALID_ARGUMENT without keys.
 */
#define CU_VAULT_MACBYTES 32
CU_WARN_UNUSED cu_result cu_vault_mac(const cu_vault *v, const char *label, const void *data,
                                      size_t len, unsigned char mac[CU_VAULT_MACBYTES]);

/*
 * Signatures (Ed25519) on what Custodian hands out — consent receipts,
 * erasure certificates.  The key pair grows from a seed derived from each
 * master key ("cu-sign_", id 4), so it rotates with the master key and needs
 * no file of its own; a signature names the key id that made it.
 */
#define CU_VAULT_SIGBYTES     64
#define CU_VAULT_SIGN_PKBYTES 32
CU_WARN_UNUSED cu_result cu_vault_sign(const cu_vault *v, const unsigned char *msg, size_t len,
                                       unsigned char sig[CU_VAULT_SIGBYTES], uint32_t *key_id);
/* The public key of master key `key_id`; CU_ERR_NOT_FOUND if not loaded. */
CU_WARN_UNUSED cu_result cu_vault_sign_public_key(const cu_vault *v, uint32_t key_id,
                                                  unsigned char pk[CU_VAULT_SIGN_PKBYTES]);
/* CU_OK if sig is pk's signature of msg, CU_ERR_CRYPTO if not. */
CU_WARN_UNUSED cu_result cu_vault_verify_signature(const unsigned char pk[CU_VAULT_SIGN_PKBYTES],
                                                   const unsigned char *msg, size_t len,
                                                   const unsigned char sig[CU_VAULT_SIGBYTES]);

/* Random URL-safe ids: 16 random bytes as 22 base64url characters + NUL. */
#define CU_ID_LEN 22
void cu_vault_random_id(char out[CU_ID_LEN + 1]);
/*
 * Whether s has exactly the form cu_vault_random_id gives: CU_ID_LEN
 * base64url characters, the last one carrying the 128th bit and four zero
 * bits (one of "AQgw").  Member, request, complaint, entry and review ids
 * are of this form; anything else a client types into an id position is
 * not an id (and is never written to the audit log, audit.h).  NULL: false.
 */
bool cu_vault_id_well_formed(const char *s);

#endif
