#include "server/rpc/methods.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/api/http.pb-c.h"
#include "google/protobuf/descriptor.pb-c.h"
#include "gpix/v1/image_service.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"
#include "grpc/reflection/v1/reflection.pb-c.h"
#include "grpc/reflection/v1alpha/reflection.pb-c.h"

/* Field number of the google.api.http extension of MethodOptions. */
#define HTTP_RULE_FIELD 72295728

static const ProtobufCServiceDescriptor *const known_services[] = {
	&gpix__v1__image_service__descriptor,
	&grpc__health__v1__health__descriptor,
	&grpc__reflection__v1__server_reflection__descriptor,
	&grpc__reflection__v1alpha__server_reflection__descriptor,
};

static const ProtobufCMethodDescriptor *find_pbc_method(const char *service, const char *method)
{
	for (size_t i = 0; i < sizeof(known_services) / sizeof(known_services[0]); i++) {
		const ProtobufCServiceDescriptor *s = known_services[i];
		if (strcmp(s->name, service) != 0)
			continue;
		for (unsigned m = 0; m < s->n_methods; m++)
			if (strcmp(s->methods[m].name, method) == 0)
				return &s->methods[m];
	}
	return NULL;
}

static int add_binding(gpx_methods *t, gpx_method *m, const Google__Api__HttpRule *r,
		       gpx_status *st)
{
	const char *verb = NULL, *pattern = NULL;
	switch (r->pattern_case) {
	case GOOGLE__API__HTTP_RULE__PATTERN_GET: verb = "GET", pattern = r->get; break;
	case GOOGLE__API__HTTP_RULE__PATTERN_PUT: verb = "PUT", pattern = r->put; break;
	case GOOGLE__API__HTTP_RULE__PATTERN_POST: verb = "POST", pattern = r->post; break;
	case GOOGLE__API__HTTP_RULE__PATTERN_DELETE: verb = "DELETE", pattern = r->delete_; break;
	case GOOGLE__API__HTTP_RULE__PATTERN_PATCH: verb = "PATCH", pattern = r->patch; break;
	case GOOGLE__API__HTTP_RULE__PATTERN_CUSTOM:
		if (r->custom) {
			verb = r->custom->kind;
			pattern = r->custom->path;
		}
		break;
	default: break;
	}
	if (!verb || !pattern || strlen(verb) >= 8)
		return 0;
	gpx_http_binding *b = realloc(t->bindings, (t->nbindings + 1) * sizeof(*b));
	if (!b)
		return gpx_status_set(st, GPX_INTERNAL, "out of memory");
	t->bindings = b;
	b = &t->bindings[t->nbindings];
	memset(b, 0, sizeof(*b));
	strcpy(b->http_method, verb);
	b->pattern = strdup(pattern);
	b->body = strdup(r->body ? r->body : "");
	b->method = m;
	if (gpx_path_template_compile(&b->tmpl, pattern, st) < 0) {
		free(b->pattern);
		free(b->body);
		return -1;
	}
	t->nbindings++;
	for (size_t i = 0; i < r->n_additional_bindings; i++)
		if (add_binding(t, m, r->additional_bindings[i], st) < 0)
			return -1;
	return 0;
}

