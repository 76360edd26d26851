/*
 * src/vault/signed_json.c — signed JSON documents: see signed_json.h.
 */
#include "vault/signed_json.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

cu_result cu_signed_json_key(const cu_vault *v, uint32_t *key_id,
                             char pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1])
{
	unsigned char sig[CU_VAULT_SIGBYTES], pk[CU_VAULT_SIGN_PKBYTES];
	cu_result rc;

	/* Sign nothing once to learn which key signs now. */
	rc = cu_vault_sign(v, (const unsigned char *)"", 0, sig, key_id);
	if (!rc)
		rc = cu_vault_sign_public_key(v, *key_id, pk);
	if (rc)
		return rc;
	sodium_bin2hex(pkhex, 2 * CU_VAULT_SIGN_PKBYTES + 1, pk, sizeof(pk));
	return CU_OK;
}

cu_result cu_signed_json_seal(const cu_vault *v, const char *name, json_t *body, char **out)
{
	unsigned char sig[CU_VAULT_SIGBYTES];
	char sighex[2 * CU_VAULT_SIGBYTES + 1], *canon;
	json_t *doc = NULL;
	cu_result rc;

	*out = NULL;
	canon = body ? json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!canon)
		return CU_ERR_NOMEM;
	rc = cu_vault_sign(v, (const unsigned char *)canon, strlen(canon), sig, NULL);
	if (rc)
		goto out;
	sodium_bin2hex(sighex, sizeof(sighex), sig, sizeof(sig));
	doc = json_pack("{s:O,s:s}", name, body, "signature", sighex);
	*out = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	rc = *out ? CU_OK : CU_ERR_NOMEM;
out:
	free(canon);
	json_decref(doc);
	return rc;
}
