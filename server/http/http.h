/*
 * server/http/http.h — what the plumbing (server/http/) and the handlers
 * (server/routes/) share (private): the request, the replies, input, the
 * attempt limits, and the door's read pipeline (routes/pipeline.c).
 */
#ifndef CU_HTTP_H
#define CU_HTTP_H

#include "server.h"
#include "http/deadline.h"

#include "domain/sessions.h"
#include "domain/tokens.h"

#define CU_SESSION_COOKIE      "cu_session"
#define CU_SESSION_COOKIE_MAX  160 /* the Set-Cookie value: name, secret, attributes */
#define CU_REQUEST_ID_LEN      16  /* 64 bits in hex */
#define CU_ACCESS_LOG_LINE_MAX 512 /* one JSON line of the access log */
#define CU_MHD_MESSAGE_MAX     512 /* one message of libmicrohttpd's, as printed */
#define CU_HTTP_PARAM_MAX      72  /* a {} path segment, with its NUL */
#define CU_HTTP_ALLOW_MAX      128 /* a 405's Allow header: the methods of one path */
#define CU_HTTP_SECONDS_LEN    24  /* a number of seconds as text (Retry-After) */
#define CU_HTTP_INTEGER_LEN    32  /* a JSON integer as text */
/* A body's key is named back in a field error only when shorter than this. */
#define CU_HTTP_FIELD_ECHO_MAX 40
_Static_assert(CU_HTTP_FIELD_ECHO_MAX <= CU_FIELD_NAME_MAX, "an echoed key fits a field error");
#define CU_HTTP_AUTHORIZATION_MAX 200 /* longer Authorization headers are refused unread */
#define CU_HTTP_SESSION_ID_MAX    128 /* longer session cookies are refused unread */
#define CU_HTTP_MESSAGE_MAX       200 /* an error message the server composes */
#define CU_SERVER_POLICIES_MAX    64
#define CU_HTTP_EXTRA_MAX         10 /* headers a route adds (Set-Cookie, CSP, ...) */

/* Attempt limits: logins and public sign-ups (http/ratelimit.h). */
#include "http/ratelimit.h"

/* ---- the server ---- */

struct cu_request;

struct cu_server {
	cu_ctx *ctx; /* the writer's; only the writer thread uses it */
	cu_writer *writer;
	cu_hasher *hasher;
	struct MHD_Daemon *daemon;
	cu_policy *_Atomic policy; /* the policy in force for new requests */
	cu_policy *policies[CU_SERVER_POLICIES_MAX];
	int npolicies;
	pthread_mutex_t policies_mu;
	char store_url[CU_SERVER_PATH_MAX];
	char data_dir[CU_SERVER_DIR_MAX];
	pthread_key_t reader_key;
	atomic_int inflight;
	atomic_bool
	    stats_running; /* a member statistic holds a network thread (routes/statistics.c) */
	_Atomic unsigned session_ttl_min; /* [server] session_ttl_minutes; SIGHUP may change it */
	volatile bool ready;
	FILE *access_log;
	cu_ratelimit limits;
	cu_deadlines *deadlines; /* the request-arrival deadline (deadline.h) */
	char dummy_hash[CU_VAULT_PWHASH_MAX];
	struct cu_web_site *site; /* the web pages' files (web/site.h), loaded at start */
	/* A path outside /v1/ no route has, asked by a browser (Accept: text/html): a page, or NULL. */
	enum MHD_Result (*page_not_found)(struct cu_request *r);
};

enum cu_auth { CU_AUTH_NONE, CU_AUTH_TOKEN, CU_AUTH_SESSION };

typedef struct cu_request cu_request;
struct cu_request {
	cu_server *srv;
	struct MHD_Connection *conn;
	const char *url, *method;
	int route;
	char params[2][CU_HTTP_PARAM_MAX];
	char request_id[CU_REQUEST_ID_LEN + 1];
	struct timespec start;
	cu_arena arena;
	char *body;
	size_t body_len;
	size_t body_cap; /* bytes of body the buffer holds, its NUL aside */
	bool body_too_large;
	bool body_nomem;  /* the body's buffer could not be allocated: 503 when it ends */
	bool nul_in_uri;  /* the raw URI held %00: refused before routing */
	bool header_lost; /* cu_http_header could not keep a header: the reply is 503 */
	bool counted;     /* in srv->inflight: from routing on (graceful stop waits for it) */
	int status;
	struct {
		const char *name, *value;
	} extra[CU_HTTP_EXTRA_MAX];
	int nextra;

	/*
	 * A web page (server/web/) calls API routes in-process: while one runs,
	 * capture is set and its replies are kept there instead of being sent.
	 */
	struct cu_http_capture *capture;
	struct cu_web_page *web;            /* the page's own state, or NULL */
	void (*web_cleanup)(cu_request *r); /* frees web when the request ends */

