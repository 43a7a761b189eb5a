#include "cli/connect_client.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "cli/connect_wire.h"
#include "common/buf.h"

#define DEFAULT_CONNECT_TIMEOUT_MS 10000L
#define DEFAULT_MAX_MESSAGE ((size_t)64 << 20)
/* Error bodies are short JSON; a proxy's HTML page needs no more than this. */
#define MAX_ERROR_BODY ((size_t)64 << 10)
/* The server gets the deadline first and answers deadline_exceeded; curl
 * gives up only if that answer never comes. */
#define TIMEOUT_MARGIN_MS 2000L

struct gpx_cc {
	gpx_cc_opts opts;
	char *base_url;
	char *user_agent;
	int tls;
	CURL *unary; /* shared by unary calls and downloads: keeps the connection */
	char errbuf[CURL_ERROR_SIZE];
};

const char *gpx_cc_error_text(const gpx_cc_error *e, char *buf, size_t cap)
{
	if (e->kind == GPX_CC_RPC && e->st.msg[0])
		snprintf(buf, cap, "%s: %s", gpx_code_name(e->st.code), e->st.msg);
	else if (e->kind == GPX_CC_RPC)
		snprintf(buf, cap, "%s", gpx_code_name(e->st.code));
	else
		snprintf(buf, cap, "%s", e->st.msg);
	return buf;
}

static void err_clear(gpx_cc_error *err)
{
	err->kind = GPX_CC_OK;
	gpx_status_clear(&err->st);
}

