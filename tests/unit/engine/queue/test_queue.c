#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "engine/queue/queue.h"

/* A gate that blocking jobs wait on, so tests control when workers free up. */
typedef struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int open;
	int waiting; /* jobs currently blocked in the gate */
} gate;

static gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};

static void gate_reset(void)
{
	pthread_mutex_lock(&g.mu);
	g.open = 0;
	g.waiting = 0;
	pthread_mutex_unlock(&g.mu);
}

static void gate_open(void)
{
	pthread_mutex_lock(&g.mu);
	g.open = 1;
	pthread_cond_broadcast(&g.cv);
	pthread_mutex_unlock(&g.mu);
}

/* Waits until n jobs sit in the gate. */
static void gate_wait_for(int n)
{
	for (;;) {
		pthread_mutex_lock(&g.mu);
		int w = g.waiting;
		pthread_mutex_unlock(&g.mu);
		if (w >= n)
			return;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
}

typedef struct tjob {
	gpx_job job;
	int block; /* wait at the gate */
	int fail;
	atomic_int runs;
	atomic_int dones;
	gpx_code code;
	int saw_scratch;
	int worker_index;
} tjob;

static int tjob_run(gpx_job *j, gpx_worker_ctx *w, gpx_status *st)
{
	tjob *t = (tjob *)j;
	atomic_fetch_add(&t->runs, 1);
	t->saw_scratch = w->scratch != NULL;
	t->worker_index = w->index;
	if (t->block) {
		pthread_mutex_lock(&g.mu);
		g.waiting++;
		while (!g.open)
			pthread_cond_wait(&g.cv, &g.mu);
		g.waiting--;
		pthread_mutex_unlock(&g.mu);
	}
	if (t->fail)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "bad job");
	return 0;
}

static void tjob_done(gpx_job *j, const gpx_status *st)
{
	tjob *t = (tjob *)j;
	t->code = st->code;
	atomic_fetch_add(&t->dones, 1);
}

static void tjob_init(tjob *t, int block)
{
	memset(t, 0, sizeof(*t));
	gpx_job_init(&t->job, tjob_run, tjob_done, t);
	t->block = block;
}

static void setup(void)
{
	gate_reset();
}

START_TEST(test_queue_rejects_when_full_and_counts_it)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(1, 2, &q), 0);
	tjob blocker, a, b, c;
	tjob_init(&blocker, 1);
	tjob_init(&a, 0);
	tjob_init(&b, 0);
	tjob_init(&c, 0);
	ck_assert_int_eq(gpx_queue_submit(q, &blocker.job), 0);
	gate_wait_for(1); /* the worker is busy; the queue is empty */
	ck_assert_int_eq(gpx_queue_submit(q, &a.job), 0);
	ck_assert_int_eq(gpx_queue_submit(q, &b.job), 0);
	ck_assert_int_eq(gpx_queue_submit(q, &c.job), GPX_QUEUE_FULL);
	gpx_queue_stats s;
	gpx_queue_get_stats(q, &s);
	ck_assert_int_eq(s.depth, 2);
	ck_assert_int_eq(s.capacity, 2);
	ck_assert_int_eq(s.busy, 1);
	ck_assert_uint_eq(s.rejected_full, 1);
	gate_open();
	ck_assert_int_eq(gpx_queue_drain(q, 10), 0);
	ck_assert_int_eq(atomic_load(&a.dones), 1);
	ck_assert_int_eq(atomic_load(&b.dones), 1);
	ck_assert_int_eq(atomic_load(&c.runs) + atomic_load(&c.dones), 0);
	ck_assert_int_eq(a.code, GPX_OK);
	gpx_queue_get_stats(q, &s);
	ck_assert_uint_eq(s.completed, 3);
	ck_assert_uint_eq(s.submitted, 3);
	gpx_queue_destroy(q);
}
END_TEST

START_TEST(test_queue_drops_expired_job_without_running_it)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(1, 4, &q), 0);
	tjob blocker, late;
	tjob_init(&blocker, 1);
	tjob_init(&late, 0);
	late.job.deadline = gpx_now_mono() + 0.02;
	ck_assert_int_eq(gpx_queue_submit(q, &blocker.job), 0);
	gate_wait_for(1);
	ck_assert_int_eq(gpx_queue_submit(q, &late.job), 0);
	nanosleep(&(struct timespec){0, 50000000}, NULL);
	gate_open();
	ck_assert_int_eq(gpx_queue_drain(q, 10), 0);
	ck_assert_int_eq(atomic_load(&late.runs), 0);
	ck_assert_int_eq(atomic_load(&late.dones), 1);
	ck_assert_int_eq(late.code, GPX_DEADLINE_EXCEEDED);
	ck_assert_double_ge(late.job.queue_wait_ms, 40);
	ck_assert_double_eq(late.job.started_at, 0);
	gpx_queue_stats s;
	gpx_queue_get_stats(q, &s);
	ck_assert_uint_eq(s.dropped_deadline, 1);
	ck_assert_uint_eq(s.completed, 1);
	gpx_queue_destroy(q);
}
END_TEST

