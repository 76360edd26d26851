/*
 * http.c — the server's plumbing: libmicrohttpd setup, the request
 * lifecycle (arena, bounded body, JSON with a depth limit), routing, the one
 * error model, authentication, the access log, suspension while a job
 * runs, signals (SIGTERM stops gracefully, SIGHUP reloads the policy).
 *
 * Route handlers live in routes.c.
 */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "domain/sessions.h"
#include "domain/versions.h"
#include "domain/tokens.h"

#include "checkpointer.h"
#include "notifier.h"

/* ---- arena --------------------------------------------------------------- */

struct cu_arena_chunk {
	struct cu_arena_chunk *next;
	size_t size, used;
	max_align_t data[];
};

void *cu_arena_alloc(cu_arena *a, size_t n)
{
	struct cu_arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (need < n || a->used + need > CU_ARENA_MAX)
		return NULL;
	if (!c || c->size - c->used < need) {
		size_t size = need > 4096 ? need : 4096;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = (char *)c->data + c->used;

	c->used += need;
	a->used += need;
	return p;
}

char *cu_arena_strdup(cu_arena *a, const char *s)
{
	size_t n = strlen(s);
	char *p = cu_arena_alloc(a, n + 1);

	if (p)
		memcpy(p, s, n + 1);
	return p;
}

void cu_arena_release(cu_arena *a)
{
	struct cu_arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		sodium_memzero(c->data, c->used);
		free(c);
	}
	a->head = NULL;
	a->used = 0;
}

/* ---- time, ids ----------------------------------------------------------- */

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- responses ----------------------------------------------------------- */

static void free_wiped(void *p)
{
	if (p) {
		sodium_memzero(p, strlen(p));
		free(p);
	}
}

static void common_headers(cu_request *r, struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Request-Id", r->request_id);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	for (int i = 0; i < r->nextra; i++)
		MHD_add_response_header(resp, r->extra[i].name, r->extra[i].value);
}

void cu_http_header(cu_request *r, const char *name, const char *value)
{
	/* A route sets at most a few headers: more is a bug, not a client's doing. */
	assert(r->nextra < (int)(sizeof(r->extra) / sizeof(r->extra[0])));
	if (r->nextra >= (int)(sizeof(r->extra) / sizeof(r->extra[0]))) {
		r->header_lost = true;
		return;
	}
	r->extra[r->nextra].name = cu_arena_strdup(&r->arena, name);
	r->extra[r->nextra].value = cu_arena_strdup(&r->arena, value);
	if (r->extra[r->nextra].name && r->extra[r->nextra].value)
		r->nextra++;
	else
		r->header_lost = true;
}

/*
 * A reply missing a header its route set (a Set-Cookie, a Retry-After) is
 * not the reply the route meant: it becomes 503 out_of_memory, with none of
 * the route's headers.  True when it did.
 */
static bool lost_header(cu_request *r, enum MHD_Result *ret)
{
	if (!r->header_lost)
		return false;
	r->header_lost = false;
	r->nextra = 0;
	*ret = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	return true;
}

enum MHD_Result cu_http_reply_text(cu_request *r, int status, const char *type, char *text)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!text)
		return cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
	if (lost_header(r, &ret)) {
		free_wiped(text);
		return ret;
	}
	/* The body may hold personal data: wipe it when libmicrohttpd lets it go. */
	resp = MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free_wiped);
	if (!resp) {
		free_wiped(text);
		return MHD_NO;
	}
	MHD_add_response_header(resp, "Content-Type", type);
	common_headers(r, resp);
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result cu_http_reply_json(cu_request *r, int status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	return cu_http_reply_text(r, status, "application/json", text);
}

