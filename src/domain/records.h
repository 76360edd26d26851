/*
 * src/domain/records.h — the record of processing: what Custodian holds, why,
 * for whom, where it goes and how it is kept, generated from the policy in
 * force and the registries (docs/records.md).
 *
 * The record is built as one JSON document; the Markdown form is written from
 * that document, so the two always agree.  It holds no personal value and no
 * member id: only the policy's names and texts, the registries' rows
 * (third parties and subcontractors, with their contacts) and fixed
 * statements of the safety measures this code applies.
 *
 * Sections of the document (each key always present):
 *   "policy"          version, title, digest (hex BLAKE2b-256 of the file)
 *   "purposes"        in policy order: id, number, text, roles that may use
 *                     it, fields it grants, its flags, retention
 *   "fields"          in policy order: name, label, kind, category
 *                     ("identifier", "survey", "other"), required, retention
 *   "other_data"      what else is kept per member besides fields (diaries,
 *                     request and complaint texts, consents, provisions)
 *   "roles"           every role and the purposes it may use
 *   "exceptions"      the statutory exceptions to consent
 *   "third_parties"   by id: name, contact, purpose of provision, fields,
 *                     registered (YYYY-MM-DD)
 *   "subcontractors"  by id: name, contact, purposes, fields, measures,
 *                     start and end (YYYY-MM-DD, the last day in force)
 *   "retention"       per purpose and per field (as above) and the rules the
 *                     code applies whatever the policy says
 *   "safety_measures" id, measure, detail: only what the code does
 *
 * The output is deterministic: the same data directory gives the same bytes
 * (no time of generation; order is the policy's, then the registries' ids).
 */
#ifndef CU_DOMAIN_RECORDS_H
#define CU_DOMAIN_RECORDS_H

#include <jansson.h>
#include <stddef.h>

#include "ctx/ctx.h"
#include "util/result.h"

/* What the record says of a retention period the policy does not set. */
#define CU_RECORDS_NOT_SET "not set"

/*
 * The retention period the policy in force gives `kind` ("purpose" or
 * "field") `name`, as the record shows it: a new JSON string, "not set"
 * while the policy file has no retention periods.  The one lookup the
 * record makes for retention.
 */
json_t *cu_records_retention(const cu_policy *p, const char *kind, const char *name);

/*
 * Builds the record from ctx's policy and the registries in ctx's store.
 * Reads only (no audit entry: the record holds no member's data).  On
 * success *out is a new document the caller frees (json_decref).
 */
CU_WARN_UNUSED cu_result cu_records_build(cu_ctx *ctx, json_t **out);

/*
 * The Markdown form of a document cu_records_build made, into *out
 * (NUL-terminated, *len bytes; the caller frees).  CU_ERR_INVALID_ARGUMENT
 * for anything else; CU_ERR_NOMEM.
 */
CU_WARN_UNUSED cu_result cu_records_markdown(const json_t *rec, char **out, size_t *len);

#endif
