/* The engine as the handlers see it: the store, the filter registry, the
 * job queue and the codec limits, plus the glue that runs a job on a worker
 * and brings its completion back to the I/O loop that owns the call.
 *
 * gpx_work is the unit of heavy work: the handler fills it, gpx_work_submit
 * queues it, the worker runs work->run, and work->complete runs later on the
 * submitting loop's thread (through gpx_loop_post: one eventfd wake-up),
 * never blocking an I/O thread. */
#ifndef GPX_ENGINE_GLUE_H
#define GPX_ENGINE_GLUE_H

#include "codec/codec.h"
#include "engine/filters/filter.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"
#include "engine/queue/queue.h"
#include "engine/store/store.h"
#include "server/net/loop.h"
#include "server/server.h"

typedef struct gpx_engine {
	gpx_store *store;
	gpx_filter_registry *filters; /* the built-ins (jobs use their plugin generation's) */
	gpx_plugins *plugins;	      /* --plugin-dir, reloaded on SIGHUP */
	gpx_queue *queue;
	gpx_codec_limits limits;
	char cpu_model[128];
	char cuda_detail[256];
} gpx_engine;

int gpx_engine_open(gpx_server *srv, gpx_status *st);
void gpx_engine_close(gpx_server *srv);

typedef struct gpx_work gpx_work;
struct gpx_work {
	gpx_job job;
	gpx_loop *loop;
	gpx_server *srv;
	/* On a worker: the heavy part. */
	int (*run)(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st);
	/* On the loop thread, exactly once after submit succeeded. */
	void (*complete)(gpx_work *w, const gpx_status *st);
	gpx_status result;
};

/* Queues w. 0, or -1 with st: resource_exhausted (full) / unavailable. */
int gpx_work_submit(gpx_work *w, gpx_server *srv, gpx_loop *loop, double deadline, gpx_status *st);
/* Sets the job's cancel flag (any thread). */
void gpx_work_cancel(gpx_work *w);

/* Backend names: "" is --backend; "auto" (chosen per image when the job
 * runs) and "cpu" are always fine; a plugin backend ("cuda") must be
 * loaded and available, else failed_precondition saying why; other names
 * are invalid_argument. *picked is a static string or `name`. */
int gpx_engine_pick_backend(gpx_server *srv, const char *name, const char **picked, gpx_status *st);

/* server/handlers/backends.c: the plugin loader in the server. */
int gpx_engine_plugins_open(gpx_server *srv, gpx_engine *e, gpx_status *st);
/* SIGHUP: a new plugin generation for new jobs (engine/plugins/loader.h). */
int gpx_engine_reload(gpx_server *srv, gpx_status *st);
/* A plugin backend name against the current generation (see pick). */
int gpx_engine_check_backend(gpx_server *srv, const char *name, gpx_status *st);
/* Why there is no CUDA backend in generation g (g may be NULL). */
void gpx_engine_cuda_missing(gpx_server *srv, const gpx_plugin_gen *g, char *buf, size_t cap);

#endif
