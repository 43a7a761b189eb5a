#include "server/rpc/router.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "server/rpc/connect.h"
#include "server/rpc/stream.h"
#include "server/server.h"

#define MAX_RAW_ROUTES 16
static gpx_raw_route_fn raw_routes[MAX_RAW_ROUTES];
static int nraw;

/* Called by main before the I/O threads start. */
void gpx_router_add_raw(gpx_raw_route_fn fn)
{
	if (nraw < MAX_RAW_ROUTES)
		raw_routes[nraw++] = fn;
}

void gpx_media_type(const char *ct, char *out, size_t cap)
{
	size_t n = 0;
	if (ct) {
		while (*ct == ' ')
			ct++;
		/* Only token characters survive, so the result is safe to echo. */
		for (; ct[n] && ct[n] != ';' && ct[n] != ' ' && n + 1 < cap; n++) {
			unsigned char c = (unsigned char)ct[n];
			out[n] = isalnum(c) || strchr("!#$&^_.+-/", c) ? (char)tolower(c) : '_';
		}
	}
	out[n] = '\0';
}

typedef struct collector {
	gpx_buf body;
	int too_big_status;
	gpx_body_done done;
	void (*free_arg)(void *);
	void *arg;
} collector;

static void collector_free(collector *c)
{
	if (c->free_arg)
		c->free_arg(c->arg);
	gpx_buf_free(&c->body);
	free(c);
}

static int collect_data(gpx_exchange *ex, const uint8_t *p, size_t n)
{
	collector *c = ex->route_data;
	if (gpx_buf_append(&c->body, p, n) < 0) {
		char msg[128];
		snprintf(msg, sizeof(msg), "request body is over the limit of %zu bytes",
			 c->body.limit);
		int status = c->too_big_status;
		ex->route_data = NULL;
		ex->on_gone = NULL;
		ex->on_data = NULL;
		ex->on_end = NULL;
		collector_free(c);
		gpx_ex_reply_error(ex, status, GPX_RESOURCE_EXHAUSTED, msg);
		return -1;
	}
	return 0;
}

static void collect_end(gpx_exchange *ex)
{
	collector *c = ex->route_data;
	ex->route_data = c->arg;
	ex->on_data = NULL;
	ex->on_end = NULL;
	ex->on_gone = NULL;
	if (!c->body.data)
		gpx_buf_reserve(&c->body, 0);
	c->free_arg = NULL; /* done owns arg now */
	c->done(ex, &c->body, c->arg);
	gpx_buf_free(&c->body);
	free(c);
}

static void collect_gone(gpx_exchange *ex)
{
	collector_free(ex->route_data);
}

void gpx_ex_collect_body(gpx_exchange *ex, size_t limit, int too_big_status, gpx_body_done done,
			 void (*free_arg)(void *), void *arg)
{
	/* A declared length over the limit is refused before any byte is read. */
	const char *cl = gpx_ex_header(ex, "content-length");
	if (cl && strtoull(cl, NULL, 10) > limit) {
		char msg[128];
		snprintf(msg, sizeof(msg), "request body is over the limit of %zu bytes", limit);
		ex->ops->discard_input(ex);
		if (free_arg)
			free_arg(arg);
		gpx_ex_reply_error(ex, too_big_status, GPX_RESOURCE_EXHAUSTED, msg);
		return;
	}
	collector *c = calloc(1, sizeof(*c));
	if (!c) {
		if (free_arg)
			free_arg(arg);
		gpx_ex_reply_error(ex, 0, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	gpx_buf_init(&c->body, limit);
	c->too_big_status = too_big_status;
	c->done = done;
	c->free_arg = free_arg;
	c->arg = arg;
	ex->route_data = c;
	ex->on_data = collect_data;
	ex->on_end = collect_end;
	ex->on_gone = collect_gone;
}

int gpx_ex_reply_plain_error(gpx_exchange *ex, const gpx_status *st, int queue_full)
{
	ex->code = (int)st->code;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	connect_error_json(&b, st);
	gpx_header h = {"retry-after", "1"};
	int status = gpx_code_http_status(st->code);
	if (st->code == GPX_RESOURCE_EXHAUSTED)
		status = queue_full ? 429 : 413;
	gpx_ex_reply(ex, status, "application/json", b.data, b.len, &h, queue_full ? 1 : 0);
	gpx_buf_free(&b);
	return 1;
}

static void not_found(gpx_exchange *ex)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "no route for %s %.200s", ex->method, ex->path);
	ex->ops->discard_input(ex);
	gpx_ex_reply_error(ex, 404, GPX_UNIMPLEMENTED, msg);
}

