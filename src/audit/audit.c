/*
 * src/audit/audit.c — the hash-chained audit log over the store.
 *
 * The chain's head is kept twice: as the last row of the audit table and as
 * meta "audit_head" ("<seq>:<hex hash>"), written in the same transaction
 * as the entries (once, at its commit: see cu_store_meta_set_at_commit).
 * Rows cut off the end leave the meta head pointing past the table, and
 * rows added behind the writer's back leave the table past the head;
 * verification reports both.
 */
#include "audit/audit.h"

#include <inttypes.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/case_ref.h"
#include "store/store.h"
#include "store/registry.h"
#include "vault/vault.h"
#include "store/backend.h"

#define DOMAIN     "cu-audit-v1"
#define DOMAIN_LEN (sizeof(DOMAIN) - 1)
#define HEAD_KEY   "audit_head"
/* The head of chain NAME is meta HEAD_KEY ":" NAME; the main chain's is HEAD_KEY itself. */
#define HEAD_KEY_MAX (sizeof(HEAD_KEY) + 1 + CU_AUDIT_CHAIN_MAX)
#define DOMAIN2      "cu-audit-v2"
#define DOMAIN2_LEN  (sizeof(DOMAIN2) - 1)
#define LINK_DOMAIN  "cu-audit-link-v1"
/* "<u64>:<64 hex>" and a NUL */
#define HEAD_MAX (20 + 1 + 2 * CU_AUDIT_HASHBYTES + 1)
/*
 * One text of an entry may not exceed this: entries hold names and short
 * reasons, and a bound keeps a client-fed string from bloating the log.
 */
#define TEXT_MAX       65535
#define NTEXTS         9
#define PROGRESS_EVERY 65536
/* An entry that encodes within this many bytes is hashed from the stack; a longer one is
 * encoded into a malloc'd buffer. */
#define ENTRY_STACK_BYTES 2048
#define U64_DIGITS        20 /* decimal digits of a uint64_t */

/* The heads a handle follows: the last entry of all chains, and of its own. */
struct heads {
	uint64_t seq; /* last entry of every chain */
	unsigned char hash[CU_AUDIT_HASHBYTES];
	uint64_t own_seq; /* last entry of this writer's chain (0: none yet) */
	unsigned char own_hash[CU_AUDIT_HASHBYTES];
};

struct cu_audit {
	char chain[CU_AUDIT_CHAIN_MAX + 1];
	char head_key[HEAD_KEY_MAX]; /* its head's meta key */
	struct heads done;           /* committed */
	struct heads pending;        /* including this transaction */
	uint64_t appended;           /* entries this handle committed */
	uint64_t pending_appended;
};

static void texts_of(const cu_audit_entry *e, const char *t[NTEXTS])
{
	t[0] = e->actor;
	t[1] = e->role;
	t[2] = e->action;
	t[3] = e->member;
	t[4] = e->purpose;
	t[5] = e->fields;
	t[6] = e->decision;
	t[7] = e->reason;
	t[8] = e->case_ref;
	for (int i = 0; i < NTEXTS; i++)
		if (!t[i])
			t[i] = "";
}

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

/*
 * hash = BLAKE2b-256("cu-audit-v1" | prev | u64le seq | i64le time |
 *                    for each text: u32le length | bytes)
 * for an entry of the main chain (so every entry written before chains had
 * names still verifies), and for an entry of any other chain
 * hash = BLAKE2b-256("cu-audit-v2" | u32le length | chain | prev | u64le seq |
 *                    i64le time | texts as above).
 * Texts are in the order of cu_audit_entry.
 */
#define FIXED_LEN (DOMAIN_LEN + CU_AUDIT_HASHBYTES + 8 + 8)

static bool on_main(const char *chain)
{
	return !chain || !strcmp(chain, CU_AUDIT_CHAIN_MAIN);
}

/* The texts of e and their lengths; returns the length of the whole encoding. */
static size_t measure(const cu_audit_entry *e, const char *t[NTEXTS], size_t len[NTEXTS])
{
	size_t total = FIXED_LEN;

	if (!on_main(e->chain))
		total += DOMAIN2_LEN - DOMAIN_LEN + 4 + strlen(e->chain);
	texts_of(e, t);
	for (int i = 0; i < NTEXTS; i++) {
		len[i] = strlen(t[i]);
		total += 4 + len[i];
	}
	return total;
}

/* Writes the encoding's fixed part (domain, [chain,] prev, seq, time) at p; returns its end. */
static unsigned char *encode_fixed(const cu_audit_entry *e, unsigned char *p)
{
	if (on_main(e->chain)) {
		memcpy(p, DOMAIN, DOMAIN_LEN);
		p += DOMAIN_LEN;
	} else {
		size_t n = strlen(e->chain);

		memcpy(p, DOMAIN2, DOMAIN2_LEN);
		p = put_u32(p + DOMAIN2_LEN, (uint32_t)n);
		memcpy(p, e->chain, n);
		p += n;
	}
	memcpy(p, e->prev, CU_AUDIT_HASHBYTES);
	p += CU_AUDIT_HASHBYTES;
	p = put_u64(p, e->seq);
	return put_u64(p, (uint64_t)e->time_us);
}

/* Writes the whole encoding (measure()'s length) at p. */
static void encode(const cu_audit_entry *e, const char *const t[NTEXTS], const size_t len[NTEXTS],
                   unsigned char *p)
{
	p = encode_fixed(e, p);
	for (int i = 0; i < NTEXTS; i++) {
		p = put_u32(p, (uint32_t)len[i]);
		memcpy(p, t[i], len[i]);
		p += len[i];
	}
}

/*
 * The encoding sits in one stack buffer and is hashed in one call, with no
 * allocation.  An entry too large for the buffer is streamed (same bytes,
 * same hash).
 */
