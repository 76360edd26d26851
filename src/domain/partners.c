/*
 * partners.c — third parties, subcontractors and their supervision, and
 * members' own shares: registries validated and audited here, reads only
 * through the door (access.c, access_provision.c).
 */
#include "domain/partners.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/diaries.h"
#include "vault/secret.h"
#include "util/text.h"

/* ---- helpers ------------------------------------------------------------ */

static int leap_year(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (int64_t)era * 146097 + doe - 719468;
}

cu_result cu_partner_date_parse(const char *s, int64_t *out_us)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	long y, m, d;

	if (!s || !out_us || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return CU_ERR_INVALID_ARGUMENT;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return CU_ERR_INVALID_ARGUMENT;
	y = strtol(s, NULL, 10);
	m = strtol(s + 5, NULL, 10);
	d = strtol(s + 8, NULL, 10);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1] + (m == 2 && leap_year(y)))
		return CU_ERR_INVALID_ARGUMENT;
	*out_us = days_from_civil(y, m, d) * CU_DAY_US;
	return CU_OK;
}

void cu_partner_date_format(int64_t us, char out[11])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) != 10)
		snprintf(out, 11, "0000-00-00");
}

bool cu_partner_list_has(const char *list, const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (!list || n == 0)
		return false;
	while (*list) {
		size_t k = strcspn(list, ",");

		if (k == n && !memcmp(list, name, n))
			return true;
		list += k;
		if (*list == ',')
			list++;
	}
	return false;
}

cu_fieldset cu_partner_fieldset(const cu_policy *p, const char *list)
{
	char name[CU_POLICY_ID_MAX + 1];
	cu_fieldset set = 0;

	while (list && *list) {
		size_t k = strcspn(list, ",");
		int idx;

		if (k > 0 && k <= CU_POLICY_ID_MAX) {
			memcpy(name, list, k);
			name[k] = '\0';
			idx = cu_policy_field_index(p, name);
			if (idx >= 0)
				set |= (cu_fieldset)1 << idx;
		}
		list += k;
		if (*list == ',')
			list++;
	}
	return set;
}

bool cu_subcontract_in_force(const cu_subcontractor_row *c, int64_t now_us)
{
	return c->start_us <= now_us && now_us < c->end_us;
}

cu_result cu_subcontract_load(cu_store *s, const cu_actor *a, int64_t now_us,
			      cu_subcontractor_row *out, const char **why)
{
	cu_result rc;

	if (!a || !a->contract || !*a->contract) {
		*why = "a subcontractor acts only under a contract";
		return CU_ERR_FORBIDDEN;
	}
	rc = cu_store_subcontractor_get(s, a->contract, out);
	if (rc == CU_ERR_NOT_FOUND) {
		*why = "no such contract";
		return CU_ERR_FORBIDDEN;
	}
	if (rc) {
		*why = "store failed";
		return rc;
	}
	if (!cu_subcontract_in_force(out, now_us)) {
		*why = "contract not in force";
		return CU_ERR_FORBIDDEN;
	}
	return CU_OK;
}

/* A registry id: lower-case letters, digits, '_' and '-', 1..40 long (as consent.c's). */
static bool id_form(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > CU_PARTNER_ID_MAX)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

static void check_text(cu_errors *errs, const char *field, const char *s, size_t max,
		       bool multiline, bool *bad)
{
	const char *why = cu_text_free_problem(s, max, multiline);

	if (why) {
		cu_errors_add(errs, field, why);
		*bad = true;
	}
}

/*
 * Joins names into buf, each passing ok(p, name); "required" for none,
 * "unknown_..." / "duplicate" as they come.  Returns the reason or NULL.
 */
static const char *join_names(const char *const *names, size_t n, bool (*ok)(const cu_policy *,
									       const char *),
			      const cu_policy *p, const char *unknown, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	if (!names || n == 0)
		return "required";
	for (size_t i = 0; i < n; i++) {
		int w;

		if (!names[i] || !ok(p, names[i]))
			return unknown;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(names[i], names[j]))
				return "duplicate";
		w = snprintf(buf + o, len - o, "%s%s", i ? "," : "", names[i]);
		if (w < 0 || (size_t)w >= len - o)
			return "too_long";
		o += (size_t)w;
	}
	return NULL;
}

static bool field_ok(const cu_policy *p, const char *name)
{
	return cu_policy_field_index(p, name) >= 0;
}

static bool purpose_ok(const cu_policy *p, const char *name)
{
	return cu_policy_purpose_find(p, name) != NULL;
}

