/* HTTP/1.1 on libmicrohttpd, driven by our own loop.
 *
 * Each I/O thread runs one MHD daemon with no listening socket of its own
 * (MHD_USE_NO_LISTEN_SOCKET) in external-epoll mode: our loop watches the
 * daemon's epoll fd and calls MHD_run when it is readable and on every
 * tick, and accepted sockets classified as HTTP/1.1 are handed over with
 * MHD_add_connection (the classifier only peeked at their first bytes).
 * So the whole HTTP/1.1 stack runs on the I/O thread: no locks between MHD
 * and the rest of the server.
 *
 * Requests become gpx_exchanges. A response is collected in the exchange
 * and queued when the route ends it; a route that answers later (job
 * queue) leaves the connection suspended (MHD_suspend_connection) until
 * then.
 *
 * libmicrohttpd 0.9.75 accepts requests that smuggle a second request
 * (see PITFALLS.md): every request's framing headers are checked on the
 * first call of the access handler, before any body byte is read. */
#include <ctype.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "common/buf.h"
#include "common/log.h"
#include "server/net/exchange.h"
#include "server/net/io.h"

typedef struct h1_req {
	gpx_exchange ex; /* first */
	gpx_io *io;
	struct MHD_Connection *conn;
	char *uri;
	gpx_header *hdrs;
	size_t nhdrs, caphdrs;
	int begun, input_ended, discard, suspended, queued, close_after, gone;
	int streaming, reader_suspended;
	struct upgrade_ctx *upgrade;
	size_t upgrade_hdrs;
	gpx_header *rh; /* response headers (strings owned) */
	size_t nrh;
	gpx_buf out;
	struct h1_req *prev_susp, *next_susp;
} h1_req;

static h1_req *suspended_head(gpx_io *io);
static void resume(h1_req *r);

/* Body bytes read and dropped after an early answer before we hang up. */
#define DISCARD_MAX ((uint64_t)64 << 20)
/* Early answers wait for a body's end only when this much at most is left. */
#define DRAIN_MAX ((uint64_t)1 << 20)

/* ------------------------------------------------------------ exchange ops */

static int rq_respond(gpx_exchange *ex, int status, const gpx_header *h, size_t n)
{
	h1_req *r = (h1_req *)ex;
	if (ex->responded || r->gone)
		return -1;
	r->rh = calloc(n ? n : 1, sizeof(*r->rh));
	if (!r->rh)
		return -1;
	for (size_t i = 0; i < n; i++) {
		r->rh[r->nrh].name = strdup(h[i].name);
		r->rh[r->nrh].value = strdup(h[i].value);
		r->nrh++;
	}
	ex->responded = 1;
	ex->status = status;
	resume(r);
	return 0;
}

static int rq_write(gpx_exchange *ex, const void *p, size_t n)
{
	h1_req *r = (h1_req *)ex;
	if (!ex->responded || ex->ended || r->gone)
		return -1;
	if (gpx_buf_append(&r->out, p, n) < 0)
		return -1;
	resume(r);
	return 0;
}

static void unlink_suspended(h1_req *r);

/* Wakes a connection parked in the access handler (answered later) or in
 * the content reader (a streamed response waiting for bytes). */
static void schedule_pump(gpx_io *io);

static void resume(h1_req *r)
{
	if (r->suspended) {
		unlink_suspended(r);
		r->suspended = 0;
		MHD_resume_connection(r->conn);
	} else if (r->reader_suspended) {
		r->reader_suspended = 0;
		MHD_resume_connection(r->conn);
	} else {
		return;
	}
	/* In external-epoll mode a resumed connection is only looked at by
	 * the next MHD_run: run it soon, not at the next tick. */
	schedule_pump(r->io);
}

static int rq_end(gpx_exchange *ex, const gpx_header *trailers, size_t n)
{
	h1_req *r = (h1_req *)ex;
	(void)trailers;
	(void)n;
	if (!ex->responded || ex->ended || r->gone)
		return -1;
	ex->ended = 1;
	resume(r);
	return 0;
}

