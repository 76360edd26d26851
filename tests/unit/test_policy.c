/*
 * test_policy.c — the policy file: the default policy encodes the seed
 * policy, and a broken policy is refused whole with a message that names
 * the exact place that is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "support.h"

/*
 * Policies in this file are written with single quotes so they can be read;
 * dq() turns them into JSON.  No test policy needs an apostrophe.
 */
static char *dq(const char *s)
{
	char *out = strdup(s);

	assert_non_null(out);
	for (char *c = out; *c; c++)
		if (*c == '\'')
			*c = '"';
	return out;
}

/* Loads s (single-quoted JSON) as "t.json". */
static cu_result load(const char *s, cu_policy **p, char *err, size_t errlen)
{
	char *json = dq(s);
	cu_result rc = cu_policy_load_buffer("t.json", json, strlen(json), p, err, errlen);

	free(json);
	return rc;
}

/* A small valid policy; each broken case replaces one part of it. */
#define HEAD "'version':'1','title':'T','text':'X',"
#define FIELDS                                                                                                 \
	"'fields':["                                                                                           \
	"{'name':'name','label':'Name','kind':'name','required':true,'identifier':true,'max_length':200},"     \
	"{'name':'email','label':'E-mail','kind':'email','required':true,'identifier':true,'max_length':254}," \
	"{'name':'age','label':'Age','kind':'integer','survey':true,'max_length':3,'min':0,'max':150},"        \
	"{'name':'hobbies','label':'Hobbies','kind':'list','survey':true,'max_length':1000}],"
#define PURPOSES                                                                                        \
	"'purposes':["                                                                                  \
	"{'id':'support','number':1,'text':'S','roles':['staff','officer'],'fields':['name','email']}," \
	"{'id':'materials','number':7,'text':'M','roles':['analyst'],'fields':['age'],'aggregate_only':true}],"
#define SERVICES                 "'services':[{'id':'live','name':'Live','requires':['hobbies']}],"
#define EXCEPTIONS               "'exceptions':[{'id':'law','text':'L'}],"
#define COOKIES                  "'cookies':[{'id':'necessary','text':'N','required':true}]"
#define POLICY(h, f, p, s, e, c) "{" h f p s e c "}"
#define MINIMAL                  POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES)

/* One purpose list with a single purpose `body`. */
#define ONE_PURPOSE(body) "'purposes':[" body "],"

static void minimal_policy_loads(void **state)
{
	cu_policy *p = NULL;
	char err[256] = "";
	const cu_policy_purpose *support, *materials;

	(void)state;
	assert_int_equal(load(MINIMAL, &p, err, sizeof(err)), CU_OK);
	assert_non_null(p);
	assert_string_equal(err, "");
	assert_string_equal(p->version, "1");
	assert_int_equal(p->nfields, 4);
	assert_int_equal(p->fields[2].kind, CU_FIELD_INTEGER);
	assert_int_equal(p->fields[2].min, 0);
	assert_int_equal(p->fields[2].max, 150);
	assert_true(p->fields[3].survey);
	assert_false(p->fields[3].required);
	assert_false(p->fields[3].identifier);
	support = cu_policy_purpose_find(p, "support");
	materials = cu_policy_purpose_find(p, "materials");
	assert_non_null(support);
	assert_non_null(materials);
	assert_int_equal(support->roles, (1u << CU_ROLE_STAFF) | (1u << CU_ROLE_OFFICER));
	assert_int_equal(support->fields, 0x3);
	assert_false(support->aggregate_only);
	assert_true(materials->aggregate_only);
	assert_int_equal(materials->number, 7);
	assert_int_equal(p->services[0].requires, 0x8);
	assert_true(p->cookies[0].required);
	cu_policy_free(p);
}

struct broken {
	const char *name;
	const char *json;   /* single-quoted */
	const char *expect; /* the whole message; '*' matches any run of characters */
};

