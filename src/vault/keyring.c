/*
 * src/vault/keyring.c — the puncturable member key tree (keyring.h).
 */
#include "vault/keyring.h"
#include "util/file_atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#define MAGIC        "CUKR"
#define MAGIC_LEN    4
#define FILE_VERSION 1
#define HEADER_BYTES (MAGIC_LEN + 1)
#define NOTE_CONTEXT "keyring"
#define NODE_BYTES   (1 + 8 + CU_VAULT_KEYBYTES)
#define TREE_BYTES   (4 + CU_VAULT_KEYBYTES + 4)
#define TOP_BYTES    16
/* A keyring past this is a mistake: 2^20 punctures at 64 nodes each fit. */
#define KEYRING_FILE_MAX ((size_t)256 * 1024 * 1024)
#define ID_MAX           2147483647u

struct node {
	uint64_t prefix;
	uint8_t depth;
	unsigned char key[CU_VAULT_KEYBYTES];
};

struct tree {
	uint32_t id;
	unsigned char path_key[CU_VAULT_KEYBYTES]; /* in the sodium_malloc'd keyring */
	size_t n, cap;
	struct node *nodes; /* sodium_malloc'd, sorted by prefix, disjoint */
};

/* What one file holds; swapped in whole under the write lock. */
struct state {
	uint32_t generation, current, next_id, sealed_under;
	size_t ntrees;
	struct tree trees[CU_KEYRING_TREES_MAX];
};

/*
 * Leaves derived lately, so a member read often costs one lookup instead of
 * 64 generator calls.  A leaf is no more secret than the nodes it derives
 * from, which sit in the same memory; the cache is wiped whenever the state
 * changes (a puncture above all), under the write lock, and filled only
 * under the read lock, so it never holds a leaf the state no longer has.
 */
#define CACHE_SLOTS   16384
#define CACHE_STRIPES 64
struct slot {
	uint32_t tree; /* 0: empty */
	char id[CU_ID_LEN + 1];
	unsigned char key[CU_VAULT_KEYBYTES];
};

