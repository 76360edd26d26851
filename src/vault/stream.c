/*
 * src/vault/stream.c — the backup key file and the encrypted backup
 * container (stream.h).
 */
#include "vault/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file_atomic.h"

#define KEYFILE_MAX 65536 /* as master.key (vault.c) */
#define HEXKEYLEN   (2 * CU_VAULT_KEYBYTES)
#define ID_DIGITS   10 /* the decimal digits of a key id, at most */
#define KEY_ID_MAX  0x7fffffffu

static const char magic[CU_STREAM_MAGIC_BYTES] = {'C', 'U', 'B', 'A', 'C', 'K', 'U', 'P'};
static const char end_magic[CU_STREAM_MAGIC_BYTES] = {'C', 'U', 'B', 'K', 'E', 'N', 'D', '1'};

/* Offsets in the header. */
enum {
	H_MAGIC = 0,
	H_VERSION = H_MAGIC + CU_STREAM_MAGIC_BYTES,
	H_KEY_ID = H_VERSION + 1,
	H_ID = H_KEY_ID + 4,
	H_WRAPPED = H_ID + CU_ID_LEN,
	H_SS = H_WRAPPED + CU_VAULT_WRAPPEDBYTES,
	H_END = H_SS + crypto_secretstream_xchacha20poly1305_HEADERBYTES,
};

_Static_assert(H_END == CU_STREAM_HEADER_BYTES, "the header is 132 bytes");
_Static_assert(CU_STREAM_CHUNK_ABYTES == crypto_secretstream_xchacha20poly1305_ABYTES,
               "a chunk's overhead is secretstream's");
