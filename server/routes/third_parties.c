/*
 * server/routes/third_parties.c — third parties and provisions to them,
 * and members' own shares (links that open their data to someone), over HTTP.
 *
 * Provisions and share reads go through the door like member reads
 * (routes/pipeline.c): the rules on this thread's reader, the audit entry (and
 * the record of a provision) through the writer, and only once that is
 * durable the fields are opened and written into the answer, which is wiped
 * when sent.
 */
#include "routes/routes.h"

#include <sodium.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"
#include "domain/consent.h"
#include "domain/shares.h"
#include "domain/subcontractors.h"
#include "domain/third_parties.h"

#include "http/json_out.h"

#define SHARE_PATH_MAX 80 /* "/v1/shares/" and a share token */

/* A refusal of the door, with its reason (a few static words, never data). */
static enum MHD_Result refused(cu_request *r, const cu_access_decision *d)
{
	const char *why = NULL;

	for (int i = 0; i < CU_POLICY_FIELDS_MAX && !why; i++)
		why = d->reason[i];
	return cu_http_reply_error(r, d->rc, why, NULL);
}

/*
 * {"<key>": meta, "fields": {name: value, ...}}: meta (no personal data) is
 * printed by jansson, the values straight into one buffer that is wiped
 * when sent (json_out.h), so the plaintext is never copied elsewhere.
 */
static enum MHD_Result reply_fields(cu_request *r, int status, const char *key, json_t *meta,
                                    const cu_policy *p, const cu_record *rec)
{
	char *m = json_dumps(meta, JSON_COMPACT);
	bool first = true;
	size_t cap;
	cu_jw w;

	json_decref(meta);
	if (!m)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	cap = 32 + strlen(key) + strlen(m);
	for (size_t i = 0; i < rec->n; i++)
		cap += 2 + cu_jw_str_max(strlen(p->fields[rec->v[i].field].name)) +
		       cu_jw_str_max(rec->v[i].len);
	cu_jw_init(&w, cap);
	cu_jw_raw(&w, "{\"");
	cu_jw_raw(&w, key);
	cu_jw_raw(&w, "\":");
	cu_jw_raw(&w, m);
	cu_jw_raw(&w, ",\"fields\":{");
	for (size_t i = 0; i < rec->n; i++)
		cu_jw_member(&w, &first, p->fields[rec->v[i].field].name, rec->v[i].value,
		             rec->v[i].len);
	cu_jw_raw(&w, "}}");
	free(m);
	return cu_http_reply_text(r, status, "application/json", cu_jw_finish(&w));
}

/* Policy field names into a set; -1 (and errs) if one is unknown or repeated. */
static int fieldset_of(const cu_policy *p, const char *const *names, size_t n, cu_fieldset *out,
                       cu_errors *errs)
{
	*out = 0;
	for (size_t i = 0; i < n; i++) {
		int idx = cu_policy_field_index(p, names[i]);

		if (idx < 0 || ((*out >> idx) & 1)) {
			cu_errors_add(errs, "fields", idx < 0 ? "unknown_field" : "duplicate");
			return -1;
		}
		*out |= (cu_fieldset)1 << idx;
	}
	return 0;
}

/* ---- third parties ------------------------------------------------------- */

static json_t *third_party_json(const cu_third_party_row *tp)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:s}", "id", tp->id, "name", tp->name, "contact",
	                 tp->contact, "purpose", tp->purpose, "fields",
	                 cu_route_list_json(tp->fields_text, ','), "registered",
	                 cu_route_iso(tp->created_us), "registered_by", tp->created_by);
}

struct tp_state {
	json_t *body;
	cu_third_party_input in;
	const char *fields[CU_POLICY_FIELDS_MAX];
	cu_third_party_row row;
	cu_errors errs;
};

static cu_result run_tp(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct tp_state *st = r->state;

	return cu_http_answer(
	    job, cu_third_party_register(ctx, &r->actor, &st->in, &st->row, &st->errs));
}

