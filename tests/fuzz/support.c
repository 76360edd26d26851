/* tests/fuzz/support.c — the fuzz targets' shared set-up (fuzz.h). */
#define _XOPEN_SOURCE 700
#include "fuzz.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain/import.h"
#include "vault/vault.h"

static char tmp_dir[512];
static cu_ctx *ctx;

char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void tear_down(void)
{
	cu_ctx_close(ctx);
	ctx = NULL;
	if (tmp_dir[0])
		nftw(tmp_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (tmp_dir[0])
		return tmp_dir;
	if (!base || !*base)
		base = "/tmp";
	snprintf(tmp_dir, sizeof(tmp_dir), "%s/cu-fuzz-XXXXXX", base);
	if (!mkdtemp(tmp_dir) || cu_vault_global_init() != CU_OK) {
		fprintf(stderr, "fuzz: cannot make a temporary directory under %s\n", base);
		abort();
	}
	atexit(tear_down);
	return tmp_dir;
}

cu_ctx *fuzz_ctx(void)
{
	char data[600], err[512];

	if (ctx)
		return ctx;
	snprintf(data, sizeof(data), "%s/data", fuzz_dir());
	if (cu_ctx_init_dir(data, NULL, err, sizeof(err)) != CU_OK ||
	    cu_ctx_open(data, &ctx, err, sizeof(err)) != CU_OK) {
		fprintf(stderr, "fuzz: %s\n", err);
		abort();
	}
	return ctx;
}

void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
		fprintf(stderr, "fuzz: cannot write %s\n", path);
		abort();
	}
}

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	(void)ud;
	(void)line;
	(void)rc;
	if (errs && errs->n > CU_ERRORS_MAX)
		abort();
}

void fuzz_import(const uint8_t *data, size_t size, const char *suffix)
{
	static const cu_actor operator_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};
	cu_ctx *c = fuzz_ctx();
	cu_import_report report;
	char path[600], err[512];
	cu_result rc;

	snprintf(path, sizeof(path), "%s/input%s", fuzz_dir(), suffix);
	fuzz_write_file(path, data, size);
	if (cu_tx_begin(c) != CU_OK)
		abort();
	rc = cu_import_file(c, &operator_actor, path, &report, on_reject, NULL, NULL, err,
	                    sizeof(err));
	if (getenv("CU_FUZZ_VERBOSE"))
		fprintf(stderr, "import: %s, imported %llu, rejected %llu%s%s\n", cu_strerror(rc),
		        (unsigned long long)report.imported, (unsigned long long)report.rejected,
		        rc ? ": " : "", rc ? err : "");
	/* Input never makes the store fail; only the input is refused. */
	if (rc != CU_OK && rc != CU_ERR_INVALID_ARGUMENT)
		abort();
	/* Every input starts from the same empty store. */
	cu_tx_rollback(c);
}
