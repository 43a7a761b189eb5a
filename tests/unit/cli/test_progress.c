#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/progress.h"

START_TEST(test_progress_bar_fills_in_proportion)
{
	char bar[32];

	ck_assert_uint_eq(gpx_progress_bar(bar, sizeof(bar), 0, 10), 12);
	ck_assert_str_eq(bar, "[          ]");
	gpx_progress_bar(bar, sizeof(bar), 45, 10);
	ck_assert_str_eq(bar, "[####      ]");
	gpx_progress_bar(bar, sizeof(bar), 100, 10);
	ck_assert_str_eq(bar, "[##########]");
}
END_TEST

START_TEST(test_progress_bar_clamps_percent_and_fits_the_buffer)
{
	char bar[6];

	gpx_progress_bar(bar, sizeof(bar), 250, 3);
	ck_assert_str_eq(bar, "[###]");
	gpx_progress_bar(bar, sizeof(bar), -5, 3);
	ck_assert_str_eq(bar, "[   ]");
	ck_assert_uint_eq(gpx_progress_bar(bar, sizeof(bar), 50, 100), 5);
	ck_assert_uint_eq(strlen(bar), 5);
}
END_TEST

START_TEST(test_progress_line_is_redrawn_in_place_and_ended_once)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	gpx_progress p;

	gpx_progress_init(&p, f);
	gpx_progress_end(&p); /* nothing drawn: nothing to end */
	gpx_progress_draw(&p, "Progress", 50, "blur");
	gpx_progress_end(&p);
	gpx_progress_end(&p);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(text, "\r\033[KProgress ["));
	ck_assert_ptr_nonnull(strstr(text, "]  50% blur\n"));
	ck_assert_int_eq(text[len - 1], '\n');
	ck_assert_ptr_null(strstr(text, "\n\n"));
	free(text);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_progress");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_progress_bar_fills_in_proportion);
	tcase_add_test(tc, test_progress_bar_clamps_percent_and_fits_the_buffer);
	tcase_add_test(tc, test_progress_line_is_redrawn_in_place_and_ended_once);
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
