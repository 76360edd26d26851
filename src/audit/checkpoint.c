/*
 * src/audit/checkpoint.c — signed checkpoints of the audit head: signing, the
 * line format, the file next to the database, and verification against them.
 */
#include "audit/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"
#include "util/file_atomic.h"
#include "util/file_read.h"
#include "store/backend.h"

#define DOMAIN     "cu-audit-checkpoint-v1"
#define DOMAIN_LEN (sizeof(DOMAIN) - 1)
/* domain | u64 seq | head | i64 time_us | u32 key_id */
#define MSG_LEN (DOMAIN_LEN + 8 + CU_AUDIT_HASHBYTES + 8 + 4)
/* "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" and a NUL */
#define TIME_LEN 27
#define TIME_MAX (TIME_LEN + 1)
/* Why the checkpoint file cannot be saved over (its reader's message), and its NUL. */
#define FILE_WHY_BYTES 200

/* The longest line: every number at its widest. */
_Static_assert(DOMAIN_LEN + sizeof(" seq=") - 1 + 20 + sizeof(" head=") - 1 +
                       2 * CU_AUDIT_HASHBYTES + sizeof(" time=") - 1 + TIME_LEN + sizeof(" key=") -
                       1 + 10 + sizeof(" sig=") - 1 + 2 * CU_VAULT_SIGBYTES <
                   CU_AUDIT_CHECKPOINT_LINE_MAX,
               "checkpoint line size");

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void put_le(unsigned char *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

static void message(const cu_audit_checkpoint *cp, unsigned char msg[MSG_LEN])
{
	unsigned char *p = msg;

	memcpy(p, DOMAIN, DOMAIN_LEN);
	p += DOMAIN_LEN;
	put_le(p, cp->seq, 8);
	p += 8;
	memcpy(p, cp->head, CU_AUDIT_HASHBYTES);
	p += CU_AUDIT_HASHBYTES;
	put_le(p, (uint64_t)cp->time_us, 8);
	p += 8;
	put_le(p, cp->key_id, 4);
}

cu_result cu_audit_checkpoint_sign(const cu_vault *v, cu_audit_checkpoint *cp)
{
	unsigned char msg[MSG_LEN];
	uint32_t used = 0;
	cu_result rc;

	if (!v || !cp)
		return CU_ERR_INVALID_ARGUMENT;
	if (cp->time_us == 0)
		cp->time_us = now_us();
	/* The key id is part of what is signed: name it first. */
	cp->key_id = cu_vault_current_key_id(v);
	message(cp, msg);
	rc = cu_vault_sign(v, msg, sizeof(msg), cp->sig, &used);
	if (!rc && used != cp->key_id)
		rc = CU_ERR_INTERNAL;
	return rc;
}

cu_result cu_audit_checkpoint_check_signature(const cu_vault *v, const cu_audit_checkpoint *cp)
{
	unsigned char msg[MSG_LEN], pk[CU_VAULT_SIGN_PKBYTES];
	cu_result rc;

	if (!v || !cp)
		return CU_ERR_INVALID_ARGUMENT;
	rc = cu_vault_sign_public_key(v, cp->key_id, pk);
	if (rc)
		return CU_ERR_NOT_FOUND;
	message(cp, msg);
	return cu_vault_verify_signature(pk, msg, sizeof(msg), cp->sig) ? CU_ERR_CRYPTO : CU_OK;
}

/* ---- the line format ----------------------------------------------------- */

/* UTC to the microsecond; false for a time gmtime cannot express. */
static bool format_time(int64_t us, char out[TIME_MAX])
{
	int64_t secs = us / 1000000, frac = us % 1000000;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000;
		secs--;
	}
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999 ||
	    strftime(out, TIME_MAX, "%Y-%m-%dT%H:%M:%S", &tm) != 19) {
		snprintf(out, TIME_MAX, "(unrepresentable time)");
		return false;
	}
	snprintf(out + 19, TIME_MAX - 19, ".%06dZ", (int)frac);
	return true;
}

