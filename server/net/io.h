/* One I/O thread: its event loop, its share of the listening port (each
 * thread has its own SO_REUSEPORT socket), the connections it accepted and
 * their first-bytes classification, its libmicrohttpd daemon and its HTTP/2
 * sessions. Nothing here is touched by another thread except through
 * gpx_loop_post. */
#ifndef GPX_IO_H
#define GPX_IO_H

#include <pthread.h>
#include <sys/socket.h>

#include "server/net/loop.h"
#include "server/server.h"

struct MHD_Daemon;
struct h2_conn;
struct sniff;

typedef struct gpx_io {
	gpx_server *srv;
	gpx_loop *loop;
	int index;
	pthread_t thread;
	gpx_watch listen_w;
	struct MHD_Daemon *mhd;
	gpx_watch mhd_w;
	struct h2_conn *h2_conns; /* all sessions, for sweeps and drain */
	struct h2_conn *dirty;	  /* sessions with output to flush this iteration */
	struct sniff *sniffing;	  /* accepted, protocol not known yet */
	long active;		  /* exchanges in flight */
	int draining;
} gpx_io;

/* Creates the listening socket for listen (host:port) with SO_REUSEPORT. */
int gpx_io_listen(const char *listen, int *port_out);

int gpx_io_init(gpx_io *io, gpx_server *srv, int index, int listen_fd);
void gpx_io_start(gpx_io *io); /* thread */
void gpx_io_drain(gpx_io *io); /* thread-safe: stop accepting, finish in-flight */
void gpx_io_stop(gpx_io *io);  /* thread-safe: stop the loop now */
void gpx_io_join(gpx_io *io);
void gpx_io_free(gpx_io *io);

/* Transports (http2/h2.c, http1/h1.c). */
int gpx_h2_accept(gpx_io *io, int fd);
void gpx_h2_flush_dirty(gpx_io *io);
void gpx_h2_sweep(gpx_io *io, double now);
void gpx_h2_drain(gpx_io *io);
void gpx_h2_close_all(gpx_io *io);
size_t gpx_h2_count(gpx_io *io);

int gpx_h1_init(gpx_io *io);
int gpx_h1_accept(gpx_io *io, int fd, const struct sockaddr *addr, socklen_t len);
void gpx_h1_run(gpx_io *io);
void gpx_h1_free(gpx_io *io);

#endif
