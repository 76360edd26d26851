/*
 * test_checkpoint_files.c — the audit checkpoint file and its failures
 * (src/audit/checkpoint.h): a file missing, emptied, holding a NUL, too
 * large, tampered, signed under another key or by a key this custodian does
 * not hold, older than the store; a directory that cannot be opened; a
 * store whose chain lost what was signed; the strict line parser's edges;
 * every argument refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "store/backend.h"
#include "store/store.h"
#include "support.h"

#define KEY1  "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define KEY1B "1 2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110\n"
#define KEY2  "2 2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110\n"

struct fx {
	char *dir;
	char url[PATH_MAX + 8], ck[PATH_MAX]; /* the store: sqlite:DIR/store.db, or a schema */
	cu_store *s;
	cu_audit *a;
	cu_vault *v;
};

static void open_store(struct fx *f)
{
	char err[256];

	if (cu_store_open(f->url, &f->s, err, sizeof(err)) != CU_OK)
		fail_msg("open: %s", err);
	assert_int_equal(cu_audit_open(f->s, &f->a), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];

	assert_non_null(f);
	f->dir = cu_test_tmpdir();
	cu_test_store_url(f->dir, f->url, sizeof(f->url));
	snprintf(f->ck, sizeof(f->ck), "%s/%s", f->dir, CU_AUDIT_CHECKPOINT_FILE);
	open_store(f);
	assert_int_equal(cu_vault_open_text(KEY1, &f->v, err, sizeof(err)), CU_OK);
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
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

static void append(struct fx *f, int first, int last)
{
	char reason[32];

	assert_int_equal(cu_store_begin(f->s), CU_OK);
	for (int i = first; i <= last; i++) {
		cu_audit_entry e = {.actor = "operator",
		                    .role = "operator",
		                    .action = "read",
		                    .purpose = "support",
		                    .fields = "",
		                    .decision = "allow",
		                    .case_ref = "",
		                    .member = "",
		                    .time_us = 1700000000000000 + i};

		snprintf(reason, sizeof(reason), "entry %d", i);
		e.reason = reason;
		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
	}
	assert_int_equal(cu_store_commit(f->s), CU_OK);
	cu_audit_commit(f->a);
}

/* SQL on the store as someone holding it would run it (append-only triggers dropped). */
static void tamper(struct fx *f, const char *sql)
{
	cu_audit_free(f->a);
	cu_store_close(f->s);
	cu_test_store_unguard(f->url, "audit");
	(void)cu_test_store_sql(f->url, sql);
	open_store(f);
}

static void put_text(const char *path, const void *text, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static cu_result save(struct fx *f, bool force, bool *written, char *err, size_t errlen)
{
	return cu_audit_checkpoint_save(f->s, f->v, NULL, f->ck, force, NULL, written, err, errlen);
}

struct seen {
	int n;
	cu_audit_checkpoint_finding last;
};

static void on_finding(void *ud, const cu_audit_checkpoint_finding *fd)
{
	struct seen *s = ud;

	s->n++;
	s->last = *fd;
}

static cu_result verify(struct fx *f, const cu_vault *v, const char *own, const char *given,
                        cu_audit_verify_request *req, struct seen *seen)
{
	memset(req, 0, sizeof(*req));
	memset(seen, 0, sizeof(*seen));
	req->vault = v;
	req->own_file = own;
	req->given_file = given;
	req->on_finding = on_finding;
	req->ud = seen;
	return cu_audit_verify_checkpoints(f->s, req);
}

/* ---- the line format's edges ------------------------------------------------ */

static void test_parse_edges(void **state)
{
	struct fx *f = *state;
	cu_audit_checkpoint cp = {.seq = 5, .time_us = -1}, back;
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX], copy[CU_AUDIT_CHECKPOINT_LINE_MAX * 2];
	char *p;

	/* Before 1970: the fraction counts forward from the second before. */
	assert_int_equal(cu_audit_checkpoint_sign(f->v, &cp), CU_OK);
	cu_audit_checkpoint_format(&cp, line);
	assert_non_null(strstr(line, " time=1969-12-31T23:59:59.999999Z "));
	assert_int_equal(cu_audit_checkpoint_parse(line, &back), CU_OK);
	assert_int_equal(back.time_us, -1);
	assert_int_equal(cu_audit_checkpoint_check_signature(f->v, &back), CU_OK);

	/* A time past year 9999 is written as no time at all, and does not parse back. */
	cp.time_us = INT64_MAX;
	cu_audit_checkpoint_format(&cp, line);
	assert_non_null(strstr(line, " time=(unrepresentable time) "));
	assert_int_equal(cu_audit_checkpoint_parse(line, &back), CU_ERR_INVALID_ARGUMENT);

	cp.time_us = 1700000000000001;
	assert_int_equal(cu_audit_checkpoint_sign(f->v, &cp), CU_OK);
	cu_audit_checkpoint_format(&cp, line);
	/* seq: 21 digits, past INT64_MAX, a leading zero. */
	p = strstr(line, "seq=5 ");
	assert_non_null(p);
	snprintf(copy, sizeof(copy), "cu-audit-checkpoint-v1 seq=123456789012345678901 %s", p + 6);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	snprintf(copy, sizeof(copy), "cu-audit-checkpoint-v1 seq=9223372036854775808 %s", p + 6);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	snprintf(copy, sizeof(copy), "cu-audit-checkpoint-v1 seq=05 %s", p + 6);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	snprintf(copy, sizeof(copy), "cu-audit-checkpoint-v1 seq= %s", p + 6);
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	/* Upper-case hex is not the canonical form. */
	memcpy(copy, line, sizeof(line));
	p = strstr(copy, "head=") + 5;
	*p = 'A';
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	/* A key id wider than 32 bits. */
	memcpy(copy, line, sizeof(line));
	p = strstr(copy, " key=1 ");
	assert_non_null(p);
	{
		char tail[CU_AUDIT_CHECKPOINT_LINE_MAX];

		snprintf(tail, sizeof(tail), "%s", p + 7);
		snprintf(p, sizeof(copy) - (size_t)(p - copy), " key=4294967296 %s", tail);
	}
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);
	/* A line longer than any checkpoint. */
	memset(copy, 'x', sizeof(copy) - 1);
	copy[sizeof(copy) - 1] = '\0';
	assert_int_equal(cu_audit_checkpoint_parse(copy, &back), CU_ERR_INVALID_ARGUMENT);

	assert_int_equal(cu_audit_checkpoint_parse(NULL, &back), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_parse(line, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_sign(NULL, &cp), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_sign(f->v, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_check_signature(NULL, &cp), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_check_signature(f->v, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_make(NULL, f->v, &cp), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_make(f->s, NULL, &cp), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_write_file(NULL, &cp), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_checkpoint_write_file(f->ck, NULL), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(access(f->ck, F_OK), -1);

	assert_string_equal(cu_audit_checkpoint_status_name(CU_AUDIT_CHECKPOINT_GOOD), "good");
	assert_string_equal(cu_audit_checkpoint_status_name(CU_AUDIT_CHECKPOINT_UNKNOWN_KEY),
	                    "unknown_key");
	assert_string_equal(cu_audit_checkpoint_status_name(CU_AUDIT_CHECKPOINT_ABSENT), "absent");
	assert_string_equal(cu_audit_checkpoint_status_name((cu_audit_checkpoint_status)42),
	                    "unknown");
}

/* ---- saving ---------------------------------------------------------------------- */

static void test_save_refuses_a_file_it_cannot_trust(void **state)
{
	struct fx *f = *state;
	char err[512] = "", line[CU_AUDIT_CHECKPOINT_LINE_MAX + 64];
	const char nul[] = "# a comment\n\0\n";
	cu_audit_checkpoint cp;
	bool written = true;

	assert_int_equal(cu_audit_checkpoint_save(NULL, f->v, NULL, f->ck, false, NULL, &written,
	                                          err, sizeof(err)),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_false(written);
	assert_int_equal(
	    cu_audit_checkpoint_save(f->s, NULL, NULL, f->ck, false, NULL, NULL, NULL, 0),
	    CU_ERR_INVALID_ARGUMENT);

	append(f, 1, 3);
	assert_int_equal(save(f, false, &written, err, sizeof(err)), CU_OK);
	assert_true(written);

	/* A NUL byte: not a file Custodian wrote; kept as it is. */
	put_text(f->ck, nul, sizeof(nul) - 1);
	append(f, 4, 4);
	assert_int_equal(save(f, false, &written, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "cannot read '"));
	assert_non_null(strstr(err, "kept as it is"));
	assert_true(written); /* into the store; the file is the one left alone */
	assert_true(cu_test_file_contains_bytes(f->ck, nul, sizeof(nul) - 1));

	/* A line that is not a checkpoint, after comments and blank lines. */
	put_text(f->ck, "# kept\n\n  \r\ngarbage\n", 20);
	append(f, 5, 5);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "disagrees with the audit log (line 4 is not a checkpoint)"));
	assert_true(cu_test_file_contains(f->ck, "garbage"));

	/* A checkpoint altered by hand: its signature fails. */
	assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &cp), CU_OK);
	cp.seq = 2;
	cu_audit_checkpoint_format(&cp, line);
	line[strlen(line) + 1] = '\0';
	line[strlen(line)] = '\n';
	put_text(f->ck, line, strlen(line));
	append(f, 6, 6);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "has a bad signature: forged or altered"));
	assert_true(cu_test_file_contains(f->ck, "seq=2 "));

	/* Signed by a key this custodian does not hold. */
	{
		cu_vault *other = NULL;

		assert_int_equal(cu_vault_open_text(KEY2, &other, err, sizeof(err)), CU_OK);
		assert_int_equal(cu_audit_checkpoint_make(f->s, other, &cp), CU_OK);
		cu_vault_free(other);
	}
	assert_int_equal(cu_audit_checkpoint_write_file(f->ck, &cp), CU_OK);
	append(f, 7, 7);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "names key 2, which this custodian does not hold"));

	/* The operator moves the evidence away and starts again: a good file, older than the store. */
	assert_int_equal(unlink(f->ck), 0);
	assert_int_equal(save(f, true, &written, err, sizeof(err)), CU_OK);
	assert_true(written);
	assert_true(cu_test_file_contains(f->ck, "seq=7 "));
	append(f, 8, 9);
	assert_int_equal(save(f, false, &written, err, sizeof(err)), CU_OK);
	assert_true(written);
	assert_true(cu_test_file_contains(f->ck, "seq=9 "));
	assert_false(cu_test_file_contains(f->ck, "seq=7 "));
}

