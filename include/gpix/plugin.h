/* gpix plugin ABI.
 *
 * A plugin is a shared object that exports one function,
 *
 *     const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t host_abi_version);
 *
 * returning a static descriptor: the plugin's name and version, the filters
 * it provides (with full parameter metadata and a CPU implementation), and
 * the backends it provides (probe, init, process, release). gpixd loads
 * every *.so in --plugin-dir with dlopen(RTLD_NOW | RTLD_LOCAL); the CUDA
 * backend (gpu/) and third-party filters (plugins/example/) both come in
 * this way. docs/plugins.md is the guide; plugins/example/ is the template.
 *
 * This header is self-contained (C99 and libc only) and is the whole
 * contract: a plugin includes nothing else from gpix.
 *
 * Versioning. GPX_PLUGIN_ABI_VERSION changes whenever anything in this
 * file changes in a way a compiled plugin could notice (a struct layout, a
 * function signature, the meaning of a field). The host loads a plugin only
 * when the descriptor's abi_version equals its own and struct_size equals
 * sizeof(gpx_plugin_descriptor); anything else is refused with a log line
 * naming both versions, and the server carries on without that plugin. The
 * plugin's own `version` is free text for people ("1.2.0") and is shown by
 * ListFilters and ListBackends.
 *
 * Lifetime. Everything the descriptor points to (strings, arrays, function
 * pointers) must stay valid while the plugin is loaded; static const data
 * is the easy way. The host may load the same file several times at once
 * (each SIGHUP reload loads a fresh copy while jobs on the old copy finish,
 * docs/plugins.md), so a plugin keeps no process-wide state that two copies
 * could fight over, and every thread it starts is stopped in release().
 *
 * Threads. Filter functions and backend process() may be called from
 * several worker threads at once. probe(), init() and release() are called
 * from one thread at a time for a given loaded copy. */
#ifndef GPIX_PLUGIN_H
#define GPIX_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GPX_PLUGIN_ABI_VERSION 1u

/* The name of the entry point, for dlsym. */
#define GPX_PLUGIN_ENTRY_SYMBOL "gpx_plugin_entry"

#if defined(__GNUC__)
#define GPX_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define GPX_PLUGIN_EXPORT
#endif

/* ---- status ------------------------------------------------------------- */

/* The gRPC / Connect codes; a plugin's failure reaches the client with
 * this code and message. */
#define GPX_PLUGIN_OK 0
#define GPX_PLUGIN_CANCELED 1
#define GPX_PLUGIN_INVALID_ARGUMENT 3
#define GPX_PLUGIN_DEADLINE_EXCEEDED 4
#define GPX_PLUGIN_RESOURCE_EXHAUSTED 8 /* out of (device) memory */
#define GPX_PLUGIN_FAILED_PRECONDITION 9
#define GPX_PLUGIN_UNIMPLEMENTED 12 /* a step this backend cannot run */
#define GPX_PLUGIN_INTERNAL 13	    /* a kernel or driver error */
#define GPX_PLUGIN_UNAVAILABLE 14   /* the device is gone */

#define GPX_PLUGIN_STATUS_MSG_MAX 512

typedef struct gpx_plugin_status {
	uint32_t code;
	char msg[GPX_PLUGIN_STATUS_MSG_MAX];
} gpx_plugin_status;

#if defined(__GNUC__)
#define GPX_PLUGIN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define GPX_PLUGIN_PRINTF(f, a)
#endif

/* Sets code and a printf-style message; returns -1 for `return
 * gpx_plugin_fail(st, ...)`. st may be NULL. */
