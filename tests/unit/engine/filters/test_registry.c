#include <math.h>

#include "fixtures.h"

static const char *const expected_names[] = {
	"grayscale", "blur",  "box_blur", "edge",   "sharpen", "invert", "brightness_contrast",
	"threshold", "sepia", "resize",	  "rotate", "flip",    "crop",
};

START_TEST(test_registry_lists_every_builtin_in_order)
{
	gpx_filter_registry *r;
	ck_assert_int_eq(gpx_filter_registry_create(&r), 0);
	size_t n;
	const gpx_filter_def *const *defs = gpx_filters_builtin(&n);
	ck_assert_uint_eq(n, NPARAMS(expected_names));
	ck_assert_uint_eq(gpx_filter_registry_count(r), n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(defs[i]->name, expected_names[i]);
		ck_assert_ptr_eq(gpx_filter_registry_at(r, i), defs[i]);
		ck_assert_ptr_eq(gpx_filter_registry_find(r, expected_names[i]), defs[i]);
	}
	ck_assert_ptr_null(gpx_filter_registry_at(r, n));
	ck_assert_ptr_null(gpx_filter_registry_find(r, "nope"));
	ck_assert_ptr_null(gpx_filter_registry_find(r, NULL));
	gpx_filter_registry_free(r);
}
END_TEST

START_TEST(test_builtin_metadata_is_complete_and_defaults_are_valid)
{
	size_t n;
	const gpx_filter_def *const *defs = gpx_filters_builtin(&n);
	for (size_t i = 0; i < n; i++) {
		const gpx_filter_def *d = defs[i];
		ck_assert_ptr_nonnull(d->display_name);
		ck_assert_ptr_nonnull(d->description);
		ck_assert_str_eq(d->backends, "cpu");
		ck_assert_str_eq(d->plugin, "");
		ck_assert_str_eq(d->version, "1");
		ck_assert_ptr_nonnull(d->cpu);
		ck_assert_uint_le(d->nparams, GPX_FILTER_MAX_PARAMS);
		for (size_t k = 0; k < d->nparams; k++) {
			const gpx_param_def *p = &d->params[k];
			ck_assert_ptr_nonnull(p->display_name);
			ck_assert_ptr_nonnull(p->description);
			ck_assert_int_eq(gpx_filter_param_index(d, p->name), (int)k);
			switch (p->type) {
			case GPX_PARAM_NUMBER:
			case GPX_PARAM_INTEGER:
				ck_assert(p->min <= p->def_num && p->def_num <= p->max);
				ck_assert(p->step > 0);
				ck_assert_ptr_null(p->options);
				break;
			case GPX_PARAM_BOOL: ck_assert_ptr_null(p->options); break;
			case GPX_PARAM_ENUM:
				ck_assert_uint_gt(gpx_param_noptions(p), 1);
				ck_assert_ptr_nonnull(p->def_enum);
				break;
			default: ck_abort_msg("bad type");
			}
		}
	}
	ck_assert_int_eq(GPX_PARAM_NUMBER, 1);
	ck_assert_int_eq(GPX_PARAM_INTEGER, 2);
	ck_assert_int_eq(GPX_PARAM_BOOL, 3);
	ck_assert_int_eq(GPX_PARAM_ENUM, 4);
}
END_TEST

static int plugin_plan(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h,
		       uint32_t *ch, gpx_status *st)
{
	*w = in->width;
	*h = in->height;
	*ch = in->channels;
	return 0;
}

static void plugin_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	uint8_t v = (uint8_t)a->params[0];
	for (uint32_t y = y0; y < y1; y++)
		memset(gpx_image_row(a->out, y), v, (size_t)a->out->width * a->out->channels);
}

static const gpx_filter_cpu plugin_cpu = {.plan = plugin_plan, .rows = plugin_rows};
static const gpx_param_def plugin_params[] = {
	{.name = "level",
	 .display_name = "Level",
	 .description = "fill value",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 9,
	 .min = 0,
	 .max = 255,
	 .step = 1},
};
static const gpx_filter_def plugin_def = {
	.name = "fill",
	.display_name = "Fill",
	.description = "test plugin",
	.params = plugin_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "test",
	.version = "0.1",
	.cpu = &plugin_cpu,
};

START_TEST(test_registry_adds_a_plugin_filter_usable_in_pipelines)
{
	gpx_filter_registry *r;
	gpx_status st;
	ck_assert_int_eq(gpx_filter_registry_create(&r), 0);
	ck_assert_int_eq(gpx_filter_registry_add(r, &plugin_def, &st), 0);
	ck_assert_int_eq(gpx_filter_registry_add(r, &plugin_def, &st), -1);
	ck_assert_int_eq(st.code, GPX_ALREADY_EXISTS);
	ck_assert_ptr_eq(gpx_filter_registry_find(r, "fill"), &plugin_def);

	gpx_step_spec spec = {"fill", NULL, 0};
	gpx_pipeline *p;
	ck_assert_int_eq(gpx_pipeline_build(r, &spec, 1, &p, &st), 0);
	gpx_image in = fx_image(3, 2, 1, NULL), out;
	ck_assert_int_eq(gpx_pipeline_run(p, &in, &out, NULL, &st), 0);
	const uint8_t want[] = {9, 9, 9, 9, 9, 9};
	fx_expect(&out, 3, 2, 1, want);
	gpx_image_free(&out);
	gpx_image_free(&in);
	gpx_pipeline_free(p);
	gpx_filter_registry_free(r);
}
END_TEST

START_TEST(test_registry_refuses_malformed_definitions)
{
	gpx_filter_registry *r;
	gpx_status st;
	ck_assert_int_eq(gpx_filter_registry_create(&r), 0);
	gpx_filter_def d = plugin_def;
	d.name = "Bad Name";
	ck_assert_int_eq(gpx_filter_registry_add(r, &d, &st), -1);
	d.name = "blur";
	ck_assert_int_eq(gpx_filter_registry_add(r, &d, &st), -1);
	ck_assert_int_eq(st.code, GPX_ALREADY_EXISTS);

	gpx_param_def bad = plugin_params[0];
	bad.def_num = 300; /* outside 0..255 */
	d = plugin_def;
	d.name = "fill2";
	d.params = &bad;
	ck_assert_int_eq(gpx_filter_registry_add(r, &d, &st), -1);
	ck_assert_int_eq(st.code, GPX_INVALID_ARGUMENT);

	static const char *const opts[] = {"a", "b", NULL};
	gpx_param_def e = {
		.name = "mode", .type = GPX_PARAM_ENUM, .def_enum = "c", .options = opts};
	d.params = &e;
	ck_assert_int_eq(gpx_filter_registry_add(r, &d, &st), -1);
	e.def_enum = "b";
	ck_assert_int_eq(gpx_filter_registry_add(r, &d, &st), 0);
	ck_assert_uint_eq(gpx_filter_registry_count(r), 14);
	gpx_filter_registry_free(r);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("registry");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_registry_lists_every_builtin_in_order);
	tcase_add_test(tc, test_builtin_metadata_is_complete_and_defaults_are_valid);
	tcase_add_test(tc, test_registry_adds_a_plugin_filter_usable_in_pipelines);
	tcase_add_test(tc, test_registry_refuses_malformed_definitions);
	suite_add_tcase(s, tc);
	return fx_main(s);
}
