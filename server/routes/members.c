/*
 * server/routes/members.c — members: sign-up (POST /v1/members), reads through the door
 * (/v1/members/{id}, /v1/me), changes (PATCH /v1/me), a member's access log,
 * lookup by e-mail or phone, and a service's eligibility check.
 */
#include "routes/routes.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "domain/audit_log.h"
#include "domain/export.h"
#include "domain/members.h"

static int kv_from_json(cu_request *r, json_t *j, const char *const *skip, cu_kv *kv, size_t *n,
                        cu_errors *errs)
{
	const char *key;
	json_t *v;
	int bad = 0;

	*n = 0;
	json_object_foreach(j, key, v)
	{
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
		switch (
		    cu_http_field_value(r, cu_http_policy(r->srv), key, v, &kv[*n].value, errs)) {
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

#define SIGNUPS_LIMITED       "too many sign-ups from this address; try again later"
#define EMAIL_CHANGES_LIMITED "too many e-mail address changes from this address; try again later"

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
	cu_route_limit hold; /* a public sign-up's place under its address's limit */
};

static void reg_cleanup(cu_request *r)
{
	struct reg_state *st = r->state;

	cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
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

	cu_result rc = cu_member_apply_in_batch(ctx, &st->reg, &st->errs);

	/* A duplicate is refused before anything is written: the answer, and the batch goes on. */
	if (rc == CU_ERR_CONFLICT) {
		job->rc = rc;
		return CU_OK;
	}
	/* Anything else is the store's failure, which takes the batch (a whole job, writer.h). */
	return rc;
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
				return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL,
				                           &st->errs);
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
			cu_result rc;

			cu_route_address_key(r, CU_RATELIMIT_SIGNUP_ADDRESS, key.id);
			rc = cu_route_limit_reserve(r, &key, 1, cu_now_us(), &st->hold, &retry_us);
			if (rc == CU_ERR_RATE_LIMITED)
				return cu_route_reply_rate_limited(r, retry_us, SIGNUPS_LIMITED);
			if (rc)
				return cu_http_store_unavailable(r);
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
				cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_RELEASE,
				                          cu_now_us());
			return cu_http_reply_error(r, st->prep_rc, NULL, &st->errs);
		}
		return cu_http_wait_writer_whole(r, reg_apply);
	default:
		cu_route_limit_finish_all(r, &st->hold, CU_RATELIMIT_COUNT, cu_now_us());
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc,
			                           r->job.rc == CU_ERR_CONFLICT
			                               ? "that e-mail address is already registered"
			                               : NULL,
			                           &st->errs);
		return cu_http_reply_json(r, MHD_HTTP_CREATED,
		                          json_pack("{s:s}", "id", st->reg.row.id));
	}
}

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
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
		    "unknown query parameter; expected purpose, case, fields", NULL);
	purpose = cu_http_query(r, "purpose");
	case_ref = cu_http_query(r, "case");
	if (!purpose || !*purpose)
		return cu_http_reply_error(r, CU_ERR_PURPOSE_REQUIRED,
		                           "every read names its purpose: ?purpose=...", NULL);
	if (parse_fields(cu_http_policy(r->srv), cu_http_query(r, "fields"), &fields))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "fields must be a comma-separated list of policy fields",
		                           NULL);
	return cu_http_start_read(r, r->params[0], purpose, case_ref && *case_ref ? case_ref : NULL,
	                          fields, NULL, NULL);
}

static enum MHD_Result h_me_get(cu_request *r)
{
	if (r->phase > 0)
		return cu_http_finish_read(r);
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
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

	return cu_http_answer(
	    job, cu_member_update(ctx, &r->actor, NULL, r->member, st->kv, st->n, &st->errs));
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
			changed |= (cu_fieldset)1
			           << cu_policy_field_index(st->policy, st->kv[i].name);
		return cu_http_reply_json(
		    r, MHD_HTTP_OK,
		    json_pack("{s:o}", "updated", fieldset_json(st->policy, changed)));
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
			cu_route_limit hold;
			int64_t retry_us, now = cu_now_us();
			cu_result rc;

			cu_route_address_key(r, CU_RATELIMIT_SIGNUP_ADDRESS, key.id);
			rc = cu_route_limit_reserve(r, &key, 1, now, &hold, &retry_us);
			if (rc == CU_ERR_RATE_LIMITED)
				return cu_route_reply_rate_limited(r, retry_us,
				                                   EMAIL_CHANGES_LIMITED);
			if (rc)
				return cu_http_store_unavailable(r);
			cu_route_limit_finish_all(r, &hold, CU_RATELIMIT_COUNT, now);
		}
	return cu_http_wait_writer(r, run_update);
}

