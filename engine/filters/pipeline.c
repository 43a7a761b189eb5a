#include "engine/filters/pipeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/filters/internal.h"

/* Progress granularity: a step's output is cut into this many row bands
 * (fewer for short images); cancel and deadline are checked between them. */
#define PIPELINE_BANDS 16

typedef struct step {
	const gpx_filter_def *def;
	double v[GPX_FILTER_MAX_PARAMS];
} step;

struct gpx_pipeline {
	const gpx_filter_registry *reg; /* for filters Tune appends */
	size_t n;
	step steps[GPX_PIPELINE_MAX_STEPS];
};

/* ---- validation -------------------------------------------------------- */

static void step_defaults(step *s, const gpx_filter_def *def)
{
	memset(s, 0, sizeof(*s));
	s->def = def;
	for (size_t i = 0; i < def->nparams; i++) {
		const gpx_param_def *p = &def->params[i];
		switch (p->type) {
		case GPX_PARAM_BOOL: s->v[i] = p->def_bool ? 1.0 : 0.0; break;
		case GPX_PARAM_ENUM: {
			size_t n = gpx_param_noptions(p);
			for (size_t k = 0; k < n; k++)
				if (strcmp(p->options[k], p->def_enum) == 0)
					s->v[i] = (double)k;
			break;
		}
		default: s->v[i] = p->def_num;
		}
	}
}

static int check_number(const gpx_filter_def *d, const gpx_param_def *p, double x, double *out,
			gpx_status *st)
{
	if (p->type == GPX_PARAM_INTEGER && isfinite(x) && x != floor(x))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "parameter \"%s.%s\" must be an integer (got %g)", d->name,
				      p->name, x);
	if (!(x >= p->min && x <= p->max))
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "parameter \"%s.%s\" is %g, outside %g..%g", d->name, p->name,
				      x, p->min, p->max);
	*out = x == 0.0 ? 0.0 : x; /* no -0 */
	return 0;
}

static int enum_error(const gpx_filter_def *d, const gpx_param_def *p, const char *got,
		      gpx_status *st)
{
	char list[256];
	size_t off = 0;
	list[0] = '\0';
	for (size_t k = 0; p->options[k]; k++) {
		int w = snprintf(list + off, sizeof(list) - off, "%s%s", k ? ", " : "",
				 p->options[k]);
		if (w < 0 || (size_t)w >= sizeof(list) - off)
			break;
		off += (size_t)w;
	}
	if (got)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "parameter \"%s.%s\" must be one of %s (got \"%.64s\")",
				      d->name, p->name, list, got);
	return gpx_status_set(st, GPX_INVALID_ARGUMENT, "parameter \"%s.%s\" must be one of %s",
			      d->name, p->name, list);
}

/* Checks one typed value and stores it as the pipeline's double. */
static int resolve_value(const gpx_filter_def *d, const gpx_param_def *p, const gpx_param_value *v,
			 double *out, gpx_status *st)
{
	switch (p->type) {
	case GPX_PARAM_NUMBER:
	case GPX_PARAM_INTEGER:
		if (v->kind != GPX_VALUE_NUMBER)
			return gpx_status_set(
				st, GPX_INVALID_ARGUMENT, "parameter \"%s.%s\" must be %s", d->name,
				p->name, p->type == GPX_PARAM_NUMBER ? "a number" : "an integer");
		return check_number(d, p, v->num, out, st);
	case GPX_PARAM_BOOL:
		if (v->kind != GPX_VALUE_BOOL)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\" must be a bool", d->name,
					      p->name);
		*out = v->b ? 1.0 : 0.0;
		return 0;
	case GPX_PARAM_ENUM:
		if (v->kind != GPX_VALUE_STRING || !v->str)
			return enum_error(d, p, NULL, st);
		for (size_t k = 0; p->options[k]; k++) {
			if (strcmp(p->options[k], v->str) == 0) {
				*out = (double)k;
				return 0;
			}
		}
		return enum_error(d, p, v->str, st);
	}
	return gpx_status_set(st, GPX_INTERNAL, "parameter \"%s.%s\" has an unknown type", d->name,
			      p->name);
}

