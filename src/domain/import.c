/*
 * src/domain/import.c — CSV (libcsv) and JSON Lines (jansson) into registrations,
 * batched into transactions.
 *
 * Two threads in a pipeline.  A sealer thread reads and parses the file and
 * runs cu_member_prepare on each row — validation, the data key, sealing,
 * blind indexes: CPU work that touches no store — and queues the sealed
 * registration (or the row's refusal) in file order.  The caller's thread
 * takes them in that order and runs cu_member_apply_in_batch in batched
 * transactions, and calls the reject and progress callbacks.  So the
 * crypto of one row overlaps the SQLite writes of the rows before it, and
 * the outcome — what is imported, what is refused and in which order, the
 * messages — is that of a one-thread import: only the caller's thread
 * touches the store (a cu_ctx belongs to one thread), and the sealer reads
 * only the policy, the vault and the configuration, which are immutable.
 * Should the thread not start, the caller's thread does both halves in turn;
 * it also does so for a file under cu_import_thread_from bytes (64 KiB, a
 * few hundred rows at most), where starting a thread and its 650 KiB queue
 * cost more than the overlap saves — the fuzz targets, whose inputs are mostly that small, ran
 * six times faster without it (docs/reliability.md).
 *
 * Plaintext stays with the sealer: the queue holds sealed rows and the
 * normalised e-mail address used for duplicate checks (wiped on release).
 * The queue is bounded (QUEUE_LEN rows), so memory does not grow with the
 * file.  See docs/performance.md for the figures.
 */
#include "domain/import.h"

#include <csv.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "domain/members.h"

uint64_t cu_import_thread_from = 64u << 10;

#define NUM_TEXT_BYTES 32 /* a JSON integer as text (JSON_INTEGER_FORMAT), and its NUL */

#define ROW_BYTES_MAX  (1u << 20) /* one row's values, all fields together */
#define LINE_BYTES_MAX (4u << 20) /* one physical line; longer stops the import */
#define QUEUE_LEN      256        /* rows sealed ahead of the writer */
#define PROGRESS_EVERY 0x4000     /* rows between progress calls */

/* One row's outcome on its way from the sealer to the writer. */
enum item_kind {
	ITEM_ROW,    /* sealed, to be applied */
	ITEM_REJECT, /* refused: rc and errs say why */
	ITEM_FATAL,  /* stops the import: rc, and the sealer's message */
};

struct item {
	enum item_kind kind;
	uint64_t line; /* the line the row began on */
	uint64_t done; /* bytes read when it was queued */
	cu_result rc;
	cu_errors errs;
	cu_registration reg; /* ITEM_ROW only */
};

struct importer {
	cu_ctx *ctx;
	const cu_actor *actor;

	/* ---- the writer's side (the caller's thread) ---- */
	cu_import_report *report;
	cu_import_reject_fn reject;
	cu_import_progress_fn progress;
	void *ud;
	char *err;
	size_t errlen;
	uint64_t total;    /* file size, for progress */
	uint64_t taken;    /* items taken off the queue */
	uint64_t in_batch; /* rows registered in the open transaction */
	int in_tx;
	cu_result failed; /* the import's outcome once it stops */

	/* ---- the queue, under lock (or no lock without a sealer thread) ---- */
	bool threaded;
	pthread_mutex_t lock;
	pthread_cond_t filled, emptied;
	struct item *q; /* QUEUE_LEN slots; q[head..head+count) are queued */
	size_t head, count;
	bool writer_waits, sealer_waits;
	bool stop;                       /* the writer failed: the sealer stops reading */
	bool sealed_all;                 /* the sealer is done; `done` is final */
	uint64_t done;                   /* bytes the sealer has read */
	char sealer_err[CU_ERR_MSG_MAX]; /* the message of the sealer's ITEM_FATAL */
	struct item scratch;             /* the one slot without a sealer thread */

	/* ---- the sealer's side ---- */
	FILE *f;
	const char *path;
	int jsonl;
	bool halted;       /* stop seen, or a fatal item queued */
	uint64_t line;     /* physical line being read */
	uint64_t row_line; /* line the current row began on (reported) */
	int row_open;      /* CSV: a row has begun and not yet ended */
	uint64_t read;     /* bytes read */

