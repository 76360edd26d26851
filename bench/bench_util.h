/*
 * bench/bench_util.h — what the benchmark drivers share: a monotonic clock,
 * bounded environment knobs, and running a child process with a time limit
 * while measuring its wall time and peak resident set (wait4's ru_maxrss).
 *
 * Header-only (static inline) because every bench/bench_*.c is its own
 * executable; nothing here is part of custodian_core.
 */
#ifndef CU_BENCH_UTIL_H
#define CU_BENCH_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * xorshift64*: random-looking numbers at memcpy speed, the same sequence from
 * the same seed every run (no crypto: ids, choices and filler bytes).
 */
static inline uint64_t bench_xorshift64(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * 0x2545f4914f6cdd1dULL;
}

/* Per child process; CU_BENCH_TIMEOUT overrides (seconds). */
#define BENCH_TIMEOUT_DEFAULT 3600u

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * An unsigned knob from the environment: def when unset, and a message and
 * exit(2) when set to something that is not a decimal in [min, max] —
 * a typo must not silently run the default size.
 */
static inline unsigned long bench_env(const char *name, unsigned long def, unsigned long min,
                                      unsigned long max)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "bench: %s='%s' is not a number from %lu to %lu\n", name, s, min,
		        max);
		exit(2);
	}
	return v;
}

/* Parses a decimal argument; exit(2) when it is not one in [min, max]. */
static inline unsigned long long bench_arg(const char *what, const char *s, unsigned long long min,
                                           unsigned long long max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max) {
		fprintf(stderr, "bench: %s '%s' is not a number from %llu to %llu\n", what, s, min,
		        max);
		exit(2);
	}
	return v;
}

typedef struct bench_run {
	double secs;        /* wall time, fork to reaped */
	double cpu_secs;    /* user + system time of the child, all its threads */
	double written_mib; /* what it made the kernel write to storage (ru_oublock) */
	long maxrss_kib;    /* peak resident set of the child (ru_maxrss) */
	int exit_code;      /* exit status, or -1 when killed by a signal */
	int signal;         /* the signal that killed it, or 0 */
} bench_run;

/*
 * Runs argv[0] (a path) with stdout and stderr sent to out_path and
 * err_path (NULL: /dev/null), killed by SIGALRM after timeout_s seconds.
 * The time measured includes the exec and the child's start-up, the same for
 * every command compared.  Returns 0 when the child was run and reaped
 * (look at r->exit_code), -1 when it could not be started.
 */
static inline int bench_spawn(char *const argv[], const char *out_path, const char *err_path,
                              unsigned timeout_s, bench_run *r)
{
	struct rusage ru;
	double t0;
	pid_t pid;
	int st;

	memset(r, 0, sizeof(*r));
	fflush(NULL);
	t0 = bench_now();
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		const char *paths[2] = {out_path ? out_path : "/dev/null",
		                        err_path ? err_path : "/dev/null"};

		for (int i = 0; i < 2; i++) {
			int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

			if (fd < 0 || dup2(fd, STDOUT_FILENO + i) < 0)
				_exit(126);
		}
		/* A pending alarm survives exec: the limit holds for the command itself. */
		alarm(timeout_s);
		execv(argv[0], argv);
		_exit(127);
	}
	while (wait4(pid, &st, 0, &ru) < 0) {
		if (errno != EINTR)
			return -1;
	}
	r->secs = bench_now() - t0;
	r->cpu_secs = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	              (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	/* ru_oublock counts 512-byte units of the task's write_bytes. */
	r->written_mib = (double)ru.ru_oublock * 512.0 / 1048576.0;
	r->maxrss_kib = ru.ru_maxrss;
	if (WIFEXITED(st)) {
		r->exit_code = WEXITSTATUS(st);
	} else {
		r->exit_code = -1;
		r->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	}
	return 0;
}

/* The run with the least wall time: on a shared machine the others were disturbed. */
static inline const bench_run *bench_best(const bench_run *r, unsigned n)
{
	const bench_run *best = &r[0];

	for (unsigned i = 1; i < n; i++)
		if (r[i].secs < best->secs)
			best = &r[i];
	return best;
}

static inline long bench_max_rss(const bench_run *r, unsigned n)
{
	long m = 0;

	for (unsigned i = 0; i < n; i++)
		if (r[i].maxrss_kib > m)
			m = r[i].maxrss_kib;
	return m;
}

/* One line of a result table; `count` things done in the run's wall time. */
static inline void bench_table_head(const char *what, const char *per_second)
{
	printf("  %-36s %9s %9s %12s %10s %12s\n", what, "wall (s)", "CPU (s)", per_second,
	       "peak RSS", "disk writes");
}

static inline void bench_table_row(const char *name, const bench_run *r, uint64_t count,
                                   long maxrss_kib)
{
	printf("  %-36s %9.3f %9.2f %12.0f %6.1f MiB %8.0f MiB\n", name, r->secs, r->cpu_secs,
	       (double)count / r->secs, (double)maxrss_kib / 1024.0, r->written_mib);
}

/* Prints why a child failed, and the end of what it wrote to err_path. */
static inline void bench_report_failure(const char *what, const bench_run *r, const char *err_path)
{
	char buf[2048];
	FILE *f;
	long size;
	size_t n;

	if (r->signal == SIGALRM)
		fprintf(stderr, "bench: %s: killed after the time limit (CU_BENCH_TIMEOUT)\n",
		        what);
	else if (r->signal)
		fprintf(stderr, "bench: %s: killed by signal %d\n", what, r->signal);
	else
		fprintf(stderr, "bench: %s: exit status %d\n", what, r->exit_code);
	if (!err_path || !(f = fopen(err_path, "r")))
		return;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > (long)sizeof(buf) - 1)
		fseek(f, size - (long)sizeof(buf) + 1, SEEK_SET);
	else
		fseek(f, 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	if (n)
		fprintf(stderr, "--- end of its stderr ---\n%s\n---\n", buf);
}

/* Reads the first line of a small file into buf (without the newline). */
static inline int bench_first_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Flushes everything dirty, so one measured run does not pay for the last one's writes. */
static inline void bench_settle(void)
{
	sync();
}

static inline void bench_path(char *out, size_t len, const char *dir, const char *name)
{
	if ((size_t)snprintf(out, len, "%s/%s", dir, name) >= len) {
		fprintf(stderr, "bench: path too long: %s/%s\n", dir, name);
		exit(2);
	}
}

/* "GOAL MISSED" lines are the ones bench/run repeats in its summary. */
static inline const char *bench_verdict(int met)
{
	return met ? "ok" : "GOAL MISSED";
}

#endif
