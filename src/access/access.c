/*
 * src/access/access.c — the single door.  Decide, audit, and only then open.
 */
#include "access/access.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vault/record.h"
#include "util/text.h"
#include "audit/audit.h"
#include "access/consent_state.h"
#include "access/contract.h"
#include "access/name_list.h"
#include "access/policy_version.h"

void cu_record_init(cu_record *r)
{
	memset(r, 0, sizeof(*r));
}

void cu_record_wipe(cu_record *r)
{
	if (r->block) {
		sodium_memzero(r->block, r->block_len);
		free(r->block);
	}
	memset(r, 0, sizeof(*r));
}

const char *cu_record_get(const cu_record *r, int field)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->v[i].field == field)
			return r->v[i].value;
	return NULL;
}

/* The audit entry's copy of a case reference holds a well-formed one whole. */
_Static_assert(sizeof(((cu_access_audit *)0)->case_ref) > CU_CASE_REF_MAX,
               "a case reference fits its audit copy");
_Static_assert(sizeof(CU_AUDIT_MALFORMED) <= sizeof(((cu_access_audit *)0)->purpose),
               "the marker fits every copy");

/* Whether the audit may name this purpose: "self" or one the policy knows. */
static bool known_purpose(const cu_policy *p, const char *purpose)
{
	return purpose && (!strcmp(purpose, "self") || cu_policy_purpose_find(p, purpose));
}

static void deny(cu_access_decision *d, cu_result rc, const char *why)
{
	d->rc = rc;
	d->allowed = 0;
	d->withheld = d->wanted;
	d->decision = "deny";
	for (int i = 0; i < CU_POLICY_FIELDS_MAX; i++)
		d->reason[i] = (d->wanted >> i) & 1 ? why : NULL;
}

/*
 * The rules of access.h, in order.  Fills d; on rules 1-5 no store access
 * happens.  `row` receives the member row when the member exists.
 */
/*
 * Rule 7: what the member agreed to.  Narrows *grant, or denies with
 * CU_ERR_CONSENT_REQUIRED (returned), or fails on the store.
 */
static cu_result consent_rule(const cu_policy *p, cu_store *store, const cu_policy_purpose *pp,
                              const cu_member_context *mc, cu_fieldset *grant, const char **why,
                              const char **basis)
{
	char version[CU_VERSION_MAX + 1];
	const cu_policy *accepted = NULL;
	const cu_policy_purpose *then;
	cu_result rc;

	*basis = "purpose";
	if (mc->consent_found && mc->consent_granted) {
		*basis = "consent";
		return CU_OK;
	}
	if (pp->consent_required) {
		*why = "a use outside the purposes of use needs the member's consent";
		return CU_ERR_CONSENT_REQUIRED;
	}
	rc = cu_versions_accepted_of(store, mc, version);
	if (rc == CU_ERR_NOT_FOUND || (!rc && !strcmp(version, p->version)))
		return CU_OK;
	if (!rc)
		rc = cu_versions_get(store, version, &accepted);
	if (rc)
		return rc;
	then = cu_policy_purpose_find(accepted, pp->id);
	if (!then) {
		*why = "the policy version the member accepted lacked this purpose";
		return CU_ERR_CONSENT_REQUIRED;
	}
	/* Promised "only with consent" then: a later version dropping the mark does not lift it. */
	if (then->consent_required) {
		*why = "a use outside the purposes of use needs the member's consent";
		return CU_ERR_CONSENT_REQUIRED;
	}
	/* Only what was promised then: the fields that version granted, by name. */
	for (size_t i = 0; i < p->nfields; i++) {
		int j = cu_policy_field_index(accepted, p->fields[i].name);

		if (j < 0 || !((then->fields >> j) & 1))
			*grant &= ~((cu_fieldset)1 << i);
	}
	return CU_OK;
}

/*
 * The rules of access.h, in order.  Fills d; on rules 1-5 no store access
 * happens but a subcontractor's contract.  `row` receives the member row
 * when the member exists.
 */
