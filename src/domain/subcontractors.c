/*
 * src/domain/subcontractors.c — the registry of subcontractors, their contracts and
 * supervision reviews: validated and audited here; the door keeps their
 * tokens inside the contract (access/contract.c).
 */
#include "domain/subcontractors.h"

#include <stdio.h>
#include <string.h>

#include "domain/change.h"
#include "domain/registry_check.h"
#include "util/text.h"

#define REGISTER_REASON_BYTES                                                                      \
	200 /* "subcontractor <id> registered: purposes <80 bytes>, <day>..<day>" */
#define REVIEW_REASON_BYTES 160 /* "review <id> of subcontractor <id> due <day>, done" */

static bool purpose_ok(const cu_policy *p, const char *name)
{
	return cu_policy_purpose_find(p, name) != NULL;
}

/* ---- subcontractors ----------------------------------------------------- */

static cu_result write_sub(cu_store *s, const void *arg)
{
	return cu_store_subcontractor_insert(s, arg);
}

/* Measures are kept one per line: each must be one line of text. */
static const char *join_measures(const char *const *m, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (!m || n == 0)
		return "required";
	if (n > CU_SUBCONTRACTOR_MEASURES_N)
		return "too_many";
	for (size_t i = 0; i < n; i++) {
		const char *why = cu_text_free_problem(m[i], CU_SUBCONTRACTOR_MEASURE_MAX, false);
		int w;

		if (why)
			return why;
		w = snprintf(buf + o, len - o, "%s%s", i ? "\n" : "", m[i]);
		if (w < 0 || (size_t)w >= len - o)
			return "too_long";
		o += (size_t)w;
	}
	return NULL;
}

cu_result cu_subcontractor_register(cu_ctx *ctx, const cu_actor *actor,
                                    const cu_subcontractor_input *in, cu_subcontractor_row *out,
                                    cu_errors *errs)
{
	cu_subcontractor_row row;
	char reason[REGISTER_REASON_BYTES], start[CU_DATE_LEN + 1], end[CU_DATE_LEN + 1];
	int64_t end_day = 0;
	const char *why;
	bool bad = false;
	cu_result rc;

	if (!ctx || !in)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_registry_officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	memset(&row, 0, sizeof(row));
	if (!cu_registry_id_form(in->id)) {
		cu_errors_add(errs, "id", in->id && *in->id ? "malformed" : "required");
		bad = true;
	}
	cu_registry_check_text(errs, "name", in->name, CU_REGISTRY_NAME_MAX, false, &bad);
	cu_registry_check_text(errs, "contact", in->contact, CU_REGISTRY_CONTACT_MAX, true, &bad);
	why = cu_registry_join_names(in->fields, in->nfields, cu_registry_field_ok, ctx->policy,
	                             "unknown_field", row.fields_text, sizeof(row.fields_text));
	if (why) {
		cu_errors_add(errs, "fields", why);
		bad = true;
	}
	why =
	    cu_registry_join_names(in->purposes, in->npurposes, purpose_ok, ctx->policy,
	                           "unknown_purpose", row.purposes_text, sizeof(row.purposes_text));
	if (why) {
		cu_errors_add(errs, "purposes", why);
		bad = true;
	}
	why = join_measures(in->measures, in->nmeasures, row.measures, sizeof(row.measures));
	if (why) {
		cu_errors_add(errs, "measures", why);
		bad = true;
	}
	if (cu_date_parse(in->start, &row.start_us)) {
		cu_errors_add(errs, "start", in->start ? "malformed" : "required");
		bad = true;
	}
	if (cu_date_parse(in->end, &end_day)) {
		cu_errors_add(errs, "end", in->end ? "malformed" : "required");
		bad = true;
	} else if (!bad && end_day < row.start_us) {
		cu_errors_add(errs, "end", "before_start");
		bad = true;
	}
	if (bad)
		return CU_ERR_INVALID_FIELD;
	/* In force through the whole of its last day. */
	row.end_us = end_day + CU_DAY_US;
	memcpy(row.id, in->id, strlen(in->id) + 1);
	memcpy(row.name, in->name, strlen(in->name) + 1);
	memcpy(row.contact, in->contact, strlen(in->contact) + 1);
	cu_registry_copy_actor(row.created_by, actor);
	row.created_us = cu_now_us();
	cu_date_format(row.start_us, start);
	cu_date_format(end_day, end);
	snprintf(reason, sizeof(reason), "subcontractor %s registered: purposes %.80s, %s..%s",
	         row.id, row.purposes_text, start, end);
	rc = cu_change_write(ctx, &(struct cu_change){actor, "subcontractor_register", NULL,
	                                              row.fields_text, reason, write_sub, &row});
	if (!rc && out)
		*out = row;
	return rc;
}

