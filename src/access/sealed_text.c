/*
 * src/access/sealed_text.c — a person's free text sealed under their member key
 * (see sealed_text.h).
 */
#include "access/sealed_text.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

cu_result cu_sealed_text_seal(const cu_vault *v, const cu_member_row *m, const char *field,
                              const char *text, unsigned char **out, size_t *outlen)
{
	size_t len = strlen(text);
	cu_data_key dk;
	cu_result rc;

	*out = NULL;
	*outlen = 0;
	if (m->erased)
		return CU_ERR_ERASED;
	*out = malloc(len + CU_VAULT_SEAL_OVERHEAD);
	if (!*out)
		return CU_ERR_NOMEM;
	rc = cu_vault_unwrap(v, m->id, m->key_id, m->wrapped, &dk);
	if (!rc)
		rc = cu_vault_seal(&dk, m->id, field, (const unsigned char *)text, len, *out);
	cu_vault_data_key_wipe(&dk);
	if (rc) {
		free(*out);
		*out = NULL;
		return rc;
	}
	*outlen = len + CU_VAULT_SEAL_OVERHEAD;
	return CU_OK;
}

void cu_wipe_free(char *s)
{
	if (s) {
		sodium_memzero(s, strlen(s));
		free(s);
	}
}

cu_result cu_sealed_text_open(const cu_data_key *dk, const char *member, const char *field,
                              const unsigned char *sealed, size_t len, char **out)
{
	size_t n = 0;
	cu_result rc;

	*out = NULL;
	if (len < CU_VAULT_SEAL_OVERHEAD)
		return CU_ERR_CRYPTO;
	*out = malloc(len - CU_VAULT_SEAL_OVERHEAD + 1);
	if (!*out)
		return CU_ERR_NOMEM;
	rc = cu_vault_open(dk, member, field, sealed, len, (unsigned char *)*out, &n);
	if (rc) {
		sodium_memzero(*out, len - CU_VAULT_SEAL_OVERHEAD + 1);
		free(*out);
		*out = NULL;
	}
	return rc;
}
