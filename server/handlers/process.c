#include "server/handlers/process.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/url.h"
#include "server/rpc/connect.h"
#include "server/rpc/router.h"

void gpx_proc_init(gpx_proc *p)
{
	memset(p, 0, sizeof(*p));
	gpx_buf_init(&p->out, 0);
}

void gpx_proc_clear(gpx_proc *p)
{
	gpx_pipeline_free(p->pipeline);
	p->pipeline = NULL;
	gpx_plugin_gen_release(p->gen); /* after the pipeline that points into it */
	p->gen = NULL;
	gpx_buf_free(&p->out);
}

static double ms_since(double t0)
{
	return (gpx_now_mono() - t0) * 1000.0;
}

int gpx_resize_to(gpx_server *srv, const gpx_image *in, uint32_t w, uint32_t h,
		  const gpx_run_ctx *ctx, gpx_image *out, gpx_status *st)
{
	gpx_step_param prm[] = {
		{"width", {.kind = GPX_VALUE_NUMBER, .num = w}},
		{"height", {.kind = GPX_VALUE_NUMBER, .num = h}},
		{"keep_aspect", {.kind = GPX_VALUE_BOOL, .b = 0}},
		{"filter", {.kind = GPX_VALUE_STRING, .str = "bilinear"}},
	};
	gpx_step_spec spec = {"resize", prm, 4};
	gpx_pipeline *rp;
	if (gpx_pipeline_build(srv->engine->filters, &spec, 1, &rp, st) < 0)
		return -1;
	int rc = gpx_pipeline_run(rp, in, out, ctx, st);
	gpx_pipeline_free(rp);
	return rc;
}

/* Downscale to fit max_width x max_height, keeping the aspect ratio. */
static int fit(gpx_server *srv, gpx_proc *p, gpx_image *img, const gpx_run_ctx *ctx, gpx_status *st)
{
	uint32_t mw = p->max_width ? p->max_width : img->width;
	uint32_t mh = p->max_height ? p->max_height : img->height;
	if (img->width <= mw && img->height <= mh)
		return 0;
	double s = fmin((double)mw / img->width, (double)mh / img->height);
	gpx_image out;
	if (gpx_resize_to(srv, img, (uint32_t)fmax(1.0, floor(img->width * s + 0.5)),
			  (uint32_t)fmax(1.0, floor(img->height * s + 0.5)), ctx, &out, st) < 0)
		return -1;
	gpx_scratch_image_release(ctx->scratch, img);
	*img = out;
	return 0;
}

int gpx_proc_run(gpx_server *srv, gpx_proc *p, gpx_worker_ctx *wc, const atomic_int *cancel,
		 double deadline, gpx_status *st)
{
	gpx_engine *e = srv->engine;
	gpx_buf src;
	gpx_buf_init(&src, (size_t)srv->cfg.max_upload_bytes);
	const uint8_t *data = p->data;
	size_t len = p->len;
	int rc = -1;
	gpx_image in = {0}, out = {0};
	if (p->image_id[0]) {
		if (gpx_store_read(e->store, p->image_id, &src, NULL, st) < 0)
			goto done;
		data = src.data;
		len = src.len;
	}
	if (p->on_stage)
		p->on_stage(p->progress_ud, "decode");
	double t = gpx_now_mono();
	gpx_codec_info info;
	if (gpx_codec_probe(data, len, &info, st) < 0)
		goto done;
	if (gpx_codec_decode(data, len, &e->limits, &in, st) < 0)
		goto done;
	p->decode_ms = ms_since(t);
	gpx_buf_free(&src);

	t = gpx_now_mono();
	gpx_run_ctx ctx = {
		.progress = p->progress,
		.progress_ud = p->progress_ud,
		.cancel = cancel,
		.deadline = deadline,
		.scratch = wc ? wc->scratch : NULL,
		.bands = wc ? wc->bands : NULL,
		.max_pixels = e->limits.max_pixels,
	};
	if (gpx_backend_exec(p->gen, p->backend, p->pipeline, &in, &out, &ctx, &p->ran_on, st) < 0)
		goto done;
	gpx_image_free(&in);
	if ((p->max_width || p->max_height) && fit(srv, p, &out, &ctx, st) < 0)
		goto done;
	p->filter_ms = ms_since(t);
	/* Per-step timing is not split out by the pipeline: each step of the
	 * job is counted once and observes the whole filter stage. */
	for (size_t i = 0; i < gpx_pipeline_len(p->pipeline); i++)
		gpx_metrics_filter(&srv->metrics, p->ran_on,
				   gpx_pipeline_step_filter(p->pipeline, i)->name,
				   p->filter_ms / 1000.0);

	if (p->on_stage)
		p->on_stage(p->progress_ud, "encode");
	t = gpx_now_mono();
	p->format = p->out_format ? p->out_format : info.format;
	p->width = out.width;
	p->height = out.height;
	gpx_buf_reset(&p->out);
	if (gpx_codec_encode(&out, p->format, p->quality, &p->out, st) < 0)
		goto done;
	p->encode_ms = ms_since(t);

	if (p->save) {
		if (p->on_stage)
			p->on_stage(p->progress_ud, "save");
		t = gpx_now_mono();
		if (gpx_store_put(e->store, p->out.data, p->out.len, p->save_name, GPX_SRC_RESULT,
				  &p->saved, st) < 0)
			goto done;
		p->save_ms = ms_since(t);
	}
	rc = 0;
done:
	gpx_buf_free(&src);
	gpx_image_free(&in);
	if (out.data)
		gpx_scratch_image_release(wc ? wc->scratch : NULL, &out);
	return rc;
}