static inline GPX_PLUGIN_PRINTF(3, 4) int gpx_plugin_fail(gpx_plugin_status *st, uint32_t code,
							  const char *fmt, ...)
{
	if (st) {
		va_list ap;
		st->code = code;
		va_start(ap, fmt);
		vsnprintf(st->msg, sizeof(st->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ---- images ------------------------------------------------------------- */

/* 8 bits per channel, interleaved, rows `stride` bytes apart (stride may be
 * larger than width * channels). channels: 1 gray, 3 RGB, 4 RGBA. */
typedef struct gpx_plugin_image {
	uint32_t width;
	uint32_t height;
	uint32_t channels;
	size_t stride;
	uint8_t *data;
} gpx_plugin_image;

/* ---- filters ------------------------------------------------------------ */

/* Same numbers as gpix.v1.ParameterType. */
#define GPX_PLUGIN_PARAM_NUMBER 1
#define GPX_PLUGIN_PARAM_INTEGER 2
#define GPX_PLUGIN_PARAM_BOOL 3
#define GPX_PLUGIN_PARAM_ENUM 4

#define GPX_PLUGIN_MAX_PARAMS 8

/* One parameter: what ListFilters shows and what requests are checked
 * against before anything runs. Names are [a-z0-9_], at most 64 bytes. */
typedef struct gpx_plugin_param {
	const char *name;
	const char *display_name;
	const char *description;
	uint32_t type;		    /* GPX_PLUGIN_PARAM_* */
	double def_num;		    /* NUMBER, INTEGER: default */
	int32_t def_bool;	    /* BOOL: default, 0 or 1 */
	const char *def_enum;	    /* ENUM: default, one of options */
	double min, max;	    /* NUMBER, INTEGER: inclusive range */
	double step;		    /* NUMBER, INTEGER: a UI hint */
	const char *const *options; /* ENUM: NULL-terminated; else NULL */
} gpx_plugin_param;

/* Parameter values reach the CPU functions as one double per parameter,
 * in declaration order: NUMBER and INTEGER hold the value, BOOL 0 or 1,
 * ENUM the index of the option. */
typedef struct gpx_plugin_filter_args {
	const gpx_plugin_image *in;
	gpx_plugin_image *out; /* allocated by the host with the geometry plan() gave */
	const double *params;
	const void *state; /* what prepare() built; NULL when there is none */
} gpx_plugin_filter_args;

/* The CPU implementation, run by the host's pipeline exactly like the
 * built-in filters:
 *   plan()          output geometry; the only function that may fail
 *                   (return -1 with st set, e.g. INVALID_ARGUMENT)
 *   state_size()    bytes of per-run state (optional)
 *   prepare()       fills the state once per run (optional)
 *   scratch_size()  bytes of per-call scratch for rows() (optional)
 *   rows(y0, y1)    writes output rows [y0, y1); called for row bands in
 *                   any order, possibly from several threads at once; reads
 *                   only args->in and args->state. scratch is 64-byte
 *                   aligned, uninitialised and private to the call.
 * The host checks cancellation and deadlines between bands. */
typedef struct gpx_plugin_filter_cpu {
	int (*plan)(const double *params, const gpx_plugin_image *in, uint32_t *out_w,
		    uint32_t *out_h, uint32_t *out_channels, gpx_plugin_status *st);
	size_t (*state_size)(const double *params, const gpx_plugin_image *in,
			     const gpx_plugin_image *out);
	void (*prepare)(const double *params, const gpx_plugin_image *in,
			const gpx_plugin_image *out, void *state);
	size_t (*scratch_size)(const double *params, const gpx_plugin_image *in,
			       const gpx_plugin_image *out);
	void (*rows)(const gpx_plugin_filter_args *a, uint32_t y0, uint32_t y1, void *scratch);
} gpx_plugin_filter_cpu;

typedef struct gpx_plugin_filter {
	const char *name; /* [a-z0-9_], unique among every loaded filter */
	const char *display_name;
	const char *description;
	const gpx_plugin_param *params;
	uint32_t nparams; /* <= GPX_PLUGIN_MAX_PARAMS */
	/* Required: every filter has a CPU implementation. It is the
	 * reference other backends are tested against, the fallback when a
	 * device fails, and what plans output sizes. */
	const gpx_plugin_filter_cpu *cpu;
	/* Checks across parameters, after each passed its own type and range
	 * check. 0, or -1 with st set to INVALID_ARGUMENT. May be NULL. */
	int (*check)(const double *params, gpx_plugin_status *st);
} gpx_plugin_filter;

/* ---- backends ----------------------------------------------------------- */

/* What probe() reports; ListBackends shows it. */
typedef struct gpx_plugin_backend_info {
	int32_t available; /* 1: process() can run here */
	char device[128];  /* "NVIDIA H100 80GB HBM3" */
	char detail[512];  /* unavailable: why; available: memory, driver, runtime */
	uint64_t memory_bytes;
	/* backend "auto" picks this backend for images of at least this many
	 * pixels (0: auto never picks it; the client must ask by name). */
	uint64_t auto_min_pixels;
} gpx_plugin_backend_info;

/* A parameter value as process() sees it, by name so that a backend does
 * not depend on the order of another plugin's parameters. */
typedef struct gpx_plugin_value {
	const char *name;
	double num;	 /* NUMBER, INTEGER, BOOL (0/1), ENUM (option index) */
	const char *str; /* ENUM: the option's text; otherwise NULL */
} gpx_plugin_value;

/* One pipeline step, with the geometry the host planned for it. */
typedef struct gpx_plugin_step {
	const char *filter;
	const gpx_plugin_value *params; /* every parameter, defaults included */
	uint32_t nparams;
	uint32_t in_width, in_height, in_channels;
	uint32_t out_width, out_height, out_channels;
} gpx_plugin_step;

/* Value of a step's parameter by name, or `def` when there is none. */
static inline double gpx_plugin_num(const gpx_plugin_step *s, const char *name, double def)
{
	for (uint32_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].name, name) == 0)
			return s->params[i].num;
	return def;
}
static inline const char *gpx_plugin_str(const gpx_plugin_step *s, const char *name,
					 const char *def)
{
	for (uint32_t i = 0; i < s->nparams; i++)
		if (strcmp(s->params[i].name, name) == 0 && s->params[i].str)
			return s->params[i].str;
	return def;
}

/* What the host lends to one process() call. */
typedef struct gpx_plugin_job {
	void *host; /* pass back to the callbacks; opaque */
	/* Nonzero when the job must stop (cancelled, deadline passed), with
	 * st set to say which; process() then returns -1 with that status.
	 * Cheap enough to call between steps. */
	int (*stopped)(void *host, gpx_plugin_status *st);
	/* Optional progress: step index and the fraction of it done. */
	void (*progress)(void *host, uint32_t step, double fraction);
} gpx_plugin_job;

/* What the host offers a backend at init(). */
#define GPX_PLUGIN_LOG_DEBUG 0
#define GPX_PLUGIN_LOG_INFO 1
#define GPX_PLUGIN_LOG_WARN 2
#define GPX_PLUGIN_LOG_ERROR 3
typedef struct gpx_plugin_host {
	uint32_t abi_version;
	void (*log)(int level, const char *msg); /* one line, no newline */
} gpx_plugin_host;

typedef struct gpx_plugin_backend {
	/* "cuda": [a-z0-9_]; not "cpu" or "auto"; unique among loaded backends.
	 * Clients choose it with backend: "<name>". */
	const char *name;
	/* Comma-separated filters process() can run: built-ins
	 * ("grayscale,blur") and/or this plugin's own. A pipeline with any
	 * other step never reaches process(). */
	const char *filters;
	/* Fills info; must not fail or take long (no device buffers). Called
	 * once per load, before init. */
	void (*probe)(gpx_plugin_backend_info *info);
	/* Called when probe said available. Sets *ctx (the plugin's own). 0, or
	 * -1 with st; the backend is then listed as unavailable with st.msg. */
	int (*init)(const gpx_plugin_host *host, void **ctx, gpx_plugin_status *st);
	/* Runs steps[0..nsteps) on `in` into `out`, which the host allocated
	 * with the last step's planned geometry (out->stride may be padded).
	 * `in` is never written. 0, or -1 with st:
	 *   RESOURCE_EXHAUSTED  out of device memory
	 *   UNAVAILABLE         the device is lost
	 *   INTERNAL            a kernel or driver error
	 *   UNIMPLEMENTED       a step or parameter value it does not support
	 *   CANCELED / DEADLINE_EXCEEDED  from job->stopped()
	 * With backend "auto" the host then runs the job on the CPU. */
	int (*process)(void *ctx, const gpx_plugin_image *in, const gpx_plugin_step *steps,
		       uint32_t nsteps, gpx_plugin_image *out, const gpx_plugin_job *job,
		       gpx_plugin_status *st);
	/* Frees ctx: called once no process() call is running or can start.
	 * Stop every thread the backend started; the plugin may be unloaded
	 * right after. */
	void (*release)(void *ctx);
} gpx_plugin_backend;

/* ---- the descriptor ----------------------------------------------------- */

typedef struct gpx_plugin_descriptor {
	uint32_t abi_version; /* GPX_PLUGIN_ABI_VERSION */
	uint32_t struct_size; /* sizeof(gpx_plugin_descriptor) */
	const char *name;     /* [a-z0-9_-], unique among loaded plugins: "example" */
	const char *version;  /* free text: "1.0.0" */
	const char *description;
	const gpx_plugin_filter *filters;
	uint32_t nfilters;
	const gpx_plugin_backend *backends;
	uint32_t nbackends;
} gpx_plugin_descriptor;

/* Every plugin defines this (with GPX_PLUGIN_EXPORT). host_abi_version is
 * the host's GPX_PLUGIN_ABI_VERSION; a plugin that supports several may
 * return the matching descriptor, or NULL to decline. */
typedef const gpx_plugin_descriptor *(*gpx_plugin_entry_fn)(uint32_t host_abi_version);
const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t host_abi_version);

#ifdef __cplusplus
}
#endif

#endif