static void entry_hash(const cu_audit_entry *e, unsigned char out[CU_AUDIT_HASHBYTES])
{
	unsigned char buf[ENTRY_STACK_BYTES];
	const char *t[NTEXTS];
	size_t len[NTEXTS];
	size_t total = measure(e, t, len);

	if (total <= sizeof(buf)) {
		encode(e, t, len, buf);
		crypto_generichash(out, CU_AUDIT_HASHBYTES, buf, total, NULL, 0);
	} else {
		crypto_generichash_state st;

		crypto_generichash_init(&st, NULL, 0, CU_AUDIT_HASHBYTES);
		crypto_generichash_update(&st, buf,
		                          (unsigned long long)(encode_fixed(e, buf) - buf));
		for (int i = 0; i < NTEXTS; i++) {
			unsigned char l[4];

			put_u32(l, (uint32_t)len[i]);
			crypto_generichash_update(&st, l, sizeof(l));
			crypto_generichash_update(&st, (const unsigned char *)t[i], len[i]);
		}
		crypto_generichash_final(&st, out, CU_AUDIT_HASHBYTES);
	}
}

void cu_audit_hash(cu_audit_entry *e)
{
	entry_hash(e, e->hash);
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* "<seq>:<hex>"; by hand, as it runs once per entry. */
static void format_head(uint64_t seq, const unsigned char hash[CU_AUDIT_HASHBYTES],
                        char out[HEAD_MAX])
{
	static const char hex[] = "0123456789abcdef";
	char digits[U64_DIGITS];
	size_t n = 0, o = 0;

	do {
		digits[n++] = (char)('0' + seq % 10);
		seq /= 10;
	} while (seq);
	while (n)
		out[o++] = digits[--n];
	out[o++] = ':';
	for (int i = 0; i < CU_AUDIT_HASHBYTES; i++) {
		out[o++] = hex[hash[i] >> 4];
		out[o++] = hex[hash[i] & 15];
	}
	out[o] = '\0';
}
/* Exactly 64 hex digits, and nothing after them, into hash. */
static bool hash_of_hex(const char *hex, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	size_t binlen = 0;

	return strlen(hex) == 2 * CU_AUDIT_HASHBYTES &&
	       sodium_hex2bin(hash, CU_AUDIT_HASHBYTES, hex, 2 * CU_AUDIT_HASHBYTES, NULL, &binlen,
	                      NULL) == 0 &&
	       binlen == CU_AUDIT_HASHBYTES;
}

/* Strict: digits, ':', exactly 64 hex digits. */
static bool parse_head(const char *s, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != ':' || !hash_of_hex(p, hash))
		return false;
	*seq = v;
	return true;
}

/* The head recorded in meta under key; *found false when none was ever written. */
static cu_result read_head(cu_store *store, const char *key, bool *found, bool *valid,
                           uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	char val[HEAD_MAX + 1];
	cu_result rc;

	*valid = false;
	rc = cu_store_meta_get(store, key, val, sizeof(val), found);
	if (rc == CU_ERR_TOO_LARGE) {
		/* Longer than any head this code writes: present but malformed. */
		*found = true;
		return CU_OK;
	}
	if (rc || !*found)
		return rc;
	*valid = parse_head(val, seq, hash);
	return CU_OK;
}

/* A chain's name: [a-z0-9_-], 1..CU_AUDIT_CHAIN_MAX. */
static bool chain_form(const char *s)
{
	size_t n = strnlen(s, CU_AUDIT_CHAIN_MAX + 1);

	return n > 0 && n <= CU_AUDIT_CHAIN_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

bool cu_audit_chain_valid(const char *name)
{
	return name && chain_form(name);
}

/* The meta key of chain's head. */
static void head_key_of(const char *chain, char out[HEAD_KEY_MAX])
{
	if (on_main(chain))
		snprintf(out, HEAD_KEY_MAX, "%s", HEAD_KEY);
	else
		snprintf(out, HEAD_KEY_MAX, "%s:%s", HEAD_KEY, chain);
}

/*
 * Reads the heads of a's chain and of all chains from the store into h;
 * fails closed as open does: the chain's last entry must be the head its
 * writer recorded.
 */
static cu_result load_heads(const cu_audit *a, cu_store *store, struct heads *h)
{
	unsigned char head_hash[CU_AUDIT_HASHBYTES];
	uint64_t head_seq = 0;
	bool found, valid, agrees, snap;
	cu_result rc;

	/*
	 * The last entries and the stored head from one committed state: read
	 * apart, another process's commit between them (a server appending while
	 * a command opens) looked like a cut chain.  A transaction is one state
	 * already.
	 */
	(void)!cu_store_view_begin(store, &snap);
	rc = cu_store_audit_last(store, &h->seq, h->hash);
	if (!rc)
		rc = cu_store_audit_chain_last(store, a->chain, &h->own_seq, h->own_hash);
	if (!rc)
		rc = read_head(store, a->head_key, &found, &valid, &head_seq, head_hash);
	if (snap)
		cu_store_snapshot_end(store);
	if (rc)
		return rc;
	if (found)
		agrees = valid && head_seq == h->own_seq &&
		         memcmp(head_hash, h->own_hash, CU_AUDIT_HASHBYTES) == 0;
	else
		agrees = h->own_seq == 0;
	return agrees ? CU_OK : CU_ERR_AUDIT_BROKEN;
}

cu_result cu_audit_sync(cu_audit *a, cu_store *store)
{
	unsigned char hash[CU_AUDIT_HASHBYTES];
	struct heads h;
	uint64_t seq;
	cu_result rc;

	if (!a || !store)
		return CU_ERR_INVALID_ARGUMENT;
	if (memcmp(&a->pending, &a->done, sizeof(a->done)) != 0)
		return CU_ERR_INTERNAL; /* only between transactions */
	rc = cu_store_audit_last(store, &seq, hash);
	if (rc)
		return rc;
	if (seq == a->done.seq && !memcmp(hash, a->done.hash, CU_AUDIT_HASHBYTES))
		return CU_OK;
	/* Another writer appended (to this chain or another): carry on from the heads, checked. */
	rc = load_heads(a, store, &h);
	if (rc)
		return rc;
	a->done = a->pending = h;
	return CU_OK;
}

cu_result cu_audit_open_chain(cu_store *store, const char *chain, cu_audit **out)
{
	cu_audit *a;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!store || !cu_audit_chain_valid(chain))
		return CU_ERR_INVALID_ARGUMENT;
	if (sodium_init() < 0)
		return CU_ERR_CRYPTO;
	a = calloc(1, sizeof(*a));
	if (!a)
		return CU_ERR_NOMEM;
	snprintf(a->chain, sizeof(a->chain), "%s", chain);
	head_key_of(chain, a->head_key);
	/*
	 * Fail closed: a writer that carried on from a chain whose tail was cut
	 * would overwrite the meta head and so hide the cut.  The operator
	 * runs `audit verify` to see what happened.
	 */
	rc = load_heads(a, store, &a->done);
	if (rc) {
		free(a);
		return rc;
	}
	a->pending = a->done;
	*out = a;
	return CU_OK;
}

