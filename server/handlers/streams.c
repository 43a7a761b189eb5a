/* The streaming RPCs: Upload (client stream), Process (server stream with
 * real progress from the engine) and health Watch. Tune has its own file. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "grpc/health/v1/health.pb-c.h"
#include "server/handlers/handlers.h"
#include "server/handlers/process.h"

/* ------------------------------------------------------------ Process */

/* Percent ranges of the stages: queued 0, decode 2..10, filters 10..85
 * (split evenly across steps, advanced per row band), encode 85..95, save
 * 95..99, done 100. */
typedef struct progress_msg {
	struct process_stream *ps;
	int percent;
	char stage[32];
} progress_msg;

typedef struct process_stream {
	gpx_work work;
	gpx_call *call;
	gpx_proc proc;
	double started;
	size_t nsteps;
	atomic_int posted_percent; /* highest percent posted to the loop */
	atomic_int inflight;	   /* progress messages posted, not yet run */
	int sent_percent;	   /* loop side: highest percent sent */
	int completed;		   /* loop side: the job is done */
	gpx_status final;
} process_stream;

static void ps_send(process_stream *ps, int percent, const char *stage)
{
	if (percent <= ps->sent_percent && percent != 100)
		return;
	ps->sent_percent = percent;
	char status[32];
	snprintf(status, sizeof(status), "%d%% complete", percent);
	Gpix__V1__ProcessResponse r = GPIX__V1__PROCESS_RESPONSE__INIT;
	r.percent = percent;
	r.status = status;
	r.stage = (char *)stage;
	gpx_call_send(ps->call, &r.base);
}

static void ps_finish(process_stream *ps)
{
	gpx_call *c = ps->call;
	const gpx_status *st = &ps->final;
	if (st->code == GPX_OK && !atomic_load(&c->gone)) {
		Gpix__V1__Timing t = GPIX__V1__TIMING__INIT;
		t.queue_ms = ps->work.job.queue_wait_ms;
		t.decode_ms = ps->proc.decode_ms;
		t.filter_ms = ps->proc.filter_ms;
		t.encode_ms = ps->proc.encode_ms;
		t.total_ms = (gpx_now_mono() - ps->started) * 1000.0;
		Gpix__V1__ProcessResponse r = GPIX__V1__PROCESS_RESPONSE__INIT;
		r.percent = 100;
		r.status = (char *)"100% complete";
		r.stage = (char *)"done";
		r.result_image_id = ps->proc.saved.id;
		r.timing = &t;
		gpx_call_send(c, &r.base);
		gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
		gpx_logf(GPX_LOG_INFO, f, "Process completed: result %s in %.1f ms",
			 ps->proc.saved.id, t.total_ms);
	}
	gpx_call_finish(c, st);
	gpx_proc_clear(&ps->proc);
	free(ps);
}

static void ps_progress_on_loop(void *arg)
{
	progress_msg *m = arg;
	process_stream *ps = m->ps;
	if (!atomic_load(&ps->call->gone))
		ps_send(ps, m->percent, m->stage);
	free(m);
	/* The completion waits for the progress messages posted before it. */
	if (atomic_fetch_sub(&ps->inflight, 1) == 1 && ps->completed)
		ps_finish(ps);
}

/* Worker side: post only when the percent grows. */
static void ps_post(process_stream *ps, int percent, const char *stage)
{
	int prev = atomic_load(&ps->posted_percent);
	if (percent <= prev)
		return;
	atomic_store(&ps->posted_percent, percent);
	progress_msg *m = malloc(sizeof(*m));
	if (!m)
		return;
	m->ps = ps;
	m->percent = percent;
	snprintf(m->stage, sizeof(m->stage), "%s", stage);
	atomic_fetch_add(&ps->inflight, 1);
	if (gpx_loop_post(ps->work.loop, ps_progress_on_loop, m) < 0) {
		atomic_fetch_sub(&ps->inflight, 1);
		free(m);
	}
}

static void ps_stage(void *ud, const char *stage)
{
	process_stream *ps = ud;
	int pct = !strcmp(stage, "decode") ? 2 : !strcmp(stage, "encode") ? 85 : 95;
	ps_post(ps, pct, stage);
}

static void ps_filter_progress(void *ud, int step, const char *stage, double frac)
{
	process_stream *ps = ud;
	double span = 75.0 / (double)(ps->nsteps ? ps->nsteps : 1);
	int pct = 10 + (int)(span * ((double)step + frac));
	if (pct > 85)
		pct = 85;
	ps_post(ps, pct, stage);
}

