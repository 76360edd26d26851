/*
 * server/http/connection.c — libmicrohttpd's callbacks: a request's life from its URI to its
 * completion (request id, framing and query checks, the bounded body, the
 * access log), connections and their deadline, libmicrohttpd's own messages
 * (rate-limited, URLs left out), and the daemon's start.
 */
#include "http/http.h"

#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workers/writer.h"

/* ---- time, ids ----------------------------------------------------------- */

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- libmicrohttpd callbacks --------------------------------------------- */

/*
 * A request id: 64 bits, unique and unguessable, without a system call per
 * request (randombytes_buf asks the kernel every time): SipHash-2-4
 * (crypto_shorthash) of a per-thread counter under a per-thread random key.
 */
static void new_request_id(char out[CU_REQUEST_ID_LEN + 1])
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
	sodium_bin2hex(out, CU_REQUEST_ID_LEN + 1, id, sizeof(id));
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


/*
 * Room for `more` bytes of body: the buffer doubles from CU_BODY_FIRST up to
 * CU_BODY_MAX, in the request's arena, so a registration's half a kilobyte
 * does not take (and wipe, when the request ends) the whole limit.  The old
 * buffer stays in the arena and is wiped with it; false when out of memory.
 */
static bool grow_body(cu_request *r, size_t more)
{
	size_t cap = r->body_cap ? r->body_cap : CU_BODY_FIRST;
	char *body;

	while (cap < r->body_len + more)
		cap *= 2;
	if (cap > CU_BODY_MAX)
		cap = CU_BODY_MAX;
	body = cu_arena_alloc(&r->arena, cap + 1);
	if (!body)
		return false;
	if (r->body_len)
		memcpy(body, r->body, r->body_len);
	r->body = body;
	r->body_cap = cap;
	return true;
}

/*
 * A finished request is kept for the next one on the same network thread,
 * with its arena's first chunk (cu_arena_reset wiped it): a read then
 * allocates neither.  One per thread, freed when the thread ends; without
 * the thread key (pthread_key_create failed) every request is allocated.
 */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;
static bool spare_ok;

static void spare_free(void *p)
{
	cu_request *r = p;

	cu_arena_release(&r->arena);
	free(r);
}

static void spare_key_create(void)
{
	spare_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

/* A request zeroed as calloc would give it, the thread's spare if it has one. */
static cu_request *request_new(void)
{
	cu_request *r;
	cu_arena arena;

	pthread_once(&spare_once, spare_key_create);
	r = spare_ok ? pthread_getspecific(spare_key) : NULL;
	if (!r)
		return calloc(1, sizeof(*r));
	(void)pthread_setspecific(spare_key, NULL);
	arena = r->arena;
	memset(r, 0, sizeof(*r));
	r->arena = arena;
	return r;
}

/* Wipes the request's arena; keeps the request as the thread's spare, or frees it. */
static void request_done(cu_request *r)
{
	cu_arena_reset(&r->arena);
	if (spare_ok && !pthread_getspecific(spare_key) && pthread_setspecific(spare_key, r) == 0)
		return;
	spare_free(r);
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

		r = request_new();
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
			return cu_http_reply_error(
			    r, CU_ERR_INVALID_FRAMING,
			    "conflicting Content-Length or Transfer-Encoding "
			    "headers",
			    NULL);
		if (refused_query)
			return cu_http_reply_error(r, CU_ERR_TOO_MANY_PARAMETERS,
			                           "the query string has too many parameters",
			                           NULL);
		return MHD_YES;
	}
	if (*upload_size) {
		/* Bounded: past the limit the rest is read and dropped, then refused. */
		if (r->body_nomem) {
			*upload_size = 0;
			return MHD_YES;
		}
		if (!r->body_too_large && r->body_len + *upload_size <= CU_BODY_MAX) {
			if (r->body_len + *upload_size > r->body_cap &&
			    !grow_body(r, *upload_size)) {
				/* Read and drop the rest, then answer 503 out_of_memory. */
				r->body_nomem = true;
				*upload_size = 0;
				return MHD_YES;
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
			return cu_http_reply_error(
			    r, CU_ERR_INVALID_ARGUMENT,
			    "a NUL byte (%00) is not allowed in the path or the "
			    "query",
			    NULL);
		return cu_http_route(r);
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
		char line[CU_ACCESS_LOG_LINE_MAX];
		time_t now = time(NULL);
		struct tm tm;
		char ts[CU_HTTP_TIME_LEN];

		gmtime_r(&now, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		/* Route templates only: no ids, no query values, nothing a client typed. */
		snprintf(
		    line, sizeof(line),
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
	if (r->web_cleanup)
		r->web_cleanup(r);
	if (r->counted)
		atomic_fetch_sub(&srv->inflight, 1);
	request_done(r);
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

__attribute__((format(printf, 2, 0))) static void on_mhd_error(void *cls, const char *fmt,
                                                               va_list ap)
{
	char msg[CU_MHD_MESSAGE_MAX], out[CU_MHD_MESSAGE_MAX];
	size_t o = 0;
	unsigned long suppressed = 0;

	(void)cls;
	if (!atomic_load(&mhd_running) || !mhd_log_allowed(&suppressed))
		return;
	if (suppressed)
		fprintf(stderr,
		        "custodian: http: (%lu more messages not shown: over %d a second)\n",
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

/*
 * Connections: at most max_connections, connections_per_address from one
 * address (libmicrohttpd closes the one over at once), each with
 * request_timeout_seconds to deliver a whole request (deadline.h) and
 * CU_IDLE_TIMEOUT_S of silence while its answer is sent.
 */
struct MHD_Daemon *cu_http_daemon_start(cu_server *srv, const struct sockaddr_storage *ss)
{
	struct MHD_Daemon *d;

	d = MHD_start_daemon(
	    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
	        MHD_USE_ERROR_LOG | (ss->ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, on_request, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_error, NULL,
	    MHD_OPTION_SOCK_ADDR, (const struct sockaddr *)ss, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)srv->ctx->config.threads, MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv, MHD_OPTION_NOTIFY_CONNECTION,
	    on_connection, srv, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CU_HEADER_MEMORY,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CU_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_LIMIT,
	    srv->ctx->config.max_connections, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    srv->ctx->config.connections_per_address, MHD_OPTION_END);
	if (d)
		atomic_store(&mhd_running, true);
	return d;
}
