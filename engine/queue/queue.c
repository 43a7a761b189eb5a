#include "engine/queue/queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

#define QUEUE_MAX_WORKERS 1024

typedef struct worker {
	struct gpx_queue *q;
	pthread_t tid;
	gpx_worker_ctx ctx;
} worker;

struct gpx_queue {
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* a job arrived, or stopping */
	pthread_cond_t idle_cv; /* a job finished (for drain) */
	gpx_job *head, *tail;
	int depth, capacity;
	int busy;
	int closed;   /* submit refuses */
	int stopping; /* workers exit once the list is empty */
	int nworkers, started;
	worker *workers;
	uint64_t submitted, completed, failed, rejected_full;
	uint64_t dropped_deadline, dropped_canceled, dropped_shutdown;
};

void gpx_job_init(gpx_job *job, int (*run)(gpx_job *, gpx_worker_ctx *, gpx_status *),
		  void (*done)(gpx_job *, const gpx_status *), void *ud)
{
	memset(job, 0, sizeof(*job));
	job->run = run;
	job->done = done;
	job->ud = ud;
	atomic_init(&job->cancel, 0);
}

/* Runs (or drops) one job on a worker; the lock is not held. */
static void process(struct gpx_queue *q, worker *w, gpx_job *job)
{
	gpx_status st;
	double now = gpx_now_mono();
	int outcome; /* 0 ran ok, 1 failed, 2 deadline, 3 canceled */

	gpx_status_clear(&st);
	job->queue_wait_ms = (now - job->enqueued_at) * 1e3;
	if (atomic_load(&job->cancel)) {
		gpx_status_set(&st, GPX_CANCELED, "canceled while queued");
		outcome = 3;
	} else if (job->deadline > 0 && now >= job->deadline) {
		gpx_status_set(&st, GPX_DEADLINE_EXCEEDED,
			       "deadline exceeded after %.0f ms in the queue", job->queue_wait_ms);
		outcome = 2;
	} else {
		job->started_at = now;
		int rc = job->run(job, &w->ctx, &st);
		if (rc != 0 && st.code == GPX_OK)
			gpx_status_set(&st, GPX_UNKNOWN, "job failed");
		else if (rc == 0)
			gpx_status_clear(&st);
		outcome = rc != 0;
	}
	job->finished_at = gpx_now_mono();
	if (job->started_at > 0)
		job->run_ms = (job->finished_at - job->started_at) * 1e3;

	/* Counters first, so whoever done() wakes sees them. */
	pthread_mutex_lock(&q->mu);
	switch (outcome) {
	case 0: q->completed++; break;
	case 1:
		q->completed++;
		q->failed++;
		break;
	case 2: q->dropped_deadline++; break;
	default: q->dropped_canceled++;
	}
	pthread_mutex_unlock(&q->mu);

	job->done(job, &st); /* the job may be gone after this */
}

static void *worker_main(void *arg)
{
	worker *w = arg;
	struct gpx_queue *q = w->q;
	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (!q->head && !q->stopping)
			pthread_cond_wait(&q->work_cv, &q->mu);
		if (!q->head)
			break; /* stopping and nothing left */
		gpx_job *job = q->head;
		q->head = job->next_;
		if (!q->head)
			q->tail = NULL;
		job->next_ = NULL;
		q->depth--;
		q->busy++;
		pthread_mutex_unlock(&q->mu);

		process(q, w, job);

		pthread_mutex_lock(&q->mu);
		q->busy--;
		if (q->busy == 0 && q->depth == 0)
			pthread_cond_broadcast(&q->idle_cv);
	}
	pthread_mutex_unlock(&q->mu);
	return NULL;
}

int gpx_queue_create(int workers, int depth, gpx_queue **out)
{
	return gpx_queue_create_opts(workers, depth, NULL, out);
}

static void free_workers(struct gpx_queue *q)
{
	for (int i = 0; i < q->nworkers; i++) {
		gpx_bands_destroy(q->workers[i].ctx.bands);
		gpx_scratch_destroy(q->workers[i].ctx.scratch);
	}
	free(q->workers);
}

