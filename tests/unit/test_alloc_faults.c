/*
 * test_alloc_faults.c — allocation failure paths (docs/reliability-faults.md).
 *
 * For each representative operation, N = 1, 2, 3, ...: make the Nth
 * allocation fail (alloc_fault.h), run the operation once, stop failing.
 * Each attempt must end in a clean result — CU_OK, or an error that says
 * the resource failed (out of memory, store, I/O, internal), never a wrong
 * answer such as "not found", "conflict" or "audit broken" — and an attempt
 * that failed must leave the database exactly as it was (every table's
 * content hashed before and after, through the library's own connection so
 * an open transaction would show), no transaction open, the audit chain's
 * pending head back at the committed one, and `audit verify` intact.  The
 * loop ends at the first N the operation no longer reaches: that run must
 * succeed (recovery), and N-1 is the number of injection points covered.
 *
 * Two injectors: SQLite's allocator (every build) and the whole process's
 * malloc/calloc/realloc (builds without sanitizers only).  Set
 * CU_FAULT_VERBOSE=1 for a line per operation with its injection points.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fault.h"
#include "access/access.h"
#include "audit/audit.h"
#include "domain/complaints.h"
#include "domain/consent.h"
#include "domain/import.h"
#include "domain/members.h"
#include "domain/requests.h"
#include "http/http.h"
#include "server.h"
#include "store/sqlite/sqlite.h"
#include "support.h"

#include <jansson.h>

#define N(a)       (sizeof(a) / sizeof((a)[0]))
#define T0         ((int64_t)1796083200 * 1000000) /* 2026-12-01T00:00:00Z */
#define MAX_POINTS 20000 /* a bound on N per operation: far above any operation's count */
#define FP_BYTES   32

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor desk = {"support desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor op_actor = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1]; /* a member every operation can use */
	char fresh[CU_ID_LEN + 1]; /* a member registered before each attempt, when needed */
	cu_actor self;
	unsigned long serial; /* makes every attempt's e-mail addresses unique */
	char csv[700];
	uint64_t imported; /* the last import's report */
	char err[256];     /* and its message */
};

static unsigned long total_points, total_ops;

static void register_member(cu_ctx *ctx, unsigned long serial, const char *tag,
                            char id[CU_ID_LEN + 1])
{
	char email[80];
	const cu_kv kv[] = {
	    {"name", "Fault Tester"},
	    {"address", "3 Allocation Row"},
	    {"phone", "+81312345678"},
	    {"email", email},
	};
	cu_errors errs;

	snprintf(email, sizeof(email), "%s%lu@faults.example", tag, serial);
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	register_member(f->ctx, 0, "alice", f->alice);
	f->self = (cu_actor){f->alice, CU_ROLE_MEMBER, f->alice, NULL};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cu_test_ctx_free(f->ctx, f->dir);
	free(f);
	return 0;
}

/*
 * PostgreSQL's fingerprint, in one query: every table of the store's schema
 * as XML (bytes in base64), rows in their text's order, hashed by the server.
 */
static void fingerprint_pg(cu_ctx *ctx, bool skip_audit, unsigned char out[FP_BYTES])
{
	char sql[1200], md5[64];

	snprintf(
	    sql, sizeof(sql),
	    "SELECT md5(string_agg(table_name || ':' || query_to_xml(format("
	    "'SELECT * FROM %%I x %%s ORDER BY x::text', table_name,"
	    " CASE WHEN %s AND table_name = 'meta'"
	    " THEN 'WHERE key NOT IN (''audit_head'', ''audit_member_indexed'')' ELSE '' END),"
	    " true, false, '')::text, '|' ORDER BY table_name))"
	    " FROM information_schema.tables WHERE table_schema = current_schema()"
	    " AND table_type = 'BASE TABLE' AND NOT (%s AND table_name IN ('audit', 'audit_member'))",
	    skip_audit ? "true" : "false", skip_audit ? "true" : "false");
	cu_test_store_own_text(ctx->store, sql, md5, sizeof(md5));
	memset(out, 0, FP_BYTES);
	memcpy(out, md5, strlen(md5) < FP_BYTES ? strlen(md5) : FP_BYTES);
}

