/*
 * src/vault/vault.c — master keys, member data keys, sealed fields, blind indexes and
 * password hashes (libsodium).  The formats are defined in
 * src/vault/vault.h; docs/keys.md explains them to operators.
 */
#include "vault/vault.h"

#include "util/file_atomic.h"
#include "vault/keyring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define WHAT_BYTES      320 /* "master key file '<path>'", as messages name it (cut if longer) */
#define U32_DIGITS      10  /* decimal digits of a uint32_t */
#define ID_RANDOM_BYTES 16  /* the random bytes of an id: base64url of 16 is CU_ID_LEN */
_Static_assert(sodium_base64_ENCODED_LEN(ID_RANDOM_BYTES,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING) == CU_ID_LEN + 1,
               "an id is the base64url of ID_RANDOM_BYTES");

/* The public sizes are promises about libsodium's; keep them honest. */
_Static_assert(CU_VAULT_KEYBYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "data key size");
_Static_assert(CU_VAULT_KEYBYTES == crypto_kdf_KEYBYTES, "master key size");
_Static_assert(CU_VAULT_SEAL_OVERHEAD == 1 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                             crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "seal overhead");
_Static_assert(CU_VAULT_WRAPPEDBYTES == CU_VAULT_SEAL_OVERHEAD + CU_VAULT_KEYBYTES,
               "wrapped key size");
_Static_assert(CU_VAULT_BIDXBYTES == crypto_generichash_BYTES, "blind index size");
_Static_assert(CU_VAULT_NOTE_OVERHEAD == 1 + 4 + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES +
                                             crypto_aead_xchacha20poly1305_ietf_ABYTES,
               "sealed note overhead");
