/*
 * src/vault/stream.h — the backup key file and the encrypted container a
 * backup is written in (libsodium crypto_secretstream_xchacha20poly1305).
 *
 * Backup keys: DIR/backup.key, the same format as master.key (vault.h):
 * "ID HEX64" per line, '#' comments, the last line the current key, older
 * lines kept only to open older backups.  Mode 0600; a file that group or
 * others can read is refused.  It is a key of its own, distinct from the
 * master key, and $CUSTODIAN_MASTER_KEY never stands in for it.  The file
 * is parsed by the vault's own parser (cu_vault_open_text) and its keys are
 * used through cu_vault_wrap / cu_vault_unwrap: a backup's file key is
 * "wrapped for" the backup's random id, as a member's data key is wrapped
 * for the member id.
 *
 * The container (all integers big-endian):
 *
 *   header   magic "CUBACKUP" (8) | format version (1) = 1
 *            | backup key id (4) | backup id (22, cu_vault_random_id)
 *            | wrapped file key (73, cu_vault_wrap of a random 32-byte key
 *              under the backup key, "member id" = the backup id)
 *            | secretstream header (24)                          132 bytes
 *   chunks   length (4) | secretstream message (length bytes: plaintext
 *            of 1 .. CU_STREAM_CHUNK_MAX bytes + 17), tag MESSAGE, no
 *            associated data; then one empty message tagged FINAL whose
 *            associated data is the 132 header bytes followed by the
 *            manifest: the end of the stream authenticates both
 *   trailer  manifest (n bytes, UTF-8 JSON, in the clear) | n (4)
 *            | magic "CUBKEND1" (8)
 *
 * So every byte is covered: a flipped byte in the header fails the unwrap
 * or the first chunk; in a chunk, that chunk; in the manifest or the
 * header, the final message; a cut file has no final message or no
 * trailer.  The manifest can be read without any key
 * (cu_stream_manifest_read) and is trusted only once a reader has reached
 * the final message (cu_stream_read returns done).  What the chunks hold
 * (a compressed database) is the caller's business (domain/backup.h).
 */
#ifndef CUSTODIAN_STREAM_H
#define CUSTODIAN_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/result.h"
#include "vault/vault.h"

#define CU_STREAM_MAGIC_BYTES   8
#define CU_STREAM_HEADER_BYTES  132
#define CU_STREAM_CHUNK_MAX     (4u << 20) /* plaintext bytes of one chunk, at most */
#define CU_STREAM_CHUNK_ABYTES  17         /* crypto_secretstream_xchacha20poly1305_ABYTES */
#define CU_STREAM_TRAILER_BYTES 12         /* manifest length (4) and end magic (8) */
#define CU_STREAM_MANIFEST_MAX  (64u << 10)
#define CU_STREAM_VERSION       1

/* ---- the backup key file -------------------------------------------------- */

/*
 * Creates a new backup key file (mode 0600, O_EXCL) holding one random key,
 * id 1.  CU_ERR_EXISTS if path exists, CU_ERR_IO if it cannot be written.
 */
CU_WARN_UNUSED cu_result cu_stream_key_file_create(const char *path);
/*
 * Reads the backup key file at path into *out (a vault holding only backup
 * keys; free with cu_vault_free).  CU_ERR_IO (absent, unreadable),
 * CU_ERR_CRYPTO (mode, size, format) with one line in err, never a key.
 */
CU_WARN_UNUSED cu_result cu_stream_key_file_open(const char *path, cu_vault **out, char *err,
                                                 size_t errlen);
/*
 * Appends a new random key with id (highest id + 1) to the file at path,
 * which becomes the current one; the older lines stay.  Written whole or
 * not at all (util/file_atomic.h).  *new_id (may be NULL) receives its id.
 */
CU_WARN_UNUSED cu_result cu_stream_key_file_rotate(const char *path, uint32_t *new_id, char *err,
                                                   size_t errlen);

/* ---- writing a container ----------------------------------------------- */

typedef struct cu_stream_writer cu_stream_writer;

/*
 * Starts a container on fd (open for writing, positioned where the
 * container begins): a random file key wrapped under the current key of
 * keys, and the header written.  Free with cu_stream_writer_free.
 */
CU_WARN_UNUSED cu_result cu_stream_writer_new(const cu_vault *keys, int fd, cu_stream_writer **out);
/* The backup id (CU_ID_LEN characters) and the backup key id in the header. */
const char *cu_stream_writer_id(const cu_stream_writer *w);
uint32_t cu_stream_writer_key_id(const cu_stream_writer *w);
/* Bytes written to fd so far. */
uint64_t cu_stream_writer_bytes(const cu_stream_writer *w);
/* Seals and writes one chunk of 1 .. CU_STREAM_CHUNK_MAX bytes. */
CU_WARN_UNUSED cu_result cu_stream_write(cu_stream_writer *w, const unsigned char *pt, size_t len);
/*
 * Ends the stream: the final message (authenticating header and manifest)
 * and the trailer.  manifest: 1 .. CU_STREAM_MANIFEST_MAX bytes of UTF-8
 * JSON.  The caller then fsyncs fd.
 */
CU_WARN_UNUSED cu_result cu_stream_writer_finish(cu_stream_writer *w, const char *manifest,
                                                 size_t len);
/* Wipes the stream state and frees.  NULL is a harmless no-op. */
void cu_stream_writer_free(cu_stream_writer *w);

/* ---- reading a container ----------------------------------------------- */

/*
 * Reads the header's backup id and key id and the manifest of the
 * container in the file fd (its whole length), with no key: nothing is
 * authenticated yet.  *manifest is malloc'd and NUL-terminated (the caller
 * frees).  CU_ERR_CRYPTO with one line in err when the file is not a
 * container of this version (too short, a magic or a length wrong).
 */
CU_WARN_UNUSED cu_result cu_stream_manifest_read(int fd, char **manifest, size_t *len,
                                                 uint32_t *key_id, char id[CU_ID_LEN + 1],
                                                 char *err, size_t errlen);

typedef struct cu_stream_reader cu_stream_reader;

/*
 * Opens the container in fd for reading: the manifest as above, the file
 * key unwrapped with keys (CU_ERR_CRYPTO "backup key N is not in the backup
 * key file" or "the file key does not open").  Free with
 * cu_stream_reader_free.
 */
CU_WARN_UNUSED cu_result cu_stream_reader_new(const cu_vault *keys, int fd, cu_stream_reader **out,
                                              char *err, size_t errlen);
/* The manifest (NUL-terminated), trusted only after the final message. */
const char *cu_stream_reader_manifest(const cu_stream_reader *r);
/* The header's backup id and backup key id (authenticated by the unwrap). */
const char *cu_stream_reader_id(const cu_stream_reader *r);
uint32_t cu_stream_reader_key_id(const cu_stream_reader *r);
/* Container bytes and bytes read so far (for progress). */
uint64_t cu_stream_reader_size(const cu_stream_reader *r);
uint64_t cu_stream_reader_offset(const cu_stream_reader *r);
/*
 * The next chunk's plaintext into buf (CU_STREAM_CHUNK_MAX bytes); *len its
 * length.  When the final message authenticates, *done is true and *len
 * 0.  CU_ERR_CRYPTO with one line in err when a chunk does not
 * authenticate, the file ends early, or bytes follow the final message.
 */
CU_WARN_UNUSED cu_result cu_stream_read(cu_stream_reader *r, unsigned char *buf, size_t *len,
                                        bool *done, char *err, size_t errlen);
/* Wipes and frees.  NULL is a harmless no-op. */
void cu_stream_reader_free(cu_stream_reader *r);

#endif