	/* CSV state */
	int header_done;
	size_t ncols;
	const char *cols[CU_POLICY_FIELDS_MAX];
	size_t nvals;
	int too_many; /* row has more values than the header names */
	int too_big;
	size_t nul_col; /* 1 + index of a value holding a NUL byte, or 0 */
	char *buf;      /* values of the current row, NUL-separated */
	size_t len, cap;
	size_t off[CU_POLICY_FIELDS_MAX];
};

/* ==== the writer ======================================================== */

static cu_result batch_commit(struct importer *im, uint64_t line)
{
	cu_result rc;

	if (!im->in_tx)
		return CU_OK;
	im->in_tx = 0;
	rc = cu_tx_commit(im->ctx);
	if (rc) {
		snprintf(im->err, im->errlen, "commit failed near line %llu: %s",
		         (unsigned long long)line, cu_strerror(rc));
		return rc;
	}
	im->report->imported += im->in_batch;
	im->in_batch = 0;
	return CU_OK;
}

static void refuse(struct importer *im, uint64_t line, cu_result rc, const cu_errors *errs)
{
	im->report->rejected++;
	if (im->reject)
		im->reject(im->ud, line, rc, errs);
}

/* Applies one sealed row inside the open batch. */
static void apply_row(struct importer *im, struct item *it)
{
	cu_errors errs;
	cu_result rc;

	if (!im->in_tx) {
		rc = cu_tx_begin(im->ctx);
		if (rc) {
			im->failed = rc;
			snprintf(im->err, im->errlen, "cannot begin a transaction: %s",
			         cu_strerror(rc));
			return;
		}
		im->in_tx = 1;
	}
	/*
	 * No savepoint per row: a duplicate e-mail is refused before anything
	 * of the row is written, and every other failure stops the import and
	 * rolls the batch back whole, as it did with one.
	 */
	cu_errors_init(&errs);
	rc = cu_member_apply_in_batch(im->ctx, &it->reg, &errs);
	if (rc == CU_OK) {
		if (++im->in_batch >= im->ctx->config.import_batch)
			im->failed = batch_commit(im, it->line);
		return;
	}
	if (rc == CU_ERR_CONFLICT) {
		refuse(im, it->line, rc, &errs);
		return;
	}
	im->failed = rc;
	snprintf(im->err, im->errlen, "line %llu: %s", (unsigned long long)it->line,
	         cu_strerror(rc));
}

/*
 * Takes one item in file order.  After a failure the rest are only
 * released.  Returns non-zero once the import has failed.
 */
static int take(struct importer *im, struct item *it)
{
	if (!im->failed) {
		switch (it->kind) {
		case ITEM_ROW:
			apply_row(im, it);
			break;
		case ITEM_REJECT:
			refuse(im, it->line, it->rc, &it->errs);
			break;
		case ITEM_FATAL:
			im->failed = it->rc;
			snprintf(im->err, im->errlen, "%s", im->sealer_err);
			break;
		}
		if (im->progress && ++im->taken % PROGRESS_EVERY == 0)
			im->progress(im->ud, it->done, im->total);
	}
	if (it->kind == ITEM_ROW)
		cu_registration_release(&it->reg);
	return im->failed != CU_OK;
}

/* The writer's loop: everything the sealer queues, until it is done. */
static void write_all(struct importer *im)
{
	pthread_mutex_lock(&im->lock);
	for (;;) {
		struct item *it;
		bool wake;

		while (!im->count && !im->sealed_all) {
			im->writer_waits = true;
			pthread_cond_wait(&im->filled, &im->lock);
			im->writer_waits = false;
		}
		if (!im->count)
			break;
		it = &im->q[im->head];
		pthread_mutex_unlock(&im->lock);
		if (take(im, it) && !im->stop) {
			pthread_mutex_lock(&im->lock);
			im->stop = true;
			pthread_mutex_unlock(&im->lock);
		}
		pthread_mutex_lock(&im->lock);
		im->head = (im->head + 1) % QUEUE_LEN;
		im->count--;
		/* Wake the sealer when half the queue is free, not for every row. */
		wake = im->sealer_waits && (im->count <= QUEUE_LEN / 2 || im->stop);
		if (wake)
			pthread_cond_signal(&im->emptied);
	}
	pthread_mutex_unlock(&im->lock);
}

