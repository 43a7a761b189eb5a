/* grpc.reflection v1 and v1alpha (the same messages under two package
 * names), served from the embedded descriptor set: list services, file by
 * name, file containing a symbol, each with its dependencies. */
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "server/handlers/handlers.h"

extern const uint8_t gpx_descriptor_set[];
extern const size_t gpx_descriptor_set_len;

typedef struct refl_file {
	const Google__Protobuf__FileDescriptorProto *fd;
	uint8_t *bytes;
	size_t len;
} refl_file;

typedef struct gpx_reflection {
	Google__Protobuf__FileDescriptorSet *set;
	refl_file *files;
	size_t n;
} gpx_reflection;

static gpx_reflection refl_load(void)
{
	gpx_reflection r = {0};
	r.set = google__protobuf__file_descriptor_set__unpack(NULL, gpx_descriptor_set_len,
							      gpx_descriptor_set);
	if (!r.set)
		return r;
	r.files = calloc(r.set->n_file ? r.set->n_file : 1, sizeof(*r.files));
	for (size_t i = 0; r.files && i < r.set->n_file; i++) {
		refl_file *f = &r.files[r.n++];
		f->fd = r.set->file[i];
		f->len = protobuf_c_message_get_packed_size(&f->fd->base);
		f->bytes = malloc(f->len ? f->len : 1);
		if (f->bytes)
			protobuf_c_message_pack(&f->fd->base, f->bytes);
	}
	return r;
}

static const refl_file *by_name(const gpx_reflection *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->files[i].fd->name, name) == 0)
			return &r->files[i];
	return NULL;
}

static int message_has(const Google__Protobuf__DescriptorProto *m, const char *prefix,
		       const char *sym)
{
	char full[512];
	if (snprintf(full, sizeof(full), "%s%s", prefix, m->name) < (int)sizeof(full) &&
	    strcmp(full, sym) == 0)
		return 1;
	char inner[520];
	snprintf(inner, sizeof(inner), "%s.", full);
	for (size_t i = 0; i < m->n_nested_type; i++)
		if (message_has(m->nested_type[i], inner, sym))
			return 1;
	for (size_t i = 0; i < m->n_enum_type; i++) {
		if (snprintf(full, sizeof(full), "%s%s", inner, m->enum_type[i]->name) <
			    (int)sizeof(full) &&
		    strcmp(full, sym) == 0)
			return 1;
	}
	for (size_t i = 0; i < m->n_field; i++) {
		if (snprintf(full, sizeof(full), "%s%s", inner, m->field[i]->name) <
			    (int)sizeof(full) &&
		    strcmp(full, sym) == 0)
			return 1;
	}
	return 0;
}

static const refl_file *by_symbol(const gpx_reflection *r, const char *sym)
{
	for (size_t i = 0; i < r->n; i++) {
		const Google__Protobuf__FileDescriptorProto *fd = r->files[i].fd;
		char prefix[256];
		snprintf(prefix, sizeof(prefix), "%s%s", fd->package ? fd->package : "",
			 fd->package && *fd->package ? "." : "");
		char full[512];
		for (size_t k = 0; k < fd->n_message_type; k++)
			if (message_has(fd->message_type[k], prefix, sym))
				return &r->files[i];
		for (size_t k = 0; k < fd->n_enum_type; k++) {
			if (snprintf(full, sizeof(full), "%s%s", prefix, fd->enum_type[k]->name) <
				    (int)sizeof(full) &&
			    strcmp(full, sym) == 0)
				return &r->files[i];
		}
		for (size_t k = 0; k < fd->n_service; k++) {
			const Google__Protobuf__ServiceDescriptorProto *s = fd->service[k];
			if (snprintf(full, sizeof(full), "%s%s", prefix, s->name) <
				    (int)sizeof(full) &&
			    strcmp(full, sym) == 0)
				return &r->files[i];
			for (size_t j = 0; j < s->n_method; j++) {
				if (snprintf(full, sizeof(full), "%s%s.%s", prefix, s->name,
					     s->method[j]->name) < (int)sizeof(full) &&
				    strcmp(full, sym) == 0)
					return &r->files[i];
			}
		}
	}
	return NULL;
}

/* The file and, transitively, its dependencies, each once. */
static void collect(const gpx_reflection *r, const refl_file *f, const refl_file **out, size_t *n,
		    size_t cap)
{
	for (size_t i = 0; i < *n; i++)
		if (out[i] == f)
			return;
	if (*n == cap)
		return;
	out[(*n)++] = f;
	for (size_t i = 0; i < f->fd->n_dependency; i++) {
		const refl_file *d = by_name(r, f->fd->dependency[i]);
		if (d)
			collect(r, d, out, n, cap);
	}
}

typedef Grpc__Reflection__V1__ServerReflectionRequest refl_req;
typedef Grpc__Reflection__V1__ServerReflectionResponse refl_resp;