/* Every table's every row, hashed, through the library's own connection. */
static void fingerprint(cu_ctx *ctx, bool skip_audit, unsigned char out[FP_BYTES])
{
	sqlite3 *db = cu_sqlite(ctx->store)->db;
	crypto_generichash_state h;
	sqlite3_stmt *tables = NULL, *rows = NULL;
	char sql[200];

	if (cu_test_store_is_pg()) {
		fingerprint_pg(ctx, skip_audit, out);
		return;
	}
	crypto_generichash_init(&h, NULL, 0, FP_BYTES);
	assert_int_equal(sqlite3_prepare_v2(db,
	                                    "SELECT name FROM sqlite_master WHERE type = 'table' "
	                                    "ORDER BY name",
	                                    -1, &tables, NULL),
	                 SQLITE_OK);
	while (sqlite3_step(tables) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(tables, 0);

		/* The per-member index follows the audit rows (a denial is indexed at its commit). */
		if (skip_audit && (!strcmp(name, "audit") || !strcmp(name, "audit_member")))
			continue;
		crypto_generichash_update(&h, (const unsigned char *)name, strlen(name) + 1);
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" %s ORDER BY rowid", name,
		         skip_audit && !strcmp(name, "meta")
		             ? "WHERE key NOT IN ('audit_head', 'audit_member_indexed')"
		             : "");
		if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK) {
			/* A WITHOUT ROWID table: its own order is its key's. */
			snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\"", name);
			assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &rows, NULL), SQLITE_OK);
		}
		while (sqlite3_step(rows) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(rows); i++) {
				unsigned char type = (unsigned char)sqlite3_column_type(rows, i);
				const void *b = sqlite3_column_blob(rows, i);
				uint32_t n = (uint32_t)sqlite3_column_bytes(rows, i);

				crypto_generichash_update(&h, &type, 1);
				crypto_generichash_update(&h, (const unsigned char *)&n, sizeof(n));
				if (n)
					crypto_generichash_update(&h, b, n);
			}
		}
		sqlite3_finalize(rows);
		rows = NULL;
	}
	sqlite3_finalize(tables);
	crypto_generichash_final(&h, out, FP_BYTES);
}

static void assert_chain_intact(cu_ctx *ctx)
{
	cu_audit_report rep;

	assert_int_equal(cu_audit_verify(ctx->store, &rep, NULL, NULL), CU_OK);
}

/* The newest audit entry is a refusal (a failed read is never recorded as allowed). */
static void assert_last_entry_denied(cu_ctx *ctx)
{
	char decision[16];

	cu_test_store_own_text(ctx->store, "SELECT decision FROM audit ORDER BY seq DESC LIMIT 1",
	                       decision, sizeof(decision));
	assert_string_equal(decision, "deny");
}

/*
 * A result that says "memory (or the store, whose SQLite ran out) failed",
 * not a wrong answer about the data nor "a file could not be read".
 */
static bool clean_failure(cu_result rc)
{
	return rc == CU_ERR_NOMEM || rc == CU_ERR_STORE || rc == CU_ERR_INTERNAL;
}

/* ---- the operations: prep runs unarmed before each attempt, run is the attempt ---- */

struct op {
	const char *name;
	void (*prep)(struct fx *f);
	cu_result (*run)(struct fx *f);
	uint64_t members_added; /* by a successful run */
	/*
	 * The door audits every decision, a failed one too: an attempt that
	 * failed may leave one whole audit entry (a "deny" naming the failure)
	 * and must change nothing else.
	 */
	bool audits_failure;
};

static void prep_fresh(struct fx *f)
{
	register_member(f->ctx, ++f->serial, "fresh", f->fresh);
}

static cu_result run_register(struct fx *f)
{
	char email[80], id[CU_ID_LEN + 1];
	const cu_kv kv[] = {
	    {"name", "Registered Under Pressure"},
	    {"address", "5 Heap Street"},
	    {"phone", "+81312340000"},
	    {"email", email},
	    {"occupation", "tester"},
	};
	cu_errors errs;

	snprintf(email, sizeof(email), "reg%lu@faults.example", ++f->serial);
	cu_errors_init(&errs);
	return cu_member_register(f->ctx, &service, kv, N(kv), NULL, id, &errs);
}