static void rq_discard(gpx_exchange *ex)
{
	((h1_req *)ex)->discard = 1;
}

static size_t rq_pending(gpx_exchange *ex)
{
	return ((h1_req *)ex)->out.len;
}

typedef struct upgrade_ctx {
	void (*on_socket)(void *ud, int fd, const uint8_t *extra, size_t nextra, void *handle);
	void *ud;
} upgrade_ctx;

static void on_upgraded(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
			size_t extra_in_size, MHD_socket sock,
			struct MHD_UpgradeResponseHandle *urh)
{
	upgrade_ctx *u = cls;
	(void)conn;
	(void)con_cls;
	u->on_socket(u->ud, sock, (const uint8_t *)extra_in, extra_in_size, urh);
	free(u);
}

void gpx_upgrade_close(void *handle)
{
	MHD_upgrade_action(handle, MHD_UPGRADE_ACTION_CLOSE);
}

static int rq_upgrade(gpx_exchange *ex, const gpx_header *h, size_t n,
		      void (*on_socket)(void *ud, int fd, const uint8_t *extra, size_t nextra,
					void *handle),
		      void *ud)
{
	h1_req *r = (h1_req *)ex;
	if (ex->responded || r->gone)
		return -1;
	upgrade_ctx *u = malloc(sizeof(*u));
	if (!u)
		return -1;
	u->on_socket = on_socket;
	u->ud = ud;
	r->upgrade = u;
	r->upgrade_hdrs = n;
	rq_respond(ex, 101, h, n);
	ex->ended = 1;
	return 0;
}

static const gpx_exchange_ops h1_ops = {
	.respond = rq_respond,
	.write = rq_write,
	.end = rq_end,
	.discard_input = rq_discard,
	.pending = rq_pending,
	.upgrade = rq_upgrade,
};

/* ------------------------------------------------------------ suspension list */

typedef struct h1_state {
	gpx_io *io;
	h1_req *suspended;
	int pump_posted;
} h1_state;

static h1_state *state_of(gpx_io *io)
{
	return (h1_state *)io->mhd_w.data;
}

static h1_req *suspended_head(gpx_io *io)
{
	return state_of(io)->suspended;
}

static void link_suspended(h1_req *r)
{
	h1_state *st = state_of(r->io);
	r->prev_susp = NULL;
	r->next_susp = st->suspended;
	if (st->suspended)
		st->suspended->prev_susp = r;
	st->suspended = r;
}

static void unlink_suspended(h1_req *r)
{
	h1_state *st = state_of(r->io);
	if (r->prev_susp)
		r->prev_susp->next_susp = r->next_susp;
	else if (st->suspended == r)
		st->suspended = r->next_susp;
	if (r->next_susp)
		r->next_susp->prev_susp = r->prev_susp;
	r->prev_susp = r->next_susp = NULL;
}

/* ------------------------------------------------------------ requests */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	gpx_io *io = cls;
	h1_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->io = io;
	r->conn = conn;
	r->uri = strdup(uri ? uri : "/");
	gpx_buf_init(&r->out, 0);
	r->ex.ops = &h1_ops;
	r->ex.srv = io->srv;
	r->ex.loop = io->loop;
	r->ex.http_version = "1.1";
	r->ex.code = -1;
	return r;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	h1_req *r = cls;
	(void)kind;
	if (r->nhdrs == r->caphdrs) {
		size_t cap = r->caphdrs ? r->caphdrs * 2 : 16;
		gpx_header *h = realloc(r->hdrs, cap * sizeof(*h));
		if (!h)
			return MHD_NO;
		r->hdrs = h;
		r->caphdrs = cap;
	}
	char *name = strdup(key ? key : "");
	for (char *p = name; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	r->hdrs[r->nhdrs].name = name;
	r->hdrs[r->nhdrs].value = strdup(value ? value : "");
	r->nhdrs++;
	return MHD_YES;
}

