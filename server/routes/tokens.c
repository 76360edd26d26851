/*
 * server/routes/tokens.c — the bearer tokens of staff and the rest, over
 * HTTP, for the admin role: list them (GET /v1/tokens), issue one (POST
 * /v1/tokens, whose answer holds the secret, once), revoke one (DELETE
 * /v1/tokens/{id}).  The same functions as `custodian token` (domain/tokens.h),
 * audited by them in the same transaction as the change (token_create,
 * token_revoke; never the secret).
 */
#include "routes/routes.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "domain/tokens.h"
#include "util/date.h"

/* A token as JSON: everything but its hash.  contract: NULL when bound to none. */
static json_t *token_json(const cu_token_info *t, const char *contract, int64_t now)
{
	return json_pack("{s:s,s:s,s:s,s:o,s:o,s:o,s:s,s:s?}", "id", t->id, "role",
	                 cu_role_name(t->role), "name", t->name, "created",
	                 cu_route_iso(t->created_us), "expires",
	                 t->expires_us ? cu_route_iso(t->expires_us) : json_null(), "revoked",
	                 t->revoked_us ? cu_route_iso(t->revoked_us) : json_null(), "status",
	                 cu_token_status_name(cu_token_status_at(t, now)), "contract", contract);
}

/* ---- GET /v1/tokens -------------------------------------------------------- */

struct token_list {
	cu_token_info *v;
	size_t n, cap;
};

static int collect_token(void *ud, const cu_token_info *t)
{
	struct token_list *l = ud;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		cu_token_info *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return 1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *t;
	return 0;
}

static enum MHD_Result h_tokens_list(cu_request *r)
{
	cu_store *reader = cu_http_reader(r->srv);
	struct token_list l = {NULL, 0, 0};
	int64_t now = cu_now_us();
	json_t *arr = NULL;
	cu_result rc;
	enum MHD_Result ret;

	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (!reader)
		return cu_http_store_unavailable(r);
	rc = cu_token_list(reader, collect_token, &l);
	if (rc) {
		ret = cu_http_store_unavailable(r);
		goto out;
	}
	arr = json_array();
	/* Contracts are read after the list, so no two statements are open at once. */
	for (size_t i = 0; i < l.n; i++) {
		char contract[CU_REGISTRY_ID_MAX + 1];
		bool bound = false;

		if (l.v[i].role == CU_ROLE_SUBCONTRACTOR) {
			rc = cu_token_contract(reader, l.v[i].id, contract);
			if (rc && rc != CU_ERR_NOT_FOUND) {
				ret = cu_http_store_unavailable(r);
				goto out;
			}
			bound = rc == CU_OK;
		}
		json_array_append_new(arr, token_json(&l.v[i], bound ? contract : NULL, now));
	}
	ret = cu_http_reply_json(r, MHD_HTTP_OK, json_pack("{s:O}", "tokens", arr));
out:
	json_decref(arr);
	free(l.v);
	return ret;
}

/* ---- POST /v1/tokens ----------------------------------------------------------- */

struct create_state {
	json_t *body; /* first: cu_route_body_cleanup */
	cu_role role;
	const char *name, *contract;
	int64_t expires_us;
	char secret[CU_TOKEN_SECRET_LEN + 1];
	char id[CU_ID_LEN + 1];
	cu_token_info info;
	cu_errors errs;
};

static void create_cleanup(cu_request *r)
{
	struct create_state *st = r->state;

	sodium_memzero(st->secret, sizeof(st->secret));
	cu_route_body_cleanup(r);
}

static cu_result run_create(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct create_state *st = r->state;
	cu_result rc = cu_token_create_bound(ctx, &r->actor, st->role, st->name, st->expires_us,
	                                     st->contract, st->secret, st->id);

	if (rc == CU_OK)
		rc = cu_token_get(ctx->store, st->id, &st->info);
	return cu_http_answer(job, rc);
}

/*
 * Reads {"role", "name", "expires"?: "YYYY-MM-DD", "contract"?} into st.
 * Returns 0, or -1 with the field errors in st->errs (or a shape error
 * when *shape is set).
 */
static int read_create(struct create_state *st, bool *shape)
{
	static const char *const keys[] = {"role", "name", "expires", "contract", NULL};
	const char *role, *expires, *problem;
	bool bad = false, role_ok = false;

	role = cu_route_opt_string(st->body, "role", &bad);
	st->name = cu_route_opt_string(st->body, "name", &bad);
	expires = cu_route_opt_string(st->body, "expires", &bad);
	st->contract = cu_route_opt_string(st->body, "contract", &bad);
	if (bad || !cu_route_only_keys(st->body, keys)) {
		*shape = true;
		return -1;
	}
	if (!role || !*role)
		cu_errors_add(&st->errs, "role", "required");
	else if (cu_role_parse(role, &st->role) != CU_OK || !cu_token_role_allowed(st->role))
		cu_errors_add(&st->errs, "role", "unknown");
	else
		role_ok = true;
	problem = st->name ? cu_token_name_problem(st->name) : "required";
	if (problem)
		cu_errors_add(&st->errs, "name", problem);
	if (expires && *expires) {
		if (cu_date_parse(expires, &st->expires_us) != CU_OK)
			cu_errors_add(&st->errs, "expires", "malformed");
		else if (st->expires_us <= cu_now_us())
			cu_errors_add(&st->errs, "expires", "out_of_range");
	}
	if (st->contract && !*st->contract)
		st->contract = NULL;
	/* Only a subcontractor's token is bound to a contract. */
	if (st->contract && role_ok && st->role != CU_ROLE_SUBCONTRACTOR)
		cu_errors_add(&st->errs, "contract", "not_allowed");
	else if (st->contract && strlen(st->contract) > CU_REGISTRY_ID_MAX)
		cu_errors_add(&st->errs, "contract", "unknown");
	return st->errs.n ? -1 : 0;
}

