/*
 * src/access/diary.c — the door, for diaries.  Part of the access module: a
 * diary entry is opened here and nowhere else, for its author or for a
 * case under a purpose the policy marks `diaries`.  Decide, audit, and only
 * then open (rules in access.h, "diaries").
 */
#include "access/access.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/consent_state.h"
#include "access/contract.h"
#include "access/name_list.h"
#include "store/diary.h"
#include "access/policy_version.h"

/* ---- lists ----------------------------------------------------------------- */

void cu_diary_list_init(cu_diary_list *l)
{
	memset(l, 0, sizeof(*l));
}

static void wipe_text(char *p, size_t len)
{
	if (p) {
		sodium_memzero(p, len);
		free(p);
	}
}

void cu_diary_list_wipe(cu_diary_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n && i < CU_DIARY_PAGE_MAX; i++) {
		wipe_text(l->v[i].title, l->v[i].title_len);
		wipe_text(l->v[i].body, l->v[i].body_len);
	}
	memset(l, 0, sizeof(*l));
}

static void deny(cu_diary_decision *d, cu_result rc, const char *why)
{
	d->rc = rc;
	d->decision = "deny";
	d->reason = why;
}

/* Texts the audit entry copies must fit it; the page must be one the list can hold. */
static cu_result check_request(const cu_diary_request *req)
{
	if (req->actor && req->actor->name && strlen(req->actor->name) > CU_ACTOR_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->purpose && strlen(req->purpose) > CU_POLICY_ID_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->member && strlen(req->member) > 64)
		return CU_ERR_INVALID_ARGUMENT;
	if (req->before && (!*req->before || strlen(req->before) > CU_ID_LEN))
		return CU_ERR_INVALID_ARGUMENT;
	if (req->limit > CU_DIARY_PAGE_MAX)
		return CU_ERR_INVALID_ARGUMENT;
	return CU_OK;
}

/*
 * Rule 7, as the door's field reads apply it (access.c): what the member
 * agreed to.  Their consent to the purpose allows; without it, a use
 * outside the purposes of use is refused, and so is one the policy version
 * they accepted did not let read diaries.  *why names the basis.
 */
static void check_promise(const cu_policy *p, cu_store *store, const cu_policy_purpose *pp,
                          const cu_member_row *row, cu_diary_decision *d, const char **why)
{
	char version[CU_VERSION_MAX + 1];
	const cu_policy *accepted = NULL;
	const cu_policy_purpose *then;
	bool consented = false;
	cu_result rc;

	rc = cu_consent_granted(store, p, row->id, CU_CONSENT_PURPOSE, pp->id, &consented);
	if (rc) {
		deny(d, rc, "store failed");
		return;
	}
	if (consented) {
		*why = "allowed by the member's consent, with a case";
		return;
	}
	if (pp->consent_required) {
		deny(d, CU_ERR_CONSENT_REQUIRED,
		     "a use outside the purposes of use needs the member's consent");
		return;
	}
	rc = cu_versions_accepted(store, row->id, row->created_us, version);
	if (rc == CU_ERR_NOT_FOUND || (!rc && !strcmp(version, p->version)))
		return;
	if (!rc)
		rc = cu_versions_get(store, version, &accepted);
	if (rc) {
		deny(d, rc, "store failed");
		return;
	}
	then = cu_policy_purpose_find(accepted, pp->id);
	if (!then || !then->diaries)
		deny(
		    d, CU_ERR_CONSENT_REQUIRED,
		    "the policy version the member accepted did not let this purpose read diaries");
}

