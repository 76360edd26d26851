/*
 * src/domain/notify.c — notices and their e-mails: written in the caller's
 * transaction, delivered later by SMTP (libcurl) or to files.
 */
#include "domain/notify.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/access.h"
#include "store/notify.h"
#include "util/email.h"
#include "util/file_atomic.h"
#include "util/text.h"

#define LINE_MAX_BYTES 998 /* RFC 5322 2.1.1 */
#define DATE_HEADER_BYTES                                                                          \
	64 /* "Date: Sun, 06 Dec 2026 03:36:33 +0000\r\n" and its NUL, with room */
#define MESSAGE_MAX   (32u * 1024)
#define DELIVER_MAX   10000              /* rows per pass, whatever the caller asks */
#define ADDRESS_BYTES (CU_EMAIL_MAX + 3) /* "<" address ">" NUL */

/* ---- input checks -------------------------------------------------------- */

/*
 * Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
 * without control characters (C0, DEL, C1); '\n' only when `newline`, and
 * then no line longer than LINE_MAX_BYTES.
 */
static bool clean_text(const char *s, size_t n, bool newline)
{
	size_t i = 0, line = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = cu_utf8_decode(s + i, n - i, &cp);

		if (len == 0)
			return false;
		if (cp == '\n' && newline) {
			line = 0;
			i++;
			continue;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			return false;
		line += len;
		if (line > LINE_MAX_BYTES)
			return false;
		i += len;
	}
	return true;
}

