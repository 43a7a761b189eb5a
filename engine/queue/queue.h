/* The bounded job queue and its worker pool: the only way from an I/O
 * thread to heavy work.
 *
 * A gpx_job is owned by the caller and must stay valid until its done()
 * callback has run. Contract:
 *   - gpx_queue_submit returns 0: done() will be called exactly once, on a
 *     worker thread (or, for jobs still pending at gpx_queue_destroy, on the
 *     thread calling destroy). After done() returns the queue never touches
 *     the job again, so done() may free it.
 *   - gpx_queue_submit returns < 0: the queue did not take the job; neither
 *     run() nor done() is called.
 * done() runs on a worker thread: the server forwards the completion to the
 * I/O loop that owns the call (a lock-free list plus one eventfd write),
 * never touching loop state from the worker.
 *
 * Before run(), a job whose deadline has passed is dropped with
 * GPX_DEADLINE_EXCEEDED, and one whose cancel flag is set with
 * GPX_CANCELED; run() is then never called. While it runs, run() should
 * pass &job->cancel and job->deadline on to the pipeline (gpx_run_ctx). */
#ifndef GPX_QUEUE_H
#define GPX_QUEUE_H

#include <stdatomic.h>
#include <stdint.h>

#include "common/status.h"
#include "engine/filters/bands.h"
#include "engine/filters/scratch.h"

/* What a worker thread lends to each job it runs. */
typedef struct gpx_worker_ctx {
	int index;	      /* 0 .. workers-1 */
	gpx_scratch *scratch; /* this worker's buffer pool, reused across jobs */
	gpx_bands *bands;     /* NULL unless band threads were configured */
} gpx_worker_ctx;

typedef struct gpx_job gpx_job;

struct gpx_job {
	/* Set by the caller before submit. */
	/* Does the work. Returns 0, or -1 with st set. */
	int (*run)(gpx_job *job, gpx_worker_ctx *w, gpx_status *st);
	/* Always called once (see above); st is the outcome: run()'s status,
	 * or why the job never ran. */
	void (*done)(gpx_job *job, const gpx_status *st);
	void *ud;	   /* the caller's */
	double deadline;   /* gpx_now_mono() seconds; 0: none */
	atomic_int cancel; /* set from any thread; the queue and pipeline read it */

	/* Filled by the queue (monotonic seconds / milliseconds). */
	double enqueued_at;
	double started_at; /* 0 when it never ran */
	double finished_at;
	double queue_wait_ms; /* started (or dropped) minus enqueued */
	double run_ms;

	gpx_job *next_; /* private to the queue */
};

/* Zeroes the job and sets the callbacks; call before filling the rest. */
void gpx_job_init(gpx_job *job, int (*run)(gpx_job *, gpx_worker_ctx *, gpx_status *),
		  void (*done)(gpx_job *, const gpx_status *), void *ud);

typedef struct gpx_queue gpx_queue;

typedef struct gpx_queue_opts {
	int band_threads;	/* per worker, incl. the worker itself; <= 1: none */
	size_t scratch_buffers; /* per-worker pool limits; 0: gpx_scratch defaults */
	size_t scratch_bytes;
} gpx_queue_opts;

/* workers >= 1 threads, depth >= 1 pending jobs (running ones do not
 * count). 0, or -1 (bad arguments, out of memory, threads). */
int gpx_queue_create(int workers, int depth, gpx_queue **out);
int gpx_queue_create_opts(int workers, int depth, const gpx_queue_opts *opts, gpx_queue **out);

#define GPX_QUEUE_FULL (-1)   /* -> resource_exhausted + Retry-After */
#define GPX_QUEUE_CLOSED (-2) /* draining or being destroyed -> unavailable */

/* Takes the job (sets enqueued_at, zeroes the other timings). 0,
 * GPX_QUEUE_FULL or GPX_QUEUE_CLOSED. Thread-safe. */
int gpx_queue_submit(gpx_queue *q, gpx_job *job);

/* Stops taking jobs (submit returns GPX_QUEUE_CLOSED) and waits until every
 * pending and running job is done or `timeout_s` seconds have passed.
 * 0 when drained, -1 on timeout. For a graceful stop before destroy. */
int gpx_queue_drain(gpx_queue *q, double timeout_s);

/* Stops taking jobs, calls done(GPX_UNAVAILABLE) for every pending job on
 * this thread, waits for running jobs to finish, joins the workers and
 * frees the queue. NULL is a no-op. */
void gpx_queue_destroy(gpx_queue *q);

typedef struct gpx_queue_stats {
	int workers;
	int busy;		   /* workers running a job now */
	int depth;		   /* pending jobs */
	int capacity;		   /* the depth limit */
	uint64_t submitted;	   /* accepted */
	uint64_t completed;	   /* run() returned (ok or not) */
	uint64_t failed;	   /* ... of which run() returned -1 */
	uint64_t rejected_full;	   /* submit refused: queue full */
	uint64_t dropped_deadline; /* never ran: deadline passed while queued */
	uint64_t dropped_canceled; /* never ran: cancelled while queued */
	uint64_t dropped_shutdown; /* never ran: destroyed while queued */
} gpx_queue_stats;

/* A consistent snapshot. Thread-safe. */
void gpx_queue_get_stats(gpx_queue *q, gpx_queue_stats *out);

#endif
