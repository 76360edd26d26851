/*
 * routes.c — the API's handlers and the one route table.
 *
 * A handler that must wait (for its audit entry or write to be durable, or
 * for Argon2id) suspends with cu_http_wait_writer / cu_http_wait_hasher and
 * is called again with r->phase advanced; its state lives in r->state and is
 * released by r->cleanup when the request ends, however it ends.
 */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/checkpoint.h"
#include "domain/export.h"
#include "domain/members.h"

#include "json_out.h"

#include "openapi.h"

#define R(role) (1u << CU_ROLE_##role)
#define STAFFISH (R(STAFF) | R(ANALYST) | R(SERVICE) | R(SUBCONTRACTOR) | R(OFFICER) | R(ADMIN))

void cu_http_iso_time(int64_t us, char out[32])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

enum MHD_Result cu_http_store_unavailable(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
}

/*
 * A writer job's answer: refusals (and "not found") are answers whose audit
 * entries must be kept; only failures of the server itself undo the job.
 */
cu_result cu_http_answer(cu_job *job, cu_result rc)
{
	job->rc = rc;
	switch (rc) {
	case CU_ERR_INTERNAL:
	case CU_ERR_NOMEM:
	case CU_ERR_IO:
	case CU_ERR_STORE:
	case CU_ERR_CRYPTO:
	case CU_ERR_AUDIT_BROKEN:
		return rc;
	default:
		return CU_OK;
	}
}

enum MHD_Result cu_http_reply_case_invalid(cu_request *r)
{
	char msg[160];

	snprintf(msg, sizeof(msg),
		 "a case reference is 1-%d bytes of one line of text, not blank, without "
		 "control characters",
		 CU_CASE_REF_MAX);
	return cu_http_reply_error(r, CU_ERR_CASE_INVALID, msg, NULL);
}

/* ---- operator routes ----------------------------------------------------- */

static enum MHD_Result h_healthz(cu_request *r)
{
	return cu_http_reply_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static enum MHD_Result h_readyz(cu_request *r)
{
	/* A real write through the writer, at most once per CU_WRITER_PROBE_MS (server.h). */
	if (r->phase == 0 && r->srv->ready && cu_http_reader(r->srv) &&
	    cu_writer_probe_due(r->srv->writer))
		return cu_http_wait_writer(r, cu_writer_probe);
	if (r->srv->ready && cu_writer_ready(r->srv->writer) && cu_http_reader(r->srv))
		return cu_http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
	return cu_http_reply_error(r, CU_ERR_NOT_READY,
				  r->srv->ready ? "the store cannot be written or read"
						: "the server is starting or stopping", NULL);
}

static enum MHD_Result h_metrics(cu_request *r)
{
	const char *names[128], *methods[128];
	size_t n = cu_routes_count < 128 ? cu_routes_count : 128;

	for (size_t i = 0; i < n; i++) {
		names[i] = cu_routes[i].name;
		methods[i] = cu_routes[i].method;
	}
	return cu_http_reply_text(
		r, 200, "text/plain; version=0.0.4",
		cu_metrics_render(methods, names, n, cu_writer_audit_head(r->srv->writer)));
}

static enum MHD_Result h_openapi(cu_request *r)
{
	return cu_http_reply_text(r, 200, "application/json", cu_openapi_document(NULL, 0));
}

/* ---- field input --------------------------------------------------------- */

int cu_http_field_value(cu_request *r, const cu_policy *p, const char *key, json_t *v,
			const char **out, cu_errors *errs)
{
	const cu_policy_field *f = cu_policy_field_find(p, key);

	*out = NULL;
	if (json_is_string(v)) {
		*out = json_string_value(v);
		return 0;
	}
	if (json_is_null(v))
		return 0;
	/* A number is a value only for a field that holds a number: {"name": 1} is no name. */
	if (json_is_integer(v) && f && f->kind == CU_FIELD_INTEGER) {
		char *num = cu_arena_alloc(&r->arena, 32);

		if (!num)
			return -2;
		snprintf(num, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = num;
		return 0;
	}
	cu_errors_add(errs, strlen(key) < 40 ? key : "(field)", "malformed");
	return -1;
}

/*
 * Turns a JSON object into name/value pairs, skipping `skip` keys, with
 * cu_http_field_value: a text field takes a string only.
 */
static int kv_from_json(cu_request *r, json_t *j, const char *const *skip, cu_kv *kv, size_t *n,
			cu_errors *errs)
{
	const char *key;
	json_t *v;
	int bad = 0;

	*n = 0;
	json_object_foreach(j, key, v) {
		int skipped = 0;

		for (const char *const *s = skip; s && *s; s++)
			skipped |= !strcmp(*s, key);
		if (skipped)
			continue;
		if (*n >= CU_POLICY_FIELDS_MAX) {
			cu_errors_add(errs, "(body)", "too_many_fields");
			return -1;
		}
		kv[*n].name = key;
		switch (cu_http_field_value(r, cu_http_policy(r->srv), key, v, &kv[*n].value, errs)) {
		case 0:
			break;
		case -1:
			bad = 1;
			break;
		default:
			return -1;
		}
		(*n)++;
	}
	return bad ? -1 : 0;
}

static json_t *fieldset_json(const cu_policy *p, cu_fieldset set)
{
	json_t *a = json_array();

	for (size_t i = 0; i < p->nfields; i++)
		if ((set >> i) & 1)
			json_array_append_new(a, json_string(p->fields[i].name));
	return a;
}

/* ---- attempt limits: the client's address, the answer ---------------- */

/* The client's address as a rate-limit key for one use (rules in http.h). */
static void address_key(cu_request *r, const char *use, unsigned char out[CU_RATELIMIT_KEY_LEN])
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	cu_ratelimit_address_key(ci ? ci->client_addr : NULL, use, out);
}

#define SIGNUPS_LIMITED "too many sign-ups from this address; try again later"
#define EMAIL_CHANGES_LIMITED "too many e-mail address changes from this address; try again later"

/* 429 rate_limited with Retry-After: whole seconds, rounded up. */
static enum MHD_Result reply_rate_limited(cu_request *r, int64_t retry_us, const char *message)
{
	char secs[24];