static int err_set(gpx_cc_error *err, gpx_cc_fail kind, gpx_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int err_set(gpx_cc_error *err, gpx_cc_fail kind, gpx_code code, const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	va_start(ap, fmt);
	gpx_status_vset(&err->st, code, fmt, ap);
	va_end(ap);
	return -1;
}

gpx_cc *gpx_cc_new(const gpx_cc_opts *opts, gpx_status *st)
{
	gpx_cc *c;
	size_t n;

	if (!opts->base_url || (strncasecmp(opts->base_url, "http://", 7) != 0 &&
				strncasecmp(opts->base_url, "https://", 8) != 0)) {
		gpx_status_set(st, GPX_INVALID_ARGUMENT,
			       "server URL \"%s\" must start with http:// or https://",
			       opts->base_url ? opts->base_url : "");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		goto fail_alloc;
	c->opts = *opts;
	if (!c->opts.connect_timeout_ms)
		c->opts.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	if (!c->opts.max_message)
		c->opts.max_message = DEFAULT_MAX_MESSAGE;
	c->base_url = strdup(opts->base_url);
	if (!c->base_url)
		goto fail_url;
	n = strlen(c->base_url);
	while (n > 0 && c->base_url[n - 1] == '/')
		c->base_url[--n] = 0;
	c->opts.base_url = c->base_url;
	c->user_agent = strdup(opts->user_agent ? opts->user_agent : "gpix-cli");
	if (!c->user_agent)
		goto fail_ua;
	c->opts.user_agent = c->user_agent;
	c->tls = strncasecmp(c->base_url, "https://", 8) == 0;
	c->unary = curl_easy_init();
	if (!c->unary)
		goto fail_curl;
	return c;

fail_curl:
	free(c->user_agent);
fail_ua:
	free(c->base_url);
fail_url:
	free(c);
fail_alloc:
	gpx_status_set(st, GPX_RESOURCE_EXHAUSTED, "out of memory");
	return NULL;
}

void gpx_cc_free(gpx_cc *c)
{
	if (!c)
		return;
	curl_easy_cleanup(c->unary);
	free(c->user_agent);
	free(c->base_url);
	free(c);
}

const char *gpx_cc_base_url(const gpx_cc *c)
{
	return c->base_url;
}

/* ---- shared curl set-up and error mapping ---- */

static long http_version(const gpx_cc *c, int need_h2)
{
	if (!need_h2 && !c->opts.http2)
		return CURL_HTTP_VERSION_1_1;
	return c->tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
}

/* Headers every Connect POST carries; content_type decides unary or
 * streaming. NULL when memory runs out. */
static struct curl_slist *connect_headers(const gpx_cc *c, const char *content_type, int chunked)
{
	struct curl_slist *h = NULL, *t;
	char line[128];

#define ADD(s)                                 \
	do {                                   \
		t = curl_slist_append(h, (s)); \
		if (!t)                        \
			goto fail;             \
		h = t;                         \
	} while (0)
	snprintf(line, sizeof(line), "Content-Type: %s", content_type);
	ADD(line);
	ADD("Connect-Protocol-Version: 1");
	/* curl would otherwise wait for a 100 Continue on HTTP/1.1 bodies. */
	ADD("Expect:");
	if (chunked)
		ADD("Transfer-Encoding: chunked");
	if (c->opts.timeout_ms > 0) {
		snprintf(line, sizeof(line), "Connect-Timeout-Ms: %ld", c->opts.timeout_ms);
		ADD(line);
	}
#undef ADD
	return h;
fail:
	curl_slist_free_all(h);
	return NULL;
}

static void common_setup(gpx_cc *c, CURL *h, const char *url, long version)
{
	c->errbuf[0] = 0;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->opts.connect_timeout_ms);
	if (c->opts.timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->opts.timeout_ms + TIMEOUT_MARGIN_MS);
	curl_easy_setopt(h, CURLOPT_HTTP_VERSION, version);
	/* libcurl before 8.0 breaks a reused prior-knowledge HTTP/2 connection
	 * ("Error in the HTTP2 framing layer", curl/curl#10634): there, every
	 * call gets a connection of its own. */
	if (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE &&
	    curl_version_info(CURLVERSION_NOW)->version_num < 0x080000) {
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	}
	/* Connect has no redirects; a proxy's redirect is an answer to show. */
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
}

/* "No route to host" -> "no route to host", into buf. */
static const char *lower_first(const char *s, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s", s);
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* Turns a curl failure into one line that says whether the server was
 * reached at all. */
static int transport_error(gpx_cc *c, CURL *h, CURLcode rc, gpx_cc_error *err)
{
	long oserr = 0, sent = 0;
	curl_off_t total_us = 0;
	char why[CURL_ERROR_SIZE + 64], tmp[CURL_ERROR_SIZE];
	int reached;
	gpx_code code = GPX_UNAVAILABLE;

	curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
	curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
	reached = sent > 0;

	switch (rc) {
	case CURLE_COULDNT_CONNECT:
		reached = 0;
		if (oserr == ECONNREFUSED || oserr == 0)
			snprintf(why, sizeof(why), "connection refused");
		else
			snprintf(why, sizeof(why), "%s",
				 lower_first(strerror((int)oserr), tmp, sizeof(tmp)));
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		reached = 0;
		snprintf(why, sizeof(why), "host name not found");
		break;
	case CURLE_COULDNT_RESOLVE_PROXY:
		reached = 0;
		snprintf(why, sizeof(why), "proxy host name not found");
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		reached = 0;
		snprintf(why, sizeof(why), "unsupported URL scheme");
		break;
	case CURLE_URL_MALFORMAT:
		reached = 0;
		snprintf(why, sizeof(why), "malformed URL");
		break;
	case CURLE_OPERATION_TIMEDOUT:
		code = GPX_DEADLINE_EXCEEDED;
		if (c->opts.timeout_ms > 0)
			snprintf(why, sizeof(why), "%s within the deadline of %.3g s",
				 reached ? "no answer" : "no connection",
				 (double)c->opts.timeout_ms / 1e3);
		else
			snprintf(why, sizeof(why), "%s after %.1f s",
				 reached ? "no answer" : "connection timed out",
				 (double)total_us / 1e6);
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		reached = 0;
		snprintf(why, sizeof(why), "TLS: %s",
			 c->errbuf[0] ? lower_first(c->errbuf, tmp, sizeof(tmp)) :
					curl_easy_strerror(rc));
		break;
	case CURLE_GOT_NOTHING:
		snprintf(why, sizeof(why), "the server closed the connection without answering");
		break;
	case CURLE_PARTIAL_FILE:
		snprintf(why, sizeof(why), "the connection closed before the answer was complete");
		break;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
		if (oserr == ECONNRESET || oserr == EPIPE) {
			snprintf(why, sizeof(why), "connection reset by the server");
			break;
		}
		/* fall through */
	default:
		snprintf(why, sizeof(why), "%s",
			 c->errbuf[0] ? lower_first(c->errbuf, tmp, sizeof(tmp)) :
					curl_easy_strerror(rc));
		break;
	}
	if (reached)
		return err_set(err, GPX_CC_TRANSPORT, code, "request to %s failed: %s", c->base_url,
			       why);
	return err_set(err, GPX_CC_TRANSPORT, code, "cannot reach %s: %s", c->base_url, why);
}

static char *method_url(const gpx_cc *c, const char *method)
{
	size_t n = strlen(c->base_url) + strlen(method) + 2;
	char *url = malloc(n);

	if (url)
		snprintf(url, n, "%s/%s", c->base_url, method);
	return url;
}

/* "application/proto; charset=x" matches "application/proto". */
static int content_type_is(CURL *h, const char *want)
{
	char *ct = NULL;
	size_t n = strlen(want);

	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	return ct && strncasecmp(ct, want, n) == 0 && (ct[n] == 0 || ct[n] == ';' || ct[n] == ' ');
}

static const char *content_type_of(CURL *h)
{
	char *ct = NULL;

	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
	return ct ? ct : "none";
}

/* ---- unary ---- */

struct body_sink {
	gpx_buf buf;
	int over; /* the body went past buf's limit */
};

static size_t body_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct body_sink *s = ud;
	size_t n = size * nmemb;

	if (gpx_buf_append(&s->buf, p, n) < 0) {
		s->over = 1;
		return 0;
	}
	return n;
}

int gpx_cc_unary(gpx_cc *c, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp,
		 gpx_cc_error *err)
{
	struct body_sink sink;
	struct curl_slist *hdrs = NULL;
	uint8_t *packed = NULL;
	size_t packed_len;
	char *url = NULL;
	long status = 0;
	CURLcode rc;
	int ret = -1;

	*resp = NULL;
	err_clear(err);
	gpx_buf_init(&sink.buf, c->opts.max_message);
	sink.over = 0;

	packed_len = protobuf_c_message_get_packed_size(req);
	packed = malloc(packed_len ? packed_len : 1);
	url = method_url(c, method);
	hdrs = connect_headers(c, "application/proto", 0);
	if (!packed || !url || !hdrs) {
		err_set(err, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto out;
	}
	protobuf_c_message_pack(req, packed);

	curl_easy_reset(c->unary);
	common_setup(c, c->unary, url, http_version(c, 0));
	curl_easy_setopt(c->unary, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->unary, CURLOPT_POST, 1L);
	curl_easy_setopt(c->unary, CURLOPT_POSTFIELDS, (char *)packed);
	curl_easy_setopt(c->unary, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)packed_len);
	curl_easy_setopt(c->unary, CURLOPT_WRITEFUNCTION, body_write);
	curl_easy_setopt(c->unary, CURLOPT_WRITEDATA, &sink);

	rc = curl_easy_perform(c->unary);
	if (sink.over) {
		err_set(err, GPX_CC_RPC, GPX_RESOURCE_EXHAUSTED,
			"response is over the limit of %zu bytes", c->opts.max_message);
		goto out;
	}
	if (rc != CURLE_OK) {
		transport_error(c, c->unary, rc, err);
		goto out;
	}
	curl_easy_getinfo(c->unary, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		err->kind = GPX_CC_RPC;
		gpx_cw_error_from_body((const char *)sink.buf.data, sink.buf.len, (int)status,
				       &err->st);
		goto out;
	}
	if (!content_type_is(c->unary, "application/proto")) {
		err_set(err, GPX_CC_RPC, GPX_INTERNAL,
			"unexpected response Content-Type \"%s\" (want application/proto)",
			content_type_of(c->unary));
		goto out;
	}
	*resp = protobuf_c_message_unpack(resp_desc, NULL, sink.buf.len, sink.buf.data);
	if (!*resp) {
		err_set(err, GPX_CC_RPC, GPX_INTERNAL, "the response is not a valid %s message",
			resp_desc->name);
		goto out;
	}
	ret = 0;
out:
	curl_slist_free_all(hdrs);
	free(url);
	free(packed);
	gpx_buf_free(&sink.buf);
	return ret;
}

/* ---- streaming ---- */

enum { REQ_OPEN, REQ_WAIT, REQ_CLOSED };
enum { MODE_UNKNOWN, MODE_STREAM, MODE_ERROR_BODY };

struct stream_call {
	gpx_cc *c;
	CURL *h;
	const gpx_cc_stream_cbs *cbs;
	void *user;
	const ProtobufCMessageDescriptor *resp_desc;

	/* request side: encoded envelopes not yet handed to curl */
	gpx_buf out;
	size_t out_off;
	int req;
	int resume; /* unpause the request side once curl returns */

	/* response side */
	int mode;
	gpx_buf error_body;
	gpx_cw_reader rd;
	int got_end;
	gpx_status end;

	/* set when a callback or the protocol stopped the call */
	gpx_cc_error stop;
};

static int stream_stop(struct stream_call *s, gpx_cc_fail kind, gpx_code code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int stream_stop(struct stream_call *s, gpx_cc_fail kind, gpx_code code, const char *fmt, ...)
{
	va_list ap;

	if (s->stop.kind != GPX_CC_OK)
		return -1; /* keep the first reason */
	s->stop.kind = kind;
	va_start(ap, fmt);
	gpx_status_vset(&s->stop.st, code, fmt, ap);
	va_end(ap);
	return -1;
}

/* The response side has finished: a waiting request side must not wait
 * for answers that will not come. */
static void request_side_done(struct stream_call *s)
{
	if (s->req != REQ_CLOSED) {
		if (s->req == REQ_WAIT)
			s->resume = 1;
		s->req = REQ_CLOSED;
	}
}

static int encode_request(struct stream_call *s, const ProtobufCMessage *m)
{
	size_t len = protobuf_c_message_get_packed_size(m);
	uint8_t *dst;

	if (len > UINT32_MAX)
		return stream_stop(s, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED,
				   "request message of %zu bytes is too large", len);
	if (gpx_buf_reserve(&s->out, GPX_CW_HEADER_LEN + len) < 0)
		return stream_stop(s, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED, "out of memory");
	dst = s->out.data + s->out.len;
	gpx_cw_envelope_header(dst, 0, (uint32_t)len);
	protobuf_c_message_pack(m, dst + GPX_CW_HEADER_LEN);
	s->out.len += GPX_CW_HEADER_LEN + len;
	s->out.data[s->out.len] = 0;
	return 0;
}

static size_t stream_read(char *dst, size_t size, size_t nitems, void *ud)
{
	struct stream_call *s = ud;
	size_t cap = size * nitems, n;

	while (s->out_off == s->out.len) {
		const ProtobufCMessage *m = NULL;
		gpx_status st;
		int r;

		gpx_buf_reset(&s->out);
		s->out_off = 0;
		if (s->req == REQ_CLOSED || s->got_end)
			return 0;
		if (s->req == REQ_WAIT)
			return CURL_READFUNC_PAUSE;
		gpx_status_clear(&st);
		r = s->cbs->next_request(s->user, &m, &st);
		if (r < 0) {
			stream_stop(s, GPX_CC_LOCAL, st.code ? st.code : GPX_CANCELED, "%s",
				    st.msg[0] ? st.msg : "canceled");
			return CURL_READFUNC_ABORT;
		}
		if (r == GPX_CC_CLOSE) {
			s->req = REQ_CLOSED;
			return 0;
		}
		if (r == GPX_CC_WAIT) {
			s->req = REQ_WAIT;
			return CURL_READFUNC_PAUSE;
		}
		if (!m || encode_request(s, m) < 0) {
			stream_stop(s, GPX_CC_LOCAL, GPX_INTERNAL, "no request message to send");
			return CURL_READFUNC_ABORT;
		}
	}
	n = s->out.len - s->out_off;
	if (n > cap)
		n = cap;
	memcpy(dst, s->out.data + s->out_off, n);
	s->out_off += n;
	return n;
}

static void classify_response(struct stream_call *s)
{
	long status = 0;

	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200 && content_type_is(s->h, "application/connect+proto"))
		s->mode = MODE_STREAM;
	else
		s->mode = MODE_ERROR_BODY;
}

static int on_envelope(struct stream_call *s)
{
	const gpx_cw_reader *rd = &s->rd;
	ProtobufCMessage *m;
	gpx_status st;
	int r;

	if (s->got_end)
		return stream_stop(s, GPX_CC_RPC, GPX_INTERNAL,
				   "protocol error: data after the end-of-stream message");
	if (rd->flags & GPX_CW_FLAG_COMPRESSED)
		return stream_stop(s, GPX_CC_RPC, GPX_INTERNAL,
				   "protocol error: compressed message, but no compression was "
				   "negotiated");
	if (rd->flags & GPX_CW_FLAG_END_STREAM) {
		gpx_cw_parse_end_stream((const char *)rd->payload.data, rd->payload.len, &s->end);
		s->got_end = 1;
		request_side_done(s);
		return 0;
	}
	m = protobuf_c_message_unpack(s->resp_desc, NULL, rd->payload.len, rd->payload.data);
	if (!m)
		return stream_stop(s, GPX_CC_RPC, GPX_INTERNAL,
				   "a response message is not a valid %s", s->resp_desc->name);
	gpx_status_clear(&st);
	r = s->cbs->on_response ? s->cbs->on_response(s->user, m, &st) : 0;
	protobuf_c_message_free_unpacked(m, NULL);
	if (r < 0)
		return stream_stop(s, GPX_CC_LOCAL, st.code ? st.code : GPX_CANCELED, "%s",
				   st.msg[0] ? st.msg : "canceled");
	if (s->req == REQ_WAIT) {
		s->req = REQ_OPEN;
		s->resume = 1;
	}
	return 0;
}

static size_t stream_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct stream_call *s = ud;
	size_t len = size * nmemb, off = 0;

	if (s->mode == MODE_UNKNOWN)
		classify_response(s);
	if (s->mode == MODE_ERROR_BODY) {
		size_t room = MAX_ERROR_BODY - s->error_body.len;
		/* An error answer ends the call: stop sending. */
		request_side_done(s);
		if (gpx_buf_append(&s->error_body, p, len < room ? len : room) < 0)
			return 0;
		return len;
	}
	while (off < len) {
		size_t used;
		gpx_status st;
		int r = gpx_cw_reader_feed(&s->rd, (const uint8_t *)p + off, len - off, &used, &st);

		off += used;
		if (r < 0) {
			stream_stop(s, GPX_CC_RPC, st.code, "%s", st.msg);
			return 0;
		}
		if (r == 0)
			break;
		if (on_envelope(s) < 0)
			return 0;
		gpx_cw_reader_next(&s->rd);
	}
	return len;
}

