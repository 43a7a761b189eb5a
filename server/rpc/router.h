/* Routing: every exchange whose request headers are complete comes here,
 * from either HTTP version, and goes to a protocol adapter (Connect, REST,
 * later gRPC, gRPC-Web and WebSocket) or to a plain-HTTP route. */
#ifndef GPX_ROUTER_H
#define GPX_ROUTER_H

#include "common/buf.h"
#include "server/net/exchange.h"
#include "server/rpc/methods.h"

void gpx_router_dispatch(gpx_exchange *ex);

/* Collects the whole request body, at most limit bytes, then calls
 * done(ex, body, arg) (body is freed after done returns). Over the limit
 * the exchange is answered with `too_big_status` (413 for plain-HTTP
 * routes, 0 for the code's own status) and resource_exhausted, and done is
 * never called.
 * */
typedef void (*gpx_body_done)(gpx_exchange *ex, gpx_buf *body, void *arg);
/* Takes arg: when done will not be called (too big, client gone) it calls
 * free_arg(arg) instead. */
void gpx_ex_collect_body(gpx_exchange *ex, size_t limit, int too_big_status, gpx_body_done done,
			 void (*free_arg)(void *), void *arg);

/* Errors of the plain-HTTP routes: the Connect error body with the code's
 * status, except that resource_exhausted is 413 (a size limit) or, when
 * queue_full, 429 with Retry-After. */
int gpx_ex_reply_plain_error(gpx_exchange *ex, const gpx_status *st, int queue_full);

/* Content-Type without parameters, lower case, into out. */
void gpx_media_type(const char *content_type, char *out, size_t cap);

/* Protocol adapters (connect.c, rest.c). */
void gpx_connect_unary(gpx_exchange *ex, const gpx_method *m, int binary);
void gpx_connect_get(gpx_exchange *ex, const gpx_method *m);
void gpx_rest_dispatch(gpx_exchange *ex, const gpx_http_binding *b, char **vars);

/* Plain-HTTP routes registered by handlers (images, process, metrics...).
 * Returns 1 when it took the exchange. */
typedef int (*gpx_raw_route_fn)(gpx_exchange *ex);
void gpx_router_add_raw(gpx_raw_route_fn fn);

#endif