static void answer(gpx_call *c, const gpx_reflection *r, const refl_req *req)
{
	refl_resp resp = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
	Grpc__Reflection__V1__FileDescriptorResponse fdr =
		GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
	Grpc__Reflection__V1__ListServiceResponse lsr =
		GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
	Grpc__Reflection__V1__ErrorResponse err = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
	Grpc__Reflection__V1__ServiceResponse svcs[16];
	Grpc__Reflection__V1__ServiceResponse *svcp[16];
	ProtobufCBinaryData blobs[64];
	const refl_file *files[64];
	size_t nfiles = 0;
	char msg[300];
	resp.valid_host = req->host ? req->host : (char *)"";
	resp.original_request = (refl_req *)req;
	const refl_file *found = NULL;
	switch (req->message_request_case) {
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES: {
		size_t n = 0;
		for (size_t i = 0; i < c->srv->methods.nservices && n < 16; i++) {
			grpc__reflection__v1__service_response__init(&svcs[n]);
			svcs[n].name = c->srv->methods.services[i];
			svcp[n] = &svcs[n];
			n++;
		}
		lsr.n_service = n;
		lsr.service = svcp;
		resp.message_response_case =
			GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
		resp.list_services_response = &lsr;
		break;
	}
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
		found = by_name(r, req->file_by_filename);
		snprintf(msg, sizeof(msg), "file \"%.200s\" not found", req->file_by_filename);
		break;
	case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL:
		found = by_symbol(r, req->file_containing_symbol);
		snprintf(msg, sizeof(msg), "symbol \"%.200s\" not found",
			 req->file_containing_symbol);
		break;
	default:
		snprintf(msg, sizeof(msg), "this request kind is not supported (no extensions)");
		break;
	}
	if (found) {
		collect(r, found, files, &nfiles, 64);
		for (size_t i = 0; i < nfiles; i++) {
			blobs[i].data = files[i]->bytes;
			blobs[i].len = files[i]->len;
		}
		fdr.n_file_descriptor_proto = nfiles;
		fdr.file_descriptor_proto = blobs;
		resp.message_response_case =
			GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
		resp.file_descriptor_response = &fdr;
	} else if (!resp.message_response_case) {
		err.error_code =
			req->message_request_case ==
						GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME ||
					req->message_request_case ==
						GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL ?
				GPX_NOT_FOUND :
				GPX_UNIMPLEMENTED;
		err.error_message = msg;
		resp.message_response_case =
			GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
		resp.error_response = &err;
	}
	/* v1 and v1alpha share the wire format: re-read as the method's type. */
	size_t len = protobuf_c_message_get_packed_size(&resp.base);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return;
	protobuf_c_message_pack(&resp.base, buf);
	ProtobufCMessage *out = protobuf_c_message_unpack(c->method->output, NULL, len, buf);
	free(buf);
	if (out) {
		gpx_call_send(c, out);
		protobuf_c_message_free_unpacked(out, NULL);
	}
}

static void refl_message(gpx_call *c, ProtobufCMessage *m)
{
	gpx_reflection *r = c->handler_data;
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *buf = malloc(len ? len : 1);
	refl_req *req = NULL;
	if (buf) {
		protobuf_c_message_pack(m, buf);
		req = grpc__reflection__v1__server_reflection_request__unpack(NULL, len, buf);
		free(buf);
	}
	protobuf_c_message_free_unpacked(m, NULL);
	if (req) {
		answer(c, r, req);
		grpc__reflection__v1__server_reflection_request__free_unpacked(req, NULL);
	}
}

static void refl_free(gpx_reflection *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->files[i].bytes);
	free(r->files);
	if (r->set)
		google__protobuf__file_descriptor_set__free_unpacked(r->set, NULL);
	free(r);
}

static void refl_half_close(gpx_call *c)
{
	refl_free(c->handler_data);
	gpx_status ok = {.code = GPX_OK};
	gpx_call_finish(c, &ok);
}

static void refl_cancel(gpx_call *c)
{
	refl_free(c->handler_data);
	gpx_status st = {.code = GPX_CANCELED};
	gpx_call_finish(c, &st);
}

static void reflection(gpx_call *c)
{
	/* Parsing the 20 KB set per stream costs well under a millisecond
	 * and keeps the server free of shared mutable state. */
	gpx_reflection *r = calloc(1, sizeof(*r));
	if (r)
		*r = refl_load();
	if (!r || !r->set) {
		free(r);
		gpx_call_fail(c, GPX_INTERNAL, "embedded descriptor set does not parse");
		return;
	}
	c->handler_data = r;
	c->on_message = refl_message;
	c->on_half_close = refl_half_close;
	c->on_cancel = refl_cancel;
}

void gpx_handlers_register_reflection(gpx_server *srv)
{
	gpx_methods_set_handler(&srv->methods,
				"grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
				reflection);
	gpx_methods_set_handler(&srv->methods,
				"grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
				reflection);
}
