/* HTTP/2 on nghttp2 with our own non-blocking I/O.
 *
 * nghttp2 does no I/O: we read into a stack buffer and feed
 * nghttp2_session_mem_recv, and serialise its output with
 * nghttp2_session_mem_send into one buffer per connection that is written
 * once per loop iteration (the io's after-hook flushes every "dirty"
 * session), so many streams share one write system call.
 *
 * Each stream is a gpx_exchange. Response bodies are pulled by nghttp2
 * from the stream's output buffer through a data provider that defers when
 * the buffer is empty and is resumed by the next write, so flow control is
 * nghttp2's: a slow reader stalls its own stream. */
#include <errno.h>
#include <nghttp2/nghttp2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/net/exchange.h"
#include "server/net/io.h"

#define READ_CHUNK 65536
#define OUT_HIGH_WATER (256 * 1024)
#define STREAM_LOW_WATER (64 * 1024)

typedef struct h2_conn h2_conn;

typedef struct h2_stream {
	gpx_exchange ex; /* first: the exchange ops cast back */
	h2_conn *conn;
	int32_t id;
	gpx_header *hdrs;
	size_t nhdrs, caphdrs, hdr_bytes;
	char *method, *path, *authority;
	int too_big;
	int begun;
	int discard;
	int input_ended;
	/* response */
	int status;
	nghttp2_nv *nva;
	size_t nnva;
	gpx_buf out;
	int submitted;
	int deferred;
	int end_requested;
	nghttp2_nv *trailers;
	size_t ntrailers;
	struct h2_stream *prev, *next; /* the connection's streams */
} h2_stream;

struct h2_conn {
	gpx_watch w;
	gpx_io *io;
	nghttp2_session *s;
	gpx_buf out;
	int32_t last_stream;
	double last_active;
	int nstreams;
	int dirty;
	int closed;
	int goaway_sent;
	h2_stream *streams;
	h2_conn *prev, *next;
	h2_conn *next_dirty;
};

static void conn_mark(h2_conn *c)
{
	if (c->dirty || c->closed)
		return;
	c->dirty = 1;
	c->next_dirty = c->io->dirty;
	c->io->dirty = c;
}

/* ------------------------------------------------------------ exchange ops */

/* Copies headers into one allocation: nv array followed by the strings. */
static nghttp2_nv *copy_nv(const char *status, const gpx_header *h, size_t n,
			   const gpx_header *auto_h, size_t nauto, size_t *nout)
{
	size_t total = 0, count = n + (status ? 1 : 0) + nauto;
	for (size_t i = 0; i < n; i++)
		total += strlen(h[i].name) + strlen(h[i].value) + 2;
	for (size_t i = 0; i < nauto; i++)
		total += strlen(auto_h[i].name) + strlen(auto_h[i].value) + 2;
	total += status ? 12 : 0;
	nghttp2_nv *nv = malloc(count * sizeof(*nv) + total);
	if (!nv)
		return NULL;
	char *p = (char *)(nv + count);
	size_t k = 0;
#define PUT(NAME, VALUE)                                      \
	do {                                                  \
		size_t nl = strlen(NAME), vl = strlen(VALUE); \
		memcpy(p, NAME, nl + 1);                      \
		nv[k].name = (uint8_t *)p;                    \
		nv[k].namelen = nl;                           \
		p += nl + 1;                                  \
		memcpy(p, VALUE, vl + 1);                     \
		nv[k].value = (uint8_t *)p;                   \
		nv[k].valuelen = vl;                          \
		nv[k].flags = NGHTTP2_NV_FLAG_NONE;           \
		p += vl + 1;                                  \
		k++;                                          \
	} while (0)
	if (status)
		PUT(":status", status);
	for (size_t i = 0; i < n; i++) {
		/* Connection-specific headers are not allowed in HTTP/2. */
		if (!strcmp(h[i].name, "connection") || !strcmp(h[i].name, "keep-alive") ||
		    !strcmp(h[i].name, "transfer-encoding"))
			continue;
		PUT(h[i].name, h[i].value);
	}
	for (size_t i = 0; i < nauto; i++)
		PUT(auto_h[i].name, auto_h[i].value);
#undef PUT
	*nout = k;
	return nv;
}