static const struct broken broken_cases[] = {
    {"unknown_field_in_purpose",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],"
                        "'fields':['name','emial']}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].fields[1]: unknown field 'emial'"},
    {"unknown_role",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S',"
                        "'roles':['staff','staf'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles[1]: unknown role 'staf'"},
    {"member_role_granted_a_purpose",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S',"
                        "'roles':['staff','member'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles[1]: role 'member' cannot be granted a purpose: members "
     "read only their own record"},
    {"operator_role_listed",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S',"
                        "'roles':['operator'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles[0]: role 'operator' cannot be listed: the operator is "
     "granted every purpose by the access module"},
    {"duplicate_role",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S',"
                        "'roles':['staff','staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles[1]: duplicate role 'staff'"},
    {"empty_roles",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S',"
                        "'roles':[],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles: must not be empty"},
    {"duplicate_purpose_id",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],'fields':[]},"
                        "{'id':'support','number':2,'text':'T','roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[1].id: duplicate purpose 'support' (also purposes[0])"},
    {"duplicate_purpose_number",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],'fields':[]},"
                        "{'id':'news','number':1,'text':'T','roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[1].number: duplicate number 1 (also purpose 'support')"},
    {"purpose_number_as_string",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':'1','text':'S','roles':['staff'],"
                        "'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].number: expected an integer, got a string"},
    {"purpose_number_with_fraction",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1.5,'text':'S','roles':['staff'],"
                        "'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].number: expected an integer, got a number with a fraction"},
    {"purpose_number_zero",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':0,'text':'S','roles':['staff'],"
                        "'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].number: 0 is out of range 1..64"},
    {"purpose_fields_not_array",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],"
                        "'fields':'name'}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].fields: expected an array, got a string"},
    {"purpose_duplicate_field",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],"
                        "'fields':['email','name','email']}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].fields[2]: duplicate field 'email'"},
    {"unknown_key_in_purpose",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],"
                        "'fields':[],'require_case':true}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: unknown key 'require_case'"},
    {"purpose_named_self",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'self','number':1,'text':'S','roles':['staff'],"
                        "'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].id: 'self' is reserved for a member's reads of their own record"},
    {"aggregate_only_with_identifier",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'materials','number':7,'text':'M','roles':['analyst'],"
                        "'aggregate_only':true,'fields':['age','name']}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].fields[1]: an aggregate-only purpose cannot use identifier field 'name'"},
    {"case_and_aggregate_only",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'review','number':8,'text':'R','roles':['staff'],"
                        "'requires_case':true,'aggregate_only':true,'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: a purpose cannot both require a case and be aggregate-only"},
    {"requires_case_not_boolean",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'review','number':8,'text':'R','roles':['staff'],"
                        "'requires_case':'yes','fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].requires_case: expected true or false, got a string"},
    {"missing_version",
     POLICY("'title':'T','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: (top level): missing required key 'version'"},
    {"empty_version",
     POLICY("'version':' ','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: version: must not be empty"},
    {"version_with_space",
     POLICY("'version':'v 1','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: version: invalid version 'v 1': use letters, digits, '.', '-' and '_', "
     "at most 64 characters"},
    {"version_not_string",
     POLICY("'version':1,'title':'T','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: version: expected a string, got an integer"},
    {"title_with_control_character",
     POLICY("'version':'1','title':'T\\u0007','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: title: contains a control character"},
    {"unknown_top_level_key",
     POLICY("'version':'1','versoin':'2','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: (top level): unknown key 'versoin'"},
    {"unknown_key_is_shown_safely",
     POLICY("'version':'1','a\\nb':'2','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: (top level): unknown key 'a?b'"},
    {"top_level_array", "[1, 2]", "t.json: (top level): expected an object, got an array"},
    {"no_fields", POLICY(HEAD, "'fields':[],", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: must not be empty"},
    {"field_name_not_an_id",
     POLICY(HEAD,
            "'fields':[{'name':'name','label':'N','kind':'name','max_length':9},"
            "{'name':'Email','label':'E','kind':'email','max_length':254}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[1].name: invalid id 'Email': use a lowercase letter, then lowercase "
     "letters, digits or '_', at most 40 characters"},
    {"field_name_too_long",
     POLICY(HEAD,
            "'fields':[{'name':'a12345678901234567890123456789012345678901',"
            "'label':'N','kind':'name','max_length':9}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].name: invalid id 'a123456789012345678901234567890123456789...': use a "
     "lowercase letter, then lowercase letters, digits or '_', at most 40 characters"},
    {"duplicate_field",
     POLICY(HEAD,
            "'fields':[{'name':'name','label':'N','kind':'name','max_length':9},"
            "{'name':'name','label':'M','kind':'name','max_length':9}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[1].name: duplicate field 'name' (also fields[0])"},
    {"unknown_kind",
     POLICY(HEAD,
            "'fields':[{'name':'name','label':'N','kind':'name','max_length':9},"
            "{'name':'email','label':'E','kind':'mail','max_length':254}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[1].kind: unknown kind 'mail' (expected text, name, address, email, "
     "phone, date, integer or list)"},
    {"field_missing_kind",
     POLICY(HEAD, "'fields':[{'name':'name','label':'N','max_length':9}],", PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: fields[0]: missing required key 'kind'"},
    {"max_length_zero",
     POLICY(HEAD, "'fields':[{'name':'name','label':'N','kind':'name','max_length':0}],", PURPOSES,
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max_length: 0 is out of range 1..65536"},
    {"max_length_too_large",
     POLICY(HEAD, "'fields':[{'name':'name','label':'N','kind':'name','max_length':65537}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max_length: 65537 is out of range 1..65536"},
    {"date_too_short",
     POLICY(HEAD, "'fields':[{'name':'dob','label':'D','kind':'date','max_length':8}],", PURPOSES,
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max_length: a date needs 10 bytes (YYYY-MM-DD), not 8"},
    {"integer_min_above_max",
     POLICY(HEAD,
            "'fields':[{'name':'age','label':'A','kind':'integer','max_length':3,"
            "'min':150,'max':0}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].min: min 150 is greater than max 0"},
    {"integer_without_max",
     POLICY(HEAD,
            "'fields':[{'name':'age','label':'A','kind':'integer','max_length':3,"
            "'min':0}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0]: missing required key 'max'"},
    {"integer_wider_than_max_length",
     POLICY(HEAD,
            "'fields':[{'name':'age','label':'A','kind':'integer','max_length':2,"
            "'min':0,'max':150}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max_length: 2 bytes cannot hold 150"},
    {"bounds_on_text",
     POLICY(HEAD,
            "'fields':[{'name':'name','label':'N','kind':'name','max_length':9,"
            "'min':1}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].min: only a field of kind 'integer' has bounds"},
    {"required_survey_field",
     POLICY(HEAD,
            "'fields':[{'name':'age','label':'A','kind':'text','max_length':3,"
            "'survey':true,'required':true}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0]: a survey field cannot be required: members may decline any "
     "survey question"},
    {"unknown_key_in_field",
     POLICY(HEAD,
            "'fields':[{'name':'name','label':'N','kind':'name','max_length':9,"
            "'maxlength':9}],",
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0]: unknown key 'maxlength'"},
    {"field_not_object",
     POLICY(HEAD, "'fields':['name'],", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0]: expected an object, got a string"},
    {"service_requires_registration_field",
     POLICY(HEAD, FIELDS, PURPOSES, "'services':[{'id':'live','name':'L','requires':['email']}],",
            EXCEPTIONS, COOKIES),
     "t.json: services[0].requires[0]: field 'email' is not a survey field"},
    {"service_requires_unknown_field",
     POLICY(HEAD, FIELDS, PURPOSES,
            "'services':[{'id':'live','name':'L','requires':['hobbies','hobies']}],", EXCEPTIONS,
            COOKIES),
     "t.json: services[0].requires[1]: unknown field 'hobies'"},
    {"duplicate_service",
     POLICY(HEAD, FIELDS, PURPOSES,
            "'services':[{'id':'live','name':'L','requires':[]},"
            "{'id':'live','name':'M','requires':[]}],",
            EXCEPTIONS, COOKIES),
     "t.json: services[1].id: duplicate service 'live' (also services[0])"},
    {"duplicate_exception",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES,
            "'exceptions':[{'id':'law','text':'L'},{'id':'law','text':'M'}],", COOKIES),
     "t.json: exceptions[1].id: duplicate exception 'law' (also exceptions[0])"},
    {"exception_without_text",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, "'exceptions':[{'id':'law'}],", COOKIES),
     "t.json: exceptions[0]: missing required key 'text'"},
    {"cookie_required_not_boolean",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            "'cookies':[{'id':'necessary','text':'N','required':'yes'}]"),
     "t.json: cookies[0].required: expected true or false, got a string"},
    {"missing_cookies", "{" HEAD FIELDS PURPOSES SERVICES "'exceptions':[]}",
     "t.json: (top level): missing required key 'cookies'"},
    {"invalid_json_names_the_line", "{\n  'version': '1',\n  'title': 'T'\n  'text': 'X'\n}",
     "t.json: line 4, column *"},
    {"duplicate_json_key", "{'version':'1','version':'2'}",
     "t.json: line 1, column 24: invalid JSON: duplicate object key near '\"version\"'"},
    {"empty_file", "", "t.json: line 1, column 0: invalid JSON: *"},
    {"trailing_garbage", MINIMAL " x",
     "t.json: line 1, column *: invalid JSON: end of file expected*"},
    {"nul_in_string", "{'version':'1\\u0000'}",
     "t.json: line 1, column *: invalid JSON: \\u0000 is not allowed*"},
};

#define NBROKEN (sizeof(broken_cases) / sizeof(broken_cases[0]))

/*
 * Whether s matches pattern, where '*' stands for any run of characters
 * (jansson's column numbers and wording are its own; the path is ours).
 * Not fnmatch(): the paths are full of brackets.
 */
static bool matches(const char *pattern, const char *s)
{
	if (*pattern == '\0')
		return *s == '\0';
	if (*pattern == '*') {
		for (;; s++) {
			if (matches(pattern + 1, s))
				return true;
			if (*s == '\0')
				return false;
		}
	}
	return *pattern == *s && matches(pattern + 1, s + 1);
}

static void broken_policy_is_refused(void **state)
{
	const struct broken *b = *state;
	cu_policy *p = (cu_policy *)&p; /* not NULL, so the test sees it reset */
	char err[512] = "";

	assert_int_equal(load(b->json, &p, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_null(strchr(err, '\n'));
	if (!matches(b->expect, err))
		fail_msg("got \"%s\"\nwant \"%s\"", err, b->expect);
}

/* Builds a policy with n integer-free text fields f0..f(n-1). */
static char *policy_with_fields(size_t n)
{
	size_t cap = 256 + n * 96, len = 0;
	char *s = malloc(cap);

	assert_non_null(s);
	len += (size_t)snprintf(s + len, cap - len, "{" HEAD "'fields':[");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(
		    s + len, cap - len,
		    "%s{'name':'f%zu','label':'F','kind':'text','max_length':9}", i ? "," : "", i);
	len += (size_t)snprintf(s + len, cap - len,
	                        "],'purposes':[{'id':'p','number':1,'text':'P','roles':['staff'],"
	                        "'fields':['f0']}],'services':[],'exceptions':[],'cookies':[]}");
	assert_true(len < cap);
	return s;
}

static void too_many_fields_is_refused(void **state)
{
	cu_policy *p = NULL;
	char err[256];
	char *s;

	(void)state;
	s = policy_with_fields(CU_POLICY_FIELDS_MAX);
	assert_int_equal(load(s, &p, err, sizeof(err)), CU_OK);
	/* 64 fields: every bit of the fieldset is a field */
	assert_int_equal(p->nfields, CU_POLICY_FIELDS_MAX);
	assert_true(cu_policy_all_fields(p) == ~(cu_fieldset)0);
	assert_int_equal(cu_policy_field_index(p, "f63"), 63);
	cu_policy_free(p);
	free(s);

	s = policy_with_fields(CU_POLICY_FIELDS_MAX + 1);
	assert_int_equal(load(s, &p, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_string_equal(err, "t.json: fields: has 65 entries; at most 64 are allowed");
	free(s);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20;
	char *buf;

	if (!f)
		fail_msg("cannot open %s (is CU_SOURCE_DIR set?)", path);
	buf = malloc(cap);
	assert_non_null(buf);
	*len = fread(buf, 1, cap, f);
	fclose(f);
	assert_true(*len > 0 && *len < cap);
	return buf;
}

static void default_policy_encodes_the_seed(void **state)
{
	static const char *const ids[] = {"support",         "product_news", "membership",
	                                  "troubleshooting", "research",     "analysis",
	                                  "materials",       "tos_review",   "site_management"};
	static const char *const registration[] = {"name", "address", "phone", "email"};
	static const char *const survey[] = {
	    "date_of_birth",        "age",      "occupation", "income",
	    "newspapers_magazines", "products", "services",   "hobbies"};
	cu_policy *p = NULL;
	char err[512] = "";
	cu_fieldset identifiers = 0;

	(void)state;
	if (cu_policy_load_file(cu_test_source_path("policy/default.json"), &p, err, sizeof(err)) !=
	    CU_OK)
		fail_msg("%s", err);
	assert_true(strlen(p->version) > 0);
	assert_non_null(strstr(p->text, "Supervision of Subcontractors"));

	assert_int_equal(p->nfields, 12);
	for (size_t i = 0; i < 4; i++) {
		const cu_policy_field *f = cu_policy_field_find(p, registration[i]);

		assert_non_null(f);
		assert_true(f->required);
		assert_true(f->identifier);
		assert_false(f->survey);
		identifiers |= (cu_fieldset)1 << cu_policy_field_index(p, registration[i]);
	}
	for (size_t i = 0; i < 8; i++) {
		const cu_policy_field *f = cu_policy_field_find(p, survey[i]);

		assert_non_null(f);
		assert_false(f->required);
		assert_false(f->identifier);
		assert_true(f->survey);
	}
	assert_int_equal(cu_policy_field_find(p, "email")->kind, CU_FIELD_EMAIL);
	assert_int_equal(cu_policy_field_find(p, "email")->max_length, 254);
	assert_int_equal(cu_policy_field_find(p, "phone")->kind, CU_FIELD_PHONE);
	assert_int_equal(cu_policy_field_find(p, "date_of_birth")->kind, CU_FIELD_DATE);
	assert_int_equal(cu_policy_field_find(p, "age")->kind, CU_FIELD_INTEGER);
	assert_int_equal(cu_policy_field_find(p, "age")->min, 0);
	assert_int_equal(cu_policy_field_find(p, "age")->max, 150);
	assert_int_equal(cu_policy_field_find(p, "hobbies")->kind, CU_FIELD_LIST);

	/* The nine purposes of use, then uses outside them that need consent. */
	assert_int_equal(p->npurposes, 10);
	assert_true(cu_policy_purpose_find(p, "testimonials")->consent_required);
	for (size_t i = 0; i < 9; i++) {
		assert_false(p->purposes[i].consent_required);
		assert_string_equal(p->purposes[i].id, ids[i]);
		assert_int_equal(p->purposes[i].number, (int)i + 1);
		assert_true(strlen(p->purposes[i].text) > 0);
		/* the operator's access comes from code, never from the file */
		assert_false(cu_policy_purpose_allows_role(&p->purposes[i], CU_ROLE_OPERATOR));
		assert_false(cu_policy_purpose_allows_role(&p->purposes[i], CU_ROLE_MEMBER));
		/* only purpose 8 needs a case, only purpose 7 is aggregate-only */
		assert_int_equal(p->purposes[i].requires_case, i == 7);
		assert_int_equal(p->purposes[i].aggregate_only, i == 6);
	}
	/* research and analysis read survey answers, never who gave them */
	assert_int_equal(cu_policy_purpose_find(p, "analysis")->fields & identifiers, 0);
	assert_int_equal(cu_policy_purpose_find(p, "research")->fields & identifiers, 0);
	assert_true(cu_policy_purpose_find(p, "analysis")->fields != 0);
	/* date of birth identifies (the policy says so); analysts get age instead */
	assert_false(cu_policy_purpose_find(p, "analysis")->fields &
	             ((cu_fieldset)1 << cu_policy_field_index(p, "date_of_birth")));
	assert_true(cu_policy_purpose_find(p, "materials")->aggregate_only);
	assert_true(cu_policy_purpose_find(p, "tos_review")->requires_case);
	assert_true(cu_policy_purpose_allows_role(cu_policy_purpose_find(p, "tos_review"),
	                                          CU_ROLE_OFFICER));
	assert_false(
	    cu_policy_purpose_allows_role(cu_policy_purpose_find(p, "analysis"), CU_ROLE_STAFF));
	/* a mailing needs no telephone number */
	assert_false(cu_policy_purpose_find(p, "product_news")->fields &
	             ((cu_fieldset)1 << cu_policy_field_index(p, "phone")));

	assert_int_equal(p->nexceptions, 3);
	assert_non_null(cu_policy_exception_find(p, "law"));
	assert_non_null(cu_policy_exception_find(p, "life_body_assets"));
	assert_non_null(cu_policy_exception_find(p, "government"));

	assert_int_equal(p->ncookies, 4);
	assert_string_equal(p->cookies[0].id, "necessary");
	assert_true(p->cookies[0].required);
	for (size_t i = 1; i < p->ncookies; i++)
		assert_false(p->cookies[i].required);

	assert_non_null(cu_policy_service_find(p, "live_classes"));
	assert_int_equal(cu_policy_service_find(p, "newsletter")->requires, 0);
	for (size_t i = 0; i < p->nservices; i++)
		for (size_t f = 0; f < p->nfields; f++)
			if (p->services[i].requires & ((cu_fieldset)1 << f))
				assert_true(p->fields[f].survey);
	cu_policy_free(p);
}

static void digest_is_blake2b_of_the_bytes(void **state)
{
	unsigned char want[32];
	cu_policy *p = NULL, *q = NULL;
	char err[512];
	size_t len;
	char *buf;

	(void)state;
	assert_true(sodium_init() >= 0);
	buf = read_file(cu_test_source_path("policy/default.json"), &len);
	crypto_generichash(want, sizeof(want), (unsigned char *)buf, len, NULL, 0);
	assert_int_equal(cu_policy_load_buffer("default.json", buf, len, &p, err, sizeof(err)),
	                 CU_OK);
	assert_memory_equal(p->digest, want, sizeof(want));
	/* the same policy with one more byte of whitespace is another file */
	buf[len] = '\n';
	assert_int_equal(cu_policy_load_buffer("default.json", buf, len + 1, &q, err, sizeof(err)),
	                 CU_OK);
	assert_memory_not_equal(p->digest, q->digest, sizeof(want));
	cu_policy_free(q);
	cu_policy_free(p);
	free(buf);
}

/* Every cut of a valid file is refused, cleanly: no crash, no leak, no policy. */
static void every_truncation_is_refused(void **state)
{
	char err[512];
	size_t len;
	char *buf;

	(void)state;
	buf = read_file(cu_test_source_path("policy/default.json"), &len);
	for (size_t n = 0; n < len - 1; n++) {
		cu_policy *p = NULL;

		if (cu_policy_load_buffer("default.json", buf, n, &p, err, sizeof(err)) !=
		    CU_ERR_POLICY_INVALID)
			fail_msg("a cut at %zu bytes was accepted", n);
		assert_null(p);
	}
	free(buf);
}

static void lookups(void **state)
{
	cu_policy *p = NULL;
	char err[256];

	(void)state;
	assert_int_equal(load(MINIMAL, &p, err, sizeof(err)), CU_OK);
	assert_int_equal(cu_policy_field_index(p, "email"), 1);
	assert_int_equal(cu_policy_field_index(p, "emial"), -1);
	assert_int_equal(cu_policy_field_index(p, NULL), -1);
	assert_int_equal(cu_policy_field_index(NULL, "email"), -1);
	assert_ptr_equal(cu_policy_field_find(p, "age"), &p->fields[2]);
	assert_null(cu_policy_field_find(p, "Age"));
	assert_ptr_equal(cu_policy_purpose_find(p, "materials"), &p->purposes[1]);
	assert_null(cu_policy_purpose_find(p, "self"));
	assert_null(cu_policy_purpose_find(NULL, "support"));
	assert_ptr_equal(cu_policy_service_find(p, "live"), &p->services[0]);
	assert_null(cu_policy_service_find(p, "dead"));
	assert_ptr_equal(cu_policy_exception_find(p, "law"), &p->exceptions[0]);
	assert_null(cu_policy_exception_find(p, "government"));
	assert_int_equal(cu_policy_all_fields(p), 0xf);
	assert_int_equal(cu_policy_all_fields(NULL), 0);

	assert_true(cu_policy_purpose_allows_role(&p->purposes[0], CU_ROLE_STAFF));
	assert_true(cu_policy_purpose_allows_role(&p->purposes[0], CU_ROLE_OFFICER));
	assert_false(cu_policy_purpose_allows_role(&p->purposes[0], CU_ROLE_ANALYST));
	assert_false(cu_policy_purpose_allows_role(&p->purposes[0], CU_ROLE_OPERATOR));
	assert_false(cu_policy_purpose_allows_role(&p->purposes[0], (cu_role)31));
	assert_false(cu_policy_purpose_allows_role(NULL, CU_ROLE_STAFF));
	cu_policy_free(p);
}

static void fieldset_format(void **state)
{
	cu_policy *p = NULL;
	char err[256], buf[64], small[8];

	(void)state;
	assert_int_equal(load(MINIMAL, &p, err, sizeof(err)), CU_OK);
	/* policy order, whatever order the bits were set in */
	assert_int_equal(cu_policy_fieldset_format(p, 0xb, buf, sizeof(buf)),
	                 strlen("name,email,hobbies"));
	assert_string_equal(buf, "name,email,hobbies");
	assert_int_equal(cu_policy_fieldset_format(p, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* bits beyond the policy's fields are not names */
	assert_int_equal(
	    cu_policy_fieldset_format(p, 0x4 | ((cu_fieldset)1 << 40), buf, sizeof(buf)), 3);
	assert_string_equal(buf, "age");
	/* truncated, NUL-terminated, and the needed length reported like snprintf */
	assert_int_equal(cu_policy_fieldset_format(p, 0xf, small, sizeof(small)),
	                 strlen("name,email,age,hobbies"));
	assert_string_equal(small, "name,em");
	assert_int_equal(cu_policy_fieldset_format(p, 0xf, NULL, 0), 22);
	cu_policy_free(p);
}

static void roles(void **state)
{
	cu_role r = CU_ROLE_MEMBER;

	(void)state;
	for (int i = 0; i < CU_ROLE_COUNT_; i++) {
		assert_non_null(cu_role_name((cu_role)i));
		assert_int_equal(cu_role_parse(cu_role_name((cu_role)i), &r), CU_OK);
		assert_int_equal(r, i);
	}
	assert_string_equal(cu_role_name(CU_ROLE_SUBCONTRACTOR), "subcontractor");
	assert_string_equal(cu_role_name(CU_ROLE_OPERATOR), "operator");
	assert_null(cu_role_name(CU_ROLE_COUNT_));
	assert_null(cu_role_name((cu_role)-1));
	assert_int_equal(cu_role_parse("Staff", &r), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_role_parse("", &r), CU_ERR_INVALID_ARGUMENT);
	assert_int_equal(cu_role_parse(NULL, &r), CU_ERR_INVALID_ARGUMENT);
}

static void errors_without_room(void **state)
{
	cu_policy *p = NULL;
	char small[12];
	char *big;

	(void)state;
	/* no buffer, or a tiny one: refused all the same, and nothing overruns */
	assert_int_equal(load("{}", &p, NULL, 0), CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_int_equal(load("{}", &p, small, sizeof(small)), CU_ERR_POLICY_INVALID);
	assert_string_equal(small, "t.json: (to");

	/* a file over the limit is refused before it is parsed */
	big = malloc(1024 * 1024 + 2);
	assert_non_null(big);
	memset(big, ' ', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	assert_int_equal(cu_policy_load_buffer("big.json", big, 1024 * 1024 + 1, &p, NULL, 0),
	                 CU_ERR_POLICY_INVALID);
	assert_null(p);
	free(big);
}

static void missing_file_is_io_error(void **state)
{
	cu_policy *p = NULL;
	char err[256];
	const char *path = "/nonexistent/custodian/policy.json";

	(void)state;
	assert_int_equal(cu_policy_load_file(path, &p, err, sizeof(err)), CU_ERR_IO);
	assert_null(p);
	assert_int_equal(strncmp(err, path, strlen(path)), 0);
	cu_policy_free(NULL);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(minimal_policy_loads),
	    cmocka_unit_test(default_policy_encodes_the_seed),
	    cmocka_unit_test(digest_is_blake2b_of_the_bytes),
	    cmocka_unit_test(every_truncation_is_refused),
	    cmocka_unit_test(too_many_fields_is_refused),
	    cmocka_unit_test(lookups),
	    cmocka_unit_test(fieldset_format),
	    cmocka_unit_test(roles),
	    cmocka_unit_test(errors_without_room),
	    cmocka_unit_test(missing_file_is_io_error),
	};
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NBROKEN];

	/* one named test per broken policy, so a failure says which one */
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < NBROKEN; i++) {
		tests[nfixed + i] = (struct CMUnitTest){
		    .name = broken_cases[i].name,
		    .test_func = broken_policy_is_refused,
		    .initial_state = (void *)&broken_cases[i],
		};
	}
	return _cmocka_run_group_tests("policy", tests, nfixed + NBROKEN, NULL, NULL);
}