/* ------------------------------------------------------------ proto glue */

int gpx_pipeline_from_proto(const gpx_filter_registry *reg, Gpix__V1__FilterStep **steps, size_t n,
			    gpx_pipeline **out, gpx_status *st)
{
	if (n > GPX_PIPELINE_MAX_STEPS)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "at most %d filters in a pipeline",
				      GPX_PIPELINE_MAX_STEPS);
	gpx_step_spec specs[GPX_PIPELINE_MAX_STEPS] = {0};
	gpx_step_param *params[GPX_PIPELINE_MAX_STEPS] = {0};
	int rc = -1;
	for (size_t i = 0; i < n; i++) {
		const Gpix__V1__FilterStep *s = steps[i];
		specs[i].filter = s->name ? s->name : "";
		specs[i].nparams = s->n_params;
		specs[i].params = NULL;
		if (!s->n_params)
			continue;
		params[i] = calloc(s->n_params, sizeof(gpx_step_param));
		if (!params[i]) {
			gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			goto out;
		}
		for (size_t k = 0; k < s->n_params; k++) {
			const Google__Protobuf__Value *v = s->params[k]->value;
			gpx_step_param *sp = &params[i][k];
			sp->name = s->params[k]->key ? s->params[k]->key : "";
			if (!v || v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE ||
			    v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET) {
				sp->value.kind = GPX_VALUE_NULL;
			} else if (v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE) {
				sp->value.kind = GPX_VALUE_NUMBER;
				sp->value.num = v->number_value;
			} else if (v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE) {
				sp->value.kind = GPX_VALUE_BOOL;
				sp->value.b = v->bool_value ? 1 : 0;
			} else if (v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE) {
				sp->value.kind = GPX_VALUE_STRING;
				sp->value.str = v->string_value ? v->string_value : "";
			} else {
				gpx_status_set(
					st, GPX_INVALID_ARGUMENT,
					"parameter \"%s.%s\" must be a number, bool or string",
					specs[i].filter, sp->name);
				goto out;
			}
		}
		specs[i].params = params[i];
	}
	rc = gpx_pipeline_build(reg, specs, n, out, st);
out:
	for (size_t i = 0; i < n; i++)
		free(params[i]);
	return rc;
}

Gpix__V1__FilterStep **gpx_pipeline_to_proto(const gpx_pipeline *p, size_t *n)
{
	size_t len = gpx_pipeline_len(p);
	*n = 0;
	Gpix__V1__FilterStep **steps = calloc(len ? len : 1, sizeof(*steps));
	if (!steps)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		const gpx_filter_def *d = gpx_pipeline_step_filter(p, i);
		Gpix__V1__FilterStep *s = calloc(1, sizeof(*s));
		if (!s)
			break;
		gpix__v1__filter_step__init(s);
		s->name = (char *)d->name;
		s->params = calloc(d->nparams ? d->nparams : 1, sizeof(*s->params));
		for (size_t k = 0; s->params && k < d->nparams; k++) {
			Gpix__V1__FilterStep__ParamsEntry *e = calloc(1, sizeof(*e));
			Google__Protobuf__Value *v = calloc(1, sizeof(*v));
			if (!e || !v) {
				free(e);
				free(v);
				break;
			}
			gpix__v1__filter_step__params_entry__init(e);
			google__protobuf__value__init(v);
			gpx_param_value pv;
			gpx_pipeline_step_param(p, i, k, &pv);
			if (pv.kind == GPX_VALUE_BOOL) {
				v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
				v->bool_value = pv.b;
			} else if (pv.kind == GPX_VALUE_STRING) {
				v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
				v->string_value = (char *)pv.str;
			} else {
				v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
				v->number_value = pv.num;
			}
			e->key = (char *)d->params[k].name;
			e->value = v;
			s->params[s->n_params++] = e;
		}
		steps[(*n)++] = s;
	}
	return steps;
}

