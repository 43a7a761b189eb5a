#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "gpix/v1/image_service.pb-c.h"

/* Parses the arguments after "gpix", given as a NULL-terminated list. */
static int parse_list(gpx_cli_args *a, gpx_status *st, const char *const *args)
{
	char *argv[32] = {"gpix"};
	int argc = 1;

	while (*args && argc < 31)
		argv[argc++] = (char *)*args++;
	return gpx_cli_args_parse(argc, argv, a, st);
}

#define PARSE(a, st, ...) parse_list((a), (st), (const char *const[]){__VA_ARGS__, NULL})

START_TEST(test_args_version_command_with_global_server)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "--server", "http://h:1", "version"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_VERSION);
	ck_assert_str_eq(a.server, "http://h:1");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_global_options_may_follow_the_command_and_use_equals)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(
		PARSE(&a, &st, "images", "--server=http://x:2", "--timeout", "1.5", "--http2"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_IMAGES);
	ck_assert_str_eq(a.server, "http://x:2");
	ck_assert_int_eq(a.timeout_ms, 1500);
	ck_assert_int_eq(a.http2, 1);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_no_command_is_usage)
{
	gpx_cli_args a;
	gpx_status st;
	char *argv[] = {"gpix", NULL};

	ck_assert_int_eq(gpx_cli_args_parse(1, argv, &a, &st), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_USAGE);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_help_forms)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "-h"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_HELP);
	ck_assert_int_eq(a.help_for, GPX_CLI_USAGE);
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "process", "--help"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_HELP);
	ck_assert_int_eq(a.help_for, GPX_CLI_PROCESS);
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "help", "tune"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_HELP);
	ck_assert_int_eq(a.help_for, GPX_CLI_TUNE);
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "help", "nope"), -1);
	ck_assert_str_eq(st.msg, "unknown command \"nope\"");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_version_flag_is_the_client_version)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "--version"), 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_CLIENT_VERSION);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_reject_unknown_command_and_option)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "frobnicate"), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "unknown command \"frobnicate\"");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "version", "--frob"), -1);
	ck_assert_str_eq(st.msg, "unknown option --frob");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_command_option_must_belong_to_the_command)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "images", "--filters", "blur"), -1);
	ck_assert_str_eq(st.msg, "images: unknown option --filters");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "--page-size", "3", "images"), -1);
	ck_assert_str_eq(st.msg, "option --page-size must follow a command");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_option_without_its_value)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "version", "--server"), -1);
	ck_assert_str_eq(st.msg, "--server needs a value");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "--http2=1", "version"), -1);
	ck_assert_str_eq(st.msg, "--http2 takes no value");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_images_source_and_page_size)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "images", "--source", "upload", "--page-size", "2"), 0);
	ck_assert_int_eq(a.source, GPIX__V1__IMAGE_SOURCE__IMAGE_SOURCE_UPLOAD);
	ck_assert_int_eq(a.page_size, 2);
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "images", "--source", "mine"), -1);
	ck_assert_str_eq(st.msg, "--source must be sample, upload, result or all, got \"mine\"");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "images", "--page-size", "0"), -1);
	ck_assert_str_eq(st.msg, "--page-size needs a positive integer, got \"0\"");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "images", "--page-size", "3x"), -1);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_timeout_must_be_positive_seconds)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "--timeout", "0", "version"), -1);
	gpx_cli_args_free(&a);
	ck_assert_int_eq(PARSE(&a, &st, "--timeout", "nan", "version"), -1);
	gpx_cli_args_free(&a);
	ck_assert_int_eq(PARSE(&a, &st, "--timeout", "0.0001", "version"), 0);
	ck_assert_int_eq(a.timeout_ms, 1);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_upload_needs_one_file)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "upload", "a.png"), 0);
	ck_assert_str_eq(a.file, "a.png");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "upload"), -1);
	ck_assert_str_eq(st.msg, "upload: which file? (gpix upload FILE)");
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "upload", "a.png", "b.png"), -1);
	ck_assert_str_eq(st.msg, "upload: unexpected argument \"b.png\"");
	gpx_cli_args_free(&a);

	/* After "--" a name that starts with '-' is a file. */
	ck_assert_int_eq(PARSE(&a, &st, "upload", "--", "-x.png"), 0);
	ck_assert_str_eq(a.file, "-x.png");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_process_collects_filters_sets_and_output)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "process", "sample-chelsea", "--filters", "blur,edge",
			       "--set", "blur.sigma=3", "--set=edge.threshold=40", "-oout.png",
			       "--format", "PNG", "--quality", "90", "--backend", "cpu"),
			 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_PROCESS);
	ck_assert_str_eq(a.image_id, "sample-chelsea");
	ck_assert_str_eq(a.filters, "blur,edge");
	ck_assert_uint_eq(a.n_sets, 2);
	ck_assert_str_eq(a.sets[0], "blur.sigma=3");
	ck_assert_str_eq(a.sets[1], "edge.threshold=40");
	ck_assert_str_eq(a.output, "out.png");
	ck_assert_int_eq(a.format, GPIX__V1__IMAGE_FORMAT__IMAGE_FORMAT_PNG);
	ck_assert_int_eq(a.quality, 90);
	ck_assert_str_eq(a.backend, "cpu");
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_process_needs_an_image_and_filters)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "process", "--filters", "blur"), -1);
	ck_assert_ptr_nonnull(strstr(st.msg, "which image?"));
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "process", "img"), -1);
	ck_assert_ptr_nonnull(strstr(st.msg, "--filters is required"));
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "process", "img", "--filters", "blur", "--quality", "101"),
			 -1);
	gpx_cli_args_free(&a);
}
END_TEST

START_TEST(test_args_tune_needs_params)
{
	gpx_cli_args a;
	gpx_status st;

	ck_assert_int_eq(PARSE(&a, &st, "tune", "img", "--params", "blur.sigma:2", "-o", "d",
			       "--preview-width", "320"),
			 0);
	ck_assert_int_eq(a.cmd, GPX_CLI_TUNE);
	ck_assert_str_eq(a.params, "blur.sigma:2");
	ck_assert_str_eq(a.output, "d");
	ck_assert_int_eq(a.preview_width, 320);
	gpx_cli_args_free(&a);

	ck_assert_int_eq(PARSE(&a, &st, "tune", "img"), -1);
	ck_assert_ptr_nonnull(strstr(st.msg, "--params is required"));
	gpx_cli_args_free(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_args");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_args_version_command_with_global_server);
	tcase_add_test(tc, test_args_global_options_may_follow_the_command_and_use_equals);
	tcase_add_test(tc, test_args_no_command_is_usage);
	tcase_add_test(tc, test_args_help_forms);
	tcase_add_test(tc, test_args_version_flag_is_the_client_version);
	tcase_add_test(tc, test_args_reject_unknown_command_and_option);
	tcase_add_test(tc, test_args_command_option_must_belong_to_the_command);
	tcase_add_test(tc, test_args_option_without_its_value);
	tcase_add_test(tc, test_args_images_source_and_page_size);
	tcase_add_test(tc, test_args_timeout_must_be_positive_seconds);
	tcase_add_test(tc, test_args_upload_needs_one_file);
	tcase_add_test(tc, test_args_process_collects_filters_sets_and_output);
	tcase_add_test(tc, test_args_process_needs_an_image_and_filters);
	tcase_add_test(tc, test_args_tune_needs_params);
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
