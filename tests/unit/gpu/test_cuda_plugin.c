/* The real CUDA plugin (gpu/gpix-cuda.so), loaded as gpixd loads it, on
 * whatever machine runs the tests. Without a driver or a device (CI) it
 * must load, be listed as unavailable with the reason, refuse backend
 * "cuda" with failed_precondition naming that reason, and leave "auto" on
 * the CPU. With a usable GPU it must run a job (make test-gpu goes much
 * further). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/backend.h"
#include "engine/plugins/loader.h"

#ifndef CUDA_PLUGIN_DIR
#error "CUDA_PLUGIN_DIR: the build directory holding gpix-cuda.so"
#endif

START_TEST(test_cuda_plugin_loads_and_reports_whether_it_can_run)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	gpx_plugins *pl;
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = CUDA_PLUGIN_DIR};
	ck_assert_msg(gpx_plugins_open(&o, &pl, &st) == 0, "%s", st.msg);
	gpx_plugin_gen *g = gpx_plugins_acquire(pl);
	ck_assert_uint_eq(gpx_plugin_gen_nrefused(g), 0);
	const gpx_backend *b = gpx_plugin_gen_find_backend(g, "cuda");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->plugin, "cuda");
	ck_assert(gpx_backend_has_filter(b, "blur"));
	ck_assert(gpx_backend_has_filter(b, "resize"));
	ck_assert(!gpx_backend_has_filter(b, "pixelate"));

	gpx_step_spec spec[] = {{"grayscale", NULL, 0}, {"blur", NULL, 0}};
	gpx_pipeline *p;
	ck_assert_int_eq(gpx_pipeline_build(gpx_plugin_gen_filters(g), spec, 2, &p, &st), 0);
	gpx_image in, out, cpu;
	ck_assert_int_eq(gpx_image_alloc(&in, 1280, 800, 3), 0); /* over the auto threshold */
	for (uint32_t y = 0; y < in.height; y++)
		for (uint32_t i = 0; i < in.width * 3; i++)
			gpx_image_row(&in, y)[i] = (uint8_t)(i * 31 + y * 17);
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &cpu, NULL, &st), 0);
	const char *ran = NULL;
	if (!b->info.available) {
		ck_assert_msg(strlen(b->info.detail) > 10, "a reason: \"%s\"", b->info.detail);
		ck_assert_ptr_null(b->ctx);
		ck_assert_int_eq(gpx_backend_check_name(g, "cuda", &st), -1);
		ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
		ck_assert_ptr_nonnull(strstr(st.msg, b->info.detail));
		ck_assert_int_eq(gpx_backend_exec(g, "cuda", p, &in, &out, NULL, &ran, &st), -1);
		ck_assert_int_eq(st.code, GPX_FAILED_PRECONDITION);
		ck_assert_int_eq(gpx_backend_exec(g, "auto", p, &in, &out, NULL, &ran, &st), 0);
		ck_assert_str_eq(ran, "cpu");
	} else {
		ck_assert_uint_ge(b->info.auto_min_pixels, 1);
		ck_assert_int_eq(gpx_backend_exec(g, "cuda", p, &in, &out, NULL, &ran, &st), 0);
		ck_assert_str_eq(ran, "cuda");
	}
	int maxd = 0;
	for (uint32_t y = 0; y < cpu.height; y++)
		for (uint32_t i = 0; i < cpu.width * cpu.channels; i++) {
			int d = abs(gpx_image_row(&out, y)[i] - gpx_image_row(&cpu, y)[i]);
			maxd = d > maxd ? d : maxd;
		}
	ck_assert_int_le(maxd, 1);
	gpx_image_free(&out);
	gpx_image_free(&cpu);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_plugin_gen_release(g);
	gpx_plugins_close(pl);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("gpu_cuda_plugin");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_cuda_plugin_loads_and_reports_whether_it_can_run);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