void gpx_filter_steps_free(Gpix__V1__FilterStep **steps, size_t n)
{
	for (size_t i = 0; steps && i < n; i++) {
		for (size_t k = 0; k < steps[i]->n_params; k++) {
			free(steps[i]->params[k]->value);
			free(steps[i]->params[k]);
		}
		free(steps[i]->params);
		free(steps[i]);
	}
	free(steps);
}

int gpx_proc_output_from_proto(gpx_proc *p, const Gpix__V1__OutputOptions *o, gpx_status *st)
{
	if (!o)
		return 0;
	if (o->format != GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_UNSPECIFIED &&
	    o->format != GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_JPEG &&
	    o->format != GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "output.format %d is not supported",
				      o->format);
	if (o->quality < 0 || o->quality > 100)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "output.quality is %d, outside 1..100 (0: default)",
				      o->quality);
	if (o->max_width < 0 || o->max_height < 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "output.max_width and max_height must not be negative");
	p->out_format = (int)o->format;
	p->quality = o->quality;
	p->max_width = (uint32_t)o->max_width;
	p->max_height = (uint32_t)o->max_height;
	return 0;
}

/* ------------------------------------------------------------ ProcessImage */

typedef struct process_call {
	gpx_work work;
	gpx_call *call;
	gpx_proc proc;
	double started;
} process_call;

static int process_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	process_call *pc = (process_call *)w;
	return gpx_proc_run(w->srv, &pc->proc, wc, &w->job.cancel, w->job.deadline, st);
}

static void fill_timing(Gpix__V1__Timing *t, const gpx_proc *p, const gpx_job *job, double started)
{
	t->queue_ms = job->queue_wait_ms;
	t->decode_ms = p->decode_ms;
	t->filter_ms = p->filter_ms;
	t->encode_ms = p->encode_ms;
	t->total_ms = ms_since(started);
}

static void process_complete(gpx_work *w, const gpx_status *st)
{
	process_call *pc = (process_call *)w;
	gpx_call *c = pc->call;
	if (st->code != GPX_OK) {
		gpx_call_finish(c, st);
	} else {
		Gpix__V1__Timing t = GPIX__V1__TIMING__INIT;
		fill_timing(&t, &pc->proc, &w->job, pc->started);
		Gpix__V1__ProcessImageResponse r = GPIX__V1__PROCESS_IMAGE_RESPONSE__INIT;
		r.image_data.data = pc->proc.out.data;
		r.image_data.len = pc->proc.out.len;
		r.content_type = (char *)gpx_codec_mime(pc->proc.format);
		r.width = (int32_t)pc->proc.width;
		r.height = (int32_t)pc->proc.height;
		r.backend = (char *)(pc->proc.ran_on ? pc->proc.ran_on : "cpu");
		r.timing = &t;
		r.result_image_id = pc->proc.save ? pc->proc.saved.id : (char *)"";
		gpx_call_reply(c, &r.base);
	}
	gpx_proc_clear(&pc->proc);
	free(pc);
}

static void process_cancel(gpx_call *c)
{
	gpx_work_cancel(c->handler_data);
}