static int ps_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	process_stream *ps = (process_stream *)w;
	int rc = gpx_proc_run(w->srv, &ps->proc, wc, &w->job.cancel, w->job.deadline, st);
	if (rc == 0)
		ps_post(ps, 99, "save");
	return rc;
}

static void ps_complete(gpx_work *w, const gpx_status *st)
{
	process_stream *ps = (process_stream *)w;
	ps->final = *st;
	ps->completed = 1;
	if (atomic_load(&ps->inflight) == 0)
		ps_finish(ps);
}

static void ps_cancel(gpx_call *c)
{
	gpx_work_cancel(c->handler_data);
}

static void process(gpx_call *c)
{
	const Gpix__V1__ProcessRequest *req = (const Gpix__V1__ProcessRequest *)c->request;
	gpx_status st = {0};
	process_stream *ps = calloc(1, sizeof(*ps));
	if (!ps) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	gpx_proc_init(&ps->proc);
	ps->call = c;
	ps->started = gpx_now_mono();
	ps->sent_percent = -1;
	atomic_store(&ps->posted_percent, 0);
	gpx_image_meta meta;
	if (!req->image_id || !*req->image_id) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "image_id is required");
		goto fail;
	}
	if (!gpx_store_id_valid(req->image_id)) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "image_id \"%.80s\" is malformed",
			       req->image_id);
		goto fail;
	}
	if (gpx_store_get(c->srv->engine->store, req->image_id, &meta, &st) < 0 ||
	    gpx_proc_pick_backend(c->srv, &ps->proc, req->backend, &st) < 0 ||
	    gpx_pipeline_from_proto(gpx_proc_filters(c->srv, &ps->proc), req->filters,
				    req->n_filters, &ps->proc.pipeline, &st) < 0 ||
	    gpx_proc_output_from_proto(&ps->proc, req->output, &st) < 0)
		goto fail;
	snprintf(ps->proc.image_id, sizeof(ps->proc.image_id), "%s", req->image_id);
	snprintf(ps->proc.save_name, sizeof(ps->proc.save_name), "%s", meta.name);
	ps->proc.save = 1;
	ps->proc.progress = ps_filter_progress;
	ps->proc.on_stage = ps_stage;
	ps->proc.progress_ud = ps;
	ps->nsteps = gpx_pipeline_len(ps->proc.pipeline);
	ps->work.run = ps_run;
	ps->work.complete = ps_complete;
	char desc[256];
	gpx_pipeline_describe(ps->proc.pipeline, desc, sizeof(desc));
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "Process started: %s with %s", req->image_id, desc);
	if (gpx_work_submit(&ps->work, c->srv, c->loop, c->deadline, &st) < 0)
		goto fail;
	c->handler_data = &ps->work;
	c->on_cancel = ps_cancel;
	ps_send(ps, 0, "queued");
	return;
fail:
	gpx_proc_clear(&ps->proc);
	free(ps);
	gpx_call_finish(c, &st);
}

/* ------------------------------------------------------------ Upload */

typedef struct upload {
	gpx_work work;
	gpx_call *call;
	int fd;
	char tmp[1024];
	char name[GPX_STORE_NAME_MAX];
	char sha256[72];
	int64_t expected;
	uint64_t received;
	int nmsg;
	int submitted;
	gpx_image_meta meta;
	double started;
} upload;

static void up_discard(upload *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
	if (u->tmp[0] && !u->submitted)
		unlink(u->tmp);
	u->tmp[0] = '\0';
}

static void up_fail(upload *u, const gpx_status *status)
{
	gpx_call *c = u->call;
	gpx_status copy = *status; /* status may live inside u */
	const gpx_status *st = &copy;
	up_discard(u);
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_WARN, f, "Upload failed: %s", st->msg);
	c->on_message = NULL;
	c->on_half_close = NULL;
	c->on_cancel = NULL;
	free(u);
	gpx_call_finish(c, st);
}