START_TEST(test_queue_drops_job_cancelled_before_it_runs)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(1, 4, &q), 0);
	tjob blocker, victim;
	tjob_init(&blocker, 1);
	tjob_init(&victim, 0);
	ck_assert_int_eq(gpx_queue_submit(q, &blocker.job), 0);
	gate_wait_for(1);
	ck_assert_int_eq(gpx_queue_submit(q, &victim.job), 0);
	atomic_store(&victim.job.cancel, 1);
	gate_open();
	ck_assert_int_eq(gpx_queue_drain(q, 10), 0);
	ck_assert_int_eq(atomic_load(&victim.runs), 0);
	ck_assert_int_eq(atomic_load(&victim.dones), 1);
	ck_assert_int_eq(victim.code, GPX_CANCELED);
	gpx_queue_stats s;
	gpx_queue_get_stats(q, &s);
	ck_assert_uint_eq(s.dropped_canceled, 1);
	gpx_queue_destroy(q);
}
END_TEST

START_TEST(test_queue_passes_run_failure_to_done_and_fills_timings)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(2, 4, &q), 0);
	tjob bad, good;
	tjob_init(&bad, 0);
	tjob_init(&good, 0);
	bad.fail = 1;
	ck_assert_int_eq(gpx_queue_submit(q, &bad.job), 0);
	ck_assert_int_eq(gpx_queue_submit(q, &good.job), 0);
	ck_assert_int_eq(gpx_queue_drain(q, 10), 0);
	ck_assert_int_eq(bad.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(good.code, GPX_OK);
	ck_assert(good.saw_scratch);
	ck_assert(good.worker_index >= 0 && good.worker_index < 2);
	ck_assert_double_ge(good.job.started_at, good.job.enqueued_at);
	ck_assert_double_ge(good.job.finished_at, good.job.started_at);
	ck_assert_double_ge(good.job.queue_wait_ms, 0);
	gpx_queue_stats s;
	gpx_queue_get_stats(q, &s);
	ck_assert_uint_eq(s.failed, 1);
	ck_assert_uint_eq(s.completed, 2);
	/* drained: closed for new work */
	tjob more;
	tjob_init(&more, 0);
	ck_assert_int_eq(gpx_queue_submit(q, &more.job), GPX_QUEUE_CLOSED);
	gpx_queue_destroy(q);
}
END_TEST

START_TEST(test_queue_drain_times_out_while_a_job_runs)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(1, 4, &q), 0);
	tjob blocker;
	tjob_init(&blocker, 1);
	ck_assert_int_eq(gpx_queue_submit(q, &blocker.job), 0);
	gate_wait_for(1);
	ck_assert_int_eq(gpx_queue_drain(q, 0.02), -1);
	gate_open();
	ck_assert_int_eq(gpx_queue_drain(q, 10), 0);
	ck_assert_int_eq(atomic_load(&blocker.dones), 1);
	gpx_queue_destroy(q);
}
END_TEST

static void *open_later(void *arg)
{
	nanosleep(&(struct timespec){0, 50000000}, NULL);
	gate_open();
	return NULL;
}

START_TEST(test_queue_destroy_fails_pending_jobs_and_waits_for_running_ones)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(1, 8, &q), 0);
	tjob blocker, pending[5];
	tjob_init(&blocker, 1);
	ck_assert_int_eq(gpx_queue_submit(q, &blocker.job), 0);
	gate_wait_for(1);
	for (int i = 0; i < 5; i++) {
		tjob_init(&pending[i], 0);
		ck_assert_int_eq(gpx_queue_submit(q, &pending[i].job), 0);
	}
	pthread_t t;
	pthread_create(&t, NULL, open_later, NULL);
	gpx_queue_destroy(q);
	pthread_join(t, NULL);
	ck_assert_int_eq(atomic_load(&blocker.dones), 1);
	ck_assert_int_eq(blocker.code, GPX_OK);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(atomic_load(&pending[i].runs), 0);
		ck_assert_int_eq(atomic_load(&pending[i].dones), 1);
		ck_assert_int_eq(pending[i].code, GPX_UNAVAILABLE);
	}
}
END_TEST

