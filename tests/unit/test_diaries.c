/*
 * test_diaries.c — members' diaries: sealed on disk, the author's own
 * write / edit / delete / list, ids that do not leak across members, and the
 * door's diary section (no case reference, no diary; every decision
 * audited with its case, never the content); erasure takes them all.
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
#include "domain/diaries.h"
#include "domain/erasure.h"
#include "domain/members.h"
#include "store/consent.h"
#include "store/diary.h"
#include "domain/versions.h"
#include "support.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const cu_actor service = {"backend", CU_ROLE_SERVICE, NULL, NULL};
static const cu_actor desk = {"support desk", CU_ROLE_STAFF, NULL, NULL};
static const cu_actor officer = {"privacy officer", CU_ROLE_OFFICER, NULL, NULL};
static const cu_actor analyst = {"analyst", CU_ROLE_ANALYST, NULL, NULL};

/* Distinctive text: if these bytes show up on disk or in the audit, plaintext leaked. */
#define SECRET_TITLE "Quillwhistle confession"
#define SECRET_BODY  "I borrowed the Zembla lantern\nand never returned it."

struct fx {
	cu_ctx *ctx;
	char *dir;
	char alice[CU_ID_LEN + 1], bob[CU_ID_LEN + 1];
	cu_actor a, b;
};

static void register_one(cu_ctx *ctx, const char *name, const char *email, char id[CU_ID_LEN + 1])
{
	const cu_kv kv[] = {
	    {"name", name},
	    {"address", "1 Diary Lane"},
	    {"phone", "+81312345678"},
	    {"email", email},
	};
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_member_register(ctx, &service, kv, N(kv), NULL, id, &errs), CU_OK);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->ctx = cu_test_ctx_new(&f->dir);
	register_one(f->ctx, "Alice Diarist", "alice@diary.example", f->alice);
	register_one(f->ctx, "Bob Diarist", "bob@diary.example", f->bob);
	f->a = (cu_actor){f->alice, CU_ROLE_MEMBER, f->alice, NULL};
	f->b = (cu_actor){f->bob, CU_ROLE_MEMBER, f->bob, NULL};
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

static void write_ok(struct fx *f, const cu_actor *who, const char *member, const char *title,
                     const char *body, char id[CU_ID_LEN + 1])
{
	cu_errors errs;

	cu_errors_init(&errs);
	assert_int_equal(cu_diary_write(f->ctx, who, member, title, body, id, &errs), CU_OK);
	assert_int_equal(strlen(id), CU_ID_LEN);
}

/* ---- the audit, as the officer would read it ------------------------------- */

struct last_entry {
	char action[32], actor[128], role[16], member[32], purpose[48], fields[64];
	char decision[16], reason[200], case_ref[136];
	int n;
	const char *needle; /* must appear in no entry */
	int leaks;
};

static int keep_last(void *ud, const cu_audit_entry *e)
{
	struct last_entry *l = ud;
	const char *texts[] = {e->actor,  e->action,   e->member, e->purpose,
	                       e->fields, e->decision, e->reason, e->case_ref};

	for (size_t i = 0; l->needle && i < N(texts); i++)
		if (strstr(texts[i], l->needle))
			l->leaks++;
	snprintf(l->action, sizeof(l->action), "%s", e->action);
	snprintf(l->actor, sizeof(l->actor), "%s", e->actor);
	snprintf(l->role, sizeof(l->role), "%s", e->role);
	snprintf(l->member, sizeof(l->member), "%s", e->member);
	snprintf(l->purpose, sizeof(l->purpose), "%s", e->purpose);
	snprintf(l->fields, sizeof(l->fields), "%s", e->fields);
	snprintf(l->decision, sizeof(l->decision), "%s", e->decision);
	snprintf(l->reason, sizeof(l->reason), "%s", e->reason);
	snprintf(l->case_ref, sizeof(l->case_ref), "%s", e->case_ref);
	l->n++;
	return 0;
}

/* The last audit entry (of every member when member is NULL). */
static struct last_entry last_audit(cu_ctx *ctx, const char *member)
{
	struct last_entry l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, member, keep_last, &l), CU_OK);
	assert_true(l.n > 0);
	return l;
}

