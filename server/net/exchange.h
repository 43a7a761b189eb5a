/* One HTTP request/response exchange, whatever HTTP version carried it.
 *
 * The HTTP/1.1 (libmicrohttpd) and HTTP/2 (nghttp2) transports both create
 * a gpx_exchange when a request's headers are complete and hand it to
 * gpx_router_dispatch. From then on the route sees the same shape:
 *
 *   request:  method, path, query, lower-case headers; body bytes arrive
 *             through on_data, the end through on_end;
 *   response: ops->respond (status + headers), ops->write (body bytes,
 *             copied), ops->end (optional trailers, HTTP/2 only).
 *
 * Ownership: the transport owns the exchange and frees it after the
 * response has ended and been handed to the socket, or when the client goes
 * away. In the latter case it first calls on_gone, after which the route
 * must not touch the exchange again. Everything runs on the exchange's loop
 * thread. */
#ifndef GPX_EXCHANGE_H
#define GPX_EXCHANGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "server/net/loop.h"

struct gpx_server;

typedef struct gpx_header {
	const char *name; /* lower case */
	const char *value;
} gpx_header;

typedef struct gpx_exchange gpx_exchange;

typedef struct gpx_exchange_ops {
	/* Starts the response (status 200..599). Headers are copied. */
	int (*respond)(gpx_exchange *ex, int status, const gpx_header *h, size_t n);
	/* Appends body bytes (copied). -1 when the client is gone. */
	int (*write)(gpx_exchange *ex, const void *p, size_t n);
	/* Ends the response; trailers are sent on HTTP/2 and dropped on 1.1. */
	int (*end)(gpx_exchange *ex, const gpx_header *trailers, size_t n);
	/* Stop reading the request body: the response does not need it. */
	void (*discard_input)(gpx_exchange *ex);
	/* Bytes written but not yet handed to the socket (for backpressure). */
	size_t (*pending)(gpx_exchange *ex);
	/* HTTP/1.1 Upgrade: answers 101 with h, then hands the raw socket to
	 * on_socket (bytes the client already sent after the request in extra;
	 * release with gpx_upgrade_close(handle)). NULL on HTTP/2. */
	int (*upgrade)(gpx_exchange *ex, const gpx_header *h, size_t n,
		       void (*on_socket)(void *ud, int fd, const uint8_t *extra, size_t nextra,
					 void *handle),
		       void *ud);
} gpx_exchange_ops;

/* Closes an upgraded socket (the handle from on_socket). */
void gpx_upgrade_close(void *handle);

struct gpx_exchange {
	const gpx_exchange_ops *ops;
	struct gpx_server *srv;
	gpx_loop *loop;

	/* Request line and headers, valid for the exchange's lifetime. */
	const char *http_version; /* "1.1" or "2" */
	char *method;
	char *path;  /* percent-encoded, without the query */
	char *query; /* after '?', or NULL */
	gpx_header *headers;
	size_t nheaders;

	/* Set by the route in dispatch. on_data returns -1 after it has
	 * answered with an error; the transport then drops the rest of the
	 * body. */
	int (*on_data)(gpx_exchange *ex, const uint8_t *p, size_t n);
	void (*on_end)(gpx_exchange *ex);
	void (*on_gone)(gpx_exchange *ex);
	/* Output drained below the transport's low-water mark. */
	void (*on_writable)(gpx_exchange *ex);
	void *route_data;

	/* For the access log. */
	double started;
	int status;
	uint64_t bytes_in, bytes_out;
	char request_id[64];
	const char *protocol; /* "connect", "grpc", "grpc_web", "rest", "http" */
	char rpc[128];	      /* "gpix.v1.ImageService/GetVersion" when an RPC */
	int code;	      /* gpx_code of an RPC, -1 when not an RPC */
	int responded, ended;
};

/* Lookup of a request header (names are lower case); NULL when absent. */
const char *gpx_ex_header(const gpx_exchange *ex, const char *name);
/* Number of request headers named name. */
size_t gpx_ex_header_count(const gpx_exchange *ex, const char *name);

/* Called by transports: fills request id/start time, then routes. */
void gpx_ex_begin(gpx_exchange *ex);
/* Called by transports once the exchange ends or the client went away:
 * writes the access-log line. */
void gpx_ex_log(gpx_exchange *ex, int aborted);

/* Headers every response carries, added by the transports: x-request-id,
 * and the CORS headers when the request has an allowed Origin. Returns the
 * count written to h (cap >= 4). */
size_t gpx_ex_auto_headers(const gpx_exchange *ex, gpx_header *h, size_t cap);
/* The request's Origin is the server's own or in --allowed-origins. */
int gpx_origin_allowed(const gpx_exchange *ex, const char *origin);

/* Convenience for simple responses: status, content type, body, and
 * extra headers; adds x-request-id. Ends the exchange. */
int gpx_ex_reply(gpx_exchange *ex, int status, const char *content_type, const void *body,
		 size_t len, const gpx_header *extra, size_t nextra);
/* Answers with a Connect-style JSON error body and the HTTP status of the
 * code (or http_status when > 0, e.g. 413 or 415). */
int gpx_ex_reply_error(gpx_exchange *ex, int http_status, gpx_code code, const char *msg);

#endif
