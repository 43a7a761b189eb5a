#include "engine/plugins/backend.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "engine/filters/scratch.h"

static int is_auto(const char *name)
{
	return !name || !*name || !strcmp(name, "auto");
}

int gpx_backend_check_name(const gpx_plugin_gen *g, const char *name, gpx_status *st)
{
	if (is_auto(name) || !strcmp(name, "cpu"))
		return 0;
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, name);
	if (!b) {
		size_t n = strlen(name);
		for (size_t i = 0; i < n; i++)
			if (!((name[i] >= 'a' && name[i] <= 'z') ||
			      (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
				return gpx_status_set(st, GPX_INVALID_ARGUMENT,
						      "backend \"%.64s\" is not a backend name",
						      name);
		return gpx_status_set(st, GPX_FAILED_PRECONDITION,
				      "backend \"%.64s\" is not loaded (no plugin provides it)",
				      name);
	}
	if (!b->info.available)
		return gpx_status_set(st, GPX_FAILED_PRECONDITION,
				      "backend \"%s\" is not available here: %s", b->name,
				      b->info.detail);
	return 0;
}

/* The first step b cannot run, or NULL. */
static const char *unsupported_step(const gpx_backend *b, const gpx_pipeline *p)
{
	for (size_t i = 0; i < gpx_pipeline_len(p); i++) {
		const char *f = gpx_pipeline_step_filter(p, i)->name;
		if (!gpx_backend_has_filter(b, f))
			return f;
	}
	return NULL;
}

const gpx_backend *gpx_backend_choose(const gpx_plugin_gen *g, const char *name,
				      const gpx_pipeline *p, uint64_t pixels, gpx_status *st)
{
	const gpx_backend *cpu = gpx_plugin_gen_backend(g, 0);
	if (is_auto(name)) {
		if (gpx_pipeline_len(p) == 0)
			return cpu;
		for (size_t i = 1; i < gpx_plugin_gen_nbackends(g); i++) {
			const gpx_backend *b = gpx_plugin_gen_backend(g, i);
			if (b->info.available && b->info.auto_min_pixels &&
			    pixels >= b->info.auto_min_pixels && !unsupported_step(b, p))
				return b;
		}
		return cpu;
	}
	if (!strcmp(name, "cpu"))
		return cpu;
	if (gpx_backend_check_name(g, name, st) < 0)
		return NULL;
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, name);
	const char *missing = unsupported_step(b, p);
	if (missing) {
		gpx_status_set(st, GPX_FAILED_PRECONDITION,
			       "backend \"%s\" cannot run filter \"%s\"; use backend cpu or auto",
			       b->name, missing);
		return NULL;
	}
	return b;
}

/* ---- running on a plugin backend ----------------------------------------- */

typedef struct host_job {
	const gpx_run_ctx *ctx;
	const gpx_pipeline *p;
} host_job;

static int job_stopped(void *host, gpx_plugin_status *st)
{
	const gpx_run_ctx *ctx = ((host_job *)host)->ctx;
	if (!ctx)
		return 0;
	if (ctx->cancel && atomic_load_explicit(ctx->cancel, memory_order_relaxed))
		return gpx_plugin_fail(st, GPX_PLUGIN_CANCELED, "canceled"), 1;
	if (ctx->deadline > 0 && gpx_now_mono() >= ctx->deadline)
		return gpx_plugin_fail(st, GPX_PLUGIN_DEADLINE_EXCEEDED, "deadline exceeded"), 1;
	return 0;
}

static void job_progress(void *host, uint32_t step, double fraction)
{
	host_job *h = host;
	if (!h->ctx || !h->ctx->progress || step >= gpx_pipeline_len(h->p))
		return;
	h->ctx->progress(h->ctx->progress_ud, (int)step, gpx_pipeline_step_filter(h->p, step)->name,
			 fraction < 0 ? 0 :
			 fraction > 1 ? 1 :
					fraction);
}

static gpx_plugin_image to_plugin(const gpx_image *im)
{
	return (gpx_plugin_image){.width = im->width,
				  .height = im->height,
				  .channels = im->channels,
				  .stride = im->stride,
				  .data = im->data};
}

static int run_plugin(const gpx_backend *b, const gpx_pipeline *p, const gpx_image *in,
		      gpx_image *out, const gpx_run_ctx *ctx, gpx_status *st)
{
	gpx_plugin_step steps[GPX_PIPELINE_MAX_STEPS];
	gpx_plugin_value vals[GPX_PIPELINE_MAX_STEPS * GPX_FILTER_MAX_PARAMS];
	size_t n = gpx_pipeline_len(p), k = 0;
	uint64_t max_pixels = ctx ? ctx->max_pixels : 0;
	gpx_image cur = {.width = in->width,
			 .height = in->height,
			 .channels = in->channels,
			 .stride = (size_t)in->width * in->channels};
	for (size_t i = 0; i < n; i++) {
		const gpx_filter_def *d = gpx_pipeline_step_filter(p, i);
		const double *v = gpx_pipeline_step_values(p, i);
		uint32_t w, h, ch;
		if (!d->cpu || d->cpu->plan(v, &cur, &w, &h, &ch, st) != 0)
			return d->cpu ? -1 :
					gpx_status_set(st, GPX_FAILED_PRECONDITION,
						       "filter \"%s\" cannot be planned", d->name);
		if (max_pixels && (uint64_t)w * h > max_pixels)
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
					      "filter \"%s\" would make a %ux%u image, over the "
					      "limit of %llu pixels",
					      d->name, w, h, (unsigned long long)max_pixels);
		steps[i] = (gpx_plugin_step){
			.filter = d->name,
			.params = &vals[k],
			.nparams = (uint32_t)d->nparams,
			.in_width = cur.width,
			.in_height = cur.height,
			.in_channels = cur.channels,
			.out_width = w,
			.out_height = h,
			.out_channels = ch,
		};
		for (size_t j = 0; j < d->nparams; j++, k++) {
			const gpx_param_def *pd = &d->params[j];
			vals[k].name = pd->name;
			vals[k].num = v[j];
			vals[k].str = pd->type == GPX_PARAM_ENUM ? pd->options[(size_t)v[j]] : NULL;
		}
		cur = (gpx_image){
			.width = w, .height = h, .channels = ch, .stride = (size_t)w * ch};
	}
	gpx_scratch *pool = ctx ? ctx->scratch : NULL;
	if (gpx_scratch_image_alloc(pool, out, cur.width, cur.height, cur.channels) != 0) {
		memset(out, 0, sizeof(*out));
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory for a %ux%u image",
				      cur.width, cur.height);
	}
	host_job h = {.ctx = ctx, .p = p};
	gpx_plugin_job job = {.host = &h, .stopped = job_stopped, .progress = job_progress};
	gpx_plugin_image pin = to_plugin(in), pout = to_plugin(out);
	gpx_plugin_status pst = {0};
	if (b->ops->process(b->ctx, &pin, steps, (uint32_t)n, &pout, &job, &pst) == 0)
		return 0;
	gpx_scratch_image_release(pool, out);
	memset(out, 0, sizeof(*out));
	gpx_code code =
		pst.code > 0 && pst.code <= GPX_UNAUTHENTICATED ? (gpx_code)pst.code : GPX_INTERNAL;
	pst.msg[sizeof(pst.msg) - 1] = '\0';
	return gpx_status_set(st, code, "backend %s: %s", b->name,
			      pst.msg[0] ? pst.msg : "process failed");
}