static int resolve_double(const gpx_filter_def *d, const gpx_param_def *p, double x, double *out,
			  gpx_status *st)
{
	switch (p->type) {
	case GPX_PARAM_BOOL:
		if (x != 0.0 && x != 1.0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "parameter \"%s.%s\" must be 0 or 1 (got %g)",
					      d->name, p->name, x);
		*out = x;
		return 0;
	case GPX_PARAM_ENUM: {
		size_t n = gpx_param_noptions(p);
		if (!(x >= 0 && x < (double)n) || x != floor(x))
			return gpx_status_set(
				st, GPX_INVALID_ARGUMENT,
				"parameter \"%s.%s\" takes an option index 0..%zu (got %g)",
				d->name, p->name, n ? n - 1 : 0, x);
		*out = x;
		return 0;
	}
	default: return check_number(d, p, x, out, st);
	}
}

static int unknown_filter(const char *name, size_t len, gpx_status *st)
{
	if (len > 64)
		len = 64;
	return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown filter \"%.*s\"", (int)len,
			      name ? name : "");
}

static int build_step(const gpx_filter_registry *reg, const gpx_step_spec *spec, step *out,
		      gpx_status *st)
{
	const gpx_filter_def *d = gpx_filter_registry_find(reg, spec->filter);
	if (!d)
		return unknown_filter(spec->filter, spec->filter ? strlen(spec->filter) : 0, st);
	step_defaults(out, d);
	for (size_t i = 0; i < spec->nparams; i++) {
		const gpx_step_param *sp = &spec->params[i];
		int k = sp->name ? gpx_filter_param_index(d, sp->name) : -1;
		if (k < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "unknown parameter \"%s.%.64s\"", d->name,
					      sp->name ? sp->name : "");
		if (sp->value.kind == GPX_VALUE_NULL) {
			step tmp;
			step_defaults(&tmp, d);
			out->v[k] = tmp.v[k];
			continue;
		}
		if (resolve_value(d, &d->params[k], &sp->value, &out->v[k], st) != 0)
			return -1;
	}
	if (d->check && d->check(out->v, st) != 0)
		return -1;
	return 0;
}

int gpx_pipeline_build(const gpx_filter_registry *reg, const gpx_step_spec *steps, size_t n,
		       gpx_pipeline **out, gpx_status *st)
{
	*out = NULL;
	if (n > GPX_PIPELINE_MAX_STEPS)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "pipeline has %zu steps, more than the limit of %d", n,
				      GPX_PIPELINE_MAX_STEPS);
	gpx_pipeline *p = calloc(1, sizeof(*p));
	if (!p)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	for (size_t i = 0; i < n; i++) {
		if (build_step(reg, &steps[i], &p->steps[i], st) != 0) {
			free(p);
			return -1;
		}
	}
	p->reg = reg;
	p->n = n;
	*out = p;
	return 0;
}

int gpx_pipeline_copy(const gpx_pipeline *p, gpx_pipeline **out, gpx_status *st)
{
	*out = malloc(sizeof(**out));
	if (!*out)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	memcpy(*out, p, sizeof(*p));
	return 0;
}

void gpx_pipeline_free(gpx_pipeline *p)
{
	free(p);
}

/* Finds (or appends with defaults) the step and parameter that a
 * "<filter>.<param>" names. *appended tells the caller to undo on error. */
