/*
 * server/http/serve.c — `custodian serve`: the data directory opened, the
 * listening address, the worker threads started in order and stopped in
 * reverse, signals (SIGTERM and SIGINT stop gracefully, SIGHUP reloads the
 * policy and the reloadable settings), and what systemd is told of each
 * step (http/service.h), the watchdog included.
 *
 * The plumbing is in the other files of server/http/; handlers in server/routes/.
 */
#include "http/http.h"
#include "http/service.h"

#include <errno.h>
#include <malloc.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "domain/erasure.h"
#include "domain/handles.h"
#include "domain/sessions.h"
#include "domain/versions.h"
#include "domain/tokens.h"
#include "util/file_read.h"

#include "web/web.h"
#include "workers/checkpointer.h"
#include "workers/notifier.h"
#include "workers/retention.h"

/* ---- serve --------------------------------------------------------------- */

/* Microseconds in a second, nanoseconds in a microsecond: the watchdog's interval. */
#define US_PER_S  1000000u
#define NS_PER_US 1000u

/* The address part of --listen (an IPv6 address in brackets, say). */
#define CU_LISTEN_HOST_MAX 128

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[CU_LISTEN_HOST_MAX];
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

	return cu_ctx_policy_record(ctx, rl->p, rl->doc, rl->len);
}

static void reload_done(cu_job *job)
{
	struct reload *rl = job->arg;

	pthread_mutex_lock(&rl->mu);
	rl->done = true;
	pthread_cond_signal(&rl->cv);
	pthread_mutex_unlock(&rl->mu);
}

/* 0 when the file's policy is in force, -1 when refused (one line on stderr). */
static int reload_policy(cu_server *srv, const char *data_dir)
{
	struct reload rl = {.srv = srv};
	char path[CU_SERVER_PATH_MAX], err[CU_SERVER_ERR_MAX];
	cu_result rc;

	snprintf(path, sizeof(path), "%s/%s", data_dir, srv->ctx->config.policy);
	if (srv->npolicies >= CU_SERVER_POLICIES_MAX) {
		fprintf(stderr, "custodian: policy not reloaded: too many reloads; restart\n");
		return -1;
	}
	rl.doc = cu_file_read_bounded(path, CU_POLICY_READ_MAX, &rl.len);
	if (!rl.doc && errno == EFBIG) {
		fprintf(
		    stderr,
		    "custodian: policy not reloaded: the file is over %zu bytes; at most %zu are "
		    "allowed\n",
		    (size_t)CU_POLICY_READ_MAX, (size_t)CU_POLICY_FILE_MAX);
		return -1;
	}
	rc = rl.len ? cu_policy_load_buffer(path, rl.doc, rl.len, &rl.p, err, sizeof(err))
	            : CU_ERR_IO;
	if (rc) {
		fprintf(stderr, "custodian: policy not reloaded: %s\n",
		        rc == CU_ERR_IO ? "cannot read the policy file" : err);
		free(rl.doc);
		return -1;
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
		return -1;
	}
	cu_server_install_policy(srv, rl.p);
	fprintf(stderr, "custodian: policy %s in force\n", rl.p->version);
	return 0;
}

/*
 * SIGHUP, before the policy: custodian.conf read anew.  A file that does not
 * load, or changes a setting the table does not mark reloadable, is refused
 * in one line and nothing of it applies; else the reloadable settings take
 * effect for new requests (today session_ttl_minutes, read at every login).
 * 0 when applied (or nothing changed), -1 when refused.
 */
static int reload_settings(cu_server *srv, const char *data_dir, const cu_config_flags *flags)
{
	cu_config fresh;
	char path[CU_SERVER_PATH_MAX], err[CU_SERVER_ERR_MAX] = "";
	cu_result rc;

	snprintf(path, sizeof(path), "%s/custodian.conf", data_dir);
	/* The environment and the flags are the process's: the same over the new file. */
	rc = cu_config_resolve(path, flags, &fresh, err, sizeof(err));
	if (!rc)
		rc = cu_config_reload_check(&srv->ctx->config, &fresh, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: settings not reloaded: %s\n",
		        err[0] ? err : cu_strerror(rc));
		return -1;
	}
	if (atomic_exchange(&srv->session_ttl_min, fresh.session_ttl_min) != fresh.session_ttl_min)
		fprintf(stderr, "custodian: settings reloaded: session_ttl_minutes = %u\n",
		        fresh.session_ttl_min);
	return 0;
}

