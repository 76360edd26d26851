/*
 * test_tamper.c — the reliability suite's tampering part for sealed values:
 * one byte of every kind of sealed value the store holds is flipped, as an
 * attacker with the database would (SQLite's file, or PostgreSQL's rows:
 * cu_test_store_flip), and the read that opens it must
 * answer a clean error — never plaintext that is not what was sealed,
 * never a crash (the suite also runs under ASan and UBSan).
 *
 * Kinds: a member's packed sealed fields (every byte of the blob: the
 * record's framing and each sealed value) and wrapped data key (every
 * byte, and the key id), diary titles and bodies, request details and
 * decision reasons, complaint texts and responses, exception
 * justifications and reviews, and the signed things handed out — consent
 * receipts and erasure certificates (every byte).  The audit chain's own
 * tampering cases are in test_audit.c.
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
#include "domain/complaints.h"
#include "domain/consent.h"
#include "domain/diaries.h"
#include "domain/members.h"
#include "domain/requests.h"
#include "domain/tokens.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define T0   ((int64_t)1796083200 * 1000000) /* 2026-12-01T00:00:00Z */

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor officer = {"privacy officer", CU_ROLE_OFFICER, NULL, NULL};

/* The values sealed; none may come back from a tampered row. */
#define NAME    "Quillon Vexmarrow"
#define ADDRESS "7 Tamper Lane"
#define EMAIL   "quillon@tamper.example"
#define TITLE   "Sealed title of a diary entry"
#define BODY    "Sealed body of a diary entry, a little longer."
#define NOTE    "A note sealed with the request."
#define REASONS "Reasons sealed with the decision."
#define CTEXT   "The complaint text, sealed."
#define RTEXT   "The officer's response, sealed."
#define WHY     "Court order 2026-T-42 requires the contact details."
#define REVIEW  "Reviewed: the order was genuine."

struct fx {
	cu_ctx *ctx;
	char *dir;
	char url[1024]; /* the store's */
	char member[CU_ID_LEN + 1];
	cu_actor self;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const cu_kv kv[] = {
	    {"name", NAME}, {"address", ADDRESS}, {"phone", "+81312345678"}, {"email", EMAIL}};
	cu_errors errs;

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	cu_test_ctx_store_url(f->ctx, f->url, sizeof(f->url));
	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(f->ctx, &service, kv, N(kv), NULL, f->member, &errs),
	                 CU_OK);
	f->self = (cu_actor){f->member, CU_ROLE_MEMBER, f->member, NULL};
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

/* ---- raw access, as an attacker with the database ------------------------- */

/* The length of a blob column of the row `where` (e.g. "id = 'x'"); -1 for NULL. */
static int blob_len(struct fx *f, const char *table, const char *col, const char *where)
{
	char q[512];

	snprintf(q, sizeof(q), "SELECT coalesce(length(%s), -1) FROM %s WHERE %s", col, table,
	         where);
	return (int)cu_test_store_sql_int(f->url, q);
}

/* XORs byte i (0-based) of the blob with 0x01: a flip, undone by flipping again. */
static void flip(struct fx *f, const char *table, const char *col, const char *where, int i)
{
	assert_true(i >= 0);
	cu_test_store_flip(f->url, table, col, where, (size_t)i);
}

static void where_id(char *out, size_t len, const char *col, const char *id)
{
	snprintf(out, len, "%s = '%s'", col, id);
}

/* No sealed plaintext in s (NULL is fine). */
static void assert_clean(const char *s)
{
	static const char *const secrets[] = {NAME,    ADDRESS, EMAIL, TITLE, BODY,  NOTE,
	                                      REASONS, CTEXT,   RTEXT, WHY,   REVIEW};

	for (size_t i = 0; s && i < N(secrets); i++)
		if (strstr(s, secrets[i]))
			fail_msg("plaintext '%s' came back from a tampered value", secrets[i]);
}

/* ---- member fields and the wrapped key ---------------------------------------- */

