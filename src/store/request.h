/*
 * src/store/request.h — the store's area for members' requests
 * (disclosure, amendment, erasure) and complaints, with their histories.
 * Part of the store (store.h's rules hold: writes only inside a
 * transaction, no SQL outside the store); the domain is requests.h and
 * complaints.h.
 *
 * The store sees no free text in the clear.  What a member wrote (a
 * request's details, a complaint) and what an officer answered (reasons,
 * responses) arrive sealed under the member's own data key (vault.h), so
 * erasing the member crypto-shreds them wherever a copy survives.  What
 * stays readable is workflow metadata: ids, the member id, type, state,
 * times, the officer's token name, a refusal ground's id, the names (never
 * the values) of fields an amendment asks to change, and an erasure
 * certificate (ids, times and names only).
 *
 * Rows read from the store own their sealed blobs and the certificate:
 * release them with the matching _release (NULL and empty rows are fine).
 */
#ifndef CUSTODIAN_STORE_REQUEST_H
#define CUSTODIAN_STORE_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define CU_REQUEST_WORD_MAX   15                   /* a type, a state, an "about", a note code */
#define CU_REQUEST_ACTOR_MAX  CU_ACTOR_MAX         /* a token name, "operator" or a member id */
#define CU_REQUEST_FIELDS_MAX CU_FIELDSET_TEXT_MAX /* field names joined with ',' */

/* ---- requests ------------------------------------------------------------ */

typedef struct cu_request_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	char type[CU_REQUEST_WORD_MAX + 1];  /* "disclosure" | "amendment" | "erasure" */
	char state[CU_REQUEST_WORD_MAX + 1]; /* "received", "investigating", "applied", ... */
	int64_t received_us;
	int64_t due_us;      /* the "without delay" target */
	int64_t hard_due_us; /* the outer limit */
	int64_t updated_us;
	int64_t decided_us; /* 0 while open */
	char decided_by[CU_REQUEST_ACTOR_MAX + 1];
	char ground[CU_POLICY_ID_MAX + 1];      /* a refusal's ground id, or "" */
	char fields[CU_REQUEST_FIELDS_MAX + 1]; /* amendment: the field names asked about */
	unsigned char *details;                 /* sealed; NULL when none or forgotten */
	size_t details_len;
	bool has_token; /* erasure: a certificate token was given */
	unsigned char token_hash[CU_STORE_HASHBYTES];
	char *certificate; /* signed JSON, or NULL */
} cu_request_row;

void cu_request_row_release(cu_request_row *row);

/* Refuses an id already held (CU_ERR_CONFLICT); `member` must name a member row. */
CU_WARN_UNUSED cu_result cu_store_request_insert(cu_store *s, const cu_request_row *row);
/* CU_ERR_NOT_FOUND if none. */
CU_WARN_UNUSED cu_result cu_store_request_get(cu_store *s, const char *id, cu_request_row *out);
/*
 * Writes state, updated_us, decided_us, decided_by, ground and certificate
 * of row->id (the rest never changes).  CU_ERR_NOT_FOUND if no such row.
 */
CU_WARN_UNUSED cu_result cu_store_request_update(cu_store *s, const cu_request_row *row);
/*
 * Requests not yet decided (received or investigating), by target date,
 * earliest first; with due_before_us > 0 only those due before it (the
 * overdue list).  Requests of erased members are left out: nobody is there
 * to answer.  The row is valid during the call only; fn returns non-zero
 * to stop and may not call the store.
 */
typedef int (*cu_store_request_fn)(void *ud, const cu_request_row *row);
CU_WARN_UNUSED cu_result cu_store_request_list_open(cu_store *s, int64_t due_before_us,
                                                    cu_store_request_fn fn, void *ud);
/* Every request of `member`, oldest first (same rules for fn). */
CU_WARN_UNUSED cu_result cu_store_request_list_member(cu_store *s, const char *member,
                                                      cu_store_request_fn fn, void *ud);

/* One step of a request's history: how it came to be in `state`. */
typedef struct cu_request_event_row {
	char request[CU_ID_LEN + 1];
	char state[CU_REQUEST_WORD_MAX + 1];
	char actor[CU_REQUEST_ACTOR_MAX + 1];
	char role[CU_ROLE_NAME_BYTES];
	int64_t time_us;
	char ground[CU_POLICY_ID_MAX + 1];  /* a refusal's ground id, or "" */
	char note[CU_REQUEST_WORD_MAX + 1]; /* a fixed code ("member_erased"), or "" */
	unsigned char *reasons;             /* sealed, or NULL */
	size_t reasons_len;
} cu_request_event_row;

