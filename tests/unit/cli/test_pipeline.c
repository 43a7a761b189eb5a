#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cli/pipeline.h"

static const Google__Protobuf__Value *param(const Gpix__V1__FilterStep *s, const char *key)
{
	for (size_t i = 0; i < s->n_params; i++)
		if (strcmp(s->params[i]->key, key) == 0)
			return s->params[i]->value;
	return NULL;
}

START_TEST(test_pipeline_splits_filters_and_trims_spaces)
{
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse(" grayscale, blur ,edge", NULL, 0, &p, &st), 0);
	ck_assert_uint_eq(p.n_steps, 3);
	ck_assert_str_eq(p.steps[0]->name, "grayscale");
	ck_assert_str_eq(p.steps[1]->name, "blur");
	ck_assert_str_eq(p.steps[2]->name, "edge");
	ck_assert_uint_eq(p.steps[0]->n_params, 0);
	gpx_cli_pipeline_free(&p);
}
END_TEST

START_TEST(test_pipeline_without_filters_is_empty)
{
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse(NULL, NULL, 0, &p, &st), 0);
	ck_assert_uint_eq(p.n_steps, 0);
	gpx_cli_pipeline_free(&p);
}
END_TEST

START_TEST(test_pipeline_rejects_empty_and_odd_filter_names)
{
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse("blur,,edge", NULL, 0, &p, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, "--filters \"blur,,edge\": empty filter name");
	ck_assert_ptr_null(p.steps);
	ck_assert_int_eq(gpx_cli_pipeline_parse("blur,", NULL, 0, &p, &st), -1);
	ck_assert_int_eq(gpx_cli_pipeline_parse("bl ur", NULL, 0, &p, &st), -1);
	ck_assert_str_eq(st.msg, "--filters \"bl ur\": \"bl ur\" is not a filter name");
}
END_TEST

START_TEST(test_set_types_numbers_bools_and_strings)
{
	const char *sets[] = {"blur.sigma=3.5", "blur.border=clamp,grayscale.keep=true",
			      "blur.kernel_size=-7", "grayscale.algorithm='1'"};
	gpx_cli_pipeline p;
	gpx_status st;
	const Google__Protobuf__Value *v;

	ck_assert_int_eq(gpx_cli_pipeline_parse("grayscale,blur", sets, 4, &p, &st), 0);
	v = param(p.steps[1], "sigma");
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE);
	ck_assert_double_eq(v->number_value, 3.5);
	v = param(p.steps[1], "border");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	ck_assert_str_eq(v->string_value, "clamp");
	v = param(p.steps[1], "kernel_size");
	ck_assert_double_eq(v->number_value, -7);
	v = param(p.steps[0], "keep");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE);
	ck_assert_int_eq(v->bool_value, 1);
	v = param(p.steps[0], "algorithm");
	ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
	ck_assert_str_eq(v->string_value, "1");
	gpx_cli_pipeline_free(&p);
}
END_TEST

START_TEST(test_set_later_value_replaces_earlier_and_applies_to_every_step)
{
	const char *sets[] = {"blur.sigma=1", "blur.sigma=4"};
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse("blur,edge,blur", sets, 2, &p, &st), 0);
	ck_assert_uint_eq(p.steps[0]->n_params, 1);
	ck_assert_double_eq(param(p.steps[0], "sigma")->number_value, 4);
	ck_assert_uint_eq(p.steps[1]->n_params, 0);
	ck_assert_double_eq(param(p.steps[2], "sigma")->number_value, 4);
	gpx_cli_pipeline_free(&p);
}
END_TEST

START_TEST(test_set_of_a_filter_not_in_the_pipeline_is_refused)
{
	const char *sets[] = {"sharpen.amount=2"};
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse("blur", sets, 1, &p, &st), -1);
	ck_assert_str_eq(st.msg, "--set \"sharpen.amount=2\": filter \"sharpen\" is not in "
				 "--filters \"blur\"");
	ck_assert_uint_eq(p.n_steps, 0);
}
END_TEST