static void test_save_to_a_directory_that_is_not_there(void **state)
{
	struct fx *f = *state;
	char err[512] = "", path[PATH_MAX + 32];
	cu_audit_checkpoint out;
	bool written = false;

	append(f, 1, 2);
	snprintf(path, sizeof(path), "%s/none/%s", f->dir, CU_AUDIT_CHECKPOINT_FILE);
	assert_int_equal(cu_audit_checkpoint_save(f->s, f->v, NULL, path, false, &out, &written,
	                                          err, sizeof(err)),
	                 CU_ERR_IO);
	assert_non_null(strstr(err, "cannot open the directory of '"));
	/* Signed and stored all the same; only the file could not be written. */
	assert_true(written);
	assert_int_equal(out.seq, 2);
	/* The checkpoint file as a directory cannot be read: left as it is. */
	assert_int_equal(mkdir(f->ck, 0700), 0);
	append(f, 3, 3);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_non_null(strstr(err, "kept as it is"));
}

/* A store whose chain lost entries that a stored checkpoint covers: nothing is signed over it. */
static void test_save_refuses_a_cut_chain(void **state)
{
	struct fx *f = *state;
	char err[512] = "";
	bool written = true;

	append(f, 1, 10);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_OK);
	tamper(f, "DELETE FROM audit WHERE seq > 6;"
	          "UPDATE meta SET value = (SELECT seq || ':' || lower(hex(hash)) FROM audit"
	          " WHERE seq = 6) WHERE key = 'audit_head';");
	assert_int_equal(save(f, true, &written, err, sizeof(err)), CU_ERR_AUDIT_BROKEN);
	assert_false(written);
	assert_non_null(strstr(err, "not signing a checkpoint: entries 7-10 missing: the log ends "
	                            "at 6 but the checkpoint signed at "));
}

