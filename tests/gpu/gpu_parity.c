/* make test-gpu: the CUDA backend on a real GPU, loaded through the plugin
 * loader exactly as gpixd loads it.
 *
 *   1. parity: every kernel (and fused chains) against the CPU backend on
 *      the sample photos scaled to 1080p and 4K, 1, 3 and 4 channels:
 *      every sample within +-1 (docs/filters.md); the count of samples that
 *      are not identical is reported (expected 0: the arithmetic is the
 *      CPU's, see gpu/kmath.h);
 *   2. faults: out of device memory (injected and a real pool limit), a
 *      refused launch, a trapped kernel that loses the context (in a child
 *      process): the job's code, and that backend "auto" falls back to the
 *      CPU with the CPU's bytes;
 *   3. concurrent jobs from many threads, each checked against its CPU
 *      result.
 *
 * Usage: gpu_parity [--plugin-dir DIR] [--samples DIR] [--quick]
 * Exit status: 0 passed, 1 failed, 77 skipped (no usable CUDA device). */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"

#ifndef GPU_PLUGIN_DIR
#define GPU_PLUGIN_DIR "build/gpu"
#endif

static int failures;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("FAIL: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	failures++;
}

/* ---- images -------------------------------------------------------------- */

static int load_file(const char *path, gpx_image *im)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	gpx_buf b;
	gpx_buf_init(&b, 0);
	uint8_t chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		gpx_buf_append(&b, chunk, n);
	fclose(f);
	gpx_codec_limits lim;
	gpx_codec_limits_default(&lim);
	gpx_status st = {0};
	int rc = gpx_codec_decode(b.data, b.len, &lim, im, &st);
	gpx_buf_free(&b);
	return rc;
}

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

static gpx_pipeline *build(const gpx_plugin_gen *g, const gpx_step_spec *s, size_t n)
{
	gpx_pipeline *p = NULL;
	gpx_status st = {0};
	if (gpx_pipeline_build(gpx_plugin_gen_filters(g), s, n, &p, &st) < 0) {
		fail("pipeline: %s", st.msg);
		return NULL;
	}
	return p;
}

/* The photo, stretched to w x h with lanczos3 on the CPU, as ch channels. */
static int scaled(const gpx_plugin_gen *g, const gpx_image *photo, uint32_t w, uint32_t h,
		  uint32_t ch, gpx_image *out)
{
	gpx_step_spec rs[] = {STEP("resize", NUM("width", w), NUM("height", h),
				   BOOL("keep_aspect", 0), STR("filter", "lanczos3"))};
	gpx_pipeline *p = build(g, rs, 1);
	gpx_image rgb;
	gpx_status st = {0};
	if (!p || gpx_pipeline_run(p, photo, &rgb, NULL, &st) < 0) {
		gpx_pipeline_free(p);
		return -1;
	}
	gpx_pipeline_free(p);
	if (gpx_image_alloc(out, w, h, ch) < 0)
		return -1;
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *s = gpx_image_row(&rgb, y) + (size_t)x * rgb.channels;
			uint8_t *d = gpx_image_row(out, y) + (size_t)x * ch;
			if (ch == 1)
				d[0] = (uint8_t)((s[0] + 2 * s[1] + s[2]) / 4);
			else {
				memcpy(d, s, 3);
				if (ch == 4)
					d[3] = (uint8_t)(x + y);
			}
		}
	gpx_image_free(&rgb);
	return 0;
}

typedef struct diff {
	size_t differ, over1;
	int maxd;
} diff;

static diff compare(const gpx_image *a, const gpx_image *b)
{
	diff d = {0};
	size_t row = (size_t)a->width * a->channels;
	for (uint32_t y = 0; y < a->height; y++) {
		const uint8_t *p = gpx_image_row(a, y), *q = gpx_image_row(b, y);
		for (size_t i = 0; i < row; i++) {
			int e = abs((int)p[i] - (int)q[i]);
			d.differ += e != 0;
			d.over1 += e > 1;
			d.maxd = e > d.maxd ? e : d.maxd;
		}
	}
	return d;
}

/* ---- 1. parity ------------------------------------------------------------ */

typedef struct pcase {
	const char *what;
	gpx_step_spec steps[5];
	size_t n;
} pcase;

