/*
 * src/store/audit_rows.h — the rows the store keeps for the audit chain:
 * one entry, one signed checkpoint of the head.
 *
 * The store persists them and does not interpret them: how an entry is
 * hashed into the chain is audit.h's, how a checkpoint is signed and
 * checked is checkpoint.h's.  They live here, at the store's layer, so
 * the store needs nothing from the audit layer above it.
 */
#ifndef CUSTODIAN_STORE_AUDIT_ROWS_H
#define CUSTODIAN_STORE_AUDIT_ROWS_H

#include <stdint.h>

#include "vault/vault.h"

#define CU_AUDIT_HASHBYTES 32
/* The chain of the entries written before chains had names, and of every writer not given one. */
#define CU_AUDIT_CHAIN_MAIN "main"
/* A chain's name: [a-z0-9_-], 1 to this many bytes (audit.h). */
#define CU_AUDIT_CHAIN_MAX 32

/*
 * One entry.  Text members are borrowed (NULL reads as "").  `role` and
 * `decision` are short words: role names from policy.h; decision is
 * "allow", "partial", "deny" or "done" (for changes).
 */
typedef struct cu_audit_entry {
	uint64_t seq;         /* 1, 2, ... over every chain: assigned by cu_audit_append */
	int64_t time_us;      /* microseconds since the epoch; 0 = now */
	const char *actor;    /* "operator", a token name, a member id */
	const char *role;     /* "staff" */
	const char *action;   /* "read", "register", "update", "erase", "find", ... */
	const char *member;   /* member id, or "" */
	const char *purpose;  /* purpose id, or "" */
	const char *fields;   /* comma-separated field names, or "" */
	const char *decision; /* "allow" | "partial" | "deny" | "done" */
	const char *reason;   /* why; for partial reads the withheld fields and why */
	const char *case_ref; /* case reference, or "" */
	const char *chain;    /* the writer's chain; NULL reads as CU_AUDIT_CHAIN_MAIN */
	unsigned char prev[CU_AUDIT_HASHBYTES]; /* hash of the chain's entry before */
	unsigned char hash[CU_AUDIT_HASHBYTES];
} cu_audit_entry;

/* A signed checkpoint of the chain's head (checkpoint.h says what each part means). */
typedef struct cu_audit_checkpoint {
	uint64_t seq;                           /* entries in the chain; 0 = empty */
	unsigned char head[CU_AUDIT_HASHBYTES]; /* hash of entry seq (zeros when empty) */
	int64_t time_us;                        /* when it was signed */
	uint32_t key_id;                        /* the master key whose signing key signed */
	unsigned char sig[CU_VAULT_SIGBYTES];
} cu_audit_checkpoint;

#endif
