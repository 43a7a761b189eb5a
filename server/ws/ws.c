#include "server/ws/ws.h"

#include <errno.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/base64.h"
#include "common/log.h"
#include "gpix/v1/image_service.pb-c.h"
#include "server/rpc/call.h"
#include "server/rpc/json.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* Previews and frames are skipped (latest wins) while this much output
 * waits for a slow client; past the hard limit the client is closed. */
#define WS_OUT_SOFT (4u << 20)
#define WS_OUT_HARD (32u << 20)
#define WS_MAX_PROCESS 2

/* ------------------------------------------------------------ framing */

int gpx_ws_parse_header(const uint8_t *p, size_t n, uint64_t max_len, gpx_ws_frame *f)
{
	if (n < 2)
		return 0;
	f->fin = p[0] >> 7;
	if (p[0] & 0x70)
		return -1002; /* no extension negotiated: RSV bits must be 0 */
	f->opcode = p[0] & 0x0f;
	f->masked = p[1] >> 7;
	uint64_t len = p[1] & 0x7f;
	size_t h = 2;
	if (!(f->opcode <= 2 || (f->opcode >= 8 && f->opcode <= 10)))
		return -1002;
	if (!f->masked)
		return -1002; /* RFC 6455 5.1: client frames must be masked */
	if (f->opcode >= 8 && (!f->fin || len > 125))
		return -1002;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)p[2] << 8 | p[3];
		h = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		if (len >> 63)
			return -1002;
		h = 10;
	}
	/* Refuse before buffering any of it. */
	if (len > max_len)
		return -1009;
	if (n < h + 4)
		return 0;
	memcpy(f->mask, p + h, 4);
	f->header_len = h + 4;
	f->len = len;
	return 1;
}

int gpx_utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		uint8_t c = p[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t k;
		uint32_t cp;
		if ((c & 0xe0) == 0xc0) {
			k = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			k = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			k = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (i + k >= n)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || (p[i + j] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + j] & 0x3f);
		}
		if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

void gpx_ws_accept_key(const char *key, char out[29])
{
	char buf[128];
	snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	uint8_t digest[SHA_DIGEST_LENGTH];
	SHA1((const uint8_t *)buf, strlen(buf), digest);
	gpx_base64_encode(out, digest, sizeof(digest), 0);
}

/* ------------------------------------------------------------ connection */

typedef enum { K_TUNE, K_PROCESS, K_FRAME } call_kind;

typedef struct ws_conn ws_conn;

typedef struct ws_call {
	gpx_call call; /* first */
	ws_conn *ws;
	call_kind kind;
	char id[128];
	uint32_t seq;
	struct ws_call *prev, *next;
} ws_call;

struct ws_conn {
	gpx_watch w;
	gpx_server *srv;
	gpx_loop *loop;
	void *handle;
	gpx_buf in;
	gpx_buf msg;
	int msg_opcode;
	gpx_buf out;
	int closing, closed;
	size_t max_msg;
	char request_id[64];
	ws_call *calls;
	ws_call *tune;
	int nprocess;
	/* frame: the announced frame waiting for its binary message, the one
	 * running, and the newest one waiting (older waiting ones are dropped) */
	Gpix__V1__ProcessImageRequest *announced;
	uint32_t announced_seq;
	int frame_busy;
	Gpix__V1__ProcessImageRequest *next_frame;
	uint32_t next_seq;
};

static void ws_close(ws_conn *ws, int code, const char *reason);

static void flush_out(ws_conn *ws)
{
	while (ws->out.len) {
		ssize_t n = send(ws->w.fd, ws->out.data, ws->out.len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				ws->out.len = 0;
				ws->closed = 1;
			}
			break;
		}
		gpx_buf_consume(&ws->out, (size_t)n);
	}
	if (!ws->closed)
		gpx_loop_mod(ws->loop, &ws->w, EPOLLIN | (ws->out.len ? EPOLLOUT : 0));
}

