/* Plain-HTTP routes for browsers and operators: the web UI from --web-dir,
 * CORS preflight, /readyz and /metrics. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/gzip.h"
#include "common/log.h"
#include "server/handlers/engine.h"
#include "server/handlers/handlers.h"
#include "server/rpc/router.h"
#include "server/ws/ws.h"

#define MAX_STATIC_BYTES (32 << 20)

static const struct {
	const char *ext, *type;
	int compress;
} mime_types[] = {
	{".html", "text/html; charset=utf-8", 1},
	{".js", "text/javascript; charset=utf-8", 1},
	{".mjs", "text/javascript; charset=utf-8", 1},
	{".css", "text/css; charset=utf-8", 1},
	{".json", "application/json", 1},
	{".map", "application/json", 1},
	{".svg", "image/svg+xml", 1},
	{".txt", "text/plain; charset=utf-8", 1},
	{".png", "image/png", 0},
	{".jpg", "image/jpeg", 0},
	{".jpeg", "image/jpeg", 0},
	{".ico", "image/x-icon", 0},
	{".webp", "image/webp", 0},
	{".woff2", "font/woff2", 0},
	{".wasm", "application/wasm", 0},
};

static const char *mime_of(const char *path, int *compress)
{
	const char *dot = strrchr(path, '.');
	*compress = 0;
	for (size_t i = 0; dot && i < sizeof(mime_types) / sizeof(mime_types[0]); i++)
		if (strcasecmp(dot, mime_types[i].ext) == 0) {
			*compress = mime_types[i].compress;
			return mime_types[i].type;
		}
	return "application/octet-stream";
}

/* A request path maps to a file only through plain segments: no "..",
 * no hidden files, no backslashes or NULs. */
static int safe_rel_path(const char *p)
{
	if (*p == '/')
		p++;
	if (!*p)
		return 1;
	for (const char *seg = p; *seg;) {
		const char *end = strchr(seg, '/');
		size_t n = end ? (size_t)(end - seg) : strlen(seg);
		if (n == 0 || seg[0] == '.')
			return 0;
		for (size_t i = 0; i < n; i++)
			if (seg[i] == '\\' || (unsigned char)seg[i] < 0x20)
				return 0;
		seg += n + (end ? 1 : 0);
	}
	return 1;
}

static const char fallback_page[] =
	"<!doctype html><meta charset=utf-8><title>gpix</title>"
	"<h1>gpix</h1><p>The web UI is not built. Run <code>make web</code> (or ./run.sh), "
	"or point <code>--web-dir</code> at a built UI.</p>"
	"<p>The API is live: try <a href=/v1/version>/v1/version</a>, "
	"<a href=/v1/images>/v1/images</a>, <a href=/v1/filters>/v1/filters</a>.</p>";

static int serve_file(gpx_exchange *ex, const char *rel)
{
	gpx_server *srv = ex->srv;
	char path[GPX_PATH_MAX + 256];
	const char *name = (*rel == '/' ? rel + 1 : rel);
	int is_index = !*name;
	if (snprintf(path, sizeof(path), "%s/%s", srv->cfg.web_dir,
		     is_index ? "index.html" : name) >= (int)sizeof(path))
		return 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size > MAX_STATIC_BYTES) {
		if (fd >= 0)
			close(fd);
		if (is_index) {
			gpx_header h = {"cache-control", "no-cache"};
			gpx_ex_reply(ex, 200, "text/html; charset=utf-8", fallback_page,
				     sizeof(fallback_page) - 1, &h, 1);
			return 1;
		}
		return 0;
	}
	gpx_buf data;
	gpx_buf_init(&data, MAX_STATIC_BYTES);
	if (gpx_buf_reserve(&data, (size_t)sb.st_size) < 0) {
		close(fd);
		return 0;
	}
	ssize_t r;
	while (data.len < (size_t)sb.st_size &&
	       (r = read(fd, data.data + data.len, (size_t)sb.st_size - data.len)) > 0)
		data.len += (size_t)r;
	close(fd);
	int compress;
	const char *type = mime_of(path, &compress);
	char etag[64];
	snprintf(etag, sizeof(etag), "\"%llx-%llx\"", (unsigned long long)sb.st_mtime,
		 (unsigned long long)sb.st_size);
	/* index.html must be revalidated; hashed assets never change. */
	const char *cache =
		is_index || strstr(name, "index.html") ?
			"no-cache" :
			(strncmp(name, "assets/", 7) == 0 ? "public, max-age=31536000, immutable" :
							    "public, max-age=300");
	gpx_header h[6];
	size_t n = 0;
	h[n++] = (gpx_header){"etag", etag};
	h[n++] = (gpx_header){"cache-control", cache};
	h[n++] = (gpx_header){"x-content-type-options", "nosniff"};
	const char *inm = gpx_ex_header(ex, "if-none-match");
	if (inm && strstr(inm, etag)) {
		ex->ops->respond(ex, 304, h, n);
		ex->ops->end(ex, NULL, 0);
		gpx_buf_free(&data);
		return 1;
	}
	const char *ae = gpx_ex_header(ex, "accept-encoding");
	gpx_buf z;
	gpx_buf_init(&z, 0);
	const uint8_t *body = data.data;
	size_t len = data.len;
	if (compress && ae && strstr(ae, "gzip") && len > 512 && gpx_gzip(body, len, 6, &z) == 0 &&
	    z.len < len) {
		body = z.data;
		len = z.len;
		h[n++] = (gpx_header){"content-encoding", "gzip"};
	}
	h[n++] = (gpx_header){"vary", "accept-encoding"};
	gpx_ex_reply(ex, 200, type, body, len, h, n);
	gpx_buf_free(&z);
	gpx_buf_free(&data);
	return 1;
}