static int st_respond(gpx_exchange *ex, int status, const gpx_header *h, size_t n)
{
	h2_stream *s = (h2_stream *)ex;
	if (ex->responded || !s->conn)
		return -1;
	char st[8];
	snprintf(st, sizeof(st), "%d", status);
	gpx_header auto_h[4];
	size_t nauto = gpx_ex_auto_headers(ex, auto_h, 4);
	s->nva = copy_nv(st, h, n, auto_h, nauto, &s->nnva);
	if (!s->nva)
		return -1;
	ex->responded = 1;
	ex->status = status;
	return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t id, uint8_t *buf, size_t length,
			 uint32_t *flags, nghttp2_data_source *source, void *user_data)
{
	h2_stream *s = source->ptr;
	size_t n = s->out.len < length ? s->out.len : length;
	if (n) {
		memcpy(buf, s->out.data, n);
		gpx_buf_consume(&s->out, n);
		s->ex.bytes_out += n;
	}
	if (s->out.len == 0) {
		if (s->end_requested) {
			*flags |= NGHTTP2_DATA_FLAG_EOF;
			if (s->ntrailers) {
				*flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
				nghttp2_submit_trailer(session, id, s->trailers, s->ntrailers);
			}
		} else if (n == 0) {
			s->deferred = 1;
			return NGHTTP2_ERR_DEFERRED;
		}
	}
	if (s->out.len < STREAM_LOW_WATER && s->ex.on_writable && !s->end_requested)
		s->ex.on_writable(&s->ex);
	return (ssize_t)n;
}

static int submit(h2_stream *s, int with_body)
{
	if (strcmp(s->ex.method, "HEAD") == 0) {
		/* HEAD: the headers (content-length included), no body. */
		gpx_buf_reset(&s->out);
		with_body = s->ntrailers > 0;
	}
	nghttp2_data_provider dp = {.source.ptr = s, .read_callback = read_body};
	int rv =
		nghttp2_submit_response(s->conn->s, s->id, s->nva, s->nnva, with_body ? &dp : NULL);
	s->submitted = 1;
	conn_mark(s->conn);
	return rv == 0 ? 0 : -1;
}

static void kick(h2_stream *s)
{
	if (s->deferred) {
		s->deferred = 0;
		nghttp2_session_resume_data(s->conn->s, s->id);
	}
	conn_mark(s->conn);
}

static int st_write(gpx_exchange *ex, const void *p, size_t n)
{
	h2_stream *s = (h2_stream *)ex;
	if (!s->conn || !ex->responded || s->end_requested)
		return -1;
	if (gpx_buf_append(&s->out, p, n) < 0)
		return -1;
	if (!s->submitted)
		return submit(s, 1);
	kick(s);
	return 0;
}

static int st_end(gpx_exchange *ex, const gpx_header *trailers, size_t n)
{
	h2_stream *s = (h2_stream *)ex;
	if (!s->conn || !ex->responded || s->end_requested)
		return -1;
	s->end_requested = 1;
	ex->ended = 1;
	if (n) {
		s->trailers = copy_nv(NULL, trailers, n, NULL, 0, &s->ntrailers);
		if (!s->trailers)
			s->ntrailers = 0;
	}
	if (!s->submitted)
		/* Nothing written and no trailers: the headers end the stream
		 * (this is also gRPC's trailers-only response). */
		return submit(s, s->out.len > 0 || s->ntrailers > 0);
	kick(s);
	return 0;
}

static void st_discard(gpx_exchange *ex)
{
	((h2_stream *)ex)->discard = 1;
}

static size_t st_pending(gpx_exchange *ex)
{
	return ((h2_stream *)ex)->out.len;
}

static const gpx_exchange_ops h2_ops = {
	.respond = st_respond,
	.write = st_write,
	.end = st_end,
	.discard_input = st_discard,
	.pending = st_pending,
};

/* ------------------------------------------------------------ streams */

static void stream_free(h2_stream *s)
{
	for (size_t i = 0; i < s->nhdrs; i++) {
		free((char *)s->hdrs[i].name);
		free((char *)s->hdrs[i].value);
	}
	free(s->hdrs);
	free(s->method);
	free(s->path);
	free(s->authority);
	free(s->ex.path);
	free(s->ex.query);
	free(s->nva);
	free(s->trailers);
	gpx_buf_free(&s->out);
	free(s);
}