cu_result cu_audit_open(cu_store *store, cu_audit **out)
{
	return cu_audit_open_chain(store, CU_AUDIT_CHAIN_MAIN, out);
}

const char *cu_audit_chain(const cu_audit *a)
{
	return a ? a->chain : "";
}

void cu_audit_free(cu_audit *a)
{
	free(a);
}

#define PROVISION_PREFIX "provision:"

/* A registry id (store/registry.h): [a-z0-9_-], 1..CU_REGISTRY_ID_MAX. */
static bool registry_id_form(const char *s)
{
	size_t n = strnlen(s, CU_REGISTRY_ID_MAX + 1);

	return n > 0 && n <= CU_REGISTRY_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static bool purpose_form(const char *s)
{
	const size_t plen = sizeof(PROVISION_PREFIX) - 1;

	if (!strncmp(s, PROVISION_PREFIX, plen))
		return registry_id_form(s + plen) || !strcmp(s + plen, CU_AUDIT_MALFORMED);
	return cu_policy_id_form(s);
}

/* The rule of audit.h: no client-typed text in an id position that is not of an id's form. */
static void scrub(cu_audit_entry *e)
{
	if (e->member && *e->member && !cu_vault_id_well_formed(e->member))
		e->member = CU_AUDIT_MALFORMED;
	if (e->purpose && *e->purpose && !purpose_form(e->purpose))
		e->purpose = CU_AUDIT_MALFORMED;
	if (e->case_ref && *e->case_ref && cu_case_ref_problem(e->case_ref))
		e->case_ref = CU_AUDIT_MALFORMED;
}

cu_result cu_audit_append(cu_audit *a, cu_store *store, cu_audit_entry *e)
{
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char head[HEAD_MAX];
	const char *t[NTEXTS];
	cu_result rc;

	if (!a || !store || !e)
		return CU_ERR_INVALID_ARGUMENT;
	/* Outside a transaction the entry could not share the fate of its change. */
	if (!cu_store_in_transaction(store))
		return CU_ERR_INTERNAL;
	if (a->pending.seq >= (uint64_t)INT64_MAX)
		return CU_ERR_INTERNAL;
	scrub(e);
	texts_of(e, t);
	for (int i = 0; i < NTEXTS; i++)
		if (strnlen(t[i], TEXT_MAX + 1) > TEXT_MAX)
			return CU_ERR_TOO_LARGE;
	e->seq = a->pending.seq + 1;
	e->chain = a->chain;
	if (e->time_us == 0)
		e->time_us = now_us();
	memcpy(e->prev, a->pending.own_hash, CU_AUDIT_HASHBYTES);
	entry_hash(e, hash);
	memcpy(e->hash, hash, CU_AUDIT_HASHBYTES);
	rc = cu_store_audit_append(store, e);
	if (rc)
		return rc;
	format_head(e->seq, hash, head);
	/* Written once at commit, in the same transaction as the entries. */
	rc = cu_store_meta_set_at_commit(store, a->head_key, head);
	if (rc)
		return rc;
	a->pending.seq = a->pending.own_seq = e->seq;
	memcpy(a->pending.hash, hash, CU_AUDIT_HASHBYTES);
	memcpy(a->pending.own_hash, hash, CU_AUDIT_HASHBYTES);
	a->pending_appended++;
	return CU_OK;
}

void cu_audit_commit(cu_audit *a)
{
	if (!a)
		return;
	a->done = a->pending;
	a->appended = a->pending_appended;
}

void cu_audit_rollback(cu_audit *a)
{
	if (!a)
		return;
	a->pending = a->done;
	a->pending_appended = a->appended;
}

void cu_audit_mark_get(const cu_audit *a, cu_audit_mark *m)
{
	m->seq = a->pending.seq;
	memcpy(m->hash, a->pending.hash, CU_AUDIT_HASHBYTES);
	m->own_seq = a->pending.own_seq;
	memcpy(m->own_hash, a->pending.own_hash, CU_AUDIT_HASHBYTES);
	m->appended = a->pending_appended;
}

void cu_audit_rollback_to(cu_audit *a, const cu_audit_mark *m)
{
	a->pending.seq = m->seq;
	memcpy(a->pending.hash, m->hash, CU_AUDIT_HASHBYTES);
	a->pending.own_seq = m->own_seq;
	memcpy(a->pending.own_hash, m->own_hash, CU_AUDIT_HASHBYTES);
	a->pending_appended = m->appended;
}

uint64_t cu_audit_head_seq(const cu_audit *a)
{
	return a ? a->done.seq : 0;
}

uint64_t cu_audit_appended(const cu_audit *a)
{
	return a ? a->appended : 0;
}

/* ---- links between chains -------------------------------------------------- */

/* One chain's head, as a link states it. */
struct chain_head {
	char name[CU_AUDIT_CHAIN_MAX + 1];
	uint64_t seq;
	unsigned char hash[CU_AUDIT_HASHBYTES];
};

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct chain_head *)x)->name, ((const struct chain_head *)y)->name);
}

