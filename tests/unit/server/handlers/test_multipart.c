#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/handlers/multipart.h"

static const char body[] = "--XyZ\r\n"
			   "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
			   "hello\r\n"
			   "--XyZ\r\n"
			   "Content-Disposition: form-data; name=\"file\"; filename=\"cat.png\"\r\n"
			   "Content-Type: image/png\r\n\r\n"
			   "\x89PNG\r\n--not-a-boundary\r\n"
			   "--XyZ--\r\n";

START_TEST(test_multipart_finds_the_file_field)
{
	gpx_part p;
	gpx_status st = {0};
	ck_assert_int_eq(
		gpx_multipart_find((const uint8_t *)body, sizeof(body) - 1, "XyZ", "file", &p, &st),
		0);
	ck_assert_str_eq(p.filename, "cat.png");
	ck_assert_str_eq(p.content_type, "image/png");
	ck_assert_uint_eq(p.len, 22);
	ck_assert_mem_eq(p.data, "\x89PNG\r\n--not-a-boundary", 22);
}
END_TEST

START_TEST(test_multipart_reports_missing_fields_and_truncation)
{
	gpx_part p;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_multipart_find((const uint8_t *)body, sizeof(body) - 1, "XyZ", "other",
					    &p, &st),
			 -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_multipart_find((const uint8_t *)body, 120, "XyZ", "file", &p, &st),
			 -1);
	ck_assert_int_eq(gpx_multipart_find((const uint8_t *)"junk", 4, "XyZ", "file", &p, &st),
			 -1);
}
END_TEST

START_TEST(test_multipart_boundary_from_content_type)
{
	char b[80];
	ck_assert_int_eq(
		gpx_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof(b)), 0);
	ck_assert_str_eq(b, "abc123");
	ck_assert_int_eq(
		gpx_multipart_boundary("multipart/form-data; boundary=\"a b\"; x=y", b, sizeof(b)),
		0);
	ck_assert_str_eq(b, "a b");
	ck_assert_int_eq(gpx_multipart_boundary("multipart/form-data", b, sizeof(b)), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("multipart");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_multipart_finds_the_file_field);
	tcase_add_test(tc, test_multipart_reports_missing_fields_and_truncation);
	tcase_add_test(tc, test_multipart_boundary_from_content_type);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
