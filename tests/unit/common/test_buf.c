#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"

START_TEST(test_buf_appends_and_consumes)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_buf_append_str(&b, "hello "), 0);
	ck_assert_int_eq(gpx_buf_printf(&b, "%s %d", "world", 42), 0);
	ck_assert_str_eq((char *)b.data, "hello world 42");
	gpx_buf_consume(&b, 6);
	ck_assert_str_eq((char *)b.data, "world 42");
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_buf_refuses_bytes_over_its_limit_and_keeps_contents)
{
	gpx_buf b;
	gpx_buf_init(&b, 8);
	ck_assert_int_eq(gpx_buf_append(&b, "12345678", 8), 0);
	ck_assert_int_eq(gpx_buf_append(&b, "9", 1), -1);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_mem_eq(b.data, "12345678", 8);
	ck_assert_int_eq(gpx_buf_printf(&b, "%d", 1), -1);
	gpx_buf_free(&b);
}
END_TEST

START_TEST(test_buf_refuses_size_overflow)
{
	gpx_buf b;
	gpx_buf_init(&b, 0);
	ck_assert_int_eq(gpx_buf_reserve(&b, SIZE_MAX), -1);
	gpx_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_buf_appends_and_consumes);
	tcase_add_test(tc, test_buf_refuses_bytes_over_its_limit_and_keeps_contents);
	tcase_add_test(tc, test_buf_refuses_size_overflow);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
