/* Filters: typed parameter metadata, the CPU implementation interface and
 * the registry that lists them.
 *
 * Everything here is plain C data (no callbacks into the server, no
 * allocation inside a definition) so that a versioned plugin ABI in
 * include/gpix/ can carry the same structs later. A gpx_filter_def and all
 * the strings and arrays it points to are static (built-ins) or owned by the
 * plugin that provides them; they must outlive every registry and pipeline
 * that refers to them. The exact pixel arithmetic of each built-in is
 * specified in docs/filters.md. */
#ifndef GPX_FILTER_H
#define GPX_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "engine/image.h"

/* Same numbers as gpix.v1.ParameterType. */
typedef enum gpx_param_type {
	GPX_PARAM_NUMBER = 1,
	GPX_PARAM_INTEGER = 2,
	GPX_PARAM_BOOL = 3,
	GPX_PARAM_ENUM = 4, /* one of gpx_param_def.options */
} gpx_param_type;

/* At most this many parameters per filter. */
#define GPX_FILTER_MAX_PARAMS 8

typedef struct gpx_param_def {
	const char *name; /* "sigma" */
	const char *display_name;
	const char *description;
	gpx_param_type type;
	double def_num;		    /* NUMBER, INTEGER: default value */
	int def_bool;		    /* BOOL: default value (0 or 1) */
	const char *def_enum;	    /* ENUM: default value, one of options */
	double min, max;	    /* NUMBER, INTEGER: inclusive range */
	double step;		    /* NUMBER, INTEGER: UI hint only, not enforced */
	const char *const *options; /* ENUM: NULL-terminated list; else NULL */
} gpx_param_def;

/* Parameter values as the pipeline stores them: one double per parameter,
 * in the order of gpx_filter_def.params. NUMBER and INTEGER hold the value
 * (INTEGER is integral), BOOL holds 0 or 1, ENUM holds the option index. */
typedef struct gpx_filter_args {
	const gpx_image *in;
	gpx_image *out;	      /* allocated by the caller with the geometry plan() gave */
	const double *params; /* one per parameter, see above */
	const void *state;    /* what prepare() built; NULL when state_size is NULL */
} gpx_filter_args;

/* CPU implementation. The pipeline runs a filter as:
 *   plan()        -> output geometry (may refuse the input: crop outside it)
 *   prepare()     -> per-run constant state (kernel weights, lookup tables)
 *   rows(y0, y1)  -> output rows [y0, y1), called for row bands in any
 *                    order and possibly from several threads at once.
 * rows() reads only args->in and args->state and writes only rows y0..y1-1
 * of args->out; `scratch` is scratch_size() bytes, 64-byte aligned, private
 * to the call and uninitialised. None of them may fail except plan(). */
typedef struct gpx_filter_cpu {
	int (*plan)(const double *params, const gpx_image *in, uint32_t *out_w, uint32_t *out_h,
		    uint32_t *out_channels, gpx_status *st);
	size_t (*state_size)(const double *params, const gpx_image *in, const gpx_image *out);
	void (*prepare)(const double *params, const gpx_image *in, const gpx_image *out,
			void *state);
	size_t (*scratch_size)(const double *params, const gpx_image *in, const gpx_image *out);
	void (*rows)(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch);
} gpx_filter_cpu;

typedef struct gpx_filter_def {
	const char *name; /* "blur": lowercase, [a-z0-9_] */
	const char *display_name;
	const char *description;
	const gpx_param_def *params;
	size_t nparams;		   /* <= GPX_FILTER_MAX_PARAMS */
	const char *backends;	   /* comma-separated: "cpu" or "cpu,cuda" */
	const char *plugin;	   /* "" for built-ins */
	const char *version;	   /* "1" */
	const gpx_filter_cpu *cpu; /* NULL when no CPU implementation */
	/* Checks that need several parameters at once (blur.kernel_size odd),
	 * after each value passed its own type and range check. May be NULL.
	 * 0, or -1 with st set to GPX_INVALID_ARGUMENT naming the parameter. */
	int (*check)(const double *params, gpx_status *st);
} gpx_filter_def;

/* The built-in filters, in a stable order: an array of *n pointers to
 * static definitions. */
const gpx_filter_def *const *gpx_filters_builtin(size_t *n);

/* Index of a parameter by name, or -1. */
int gpx_filter_param_index(const gpx_filter_def *def, const char *name);
/* Number of options of an ENUM parameter (0 for other types). */
size_t gpx_param_noptions(const gpx_param_def *p);

/* ---- registry ---------------------------------------------------------- */

/* A list of filter definitions with lookup by name. Immutable once built,
 * so one registry can be shared by every thread without locking. */
typedef struct gpx_filter_registry gpx_filter_registry;

/* A registry holding the built-ins. 0, or -1 when out of memory. */
int gpx_filter_registry_create(gpx_filter_registry **out);
/* Adds a definition (a plugin's). It is checked first: a valid unique name,
 * nparams within the limit, defaults inside their ranges and options.
 * Not thread-safe: add everything before sharing the registry. The
 * registry keeps the pointer; the definition must outlive it. */
int gpx_filter_registry_add(gpx_filter_registry *r, const gpx_filter_def *def, gpx_status *st);
void gpx_filter_registry_free(gpx_filter_registry *r);

const gpx_filter_def *gpx_filter_registry_find(const gpx_filter_registry *r, const char *name);
size_t gpx_filter_registry_count(const gpx_filter_registry *r);
const gpx_filter_def *gpx_filter_registry_at(const gpx_filter_registry *r, size_t i);

#endif