static int is_token(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return 0;
	return 1;
}

/* The smuggling checks of PITFALLS.md. Returns NULL when the framing is
 * sound, else the reason. */
const char *gpx_h1_check_framing(const gpx_header *h, size_t n);
const char *gpx_h1_check_framing(const gpx_header *h, size_t n)
{
	const char *cl = NULL, *te = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!is_token(h[i].name))
			return "malformed header name (obs-fold or whitespace)";
		if (strcmp(h[i].name, "content-length") == 0) {
			const char *v = h[i].value;
			if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18)
				return "invalid Content-Length";
			if (cl && strcmp(cl, v) != 0)
				return "conflicting Content-Length headers";
			cl = v;
		} else if (strcmp(h[i].name, "transfer-encoding") == 0) {
			if (te)
				return "repeated Transfer-Encoding";
			te = h[i].value;
		}
	}
	if (te && cl)
		return "both Content-Length and Transfer-Encoding";
	if (te && strcasecmp(te, "chunked") != 0)
		return "Transfer-Encoding other than chunked";
	return NULL;
}

static void add_headers(h1_req *r, struct MHD_Response *resp)
{
	for (size_t i = 0; i < r->nrh; i++) {
		const char *n = r->rh[i].name;
		if (!strcmp(n, "content-length") || !strcmp(n, "transfer-encoding"))
			continue;
		MHD_add_response_header(resp, n, r->rh[i].value);
	}
	gpx_header auto_h[4];
	size_t nauto = gpx_ex_auto_headers(&r->ex, auto_h, 4);
	for (size_t i = 0; i < nauto; i++)
		MHD_add_response_header(resp, auto_h[i].name, auto_h[i].value);
	if (r->close_after || (r->ex.responded && !r->input_ended))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

/* A streamed response (server streaming): chunked, pulled from r->out. */
static ssize_t stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	h1_req *r = cls;
	(void)pos;
	if (r->out.len) {
		size_t n = r->out.len < max ? r->out.len : max;
		memcpy(buf, r->out.data, n);
		gpx_buf_consume(&r->out, n);
		r->ex.bytes_out += n;
		if (r->out.len < 64 * 1024 && r->ex.on_writable && !r->ex.ended)
			r->ex.on_writable(&r->ex);
		return (ssize_t)n;
	}
	if (r->ex.ended || r->gone)
		return MHD_CONTENT_READER_END_OF_STREAM;
	r->reader_suspended = 1;
	MHD_suspend_connection(r->conn);
	return 0;
}

static enum MHD_Result queue_stream(h1_req *r)
{
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
								      stream_reader, r, NULL);
	if (!resp)
		return MHD_NO;
	add_headers(r, resp);
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->ex.status, resp);
	MHD_destroy_response(resp);
	r->queued = 1;
	r->streaming = 1;
	return ret;
}

static enum MHD_Result queue_upgrade(h1_req *r)
{
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgraded, r->upgrade);
	if (!resp)
		return MHD_NO;
	r->upgrade = NULL; /* MHD calls on_upgraded, which frees it */
	for (size_t i = 0; i < r->nrh; i++)
		MHD_add_response_header(resp, r->rh[i].name, r->rh[i].value);
	enum MHD_Result ret = MHD_queue_response(r->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	r->queued = 1;
	return ret;
}

/* libmicrohttpd 0.9.75 cannot send a response once it has started
 * reading a body (queueing one then closes the connection silently), so
 * an early answer in the middle of a body — a stream message over the
 * limit, say — is written to the socket here, after which MHD closes it.
 * Nothing else of this request has been sent (at most "100 Continue"),
 * and error answers are small. */