static int locate(gpx_pipeline *p, const char *q, size_t *si, int *pi, int *appended,
		  gpx_status *st)
{
	const gpx_filter_registry *reg = p->reg;
	*appended = 0;
	const char *dot = q ? strchr(q, '.') : NULL;
	if (!dot)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "parameter \"%.64s\" must be written <filter>.<param>",
				      q ? q : "");
	size_t flen = (size_t)(dot - q);
	const gpx_filter_def *d = NULL;
	/* The pipeline's own definitions first, so a pipeline works without
	 * its registry for filters it already has. */
	for (size_t i = 0; i < p->n && !d; i++)
		if (strlen(p->steps[i].def->name) == flen &&
		    memcmp(p->steps[i].def->name, q, flen) == 0)
			d = p->steps[i].def;
	if (!d && reg) {
		char name[65];
		if (flen < sizeof(name)) {
			memcpy(name, q, flen);
			name[flen] = '\0';
			d = gpx_filter_registry_find(reg, name);
		}
	}
	if (!d)
		return unknown_filter(q, flen, st);
	int k = gpx_filter_param_index(d, dot + 1);
	if (k < 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unknown parameter \"%.128s\"", q);
	for (size_t i = 0; i < p->n; i++) {
		if (p->steps[i].def == d) {
			*si = i;
			*pi = k;
			return 0;
		}
	}
	if (p->n == GPX_PIPELINE_MAX_STEPS)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "pipeline already has the maximum of %d steps",
				      GPX_PIPELINE_MAX_STEPS);
	step_defaults(&p->steps[p->n], d);
	*si = p->n++;
	*pi = k;
	*appended = 1;
	return 0;
}

static int set_common(gpx_pipeline *p, const char *q, const gpx_param_value *v, double x,
		      gpx_status *st)
{
	size_t si = 0;
	int k = 0, appended = 0;
	if (locate(p, q, &si, &k, &appended, st) != 0)
		return -1;
	step *s = &p->steps[si];
	const gpx_param_def *pd = &s->def->params[k];
	double old = s->v[k], nv;
	int rc;
	if (v && v->kind == GPX_VALUE_NULL) {
		step tmp;
		step_defaults(&tmp, s->def);
		nv = tmp.v[k];
		rc = 0;
	} else if (v) {
		rc = resolve_value(s->def, pd, v, &nv, st);
	} else {
		rc = resolve_double(s->def, pd, x, &nv, st);
	}
	if (rc == 0) {
		s->v[k] = nv;
		if (s->def->check && s->def->check(s->v, st) != 0) {
			s->v[k] = old;
			rc = -1;
		}
	}
	if (rc != 0 && appended)
		p->n--;
	return rc;
}

int gpx_pipeline_set(gpx_pipeline *p, const char *qualified, double value, gpx_status *st)
{
	return set_common(p, qualified, NULL, value, st);
}

int gpx_pipeline_set_value(gpx_pipeline *p, const char *qualified, const gpx_param_value *v,
			   gpx_status *st)
{
	return set_common(p, qualified, v, 0.0, st);
}

size_t gpx_pipeline_len(const gpx_pipeline *p)
{
	return p->n;
}

const gpx_filter_def *gpx_pipeline_step_filter(const gpx_pipeline *p, size_t step_index)
{
	return step_index < p->n ? p->steps[step_index].def : NULL;
}

const double *gpx_pipeline_step_values(const gpx_pipeline *p, size_t step_index)
{
	return step_index < p->n ? p->steps[step_index].v : NULL;
}

void gpx_pipeline_step_param(const gpx_pipeline *p, size_t step_index, size_t i,
			     gpx_param_value *out)
{
	memset(out, 0, sizeof(*out));
	if (step_index >= p->n || i >= p->steps[step_index].def->nparams)
		return;
	const step *s = &p->steps[step_index];
	const gpx_param_def *pd = &s->def->params[i];
	switch (pd->type) {
	case GPX_PARAM_BOOL:
		out->kind = GPX_VALUE_BOOL;
		out->b = s->v[i] != 0.0;
		break;
	case GPX_PARAM_ENUM:
		out->kind = GPX_VALUE_STRING;
		out->str = pd->options[(size_t)s->v[i]];
		break;
	default: out->kind = GPX_VALUE_NUMBER; out->num = s->v[i];
	}
}

