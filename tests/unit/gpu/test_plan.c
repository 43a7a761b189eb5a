/* The CUDA backend without a GPU: its planning (gpu/plan.c: fusion, buffer
 * sizes, host-side tables) and its kernels' arithmetic (gpu/kmath.h, run by
 * the "cudaemu" test plugin's CPU emulation) against the CPU backend, byte
 * for byte, on the sample photos and on random images of 1, 3 and 4
 * channels, through the real loader and backend dispatch. What this cannot
 * see (shared-memory tiling, launches, streams) is make test-gpu's job. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "common/log.h"
#include "engine/filters/internal.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"
#include "gpu/plan.h"

#ifndef EMU_DIR
#error "EMU_DIR: the build directory holding cudaemu.so"
#endif

static gpx_plugins *pl;
static gpx_plugin_gen *gen;

static void setup(void)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = EMU_DIR};
	ck_assert_msg(gpx_plugins_open(&o, &pl, &st) == 0, "%s", st.msg);
	gen = gpx_plugins_acquire(pl);
	ck_assert_ptr_nonnull(gpx_plugin_gen_find_backend(gen, "cudaemu"));
}

static void teardown(void)
{
	gpx_plugin_gen_release(gen);
	gpx_plugins_close(pl);
}

/* ---- images ------------------------------------------------------------- */

static void noise(gpx_image *im, uint32_t w, uint32_t h, uint32_t ch, unsigned seed)
{
	ck_assert_int_eq(gpx_image_alloc(im, w, h, ch), 0);
	srand(seed);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			gpx_image_row(im, y)[i] = (uint8_t)(rand() & 255);
}

static int load_sample(const char *name, gpx_image *im)
{
	const char *root = getenv("GPX_SOURCE_ROOT");
	char path[1024];
	snprintf(path, sizeof(path), "%s/data/samples/%s", root ? root : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	uint8_t chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		ck_assert_int_eq(gpx_buf_append(&b, chunk, n), 0);
	fclose(f);
	gpx_codec_limits lim;
	gpx_codec_limits_default(&lim);
	gpx_status st = {0};
	int rc = gpx_codec_decode(b.data, b.len, &lim, im, &st);
	gpx_buf_free(&b);
	return rc;
}

/* The central 320x240 (at most) of an RGB photo as 1, 3 or 4 channels:
 * RGB -> gray, or RGBA with a varying alpha. The emulation is slow; a
 * crop of real content is as good a test as the whole photo. */
static void with_channels(const gpx_image *rgb, uint32_t ch, uint32_t maxw, uint32_t maxh,
			  gpx_image *out)
{
	uint32_t w = rgb->width < maxw ? rgb->width : maxw;
	uint32_t h = rgb->height < maxh ? rgb->height : maxh;
	uint32_t x0 = (rgb->width - w) / 2, y0 = (rgb->height - h) / 2;
	ck_assert_int_eq(gpx_image_alloc(out, w, h, ch), 0);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *s = gpx_image_row(rgb, y0 + y) + (x0 + x) * rgb->channels;
			uint8_t *d = gpx_image_row(out, y) + x * ch;
			if (ch == 1) {
				d[0] = (uint8_t)((s[0] + 2 * s[1] + s[2]) / 4);
			} else {
				memcpy(d, s, 3);
				if (ch == 4)
					d[3] = (uint8_t)(x * 7 + y * 3);
			}
		}
}

