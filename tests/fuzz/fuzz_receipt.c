/*
 * fuzz_receipt — consent receipts and erasure certificates as `custodian
 * receipt verify` reads them (cu_consent_receipt_verify,
 * cu_request_certificate_verify), with and without the custodian's vault.
 *
 * A fuzzer cannot forge Ed25519, so the input is checked twice: as it is
 * (the parsing and the refusals before the signature), and re-signed with
 * the test vault's key (its "public_key" and "signature" replaced), which
 * reaches what is done with a document whose signature holds.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/requests.h"
#include "vault/vault.h"
#include "fuzz.h"

static void verify_all(const char *json, size_t len, const cu_vault *v)
{
	char what[256], summary[512];

	FUZZ_IGNORE(cu_consent_receipt_verify(json, len, NULL, what, sizeof(what), summary,
	                                      sizeof(summary)));
	FUZZ_IGNORE(cu_consent_receipt_verify(json, len, v, what, sizeof(what), NULL, 0));
	FUZZ_IGNORE(cu_request_certificate_verify(json, len, NULL, what, sizeof(what)));
	FUZZ_IGNORE(cu_request_certificate_verify(json, len, v, what, sizeof(what)));
}

/* Re-signs doc[member] with v's current key, as the custodian would have. */
static void resign(json_t *doc, const char *member, const cu_vault *v)
{
	json_t *body = json_object_get(doc, member);
	unsigned char pk[CU_VAULT_SIGN_PKBYTES], sig[CU_VAULT_SIGBYTES];
	char pkhex[2 * CU_VAULT_SIGN_PKBYTES + 1], sighex[2 * CU_VAULT_SIGBYTES + 1];
	uint32_t kid = cu_vault_current_key_id(v);
	char *canon;

	if (!json_is_object(body) || cu_vault_sign_public_key(v, kid, pk) != CU_OK)
		return;
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	json_object_set_new(body, "public_key", json_string(pkhex));
	canon = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	if (!canon)
		return;
	if (cu_vault_sign(v, (const unsigned char *)canon, strlen(canon), sig, &kid) == CU_OK) {
		sodium_bin2hex(sighex, sizeof(sighex), sig, sizeof(sig));
		json_object_set_new(doc, "signature", json_string(sighex));
	}
	free(canon);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cu_vault *v = fuzz_ctx()->vault;
	json_t *doc;
	char *again;

	verify_all((const char *)data, size, v);
	doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(doc))
		goto out;
	resign(doc, "receipt", v);
	resign(doc, "certificate", v);
	again = json_dumps(doc, JSON_COMPACT);
	if (again) {
		verify_all(again, strlen(again), v);
		free(again);
	}
out:
	json_decref(doc);
	return 0;
}
