#include <math.h>

#include "fixtures.h"

static const uint8_t row5[] = {10, 20, 30, 40, 50};

START_TEST(test_box_blur_5x1_reflect_mirrors_without_repeating_the_edge)
{
	gpx_image in = fx_image(5, 1, 1, row5);
	gpx_step_param p[] = {{"radius", NUM(1)}};
	/* (20+10+20)/3, ..., (40+50+40)/3 */
	const uint8_t want[] = {17, 20, 30, 40, 43};
	fx_check1("box_blur", p, 1, &in, 5, 1, 1, want);
	gpx_step_param p2[] = {{"radius", NUM(2)}, {"border", STR("reflect")}};
	/* x=0: 30+20+10+20+30 = 110/5; x=4: 30+40+50+40+30 = 190/5 */
	const uint8_t want2[] = {22, 24, 30, 36, 38};
	fx_check1("box_blur", p2, 2, &in, 5, 1, 1, want2);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_box_blur_5x1_clamp_repeats_the_edge)
{
	gpx_image in = fx_image(5, 1, 1, row5);
	gpx_step_param p[] = {{"radius", NUM(1)}, {"border", STR("clamp")}};
	const uint8_t want[] = {13, 20, 30, 40, 47}; /* 40/3, 140/3 */
	fx_check1("box_blur", p, 2, &in, 5, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_box_blur_5x1_wrap_tiles)
{
	gpx_image in = fx_image(5, 1, 1, row5);
	gpx_step_param p[] = {{"radius", NUM(1)}, {"border", STR("wrap")}};
	const uint8_t want[] = {27, 20, 30, 40, 33}; /* 80/3, 100/3 */
	fx_check1("box_blur", p, 2, &in, 5, 1, 1, want);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_box_blur_3x3_rgb_averages_each_channel_over_the_window)
{
	uint8_t px[27];
	for (int i = 0; i < 9; i++) {
		px[3 * i] = (uint8_t)(i * 10); /* 0..80 */
		px[3 * i + 1] = 90;
		px[3 * i + 2] = (uint8_t)(i == 4 ? 255 : 0);
	}
	gpx_image in = fx_image(3, 3, 3, px);
	gpx_step_param p[] = {{"radius", NUM(1)}, {"border", STR("clamp")}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("box_blur", p, 2, &in, &out, &st), 0);
	/* center: mean of 0..80 = 40; 255/9 = 28.33 */
	const uint8_t *c = gpx_image_row(&out, 1) + 3;
	ck_assert_uint_eq(c[0], 40);
	ck_assert_uint_eq(c[1], 90);
	ck_assert_uint_eq(c[2], 28);
	/* top-left with clamp: rows 0,0,1 x cols 0,0,1:
	 * 4*0 + 2*10 + 2*30 + 40 = 120 / 9 = 13.33 */
	ck_assert_uint_eq(gpx_image_row(&out, 0)[0], 13);
	ck_assert_uint_eq(gpx_image_row(&out, 0)[2], 28);
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

/* Reference Gaussian in double with the documented kernel. */
static double gauss_ref(const gpx_image *in, int x, int y, int c, double sigma, int ks)
{
	double w[301], sum = 0;
	int r = ks / 2;
	for (int i = 0; i < ks; i++) {
		w[i] = exp(-((double)(i - r) * (i - r)) / (2 * sigma * sigma));
		sum += w[i];
	}
	double acc = 0;
	int W = (int)in->width, H = (int)in->height, ch = (int)in->channels;
	for (int j = 0; j < ks; j++) {
		int yy = y + j - r;
		yy = yy < 0 ? -yy : yy >= H ? 2 * H - 2 - yy : yy; /* reflect, small r */
		for (int i = 0; i < ks; i++) {
			int xx = x + i - r;
			xx = xx < 0 ? -xx : xx >= W ? 2 * W - 2 - xx : xx;
			acc += w[j] / sum * w[i] / sum *
			       gpx_image_row(in, (uint32_t)yy)[xx * ch + c];
		}
	}
	return acc;
}

START_TEST(test_blur_impulse_response_is_the_normalized_gaussian)
{
	uint8_t px[81] = {0};
	px[40] = 255;
	gpx_image in = fx_image(9, 9, 1, px);
	gpx_step_param p[] = {{"sigma", NUM(1)}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("blur", p, 1, &in, &out, &st), 0);
	/* kernel size 7: w0 = 0.39905, w1 = 0.24204, w2 = 0.05400, w3 = 0.00443 */
	ck_assert_uint_eq(gpx_image_row(&out, 4)[4], 41); /* 255 w0^2 = 40.61 */
	ck_assert_uint_eq(gpx_image_row(&out, 4)[5], 25); /* 255 w0 w1 = 24.63 */
	ck_assert_uint_eq(gpx_image_row(&out, 3)[5], 15); /* 255 w1^2 = 14.94 */
	ck_assert_uint_eq(gpx_image_row(&out, 4)[6], 5);  /* 255 w0 w2 = 5.50- */
	ck_assert_uint_eq(gpx_image_row(&out, 4)[7], 0);  /* 255 w0 w3 = 0.45 */
	ck_assert_uint_eq(gpx_image_row(&out, 0)[0], 0);
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_blur_matches_double_reference_on_noise)
{
	enum { W = 23, H = 17, CH = 3 };
	uint8_t px[W * H * CH];
	uint32_t seed = 12345;
	for (size_t i = 0; i < sizeof(px); i++) {
		seed = seed * 1103515245u + 12345u;
		px[i] = (uint8_t)(seed >> 16);
	}
	gpx_image in = fx_image(W, H, CH, px);
	gpx_step_param p[] = {{"sigma", NUM(1.7)}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("blur", p, 1, &in, &out, &st), 0);
	int ks = 2 * (int)ceil(3 * 1.7) + 1;
	for (int y = 0; y < H; y++)
		for (int x = 0; x < W; x++)
			for (int c = 0; c < CH; c++) {
				double ref = gauss_ref(&in, x, y, c, 1.7, ks);
				int got = gpx_image_row(&out, (uint32_t)y)[x * CH + c];
				double frac = ref + 0.5 - floor(ref + 0.5);
				if (frac > 1e-3 && frac < 1 - 1e-3)
					ck_assert_int_eq(got, (int)floor(ref + 0.5));
				else
					ck_assert_int_le(abs(got - (int)floor(ref + 0.5)), 1);
			}
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_blur_keeps_a_constant_image_constant_for_every_border)
{
	uint8_t px[7 * 5 * 4];
	memset(px, 200, sizeof(px));
	gpx_image in = fx_image(7, 5, 4, px);
	const char *borders[] = {"reflect", "clamp", "wrap"};
	for (int b = 0; b < 3; b++) {
		/* kernel much wider than the image: borders repeat */
		gpx_step_param p[] = {{"sigma", NUM(9)}, {"border", STR(borders[b])}};
		fx_check1("blur", p, 2, &in, 7, 5, 4, px);
	}
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_blur_wrap_border_sees_the_opposite_edge)
{
	const uint8_t px[] = {0, 0, 0, 0, 0, 0, 0, 0, 255};
	gpx_image in = fx_image(9, 1, 1, px);
	gpx_step_param p[] = {{"sigma", NUM(1)}, {"border", STR("wrap")}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("blur", p, 2, &in, &out, &st), 0);
	/* height 1: vertical pass is the identity; x=0 is 1 from x=8 */
	ck_assert_uint_eq(out.data[0], 62);  /* 255 * 0.24204 = 61.72 */
	ck_assert_uint_eq(out.data[8], 102); /* 255 * 0.39905 = 101.76 */
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_blur_explicit_kernel_size_limits_the_support)
{
	uint8_t px[9] = {0};
	px[4] = 255;
	gpx_image in = fx_image(9, 1, 1, px);
	gpx_step_param p[] = {{"sigma", NUM(10)}, {"kernel_size", NUM(3)}};
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("blur", p, 2, &in, &out, &st), 0);
	/* three nearly equal weights: 85 each, nothing beyond one pixel */
	const uint8_t want[] = {0, 0, 0, 85, 85, 85, 0, 0, 0};
	fx_expect(&out, 9, 1, 1, want);
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_sharpen_adds_amount_times_detail_and_respects_threshold)
{
	const uint8_t px[] = {50, 50, 50, 50, 100, 50, 50, 50, 50};
	gpx_image in = fx_image(9, 1, 1, px);
	/* the blurred image, via the same kernel the blur filter uses */
	gpx_step_param bp[] = {{"sigma", NUM(1)}};
	gpx_image blurred, out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("blur", bp, 1, &in, &blurred, &st), 0);
	gpx_step_param sp[] = {{"amount", NUM(1.5)}, {"sigma", NUM(1)}};
	ck_assert_int_eq(fx_run1("sharpen", sp, 2, &in, &out, &st), 0);
	for (int x = 0; x < 9; x++) {
		int d = px[x] - blurred.data[x];
		double v = px[x] + 1.5 * d;
		int want = v < 0 ? 0 : v > 255 ? 255 : (int)floor(v + 0.5);
		ck_assert_int_eq(out.data[x], want);
	}
	/* center: blur 50+50*0.39905 = 69.95 -> 70; 100 + 1.5*30 = 145 */
	ck_assert_uint_eq(out.data[4], 145);
	gpx_image_free(&out);

	gpx_step_param tp[] = {{"amount", NUM(1.5)}, {"sigma", NUM(1)}, {"threshold", NUM(31)}};
	fx_check1("sharpen", tp, 3, &in, 9, 1, 1, px); /* every |detail| < 31 */
	gpx_step_param zp[] = {{"amount", NUM(0)}};
	fx_check1("sharpen", zp, 1, &in, 9, 1, 1, px);
	gpx_image_free(&blurred);
	gpx_image_free(&in);
}
END_TEST