/*
 * digest = BLAKE2b-256("cu-audit-link-v1" | for each chain but the link's
 * own, by name: u32le length | name | u64le seq | hash).  Sorts heads.
 */
static void link_digest(struct chain_head *heads, size_t n, unsigned char out[CU_AUDIT_HASHBYTES])
{
	crypto_generichash_state st;

	qsort(heads, n, sizeof(heads[0]), by_name);
	crypto_generichash_init(&st, NULL, 0, CU_AUDIT_HASHBYTES);
	crypto_generichash_update(&st, (const unsigned char *)LINK_DOMAIN, sizeof(LINK_DOMAIN) - 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char b[8]; /* a u64le, or a u32le in its first four */
		size_t len = strlen(heads[i].name);

		put_u32(b, (uint32_t)len);
		crypto_generichash_update(&st, b, 4);
		crypto_generichash_update(&st, (const unsigned char *)heads[i].name, len);
		put_u64(b, heads[i].seq);
		crypto_generichash_update(&st, b, 8);
		crypto_generichash_update(&st, heads[i].hash, CU_AUDIT_HASHBYTES);
	}
	crypto_generichash_final(&st, out, CU_AUDIT_HASHBYTES);
}

/* The chain a head's meta key names, or NULL when the key is not one. */
static const char *chain_of_key(const char *key)
{
	size_t n = sizeof(HEAD_KEY) - 1;

	if (strncmp(key, HEAD_KEY, n) != 0)
		return NULL;
	if (!key[n])
		return CU_AUDIT_CHAIN_MAIN;
	return key[n] == ':' && chain_form(key + n + 1) ? key + n + 1 : NULL;
}

/* The recorded heads of every chain but one (skip), for a link. */
struct head_list {
	const char *skip;
	struct chain_head *items;
	size_t n, cap;
	bool bad; /* a head that does not parse, or no memory */
};

static int collect_head(void *ud, const char *key, const char *val)
{
	struct head_list *l = ud;
	const char *chain = chain_of_key(key);
	struct chain_head h;

	if (!chain || !strcmp(chain, l->skip))
		return 0;
	if (!parse_head(val, &h.seq, h.hash)) {
		l->bad = true;
		return 1;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		void *p = cap <= CU_AUDIT_CHAINS_MAX ? realloc(l->items, cap * sizeof(h)) : NULL;

		if (!p) {
			l->bad = true;
			return 1;
		}
		l->items = p;
		l->cap = cap;
	}
	snprintf(h.name, sizeof(h.name), "%s", chain);
	l->items[l->n++] = h;
	return 0;
}

cu_result cu_audit_other_chains(const cu_audit *a, cu_store *store, size_t *n)
{
	struct head_list l = {.skip = a ? a->chain : ""};
	cu_result rc;

	if (!a || !store || !n)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_store_meta_scan(store, HEAD_KEY, collect_head, &l);
	if (!rc && l.bad)
		rc = CU_ERR_AUDIT_BROKEN;
	*n = l.n;
	free(l.items);
	return rc;
}

cu_result cu_audit_link(cu_audit *a, cu_store *store, bool *linked)
{
	struct head_list l = {.skip = a ? a->chain : ""};
	unsigned char digest[CU_AUDIT_HASHBYTES];
	char hex[2 * CU_AUDIT_HASHBYTES + 1], reason[CU_AUDIT_LINK_REASON_MAX];
	cu_result rc;

	if (linked)
		*linked = false;
	if (!a || !store)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_store_in_transaction(store))
		return CU_ERR_INTERNAL;
	rc = cu_store_meta_scan(store, HEAD_KEY, collect_head, &l);
	if (!rc && l.bad)
		rc = CU_ERR_AUDIT_BROKEN;
	if (!rc && l.n > 0) {
		cu_audit_entry e = {.actor = "operator",
		                    .role = "operator",
		                    .action = CU_AUDIT_LINK_ACTION,
		                    .decision = "done",
		                    .reason = reason};

		link_digest(l.items, l.n, digest);
		sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
		snprintf(reason, sizeof(reason), "chains=%zu heads=%s", l.n, hex);
		rc = cu_audit_append(a, store, &e);
		if (!rc && linked)
			*linked = true;
	}
	free(l.items);
	return rc;
}

/* A link's reason as written above: its count and digest, or false. */
static bool parse_link(const char *reason, size_t *n, unsigned char digest[CU_AUDIT_HASHBYTES])
{
	unsigned long long count;
	char hex[2 * CU_AUDIT_HASHBYTES + 2];
	int end = 0;

	if (sscanf(reason, "chains=%llu heads=%65[0-9a-f]%n", &count, hex, &end) != 2 ||
	    reason[end] || !hash_of_hex(hex, digest))
		return false;
	*n = (size_t)count;
	return true;
}

/* ---- verification -------------------------------------------------------- */

/*
 * A walk runs as two halves in a pipeline.  The caller's thread steps through
 * the rows in seq order (SQLite's share, about two thirds of the work) and
 * lays each entry out in a block: its stored seq, prev and hash, then the
 * encoding entry_hash would hash.  A checker thread takes the blocks in
 * order and hashes and checks every entry with the same tests in the same
 * order as a one-thread walk, so the first broken entry and the reason are
 * the same; when it finds one, the reading stops at the next block.  With
 * two cores the hashing no longer waits for the reading (see
 * docs/performance.md).  If the thread cannot be started, the caller's
 * thread checks each block itself.  Memory is NBLOCKS * BLOCK_BYTES whatever
 * the chain's length, and only the caller's thread touches the store.
 */
