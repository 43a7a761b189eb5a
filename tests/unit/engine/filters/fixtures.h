/* Helpers shared by the filter tests: tiny images from literals and
 * one-filter pipelines. */
#ifndef GPX_TEST_FILTER_FIXTURES_H
#define GPX_TEST_FILTER_FIXTURES_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "engine/filters/pipeline.h"

#define NUM(v) ((gpx_param_value){.kind = GPX_VALUE_NUMBER, .num = (v)})
#define BOOLV(v) ((gpx_param_value){.kind = GPX_VALUE_BOOL, .b = (v)})
#define STR(s) ((gpx_param_value){.kind = GPX_VALUE_STRING, .str = (s)})
#define NPARAMS(a) (sizeof(a) / sizeof((a)[0]))

/* An image whose rows are the packed pixels px (w*ch bytes per row);
 * the stride is padded so that row addressing is exercised. */
static inline gpx_image fx_image(uint32_t w, uint32_t h, uint32_t ch, const uint8_t *px)
{
	gpx_image img;
	ck_assert_int_eq(gpx_image_alloc(&img, w, h, ch), 0);
	for (uint32_t y = 0; y < h; y++) {
		memset(gpx_image_row(&img, y), 0xEE, img.stride);
		if (px)
			memcpy(gpx_image_row(&img, y), px + (size_t)y * w * ch, (size_t)w * ch);
	}
	return img;
}

static inline void fx_expect(const gpx_image *img, uint32_t w, uint32_t h, uint32_t ch,
			     const uint8_t *px)
{
	ck_assert_uint_eq(img->width, w);
	ck_assert_uint_eq(img->height, h);
	ck_assert_uint_eq(img->channels, ch);
	for (uint32_t y = 0; y < h; y++)
		for (uint32_t i = 0; i < w * ch; i++)
			ck_assert_msg(gpx_image_row(img, y)[i] == px[(size_t)y * w * ch + i],
				      "pixel byte %u of row %u: got %u, want %u", i, y,
				      gpx_image_row(img, y)[i], px[(size_t)y * w * ch + i]);
}

/* Runs one filter; returns gpx_pipeline_run's result (build must pass). */
static inline int fx_run1(const char *filter, const gpx_step_param *ps, size_t n,
			  const gpx_image *in, gpx_image *out, gpx_status *st)
{
	gpx_filter_registry *reg;
	gpx_pipeline *p;
	ck_assert_int_eq(gpx_filter_registry_create(&reg), 0);
	gpx_step_spec spec = {.filter = filter, .params = ps, .nparams = n};
	ck_assert_msg(gpx_pipeline_build(reg, &spec, 1, &p, st) == 0, "build: %s", st->msg);
	int rc = gpx_pipeline_run(p, in, out, NULL, st);
	gpx_pipeline_free(p);
	gpx_filter_registry_free(reg);
	return rc;
}

/* fx_run1 that must succeed and must match px. */
static inline void fx_check1(const char *filter, const gpx_step_param *ps, size_t n,
			     const gpx_image *in, uint32_t w, uint32_t h, uint32_t ch,
			     const uint8_t *px)
{
	gpx_image out;
	gpx_status st;
	ck_assert_msg(fx_run1(filter, ps, n, in, &out, &st) == 0, "run: %s", st.msg);
	fx_expect(&out, w, h, ch, px);
	gpx_image_free(&out);
}

static inline int fx_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