static cu_result read_member(struct fx *f, cu_record *rec)
{
	cu_access_request req = {.actor = &f->self, .purpose = "self", .member = f->member};
	cu_access_decision d;
	cu_result rc;

	cu_record_init(rec);
	rc = cu_access_read(f->ctx, &req, &d, rec);
	return rc ? rc : d.rc;
}

/* Whether v is, field and value, one of what was read before the tampering. */
static bool same_as_before(const cu_record *before, const cu_record_value *v)
{
	for (size_t k = 0; k < before->n; k++)
		if (before->v[k].field == v->field)
			return before->v[k].len == v->len &&
			       !memcmp(before->v[k].value, v->value, v->len);
	return false;
}

static void test_member_fields_every_byte(void **state)
{
	struct fx *f = *state;
	char where[64];
	cu_record rec, orig;
	size_t whole;
	int n, renamed = 0;

	where_id(where, sizeof(where), "id", f->member);
	n = blob_len(f, "members", "fields", where);
	assert_true(n > 0);
	assert_int_equal(read_member(f, &rec), CU_OK);
	cu_record_wipe(&rec);
	cu_record_init(&orig);
	assert_int_equal(read_member(f, &orig), CU_OK);
	whole = orig.n;
	for (int i = 0; i < n; i++) {
		cu_result rc;

		flip(f, "members", "fields", where, i);
		rc = read_member(f, &rec);
		if (rc == CU_OK) {
			/*
			 * Only a field's name altered in place (framing, outside the
			 * seal): that field reads as having no value, every other one
			 * as it was, and nothing sealed is shown (docs/keys.md).
			 */
			renamed++;
			assert_int_equal(rec.n, whole - 1);
			for (size_t k = 0; k < rec.n; k++)
				assert_true(same_as_before(&orig, &rec.v[k]));
		} else {
			assert_true(rc == CU_ERR_CRYPTO || rc == CU_ERR_STORE);
			assert_int_equal(rec.n, 0);
		}
		cu_record_wipe(&rec);
		flip(f, "members", "fields", where, i); /* back */
	}
	/* Names are a few bytes of the record: most flips are caught. */
	assert_true(renamed * 4 < n);
	cu_record_wipe(&orig);
	assert_int_equal(read_member(f, &rec), CU_OK);
	cu_record_wipe(&rec);
}

static void test_member_wrapped_key_every_byte(void **state)
{
	struct fx *f = *state;
	char where[64];
	cu_record rec;

	where_id(where, sizeof(where), "id", f->member);
	assert_int_equal(blob_len(f, "members", "wrapped", where), CU_VAULT_WRAPPEDBYTES);
	for (int i = 0; i < CU_VAULT_WRAPPEDBYTES; i++) {
		flip(f, "members", "wrapped", where, i);
		assert_int_equal(read_member(f, &rec), CU_ERR_CRYPTO);
		assert_int_equal(rec.n, 0);
		cu_record_wipe(&rec);
		flip(f, "members", "wrapped", where, i);
	}
	/* Another key id: the wrap names its key; no other key opens it. */
	assert_int_equal(cu_test_store_sql(f->url, "UPDATE members SET key_id = key_id + 1"), 1);
	assert_int_equal(read_member(f, &rec), CU_ERR_CRYPTO);
	cu_record_wipe(&rec);
}

/* ---- diaries ---------------------------------------------------------------------- */

static cu_result read_diary(struct fx *f)
{
	cu_diary_list l;
	cu_result rc;

	cu_diary_list_init(&l);
	rc = cu_diary_list_own(f->ctx, &f->self, f->member, NULL, 0, &l);
	for (size_t i = 0; i < l.n; i++) {
		/*
		 * A damaged entry is listed as unreadable, with neither of its
		 * texts: the rest of the page is still served (export.h).
		 */
		if (rc || l.v[i].unreadable) {
			assert_null(l.v[i].title);
			assert_null(l.v[i].body);
			if (rc == CU_OK)
				rc = CU_ERR_CRYPTO;
		}
	}
	if (rc == CU_OK || rc == CU_ERR_CRYPTO)
		assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
	return rc;
}

