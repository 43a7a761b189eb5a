#include <math.h>
#include <stdio.h>

#include "common/log.h"
#include "fixtures.h"

static gpx_filter_registry *reg;

static void setup(void)
{
	ck_assert_int_eq(gpx_filter_registry_create(&reg), 0);
}

static void teardown(void)
{
	gpx_filter_registry_free(reg);
}

/* Builds one step and expects the given error message. */
static void expect_build_error(const char *filter, const gpx_step_param *ps, size_t n,
			       const char *msg)
{
	gpx_step_spec spec = {filter, ps, n};
	gpx_pipeline *p = (gpx_pipeline *)1;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, &spec, 1, &p, &st), -1);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_str_eq(st.msg, msg);
}

START_TEST(test_build_rejects_unknown_filter)
{
	expect_build_error("foo", NULL, 0, "unknown filter \"foo\"");
}
END_TEST

START_TEST(test_build_rejects_unknown_parameter_naming_it)
{
	gpx_step_param p[] = {{"foo", NUM(1)}};
	expect_build_error("blur", p, 1, "unknown parameter \"blur.foo\"");
}
END_TEST

START_TEST(test_build_rejects_wrong_types)
{
	gpx_step_param s[] = {{"sigma", STR("3")}};
	expect_build_error("blur", s, 1, "parameter \"blur.sigma\" must be a number");
	gpx_step_param b[] = {{"sigma", BOOLV(1)}};
	expect_build_error("blur", b, 1, "parameter \"blur.sigma\" must be a number");
	gpx_step_param k[] = {{"kernel_size", STR("5")}};
	expect_build_error("blur", k, 1, "parameter \"blur.kernel_size\" must be an integer");
	gpx_step_param e[] = {{"border", NUM(1)}};
	expect_build_error("blur", e, 1,
			   "parameter \"blur.border\" must be one of reflect, clamp, wrap");
	gpx_step_param kb[] = {{"keep_aspect", NUM(1)}};
	expect_build_error("resize", kb, 1, "parameter \"resize.keep_aspect\" must be a bool");
	gpx_step_param ks[] = {{"keep_aspect", STR("true")}};
	expect_build_error("resize", ks, 1, "parameter \"resize.keep_aspect\" must be a bool");
}
END_TEST

START_TEST(test_build_rejects_non_integers_for_integer_parameters)
{
	gpx_step_param p[] = {{"kernel_size", NUM(3.5)}};
	expect_build_error("blur", p, 1,
			   "parameter \"blur.kernel_size\" must be an integer (got 3.5)");
}
END_TEST

START_TEST(test_build_rejects_out_of_range_values_with_the_range)
{
	gpx_step_param p[] = {{"sigma", NUM(0.01)}};
	expect_build_error("blur", p, 1, "parameter \"blur.sigma\" is 0.01, outside 0.1..50");
	gpx_step_param q[] = {{"brightness", NUM(-101)}};
	expect_build_error(
		"brightness_contrast", q, 1,
		"parameter \"brightness_contrast.brightness\" is -101, outside -100..100");
	gpx_step_param r[] = {{"radius", NUM(0)}};
	expect_build_error("box_blur", r, 1, "parameter \"box_blur.radius\" is 0, outside 1..100");
	gpx_step_param n[] = {{"sigma", NUM(NAN)}};
	expect_build_error("blur", n, 1, "parameter \"blur.sigma\" is nan, outside 0.1..50");
}
END_TEST

START_TEST(test_build_rejects_enum_values_not_in_options_listing_them)
{
	gpx_step_param p[] = {{"border", STR("mirror")}};
	expect_build_error("blur", p, 1,
			   "parameter \"blur.border\" must be one of reflect, clamp, wrap (got "
			   "\"mirror\")");
	gpx_step_param a[] = {{"angle", STR("45")}};
	expect_build_error("rotate", a, 1,
			   "parameter \"rotate.angle\" must be one of 90, 180, 270 (got \"45\")");
}
END_TEST

