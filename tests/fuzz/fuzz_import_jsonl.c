/*
 * fuzz_import_jsonl — `custodian import` of a JSON Lines file (one object per line):
 * parsing, validation and sealing of every row, and the batched writes
 * (rolled back after each input; see fuzz_import in support.c).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, ".jsonl");
	return 0;
}
