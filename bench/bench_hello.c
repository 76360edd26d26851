/*
 * bench_hello — the HTTP benchmark's yardstick: the least a libmicrohttpd
 * server can do per request, in the same threading mode as `custodian
 * serve` (server/http.c: MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL,
 * a pool of THREADS threads, the same connection memory, timeout and limit;
 * not MHD_ALLOW_SUSPEND_RESUME, which a server that never waits does not need).
 *
 *     bench_hello PORT [THREADS]        (127.0.0.1 only; THREADS default 4)
 *
 * Every request, whatever its method or path, is answered 200 with a fixed
 * JSON body as long as a member read for `support` (GET /v1/members/{id}:
 * id, purpose, three fields, nine withheld) and the same response headers
 * as ours, so both sides send about the same bytes.  No routing, no
 * authentication, no store, no audit, no crypto.  Stops on SIGTERM or
 * SIGINT.  bench/run-http drives it with wrk next to our server.
 */
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "bench_util.h"

/* 546 bytes; our answer to a read of a benchmark member for `support` is 549. */
static const char body[] =
    "{\"id\":\"ZGg8BMQbY4G6-hg_Rusf4w\",\"purpose\":\"support\",\"fields\":{\"name\":"
    "\"Hanako Yamada\",\"phone\":\"090-1234-5678\",\"email\":\"hanako.yamada@example.com\"},"
    "\"withheld\":{\"address\":\"not allowed for this purpose\",\"date_of_birth\":"
    "\"not allowed for this purpose\",\"age\":\"not allowed for this purpose\","
    "\"occupation\":\"not allowed for this purpose\",\"income\":\"not allowed for this "
    "purpose\",\"newspapers_magazines\":\"not allowed for this purpose\",\"products\":"
    "\"not allowed for this purpose\",\"services\":\"not allowed for this purpose\","
    "\"hobbies\":\"not allowed for this purpose\"}}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
	static int first_call;
	struct MHD_Response *resp;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (*con_cls == NULL) {
		/* libmicrohttpd's first call carries the headers only. */
		*con_cls = &first_call;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* a body is read and dropped */
		return MHD_YES;
	}
	resp =
	    MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", "application/json");
	MHD_add_response_header(resp, "X-Request-Id", "0123456789abcdef");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct MHD_Daemon *d;
	sigset_t sigs;
	unsigned threads = 4;
	int sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench_hello PORT [THREADS]\n");
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)bench_arg("port", argv[1], 1, 65535));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (argc == 3)
		threads = (unsigned)bench_arg("threads", argv[2], 1, 64);

	/* As our server: only the main thread takes signals; the pool inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
	                     NULL, NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR,
	                     (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
	                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32u * 1024),
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench_hello: cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	fprintf(stderr, "bench_hello: serving on http://127.0.0.1:%s with %u threads\n", argv[1],
	        threads);
	while (sigwait(&sigs, &sig) != 0)
		;
	MHD_stop_daemon(d);
	return 0;
}