static cu_result run_access_read(struct fx *f)
{
	const cu_policy *p = f->ctx->policy;
	cu_access_request req = {.actor = &desk, .purpose = "support", .member = f->alice};
	cu_access_decision d;
	cu_record rec;
	cu_result rc;

	req.fields = (cu_fieldset)1 << cu_policy_field_index(p, "email") |
	             (cu_fieldset)1 << cu_policy_field_index(p, "name");
	cu_record_init(&rec);
	rc = cu_access_read(f->ctx, &req, &d, &rec);
	if (rc == CU_OK && rec.n != 2)
		rc =
		    CU_ERR_INTERNAL; /* a read that "succeeds" with fields missing is a wrong answer */
	cu_record_wipe(&rec);
	return rc;
}

static cu_result run_update(struct fx *f)
{
	char address[64];
	const cu_kv kv[] = {{"address", address}};
	cu_errors errs;

	snprintf(address, sizeof(address), "%lu Changed Street", ++f->serial);
	cu_errors_init(&errs);
	return cu_member_update(f->ctx, &f->self, NULL, f->alice, kv, N(kv), &errs);
}

static cu_result run_consent(struct fx *f)
{
	cu_consent_row row;
	cu_errors errs;

	cu_errors_init(&errs);
	return cu_consent_set(f->ctx, &f->self, f->alice, CU_CONSENT_PURPOSE, "testimonials",
	                      (++f->serial & 1) != 0, &row, &errs);
}

static cu_result run_request(struct fx *f)
{
	const cu_kv changes[] = {{"address", "9 Corrected Road"}};
	cu_request_input in = {CU_REQUEST_AMENDMENT, changes, N(changes), "moved house"};
	cu_actor who = {f->fresh, CU_ROLE_MEMBER, f->fresh, NULL};
	char token[CU_REQUEST_TOKEN_LEN + 1];
	cu_request_row row = {0};
	cu_errors errs;
	cu_result rc;

	cu_errors_init(&errs);
	rc = cu_request_file(f->ctx, &who, f->fresh, &in, T0, &row, token, &errs);
	if (rc == CU_OK)
		cu_request_row_release(&row);
	return rc;
}

static cu_result run_complaint(struct fx *f)
{
	cu_complaint_row row = {0};
	cu_errors errs;
	cu_result rc;

	cu_errors_init(&errs);
	rc = cu_complaint_file(f->ctx, &f->self, f->alice, "use",
	                       "My address was used for a mailing I never asked for.", T0, &row,
	                       &errs);
	if (rc == CU_OK)
		cu_complaint_row_release(&row);
	return rc;
}

static void prep_csv(struct fx *f)
{
	char path[600], body[600];
	unsigned long s = ++f->serial;
	FILE *out;
	int n;

	n = snprintf(
	    body, sizeof(body),
	    "name,address,phone,email,occupation\n"
	    "Ann Csv,\"1-2-3 Chiyoda, Tokyo\",090-1234-5678,ann%lu@faults.example,teacher\n"
	    "Ben Csv,2 Rookery Road,03-1234-5678,ben%lu@faults.example,\n"
	    "Cat Csv,3 Crane Court,+81 78 123 4567,cat%lu@faults.example,\"pilot, retired\"\n",
	    s, s, s);
	assert_true(n > 0 && (size_t)n < sizeof(body));
	snprintf(path, sizeof(path), "%s/members.csv", f->dir);
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(body, 1, (size_t)n, out), (size_t)n);
	assert_int_equal(fclose(out), 0);
	snprintf(f->csv, sizeof(f->csv), "%s", path);
}

static cu_result run_import(struct fx *f)
{
	cu_import_report rep = {0};
	cu_result rc;

	f->err[0] = '\0';
	rc = cu_import_file(f->ctx, &op_actor, f->csv, &rep, NULL, NULL, NULL, f->err,
	                    sizeof(f->err));
	f->imported = rep.imported;
	/* Every row is valid: a row refused because memory ran out is a failure, not a success. */
	if (rc == CU_OK && rep.rejected != 0)
		rc = CU_ERR_INTERNAL;
	return rc;
}