/* ---- verifying --------------------------------------------------------------------- */

static void test_verify_file_failures(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct seen seen;
	char err[512] = "", given[PATH_MAX + 16];
	static char big[CU_AUDIT_CHECKPOINT_FILE_MAX + 2];
	cu_vault *wrong = NULL, *other = NULL;

	assert_int_equal(cu_audit_verify_checkpoints(NULL, &req), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_audit_verify_checkpoints(f->s, NULL), CU_ERR_INVALID_ARGUMENT);
	memset(&req, 0, sizeof(req));
	assert_int_equal(cu_audit_verify_checkpoints(f->s, &req), CU_ERR_INVALID_ARGUMENT);

	/* An empty chain and no file yet: nothing to anchor, nothing wrong. */
	assert_int_equal(verify(f, f->v, f->ck, NULL, &req, &seen), CU_OK);
	assert_int_equal(seen.n, 0);

	append(f, 1, 5);
	/* The file missing once the chain has entries. */
	assert_int_equal(verify(f, f->v, f->ck, NULL, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.bad, 1);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_ABSENT);
	assert_non_null(strstr(req.first_bad.what, "no checkpoint file next to the database"));

	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_OK);
	assert_int_equal(verify(f, f->v, f->ck, NULL, &req, &seen), CU_OK);
	assert_int_equal(req.covered_seq, 5);
	assert_int_equal(req.checkpoints, 2); /* the file's and the store's */

	/* A file the operator kept elsewhere must exist. */
	snprintf(given, sizeof(given), "%s/kept.checkpoint", f->dir);
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_ABSENT);
	assert_string_equal(req.first_bad.what,
	                    "cannot read the checkpoint file: No such file or directory");
	assert_string_equal(req.first_bad.source, given);

	/* Emptied (comments only): a cut hides there as well as in a deleted file. */
	put_text(given, "# nothing\n", 10);
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_MALFORMED);
	assert_string_equal(req.first_bad.what, "the checkpoint file holds no checkpoint");

	/* A line that is not a checkpoint, named by its line number. */
	put_text(given, "\n# c\nnot a checkpoint", 21);
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_MALFORMED);
	assert_int_equal(req.first_bad.line, 3);
	assert_non_null(strstr(req.first_bad.what, "not a checkpoint (expected '"));

	/* Too large to be a checkpoint file. */
	memset(big, '#', sizeof(big));
	put_text(given, big, sizeof(big));
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_string_equal(req.first_bad.what,
	                    "cannot read the checkpoint file: too large to be one");

	/* The right id, the wrong key: every checkpoint is forged as far as it can tell. */
	assert_int_equal(cu_vault_open_text(KEY1B, &wrong, err, sizeof(err)), CU_OK);
	assert_int_equal(verify(f, wrong, f->ck, NULL, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.bad, 2);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_FORGED);
	cu_vault_free(wrong);
	/* Only another id: unknown. */
	assert_int_equal(cu_vault_open_text(KEY2, &other, err, sizeof(err)), CU_OK);
	assert_int_equal(verify(f, other, f->ck, NULL, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_UNKNOWN_KEY);
	assert_non_null(strstr(req.first_bad.what, "names key 1, which this custodian"));
	cu_vault_free(other);

	/* Inside a transaction it checks that transaction's view, and says the same. */
	assert_int_equal(cu_store_begin(f->s), CU_OK);
	assert_int_equal(verify(f, f->v, f->ck, NULL, &req, &seen), CU_OK);
	assert_int_equal(req.covered_seq, 5);
	cu_store_rollback(f->s);
}