size_t gpx_pipeline_describe(const gpx_pipeline *p, char *buf, size_t len)
{
	size_t off = 0;
#define PUT(...)                                                                           \
	do {                                                                               \
		int w_ = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, \
				  __VA_ARGS__);                                            \
		if (w_ > 0)                                                                \
			off += (size_t)w_;                                                 \
	} while (0)
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++) {
		const step *s = &p->steps[i];
		PUT("%s%s", i ? "," : "", s->def->name);
		for (size_t k = 0; k < s->def->nparams; k++) {
			gpx_param_value v;
			gpx_pipeline_step_param(p, i, k, &v);
			PUT("%s%s=", k ? "," : "(", s->def->params[k].name);
			if (v.kind == GPX_VALUE_BOOL)
				PUT("%s", v.b ? "true" : "false");
			else if (v.kind == GPX_VALUE_STRING)
				PUT("%s", v.str);
			else
				PUT("%g", v.num);
		}
		if (s->def->nparams)
			PUT(")");
	}
#undef PUT
	return off;
}

/* ---- planning and running ---------------------------------------------- */

static int plan_step(const step *s, const gpx_image *in, uint64_t max_pixels, uint32_t *w,
		     uint32_t *h, uint32_t *ch, gpx_status *st)
{
	if (!s->def->cpu)
		return gpx_status_set(st, GPX_FAILED_PRECONDITION,
				      "filter \"%s\" has no CPU implementation", s->def->name);
	if (s->def->cpu->plan(s->v, in, w, h, ch, st) != 0)
		return -1;
	if (*w == 0 || *h == 0 || (*ch != 1 && *ch != 3 && *ch != 4))
		return gpx_status_set(st, GPX_INTERNAL, "filter \"%s\" planned a bad image",
				      s->def->name);
	if (max_pixels && (uint64_t)*w * *h > max_pixels)
		return gpx_status_set(
			st, GPX_RESOURCE_EXHAUSTED,
			"filter \"%s\" would make a %ux%u image, over the limit of %llu "
			"pixels",
			s->def->name, *w, *h, (unsigned long long)max_pixels);
	return 0;
}

int gpx_pipeline_plan(const gpx_pipeline *p, uint32_t width, uint32_t height, uint32_t channels,
		      uint64_t max_pixels, uint32_t *out_w, uint32_t *out_h, uint32_t *out_channels,
		      gpx_status *st)
{
	gpx_image cur = {.width = width,
			 .height = height,
			 .channels = channels,
			 .stride = (size_t)width * channels};
	for (size_t i = 0; i < p->n; i++) {
		uint32_t w, h, ch;
		if (plan_step(&p->steps[i], &cur, max_pixels, &w, &h, &ch, st) != 0)
			return -1;
		cur.width = w;
		cur.height = h;
		cur.channels = ch;
		cur.stride = (size_t)w * ch;
	}
	*out_w = cur.width;
	*out_h = cur.height;
	*out_channels = cur.channels;
	return 0;
}

static int check_stop(const gpx_run_ctx *ctx, gpx_status *st)
{
	if (!ctx)
		return 0;
	if (ctx->cancel && atomic_load_explicit(ctx->cancel, memory_order_relaxed))
		return gpx_status_set(st, GPX_CANCELED, "canceled");
	if (ctx->deadline > 0 && gpx_now_mono() >= ctx->deadline)
		return gpx_status_set(st, GPX_DEADLINE_EXCEEDED, "deadline exceeded");
	return 0;
}

typedef struct band_job {
	const gpx_filter_cpu *cpu;
	gpx_filter_args args;
	uint8_t *scratch; /* nthreads slices of scratch_stride bytes */
	size_t scratch_stride;
	uint32_t nbands;
	uint32_t first; /* band index of item 0 of the current group */
} band_job;

static void band_fn(void *ud, size_t item, int slot)
{
	band_job *j = ud;
	uint32_t b = j->first + (uint32_t)item;
	uint32_t h = j->args.out->height;
	uint32_t y0 = (uint32_t)((uint64_t)h * b / j->nbands);
	uint32_t y1 = (uint32_t)((uint64_t)h * (b + 1) / j->nbands);
	if (y1 > y0)
		j->cpu->rows(&j->args, y0, y1,
			     j->scratch ? j->scratch + (size_t)slot * j->scratch_stride : NULL);
}

