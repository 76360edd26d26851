/*
 * src/audit/checkpoint.h — signed checkpoints of the audit chain's
 * head, kept outside the database as well as in it.
 *
 * The chain (audit.h) catches an edit, deletion, insertion or reordering
 * anywhere before its last entry, and the head kept in the store's meta
 * table catches entries cut off the end — unless whoever cuts them also
 * rewrites that head.  A checkpoint closes that gap: it states "the chain
 * had `seq` entries and entry `seq` hashed to `head`, at `time`", signed
 * with Ed25519 under the signing key derived from the current master key
 * (vault.h, the key that signs consent receipts), so it cannot be made
 * without the master key.  A chain shorter than a good checkpoint says,
 * or holding another entry at its seq, has lost or replaced entries.
 *
 * Where checkpoints are kept:
 *   1. the store's audit_checkpoints table (one row per checkpoint, never
 *      updated or deleted by Custodian);
 *   2. CU_AUDIT_CHECKPOINT_FILE next to the database in the data directory:
 *      the newest checkpoint, replaced atomically (temporary file, fsync,
 *      rename, fsync of the directory).  It is never replaced by one that
 *      disagrees with it — a file whose checkpoint the chain no longer holds
 *      is evidence and stays until the operator moves it away;
 *   3. anywhere the operator ships the output of `custodian audit checkpoint`.
 * The server writes one every CU_AUDIT_CHECKPOINT_INTERVAL_MS when the chain
 * moved, and one at a clean stop; each command-line command that appended
 * entries writes one when it closes the data directory.
 *
 * Signed message (binary, little-endian):
 *   "cu-audit-checkpoint-v1" | u64 seq | head (32) | i64 time_us | u32 key_id
 * Line format (one checkpoint per line; blank lines and lines starting
 * with '#' are ignored; fields in this order, single spaces):
 *   cu-audit-checkpoint-v1 seq=N head=HEX64 time=YYYY-MM-DDTHH:MM:SS.uuuuuuZ
 *       key=ID sig=HEX128
 * `time` is UTC to the microsecond, exactly as signed.
 */
#ifndef CUSTODIAN_AUDIT_CHECKPOINT_H
#define CUSTODIAN_AUDIT_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit/audit.h"
#include "store/audit_rows.h"
#include "util/result.h"
#include "vault/vault.h"

typedef struct cu_store cu_store;

/* The file's name inside the data directory. */
#define CU_AUDIT_CHECKPOINT_FILE "audit.checkpoint"
/* The server signs a checkpoint this often when the chain moved since the last one. */
#define CU_AUDIT_CHECKPOINT_INTERVAL_MS 5000u
/* One formatted checkpoint: the line without its newline, and a NUL. */
#define CU_AUDIT_CHECKPOINT_LINE_MAX 320
/* One finding of a verify, in words ("entries 1043-1100 missing: ..."), and its NUL. */
#define CU_AUDIT_CHECKPOINT_WHAT_BYTES 256
/* A checkpoint file longer than this is not one Custodian wrote (it is refused). */
#define CU_AUDIT_CHECKPOINT_FILE_MAX (1u << 20)

/* cu_audit_checkpoint, the row the store keeps: store/audit_rows.h. */

/*
 * Signs cp (seq, head and time_us given; time_us 0 = now) with v's current
 * master key: sets key_id and sig.
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_sign(const cu_vault *v, cu_audit_checkpoint *cp);
/*
 * Checks cp's signature against the signing key of master key cp->key_id
 * in v.  CU_OK; CU_ERR_NOT_FOUND when v holds no such key; CU_ERR_CRYPTO
 * when the signature does not match (forged or altered).
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_check_signature(const cu_vault *v,
                                                             const cu_audit_checkpoint *cp);

/* The line format above, without a newline. */
void cu_audit_checkpoint_format(const cu_audit_checkpoint *cp,
                                char out[CU_AUDIT_CHECKPOINT_LINE_MAX]);