static cu_result run_verify(struct fx *f)
{
	cu_audit_report rep;

	return cu_audit_verify(f->ctx->store, &rep, NULL, NULL);
}

/* ---- the loop ---- */

static void check_op(struct fx *f, const struct op *o, cu_fault_kind kind, bool sticky)
{
	unsigned char before[FP_BYTES], after[FP_BYTES];
	cu_audit_mark mark_before, mark_after;
	uint64_t members_before, members_after;
	unsigned long n;
	const char *verbose = getenv("CU_FAULT_VERBOSE");

	for (n = 1; n <= MAX_POINTS; n++) {
		cu_result rc;
		bool hit;

		if (o->prep)
			o->prep(f);
		fingerprint(f->ctx, o->audits_failure, before);
		cu_audit_mark_get(f->ctx->audit, &mark_before);
		assert_int_equal(cu_store_member_count(f->ctx->store, &members_before), CU_OK);
		f->imported = 0;

		cu_fault_arm(kind, n, sticky);
		rc = o->run(f);
		hit = cu_fault_disarm();

		if (!hit) {
			/* The fault was not reached: the operation must now just work (recovery). */
			if (rc != CU_OK)
				fail_msg("%s: fails with %s after the fault ended (N=%lu)", o->name,
				         cu_result_code(rc), n);
			break;
		}
		if (rc != CU_OK && !clean_failure(rc))
			fail_msg("%s: allocation %lu failed -> %s, not a clean error (%s)", o->name,
			         n, cu_result_code(rc), f->err);
		/* Nothing half-done: no transaction left open, the chain's head where it was. */
		assert_true(cu_test_store_own_idle(f->ctx->store));
		assert_int_equal(f->ctx->tx_depth, 0);
		cu_audit_mark_get(f->ctx->audit, &mark_after);
		assert_int_equal(cu_store_member_count(f->ctx->store, &members_after), CU_OK);
		if (rc != CU_OK) {
			fingerprint(f->ctx, o->audits_failure, after);
			if (memcmp(before, after, FP_BYTES) != 0)
				fail_msg(
				    "%s: allocation %lu failed -> %s, but the database changed",
				    o->name, n, cu_result_code(rc));
			if (o->audits_failure && mark_after.seq == mark_before.seq + 1)
				assert_last_entry_denied(f->ctx);
			else if (mark_after.seq != mark_before.seq ||
			         memcmp(mark_after.hash, mark_before.hash,
			                sizeof(mark_after.hash)) != 0)
				fail_msg("%s: allocation %lu failed, the audit head moved", o->name,
				         n);
		} else if (o->members_added) {
			/* Survived the failure: then wholly done. */
			uint64_t want = o->run == run_import ? f->imported : o->members_added;

			if (o->run == run_import && want != 3)
				fail_msg("%s: allocation %lu failed, %llu of 3 rows imported",
				         o->name, n, (unsigned long long)want);
			assert_int_equal(members_after, members_before + want);
		}
		assert_chain_intact(f->ctx);
	}
	if (n > MAX_POINTS)
		fail_msg("%s: still reaching allocation %d", o->name, MAX_POINTS);
	total_points += n - 1;
	total_ops++;
	if (verbose && *verbose)
		fprintf(stderr, "alloc faults: %-16s %-6s %-8s %5lu injection points\n", o->name,
		        kind == CU_FAULT_SQLITE ? "sqlite" : "libc", sticky ? "sticky" : "once",
		        n - 1);
	assert_chain_intact(f->ctx);
}

static const struct op ops[] = {
    {"member register", NULL, run_register, 1, false},
    {"access read", NULL, run_access_read, 0, true},
    {"member update", NULL, run_update, 0, false},
    {"consent set", NULL, run_consent, 0, false},
    {"request file", prep_fresh, run_request, 0, false},
    {"complaint file", NULL, run_complaint, 0, false},
    {"import csv", prep_csv, run_import, 3, false},
    {"audit verify", NULL, run_verify, 0, false},
};

static void run_all(void **state, cu_fault_kind kind, bool sticky)
{
	struct fx *f = *state;

	if (kind == CU_FAULT_LIBC && !cu_fault_libc_available())
		skip();
	for (size_t i = 0; i < N(ops); i++)
		check_op(f, &ops[i], kind, sticky);
}

