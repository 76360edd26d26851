/*
 * server/routes/pipeline.c — the door pipeline and what every handler shares: a read of a member
 * through the door (rules on the reader, the audit entry through the writer,
 * then the allowed fields), a writer job's answer, field values from a body,
 * the client's address as a rate-limit key and the 429 answer.
 *
 * A handler that must wait (for its audit entry or write to be durable, or
 * for Argon2id) suspends with cu_http_wait_writer / cu_http_wait_hasher and
 * is called again with r->phase advanced; its state lives in r->state and is
 * released by r->cleanup when the request ends, however it ends.
 */
#include "routes/routes.h"

#include <ctype.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "domain/export.h"
#include "domain/members.h"

#include "http/json_out.h"

void cu_http_iso_time(int64_t us, char out[CU_HTTP_TIME_LEN])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, CU_HTTP_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
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
	char msg[CU_SERVER_ERR_MAX];

	snprintf(msg, sizeof(msg),
	         "a case reference is 1-%d bytes of one line of text, not blank, without "
	         "control characters",
	         CU_CASE_REF_MAX);
	return cu_http_reply_error(r, CU_ERR_CASE_INVALID, msg, NULL);
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
		char *num = cu_arena_alloc(&r->arena, CU_HTTP_INTEGER_LEN);

		if (!num)
			return -2;
		snprintf(num, CU_HTTP_INTEGER_LEN, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		*out = num;
		return 0;
	}
	cu_errors_add(errs, strlen(key) < CU_HTTP_FIELD_ECHO_MAX ? key : "(field)", "malformed");
	return -1;
}

/*
 * Turns a JSON object into name/value pairs, skipping `skip` keys, with
 * cu_http_field_value: a text field takes a string only.
 */

/* ---- attempt limits: the client's address, the answer ---------------- */

/* The client's address as a rate-limit key for one use (rules in http/ratelimit.h). */
void cu_route_address_key(cu_request *r, const char *use, unsigned char out[CU_RATELIMIT_KEY_LEN])
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

	cu_ratelimit_address_key(ci ? ci->client_addr : NULL, use, out);
}

_Static_assert(CU_RATELIMIT_HOLD_MAX == CU_ATTEMPT_KEYS_MAX, "one hold, both tables");

static enum cu_attempt_outcome shared_outcome(enum cu_ratelimit_outcome o)
{
	return o == CU_RATELIMIT_CLEAR     ? CU_ATTEMPT_CLEAR
	       : o == CU_RATELIMIT_RELEASE ? CU_ATTEMPT_RELEASE
	                                   : CU_ATTEMPT_COUNT;
}

cu_result cu_route_limit_reserve(cu_request *r, const cu_ratelimit_key *keys, size_t n, int64_t now,
                                 cu_route_limit *lim, int64_t *retry_us)
{
	cu_store *s;
	cu_result rc;

	memset(lim, 0, sizeof(*lim));
	if (n < 1 || n > CU_RATELIMIT_HOLD_MAX)
		return CU_ERR_INTERNAL;
	rc = cu_ratelimit_reserve(&r->srv->limits, keys, n, now, &lim->local, retry_us);
	if (rc)
		return rc;
	s = cu_http_reader(r->srv);
	if (!s) {
		cu_ratelimit_finish_all(&r->srv->limits, &lim->local, CU_RATELIMIT_RELEASE, now);
		return CU_ERR_STORE;
	}
	if (!cu_attempts_shared(s))
		return CU_OK;
	lim->n = n;
	for (size_t i = 0; i < n; i++) {
		memcpy(lim->keys[i].id, keys[i].id, CU_ATTEMPT_KEY_LEN);
		lim->keys[i].limit = keys[i].limit;
		lim->keys[i].window_us = keys[i].window_us;
	}
	rc = cu_attempts_reserve(s, lim->keys, n, now, lim->window, retry_us);
	if (rc) {
		cu_ratelimit_finish_all(&r->srv->limits, &lim->local, CU_RATELIMIT_RELEASE, now);
		lim->n = 0;
		return rc;
	}
	lim->shared = true;
	for (size_t i = 0; i < n; i++)
		lim->open[i] = true;
	return CU_OK;
}

void cu_route_limit_finish(cu_request *r, cu_route_limit *lim, size_t i,
                           enum cu_ratelimit_outcome outcome, int64_t now)
{
	cu_store *s;

	cu_ratelimit_finish(&r->srv->limits, &lim->local, i, outcome, now);
	if (!lim->shared || i >= lim->n || !lim->open[i])
		return;
	lim->open[i] = false;
	/* A failure leaves the attempt counted: the safe side, said once per attempt. */
	s = cu_http_reader(r->srv);
	if (!s || cu_attempts_finish(s, &lim->keys[i], lim->window[i], shared_outcome(outcome),
	                             now) != CU_OK)
		fprintf(stderr, "custodian: an attempt limit in the store could not be finished;"
		                " the attempt stays counted\n");
}

void cu_route_limit_finish_all(cu_request *r, cu_route_limit *lim,
                               enum cu_ratelimit_outcome outcome, int64_t now)
{
	/* The process's table holds every key of the hold; the store's part, lim->n of them. */
	for (size_t i = 0; i < lim->local.n; i++)
		cu_route_limit_finish(r, lim, i, outcome, now);
}

/* 429 rate_limited with Retry-After: whole seconds, rounded up. */
enum MHD_Result cu_route_reply_rate_limited(cu_request *r, int64_t retry_us, const char *message)
{
	char secs[CU_HTTP_SECONDS_LEN];

	snprintf(secs, sizeof(secs), "%lld", (long long)((retry_us + 999999) / 1000000));
	cu_http_header(r, "Retry-After", secs);
	return cu_http_reply_error(r, CU_ERR_RATE_LIMITED, message, NULL);
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
};

/* A read's state takes one arena chunk: the one each network thread keeps (arena.c). */
_Static_assert(sizeof(struct read_state) <= CU_ARENA_CHUNK, "a read's state fits one chunk");

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

	/* The entry, and the review an exceptional read opens, in one savepoint; an entry alone in none. */
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
	if (case_ref && *case_ref && cu_case_ref_problem(case_ref))
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
	/* An entry alone is one statement (cu_access_record): no savepoint for it. */
	return st->au.exception ? cu_http_wait_writer(r, append_audit)
	                        : cu_http_wait_writer_whole(r, append_audit);
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
	return cu_http_reply_text(r, MHD_HTTP_OK, "application/json", cu_jw_finish(&w));
}

/* Parses ?fields=a,b into a set; -1 if a name is unknown. */

int cu_route_parse_limit(const char *s, size_t def, size_t max, size_t *out)
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
