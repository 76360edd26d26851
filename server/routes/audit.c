/*
 * server/routes/audit.c — the officer's audit view (GET /v1/audit, /v1/audit/verify), and an
 * audit entry as JSON (also a member's access log).
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
#include "audit/checkpoint.h"

json_t *cu_route_audit_entry_json(const cu_audit_entry *e, bool full)
{
	char ts[CU_HTTP_TIME_LEN], hash[CU_AUDIT_HASHBYTES * 2 + 1];
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
		json_object_set_new(o, "chain",
		                    json_string(e->chain ? e->chain : CU_AUDIT_CHAIN_MAIN));
	}
	return o;
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
	json_array_append_new(c->arr, cu_route_audit_entry_json(e, true));
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
	    cu_route_parse_limit(cu_http_query(r, "limit"), 100, 1000, &c.limit))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
		                           "expected member, after (a seq) and limit (1..1000)",
		                           NULL);
	if (after) {
		char *end;

		/* Digits only, and no wrap-around: "after" past the end is not "from the start". */
		errno = 0;
		from = strtoull(after, &end, 10);
		if (end == after || *end || !isdigit((unsigned char)after[0]) || errno == ERANGE ||
		    from >= (unsigned long long)INT64_MAX)
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
			                           "after must be a seq", NULL);
	}
	if (member && (!*member || strlen(member) > CU_ID_LEN))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "member must be a member id",
		                           NULL);
	if (!reader)
		return cu_http_store_unavailable(r);
	c.arr = json_array();
	rc = cu_audit_log_scan(reader, from + 1, member, collect_audit, &c);
	if (rc) {
		json_decref(c.arr);
		return cu_http_store_unavailable(r);
	}
	body = json_pack("{s:o}", "entries", c.arr);
	if (c.n == c.limit)
		json_object_set_new(body, "next_after", json_integer((json_int_t)c.last));
	return cu_http_reply_json(r, MHD_HTTP_OK, body);
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
	char own[CU_SERVER_DIR_MAX];
	json_t *body, *cps;
	cu_result rc;

	if (cu_http_query_only(r, (const char *const[]){NULL}))
		return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT, "no query parameters here",
		                           NULL);
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
		char t[CU_HTTP_TIME_LEN];

		cu_http_iso_time(req.covered_time_us, t);
		json_object_set_new(cps, "covered_seq", json_integer((json_int_t)req.covered_seq));
		json_object_set_new(cps, "covered_time", json_string(t));
	}
	if (rc == CU_OK)
		body = json_pack("{s:b,s:I,s:I,s:o}", "intact", 1, "checked",
		                 (json_int_t)req.chain.checked, "chains",
		                 (json_int_t)req.chain.chains, "checkpoints", cps);
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
	return cu_http_reply_json(r, MHD_HTTP_OK, body);
}

const cu_route cu_routes_audit[] = {
    {"GET", "/v1/audit", "/v1/audit", h_audit_list, R(OFFICER) | R(ADMIN), false, false, false},
    {"GET", "/v1/audit/verify", "/v1/audit/verify", h_audit_verify, R(OFFICER) | R(ADMIN), false,
     false, false},
};

const size_t cu_routes_audit_count = sizeof(cu_routes_audit) / sizeof(cu_routes_audit[0]);