static void test_diary_title_and_body(void **state)
{
	static const char *const cols[] = {"title", "body"};
	struct fx *f = *state;
	char id[CU_ID_LEN + 1], where[64];
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_diary_write(f->ctx, &f->self, f->member, TITLE, BODY, id, &errs),
	                 CU_OK);
	where_id(where, sizeof(where), "id", id);
	assert_int_equal(read_diary(f), CU_OK);
	for (size_t c = 0; c < N(cols); c++) {
		int n = blob_len(f, "diaries", cols[c], where);

		assert_true(n > CU_VAULT_SEAL_OVERHEAD);
		for (int i = 0; i < n; i++) {
			flip(f, "diaries", cols[c], where, i);
			if (read_diary(f) == CU_OK)
				fail_msg("diary %s byte %d flipped: the read succeeded", cols[c],
				         i);
			flip(f, "diaries", cols[c], where, i);
		}
	}
	assert_int_equal(read_diary(f), CU_OK);
}

/* ---- requests ------------------------------------------------------------------ */

static cu_result read_request(struct fx *f, const char *id)
{
	cu_request_view v;
	cu_result rc;

	cu_request_view_init(&v);
	rc = cu_request_get(f->ctx, &officer, id, &v);
	if (rc == CU_OK) {
		assert_non_null(v.details);
		assert_non_null(strstr(v.details, NOTE));
		for (size_t i = 0; i < v.nevents; i++)
			if (v.events[i].reasons)
				assert_string_equal(v.events[i].reasons, REASONS);
	} else {
		assert_clean(v.details);
		for (size_t i = 0; i < v.nevents; i++)
			assert_clean(v.events[i].reasons);
	}
	cu_request_view_wipe(&v);
	return rc;
}

static void test_request_details_and_reasons(void **state)
{
	struct fx *f = *state;
	cu_request_input in = {.type = CU_REQUEST_DISCLOSURE, .text = NOTE};
	cu_request_decision dec = {.action = CU_REQUEST_INVESTIGATE, .reasons = REASONS};
	char token[CU_REQUEST_TOKEN_LEN + 1], where[64];
	cu_request_row row;
	cu_errors errs;
	int n;

	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_OK);
	assert_int_equal(cu_request_decide(f->ctx, &officer, row.id, &dec, T0, NULL, NULL, &errs),
	                 CU_OK);
	assert_int_equal(read_request(f, row.id), CU_OK);
	where_id(where, sizeof(where), "id", row.id);
	n = blob_len(f, "requests", "details", where);
	assert_true(n > CU_VAULT_SEAL_OVERHEAD);
	for (int i = 0; i < n; i++) {
		flip(f, "requests", "details", where, i);
		if (read_request(f, row.id) == CU_OK)
			fail_msg("request details byte %d flipped: the read succeeded", i);
		flip(f, "requests", "details", where, i);
	}
	snprintf(where, sizeof(where), "request = '%s' AND reasons IS NOT NULL", row.id);
	n = blob_len(f, "request_events", "reasons", where);
	assert_true(n > CU_VAULT_SEAL_OVERHEAD);
	for (int i = 0; i < n; i++) {
		flip(f, "request_events", "reasons", where, i);
		if (read_request(f, row.id) == CU_OK)
			fail_msg("decision reasons byte %d flipped: the read succeeded", i);
		flip(f, "request_events", "reasons", where, i);
	}
	assert_int_equal(read_request(f, row.id), CU_OK);
	cu_request_row_release(&row);
}

/* ---- complaints ------------------------------------------------------------------ */