enum { SUBMITTERS = 4, PER_SUBMITTER = 2000 };

typedef struct submitter {
	gpx_queue *q;
	tjob *jobs;
	int full;
} submitter;

static void *submit_all(void *arg)
{
	submitter *s = arg;
	for (int i = 0; i < PER_SUBMITTER; i++) {
		tjob_init(&s->jobs[i], 0);
		if (i % 7 == 0)
			s->jobs[i].job.deadline = gpx_now_mono() + 30;
		if (i % 11 == 0)
			atomic_store(&s->jobs[i].job.cancel, 1);
		while (gpx_queue_submit(s->q, &s->jobs[i].job) == GPX_QUEUE_FULL) {
			s->full++;
			sched_yield();
		}
	}
	return NULL;
}

START_TEST(test_queue_calls_done_exactly_once_for_many_concurrent_jobs)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(4, 16, &q), 0);
	submitter subs[SUBMITTERS];
	pthread_t th[SUBMITTERS];
	for (int i = 0; i < SUBMITTERS; i++) {
		subs[i] = (submitter){.q = q, .jobs = calloc(PER_SUBMITTER, sizeof(tjob))};
		pthread_create(&th[i], NULL, submit_all, &subs[i]);
	}
	for (int i = 0; i < SUBMITTERS; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(gpx_queue_drain(q, 30), 0);
	uint64_t full = 0, canceled = 0;
	for (int i = 0; i < SUBMITTERS; i++) {
		full += (uint64_t)subs[i].full;
		for (int k = 0; k < PER_SUBMITTER; k++) {
			tjob *t = &subs[i].jobs[k];
			ck_assert_int_eq(atomic_load(&t->dones), 1);
			if (k % 11 == 0) {
				ck_assert_int_eq(atomic_load(&t->runs), 0);
				ck_assert_int_eq(t->code, GPX_CANCELED);
				canceled++;
			} else {
				ck_assert_int_eq(atomic_load(&t->runs), 1);
				ck_assert_int_eq(t->code, GPX_OK);
			}
		}
		free(subs[i].jobs);
	}
	gpx_queue_stats s;
	gpx_queue_get_stats(q, &s);
	ck_assert_uint_eq(s.submitted, SUBMITTERS * PER_SUBMITTER);
	ck_assert_uint_eq(s.completed + s.dropped_canceled, SUBMITTERS * PER_SUBMITTER);
	ck_assert_uint_eq(s.dropped_canceled, canceled);
	ck_assert_uint_eq(s.rejected_full, full);
	ck_assert_int_eq(s.depth, 0);
	ck_assert_int_eq(s.busy, 0);
	gpx_queue_destroy(q);
}
END_TEST

static void free_in_done(gpx_job *j, const gpx_status *st)
{
	free(j);
}

START_TEST(test_queue_lets_done_free_the_job)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(2, 64, &q), 0);
	for (int i = 0; i < 50; i++) {
		tjob *t = malloc(sizeof(*t));
		tjob_init(t, 0);
		t->job.done = free_in_done;
		ck_assert_int_eq(gpx_queue_submit(q, &t->job), 0);
	}
	gpx_queue_destroy(q); /* ASan: no leak, no use after free */
}
END_TEST

START_TEST(test_queue_create_refuses_bad_arguments)
{
	gpx_queue *q;
	ck_assert_int_eq(gpx_queue_create(0, 1, &q), -1);
	ck_assert_int_eq(gpx_queue_create(1, 0, &q), -1);
	gpx_queue_opts o = {.band_threads = 2};
	ck_assert_int_eq(gpx_queue_create_opts(1, 1, &o, &q), 0);
	gpx_queue_destroy(q);
	gpx_queue_destroy(NULL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_queue_rejects_when_full_and_counts_it);
	tcase_add_test(tc, test_queue_drops_expired_job_without_running_it);
	tcase_add_test(tc, test_queue_drops_job_cancelled_before_it_runs);
	tcase_add_test(tc, test_queue_passes_run_failure_to_done_and_fills_timings);
	tcase_add_test(tc, test_queue_drain_times_out_while_a_job_runs);
	tcase_add_test(tc, test_queue_destroy_fails_pending_jobs_and_waits_for_running_ones);
	tcase_add_test(tc, test_queue_calls_done_exactly_once_for_many_concurrent_jobs);
	tcase_add_test(tc, test_queue_lets_done_free_the_job);
	tcase_add_test(tc, test_queue_create_refuses_bad_arguments);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