void cu_request_event_row_release(cu_request_event_row *row);
CU_WARN_UNUSED cu_result cu_store_request_event_insert(cu_store *s,
                                                       const cu_request_event_row *row);
/* The history of request `id`, oldest first (same rules for fn). */
typedef int (*cu_store_request_event_fn)(void *ud, const cu_request_event_row *row);
CU_WARN_UNUSED cu_result cu_store_request_event_list(cu_store *s, const char *request,
                                                     cu_store_request_event_fn fn, void *ud);

/* ---- complaints ---------------------------------------------------------- */

typedef struct cu_complaint_row {
	char id[CU_ID_LEN + 1];
	char member[CU_ID_LEN + 1];
	char about[CU_REQUEST_WORD_MAX + 1]; /* use | provision | disclosure | amendment | other */
	char state[CU_REQUEST_WORD_MAX + 1]; /* received | assigned | answered | closed */
	int64_t received_us;
	int64_t due_us;
	int64_t updated_us;
	char assigned[CU_REQUEST_ACTOR_MAX + 1]; /* the officer handling it, or "" */
	int64_t closed_us;                       /* 0 while open */
	char closed_by[CU_REQUEST_ACTOR_MAX + 1];
	char note[CU_REQUEST_WORD_MAX + 1]; /* how it closed: "answered" or "member_erased" */
	unsigned char *text;                /* sealed; NULL once forgotten */
	size_t text_len;
} cu_complaint_row;

void cu_complaint_row_release(cu_complaint_row *row);

CU_WARN_UNUSED cu_result cu_store_complaint_insert(cu_store *s, const cu_complaint_row *row);
CU_WARN_UNUSED cu_result cu_store_complaint_get(cu_store *s, const char *id, cu_complaint_row *out);
/* Writes state, updated_us, assigned, closed_us, closed_by and note of row->id. */
CU_WARN_UNUSED cu_result cu_store_complaint_update(cu_store *s, const cu_complaint_row *row);
/* Open complaints by due date, as cu_store_request_list_open. */
typedef int (*cu_store_complaint_fn)(void *ud, const cu_complaint_row *row);
CU_WARN_UNUSED cu_result cu_store_complaint_list_open(cu_store *s, int64_t due_before_us,
                                                      cu_store_complaint_fn fn, void *ud);
CU_WARN_UNUSED cu_result cu_store_complaint_list_member(cu_store *s, const char *member,
                                                        cu_store_complaint_fn fn, void *ud);

typedef struct cu_complaint_response_row {
	char id[CU_ID_LEN + 1];
	char complaint[CU_ID_LEN + 1];
	char officer[CU_REQUEST_ACTOR_MAX + 1];
	int64_t time_us;
	bool closing;        /* this response closed the complaint */
	unsigned char *text; /* sealed; NULL once forgotten */
	size_t text_len;
} cu_complaint_response_row;

void cu_complaint_response_row_release(cu_complaint_response_row *row);
CU_WARN_UNUSED cu_result cu_store_complaint_response_insert(cu_store *s,
                                                            const cu_complaint_response_row *row);
/* The responses to complaint `id`, oldest first. */
typedef int (*cu_store_complaint_response_fn)(void *ud, const cu_complaint_response_row *row);
CU_WARN_UNUSED cu_result cu_store_complaint_response_list(cu_store *s, const char *complaint,
                                                          cu_store_complaint_response_fn fn,
                                                          void *ud);
CU_WARN_UNUSED cu_result cu_store_complaint_response_count(cu_store *s, const char *complaint,
                                                           uint64_t *n);

/* ---- erasure ------------------------------------------------------------- */

/*
 * For an erasure, in its transaction: every sealed text of `member`'s
 * requests, their histories, complaints and responses is deleted (the
 * bytes are overwritten: secure_delete), keeping the metadata.  *n (may be
 * NULL) receives how many texts went.
 */
CU_WARN_UNUSED cu_result cu_store_request_forget_member(cu_store *s, const char *member,
                                                        uint64_t *n);

#endif
