/*
 * test_store.c — the store contract (store.h), on SQLite and (CU_TEST_STORE=pg)
 * on PostgreSQL; the tests of SQLite's files and pragmas run on SQLite only.
 *
 * Standalone: needs only the store, result and audit sources (no cu_ctx),
 * so the helpers below make their own temporary directories.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/consent.h"
#include "store/request.h"
#include "vault/vault.h"
#include "store/store.h"
#include "store/sqlite/sqlite.h"
#include "support.h"

/*
 * The schema version this build migrates to (store/sqlite/sqlite.c's list): asked
 * of the backend, so adding an area's migration does not edit this file.
 */
#define SCHEMA_LATEST cu_sqlite_schema_latest()
static const char *schema_latest_s(void)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%d", cu_sqlite_schema_latest());
	return buf;
}
#define SCHEMA_LATEST_S schema_latest_s()
#include "store/backend.h"

struct fx {
	char dir[256];
	char path[300];
	char url[800];
	cu_store *s;
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
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *base = getenv("TMPDIR");
	char err[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "%s/cu-store-XXXXXX", base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/store.db", f->dir);
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("cannot open the store: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_store_close(f->s);
	cu_test_store_drop(f->url);
	remove_dir(f->dir);
	free(f);
	return 0;
}

static void reopen(struct fx *f)
{
	char err[256];

	cu_store_close(f->s);
	f->s = NULL;
	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("reopen: %s", err);
}

/* A live row whose every byte derives from n, so rows are distinguishable. */
static void make_row(cu_member_row *r, int n, unsigned char *fields, size_t fields_len)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "member-%04d", n);
	r->key_id = 3;
	memset(r->wrapped, 0x10 + n, sizeof(r->wrapped));
	r->has_email_bidx = true;
	memset(r->email_bidx, 0x40 + n, sizeof(r->email_bidx));
	r->has_phone_bidx = true;
	memset(r->phone_bidx, 0x70, sizeof(r->phone_bidx)); /* shared on purpose */
	r->fields = fields;
	r->fields_len = fields_len;
	r->present = ((cu_fieldset)1 << 63) | 0x5;
	r->password_hash = "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA";
	r->created_us = 1000 + n;
	r->updated_us = 2000 + n;
}

static void insert_committed(cu_store *s, const cu_member_row *r)
{
	assert_int_equal(cu_store_begin(s), CU_OK);
	assert_int_equal(cu_store_member_insert(s, r), CU_OK);
	assert_int_equal(cu_store_commit(s), CU_OK);
}

/* Whether the bytes of needle occur anywhere in the file (false if absent). */
static bool file_contains(const char *path, const unsigned char *needle, size_t n)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, got;
	bool hit = false;

	if (!fp)
		return false;
	for (;;) {
		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 65536;
			nb = realloc(buf, cap);
			assert_non_null(nb);
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, fp);
		if (got == 0)
			break;
		len += got;
	}
	fclose(fp);
	for (size_t i = 0; !hit && len >= n && i <= len - n; i++)
		hit = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return hit;
}

