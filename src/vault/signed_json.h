/*
 * src/vault/signed_json.h — signed JSON documents (private; consent receipts,
 * consent.c, and erasure certificates, erasure.c).
 *
 * A document is {"<name>": BODY, "signature": HEX}: HEX is the Ed25519
 * signature (vault.h, cu_vault_sign) of BODY's canonical form, compact with
 * its keys sorted.  BODY names the signing key ("key_id", "public_key"), so
 * those are learnt first and are part of what is signed.
 * cu_consent_receipt_verify checks either kind.
 */
#ifndef CU_SIGNED_JSON_H
#define CU_SIGNED_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "vault/vault.h"

/* The current signing key: its id and public key in hex, for BODY to name. */
CU_WARN_UNUSED cu_result cu_signed_json_key(const cu_vault *v, uint32_t *key_id,
                                            char pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1]);

/*
 * Signs body (not consumed; NULL is CU_ERR_NOMEM, so a failed json_pack
 * needs no check of its own) and returns the document, indented, in a new
 * string *out (the caller frees it); *out is NULL on failure.
 */
CU_WARN_UNUSED cu_result cu_signed_json_seal(const cu_vault *v, const char *name, json_t *body,
                                             char **out);

#endif