/*
 * Parses one line (a trailing "\n" or "\r\n" allowed), strictly: the exact
 * format above and nothing else.  CU_ERR_INVALID_ARGUMENT otherwise.  The
 * signature is not checked here.
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_parse(const char *line, cu_audit_checkpoint *out);

/*
 * Signs the store's committed head now (the last entry of the table) into
 * *out.  Outside a transaction, or inside one to sign its view.
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_make(cu_store *s, const cu_vault *v,
                                                  cu_audit_checkpoint *out);

/*
 * Writes cp to path as one line, atomically: a temporary file in the same
 * directory, fsync, rename over path, fsync of the directory.  Mode 0600.
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_write_file(const char *path,
                                                        const cu_audit_checkpoint *cp);

/*
 * What the server and the command line call: when the store's chain moved
 * past its newest stored checkpoint (or none is stored, or `force`), signs
 * the head — when the store holds chains besides a's (a may be NULL: no
 * link), first a link in a's chain (cu_audit_link, its own transaction),
 * and then the link's entry, which covers every chain — adds it to the store (its own transaction: call outside one)
 * and then replaces `file` (may be NULL: store only) — unless the file
 * holds a checkpoint the chain disagrees with (cut or replaced entries, a
 * bad signature, not a checkpoint at all), which is kept as evidence:
 * CU_ERR_AUDIT_BROKEN with one line in err.  A missing file is written
 * only for the first checkpoint of the store or with `force` (the
 * operator's `custodian audit checkpoint`): once checkpoints were signed,
 * its absence is evidence too (CU_ERR_AUDIT_BROKEN).  A file holding a newer good
 * checkpoint than this one (another process wrote it) is left as it is.
 * Processes writing the same file take turns (a lock on its directory).
 * *out (may be NULL) receives the checkpoint; *written (may be NULL)
 * whether one was signed.
 */
CU_WARN_UNUSED cu_result cu_audit_checkpoint_save(cu_store *s, const cu_vault *v, cu_audit *a,
                                                  const char *file, bool force,
                                                  cu_audit_checkpoint *out, bool *written,
                                                  char *err, size_t errlen);

/* ---- verification against checkpoints ----------------------------------- */

typedef enum cu_audit_checkpoint_status {
	CU_AUDIT_CHECKPOINT_GOOD = 0,    /* signed by this custodian; the chain holds it */
	CU_AUDIT_CHECKPOINT_MISSING,     /* the chain ends before its seq: entries cut */
	CU_AUDIT_CHECKPOINT_DIFFERS,     /* the chain's entry at its seq has another hash */
	CU_AUDIT_CHECKPOINT_FORGED,      /* the signature does not match: forged or altered */
	CU_AUDIT_CHECKPOINT_UNKNOWN_KEY, /* signed by a key id this custodian does not hold */
	CU_AUDIT_CHECKPOINT_MALFORMED,   /* a line that is not a checkpoint */
	CU_AUDIT_CHECKPOINT_ABSENT,      /* the file is missing or unreadable */
} cu_audit_checkpoint_status;

/* "good", "missing", "differs", "forged", "unknown_key", "malformed", "absent". */
const char *cu_audit_checkpoint_status_name(cu_audit_checkpoint_status st);

/* One checkpoint looked at, or one file that could not be. */
typedef struct cu_audit_checkpoint_finding {
	const char *source; /* "store", or the file's path */
	unsigned line;      /* line in the file (1-based); 0 for the store or the file itself */
	cu_audit_checkpoint_status status;
	cu_audit_checkpoint cp; /* as read (zeros for MALFORMED and ABSENT) */
	char what
	    [CU_AUDIT_CHECKPOINT_WHAT_BYTES]; /* one line, e.g. "entries 1043-1100 missing: ..." */
} cu_audit_checkpoint_finding;

typedef void (*cu_audit_checkpoint_fn)(void *ud, const cu_audit_checkpoint_finding *f);

typedef struct cu_audit_verify_request {
	/* In. */
	const cu_vault *vault; /* the keys signatures are checked against */
	/*
	 * The data directory's checkpoint file (NULL: none).  Its absence is
	 * a finding when the chain is not empty: deleting it is how a cut
	 * would be hidden.
	 */
	const char *own_file;
	const char *given_file; /* a file the operator kept elsewhere (NULL: none); must exist */
	cu_audit_checkpoint_fn
	    on_finding; /* every finding but GOOD ones from the store (may be NULL) */
	void *ud;
	cu_audit_progress_fn progress; /* as cu_audit_verify (may be NULL) */
	void *progress_ud;
	/* Out. */
	cu_audit_report chain;   /* the walk, as cu_audit_verify reports it */
	uint64_t last_seq;       /* the last entry in the table */
	uint64_t checkpoints;    /* checkpoints looked at (files and store) */
	uint64_t bad;            /* findings other than GOOD */
	uint64_t covered_seq;    /* the highest seq a good checkpoint covers (0: none) */
	int64_t covered_time_us; /* when that checkpoint was signed */
	cu_audit_checkpoint_finding first_bad; /* the first bad finding (when bad > 0) */
} cu_audit_verify_request;

/*
 * The whole check: the chain walk and head check of cu_audit_verify, then
 * every checkpoint — the files (read before the walk, so a checkpoint
 * written meanwhile is never newer than the walk's view) and the store's
 * table (in the walk's view).  CU_OK when the chain is intact and every
 * checkpoint good; CU_ERR_AUDIT_BROKEN when either is not; another code
 * when the store cannot be read.
 */
CU_WARN_UNUSED cu_result cu_audit_verify_checkpoints(cu_store *s, cu_audit_verify_request *req);

#endif
