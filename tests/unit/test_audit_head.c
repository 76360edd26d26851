/*
 * test_audit_head.c — the audit chain's head as the store keeps it
 * (src/audit/audit.c): a head in meta malformed in each way the parser
 * refuses, too long, or disagreeing with the table, and the writer refuses
 * to open (fail closed); another writer's entries picked up by a sync, and
 * a sync that finds the head broken; what append does with ids and texts
 * that are not of their form; every argument refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"
#include "store/store.h"
#include "support.h"

#define HEX64 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

struct fx {
	char *dir;
	char url[PATH_MAX + 8]; /* sqlite:DIR/store.db, or a schema of the test database */
	cu_store *s;
	cu_audit *a;
};

static void open_store(struct fx *f)
{
	char err[256];

	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
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
	cu_test_store_drop(f->url);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

static cu_audit_entry entry(const char *reason)
{
	cu_audit_entry e = {.actor = "operator",
	                    .role = "operator",
	                    .action = "read",
	                    .purpose = "support",
	                    .fields = "",
	                    .decision = "allow",
	                    .case_ref = "",
	                    .member = "",
	                    .reason = reason};

	return e;
}

static void append(struct fx *f, cu_audit *a, int n)
{
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = 0; i < n; i++) {
		cu_audit_entry e = entry("r");

		assert_int_equal(cu_audit_append(a, f->s, &e), CU_OK);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(a);
}

/* Sets the meta head to val through a raw connection, then reopens the store. */
static void set_head(struct fx *f, const char *val)
{
	char sql[256];

	cu_store_close(f->s);
	/* The heads tried hold no quote. */
	assert_null(strchr(val, '\''));
	snprintf(sql, sizeof(sql),
	         "DELETE FROM meta WHERE key = 'audit_head';"
	         "INSERT INTO meta(key, value) VALUES('audit_head', '%s')",
	         val);
	cu_test_store_sql(f->url, sql);
	open_store(f);
}

static void test_malformed_heads_fail_closed(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
	    "",
	    ":" HEX64,
	    "x3:" HEX64,
	    "3" HEX64,
	    "3;" HEX64,
	    "3:" HEX64 "0",
	    "3:" HEX64 "000", /* longer than any head */
	    "3:00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg",
	    "99999999999999999999999:" HEX64,
	    "2:" HEX64, /* well formed, but not this chain's head */
	};
	char good[128];
	cu_audit *a = (cu_audit *)1;

	append(f, f->a, 3);
	/* The good head, to put back at the end. */
	cu_test_store_sql_text(f->url, "SELECT value FROM meta WHERE key = 'audit_head'", good,
	                       sizeof(good));
	assert_int_equal(strncmp(good, "3:", 2), 0);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		set_head(f, bad[i]);
		a = (cu_audit *)1;
		if (cu_audit_open(f->s, &a) != CU_ERR_AUDIT_BROKEN)
			fail_msg("head '%s' was accepted", bad[i]);
		assert_null(a);
	}
	/* A head the sync of a running writer finds broken stops it too. */
	assert_int_equal(cu_audit_sync(f->a, f->s), CU_OK); /* nothing new: nothing read */
	set_head(f, good);
	assert_int_equal(cu_audit_open(f->s, &a), CU_OK);
	cu_audit_free(a);
}

static void test_sync_follows_another_writer(void **state)
{
	struct fx *f = *state;
	cu_audit *other = NULL;
	cu_audit_entry e = entry("mine");
	cu_audit_report r;

	append(f, f->a, 2);
	assert_int_equal(cu_audit_open(f->s, &other), CU_OK);
	append(f, other, 3); /* another writer: the first has not seen these */
	assert_int_equal(cu_audit_head_seq(f->a), 2);
	assert_int_equal(cu_audit_sync(f->a, f->s), CU_OK);
	assert_int_equal(cu_audit_head_seq(f->a), 5);
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_int_equal(e.seq, 6);
	/* Only between transactions. */
	assert_int_equal(cu_audit_sync(f->a, f->s), CU_ERR_INTERNAL);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
	assert_int_equal(cu_audit_verify(f->s, &r, NULL, NULL), CU_OK);
	assert_int_equal(r.checked, 6);

	/* The other writer, behind now, finds the head broken when it was rewritten. */
	set_head(f, "6:" HEX64);
	assert_int_equal(cu_audit_sync(other, f->s), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(cu_audit_head_seq(other), 5);
	cu_audit_free(other);

	assert_int_equal(cu_audit_sync(NULL, f->s), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_sync(f->a, NULL), CU_ERR_INVALID_ARGUMENT);
}

static void test_append_refusals_and_scrubbing(void **state)
{
	struct fx *f = *state;
	cu_audit_entry e = entry("r");
	char *big = malloc(65537);
	cu_audit *a = NULL;

	assert_non_null(big);
	assert_int_equal(cu_audit_open(NULL, &a), CU_ERR_INVALID_ARGUMENT);
	assert_null(a);
	assert_int_equal(cu_audit_open(f->s, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_append(NULL, f->s, &e), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_append(f->a, NULL, &e), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_append(f->a, f->s, NULL), CU_ERR_INVALID_ARGUMENT);
	cu_audit_commit(NULL);
	cu_audit_rollback(NULL);
	assert_int_equal(cu_audit_head_seq(NULL), 0);

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	/* A text longer than an entry holds: refused, nothing appended. */
	memset(big, 'r', 65536);
	big[65536] = '\0';
	e.reason = big;
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_ERR_TOO_LARGE);
	big[65535] = '\0';
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_int_equal(e.seq, 1);

	/* Ids not of their form are not written as given. */
	e = entry("r");
	e.purpose = "provision:acme_ltd-2";
	e.member = "not-a-member-id";
	e.case_ref = "case\xe2\x80\xae"
	             "1";
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, "provision:acme_ltd-2");
	assert_string_equal(e.member, CU_AUDIT_MALFORMED);
	assert_string_equal(e.case_ref, CU_AUDIT_MALFORMED);
	e = entry("r");
	e.purpose = "provision:Acme";
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, CU_AUDIT_MALFORMED);
	e = entry("r");
	e.purpose = "provision:" CU_AUDIT_MALFORMED;
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, "provision:" CU_AUDIT_MALFORMED);
	e = entry("r");
	e.purpose = "provision:";
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, CU_AUDIT_MALFORMED);
	e = entry("r");
	e.purpose = "provision:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"; /* 41 characters */
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, CU_AUDIT_MALFORMED);
	e = entry("r");
	e.purpose = "Support";
	assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	assert_string_equal(e.purpose, CU_AUDIT_MALFORMED);
	assert_int_equal(e.seq, 7);
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
	free(big);

	{
		cu_audit_report r;

		assert_int_equal(cu_audit_verify(f->s, &r, NULL, NULL), CU_OK);
		assert_int_equal(r.checked, 7);
		assert_int_equal(cu_audit_verify(f->s, NULL, NULL, NULL), CU_OK);
		assert_int_equal(cu_audit_verify(NULL, &r, NULL, NULL), CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(r.checked, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_malformed_heads_fail_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sync_follows_another_writer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_append_refusals_and_scrubbing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
