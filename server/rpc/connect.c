/* Connect unary (POST application/json|proto and GET) and the REST
 * bindings: both answer one message or a Connect error JSON body, so they
 * share the call object below. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/gzip.h"
#include "common/log.h"
#include "common/url.h"
#include "server/rpc/call.h"
#include "server/rpc/connect.h"
#include "server/rpc/json.h"
#include "server/rpc/router.h"

/* Responses smaller than this are not worth compressing. */
#define GZIP_MIN_BYTES 1024

typedef struct unary {
	gpx_call call;
	int binary;
	int gzip_request;
	int accept_gzip;
	gpx_buf out;
	int sent;
	gpx_header extra[4];
	char *extra_mem[8];
	size_t nextra;
} unary;

static const gpx_json_opts json_out_opts = {.emit_defaults = 1};

static int unary_send(gpx_call *c, const ProtobufCMessage *msg)
{
	unary *u = (unary *)c;
	gpx_buf_reset(&u->out);
	if (u->binary) {
		size_t n = protobuf_c_message_get_packed_size(msg);
		if (gpx_buf_reserve(&u->out, n) < 0)
			return -1;
		u->out.len = protobuf_c_message_pack(msg, u->out.data);
	} else {
		gpx_status st;
		if (gpx_json_encode(msg, &u->out, &json_out_opts, &st) < 0) {
			gpx_error("encoding %s: %s", c->method->full_name, st.msg);
			return -1;
		}
	}
	u->sent = 1;
	return 0;
}

static void unary_header(gpx_call *c, const char *name, const char *value)
{
	unary *u = (unary *)c;
	if (u->nextra >= 4)
		return;
	char *n = strdup(name), *v = strdup(value);
	u->extra_mem[2 * u->nextra] = n;
	u->extra_mem[2 * u->nextra + 1] = v;
	u->extra[u->nextra++] = (gpx_header){n, v};
}

static void unary_free(unary *u)
{
	if (u->call.request)
		protobuf_c_message_free_unpacked(u->call.request, NULL);
	for (size_t i = 0; i < 2 * u->nextra; i++)
		free(u->extra_mem[i]);
	gpx_buf_free(&u->out);
	free(u);
}

static void unary_finish(gpx_call *c, const gpx_status *st)
{
	unary *u = (unary *)c;
	gpx_exchange *ex = c->ex;
	if (!ex || atomic_load(&c->gone)) {
		unary_free(u);
		return;
	}
	ex->on_gone = NULL;
	ex->route_data = NULL;
	ex->code = (int)st->code;
	if (st->code != GPX_OK) {
		/* Error details may carry headers (Retry-After) too. */
		gpx_buf b;
		gpx_buf_init(&b, 0);
		connect_error_json(&b, st);
		gpx_ex_reply(ex, gpx_code_http_status(st->code), "application/json", b.data, b.len,
			     u->extra, u->nextra);
		gpx_buf_free(&b);
		unary_free(u);
		return;
	}
	if (!u->sent) {
		gpx_ex_reply_error(ex, 0, GPX_INTERNAL, "handler sent no response");
		unary_free(u);
		return;
	}
	const char *ct = u->binary ? "application/proto" : "application/json";
	gpx_header h[8];
	size_t n = 0;
	for (size_t i = 0; i < u->nextra; i++)
		h[n++] = u->extra[i];
	gpx_buf z;
	gpx_buf_init(&z, 0);
	const uint8_t *body = u->out.data;
	size_t len = u->out.len;
	if (u->accept_gzip && len >= GZIP_MIN_BYTES && gpx_gzip(body, len, 1, &z) == 0 &&
	    z.len < len) {
		body = z.data;
		len = z.len;
		h[n++] = (gpx_header){"content-encoding", "gzip"};
	}
	h[n++] = (gpx_header){"vary", "accept-encoding"};
	gpx_ex_reply(ex, 200, ct, body, len, h, n);
	gpx_buf_free(&z);
	unary_free(u);
}

static const gpx_call_ops unary_ops = {
	.send = unary_send,
	.finish = unary_finish,
	.header = unary_header,
};

static void unary_gone(gpx_exchange *ex)
{
	unary *u = ex->route_data;
	gpx_call_cancel(&u->call);
}

