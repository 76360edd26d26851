/*
 * test_alloc_faults_vault.c — out of memory in the lower layers: the policy
 * loader, the keyring, the backup container, the checkpoint file reader and
 * signed JSON (alloc_fault.h, the process's malloc/calloc/realloc; builds
 * without sanitizers only).
 *
 * For each operation (the policy loader apart, see test_policy),
 * N = 1, 2, 3, ...: the Nth allocation fails, the
 * operation runs once, failing stops.  Every attempt ends in CU_OK or an
 * error that names the resource (out of memory; I/O where a libc call such
 * as fopen could not allocate), hands nothing out, and leaves the files as
 * they were; the first N the operation no longer reaches must succeed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "alloc_fault.h"
#include "audit/audit.h"
#include "audit/checkpoint.h"
#include "policy/policy.h"
#include "store/store.h"
#include "support.h"
#include "util/file_read.h"
#include "vault/keyring.h"
#include "vault/signed_json.h"
#include "vault/stream.h"
#include "vault/vault.h"

#define KEY1       "1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
#define MAX_POINTS 5000

struct fx {
	char *dir;
	char ring[PATH_MAX], box[PATH_MAX], ck[PATH_MAX], db[PATH_MAX];
	cu_vault *v;
	char *policy;
	size_t policy_len;
	cu_store *s;
	cu_audit *a;
};

/* One operation; *handed_out says whether it gave anything back although it failed. */
typedef cu_result (*op_fn)(struct fx *f, bool *handed_out);

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256], url[PATH_MAX + 16];
	cu_keyring *r = NULL;

	if (!f)
		return -1;
	f->dir = cu_test_tmpdir();
	snprintf(f->ring, sizeof(f->ring), "%s/keyring", f->dir);
	snprintf(f->box, sizeof(f->box), "%s/b.cubackup", f->dir);
	snprintf(f->ck, sizeof(f->ck), "%s/kept.checkpoint", f->dir);
	snprintf(f->db, sizeof(f->db), "%s/store.db", f->dir);
	if (cu_vault_open_text(KEY1, &f->v, err, sizeof(err)) ||
	    cu_keyring_open(f->v, f->ring, true, &r, err, sizeof(err)))
		return -1;
	cu_keyring_free(r);
	f->policy = cu_file_read_bounded(cu_test_source_path("policy/default.json"),
	                                 CU_POLICY_FILE_MAX, &f->policy_len);
	snprintf(url, sizeof(url), "sqlite:%s", f->db);
	if (!f->policy || cu_store_open(url, &f->s, err, sizeof(err)) || cu_audit_open(f->s, &f->a))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_audit_free(f->a);
	cu_store_close(f->s);
	cu_vault_free(f->v);
	free(f->policy);
	cu_test_rmdir(f->dir);
	free(f);
	return 0;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	unsigned char *b = (unsigned char *)cu_file_read_bounded(path, 1 << 20, len);

	assert_non_null(b);
	return b;
}

/* Runs op with the Nth allocation failing, for every N it reaches. */
#define CLEAN_IO    1 /* a libc call (fopen) that could not allocate: an I/O error */
#define CLEAN_STORE 2 /* SQLite could not allocate: a store error */

static void each_point(struct fx *f, const char *name, op_fn op, const char *file, int clean)
{
	size_t before_len = 0, after_len = 0;
	unsigned char *before = file ? slurp(file, &before_len) : NULL;
	unsigned long n;

	for (n = 1; n < MAX_POINTS; n++) {
		bool handed_out = false, injected;
		cu_result rc;

		cu_fault_arm(CU_FAULT_LIBC, n, false);
		rc = op(f, &handed_out);
		injected = cu_fault_disarm();
		if (!injected) {
			if (rc != CU_OK)
				fail_msg("%s: %s without an injected failure", name,
				         cu_strerror(rc));
			break;
		}
		if (rc == CU_OK)
			continue; /* the failed allocation had a way around it */
		if (rc != CU_ERR_NOMEM && !((clean & CLEAN_IO) && rc == CU_ERR_IO) &&
		    !((clean & CLEAN_STORE) && rc == CU_ERR_STORE))
			fail_msg("%s: allocation %lu failed, and the answer was '%s'", name, n,
			         cu_strerror(rc));
		if (handed_out)
			fail_msg("%s: allocation %lu failed, and something was handed out", name,
			         n);
		if (file) {
			unsigned char *after = slurp(file, &after_len);

			if (after_len != before_len || memcmp(after, before, before_len))
				fail_msg("%s: allocation %lu failed, and '%s' changed", name, n,
				         file);
			free(after);
		}
	}
	assert_true(n > 1); /* the operation allocates: something was tried */
	assert_true(n < MAX_POINTS);
	if (getenv("CU_FAULT_VERBOSE"))
		fprintf(stderr, "%s: %lu injection points\n", name, n - 1);
	free(before);
}

