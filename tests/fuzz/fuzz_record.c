/*
 * fuzz_record — the packed record of a member's sealed fields
 * (cu_record_parse, src/vault/record.h), as read back from the store: a
 * database file is input too.  What parses must pack back to the same
 * bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "fuzz.h"
#include "vault/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cu_record_entry e[CU_POLICY_FIELDS_MAX];
	unsigned char *again;
	size_t n = 0;

	if (cu_record_parse(data, size, e, CU_POLICY_FIELDS_MAX, &n) != CU_OK)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (e[i].name < (const char *)data ||
		    e[i].name + e[i].name_len > (const char *)data + size || e[i].sealed < data ||
		    e[i].sealed + e[i].sealed_len > data + size)
			abort();
	again = malloc(cu_record_packed_size(e, n) + 1);
	if (!again)
		abort();
	cu_record_pack(e, n, again);
	if (cu_record_packed_size(e, n) != size || memcmp(again, data, size))
		abort();
	free(again);
	return 0;
}