static void up_message(gpx_call *c, ProtobufCMessage *m)
{
	upload *u = c->handler_data;
	Gpix__V1__UploadRequest *req = (Gpix__V1__UploadRequest *)m;
	gpx_status st = {0};
	uint64_t limit = (uint64_t)c->srv->cfg.max_upload_bytes;
	if (u->nmsg++ == 0) {
		snprintf(u->name, sizeof(u->name), "%s", req->filename ? req->filename : "");
		snprintf(u->sha256, sizeof(u->sha256), "%s", req->sha256 ? req->sha256 : "");
		u->expected = req->size_bytes;
		if (u->expected < 0 || (uint64_t)u->expected > limit) {
			gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED,
				       "upload of %lld bytes is over the limit of %llu bytes",
				       (long long)u->expected, (unsigned long long)limit);
			goto fail;
		}
		u->fd = gpx_store_tmpfile(c->srv->engine->store, u->tmp, sizeof(u->tmp), &st);
		if (u->fd < 0)
			goto fail;
		gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
		gpx_logf(GPX_LOG_INFO, f, "Upload started: %s (%lld bytes expected)",
			 u->name[0] ? u->name : "(unnamed)", (long long)u->expected);
	}
	if (u->received + req->chunk.len > limit) {
		gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED,
			       "upload is over the limit of %llu bytes", (unsigned long long)limit);
		goto fail;
	}
	for (size_t off = 0; off < req->chunk.len;) {
		ssize_t w = write(u->fd, req->chunk.data + off, req->chunk.len - off);
		if (w < 0) {
			gpx_status_set(&st, GPX_INTERNAL, "cannot write the upload: %m");
			goto fail;
		}
		off += (size_t)w;
	}
	u->received += req->chunk.len;
	atomic_fetch_add(&c->srv->metrics.upload_bytes, req->chunk.len);
	protobuf_c_message_free_unpacked(m, NULL);
	return;
fail:
	protobuf_c_message_free_unpacked(m, NULL);
	up_fail(u, &st);
}

static int up_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	upload *u = (upload *)w;
	(void)wc;
	/* The store takes the temp file whatever happens. */
	return gpx_store_put_file(w->srv->engine->store, u->tmp, u->name, GPX_SRC_UPLOAD,
				  (uint64_t)u->expected, u->sha256, &u->meta, st);
}

static void up_complete(gpx_work *w, const gpx_status *st)
{
	upload *u = (upload *)w;
	gpx_call *c = u->call;
	/* A job that ran handed the temp file to the store; one dropped from
	 * the queue (cancelled, deadline) did not. */
	if (w->job.started_at == 0)
		unlink(u->tmp);
	u->tmp[0] = '\0';
	if (st->code != GPX_OK) {
		up_fail(u, st);
		return;
	}
	if (atomic_load(&c->gone)) {
		/* The client cancelled while the image was being stored: an
		 * aborted upload leaves nothing behind. */
		gpx_status del;
		gpx_store_delete(c->srv->engine->store, u->meta.id, &del);
		gpx_status canceled;
		gpx_status_set(&canceled, GPX_CANCELED, "upload cancelled by the client");
		up_fail(u, &canceled);
		return;
	}
	char path[1200];
	if (gpx_store_path(c->srv->engine->store, u->meta.id, path, sizeof(path), NULL) < 0)
		snprintf(path, sizeof(path), "%s", u->meta.id);
	gpx_log_field f[] = {{"request_id", c->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "Upload completed: %s", path);
	Gpix__V1__Image img = GPIX__V1__IMAGE__INIT;
	Google__Protobuf__Timestamp ts = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	char url[GPX_STORE_ID_MAX + 32];
	snprintf(url, sizeof(url), "/v1/images/%s/content", u->meta.id);
	img.id = u->meta.id;
	img.name = u->meta.name;
	img.format = (Gpix__V1__ImageFormat)u->meta.format;
	img.width = (int32_t)u->meta.width;
	img.height = (int32_t)u->meta.height;
	img.size_bytes = (int64_t)u->meta.size_bytes;
	img.sha256 = u->meta.sha256;
	img.source = (Gpix__V1__ImageSource)u->meta.source;
	ts.seconds = (int64_t)u->meta.created_at;
	ts.nanos = (int32_t)((u->meta.created_at - (double)ts.seconds) * 1e9);
	img.created_at = &ts;
	img.content_url = url;
	Gpix__V1__UploadResponse r = GPIX__V1__UPLOAD_RESPONSE__INIT;
	r.image_id = u->meta.id;
	r.image = &img;
	gpx_call_reply(c, &r.base); /* r points into u: reply first */
	free(u);
}

static void up_half_close(gpx_call *c)
{
	upload *u = c->handler_data;
	gpx_status st = {0};
	if (u->nmsg == 0 || u->fd < 0) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "empty upload: send at least one chunk");
		up_fail(u, &st);
		return;
	}
	if (fsync(u->fd) < 0 || close(u->fd) < 0) {
		u->fd = -1;
		gpx_status_set(&st, GPX_INTERNAL, "cannot flush the upload: %m");
		up_fail(u, &st);
		return;
	}
	u->fd = -1;
	u->work.run = up_run;
	u->work.complete = up_complete;
	u->submitted = 1;
	if (gpx_work_submit(&u->work, c->srv, c->loop, c->deadline, &st) < 0) {
		u->submitted = 0;
		up_fail(u, &st);
	}
}

