#include "fixtures.h"

static const uint8_t m3x2[] = {1, 2, 3, 4, 5, 6}; /* 3 wide, 2 high */

START_TEST(test_resize_nearest_2x2_to_4x4_repeats_pixels)
{
	const uint8_t px[] = {1, 2, 3, 4};
	gpx_image in = fx_image(2, 2, 1, px);
	gpx_step_param p[] = {{"width", NUM(4)}, {"height", NUM(4)}, {"filter", STR("nearest")}};
	const uint8_t want[] = {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4};
	fx_check1("resize", p, 3, &in, 4, 4, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_resize_bilinear_uses_pixel_centers_and_clamps)
{
	const uint8_t px[] = {0, 100};
	gpx_image in = fx_image(2, 1, 1, px);
	gpx_step_param p[] = {{"width", NUM(4)}, {"keep_aspect", BOOLV(0)}, {"height", NUM(1)}};
	/* src x = (x+0.5)/2 - 0.5: -0.25 (clamped), 0.25, 0.75, 1.25 (clamped) */
	const uint8_t want[] = {0, 25, 75, 100};
	fx_check1("resize", p, 3, &in, 4, 1, 1, want);
	gpx_image_free(&in);

	const uint8_t px4[] = {0, 100, 200, 250};
	in = fx_image(4, 1, 1, px4);
	gpx_step_param d[] = {{"width", NUM(2)}, {"keep_aspect", BOOLV(0)}, {"height", NUM(1)}};
	const uint8_t want2[] = {50, 225}; /* src 0.5, 2.5 */
	fx_check1("resize", d, 3, &in, 2, 1, 1, want2);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_resize_derives_missing_side_from_aspect_and_fits_box)
{
	gpx_image in = fx_image(200, 100, 3, NULL);
	gpx_filter_registry *reg;
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_filter_registry_create(&reg), 0);
	struct {
		gpx_step_param ps[3];
		size_t n;
		uint32_t w, h;
	} cases[] = {
		{{{"width", NUM(100)}}, 1, 100, 50},
		{{{"height", NUM(25)}}, 1, 50, 25},
		{{{"width", NUM(100)}, {"height", NUM(100)}}, 2, 100, 50},
		{{{"width", NUM(300)}, {"height", NUM(50)}}, 2, 100, 50},
		{{{"width", NUM(100)}, {"height", NUM(100)}, {"keep_aspect", BOOLV(0)}},
		 3,
		 100,
		 100},
		{{{"width", NUM(3)}}, 1, 3, 2}, /* 1.5 rounds up */
		{{{"width", NUM(0)}}, 1, 200, 100},
	};
	for (size_t i = 0; i < NPARAMS(cases); i++) {
		gpx_step_spec spec = {"resize", cases[i].ps, cases[i].n};
		ck_assert_int_eq(gpx_pipeline_build(reg, &spec, 1, &p, &st), 0);
		uint32_t w, h, ch;
		ck_assert_int_eq(gpx_pipeline_plan(p, 200, 100, 3, 0, &w, &h, &ch, &st), 0);
		ck_assert_uint_eq(w, cases[i].w);
		ck_assert_uint_eq(h, cases[i].h);
		ck_assert_uint_eq(ch, 3);
		gpx_pipeline_free(p);
	}
	gpx_filter_registry_free(reg);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_resize_same_size_is_identity_for_every_filter)
{
	uint8_t px[7 * 5 * 3];
	for (size_t i = 0; i < sizeof(px); i++)
		px[i] = (uint8_t)(i * 37);
	gpx_image in = fx_image(7, 5, 3, px);
	const char *f[] = {"nearest", "bilinear", "lanczos3"};
	for (int i = 0; i < 3; i++) {
		gpx_step_param p[] = {{"width", NUM(7)}, {"filter", STR(f[i])}};
		fx_check1("resize", p, 2, &in, 7, 5, 3, px);
	}
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_resize_lanczos_keeps_constant_images_constant)
{
	uint8_t px[40 * 30];
	memset(px, 77, sizeof(px));
	gpx_image in = fx_image(40, 30, 1, px);
	static uint8_t want[93 * 70];
	memset(want, 77, sizeof(want));
	gpx_step_param down[] = {{"width", NUM(7)}, {"filter", STR("lanczos3")}};
	fx_check1("resize", down, 2, &in, 7, 5, 1, want);
	gpx_step_param up[] = {{"width", NUM(93)}, {"filter", STR("lanczos3")}};
	fx_check1("resize", up, 2, &in, 93, 70, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_rotate_90_180_270_move_pixels_clockwise)
{
	gpx_image in = fx_image(3, 2, 1, m3x2);
	gpx_step_param r90[] = {{"angle", STR("90")}};
	const uint8_t w90[] = {4, 1, 5, 2, 6, 3};
	fx_check1("rotate", r90, 1, &in, 2, 3, 1, w90);
	fx_check1("rotate", NULL, 0, &in, 2, 3, 1, w90); /* default 90 */
	gpx_step_param r180[] = {{"angle", STR("180")}};
	const uint8_t w180[] = {6, 5, 4, 3, 2, 1};
	fx_check1("rotate", r180, 1, &in, 3, 2, 1, w180);
	gpx_step_param r270[] = {{"angle", STR("270")}};
	const uint8_t w270[] = {3, 6, 2, 5, 1, 4};
	fx_check1("rotate", r270, 1, &in, 2, 3, 1, w270);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_rotate_moves_whole_rgb_pixels)
{
	const uint8_t px[] = {1, 2, 3, 4, 5, 6}; /* 2x1 RGB */
	gpx_image in = fx_image(2, 1, 3, px);
	const uint8_t want[] = {1, 2, 3, 4, 5, 6}; /* 1x2 */
	fx_check1("rotate", NULL, 0, &in, 1, 2, 3, want);
	gpx_step_param r270[] = {{"angle", STR("270")}};
	const uint8_t w270[] = {4, 5, 6, 1, 2, 3};
	fx_check1("rotate", r270, 1, &in, 1, 2, 3, w270);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_flip_mirrors_by_direction)
{
	gpx_image in = fx_image(3, 2, 1, m3x2);
	const uint8_t h[] = {3, 2, 1, 6, 5, 4};
	fx_check1("flip", NULL, 0, &in, 3, 2, 1, h);
	gpx_step_param v[] = {{"direction", STR("vertical")}};
	const uint8_t wv[] = {4, 5, 6, 1, 2, 3};
	fx_check1("flip", v, 1, &in, 3, 2, 1, wv);
	gpx_step_param b[] = {{"direction", STR("both")}};
	const uint8_t wb[] = {6, 5, 4, 3, 2, 1};
	fx_check1("flip", b, 1, &in, 3, 2, 1, wb);
	gpx_image_free(&in);

	const uint8_t rgba[] = {1, 2, 3, 4, 5, 6, 7, 8};
	in = fx_image(2, 1, 4, rgba);
	const uint8_t wr[] = {5, 6, 7, 8, 1, 2, 3, 4};
	fx_check1("flip", NULL, 0, &in, 2, 1, 4, wr);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_crop_keeps_the_rectangle_and_zero_size_reaches_the_edge)
{
	gpx_image in = fx_image(3, 2, 1, m3x2);
	gpx_step_param p[] = {{"x", NUM(1)}, {"width", NUM(2)}, {"height", NUM(2)}};
	const uint8_t want[] = {2, 3, 5, 6};
	fx_check1("crop", p, 3, &in, 2, 2, 1, want);
	gpx_step_param q[] = {{"x", NUM(2)}, {"y", NUM(1)}};
	const uint8_t want2[] = {6};
	fx_check1("crop", q, 2, &in, 1, 1, 1, want2);
	fx_check1("crop", NULL, 0, &in, 3, 2, 1, m3x2);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_crop_outside_the_image_is_invalid_argument_at_run_time)
{
	gpx_image in = fx_image(3, 2, 1, m3x2);
	gpx_step_param p[] = {{"x", NUM(2)}, {"width", NUM(2)}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("crop", p, 2, &in, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg,
			 "crop rectangle x=2 y=0 width=2 height=0 is outside the 3x2 image");
	ck_assert_ptr_null(out.data);
	gpx_step_param q[] = {{"y", NUM(2)}};
	ck_assert_int_eq(fx_run1("crop", q, 1, &in, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	gpx_image_free(&in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filters_geom");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_resize_nearest_2x2_to_4x4_repeats_pixels);
	tcase_add_test(tc, test_resize_bilinear_uses_pixel_centers_and_clamps);
	tcase_add_test(tc, test_resize_derives_missing_side_from_aspect_and_fits_box);
	tcase_add_test(tc, test_resize_same_size_is_identity_for_every_filter);
	tcase_add_test(tc, test_resize_lanczos_keeps_constant_images_constant);
	tcase_add_test(tc, test_rotate_90_180_270_move_pixels_clockwise);
	tcase_add_test(tc, test_rotate_moves_whole_rgb_pixels);
	tcase_add_test(tc, test_flip_mirrors_by_direction);
	tcase_add_test(tc, test_crop_keeps_the_rectangle_and_zero_size_reaches_the_edge);
	tcase_add_test(tc, test_crop_outside_the_image_is_invalid_argument_at_run_time);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
