/*
 * test_policy_rules.c — each validation rule of the policy loader
 * (src/policy/policy.c) that tests/unit/test_policy.c does not reach: every
 * JSON type where another is expected, ids and versions malformed, strings
 * blank, too long or holding control characters, sections of the wrong
 * shape or too many entries, the rules of fields, purposes, services,
 * exceptions and cookies, and the retention section.  Each policy is
 * refused whole (no policy handed out) with one line naming the file, the
 * place and the fault.
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
#include <sys/stat.h>
#include <unistd.h>

#include "policy/policy.h"
#include "support.h"

/* Single quotes for readability, as in test_policy.c; dq() makes JSON of them. */
static char *dq(const char *s)
{
	char *out = strdup(s);

	assert_non_null(out);
	for (char *c = out; *c; c++)
		if (*c == '\'')
			*c = '"';
	return out;
}

static cu_result load(const char *s, cu_policy **p, char *err, size_t errlen)
{
	char *json = dq(s);
	cu_result rc = cu_policy_load_buffer("t.json", json, strlen(json), p, err, errlen);

	free(json);
	return rc;
}

#define HEAD "'version':'1','title':'T','text':'X',"
#define FIELDS                                                                                     \
	"'fields':["                                                                               \
	"{'name':'name','label':'Name','kind':'name','required':true,'identifier':true,"           \
	"'max_length':200},"                                                                       \
	"{'name':'email','label':'E-mail','kind':'email','required':true,'identifier':true,"       \
	"'max_length':254},"                                                                       \
	"{'name':'age','label':'Age','kind':'integer','survey':true,'max_length':3,'min':0,"       \
	"'max':150},"                                                                              \
	"{'name':'hobbies','label':'Hobbies','kind':'list','survey':true,'max_length':1000},"      \
	"{'name':'nick','label':'Nick','kind':'text','identifier':true,'max_length':20}],"
#define PURPOSES                                                                                   \
	"'purposes':["                                                                             \
	"{'id':'support','number':1,'text':'S','roles':['staff','officer'],"                       \
	"'fields':['name','email']},"                                                              \
	"{'id':'news','number':2,'text':'N','roles':['staff'],'fields':['email'],"                 \
	"'consent_required':true},"                                                                \
	"{'id':'materials','number':7,'text':'M','roles':['analyst'],'fields':['age'],"            \
	"'aggregate_only':true}],"
#define SERVICES                 "'services':[{'id':'live','name':'Live','requires':['hobbies']}],"
#define EXCEPTIONS               "'exceptions':[{'id':'law','text':'L'}],"
#define COOKIES                  "'cookies':[{'id':'necessary','text':'N','required':true}]"
#define POLICY(h, f, p, s, e, c) "{" h f p s e c "}"
#define MINIMAL                  POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES)
#define WITH_RETENTION(r)        "{" HEAD FIELDS PURPOSES SERVICES EXCEPTIONS COOKIES ",'retention':" r "}"
#define ONE_FIELD(body)          "'fields':[" body "],"
#define ONE_PURPOSE(body)        "'purposes':[" body "],"
#define PURPOSE_WITH(extra)                                                                        \
	ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],'fields':[]" extra "}")

#define S10  "aaaaaaaaaa"
#define S40  S10 S10 S10 S10
#define S200 S40 S40 S40 S40 S40
#define E    "{'id':'e','text':'T'}"
#define E4   E "," E "," E "," E
#define E16  E4 "," E4 "," E4 "," E4
#define C    "{'id':'c','text':'T'}"
#define C4   C "," C "," C "," C
#define C16  C4 "," C4 "," C4 "," C4

struct rule {
	const char *name;
	const char *json;   /* single-quoted */
	const char *expect; /* the whole message */
};

