/*
 * test_consent.c — consents, policy versions and legal exceptions at the
 * access door: out-of-scope use only with consent, withdrawal at once, a
 * new version's purposes only after acceptance or consent, exceptions only
 * by an officer with a justification and always reviewed; signed receipts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/members.h"
#include "store/notify.h"
#include "domain/versions.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor staff = {"desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor officer = {"po", CU_ROLE_OFFICER, NULL, NULL};

static const cu_kv member[] = {
    {"name", "Consenta Member"},       {"address", "1 Choice Rd"}, {"phone", "0312345670"},
    {"email", "consenta@example.com"}, {"occupation", "Teacher"},
};

static void register_one(cu_ctx *ctx, char id[CU_ID_LEN + 1])
{
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, member, N(member), NULL, id, &errs),
	                 CU_OK);
}

static cu_result read_as(cu_ctx *ctx, const cu_actor *a, const char *purpose, const char *id,
                         cu_access_decision *d)
{
	cu_access_request req = {.actor = a, .purpose = purpose, .member = id};
	cu_record rec;
	cu_result rc;

	cu_record_init(&rec);
	rc = cu_access_read(ctx, &req, d, &rec);
	cu_record_wipe(&rec);
	return rc;
}

/* A use outside the purposes of use: refused until the member consents, again after withdrawal. */
static void test_out_of_scope_needs_consent(void **state)
{
	char *dir, id[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_actor self;
	cu_access_decision d;
	cu_consent_row row;
	cu_errors errs;

	(void)state;
	register_one(ctx, id);
	self = (cu_actor){id, CU_ROLE_MEMBER, id, NULL};
	cu_errors_init(&errs);
	assert_int_equal(read_as(ctx, &staff, "testimonials", id, &d), CU_ERR_CONSENT_REQUIRED);
	/* Nobody but the member (or the operator, recording paper) decides. */
	assert_int_equal(
	    cu_consent_set(ctx, &staff, id, CU_CONSENT_PURPOSE, "testimonials", true, &row, &errs),
	    CU_ERR_FORBIDDEN);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "testimonials", true, &row, &errs),
	    CU_OK);
	assert_string_equal(row.policy_version, ctx->policy->version);
	assert_int_equal(read_as(ctx, &staff, "testimonials", id, &d), CU_OK);
	assert_string_equal(d.basis, "consent");
	/* Withdrawn: the very next read is refused. */
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "testimonials", false, &row, &errs),
	    CU_OK);
	assert_int_equal(read_as(ctx, &staff, "testimonials", id, &d), CU_ERR_CONSENT_REQUIRED);
	/* An ordinary purpose is not the member's to refuse, nor an unknown one to grant. */
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "support", false, &row, &errs),
	    CU_ERR_INVALID_FIELD);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "resale", true, &row, &errs),
	    CU_ERR_INVALID_FIELD);
	/* Necessary cookies cannot be refused; the others can. */
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_COOKIE, "necessary", false, &row, &errs),
	    CU_ERR_INVALID_FIELD);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_COOKIE, "advertising", false, &row, &errs),
	    CU_OK);
	{
		bool g = true;

		assert_int_equal(cu_consent_granted(ctx->store, ctx->policy, id, CU_CONSENT_COOKIE,
		                                    "advertising", &g),
		                 CU_OK);
		assert_false(g);
		assert_int_equal(cu_consent_granted(ctx->store, ctx->policy, id, CU_CONSENT_COOKIE,
		                                    "necessary", &g),
		                 CU_OK);
		assert_true(g);
	}
	cu_test_ctx_free(ctx, dir);
}

