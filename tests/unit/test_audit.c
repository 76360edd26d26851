/*
 * test_audit.c — the hash chain (audit.h): appending, transactions, and
 * that every kind of tampering is caught at the right entry.
 *
 * Tampering goes through a raw connection of its own after dropping the
 * append-only triggers, as an attacker with the database would: the same
 * statements on SQLite and on PostgreSQL (cu_test_store_sql).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "store/store.h"
#include "support.h"

#define N 1000

struct fx {
	char dir[256];
	char url[800]; /* the store: sqlite:DIR/store.db, or a schema of the test database */
	cu_store *s;
	cu_audit *a;
	cu_vault *v;      /* checkpoint tests only */
	char ckfile[300]; /* the checkpoint file "next to the database" */
};

/* The test directories are flat: the database and its -wal and -shm. */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[512];

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}
/* Whether the file at path holds needle. */
static bool cu_test_file_has(const char *path, const char *needle)
{
	char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return strstr(buf, needle) != NULL;
}

static void open_store(struct fx *f)
{
	char err[256];

	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *base = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/cu-audit-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	open_store(f);
	assert_int_equal(cu_audit_open(f->s, &f->a), CU_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_audit_free(f->a);
	cu_store_close(f->s);
	cu_vault_free(f->v);
	cu_test_store_drop(f->url);
	remove_dir(f->dir);
	free(f);
	return 0;
}

/* Appends entries first..last (by number) in one transaction and commits. */
#define MEMBER_7 "member000000000000007A"

static void append_range(struct fx *f, int first, int last)
{
	char member[32], reason[64];

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = first; i <= last; i++) {
		cu_audit_entry e = {.actor = "tok-support-1",
		                    .role = "staff",
		                    .action = "read",
		                    .purpose = "support",
		                    .fields = "name,email",
		                    .decision = i % 7 ? "allow" : "deny",
		                    .case_ref = ""};

		/* Well-formed ids (cu_vault_id_well_formed): the writer keeps only those. */
		snprintf(member, sizeof(member), "member%015dA", i % 50);
		snprintf(reason, sizeof(reason), "entry %d", i);
		e.member = member;
		e.reason = reason;
		e.time_us = 1700000000000000 + i;
		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
		assert_int_equal(e.seq, (uint64_t)i);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
}

static cu_result verify(struct fx *f, cu_audit_report *r)
{
	return cu_audit_verify(f->s, r, NULL, NULL);
}

static void assert_broken_at(struct fx *f, uint64_t seq)
{
	cu_audit_report r;

	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	if (r.broken_seq != seq)
		fail_msg("broken at %" PRIu64 " (%s), expected %" PRIu64, r.broken_seq, r.what,
		         seq);
	assert_true(strlen(r.what) > 0);
	assert_true(r.checked < seq);
}

/* Our own connection let go, and the append-only triggers of the log and its checkpoints dropped. */
static void tamper_open(struct fx *f)
{
	/* The attacker has the database to itself. */
	cu_audit_free(f->a);
	f->a = NULL;
	cu_store_close(f->s);
	f->s = NULL;
	cu_test_store_unguard(f->url, "audit");
	cu_test_store_unguard(f->url, "audit_checkpoints");
}

static void tamper(struct fx *f, const char *sql)
{
	tamper_open(f);
	cu_test_store_sql(f->url, sql);
	open_store(f);
}

/* The bytes of a column of one audit entry (hash or prev). */
static void entry_bytes(struct fx *f, const char *col, int seq, unsigned char *out)
{
	char sql[128], hex[2 * CU_AUDIT_HASHBYTES + 1];

	snprintf(sql, sizeof(sql), "SELECT hex(%s) FROM audit WHERE seq = %d", col, seq);
	cu_test_store_sql_text(f->url, sql, hex, sizeof(hex));
	assert_int_equal(
	    sodium_hex2bin(out, CU_AUDIT_HASHBYTES, hex, strlen(hex), NULL, NULL, NULL), 0);
}

static void test_append_and_verify(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;

	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 0);
	assert_int_equal(r.broken_seq, 0);

	append_range(f, 1, N);
	assert_int_equal(cu_audit_head_seq(f->a), N);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, N);
	assert_int_equal(r.broken_seq, 0);

	/* The head is recorded as "<seq>:<hex hash>" in meta. */
	{
		unsigned char hash[CU_AUDIT_HASHBYTES];
		char hex[2 * CU_AUDIT_HASHBYTES + 1], want[100], val[100];
		uint64_t seq;
		bool found;

		assert_int_equal(cu_store_audit_last(f->s, &seq, hash), CU_OK);
		sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
		snprintf(want, sizeof(want), "%d:%s", N, hex);
		assert_int_equal(cu_store_meta_get(f->s, "audit_head", val, sizeof(val), &found),
		                 CU_OK);
		assert_true(found);
		assert_string_equal(val, want);
	}

	/* The head reloads from the store and the chain continues. */
	cu_audit_free(f->a);
	assert_int_equal(cu_audit_open(f->s, &f->a), CU_OK);
	assert_int_equal(cu_audit_head_seq(f->a), N);
	append_range(f, N + 1, N + 5);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, N + 5);
}

/* The chain links: prev of entry n is the hash of entry n-1; entry 1's is zero. */
struct links {
	unsigned char prev[CU_AUDIT_HASHBYTES];
	int n;
	bool ok;
};

static int check_link(void *ud, const cu_audit_entry *e)
{
	struct links *l = ud;
	cu_audit_entry copy = *e;

	l->ok = l->ok && memcmp(e->prev, l->prev, CU_AUDIT_HASHBYTES) == 0;
	cu_audit_hash(&copy);
	l->ok = l->ok && memcmp(copy.hash, e->hash, CU_AUDIT_HASHBYTES) == 0;
	memcpy(l->prev, e->hash, CU_AUDIT_HASHBYTES);
	l->n++;
	return 0;
}

static void test_chain_links(void **state)
{
	struct fx *f = *state;
	struct links l = {.ok = true};

	append_range(f, 1, 20);
	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, check_link, &l), CU_OK);
	assert_int_equal(l.n, 20);
	assert_true(l.ok);
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The encoding is pinned: recomputed here by hand from audit.h's definition. */
static void test_hash_encoding(void **state)
{
	cu_audit_entry e = {.seq = 258,
	                    .time_us = -2,
	                    .actor = "op",
	                    .role = NULL,
	                    .action = "read",
	                    .member = "m",
	                    .purpose = "support",
	                    .fields = "name",
	                    .decision = "allow",
	                    .reason = "ok",
	                    .case_ref = "C-1"};
	const char *t[9] = {"op", "", "read", "m", "support", "name", "allow", "ok", "C-1"};
	unsigned char buf[512], want[CU_AUDIT_HASHBYTES];
	size_t n = 0;

	(void)state;
	assert_int_not_equal(sodium_init(), -1);
	for (int i = 0; i < CU_AUDIT_HASHBYTES; i++)
		e.prev[i] = (unsigned char)i;
	memcpy(buf, "cu-audit-v1", 11);
	n = 11;
	memcpy(buf + n, e.prev, 32);
	n += 32;
	put_le(buf + n, 258, 8);
	n += 8;
	put_le(buf + n, (uint64_t)(int64_t)-2, 8);
	n += 8;
	for (int i = 0; i < 9; i++) {
		size_t len = strlen(t[i]);

		put_le(buf + n, len, 4);
		n += 4;
		memcpy(buf + n, t[i], len);
		n += len;
	}
	crypto_generichash(want, sizeof(want), buf, n, NULL, 0);
	cu_audit_hash(&e);
	assert_memory_equal(e.hash, want, sizeof(want));

	/* Moving a byte between two texts changes the hash (length prefixes). */
	{
		cu_audit_entry g = e;

		g.reason = "o";
		g.case_ref = "kC-1";
		cu_audit_hash(&g);
		assert_memory_not_equal(g.hash, want, sizeof(want));
	}

	/* A text too long for the fast path hashes as the same encoding. */
	{
		static char big[5000];
		crypto_generichash_state st;
		unsigned char l4[4];

		memset(big, 'x', sizeof(big) - 1);
		e.reason = big;
		cu_audit_hash(&e);
		crypto_generichash_init(&st, NULL, 0, sizeof(want));
		for (int i = 0; i < 9; i++) {
			const char *s = i == 7 ? big : t[i];

			if (i == 0)
				crypto_generichash_update(&st, buf, 11 + 32 + 16);
			put_le(l4, strlen(s), 4);
			crypto_generichash_update(&st, l4, 4);
			crypto_generichash_update(&st, (const unsigned char *)s, strlen(s));
		}
		crypto_generichash_final(&st, want, sizeof(want));
		assert_memory_equal(e.hash, want, sizeof(want));
	}
}