#define BLOCK_BYTES (256u * 1024)
#define NBLOCKS     4

/* What a laid-out entry is besides an entry (item.kind). */
enum item_kind {
	ITEM_ENTRY = 0,
	ITEM_LINK,         /* a link between chains, its digest in item.link */
	ITEM_LINK_BAD,     /* a link whose reason does not say what a link says */
	ITEM_CHAIN_BAD,    /* a chain name a writer cannot have written */
	ITEM_CHAINS_LIMIT, /* more than CU_AUDIT_CHAINS_MAX chains */
};

/* One laid-out entry: this header, then `len` bytes of encoding padded to 8. */
struct item {
	uint64_t seq;
	uint32_t len;                           /* 0: too big for a block, hashed already */
	uint32_t chain;                         /* its chain: an index into walk.names */
	uint32_t kind;                          /* enum item_kind */
	uint32_t link_n;                        /* a link: how many other chains it names */
	unsigned char link[CU_AUDIT_HASHBYTES]; /* a link: the digest of their heads */
	unsigned char prev[CU_AUDIT_HASHBYTES]; /* as stored */
	unsigned char hash[CU_AUDIT_HASHBYTES]; /* as stored */
	unsigned char own[CU_AUDIT_HASHBYTES];  /* when len is 0: the hash computed */
};

#define ITEM_BYTES (((sizeof(struct item) + 7) / 8) * 8)

static size_t pad8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

struct block {
	unsigned char *buf;
	size_t used;
};

/* A chain as the walk has checked it so far. */
struct chain_state {
	uint64_t seq; /* its last entry (0: none yet) */
	unsigned char hash[CU_AUDIT_HASHBYTES];
};

struct walk {
	/*
	 * The chains met, by index: names written by the reader before the
	 * first item naming them is handed over, so the checker may read them.
	 */
	char (*names)[CU_AUDIT_CHAIN_MAX + 1];
	uint32_t nnames, last_chain;

	/* The checker's side (the caller's thread reads it only after the join). */
	uint64_t next;              /* the seq expected next */
	struct chain_state *states; /* [CU_AUDIT_CHAINS_MAX] */
	struct chain_head *scratch; /* [CU_AUDIT_CHAINS_MAX]: a link's heads */
	uint32_t nnames_checked;    /* chains the checker has met */
	bool broken;
	cu_audit_report *report;

	/* The reader's side. */
	uint64_t total;
	uint64_t laid;
	cu_audit_progress_fn progress;
	void *ud;
	struct block *fill; /* the block being filled */

	/* The hand-over, under lock: blocks[tail..head) wait for the checker. */
	bool threaded;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t ready_cv, free_cv;
	struct block blocks[NBLOCKS];
	unsigned head, tail, nready;
	bool done, stop;
	uint64_t checked; /* report->checked as of the last block */

	/*
	 * The per-member index's check (check_index): the entries about a
	 * member up to the mark, counted and summed as keyed hashes of
	 * (member, seq) on the reader's side, to compare with the index's rows.
	 */
	uint64_t index_mark, index_n, index_sum;
	unsigned char index_key[crypto_shorthash_KEYBYTES];
};

/*
 * One (member, seq) as a term of the sum: SipHash under a key drawn for
 * this walk, so no one who edits the index beforehand can make a changed
 * set of rows sum to the same.
 */
static uint64_t index_term(const unsigned char *key, const char *member, uint64_t seq)
{
	unsigned char h[crypto_shorthash_BYTES], in[crypto_shorthash_BYTES + 8];
	uint64_t t;

	crypto_shorthash(h, (const unsigned char *)member, strlen(member), key);
	memcpy(in, h, crypto_shorthash_BYTES);
	for (int i = 0; i < 8; i++)
		in[crypto_shorthash_BYTES + i] = (unsigned char)(seq >> (8 * i));
	crypto_shorthash(h, in, sizeof(in), key);
	memcpy(&t, h, sizeof(t));
	return t;
}

static int broken(struct walk *w, uint64_t seq, const char *what)
{
	w->broken = true;
	w->report->broken_seq = seq;
	snprintf(w->report->what, sizeof(w->report->what), "%s", what);
	return 1;
}

/* A link's digest against the heads of every other chain the walk has met so far. */
static bool link_holds(struct walk *w, const struct item *it)
{
	unsigned char digest[CU_AUDIT_HASHBYTES];
	size_t n = 0;

	for (uint32_t i = 0; i < w->nnames_checked; i++) {
		if (i == it->chain || !w->states[i].seq)
			continue;
		snprintf(w->scratch[n].name, sizeof(w->scratch[n].name), "%s", w->names[i]);
		w->scratch[n].seq = w->states[i].seq;
		memcpy(w->scratch[n].hash, w->states[i].hash, CU_AUDIT_HASHBYTES);
		n++;
	}
	if (n != it->link_n)
		return false;
	link_digest(w->scratch, n, digest);
	return memcmp(digest, it->link, CU_AUDIT_HASHBYTES) == 0;
}

