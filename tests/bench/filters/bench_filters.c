/* Filter throughput at 1080p on one core (and with band threads).
 *
 *   ninja -C build tests/bench/filters/bench_filters   (once tests/meson.build
 *                                                       has subdir('bench/filters'))
 *   build/tests/bench/filters/bench_filters [runs] [band threads] [case substring]
 * or without meson:
 *   cc -std=c17 -O2 -D_GNU_SOURCE -I. -Iinclude tests/bench/filters/bench_filters.c \
 *      build/engine/libgpixengine.a build/common/libgpixcommon.a -lm -lpthread
 *
 * Each case runs one pipeline `runs` times on a 1920x1080 RGB image with a
 * warm per-worker scratch pool (as a queue worker would), and prints the
 * median and best time and the input megapixels per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "engine/filters/pipeline.h"

#define W 1920
#define H 1080

typedef struct bcase {
	const char *label;
	gpx_step_spec steps[3];
	size_t n;
} bcase;

#define P(name, v)                                           \
	{                                                    \
		name,                                        \
		{                                            \
			.kind = GPX_VALUE_NUMBER, .num = (v) \
		}                                            \
	}
#define S(name, v)                                           \
	{                                                    \
		name,                                        \
		{                                            \
			.kind = GPX_VALUE_STRING, .str = (v) \
		}                                            \
	}

static const gpx_step_param sigma2[] = {P("sigma", 2)};
static const gpx_step_param resize_half_bl[] = {P("width", 960)};
static const gpx_step_param resize_half_lz[] = {P("width", 960), S("filter", "lanczos3")};
static const gpx_step_param resize_up_bl[] = {P("width", 2880)};
static const gpx_step_param crop_c[] = {P("x", 100), P("y", 100), P("width", 1280),
					P("height", 720)};
static const gpx_step_param bc[] = {P("brightness", 10), P("contrast", 20)};

static const bcase cases[] = {
	{"grayscale", {{"grayscale", NULL, 0}}, 1},
	{"blur sigma=2 (RGB)", {{"blur", sigma2, 1}}, 1},
	{"grayscale+blur sigma=2", {{"grayscale", NULL, 0}, {"blur", sigma2, 1}}, 2},
	{"box_blur r=2", {{"box_blur", NULL, 0}}, 1},
	{"edge", {{"edge", NULL, 0}}, 1},
	{"sharpen", {{"sharpen", NULL, 0}}, 1},
	{"invert", {{"invert", NULL, 0}}, 1},
	{"brightness_contrast", {{"brightness_contrast", bc, 2}}, 1},
	{"threshold", {{"threshold", NULL, 0}}, 1},
	{"sepia", {{"sepia", NULL, 0}}, 1},
	{"resize 50% bilinear", {{"resize", resize_half_bl, 1}}, 1},
	{"resize 50% lanczos3", {{"resize", resize_half_lz, 2}}, 1},
	{"resize 150% bilinear", {{"resize", resize_up_bl, 1}}, 1},
	{"rotate 90", {{"rotate", NULL, 0}}, 1},
	{"flip", {{"flip", NULL, 0}}, 1},
	{"crop 1280x720", {{"crop", crop_c, 4}}, 1},
};

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Thread CPU time: this machine is shared, so wall time mostly measures
 * the neighbours; band threads' time is not counted (their rows are the
 * ones the caller did not have to do), so the "bands" column is wall time. */
static int use_cpu_time = 1;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(use_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double run_case(const gpx_pipeline *p, const gpx_image *in, gpx_run_ctx *ctx, int runs,
		       double *best)
{
	double *t = calloc((size_t)runs, sizeof(double));
	gpx_status st;
	gpx_image out;
	for (int i = -2; i < runs; i++) { /* two warm-up runs fill the pool */
		double t0 = cpu_now();
		if (gpx_pipeline_run(p, in, &out, ctx, &st) != 0) {
			fprintf(stderr, "run: %s\n", st.msg);
			exit(1);
		}
		double dt = cpu_now() - t0;
		gpx_scratch_image_release(ctx->scratch, &out);
		if (i >= 0)
			t[i] = dt;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_d);
	double med = t[runs / 2];
	*best = t[0];
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 30;
	int threads = argc > 2 ? atoi(argv[2]) : 2;
	const char *only = argc > 3 ? argv[3] : NULL;
	if (runs < 1)
		runs = 1;
	gpx_image in;
	if (gpx_image_alloc(&in, W, H, 3) != 0)
		return 1;
	/* smooth gradients plus a little noise, like a photo */
	uint32_t seed = 1;
	for (uint32_t y = 0; y < H; y++)
		for (uint32_t x = 0; x < W; x++) {
			seed = seed * 1103515245u + 12345u;
			uint8_t *px = gpx_image_row(&in, y) + 3 * x;
			px[0] = (uint8_t)((x * 255) / W + ((seed >> 16) & 7));
			px[1] = (uint8_t)((y * 255) / H);
			px[2] = (uint8_t)(((x + y) * 255) / (W + H) + ((seed >> 20) & 15));
		}
	gpx_filter_registry *reg;
	gpx_scratch *pool;
	gpx_bands *bands;
	if (gpx_filter_registry_create(&reg) != 0 || gpx_scratch_create(0, 0, &pool) != 0 ||
	    gpx_bands_create(threads, &bands) != 0)
		return 1;
	printf("%-26s %9s %9s %9s   %9s %9s\n", "1920x1080 RGB", "cpu med", "cpu best", "MP/s",
	       "bands wall", "MP/s");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gpx_pipeline *p;
		gpx_status st;
		if (only && !strstr(cases[i].label, only))
			continue;
		if (gpx_pipeline_build(reg, cases[i].steps, cases[i].n, &p, &st) != 0) {
			fprintf(stderr, "%s: %s\n", cases[i].label, st.msg);
			return 1;
		}
		gpx_run_ctx ctx = {.scratch = pool};
		use_cpu_time = 1;
		double best, med = run_case(p, &in, &ctx, runs, &best);
		ctx.bands = bands;
		use_cpu_time = 0;
		double bbest, bmed = run_case(p, &in, &ctx, runs, &bbest);
		double mp = (double)W * H / 1e6;
		printf("%-26s %7.2fms %7.2fms %9.0f   %8.2fms %9.0f\n", cases[i].label, med * 1e3,
		       best * 1e3, mp / med, bmed * 1e3, mp / bmed);
		gpx_pipeline_free(p);
	}
	printf("(bands: %d threads)\n", threads);
	gpx_bands_destroy(bands);
	gpx_scratch_destroy(pool);
	gpx_filter_registry_free(reg);
	gpx_image_free(&in);
	return 0;
}