/* ==== the sealer ======================================================== */

/*
 * A free slot to fill, or NULL when the writer has stopped the import (then
 * the sealer stops reading).
 */
static struct item *slot(struct importer *im)
{
	struct item *it;

	if (im->halted)
		return NULL;
	if (!im->threaded) {
		if (im->stop) {
			im->halted = true;
			return NULL;
		}
		return &im->scratch;
	}
	pthread_mutex_lock(&im->lock);
	while (im->count == QUEUE_LEN && !im->stop) {
		im->sealer_waits = true;
		pthread_cond_wait(&im->emptied, &im->lock);
		im->sealer_waits = false;
	}
	it = im->stop ? NULL : &im->q[(im->head + im->count) % QUEUE_LEN];
	pthread_mutex_unlock(&im->lock);
	if (!it)
		im->halted = true;
	return it;
}

/* Queues the slot just filled (or, without a sealer thread, takes it now). */
static void queue(struct importer *im, struct item *it)
{
	it->done = im->read;
	if (it->kind == ITEM_FATAL)
		im->halted = true;
	if (!im->threaded) {
		if (take(im, it))
			im->stop = true;
		return;
	}
	pthread_mutex_lock(&im->lock);
	im->count++;
	if (im->writer_waits)
		pthread_cond_signal(&im->filled);
	pthread_mutex_unlock(&im->lock);
}

/* Stops the import here, with a message for the writer to report. */
__attribute__((format(printf, 3, 4))) static void fatal(struct importer *im, cu_result rc,
                                                        const char *fmt, ...)
{
	struct item *it = slot(im);
	va_list ap;

	if (!it)
		return;
	va_start(ap, fmt);
	vsnprintf(im->sealer_err, sizeof(im->sealer_err), fmt, ap);
	va_end(ap);
	it->kind = ITEM_FATAL;
	it->line = im->row_line;
	it->rc = rc;
	queue(im, it);
}

static void reject_row(struct importer *im, const char *field, const char *why)
{
	struct item *it = slot(im);

	if (!it)
		return;
	it->kind = ITEM_REJECT;
	it->line = im->row_line;
	it->rc = CU_ERR_INVALID_FIELD;
	cu_errors_init(&it->errs);
	cu_errors_add(&it->errs, field, why);
	queue(im, it);
}

/* Validates and seals one row given as name/value pairs, and queues it. */
static void seal_row(struct importer *im, const cu_kv *kv, size_t n)
{
	const cu_ctx *ctx = im->ctx;
	struct item *it = slot(im);
	cu_result rc;

	if (!it)
		return;
	cu_errors_init(&it->errs);
	rc = cu_member_prepare(ctx->policy, ctx->vault, &ctx->config, im->actor, kv, n, NULL,
	                       &it->reg, &it->errs);
	it->line = im->row_line;
	it->rc = rc;
	if (rc == CU_OK) {
		it->kind = ITEM_ROW;
	} else if (rc == CU_ERR_INVALID_FIELD || rc == CU_ERR_CONFLICT) {
		it->kind = ITEM_REJECT;
	} else {
		it->kind = ITEM_FATAL;
		snprintf(im->sealer_err, sizeof(im->sealer_err), "line %llu: %s",
		         (unsigned long long)im->row_line, cu_strerror(rc));
	}
	queue(im, it);
}

static void wipe_row(struct importer *im)
{
	if (im->buf)
		sodium_memzero(im->buf, im->len);
	im->len = 0;
	im->nvals = 0;
	im->too_many = 0;
	im->too_big = 0;
	im->nul_col = 0;
}