/* Checks one laid-out entry against its chain so far; non-zero when broken. */
static int check_item(struct walk *w, const struct item *it, const unsigned char *in)
{
	static const unsigned char zeros[CU_AUDIT_HASHBYTES];
	unsigned char h[CU_AUDIT_HASHBYTES];
	struct chain_state *st;

	if (it->seq != w->next) {
		cu_audit_report *r = w->report;

		w->broken = true;
		r->broken_seq = w->next;
		if (it->seq == w->next + 1)
			snprintf(r->what, sizeof(r->what), "entry %" PRIu64 " missing", w->next);
		else if (it->seq > w->next)
			snprintf(r->what, sizeof(r->what),
			         "entries %" PRIu64 "..%" PRIu64 " missing", w->next, it->seq - 1);
		else
			snprintf(r->what, sizeof(r->what), "entry out of sequence");
		return 1;
	}
	if (it->kind == ITEM_CHAIN_BAD)
		return broken(w, it->seq, "chain name malformed (entry altered)");
	if (it->kind == ITEM_CHAINS_LIMIT)
		return broken(w, it->seq, "more chains than a verify follows");
	if (it->chain >= w->nnames_checked)
		w->nnames_checked = it->chain + 1;
	st = &w->states[it->chain];
	if (memcmp(it->prev, st->seq ? st->hash : zeros, CU_AUDIT_HASHBYTES) != 0)
		return broken(w, it->seq,
		              "previous-hash link broken (entry replaced, moved "
		              "or one before it removed)");
	if (it->len)
		crypto_generichash(h, CU_AUDIT_HASHBYTES, in, it->len, NULL, 0);
	else
		memcpy(h, it->own, CU_AUDIT_HASHBYTES);
	if (memcmp(h, it->hash, CU_AUDIT_HASHBYTES) != 0)
		return broken(w, it->seq, "hash mismatch (entry altered)");
	if (it->kind == ITEM_LINK_BAD)
		return broken(w, it->seq, "link between chains malformed");
	if (it->kind == ITEM_LINK && !link_holds(w, it))
		return broken(w, it->seq,
		              "link between chains disagrees with the other chains' heads (an "
		              "entry of another chain removed, added or moved)");
	st->seq = it->seq;
	memcpy(st->hash, h, CU_AUDIT_HASHBYTES);
	w->next++;
	w->report->checked++;
	return 0;
}

static void check_block(struct walk *w, const struct block *b)
{
	size_t off = 0;

	while (off < b->used) {
		const struct item *it = (const struct item *)(const void *)(b->buf + off);

		if (check_item(w, it, b->buf + off + ITEM_BYTES))
			return;
		off += ITEM_BYTES + pad8(it->len);
	}
}

static void *checker(void *arg)
{
	struct walk *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		struct block *b;

		while (!w->nready && !w->done)
			pthread_cond_wait(&w->ready_cv, &w->lock);
		if (!w->nready)
			break;
		b = &w->blocks[w->tail % NBLOCKS];
		pthread_mutex_unlock(&w->lock);
		check_block(w, b);
		pthread_mutex_lock(&w->lock);
		w->tail++;
		w->nready--;
		w->checked = w->report->checked;
		w->stop = w->broken;
		pthread_cond_signal(&w->free_cv);
		if (w->stop)
			break;
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static cu_result walk_start(struct walk *w)
{
	w->names = calloc(CU_AUDIT_CHAINS_MAX, sizeof(w->names[0]));
	w->states = calloc(CU_AUDIT_CHAINS_MAX, sizeof(w->states[0]));
	w->scratch = calloc(CU_AUDIT_CHAINS_MAX, sizeof(w->scratch[0]));
	if (!w->names || !w->states || !w->scratch)
		return CU_ERR_NOMEM;
	for (int i = 0; i < NBLOCKS; i++) {
		w->blocks[i].buf = malloc(BLOCK_BYTES);
		if (!w->blocks[i].buf)
			return CU_ERR_NOMEM;
	}
	w->fill = &w->blocks[0];
	if (pthread_mutex_init(&w->lock, NULL))
		return CU_OK;
	if (pthread_cond_init(&w->ready_cv, NULL)) {
		pthread_mutex_destroy(&w->lock);
		return CU_OK;
	}
	if (pthread_cond_init(&w->free_cv, NULL)) {
		pthread_cond_destroy(&w->ready_cv);
		pthread_mutex_destroy(&w->lock);
		return CU_OK;
	}
	w->threaded = pthread_create(&w->thread, NULL, checker, w) == 0;
	if (!w->threaded) {
		pthread_cond_destroy(&w->free_cv);
		pthread_cond_destroy(&w->ready_cv);
		pthread_mutex_destroy(&w->lock);
	}
	return CU_OK;
}

/*
 * Hands the filled block to the checker and takes a free one (or, without a
 * thread, checks it here).  Returns non-zero once the chain is known broken.
 */
static int publish(struct walk *w)
{
	int stop;

	if (!w->threaded) {
		check_block(w, w->fill);
		w->fill->used = 0;
		w->checked = w->report->checked;
		return w->broken;
	}
	pthread_mutex_lock(&w->lock);
	w->head++;
	w->nready++;
	pthread_cond_signal(&w->ready_cv);
	while (w->nready == NBLOCKS && !w->stop)
		pthread_cond_wait(&w->free_cv, &w->lock);
	stop = w->stop;
	if (!stop) {
		w->fill = &w->blocks[w->head % NBLOCKS];
		w->fill->used = 0;
	}
	pthread_mutex_unlock(&w->lock);
	return stop;
}

/* The count checked so far, for progress. */
static uint64_t checked_so_far(struct walk *w)
{
	uint64_t n;

	if (!w->threaded)
		return w->checked;
	pthread_mutex_lock(&w->lock);
	n = w->checked;
	pthread_mutex_unlock(&w->lock);
	return n;
}

/* The index of e's chain in w->names, met now if new; sets it->kind when it cannot be one. */
static void chain_index(struct walk *w, const cu_audit_entry *e, struct item *it)
{
	const char *chain = e->chain ? e->chain : CU_AUDIT_CHAIN_MAIN;

	it->kind = ITEM_ENTRY;
	it->chain = 0;
	if (w->nnames && !strcmp(w->names[w->last_chain], chain)) {
		it->chain = w->last_chain;
		return;
	}
	for (uint32_t i = 0; i < w->nnames; i++)
		if (!strcmp(w->names[i], chain)) {
			it->chain = w->last_chain = i;
			return;
		}
	if (!chain_form(chain)) {
		it->kind = ITEM_CHAIN_BAD;
		return;
	}
	if (w->nnames == CU_AUDIT_CHAINS_MAX) {
		it->kind = ITEM_CHAINS_LIMIT;
		return;
	}
	snprintf(w->names[w->nnames], sizeof(w->names[0]), "%s", chain);
	it->chain = w->last_chain = w->nnames++;
}

/* The scan's callback: lays e out in the block being filled. */
static int lay_out(void *ud, const cu_audit_entry *e)
{
	struct walk *w = ud;
	const char *t[NTEXTS];
	size_t len[NTEXTS];
	size_t total = measure(e, t, len);
	size_t need = ITEM_BYTES + (total <= BLOCK_BYTES - ITEM_BYTES ? pad8(total) : 0);
	struct item *it;

	if (w->fill->used + need > BLOCK_BYTES && publish(w))
		return 1;
	if (e->seq <= w->index_mark && e->member[0]) {
		w->index_n++;
		w->index_sum += index_term(w->index_key, e->member, e->seq);
	}
	it = (struct item *)(void *)(w->fill->buf + w->fill->used);
	it->seq = e->seq;
	chain_index(w, e, it);
	if (it->kind == ITEM_ENTRY && !strcmp(e->action, CU_AUDIT_LINK_ACTION)) {
		size_t n = 0;

		it->kind = parse_link(e->reason, &n, it->link) && n <= CU_AUDIT_CHAINS_MAX
		               ? ITEM_LINK
		               : ITEM_LINK_BAD;
		it->link_n = (uint32_t)n;
	}
	memcpy(it->prev, e->prev, CU_AUDIT_HASHBYTES);
	memcpy(it->hash, e->hash, CU_AUDIT_HASHBYTES);
	if (need == ITEM_BYTES) {
		it->len = 0;
		entry_hash(e, it->own);
	} else {
		it->len = (uint32_t)total;
		encode(e, t, len, w->fill->buf + w->fill->used + ITEM_BYTES);
	}
	w->fill->used += need;
	if (w->progress && ++w->laid % PROGRESS_EVERY == 0)
		w->progress(w->ud, checked_so_far(w), w->total);
	return 0;
}

/* After the scan: the last block to the checker, and the checker done. */
static void walk_finish(struct walk *w)
{
	if (!w->threaded) {
		if (w->fill->used && !w->broken)
			check_block(w, w->fill);
		return;
	}
	pthread_mutex_lock(&w->lock);
	if (w->fill->used && !w->stop) {
		w->head++;
		w->nready++;
	}
	w->done = true;
	pthread_cond_signal(&w->ready_cv);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->free_cv);
	pthread_cond_destroy(&w->ready_cv);
	pthread_mutex_destroy(&w->lock);
	w->threaded = false;
}