static void test_open_and_migrations(void **state)
{
	struct fx *f = *state;
	char val[32], err[256];
	bool found;
	cu_store *s2 = NULL;

	assert_int_equal(cu_store_schema_version(f->s), SCHEMA_LATEST);
	assert_int_equal(cu_store_meta_get(f->s, "schema_version", val, sizeof(val), &found),
	                 CU_OK);
	assert_true(found);
	assert_string_equal(val, SCHEMA_LATEST_S);

	/* Reopening must not run a migration again (it would fail: tables exist). */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "marker", "kept"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	reopen(f);
	reopen(f);
	assert_int_equal(cu_store_schema_version(f->s), SCHEMA_LATEST);
	assert_int_equal(cu_store_meta_get(f->s, "marker", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "kept");

	if (cu_test_store_is_pg())
		return; /* the rest is about SQLite's file */
	/* A bare path opens the same database. */
	assert_int_equal(cu_store_open(f->path, &s2, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_meta_get(s2, "marker", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	cu_store_close(s2);

	/* The database file is not readable by other users. */
	{
		struct stat st;

		assert_int_equal(stat(f->path, &st), 0);
		assert_int_equal(st.st_mode & 077, 0);
	}
}

/* A database from a newer build is refused, not misread. */
static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "schema_version", "99"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_store_close(f->s);
	f->s = NULL;
	assert_int_equal(cu_store_open(f->url, &f->s, err, sizeof(err)), CU_ERR_STORE);
	assert_null(f->s);
	assert_non_null(strstr(err, "newer"));
}

static void test_open_refusals(void **state)
{
	cu_store *s = (cu_store *)state; /* any non-NULL value, to see it reset */
	char err[256];

#ifdef CU_HAVE_POSTGRES
	/* Nothing listens on port 1: refused at once, in one line without the url's password. */
	assert_int_equal(
	    cu_store_open("postgresql://u:secret@127.0.0.1:1/custodian", &s, err, sizeof(err)),
	    CU_ERR_STORE);
	assert_null(s);
	assert_non_null(strstr(err, "cannot connect to the PostgreSQL store"));
	assert_null(strstr(err, "secret"));
	assert_null(strchr(err, '\n'));
	assert_int_equal(cu_store_open("postgres://127.0.0.1:1/custodian", &s, err, sizeof(err)),
	                 CU_ERR_STORE);
#else
	assert_int_equal(cu_store_open("postgresql://db.example/custodian", &s, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_null(s);
	assert_non_null(strstr(err, "postgresql store not built yet"));
	assert_int_equal(cu_store_open("postgres://db.example/custodian", &s, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
#endif
	assert_int_equal(cu_store_open("mysql://db.example/x", &s, err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_open("sqlite:", &s, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_open("", &s, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_int_not_equal(cu_store_open("sqlite:/nonexistent-dir/x/y.db", &s, err, sizeof(err)),
	                     CU_OK);
	assert_null(s);
	assert_true(strlen(err) > 0);
	cu_store_close(NULL);
}

static void test_member_round_trip(void **state)
{
	struct fx *f = *state;
	unsigned char fields[300];
	cu_member_row in, out;
	uint64_t n;

	for (size_t i = 0; i < sizeof(fields); i++)
		fields[i] = (unsigned char)i;
	make_row(&in, 1, fields, sizeof(fields));
	insert_committed(f->s, &in);

	assert_int_equal(cu_store_member_get(f->s, in.id, &out), CU_OK);
	assert_string_equal(out.id, in.id);
	assert_int_equal(out.key_id, 3);
	assert_false(out.erased);
	assert_memory_equal(out.wrapped, in.wrapped, sizeof(in.wrapped));
	assert_true(out.has_email_bidx);
	assert_memory_equal(out.email_bidx, in.email_bidx, sizeof(in.email_bidx));
	assert_true(out.has_phone_bidx);
	assert_memory_equal(out.phone_bidx, in.phone_bidx, sizeof(in.phone_bidx));
	assert_int_equal(out.fields_len, sizeof(fields));
	assert_memory_equal(out.fields, fields, sizeof(fields));
	assert_true(out.fields != fields);      /* an owned copy */
	assert_true(out.present == in.present); /* bit 63 survives the signed column */
	assert_string_equal(out.password_hash, in.password_hash);
	assert_int_equal(out.created_us, 1001);
	assert_int_equal(out.updated_us, 2001);
	cu_member_row_release(&out);
	assert_null(out.fields);
	assert_null(out.password_hash);
	cu_member_row_release(&out); /* idempotent */
	cu_member_row_release(NULL);

	/* Optional parts absent. */
	make_row(&in, 2, NULL, 0);
	in.has_phone_bidx = false;
	in.password_hash = NULL;
	insert_committed(f->s, &in);
	assert_int_equal(cu_store_member_get(f->s, in.id, &out), CU_OK);
	assert_false(out.has_phone_bidx);
	assert_null(out.password_hash);
	assert_null(out.fields);
	assert_int_equal(out.fields_len, 0);
	cu_member_row_release(&out);

	assert_int_equal(cu_store_member_get(f->s, "nobody", &out), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_member_count(f->s, &n), CU_OK);
	assert_int_equal(n, 2);

	/* Survives a reopen. */
	reopen(f);
	assert_int_equal(cu_store_member_get(f->s, "member-0001", &out), CU_OK);
	assert_memory_equal(out.fields, fields, sizeof(fields));
	cu_member_row_release(&out);
}

/* cu_store_member_context says what the four lookups it stands for say, on each store. */
static void expect_context(cu_store *s, const char *id, const char *target, bool found,
                           bool granted, const char *accepted, const char *at_registration)
{
	cu_member_context mc;
	cu_member_row row;

	assert_int_equal(cu_store_member_context(s, id, "purpose", target, &row, &mc), CU_OK);
	assert_string_equal(row.id, id);
	assert_int_equal(row.created_us, 1000 + strtol(id + strlen("member-"), NULL, 10));
	assert_int_equal(mc.consent_found, found);
	assert_int_equal(mc.consent_granted, granted);
	assert_string_equal(mc.accepted, accepted);
	assert_string_equal(mc.at_registration, at_registration);
	cu_member_row_release(&row);
}

static void consent(cu_store *s, int n, const char *member, const char *target, bool granted)
{
	cu_consent_row c = {0};

	snprintf(c.id, sizeof(c.id), "consent-%04d", n);
	snprintf(c.member, sizeof(c.member), "%s", member);
	snprintf(c.kind, sizeof(c.kind), "purpose");
	snprintf(c.target, sizeof(c.target), "%s", target);
	snprintf(c.policy_version, sizeof(c.policy_version), "1");
	c.granted = granted;
	c.time_us = 5000 + n;
	assert_int_equal(cu_store_consent_insert(s, &c), CU_OK);
}

static void test_member_context(void **state)
{
	struct fx *f = *state;
	unsigned char digest[CU_POLICY_DIGESTBYTES] = {1};
	cu_member_context mc;
	cu_member_row in, row;

	make_row(&in, 1, NULL, 0); /* created at 1001 */
	insert_committed(f->s, &in);
	/* No version published, no consent, nothing accepted. */
	expect_context(f->s, "member-0001", "research", false, false, "", "");

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_policy_put(f->s, "v1", digest, "{}", 2, "op", 900), CU_OK);
	digest[0] = 2;
	assert_int_equal(cu_store_policy_put(f->s, "v2", digest, "{}", 2, "op", 1001), CU_OK);
	digest[0] = 3;
	assert_int_equal(cu_store_policy_put(f->s, "v3", digest, "{}", 2, "op", 1002), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	/* The version in force at registration: published at or before it, the latest. */
	expect_context(f->s, "member-0001", "research", false, false, "", "v2");

	/* The latest choice for the target counts; another target's does not. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	consent(f->s, 1, "member-0001", "research", true);
	consent(f->s, 2, "member-0001", "marketing", false);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	expect_context(f->s, "member-0001", "research", true, true, "", "v2");
	expect_context(f->s, "member-0001", "marketing", true, false, "", "v2");
	expect_context(f->s, "member-0001", "support", false, false, "", "v2");
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	consent(f->s, 3, "member-0001", "research", false);
	assert_int_equal(cu_store_accepted_set(f->s, "member-0001", "v3", 7000), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	expect_context(f->s, "member-0001", "research", true, false, "v3", "v2");

	/* Another member's choices are not this one's. */
	make_row(&in, 2, NULL, 0);
	insert_committed(f->s, &in);
	expect_context(f->s, "member-0002", "research", false, false, "", "v3");

	/* Erased: the row says so. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_erase(f->s, "member-0002", 9000), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(
	    cu_store_member_context(f->s, "member-0002", "purpose", "research", &row, &mc), CU_OK);
	assert_true(row.erased);
	cu_member_row_release(&row);

	/* None, and refusals: the row is empty either way. */
	assert_int_equal(cu_store_member_context(f->s, "nobody", "purpose", "research", &row, &mc),
	                 CU_ERR_NOT_FOUND);
	assert_string_equal(row.id, "");
	assert_int_equal(cu_store_member_context(f->s, "", "purpose", "research", &row, &mc),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_member_context(f->s, "member-0001", NULL, "research", &row, &mc),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_store_member_context(f->s, "member-0001", "purpose", "research", NULL, &mc),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(
	    cu_store_member_context(NULL, "member-0001", "purpose", "research", &row, &mc),
	    CU_ERR_INVALID_ARGUMENT);
}

static void test_member_update(void **state)
{
	struct fx *f = *state;
	unsigned char fields[] = "sealed-v1", fields2[] = "sealed-version-two";
	cu_member_row in, out;
	char ids[4][CU_ID_LEN + 1];
	size_t n;

	make_row(&in, 1, fields, sizeof(fields));
	insert_committed(f->s, &in);

	in.fields = fields2;
	in.fields_len = sizeof(fields2);
	in.present = 0x9;
	memset(in.email_bidx, 0xEE, sizeof(in.email_bidx));
	in.has_phone_bidx = false;
	in.password_hash = "$argon2id$new";
	in.updated_us = 9999;
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_update(f->s, &in), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_member_get(f->s, in.id, &out), CU_OK);
	assert_int_equal(out.fields_len, sizeof(fields2));
	assert_memory_equal(out.fields, fields2, sizeof(fields2));
	assert_true(out.present == 0x9);
	assert_memory_equal(out.email_bidx, in.email_bidx, sizeof(in.email_bidx));
	assert_false(out.has_phone_bidx);
	assert_string_equal(out.password_hash, "$argon2id$new");
	assert_int_equal(out.updated_us, 9999);
	assert_int_equal(out.created_us, 1001); /* not replaced */
	assert_memory_equal(out.wrapped, in.wrapped, sizeof(in.wrapped));
	cu_member_row_release(&out);

	/* Lookups follow the new blind indexes. */
	assert_int_equal(cu_store_member_find(f->s, "email", in.email_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], in.id);
	memset(in.phone_bidx, 0x70, sizeof(in.phone_bidx));
	assert_int_equal(cu_store_member_find(f->s, "phone", in.phone_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 0);

	snprintf(in.id, sizeof(in.id), "nobody");
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_update(f->s, &in), CU_ERR_NOT_FOUND);
	cu_store_rollback(f->s);
}

static void test_member_find(void **state)
{
	struct fx *f = *state;
	cu_member_row a, b, c;
	char ids[4][CU_ID_LEN + 1];
	unsigned char none[CU_VAULT_BIDXBYTES] = {0};
	size_t n;

	make_row(&a, 1, NULL, 0);
	make_row(&b, 2, NULL, 0);
	make_row(&c, 3, NULL, 0);
	c.has_email_bidx = false;
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &a), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &b), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &c), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_member_find(f->s, "email", b.email_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 1);
	assert_string_equal(ids[0], "member-0002");

	/* A telephone may be shared: every holder, in insertion order. */
	assert_int_equal(cu_store_member_find(f->s, "phone", a.phone_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "member-0001");
	assert_string_equal(ids[1], "member-0002");
	assert_string_equal(ids[2], "member-0003");
	assert_int_equal(cu_store_member_find(f->s, "phone", a.phone_bidx, ids, 2, &n), CU_OK);
	assert_int_equal(n, 2);

	assert_int_equal(cu_store_member_find(f->s, "email", none, ids, 4, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_member_find(f->s, "name", none, ids, 4, &n),
	                 CU_ERR_INVALID_ARGUMENT);
}

static void test_duplicate_email_conflict(void **state)
{
	struct fx *f = *state;
	cu_member_row a, b, c;
	uint64_t n;

	make_row(&a, 1, NULL, 0);
	make_row(&b, 2, NULL, 0);
	make_row(&c, 3, NULL, 0);
	memcpy(b.email_bidx, a.email_bidx, sizeof(a.email_bidx));

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &a), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &b), CU_ERR_CONFLICT);
	/* Only the statement failed: the transaction goes on and commits. */
	assert_true(cu_store_in_transaction(f->s));
	assert_int_equal(cu_store_member_insert(f->s, &c), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_member_count(f->s, &n), CU_OK);
	assert_int_equal(n, 2);
	{
		cu_member_row out;

		assert_int_equal(cu_store_member_get(f->s, "member-0003", &out), CU_OK);
		cu_member_row_release(&out);
		assert_int_equal(cu_store_member_get(f->s, "member-0002", &out), CU_ERR_NOT_FOUND);
	}

	/* An update onto someone else's e-mail is a conflict too. */
	memcpy(c.email_bidx, a.email_bidx, sizeof(a.email_bidx));
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_update(f->s, &c), CU_ERR_CONFLICT);
	cu_store_rollback(f->s);

	/* Re-using a member id is refused as well. */
	make_row(&b, 1, NULL, 0);
	memset(b.email_bidx, 0x99, sizeof(b.email_bidx));
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_insert(f->s, &b), CU_ERR_CONFLICT);
	cu_store_rollback(f->s);
}

static void test_writes_need_a_transaction(void **state)
{
	struct fx *f = *state;
	cu_member_row r;
	cu_audit_entry e = {.seq = 1, .actor = "a"};
	uint64_t n;

	make_row(&r, 1, NULL, 0);
	assert_false(cu_store_in_transaction(f->s));
	assert_int_equal(cu_store_member_insert(f->s, &r), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_member_update(f->s, &r), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_member_erase(f->s, r.id, 5), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_audit_append(f->s, &e), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_meta_set(f->s, "k", "v"), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_commit(f->s), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_member_count(f->s, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_audit_count(f->s, &n), CU_OK);
	assert_int_equal(n, 0);

	/* No nesting, and no checkpoint in the middle of a transaction. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_begin(f->s), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_checkpoint(f->s), CU_ERR_INTERNAL);
	cu_store_rollback(f->s);
	assert_false(cu_store_in_transaction(f->s));
	cu_store_rollback(f->s); /* harmless outside */
}

static void test_rollback_discards(void **state)
{
	struct fx *f = *state;
	cu_member_row r, out;
	cu_audit_entry e = {.seq = 1, .actor = "a"};
	char val[16];
	bool found;
	uint64_t n;

	make_row(&r, 1, NULL, 0);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_true(cu_store_in_transaction(f->s));
	assert_int_equal(cu_store_member_insert(f->s, &r), CU_OK);
	assert_int_equal(cu_store_audit_append(f->s, &e), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "k", "v"), CU_OK);
	/* Reads inside the transaction see its writes. */
	assert_int_equal(cu_store_member_get(f->s, r.id, &out), CU_OK);
	cu_member_row_release(&out);
	cu_store_rollback(f->s);
	assert_false(cu_store_in_transaction(f->s));

	assert_int_equal(cu_store_member_get(f->s, r.id, &out), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_audit_count(f->s, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_meta_get(f->s, "k", val, sizeof(val), &found), CU_OK);
	assert_false(found);

	/* The store is usable afterwards. */
	insert_committed(f->s, &r);
	assert_int_equal(cu_store_member_count(f->s, &n), CU_OK);
	assert_int_equal(n, 1);
}

static void test_erase(void **state)
{
	struct fx *f = *state;
	unsigned char fields[] = "sealed";
	cu_member_row r, out;
	char ids[4][CU_ID_LEN + 1];
	size_t n;
	uint64_t count;

	make_row(&r, 1, fields, sizeof(fields));
	insert_committed(f->s, &r);

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_erase(f->s, r.id, 777), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_member_get(f->s, r.id, &out), CU_OK);
	assert_true(out.erased);
	assert_int_equal(out.erased_us, 777);
	assert_string_equal(out.id, r.id);
	assert_null(out.fields);
	assert_int_equal(out.fields_len, 0);
	assert_null(out.password_hash);
	assert_false(out.has_email_bidx);
	assert_false(out.has_phone_bidx);
	assert_true(out.present == 0);
	{
		unsigned char zero[CU_VAULT_WRAPPEDBYTES] = {0};

		assert_memory_equal(out.wrapped, zero, sizeof(zero));
	}
	cu_member_row_release(&out);

	assert_int_equal(cu_store_member_find(f->s, "email", r.email_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_member_find(f->s, "phone", r.phone_bidx, ids, 4, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_member_count(f->s, &count), CU_OK);
	assert_int_equal(count, 1); /* the id stays, erased */

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	/* Erased stays erased: no update brings data back. */
	assert_int_equal(cu_store_member_update(f->s, &r), CU_ERR_ERASED);
	/* A second erasure is harmless and keeps the first time. */
	assert_int_equal(cu_store_member_erase(f->s, r.id, 888), CU_OK);
	assert_int_equal(cu_store_member_erase(f->s, "nobody", 888), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_member_get(f->s, r.id, &out), CU_OK);
	assert_int_equal(out.erased_us, 777);
	cu_member_row_release(&out);

	/* The e-mail may be registered again by a new member. */
	make_row(&r, 2, NULL, 0);
	memset(r.email_bidx, 0x41, sizeof(r.email_bidx));
	insert_committed(f->s, &r);
}

/* A restore may replay an erasure: the row arrives erased and stays so. */
static void test_insert_erased_row(void **state)
{
	struct fx *f = *state;
	unsigned char fields[] = "sealed";
	cu_member_row r, out;
	char ids[2][CU_ID_LEN + 1];
	size_t n;

	make_row(&r, 1, fields, sizeof(fields));
	r.erased = true;
	r.erased_us = 4242;
	insert_committed(f->s, &r);
	assert_int_equal(cu_store_member_get(f->s, r.id, &out), CU_OK);
	assert_true(out.erased);
	assert_int_equal(out.erased_us, 4242);
	assert_null(out.fields);
	assert_null(out.password_hash);
	assert_false(out.has_email_bidx);
	cu_member_row_release(&out);
	assert_int_equal(cu_store_member_find(f->s, "email", r.email_bidx, ids, 2, &n), CU_OK);
	assert_int_equal(n, 0);
}

/*
 * Crypto-shredding must be physical: after erase and checkpoint the wrapped
 * key, sealed fields and blind index bytes are in neither file.
 */
static void test_erase_leaves_no_bytes(void **state)
{
	struct fx *f = *state;
	unsigned char wrapped[CU_VAULT_WRAPPEDBYTES], fields[500], bidx[CU_VAULT_BIDXBYTES];
	char wal[320];
	cu_member_row r;
	static const char key_mark[] = "WRAPPED-KEY-SHRED-ME:";
	static const char field_mark[] = "SEALED-FIELD-SHRED-ME:";
	static const char bidx_mark[] = "BIDX-SHRED-ME:";

	for (size_t i = 0; i < sizeof(wrapped); i++)
		wrapped[i] = (unsigned char)key_mark[i % (sizeof(key_mark) - 1)];
	for (size_t i = 0; i < sizeof(fields); i++)
		fields[i] = (unsigned char)field_mark[i % (sizeof(field_mark) - 1)];
	for (size_t i = 0; i < sizeof(bidx); i++)
		bidx[i] = (unsigned char)bidx_mark[i % (sizeof(bidx_mark) - 1)];
	snprintf(wal, sizeof(wal), "%s-wal", f->path);

	/* Neighbours, so the page is not simply dropped. */
	for (int i = 2; i < 40; i++) {
		cu_member_row o;

		make_row(&o, i, NULL, 0);
		insert_committed(f->s, &o);
	}
	make_row(&r, 1, fields, sizeof(fields));
	memcpy(r.wrapped, wrapped, sizeof(wrapped));
	memcpy(r.email_bidx, bidx, sizeof(bidx));
	insert_committed(f->s, &r);

	/* The test can fail: the marks are there before the erasure. */
	assert_true(file_contains(wal, wrapped, sizeof(wrapped)));
	assert_int_equal(cu_store_checkpoint(f->s), CU_OK);
	assert_true(file_contains(f->path, wrapped, sizeof(wrapped)));
	assert_true(file_contains(f->path, fields, sizeof(fields)));
	assert_true(file_contains(f->path, bidx, sizeof(bidx)));

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_member_erase(f->s, r.id, 1), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_checkpoint(f->s), CU_OK);

	assert_false(file_contains(f->path, wrapped, sizeof(wrapped)));
	assert_false(file_contains(f->path, fields, sizeof(fields)));
	assert_false(file_contains(f->path, bidx, sizeof(bidx)));
	assert_false(file_contains(wal, wrapped, sizeof(wrapped)));
	assert_false(file_contains(wal, fields, sizeof(fields)));
	assert_false(file_contains(wal, bidx, sizeof(bidx)));
}

/* Rows of their own: make_row's blind indexes repeat every 256 rows. */
static void make_many(cu_member_row *r, int n)
{
	make_row(r, n, NULL, 0);
	r->email_bidx[0] = (unsigned char)(n & 0xff);
	r->email_bidx[1] = (unsigned char)((n >> 8) & 0xff);
	r->email_bidx[2] = (unsigned char)((n >> 16) & 0xff);
}

static off_t file_size(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 ? sb.st_size : -1;
}

/*
 * The server's arrangement: the writing handle never checkpoints, another
 * handle runs PASSIVE checkpoints.  Without them the log only grows (past
 * the 1000 pages where SQLite would have checkpointed); with them it is
 * started again from the beginning and its file stops growing; every row
 * stays readable from both handles.
 */
/* A snapshot inside a snapshot is the same one: another handle's commit shows after the outer end. */
static void test_nested_snapshot_is_one(void **state)
{
	struct fx *f = *state;
	cu_store *c = NULL;
	char err[256], val[32];
	bool found;

	assert_int_equal(cu_store_open(f->url, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_begin(c), CU_OK);
	assert_int_equal(cu_store_meta_set(c, "probe", "before"), CU_OK);
	assert_int_equal(cu_store_commit(c), CU_OK);
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "probe", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "before");
	assert_int_equal(cu_store_begin(c), CU_OK);
	assert_int_equal(cu_store_meta_set(c, "probe", "after"), CU_OK);
	assert_int_equal(cu_store_commit(c), CU_OK);
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "probe", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "before");
	cu_store_snapshot_end(f->s);
	/* Still the outer snapshot. */
	assert_int_equal(cu_store_meta_get(f->s, "probe", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "before");
	cu_store_snapshot_end(f->s);
	assert_int_equal(cu_store_meta_get(f->s, "probe", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "after");
	cu_store_close(c);
}

static void test_passive_checkpoint_off_the_writer(void **state)
{
	struct fx *f = *state;
	cu_store *c = NULL;
	char err[256], wal[400];
	int frames = -2, done = -2, n = 0, max_frames = 0;
	off_t grown, after;
	uint64_t count = 0;
	cu_member_row r, out;

	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(cu_store_open(f->url, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_set_autocheckpoint(f->s, false), CU_OK);

	/* Outside a transaction only, like the TRUNCATE checkpoint. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_checkpoint_passive(f->s, NULL, NULL), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_set_autocheckpoint(f->s, true), CU_ERR_INTERNAL);
	cu_store_rollback(f->s);
	assert_int_equal(cu_store_checkpoint_passive(NULL, NULL, NULL), CU_ERR_INVALID_ARGUMENT);

	/* No checkpoint anywhere: the log passes 1000 pages. */
	for (int b = 0; b < 150; b++) {
		assert_int_equal(cu_store_begin(f->s), CU_OK);
		for (int i = 0; i < 20; i++) {
			make_many(&r, ++n);
			assert_int_equal(cu_store_member_insert(f->s, &r), CU_OK);
		}
		assert_int_equal(cu_store_commit(f->s), CU_OK);
	}
	assert_int_equal(cu_store_checkpoint_passive(c, &frames, &done), CU_OK);
	assert_true(frames > 1000);
	/* Nobody reads: all of it is copied at once. */
	assert_int_equal(done, frames);
	grown = file_size(wal);
	assert_true(grown > 1000 * 4096);

	/* A pass every few commits: the log starts over and its file stays put. */
	for (int b = 0; b < 300; b++) {
		assert_int_equal(cu_store_begin(f->s), CU_OK);
		for (int i = 0; i < 20; i++) {
			make_many(&r, ++n);
			assert_int_equal(cu_store_member_insert(f->s, &r), CU_OK);
		}
		assert_int_equal(cu_store_commit(f->s), CU_OK);
		if (b % 5 == 4) {
			assert_int_equal(cu_store_checkpoint_passive(c, &frames, &done), CU_OK);
			assert_int_equal(done, frames);
			if (frames > max_frames)
				max_frames = frames;
		}
	}
	assert_true(max_frames > 0);
	assert_true(max_frames < 1000);
	after = file_size(wal);
	assert_true(after <= grown);

	/* Readable from both handles, the first row and the last. */
	assert_int_equal(cu_store_member_count(c, &count), CU_OK);
	assert_int_equal(count, (uint64_t)n);
	assert_int_equal(cu_store_member_count(f->s, &count), CU_OK);
	assert_int_equal(count, (uint64_t)n);
	assert_int_equal(cu_store_member_get(c, "member-0001", &out), CU_OK);
	cu_member_row_release(&out);
	snprintf(err, sizeof(err), "member-%04d", n);
	assert_int_equal(cu_store_member_get(c, err, &out), CU_OK);
	cu_member_row_release(&out);

	/* A backstop threshold, as the server's writer has, and back to SQLite's default. */
	assert_int_equal(cu_store_set_autocheckpoint_pages(f->s, 16384), CU_OK);
	assert_int_equal(cu_store_set_autocheckpoint(f->s, true), CU_OK);
	assert_int_equal(cu_store_set_autocheckpoint_pages(NULL, 1), CU_ERR_INVALID_ARGUMENT);
	cu_store_close(c);
}

struct collect {
	int n;
	uint64_t seqs[16];
	char members[16][32];
	int stop_after;
};

static int collect(void *ud, const cu_audit_entry *e)
{
	struct collect *c = ud;

	if (c->n < 16) {
		c->seqs[c->n] = e->seq;
		snprintf(c->members[c->n], sizeof(c->members[0]), "%s", e->member);
	}
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

static void test_audit_rows(void **state)
{
	struct fx *f = *state;
	unsigned char hash[CU_AUDIT_HASHBYTES];
	uint64_t seq, n;
	struct collect c;

	assert_int_equal(cu_store_audit_last(f->s, &seq, hash), CU_OK);
	assert_int_equal(seq, 0);

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 1; i <= 10; i++) {
		cu_audit_entry e = {.seq = (uint64_t)i,
		                    .time_us = i,
		                    .actor = "op",
		                    .role = "staff",
		                    .action = "read",
		                    .member = i % 3 == 0 ? "m3" : (i % 2 ? "m1" : ""),
		                    .purpose = NULL,
		                    .decision = "allow"};

		memset(e.prev, i - 1, sizeof(e.prev));
		memset(e.hash, i, sizeof(e.hash));
		assert_int_equal(cu_store_audit_append(f->s, &e), CU_OK);
	}
	/* The same seq twice is a conflict; seq 0 is not a seq. */
	{
		cu_audit_entry e = {.seq = 10};

		assert_int_equal(cu_store_audit_append(f->s, &e), CU_ERR_CONFLICT);
		e.seq = 0;
		assert_int_equal(cu_store_audit_append(f->s, &e), CU_ERR_INVALID_ARGUMENT);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_audit_last(f->s, &seq, hash), CU_OK);
	assert_int_equal(seq, 10);
	{
		unsigned char want[CU_AUDIT_HASHBYTES];

		memset(want, 10, sizeof(want));
		assert_memory_equal(hash, want, sizeof(want));
	}
	assert_int_equal(cu_store_audit_count(f->s, &n), CU_OK);
	assert_int_equal(n, 10);

	memset(&c, 0, sizeof(c));
	assert_int_equal(cu_store_audit_scan(f->s, 4, NULL, collect, &c), CU_OK);
	assert_int_equal(c.n, 7);
	assert_int_equal(c.seqs[0], 4);
	assert_int_equal(c.seqs[6], 10);

	/* By member: only that member's entries, in order (3, 6, 9). */
	memset(&c, 0, sizeof(c));
	assert_int_equal(cu_store_audit_scan(f->s, 0, "m3", collect, &c), CU_OK);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.seqs[0], 3);
	assert_int_equal(c.seqs[1], 6);
	assert_int_equal(c.seqs[2], 9);
	assert_string_equal(c.members[2], "m3");
	memset(&c, 0, sizeof(c));
	assert_int_equal(cu_store_audit_scan(f->s, 0, "", collect, &c), CU_OK);
	assert_int_equal(c.n, 0);

	/* Stopping early is not an error. */
	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(cu_store_audit_scan(f->s, 1, NULL, collect, &c), CU_OK);
	assert_int_equal(c.n, 2);
}

static void test_meta(void **state)
{
	struct fx *f = *state;
	char val[8];
	bool found = true;

	assert_int_equal(cu_store_meta_get(f->s, "absent", val, sizeof(val), &found), CU_OK);
	assert_false(found);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "k", "one"), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "k", "two"), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "long", "0123456789"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "k", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "two");
	assert_int_equal(cu_store_meta_get(f->s, "long", val, sizeof(val), &found),
	                 CU_ERR_TOO_LARGE);
}

/* The private once-at-commit meta write used for the audit head. */
static void test_meta_at_commit(void **state)
{
	struct fx *f = *state;
	char val[64];
	bool found;

	assert_int_equal(cu_store_meta_set_at_commit(f->s, "head", "1"), CU_ERR_INTERNAL);

	/* Visible inside the transaction, gone with a rollback. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "head", "1"), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "head", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "1");
	cu_store_rollback(f->s);
	assert_int_equal(cu_store_meta_get(f->s, "head", val, sizeof(val), &found), CU_OK);
	assert_false(found);

	/* The last value set is the one written. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "head", "1"), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "head", "2"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	reopen(f);
	assert_int_equal(cu_store_meta_get(f->s, "head", val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, "2");

	/* Another key flushes the pending one; a plain set of the same key wins. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "a", "x"), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "b", "y"), CU_OK);
	assert_int_equal(cu_store_meta_set(f->s, "b", "z"), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "a", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "x");
	assert_int_equal(cu_store_meta_get(f->s, "b", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "z");

	/* A pending value does not leak into the next transaction. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_meta_set_at_commit(f->s, "head", "3"), CU_OK);
	cu_store_rollback(f->s);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_meta_get(f->s, "head", val, sizeof(val), &found), CU_OK);
	assert_string_equal(val, "2");
}

/* The audit triggers hold even against a raw connection. */
static void test_audit_triggers(void **state)
{
	struct fx *f = *state;
	cu_audit_entry e = {.seq = 1, .actor = "op"};
	sqlite3 *db;

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_audit_append(f->s, &e), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	if (cu_test_store_is_pg()) {
		char msg[256];

		assert_false(
		    cu_test_pg_exec(f->url, "UPDATE audit SET actor = 'x'", msg, sizeof(msg)));
		assert_non_null(strstr(msg, "append-only"));
		assert_false(cu_test_pg_exec(f->url, "DELETE FROM audit", msg, sizeof(msg)));
		assert_non_null(strstr(msg, "append-only"));
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "UPDATE audit SET actor = 'x'", NULL, NULL, NULL) & 0xff,
	                 SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	assert_int_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL) & 0xff,
	                 SQLITE_CONSTRAINT);
	assert_non_null(strstr(sqlite3_errmsg(db), "append-only"));
	sqlite3_close(db);
}

/* Another connection's write lock makes begin fail with a store error, not hang. */
static void test_busy_is_store_error(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	if (cu_test_store_is_pg()) {
		cu_store *c = NULL;
		char err[256];

		/* Another handle's transaction holds the write lock: 5 s of lock_timeout. */
		assert_int_equal(cu_store_open(f->url, &c, err, sizeof(err)), CU_OK);
		assert_int_equal(cu_store_begin(c), CU_OK);
		assert_int_equal(cu_store_begin(f->s), CU_ERR_STORE);
		assert_false(cu_store_in_transaction(f->s));
		cu_store_rollback(c);
		cu_store_close(c);
		assert_int_equal(cu_store_begin(f->s), CU_OK);
		assert_int_equal(cu_store_commit(f->s), CU_OK);
		return;
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	/* 5 s of busy_timeout, then SQLITE_BUSY. */
	assert_int_equal(cu_store_begin(f->s), CU_ERR_STORE);
	assert_false(cu_store_in_transaction(f->s));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
}

/* ---- migration 2: tokens and sessions ---------------------------------- */

static void raw_exec(const struct fx *f, const char *sql)
{
	const char *path = f->path;
	char msg[256];
	sqlite3 *db;

	if (cu_test_store_is_pg()) {
		if (!cu_test_pg_exec(f->url, sql, msg, sizeof(msg)))
			fail_msg("%s: %s", sql, msg);
		return;
	}

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Drops every table that migration 1 did not create (children before parents). */
static void drop_all_but_v1(const struct fx *f)
{
	const char *path = f->path;
	sqlite3 *db;
	sqlite3_stmt *st;
	char names[32][64];
	int n = 0;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table'"
	                                    " AND name NOT IN ('meta', 'members', 'audit')"
	                                    " AND name NOT LIKE 'sqlite_%' ORDER BY rowid DESC",
	                                    -1, &st, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW && n < 32)
		snprintf(names[n++], sizeof(names[0]), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	sqlite3_close(db);
	for (int i = 0; i < n; i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "DROP TABLE \"%.60s\"", names[i]);
		raw_exec(f, sql);
	}
	/* Columns later migrations added to version 1's tables. */
	raw_exec(f, "DROP INDEX audit_chain_seq; ALTER TABLE audit DROP COLUMN chain;");
}

static void make_token(cu_token_row *t, int n)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->id, sizeof(t->id), "token-%04d", n);
	memset(t->hash, 0x20 + n, sizeof(t->hash));
	t->role = CU_ROLE_STAFF;
	snprintf(t->name, sizeof(t->name), "Support desk %d", n);
	t->created_us = 100 + n;
}

static void make_session(cu_session_row *r, int n, const char *member, int64_t expires_us)
{
	memset(r, 0, sizeof(*r));
	memset(r->hash, 0x50 + n, sizeof(r->hash));
	snprintf(r->member, sizeof(r->member), "%s", member);
	memset(r->csrf_hash, 0x90 + n, sizeof(r->csrf_hash));
	r->created_us = 10;
	r->expires_us = expires_us;
}

/*
 * A store made by a build that knew only migration 1 gains the tables of
 * migration 2 on open, keeps its rows, and is not migrated twice.  The v1
 * store is this build's with migration 2 taken back out by hand.
 */
static void test_migration_2_on_v1_store(void **state)
{
	struct fx *f = *state;
	cu_member_row m, out;
	cu_token_row t, tout;
	char val[16];
	bool found;

	make_row(&m, 1, NULL, 0);
	insert_committed(f->s, &m);
	cu_store_close(f->s);
	f->s = NULL;
	/* Back to version 1 by hand: every later migration's table goes. */
	drop_all_but_v1(f);
	raw_exec(f, "UPDATE meta SET value = '1' WHERE key = 'schema_version';");

	reopen(f);
	assert_int_equal(cu_store_schema_version(f->s), SCHEMA_LATEST);
	assert_int_equal(cu_store_meta_get(f->s, "schema_version", val, sizeof(val), &found),
	                 CU_OK);
	assert_string_equal(val, SCHEMA_LATEST_S);
	assert_int_equal(cu_store_member_get(f->s, m.id, &out), CU_OK);
	cu_member_row_release(&out);

	make_token(&t, 1);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_token_insert(f->s, &t), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	reopen(f);
	reopen(f);
	assert_int_equal(cu_store_schema_version(f->s), SCHEMA_LATEST);
	assert_int_equal(cu_store_token_get(f->s, t.id, &tout), CU_OK);
	assert_string_equal(tout.name, t.name);
}

/* A request with one history event and a complaint with one response, for member m. */
static void insert_cases(cu_store *s, const char *m)
{
	unsigned char sealed[CU_VAULT_SEAL_OVERHEAD + 8];
	cu_request_row rq = {0};
	cu_request_event_row ev = {0};
	cu_complaint_row cp = {0};
	cu_complaint_response_row cr = {0};

	memset(sealed, 0x5e, sizeof(sealed));
	snprintf(rq.id, sizeof(rq.id), "req-%.18s", m);
	snprintf(rq.member, sizeof(rq.member), "%s", m);
	snprintf(rq.type, sizeof(rq.type), "disclosure");
	snprintf(rq.state, sizeof(rq.state), "received");
	rq.received_us = rq.due_us = rq.hard_due_us = rq.updated_us = 5000;
	snprintf(ev.request, sizeof(ev.request), "%s", rq.id);
	snprintf(ev.state, sizeof(ev.state), "received");
	snprintf(ev.actor, sizeof(ev.actor), "%s", m);
	snprintf(ev.role, sizeof(ev.role), "member");
	ev.time_us = 5000;
	ev.reasons = sealed;
	ev.reasons_len = sizeof(sealed);
	snprintf(cp.id, sizeof(cp.id), "cmp-%.18s", m);
	snprintf(cp.member, sizeof(cp.member), "%s", m);
	snprintf(cp.about, sizeof(cp.about), "use");
	snprintf(cp.state, sizeof(cp.state), "received");
	cp.received_us = cp.due_us = cp.updated_us = 5000;
	cp.text = sealed;
	cp.text_len = sizeof(sealed);
	snprintf(cr.id, sizeof(cr.id), "rsp-%.18s", m);
	snprintf(cr.complaint, sizeof(cr.complaint), "%s", cp.id);
	snprintf(cr.officer, sizeof(cr.officer), "officer");
	cr.time_us = 6000;
	cr.text = sealed;
	cr.text_len = sizeof(sealed);
	assert_int_equal(cu_store_begin(s), CU_OK);
	assert_int_equal(cu_store_request_insert(s, &rq), CU_OK);
	assert_int_equal(cu_store_request_event_insert(s, &ev), CU_OK);
	assert_int_equal(cu_store_complaint_insert(s, &cp), CU_OK);
	assert_int_equal(cu_store_complaint_response_insert(s, &cr), CU_OK);
	assert_int_equal(cu_store_commit(s), CU_OK);
}

/* The member each history row and response names, as "event-member,response-member". */
static void case_members(const struct fx *f, const char *m, char *out, size_t outlen)
{
	char sql[512];

	snprintf(sql, sizeof(sql),
	         "SELECT e.member || ',' || x.member FROM request_events e, complaint_responses x"
	         " WHERE e.request = 'req-%s' AND x.complaint = 'cmp-%s'",
	         m, m);
	cu_test_store_sql_text(f->url, sql, out, outlen);
}

/*
 * Migration 16: a request's history and a complaint's responses carry the
 * member (docs/scaling.md: every table a member owns is keyed by member).
 * New rows get it from their request or complaint; rows written before the
 * migration get it when it runs; forgetting a member finds them by it.
 */
static void test_case_histories_keyed_by_member(void **state)
{
	struct fx *f = *state;
	cu_member_row a, b;
	char got[128], want[128];
	uint64_t n = 0;

	make_row(&a, 1, NULL, 0);
	make_row(&b, 2, NULL, 0);
	insert_committed(f->s, &a);
	insert_committed(f->s, &b);
	insert_cases(f->s, a.id);
	case_members(f, a.id, got, sizeof(got));
	snprintf(want, sizeof(want), "%s,%s", a.id, a.id);
	assert_string_equal(got, want);

	/* Back to version 15, then b's cases written as that version wrote them. */
	cu_store_close(f->s);
	f->s = NULL;
	cu_test_store_sql(f->url, "DROP INDEX request_events_member;"
	                          "DROP INDEX complaint_responses_member;"
	                          "ALTER TABLE request_events DROP COLUMN member;"
	                          "ALTER TABLE complaint_responses DROP COLUMN member;"
	                          "DROP INDEX audit_chain_seq;"
	                          "ALTER TABLE audit DROP COLUMN chain;"
	                          "UPDATE meta SET value = '15' WHERE key = 'schema_version';");
	cu_test_store_sql(
	    f->url, "INSERT INTO requests (id, member, type, state, received_us, due_us,"
	            " hard_due_us, updated_us) VALUES ('req-member-0002', 'member-0002',"
	            " 'erasure', 'received', 1, 1, 1, 1);"
	            "INSERT INTO request_events (request, state, actor, role, time_us, reasons)"
	            " VALUES ('req-member-0002', 'received', 'member-0002', 'member', 1,"
	            " '\\x00');"
	            "INSERT INTO complaints (id, member, about, state, received_us, due_us,"
	            " updated_us) VALUES ('cmp-member-0002', 'member-0002', 'use', 'received',"
	            " 1, 1, 1);"
	            "INSERT INTO complaint_responses (id, complaint, officer, time_us, closing,"
	            " text) VALUES ('rsp-member-0002', 'cmp-member-0002', 'officer', 2, 0,"
	            " '\\x00');");
	reopen(f);
	assert_true(cu_store_schema_version(f->s) >= 16);
	case_members(f, a.id, got, sizeof(got));
	assert_string_equal(got, want);
	case_members(f, b.id, got, sizeof(got));
	snprintf(want, sizeof(want), "%s,%s", b.id, b.id);
	assert_string_equal(got, want);

	/* Forgetting b's texts reaches b's rows by the column, and a's not at all. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_request_forget_member(f->s, b.id, &n), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cu_test_store_sql_int(f->url, "SELECT count(*) FROM request_events"
	                                               " WHERE reasons IS NULL"),
	                 1);
	assert_int_equal(cu_test_store_sql_int(f->url,
	                                       "SELECT count(*) FROM complaint_responses"
	                                       " WHERE text IS NULL AND member = 'member-0002'"),
	                 1);
	assert_int_equal(cu_test_store_sql_int(f->url, "SELECT count(*) FROM complaint_responses"
	                                               " WHERE text IS NOT NULL"),
	                 1);
}

/* A handle's page cache bound: SQLite's cache_size in KiB; refused inside a transaction. */
static void test_cache_kib(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cu_store_set_cache_kib(f->s, CU_STORE_CACHE_KIB_MIN - 1),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_set_cache_kib(f->s, CU_STORE_CACHE_KIB_MAX + 1),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_set_cache_kib(NULL, 512), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_set_cache_kib(f->s, 512), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_set_cache_kib(f->s, 512), CU_OK);
	if (!cu_test_store_is_pg()) {
		sqlite3_stmt *st;

		assert_int_equal(
		    sqlite3_prepare_v2(cu_sqlite(f->s)->db, "PRAGMA cache_size", -1, &st, NULL),
		    SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), -512);
		sqlite3_finalize(st);
	}
}

static void test_token_rows(void **state)
{
	struct fx *f = *state;
	cu_token_row a, b, out;

	make_token(&a, 1);
	a.expires_us = 5000;
	make_token(&b, 2);
	b.role = CU_ROLE_SUBCONTRACTOR;
	snprintf(b.name, sizeof(b.name), "委託先 株式会社"); /* UTF-8 round-trips */

	assert_int_equal(cu_store_token_insert(f->s, &a), CU_ERR_INTERNAL); /* no transaction */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_token_insert(f->s, &a), CU_OK);
	assert_int_equal(cu_store_token_insert(f->s, &b), CU_OK);
	/* Neither the id nor the hash may be held twice. */
	{
		cu_token_row c = a;

		memset(c.hash, 0x7f, sizeof(c.hash));
		assert_int_equal(cu_store_token_insert(f->s, &c), CU_ERR_CONFLICT);
		c = b;
		snprintf(c.id, sizeof(c.id), "token-other");
		assert_int_equal(cu_store_token_insert(f->s, &c), CU_ERR_CONFLICT);
		c.role = CU_ROLE_COUNT_;
		assert_int_equal(cu_store_token_insert(f->s, &c), CU_ERR_INVALID_ARGUMENT);
		c.role = CU_ROLE_STAFF;
		c.name[0] = '\0';
		assert_int_equal(cu_store_token_insert(f->s, &c), CU_ERR_INVALID_ARGUMENT);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	assert_int_equal(cu_store_token_get_by_hash(f->s, a.hash, &out), CU_OK);
	assert_string_equal(out.id, a.id);
	assert_memory_equal(out.hash, a.hash, sizeof(a.hash));
	assert_int_equal(out.role, CU_ROLE_STAFF);
	assert_string_equal(out.name, a.name);
	assert_int_equal(out.created_us, 101);
	assert_int_equal(out.expires_us, 5000);
	assert_int_equal(out.revoked_us, 0);
	assert_int_equal(cu_store_token_get(f->s, b.id, &out), CU_OK);
	assert_int_equal(out.role, CU_ROLE_SUBCONTRACTOR);
	assert_string_equal(out.name, b.name);
	assert_int_equal(out.expires_us, 0); /* NULL in the table */
	{
		unsigned char other[CU_STORE_HASHBYTES];

		memset(other, 0x01, sizeof(other));
		assert_int_equal(cu_store_token_get_by_hash(f->s, other, &out), CU_ERR_NOT_FOUND);
		assert_int_equal(cu_store_token_get(f->s, "nobody", &out), CU_ERR_NOT_FOUND);
	}

	/* Revocation: no such id, then the first time is kept. */
	assert_int_equal(cu_store_token_revoke(f->s, a.id, 7000), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_token_revoke(f->s, "nobody", 7000), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_token_revoke(f->s, a.id, 7000), CU_OK);
	assert_int_equal(cu_store_token_revoke(f->s, a.id, 8000), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_token_get(f->s, a.id, &out), CU_OK);
	assert_int_equal(out.revoked_us, 7000);
	assert_int_equal(cu_store_token_get(f->s, b.id, &out), CU_OK);
	assert_int_equal(out.revoked_us, 0);
}

struct token_names {
	int n, stop_after;
	char ids[8][CU_ID_LEN + 1];
};

static int collect_token(void *ud, const cu_token_row *row)
{
	struct token_names *c = ud;

	if (c->n < 8)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", row->id);
	c->n++;
	return c->stop_after && c->n >= c->stop_after;
}

/* A callback may not start another scan: it would reset the running one. */
static int nested_scan(void *ud, const cu_token_row *row)
{
	cu_store *s = ud;
	struct token_names c = {0};

	(void)row;
	assert_int_equal(cu_store_token_list(s, collect_token, &c), CU_ERR_INTERNAL);
	return 1;
}

static void test_token_list(void **state)
{
	struct fx *f = *state;
	struct token_names c = {0};
	cu_token_row t;

	assert_int_equal(cu_store_token_list(f->s, collect_token, &c), CU_OK);
	assert_int_equal(c.n, 0);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 3; i >= 1; i--) {
		make_token(&t, i);
		assert_int_equal(cu_store_token_insert(f->s, &t), CU_OK);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	/* Creation order, not id order. */
	assert_int_equal(cu_store_token_list(f->s, collect_token, &c), CU_OK);
	assert_int_equal(c.n, 3);
	assert_string_equal(c.ids[0], "token-0003");
	assert_string_equal(c.ids[2], "token-0001");
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	assert_int_equal(cu_store_token_list(f->s, collect_token, &c), CU_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(cu_store_token_list(f->s, nested_scan, f->s), CU_OK);

	/* A role this build does not know is a damaged row, not a guess. */
	raw_exec(f, "UPDATE tokens SET role = 'overlord' WHERE id = 'token-0002'");
	memset(&c, 0, sizeof(c));
	assert_int_equal(cu_store_token_list(f->s, collect_token, &c), CU_ERR_STORE);
	assert_int_equal(cu_store_token_get(f->s, "token-0002", &t), CU_ERR_STORE);
	assert_int_equal(cu_store_token_get(f->s, "token-0001", &t), CU_OK);
}

static void test_session_rows(void **state)
{
	struct fx *f = *state;
	cu_member_row m1, m2;
	cu_session_row r, out;
	uint64_t n = 99;

	make_row(&m1, 1, NULL, 0);
	make_row(&m2, 2, NULL, 0);
	insert_committed(f->s, &m1);
	insert_committed(f->s, &m2);

	make_session(&r, 1, m1.id, 1000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_ERR_INTERNAL); /* no transaction */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_ERR_CONFLICT);
	/* A session names a member row. */
	make_session(&r, 2, "nobody", 1000);
	assert_int_not_equal(cu_store_session_insert(f->s, &r), CU_OK);
	make_session(&r, 2, m1.id, 2000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	make_session(&r, 3, m2.id, 3000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	make_session(&r, 4, m2.id, 9000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	/* It cannot expire before it began. */
	make_session(&r, 5, m2.id, 5);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_store_commit(f->s), CU_OK);

	make_session(&r, 1, m1.id, 1000);
	assert_int_equal(cu_store_session_get(f->s, r.hash, &out), CU_OK);
	assert_memory_equal(out.hash, r.hash, sizeof(r.hash));
	assert_string_equal(out.member, m1.id);
	assert_memory_equal(out.csrf_hash, r.csrf_hash, sizeof(r.csrf_hash));
	assert_int_equal(out.created_us, 10);
	assert_int_equal(out.expires_us, 1000);

	/* Delete one; then it is gone. */
	assert_int_equal(cu_store_session_delete(f->s, r.hash), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_session_delete(f->s, r.hash), CU_OK);
	assert_int_equal(cu_store_session_delete(f->s, r.hash), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	assert_int_equal(cu_store_session_get(f->s, r.hash, &out), CU_ERR_NOT_FOUND);

	/* Purge: expires_us <= now goes (3000 included), the rest stays. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_store_session_purge_expired(f->s, 3000, &n), CU_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cu_store_session_purge_expired(f->s, 3000, NULL), CU_OK);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	make_session(&r, 4, m2.id, 9000);
	assert_int_equal(cu_store_session_get(f->s, r.hash, &out), CU_OK);

	/* Every session of one member, and only theirs. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	make_session(&r, 6, m1.id, 9000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	make_session(&r, 7, m2.id, 9000);
	assert_int_equal(cu_store_session_insert(f->s, &r), CU_OK);
	assert_int_equal(cu_store_session_delete_member(f->s, m2.id, &n), CU_OK);
	assert_int_equal(n, 2);
	assert_int_equal(cu_store_session_delete_member(f->s, m2.id, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	make_session(&r, 6, m1.id, 9000);
	assert_int_equal(cu_store_session_get(f->s, r.hash, &out), CU_OK);
	make_session(&r, 7, m2.id, 9000);
	assert_int_equal(cu_store_session_get(f->s, r.hash, &out), CU_ERR_NOT_FOUND);
}

/* ---- PostgreSQL: a connection lost and found again --------------------- */

/*
 * Ends the server side of the connection whose application_name is `name`,
 * and waits (up to 10 s, PostgreSQL 14's timeout argument) until it is gone:
 * what the handle sends next meets a closed connection.
 */
static void kill_backend(const struct fx *f, const char *name)
{
	char sql[256], n[32];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000))"
	         " FROM pg_stat_activity WHERE application_name = '%s'",
	         name);
	cu_test_pg_value(f->url, sql, n, sizeof(n));
	assert_string_equal(n, "1");
}

static void meta_is(cu_store *s, const char *key, const char *want)
{
	char val[64];
	bool found = false;

	assert_int_equal(cu_store_meta_get(s, key, val, sizeof(val), &found), CU_OK);
	assert_true(found);
	assert_string_equal(val, want);
}

/*
 * A connection lost inside a transaction fails its commit and leaves nothing
 * written; the next transaction reconnects, with the session's settings made
 * again (lock_timeout: a held write lock fails the begin in 5 s instead of
 * hanging); a connection lost while idle costs no failed call (one retry on a
 * new connection), in a snapshot it fails that snapshot only.
 */
static void test_pg_reconnect(void **state)
{
	struct fx *f = *state;
	char url[900], name[32], err[256];
	cu_store *h = NULL, *c = NULL;
	cu_member_row row;

	snprintf(name, sizeof(name), "cu_reconnect_%ld", (long)getpid());
	snprintf(url, sizeof(url), "%s&application_name=%s", f->url, name);
	assert_int_equal(cu_store_open(url, &h, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_begin(h), CU_OK);
	assert_int_equal(cu_store_meta_set(h, "failover", "1"), CU_OK);
	assert_int_equal(cu_store_commit(h), CU_OK);

	/* Lost inside a transaction: the commit fails, nothing of it is there. */
	assert_int_equal(cu_store_begin(h), CU_OK);
	assert_int_equal(cu_store_meta_set(h, "failover", "2"), CU_OK);
	kill_backend(f, name);
	assert_int_equal(cu_store_commit(h), CU_ERR_STORE);
	assert_false(cu_store_in_transaction(h));
	meta_is(f->s, "failover", "1");

	/* The next transaction runs on a new connection. */
	assert_int_equal(cu_store_begin(h), CU_OK);
	assert_int_equal(cu_store_meta_set(h, "failover", "3"), CU_OK);
	assert_int_equal(cu_store_commit(h), CU_OK);
	meta_is(f->s, "failover", "3");

	/* Lost while idle: the next read retries once on a new connection. */
	kill_backend(f, name);
	meta_is(h, "failover", "3");
	/* ... and the next begin too. */
	kill_backend(f, name);
	assert_int_equal(cu_store_begin(h), CU_OK);
	assert_int_equal(cu_store_commit(h), CU_OK);

	/* Lost in a snapshot: that snapshot's reads fail, the next snapshot works. */
	assert_int_equal(cu_store_snapshot_begin(h), CU_OK);
	kill_backend(f, name);
	assert_int_equal(cu_store_member_get(h, "AAAAAAAAAAAAAAAAAAAAAA", &row), CU_ERR_STORE);
	cu_store_snapshot_end(h);
	assert_int_equal(cu_store_snapshot_begin(h), CU_OK);
	meta_is(h, "failover", "3");
	cu_store_snapshot_end(h);

	/* The settings came back with the connection: lock_timeout ends a wait for the lock. */
	kill_backend(f, name);
	assert_int_equal(cu_store_open(f->url, &c, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_store_begin(c), CU_OK);
	alarm(60); /* without lock_timeout the begin below would wait for ever */
	assert_int_equal(cu_store_begin(h), CU_ERR_STORE);
	alarm(0);
	cu_store_rollback(c);
	cu_store_close(c);
	cu_store_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_open_and_migrations, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
	    cmocka_unit_test(test_open_refusals),
	    cmocka_unit_test_setup_teardown(test_member_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_update, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_find, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_duplicate_email_conflict, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_writes_need_a_transaction, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rollback_discards, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erase, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nested_snapshot_is_one, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_insert_erased_row, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_meta_at_commit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_audit_triggers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_busy_is_store_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token_list, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_session_rows, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_context, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_case_histories_keyed_by_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cache_kib, setup, teardown),
	};

	/* SQLite's own: its log file, secure_delete on its pages, a v1 file migrated. */
	const struct CMUnitTest sqlite_only[] = {
	    cmocka_unit_test_setup_teardown(test_passive_checkpoint_off_the_writer, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_erase_leaves_no_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_migration_2_on_v1_store, setup, teardown),
	};
	/* PostgreSQL's own: its connection lost and found again. */
	const struct CMUnitTest pg_only[] = {
	    cmocka_unit_test_setup_teardown(test_pg_reconnect, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("store", tests, NULL, NULL);

	if (!cu_test_store_is_pg())
		failed += cmocka_run_group_tests_name("store on sqlite", sqlite_only, NULL, NULL);
	else
		failed += cmocka_run_group_tests_name("store on postgresql", pg_only, NULL, NULL);
	return failed;
}
