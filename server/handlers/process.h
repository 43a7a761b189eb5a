/* The processing core shared by ProcessImage, the raw POST /v1/process
 * route, and (later) the Process stream, Tune and WebSocket previews:
 * source bytes -> decode -> pipeline -> optional downscale -> encode ->
 * optional save, on a worker thread, with timings. */
#ifndef GPX_PROCESS_H
#define GPX_PROCESS_H

#include "gpix/v1/image_service.pb-c.h"
#include "server/handlers/engine.h"
#include "server/rpc/call.h"

typedef struct gpx_proc {
	/* Input: a stored image id, or bytes the caller keeps alive. */
	char image_id[GPX_STORE_ID_MAX + 1];
	const uint8_t *data;
	size_t len;
	gpx_pipeline *pipeline; /* owned; freed by gpx_proc_clear */
	/* The plugin generation the pipeline was built from (gpx_proc_filters
	 * takes it; gpx_proc_clear drops it after the pipeline). */
	gpx_plugin_gen *gen;
	char backend[72]; /* requested: "auto", "cpu", "cuda"; "": auto */
	int out_format;	  /* GPX_FMT_*, 0: same as the input */
	int quality;	  /* 0: default */
	uint32_t max_width, max_height;
	int save;
	char save_name[GPX_STORE_NAME_MAX];
	gpx_progress_fn progress; /* optional, called on the worker */
	void *progress_ud;
	/* optional, on the worker: "decode", "encode", "save" as they start */
	void (*on_stage)(void *ud, const char *stage);

	/* Output. */
	gpx_buf out;
	int format;
	uint32_t width, height;
	gpx_image_meta saved;
	double decode_ms, filter_ms, encode_ms, save_ms;
	const char *ran_on; /* the backend that ran the filters (valid until clear) */
} gpx_proc;

void gpx_proc_init(gpx_proc *p);
/* Resizes in to exactly w x h (bilinear) into a new image. */
int gpx_resize_to(gpx_server *srv, const gpx_image *in, uint32_t w, uint32_t h,
		  const gpx_run_ctx *ctx, gpx_image *out, gpx_status *st);
void gpx_proc_clear(gpx_proc *p);

/* The registry to build p's pipeline from: the current plugin
 * generation's, which p keeps until gpx_proc_clear (server/handlers/backends.c). */
const gpx_filter_registry *gpx_proc_filters(gpx_server *srv, gpx_proc *p);
/* gpx_engine_pick_backend into p->backend. */
int gpx_proc_pick_backend(gpx_server *srv, gpx_proc *p, const char *name, gpx_status *st);

/* Runs on a worker. cancel/deadline come from the job. The filters run on
 * p->backend (auto: chosen by image size, falling back to the CPU when a
 * device fails; engine/plugins/backend.h). */
int gpx_proc_run(gpx_server *srv, gpx_proc *p, gpx_worker_ctx *wc, const atomic_int *cancel,
		 double deadline, gpx_status *st);

/* FilterStep messages -> a validated pipeline. */
int gpx_pipeline_from_proto(const gpx_filter_registry *reg, Gpix__V1__FilterStep **steps, size_t n,
			    gpx_pipeline **out, gpx_status *st);
/* The effective pipeline as FilterStep messages (for responses);
 * freed with gpx_filter_steps_free. */
Gpix__V1__FilterStep **gpx_pipeline_to_proto(const gpx_pipeline *p, size_t *n);
void gpx_filter_steps_free(Gpix__V1__FilterStep **steps, size_t n);

/* OutputOptions -> proc fields; invalid_argument on bad values. */
int gpx_proc_output_from_proto(gpx_proc *p, const Gpix__V1__OutputOptions *o, gpx_status *st);

void gpx_handlers_register_process(gpx_server *srv);
int gpx_route_process_raw(gpx_exchange *ex);

#endif
