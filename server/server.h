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

#define CU_BODY_MAX (64u * 1024)      /* request body limit */
#define CU_JSON_DEPTH_MAX 8
#define CU_HEADER_MEMORY (32u * 1024) /* per-connection memory: headers and all */
#define CU_IDLE_TIMEOUT_S 30u         /* libmicrohttpd's idle timeout, reset by any byte */
#define CU_ARENA_MAX (256u * 1024)    /* per-request arena cap */
/*
 * Query parameters a request may carry (no route takes more than four);
 * more is 414, refused before libmicrohttpd spends CU_HEADER_MEMORY on them.
 */
#define CU_QUERY_PARAMS_MAX 32

/* ---- per-request arena (freed whole when the request ends) ---- */

typedef struct cu_arena {
	struct cu_arena_chunk *head;
	size_t used;
} cu_arena;

void *cu_arena_alloc(cu_arena *a, size_t n);
char *cu_arena_strdup(cu_arena *a, const char *s);
/* Wipes (requests may carry personal data) and frees every chunk. */
void cu_arena_release(cu_arena *a);

/* ---- jobs: work for the writer or the hashing pool ---- */

typedef struct cu_job cu_job;
struct cu_job {
	/*
	 * Runs on the writer inside the batch's transaction, in its own
	 * savepoint.  Returning an error undoes the job's writes and makes the
	 * error its answer.  Returning CU_OK keeps them; the answer is then
	 * job->rc as the job left it (CU_OK when untouched), so a refusal whose
	 * audit entry must stand is answered with CU_OK returned and rc set.
	 */
	cu_result (*run)(cu_ctx *ctx, cu_job *job);
	/* Runs on the hashing pool (no store). */
	cu_result (*hash)(cu_job *job);
	/* Called once the job's batch is durable (or failed); must be quick. */
	void (*done)(cu_job *job);
	void *arg;
	cu_result rc;
	cu_job *next;
};

/*
 * The log size past which the writer's own COMMIT checkpoints (64 MiB of
 * 4 KiB pages).  Below it the checkpointer (server/checkpointer.c) does;
 * past it, the writer's checkpoint copies what the checkpointer has not and
 * the log starts over, so it cannot grow without bound.
 */
#define CU_WAL_BOUND_PAGES (64u * 1024u * 1024u / 4096u)

typedef struct cu_writer cu_writer;
CU_WARN_UNUSED cu_result cu_writer_start(cu_ctx *ctx, cu_writer **out);
/* Queues a job (its rc is reset); CU_ERR_STORE when the writer is stopping. */
CU_WARN_UNUSED cu_result cu_writer_submit(cu_writer *w, cu_job *job);
/* Drains what is queued, then stops and joins. */
void cu_writer_stop(cu_writer *w);
/* Whether the last batch committed (a batch that wrote nothing commits anyway). */
bool cu_writer_healthy(const cu_writer *w);
/*
 * /readyz's probe of the store: a job whose run writes one meta row
 * (CU_WRITER_PROBE_KEY: the time), so its batch's COMMIT really writes and
 * syncs the log.  cu_writer_probe_due claims the next probe (true at most
 * once per CU_WRITER_PROBE_MS, for one caller, who submits the job);
 * cu_writer_ready is true when the last probe's batch was durable and so
 * was the last batch of all: a full or read-only disk shows within an
 * interval, and so does its end, with no client write needed.
 */
#define CU_WRITER_PROBE_MS 1000
#define CU_WRITER_PROBE_KEY "readyz_probe"
cu_result cu_writer_probe(cu_ctx *ctx, cu_job *job);
bool cu_writer_probe_due(cu_writer *w);
bool cu_writer_ready(const cu_writer *w);
/* The audit chain's committed head, as of the last batch (safe from any thread). */
uint64_t cu_writer_audit_head(const cu_writer *w);
/* Hands the writer a new policy, used from its next batch on (SIGHUP). */
void cu_writer_set_policy(cu_writer *w, cu_policy *p);

typedef struct cu_hasher cu_hasher;
CU_WARN_UNUSED cu_result cu_hasher_start(int threads, cu_hasher **out);
CU_WARN_UNUSED cu_result cu_hasher_submit(cu_hasher *h, cu_job *job);
void cu_hasher_stop(cu_hasher *h);

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

/* Runs until SIGTERM/SIGINT; SIGHUP reloads the policy. */
int cu_server_run(const char *data_dir, const char *listen, bool quiet);

#endif