	snprintf(secs, sizeof(secs), "%lld", (long long)((retry_us + 999999) / 1000000));
	cu_http_header(r, "Retry-After", secs);
	return cu_http_reply_error(r, CU_ERR_RATE_LIMITED, message, NULL);
}

/* ---- POST /v1/members ---------------------------------------------------- */

struct reg_state {
	json_t *body;
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	size_t n;
	const char *password;
	cu_actor actor;
	cu_policy *policy;
	cu_registration reg;
	cu_errors errs;
	cu_result prep_rc;
	cu_ratelimit_hold hold; /* a public sign-up's place under its address's limit */
};

static void reg_cleanup(cu_request *r)
{
	struct reg_state *st = r->state;

	cu_ratelimit_finish_all(&r->srv->limits, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
	cu_registration_release(&st->reg);
	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result reg_prepare(cu_job *job)
{
	cu_request *r = job->arg;
	struct reg_state *st = r->state;
	cu_ctx *ctx = r->srv->ctx;

	/* The vault and the configuration are read-only once the server runs. */
	st->prep_rc = cu_member_prepare(st->policy, ctx->vault, &ctx->config, &st->actor, st->kv,
					st->n, st->password, &st->reg, &st->errs);
	return st->prep_rc;
}

static cu_result reg_apply(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct reg_state *st = r->state;

	return cu_member_apply(ctx, &st->reg, &st->errs);
}

static enum MHD_Result h_members_create(cu_request *r)
{
	static const char *const skip[] = {"password", NULL};
	struct reg_state *st = r->state;
	enum MHD_Result reply;
	json_t *pw;

	switch (r->phase) {
	case 0:
		st = cu_arena_alloc(&r->arena, sizeof(*st));
		if (!st)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		memset(st, 0, sizeof(*st));
		cu_errors_init(&st->errs);
		st->body = cu_http_body_json(r, &reply);
		if (!st->body)
			return reply;
		r->state = st;
		r->cleanup = reg_cleanup;
		st->policy = cu_http_policy(r->srv);
		pw = json_object_get(st->body, "password");
		if (pw && !json_is_string(pw)) {
			cu_errors_add(&st->errs, "password", "malformed");
			return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
		}
		st->password = pw ? json_string_value(pw) : NULL;
		if (r->auth == CU_AUTH_NONE) {
			/* Public sign-up: the member sets a password to log in with. */
			if (!st->password) {
				cu_errors_add(&st->errs, "password", "required");
				return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
			}
			st->actor = (cu_actor){"signup", CU_ROLE_MEMBER, NULL, NULL};
		} else {
			st->actor = r->actor;
		}
		if (kv_from_json(r, st->body, skip, st->kv, &st->n, &st->errs))
			return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
		if (r->auth == CU_AUTH_NONE) {
			/*
			 * A 409 tells whether an address is registered, which the
			 * uniform login answer hides: public sign-ups are limited per
			 * client address (docs/auth.md), reserved before the hash.
			 */
			cu_ratelimit_key key = {.limit = r->srv->ctx->config.signups_per_hour,
						.window_us = CU_SIGNUP_WINDOW_US};
			int64_t retry_us;

			address_key(r, CU_RATELIMIT_SIGNUP_ADDRESS, key.id);
			if (cu_ratelimit_reserve(&r->srv->limits, &key, 1, cu_now_us(), &st->hold,
						 &retry_us))
				return reply_rate_limited(r, retry_us, SIGNUPS_LIMITED);
		}
		if (st->password)
			return cu_http_wait_hasher(r, reg_prepare);
		/* Without a password sealing takes microseconds: no need to leave the thread. */
		reg_prepare(&(cu_job){.arg = r});
		r->phase = 1;
		/* fall through */
	case 1:
		if (st->prep_rc) {
			/* Refused before the store was asked: nothing learned, nothing counted. */
			if (st->prep_rc == CU_ERR_INVALID_FIELD)
				cu_ratelimit_finish_all(&r->srv->limits, &st->hold,
							CU_RATELIMIT_RELEASE, cu_now_us());
			return cu_http_reply_error(r, st->prep_rc, NULL, &st->errs);
		}
		return cu_http_wait_writer(r, reg_apply);
	default:
		cu_ratelimit_finish_all(&r->srv->limits, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc,
						   r->job.rc == CU_ERR_CONFLICT
							   ? "that e-mail address is already registered"
							   : NULL,
						   &st->errs);
		return cu_http_reply_json(r, 201, json_pack("{s:s}", "id", st->reg.row.id));
	}
}

/* ---- reads through the door ---------------------------------------------- */

struct read_state {
	cu_access_request req;
	cu_access_decision d;
	cu_access_audit au;
	cu_member_row row;
	bool have_row;
	cu_record rec;
	cu_policy *policy;
	char member[72], purpose[CU_POLICY_ID_MAX + 1], case_ref[136];
};

static void read_cleanup(cu_request *r)
{
	struct read_state *st = r->state;

	cu_access_audit_wipe(&st->au);
	if (st->have_row)
		cu_member_row_release(&st->row);
	cu_record_wipe(&st->rec);
}

static cu_result append_audit(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct read_state *st = r->state;

	/* The entry, and the review an exceptional read opens, in one savepoint. */
	return cu_access_record(ctx, &st->au);
}

enum MHD_Result cu_http_start_read(cu_request *r, const char *member, const char *purpose,
				   const char *case_ref, cu_fieldset fields, const char *exception,
				   const char *justification)
{
	struct read_state *st = cu_arena_alloc(&r->arena, sizeof(*st));
	cu_store *reader = cu_http_reader(r->srv);

	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	/* Refused before the door: nothing is written for a case no one could cite. */
	if (case_ref && *case_ref && cu_access_case_problem(case_ref))
		return cu_http_reply_case_invalid(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	memset(st, 0, sizeof(*st));
	cu_record_init(&st->rec);
	r->state = st;
	r->cleanup = read_cleanup;
	st->policy = cu_http_policy(r->srv);
	st->req.actor = &r->actor;
	st->req.member = member;
	st->req.purpose = purpose;
	st->req.case_ref = case_ref;
	st->req.fields = fields;
	st->req.exception = exception;
	st->req.justification = justification;
	/* The rules run here, on a reader; only the audit entry goes to the writer. */
	/* Allowed or not, the decision (st->d) is audited before anything else. */
	st->d.rc = cu_access_prepare(st->policy, reader, &st->req, &st->d, &st->row, &st->have_row);
	cu_access_audit_fill(st->policy, &st->req, &st->d, &st->au);
	return cu_http_wait_writer(r, append_audit);
}

enum MHD_Result cu_http_finish_read(cu_request *r)
{
	struct read_state *st = r->state;
	const cu_policy *p = st->policy;
	bool first = true;
	size_t cap;
	cu_jw w;
	cu_result rc;

	/* Fail closed: no committed audit entry, no data. */
	if (r->job.rc)
		return cu_http_reply_error(r, CU_ERR_STORE, "the read could not be audited", NULL);
	if (st->d.rc)
		return cu_http_reply_error(r, st->d.rc, NULL, NULL);
	rc = cu_access_open(p, r->srv->ctx->vault, &st->row, st->d.allowed, &st->rec);
	if (rc)
		return cu_http_reply_error(r, rc, NULL, NULL);
	/*
	 * Written straight into one buffer of the size it can need (json_out.h):
	 * what jansson would print, at a fraction of the cost on the hottest
	 * route, and the one copy of the plaintext is wiped when sent.
	 */
	cap = 64 + cu_jw_str_max(strlen(st->row.id)) + cu_jw_str_max(strlen(st->req.purpose));
	for (size_t i = 0; i < st->rec.n; i++)
		cap += 2 + cu_jw_str_max(strlen(p->fields[st->rec.v[i].field].name)) +
		       cu_jw_str_max(st->rec.v[i].len);
	for (size_t i = 0; i < p->nfields; i++)
		if (st->d.reason[i])
			cap += 2 + cu_jw_str_max(strlen(p->fields[i].name)) +
			       cu_jw_str_max(strlen(st->d.reason[i]));
	cu_jw_init(&w, cap);
	cu_jw_raw(&w, "{");
	cu_jw_member(&w, &first, "id", st->row.id, strlen(st->row.id));
	cu_jw_member(&w, &first, "purpose", st->req.purpose, strlen(st->req.purpose));
	cu_jw_raw(&w, first ? "\"fields\":{" : ",\"fields\":{");
	first = true;
	for (size_t i = 0; i < st->rec.n; i++)
		cu_jw_member(&w, &first, p->fields[st->rec.v[i].field].name, st->rec.v[i].value,
			     st->rec.v[i].len);
	cu_jw_raw(&w, "},\"withheld\":{");
	first = true;
	for (size_t i = 0; i < p->nfields; i++)
		if (st->d.reason[i])
			cu_jw_member(&w, &first, p->fields[i].name, st->d.reason[i],
				     strlen(st->d.reason[i]));
	cu_jw_raw(&w, "}}");
	return cu_http_reply_text(r, 200, "application/json", cu_jw_finish(&w));
}

/* Parses ?fields=a,b into a set; -1 if a name is unknown. */
static int parse_fields(const cu_policy *p, const char *list, cu_fieldset *out)
{
	char name[CU_POLICY_ID_MAX + 1];

	*out = 0;
	if (!list)
		return 0;
	while (*list) {
		size_t n = strcspn(list, ",");
		int idx;

		if (n == 0 || n > CU_POLICY_ID_MAX)
			return -1;
		memcpy(name, list, n);
		name[n] = '\0';
		idx = cu_policy_field_index(p, name);
		if (idx < 0)
			return -1;
		*out |= (cu_fieldset)1 << idx;
		list += n;
		if (*list == ',')
			list++;
	}
	return *out ? 0 : -1;
}

static enum MHD_Result h_member_get(cu_request *r)
{
	static const char *const allowed[] = {"purpose", "case", "fields", NULL};
	const char *purpose, *case_ref;
	cu_fieldset fields;

	if (r->phase > 0)
		return cu_http_finish_read(r);
	if (cu_http_query_only(r, allowed))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
					  "unknown query parameter; expected purpose, case, fields", NULL);
	purpose = cu_http_query(r, "purpose");
	case_ref = cu_http_query(r, "case");
	if (!purpose || !*purpose)
		return cu_http_reply_error(r, CU_ERR_PURPOSE_REQUIRED,
					  "every read names its purpose: ?purpose=...", NULL);
	if (parse_fields(cu_http_policy(r->srv), cu_http_query(r, "fields"), &fields))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
					  "fields must be a comma-separated list of policy fields", NULL);
	return cu_http_start_read(r, r->params[0], purpose, case_ref && *case_ref ? case_ref : NULL,
				  fields, NULL, NULL);
}

static enum MHD_Result h_me_get(cu_request *r)
{
	if (r->phase > 0)
		return cu_http_finish_read(r);
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
	return cu_http_start_read(r, r->member, "self", NULL, 0, NULL, NULL);
}

/* ---- PATCH /v1/me -------------------------------------------------------- */

struct update_state {
	json_t *body;
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	size_t n;
	cu_errors errs;
	cu_policy *policy;
};

static void update_cleanup(cu_request *r)
{
	struct update_state *st = r->state;

	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result run_update(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct update_state *st = r->state;

	return cu_http_answer(job, cu_member_update(ctx, &r->actor, NULL, r->member, st->kv, st->n,
					    &st->errs));
}

static enum MHD_Result h_me_patch(cu_request *r)
{
	struct update_state *st = r->state;
	enum MHD_Result reply;
	cu_fieldset changed = 0;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, &st->errs);
		for (size_t i = 0; i < st->n; i++)
			changed |= (cu_fieldset)1 << cu_policy_field_index(st->policy, st->kv[i].name);
		return cu_http_reply_json(r, 200, json_pack("{s:o}", "updated",
							    fieldset_json(st->policy, changed)));
	}
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	cu_errors_init(&st->errs);
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = update_cleanup;
	st->policy = cu_http_policy(r->srv);
	if (kv_from_json(r, st->body, NULL, st->kv, &st->n, &st->errs))
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	if (st->n == 0)
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "nothing to change", NULL);
	/* Validate here so a bad body never reaches the writer. */
	if (cu_member_validate(st->policy, st->kv, st->n, false, &st->errs))
		return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->kv[i].name, "email")) {
			/* Its 409 tells whether an address is registered: the sign-up limit. */
			cu_ratelimit_key key = {.limit = r->srv->ctx->config.signups_per_hour,
						.window_us = CU_SIGNUP_WINDOW_US};
			cu_ratelimit_hold hold;
			int64_t retry_us, now = cu_now_us();

			address_key(r, CU_RATELIMIT_SIGNUP_ADDRESS, key.id);
			if (cu_ratelimit_reserve(&r->srv->limits, &key, 1, now, &hold, &retry_us))
				return reply_rate_limited(r, retry_us, EMAIL_CHANGES_LIMITED);
			cu_ratelimit_finish_all(&r->srv->limits, &hold, CU_RATELIMIT_COUNT, now);
		}
	return cu_http_wait_writer(r, run_update);
}

