/* The server context: settings, the method table and the engine, shared by
 * every I/O thread. Built by main before the threads start; read-only after
 * that except for the atomics. */
#ifndef GPX_SERVER_H
#define GPX_SERVER_H

#include <pthread.h>
#include <stdatomic.h>

#include "server/config.h"
#include "server/metrics.h"
#include "server/rpc/methods.h"

struct gpx_io;
struct gpx_engine;

typedef struct gpx_server {
	gpx_config cfg;
	gpx_methods methods;
	double started_wall; /* unix seconds */
	atomic_int draining; /* SIGTERM received: health reports NOT_SERVING */
	atomic_long connections;
	atomic_ulong request_seq;
	struct gpx_engine *engine; /* store, codecs, filters, queue (may be NULL in tests) */
	struct gpx_io **ios;
	int nios;
	gpx_metrics metrics;
	/* Open health Watch streams, told NOT_SERVING when draining. */
	pthread_mutex_t watch_lock;
	struct gpx_watcher *watchers;
} gpx_server;

#endif