START_TEST(test_set_needs_filter_param_and_value)
{
	const char *no_eq[] = {"blur.sigma"}, *no_dot[] = {"sigma=3"}, *no_val[] = {"blur.sigma="};
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse("blur", no_eq, 1, &p, &st), -1);
	ck_assert_str_eq(st.msg, "--set \"blur.sigma\": expected FILTER.PARAM=VALUE");
	ck_assert_int_eq(gpx_cli_pipeline_parse("blur", no_dot, 1, &p, &st), -1);
	ck_assert_int_eq(gpx_cli_pipeline_parse("blur", no_val, 1, &p, &st), -1);
	ck_assert_str_eq(st.msg, "--set \"blur.sigma=\": no value");
}
END_TEST

START_TEST(test_set_param_is_after_the_last_dot)
{
	const char *sets[] = {"acme.swirl.angle=90"};
	gpx_cli_pipeline p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_pipeline_parse("acme.swirl", sets, 1, &p, &st), 0);
	ck_assert_double_eq(param(p.steps[0], "angle")->number_value, 90);
	gpx_cli_pipeline_free(&p);
}
END_TEST

START_TEST(test_value_nan_inf_and_hex_are_strings)
{
	const char *texts[] = {"nan", "inf", "0x10", "1e999", ""};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		Google__Protobuf__Value *v = gpx_cli_value_parse(texts[i]);
		ck_assert_ptr_nonnull(v);
		ck_assert_int_eq(v->kind_case, GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE);
		ck_assert_str_eq(v->string_value, texts[i]);
		protobuf_c_message_free_unpacked(&v->base, NULL);
	}
}
END_TEST

START_TEST(test_params_parse_a_list_of_values)
{
	gpx_cli_tune_params p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:2, blur.sigma:4.5,edge.threshold=-1",
						   &p, &st),
			 0);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(p.items[0].parameter, "blur.sigma");
	ck_assert_double_eq(p.items[0].value, 2);
	ck_assert_str_eq(p.items[1].parameter, "blur.sigma");
	ck_assert_double_eq(p.items[1].value, 4.5);
	ck_assert_str_eq(p.items[2].parameter, "edge.threshold");
	ck_assert_double_eq(p.items[2].value, -1);
	gpx_cli_tune_params_free(&p);
}
END_TEST

START_TEST(test_params_reject_bad_items)
{
	gpx_cli_tune_params p;
	gpx_status st;

	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:abc", &p, &st), -1);
	ck_assert_str_eq(st.msg, "--params \"blur.sigma:abc\": \"abc\" is not a number");
	ck_assert_uint_eq(p.n, 0);
	ck_assert_ptr_null(p.items);
	ck_assert_int_eq(gpx_cli_tune_params_parse("sigma:2", &p, &st), -1);
	ck_assert_str_eq(st.msg, "--params \"sigma:2\": expected FILTER.PARAM:VALUE");
	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:2,", &p, &st), -1);
	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:", &p, &st), -1);
	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:nan", &p, &st), -1);
	ck_assert_int_eq(gpx_cli_tune_params_parse("blur.sigma:2,edge.t:x", &p, &st), -1);
	ck_assert_ptr_null(p.items);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cli_pipeline");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_pipeline_splits_filters_and_trims_spaces);
	tcase_add_test(tc, test_pipeline_without_filters_is_empty);
	tcase_add_test(tc, test_pipeline_rejects_empty_and_odd_filter_names);
	tcase_add_test(tc, test_set_types_numbers_bools_and_strings);
	tcase_add_test(tc, test_set_later_value_replaces_earlier_and_applies_to_every_step);
	tcase_add_test(tc, test_set_of_a_filter_not_in_the_pipeline_is_refused);
	tcase_add_test(tc, test_set_needs_filter_param_and_value);
	tcase_add_test(tc, test_set_param_is_after_the_last_dot);
	tcase_add_test(tc, test_value_nan_inf_and_hex_are_strings);
	tcase_add_test(tc, test_params_parse_a_list_of_values);
	tcase_add_test(tc, test_params_reject_bad_items);
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
