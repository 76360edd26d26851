/*
 * test_import.c — bulk registration from CSV and JSON Lines: exact counts,
 * rejects reported by line, field and reason (never by value), nothing stored
 * for a refused row, batches that commit and roll back as documented.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "domain/import.h"
#include "domain/members.h"
#include "support.h"

#define N(a)        (sizeof(a) / sizeof((a)[0]))
#define REJECTS_MAX 32

static const cu_actor op = {"operator", CU_ROLE_OPERATOR, NULL, NULL};

struct reject {
	uint64_t line;
	cu_result rc;
	cu_errors errs;
};

struct rejects {
	size_t n;
	struct reject r[REJECTS_MAX];
	uint64_t progress_done, progress_total;
	int progress_calls;
};

struct fixture {
	cu_ctx *ctx;
	char *dir;
	struct rejects rj;
	cu_import_report report;
	char err[512];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	fx->ctx = cu_test_ctx_new(&fx->dir);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	cu_test_ctx_free(fx->ctx, fx->dir);
	free(fx);
	return 0;
}

static void on_reject(void *ud, uint64_t line, cu_result rc, const cu_errors *errs)
{
	struct rejects *rj = ud;

	assert_true(rj->n < REJECTS_MAX);
	assert_non_null(errs);
	rj->r[rj->n].line = line;
	rj->r[rj->n].rc = rc;
	rj->r[rj->n].errs = *errs;
	rj->n++;
}

static void on_progress(void *ud, uint64_t done, uint64_t total)
{
	struct rejects *rj = ud;

	rj->progress_done = done;
	rj->progress_total = total;
	rj->progress_calls++;
}

/* Writes len bytes to DIR/name; returns the path (static buffer). */
static const char *put_file(const struct fixture *fx, const char *name, const char *bytes,
                            size_t len)
{
	static char path[700];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static cu_result import_text(struct fixture *fx, const char *name, const char *text)
{
	const char *path = put_file(fx, name, text, strlen(text));

	memset(&fx->rj, 0, sizeof(fx->rj));
	fx->err[0] = '\0';
	return cu_import_file(fx->ctx, &op, path, &fx->report, on_reject, on_progress, &fx->rj,
	                      fx->err, sizeof(fx->err));
}

static uint64_t member_count(cu_ctx *ctx)
{
	uint64_t n = 0;

	assert_int_equal(cu_store_member_count(ctx->store, &n), CU_OK);
	return n;
}

/* The reject for `line`, which must exist and be the only one for that line. */
static const struct reject *reject_at(const struct fixture *fx, uint64_t line)
{
	const struct reject *found = NULL;

	for (size_t i = 0; i < fx->rj.n; i++) {
		if (fx->rj.r[i].line != line)
			continue;
		if (found)
			fail_msg("line %llu rejected twice", (unsigned long long)line);
		found = &fx->rj.r[i];
	}
	if (!found)
		fail_msg("line %llu was not rejected", (unsigned long long)line);
	return found;
}

static void expect_reject(const struct fixture *fx, uint64_t line, cu_result rc, const char *field,
                          const char *reason)
{
	const struct reject *r = reject_at(fx, line);

	if (r->rc != rc)
		fail_msg("line %llu: rc %d, expected %d", (unsigned long long)line, (int)r->rc,
		         (int)rc);
	for (size_t i = 0; i < r->errs.n; i++)
		if (!strcmp(r->errs.e[i].field, field) && !strcmp(r->errs.e[i].reason, reason))
			return;
	fail_msg("line %llu: no error '%s: %s' (first: '%s: %s')", (unsigned long long)line, field,
	         reason, r->errs.n ? r->errs.e[0].field : "-",
	         r->errs.n ? r->errs.e[0].reason : "-");
}

/*
 * What a reject may say: a policy field name or a fixed placeholder, and a
 * reason code.  None of the row's values may appear in either.
 */
static void expect_rejects_hold_no_values(const struct fixture *fx, const char *const *values,
                                          size_t nvalues)
{
	static const char *const reasons[] = {
	    "required",  "malformed",    "too_long",     "invalid_utf8", "unknown_field",
	    "duplicate", "not_a_number", "out_of_range", "column_count", "too_many_fields",
	};
	static const char *const placeholders[] = {"(row)", "(field)", "(field name)"};
	const cu_policy *p = fx->ctx->policy;

	for (size_t i = 0; i < fx->rj.n; i++) {
		const cu_errors *e = &fx->rj.r[i].errs;

		assert_true(e->n >= 1);
		for (size_t k = 0; k < e->n; k++) {
			const char *field = e->e[k].field, *reason = e->e[k].reason;
			int ok_field = cu_policy_field_index(p, field) >= 0, ok_reason = 0;

			for (size_t j = 0; j < N(placeholders); j++)
				ok_field |= !strcmp(field, placeholders[j]);
			/* An unknown column is named only if it is a plain, short key. */
			if (!ok_field && !strcmp(reason, "unknown_field"))
				ok_field = strlen(field) < 20;
			for (size_t j = 0; j < N(reasons); j++)
				ok_reason |= reason && !strcmp(reason, reasons[j]);
			if (!ok_field || !ok_reason)
				fail_msg("line %llu: unexpected error '%s: %s'",
				         (unsigned long long)fx->rj.r[i].line, field,
				         reason ? reason : "(null)");
			for (size_t j = 0; j < nvalues; j++)
				if (strstr(field, values[j]) || strstr(reason, values[j]))
					fail_msg("line %llu: value '%s' leaked into '%s: %s'",
					         (unsigned long long)fx->rj.r[i].line, values[j],
					         field, reason);
		}
	}
}

static cu_result find(cu_ctx *ctx, const char *kind, const char *value, char id[CU_ID_LEN + 1])
{
	return cu_member_find(ctx, &op, kind, value, id);
}

static void expect_found(cu_ctx *ctx, const char *kind, const char *value, char id[CU_ID_LEN + 1])
{
	cu_result rc = find(ctx, kind, value, id);

	if (rc != CU_OK)
		fail_msg("%s '%s' not found: %s", kind, value, cu_strerror(rc));
	assert_int_equal(strlen(id), CU_ID_LEN);
}

static void expect_not_found(cu_ctx *ctx, const char *kind, const char *value)
{
	char id[CU_ID_LEN + 1];
	cu_result rc = find(ctx, kind, value, id);

	if (rc != CU_ERR_NOT_FOUND)
		fail_msg("%s '%s': expected not found, got %s", kind, value, cu_strerror(rc));
}

/* Reads every field of member id as the member themselves; wipe `rec` after. */
static void read_self(cu_ctx *ctx, const char *id, cu_record *rec)
{
	cu_actor self = {id, CU_ROLE_MEMBER, id, NULL};
	cu_access_request req = {.actor = &self, .purpose = "self", .member = id};
	cu_access_decision d;

	cu_record_init(rec);
	assert_int_equal(cu_access_read(ctx, &req, &d, rec), CU_OK);
}

static void expect_field(cu_ctx *ctx, const cu_record *rec, const char *field, const char *want)
{
	const char *got = cu_record_get(rec, cu_policy_field_index(ctx->policy, field));

	if (!want) {
		if (got)
			fail_msg("field '%s' should be absent, holds '%s'", field, got);
		return;
	}
	if (!got)
		fail_msg("field '%s' is missing", field);
	assert_string_equal(got, want);
}

static void expect_audit_intact(cu_ctx *ctx)
{
	cu_audit_report rep;

	memset(&rep, 0, sizeof(rep));
	if (cu_audit_verify(ctx->store, &rep, NULL, NULL) != CU_OK)
		fail_msg("audit chain broken at %llu: %s", (unsigned long long)rep.broken_seq,
		         rep.what);
}

/* ---- CSV --------------------------------------------------------------- */

static const char mixed_csv[] =
    "name,address,phone,email,occupation\n" /* 1 */
    "Alice Quornby,\"1-2-3 Chiyoda, Tokyo\",090-1234-5678,alice.quornby@example.com,teacher\n"
    "Bob Noemailer,2 Rookery Road,03-1234-5678,,engineer\n"                   /* 3 */
    "Carol Badphone,3 Crane Court,12345,carol.badphone@example.com,chemist\n" /* 4 */
    "Dav\xff"
    "e Badutf,4 Dove Drive,090-2222-3333,dave.badutf@example.com,diver\n" /* 5 */
    "Eve Extracol,5 Egret End,090-4444-5555,eve.extracol@example.com,editor,surplus\n"
    "Frank Dupmail,6 Finch Fold,090-6666-7777,ALICE.Quornby@Example.COM,farmer\n" /* 7 */
    "\"Grace Multiline\",\"Flat 9\n"                                              /* 8 */
    "Harbour View, Kobe\",+81 78 123 4567,grace.multi@example.com,\"pilot, retired\"\n"
    "Heidi Lastrow,7 Heron Hill,090-8888-9999,heidi.lastrow@example.com,\n"; /* 10 */

static void test_csv_counts_and_rejects(void **state)
{
	struct fixture *fx = *state;
	static const char *const values[] = {
	    "Bob",     "Noemailer", "Rookery", "03-1234-5678",   "engineer",
	    "Carol",   "Badphone",  "12345",   "carol.badphone", "chemist",
	    "Dav",     "Badutf",    "Dove",    "090-2222-3333",  "diver",
	    "Eve",     "Extracol",  "Egret",   "090-4444-5555",  "surplus",
	    "Frank",   "Dupmail",   "ALICE",   "Quornby",        "farmer",
	    "example", "@",
	};
	char alice[CU_ID_LEN + 1], other[CU_ID_LEN + 1];

	assert_int_equal(import_text(fx, "members.csv", mixed_csv), CU_OK);
	assert_int_equal(fx->report.imported, 3);
	assert_int_equal(fx->report.rejected, 5);
	assert_int_equal(fx->rj.n, 5);
	expect_reject(fx, 3, CU_ERR_INVALID_FIELD, "email", "required");
	expect_reject(fx, 4, CU_ERR_INVALID_FIELD, "phone", "malformed");
	expect_reject(fx, 5, CU_ERR_INVALID_FIELD, "name", "invalid_utf8");
	expect_reject(fx, 6, CU_ERR_INVALID_FIELD, "(row)", "column_count");
	expect_reject(fx, 7, CU_ERR_CONFLICT, "email", "duplicate");
	/* Only the bad field is named: Carol's e-mail was fine. */
	assert_int_equal(reject_at(fx, 4)->errs.n, 1);
	expect_rejects_hold_no_values(fx, values, N(values));

	/* Nothing stored for the refused rows. */
	assert_int_equal(member_count(fx->ctx), 3);
	expect_found(fx->ctx, "email", "alice.quornby@example.com", alice);
	expect_found(fx->ctx, "email", "grace.multi@example.com", other);
	expect_found(fx->ctx, "email", "heidi.lastrow@example.com", other);
	expect_not_found(fx->ctx, "email", "carol.badphone@example.com");
	expect_not_found(fx->ctx, "email", "dave.badutf@example.com");
	expect_not_found(fx->ctx, "email", "eve.extracol@example.com");
	expect_not_found(fx->ctx, "phone", "090-6666-7777");
	expect_not_found(fx->ctx, "phone", "090-4444-5555");
	/* The duplicate did not replace the first holder of the address. */
	expect_found(fx->ctx, "email", "Alice.Quornby@EXAMPLE.com", other);
	assert_string_equal(other, alice);
	expect_found(fx->ctx, "phone", "+81 90 1234 5678", other);
	assert_string_equal(other, alice);
	expect_audit_intact(fx->ctx);
}

static void test_csv_quoted_fields(void **state)
{
	struct fixture *fx = *state;
	char id[CU_ID_LEN + 1];
	cu_record rec;

	assert_int_equal(import_text(fx, "members.csv", mixed_csv), CU_OK);
	/* Commas and a newline inside quotes belong to the value. */
	expect_found(fx->ctx, "phone", "078-123-4567", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "name", "Grace Multiline");
	expect_field(fx->ctx, &rec, "address", "Flat 9\nHarbour View, Kobe");
	expect_field(fx->ctx, &rec, "phone", "+81 78 123 4567");
	expect_field(fx->ctx, &rec, "occupation", "pilot, retired");
	cu_record_wipe(&rec);

	expect_found(fx->ctx, "email", "alice.quornby@example.com", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "address", "1-2-3 Chiyoda, Tokyo");
	expect_field(fx->ctx, &rec, "email", "alice.quornby@example.com");
	cu_record_wipe(&rec);

	/* An empty optional column stores nothing. */
	expect_found(fx->ctx, "email", "heidi.lastrow@example.com", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "occupation", NULL);
	expect_field(fx->ctx, &rec, "name", "Heidi Lastrow");
	cu_record_wipe(&rec);
}

/* A row refused after a multi-line row, and a multi-line row refused, by their first line. */
static void test_csv_line_numbers_across_multiline_rows(void **state)
{
	struct fixture *fx = *state;
	static const char csv[] =
	    "name,address,phone,email\n"                              /* 1 */
	    "Ann One,\"a\nb\nc\",090-1111-0001,ann.one@example.com\n" /* 2-4 */
	    "Ben Two,\"d\ne\",12,ben.two@example.com\n"               /* 5-6 */
	    "\n"                                                      /* 7 */
	    "Cat Three,f,090-1111-0003,not-an-email\n";               /* 8 */

	assert_int_equal(import_text(fx, "lines.csv", csv), CU_OK);
	assert_int_equal(fx->report.imported, 1);
	assert_int_equal(fx->report.rejected, 2);
	expect_reject(fx, 5, CU_ERR_INVALID_FIELD, "phone", "malformed");
	expect_reject(fx, 8, CU_ERR_INVALID_FIELD, "email", "malformed");
}

static void test_csv_crlf_and_no_final_newline(void **state)
{
	struct fixture *fx = *state;
	char id[CU_ID_LEN + 1];
	cu_record rec;

	assert_int_equal(import_text(fx, "crlf.csv",
	                             "name,address,phone,email\r\n"
	                             "Ida Crlf,1 Ibis Isle,090-3000-0001,ida.crlf@example.com\r\n"
	                             "Jon Bad,2 Jay Junction,090-3000-0002,jon@\r\n"
	                             "Kim Last,3 Kite Key,090-3000-0003,kim.last@example.com"),
	                 CU_OK);
	assert_int_equal(fx->report.imported, 2);
	assert_int_equal(fx->report.rejected, 1);
	expect_reject(fx, 3, CU_ERR_INVALID_FIELD, "email", "malformed");
	expect_found(fx->ctx, "email", "kim.last@example.com", id);
	read_self(fx->ctx, id, &rec);
	/* The line ending is not part of the last value. */
	expect_field(fx->ctx, &rec, "email", "kim.last@example.com");
	cu_record_wipe(&rec);
	expect_found(fx->ctx, "email", "ida.crlf@example.com", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "email", "ida.crlf@example.com");
	cu_record_wipe(&rec);
}

static void test_csv_missing_column_and_required(void **state)
{
	struct fixture *fx = *state;

	/* The header leaves out a required field: every row is refused for it. */
	assert_int_equal(import_text(fx, "nophone.csv",
	                             "name,address,email\n"
	                             "Lee Nophone,1 Lark Lane,lee.nophone@example.com\n"
	                             "Max Short,2 Mole Mews\n"),
	                 CU_OK);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(fx->report.rejected, 2);
	expect_reject(fx, 2, CU_ERR_INVALID_FIELD, "phone", "required");
	expect_reject(fx, 3, CU_ERR_INVALID_FIELD, "(row)", "column_count");
	assert_int_equal(member_count(fx->ctx), 0);
}

/* A NUL byte inside a value must not silently cut the value short. */
static void test_csv_nul_byte_refused(void **state)
{
	struct fixture *fx = *state;
	static const char csv[] = "name,address,phone,email\n"
	                          "Nia Nul,1 Newt Nook,090-4000-0001,nia.nul@example.com\0tail\n"
	                          "Oto Fine,2 Owl Oak,090-4000-0002,oto.fine@example.com\n";
	const char *path = put_file(fx, "nul.csv", csv, sizeof(csv) - 1);

	memset(&fx->rj, 0, sizeof(fx->rj));
	assert_int_equal(cu_import_file(fx->ctx, &op, path, &fx->report, on_reject, NULL, &fx->rj,
	                                fx->err, sizeof(fx->err)),
	                 CU_OK);
	assert_int_equal(fx->report.imported, 1);
	assert_int_equal(fx->report.rejected, 1);
	expect_reject(fx, 2, CU_ERR_INVALID_FIELD, "email", "malformed");
	expect_not_found(fx->ctx, "email", "nia.nul@example.com");
}

static void test_csv_unknown_column_stops(void **state)
{
	struct fixture *fx = *state;
	uint64_t audit_before = cu_test_audit_count(fx->ctx);

	assert_int_equal(
	    import_text(fx, "colour.csv",
	                "name,address,phone,email,favourite_colour\n"
	                "Pia Colour,1 Puffin Path,090-5000-0001,pia.colour@example.com,"
	                "vermilion\n"),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(fx->report.rejected, 0);
	assert_int_equal(fx->rj.n, 0);
	assert_int_equal(member_count(fx->ctx), 0);
	assert_int_equal(cu_test_audit_count(fx->ctx), audit_before);
	assert_true(fx->err[0] != '\0');
	assert_null(strstr(fx->err, "Pia"));
	assert_null(strstr(fx->err, "vermilion"));
	assert_int_equal(fx->ctx->tx_depth, 0);
}

static void test_csv_duplicate_column_stops(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(
	    import_text(fx, "twice.csv",
	                "name,address,phone,email,email\n"
	                "Quy Twice,1 Quail Quay,090-6000-0001,a@example.com,b@example.com\n"),
	    CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(member_count(fx->ctx), 0);
	assert_non_null(strstr(fx->err, "email"));
}

static void test_csv_empty_file(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(import_text(fx, "empty.csv", ""), CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(fx->err, "no header row"));
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(fx->report.rejected, 0);
	/* Blank lines are no header either. */
	assert_int_equal(import_text(fx, "blank.csv", "\n\n\r\n"), CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(fx->err, "no header row"));
	assert_int_equal(member_count(fx->ctx), 0);
}

static void test_csv_header_only(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(import_text(fx, "header.csv", "name,address,phone,email\n"), CU_OK);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(fx->report.rejected, 0);
}

static void test_missing_file(void **state)
{
	struct fixture *fx = *state;
	char path[700];

	snprintf(path, sizeof(path), "%s/nosuch.csv", fx->dir);
	assert_int_equal(cu_import_file(fx->ctx, &op, path, &fx->report, NULL, NULL, NULL, fx->err,
	                                sizeof(fx->err)),
	                 CU_ERR_IO);
	assert_non_null(strstr(fx->err, "nosuch.csv"));
	assert_int_equal(fx->report.imported, 0);
}

/* ---- JSON Lines -------------------------------------------------------- */

static const char mixed_jsonl[] =
    "{\"name\":\"Ivan Jsonson\",\"address\":\"8 Ibex Inn\",\"phone\":\"090-1000-2000\","
    "\"email\":\"ivan.jsonson@example.com\",\"age\":42}\n" /* 1 */
    "[\"not\",\"an\",\"object\"]\n"                        /* 2 */
    "{\"name\":[\"Judy\"],\"address\":\"9 Jackal Jetty\",\"phone\":\"090-1000-3000\","
    "\"email\":\"judy.listed@example.com\"}\n" /* 3 */
    "\n"                                       /* 4 */
    "{\"name\":\"Ken Oldage\",\"address\":\"10 Kudu Kerb\",\"phone\":\"090-1000-4000\","
    "\"email\":\"ken.oldage@example.com\",\"age\":200}\n" /* 5 */
    "{\"name\":\"Leo Noemail\",\"address\":\"11 Lynx Loop\",\"phone\":\"090-1000-5000\"}\n"
    "{\"name\":\"Mia Dupmail\",\"address\":\"12 Mink Mall\",\"phone\":\"090-1000-6000\","
    "\"email\":\"IVAN.JSONSON@example.com\"}\n" /* 7 */
    "{\"name\": \"Truncated Tom\",\n"           /* 8 */
    "{\"name\":\"Ned Stringage\",\"address\":\"13 Newt Nest\",\"phone\":\"+81 90 1000 7000\","
    "\"email\":\"ned.stringage@example.com\",\"age\":\"37\",\"occupation\":\"baker\"}\n"
    "{\"name\":\"Olga Floatage\",\"address\":\"14 Orca Oval\",\"phone\":\"090-1000-8000\","
    "\"email\":\"olga.floatage@example.com\",\"age\":4.5}\n" /* 10 */
    "{\"name\":\"Pat Unknown\",\"address\":\"15 Puma Park\",\"phone\":\"090-1000-9000\","
    "\"email\":\"pat.unknown@example.com\",\"colour\":\"vermilion\"}\n" /* 11 */
    "\"just a string\"\n"                                               /* 12 */
    "{\"name\":\"Quinn Nullocc\",\"address\":\"16 Quail Quad\",\"phone\":\"090-1001-0000\","
    "\"email\":\"quinn.nullocc@example.com\",\"occupation\":null}\n" /* 13 */
    "{\"name\":\"Rex Boolage\",\"address\":\"17 Raven Row\",\"phone\":\"090-1001-1000\","
    "\"email\":\"rex.boolage@example.com\",\"age\":true}\n" /* 14 */
    "{\"name\":\"Sam Bad\xff"
    "utf\",\"address\":\"18 Stoat St\",\"phone\":\"090-1001-2000\","
    "\"email\":\"sam.badutf@example.com\"}\n" /* 15 */
    "{\"name\":\"Tia Twice\",\"name\":\"Tia Again\",\"address\":\"19 Tern Tor\","
    "\"phone\":\"090-1001-3000\",\"email\":\"tia.twice@example.com\"}\n"; /* 16 */

static void test_jsonl_counts_and_rejects(void **state)
{
	struct fixture *fx = *state;
	static const char *const values[] = {
	    "Judy", "Ken",       "Oldage", "200", "Leo",     "Noemail",   "Mia",
	    "IVAN", "Truncated", "Olga",   "4.5", "Pat",     "vermilion", "just a string",
	    "Rex",  "true",      "Sam",    "Tia", "example", "@",         "090-",
	};
	char ivan[CU_ID_LEN + 1], id[CU_ID_LEN + 1];
	cu_record rec;

	assert_int_equal(import_text(fx, "members.jsonl", mixed_jsonl), CU_OK);
	assert_int_equal(fx->report.imported, 3);
	assert_int_equal(fx->report.rejected, 12);
	assert_int_equal(fx->rj.n, 12);
	expect_reject(fx, 2, CU_ERR_INVALID_FIELD, "(row)", "malformed");
	expect_reject(fx, 3, CU_ERR_INVALID_FIELD, "name", "malformed");
	expect_reject(fx, 5, CU_ERR_INVALID_FIELD, "age", "out_of_range");
	expect_reject(fx, 6, CU_ERR_INVALID_FIELD, "email", "required");
	expect_reject(fx, 7, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 8, CU_ERR_INVALID_FIELD, "(row)", "malformed");
	expect_reject(fx, 10, CU_ERR_INVALID_FIELD, "age", "malformed");
	expect_reject(fx, 11, CU_ERR_INVALID_FIELD, "colour", "unknown_field");
	expect_reject(fx, 12, CU_ERR_INVALID_FIELD, "(row)", "malformed");
	expect_reject(fx, 14, CU_ERR_INVALID_FIELD, "age", "malformed");
	expect_reject(fx, 15, CU_ERR_INVALID_FIELD, "(row)", "malformed");
	expect_reject(fx, 16, CU_ERR_INVALID_FIELD, "(row)", "malformed");
	expect_rejects_hold_no_values(fx, values, N(values));

	assert_int_equal(member_count(fx->ctx), 3);
	expect_found(fx->ctx, "email", "ivan.jsonson@example.com", ivan);
	expect_found(fx->ctx, "phone", "09010007000", id);
	expect_found(fx->ctx, "email", "quinn.nullocc@example.com", id);
	expect_not_found(fx->ctx, "email", "judy.listed@example.com");
	expect_not_found(fx->ctx, "email", "ken.oldage@example.com");
	expect_not_found(fx->ctx, "phone", "090-1000-6000");
	expect_not_found(fx->ctx, "email", "olga.floatage@example.com");
	expect_not_found(fx->ctx, "email", "pat.unknown@example.com");
	expect_not_found(fx->ctx, "email", "rex.boolage@example.com");
	expect_not_found(fx->ctx, "email", "sam.badutf@example.com");
	expect_not_found(fx->ctx, "email", "tia.twice@example.com");

	/* An integer for an integer field is stored as its decimal text. */
	read_self(fx->ctx, ivan, &rec);
	expect_field(fx->ctx, &rec, "age", "42");
	expect_field(fx->ctx, &rec, "name", "Ivan Jsonson");
	cu_record_wipe(&rec);
	expect_found(fx->ctx, "email", "ned.stringage@example.com", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "age", "37");
	expect_field(fx->ctx, &rec, "occupation", "baker");
	cu_record_wipe(&rec);
	/* null leaves an optional field out. */
	expect_found(fx->ctx, "email", "quinn.nullocc@example.com", id);
	read_self(fx->ctx, id, &rec);
	expect_field(fx->ctx, &rec, "occupation", NULL);
	cu_record_wipe(&rec);
	expect_audit_intact(fx->ctx);
}

static void test_jsonl_empty_file(void **state)
{
	struct fixture *fx = *state;

	/* JSON Lines has no header: an empty file imports nothing, successfully. */
	assert_int_equal(import_text(fx, "empty.jsonl", ""), CU_OK);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(fx->report.rejected, 0);
}

/* ---- batches ----------------------------------------------------------- */

static void ten_rows_csv(char *buf, size_t len)
{
	size_t off = 0;

	off += (size_t)snprintf(buf + off, len - off, "name,address,phone,email\n");
	for (int i = 1; i <= 10; i++) {
		const char *phone = "090-7000-0000";
		char email[64];

		snprintf(email, sizeof(email), "batch.row%d@example.com", i);
		if (i == 3) /* the same address as row 1: refused mid-batch */
			snprintf(email, sizeof(email), "BATCH.ROW1@example.com");
		if (i == 7)
			phone = ""; /* required */
		off += (size_t)snprintf(buf + off, len - off,
		                        "Row Number%d,%d Batch Street,%s,%s\n", i, i, phone, email);
		assert_true(off < len);
	}
}

static void test_batch_boundaries(void **state)
{
	struct fixture *fx = *state;
	char csv[2048], id[CU_ID_LEN + 1];
	unsigned long long audit_before = cu_test_audit_count(fx->ctx);

	ten_rows_csv(csv, sizeof(csv));
	fx->ctx->config.import_batch = 3;
	assert_int_equal(import_text(fx, "batch.csv", csv), CU_OK);
	assert_int_equal(fx->report.imported, 8);
	assert_int_equal(fx->report.rejected, 2);
	expect_reject(fx, 4, CU_ERR_CONFLICT, "email", "duplicate");
	expect_reject(fx, 8, CU_ERR_INVALID_FIELD, "phone", "required");
	assert_int_equal(member_count(fx->ctx), 8);
	/* One audit entry per registration; the refused rows left none. */
	assert_int_equal(cu_test_audit_count(fx->ctx), audit_before + 8);
	assert_int_equal(fx->ctx->tx_depth, 0);
	for (int i = 1; i <= 10; i++) {
		char email[64];

		snprintf(email, sizeof(email), "batch.row%d@example.com", i);
		if (i == 3 || i == 7)
			expect_not_found(fx->ctx, "email", email);
		else
			expect_found(fx->ctx, "email", email, id);
	}
	expect_audit_intact(fx->ctx);
	/* The progress callback ends with the whole file read. */
	assert_true(fx->rj.progress_calls >= 1);
	assert_int_equal(fx->rj.progress_done, strlen(csv));
	assert_int_equal(fx->rj.progress_total, strlen(csv));
}

static void test_batch_of_one(void **state)
{
	struct fixture *fx = *state;
	char csv[2048];

	ten_rows_csv(csv, sizeof(csv));
	fx->ctx->config.import_batch = 1;
	assert_int_equal(import_text(fx, "batch.csv", csv), CU_OK);
	assert_int_equal(fx->report.imported, 8);
	assert_int_equal(fx->report.rejected, 2);
	assert_int_equal(member_count(fx->ctx), 8);
	expect_audit_intact(fx->ctx);
}

/* A fatal error keeps the batches already committed and rolls back the open one. */
static void test_fatal_error_keeps_committed_batches(void **state)
{
	struct fixture *fx = *state;
	char id[CU_ID_LEN + 1];
	cu_errors errs;
	static const cu_kv later[] = {
	    {"name", "Uma Later"},
	    {"address", "1 Urchin Upper"},
	    {"phone", "090-8000-0099"},
	    {"email", "uma.later@example.com"},
	};

	fx->ctx->config.import_batch = 2;
	assert_int_equal(import_text(fx, "broken.csv",
	                             "name,address,phone,email\n"
	                             "Row One,1 A St,090-8000-0001,fatal.row1@example.com\n"
	                             "Row Two,2 A St,090-8000-0002,fatal.row2@example.com\n"
	                             "Row Three,3 A St,090-8000-0003,fatal.row3@example.com\n"
	                             "Row Four,4 A St,090-8000-0004,fatal.row4@example.com\n"
	                             "Row Five,5 A St,090-8000-0005,fatal.row5@example.com\n"
	                             "\"Row\"Six,6 A St,090-8000-0006,fatal.row6@example.com\n"
	                             "Row Seven,7 A St,090-8000-0007,fatal.row7@example.com\n"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_non_null(strstr(fx->err, "line 7"));
	assert_null(strstr(fx->err, "Six"));
	assert_int_equal(fx->report.imported, 4);
	assert_int_equal(member_count(fx->ctx), 4);
	expect_found(fx->ctx, "email", "fatal.row4@example.com", id);
	expect_not_found(fx->ctx, "email", "fatal.row5@example.com");
	expect_not_found(fx->ctx, "email", "fatal.row7@example.com");
	assert_int_equal(fx->ctx->tx_depth, 0);
	expect_audit_intact(fx->ctx);

	/* The context is usable afterwards. */
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(fx->ctx, &op, later, N(later), NULL, id, &errs), CU_OK);
	assert_int_equal(member_count(fx->ctx), 5);
	expect_audit_intact(fx->ctx);
}

static void test_unterminated_quote_at_end(void **state)
{
	struct fixture *fx = *state;

	fx->ctx->config.import_batch = 100;
	assert_int_equal(import_text(fx, "open.csv",
	                             "name,address,phone,email\n"
	                             "Vic Fine,1 Vole Vale,090-9000-0001,vic.fine@example.com\n"
	                             "\"Wes Open,2 Wren Walk,090-9000-0002,wes.open@example.com\n"),
	                 CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(member_count(fx->ctx), 0);
	assert_int_equal(fx->ctx->tx_depth, 0);
	expect_audit_intact(fx->ctx);
}

static void test_actor_without_right_imports_nothing(void **state)
{
	struct fixture *fx = *state;
	cu_actor analyst = {"analyst-token", CU_ROLE_ANALYST, NULL, NULL};
	const char *path =
	    put_file(fx, "one.csv",
	             "name,address,phone,email\n"
	             "Xia Analyst,1 Yak Yard,090-9100-0001,xia.analyst@example.com\n",
	             strlen("name,address,phone,email\n"
	                    "Xia Analyst,1 Yak Yard,090-9100-0001,xia.analyst@example.com\n"));

	assert_int_equal(cu_import_file(fx->ctx, &analyst, path, &fx->report, NULL, NULL, NULL,
	                                fx->err, sizeof(fx->err)),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(fx->report.imported, 0);
	assert_int_equal(member_count(fx->ctx), 0);
	assert_int_equal(fx->ctx->tx_depth, 0);
	assert_null(strstr(fx->err, "Xia"));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_csv_counts_and_rejects),
	    T(test_csv_quoted_fields),
	    T(test_csv_line_numbers_across_multiline_rows),
	    T(test_csv_crlf_and_no_final_newline),
	    T(test_csv_missing_column_and_required),
	    T(test_csv_nul_byte_refused),
	    T(test_csv_unknown_column_stops),
	    T(test_csv_duplicate_column_stops),
	    T(test_csv_empty_file),
	    T(test_csv_header_only),
	    T(test_missing_file),
	    T(test_jsonl_counts_and_rejects),
	    T(test_jsonl_empty_file),
	    T(test_batch_boundaries),
	    T(test_batch_of_one),
	    T(test_fatal_error_keeps_committed_batches),
	    T(test_unterminated_quote_at_end),
	    T(test_actor_without_right_imports_nothing),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