enum MHD_Result cu_http_reply_empty(cu_request *r, int status)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (lost_header(r, &ret))
		return ret;
	resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	common_headers(r, resp);
	r->status = status;
	ret = MHD_queue_response(r->conn, (unsigned)status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result cu_http_reply_error(cu_request *r, cu_result rc, const char *message,
				    const cu_errors *errs)
{
	json_t *err = json_object(), *body = json_object();
	int status = cu_result_http(rc);

	/* A client never causes a 5xx; these are the server's own failures. */
	json_object_set_new(err, "code", json_string(cu_result_code(rc)));
	json_object_set_new(err, "message", json_string(message ? message : cu_strerror(rc)));
	if (errs && (errs->n || errs->dropped)) {
		json_t *fields = json_object();

		for (size_t i = 0; i < errs->n; i++)
			json_object_set_new(fields, errs->e[i].field, json_string(errs->e[i].reason));
		json_object_set_new(err, "fields", fields);
	}
	json_object_set_new(body, "error", err);
	return cu_http_reply_json(r, status, body);
}

/* ---- input --------------------------------------------------------------- */

const char *cu_http_header_value(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *cu_http_query(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_check {
	const char *const *allowed;
	const char *bad;
	int count;
};

static enum MHD_Result check_one(void *cls, enum MHD_ValueKind kind, const char *key,
				 const char *value)
{
	struct query_check *q = cls;

	(void)kind;
	(void)value;
	q->count++;
	for (const char *const *a = q->allowed; a && *a; a++)
		if (!strcmp(*a, key))
			return MHD_YES;
	q->bad = key;
	return MHD_NO;
}

int cu_http_query_only(cu_request *r, const char *const *allowed)
{
	struct query_check q = {allowed, NULL, 0};

	MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, check_one, &q);
	return q.bad ? -1 : 0;
}

int cu_http_json_depth(const char *s, size_t n)
{
	int depth = 0, max = 0, in_str = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++depth > max)
				max = depth;
		} else if (c == '}' || c == ']') {
			depth--;
		}
	}
	return max;
}

/*
 * jansson's error codes do not say "out of memory" when its allocator fails
 * (it reports the token it could not finish), so the server's allocator for
 * jansson notes the failure on the thread that saw it.
 */
static _Thread_local bool json_alloc_failed;

static void *json_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		json_alloc_failed = true;
	return p;
}

static void json_alloc_install(void)
{
	json_set_alloc_funcs(json_alloc, free);
}

json_t *cu_http_json_parse(const char *buf, size_t len, json_error_t *jerr, bool *nomem)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	json_t *j;

	pthread_once(&once, json_alloc_install);
	json_alloc_failed = false;
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, jerr);
	*nomem = json_alloc_failed;
	if (j && *nomem) {
		/* A failure jansson recovered from: the value is whole, keep it. */
		*nomem = false;
	}
	return j;
}

json_t *cu_http_body_json(cu_request *r, enum MHD_Result *reply)
{
	bool nomem;
	const char *type = cu_http_header_value(r, "Content-Type");
	json_error_t jerr;
	json_t *j;

	*reply = MHD_YES;
	if (r->body_nomem) {
		*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	if (r->body_too_large) {
		*reply = cu_http_reply_error(r, CU_ERR_TOO_LARGE, "request body over 64 KiB", NULL);
		return NULL;
	}
	if (!type || strncasecmp(type, "application/json", 16) != 0 ||
	    (type[16] && type[16] != ';' && type[16] != ' ')) {
		*reply = cu_http_reply_error(r, CU_ERR_UNSUPPORTED_MEDIA,
					     "the body must be application/json", NULL);
		return NULL;
	}
	if (!r->body || r->body_len == 0) {
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, "the body is empty", NULL);
		return NULL;
	}
	if (cu_http_json_depth(r->body, r->body_len) > CU_JSON_DEPTH_MAX) {
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, "the body nests too deeply", NULL);
		return NULL;
	}
	/* jansson refuses invalid UTF-8 and \u0000 by default; duplicates are refused too. */
	j = cu_http_json_parse(r->body, r->body_len, &jerr, &nomem);
	if (!j && nomem) {
		/* The server ran out, not the client's JSON: 503, not 400. */
		*reply = cu_http_reply_error(r, CU_ERR_NOMEM, NULL, NULL);
		return NULL;
	}
	if (!j) {
		char msg[200];

		/* jansson's words name a position and a problem, never the input itself. */
		snprintf(msg, sizeof(msg), "invalid JSON at line %d, column %d", jerr.line,
			 jerr.column);
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		*reply = cu_http_reply_error(r, CU_ERR_INVALID_JSON, "the body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

void cu_http_json_wipe(json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	if (json_is_string(j)) {
		sodium_memzero((char *)json_string_value(j), json_string_length(j));
	} else if (json_is_object(j)) {
		json_object_foreach(j, key, v) cu_http_json_wipe(v);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v) cu_http_json_wipe(v);
	}
}

/* ---- readers: one read-only store handle per network thread -------------- */

static void close_reader(void *p)
{
	cu_store_close(p);
}

cu_store *cu_http_reader(cu_server *srv)
{
	cu_store *s = pthread_getspecific(srv->reader_key);
	char err[256];

	if (s)
		return s;
	if (cu_store_open(srv->store_url, &s, err, sizeof(err)) != CU_OK)
		return NULL;
	pthread_setspecific(srv->reader_key, s);
	return s;
}

cu_policy *cu_http_policy(cu_server *srv)
{
	return atomic_load(&srv->policy);
}

/* ---- jobs: suspend the connection until the job is done ------------------ */

static void job_done(cu_job *job)
{
	cu_request *r = job->arg;

	/* Resuming calls the handler again; it finds r->phase advanced. */
	MHD_resume_connection(r->conn);
}

enum MHD_Result cu_http_wait_writer(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *))
{
	r->job.run = run;
	r->job.hash = NULL;
	r->job.done = job_done;
	r->job.arg = r;
	r->job.rc = CU_OK;
	r->phase++;
	MHD_suspend_connection(r->conn);
	if (cu_writer_submit(r->srv->writer, &r->job) != CU_OK) {
		MHD_resume_connection(r->conn);
		r->job.rc = CU_ERR_STORE;
	}
	return MHD_YES;
}

