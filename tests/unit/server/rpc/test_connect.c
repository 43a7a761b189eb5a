#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/rpc/connect.h"

START_TEST(test_connect_get_decodes_json_message)
{
	gpx_buf m;
	gpx_buf_init(&m, 1024);
	gpx_status st = {0};
	int bin = -1, gz = -1;
	ck_assert_int_eq(
		gpx_connect_get_decode("connect=v1&encoding=json&message=%7B%22a%22%3A1%7D", &bin,
				       &gz, &m, &st),
		0);
	ck_assert_int_eq(bin, 0);
	ck_assert_int_eq(gz, 0);
	ck_assert_str_eq((char *)m.data, "{\"a\":1}");
	gpx_buf_free(&m);
}
END_TEST

START_TEST(test_connect_get_decodes_base64_proto_message)
{
	gpx_buf m;
	gpx_buf_init(&m, 1024);
	gpx_status st = {0};
	int bin = -1, gz = -1;
	/* 0x0a 0x03 'a' 'b' 'c' in URL-safe base64 without padding */
	ck_assert_int_eq(gpx_connect_get_decode("encoding=proto&base64=1&message=CgNhYmM", &bin,
						&gz, &m, &st),
			 0);
	ck_assert_int_eq(bin, 1);
	ck_assert_uint_eq(m.len, 5);
	ck_assert_mem_eq(m.data,
			 "\x0a\x03"
			 "abc",
			 5);
	gpx_buf_free(&m);
}
END_TEST

START_TEST(test_connect_get_rejects_bad_queries)
{
	gpx_buf m;
	gpx_buf_init(&m, 16);
	gpx_status st = {0};
	int bin, gz;
	ck_assert_int_eq(gpx_connect_get_decode("message=%7B%7D", &bin, &gz, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_connect_get_decode("encoding=xml&message=x", &bin, &gz, &m, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_connect_get_decode("connect=v2&encoding=json", &bin, &gz, &m, &st),
			 -1);
	ck_assert_int_eq(
		gpx_connect_get_decode("encoding=proto&base64=1&message=!!", &bin, &gz, &m, &st),
		-1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_connect_get_decode("encoding=json&compression=br&message=x", &bin, &gz,
						&m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_UNIMPLEMENTED);
	/* Over the buffer's limit: resource_exhausted, not a crash. */
	ck_assert_int_eq(gpx_connect_get_decode("encoding=json&message=0123456789012345678901234",
						&bin, &gz, &m, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_int_eq(gpx_connect_get_decode("encoding=json&message=%zz", &bin, &gz, &m, &st),
			 -1);
	gpx_buf_free(&m);
}
END_TEST

START_TEST(test_connect_timeout_takes_one_to_ten_digits)
{
	double s;
	ck_assert_int_eq(gpx_connect_parse_timeout("1500", &s), 0);
	ck_assert(s > 1.49 && s < 1.51);
	ck_assert_int_eq(gpx_connect_parse_timeout("0", &s), 0);
	ck_assert_int_eq(gpx_connect_parse_timeout("", &s), -1);
	ck_assert_int_eq(gpx_connect_parse_timeout("12345678901", &s), -1);
	ck_assert_int_eq(gpx_connect_parse_timeout("-5", &s), -1);
	ck_assert_int_eq(gpx_connect_parse_timeout("1.5", &s), -1);
}
END_TEST

START_TEST(test_connect_error_json_escapes_the_message)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	gpx_status st;
	gpx_status_set(&st, GPX_NOT_FOUND, "image \"x\\y\"\n not found");
	connect_error_json(&b, &st);
	ck_assert_str_eq(
		(char *)b.data,
		"{\"code\":\"not_found\",\"message\":\"image \\\"x\\\\y\\\"\\u000a not found\"}");
	gpx_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("connect");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_connect_get_decodes_json_message);
	tcase_add_test(tc, test_connect_get_decodes_base64_proto_message);
	tcase_add_test(tc, test_connect_get_rejects_bad_queries);
	tcase_add_test(tc, test_connect_timeout_takes_one_to_ten_digits);
	tcase_add_test(tc, test_connect_error_json_escapes_the_message);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