static void test_time_defaults_to_now(void **state)
{
	struct fx *f = *state;
	cu_audit_entry e = {.actor = "op", .action = "init", .decision = "done"};

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
	/* After 2023-01-01 and before 2100. */
	assert_true(e.time_us > 1672531200000000);
	assert_true(e.time_us < 4102444800000000);
	assert_int_equal(e.seq, 1);
}

static void test_rollback_keeps_head(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;
	cu_audit_entry e = {.actor = "op", .action = "read", .decision = "allow"};

	append_range(f, 1, 10);

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 0; i < 5; i++) {
		e.time_us = 0;
		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	}
	assert_int_equal(e.seq, 15);
	/* Pending entries do not move the committed head. */
	assert_int_equal(cu_audit_head_seq(f->a), 10);
	cu_store_rollback(f->s);
	cu_audit_rollback(f->a);
	assert_int_equal(cu_audit_head_seq(f->a), 10);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 10);

	/* The next entry continues from the committed head, not the pending one. */
	append_range(f, 11, 12);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 12);

	/* A failed append (no transaction) leaves the head where it was. */
	e.time_us = 0;
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_ERR_INTERNAL);
	append_range(f, 13, 13);
	assert_int_equal(verify(f, &r), CU_OK);

	/* So does a store write that fails inside the transaction. */
	{
		cu_audit_entry bad = {.actor = "op"};
		static char huge[70000];

		memset(huge, 'x', sizeof(huge) - 1);
		bad.reason = huge;
		assert_int_equal(cu_store_begin(f->s), CU_OK);
		assert_int_equal(cu_audit_append(f->a, f->s, &bad), CU_ERR_TOO_LARGE);
		cu_store_rollback(f->s);
		cu_audit_rollback(f->a);
	}
	append_range(f, 14, 14);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 14);
}

/* Verification inside the writer's open transaction sees its pending entries. */
/* Appends one entry per transaction until told to stop; counts its own failures. */
struct appender {
	struct fx *f;
	atomic_int stop;
	atomic_int commits;
	int failures;
};

static void *append_loop(void *arg)
{
	struct appender *ap = arg;

	while (!atomic_load(&ap->stop) && ap->commits < 20000) {
		cu_audit_entry e = {.actor = "tok-writer",
		                    .role = "service",
		                    .action = "register",
		                    .member = "member000000000000042A",
		                    .decision = "done"};

		if (cu_store_begin(ap->f->s) != CU_OK) {
			ap->failures++;
			continue;
		}
		if (cu_audit_append(ap->f->a, ap->f->s, &e) != CU_OK ||
		    cu_store_commit(ap->f->s) != CU_OK) {
			cu_store_rollback(ap->f->s);
			cu_audit_rollback(ap->f->a);
			ap->failures++;
			continue;
		}
		cu_audit_commit(ap->f->a);
		ap->commits++;
	}
	return NULL;
}

/*
 * Opening the chain while another connection commits (a command run beside
 * a serving server): the last entry and the stored head are read from one
 * state, so an open never mistakes a commit between them for a cut chain.
 */
static void test_open_beside_a_writer(void **state)
{
	struct fx *f = *state;
	struct appender ap = {.f = f};
	char err[256];
	cu_store *other;
	pthread_t th;
	int opened = 0, broken = 0;

	append_range(f, 1, 5);
	assert_int_equal(cu_store_open(f->url, &other, err, sizeof(err)), CU_OK);
	atomic_init(&ap.stop, 0);
	atomic_init(&ap.commits, 0);
	assert_int_equal(pthread_create(&th, NULL, append_loop, &ap), 0);
	/* At least 3000 opens, and opens while some commits land, however the threads are run. */
	while ((opened < 3000 || atomic_load(&ap.commits) < 10) && opened < 200000 &&
	       atomic_load(&ap.commits) < 20000) {
		cu_audit *a = NULL;

		/* Asserted after the writer stops: cmocka's failures must come from one thread. */
		broken += cu_audit_open(other, &a) != CU_OK;
		cu_audit_free(a);
		opened++;
	}
	atomic_store(&ap.stop, 1);
	pthread_join(th, NULL);
	assert_int_equal(broken, 0);
	assert_int_equal(ap.failures, 0);
	assert_true(ap.commits > 0);
	cu_store_close(other);
}

static void test_verify_inside_transaction(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;
	cu_audit_entry e = {.actor = "op", .action = "read", .decision = "allow"};

	append_range(f, 1, 5);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 6);
	cu_store_rollback(f->s);
	cu_audit_rollback(f->a);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 5);
}

static void test_tamper_each_column(void **state)
{
	struct fx *f = *state;
	static const char *const edits[] = {
	    "UPDATE audit SET time_us = time_us + 1 WHERE seq = 500",
	    "UPDATE audit SET actor = 'someone-else' WHERE seq = 500",
	    "UPDATE audit SET role = 'officer' WHERE seq = 500",
	    "UPDATE audit SET action = 'find' WHERE seq = 500",
	    "UPDATE audit SET member = 'member-9' WHERE seq = 500",
	    "UPDATE audit SET purpose = 'research' WHERE seq = 500",
	    "UPDATE audit SET fields = 'name' WHERE seq = 500",
	    "UPDATE audit SET decision = 'deny' WHERE seq = 500",
	    "UPDATE audit SET reason = '' WHERE seq = 500",
	    "UPDATE audit SET case_ref = 'C-9' WHERE seq = 500",
	    "UPDATE audit SET prev = zeroblob(32) WHERE seq = 500",
	    "UPDATE audit SET hash = zeroblob(32) WHERE seq = 500",
	    "UPDATE audit SET hash = substr(hash, 1, 31) WHERE seq = 500",
	};

	append_range(f, 1, N);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		/* Each edit on a pristine chain: do it, check, undo. */
		tamper_open(f);
		cu_test_store_sql(f->url,
		                  "CREATE TABLE keep AS SELECT * FROM audit WHERE seq = 500");
		assert_int_equal(cu_test_store_sql(f->url, edits[i]), 1);
		open_store(f);
		assert_broken_at(f, 500);
		{
			cu_audit_report r;

			assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
			assert_int_equal(r.checked, 499);
		}
		tamper(f, "DELETE FROM audit WHERE seq = 500;"
		          "INSERT INTO audit SELECT * FROM keep;"
		          "DROP TABLE keep;");
		{
			cu_audit_report r;

			assert_int_equal(verify(f, &r), CU_OK);
			assert_int_equal(r.checked, N);
		}
	}
}