void cu_audit_checkpoint_format(const cu_audit_checkpoint *cp,
                                char out[CU_AUDIT_CHECKPOINT_LINE_MAX])
{
	char head[2 * CU_AUDIT_HASHBYTES + 1], sig[2 * CU_VAULT_SIGBYTES + 1], when[TIME_MAX];

	sodium_bin2hex(head, sizeof(head), cp->head, CU_AUDIT_HASHBYTES);
	sodium_bin2hex(sig, sizeof(sig), cp->sig, CU_VAULT_SIGBYTES);
	format_time(cp->time_us, when);
	snprintf(out, CU_AUDIT_CHECKPOINT_LINE_MAX,
	         DOMAIN " seq=%" PRIu64 " head=%s time=%s key=%" PRIu32 " sig=%s", cp->seq, head,
	         when, cp->key_id, sig);
}

static bool parse_u64(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_time(const char *s, size_t n, int64_t *us)
{
	int y, mo, d, h, mi, se, frac, used = -1;
	struct tm tm;
	char buf[TIME_MAX];
	time_t t;

	if (n != TIME_LEN)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (sscanf(buf, "%4d-%2d-%2dT%2d:%2d:%2d.%6dZ%n", &y, &mo, &d, &h, &mi, &se, &frac,
	           &used) != 7 ||
	    used != TIME_LEN || frac < 0)
		return false;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	*us = (int64_t)t * 1000000 + frac;
	return true;
}

/* The value of "name=" at *p up to the next space (or the end); advances *p. */
static bool field(const char **p, const char *name, const char **val, size_t *n)
{
	size_t len = strlen(name);
	const char *end;

	if (strncmp(*p, name, len) != 0)
		return false;
	*val = *p + len;
	end = strchr(*val, ' ');
	*n = end ? (size_t)(end - *val) : strlen(*val);
	*p = *val + *n + (end ? 1 : 0);
	return true;
}

static bool hex_exact(const char *s, size_t n, unsigned char *out, size_t outlen)
{
	size_t binlen = 0;
	const char *end = NULL;

	if (n != 2 * outlen)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false; /* lowercase only: the canonical form */
	return sodium_hex2bin(out, outlen, s, n, NULL, &binlen, &end) == 0 && binlen == outlen;
}

cu_result cu_audit_checkpoint_parse(const char *line, cu_audit_checkpoint *out)
{
	char buf[CU_AUDIT_CHECKPOINT_LINE_MAX], again[CU_AUDIT_CHECKPOINT_LINE_MAX];
	cu_audit_checkpoint cp;
	const char *p, *v;
	size_t len, n;
	uint64_t num;

	if (!line || !out)
		return CU_ERR_INVALID_ARGUMENT;
	len = strnlen(line, sizeof(buf));
	if (len == sizeof(buf))
		return CU_ERR_INVALID_ARGUMENT;
	memcpy(buf, line, len + 1);
	if (len && buf[len - 1] == '\n')
		buf[--len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[--len] = '\0';
	memset(&cp, 0, sizeof(cp));
	p = buf;
	if (strncmp(p, DOMAIN " ", DOMAIN_LEN + 1) != 0)
		return CU_ERR_INVALID_ARGUMENT;
	p += DOMAIN_LEN + 1;
	if (!field(&p, "seq=", &v, &n) || !parse_u64(v, n, (uint64_t)INT64_MAX, &cp.seq))
		return CU_ERR_INVALID_ARGUMENT;
	if (!field(&p, "head=", &v, &n) || !hex_exact(v, n, cp.head, CU_AUDIT_HASHBYTES))
		return CU_ERR_INVALID_ARGUMENT;
	if (!field(&p, "time=", &v, &n) || !parse_time(v, n, &cp.time_us))
		return CU_ERR_INVALID_ARGUMENT;
	if (!field(&p, "key=", &v, &n) || !parse_u64(v, n, UINT32_MAX, &num))
		return CU_ERR_INVALID_ARGUMENT;
	cp.key_id = (uint32_t)num;
	if (!field(&p, "sig=", &v, &n) || !hex_exact(v, n, cp.sig, CU_VAULT_SIGBYTES) || *p)
		return CU_ERR_INVALID_ARGUMENT;
	/* Exactly the canonical form: no leading zeros, no impossible dates. */
	cu_audit_checkpoint_format(&cp, again);
	if (strcmp(again, buf) != 0)
		return CU_ERR_INVALID_ARGUMENT;
	*out = cp;
	return CU_OK;
}

/* ---- making and keeping ---------------------------------------------------- */

cu_result cu_audit_checkpoint_make(cu_store *s, const cu_vault *v, cu_audit_checkpoint *out)
{
	cu_result rc;

	if (!s || !v || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	rc = cu_store_audit_last(s, &out->seq, out->head);
	return rc ? rc : cu_audit_checkpoint_sign(v, out);
}

cu_result cu_audit_checkpoint_write_file(const char *path, const cu_audit_checkpoint *cp)
{
	char line[CU_AUDIT_CHECKPOINT_LINE_MAX + 1];
	size_t n;

	if (!path || !cp)
		return CU_ERR_INVALID_ARGUMENT;
	cu_audit_checkpoint_format(cp, line);
	n = strlen(line); /* < CU_AUDIT_CHECKPOINT_LINE_MAX: room for the newline */
	line[n] = '\n';
	return cu_file_write_atomic(path, line, n + 1);
}

/*
 * Reads a whole checkpoint file; NULL with errno set when it cannot be read
 * (ENOENT: absent; EFBIG: longer than any checkpoint file).
 */
static char *read_file(const char *path)
{
	size_t n;
	char *buf = cu_file_read_bounded(path, CU_AUDIT_CHECKPOINT_FILE_MAX, &n);

	if (buf && memchr(buf, '\0', n)) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	return buf;
}

/* Calls fn(ud, lineno, line) for each line that is not blank or a comment. */
static int each_line(char *buf, int (*fn)(void *, unsigned, const char *), void *ud)
{
	unsigned lineno = 0;
	char *p = buf;

	while (*p) {
		char *nl = strchr(p, '\n');
		const char *q;

		if (nl)
			*nl = '\0';
		lineno++;
		for (q = p; *q == ' ' || *q == '\t' || *q == '\r'; q++)
			;
		if (*q && *q != '#' && fn(ud, lineno, p))
			return 1;
		if (!nl)
			break;
		p = nl + 1;
	}
	return 0;
}

/* ---- checking one checkpoint against the chain ------------------------------ */

/* Sets f->status and f->what for f->cp against the store's chain ending at last. */
static cu_result check_one(cu_store *s, const cu_vault *v, uint64_t last,
                           cu_audit_checkpoint_finding *f)
{
	const cu_audit_checkpoint *cp = &f->cp;
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char when[TIME_MAX];
	bool found = false;
	cu_result rc;

	format_time(cp->time_us, when);
	rc = cu_audit_checkpoint_check_signature(v, cp);
	if (rc == CU_ERR_NOT_FOUND) {
		f->status = CU_AUDIT_CHECKPOINT_UNKNOWN_KEY;
		snprintf(f->what, sizeof(f->what),
		         "checkpoint for entry %" PRIu64 " names key %" PRIu32
		         ", which this custodian does not hold: it cannot be trusted",
		         cp->seq, cp->key_id);
		return CU_OK;
	}
	if (rc) {
		f->status = CU_AUDIT_CHECKPOINT_FORGED;
		snprintf(f->what, sizeof(f->what),
		         "checkpoint for entry %" PRIu64 " (time %s) has a bad signature: "
		         "forged or altered",
		         cp->seq, when);
		return CU_OK;
	}
	if (cp->seq > last) {
		f->status = CU_AUDIT_CHECKPOINT_MISSING;
		if (cp->seq == last + 1)
			snprintf(f->what, sizeof(f->what),
			         "entry %" PRIu64 " missing: the log ends at %" PRIu64
			         " but the checkpoint signed at %s covers %" PRIu64,
			         last + 1, last, when, cp->seq);
		else
			snprintf(f->what, sizeof(f->what),
			         "entries %" PRIu64 "-%" PRIu64 " missing: the log ends at %" PRIu64
			         " but the checkpoint signed at %s covers %" PRIu64,
			         last + 1, cp->seq, last, when, cp->seq);
		return CU_OK;
	}
	if (cp->seq > 0) {
		rc = cu_store_audit_hash_at(s, cp->seq, hash, &found);
		if (rc)
			return rc;
		if (!found) {
			f->status = CU_AUDIT_CHECKPOINT_MISSING;
			snprintf(f->what, sizeof(f->what),
			         "entry %" PRIu64 " missing: the checkpoint signed at %s covers it",
			         cp->seq, when);
			return CU_OK;
		}
		if (memcmp(hash, cp->head, CU_AUDIT_HASHBYTES) != 0) {
			f->status = CU_AUDIT_CHECKPOINT_DIFFERS;
			snprintf(f->what, sizeof(f->what),
			         "entry %" PRIu64
			         " differs from the checkpoint signed at %s: the log "
			         "was cut and written again, or the entry replaced",
			         cp->seq, when);
			return CU_OK;
		}
	}
	f->status = CU_AUDIT_CHECKPOINT_GOOD;
	snprintf(f->what, sizeof(f->what), "checkpoint for entry %" PRIu64 " signed at %s holds",
	         cp->seq, when);
	return CU_OK;
}

/* ---- saving ------------------------------------------------------------------ */

struct file_check {
	cu_store *s;
	const cu_vault *v;
	uint64_t last;
	uint64_t newest; /* the highest good seq in the file */
	bool bad;
	char *err;
	size_t errlen;
	cu_result rc;
};

static int save_check_line(void *ud, unsigned lineno, const char *line)
{
	struct file_check *c = ud;
	cu_audit_checkpoint_finding f;

	memset(&f, 0, sizeof(f));
	if (cu_audit_checkpoint_parse(line, &f.cp) != CU_OK) {
		c->bad = true;
		snprintf(c->err, c->errlen, "line %u is not a checkpoint", lineno);
		return 1;
	}
	c->rc = check_one(c->s, c->v, c->last, &f);
	if (c->rc)
		return 1;
	if (f.status != CU_AUDIT_CHECKPOINT_GOOD) {
		c->bad = true;
		snprintf(c->err, c->errlen, "%s", f.what);
		return 1;
	}
	if (f.cp.seq > c->newest)
		c->newest = f.cp.seq;
	return 0;
}

/*
 * Under the directory's lock: replaces file with cp unless what it holds is
 * newer, or disagrees with the chain (then it is evidence, and stays).
 */
static cu_result save_file(cu_store *s, const cu_vault *v, const char *file,
                           const cu_audit_checkpoint *cp, bool recreate, char *err, size_t errlen)
{
	char dir[CU_FILE_PATH_MAX + 1], why[FILE_WHY_BYTES] = "";
	struct file_check c = {.s = s, .v = v, .err = why, .errlen = sizeof(why)};
	unsigned char hash[CU_AUDIT_HASHBYTES];
	char *buf = NULL;
	cu_result rc;
	int dfd;

	cu_file_dir_of(file, dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		snprintf(err, errlen, "cannot open the directory of '%s': %s", file,
		         strerror(errno));
		return CU_ERR_IO;
	}
	while (flock(dfd, LOCK_EX) != 0 && errno == EINTR)
		;
	buf = read_file(file);
	if (!buf && errno != ENOENT) {
		snprintf(err, errlen, "cannot read '%s' (%s): kept as it is", file,
		         strerror(errno));
		rc = CU_ERR_AUDIT_BROKEN;
		goto out;
	}
	if (!buf && !recreate) {
		/*
		 * Checkpoints were signed before, so the file was written before:
		 * deleting it is how a cut is hidden.  Its absence stays visible
		 * until the operator starts it again (`custodian audit checkpoint`).
		 */
		snprintf(
		    err, errlen,
		    "'%s' is missing although checkpoints were signed before (deleted?): not "
		    "recreated; run 'custodian audit verify', then 'custodian audit checkpoint' "
		    "to start it again",
		    file);
		rc = CU_ERR_AUDIT_BROKEN;
		goto out;
	}
	if (buf) {
		/* The chain as it is now: another process may have appended since cp. */
		rc = cu_store_audit_last(s, &c.last, hash);
		if (rc)
			goto out;
		each_line(buf, save_check_line, &c);
		if (c.rc) {
			rc = c.rc;
			goto out;
		}
		if (c.bad) {
			snprintf(err, errlen,
			         "'%s' disagrees with the audit log (%s): kept as evidence, not "
			         "replaced; run 'custodian audit verify'",
			         file, why);
			rc = CU_ERR_AUDIT_BROKEN;
			goto out;
		}
		if (c.newest >= cp->seq) {
			rc = CU_OK; /* as new or newer already */
			goto out;
		}
	}
	rc = cu_audit_checkpoint_write_file(file, cp);
	if (rc)
		snprintf(err, errlen, "cannot write '%s': %s", file, strerror(errno));
out:
	free(buf);
	flock(dfd, LOCK_UN);
	close(dfd);
	return rc;
}

/*
 * With chains besides a's: a link in a's chain, its own transaction, and
 * (*last, hash) the link's entry, so that the checkpoint signed over it
 * covers every chain (audit.h).
 */
static cu_result link_chains(cu_store *s, cu_audit *a, uint64_t *last,
                             unsigned char hash[CU_AUDIT_HASHBYTES])
{
	bool linked = false;
	size_t others = 0;
	cu_result rc = cu_audit_other_chains(a, s, &others);

	/* One chain: nothing to link, and no write lock taken to find that out. */
	if (rc || !others)
		return rc;
	rc = cu_store_begin(s);
	if (rc)
		return rc;
	rc = cu_audit_sync(a, s);
	if (!rc)
		rc = cu_audit_link(a, s, &linked);
	if (!rc && linked)
		rc = cu_store_commit(s);
	if (rc || !linked) {
		cu_store_rollback(s);
		cu_audit_rollback(a);
		return rc;
	}
	cu_audit_commit(a);
	*last = cu_audit_head_seq(a);
	return cu_store_audit_hash_at(s, *last, hash, &linked);
}

cu_result cu_audit_checkpoint_save(cu_store *s, const cu_vault *v, cu_audit *a, const char *file,
                                   bool force, cu_audit_checkpoint *out, bool *written, char *err,
                                   size_t errlen)
{
	cu_audit_checkpoint cp, newest;
	cu_audit_checkpoint_finding f;
	unsigned char hash[CU_AUDIT_HASHBYTES];
	uint64_t last = 0;
	bool found = false;
	char tmp[8];
	cu_result rc;

	if (written)
		*written = false;
	if (!err || !errlen) {
		err = tmp;
		errlen = sizeof(tmp);
	}
	err[0] = '\0';
	if (!s || !v)
		return CU_ERR_INVALID_ARGUMENT;
	if (cu_store_in_transaction(s))
		return CU_ERR_INTERNAL;
	rc = cu_store_audit_last(s, &last, hash);
	if (!rc)
		rc = cu_store_audit_checkpoint_last(s, &newest, &found);
	if (rc) {
		snprintf(err, errlen, "cannot read the audit head: %s", cu_strerror(rc));
		return rc;
	}
	if (found) {
		/* Never sign over a chain that lost what was signed before. */
		memset(&f, 0, sizeof(f));
		f.cp = newest;
		rc = check_one(s, v, last, &f);
		if (rc)
			return rc;
		if (f.status != CU_AUDIT_CHECKPOINT_GOOD) {
			snprintf(err, errlen,
			         "not signing a checkpoint: %s; run 'custodian audit verify'",
			         f.what);
			return CU_ERR_AUDIT_BROKEN;
		}
		if (!force && newest.seq == last) {
			if (out)
				*out = newest;
			return CU_OK; /* nothing new to sign */
		}
	}
	if (a) {
		rc = link_chains(s, a, &last, hash);
		if (rc) {
			snprintf(err, errlen, "cannot link the audit chains: %s", cu_strerror(rc));
			return rc;
		}
	}
	memset(&cp, 0, sizeof(cp));
	cp.seq = last;
	memcpy(cp.head, hash, CU_AUDIT_HASHBYTES);
	rc = cu_audit_checkpoint_sign(v, &cp);
	if (rc) {
		snprintf(err, errlen, "cannot sign a checkpoint: %s", cu_strerror(rc));
		return rc;
	}
	rc = cu_store_begin(s);
	if (!rc) {
		rc = cu_store_audit_checkpoint_insert(s, &cp);
		if (!rc)
			rc = cu_store_commit(s);
		if (rc)
			cu_store_rollback(s);
	}
	if (rc) {
		snprintf(err, errlen, "cannot store a checkpoint: %s", cu_strerror(rc));
		return rc;
	}
	if (out)
		*out = cp;
	if (written)
		*written = true;
	return file ? save_file(s, v, file, &cp, force || !found, err, errlen) : CU_OK;
}

/* ---- verification -------------------------------------------------------------- */

const char *cu_audit_checkpoint_status_name(cu_audit_checkpoint_status st)
{
	static const char *const names[] = {
	    [CU_AUDIT_CHECKPOINT_GOOD] = "good",
	    [CU_AUDIT_CHECKPOINT_MISSING] = "missing",
	    [CU_AUDIT_CHECKPOINT_DIFFERS] = "differs",
	    [CU_AUDIT_CHECKPOINT_FORGED] = "forged",
	    [CU_AUDIT_CHECKPOINT_UNKNOWN_KEY] = "unknown_key",
	    [CU_AUDIT_CHECKPOINT_MALFORMED] = "malformed",
	    [CU_AUDIT_CHECKPOINT_ABSENT] = "absent",
	};

	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "unknown";
}

/* One file's lines, read before the walk. */
struct loaded {
	const char *path;
	bool absent; /* could not be read */
	int err;     /* errno when absent */
	unsigned n, cap;
	struct {
		unsigned line;
		bool malformed;
		cu_audit_checkpoint cp;
	} * items;
};

static int load_line(void *ud, unsigned lineno, const char *line)
{
	struct loaded *l = ud;

	if (l->n == l->cap) {
		unsigned cap = l->cap ? 2 * l->cap : 8;
		void *p = realloc(l->items, cap * sizeof(l->items[0]));

		if (!p)
			return 1;
		l->items = p;
		l->cap = cap;
	}
	memset(&l->items[l->n], 0, sizeof(l->items[0]));
	l->items[l->n].line = lineno;
	l->items[l->n].malformed = cu_audit_checkpoint_parse(line, &l->items[l->n].cp) != CU_OK;
	l->n++;
	return 0;
}

static cu_result load(struct loaded *l, const char *path)
{
	char *buf;

	memset(l, 0, sizeof(*l));
	l->path = path;
	if (!path)
		return CU_OK;
	buf = read_file(path);
	if (!buf) {
		if (errno == ENOMEM)
			return CU_ERR_NOMEM;
		l->absent = true;
		l->err = errno;
		return CU_OK;
	}
	if (each_line(buf, load_line, l)) {
		free(buf);
		return CU_ERR_NOMEM;
	}
	free(buf);
	return CU_OK;
}

static void report(cu_audit_verify_request *req, const cu_audit_checkpoint_finding *f)
{
	if (f->status == CU_AUDIT_CHECKPOINT_GOOD) {
		if (f->cp.seq >= req->covered_seq) {
			req->covered_seq = f->cp.seq;
			req->covered_time_us = f->cp.time_us;
		}
	} else if (req->bad++ == 0) {
		req->first_bad = *f;
	}
	if (req->on_finding)
		req->on_finding(req->ud, f);
}

static cu_result check_loaded(cu_store *s, cu_audit_verify_request *req, const struct loaded *l,
                              bool required)
{
	cu_audit_checkpoint_finding f;
	cu_result rc;

	if (!l->path)
		return CU_OK;
	if (l->absent) {
		/* An empty chain has nothing to anchor yet: no file is no loss. */
		if (!required && req->last_seq == 0)
			return CU_OK;
		memset(&f, 0, sizeof(f));
		f.source = l->path;
		f.status = CU_AUDIT_CHECKPOINT_ABSENT;
		if (l->err == ENOENT && !required)
			snprintf(
			    f.what, sizeof(f.what),
			    "no checkpoint file next to the database: deleted? (a cut at the "
			    "end of the log could go unseen; run 'custodian audit checkpoint' to "
			    "start one)");
		else
			snprintf(f.what, sizeof(f.what), "cannot read the checkpoint file: %s",
			         l->err == EFBIG ? "too large to be one" : strerror(l->err));
		report(req, &f);
		return CU_OK;
	}
	/* An emptied file hides a cut as well as a deleted one. */
	if (l->n == 0 && (required || req->last_seq > 0)) {
		memset(&f, 0, sizeof(f));
		f.source = l->path;
		f.status = CU_AUDIT_CHECKPOINT_MALFORMED;
		snprintf(f.what, sizeof(f.what), "the checkpoint file holds no checkpoint");
		report(req, &f);
		return CU_OK;
	}
	for (unsigned i = 0; i < l->n; i++) {
		memset(&f, 0, sizeof(f));
		f.source = l->path;
		f.line = l->items[i].line;
		req->checkpoints++;
		if (l->items[i].malformed) {
			f.status = CU_AUDIT_CHECKPOINT_MALFORMED;
			snprintf(f.what, sizeof(f.what),
			         "not a checkpoint (expected '%s seq=N head=... "
			         "time=... key=N sig=...')",
			         DOMAIN);
		} else {
			f.cp = l->items[i].cp;
			rc = check_one(s, req->vault, req->last_seq, &f);
			if (rc)
				return rc;
		}
		report(req, &f);
	}
	return CU_OK;
}

struct scan_ctx {
	cu_store *s;
	cu_audit_verify_request *req;
	cu_result rc;
};

static int scan_one(void *ud, const cu_audit_checkpoint *cp)
{
	struct scan_ctx *c = ud;
	cu_audit_checkpoint_finding f;

	memset(&f, 0, sizeof(f));
	f.source = "store";
	f.cp = *cp;
	c->req->checkpoints++;
	c->rc = check_one(c->s, c->req->vault, c->req->last_seq, &f);
	if (c->rc)
		return 1;
	report(c->req, &f);
	return 0;
}

cu_result cu_audit_verify_checkpoints(cu_store *s, cu_audit_verify_request *req)
{
	struct loaded own, given;
	unsigned char hash[CU_AUDIT_HASHBYTES];
	struct scan_ctx sc;
	bool snapshot = false;
	cu_result rc, walk;

	if (!s || !req || !req->vault)
		return CU_ERR_INVALID_ARGUMENT;
	memset(&req->chain, 0, sizeof(req->chain));
	req->last_seq = req->checkpoints = req->bad = req->covered_seq = 0;
	req->covered_time_us = 0;
	memset(&req->first_bad, 0, sizeof(req->first_bad));
	/* The files first: what they hold was committed before the view below. */
	rc = load(&own, req->own_file);
	if (!rc)
		rc = load(&given, req->given_file);
	else
		memset(&given, 0, sizeof(given));
	if (rc)
		goto out;
	rc = cu_store_view_begin(s, &snapshot);
	if (rc)
		goto out;
	walk = cu_audit_verify(s, &req->chain, req->progress, req->progress_ud);
	if (walk && walk != CU_ERR_AUDIT_BROKEN) {
		rc = walk;
		goto out;
	}
	rc = cu_store_audit_last(s, &req->last_seq, hash);
	if (!rc)
		rc = check_loaded(s, req, &own, false);
	if (!rc)
		rc = check_loaded(s, req, &given, true);
	if (!rc) {
		sc.s = s;
		sc.req = req;
		sc.rc = CU_OK;
		rc = cu_store_audit_checkpoint_scan(s, scan_one, &sc);
		if (!rc)
			rc = sc.rc;
	}
	if (!rc && (walk || req->bad))
		rc = CU_ERR_AUDIT_BROKEN;
out:
	if (snapshot)
		cu_store_snapshot_end(s);
	free(own.items);
	free(given.items);
	return rc;
}