static int audit_mentions(cu_ctx *ctx, const char *needle)
{
	struct last_entry l;

	memset(&l, 0, sizeof(l));
	l.needle = needle;
	assert_int_equal(cu_store_audit_scan(ctx->store, 1, NULL, keep_last, &l), CU_OK);
	return l.leaks;
}

/* A staff-style read; returns its rc and leaves the page in *out (wipe it). */
static cu_result staff_read(struct fx *f, const cu_actor *who, const char *purpose,
                            const char *member, const char *case_ref, cu_diary_list *out)
{
	cu_diary_request req = {who, purpose, member, case_ref, NULL, 0};
	cu_diary_decision d;
	cu_result rc;

	cu_diary_list_init(out);
	rc = cu_access_read_diaries(f->ctx, &req, &d, out);
	if (rc)
		assert_int_equal(out->n, 0);
	return rc;
}

/* ---- tests ----------------------------------------------------------------- */

/* The invariant of DESIGN.md for diaries: the database and its log hold no plaintext. */
static void test_sealed_on_disk(void **state)
{
	struct fx *f = *state;
	char id[CU_ID_LEN + 1], path[600];
	cu_diary_list l;

	write_ok(f, &f->a, f->alice, SECRET_TITLE, SECRET_BODY, id);
	/* Reads write audit entries: those must not carry the content either. */
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, "TOS-7", &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].title, SECRET_TITLE);
	cu_diary_list_wipe(&l);
	snprintf(path, sizeof(path), "%s/var", f->dir);
	assert_false(cu_test_store_files_contain_text(path, "Quillwhistle"));
	assert_false(cu_test_store_files_contain_text(path, "Zembla lantern"));
	/* The files were really written to (the test would be empty otherwise). */
	assert_true(cu_test_store_files_contain_text(path, id));
	assert_int_equal(audit_mentions(f->ctx, "Quillwhistle"), 0);
	assert_int_equal(audit_mentions(f->ctx, "Zembla"), 0);
}

static void test_own_crud(void **state)
{
	struct fx *f = *state;
	char one[CU_ID_LEN + 1], two[CU_ID_LEN + 1];
	struct last_entry e;
	cu_diary_list l;
	cu_errors errs;

	write_ok(f, &f->a, f->alice, "Monday", "Rain all day.", one);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "diary_write");
	assert_string_equal(e.actor, f->alice);
	assert_string_equal(e.role, "member");
	assert_string_equal(e.fields, "title,body");
	assert_non_null(strstr(e.reason, one));
	write_ok(f, &f->a, f->alice, "Tuesday", "", two);

	/* Newest first; an empty body is a body. */
	cu_diary_list_init(&l);
	assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_false(l.more);
	assert_string_equal(l.v[0].id, two);
	assert_string_equal(l.v[0].title, "Tuesday");
	assert_string_equal(l.v[0].body, "");
	assert_string_equal(l.v[1].id, one);
	assert_string_equal(l.v[1].body, "Rain all day.");
	cu_diary_list_wipe(&l);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "read_diaries");
	assert_string_equal(e.purpose, "self");
	assert_string_equal(e.decision, "allow");

	/* Edit one part: the other is kept as it was. */
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_edit(f->ctx, &f->a, f->alice, one, "Monday (wet)", NULL, &errs),
	                 CU_OK);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "diary_edit");
	assert_string_equal(e.fields, "title");
	assert_int_equal(cu_diary_edit(f->ctx, &f->a, f->alice, two, NULL, "Sun.\n\tWarm.", &errs),
	                 CU_OK);
	assert_int_equal(cu_diary_edit(f->ctx, &f->a, f->alice, two, NULL, NULL, &errs),
	                 CU_ERR_INVALID_ARGUMENT);
	cu_diary_list_init(&l);
	assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.v[0].title, "Tuesday");
	assert_string_equal(l.v[0].body, "Sun.\n\tWarm.");
	assert_string_equal(l.v[1].title, "Monday (wet)");
	assert_string_equal(l.v[1].body, "Rain all day.");
	assert_true(l.v[1].updated_us >= l.v[1].created_us);
	cu_diary_list_wipe(&l);

	/* Delete: gone, and a second delete finds nothing. */
	assert_int_equal(cu_diary_delete(f->ctx, &f->a, f->alice, one), CU_OK);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "diary_delete");
	assert_string_equal(e.decision, "done");
	assert_int_equal(cu_diary_delete(f->ctx, &f->a, f->alice, one), CU_ERR_NOT_FOUND);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "diary_delete");
	assert_string_equal(e.decision, "deny");
	assert_int_equal(cu_diary_edit(f->ctx, &f->a, f->alice, one, "x", NULL, &errs),
	                 CU_ERR_NOT_FOUND);
	/* A malformed id names nothing. */
	assert_int_equal(cu_diary_delete(f->ctx, &f->a, f->alice, "short"), CU_ERR_NOT_FOUND);
	assert_int_equal(cu_diary_delete(f->ctx, &f->a, f->alice, "' OR 1=1 --xxxxxxxxxxxxxxx"),
	                 CU_ERR_NOT_FOUND);
	cu_diary_list_init(&l);
	assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, two);
	cu_diary_list_wipe(&l);
}

