#include "fixtures.h"

static const uint8_t rgb4[] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 100, 150, 200};

START_TEST(test_grayscale_bt601_gives_one_channel_with_fixed_point_weights)
{
	gpx_image in = fx_image(4, 1, 3, rgb4);
	/* 0.299*255=76.245, 0.587*255=149.685, 0.114*255=29.07, 140.75 */
	const uint8_t want[] = {76, 150, 29, 141};
	fx_check1("grayscale", NULL, 0, &in, 4, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_grayscale_algorithms_match_their_formulas)
{
	const uint8_t px[] = {100, 150, 200, 10, 20, 25, 1, 1, 2, 1, 2, 2};
	gpx_image in = fx_image(4, 1, 3, px);
	struct {
		const char *alg;
		uint8_t want[4];
	} cases[] = {
		{"bt601", {141, 18, 1, 2}},	 {"bt709", {143, 18, 1, 2}},
		{"average", {150, 18, 1, 2}},	/* round(S/3) */
		{"lightness", {150, 18, 2, 2}}, /* (max+min+1)>>1: 17.5 -> 18, 1.5 -> 2 */
		{"luminosity", {143, 18, 1, 2}},
	};
	for (size_t i = 0; i < NPARAMS(cases); i++) {
		gpx_step_param p[] = {{"algorithm", STR(cases[i].alg)}};
		fx_check1("grayscale", p, 1, &in, 4, 1, 1, cases[i].want);
	}
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_grayscale_average_rounds_exactly_for_every_sum)
{
	/* every R+G+B from 0 to 765 */
	uint8_t px[766 * 3];
	for (int s = 0; s <= 765; s++) {
		px[3 * s] = (uint8_t)(s > 510 ? 255 : s > 255 ? 255 : s);
		px[3 * s + 1] = (uint8_t)(s > 510 ? 255 : s > 255 ? s - 255 : 0);
		px[3 * s + 2] = (uint8_t)(s > 510 ? s - 510 : 0);
	}
	gpx_image in = fx_image(766, 1, 3, px);
	uint8_t want[766];
	for (int s = 0; s <= 765; s++)
		want[s] = (uint8_t)((2 * s + 3) / 6); /* floor(s/3 + 1/2) */
	gpx_step_param p[] = {{"algorithm", STR("average")}};
	fx_check1("grayscale", p, 1, &in, 766, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_grayscale_keeps_rgba_alpha_with_equal_color_channels)
{
	const uint8_t px[] = {100, 150, 200, 77, 255, 255, 255, 0};
	gpx_image in = fx_image(2, 1, 4, px);
	const uint8_t want[] = {141, 141, 141, 77, 255, 255, 255, 0};
	fx_check1("grayscale", NULL, 0, &in, 2, 1, 4, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_grayscale_of_gray_is_identity)
{
	const uint8_t px[] = {0, 7, 128, 255};
	gpx_image in = fx_image(2, 2, 1, px);
	fx_check1("grayscale", NULL, 0, &in, 2, 2, 1, px);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_invert_3x3_rgb_and_keeps_alpha)
{
	uint8_t px[27], want[27];
	for (int i = 0; i < 27; i++) {
		px[i] = (uint8_t)(i * 9);
		want[i] = (uint8_t)(255 - i * 9);
	}
	gpx_image in = fx_image(3, 3, 3, px);
	fx_check1("invert", NULL, 0, &in, 3, 3, 3, want);
	gpx_image_free(&in);

	const uint8_t rgba[] = {0, 10, 255, 33};
	const uint8_t rgba_want[] = {255, 245, 0, 33};
	in = fx_image(1, 1, 4, rgba);
	fx_check1("invert", NULL, 0, &in, 1, 1, 4, rgba_want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_brightness_adds_percent_of_full_scale_rounded_half_up)
{
	const uint8_t px[] = {0, 100, 250, 128};
	gpx_image in = fx_image(4, 1, 1, px);
	gpx_step_param p[] = {{"brightness", NUM(10)}};
	const uint8_t want[] = {26, 126, 255, 154}; /* +25.5 */
	fx_check1("brightness_contrast", p, 1, &in, 4, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_contrast_scales_around_128)
{
	const uint8_t px[] = {128, 138, 100, 0, 255};
	gpx_image in = fx_image(5, 1, 1, px);
	/* f = 259*(127.5+255)/(255*(259-127.5)) = 2.95437... */
	gpx_step_param p[] = {{"contrast", NUM(50)}};
	const uint8_t want[] = {128, 158, 45, 0, 255};
	fx_check1("brightness_contrast", p, 1, &in, 5, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_brightness_contrast_defaults_are_identity_and_keep_alpha)
{
	uint8_t px[256 * 4];
	for (int i = 0; i < 256; i++) {
		px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = (uint8_t)i;
		px[4 * i + 3] = (uint8_t)(255 - i);
	}
	gpx_image in = fx_image(256, 1, 4, px);
	fx_check1("brightness_contrast", NULL, 0, &in, 256, 1, 4, px);
	gpx_step_param p[] = {{"brightness", NUM(-100)}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("brightness_contrast", p, 1, &in, &out, &st), 0);
	ck_assert_uint_eq(out.data[4 * 200], 0); /* 200 - 255 */
	ck_assert_uint_eq(out.data[4 * 200 + 3], 55);
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_threshold_whitens_luma_at_or_above_value)
{
	const uint8_t px[] = {0, 127, 128, 255};
	gpx_image in = fx_image(4, 1, 1, px);
	const uint8_t want[] = {0, 0, 255, 255};
	fx_check1("threshold", NULL, 0, &in, 4, 1, 1, want);
	gpx_step_param p[] = {{"value", NUM(0)}};
	const uint8_t all[] = {255, 255, 255, 255};
	fx_check1("threshold", p, 1, &in, 4, 1, 1, all);
	gpx_image_free(&in);

	/* RGB -> gray: luma 141 and 76 */
	const uint8_t rgb[] = {100, 150, 200, 255, 0, 0};
	in = fx_image(2, 1, 3, rgb);
	gpx_step_param p2[] = {{"value", NUM(100)}};
	const uint8_t want2[] = {255, 0};
	fx_check1("threshold", p2, 1, &in, 2, 1, 1, want2);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_sepia_full_intensity_uses_the_matrix)
{
	const uint8_t px[] = {10, 20, 30, 255, 255, 255};
	gpx_image in = fx_image(2, 1, 3, px);
	/* (24.98, 22.25, 17.33) and (344.5, 306.8, 238.9) clamped */
	const uint8_t want[] = {25, 22, 17, 255, 255, 239};
	fx_check1("sepia", NULL, 0, &in, 2, 1, 3, want);
	gpx_step_param half[] = {{"intensity", NUM(0.5)}};
	const uint8_t want_half[] = {17, 21, 24, 255, 255, 247};
	fx_check1("sepia", half, 1, &in, 2, 1, 3, want_half);
	gpx_step_param none[] = {{"intensity", NUM(0)}};
	fx_check1("sepia", none, 1, &in, 2, 1, 3, px);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_sepia_turns_gray_into_rgb_and_keeps_alpha)
{
	const uint8_t g[] = {100};
	gpx_image in = fx_image(1, 1, 1, g);
	const uint8_t want[] = {135, 120, 94}; /* 135.1, 120.3, 93.7 */
	fx_check1("sepia", NULL, 0, &in, 1, 1, 3, want);
	gpx_image_free(&in);
	const uint8_t rgba[] = {10, 20, 30, 99};
	const uint8_t rgba_want[] = {25, 22, 17, 99};
	in = fx_image(1, 1, 4, rgba);
	fx_check1("sepia", NULL, 0, &in, 1, 1, 4, rgba_want);
	gpx_image_free(&in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filters_color");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_grayscale_bt601_gives_one_channel_with_fixed_point_weights);
	tcase_add_test(tc, test_grayscale_algorithms_match_their_formulas);
	tcase_add_test(tc, test_grayscale_average_rounds_exactly_for_every_sum);
	tcase_add_test(tc, test_grayscale_keeps_rgba_alpha_with_equal_color_channels);
	tcase_add_test(tc, test_grayscale_of_gray_is_identity);
	tcase_add_test(tc, test_invert_3x3_rgb_and_keeps_alpha);
	tcase_add_test(tc, test_brightness_adds_percent_of_full_scale_rounded_half_up);
	tcase_add_test(tc, test_contrast_scales_around_128);
	tcase_add_test(tc, test_brightness_contrast_defaults_are_identity_and_keep_alpha);
	tcase_add_test(tc, test_threshold_whitens_luma_at_or_above_value);
	tcase_add_test(tc, test_sepia_full_intensity_uses_the_matrix);
	tcase_add_test(tc, test_sepia_turns_gray_into_rgb_and_keeps_alpha);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