static void process_image(gpx_call *c)
{
	const Gpix__V1__ProcessImageRequest *req =
		(const Gpix__V1__ProcessImageRequest *)c->request;
	gpx_status st = {0};
	process_call *pc = calloc(1, sizeof(*pc));
	if (!pc) {
		gpx_call_fail(c, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	gpx_proc_init(&pc->proc);
	pc->call = c;
	pc->started = gpx_now_mono();
	if (req->source_case == GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_ID) {
		if (!gpx_store_id_valid(req->image_id)) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT, "image_id \"%.80s\" is malformed",
				       req->image_id);
			goto fail;
		}
		gpx_image_meta m;
		if (gpx_store_get(c->srv->engine->store, req->image_id, &m, &st) < 0)
			goto fail;
		snprintf(pc->proc.image_id, sizeof(pc->proc.image_id), "%s", req->image_id);
		snprintf(pc->proc.save_name, sizeof(pc->proc.save_name), "%s", m.name);
	} else if (req->source_case == GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_DATA &&
		   req->image_data.len > 0) {
		pc->proc.data = req->image_data.data;
		pc->proc.len = req->image_data.len;
	} else {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "set image_id or image_data");
		goto fail;
	}
	if (gpx_proc_pick_backend(c->srv, &pc->proc, req->backend, &st) < 0)
		goto fail;
	if (gpx_pipeline_from_proto(gpx_proc_filters(c->srv, &pc->proc), req->filters,
				    req->n_filters, &pc->proc.pipeline, &st) < 0)
		goto fail;
	if (gpx_proc_output_from_proto(&pc->proc, req->output, &st) < 0)
		goto fail;
	pc->proc.save = req->save;
	pc->work.run = process_run;
	pc->work.complete = process_complete;
	if (gpx_work_submit(&pc->work, c->srv, c->loop, c->deadline, &st) < 0) {
		if (st.code == GPX_RESOURCE_EXHAUSTED)
			gpx_call_set_header(c, "retry-after", "1");
		goto fail;
	}
	c->handler_data = &pc->work;
	c->on_cancel = process_cancel;
	return;
fail:
	gpx_proc_clear(&pc->proc);
	free(pc);
	gpx_call_finish(c, &st);
}

void gpx_handlers_register_process(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods, "gpix.v1.ImageService/ProcessImage", process_image);
}

/* ------------------------------------------------------------ raw route */

/* POST /v1/process?filters=a,b&a.p=v&format=png&quality=90&backend=cpu
 * with an image body: the processed image back, Server-Timing beside it. */
typedef struct raw_proc {
	gpx_work work;
	gpx_exchange *ex;
	gpx_proc proc;
	gpx_buf body;
	double started;
	int gone;
} raw_proc;

static void raw_free(raw_proc *rp)
{
	gpx_proc_clear(&rp->proc);
	gpx_buf_free(&rp->body);
	free(rp);
}

static int raw_fail(gpx_exchange *ex, const gpx_status *st, int queue_full)
{
	return gpx_ex_reply_plain_error(ex, st, queue_full);
}

static void raw_gone(gpx_exchange *ex)
{
	raw_proc *rp = ex->route_data;
	rp->gone = 1;
	rp->ex = NULL;
	gpx_work_cancel(&rp->work);
}

static void raw_complete(gpx_work *w, const gpx_status *st)
{
	raw_proc *rp = (raw_proc *)w;
	gpx_exchange *ex = rp->ex;
	if (rp->gone || !ex) {
		raw_free(rp);
		return;
	}
	ex->on_gone = NULL;
	ex->route_data = NULL;
	if (st->code != GPX_OK) {
		raw_fail(ex, st, 0);
		raw_free(rp);
		return;
	}
	char timing[256], wh[32], hh[32];
	snprintf(timing, sizeof(timing),
		 "queue;dur=%.3f, decode;dur=%.3f, filter;dur=%.3f, encode;dur=%.3f, "
		 "total;dur=%.3f",
		 w->job.queue_wait_ms, rp->proc.decode_ms, rp->proc.filter_ms, rp->proc.encode_ms,
		 ms_since(rp->started));
	snprintf(wh, sizeof(wh), "%u", rp->proc.width);
	snprintf(hh, sizeof(hh), "%u", rp->proc.height);
	gpx_header h[] = {
		{"server-timing", timing},
		{"x-gpix-backend", rp->proc.ran_on ? rp->proc.ran_on : "cpu"},
		{"x-gpix-width", wh},
		{"x-gpix-height", hh},
		{"cache-control", "no-store"},
		{"access-control-expose-headers", "server-timing, x-gpix-width, x-gpix-height"},
	};
	ex->code = GPX_OK;
	gpx_ex_reply(ex, 200, gpx_codec_mime(rp->proc.format), rp->proc.out.data, rp->proc.out.len,
		     h, sizeof(h) / sizeof(h[0]));
	raw_free(rp);
}

