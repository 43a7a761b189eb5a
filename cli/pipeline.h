/* Filter pipelines as the command line spells them:
 *
 *   --filters grayscale,blur            the steps, in order
 *   --set blur.sigma=3,edge.threshold=40  parameters of those steps
 *   --params blur.sigma:2,blur.sigma:4  tune: one preview per value
 *
 * A --set value is a number when it reads as a finite number, a bool for
 * true/false, and a string otherwise (quote it, 'x' or "x", to force a
 * string). It applies to every step of that filter; the filter must be in
 * --filters. Filter names may contain '.': the parameter is the part after
 * the last one.
 *
 * Ownership: a gpx_cli_pipeline owns its steps, built with malloc so that
 * protobuf_c_message_free_unpacked(step, NULL) frees each one;
 * gpx_cli_pipeline_free does that. The steps array can be put straight
 * into a ProcessRequest or TuneRequest (n_filters, filters). */
#ifndef GPX_CLI_PIPELINE_H
#define GPX_CLI_PIPELINE_H

#include <stddef.h>

#include "common/status.h"
#include "gpix/v1/image_service.pb-c.h"

typedef struct gpx_cli_pipeline {
	size_t n_steps;
	Gpix__V1__FilterStep **steps;
} gpx_cli_pipeline;

/* Builds p from --filters (NULL or "" for none) and the --set arguments.
 * Returns 0, or -1 with st set (GPX_INVALID_ARGUMENT naming the bad part)
 * and p empty. */
int gpx_cli_pipeline_parse(const char *filters, const char *const *sets, size_t n_sets,
			   gpx_cli_pipeline *p, gpx_status *st);
void gpx_cli_pipeline_free(gpx_cli_pipeline *p);

/* A --set value as a google.protobuf.Value (see above); NULL when memory
 * runs out. Free with protobuf_c_message_free_unpacked(v, NULL). */
Google__Protobuf__Value *gpx_cli_value_parse(const char *text);

typedef struct gpx_cli_tune_param {
	char *parameter; /* "blur.sigma" */
	double value;
} gpx_cli_tune_param;

typedef struct gpx_cli_tune_params {
	size_t n;
	gpx_cli_tune_param *items;
} gpx_cli_tune_params;

/* Parses "blur.sigma:2,blur.sigma:4" ('=' works as well as ':'). Returns
 * 0, or -1 with st set and out empty. */
int gpx_cli_tune_params_parse(const char *s, gpx_cli_tune_params *out, gpx_status *st);
void gpx_cli_tune_params_free(gpx_cli_tune_params *p);

#endif