static void test_tamper_delete_middle(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;

	append_range(f, 1, N);
	tamper(f, "DELETE FROM audit WHERE seq = 500");
	assert_broken_at(f, 500);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(r.what, "500"));
	assert_int_equal(r.checked, 499);
}

static void test_tamper_delete_range(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, N);
	tamper(f, "DELETE FROM audit WHERE seq BETWEEN 10 AND 20");
	assert_broken_at(f, 10);
}

static void test_tamper_delete_first(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, N);
	tamper(f, "DELETE FROM audit WHERE seq = 1");
	assert_broken_at(f, 1);
}

static void test_tamper_cut_tail(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;

	append_range(f, 1, N);
	tamper(f, "DELETE FROM audit WHERE seq = 1000");
	assert_broken_at(f, 1000);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.checked, 999);
	/* The writer refuses to carry on from a cut chain (it would hide the cut). */
	assert_int_equal(cu_audit_open(f->s, &f->a), CU_ERR_AUDIT_BROKEN);
	assert_null(f->a);

	tamper(f, "DELETE FROM audit WHERE seq >= 990");
	assert_broken_at(f, 990);

	/* Everything gone but the head record. */
	tamper(f, "DELETE FROM audit");
	assert_broken_at(f, 1);
}

/* Cutting the tail and rewriting the head record is caught by the next entry... */
static void test_tamper_head_record(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, N);
	tamper(f, "UPDATE meta SET value = 'garbage' WHERE key = 'audit_head'");
	assert_broken_at(f, N + 1);
	tamper(f, "DELETE FROM meta WHERE key = 'audit_head'");
	assert_broken_at(f, N + 1);
}

static void test_tamper_swap(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, N);
	/* Whole rows trade places (every column but seq). */
	tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (10, 20);"
	          "UPDATE audit SET (time_us, actor, role, action, member, purpose, fields,"
	          " decision, reason, case_ref, prev, hash) = (SELECT time_us, actor, role,"
	          " action, member, purpose, fields, decision, reason, case_ref, prev, hash"
	          " FROM t WHERE t.seq = 30 - audit.seq) WHERE seq IN (10, 20);");
	assert_broken_at(f, 10);
}

static void test_tamper_swap_content(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, N);
	/* Only the texts trade places; the hashes stay put. */
	tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE seq IN (700, 701);"
	          "UPDATE audit SET (member, reason) = (SELECT member, reason FROM t"
	          " WHERE t.seq = 1401 - audit.seq) WHERE seq IN (700, 701);");
	assert_broken_at(f, 700);
}

/* A forged entry computed correctly from the chain, appended behind the writer. */
static void test_tamper_forged_tail(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;
	unsigned char last[CU_AUDIT_HASHBYTES];
	uint64_t seq;
	cu_audit_entry e = {.seq = N + 1,
	                    .time_us = 1,
	                    .actor = "attacker",
	                    .role = "officer",
	                    .action = "read",
	                    .member = "member-1",
	                    .purpose = "support",
	                    .fields = "name",
	                    .decision = "allow",
	                    .reason = "",
	                    .case_ref = ""};

	append_range(f, 1, N);
	assert_int_equal(cu_store_audit_last(f->s, &seq, last), CU_OK);
	memcpy(e.prev, last, sizeof(last));
	cu_audit_hash(&e);
	/* Written through the store itself, bypassing cu_audit. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_audit_append(f->s, &e), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.broken_seq, N + 1);
	assert_int_equal(r.checked, N);
}

/* A forged entry replacing a deleted one breaks the link of its successor. */
static void test_tamper_forged_middle(void **state)
{
	struct fx *f = *state;
	char sql[512], prev[2 * CU_AUDIT_HASHBYTES + 1], hash[sizeof(prev)];
	cu_audit_entry e = {.seq = 500,
	                    .time_us = 1,
	                    .actor = "attacker",
	                    .role = "officer",
	                    .action = "read",
	                    .member = "member-1",
	                    .purpose = "support",
	                    .fields = "name",
	                    .decision = "allow",
	                    .reason = "",
	                    .case_ref = ""};

	append_range(f, 1, N);
	tamper_open(f);
	entry_bytes(f, "hash", 499, e.prev);
	cu_audit_hash(&e);
	sodium_bin2hex(prev, sizeof(prev), e.prev, CU_AUDIT_HASHBYTES);
	sodium_bin2hex(hash, sizeof(hash), e.hash, CU_AUDIT_HASHBYTES);
	snprintf(sql, sizeof(sql),
	         "DELETE FROM audit WHERE seq = 500;"
	         "INSERT INTO audit VALUES (500, 1, 'attacker', 'officer', 'read', 'member-1',"
	         " 'support', 'name', 'allow', '', '', unhex('%s'), unhex('%s'), 'main')",
	         prev, hash);
	assert_int_equal(cu_test_store_sql(f->url, sql), 1);
	open_store(f);
	/* 500 itself is self-consistent; the chain cannot see through it until 501. */
	assert_broken_at(f, 501);
}

/* Rows below seq 1 sit outside the chain but are still caught. */
static void test_tamper_forged_seq_zero(void **state)
{
	struct fx *f = *state;

	append_range(f, 1, 10);
	tamper(f, "INSERT INTO audit VALUES (0, 1, 'a', 'b', 'c', '', '', '', 'allow', '', '',"
	          " zeroblob(32), zeroblob(32), 'main')");
	assert_broken_at(f, 1);
}

/* The last entry re-hashed after an edit: the chain is consistent, the head is not. */
static void test_tamper_rehashed_last(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;
	unsigned char last[CU_AUDIT_HASHBYTES];
	uint64_t seq;
	char sql[512], hash[2 * CU_AUDIT_HASHBYTES + 1];
	cu_audit_entry e = {.seq = N,
	                    .time_us = 1,
	                    .actor = "attacker",
	                    .role = "staff",
	                    .action = "read",
	                    .member = "",
	                    .purpose = "",
	                    .fields = "",
	                    .decision = "allow",
	                    .reason = "",
	                    .case_ref = ""};

	append_range(f, 1, N);
	tamper_open(f);
	entry_bytes(f, "prev", N, e.prev);
	cu_audit_hash(&e);
	sodium_bin2hex(hash, sizeof(hash), e.hash, CU_AUDIT_HASHBYTES);
	snprintf(sql, sizeof(sql),
	         "UPDATE audit SET time_us = 1, actor = 'attacker', member = '', purpose = '',"
	         " fields = '', reason = '', hash = unhex('%s') WHERE seq = %d",
	         hash, N);
	assert_int_equal(cu_test_store_sql(f->url, sql), 1);
	open_store(f);
	assert_int_equal(cu_store_audit_last(f->s, &seq, last), CU_OK);
	assert_memory_equal(last, e.hash, sizeof(last));
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.broken_seq, N);
	assert_int_equal(r.checked, N - 1);
}

static void test_triggers_refuse(void **state)
{
	struct fx *f = *state;
	char err[512];
	cu_audit_report r;

	append_range(f, 1, 3);
	assert_false(cu_test_store_sql_try(f->url, "UPDATE audit SET actor = 'x' WHERE seq = 2",
	                                   NULL, err, sizeof(err)));
	assert_non_null(strstr(err, "append-only"));
	assert_false(cu_test_store_sql_try(f->url, "DELETE FROM audit WHERE seq = 3", NULL, err,
	                                   sizeof(err)));
	assert_non_null(strstr(err, "append-only"));
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 3);
}