int gpx_backend_run(const gpx_backend *b, const gpx_pipeline *p, const gpx_image *in,
		    gpx_image *out, const gpx_run_ctx *ctx, gpx_status *st)
{
	if (!b->ops || gpx_pipeline_len(p) == 0)
		return gpx_pipeline_run(p, in, out, ctx, st);
	memset(out, 0, sizeof(*out));
	if (!in->data || in->width == 0 || in->height == 0 ||
	    (in->channels != 1 && in->channels != 3 && in->channels != 4) ||
	    in->stride < (size_t)in->width * in->channels)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "bad input image");
	if (!b->info.available || !b->ctx)
		return gpx_status_set(st, GPX_FAILED_PRECONDITION,
				      "backend \"%s\" is not available here: %s", b->name,
				      b->info.detail);
	return run_plugin(b, p, in, out, ctx, st);
}

int gpx_backend_exec(const gpx_plugin_gen *g, const char *name, const gpx_pipeline *p,
		     const gpx_image *in, gpx_image *out, const gpx_run_ctx *ctx,
		     const char **ran_on, gpx_status *st)
{
	*ran_on = "cpu";
	if (!g)
		return gpx_pipeline_run(p, in, out, ctx, st);
	const gpx_backend *b = gpx_backend_choose(g, name, p, (uint64_t)in->width * in->height, st);
	if (!b)
		return -1;
	if (!b->ops || gpx_pipeline_len(p) == 0)
		return gpx_pipeline_run(p, in, out, ctx, st);
	if (gpx_backend_run(b, p, in, out, ctx, st) == 0) {
		*ran_on = b->name;
		return 0;
	}
	if (!is_auto(name) || st->code == GPX_CANCELED || st->code == GPX_DEADLINE_EXCEEDED ||
	    st->code == GPX_INVALID_ARGUMENT)
		return -1;
	gpx_warn("%s (%s); backend auto runs the job on the CPU instead", st->msg,
		 gpx_code_name(st->code));
	gpx_status_clear(st);
	return gpx_pipeline_run(p, in, out, ctx, st);
}
