/*
 * import.c — CSV (libcsv) and JSON Lines (jansson) into registrations,
 * batched into transactions.
 */
#include "custodian/import.h"

#include <csv.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "custodian/members.h"

#define ROW_BYTES_MAX (1u << 20)  /* one row's values, all fields together */
#define LINE_BYTES_MAX (4u << 20) /* one physical line; longer stops the import */

struct importer {
	cu_ctx *ctx;
	const cu_actor *actor;
	cu_import_report *report;
	cu_import_reject_fn reject;
	void *ud;
	char *err;
	size_t errlen;

	uint64_t line;           /* physical line being read */
	uint64_t row_line;       /* line the current row began on (reported) */
	int row_open;            /* CSV: a row has begun and not yet ended */
	uint64_t in_batch;       /* rows registered in the open transaction */
	int in_tx;
	cu_result fatal;         /* stops the import */

	/* CSV state */
	int header_done;
	size_t ncols;
	const char *cols[CU_POLICY_FIELDS_MAX];
	size_t nvals;
	int too_many;            /* row has more values than the header names */
	int too_big;
	size_t nul_col;          /* 1 + index of a value holding a NUL byte, or 0 */
	char *buf;               /* values of the current row, NUL-separated */
	size_t len, cap;
	size_t off[CU_POLICY_FIELDS_MAX];
};

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
			im->fatal = CU_ERR_NOMEM;
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

static cu_result batch_commit(struct importer *im)
{
	cu_result rc;

	if (!im->in_tx)
		return CU_OK;
	im->in_tx = 0;
	rc = cu_tx_commit(im->ctx);
	if (rc) {
		snprintf(im->err, im->errlen, "commit failed near line %llu: %s",
			 (unsigned long long)im->row_line, cu_strerror(rc));
		return rc;
	}
	im->report->imported += im->in_batch;
	im->in_batch = 0;
	return CU_OK;
}

/* Registers one row given as name/value pairs. */
static void register_row(struct importer *im, const cu_kv *kv, size_t n)
{
	char id[CU_ID_LEN + 1];
	cu_errors errs;
	cu_result rc;

	if (!im->in_tx) {
		rc = cu_tx_begin(im->ctx);
		if (rc) {
			im->fatal = rc;
			snprintf(im->err, im->errlen, "cannot begin a transaction: %s",
				 cu_strerror(rc));
			return;
		}
		im->in_tx = 1;
	}
	cu_errors_init(&errs);
	rc = cu_member_register(im->ctx, im->actor, kv, n, NULL, id, &errs);
	if (rc == CU_OK) {
		if (++im->in_batch >= im->ctx->config.import_batch && (rc = batch_commit(im)))
			im->fatal = rc;
		return;
	}
	if (rc == CU_ERR_INVALID_FIELD || rc == CU_ERR_CONFLICT) {
		im->report->rejected++;
		if (im->reject)
			im->reject(im->ud, im->row_line, rc, &errs);
		return;
	}
	im->fatal = rc;
	snprintf(im->err, im->errlen, "line %llu: %s", (unsigned long long)im->row_line,
		 cu_strerror(rc));
}

static void reject_row(struct importer *im, const char *field, const char *why)
{
	cu_errors errs;

	cu_errors_init(&errs);
	cu_errors_add(&errs, field, why);
	im->report->rejected++;
	if (im->reject)
		im->reject(im->ud, im->row_line, CU_ERR_INVALID_FIELD, &errs);
}

/* ---- CSV --------------------------------------------------------------- */

static void csv_field(void *s, size_t n, void *data)
{
	struct importer *im = data;

	if (im->fatal)
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
		snprintf(im->err, im->errlen, "line %llu: header names too many or no columns",
			 (unsigned long long)im->row_line);
		im->fatal = CU_ERR_INVALID_ARGUMENT;
		return;
	}
	for (size_t i = 0; i < im->nvals; i++) {
		const char *name = im->buf + im->off[i];
		int idx = cu_policy_field_index(p, name);

		if (idx < 0 || im->nul_col == i + 1) {
			snprintf(im->err, im->errlen,
				 "line %llu: header column %zu is not a policy field",
				 (unsigned long long)im->row_line, i + 1);
			im->fatal = CU_ERR_INVALID_ARGUMENT;
			return;
		}
		if ((seen >> idx) & 1) {
			snprintf(im->err, im->errlen, "line %llu: header names '%s' twice",
				 (unsigned long long)im->row_line, p->fields[idx].name);
			im->fatal = CU_ERR_INVALID_ARGUMENT;
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
	if (im->fatal)
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
	register_row(im, kv, im->nvals);
out:
	im->row_open = 0;
	wipe_row(im);
}

/* ---- JSON Lines -------------------------------------------------------- */

static void jsonl_line(struct importer *im, const char *line, size_t n)
{
	cu_kv kv[CU_POLICY_FIELDS_MAX];
	char num[CU_POLICY_FIELDS_MAX][32];
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
	json_object_foreach(obj, key, v) {
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
			reject_row(im, cu_policy_field_index(im->ctx->policy, key) >= 0 ? key
											 : "(field)",
				   "malformed");
			goto out;
		}
		nkv++;
	}
	register_row(im, kv, nkv);
out:
	/* jansson holds plaintext: overwrite the strings before they are freed. */
	json_object_foreach(obj, key, v) if (json_is_string(v))
		sodium_memzero((char *)json_string_value(v), json_string_length(v));
	json_decref(obj);
}

