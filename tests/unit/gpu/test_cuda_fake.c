/* The real CUDA plugin (gpu/gpix-cuda.so) end to end, without a GPU: run
 * with LD_LIBRARY_PATH at a fake libcuda.so.1 (fakecuda.c) that executes
 * the kernels in the CPU simulation. What it checks is the plugin's own
 * machinery: probe and init through the driver API, planning and launches,
 * slots and the submitter thread, staging through pinned memory, buffers
 * reused across jobs (no allocation per job once warm), the pool limit,
 * every fault path with backend "auto" falling back to the CPU, and
 * concurrent jobs from many threads — each result byte-exact against the
 * CPU backend. */
#include <check.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"

#ifndef CUDA_PLUGIN_DIR
#error "CUDA_PLUGIN_DIR: the build directory holding gpix-cuda.so"
#endif

static gpx_plugins *pl;
static gpx_plugin_gen *gen;

static void setup(void)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	unsetenv("GPIX_CUDA_FAULT");
	unsetenv("GPIX_CUDA_POOL_MB");
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = CUDA_PLUGIN_DIR};
	ck_assert_msg(gpx_plugins_open(&o, &pl, &st) == 0, "%s", st.msg);
	gen = gpx_plugins_acquire(pl);
}

static void teardown(void)
{
	gpx_plugin_gen_release(gen);
	gpx_plugins_close(pl);
}

static void stats(unsigned long *dev, unsigned long *host, unsigned long *launches)
{
	/* the plugin's dlopen gave the same object; its stats are ours too */
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_NOLOAD);
	ck_assert_ptr_nonnull(h);
	union {
		void *obj;
		void (*fn)(unsigned long *, unsigned long *, unsigned long *);
	} u = {.obj = dlsym(h, "fakecuda_stats")};
	ck_assert_ptr_nonnull(u.obj);
	u.fn(dev, host, launches);
	dlclose(h);
}

