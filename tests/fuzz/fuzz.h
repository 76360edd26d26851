/*
 * tests/fuzz/fuzz.h — what the fuzz targets share (support.c).
 *
 * Each tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput for one
 * parser a client or a file reaches.  Built with clang and
 * -fsanitize=fuzzer (cmake -DCU_FUZZ=ON) it is a libFuzzer fuzzer; built
 * with anything else it is linked with replay.c, which runs it once on
 * every file of tests/fuzz/corpus/<name>/ and tests/fuzz/regressions/<name>/
 * (ctest: fuzz/<name>).
 *
 * Rules for a target: deterministic (the same input takes the same path),
 * nothing kept from one input to the next except what is set up once per
 * process, and nothing leaked per input (libFuzzer's -detect_leaks).
 */
#ifndef CU_FUZZ_H
#define CU_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "ctx/ctx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Calls a warn_unused_result function whose answer does not matter here. */
#define FUZZ_IGNORE(call)                                                                          \
	do {                                                                                       \
		if (call) {                                                                        \
		}                                                                                  \
	} while (0)

/* A malloc'd NUL-terminated copy of the input (NUL bytes in it stay). Aborts when out of memory. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/*
 * A data directory initialised once per process (a temporary directory,
 * removed at exit) with the built-in policy, opened.  Targets that write
 * wrap their work in cu_tx_begin / cu_tx_rollback so every input sees the
 * same empty store.  Aborts if it cannot be set up.
 */
cu_ctx *fuzz_ctx(void);

/*
 * A temporary directory made once per process (and removed at exit), for
 * scratch files; fuzz_ctx's data directory is its "data".  Aborts if it
 * cannot be made.
 */
const char *fuzz_dir(void);

/* Writes size bytes to `path` (replacing it).  Aborts on failure. */
void fuzz_write_file(const char *path, const uint8_t *data, size_t size);

/*
 * Imports the input as a file named input<suffix> (".csv" or ".jsonl") into
 * fuzz_ctx's store, as `custodian import` does, inside a transaction that
 * is rolled back.  Aborts if the import fails for any reason but the
 * input's (CU_ERR_INVALID_ARGUMENT).  With CU_FUZZ_VERBOSE set in the
 * environment it prints the outcome (to check what a seed reaches).
 */
void fuzz_import(const uint8_t *data, size_t size, const char *suffix);

#endif
