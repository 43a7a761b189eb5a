/* Running a pipeline on a backend of a plugin generation, and choosing the
 * backend for a job.
 *
 * Backend names a client can ask for: "" or "auto" (the server chooses per
 * image), "cpu", or the name of a plugin backend ("cuda").
 *
 * auto picks the first available plugin backend whose auto_min_pixels is
 * set, that the image reaches (width * height >= auto_min_pixels), and that
 * runs every step of the pipeline; otherwise the CPU. When the backend auto
 * picked fails (out of device memory, a kernel error, a lost device), the
 * job runs again on the CPU; a backend asked for by name is not replaced,
 * its error is the job's. */
#ifndef GPX_PLUGINS_BACKEND_H
#define GPX_PLUGINS_BACKEND_H

#include <stdint.h>

#include "common/status.h"
#include "engine/filters/pipeline.h"
#include "engine/image.h"
#include "engine/plugins/loader.h"

/* Whether a job can ask for `name` in generation g: 0, or -1 with st:
 * FAILED_PRECONDITION for a backend that is not loaded or not available
 * (the message says why), INVALID_ARGUMENT for a malformed name. */
int gpx_backend_check_name(const gpx_plugin_gen *g, const char *name, gpx_status *st);

/* The backend to run p on for an image of `pixels` pixels. NULL with st
 * set (FAILED_PRECONDITION) when a named backend cannot run it. */
const gpx_backend *gpx_backend_choose(const gpx_plugin_gen *g, const char *name,
				      const gpx_pipeline *p, uint64_t pixels, gpx_status *st);

/* Runs p on b: the CPU backend is gpx_pipeline_run; a plugin backend gets
 * the steps with their planned geometry and writes into an image this
 * function allocates (from ctx->scratch when set). The contract on `out`
 * is gpx_pipeline_run's. */
int gpx_backend_run(const gpx_backend *b, const gpx_pipeline *p, const gpx_image *in,
		    gpx_image *out, const gpx_run_ctx *ctx, gpx_status *st);

/* Choose, run, and fall back to the CPU as described above. *ran_on is the
 * name of the backend that produced `out` (a static or generation string,
 * valid while g is). g NULL: the CPU pipeline. */
int gpx_backend_exec(const gpx_plugin_gen *g, const char *name, const gpx_pipeline *p,
		     const gpx_image *in, gpx_image *out, const gpx_run_ctx *ctx,
		     const char **ran_on, gpx_status *st);

#endif