static void put_frame(ws_conn *ws, int opcode, const void *p, size_t n)
{
	if (ws->closing && opcode != 8)
		return;
	if (ws->out.len + n > WS_OUT_HARD) {
		ws_close(ws, 1008, "client too slow");
		return;
	}
	uint8_t h[10];
	size_t hl = 2;
	h[0] = (uint8_t)(0x80 | opcode);
	if (n < 126) {
		h[1] = (uint8_t)n;
	} else if (n < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	if (gpx_buf_append(&ws->out, h, hl) < 0 || gpx_buf_append(&ws->out, p, n) < 0)
		return;
	flush_out(ws);
}

static void send_json(ws_conn *ws, cJSON *o)
{
	char *s = cJSON_PrintUnformatted(o);
	if (s) {
		put_frame(ws, 1, s, strlen(s));
		free(s);
	}
}

static void send_error(ws_conn *ws, gpx_code code, const char *msg, const char *id, int has_seq,
		       uint32_t seq)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "error");
	cJSON_AddStringToObject(o, "code", gpx_code_name(code));
	cJSON_AddStringToObject(o, "message", msg);
	if (id && *id)
		cJSON_AddStringToObject(o, "id", id);
	if (has_seq)
		cJSON_AddNumberToObject(o, "seq", seq);
	send_json(ws, o);
	cJSON_Delete(o);
}

/* A response message as JSON (proto3 names), minus the fields in drop. */
static cJSON *message_json(const ProtobufCMessage *m, const char *type, const char *const *drop)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_json_opts o = {.emit_defaults = 1};
	gpx_status st;
	cJSON *obj = NULL;
	if (gpx_json_encode(m, &b, &o, &st) == 0)
		obj = cJSON_ParseWithLength((const char *)b.data, b.len);
	gpx_buf_free(&b);
	if (!obj)
		obj = cJSON_CreateObject();
	for (; drop && *drop; drop++)
		cJSON_DeleteItemFromObject(obj, *drop);
	cJSON *t = cJSON_CreateString(type);
	cJSON_AddItemToObject(obj, "type", t);
	return obj;
}

/* ------------------------------------------------------------ calls */

static void start_next_frame(ws_conn *ws);

static int wsc_send(gpx_call *c, const ProtobufCMessage *m)
{
	ws_call *wc = (ws_call *)c;
	ws_conn *ws = wc->ws;
	if (!ws || ws->closing)
		return -1;
	if (wc->kind == K_TUNE) {
		const Gpix__V1__TuneResponse *r = (const Gpix__V1__TuneResponse *)m;
		if (ws->out.len > WS_OUT_SOFT)
			return 0; /* slow reader: skip this preview, the next one wins */
		static const char *const drop[] = {"previewChunk", NULL};
		cJSON *o = message_json(m, "preview", drop);
		send_json(ws, o);
		cJSON_Delete(o);
		put_frame(ws, 2, r->preview_chunk.data, r->preview_chunk.len);
	} else if (wc->kind == K_PROCESS) {
		const Gpix__V1__ProcessResponse *r = (const Gpix__V1__ProcessResponse *)m;
		static const char *const drop[] = {"resultImageId", "timing", NULL};
		cJSON *o = message_json(m, "progress", drop);
		cJSON_AddStringToObject(o, "id", wc->id);
		send_json(ws, o);
		cJSON_Delete(o);
		if (r->result_image_id && *r->result_image_id) {
			static const char *const drop2[] = {"percent", "status", "stage", NULL};
			o = message_json(m, "done", drop2);
			cJSON_AddStringToObject(o, "id", wc->id);
			send_json(ws, o);
			cJSON_Delete(o);
		}
	} else {
		const Gpix__V1__ProcessImageResponse *r = (const Gpix__V1__ProcessImageResponse *)m;
		if (ws->out.len > WS_OUT_SOFT)
			return 0;
		static const char *const drop[] = {"imageData", "backend", "resultImageId", NULL};
		cJSON *o = message_json(m, "frame", drop);
		cJSON_AddNumberToObject(o, "seq", wc->seq);
		send_json(ws, o);
		cJSON_Delete(o);
		put_frame(ws, 2, r->image_data.data, r->image_data.len);
	}
	return 0;
}

static void wsc_free(ws_call *wc)
{
	if (wc->call.request)
		protobuf_c_message_free_unpacked(wc->call.request, NULL);
	free(wc);
}

