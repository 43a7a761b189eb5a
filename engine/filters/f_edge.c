/* edge: Sobel gradient magnitude of the BT.601 luma. docs/filters.md. */
#include <string.h>

#include "engine/filters/internal.h"

/* Three luma rows padded by one pixel each side (clamp), the gray output
 * row, then room for RGBA expansion. */
static size_t edge_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	return 4 * GPX_ALIGN_UP((size_t)in->width + 2);
}

static void luma_padded(const gpx_image *in, uint32_t y, uint8_t *row)
{
	uint32_t W = in->width;
	gpx_luma_row(gpx_image_row(in, y), in->channels, row + 1, W);
	row[0] = row[1];
	row[W + 1] = row[W];
}

GPX_HOT static void sobel_row(const uint8_t *restrict t, const uint8_t *restrict m,
			      const uint8_t *restrict b, uint8_t *restrict d, size_t n, int32_t thr)
{
	for (size_t x = 0; x < n; x++) {
		int32_t gx = ((int32_t)t[x + 2] + 2 * m[x + 2] + b[x + 2]) -
			     ((int32_t)t[x] + 2 * m[x] + b[x]);
		int32_t gy = ((int32_t)b[x] + 2 * b[x + 1] + b[x + 2]) -
			     ((int32_t)t[x] + 2 * t[x + 1] + t[x + 2]);
		/* min(255, round(sqrt(s))) without sqrt: the largest k <= 255
		 * with k(k-1) < s (sqrt(s) is never exactly k - 1/2). Integer
		 * only: exact, and it vectorizes (sqrtf would not, for errno). */
		int32_t sq = gx * gx + gy * gy;
		int32_t mag = 0, c;
#define SOBEL_STEP(bit) (c = mag + (bit), mag = c * (c - 1) < sq ? c : mag)
		SOBEL_STEP(128);
		SOBEL_STEP(64);
		SOBEL_STEP(32);
		SOBEL_STEP(16);
		SOBEL_STEP(8);
		SOBEL_STEP(4);
		SOBEL_STEP(2);
		SOBEL_STEP(1);
#undef SOBEL_STEP
		int32_t bin = mag >= thr ? 255 : 0;
		d[x] = (uint8_t)(thr > 0 ? bin : mag);
	}
}

static void edge_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	uint32_t W = in->width, H = in->height, oc = a->out->channels;
	size_t rs = GPX_ALIGN_UP((size_t)W + 2);
	uint8_t *ring[3] = {scratch, (uint8_t *)scratch + rs, (uint8_t *)scratch + 2 * rs};
	uint8_t *gray = (uint8_t *)scratch + 3 * rs;
	int32_t thr = (int32_t)a->params[0];

	luma_padded(in, (uint32_t)gpx_border_index((int64_t)y0 - 1, H, GPX_BORDER_CLAMP), ring[0]);
	luma_padded(in, y0, ring[1]);
	for (uint32_t y = y0; y < y1; y++) {
		luma_padded(in, (uint32_t)gpx_border_index((int64_t)y + 1, H, GPX_BORDER_CLAMP),
			    ring[2]);
		uint8_t *d = gpx_image_row(a->out, y);
		sobel_row(ring[0], ring[1], ring[2], oc == 1 ? d : gray, W, thr);
		if (oc == 4)
			gpx_put_gray_row(gray, d, 4, gpx_image_row(in, y), W);
		uint8_t *t = ring[0];
		ring[0] = ring[1];
		ring[1] = ring[2];
		ring[2] = t;
	}
}

static const gpx_param_def edge_params[] = {
	{.name = "threshold",
	 .display_name = "Threshold",
	 .description = "0 gives the gradient magnitude; above 0, magnitudes at least this "
			"become white and the rest black",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = 255,
	 .step = 1},
};

static const gpx_filter_cpu edge_cpu = {
	.plan = gpx_plan_gray, .scratch_size = edge_scratch, .rows = edge_rows};

const gpx_filter_def gpx_fdef_edge = {
	.name = "edge",
	.display_name = "Edge detect",
	.description = "Sobel gradient magnitude of the luma. RGB gives a 1-channel image; RGBA "
		       "keeps its alpha.",
	.params = edge_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &edge_cpu,
};