START_TEST(test_sharpen_keeps_alpha)
{
	uint8_t px[5 * 4];
	for (int i = 0; i < 5; i++) {
		px[4 * i] = px[4 * i + 1] = px[4 * i + 2] = (uint8_t)(i == 2 ? 200 : 20);
		px[4 * i + 3] = (uint8_t)(i * 50);
	}
	gpx_image in = fx_image(5, 1, 4, px);
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(fx_run1("sharpen", NULL, 0, &in, &out, &st), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_uint_eq(out.data[4 * i + 3], i * 50);
	ck_assert_uint_gt(out.data[8], 200);
	gpx_image_free(&out);
	gpx_image_free(&in);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("filters_blur");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_box_blur_5x1_reflect_mirrors_without_repeating_the_edge);
	tcase_add_test(tc, test_box_blur_5x1_clamp_repeats_the_edge);
	tcase_add_test(tc, test_box_blur_5x1_wrap_tiles);
	tcase_add_test(tc, test_box_blur_3x3_rgb_averages_each_channel_over_the_window);
	tcase_add_test(tc, test_blur_impulse_response_is_the_normalized_gaussian);
	tcase_add_test(tc, test_blur_matches_double_reference_on_noise);
	tcase_add_test(tc, test_blur_keeps_a_constant_image_constant_for_every_border);
	tcase_add_test(tc, test_blur_wrap_border_sees_the_opposite_edge);
	tcase_add_test(tc, test_blur_explicit_kernel_size_limits_the_support);
	tcase_add_test(tc, test_sharpen_adds_amount_times_detail_and_respects_threshold);
	tcase_add_test(tc, test_sharpen_keeps_alpha);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