static const pcase cases[] = {
	{"grayscale", {STEP0("grayscale")}, 1},
	{"grayscale bt709", {STEP("grayscale", STR("algorithm", "bt709"))}, 1},
	{"grayscale lightness", {STEP("grayscale", STR("algorithm", "lightness"))}, 1},
	{"invert", {STEP0("invert")}, 1},
	{"brightness_contrast",
	 {STEP("brightness_contrast", NUM("brightness", 15), NUM("contrast", 40))},
	 1},
	{"threshold", {STEP("threshold", NUM("value", 110))}, 1},
	{"sepia", {STEP("sepia", NUM("intensity", 0.8))}, 1},
	{"fused: sepia bc invert gray",
	 {STEP0("sepia"), STEP("brightness_contrast", NUM("contrast", 20)), STEP0("invert"),
	  STEP0("grayscale")},
	 4},
	{"blur sigma 2", {STEP0("blur")}, 1},
	{"blur sigma 8 wrap", {STEP("blur", NUM("sigma", 8), STR("border", "wrap"))}, 1},
	{"blur ks 9 clamp",
	 {STEP("blur", NUM("sigma", 1.2), NUM("kernel_size", 9), STR("border", "clamp"))},
	 1},
	{"box_blur r 2", {STEP0("box_blur")}, 1},
	{"box_blur r 15", {STEP("box_blur", NUM("radius", 15))}, 1},
	{"edge", {STEP0("edge")}, 1},
	{"edge threshold", {STEP("edge", NUM("threshold", 50))}, 1},
	{"sharpen", {STEP0("sharpen")}, 1},
	{"sharpen strong",
	 {STEP("sharpen", NUM("amount", 2), NUM("sigma", 2.5), NUM("threshold", 4))},
	 1},
	{"resize 50% bilinear", {STEP("resize", NUM("width", 960))}, 1},
	{"resize 133% bilinear", {STEP("resize", NUM("width", 2560))}, 1},
	{"resize lanczos3 down",
	 {STEP("resize", NUM("width", 1234), STR("filter", "lanczos3"))},
	 1},
	{"resize nearest", {STEP("resize", NUM("width", 777), STR("filter", "nearest"))}, 1},
	{"rotate 90", {STEP0("rotate")}, 1},
	{"flip both", {STEP("flip", STR("direction", "both"))}, 1},
	{"crop",
	 {STEP("crop", NUM("x", 100), NUM("y", 50), NUM("width", 640), NUM("height", 480))},
	 1},
	{"pipeline: resize blur gray edge",
	 {STEP("resize", NUM("width", 1600)), STEP("blur", NUM("sigma", 1.5)), STEP0("grayscale"),
	  STEP0("edge")},
	 4},
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void parity(const gpx_plugin_gen *g, const char *samples, int quick)
{
	static const char *const photos[] = {"astronaut.png", "ladybird.jpg", "storm.jpg"};
	static const uint32_t sizes[][2] = {{1920, 1080}, {3840, 2160}};
	printf("\n== parity: cuda against cpu (every sample within +-1)\n");
	printf("%-34s %-22s %10s %8s %6s\n", "pipeline", "image", "differ", ">1", "max");
	size_t nphotos = quick ? 1 : sizeof(photos) / sizeof(photos[0]);
	for (size_t ph = 0; ph < nphotos; ph++) {
		char path[1024];
		snprintf(path, sizeof(path), "%s/%s", samples, photos[ph]);
		gpx_image photo;
		if (load_file(path, &photo) < 0) {
			fail("cannot load %s", path);
			continue;
		}
		for (size_t sz = 0; sz < 2; sz++)
			for (uint32_t ch = 1; ch <= 4; ch++) {
				if (ch == 2 || (quick && ch != 3))
					continue;
				gpx_image im;
				if (scaled(g, &photo, sizes[sz][0], sizes[sz][1], ch, &im) < 0) {
					fail("cannot scale %s", path);
					continue;
				}
				for (size_t k = 0; k < NCASES; k++) {
					gpx_pipeline *p = build(g, cases[k].steps, cases[k].n);
					if (!p)
						continue;
					gpx_image cpu, gpu;
					gpx_status st = {0};
					const char *ran = NULL;
					if (gpx_pipeline_run(p, &im, &cpu, NULL, &st) < 0) {
						fail("%s: cpu: %s", cases[k].what, st.msg);
					} else if (gpx_backend_exec(g, "cuda", p, &im, &gpu, NULL,
								    &ran, &st) < 0) {
						fail("%s: cuda: %s", cases[k].what, st.msg);
						gpx_image_free(&cpu);
					} else {
						diff d = compare(&cpu, &gpu);
						char img[64];
						snprintf(img, sizeof(img), "%s %ux%ux%u",
							 photos[ph], im.width, im.height, ch);
						printf("%-34s %-22s %10zu %8zu %6d%s\n",
						       cases[k].what, img, d.differ, d.over1,
						       d.maxd, d.over1 ? "  FAIL" : "");
						if (d.over1)
							fail("%s on %s: %zu samples off by more than 1",
							     cases[k].what, img, d.over1);
						gpx_image_free(&cpu);
						gpx_image_free(&gpu);
					}
					gpx_pipeline_free(p);
				}
				gpx_image_free(&im);
				fflush(stdout);
			}
		gpx_image_free(&photo);
	}
}

/* ---- 2. faults ----------------------------------------------------------- */

/* label: what the report calls the case; fault: GPIX_CUDA_FAULT, or NULL */
static void expect_fault(const gpx_plugin_gen *g, const char *label, const char *fault,
			 gpx_code want, const gpx_image *im, gpx_pipeline *p, const gpx_image *cpu)
{
	gpx_status st = {0};
	gpx_image out;
	const char *ran = NULL;
	if (fault)
		setenv("GPIX_CUDA_FAULT", fault, 1);
	int rc = gpx_backend_exec(g, "cuda", p, im, &out, NULL, &ran, &st);
	if (rc == 0) {
		fail("fault %s: the job succeeded", label);
		gpx_image_free(&out);
	} else if (st.code != want) {
		fail("fault %s: %s (%s), want %s", label, gpx_code_name(st.code), st.msg,
		     gpx_code_name(want));
	} else {
		printf("fault %-7s backend cuda: %s: %s\n", label, gpx_code_name(st.code), st.msg);
	}
	rc = gpx_backend_exec(g, "auto", p, im, &out, NULL, &ran, &st);
	if (rc < 0 || strcmp(ran, "cpu") != 0)
		fail("fault %s: auto did not fall back to the cpu (%s)", label,
		     rc < 0 ? st.msg : ran);
	else if (compare(&out, cpu).differ)
		fail("fault %s: the fallback's bytes differ from the cpu's", label);
	else
		printf("fault %-7s backend auto: ran on the cpu, same bytes\n", label);
	if (rc == 0)
		gpx_image_free(&out);
	unsetenv("GPIX_CUDA_FAULT");
}

static int open_loader(const char *dir, gpx_plugins **pl, gpx_plugin_gen **g)
{
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = dir};
	if (gpx_plugins_open(&o, pl, &st) < 0) {
		printf("cannot open %s: %s\n", dir, st.msg);
		return -1;
	}
	*g = gpx_plugins_acquire(*pl);
	return 0;
}