static bool valid_kind(const char *kind)
{
	size_t n = kind ? strlen(kind) : 0;

	if (n == 0 || n > CU_NOTIFY_KIND_MAX)
		return false;
	return strspn(kind, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* Ids are base64url: they name files and go into headers, so nothing else passes. */
static bool valid_id(const char *id)
{
	size_t n = id ? strnlen(id, CU_ID_LEN + 1) : 0;

	return n > 0 && n <= CU_ID_LEN &&
	       strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n;
}

static bool valid_text(const char *s, size_t max, bool newline)
{
	size_t n = s ? strnlen(s, max + 1) : 0;

	return n > 0 && n <= max && clean_text(s, n, newline);
}

/* ---- writing ------------------------------------------------------------- */

cu_result cu_notify_member(cu_ctx *ctx, const char *member, const char *kind, const char *subject,
                           const char *body)
{
	cu_notice_row *n = NULL;
	cu_outbox_row o;
	cu_member_row row = {0};
	bool erased;
	cu_result rc;

	if (!ctx || !valid_id(member) || !valid_kind(kind) ||
	    !valid_text(subject, CU_NOTIFY_SUBJECT_MAX, false) ||
	    !valid_text(body, CU_NOTIFY_BODY_MAX, true))
		return CU_ERR_INVALID_ARGUMENT;
	n = calloc(1, sizeof(*n)); /* 4 KiB of body: off the stack */
	if (!n)
		return CU_ERR_NOMEM;
	rc = cu_tx_begin(ctx);
	if (rc)
		goto out;
	/* Read in the transaction: a member erased meanwhile is not notified. */
	rc = cu_store_member_get(ctx->store, member, &row);
	if (rc)
		goto undo;
	erased = row.erased;
	cu_member_row_release(&row);
	if (erased) {
		rc = CU_ERR_ERASED;
		goto undo;
	}
	cu_vault_random_id(n->id);
	memcpy(n->member, member, strlen(member) + 1);
	memcpy(n->kind, kind, strlen(kind) + 1);
	memcpy(n->subject, subject, strlen(subject) + 1);
	memcpy(n->body, body, strlen(body) + 1);
	n->created_us = cu_now_us();

	memset(&o, 0, sizeof(o));
	cu_vault_random_id(o.id);
	memcpy(o.member, n->member, sizeof(o.member));
	memcpy(o.notice, n->id, sizeof(o.notice));
	memcpy(o.kind, n->kind, sizeof(o.kind));
	o.status = CU_OUTBOX_PENDING;
	o.created_us = o.next_attempt_us = n->created_us;

	rc = cu_store_notice_insert(ctx->store, n);
	if (!rc)
		rc = cu_store_outbox_insert(ctx->store, &o);
	if (rc)
		goto undo;
	rc = cu_tx_commit(ctx);
	goto out;
undo:
	cu_tx_rollback(ctx);
out:
	free(n);
	return rc;
}

cu_result cu_notify_mark_read(cu_ctx *ctx, const char *member, const char *id)
{
	cu_result rc;

	if (!ctx || !valid_id(member) || !id)
		return CU_ERR_INVALID_ARGUMENT;
	if (!valid_id(id))
		return CU_ERR_NOT_FOUND;
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_notice_mark_read(ctx->store, member, id, cu_now_us());
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

/* ---- configuration ------------------------------------------------------- */

void cu_notify_config_from_ctx(const cu_ctx *ctx, cu_notify_config *cfg)
{
	const cu_config *c = &ctx->config;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = !strcmp(c->notify_mode, "smtp")    ? CU_NOTIFY_SMTP
	            : !strcmp(c->notify_mode, "files") ? CU_NOTIFY_FILES
	                                               : CU_NOTIFY_OFF;
	snprintf(cfg->smtp_url, sizeof(cfg->smtp_url), "%s", c->notify_smtp_url);
	snprintf(cfg->from, sizeof(cfg->from), "%s", c->notify_from);
	snprintf(cfg->purpose, sizeof(cfg->purpose), "%s", c->notify_purpose);
	snprintf(cfg->outbox_dir, sizeof(cfg->outbox_dir), "%s/outbox", ctx->dir);
	cfg->max_attempts = c->notify_max_attempts ? c->notify_max_attempts : 1;
	cfg->connect_timeout_s = 10;
	cfg->timeout_s = 60;
}

int64_t cu_notify_backoff_us(unsigned attempts)
{
	int64_t d = CU_NOTIFY_BACKOFF_BASE_US;

	for (unsigned i = 1; i < attempts && d < CU_NOTIFY_BACKOFF_MAX_US; i++)
		d *= 2;
	return d < CU_NOTIFY_BACKOFF_MAX_US ? d : CU_NOTIFY_BACKOFF_MAX_US;
}

/* ---- the message --------------------------------------------------------- */

/* A bounded buffer: past its capacity it only records that it overflowed. */
struct msg {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct msg *m, const char *s, size_t n)
{
	if (m->overflow || n > m->cap - m->len - 1) {
		m->overflow = true;
		return;
	}
	memcpy(m->p + m->len, s, n);
	m->len += n;
	m->p[m->len] = '\0';
}

static void puts_(struct msg *m, const char *s)
{
	put(m, s, strlen(s));
}

/* RFC 5322 date, in UTC, with English names whatever the locale. */
static void put_date(struct msg *m, int64_t us)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t t = (time_t)(us / 1000000);
	struct tm tm;
	char buf[DATE_HEADER_BYTES];

	gmtime_r(&t, &tm);
	snprintf(buf, sizeof(buf), "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
	         days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
	puts_(m, buf);
}

/* Subject: as is when printable ASCII, else RFC 2047 encoded words of whole characters. */
static void put_subject(struct msg *m, const char *subject)
{
	size_t n = strlen(subject), i = 0;
	bool ascii = true;

	for (size_t k = 0; k < n; k++)
		ascii &= (unsigned char)subject[k] < 0x80;
	puts_(m, "Subject: ");
	if (ascii) {
		puts_(m, subject);
		puts_(m, "\r\n");
		return;
	}
	while (i < n) {
		/* 45 bytes make 60 base64 characters: each encoded word stays under 76. */
		size_t take = n - i < 45 ? n - i : 45;
		char b64[sodium_base64_ENCODED_LEN(45, sodium_base64_VARIANT_ORIGINAL)];

		while (i + take < n && ((unsigned char)subject[i + take] & 0xc0) == 0x80)
			take--;
		sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)subject + i, take,
		                  sodium_base64_VARIANT_ORIGINAL);
		if (i)
			puts_(m, "\r\n ");
		puts_(m, "=?UTF-8?B?");
		puts_(m, b64);
		puts_(m, "?=");
		i += take;
	}
	puts_(m, "\r\n");
}

/* The body with CRLF line ends, ending in one. */
static void put_body(struct msg *m, const char *body)
{
	for (const char *p = body; *p;) {
		size_t n = strcspn(p, "\n");

		put(m, p, n);
		puts_(m, "\r\n");
		p += n;
		if (*p == '\n')
			p++;
	}
}

/*
 * The whole message into m.  `to` is the address (smtp) or the
 * member-id@members.invalid stand-in (files); it is personal data in the
 * first case, so the buffer is wiped by the caller.
 */
static cu_result build(struct msg *m, const cu_notify_config *cfg, const cu_outbox_row *o,
                       const cu_notice_row *n, const char *to, int64_t now_us)
{
	puts_(m, "From: ");
	puts_(m, cfg->from);
	puts_(m, "\r\nTo: ");
	puts_(m, to);
	puts_(m, "\r\n");
	put_subject(m, n->subject);
	put_date(m, now_us);
	/* The same at every attempt: a message sent again is recognisably the same. */
	puts_(m, "Message-ID: <");
	puts_(m, o->id);
	puts_(m, "@custodian>\r\n");
	puts_(m, "MIME-Version: 1.0\r\n"
	         "Content-Type: text/plain; charset=UTF-8\r\n"
	         "Content-Transfer-Encoding: 8bit\r\n"
	         "Auto-Submitted: auto-generated\r\n"
	         "\r\n");
	put_body(m, n->body);
	return m->overflow ? CU_ERR_TOO_LARGE : CU_OK;
}

/* ---- files mode ---------------------------------------------------------- */

/* DIR/ID.eml, atomically: a reader sees the whole message or none. */
static cu_result write_eml(const char *dir, const char *id, const char *text, size_t len)
{
	char path[CU_FILE_PATH_MAX + 1];

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return CU_ERR_IO;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.eml", dir, id) >= sizeof(path))
		return CU_ERR_IO;
	return cu_file_write_atomic(path, text, len);
}

/* ---- smtp mode ----------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct upload {
	const char *p;
	size_t left;
};

static size_t read_cb(char *dst, size_t size, size_t nmemb, void *ud)
{
	struct upload *u = ud;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;

	memcpy(dst, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

static int progress_cb(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
	const cu_notify_config *cfg = ud;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return cfg->cancelled && cfg->cancelled(cfg->cancel_ud) ? 1 : 0;
}

/* A short code for last_error: names the kind of failure, never a host or an address. */
static void curl_error_code(CURLcode rc, long response, char *out, size_t len)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(out, len, "resolve_failed");
		return;
	case CURLE_COULDNT_CONNECT:
		snprintf(out, len, "connect_failed");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(out, len, "timeout");
		return;
	case CURLE_LOGIN_DENIED:
		snprintf(out, len, "login_denied");
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
		snprintf(out, len, "tls_failed");
		return;
	default:
		break;
	}
	if (response >= 400 && response < 600)
		snprintf(out, len, "smtp_%ld", response);
	else
		snprintf(out, len, "curl_%d", (int)rc);
}