_Static_assert(crypto_secretstream_xchacha20poly1305_KEYBYTES == CU_VAULT_KEYBYTES,
               "a file key is a data key");

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t r;

	while (len) {
		r = write(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

/* Reads exactly len bytes at off; -1 on an error or a short file. */
static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	unsigned char *p = buf;
	ssize_t r;

	while (len) {
		r = pread(fd, p, len, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
		off += (uint64_t)r;
	}
	return 0;
}

/* ---- the backup key file -------------------------------------------------- */

static const char keyfile_header[] =
    "# custodian backup keys: one \"ID HEX64\" per line; the last line is the current key.\n"
    "# They open backups (custodian backup, restore).  Keep this file secret (mode 0600)\n"
    "# and kept apart from the backups; keep old lines while a backup made under them is\n"
    "# kept.  See docs/backup.md.\n";

/* "ID HEX64\n" of a random key into line (locked memory); returns its length. */
static size_t key_line(char *line, size_t cap, uint32_t id)
{
	unsigned char k[CU_VAULT_KEYBYTES];
	int n = snprintf(line, cap, "%u ", (unsigned)id);

	if (n < 0 || (size_t)n + HEXKEYLEN + 2 > cap)
		return 0;
	randombytes_buf(k, sizeof(k));
	sodium_bin2hex(line + n, HEXKEYLEN + 1, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
	line[n + HEXKEYLEN] = '\n';
	line[n + HEXKEYLEN + 1] = '\0';
	return (size_t)n + HEXKEYLEN + 1;
}

cu_result cu_stream_key_file_create(const char *path)
{
	enum { LINE = ID_DIGITS + 1 + HEXKEYLEN + 2 };
	char *line = NULL;
	size_t n;
	int fd = -1, created = 0;
	cu_result rc = CU_ERR_IO;

	if (!path || !*path)
		return CU_ERR_INVALID_ARGUMENT;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	line = sodium_malloc(LINE);
	if (!line)
		return CU_ERR_NOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		rc = errno == EEXIST ? CU_ERR_EXISTS : CU_ERR_IO;
		goto out;
	}
	created = 1;
	n = key_line(line, LINE, 1);
	if (!n || fchmod(fd, 0600) || write_all(fd, keyfile_header, sizeof(keyfile_header) - 1) ||
	    write_all(fd, line, n) || fsync(fd))
		goto out;
	rc = close(fd) ? CU_ERR_IO : CU_OK;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (rc && created)
		unlink(path);
	sodium_free(line);
	return rc;
}

/*
 * The text of the key file into locked memory (*text, KEYFILE_MAX + 2
 * bytes, NUL-terminated; sodium_free it).  Refuses what master.key's reader
 * refuses: not a regular file, group or others allowed in, too long, a NUL.
 */
static cu_result read_key_text(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t n = 0;
	struct stat st;
	ssize_t r;
	int fd;
	cu_result rc = CU_ERR_IO;

	*text = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		errf(err, errlen, "cannot open backup key file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "backup key file '%s' is not a regular file", path);
		goto out;
	}
	rc = CU_ERR_CRYPTO;
	if (st.st_mode & 077) {
		errf(err, errlen,
		     "backup key file '%s' has mode %04o: group and others must have no access "
		     "(chmod 600)",
		     path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	buf = sodium_malloc(KEYFILE_MAX + 2);
	if (!buf) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	while (n <= KEYFILE_MAX) {
		r = read(fd, buf + n, KEYFILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errf(err, errlen, "cannot read backup key file '%s': %s", path,
			     strerror(errno));
			rc = CU_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > KEYFILE_MAX || memchr(buf, '\0', n)) {
		errf(err, errlen, "backup key file '%s' is too long or holds a NUL byte", path);
		goto out;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
	rc = CU_OK;
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	return rc;
}

/* The vault's parser speaks of "master key": the messages here name the file. */
static cu_result parse_keys(const char *path, const char *text, cu_vault **out, char *err,
                            size_t errlen)
{
	char why[CU_ERR_MSG_MAX] = "";
	cu_result rc = cu_vault_open_text(text, out, why, sizeof(why));
	const char *w = why;

	if (rc) {
		if (!strncmp(w, "master key", 10))
			w += 10;
		while (*w == ':' || *w == ' ')
			w++;
		errf(err, errlen, "backup key file '%s': %s", path, *w ? w : cu_strerror(rc));
	}
	return rc;
}

cu_result cu_stream_key_file_open(const char *path, cu_vault **out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len;
	cu_result rc;

	if (!out || !path)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	rc = read_key_text(path, &text, &len, err, errlen);
	if (!rc)
		rc = parse_keys(path, text, out, err, errlen);
	sodium_free(text);
	return rc;
}

cu_result cu_stream_key_file_rotate(const char *path, uint32_t *new_id, char *err, size_t errlen)
{
	enum { LINE = ID_DIGITS + 1 + HEXKEYLEN + 2 };
	cu_vault *v = NULL;
	char *text = NULL;
	uint32_t top = 0;
	size_t len, n;
	cu_result rc;

	if (!path)
		return CU_ERR_INVALID_ARGUMENT;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	rc = read_key_text(path, &text, &len, err, errlen);
	if (!rc)
		rc = parse_keys(path, text, &v, err, errlen);
	if (rc)
		goto out;
	for (size_t i = 0; i < cu_vault_key_count(v); i++)
		if (cu_vault_key_id_at(v, i) > top)
			top = cu_vault_key_id_at(v, i);
	rc = CU_ERR_CRYPTO;
	if (cu_vault_key_count(v) >= CU_VAULT_KEYS_MAX || top >= KEY_ID_MAX) {
		errf(err, errlen,
		     "backup key file '%s' holds %d keys or the highest id: remove "
		     "old ones no backup needs first",
		     path, CU_VAULT_KEYS_MAX);
		goto out;
	}
	if (len + LINE + 1 > KEYFILE_MAX) {
		errf(err, errlen, "backup key file '%s' would grow past %d bytes", path,
		     KEYFILE_MAX);
		goto out;
	}
	/* The buffer has KEYFILE_MAX + 2 bytes: room for a newline and the line. */
	if (len && text[len - 1] != '\n')
		text[len++] = '\n';
	n = key_line(text + len, KEYFILE_MAX + 2 - len, top + 1);
	if (!n)
		goto out;
	len += n;
	rc = cu_file_write_atomic(path, text, len);
	if (rc) {
		errf(err, errlen, "cannot write backup key file '%s'", path);
		goto out;
	}
	if (new_id)
		*new_id = top + 1;
out:
	cu_vault_free(v);
	sodium_free(text);
	return rc;
}

/* ---- writing ------------------------------------------------------------------ */

struct cu_stream_writer {
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[CU_STREAM_HEADER_BYTES];
	char id[CU_ID_LEN + 1];
	uint32_t key_id;
	int fd;
	bool failed;
	uint64_t bytes;
	unsigned char *out; /* 4 + the largest chunk so far + ABYTES */
	size_t out_cap;
};

/*
 * *buf holds at least need bytes afterwards, or CU_ERR_NOMEM.  The chunk
 * buffers grow to the largest chunk met rather than starting at
 * CU_STREAM_CHUNK_MAX: a small backup, or a damaged one whose reading stops
 * at its first chunk, never touches 4 MiB it does not use.
 */
static cu_result grow(unsigned char **buf, size_t *cap, size_t need)
{
	unsigned char *p;

	if (need <= *cap)
		return CU_OK;
	p = realloc(*buf, need);
	if (!p)
		return CU_ERR_NOMEM;
	*buf = p;
	*cap = need;
	return CU_OK;
}

cu_result cu_stream_writer_new(const cu_vault *keys, int fd, cu_stream_writer **out)
{
	cu_stream_writer *w;
	cu_data_key fk;
	cu_result rc;

	if (!keys || fd < 0 || !out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	w = sodium_malloc(sizeof(*w));
	if (!w)
		return CU_ERR_NOMEM;
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	cu_vault_random_id(w->id);
	cu_vault_data_key_new(&fk);
	rc = cu_vault_wrap(keys, w->id, &fk, w->header + H_WRAPPED, &w->key_id);
	if (!rc && crypto_secretstream_xchacha20poly1305_init_push(&w->st, w->header + H_SS, fk.k))
		rc = CU_ERR_CRYPTO;
	cu_vault_data_key_wipe(&fk);
	if (rc)
		goto fail;
	memcpy(w->header + H_MAGIC, magic, sizeof(magic));
	w->header[H_VERSION] = CU_STREAM_VERSION;
	put32(w->header + H_KEY_ID, w->key_id);
	memcpy(w->header + H_ID, w->id, CU_ID_LEN);
	if (write_all(fd, w->header, sizeof(w->header))) {
		rc = CU_ERR_IO;
		goto fail;
	}
	w->bytes = sizeof(w->header);
	*out = w;
	return CU_OK;
fail:
	cu_stream_writer_free(w);
	return rc;
}

const char *cu_stream_writer_id(const cu_stream_writer *w)
{
	return w->id;
}

uint32_t cu_stream_writer_key_id(const cu_stream_writer *w)
{
	return w->key_id;
}

uint64_t cu_stream_writer_bytes(const cu_stream_writer *w)
{
	return w->bytes;
}

static cu_result push(cu_stream_writer *w, const unsigned char *pt, size_t len,
                      const unsigned char *ad, size_t adlen, unsigned char tag)
{
	unsigned long long clen;

	if (w->failed)
		return CU_ERR_IO;
	if (grow(&w->out, &w->out_cap, 4 + len + CU_STREAM_CHUNK_ABYTES))
		return CU_ERR_NOMEM;
	crypto_secretstream_xchacha20poly1305_push(&w->st, w->out + 4, &clen, pt, len, ad, adlen,
	                                           tag);
	put32(w->out, (uint32_t)clen);
	if (write_all(w->fd, w->out, 4 + (size_t)clen)) {
		w->failed = true;
		return CU_ERR_IO;
	}
	w->bytes += 4 + clen;
	return CU_OK;
}

cu_result cu_stream_write(cu_stream_writer *w, const unsigned char *pt, size_t len)
{
	if (!w || !pt || !len || len > CU_STREAM_CHUNK_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return push(w, pt, len, NULL, 0, crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
}

cu_result cu_stream_writer_finish(cu_stream_writer *w, const char *manifest, size_t len)
{
	unsigned char *ad, tail[CU_STREAM_TRAILER_BYTES];
	cu_result rc;

	if (!w || !manifest || !len || len > CU_STREAM_MANIFEST_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	ad = malloc(sizeof(w->header) + len);
	if (!ad)
		return CU_ERR_NOMEM;
	memcpy(ad, w->header, sizeof(w->header));
	memcpy(ad + sizeof(w->header), manifest, len);
	rc = push(w, NULL, 0, ad, sizeof(w->header) + len,
	          crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	free(ad);
	if (rc)
		return rc;
	put32(tail, (uint32_t)len);
	memcpy(tail + 4, end_magic, sizeof(end_magic));
	if (write_all(w->fd, manifest, len) || write_all(w->fd, tail, sizeof(tail))) {
		w->failed = true;
		return CU_ERR_IO;
	}
	w->bytes += len + sizeof(tail);
	return CU_OK;
}

void cu_stream_writer_free(cu_stream_writer *w)
{
	if (!w)
		return;
	free(w->out);
	sodium_free(w); /* wipes the stream state */
}

/* ---- reading ------------------------------------------------------------------ */

struct cu_stream_reader {
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[CU_STREAM_HEADER_BYTES];
	char *manifest;
	size_t manifest_len;
	char id[CU_ID_LEN + 1];
	uint32_t key_id;
	uint64_t size, off, data_end; /* data_end: where the trailer's manifest begins */
	int fd;
	bool done;
	unsigned char *in; /* the largest chunk so far, its ABYTES included */
	size_t in_cap;
};

/* Header and trailer of fd; the manifest malloc'd into *manifest. */
static cu_result read_frame(int fd, unsigned char header[CU_STREAM_HEADER_BYTES], char **manifest,
                            size_t *mlen, uint64_t *size, char *err, size_t errlen)
{
	unsigned char tail[CU_STREAM_TRAILER_BYTES];
	struct stat st;
	uint32_t n;
	char *m;

	*manifest = NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		errf(err, errlen, "not a regular file");
		return CU_ERR_IO;
	}
	*size = (uint64_t)st.st_size;
	if (*size < CU_STREAM_HEADER_BYTES + 4 + CU_STREAM_CHUNK_ABYTES + CU_STREAM_TRAILER_BYTES ||
	    pread_all(fd, header, CU_STREAM_HEADER_BYTES, 0) ||
	    pread_all(fd, tail, sizeof(tail), *size - sizeof(tail))) {
		errf(err, errlen, "not a custodian backup: too short");
		return CU_ERR_CRYPTO;
	}
	if (memcmp(header + H_MAGIC, magic, sizeof(magic))) {
		errf(err, errlen, "not a custodian backup: no CUBACKUP header");
		return CU_ERR_CRYPTO;
	}
	if (header[H_VERSION] != CU_STREAM_VERSION) {
		errf(err, errlen, "backup format version %u is not known to this build (%u)",
		     header[H_VERSION], CU_STREAM_VERSION);
		return CU_ERR_CRYPTO;
	}
	if (memcmp(tail + 4, end_magic, sizeof(end_magic))) {
		errf(err, errlen, "backup is cut short or damaged at its end (no trailer)");
		return CU_ERR_CRYPTO;
	}
	n = get32(tail);
	if (!n || n > CU_STREAM_MANIFEST_MAX ||
	    n > *size - CU_STREAM_HEADER_BYTES - 4 - CU_STREAM_CHUNK_ABYTES - sizeof(tail)) {
		errf(err, errlen, "backup is damaged: the manifest length is wrong");
		return CU_ERR_CRYPTO;
	}
	m = malloc((size_t)n + 1);
	if (!m)
		return CU_ERR_NOMEM;
	if (pread_all(fd, m, n, *size - sizeof(tail) - n)) {
		free(m);
		errf(err, errlen, "cannot read the backup's manifest");
		return CU_ERR_IO;
	}
	m[n] = '\0';
	if (memchr(m, '\0', n)) {
		free(m);
		errf(err, errlen, "backup is damaged: the manifest holds a NUL byte");
		return CU_ERR_CRYPTO;
	}
	*manifest = m;
	*mlen = n;
	return CU_OK;
}

static bool id_chars(const unsigned char *p)
{
	for (size_t i = 0; i < CU_ID_LEN; i++)
		if (!(p[i] >= 'A' && p[i] <= 'Z') && !(p[i] >= 'a' && p[i] <= 'z') &&
		    !(p[i] >= '0' && p[i] <= '9') && p[i] != '-' && p[i] != '_')
			return false;
	return true;
}

cu_result cu_stream_manifest_read(int fd, char **manifest, size_t *len, uint32_t *key_id,
                                  char id[CU_ID_LEN + 1], char *err, size_t errlen)
{
	unsigned char header[CU_STREAM_HEADER_BYTES];
	uint64_t size;
	size_t n;
	char *m;
	cu_result rc;

	if (!manifest)
		return CU_ERR_INVALID_ARGUMENT;
	rc = read_frame(fd, header, &m, &n, &size, err, errlen);
	if (rc)
		return rc;
	if (key_id)
		*key_id = get32(header + H_KEY_ID);
	if (id) {
		memcpy(id, header + H_ID, CU_ID_LEN);
		id[CU_ID_LEN] = '\0';
	}
	*manifest = m;
	if (len)
		*len = n;
	return CU_OK;
}

cu_result cu_stream_reader_new(const cu_vault *keys, int fd, cu_stream_reader **out, char *err,
                               size_t errlen)
{
	cu_stream_reader *r;
	char id[CU_ID_LEN + 1];
	uint32_t key_id;
	cu_data_key fk;
	cu_result rc;

	if (!keys || fd < 0 || !out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	r = sodium_malloc(sizeof(*r));
	if (!r)
		return CU_ERR_NOMEM;
	memset(r, 0, sizeof(*r));
	r->fd = fd;
	rc = read_frame(fd, r->header, &r->manifest, &r->manifest_len, &r->size, err, errlen);
	if (rc)
		goto fail;
	rc = CU_ERR_CRYPTO;
	if (!id_chars(r->header + H_ID)) {
		errf(err, errlen, "backup is damaged: the header's backup id is not an id");
		goto fail;
	}
	memcpy(id, r->header + H_ID, CU_ID_LEN);
	id[CU_ID_LEN] = '\0';
	key_id = get32(r->header + H_KEY_ID);
	memcpy(r->id, id, sizeof(r->id));
	r->key_id = key_id;
	if (cu_vault_unwrap(keys, id, key_id, r->header + H_WRAPPED, &fk)) {
		bool known = false;

		for (size_t i = 0; i < cu_vault_key_count(keys); i++)
			known |= cu_vault_key_id_at(keys, i) == key_id;
		if (known)
			errf(err, errlen,
			     "backup is damaged or not made with this backup key: the "
			     "file key does not open");
		else
			errf(err, errlen, "backup key %u is not in the backup key file",
			     (unsigned)key_id);
		goto fail;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&r->st, r->header + H_SS, fk.k)) {
		cu_vault_data_key_wipe(&fk);
		errf(err, errlen, "backup is damaged: its stream header is invalid");
		goto fail;
	}
	cu_vault_data_key_wipe(&fk);
	r->off = CU_STREAM_HEADER_BYTES;
	r->data_end = r->size - CU_STREAM_TRAILER_BYTES - r->manifest_len;
	*out = r;
	return CU_OK;
fail:
	cu_stream_reader_free(r);
	return rc;
}

const char *cu_stream_reader_manifest(const cu_stream_reader *r)
{
	return r->manifest;
}

const char *cu_stream_reader_id(const cu_stream_reader *r)
{
	return r->id;
}

uint32_t cu_stream_reader_key_id(const cu_stream_reader *r)
{
	return r->key_id;
}

uint64_t cu_stream_reader_size(const cu_stream_reader *r)
{
	return r->size;
}

uint64_t cu_stream_reader_offset(const cu_stream_reader *r)
{
	return r->off;
}

cu_result cu_stream_read(cu_stream_reader *r, unsigned char *buf, size_t *len, bool *done,
                         char *err, size_t errlen)
{
	unsigned char lenbuf[4], tag = 0, *ad = NULL;
	unsigned long long mlen = 0;
	size_t adlen = 0;
	uint32_t clen;
	int bad;

	if (!r || !buf || !len || !done)
		return CU_ERR_INVALID_ARGUMENT;
	*len = 0;
	*done = false;
	if (r->done) {
		*done = true;
		return CU_OK;
	}
	if (r->data_end - r->off < 4 + CU_STREAM_CHUNK_ABYTES) {
		errf(err, errlen, "backup is cut short: the stream ends without its final chunk");
		return CU_ERR_CRYPTO;
	}
	if (pread_all(r->fd, lenbuf, 4, r->off)) {
		errf(err, errlen, "cannot read the backup");
		return CU_ERR_IO;
	}
	clen = get32(lenbuf);
	if (clen < CU_STREAM_CHUNK_ABYTES || clen > CU_STREAM_CHUNK_MAX + CU_STREAM_CHUNK_ABYTES ||
	    clen > r->data_end - r->off - 4) {
		errf(err, errlen, "backup is damaged at byte %llu: a chunk length is wrong",
		     (unsigned long long)r->off);
		return CU_ERR_CRYPTO;
	}
	if (grow(&r->in, &r->in_cap, clen)) {
		errf(err, errlen, "out of memory reading the backup");
		return CU_ERR_NOMEM;
	}
	if (pread_all(r->fd, r->in, clen, r->off + 4)) {
		errf(err, errlen, "cannot read the backup");
		return CU_ERR_IO;
	}
	/* Only the final message carries associated data: try it when the stream ends here. */
	if (r->off + 4 + clen == r->data_end && clen == CU_STREAM_CHUNK_ABYTES) {
		adlen = sizeof(r->header) + r->manifest_len;
		ad = malloc(adlen);
		if (!ad)
			return CU_ERR_NOMEM;
		memcpy(ad, r->header, sizeof(r->header));
		memcpy(ad + sizeof(r->header), r->manifest, r->manifest_len);
	}
	bad = crypto_secretstream_xchacha20poly1305_pull(&r->st, buf, &mlen, &tag, r->in, clen, ad,
	                                                 adlen);
	free(ad);
	if (bad) {
		errf(err, errlen,
		     "backup is damaged or altered: the chunk at byte %llu does not authenticate",
		     (unsigned long long)r->off);
		return CU_ERR_CRYPTO;
	}
	r->off += 4 + clen;
	if (tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		if (r->off != r->data_end || mlen) {
			errf(err, errlen, "backup is damaged: bytes follow its final chunk");
			return CU_ERR_CRYPTO;
		}
		r->done = true;
		*done = true;
		return CU_OK;
	}
	if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE || !mlen) {
		errf(err, errlen, "backup is damaged: unexpected chunk at byte %llu",
		     (unsigned long long)(r->off - 4 - clen));
		return CU_ERR_CRYPTO;
	}
	*len = (size_t)mlen;
	return CU_OK;
}

void cu_stream_reader_free(cu_stream_reader *r)
{
	if (!r)
		return;
	free(r->manifest);
	free(r->in);
	sodium_free(r);
}