static int load_http_rules(gpx_methods *t, gpx_method *m, const Google__Protobuf__MethodOptions *o,
			   gpx_status *st)
{
	if (!o)
		return 0;
	for (unsigned i = 0; i < o->base.n_unknown_fields; i++) {
		const ProtobufCMessageUnknownField *u = &o->base.unknown_fields[i];
		if (u->tag != HTTP_RULE_FIELD ||
		    u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			continue;
		/* protobuf-c keeps the length prefix in an unknown field's data. */
		size_t off = 0, plen = 0;
		int shift = 0;
		while (off < u->len && off < 10) {
			plen |= (size_t)(u->data[off] & 0x7f) << shift;
			shift += 7;
			if (!(u->data[off++] & 0x80))
				break;
		}
		if (off + plen != u->len)
			return gpx_status_set(st, GPX_INTERNAL, "bad http rule on %s",
					      m->full_name);
		Google__Api__HttpRule *r =
			google__api__http_rule__unpack(NULL, plen, u->data + off);
		if (!r)
			return gpx_status_set(st, GPX_INTERNAL, "bad http rule on %s",
					      m->full_name);
		int rc = add_binding(t, m, r, st);
		google__api__http_rule__free_unpacked(r, NULL);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int gpx_methods_load(gpx_methods *t, const uint8_t *set, size_t len, gpx_status *st)
{
	memset(t, 0, sizeof(*t));
	Google__Protobuf__FileDescriptorSet *fds =
		google__protobuf__file_descriptor_set__unpack(NULL, len, set);
	if (!fds)
		return gpx_status_set(st, GPX_INTERNAL, "embedded descriptor set does not parse");
	size_t total = 0;
	for (size_t f = 0; f < fds->n_file; f++)
		for (size_t s = 0; s < fds->file[f]->n_service; s++)
			total += fds->file[f]->service[s]->n_method;
	/* Bindings point at methods: allocate the array once, never move it. */
	t->methods = calloc(total ? total : 1, sizeof(*t->methods));
	if (!t->methods)
		goto fail;
	for (size_t f = 0; f < fds->n_file; f++) {
		const Google__Protobuf__FileDescriptorProto *file = fds->file[f];
		for (size_t s = 0; s < file->n_service; s++) {
			const Google__Protobuf__ServiceDescriptorProto *svc = file->service[s];
			char service[256];
			snprintf(service, sizeof(service), "%s%s%s",
				 file->package ? file->package : "",
				 file->package && *file->package ? "." : "", svc->name);
			char **sv = realloc(t->services, (t->nservices + 1) * sizeof(*sv));
			if (!sv)
				goto fail;
			t->services = sv;
			t->services[t->nservices++] = strdup(service);
			for (size_t k = 0; k < svc->n_method; k++) {
				const Google__Protobuf__MethodDescriptorProto *md = svc->method[k];
				const ProtobufCMethodDescriptor *pm =
					find_pbc_method(service, md->name);
				if (!pm) {
					gpx_status_set(st, GPX_INTERNAL,
						       "no protobuf-c code for %s/%s", service,
						       md->name);
					goto fail;
				}
				gpx_method *m = &t->methods[t->n++];
				char full[512];
				snprintf(full, sizeof(full), "%s/%s", service, md->name);
				m->full_name = strdup(full);
				m->service = strdup(service);
				m->name = strdup(md->name);
				m->input = pm->input;
				m->output = pm->output;
				m->client_streaming =
					md->has_client_streaming && md->client_streaming;
				m->server_streaming =
					md->has_server_streaming && md->server_streaming;
				m->no_side_effects =
					md->options && md->options->has_idempotency_level &&
					md->options->idempotency_level ==
						GOOGLE__PROTOBUF__METHOD_OPTIONS__IDEMPOTENCY_LEVEL__NO_SIDE_EFFECTS;
				if (load_http_rules(t, m, md->options, st) < 0)
					goto fail;
			}
		}
	}
	google__protobuf__file_descriptor_set__free_unpacked(fds, NULL);
	return 0;
fail:
	if (st && st->code == GPX_OK)
		gpx_status_set(st, GPX_INTERNAL, "out of memory loading methods");
	google__protobuf__file_descriptor_set__free_unpacked(fds, NULL);
	gpx_methods_free(t);
	return -1;
}

void gpx_methods_free(gpx_methods *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->methods[i].full_name);
		free(t->methods[i].service);
		free(t->methods[i].name);
	}
	for (size_t i = 0; i < t->nbindings; i++) {
		free(t->bindings[i].pattern);
		free(t->bindings[i].body);
		gpx_path_template_free(&t->bindings[i].tmpl);
	}
	for (size_t i = 0; i < t->nservices; i++)
		free(t->services[i]);
	free(t->methods);
	free(t->bindings);
	free(t->services);
	memset(t, 0, sizeof(*t));
}

const gpx_method *gpx_methods_find(const gpx_methods *t, const char *path)
{
	if (path[0] == '/')
		path++;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->methods[i].full_name, path) == 0)
			return &t->methods[i];
	return NULL;
}

int gpx_methods_set_handler(gpx_methods *t, const char *full_name, gpx_handler_fn fn)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->methods[i].full_name, full_name) == 0) {
			t->methods[i].handler = fn;
			return 0;
		}
	return -1;
}

const gpx_http_binding *gpx_methods_route(const gpx_methods *t, const char *http_method,
					  const char *path, char **values, int *path_matched)
{
	*path_matched = 0;
	for (size_t i = 0; i < t->nbindings; i++) {
		const gpx_http_binding *b = &t->bindings[i];
		if (!gpx_path_template_match(&b->tmpl, path, values))
			continue;
		if (strcmp(b->http_method, http_method) == 0)
			return b;
		for (size_t v = 0; v < b->tmpl.nvars; v++) {
			free(values[v]);
			values[v] = NULL;
		}
		*path_matched = 1;
	}
	return NULL;
}