/* ---- GET /v1/me/access-log ----------------------------------------------- */

struct log_collect {
	const char *member;
	json_t **ring;
	size_t cap, n, next;
};

static json_t *entry_json(const cu_audit_entry *e, bool full)
{
	char ts[32], hash[CU_AUDIT_HASHBYTES * 2 + 1];
	json_t *o;

	cu_http_iso_time(e->time_us, ts);
	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "seq", (json_int_t)e->seq, "time",
		      ts, "actor", e->actor, "role", e->role, "action", e->action, "purpose",
		      e->purpose, "fields", e->fields, "decision", e->decision, "case",
		      e->case_ref);
	if (o && full) {
		sodium_bin2hex(hash, sizeof(hash), e->hash, CU_AUDIT_HASHBYTES);
		json_object_set_new(o, "member", json_string(e->member));
		json_object_set_new(o, "reason", json_string(e->reason));
		json_object_set_new(o, "hash", json_string(hash));
	}
	return o;
}

static int collect_others(void *ud, const cu_audit_entry *e)
{
	struct log_collect *c = ud;

	/* What others did with my data; my own acts I know (but not who opened my links). */
	if (!strcmp(e->actor, c->member) && !strcmp(e->role, "member") &&
	    strcmp(e->action, "share_read"))
		return 0;
	json_decref(c->ring[c->next]);
	c->ring[c->next] = entry_json(e, false);
	/* Named as the export names them: "self" for the sign-up, never another member's id. */
	if (c->ring[c->next])
		json_object_set_new(c->ring[c->next], "actor",
				    json_string(cu_export_actor_label(e, c->member)));
	c->next = (c->next + 1) % c->cap;
	if (c->n < c->cap)
		c->n++;
	return 0;
}