void connect_error_json(gpx_buf *b, const gpx_status *st)
{
	gpx_buf_printf(b, "{\"code\":\"%s\",\"message\":\"", gpx_code_name(st->code));
	for (const char *p = st->msg; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			gpx_buf_printf(b, "\\%c", ch);
		else if (ch < 0x20)
			gpx_buf_printf(b, "\\u%04x", ch);
		else
			gpx_buf_append(b, p, 1);
	}
	gpx_buf_append_str(b, "\"}");
}

static int accepts_gzip(const char *ae)
{
	if (!ae)
		return 0;
	for (const char *p = ae; (p = strstr(p, "gzip")); p += 4) {
		const char *q = p + 4;
		while (*q == ' ')
			q++;
		if (strncmp(q, ";q=0", 4) == 0 &&
		    (q[4] == '\0' || q[4] == ',' ||
		     (q[4] == '.' && strspn(q + 5, "0") > 0 &&
		      (q[5 + strspn(q + 5, "0")] == '\0' || q[5 + strspn(q + 5, "0")] == ','))))
			continue;
		return 1;
	}
	return 0;
}

int gpx_connect_parse_timeout(const char *v, double *seconds)
{
	/* Connect: at most 10 digits of milliseconds. */
	size_t n = strlen(v);
	if (n == 0 || n > 10 || strspn(v, "0123456789") != n)
		return -1;
	*seconds = (double)strtoull(v, NULL, 10) / 1000.0;
	return 0;
}

static unary *unary_new(gpx_exchange *ex, const gpx_method *m, int binary)
{
	unary *u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->call.ops = &unary_ops;
	u->call.method = m;
	u->call.srv = ex->srv;
	u->call.ex = ex;
	u->call.loop = ex->loop;
	u->call.protocol = ex->protocol;
	snprintf(u->call.request_id, sizeof(u->call.request_id), "%s", ex->request_id);
	u->binary = binary;
	u->accept_gzip = accepts_gzip(gpx_ex_header(ex, "accept-encoding"));
	gpx_buf_init(&u->out, 0);
	return u;
}

/* Decodes the request bytes and starts the call; answers errors itself. */
static void unary_start(gpx_exchange *ex, unary *u, const uint8_t *data, size_t len)
{
	gpx_status st = {0};
	gpx_buf plain;
	gpx_buf_init(&plain, 0);
	size_t limit = (size_t)ex->srv->cfg.max_message_bytes;
	if (u->gzip_request) {
		int r = gpx_gunzip(data, len, limit, &plain);
		if (r == -2) {
			gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED,
				       "decompressed message is over the limit of %zu bytes",
				       limit);
			goto fail;
		}
		if (r < 0) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT, "request body is not valid gzip");
			goto fail;
		}
		data = plain.data;
		len = plain.len;
	}
	const ProtobufCMessageDescriptor *d = u->call.method->input;
	if (u->binary) {
		u->call.request = protobuf_c_message_unpack(d, NULL, len, data);
		if (!u->call.request) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT,
				       "request is not a valid %s message", d->name);
			goto fail;
		}
	} else {
		if (len == 0) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT,
				       "empty JSON body: send {} for an empty message");
			goto fail;
		}
		if (gpx_json_decode(d, (const char *)data, len, &u->call.request, &st) < 0)
			goto fail;
	}
	gpx_buf_free(&plain);
	ex->route_data = u;
	ex->on_gone = unary_gone;
	gpx_call_start(&u->call);
	return;
fail:
	gpx_buf_free(&plain);
	u->call.ex = ex;
	unary_finish(&u->call, &st);
}

static void unary_body_done(gpx_exchange *ex, gpx_buf *body, void *arg)
{
	unary_start(ex, arg, body->data, body->len);
}

static void unary_free_arg(void *u)
{
	unary_free(u);
}

static int connect_common_headers(gpx_exchange *ex, unary *u, gpx_status *st)
{
	const char *pv = gpx_ex_header(ex, "connect-protocol-version");
	if (pv && strcmp(pv, "1") != 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "connect-protocol-version must be \"1\", got \"%.20s\"", pv);
	const char *to = gpx_ex_header(ex, "connect-timeout-ms");
	if (to) {
		double secs;
		if (gpx_connect_parse_timeout(to, &secs) < 0)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "connect-timeout-ms must be 1 to 10 digits");
		u->call.deadline = gpx_now_mono() + secs;
	}
	return 0;
}