static void stop_and_join(struct gpx_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	q->stopping = 1;
	pthread_cond_broadcast(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	for (int i = 0; i < q->started; i++)
		pthread_join(q->workers[i].tid, NULL);
	q->started = 0;
}

int gpx_queue_create_opts(int workers, int depth, const gpx_queue_opts *opts, gpx_queue **out)
{
	*out = NULL;
	if (workers < 1 || workers > QUEUE_MAX_WORKERS || depth < 1)
		return -1;
	struct gpx_queue *q = calloc(1, sizeof(*q));
	if (!q)
		return -1;
	q->capacity = depth;
	q->nworkers = workers;
	if (pthread_mutex_init(&q->mu, NULL) != 0)
		goto fail_alloc;
	if (pthread_cond_init(&q->work_cv, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&q->idle_cv, NULL) != 0)
		goto fail_work_cv;
	q->workers = calloc((size_t)workers, sizeof(*q->workers));
	if (!q->workers)
		goto fail_idle_cv;
	for (int i = 0; i < workers; i++) {
		worker *w = &q->workers[i];
		w->q = q;
		w->ctx.index = i;
		if (gpx_scratch_create(opts ? opts->scratch_buffers : 0,
				       opts ? opts->scratch_bytes : 0, &w->ctx.scratch) != 0)
			goto fail_workers;
		if (opts && opts->band_threads > 1 &&
		    gpx_bands_create(opts->band_threads, &w->ctx.bands) != 0)
			goto fail_workers;
	}
	for (int i = 0; i < workers; i++) {
		if (pthread_create(&q->workers[i].tid, NULL, worker_main, &q->workers[i]) != 0)
			goto fail_threads;
		q->started++;
	}
	*out = q;
	return 0;

fail_threads:
	stop_and_join(q);
fail_workers:
	free_workers(q);
fail_idle_cv:
	pthread_cond_destroy(&q->idle_cv);
fail_work_cv:
	pthread_cond_destroy(&q->work_cv);
fail_mu:
	pthread_mutex_destroy(&q->mu);
fail_alloc:
	free(q);
	return -1;
}

int gpx_queue_submit(gpx_queue *q, gpx_job *job)
{
	pthread_mutex_lock(&q->mu);
	if (q->closed) {
		pthread_mutex_unlock(&q->mu);
		return GPX_QUEUE_CLOSED;
	}
	if (q->depth >= q->capacity) {
		q->rejected_full++;
		pthread_mutex_unlock(&q->mu);
		return GPX_QUEUE_FULL;
	}
	job->enqueued_at = gpx_now_mono();
	job->started_at = 0;
	job->finished_at = 0;
	job->queue_wait_ms = 0;
	job->run_ms = 0;
	job->next_ = NULL;
	if (q->tail)
		q->tail->next_ = job;
	else
		q->head = job;
	q->tail = job;
	q->depth++;
	q->submitted++;
	pthread_cond_signal(&q->work_cv);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

int gpx_queue_drain(gpx_queue *q, double timeout_s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	double end = (double)ts.tv_sec + ts.tv_nsec / 1e9 + (timeout_s > 0 ? timeout_s : 0);
	ts.tv_sec = (time_t)end;
	ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
	int rc = 0;
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	while (q->depth > 0 || q->busy > 0) {
		if (pthread_cond_timedwait(&q->idle_cv, &q->mu, &ts) == ETIMEDOUT) {
			rc = q->depth > 0 || q->busy > 0 ? -1 : 0;
			break;
		}
	}
	pthread_mutex_unlock(&q->mu);
	return rc;
}

void gpx_queue_destroy(gpx_queue *q)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	q->closed = 1;
	gpx_job *pending = q->head;
	q->head = q->tail = NULL;
	q->dropped_shutdown += (uint64_t)q->depth;
	q->depth = 0;
	pthread_mutex_unlock(&q->mu);

	gpx_status st;
	gpx_status_set(&st, GPX_UNAVAILABLE, "server is shutting down");
	while (pending) {
		gpx_job *next = pending->next_;
		pending->next_ = NULL;
		pending->finished_at = gpx_now_mono();
		pending->queue_wait_ms = (pending->finished_at - pending->enqueued_at) * 1e3;
		pending->done(pending, &st);
		pending = next;
	}
	stop_and_join(q);
	free_workers(q);
	pthread_cond_destroy(&q->idle_cv);
	pthread_cond_destroy(&q->work_cv);
	pthread_mutex_destroy(&q->mu);
	free(q);
}

void gpx_queue_get_stats(gpx_queue *q, gpx_queue_stats *out)
{
	pthread_mutex_lock(&q->mu);
	out->workers = q->nworkers;
	out->busy = q->busy;
	out->depth = q->depth;
	out->capacity = q->capacity;
	out->submitted = q->submitted;
	out->completed = q->completed;
	out->failed = q->failed;
	out->rejected_full = q->rejected_full;
	out->dropped_deadline = q->dropped_deadline;
	out->dropped_canceled = q->dropped_canceled;
	out->dropped_shutdown = q->dropped_shutdown;
	pthread_mutex_unlock(&q->mu);
}