static enum MHD_Result h_tp_create(cu_request *r)
{
	static const char *const keys[] = {"id", "name", "contact", "purpose", "fields", NULL};
	struct tp_state *st = r->state;
	enum MHD_Result reply;
	bool bad = false;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_CONFLICT)
			return cu_http_reply_error(
			    r, CU_ERR_CONFLICT, "a third party with this id is registered", NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		return cu_http_reply_json(
		    r, MHD_HTTP_CREATED,
		    json_pack("{s:o}", "third_party", third_party_json(&st->row)));
	}
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = cu_route_body_cleanup;
	st->in.id = cu_route_opt_string(st->body, "id", &bad);
	st->in.name = cu_route_opt_string(st->body, "name", &bad);
	st->in.contact = cu_route_opt_string(st->body, "contact", &bad);
	st->in.purpose = cu_route_opt_string(st->body, "purpose", &bad);
	if (bad || !cu_route_only_keys(st->body, keys) ||
	    cu_route_string_list(st->body, "fields", st->fields, CU_POLICY_FIELDS_MAX,
	                         &st->in.nfields))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"id\", \"name\", \"contact\", \"purpose\": "
		                           "strings, \"fields\": [policy field names]}",
		                           NULL);
	st->in.fields = st->fields;
	return cu_http_wait_writer(r, run_tp);
}

static int collect_tp(void *ud, const cu_third_party_row *row)
{
	json_array_append_new(ud, third_party_json(row));
	return 0;
}

static enum MHD_Result h_tp_list(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	json_t *list;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	list = json_array();
	if (cu_third_party_list(reader, collect_tp, list)) {
		json_decref(list);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "third_parties", list));
}

static enum MHD_Result h_tp_get(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_third_party_row row;
	cu_result rc;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_third_party_get(reader, r->params[0], &row);
	if (rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such third party", NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return cu_http_reply_json(r, MHD_HTTP_OK,
	                          json_pack("{s:o}", "third_party", third_party_json(&row)));
}

/* ---- provisions ---------------------------------------------------------- */

static json_t *provision_json(const cu_provision_row *p, const char *tp_name)
{
	json_t *fields = json_array();
	json_t *o;

	for (size_t i = 0; i < p->nfields; i++)
		json_array_append_new(fields, json_string(p->fields[i]));
	o = json_pack("{s:s,s:s,s:s,s:o,s:s,s:s,s:s,s:o}", "id", p->id, "third_party",
	              p->third_party, "member", p->member, "fields", fields, "basis", p->basis,
	              "actor", p->actor, "role", p->role, "time", cu_route_iso(p->time_us));
	if (o && tp_name)
		json_object_set_new(o, "third_party_name", json_string(tp_name));
	if (o && p->exception[0]) {
		json_object_set_new(o, "exception", json_string(p->exception));
		json_object_set_new(o, "review", json_string(p->exception_record));
	}
	return o;
}

struct door_state {
	json_t *body;
	cu_policy *policy;
	cu_access_decision d;
	cu_access_audit au;
	cu_member_row row;
	bool have_row;
	cu_record rec;
	/* a provision */
	cu_provision_request preq;
	cu_provision_row prov;
	/* a share read */
	cu_share_row share;
	cu_actor actor;
	cu_access_request req;
};

