/*
 * fuzz_import_csv — `custodian import` of a CSV file (libcsv, a header row naming policy fields):
 * parsing, validation and sealing of every row, and the batched writes
 * (rolled back after each input; see fuzz_import in support.c).
 */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_import(data, size, ".csv");
	return 0;
}