static int parse_limit(const char *s, size_t def, size_t max, size_t *out)
{
	char *end;
	long v;

	*out = def;
	if (!s)
		return 0;
	v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || (size_t)v > max)
		return -1;
	*out = (size_t)v;
	return 0;
}

static enum MHD_Result h_me_access_log(cu_request *r)
{
	static const char *const allowed[] = {"limit", NULL};
	struct log_collect c = {r->member, NULL, 0, 0, 0};
	cu_store *reader = cu_http_reader(r->srv);
	json_t *arr;
	cu_result rc;

	if (cu_http_query_only(r, allowed) || parse_limit(cu_http_query(r, "limit"), 100, 1000, &c.cap))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "limit must be 1..1000", NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.ring = calloc(c.cap, sizeof(*c.ring));
	if (!c.ring)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	rc = cu_store_audit_scan(reader, 1, r->member, collect_others, &c);
	arr = json_array();
	/* Newest first. */
	for (size_t i = 0; i < c.n; i++) {
		size_t at = (c.next + c.cap - 1 - i) % c.cap;

		json_array_append_new(arr, c.ring[at]);
		c.ring[at] = NULL;
	}
	for (size_t i = 0; i < c.cap; i++)
		json_decref(c.ring[i]);
	free(c.ring);
	if (rc) {
		json_decref(arr);
		return cu_http_store_unavailable(r);
	}
	return cu_http_reply_json(r, 200, json_pack("{s:o}", "entries", arr));
}