enum outcome { SENT, FAILED, DROPPED, CANCELLED };

static enum outcome smtp_send(const cu_notify_config *cfg, const char *address, const char *text,
                              size_t len, char *err, size_t errlen)
{
	struct upload u = {text, len};
	struct curl_slist *rcpt = NULL, *p;
	char from[sizeof(cfg->from) + 2], to[ADDRESS_BYTES];
	long response = 0;
	size_t alen;
	enum outcome out;
	CURLcode rc;
	CURL *c;

	pthread_once(&curl_once, curl_init);
	if (curl_init_rc != CURLE_OK) {
		snprintf(err, errlen, "curl_init");
		return FAILED;
	}
	c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_init");
		return FAILED;
	}
	snprintf(from, sizeof(from), "<%s>", cfg->from);
	alen = strlen(address);
	if (alen + 3 > sizeof(to)) {
		curl_easy_cleanup(c);
		snprintf(err, errlen, "bad_address");
		return FAILED;
	}
	to[0] = '<';
	memcpy(to + 1, address, alen);
	memcpy(to + 1 + alen, ">", 2);
	rcpt = curl_slist_append(NULL, to);
	sodium_memzero(to, sizeof(to));
	if (!rcpt) {
		curl_easy_cleanup(c);
		snprintf(err, errlen, "nomem");
		return FAILED;
	}
	curl_easy_setopt(c, CURLOPT_URL, cfg->smtp_url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	/* STARTTLS when the server offers it; smtps:// for TLS from the start. */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_TRY);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	                 cfg->connect_timeout_s > 0 ? cfg->connect_timeout_s : 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, cfg->timeout_s > 0 ? cfg->timeout_s : 60L);
	/* Threads: no signals for timeouts (the server runs this on its notifier thread). */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)cfg);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response);
	if (rc == CURLE_OK) {
		out = SENT;
	} else if (rc == CURLE_ABORTED_BY_CALLBACK) {
		out = CANCELLED;
		snprintf(err, errlen, "cancelled");
	} else {
		out = FAILED;
		curl_error_code(rc, response, err, errlen);
	}
	curl_easy_cleanup(c);
	/* curl_slist_append copied the address: wipe the copy before it is freed. */
	for (p = rcpt; p; p = p->next)
		sodium_memzero(p->data, strlen(p->data));
	curl_slist_free_all(rcpt);
	return out;
}

