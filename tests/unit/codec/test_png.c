#include <check.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "testutil.h"

static gpx_buf encode_png(const gpx_image *img)
{
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_msg(gpx_codec_encode(img, GPX_FMT_PNG, 0, &b, &st) == 0, "%s", st.msg);
	return b;
}

/* Decodes, checks probe and decode agree, returns the image. */
static gpx_image decode_ok(const gpx_buf *b, uint32_t channels)
{
	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	ck_assert_msg(gpx_codec_probe(b->data, b->len, &info, &st) == 0, "%s", st.msg);
	ck_assert_int_eq(info.format, GPX_FMT_PNG);
	ck_assert_uint_eq(info.channels, channels);
	ck_assert_msg(gpx_codec_decode(b->data, b->len, NULL, &out, &st) == 0, "%s", st.msg);
	ck_assert_uint_eq(out.width, info.width);
	ck_assert_uint_eq(out.height, info.height);
	ck_assert_uint_eq(out.channels, channels);
	return out;
}

static void expect_invalid(const uint8_t *d, size_t n, const char *msg_part)
{
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode(d, n, NULL, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_ptr_null(out.data);
	if (msg_part)
		ck_assert_msg(strstr(st.msg, msg_part), "'%s' lacks '%s'", st.msg, msg_part);
}

START_TEST(test_png_round_trip_is_exact_for_gray_rgb_and_rgba)
{
	static const uint32_t chans[] = {1, 3, 4};
	for (int i = 0; i < 3; i++) {
		gpx_image src = tu_gradient(77, 45, chans[i]);
		gpx_buf b = encode_png(&src);
		gpx_image out = decode_ok(&b, chans[i]);
		ck_assert(tu_images_equal(&src, &out));
		gpx_image_free(&out);
		gpx_image_free(&src);
		gpx_buf_free(&b);
	}
}
END_TEST

START_TEST(test_png_encode_over_buffer_limit_is_resource_exhausted_and_keeps_buffer)
{
	gpx_image src = tu_gradient(128, 128, 4);
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 200);
	ck_assert_int_eq(gpx_buf_append(&b, "xyz", 3), 0);
	ck_assert_int_eq(gpx_codec_encode(&src, GPX_FMT_PNG, 0, &b, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_str_eq((char *)b.data, "xyz");
	gpx_buf_free(&b);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_png_refuses_huge_header_without_allocating)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 100000, 100000, 8, 2, 0);
	uint8_t row[16] = {0};
	tu_png_finish(&b, row, 1, 16); /* a tiny IDAT: the header lies */

	gpx_codec_info info;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe(b.data, b.len, &info, &st), 0);
	ck_assert_uint_eq(info.width, 100000);
	ck_assert_uint_eq(info.height, 100000);

	/* 30 GB of pixels if it tried: coming back at once with
	 * resource_exhausted shows the check ran before any allocation. */
	gpx_image out;
	double t0 = tu_now();
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), -1);
	ck_assert_double_lt(tu_now() - t0, 0.1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_str_eq(
		st.msg, "image is 100000x100000 = 10000000000 pixels, over the limit of 100000000");
	ck_assert_ptr_null(out.data);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_refuses_a_side_over_the_limit)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 70000, 1, 1, 0, 0);
	uint8_t row[8750] = {0};
	tu_png_finish(&b, row, 1, sizeof(row));
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, NULL, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_str_eq(st.msg, "image is 70000x1, a side over the limit of 65535");
	gpx_codec_limits wide = {.max_side = 70000};
	ck_assert_int_eq(gpx_codec_decode(b.data, b.len, &wide, &out, &st), 0);
	ck_assert_uint_eq(out.width, 70000);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_rejects_truncated_data)
{
	gpx_image src = tu_gradient(64, 64, 3);
	gpx_buf b = encode_png(&src);
	size_t cuts[] = {8, 20, 40, b.len / 2, b.len - 12 /* no IEND */, b.len - 1};
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		expect_invalid(b.data, cuts[i], "truncated");
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_rejects_corrupt_chunks)
{
	gpx_image src = tu_gradient(64, 64, 3);
	gpx_buf b = encode_png(&src);
	/* A flipped bit in the IDAT payload: its CRC no longer matches. */
	b.data[33 + 8 + 10] ^= 0x10;
	expect_invalid(b.data, b.len, "corrupt PNG data");
	b.data[33 + 8 + 10] ^= 0x10;
	/* A flipped bit in IHDR. */
	b.data[16] ^= 0x01;
	expect_invalid(b.data, b.len, "IHDR checksum");
	gpx_buf_free(&b);

	/* Valid CRCs around a zlib stream that is garbage. */
	gpx_buf g;
	gpx_buf_init(&g, 0);
	tu_png_start(&g, 4, 4, 8, 0, 0);
	tu_png_chunk(&g, "IDAT", "\x78\x9c\xff\xff\xff\xff\xff\xff", 8);
	tu_png_chunk(&g, "IEND", NULL, 0);
	expect_invalid(g.data, g.len, "corrupt PNG data");
	gpx_buf_free(&g);

	/* Bit depth 3 does not exist. */
	gpx_buf_init(&g, 0);
	tu_png_start(&g, 4, 4, 3, 0, 0);
	expect_invalid(g.data, g.len, "bad IHDR");
	gpx_buf_free(&g);
	gpx_image_free(&src);
}
END_TEST