struct progress {
	int calls;
	uint64_t last_done, total;
	bool monotonic;
};

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct progress *p = ud;

	p->monotonic = p->monotonic && done >= p->last_done;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

static void test_progress(void **state)
{
	struct fx *f = *state;
	struct progress p = {.monotonic = true};
	cu_audit_report r;

	append_range(f, 1, 70000);
	assert_int_equal(cu_audit_verify(f->s, &r, on_progress, &p), CU_OK);
	assert_int_equal(r.checked, 70000);
	assert_true(p.calls >= 2); /* at 65536 and at the end */
	assert_true(p.monotonic);
	assert_int_equal(p.total, 70000);
	assert_int_equal(p.last_done, 70000);
}

/*
 * Verification checks a long chain in blocks, on a second thread: a break far
 * into the chain is found, and with two breaks the first is the one named.
 */
static void test_tamper_long_chain(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;

	append_range(f, 1, 20000);
	tamper(f, "UPDATE audit SET actor = 'someone-else' WHERE seq = 17001");
	assert_broken_at(f, 17001);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.checked, 17000);
	tamper(f, "UPDATE audit SET reason = 'changed' WHERE seq = 3");
	assert_broken_at(f, 3);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.checked, 2);
}

/* Entries larger than a verification block are checked too (hashed whole). */
static void test_large_entries(void **state)
{
	struct fx *f = *state;
	enum { BIG = 65535 };
	char *big = malloc(BIG + 1);
	cu_audit_report r;

	assert_non_null(big);
	memset(big, 'x', BIG);
	big[BIG] = '\0';
	append_range(f, 1, 10);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 11; i <= 13; i++) {
		/* Five texts at the bound: over 300 KiB to hash. */
		cu_audit_entry e = {.actor = big,
		                    .role = "staff",
		                    .action = big,
		                    .member = "",
		                    .purpose = big,
		                    .fields = big,
		                    .decision = "allow",
		                    .reason = big,
		                    .case_ref = "",
		                    .time_us = 1};

		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
		assert_int_equal(e.seq, (uint64_t)i);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
	free(big);
	append_range(f, 14, 20);
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 20);
	tamper(f, "UPDATE audit SET reason = 'short' WHERE seq = 12");
	assert_broken_at(f, 12);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.checked, 11);
}

/* By-member reads of the log (a member's access history) use the same rows. */
struct seqs {
	uint64_t seq[8];
	int n;
	bool other_member;
};

static int collect_member(void *ud, const cu_audit_entry *e)
{
	struct seqs *c = ud;

	if (c->n < 8)
		c->seq[c->n] = e->seq;
	c->n++;
	c->other_member = c->other_member || strcmp(e->member, MEMBER_7) != 0;
	return 0;
}

static void test_scan_by_member(void **state)
{
	struct fx *f = *state;
	struct seqs c = {.n = 0};

	append_range(f, 1, 200);
	/* member-7 appears at 7, 57, 107, 157: only those, in order. */
	assert_int_equal(cu_store_audit_scan(f->s, 1, MEMBER_7, collect_member, &c), CU_OK);
	assert_int_equal(c.n, 4);
	assert_false(c.other_member);
	assert_int_equal(c.seq[0], 7);
	assert_int_equal(c.seq[1], 57);
	assert_int_equal(c.seq[2], 107);
	assert_int_equal(c.seq[3], 157);
	memset(&c, 0, sizeof(c));
	assert_int_equal(cu_store_audit_scan(f->s, 100, MEMBER_7, collect_member, &c), CU_OK);
	assert_int_equal(c.n, 2);
}


/* ---- signed checkpoints (audit/checkpoint.h) ------------------------------------ */

#define KEY1 "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static int setup_ck(void **state)
{
	struct fx *f;
	char err[128];

	setup(state);
	f = *state;
	assert_int_equal(cu_vault_open_text(KEY1, &f->v, err, sizeof(err)), CU_OK);
	snprintf(f->ckfile, sizeof(f->ckfile), "%s/audit.checkpoint", f->dir);
	return 0;
}

/* Signs the head into the store and the file; asserts it was signed. */
static void save(struct fx *f)
{
	char err[512] = "";
	bool written = false;

	if (cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, NULL, &written, err,
	                             sizeof(err)) != CU_OK)
		fail_msg("save: %s", err);
	assert_true(written);
}

struct findings {
	int n, bad;
	cu_audit_checkpoint_finding first_bad_file, first_bad_store;
	bool file_bad, store_bad;
};

static void on_finding(void *ud, const cu_audit_checkpoint_finding *fd)
{
	struct findings *c = ud;

	c->n++;
	if (fd->status == CU_AUDIT_CHECKPOINT_GOOD)
		return;
	c->bad++;
	if (strcmp(fd->source, "store") == 0) {
		if (!c->store_bad)
			c->first_bad_store = *fd;
		c->store_bad = true;
	} else if (!c->file_bad) {
		c->first_bad_file = *fd;
		c->file_bad = true;
	}
}

static cu_result verify_ck(struct fx *f, const char *given, cu_audit_verify_request *req,
                           struct findings *c)
{
	memset(req, 0, sizeof(*req));
	memset(c, 0, sizeof(*c));
	req->vault = f->v;
	req->own_file = f->ckfile;
	req->given_file = given;
	req->on_finding = on_finding;
	req->ud = c;
	return cu_audit_verify_checkpoints(f->s, req);
}

/* Cuts the chain after `keep` and rewrites the meta head to the new last entry. */
/*
 * An attacker who rewrites the head also makes the per-member index agree
 * with the rows left (else audit verify sees the index's mark past the end).
 */
#define REINDEX                                                                                    \
	"DELETE FROM audit_member WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit);"          \
	"UPDATE meta SET value = (SELECT coalesce(max(seq), 0) FROM audit)"                        \
	" WHERE key = 'audit_member_indexed';"

static void cut_and_rewrite_head(struct fx *f, int keep, bool checkpoints_too)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "DELETE FROM audit WHERE seq > %d;"
	         "UPDATE meta SET value = (SELECT seq || ':' || lower(hex(hash)) FROM audit"
	         " WHERE seq = %d) WHERE key = 'audit_head';" REINDEX "%s",
	         keep, keep,
	         checkpoints_too ? "DELETE FROM audit_checkpoints WHERE seq > (SELECT max(seq)"
	                           " FROM audit);"
	                         : "");
	tamper(f, sql);
}