static void reply_json(gpx_exchange *ex, int status, const char *json)
{
	ex->ops->discard_input(ex);
	gpx_ex_reply(ex, status, "application/json", json, strlen(json), NULL, 0);
}

/* POST /pkg.Service/Method (and Connect GET). */
static int dispatch_rpc(gpx_exchange *ex)
{
	const gpx_method *m = gpx_methods_find(&ex->srv->methods, ex->path);
	if (!m)
		return 0;
	snprintf(ex->rpc, sizeof(ex->rpc), "%s", m->full_name);
	char mt[128];
	gpx_media_type(gpx_ex_header(ex, "content-type"), mt, sizeof(mt));
	if (strcmp(ex->method, "GET") == 0 && ex->query) {
		ex->protocol = "connect";
		gpx_connect_get(ex, m);
		return 1;
	}
	if (strcmp(ex->method, "POST") != 0) {
		ex->ops->discard_input(ex);
		gpx_header allow = {"allow", "POST"};
		const char *body = "{\"code\":\"unimplemented\",\"message\":\"RPCs take POST\"}";
		gpx_ex_reply(ex, 405, "application/json", body, strlen(body), &allow, 1);
		return 1;
	}
	if (strcmp(mt, "application/json") == 0 || strcmp(mt, "application/proto") == 0) {
		ex->protocol = "connect";
		if (m->client_streaming || m->server_streaming) {
			ex->ops->discard_input(ex);
			gpx_ex_reply_error(ex, 415, GPX_INVALID_ARGUMENT,
					   "streaming RPCs take application/connect+json or "
					   "application/connect+proto");
			return 1;
		}
		gpx_connect_unary(ex, m, strcmp(mt, "application/proto") == 0);
		return 1;
	}
	if (gpx_stream_dispatch(ex, m, mt))
		return 1;
	ex->ops->discard_input(ex);
	gpx_status st;
	gpx_status_set(&st, GPX_INVALID_ARGUMENT, "unsupported content type \"%.100s\" for %s", mt,
		       m->full_name);
	gpx_header accept = {"accept-post", "application/json, application/proto"};
	gpx_buf b;
	gpx_buf_init(&b, 0);
	connect_error_json(&b, &st);
	ex->code = GPX_INVALID_ARGUMENT;
	gpx_ex_reply(ex, 415, "application/json", b.data, b.len, &accept, 1);
	gpx_buf_free(&b);
	return 1;
}

void gpx_router_dispatch(gpx_exchange *ex)
{
	gpx_server *srv = ex->srv;
	if (strcmp(ex->path, "/healthz") == 0 &&
	    (!strcmp(ex->method, "GET") || !strcmp(ex->method, "HEAD"))) {
		reply_json(ex, 200, "{\"status\":\"ok\"}");
		return;
	}
	for (int i = 0; i < nraw; i++)
		if (raw_routes[i](ex))
			return;
	if (dispatch_rpc(ex))
		return;
	char *vars[16] = {0};
	int path_matched = 0;
	const gpx_http_binding *b =
		gpx_methods_route(&srv->methods, ex->method, ex->path, vars, &path_matched);
	if (b) {
		ex->protocol = "rest";
		snprintf(ex->rpc, sizeof(ex->rpc), "%s", b->method->full_name);
		gpx_rest_dispatch(ex, b, vars);
		for (size_t i = 0; i < b->tmpl.nvars; i++)
			free(vars[i]);
		return;
	}
	if (path_matched) {
		ex->ops->discard_input(ex);
		char msg[256];
		snprintf(msg, sizeof(msg), "method %s is not allowed on %.200s", ex->method,
			 ex->path);
		gpx_ex_reply_error(ex, 405, GPX_UNIMPLEMENTED, msg);
		return;
	}
	not_found(ex);
}