static void warn_line(const char *line)
{
	fprintf(stderr, "custodian: %s\n", line);
}

/*
 * The watchdog's proof of life: an empty job through the writer.  WATCHDOG=1
 * goes out only when the previous one came back, so a writer that hangs
 * (and with it every write) stops the pings and the manager restarts the
 * service; a writer that fails its commits (a full disk) still answers,
 * and /readyz is what reports that.
 */
struct liveness {
	cu_job job;
	atomic_bool pending;
};

static cu_result liveness_run(cu_ctx *ctx, cu_job *job)
{
	(void)ctx;
	(void)job;
	return CU_OK;
}

static void liveness_done(cu_job *job)
{
	struct liveness *l = job->arg;

	atomic_store(&l->pending, false);
}

static void watchdog_tick(cu_server *srv, struct liveness *l)
{
	if (atomic_load(&l->pending))
		return;
	cu_service_watchdog();
	atomic_store(&l->pending, true);
	l->job = (cu_job){.run = liveness_run, .done = liveness_done, .arg = l};
	/* Refused only while the writer stops: pending stays set, so no more pings. */
	if (cu_writer_submit(srv->writer, &l->job) != CU_OK)
		fprintf(stderr, "custodian: watchdog: the writer is stopping\n");
}

/*
 * Every HEAP_TRIM_INTERVAL_S the main thread, idle between signals, gives
 * the free pages of every malloc arena back to the system (malloc_trim).
 * Without it the soak's mixed load (tests/reliability/soak.py) grew the
 * resident size 7.8 % in eight minutes with nothing leaked: glibc keeps the
 * pages freed inside the network threads' arenas, and the mix of request
 * sizes leaves them in pieces no later request reuses whole; with it, the
 * same run stayed within 3 % (docs/reliability.md).  One pass walks each
 * arena under its lock, a millisecond or so for a heap of tens of MiB.
 */
#define HEAP_TRIM_INTERVAL_S 10

/*
 * And fixed thresholds, set once before any thread starts: a block of
 * HEAP_MMAP_THRESHOLD or more gets a mapping of its own, given back when it
 * is freed, and a heap's free top past HEAP_TRIM_THRESHOLD goes back at
 * once.  glibc otherwise raises its mmap threshold each time such a block is
 * freed (up to 32 MiB), after which an export's or a statistic's big
 * buffers land inside the arenas and stay there as free pieces.  Measured
 * with the soak (tests/reliability/soak.py, 300 s warm-up + 600 s): +9.8 %
 * without the fixed thresholds, +0.8 % with them, in the same workload
 * (docs/reliability-suite.md).  The cost is a mmap and a munmap per such
 * block, which only the long answers allocate.
 */
#define HEAP_MMAP_THRESHOLD (128 * 1024)
#define HEAP_TRIM_THRESHOLD (128 * 1024)

static void heap_trim_tick(time_t *last)
{
	time_t now = time(NULL);

	if (now - *last < HEAP_TRIM_INTERVAL_S && now >= *last)
		return;
	*last = now;
	malloc_trim(0);
}

/*
 * The next signal, or 0 after a tick: the heap trimmed when its interval
 * is up and, with a watchdog, a ping every half watchdog interval.
 */
static int next_signal(cu_server *srv, const sigset_t *sigs, uint64_t watchdog_usec,
                       struct liveness *l, time_t *trimmed)
{
	uint64_t tick = HEAP_TRIM_INTERVAL_S * US_PER_S;
	struct timespec ts;
	int sig;