static int route_static(gpx_exchange *ex)
{
	if (strcmp(ex->method, "GET") && strcmp(ex->method, "HEAD"))
		return 0;
	/* RPC and API paths are never files. */
	if (!strncmp(ex->path, "/v1/", 4) || !strcmp(ex->path, "/ws") ||
	    !strncmp(ex->path, "/gpix.", 6) || !strncmp(ex->path, "/grpc.", 6))
		return 0;
	if (!safe_rel_path(ex->path))
		return 0;
	ex->protocol = "http";
	ex->ops->discard_input(ex);
	return serve_file(ex, ex->path);
}

/* ------------------------------------------------------------ metrics */

static void label_escape(gpx_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			gpx_buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			gpx_buf_append_str(b, "\\n");
		else
			gpx_buf_append(b, s, 1);
	}
}

static const char *const bucket_le[GPX_METRIC_BUCKETS] = {
	"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
	"0.1",	  "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};

static void histogram(gpx_buf *b, const char *name, const char *labels, const uint64_t *buckets,
		      uint64_t count, double sum)
{
	for (int i = 0; i < GPX_METRIC_BUCKETS; i++)
		gpx_buf_printf(b, "%s_bucket{%s,le=\"%s\"} %llu\n", name, labels, bucket_le[i],
			       (unsigned long long)buckets[i]);
	gpx_buf_printf(b, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
		       (unsigned long long)count);
	gpx_buf_printf(b, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, sum, name, labels,
		       (unsigned long long)count);
}

static void process_metrics(gpx_buf *b)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	int fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		while (readdir(d))
			fds++;
		closedir(d);
		fds -= 3; /* ".", ".." and the directory itself */
	}
	gpx_buf_printf(
		b,
		"# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
		"# TYPE process_resident_memory_bytes gauge\n"
		"process_resident_memory_bytes %ld\n"
		"# HELP process_cpu_seconds_total Total user and system CPU time in seconds.\n"
		"# TYPE process_cpu_seconds_total counter\n"
		"process_cpu_seconds_total %.3f\n"
		"# HELP process_open_fds Number of open file descriptors.\n"
		"# TYPE process_open_fds gauge\n"
		"process_open_fds %d\n",
		rss * sysconf(_SC_PAGESIZE), cpu, fds);
}

