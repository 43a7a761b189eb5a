/* Tune: an interactive session. Each request changes the pipeline (a
 * parameter, the whole filter list, the image or the preview width); each
 * response is a JPEG preview of the newest state and names the newest seq
 * it reflects. At most one preview job per session runs at a time; requests
 * that arrive meanwhile only update the state, and when the job ends the
 * newest state is rendered next (latest wins, stale states are skipped).
 *
 * The session caches the decoded source and its preview-size copy; only
 * the running job touches them, so no lock is needed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/handlers/handlers.h"
#include "server/handlers/process.h"

#define TUNE_DEFAULT_WIDTH 640
#define TUNE_MAX_WIDTH 4096
#define TUNE_JPEG_QUALITY 80

typedef struct tune {
	gpx_work work;
	gpx_call *call;
	/* The newest state (loop thread). */
	char image_id[GPX_STORE_ID_MAX + 1];
	gpx_pipeline *pipeline;
	gpx_plugin_gen *gen; /* the session's filters, kept until it ends */
	uint32_t width;
	uint32_t seq;
	int dirty;	 /* state newer than the last preview started */
	int busy;	 /* a job runs */
	int half_closed; /* the client sent everything */
	int gone;
	int orphan; /* the call already ended; the job only frees the session */
	/* The running job's input (set before submit, read by the worker). */
	char job_image[GPX_STORE_ID_MAX + 1];
	gpx_pipeline *job_pipeline;
	uint32_t job_width, job_seq;
	double job_started;
	/* Worker-owned caches. */
	char cache_id[GPX_STORE_ID_MAX + 1];
	gpx_image source;
	gpx_image preview;
	uint32_t preview_for;
	/* Job output. */
	gpx_buf jpeg;
	uint32_t out_w, out_h;
	double decode_ms, filter_ms, encode_ms;
} tune;

static void tune_free(tune *t)
{
	gpx_pipeline_free(t->pipeline);
	gpx_pipeline_free(t->job_pipeline);
	gpx_plugin_gen_release(t->gen); /* after the pipelines */
	gpx_image_free(&t->source);
	gpx_image_free(&t->preview);
	gpx_buf_free(&t->jpeg);
	free(t);
}

static void tune_end(tune *t, const gpx_status *status)
{
	gpx_call *c = t->call;
	gpx_status copy = *status; /* status may live inside t */
	const gpx_status *st = &copy;
	c->on_message = NULL;
	c->on_half_close = NULL;
	c->on_cancel = NULL;
	tune_free(t);
	gpx_call_finish(c, st);
}

static int tune_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	tune *t = (tune *)w;
	gpx_engine *e = w->srv->engine;
	double t0 = gpx_now_mono();
	t->decode_ms = 0;
	if (strcmp(t->cache_id, t->job_image) != 0 || !t->source.data) {
		gpx_image_free(&t->source);
		gpx_image_free(&t->preview);
		t->cache_id[0] = '\0';
		gpx_buf src;
		gpx_buf_init(&src, (size_t)w->srv->cfg.max_upload_bytes);
		int rc = gpx_store_read(e->store, t->job_image, &src, NULL, st);
		if (rc == 0)
			rc = gpx_codec_decode_scaled(src.data, src.len, &e->limits, TUNE_MAX_WIDTH,
						     0, &t->source, st);
		gpx_buf_free(&src);
		if (rc < 0)
			return -1;
		snprintf(t->cache_id, sizeof(t->cache_id), "%s", t->job_image);
	}
	if (!t->preview.data || t->preview_for != t->job_width) {
		gpx_image_free(&t->preview);
		uint32_t w2 = t->job_width < t->source.width ? t->job_width : t->source.width;
		uint32_t h2 = (uint32_t)fmax(
			1.0, floor((double)t->source.height * w2 / t->source.width + 0.5));
		if (gpx_resize_to(w->srv, &t->source, w2, h2, NULL, &t->preview, st) < 0)
			return -1;
		t->preview_for = t->job_width;
	}
	t->decode_ms = (gpx_now_mono() - t0) * 1000.0;
	t0 = gpx_now_mono();
	gpx_run_ctx ctx = {.cancel = &w->job.cancel,
			   .deadline = w->job.deadline,
			   .scratch = wc ? wc->scratch : NULL,
			   .max_pixels = e->limits.max_pixels};
	gpx_image out;
	if (gpx_pipeline_run(t->job_pipeline, &t->preview, &out, &ctx, st) < 0)
		return -1;
	t->filter_ms = (gpx_now_mono() - t0) * 1000.0;
	t0 = gpx_now_mono();
	gpx_buf_reset(&t->jpeg);
	int rc = gpx_codec_encode(&out, GPX_FMT_JPEG, TUNE_JPEG_QUALITY, &t->jpeg, st);
	t->out_w = out.width;
	t->out_h = out.height;
	gpx_scratch_image_release(ctx.scratch, &out);
	t->encode_ms = (gpx_now_mono() - t0) * 1000.0;
	return rc;
}

