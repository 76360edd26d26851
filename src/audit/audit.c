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

struct cu_audit {
	uint64_t seq; /* committed head */
	unsigned char hash[CU_AUDIT_HASHBYTES];
	uint64_t pending_seq; /* head including this transaction */
	unsigned char pending_hash[CU_AUDIT_HASHBYTES];
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
 * Texts are in the order of cu_audit_entry.
 */
#define FIXED_LEN (DOMAIN_LEN + CU_AUDIT_HASHBYTES + 8 + 8)

/* The texts of e and their lengths; returns the length of the whole encoding. */
static size_t measure(const cu_audit_entry *e, const char *t[NTEXTS], size_t len[NTEXTS])
{
	size_t total = FIXED_LEN;

	texts_of(e, t);
	for (int i = 0; i < NTEXTS; i++) {
		len[i] = strlen(t[i]);
		total += 4 + len[i];
	}
	return total;
}

/* Writes the encoding's fixed part (domain, prev, seq, time) at p; returns its end. */
static unsigned char *encode_fixed(const cu_audit_entry *e, unsigned char *p)
{
	memcpy(p, DOMAIN, DOMAIN_LEN);
	p += DOMAIN_LEN;
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
/* Strict: digits, ':', exactly 64 hex digits. */
static bool parse_head(const char *s, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	uint64_t v = 0;
	const char *p = s;
	size_t binlen = 0;

	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (*p++ != ':' || strlen(p) != 2 * CU_AUDIT_HASHBYTES)
		return false;
	if (sodium_hex2bin(hash, CU_AUDIT_HASHBYTES, p, 2 * CU_AUDIT_HASHBYTES, NULL, &binlen,
	                   NULL) != 0 ||
	    binlen != CU_AUDIT_HASHBYTES)
		return false;
	*seq = v;
	return true;
}

/* The head recorded in meta; *found false when none was ever written. */
static cu_result read_head(cu_store *store, bool *found, bool *valid, uint64_t *seq,
                           unsigned char hash[CU_AUDIT_HASHBYTES])
{
	char val[HEAD_MAX + 1];
	cu_result rc;

	*valid = false;
	rc = cu_store_meta_get(store, HEAD_KEY, val, sizeof(val), found);
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

/* Reads the chain's head from the store into (seq, hash); fails closed as open does. */
static cu_result load_head(cu_store *store, uint64_t *seq, unsigned char hash[CU_AUDIT_HASHBYTES])
{
	unsigned char head_hash[CU_AUDIT_HASHBYTES];
	uint64_t head_seq = 0;
	bool found, valid, agrees, snap;
	cu_result rc;

	/*
	 * The last entry and the stored head from one committed state: read
	 * apart, another process's commit between them (a server appending while
	 * a command opens) looked like a cut chain.  A transaction is one state
	 * already.
	 */
	(void)!cu_store_view_begin(store, &snap);
	rc = cu_store_audit_last(store, seq, hash);
	if (!rc)
		rc = read_head(store, &found, &valid, &head_seq, head_hash);
	if (snap)
		cu_store_snapshot_end(store);
	if (rc)
		return rc;
	if (found)
		agrees =
		    valid && head_seq == *seq && memcmp(head_hash, hash, CU_AUDIT_HASHBYTES) == 0;
	else
		agrees = *seq == 0;
	return agrees ? CU_OK : CU_ERR_AUDIT_BROKEN;
}

cu_result cu_audit_sync(cu_audit *a, cu_store *store)
{
	unsigned char hash[CU_AUDIT_HASHBYTES];
	uint64_t seq;
	cu_result rc;

	if (!a || !store)
		return CU_ERR_INVALID_ARGUMENT;
	if (a->pending_seq != a->seq)
		return CU_ERR_INTERNAL; /* only between transactions */
	rc = cu_store_audit_last(store, &seq, hash);
	if (rc)
		return rc;
	if (seq == a->seq && !memcmp(hash, a->hash, CU_AUDIT_HASHBYTES))
		return CU_OK;
	/* Another process appended: carry on from its head, checked like at open. */
	rc = load_head(store, &seq, hash);
	if (rc)
		return rc;
	a->seq = a->pending_seq = seq;
	memcpy(a->hash, hash, CU_AUDIT_HASHBYTES);
	memcpy(a->pending_hash, hash, CU_AUDIT_HASHBYTES);
	return CU_OK;
}

cu_result cu_audit_open(cu_store *store, cu_audit **out)
{
	cu_audit *a;
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	*out = NULL;
	if (!store)
		return CU_ERR_INVALID_ARGUMENT;
	if (sodium_init() < 0)
		return CU_ERR_CRYPTO;
	a = calloc(1, sizeof(*a));
	if (!a)
		return CU_ERR_NOMEM;
	/*
	 * Fail closed: a writer that carried on from a table whose tail was cut
	 * would overwrite the meta head and so hide the cut.  The operator
	 * runs `audit verify` to see what happened.
	 */
	rc = load_head(store, &a->seq, a->hash);
	if (rc) {
		free(a);
		return rc;
	}
	a->pending_seq = a->seq;
	memcpy(a->pending_hash, a->hash, CU_AUDIT_HASHBYTES);
	*out = a;
	return CU_OK;
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
	if (a->pending_seq >= (uint64_t)INT64_MAX)
		return CU_ERR_INTERNAL;
	scrub(e);
	texts_of(e, t);
	for (int i = 0; i < NTEXTS; i++)
		if (strnlen(t[i], TEXT_MAX + 1) > TEXT_MAX)
			return CU_ERR_TOO_LARGE;
	e->seq = a->pending_seq + 1;
	if (e->time_us == 0)
		e->time_us = now_us();
	memcpy(e->prev, a->pending_hash, CU_AUDIT_HASHBYTES);
	entry_hash(e, hash);
	memcpy(e->hash, hash, CU_AUDIT_HASHBYTES);
	rc = cu_store_audit_append(store, e);
	if (rc)
		return rc;
	format_head(e->seq, hash, head);
	/* Written once at commit, in the same transaction as the entries. */
	rc = cu_store_meta_set_at_commit(store, HEAD_KEY, head);
	if (rc)
		return rc;
	a->pending_seq = e->seq;
	memcpy(a->pending_hash, hash, CU_AUDIT_HASHBYTES);
	return CU_OK;
}

void cu_audit_commit(cu_audit *a)
{
	if (!a)
		return;
	a->seq = a->pending_seq;
	memcpy(a->hash, a->pending_hash, CU_AUDIT_HASHBYTES);
}

void cu_audit_rollback(cu_audit *a)
{
	if (!a)
		return;
	a->pending_seq = a->seq;
	memcpy(a->pending_hash, a->hash, CU_AUDIT_HASHBYTES);
}

void cu_audit_mark_get(const cu_audit *a, cu_audit_mark *m)
{
	m->seq = a->pending_seq;
	memcpy(m->hash, a->pending_hash, CU_AUDIT_HASHBYTES);
}

void cu_audit_rollback_to(cu_audit *a, const cu_audit_mark *m)
{
	a->pending_seq = m->seq;
	memcpy(a->pending_hash, m->hash, CU_AUDIT_HASHBYTES);
}

uint64_t cu_audit_head_seq(const cu_audit *a)
{
	return a ? a->seq : 0;
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

/* One laid-out entry: this header, then `len` bytes of encoding padded to 8. */
struct item {
	uint64_t seq;
	uint32_t len;                           /* 0: too big for a block, hashed already */
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

struct walk {
	/* The checker's side (the caller's thread reads it only after the join). */
	uint64_t next;                          /* the seq expected next */
	unsigned char prev[CU_AUDIT_HASHBYTES]; /* hash of entry next-1 */
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

/* Checks one laid-out entry against the chain so far; non-zero when broken. */
static int check_item(struct walk *w, const struct item *it, const unsigned char *in)
{
	unsigned char h[CU_AUDIT_HASHBYTES];

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
	if (memcmp(it->prev, w->prev, CU_AUDIT_HASHBYTES) != 0)
		return broken(w, it->seq,
		              "previous-hash link broken (entry replaced, moved "
		              "or one before it removed)");
	if (it->len)
		crypto_generichash(h, CU_AUDIT_HASHBYTES, in, it->len, NULL, 0);
	else
		memcpy(h, it->own, CU_AUDIT_HASHBYTES);
	if (memcmp(h, it->hash, CU_AUDIT_HASHBYTES) != 0)
		return broken(w, it->seq, "hash mismatch (entry altered)");
	memcpy(w->prev, h, CU_AUDIT_HASHBYTES);
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
	for (int i = 0; i < NBLOCKS; i++) {
		free(w->blocks[i].buf);
		w->blocks[i].buf = NULL;
	}
}

/* After an intact walk of 1..last: does the table end where the head says? */
static cu_result check_head(struct walk *w, cu_store *store)
{
	cu_audit_report *r = w->report;
	unsigned char head_hash[CU_AUDIT_HASHBYTES];
	uint64_t last = w->next - 1, head_seq = 0;
	bool found = false, valid = false;
	cu_result rc;

	rc = read_head(store, &found, &valid, &head_seq, head_hash);
	if (rc)
		return rc;
	if (!found) {
		if (last != 0)
			broken(w, last + 1,
			       "recorded audit head missing: entries may have been "
			       "cut from the end");
		return CU_OK;
	}
	if (!valid) {
		broken(w, last + 1, "recorded audit head malformed");
		return CU_OK;
	}
	if (head_seq > last) {
		w->broken = true;
		r->broken_seq = last + 1;
		if (head_seq == last + 1)
			snprintf(r->what, sizeof(r->what),
			         "entry %" PRIu64 " missing (cut from the end)", last + 1);
		else
			snprintf(r->what, sizeof(r->what),
			         "entries %" PRIu64 "..%" PRIu64 " missing (cut from the end)",
			         last + 1, head_seq);
	} else if (head_seq < last) {
		/* Entries past the head were not written by the chain's writer. */
		w->broken = true;
		r->broken_seq = head_seq + 1;
		r->checked = head_seq;
		snprintf(r->what, sizeof(r->what),
		         "entries after the recorded head %" PRIu64 " (added behind the writer)",
		         head_seq);
	} else if (memcmp(head_hash, w->prev, CU_AUDIT_HASHBYTES) != 0) {
		w->broken = true;
		r->broken_seq = last;
		r->checked = last - 1;
		snprintf(r->what, sizeof(r->what),
		         "entry %" PRIu64 " differs from the recorded head", last);
	} else if (w->total != last) {
		/* Seq 1..last are all there, so the extra rows sit below 1. */
		broken(w, 1, "rows outside the chain (seq below 1)");
		r->checked = 0;
	}
	return CU_OK;
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