static int append_value(struct importer *im, const char *s, size_t n)
{
	if (im->len + n + 1 > ROW_BYTES_MAX) {
		im->too_big = 1;
		return -1;
	}
	if (im->len + n + 1 > im->cap) {
		size_t cap = im->cap ? im->cap : 1024;
		char *nb;

		while (cap < im->len + n + 1)
			cap *= 2;
		nb = malloc(cap);
		if (!nb) {
			fatal(im, CU_ERR_NOMEM, "%s", cu_strerror(CU_ERR_NOMEM));
			return -1;
		}
		if (im->buf) {
			memcpy(nb, im->buf, im->len);
			sodium_memzero(im->buf, im->cap);
			free(im->buf);
		}
		im->buf = nb;
		im->cap = cap;
	}
	memcpy(im->buf + im->len, s, n);
	im->buf[im->len + n] = '\0';
	im->len += n + 1;
	return 0;
}

/* ---- CSV --------------------------------------------------------------- */

static void csv_field(void *s, size_t n, void *data)
{
	struct importer *im = data;

	if (im->halted)
		return;
	if (im->nvals >= CU_POLICY_FIELDS_MAX || (im->header_done && im->nvals >= im->ncols)) {
		im->too_many = 1;
		return;
	}
	/* A NUL would silently cut the value short once it is a C string. */
	if (s && n && memchr(s, '\0', n) && !im->nul_col)
		im->nul_col = im->nvals + 1;
	im->off[im->nvals] = im->len;
	if (append_value(im, s ? s : "", s ? n : 0) == 0)
		im->nvals++;
}

static void csv_header(struct importer *im)
{
	const cu_policy *p = im->ctx->policy;
	cu_fieldset seen = 0;

	if (im->too_many || im->too_big || im->nvals == 0) {
		fatal(im, CU_ERR_INVALID_ARGUMENT, "line %llu: header names too many or no columns",
		      (unsigned long long)im->row_line);
		return;
	}
	for (size_t i = 0; i < im->nvals; i++) {
		const char *name = im->buf + im->off[i];
		int idx = cu_policy_field_index(p, name);

		if (idx < 0 || im->nul_col == i + 1) {
			fatal(im, CU_ERR_INVALID_ARGUMENT,
			      "line %llu: header column %zu is not a policy field",
			      (unsigned long long)im->row_line, i + 1);
			return;
		}
		if ((seen >> idx) & 1) {
			fatal(im, CU_ERR_INVALID_ARGUMENT, "line %llu: header names '%s' twice",
			      (unsigned long long)im->row_line, p->fields[idx].name);
			return;
		}
		seen |= (cu_fieldset)1 << idx;
		im->cols[i] = p->fields[idx].name;
	}
	im->ncols = im->nvals;
	im->header_done = 1;
}

static void csv_row(int c, void *data)
{
	struct importer *im = data;
	cu_kv kv[CU_POLICY_FIELDS_MAX];

	(void)c;
	if (!im->row_open)
		im->row_line = im->line; /* a second row on one line (bare CR) */
	if (im->halted)
		goto out;
	if (!im->header_done) {
		csv_header(im);
		goto out;
	}
	if (im->too_big) {
		reject_row(im, "(row)", "too_long");
		goto out;
	}
	if (im->too_many || im->nvals != im->ncols) {
		reject_row(im, "(row)", "column_count");
		goto out;
	}
	if (im->nul_col) {
		reject_row(im, im->cols[im->nul_col - 1], "malformed");
		goto out;
	}
	for (size_t i = 0; i < im->nvals; i++) {
		kv[i].name = im->cols[i];
		kv[i].value = im->buf + im->off[i];
	}
	seal_row(im, kv, im->nvals);
out:
	im->row_open = 0;
	wipe_row(im);
}

/* ---- JSON Lines -------------------------------------------------------- */