/* Drives the transfer until it completes; curl's result in *rc. */
static int stream_run(struct stream_call *s, CURLcode *rc)
{
	CURLM *m = curl_multi_init();
	CURLMsg *msg;
	int running = 1, queued;

	if (!m)
		return -1;
	if (curl_multi_add_handle(m, s->h) != CURLM_OK) {
		curl_multi_cleanup(m);
		return -1;
	}
	*rc = CURLE_OK;
	while (running) {
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		/* Unpausing inside a callback would re-enter curl: do it here. */
		if (s->resume) {
			s->resume = 0;
			curl_easy_pause(s->h, CURLPAUSE_CONT);
		}
		if (running && curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
	}
	while ((msg = curl_multi_info_read(m, &queued)))
		if (msg->msg == CURLMSG_DONE)
			*rc = msg->data.result;
	curl_multi_remove_handle(m, s->h);
	curl_multi_cleanup(m);
	return 0;
}

int gpx_cc_stream(gpx_cc *c, const char *method, const ProtobufCMessageDescriptor *resp_desc,
		  const gpx_cc_stream_cbs *cbs, void *user, unsigned flags, gpx_cc_error *err)
{
	struct stream_call s;
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	long version;
	CURLcode rc = CURLE_OK;
	int ret = -1;

	err_clear(err);
	memset(&s, 0, sizeof(s));
	s.c = c;
	s.cbs = cbs;
	s.user = user;
	s.resp_desc = resp_desc;
	s.req = REQ_OPEN;
	gpx_buf_init(&s.out, 0);
	gpx_buf_init(&s.error_body, 0);
	gpx_cw_reader_init(&s.rd, c->opts.max_message);
	err_clear(&s.stop);

	if ((flags & GPX_CC_BIDI) &&
	    !(curl_version_info(CURLVERSION_NOW)->features & CURL_VERSION_HTTP2)) {
		err_set(err, GPX_CC_LOCAL, GPX_UNIMPLEMENTED,
			"%s needs HTTP/2, which this libcurl was built without", method);
		goto fail_h2;
	}
	version = http_version(c, (flags & GPX_CC_BIDI) != 0);
	s.h = curl_easy_init();
	url = method_url(c, method);
	hdrs = connect_headers(c, "application/connect+proto", version == CURL_HTTP_VERSION_1_1);
	if (!s.h || !url || !hdrs) {
		err_set(err, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto fail_setup;
	}
	common_setup(c, s.h, url, version);
	curl_easy_setopt(s.h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(s.h, CURLOPT_POST, 1L);
	curl_easy_setopt(s.h, CURLOPT_READFUNCTION, stream_read);
	curl_easy_setopt(s.h, CURLOPT_READDATA, &s);
	curl_easy_setopt(s.h, CURLOPT_WRITEFUNCTION, stream_write);
	curl_easy_setopt(s.h, CURLOPT_WRITEDATA, &s);

	if (stream_run(&s, &rc) < 0) {
		err_set(err, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED, "out of memory");
		goto fail_setup;
	}

	/* The most telling reason first: what the caller or the protocol
	 * stopped on, then the server's own error, then the transport. */
	if (s.stop.kind != GPX_CC_OK) {
		*err = s.stop;
	} else if (s.got_end && s.end.code != GPX_OK) {
		err->kind = GPX_CC_RPC;
		err->st = s.end;
	} else if (s.mode == MODE_ERROR_BODY) {
		long status = 0;
		curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &status);
		if (status == 200)
			err_set(err, GPX_CC_RPC, GPX_INTERNAL,
				"unexpected response Content-Type \"%s\" (want "
				"application/connect+proto)",
				content_type_of(s.h));
		else {
			err->kind = GPX_CC_RPC;
			gpx_cw_error_from_body((const char *)s.error_body.data, s.error_body.len,
					       (int)status, &err->st);
		}
	} else if (rc != CURLE_OK) {
		transport_error(c, s.h, rc, err);
	} else if (s.mode == MODE_UNKNOWN) {
		long status = 0;
		curl_easy_getinfo(s.h, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200)
			gpx_cw_error_from_body(NULL, 0, (int)status, &err->st);
		else
			gpx_status_set(&err->st, GPX_INTERNAL,
				       "empty streaming response (no end-of-stream message)");
		err->kind = GPX_CC_RPC;
	} else if (!s.got_end) {
		err_set(err, GPX_CC_RPC, GPX_INTERNAL,
			gpx_cw_reader_idle(&s.rd) ?
				"the response stream ended without an end-of-stream message" :
				"the response stream ended in the middle of a message");
	} else {
		ret = 0;
	}

fail_setup:
	curl_slist_free_all(hdrs);
	free(url);
	if (s.h)
		curl_easy_cleanup(s.h);
fail_h2:
	gpx_cw_reader_free(&s.rd);
	gpx_buf_free(&s.error_body);
	gpx_buf_free(&s.out);
	return ret;
}

/* ---- download ---- */

struct download {
	CURL *h;
	FILE *out;
	int ok;	     /* 2xx: the body goes to out */
	int decided; /* ok is known */
	int write_failed;
	uint64_t bytes;
	gpx_buf error_body;
};

static size_t download_write(char *p, size_t size, size_t nmemb, void *ud)
{
	struct download *d = ud;
	size_t n = size * nmemb;

	if (!d->decided) {
		long status = 0;
		curl_easy_getinfo(d->h, CURLINFO_RESPONSE_CODE, &status);
		d->ok = status >= 200 && status < 300;
		d->decided = 1;
	}
	if (!d->ok) {
		size_t room = MAX_ERROR_BODY - d->error_body.len;
		if (gpx_buf_append(&d->error_body, p, n < room ? n : room) < 0)
			return 0;
		return n;
	}
	if (fwrite(p, 1, n, d->out) != n) {
		d->write_failed = errno ? errno : EIO;
		return 0;
	}
	d->bytes += n;
	return n;
}

int gpx_cc_download(gpx_cc *c, const char *path, FILE *out, uint64_t *bytes, gpx_cc_error *err)
{
	struct download d;
	size_t n = strlen(c->base_url) + strlen(path) + 1;
	char *url = malloc(n);
	long status = 0;
	CURLcode rc;
	int ret = -1;

	err_clear(err);
	*bytes = 0;
	if (!url)
		return err_set(err, GPX_CC_LOCAL, GPX_RESOURCE_EXHAUSTED, "out of memory");
	snprintf(url, n, "%s%s", c->base_url, path);
	memset(&d, 0, sizeof(d));
	d.h = c->unary;
	d.out = out;
	gpx_buf_init(&d.error_body, 0);

	curl_easy_reset(c->unary);
	common_setup(c, c->unary, url, http_version(c, 0));
	curl_easy_setopt(c->unary, CURLOPT_WRITEFUNCTION, download_write);
	curl_easy_setopt(c->unary, CURLOPT_WRITEDATA, &d);
	rc = curl_easy_perform(c->unary);
	if (d.write_failed) {
		err_set(err, GPX_CC_LOCAL, GPX_INTERNAL, "cannot write the image: %s",
			strerror(d.write_failed));
		goto out;
	}
	if (rc != CURLE_OK) {
		transport_error(c, c->unary, rc, err);
		goto out;
	}
	curl_easy_getinfo(c->unary, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status >= 300) {
		err->kind = GPX_CC_RPC;
		gpx_cw_error_from_body((const char *)d.error_body.data, d.error_body.len,
				       (int)status, &err->st);
		goto out;
	}
	*bytes = d.bytes;
	ret = 0;
out:
	gpx_buf_free(&d.error_body);
	free(url);
	return ret;
}