/* ---- driver ------------------------------------------------------------ */

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

cu_result cu_import_file(cu_ctx *ctx, const cu_actor *actor, const char *path,
			 cu_import_report *report, cu_import_reject_fn reject,
			 cu_import_progress_fn progress, void *ud, char *err, size_t errlen)
{
	struct importer im = {0};
	struct csv_parser csv;
	int jsonl = ends_with(path, ".jsonl");
	uint64_t total = 0, done = 0;
	struct stat st;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	cu_result rc = CU_OK;

	memset(report, 0, sizeof(*report));
	im.ctx = ctx;
	im.actor = actor;
	im.report = report;
	im.reject = reject;
	im.ud = ud;
	im.err = err;
	im.errlen = errlen;

	f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot open '%s'", path);
		return CU_ERR_IO;
	}
	if (fstat(fileno(f), &st) == 0)
		total = (uint64_t)st.st_size;
	if (!jsonl && csv_init(&csv, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
		fclose(f);
		return CU_ERR_NOMEM;
	}
	while (!im.fatal && (n = getline(&line, &cap, f)) > 0) {
		char *text = line;

		im.line++;
		done += (uint64_t)n;
		if ((size_t)n > LINE_BYTES_MAX) {
			snprintf(err, errlen, "line %llu: longer than %u bytes",
				 (unsigned long long)im.line, LINE_BYTES_MAX);
			im.fatal = CU_ERR_INVALID_ARGUMENT;
			break;
		}
		/* A UTF-8 byte-order mark (spreadsheets write one) is not part of the header. */
		if (im.line == 1 && n >= 3 && !memcmp(line, "\xef\xbb\xbf", 3)) {
			text += 3;
			n -= 3;
		}
		/*
		 * Report a row by the line it begins on, also when a quoted value
		 * carries it over several lines.  Blank lines begin no row.
		 */
		if (jsonl || (!im.row_open && !blank_line(text, (size_t)n))) {
			im.row_line = im.line;
			im.row_open = 1;
		}
		if (jsonl) {
			jsonl_line(&im, text, (size_t)n);
		} else if (csv_parse(&csv, text, (size_t)n, csv_field, csv_row, &im) != (size_t)n) {
			snprintf(err, errlen, "line %llu: malformed CSV: %s",
				 (unsigned long long)im.line, csv_strerror(csv_error(&csv)));
			im.fatal = CU_ERR_INVALID_ARGUMENT;
		}
		sodium_memzero(text, (size_t)n);
		if (progress && (im.line & 0x3fff) == 0)
			progress(ud, done, total);
	}
	if (ferror(f) && !im.fatal) {
		snprintf(err, errlen, "cannot read '%s'", path);
		im.fatal = CU_ERR_IO;
	}
	if (!jsonl) {
		if (!im.fatal && csv_fini(&csv, csv_field, csv_row, &im) != 0) {
			snprintf(err, errlen, "line %llu: malformed CSV: %s",
				 (unsigned long long)im.line, csv_strerror(csv_error(&csv)));
			im.fatal = CU_ERR_INVALID_ARGUMENT;
		}
		csv_free(&csv);
		if (!im.fatal && !im.header_done) {
			snprintf(err, errlen, "'%s' has no header row", path);
			im.fatal = CU_ERR_INVALID_ARGUMENT;
		}
	}
	if (im.fatal) {
		if (im.in_tx) {
			cu_tx_rollback(ctx);
			im.in_tx = 0;
		}
		rc = im.fatal;
	} else {
		rc = batch_commit(&im);
	}
	if (progress)
		progress(ud, done, total);
	wipe_row(&im);
	if (im.buf) {
		sodium_memzero(im.buf, im.cap);
		free(im.buf);
	}
	if (line) {
		sodium_memzero(line, cap);
		free(line);
	}
	fclose(f);
	return rc;
}