/*
 * Regression cases: the allocations that once failed wrongly, each kept by
 * its N (the libc injector, so release builds only).  Each must now fail as
 * out of memory and change nothing.
 */
static void failing_n(void **state, const struct op *o, unsigned long n, bool sticky, bool warm)
{
	struct fx *f = *state;
	unsigned char before[FP_BYTES], after[FP_BYTES];
	cu_result rc;

	if (!cu_fault_libc_available())
		skip();
	/* warm: one run first, so statements are prepared and N counts this run's own. */
	if (warm) {
		o->prep(f);
		assert_int_equal(o->run(f), CU_OK);
	}
	o->prep(f);
	fingerprint(f->ctx, false, before);
	cu_fault_arm(CU_FAULT_LIBC, n, sticky);
	rc = o->run(f);
	assert_true(cu_fault_disarm());
	if (rc != CU_ERR_NOMEM)
		fail_msg("%s: allocation %lu -> %s (%s)", o->name, n, cu_result_code(rc), f->err);
	fingerprint(f->ctx, false, after);
	assert_memory_equal(before, after, FP_BYTES);
	assert_chain_intact(f->ctx);
	/* And the fault over, the same import goes through. */
	assert_int_equal(o->run(f), CU_OK);
	assert_int_equal(f->imported, 3);
}

#define OP_IMPORT (&ops[6])

/* fopen could not allocate its FILE: was "cannot open 'members.csv'" (io_error). */
static void test_import_fopen_nomem_once_2(void **state)
{
	failing_n(state, OP_IMPORT, 2, false, true);
}

/* getline could not grow its buffer: was "'members.csv' has no header row" (invalid_argument). */
static void test_import_getline_nomem_once_4(void **state)
{
	failing_n(state, OP_IMPORT, 4, false, true);
}

/*
 * libcsv could not grow its field buffer: was "line 1: malformed CSV: memory
 * exhausted while increasing buffer size" (invalid_argument), at N=5 of the sticky
 * libc loop.  Its N moves with the sealer thread's timing, so the case is the
 * import's own loop on a fresh store.
 */
static void test_import_libcsv_nomem_loop(void **state)
{
	struct fx *f = *state;

	if (!cu_fault_libc_available())
		skip();
	check_op(f, OP_IMPORT, CU_FAULT_LIBC, true);
}

/*
 * The server's per-request arena: a chunk that cannot be allocated is a NULL
 * (every caller answers 503 out_of_memory), the arena keeps what it had and
 * works again when memory returns.
 */
static void test_arena_nomem(void **state)
{
	cu_arena a = {0};
	char *first, *second;

	(void)state;
	if (!cu_fault_libc_available())
		skip();
	first = cu_arena_strdup(&a, "kept");
	assert_non_null(first);
	cu_fault_arm(CU_FAULT_LIBC, 1, true);
	/* Past the first chunk: needs a new one, which cannot be had. */
	assert_null(cu_arena_alloc(&a, 8192));
	assert_true(cu_fault_disarm());
	assert_string_equal(first, "kept");
	second = cu_arena_alloc(&a, 8192);
	assert_non_null(second);
	memset(second, 'x', 8192);
	cu_arena_release(&a);
	assert_null(a.head);
}

/*
 * An arena reset at the end of a request (connection.c keeps one finished
 * request per network thread) wipes what the request held and keeps one
 * chunk: the next request's state takes it without an allocation, even one
 * that would fail.
 */
static void test_arena_reset_wipes_and_keeps_a_chunk(void **state)
{
	cu_arena a = {0};
	unsigned char *p, *q;

	(void)state;
	if (!cu_fault_libc_available())
		skip();
	p = cu_arena_alloc(&a, CU_ARENA_CHUNK / 2);
	assert_non_null(p);
	memset(p, 'x', CU_ARENA_CHUNK / 2);
	assert_non_null(cu_arena_alloc(&a, 2 * CU_ARENA_CHUNK)); /* a chunk of its own */
	cu_arena_reset(&a);
	assert_non_null(a.head);
	assert_int_equal(a.used, 0);
	for (size_t i = 0; i < CU_ARENA_CHUNK / 2; i++)
		assert_int_equal(p[i], 0);
	cu_fault_arm(CU_FAULT_LIBC, 1, true);
	q = cu_arena_alloc(&a, CU_ARENA_CHUNK);
	assert_false(cu_fault_disarm());
	assert_ptr_equal(q, p);
	cu_arena_release(&a);
	assert_null(a.head);
}