/* ---- lookup -------------------------------------------------------------- */

struct find_state {
	json_t *body;
	const char *kind, *value;
	char id[CU_ID_LEN + 1];
};

static void find_cleanup(cu_request *r)
{
	struct find_state *st = r->state;

	cu_http_json_wipe(st->body);
	json_decref(st->body);
}

static cu_result run_find(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct find_state *st = r->state;
	cu_result rc = cu_member_find(ctx, &r->actor, st->kind, st->value, st->id);

	/* Not found is an answer like a match, and its audit entry is kept. */
	return cu_http_answer(job, rc == CU_ERR_NOT_FOUND ? CU_OK : rc);
}

static enum MHD_Result h_members_search(cu_request *r)
{
	struct find_state *st = r->state;
	enum MHD_Result reply;
	json_t *email, *phone;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc,
						   r->job.rc == CU_ERR_INVALID_FIELD
							   ? "the value is malformed"
							   : NULL,
						   NULL);
		if (!st->id[0])
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no member matches", NULL);
		return cu_http_reply_json(r, 200, json_pack("{s:s}", "id", st->id));
	}
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	st->body = cu_http_body_json(r, &reply);
	if (!st->body)
		return reply;
	r->state = st;
	r->cleanup = find_cleanup;
	email = json_object_get(st->body, "email");
	phone = json_object_get(st->body, "phone");
	if (json_object_size(st->body) != 1 || !(email || phone) ||
	    !json_is_string(email ? email : phone))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
					  "expected exactly one of {\"email\": ...} or {\"phone\": ...}", NULL);
	st->kind = email ? "email" : "phone";
	st->value = json_string_value(email ? email : phone);
	return cu_http_wait_writer(r, run_find);
}

static enum MHD_Result h_members_list(cu_request *r)
{
	if (cu_http_query(r, "email") || cu_http_query(r, "phone"))
		return cu_http_reply_error(r, CU_ERR_PERSONAL_DATA_IN_URL,
					  "personal data never goes in a URL; "
					  "use POST /v1/members/search with a JSON body", NULL);
	return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
				  "members are not listed; find one with POST /v1/members/search", NULL);
}

/* ---- eligibility --------------------------------------------------------- */

struct elig_state {
	cu_fieldset missing;
	cu_policy *policy;
};

static cu_result run_eligibility(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct elig_state *st = r->state;

	return cu_http_answer(job, cu_member_eligibility(ctx, &r->actor, r->params[0], r->params[1],
						 &st->missing));
}