static int run_step(const step *s, int index, const gpx_image *in, gpx_image *out,
		    const gpx_run_ctx *ctx, gpx_status *st)
{
	gpx_scratch *pool = ctx ? ctx->scratch : NULL;
	gpx_bands *bands = ctx ? ctx->bands : NULL;
	const gpx_filter_cpu *cpu = s->def->cpu;
	uint32_t w, h, ch;
	void *state = NULL, *scratch = NULL;
	size_t state_bytes = 0, scratch_bytes = 0;
	int nthreads = gpx_bands_nthreads(bands);
	band_job j = {.cpu = cpu};

	if (plan_step(s, in, ctx ? ctx->max_pixels : 0, &w, &h, &ch, st) != 0)
		return -1;
	if (gpx_scratch_image_alloc(pool, out, w, h, ch) != 0)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory for a %ux%u image",
				      w, h);
	if (cpu->state_size && (state_bytes = cpu->state_size(s->v, in, out)) > 0) {
		state = gpx_scratch_get(pool, state_bytes);
		if (!state)
			goto fail_oom;
	}
	if (cpu->prepare)
		cpu->prepare(s->v, in, out, state);
	j.args = (gpx_filter_args){.in = in, .out = out, .params = s->v, .state = state};
	if (cpu->scratch_size && (scratch_bytes = cpu->scratch_size(s->v, in, out)) > 0) {
		j.scratch_stride = GPX_ALIGN_UP(scratch_bytes);
		scratch = gpx_scratch_get(pool, j.scratch_stride * (size_t)nthreads);
		if (!scratch)
			goto fail_oom;
		j.scratch = scratch;
	}
	j.nbands = h < PIPELINE_BANDS ? h : PIPELINE_BANDS;
	for (uint32_t b = 0; b < j.nbands;) {
		if (check_stop(ctx, st) != 0)
			goto fail;
		uint32_t cnt =
			j.nbands - b < (uint32_t)nthreads ? j.nbands - b : (uint32_t)nthreads;
		j.first = b;
		gpx_bands_run(bands, band_fn, &j, cnt);
		b += cnt;
		if (ctx && ctx->progress)
			ctx->progress(ctx->progress_ud, index, s->def->name,
				      (double)b / (double)j.nbands);
	}
	gpx_scratch_put(pool, scratch, j.scratch_stride * (size_t)nthreads);
	gpx_scratch_put(pool, state, state_bytes);
	return 0;

fail_oom:
	gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
fail:
	gpx_scratch_put(pool, scratch, j.scratch_stride * (size_t)nthreads);
	gpx_scratch_put(pool, state, state_bytes);
	gpx_scratch_image_release(pool, out);
	return -1;
}

int gpx_pipeline_run(const gpx_pipeline *p, const gpx_image *in, gpx_image *out,
		     const gpx_run_ctx *ctx, gpx_status *st)
{
	gpx_scratch *pool = ctx ? ctx->scratch : NULL;
	gpx_image cur = *in, next;
	int owned = 0;

	memset(out, 0, sizeof(*out));
	if (!in->data || in->width == 0 || in->height == 0 ||
	    (in->channels != 1 && in->channels != 3 && in->channels != 4) ||
	    in->stride < (size_t)in->width * in->channels)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "bad input image");
	if (check_stop(ctx, st) != 0)
		return -1;
	for (size_t i = 0; i < p->n; i++) {
		if (run_step(&p->steps[i], (int)i, &cur, &next, ctx, st) != 0) {
			if (owned)
				gpx_scratch_image_release(pool, &cur);
			return -1;
		}
		if (owned)
			gpx_scratch_image_release(pool, &cur);
		cur = next;
		owned = 1;
	}
	if (!owned) {
		if (gpx_scratch_image_alloc(pool, &next, in->width, in->height, in->channels) != 0)
			return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
		for (uint32_t y = 0; y < in->height; y++)
			memcpy(gpx_image_row(&next, y), gpx_image_row(in, y),
			       (size_t)in->width * in->channels);
		cur = next;
	}
	*out = cur;
	return 0;
}