/*
 * A header a route sets (Set-Cookie, Retry-After) that cannot be copied is
 * not dropped in silence: the request is marked, and its reply becomes 503
 * out_of_memory (server/http/reply.c, lost_header).
 */
static void test_header_nomem_marks_the_reply(void **state)
{
	cu_request r;

	(void)state;
	if (!cu_fault_libc_available())
		skip();
	memset(&r, 0, sizeof(r));
	cu_http_header(&r, "Retry-After", "1");
	assert_int_equal(r.nextra, 1);
	assert_false(r.header_lost);
	cu_fault_arm(CU_FAULT_LIBC, 1, true);
	/* Past the first chunk: the copy needs a new one, which cannot be had. */
	{
		static char big[9000];

		memset(big, 'c', sizeof(big) - 1);
		cu_http_header(&r, "Set-Cookie", big);
	}
	assert_true(cu_fault_disarm());
	assert_int_equal(r.nextra, 1);
	assert_true(r.header_lost);
	cu_arena_release(&r.arena);
}

/*
 * A body that cannot be parsed for want of memory is the server's 503, not
 * the client's 400 invalid_json (server/http/input.c cu_http_body_json).  jansson's
 * own error code says "invalid token" then, so the server's parser notes the
 * failed allocation itself: every N that fails must say so.
 */
static void test_json_body_nomem_told_apart(void **state)
{
	static const char body[] = "{\"name\":\"Ann\",\"tags\":[\"a\",\"b\"]}";
	json_error_t jerr;
	json_t *j;
	bool nomem, hit = true;
	unsigned long n;

	(void)state;
	if (!cu_fault_libc_available())
		skip();
	for (n = 1; hit && n < MAX_POINTS; n++) {
		cu_fault_arm(CU_FAULT_LIBC, n, false);
		j = cu_http_json_parse(body, sizeof(body) - 1, &jerr, &nomem);
		hit = cu_fault_disarm();
		if (!j && !nomem)
			fail_msg("allocation %lu failed: reported as invalid JSON", n);
		json_decref(j);
	}
	assert_true(n > 2);
	j = cu_http_json_parse("{\"a\":", 5, &jerr, &nomem);
	assert_null(j);
	assert_false(nomem); /* truly invalid JSON stays the client's 400 */
}

static void test_sqlite_once(void **state)
{
	/* SQLite's allocator: the PostgreSQL store makes no allocation of it. */
	if (cu_test_store_is_pg())
		skip();
	run_all(state, CU_FAULT_SQLITE, false);
}

static void test_sqlite_sticky(void **state)
{
	/* SQLite's allocator, as above. */
	if (cu_test_store_is_pg())
		skip();
	run_all(state, CU_FAULT_SQLITE, true);
}

static void test_libc_once(void **state)
{
	run_all(state, CU_FAULT_LIBC, false);
}

static void test_libc_sticky(void **state)
{
	run_all(state, CU_FAULT_LIBC, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_import_fopen_nomem_once_2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_getline_nomem_once_4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_import_libcsv_nomem_loop, setup, teardown),
	    cmocka_unit_test(test_arena_nomem),
	    cmocka_unit_test(test_arena_reset_wipes_and_keeps_a_chunk),
	    cmocka_unit_test(test_header_nomem_marks_the_reply),
	    cmocka_unit_test(test_json_body_nomem_told_apart),
	    cmocka_unit_test_setup_teardown(test_sqlite_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sqlite_sticky, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_libc_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_libc_sticky, setup, teardown),
	};
	int failed;

	cu_fault_install();
	/* The import's cases were written for its sealer thread: every file goes through it. */
	cu_import_thread_from = 0;
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (getenv("CU_FAULT_VERBOSE"))
		fprintf(stderr, "alloc faults: %lu operation runs, %lu injection points\n",
		        total_ops, total_points);
	return failed;
}