static void test_checkpoint_line_roundtrip_and_strict(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "", "cu-audit-checkpoint-v2 seq=1",
	    /* Each below is the good line with one change, built in the loop. */
	};
	cu_audit_checkpoint cp = {.seq = 1234, .time_us = 1796516085511493}, back;
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX], copy[CU_AUDIT_CHECKPOINT_LINE_MAX + 8];
	size_t len;

	for (int i = 0; i < CU_AUDIT_HASHBYTES; i++)
		cp.head[i] = (unsigned char)(i * 7);
	assert_int_equal(cu_audit_checkpoint_sign(f->v, &cp), CU_OK);
	assert_int_equal(cp.key_id, 1);
	cu_audit_checkpoint_format(&cp, line);
	assert_non_null(strstr(line, " time=2026-12-06T00:14:45.511493Z "));
	assert_int_equal(cu_audit_checkpoint_parse(line, &back), CU_OK);
	assert_memory_equal(&back, &cp, sizeof(cp));
	assert_int_equal(cu_audit_checkpoint_check_signature(f->v, &back), CU_OK);
	/* A newline (or CRLF) at the end is fine; anything else is not a checkpoint. */
	snprintf(copy, sizeof(copy), "%s\r\n", line);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(cu_audit_checkpoint_parse(bad[i], &back), CU_ERR_INVALID_ARGUMENT);
	snprintf(copy, sizeof(copy), "%s x", line);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	snprintf(copy, sizeof(copy), " %s", line);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	/*
	 * Every byte flipped: either no longer a checkpoint, or one whose
	 * signature fails — never one that verifies.
	 */
	len = strlen(line);
	for (size_t i = 0; i < len; i++) {
		memcpy(copy, line, len + 1);
		copy[i] ^= 0x01;
		if (cu_audit_checkpoint_parse(copy, &back) == CU_OK &&
		    cu_audit_checkpoint_check_signature(f->v, &back) == CU_OK)
			fail_msg("byte %zu flipped ('%c' -> '%c'): still a good checkpoint", i,
			         line[i], copy[i]);
	}
	/* A key the vault does not hold: unknown, not good. */
	back = cp;
	back.key_id = 7;
	assert_int_equal(cu_audit_checkpoint_check_signature(f->v, &back), CU_ERR_NOT_FOUND);
}

/* The defect: rows cut off the end and the head in meta rewritten to match. */
static void test_checkpoint_names_cut_with_head_rewritten(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct findings c;
	cu_audit_report r;
	char want[160], shipped[400];

	append_range(f, 1, 1000);
	save(f);
	append_range(f, 1001, 1100);
	save(f);
	/* The operator ships one away: `custodian audit checkpoint --out`. */
	snprintf(shipped, sizeof(shipped), "%s/shipped.checkpoint", f->dir);
	{
		cu_audit_checkpoint cp;

		assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &cp), CU_OK);
		assert_int_equal(cu_audit_checkpoint_write_file(shipped, &cp), CU_OK);
	}
	assert_int_equal(verify_ck(f, shipped, &req, &c), CU_OK);
	assert_int_equal(req.covered_seq, 1100);
	assert_int_equal(req.bad, 0);
	assert_int_equal(req.checkpoints, 4); /* the file, the shipped one, two in the store */

	cut_and_rewrite_head(f, 1042, false);
	/* The chain alone cannot see it: this was the hole. */
	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 1042);
	/* The checkpoints do, and name the missing range. */
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.chain.broken_seq, 0);
	assert_int_equal(req.last_seq, 1042);
	assert_true(c.file_bad && c.store_bad);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_MISSING);
	assert_int_equal(c.first_bad_file.cp.seq, 1100);
	snprintf(want, sizeof(want),
	         "entries 1043-1100 missing: the log ends at 1042 but the "
	         "checkpoint signed at ");
	if (strncmp(c.first_bad_file.what, want, strlen(want)) != 0)
		fail_msg("what: %s", c.first_bad_file.what);
	assert_non_null(strstr(c.first_bad_file.what, " covers 1100"));
	assert_int_equal(c.first_bad_store.status, CU_AUDIT_CHECKPOINT_MISSING);
	assert_int_equal(req.covered_seq, 1000); /* the one before the cut still holds */

	/* Rewriting the checkpoint table too: the file still names it. */
	cut_and_rewrite_head(f, 1042, true);
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_false(c.store_bad);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_MISSING);

	/* And deleting the file: its absence is named; a shipped copy names the range. */
	assert_int_equal(unlink(f->ckfile), 0);
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_ABSENT);
	assert_int_equal(verify_ck(f, shipped, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.bad, 2);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_ABSENT);
	{
		/* The shipped file's finding follows the absent one. */
		struct findings c2;

		memset(&req, 0, sizeof(req));
		memset(&c2, 0, sizeof(c2));
		req.vault = f->v;
		req.given_file = shipped;
		req.on_finding = on_finding;
		req.ud = &c2;
		assert_int_equal(cu_audit_verify_checkpoints(f->s, &req), CU_ERR_AUDIT_BROKEN);
		assert_int_equal(c2.first_bad_file.status, CU_AUDIT_CHECKPOINT_MISSING);
		assert_non_null(strstr(c2.first_bad_file.what, "entries 1043-1100 missing"));
	}
}

/* A cut chain written on again: the entry at the checkpoint's seq is another one. */
static void test_checkpoint_cut_and_regrown_differs(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct findings c;
	char err[512] = "", before[CU_AUDIT_CHECKPOINT_LINE_MAX + 2] = "",
	     after[sizeof(before)] = "";
	FILE *fp;

	append_range(f, 1, 100);
	save(f);
	cut_and_rewrite_head(f, 50, true);
	assert_int_equal(cu_audit_open(f->s, &f->a), CU_OK); /* meta agrees: it opens */
	{
		/* Entry 51 other than it was, so every entry after it differs too. */
		cu_audit_entry e = {.actor = "someone",
		                    .role = "staff",
		                    .action = "read",
		                    .decision = "allow",
		                    .time_us = 42};

		assert_int_equal(cu_store_begin(f->s), CU_OK);
		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
		assert_int_equal(e.seq, 51);
		assert_int_equal(cu_store_commit(f->s), CU_OK);
		cu_audit_commit(f->a);
	}
	append_range(f, 52, 120);
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_DIFFERS);
	assert_non_null(strstr(c.first_bad_file.what, "entry 100 differs from the checkpoint"));
	/* Saving keeps the file as evidence: not replaced by the regrown chain's head. */
	fp = fopen(f->ckfile, "r");
	assert_non_null(fp);
	assert_non_null(fgets(before, sizeof(before), fp));
	fclose(fp);
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, NULL, NULL,
	                                          err, sizeof(err)),
	                 CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "kept as evidence"));
	fp = fopen(f->ckfile, "r");
	assert_non_null(fp);
	assert_non_null(fgets(after, sizeof(after), fp));
	fclose(fp);
	assert_string_equal(before, after);
}

