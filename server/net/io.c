#include "server/net/io.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/log.h"
#include "server/handlers/handlers.h"
#include "server/net/classify.h"

/* An accepted socket whose first bytes have not told us its protocol. */
typedef struct sniff {
	gpx_watch w;
	gpx_io *io;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	double deadline;
	struct sniff *prev, *next;
} sniff;

int gpx_io_listen(const char *listen_addr, int *port_out)
{
	char host[256];
	int port;
	if (gpx_config_split_listen(listen_addr, host, sizeof(host), &port) < 0)
		return -1;
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res;
	char ps[16];
	snprintf(ps, sizeof(ps), "%d", port);
	int rc = getaddrinfo(host[0] ? host : NULL, ps, &hints, &res);
	if (rc != 0) {
		gpx_error("cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	int fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 4096) == 0) {
			if (port_out) {
				struct sockaddr_storage ss;
				socklen_t sl = sizeof(ss);
				getsockname(fd, (struct sockaddr *)&ss, &sl);
				*port_out = ntohs(ss.ss_family == AF_INET6 ?
							  ((struct sockaddr_in6 *)&ss)->sin6_port :
							  ((struct sockaddr_in *)&ss)->sin_port);
			}
			break;
		}
		gpx_error("cannot listen on %s: %s", listen_addr, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

static void sniff_free(sniff *s, int close_fd)
{
	gpx_io *io = s->io;
	gpx_loop_del(io->loop, &s->w);
	if (close_fd) {
		close(s->w.fd);
		atomic_fetch_sub(&io->srv->connections, 1);
	}
	if (s->prev)
		s->prev->next = s->next;
	else
		io->sniffing = s->next;
	if (s->next)
		s->next->prev = s->prev;
	free(s);
}

static void sniff_event(gpx_watch *w, uint32_t events)
{
	sniff *s = w->data;
	gpx_io *io = s->io;
	uint8_t buf[GPX_H2_PREFACE_LEN];
	ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_PEEK);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		sniff_free(s, 1);
		return;
	}
	(void)events;
	gpx_proto_guess g = gpx_classify(buf, (size_t)n);
	if (g == GPX_GUESS_NEED_MORE)
		return;
	if (g == GPX_GUESS_HTTP1 && !gpx_looks_like_http1(buf, (size_t)n)) {
		/* Not a request line: answer like an HTTP server and hang up,
		 * rather than leave libmicrohttpd waiting for a line end. */
		static const char bad[] =
			"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
			"Content-Type: application/json\r\nContent-Length: 60\r\n\r\n"
			"{\"code\":\"invalid_argument\",\"message\":\"not an HTTP request\"}\n";
		ssize_t wr = send(w->fd, bad, sizeof(bad) - 1, MSG_NOSIGNAL);
		(void)wr;
		gpx_debug("closing a connection that does not speak HTTP");
		shutdown(w->fd, SHUT_WR);
		sniff_free(s, 1);
		return;
	}
	int fd = w->fd;
	struct sockaddr_storage addr = s->addr;
	socklen_t addrlen = s->addrlen;
	/* The counted connection moves to the transport. */
	sniff_free(s, 0);
	atomic_fetch_sub(&io->srv->connections, 1);
	switch (g) {
	case GPX_GUESS_H2:
		if (gpx_h2_accept(io, fd) < 0)
			close(fd);
		break;
	case GPX_GUESS_TLS:
		gpx_warn("TLS connection on a port without a certificate: closing");
		close(fd);
		break;
	default: gpx_h1_accept(io, fd, (struct sockaddr *)&addr, addrlen); break;
	}
}

static void on_accept(gpx_watch *w, uint32_t events)
{
	gpx_io *io = w->data;
	(void)events;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		int fd = accept4(w->fd, (struct sockaddr *)&addr, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				gpx_warn("accept: %s", strerror(errno));
			return;
		}
		if (atomic_load(&io->srv->connections) >= io->srv->cfg.max_connections) {
			/* Over the limit: shed at once rather than queue. */
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		sniff *s = calloc(1, sizeof(*s));
		if (!s) {
			close(fd);
			continue;
		}
		atomic_fetch_add(&io->srv->connections, 1);
		s->io = io;
		s->addr = addr;
		s->addrlen = len;
		s->w.fd = fd;
		s->w.cb = sniff_event;
		s->w.data = s;
		s->deadline = gpx_loop_now(io->loop) + io->srv->cfg.request_timeout_s;
		s->next = io->sniffing;
		if (s->next)
			s->next->prev = s;
		io->sniffing = s;
		gpx_loop_add(io->loop, &s->w, EPOLLIN | EPOLLRDHUP);
	}
}

static void after_events(void *arg)
{
	gpx_h2_flush_dirty(arg);
	gpx_log_flush();
}

static void on_tick(void *arg)
{
	gpx_io *io = arg;
	double now = gpx_loop_now(io->loop);
	for (sniff *s = io->sniffing, *next; s; s = next) {
		next = s->next;
		if (now > s->deadline)
			sniff_free(s, 1); /* never said anything: slowloris or a probe */
	}
	gpx_h2_sweep(io, now);
	gpx_h1_run(io);
	if (io->draining) {
		gpx_h2_drain(io);
		if (io->active == 0 && gpx_h2_count(io) == 0)
			gpx_loop_stop(io->loop);
	}
}

int gpx_io_init(gpx_io *io, gpx_server *srv, int index, int listen_fd)
{
	memset(io, 0, sizeof(*io));
	io->srv = srv;
	io->index = index;
	io->loop = gpx_loop_new();
	if (!io->loop)
		return -1;
	io->listen_w.fd = listen_fd;
	io->listen_w.cb = on_accept;
	io->listen_w.data = io;
	if (gpx_loop_add(io->loop, &io->listen_w, EPOLLIN) < 0)
		return -1;
	if (gpx_h1_init(io) < 0) {
		gpx_error("cannot start the HTTP/1.1 engine");
		return -1;
	}
	gpx_loop_set_after(io->loop, after_events, io);
	gpx_loop_set_tick(io->loop, 250, on_tick, io);
	return 0;
}

static void *io_main(void *arg)
{
	gpx_io *io = arg;
	gpx_loop_run(io->loop);
	return NULL;
}

void gpx_io_start(gpx_io *io)
{
	pthread_create(&io->thread, NULL, io_main, io);
}

static void do_drain(void *arg)
{
	gpx_io *io = arg;
	if (io->draining)
		return;
	io->draining = 1;
	gpx_loop_del(io->loop, &io->listen_w);
	close(io->listen_w.fd);
	io->listen_w.fd = -1;
	for (sniff *s = io->sniffing, *next; s; s = next) {
		next = s->next;
		sniff_free(s, 1);
	}
	gpx_health_drain(io->srv, io->loop);
	gpx_h2_drain(io);
}

void gpx_io_drain(gpx_io *io)
{
	gpx_loop_post(io->loop, do_drain, io);
}

void gpx_io_stop(gpx_io *io)
{
	gpx_loop_stop(io->loop);
}

void gpx_io_join(gpx_io *io)
{
	pthread_join(io->thread, NULL);
}

void gpx_io_free(gpx_io *io)
{
	while (io->sniffing)
		sniff_free(io->sniffing, 1);
	gpx_h2_close_all(io);
	gpx_h1_free(io);
	if (io->listen_w.fd >= 0)
		close(io->listen_w.fd);
	gpx_loop_free(io->loop);
}
