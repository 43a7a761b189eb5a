#include "engine/filters/bands.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#define BANDS_MAX_THREADS 64

typedef struct helper {
	struct gpx_bands *b;
	int slot;
	pthread_t tid;
} helper;

struct gpx_bands {
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t work_cv; /* helpers wait for a new generation */
	pthread_cond_t done_cv; /* the caller waits for helpers to finish */
	uint64_t generation;
	int stopping;
	int active; /* helpers still inside the current generation */

	/* The current batch; written by the caller before the generation
	 * is published under mu, read-only afterwards. */
	gpx_bands_fn fn;
	void *ud;
	size_t n;
	atomic_size_t next;

	helper *helpers; /* nthreads - 1 */
	int started;
};

static void drain_items(struct gpx_bands *b, int slot)
{
	for (;;) {
		size_t i = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
		if (i >= b->n)
			break;
		b->fn(b->ud, i, slot);
	}
}

static void *helper_main(void *arg)
{
	helper *h = arg;
	struct gpx_bands *b = h->b;
	uint64_t seen = 0;
	pthread_mutex_lock(&b->mu);
	for (;;) {
		while (!b->stopping && b->generation == seen)
			pthread_cond_wait(&b->work_cv, &b->mu);
		if (b->stopping)
			break;
		seen = b->generation;
		pthread_mutex_unlock(&b->mu);
		drain_items(b, h->slot);
		pthread_mutex_lock(&b->mu);
		if (--b->active == 0)
			pthread_cond_signal(&b->done_cv);
	}
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

int gpx_bands_create(int nthreads, gpx_bands **out)
{
	*out = NULL;
	if (nthreads < 1 || nthreads > BANDS_MAX_THREADS)
		return -1;
	struct gpx_bands *b = calloc(1, sizeof(*b));
	if (!b)
		return -1;
	b->nthreads = nthreads;
	if (pthread_mutex_init(&b->mu, NULL) != 0)
		goto fail_alloc;
	if (pthread_cond_init(&b->work_cv, NULL) != 0)
		goto fail_mu;
	if (pthread_cond_init(&b->done_cv, NULL) != 0)
		goto fail_work_cv;
	atomic_init(&b->next, 0);
	if (nthreads > 1) {
		b->helpers = calloc((size_t)nthreads - 1, sizeof(*b->helpers));
		if (!b->helpers)
			goto fail_done_cv;
		for (int i = 0; i < nthreads - 1; i++) {
			b->helpers[i].b = b;
			b->helpers[i].slot = i + 1;
			if (pthread_create(&b->helpers[i].tid, NULL, helper_main, &b->helpers[i]) !=
			    0)
				goto fail_threads;
			b->started++;
		}
	}
	*out = b;
	return 0;

fail_threads:
	gpx_bands_destroy(b);
	return -1;
fail_done_cv:
	pthread_cond_destroy(&b->done_cv);
fail_work_cv:
	pthread_cond_destroy(&b->work_cv);
fail_mu:
	pthread_mutex_destroy(&b->mu);
fail_alloc:
	free(b);
	return -1;
}

int gpx_bands_nthreads(const gpx_bands *b)
{
	return b ? b->nthreads : 1;
}

void gpx_bands_run(gpx_bands *b, gpx_bands_fn fn, void *ud, size_t n)
{
	if (!b || b->started == 0 || n <= 1) {
		for (size_t i = 0; i < n; i++)
			fn(ud, i, 0);
		return;
	}
	pthread_mutex_lock(&b->mu);
	b->fn = fn;
	b->ud = ud;
	b->n = n;
	atomic_store_explicit(&b->next, 0, memory_order_relaxed);
	b->active = b->started;
	b->generation++;
	pthread_cond_broadcast(&b->work_cv);
	pthread_mutex_unlock(&b->mu);

	drain_items(b, 0);

	pthread_mutex_lock(&b->mu);
	while (b->active > 0)
		pthread_cond_wait(&b->done_cv, &b->mu);
	pthread_mutex_unlock(&b->mu);
}

void gpx_bands_destroy(gpx_bands *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = 1;
	pthread_cond_broadcast(&b->work_cv);
	pthread_mutex_unlock(&b->mu);
	for (int i = 0; i < b->started; i++)
		pthread_join(b->helpers[i].tid, NULL);
	free(b->helpers);
	pthread_cond_destroy(&b->done_cv);
	pthread_cond_destroy(&b->work_cv);
	pthread_mutex_destroy(&b->mu);
	free(b);
}