static void tune_kick(tune *t);

static void tune_complete(gpx_work *w, const gpx_status *st)
{
	tune *t = (tune *)w;
	t->busy = 0;
	/* The response names the pipeline this preview was made with. */
	gpx_pipeline *made_with = t->job_pipeline;
	t->job_pipeline = NULL;
	if (t->orphan || t->gone || st->code != GPX_OK)
		gpx_pipeline_free(made_with);
	if (t->orphan) {
		tune_free(t);
		return;
	}
	if (t->gone) {
		gpx_status c = {.code = GPX_CANCELED};
		tune_end(t, &c);
		return;
	}
	if (st->code != GPX_OK) {
		tune_end(t, st);
		return;
	}
	Gpix__V1__Timing tm = GPIX__V1__TIMING__INIT;
	tm.queue_ms = w->job.queue_wait_ms;
	tm.decode_ms = t->decode_ms;
	tm.filter_ms = t->filter_ms;
	tm.encode_ms = t->encode_ms;
	tm.total_ms = (gpx_now_mono() - t->job_started) * 1000.0;
	size_t nsteps = 0;
	Gpix__V1__FilterStep **steps = gpx_pipeline_to_proto(made_with, &nsteps);
	Gpix__V1__TuneResponse r = GPIX__V1__TUNE_RESPONSE__INIT;
	r.preview_chunk.data = t->jpeg.data;
	r.preview_chunk.len = t->jpeg.len;
	r.seq = t->job_seq;
	r.width = (int32_t)t->out_w;
	r.height = (int32_t)t->out_h;
	r.content_type = (char *)"image/jpeg";
	r.timing = &tm;
	r.n_filters = nsteps;
	r.filters = steps;
	gpx_call_send(t->call, &r.base);
	gpx_filter_steps_free(steps, nsteps);
	gpx_pipeline_free(made_with);
	tune_kick(t);
}

/* Starts a preview of the newest state when none runs; ends the call once
 * the client is done and nothing is left to render. */
static void tune_kick(tune *t)
{
	gpx_call *c = t->call;
	if (t->busy)
		return;
	if (!t->dirty) {
		if (t->half_closed) {
			gpx_status ok = {.code = GPX_OK};
			tune_end(t, &ok);
		}
		return;
	}
	gpx_status st = {0};
	if (gpx_pipeline_copy(t->pipeline, &t->job_pipeline, &st) < 0) {
		tune_end(t, &st);
		return;
	}
	snprintf(t->job_image, sizeof(t->job_image), "%s", t->image_id);
	t->job_width = t->width;
	t->job_seq = t->seq;
	t->job_started = gpx_now_mono();
	t->dirty = 0;
	t->work.run = tune_run;
	t->work.complete = tune_complete;
	if (gpx_work_submit(&t->work, c->srv, c->loop, 0, &st) < 0) {
		gpx_pipeline_free(t->job_pipeline);
		t->job_pipeline = NULL;
		tune_end(t, &st);
		return;
	}
	t->busy = 1;
}