void gpx_connect_unary(gpx_exchange *ex, const gpx_method *m, int binary)
{
	unary *u = unary_new(ex, m, binary);
	if (!u) {
		ex->ops->discard_input(ex);
		gpx_ex_reply_error(ex, 0, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	gpx_status st = {0};
	const char *ce = gpx_ex_header(ex, "content-encoding");
	if (connect_common_headers(ex, u, &st) < 0)
		goto fail;
	if (ce && strcmp(ce, "identity") != 0) {
		if (strcmp(ce, "gzip") != 0) {
			gpx_status_set(&st, GPX_UNIMPLEMENTED,
				       "content-encoding \"%.40s\" is not supported; use gzip", ce);
			goto fail;
		}
		u->gzip_request = 1;
	}
	gpx_ex_collect_body(ex, (size_t)ex->srv->cfg.max_message_bytes, 0, unary_body_done,
			    unary_free_arg, u);
	return;
fail:
	ex->ops->discard_input(ex);
	unary_finish(&u->call, &st);
}

int gpx_connect_get_decode(const char *query, int *binary, int *gzip, gpx_buf *msg, gpx_status *st)
{
	size_t pos = 0;
	char *k, *v;
	int q;
	while ((q = gpx_query_next(query, &pos, &k, &v)) == 1) {
		free(k);
		free(v);
	}
	if (q < 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "malformed query string");
	char *connect = gpx_query_get(query, "connect");
	char *encoding = gpx_query_get(query, "encoding");
	char *message = gpx_query_get(query, "message");
	char *b64 = gpx_query_get(query, "base64");
	char *compression = gpx_query_get(query, "compression");
	int rc = -1;
	if (connect && strcmp(connect, "v1") != 0) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT, "connect must be v1");
		goto out;
	}
	if (!encoding || (strcmp(encoding, "json") && strcmp(encoding, "proto"))) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "encoding query parameter must be json or proto");
		goto out;
	}
	*binary = strcmp(encoding, "proto") == 0;
	*gzip = 0;
	if (compression && strcmp(compression, "identity") != 0) {
		if (strcmp(compression, "gzip") != 0) {
			gpx_status_set(st, GPX_UNIMPLEMENTED,
				       "compression \"%.40s\" is not supported", compression);
			goto out;
		}
		*gzip = 1;
	}
	const char *m = message ? message : "";
	size_t mlen = strlen(m);
	if (b64 && strcmp(b64, "1") == 0) {
		if (gpx_buf_reserve(msg, gpx_base64_decoded_max(mlen)) < 0) {
			gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "message is over the limit");
			goto out;
		}
		long n = gpx_base64_decode(msg->data, m, mlen);
		if (n < 0) {
			gpx_status_set(st, GPX_INVALID_ARGUMENT, "message is not valid base64");
			goto out;
		}
		msg->len = (size_t)n;
	} else if (gpx_buf_append(msg, m, mlen) < 0) {
		gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "message is over the limit");
		goto out;
	}
	rc = 0;
out:
	free(connect);
	free(encoding);
	free(message);
	free(b64);
	free(compression);
	return rc;
}