/* The policy's e-mail field: the first of kind email. */
static int email_field(const cu_policy *p)
{
	for (size_t i = 0; i < p->nfields; i++)
		if (p->fields[i].kind == CU_FIELD_EMAIL)
			return (int)i;
	return -1;
}

/*
 * The address as the member wrote it, trimmed, into out (wipe it after
 * use) — if it still passes registration's rules and is safe in an SMTP
 * command and a header.
 */
static bool usable_address(const char *value, char out[ADDRESS_BYTES])
{
	char norm[CU_EMAIL_MAX + 1];
	bool ok = cu_email_normalise(value, norm, sizeof(norm)) == CU_OK;
	size_t n;

	sodium_memzero(norm, sizeof(norm));
	if (!ok)
		return false;
	while (*value == ' ' || (*value >= '\t' && *value <= '\r'))
		value++;
	n = strlen(value);
	while (n && (value[n - 1] == ' ' || (value[n - 1] >= '\t' && value[n - 1] <= '\r')))
		n--;
	if (n == 0 || n > CU_EMAIL_MAX)
		return false;
	memcpy(out, value, n);
	out[n] = '\0';
	return strcspn(out, "<>\r\n \t\"(),;:\\") == n && clean_text(out, n, false);
}

/* ---- delivery ------------------------------------------------------------ */

struct due {
	char (*ids)[CU_ID_LEN + 1];
	size_t n, max;
};

static int collect_due(void *ud, const cu_outbox_row *row)
{
	struct due *d = ud;

	if (d->n >= d->max)
		return 1;
	memcpy(d->ids[d->n++], row->id, CU_ID_LEN + 1);
	return 0;
}

/*
 * One attempt at one claimed row.  err receives a short code on FAILED or
 * DROPPED.  No transaction of ctx is open here, except inside
 * cu_access_read (its audit entry commits on its own).
 */