static int on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd, void *ud)
{
	h2_conn *c = ud;
	/* nghttp2 1.52 silently ignores a HEADERS frame that opens a stream
	 * with an id lower than one already used; RFC 9113 5.1.1 makes that a
	 * connection error. Trailers on an open stream are fine. */
	if (hd->type == NGHTTP2_HEADERS && (hd->stream_id & 1)) {
		if (hd->stream_id <= c->last_stream &&
		    !nghttp2_session_get_stream_user_data(session, hd->stream_id)) {
			nghttp2_session_terminate_session(session, NGHTTP2_PROTOCOL_ERROR);
			return 0;
		}
		if (hd->stream_id > c->last_stream)
			c->last_stream = hd->stream_id;
	}
	return 0;
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	h2_conn *c = ud;
	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	if (c->io->draining) {
		nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, frame->hd.stream_id,
					  NGHTTP2_REFUSED_STREAM);
		return 0;
	}
	h2_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	s->conn = c;
	s->id = frame->hd.stream_id;
	gpx_buf_init(&s->out, 0);
	s->ex.ops = &h2_ops;
	s->ex.srv = c->io->srv;
	s->ex.loop = c->io->loop;
	s->ex.http_version = "2";
	c->nstreams++;
	s->next = c->streams;
	if (s->next)
		s->next->prev = s;
	c->streams = s;
	nghttp2_session_set_stream_user_data(session, s->id, s);
	return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags, void *ud)
{
	h2_conn *c = ud;
	h2_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!s || s->begun || s->too_big)
		return 0;
	s->hdr_bytes += namelen + valuelen + 32;
	if (s->hdr_bytes > (size_t)c->io->srv->cfg.max_header_bytes) {
		s->too_big = 1;
		return 0;
	}
	if (namelen > 0 && name[0] == ':') {
		char **slot = NULL;
		if (namelen == 7 && !memcmp(name, ":method", 7))
			slot = &s->method;
		else if (namelen == 5 && !memcmp(name, ":path", 5))
			slot = &s->path;
		else if (namelen == 10 && !memcmp(name, ":authority", 10))
			slot = &s->authority;
		if (slot && !*slot)
			*slot = strndup((const char *)value, valuelen);
		return 0;
	}
	if (s->nhdrs == s->caphdrs) {
		size_t cap = s->caphdrs ? s->caphdrs * 2 : 16;
		gpx_header *h = realloc(s->hdrs, cap * sizeof(*h));
		if (!h)
			return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
		s->hdrs = h;
		s->caphdrs = cap;
	}
	s->hdrs[s->nhdrs].name = strndup((const char *)name, namelen);
	s->hdrs[s->nhdrs].value = strndup((const char *)value, valuelen);
	s->nhdrs++;
	return 0;
}

static void begin_exchange(h2_conn *c, h2_stream *s)
{
	s->begun = 1;
	gpx_exchange *ex = &s->ex;
	ex->method = s->method ? s->method : "";
	const char *p = s->path ? s->path : "/";
	const char *q = strchr(p, '?');
	ex->path = q ? strndup(p, (size_t)(q - p)) : strdup(p);
	ex->query = q ? strdup(q + 1) : NULL;
	ex->headers = s->hdrs;
	ex->nheaders = s->nhdrs;
	if (!ex->path) {
		nghttp2_submit_rst_stream(c->s, NGHTTP2_FLAG_NONE, s->id, NGHTTP2_INTERNAL_ERROR);
		return;
	}
	c->io->active++;
	if (s->too_big) {
		ex->started = gpx_now_mono();
		ex->protocol = "http";
		ex->code = -1;
		s->discard = 1;
		gpx_ex_reply_error(ex, 431, GPX_RESOURCE_EXHAUSTED,
				   "request headers are over the limit");
		return;
	}
	if (!s->method || !s->path || s->path[0] != '/') {
		ex->started = gpx_now_mono();
		ex->code = -1;
		ex->protocol = "http";
		s->discard = 1;
		gpx_ex_reply_error(ex, 400, GPX_INVALID_ARGUMENT, "missing :method or :path");
		return;
	}
	gpx_ex_begin(ex);
}