static enum MHD_Result reply_and_close(h1_req *r)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!ci)
		return MHD_NO;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_buf_printf(&b, "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Length: %zu\r\n",
		       r->ex.status, MHD_get_reason_phrase_for((unsigned)r->ex.status), r->out.len);
	for (size_t i = 0; i < r->nrh; i++)
		if (strcmp(r->rh[i].name, "content-length") && strcmp(r->rh[i].name, "connection"))
			gpx_buf_printf(&b, "%s: %s\r\n", r->rh[i].name, r->rh[i].value);
	gpx_header auto_h[4];
	size_t nauto = gpx_ex_auto_headers(&r->ex, auto_h, 4);
	for (size_t i = 0; i < nauto; i++)
		gpx_buf_printf(&b, "%s: %s\r\n", auto_h[i].name, auto_h[i].value);
	gpx_buf_append(&b, "\r\n", 2);
	gpx_buf_append(&b, r->out.data, r->out.len);
	for (size_t off = 0; off < b.len;) {
		ssize_t n = send(ci->connect_fd, b.data + off, b.len - off, MSG_NOSIGNAL);
		if (n <= 0)
			break; /* a full socket buffer: the client loses the answer */
		off += (size_t)n;
	}
	r->ex.bytes_out = r->out.len;
	gpx_buf_free(&b);
	r->queued = 1;
	return MHD_NO;
}

static enum MHD_Result queue(h1_req *r)
{
	if (r->upgrade)
		return queue_upgrade(r);
	void *body = NULL;
	size_t len = 0;
	body = gpx_buf_steal(&r->out, &len);
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body ? body : (void *)"",
								    body ? MHD_RESPMEM_MUST_FREE :
									   MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		free(body);
		return MHD_NO;
	}
	add_headers(r, resp);
	r->ex.bytes_out = len;
	enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->ex.status, resp);
	MHD_destroy_response(resp);
	r->queued = 1;
	return ret;
}

static void begin(h1_req *r, const char *method)
{
	gpx_exchange *ex = &r->ex;
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, collect_header, r);
	ex->method = strdup(method);
	const char *q = strchr(r->uri, '?');
	ex->path = q ? strndup(r->uri, (size_t)(q - r->uri)) : strdup(r->uri);
	ex->query = q ? strdup(q + 1) : NULL;
	ex->headers = r->hdrs;
	ex->nheaders = r->nhdrs;
	r->begun = 1;
	r->io->active++;
	size_t hbytes = strlen(r->uri) + 16;
	for (size_t i = 0; i < r->nhdrs; i++)
		hbytes += strlen(r->hdrs[i].name) + strlen(r->hdrs[i].value) + 4;
	const char *bad = gpx_h1_check_framing(r->hdrs, r->nhdrs);
	if (!bad && hbytes > (size_t)r->io->srv->cfg.max_header_bytes) {
		ex->started = gpx_now_mono();
		ex->protocol = "http";
		snprintf(ex->request_id, sizeof(ex->request_id), "-");
		r->close_after = 1;
		r->discard = 1;
		gpx_ex_reply_error(ex, 431, GPX_RESOURCE_EXHAUSTED,
				   "request headers are over the limit");
		return;
	}
	if (bad) {
		ex->started = gpx_now_mono();
		ex->protocol = "http";
		snprintf(ex->request_id, sizeof(ex->request_id), "-");
		r->close_after = 1;
		r->discard = 1;
		gpx_ex_reply_error(ex, 400, GPX_INVALID_ARGUMENT, bad);
		return;
	}
	gpx_ex_begin(ex);
}

static int body_expected(const h1_req *r)
{
	const char *cl = gpx_ex_header(&r->ex, "content-length");
	return gpx_ex_header(&r->ex, "transfer-encoding") || (cl && strcmp(cl, "0") != 0);
}

/* Whether an early answer goes out now (and the connection closes after
 * it) rather than after the rest of the body has been read and dropped:
 * a body refused for its size, or more than DRAIN_MAX bytes still to
 * come. Draining keeps the connection and spares the client an EPIPE. */
