#include "server/metrics.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static const double bounds[GPX_METRIC_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
						  0.1,	  0.25,	 0.5,	 1,	2.5,  5,     10};

void gpx_metrics_init(gpx_metrics *m)
{
	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
}

static void observe(uint64_t *buckets, uint64_t *count, double *sum, double v)
{
	for (int i = 0; i < GPX_METRIC_BUCKETS; i++)
		if (v <= bounds[i])
			buckets[i]++;
	(*count)++;
	*sum += v;
}

void gpx_metrics_rpc(gpx_metrics *m, const char *method, const char *protocol, int code,
		     double seconds)
{
	if (code < 0 || code > 16)
		code = 2;
	pthread_mutex_lock(&m->lock);
	gpx_rpc_series *s = NULL;
	for (size_t i = 0; i < m->nrpc; i++)
		if (!strcmp(m->rpc[i].method, method) && !strcmp(m->rpc[i].protocol, protocol)) {
			s = &m->rpc[i];
			break;
		}
	if (!s && m->nrpc < sizeof(m->rpc) / sizeof(m->rpc[0])) {
		s = &m->rpc[m->nrpc++];
		snprintf(s->method, sizeof(s->method), "%s", method);
		snprintf(s->protocol, sizeof(s->protocol), "%s", protocol);
	}
	if (s) {
		s->codes[code]++;
		observe(s->buckets, &s->count, &s->sum, seconds);
	}
	pthread_mutex_unlock(&m->lock);
}

void gpx_metrics_filter(gpx_metrics *m, const char *backend, const char *filter, double seconds)
{
	pthread_mutex_lock(&m->lock);
	gpx_filter_series *s = NULL;
	for (size_t i = 0; i < m->nfilters; i++)
		if (!strcmp(m->filters[i].backend, backend) &&
		    !strcmp(m->filters[i].filter, filter)) {
			s = &m->filters[i];
			break;
		}
	if (!s && m->nfilters < sizeof(m->filters) / sizeof(m->filters[0])) {
		s = &m->filters[m->nfilters++];
		snprintf(s->backend, sizeof(s->backend), "%s", backend);
		snprintf(s->filter, sizeof(s->filter), "%s", filter);
	}
	if (s) {
		s->frames++;
		observe(s->buckets, &s->count, &s->sum, seconds);
	}
	pthread_mutex_unlock(&m->lock);
}