static cu_result write_review(cu_store *s, const void *arg)
{
	return cu_store_review_insert(s, arg);
}

static cu_result write_review_update(cu_store *s, const void *arg)
{
	const cu_review_row *r = arg;

	return cu_store_review_update(s, r->id, r->findings, r->done_us);
}

static bool findings_bad(const char *findings, cu_errors *errs)
{
	const char *why;

	/* Findings may be empty: a review scheduled has none yet. */
	if (!findings || !*findings)
		return false;
	why = strlen(findings) > CU_REGISTRY_TEXT_MAX
	          ? "too_long"
	          : cu_text_check(findings, strlen(findings), "\n\r\t");
	if (why)
		cu_errors_add(errs, "findings", why);
	return why != NULL;
}

cu_result cu_subcontractor_review_add(cu_ctx *ctx, const cu_actor *actor, const char *sub,
                                      const char *due, const char *findings, bool done,
                                      cu_review_row *out, cu_errors *errs)
{
	cu_subcontractor_row contract;
	cu_review_row row;
	char reason[REVIEW_REASON_BYTES], day[CU_DATE_LEN + 1];
	bool bad = false;
	cu_result rc;

	if (!ctx || !sub)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_registry_officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	memset(&row, 0, sizeof(row));
	if (cu_date_parse(due, &row.due_us)) {
		cu_errors_add(errs, "due", due ? "malformed" : "required");
		bad = true;
	}
	bad |= findings_bad(findings, errs);
	if (bad)
		return CU_ERR_INVALID_FIELD;
	rc = cu_store_subcontractor_get(ctx->store, sub, &contract);
	if (rc)
		return rc;
	cu_vault_random_id(row.id);
	memcpy(row.subcontractor, contract.id, sizeof(row.subcontractor));
	snprintf(row.findings, sizeof(row.findings), "%s", findings ? findings : "");
	row.created_us = cu_now_us();
	row.done_us = done ? row.created_us : 0;
	cu_registry_copy_actor(row.created_by, actor);
	cu_date_format(row.due_us, day);
	snprintf(reason, sizeof(reason), "review %s of subcontractor %s due %s%s", row.id,
	         row.subcontractor, day, done ? ", done" : "");
	rc = cu_change_write(ctx, &(struct cu_change){actor, "subcontractor_review", NULL, NULL,
	                                              reason, write_review, &row});
	if (!rc && out)
		*out = row;
	return rc;
}

cu_result cu_subcontractor_review_update(cu_ctx *ctx, const cu_actor *actor, const char *sub,
                                         const char *id, const char *findings, int done,
                                         cu_review_row *out, cu_errors *errs)
{
	cu_review_row row;
	char reason[REVIEW_REASON_BYTES];
	cu_result rc;

	if (!ctx || !sub || !id || done < -1 || done > 1)
		return CU_ERR_INVALID_ARGUMENT;
	if (!cu_registry_officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	if (findings_bad(findings, errs))
		return CU_ERR_INVALID_FIELD;
	rc = cu_store_review_get(ctx->store, id, &row);
	if (!rc && strcmp(row.subcontractor, sub))
		rc = CU_ERR_NOT_FOUND;
	if (rc)
		return rc;
	if (findings)
		snprintf(row.findings, sizeof(row.findings), "%s", findings);
	if (done == 0)
		row.done_us = 0;
	else if (done == 1 && !row.done_us)
		row.done_us = cu_now_us();
	snprintf(reason, sizeof(reason), "review %s of subcontractor %s: %s", row.id,
	         row.subcontractor, row.done_us ? "done" : "not done");
	rc = cu_change_write(ctx, &(struct cu_change){actor, "subcontractor_review", NULL, NULL,
	                                              reason, write_review_update, &row});
	if (!rc && out)
		*out = row;
	return rc;
}

cu_result cu_subcontractor_reviews_overdue(cu_store *s, int64_t now_us, cu_store_review_fn fn,
                                           void *ud)
{
	/* A review is due through the whole of its day: overdue from the next one. */
	int64_t today = now_us - (((now_us % CU_DAY_US) + CU_DAY_US) % CU_DAY_US);

	return cu_store_review_overdue(s, today, fn, ud);
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_subcontractor_list(cu_store *s, cu_store_subcontractor_fn fn, void *ud)
{
	return cu_store_subcontractor_list(s, fn, ud);
}

cu_result cu_subcontractor_get(cu_store *s, const char *id, cu_subcontractor_row *out)
{
	return cu_store_subcontractor_get(s, id, out);
}

cu_result cu_review_list(cu_store *s, const char *subcontractor, cu_store_review_fn fn, void *ud)
{
	return cu_store_review_list(s, subcontractor, fn, ud);
}
