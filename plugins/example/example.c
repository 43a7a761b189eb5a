/* The example gpix plugin: two filters, pixelate and vignette.
 *
 * This file is the template for plugin authors (docs/plugins.md). It uses
 * nothing from gpix but include/gpix/plugin.h. Build it as a shared object
 * exporting gpx_plugin_entry, drop it in --plugin-dir, and send gpixd a
 * SIGHUP (or start it): ListFilters shows the filters with plugin
 * "example", and pipelines use them like any built-in:
 *
 *     gpix process sample-coffee pixelate size=16 vignette strength=0.7
 *
 * The arithmetic is exact and written down next to each filter, as
 * docs/filters.md does for the built-ins: a backend or a test can then
 * reproduce it byte for byte. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "gpix/plugin.h"

#define EXAMPLE_VERSION "1.0.0"

/* Both filters keep the input geometry. */
static int plan_same(const double *params, const gpx_plugin_image *in, uint32_t *w, uint32_t *h,
		     uint32_t *ch, gpx_plugin_status *st)
{
	(void)params;
	(void)st;
	*w = in->width;
	*h = in->height;
	*ch = in->channels;
	return 0;
}

/* ---- pixelate ------------------------------------------------------------
 *
 * The image is cut into size x size blocks from the top-left corner (blocks
 * on the right and bottom edges may be smaller). Every channel of every
 * pixel of a block (alpha included) becomes the block's mean, rounded half
 * up in integers: (S + n/2) / n with S the sum and n the block's pixels. */

enum { PIX_SIZE };

static const gpx_plugin_param pixelate_params[] = {
	[PIX_SIZE] = {.name = "size",
		      .display_name = "Block size",
		      .description = "Width and height of a block, in pixels",
		      .type = GPX_PLUGIN_PARAM_INTEGER,
		      .def_num = 8,
		      .min = 2,
		      .max = 256,
		      .step = 1},
};

static uint32_t blocks_across(const gpx_plugin_image *in, uint32_t size)
{
	return (in->width + size - 1) / size;
}

/* One uint32_t sum per block and channel of a block row. */
static size_t pixelate_scratch(const double *params, const gpx_plugin_image *in,
			       const gpx_plugin_image *out)
{
	(void)out;
	return (size_t)blocks_across(in, (uint32_t)params[PIX_SIZE]) * in->channels *
	       sizeof(uint32_t);
}

/* Means of block row `by`, into sums (overwritten with the means). */
static void block_row_means(const gpx_plugin_image *in, uint32_t size, uint32_t by, uint32_t *sums)
{
	uint32_t ch = in->channels, nbx = blocks_across(in, size);
	uint32_t y0 = by * size, y1 = y0 + size < in->height ? y0 + size : in->height;
	memset(sums, 0, (size_t)nbx * ch * sizeof(*sums));
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *row = in->data + (size_t)y * in->stride;
		for (uint32_t x = 0; x < in->width; x++)
			for (uint32_t c = 0; c < ch; c++)
				sums[(x / size) * ch + c] += row[(size_t)x * ch + c];
	}
	for (uint32_t bx = 0; bx < nbx; bx++) {
		uint32_t bw = (bx + 1) * size <= in->width ? size : in->width - bx * size;
		uint32_t n = bw * (y1 - y0);
		for (uint32_t c = 0; c < ch; c++)
			sums[bx * ch + c] = (sums[bx * ch + c] + n / 2) / n;
	}
}

static void pixelate_rows(const gpx_plugin_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_plugin_image *in = a->in;
	uint32_t size = (uint32_t)a->params[PIX_SIZE], ch = in->channels;
	uint32_t *means = scratch;
	uint32_t have = UINT32_MAX; /* block row whose means are in scratch */
	for (uint32_t y = y0; y < y1; y++) {
		if (y / size != have) {
			have = y / size;
			block_row_means(in, size, have, means);
		}
		uint8_t *d = a->out->data + (size_t)y * a->out->stride;
		for (uint32_t x = 0; x < in->width; x++)
			for (uint32_t c = 0; c < ch; c++)
				d[(size_t)x * ch + c] = (uint8_t)means[(x / size) * ch + c];
	}
}

static const gpx_plugin_filter_cpu pixelate_cpu = {
	.plan = plan_same,
	.scratch_size = pixelate_scratch,
	.rows = pixelate_rows,
};

/* ---- vignette ------------------------------------------------------------
 *
 * Darkens the color channels toward the edges; alpha is kept. In float,
 * with cx = W/2, cy = H/2, dx = x + 0.5 - cx, dy = y + 0.5 - cy:
 *
 *   ellipse: nx = 2*cx*cx,      ny = 2*cy*cy
 *   circle:  nx = ny = cx*cx + cy*cy
 *   d   = sqrt(dx*dx/nx + dy*dy/ny)         (0 at the center, 1 in the corners)
 *   t   = clamp((d - radius) / (1 - radius), 0, 1)
 *   f   = 1 - strength * (t*t*(3 - 2t))
 *   out = round(P * f)
 *
 * so nothing within `radius` of the center changes. prepare() keeps the
 * dx*dx/nx column terms; rows() adds the row's term. */