/* ---- GET /v1/me/access-log ----------------------------------------------- */

struct log_collect {
	const char *member;
	json_t **ring;
	size_t cap, n, next;
};

static int collect_others(void *ud, const cu_audit_entry *e)
{
	struct log_collect *c = ud;

	/* What others did with my data; my own acts I know (but not who opened my links). */
	if (!strcmp(e->actor, c->member) && !strcmp(e->role, "member") &&
	    strcmp(e->action, "share_read"))
		return 0;
	json_decref(c->ring[c->next]);
	c->ring[c->next] = cu_route_audit_entry_json(e, false);
	/* Named as the export names them: "self" for the sign-up, never another member's id. */
	if (c->ring[c->next])
		json_object_set_new(c->ring[c->next], "actor",
		                    json_string(cu_export_actor_label(e, c->member)));
	c->next = (c->next + 1) % c->cap;
	if (c->n < c->cap)
		c->n++;
	return 0;
}

static enum MHD_Result h_me_access_log(cu_request *r)
{
	static const char *const allowed[] = {"limit", NULL};
	struct log_collect c = {r->member, NULL, 0, 0, 0};
	cu_store *reader = cu_http_reader(r->srv);
	json_t *arr;
	cu_result rc;

	if (cu_http_query_only(r, allowed) ||
	    cu_route_parse_limit(cu_http_query(r, "limit"), 100, 1000, &c.cap))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "limit must be 1..1000",
		                           NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.ring = calloc(c.cap, sizeof(*c.ring));
	if (!c.ring)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	rc = cu_audit_log_scan(reader, 1, r->member, collect_others, &c);
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
	return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:o}", "entries", arr));
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
			return cu_http_reply_error(
			    r, r->job.rc,
			    r->job.rc == CU_ERR_INVALID_FIELD ? "the value is malformed" : NULL,
			    NULL);
		if (!st->id[0])
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no member matches", NULL);
		return cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:s}", "id", st->id));
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
		return cu_http_reply_error(
		    r, CU_ERR_INVALID_ARGUMENT,
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
		                           "use POST /v1/members/search with a JSON body",
		                           NULL);
	return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
	                           "members are not listed; find one with POST /v1/members/search",
	                           NULL);
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

	return cu_http_answer(
	    job, cu_member_eligibility(ctx, &r->actor, r->params[0], r->params[1], &st->missing));
}

static enum MHD_Result h_eligibility(cu_request *r)
{
	struct elig_state *st = r->state;

	if (r->phase > 0) {
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(r, MHD_HTTP_OK,
		                          json_pack("{s:s,s:s,s:b,s:o}", "service", r->params[0],
		                                    "member", r->params[1], "eligible",
		                                    !st->missing, "missing",
		                                    fieldset_json(st->policy, st->missing)));
	}
	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
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

/* ---- the table ----------------------------------------------------------- */

const cu_route cu_routes_members[] = {
    {"POST", "/v1/members", "/v1/members", h_members_create,
     R(SERVICE) | R(STAFF) | R(OFFICER) | R(ADMIN), true, false, false},
    {"GET", "/v1/members", "/v1/members", h_members_list, STAFFISH, false, false, false},
    {"POST", "/v1/members/search", "/v1/members/search", h_members_search,
     R(STAFF) | R(SERVICE) | R(OFFICER) | R(ADMIN), false, false, false},
    {"GET", "/v1/members/{}", "/v1/members/{id}", h_member_get, STAFFISH, false, false, false},
    {"GET", "/v1/me", "/v1/me", h_me_get, R(MEMBER), false, false, false},
    {"PATCH", "/v1/me", "/v1/me", h_me_patch, R(MEMBER), false, false, false},
    {"GET", "/v1/me/access-log", "/v1/me/access-log", h_me_access_log, R(MEMBER), false, false,
     false},
    {"GET", "/v1/services/{}/eligibility/{}", "/v1/services/{service}/eligibility/{id}",
     h_eligibility, R(SERVICE) | R(STAFF) | R(OFFICER) | R(MEMBER), false, false, false},
};

const size_t cu_routes_members_count = sizeof(cu_routes_members) / sizeof(cu_routes_members[0]);
