/* Test plugins for test_loader.c, one source built several ways (see
 * meson.build):
 *   TP_NAME, TP_VERSION   the descriptor's name and version
 *   TP_FILTER, TP_ADD     a filter that adds TP_ADD to every channel, then
 *                         `amount`; delay_ms sleeps in every band so a job
 *                         can be kept running across a reload
 *   TP_BACKEND            a backend running TP_FILTER and invert on the CPU;
 *                         TP_UNAVAILABLE makes probe say no; the environment
 *                         variable TP_FAIL_CODE makes process fail with it
 *   TP_BAD_ABI            claims the next ABI version
 *   TP_NO_ENTRY           exports no entry point
 *   TP_CLASH              names its filter "blur", a built-in
 * release() appends "release <name> <version>" to $TP_RELEASE_LOG. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gpix/plugin.h"

#ifndef TP_NAME
#define TP_NAME "tp"
#endif
#ifndef TP_VERSION
#define TP_VERSION "1"
#endif
#ifndef TP_FILTER
#define TP_FILTER "tp_add"
#endif
#ifndef TP_ADD
#define TP_ADD 1
#endif
#ifndef TP_BACKEND
#define TP_BACKEND "tpb"
#endif

enum { P_AMOUNT, P_DELAY, P_MODE, P_FLAG };
static const char *const modes[] = {"add", "keep", NULL};

static const gpx_plugin_param params[] = {
	[P_AMOUNT] = {.name = "amount",
		      .display_name = "Amount",
		      .description = "added too",
		      .type = GPX_PLUGIN_PARAM_INTEGER,
		      .def_num = 0,
		      .min = 0,
		      .max = 10,
		      .step = 1},
	[P_DELAY] = {.name = "delay_ms",
		     .type = GPX_PLUGIN_PARAM_INTEGER,
		     .def_num = 0,
		     .min = 0,
		     .max = 1000,
		     .step = 1},
	[P_MODE] = {.name = "mode",
		    .type = GPX_PLUGIN_PARAM_ENUM,
		    .def_enum = "add",
		    .options = modes},
	[P_FLAG] = {.name = "flag", .type = GPX_PLUGIN_PARAM_BOOL, .def_bool = 1},
};

static int plan(const double *p, const gpx_plugin_image *in, uint32_t *w, uint32_t *h, uint32_t *ch,
		gpx_plugin_status *st)
{
	(void)p;
	(void)st;
	*w = in->width;
	*h = in->height;
	*ch = in->channels;
	return 0;
}

static uint8_t add(uint8_t v, int n)
{
	return (uint8_t)(v + n > 255 ? 255 : v + n);
}

static void rows(const gpx_plugin_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	(void)scratch;
	if (a->params[P_DELAY] > 0) {
		struct timespec ts = {0, (long)a->params[P_DELAY] * 1000000L};
		nanosleep(&ts, NULL);
	}
	int n = (int)a->params[P_MODE] == 1 ? 0 : TP_ADD + (int)a->params[P_AMOUNT];
	size_t row = (size_t)a->in->width * a->in->channels;
	for (uint32_t y = y0; y < y1; y++)
		for (size_t i = 0; i < row; i++)
			a->out->data[y * a->out->stride + i] =
				add(a->in->data[y * a->in->stride + i], n);
}

static int check(const double *p, gpx_plugin_status *st)
{
	if (p[P_AMOUNT] == 7)
		return gpx_plugin_fail(st, GPX_PLUGIN_INVALID_ARGUMENT,
				       "parameter \"" TP_FILTER ".amount\" must not be 7");
	return 0;
}

static const gpx_plugin_filter_cpu cpu = {.plan = plan, .rows = rows};

static const gpx_plugin_filter filters[] = {{
#ifdef TP_CLASH
	.name = "blur",
#else
	.name = TP_FILTER,
#endif
	.display_name = "Test filter",
	.description = "adds a constant",
	.params = params,
	.nparams = 4,
	.cpu = &cpu,
	.check = check,
}};

/* ---- the backend -------------------------------------------------------- */

