#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cli/connect_wire.h"

START_TEST(test_envelope_header_is_flags_then_big_endian_length)
{
	uint8_t h[GPX_CW_HEADER_LEN];

	gpx_cw_envelope_header(h, GPX_CW_FLAG_END_STREAM, 0x01020304);
	ck_assert_mem_eq(h, "\x02\x01\x02\x03\x04", 5);
	gpx_cw_envelope_header(h, 0, 0);
	ck_assert_mem_eq(h, "\x00\x00\x00\x00\x00", 5);
}
END_TEST

START_TEST(test_envelope_append_writes_header_and_payload)
{
	gpx_buf b;

	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_cw_envelope_append(&b, 0, "abc", 3), 0);
	ck_assert_int_eq(gpx_cw_envelope_append(&b, GPX_CW_FLAG_END_STREAM, "{}", 2), 0);
	ck_assert_uint_eq(b.len, 15);
	ck_assert_mem_eq(b.data,
			 "\x00\x00\x00\x00\x03"
			 "abc"
			 "\x02\x00\x00\x00\x02{}",
			 15);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_envelope_append_over_the_buffer_limit_leaves_it_unchanged)
{
	gpx_buf b;

	gpx_buf_init(&b, 8);
	ck_assert_int_eq(gpx_cw_envelope_append(&b, 0, "ab", 2), 0);
	ck_assert_int_eq(gpx_cw_envelope_append(&b, 0, "abcdef", 6), -1);
	ck_assert_uint_eq(b.len, 7);
	gpx_buf_free(&b);
}
END_TEST

static const uint8_t two_envelopes[] = {0x00, 0, 0, 0, 3, 'a', 'b', 'c',
					0x02, 0, 0, 0, 2, '{', '}'};

START_TEST(test_reader_reassembles_envelopes_fed_one_byte_at_a_time)
{
	gpx_cw_reader r;
	gpx_status st;
	int got = 0;

	gpx_cw_reader_init(&r, 1024);
	for (size_t i = 0; i < sizeof(two_envelopes); i++) {
		size_t used;
		int rc = gpx_cw_reader_feed(&r, two_envelopes + i, 1, &used, &st);
		ck_assert_uint_eq(used, 1);
		if (rc == 1) {
			if (got == 0) {
				ck_assert_uint_eq(r.flags, 0);
				ck_assert_uint_eq(r.payload.len, 3);
				ck_assert_mem_eq(r.payload.data, "abc", 3);
			} else {
				ck_assert_uint_eq(r.flags, GPX_CW_FLAG_END_STREAM);
				ck_assert_str_eq((char *)r.payload.data, "{}");
			}
			got++;
			gpx_cw_reader_next(&r);
		} else {
			ck_assert_int_eq(rc, 0);
		}
	}
	ck_assert_int_eq(got, 2);
	ck_assert_int_eq(gpx_cw_reader_idle(&r), 1);
	gpx_cw_reader_free(&r);
}
END_TEST

START_TEST(test_reader_stops_after_each_envelope_of_one_buffer)
{
	gpx_cw_reader r;
	gpx_status st;
	size_t used;

	gpx_cw_reader_init(&r, 1024);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, two_envelopes, sizeof(two_envelopes), &used, &st),
			 1);
	ck_assert_uint_eq(used, 8);
	/* Until next is called the reader holds the envelope and takes nothing. */
	ck_assert_int_eq(gpx_cw_reader_feed(&r, two_envelopes + 8, 7, &used, &st), 1);
	ck_assert_uint_eq(used, 0);
	gpx_cw_reader_next(&r);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, two_envelopes + 8, 7, &used, &st), 1);
	ck_assert_uint_eq(used, 7);
	ck_assert_uint_eq(r.flags, GPX_CW_FLAG_END_STREAM);
	gpx_cw_reader_free(&r);
}
END_TEST

START_TEST(test_reader_accepts_an_empty_message)
{
	static const uint8_t empty[] = {0, 0, 0, 0, 0};
	gpx_cw_reader r;
	gpx_status st;
	size_t used;

	gpx_cw_reader_init(&r, 0);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, empty, 5, &used, &st), 1);
	ck_assert_uint_eq(r.payload.len, 0);
	gpx_cw_reader_free(&r);
}
END_TEST

START_TEST(test_reader_rejects_a_length_over_the_limit_before_allocating)
{
	static const uint8_t huge[] = {0, 0xff, 0xff, 0xff, 0xff};
	gpx_cw_reader r;
	gpx_status st;
	size_t used;

	gpx_cw_reader_init(&r, 1 << 20);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, huge, 5, &used, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	ck_assert_ptr_null(strstr(st.msg, "out of memory"));
	ck_assert_uint_eq(r.payload.cap, 0);
	gpx_cw_reader_free(&r);
}
END_TEST

START_TEST(test_reader_is_not_idle_inside_a_message)
{
	gpx_cw_reader r;
	gpx_status st;
	size_t used;

	gpx_cw_reader_init(&r, 1024);
	ck_assert_int_eq(gpx_cw_reader_idle(&r), 1);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, two_envelopes, 2, &used, &st), 0);
	ck_assert_int_eq(gpx_cw_reader_idle(&r), 0);
	ck_assert_int_eq(gpx_cw_reader_feed(&r, two_envelopes + 2, 4, &used, &st), 0);
	ck_assert_int_eq(gpx_cw_reader_idle(&r), 0);
	gpx_cw_reader_free(&r);
}
END_TEST