static int route_metrics(gpx_exchange *ex)
{
	if (strcmp(ex->path, "/metrics") ||
	    (strcmp(ex->method, "GET") && strcmp(ex->method, "HEAD")))
		return 0;
	ex->protocol = "http";
	snprintf(ex->rpc, sizeof(ex->rpc), "metrics");
	ex->ops->discard_input(ex);
	gpx_server *srv = ex->srv;
	gpx_metrics *m = &srv->metrics;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	char labels[256];
	pthread_mutex_lock(&m->lock);
	gpx_buf_append_str(&b, "# HELP gpix_rpc_requests_total RPCs and HTTP requests served.\n"
			       "# TYPE gpix_rpc_requests_total counter\n");
	for (size_t i = 0; i < m->nrpc; i++)
		for (int c = 0; c <= 16; c++) {
			if (!m->rpc[i].codes[c])
				continue;
			gpx_buf_append_str(&b, "gpix_rpc_requests_total{method=\"");
			label_escape(&b, m->rpc[i].method);
			gpx_buf_printf(&b, "\",protocol=\"%s\",code=\"%s\"} %llu\n",
				       m->rpc[i].protocol, gpx_code_name((gpx_code)c),
				       (unsigned long long)m->rpc[i].codes[c]);
		}
	gpx_buf_append_str(&b, "# HELP gpix_rpc_duration_seconds Time from request headers to the "
			       "end of the response.\n"
			       "# TYPE gpix_rpc_duration_seconds histogram\n");
	for (size_t i = 0; i < m->nrpc; i++) {
		snprintf(labels, sizeof(labels), "method=\"%s\",protocol=\"%s\"", m->rpc[i].method,
			 m->rpc[i].protocol);
		histogram(&b, "gpix_rpc_duration_seconds", labels, m->rpc[i].buckets,
			  m->rpc[i].count, m->rpc[i].sum);
	}
	gpx_buf_append_str(&b, "# HELP gpix_frames_processed_total Images run through a filter.\n"
			       "# TYPE gpix_frames_processed_total counter\n");
	for (size_t i = 0; i < m->nfilters; i++)
		gpx_buf_printf(&b,
			       "gpix_frames_processed_total{backend=\"%s\",filter=\"%s\"} %llu\n",
			       m->filters[i].backend, m->filters[i].filter,
			       (unsigned long long)m->filters[i].frames);
	gpx_buf_append_str(&b, "# HELP gpix_processing_duration_seconds Filter stage time of the "
			       "jobs that ran a filter.\n"
			       "# TYPE gpix_processing_duration_seconds histogram\n");
	for (size_t i = 0; i < m->nfilters; i++) {
		snprintf(labels, sizeof(labels), "backend=\"%s\",filter=\"%s\"",
			 m->filters[i].backend, m->filters[i].filter);
		histogram(&b, "gpix_processing_duration_seconds", labels, m->filters[i].buckets,
			  m->filters[i].count, m->filters[i].sum);
	}
	pthread_mutex_unlock(&m->lock);
	gpx_queue_stats qs;
	gpx_queue_get_stats(srv->engine->queue, &qs);
	gpx_buf_printf(
		&b,
		"# HELP gpix_queue_depth Jobs waiting for a worker.\n"
		"# TYPE gpix_queue_depth gauge\n"
		"gpix_queue_depth{backend=\"cpu\"} %d\n"
		"# HELP gpix_queue_capacity Jobs that may wait before resource_exhausted.\n"
		"# TYPE gpix_queue_capacity gauge\n"
		"gpix_queue_capacity{backend=\"cpu\"} %d\n"
		"# HELP gpix_queue_rejected_total Jobs refused or dropped before running.\n"
		"# TYPE gpix_queue_rejected_total counter\n"
		"gpix_queue_rejected_total{reason=\"full\"} %llu\n"
		"gpix_queue_rejected_total{reason=\"deadline\"} %llu\n"
		"gpix_queue_rejected_total{reason=\"canceled\"} %llu\n"
		"# HELP gpix_websocket_connections Open WebSocket connections.\n"
		"# TYPE gpix_websocket_connections gauge\n"
		"gpix_websocket_connections %ld\n"
		"# HELP gpix_upload_bytes_total Bytes received in uploads.\n"
		"# TYPE gpix_upload_bytes_total counter\n"
		"gpix_upload_bytes_total %llu\n"
		"# HELP gpix_gpu_memory_used_bytes GPU memory in use (no GPU backend loaded).\n"
		"# TYPE gpix_gpu_memory_used_bytes gauge\n"
		"# HELP gpix_gpu_utilization_ratio GPU busy ratio (no GPU backend loaded).\n"
		"# TYPE gpix_gpu_utilization_ratio gauge\n",
		qs.depth, qs.capacity, (unsigned long long)qs.rejected_full,
		(unsigned long long)qs.dropped_deadline, (unsigned long long)qs.dropped_canceled,
		atomic_load(&m->websockets), (unsigned long long)atomic_load(&m->upload_bytes));
	process_metrics(&b);
	gpx_header h = {"cache-control", "no-store"};
	gpx_ex_reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len, &h, 1);
	gpx_buf_free(&b);
	return 1;
}

