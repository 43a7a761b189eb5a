/* A Connect protocol client over libcurl, binary protobuf only
 * (https://connectrpc.com/docs/protocol): unary calls (application/proto)
 * and streaming calls of every kind (application/connect+proto), plus the
 * plain GET that fetches stored image bytes.
 *
 * A gpx_cc holds the server's base URL and a curl handle that unary calls
 * share, so that a run of calls reuses one connection. It is not thread
 * safe. main calls curl_global_init before gpx_cc_new.
 *
 * Errors: every call fills a gpx_cc_error, which says whether the server
 * was never reached or the connection broke (transport), whether the server
 * or the protocol answered with a Connect error (rpc), or whether one of
 * the caller's callbacks stopped the call (local). gpx_cc_error_text makes
 * the one line a user should see. */
#ifndef GPX_CLI_CONNECT_CLIENT_H
#define GPX_CLI_CONNECT_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <protobuf-c/protobuf-c.h>

#include "common/status.h"

typedef struct gpx_cc gpx_cc;

typedef struct gpx_cc_opts {
	const char *base_url;	 /* "http://127.0.0.1:8080"; a trailing '/' is ignored */
	long connect_timeout_ms; /* 0: 10 s */
	long timeout_ms;	 /* whole call, sent as Connect-Timeout-Ms; 0: none */
	size_t max_message;	 /* longest response message; 0: 64 MiB */
	int http2;		 /* HTTP/2 for every call (prior knowledge on http://) */
	const char *user_agent;	 /* NULL: "gpix-cli" */
} gpx_cc_opts;

typedef enum gpx_cc_fail {
	GPX_CC_OK = 0,
	GPX_CC_TRANSPORT, /* no Connect answer: unreachable, or the connection broke */
	GPX_CC_RPC,	  /* a Connect error from the server, or a protocol violation */
	GPX_CC_LOCAL,	  /* a callback of the caller stopped the call */
} gpx_cc_fail;

typedef struct gpx_cc_error {
	gpx_cc_fail kind;
	/* transport: code UNAVAILABLE or DEADLINE_EXCEEDED and a message that
	 * names the server ("cannot reach http://…: connection refused");
	 * rpc: the Connect code and the server's message; local: what the
	 * callback set. */
	gpx_status st;
} gpx_cc_error;

/* The line to show a user, without a newline: the transport or local
 * message as is, "<code>: <message>" for an rpc error. */
const char *gpx_cc_error_text(const gpx_cc_error *e, char *buf, size_t cap);

/* NULL with st set when the URL is not http:// or https:// or memory runs
 * out. opts is copied; base_url need not outlive the call. */
gpx_cc *gpx_cc_new(const gpx_cc_opts *opts, gpx_status *st);
void gpx_cc_free(gpx_cc *c);
/* The normalised base URL (no trailing '/'). */
const char *gpx_cc_base_url(const gpx_cc *c);

/* Unary call of method ("gpix.v1.ImageService/GetVersion"). On success
 * returns 0 and *resp is a new message of type resp_desc that the caller
 * frees with protobuf_c_message_free_unpacked(*resp, NULL). On failure
 * returns -1, *resp is NULL and err says why. */
int gpx_cc_unary(gpx_cc *c, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		 gpx_cc_error *err);

/* What next_request tells the request side to do. */
enum {
	GPX_CC_CLOSE = 0, /* the request stream is complete */
	GPX_CC_SEND = 1,  /* send *msg */
	GPX_CC_WAIT = 2,  /* send nothing until the next response message */
};

typedef struct gpx_cc_stream_cbs {
	/* Asked whenever the request side can take another message. Returns
	 * GPX_CC_SEND with *msg set (still the callback's: it is encoded
	 * before next_request is called again), GPX_CC_WAIT, GPX_CC_CLOSE, or
	 * -1 with st set to cancel the call. */
	int (*next_request)(void *user, const ProtobufCMessage **msg, gpx_status *st);
	/* Each response message, in order; msg is freed when this returns.
	 * Returns 0 to go on, -1 with st set to cancel the call. */
	int (*on_response)(void *user, const ProtobufCMessage *msg, gpx_status *st);
} gpx_cc_stream_cbs;

/* Flags of gpx_cc_stream. */
#define GPX_CC_BIDI 0x01u /* requests and responses interleave: needs HTTP/2 */

/* A streaming call: client streaming (next_request sends several messages,
 * on_response gets one), server streaming (one request, many responses) or
 * bidirectional (GPX_CC_BIDI: next_request may GPX_CC_WAIT for answers).
 * Runs until the server's end-of-stream message. Returns 0 when the stream
 * ended without error, -1 with err set otherwise; a Connect error in the
 * end-of-stream message is an rpc error. */
int gpx_cc_stream(gpx_cc *c, const char *method, const ProtobufCMessageDescriptor *resp_desc,
		  const gpx_cc_stream_cbs *cbs, void *user, unsigned flags, gpx_cc_error *err);

/* GET base_url + path (already escaped) and writes a 2xx body to out;
 * *bytes gets its length. Any other status is an rpc error read from the
 * Connect JSON error body the server sends. */
int gpx_cc_download(gpx_cc *c, const char *path, FILE *out, uint64_t *bytes, gpx_cc_error *err);

#endif