	/* who */
	enum cu_auth auth;
	cu_actor actor;
	cu_token_info token;
	cu_session_info session;
	char member[CU_ID_LEN + 1];
	char contract[CU_REGISTRY_ID_MAX + 1]; /* a subcontractor token's contract, or "" */

	/* a handler that waits keeps its state here; phase counts its steps */
	int phase;
	cu_job job;
	void *state;
	void (*cleanup)(cu_request *r);
};

typedef struct cu_route {
	const char *method;
	const char *pattern; /* "/v1/members/{}" */
	const char *name;    /* "/v1/members/{id}": the template in logs, metrics, OpenAPI */
	enum MHD_Result (*handler)(cu_request *r);
	uint32_t who;   /* roles allowed (bit per cu_role); 0 = anyone */
	bool public_ok; /* also without credentials */
	bool anon;      /* never authenticates (login must work with a stale cookie) */
	bool page;      /* an HTML page of server/web/ (authenticates itself; not in OpenAPI) */
} cu_route;

/*
 * A reply kept instead of sent: an API route called in-process by a web
 * page (server/web/call.c).  The page reads status and json (or text) once
 * done is set.  query, when not NULL, is the call's query string (an object
 * of strings): cu_http_query and cu_http_query_only read it instead of the
 * connection's.  A captured JSON body needs no Content-Type.
 */
typedef struct cu_http_capture {
	int status;
	json_t *json;     /* a JSON reply (owned), or NULL */
	char *text;       /* a text reply (owned, wiped when freed), or NULL */
	const char *type; /* text's Content-Type (a literal) */
	bool done;
	json_t *query;
} cu_http_capture;

/* Frees what c holds (wiping text and the strings of json) and zeroes it. */
void cu_http_capture_release(cu_http_capture *c);

/*
 * The pure parsers of the plumbing (router.c, input.c), exposed for the fuzz targets
 * (tests/fuzz/).  cu_http_match matches path against a route pattern
 * ("/v1/members/{}"): 1 if it matches, with each {} segment (1 ..
 * CU_HTTP_PARAM_MAX - 1 bytes, at most two) copied into params; 0 if not.
 * cu_http_json_depth is the nesting depth of n bytes of JSON text, counting
 * brackets outside strings (the body is refused past CU_JSON_DEPTH_MAX
 * before jansson sees it).
 */
int cu_http_match(const char *pattern, const char *path, char params[2][CU_HTTP_PARAM_MAX]);
int cu_http_json_depth(const char *s, size_t n);

/*
 * Fills r->actor from a bearer token or a session cookie (auth.c); a
 * cookie-authenticated change needs its CSRF token.  Returns 0, or -1 with
 * the error already replied in *reply.  A stale cookie on a public_ok route
 * is no error: the request goes on without credentials.
 */
int cu_http_authenticate(cu_request *r, bool public_ok, enum MHD_Result *reply);
/* Whether route rt admits who r is (its roles); a page route admits everyone. */
bool cu_http_route_allows(const cu_request *r, const cu_route *rt);
/* The index of the route for method and path (params filled), or -1. */
int cu_http_find_route(const char *method, const char *path, char params[2][CU_HTTP_PARAM_MAX]);
/*
 * The two ways in, as cu_http_authenticate uses them: a bearer token's
 * secret, or a session cookie's (no CSRF check here).  0 with r->actor
 * filled, or -1 with *rc saying why (CU_ERR_UNAUTHENTICATED, or a store error).
 */
int cu_http_auth_token(cu_request *r, const char *secret, cu_result *rc);
int cu_http_auth_session(cu_request *r, const char *sid, cu_result *rc);
/*
 * Routes a request that arrived whole (router.c): the route whose pattern
 * and method match, authentication, the route's roles, then its handler;
 * 405 with Allow when only the path matches, 404 when nothing does.
 */
enum MHD_Result cu_http_route(cu_request *r);
/*
 * Starts libmicrohttpd on sa with the server's callbacks and connection
 * limits (connection.c).  NULL when it cannot (errno says why, if it can).
 * From then on libmicrohttpd's own messages go to stderr, rate-limited.
 */
struct MHD_Daemon *cu_http_daemon_start(cu_server *srv, const struct sockaddr_storage *ss);

/* Every route of every area (routes/table.c), flattened; an index names a route. */
const cu_route *cu_route_list(void);
size_t cu_route_count(void);
#define cu_routes       (cu_route_list())
#define cu_routes_count (cu_route_count())

/* Replies.  Each queues a response and returns what the handler returns. */
enum MHD_Result cu_http_reply_json(cu_request *r, int status, json_t *body);
/* text is malloc'd; ownership passes (it is wiped when sent). */
enum MHD_Result cu_http_reply_text(cu_request *r, int status, const char *type, char *text);
enum MHD_Result cu_http_reply_empty(cu_request *r, int status);
/* Static bytes (never freed nor wiped: an image compiled in) of Content-Type type. */
enum MHD_Result cu_http_reply_static(cu_request *r, int status, const char *type, const void *data,
                                     size_t len);