/* A checkpoint of the very next entry past the end of a cut log. */
static void test_verify_names_the_one_entry_cut(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct seen seen;
	char err[512] = "";

	append(f, 1, 8);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_OK);
	tamper(f, "DELETE FROM audit WHERE seq > 7;"
	          "UPDATE meta SET value = (SELECT seq || ':' || lower(hex(hash)) FROM audit"
	          " WHERE seq = 7) WHERE key = 'audit_head';");
	assert_int_equal(verify(f, f->v, f->ck, NULL, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_MISSING);
	assert_non_null(strstr(req.first_bad.what, "entry 8 missing: the log ends at 7 but"));
}

/* A checkpoint whose entry was taken out of the middle of the chain. */
static void test_verify_names_an_entry_gone_from_the_middle(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	struct seen seen;
	cu_audit_checkpoint cp;
	char err[512] = "", given[PATH_MAX + 16];

	snprintf(given, sizeof(given), "%s/kept.checkpoint", f->dir);
	append(f, 1, 5);
	assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &cp), CU_OK);
	assert_int_equal(cp.seq, 5);
	assert_int_equal(cu_audit_checkpoint_write_file(given, &cp), CU_OK);
	append(f, 6, 9);
	assert_int_equal(save(f, false, NULL, err, sizeof(err)), CU_OK);
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_OK);
	assert_int_equal(req.checkpoints, 3);

	tamper(f, "DELETE FROM audit WHERE seq = 5;");
	assert_int_equal(verify(f, f->v, f->ck, given, &req, &seen), CU_ERR_AUDIT_BROKEN);
	assert_int_equal(req.bad, 1);
	assert_int_equal(req.first_bad.status, CU_AUDIT_CHECKPOINT_MISSING);
	assert_string_equal(req.first_bad.source, given);
	assert_int_equal(req.first_bad.line, 1);
	assert_non_null(strstr(req.first_bad.what, "entry 5 missing: the checkpoint signed at "));
	assert_non_null(strstr(req.first_bad.what, " covers it"));
	/* The newer checkpoints still hold: the entry they sign is there. */
	assert_int_equal(req.covered_seq, 9);
}