static cu_result read_complaint(struct fx *f, const char *id)
{
	cu_complaint_view v;
	cu_result rc;

	cu_complaint_view_init(&v);
	rc = cu_complaint_get(f->ctx, &officer, id, &v);
	if (rc == CU_OK) {
		assert_non_null(v.text);
		assert_string_equal(v.text, CTEXT);
		assert_int_equal(v.nresponses, 1);
		assert_non_null(v.responses[0].text);
		assert_string_equal(v.responses[0].text, RTEXT);
	} else {
		assert_clean(v.text);
		for (size_t i = 0; i < v.nresponses; i++)
			assert_clean(v.responses[i].text);
	}
	cu_complaint_view_wipe(&v);
	return rc;
}

static void test_complaint_text_and_response(void **state)
{
	struct fx *f = *state;
	char where[64], secret[CU_TOKEN_SECRET_LEN + 1], tid[CU_ID_LEN + 1];
	cu_complaint_row row, after;
	cu_errors errs;
	int n;

	assert_int_equal(
	    cu_token_create(f->ctx, NULL, CU_ROLE_OFFICER, "privacy officer", 0, secret, tid),
	    CU_OK);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_complaint_file(f->ctx, &f->self, f->member, "use", CTEXT, T0, &row, &errs), CU_OK);
	assert_int_equal(
	    cu_complaint_respond(f->ctx, &officer, row.id, RTEXT, false, T0, &after, &errs), CU_OK);
	cu_complaint_row_release(&after);
	assert_int_equal(read_complaint(f, row.id), CU_OK);
	where_id(where, sizeof(where), "id", row.id);
	n = blob_len(f, "complaints", "text", where);
	assert_true(n > CU_VAULT_SEAL_OVERHEAD);
	for (int i = 0; i < n; i++) {
		flip(f, "complaints", "text", where, i);
		if (read_complaint(f, row.id) == CU_OK)
			fail_msg("complaint text byte %d flipped: the read succeeded", i);
		flip(f, "complaints", "text", where, i);
	}
	where_id(where, sizeof(where), "complaint", row.id);
	n = blob_len(f, "complaint_responses", "text", where);
	assert_true(n > CU_VAULT_SEAL_OVERHEAD);
	for (int i = 0; i < n; i++) {
		flip(f, "complaint_responses", "text", where, i);
		if (read_complaint(f, row.id) == CU_OK)
			fail_msg("complaint response byte %d flipped: the read succeeded", i);
		flip(f, "complaint_responses", "text", where, i);
	}
	assert_int_equal(read_complaint(f, row.id), CU_OK);
	cu_complaint_row_release(&row);
}

/* ---- exceptions -------------------------------------------------------------------- */

struct ex_seen {
	int n;
	char id[CU_ID_LEN + 1];
};

static int on_exception(void *ud, const cu_exception_view *v)
{
	struct ex_seen *s = ud;

	assert_string_equal(v->justification, WHY);
	if (v->review)
		assert_string_equal(v->review, REVIEW);
	snprintf(s->id, sizeof(s->id), "%s", v->row->id);
	s->n++;
	return 0;
}

static cu_result list_exceptions(struct fx *f, struct ex_seen *s)
{
	memset(s, 0, sizeof(*s));
	return cu_access_exception_list(f->ctx->store, f->ctx->vault, &officer, false, on_exception,
	                                s);
}