/* ---- the operations ------------------------------------------------------------ */

static cu_result op_keyring_open(struct fx *f, bool *out)
{
	cu_keyring *r = NULL;
	char err[256];
	cu_result rc = cu_keyring_open(f->v, f->ring, false, &r, err, sizeof(err));

	*out = rc && r;
	cu_keyring_free(r);
	return rc;
}

static cu_result op_keyring_add_drop(struct fx *f, bool *out)
{
	cu_keyring *r = NULL;
	char err[256];
	uint32_t id = 0, first;
	cu_result rc;

	*out = false;
	rc = cu_keyring_open(f->v, f->ring, false, &r, err, sizeof(err));
	if (rc)
		return rc;
	first = cu_keyring_current_tree(r);
	rc = cu_keyring_add_tree(r, &id, err, sizeof(err));
	if (!rc)
		rc = cu_keyring_drop_tree(r, first, err, sizeof(err));
	cu_keyring_free(r);
	return rc;
}

static cu_result op_stream_round_trip(struct fx *f, bool *out)
{
	static const unsigned char chunk[] = "a chunk of a backup";
	static const char manifest[] = "{\"format\":\"custodian-backup\"}";
	unsigned char *buf = NULL;
	cu_stream_writer *w = NULL;
	cu_stream_reader *r = NULL;
	char err[256], *m = NULL;
	bool done = false;
	size_t len;
	int fd = open(f->box, O_RDWR | O_CREAT | O_TRUNC, 0600);
	cu_result rc;

	*out = false;
	assert_true(fd >= 0);
	rc = cu_stream_writer_new(f->v, fd, &w);
	*out |= rc && w;
	if (!rc)
		rc = cu_stream_write(w, chunk, sizeof(chunk));
	if (!rc)
		rc = cu_stream_writer_finish(w, manifest, sizeof(manifest) - 1);
	cu_stream_writer_free(w);
	if (!rc)
		rc = cu_stream_manifest_read(fd, &m, NULL, NULL, NULL, err, sizeof(err));
	*out |= rc && m;
	free(m);
	if (!rc)
		rc = cu_stream_reader_new(f->v, fd, &r, err, sizeof(err));
	*out |= rc && r;
	buf = malloc(CU_STREAM_CHUNK_MAX);
	if (!rc && !buf)
		rc = CU_ERR_NOMEM; /* the test's own buffer */
	while (!rc && !done)
		rc = cu_stream_read(r, buf, &len, &done, err, sizeof(err));
	free(buf);
	cu_stream_reader_free(r);
	close(fd);
	return rc;
}

static cu_result op_checkpoint_verify(struct fx *f, bool *out)
{
	cu_audit_verify_request req;
	cu_result rc;

	*out = false;
	memset(&req, 0, sizeof(req));
	req.vault = f->v;
	req.given_file = f->ck;
	rc = cu_audit_verify_checkpoints(f->s, &req);
	/* A file that cannot be read for want of memory is a finding, not a broken log. */
	if (rc == CU_ERR_AUDIT_BROKEN && req.bad == 1 &&
	    req.first_bad.status == CU_AUDIT_CHECKPOINT_ABSENT &&
	    strstr(req.first_bad.what, strerror(ENOMEM)))
		rc = CU_ERR_NOMEM;
	return rc;
}