static void wsc_finish(gpx_call *c, const gpx_status *st)
{
	ws_call *wc = (ws_call *)c;
	ws_conn *ws = wc->ws;
	if (!ws) {
		wsc_free(wc);
		return;
	}
	if (wc->prev)
		wc->prev->next = wc->next;
	else
		ws->calls = wc->next;
	if (wc->next)
		wc->next->prev = wc->prev;
	if (st->code != GPX_OK)
		send_error(ws, st->code, st->msg, wc->kind == K_PROCESS ? wc->id : NULL,
			   wc->kind != K_PROCESS, wc->seq);
	if (wc->kind == K_TUNE && ws->tune == wc)
		ws->tune = NULL;
	if (wc->kind == K_PROCESS)
		ws->nprocess--;
	call_kind kind = wc->kind;
	wsc_free(wc);
	if (kind == K_FRAME) {
		ws->frame_busy = 0;
		start_next_frame(ws);
	}
}

static void wsc_error(gpx_call *c, const gpx_status *st)
{
	ws_call *wc = (ws_call *)c;
	if (wc->ws)
		send_error(wc->ws, st->code, st->msg, NULL, 1, wc->seq);
}

static const gpx_call_ops ws_call_ops = {
	.send = wsc_send,
	.finish = wsc_finish,
	.error = wsc_error,
};

static ws_call *new_call(ws_conn *ws, const char *method, call_kind kind, ProtobufCMessage *req)
{
	const gpx_method *m = gpx_methods_find(&ws->srv->methods, method);
	ws_call *wc = calloc(1, sizeof(*wc));
	if (!wc || !m) {
		free(wc);
		if (req)
			protobuf_c_message_free_unpacked(req, NULL);
		return NULL;
	}
	wc->ws = ws;
	wc->kind = kind;
	wc->call.ops = &ws_call_ops;
	wc->call.method = m;
	wc->call.srv = ws->srv;
	wc->call.loop = ws->loop;
	wc->call.protocol = "ws";
	snprintf(wc->call.request_id, sizeof(wc->call.request_id), "%s", ws->request_id);
	wc->call.request = req;
	wc->next = ws->calls;
	if (wc->next)
		wc->next->prev = wc;
	ws->calls = wc;
	return wc;
}

static void start_next_frame(ws_conn *ws)
{
	if (ws->frame_busy || !ws->next_frame || ws->closing)
		return;
	Gpix__V1__ProcessImageRequest *req = ws->next_frame;
	ws->next_frame = NULL;
	ws_call *wc = new_call(ws, "gpix.v1.ImageService/ProcessImage", K_FRAME, &req->base);
	if (!wc)
		return;
	wc->seq = ws->next_seq;
	ws->frame_busy = 1;
	gpx_call_start(&wc->call);
}

/* ------------------------------------------------------------ messages */

static ProtobufCMessage *decode_as(ws_conn *ws, const ProtobufCMessageDescriptor *d, cJSON *obj,
				   const char *id, int has_seq, uint32_t seq)
{
	ProtobufCMessage *m = NULL;
	gpx_status st = {0};
	/* "type" (and "id") are ours, not the message's: unknown fields are
	 * ignored by the decoder. */
	if (gpx_json_from_cjson(d, obj, &m, &st) < 0) {
		send_error(ws, st.code, st.msg, id, has_seq, seq);
		return NULL;
	}
	return m;
}