static void end_input(h2_stream *s)
{
	if (s->input_ended)
		return;
	s->input_ended = 1;
	if (!s->discard && s->ex.on_end)
		s->ex.on_end(&s->ex);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *ud)
{
	h2_conn *c = ud;
	h2_stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
	if (!s)
		return 0;
	switch (frame->hd.type) {
	case NGHTTP2_HEADERS:
		if (!s->begun && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS))
			begin_exchange(c, s);
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			end_input(s);
		break;
	case NGHTTP2_DATA:
		if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
			end_input(s);
		break;
	default: break;
	}
	return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data,
			 size_t len, void *ud)
{
	h2_stream *s = nghttp2_session_get_stream_user_data(session, id);
	if (!s || s->discard || s->input_ended)
		return 0;
	s->ex.bytes_in += len;
	if (s->ex.on_data && s->ex.on_data(&s->ex, data, len) < 0)
		s->discard = 1;
	return 0;
}

static void stream_closed(h2_conn *c, h2_stream *s, uint32_t error_code)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	c->nstreams--;
	if (s->begun) {
		int aborted = !s->ex.ended || error_code != NGHTTP2_NO_ERROR;
		if (!s->ex.ended && s->ex.on_gone)
			s->ex.on_gone(&s->ex);
		c->io->active--;
		gpx_ex_log(&s->ex, aborted && !s->ex.ended);
	}
	s->conn = NULL;
	stream_free(s);
}

static int on_stream_close(nghttp2_session *session, int32_t id, uint32_t error_code, void *ud)
{
	h2_stream *s = nghttp2_session_get_stream_user_data(session, id);
	if (!s)
		return 0;
	nghttp2_session_set_stream_user_data(session, id, NULL);
	stream_closed(ud, s, error_code);
	return 0;
}

/* ------------------------------------------------------------ connections */

static void conn_close(h2_conn *c)
{
	if (c->closed)
		return;
	c->closed = 1;
	gpx_loop_del(c->io->loop, &c->w);
	/* nghttp2_session_del does not report stream closes: do it here. */
	while (c->streams)
		stream_closed(c, c->streams, NGHTTP2_CANCEL);
	nghttp2_session_del(c->s);
	c->s = NULL;
	close(c->w.fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->io->h2_conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	atomic_fetch_sub(&c->io->srv->connections, 1);
	gpx_buf_free(&c->out);
	/* Freed after the flush pass if it is on the dirty list. */
	if (!c->dirty)
		free(c);
}

/* Serialises pending frames and writes them; closes when the session is
 * done. Returns -1 when the connection was closed. */
static int conn_flush(h2_conn *c)
{
	for (;;) {
		while (c->out.len < OUT_HIGH_WATER && nghttp2_session_want_write(c->s)) {
			const uint8_t *data;
			ssize_t n = nghttp2_session_mem_send(c->s, &data);
			if (n < 0) {
				conn_close(c);
				return -1;
			}
			if (n == 0)
				break;
			if (gpx_buf_append(&c->out, data, (size_t)n) < 0) {
				conn_close(c);
				return -1;
			}
		}
		if (c->out.len == 0)
			break;
		ssize_t w = send(c->w.fd, c->out.data, c->out.len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			if (errno == EINTR)
				continue;
			conn_close(c);
			return -1;
		}
		gpx_buf_consume(&c->out, (size_t)w);
		if (c->out.len)
			break; /* the socket is full: wait for EPOLLOUT */
	}
	if (c->out.len == 0 && !nghttp2_session_want_read(c->s) &&
	    !nghttp2_session_want_write(c->s)) {
		conn_close(c);
		return -1;
	}
	uint32_t ev = EPOLLIN | (c->out.len ? EPOLLOUT : 0);
	gpx_loop_mod(c->io->loop, &c->w, ev);
	return 0;
}

static void conn_event(gpx_watch *w, uint32_t events)
{
	h2_conn *c = w->data;
	if (c->closed)
		return;
	c->last_active = gpx_loop_now(c->io->loop);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		uint8_t buf[READ_CHUNK];
		for (int i = 0; i < 4; i++) {
			ssize_t n = recv(w->fd, buf, sizeof(buf), 0);
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				conn_close(c);
				return;
			}
			ssize_t r = nghttp2_session_mem_recv(c->s, buf, (size_t)n);
			if (r < 0) {
				gpx_debug("http2: closing connection: %s",
					  nghttp2_strerror((int)r));
				/* Send the GOAWAY nghttp2 queued, then close. */
				if (r != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
					nghttp2_session_terminate_session(c->s,
									  NGHTTP2_PROTOCOL_ERROR);
				conn_flush(c);
				if (!c->closed)
					conn_close(c);
				return;
			}
			if ((size_t)n < sizeof(buf))
				break;
		}
	}
	conn_mark(c);
}