/* ---- pipelines ---------------------------------------------------------- */

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
#define BOOL(k, v)                                       \
	{                                                \
		k,                                       \
		{                                        \
			.kind = GPX_VALUE_BOOL, .b = (v) \
		}                                        \
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

typedef struct pcase {
	const char *what;
	gpx_step_spec steps[6];
	size_t n;
} pcase;

/* The backends under test: the emulation of the arithmetic, and the
 * simulation of the kernels themselves when a C++ compiler built it. */
static const char *const backends[] = {
	"cudaemu",
#ifdef HAVE_CUDASIM
	"cudasim",
#endif
};
#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

/* Runs the steps on the CPU and on `backend`; the bytes must be the same. */
static void same_bytes_on(const char *backend, const char *what, const gpx_step_spec *steps,
			  size_t n, const gpx_image *in)
{
	gpx_status st = {0};
	gpx_pipeline *p;
	ck_assert_msg(gpx_pipeline_build(gpx_plugin_gen_filters(gen), steps, n, &p, &st) == 0,
		      "%s: %s", what, st.msg);
	gpx_image cpu, emu;
	const char *ran = NULL;
	ck_assert_msg(gpx_pipeline_run(p, in, &cpu, NULL, &st) == 0, "%s: %s", what, st.msg);
	ck_assert_msg(gpx_backend_exec(gen, backend, p, in, &emu, NULL, &ran, &st) == 0,
		      "%s on %s: %s", what, backend, st.msg);
	ck_assert_str_eq(ran, backend);
	ck_assert_uint_eq(emu.width, cpu.width);
	ck_assert_uint_eq(emu.height, cpu.height);
	ck_assert_uint_eq(emu.channels, cpu.channels);
	size_t row = (size_t)cpu.width * cpu.channels, bad = 0, first = 0;
	for (uint32_t y = 0; y < cpu.height; y++)
		for (size_t i = 0; i < row; i++)
			if (gpx_image_row(&cpu, y)[i] != gpx_image_row(&emu, y)[i] && !bad++)
				first = y * row + i;
	ck_assert_msg(bad == 0,
		      "%s: %s on %ux%ux%u: %zu samples differ, the first at %zu (row %zu)", backend,
		      what, in->width, in->height, in->channels, bad, first, first / row);
	gpx_image_free(&cpu);
	gpx_image_free(&emu);
	gpx_pipeline_free(p);
}

static void same_bytes(const char *what, const gpx_step_spec *steps, size_t n, const gpx_image *in)
{
	for (size_t b = 0; b < NBACKENDS; b++)
		same_bytes_on(backends[b], what, steps, n, in);
}

static const pcase cases[] = {
	{"grayscale bt601", {STEP0("grayscale")}, 1},
	{"grayscale bt709", {STEP("grayscale", STR("algorithm", "bt709"))}, 1},
	{"grayscale average", {STEP("grayscale", STR("algorithm", "average"))}, 1},
	{"grayscale lightness", {STEP("grayscale", STR("algorithm", "lightness"))}, 1},
	{"grayscale luminosity", {STEP("grayscale", STR("algorithm", "luminosity"))}, 1},
	{"invert", {STEP0("invert")}, 1},
	{"brightness_contrast",
	 {STEP("brightness_contrast", NUM("brightness", 20), NUM("contrast", 35))},
	 1},
	{"brightness_contrast low",
	 {STEP("brightness_contrast", NUM("brightness", -50), NUM("contrast", -80))},
	 1},
	{"threshold", {STEP("threshold", NUM("value", 100))}, 1},
	{"sepia", {STEP0("sepia")}, 1},
	{"sepia 0.37", {STEP("sepia", NUM("intensity", 0.37))}, 1},
	{"fused chain",
	 {STEP("sepia", NUM("intensity", 0.8)), STEP("brightness_contrast", NUM("contrast", 25)),
	  STEP0("invert"), STEP("grayscale", STR("algorithm", "average")),
	  STEP("threshold", NUM("value", 90))},
	 5},
	{"fused gray then sepia", {STEP0("grayscale"), STEP("sepia", NUM("intensity", 0.5))}, 2},
	{"blur", {STEP0("blur")}, 1},
	{"blur clamp ks 9",
	 {STEP("blur", NUM("sigma", 1.3), NUM("kernel_size", 9), STR("border", "clamp"))},
	 1},
	{"blur wrap", {STEP("blur", NUM("sigma", 3.1), STR("border", "wrap"))}, 1},
	{"box_blur", {STEP0("box_blur")}, 1},
	{"box_blur wrap 5", {STEP("box_blur", NUM("radius", 5), STR("border", "wrap"))}, 1},
	{"box_blur clamp 1", {STEP("box_blur", NUM("radius", 1), STR("border", "clamp"))}, 1},
	{"edge", {STEP0("edge")}, 1},
	{"edge threshold", {STEP("edge", NUM("threshold", 60))}, 1},
	{"sharpen", {STEP0("sharpen")}, 1},
	{"sharpen strong",
	 {STEP("sharpen", NUM("amount", 2.5), NUM("sigma", 2), NUM("threshold", 10))},
	 1},
	{"resize 50% bilinear", {STEP("resize", NUM("width", 160))}, 1},
	{"resize 150% bilinear", {STEP("resize", NUM("height", 360))}, 1},
	{"resize lanczos3 down",
	 {STEP("resize", NUM("width", 173), NUM("height", 101), BOOL("keep_aspect", 0),
	       STR("filter", "lanczos3"))},
	 1},
	{"resize lanczos3 up", {STEP("resize", NUM("width", 450), STR("filter", "lanczos3"))}, 1},
	{"resize nearest",
	 {STEP("resize", NUM("width", 333), NUM("height", 222), BOOL("keep_aspect", 0),
	       STR("filter", "nearest"))},
	 1},
	{"rotate 90", {STEP0("rotate")}, 1},
	{"rotate 180", {STEP("rotate", STR("angle", "180"))}, 1},
	{"rotate 270", {STEP("rotate", STR("angle", "270"))}, 1},
	{"flip", {STEP0("flip")}, 1},
	{"flip both", {STEP("flip", STR("direction", "both"))}, 1},
	{"flip vertical", {STEP("flip", STR("direction", "vertical"))}, 1},
	{"crop", {STEP("crop", NUM("x", 13), NUM("y", 7), NUM("width", 61), NUM("height", 0))}, 1},
	{"long pipeline",
	 {STEP("resize", NUM("width", 300), STR("filter", "lanczos3")),
	  STEP("blur", NUM("sigma", 1.5)), STEP0("grayscale"), STEP0("edge"), STEP0("invert"),
	  STEP("rotate", STR("angle", "270"))},
	 6},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static const char *const samples[] = {"astronaut.png", "chelsea.png", "coffee.png",
				      "ladybird.jpg",  "rocket.jpg",  "storm.jpg"};

START_TEST(test_emulated_kernels_match_the_cpu_on_sample_photos)
{
	/* _i: one sample per test, each channel count, every case */
	gpx_image rgb;
	ck_assert_msg(load_sample(samples[_i], &rgb) == 0, "cannot load %s", samples[_i]);
	for (uint32_t ch = 1; ch <= 4; ch++) {
		if (ch == 2)
			continue;
		for (size_t b = 0; b < NBACKENDS; b++) {
			/* the simulation runs every GPU thread: a smaller crop,
			 * one channel count per sample (each twice over six) */
			static const uint32_t sim_ch[] = {1, 3, 4};
			if (b && ch != sim_ch[_i % 3])
				continue;
			gpx_image im;
			with_channels(&rgb, ch, b ? 96 : 320, b ? 64 : 240, &im);
			for (size_t k = 0; k < NCASES; k++) {
				char what[128];
				snprintf(what, sizeof(what), "%s (%s, %u channels)", cases[k].what,
					 samples[_i], ch);
				same_bytes_on(backends[b], what, cases[k].steps, cases[k].n, &im);
			}
			gpx_image_free(&im);
		}
	}
	gpx_image_free(&rgb);
}
END_TEST

START_TEST(test_emulated_kernels_match_the_cpu_on_odd_sizes_and_wide_kernels)
{
	static const uint32_t sizes[][2] = {{1, 1}, {1, 9}, {9, 1}, {2, 3}, {33, 17}, {130, 35}};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
		for (uint32_t ch = 1; ch <= 4; ch++) {
			if (ch == 2)
				continue;
			gpx_image im;
			noise(&im, sizes[s][0], sizes[s][1], ch, (unsigned)(s * 10 + ch));
			for (size_t k = 0; k < NCASES; k++) {
				if (!strcmp(cases[k].what, "crop") &&
				    (sizes[s][0] < 74 || sizes[s][1] < 8))
					continue; /* the rectangle does not fit */
				same_bytes(cases[k].what, cases[k].steps, cases[k].n, &im);
			}
			gpx_image_free(&im);
		}
	/* kernels wider than the image (reflect repeats with period 2n-2) */
	gpx_image im;
	noise(&im, 50, 40, 3, 99);
	gpx_step_spec wide[][1] = {
		{STEP("blur", NUM("sigma", 20))},
		{STEP("blur", NUM("sigma", 50), NUM("kernel_size", 301), STR("border", "wrap"))},
		{STEP("blur", NUM("sigma", 9), STR("border", "clamp"))},
		{STEP("box_blur", NUM("radius", 100))},
		{STEP("sharpen", NUM("sigma", 20), NUM("amount", 5))},
		{STEP("resize", NUM("width", 3), STR("filter", "lanczos3"))},
	};
	for (size_t k = 0; k < sizeof(wide) / sizeof(wide[0]); k++)
		same_bytes(wide[k][0].filter, wide[k], 1, &im);
	gpx_image_free(&im);
}
END_TEST

/* ---- planning ------------------------------------------------------------ */

static gpx_plugin_step pstep(const char *f, const gpx_plugin_value *v, uint32_t nv, uint32_t w,
			     uint32_t h, uint32_t cin, uint32_t cout)
{
	return (gpx_plugin_step){.filter = f,
				 .params = v,
				 .nparams = nv,
				 .in_width = w,
				 .in_height = h,
				 .in_channels = cin,
				 .out_width = w,
				 .out_height = h,
				 .out_channels = cout};
}

START_TEST(test_plan_fuses_adjacent_point_operations)
{
	gpx_cu_plan p;
	gpx_cu_plan_init(&p);
	gpx_plugin_status st = {0};
	gpx_plugin_value bc[] = {{"brightness", 10, NULL}, {"contrast", 20, NULL}};
	gpx_plugin_value sig[] = {
		{"sigma", 2, NULL}, {"kernel_size", 0, NULL}, {"border", 0, "reflect"}};
	gpx_plugin_step s[] = {
		pstep("sepia", NULL, 0, 64, 48, 1, 3),
		pstep("invert", NULL, 0, 64, 48, 3, 3),
		pstep("brightness_contrast", bc, 2, 64, 48, 3, 3),
		pstep("grayscale", NULL, 0, 64, 48, 3, 1),
		pstep("blur", sig, 3, 64, 48, 1, 1),
		pstep("threshold", NULL, 0, 64, 48, 1, 1),
	};
	ck_assert_int_eq(gpx_cu_plan_build(&p, s, 6, &st), 0);
	ck_assert_uint_eq(p.npass, 3); /* [sepia invert bc gray] blur [threshold] */
	ck_assert_int_eq(p.pass[0].kind, GPX_CU_POINT);
	ck_assert_uint_eq(p.pass[0].nops, 4);
	ck_assert_uint_eq(p.pass[0].nluts, 1);
	ck_assert_uint_eq(p.pass[0].cin, 1);
	ck_assert_uint_eq(p.pass[0].cout, 1);
	ck_assert_int_eq(p.pass[1].kind, GPX_CU_BLUR);
	ck_assert_int_eq(p.pass[1].r, 6);
	ck_assert_uint_eq(p.pass[1].src, p.pass[0].dst);
	ck_assert_int_eq(p.pass[2].kind, GPX_CU_POINT);
	ck_assert_uint_eq(p.out_buf, p.pass[2].dst);
	ck_assert_uint_eq(p.img_bytes, 64 * 48 * 3);
	ck_assert_uint_eq(p.tmp_bytes, 64 * 48 * sizeof(float));
	/* nine tables do not fit one pass */
	gpx_plugin_step nine[9];
	for (int i = 0; i < 9; i++)
		nine[i] = pstep("brightness_contrast", bc, 2, 8, 8, 3, 3);
	ck_assert_int_eq(gpx_cu_plan_build(&p, nine, 9, &st), 0);
	ck_assert_uint_eq(p.npass, 2);
	ck_assert_uint_eq(p.pass[0].nluts, 8);
	gpx_cu_plan_free(&p);
}
END_TEST

START_TEST(test_plan_refuses_what_the_kernels_do_not_cover)
{
	gpx_cu_plan p;
	gpx_cu_plan_init(&p);
	gpx_plugin_status st = {0};
	gpx_plugin_step s = pstep("pixelate", NULL, 0, 8, 8, 3, 3);
	ck_assert_int_eq(gpx_cu_plan_build(&p, &s, 1, &st), -1);
	ck_assert_uint_eq(st.code, GPX_PLUGIN_UNIMPLEMENTED);
	ck_assert_str_eq(st.msg, "filter \"pixelate\" has no CUDA kernel");
	gpx_plugin_step bad[] = {pstep("invert", NULL, 0, 8, 8, 3, 3),
				 pstep("invert", NULL, 0, 9, 8, 3, 3)};
	ck_assert_int_eq(gpx_cu_plan_build(&p, bad, 2, &st), -1);
	ck_assert_uint_eq(st.code, GPX_PLUGIN_INVALID_ARGUMENT);
	gpx_cu_plan_free(&p);
}
END_TEST

START_TEST(test_host_tables_equal_the_cpu_backend)
{
	static const double sigmas[] = {0.1, 0.5, 1, 1.3, 2, 3.7, 20, 50};
	for (size_t i = 0; i < sizeof(sigmas) / sizeof(sigmas[0]); i++) {
		uint32_t ks = gpx_gauss_ksize(sigmas[i], 0);
		ck_assert_uint_eq(gpx_cu_gauss_ksize(sigmas[i], 0), ks);
		float a[512], b[512];
		gpx_gauss_kernel(sigmas[i], ks, a);
		gpx_cu_gauss_kernel(sigmas[i], ks, b);
		ck_assert_int_eq(memcmp(a, b, ks * sizeof(float)), 0);
	}
	ck_assert_uint_eq(gpx_cu_gauss_ksize(2, 9), 9);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gpu_plan");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_emulated_kernels_match_the_cpu_on_sample_photos, 0,
			    (int)(sizeof(samples) / sizeof(samples[0])));
	tcase_add_test(tc, test_emulated_kernels_match_the_cpu_on_odd_sizes_and_wide_kernels);
	tcase_add_test(tc, test_plan_fuses_adjacent_point_operations);
	tcase_add_test(tc, test_plan_refuses_what_the_kernels_do_not_cover);
	tcase_add_test(tc, test_host_tables_equal_the_cpu_backend);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
