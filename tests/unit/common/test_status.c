#include <check.h>
#include <stdlib.h>

#include "common/status.h"

START_TEST(test_status_maps_codes_to_connect_http_statuses)
{
	ck_assert_int_eq(gpx_code_http_status(GPX_CANCELED), 499);
	ck_assert_int_eq(gpx_code_http_status(GPX_INVALID_ARGUMENT), 400);
	ck_assert_int_eq(gpx_code_http_status(GPX_DEADLINE_EXCEEDED), 504);
	ck_assert_int_eq(gpx_code_http_status(GPX_NOT_FOUND), 404);
	ck_assert_int_eq(gpx_code_http_status(GPX_ALREADY_EXISTS), 409);
	ck_assert_int_eq(gpx_code_http_status(GPX_PERMISSION_DENIED), 403);
	ck_assert_int_eq(gpx_code_http_status(GPX_RESOURCE_EXHAUSTED), 429);
	ck_assert_int_eq(gpx_code_http_status(GPX_FAILED_PRECONDITION), 400);
	ck_assert_int_eq(gpx_code_http_status(GPX_ABORTED), 409);
	ck_assert_int_eq(gpx_code_http_status(GPX_OUT_OF_RANGE), 400);
	ck_assert_int_eq(gpx_code_http_status(GPX_UNIMPLEMENTED), 501);
	ck_assert_int_eq(gpx_code_http_status(GPX_INTERNAL), 500);
	ck_assert_int_eq(gpx_code_http_status(GPX_UNAVAILABLE), 503);
	ck_assert_int_eq(gpx_code_http_status(GPX_DATA_LOSS), 500);
	ck_assert_int_eq(gpx_code_http_status(GPX_UNAUTHENTICATED), 401);
	ck_assert_int_eq(gpx_code_http_status(GPX_UNKNOWN), 500);
}
END_TEST

START_TEST(test_status_names_round_trip)
{
	for (int c = 1; c <= 16; c++)
		ck_assert_int_eq(gpx_code_from_name(gpx_code_name((gpx_code)c)), c);
	ck_assert_str_eq(gpx_code_name(GPX_RESOURCE_EXHAUSTED), "resource_exhausted");
	ck_assert_int_eq(gpx_code_from_name("nope"), -1);
}
END_TEST

START_TEST(test_status_set_formats_message_and_returns_minus_one)
{
	gpx_status st;
	ck_assert_int_eq(gpx_status_set(&st, GPX_NOT_FOUND, "image %s not found", "abc"), -1);
	ck_assert_int_eq(st.code, GPX_NOT_FOUND);
	ck_assert_str_eq(st.msg, "image abc not found");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("status");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_status_maps_codes_to_connect_http_statuses);
	tcase_add_test(tc, test_status_names_round_trip);
	tcase_add_test(tc, test_status_set_formats_message_and_returns_minus_one);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