START_TEST(test_build_rejects_even_kernel_size)
{
	gpx_step_param p[] = {{"kernel_size", NUM(4)}};
	expect_build_error("blur", p, 1,
			   "parameter \"blur.kernel_size\" must be 0 (auto) or odd (got 4)");
}
END_TEST

START_TEST(test_build_limits_pipeline_length)
{
	gpx_step_spec steps[GPX_PIPELINE_MAX_STEPS + 1];
	for (size_t i = 0; i < NPARAMS(steps); i++)
		steps[i] = (gpx_step_spec){"invert", NULL, 0};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, GPX_PIPELINE_MAX_STEPS, &p, &st), 0);
	ck_assert_uint_eq(gpx_pipeline_len(p), GPX_PIPELINE_MAX_STEPS);
	gpx_pipeline_free(p);
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, NPARAMS(steps), &p, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
}
END_TEST

START_TEST(test_build_fills_defaults_and_reads_back_typed_values)
{
	gpx_step_param bp[] = {{"sigma", NUM(3)}, {"kernel_size", {.kind = GPX_VALUE_NULL}}};
	gpx_step_param rp[] = {{"keep_aspect", BOOLV(0)}, {"filter", STR("lanczos3")}};
	gpx_step_spec steps[] = {{"grayscale", NULL, 0}, {"blur", bp, 2}, {"resize", rp, 2}};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, 3, &p, &st), 0);
	ck_assert_uint_eq(gpx_pipeline_len(p), 3);
	ck_assert_str_eq(gpx_pipeline_step_filter(p, 1)->name, "blur");
	gpx_param_value v;
	gpx_pipeline_step_param(p, 0, 0, &v);
	ck_assert_int_eq(v.kind, GPX_VALUE_STRING);
	ck_assert_str_eq(v.str, "bt601");
	gpx_pipeline_step_param(p, 1, 0, &v);
	ck_assert_int_eq(v.kind, GPX_VALUE_NUMBER);
	ck_assert_double_eq(v.num, 3);
	gpx_pipeline_step_param(p, 1, 1, &v);
	ck_assert_double_eq(v.num, 0);
	gpx_pipeline_step_param(p, 2, 2, &v);
	ck_assert_int_eq(v.kind, GPX_VALUE_BOOL);
	ck_assert_int_eq(v.b, 0);
	char buf[256];
	size_t n = gpx_pipeline_describe(p, buf, sizeof(buf));
	ck_assert_str_eq(buf, "grayscale(algorithm=bt601),blur(sigma=3,kernel_size=0,"
			      "border=reflect),resize(width=0,height=0,keep_aspect=false,"
			      "filter=lanczos3)");
	ck_assert_uint_eq(n, strlen(buf));
	char small[8];
	ck_assert_uint_eq(gpx_pipeline_describe(p, small, sizeof(small)), n);
	ck_assert_str_eq(small, "graysca");
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_set_appends_missing_filter_with_defaults_then_sets)
{
	gpx_step_spec steps[] = {{"grayscale", NULL, 0}};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, 1, &p, &st), 0);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.sigma", 4.5, &st), 0);
	ck_assert_uint_eq(gpx_pipeline_len(p), 2);
	ck_assert_double_eq(gpx_pipeline_step_values(p, 1)[0], 4.5);
	ck_assert_double_eq(gpx_pipeline_step_values(p, 1)[2], 0); /* reflect */
	/* again: sets the same step, appends nothing */
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.sigma", 2, &st), 0);
	ck_assert_uint_eq(gpx_pipeline_len(p), 2);
	ck_assert_double_eq(gpx_pipeline_step_values(p, 1)[0], 2);
	/* enum by index, bool by 0/1 */
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.border", 2, &st), 0);
	gpx_param_value v;
	gpx_pipeline_step_param(p, 1, 2, &v);
	ck_assert_str_eq(v.str, "wrap");
	ck_assert_int_eq(gpx_pipeline_set(p, "resize.keep_aspect", 0, &st), 0);
	ck_assert_uint_eq(gpx_pipeline_len(p), 3);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_set_rejects_bad_names_and_values_leaving_the_pipeline_unchanged)
{
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, NULL, 0, &p, &st), 0);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.sigma", 0, &st), -1);
	ck_assert_str_eq(st.msg, "parameter \"blur.sigma\" is 0, outside 0.1..50");
	ck_assert_uint_eq(gpx_pipeline_len(p), 0);
	ck_assert_int_eq(gpx_pipeline_set(p, "nope.sigma", 1, &st), -1);
	ck_assert_str_eq(st.msg, "unknown filter \"nope\"");
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.nope", 1, &st), -1);
	ck_assert_str_eq(st.msg, "unknown parameter \"blur.nope\"");
	ck_assert_int_eq(gpx_pipeline_set(p, "blur", 1, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.kernel_size", 4, &st), -1);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.border", 3, &st), -1);
	ck_assert_int_eq(gpx_pipeline_set(p, "resize.keep_aspect", 0.5, &st), -1);
	ck_assert_uint_eq(gpx_pipeline_len(p), 0);
	gpx_param_value s = STR("clamp");
	ck_assert_int_eq(gpx_pipeline_set_value(p, "box_blur.border", &s, &st), 0);
	ck_assert_double_eq(gpx_pipeline_step_values(p, 0)[1], 1);
	gpx_param_value bad = STR("x");
	ck_assert_int_eq(gpx_pipeline_set_value(p, "box_blur.border", &bad, &st), -1);
	ck_assert_double_eq(gpx_pipeline_step_values(p, 0)[1], 1);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_copy_is_independent)
{
	gpx_pipeline *p, *q;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, NULL, 0, &p, &st), 0);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.sigma", 3, &st), 0);
	ck_assert_int_eq(gpx_pipeline_copy(p, &q, &st), 0);
	ck_assert_int_eq(gpx_pipeline_set(p, "blur.sigma", 5, &st), 0);
	ck_assert_double_eq(gpx_pipeline_step_values(q, 0)[0], 3);
	ck_assert_int_eq(gpx_pipeline_set(q, "invert.x", 5, &st), -1);
	gpx_pipeline_free(p);
	gpx_pipeline_free(q);
}
END_TEST

