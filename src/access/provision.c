/*
 * src/access/provision.c — the door, for provisions to third parties.  Part of
 * the access module: the fields handed to a third party are opened here,
 * only with the member's consent to that third party or under a legal
 * exception an officer invokes, and only after the decision and the record
 * of the provision are committed (rules in access.h, "provisions").
 */
#include "access/access.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "audit/audit.h"
#include "access/consent_state.h"
#include "access/name_list.h"
#include "util/text.h"

static void deny(cu_access_decision *d, cu_result rc, const char *why)
{
	d->rc = rc;
	d->allowed = 0;
	d->withheld = d->wanted;
	d->decision = "deny";
	d->basis = NULL;
	/* A provision with no field named is still one refusal with one reason. */
	if (!d->wanted)
		d->reason[0] = why;
	for (int i = 0; i < CU_POLICY_FIELDS_MAX; i++)
		if ((d->wanted >> i) & 1)
			d->reason[i] = why;
}

/* The same form as consent.c's targets: what a member consented to by name. */
static bool id_form(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && n <= CU_REGISTRY_ID_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* The rules of access.h's provision section, in order; fills d. */
static void decide(const cu_policy *p, cu_store *store, const cu_provision_request *req,
                   cu_access_decision *d, cu_member_row *row, bool *have_row)
{
	const cu_actor *a = req->actor;
	bool exception = req->exception && *req->exception;
	cu_third_party_row tp;
	cu_fieldset registered;
	bool consented = false;
	cu_result rc;

	if (!a || !req->member || !req->third_party) {
		deny(d, CU_ERR_INVALID_ARGUMENT, "incomplete request");
		return;
	}
	/* Looked up first, so the audit names a registered third party whatever is refused. */
	rc = id_form(req->third_party) ? cu_store_third_party_get(store, req->third_party, &tp)
	                               : CU_ERR_INVALID_ARGUMENT;
	d->registered = rc == CU_OK;
	if (a->role != CU_ROLE_OFFICER && a->role != CU_ROLE_SERVICE &&
	    a->role != CU_ROLE_OPERATOR) {
		deny(d, CU_ERR_FORBIDDEN, "only an officer or a service provides to third parties");
		return;
	}
	if (!id_form(req->third_party)) {
		deny(d, CU_ERR_INVALID_ARGUMENT, "not a third party id");
		return;
	}
	if (rc) {
		deny(d, rc, rc == CU_ERR_NOT_FOUND ? "no such third party" : "store failed");
		return;
	}
	registered = cu_name_list_fieldset(p, tp.fields_text);
	if (!d->wanted || (d->wanted & ~registered)) {
		deny(d, CU_ERR_PURPOSE_NOT_ALLOWED,
		     d->wanted ? "outside the third party's registered fields" : "no field named");
		return;
	}
	if (exception) {
		if (a->role != CU_ROLE_OFFICER) {
			deny(d, CU_ERR_FORBIDDEN, "only an officer may invoke a legal exception");
			return;
		}
		if (!cu_policy_exception_find(p, req->exception)) {
			deny(d, CU_ERR_INVALID_ARGUMENT, "unknown legal exception");
			return;
		}
		if (!cu_text_justification_ok(req->justification)) {
			deny(d, CU_ERR_INVALID_ARGUMENT,
			     "a legal exception needs a written justification (20-2000 bytes)");
			return;
		}
	}
	rc = cu_store_member_get(store, req->member, row);
	if (rc) {
		deny(d, rc, rc == CU_ERR_NOT_FOUND ? "no such member" : "store failed");
		return;
	}
	*have_row = true;
	if (row->erased) {
		deny(d, CU_ERR_ERASED, "member erased");
		return;
	}
	if (!exception) {
		rc = cu_consent_granted(store, p, row->id, CU_CONSENT_THIRD_PARTY, tp.id,
		                        &consented);
		if (rc) {
			deny(d, rc, "store failed");
			return;
		}
		if (!consented) {
			deny(d, CU_ERR_CONSENT_REQUIRED,
			     "provision to a third party needs the member's consent");
			return;
		}
	}
	d->rc = CU_OK;
	d->allowed = d->wanted;
	d->withheld = 0;
	d->decision = "allow";
	d->basis = exception ? "exception" : "consent";
}

/* Texts the audit entry copies must fit it (cu_access_audit). */
static cu_result check_request(const cu_provision_request *req)
{
	if (req->actor && req->actor->name && strlen(req->actor->name) > 127)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->member && strlen(req->member) > 64)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->third_party && strlen(req->third_party) > CU_REGISTRY_ID_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->exception && strlen(req->exception) > CU_POLICY_ID_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

cu_result cu_access_provide_prepare(const cu_policy *p, cu_store *reader,
                                    const cu_provision_request *req, cu_access_decision *d,
                                    cu_member_row *row, bool *have_row)
{
	cu_result rc;

	memset(d, 0, sizeof(*d));
	*have_row = false;
	/* Unlike a read, no field is not "every field": a provision names what it hands over. */
	d->wanted = req->fields & cu_policy_all_fields(p);
	if (req->fields & ~cu_policy_all_fields(p))
		d->wanted = 0;
	rc = check_request(req);
	if (rc) {
		deny(d, rc, "request value too long");
		return rc;
	}
	decide(p, reader, req, d, row, have_row);
	return d->rc;
}

void cu_access_provide_audit_fill(const cu_policy *p, const cu_provision_request *req,
                                  const cu_access_decision *d, cu_access_audit *au,
                                  cu_provision_row *prov)
{
	char purpose[CU_PURPOSE_TEXT_BYTES];
	cu_access_request as_read = {0};
	size_t n;

	/* The third party names the use; one not in the registry is not repeated (access.h). */
	snprintf(purpose, sizeof(purpose), "provision:%s",
	         d->registered ? req->third_party : CU_AUDIT_MALFORMED);
	as_read.actor = req->actor;
	as_read.member = req->member;
	as_read.fields = d->wanted;
	as_read.exception = req->exception;
	as_read.justification = req->justification;
	/* The fill copies every text: nothing points into this frame afterwards. */
	cu_access_audit_fill(p, &as_read, d, au);
	snprintf(au->purpose, sizeof(au->purpose), "%s", purpose);
	au->entry.action = "provide";

	memset(prov, 0, sizeof(*prov));
	if (d->rc)
		return;
	cu_vault_random_id(prov->id);
	snprintf(prov->third_party, sizeof(prov->third_party), "%s", req->third_party);
	snprintf(prov->member, sizeof(prov->member), "%s", req->member);
	for (size_t i = 0; i < p->nfields && prov->nfields < CU_POLICY_FIELDS_MAX; i++)
		if ((d->allowed >> i) & 1)
			snprintf(prov->fields[prov->nfields++], sizeof(prov->fields[0]), "%s",
			         p->fields[i].name);
	snprintf(prov->basis, sizeof(prov->basis), "%s", d->basis);
	if (au->exception) {
		snprintf(prov->exception, sizeof(prov->exception), "%s", au->exception_kind);
		snprintf(prov->exception_record, sizeof(prov->exception_record), "%s",
		         au->exception_id);
	}
	snprintf(prov->actor, sizeof(prov->actor), "%s", au->actor);
	snprintf(prov->role, sizeof(prov->role), "%s", au->role);
	prov->time_us = cu_now_us();
	n = strlen(au->reason);
	snprintf(au->reason + n, sizeof(au->reason) - n, "; provision %s", prov->id);
}

cu_result cu_access_provide_record(cu_ctx *ctx, cu_access_audit *au, const cu_provision_row *prov)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	/* The decision, its review if any, and the record of what was handed over: all or none. */
	rc = cu_access_record(ctx, au);
	if (!rc && prov && prov->id[0])
		rc = cu_store_provision_insert(ctx->store, prov);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_access_provide(cu_ctx *ctx, const cu_provision_request *req, cu_access_decision *d,
                            cu_record *out, cu_provision_row *prov)
{
	cu_provision_row local;
	cu_member_row row = {0};
	cu_access_audit au;
	bool have_row = false;
	cu_result rc;

	if (!prov)
		prov = &local;
	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_provide_prepare(ctx->policy, ctx->store, req, d, &row, &have_row) != d->rc) {
		rc = CU_ERR_INTERNAL;
		goto out;
	}
	cu_access_provide_audit_fill(ctx->policy, req, d, &au, prov);
	rc = cu_access_provide_record(ctx, &au, prov);
	cu_access_audit_wipe(&au);
	if (rc) {
		/* Fails closed: an unaudited, unrecorded provision is no provision. */
		d->rc = rc;
		d->decision = "deny";
		memset(prov, 0, sizeof(*prov));
		goto out;
	}
	rc = d->rc;
	if (!rc)
		rc = cu_access_open(ctx->policy, ctx->vault, &row, d->allowed, out);
out:
	if (have_row)
		cu_member_row_release(&row);
	return rc;
}