/*
 * An HTML page (text is malloc'd; ownership passes, wiped when sent) with
 * the page headers: a Content-Security-Policy without 'unsafe-inline' and
 * with frame-ancestors 'none', Referrer-Policy same-origin, X-Frame-Options.
 */
enum MHD_Result cu_http_reply_html(cu_request *r, int status, char *text);
/* 303 See Other to a path of this site (location starts with '/'). */
enum MHD_Result cu_http_reply_redirect(cu_request *r, const char *location);
/*
 * The one error reply: status and code from the result table
 * (util/result.h), message NULL for the table's words, errs (NULL for none)
 * the field-level detail.  No reply names a status or a code of its own.
 */
enum MHD_Result cu_http_reply_error(cu_request *r, cu_result rc, const char *message,
                                    const cu_errors *errs);
/*
 * Adds a header to the reply this request will send (copied into its arena).
 * If the copy cannot be made, the reply becomes 503 out_of_memory instead: a
 * reply never goes out without a header its route set.
 */
void cu_http_header(cu_request *r, const char *name, const char *value);

/*
 * Parses a request body (duplicates refused).  NULL on failure, with *nomem
 * true when an allocation failed — the server's 503 out_of_memory, not the
 * client's 400 invalid_json (jansson's own codes do not say so).
 */
json_t *cu_http_json_parse(const char *buf, size_t len, json_error_t *jerr, bool *nomem);

const char *cu_http_header_value(cu_request *r, const char *name);
const char *cu_http_query(cu_request *r, const char *name);
/* 0 if every query parameter is in allowed (NULL-terminated), -1 otherwise. */
int cu_http_query_only(cu_request *r, const char *const *allowed);
/* The body as a JSON object, or NULL with the error already replied in *reply. */
json_t *cu_http_body_json(cu_request *r, enum MHD_Result *reply);
/* Overwrites every string in j (plaintext from a client) before it is freed. */
void cu_http_json_wipe(json_t *j);

/* Shared by the handlers of every area (routes/pipeline.c). */
/* ISO 8601 UTC to the second ("2026-01-31T12:00:00Z"), with room to spare. */
#define CU_HTTP_TIME_LEN 32
void cu_http_iso_time(int64_t us, char out[CU_HTTP_TIME_LEN]);
enum MHD_Result cu_http_store_unavailable(cu_request *r);
/*
 * The value of policy field `key` from JSON v, for the member routes'
 * bodies: a string (borrowed from v); null (*out NULL: clears); an integer
 * only for a field of kind integer (formatted into the arena).  Anything
 * else -- {"name": 1}, an array, an object, a boolean -- adds the field
 * error "malformed" and returns -1; -2 when the arena is exhausted.
 */
int cu_http_field_value(cu_request *r, const cu_policy *p, const char *key, json_t *v,
                        const char **out, cu_errors *errs);
/* 400 case_invalid: a case reference given that cu_case_ref_problem refuses. */
enum MHD_Result cu_http_reply_case_invalid(cu_request *r);
/* A writer job's answer: refusals keep their audit entries; server failures undo the job. */
cu_result cu_http_answer(cu_job *job, cu_result rc);
/*
 * A read through the door: the rules on this thread's reader, the audit
 * entry (and an exception's review) through the writer, then — once
 * durable — the allowed fields.  Strings must live as long as the request
 * (the arena, the query, a parsed body kept in r->state is not available:
 * copy them into the arena).  The handler calls cu_http_finish_read when
 * resumed (r->phase > 0).
 */
enum MHD_Result cu_http_start_read(cu_request *r, const char *member, const char *purpose,
                                   const char *case_ref, cu_fieldset fields, const char *exception,
                                   const char *justification);
enum MHD_Result cu_http_finish_read(cu_request *r);

/*
 * This network thread's read-only store handle (opened on first use); NULL
 * when it cannot be.  Its page cache holds at most CU_READER_CACHE_KIB: the
 * writer's commits empty it at the next request anyway, and a long scan (an
 * export) would otherwise leave SQLite's 2,000 KiB held in every network
 * thread (store.h, cu_store_set_cache_kib).
 */
#define CU_READER_CACHE_KIB 512u
cu_store *cu_http_reader(cu_server *srv);
/* Closes a thread's reader: the destructor of srv->reader_key (jobs.c). */
void cu_http_reader_close(void *p);
/* Puts a newly published or reloaded policy in force for new requests and the writer. */
void cu_server_install_policy(cu_server *srv, cu_policy *p);
cu_policy *cu_http_policy(cu_server *srv);

/* Suspend until the job has run; the handler is called again with phase + 1. */
enum MHD_Result cu_http_wait_writer(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *));
/* The same for a job that refuses only before it writes (cu_job.whole: no savepoint). */
enum MHD_Result cu_http_wait_writer_whole(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *));
enum MHD_Result cu_http_wait_hasher(cu_request *r, cu_result (*hash)(cu_job *));

#endif