static void noise(gpx_image *im, uint32_t w, uint32_t h, uint32_t ch, unsigned seed)
{
	ck_assert_int_eq(gpx_image_alloc(im, w, h, ch), 0);
	srand(seed);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			gpx_image_row(im, y)[i] = (uint8_t)(rand() & 255);
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
#define STEP(f, ...)                                                                     \
	{                                                                                \
		f, (const gpx_step_param[]){__VA_ARGS__},                                \
			sizeof((gpx_step_param[]){__VA_ARGS__}) / sizeof(gpx_step_param) \
	}
#define STEP0(f)           \
	{                  \
		f, NULL, 0 \
	}

static gpx_pipeline *build(const gpx_step_spec *s, size_t n)
{
	gpx_pipeline *p;
	gpx_status st = {0};
	ck_assert_msg(gpx_pipeline_build(gpx_plugin_gen_filters(gen), s, n, &p, &st) == 0, "%s",
		      st.msg);
	return p;
}

static int same(const gpx_image *a, const gpx_image *b)
{
	if (a->width != b->width || a->height != b->height || a->channels != b->channels)
		return 0;
	for (uint32_t y = 0; y < a->height; y++)
		if (memcmp(gpx_image_row(a, y), gpx_image_row(b, y),
			   (size_t)a->width * a->channels))
			return 0;
	return 1;
}

/* Runs p on cuda (by name) and on the CPU; the bytes must be equal. */
static void check_cuda(gpx_pipeline *p, const gpx_image *in, const char *what)
{
	gpx_image cpu, gpu;
	gpx_status st = {0};
	const char *ran = NULL;
	ck_assert_int_eq(gpx_pipeline_run(p, in, &cpu, NULL, &st), 0);
	ck_assert_msg(gpx_backend_exec(gen, "cuda", p, in, &gpu, NULL, &ran, &st) == 0, "%s: %s",
		      what, st.msg);
	ck_assert_str_eq(ran, "cuda");
	ck_assert_msg(same(&cpu, &gpu), "%s: cuda and cpu differ", what);
	gpx_image_free(&cpu);
	gpx_image_free(&gpu);
}

START_TEST(test_fake_device_is_probed_and_runs_pipelines_like_the_cpu)
{
	const gpx_backend *b = gpx_plugin_gen_find_backend(gen, "cuda");
	ck_assert_ptr_nonnull(b);
	ck_assert_msg(b->info.available, "%s", b->info.detail);
	ck_assert_str_eq(b->info.device, "Fake GPU (cudasim)");
	ck_assert_ptr_nonnull(strstr(b->info.detail, "compute 9.0, 4.0 GiB; driver CUDA 13.0"));
	ck_assert_uint_eq(b->info.auto_min_pixels, 1000000);

	gpx_step_spec a[] = {STEP0("grayscale"), STEP("blur", NUM("sigma", 1.5))};
	gpx_step_spec c[] = {STEP("resize", NUM("width", 77), STR("filter", "lanczos3")),
			     STEP0("sharpen"), STEP0("sepia"), STEP0("invert")};
	gpx_step_spec d[] = {STEP("box_blur", NUM("radius", 3)), STEP0("edge"),
			     STEP("rotate", STR("angle", "270"))};
	struct {
		const gpx_step_spec *s;
		size_t n;
	} pipes[] = {{a, 2}, {c, 4}, {d, 3}};
	for (uint32_t ch = 1; ch <= 4; ch++) {
		if (ch == 2)
			continue;
		gpx_image im;
		noise(&im, 131, 67, ch, ch);
		for (size_t i = 0; i < 3; i++) {
			gpx_pipeline *p = build(pipes[i].s, pipes[i].n);
			check_cuda(p, &im, "pipeline");
			gpx_pipeline_free(p);
		}
		gpx_image_free(&im);
	}
}
END_TEST

START_TEST(test_buffers_are_reused_across_jobs)
{
	gpx_step_spec s[] = {STEP0("blur"), STEP0("invert")};
	gpx_pipeline *p = build(s, 2);
	gpx_image im;
	noise(&im, 96, 80, 3, 7);
	check_cuda(p, &im, "warm-up");
	check_cuda(p, &im, "warm-up"); /* both slots may have grown */
	unsigned long dev0, host0, l0, dev1, host1, l1;
	stats(&dev0, &host0, &l0);
	for (int i = 0; i < 5; i++)
		check_cuda(p, &im, "steady");
	stats(&dev1, &host1, &l1);
	ck_assert_uint_eq(dev1, dev0);	   /* no cuMemAlloc per job */
	ck_assert_uint_eq(host1, host0);   /* no cuMemHostAlloc per job */
	ck_assert_uint_eq(l1 - l0, 5 * 3); /* blur: 2 kernels, invert: 1 */
	/* a smaller image fits the same buffers */
	gpx_image small;
	noise(&small, 40, 30, 3, 8);
	check_cuda(p, &small, "smaller");
	stats(&dev1, &host1, &l1);
	ck_assert_uint_eq(dev1, dev0);
	gpx_image_free(&small);
	gpx_image_free(&im);
	gpx_pipeline_free(p);
}
END_TEST

typedef struct worker {
	gpx_pipeline *p[3];
	const gpx_image *in;
	const gpx_image *want;
	int id, bad;
} worker;

static void *work(void *arg)
{
	worker *w = arg;
	for (int j = 0; j < 6; j++) {
		int k = (w->id + j) % 3;
		gpx_image out;
		gpx_status st = {0};
		const char *ran;
		if (gpx_backend_exec(gen, "cuda", w->p[k], w->in, &out, NULL, &ran, &st) < 0) {
			w->bad++;
			continue;
		}
		w->bad += !same(&out, &w->want[k]);
		gpx_image_free(&out);
	}
	return NULL;
}

START_TEST(test_concurrent_jobs_share_the_slots_correctly)
{
	gpx_step_spec a[] = {STEP0("grayscale"), STEP0("blur")};
	gpx_step_spec b[] = {STEP("resize", NUM("width", 50)), STEP0("sharpen")};
	gpx_step_spec c[] = {STEP0("edge"), STEP0("invert")};
	gpx_pipeline *p[3] = {build(a, 2), build(b, 2), build(c, 2)};
	gpx_image in, want[3];
	noise(&in, 90, 60, 3, 3);
	gpx_status st = {0};
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(gpx_pipeline_run(p[i], &in, &want[i], NULL, &st), 0);
	enum { NT = 6 };
	pthread_t th[NT];
	worker w[NT];
	for (int i = 0; i < NT; i++) {
		w[i] = (worker){.p = {p[0], p[1], p[2]}, .in = &in, .want = want, .id = i};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < NT; i++) {
		pthread_join(th[i], NULL);
		ck_assert_int_eq(w[i].bad, 0);
	}
	for (int i = 0; i < 3; i++) {
		gpx_image_free(&want[i]);
		gpx_pipeline_free(p[i]);
	}
	gpx_image_free(&in);
}
END_TEST

/* The job's code with backend cuda; the CPU's bytes with backend auto. */
static void expect_fault(gpx_plugin_gen *g, gpx_code want, const char *msg)
{
	gpx_step_spec s[] = {STEP0("blur"), STEP0("invert")};
	gpx_pipeline *p;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_pipeline_build(gpx_plugin_gen_filters(g), s, 2, &p, &st), 0);
	gpx_image in, out, cpu;
	noise(&in, 1200, 900, 3, 5); /* over the auto threshold, over a 1 MiB pool */
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &cpu, NULL, &st), 0);
	const char *ran = NULL;
	ck_assert_int_eq(gpx_backend_exec(g, "cuda", p, &in, &out, NULL, &ran, &st), -1);
	ck_assert_msg(st.code == want, "%s (%s)", gpx_code_name(st.code), st.msg);
	ck_assert_msg(strstr(st.msg, msg), "\"%s\" lacks \"%s\"", st.msg, msg);
	ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, NULL, &ran, &st), 0);
	ck_assert_str_eq(ran, "cpu");
	ck_assert(same(&out, &cpu));
	gpx_image_free(&out);
	gpx_image_free(&cpu);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}