/* Another member's entry is "not found" for every verb, and stays as it was. */
static void test_other_members_entry_refused(void **state)
{
	struct fx *f = *state;
	char id[CU_ID_LEN + 1], mine[CU_ID_LEN + 1];
	struct last_entry e;
	cu_diary_list l;
	cu_errors errs;

	write_ok(f, &f->a, f->alice, "Alice's", "Alice's own words.", id);
	write_ok(f, &f->b, f->bob, "Bob's", "Bob's own words.", mine);
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_edit(f->ctx, &f->b, f->bob, id, "Bob was here", NULL, &errs),
	                 CU_ERR_NOT_FOUND);
	/* The refusal is audited as Bob's, not in Alice's history. */
	e = last_audit(f->ctx, NULL);
	assert_string_equal(e.action, "diary_edit");
	assert_string_equal(e.decision, "deny");
	assert_string_equal(e.member, f->bob);
	assert_int_equal(cu_diary_delete(f->ctx, &f->b, f->bob, id), CU_ERR_NOT_FOUND);
	/* Bob cannot act as the author of Alice's diary, nor read it as himself. */
	assert_int_equal(cu_diary_edit(f->ctx, &f->b, f->alice, id, "Bob was here", NULL, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(cu_diary_delete(f->ctx, &f->b, f->alice, id), CU_ERR_FORBIDDEN);
	assert_int_equal(cu_diary_write(f->ctx, &f->b, f->alice, "x", "y", mine, &errs),
	                 CU_ERR_FORBIDDEN);
	assert_string_equal(mine, "");
	cu_diary_list_init(&l);
	assert_int_equal(cu_diary_list_own(f->ctx, &f->b, f->alice, NULL, 0, &l), CU_ERR_FORBIDDEN);
	assert_int_equal(l.n, 0);
	e = last_audit(f->ctx, NULL);
	assert_string_equal(e.action, "read_diaries");
	assert_string_equal(e.decision, "deny");
	/* Staff do not write diaries. */
	assert_int_equal(cu_diary_write(f->ctx, &officer, f->alice, "x", "y", mine, &errs),
	                 CU_ERR_FORBIDDEN);
	/* Bob's own list is his only. */
	assert_int_equal(cu_diary_list_own(f->ctx, &f->b, f->bob, NULL, 0, &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].title, "Bob's");
	cu_diary_list_wipe(&l);
	/* Alice's entry is untouched. */
	assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].title, "Alice's");
	assert_string_equal(l.v[0].body, "Alice's own words.");
	cu_diary_list_wipe(&l);
}

