#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"
#include "testutil.h"

START_TEST(test_codec_rejects_zero_bytes)
{
	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	const uint8_t none[1] = {0};
	ck_assert_int_eq(gpx_codec_probe(none, 0, &info, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "empty image data");
	ck_assert_int_eq(gpx_codec_decode(NULL, 0, NULL, &out, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_ptr_null(out.data);
}
END_TEST

START_TEST(test_codec_rejects_text_named_jpg)
{
	const char *text = "this is not an image, whatever its name says (photo.jpg)\n";
	gpx_codec_info info;
	gpx_image out;
	gpx_status st;
	ck_assert_int_eq(gpx_codec_probe((const uint8_t *)text, strlen(text), &info, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "not a JPEG or PNG image");
	ck_assert_int_eq(gpx_codec_decode((const uint8_t *)text, strlen(text), NULL, &out, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	/* GIF and BMP are not supported either. */
	ck_assert_int_eq(gpx_codec_decode((const uint8_t *)"GIF89a\1\0\1\0", 10, NULL, &out, &st),
			 -1);
	ck_assert_str_eq(st.msg, "not a JPEG or PNG image");
}
END_TEST

START_TEST(test_codec_sniffs_magic_numbers_only)
{
	const uint8_t jpg[] = {0xff, 0xd8, 0xff};
	const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	ck_assert_int_eq(gpx_codec_sniff(jpg, 3), GPX_FMT_JPEG);
	ck_assert_int_eq(gpx_codec_sniff(jpg, 2), GPX_FMT_UNKNOWN);
	ck_assert_int_eq(gpx_codec_sniff(png, 8), GPX_FMT_PNG);
	ck_assert_int_eq(gpx_codec_sniff(png, 7), GPX_FMT_UNKNOWN);
}
END_TEST

START_TEST(test_codec_maps_formats_to_mime_types_and_extensions)
{
	ck_assert_str_eq(gpx_codec_mime(GPX_FMT_JPEG), "image/jpeg");
	ck_assert_str_eq(gpx_codec_mime(GPX_FMT_PNG), "image/png");
	ck_assert_ptr_null(gpx_codec_mime(0));
	ck_assert_str_eq(gpx_codec_ext(GPX_FMT_JPEG), "jpg");
	ck_assert_str_eq(gpx_codec_ext(GPX_FMT_PNG), "png");
	ck_assert_ptr_null(gpx_codec_ext(3));
	ck_assert_int_eq(gpx_codec_format_from_mime("image/jpeg"), GPX_FMT_JPEG);
	ck_assert_int_eq(gpx_codec_format_from_mime("Image/JPG"), GPX_FMT_JPEG);
	ck_assert_int_eq(gpx_codec_format_from_mime("image/png; charset=binary"), GPX_FMT_PNG);
	ck_assert_int_eq(gpx_codec_format_from_mime("image/pngx"), GPX_FMT_UNKNOWN);
	ck_assert_int_eq(gpx_codec_format_from_mime("text/plain"), GPX_FMT_UNKNOWN);
	ck_assert_int_eq(gpx_codec_format_from_mime(NULL), GPX_FMT_UNKNOWN);
}
END_TEST

START_TEST(test_codec_limits_default_and_name_the_dimensions)
{
	gpx_codec_limits lim;
	gpx_codec_limits_default(&lim);
	ck_assert_uint_eq(lim.max_pixels, 100000000ULL);
	ck_assert_uint_eq(lim.max_side, 65535);
	gpx_codec_info big = {.format = GPX_FMT_PNG, .width = 100000, .height = 100000};
	gpx_status st;
	ck_assert_int_eq(gpx_codec_check_limits(&big, NULL, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_str_eq(
		st.msg, "image is 100000x100000 = 10000000000 pixels, over the limit of 100000000");
	gpx_codec_info wide = {.format = GPX_FMT_PNG, .width = 70000, .height = 2};
	ck_assert_int_eq(gpx_codec_check_limits(&wide, &lim, &st), -1);
	ck_assert_str_eq(st.msg, "image is 70000x2, a side over the limit of 65535");
	gpx_codec_info ok = {.format = GPX_FMT_PNG, .width = 10000, .height = 10000};
	ck_assert_int_eq(gpx_codec_check_limits(&ok, &lim, &st), 0);
	/* Zero fields mean the defaults. */
	gpx_codec_limits zero = {0};
	ck_assert_int_eq(gpx_codec_check_limits(&big, &zero, &st), -1);
	ck_assert_int_eq(gpx_codec_check_limits(&ok, &zero, &st), 0);
}
END_TEST

START_TEST(test_codec_refuses_to_encode_an_empty_image)
{
	gpx_image none = {0};
	gpx_buf b;
	gpx_status st;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_codec_encode(&none, GPX_FMT_PNG, 0, &b, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_codec_encode(NULL, GPX_FMT_JPEG, 0, &b, &st), -1);
	gpx_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_codec_rejects_zero_bytes);
	tcase_add_test(tc, test_codec_rejects_text_named_jpg);
	tcase_add_test(tc, test_codec_sniffs_magic_numbers_only);
	tcase_add_test(tc, test_codec_maps_formats_to_mime_types_and_extensions);
	tcase_add_test(tc, test_codec_limits_default_and_name_the_dimensions);
	tcase_add_test(tc, test_codec_refuses_to_encode_an_empty_image);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