enum MHD_Result cu_http_wait_hasher(cu_request *r, cu_result (*hash)(cu_job *))
{
	r->job.run = NULL;
	r->job.hash = hash;
	r->job.done = job_done;
	r->job.arg = r;
	r->job.rc = CU_OK;
	r->phase++;
	MHD_suspend_connection(r->conn);
	if (cu_hasher_submit(r->srv->hasher, &r->job) != CU_OK) {
		MHD_resume_connection(r->conn);
		r->job.rc = CU_ERR_INTERNAL;
	}
	return MHD_YES;
}

/* ---- authentication ------------------------------------------------------ */

/* The value of cookie `name`, or NULL. */
static const char *cookie(cu_request *r, const char *name)
{
	return MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
}

static int is_unsafe(const char *method)
{
	return strcmp(method, "GET") && strcmp(method, "HEAD") && strcmp(method, "OPTIONS");
}

/*
 * Fills r->actor from a bearer token or a session cookie.  Returns 0, or an
 * error already replied (-1 with *reply set).
 */
static int authenticate(cu_request *r, bool public_ok, enum MHD_Result *reply)
{
	const char *auth = cu_http_header_value(r, "Authorization");
	const char *sid = cookie(r, CU_SESSION_COOKIE);
	cu_store *reader = cu_http_reader(r->srv);

	if (!reader) {
		*reply = cu_http_reply_error(r, CU_ERR_STORE, "the store is not available", NULL);
		return -1;
	}
	if (auth) {
		const char *secret;

		if (strncasecmp(auth, "Bearer ", 7) != 0 || strlen(auth) > 200) {
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
						     "expected 'Authorization: Bearer TOKEN'", NULL);
			return -1;
		}
		secret = auth + 7;
		if (cu_token_authenticate(reader, secret, cu_now_us(), &r->token) != CU_OK) {
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
						     "the token is not valid", NULL);
			return -1;
		}
		r->actor.name = r->token.name;
		r->actor.role = r->token.role;
		r->actor.member = NULL;
		r->actor.contract = NULL;
		/* A subcontractor acts under its contract; without one the door refuses it. */
		if (r->token.role == CU_ROLE_SUBCONTRACTOR) {
			cu_result rc = cu_token_contract(reader, r->token.id, r->contract);

			if (rc == CU_OK)
				r->actor.contract = r->contract;
			else if (rc != CU_ERR_NOT_FOUND) {
				*reply = cu_http_reply_error(r, rc, NULL, NULL);
				return -1;
			}
		}
		r->auth = CU_AUTH_TOKEN;
		return 0;
	}
	if (sid) {
		cu_session_info info;

		if (strlen(sid) > 128 || cu_session_check(reader, sid, cu_now_us(), &info) != CU_OK) {
			/* A stale cookie does not stop what anyone may do (sign up, say). */
			if (public_ok) {
				r->auth = CU_AUTH_NONE;
				return 0;
			}
			*reply = cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
						     "the session has ended; log in again", NULL);
			return -1;
		}
		memcpy(r->member, info.member, sizeof(r->member));
		r->session = info;
		r->actor.name = r->member;
		r->actor.role = CU_ROLE_MEMBER;
		r->actor.member = r->member;
		r->auth = CU_AUTH_SESSION;
		if (is_unsafe(r->method)) {
			const char *csrf = cu_http_header_value(r, "X-CSRF-Token");

			if (!csrf || cu_session_csrf_ok(&r->session, csrf) != CU_OK) {
				*reply = cu_http_reply_error(r, CU_ERR_CSRF_REQUIRED,
							    "a cookie-authenticated change needs "
							    "the X-CSRF-Token header", NULL);
				return -1;
			}
		}
		return 0;
	}
	r->auth = CU_AUTH_NONE;
	return 0;
}

/* ---- routing ------------------------------------------------------------- */