static const struct rule rules[] = {
    /* ---- types where another is expected ---- */
    {"fields_a_fraction", POLICY(HEAD, "'fields':1.5,", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: expected an array, got a number with a fraction"},
    {"fields_a_boolean", POLICY(HEAD, "'fields':true,", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: expected an array, got a boolean"},
    {"fields_null", POLICY(HEAD, "'fields':null,", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: expected an array, got null"},
    {"fields_an_object", POLICY(HEAD, "'fields':{},", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: expected an array, got an object"},
    {"fields_a_string", POLICY(HEAD, "'fields':'name',", PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields: expected an array, got a string"},
    {"title_an_array",
     POLICY("'version':'1','title':[],'text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: title: expected a string, got an array"},
    {"text_missing",
     POLICY("'version':'1','title':'T',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: (top level): missing required key 'text'"},

    /* ---- strings ---- */
    {"version_too_long",
     POLICY("'version':'" S40 S40 "','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: version: invalid version '" S40
     "...': use letters, digits, '.', '-' and '_', at most 64 characters"},
    {"version_with_slash",
     POLICY("'version':'1/2','title':'T','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: version: invalid version '1/2': use letters, digits, '.', '-' and '_', at most 64 "
     "characters"},
    {"text_blank",
     POLICY("'version':'1','title':'T','text':' \\t\\r\\n ',", FIELDS, PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: text: must not be empty"},
    {"text_with_control",
     POLICY("'version':'1','title':'T','text':'a\\u0001b',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: text: contains a control character"},
    {"text_with_delete",
     POLICY("'version':'1','title':'T','text':'a\\u007f',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: text: contains a control character"},
    {"title_with_tab",
     POLICY("'version':'1','title':'a\\tb','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: title: contains a control character"},
    {"title_too_long",
     POLICY("'version':'1','title':'" S200 "a','text':'X',", FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            COOKIES),
     "t.json: title: is 201 bytes long; at most 200 are allowed"},
    {"unknown_key_cut_on_a_character", "{" HEAD "'" S10 S10 S10 "aaaaaaaaa\xc3\xa9zzz':1}",
     "t.json: (top level): unknown key '" S10 S10 S10 "aaaaaaaaa...'"},
    {"unknown_key_with_control", "{" HEAD "'a\\u0002b':1}",
     "t.json: (top level): unknown key 'a?b'"},

    /* ---- fields ---- */
    {"field_id_with_capital",
     POLICY(HEAD, ONE_FIELD("{'name':'aB','label':'L','kind':'text','max_length':5}"), PURPOSES,
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].name: invalid id 'aB': use a lowercase letter, then lowercase letters, "
     "digits or '_', at most 40 characters"},
    {"field_id_with_dash",
     POLICY(HEAD, ONE_FIELD("{'name':'a-b','label':'L','kind':'text','max_length':5}"), PURPOSES,
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].name: invalid id 'a-b': use a lowercase letter, then lowercase letters, "
     "digits or '_', at most 40 characters"},
    {"field_label_missing",
     POLICY(HEAD, ONE_FIELD("{'name':'n','kind':'text','max_length':5}"), PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: fields[0]: missing required key 'label'"},
    {"field_kind_not_string",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':3,'max_length':5}"), PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: fields[0].kind: expected a string, got an integer"},
    {"field_identifier_not_boolean",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':'text','identifier':1,'max_length':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].identifier: expected true or false, got an integer"},
    {"field_survey_not_boolean",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':'text','survey':'yes','max_length':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].survey: expected true or false, got a string"},
    {"field_max_length_missing",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':'text'}"), PURPOSES, SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: fields[0]: missing required key 'max_length'"},
    {"integer_without_min",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':'integer','max_length':3,'max':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0]: missing required key 'min'"},
    {"integer_min_a_string",
     POLICY(HEAD,
            ONE_FIELD("{'name':'n','label':'L','kind':'integer','max_length':3,'min':'0',"
                      "'max':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].min: expected an integer, got a string"},
    {"integer_min_wider_than_max_length",
     POLICY(HEAD,
            ONE_FIELD("{'name':'n','label':'L','kind':'integer','max_length':3,'min':-1000,"
                      "'max':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max_length: 3 bytes cannot hold -1000"},
    {"text_with_max_only",
     POLICY(HEAD, ONE_FIELD("{'name':'n','label':'L','kind':'text','max_length':3,'max':5}"),
            PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
     "t.json: fields[0].max: only a field of kind 'integer' has bounds"},

    /* ---- purposes ---- */
    {"purposes_an_object", POLICY(HEAD, FIELDS, "'purposes':{},", SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes: expected an array, got an object"},
    {"purposes_empty", POLICY(HEAD, FIELDS, "'purposes':[],", SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes: must not be empty"},
    {"purpose_not_object", POLICY(HEAD, FIELDS, ONE_PURPOSE("[]"), SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: expected an object, got an array"},
    {"purpose_id_capital",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'Support','number':1,'text':'S','roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].id: invalid id 'Support': use a lowercase letter, then lowercase "
     "letters, digits or '_', at most 40 characters"},
    {"purpose_number_missing",
     POLICY(HEAD, FIELDS, ONE_PURPOSE("{'id':'support','text':'S','roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: missing required key 'number'"},
    {"purpose_number_too_large",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':65,'text':'S','roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].number: 65 is out of range 1..64"},
    {"purpose_text_missing",
     POLICY(HEAD, FIELDS, ONE_PURPOSE("{'id':'support','number':1,'roles':['staff'],'fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: missing required key 'text'"},
    {"purpose_roles_a_string",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':'staff','fields':[]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles: expected an array, got a string"},
    {"purpose_role_an_integer",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':[1],'fields':[]}"), SERVICES,
            EXCEPTIONS, COOKIES),
     "t.json: purposes[0].roles[0]: expected a string, got an integer"},
    {"purpose_aggregate_only_not_boolean",
     POLICY(HEAD, FIELDS, PURPOSE_WITH(",'aggregate_only':'no'"), SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].aggregate_only: expected true or false, got a string"},
    {"purpose_consent_required_not_boolean",
     POLICY(HEAD, FIELDS, PURPOSE_WITH(",'consent_required':0"), SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].consent_required: expected true or false, got an integer"},
    {"purpose_diaries_not_boolean",
     POLICY(HEAD, FIELDS, PURPOSE_WITH(",'diaries':null"), SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].diaries: expected true or false, got null"},
    {"purpose_diaries_without_case",
     POLICY(HEAD, FIELDS, PURPOSE_WITH(",'diaries':true"), SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: a purpose that reads diaries must require a case"},
    {"purpose_fields_missing",
     POLICY(HEAD, FIELDS, ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff']}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0]: missing required key 'fields'"},
    {"purpose_field_null",
     POLICY(HEAD, FIELDS,
            ONE_PURPOSE("{'id':'support','number':1,'text':'S','roles':['staff'],'fields':[null]}"),
            SERVICES, EXCEPTIONS, COOKIES),
     "t.json: purposes[0].fields[0]: expected a string, got null"},

    /* ---- services ---- */
    {"services_an_object", POLICY(HEAD, FIELDS, PURPOSES, "'services':{},", EXCEPTIONS, COOKIES),
     "t.json: services: expected an array, got an object"},
    {"service_not_object", POLICY(HEAD, FIELDS, PURPOSES, "'services':[1],", EXCEPTIONS, COOKIES),
     "t.json: services[0]: expected an object, got an integer"},
    {"service_id_missing",
     POLICY(HEAD, FIELDS, PURPOSES, "'services':[{'name':'L','requires':[]}],", EXCEPTIONS,
            COOKIES),
     "t.json: services[0]: missing required key 'id'"},
    {"service_name_missing",
     POLICY(HEAD, FIELDS, PURPOSES, "'services':[{'id':'live','requires':[]}],", EXCEPTIONS,
            COOKIES),
     "t.json: services[0]: missing required key 'name'"},
    {"service_name_with_control",
     POLICY(HEAD, FIELDS, PURPOSES, "'services':[{'id':'live','name':'L\\u0007','requires':[]}],",
            EXCEPTIONS, COOKIES),
     "t.json: services[0].name: contains a control character"},
    {"service_requires_a_string",
     POLICY(HEAD, FIELDS, PURPOSES, "'services':[{'id':'live','name':'L','requires':'hobbies'}],",
            EXCEPTIONS, COOKIES),
     "t.json: services[0].requires: expected an array, got a string"},
    {"service_requires_twice",
     POLICY(HEAD, FIELDS, PURPOSES,
            "'services':[{'id':'live','name':'L','requires':['hobbies','hobbies']}],", EXCEPTIONS,
            COOKIES),
     "t.json: services[0].requires[1]: duplicate field 'hobbies'"},

    /* ---- exceptions and cookies ---- */
    {"exceptions_an_object", POLICY(HEAD, FIELDS, PURPOSES, SERVICES, "'exceptions':{},", COOKIES),
     "t.json: exceptions: expected an array, got an object"},
    {"exception_a_string",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, "'exceptions':['law'],", COOKIES),
     "t.json: exceptions[0]: expected an object, got a string"},
    {"exception_id_capital",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, "'exceptions':[{'id':'Law','text':'L'}],", COOKIES),
     "t.json: exceptions[0].id: invalid id 'Law': use a lowercase letter, then lowercase letters, "
     "digits or '_', at most 40 characters"},
    {"too_many_exceptions",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, "'exceptions':[" E16 "," E "],", COOKIES),
     "t.json: exceptions: has 17 entries; at most 16 are allowed"},
    {"cookies_an_object", POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, "'cookies':{}"),
     "t.json: cookies: expected an array, got an object"},
    {"cookie_an_integer", POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, "'cookies':[7]"),
     "t.json: cookies[0]: expected an object, got an integer"},
    {"cookie_id_missing",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, "'cookies':[{'text':'T'}]"),
     "t.json: cookies[0]: missing required key 'id'"},
    {"duplicate_cookie",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS,
            "'cookies':[{'id':'c','text':'T'},{'id':'c','text':'U'}]"),
     "t.json: cookies[1].id: duplicate cookie category 'c' (also cookies[0])"},
    {"cookie_text_missing",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, "'cookies':[{'id':'c'}]"),
     "t.json: cookies[0]: missing required key 'text'"},
    {"too_many_cookies",
     POLICY(HEAD, FIELDS, PURPOSES, SERVICES, EXCEPTIONS, "'cookies':[" C16 "," C "]"),
     "t.json: cookies: has 17 entries; at most 16 are allowed"},

    /* ---- retention ---- */
    {"retention_an_array", WITH_RETENTION("[]"),
     "t.json: retention: expected an object, got an array"},
    {"retention_unknown_key", WITH_RETENTION("{'forever':1}"),
     "t.json: retention: unknown key 'forever'"},
    {"grace_negative", WITH_RETENTION("{'dropped_field_grace_days':-1}"),
     "t.json: retention.dropped_field_grace_days: -1 is out of range 0..36500"},
    {"provision_under_three_years", WITH_RETENTION("{'provision_records_days':1097}"),
     "t.json: retention.provision_records_days: 1097 days is less than three years: records of "
     "provision are kept at least 1098 days"},
    {"provision_a_string", WITH_RETENTION("{'provision_records_days':'3y'}"),
     "t.json: retention.provision_records_days: expected an integer, got a string"},
    {"provision_negative", WITH_RETENTION("{'provision_records_days':-5}"),
     "t.json: retention.provision_records_days: -5 is out of range 1098..36500"},
    {"provision_over_a_century", WITH_RETENTION("{'provision_records_days':36501}"),
     "t.json: retention.provision_records_days: 36501 is out of range 1098..36500"},
    {"inactive_an_integer", WITH_RETENTION("{'inactive_accounts':1}"),
     "t.json: retention.inactive_accounts: expected an object, got an integer"},
    {"inactive_notice_zero",
     WITH_RETENTION("{'inactive_accounts':{'notice_after_days':0,'erase_after_notice_days':5}}"),
     "t.json: retention.inactive_accounts.notice_after_days: 0 is out of range 1..36500"},
    {"inactive_erase_missing", WITH_RETENTION("{'inactive_accounts':{'notice_after_days':10}}"),
     "t.json: retention.inactive_accounts: missing required key 'erase_after_notice_days'"},
    {"purposes_retention_an_array", WITH_RETENTION("{'purposes':[]}"),
     "t.json: retention.purposes: expected an object, got an array"},
    {"purposes_retention_unknown", WITH_RETENTION("{'purposes':{'nope':{}}}"),
     "t.json: retention.purposes: unknown purpose 'nope'"},
    {"purpose_retention_an_integer", WITH_RETENTION("{'purposes':{'support':3}}"),
     "t.json: retention.purposes.support: expected an object, got an integer"},
    {"purpose_retention_empty", WITH_RETENTION("{'purposes':{'support':{}}}"),
     "t.json: retention.purposes.support: give after_last_activity_days or after_withdrawal_days "
     "(or leave the purpose out: kept while the membership lasts)"},
    {"withdrawal_without_consent",
     WITH_RETENTION("{'purposes':{'support':{'after_withdrawal_days':5}}}"),
     "t.json: retention.purposes.support: after_withdrawal_days is only for a consent_required "
     "purpose"},
    {"activity_negative",
     WITH_RETENTION("{'purposes':{'support':{'after_last_activity_days':-1}}}"),
     "t.json: retention.purposes.support.after_last_activity_days: -1 is out of range 0..36500"},
    {"withdrawal_over_a_century",
     WITH_RETENTION("{'purposes':{'news':{'after_withdrawal_days':36501}}}"),
     "t.json: retention.purposes.news.after_withdrawal_days: 36501 is out of range 0..36500"},
    {"fields_retention_an_array", WITH_RETENTION("{'fields':[]}"),
     "t.json: retention.fields: expected an object, got an array"},
    {"fields_retention_unknown", WITH_RETENTION("{'fields':{'nope':{}}}"),
     "t.json: retention.fields: unknown field 'nope'"},
    {"required_field_retention",
     WITH_RETENTION("{'fields':{'email':{'after_last_activity_days':5}}}"),
     "t.json: retention.fields.email: 'email' is required: it is kept while the membership lasts "
     "(see retention.inactive_accounts)"},
    {"identifier_field_retention",
     WITH_RETENTION("{'fields':{'nick':{'after_last_activity_days':5}}}"),
     "t.json: retention.fields.nick: 'nick' is an identifier: it is kept while the membership "
     "lasts (see retention.inactive_accounts)"},
    {"field_retention_an_integer", WITH_RETENTION("{'fields':{'age':5}}"),
     "t.json: retention.fields.age: expected an object, got an integer"},
    {"field_retention_days_missing", WITH_RETENTION("{'fields':{'age':{}}}"),
     "t.json: retention.fields.age: missing required key 'after_last_activity_days'"},
};

/* Refused whole, with exactly the expected message on one line. */
static void refused(void **state)
{
	const struct rule *r = *state;
	cu_policy *p = (cu_policy *)1;
	char err[512] = "";

	assert_int_equal(load(r->json, &p, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_null(p);
	if (strcmp(err, r->expect))
		fail_msg("got  '%s'\nwant '%s'", err, r->expect);
}

/* The policy the refusals above each break in one place loads, with its retention. */
static void base_policy_loads_with_retention(void **state)
{
	cu_policy *p = NULL;
	char err[512] = "";

	(void)state;
	assert_int_equal(
	    load(WITH_RETENTION("{'dropped_field_grace_days':0,"
	                        "'provision_records_days':1098,"
	                        "'inactive_accounts':{'notice_after_days':365,"
	                        "'erase_after_notice_days':0},"
	                        "'purposes':{'news':{'after_withdrawal_days':30,"
	                        "'after_last_activity_days':700}},"
	                        "'fields':{'hobbies':{'after_last_activity_days':90}}}"),
	         &p, err, sizeof(err)),
	    CU_OK);
	assert_string_equal(err, "");
	assert_int_equal(p->retention.dropped_field_grace_days, 0);
	assert_int_equal(p->retention.provision_records_days, 1098);
	assert_int_equal(p->retention.inactive_notice_days, 365);
	assert_int_equal(p->retention.inactive_erase_days, 0);
	assert_int_equal(cu_policy_purpose_find(p, "news")->withdrawal_days, 30);
	assert_int_equal(cu_policy_purpose_find(p, "news")->retention_days, 700);
	assert_int_equal(cu_policy_purpose_find(p, "support")->retention_days, CU_RETENTION_NONE);
	assert_int_equal(cu_policy_field_find(p, "hobbies")->retention_days, 90);
	assert_int_equal(cu_policy_field_find(p, "age")->retention_days, CU_RETENTION_NONE);
	cu_policy_free(p);

	/* Prose may hold tabs and line breaks; a line may not. */
	assert_int_equal(load(POLICY("'version':'v1.0-b_2','title':'T','text':'a\\tb\\r\\nc',",
	                             FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES),
	                      &p, err, sizeof(err)),
	                 CU_OK);
	assert_string_equal(p->text, "a\tb\r\nc");
	assert_string_equal(p->version, "v1.0-b_2");
	assert_int_equal(p->retention.dropped_field_grace_days, CU_RETENTION_GRACE_DEFAULT);
	assert_int_equal(p->retention.provision_records_days, CU_RETENTION_NONE);
	cu_policy_free(p);
}

/* The file name is not the loader's: whatever it holds, the message stays one line. */
static void file_name_kept_on_one_line(void **state)
{
	cu_policy *p = NULL;
	char err[256] = "";

	(void)state;
	assert_int_equal(cu_policy_load_buffer("a\nb.json", "[]", 2, &p, err, sizeof(err)),
	                 CU_ERR_POLICY_INVALID);
	assert_string_equal(err, "a?b.json: (top level): expected an object, got an array");
	assert_int_equal(cu_policy_load_buffer(NULL, "[]", 2, &p, err, sizeof(err)),
	                 CU_ERR_POLICY_INVALID);
	assert_string_equal(err, "(policy): (top level): expected an object, got an array");
	/* Nothing at all is not JSON. */
	assert_int_equal(cu_policy_load_buffer("t.json", NULL, 0, &p, err, sizeof(err)),
	                 CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_non_null(strstr(err, "invalid JSON"));
}

static void files_refused(void **state)
{
	char *dir = cu_test_tmpdir(), path[PATH_MAX], err[256] = "";
	cu_policy *p = (cu_policy *)1;
	FILE *f;

	(void)state;
	assert_int_equal(cu_policy_load_file(NULL, &p, err, sizeof(err)), CU_ERR_INVALID_ARGUMENT);
	assert_null(p);
	assert_string_equal(err, "(policy): no file name given");
	assert_int_equal(cu_policy_load_file(NULL, &p, NULL, 0), CU_ERR_INVALID_ARGUMENT);

	/* A directory cannot be read. */
	assert_int_equal(cu_policy_load_file(dir, &p, err, sizeof(err)), CU_ERR_IO);
	assert_null(p);
	assert_non_null(strstr(err, ": cannot read: "));

	/* One byte over the limit: the loader's own words for it. */
	snprintf(path, sizeof(path), "%s/big.json", dir);
	f = fopen(path, "wb");
	assert_non_null(f);
	for (long i = 0; i <= CU_POLICY_FILE_MAX; i++)
		fputc(' ', f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cu_policy_load_file(path, &p, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_non_null(strstr(err, "big.json: (top level): the file is 1048577 bytes; at most "
	                            "1048576 are allowed"));

	/* A file that holds a valid policy loads, named in no message. */
	f = fopen(path, "wb");
	{
		char *json = dq(MINIMAL);

		fputs(json, f);
		free(json);
	}
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cu_policy_load_file(path, &p, err, sizeof(err)), CU_OK);
	assert_int_equal(p->nfields, 5);
	assert_int_equal(p->npurposes, 3);
	cu_policy_free(p);
	cu_test_rmdir(dir);
}

static void lookups_refuse_nothing_given(void **state)
{
	cu_policy *p = NULL;
	char err[256], buf[8] = "x";

	(void)state;
	assert_int_equal(load(MINIMAL, &p, err, sizeof(err)), CU_OK);
	assert_null(cu_policy_service_find(NULL, "live"));
	assert_null(cu_policy_service_find(p, NULL));
	assert_null(cu_policy_exception_find(NULL, "law"));
	assert_null(cu_policy_exception_find(p, NULL));
	assert_null(cu_policy_purpose_find(p, NULL));
	assert_int_equal(cu_policy_fieldset_format(NULL, 0xf, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_string_equal(cu_field_kind_name(CU_FIELD_LIST), "list");
	assert_null(cu_field_kind_name((cu_field_kind)99));
	assert_true(cu_policy_id_form("a_1"));
	assert_false(cu_policy_id_form(NULL));
	assert_false(cu_policy_id_form(""));
	assert_false(cu_policy_id_form("_a"));
	assert_false(cu_policy_id_form(S40 "a"));
	assert_true(cu_policy_id_form(S40));
	cu_policy_free(p);
}

/* A long policy text lives whole in the loaded policy; one past the bound is refused. */
static void long_policy_text(void **state)
{
	const size_t big = 256 * 1024;
	char *text = malloc(big + 2), *json = malloc(big + 4096), err[512] = "";
	cu_policy *p = NULL;
	int n;

	(void)state;
	assert_non_null(text);
	assert_non_null(json);
	for (size_t i = 0; i < big + 1; i++)
		text[i] = (char)('a' + i % 26);
	text[big + 1] = '\0';
	/* 5000 bytes: more than a quarter of the loader's chunk, so a chunk of its own. */
	text[5000] = '\0';
	n = snprintf(json, big + 4096, "{'version':'1','title':'T','text':'%s',%s%s%s%s%s}", text,
	             FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES);
	assert_true(n > 0 && (size_t)n < big + 4096);
	assert_int_equal(load(json, &p, err, sizeof(err)), CU_OK);
	assert_int_equal(strlen(p->text), 5000);
	assert_memory_equal(p->text, text, 5000);
	assert_string_equal(p->title, "T");
	assert_int_equal(p->nfields, 5);
	cu_policy_free(p);

	text[5000] = 'a' + 5000 % 26;
	n = snprintf(json, big + 4096, "{'version':'1','title':'T','text':'%s',%s%s%s%s%s}", text,
	             FIELDS, PURPOSES, SERVICES, EXCEPTIONS, COOKIES);
	assert_true(n > 0 && (size_t)n < big + 4096);
	assert_int_equal(load(json, &p, err, sizeof(err)), CU_ERR_POLICY_INVALID);
	assert_null(p);
	assert_string_equal(err, "t.json: text: is 262145 bytes long; at most 262144 are allowed");
	free(text);
	free(json);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(base_policy_loads_with_retention),
	    cmocka_unit_test(file_name_kept_on_one_line),
	    cmocka_unit_test(files_refused),
	    cmocka_unit_test(lookups_refuse_nothing_given),
	    cmocka_unit_test(long_policy_text),
	};
	enum { NRULES = sizeof(rules) / sizeof(rules[0]) };
	const size_t nfixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest tests[sizeof(fixed) / sizeof(fixed[0]) + NRULES];

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < NRULES; i++)
		tests[nfixed + i] = (struct CMUnitTest){
		    .name = rules[i].name,
		    .test_func = refused,
		    .initial_state = (void *)&rules[i],
		};
	return _cmocka_run_group_tests("policy_rules", tests, nfixed + NRULES, NULL, NULL);
}