static void up_cancel(gpx_call *c)
{
	upload *u = c->handler_data;
	if (u->submitted) {
		gpx_work_cancel(&u->work); /* up_complete finishes (and the store cleans up) */
		return;
	}
	gpx_status st;
	gpx_status_set(&st, GPX_CANCELED, "client went away mid-upload");
	up_fail(u, &st); /* removes the temp file: nothing half-written stays */
}

static void upload_rpc(gpx_call *c)
{
	upload *u = calloc(1, sizeof(*u));
	if (!u) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	u->fd = -1;
	u->call = c;
	u->started = gpx_now_mono();
	c->handler_data = u;
	c->on_message = up_message;
	c->on_half_close = up_half_close;
	c->on_cancel = up_cancel;
}

/* ------------------------------------------------------------ health Watch */

typedef struct gpx_watcher {
	gpx_call *call;
	int known;
	struct gpx_watcher *next;
} watcher;

static void watch_send(gpx_call *c, int known)
{
	Grpc__Health__V1__HealthCheckResponse r = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
	if (!known)
		r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN;
	else if (atomic_load(&c->srv->draining))
		r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING;
	else
		r.status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	gpx_call_send(c, &r.base);
}

static void watch_remove(gpx_call *c)
{
	gpx_server *srv = c->srv;
	pthread_mutex_lock(&srv->watch_lock);
	for (watcher **p = &srv->watchers; *p; p = &(*p)->next)
		if ((*p)->call == c) {
			watcher *w = *p;
			*p = w->next;
			free(w);
			break;
		}
	pthread_mutex_unlock(&srv->watch_lock);
}

static void watch_cancel(gpx_call *c)
{
	watch_remove(c);
	gpx_call_fail(c, GPX_CANCELED, "watch cancelled");
}

void gpx_health_drain(gpx_server *srv, gpx_loop *loop)
{
	/* Runs on each I/O loop when draining starts: tell its watchers, then
	 * end their streams so the drain can finish. */
	for (;;) {
		gpx_call *c = NULL;
		int known = 0;
		pthread_mutex_lock(&srv->watch_lock);
		for (watcher **p = &srv->watchers; *p; p = &(*p)->next)
			if ((*p)->call->loop == loop) {
				watcher *w = *p;
				*p = w->next;
				c = w->call;
				known = w->known;
				free(w);
				break;
			}
		pthread_mutex_unlock(&srv->watch_lock);
		if (!c)
			return;
		watch_send(c, known);
		gpx_status ok = {.code = GPX_OK};
		gpx_call_finish(c, &ok);
	}
}

static void watch(gpx_call *c)
{
	const Grpc__Health__V1__HealthCheckRequest *req =
		(const Grpc__Health__V1__HealthCheckRequest *)c->request;
	int known =
		!req->service || !*req->service || !strcmp(req->service, "gpix.v1.ImageService");
	watcher *w = calloc(1, sizeof(*w));
	if (!w) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	watch_send(c, known);
	if (atomic_load(&c->srv->draining)) {
		free(w);
		gpx_status ok = {.code = GPX_OK};
		gpx_call_finish(c, &ok);
		return;
	}
	w->call = c;
	w->known = known;
	c->on_cancel = watch_cancel;
	pthread_mutex_lock(&c->srv->watch_lock);
	w->next = c->srv->watchers;
	c->srv->watchers = w;
	pthread_mutex_unlock(&c->srv->watch_lock);
}

void gpx_handlers_register_streams(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/Process", process);
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/Upload", upload_rpc);
	gpx_methods_set_handler(&srv->methods, "grpc.health.v1.Health/Watch", watch);
}
