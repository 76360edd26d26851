/*
 * bench_import_baseline — the import benchmark's yardstick: exactly the
 * writes `custodian import` makes, with none of its work.
 *
 *     bench_import_baseline SIZES DB BATCH
 *
 * DB must already hold the store's schema (bench_import creates it with
 * cu_store_open, i.e. the store's own migration, so tables, indexes and
 * triggers cannot drift from src/store/sqlite/sqlite.c).  This program opens it
 * the way the store does (same open flags and pragmas: WAL,
 * synchronous=FULL, foreign_keys, secure_delete, temp_store), prepares the store's own
 * INSERT statements, and for member i = 1..N writes
 *
 *   - a members row: a 22-character random id, key id 1, a 73-byte wrapped
 *     key, 32-byte e-mail and telephone blind indexes and a fields blob of
 *     exactly the size of the packed, sealed record of synthetic member i
 *     (src/vault/record.h: 6 + per field 1 + name + 4 + value + 41), all random
 *     bytes, and the present-field bit set;  bench_import computed both
 *     while it wrote the CSV and left them in SIZES (two native uint32 per
 *     member), so generating members costs the baseline nothing;
 *   - an audit row as the registration writes it: actor and role
 *     "operator", action "register", the member id, the field names,
 *     "done", "registered", and 32-byte prev and hash;
 *   - at each commit, the batch's audit rows into the per-member index
 *     (audit_member, sorted, one statement) and its mark in meta, as the
 *     store's commit does (store.h: cu_store_audit_index);
 *
 * N = the number of records in SIZES.  BATCH rows per transaction (BEGIN IMMEDIATE ... COMMIT),
 * with the audit head written to meta once per commit, as the store does.  No parsing, no
 * validation, no crypto, no hashing.
 */
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "synth.h" /* only for the field names */

/* The store's statements, verbatim (src/store/sqlite/sqlite.c). */
static const char sql_member_insert[] =
    "INSERT INTO members (id, key_id, wrapped, email_bidx, phone_bidx, fields,"
    " present, password_hash, created_us, updated_us, erased_us)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
static const char sql_audit_append[] =
    "INSERT INTO audit (seq, time_us, actor, role, action, member, purpose, fields, "
    "decision, reason, case_ref, prev, hash)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
static const char sql_audit_index[] = "INSERT OR IGNORE INTO audit_member (member, seq)"
                                      " SELECT member, seq FROM audit WHERE seq > ?1 AND"
                                      " member <> '' ORDER BY member, seq";
static const char sql_meta_set[] = "INSERT INTO meta (key, value) VALUES (?1, ?2)"
                                   " ON CONFLICT (key) DO UPDATE SET value = excluded.value";

#define WRAPPED_BYTES 73
#define BIDX_BYTES    32
#define HASH_BYTES    32
#define ID_LEN        22
#define SEAL_OVERHEAD 41
#define RECORD_MAX    (6 + SYNTH_NFIELDS * (1 + 40 + 4 + SYNTH_VALUE_MAX + SEAL_OVERHEAD))

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

/* xorshift64*: random-looking bytes at memcpy speed (no crypto in the baseline). */
static uint64_t fast_rand(void)
{
	return bench_xorshift64(&rng_state);
}

static void fill(unsigned char *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = fast_rand();

		memcpy(p, &v, 8);
		p += 8;
		n -= 8;
	}
	if (n) {
		uint64_t v = fast_rand();

		memcpy(p, &v, n);
	}
}

/* 22 base64url characters, like cu_vault_random_id. */
static void random_id(char out[ID_LEN + 1])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint64_t a = fast_rand(), b = fast_rand();

	for (int i = 0; i < ID_LEN; i++) {
		uint64_t *w = i < 11 ? &a : &b;

		out[i] = b64[*w & 63];
		*w >>= 6;
	}
	out[ID_LEN] = '\0';
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(sqlite3 *db, const char *what)
{
	fprintf(stderr, "bench_import_baseline: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
	exit(1);
}

static void step_done(sqlite3 *db, sqlite3_stmt *st, const char *what)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		die(db, what);
	sqlite3_reset(st);
}