START_TEST(test_plan_reports_output_geometry_and_pixel_limit)
{
	gpx_step_param rp[] = {{"width", NUM(100)}};
	gpx_step_spec steps[] = {{"grayscale", NULL, 0}, {"resize", rp, 1}, {"rotate", NULL, 0}};
	gpx_pipeline *p;
	gpx_status st;
	uint32_t w, h, ch;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, 3, &p, &st), 0);
	ck_assert_int_eq(gpx_pipeline_plan(p, 400, 200, 3, 0, &w, &h, &ch, &st), 0);
	ck_assert_uint_eq(w, 50);
	ck_assert_uint_eq(h, 100);
	ck_assert_uint_eq(ch, 1);
	ck_assert_int_eq(gpx_pipeline_plan(p, 400, 200, 3, 50000, &w, &h, &ch, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	gpx_pipeline_free(p);
}
END_TEST

typedef struct prog_log {
	int calls;
	int last_step;
	double last_frac;
	int monotonic;
	int step_ends;		    /* calls with fraction 1 */
	atomic_int *cancel_at_call; /* set this flag on call number cancel_after */
	int cancel_after;
} prog_log;

static void on_progress(void *ud, int step, const char *stage, double frac)
{
	prog_log *l = ud;
	ck_assert_ptr_nonnull(stage);
	if (step < l->last_step || (step == l->last_step && frac <= l->last_frac) || frac <= 0 ||
	    frac > 1)
		l->monotonic = 0;
	l->last_step = step;
	l->last_frac = frac;
	l->calls++;
	l->step_ends += frac == 1.0;
	if (l->cancel_at_call && l->calls == l->cancel_after)
		atomic_store(l->cancel_at_call, 1);
}

static gpx_pipeline *gray_blur(void)
{
	gpx_step_spec steps[] = {{"grayscale", NULL, 0}, {"blur", NULL, 0}};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, 2, &p, &st), 0);
	return p;
}

