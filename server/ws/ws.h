/* WebSocket (RFC 6455) at GET /ws, on the same port as everything else.
 *
 * Why our own framing instead of libwebsockets: libwebsockets 4.1.6 accepts
 * unmasked client frames and buffers declared lengths up to 2^63 before the
 * application can object (PITFALLS.md), and it wants its own event loop.
 * The upgrade request is parsed by libmicrohttpd like any other request
 * (so the smuggling checks and Origin checks apply); after the 101 the
 * socket joins our loop and this module frames it, strictly: unmasked
 * frames close with 1002, a declared length over the limit closes with
 * 1009 before any of it is buffered, invalid UTF-8 in text closes with
 * 1007, and control frames are checked per the RFC.
 *
 * Messages are JSON objects with a "type" (API.md); tune, process and
 * frame run through the same handlers as the Tune, Process and
 * ProcessImage RPCs, through a gpx_call whose ops write WebSocket
 * messages. */
#ifndef GPX_WS_H
#define GPX_WS_H

#include <stddef.h>
#include <stdint.h>

#include "server/net/exchange.h"

/* The GET /ws route (registered by the handlers). */
int gpx_route_ws(gpx_exchange *ex);

/* Frame parsing, exposed for unit tests and fuzzing. */
typedef struct gpx_ws_frame {
	int fin;
	int opcode;
	int masked;
	uint8_t mask[4];
	uint64_t len;
	size_t header_len;
} gpx_ws_frame;

/* Parses a frame header from p[0..n). Returns 1 with f filled, 0 when more
 * bytes are needed, or -close_code (1002 protocol error, 1009 too big)
 * for a header that must close the connection. */
int gpx_ws_parse_header(const uint8_t *p, size_t n, uint64_t max_len, gpx_ws_frame *f);
/* RFC 3629 UTF-8 validation. */
int gpx_utf8_valid(const uint8_t *p, size_t n);
/* Sec-WebSocket-Accept for a key (out: 29 bytes incl. NUL). */
void gpx_ws_accept_key(const char *key, char out[29]);

#endif