static void walk_release(struct walk *w)
{
	free(w->names);
	free(w->states);
	free(w->scratch);
	w->names = NULL;
	w->states = NULL;
	w->scratch = NULL;
	for (int i = 0; i < NBLOCKS; i++) {
		free(w->blocks[i].buf);
		w->blocks[i].buf = NULL;
	}
}

/* Says the chain's name before `what` when it is not the main chain. */
static void chain_broken(struct walk *w, const char *chain, uint64_t seq, const char *what)
{
	char line[CU_AUDIT_WHAT_BYTES];

	if (on_main(chain)) {
		broken(w, seq, what);
		return;
	}
	snprintf(line, sizeof(line), "chain %s: %s", chain, what);
	broken(w, seq, line);
}

/*
 * After an intact walk of 1..last: does each chain end where its writer's
 * recorded head says?  `st` is the chain's state as walked (seq 0: no
 * entries met).
 */
static cu_result check_chain_head(struct walk *w, cu_store *store, const char *chain,
                                  const struct chain_state *st, bool single)
{
	cu_audit_report *r = w->report;
	unsigned char head_hash[CU_AUDIT_HASHBYTES];
	char key[HEAD_KEY_MAX], what[CU_AUDIT_WHAT_BYTES];
	uint64_t last = w->next - 1, own = st->seq, head_seq = 0;
	bool found = false, valid = false;
	cu_result rc;

	head_key_of(chain, key);
	rc = read_head(store, key, &found, &valid, &head_seq, head_hash);
	if (rc)
		return rc;
	if (!found) {
		if (own != 0)
			chain_broken(w, chain, last + 1,
			             "recorded audit head missing: entries may have been "
			             "cut from the end");
		return CU_OK;
	}
	if (!valid) {
		chain_broken(w, chain, last + 1, "recorded audit head malformed");
		return CU_OK;
	}
	if (head_seq > last) {
		if (head_seq == last + 1)
			snprintf(what, sizeof(what), "entry %" PRIu64 " missing (cut from the end)",
			         last + 1);
		else
			snprintf(what, sizeof(what),
			         "entries %" PRIu64 "..%" PRIu64 " missing (cut from the end)",
			         last + 1, head_seq);
		chain_broken(w, chain, last + 1, what);
	} else if (head_seq > own) {
		/* The entry the head names is there but is not this chain's. */
		snprintf(what, sizeof(what),
		         "recorded head %" PRIu64 " is not the chain's last entry (%" PRIu64 ")",
		         head_seq, own);
		chain_broken(w, chain, head_seq, what);
	} else if (head_seq < own) {
		/* Entries past the head were not written by the chain's writer. */
		snprintf(what, sizeof(what),
		         "entries after the recorded head %" PRIu64 " (added behind the writer)",
		         head_seq);
		chain_broken(w, chain, head_seq + 1, what);
		if (single)
			r->checked = head_seq;
	} else if (memcmp(head_hash, st->hash, CU_AUDIT_HASHBYTES) != 0) {
		snprintf(what, sizeof(what), "entry %" PRIu64 " differs from the recorded head",
		         own);
		chain_broken(w, chain, own, what);
		if (single)
			r->checked = own - 1;
	}
	return CU_OK;
}