static void jsonl_line(struct importer *im, const char *line, size_t n)
{
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	char num[CU_POLICY_FIELDS_MAX][NUM_TEXT_BYTES];
	json_error_t jerr;
	json_t *obj, *v;
	const char *key;
	size_t nkv = 0;

	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	if (n == 0)
		return;
	obj = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!obj || !json_is_object(obj)) {
		reject_row(im, "(row)", "malformed");
		json_decref(obj);
		return;
	}
	json_object_foreach(obj, key, v)
	{
		if (nkv >= CU_POLICY_FIELDS_MAX) {
			reject_row(im, "(row)", "too_many_fields");
			goto out;
		}
		kv[nkv].name = key;
		if (json_is_string(v)) {
			kv[nkv].value = json_string_value(v);
			if (strlen(kv[nkv].value) != json_string_length(v)) {
				reject_row(im, key, "malformed"); /* embedded NUL */
				goto out;
			}
		} else if (json_is_integer(v)) {
			snprintf(num[nkv], sizeof(num[nkv]), "%" JSON_INTEGER_FORMAT,
			         json_integer_value(v));
			kv[nkv].value = num[nkv];
		} else if (json_is_null(v)) {
			kv[nkv].value = NULL;
		} else {
			reject_row(
			    im, cu_policy_field_index(im->ctx->policy, key) >= 0 ? key : "(field)",
			    "malformed");
			goto out;
		}
		nkv++;
	}
	seal_row(im, kv, nkv);
out:
	/* jansson holds plaintext: overwrite the strings before they are freed. */
	json_object_foreach(obj, key, v) if (json_is_string(v))
	    sodium_memzero((char *)json_string_value(v), json_string_length(v));
	json_decref(obj);
}

/* ---- reading ------------------------------------------------------------ */

/* Whether a line holds only what libcsv skips between rows (blanks, line ends). */
static int blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/*
 * libcsv stopped: a malformed file, or its buffer could not grow (CSV_ENOMEM),
 * which is out of memory and no fault of the file.
 */
static void csv_failed(struct importer *im, struct csv_parser *csv)
{
	if (csv_error(csv) == CSV_ENOMEM)
		fatal(im, CU_ERR_NOMEM, "%s", cu_strerror(CU_ERR_NOMEM));
	else
		fatal(im, CU_ERR_INVALID_ARGUMENT, "line %llu: malformed CSV: %s",
		      (unsigned long long)im->line, csv_strerror(csv_error(csv)));
}

/* The sealer's whole job: the file, row by row, into the queue. */
static void seal_all(struct importer *im)
{
	struct csv_parser csv;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = 0;

	if (!im->jsonl && csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fatal(im, CU_ERR_NOMEM, "%s", cu_strerror(CU_ERR_NOMEM));
		return;
	}
	while (!im->halted && (errno = 0, n = getline(&line, &cap, im->f)) > 0) {
		char *text = line;

		im->line++;
		im->read += (uint64_t)n;
		if ((size_t)n > LINE_BYTES_MAX) {
			fatal(im, CU_ERR_INVALID_ARGUMENT, "line %llu: longer than %u bytes",
			      (unsigned long long)im->line, LINE_BYTES_MAX);
			break;
		}
		/* A UTF-8 byte-order mark (spreadsheets write one) is not part of the header. */
		if (im->line == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
			text += 3;
			n -= 3;
		}
		/*
		 * Report a row by the line it begins on, also when a quoted value
		 * carries it over several lines.  Blank lines begin no row.
		 */
		if (im->jsonl || (!im->row_open && !blank_line(text, (size_t)n))) {
			im->row_line = im->line;
			im->row_open = 1;
		}
		if (im->jsonl) {
			jsonl_line(im, text, (size_t)n);
		} else if (csv_parse(&csv, text, (size_t)n, csv_field, csv_row, im) != (size_t)n) {
			csv_failed(im, &csv);
		}
		sodium_memzero(text, (size_t)n);
	}
	/*
	 * getline's buffer could not grow: out of memory, not an unreadable or
	 * empty file (glibc leaves the stream's error flag unset then).
	 */
	if (!im->halted && n < 0 && errno == ENOMEM)
		fatal(im, CU_ERR_NOMEM, "%s", cu_strerror(CU_ERR_NOMEM));
	else if (ferror(im->f) && !im->halted)
		fatal(im, CU_ERR_IO, "cannot read '%s'", im->path);
	if (!im->jsonl) {
		if (!im->halted && csv_fini(&csv, csv_field, csv_row, im) != 0)
			csv_failed(im, &csv);
		csv_free(&csv);
		if (!im->halted && !im->header_done)
			fatal(im, CU_ERR_INVALID_ARGUMENT, "'%s' has no header row", im->path);
	}
	wipe_row(im);
	if (im->buf) {
		sodium_memzero(im->buf, im->cap);
		free(im->buf);
		im->buf = NULL;
	}
	if (line) {
		sodium_memzero(line, cap);
		free(line);
	}
}

