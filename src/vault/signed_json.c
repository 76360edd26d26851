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

/*
 * json_dumps, used only once the text reads back as the value it was made
 * from: jansson's dumper can lose part of an object's key when an
 * allocation fails midway and still return a string (jansson 2.14, seen
 * under allocation faults: a document whose "signature" key was gone).
 * Signing such a text, or handing it out, would be worse than failing.
 */
static char *dump_checked(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags);
	json_t *back = s ? json_loads(s, JSON_REJECT_DUPLICATES, NULL) : NULL;

	if (s && (!back || !json_equal(back, v))) {
		free(s);
		s = NULL;
	}
	json_decref(back);
	return s;
}

cu_result cu_signed_json_seal(const cu_vault *v, const char *name, json_t *body, char **out)
{
	unsigned char sig[CU_VAULT_SIGBYTES];
	char sighex[2 * CU_VAULT_SIGBYTES + 1], *canon;
	json_t *doc = NULL;
	cu_result rc;

	*out = NULL;
	canon = body ? dump_checked(body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (!canon)
		return CU_ERR_NOMEM;
	rc = cu_vault_sign(v, (const unsigned char *)canon, strlen(canon), sig, NULL);
	if (rc)
		goto out;
	sodium_bin2hex(sighex, sizeof(sighex), sig, sizeof(sig));
	doc = json_pack("{s:O,s:s}", name, body, "signature", sighex);
	*out = doc ? dump_checked(doc, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	rc = *out ? CU_OK : CU_ERR_NOMEM;
out:
	free(canon);
	json_decref(doc);
	return rc;
}
