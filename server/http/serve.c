/*
 * server/http/serve.c — `custodian serve`: the data directory opened, the
 * listening address, the worker threads started in order and stopped in
 * reverse, signals (SIGTERM and SIGINT stop gracefully, SIGHUP reloads the
 * policy and the reloadable settings).
 *
 * The plumbing is in the other files of server/http/; handlers in server/routes/.
 */
#include "http/http.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

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

static void reload_policy(cu_server *srv, const char *data_dir)
{
	struct reload rl = {.srv = srv};
	char path[CU_SERVER_PATH_MAX], err[CU_SERVER_ERR_MAX];
	cu_result rc;

	snprintf(path, sizeof(path), "%s/%s", data_dir, srv->ctx->config.policy);
	if (srv->npolicies >= CU_SERVER_POLICIES_MAX) {
		fprintf(stderr, "custodian: policy not reloaded: too many reloads; restart\n");
		return;
	}
	rl.doc = cu_file_read_bounded(path, CU_POLICY_READ_MAX, &rl.len);
	if (!rl.doc && errno == EFBIG) {
		fprintf(
		    stderr,
		    "custodian: policy not reloaded: the file is over %zu bytes; at most %zu are "
		    "allowed\n",
		    (size_t)CU_POLICY_READ_MAX, (size_t)CU_POLICY_FILE_MAX);
		return;
	}
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

/*
 * SIGHUP, before the policy: custodian.conf read anew.  A file that does not
 * load, or changes a setting the table does not mark reloadable, is refused
 * in one line and nothing of it applies; else the reloadable settings take
 * effect for new requests (today session_ttl_minutes, read at every login).
 */
static void reload_settings(cu_server *srv, const char *data_dir)
{
	cu_config fresh;
	char path[CU_SERVER_PATH_MAX], err[CU_SERVER_ERR_MAX] = "";
	cu_result rc;

	snprintf(path, sizeof(path), "%s/custodian.conf", data_dir);
	cu_config_defaults(&fresh);
	rc = cu_config_load(path, &fresh, err, sizeof(err));
	if (!rc)
		rc = cu_config_reload_check(&srv->ctx->config, &fresh, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "custodian: settings not reloaded: %s\n",
		        err[0] ? err : cu_strerror(rc));
		return;
	}
	if (atomic_exchange(&srv->session_ttl_min, fresh.session_ttl_min) != fresh.session_ttl_min)
		fprintf(stderr, "custodian: settings reloaded: session_ttl_minutes = %u\n",
		        fresh.session_ttl_min);
}

static void warn_line(const char *line)
{
	fprintf(stderr, "custodian: %s\n", line);
}

int cu_server_run(const char *data_dir, const char *listen, bool quiet)
{
	cu_server *srv = calloc(1, sizeof(*srv));
	cu_notifier *notifier = NULL;
	cu_retention_worker *retention = NULL;
	cu_checkpointer *checkpointer = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	char err[CU_SERVER_ERR_MAX] = "";
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
	if (cu_writer_start(srv->ctx, &srv->writer) ||
	    cu_hasher_start((int)srv->ctx->config.hash_threads, &srv->hasher)) {
		fprintf(stderr, "custodian: cannot start worker threads\n");
		goto out;
	}
	/* After the writer, on a store handle of its own: it copies what the writer commits. */
	{
		char audit_file[CU_SERVER_DIR_MAX];

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

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload_settings(srv, data_dir);
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
