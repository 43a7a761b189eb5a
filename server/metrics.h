/* Prometheus metrics (names from API.md). Series live in the server's
 * gpx_metrics; updates take a short mutex (they are per request, not per
 * byte), reads render the text exposition format. */
#ifndef GPX_METRICS_H
#define GPX_METRICS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "common/buf.h"

#define GPX_METRIC_BUCKETS 14

typedef struct gpx_rpc_series {
	char method[128];
	char protocol[16];
	uint64_t codes[17];
	uint64_t buckets[GPX_METRIC_BUCKETS];
	uint64_t count;
	double sum;
} gpx_rpc_series;

typedef struct gpx_filter_series {
	char backend[16];
	char filter[32];
	uint64_t frames;
	uint64_t buckets[GPX_METRIC_BUCKETS];
	uint64_t count;
	double sum;
} gpx_filter_series;

typedef struct gpx_metrics {
	pthread_mutex_t lock;
	gpx_rpc_series rpc[160];
	size_t nrpc;
	gpx_filter_series filters[64];
	size_t nfilters;
	atomic_ullong upload_bytes;
	atomic_long websockets;
} gpx_metrics;

void gpx_metrics_init(gpx_metrics *m);
void gpx_metrics_rpc(gpx_metrics *m, const char *method, const char *protocol, int code,
		     double seconds);
void gpx_metrics_filter(gpx_metrics *m, const char *backend, const char *filter, double seconds);

#endif
