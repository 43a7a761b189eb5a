#include <check.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <turbojpeg.h>

#include "codec/codec.h"
#include "testutil.h"

static gpx_buf encode(const gpx_image *img, int format, int quality)
{
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_msg(gpx_codec_encode(img, format, quality, &b, &st) == 0, "%s", st.msg);
	return b;
}

START_TEST(test_jpeg_round_trip_keeps_size_and_pixels_close)
{
	gpx_image src = tu_gradient(97, 61, 3); /* odd sizes: partial MCUs */
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 95);
	ck_assert_uint_gt(b.len, 100);
	ck_assert_int_eq(gpx_codec_sniff(b.data, b.len), GPX_FMT_JPEG);

	gpx_codec_info info;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(b.data, b.len, &info, &st), 0);
	ck_assert_int_eq(info.format, GPX_FMT_JPEG);
	ck_assert_uint_eq(info.width, 97);
	ck_assert_uint_eq(info.height, 61);
	ck_assert_uint_eq(info.channels, 3);
	ck_assert_int_eq(info.orientation, 1);

	gpx_image out;
	ck_assert_msg(gpx_codec_decode(b.data, b.len, NULL, &out, &st) == 0, "%s", st.msg);
	ck_assert_double_lt(tu_mean_abs_diff(&src, &out), 4.0);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_default_quality_is_used_for_zero_and_range_is_checked)
{
	gpx_image src = tu_gradient(32, 32, 3);
	gpx_buf q0 = encode(&src, GPX_FMT_JPEG, 0);
	gpx_buf q90 = encode(&src, GPX_FMT_JPEG, 90);
	ck_assert_uint_eq(q0.len, q90.len);
	ck_assert_mem_eq(q0.data, q90.data, q0.len);

	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_JPEG, 101, &b, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_JPEG, -1, &b, &st), -1);
	ck_assert_int_eq(gpx_codec_encode(&src, 7, 0, &b, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_uint_eq(b.len, 0);
	gpx_buf_free(&b);
	gpx_buf_free(&q0);
	gpx_buf_free(&q90);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_jpeg_encode_appends_to_the_buffer)
{
	gpx_image src = tu_gradient(16, 16, 3);
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_buf_append(&b, "HDR", 3), 0);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_JPEG, 80, &b, &st), 0);
	ck_assert_mem_eq(b.data, "HDR", 3);
	ck_assert_int_eq(gpx_codec_sniff(b.data + 3, b.len - 3), GPX_FMT_JPEG);
	gpx_buf_free(&b);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_jpeg_encode_over_buffer_limit_is_resource_exhausted_and_keeps_buffer)
{
	gpx_image src = tu_gradient(256, 256, 3);
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 300);
	ck_assert_int_eq(gpx_buf_append(&b, "abc", 3), 0);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_JPEG, 100, &b, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "abc", 3);
	gpx_buf_free(&b);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_jpeg_gray_image_encodes_grayscale_and_decodes_to_one_channel)
{
	gpx_image src = tu_gradient(40, 30, 1);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 95);
	tjhandle h = tjInitDecompress();
	int w, hh, ss, cs;
	ck_assert_int_eq(tjDecompressHeader3(h, b.data, b.len, &w, &hh, &ss, &cs), 0);
	ck_assert_int_eq(cs, TJCS_GRAY);
	tjDestroy(h);

	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(b.data, b.len, &info, &st), 0);
	ck_assert_uint_eq(info.channels, 1);
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), 0);
	ck_assert_uint_eq(out.channels, 1);
	ck_assert_double_lt(tu_mean_abs_diff(&src, &out), 3.0);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_rgba_input_drops_alpha)
{
	gpx_image src = tu_gradient(33, 17, 4);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 95);
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), 0);
	ck_assert_uint_eq(out.channels, 3);
	/* Colour channels survive; compare against the RGB part only. */
	gpx_image rgb;
	ck_assert_int_eq(gpx_image_alloc(&rgb, 33, 17, 3), 0);
	for (uint32_t y = 0; y < 17; y++)
		for (uint32_t x = 0; x < 33; x++)
			memcpy(gpx_image_row(&rgb, y) + x * 3, gpx_image_row(&src, y) + x * 4, 3);
	ck_assert_double_lt(tu_mean_abs_diff(&rgb, &out), 4.0);
	gpx_image_free(&rgb);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_cmyk_decodes_to_rgb)
{
	/* Inverted (Adobe) CMYK as libjpeg-turbo writes it: for RGB (r,g,b) and
	 * K = max(r,g,b), stored C = r*255/K and stored K' = K. */
	const uint8_t colours[4][3] = {
		{200, 40, 40}, {30, 180, 60}, {20, 20, 220}, {250, 250, 250}};
	uint32_t w = 32, h = 32;
	uint8_t *cmyk = malloc(w * h * 4);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t x = 0; x < w; x++) {
			const uint8_t *c = colours[(y / 16) * 2 + x / 16];
			unsigned k = c[0] > c[1] ? c[0] : c[1];
			k = k > c[2] ? k : c[2];
			uint8_t *p = cmyk + (y * w + x) * 4;
			for (int i = 0; i < 3; i++)
				p[i] = (uint8_t)((c[i] * 255 + k / 2) / k);
			p[3] = (uint8_t)k;
		}
	tjhandle th = tjInitCompress();
	unsigned char *jpg = NULL;
	unsigned long jlen = 0;
	ck_assert_int_eq(tjCompress2(th, cmyk, (int)w, 0, (int)h, TJPF_CMYK, &jpg, &jlen,
				     TJSAMP_444, 100, 0),
			 0);
	tjDestroy(th);

	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(jpg, jlen, &info, &st), 0);
	ck_assert_uint_eq(info.channels, 3);
	ck_assert_msg(gpx_codec_decode(jpg, jlen, NULL, &out, &st) == 0, "%s", st.msg);
	ck_assert_uint_eq(out.channels, 3);
	for (int q = 0; q < 4; q++) {
		uint32_t x = (q % 2) * 16 + 8, y = (q / 2) * 16 + 8;
		const uint8_t *p = gpx_image_row(&out, y) + x * 3;
		for (int i = 0; i < 3; i++)
			ck_assert_msg(abs((int)p[i] - colours[q][i]) <= 6,
				      "quadrant %d ch %d: %d vs %d", q, i, p[i], colours[q][i]);
	}
	gpx_image_free(&out);
	tjFree(jpg);
	free(cmyk);
}
END_TEST

