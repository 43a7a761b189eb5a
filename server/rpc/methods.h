/* The method table, built once at start-up from the embedded descriptor set
 * (protoc --include_imports) and the protobuf-c service descriptors.
 *
 * The descriptor set says what protobuf-c does not keep: streaming kinds,
 * idempotency levels and the google.api.http rules (an extension of
 * MethodOptions, which protobuf-c keeps as an unknown field). protobuf-c's
 * service descriptors give the message descriptors to decode and encode.
 * The table is immutable after gpx_methods_load and shared by all threads. */
#ifndef GPX_METHODS_H
#define GPX_METHODS_H

#include <protobuf-c/protobuf-c.h>
#include <stddef.h>

#include "common/status.h"

struct gpx_call;
typedef void (*gpx_handler_fn)(struct gpx_call *call);

typedef enum gpx_path_seg_kind {
	GPX_SEG_LITERAL,
	GPX_SEG_STAR,	    /* one segment */
	GPX_SEG_DOUBLESTAR, /* the rest */
} gpx_path_seg_kind;

typedef struct gpx_path_seg {
	gpx_path_seg_kind kind;
	char *literal;
	int var; /* index into vars bound by this segment, -1 for none */
} gpx_path_seg;

typedef struct gpx_path_var {
	char *field;	 /* dotted field path, e.g. "image_id" */
	int first, last; /* segment range it binds */
} gpx_path_var;

/* A compiled google.api.http path template, e.g. /v1/images/{image_id}:process */
typedef struct gpx_path_template {
	gpx_path_seg *segs;
	size_t nsegs;
	gpx_path_var *vars;
	size_t nvars;
	char *verb; /* after ':' in the last segment, or NULL */
} gpx_path_template;

typedef struct gpx_http_binding {
	char http_method[8]; /* "GET", "POST", ... */
	char *pattern;
	gpx_path_template tmpl;
	char *body; /* "", "*" or a field name */
	struct gpx_method *method;
} gpx_http_binding;

typedef struct gpx_method {
	char *full_name; /* "gpix.v1.ImageService/GetVersion" */
	char *service;	 /* "gpix.v1.ImageService" */
	char *name;	 /* "GetVersion" */
	const ProtobufCMessageDescriptor *input, *output;
	int client_streaming, server_streaming;
	int no_side_effects;	/* idempotency_level NO_SIDE_EFFECTS: Connect GET */
	gpx_handler_fn handler; /* NULL: unimplemented */
} gpx_method;

typedef struct gpx_methods {
	gpx_method *methods;
	size_t n;
	gpx_http_binding *bindings;
	size_t nbindings;
	char **services;
	size_t nservices;
} gpx_methods;

int gpx_methods_load(gpx_methods *t, const uint8_t *set, size_t len, gpx_status *st);
void gpx_methods_free(gpx_methods *t);
/* "/gpix.v1.ImageService/GetVersion" or "gpix.v1.ImageService/GetVersion" */
const gpx_method *gpx_methods_find(const gpx_methods *t, const char *path);
int gpx_methods_set_handler(gpx_methods *t, const char *full_name, gpx_handler_fn fn);

/* Path templates (path_template.c). */
int gpx_path_template_compile(gpx_path_template *t, const char *pattern, gpx_status *st);
void gpx_path_template_free(gpx_path_template *t);
/* Matches a percent-encoded path. On a match returns 1 and, for each var,
 * a malloc'd decoded value in values[i] (caller frees each). */
int gpx_path_template_match(const gpx_path_template *t, const char *path, char **values);

/* Finds the REST binding for method+path; fills values as above. */
const gpx_http_binding *gpx_methods_route(const gpx_methods *t, const char *http_method,
					  const char *path, char **values, int *path_matched);

#endif
