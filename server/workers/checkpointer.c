/*
 * server/workers/checkpointer.c — PASSIVE WAL checkpoints off the writer's thread.
 *
 * The profile (docs/performance.md) showed SQLite's automatic checkpoint
 * running inside the writer's COMMIT: 10–27 % of the server's CPU, and every
 * job of that batch waited for it.  Here it runs on its own connection.
 * PASSIVE passes alone do not bound the log under a steady stream of
 * commits (measured: a 1.3 GiB log in a one-minute benchmark; see
 * cu_handle_set_autocheckpoint_pages): the writer keeps a backstop of its
 * own at CU_WAL_BOUND_PAGES (server.h).
 */
#include "workers/checkpointer.h"
#include "server.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/handles.h"
#include "audit/checkpoint.h"

#define INTERVAL_MS 100
/* One line about an audit checkpoint: the save's own error (a path in it) and ours. */
#define CHECKPOINT_ERR_MAX 600
/* Audit checkpoints are signed every this many passes (when the chain moved). */
#define AUDIT_EVERY_PASSES (CU_AUDIT_CHECKPOINT_INTERVAL_MS / INTERVAL_MS)
_Static_assert(AUDIT_EVERY_PASSES >= 1, "audit checkpoint interval");

struct cu_checkpointer {
	cu_store *store;
	cu_audit *audit; /* the server's chain, for the links between chains (audit.h) */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool stopping, woken;
	bool failed_last; /* the last pass failed: say so once, not every interval */
	const cu_vault *vault;
	char audit_file[CU_SERVER_DIR_MAX];
	bool audit_failed_last; /* as failed_last, for the audit checkpoints */
	/*
	 * The last checkpoint this thread signed: whatever the store and the
	 * file say later, the chain must still hold it (a cut while the
	 * server runs, with the store's checkpoints and the file removed too).
	 */
	bool have_last;
	cu_audit_checkpoint last;
};

/* Sleeps up to ms, or until woken or stopped. */
static void pause_ms(cu_checkpointer *c, unsigned ms)
{
	struct timespec until;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000;
	if (until.tv_nsec >= 1000000000) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&c->mu);
	while (!c->stopping && !c->woken &&
	       pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
		;
	c->woken = false;
	pthread_mutex_unlock(&c->mu);
}

static bool is_stopping(cu_checkpointer *c)
{
	bool s;

	pthread_mutex_lock(&c->mu);
	s = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return s;
}

/* Signs the audit head if it moved; a failure is said once (seqs and times only). */
static void audit_checkpoint(cu_checkpointer *c)
{
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char err[CHECKPOINT_ERR_MAX] = "";
	cu_audit_checkpoint cp;
	bool found = false, written = false;
	cu_result rc = CU_OK;

	if (c->have_last && c->last.seq > 0) {
		rc = cu_handle_audit_hash_at(c->store, c->last.seq, hash, &found);
		if (!rc && (!found || memcmp(hash, c->last.head, CU_AUDIT_HASHBYTES) != 0)) {
			snprintf(err, sizeof(err),
			         "entry %llu, signed by this server, is %s: the log was cut or "
			         "rewritten while it ran; run 'custodian audit verify'",
			         (unsigned long long)c->last.seq,
			         found ? "another one now" : "gone");
			rc = CU_ERR_AUDIT_BROKEN;
		}
	}
	if (!rc)
		rc = cu_audit_checkpoint_save(c->store, c->vault, c->audit, c->audit_file, false,
		                              &cp, &written, err, sizeof(err));
	if (written) {
		c->last = cp;
		c->have_last = true;
	}

	if (rc && !c->audit_failed_last)
		fprintf(stderr, "custodian: audit checkpoint not written: %s\n",
		        err[0] ? err : cu_strerror(rc));
	else if (!rc && c->audit_failed_last)
		fprintf(stderr, "custodian: audit checkpoints are written again\n");
	c->audit_failed_last = rc != CU_OK;
}

static void *checkpointer_main(void *arg)
{
	cu_checkpointer *c = arg;
	unsigned passes = 0;

	while (!is_stopping(c)) {
		if (++passes % AUDIT_EVERY_PASSES == 0)
			audit_checkpoint(c);
		int frames = 0, done = 0;
		cu_result rc = cu_handle_checkpoint_passive(c->store, &frames, &done);

		/* Codes only: the log holds personal data, its figures do not. */
		if (rc && !c->failed_last)
			fprintf(stderr, "custodian: checkpoint failed: %s\n", cu_strerror(rc));
		else if (!rc && c->failed_last)
			fprintf(stderr, "custodian: checkpoints work again\n");
		c->failed_last = rc != CU_OK;
		pause_ms(c, INTERVAL_MS);
	}
	return NULL;
}

cu_result cu_checkpointer_start(const char *store_url, const cu_vault *vault, const char *chain,
                                const char *audit_file, cu_checkpointer **out, char *err,
                                size_t errlen)
{
	cu_checkpointer *c;
	cu_result rc;

	*out = NULL;
	if (!vault || !audit_file || strlen(audit_file) >= sizeof(c->audit_file))
		return CU_ERR_INVALID_ARGUMENT;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CU_ERR_NOMEM;
	c->vault = vault;
	snprintf(c->audit_file, sizeof(c->audit_file), "%s", audit_file);
	rc = cu_handle_open(store_url, &c->store, err, errlen);
	if (rc) {
		free(c);
		return rc;
	}
	rc = cu_audit_open_chain(c->store, chain, &c->audit);
	if (rc) {
		snprintf(err, errlen, "cannot read the audit chain '%s': %s", chain,
		         cu_strerror(rc));
		cu_handle_close(c->store);
		free(c);
		return rc;
	}
	pthread_mutex_init(&c->mu, NULL);
	{
		pthread_condattr_t ca;

		/* Monotonic: a wall-clock step must not stall or rush the passes. */
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->cv, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (pthread_create(&c->thread, NULL, checkpointer_main, c) != 0) {
		snprintf(err, errlen, "cannot start the checkpointer thread");
		pthread_cond_destroy(&c->cv);
		pthread_mutex_destroy(&c->mu);
		cu_audit_free(c->audit);
		cu_handle_close(c->store);
		free(c);
		return CU_ERR_INTERNAL;
	}
	*out = c;
	return CU_OK;
}

void cu_checkpointer_wake(cu_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->woken = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void cu_checkpointer_stop(cu_checkpointer *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	cu_audit_free(c->audit);
	cu_handle_close(c->store);
	free(c);
}
