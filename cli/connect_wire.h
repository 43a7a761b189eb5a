/* The bytes of the Connect protocol that a client reads and writes, with no
 * I/O: the 5-byte envelope that frames each message of a streaming call, the
 * end-of-stream message, and the JSON error body of a failed call
 * (https://connectrpc.com/docs/protocol).
 *
 * An envelope is one flags byte, a 4-byte big-endian payload length and the
 * payload. Flag 0x01 marks a compressed payload, 0x02 the end-of-stream
 * message, whose payload is always JSON:
 *   {"error":{"code":"not_found","message":"…"},"metadata":{"k":["v"]}}
 *
 * Ownership: a gpx_cw_reader owns its payload buffer; gpx_cw_reader_free
 * releases it. Nothing here keeps a pointer to the caller's bytes. */
#ifndef GPX_CLI_CONNECT_WIRE_H
#define GPX_CLI_CONNECT_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/status.h"

#define GPX_CW_FLAG_COMPRESSED 0x01
#define GPX_CW_FLAG_END_STREAM 0x02
#define GPX_CW_HEADER_LEN 5

/* Writes the 5-byte header of an envelope. */
void gpx_cw_envelope_header(uint8_t out[GPX_CW_HEADER_LEN], uint8_t flags, uint32_t len);

/* Appends a whole envelope (header and payload) to b. Returns -1 when len
 * does not fit the 32-bit length or b's limit; b is then unchanged. */
int gpx_cw_envelope_append(gpx_buf *b, uint8_t flags, const void *payload, size_t len);

/* Reassembles envelopes from bytes that arrive in pieces of any size. */
typedef struct gpx_cw_reader {
	uint8_t hdr[GPX_CW_HEADER_LEN];
	size_t hdr_len;	 /* header bytes seen of the current envelope */
	uint8_t flags;	 /* of the current envelope, once its header is in */
	uint32_t need;	 /* its payload length */
	gpx_buf payload; /* the payload so far; NUL-terminated */
	size_t max_len;	 /* longest payload accepted */
	int ready;	 /* a whole envelope is in flags and payload */
} gpx_cw_reader;

void gpx_cw_reader_init(gpx_cw_reader *r, size_t max_len);
void gpx_cw_reader_free(gpx_cw_reader *r);

/* Consumes bytes from p[0..n) up to the end of one envelope and sets *used
 * to how many it took. Returns 1 when an envelope is complete (r->flags,
 * r->payload; call gpx_cw_reader_next before feeding more), 0 when all of
 * p was taken without completing one, and -1 with st set (GPX_RESOURCE_
 * EXHAUSTED) when a header declares a payload longer than max_len: the
 * length is checked before anything is allocated for it. */
int gpx_cw_reader_feed(gpx_cw_reader *r, const uint8_t *p, size_t n, size_t *used, gpx_status *st);

/* Forgets the envelope just returned, keeping the memory. */
void gpx_cw_reader_next(gpx_cw_reader *r);

/* 1 between envelopes (no partial header or payload held), else 0: a
 * stream that ends when this is 0 was cut off. */
int gpx_cw_reader_idle(const gpx_cw_reader *r);

/* The Connect error carried by a failed unary call (or a streaming call
 * refused before it started): the body of a non-200 response. A JSON body
 * {"code","message"} gives both; otherwise the code comes from the HTTP
 * status, as the Connect specification maps it, and the message names the
 * status and quotes the start of a textual body. out never gets GPX_OK.
 * Control characters in the message become spaces, so that it prints on
 * one line. */
void gpx_cw_error_from_body(const char *body, size_t len, int http_status, gpx_status *out);

/* Reads an end-of-stream message into out: GPX_OK when it carries no
 * "error", the error's code and message when it does, GPX_INTERNAL when the
 * payload is not such a message. */
void gpx_cw_parse_end_stream(const char *json, size_t len, gpx_status *out);

#endif
