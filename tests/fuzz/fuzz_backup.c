/*
 * fuzz_backup — a backup file as `custodian backup verify` and `restore`
 * meet it (src/vault/stream.h): the container's header, trailer and
 * manifest read without a key (cu_stream_manifest_read), the manifest's
 * JSON parsed (cu_backup_manifest_parse), and the chunks read with the
 * fuzzer's own backup key until one does not authenticate.
 *
 * A fuzzer cannot forge XChaCha20-Poly1305, so inputs that begin with 'W'
 * are built instead: the rest is split into a manifest and chunks, written
 * as a container under the key (cu_stream_writer) and read back whole —
 * the reader's paths past authentication, on the lengths the fuzzer picks.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "domain/backup.h"
#include "fuzz.h"
#include "vault/stream.h"

static const char key_text[] =
    "1 3f1c0e5d9a2b4c6e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60\n";
static cu_vault *keys;
static unsigned char *chunk; /* CU_STREAM_CHUNK_MAX, once per process */

static int memfile(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_backup", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	return fd;
}

static void read_all(int fd)
{
	char err[256], id[CU_ID_LEN + 1], *manifest = NULL;
	cu_backup_manifest m;
	cu_stream_reader *r = NULL;
	uint32_t key_id;
	size_t len = 0;
	bool done = false;

	if (cu_stream_manifest_read(fd, &manifest, &len, &key_id, id, err, sizeof(err)) == CU_OK)
		FUZZ_IGNORE(cu_backup_manifest_parse(manifest, &m));
	free(manifest);
	if (cu_stream_reader_new(keys, fd, &r, err, sizeof(err)) != CU_OK)
		return;
	while (!done && cu_stream_read(r, chunk, &len, &done, err, sizeof(err)) == CU_OK)
		;
	cu_stream_reader_free(r);
}

/* 'W' | manifest length (1) | manifest | chunk length (1) | chunk | ... */
static void write_then_read(const uint8_t *data, size_t size)
{
	cu_stream_writer *w = NULL;
	size_t mlen = size ? data[0] : 0, at = 1;
	char *manifest;
	int fd = memfile(NULL, 0);

	if (mlen > size - (size ? 1 : 0))
		mlen = size ? size - 1 : 0;
	manifest = fuzz_cstr(data + at, mlen);
	at += mlen;
	if (cu_stream_writer_new(keys, fd, &w) != CU_OK)
		abort();
	while (at < size) {
		size_t n = data[at++];

		if (n > size - at)
			n = size - at;
		if (n && cu_stream_write(w, data + at, n) != CU_OK)
			break;
		at += n;
	}
	FUZZ_IGNORE(cu_stream_writer_finish(w, manifest, strlen(manifest)));
	cu_stream_writer_free(w);
	free(manifest);
	read_all(fd);
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	cu_backup_manifest m;
	int fd;

	if (!keys) {
		char err[256];

		if (cu_vault_global_init() || cu_vault_open_text(key_text, &keys, err, sizeof(err)))
			abort();
		chunk = malloc(CU_STREAM_CHUNK_MAX);
		if (!chunk)
			abort();
	}
	if (size && data[0] == 'W') {
		write_then_read(data + 1, size - 1);
		return 0;
	}
	text = fuzz_cstr(data, size);
	FUZZ_IGNORE(cu_backup_manifest_parse(text, &m));
	free(text);
	fd = memfile(data, size);
	read_all(fd);
	close(fd);
	return 0;
}
