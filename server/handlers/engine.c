#include "server/handlers/engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

static void read_cpu_model(char *out, size_t cap)
{
	snprintf(out, cap, "unknown CPU");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10) != 0)
			continue;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, cap, "%s", colon);
		break;
	}
	fclose(f);
}

int gpx_engine_open(gpx_server *srv, gpx_status *st)
{
	gpx_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	gpx_codec_limits_default(&e->limits);
	e->limits.max_pixels = (uint64_t)srv->cfg.max_pixels;
	read_cpu_model(e->cpu_model, sizeof(e->cpu_model));
	snprintf(e->cuda_detail, sizeof(e->cuda_detail),
		 "no CUDA backend plugin loaded (build with nvcc and point --plugin-dir at it)");
	if (gpx_store_open(&e->store, srv->cfg.data_dir, srv->cfg.store_dir, &e->limits, st) < 0)
		goto fail;
	if (gpx_filter_registry_create(&e->filters) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot create the filter registry");
		goto fail_store;
	}
	if (gpx_engine_plugins_open(srv, e, st) < 0)
		goto fail_filters;
	if (gpx_queue_create(srv->cfg.workers, srv->cfg.queue_depth, &e->queue) < 0) {
		gpx_status_set(st, GPX_INTERNAL, "cannot start %d worker threads",
			       srv->cfg.workers);
		goto fail_plugins;
	}
	srv->engine = e;
	gpx_info("store: %zu samples, %zu uploads, %zu results; %zu filters; %d workers, queue %d",
		 gpx_store_count(e->store, GPX_SRC_SAMPLE),
		 gpx_store_count(e->store, GPX_SRC_UPLOAD),
		 gpx_store_count(e->store, GPX_SRC_RESULT), gpx_filter_registry_count(e->filters),
		 srv->cfg.workers, srv->cfg.queue_depth);
	return 0;
fail_plugins:
	gpx_plugins_close(e->plugins);
fail_filters:
	gpx_filter_registry_free(e->filters);
fail_store:
	gpx_store_close(e->store);
fail:
	free(e);
	return -1;
}

void gpx_engine_close(gpx_server *srv)
{
	gpx_engine *e = srv->engine;
	if (!e)
		return;
	gpx_queue_destroy(e->queue);
	/* Generations still held by unfinished calls go with their last job. */
	gpx_plugins_close(e->plugins);
	gpx_filter_registry_free(e->filters);
	gpx_store_close(e->store);
	free(e);
	srv->engine = NULL;
}

static int job_run(gpx_job *job, gpx_worker_ctx *wc, gpx_status *st)
{
	gpx_work *w = (gpx_work *)job;
	return w->run(w, wc, st);
}

static void on_loop(void *arg)
{
	gpx_work *w = arg;
	w->complete(w, &w->result);
}

static void job_done(gpx_job *job, const gpx_status *st)
{
	gpx_work *w = (gpx_work *)job;
	w->result = *st;
	/* Back to the loop that owns the call; never touch its state here. */
	if (gpx_loop_post(w->loop, on_loop, w) < 0)
		gpx_error("cannot post a job completion: out of memory");
}

int gpx_work_submit(gpx_work *w, gpx_server *srv, gpx_loop *loop, double deadline, gpx_status *st)
{
	gpx_job_init(&w->job, job_run, job_done, w);
	w->job.deadline = deadline;
	w->loop = loop;
	w->srv = srv;
	int rc = gpx_queue_submit(srv->engine->queue, &w->job);
	if (rc == GPX_QUEUE_FULL)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
				      "the job queue is full (%d waiting): retry later",
				      srv->cfg.queue_depth);
	if (rc != 0)
		return gpx_status_set(st, GPX_UNAVAILABLE, "the server is shutting down");
	return 0;
}

void gpx_work_cancel(gpx_work *w)
{
	atomic_store(&w->job.cancel, 1);
}

int gpx_engine_pick_backend(gpx_server *srv, const char *name, const char **picked, gpx_status *st)
{
	if (!name || !*name || !strcmp(name, "auto"))
		name = srv->cfg.backend;
	if (!strcmp(name, "auto") || !strcmp(name, "cpu")) {
		*picked = name[0] == 'a' ? "auto" : "cpu";
		return 0;
	}
	if (gpx_engine_check_backend(srv, name, st) < 0)
		return -1;
	*picked = name;
	return 0;
}
