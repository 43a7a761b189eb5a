#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"

static char *enc(const char *s, int url)
{
	static char out[256];
	gpx_base64_encode(out, (const uint8_t *)s, strlen(s), url);
	return out;
}

START_TEST(test_base64_encodes_rfc4648_vectors)
{
	ck_assert_str_eq(enc("", 0), "");
	ck_assert_str_eq(enc("f", 0), "Zg==");
	ck_assert_str_eq(enc("fo", 0), "Zm8=");
	ck_assert_str_eq(enc("foo", 0), "Zm9v");
	ck_assert_str_eq(enc("foob", 0), "Zm9vYg==");
	ck_assert_str_eq(enc("fooba", 0), "Zm9vYmE=");
	ck_assert_str_eq(enc("foobar", 0), "Zm9vYmFy");
}
END_TEST

START_TEST(test_base64_decodes_padded_unpadded_and_url_safe)
{
	uint8_t out[16];
	ck_assert_int_eq(gpx_base64_decode(out, "Zm9vYg==", 8), 4);
	ck_assert_mem_eq(out, "foob", 4);
	ck_assert_int_eq(gpx_base64_decode(out, "Zm9vYg", 6), 4);
	ck_assert_mem_eq(out, "foob", 4);
	/* 0xfb 0xff -> "+/8=" standard, "-_8" URL-safe */
	ck_assert_int_eq(gpx_base64_decode(out, "-_8", 3), 2);
	ck_assert_int_eq(out[0], 0xfb);
	ck_assert_int_eq(out[1], 0xff);
	ck_assert_int_eq(gpx_base64_decode(out, "+/8=", 4), 2);
	ck_assert_int_eq(out[0], 0xfb);
}
END_TEST

START_TEST(test_base64_rejects_bad_characters_and_lengths)
{
	uint8_t out[16];
	ck_assert_int_eq(gpx_base64_decode(out, "Zm9v!", 5), -1);
	ck_assert_int_eq(gpx_base64_decode(out, "Z", 1), -1);
	ck_assert_int_eq(gpx_base64_decode(out, "Zm=9", 4), -1);
	ck_assert_int_eq(gpx_base64_decode(out, "Zg=", 3), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_base64_encodes_rfc4648_vectors);
	tcase_add_test(tc, test_base64_decodes_padded_unpadded_and_url_safe);
	tcase_add_test(tc, test_base64_rejects_bad_characters_and_lengths);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