/* The rules of access.h's diary section, in order; fills d. */
static void decide(const cu_policy *p, cu_store *store, const cu_diary_request *req,
                   cu_diary_decision *d, cu_member_row *row, bool *have_row)
{
	const cu_actor *a = req->actor;
	const cu_policy_purpose *pp = NULL;
	const char *why;
	cu_result rc;

	if (!a || !req->member || !req->purpose) {
		deny(d, CU_ERR_INVALID_ARGUMENT, "incomplete request");
		return;
	}
	if (a->role == CU_ROLE_MEMBER) {
		if (!a->member || strcmp(a->member, req->member) != 0) {
			deny(d, CU_ERR_FORBIDDEN, "a member may read only their own diary");
			return;
		}
		if (strcmp(req->purpose, "self") != 0) {
			deny(d, CU_ERR_PURPOSE_UNKNOWN, "a member reads their own diary as 'self'");
			return;
		}
		why = "the author's own diary";
	} else {
		cu_subcontractor_row contract;

		/* As for field reads (access.h rules 1a, 3a): a subcontractor within its contract. */
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
		if (a->role != CU_ROLE_OPERATOR && !cu_policy_purpose_allows_role(pp, a->role)) {
			deny(d, CU_ERR_PURPOSE_NOT_ALLOWED, "role may not use this purpose");
			return;
		}
		if (a->role == CU_ROLE_SUBCONTRACTOR &&
		    !cu_name_list_has(contract.purposes_text, pp->id)) {
			deny(d, CU_ERR_PURPOSE_NOT_ALLOWED, "purpose outside the subcontract");
			return;
		}
		if (!pp->diaries) {
			deny(d, CU_ERR_PURPOSE_NOT_ALLOWED, "purpose does not allow diaries");
			return;
		}
		/* Whatever the policy file says of the purpose: no case reference, no diary. */
		if (!req->case_ref || !*req->case_ref) {
			deny(d, CU_ERR_CASE_REQUIRED,
			     "diaries are read only with a case reference");
			return;
		}
		why = "allowed by purpose, with a case";
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
	if (pp) {
		check_promise(p, store, pp, row, d, &why);
		if (d->rc)
			return;
	}
	d->rc = CU_OK;
	d->decision = "allow";
	d->reason = why;
}

cu_result cu_access_diaries_prepare(const cu_policy *p, cu_store *reader,
                                    const cu_diary_request *req, cu_diary_decision *d,
                                    cu_member_row *row, bool *have_row)
{
	cu_result rc;

	memset(d, 0, sizeof(*d));
	*have_row = false;
	if (!p || !reader || !req) {
		deny(d, CU_ERR_INVALID_ARGUMENT, "incomplete request");
		return d->rc;
	}
	rc = check_request(req);
	/* Rule 0, as for field reads: a case given is one a person can cite, whoever reads. */
	if (!rc && req->case_ref && *req->case_ref && cu_case_ref_problem(req->case_ref))
		rc = CU_ERR_CASE_INVALID;
	if (rc) {
		/* Refused before the door, and audited (the bad texts as malformed) like any denial. */
		deny(d, rc,
		     rc == CU_ERR_CASE_INVALID ? "case reference not well-formed"
		                               : "request value out of range");
		return rc;
	}
	decide(p, reader, req, d, row, have_row);
	return d->rc;
}

void cu_access_diaries_audit_fill(const cu_policy *p, const cu_diary_request *req,
                                  const cu_diary_decision *d, cu_access_audit *out)
{
	const cu_actor *a = req->actor;
	const char *why = d->reason ? d->reason : "denied";
	cu_audit_entry *e = &out->entry;

	memset(e, 0, sizeof(*e));
	snprintf(out->fields, sizeof(out->fields), "diaries");
	if (d->rc)
		snprintf(out->reason, sizeof(out->reason), "%s: %s", cu_result_code(d->rc), why);
	else
		snprintf(out->reason, sizeof(out->reason), "%s", why);
	/* An over-long text was refused by check_request; its copy here is only truncated. */
	snprintf(out->actor, sizeof(out->actor), "%s", a && a->name ? a->name : "");
	snprintf(out->role, sizeof(out->role), "%s", a ? cu_role_name(a->role) : "");
	cu_access_audit_names(p, req->member, req->purpose, req->case_ref, out);
	e->actor = out->actor;
	e->role = out->role;
	e->action = "read_diaries";
	e->member = out->member;
	e->purpose = out->purpose;
	e->fields = out->fields;
	e->decision = d->decision ? d->decision : "deny";
	e->reason = out->reason;
	e->case_ref = out->case_ref;
}

/* ---- opening --------------------------------------------------------------- */

struct opening {
	const cu_data_key *dk;
	const char *member;
	size_t limit;
	cu_diary_list *out;
	cu_result rc;
};

/* Opens one sealed part of an entry into *text (malloc'd, NUL-terminated). */
static cu_result open_part(const struct opening *o, const char *id, const char *part,
                           const unsigned char *sealed, size_t sealed_len, char **text, size_t *len)
{
	char name[CU_DIARY_PART_NAME_BYTES];
	cu_result rc;

	*text = NULL;
	*len = 0;
	if (sealed_len < CU_VAULT_SEAL_OVERHEAD)
		return CU_ERR_STORE;
	snprintf(name, sizeof(name), "diary-%s.%s", part, id);
	*text = malloc(sealed_len - CU_VAULT_SEAL_OVERHEAD + 1);
	if (!*text)
		return CU_ERR_NOMEM;
	rc = cu_vault_open(o->dk, o->member, name, sealed, sealed_len, (unsigned char *)*text, len);
	if (rc) {
		free(*text);
		*text = NULL;
	}
	return rc;
}

static int open_entry(void *ud, const cu_diary_row *row)
{
	struct opening *o = ud;
	cu_diary_entry *e;

	/* One row past the page says that more follow; it is not opened. */
	if (o->out->n >= o->limit) {
		o->out->more = true;
		return 1;
	}
	e = &o->out->v[o->out->n];
	memset(e, 0, sizeof(*e));
	memcpy(e->id, row->id, sizeof(e->id));
	e->created_us = row->created_us;
	e->updated_us = row->updated_us;
	o->rc =
	    open_part(o, row->id, "title", row->title, row->title_len, &e->title, &e->title_len);
	if (!o->rc)
		o->rc =
		    open_part(o, row->id, "body", row->body, row->body_len, &e->body, &e->body_len);
	/*
	 * A part that does not authenticate (or is too short to) is damage to
	 * this entry alone: it is marked, nothing of it is shown, the page goes on.
	 */
	if (o->rc == CU_ERR_CRYPTO || o->rc == CU_ERR_STORE) {
		if (e->title) {
			sodium_memzero(e->title, e->title_len);
			free(e->title);
		}
		e->title = NULL;
		e->title_len = 0;
		e->unreadable = true;
		o->rc = CU_OK;
	}
	/* Counted either way, so the list's wipe frees what was opened. */
	o->out->n++;
	return o->rc != CU_OK;
}

cu_result cu_access_diaries_open(const cu_vault *v, cu_store *reader, const cu_member_row *row,
                                 const cu_diary_request *req, cu_diary_list *out)
{
	struct opening o = {NULL, NULL, 0, out, CU_OK};
	cu_data_key dk;
	cu_result rc;

	if (!v || !reader || !row || !req || !out)
		return CU_ERR_INVALID_ARGUMENT;
	o.limit = req->limit ? req->limit : CU_DIARY_PAGE_DEFAULT;
	if (o.limit > CU_DIARY_PAGE_MAX || row->erased)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_vault_unwrap(v, row->id, row->key_id, row->wrapped, &dk);
	if (rc)
		return rc;
	o.dk = &dk;
	o.member = row->id;
	rc = cu_store_diary_list(reader, row->id, req->before, o.limit + 1, open_entry, &o);
	if (!rc)
		rc = o.rc;
	cu_vault_data_key_wipe(&dk);
	if (rc)
		cu_diary_list_wipe(out);
	return rc;
}

/* ---- in one call ----------------------------------------------------------- */

/* Writes the decision's audit entry and commits it (or joins the caller's transaction). */
static cu_result audit_decision(cu_ctx *ctx, const cu_diary_request *req,
                                const cu_diary_decision *d)
{
	cu_access_audit au;
	cu_result rc;

	cu_access_diaries_audit_fill(ctx->policy, req, d, &au);
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_audit_append(ctx->audit, ctx->store, &au.entry);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

cu_result cu_access_read_diaries(cu_ctx *ctx, const cu_diary_request *req, cu_diary_decision *d,
                                 cu_diary_list *out)
{
	cu_member_row row = {0};
	bool have_row;
	cu_result rc;

	if (!ctx || !req || !d || !out)
		return CU_ERR_INVALID_ARGUMENT;
	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_diaries_prepare(ctx->policy, ctx->store, req, d, &row, &have_row) != d->rc)
		return CU_ERR_INTERNAL;
	rc = audit_decision(ctx, req, d);
	if (rc) {
		/* Fails closed: an unaudited decision is no decision. */
		deny(d, rc, "the decision could not be audited");
		goto out;
	}
	rc = d->rc;
	if (!rc)
		rc = cu_access_diaries_open(ctx->vault, ctx->store, &row, req, out);
out:
	if (have_row)
		cu_member_row_release(&row);
	return rc;
}