static void door_cleanup(cu_request *r)
{
	struct door_state *st = r->state;

	cu_access_audit_wipe(&st->au);
	if (st->have_row)
		cu_member_row_release(&st->row);
	cu_record_wipe(&st->rec);
	/* The body may hold a justification: overwritten before it is freed. */
	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static struct door_state *door_state(cu_request *r)
{
	struct door_state *st = cu_arena_alloc(&r->arena, sizeof(*st));

	if (!st)
		return NULL;
	memset(st, 0, sizeof(*st));
	cu_record_init(&st->rec);
	st->policy = cu_http_policy(r->srv);
	r->state = st;
	r->cleanup = door_cleanup;
	return st;
}

static cu_result run_provide(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct door_state *st = r->state;

	/* The entry, an exception's review and the record of the provision, in one savepoint. */
	return cu_access_provide_record(ctx, &st->au, &st->prov);
}

static enum MHD_Result h_provide_finish(cu_request *r)
{
	struct door_state *st = r->state;
	cu_result rc;

	/* Fail closed: nothing handed over without its committed audit entry and record. */
	if (r->job.rc)
		return cu_http_reply_error(r, CU_ERR_STORE, "the provision could not be recorded",
		                           NULL);
	if (st->d.rc)
		return refused(r, &st->d);
	rc = cu_access_open(st->policy, r->srv->ctx->vault, &st->row, st->d.allowed, &st->rec);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	return reply_fields(r, MHD_HTTP_CREATED, "provision", provision_json(&st->prov, NULL),
	                    st->policy, &st->rec);
}

static enum MHD_Result h_provide(cu_request *r)
{
	static const char *const keys[] = {"third_party", "member",        "fields",
	                                   "basis",       "justification", NULL};
	const char *names[CU_POLICY_FIELDS_MAX], *basis;
	struct door_state *st = r->state;
	cu_store *reader = cu_http_reader(r->srv);
	enum MHD_Result reply;
	cu_errors errs;
	size_t n = 0;
	bool bad = false;

	if (r->phase > 0)
		return h_provide_finish(r);
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	st = door_state(r);
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	st->preq.actor = &r->actor;
	st->preq.third_party = cu_route_opt_string(st->body, "third_party", &bad);
	st->preq.member = cu_route_opt_string(st->body, "member", &bad);
	basis = cu_route_opt_string(st->body, "basis", &bad);
	st->preq.justification = cu_route_opt_string(st->body, "justification", &bad);
	if (bad || !cu_route_only_keys(st->body, keys) || !st->preq.third_party ||
	    !st->preq.member ||
	    cu_route_string_list(st->body, "fields", names, CU_POLICY_FIELDS_MAX, &n) || n == 0 ||
	    (st->preq.justification && (!basis || !strcmp(basis, "consent"))))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"third_party\", \"member\": strings, "
		                           "\"fields\": [field names], \"basis\": \"consent\" or a "
		                           "legal exception with \"justification\"}",
		                           NULL);
	cu_errors_init(&errs);
	if (fieldset_of(st->policy, names, n, &st->preq.fields, &errs))
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &errs);
	if (basis && strcmp(basis, "consent"))
		st->preq.exception = basis;
	/* The rules run here, on a reader; allowed or not, the decision is audited next. */
	st->d.rc = cu_access_provide_prepare(st->policy, reader, &st->preq, &st->d, &st->row,
	                                     &st->have_row);
	cu_access_provide_audit_fill(st->policy, &st->preq, &st->d, &st->au, &st->prov);
	return cu_http_wait_writer(r, run_provide);
}

/* ---- GET /v1/me/provisions ------------------------------------------------ */

struct me_prov {
	cu_store *reader;
	const cu_policy *policy;
	const char *member;
	json_t *list;
	cu_result rc;
};

static int collect_provision(void *ud, const cu_provision_row *row)
{
	struct me_prov *c = ud;
	cu_third_party_row tp;
	bool have = cu_third_party_get(c->reader, row->third_party, &tp) == CU_OK;

	json_array_append_new(c->list, provision_json(row, have ? tp.name : NULL));
	return 0;
}

static int collect_choosable(void *ud, const cu_third_party_row *row)
{
	struct me_prov *c = ud;
	bool granted = false;
	json_t *o = third_party_json(row);

	c->rc = cu_consent_granted(c->reader, c->policy, c->member, CU_CONSENT_THIRD_PARTY, row->id,
	                           &granted);
	/* What a member needs to decide: who, why, what; not who registered it. */
	json_object_del(o, "registered_by");
	json_object_set_new(o, "consent", json_boolean(granted));
	json_array_append_new(c->list, o);
	return c->rc != CU_OK;
}