static enum MHD_Result h_eligibility(cu_request *r)
{
	struct elig_state *st = r->state;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(r, 200,
					  json_pack("{s:s,s:s,s:b,s:o}", "service", r->params[0],
						    "member", r->params[1], "eligible", !st->missing,
						    "missing", fieldset_json(st->policy, st->missing)));
	}
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	st->policy = cu_http_policy(r->srv);
	r->state = st;
	if (!cu_policy_service_find(st->policy, r->params[0]))
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such service", NULL);
	return cu_http_wait_writer(r, run_eligibility);
}

/* ---- sessions ------------------------------------------------------------ */

struct login_state {
	json_t *body;
	const char *email, *password;
	char member[CU_ID_LEN + 1];
	char hash[CU_VAULT_PWHASH_MAX];
	bool have_account;
	cu_ratelimit_key keys[2]; /* LOGIN_ACCOUNT, LOGIN_ADDRESS */
	cu_ratelimit_hold hold;
	char secret[CU_SESSION_SECRET_LEN + 1], csrf[CU_SESSION_CSRF_LEN + 1];
	char old[CU_SESSION_SECRET_LEN + 8];
	int64_t ttl_us;
};

enum { LOGIN_ACCOUNT, LOGIN_ADDRESS };
_Static_assert(CU_VAULT_BIDXBYTES == CU_RATELIMIT_KEY_LEN, "a blind index is a rate-limit key");

static void login_cleanup(cu_request *r)
{
	struct login_state *st = r->state;

	/* Ended while its hash ran (the client went away): it counts, as a failure would. */
	cu_ratelimit_finish_all(&r->srv->limits, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
	cu_http_json_wipe(st->body);
	json_decref(st->body);
	sodium_memzero(st, sizeof(*st));
}

static cu_result login_verify(cu_job *job)
{
	cu_request *r = job->arg;
	struct login_state *st = r->state;
	/* Unknown accounts cost the same hash, so timing tells nothing. */
	cu_result rc = cu_vault_password_verify(st->have_account ? st->hash : r->srv->dummy_hash,
						st->password);

	return st->have_account ? rc : CU_ERR_UNAUTHENTICATED;
}

static cu_result login_create(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct login_state *st = r->state;
	cu_result rc;

	/* A new session id at every login; the one presented, if any, ends. */
	if (st->old[0]) {
		rc = cu_session_delete(ctx, st->old);
		if (rc && rc != CU_ERR_NOT_FOUND && rc != CU_ERR_UNAUTHENTICATED)
			return rc;
	}
	return cu_session_create(ctx, st->member, st->ttl_us, st->secret, st->csrf);
}

static enum MHD_Result login_refused(cu_request *r)
{
	return cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED, "wrong e-mail address or password",
				   NULL);
}

static enum MHD_Result h_session_create(cu_request *r)
{
	struct login_state *st = r->state;
	const cu_vault *v = r->srv->ctx->vault;
	cu_store *reader;
	enum MHD_Result reply;
	json_t *email, *password;
	char norm[CU_EMAIL_MAX + 1];
	int64_t now = cu_now_us(), retry_us;

	switch (r->phase) {
	case 0:
		st = cu_arena_alloc(&r->arena, sizeof(*st));
		if (!st)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		memset(st, 0, sizeof(*st));
		st->body = cu_http_body_json(r, &reply);
		if (!st->body)
			return reply;
		r->state = st;
		r->cleanup = login_cleanup;
		email = json_object_get(st->body, "email");
		password = json_object_get(st->body, "password");
		if (json_object_size(st->body) != 2 || !json_is_string(email) ||
		    !json_is_string(password))
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
						  "expected {\"email\": ..., \"password\": ...}", NULL);
		st->email = json_string_value(email);
		st->password = json_string_value(password);
		if (strlen(st->password) > 1024)
			return login_refused(r);
		/* The account key exists whether or not the account does. */
		if (cu_member_normalise_email(st->email, norm, sizeof(norm)) ||
		    cu_vault_blind_index(v, cu_vault_current_key_id(v), "email", norm,
					 st->keys[LOGIN_ACCOUNT].id)) {
			sodium_memzero(norm, sizeof(norm));
			return login_refused(r);
		}
		sodium_memzero(norm, sizeof(norm));
		st->keys[LOGIN_ACCOUNT].limit = CU_LOGIN_ACCOUNT_LIMIT;
		st->keys[LOGIN_ACCOUNT].window_us = CU_LOGIN_WINDOW_US;
		address_key(r, CU_RATELIMIT_LOGIN_ADDRESS, st->keys[LOGIN_ADDRESS].id);
		st->keys[LOGIN_ADDRESS].limit = CU_LOGIN_ADDRESS_LIMIT;
		st->keys[LOGIN_ADDRESS].window_us = CU_LOGIN_WINDOW_US;
		/*
		 * The attempt is reserved before its hash is computed, so attempts
		 * sent at once are held to the limits as if sent one by one.
		 */
		if (cu_ratelimit_reserve(&r->srv->limits, st->keys, 2, now, &st->hold, &retry_us))
			return reply_rate_limited(r, retry_us,
						  "too many failed logins; try again later");
		reader = cu_http_reader(r->srv);
		if (!reader) {
			cu_ratelimit_finish_all(&r->srv->limits, &st->hold, CU_RATELIMIT_RELEASE,
						now);
			return cu_http_store_unavailable(r);
		}
		if (cu_member_lookup(v, reader, "email", st->email, st->member) == CU_OK) {
			cu_member_row row = {0};

			if (cu_store_member_get(reader, st->member, &row) == CU_OK && !row.erased &&
			    row.password_hash && strlen(row.password_hash) < sizeof(st->hash)) {
				memcpy(st->hash, row.password_hash, strlen(row.password_hash) + 1);
				st->have_account = true;
			}
			cu_member_row_release(&row);
		}
		return cu_http_wait_hasher(r, login_verify);
	case 1:
		if (r->job.rc) {
			cu_ratelimit_finish_all(&r->srv->limits, &st->hold, CU_RATELIMIT_COUNT, now);
			return login_refused(r);
		}
		/* The account's failures are forgiven; the address's stand. */
		cu_ratelimit_finish(&r->srv->limits, &st->hold, LOGIN_ACCOUNT, CU_RATELIMIT_CLEAR,
				    now);
		cu_ratelimit_finish(&r->srv->limits, &st->hold, LOGIN_ADDRESS, CU_RATELIMIT_RELEASE,
				    now);
		{
			const char *old = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
								      CU_SESSION_COOKIE);