static void decide(const cu_policy *p, cu_store *store, const cu_access_request *req,
                   cu_access_decision *d, cu_member_row *row, bool *have_row)
{
	const cu_actor *a = req->actor;
	const cu_policy_purpose *pp = NULL;
	cu_fieldset all = cu_policy_all_fields(p), grant, before, scope;
	bool exception = req->exception && *req->exception;
	const char *why = NULL, *basis = "purpose";
	cu_subcontractor_row contract;
	cu_member_context mc;
	cu_result rc;

	memset(d, 0, sizeof(*d));
	d->wanted = req->fields ? (req->fields & all) : all;
	*have_row = false;

	if (!a || !req->member || !req->purpose) {
		deny(d, CU_ERR_INVALID_ARGUMENT, "incomplete request");
		return;
	}
	if (a->role == CU_ROLE_MEMBER) {
		if (!a->member || strcmp(a->member, req->member) != 0) {
			deny(d, CU_ERR_FORBIDDEN, "a member may read only their own record");
			return;
		}
		/* A member's own read has one purpose, and the audit says so. */
		if (strcmp(req->purpose, "self") != 0 || exception) {
			deny(d, CU_ERR_PURPOSE_UNKNOWN,
			     "a member reads their own record as 'self'");
			return;
		}
		grant = all;
		basis = "self";
	} else {
		/* Rule 1a: outside its contract's term, nothing (not even which purposes exist). */
		if (a->role == CU_ROLE_SUBCONTRACTOR) {
			rc = cu_subcontract_load(store, a, cu_now_us(), &contract, &why);
			if (rc) {
				deny(d, rc, why);
				return;
			}
		}
		pp = cu_policy_purpose_find(p, req->purpose);
		if (!pp) {
			deny(d, CU_ERR_PURPOSE_UNKNOWN, "unknown purpose");
			return;
		}
		if (exception) {
			if (a->role != CU_ROLE_OFFICER) {
				deny(d, CU_ERR_FORBIDDEN,
				     "only an officer may invoke a legal exception");
				return;
			}
			if (!cu_policy_exception_find(p, req->exception)) {
				deny(d, CU_ERR_INVALID_ARGUMENT, "unknown legal exception");
				return;
			}
			if (!cu_text_justification_ok(req->justification)) {
				deny(
				    d, CU_ERR_INVALID_ARGUMENT,
				    "a legal exception needs a written justification (20-2000 bytes)");
				return;
			}
			if (!(req->fields & all)) {
				deny(d, CU_ERR_INVALID_ARGUMENT,
				     "a legal exception names the fields it needs");
				return;
			}
		} else if (a->role != CU_ROLE_OPERATOR &&
		           !cu_policy_purpose_allows_role(pp, a->role)) {
			deny(d, CU_ERR_PURPOSE_NOT_ALLOWED, "role may not use this purpose");
			return;
		}
		if (a->role == CU_ROLE_SUBCONTRACTOR &&
		    !cu_name_list_has(contract.purposes_text, pp->id)) {
			deny(d, CU_ERR_PURPOSE_NOT_ALLOWED, "purpose outside the subcontract");
			return;
		}
		if (pp->aggregate_only) {
			deny(d, CU_ERR_AGGREGATE_ONLY, "purpose allows aggregates only");
			return;
		}
		/* Rule 5; a case given was checked by rule 0 (check_request). */
		if (pp->requires_case && (!req->case_ref || !*req->case_ref)) {
			deny(d, CU_ERR_CASE_REQUIRED, "purpose requires a case reference");
			return;
		}
		/* An exception opens exactly the fields the officer named, whatever the purpose grants. */
		grant = exception ? d->wanted : pp->fields;
	}

	/* The member, and for a purpose its consent and accepted version, in one lookup. */
	if (pp && !exception)
		rc = cu_store_member_context(
		    store, req->member, cu_consent_kind_name(CU_CONSENT_PURPOSE), pp->id, row, &mc);
	else
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
	before = grant;
	if (pp && exception) {
		basis = "exception";
	} else if (pp) {
		rc = consent_rule(p, store, pp, &mc, &grant, &why, &basis);
		if (rc) {
			deny(d, rc, rc == CU_ERR_CONSENT_REQUIRED ? why : "store failed");
			return;
		}
	}
	/* Rule 3a's fields: a subcontractor sees only what its contract names. */
	scope = all;
	if (a->role == CU_ROLE_SUBCONTRACTOR)
		scope = cu_name_list_fieldset(p, contract.fields_text);
	d->allowed = d->wanted & grant & scope;
	d->withheld = d->wanted & ~(grant & scope);
	for (int i = 0; i < CU_POLICY_FIELDS_MAX; i++) {
		if (!((d->withheld >> i) & 1))
			continue;
		if (((grant & ~scope) >> i) & 1)
			d->reason[i] = "outside the subcontract";
		else if ((before >> i) & 1)
			d->reason[i] = "not in the policy version the member accepted";
		else
			d->reason[i] = "not allowed for this purpose";
	}
	if (!d->allowed) {
		d->rc = CU_ERR_PURPOSE_NOT_ALLOWED;
		d->decision = "deny";
	} else {
		d->rc = CU_OK;
		d->decision = d->withheld ? "partial" : "allow";
		d->basis = basis;
	}
}

