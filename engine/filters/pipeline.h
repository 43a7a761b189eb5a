/* Pipelines: a validated list of filter steps with every parameter value
 * resolved, and the CPU runner that applies them to an image.
 *
 * Ownership: gpx_pipeline_build / gpx_pipeline_copy return a pipeline the
 * caller frees with gpx_pipeline_free. A pipeline points at the filter
 * definitions of the registry it was built from (the registry must outlive
 * it) and copies nothing else from the specs: names and strings in a
 * gpx_step_spec are only read during the call. A built pipeline is never
 * changed by gpx_pipeline_run, so several threads may run one at once;
 * gpx_pipeline_set* change it and need the caller's exclusion.
 *
 * Validation errors are GPX_INVALID_ARGUMENT with a message that names the
 * filter and parameter, e.g.
 *   unknown filter "foo"
 *   unknown parameter "blur.foo"
 *   parameter "blur.sigma" must be a number
 *   parameter "blur.kernel_size" must be an integer
 *   parameter "blur.sigma" is 0.01, outside 0.1..50
 *   parameter "blur.border" must be one of reflect, clamp, wrap (got "x")
 * Messages go to clients as they are. */
#ifndef GPX_PIPELINE_H
#define GPX_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>

#include "common/status.h"
#include "engine/filters/bands.h"
#include "engine/filters/filter.h"
#include "engine/filters/scratch.h"
#include "engine/image.h"

#define GPX_PIPELINE_MAX_STEPS 32

/* Mirrors google.protobuf.Value (lists and structs are not parameters). */
typedef enum gpx_value_kind {
	GPX_VALUE_NULL = 0, /* same as leaving the parameter unset: its default */
	GPX_VALUE_NUMBER = 1,
	GPX_VALUE_BOOL = 2,
	GPX_VALUE_STRING = 3,
} gpx_value_kind;

typedef struct gpx_param_value {
	gpx_value_kind kind;
	double num;	 /* NUMBER */
	int b;		 /* BOOL: 0 or 1 */
	const char *str; /* STRING, NUL-terminated */
} gpx_param_value;

/* Accepted kinds: NUMBER and INTEGER take NUMBER (INTEGER: integral),
 * BOOL takes BOOL, ENUM takes STRING (one of the options). NULL: default.
 * A number given as a string is refused. */
typedef struct gpx_step_param {
	const char *name; /* "sigma" (unqualified) */
	gpx_param_value value;
} gpx_step_param;

typedef struct gpx_step_spec {
	const char *filter; /* "blur" */
	const gpx_step_param *params;
	size_t nparams; /* a name given twice: the last one wins */
} gpx_step_spec;

typedef struct gpx_pipeline gpx_pipeline;

/* Validates steps[0..n) against the registry and resolves defaults.
 * n may be 0 (the pipeline copies its input). More than
 * GPX_PIPELINE_MAX_STEPS steps: GPX_INVALID_ARGUMENT. Returns 0 and sets
 * *out, or -1 with st set (GPX_RESOURCE_EXHAUSTED when out of memory). */
int gpx_pipeline_build(const gpx_filter_registry *reg, const gpx_step_spec *steps, size_t n,
		       gpx_pipeline **out, gpx_status *st);
/* An independent copy (e.g. a Tune session's snapshot for one job). */
int gpx_pipeline_copy(const gpx_pipeline *p, gpx_pipeline **out, gpx_status *st);
void gpx_pipeline_free(gpx_pipeline *p); /* NULL is a no-op */

/* Sets "<filter>.<param>" on the first step running that filter; when no
 * step does, appends the filter with its defaults first (then validates the
 * value; on error the pipeline is left unchanged). The double follows the
 * Tune RPC: NUMBER/INTEGER take it as is (INTEGER must be integral), BOOL
 * takes 0 or 1, ENUM takes an option index. */
int gpx_pipeline_set(gpx_pipeline *p, const char *qualified, double value, gpx_status *st);
/* Same with a typed value, validated as gpx_pipeline_build does. */
int gpx_pipeline_set_value(gpx_pipeline *p, const char *qualified, const gpx_param_value *v,
			   gpx_status *st);

/* Reading the effective pipeline back (for responses). */
size_t gpx_pipeline_len(const gpx_pipeline *p);
const gpx_filter_def *gpx_pipeline_step_filter(const gpx_pipeline *p, size_t step);
/* Every parameter of a step has a value (defaults included); i indexes
 * gpx_filter_def.params. NUMBER/INTEGER come back as NUMBER, BOOL as BOOL,
 * ENUM as STRING pointing into the definition's options (static). */
void gpx_pipeline_step_param(const gpx_pipeline *p, size_t step, size_t i, gpx_param_value *out);
/* The stored doubles of a step (see gpx_filter_args.params). */
const double *gpx_pipeline_step_values(const gpx_pipeline *p, size_t step);
/* "grayscale,blur(sigma=3,kernel_size=0,border=reflect)" into buf (for
 * logs). Returns the length it needed, like snprintf. */
size_t gpx_pipeline_describe(const gpx_pipeline *p, char *buf, size_t len);

/* Output geometry of the whole pipeline for an input of that geometry,
 * without running it (crop outside the image, sizes over max_pixels). */
int gpx_pipeline_plan(const gpx_pipeline *p, uint32_t width, uint32_t height, uint32_t channels,
		      uint64_t max_pixels, uint32_t *out_w, uint32_t *out_h, uint32_t *out_channels,
		      gpx_status *st);

/* ---- running ----------------------------------------------------------- */

/* Called on the running thread after every row band (about 16 per step)
 * with fraction_of_step in (0, 1], stage = the filter's name; the last call
 * of a step has fraction 1. Calls never go backwards. Keep it cheap. */
typedef void (*gpx_progress_fn)(void *ud, int step_index, const char *stage,
				double fraction_of_step);

typedef struct gpx_run_ctx {
	gpx_progress_fn progress; /* NULL: none */
	void *progress_ud;
	const atomic_int *cancel; /* checked between bands; nonzero: GPX_CANCELED */
	double deadline;	  /* gpx_now_mono() seconds; 0: none. GPX_DEADLINE_EXCEEDED */
	gpx_scratch *scratch;	  /* NULL: plain allocations. Not shared between threads */
	gpx_bands *bands;	  /* NULL: bands run on the calling thread */
	uint64_t max_pixels;	  /* 0: no limit. Any step's output over it: RESOURCE_EXHAUSTED */
} gpx_run_ctx;

/* Runs the pipeline on `in` (never modified) and fills `out` with a new
 * image (its pixels from ctx->scratch when set). On success the caller owns
 * out: gpx_scratch_image_release(ctx->scratch, out) to reuse the memory, or
 * gpx_image_free(out). On failure out is zeroed and every intermediate is
 * released. ctx may be NULL. Errors: INVALID_ARGUMENT (a step refuses the
 * image, e.g. crop outside it), CANCELED, DEADLINE_EXCEEDED,
 * RESOURCE_EXHAUSTED (max_pixels, out of memory). */
int gpx_pipeline_run(const gpx_pipeline *p, const gpx_image *in, gpx_image *out,
		     const gpx_run_ctx *ctx, gpx_status *st);

#endif
