/*
 * src/domain/third_parties.c — the registry of third parties and the records of
 * provisions to them: validated and audited here; provisions themselves
 * only through the door (access/provision.c).
 */
#include "domain/third_parties.h"

#include <stdio.h>
#include <string.h>

#include "domain/change.h"
#include "domain/registry_check.h"
#include "util/date.h"

#define REGISTER_REASON_BYTES 160 /* "third party <id> registered" */
#define PURGE_REASON_BYTES    120 /* "records of provisions made before <day> deleted" */

/* ---- third parties ------------------------------------------------------ */

static cu_result write_tp(cu_store *s, const void *arg)
{
	return cu_store_third_party_insert(s, arg);
}

cu_result cu_third_party_register(cu_ctx *ctx, const cu_actor *actor,
                                  const cu_third_party_input *in, cu_third_party_row *out,
                                  cu_errors *errs)
{
	cu_third_party_row row;
	char reason[REGISTER_REASON_BYTES];
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
	cu_registry_check_text(errs, "purpose", in->purpose, CU_REGISTRY_TEXT_MAX, true, &bad);
	why = cu_registry_join_names(in->fields, in->nfields, cu_registry_field_ok, ctx->policy,
	                             "unknown_field", row.fields_text, sizeof(row.fields_text));
	if (why) {
		cu_errors_add(errs, "fields", why);
		bad = true;
	}
	if (bad)
		return CU_ERR_INVALID_FIELD;
	memcpy(row.id, in->id, strlen(in->id) + 1);
	memcpy(row.name, in->name, strlen(in->name) + 1);
	memcpy(row.contact, in->contact, strlen(in->contact) + 1);
	memcpy(row.purpose, in->purpose, strlen(in->purpose) + 1);
	cu_registry_copy_actor(row.created_by, actor);
	row.created_us = cu_now_us();
	snprintf(reason, sizeof(reason), "third party %s registered", row.id);
	rc = cu_change_write(ctx, &(struct cu_change){actor, "third_party_register", NULL,
	                                              row.fields_text, reason, write_tp, &row});
	if (!rc && out)
		*out = row;
	return rc;
}

/* ---- provisions --------------------------------------------------------- */

struct purge {
	int64_t before, now;
	uint64_t *n;
};

static cu_result write_purge(cu_store *s, const void *arg)
{
	const struct purge *p = arg;

	return cu_store_provision_purge(s, p->before, p->now, p->n);
}

cu_result cu_provision_purge(cu_ctx *ctx, const cu_actor *actor, int64_t before_us, uint64_t *n)
{
	uint64_t count = 0;
	struct purge pg = {before_us, cu_now_us(), &count};
	char reason[PURGE_REASON_BYTES], day[CU_DATE_LEN + 1];
	cu_result rc;

	if (n)
		*n = 0;
	if (!ctx)
		return CU_ERR_INVALID_ARGUMENT;
	/* Deleting records of provision is a host operator's act, never an API's. */
	if (!actor || actor->role != CU_ROLE_OPERATOR)
		return CU_ERR_FORBIDDEN;
	if (before_us > pg.now - CU_PROVISION_KEEP_US)
		return CU_ERR_INVALID_ARGUMENT;
	cu_date_format(before_us, day);
	/* The count is known only after the delete; the reason names the cut-off. */
	snprintf(reason, sizeof(reason), "records of provisions made before %s deleted", day);
	rc = cu_change_write(ctx, &(struct cu_change){actor, "provision_purge", NULL, NULL, reason,
	                                              write_purge, &pg});
	if (!rc && n)
		*n = count;
	return rc;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_third_party_list(cu_store *s, cu_store_third_party_fn fn, void *ud)
{
	return cu_store_third_party_list(s, fn, ud);
}

cu_result cu_third_party_get(cu_store *s, const char *id, cu_third_party_row *out)
{
	return cu_store_third_party_get(s, id, out);
}

cu_result cu_provision_list(cu_store *s, const char *member, cu_store_provision_fn fn, void *ud)
{
	return cu_store_provision_list(s, member, fn, ud);
}
