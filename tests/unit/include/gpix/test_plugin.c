/* include/gpix/plugin.h: self-contained (this file includes it before
 * anything else), its helpers, and its layout pinned for this ABI version.
 * A layout test that fails means the ABI changed: bump
 * GPX_PLUGIN_ABI_VERSION and update the sizes here. */
#include "gpix/plugin.h"

#include <check.h>
#include <stdlib.h>

START_TEST(test_plugin_fail_sets_code_and_message)
{
	gpx_plugin_status st = {0};
	ck_assert_int_eq(gpx_plugin_fail(&st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "%d MiB short", 12),
			 -1);
	ck_assert_uint_eq(st.code, 8);
	ck_assert_str_eq(st.msg, "12 MiB short");
	ck_assert_int_eq(gpx_plugin_fail(NULL, GPX_PLUGIN_INTERNAL, "ignored"), -1);
	char big[2 * GPX_PLUGIN_STATUS_MSG_MAX];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	gpx_plugin_fail(&st, GPX_PLUGIN_INTERNAL, "%s", big);
	ck_assert_uint_eq(strlen(st.msg), GPX_PLUGIN_STATUS_MSG_MAX - 1);
}
END_TEST

START_TEST(test_step_params_are_found_by_name)
{
	gpx_plugin_value v[] = {{"sigma", 2.5, NULL}, {"border", 1, "clamp"}};
	gpx_plugin_step s = {.filter = "blur", .params = v, .nparams = 2};
	ck_assert_double_eq(gpx_plugin_num(&s, "sigma", 0), 2.5);
	ck_assert_double_eq(gpx_plugin_num(&s, "border", 0), 1);
	ck_assert_double_eq(gpx_plugin_num(&s, "missing", -1), -1);
	ck_assert_str_eq(gpx_plugin_str(&s, "border", "reflect"), "clamp");
	ck_assert_str_eq(gpx_plugin_str(&s, "sigma", "none"), "none"); /* not an enum */
	ck_assert_str_eq(gpx_plugin_str(&s, "missing", "d"), "d");
}
END_TEST

START_TEST(test_abi_version_1_layout_is_pinned)
{
	ck_assert_uint_eq(GPX_PLUGIN_ABI_VERSION, 1);
	if (sizeof(void *) != 8 || sizeof(size_t) != 8)
		return; /* pinned for LP64 */
	ck_assert_uint_eq(sizeof(gpx_plugin_status), 516);
	ck_assert_uint_eq(sizeof(gpx_plugin_image), 32);
	ck_assert_uint_eq(sizeof(gpx_plugin_param), 88);
	ck_assert_uint_eq(sizeof(gpx_plugin_filter_args), 32);
	ck_assert_uint_eq(sizeof(gpx_plugin_filter_cpu), 40);
	ck_assert_uint_eq(sizeof(gpx_plugin_filter), 56);
	ck_assert_uint_eq(sizeof(gpx_plugin_backend_info), 664);
	ck_assert_uint_eq(sizeof(gpx_plugin_value), 24);
	ck_assert_uint_eq(sizeof(gpx_plugin_step), 48);
	ck_assert_uint_eq(sizeof(gpx_plugin_job), 24);
	ck_assert_uint_eq(sizeof(gpx_plugin_host), 16);
	ck_assert_uint_eq(sizeof(gpx_plugin_backend), 48);
	ck_assert_uint_eq(sizeof(gpx_plugin_descriptor), 64);
	ck_assert_uint_eq(offsetof(gpx_plugin_descriptor, abi_version), 0);
	ck_assert_uint_eq(offsetof(gpx_plugin_descriptor, struct_size), 4);
	ck_assert_uint_eq(offsetof(gpx_plugin_step, out_channels), 40);
	ck_assert_uint_eq(offsetof(gpx_plugin_backend_info, auto_min_pixels), 656);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("plugin_abi");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_plugin_fail_sets_code_and_message);
	tcase_add_test(tc, test_step_params_are_found_by_name);
	tcase_add_test(tc, test_abi_version_1_layout_is_pinned);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
