/* The example plugin (plugins/example), loaded the way gpixd loads it:
 * metadata, hand-computed pixelate blocks, and both filters against a
 * straight reference of the arithmetic written in example.c. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "engine/filters/pipeline.h"
#include "engine/plugins/loader.h"

#ifndef EXAMPLE_DIR
#error "EXAMPLE_DIR: the build directory holding gpix-example.so"
#endif

static gpx_plugins *pl;
static gpx_plugin_gen *gen;

static void setup(void)
{
	gpx_log_setup(GPX_LOG_TEXT, GPX_LOG_ERROR);
	gpx_status st = {0};
	gpx_plugins_opts o = {.dir = EXAMPLE_DIR};
	ck_assert_msg(gpx_plugins_open(&o, &pl, &st) == 0, "%s", st.msg);
	gen = gpx_plugins_acquire(pl);
}

static void teardown(void)
{
	gpx_plugin_gen_release(gen);
	gpx_plugins_close(pl);
}

static gpx_pipeline *build(const char *filter, const gpx_step_param *p, size_t n)
{
	gpx_step_spec spec = {filter, p, n};
	gpx_pipeline *pp = NULL;
	gpx_status st = {0};
	ck_assert_msg(gpx_pipeline_build(gpx_plugin_gen_filters(gen), &spec, 1, &pp, &st) == 0,
		      "%s", st.msg);
	return pp;
}

static void run(gpx_pipeline *p, const gpx_image *in, gpx_image *out)
{
	gpx_status st = {0};
	ck_assert_msg(gpx_pipeline_run(p, in, out, NULL, &st) == 0, "%s", st.msg);
}

static void noise(gpx_image *im, uint32_t w, uint32_t h, uint32_t ch, unsigned seed)
{
	ck_assert_int_eq(gpx_image_alloc(im, w, h, ch), 0);
	srand(seed);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			gpx_image_row(im, y)[i] = (uint8_t)(rand() & 255);
}

START_TEST(test_example_filters_are_listed_with_plugin_and_metadata)
{
	ck_assert_uint_eq(gpx_plugin_gen_nplugins(gen), 1);
	const gpx_plugin_descriptor *d = gpx_plugin_gen_plugin(gen, 0, NULL);
	ck_assert_str_eq(d->name, "example");
	ck_assert_str_eq(d->version, "1.0.0");
	const gpx_filter_registry *reg = gpx_plugin_gen_filters(gen);
	const gpx_filter_def *px = gpx_filter_registry_find(reg, "pixelate");
	const gpx_filter_def *vg = gpx_filter_registry_find(reg, "vignette");
	ck_assert_ptr_nonnull(px);
	ck_assert_ptr_nonnull(vg);
	ck_assert_str_eq(px->plugin, "example");
	ck_assert_str_eq(px->version, "1.0.0");
	ck_assert_str_eq(px->display_name, "Pixelate");
	ck_assert_uint_eq(px->nparams, 1);
	ck_assert_str_eq(px->params[0].name, "size");
	ck_assert_int_eq(px->params[0].type, GPX_PARAM_INTEGER);
	ck_assert_double_eq(px->params[0].def_num, 8);
	ck_assert_double_eq(px->params[0].min, 2);
	ck_assert_double_eq(px->params[0].max, 256);
	ck_assert_uint_eq(vg->nparams, 3);
	ck_assert_str_eq(vg->params[2].name, "shape");
	ck_assert_int_eq(vg->params[2].type, GPX_PARAM_ENUM);
	ck_assert_str_eq(vg->params[2].def_enum, "ellipse");
	ck_assert_str_eq(vg->params[2].options[1], "circle");
	ck_assert_ptr_null(vg->params[2].options[2]);
}
END_TEST

START_TEST(test_pixelate_averages_blocks_with_partial_edges)
{
	static const uint8_t px[3][4] = {{0, 10, 20, 30}, {40, 50, 60, 70}, {80, 90, 100, 110}};
	static const uint8_t want[3][4] = {{25, 25, 45, 45}, {25, 25, 45, 45}, {85, 85, 105, 105}};
	gpx_image in, out;
	ck_assert_int_eq(gpx_image_alloc(&in, 4, 3, 1), 0);
	for (int y = 0; y < 3; y++)
		memcpy(gpx_image_row(&in, (uint32_t)y), px[y], 4);
	gpx_step_param prm[] = {{"size", {.kind = GPX_VALUE_NUMBER, .num = 2}}};
	gpx_pipeline *p = build("pixelate", prm, 1);
	run(p, &in, &out);
	for (int y = 0; y < 3; y++)
		ck_assert_int_eq(memcmp(gpx_image_row(&out, (uint32_t)y), want[y], 4), 0);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_pixelate_matches_the_reference_across_row_bands)
{
	/* 16 row bands of a 41-row image cut through 7-row blocks. */
	gpx_image in, out;
	noise(&in, 37, 41, 4, 7);
	gpx_step_param prm[] = {{"size", {.kind = GPX_VALUE_NUMBER, .num = 7}}};
	gpx_pipeline *p = build("pixelate", prm, 1);
	run(p, &in, &out);
	for (uint32_t y = 0; y < in.height; y++)
		for (uint32_t x = 0; x < in.width; x++)
			for (uint32_t c = 0; c < 4; c++) {
				uint32_t bx = x / 7 * 7, by = y / 7 * 7, s = 0, n = 0;
				for (uint32_t yy = by; yy < by + 7 && yy < in.height; yy++)
					for (uint32_t xx = bx; xx < bx + 7 && xx < in.width;
					     xx++, n++)
						s += gpx_image_row(&in, yy)[xx * 4 + c];
				ck_assert_int_eq(gpx_image_row(&out, y)[x * 4 + c],
						 (s + n / 2) / n);
			}
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

