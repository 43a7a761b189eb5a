/* Enveloped protocols: Connect streaming, gRPC and gRPC-Web (binary and
 * text), every call kind. Each message travels in a 5-byte envelope (flags,
 * big-endian length); the three protocols differ only in how the call ends
 * (Connect: an end-of-stream envelope with JSON; gRPC: HTTP/2 trailers;
 * gRPC-Web: a trailers envelope in the body), in their header names, and
 * gRPC-Web-text's base64. One adapter carries all three. */
#ifndef GPX_STREAM_H
#define GPX_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/status.h"
#include "server/net/exchange.h"
#include "server/rpc/methods.h"

/* Starts a call for a content type that names an enveloped protocol;
 * returns 0 when mt is not one (the caller goes on routing). */
int gpx_stream_dispatch(gpx_exchange *ex, const gpx_method *m, const char *mt);

/* grpc-timeout ("100m", "5S", ...): 1..8 digits and a unit. */
int gpx_grpc_parse_timeout(const char *v, double *seconds);
/* Percent-encodes a grpc-message value (RFC 3986 unreserved + printable
 * ASCII stay, everything else %XX). */
void gpx_grpc_percent_encode(const char *in, char *out, size_t cap);

/* Envelope parsing, exposed for tests and the fuzz harness: feeds bytes,
 * calls on_msg for each complete message. Refuses a declared length over
 * max before buffering any of it. */
typedef struct gpx_envelope_reader {
	uint8_t hdr[5];
	size_t hdr_have;
	uint8_t *msg;
	size_t msg_len, msg_have;
	size_t max;
	int in_msg;
} gpx_envelope_reader;

typedef int (*gpx_envelope_fn)(void *ud, uint8_t flags, uint8_t *msg, size_t len);

void gpx_envelope_reader_init(gpx_envelope_reader *r, size_t max);
void gpx_envelope_reader_free(gpx_envelope_reader *r);
/* 0, or -1 with st (resource_exhausted over the limit; or what fn set). */
int gpx_envelope_feed(gpx_envelope_reader *r, const uint8_t *p, size_t n, gpx_envelope_fn fn,
		      void *ud, gpx_status *st);
/* Whether a partial envelope is pending (truncated at end of stream). */
int gpx_envelope_pending(const gpx_envelope_reader *r);

#endif