START_TEST(test_error_body_gives_code_and_message)
{
	static const char body[] = "{\"code\":\"not_found\",\"message\":\"image x not found\"}";
	gpx_status st;

	gpx_cw_error_from_body(body, strlen(body), 404, &st);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_str_eq(st.msg, "image x not found");
}
END_TEST

START_TEST(test_error_body_message_is_one_line)
{
	static const char body[] = "{\"code\":\"internal\",\"message\":\"a\\nb\\tc\"}";
	gpx_status st;

	gpx_cw_error_from_body(body, strlen(body), 500, &st);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	ck_assert_str_eq(st.msg, "a b c");
}
END_TEST

START_TEST(test_error_body_with_unknown_code_is_unknown)
{
	static const char body[] = "{\"code\":\"teapot\",\"message\":\"m\"}";
	gpx_status st;

	gpx_cw_error_from_body(body, strlen(body), 418, &st);
	ck_assert_int_eq(st.code, GPX_UNKNOWN);
	ck_assert_str_eq(st.msg, "m");
}
END_TEST

START_TEST(test_error_without_connect_body_maps_the_http_status)
{
	static const char html[] = "\n<html>Bad gateway</html>\nmore";
	gpx_status st;

	gpx_cw_error_from_body(html, strlen(html), 502, &st);
	ck_assert_int_eq(st.code, GPX_UNAVAILABLE);
	ck_assert_str_eq(st.msg, "HTTP status 502: <html>Bad gateway</html>");
	gpx_cw_error_from_body(NULL, 0, 404, &st);
	ck_assert_int_eq(st.code, GPX_UNIMPLEMENTED);
	ck_assert_str_eq(st.msg, "HTTP status 404");
	gpx_cw_error_from_body("\x01\x02", 2, 500, &st);
	ck_assert_int_eq(st.code, GPX_UNKNOWN);
	ck_assert_str_eq(st.msg, "HTTP status 500");
}
END_TEST

START_TEST(test_end_stream_without_error_is_ok)
{
	gpx_status st;

	gpx_cw_parse_end_stream("{}", 2, &st);
	ck_assert_int_eq(st.code, GPX_OK);
	gpx_cw_parse_end_stream("{\"metadata\":{\"a\":[\"b\"]}}", 24, &st);
	ck_assert_int_eq(st.code, GPX_OK);
}
END_TEST

START_TEST(test_end_stream_error_gives_code_and_message)
{
	static const char j[] = "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"unknown "
				"filter \\\"blurr\\\"\"},\"metadata\":{}}";
	gpx_status st;

	gpx_cw_parse_end_stream(j, strlen(j), &st);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "unknown filter \"blurr\"");
}
END_TEST

START_TEST(test_end_stream_error_with_ok_or_no_code_is_unknown)
{
	static const char ok[] = "{\"error\":{\"code\":\"ok\",\"message\":\"m\"}}";
	static const char none[] = "{\"error\":{\"message\":\"m\"}}";
	gpx_status st;

	gpx_cw_parse_end_stream(ok, strlen(ok), &st);
	ck_assert_int_eq(st.code, GPX_UNKNOWN);
	gpx_cw_parse_end_stream(none, strlen(none), &st);
	ck_assert_int_eq(st.code, GPX_UNKNOWN);
	ck_assert_str_eq(st.msg, "m");
}
END_TEST

START_TEST(test_end_stream_that_is_not_json_is_internal)
{
	gpx_status st;

	gpx_cw_parse_end_stream("{", 1, &st);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	gpx_cw_parse_end_stream("{\"error\":3}", 11, &st);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
	gpx_cw_parse_end_stream("[]", 2, &st);
	ck_assert_int_eq(st.code, GPX_INTERNAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_connect_wire");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_envelope_header_is_flags_then_big_endian_length);
	tcase_add_test(tc, test_envelope_append_writes_header_and_payload);
	tcase_add_test(tc, test_envelope_append_over_the_buffer_limit_leaves_it_unchanged);
	tcase_add_test(tc, test_reader_reassembles_envelopes_fed_one_byte_at_a_time);
	tcase_add_test(tc, test_reader_stops_after_each_envelope_of_one_buffer);
	tcase_add_test(tc, test_reader_accepts_an_empty_message);
	tcase_add_test(tc, test_reader_rejects_a_length_over_the_limit_before_allocating);
	tcase_add_test(tc, test_reader_is_not_idle_inside_a_message);
	tcase_add_test(tc, test_error_body_gives_code_and_message);
	tcase_add_test(tc, test_error_body_message_is_one_line);
	tcase_add_test(tc, test_error_body_with_unknown_code_is_unknown);
	tcase_add_test(tc, test_error_without_connect_body_maps_the_http_status);
	tcase_add_test(tc, test_end_stream_without_error_is_ok);
	tcase_add_test(tc, test_end_stream_error_gives_code_and_message);
	tcase_add_test(tc, test_end_stream_error_with_ok_or_no_code_is_unknown);
	tcase_add_test(tc, test_end_stream_that_is_not_json_is_internal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