START_TEST(test_faults_fail_the_job_and_auto_falls_back_to_the_cpu)
{
	setenv("GPIX_CUDA_FAULT", "oom", 1);
	expect_fault(gen, GPX_RESOURCE_EXHAUSTED, "out of device memory [injected");
	setenv("GPIX_CUDA_FAULT", "launch", 1);
	expect_fault(gen, GPX_INTERNAL, "launch: CUDA_ERROR_INVALID_VALUE");
	unsetenv("GPIX_CUDA_FAULT");

	/* a real pool limit, read when the backend starts */
	setenv("GPIX_CUDA_POOL_MB", "1", 1);
	gpx_plugins *pl2;
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = CUDA_PLUGIN_DIR};
	ck_assert_int_eq(gpx_plugins_open(&o, &pl2, &st), 0);
	gpx_plugin_gen *g2 = gpx_plugins_acquire(pl2);
	expect_fault(g2, GPX_RESOURCE_EXHAUSTED, "(GPIX_CUDA_POOL_MB)");
	gpx_plugin_gen_release(g2);
	gpx_plugins_close(pl2);
	unsetenv("GPIX_CUDA_POOL_MB");

	/* a trap loses the device for good: then every job fails fast */
	setenv("GPIX_CUDA_FAULT", "trap", 1);
	expect_fault(gen, GPX_UNAVAILABLE, "CUDA device 0 lost");
	unsetenv("GPIX_CUDA_FAULT");
	expect_fault(gen, GPX_UNAVAILABLE, "the CUDA device is lost");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gpu_cuda_fake");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_fake_device_is_probed_and_runs_pipelines_like_the_cpu);
	tcase_add_test(tc, test_buffers_are_reused_across_jobs);
	tcase_add_test(tc, test_concurrent_jobs_share_the_slots_correctly);
	tcase_add_test(tc, test_faults_fail_the_job_and_auto_falls_back_to_the_cpu);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
