/* A small epoll event loop: one per I/O thread, owning every socket it serves.
 *
 * Watches fds (edge-free, level-triggered), runs a periodic tick for
 * timeouts, and accepts work posted from other threads (gpx_loop_post),
 * which is the only thread-safe call: worker threads hand results back this
 * way, through one eventfd wake-up, never by touching loop state. */
#ifndef GPX_LOOP_H
#define GPX_LOOP_H

#include <stdint.h>

typedef struct gpx_loop gpx_loop;
typedef struct gpx_watch gpx_watch;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
typedef void (*gpx_watch_cb)(gpx_watch *w, uint32_t events);

struct gpx_watch {
	int fd;
	uint32_t events; /* what is registered now */
	gpx_watch_cb cb;
	void *data;
};

typedef void (*gpx_loop_fn)(void *arg);

gpx_loop *gpx_loop_new(void);
void gpx_loop_free(gpx_loop *l);

/* Register/modify/remove a watch; the caller owns the gpx_watch memory and
 * keeps it alive until gpx_loop_del. */
int gpx_loop_add(gpx_loop *l, gpx_watch *w, uint32_t events);
int gpx_loop_mod(gpx_loop *l, gpx_watch *w, uint32_t events);
void gpx_loop_del(gpx_loop *l, gpx_watch *w);

/* Runs fn(arg) on the loop thread soon. Thread-safe; -1 when out of memory. */
int gpx_loop_post(gpx_loop *l, gpx_loop_fn fn, void *arg);

/* Called every tick_ms milliseconds on the loop thread (timeouts, sweeps). */
void gpx_loop_set_tick(gpx_loop *l, int tick_ms, gpx_loop_fn fn, void *arg);

/* Called after each batch of events: where connections flush their output
 * once per iteration. */
void gpx_loop_set_after(gpx_loop *l, gpx_loop_fn fn, void *arg);

/* Runs until gpx_loop_stop (thread-safe). */
void gpx_loop_run(gpx_loop *l);
void gpx_loop_stop(gpx_loop *l);

/* Monotonic time cached at the start of the current iteration (seconds). */
double gpx_loop_now(const gpx_loop *l);

#endif