/* Receipts: verify, refuse when altered or signed by another key. */
static void test_receipts(void **state)
{
	char *dir, id[CU_ID_LEN + 1], *json = NULL, what[200], summary[200];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_vault *other = NULL;
	cu_consent_row row;
	cu_errors errs;
	cu_actor self;
	char *p;

	(void)state;
	register_one(ctx, id);
	self = (cu_actor){id, CU_ROLE_MEMBER, id, NULL};
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "testimonials", true, &row, &errs),
	    CU_OK);
	assert_int_equal(cu_consent_receipt(ctx->store, ctx->vault, &row, &json), CU_OK);
	assert_non_null(strstr(json, "\"choice\": \"granted\""));
	assert_non_null(strstr(json, ctx->policy->version));
	assert_int_equal(cu_consent_receipt_verify(json, strlen(json), ctx->vault, what,
	                                           sizeof(what), summary, sizeof(summary)),
	                 CU_OK);
	assert_non_null(strstr(summary, "purpose testimonials granted"));
	/* Deterministic: the same choice, the same receipt. */
	{
		char *again = NULL;

		assert_int_equal(cu_consent_receipt(ctx->store, ctx->vault, &row, &again), CU_OK);
		assert_string_equal(json, again);
		free(again);
	}
	/* Someone else's key: the signature holds, but it is not ours. */
	assert_int_equal(
	    cu_vault_open_text("1 "
	                       "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n",
	                       &other, NULL, 0),
	    CU_OK);
	assert_int_equal(
	    cu_consent_receipt_verify(json, strlen(json), other, what, sizeof(what), NULL, 0),
	    CU_ERR_CRYPTO);
	/* Altered: granted -> withdrawn. */
	p = strstr(json, "\"granted\"");
	assert_non_null(p);
	memcpy(p, "\"grantee\"", 9);
	assert_int_equal(
	    cu_consent_receipt_verify(json, strlen(json), NULL, what, sizeof(what), NULL, 0),
	    CU_ERR_CRYPTO);
	assert_int_equal(cu_consent_receipt_verify("{}", 2, NULL, what, sizeof(what), NULL, 0),
	                 CU_ERR_INVALID_ARGUMENT);
	cu_vault_free(other);
	free(json);
	cu_test_ctx_free(ctx, dir);
}

/* Publishes `doc` with one change applied by fn; returns the new policy. */
static cu_policy *publish_changed(cu_ctx *ctx, const char *version, void (*fn)(json_t *))
{
	char path[4200], err[256];
	json_t *doc;
	char *text;
	cu_policy *p = NULL;

	snprintf(path, sizeof(path), "%s/policy.json", ctx->dir);
	doc = json_load_file(path, 0, NULL);
	assert_non_null(doc);
	json_object_set_new(doc, "version", json_string(version));
	fn(doc);
	text = json_dumps(doc, JSON_INDENT(2));
	json_decref(doc);
	if (cu_versions_publish(ctx, &cu_test_operator, text, strlen(text), &p, err, sizeof(err)))
		fail_msg("publish: %s", err);
	free(text);
	return p;
}

static int find_policy_notice(void *ud, const cu_notice_row *row)
{
	int *found = ud;

	if (!strcmp(row->kind, "policy") && strstr(row->subject, "2027-01-01.1"))
		*found = 1;
	return 0;
}

/* Version 2 adds a purpose and gives support one more field. */
static void add_purpose_and_field(json_t *doc)
{
	json_t *purposes = json_object_get(doc, "purposes"), *pu;
	size_t i;

	json_array_foreach(purposes, i, pu)
	{
		if (!strcmp(json_string_value(json_object_get(pu, "id")), "support"))
			json_array_append_new(json_object_get(pu, "fields"),
			                      json_string("address"));
	}
	json_array_append_new(purposes,
	                      json_pack("{s:s,s:i,s:s,s:[s],s:[s,s]}", "id", "community", "number",
	                                11, "text", "to introduce members to one another", "roles",
	                                "staff", "fields", "name", "hobbies"));
}

