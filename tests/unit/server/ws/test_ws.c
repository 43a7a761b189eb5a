#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/ws/ws.h"

static int parse(const uint8_t *p, size_t n, uint64_t max, gpx_ws_frame *f)
{
	return gpx_ws_parse_header(p, n, max, f);
}

START_TEST(test_ws_parses_a_masked_text_frame)
{
	const uint8_t fr[] = {0x81, 0x85, 1, 2, 3, 4, 'h' ^ 1, 'e' ^ 2, 'l' ^ 3, 'l' ^ 4, 'o' ^ 1};
	gpx_ws_frame f;
	ck_assert_int_eq(parse(fr, sizeof(fr), 1024, &f), 1);
	ck_assert_int_eq(f.fin, 1);
	ck_assert_int_eq(f.opcode, 1);
	ck_assert_int_eq(f.len, 5);
	ck_assert_uint_eq(f.header_len, 6);
	ck_assert_mem_eq(f.mask, "\x01\x02\x03\x04", 4);
}
END_TEST

START_TEST(test_ws_waits_for_a_whole_header)
{
	const uint8_t fr[] = {0x82, 0xfe, 0x01, 0x00, 9, 9, 9, 9};
	gpx_ws_frame f;
	for (size_t n = 0; n < sizeof(fr); n++)
		ck_assert_int_eq(parse(fr, n, 1 << 20, &f), 0);
	ck_assert_int_eq(parse(fr, sizeof(fr), 1 << 20, &f), 1);
	ck_assert_int_eq(f.len, 256);
}
END_TEST

START_TEST(test_ws_refuses_unmasked_client_frames_with_1002)
{
	const uint8_t fr[] = {0x81, 0x05, 'h', 'e', 'l', 'l', 'o'};
	gpx_ws_frame f;
	ck_assert_int_eq(parse(fr, sizeof(fr), 1024, &f), -1002);
}
END_TEST

START_TEST(test_ws_refuses_a_declared_length_over_the_limit_before_buffering)
{
	/* 64-bit length 2^40 with only the header present. */
	const uint8_t fr[] = {0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0};
	gpx_ws_frame f;
	ck_assert_int_eq(parse(fr, sizeof(fr), 4 << 20, &f), -1009);
	/* The most significant bit must be 0. */
	const uint8_t fr2[] = {0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 5};
	ck_assert_int_eq(parse(fr2, sizeof(fr2), UINT64_MAX, &f), -1002);
}
END_TEST

START_TEST(test_ws_checks_control_frames_and_reserved_bits)
{
	gpx_ws_frame f;
	const uint8_t long_ping[] = {0x89, 0xfe, 0, 200, 1, 2, 3, 4};
	ck_assert_int_eq(parse(long_ping, sizeof(long_ping), 1 << 20, &f), -1002);
	const uint8_t frag_close[] = {0x08, 0x80, 1, 2, 3, 4};
	ck_assert_int_eq(parse(frag_close, sizeof(frag_close), 1 << 20, &f), -1002);
	const uint8_t rsv[] = {0xc1, 0x80, 1, 2, 3, 4};
	ck_assert_int_eq(parse(rsv, sizeof(rsv), 1 << 20, &f), -1002);
	const uint8_t bad_op[] = {0x83, 0x80, 1, 2, 3, 4};
	ck_assert_int_eq(parse(bad_op, sizeof(bad_op), 1 << 20, &f), -1002);
}
END_TEST

START_TEST(test_ws_validates_utf8)
{
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"h\xc3\xa9llo", 6), 1);
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4), 1);
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xff", 1), 0);
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xc3", 1), 0);
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xc0\xaf", 2), 0);	 /* overlong */
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), 0); /* surrogate */
	ck_assert_int_eq(gpx_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4), 0);
}
END_TEST

START_TEST(test_ws_accept_key_matches_rfc6455_example)
{
	char out[29];
	gpx_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	ck_assert_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("ws");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_ws_parses_a_masked_text_frame);
	tcase_add_test(tc, test_ws_waits_for_a_whole_header);
	tcase_add_test(tc, test_ws_refuses_unmasked_client_frames_with_1002);
	tcase_add_test(tc, test_ws_refuses_a_declared_length_over_the_limit_before_buffering);
	tcase_add_test(tc, test_ws_checks_control_frames_and_reserved_bits);
	tcase_add_test(tc, test_ws_validates_utf8);
	tcase_add_test(tc, test_ws_accept_key_matches_rfc6455_example);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
