/*
 * server/server.h — `custodian serve`: the HTTP front end (private).
 *
 * Threads:
 *   - libmicrohttpd's pool (epoll, CU_HTTP_THREADS threads) parses requests,
 *     authenticates, validates and seals, and reads through a per-thread
 *     read-only store handle (SQLite WAL readers never wait for the writer);
 *   - one writer thread owns the only writing store handle and the audit
 *     chain, and drains a queue of jobs into one transaction per batch
 *     (group commit): one fsync serves every request in the batch, and the
 *     chain's order is the commit order;
 *   - a small pool runs Argon2id, so a burst of logins does not hold the
 *     network threads.
 * A request that waits (for its audit entry to be durable, or for a hash)
 * is suspended, not blocking its thread, and resumed when the job is done.
 *
 * The folders of server/ (each file's top comment says what it holds):
 *   http/     libmicrohttpd's glue: listening and signals (serve.c), a
 *             request's life (connection.c), routing, authentication, input,
 *             replies, the arena, connection deadlines, attempt limits, metrics;
 *   workers/  the job queue and the threads beside the network's: writer and
 *             hashing pool, checkpointer, notifier;
 *   routes/   one file per resource, the door's read pipeline (pipeline.c) and
 *             the route table (table.c);
 *   openapi/  the OpenAPI document: frame, one fragment per area, the merge.
 *   web/      the web pages' HTML renderer (template.h): every value escaped.
 * The server calls the domain (src/domain/), never the store.
 */
#ifndef CU_SERVER_H
#define CU_SERVER_H

#include <microhttpd.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "access/access.h"
#include "ctx/ctx.h"
#include "domain/members.h"

#define CU_BODY_MAX       (64u * 1024) /* request body limit */
#define CU_BODY_FIRST     2048u        /* a body's first buffer; it doubles as the body grows */
#define CU_JSON_DEPTH_MAX 8
#define CU_HEADER_MEMORY  (32u * 1024)  /* per-connection memory: headers and all */
#define CU_IDLE_TIMEOUT_S 30u           /* libmicrohttpd's idle timeout, reset by any byte */
#define CU_ARENA_MAX      (256u * 1024) /* per-request arena cap */
#define CU_ARENA_CHUNK    8192u /* an arena grows by chunks of this (or one request's size) */
/*
 * Query parameters a request may carry (no route takes more than four);
 * more is 414, refused before libmicrohttpd spends CU_HEADER_MEMORY on them.
 */
#define CU_QUERY_PARAMS_MAX 32

/* Text the server formats for itself, with room for its NUL. */
#define CU_SERVER_DIR_MAX  4096 /* the data directory, the audit checkpoint file */
#define CU_SERVER_PATH_MAX 4200 /* a file in the data directory; the store url */
#define CU_SERVER_ERR_MAX  512  /* one line of error for the operator */
#define CU_ROUTES_MAX      256  /* routes in the table (routes/table.c), each with counters */

/* ---- per-request arena (freed whole when the request ends) ---- */

typedef struct cu_arena {
	struct cu_arena_chunk *head;
	size_t used;
} cu_arena;

void *cu_arena_alloc(cu_arena *a, size_t n);
char *cu_arena_strdup(cu_arena *a, const char *s);
/* Wipes (requests may carry personal data) and frees every chunk. */
void cu_arena_release(cu_arena *a);
/*
 * Wipes every chunk and frees all but one of CU_ARENA_CHUNK bytes, which
 * the arena keeps, empty, for the next request (connection.c keeps one
 * finished request per network thread).  cu_arena_release frees it too.
 */
void cu_arena_reset(cu_arena *a);

/* Jobs, the writer and the hashing pool: workers/writer.h. */
#include "workers/writer.h"

/* ---- metrics (Prometheus text) ---- */

void cu_metrics_request(int route, int status, double seconds);
void cu_metrics_batch(size_t jobs, size_t audit_entries);
void cu_metrics_connection(int delta);
/* A connection was closed for missing its request deadline (deadline.h). */
void cu_metrics_deadline_missed(void);
/* Appends the exposition to buf; returns a malloc'd string. */
char *cu_metrics_render(const char *const *methods, const char *const *route_names, size_t nroutes,
                        uint64_t audit_head);

/* ---- the server ---- */

typedef struct cu_server cu_server;

/*
 * Runs until SIGTERM/SIGINT.  The settings are custodian.conf under the
 * environment under flags (may be NULL; util/config.h).  SIGHUP re-reads
 * custodian.conf, the same environment and flags over it (the settings
 * marked reloadable take effect; a bad file is refused, one line on stderr),
 * and reloads the policy file.  Under systemd it tells the manager how it
 * is doing (http/service.h).
 */
int cu_server_run(const char *data_dir, const cu_config_flags *flags, bool quiet);

#endif