void cu_access_audit_fill(const cu_policy *p, const cu_access_request *req,
                          const cu_access_decision *d, cu_access_audit *out)
{
	const cu_actor *a = req->actor;
	char withheld[CU_FIELDSET_TEXT_MAX + 1];
	cu_audit_entry *e = &out->entry;

	memset(e, 0, sizeof(*e));
	cu_policy_fieldset_format(p, d->rc ? d->wanted : d->allowed, out->fields,
	                          sizeof(out->fields));
	if (d->rc) {
		const char *why = "denied";

		for (int i = 0; i < CU_POLICY_FIELDS_MAX; i++)
			if (d->reason[i]) {
				why = d->reason[i];
				break;
			}
		snprintf(out->reason, sizeof(out->reason), "%s: %s", cu_result_code(d->rc), why);
	} else if (d->withheld) {
		cu_policy_fieldset_format(p, d->withheld, withheld, sizeof(withheld));
		snprintf(out->reason, sizeof(out->reason), "by %s; withheld %s", d->basis,
		         withheld);
	} else {
		snprintf(out->reason, sizeof(out->reason), "by %s", d->basis);
	}
	/* Which contract a subcontractor acted under: the officer supervises by contract. */
	if (a && a->role == CU_ROLE_SUBCONTRACTOR && a->contract)
		snprintf(out->reason + strlen(out->reason),
		         sizeof(out->reason) - strlen(out->reason), "; contract %.40s",
		         a->contract);
	out->exception = false;
	if (!d->rc && d->basis && !strcmp(d->basis, "exception")) {
		/* The review this read opens: its id goes in the entry, its text is sealed. */
		out->exception = true;
		cu_vault_random_id(out->exception_id);
		snprintf(out->exception_kind, sizeof(out->exception_kind), "%s", req->exception);
		snprintf(out->justification, sizeof(out->justification), "%s", req->justification);
		snprintf(out->reason + strlen(out->reason),
		         sizeof(out->reason) - strlen(out->reason), "; exception %s, review %s",
		         out->exception_kind, out->exception_id);
	}
	/* The request's texts were bounded by check_request; these copies cannot truncate. */
	snprintf(out->actor, sizeof(out->actor), "%s", a && a->name ? a->name : "");
	snprintf(out->role, sizeof(out->role), "%s", a ? cu_role_name(a->role) : "");
	cu_access_audit_names(p, req->member, req->purpose, req->case_ref, out);
	e->actor = out->actor;
	e->role = out->role;
	e->action = "read";
	e->member = out->member;
	e->purpose = out->purpose;
	e->fields = out->fields;
	e->decision = d->decision ? d->decision : "deny";
	e->reason = out->reason;
	e->case_ref = out->case_ref;
}

void cu_access_audit_names(const cu_policy *p, const char *member, const char *purpose,
                           const char *case_ref, cu_access_audit *out)
{
	if (!member || !*member)
		out->member[0] = '\0';
	else
		snprintf(out->member, sizeof(out->member), "%s",
		         cu_vault_id_well_formed(member) ? member : CU_AUDIT_MALFORMED);
	if (!purpose || !*purpose)
		out->purpose[0] = '\0';
	else
		snprintf(out->purpose, sizeof(out->purpose), "%s",
		         known_purpose(p, purpose) ? purpose : CU_AUDIT_MALFORMED);
	if (!case_ref || !*case_ref)
		out->case_ref[0] = '\0';
	else
		snprintf(out->case_ref, sizeof(out->case_ref), "%s",
		         cu_case_ref_problem(case_ref) ? CU_AUDIT_MALFORMED : case_ref);
}

void cu_access_audit_wipe(cu_access_audit *au)
{
	sodium_memzero(au->justification, sizeof(au->justification));
}

