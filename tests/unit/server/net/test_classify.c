#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/net/classify.h"

static gpx_proto_guess cls(const char *s, size_t n)
{
	return gpx_classify((const uint8_t *)s, n);
}

START_TEST(test_classify_recognises_the_h2_preface)
{
	ck_assert_int_eq(cls(GPX_H2_PREFACE, 24), GPX_GUESS_H2);
	ck_assert_int_eq(cls(GPX_H2_PREFACE "\x00\x00\x12\x04", 28), GPX_GUESS_H2);
}
END_TEST

START_TEST(test_classify_waits_on_a_partial_preface)
{
	ck_assert_int_eq(cls("", 0), GPX_GUESS_NEED_MORE);
	ck_assert_int_eq(cls("P", 1), GPX_GUESS_NEED_MORE);
	ck_assert_int_eq(cls("PRI * HTTP/2.0\r\n", 16), GPX_GUESS_NEED_MORE);
}
END_TEST

START_TEST(test_classify_sends_everything_else_to_http1)
{
	ck_assert_int_eq(cls("GET / HTTP/1.1\r\n", 16), GPX_GUESS_HTTP1);
	ck_assert_int_eq(cls("POST /x HTTP/1.1\r\n", 18), GPX_GUESS_HTTP1);
	ck_assert_int_eq(cls("PRI * HTTP/1.1\r\n", 16), GPX_GUESS_HTTP1);
	ck_assert_int_eq(cls("\x00\xff garbage", 10), GPX_GUESS_HTTP1);
}
END_TEST

START_TEST(test_classify_recognises_a_tls_client_hello)
{
	ck_assert_int_eq(cls("\x16\x03\x01\x02\x00", 5), GPX_GUESS_TLS);
	ck_assert_int_eq(cls("\x16", 1), GPX_GUESS_NEED_MORE);
	ck_assert_int_eq(cls("\x16\x07", 2), GPX_GUESS_HTTP1);
}
END_TEST

START_TEST(test_classify_tells_request_lines_from_garbage)
{
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"GET / HTTP/1.1", 14), 1);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"POS", 3), 1);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"M-SEARCH * ", 11), 1);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"\x00\x01garbage", 9), 0);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)" GET", 4), 0);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"get / HTTP/1.1", 14), 0);
	ck_assert_int_eq(gpx_looks_like_http1((const uint8_t *)"AAAAAAAAAAAAAAAAAAAAAAAAA", 25), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_classify_recognises_the_h2_preface);
	tcase_add_test(tc, test_classify_waits_on_a_partial_preface);
	tcase_add_test(tc, test_classify_sends_everything_else_to_http1);
	tcase_add_test(tc, test_classify_recognises_a_tls_client_hello);
	tcase_add_test(tc, test_classify_tells_request_lines_from_garbage);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