static void test_new_version_needs_acceptance(void **state)
{
	char *dir, id[CU_ID_LEN + 1], version[CU_VERSION_MAX + 1], old_version[CU_VERSION_MAX + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_policy *v2, *v1;
	cu_access_decision d;
	cu_consent_row row;
	cu_errors errs;
	cu_actor self;
	int address;
	json_t *diff;

	(void)state;
	register_one(ctx, id);
	self = (cu_actor){id, CU_ROLE_MEMBER, id, NULL};
	snprintf(old_version, sizeof(old_version), "%s", ctx->policy->version);
	v2 = publish_changed(ctx, "2027-01-01.1", add_purpose_and_field);
	/* Members are told, with the publication. */
	{
		int found = 0;

		assert_int_equal(
		    cu_store_notice_list(ctx->store, id, 10, find_policy_notice, &found), CU_OK);
		assert_true(found);
	}
	/* Publishing does not change what this process enforces until it loads the new one. */
	v1 = ctx->policy;
	ctx->policy = v2;
	address = cu_policy_field_index(v2, "address");

	{
		cu_member_row mrow = {0};

		assert_int_equal(cu_store_member_get(ctx->store, id, &mrow), CU_OK);
		assert_int_equal(cu_versions_accepted(ctx->store, id, mrow.created_us, version),
		                 CU_OK);
		assert_string_equal(version, old_version);
		/* Asked about a moment after publication, the new version is in force. */
		assert_int_equal(cu_versions_accepted(ctx->store, id, cu_now_us(), version), CU_OK);
		assert_string_equal(version, "2027-01-01.1");
		/*
		 * Registered before any version was recorded (a store older than versions):
		 * held to the earliest version, not to the newest one in force.
		 */
		assert_int_equal(cu_versions_accepted(ctx->store, id, 1, version), CU_OK);
		assert_string_equal(version, old_version);
		cu_member_row_release(&mrow);
	}
	/* The new purpose: not before the member agrees. */
	assert_int_equal(read_as(ctx, &staff, "community", id, &d), CU_ERR_CONSENT_REQUIRED);
	/* The old purpose: only the fields the accepted version granted. */
	assert_int_equal(read_as(ctx, &staff, "support", id, &d), CU_OK);
	assert_false((d.allowed >> address) & 1);
	assert_string_equal(d.reason[address], "not in the policy version the member accepted");

	/* The member sees what changed, side by side. */
	diff = cu_versions_diff(v1, v2);
	assert_int_equal(json_array_size(json_object_get(diff, "purposes_added")), 1);
	assert_int_equal(json_array_size(json_object_get(diff, "purposes_changed")), 1);
	assert_string_equal(
	    json_string_value(json_array_get(
	        json_object_get(json_array_get(json_object_get(diff, "purposes_changed"), 0),
	                        "fields_added"),
	        0)),
	    "address");
	json_decref(diff);

	/* Consent to the one purpose opens it alone. */
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "community", true, &row, &errs),
	    CU_OK);
	assert_int_equal(read_as(ctx, &staff, "community", id, &d), CU_OK);
	assert_int_equal(read_as(ctx, &staff, "support", id, &d), CU_OK);
	assert_false((d.allowed >> address) & 1);
	/* Accepting the version opens everything it says. */
	assert_int_equal(cu_consent_accept_policy(ctx, &self, id), CU_OK);
	assert_int_equal(read_as(ctx, &staff, "support", id, &d), CU_OK);
	assert_true((d.allowed >> address) & 1);
	/* A member registered under version 2 is under it from the start. */
	{
		char id2[CU_ID_LEN + 1];
		cu_kv other[] = {{"name", "Late"},
		                 {"address", "2 Rd"},
		                 {"phone", "0312345671"},
		                 {"email", "late@example.com"}};

		assert_int_equal(
		    cu_member_register(ctx, &service, other, N(other), NULL, id2, &errs), CU_OK);
		assert_int_equal(read_as(ctx, &staff, "community", id2, &d), CU_OK);
	}
	/* The same version with other content is refused. */
	{
		char err[256];
		cu_policy *p = NULL;
		char path[4200], *text;
		json_t *doc;

		snprintf(path, sizeof(path), "%s/policy.json", ctx->dir);
		doc = json_load_file(path, 0, NULL);
		json_object_set_new(doc, "title", json_string("Changed without a new version"));
		text = json_dumps(doc, 0);
		json_decref(doc);
		assert_int_equal(
		    cu_versions_publish(ctx, &officer, text, strlen(text), &p, err, sizeof(err)),
		    CU_ERR_CONFLICT);
		assert_null(p);
		free(text);
		assert_int_equal(cu_versions_publish(ctx, &staff, "{}", 2, &p, err, sizeof(err)),
		                 CU_ERR_FORBIDDEN);
	}
	ctx->policy = v1;
	cu_policy_free(v2);
	cu_test_ctx_free(ctx, dir);
}

