#include "fixtures.h"

START_TEST(test_edge_sobel_on_a_vertical_step_gives_the_gradient)
{
	const uint8_t px[] = {0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10};
	gpx_image in = fx_image(4, 3, 1, px);
	/* gx = (10 + 2*10 + 10) - 0 next to the step; clamp border elsewhere */
	const uint8_t want[] = {0, 40, 40, 0, 0, 40, 40, 0, 0, 40, 40, 0};
	fx_check1("edge", NULL, 0, &in, 4, 3, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_edge_threshold_binarizes_magnitudes_at_or_above_it)
{
	const uint8_t px[] = {0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10};
	gpx_image in = fx_image(4, 3, 1, px);
	gpx_step_param at[] = {{"threshold", NUM(40)}};
	const uint8_t want[] = {0, 255, 255, 0, 0, 255, 255, 0, 0, 255, 255, 0};
	fx_check1("edge", at, 1, &in, 4, 3, 1, want);
	gpx_step_param above[] = {{"threshold", NUM(41)}};
	const uint8_t none[12] = {0};
	fx_check1("edge", above, 1, &in, 4, 3, 1, none);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_edge_magnitude_combines_both_gradients)
{
	const uint8_t px[] = {0, 0, 0, 0, 10, 0, 0, 0, 0};
	gpx_image in = fx_image(3, 3, 1, px);
	/* corners: gx = gy = +-10 -> sqrt(200) = 14.1; edges: 20; center 0 */
	const uint8_t want[] = {14, 20, 14, 20, 0, 20, 14, 20, 14};
	fx_check1("edge", NULL, 0, &in, 3, 3, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_edge_clamps_large_magnitudes_and_uses_luma_of_rgb)
{
	/* a white/black vertical step in RGB: gx = 4*255 -> 255 */
	const uint8_t px[] = {0, 0, 0, 255, 255, 255, 0, 0, 0, 255, 255, 255};
	gpx_image in = fx_image(2, 2, 3, px);
	const uint8_t want[] = {255, 255, 255, 255};
	fx_check1("edge", NULL, 0, &in, 2, 2, 1, want);
	gpx_image_free(&in);
	/* RGBA: R=G=B=edge, alpha kept */
	const uint8_t rgba[] = {0, 0, 0, 9, 255, 255, 255, 8};
	in = fx_image(2, 1, 4, rgba);
	const uint8_t want4[] = {255, 255, 255, 9, 255, 255, 255, 8};
	fx_check1("edge", NULL, 0, &in, 2, 1, 4, want4);
	gpx_image_free(&in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filters_edge");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_edge_sobel_on_a_vertical_step_gives_the_gradient);
	tcase_add_test(tc, test_edge_threshold_binarizes_magnitudes_at_or_above_it);
	tcase_add_test(tc, test_edge_magnitude_combines_both_gradients);
	tcase_add_test(tc, test_edge_clamps_large_magnitudes_and_uses_luma_of_rgb);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