static void probe(gpx_plugin_backend_info *info)
{
#ifdef TP_UNAVAILABLE
	info->available = 0;
	snprintf(info->detail, sizeof(info->detail), "no test device here");
#else
	info->available = 1;
	snprintf(info->device, sizeof(info->device), "test device " TP_VERSION);
	snprintf(info->detail, sizeof(info->detail), "runs " TP_FILTER " and invert");
	info->memory_bytes = 1 << 20;
	info->auto_min_pixels = 100;
#endif
}

typedef struct ctx {
	int magic;
} ctx;

static int init(const gpx_plugin_host *host, void **out, gpx_plugin_status *st)
{
	ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	c->magic = 42;
	host->log(GPX_PLUGIN_LOG_DEBUG, "tp backend up");
	*out = c;
	return 0;
}

static int process(void *vc, const gpx_plugin_image *in, const gpx_plugin_step *steps, uint32_t n,
		   gpx_plugin_image *out, const gpx_plugin_job *job, gpx_plugin_status *st)
{
	ctx *c = vc;
	if (!c || c->magic != 42)
		return gpx_plugin_fail(st, GPX_PLUGIN_INTERNAL, "bad context");
	const char *fail = getenv("TP_FAIL_CODE");
	if (fail && *fail)
		return gpx_plugin_fail(st, (uint32_t)atoi(fail), "injected failure %s", fail);
	if (job->stopped(job->host, st))
		return -1;
	/* Work in out, step by step (every step keeps the geometry). */
	size_t row = (size_t)in->width * in->channels;
	for (uint32_t y = 0; y < in->height; y++)
		memcpy(out->data + y * out->stride, in->data + y * in->stride, row);
	for (uint32_t s = 0; s < n; s++) {
		if (steps[s].out_width != in->width || steps[s].out_channels != in->channels)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "geometry change");
		int inv = !strcmp(steps[s].filter, "invert");
		int k = !strcmp(gpx_plugin_str(&steps[s], "mode", "add"), "keep") ?
				0 :
				TP_ADD + (int)gpx_plugin_num(&steps[s], "amount", 0);
		for (uint32_t y = 0; y < in->height; y++) {
			uint8_t *d = out->data + y * out->stride;
			for (size_t i = 0; i < row; i++) {
				if (inv)
					d[i] = (in->channels == 4 && i % 4 == 3) ?
						       d[i] :
						       (uint8_t)(255 - d[i]);
				else
					d[i] = add(d[i], k);
			}
		}
		job->progress(job->host, s, 1.0);
	}
	return 0;
}

static void release(void *vc)
{
	const char *log = getenv("TP_RELEASE_LOG");
	if (log && *log) {
		FILE *f = fopen(log, "a");
		if (f) {
			fprintf(f, "release %s %s\n", TP_NAME, TP_VERSION);
			fclose(f);
		}
	}
	free(vc);
}

static const gpx_plugin_backend backends[] = {{
	.name = TP_BACKEND,
	.filters = TP_FILTER ", invert",
	.probe = probe,
	.init = init,
	.process = process,
	.release = release,
}};

static const gpx_plugin_descriptor desc = {
#ifdef TP_BAD_ABI
	.abi_version = GPX_PLUGIN_ABI_VERSION + 1,
#else
	.abi_version = GPX_PLUGIN_ABI_VERSION,
#endif
	.struct_size = sizeof(gpx_plugin_descriptor),
	.name = TP_NAME,
	.version = TP_VERSION,
	.description = "test plugin",
	.filters = filters,
	.nfilters = 1,
	.backends = backends,
	.nbackends = 1,
};

#ifdef TP_NO_ENTRY
GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *not_the_entry(uint32_t v);
GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *not_the_entry(uint32_t v)
#else
GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t v)
#endif
{
	(void)v;
	return &desc;
}