			if (old && strlen(old) < sizeof(st->old))
				memcpy(st->old, old, strlen(old) + 1);
		}
		st->ttl_us = (int64_t)r->srv->ctx->config.session_ttl_min * 60 * 1000000;
		return cu_http_wait_writer(r, login_create);
	default: {
		char cookie[160], ts[32];

		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		/* The cookie carries a random id only; Secure is added when served over TLS. */
		snprintf(cookie, sizeof(cookie),
			 "%s=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld", CU_SESSION_COOKIE,
			 st->secret, (long long)(st->ttl_us / 1000000));
		cu_http_header(r, "Set-Cookie", cookie);
		sodium_memzero(cookie, sizeof(cookie));
		cu_http_iso_time(now + st->ttl_us, ts);
		return cu_http_reply_json(r, 200, json_pack("{s:s,s:s,s:s}", "member", st->member,
							    "csrf", st->csrf, "expires", ts));
	}
	}
}

static cu_result logout_run(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;

	return cu_session_delete(ctx, MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND,
								  CU_SESSION_COOKIE));
}

static enum MHD_Result h_session_delete(cu_request *r)
{
	if (r->phase == 0)
		return cu_http_wait_writer(r, logout_run);
	if (r->job.rc && r->job.rc != CU_ERR_NOT_FOUND)
		return cu_http_reply_error(r, r->job.rc, NULL, NULL);
	cu_http_header(r, "Set-Cookie",
		       CU_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
	return cu_http_reply_empty(r, 204);
}

/* ---- the officer's audit view -------------------------------------------- */

struct audit_collect {
	json_t *arr;
	size_t limit, n;
	uint64_t last;
};

static int collect_audit(void *ud, const cu_audit_entry *e)
{
	struct audit_collect *c = ud;

	if (c->n >= c->limit)
		return 1;
	json_array_append_new(c->arr, entry_json(e, true));
	c->n++;
	c->last = e->seq;
	return 0;
}

static enum MHD_Result h_audit_list(cu_request *r)
{
	static const char *const allowed[] = {"member", "after", "limit", NULL};
	struct audit_collect c = {NULL, 0, 0, 0};
	const char *member = cu_http_query(r, "member"), *after = cu_http_query(r, "after");
	cu_store *reader = cu_http_reader(r->srv);
	unsigned long long from = 0;
	json_t *body;
	cu_result rc;

	if (cu_http_query_only(r, allowed) ||
	    parse_limit(cu_http_query(r, "limit"), 100, 1000, &c.limit))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
					  "expected member, after (a seq) and limit (1..1000)", NULL);
	if (after) {
		char *end;

		/* Digits only, and no wrap-around: "after" past the end is not "from the start". */
		errno = 0;
		from = strtoull(after, &end, 10);
		if (end == after || *end || !isdigit((unsigned char)after[0]) || errno == ERANGE ||
		    from >= (unsigned long long)INT64_MAX)
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "after must be a seq", NULL);
	}
	if (member && (!*member || strlen(member) > CU_ID_LEN))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "member must be a member id", NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.arr = json_array();
	rc = cu_store_audit_scan(reader, from + 1, member, collect_audit, &c);
	if (rc) {
		json_decref(c.arr);
		return cu_http_store_unavailable(r);
	}
	body = json_pack("{s:o}", "entries", c.arr);
	if (c.n == c.limit)
		json_object_set_new(body, "next_after", json_integer((json_int_t)c.last));
	return cu_http_reply_json(r, 200, body);
}

/* Bad checkpoint findings listed in the answer; the rest are counted. */
#define VERIFY_FINDINGS_MAX 20

struct verify_findings {
	json_t *arr;
};