/* The edge case of issue 5: a diary read without a case is refused, and audited. */
static void test_staff_read_without_case(void **state)
{
	struct fx *f = *state;
	static const char *const no_case[] = {NULL, ""};
	static const char *const bad_case[] = {"   ", "\t", "TOS\n1", "\xe3\x80\x80",
	                                       "TOS\xe2\x80\xa8"
	                                       "1"};
	char id[CU_ID_LEN + 1];
	struct last_entry e;
	cu_diary_list l;

	write_ok(f, &f->a, f->alice, SECRET_TITLE, SECRET_BODY, id);
	for (size_t i = 0; i < N(no_case); i++) {
		unsigned long long before = cu_test_audit_count(f->ctx);

		assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, no_case[i], &l),
		                 CU_ERR_CASE_REQUIRED);
		assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
		e = last_audit(f->ctx, f->alice);
		assert_string_equal(e.action, "read_diaries");
		assert_string_equal(e.actor, "support desk");
		assert_string_equal(e.role, "staff");
		assert_string_equal(e.purpose, "tos_review");
		assert_string_equal(e.decision, "deny");
		assert_string_equal(e.fields, "diaries");
		assert_int_equal(strncmp(e.reason, "case_required", 13), 0);
	}
	/* The officer and the operator are held to it too. */
	assert_int_equal(staff_read(f, &officer, "tos_review", f->alice, NULL, &l),
	                 CU_ERR_CASE_REQUIRED);
	assert_int_equal(staff_read(f, &cu_test_operator, "tos_review", f->alice, NULL, &l),
	                 CU_ERR_CASE_REQUIRED);
	/* A case given that is blank or not one line of text is not a case, nor repeated. */
	for (size_t i = 0; i < N(bad_case); i++) {
		unsigned long long before = cu_test_audit_count(f->ctx);

		assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, bad_case[i], &l),
		                 CU_ERR_CASE_INVALID);
		assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
		e = last_audit(f->ctx, f->alice);
		assert_string_equal(e.decision, "deny");
		assert_string_equal(e.case_ref, CU_AUDIT_MALFORMED);
		assert_int_equal(strncmp(e.reason, "case_invalid", 12), 0);
	}
}