void gpx_h2_flush_dirty(gpx_io *io)
{
	while (io->dirty) {
		h2_conn *c = io->dirty;
		io->dirty = c->next_dirty;
		c->dirty = 0;
		if (c->closed) {
			free(c);
			continue;
		}
		conn_flush(c);
	}
}

int gpx_h2_accept(gpx_io *io, int fd)
{
	gpx_server *srv = io->srv;
	h2_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -1;
	nghttp2_session_callbacks *cb;
	nghttp2_session_callbacks_new(&cb);
	nghttp2_session_callbacks_set_on_begin_frame_callback(cb, on_begin_frame);
	nghttp2_session_callbacks_set_on_begin_headers_callback(cb, on_begin_headers);
	nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
	nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame_recv);
	nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data_chunk);
	nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);
	nghttp2_option *opt;
	nghttp2_option_new(&opt);
	/* Refuse headers past our limit before nghttp2 buffers them. */
	nghttp2_option_set_max_send_header_block_length(opt, 256 * 1024);
	nghttp2_option_set_max_deflate_dynamic_table_size(opt, 4096);
	int rv = nghttp2_session_server_new2(&c->s, cb, c, opt);
	nghttp2_option_del(opt);
	nghttp2_session_callbacks_del(cb);
	if (rv != 0) {
		free(c);
		return -1;
	}
	nghttp2_settings_entry iv[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, (uint32_t)srv->cfg.max_streams},
		{NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, (uint32_t)srv->cfg.max_header_bytes},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
		{NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
	};
	nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, iv, sizeof(iv) / sizeof(iv[0]));
	nghttp2_session_set_local_window_size(c->s, NGHTTP2_FLAG_NONE, 0, 16 << 20);
	gpx_buf_init(&c->out, 0);
	c->io = io;
	c->w.fd = fd;
	c->w.cb = conn_event;
	c->w.data = c;
	c->last_active = gpx_loop_now(io->loop);
	if (gpx_loop_add(io->loop, &c->w, EPOLLIN) < 0) {
		nghttp2_session_del(c->s);
		free(c);
		return -1;
	}
	c->next = io->h2_conns;
	if (c->next)
		c->next->prev = c;
	io->h2_conns = c;
	atomic_fetch_add(&srv->connections, 1);
	conn_event(&c->w, EPOLLIN);
	return 0;
}

void gpx_h2_sweep(gpx_io *io, double now)
{
	double idle = io->srv->cfg.idle_timeout_s;
	for (h2_conn *c = io->h2_conns, *next; c; c = next) {
		next = c->next;
		if (c->nstreams == 0 && now - c->last_active > idle) {
			nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR);
			conn_mark(c);
		}
	}
}

void gpx_h2_drain(gpx_io *io)
{
	for (h2_conn *c = io->h2_conns; c; c = c->next) {
		if (c->goaway_sent)
			continue;
		c->goaway_sent = 1;
		/* Streams already open finish; new ones are refused. */
		nghttp2_submit_goaway(c->s, NGHTTP2_FLAG_NONE, c->last_stream, NGHTTP2_NO_ERROR,
				      NULL, 0);
		if (c->nstreams == 0)
			nghttp2_session_terminate_session(c->s, NGHTTP2_NO_ERROR);
		conn_mark(c);
	}
}

void gpx_h2_close_all(gpx_io *io)
{
	while (io->h2_conns)
		conn_close(io->h2_conns);
	gpx_h2_flush_dirty(io);
}

size_t gpx_h2_count(gpx_io *io)
{
	size_t n = 0;
	for (h2_conn *c = io->h2_conns; c; c = c->next)
		n++;
	return n;
}