static enum MHD_Result h_tokens_create(cu_request *r)
{
	struct create_state *st = r->state;
	enum MHD_Result reply;
	bool shape = false;
	json_t *body;
	char *text;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_NOT_FOUND && st->contract) {
			cu_errors_add(&st->errs, "contract", "unknown");
			return cu_http_reply_error(r, CU_ERR_INVALID_FIELD, "no such subcontractor",
			                           &st->errs);
		}
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		body = json_pack("{s:o,s:s}", "token",
		                 token_json(&st->info, st->contract, cu_now_us()), "secret",
		                 st->secret);
		sodium_memzero(st->secret, sizeof(st->secret));
		if (!body)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		/* A page's call keeps the JSON (wiped with the page); a client's is text, wiped when sent. */
		if (r->capture)
			return cu_http_reply_json(r, MHD_HTTP_CREATED, body);
		text = json_dumps(body, JSON_COMPACT);
		cu_http_json_wipe(body);
		json_decref(body);
		if (!text)
			return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return cu_http_reply_text(r, MHD_HTTP_CREATED, "application/json", text);
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
	r->cleanup = create_cleanup;
	if (read_create(st, &shape))
		return shape ? cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                                   "expected {\"role\", \"name\", \"expires\" "
		                                   "(YYYY-MM-DD), \"contract\": strings}",
		                                   NULL)
		             : cu_http_reply_error(r, CU_ERR_INVALID_FIELD, NULL, &st->errs);
	return cu_http_wait_writer(r, run_create);
}

/* ---- DELETE /v1/tokens/{id} ------------------------------------------------------ */

struct revoke_state {
	cu_token_info info;
	char contract[CU_REGISTRY_ID_MAX + 1]; /* "" when bound to none */
};

static cu_result run_revoke(cu_ctx *ctx, cu_job *job)
{
	cu_request *r = job->arg;
	struct revoke_state *st = r->state;
	cu_result rc = cu_token_get(ctx->store, r->params[0], &st->info);

	/* Revoking a revoked token changes nothing and writes nothing. */
	if (rc == CU_OK && !st->info.revoked_us) {
		rc = cu_token_revoke(ctx, &r->actor, r->params[0]);
		if (rc == CU_OK)
			rc = cu_token_get(ctx->store, r->params[0], &st->info);
	}
	if (rc == CU_OK && st->info.role == CU_ROLE_SUBCONTRACTOR &&
	    cu_token_contract(ctx->store, st->info.id, st->contract) != CU_OK)
		st->contract[0] = '\0';
	return cu_http_answer(job, rc == CU_ERR_INVALID_ARGUMENT ? CU_ERR_NOT_FOUND : rc);
}

static enum MHD_Result h_tokens_revoke(cu_request *r)
{
	struct revoke_state *st = r->state;

	if (r->phase > 0) {
		if (r->job.rc == CU_ERR_NOT_FOUND)
			return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such token", NULL);
		if (r->job.rc)
			return cu_http_reply_error(r, r->job.rc, NULL, NULL);
		return cu_http_reply_json(
		    r, MHD_HTTP_OK,
		    json_pack(
		        "{s:o}", "token",
		        token_json(&st->info, st->contract[0] ? st->contract : NULL, cu_now_us())));
	}
	if (cu_route_has_query(r))
		return cu_route_no_query(r);
	if (strlen(r->params[0]) != CU_ID_LEN)
		return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such token", NULL);
	st = cu_arena_alloc(&r->arena, sizeof(*st));
	if (!st)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	memset(st, 0, sizeof(*st));
	r->state = st;
	return cu_http_wait_writer(r, run_revoke);
}

const cu_route cu_routes_tokens[] = {
    {"GET", "/v1/tokens", "/v1/tokens", h_tokens_list, R(ADMIN), false, false, false},
    {"POST", "/v1/tokens", "/v1/tokens", h_tokens_create, R(ADMIN), false, false, false},
    {"DELETE", "/v1/tokens/{}", "/v1/tokens/{id}", h_tokens_revoke, R(ADMIN), false, false, false},
};

const size_t cu_routes_tokens_count = sizeof(cu_routes_tokens) / sizeof(cu_routes_tokens[0]);