START_TEST(test_png_16_bit_gray_is_reduced_to_8_bits)
{
	const uint16_t v[4] = {0x0000, 0x1234, 0x80ff, 0xffff};
	uint8_t rows[8];
	for (int i = 0; i < 4; i++) {
		rows[i * 2] = (uint8_t)(v[i] >> 8);
		rows[i * 2 + 1] = (uint8_t)v[i];
	}
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 4, 1, 16, 0, 0);
	tu_png_finish(&b, rows, 1, 8);
	gpx_image out = decode_ok(&b, 1);
	for (int i = 0; i < 4; i++)
		ck_assert_int_le(abs((int)out.data[i] - (int)(v[i] * 255.0 / 65535.0 + 0.5)), 1);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_16_bit_rgba_keeps_alpha)
{
	uint8_t rows[2 * 8];
	for (int i = 0; i < 16; i++)
		rows[i] = (uint8_t)(i * 16);
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 2, 1, 16, 6, 0);
	tu_png_finish(&b, rows, 1, 16);
	gpx_image out = decode_ok(&b, 4);
	for (int i = 0; i < 8; i++)
		ck_assert_int_le(abs((int)out.data[i] - rows[i * 2]), 1);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_palette_becomes_rgb_and_trns_becomes_alpha)
{
	const uint8_t plte[9] = {255, 0, 0, 0, 255, 0, 0, 0, 255};
	const uint8_t idx[3] = {0, 1, 2};
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 3, 1, 8, 3, 0);
	tu_png_chunk(&b, "PLTE", plte, 9);
	tu_png_finish(&b, idx, 1, 3);
	gpx_image out = decode_ok(&b, 3);
	ck_assert_mem_eq(out.data, plte, 9);
	gpx_image_free(&out);
	gpx_buf_free(&b);

	/* 2-bit indices, first entry half transparent. */
	const uint8_t trns[1] = {128};
	const uint8_t packed[1] = {0x1b}; /* 0,1,2,3 */
	const uint8_t plte4[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 9, 9, 9};
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 4, 1, 2, 3, 0);
	tu_png_chunk(&b, "PLTE", plte4, 12);
	tu_png_chunk(&b, "tRNS", trns, 1);
	tu_png_finish(&b, packed, 1, 1);
	out = decode_ok(&b, 4);
	const uint8_t want[16] = {255, 0, 0, 128, 0, 255, 0, 255, 0, 0, 255, 255, 9, 9, 9, 255};
	ck_assert_mem_eq(out.data, want, 16);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_gray_alpha_becomes_rgba)
{
	const uint8_t ga[4] = {10, 200, 250, 0};
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 2, 1, 8, 4, 0);
	tu_png_finish(&b, ga, 1, 4);
	gpx_image out = decode_ok(&b, 4);
	const uint8_t want[8] = {10, 10, 10, 200, 250, 250, 250, 0};
	ck_assert_mem_eq(out.data, want, 8);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_1_bit_gray_expands_to_full_range)
{
	const uint8_t bits[1] = {0xa0}; /* 1,0,1,0 */
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 4, 1, 1, 0, 0);
	tu_png_finish(&b, bits, 1, 1);
	gpx_image out = decode_ok(&b, 1);
	const uint8_t want[4] = {255, 0, 255, 0};
	ck_assert_mem_eq(out.data, want, 4);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_rgb_with_trns_colour_gets_alpha)
{
	const uint8_t rgb[6] = {1, 2, 3, 4, 5, 6};
	const uint8_t trns[6] = {0, 4, 0, 5, 0, 6}; /* 16-bit samples: colour 4,5,6 */
	gpx_buf b;
	gpx_buf_init(&b, 0);
	tu_png_start(&b, 2, 1, 8, 2, 0);
	tu_png_chunk(&b, "tRNS", trns, 6);
	tu_png_finish(&b, rgb, 1, 6);
	gpx_image out = decode_ok(&b, 4);
	const uint8_t want[8] = {1, 2, 3, 255, 4, 5, 6, 0};
	ck_assert_mem_eq(out.data, want, 8);
	gpx_image_free(&out);
	gpx_buf_free(&b);
}
END_TEST

