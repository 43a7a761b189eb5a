/* make bench-gpu: the CUDA backend's speed on a real GPU.
 *
 *   1. kernels: device time of each filter's passes at 1080p and 4K (RGB),
 *      without transfers (CUDA events around repeated launches), against
 *      the memory-bandwidth roofline: the least bytes the pass must move
 *      (each input and output byte once, plus the float or 16-bit
 *      temporary of the separable filters) divided by the peak bandwidth
 *      (memory clock x bus width) and by a measured device-to-device copy;
 *   2. end to end: images/s through the plugin ABI, cpu against cuda, with
 *      every core submitting jobs: the pipeline alone (decoded images in
 *      memory), and decode + pipeline + JPEG encode as a server job does.
 *
 * PyTorch/CuPy comparisons: tests/gpu/bench_torch.py (make bench-gpu runs
 * it when torch or cupy can be imported).
 *
 * Usage: gpu_bench [--plugin-dir DIR] [--seconds S] [--threads N] [--iters N]
 * Output is Markdown, for docs/benchmarks.md. Exit 77 without a GPU. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"
#include "gpu/cu.h"
#include "gpu/launch.h"
#include "gpu/plan.h"

#ifndef GPU_PLUGIN_DIR
#define GPU_PLUGIN_DIR "build/gpu"
#endif

extern const unsigned char gpx_cu_fatbin[];
extern const size_t gpx_cu_fatbin_len;

#define NUM(k, v)                                            \
	{                                                    \
		k,                                           \
		{                                            \
			.kind = GPX_VALUE_NUMBER, .num = (v) \
		}                                            \
	}
#define STR(k, v)                                            \
	{                                                    \
		k,                                           \
		{                                            \
			.kind = GPX_VALUE_STRING, .str = (v) \
		}                                            \
	}
#define STEP(f, ...)                                                                     \
	{                                                                                \
		f, (const gpx_step_param[]){__VA_ARGS__},                                \
			sizeof((gpx_step_param[]){__VA_ARGS__}) / sizeof(gpx_step_param) \
	}
#define STEP0(f)           \
	{                  \
		f, NULL, 0 \
	}

typedef struct bcase {
	const char *what;
	gpx_step_spec steps[4];
	size_t n;
} bcase;

static const bcase kcases[] = {
	{"grayscale", {STEP0("grayscale")}, 1},
	{"invert", {STEP0("invert")}, 1},
	{"brightness_contrast", {STEP("brightness_contrast", NUM("contrast", 30))}, 1},
	{"threshold", {STEP0("threshold")}, 1},
	{"sepia", {STEP0("sepia")}, 1},
	{"fused: sepia+bc+invert",
	 {STEP0("sepia"), STEP0("brightness_contrast"), STEP0("invert")},
	 3},
	{"blur sigma 2", {STEP0("blur")}, 1},
	{"blur sigma 8", {STEP("blur", NUM("sigma", 8))}, 1},
	{"box_blur r 2", {STEP0("box_blur")}, 1},
	{"box_blur r 10", {STEP("box_blur", NUM("radius", 10))}, 1},
	{"edge", {STEP0("edge")}, 1},
	{"sharpen", {STEP0("sharpen")}, 1},
	{"resize 50% bilinear", {STEP("resize", NUM("width", 0.5))}, 1}, /* width set per size */
	{"resize 50% lanczos3", {STEP("resize", NUM("width", 0.5), STR("filter", "lanczos3"))}, 1},
	{"rotate 90", {STEP0("rotate")}, 1},
};
#define NK (sizeof(kcases) / sizeof(kcases[0]))

static void fill(gpx_image *im, uint32_t w, uint32_t h, uint32_t ch)
{
	if (gpx_image_alloc(im, w, h, ch) < 0) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			gpx_image_row(im, y)[i] = (uint8_t)((i * 7 + y * 13) ^ (i >> 3));
}

/* A pipeline as plugin steps (what engine/plugins/backend.c hands a backend). */
typedef struct steps {
	gpx_plugin_step s[8];
	gpx_plugin_value v[64];
	uint32_t n;
} steps;