static void test_exception_justification_and_review(void **state)
{
	static const char *const cols[] = {"justification", "review"};
	struct fx *f = *state;
	cu_access_request req = {.actor = &officer,
	                         .purpose = "testimonials",
	                         .member = f->member,
	                         .exception = "law",
	                         .justification = WHY};
	cu_access_decision d;
	struct ex_seen s;
	cu_record rec;
	char where[64];

	req.fields = (cu_fieldset)1 << cu_policy_field_index(f->ctx->policy, "name");
	cu_record_init(&rec);
	assert_int_equal(cu_access_read(f->ctx, &req, &d, &rec), CU_OK);
	cu_record_wipe(&rec);
	assert_int_equal(list_exceptions(f, &s), CU_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(cu_access_exception_close(f->ctx, &officer, s.id, REVIEW), CU_OK);
	where_id(where, sizeof(where), "id", s.id);
	for (size_t c = 0; c < N(cols); c++) {
		int n = blob_len(f, "exceptions", cols[c], where);

		assert_true(n > CU_VAULT_NOTE_OVERHEAD);
		for (int i = 0; i < n; i++) {
			flip(f, "exceptions", cols[c], where, i);
			if (list_exceptions(f, &s) == CU_OK)
				fail_msg("exception %s byte %d flipped: the list opened it",
				         cols[c], i);
			flip(f, "exceptions", cols[c], where, i);
		}
	}
	assert_int_equal(list_exceptions(f, &s), CU_OK);
	assert_int_equal(s.n, 1);
}

/* ---- signed things handed out: receipts and certificates ------------------------- */

typedef cu_result (*verify_fn)(const char *json, size_t len, const cu_vault *v, char *what,
                               size_t whatlen);

static cu_result verify_receipt(const char *json, size_t len, const cu_vault *v, char *what,
                                size_t whatlen)
{
	return cu_consent_receipt_verify(json, len, v, what, whatlen, NULL, 0);
}

/* Every byte of json flipped in turn: each copy is refused, with a reason. */
static void every_byte_refused(const char *json, const cu_vault *v, verify_fn verify)
{
	size_t len = strlen(json);
	char *copy = malloc(len + 1), what[256];

	assert_non_null(copy);
	what[0] = '\0';
	assert_int_equal(verify(json, len, v, what, sizeof(what)), CU_OK);
	for (size_t i = 0; i < len; i++) {
		cu_result rc;

		memcpy(copy, json, len + 1);
		copy[i] ^= 0x01;
		what[0] = '\0';
		rc = verify(copy, len, v, what, sizeof(what));
		if (rc == CU_OK) {
			/* Only a change JSON itself ignores may pass: whitespace between tokens. */
			if (!strchr(" \t\n\r", json[i]) || !strchr(" \t\n\r", copy[i]))
				fail_msg("byte %zu ('%c' -> '%c') flipped: still verifies", i,
				         json[i], copy[i]);
			continue;
		}
		assert_true(rc == CU_ERR_CRYPTO || rc == CU_ERR_INVALID_ARGUMENT);
		assert_true(what[0] != '\0');
	}
	free(copy);
}

static void test_consent_receipt_every_byte(void **state)
{
	struct fx *f = *state;
	cu_consent_row row;
	cu_errors errs;
	char *json = NULL;

	cu_errors_init(&errs);
	assert_int_equal(cu_consent_set(f->ctx, &f->self, f->member, CU_CONSENT_PURPOSE,
	                                "testimonials", true, &row, &errs),
	                 CU_OK);
	assert_int_equal(cu_consent_receipt(f->ctx->store, f->ctx->vault, &row, &json), CU_OK);
	every_byte_refused(json, f->ctx->vault, verify_receipt);
	free(json);
}

static void test_erasure_certificate_every_byte(void **state)
{
	struct fx *f = *state;
	cu_request_input in = {.type = CU_REQUEST_ERASURE};
	cu_request_decision dec = {.action = CU_REQUEST_APPLY};
	char token[CU_REQUEST_TOKEN_LEN + 1], *cert = NULL;
	cu_request_row row;
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_request_file(f->ctx, &f->self, f->member, &in, T0, &row, token, &errs),
	                 CU_OK);
	assert_int_equal(cu_request_decide(f->ctx, &officer, row.id, &dec, T0, NULL, &cert, &errs),
	                 CU_OK);
	assert_non_null(cert);
	every_byte_refused(cert, f->ctx->vault, cu_request_certificate_verify);
	free(cert);
	cu_request_row_release(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_member_fields_every_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_member_wrapped_key_every_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_diary_title_and_body, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_details_and_reasons, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_complaint_text_and_response, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exception_justification_and_review, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_consent_receipt_every_byte, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erasure_certificate_every_byte, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