/* Checkpoints altered in the store or the file are named forged (or of an unknown key). */
static void test_checkpoint_forged(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct findings c;
	cu_audit_checkpoint cp;
	cu_vault *other;
	char err[128], line[CU_AUDIT_CHECKPOINT_LINE_MAX];
	FILE *fp;

	append_range(f, 1, 100);
	save(f);
	/* Each column of the stored row changed: the signature no longer matches. */
	static const char *const edits[] = {
	    "UPDATE audit_checkpoints SET seq = seq + 1",
	    "UPDATE audit_checkpoints SET time_us = time_us + 1",
	    "UPDATE audit_checkpoints SET head = zeroblob(32)",
	    "UPDATE audit_checkpoints SET sig = zeroblob(64)",
	    "UPDATE audit_checkpoints SET sig = zeroblob(1)",
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		char sql[256];

		/* Fresh row each time: insert a copy, edit it, check, remove it. */
		snprintf(sql, sizeof(sql),
		         "CREATE TABLE keep_ck AS SELECT * FROM audit_checkpoints; %s;", edits[i]);
		tamper(f, sql);
		assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
		assert_true(c.store_bad);
		assert_int_equal(c.first_bad_store.status, CU_AUDIT_CHECKPOINT_FORGED);
		assert_non_null(strstr(c.first_bad_store.what, "bad signature"));
		assert_false(c.file_bad);
		tamper(f,
		       "DELETE FROM audit_checkpoints;"
		       "INSERT INTO audit_checkpoints SELECT * FROM keep_ck; DROP TABLE keep_ck;");
	}
	tamper(f, "UPDATE audit_checkpoints SET key_id = 9");
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(c.first_bad_store.status, CU_AUDIT_CHECKPOINT_UNKNOWN_KEY);
	tamper(f, "UPDATE audit_checkpoints SET key_id = 1");
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_OK);

	/* A file signed by somebody else's key (id 1 too): forged. */
	assert_int_equal(cu_vault_open_text("1 2f1e1d1c1b1a191817161514131211100f0e0d0c0b0a"
	                                    "09080706050403020100\n",
	                                    &other, err, sizeof(err)),
	                 CU_OK);
	assert_int_equal(cu_audit_checkpoint_make(f->s, other, &cp), CU_OK);
	cp.seq = 500; /* "the log had 500 entries" */
	assert_int_equal(cu_audit_checkpoint_sign(other, &cp), CU_OK);
	cu_vault_free(other);
	assert_int_equal(cu_audit_checkpoint_write_file(f->ckfile, &cp), CU_OK);
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_FORGED);
	/* Not a checkpoint at all: malformed, with its line. */
	fp = fopen(f->ckfile, "w");
	assert_non_null(fp);
	fputs("# kept by the operator\n\nnot a checkpoint\n", fp);
	fclose(fp);
	assert_int_equal(verify_ck(f, NULL, &req, &c), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(c.first_bad_file.status, CU_AUDIT_CHECKPOINT_MALFORMED);
	assert_int_equal(c.first_bad_file.line, 3);
	/* ... and kept: saving does not write over it. */
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, true, NULL, NULL,
	                                          line, sizeof(line)),
	                 CU_ERR_AUDIT_BROKEN);
	assert_true(cu_test_file_has(f->ckfile, "not a checkpoint"));
}

/*
 * The tampering table: each kind of change to the audit rows, with and without
 * the head in meta and the checkpoint table rewritten, on a chain of 200
 * entries checkpointed at 100 and 200.  Each is caught, at the entry named.
 */
struct tamper_case {
	const char *name;
	const char *sql;
	uint64_t chain_broken_at;        /* 0: the chain alone holds */
	cu_audit_checkpoint_status file; /* the file's finding (GOOD: none) */
	const char *what;                /* in the chain's or the file's finding */
};

#define REHEAD                                                                                     \
	"UPDATE meta SET value = (SELECT seq || ':' || lower(hex(hash)) FROM audit ORDER BY"       \
	" seq DESC LIMIT 1) WHERE key = 'audit_head';" REINDEX
#define DROP_CKPTS                                                                                 \
	"DELETE FROM audit_checkpoints WHERE seq > (SELECT coalesce(max(seq), 0) FROM audit);"

static const struct tamper_case tamper_cases[] = {
    {"edit an entry", "UPDATE audit SET reason = 'nothing here' WHERE seq = 77", 77,
     CU_AUDIT_CHECKPOINT_GOOD, "hash mismatch"},
    {"edit the entry a checkpoint covers", "UPDATE audit SET hash = zeroblob(32) WHERE seq = 200",
     200, CU_AUDIT_CHECKPOINT_DIFFERS, "hash mismatch"},
    {"delete an entry", "DELETE FROM audit WHERE seq = 150", 150, CU_AUDIT_CHECKPOINT_GOOD,
     "entry 150 missing"},
    {"delete a range", "DELETE FROM audit WHERE seq BETWEEN 120 AND 130", 120,
     CU_AUDIT_CHECKPOINT_GOOD, "entries 120..130 missing"},
    {"reorder two entries",
     "UPDATE audit SET seq = -1 WHERE seq = 60; UPDATE audit SET seq = 60 WHERE seq = 61;"
     " UPDATE audit SET seq = 61 WHERE seq = -1;",
     60, CU_AUDIT_CHECKPOINT_GOOD, "link broken"},
    {"insert an entry",
     "UPDATE audit SET seq = seq + 1000 WHERE seq > 90;"
     "UPDATE audit SET seq = seq - 999 WHERE seq > 1000;"
     "INSERT INTO audit SELECT 91, time_us, 'attacker', role, action, member, purpose,"
     " fields, decision, reason, case_ref, prev, hash, chain FROM audit WHERE seq = 90;",
     91, CU_AUDIT_CHECKPOINT_DIFFERS, "link broken"},
    {"truncate, head kept", "DELETE FROM audit WHERE seq > 180", 181, CU_AUDIT_CHECKPOINT_MISSING,
     "missing (cut from the end)"},
    {"truncate, head rewritten", "DELETE FROM audit WHERE seq > 180;" REHEAD, 0,
     CU_AUDIT_CHECKPOINT_MISSING, "entries 181-200 missing: the log ends at 180"},
    {"truncate, head and checkpoint table rewritten",
     "DELETE FROM audit WHERE seq > 180;" REHEAD DROP_CKPTS, 0, CU_AUDIT_CHECKPOINT_MISSING,
     "entries 181-200 missing: the log ends at 180"},
    {"truncate everything, head rewritten",
     "DELETE FROM audit; DELETE FROM meta WHERE key = 'audit_head';" REINDEX DROP_CKPTS, 0,
     CU_AUDIT_CHECKPOINT_MISSING, "entries 1-200 missing: the log ends at 0"},
    /* The per-member index (a member's access log and export read through it). */
    {"truncate, head rewritten, index kept",
     "DELETE FROM audit WHERE seq > 180;"
     "UPDATE meta SET value = (SELECT seq || ':' || lower(hex(hash)) FROM audit ORDER BY"
     " seq DESC LIMIT 1) WHERE key = 'audit_head';",
     181, CU_AUDIT_CHECKPOINT_MISSING, "past the last entry"},
    {"delete an index row (hide a read from its member)", "DELETE FROM audit_member WHERE seq = 42",
     42, CU_AUDIT_CHECKPOINT_GOOD, "1 entries missing from the per-member index"},
    {"move an index row to another member",
     "UPDATE audit_member SET member = 'someone-else' WHERE seq = 42", 42, CU_AUDIT_CHECKPOINT_GOOD,
     "missing from the per-member index"},
    {"add an index row", "INSERT INTO audit_member VALUES ('someone-else', 43)", 43,
     CU_AUDIT_CHECKPOINT_GOOD, "name no such entry"},
    {"index mark past the end", "UPDATE meta SET value = '500' WHERE key = 'audit_member_indexed'",
     201, CU_AUDIT_CHECKPOINT_GOOD, "past the last entry"},
};

static void test_tampering_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(tamper_cases) / sizeof(tamper_cases[0]); i++) {
		const struct tamper_case *t = &tamper_cases[i];
		struct fx *f;
		cu_audit_verify_request req;
		struct findings c;
		setup_ck((void **)&f);
		append_range(f, 1, 100);
		save(f);
		append_range(f, 101, 200);
		save(f);
		tamper(f, t->sql);
		if (verify_ck(f, NULL, &req, &c) != CU_ERR_AUDIT_BROKEN)
			fail_msg("%s: not caught", t->name);
		if (req.chain.broken_seq != t->chain_broken_at)
			fail_msg("%s: chain broken at %" PRIu64 " (%s), expected %" PRIu64, t->name,
			         req.chain.broken_seq, req.chain.what, t->chain_broken_at);
		if (t->file == CU_AUDIT_CHECKPOINT_GOOD ? c.file_bad
		                                        : c.first_bad_file.status != t->file)
			fail_msg("%s: file finding %s (%s)", t->name,
			         c.file_bad
			             ? cu_audit_checkpoint_status_name(c.first_bad_file.status)
			             : "none",
			         c.first_bad_file.what);
		if (!strstr(req.chain.what, t->what) && !strstr(c.first_bad_file.what, t->what))
			fail_msg("%s: '%s' / '%s' does not say '%s'", t->name, req.chain.what,
			         c.first_bad_file.what, t->what);
		teardown((void **)&f);
	}
}