void gpx_connect_get(gpx_exchange *ex, const gpx_method *m)
{
	ex->ops->discard_input(ex);
	if (!m->no_side_effects) {
		gpx_header allow = {"allow", "POST"};
		gpx_status st;
		gpx_status_set(&st, GPX_UNIMPLEMENTED, "%s has side effects: use POST",
			       m->full_name);
		gpx_buf b;
		gpx_buf_init(&b, 0);
		connect_error_json(&b, &st);
		ex->code = GPX_UNIMPLEMENTED;
		gpx_ex_reply(ex, 405, "application/json", b.data, b.len, &allow, 1);
		gpx_buf_free(&b);
		return;
	}
	gpx_status st = {0};
	int binary = 0, gzip = 0;
	gpx_buf msg;
	gpx_buf_init(&msg, (size_t)ex->srv->cfg.max_message_bytes);
	if (gpx_connect_get_decode(ex->query, &binary, &gzip, &msg, &st) < 0) {
		gpx_buf_free(&msg);
		ex->code = (int)st.code;
		gpx_ex_reply_error(ex, 0, st.code, st.msg);
		return;
	}
	unary *u = unary_new(ex, m, binary);
	if (!u) {
		gpx_buf_free(&msg);
		gpx_ex_reply_error(ex, 0, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	u->gzip_request = gzip;
	if (connect_common_headers(ex, u, &st) < 0) {
		gpx_buf_free(&msg);
		unary_finish(&u->call, &st);
		return;
	}
	if (!binary && msg.len == 0)
		gpx_buf_append_str(&msg, "{}");
	unary_start(ex, u, msg.data ? msg.data : (const uint8_t *)"", msg.len);
	gpx_buf_free(&msg);
}

/* REST: JSON body (for body "*"), path variables and query parameters are
 * merged into one JSON object, then decoded like a Connect JSON request. */
typedef struct rest_req {
	unary *u;
	const gpx_http_binding *b;
	char *vars[16];
} rest_req;

static void rest_free(rest_req *r)
{
	for (size_t i = 0; i < r->b->tmpl.nvars; i++)
		free(r->vars[i]);
	free(r);
}

static void rest_build(gpx_exchange *ex, rest_req *r, const uint8_t *body, size_t len)
{
	unary *u = r->u;
	gpx_status st = {0};
	cJSON *obj = NULL;
	const ProtobufCMessageDescriptor *d = u->call.method->input;
	if (strcmp(r->b->body, "*") == 0 && len > 0) {
		gpx_json_opts o = {.max_input = (size_t)ex->srv->cfg.max_message_bytes};
		if (gpx_json_parse((const char *)body, len, &o, &obj, &st) < 0)
			goto fail;
		if (!cJSON_IsObject(obj)) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT,
				       "request body must be a JSON object");
			goto fail;
		}
	} else {
		obj = cJSON_CreateObject();
	}
	for (size_t i = 0; i < r->b->tmpl.nvars; i++)
		if (gpx_json_set_field_from_string(obj, d, r->b->tmpl.vars[i].field, r->vars[i],
						   &st) < 0)
			goto fail;
	if (strcmp(r->b->body, "*") != 0 && ex->query) {
		size_t pos = 0;
		char *k, *v;
		int q;
		while ((q = gpx_query_next(ex->query, &pos, &k, &v)) == 1) {
			int rc = gpx_json_set_field_from_string(obj, d, k, v, &st);
			free(k);
			free(v);
			if (rc < 0)
				goto fail;
		}
		if (q < 0) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT, "malformed query string");
			goto fail;
		}
	}
	if (gpx_json_from_cjson(d, obj, &u->call.request, &st) < 0)
		goto fail;
	cJSON_Delete(obj);
	rest_free(r);
	ex->route_data = u;
	ex->on_gone = unary_gone;
	gpx_call_start(&u->call);
	return;
fail:
	cJSON_Delete(obj);
	rest_free(r);
	unary_finish(&u->call, &st);
}

static void rest_free_all(void *arg)
{
	rest_req *r = arg;
	unary_free(r->u);
	rest_free(r);
}

static void rest_body_done(gpx_exchange *ex, gpx_buf *body, void *arg)
{
	rest_build(ex, arg, body->data, body->len);
}

void gpx_rest_dispatch(gpx_exchange *ex, const gpx_http_binding *b, char **vars)
{
	unary *u = unary_new(ex, b->method, 0);
	rest_req *r = calloc(1, sizeof(*r));
	if (!u || !r) {
		free(u);
		free(r);
		ex->ops->discard_input(ex);
		gpx_ex_reply_error(ex, 0, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	r->u = u;
	r->b = b;
	for (size_t i = 0; i < b->tmpl.nvars && i < 16; i++) {
		r->vars[i] = vars[i];
		vars[i] = NULL; /* now ours */
	}
	if (strcmp(b->body, "*") == 0) {
		gpx_ex_collect_body(ex, (size_t)ex->srv->cfg.max_message_bytes, 0, rest_body_done,
				    rest_free_all, r);
		return;
	}
	ex->ops->discard_input(ex);
	rest_build(ex, r, NULL, 0);
}