enum { VIG_STRENGTH, VIG_RADIUS, VIG_SHAPE };
enum { SHAPE_ELLIPSE, SHAPE_CIRCLE };
static const char *const vignette_shapes[] = {"ellipse", "circle", NULL};

static const gpx_plugin_param vignette_params[] = {
	[VIG_STRENGTH] = {.name = "strength",
			  .display_name = "Strength",
			  .description = "How dark the corners get: 0 none, 1 black",
			  .type = GPX_PLUGIN_PARAM_NUMBER,
			  .def_num = 0.5,
			  .min = 0,
			  .max = 1,
			  .step = 0.01},
	[VIG_RADIUS] = {.name = "radius",
			.display_name = "Radius",
			.description = "Distance from the center where darkening starts (0..1)",
			.type = GPX_PLUGIN_PARAM_NUMBER,
			.def_num = 0.5,
			.min = 0,
			.max = 0.95,
			.step = 0.01},
	[VIG_SHAPE] = {.name = "shape",
		       .display_name = "Shape",
		       .description = "ellipse fits the image; circle keeps it round",
		       .type = GPX_PLUGIN_PARAM_ENUM,
		       .def_enum = "ellipse",
		       .options = vignette_shapes},
};

/* Per column: the squared, scaled x term of d^2 (see above). */
static size_t vignette_state_size(const double *params, const gpx_plugin_image *in,
				  const gpx_plugin_image *out)
{
	(void)params;
	(void)out;
	return (size_t)in->width * sizeof(float);
}

static void vignette_prepare(const double *params, const gpx_plugin_image *in,
			     const gpx_plugin_image *out, void *state)
{
	(void)out;
	float *xs = state;
	float cx = (float)in->width / 2.0f, cy = (float)in->height / 2.0f;
	float norm = (int)params[VIG_SHAPE] == SHAPE_CIRCLE ? cx * cx + cy * cy : 2.0f * cx * cx;
	for (uint32_t x = 0; x < in->width; x++) {
		float dx = (float)x + 0.5f - cx;
		xs[x] = dx * dx / norm;
	}
}

static uint8_t scale(uint8_t p, float f)
{
	int32_t v = (int32_t)((float)p * f + 0.5f);
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void vignette_rows(const gpx_plugin_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	(void)scratch;
	const gpx_plugin_image *in = a->in;
	const float *xs = a->state;
	float strength = (float)a->params[VIG_STRENGTH], radius = (float)a->params[VIG_RADIUS];
	int circle = (int)a->params[VIG_SHAPE] == SHAPE_CIRCLE;
	float cx = (float)in->width / 2.0f, cy = (float)in->height / 2.0f;
	float ynorm = circle ? cx * cx + cy * cy : 2.0f * cy * cy;
	uint32_t ch = in->channels, color = ch == 4 ? 3 : ch;
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *s = in->data + (size_t)y * in->stride;
		uint8_t *d = a->out->data + (size_t)y * a->out->stride;
		float dy = (float)y + 0.5f - cy;
		float yterm = dy * dy / ynorm;
		for (uint32_t x = 0; x < in->width; x++) {
			float dist = sqrtf(xs[x] + yterm);
			float t = (dist - radius) / (1.0f - radius);
			t = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t;
			float f = 1.0f - strength * (t * t * (3.0f - 2.0f * t));
			const uint8_t *sp = s + (size_t)x * ch;
			uint8_t *dp = d + (size_t)x * ch;
			for (uint32_t c = 0; c < color; c++)
				dp[c] = scale(sp[c], f);
			if (ch == 4)
				dp[3] = sp[3];
		}
	}
}

static const gpx_plugin_filter_cpu vignette_cpu = {
	.plan = plan_same,
	.state_size = vignette_state_size,
	.prepare = vignette_prepare,
	.rows = vignette_rows,
};

/* ---- the descriptor ----------------------------------------------------- */

static const gpx_plugin_filter example_filters[] = {
	{
		.name = "pixelate",
		.display_name = "Pixelate",
		.description = "Replaces each block of pixels with its average color",
		.params = pixelate_params,
		.nparams = sizeof(pixelate_params) / sizeof(pixelate_params[0]),
		.cpu = &pixelate_cpu,
	},
	{
		.name = "vignette",
		.display_name = "Vignette",
		.description = "Darkens the image toward its edges",
		.params = vignette_params,
		.nparams = sizeof(vignette_params) / sizeof(vignette_params[0]),
		.cpu = &vignette_cpu,
	},
};

static const gpx_plugin_descriptor example_descriptor = {
	.abi_version = GPX_PLUGIN_ABI_VERSION,
	.struct_size = sizeof(gpx_plugin_descriptor),
	.name = "example",
	.version = EXAMPLE_VERSION,
	.description = "Example filters: pixelate and vignette (the plugin template)",
	.filters = example_filters,
	.nfilters = sizeof(example_filters) / sizeof(example_filters[0]),
};

GPX_PLUGIN_EXPORT const gpx_plugin_descriptor *gpx_plugin_entry(uint32_t host_abi_version)
{
	/* A plugin built for one ABI version declines the others; the host
	 * logs it and goes on. */
	return host_abi_version == GPX_PLUGIN_ABI_VERSION ? &example_descriptor : NULL;
}