static void test_staff_read_with_case(void **state)
{
	struct fx *f = *state;
	char id[CU_ID_LEN + 1];
	struct last_entry e;
	cu_diary_list l;

	write_ok(f, &f->a, f->alice, SECRET_TITLE, SECRET_BODY, id);
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, "TOS-2026-0042", &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.v[0].id, id);
	assert_string_equal(l.v[0].title, SECRET_TITLE);
	assert_string_equal(l.v[0].body, SECRET_BODY);
	assert_int_equal(l.v[0].body_len, strlen(SECRET_BODY));
	cu_diary_list_wipe(&l);
	e = last_audit(f->ctx, f->alice);
	assert_string_equal(e.action, "read_diaries");
	assert_string_equal(e.decision, "allow");
	assert_string_equal(e.case_ref, "TOS-2026-0042");
	assert_string_equal(e.purpose, "tos_review");
	assert_string_equal(e.member, f->alice);
	assert_int_equal(audit_mentions(f->ctx, "Quillwhistle"), 0);
	/* The officer too; and a member with no entries reads as an empty page. */
	assert_int_equal(staff_read(f, &officer, "tos_review", f->alice, "TOS-2", &l), CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
	assert_int_equal(staff_read(f, &officer, "tos_review", f->bob, "TOS-2", &l), CU_OK);
	assert_int_equal(l.n, 0);
	assert_int_equal(staff_read(f, &cu_test_operator, "tos_review", f->alice, "OPS-1", &l),
	                 CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
}

static void test_wrong_purpose_or_role(void **state)
{
	struct fx *f = *state;
	static const struct {
		const cu_actor *who;
		const char *purpose;
		cu_result want;
	} cases[] = {
	    /* Purposes whose fields the role may read do not open diaries. */
	    {&desk, "support", CU_ERR_PURPOSE_NOT_ALLOWED},
	    {&desk, "site_management", CU_ERR_PURPOSE_NOT_ALLOWED},
	    {&cu_test_operator, "support", CU_ERR_PURPOSE_NOT_ALLOWED},
	    /* Roles tos_review is not granted to. */
	    {&analyst, "tos_review", CU_ERR_PURPOSE_NOT_ALLOWED},
	    {&service, "tos_review", CU_ERR_PURPOSE_NOT_ALLOWED},
	    {&desk, "nonesuch", CU_ERR_PURPOSE_UNKNOWN},
	    {&desk, "self", CU_ERR_PURPOSE_UNKNOWN},
	};
	char id[CU_ID_LEN + 1];
	struct last_entry e;
	cu_diary_list l;

	write_ok(f, &f->a, f->alice, "t", "b", id);
	for (size_t i = 0; i < N(cases); i++) {
		unsigned long long before = cu_test_audit_count(f->ctx);

		assert_int_equal(
		    staff_read(f, cases[i].who, cases[i].purpose, f->alice, "TOS-9", &l),
		    cases[i].want);
		assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
		e = last_audit(f->ctx, f->alice);
		assert_string_equal(e.action, "read_diaries");
		assert_string_equal(e.decision, "deny");
		assert_string_equal(e.case_ref, "TOS-9");
	}
	/* A member reading another's diary, even naming a staff purpose. */
	assert_int_equal(staff_read(f, &f->b, "tos_review", f->alice, "TOS-9", &l),
	                 CU_ERR_FORBIDDEN);
	assert_int_equal(staff_read(f, &f->a, "tos_review", f->alice, "TOS-9", &l),
	                 CU_ERR_PURPOSE_UNKNOWN);
	/* No such member; an over-long one is refused before the door, and still audited. */
	assert_int_equal(staff_read(f, &desk, "tos_review", "AAAAAAAAAAAAAAAAAAAAAA", "TOS-9", &l),
	                 CU_ERR_NOT_FOUND);
	{
		char longid[100];
		unsigned long long before = cu_test_audit_count(f->ctx);

		memset(longid, 'A', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = '\0';
		assert_int_equal(staff_read(f, &desk, "tos_review", longid, "TOS-9", &l),
		                 CU_ERR_INVALID_ARGUMENT);
		assert_int_equal(cu_test_audit_count(f->ctx), before + 1);
	}
}

/*
 * Puts in force the default policy with tos_review's "diaries" and
 * "consent_required" set as given, under `version` (recorded as published
 * now when `record`).
 */
static cu_policy *policy_in_force(struct fx *f, const char *version, bool diaries, bool consent,
                                  bool record)
{
	json_t *doc = json_load_file(cu_test_source_path("policy/default.json"), 0, NULL);
	json_t *pp;
	cu_policy *p = NULL;
	char err[256], *text;
	size_t i;

	assert_non_null(doc);
	json_object_set_new(doc, "version", json_string(version));
	json_array_foreach(
	    json_object_get(doc, "purposes"), i,
	    pp) if (!strcmp(json_string_value(json_object_get(pp, "id")), "tos_review"))
	{
		json_object_set_new(pp, "diaries", json_boolean(diaries));
		json_object_set_new(pp, "consent_required", json_boolean(consent));
	}
	text = json_dumps(doc, 0);
	json_decref(doc);
	assert_non_null(text);
	if (cu_policy_load_buffer("test policy", text, strlen(text), &p, err, sizeof(err)))
		fail_msg("%s", err);
	if (record)
		assert_int_equal(cu_ctx_policy_record(f->ctx, p, text, strlen(text)), CU_OK);
	free(text);
	cu_policy_free(f->ctx->policy);
	f->ctx->policy = p;
	return p;
}

/* A purpose outside the published ones opens diaries only with the member's consent. */
static void test_consent_required_purpose(void **state)
{
	struct fx *f = *state;
	cu_policy *p = policy_in_force(f, "diary-consent-1", true, true, true);
	char id[CU_ID_LEN + 1];
	cu_consent_row c;
	cu_diary_list l;

	write_ok(f, &f->a, f->alice, "t", "b", id);
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, "TOS-3", &l),
	                 CU_ERR_CONSENT_REQUIRED);
	memset(&c, 0, sizeof(c));
	cu_vault_random_id(c.id);
	memcpy(c.member, f->alice, sizeof(c.member));
	snprintf(c.kind, sizeof(c.kind), "purpose");
	snprintf(c.target, sizeof(c.target), "tos_review");
	snprintf(c.policy_version, sizeof(c.policy_version), "%s", p->version);
	c.granted = true;
	c.time_us = cu_now_us();
	assert_int_equal(cu_tx_begin(f->ctx), CU_OK);
	assert_int_equal(cu_store_consent_insert(f->ctx->store, &c), CU_OK);
	assert_int_equal(cu_tx_commit(f->ctx), CU_OK);
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, "TOS-3", &l), CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
	assert_non_null(strstr(last_audit(f->ctx, f->alice).reason, "consent"));
	/* Still no case, no diary. */
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, NULL, &l),
	                 CU_ERR_CASE_REQUIRED);
}