static const char *samples_dir = "data/samples";

/* The trap fault, alone in this process (see faults()). */
static void trap_only(const gpx_plugin_gen *g, const gpx_image *im)
{
	gpx_step_spec s[] = {STEP0("blur"), STEP0("invert")};
	gpx_pipeline *p = build(g, s, 2);
	gpx_image cpu;
	gpx_status st = {0};
	if (!p || gpx_pipeline_run(p, im, &cpu, NULL, &st) < 0) {
		fail("trap: cpu run: %s", st.msg);
		return;
	}
	expect_fault(g, "trap", "trap", GPX_UNAVAILABLE, im, p, &cpu);
	/* the device stays lost: the next job fails fast, auto uses the cpu */
	expect_fault(g, "lost", NULL, GPX_UNAVAILABLE, im, p, &cpu);
	gpx_image_free(&cpu);
	gpx_pipeline_free(p);
}

static void faults(const char *dir, const gpx_plugin_gen *g, const gpx_image *im)
{
	printf("\n== faults\n");
	gpx_step_spec s[] = {STEP0("blur"), STEP0("invert")};
	gpx_pipeline *p = build(g, s, 2);
	gpx_image cpu;
	gpx_status st = {0};
	if (!p || gpx_pipeline_run(p, im, &cpu, NULL, &st) < 0) {
		fail("faults: cpu run: %s", st.msg);
		return;
	}
	expect_fault(g, "oom", "oom", GPX_RESOURCE_EXHAUSTED, im, p, &cpu);
	expect_fault(g, "launch", "launch", GPX_INTERNAL, im, p, &cpu);
	/* the backend still works after recoverable faults */
	gpx_image out;
	const char *ran;
	if (gpx_backend_exec(g, "cuda", p, im, &out, NULL, &ran, &st) < 0)
		fail("after faults: %s", st.msg);
	else
		gpx_image_free(&out);

	/* A real pool limit: a loader of its own, loaded with GPIX_CUDA_POOL_MB=1. */
	setenv("GPIX_CUDA_POOL_MB", "1", 1);
	gpx_plugins *pl2;
	gpx_plugin_gen *g2;
	if (open_loader(dir, &pl2, &g2) == 0) {
		gpx_pipeline *p2 = build(g2, s, 2);
		if (p2)
			expect_fault(g2, "pool", NULL, GPX_RESOURCE_EXHAUSTED, im, p2, &cpu);
		gpx_pipeline_free(p2);
		gpx_plugin_gen_release(g2);
		gpx_plugins_close(pl2);
	}
	unsetenv("GPIX_CUDA_POOL_MB");

	/* A trap loses the context for the whole process, and CUDA does not
	 * survive fork: a fresh process of this program runs it (--trap). */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = {"gpu_parity", "--trap",	   "--plugin-dir",
				(char *)dir,  "--samples", (char *)samples_dir,
				NULL};
		execv("/proc/self/exe", args);
		_exit(127);
	}
	int status = 0;
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		fail("trap: the child process failed (status %d)", status);
	gpx_image_free(&cpu);
	gpx_pipeline_free(p);
}