static int to_steps(const gpx_pipeline *p, const gpx_image *in, steps *out)
{
	gpx_image cur = {.width = in->width, .height = in->height, .channels = in->channels};
	size_t k = 0;
	out->n = (uint32_t)gpx_pipeline_len(p);
	for (uint32_t i = 0; i < out->n; i++) {
		const gpx_filter_def *d = gpx_pipeline_step_filter(p, i);
		const double *v = gpx_pipeline_step_values(p, i);
		uint32_t w, h, ch;
		gpx_status st;
		cur.stride = (size_t)cur.width * cur.channels;
		if (d->cpu->plan(v, &cur, &w, &h, &ch, &st) < 0)
			return -1;
		out->s[i] = (gpx_plugin_step){.filter = d->name,
					      .params = &out->v[k],
					      .nparams = (uint32_t)d->nparams,
					      .in_width = cur.width,
					      .in_height = cur.height,
					      .in_channels = cur.channels,
					      .out_width = w,
					      .out_height = h,
					      .out_channels = ch};
		for (size_t j = 0; j < d->nparams; j++, k++)
			out->v[k] = (gpx_plugin_value){d->params[j].name, v[j],
						       d->params[j].type == GPX_PARAM_ENUM ?
							       d->params[j].options[(size_t)v[j]] :
							       NULL};
		cur.width = w;
		cur.height = h;
		cur.channels = ch;
	}
	return 0;
}

/* ---- 1. kernels ------------------------------------------------------------ */

typedef struct gpu {
	gpx_cu_api api;
	CUdevice dev;
	CUcontext ctx;
	CUmodule mod;
	CUfunction fn[GPX_KF_COUNT];
	CUstream s;
	double peak_bw, copy_bw;
} gpu;

#define CK(call)                                                                \
	do {                                                                    \
		CUresult rc_ = (call);                                          \
		if (rc_ != CUDA_SUCCESS) {                                      \
			char e_[192];                                           \
			fprintf(stderr, "%s: %s\n", #call,                      \
				gpx_cu_strerror(&g->api, rc_, e_, sizeof(e_))); \
			exit(1);                                                \
		}                                                               \
	} while (0)

static int bench_launch(void *ud, int k, unsigned gx, unsigned gy, unsigned bx, unsigned by,
			unsigned shm, void **args)
{
	gpu *g = ud;
	return (int)g->api.cuLaunchKernel(g->fn[k], gx, gy, 1, bx, by, 1, shm, g->s, args, NULL);
}

static double elapsed_ms(gpu *g, CUevent a, CUevent b)
{
	float ms = 0;
	if (g->api.eventElapsedTime)
		g->api.eventElapsedTime(&ms, a, b);
	return ms;
}

static int gpu_open(gpu *g)
{
	char why[256];
	if (gpx_cu_load(&g->api, why, sizeof(why)) < 0 || g->api.cuInit(0) != CUDA_SUCCESS) {
		printf("SKIP: %s\n", why[0] ? why : "cuInit failed");
		return -1;
	}
	CK(g->api.cuDeviceGet(&g->dev, 0));
	CK(g->api.cuDevicePrimaryCtxRetain(&g->ctx, g->dev));
	CK(g->api.cuCtxSetCurrent(g->ctx));
	void *image = aligned_alloc(64, (gpx_cu_fatbin_len + 63) & ~(size_t)63);
	memcpy(image, gpx_cu_fatbin, gpx_cu_fatbin_len);
	CK(g->api.cuModuleLoadData(&g->mod, image));
	free(image);
	for (int k = 0; k < GPX_KF_COUNT; k++)
		CK(g->api.cuModuleGetFunction(&g->fn[k], g->mod, gpx_cu_kernel_names[k]));
	CK(g->api.cuStreamCreate(&g->s, CU_STREAM_NON_BLOCKING));
	int clock_khz = 0, bus = 0;
	g->api.cuDeviceGetAttribute(&clock_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, g->dev);
	g->api.cuDeviceGetAttribute(&bus, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, g->dev);
	g->peak_bw = 2.0 * clock_khz * 1e3 * bus / 8.0;
	/* measured: a 256 MiB device-to-device copy reads and writes every byte */
	size_t n = (size_t)256 << 20;
	CUdeviceptr a, b;
	CUevent e0, e1;
	CK(g->api.cuMemAlloc(&a, n));
	CK(g->api.cuMemAlloc(&b, n));
	CK(g->api.cuEventCreate(&e0, CU_EVENT_DEFAULT));
	CK(g->api.cuEventCreate(&e1, CU_EVENT_DEFAULT));
	CK(g->api.cuMemcpyDtoDAsync(b, a, n, g->s));
	CK(g->api.cuEventRecord(e0, g->s));
	for (int i = 0; i < 10; i++)
		CK(g->api.cuMemcpyDtoDAsync(b, a, n, g->s));
	CK(g->api.cuEventRecord(e1, g->s));
	CK(g->api.cuEventSynchronize(e1));
	double ms = elapsed_ms(g, e0, e1) / 10;
	g->copy_bw = ms > 0 ? 2.0 * (double)n / (ms / 1e3) : 0;
	g->api.cuMemFree(a);
	g->api.cuMemFree(b);
	char name[100];
	g->api.cuDeviceGetName(name, sizeof(name), g->dev);
	printf("## %s\n\npeak memory bandwidth %.0f GB/s (memory clock x bus width); measured "
	       "device copy %.0f GB/s\n\n",
	       name, g->peak_bw / 1e9, g->copy_bw / 1e9);
	return 0;
}