int cu_http_match(const char *pattern, const char *path, char params[2][CU_HTTP_PARAM_MAX])
{
	int np = 0;

	while (*pattern && *path) {
		if (*pattern != '/' || *path != '/')
			return 0;
		pattern++;
		path++;
		if (!strncmp(pattern, "{}", 2)) {
			size_t n = strcspn(path, "/");

			if (n == 0 || n >= CU_HTTP_PARAM_MAX || np >= 2)
				return 0;
			memcpy(params[np], path, n);
			params[np][n] = '\0';
			np++;
			pattern += 2;
			path += n;
		} else {
			size_t n = strcspn(pattern, "/");

			if (strncmp(pattern, path, n) || (path[n] && path[n] != '/'))
				return 0;
			pattern += n;
			path += n;
		}
	}
	return *pattern == '\0' && *path == '\0';
}

static enum MHD_Result route(cu_request *r)
{
	char allow[128] = "";
	enum MHD_Result reply;
	int path_matched = 0;

	for (size_t i = 0; i < cu_routes_count; i++) {
		const cu_route *rt = &cu_routes[i];

		if (!cu_http_match(rt->pattern, r->url, r->params))
			continue;
		path_matched = 1;
		if (strcmp(rt->method, r->method)) {
			size_t n = strlen(allow);

			snprintf(allow + n, sizeof(allow) - n, "%s%s", n ? ", " : "", rt->method);
			continue;
		}
		r->route = (int)i;
		if (!rt->anon && authenticate(r, rt->public_ok, &reply))
			return reply;
		if (rt->who) {
			int ok = 0;

			if (r->auth == CU_AUTH_TOKEN)
				ok = (rt->who >> r->actor.role) & 1;
			else if (r->auth == CU_AUTH_SESSION)
				ok = (rt->who >> CU_ROLE_MEMBER) & 1;
			else
				ok = rt->public_ok;
			if (!ok)
				return r->auth == CU_AUTH_NONE
					       ? cu_http_reply_error(r, CU_ERR_UNAUTHENTICATED,
								     "authentication required", NULL)
					       : cu_http_reply_error(r, CU_ERR_FORBIDDEN,
								     "this role may not use this route",
								     NULL);
		}
		return rt->handler(r);
	}
	r->route = -1;
	if (path_matched) {
		cu_http_header(r, "Allow", allow);
		return cu_http_reply_error(r, CU_ERR_METHOD_NOT_ALLOWED, NULL, NULL);
	}
	return cu_http_reply_error(r, CU_ERR_NOT_FOUND, "no such route", NULL);
}

/* ---- libmicrohttpd callbacks --------------------------------------------- */

/*
 * A request id: 64 bits, unique and unguessable, without a system call per
 * request (randombytes_buf asks the kernel every time): SipHash-2-4
 * (crypto_shorthash) of a per-thread counter under a per-thread random key.
 */
static void new_request_id(char out[17])
{
	static _Thread_local struct {
		unsigned char key[crypto_shorthash_KEYBYTES];
		uint64_t n;
		bool keyed;
	} t;
	unsigned char in[8], id[crypto_shorthash_BYTES];

	if (!t.keyed) {
		randombytes_buf(t.key, sizeof(t.key));
		t.keyed = true;
	}
	t.n++;
	memcpy(in, &t.n, sizeof(in));
	crypto_shorthash(id, in, sizeof(in), t.key);
	sodium_bin2hex(out, 17, id, sizeof(id));
}

/*
 * Marks a request whose query string on_uri refused (too many parameters);
 * on_request turns it into a request that answers 414.
 */
static char too_many_parameters;

/*
 * Marks a request whose raw URI holds %00.  libmicrohttpd decodes %00 in the
 * path and the query into a NUL, which cuts an id or a value short without a
 * trace; only an encoded NUL spells "%00" ("%2500" does not).  on_request
 * refuses such a request before routing.
 */
static char nul_in_uri_mark;

/*
 * The request line has arrived; libmicrohttpd is about to split the query
 * string into parameters, one record each from the connection's fixed
 * memory (CU_HEADER_MEMORY).  Some 465 short parameters exhaust it, and
 * libmicrohttpd 0.9.75 then fails to send even its own error and leaves the
 * client waiting for the idle timeout.  Count them first: past
 * CU_QUERY_PARAMS_MAX, cut the query string off where it starts (uri is
 * libmicrohttpd's own writable buffer, split after this callback returns),
 * so nothing is parsed, and answer 414 when the headers are in.
 */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	char *query = strchr(uri, '?');
	size_t n = 1;

	(void)cls;
	(void)conn;
	if (strstr(uri, "%00")) {
		/* Refused whatever it holds: leave libmicrohttpd no query to split. */
		if (query)
			query[1] = '\0';
		return &nul_in_uri_mark;
	}
	if (!query)
		return NULL;
	for (const char *p = query; (p = strchr(p + 1, '&')) != NULL;)
		if (++n > CU_QUERY_PARAMS_MAX) {
			query[1] = '\0';
			return &too_many_parameters;
		}
	return NULL;
}