/* ---- 3. concurrent jobs -------------------------------------------------- */

typedef struct worker {
	const gpx_plugin_gen *g;
	const gpx_image *im;
	gpx_pipeline *const *p;
	const gpx_image *want;
	size_t np;
	int jobs, id, bad;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (int j = 0; j < w->jobs; j++) {
		size_t k = (size_t)(w->id + j) % w->np;
		gpx_image out;
		gpx_status st = {0};
		const char *ran;
		if (gpx_backend_exec(w->g, "cuda", w->p[k], w->im, &out, NULL, &ran, &st) < 0) {
			w->bad++;
			printf("concurrent job: %s\n", st.msg);
			continue;
		}
		if (compare(&out, &w->want[k]).over1)
			w->bad++;
		gpx_image_free(&out);
	}
	return NULL;
}

static void concurrent(const gpx_plugin_gen *g, const gpx_image *im)
{
	printf("\n== concurrent jobs\n");
	gpx_step_spec a[] = {STEP0("grayscale"), STEP0("blur")};
	gpx_step_spec b[] = {STEP("resize", NUM("width", 1280)), STEP0("sharpen")};
	gpx_step_spec c[] = {STEP0("edge"), STEP0("invert")};
	gpx_step_spec d[] = {STEP("box_blur", NUM("radius", 4)), STEP0("sepia")};
	const gpx_step_spec *specs[] = {a, b, c, d};
	gpx_pipeline *p[4];
	gpx_image want[4];
	gpx_status st = {0};
	for (int i = 0; i < 4; i++) {
		p[i] = build(g, specs[i], 2);
		if (!p[i] || gpx_pipeline_run(p[i], im, &want[i], NULL, &st) < 0) {
			fail("concurrent: cpu: %s", st.msg);
			return;
		}
	}
	enum { NT = 12, JOBS = 10 };
	pthread_t th[NT];
	worker w[NT];
	double t0 = gpx_now_mono();
	for (int i = 0; i < NT; i++) {
		w[i] = (worker){
			.g = g, .im = im, .p = p, .want = want, .np = 4, .jobs = JOBS, .id = i};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	int bad = 0;
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
	}
	double dt = gpx_now_mono() - t0;
	printf("%d threads x %d jobs on %ux%u: %d wrong, %.1f jobs/s\n", NT, JOBS, im->width,
	       im->height, bad, NT * JOBS / dt);
	if (bad)
		fail("concurrent: %d jobs wrong", bad);
	for (int i = 0; i < 4; i++) {
		gpx_image_free(&want[i]);
		gpx_pipeline_free(p[i]);
	}
}

int main(int argc, char **argv)
{
	const char *dir = GPU_PLUGIN_DIR, *samples = "data/samples";
	int quick = 0, trap = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--plugin-dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
			samples = argv[++i];
		else if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--trap"))
			trap = 1;
		else {
			fprintf(stderr, "usage: %s [--plugin-dir DIR] [--samples DIR] [--quick]\n",
				argv[0]);
			return 2;
		}
	}
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_WARN);
	gpx_plugins *pl;
	gpx_plugin_gen *g;
	if (open_loader(dir, &pl, &g) < 0)
		return 1;
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, "cuda");
	if (!b) {
		printf("SKIP: no CUDA plugin in %s\n", dir);
		return 77;
	}
	if (!b->info.available) {
		printf("SKIP: cuda unavailable: %s\n", b->info.detail);
		return 77;
	}
	samples_dir = samples;
	char path[1024];
	if (trap) {
		gpx_image photo, hd;
		snprintf(path, sizeof(path), "%s/ladybird.jpg", samples);
		if (load_file(path, &photo) < 0 || scaled(g, &photo, 1920, 1080, 3, &hd) < 0)
			return 1;
		trap_only(g, &hd);
		return failures ? 1 : 0; /* no cleanup: the context is gone */
	}
	printf("cuda: %s; %s\n", b->info.device, b->info.detail);

	parity(g, samples, quick);

	snprintf(path, sizeof(path), "%s/ladybird.jpg", samples);
	gpx_image photo, hd;
	if (load_file(path, &photo) < 0 || scaled(g, &photo, 1920, 1080, 3, &hd) < 0) {
		fail("cannot load %s", path);
	} else {
		concurrent(g, &hd);
		faults(dir, g, &hd);
		gpx_image_free(&hd);
		gpx_image_free(&photo);
	}
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
	printf("\n%s: %d failure%s\n", failures ? "FAILED" : "passed", failures,
	       failures == 1 ? "" : "s");
	return failures ? 1 : 0;
}