static cu_result op_signed_json(struct fx *f, bool *out)
{
	json_t *body = json_pack("{s:s,s:i}", "member", "x", "n", 1);
	char *doc = (char *)1;
	cu_result rc;

	if (!body)
		return CU_ERR_NOMEM;
	rc = cu_signed_json_seal(f->v, "receipt", body, &doc);
	*out = rc && doc;
	/* Whole: it reads back, with its signature under its name. */
	if (!rc) {
		json_t *back = json_loads(doc, 0, NULL);

		if (back && !json_is_string(json_object_get(back, "signature")))
			rc = CU_ERR_INTERNAL;
		json_decref(back);
	}
	if (!rc)
		free(doc);
	json_decref(body);
	return rc;
}

/* ---- the tests ------------------------------------------------------------------- */

/*
 * The policy loader is not run at every point: jansson 2.14 itself aborts
 * (an assert in its lexer) when some of its later allocations fail.  What
 * the loader decides is tested: the parser's first allocation, and the
 * file's buffer.
 */
static void test_policy(void **state)
{
	struct fx *f = *state;
	cu_policy *p = (cu_policy *)1;
	char err[256] = "";
	cu_result rc;

	/* jansson's first allocation: it says nothing, and it is not the file's fault. */
	cu_fault_arm(CU_FAULT_LIBC, 1, false);
	rc = cu_policy_load_buffer("default.json", f->policy, f->policy_len, &p, err, sizeof(err));
	assert_true(cu_fault_disarm());
	assert_int_equal(rc, CU_ERR_NOMEM);
	assert_null(p);
	assert_string_equal(err, "default.json: out of memory");

	/* The file's buffer (the second allocation; the first is fopen's). */
	cu_fault_arm(CU_FAULT_LIBC, 2, false);
	rc = cu_policy_load_file(cu_test_source_path("policy/default.json"), &p, err, sizeof(err));
	assert_true(cu_fault_disarm());
	assert_int_equal(rc, CU_ERR_NOMEM);
	assert_null(p);
	assert_non_null(strstr(err, "default.json: out of memory"));

	assert_int_equal(
	    cu_policy_load_buffer("default.json", f->policy, f->policy_len, &p, err, sizeof(err)),
	    CU_OK);
	cu_policy_free(p);
}

static void test_keyring(void **state)
{
	struct fx *f = *state;

	each_point(f, "keyring open", op_keyring_open, f->ring, 0);
	each_point(f, "keyring add and drop", op_keyring_add_drop, NULL, 0);
}

static void test_stream(void **state)
{
	each_point(*state, "backup container", op_stream_round_trip, NULL, 0);
}

static void test_checkpoints(void **state)
{
	struct fx *f = *state;
	cu_audit_checkpoint cp;
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX];
	FILE *fp = fopen(f->ck, "w");

	assert_non_null(fp);
	for (int i = 1; i <= 20; i++) {
		cu_audit_entry e = {.actor = "operator",
		                    .role = "operator",
		                    .action = "read",
		                    .purpose = "support",
		                    .fields = "",
		                    .decision = "allow",
		                    .case_ref = "",
		                    .member = "",
		                    .reason = "r"};

		assert_int_equal(cu_store_begin(f->s), CU_OK);
		assert_int_equal(cu_audit_append(f->a, f->s, &e), CU_OK);
		assert_int_equal(cu_store_commit(f->s), CU_OK);
		cu_audit_commit(f->a);
		assert_int_equal(cu_audit_checkpoint_make(f->s, f->v, &cp), CU_OK);
		cu_audit_checkpoint_format(&cp, line);
		fprintf(fp, "%s\n", line);
	}
	assert_int_equal(fclose(fp), 0);
	each_point(f, "checkpoint verify", op_checkpoint_verify, f->ck, CLEAN_IO | CLEAN_STORE);
}

static void test_signed_json(void **state)
{
	each_point(*state, "signed json", op_signed_json, NULL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_keyring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_signed_json, setup, teardown),
	};

	if (!cu_fault_libc_available()) {
		fprintf(stderr, "test_alloc_faults_vault: no malloc injector in this build (a "
		                "sanitizer owns malloc); nothing to run\n");
		return 0;
	}
	unsetenv("CUSTODIAN_MASTER_KEY");
	if (cu_vault_global_init() != CU_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