/*
 * What was promised when: a member who registered under a version whose
 * tos_review did not read diaries is not read under a newer one that does,
 * until they accept it (or consent).
 */
static void test_accepted_version_lacked_diaries(void **state)
{
	struct fx *f = *state;
	char carol[CU_ID_LEN + 1], id[CU_ID_LEN + 1];
	cu_actor c;
	cu_diary_list l;

	policy_in_force(f, "diary-promise-1", false, false, true);
	register_one(f->ctx, "Carol Diarist", "carol@diary.example", carol);
	c = (cu_actor){carol, CU_ROLE_MEMBER, carol, NULL};
	/* Under that version no purpose reads diaries at all. */
	write_ok(f, &c, carol, "Carol's", "words", id);
	assert_int_equal(staff_read(f, &desk, "tos_review", carol, "TOS-8", &l),
	                 CU_ERR_PURPOSE_NOT_ALLOWED);
	policy_in_force(f, "diary-promise-2", true, false, true);
	assert_int_equal(staff_read(f, &desk, "tos_review", carol, "TOS-8", &l),
	                 CU_ERR_CONSENT_REQUIRED);
	assert_non_null(strstr(last_audit(f->ctx, carol).reason, "accepted"));
	/* Alice registered before either: under the default, which reads diaries. */
	write_ok(f, &f->a, f->alice, "Alice's", "words", id);
	assert_int_equal(staff_read(f, &desk, "tos_review", f->alice, "TOS-8", &l), CU_OK);
	cu_diary_list_wipe(&l);
	/* Accepting the version in force is agreeing to it. */
	assert_int_equal(cu_consent_accept_policy(f->ctx, &c, carol), CU_OK);
	assert_int_equal(staff_read(f, &desk, "tos_review", carol, "TOS-8", &l), CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
}

static void test_paging(void **state)
{
	struct fx *f = *state;
	char ids[5][CU_ID_LEN + 1], title[16];
	cu_diary_request req = {NULL, "tos_review", NULL, "TOS-4", NULL, 2};
	cu_diary_decision d;
	cu_diary_list l;

	for (int i = 0; i < 5; i++) {
		snprintf(title, sizeof(title), "day %d", i);
		write_ok(f, &f->a, f->alice, title, "", ids[i]);
	}
	req.actor = &officer;
	req.member = f->alice;
	cu_diary_list_init(&l);
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_true(l.more);
	assert_string_equal(l.v[0].id, ids[4]);
	assert_string_equal(l.v[1].id, ids[3]);
	cu_diary_list_wipe(&l);
	req.before = ids[3];
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_true(l.more);
	assert_string_equal(l.v[0].title, "day 2");
	assert_string_equal(l.v[1].title, "day 1");
	cu_diary_list_wipe(&l);
	req.before = ids[1];
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_OK);
	assert_int_equal(l.n, 1);
	assert_false(l.more);
	assert_string_equal(l.v[0].id, ids[0]);
	cu_diary_list_wipe(&l);
	/* A page that ends exactly at the last entry says nothing more follows. */
	req.before = ids[2];
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_OK);
	assert_int_equal(l.n, 2);
	assert_false(l.more);
	cu_diary_list_wipe(&l);
	/* Another member's entry is no place to continue from. */
	{
		char bobs[CU_ID_LEN + 1];

		write_ok(f, &f->b, f->bob, "b", "", bobs);
		req.before = bobs;
		assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_ERR_NOT_FOUND);
		assert_int_equal(l.n, 0);
	}
	req.before = NULL;
	req.limit = CU_DIARY_PAGE_MAX + 1;
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_ERR_INVALID_ARGUMENT);
	req.limit = CU_DIARY_PAGE_MAX;
	assert_int_equal(cu_access_read_diaries(f->ctx, &req, &d, &l), CU_OK);
	assert_int_equal(l.n, 5);
	cu_diary_list_wipe(&l);
}