/* Times before year 0, and a negative fraction, are no checkpoint's. */
static void test_times_out_of_range(void **state)
{
	struct fx *f = *state;
	cu_audit_checkpoint cp = {.seq = 1, .time_us = -100000000000000000}, back;
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX], *t;

	assert_int_equal(cu_audit_checkpoint_sign(f->v, &cp), CU_OK);
	cu_audit_checkpoint_format(&cp, line);
	assert_non_null(strstr(line, " time=(unrepresentable time) "));
	cp.time_us = INT64_MIN;
	cu_audit_checkpoint_format(&cp, line);
	assert_non_null(strstr(line, " time=(unrepresentable time) "));
	assert_int_equal(cu_audit_checkpoint_parse(line, &back), CU_ERR_INVALID_ARGUMENT);
	cp.time_us = 1;
	assert_int_equal(cu_audit_checkpoint_sign(f->v, &cp), CU_OK);
	cu_audit_checkpoint_format(&cp, line);
	t = strstr(line, ".000001Z");
	assert_non_null(t);
	memcpy(t, ".-00001Z", 8);
	assert_int_equal(cu_audit_checkpoint_parse(line, &back), CU_ERR_INVALID_ARGUMENT);
}

/* A kept file of many checkpoints (and comments), checked inside a snapshot, nobody told. */
static void test_many_checkpoints_in_a_kept_file(void **state)
{
	struct fx *f = *state;
	cu_audit_verify_request req;
	cu_audit_checkpoint cp;
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX], given[PATH_MAX + 16], err[8] = "x";
	FILE *fp;

	snprintf(given, sizeof(given), "%s/kept.checkpoint", f->dir);
	fp = fopen(given, "w");
	assert_non_null(fp);
	fputs("\t# kept by the operator\n", fp);
	for (int i = 1; i <= 12; i++) {
		append(f, i, i);
		assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &cp), CU_OK);
		cu_audit_checkpoint_format(&cp, line);
		fprintf(fp, "%s\r\n", line);
	}
	assert_int_equal(fclose(fp), 0);
	/* Into the store only; no room for a message is no reason to fail. */
	assert_int_equal(
	    cu_audit_checkpoint_save(f->s, f->v, NULL, NULL, false, NULL, NULL, err, 0), CU_OK);
	assert_string_equal(err, "x");
	assert_int_equal(access(f->ck, F_OK), -1);

	memset(&req, 0, sizeof(req));
	req.vault = f->v;
	req.given_file = given;
	assert_int_equal(cu_store_snapshot_begin(f->s), CU_OK);
	assert_int_equal(cu_audit_verify_checkpoints(f->s, &req), CU_OK);
	cu_store_snapshot_end(f->s);
	assert_int_equal(req.checkpoints, 13);
	assert_int_equal(req.bad, 0);
	assert_int_equal(req.covered_seq, 12);
	assert_int_equal(req.last_seq, 12);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_parse_edges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_times_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_checkpoints_in_a_kept_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_save_refuses_a_file_it_cannot_trust, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_save_to_a_directory_that_is_not_there, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_save_refuses_a_cut_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_file_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_the_one_entry_cut, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_verify_names_an_entry_gone_from_the_middle, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
