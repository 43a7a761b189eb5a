/* gpixd: settings, the method table, the I/O threads, signals. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "gpx_config.h"
#include "server/handlers/engine.h"
#include "server/handlers/handlers.h"
#include "server/net/io.h"
#include "server/server.h"

extern const uint8_t gpx_descriptor_set[];
extern const size_t gpx_descriptor_set_len;
extern char **environ;

typedef struct io_thread {
	gpx_io io;
} io_thread;

static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	gpx_server srv;
	memset(&srv, 0, sizeof(srv));
	gpx_config_defaults(&srv.cfg);
	pthread_mutex_init(&srv.watch_lock, NULL);
	gpx_metrics_init(&srv.metrics);
	char err[512];
	int rc = gpx_config_load(&srv.cfg, argc, argv, environ, err, sizeof(err));
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "gpixd: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	gpx_log_setup(srv.cfg.log_format, srv.cfg.log_level);
	/* Decoded images are tens of megabytes: by default glibc maps each one
	 * fresh and unmaps it on free, so every job pays its page faults again
	 * (measured: 6,075 faults, ~100 ms per 4K image). Keep big buffers in
	 * the heap for reuse; memory stays bounded by the peak of the workers'
	 * live images. */
	mallopt(M_MMAP_THRESHOLD, 512 << 20);
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	mallopt(M_ARENA_MAX, srv.cfg.workers + srv.cfg.io_threads + 2);
	gpx_log_buffered(1);
	srv.started_wall = gpx_now_wall();
	raise_fd_limit();

	/* Signals go to sigwait in this thread only. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	gpx_status st = {0};
	if (gpx_methods_load(&srv.methods, gpx_descriptor_set, gpx_descriptor_set_len, &st) < 0) {
		gpx_error("%s", st.msg);
		return 1;
	}
	if (gpx_engine_open(&srv, &st) < 0) {
		gpx_error("%s", st.msg);
		return 1;
	}
	gpx_handlers_register(&srv);

	int n = srv.cfg.io_threads;
	gpx_io *ios = calloc((size_t)n, sizeof(*ios));
	gpx_io **iop = calloc((size_t)n, sizeof(*iop));
	if (!ios || !iop)
		return 1;
	srv.ios = iop;
	srv.nios = n;
	int port = 0;
	char host[256];
	int want_port;
	gpx_config_split_listen(srv.cfg.listen, host, sizeof(host), &want_port);
	char listen_addr[300];
	snprintf(listen_addr, sizeof(listen_addr), "%s", srv.cfg.listen);
	for (int i = 0; i < n; i++) {
		int fd = gpx_io_listen(listen_addr, &port);
		if (fd < 0) {
			gpx_error("cannot listen on %s", srv.cfg.listen);
			return 1;
		}
		/* Port 0: the other threads join the port the first one got. */
		if (i == 0 && want_port == 0) {
			if (strchr(host, ':'))
				snprintf(listen_addr, sizeof(listen_addr), "[%s]:%d", host, port);
			else
				snprintf(listen_addr, sizeof(listen_addr), "%s:%d", host, port);
		}
		if (gpx_io_init(&ios[i], &srv, i, fd) < 0)
			return 1;
		iop[i] = &ios[i];
	}
	for (int i = 0; i < n; i++)
		gpx_io_start(&ios[i]);

	const char *shown = strchr(host, ':') ? "[%s]:%d" : "%s:%d";
	char where[300];
	snprintf(where, sizeof(where), shown, host[0] ? host : "0.0.0.0", port);
	printf("gpixd %s listening on http://%s\n", GPX_VERSION, where);
	fflush(stdout);
	gpx_log_flush();
	gpx_info("gpixd %s listening on http://%s (io-threads %d, workers %d)", GPX_VERSION, where,
		 n, srv.cfg.workers);

	for (;;) {
		int sig = 0;
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			/* New jobs get the reloaded plugins; running ones finish on theirs. */
			gpx_info("SIGHUP: reloading plugins");
			gpx_engine_reload(&srv, &st);
			continue;
		}
		gpx_info("%s: draining (grace %d s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
			 srv.cfg.grace_s);
		break;
	}
	atomic_store(&srv.draining, 1);
	for (int i = 0; i < n; i++)
		gpx_io_drain(&ios[i]);
	/* Each loop stops itself once its in-flight work is done; past the
	 * grace period (or on a second signal) we stop them anyway. */
	struct timespec grace = {.tv_sec = srv.cfg.grace_s, .tv_nsec = 0};
	siginfo_t si;
	int stopped_all = 0;
	double deadline = gpx_now_mono() + srv.cfg.grace_s;
	while (!stopped_all) {
		stopped_all = 1;
		for (int i = 0; i < n; i++)
			if (pthread_tryjoin_np(ios[i].thread, NULL) != 0)
				stopped_all = 0;
			else
				ios[i].thread = 0;
		if (stopped_all)
			break;
		double left = deadline - gpx_now_mono();
		if (left <= 0)
			break;
		grace.tv_sec = 0;
		grace.tv_nsec = 50 * 1000 * 1000;
		if (sigtimedwait(&sigs, &si, &grace) > 0) {
			gpx_warn("second signal: stopping now");
			break;
		}
	}
	for (int i = 0; i < n; i++) {
		if (ios[i].thread) {
			gpx_io_stop(&ios[i]);
			gpx_io_join(&ios[i]);
		}
		gpx_io_free(&ios[i]);
	}
	gpx_engine_close(&srv);
	gpx_methods_free(&srv.methods);
	free(ios);
	free(iop);
	gpx_info("stopped");
	gpx_log_flush();
	return 0;
}
