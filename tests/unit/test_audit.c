/*
 * test_audit.c — the hash chain (audit.h): appending, transactions, and
 * that every kind of tampering is caught at the right entry.
 *
 * Tampering goes through a raw SQLite connection after dropping the
 * append-only triggers, as an attacker with the file would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "custodian/audit.h"
#include "custodian/store.h"

#define N 1000

struct fx {
	char dir[256];
	char path[300];
	cu_store *s;
	cu_audit *a;
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
static void open_store(struct fx *f)
{
	char url[320], err[256];

	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	assert_int_equal(cu_store_open(url, &f->s, err, sizeof(err)), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *base = getenv("TMPDIR");

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/cu-audit-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
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

/* A raw connection with the append-only triggers dropped. */
static sqlite3 *tamper_open(struct fx *f)
{
	sqlite3 *db;

	/* Let go of our own connection: the attacker has the file to itself. */
	cu_audit_free(f->a);
	f->a = NULL;
	cu_store_close(f->s);
	f->s = NULL;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
	                              "DROP TRIGGER IF EXISTS audit_no_update;"
	                              "DROP TRIGGER IF EXISTS audit_no_delete;",
	                              NULL, NULL, NULL),
	                 SQLITE_OK);
	return db;
}

static void tamper(struct fx *f, const char *sql)
{
	sqlite3 *db = tamper_open(f);
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("tampering failed: %s", msg ? msg : "?");
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	open_store(f);
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
		sqlite3 *db = tamper_open(f);

		/* Each edit on a pristine chain: do it, check, undo. */
		assert_int_equal(sqlite3_exec(db,
		                              "CREATE TABLE keep AS SELECT * FROM audit"
		                              " WHERE seq = 500",
		                              NULL, NULL, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, edits[i], NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_changes(db), 1);
		open_store(f);
		assert_broken_at(f, 500);
		{
			cu_audit_report r;

			assert_int_equal(verify(f, &r), CU_ERR_AUDIT_BROKEN);
			assert_int_equal(r.checked, 499);
		}
		cu_store_close(f->s);
		f->s = NULL;
		assert_int_equal(sqlite3_exec(db,
		                              "DELETE FROM audit WHERE seq = 500;"
		                              "INSERT INTO audit SELECT * FROM keep;"
		                              "DROP TABLE keep;",
		                              NULL, NULL, NULL),
		                 SQLITE_OK);
		assert_int_equal(sqlite3_close(db), SQLITE_OK);
		open_store(f);
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
	sqlite3 *db;
	sqlite3_stmt *st;
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
	db = tamper_open(f);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT hash FROM audit WHERE seq = 499", -1, &st, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	memcpy(e.prev, sqlite3_column_blob(st, 0), CU_AUDIT_HASHBYTES);
	sqlite3_finalize(st);
	cu_audit_hash(&e);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 500", NULL, NULL, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "INSERT INTO audit VALUES (500, 1, 'attacker',"
	                                    " 'officer', 'read', 'member-1', 'support', 'name',"
	                                    " 'allow', '', '', ?1, ?2)",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_blob(st, 1, e.prev, CU_AUDIT_HASHBYTES, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, e.hash, CU_AUDIT_HASHBYTES, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
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
	          " zeroblob(32), zeroblob(32))");
	assert_broken_at(f, 1);
}

/* The last entry re-hashed after an edit: the chain is consistent, the head is not. */
static void test_tamper_rehashed_last(void **state)
{
	struct fx *f = *state;
	cu_audit_report r;
	unsigned char last[CU_AUDIT_HASHBYTES];
	uint64_t seq;
	sqlite3 *db;
	sqlite3_stmt *st;
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
	db = tamper_open(f);
	assert_int_equal(
	    sqlite3_prepare_v2(db, "SELECT prev FROM audit WHERE seq = ?1", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_int(st, 1, N);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	memcpy(e.prev, sqlite3_column_blob(st, 0), CU_AUDIT_HASHBYTES);
	sqlite3_finalize(st);
	cu_audit_hash(&e);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "UPDATE audit SET time_us = 1, actor = 'attacker',"
	                                    " member = '', purpose = '', fields = '', reason = '',"
	                                    " hash = ?1 WHERE seq = ?2",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	sqlite3_bind_blob(st, 1, e.hash, CU_AUDIT_HASHBYTES, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, N);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
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
	sqlite3 *db;
	cu_audit_report r;

	append_range(f, 1, 3);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(db, "UPDATE audit SET actor = 'x' WHERE seq = 2", NULL, NULL, NULL) & 0xff,
	    SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	assert_int_equal(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 3", NULL, NULL, NULL) &
	                     0xff,
	                 SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	sqlite3_close(db);
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
		cu_audit_entry e = {.actor = big, .role = "staff", .action = big, .member = "",
		                    .purpose = big, .fields = big, .decision = "allow",
		                    .reason = big, .case_ref = "", .time_us = 1};

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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_encoding),
	    cmocka_unit_test_setup_teardown(test_append_and_verify, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_chain_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_time_defaults_to_now, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_keeps_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_inside_transaction, setup, teardown),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
