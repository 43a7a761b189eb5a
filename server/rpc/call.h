/* One RPC, whatever protocol carried it.
 *
 * Protocol adapters (Connect, REST, later gRPC and gRPC-Web) decode the
 * request into a protobuf-c message, make a gpx_call and run the method's
 * handler. The handler answers with gpx_call_reply / gpx_call_fail — now or
 * later, from the loop thread (work done on workers comes back through
 * gpx_loop_post). Handlers never see the protocol or HTTP version.
 *
 * Lifetime: the call lives until gpx_call_finish (reply and fail finish it).
 * If the client goes away first, call->gone is set and on_cancel (if the
 * handler set one) runs; the handler must still finish the call, which then
 * only frees it. */
#ifndef GPX_CALL_H
#define GPX_CALL_H

#include <protobuf-c/protobuf-c.h>
#include <stdatomic.h>

#include "common/status.h"
#include "server/net/exchange.h"
#include "server/rpc/methods.h"
#include "server/server.h"

typedef struct gpx_call gpx_call;

typedef struct gpx_call_ops {
	/* Sends one response message (unary: exactly one before finish). */
	int (*send)(gpx_call *c, const ProtobufCMessage *msg);
	/* Ends the call with st (GPX_OK or an error) and frees the call. */
	void (*finish)(gpx_call *c, const gpx_status *st);
	/* Extra response headers for HTTP (e.g. Retry-After); copied. */
	void (*header)(gpx_call *c, const char *name, const char *value);
	/* Optional: reports an error about one request message without ending
	 * the call (WebSocket's "error" message). NULL: errors end calls. */
	void (*error)(gpx_call *c, const gpx_status *st);
} gpx_call_ops;

struct gpx_call {
	const gpx_call_ops *ops;
	const gpx_method *method;
	gpx_server *srv;
	gpx_exchange *ex; /* NULL once the client is gone */
	gpx_loop *loop;
	const char *protocol;
	char request_id[64];	   /* a copy: the exchange may go first */
	double deadline;	   /* monotonic seconds, 0: none */
	atomic_int gone;	   /* the client went away or cancelled */
	ProtobufCMessage *request; /* decoded request (owned by the call) */

	/* Handler state. */
	void (*on_cancel)(gpx_call *c);
	/* Client and bidi streaming: each request message (the handler owns
	 * it: protobuf_c_message_free_unpacked), then the half-close. */
	void (*on_message)(gpx_call *c, ProtobufCMessage *msg);
	void (*on_half_close)(gpx_call *c);
	/* Output drained: the handler may send more (backpressure). */
	void (*on_writable)(gpx_call *c);
	void *handler_data;
};

static inline int gpx_call_send(gpx_call *c, const ProtobufCMessage *msg)
{
	return c->ops->send(c, msg);
}

static inline void gpx_call_finish(gpx_call *c, const gpx_status *st)
{
	c->ops->finish(c, st);
}

/* send + finish OK. */
void gpx_call_reply(gpx_call *c, const ProtobufCMessage *msg);
/* finish with an error. */
void gpx_call_fail(gpx_call *c, gpx_code code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Request metadata (HTTP headers, lower-case names); NULL if absent or gone. */
const char *gpx_call_header(const gpx_call *c, const char *name);
void gpx_call_set_header(gpx_call *c, const char *name, const char *value);

/* Response bytes queued and not yet written to the socket. */
size_t gpx_call_pending(const gpx_call *c);

/* Called by adapters when the exchange goes away. */
void gpx_call_cancel(gpx_call *c);

/* Runs the method's handler, or fails with unimplemented. */
void gpx_call_start(gpx_call *c);

#endif