START_TEST(test_run_reports_monotonic_progress_per_band)
{
	gpx_pipeline *p = gray_blur();
	gpx_image in = fx_image(64, 100, 3, NULL), out;
	prog_log l = {.last_step = -1, .monotonic = 1};
	gpx_run_ctx ctx = {.progress = on_progress, .progress_ud = &l};
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), 0);
	ck_assert_int_eq(l.monotonic, 1);
	ck_assert_int_eq(l.step_ends, 2);
	ck_assert_int_ge(l.calls, 8);
	ck_assert_int_eq(l.last_step, 1);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_stops_with_canceled_when_flag_is_set)
{
	gpx_pipeline *p = gray_blur();
	gpx_image in = fx_image(64, 100, 3, NULL), out;
	atomic_int cancel = 1;
	gpx_run_ctx ctx = {.cancel = &cancel};
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), -1);
	ck_assert_int_eq(st.code, GPX_CANCELED);
	ck_assert_ptr_null(out.data);

	/* cancelled mid-run, after the third band */
	atomic_store(&cancel, 0);
	prog_log l = {
		.last_step = -1, .monotonic = 1, .cancel_at_call = &cancel, .cancel_after = 3};
	ctx.progress = on_progress;
	ctx.progress_ud = &l;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), -1);
	ck_assert_int_eq(st.code, GPX_CANCELED);
	ck_assert_int_eq(l.calls, 3);
	ck_assert_ptr_null(out.data);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_stops_with_deadline_exceeded)
{
	gpx_pipeline *p = gray_blur();
	gpx_image in = fx_image(64, 100, 3, NULL), out;
	gpx_run_ctx ctx = {.deadline = gpx_now_mono() - 0.001};
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), -1);
	ck_assert_int_eq(st.code, GPX_DEADLINE_EXCEEDED);
	ck_assert_ptr_null(out.data);
	ctx.deadline = gpx_now_mono() + 60;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), 0);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_refuses_outputs_over_max_pixels)
{
	gpx_step_param rp[] = {{"width", NUM(1000)}};
	gpx_step_spec steps[] = {{"resize", rp, 1}};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, 1, &p, &st), 0);
	gpx_image in = fx_image(10, 10, 1, NULL), out;
	gpx_run_ctx ctx = {.max_pixels = 999999};
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), -1);
	ck_assert_int_eq(st.code, GPX_RESOURCE_EXHAUSTED);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_empty_pipeline_copies_and_never_touches_input)
{
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, NULL, 0, &p, &st), 0);
	const uint8_t px[] = {1, 2, 3, 4, 5, 6};
	gpx_image in = fx_image(2, 1, 3, px), out;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, NULL, &st), 0);
	fx_expect(&out, 2, 1, 3, px);
	ck_assert_ptr_ne(out.data, in.data);
	gpx_image_free(&out);
	gpx_pipeline_free(p);

	p = gray_blur();
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, NULL, &st), 0);
	fx_expect(&in, 2, 1, 3, px);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

static void fill_noise(gpx_image *img, uint32_t seed)
{
	for (uint32_t y = 0; y < img->height; y++)
		for (size_t i = 0; i < (size_t)img->width * img->channels; i++) {
			seed = seed * 1103515245u + 12345u;
			gpx_image_row(img, y)[i] = (uint8_t)(seed >> 16);
		}
}