START_TEST(test_jpeg_rejects_truncated_data)
{
	gpx_image src = tu_gradient(128, 128, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	gpx_image out;
	gpx_status st;
	size_t cuts[] = {b.len / 2, b.len - 2, 3, 20};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		ck_assert_int_eq(gpx_codec_decode(b.data, cuts[i], NULL, &out, &st), -1);
		ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
		ck_assert_ptr_null(out.data);
	}
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len / 2, NULL, &out, &st), -1);
	ck_assert_str_eq(st.msg, "truncated JPEG data");
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

/* Offset of the first byte of entropy-coded data (after the SOS header). */
static size_t scan_start(const uint8_t *d, size_t n)
{
	size_t p = 2;
	while (p + 4 <= n) {
		ck_assert_uint_eq(d[p], 0xff);
		uint8_t m = d[p + 1];
		size_t seg = (size_t)d[p + 2] << 8 | d[p + 3];
		if (m == 0xda)
			return p + 2 + seg;
		p += 2 + seg;
	}
	ck_abort_msg("no SOS");
	return 0;
}

START_TEST(test_jpeg_decodes_good_data_right_after_a_failure_on_the_same_thread)
{
	gpx_image src = tu_gradient(20, 12, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 80);
	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(gpx_codec_probe(b.data, b.len / 2, &info, &st), -1);
		ck_assert_msg(gpx_codec_probe(b.data, b.len, &info, &st) == 0, "%s", st.msg);
		ck_assert_uint_eq(info.width, 20);
		ck_assert_int_eq(gpx_codec_decode(b.data, b.len - 4, NULL, &out, &st), -1);
		ck_assert_msg(gpx_codec_decode(b.data, b.len, NULL, &out, &st) == 0, "%s", st.msg);
		gpx_image_free(&out);
	}
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_rejects_corrupt_scan_data)
{
	gpx_image src = tu_gradient(128, 128, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	size_t s = scan_start(b.data, b.len);
	/* A restart marker where none may be makes libjpeg warn: an error here. */
	b.data[s + 40] = 0xff;
	b.data[s + 41] = 0xd3;
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_ptr_null(out.data);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_rejects_corrupt_header)
{
	gpx_image src = tu_gradient(16, 16, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	/* Zero every byte after SOI's marker prefix up to the scan. */
	size_t s = scan_start(b.data, b.len);
	memset(b.data + 4, 0x00, s - 4);
	gpx_image out;
	gpx_codec_info info;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(b.data, b.len, &info, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

/* Rewrites the SOF0 frame size in place. */
static void set_sof_size(gpx_buf *b, unsigned w, unsigned h)
{
	size_t p = 2;
	while (p + 9 <= b->len) {
		uint8_t m = b->data[p + 1];
		size_t seg = (size_t)b->data[p + 2] << 8 | b->data[p + 3];
		if (m == 0xc0) {
			b->data[p + 5] = (uint8_t)(h >> 8);
			b->data[p + 6] = (uint8_t)h;
			b->data[p + 7] = (uint8_t)(w >> 8);
			b->data[p + 8] = (uint8_t)w;
			return;
		}
		p += 2 + seg;
	}
	ck_abort_msg("no SOF0");
}

START_TEST(test_jpeg_refuses_header_over_pixel_limit_before_decoding)
{
	gpx_image src = tu_gradient(16, 16, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	set_sof_size(&b, 60000, 50000);
	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(b.data, b.len, &info, &st), 0);
	ck_assert_uint_eq(info.width, 60000);
	ck_assert_uint_eq(info.height, 50000);
	double t0 = tu_now();
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), -1);
	ck_assert_double_lt(tu_now() - t0, 0.5);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_str_eq(st.msg,
			 "image is 60000x50000 = 3000000000 pixels, over the limit of 100000000");
	ck_assert_ptr_null(out.data);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_per_side_and_custom_pixel_limits_apply)
{
	gpx_image src = tu_gradient(64, 48, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	gpx_image out;
	gpx_status st;
	gpx_codec_limits side = {.max_side = 63};
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, &side, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_ptr_nonnull(strstr(st.msg, "64x48"));
	gpx_codec_limits px = {.max_pixels = 64 * 48 - 1};
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, &px, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	gpx_codec_limits ok = {.max_pixels = 64 * 48, .max_side = 64};
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, &ok, &out, &st), 0);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_jpeg_scaled_decode_picks_smallest_factor_covering_target)
{
	gpx_image src = tu_gradient(800, 600, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 85);
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode_scaled(b.data, b.len, NULL, 100, 0, &out, &st), 0);
	ck_assert_uint_eq(out.width, 100); /* 1/8 */
	ck_assert_uint_eq(out.height, 75);
	gpx_image_free(&out);
	ck_assert_int_eq(gpx_codec_decode_scaled(b.data, b.len, NULL, 101, 0, &out, &st), 0);
	ck_assert_uint_eq(out.width, 200); /* 1/4 */
	gpx_image_free(&out);
	ck_assert_int_eq(gpx_codec_decode_scaled(b.data, b.len, NULL, 0, 300, &out, &st), 0);
	ck_assert_uint_eq(out.width, 400); /* 1/2 */
	ck_assert_uint_eq(out.height, 300);
	gpx_image_free(&out);
	ck_assert_int_eq(gpx_codec_decode_scaled(b.data, b.len, NULL, 1000, 1000, &out, &st), 0);
	ck_assert_uint_eq(out.width, 800);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

static void *decode_many(void *arg)
{
	const gpx_buf *b = arg;
	for (int i = 0; i < 50; i++) {
		gpx_image out;
		gpx_status st;
		if (gpx_codec_decode(b->data, b->len, NULL, &out, &st) < 0)
			return (void *)1;
		gpx_buf enc;
		gpx_buf_init(&enc, 0);
		int rc = gpx_codec_encode(&out, GPX_FMT_JPEG, 0, &enc, &st);
		gpx_buf_free(&enc);
		gpx_image_free(&out);
		if (rc < 0)
			return (void *)1;
	}
	return NULL;
}

START_TEST(test_jpeg_decodes_concurrently_on_per_thread_handles)
{
	gpx_image src = tu_gradient(64, 64, 3);
	gpx_buf b = encode(&src, GPX_FMT_JPEG, 90);
	pthread_t t[8];
	for (int i = 0; i < 8; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, decode_many, &b), 0);
	for (int i = 0; i < 8; i++) {
		void *rv;
		pthread_join(t[i], &rv);
		ck_assert_ptr_null(rv);
	}
	gpx_codec_thread_cleanup();
	gpx_codec_thread_cleanup(); /* twice is harmless */
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), 0);
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
	gpx_codec_thread_cleanup();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jpeg");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_jpeg_round_trip_keeps_size_and_pixels_close);
	tcase_add_test(tc, test_jpeg_default_quality_is_used_for_zero_and_range_is_checked);
	tcase_add_test(tc, test_jpeg_encode_appends_to_the_buffer);
	tcase_add_test(tc,
		       test_jpeg_encode_over_buffer_limit_is_resource_exhausted_and_keeps_buffer);
	tcase_add_test(tc, test_jpeg_gray_image_encodes_grayscale_and_decodes_to_one_channel);
	tcase_add_test(tc, test_jpeg_rgba_input_drops_alpha);
	tcase_add_test(tc, test_jpeg_cmyk_decodes_to_rgb);
	tcase_add_test(tc, test_jpeg_rejects_truncated_data);
	tcase_add_test(tc, test_jpeg_decodes_good_data_right_after_a_failure_on_the_same_thread);
	tcase_add_test(tc, test_jpeg_rejects_corrupt_scan_data);
	tcase_add_test(tc, test_jpeg_rejects_corrupt_header);
	tcase_add_test(tc, test_jpeg_refuses_header_over_pixel_limit_before_decoding);
	tcase_add_test(tc, test_jpeg_per_side_and_custom_pixel_limits_apply);
	tcase_add_test(tc, test_jpeg_scaled_decode_picks_smallest_factor_covering_target);
	tcase_add_test(tc, test_jpeg_decodes_concurrently_on_per_thread_handles);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