static uint8_t vig_ref(uint8_t p, uint32_t x, uint32_t y, uint32_t w, uint32_t h, float strength,
		       float radius, int circle)
{
	float cx = (float)w / 2.0f, cy = (float)h / 2.0f;
	float nx = circle ? cx * cx + cy * cy : 2.0f * cx * cx;
	float ny = circle ? cx * cx + cy * cy : 2.0f * cy * cy;
	float dx = (float)x + 0.5f - cx, dy = (float)y + 0.5f - cy;
	float d = sqrtf(dx * dx / nx + dy * dy / ny);
	float t = (d - radius) / (1.0f - radius);
	t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
	float f = 1.0f - strength * (t * t * (3.0f - 2.0f * t));
	int32_t v = (int32_t)((float)p * f + 0.5f);
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

START_TEST(test_vignette_follows_its_formula_and_keeps_alpha)
{
	static const char *shapes[] = {"ellipse", "circle"};
	for (int circle = 0; circle < 2; circle++) {
		gpx_image in, out;
		noise(&in, 64, 40, 4, 11);
		gpx_step_param prm[] = {
			{"strength", {.kind = GPX_VALUE_NUMBER, .num = 0.8}},
			{"radius", {.kind = GPX_VALUE_NUMBER, .num = 0.3}},
			{"shape", {.kind = GPX_VALUE_STRING, .str = shapes[circle]}},
		};
		gpx_pipeline *p = build("vignette", prm, 3);
		run(p, &in, &out);
		for (uint32_t y = 0; y < in.height; y++)
			for (uint32_t x = 0; x < in.width; x++) {
				const uint8_t *s = gpx_image_row(&in, y) + x * 4;
				const uint8_t *o = gpx_image_row(&out, y) + x * 4;
				for (int c = 0; c < 3; c++)
					ck_assert_int_eq(o[c], vig_ref(s[c], x, y, 64, 40, 0.8f,
								       0.3f, circle));
				ck_assert_int_eq(o[3], s[3]);
			}
		/* the center is untouched, a corner is darkened */
		ck_assert_int_eq(gpx_image_row(&out, 20)[32 * 4], gpx_image_row(&in, 20)[32 * 4]);
		ck_assert_int_le(gpx_image_row(&out, 0)[0], (gpx_image_row(&in, 0)[0] + 4) / 5);
		gpx_image_free(&out);
		gpx_image_free(&in);
		gpx_pipeline_free(p);
	}
}
END_TEST

START_TEST(test_example_filters_chain_with_builtins)
{
	gpx_step_param sz[] = {{"size", {.kind = GPX_VALUE_NUMBER, .num = 4}}};
	gpx_step_spec specs[] = {
		{"grayscale", NULL, 0}, {"pixelate", sz, 1}, {"vignette", NULL, 0}};
	gpx_pipeline *p;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_pipeline_build(gpx_plugin_gen_filters(gen), specs, 3, &p, &st), 0);
	char desc[256];
	gpx_pipeline_describe(p, desc, sizeof(desc));
	ck_assert_str_eq(desc, "grayscale(algorithm=bt601),pixelate(size=4),"
			       "vignette(strength=0.5,radius=0.5,shape=ellipse)");
	gpx_image in, out;
	noise(&in, 30, 20, 3, 5);
	run(p, &in, &out);
	ck_assert_uint_eq(out.channels, 1);
	ck_assert_uint_eq(out.width, 30);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugin_example");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_example_filters_are_listed_with_plugin_and_metadata);
	tcase_add_test(tc, test_pixelate_averages_blocks_with_partial_edges);
	tcase_add_test(tc, test_pixelate_matches_the_reference_across_row_bands);
	tcase_add_test(tc, test_vignette_follows_its_formula_and_keeps_alpha);
	tcase_add_test(tc, test_example_filters_chain_with_builtins);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