cu_result cu_access_record(cu_ctx *ctx, cu_access_audit *au)
{
	cu_exception_row ex = {0};
	char context[CU_EXCEPTION_CONTEXT_BYTES];
	size_t n;
	cu_result rc;

	/* One statement: the savepoint would cost more than the insert's share of a read. */
	if (!au->exception && ctx->tx_depth > 0)
		return cu_audit_append(ctx->audit, ctx->store, &au->entry);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_audit_append(ctx->audit, ctx->store, &au->entry);
	if (!rc && au->exception) {
		n = strlen(au->justification);
		ex.justification = malloc(n + CU_VAULT_NOTE_OVERHEAD);
		if (!ex.justification) {
			rc = CU_ERR_NOMEM;
		} else {
			snprintf(context, sizeof(context), "exception:%s", au->exception_id);
			rc = cu_vault_seal_note(ctx->vault, context,
			                        (const unsigned char *)au->justification, n,
			                        ex.justification);
			ex.justification_len = n + CU_VAULT_NOTE_OVERHEAD;
		}
		if (!rc) {
			memcpy(ex.id, au->exception_id, sizeof(ex.id));
			/* A member that exists has an id of CU_ID_LEN at most. */
			memcpy(ex.member, au->member, strnlen(au->member, CU_ID_LEN));
			snprintf(ex.officer, sizeof(ex.officer), "%s", au->actor);
			memcpy(ex.exception, au->exception_kind, sizeof(ex.exception));
			snprintf(ex.purpose, sizeof(ex.purpose), "%s", au->purpose);
			/* The fields it opened, for the review (the entry names them too). */
			snprintf(ex.fields, sizeof(ex.fields), "%s", au->fields);
			ex.created_us = au->entry.time_us ? au->entry.time_us : cu_now_us();
			rc = cu_store_exception_insert(ctx->store, &ex);
		}
		free(ex.justification);
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

/* Writes the decision's audit entry and commits it (or joins the caller's transaction). */
static cu_result audit_decision(cu_ctx *ctx, const cu_access_request *req,
                                const cu_access_decision *d)
{
	cu_access_audit au;
	cu_result rc;

	cu_access_audit_fill(ctx->policy, req, d, &au);
	rc = cu_access_record(ctx, &au);
	cu_access_audit_wipe(&au);
	return rc;
}

static cu_result check_request(const cu_access_request *req)
{
	if (req->actor && req->actor->name && strlen(req->actor->name) > 127)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->purpose && strlen(req->purpose) > CU_POLICY_ID_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->member && strlen(req->member) > 64)
		return CU_ERR_INVALID_ARGUMENT;
	/* Rule 0: a case reference given is one a person can cite, whatever the purpose. */
	if (req->case_ref && *req->case_ref && cu_case_ref_problem(req->case_ref))
		return CU_ERR_CASE_INVALID;
	return CU_OK;
}

cu_result cu_access_decide(cu_ctx *ctx, const cu_access_request *req, cu_access_decision *d)
{
	cu_member_row row = {0};
	bool have_row;
	cu_result rc;

	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_prepare(ctx->policy, ctx->store, req, d, &row, &have_row) != d->rc)
		return CU_ERR_INTERNAL;
	if (have_row)
		cu_member_row_release(&row);
	rc = audit_decision(ctx, req, d);
	if (rc) {
		/* Fails closed: an unaudited decision is no decision. */
		d->rc = rc;
		d->decision = "deny";
		return rc;
	}
	return d->rc;
}

cu_result cu_access_prepare(const cu_policy *p, cu_store *reader, const cu_access_request *req,
                            cu_access_decision *d, cu_member_row *row, bool *have_row)
{
	bool snap;
	cu_result rc;

	memset(d, 0, sizeof(*d));
	*have_row = false;
	rc = check_request(req);
	if (rc) {
		/* Refused before the door, and audited (the bad texts as malformed) like any denial. */
		d->wanted =
		    req->fields ? (req->fields & cu_policy_all_fields(p)) : cu_policy_all_fields(p);
		deny(d, rc,
		     rc == CU_ERR_CASE_INVALID ? "case reference not well-formed"
		                               : "request value too long");
		return rc;
	}
	/*
	 * The lookups (a contract, the member with its consent and accepted
	 * version) grouped where that is cheaper (cu_store_lookups_begin): on
	 * SQLite one read transaction, so the reader's page cache, which a commit
	 * on another connection empties, is refilled once rather than at each
	 * lookup; on PostgreSQL none, whose BEGIN and end would be two more round
	 * trips.  Inside a caller's transaction (cu_access_decide in the writer)
	 * there is one already.  A snapshot that cannot begin leaves each lookup
	 * its own.
	 */
	(void)!cu_store_lookups_begin(reader, &snap);
	decide(p, reader, req, d, row, have_row);
	if (snap)
		cu_store_snapshot_end(reader);
	return d->rc;
}