static void on_text(ws_conn *ws, const uint8_t *p, size_t n)
{
	cJSON *obj = NULL;
	gpx_status st = {0};
	gpx_json_opts o = {.max_input = ws->max_msg};
	if (gpx_json_parse((const char *)p, n, &o, &obj, &st) < 0 || !cJSON_IsObject(obj)) {
		send_error(ws, GPX_INVALID_ARGUMENT,
			   st.code ? st.msg : "messages are JSON objects with a \"type\"", NULL, 0,
			   0);
		cJSON_Delete(obj);
		return;
	}
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(obj, "type");
	const cJSON *seqj = cJSON_GetObjectItemCaseSensitive(obj, "seq");
	const cJSON *idj = cJSON_GetObjectItemCaseSensitive(obj, "id");
	uint32_t seq =
		cJSON_IsNumber(seqj) && seqj->valuedouble >= 0 ? (uint32_t)seqj->valuedouble : 0;
	const char *id = cJSON_IsString(idj) ? idj->valuestring : "";
	const char *t = cJSON_IsString(type) ? type->valuestring : "";
	if (!strcmp(t, "ping")) {
		put_frame(ws, 1, "{\"type\":\"pong\"}", 15);
	} else if (!strcmp(t, "tune")) {
		ProtobufCMessage *m =
			decode_as(ws, &gpix__v1__tune_request__descriptor, obj, NULL, 1, seq);
		if (m) {
			if (!ws->tune) {
				ws->tune = new_call(ws, "gpix.v1.ImageService/Tune", K_TUNE, NULL);
				if (ws->tune)
					gpx_call_start(&ws->tune->call);
			}
			if (ws->tune && ws->tune->call.on_message) {
				ws->tune->seq = seq;
				ws->tune->call.on_message(&ws->tune->call, m);
			} else {
				protobuf_c_message_free_unpacked(m, NULL);
			}
		}
	} else if (!strcmp(t, "process")) {
		if (ws->nprocess >= WS_MAX_PROCESS) {
			send_error(ws, GPX_RESOURCE_EXHAUSTED,
				   "at most 2 process jobs per connection at a time", id, 0, 0);
		} else {
			ProtobufCMessage *m = decode_as(ws, &gpix__v1__process_request__descriptor,
							obj, id, 0, 0);
			ws_call *wc =
				m ? new_call(ws, "gpix.v1.ImageService/Process", K_PROCESS, m) :
				    NULL;
			if (wc) {
				snprintf(wc->id, sizeof(wc->id), "%s", id);
				ws->nprocess++;
				gpx_call_start(&wc->call);
			}
		}
	} else if (!strcmp(t, "frame")) {
		/* The frame's bytes come in the next binary message. */
		const cJSON *pw = cJSON_GetObjectItemCaseSensitive(obj, "previewWidth");
		const cJSON *filters = cJSON_GetObjectItemCaseSensitive(obj, "filters");
		cJSON *req = cJSON_CreateObject();
		if (filters)
			cJSON_AddItemToObject(req, "filters", cJSON_Duplicate(filters, 1));
		cJSON *out = cJSON_AddObjectToObject(req, "output");
		cJSON_AddStringToObject(out, "format", "IMAGE_FORMAT_JPEG");
		cJSON_AddNumberToObject(out, "quality", 80);
		if (cJSON_IsNumber(pw) && pw->valuedouble > 0)
			cJSON_AddNumberToObject(out, "maxWidth", pw->valuedouble);
		ProtobufCMessage *m = decode_as(ws, &gpix__v1__process_image_request__descriptor,
						req, NULL, 1, seq);
		cJSON_Delete(req);
		if (ws->announced)
			protobuf_c_message_free_unpacked(&ws->announced->base, NULL);
		ws->announced = (Gpix__V1__ProcessImageRequest *)m;
		ws->announced_seq = seq;
	} else {
		send_error(ws, GPX_INVALID_ARGUMENT,
			   "unknown message type (use tune, process, frame or ping)", id, 0, 0);
	}
	cJSON_Delete(obj);
}

static void on_binary(ws_conn *ws, const uint8_t *p, size_t n)
{
	Gpix__V1__ProcessImageRequest *req = ws->announced;
	if (!req) {
		send_error(ws, GPX_INVALID_ARGUMENT, "binary message without a frame announcing it",
			   NULL, 0, 0);
		return;
	}
	ws->announced = NULL;
	req->source_case = GPIX__V1__PROCESS_IMAGE_REQUEST__SOURCE_IMAGE_DATA;
	req->image_data.data = malloc(n ? n : 1);
	if (!req->image_data.data) {
		protobuf_c_message_free_unpacked(&req->base, NULL);
		return;
	}
	memcpy(req->image_data.data, p, n);
	req->image_data.len = n;
	/* Latest wins: a newer frame replaces one still waiting. */
	if (ws->next_frame)
		protobuf_c_message_free_unpacked(&ws->next_frame->base, NULL);
	ws->next_frame = req;
	ws->next_seq = ws->announced_seq;
	start_next_frame(ws);
}

/* ------------------------------------------------------------ reading */