static enum MHD_Result h_me_provisions(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct me_prov c = {reader, cu_http_policy(r->srv), r->member, NULL, CU_OK};
	json_t *provisions, *parties;
	cu_result rc;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	provisions = c.list = json_array();
	rc = cu_provision_list(reader, r->member, collect_provision, &c);
	parties = c.list = json_array();
	if (!rc)
		rc = cu_third_party_list(reader, collect_choosable, &c);
	if (!rc)
		rc = c.rc;
	if (rc) {
		json_decref(provisions);
		json_decref(parties);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(
	    r, MHD_HTTP_OK,
	    json_pack("{s:o,s:o}", "provisions", provisions, "third_parties", parties));
}

/* ---- a member's own shares ------------------------------------------------ */

static json_t *share_json(const cu_share_row *sh, int64_t now)
{
	const char *status = sh->revoked_us          ? "revoked"
	                     : now >= sh->expires_us ? "expired"
	                                             : "active";
	json_t *o = json_pack("{s:s,s:o,s:o,s:o,s:s}", "id", sh->id, "fields",
	                      cu_route_list_json(sh->fields_text, ','), "created",
	                      cu_route_iso(sh->created_us), "expires", cu_route_iso(sh->expires_us),
	                      "status", status);

	if (o && sh->revoked_us)
		json_object_set_new(o, "revoked", cu_route_iso(sh->revoked_us));
	return o;
}

struct share_state {
	json_t *body;
	cu_fieldset fields;
	int64_t ttl_us;
	char token[CU_SHARE_TOKEN_LEN + 1];
	cu_share_row row;
	cu_errors errs;
};

static void share_cleanup(cu_request *r)
{
	struct share_state *st = r->state;

	sodium_memzero(st->token, sizeof(st->token));
	json_decref(st->body);
}

static cu_result run_share(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct share_state *st = r->state;

	return cu_http_answer(job, cu_share_create(ctx, &r->actor, st->fields, st->ttl_us,
	                                           st->token, &st->row, &st->errs));
}

static enum MHD_Result h_share_create(cu_request *r)
{
	static const char *const keys[] = {"fields", "expires_in_minutes", NULL};
	const char *names[CU_POLICY_FIELDS_MAX];
	struct share_state *st = r->state;
	enum MHD_Result reply;
	json_t *minutes;
	char path[SHARE_PATH_MAX];
	json_int_t m;
	size_t n;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		/* The link is a random capability, not personal data: it may travel in a URL. */
		snprintf(path, sizeof(path), "/v1/shares/%s", st->token);
		return cu_http_reply_json(r, MHD_HTTP_CREATED,
		                          json_pack("{s:o,s:s,s:s}", "share",
		                                    share_json(&st->row, cu_now_us()), "token",
		                                    st->token, "path", path));
	}
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = share_cleanup;
	minutes = json_object_get(st->body, "expires_in_minutes");
	if (!cu_route_only_keys(st->body, keys) || !json_is_integer(minutes) ||
	    cu_route_string_list(st->body, "fields", names, CU_POLICY_FIELDS_MAX, &n))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected {\"fields\": [field names], "
		                           "\"expires_in_minutes\": an integer}",
		                           NULL);
	m = json_integer_value(minutes);
	if (m < 1 || m > CU_SHARE_TTL_MAX_US / 60000000)
		cu_errors_add(&st->errs, "expires_in_minutes", "out_of_range");
	if (n == 0)
		cu_errors_add(&st->errs, "fields", "required");
	else
		(void)fieldset_of(cu_http_policy(r->srv), names, n, &st->fields, &st->errs);
	if (st->errs.n)
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	st->ttl_us = (int64_t)m * 60000000;
	return cu_http_wait_writer(r, run_share);
}

struct share_list {
	json_t *list;
	int64_t now;
};

static int collect_share(void *ud, const cu_share_row *row)
{
	struct share_list *c = ud;

	json_array_append_new(c->list, share_json(row, c->now));
	return 0;
}