static void exec(sqlite3 *db, const char *text)
{
	if (sqlite3_exec(db, text, NULL, NULL, NULL) != SQLITE_OK)
		die(db, text);
}

/* "name,address,..." for the fields in `present`, as the registration audits them. */
static void field_names(uint32_t present, char *out)
{
	size_t o = 0;

	for (int f = 0; f < SYNTH_NFIELDS; f++) {
		size_t l;

		if (!(present >> f & 1))
			continue;
		if (o)
			out[o++] = ',';
		l = strlen(synth_fields[f]);
		memcpy(out + o, synth_fields[f], l);
		o += l;
	}
	out[o] = '\0';
}

int main(int argc, char **argv)
{
	static unsigned char record[RECORD_MAX];
	static uint32_t sizes[2 * 4096];
	size_t nsizes = 0, at = 0;
	struct stat st;
	FILE *sf;
	unsigned char wrapped[WRAPPED_BYTES], email_bidx[BIDX_BYTES], phone_bidx[BIDX_BYTES];
	unsigned char prev[HASH_BYTES] = {0}, hash[HASH_BYTES];
	char id[ID_LEN + 1], names[512], head[128];
	sqlite3_stmt *ins_member, *ins_audit, *index, *meta, *begin, *commit;
	uint64_t n, batch, seq = 0, mark;
	sqlite3 *db;

	if (argc != 4) {
		fprintf(stderr, "usage: bench_import_baseline SIZES DB BATCH\n");
		return 2;
	}
	batch = bench_arg("BATCH", argv[3], 1, 1000000);
	sf = fopen(argv[1], "rb");
	if (!sf || fstat(fileno(sf), &st) || st.st_size <= 0 || st.st_size % 8) {
		fprintf(stderr, "bench_import_baseline: cannot read sizes from '%s'\n", argv[1]);
		return 1;
	}
	n = (uint64_t)st.st_size / 8;

	if (sqlite3_open_v2(argv[2], &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL))
		die(db, "open");
	sqlite3_extended_result_codes(db, 1);
	sqlite3_busy_timeout(db, 5000);
	exec(db, "PRAGMA journal_mode=WAL");
	exec(db, "PRAGMA synchronous=FULL;"
	         "PRAGMA foreign_keys=ON;"
	         "PRAGMA secure_delete=ON;"
	         "PRAGMA temp_store=MEMORY;");
	if (sqlite3_prepare_v3(db, sql_member_insert, -1, SQLITE_PREPARE_PERSISTENT, &ins_member,
	                       NULL) ||
	    sqlite3_prepare_v3(db, sql_audit_append, -1, SQLITE_PREPARE_PERSISTENT, &ins_audit,
	                       NULL) ||
	    sqlite3_prepare_v3(db, sql_audit_index, -1, SQLITE_PREPARE_PERSISTENT, &index, NULL) ||
	    sqlite3_prepare_v3(db, sql_meta_set, -1, SQLITE_PREPARE_PERSISTENT, &meta, NULL) ||
	    sqlite3_prepare_v3(db, "BEGIN IMMEDIATE", -1, SQLITE_PREPARE_PERSISTENT, &begin,
	                       NULL) ||
	    sqlite3_prepare_v3(db, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &commit, NULL))
		die(db, "prepare");

	/* Carry on from the chain `custodian init` started, as the import does. */
	{
		sqlite3_stmt *last;

		if (sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
		                       -1, &last, NULL))
			die(db, "prepare");
		if (sqlite3_step(last) == SQLITE_ROW) {
			seq = (uint64_t)sqlite3_column_int64(last, 0);
			if (sqlite3_column_bytes(last, 1) == HASH_BYTES)
				memcpy(prev, sqlite3_column_blob(last, 1), HASH_BYTES);
		}
		sqlite3_finalize(last);
	}

	for (uint64_t i = 1; i <= n;) {
		step_done(db, begin, "begin");
		mark = seq;
		for (uint64_t b = 0; b < batch && i <= n; b++, i++) {
			size_t rlen;
			uint32_t present;
			int64_t t = now_us();

			if (at == nsizes) {
				nsizes = fread(sizes, 8, sizeof(sizes) / 8, sf) * 2;
				at = 0;
				if (!nsizes) {
					fprintf(stderr, "bench_import_baseline: short read\n");
					return 1;
				}
			}
			rlen = sizes[at++];
			present = sizes[at++];
			if (rlen > sizeof(record)) {
				fprintf(stderr, "bench_import_baseline: record of %zu bytes\n",
				        rlen);
				return 1;
			}
			field_names(present, names);
			random_id(id);
			fill(wrapped, sizeof(wrapped));
			fill(email_bidx, sizeof(email_bidx));
			fill(phone_bidx, sizeof(phone_bidx));
			fill(record, rlen);

			sqlite3_bind_text(ins_member, 1, id, -1, SQLITE_STATIC);
			sqlite3_bind_int64(ins_member, 2, 1);
			sqlite3_bind_blob64(ins_member, 3, wrapped, sizeof(wrapped), SQLITE_STATIC);
			sqlite3_bind_blob64(ins_member, 4, email_bidx, sizeof(email_bidx),
			                    SQLITE_STATIC);
			sqlite3_bind_blob64(ins_member, 5, phone_bidx, sizeof(phone_bidx),
			                    SQLITE_STATIC);
			sqlite3_bind_blob64(ins_member, 6, record, rlen, SQLITE_STATIC);
			sqlite3_bind_int64(ins_member, 7, (sqlite3_int64)present);
			sqlite3_bind_int64(ins_member, 9, t);
			sqlite3_bind_int64(ins_member, 10, t);
			step_done(db, ins_member, "insert member");

			seq++;
			fill(hash, sizeof(hash));
			sqlite3_bind_int64(ins_audit, 1, (sqlite3_int64)seq);
			sqlite3_bind_int64(ins_audit, 2, now_us());
			sqlite3_bind_text(ins_audit, 3, "operator", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 4, "operator", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 5, "register", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 6, id, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 7, "", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 8, names, -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 9, "done", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 10, "registered", -1, SQLITE_STATIC);
			sqlite3_bind_text(ins_audit, 11, "", -1, SQLITE_STATIC);
			sqlite3_bind_blob(ins_audit, 12, prev, HASH_BYTES, SQLITE_STATIC);
			sqlite3_bind_blob(ins_audit, 13, hash, HASH_BYTES, SQLITE_STATIC);
			step_done(db, ins_audit, "insert audit");
			memcpy(prev, hash, HASH_BYTES);
		}
		/* The batch into the per-member index, and its mark. */
		{
			char text[24];

			sqlite3_bind_int64(index, 1, (sqlite3_int64)mark);
			step_done(db, index, "index the audit tail");
			snprintf(text, sizeof(text), "%llu", (unsigned long long)seq);
			sqlite3_bind_text(meta, 1, "audit_member_indexed", -1, SQLITE_STATIC);
			sqlite3_bind_text(meta, 2, text, -1, SQLITE_TRANSIENT);
			step_done(db, meta, "set the index mark");
		}
		/* The audit head, once per commit ("<seq>:<64 hex>"). */
		{
			size_t o =
			    (size_t)snprintf(head, sizeof(head), "%llu:", (unsigned long long)seq);

			for (int k = 0; k < HASH_BYTES; k++)
				o += (size_t)snprintf(head + o, sizeof(head) - o, "%02x", hash[k]);
		}
		sqlite3_bind_text(meta, 1, "audit_head", -1, SQLITE_STATIC);
		sqlite3_bind_text(meta, 2, head, -1, SQLITE_STATIC);
		step_done(db, meta, "set audit head");
		step_done(db, commit, "commit");
	}
	sqlite3_finalize(ins_member);
	sqlite3_finalize(ins_audit);
	sqlite3_finalize(index);
	sqlite3_finalize(meta);
	sqlite3_finalize(begin);
	sqlite3_finalize(commit);
	if (sqlite3_close(db) != SQLITE_OK)
		die(NULL, "close");
	fclose(sf);
	printf("wrote %llu\n", (unsigned long long)n);
	return 0;
}