struct framing {
	int content_length, transfer_encoding;
	bool chunked_only;
};

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (!strcasecmp(key, "Content-Length")) {
		f->content_length++;
	} else if (!strcasecmp(key, "Transfer-Encoding")) {
		f->transfer_encoding++;
		if (!value || strcasecmp(value, "chunked"))
			f->chunked_only = false;
	}
	return MHD_YES;
}

/*
 * Whether the headers say one thing about where the body ends: at most one
 * Content-Length, or one "Transfer-Encoding: chunked" and no Content-Length.
 * libmicrohttpd 0.9.75 takes the first of two Content-Lengths, and a proxy
 * in front may take the other: a request smuggled past it (RFC 9112, 6.3).
 */
static bool framing_ok(struct MHD_Connection *conn)
{
	struct framing f = {0, 0, true};

	MHD_get_connection_values(conn, MHD_HEADER_KIND, count_framing, &f);
	if (f.transfer_encoding)
		return f.transfer_encoding == 1 && f.chunked_only && !f.content_length;
	return f.content_length <= 1;
}

static cu_conn_deadline *conn_deadline(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	cu_server *srv = cls;
	cu_request *r = *con_cls;

	(void)version;
	if (!r || r == (void *)&too_many_parameters || r == (void *)&nul_in_uri_mark) {
		bool refused_query = r == (void *)&too_many_parameters;
		bool nul = r == (void *)&nul_in_uri_mark;

		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->nul_in_uri = nul;
		r->srv = srv;
		r->conn = conn;
		r->url = url;
		r->method = method;
		r->route = -1;
		clock_gettime(CLOCK_MONOTONIC, &r->start);
		new_request_id(r->request_id);
		*con_cls = r;
		/* Refused before the body is read: libmicrohttpd then closes the connection. */
		if (!framing_ok(conn))
			return cu_http_reply_error(r, CU_ERR_INVALID_FRAMING,
						  "conflicting Content-Length or Transfer-Encoding "
						  "headers", NULL);
		if (refused_query)
			return cu_http_reply_error(r, CU_ERR_TOO_MANY_PARAMETERS,
						  "the query string has too many parameters", NULL);
		return MHD_YES;
	}
	if (*upload_size) {
		/* Bounded: past the limit the rest is read and dropped, then refused. */
		if (r->body_nomem) {
			*upload_size = 0;
			return MHD_YES;
		}
		if (!r->body_too_large && r->body_len + *upload_size <= CU_BODY_MAX) {
			if (!r->body) {
				r->body = cu_arena_alloc(&r->arena, CU_BODY_MAX + 1);
				if (!r->body) {
					/* Read and drop the rest, then answer 503 out_of_memory. */
					r->body_nomem = true;
					*upload_size = 0;
					return MHD_YES;
				}
			}
			memcpy(r->body + r->body_len, upload, *upload_size);
			r->body_len += *upload_size;
			r->body[r->body_len] = '\0';
		} else {
			r->body_too_large = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (r->phase == 0 && r->route < 0) {
		/*
		 * In flight from here on: a graceful stop waits for requests being
		 * handled, not for a body a client stopped sending (libmicrohttpd may
		 * not notice such a client has gone until the connection times out).
		 */
		if (!r->counted) {
			r->counted = true;
			atomic_fetch_add(&srv->inflight, 1);
		}
		/* Arrived whole: from here on the wait is the server's, not the client's. */
		cu_deadlines_stop_clock(conn_deadline(conn));
		if (r->nul_in_uri)
			return cu_http_reply_error(r, CU_ERR_INVALID_ARGUMENT,
						  "a NUL byte (%00) is not allowed in the path or the "
						  "query", NULL);
		return route(r);
	}
	/* Resumed after a job: back into the handler that suspended. */
	return cu_routes[r->route].handler(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	cu_server *srv = cls;
	cu_request *r = *con_cls;
	double secs;

	(void)toe;
	/* The connection may carry another request: its clock starts now. */
	cu_deadlines_restart(srv->deadlines, conn_deadline(conn));
	if (!r || r == (void *)&too_many_parameters || r == (void *)&nul_in_uri_mark) {
		*con_cls = NULL;
		return;
	}
	secs = since(&r->start);
	cu_metrics_request(r->route, r->status, secs);
	if (srv->access_log) {
		char line[512];
		time_t now = time(NULL);
		struct tm tm;
		char ts[32];

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* Route templates only: no ids, no query values, nothing a client typed. */
		snprintf(line, sizeof(line),
			 "{\"time\":\"%s\",\"request_id\":\"%s\",\"method\":\"%s\",\"route\":\"%s\","
			 "\"status\":%d,\"duration_ms\":%.3f}\n",
			 ts, r->request_id, r->route >= 0 ? cu_routes[r->route].method : "-",
			 r->route >= 0 ? cu_routes[r->route].name : "unmatched", r->status,
			 secs * 1000.0);
		fputs(line, srv->access_log);
		fflush(srv->access_log);
	}
	if (r->cleanup)
		r->cleanup(r);
	cu_arena_release(&r->arena);
	if (r->counted)
		atomic_fetch_sub(&srv->inflight, 1);
	free(r);
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	cu_server *srv = cls;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_ctx = ci ? cu_deadlines_add(srv->deadlines, ci->connect_fd) : NULL;
		cu_metrics_connection(1);
	} else {
		/* Before libmicrohttpd closes the socket: the reaper never sees a reused fd. */
		cu_deadlines_remove(srv->deadlines, *socket_ctx);
		*socket_ctx = NULL;
		cu_metrics_connection(-1);
	}
}

/*
 * Whether a libmicrohttpd message may be printed now: at most
 * CU_MHD_LOG_PER_SECOND a second.  It logs a line for every connection it
 * refuses (one per connection over connections_per_address, say), so a
 * client opening connections in a loop would otherwise fill the operator's
 * log.  *suppressed gets how many were dropped since the last one printed.
 */
#define CU_MHD_LOG_PER_SECOND 10
static bool mhd_log_allowed(unsigned long *suppressed)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static time_t second;
	static unsigned printed;
	static unsigned long dropped;
	struct timespec now;
	bool ok;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&mu);
	if (now.tv_sec != second) {
		second = now.tv_sec;
		printed = 0;
	}
	ok = printed < CU_MHD_LOG_PER_SECOND;
	if (ok) {
		printed++;
		*suppressed = dropped;
		dropped = 0;
	} else {
		dropped++;
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

/*
 * Set once libmicrohttpd runs.  Before, what it says ("Failed to bind to port
 * 0" for an address in use, say) is said in one line by cu_server_run from
 * errno, so an operator gets one line naming the address, not two.
 */
static _Atomic bool mhd_running;

__attribute__((format(printf, 2, 0)))
static void on_mhd_error(void *cls, const char *fmt, va_list ap)
{
	char msg[512], out[512];
	size_t o = 0;
	unsigned long suppressed = 0;

	(void)cls;
	if (!atomic_load(&mhd_running) || !mhd_log_allowed(&suppressed))
		return;
	if (suppressed)
		fprintf(stderr, "custodian: http: (%lu more messages not shown: over %d a second)\n",
			suppressed, CU_MHD_LOG_PER_SECOND);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/*
	 * libmicrohttpd quotes the URL `like this': a path holds member ids or
	 * whatever a client typed (an e-mail address, say).  Keep quoted words
	 * such as `Host'; replace anything else with `(url)'.
	 */
	for (const char *p = msg; *p && o + 8 < sizeof(out);) {
		const char *end = *p == '`' ? strchr(p + 1, '\'') : NULL;

		if (*p == '`' && !end) {
			/* Cut off (a long URL): nothing after the quote is kept. */
			o += (size_t)snprintf(out + o, sizeof(out) - o, "`(url)'");
			break;
		}
		if (end && strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-") !=
				   (size_t)(end - p - 1)) {
			o += (size_t)snprintf(out + o, sizeof(out) - o, "`(url)'");
			p = end + 1;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	fprintf(stderr, "custodian: http: %s%s", out, o && out[o - 1] == '\n' ? "" : "\n");
}

/* ---- serve --------------------------------------------------------------- */

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	struct addrinfo hints = {0}, *res = NULL;
	size_t hl;
	char *end;
	unsigned long port;

	if (!colon || colon == listen || !colon[1])
		return -1;
	/* getaddrinfo takes "99999" and keeps its low 16 bits: another port. */
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535)
		return -1;
	hl = (size_t)(colon - listen);
	if (hl >= sizeof(host))
		return -1;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

void cu_server_install_policy(cu_server *srv, cu_policy *p)
{
	pthread_mutex_lock(&srv->policies_mu);
	/* Old policies stay alive: requests in flight may still hold them. */
	if (srv->npolicies < CU_SERVER_POLICIES_MAX)
		srv->policies[srv->npolicies++] = p;
	atomic_store(&srv->policy, p);
	pthread_mutex_unlock(&srv->policies_mu);
	cu_writer_set_policy(srv->writer, p);
}

/* SIGHUP: the file's policy is recorded as a published version (by the writer), then in force. */
struct reload {
	cu_job job;
	cu_server *srv;
	cu_policy *p;
	char *doc;
	size_t len;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool done;
};

static cu_result reload_run(cu_ctx *ctx, cu_job *job)
{
	struct reload *rl = job->arg;

	return cu_versions_record(ctx, rl->p, rl->doc, rl->len);
}

static void reload_done(cu_job *job)
{
	struct reload *rl = job->arg;

	pthread_mutex_lock(&rl->mu);
	rl->done = true;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}

static void reload_policy(cu_server *srv, const char *data_dir)
{
	struct reload rl = {.srv = srv};
	char path[4200], err[512];
	FILE *f;
	cu_result rc;

	snprintf(path, sizeof(path), "%s/%s", data_dir, srv->ctx->config.policy);
	if (srv->npolicies >= CU_SERVER_POLICIES_MAX) {
		fprintf(stderr, "custodian: policy not reloaded: too many reloads; restart\n");
		return;
	}
	f = fopen(path, "rb");
	rl.doc = malloc(4u << 20);
	rl.len = f && rl.doc ? fread(rl.doc, 1, 4u << 20, f) : 0;
	if (f)
		fclose(f);
	rc = rl.len ? cu_policy_load_buffer(path, rl.doc, rl.len, &rl.p, err, sizeof(err))
		    : CU_ERR_IO;
	if (rc) {
		fprintf(stderr, "custodian: policy not reloaded: %s\n",
			rc == CU_ERR_IO ? "cannot read the policy file" : err);
		free(rl.doc);
		return;
	}
	pthread_mutex_init(&rl.mu, NULL);
	pthread_cond_init(&rl.cv, NULL);
	rl.job = (cu_job){.run = reload_run, .done = reload_done, .arg = &rl};
	rc = cu_writer_submit(srv->writer, &rl.job);
	if (!rc) {
		pthread_mutex_lock(&rl.mu);
		while (!rl.done)
			pthread_cond_wait(&rl.cv, &rl.mu);
		pthread_mutex_unlock(&rl.mu);
		rc = rl.job.rc;
	}
	pthread_mutex_destroy(&rl.mu);
	pthread_cond_destroy(&rl.cv);
	free(rl.doc);
	if (rc) {
		fprintf(stderr, "custodian: policy not reloaded: %s\n",
			rc == CU_ERR_CONFLICT ? "its version was published before with other "
						"content; give it a new version"
					      : cu_strerror(rc));
		cu_policy_free(rl.p);
		return;
	}
	cu_server_install_policy(srv, rl.p);
	fprintf(stderr, "custodian: policy %s in force\n", rl.p->version);
}


static void warn_line(const char *line)
{
	fprintf(stderr, "custodian: %s\n", line);
}

int cu_server_run(const char *data_dir, const char *listen, bool quiet)
{
	cu_server *srv = calloc(1, sizeof(*srv));
	cu_notifier *notifier = NULL;
	cu_checkpointer *checkpointer = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[512] = "";
	sigset_t sigs;
	int status = 1, sig;
	cu_result rc;

	if (!srv)
		return 1;
	rc = cu_ctx_open(data_dir, &srv->ctx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: %s\n", err[0] ? err : cu_strerror(rc));
		goto out;
	}
	/* The server owns every policy it loads, the first included (freed below out:). */
	srv->policies[srv->npolicies++] = srv->ctx->policy;
	/* The last audit checkpoint: at close, after the writer's last commit. */
	srv->ctx->audit_checkpoint_at_close = true;
	srv->ctx->warn = warn_line;
	if (!listen || !*listen)
		listen = srv->ctx->config.listen;
	if (parse_listen(listen, &ss, &sslen)) {
		fprintf(stderr, "custodian: cannot listen on '%s': expected ADDRESS:PORT\n", listen);
		goto out;
	}
	if (srv->ctx->config.store[0])
		snprintf(srv->store_url, sizeof(srv->store_url), "%s", srv->ctx->config.store);
	else
		snprintf(srv->store_url, sizeof(srv->store_url), "sqlite:%s/custodian.db", data_dir);
	snprintf(srv->data_dir, sizeof(srv->data_dir), "%s", data_dir);
	pthread_mutex_init(&srv->policies_mu, NULL);
	atomic_init(&srv->policy, srv->ctx->policy);
	atomic_init(&srv->inflight, 0);
	srv->access_log = quiet ? NULL : stdout;
	pthread_key_create(&srv->reader_key, close_reader);
	if (cu_ratelimit_init(&srv->limits) != 0)
		goto out;
	/* A hash to verify against when a login names no account: the same cost either way. */
	rc = cu_vault_password_hash("no account has this password", srv->ctx->config.argon2_opslimit,
				    srv->ctx->config.argon2_memlimit_kib * 1024, srv->dummy_hash);
	if (rc) {
		fprintf(stderr, "custodian: cannot prepare password hashing: %s\n", cu_strerror(rc));
		goto out;
	}

	/* Only the main thread takes signals; every thread started below inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	/*
	 * The writer's commits checkpoint only past CU_WAL_BOUND_PAGES, not at
	 * SQLite's 1000 (inside the COMMIT, with the whole batch waiting): the
	 * checkpointer started below does it.  Set before the writer's thread
	 * exists, since the connection is then the writer's alone.
	 */
	rc = cu_store_set_autocheckpoint_pages(srv->ctx->store, CU_WAL_BOUND_PAGES);
	if (rc) {
		fprintf(stderr, "custodian: cannot set the checkpoint threshold: %s\n",
			cu_strerror(rc));
		goto out;
	}
	if (cu_writer_start(srv->ctx, &srv->writer) || cu_hasher_start((int)srv->ctx->config.hash_threads,
									  &srv->hasher)) {
		fprintf(stderr, "custodian: cannot start worker threads\n");
		goto out;
	}
	/* After the writer, on a store handle of its own: it copies what the writer commits. */
	{
		char audit_file[4096];

		cu_ctx_audit_checkpoint_path(srv->ctx, audit_file, sizeof(audit_file));
		rc = cu_checkpointer_start(srv->store_url, srv->ctx->vault, audit_file,
					   &checkpointer, err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "custodian: cannot start the checkpointer: %s\n",
			err[0] ? err : cu_strerror(rc));
		goto out;
	}
	/* After the writer, with a cu_ctx of its own: it delivers what the writer commits. */
	rc = cu_notifier_start(data_dir, &notifier, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: cannot start the notifier: %s\n",
			err[0] ? err : cu_strerror(rc));
		goto out;
	}
	rc = cu_deadlines_start(srv->ctx->config.request_timeout_s * 1000u, &srv->deadlines);
	if (rc) {
		fprintf(stderr, "custodian: cannot start the request deadline: %s\n",
			cu_strerror(rc));
		goto out;
	}
	/*
	 * Connections: at most max_connections, connections_per_address from
	 * one address (libmicrohttpd closes the one over at once), each with
	 * request_timeout_seconds to deliver a whole request (deadline.h) and
	 * CU_IDLE_TIMEOUT_S of silence while its answer is sent.
	 */
	srv->daemon = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			MHD_USE_ERROR_LOG | (ss.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
		0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->ctx->config.threads,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
		MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
		on_connection, srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CU_HEADER_MEMORY,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CU_IDLE_TIMEOUT_S,
		MHD_OPTION_CONNECTION_LIMIT, srv->ctx->config.max_connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, srv->ctx->config.connections_per_address,
		MHD_OPTION_END);
	if (!srv->daemon) {
		fprintf(stderr, "custodian: cannot listen on '%s': %s\n", listen,
			errno ? strerror(errno) : "libmicrohttpd refused");
		goto out;
	}
	atomic_store(&mhd_running, true);
	srv->ready = true;
	fprintf(stderr, "custodian: serving %s on http://%s (policy %s)\n", data_dir, listen,
		srv->ctx->policy->version);
	fflush(stderr);

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_policy(srv, data_dir);
			continue;
		}
		break;
	}
	/* Graceful stop: take no new connections, let requests in flight finish. */
	srv->ready = false;
	fprintf(stderr, "custodian: stopping\n");
	MHD_quiesce_daemon(srv->daemon);
	for (int i = 0; i < 1000 && atomic_load(&srv->inflight) > 0; i++)
		usleep(10000);
	status = 0;
out:
	if (srv->daemon)
		MHD_stop_daemon(srv->daemon);
	/* After the daemon: no connection is registered or reported closed any more. */
	cu_deadlines_stop(srv->deadlines);
	/* Before the writer: a send in flight is abandoned and stays due. */
	cu_notifier_stop(notifier);
	/* Before the writer: the writer's last batch is durable in the log either way. */
	cu_checkpointer_stop(checkpointer);
	cu_writer_stop(srv->writer);
	cu_hasher_stop(srv->hasher);
	if (srv->ctx) {
		/* The server owns every policy it loaded, the first included. */
		srv->ctx->policy = NULL;
		cu_ctx_close(srv->ctx);
	}
	for (int i = 0; i < srv->npolicies; i++)
		cu_policy_free(srv->policies[i]);
	cu_ratelimit_release(&srv->limits);
	sodium_memzero(srv->dummy_hash, sizeof(srv->dummy_hash));
	free(srv);
	return status;
}