cu_result cu_access_open(const cu_policy *p, const cu_vault *v, const cu_member_row *row,
                         cu_fieldset allowed, cu_record *out)
{
	cu_record_entry ents[CU_POLICY_FIELDS_MAX];
	char name[CU_POLICY_ID_MAX + 1];
	cu_fieldset opened = 0;
	cu_data_key dk;
	size_t n, cap = 0;
	cu_result rc;

	assert(out->n == 0 && !out->block);
	rc = cu_vault_unwrap(v, row->id, row->key_id, row->wrapped, &dk);
	if (rc)
		return rc;
	rc = cu_record_parse(row->fields, row->fields_len, ents, CU_POLICY_FIELDS_MAX, &n);
	for (size_t i = 0; !rc && i < n; i++) {
		int idx;
		char *buf;
		size_t len;

		if (ents[i].name_len > CU_POLICY_ID_MAX) {
			rc = CU_ERR_STORE;
			break;
		}
		memcpy(name, ents[i].name, ents[i].name_len);
		name[ents[i].name_len] = '\0';
		idx = cu_policy_field_index(p, name);
		/* Withheld fields are never opened; fields a newer policy dropped neither. */
		if (idx < 0 || !((allowed >> idx) & 1))
			continue;
		/* Two entries for one field: only tampering makes that. */
		if ((opened >> idx) & 1) {
			rc = CU_ERR_STORE;
			break;
		}
		if (ents[i].sealed_len < CU_VAULT_SEAL_OVERHEAD) {
			rc = CU_ERR_STORE;
			break;
		}
		/*
		 * One block for every value, taken at the first: the entries are
		 * disjoint pieces of the row's fields, so their plaintexts and a NUL
		 * each take at most fields_len + n bytes (checked all the same).
		 */
		if (!out->block) {
			cap = row->fields_len + n;
			out->block = malloc(cap);
			if (!out->block) {
				rc = CU_ERR_NOMEM;
				break;
			}
		}
		if (ents[i].sealed_len - CU_VAULT_SEAL_OVERHEAD + 1 > cap - out->block_len) {
			rc = CU_ERR_STORE;
			break;
		}
		buf = out->block + out->block_len;
		rc = cu_vault_open(&dk, row->id, name, ents[i].sealed, ents[i].sealed_len,
		                   (unsigned char *)buf, &len);
		/* What was written of it is wiped with the block, whatever happened. */
		out->block_len += ents[i].sealed_len - CU_VAULT_SEAL_OVERHEAD + 1;
		if (rc)
			break;
		out->v[out->n].field = idx;
		out->v[out->n].value = buf;
		out->v[out->n].len = len;
		out->n++;
		opened |= (cu_fieldset)1 << idx;
	}
	/*
	 * As many entries as the row says it holds values: an entry dropped or
	 * added by hand is refused.  (`present` counts; its positions follow the
	 * policy the row was written under, so they are not compared with this
	 * policy's.  A name altered in place -- names are framing, outside the
	 * seal -- reads as that field having no value: docs/keys.md.)
	 */
	if (!rc && n != (size_t)__builtin_popcountll((unsigned long long)row->present))
		rc = CU_ERR_STORE;
	cu_vault_data_key_wipe(&dk);
	if (rc)
		cu_record_wipe(out);
	return rc;
}

cu_result cu_access_read(cu_ctx *ctx, const cu_access_request *req, cu_access_decision *d,
                         cu_record *out)
{
	cu_member_row row = {0};
	bool have_row;
	cu_result rc;

	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_prepare(ctx->policy, ctx->store, req, d, &row, &have_row) != d->rc)
		return CU_ERR_INTERNAL;
	rc = audit_decision(ctx, req, d);
	if (rc) {
		/* Fails closed: an unaudited decision is no decision. */
		d->rc = rc;
		d->decision = "deny";
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