/* Bytes a pass must move at the least: input and output once, plus the
 * temporary of a separable pass written and read once. */
static double pass_bytes(const gpx_cu_pass *ps)
{
	double b = gpx_cu_pass_min_bytes(ps);
	double wc = (double)ps->win * ps->hin * ps->cin;
	switch (ps->kind) {
	case GPX_CU_BLUR:
	case GPX_CU_SHARPEN: return b + 2 * 4 * wc + (ps->kind == GPX_CU_SHARPEN ? wc : 0);
	case GPX_CU_BOX: return b + 2 * 2 * wc;
	case GPX_CU_RESIZE: return b + 2 * 4 * (double)ps->win * ps->hout * ps->cin;
	default: return b;
	}
}

static int iters = 50;

static void bench_kernels(const gpx_plugin_gen *gen, gpu *g)
{
	static const uint32_t sizes[][2] = {{1920, 1080}, {3840, 2160}};
	printf("### Kernels (device time, RGB, no transfers)\n\n");
	printf("| filter | image | passes | ms | GB/s | %% of peak | %% of copy | roofline ms |\n");
	printf("|---|---|---|---|---|---|---|---|\n");
	gpx_cu_plan plan;
	gpx_cu_plan_init(&plan);
	for (size_t sz = 0; sz < 2; sz++) {
		gpx_image im;
		fill(&im, sizes[sz][0], sizes[sz][1], 3);
		for (size_t k = 0; k < NK; k++) {
			gpx_step_spec spec[4];
			gpx_step_param prm[4][4];
			memcpy(spec, kcases[k].steps, sizeof(spec));
			if (!strncmp(kcases[k].what, "resize", 6)) { /* half width */
				memcpy(prm[0], spec[0].params,
				       spec[0].nparams * sizeof(gpx_step_param));
				prm[0][0].value.num = im.width / 2;
				spec[0].params = prm[0];
			}
			gpx_pipeline *p;
			gpx_status st;
			steps s;
			gpx_plugin_status pst;
			if (gpx_pipeline_build(gpx_plugin_gen_filters(gen), spec, kcases[k].n, &p,
					       &st) < 0 ||
			    to_steps(p, &im, &s) < 0 ||
			    gpx_cu_plan_build(&plan, s.s, s.n, &pst) < 0) {
				printf("| %s | build failed |\n", kcases[k].what);
				continue;
			}
			CUdeviceptr m[4];
			CK(g->api.cuMemAlloc(&m[0], plan.img_bytes));
			CK(g->api.cuMemAlloc(&m[1], plan.img_bytes));
			CK(g->api.cuMemAlloc(&m[2], plan.tmp_bytes ? plan.tmp_bytes : 1));
			CK(g->api.cuMemAlloc(&m[3], plan.blob_len ? plan.blob_len : 1));
			gpx_cu_bufs b = {.img = {m[0], m[1]}, .tmp = m[2], .blob = m[3]};
			gpx_cu_launcher l = {.launch = bench_launch, .ud = g};
			CK(g->api.cuMemcpyHtoDAsync(b.img[0], im.data, plan.in_bytes, g->s));
			if (plan.blob_len)
				CK(g->api.cuMemcpyHtoDAsync(b.blob, plan.blob, plan.blob_len,
							    g->s));
			CUevent e0, e1;
			CK(g->api.cuEventCreate(&e0, CU_EVENT_DEFAULT));
			CK(g->api.cuEventCreate(&e1, CU_EVENT_DEFAULT));
			CK((CUresult)gpx_cu_launch_plan(&l, &plan, &b)); /* warm up */
			CK(g->api.cuEventRecord(e0, g->s));
			for (int i = 0; i < iters; i++)
				CK((CUresult)gpx_cu_launch_plan(&l, &plan, &b));
			CK(g->api.cuEventRecord(e1, g->s));
			CK(g->api.cuEventSynchronize(e1));
			double ms = elapsed_ms(g, e0, e1) / iters, bytes = 0;
			for (uint32_t i = 0; i < plan.npass; i++)
				bytes += pass_bytes(&plan.pass[i]);
			double gbs = ms > 0 ? bytes / (ms / 1e3) / 1e9 : 0;
			printf("| %s | %ux%u | %u | %.3f | %.0f | %.0f | %.0f | %.3f |\n",
			       kcases[k].what, im.width, im.height, plan.npass, ms, gbs,
			       100.0 * gbs * 1e9 / g->peak_bw,
			       g->copy_bw ? 100.0 * gbs * 1e9 / g->copy_bw : 0,
			       bytes / g->peak_bw * 1e3);
			g->api.cuEventDestroy(e0);
			g->api.cuEventDestroy(e1);
			g->api.cuMemFree(b.img[0]);
			g->api.cuMemFree(b.img[1]);
			g->api.cuMemFree(b.tmp);
			g->api.cuMemFree(b.blob);
			gpx_pipeline_free(p);
			fflush(stdout);
		}
		gpx_image_free(&im);
	}
	gpx_cu_plan_free(&plan);
	printf("\n");
}