START_TEST(test_run_reuses_scratch_buffers_across_jobs)
{
	gpx_pipeline *p = gray_blur();
	gpx_scratch *pool;
	ck_assert_int_eq(gpx_scratch_create(0, 0, &pool), 0);
	gpx_image in = fx_image(300, 200, 3, NULL), out;
	fill_noise(&in, 7);
	gpx_run_ctx ctx = {.scratch = pool};
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), 0);
	gpx_scratch_image_release(pool, &out);
	gpx_scratch_stats s1, s2;
	gpx_scratch_get_stats(pool, &s1);
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, &ctx, &st), 0);
	gpx_scratch_get_stats(pool, &s2);
	ck_assert_uint_eq(s2.misses, s1.misses); /* nothing new allocated */
	ck_assert_uint_gt(s2.hits, s1.hits);
	gpx_scratch_image_release(pool, &out);
	gpx_scratch_destroy(pool);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_with_band_threads_gives_identical_output)
{
	gpx_step_param rp[] = {{"width", NUM(123)}, {"filter", STR("lanczos3")}};
	gpx_step_spec steps[] = {{"blur", NULL, 0}, {"sharpen", NULL, 0}, {"edge", NULL, 0},
				 {"resize", rp, 2}, {"rotate", NULL, 0},  {"box_blur", NULL, 0}};
	gpx_pipeline *p;
	gpx_status st;
	ck_assert_int_eq(gpx_pipeline_build(reg, steps, NPARAMS(steps), &p, &st), 0);
	gpx_image in = fx_image(257, 131, 4, NULL), a, b;
	fill_noise(&in, 99);
	gpx_bands *bands;
	ck_assert_int_eq(gpx_bands_create(3, &bands), 0);
	gpx_run_ctx ctx = {.bands = bands};
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &a, NULL, &st), 0);
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &b, &ctx, &st), 0);
	ck_assert_uint_eq(a.width, b.width);
	ck_assert_uint_eq(a.height, b.height);
	for (uint32_t y = 0; y < a.height; y++)
		ck_assert_mem_eq(gpx_image_row(&a, y), gpx_image_row(&b, y),
				 (size_t)a.width * a.channels);
	gpx_image_free(&a);
	gpx_image_free(&b);
	gpx_bands_destroy(bands);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
}
END_TEST

START_TEST(test_run_every_builtin_on_every_channel_count)
{
	size_t n;
	const gpx_filter_def *const *defs = gpx_filters_builtin(&n);
	uint32_t chans[] = {1, 3, 4};
	for (size_t i = 0; i < n; i++)
		for (int c = 0; c < 3; c++)
			for (uint32_t sz = 1; sz <= 5; sz += 4) {
				gpx_step_spec spec = {defs[i]->name, NULL, 0};
				gpx_pipeline *p;
				gpx_status st;
				ck_assert_int_eq(gpx_pipeline_build(reg, &spec, 1, &p, &st), 0);
				gpx_image in = fx_image(sz, sz + 1, chans[c], NULL), out;
				fill_noise(&in, (uint32_t)i);
				ck_assert_msg(gpx_pipeline_run(p, &in, &out, NULL, &st) == 0,
					      "%s on %u channels: %s", defs[i]->name, chans[c],
					      st.msg);
				gpx_image_free(&out);
				gpx_image_free(&in);
				gpx_pipeline_free(p);
			}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_build_rejects_unknown_filter);
	tcase_add_test(tc, test_build_rejects_unknown_parameter_naming_it);
	tcase_add_test(tc, test_build_rejects_wrong_types);
	tcase_add_test(tc, test_build_rejects_non_integers_for_integer_parameters);
	tcase_add_test(tc, test_build_rejects_out_of_range_values_with_the_range);
	tcase_add_test(tc, test_build_rejects_enum_values_not_in_options_listing_them);
	tcase_add_test(tc, test_build_rejects_even_kernel_size);
	tcase_add_test(tc, test_build_limits_pipeline_length);
	tcase_add_test(tc, test_build_fills_defaults_and_reads_back_typed_values);
	tcase_add_test(tc, test_set_appends_missing_filter_with_defaults_then_sets);
	tcase_add_test(tc, test_set_rejects_bad_names_and_values_leaving_the_pipeline_unchanged);
	tcase_add_test(tc, test_copy_is_independent);
	tcase_add_test(tc, test_plan_reports_output_geometry_and_pixel_limit);
	tcase_add_test(tc, test_run_reports_monotonic_progress_per_band);
	tcase_add_test(tc, test_run_stops_with_canceled_when_flag_is_set);
	tcase_add_test(tc, test_run_stops_with_deadline_exceeded);
	tcase_add_test(tc, test_run_refuses_outputs_over_max_pixels);
	tcase_add_test(tc, test_run_empty_pipeline_copies_and_never_touches_input);
	tcase_add_test(tc, test_run_reuses_scratch_buffers_across_jobs);
	tcase_add_test(tc, test_run_with_band_threads_gives_identical_output);
	tcase_add_test(tc, test_run_every_builtin_on_every_channel_count);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