struct cu_keyring {
	pthread_rwlock_t lock;
	const cu_vault *v;
	char path[PATH_MAX], lock_path[PATH_MAX];
	struct stat seen;   /* the file as last read or written */
	struct state *st;   /* sodium_malloc'd */
	struct slot *cache; /* sodium_malloc'd, CACHE_SLOTS */
	pthread_mutex_t stripes[CACHE_STRIPES];
	_Atomic int64_t checked_ms; /* when a read last looked whether the file changed */
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

/* ---- the tree ---------------------------------------------------------- */

/*
 * The tree's generator (GGM): a node's child `bit` is HChaCha20 keyed with
 * the node over a 16-byte input naming the child — a PRF call per level.
 */
static void child(const unsigned char parent[CU_VAULT_KEYBYTES], unsigned bit,
                  unsigned char out[CU_VAULT_KEYBYTES])
{
	unsigned char in[crypto_core_hchacha20_INPUTBYTES] = {'c', 'u', '-', 'g', 'g', 'm'};

	in[sizeof(in) - 1] = (unsigned char)bit;
	crypto_core_hchacha20(out, in, parent, NULL);
}

static uint64_t path_of(const struct tree *t, const char *member_id)
{
	unsigned char h[8];
	uint64_t p = 0;

	crypto_generichash(h, sizeof(h), (const unsigned char *)member_id, strlen(member_id),
	                   t->path_key, sizeof(t->path_key));
	for (size_t i = 0; i < sizeof(h); i++)
		p = p << 8 | h[i];
	return p;
}

static uint64_t top_bits(uint64_t p, unsigned depth)
{
	return depth == 0 ? 0 : p & (~(uint64_t)0 << (CU_KEYRING_DEPTH - depth));
}

static bool covers(const struct node *nd, uint64_t p)
{
	return top_bits(p, nd->depth) == nd->prefix;
}

/* The index of the node covering p, or -1. */
static long find_cover(const struct tree *t, uint64_t p)
{
	size_t lo = 0, hi = t->n;

	/* The last node whose prefix is <= p. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->nodes[mid].prefix <= p)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !covers(&t->nodes[lo - 1], p))
		return -1;
	return (long)(lo - 1);
}

static void leaf_key(const struct node *nd, uint64_t p, unsigned char out[CU_VAULT_KEYBYTES])
{
	unsigned char k[CU_VAULT_KEYBYTES];

	memcpy(k, nd->key, sizeof(k));
	for (unsigned d = nd->depth; d < CU_KEYRING_DEPTH; d++)
		child(k, (unsigned)(p >> (CU_KEYRING_DEPTH - 1 - d)) & 1u, k);
	memcpy(out, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
}

static int tree_reserve(struct tree *t, size_t n)
{
	struct node *grown;
	size_t cap = t->cap ? t->cap : 16;

	if (n <= t->cap)
		return 0;
	while (cap < n)
		cap *= 2;
	grown = sodium_malloc(cap * sizeof(*grown));
	if (!grown)
		return -1;
	if (t->n)
		memcpy(grown, t->nodes, t->n * sizeof(*grown));
	sodium_free(t->nodes);
	t->nodes = grown;
	t->cap = cap;
	return 0;
}

static int node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return x->prefix < y->prefix ? -1 : x->prefix > y->prefix;
}

/*
 * Punctures p: the covering node is replaced, in place, by the siblings of
 * p's path below it (which lie inside its interval, so the order holds).
 * 1 if punctured now, 0 if it already was, -1 without memory.
 */
static int tree_puncture(struct tree *t, uint64_t p)
{
	long at = find_cover(t, p);
	unsigned char k[CU_VAULT_KEYBYTES];
	struct node *sibs;
	unsigned d0;
	size_t added, i;

	if (at < 0)
		return 0;
	d0 = t->nodes[at].depth;
	added = CU_KEYRING_DEPTH - d0;
	sibs = sodium_malloc(CU_KEYRING_DEPTH * sizeof(*sibs));
	if (!sibs || tree_reserve(t, t->n - 1 + added)) {
		sodium_free(sibs);
		return -1;
	}
	memcpy(k, t->nodes[at].key, sizeof(k));
	for (unsigned d = d0; d < CU_KEYRING_DEPTH; d++) {
		unsigned bit = (unsigned)(p >> (CU_KEYRING_DEPTH - 1 - d)) & 1u;
		struct node *sib = &sibs[d - d0];

		sib->depth = (uint8_t)(d + 1);
		sib->prefix = top_bits(p, d) | ((uint64_t)(bit ^ 1u) << (CU_KEYRING_DEPTH - 1 - d));
		child(k, bit ^ 1u, sib->key);
		child(k, bit, k);
	}
	sodium_memzero(k, sizeof(k));
	qsort(sibs, added, sizeof(*sibs), node_cmp);
	/* Open a gap of added - 1 after the covering node, then overwrite it and the gap. */
	memmove(&t->nodes[at + (long)added], &t->nodes[at + 1],
	        (t->n - (size_t)at - 1) * sizeof(*t->nodes));
	for (i = 0; i < added; i++)
		t->nodes[(size_t)at + i] = sibs[i];
	t->n += added - 1;
	sodium_free(sibs); /* wipes */
	return 1;
}

static int tree_new(struct tree *t, uint32_t id)
{
	memset(t, 0, sizeof(*t));
	t->id = id;
	if (tree_reserve(t, 1))
		return -1;
	randombytes_buf(t->path_key, sizeof(t->path_key));
	t->nodes[0].depth = 0;
	t->nodes[0].prefix = 0;
	randombytes_buf(t->nodes[0].key, sizeof(t->nodes[0].key));
	t->n = 1;
	return 0;
}

static void tree_free(struct tree *t)
{
	sodium_free(t->nodes);
	sodium_memzero(t, sizeof(*t));
}

static struct state *state_new(void)
{
	struct state *s = sodium_malloc(sizeof(*s));

	if (s)
		memset(s, 0, sizeof(*s));
	return s;
}

static void state_free(struct state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ntrees; i++)
		tree_free(&s->trees[i]);
	sodium_free(s);
}

static struct tree *state_tree(struct state *s, uint32_t id)
{
	for (size_t i = 0; i < s->ntrees; i++)
		if (s->trees[i].id == id)
			return &s->trees[i];
	return NULL;
}

/* ---- the file ------------------------------------------------------------ */

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

static size_t plain_size(const struct state *s)
{
	size_t n = TOP_BYTES;

	for (size_t i = 0; i < s->ntrees; i++)
		n += TREE_BYTES + s->trees[i].n * NODE_BYTES;
	return n;
}

static void encode(const struct state *s, unsigned char *p)
{
	put32(p, s->generation);
	put32(p + 4, s->current);
	put32(p + 8, s->next_id);
	put32(p + 12, (uint32_t)s->ntrees);
	p += TOP_BYTES;
	for (size_t i = 0; i < s->ntrees; i++) {
		const struct tree *t = &s->trees[i];

		put32(p, t->id);
		memcpy(p + 4, t->path_key, CU_VAULT_KEYBYTES);
		put32(p + 4 + CU_VAULT_KEYBYTES, (uint32_t)t->n);
		p += TREE_BYTES;
		for (size_t j = 0; j < t->n; j++) {
			p[0] = t->nodes[j].depth;
			for (int b = 0; b < 8; b++)
				p[1 + b] = (unsigned char)(t->nodes[j].prefix >> (56 - 8 * b));
			memcpy(p + 9, t->nodes[j].key, CU_VAULT_KEYBYTES);
			p += NODE_BYTES;
		}
	}
}

/* Parses and checks the plaintext; NULL or a reason. */
static const char *decode(const unsigned char *p, size_t len, struct state *s)
{
	const unsigned char *end = p + len;
	size_t ntrees;

	if (len < TOP_BYTES)
		return "too short";
	s->generation = get32(p);
	s->current = get32(p + 4);
	s->next_id = get32(p + 8);
	ntrees = get32(p + 12);
	p += TOP_BYTES;
	if (ntrees == 0 || ntrees > CU_KEYRING_TREES_MAX)
		return "bad number of trees";
	for (size_t i = 0; i < ntrees; i++) {
		struct tree *t = &s->trees[i];
		size_t n;

		if ((size_t)(end - p) < TREE_BYTES)
			return "truncated tree";
		memset(t, 0, sizeof(*t));
		t->id = get32(p);
		memcpy(t->path_key, p + 4, CU_VAULT_KEYBYTES);
		n = get32(p + 4 + CU_VAULT_KEYBYTES);
		p += TREE_BYTES;
		s->ntrees = i + 1;
		if (t->id == 0 || t->id > ID_MAX || (i && state_tree(s, t->id) != t))
			return "bad tree id";
		if (n > (size_t)(end - p) / NODE_BYTES)
			return "truncated nodes";
		if (n && tree_reserve(t, n))
			return "out of memory";
		for (size_t j = 0; j < n; j++) {
			struct node *nd = &t->nodes[j];

			nd->depth = p[0];
			nd->prefix = 0;
			for (int b = 0; b < 8; b++)
				nd->prefix = nd->prefix << 8 | p[1 + b];
			memcpy(nd->key, p + 9, CU_VAULT_KEYBYTES);
			p += NODE_BYTES;
			if (nd->depth > CU_KEYRING_DEPTH ||
			    top_bits(nd->prefix, nd->depth) != nd->prefix)
				return "bad node";
			/* Sorted and disjoint: each starts past the end of the one before. */
			if (j && (nd->prefix <= t->nodes[j - 1].prefix ||
			          covers(&t->nodes[j - 1], nd->prefix)))
				return "nodes out of order";
			t->n = j + 1;
		}
	}
	if (p != end)
		return "trailing bytes";
	if (!state_tree(s, s->current))
		return "current tree missing";
	return NULL;
}

/* Reads and opens the file into a new state. */
static cu_result load(const cu_vault *v, const char *path, struct state **out, struct stat *seen,
                      char *err, size_t errlen)
{
	unsigned char *buf = NULL, *pt = NULL;
	size_t len = 0, ptlen = 0;
	struct state *s = NULL;
	const char *why;
	struct stat st;
	cu_result rc = CU_ERR_IO;
	ssize_t r;
	int fd;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		errf(err, errlen, "cannot open keyring '%s': %s", path, strerror(errno));
		return errno == ENOENT ? CU_ERR_NOT_FOUND : CU_ERR_IO;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		errf(err, errlen, "keyring '%s' is not a regular file", path);
		goto out;
	}
	if (st.st_mode & 077) {
		errf(err, errlen,
		     "keyring '%s' has mode %04o: group and others must have no access (chmod 600)",
		     path, (unsigned)(st.st_mode & 07777));
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	if ((size_t)st.st_size > KEYRING_FILE_MAX ||
	    (size_t)st.st_size < HEADER_BYTES + CU_VAULT_NOTE_OVERHEAD) {
		errf(err, errlen, "keyring '%s' has an impossible size", path);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		r = read(fd, buf + len, (size_t)st.st_size - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	if (len != (size_t)st.st_size || memcmp(buf, MAGIC, MAGIC_LEN) ||
	    buf[MAGIC_LEN] != FILE_VERSION) {
		errf(err, errlen, "keyring '%s' is not a keyring of this version", path);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	pt = sodium_malloc(len - HEADER_BYTES - CU_VAULT_NOTE_OVERHEAD + 1);
	s = state_new();
	if (!pt || !s) {
		rc = CU_ERR_NOMEM;
		goto out;
	}
	rc =
	    cu_vault_open_note(v, NOTE_CONTEXT, buf + HEADER_BYTES, len - HEADER_BYTES, pt, &ptlen);
	if (rc) {
		errf(
		    err, errlen,
		    "keyring '%s' does not open with the master keys loaded (a key missing, or the "
		    "file altered)",
		    path);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	s->sealed_under = get32(buf + HEADER_BYTES + 1);
	why = decode(pt, ptlen, s);
	if (why) {
		errf(err, errlen, "keyring '%s': %s", path, why);
		rc = CU_ERR_CRYPTO;
		goto out;
	}
	*out = s;
	s = NULL;
	if (seen)
		*seen = st;
	rc = CU_OK;
out:
	close(fd);
	free(buf);
	if (pt) {
		sodium_memzero(pt, ptlen);
		sodium_free(pt);
	}
	state_free(s);
	return rc;
}

/* Seals s under v's current master key and replaces the file atomically. */
static cu_result store(const cu_vault *v, const char *path, struct state *s, struct stat *seen,
                       char *err, size_t errlen)
{
	size_t ptlen = plain_size(s), len = HEADER_BYTES + CU_VAULT_NOTE_OVERHEAD + ptlen;
	unsigned char *pt = sodium_malloc(ptlen), *buf = malloc(len);
	cu_result rc = CU_ERR_NOMEM;

	if (!pt || !buf)
		goto out;
	if (len > KEYRING_FILE_MAX) {
		errf(err, errlen, "keyring '%s' would exceed %zu bytes: rotate the tree", path,
		     KEYRING_FILE_MAX);
		rc = CU_ERR_TOO_LARGE;
		goto out;
	}
	s->generation++;
	s->sealed_under = cu_vault_current_key_id(v);
	encode(s, pt);
	memcpy(buf, MAGIC, MAGIC_LEN);
	buf[MAGIC_LEN] = FILE_VERSION;
	rc = cu_vault_seal_note(v, NOTE_CONTEXT, pt, ptlen, buf + HEADER_BYTES);
	if (rc)
		goto out;
	rc = cu_file_write_atomic(path, buf, len);
	if (rc) {
		errf(err, errlen, "cannot write keyring '%s': %s", path, strerror(errno));
		goto out;
	}
	if (seen)
		(void)stat(path, seen);
	rc = CU_OK;
out:
	if (pt) {
		sodium_memzero(pt, ptlen);
		sodium_free(pt);
	}
	free(buf);
	return rc;
}

static int lock_file(const char *lock_path)
{
	int fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);

	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
}

static void unlock_file(int fd)
{
	if (fd >= 0) {
		(void)flock(fd, LOCK_UN);
		close(fd);
	}
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Re-reads the file if it changed since it was last seen.  Caller holds no lock. */
static void refresh(cu_keyring *r)
{
	struct state *s = NULL, *old;
	struct stat st, seen;
	const cu_vault *v;
	bool changed;

	if (stat(r->path, &st))
		return;
	pthread_rwlock_rdlock(&r->lock);
	changed = !same_file(&st, &r->seen);
	v = r->v;
	pthread_rwlock_unlock(&r->lock);
	if (!changed || load(v, r->path, &s, &seen, NULL, 0))
		return;
	pthread_rwlock_wrlock(&r->lock);
	old = r->st;
	r->st = s;
	r->seen = seen;
	sodium_memzero(r->cache, CACHE_SLOTS * sizeof(*r->cache));
	pthread_rwlock_unlock(&r->lock);
	state_free(old);
}

/*
 * The writers' frame: lock the file, read it afresh, let `change` alter the
 * state, write it, and make it this process's state.  change returns 0 to
 * write, 1 for nothing to write, -1 on failure (err set).
 */
typedef int (*change_fn)(struct state *s, void *arg, char *err, size_t errlen);

static cu_result rewrite(cu_keyring *r, const cu_vault *seal_with, change_fn change, void *arg,
                         char *err, size_t errlen)
{
	struct state *s = NULL, *old;
	struct stat seen;
	cu_result rc;
	int lk = lock_file(r->lock_path), c;

	if (lk < 0) {
		errf(err, errlen, "cannot lock '%s': %s", r->lock_path, strerror(errno));
		return CU_ERR_IO;
	}
	/* seal_with holds the keys the file is sealed under too (r->v, or a vault that grew from it). */
	rc = load(seal_with, r->path, &s, &seen, err, errlen);
	if (rc)
		goto out;
	c = change(s, arg, err, errlen);
	if (c < 0) {
		rc = CU_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (c == 0) {
		rc = store(seal_with, r->path, s, &seen, err, errlen);
		if (rc)
			goto out;
	}
	pthread_rwlock_wrlock(&r->lock);
	old = r->st;
	r->st = s;
	r->seen = seen;
	sodium_memzero(r->cache, CACHE_SLOTS * sizeof(*r->cache));
	r->v = seal_with;
	pthread_rwlock_unlock(&r->lock);
	s = old;
	rc = CU_OK;
out:
	unlock_file(lk);
	state_free(s);
	return rc;
}

/* ---- the interface ------------------------------------------------------- */

static uint32_t next_free_id(const cu_vault *v, const struct state *s)
{
	uint32_t id = s ? s->next_id : 1;

	for (size_t i = 0; i < cu_vault_key_count(v); i++)
		if (cu_vault_key_id_at(v, i) >= id)
			id = cu_vault_key_id_at(v, i) + 1;
	for (size_t i = 0; s && i < s->ntrees; i++)
		if (s->trees[i].id >= id)
			id = s->trees[i].id + 1;
	return id;
}

static cu_result create(const cu_vault *v, const char *path, const char *lock_path, char *err,
                        size_t errlen)
{
	struct state *s = state_new();
	struct stat st;
	cu_result rc = CU_ERR_NOMEM;
	int lk;

	if (!s)
		return rc;
	lk = lock_file(lock_path);
	if (lk < 0) {
		errf(err, errlen, "cannot lock '%s': %s", lock_path, strerror(errno));
		state_free(s);
		return CU_ERR_IO;
	}
	/* Another process may have made it while this one waited. */
	if (stat(path, &st) == 0) {
		rc = CU_OK;
		goto out;
	}
	s->current = next_free_id(v, NULL);
	if (tree_new(&s->trees[0], s->current))
		goto out;
	s->ntrees = 1;
	s->next_id = s->current + 1;
	rc = store(v, path, s, NULL, err, errlen);
out:
	unlock_file(lk);
	state_free(s);
	return rc;
}

cu_result cu_keyring_open(const cu_vault *v, const char *path, bool create_missing,
                          cu_keyring **out, char *err, size_t errlen)
{
	cu_keyring *r;
	cu_result rc;

	errf(err, errlen, "%s", "");
	*out = NULL;
	if (!v || !path || strlen(path) + sizeof(".lock") >= PATH_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	r = calloc(1, sizeof(*r));
	if (!r)
		return CU_ERR_NOMEM;
	pthread_rwlock_init(&r->lock, NULL);
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_init(&r->stripes[i], NULL);
	r->cache = sodium_malloc(CACHE_SLOTS * sizeof(*r->cache));
	if (!r->cache) {
		cu_keyring_free(r);
		return CU_ERR_NOMEM;
	}
	memset(r->cache, 0, CACHE_SLOTS * sizeof(*r->cache));
	r->v = v;
	snprintf(r->path, sizeof(r->path), "%s", path);
	snprintf(r->lock_path, sizeof(r->lock_path), "%s.lock", path);
	rc = load(v, r->path, &r->st, &r->seen, err, errlen);
	if (rc == CU_ERR_NOT_FOUND && create_missing) {
		rc = create(v, r->path, r->lock_path, err, errlen);
		if (!rc)
			rc = load(v, r->path, &r->st, &r->seen, err, errlen);
	}
	if (rc) {
		cu_keyring_free(r);
		return rc;
	}
	*out = r;
	return CU_OK;
}

void cu_keyring_free(cu_keyring *r)
{
	if (!r)
		return;
	state_free(r->st);
	sodium_free(r->cache);
	for (int i = 0; i < CACHE_STRIPES; i++)
		pthread_mutex_destroy(&r->stripes[i]);
	pthread_rwlock_destroy(&r->lock);
	free(r);
}

uint32_t cu_keyring_current_tree(cu_keyring *r)
{
	uint32_t id;

	refresh(r);
	pthread_rwlock_rdlock(&r->lock);
	id = r->st->current;
	pthread_rwlock_unlock(&r->lock);
	return id;
}

/* 1 derived, 0 punctured, -1 no such tree. */
static int derive(cu_keyring *r, uint32_t tree, const char *member_id,
                  unsigned char kek[CU_VAULT_KEYBYTES])
{
	const struct tree *t;
	struct slot *sl;
	pthread_mutex_t *mu;
	uint64_t p;
	long at;
	int found = 1;

	pthread_rwlock_rdlock(&r->lock);
	t = state_tree(r->st, tree);
	if (!t) {
		pthread_rwlock_unlock(&r->lock);
		return -1;
	}
	p = path_of(t, member_id);
	sl = &r->cache[p % CACHE_SLOTS];
	mu = &r->stripes[p % CACHE_STRIPES];
	pthread_mutex_lock(mu);
	if (sl->tree == tree && !strcmp(sl->id, member_id)) {
		memcpy(kek, sl->key, CU_VAULT_KEYBYTES);
		pthread_mutex_unlock(mu);
		pthread_rwlock_unlock(&r->lock);
		return 1;
	}
	pthread_mutex_unlock(mu);
	at = find_cover(t, p);
	if (at < 0) {
		found = 0;
	} else {
		leaf_key(&t->nodes[at], p, kek);
		pthread_mutex_lock(mu);
		sl->tree = tree;
		snprintf(sl->id, sizeof(sl->id), "%s", member_id);
		memcpy(sl->key, kek, CU_VAULT_KEYBYTES);
		pthread_mutex_unlock(mu);
	}
	pthread_rwlock_unlock(&r->lock);
	return found;
}

/*
 * At most once a second, a read looks whether another process changed the
 * file (a puncture above all), so a long-running process drops an erased
 * member's leaf from its memory within a second of the erasure.
 */
#define RECHECK_MS 1000
static void refresh_now_and_then(cu_keyring *r)
{
	struct timespec ts;
	int64_t now, seen;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	seen = atomic_load(&r->checked_ms);
	if (now - seen < RECHECK_MS || !atomic_compare_exchange_strong(&r->checked_ms, &seen, now))
		return;
	refresh(r);
}

cu_result cu_keyring_member_kek(cu_keyring *r, uint32_t tree, const char *member_id,
                                unsigned char kek[CU_VAULT_KEYBYTES])
{
	int found;

	if (!r || !member_id || !kek)
		return CU_ERR_INVALID_ARGUMENT;
	refresh_now_and_then(r);
	found = derive(r, tree, member_id, kek);
	if (found < 0) {
		/* Another process may have added the tree since this one read the file. */
		refresh(r);
		found = derive(r, tree, member_id, kek);
	}
	if (found < 0)
		return CU_ERR_NOT_FOUND;
	return found ? CU_OK : CU_ERR_ERASED;
}

bool cu_keyring_punctured(cu_keyring *r, uint32_t tree, const char *member_id)
{
	const struct tree *t;
	bool punctured = false;

	if (!r || !member_id)
		return false;
	pthread_rwlock_rdlock(&r->lock);
	t = state_tree(r->st, tree);
	if (t)
		punctured = find_cover(t, path_of(t, member_id)) < 0;
	pthread_rwlock_unlock(&r->lock);
	return punctured;
}

struct puncture_arg {
	const char *const *ids;
	size_t n, changed;
};

static int puncture_change(struct state *s, void *arg, char *err, size_t errlen)
{
	struct puncture_arg *a = arg;

	a->changed = 0;
	for (size_t i = 0; i < s->ntrees; i++) {
		struct tree *t = &s->trees[i];

		for (size_t j = 0; j < a->n; j++) {
			int c = tree_puncture(t, path_of(t, a->ids[j]));

			if (c < 0) {
				errf(err, errlen, "out of memory puncturing the keyring");
				return -1;
			}
			a->changed += (size_t)c;
		}
	}
	return a->changed ? 0 : 1;
}

cu_result cu_keyring_puncture(cu_keyring *r, const char *const *member_ids, size_t n,
                              size_t *changed, char *err, size_t errlen)
{
	struct puncture_arg a = {.ids = member_ids, .n = n};
	cu_result rc;

	if (changed)
		*changed = 0;
	if (!r || (!member_ids && n))
		return CU_ERR_INVALID_ARGUMENT;
	for (size_t i = 0; i < n; i++)
		if (!member_ids[i] || !*member_ids[i])
			return CU_ERR_INVALID_ARGUMENT;
	if (n == 0)
		return CU_OK;
	rc = rewrite(r, r->v, puncture_change, &a, err, errlen);
	if (!rc && changed)
		*changed = a.changed;
	return rc;
}

struct add_arg {
	const cu_vault *v;
	uint32_t id;
};

static int add_change(struct state *s, void *arg, char *err, size_t errlen)
{
	struct add_arg *a = arg;

	if (s->ntrees == CU_KEYRING_TREES_MAX) {
		errf(err, errlen,
		     "the keyring holds %d trees already: drop one no backup needs first "
		     "(custodian keys status)",
		     CU_KEYRING_TREES_MAX);
		return -1;
	}
	a->id = next_free_id(a->v, s);
	if (tree_new(&s->trees[s->ntrees], a->id)) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	s->ntrees++;
	s->current = a->id;
	s->next_id = a->id + 1;
	return 0;
}

cu_result cu_keyring_add_tree(cu_keyring *r, uint32_t *id, char *err, size_t errlen)
{
	struct add_arg a = {.v = r ? r->v : NULL};
	cu_result rc;

	if (!r || !id)
		return CU_ERR_INVALID_ARGUMENT;
	rc = rewrite(r, r->v, add_change, &a, err, errlen);
	if (!rc)
		*id = a.id;
	return rc;
}

static int drop_change(struct state *s, void *arg, char *err, size_t errlen)
{
	uint32_t id = *(uint32_t *)arg;
	struct tree *t = state_tree(s, id);

	if (!t) {
		errf(err, errlen, "no tree %u in the keyring", id);
		return -1;
	}
	if (id == s->current) {
		errf(err, errlen, "tree %u is the current one", id);
		return -1;
	}
	tree_free(t);
	/* Keep the oldest-first order. */
	memmove(t, t + 1, (size_t)(&s->trees[s->ntrees] - (t + 1)) * sizeof(*t));
	memset(&s->trees[s->ntrees - 1], 0, sizeof(s->trees[0]));
	s->ntrees--;
	return 0;
}

cu_result cu_keyring_drop_tree(cu_keyring *r, uint32_t id, char *err, size_t errlen)
{
	cu_result rc;

	if (!r)
		return CU_ERR_INVALID_ARGUMENT;
	rc = rewrite(r, r->v, drop_change, &id, err, errlen);
	return rc == CU_ERR_INVALID_ARGUMENT ? CU_ERR_CONFLICT : rc;
}

static int reseal_change(struct state *s, void *arg, char *err, size_t errlen)
{
	(void)s;
	(void)arg;
	(void)err;
	(void)errlen;
	return 0;
}

cu_result cu_keyring_reseal(cu_keyring *r, const cu_vault *v, char *err, size_t errlen)
{
	if (!r || !v)
		return CU_ERR_INVALID_ARGUMENT;
	/* Read with v (it holds the key the file is sealed under too), write under its current key. */
	return rewrite(r, v, reseal_change, NULL, err, errlen);
}

size_t cu_keyring_trees(cu_keyring *r, cu_keyring_tree_info *out, size_t max)
{
	size_t n;

	refresh(r);
	pthread_rwlock_rdlock(&r->lock);
	n = r->st->ntrees;
	for (size_t i = 0; i < n && i < max; i++) {
		out[i].id = r->st->trees[i].id;
		out[i].current = r->st->trees[i].id == r->st->current;
		out[i].nodes = r->st->trees[i].n;
	}
	pthread_rwlock_unlock(&r->lock);
	return n;
}

void cu_keyring_file_info(cu_keyring *r, uint32_t *sealed_under, uint32_t *generation)
{
	pthread_rwlock_rdlock(&r->lock);
	if (sealed_under)
		*sealed_under = r->st->sealed_under;
	if (generation)
		*generation = r->st->generation;
	pthread_rwlock_unlock(&r->lock);
}
