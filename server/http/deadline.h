/*
 * server/http/deadline.h — a deadline for every request's arrival (private).
 *
 * libmicrohttpd's connection timeout is an idle timeout: any byte resets it,
 * so a client that sends one header line every few seconds holds its
 * connection (and, a thousand times over, every connection the server has)
 * for as long as it likes.  Here every connection gets a fixed deadline by
 * which its request must have arrived whole — request line, headers and
 * body — and activity does not move it:
 *
 *   1. The clock starts when the connection is accepted, and again when a
 *      response has been sent (for the next request on a kept-alive
 *      connection; an idle kept-alive connection is closed at the deadline).
 *   2. It stops when the request has arrived whole (the handler runs from
 *      then on: waiting for the writer or sending the answer is not the
 *      client's delay).
 *   3. A thread of its own (the reaper) looks every CU_DEADLINE_TICK_MS and
 *      shuts down the socket of every connection past its deadline;
 *      libmicrohttpd then sees the end of the stream and closes the
 *      connection in its own thread, as if the client had gone (and
 *      cu_metrics_deadline_missed counts it).
 *
 * The registry holds a connection from libmicrohttpd's "started" to its
 * "closed" notification, and libmicrohttpd closes the socket only after the
 * latter: the reaper, which shuts sockets down with the registry locked,
 * never touches a descriptor that has been reused.
 */
#ifndef CU_DEADLINE_H
#define CU_DEADLINE_H

#include "util/result.h"

#define CU_DEADLINE_TICK_MS 200 /* how often the reaper looks */

typedef struct cu_deadlines cu_deadlines;
typedef struct cu_conn_deadline cu_conn_deadline;

/* Starts the reaper; every request has timeout_ms to arrive whole. */
CU_WARN_UNUSED cu_result cu_deadlines_start(unsigned timeout_ms, cu_deadlines **out);
/* Stops and joins the reaper and frees what is still registered.  NULL: no-op. */
void cu_deadlines_stop(cu_deadlines *d);

/*
 * Registers a connection just accepted (its socket fd), its clock running.
 * NULL when out of memory: the connection then has libmicrohttpd's idle
 * timeout only.  d NULL: NULL.
 */
cu_conn_deadline *cu_deadlines_add(cu_deadlines *d, int fd);
/* Unregisters and frees (libmicrohttpd's "closed").  c NULL: no-op. */
void cu_deadlines_remove(cu_deadlines *d, cu_conn_deadline *c);
/* The request has arrived whole: no deadline until cu_deadlines_restart.  NULL: no-op. */
void cu_deadlines_stop_clock(cu_conn_deadline *c);
/* A response was sent: the next request has timeout_ms from now.  NULL: no-op. */
void cu_deadlines_restart(cu_deadlines *d, cu_conn_deadline *c);

#endif