static void ws_free(ws_conn *ws)
{
	gpx_loop_del(ws->loop, &ws->w);
	for (ws_call *c = ws->calls, *next; c; c = next) {
		next = c->next;
		c->ws = NULL;
		gpx_call_cancel(&c->call);
	}
	if (ws->announced)
		protobuf_c_message_free_unpacked(&ws->announced->base, NULL);
	if (ws->next_frame)
		protobuf_c_message_free_unpacked(&ws->next_frame->base, NULL);
	gpx_buf_free(&ws->in);
	gpx_buf_free(&ws->msg);
	gpx_buf_free(&ws->out);
	atomic_fetch_sub(&ws->srv->metrics.websockets, 1);
	gpx_log_field f[] = {{"request_id", ws->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "websocket closed");
	gpx_upgrade_close(ws->handle);
	free(ws);
}

static void ws_close(ws_conn *ws, int code, const char *reason)
{
	if (ws->closing)
		return;
	uint8_t p[125];
	p[0] = (uint8_t)(code >> 8);
	p[1] = (uint8_t)code;
	size_t rl = strlen(reason);
	if (rl > 120)
		rl = 120;
	memcpy(p + 2, reason, rl);
	put_frame(ws, 8, p, 2 + rl);
	ws->closing = 1;
	shutdown(ws->w.fd, SHUT_WR);
}

/* Handles complete frames in ws->in; returns -1 when the connection is
 * done. */
static int process_input(ws_conn *ws)
{
	size_t off = 0;
	while (!ws->closing) {
		gpx_ws_frame f;
		int r = gpx_ws_parse_header(ws->in.data + off, ws->in.len - off, ws->max_msg, &f);
		if (r < 0) {
			ws_close(ws, -r, r == -1009 ? "message too big" : "protocol error");
			break;
		}
		if (r == 0 || ws->in.len - off < f.header_len + f.len)
			break;
		uint8_t *pl = ws->in.data + off + f.header_len;
		for (uint64_t i = 0; i < f.len; i++)
			pl[i] ^= f.mask[i & 3];
		off += f.header_len + f.len;
		size_t n = (size_t)f.len;
		if (f.opcode == 8) {
			int code = n >= 2 ? pl[0] << 8 | pl[1] : 1000;
			if (n == 1 || (n > 2 && !gpx_utf8_valid(pl + 2, n - 2)))
				code = 1002;
			ws_close(ws, code == 1005 || code == 1006 || code < 1000 ? 1002 : code, "");
			break;
		}
		if (f.opcode == 9) {
			put_frame(ws, 10, pl, n);
			continue;
		}
		if (f.opcode == 10)
			continue;
		if (f.opcode == 0 && !ws->msg_opcode) {
			ws_close(ws, 1002, "continuation without a message");
			break;
		}
		if (f.opcode != 0 && ws->msg_opcode) {
			ws_close(ws, 1002, "new message inside a fragmented one");
			break;
		}
		if (f.opcode != 0)
			ws->msg_opcode = f.opcode;
		if (gpx_buf_append(&ws->msg, pl, n) < 0) {
			ws_close(ws, 1009, "message too big");
			break;
		}
		if (!f.fin)
			continue;
		int op = ws->msg_opcode;
		ws->msg_opcode = 0;
		if (op == 1) {
			if (!gpx_utf8_valid(ws->msg.data, ws->msg.len)) {
				ws_close(ws, 1007, "invalid UTF-8");
				break;
			}
			on_text(ws, ws->msg.data, ws->msg.len);
		} else {
			on_binary(ws, ws->msg.data, ws->msg.len);
		}
		gpx_buf_reset(&ws->msg);
	}
	gpx_buf_consume(&ws->in, off);
	return ws->closed ? -1 : 0;
}

static void ws_event(gpx_watch *w, uint32_t events)
{
	ws_conn *ws = w->data;
	if (events & EPOLLOUT)
		flush_out(ws);
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		for (;;) {
			if (gpx_buf_reserve(&ws->in, 65536) < 0) {
				ws->closed = 1;
				break;
			}
			ssize_t n = recv(w->fd, ws->in.data + ws->in.len, 65536, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n <= 0) {
				ws->closed = 1;
				break;
			}
			ws->in.len += (size_t)n;
			if (ws->closing) {
				ws->in.len = 0; /* after our close frame, input is ignored */
				continue;
			}
			if (process_input(ws) < 0)
				break;
		}
	}
	if (ws->closed || (ws->closing && ws->out.len == 0 && (events & (EPOLLHUP | EPOLLIN))))
		ws_free(ws);
}

typedef struct ws_pending {
	gpx_server *srv;
	gpx_loop *loop;
	char request_id[64];
} ws_pending;

