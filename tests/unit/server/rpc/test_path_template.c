#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "server/rpc/methods.h"

static gpx_path_template compile(const char *p)
{
	gpx_path_template t;
	gpx_status st = {0};
	ck_assert_msg(gpx_path_template_compile(&t, p, &st) == 0, "%s: %s", p, st.msg);
	return t;
}

START_TEST(test_path_template_matches_literals_and_variables)
{
	gpx_path_template t = compile("/v1/images/{image_id}");
	char *v[4] = {0};
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/abc-123", v), 1);
	ck_assert_str_eq(v[0], "abc-123");
	free(v[0]);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images", v), 0);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/a/b", v), 0);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/", v), 0);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v2/images/x", v), 0);
	gpx_path_template_free(&t);
}
END_TEST

START_TEST(test_path_template_matches_a_verb_suffix)
{
	gpx_path_template t = compile("/v1/images/{image_id}:process");
	char *v[4] = {0};
	ck_assert_ptr_nonnull(t.verb);
	ck_assert_str_eq(t.verb, "process");
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/abc:process", v), 1);
	ck_assert_str_eq(v[0], "abc");
	free(v[0]);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/abc", v), 0);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/abc:other", v), 0);
	gpx_path_template_free(&t);
}
END_TEST

START_TEST(test_path_template_decodes_percent_escapes_in_variables)
{
	gpx_path_template t = compile("/v1/images/{image_id}");
	char *v[4] = {0};
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/a%20b", v), 1);
	ck_assert_str_eq(v[0], "a b");
	free(v[0]);
	/* A bad escape or an encoded NUL does not match at all. */
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/a%zz", v), 0);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/images/a%00", v), 0);
	gpx_path_template_free(&t);
}
END_TEST

START_TEST(test_path_template_binds_multi_segment_patterns)
{
	gpx_path_template t = compile("/v1/{name=shelves/*/books/*}");
	char *v[4] = {0};
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/shelves/s1/books/b2", v), 1);
	ck_assert_str_eq(v[0], "shelves/s1/books/b2");
	free(v[0]);
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/shelves/s1/cds/b2", v), 0);
	gpx_path_template_free(&t);

	t = compile("/v1/files/{path=**}");
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/files/a/b/c.txt", v), 1);
	ck_assert_str_eq(v[0], "a/b/c.txt");
	free(v[0]);
	gpx_path_template_free(&t);

	t = compile("/v1/*/x");
	ck_assert_int_eq(gpx_path_template_match(&t, "/v1/anything/x", v), 1);
	gpx_path_template_free(&t);
}
END_TEST

START_TEST(test_path_template_rejects_malformed_templates)
{
	gpx_path_template t;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_path_template_compile(&t, "v1/x", &st), -1);
	ck_assert_int_eq(gpx_path_template_compile(&t, "/v1/{unterminated", &st), -1);
	ck_assert_int_eq(gpx_path_template_compile(&t, "/v1/**/x", &st), -1);
	ck_assert_int_eq(gpx_path_template_compile(&t, "/v1//x", &st), -1);
}
END_TEST

extern const uint8_t gpx_descriptor_set[];
extern const size_t gpx_descriptor_set_len;

START_TEST(test_methods_route_comes_from_the_http_annotations)
{
	gpx_methods t;
	gpx_status st = {0};
	ck_assert_int_eq(gpx_methods_load(&t, gpx_descriptor_set, gpx_descriptor_set_len, &st), 0);
	char *v[16] = {0};
	int pm = 0;
	const gpx_http_binding *b = gpx_methods_route(&t, "GET", "/v1/version", v, &pm);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->method->full_name, "gpix.v1.ImageService/GetVersion");
	b = gpx_methods_route(&t, "POST", "/v1/images/abc:process", v, &pm);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->method->full_name, "gpix.v1.ImageService/ProcessImage");
	ck_assert_str_eq(b->body, "*");
	ck_assert_str_eq(v[0], "abc");
	free(v[0]);
	/* additional_bindings */
	b = gpx_methods_route(&t, "POST", "/v1/process", v, &pm);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->method->full_name, "gpix.v1.ImageService/ProcessImage");
	b = gpx_methods_route(&t, "DELETE", "/v1/images/xyz", v, &pm);
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(b->method->full_name, "gpix.v1.ImageService/DeleteImage");
	free(v[0]);
	/* The path exists but not for this HTTP method. */
	b = gpx_methods_route(&t, "PUT", "/v1/version", v, &pm);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(pm, 1);
	b = gpx_methods_route(&t, "GET", "/v1/nothing", v, &pm);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(pm, 0);

	const gpx_method *m = gpx_methods_find(&t, "/gpix.v1.ImageService/Tune");
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(m->client_streaming, 1);
	ck_assert_int_eq(m->server_streaming, 1);
	m = gpx_methods_find(&t, "/gpix.v1.ImageService/GetVersion");
	ck_assert_int_eq(m->no_side_effects, 1);
	m = gpx_methods_find(&t, "/gpix.v1.ImageService/ProcessImage");
	ck_assert_int_eq(m->no_side_effects, 0);
	ck_assert_ptr_nonnull(gpx_methods_find(&t, "/grpc.health.v1.Health/Check"));
	ck_assert_ptr_nonnull(gpx_methods_find(
		&t, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"));
	ck_assert_ptr_null(gpx_methods_find(&t, "/gpix.v1.ImageService/Nope"));
	gpx_methods_free(&t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("path_template");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_path_template_matches_literals_and_variables);
	tcase_add_test(tc, test_path_template_matches_a_verb_suffix);
	tcase_add_test(tc, test_path_template_decodes_percent_escapes_in_variables);
	tcase_add_test(tc, test_path_template_binds_multi_segment_patterns);
	tcase_add_test(tc, test_path_template_rejects_malformed_templates);
	tcase_add_test(tc, test_methods_route_comes_from_the_http_annotations);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