static enum outcome attempt(cu_ctx *ctx, const cu_notify_config *cfg, const cu_outbox_row *o,
                            const cu_notice_row *n, int64_t now_us, char *err, size_t errlen)
{
	struct msg m = {0};
	enum outcome out = FAILED;
	char to[CU_ID_LEN + 32];
	cu_result rc;

	m.cap = MESSAGE_MAX;
	m.p = malloc(m.cap);
	if (!m.p) {
		snprintf(err, errlen, "nomem");
		return FAILED;
	}
	m.p[0] = '\0';
	if (cfg->mode == CU_NOTIFY_FILES) {
		cu_member_row row = {0};
		bool erased;

		/* Only whether the member still exists: nothing is opened, nothing read. */
		rc = cu_store_member_get(ctx->store, o->member, &row);
		if (rc == CU_ERR_NOT_FOUND) {
			snprintf(err, errlen, "no_member");
			out = DROPPED;
			goto done;
		}
		if (rc) {
			snprintf(err, errlen, "store");
			goto done;
		}
		erased = row.erased;
		cu_member_row_release(&row);
		if (erased) {
			snprintf(err, errlen, "erased");
			out = DROPPED;
			goto done;
		}
		snprintf(to, sizeof(to), "%s@members.invalid", o->member);
		if (build(&m, cfg, o, n, to, now_us)) {
			snprintf(err, errlen, "too_large");
			goto done;
		}
		if (write_eml(cfg->outbox_dir, o->id, m.p, m.len)) {
			snprintf(err, errlen, "write_failed");
			goto done;
		}
		out = SENT;
	} else {
		cu_actor notifier = {"notifier", CU_ROLE_OPERATOR, NULL, NULL};
		cu_access_request req = {0};
		cu_access_decision d;
		cu_record rec;
		const char *value;
		char address[ADDRESS_BYTES];
		int field = email_field(ctx->policy);

		if (field < 0) {
			snprintf(err, errlen, "no_email_field");
			goto done;
		}
		req.actor = &notifier;
		req.purpose = cfg->purpose;
		req.member = o->member;
		req.fields = (cu_fieldset)1 << field;
		cu_record_init(&rec);
		/* Through the door, audited like any read: it shows in the member's access log. */
		rc = cu_access_read(ctx, &req, &d, &rec);
		if (rc == CU_ERR_ERASED || rc == CU_ERR_NOT_FOUND) {
			snprintf(err, errlen, rc == CU_ERR_ERASED ? "erased" : "no_member");
			out = DROPPED;
		} else if (rc) {
			snprintf(err, errlen, "access_%s", cu_result_code(rc));
		} else if (!(value = cu_record_get(&rec, field))) {
			snprintf(err, errlen, "no_address");
		} else if (!usable_address(value, address)) {
			snprintf(err, errlen, "bad_address");
		} else if (build(&m, cfg, o, n, address, now_us)) {
			snprintf(err, errlen, "too_large");
		} else {
			out = smtp_send(cfg, address, m.p, m.len, err, errlen);
		}
		sodium_memzero(address, sizeof(address));
		cu_record_wipe(&rec);
	}
done:
	/* The message names the address (smtp mode): wipe it with the rest. */
	sodium_memzero(m.p, m.cap);
	free(m.p);
	return out;
}

/* Writes the outcome of an attempt in a transaction of its own. */
static cu_result settle(cu_ctx *ctx, const cu_notify_config *cfg, cu_outbox_row *o,
                        enum outcome out, const char *err, int64_t now_us, cu_notify_report *rep)
{
	cu_result rc;

	o->claimed_until_us = 0;
	switch (out) {
	case SENT:
		o->attempts++;
		o->status = CU_OUTBOX_SENT;
		o->sent_us = now_us;
		o->last_error[0] = '\0';
		break;
	case DROPPED:
		o->status = CU_OUTBOX_DROPPED;
		snprintf(o->last_error, sizeof(o->last_error), "%s", err);
		break;
	case FAILED:
		o->attempts++;
		snprintf(o->last_error, sizeof(o->last_error), "%s", err[0] ? err : "failed");
		if (o->attempts >= cfg->max_attempts)
			o->status = CU_OUTBOX_FAILED;
		else
			o->next_attempt_us = now_us + cu_notify_backoff_us(o->attempts);
		break;
	case CANCELLED:
		/* Stopped by us, not refused by anyone: the attempt does not count. */
		break;
	}
	rc = cu_tx_begin(ctx);
	if (rc)
		return rc;
	rc = cu_store_outbox_settle(ctx->store, o);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	rc = cu_tx_commit(ctx);
	if (rc)
		return rc;
	switch (out) {
	case SENT:
		rep->sent++;
		break;
	case DROPPED:
		rep->dropped++;
		break;
	case FAILED:
		rep->failed++;
		if (o->status == CU_OUTBOX_FAILED)
			rep->gave_up++;
		break;
	case CANCELLED:
		break;
	}
	return CU_OK;
}