/* ---- 2. end to end ---------------------------------------------------------- */

typedef struct runner {
	const gpx_plugin_gen *g;
	const char *backend;
	const gpx_pipeline *p;
	const gpx_image *im;
	const gpx_buf *jpeg; /* set: decode + pipeline + encode */
	double until;
	long done, failed;
} runner;

static void *run(void *arg)
{
	runner *r = arg;
	gpx_codec_limits lim;
	gpx_codec_limits_default(&lim);
	gpx_buf out;
	gpx_buf_init(&out, 0);
	while (gpx_now_mono() < r->until) {
		gpx_status st = {0};
		gpx_image in = {0}, res;
		const char *ran;
		if (r->jpeg && gpx_codec_decode(r->jpeg->data, r->jpeg->len, &lim, &in, &st) < 0) {
			r->failed++;
			continue;
		}
		int rc = gpx_backend_exec(r->g, r->backend, r->p, r->jpeg ? &in : r->im, &res, NULL,
					  &ran, &st);
		if (rc == 0 && r->jpeg) {
			gpx_buf_reset(&out);
			rc = gpx_codec_encode(&res, GPX_FMT_JPEG, 90, &out, &st);
		}
		if (rc == 0)
			gpx_image_free(&res);
		gpx_image_free(&in);
		if (rc < 0) {
			r->failed++;
			continue;
		}
		r->done++;
	}
	gpx_buf_free(&out);
	return NULL;
}

static double throughput(const gpx_plugin_gen *g, const char *backend, const gpx_pipeline *p,
			 const gpx_image *im, const gpx_buf *jpeg, int threads, double seconds)
{
	runner r[64];
	pthread_t th[64];
	double t0 = gpx_now_mono();
	for (int i = 0; i < threads; i++) {
		r[i] = (runner){.g = g,
				.backend = backend,
				.p = p,
				.im = im,
				.jpeg = jpeg,
				.until = t0 + seconds};
		pthread_create(&th[i], NULL, run, &r[i]);
	}
	long done = 0, failed = 0;
	for (int i = 0; i < threads; i++) {
		pthread_join(th[i], NULL);
		done += r[i].done;
		failed += r[i].failed;
	}
	double dt = gpx_now_mono() - t0;
	if (failed)
		printf("(%ld %s jobs failed) ", failed, backend);
	return done / dt;
}