static void png_append(png_structp png, png_bytep p, size_t n)
{
	gpx_buf *b = png_get_io_ptr(png);
	ck_assert_int_eq(gpx_buf_append(b, p, n), 0);
}

static void png_noflush(png_structp png)
{
	(void)png;
}

START_TEST(test_png_interlaced_image_is_deinterlaced)
{
	gpx_image src = tu_gradient(37, 23, 3);
	gpx_buf b;
	gpx_buf_init(&b, 0);
	png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	png_infop info = png_create_info_struct(png);
	png_set_write_fn(png, &b, png_append, png_noflush);
	png_set_IHDR(png, info, 37, 23, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	png_bytep rows[23];
	for (int y = 0; y < 23; y++)
		rows[y] = gpx_image_row(&src, (uint32_t)y);
	png_write_image(png, rows);
	png_write_end(png, NULL);
	png_destroy_write_struct(&png, &info);

	gpx_image out = decode_ok(&b, 3);
	ck_assert(tu_images_equal(&src, &out));
	gpx_image_free(&out);
	gpx_image_free(&src);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_png_encoder_is_fast_enough_for_previews)
{
	/* A 1920x1080 RGB frame; generous bound so slow CI machines pass, but
	 * an accidental level 9 with adaptive filtering would not. */
	gpx_image src = tu_gradient(1920, 1080, 3);
	double t0 = tu_now();
	gpx_buf b = encode_png(&src);
	double dt = tu_now() - t0;
	ck_assert_msg(dt < 2.0, "PNG encode took %.3f s", dt);
	gpx_buf_free(&b);
	gpx_image_free(&src);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("png");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_png_round_trip_is_exact_for_gray_rgb_and_rgba);
	tcase_add_test(tc,
		       test_png_encode_over_buffer_limit_is_resource_exhausted_and_keeps_buffer);
	tcase_add_test(tc, test_png_refuses_huge_header_without_allocating);
	tcase_add_test(tc, test_png_refuses_a_side_over_the_limit);
	tcase_add_test(tc, test_png_rejects_truncated_data);
	tcase_add_test(tc, test_png_rejects_corrupt_chunks);
	tcase_add_test(tc, test_png_16_bit_gray_is_reduced_to_8_bits);
	tcase_add_test(tc, test_png_16_bit_rgba_keeps_alpha);
	tcase_add_test(tc, test_png_palette_becomes_rgb_and_trns_becomes_alpha);
	tcase_add_test(tc, test_png_gray_alpha_becomes_rgba);
	tcase_add_test(tc, test_png_1_bit_gray_expands_to_full_range);
	tcase_add_test(tc, test_png_rgb_with_trns_colour_gets_alpha);
	tcase_add_test(tc, test_png_interlaced_image_is_deinterlaced);
	tcase_add_test(tc, test_png_encoder_is_fast_enough_for_previews);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
