#include "server/net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/log.h"

typedef struct posted {
	gpx_loop_fn fn;
	void *arg;
	struct posted *next;
} posted;

struct gpx_loop {
	int epfd;
	gpx_watch wake;
	pthread_mutex_t lock;
	posted *head, *tail;
	atomic_int stopping;
	atomic_int wake_pending;
	int tick_ms;
	gpx_loop_fn tick_fn, after_fn;
	void *tick_arg, *after_arg;
	double now, next_tick;
};

static void drain_posted(gpx_loop *l)
{
	pthread_mutex_lock(&l->lock);
	posted *p = l->head;
	l->head = l->tail = NULL;
	atomic_store(&l->wake_pending, 0);
	pthread_mutex_unlock(&l->lock);
	while (p) {
		posted *next = p->next;
		p->fn(p->arg);
		free(p);
		p = next;
	}
}

static void on_wake(gpx_watch *w, uint32_t events)
{
	uint64_t v;
	(void)events;
	while (read(w->fd, &v, sizeof(v)) > 0)
		;
	drain_posted(w->data);
}

gpx_loop *gpx_loop_new(void)
{
	gpx_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		goto fail_ep;
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		goto fail_efd;
	pthread_mutex_init(&l->lock, NULL);
	l->wake.fd = efd;
	l->wake.cb = on_wake;
	l->wake.data = l;
	if (gpx_loop_add(l, &l->wake, EPOLLIN) < 0)
		goto fail_add;
	l->now = gpx_now_mono();
	return l;
fail_add:
	close(efd);
fail_efd:
	close(l->epfd);
fail_ep:
	free(l);
	return NULL;
}

void gpx_loop_free(gpx_loop *l)
{
	if (!l)
		return;
	drain_posted(l);
	close(l->wake.fd);
	close(l->epfd);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int gpx_loop_add(gpx_loop *l, gpx_watch *w, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = w};
	w->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int gpx_loop_mod(gpx_loop *l, gpx_watch *w, uint32_t events)
{
	if (w->events == events)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = w};
	w->events = events;
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void gpx_loop_del(gpx_loop *l, gpx_watch *w)
{
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int gpx_loop_post(gpx_loop *l, gpx_loop_fn fn, void *arg)
{
	posted *p = malloc(sizeof(*p));
	if (!p)
		return -1;
	p->fn = fn;
	p->arg = arg;
	p->next = NULL;
	pthread_mutex_lock(&l->lock);
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->lock);
	/* Coalesce wake-ups: one eventfd write per batch of posts. */
	if (atomic_exchange(&l->wake_pending, 1) == 0) {
		uint64_t one = 1;
		ssize_t r = write(l->wake.fd, &one, sizeof(one));
		(void)r;
	}
	return 0;
}

void gpx_loop_set_tick(gpx_loop *l, int tick_ms, gpx_loop_fn fn, void *arg)
{
	l->tick_ms = tick_ms;
	l->tick_fn = fn;
	l->tick_arg = arg;
	l->next_tick = gpx_now_mono() + tick_ms / 1000.0;
}

void gpx_loop_set_after(gpx_loop *l, gpx_loop_fn fn, void *arg)
{
	l->after_fn = fn;
	l->after_arg = arg;
}

double gpx_loop_now(const gpx_loop *l)
{
	return l->now;
}

void gpx_loop_stop(gpx_loop *l)
{
	atomic_store(&l->stopping, 1);
	uint64_t one = 1;
	ssize_t r = write(l->wake.fd, &one, sizeof(one));
	(void)r;
}

void gpx_loop_run(gpx_loop *l)
{
	struct epoll_event evs[256];
	while (!atomic_load(&l->stopping)) {
		int timeout = -1;
		if (l->tick_fn) {
			double left = l->next_tick - gpx_now_mono();
			timeout = left <= 0 ? 0 : (int)(left * 1000.0) + 1;
		}
		int n = epoll_wait(l->epfd, evs, 256, timeout);
		if (n < 0 && errno != EINTR) {
			gpx_error("epoll_wait: %m");
			break;
		}
		l->now = gpx_now_mono();
		for (int i = 0; i < n; i++) {
			gpx_watch *w = evs[i].data.ptr;
			w->cb(w, evs[i].events);
		}
		if (l->after_fn)
			l->after_fn(l->after_arg);
		if (l->tick_fn && l->now >= l->next_tick) {
			l->next_tick = l->now + l->tick_ms / 1000.0;
			l->tick_fn(l->tick_arg);
			if (l->after_fn)
				l->after_fn(l->after_arg);
		}
	}
	drain_posted(l);
}