static void *sealer(void *arg)
{
	struct importer *im = arg;

	seal_all(im);
	pthread_mutex_lock(&im->lock);
	im->sealed_all = true;
	im->done = im->read;
	pthread_cond_signal(&im->filled);
	pthread_mutex_unlock(&im->lock);
	return NULL;
}

/* Starts the sealer thread; false (and nothing to undo) when it cannot run. */
static bool start_sealer(struct importer *im, pthread_t *thread)
{
	im->q = calloc(QUEUE_LEN, sizeof(*im->q));
	if (!im->q)
		return false;
	if (pthread_mutex_init(&im->lock, NULL))
		goto no_lock;
	if (pthread_cond_init(&im->filled, NULL))
		goto no_filled;
	if (pthread_cond_init(&im->emptied, NULL))
		goto no_emptied;
	/* Set before the thread starts: the sealer reads it from its first row. */
	im->threaded = true;
	if (pthread_create(thread, NULL, sealer, im) == 0)
		return true;
	im->threaded = false;
	pthread_cond_destroy(&im->emptied);
no_emptied:
	pthread_cond_destroy(&im->filled);
no_filled:
	pthread_mutex_destroy(&im->lock);
no_lock:
	free(im->q);
	im->q = NULL;
	return false;
}

cu_result cu_import_file(cu_ctx *ctx, const cu_actor *actor, const char *path,
                         cu_import_report *report, cu_import_reject_fn reject,
                         cu_import_progress_fn progress, void *ud, char *err, size_t errlen)
{
	struct importer *im;
	pthread_t thread;
	struct stat st;
	cu_result rc;

	memset(report, 0, sizeof(*report));
	/* On the heap: the queue's slots and the state are a few hundred KiB. */
	im = calloc(1, sizeof(*im));
	if (!im)
		return CU_ERR_NOMEM;
	im->ctx = ctx;
	im->actor = actor;
	im->report = report;
	im->reject = reject;
	im->progress = progress;
	im->ud = ud;
	im->err = err;
	im->errlen = errlen;
	im->path = path;
	im->jsonl = ends_with(path, ".jsonl");

	im->f = fopen(path, "r");
	if (!im->f) {
		/* fopen's FILE could not be allocated: out of memory, not a missing file. */
		bool nomem = errno == ENOMEM;

		snprintf(err, errlen, "%s", nomem ? cu_strerror(CU_ERR_NOMEM) : "");
		if (!nomem)
			snprintf(err, errlen, "cannot open '%s'", path);
		free(im);
		return nomem ? CU_ERR_NOMEM : CU_ERR_IO;
	}
	if (fstat(fileno(im->f), &st) == 0)
		im->total = (uint64_t)st.st_size;
	if (im->total >= cu_import_thread_from && start_sealer(im, &thread)) {
		write_all(im);
		pthread_join(thread, NULL);
		pthread_cond_destroy(&im->emptied);
		pthread_cond_destroy(&im->filled);
		pthread_mutex_destroy(&im->lock);
	} else {
		seal_all(im);
		im->done = im->read;
	}
	if (im->failed) {
		if (im->in_tx) {
			cu_tx_rollback(ctx);
			im->in_tx = 0;
		}
		rc = im->failed;
	} else {
		rc = batch_commit(im, im->row_line);
	}
	if (progress)
		progress(ud, im->done, im->total);
	fclose(im->f);
	free(im->q);
	sodium_memzero(im->sealer_err, sizeof(im->sealer_err));
	free(im);
	return rc;
}