static enum MHD_Result h_shares(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct share_list c = {NULL, cu_now_us()};

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.list = json_array();
	if (cu_share_list(reader, r->member, collect_share, &c)) {
		json_decref(c.list);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "shares", c.list));
}

static cu_result run_share_revoke(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return cu_http_answer(job, cu_share_revoke(ctx, &r->actor, r->params[0]));
}

static enum MHD_Result h_share_revoke(cu_request *r)
{
	if (r->phase == 0) {
		if (cu_route_has_query(r))
			return cu_route_no_query(r);
		return cu_http_wait_writer(r, run_share_revoke);
	}
	if (r->job.rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such share of yours", NULL);
	if (r->job.rc)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	return cu_http_reply_empty(r, MHD_HTTP_NO_CONTENT);
}

static cu_result run_record(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct door_state *st = r->state;

	return cu_access_record(ctx, &st->au);
}

static enum MHD_Result h_share_read(cu_request *r)
{
	struct door_state *st = r->state;
	cu_store *reader;
	cu_result rc;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, CU_ERR_STORE, "the read could not be audited",
			                           NULL);
		if (st->d.rc)
			return refused(r, &st->d);
		rc = cu_access_open(st->policy, r->srv->ctx->vault, &st->row, st->d.allowed,
		                    &st->rec);
		if (rc)
			return cu_http_reply_error(r, rc, NULL, NULL);
		return reply_fields(r, MHD_HTTP_OK, "share",
		                    json_pack("{s:s,s:o}", "id", st->share.id, "expires",
		                              cu_route_iso(st->share.expires_us)),
		                    st->policy, &st->rec);
	}
	/* A link's answer is for whoever holds it: no caching (every answer), no referrer. */
	cu_http_header(r, "Referrer-Policy", "no-referrer");
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	reader = cu_http_reader(r->srv);
	if (!reader)
		return cu_http_store_unavailable(r);
	st = door_state(r);
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	rc = cu_share_find(reader, r->params[0], cu_now_us(), &st->share);
	if (rc == CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND,
		                           "no such link, or it has expired or been revoked", NULL);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	/* The member's own act, as the door sees it; audited as "share_read". */
	cu_share_access(st->policy, &st->share, &st->actor, &st->req);
	st->d.rc = cu_access_prepare(st->policy, reader, &st->req, &st->d, &st->row, &st->have_row);
	cu_access_audit_fill(st->policy, &st->req, &st->d, &st->au);
	cu_share_audit_mark(&st->au, &st->share);
	return cu_http_wait_writer(r, run_record);
}

/* ---- the table ----------------------------------------------------------- */

const cu_route cu_routes_third_parties[] = {
    {"POST", "/v1/third-parties", "/v1/third-parties", h_tp_create, R(OFFICER), false, false,
     false},
    {"GET", "/v1/third-parties", "/v1/third-parties", h_tp_list, R(OFFICER), false, false, false},
    {"GET", "/v1/third-parties/{}", "/v1/third-parties/{id}", h_tp_get, R(OFFICER), false, false,
     false},
    {"POST", "/v1/provisions", "/v1/provisions", h_provide, R(OFFICER) | R(SERVICE), false, false,
     false},
    {"GET", "/v1/me/provisions", "/v1/me/provisions", h_me_provisions, R(MEMBER), false, false,
     false},
    {"POST", "/v1/me/shares", "/v1/me/shares", h_share_create, R(MEMBER), false, false, false},
    {"GET", "/v1/me/shares", "/v1/me/shares", h_shares, R(MEMBER), false, false, false},
    {"DELETE", "/v1/me/shares/{}", "/v1/me/shares/{id}", h_share_revoke, R(MEMBER), false, false,
     false},
    {"GET", "/v1/shares/{}", "/v1/shares/{token}", h_share_read, 0, true, true, false},
};

const size_t cu_routes_third_parties_count =
    sizeof(cu_routes_third_parties) / sizeof(cu_routes_third_parties[0]);

/* cu_route_body_cleanup finds the body first in the state. */
_Static_assert(offsetof(struct tp_state, body) == 0, "body first");
