#include "server/rpc/stream.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/base64.h"
#include "common/gzip.h"
#include "common/log.h"
#include "server/rpc/call.h"
#include "server/rpc/connect.h"
#include "server/rpc/json.h"
#include "server/rpc/router.h"

/* Envelope flags. */
#define F_COMPRESSED 0x01
#define F_END_STREAM 0x02 /* Connect, server to client */
#define F_TRAILERS 0x80	  /* gRPC-Web, server to client */

/* Messages smaller than this are not worth compressing. */
#define GZIP_MIN_BYTES 1024

/* ------------------------------------------------------------ envelopes */

void gpx_envelope_reader_init(gpx_envelope_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void gpx_envelope_reader_free(gpx_envelope_reader *r)
{
	free(r->msg);
	r->msg = NULL;
}

int gpx_envelope_pending(const gpx_envelope_reader *r)
{
	return r->hdr_have > 0 || r->in_msg;
}

int gpx_envelope_feed(gpx_envelope_reader *r, const uint8_t *p, size_t n, gpx_envelope_fn fn,
		      void *ud, gpx_status *st)
{
	while (n > 0) {
		if (!r->in_msg) {
			size_t k = 5 - r->hdr_have;
			if (k > n)
				k = n;
			memcpy(r->hdr + r->hdr_have, p, k);
			r->hdr_have += k;
			p += k;
			n -= k;
			if (r->hdr_have < 5)
				return 0;
			uint32_t len = (uint32_t)r->hdr[1] << 24 | (uint32_t)r->hdr[2] << 16 |
				       (uint32_t)r->hdr[3] << 8 | r->hdr[4];
			if (len > r->max)
				return gpx_status_set(
					st, GPX_RESOURCE_EXHAUSTED,
					"message of %u bytes is over the limit of %zu", len,
					r->max);
			r->msg_len = len;
			r->msg_have = 0;
			r->msg = malloc(len ? len : 1);
			if (!r->msg)
				return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
			r->in_msg = 1;
		}
		size_t k = r->msg_len - r->msg_have;
		if (k > n)
			k = n;
		memcpy(r->msg + r->msg_have, p, k);
		r->msg_have += k;
		p += k;
		n -= k;
		if (r->msg_have < r->msg_len)
			return 0;
		uint8_t *msg = r->msg;
		r->msg = NULL;
		r->in_msg = 0;
		r->hdr_have = 0;
		int rc = fn(ud, r->hdr[0], msg, r->msg_len);
		free(msg);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ helpers */

int gpx_grpc_parse_timeout(const char *v, double *seconds)
{
	size_t n = strlen(v);
	if (n < 2 || n > 9 || strspn(v, "0123456789") != n - 1)
		return -1;
	double x = (double)strtoull(v, NULL, 10);
	switch (v[n - 1]) {
	case 'H': x *= 3600; break;
	case 'M': x *= 60; break;
	case 'S': break;
	case 'm': x /= 1e3; break;
	case 'u': x /= 1e6; break;
	case 'n': x /= 1e9; break;
	default: return -1;
	}
	*seconds = x;
	return 0;
}

void gpx_grpc_percent_encode(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < cap; p++) {
		if (*p >= 0x20 && *p <= 0x7e && *p != '%') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

/* ------------------------------------------------------------ the call */

typedef enum { P_CONNECT, P_GRPC, P_GRPC_WEB } sproto;

typedef struct sstream {
	gpx_call call;
	sproto proto;
	int json, text;
	int in_gzip, out_gzip;
	gpx_envelope_reader rd;
	char b64carry[4];
	size_t b64n;
	int nreq;
	int started, headers_sent, finished;
	int busy;      /* inside our own input processing */
	int has_abort; /* the adapter ended a started call: this status wins */
	gpx_status abort_status;
	int free_pending; /* finished while busy: freed when it returns */
	char content_type[64];
	gpx_header extra[4];
	char *extra_mem[8];
	size_t nextra;
	gpx_buf tmp;
} sstream;

static void ss_free(sstream *s)
{
	if (s->call.request)
		protobuf_c_message_free_unpacked(s->call.request, NULL);
	gpx_envelope_reader_free(&s->rd);
	for (size_t i = 0; i < 2 * s->nextra; i++)
		free(s->extra_mem[i]);
	gpx_buf_free(&s->tmp);
	free(s);
}

static int write_out(sstream *s, const uint8_t *p, size_t n)
{
	gpx_exchange *ex = s->call.ex;
	if (!s->text)
		return ex->ops->write(ex, p, n);
	/* gRPC-Web-text: each write is a complete base64 chunk of whole
	 * envelopes, which clients decode one after the other. */
	gpx_buf b;
	gpx_buf_init(&b, 0);
	if (gpx_buf_reserve(&b, gpx_base64_encoded_len(n) + 1) < 0)
		return -1;
	b.len = gpx_base64_encode((char *)b.data, p, n, 0);
	int rc = ex->ops->write(ex, b.data, b.len);
	gpx_buf_free(&b);
	return rc;
}

static void send_headers(sstream *s, const gpx_header *more, size_t nmore)
{
	if (s->headers_sent)
		return;
	s->headers_sent = 1;
	gpx_header h[16];
	size_t n = 0;
	h[n++] = (gpx_header){"content-type", s->content_type};
	if (s->out_gzip)
		h[n++] = (gpx_header){s->proto == P_CONNECT ? "connect-content-encoding" :
							      "grpc-encoding",
				      "gzip"};
	if (s->proto != P_CONNECT)
		h[n++] = (gpx_header){"grpc-accept-encoding", "gzip, identity"};
	else
		h[n++] = (gpx_header){"connect-accept-encoding", "gzip, identity"};
	for (size_t i = 0; i < s->nextra && n < 12; i++)
		h[n++] = s->extra[i];
	for (size_t i = 0; i < nmore && n < 16; i++)
		h[n++] = more[i];
	s->call.ex->ops->respond(s->call.ex, 200, h, n);
}

static int ss_send(gpx_call *c, const ProtobufCMessage *msg)
{
	sstream *s = (sstream *)c;
	if (!c->ex || s->finished)
		return -1;
	gpx_buf *b = &s->tmp;
	gpx_buf_reset(b);
	gpx_buf_append(b, "\0\0\0\0\0", 5);
	if (s->json) {
		gpx_json_opts o = {.emit_defaults = 1};
		gpx_status st;
		if (gpx_json_encode(msg, b, &o, &st) < 0)
			return -1;
	} else {
		size_t n = protobuf_c_message_get_packed_size(msg);
		if (gpx_buf_reserve(b, n) < 0)
			return -1;
		b->len += protobuf_c_message_pack(msg, b->data + 5);
	}
	size_t len = b->len - 5;
	uint8_t flags = 0;
	gpx_buf z;
	gpx_buf_init(&z, 0);
	if (s->out_gzip && len >= GZIP_MIN_BYTES) {
		gpx_buf_append(&z, "\0\0\0\0\0", 5);
		if (gpx_gzip(b->data + 5, len, 1, &z) == 0 && z.len - 5 < len) {
			flags = F_COMPRESSED;
			b = &z;
			len = z.len - 5;
		}
	}
	b->data[0] = flags;
	b->data[1] = (uint8_t)(len >> 24);
	b->data[2] = (uint8_t)(len >> 16);
	b->data[3] = (uint8_t)(len >> 8);
	b->data[4] = (uint8_t)len;
	send_headers(s, NULL, 0);
	int rc = write_out(s, b->data, b->len);
	gpx_buf_free(&z);
	return rc;
}

static void ss_header(gpx_call *c, const char *name, const char *value)
{
	sstream *s = (sstream *)c;
	if (s->nextra >= 4 || s->headers_sent)
		return;
	char *n = strdup(name), *v = strdup(value);
	s->extra_mem[2 * s->nextra] = n;
	s->extra_mem[2 * s->nextra + 1] = v;
	s->extra[s->nextra++] = (gpx_header){n, v};
}

static void detach(sstream *s)
{
	gpx_exchange *ex = s->call.ex;
	if (!ex)
		return;
	ex->on_data = NULL;
	ex->on_end = NULL;
	ex->on_gone = NULL;
	ex->on_writable = NULL;
	ex->route_data = NULL;
	ex->ops->discard_input(ex);
}

/* Frees s unless our own input processing is on the stack, which then
 * frees it when it unwinds. */
static void ss_release(sstream *s)
{
	if (s->busy)
		s->free_pending = 1;
	else
		ss_free(s);
}

static void ss_finish(gpx_call *c, const gpx_status *st)
{
	sstream *s = (sstream *)c;
	if (s->has_abort)
		st = &s->abort_status;
	gpx_exchange *ex = c->ex;
	if (s->finished)
		return;
	s->finished = 1;
	if (!ex || atomic_load(&c->gone)) {
		ss_release(s);
		return;
	}
	detach(s);
	ex->code = (int)st->code;
	char code[8], msg[GPX_STATUS_MSG_MAX * 3];
	snprintf(code, sizeof(code), "%d", (int)st->code);
	gpx_grpc_percent_encode(st->code == GPX_OK ? "" : st->msg, msg, sizeof(msg));
	if (s->proto == P_CONNECT) {
		send_headers(s, NULL, 0);
		gpx_buf b;
		gpx_buf_init(&b, 0);
		gpx_buf_append(&b, "\x02\0\0\0\0", 5);
		if (st->code == GPX_OK) {
			gpx_buf_append_str(&b, "{}");
		} else {
			gpx_buf_append_str(&b, "{\"error\":");
			connect_error_json(&b, st);
			gpx_buf_append_str(&b, "}");
		}
		size_t len = b.len - 5;
		b.data[1] = (uint8_t)(len >> 24);
		b.data[2] = (uint8_t)(len >> 16);
		b.data[3] = (uint8_t)(len >> 8);
		b.data[4] = (uint8_t)len;
		ex->ops->write(ex, b.data, b.len);
		gpx_buf_free(&b);
		ex->ops->end(ex, NULL, 0);
	} else if (!s->headers_sent) {
		/* Trailers-only: the status rides in the headers. */
		gpx_header h[] = {{"grpc-status", code}, {"grpc-message", msg}};
		send_headers(s, h, st->code == GPX_OK ? 1 : 2);
		ex->ops->end(ex, NULL, 0);
	} else if (s->proto == P_GRPC) {
		gpx_header t[] = {{"grpc-status", code}, {"grpc-message", msg}};
		ex->ops->end(ex, t, st->code == GPX_OK ? 1 : 2);
	} else {
		gpx_buf b;
		gpx_buf_init(&b, 0);
		gpx_buf_append(&b, "\x80\0\0\0\0", 5);
		gpx_buf_printf(&b, "grpc-status:%s\r\n", code);
		if (st->code != GPX_OK)
			gpx_buf_printf(&b, "grpc-message:%s\r\n", msg);
		size_t len = b.len - 5;
		b.data[1] = (uint8_t)(len >> 24);
		b.data[2] = (uint8_t)(len >> 16);
		b.data[3] = (uint8_t)(len >> 8);
		b.data[4] = (uint8_t)len;
		write_out(s, b.data, b.len);
		gpx_buf_free(&b);
		ex->ops->end(ex, NULL, 0);
	}
	ss_release(s);
}

static const gpx_call_ops stream_ops = {
	.send = ss_send,
	.finish = ss_finish,
	.header = ss_header,
};

static int unbusy(sstream *s);

/* Ends the call from the adapter's side (a bad message, a protocol
 * error). A handler that already runs is told through on_cancel, so it
 * frees its state and finishes the call itself; the status sent is ours. */
static void ss_abort(sstream *s, const gpx_status *st)
{
	if (s->finished)
		return;
	if (s->started && s->call.on_cancel && !s->has_abort) {
		s->abort_status = *st;
		s->has_abort = 1;
		s->busy++;
		s->call.on_cancel(&s->call);
		if (!s->finished)
			ss_finish(&s->call, st); /* the handler left it to us */
		unbusy(s);
		return;
	}
	ss_finish(&s->call, st);
}

static void fail(sstream *s, gpx_code code, const char *fmt, const char *arg)
{
	gpx_status st;
	gpx_status_set(&st, code, fmt, arg);
	ss_abort(s, &st);
}

static void ss_start(sstream *s)
{
	s->started = 1;
	gpx_call_start(&s->call);
}

/* One complete request envelope. */
static int on_envelope(void *ud, uint8_t flags, uint8_t *data, size_t len)
{
	sstream *s = ud;
	gpx_status st = {0};
	gpx_buf plain;
	gpx_buf_init(&plain, 0);
	if (flags & ~F_COMPRESSED) {
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "unexpected envelope flags 0x%02x",
			       flags);
		goto fail;
	}
	if (flags & F_COMPRESSED) {
		if (!s->in_gzip) {
			gpx_status_set(&st,
				       s->proto == P_CONNECT ? GPX_INVALID_ARGUMENT : GPX_INTERNAL,
				       "compressed message without a message encoding");
			goto fail;
		}
		size_t limit = (size_t)s->call.srv->cfg.max_message_bytes;
		int r = gpx_gunzip(data, len, limit, &plain);
		if (r == -2) {
			gpx_status_set(&st, GPX_RESOURCE_EXHAUSTED,
				       "decompressed message is over the limit of %zu bytes",
				       limit);
			goto fail;
		}
		if (r < 0) {
			gpx_status_set(&st,
				       s->proto == P_CONNECT ? GPX_INVALID_ARGUMENT : GPX_INTERNAL,
				       "message is not valid gzip");
			goto fail;
		}
		data = plain.data;
		len = plain.len;
	}
	const gpx_method *m = s->call.method;
	ProtobufCMessage *msg = NULL;
	if (s->json) {
		if (gpx_json_decode(m->input, (const char *)data, len, &msg, &st) < 0)
			goto fail;
	} else {
		msg = protobuf_c_message_unpack(m->input, NULL, len, data ? data : (uint8_t *)"");
		if (!msg) {
			gpx_status_set(&st, GPX_INVALID_ARGUMENT,
				       "request is not a valid %s message", m->input->name);
			goto fail;
		}
	}
	gpx_buf_free(&plain);
	s->nreq++;
	if (m->client_streaming) {
		if (!s->started)
			ss_start(s);
		if (s->finished || !s->call.on_message) {
			protobuf_c_message_free_unpacked(msg, NULL);
			return s->finished ? -1 : 0;
		}
		s->call.on_message(&s->call, msg);
		return s->finished ? -1 : 0;
	}
	if (s->nreq > 1) {
		protobuf_c_message_free_unpacked(msg, NULL);
		gpx_status_set(&st, GPX_INVALID_ARGUMENT, "%s takes exactly one request message",
			       m->full_name);
		ss_abort(s, &st);
		return -1;
	}
	s->call.request = msg;
	return 0;
fail:
	gpx_buf_free(&plain);
	ss_abort(s, &st);
	return -1;
}

/* Ends a stretch of input processing; -1 when s is gone. */
static int unbusy(sstream *s)
{
	if (--s->busy == 0 && s->free_pending) {
		ss_free(s);
		return -1;
	}
	return s->finished ? -1 : 0;
}

static int feed(sstream *s, const uint8_t *p, size_t n)
{
	gpx_status st = {0};
	s->busy++;
	if (gpx_envelope_feed(&s->rd, p, n, on_envelope, s, &st) < 0 && !s->finished)
		ss_abort(s, &st);
	return unbusy(s);
}

static int ss_data(gpx_exchange *ex, const uint8_t *p, size_t n)
{
	sstream *s = ex->route_data;
	if (!s->text)
		return feed(s, p, n);
	/* gRPC-Web-text: decode whole quartets, carry the rest. */
	uint8_t out[3 * 1024];
	while (n > 0) {
		char q[4 * 1024];
		size_t k = s->b64n;
		memcpy(q, s->b64carry, k);
		while (n > 0 && k < sizeof(q)) {
			if (!isspace(*p))
				q[k++] = (char)*p;
			p++;
			n--;
		}
		size_t whole = k / 4 * 4;
		s->b64n = k - whole;
		memcpy(s->b64carry, q + whole, s->b64n);
		long d = gpx_base64_decode(out, q, whole);
		if (d < 0) {
			fail(s, GPX_INVALID_ARGUMENT, "%s", "request body is not valid base64");
			return -1;
		}
		if (feed(s, out, (size_t)d) < 0)
			return -1;
	}
	return 0;
}

static void ss_end_inner(sstream *s);

static void ss_end(gpx_exchange *ex)
{
	sstream *s = ex->route_data;
	s->busy++;
	ss_end_inner(s);
	unbusy(s);
}

static void ss_end_inner(sstream *s)
{
	if (s->b64n || gpx_envelope_pending(&s->rd)) {
		fail(s, GPX_INVALID_ARGUMENT, "%s", "request ends inside a message");
		return;
	}
	const gpx_method *m = s->call.method;
	if (m->client_streaming) {
		if (!s->started)
			ss_start(s);
		if (!s->finished && s->call.on_half_close)
			s->call.on_half_close(&s->call);
		return;
	}
	if (!s->call.request) {
		fail(s, GPX_INVALID_ARGUMENT, "%s takes one request message and got none",
		     m->full_name);
		return;
	}
	ss_start(s);
}

static void ss_gone(gpx_exchange *ex)
{
	sstream *s = ex->route_data;
	if (!s->started) {
		/* No handler ever saw it: nobody else will finish it. */
		ss_free(s);
		return;
	}
	/* The handler finishes the call (maybe right here, freeing s). */
	gpx_call_cancel(&s->call);
}

static void ss_writable(gpx_exchange *ex)
{
	sstream *s = ex->route_data;
	if (s && s->call.on_writable)
		s->call.on_writable(&s->call);
}

static int has_gzip(const char *v)
{
	return v && strcasestr(v, "gzip") != NULL;
}

int gpx_stream_dispatch(gpx_exchange *ex, const gpx_method *m, const char *mt)
{
	sproto proto;
	const char *codec;
	int text = 0;
	if (strncmp(mt, "application/connect+", 20) == 0) {
		proto = P_CONNECT;
		codec = mt + 20;
	} else if (strncmp(mt, "application/grpc-web-text", 25) == 0) {
		proto = P_GRPC_WEB;
		text = 1;
		codec = mt[25] == '+' ? mt + 26 : "proto";
	} else if (strncmp(mt, "application/grpc-web", 20) == 0) {
		proto = P_GRPC_WEB;
		codec = mt[20] == '+' ? mt + 21 : "proto";
	} else if (strncmp(mt, "application/grpc", 16) == 0) {
		proto = P_GRPC;
		codec = mt[16] == '+' ? mt + 17 : "proto";
	} else {
		return 0;
	}
	ex->protocol = proto == P_CONNECT ? "connect" : proto == P_GRPC ? "grpc" : "grpc_web";
	sstream *s = calloc(1, sizeof(*s));
	if (!s) {
		ex->ops->discard_input(ex);
		gpx_ex_reply_error(ex, 503, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return 1;
	}
	s->proto = proto;
	s->text = text;
	s->json = strcmp(codec, "json") == 0;
	snprintf(s->content_type, sizeof(s->content_type), "%s", mt);
	gpx_buf_init(&s->tmp, 0);
	gpx_envelope_reader_init(&s->rd, (size_t)ex->srv->cfg.max_message_bytes);
	gpx_call *c = &s->call;
	c->ops = &stream_ops;
	c->method = m;
	c->srv = ex->srv;
	c->ex = ex;
	c->loop = ex->loop;
	c->protocol = ex->protocol;
	snprintf(c->request_id, sizeof(c->request_id), "%s", ex->request_id);
	ex->route_data = s;
	ex->on_data = ss_data;
	ex->on_end = ss_end;
	ex->on_gone = ss_gone;
	ex->on_writable = ss_writable;

	if (!s->json && strcmp(codec, "proto") != 0) {
		fail(s, proto == P_CONNECT ? GPX_INVALID_ARGUMENT : GPX_UNIMPLEMENTED,
		     "codec \"%s\" is not supported: use proto or json", codec);
		return 1;
	}
	if (proto == P_GRPC && strcmp(ex->http_version, "2") != 0) {
		s->headers_sent = 1; /* no gRPC framing over HTTP/1.1: plain error */
		detach(s);
		s->finished = 1;
		ex->code = GPX_UNIMPLEMENTED;
		gpx_ex_reply_error(ex, 505, GPX_UNIMPLEMENTED,
				   "gRPC needs HTTP/2; use gRPC-Web or Connect over HTTP/1.1");
		ss_free(s);
		return 1;
	}
	if (proto == P_CONNECT && !m->client_streaming && !m->server_streaming) {
		detach(s);
		s->finished = 1;
		gpx_ex_reply_error(ex, 415, GPX_INVALID_ARGUMENT,
				   "unary RPCs take application/json or application/proto");
		ss_free(s);
		return 1;
	}
	const char *enc = gpx_ex_header(ex, proto == P_CONNECT ? "connect-content-encoding" :
								 "grpc-encoding");
	if (enc && strcmp(enc, "identity") != 0) {
		if (strcmp(enc, "gzip") != 0) {
			fail(s, GPX_UNIMPLEMENTED, "message encoding \"%.40s\" is not supported",
			     enc);
			return 1;
		}
		s->in_gzip = 1;
	}
	s->out_gzip = has_gzip(gpx_ex_header(ex, proto == P_CONNECT ? "connect-accept-encoding" :
								      "grpc-accept-encoding"));
	const char *to = gpx_ex_header(ex, "connect-timeout-ms");
	const char *gto = gpx_ex_header(ex, "grpc-timeout");
	double secs;
	if (proto == P_CONNECT && to) {
		if (gpx_connect_parse_timeout(to, &secs) < 0) {
			fail(s, GPX_INVALID_ARGUMENT, "%s",
			     "connect-timeout-ms must be 1 to 10 digits");
			return 1;
		}
		c->deadline = gpx_now_mono() + secs;
	} else if (proto != P_CONNECT && gto) {
		if (gpx_grpc_parse_timeout(gto, &secs) < 0) {
			fail(s, GPX_INVALID_ARGUMENT, "bad grpc-timeout \"%.20s\"", gto);
			return 1;
		}
		c->deadline = gpx_now_mono() + secs;
	}
	/* Client and bidi streams start now; the others once their single
	 * request message has arrived. */
	if (m->client_streaming)
		ss_start(s);
	return 1;
}