static void tune_message(gpx_call *c, ProtobufCMessage *m)
{
	tune *t = c->handler_data;
	Gpix__V1__TuneRequest *req = (Gpix__V1__TuneRequest *)m;
	gpx_status st = {0};
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	if (req->image_id && *req->image_id && strcmp(req->image_id, t->image_id) != 0) {
		gpx_image_meta meta;
		if (!gpx_store_id_valid(req->image_id)) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT, "image_id \"%.80s\" is malformed",
				       req->image_id);
			goto fail;
		}
		if (gpx_store_get(c->srv->engine->store, req->image_id, &meta, &st) < 0)
			goto fail;
		snprintf(t->image_id, sizeof(t->image_id), "%s", req->image_id);
		gpx_logf(GPX_LOG_INFO, f, "Tune: image %s (seq %u)", t->image_id, req->seq);
	}
	if (!t->image_id[0]) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "the first Tune request needs image_id");
		goto fail;
	}
	if (req->n_filters) {
		gpx_pipeline *p;
		if (gpx_pipeline_from_proto(gpx_plugin_gen_filters(t->gen), req->filters,
					    req->n_filters, &p, &st) < 0)
			goto fail;
		gpx_pipeline_free(t->pipeline);
		t->pipeline = p;
		char desc[256];
		gpx_pipeline_describe(p, desc, sizeof(desc));
		gpx_logf(GPX_LOG_INFO, f, "Tune: pipeline %s (seq %u)", desc, req->seq);
	}
	if (req->parameter && *req->parameter) {
		if (gpx_pipeline_set(t->pipeline, req->parameter, req->value, &st) < 0)
			goto fail;
		gpx_logf(GPX_LOG_INFO, f, "Tune: %s = %g (seq %u)", req->parameter, req->value,
			 req->seq);
	}
	if (req->preview_width < 0 || req->preview_width > TUNE_MAX_WIDTH) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "preview_width is %d, outside 0..%d",
			       req->preview_width, TUNE_MAX_WIDTH);
		goto fail;
	}
	if (req->preview_width)
		t->width = (uint32_t)req->preview_width;
	t->seq = req->seq;
	t->dirty = 1;
	protobuf_c_message_free_unpacked(m, NULL);
	tune_kick(t);
	return;
fail:
	protobuf_c_message_free_unpacked(m, NULL);
	if (c->ops->error) {
		/* The session goes on with its previous state. */
		c->ops->error(c, &st);
		return;
	}
	if (t->busy) {
		/* End the call now; the running job frees the session. */
		t->orphan = 1;
		gpx_work_cancel(&t->work);
		c->on_message = NULL;
		c->on_half_close = NULL;
		c->on_cancel = NULL;
		gpx_call_finish(c, &st);
		return;
	}
	tune_end(t, &st);
}

static void tune_half_close(gpx_call *c)
{
	tune *t = c->handler_data;
	t->half_closed = 1;
	tune_kick(t);
}

static void tune_cancel(gpx_call *c)
{
	tune *t = c->handler_data;
	t->gone = 1;
	if (t->busy) {
		gpx_work_cancel(&t->work);
		return; /* tune_complete ends the call */
	}
	gpx_status st = {.code = GPX_CANCELED};
	tune_end(t, &st);
}

static void tune_rpc(gpx_call *c)
{
	tune *t = calloc(1, sizeof(*t));
	gpx_status st = {0};
	if (t)
		t->gen = gpx_plugins_acquire(c->srv->engine->plugins);
	if (!t ||
	    gpx_pipeline_build(gpx_plugin_gen_filters(t->gen), NULL, 0, &t->pipeline, &st) < 0) {
		if (t)
			gpx_plugin_gen_release(t->gen);
		free(t);
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	gpx_buf_init(&t->jpeg, 0);
	t->call = c;
	t->width = TUNE_DEFAULT_WIDTH;
	c->handler_data = t;
	c->on_message = tune_message;
	c->on_half_close = tune_half_close;
	c->on_cancel = tune_cancel;
}

void gpx_handlers_register_tune(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/Tune", tune_rpc);
}