static int has_error(const cu_errors *e, const char *field, const char *reason)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->e[i].field, field) && !strcmp(e->e[i].reason, reason))
			return 1;
	return 0;
}

static void test_validation(void **state)
{
	struct fx *f = *state;
	char title[CU_DIARY_TITLE_MAX + 2], *body, id[CU_ID_LEN + 1];
	static const struct {
		const char *title, *body, *field, *reason;
	} bad[] = {
	    {NULL, "b", "title", "required"},
	    {"t", NULL, "body", "required"},
	    {"", "b", "title", "required"},
	    {"   ", "b", "title", "required"},
	    {"two\nlines", "b", "title", "malformed"},
	    {"t", "bell\x07", "body", "malformed"},
	    {"t", "del\x7f", "body", "malformed"},
	    {"C1\xc2\x85", "b", "title", "malformed"},
	    {"bad\xff", "b", "title", "invalid_utf8"},
	    {"t", "overlong \xc0\xaf", "body", "invalid_utf8"},
	    {"t", "surrogate \xed\xa0\x80", "body", "invalid_utf8"},
	    {"t", "truncated \xe3\x81", "body", "invalid_utf8"},
	};
	unsigned long long before = cu_test_audit_count(f->ctx);
	uint64_t n;
	cu_errors errs;

	for (size_t i = 0; i < N(bad); i++) {
		cu_errors_init(&errs);
		assert_int_equal(
		    cu_diary_write(f->ctx, &f->a, f->alice, bad[i].title, bad[i].body, id, &errs),
		    CU_ERR_INVALID_FIELD);
		if (!has_error(&errs, bad[i].field, bad[i].reason))
			fail_msg("case %zu: expected %s %s", i, bad[i].field, bad[i].reason);
	}
	/* The bounds: 200 bytes of title and 60 KiB of body are accepted, one more is not. */
	memset(title, 'T', sizeof(title) - 1);
	title[sizeof(title) - 1] = '\0';
	body = malloc(CU_DIARY_BODY_MAX + 2);
	assert_non_null(body);
	memset(body, 'b', CU_DIARY_BODY_MAX + 1);
	body[CU_DIARY_BODY_MAX + 1] = '\0';
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_write(f->ctx, &f->a, f->alice, title, "b", id, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_true(has_error(&errs, "title", "too_long"));
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_write(f->ctx, &f->a, f->alice, "t", body, id, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_true(has_error(&errs, "body", "too_long"));
	/* Nothing was written, and invalid input is not audited. */
	assert_int_equal(cu_store_diary_count(f->ctx->store, f->alice, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	title[CU_DIARY_TITLE_MAX] = '\0';
	body[CU_DIARY_BODY_MAX] = '\0';
	write_ok(f, &f->a, f->alice, title, body, id);
	write_ok(f, &f->a, f->alice, "日記 \xf0\x9f\x93\x93", "Windows\r\nline\tends", id);
	/* An edit is checked the same way, and changes nothing when refused. */
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_edit(f->ctx, &f->a, f->alice, id, "bad\x01", NULL, &errs),
	                 CU_ERR_INVALID_FIELD);
	assert_true(has_error(&errs, "title", "malformed"));
	{
		cu_diary_list l;

		cu_diary_list_init(&l);
		assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_OK);
		assert_int_equal(l.n, 2);
		assert_string_equal(l.v[0].title, "日記 \xf0\x9f\x93\x93");
		assert_int_equal(l.v[1].body_len, CU_DIARY_BODY_MAX);
		cu_diary_list_wipe(&l);
	}
	free(body);
}

/* Erasure: the rows go in the erasure's transaction; nothing reads them after. */
static void test_erased_member(void **state)
{
	struct fx *f = *state;
	char id[CU_ID_LEN + 1], other[CU_ID_LEN + 1], path[600];
	cu_diary_row row;
	cu_diary_list l;
	cu_errors errs;
	uint64_t n;

	write_ok(f, &f->a, f->alice, SECRET_TITLE, SECRET_BODY, id);
	write_ok(f, &f->a, f->alice, "second", "entry", other);
	write_ok(f, &f->b, f->bob, "Bob stays", "", other);
	assert_int_equal(cu_store_diary_get(f->ctx->store, f->alice, id, &row), CU_OK);
	/* The sealed bytes were on disk to begin with. */
	assert_int_equal(cu_store_checkpoint(f->ctx->store), CU_OK);
	snprintf(path, sizeof(path), "%s/var", f->dir);
	assert_true(cu_test_store_tables_contain(f->ctx->config.store, path, "diaries", row.body,
	                                         row.body_len));

	assert_int_equal(
	    cu_erasure_carry_out(f->ctx, &cu_test_operator, f->alice, NULL, cu_now_us(), NULL),
	    CU_OK);
	assert_int_equal(cu_store_diary_count(f->ctx->store, f->alice, &n), CU_OK);
	assert_int_equal(n, 0);
	assert_int_equal(cu_store_diary_count(f->ctx->store, f->bob, &n), CU_OK);
	assert_int_equal(n, 1);
	/* On PostgreSQL, once vacuumed (docs/postgresql.md, "Erased rows"). */
	assert_true(cu_test_store_tables_clear_of(f->ctx->config.store, path, "diaries", row.body,
	                                          row.body_len));
	assert_true(cu_test_store_tables_clear_of(f->ctx->config.store, path, "diaries", row.title,
	                                          row.title_len));
	cu_diary_row_release(&row);

	assert_int_equal(staff_read(f, &officer, "tos_review", f->alice, "TOS-5", &l),
	                 CU_ERR_ERASED);
	assert_string_equal(last_audit(f->ctx, f->alice).reason, "erased: member erased");
	cu_diary_list_init(&l);
	assert_int_equal(cu_diary_list_own(f->ctx, &f->a, f->alice, NULL, 0, &l), CU_ERR_ERASED);
	cu_errors_init(&errs);
	assert_int_equal(cu_diary_write(f->ctx, &f->a, f->alice, "t", "b", other, &errs),
	                 CU_ERR_ERASED);
	assert_int_equal(cu_diary_delete(f->ctx, &f->a, f->alice, id), CU_ERR_NOT_FOUND);
	/* Bob's diary is untouched. */
	assert_int_equal(staff_read(f, &officer, "tos_review", f->bob, "TOS-5", &l), CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
}

/* The three steps alone: nothing opens before the audit entry, and prepare writes nothing. */
static void test_prepare_writes_nothing(void **state)
{
	struct fx *f = *state;
	char id[CU_ID_LEN + 1];
	cu_diary_request req = {&desk, "tos_review", NULL, "TOS-6", NULL, 0};
	cu_diary_decision d;
	cu_access_audit au;
	cu_member_row row = {0};
	bool have_row;
	cu_diary_list l;
	unsigned long long before;

	write_ok(f, &f->a, f->alice, "t", "b", id);
	req.member = f->alice;
	before = cu_test_audit_count(f->ctx);
	assert_int_equal(
	    cu_access_diaries_prepare(f->ctx->policy, f->ctx->store, &req, &d, &row, &have_row),
	    CU_OK);
	assert_true(have_row);
	assert_int_equal(cu_test_audit_count(f->ctx), before);
	cu_access_diaries_audit_fill(f->ctx->policy, &req, &d, &au);
	assert_string_equal(au.entry.action, "read_diaries");
	assert_string_equal(au.entry.case_ref, "TOS-6");
	assert_string_equal(au.entry.decision, "allow");
	cu_diary_list_init(&l);
	assert_int_equal(cu_access_diaries_open(f->ctx->vault, f->ctx->store, &row, &req, &l),
	                 CU_OK);
	assert_int_equal(l.n, 1);
	cu_diary_list_wipe(&l);
	cu_member_row_release(&row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sealed_on_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_own_crud, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_other_members_entry_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_staff_read_without_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_staff_read_with_case, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_purpose_or_role, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_consent_required_purpose, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_accepted_version_lacked_diaries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_validation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_erased_member, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prepare_writes_nothing, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
