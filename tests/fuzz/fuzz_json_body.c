/*
 * fuzz_json_body — a request body as the API takes it: the nesting check
 * and jansson's parse of cu_http_body_json (server/http/input.c), the object
 * turned into field/value pairs as the member routes do (strings, integers
 * as text, null clears), then validation and sealing of a registration and
 * of a change (cu_member_prepare, cu_member_validate), and every string
 * value through the parsers and text checks the other bodies use (consent
 * kinds, request types and actions, refusal grounds, export formats, roles,
 * free text, justifications, e-mail and telephone normalisation).
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/consent.h"
#include "domain/export.h"
#include "domain/members.h"
#include "domain/requests.h"
#include "fuzz.h"
#include "http/http.h"
#include "util/text.h"

static void every_string_check(const char *s)
{
	char norm[CU_EMAIL_MAX + 1];
	cu_consent_kind kind;
	cu_request_type type;
	cu_request_action action;
	cu_export_format format;
	cu_role role;

	FUZZ_IGNORE(cu_consent_kind_parse(s, &kind));
	FUZZ_IGNORE(cu_request_type_parse(s, &type));
	FUZZ_IGNORE(cu_request_action_parse(s, &action));
	FUZZ_IGNORE(cu_export_format_parse(s, &format));
	FUZZ_IGNORE(cu_role_parse(s, &role));
	FUZZ_IGNORE(cu_refusal_ground_find(s));
	FUZZ_IGNORE(cu_text_free_problem(s, 2000, true));
	FUZZ_IGNORE(cu_text_free_problem(s, 200, false));
	FUZZ_IGNORE(cu_text_justification_ok(s));
	if (cu_member_normalise_email(s, norm, sizeof(norm)) == CU_OK &&
	    !memchr(norm, 0, sizeof(norm)))
		abort();
	if (cu_member_normalise_phone(s, norm, sizeof(norm)) == CU_OK &&
	    strlen(norm) > CU_PHONE_MAX)
		abort();
}

/* The field errors name fields, never values: each is a short clean name. */
static void check_errors(const cu_errors *errs)
{
	if (errs->n > CU_ERRORS_MAX)
		abort();
	for (size_t i = 0; i < errs->n; i++)
		if (!memchr(errs->e[i].field, '\0', sizeof(errs->e[i].field)))
			abort();
}

/* The nesting depth of a parsed value: what cu_http_json_depth must have counted. */
static int depth_of(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;
	int max = 0, d;

	if (json_is_object(j)) {
		json_object_foreach(j, key, v) if ((d = depth_of(v)) > max) max = d;
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) if ((d = depth_of(v)) > max) max = d;
	} else {
		return 0;
	}
	return max + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const cu_actor op = {"operator", CU_ROLE_OPERATOR, NULL, NULL};
	cu_ctx *c = fuzz_ctx();
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	char num[CU_POLICY_FIELDS_MAX][32];
	cu_registration reg;
	cu_errors errs;
	json_error_t jerr;
	const char *key;
	json_t *j, *v;
	size_t n = 0;
	int bad = 0, depth = cu_http_json_depth((const char *)data, size);

	/* Past the limit the server answers 400 before parsing; below it the count is exact. */
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j && depth_of(j) != depth)
		abort();
	if (depth > CU_JSON_DEPTH_MAX || !json_is_object(j))
		goto out;
	json_object_foreach(j, key, v)
	{
		every_string_check(key);
		if (json_is_string(v))
			every_string_check(json_string_value(v));
		if (!strcmp(key, "password"))
			continue;
		if (n >= CU_POLICY_FIELDS_MAX) {
			bad = 1;
			break;
		}
		kv[n].name = key;
		if (json_is_string(v)) {
			kv[n].value = json_string_value(v);
		} else if (json_is_integer(v)) {
			snprintf(num[n], sizeof(num[n]), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(v));
			kv[n].value = num[n];
		} else if (json_is_null(v)) {
			kv[n].value = NULL;
		} else {
			bad = 1;
		}
		n++;
	}
	if (bad)
		goto out;
	cu_errors_init(&errs);
	FUZZ_IGNORE(cu_member_validate(c->policy, kv, n, false, &errs));
	check_errors(&errs);
	cu_errors_init(&errs);
	memset(&reg, 0, sizeof(reg));
	FUZZ_IGNORE(
	    cu_member_prepare(c->policy, c->vault, &c->config, &op, kv, n, NULL, &reg, &errs));
	check_errors(&errs);
	cu_registration_release(&reg);
out:
	cu_http_json_wipe(j);
	json_decref(j);
	return 0;
}