/* A recorded head of a chain the walk never met: its entries are all gone. */
struct unmet {
	struct walk *w;
	cu_store *store;
	cu_result rc;
};

static int unmet_head(void *ud, const char *key, const char *val)
{
	static const struct chain_state none;
	struct unmet *u = ud;
	const char *chain = chain_of_key(key);

	(void)val;
	if (!chain)
		return 0;
	for (uint32_t i = 0; i < u->w->nnames; i++)
		if (!strcmp(u->w->names[i], chain))
			return 0;
	u->rc = check_chain_head(u->w, u->store, chain, &none, u->w->nnames == 0);
	return u->rc || u->w->broken;
}

static cu_result check_head(struct walk *w, cu_store *store)
{
	static const struct chain_state none;
	struct unmet u = {.w = w, .store = store};
	uint64_t last = w->next - 1;
	cu_result rc = CU_OK;

	/* The main chain first: a store's only chain for most of its life. */
	if (!w->nnames)
		rc = check_chain_head(w, store, CU_AUDIT_CHAIN_MAIN, &none, true);
	for (uint32_t i = 0; !rc && !w->broken && i < w->nnames; i++)
		rc = check_chain_head(w, store, w->names[i], &w->states[i], w->nnames == 1);
	if (!rc && !w->broken)
		rc = cu_store_meta_scan(store, HEAD_KEY, unmet_head, &u);
	if (!rc)
		rc = u.rc;
	if (!rc && !w->broken && w->total != last) {
		/* Seq 1..last are all there, so the extra rows sit below 1. */
		broken(w, 1, "rows outside the chain (seq below 1)");
		w->report->checked = 0;
	}
	return rc;
}

/*
 * The per-member index (store.h: cu_store_audit_index) must agree with the
 * entries up to its mark: an index row deleted would hide a read from the
 * member's access log and export, one added would show a read that never
 * was, a mark past the last entry would hide the next entries.  Runs after
 * the chain is found whole, so the entries themselves can be trusted.
 */
struct index_sum {
	const unsigned char *key;
	uint64_t n, sum;
};

static int add_index_row(void *ud, const char *member, uint64_t seq)
{
	struct index_sum *x = ud;

	/* Rows about no one are never looked up: they can hide nothing. */
	if (member[0]) {
		x->n++;
		x->sum += index_term(x->key, member, seq);
	}
	return 0;
}

static cu_result check_index(struct walk *w, cu_store *store)
{
	cu_audit_report *r = w->report;
	struct index_sum x = {.key = w->index_key};
	cu_audit_index_check c;
	uint64_t last = w->next - 1;
	cu_result rc;

	if (w->index_mark > last) {
		w->broken = true;
		r->broken_seq = last + 1;
		snprintf(r->what, sizeof(r->what),
		         "per-member index marked up to %" PRIu64 ", past the last entry",
		         w->index_mark);
		return CU_OK;
	}
	/* One pass over the index's rows; the entries were summed during the walk. */
	rc = cu_store_audit_index_scan(store, w->index_mark, add_index_row, &x);
	if (rc || (x.n == w->index_n && x.sum == w->index_sum))
		return rc;
	/* They differ: look each side up in the other to name where. */
	rc = cu_store_audit_index_check(store, &c);
	if (rc)
		return rc;
	w->broken = true;
	if (c.missing) {
		r->broken_seq = c.first_missing;
		snprintf(r->what, sizeof(r->what),
		         "%" PRIu64 " entries missing from the per-member index (hidden from"
		         " members' access logs), the first %" PRIu64,
		         c.missing, c.first_missing);
	} else if (c.extra) {
		r->broken_seq = c.first_extra;
		snprintf(r->what, sizeof(r->what),
		         "%" PRIu64
		         " per-member index rows name no such entry, the first at %" PRIu64,
		         c.extra, c.first_extra);
	} else {
		r->broken_seq = last + 1;
		snprintf(r->what, sizeof(r->what), "per-member index disagrees with the entries");
	}
	return CU_OK;
}

cu_result cu_audit_verify(cu_store *store, cu_audit_report *report, cu_audit_progress_fn progress,
                          void *ud)
{
	cu_audit_report local;
	struct walk w;
	bool snapshot = false;
	cu_result rc;

	if (!report)
		report = &local;
	memset(report, 0, sizeof(*report));
	if (!store)
		return CU_ERR_INVALID_ARGUMENT;
	if (sodium_init() < 0)
		return CU_ERR_CRYPTO;
	memset(&w, 0, sizeof(w));
	w.next = 1;
	w.report = report;
	w.progress = progress;
	w.ud = ud;
	/*
	 * One consistent view for the count, the walk and the head: otherwise a
	 * writer committing mid-walk would look like a cut or a forged tail.
	 * Inside the caller's transaction or snapshot that view is already given.
	 */
	rc = cu_store_view_begin(store, &snapshot);
	if (rc)
		return rc;
	rc = cu_store_audit_count(store, &w.total);
	if (!rc)
		rc = cu_store_audit_mark(store, &w.index_mark);
	randombytes_buf(w.index_key, sizeof(w.index_key));
	if (!rc)
		rc = walk_start(&w);
	if (!rc) {
		rc = cu_store_audit_scan(store, 1, NULL, lay_out, &w);
		walk_finish(&w);
	}
	report->chains = w.nnames;
	if (!rc && !w.broken)
		rc = check_head(&w, store);
	if (!rc && !w.broken)
		rc = check_index(&w, store);
	walk_release(&w);
	if (snapshot)
		cu_store_snapshot_end(store);
	if (rc)
		return rc;
	if (progress)
		progress(ud, report->checked, w.total);
	return w.broken ? CU_ERR_AUDIT_BROKEN : CU_OK;
}