static int too_big_to_drain(const h1_req *r)
{
	/* A body refused for its size is not read any further. */
	if (r->ex.code == GPX_RESOURCE_EXHAUSTED || r->ex.status == 413)
		return 1;
	const char *cl = gpx_ex_header(&r->ex, "content-length");
	if (!cl)
		return 0; /* chunked: drained, up to DISCARD_MAX */
	uint64_t total = strtoull(cl, NULL, 10);
	return total > r->ex.bytes_in && total - r->ex.bytes_in > DRAIN_MAX;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **con_cls)
{
	h1_req *r = *con_cls;
	(void)cls;
	(void)url;
	(void)version;
	if (!r)
		return MHD_NO;
	if (!r->begun) {
		begin(r, method);
		/* Without a body there is no later call with data: the request
		 * is complete now. */
		if (!body_expected(r)) {
			r->input_ended = 1;
			if (!r->ex.ended && !r->discard && r->ex.on_end)
				r->ex.on_end(&r->ex);
		}
		/* MHD closes the connection when a response is queued before
		 * the request was read to its end, so a complete request waits
		 * for the next call (it comes at once) unless it must close. */
		/* An early answer (404, 413, ...) to a request with a body waits
		 * until the body has been read and dropped, so the client is not
		 * cut off mid-write and the connection stays usable; only a body
		 * declared larger than DISCARD_MAX costs the connection. */
		if (r->ex.ended && (r->close_after || (!r->input_ended && too_big_to_drain(r))))
			return queue(r);
		return MHD_YES;
	}
	if (r->queued)
		return MHD_YES;
	if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		r->ex.bytes_in += n;
		if (!r->discard && r->ex.on_data &&
		    r->ex.on_data(&r->ex, (const uint8_t *)upload_data, n) < 0)
			r->discard = 1;
		/* MHD cannot send a response in the middle of a chunked upload,
		 * so an early answer waits for the end of the body; a body that
		 * goes on far past the limit costs the client its connection. */
		if (r->ex.ended && (too_big_to_drain(r) || r->ex.bytes_in > DISCARD_MAX))
			return reply_and_close(r);
		return MHD_YES;
	}
	if (!r->input_ended) {
		r->input_ended = 1;
		if (!r->discard && r->ex.on_end)
			r->ex.on_end(&r->ex);
	}
	if (r->ex.ended)
		return queue(r);
	if (r->ex.responded)
		return queue_stream(r);
	/* The route answers later: park the connection. */
	r->suspended = 1;
	link_suspended(r);
	MHD_suspend_connection(conn);
	return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	h1_req *r = *con_cls;
	(void)cls;
	(void)conn;
	if (!r)
		return;
	*con_cls = NULL;
	if (r->suspended)
		unlink_suspended(r);
	r->suspended = 0;
	if (r->begun) {
		int aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK;
		if (!r->ex.ended && r->ex.on_gone)
			r->ex.on_gone(&r->ex);
		r->gone = 1;
		if (!r->ex.status)
			r->ex.status = 499;
		r->io->active--;
		gpx_ex_log(&r->ex, aborted && !r->ex.ended);
	}
	for (size_t i = 0; i < r->nhdrs; i++) {
		free((char *)r->hdrs[i].name);
		free((char *)r->hdrs[i].value);
	}
	for (size_t i = 0; i < r->nrh; i++) {
		free((char *)r->rh[i].name);
		free((char *)r->rh[i].value);
	}
	free(r->hdrs);
	free(r->rh);
	free(r->upgrade);
	free(r->ex.method);
	free(r->ex.path);
	free(r->ex.query);
	free(r->uri);
	gpx_buf_free(&r->out);
	free(r);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
			  enum MHD_ConnectionNotificationCode toe)
{
	gpx_io *io = cls;
	(void)conn;
	(void)socket_ctx;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		atomic_fetch_sub(&io->srv->connections, 1);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	char msg[512];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	gpx_logf(GPX_LOG_DEBUG, NULL, "http1: %s", msg);
}