static int raw_run(gpx_work *w, gpx_worker_ctx *wc, gpx_status *st)
{
	raw_proc *rp = (raw_proc *)w;
	rp->proc.data = rp->body.data;
	rp->proc.len = rp->body.len;
	return gpx_proc_run(w->srv, &rp->proc, wc, &w->job.cancel, w->job.deadline, st);
}

/* filters=a,b plus "<filter>.<param>=<text>" typed by the registry. */
static int pipeline_from_query(const gpx_filter_registry *reg, const char *query,
			       gpx_pipeline **out, gpx_status *st)
{
	char *filters = gpx_query_get(query, "filters");
	gpx_step_spec specs[GPX_PIPELINE_MAX_STEPS] = {0};
	gpx_step_param params[GPX_PIPELINE_MAX_STEPS][GPX_FILTER_MAX_PARAMS];
	char *owned[GPX_PIPELINE_MAX_STEPS * (GPX_FILTER_MAX_PARAMS + 1)];
	size_t nowned = 0, n = 0;
	int rc = -1;
	if (!filters || !*filters) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "filters query parameter is required, e.g. filters=grayscale,blur");
		goto out;
	}
	for (char *save = NULL, *tok = strtok_r(filters, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == GPX_PIPELINE_MAX_STEPS) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT, "at most %d filters",
				       GPX_PIPELINE_MAX_STEPS);
			goto out;
		}
		specs[n].filter = tok;
		specs[n].params = params[n];
		specs[n].nparams = 0;
		n++;
	}
	size_t pos = 0;
	char *k, *v;
	int q;
	while ((q = gpx_query_next(query, &pos, &k, &v)) == 1) {
		char *dot = strchr(k, '.');
		if (!dot) {
			free(k);
			free(v);
			continue;
		}
		*dot = '\0';
		size_t i = 0;
		while (i < n && strcmp(specs[i].filter, k) != 0)
			i++;
		const gpx_filter_def *d = gpx_filter_registry_find(reg, k);
		if (i == n || !d) {
			gpx_status_set(
				st, GPX_INVALID_ARGUMENT,
				"parameter \"%.40s.%.40s\" names a filter that is not in filters=",
				k, dot + 1);
			free(k);
			free(v);
			goto out;
		}
		int pi = gpx_filter_param_index(d, dot + 1);
		if (pi < 0) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT,
				       "unknown parameter \"%.40s.%.40s\"", k, dot + 1);
			free(k);
			free(v);
			goto out;
		}
		gpx_step_param *sp = &params[i][specs[i].nparams < GPX_FILTER_MAX_PARAMS ?
							specs[i].nparams++ :
							GPX_FILTER_MAX_PARAMS - 1];
		sp->name = d->params[pi].name;
		switch (d->params[pi].type) {
		case GPX_PARAM_NUMBER:
		case GPX_PARAM_INTEGER: {
			char *end;
			double num = strtod(v, &end);
			if (!*v || *end || !isfinite(num)) {
				gpx_status_set(
					st, GPX_INVALID_ARGUMENT,
					"parameter \"%s.%s\" must be a number, got \"%.40s\"", k,
					dot + 1, v);
				free(k);
				free(v);
				goto out;
			}
			sp->value = (gpx_param_value){.kind = GPX_VALUE_NUMBER, .num = num};
			break;
		}
		case GPX_PARAM_BOOL:
			if (!strcmp(v, "true") || !strcmp(v, "1"))
				sp->value = (gpx_param_value){.kind = GPX_VALUE_BOOL, .b = 1};
			else if (!strcmp(v, "false") || !strcmp(v, "0"))
				sp->value = (gpx_param_value){.kind = GPX_VALUE_BOOL, .b = 0};
			else {
				gpx_status_set(st, GPX_INVALID_ARGUMENT,
					       "parameter \"%s.%s\" must be true or false", k,
					       dot + 1);
				free(k);
				free(v);
				goto out;
			}
			break;
		default:
			sp->value = (gpx_param_value){.kind = GPX_VALUE_STRING, .str = v};
			owned[nowned++] = v;
			v = NULL;
			break;
		}
		free(k);
		free(v);
	}
	if (q < 0) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT, "malformed query string");
		goto out;
	}
	rc = gpx_pipeline_build(reg, specs, n, out, st);