/* Version 2 drops the consent mark from testimonials. */
static void drop_consent_mark(json_t *doc)
{
	json_t *purposes = json_object_get(doc, "purposes"), *pu;
	size_t i;

	json_array_foreach(purposes, i, pu)
	{
		if (!strcmp(json_string_value(json_object_get(pu, "id")), "testimonials"))
			json_object_del(pu, "consent_required");
	}
}

/* "Only with consent" under the accepted version stays so when a later version drops the mark. */
static void test_consent_mark_outlives_its_version(void **state)
{
	char *dir, id[CU_ID_LEN + 1], id2[CU_ID_LEN + 1];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	cu_kv late[] = {{"name", "Late"},
	                {"address", "2 Rd"},
	                {"phone", "0312345671"},
	                {"email", "late@example.com"},
	                {"occupation", "Baker"}};
	cu_policy *v2, *v1;
	cu_access_decision d;
	cu_consent_row row;
	cu_errors errs;
	cu_actor self;
	json_t *diff, *changed;

	(void)state;
	register_one(ctx, id);
	self = (cu_actor){id, CU_ROLE_MEMBER, id, NULL};
	v2 = publish_changed(ctx, "2027-02-01.1", drop_consent_mark);
	v1 = ctx->policy;
	ctx->policy = v2;
	assert_false(cu_policy_purpose_find(v2, "testimonials")->consent_required);

	/* Held to version 1: still only with consent, and the member can still give it. */
	assert_int_equal(read_as(ctx, &staff, "testimonials", id, &d), CU_ERR_CONSENT_REQUIRED);
	cu_errors_init(&errs);
	assert_int_equal(
	    cu_consent_set(ctx, &self, id, CU_CONSENT_PURPOSE, "testimonials", true, &row, &errs),
	    CU_OK);
	assert_int_equal(read_as(ctx, &staff, "testimonials", id, &d), CU_OK);
	/* A member under version 2 agreed to it as a purpose of use. */
	assert_int_equal(cu_member_register(ctx, &service, late, N(late), NULL, id2, &errs), CU_OK);
	assert_int_equal(read_as(ctx, &staff, "testimonials", id2, &d), CU_OK);

	/* The diff says so. */
	diff = cu_versions_diff(v1, v2);
	changed = json_array_get(json_object_get(diff, "purposes_changed"), 0);
	assert_string_equal(json_string_value(json_object_get(changed, "id")), "testimonials");
	assert_true(
	    json_is_true(json_object_get(json_object_get(changed, "before"), "consent_required")));
	assert_true(
	    json_is_false(json_object_get(json_object_get(changed, "after"), "consent_required")));
	json_decref(diff);

	ctx->policy = v1;
	cu_policy_free(v2);
	cu_test_ctx_free(ctx, dir);
}

struct open_count {
	int n;
	char id[CU_ID_LEN + 1];
};

static int count_open(void *ud, const cu_exception_row *row)
{
	struct open_count *c = ud;

	c->n++;
	memcpy(c->id, row->id, sizeof(c->id));
	return 0;
}