/* Sources are named, not given as paths: "file" (next to the database) or "store". */
static void on_verify_finding(void *ud, const cu_audit_checkpoint_finding *f)
{
	struct verify_findings *v = ud;
	json_t *o;

	if (f->status == CU_AUDIT_CHECKPOINT_GOOD || json_array_size(v->arr) >= VERIFY_FINDINGS_MAX)
		return;
	o = json_pack("{s:s,s:s,s:s}", "source", strcmp(f->source, "store") ? "file" : "store",
		      "status", cu_audit_checkpoint_status_name(f->status), "what", f->what);
	if (o && f->status != CU_AUDIT_CHECKPOINT_MALFORMED &&
	    f->status != CU_AUDIT_CHECKPOINT_ABSENT)
		json_object_set_new(o, "seq", json_integer((json_int_t)f->cp.seq));
	if (o)
		json_array_append_new(v->arr, o);
}

static enum MHD_Result h_audit_verify(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	cu_audit_verify_request req;
	struct verify_findings vf;
	char own[4096];
	json_t *body, *cps;
	cu_result rc;

	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here", NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	/* The vault and the directory are fixed at start: read-only here. */
	cu_ctx_audit_checkpoint_path(r->srv->ctx, own, sizeof(own));
	memset(&req, 0, sizeof(req));
	vf.arr = json_array();
	req.vault = r->srv->ctx->vault;
	req.own_file = own;
	req.on_finding = on_verify_finding;
	req.ud = &vf;
	rc = cu_audit_verify_checkpoints(reader, &req);
	if (rc && rc != CU_ERR_AUDIT_BROKEN) {
		json_decref(vf.arr);
		return cu_http_store_unavailable(r);
	}
	cps = json_pack("{s:I,s:I,s:o}", "checked", (json_int_t)req.checkpoints, "bad",
			(json_int_t)req.bad, "findings", vf.arr);
	if (cps && req.covered_seq) {
		char t[32];

		cu_http_iso_time(req.covered_time_us, t);
		json_object_set_new(cps, "covered_seq", json_integer((json_int_t)req.covered_seq));
		json_object_set_new(cps, "covered_time", json_string(t));
	}
	if (rc == CU_OK)
		body = json_pack("{s:b,s:I,s:o}", "intact", 1, "checked",
				 (json_int_t)req.chain.checked, "checkpoints", cps);
	else if (req.chain.broken_seq)
		body = json_pack("{s:b,s:I,s:I,s:s,s:o}", "intact", 0, "checked",
				 (json_int_t)req.chain.checked, "broken_seq",
				 (json_int_t)req.chain.broken_seq, "what", req.chain.what,
				 "checkpoints", cps);
	else
		/* The chain holds together, but is not what was signed: entries were cut or replaced. */
		body = json_pack("{s:b,s:I,s:s,s:o}", "intact", 0, "checked",
				 (json_int_t)req.chain.checked, "what", req.first_bad.what,
				 "checkpoints", cps);
	return cu_http_reply_json(r, 200, body);
}

/* ---- the table ----------------------------------------------------------- */

const cu_route cu_routes_core[] = {
	{"GET", "/healthz", "/healthz", h_healthz, 0, true, true},
	{"GET", "/readyz", "/readyz", h_readyz, 0, true, true},
	{"GET", "/metrics", "/metrics", h_metrics, 0, true, true},
	{"GET", "/openapi.json", "/openapi.json", h_openapi, 0, true, true},
	{"POST", "/v1/members", "/v1/members", h_members_create,
	 R(SERVICE) | R(STAFF) | R(OFFICER) | R(ADMIN), true, false},
	{"GET", "/v1/members", "/v1/members", h_members_list, STAFFISH, false, false},
	{"POST", "/v1/members/search", "/v1/members/search", h_members_search,
	 R(STAFF) | R(SERVICE) | R(OFFICER) | R(ADMIN), false, false},
	{"GET", "/v1/members/{}", "/v1/members/{id}", h_member_get, STAFFISH, false, false},
	{"GET", "/v1/me", "/v1/me", h_me_get, R(MEMBER), false, false},
	{"PATCH", "/v1/me", "/v1/me", h_me_patch, R(MEMBER), false, false},
	{"GET", "/v1/me/access-log", "/v1/me/access-log", h_me_access_log, R(MEMBER), false, false},
	{"GET", "/v1/services/{}/eligibility/{}", "/v1/services/{service}/eligibility/{id}",
	 h_eligibility, R(SERVICE) | R(STAFF) | R(OFFICER) | R(MEMBER), false, false},
	{"POST", "/v1/session", "/v1/session", h_session_create, 0, true, true},
	{"DELETE", "/v1/session", "/v1/session", h_session_delete, R(MEMBER), false, false},
	{"GET", "/v1/audit", "/v1/audit", h_audit_list, R(OFFICER), false, false},
	{"GET", "/v1/audit/verify", "/v1/audit/verify", h_audit_verify, R(OFFICER), false, false},
};

const size_t cu_routes_core_count = sizeof(cu_routes_core) / sizeof(cu_routes_core[0]);
