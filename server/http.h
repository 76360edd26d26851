/*
 * server/http.h — what the plumbing (http.c) and the handlers (routes.c)
 * share (private).
 */
#ifndef CU_HTTP_H
#define CU_HTTP_H

#include "server.h"

#include "custodian/sessions.h"
#include "custodian/tokens.h"

#define CU_SESSION_COOKIE "cu_session"
#define CU_HTTP_PARAM_MAX 72    /* a {} path segment, with its NUL */
#define CU_SERVER_POLICIES_MAX 64

/* ---- login rate limits (ratelimit.c) ---- */

typedef struct cu_ratelimit {
	pthread_mutex_t mu;
	struct cu_rl_slot *slots;
} cu_ratelimit;

int cu_ratelimit_init(cu_ratelimit *rl);
void cu_ratelimit_release(cu_ratelimit *rl);
/* Whether key (an account's blind index or an address) is locked out now. */
bool cu_ratelimit_locked(cu_ratelimit *rl, const unsigned char key[32], int64_t now_us);
/* Counts a failure; `limit` failures within the window lock the key out. */
void cu_ratelimit_fail(cu_ratelimit *rl, const unsigned char key[32], unsigned limit,
		       int64_t now_us);
void cu_ratelimit_clear(cu_ratelimit *rl, const unsigned char key[32]);

#define CU_LOGIN_ACCOUNT_LIMIT 5      /* failures per account per window */
#define CU_LOGIN_ADDRESS_LIMIT 20     /* failures per address per window */
#define CU_LOGIN_WINDOW_US (15LL * 60 * 1000000)

/* ---- the server ---- */

struct cu_server {
	cu_ctx *ctx;                    /* the writer's; only the writer thread uses it */
	cu_writer *writer;
	cu_hasher *hasher;
	struct MHD_Daemon *daemon;
	cu_policy *_Atomic policy;      /* the policy in force for new requests */
	cu_policy *policies[CU_SERVER_POLICIES_MAX];
	int npolicies;
	pthread_mutex_t policies_mu;
	char store_url[4200];
	char data_dir[4096];
	pthread_key_t reader_key;
	atomic_int inflight;
	volatile bool ready;
	FILE *access_log;
	cu_ratelimit limits;
	char dummy_hash[CU_VAULT_PWHASH_MAX];
};

enum cu_auth { CU_AUTH_NONE, CU_AUTH_TOKEN, CU_AUTH_SESSION };

typedef struct cu_request cu_request;
struct cu_request {
	cu_server *srv;
	struct MHD_Connection *conn;
	const char *url, *method;
	int route;
	char params[2][CU_HTTP_PARAM_MAX];
	char request_id[17];
	struct timespec start;
	cu_arena arena;
	char *body;
	size_t body_len;
	bool body_too_large;
	bool counted;            /* in srv->inflight: from routing on (graceful stop waits for it) */
	int status;
	struct {
		const char *name, *value;
	} extra[4];
	int nextra;

	/* who */
	enum cu_auth auth;
	cu_actor actor;
	cu_token_info token;
	cu_session_info session;
	char member[CU_ID_LEN + 1];
	char contract[CU_PARTNER_ID_MAX + 1]; /* a subcontractor token's contract, or "" */

	/* a handler that waits keeps its state here; phase counts its steps */
	int phase;
	cu_job job;
	void *state;
	void (*cleanup)(cu_request *r);
};

typedef struct cu_route {
	const char *method;
	const char *pattern;     /* "/v1/members/{}" */
	const char *name;        /* "/v1/members/{id}": the template in logs, metrics, OpenAPI */
	enum MHD_Result (*handler)(cu_request *r);
	uint32_t who;            /* roles allowed (bit per cu_role); 0 = anyone */
	bool public_ok;          /* also without credentials */
	bool anon;               /* never authenticates (login must work with a stale cookie) */
} cu_route;

/*
 * The pure parsers of the plumbing (http.c), exposed for the fuzz targets
 * (tests/fuzz/).  cu_http_match matches path against a route pattern
 * ("/v1/members/{}"): 1 if it matches, with each {} segment (1 ..
 * CU_HTTP_PARAM_MAX - 1 bytes, at most two) copied into params; 0 if not.
 * cu_http_json_depth is the nesting depth of n bytes of JSON text, counting
 * brackets outside strings (the body is refused past CU_JSON_DEPTH_MAX
 * before jansson sees it).
 */
int cu_http_match(const char *pattern, const char *path, char params[2][CU_HTTP_PARAM_MAX]);
int cu_http_json_depth(const char *s, size_t n);

/* Every route of every area (route_tables.c), flattened; an index names a route. */
const cu_route *cu_route_list(void);
size_t cu_route_count(void);
#define cu_routes (cu_route_list())
#define cu_routes_count (cu_route_count())

/* Replies.  Each queues a response and returns what the handler returns. */
enum MHD_Result cu_http_reply_json(cu_request *r, int status, json_t *body);
/* text is malloc'd; ownership passes (it is wiped when sent). */
enum MHD_Result cu_http_reply_text(cu_request *r, int status, const char *type, char *text);
enum MHD_Result cu_http_reply_empty(cu_request *r, int status);
enum MHD_Result cu_http_reply_error(cu_request *r, cu_result rc, const char *message,
				    const cu_errors *errs);
enum MHD_Result cu_http_reply_code(cu_request *r, int status, const char *code,
				   const char *message);
void cu_http_header(cu_request *r, const char *name, const char *value);

const char *cu_http_header_value(cu_request *r, const char *name);
const char *cu_http_query(cu_request *r, const char *name);
/* 0 if every query parameter is in allowed (NULL-terminated), -1 otherwise. */
int cu_http_query_only(cu_request *r, const char *const *allowed);
/* The body as a JSON object, or NULL with the error already replied in *reply. */
json_t *cu_http_body_json(cu_request *r, enum MHD_Result *reply);
/* Overwrites every string in j (plaintext from a client) before it is freed. */
void cu_http_json_wipe(json_t *j);

/* Shared by the handlers of every area (routes.c). */
void cu_http_iso_time(int64_t us, char out[32]);
enum MHD_Result cu_http_store_unavailable(cu_request *r);
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

cu_store *cu_http_reader(cu_server *srv);
/* Puts a newly published or reloaded policy in force for new requests and the writer. */
void cu_server_install_policy(cu_server *srv, cu_policy *p);
cu_policy *cu_http_policy(cu_server *srv);

/* Suspend until the job has run; the handler is called again with phase + 1. */
enum MHD_Result cu_http_wait_writer(cu_request *r, cu_result (*run)(cu_ctx *, cu_job *));
enum MHD_Result cu_http_wait_hasher(cu_request *r, cu_result (*hash)(cu_job *));

#endif