out:
	for (size_t i = 0; i < nowned; i++)
		free(owned[i]);
	free(filters);
	return rc;
}

static int query_int(const char *query, const char *key, int lo, int hi, int *out, gpx_status *st)
{
	char *v = gpx_query_get(query, key);
	if (!v)
		return 0;
	char *end;
	long n = strtol(v, &end, 10);
	int bad = !*v || *end || n < lo || n > hi;
	free(v);
	if (bad)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "%s must be an integer in %d..%d",
				      key, lo, hi);
	*out = (int)n;
	return 0;
}

static void raw_body_done(gpx_exchange *ex, gpx_buf *body, void *arg)
{
	raw_proc *rp = arg;
	gpx_status st = {0};
	rp->body = *body;
	gpx_buf_init(body, 0); /* the bytes are ours now */
	if (rp->body.len == 0) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "empty body: send the image bytes");
		goto fail;
	}
	rp->work.run = raw_run;
	rp->work.complete = raw_complete;
	rp->ex = ex;
	double deadline = 0;
	const char *to = gpx_ex_header(ex, "connect-timeout-ms");
	if (to)
		deadline = gpx_now_mono() + strtod(to, NULL) / 1000.0;
	if (gpx_work_submit(&rp->work, ex->srv, ex->loop, deadline, &st) < 0) {
		raw_fail(ex, &st, st.code == GPX_RESOURCE_EXHAUSTED);
		raw_free(rp);
		return;
	}
	ex->route_data = rp;
	ex->on_gone = raw_gone;
	return;
fail:
	raw_fail(ex, &st, 0);
	raw_free(rp);
}

static void raw_free_arg(void *arg)
{
	raw_free(arg);
}

int gpx_route_process_raw(gpx_exchange *ex)
{
	if (strcmp(ex->path, "/v1/process") != 0 || strcmp(ex->method, "POST") != 0)
		return 0;
	char mt[128];
	gpx_media_type(gpx_ex_header(ex, "content-type"), mt, sizeof(mt));
	/* application/json is the REST binding of ProcessImage. */
	if (strncmp(mt, "image/", 6) != 0 && strcmp(mt, "application/octet-stream") != 0)
		return 0;
	ex->protocol = "http";
	snprintf(ex->rpc, sizeof(ex->rpc), "raw/process");
	gpx_status st = {0};
	raw_proc *rp = calloc(1, sizeof(*rp));
	if (!rp) {
		ex->ops->discard_input(ex);
		gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return raw_fail(ex, &st, 0);
	}
	gpx_proc_init(&rp->proc);
	gpx_buf_init(&rp->body, 0);
	rp->started = gpx_now_mono();
	char *fmt = gpx_query_get(ex->query, "format");
	char *backend = gpx_query_get(ex->query, "backend");
	int rc = gpx_proc_pick_backend(ex->srv, &rp->proc, backend, &st);
	free(backend);
	if (rc == 0 && fmt) {
		if (!strcmp(fmt, "jpeg") || !strcmp(fmt, "jpg"))
			rp->proc.out_format = GPX_FMT_JPEG;
		else if (!strcmp(fmt, "png"))
			rp->proc.out_format = GPX_FMT_PNG;
		else
			rc = gpx_status_set(&st, GPX_INVALID_ARGUMENT,
					    "format must be jpeg or png");
	}
	free(fmt);
	int mw = 0, mh = 0;
	if (rc == 0)
		rc = query_int(ex->query, "quality", 1, 100, &rp->proc.quality, &st);
	if (rc == 0)
		rc = query_int(ex->query, "max_width", 0, 65535, &mw, &st);
	if (rc == 0)
		rc = query_int(ex->query, "max_height", 0, 65535, &mh, &st);
	rp->proc.max_width = (uint32_t)mw;
	rp->proc.max_height = (uint32_t)mh;
	if (rc == 0)
		rc = pipeline_from_query(gpx_proc_filters(ex->srv, &rp->proc), ex->query,
					 &rp->proc.pipeline, &st);
	if (rc < 0) {
		ex->ops->discard_input(ex);
		raw_free(rp);
		return raw_fail(ex, &st, 0);
	}
	gpx_ex_collect_body(ex, (size_t)ex->srv->cfg.max_upload_bytes, 413, raw_body_done,
			    raw_free_arg, rp);
	return 1;
}