/* Registries and their reviews are the privacy officer's (or the operator's on the host). */
static bool officer_or_operator(const cu_actor *a)
{
	return a && (a->role == CU_ROLE_OFFICER || a->role == CU_ROLE_OPERATOR);
}

static bool is_member(const cu_actor *a)
{
	return a && a->role == CU_ROLE_MEMBER && a->member && *a->member &&
	       strlen(a->member) <= CU_ID_LEN;
}

static void copy_actor(char dst[CU_PARTNER_ACTOR_MAX + 1], const cu_actor *a)
{
	snprintf(dst, CU_PARTNER_ACTOR_MAX + 1, "%s", a->name ? a->name : "");
}

/* Writes a change and its audit entry in one transaction level, or neither. */
struct change {
	const cu_actor *actor;
	const char *action, *member, *fields, *reason;
	cu_result (*write)(cu_store *s, const void *arg);
	const void *arg;
};

static cu_result audited(cu_ctx *ctx, const struct change *c)
{
	cu_audit_entry e = {0};
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = c->write(ctx->store, c->arg);
	if (!rc) {
		e.actor = c->actor->name ? c->actor->name : "";
		e.role = cu_role_name(c->actor->role);
		e.action = c->action;
		e.member = c->member ? c->member : "";
		e.fields = c->fields ? c->fields : "";
		e.decision = "done";
		e.reason = c->reason;
		rc = cu_audit_append(ctx->audit, ctx->store, &e);
	}
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

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
	char reason[160];
	const char *why;
	bool bad = false;
	cu_result rc;

	if (!ctx || !in)
		return CU_ERR_INVALID_ARGUMENT;
	if (!officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	memset(&row, 0, sizeof(row));
	if (!id_form(in->id)) {
		cu_errors_add(errs, "id", in->id && *in->id ? "malformed" : "required");
		bad = true;
	}
	check_text(errs, "name", in->name, CU_PARTNER_NAME_MAX, false, &bad);
	check_text(errs, "contact", in->contact, CU_PARTNER_CONTACT_MAX, true, &bad);
	check_text(errs, "purpose", in->purpose, CU_PARTNER_TEXT_MAX, true, &bad);
	why = join_names(in->fields, in->nfields, field_ok, ctx->policy, "unknown_field",
			 row.fields_text, sizeof(row.fields_text));
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
	copy_actor(row.created_by, actor);
	row.created_us = cu_now_us();
	snprintf(reason, sizeof(reason), "third party %s registered", row.id);
	rc = audited(ctx, &(struct change){actor, "third_party_register", NULL, row.fields_text,
					   reason, write_tp, &row});
	if (!rc && out)
		*out = row;
	return rc;
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
	if (n > CU_PARTNER_MEASURES_N)
		return "too_many";
	for (size_t i = 0; i < n; i++) {
		const char *why = cu_text_free_problem(m[i], CU_PARTNER_MEASURE_MAX, false);
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
	char reason[200], start[11], end[11];
	int64_t end_day = 0;
	const char *why;
	bool bad = false;
	cu_result rc;

	if (!ctx || !in)
		return CU_ERR_INVALID_ARGUMENT;
	if (!officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	memset(&row, 0, sizeof(row));
	if (!id_form(in->id)) {
		cu_errors_add(errs, "id", in->id && *in->id ? "malformed" : "required");
		bad = true;
	}
	check_text(errs, "name", in->name, CU_PARTNER_NAME_MAX, false, &bad);
	check_text(errs, "contact", in->contact, CU_PARTNER_CONTACT_MAX, true, &bad);
	why = join_names(in->fields, in->nfields, field_ok, ctx->policy, "unknown_field",
			 row.fields_text, sizeof(row.fields_text));
	if (why) {
		cu_errors_add(errs, "fields", why);
		bad = true;
	}
	why = join_names(in->purposes, in->npurposes, purpose_ok, ctx->policy, "unknown_purpose",
			 row.purposes_text, sizeof(row.purposes_text));
	if (why) {
		cu_errors_add(errs, "purposes", why);
		bad = true;
	}
	why = join_measures(in->measures, in->nmeasures, row.measures, sizeof(row.measures));
	if (why) {
		cu_errors_add(errs, "measures", why);
		bad = true;
	}
	if (cu_partner_date_parse(in->start, &row.start_us)) {
		cu_errors_add(errs, "start", in->start ? "malformed" : "required");
		bad = true;
	}
	if (cu_partner_date_parse(in->end, &end_day)) {
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
	copy_actor(row.created_by, actor);
	row.created_us = cu_now_us();
	cu_partner_date_format(row.start_us, start);
	cu_partner_date_format(end_day, end);
	snprintf(reason, sizeof(reason), "subcontractor %s registered: purposes %.80s, %s..%s",
		 row.id, row.purposes_text, start, end);
	rc = audited(ctx, &(struct change){actor, "subcontractor_register", NULL, row.fields_text,
					   reason, write_sub, &row});
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
	why = strlen(findings) > CU_PARTNER_TEXT_MAX
		      ? "too_long"
		      : cu_diary_text_problem(findings, strlen(findings), true);
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
	char reason[160], day[11];
	bool bad = false;
	cu_result rc;

	if (!ctx || !sub)
		return CU_ERR_INVALID_ARGUMENT;
	if (!officer_or_operator(actor))
		return CU_ERR_FORBIDDEN;
	memset(&row, 0, sizeof(row));
	if (cu_partner_date_parse(due, &row.due_us)) {
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
	copy_actor(row.created_by, actor);
	cu_partner_date_format(row.due_us, day);
	snprintf(reason, sizeof(reason), "review %s of subcontractor %s due %s%s", row.id,
		 row.subcontractor, day, done ? ", done" : "");
	rc = audited(ctx, &(struct change){actor, "subcontractor_review", NULL, NULL, reason,
					   write_review, &row});
	if (!rc && out)
		*out = row;
	return rc;
}

cu_result cu_subcontractor_review_update(cu_ctx *ctx, const cu_actor *actor, const char *sub,
					 const char *id, const char *findings, int done,
					 cu_review_row *out, cu_errors *errs)
{
	cu_review_row row;
	char reason[160];
	cu_result rc;

	if (!ctx || !sub || !id || done < -1 || done > 1)
		return CU_ERR_INVALID_ARGUMENT;
	if (!officer_or_operator(actor))
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
	rc = audited(ctx, &(struct change){actor, "subcontractor_review", NULL, NULL, reason,
					   write_review_update, &row});
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
	char reason[120], day[11];
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
	cu_partner_date_format(before_us, day);
	/* The count is known only after the delete; the reason names the cut-off. */
	snprintf(reason, sizeof(reason), "records of provisions made before %s deleted", day);
	rc = audited(ctx, &(struct change){actor, "provision_purge", NULL, NULL, reason,
					   write_purge, &pg});
	if (!rc && n)
		*n = count;
	return rc;
}

/* ---- a member's own shares ---------------------------------------------- */

static cu_result write_share(cu_store *s, const void *arg)
{
	return cu_store_share_insert(s, arg);
}

cu_result cu_share_create(cu_ctx *ctx, const cu_actor *actor, cu_fieldset fields, int64_t ttl_us,
			  char token[CU_SHARE_TOKEN_LEN + 1], cu_share_row *out, cu_errors *errs)
{
	cu_fieldset all;
	cu_member_row m = {0};
	cu_share_row row;
	char reason[120];
	bool bad = false;
	cu_result rc;

	if (token)
		token[0] = '\0';
	if (!ctx || !token)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_member(actor))
		return CU_ERR_FORBIDDEN;
	all = cu_policy_all_fields(ctx->policy);
	if (!fields || (fields & ~all)) {
		cu_errors_add(errs, "fields", fields ? "unknown_field" : "required");
		bad = true;
	}
	if (ttl_us < 60 * 1000000LL || ttl_us > CU_SHARE_TTL_MAX_US) {
		cu_errors_add(errs, "expires_in_minutes", "out_of_range");
		bad = true;
	}
	if (bad)
		return CU_ERR_INVALID_FIELD;
	rc = cu_store_member_get(ctx->store, actor->member, &m);
	if (rc)
		return rc;
	rc = m.erased ? CU_ERR_ERASED : CU_OK;
	cu_member_row_release(&m);
	if (rc)
		return rc;
	memset(&row, 0, sizeof(row));
	cu_vault_random_id(row.id);
	memcpy(row.member, actor->member, strlen(actor->member) + 1);
	cu_policy_fieldset_format(ctx->policy, fields, row.fields_text, sizeof(row.fields_text));
	row.created_us = cu_now_us();
	row.expires_us = row.created_us + ttl_us;
	cu_secret_new(token);
	cu_secret_hash("share", token, CU_SHARE_TOKEN_LEN, row.hash);
	snprintf(reason, sizeof(reason), "share %s, for %lld minutes", row.id,
		 (long long)(ttl_us / 60000000));
	rc = audited(ctx, &(struct change){actor, "share_create", row.member, row.fields_text,
					   reason, write_share, &row});
	if (rc) {
		sodium_memzero(token, CU_SHARE_TOKEN_LEN + 1);
		return rc;
	}
	if (out)
		*out = row;
	return CU_OK;
}

struct revoke {
	const char *member, *id;
	int64_t now;
};

static cu_result write_revoke(cu_store *s, const void *arg)
{
	const struct revoke *r = arg;

	return cu_store_share_revoke(s, r->member, r->id, r->now);
}

cu_result cu_share_revoke(cu_ctx *ctx, const cu_actor *actor, const char *id)
{
	struct revoke rv;
	char reason[80];

	if (!ctx || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!is_member(actor))
		return CU_ERR_FORBIDDEN;
	if (!*id || strlen(id) > CU_ID_LEN)
		return CU_ERR_NOT_FOUND;
	rv = (struct revoke){actor->member, id, cu_now_us()};
	snprintf(reason, sizeof(reason), "share %s revoked", id);
	return audited(ctx, &(struct change){actor, "share_revoke", actor->member, NULL, reason,
					     write_revoke, &rv});
}

cu_result cu_share_find(cu_store *s, const char *token, int64_t now_us, cu_share_row *out)
{
	unsigned char hash[CU_STORE_HASHBYTES];
	cu_result rc;

	if (!out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	/* The shape of a link is public; checking it first spares the store. */
	if (!token || !cu_secret_well_formed(token))
		return CU_ERR_NOT_FOUND;
	cu_secret_hash("share", token, CU_SHARE_TOKEN_LEN, hash);
	rc = cu_store_share_get_by_hash(s, hash, out);
	if (!rc && (out->revoked_us || now_us >= out->expires_us))
		rc = CU_ERR_NOT_FOUND;
	if (rc)
		memset(out, 0, sizeof(*out));
	return rc;
}

void cu_share_access(const cu_policy *p, const cu_share_row *sh, cu_actor *actor,
		     cu_access_request *req)
{
	*actor = (cu_actor){sh->member, CU_ROLE_MEMBER, sh->member, NULL};
	memset(req, 0, sizeof(*req));
	req->actor = actor;
	req->purpose = "self";
	req->member = sh->member;
	/* Never 0, which would mean every field: a share with no field known now opens nothing. */
	req->fields = cu_partner_fieldset(p, sh->fields_text);
	if (!req->fields)
		req->fields = ~cu_policy_all_fields(p);
}

void cu_share_audit_mark(cu_access_audit *au, const cu_share_row *sh)
{
	size_t n = strlen(au->reason);

	au->entry.action = "share_read";
	snprintf(au->reason + n, sizeof(au->reason) - n, "; share %s", sh->id);
}

cu_result cu_share_read(cu_ctx *ctx, const char *token, cu_access_decision *d, cu_record *out,
			cu_share_row *sh)
{
	cu_member_row row = {0};
	cu_access_request req;
	cu_access_audit au;
	cu_actor actor;
	bool have_row = false;
	cu_result rc;

	memset(d, 0, sizeof(*d));
	rc = cu_share_find(ctx->store, token, cu_now_us(), sh);
	if (rc) {
		/* No share, no member: nothing to decide about, nothing to audit against anyone. */
		d->rc = rc;
		d->decision = "deny";
		return rc;
	}
	cu_share_access(ctx->policy, sh, &actor, &req);
	/* Its answer is d->rc; allowed or not, the decision is audited next. */
	if (cu_access_prepare(ctx->policy, ctx->store, &req, d, &row, &have_row) != d->rc) {
		if (have_row)
			cu_member_row_release(&row);
		return CU_ERR_INTERNAL;
	}
	cu_access_audit_fill(ctx->policy, &req, d, &au);
	cu_share_audit_mark(&au, sh);
	rc = cu_access_record(ctx, &au);
	cu_access_audit_wipe(&au);
	if (rc) {
		/* Fails closed: an unaudited decision is no decision. */
		d->rc = rc;
		d->decision = "deny";
	} else {
		rc = d->rc;
		if (!rc)
			rc = cu_access_open(ctx->policy, ctx->vault, &row, d->allowed, out);
	}
	if (have_row)
		cu_member_row_release(&row);
	return rc;
}

/* ---- lists for the front ends ---------------------------------------------- */

cu_result cu_third_party_list(cu_ctx *ctx, cu_store_third_party_fn fn, void *ud)
{
	return cu_store_third_party_list(ctx->store, fn, ud);
}

cu_result cu_subcontractor_list(cu_ctx *ctx, cu_store_subcontractor_fn fn, void *ud)
{
	return cu_store_subcontractor_list(ctx->store, fn, ud);
}
