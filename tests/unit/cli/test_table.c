#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/table.h"

/* Prints t into a string the caller frees. */
static char *render(const gpx_table *t)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(gpx_table_print(t, f), 0);
	fclose(f);
	return text;
}

START_TEST(test_table_pads_columns_to_the_widest_cell)
{
	static const char *const header[] = {"ID", "NAME", "SOURCE"};
	static const char *const r1[] = {"sample-astronaut", "astronaut.png", "sample"};
	static const char *const r2[] = {"u1", NULL, "upload"};
	gpx_table t;
	char *text;

	ck_assert_int_eq(gpx_table_init(&t, 3, header), 0);
	ck_assert_int_eq(gpx_table_add(&t, r1), 0);
	ck_assert_int_eq(gpx_table_add(&t, r2), 0);
	text = render(&t);
	ck_assert_str_eq(text, "ID                NAME           SOURCE\n"
			       "sample-astronaut  astronaut.png  sample\n"
			       "u1                -              upload\n");
	free(text);
	gpx_table_free(&t);
}
END_TEST

START_TEST(test_table_right_aligns_number_columns_but_not_the_header)
{
	static const char *const header[] = {"BYTES", "N"};
	static const char *const r1[] = {"791555", "a"};
	static const char *const r2[] = {"12", "b"};
	gpx_table t;
	char *text;

	ck_assert_int_eq(gpx_table_init(&t, 2, header), 0);
	gpx_table_align_right(&t, 0);
	ck_assert_int_eq(gpx_table_add(&t, r1), 0);
	ck_assert_int_eq(gpx_table_add(&t, r2), 0);
	text = render(&t);
	ck_assert_str_eq(text, "BYTES   N\n"
			       "791555  a\n"
			       "    12  b\n");
	free(text);
	gpx_table_free(&t);
}
END_TEST

START_TEST(test_table_width_counts_utf8_characters)
{
	static const char *const header[] = {"NAME", "X"};
	static const char *const r1[] = {"caf\xc3\xa9", "1"};
	gpx_table t;
	char *text;

	ck_assert_uint_eq(gpx_table_width("caf\xc3\xa9"), 4);
	ck_assert_int_eq(gpx_table_init(&t, 2, header), 0);
	ck_assert_int_eq(gpx_table_add(&t, r1), 0);
	text = render(&t);
	ck_assert_str_eq(text, "NAME  X\ncaf\xc3\xa9  1\n");
	free(text);
	gpx_table_free(&t);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_table");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_table_pads_columns_to_the_widest_cell);
	tcase_add_test(tc, test_table_right_aligns_number_columns_but_not_the_header);
	tcase_add_test(tc, test_table_width_counts_utf8_characters);
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