/* Saving signs only when the chain moved, and never goes back over a newer file. */
static void test_checkpoint_save_rules(void **state)
{
	struct fx *f = *state;
	cu_audit_checkpoint first, second;
	char err[256] = "";
	bool written = true;

	/* An empty chain: a checkpoint of nothing, harmless. */
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, &first,
	                                          &written, err, sizeof(err)),
	                 CU_OK);
	assert_true(written);
	assert_int_equal(first.seq, 0);
	append_range(f, 1, 10);
	save(f);
	/* Nothing new: nothing signed. */
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, &first,
	                                          &written, err, sizeof(err)),
	                 CU_OK);
	assert_false(written);
	assert_int_equal(first.seq, 10);
	/* Another process wrote a newer one: ours (older) does not replace it. */
	append_range(f, 11, 20);
	assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &second), CU_OK);
	assert_int_equal(cu_audit_checkpoint_write_file(f->ckfile, &second), CU_OK);
	assert_int_equal(cu_audit_checkpoint_write_file(f->ckfile, &second), CU_OK);
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, true, NULL, NULL,
	                                          err, sizeof(err)),
	                 CU_OK);
	assert_true(cu_test_file_has(f->ckfile, "seq=20 "));
	/*
	 * The file deleted after checkpoints were signed: not quietly started
	 * over for whatever the log now holds (a cut would vanish with it) —
	 * only the operator's forced checkpoint starts it again.
	 */
	assert_int_equal(unlink(f->ckfile), 0);
	append_range(f, 21, 25);
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, NULL,
	                                          &written, err, sizeof(err)),
	                 CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "missing although checkpoints were signed before"));
	assert_int_equal(access(f->ckfile, F_OK), -1);
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, true, NULL, NULL,
	                                          err, sizeof(err)),
	                 CU_OK);
	assert_true(cu_test_file_has(f->ckfile, "seq=25 "));
	/* Outside a transaction only. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(
	    cu_audit_checkpoint_save(f->s, f->v, f->a, NULL, true, NULL, NULL, err, sizeof(err)),
	    CU_ERR_INTERNAL);
	cu_store_rollback(f->s);
}

/* ---- one chain per writer --------------------------------------------------- */

#define CHAIN_B "web2"

/* count entries by `a` in a transaction of their own, caught up with the other writers first. */
static void append_by(struct fx *f, cu_audit *a, int count, const char *tag)
{
	char reason[64];

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_sync(a, f->s), CU_OK);
	for (int i = 0; i < count; i++) {
		cu_audit_entry e = {.actor = "tok-support-1",
		                    .role = "staff",
		                    .action = "read",
		                    .member = MEMBER_7,
		                    .purpose = "support",
		                    .fields = "name",
		                    .decision = "allow"};

		snprintf(reason, sizeof(reason), "%s %d", tag, i);
		e.reason = reason;
		assert_int_equal(cu_audit_append(a, f->s, &e), CU_OK);
		assert_string_equal(e.chain, cu_audit_chain(a));
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(a);
}

/* The chain of every entry, in seq order, as one string ("mmbbm"). */
static int chain_letter(void *ud, const cu_audit_entry *e)
{
	char *out = ud;
	size_t n = strlen(out);

	if (n + 1 < 64) {
		out[n] = e->chain && !strcmp(e->chain, CU_AUDIT_CHAIN_MAIN) ? 'm' : e->chain[0];
		out[n + 1] = '\0';
	}
	return 0;
}

/*
 * Two writers on one store, each on its own chain: entries interleave in one
 * seq, each links to its own chain's previous entry, each chain's head is
 * its own meta key, and verify walks them all.  A second handle on a chain
 * name already in use catches up with it instead of forking it.
 */
static void test_chains_per_writer(void **state)
{
	struct fx *f = *state;
	cu_audit *b = NULL, *b2 = NULL;
	cu_audit_report r;
	char order[64] = "", head[160];
	bool found = false;

	assert_false(cu_audit_chain_valid(""));
	assert_false(cu_audit_chain_valid("Web2"));
	assert_false(cu_audit_chain_valid("web 2"));
	assert_false(cu_audit_chain_valid("a23456789012345678901234567890123"));
	assert_true(cu_audit_chain_valid("a2345678901234567890123456789012"));
	assert_int_equal(cu_audit_open_chain(f->s, "Web2", &b), CU_ERR_INVALID_ARGUMENT);
	assert_null(b);

	assert_int_equal(cu_audit_open_chain(f->s, CHAIN_B, &b), CU_OK);
	append_by(f, f->a, 2, "a");
	append_by(f, b, 3, "b");
	append_by(f, f->a, 1, "a");
	assert_int_equal(cu_audit_open_chain(f->s, CHAIN_B, &b2), CU_OK);
	append_by(f, b2, 1, "b2");
	append_by(f, b, 1, "b");
	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, chain_letter, order), CU_OK);
	assert_string_equal(order, "mmwwwmww");

	assert_int_equal(verify(f, &r), CU_OK);
	assert_int_equal(r.checked, 8);
	assert_int_equal(cu_store_meta_get(f->s, "audit_head:" CHAIN_B, head, sizeof(head), &found),
	                 CU_OK);
	assert_true(found);
	assert_true(!strncmp(head, "8:", 2));
	assert_int_equal(cu_store_meta_get(f->s, "audit_head", head, sizeof(head), &found), CU_OK);
	assert_true(!strncmp(head, "6:", 2));
	cu_audit_free(b);
	cu_audit_free(b2);

	/* The first entry of chain b links to nothing; the next to b's previous, not to seq 2. */
	{
		unsigned char prev[CU_AUDIT_HASHBYTES], hash[CU_AUDIT_HASHBYTES];
		static const unsigned char zeros[CU_AUDIT_HASHBYTES];

		entry_bytes(f, "prev", 3, prev);
		assert_memory_equal(prev, zeros, sizeof(zeros));
		entry_bytes(f, "prev", 4, prev);
		entry_bytes(f, "hash", 3, hash);
		assert_memory_equal(prev, hash, sizeof(hash));
		entry_bytes(f, "prev", 6, prev);
		entry_bytes(f, "hash", 2, hash);
		assert_memory_equal(prev, hash, sizeof(hash));
	}
}

/* What breaks a chain of another writer is named with the chain. */
static void test_chains_tampered(void **state)
{
	struct fx *f = *state;
	cu_audit *b = NULL;
	cu_audit_report r;

	assert_int_equal(cu_audit_open_chain(f->s, CHAIN_B, &b), CU_OK);
	append_by(f, f->a, 2, "a");
	append_by(f, b, 3, "b");
	append_by(f, f->a, 2, "a");
	cu_audit_free(b);

	/* An entry moved to another chain: its hash named its chain. */
	tamper(f, "UPDATE audit SET chain = 'main' WHERE seq = 4");
	assert_broken_at(f, 4);
	tamper(f, "UPDATE audit SET chain = 'web2' WHERE seq = 4");
	assert_int_equal(verify(f, &r), CU_OK);

	/* A chain name no writer can have written. */
	tamper(f, "UPDATE audit SET chain = 'WEB 2' WHERE seq = 3");
	assert_broken_at(f, 3);
	tamper(f, "UPDATE audit SET chain = 'web2' WHERE seq = 3");

	/* A chain's recorded head gone, and the head of a chain with no entries. */
	tamper(f, "DELETE FROM meta WHERE key = 'audit_head:web2'");
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(r.what, "chain web2: recorded audit head missing"));
	tamper(f, "INSERT INTO meta (key, value) VALUES ('audit_head:web2', '5:"
	          "0000000000000000000000000000000000000000000000000000000000000000')");
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(r.what, "chain web2: entry 5 differs"));
	tamper(f, "INSERT INTO meta (key, value) VALUES ('audit_head:web9', '3:"
	          "0000000000000000000000000000000000000000000000000000000000000000')");
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
}

