/*
 * bench_http_client — small loopback HTTP helpers for bench/run-http.
 *
 *     bench_http_client ports N
 *         prints N distinct free TCP ports on 127.0.0.1, one a line (bound
 *         together, then released: a later bind by a server may still race
 *         with another program, which the script notices at start-up)
 *
 *     bench_http_client wait PORT SECONDS
 *         polls GET /healthz on 127.0.0.1:PORT until a 200 answers; exit 1
 *         after SECONDS without one
 *
 *     bench_http_client get PORT PATH
 *         prints the body of GET PATH (a 200 only; exit 1 otherwise), e.g.
 *         /metrics
 *
 *     bench_http_client hold PORT PID N PATH
 *         memory per idle keep-alive connection: reads VmRSS of process PID
 *         (/proc/PID/status), opens N connections to 127.0.0.1:PORT, sends
 *         one `GET PATH` on each (with `Authorization: Bearer
 *         $CU_BENCH_TOKEN` when that is set) and reads each answer whole,
 *         keeps them all open and idle for a moment, reads VmRSS again and
 *         prints
 *
 *             conns: N open, K answered 200, rss before B KiB, after A KiB,
 *             per connection P KiB
 *
 *         then closes them.  N is at most 4000 (RLIMIT_NOFILE permitting).
 *
 * Exits 0 on success, 1 on failure, 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

#define HOLD_MAX 4000

static int connect_loopback(unsigned port)
{
	struct sockaddr_in sa;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int send_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Reads one response (headers, then Content-Length bytes of body) within
 * timeout_ms; returns its status, or -1.  With body_out, the body is
 * written there (it must fit in 256 KiB).
 */
static int read_response_body(int fd, int timeout_ms, FILE *body_out)
{
	static char buf[256 * 1024];
	size_t have = 0;
	double deadline = bench_now() + timeout_ms / 1000.0;

	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		char *end;
		int left = (int)((deadline - bench_now()) * 1000.0);
		ssize_t r;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		r = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (r <= 0)
			return -1;
		have += (size_t)r;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end) {
			const char *cl = NULL;
			size_t body = 0, need;
			int status = 0;

			for (char *h = buf; h && h < end; h = strstr(h, "\r\n")) {
				if (h != buf)
					h += 2;
				if (!strncasecmp(h, "Content-Length:", 15))
					cl = h + 15;
			}
			if (cl)
				body = strtoul(cl, NULL, 10);
			need = (size_t)(end + 4 - buf) + body;
			if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
				return -1;
			if (need > sizeof(buf) - 1)
				return -1;
			if (have >= need) {
				if (body_out)
					fwrite(end + 4, 1, body, body_out);
				return status;
			}
		} else if (have >= sizeof(buf) - 1) {
			return -1;
		}
	}
}

static int read_response(int fd, int timeout_ms)
{
	return read_response_body(fd, timeout_ms, NULL);
}

static long rss_kib(long pid, const char *which)
{
	char path[64], line[256];
	long v = -1;
	size_t wl = strlen(which);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, which, wl) && line[wl] == ':')
			v = strtol(line + wl + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cmd_ports(unsigned n)
{
	int fds[16];
	unsigned ports[16];

	for (unsigned i = 0; i < n; i++) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);

		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0) {
			perror("bench_http_client: ports");
			return 1;
		}
		ports[i] = ntohs(sa.sin_port);
	}
	for (unsigned i = 0; i < n; i++) {
		close(fds[i]);
		printf("%u\n", ports[i]);
	}
	return 0;
}

static int cmd_wait(unsigned port, unsigned secs)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	                          "Connection: close\r\n\r\n";
	double deadline = bench_now() + secs;

	while (bench_now() < deadline) {
		int fd = connect_loopback(port);

		if (fd >= 0) {
			int st = send_all(fd, req, sizeof(req) - 1) ? -1 : read_response(fd, 1000);

			close(fd);
			if (st == 200)
				return 0;
		}
		usleep(50000);
	}
	fprintf(stderr, "bench_http_client: nothing answered on 127.0.0.1:%u within %u s\n", port,
	        secs);
	return 1;
}

static int cmd_get(unsigned port, const char *path)
{
	char req[1024];
	int fd, len, st = -1;

	len = snprintf(req, sizeof(req),
	               "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
	if (len < 0 || (size_t)len >= sizeof(req))
		return 2;
	fd = connect_loopback(port);
	if (fd >= 0 && send_all(fd, req, (size_t)len) == 0)
		st = read_response_body(fd, 10000, stdout);
	if (fd >= 0)
		close(fd);
	if (st != 200) {
		fprintf(stderr, "bench_http_client: GET %s: %d\n", path, st);
		return 1;
	}
	return 0;
}

static int cmd_hold(unsigned port, long pid, unsigned n, const char *path)
{
	static int fds[HOLD_MAX];
	const char *token = getenv("CU_BENCH_TOKEN");
	char req[1024];
	long before, after;
	unsigned open_n = 0, ok = 0;
	int len;

	if (token && *token)
		len = snprintf(req, sizeof(req),
		               "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
		               "Authorization: Bearer %s\r\n\r\n",
		               path, token);
	else
		len =
		    snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		fprintf(stderr, "bench_http_client: path too long\n");
		return 2;
	}
	before = rss_kib(pid, "VmRSS");
	if (before < 0) {
		fprintf(stderr, "bench_http_client: no process %ld\n", pid);
		return 1;
	}
	/* One at a time: the server holds each idle connection, as a pool of clients would. */
	for (unsigned i = 0; i < n; i++) {
		int fd = connect_loopback(port);

		if (fd < 0)
			break;
		fds[open_n++] = fd;
		if (send_all(fd, req, (size_t)len) == 0 && read_response(fd, 10000) == 200)
			ok++;
	}
	/* Let the server's threads settle (completion callbacks, frees) before looking. */
	usleep(500000);
	after = rss_kib(pid, "VmRSS");
	printf("conns: %u open, %u answered 200, rss before %ld KiB, after %ld KiB, "
	       "per connection %.1f KiB\n",
	       open_n, ok, before, after, open_n ? (double)(after - before) / open_n : 0.0);
	for (unsigned i = 0; i < open_n; i++)
		close(fds[i]);
	return open_n == n && ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "ports"))
		return cmd_ports((unsigned)bench_arg("count", argv[2], 1, 16));
	if (argc == 4 && !strcmp(argv[1], "wait"))
		return cmd_wait((unsigned)bench_arg("port", argv[2], 1, 65535),
		                (unsigned)bench_arg("seconds", argv[3], 1, 600));
	if (argc == 4 && !strcmp(argv[1], "get"))
		return cmd_get((unsigned)bench_arg("port", argv[2], 1, 65535), argv[3]);
	if (argc == 6 && !strcmp(argv[1], "hold"))
		return cmd_hold((unsigned)bench_arg("port", argv[2], 1, 65535),
		                (long)bench_arg("pid", argv[3], 1, 1u << 30),
		                (unsigned)bench_arg("connections", argv[4], 1, HOLD_MAX), argv[5]);
	fprintf(stderr, "usage: bench_http_client ports N | wait PORT SECONDS |"
	                " get PORT PATH | hold PORT PID N PATH\n");
	return 2;
}
