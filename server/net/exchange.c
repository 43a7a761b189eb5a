#include "server/net/exchange.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/rpc/router.h"
#include "server/server.h"

const char *gpx_ex_header(const gpx_exchange *ex, const char *name)
{
	for (size_t i = 0; i < ex->nheaders; i++)
		if (strcmp(ex->headers[i].name, name) == 0)
			return ex->headers[i].value;
	return NULL;
}

size_t gpx_ex_header_count(const gpx_exchange *ex, const char *name)
{
	size_t n = 0;
	for (size_t i = 0; i < ex->nheaders; i++)
		n += strcmp(ex->headers[i].name, name) == 0;
	return n;
}

/* A caller's request id is echoed only when it is short printable ASCII:
 * it goes into our logs and response headers. */
static int request_id_ok(const char *s)
{
	size_t n = 0;
	for (; s[n]; n++)
		if (s[n] < 0x21 || s[n] > 0x7e || s[n] == '"' || s[n] == '\\')
			return 0;
	return n > 0 && n < 64;
}

static void new_request_id(gpx_server *srv, char *out, size_t cap)
{
	static __thread uint64_t salt;
	if (!salt && getrandom(&salt, sizeof(salt), 0) != sizeof(salt))
		salt = (uint64_t)(gpx_now_wall() * 1e6);
	unsigned long seq = srv ? atomic_fetch_add(&srv->request_seq, 1) : 0;
	snprintf(out, cap, "%016llx%08lx", (unsigned long long)salt, seq & 0xffffffffUL);
}

void gpx_ex_begin(gpx_exchange *ex)
{
	ex->started = gpx_now_mono();
	ex->code = -1;
	ex->protocol = "http";
	const char *rid = gpx_ex_header(ex, "x-request-id");
	if (rid && request_id_ok(rid))
		snprintf(ex->request_id, sizeof(ex->request_id), "%s", rid);
	else
		new_request_id(ex->srv, ex->request_id, sizeof(ex->request_id));
	gpx_router_dispatch(ex);
}

void gpx_ex_log(gpx_exchange *ex, int aborted)
{
	char status[16], dur[32], in[24], out[24];
	snprintf(status, sizeof(status), "%d", ex->status);
	snprintf(dur, sizeof(dur), "%.3f", (gpx_now_mono() - ex->started) * 1000.0);
	snprintf(in, sizeof(in), "%llu", (unsigned long long)ex->bytes_in);
	snprintf(out, sizeof(out), "%llu", (unsigned long long)ex->bytes_out);
	gpx_log_field f[] = {
		{"method", ex->method},
		{"path", ex->path},
		{"rpc", ex->rpc[0] ? ex->rpc : NULL},
		{"protocol", ex->protocol},
		{"http", ex->http_version},
		{"status", status},
		{"code", ex->code >= 0 ? gpx_code_name((gpx_code)ex->code) : NULL},
		{"duration_ms", dur},
		{"bytes_in", in},
		{"bytes_out", out},
		{"request_id", ex->request_id},
		{aborted ? "aborted" : NULL, "client went away"},
		{NULL, NULL},
	};
	/* Drop empty optional fields so text lines stay short. */
	gpx_log_field g[sizeof(f) / sizeof(f[0])];
	size_t k = 0;
	for (size_t i = 0; f[i].key; i++)
		if (f[i].val)
			g[k++] = f[i];
	g[k].key = NULL;
	gpx_logf(GPX_LOG_INFO, g, "request");
	if (ex->srv) {
		int code = ex->code >= 0 ? ex->code :
			   ex->status && ex->status < 400 ?
					   GPX_OK :
			   ex->status == 499 || !ex->status ?
					   GPX_CANCELED :
					   (int)gpx_code_from_http_status(ex->status);
		gpx_metrics_rpc(&ex->srv->metrics, ex->rpc[0] ? ex->rpc : "other", ex->protocol,
				code, gpx_now_mono() - ex->started);
	}
}

size_t gpx_ex_auto_headers(const gpx_exchange *ex, gpx_header *h, size_t cap)
{
	size_t n = 0;
	if (cap > 0 && ex->request_id[0])
		h[n++] = (gpx_header){"x-request-id", ex->request_id};
	const char *origin = gpx_ex_header(ex, "origin");
	if (origin && ex->srv && cap >= n + 3 && gpx_origin_allowed(ex, origin)) {
		h[n++] = (gpx_header){"access-control-allow-origin", origin};
		h[n++] = (gpx_header){"access-control-expose-headers",
				      "grpc-status, grpc-message, grpc-status-details-bin, "
				      "grpc-encoding, connect-content-encoding, content-encoding, "
				      "x-request-id, server-timing, etag, location, retry-after, "
				      "x-gpix-width, x-gpix-height, x-gpix-backend"};
		h[n++] = (gpx_header){"vary", "origin"};
	}
	return n;
}

int gpx_ex_reply(gpx_exchange *ex, int status, const char *content_type, const void *body,
		 size_t len, const gpx_header *extra, size_t nextra)
{
	gpx_header h[24];
	size_t n = 0;
	char clen[24];
	if (content_type)
		h[n++] = (gpx_header){"content-type", content_type};
	snprintf(clen, sizeof(clen), "%zu", len);
	h[n++] = (gpx_header){"content-length", clen};
	for (size_t i = 0; i < nextra && n < 22; i++)
		h[n++] = extra[i];
	if (ex->ops->respond(ex, status, h, n) < 0)
		return -1;
	if (len && ex->ops->write(ex, body, len) < 0)
		return -1;
	return ex->ops->end(ex, NULL, 0);
}

int gpx_ex_reply_error(gpx_exchange *ex, int http_status, gpx_code code, const char *msg)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_buf_printf(&b, "{\"code\":\"%s\",\"message\":\"", gpx_code_name(code));
	for (const char *p = msg; p && *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '"' || c == '\\')
			gpx_buf_printf(&b, "\\%c", c);
		else if (c < 0x20)
			gpx_buf_printf(&b, "\\u%04x", c);
		else
			gpx_buf_append(&b, p, 1);
	}
	gpx_buf_append_str(&b, "\"}");
	if (ex->code < 0)
		ex->code = (int)code;
	int rc = gpx_ex_reply(ex, http_status > 0 ? http_status : gpx_code_http_status(code),
			      "application/json", b.data, b.len, NULL, 0);
	gpx_buf_free(&b);
	return rc;
}