/* ------------------------------------------------------------ readiness */

static int route_readyz(gpx_exchange *ex)
{
	if (strcmp(ex->path, "/readyz") ||
	    (strcmp(ex->method, "GET") && strcmp(ex->method, "HEAD")))
		return 0;
	ex->protocol = "http";
	ex->ops->discard_input(ex);
	gpx_server *srv = ex->srv;
	gpx_engine *e = srv->engine;
	gpx_status st = {0};
	int store_ok = gpx_store_check_writable(e->store, &st) == 0;
	gpx_queue_stats qs;
	gpx_queue_get_stats(e->queue, &qs);
	int queue_ok = qs.depth < qs.capacity;
	int draining = atomic_load(&srv->draining);
	int ok = store_ok && queue_ok && !draining;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_buf_printf(&b,
		       "{\"status\":\"%s\",\"checks\":["
		       "{\"name\":\"store_writable\",\"ok\":%s%s%s%s},"
		       "{\"name\":\"backends_loaded\",\"ok\":true,\"detail\":\"cpu\"},"
		       "{\"name\":\"queue_below_limit\",\"ok\":%s,\"detail\":\"%d of %d\"},"
		       "{\"name\":\"not_draining\",\"ok\":%s}]}",
		       ok ? "ok" : "unavailable", store_ok ? "true" : "false",
		       store_ok ? "" : ",\"detail\":\"", store_ok ? "" : "not writable",
		       store_ok ? "" : "\"", queue_ok ? "true" : "false", qs.depth, qs.capacity,
		       draining ? "false" : "true");
	gpx_header h = {"cache-control", "no-store"};
	gpx_ex_reply(ex, ok ? 200 : 503, "application/json", b.data, b.len, &h, 1);
	gpx_buf_free(&b);
	return 1;
}

/* ------------------------------------------------------------ CORS */

/* The server's own origin (scheme + Host) or one of --allowed-origins. */
int gpx_origin_allowed(const gpx_exchange *ex, const char *origin)
{
	const char *host = gpx_ex_header(ex, "host");
	if (!host)
		host = gpx_ex_header(ex, ":authority");
	if (host) {
		char own[300];
		snprintf(own, sizeof(own), "http://%s", host);
		if (strcmp(origin, own) == 0)
			return 1;
		snprintf(own, sizeof(own), "https://%s", host);
		if (strcmp(origin, own) == 0)
			return 1;
	}
	const char *list = ex->srv->cfg.allowed_origins;
	size_t ol = strlen(origin);
	for (const char *p = list; p && *p;) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		while (n && p[n - 1] == ' ')
			n--;
		if ((n == 1 && p[0] == '*') || (n == ol && strncmp(p, origin, n) == 0))
			return 1;
		p += n;
		if (!end)
			break;
	}
	return 0;
}

static int route_preflight(gpx_exchange *ex)
{
	if (strcmp(ex->method, "OPTIONS"))
		return 0;
	ex->protocol = "http";
	ex->ops->discard_input(ex);
	const char *origin = gpx_ex_header(ex, "origin");
	if (!origin || !gpx_origin_allowed(ex, origin)) {
		gpx_ex_reply_error(ex, 403, GPX_PERMISSION_DENIED, "origin not allowed");
		return 1;
	}
	const char *req_headers = gpx_ex_header(ex, "access-control-request-headers");
	gpx_header h[] = {
		{"access-control-allow-methods", "GET, HEAD, POST, DELETE, OPTIONS"},
		{"access-control-allow-headers",
		 req_headers ? req_headers :
			       "content-type, connect-protocol-version, connect-timeout-ms, "
			       "connect-content-encoding, connect-accept-encoding, grpc-timeout, "
			       "x-grpc-web, x-user-agent, x-request-id"},
		{"access-control-max-age", "7200"},
	};
	gpx_ex_reply(ex, 204, NULL, NULL, 0, h, 3);
	return 1;
}

void gpx_handlers_register_web(gpx_server *srv)
{
	(void)srv;
	gpx_router_add_raw(route_preflight);
	gpx_router_add_raw(gpx_route_ws);
	gpx_router_add_raw(route_readyz);
	gpx_router_add_raw(route_metrics);
	gpx_router_add_raw(route_static);
}