/* One entry as the attacker below reads and rewrites it. */
struct kept {
	uint64_t seq;
	int64_t time_us;
	char chain[CU_AUDIT_CHAIN_MAX + 1], action[16], reason[128];
	unsigned char prev[CU_AUDIT_HASHBYTES], hash[CU_AUDIT_HASHBYTES];
};

struct kept_list {
	struct kept e[64];
	int n;
};

static int keep_entry(void *ud, const cu_audit_entry *e)
{
	struct kept_list *l = ud;
	struct kept *k = &l->e[l->n];

	if (l->n == 64)
		return 1;
	k->seq = e->seq;
	k->time_us = e->time_us;
	snprintf(k->chain, sizeof(k->chain), "%s", e->chain);
	snprintf(k->action, sizeof(k->action), "%s", e->action);
	snprintf(k->reason, sizeof(k->reason), "%s", e->reason);
	memcpy(k->prev, e->prev, sizeof(k->prev));
	memcpy(k->hash, e->hash, sizeof(k->hash));
	l->n++;
	return 0;
}

/*
 * The attack links defeat: whoever can write the database alters an entry
 * of chain b and hashes b's chain again from there, with b's head — every
 * hash of b agrees again, and the other chain is untouched.  The chains
 * alone cannot see it; a link in chain a after the altered entry can, and
 * the checkpoint signed over the link stops the attacker rewriting it.
 */
static void rewrite_chain_b_from(struct fx *f, uint64_t from)
{
	struct kept_list l = {.n = 0};
	unsigned char prev[CU_AUDIT_HASHBYTES] = {0};
	char sql[1024], hex[2 * CU_AUDIT_HASHBYTES + 1], phex[2 * CU_AUDIT_HASHBYTES + 1];
	uint64_t last = 0;

	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, keep_entry, &l), CU_OK);
	tamper_open(f);
	for (int i = 0; i < l.n; i++) {
		struct kept *k = &l.e[i];
		cu_audit_entry e = {.seq = k->seq,
		                    .time_us = k->time_us,
		                    .actor = "tok-support-1",
		                    .role = "staff",
		                    .action = k->action,
		                    .member = MEMBER_7,
		                    .purpose = "support",
		                    .fields = "name",
		                    .decision = "allow",
		                    .reason = k->reason,
		                    .chain = k->chain};

		if (strcmp(k->chain, CHAIN_B))
			continue;
		if (k->seq == from)
			e.reason = "nothing read";
		if (k->seq >= from) {
			memcpy(e.prev, prev, sizeof(prev));
			cu_audit_hash(&e);
			sodium_bin2hex(hex, sizeof(hex), e.hash, sizeof(e.hash));
			sodium_bin2hex(phex, sizeof(phex), e.prev, sizeof(e.prev));
			snprintf(
			    sql, sizeof(sql),
			    "UPDATE audit SET reason = '%s', prev = unhex('%s'), hash = unhex('%s')"
			    " WHERE seq = %" PRIu64,
			    e.reason, phex, hex, k->seq);
			cu_test_store_sql(f->url, sql);
			memcpy(prev, e.hash, sizeof(prev));
		} else {
			memcpy(prev, k->hash, sizeof(prev));
		}
		last = k->seq;
	}
	sodium_bin2hex(hex, sizeof(hex), prev, sizeof(prev));
	snprintf(sql, sizeof(sql),
	         "UPDATE meta SET value = '%" PRIu64 ":%s'"
	         " WHERE key = 'audit_head:" CHAIN_B "'",
	         last, hex);
	cu_test_store_sql(f->url, sql);
	open_store(f);
}

static int count_links(void *ud, const cu_audit_entry *e)
{
	if (!strcmp(e->action, CU_AUDIT_LINK_ACTION))
		++*(int *)ud;
	return 0;
}

static void test_chains_linked(void **state)
{
	struct fx *f = *state;
	cu_audit *b = NULL;
	cu_audit_report r;
	int links = 0;
	bool linked = true;

	/* One chain: nothing to link. */
	append_by(f, f->a, 2, "a");
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_link(f->a, f->s, &linked), CU_OK);
	assert_false(linked);
	cu_store_rollback(f->s);
	cu_audit_rollback(f->a);

	{
		size_t others = 9;

		assert_int_equal(cu_audit_other_chains(f->a, f->s, &others), CU_OK);
		assert_int_equal(others, 0);
		assert_int_equal(cu_audit_open_chain(f->s, CHAIN_B, &b), CU_OK);
		append_by(f, b, 3, "b"); /* 3..5 */
		assert_int_equal(cu_audit_other_chains(f->a, f->s, &others), CU_OK);
		assert_int_equal(others, 1);
		assert_int_equal(cu_audit_other_chains(b, f->s, &others), CU_OK);
		assert_int_equal(others, 1);
	}
	append_by(f, f->a, 1, "a"); /* 6 */
	save(f);                    /* the link is 7, and the checkpoint is over it */
	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, count_links, &links), CU_OK);
	assert_int_equal(links, 1);
	{
		cu_audit_checkpoint cp;
		bool found = false;

		assert_int_equal(cu_store_audit_checkpoint_last(f->s, &cp, &found), CU_OK);
		assert_true(found);
		assert_int_equal(cp.seq, 7);
	}
	/* Nothing new since: no second link, no second checkpoint. */
	assert_int_equal(
	    cu_audit_checkpoint_save(f->s, f->v, f->a, f->ckfile, false, NULL, &linked, NULL, 0),
	    CU_OK);
	assert_false(linked);
	links = 0;
	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, count_links, &links), CU_OK);
	assert_int_equal(links, 1);
	append_by(f, b, 2, "b"); /* 8..9 */
	assert_int_equal(verify(f, &r), CU_OK);
	cu_audit_free(b);

	/* b rewritten after the link: no link covers it yet (the next one will). */
	rewrite_chain_b_from(f, 8);
	assert_int_equal(verify(f, &r), CU_OK);
	/* b rewritten before the link: the link disagrees. */
	rewrite_chain_b_from(f, 4);
	assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(r.broken_seq, 7);
	assert_non_null(strstr(r.what, "link between chains disagrees"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_encoding),
	    cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_defaults_to_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_keeps_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_inside_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_beside_a_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_each_column, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_delete_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_delete_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_delete_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_cut_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_head_record, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_swap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_swap_content, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forged_tail, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forged_middle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_forged_seq_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_rehashed_last, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_triggers_refuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_progress, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_tamper_long_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_large_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_scan_by_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_line_roundtrip_and_strict, setup_ck,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_names_cut_with_head_rewritten, setup_ck,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_cut_and_regrown_differs, setup_ck,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_forged, setup_ck, teardown),
	    cmocka_unit_test(test_tampering_table),
	    cmocka_unit_test_setup_teardown(test_checkpoint_save_rules, setup_ck, teardown),
	    cmocka_unit_test_setup_teardown(test_chains_per_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chains_tampered, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chains_linked, setup_ck, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