static void bench_end_to_end(const gpx_plugin_gen *g, int threads, double seconds)
{
	static const uint32_t sizes[][2] = {{1920, 1080}, {3840, 2160}};
	gpx_step_spec a[] = {STEP0("grayscale"), STEP("blur", NUM("sigma", 2))};
	gpx_step_spec b[] = {STEP("blur", NUM("sigma", 3)), STEP0("sharpen"), STEP0("sepia")};
	gpx_step_spec c[] = {STEP0("edge"), STEP0("invert")};
	struct {
		const char *what;
		const gpx_step_spec *s;
		size_t n;
	} pipes[] = {{"grayscale, blur", a, 2},
		     {"blur 3, sharpen, sepia", b, 3},
		     {"edge, invert", c, 2}};
	printf("### End to end (%d threads submitting, %.0f s each)\n\n", threads, seconds);
	printf("| pipeline | image | job | cpu images/s | cuda images/s | speed-up |\n");
	printf("|---|---|---|---|---|---|\n");
	for (size_t sz = 0; sz < 2; sz++) {
		gpx_image im;
		fill(&im, sizes[sz][0], sizes[sz][1], 3);
		gpx_buf jpeg;
		gpx_buf_init(&jpeg, 0);
		gpx_status st;
		if (gpx_codec_encode(&im, GPX_FMT_JPEG, 90, &jpeg, &st) < 0) {
			printf("encode failed: %s\n", st.msg);
			return;
		}
		for (size_t k = 0; k < sizeof(pipes) / sizeof(pipes[0]); k++) {
			gpx_pipeline *p;
			if (gpx_pipeline_build(gpx_plugin_gen_filters(g), pipes[k].s, pipes[k].n,
					       &p, &st) < 0)
				continue;
			for (int full = 0; full < 2; full++) {
				const gpx_buf *j = full ? &jpeg : NULL;
				double cpu = throughput(g, "cpu", p, &im, j, threads, seconds);
				double cuda = throughput(g, "cuda", p, &im, j, threads, seconds);
				printf("| %s | %ux%u | %s | %.1f | %.1f | %.1fx |\n", pipes[k].what,
				       im.width, im.height,
				       full ? "decode+filters+JPEG" : "filters", cpu, cuda,
				       cpu > 0 ? cuda / cpu : 0);
				fflush(stdout);
			}
			gpx_pipeline_free(p);
		}
		gpx_buf_free(&jpeg);
		gpx_image_free(&im);
	}
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *dir = GPU_PLUGIN_DIR;
	double seconds = 3;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	int threads = nproc > 0 ? (int)(nproc > 64 ? 64 : nproc) : 4;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plugin-dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
			threads = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
			iters = atoi(argv[++i]) > 0 ? atoi(argv[i]) : 1;
		else {
			fprintf(stderr,
				"usage: %s [--plugin-dir DIR] [--seconds S] [--threads N] [--iters N]\n",
				argv[0]);
			return 2;
		}
	}
	threads = threads < 1 ? 1 : threads > 64 ? 64 : threads;
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_WARN);
	gpx_plugins *pl;
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = dir};
	if (gpx_plugins_open(&o, &pl, &st) < 0) {
		printf("cannot open %s: %s\n", dir, st.msg);
		return 1;
	}
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, "cuda");
	if (!b || !b->info.available) {
		printf("SKIP: cuda unavailable: %s\n", b ? b->info.detail : "no plugin");
		return 77;
	}
	gpu dev;
	memset(&dev, 0, sizeof(dev));
	if (gpu_open(&dev) < 0)
		return 77;
	printf("backend: %s; %s\n\n", b->info.device, b->info.detail);
	bench_kernels(g, &dev);
	bench_end_to_end(g, threads, seconds);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
	return 0;
}