static void on_socket(void *ud, int fd, const uint8_t *extra, size_t nextra, void *handle)
{
	ws_pending *p = ud;
	ws_conn *ws = calloc(1, sizeof(*ws));
	if (!ws) {
		gpx_upgrade_close(handle);
		free(p);
		return;
	}
	ws->srv = p->srv;
	ws->loop = p->loop;
	ws->handle = handle;
	snprintf(ws->request_id, sizeof(ws->request_id), "%s", p->request_id);
	free(p);
	ws->max_msg = (size_t)ws->srv->cfg.max_message_bytes;
	/* One frame plus its header at most. */
	gpx_buf_init(&ws->in, ws->max_msg + 65536 + 14);
	gpx_buf_init(&ws->msg, ws->max_msg);
	gpx_buf_init(&ws->out, 0);
	ws->w.fd = fd;
	ws->w.cb = ws_event;
	ws->w.data = ws;
	atomic_fetch_add(&ws->srv->metrics.websockets, 1);
	gpx_log_field f[] = {{"request_id", ws->request_id}, {NULL, NULL}};
	gpx_logf(GPX_LOG_INFO, f, "websocket opened");
	if (gpx_loop_add(ws->loop, &ws->w, EPOLLIN) < 0) {
		ws_free(ws);
		return;
	}
	if (nextra && gpx_buf_append(&ws->in, extra, nextra) == 0 && process_input(ws) < 0)
		ws_free(ws);
}

static int header_has_token(const char *v, const char *tok)
{
	size_t tl = strlen(tok);
	for (const char *p = v; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (strncasecmp(p, tok, tl) == 0 && (p[tl] == '\0' || p[tl] == ',' || p[tl] == ' '))
			return 1;
		p = strchr(p, ',');
	}
	return 0;
}

int gpx_route_ws(gpx_exchange *ex)
{
	if (strcmp(ex->path, "/ws") != 0)
		return 0;
	ex->protocol = "ws";
	snprintf(ex->rpc, sizeof(ex->rpc), "ws/connect");
	ex->ops->discard_input(ex);
	const char *origin = gpx_ex_header(ex, "origin");
	if (origin && !gpx_origin_allowed(ex, origin)) {
		gpx_ex_reply_error(ex, 403, GPX_PERMISSION_DENIED,
				   "origin not allowed (see --allowed-origins)");
		return 1;
	}
	const char *up = gpx_ex_header(ex, "upgrade");
	const char *conn = gpx_ex_header(ex, "connection");
	const char *key = gpx_ex_header(ex, "sec-websocket-key");
	const char *ver = gpx_ex_header(ex, "sec-websocket-version");
	if (strcmp(ex->method, "GET") || !up || strcasecmp(up, "websocket") || !conn ||
	    !header_has_token(conn, "upgrade") || !ex->ops->upgrade) {
		gpx_header h = {"upgrade", "websocket"};
		ex->code = GPX_INVALID_ARGUMENT;
		const char *b = "{\"code\":\"invalid_argument\",\"message\":\"GET /ws needs a "
				"WebSocket upgrade over HTTP/1.1\"}";
		gpx_ex_reply(ex, 426, "application/json", b, strlen(b), &h, 1);
		return 1;
	}
	uint8_t raw[32];
	if (!ver || strcmp(ver, "13") != 0) {
		gpx_header h = {"sec-websocket-version", "13"};
		ex->code = GPX_INVALID_ARGUMENT;
		const char *b = "{\"code\":\"invalid_argument\",\"message\":\"WebSocket version 13 "
				"only\"}";
		gpx_ex_reply(ex, 426, "application/json", b, strlen(b), &h, 1);
		return 1;
	}
	if (!key || strlen(key) != 24 || gpx_base64_decode(raw, key, 24) != 16) {
		gpx_ex_reply_error(ex, 400, GPX_INVALID_ARGUMENT, "bad Sec-WebSocket-Key");
		return 1;
	}
	char accept[29];
	gpx_ws_accept_key(key, accept);
	ws_pending *p = calloc(1, sizeof(*p));
	if (!p) {
		gpx_ex_reply_error(ex, 503, GPX_RESOURCE_EXHAUSTED, "out of memory");
		return 1;
	}
	p->srv = ex->srv;
	p->loop = ex->loop;
	snprintf(p->request_id, sizeof(p->request_id), "%s", ex->request_id);
	gpx_header h[] = {{"upgrade", "websocket"}, {"sec-websocket-accept", accept}};
	ex->code = GPX_OK;
	if (ex->ops->upgrade(ex, h, 2, on_socket, p) < 0) {
		free(p);
		gpx_ex_reply_error(ex, 500, GPX_INTERNAL, "upgrade failed");
	}
	return 1;
}
