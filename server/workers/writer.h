/*
 * server/workers/writer.h — the job queue and the threads that drain it:
 * the writer (group commit: one transaction and one fsync per batch, the
 * audit chain's order is the commit order) and the hashing pool (Argon2id
 * off the network threads).  Included through server.h.
 */
#ifndef CU_WORKERS_WRITER_H
#define CU_WORKERS_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include "ctx/ctx.h"

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
	/*
	 * The job refuses only before it writes anything (a read's audit entry,
	 * one statement; a registration, whose duplicate e-mail is refused by
	 * the member row's own INSERT): it runs without a savepoint of its own,
	 * answering a refusal with CU_OK returned and rc set.  Should its run
	 * fail, nothing of the batch is kept and every job of it answers that
	 * error, as when the COMMIT fails: the store's failures are the only
	 * failures such a job has.
	 */
	bool whole;
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
#define CU_WRITER_PROBE_MS  1000
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

#endif