/* Takes the row for this deliverer; CU_ERR_CONFLICT if someone else has it. */
static cu_result claim(cu_ctx *ctx, const cu_notify_config *cfg, const char *id, int64_t now_us)
{
	cu_result rc = cu_tx_begin(ctx);

	if (rc)
		return rc;
	rc = cu_store_outbox_claim(ctx->store, id, now_us, now_us + CU_NOTIFY_LEASE_US,
	                           cfg->ignore_backoff);
	if (rc) {
		cu_tx_rollback(ctx);
		return rc;
	}
	return cu_tx_commit(ctx);
}

static bool cancelled(const cu_notify_config *cfg)
{
	return cfg->cancelled && cfg->cancelled(cfg->cancel_ud);
}

cu_result cu_notify_deliver(cu_ctx *ctx, const cu_notify_config *cfg, int64_t now_us, size_t max,
                            cu_notify_report *out)
{
	struct due due = {0};
	uint64_t counts[CU_OUTBOX_STATUS_COUNT_];
	cu_notice_row *n = NULL;
	cu_result rc = CU_OK;

	if (!ctx || !cfg || !out)
		return CU_ERR_INVALID_ARGUMENT;
	memset(out, 0, sizeof(*out));
	/* Each row settles in a transaction of its own; a caller's would hold them all. */
	if (ctx->tx_depth)
		return CU_ERR_INTERNAL;
	if (cfg->mode != CU_NOTIFY_OFF && max) {
		due.max = max < DELIVER_MAX ? max : DELIVER_MAX;
		due.ids = calloc(due.max, sizeof(*due.ids));
		n = malloc(sizeof(*n));
		if (!due.ids || !n) {
			rc = CU_ERR_NOMEM;
			goto out;
		}
		rc = cu_store_outbox_due(ctx->store, now_us, cfg->ignore_backoff, due.max,
		                         collect_due, &due);
		for (size_t i = 0; !rc && i < due.n && !cancelled(cfg); i++) {
			cu_outbox_row o;
			enum outcome oc;
			char err[CU_NOTIFY_ERROR_MAX + 1] = "";

			rc = claim(ctx, cfg, due.ids[i], now_us);
			if (rc == CU_ERR_CONFLICT) {
				rc = CU_OK; /* another deliverer has it, or had it */
				continue;
			}
			if (!rc)
				rc = cu_store_outbox_get(ctx->store, due.ids[i], &o);
			if (rc)
				break;
			if (!valid_id(o.id) || !valid_id(o.member)) {
				/* Not an id this program wrote: never a file name or a header. */
				oc = FAILED;
				snprintf(err, sizeof(err), "bad_row");
			} else if (cu_store_notice_get(ctx->store, o.notice, n) != CU_OK) {
				oc = FAILED;
				snprintf(err, sizeof(err), "no_notice");
			} else {
				oc = attempt(ctx, cfg, &o, n, now_us, err, sizeof(err));
			}
			rc = settle(ctx, cfg, &o, oc, err, now_us, out);
		}
	}
	if (!rc)
		rc = cu_store_outbox_counts(ctx->store, counts);
	if (!rc)
		out->pending = counts[CU_OUTBOX_PENDING];
out:
	free(due.ids);
	free(n);
	return rc;
}

/* ---- reads for the front ends, on any handle (a network thread's reader) ---- */

cu_result cu_notice_list(cu_store *s, const char *member, size_t limit, cu_store_notice_fn fn,
                         void *ud)
{
	return cu_store_notice_list(s, member, limit, fn, ud);
}

cu_result cu_notice_get(cu_store *s, const char *id, cu_notice_row *out)
{
	return cu_store_notice_get(s, id, out);
}

cu_result cu_outbox_counts(cu_store *s, uint64_t counts[CU_OUTBOX_STATUS_COUNT_])
{
	return cu_store_outbox_counts(s, counts);
}

cu_result cu_outbox_list(cu_store *s, bool all, cu_outbox_status status, size_t limit,
                         cu_store_outbox_fn fn, void *ud)
{
	return cu_store_outbox_list(s, all, status, limit, fn, ud);
}