	if (watchdog_usec && watchdog_usec / 2 < tick)
		tick = watchdog_usec / 2;
	ts = (struct timespec){.tv_sec = (time_t)(tick / US_PER_S),
	                       .tv_nsec = (long)(tick % US_PER_S) * NS_PER_US};
	sig = sigtimedwait(sigs, NULL, &ts);
	if (sig > 0)
		return sig;
	if (errno == EAGAIN) {
		heap_trim_tick(trimmed);
		if (watchdog_usec)
			watchdog_tick(srv, l);
	}
	return 0;
}

int cu_server_run(const char *data_dir, const cu_config_flags *flags, bool quiet)
{
	cu_server *srv = calloc(1, sizeof(*srv));
	cu_notifier *notifier = NULL;
	cu_retention_worker *retention = NULL;
	cu_checkpointer *checkpointer = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	const char *listen;
	char err[CU_SERVER_ERR_MAX] = "";
	struct liveness liveness = {.pending = false};
	uint64_t watchdog_usec = cu_service_watchdog_usec();
	time_t trimmed = time(NULL);
	sigset_t sigs;
	int status = 1, sig;
	cu_result rc;

	if (!srv)
		return 1;
	/* 0 from a sanitizer's allocator, which keeps its own: nothing to do then. */
	(void)mallopt(M_MMAP_THRESHOLD, HEAP_MMAP_THRESHOLD);
	(void)mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD);
	cu_service_status("opening %s", data_dir);
	rc = cu_ctx_open_with(data_dir, flags, &srv->ctx, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: %s\n", err[0] ? err : cu_strerror(rc));
		goto out;
	}
	/* The server owns every policy it loads, the first included (freed below out:). */
	srv->policies[srv->npolicies++] = srv->ctx->policy;
	/* The last audit checkpoint: at close, after the writer's last commit. */
	srv->ctx->audit_checkpoint_at_close = true;
	srv->ctx->warn = warn_line;
	/* An erasure whose keyring puncture a crash cut off is finished now (erasure.h). */
	{
		size_t punctured = 0;

		rc = cu_erasure_reconcile(srv->ctx, &punctured);
		if (rc) {
			fprintf(stderr,
			        "custodian: cannot reconcile the keyring with erasures: %s\n",
			        cu_strerror(rc));
			goto out;
		}
		if (punctured)
			fprintf(stderr,
			        "custodian: %zu keyring leaves of erased members punctured\n",
			        punctured);
	}
	listen = srv->ctx->config.listen;
	if (parse_listen(listen, &ss, &sslen)) {
		fprintf(stderr, "custodian: cannot listen on '%s': expected ADDRESS:PORT\n",
		        listen);
		goto out;
	}
	if (srv->ctx->config.store[0])
		snprintf(srv->store_url, sizeof(srv->store_url), "%s", srv->ctx->config.store);
	else
		snprintf(srv->store_url, sizeof(srv->store_url), "sqlite:%s/custodian.db",
		         data_dir);
	snprintf(srv->data_dir, sizeof(srv->data_dir), "%s", data_dir);
	pthread_mutex_init(&srv->policies_mu, NULL);
	atomic_init(&srv->policy, srv->ctx->policy);
	atomic_init(&srv->inflight, 0);
	atomic_init(&srv->session_ttl_min, srv->ctx->config.session_ttl_min);
	srv->access_log = quiet ? NULL : stdout;
	rc = cu_web_site_load(CU_WEB_DIR, &srv->site, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: %s\n", err[0] ? err : cu_strerror(rc));
		goto out;
	}
	srv->page_not_found = cu_web_not_found;
	pthread_key_create(&srv->reader_key, cu_http_reader_close);
	if (cu_ratelimit_init(&srv->limits) != 0)
		goto out;
	/* Every server with these master keys gives an address the same key (http/ratelimit.h). */
	{
		unsigned char secret[CU_RATELIMIT_KEY_LEN];

		if (cu_vault_mac(srv->ctx->vault, "cu-ratelimit-address", NULL, 0, secret) !=
		    CU_OK) {
			fprintf(stderr, "custodian: cannot derive the address key secret\n");
			goto out;
		}
		cu_ratelimit_set_address_secret(secret);
		sodium_memzero(secret, sizeof(secret));
	}
	/* A hash to verify against when a login names no account: the same cost either way. */
	rc =
	    cu_vault_password_hash("no account has this password", srv->ctx->config.argon2_opslimit,
	                           srv->ctx->config.argon2_memlimit_kib * 1024, srv->dummy_hash);
	if (rc) {
		fprintf(stderr, "custodian: cannot prepare password hashing: %s\n",
		        cu_strerror(rc));
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
	rc = cu_handle_set_autocheckpoint_pages(srv->ctx->store, CU_WAL_BOUND_PAGES);
	if (rc) {
		fprintf(stderr, "custodian: cannot set the checkpoint threshold: %s\n",
		        cu_strerror(rc));
		goto out;
	}
	cu_service_status("starting the workers");
	if (cu_writer_start(srv->ctx, &srv->writer) ||
	    cu_hasher_start((int)srv->ctx->config.hash_threads, &srv->hasher)) {
		fprintf(stderr, "custodian: cannot start worker threads\n");
		goto out;
	}
	/* After the writer, on a store handle of its own: it copies what the writer commits. */
	{
		char audit_file[CU_SERVER_DIR_MAX];

		cu_ctx_audit_checkpoint_path(srv->ctx, audit_file, sizeof(audit_file));
		rc = cu_checkpointer_start(srv->store_url, srv->ctx->vault,
		                           srv->ctx->config.audit_chain, audit_file, &checkpointer,
		                           err, sizeof(err));
	}
	if (rc) {
		fprintf(stderr, "custodian: cannot start the checkpointer: %s\n",
		        err[0] ? err : cu_strerror(rc));
		goto out;
	}
	/* After the writer, with a cu_ctx of its own: it delivers what the writer commits. */
	rc = cu_notifier_start(data_dir, flags, &notifier, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: cannot start the notifier: %s\n",
		        err[0] ? err : cu_strerror(rc));
		goto out;
	}
	/* After the writer, with a cu_ctx of its own per pass: retention (docs/retention.md). */
	rc = cu_retention_worker_start(data_dir, &retention, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: cannot start the retention worker: %s\n",
		        err[0] ? err : cu_strerror(rc));
		goto out;
	}
	rc = cu_deadlines_start(srv->ctx->config.request_timeout_s * 1000u, &srv->deadlines);
	if (rc) {
		fprintf(stderr, "custodian: cannot start the request deadline: %s\n",
		        cu_strerror(rc));
		goto out;
	}
	srv->daemon = cu_http_daemon_start(srv, &ss);
	if (!srv->daemon) {
		fprintf(stderr, "custodian: cannot listen on '%s': %s\n", listen,
		        errno ? strerror(errno) : "libmicrohttpd refused");
		goto out;
	}
	srv->ready = true;
	fprintf(stderr, "custodian: serving %s on http://%s (policy %s)\n", data_dir, listen,
	        srv->ctx->policy->version);
	fflush(stderr);
	/* Only now: listening, the store open and migrated, every worker running. */
	cu_service_ready("serving on http://%s (policy %s)", listen, srv->ctx->policy->version);

	for (;;) {
		sig = next_signal(srv, &sigs, watchdog_usec, &liveness, &trimmed);
		if (sig == 0)
			continue;
		if (sig == SIGHUP) {
			int refused;

			cu_service_reloading();
			/* Both, whatever the first says: each is refused or applied whole. */
			refused = reload_settings(srv, data_dir, flags);
			refused |= reload_policy(srv, data_dir);
			fflush(stderr);
			cu_service_ready("serving on http://%s (policy %s)%s", listen,
			                 atomic_load(&srv->policy)->version,
			                 refused ? "; the last reload was refused, see the log"
			                         : "");
			continue;
		}
		break;
	}
	/* Graceful stop: take no new connections, let requests in flight finish. */
	srv->ready = false;
	cu_service_stopping();
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
	/* Before the writer: a pass stops before its next member. */
	cu_retention_worker_stop(retention);
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
	cu_web_site_free(srv->site);
	sodium_memzero(srv->dummy_hash, sizeof(srv->dummy_hash));
	free(srv);
	return status;
}