/* MHD in external-epoll mode reads edge-triggered sockets in steps and
 * says through MHD_get_timeout() == 0 that it has more to do right away;
 * keep running it until it has not, yielding to the loop between batches. */
static void pump(gpx_io *io);

static void pump_posted(void *arg)
{
	gpx_io *io = arg;
	h1_state *st = io->mhd_w.data;
	st->pump_posted = 0;
	pump(io);
}

static void pump(gpx_io *io)
{
	if (!io->mhd)
		return;
	h1_state *st = io->mhd_w.data;
	for (int i = 0; i < 8; i++) {
		MHD_run(io->mhd);
		MHD_UNSIGNED_LONG_LONG ms;
		if (MHD_get_timeout(io->mhd, &ms) != MHD_YES || ms > 0)
			return;
	}
	if (!st->pump_posted) {
		st->pump_posted = 1;
		gpx_loop_post(io->loop, pump_posted, io);
	}
}

static void schedule_pump(gpx_io *io)
{
	h1_state *st = io->mhd_w.data;
	if (st && !st->pump_posted) {
		st->pump_posted = 1;
		gpx_loop_post(io->loop, pump_posted, io);
	}
}

static void mhd_event(gpx_watch *w, uint32_t events)
{
	(void)events;
	h1_state *st = w->data;
	pump(st->io);
}

int gpx_h1_init(gpx_io *io)
{
	const gpx_config *cfg = &io->srv->cfg;
	h1_state *st = calloc(1, sizeof(*st));
	if (!st)
		return -1;
	st->io = io;
	/* MHD keeps the header block and its read buffer in one pool per
	 * connection: the header limit plus room for buffering. */
	size_t pool = (size_t)cfg->max_header_bytes + 32 * 1024;
	io->mhd = MHD_start_daemon(
		MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_ALLOW_SUSPEND_RESUME |
			MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG,
		0, NULL, NULL, on_request, io, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, io,
		MHD_OPTION_URI_LOG_CALLBACK, on_uri, io, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
		io, MHD_OPTION_NOTIFY_CONNECTION, on_connection, io,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned)cfg->idle_timeout_s, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)cfg->max_connections, MHD_OPTION_END);
	if (!io->mhd) {
		free(st);
		return -1;
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(io->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info) {
		MHD_stop_daemon(io->mhd);
		free(st);
		return -1;
	}
	io->mhd_w.fd = info->epoll_fd;
	io->mhd_w.cb = mhd_event;
	io->mhd_w.data = st;
	return gpx_loop_add(io->loop, &io->mhd_w, EPOLLIN);
}

int gpx_h1_accept(gpx_io *io, int fd, const struct sockaddr *addr, socklen_t len)
{
	if (MHD_add_connection(io->mhd, fd, addr, len) != MHD_YES)
		return -1; /* MHD closed the socket */
	atomic_fetch_add(&io->srv->connections, 1);
	pump(io);
	return 0;
}

void gpx_h1_run(gpx_io *io)
{
	pump(io);
}

void gpx_h1_free(gpx_io *io)
{
	if (!io->mhd)
		return;
	/* Requests still parked past the grace period are told so. */
	h1_req *r;
	while ((r = suspended_head(io))) {
		if (r->ex.on_gone)
			r->ex.on_gone(&r->ex);
		r->ex.on_gone = NULL;
		r->ex.responded = 0;
		r->ex.ended = 0;
		r->close_after = 1;
		gpx_ex_reply_error(&r->ex, 503, GPX_UNAVAILABLE, "server is shutting down");
		if (r->suspended) { /* rq_end resumed it unless the reply failed */
			unlink_suspended(r);
			r->suspended = 0;
			MHD_resume_connection(r->conn);
		}
	}
	MHD_run(io->mhd);
	gpx_loop_del(io->loop, &io->mhd_w);
	MHD_stop_daemon(io->mhd);
	free(io->mhd_w.data);
	io->mhd = NULL;
}