/* Legal exceptions: officer only, justified, reviewed. */
static void test_exceptions(void **state)
{
	char *dir, id[CU_ID_LEN + 1], text[128], path[600];
	cu_ctx *ctx = cu_test_ctx_new(&dir);
	const char *why = "Court order 2026-W-117 requires the contact details.";
	cu_access_request req = {
	    .actor = &officer, .purpose = "testimonials", .exception = "law", .justification = why};
	cu_access_decision d;
	cu_exception_row ex;
	struct open_count c = {0};
	cu_record rec;
	size_t n;
	int address = cu_policy_field_index(ctx->policy, "address");
	int name = cu_policy_field_index(ctx->policy, "name");

	(void)state;
	register_one(ctx, id);
	req.member = id;
	cu_record_init(&rec);
	/* An exception names the fields it needs: none named, nothing read (and no review). */
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(rec.n, 0);
	/*
	 * Without consent, the officer's exception opens the read: exactly the
	 * fields named, even one no purpose grants (testimonials: name, occupation).
	 */
	req.fields = (cu_fieldset)1 << address;
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_OK);
	assert_string_equal(d.basis, "exception");
	assert_string_equal(d.decision, "allow");
	assert_int_equal(d.allowed, (cu_fieldset)1 << address);
	assert_int_equal(rec.n, 1);
	assert_string_equal(cu_record_get(&rec, address), "1 Choice Rd");
	assert_null(cu_record_get(&rec, name));
	cu_record_wipe(&rec);
	/* ... and flags it for review, its justification sealed. */
	assert_int_equal(cu_store_exception_list(ctx->store, true, count_open, &c), CU_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(cu_store_exception_get(ctx->store, c.id, &ex), CU_OK);
	assert_string_equal(ex.exception, "law");
	assert_string_equal(ex.member, id);
	/* The review names the fields it opened. */
	assert_string_equal(ex.fields, "address");
	snprintf(text, sizeof(text), "exception:%s", ex.id);
	{
		unsigned char plain[2100];

		assert_int_equal(cu_vault_open_note(ctx->vault, text, ex.justification,
		                                    ex.justification_len, plain, &n),
		                 CU_OK);
		assert_string_equal((char *)plain, why);
	}
	cu_exception_row_release(&ex);
	assert_int_equal(cu_store_checkpoint(ctx->store), CU_OK);
	snprintf(path, sizeof(path), "%s/var/custodian.db", dir);
	assert_false(cu_test_file_contains(path, "Court order 2026-W-117"));

	/* Staff cannot invoke one; nor without a justification; nor an unknown one. */
	req.actor = &staff;
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_FORBIDDEN);
	req.actor = &officer;
	req.justification = "because";
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_INVALID_ARGUMENT);
	req.justification = why;
	req.exception = "curiosity";
	assert_int_equal(cu_access_read(ctx, &req, &d, &rec), CU_ERR_INVALID_ARGUMENT);
	/* Still the one review open; closing it twice is refused. */
	c.n = 0;
	assert_int_equal(cu_store_exception_list(ctx->store, true, count_open, &c), CU_OK);
	assert_int_equal(c.n, 1);
	assert_int_equal(cu_tx_begin(ctx), CU_OK);
	assert_int_equal(cu_store_exception_close(ctx->store, c.id, "po",
	                                          (const unsigned char *)"x", 1, cu_now_us()),
	                 CU_OK);
	assert_int_equal(cu_store_exception_close(ctx->store, c.id, "po",
	                                          (const unsigned char *)"x", 1, cu_now_us()),
	                 CU_ERR_CONFLICT);
	assert_int_equal(cu_tx_commit(ctx), CU_OK);
	c.n = 0;
	assert_int_equal(cu_store_exception_list(ctx->store, true, count_open, &c), CU_OK);
	assert_int_equal(c.n, 0);
	cu_test_ctx_free(ctx, dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_out_of_scope_needs_consent),
	    cmocka_unit_test(test_receipts),
	    cmocka_unit_test(test_new_version_needs_acceptance),
	    cmocka_unit_test(test_consent_mark_outlives_its_version),
	    cmocka_unit_test(test_exceptions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