_Static_assert(CU_VAULT_SIGBYTES == crypto_sign_BYTES, "signature size");
_Static_assert(CU_VAULT_SIGN_PKBYTES == crypto_sign_PUBLICKEYBYTES, "signing key size");
_Static_assert(CU_VAULT_PWHASH_MAX >= crypto_pwhash_STRBYTES, "password hash size");
_Static_assert(CU_ID_LEN + 1 ==
                   sodium_base64_ENCODED_LEN(16, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "random id size");

#define VERSION      1
#define NONCEBYTES   crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define HEXKEYLEN    (2 * CU_VAULT_KEYBYTES)
#define KEY_ID_MAX   2147483647u
#define KEYFILE_MAX  (64 * 1024) /* a key file is a few lines; more is a mistake */
#define PASSWORD_MAX 1024
#define FIELD_MAX    40

/* Subkey ids and contexts (exactly crypto_kdf_CONTEXTBYTES = 8 bytes each). */
#define SUBKEY_WRAP 1
#define SUBKEY_BIDX 2
#define SUBKEY_NOTE 3
#define SUBKEY_SIGN 4
#define SUBKEY_MAC  5
static const char ctx_wrap[crypto_kdf_CONTEXTBYTES] = {'c', 'u', '-', 'w', 'r', 'a', 'p', '_'};
static const char ctx_bidx[crypto_kdf_CONTEXTBYTES] = {'c', 'u', '-', 'b', 'i', 'd', 'x', '_'};
static const char ctx_note[crypto_kdf_CONTEXTBYTES] = {'c', 'u', '-', 'n', 'o', 't', 'e', '_'};
static const char ctx_sign[crypto_kdf_CONTEXTBYTES] = {'c', 'u', '-', 's', 'i', 'g', 'n', '_'};
static const char ctx_mac[crypto_kdf_CONTEXTBYTES] = {'c', 'u', '-', 'm', 'a', 'c', '_', '_'};

static const char ad_wrap_prefix[] = "cu-wrap:";
static const char ad_wrap2_prefix[] = "cu-wrap2:";
#define VERSION_TREE CU_VAULT_WRAP_TREE
static const char ad_field_prefix[] = "cu-field:";
/* The longest associated data: "cu-field:" member ":" field (a key id is shorter). */
#define AD_MAX (sizeof(ad_field_prefix) - 1 + CU_ID_LEN + 1 + FIELD_MAX)

/*
 * Only the derived subkeys are kept: the master key itself is needed for
 * nothing after derivation, so it is wiped as soon as it has served.
 */
struct master {
	unsigned char wrap[CU_VAULT_KEYBYTES];
	unsigned char bidx[CU_VAULT_KEYBYTES];
	unsigned char note[CU_VAULT_KEYBYTES];             /* seals staff-written notes */
	unsigned char mac[CU_VAULT_KEYBYTES];              /* cu_vault_mac: form tokens */
	unsigned char sign_sk[crypto_sign_SECRETKEYBYTES]; /* signs receipts, certificates */
	unsigned char sign_pk[crypto_sign_PUBLICKEYBYTES];
	uint32_t id;
};

/*
 * The whole vault is one sodium_malloc'd block (guard pages, mlock'd) and is
 * made read-only once loaded: it is shared by every thread without locks, and
 * a stray write into key material faults instead of corrupting silently.
 */
struct cu_vault {
	size_t n;
	struct master keys[CU_VAULT_KEYS_MAX];
	struct cu_keyring
	    *ring; /* owned; NULL: data keys wrapped under the master key (format 1) */
};

__attribute__((format(printf, 3, 4))) static void errf(char *err, size_t errlen, const char *fmt,
                                                       ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

cu_result cu_vault_global_init(void)
{
	/* sodium_init is idempotent and thread-safe: 0 first time, 1 after. */
	return sodium_init() < 0 ? CU_ERR_CRYPTO : CU_OK;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Parses a decimal key id in [s, e); 0 if it is not one in 1..2^31-1. */
static uint32_t parse_id(const char *s, const char *e)
{
	uint32_t v = 0;

	if (s == e || e - s > 10)
		return 0;
	for (; s < e; s++) {
		if (*s < '0' || *s > '9')
			return 0;
		if (v > (KEY_ID_MAX - (uint32_t)(*s - '0')) / 10)
			return 0;
		v = v * 10 + (uint32_t)(*s - '0');
	}
	return v;
}

/*
 * Parses one "ID HEX64" line [s, e) (already trimmed, not blank or a comment)
 * and derives its subkeys into *k.  mk is scratch space for the master key.
 * Returns NULL or a reason, which never quotes the line: it may hold a key.
 */
static const char *parse_line(const char *s, const char *e, unsigned char *mk, struct master *k)
{
	const char *id_end = s, *hex, *hex_end, *stop = NULL;
	size_t binlen = 0;

	while (id_end < e && !is_blank(*id_end))
		id_end++;
	k->id = parse_id(s, id_end);
	if (!k->id)
		return "expected a key id from 1 to 2147483647";
	hex = id_end;
	while (hex < e && is_blank(*hex))
		hex++;
	hex_end = hex;
	while (hex_end < e && !is_blank(*hex_end))
		hex_end++;
	if (hex_end - hex != HEXKEYLEN ||
	    sodium_hex2bin(mk, CU_VAULT_KEYBYTES, hex, HEXKEYLEN, NULL, &binlen, &stop) ||
	    binlen != CU_VAULT_KEYBYTES || stop != hex_end)
		return "expected 64 hex digits";
	if (hex_end != e)
		return "unexpected text after the key";
	if (crypto_kdf_derive_from_key(k->wrap, sizeof(k->wrap), SUBKEY_WRAP, ctx_wrap, mk) ||
	    crypto_kdf_derive_from_key(k->bidx, sizeof(k->bidx), SUBKEY_BIDX, ctx_bidx, mk) ||
	    crypto_kdf_derive_from_key(k->note, sizeof(k->note), SUBKEY_NOTE, ctx_note, mk) ||
	    crypto_kdf_derive_from_key(k->mac, sizeof(k->mac), SUBKEY_MAC, ctx_mac, mk))
		return "key derivation failed";
	{
		/* The signing key pair grows from a derived seed: no second secret to keep. */
		unsigned char seed[crypto_sign_SEEDBYTES];
		int bad =
		    crypto_kdf_derive_from_key(seed, sizeof(seed), SUBKEY_SIGN, ctx_sign, mk) ||
		    crypto_sign_seed_keypair(k->sign_pk, k->sign_sk, seed);

		sodium_memzero(seed, sizeof(seed));
		if (bad)
			return "key derivation failed";
	}
	return NULL;
}

/* Parses key text; `what` names its source in messages ("master key", ...). */
static cu_result open_text(const char *text, const char *what, cu_vault **out, char *err,
                           size_t errlen)
{
	cu_vault *v = NULL;
	unsigned char *mk = NULL;
	const char *p = text, *why;
	size_t lineno = 0, i;
	cu_result rc;

	if (!out || !text) {
		errf(err, errlen, "%s: no key text", what);
		return CU_ERR_INVALID_ARGUMENT;
	}
	*out = NULL;
	rc = cu_vault_global_init();
	if (rc) {
		errf(err, errlen, "%s: libsodium could not be initialised", what);
		goto out;
	}
	v = sodium_malloc(sizeof(*v));
	mk = sodium_malloc(CU_VAULT_KEYBYTES);
	if (!v || !mk) {
		errf(err, errlen, "%s: cannot allocate locked memory", what);
		rc = CU_ERR_NOMEM;
		goto out;
	}
	memset(v, 0, sizeof(*v));
	rc = CU_ERR_CRYPTO;
	while (*p) {
		const char *s = p, *e = p;

		while (*e && *e != '\n')
			e++;
		p = *e ? e + 1 : e;
		lineno++;
		while (s < e && is_blank(*s))
			s++;
		while (e > s && is_blank(e[-1]))
			e--;
		if (s == e || *s == '#')
			continue;
		if (v->n == CU_VAULT_KEYS_MAX) {
			errf(err, errlen, "%s line %zu: more than %d keys", what, lineno,
			     CU_VAULT_KEYS_MAX);
			goto out;
		}
		why = parse_line(s, e, mk, &v->keys[v->n]);
		if (why) {
			errf(err, errlen, "%s line %zu: %s", what, lineno, why);
			goto out;
		}
		for (i = 0; i < v->n; i++) {
			if (v->keys[i].id == v->keys[v->n].id) {
				errf(err, errlen, "%s line %zu: duplicate key id %u", what, lineno,
				     (unsigned)v->keys[i].id);
				goto out;
			}
		}
		v->n++;
	}
	if (!v->n) {
		errf(err, errlen, "%s: no key found", what);
		goto out;
	}
	sodium_mprotect_readonly(v);
	*out = v;
	v = NULL;
	rc = CU_OK;
out:
	sodium_free(mk);
	sodium_free(v);
	return rc;
}

cu_result cu_vault_open_text(const char *text, cu_vault **out, char *err, size_t errlen)
{
	errf(err, errlen, "%s", "");
	return open_text(text, "master key", out, err, errlen);
}

cu_result cu_vault_open_file(const char *path, cu_vault **out, char *err, size_t errlen)
{
	const char *env = getenv("CUSTODIAN_MASTER_KEY");
	char what[WHAT_BYTES];
	char *buf = NULL;
	size_t len = 0;
	struct stat st;
	ssize_t r;
	int fd = -1;
	cu_result rc;

	errf(err, errlen, "%s", "");
	if (out)
		*out = NULL;
	if (env)
		return open_text(env, "CUSTODIAN_MASTER_KEY", out, err, errlen);
	if (!path || !out) {
		errf(err, errlen, "master key file: no path");
		return CU_ERR_INVALID_ARGUMENT;
	}
	snprintf(what, sizeof(what), "master key file '%s'", path);
	rc = cu_vault_global_init();
	if (rc) {
		errf(err, errlen, "%s: libsodium could not be initialised", what);
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 || fstat(fd, &st)) {
		errf(err, errlen, "cannot open %s: %s", what, strerror(errno));
		rc = CU_ERR_IO;
		goto out;
	}
	/* fstat on the open descriptor: what is checked is what is read. */
	if (!S_ISREG(st.st_mode)) {
		errf(err, errlen, "%s is not a regular file", what);
		rc = CU_ERR_IO;
		goto out;
	}
	if (st.st_mode & 077) {
		errf(err, errlen,
		     "%s has mode %04o: group and others must have no access "
		     "(chmod 600)",
		     what, (unsigned)(st.st_mode & 07777));
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	if (st.st_size > KEYFILE_MAX) {
		errf(err, errlen, "%s is larger than %d bytes", what, KEYFILE_MAX);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	/* The text holds keys: read it into locked memory that is wiped on free. */
	buf = sodium_malloc(KEYFILE_MAX + 2);
	if (!buf) {
		errf(err, errlen, "%s: cannot allocate locked memory", what);
		rc = CU_ERR_NOMEM;
		goto out;
	}
	/* Read up to one byte past the bound, in case the file grew after fstat. */
	while (len <= KEYFILE_MAX) {
		r = read(fd, buf + len, KEYFILE_MAX + 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			errf(err, errlen, "cannot read %s: %s", what, strerror(errno));
			rc = CU_ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (len > KEYFILE_MAX) {
		errf(err, errlen, "%s is larger than %d bytes", what, KEYFILE_MAX);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		errf(err, errlen, "%s contains a NUL byte", what);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	rc = open_text(buf, what, out, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	sodium_free(buf);
	return rc;
}

static int write_all(int fd, const char *p, size_t len)
{
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

/*
 * Best effort: makes the new directory entry durable too.  Losing the key
 * file loses every member, but some file systems refuse fsync on a
 * directory, and the file's own fsync has already succeeded.
 */
static void sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t n;
	int fd;

	if (!slash) {
		dir[0] = '.';
		n = 1;
	} else {
		n = slash == path ? 1 : (size_t)(slash - path);
		if (n >= sizeof(dir))
			return;
		memcpy(dir, path, n);
	}
	dir[n] = '\0';
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	(void)fsync(fd);
	close(fd);
}

static const char keyfile_header[] =
    "# custodian master keys: one \"ID HEX64\" per line; the last line is the current key.\n"
    "# Keep this file secret (mode 0600) and backed up apart from the data: without it\n"
    "# nothing can be opened.  To rotate, append a line with a new, higher id; keep the\n"
    "# old lines until nothing is wrapped under them.  See docs/keys.md.\n";

cu_result cu_vault_create_file(const char *path)
{
	/* Key bytes, the line "1 HEX64\n" and a NUL, in locked memory. */
	enum { LINE = 2 + HEXKEYLEN + 1 };
	unsigned char *mem = NULL;
	char *line;
	int fd = -1, saved;
	int created = 0;
	cu_result rc = CU_ERR_IO;

	if (!path || !*path)
		return CU_ERR_INVALID_ARGUMENT;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	mem = sodium_malloc(CU_VAULT_KEYBYTES + LINE + 1);
	if (!mem)
		return CU_ERR_NOMEM;
	line = (char *)mem + CU_VAULT_KEYBYTES;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		rc = errno == EEXIST ? CU_ERR_EXISTS : CU_ERR_IO;
		goto out;
	}
	created = 1;
	/* The umask may have taken bits away; 0600 exactly is what open_file wants. */
	if (fchmod(fd, 0600))
		goto out;
	randombytes_buf(mem, CU_VAULT_KEYBYTES);
	line[0] = '1';
	line[1] = ' ';
	sodium_bin2hex(line + 2, HEXKEYLEN + 1, mem, CU_VAULT_KEYBYTES);
	line[2 + HEXKEYLEN] = '\n';
	line[LINE] = '\0';
	if (write_all(fd, keyfile_header, sizeof(keyfile_header) - 1) ||
	    write_all(fd, line, LINE) || fsync(fd))
		goto out;
	saved = close(fd);
	fd = -1;
	if (saved)
		goto out;
	sync_parent(path);
	rc = CU_OK;
out:
	/* Keep errno from the failing call so a caller can say why. */
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc && created)
		unlink(path);
	sodium_free(mem);
	errno = saved;
	return rc;
}

void cu_vault_free(cu_vault *v)
{
	if (v)
		cu_keyring_free(v->ring);
	/* sodium_free makes the block writable again, wipes it and unmaps it. */
	sodium_free(v);
}

uint32_t cu_vault_current_key_id(const cu_vault *v)
{
	return v && v->n ? v->keys[v->n - 1].id : 0;
}

size_t cu_vault_key_count(const cu_vault *v)
{
	return v ? v->n : 0;
}

uint32_t cu_vault_key_id_at(const cu_vault *v, size_t i)
{
	return v && i < v->n ? v->keys[i].id : 0;
}

static const struct master *find_key(const cu_vault *v, uint32_t id)
{
	size_t i;

	for (i = 0; v && i < v->n; i++)
		if (v->keys[i].id == id)
			return &v->keys[i];
	return NULL;
}

/*
 * Nonces and ids come from a per-thread pool refilled 4 KiB at a time:
 * Debian's libsodium asks the kernel (getrandom) on every call, and that
 * syscall was about 40% of the crypto time of a bulk import.  Nonces and
 * ids are public, so drawing them ahead of use costs no secrecy; data keys
 * still come straight from randombytes_buf.  A forked child must never reuse
 * its parent's pool (same nonce under the same key): pthread_atfork empties
 * it in the child, and without that handler the pool is not used at all.
 */
#define POOL_BYTES 4096
static _Thread_local struct {
	unsigned char b[POOL_BYTES];
	size_t left;
} pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static int pool_fork_safe;

static void pool_forget(void)
{
	sodium_memzero(&pool, sizeof(pool));
}

static void pool_init(void)
{
	pool_fork_safe = pthread_atfork(NULL, NULL, pool_forget) == 0;
}

static void public_random(unsigned char *out, size_t n)
{
	(void)pthread_once(&pool_once, pool_init);
	if (!pool_fork_safe || n > POOL_BYTES) {
		randombytes_buf(out, n);
		return;
	}
	if (n > pool.left) {
		randombytes_buf(pool.b, sizeof(pool.b));
		pool.left = sizeof(pool.b);
	}
	memcpy(out, pool.b + sizeof(pool.b) - pool.left, n);
	pool.left -= n;
}

void cu_vault_data_key_new(cu_data_key *dk)
{
	randombytes_buf(dk->k, sizeof(dk->k));
}

void cu_vault_data_key_wipe(cu_data_key *dk)
{
	if (dk)
		sodium_memzero(dk->k, sizeof(dk->k));
}

/*
 * Writes prefix and member_id into ad; returns the length, or 0 if the id is
 * empty, too long or holds ':' (which would make "member:field" ambiguous).
 */
static size_t ad_member(unsigned char *ad, const char *prefix, size_t prefixlen,
                        const char *member_id)
{
	size_t n;

	if (!member_id)
		return 0;
	n = strnlen(member_id, CU_ID_LEN + 1);
	if (!n || n > CU_ID_LEN || memchr(member_id, ':', n))
		return 0;
	memcpy(ad, prefix, prefixlen);
	memcpy(ad + prefixlen, member_id, n);
	ad[prefixlen + n] = ':';
	return prefixlen + n + 1;
}

/* "cu-wrap:" (format 1) or "cu-wrap2:" (format 2) member_id ":" decimal key id */
static size_t wrap_ad(unsigned char ad[AD_MAX], const char *member_id, uint32_t key_id, int version)
{
	char digits[U32_DIGITS];
	size_t n = version == VERSION_TREE
	               ? ad_member(ad, ad_wrap2_prefix, sizeof(ad_wrap2_prefix) - 1, member_id)
	               : ad_member(ad, ad_wrap_prefix, sizeof(ad_wrap_prefix) - 1, member_id);
	size_t d = 0;

	if (!n)
		return 0;
	do {
		digits[d++] = (char)('0' + key_id % 10);
		key_id /= 10;
	} while (key_id);
	while (d)
		ad[n++] = (unsigned char)digits[--d];
	return n;
}

/* "cu-field:" member_id ":" field */
static size_t field_ad(unsigned char ad[AD_MAX], const char *member_id, const char *field)
{
	size_t n = ad_member(ad, ad_field_prefix, sizeof(ad_field_prefix) - 1, member_id);
	size_t f;

	if (!n || !field)
		return 0;
	f = strnlen(field, FIELD_MAX + 1);
	if (!f || f > FIELD_MAX)
		return 0;
	memcpy(ad + n, field, f);
	return n + f;
}

/* version | nonce | ciphertext | tag, with a fresh random nonce. */
static void seal_with(const unsigned char *key, const unsigned char *ad, size_t adlen,
                      const unsigned char *pt, size_t len, unsigned char *out)
{
	out[0] = VERSION;
	public_random(out + 1, NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + 1 + NONCEBYTES, NULL, pt, len, ad, adlen,
	                                           NULL, out + 1, key);
}

/* Opens into out (sealed_len - overhead bytes); -1 unless it authenticates. */
static int open_version(const unsigned char *key, int version, const unsigned char *ad,
                        size_t adlen, const unsigned char *sealed, size_t sealed_len,
                        unsigned char *out)
{
	if (sealed_len < CU_VAULT_SEAL_OVERHEAD || sealed[0] != version)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, sealed + 1 + NONCEBYTES,
	                                                  sealed_len - 1 - NONCEBYTES, ad, adlen,
	                                                  sealed + 1, key);
}

static int open_with(const unsigned char *key, const unsigned char *ad, size_t adlen,
                     const unsigned char *sealed, size_t sealed_len, unsigned char *out)
{
	return open_version(key, VERSION, ad, adlen, sealed, sealed_len, out);
}

cu_result cu_vault_attach_keyring(cu_vault *v, struct cu_keyring *ring)
{
	if (!v || !ring || v->ring)
		return CU_ERR_INVALID_ARGUMENT;
	if (sodium_mprotect_readwrite(v))
		return CU_ERR_CRYPTO;
	v->ring = ring;
	sodium_mprotect_readonly(v);
	return CU_OK;
}

struct cu_keyring *cu_vault_keyring(const cu_vault *v)
{
	return v ? v->ring : NULL;
}

cu_result cu_vault_wrap(const cu_vault *v, const char *member_id, const cu_data_key *dk,
                        unsigned char out[CU_VAULT_WRAPPEDBYTES], uint32_t *key_id)
{
	unsigned char ad[AD_MAX], kek[CU_VAULT_KEYBYTES];
	const struct master *k;
	uint32_t tree;
	size_t adlen;
	cu_result rc;

	if (!v || !v->n || !dk || !out || !key_id)
		return CU_ERR_INVALID_ARGUMENT;
	if (v->ring) {
		tree = cu_keyring_current_tree(v->ring);
		adlen = wrap_ad(ad, member_id, tree, VERSION_TREE);
		if (!adlen)
			return CU_ERR_INVALID_ARGUMENT;
		/*
		 * A punctured leaf here would mean a new member's path meets an
		 * erased one's (a chance of 2^-64 per erasure): refused, not wrapped.
		 */
		rc = cu_keyring_member_kek(v->ring, tree, member_id, kek);
		if (rc)
			return CU_ERR_CRYPTO;
		seal_with(kek, ad, adlen, dk->k, sizeof(dk->k), out);
		/* The format byte is bound too: the associated data differs by format. */
		out[0] = VERSION_TREE;
		sodium_memzero(kek, sizeof(kek));
		*key_id = tree;
		return CU_OK;
	}
	k = &v->keys[v->n - 1];
	adlen = wrap_ad(ad, member_id, k->id, VERSION);
	if (!adlen)
		return CU_ERR_INVALID_ARGUMENT;
	seal_with(k->wrap, ad, adlen, dk->k, sizeof(dk->k), out);
	*key_id = k->id;
	return CU_OK;
}

cu_result cu_vault_unwrap(const cu_vault *v, const char *member_id, uint32_t key_id,
                          const unsigned char wrapped[CU_VAULT_WRAPPEDBYTES], cu_data_key *dk)
{
	unsigned char ad[AD_MAX], kek[CU_VAULT_KEYBYTES];
	const struct master *k;
	size_t adlen;
	int version;
	int bad;

	if (!v || !wrapped || !dk)
		return CU_ERR_INVALID_ARGUMENT;
	version = wrapped[0];
	adlen = wrap_ad(ad, member_id, key_id, version);
	if (!adlen)
		return CU_ERR_INVALID_ARGUMENT;
	if (version == VERSION_TREE) {
		if (!v->ring || cu_keyring_member_kek(v->ring, key_id, member_id, kek)) {
			sodium_memzero(dk->k, sizeof(dk->k));
			return CU_ERR_CRYPTO;
		}
		bad = open_version(kek, VERSION_TREE, ad, adlen, wrapped, CU_VAULT_WRAPPEDBYTES,
		                   dk->k);
		sodium_memzero(kek, sizeof(kek));
	} else {
		k = find_key(v, key_id);
		bad = !k || open_with(k->wrap, ad, adlen, wrapped, CU_VAULT_WRAPPEDBYTES, dk->k);
	}
	if (bad) {
		sodium_memzero(dk->k, sizeof(dk->k));
		return CU_ERR_CRYPTO;
	}
	return CU_OK;
}

cu_result cu_vault_seal(const cu_data_key *dk, const char *member_id, const char *field,
                        const unsigned char *pt, size_t len, unsigned char *out)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	if (!dk || !out || (!pt && len) ||
	    len > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX - CU_VAULT_SEAL_OVERHEAD)
		return CU_ERR_INVALID_ARGUMENT;
	adlen = field_ad(ad, member_id, field);
	if (!adlen)
		return CU_ERR_INVALID_ARGUMENT;
	seal_with(dk->k, ad, adlen, pt, len, out);
	return CU_OK;
}

cu_result cu_vault_open(const cu_data_key *dk, const char *member_id, const char *field,
                        const unsigned char *sealed, size_t sealed_len, unsigned char *out,
                        size_t *outlen)
{
	unsigned char ad[AD_MAX];
	size_t adlen;

	if (outlen)
		*outlen = 0;
	if (!dk || !out || !outlen || (!sealed && sealed_len))
		return CU_ERR_INVALID_ARGUMENT;
	adlen = field_ad(ad, member_id, field);
	if (!adlen)
		return CU_ERR_INVALID_ARGUMENT;
	if (open_with(dk->k, ad, adlen, sealed, sealed_len, out)) {
		/* libsodium wiped what it wrote; leave an empty string behind. */
		out[0] = '\0';
		return CU_ERR_CRYPTO;
	}
	*outlen = sealed_len - CU_VAULT_SEAL_OVERHEAD;
	out[*outlen] = '\0';
	return CU_OK;
}

cu_result cu_vault_blind_index(const cu_vault *v, uint32_t key_id, const char *kind,
                               const char *normalised, unsigned char out[CU_VAULT_BIDXBYTES])
{
	const struct master *k = find_key(v, key_id);
	crypto_generichash_state st;

	if (!v || !kind || !*kind || !normalised || !*normalised || !out)
		return CU_ERR_INVALID_ARGUMENT;
	if (!k)
		return CU_ERR_CRYPTO;
	/* kind "\0" value: the NUL keeps ("ab","c") apart from ("a","bc"). */
	if (crypto_generichash_init(&st, k->bidx, sizeof(k->bidx), CU_VAULT_BIDXBYTES) ||
	    crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1) ||
	    crypto_generichash_update(&st, (const unsigned char *)normalised, strlen(normalised)) ||
	    crypto_generichash_final(&st, out, CU_VAULT_BIDXBYTES)) {
		sodium_memzero(&st, sizeof(st));
		return CU_ERR_CRYPTO;
	}
	/* The state holds the keyed BLAKE2b block, i.e. the subkey. */
	sodium_memzero(&st, sizeof(st));
	return CU_OK;
}

cu_result cu_vault_password_hash(const char *password, unsigned long long opslimit, size_t memlimit,
                                 char out[CU_VAULT_PWHASH_MAX])
{
	size_t len;

	if (!password || !out || opslimit < crypto_pwhash_OPSLIMIT_MIN ||
	    opslimit > crypto_pwhash_OPSLIMIT_MAX || memlimit < crypto_pwhash_MEMLIMIT_MIN ||
	    memlimit > crypto_pwhash_MEMLIMIT_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	len = strnlen(password, PASSWORD_MAX + 1);
	if (len > PASSWORD_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	if (crypto_pwhash_str_alg(out, password, len, opslimit, memlimit,
	                          crypto_pwhash_ALG_ARGON2ID13))
		return errno == ENOMEM ? CU_ERR_NOMEM : CU_ERR_CRYPTO;
	return CU_OK;
}

cu_result cu_vault_password_verify(const char *hash, const char *password)
{
	size_t len;

	if (!hash || !password)
		return CU_ERR_INVALID_ARGUMENT;
	len = strnlen(password, PASSWORD_MAX + 1);
	if (len > PASSWORD_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	/* libsodium reads up to crypto_pwhash_STRBYTES; a longer string is not ours. */
	if (strnlen(hash, CU_VAULT_PWHASH_MAX) == CU_VAULT_PWHASH_MAX)
		return CU_ERR_UNAUTHENTICATED;
	if (cu_vault_global_init())
		return CU_ERR_CRYPTO;
	return crypto_pwhash_str_verify(hash, password, len) ? CU_ERR_UNAUTHENTICATED : CU_OK;
}

void cu_vault_random_id(char out[CU_ID_LEN + 1])
{
	unsigned char b[ID_RANDOM_BYTES];

	public_random(b, sizeof(b));
	sodium_bin2base64(out, CU_ID_LEN + 1, b, sizeof(b),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* 16 bytes are 128 bits: 21 characters of six, the 22nd of two and four zero bits. */
_Static_assert(CU_ID_LEN == (16 * 8 + 5) / 6, "an id is 16 bytes in base64url");

bool cu_vault_id_well_formed(const char *s)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                               "0123456789-_";

	if (!s || strnlen(s, CU_ID_LEN + 1) != CU_ID_LEN)
		return false;
	if (strspn(s, alphabet) != CU_ID_LEN)
		return false;
	return strchr("AQgw", s[CU_ID_LEN - 1]) != NULL;
}

/* ---- notes and signatures ---------------------------------------------- */

static const char ad_note_prefix[] = "cu-note:";

cu_result cu_vault_seal_note(const cu_vault *v, const char *context, const unsigned char *pt,
                             size_t len, unsigned char *out)
{
	const struct master *k = v && v->n ? &v->keys[v->n - 1] : NULL;
	unsigned char ad[sizeof(ad_note_prefix) + 64];
	size_t clen = strlen(context ? context : "");
	unsigned long long ctlen;

	if (!k || !context || clen == 0 || clen > 64 || (!pt && len) || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memcpy(ad, ad_note_prefix, sizeof(ad_note_prefix) - 1);
	memcpy(ad + sizeof(ad_note_prefix) - 1, context, clen);
	out[0] = VERSION;
	out[1] = (unsigned char)(k->id >> 24);
	out[2] = (unsigned char)(k->id >> 16);
	out[3] = (unsigned char)(k->id >> 8);
	out[4] = (unsigned char)k->id;
	randombytes_buf(out + 5, NONCEBYTES);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(out + 5 + NONCEBYTES, &ctlen, pt, len, ad,
	                                               sizeof(ad_note_prefix) - 1 + clen, NULL,
	                                               out + 5, k->note))
		return CU_ERR_CRYPTO;
	return CU_OK;
}

cu_result cu_vault_open_note(const cu_vault *v, const char *context, const unsigned char *sealed,
                             size_t sealed_len, unsigned char *out, size_t *outlen)
{
	unsigned char ad[sizeof(ad_note_prefix) + 64];
	size_t clen = strlen(context ? context : "");
	const struct master *k;
	unsigned long long ptlen;
	uint32_t id;

	if (!v || !context || clen == 0 || clen > 64 || !sealed || !out || !outlen)
		return CU_ERR_INVALID_ARGUMENT;
	if (sealed_len < CU_VAULT_NOTE_OVERHEAD || sealed[0] != VERSION)
		return CU_ERR_CRYPTO;
	id = (uint32_t)sealed[1] << 24 | (uint32_t)sealed[2] << 16 | (uint32_t)sealed[3] << 8 |
	     sealed[4];
	k = find_key(v, id);
	if (!k)
		return CU_ERR_CRYPTO;
	memcpy(ad, ad_note_prefix, sizeof(ad_note_prefix) - 1);
	memcpy(ad + sizeof(ad_note_prefix) - 1, context, clen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
	        out, &ptlen, NULL, sealed + 5 + NONCEBYTES, sealed_len - 5 - NONCEBYTES, ad,
	        sizeof(ad_note_prefix) - 1 + clen, sealed + 5, k->note))
		return CU_ERR_CRYPTO;
	out[ptlen] = '\0';
	*outlen = (size_t)ptlen;
	return CU_OK;
}

cu_result cu_vault_sign(const cu_vault *v, const unsigned char *msg, size_t len,
                        unsigned char sig[CU_VAULT_SIGBYTES], uint32_t *key_id)
{
	const struct master *k = v && v->n ? &v->keys[v->n - 1] : NULL;

	if (!k || (!msg && len) || !sig)
		return CU_ERR_INVALID_ARGUMENT;
	if (crypto_sign_detached(sig, NULL, msg, len, k->sign_sk))
		return CU_ERR_CRYPTO;
	if (key_id)
		*key_id = k->id;
	return CU_OK;
}

cu_result cu_vault_sign_public_key(const cu_vault *v, uint32_t key_id,
                                   unsigned char pk[CU_VAULT_SIGN_PKBYTES])
{
	const struct master *k = find_key(v, key_id);

	if (!pk)
		return CU_ERR_INVALID_ARGUMENT;
	if (!k)
		return CU_ERR_NOT_FOUND;
	memcpy(pk, k->sign_pk, CU_VAULT_SIGN_PKBYTES);
	return CU_OK;
}

cu_result cu_vault_verify_signature(const unsigned char pk[CU_VAULT_SIGN_PKBYTES],
                                    const unsigned char *msg, size_t len,
                                    const unsigned char sig[CU_VAULT_SIGBYTES])
{
	if (!pk || (!msg && len) || !sig)
		return CU_ERR_INVALID_ARGUMENT;
	return crypto_sign_verify_detached(sig, msg, len, pk) == 0 ? CU_OK : CU_ERR_CRYPTO;
}

/* ---- rotation -------------------------------------------------------------- */

cu_result cu_vault_file_add_key(const char *path, uint32_t min_id, uint32_t *id, char *err,
                                size_t errlen)
{
	enum { LINE = U32_DIGITS + 1 + HEXKEYLEN + 1 };
	cu_vault *v = NULL;
	char *text = NULL, *line;
	unsigned char *key;
	uint32_t next = min_id ? min_id : 1;
	size_t len;
	cu_result rc;

	errf(err, errlen, "%s", "");
	if (!path || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (getenv("CUSTODIAN_MASTER_KEY")) {
		errf(err, errlen,
		     "the master keys come from $CUSTODIAN_MASTER_KEY: add the new key there "
		     "(docs/keys.md)");
		return CU_ERR_INVALID_ARGUMENT;
	}
	/* Checks the file as an open would: mode, size, every line. */
	rc = cu_vault_open_file(path, &v, err, errlen);
	if (rc)
		return rc;
	/* One more line would make a file that no process can open. */
	if (v->n == CU_VAULT_KEYS_MAX) {
		cu_vault_free(v);
		errf(err, errlen,
		     "master key file '%s' holds %d keys already: remove one nothing is wrapped "
		     "under first (docs/keys.md)",
		     path, CU_VAULT_KEYS_MAX);
		return CU_ERR_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < v->n; i++)
		if (v->keys[i].id >= next)
			next = v->keys[i].id + 1;
	cu_vault_free(v);
	if (next > KEY_ID_MAX) {
		errf(err, errlen, "no key id left above %u", (unsigned)(next - 1));
		return CU_ERR_INVALID_ARGUMENT;
	}
	text = sodium_malloc(KEYFILE_MAX + LINE + 2);
	key = sodium_malloc(CU_VAULT_KEYBYTES);
	if (!text || !key) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	{
		FILE *f = fopen(path, "r");

		len = f ? fread(text, 1, KEYFILE_MAX, f) : 0;
		if (!f || ferror(f)) {
			if (f)
				fclose(f);
			errf(err, errlen, "cannot read master key file '%s'", path);
			rc = CU_ERR_IO;
			goto out;
		}
		fclose(f);
	}
	if (len && text[len - 1] != '\n')
		text[len++] = '\n';
	line = text + len;
	randombytes_buf(key, CU_VAULT_KEYBYTES);
	len += (size_t)snprintf(line, U32_DIGITS + 2, "%u ", (unsigned)next);
	sodium_bin2hex(text + len, HEXKEYLEN + 1, key, CU_VAULT_KEYBYTES);
	len += HEXKEYLEN;
	text[len++] = '\n';
	rc = cu_file_write_atomic(path, text, len);
	if (rc) {
		errf(err, errlen, "cannot write master key file '%s'", path);
		goto out;
	}
	*id = next;
out:
	sodium_free(text);
	sodium_free(key);
	return rc;
}

cu_result cu_vault_mac(const cu_vault *v, const char *label, const void *data, size_t len,
                       unsigned char mac[CU_VAULT_MACBYTES])
{
	const struct master *k = v && v->n ? &v->keys[v->n - 1] : NULL;
	crypto_generichash_state st;

	if (!k || !label || (!data && len) || !mac)
		return CU_ERR_INVALID_ARGUMENT;
	/* The label's NUL ends it: "a" + "bc" and "ab" + "c" do not meet. */
	if (crypto_generichash_init(&st, k->mac, sizeof(k->mac), CU_VAULT_MACBYTES) ||
	    crypto_generichash_update(&st, (const unsigned char *)label, strlen(label) + 1) ||
	    crypto_generichash_update(&st, data, len) ||
	    crypto_generichash_final(&st, mac, CU_VAULT_MACBYTES)) {
		sodium_memzero(&st, sizeof(st));
		return CU_ERR_CRYPTO;
	}
	return CU_OK;
}
