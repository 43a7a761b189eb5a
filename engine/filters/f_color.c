/* Per-pixel filters: grayscale, invert, brightness_contrast, threshold,
 * sepia. Exact definitions: docs/filters.md. */
#include <math.h>
#include <string.h>

#include "engine/filters/internal.h"

int gpx_plan_same(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h, uint32_t *ch,
		  gpx_status *st)
{
	*w = in->width;
	*h = in->height;
	*ch = in->channels;
	return 0;
}

int gpx_plan_gray(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h, uint32_t *ch,
		  gpx_status *st)
{
	*w = in->width;
	*h = in->height;
	*ch = in->channels == 4 ? 4 : 1;
	return 0;
}

/* ---- luma --------------------------------------------------------------- */

GPX_HOT static void luma_rgb(const uint8_t *restrict s, uint8_t *restrict d, size_t n, uint32_t wr,
			     uint32_t wg, uint32_t wb)
{
	for (size_t x = 0; x < n; x++)
		d[x] = (uint8_t)((wr * s[3 * x] + wg * s[3 * x + 1] + wb * s[3 * x + 2] + 32768u) >>
				 16);
}

GPX_HOT static void luma_rgba(const uint8_t *restrict s, uint8_t *restrict d, size_t n, uint32_t wr,
			      uint32_t wg, uint32_t wb)
{
	for (size_t x = 0; x < n; x++)
		d[x] = (uint8_t)((wr * s[4 * x] + wg * s[4 * x + 1] + wb * s[4 * x + 2] + 32768u) >>
				 16);
}

void gpx_luma_row(const uint8_t *restrict src, uint32_t channels, uint8_t *restrict dst,
		  uint32_t width)
{
	if (channels == 1)
		memcpy(dst, src, width);
	else if (channels == 3)
		luma_rgb(src, dst, width, GPX_Y601_R, GPX_Y601_G, GPX_Y601_B);
	else
		luma_rgba(src, dst, width, GPX_Y601_R, GPX_Y601_G, GPX_Y601_B);
}

GPX_HOT static void gray_to_rgba(const uint8_t *restrict g, uint8_t *restrict d,
				 const uint8_t *restrict s, size_t n)
{
	for (size_t x = 0; x < n; x++) {
		d[4 * x] = g[x];
		d[4 * x + 1] = g[x];
		d[4 * x + 2] = g[x];
		d[4 * x + 3] = s[4 * x + 3];
	}
}

void gpx_put_gray_row(const uint8_t *restrict gray, uint8_t *restrict dst, uint32_t out_channels,
		      const uint8_t *restrict src_rgba, uint32_t width)
{
	if (out_channels == 1)
		memcpy(dst, gray, width);
	else
		gray_to_rgba(gray, dst, src_rgba, width);
}

/* ---- grayscale ---------------------------------------------------------- */

enum { GRAY_BT601, GRAY_BT709, GRAY_AVERAGE, GRAY_LIGHTNESS, GRAY_LUMINOSITY };
static const char *const gray_algorithms[] = {"bt601",	   "bt709",	 "average",
					      "lightness", "luminosity", NULL};

GPX_HOT static void gray_avg(const uint8_t *restrict s, size_t ch, uint8_t *restrict d, size_t n)
{
	/* round(S/3) == (S+1)/3 == ((S+1)*21846)>>16 for S+1 <= 766 */
	if (ch == 3) {
		for (size_t x = 0; x < n; x++)
			d[x] = (uint8_t)(((uint32_t)s[3 * x] + s[3 * x + 1] + s[3 * x + 2] + 1u) *
						 21846u >>
					 16);
	} else {
		for (size_t x = 0; x < n; x++)
			d[x] = (uint8_t)(((uint32_t)s[4 * x] + s[4 * x + 1] + s[4 * x + 2] + 1u) *
						 21846u >>
					 16);
	}
}

static inline __attribute__((always_inline)) void
lightness_n(const uint8_t *restrict s, uint8_t *restrict d, size_t n, size_t ch)
{
	for (size_t x = 0; x < n; x++) {
		uint32_t r = s[ch * x], g = s[ch * x + 1], b = s[ch * x + 2];
		uint32_t mx = r > g ? r : g, mn = r < g ? r : g;
		mx = mx > b ? mx : b;
		mn = mn < b ? mn : b;
		d[x] = (uint8_t)((mx + mn + 1u) >> 1);
	}
}

GPX_HOT static void gray_lightness(const uint8_t *restrict s, size_t ch, uint8_t *restrict d,
				   size_t n)
{
	if (ch == 3)
		lightness_n(s, d, n, 3);
	else
		lightness_n(s, d, n, 4);
}

static void grayscale_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	uint32_t ch = in->channels, w = in->width, oc = a->out->channels;
	int alg = (int)a->params[0];
	uint8_t *tmp = scratch;
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *s = gpx_image_row(in, y);
		uint8_t *d = gpx_image_row(a->out, y);
		uint8_t *g = oc == 1 ? d : tmp;
		if (ch == 1) {
			memcpy(d, s, w);
			continue;
		}
		switch (alg) {
		case GRAY_BT709:
			if (ch == 3)
				luma_rgb(s, g, w, 13933, 46871, 4732);
			else
				luma_rgba(s, g, w, 13933, 46871, 4732);
			break;
		case GRAY_LUMINOSITY:
			if (ch == 3)
				luma_rgb(s, g, w, 13763, 47186, 4587);
			else
				luma_rgba(s, g, w, 13763, 47186, 4587);
			break;
		case GRAY_AVERAGE: gray_avg(s, ch, g, w); break;
		case GRAY_LIGHTNESS: gray_lightness(s, ch, g, w); break;
		default: gpx_luma_row(s, ch, g, w);
		}
		if (oc == 4)
			gray_to_rgba(g, d, s, w);
	}
}

static size_t gray_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	return out->channels == 4 ? in->width : 0;
}

static const gpx_param_def grayscale_params[] = {
	{.name = "algorithm",
	 .display_name = "Algorithm",
	 .description =
		 "Luma weights: bt601 (0.299, 0.587, 0.114), bt709 (0.2126, 0.7152, "
		 "0.0722), average, lightness ((max+min)/2) or luminosity (0.21, 0.72, 0.07)",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "bt601",
	 .options = gray_algorithms},
};

static const gpx_filter_cpu grayscale_cpu = {
	.plan = gpx_plan_gray, .scratch_size = gray_scratch, .rows = grayscale_rows};

const gpx_filter_def gpx_fdef_grayscale = {
	.name = "grayscale",
	.display_name = "Grayscale",
	.description = "Converts to gray. RGB gives a 1-channel image; RGBA keeps its alpha "
		       "with R=G=B=gray.",
	.params = grayscale_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &grayscale_cpu,
};

/* ---- invert ------------------------------------------------------------- */

GPX_HOT static void invert_row(const uint8_t *restrict s, uint8_t *restrict d, size_t n, size_t ch)
{
	if (ch == 4) {
		for (size_t x = 0; x < n; x++) {
			d[4 * x] = (uint8_t)(255 - s[4 * x]);
			d[4 * x + 1] = (uint8_t)(255 - s[4 * x + 1]);
			d[4 * x + 2] = (uint8_t)(255 - s[4 * x + 2]);
			d[4 * x + 3] = s[4 * x + 3];
		}
	} else {
		for (size_t i = 0; i < n * ch; i++)
			d[i] = (uint8_t)(255 - s[i]);
	}
}

static void invert_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	for (uint32_t y = y0; y < y1; y++)
		invert_row(gpx_image_row(a->in, y), gpx_image_row(a->out, y), a->in->width,
			   a->in->channels);
}

static const gpx_filter_cpu invert_cpu = {.plan = gpx_plan_same, .rows = invert_rows};

const gpx_filter_def gpx_fdef_invert = {
	.name = "invert",
	.display_name = "Invert",
	.description = "Negative: every color channel becomes 255 - value; alpha is kept.",
	.params = NULL,
	.nparams = 0,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &invert_cpu,
};

/* ---- lookup-table filters ----------------------------------------------- */

/* Applies a 256-entry table to the color channels; alpha is kept. */
GPX_HOT static void lut_row(const uint8_t *restrict s, uint8_t *restrict d, size_t n, size_t ch,
			    const uint8_t *restrict lut)
{
	if (ch == 4) {
		for (size_t x = 0; x < n; x++) {
			d[4 * x] = lut[s[4 * x]];
			d[4 * x + 1] = lut[s[4 * x + 1]];
			d[4 * x + 2] = lut[s[4 * x + 2]];
			d[4 * x + 3] = s[4 * x + 3];
		}
	} else {
		for (size_t i = 0; i < n * ch; i++)
			d[i] = lut[s[i]];
	}
}

static void lut_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	for (uint32_t y = y0; y < y1; y++)
		lut_row(gpx_image_row(a->in, y), gpx_image_row(a->out, y), a->in->width,
			a->in->channels, a->state);
}

static size_t lut_state_size(const double *params, const gpx_image *in, const gpx_image *out)
{
	return 256;
}

static uint8_t round_clamp_d(double v)
{
	v = floor(v + 0.5);
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void bc_prepare(const double *params, const gpx_image *in, const gpx_image *out, void *state)
{
	uint8_t *lut = state;
	/* x*255/100, not x*2.55: 2.55 is not a double, 25.5 must stay 25.5 */
	double c = params[1] * 255.0 / 100.0, b = params[0] * 255.0 / 100.0;
	double f = 259.0 * (c + 255.0) / (255.0 * (259.0 - c));
	for (int p = 0; p < 256; p++)
		lut[p] = round_clamp_d(f * (p - 128.0) + 128.0 + b);
}

static const gpx_param_def bc_params[] = {
	{.name = "brightness",
	 .display_name = "Brightness",
	 .description = "Added to every channel, in percent of full scale",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 0,
	 .min = -100,
	 .max = 100,
	 .step = 1},
	{.name = "contrast",
	 .display_name = "Contrast",
	 .description = "Stretch (positive) or squeeze (negative) around mid-gray",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 0,
	 .min = -100,
	 .max = 100,
	 .step = 1},
};

static const gpx_filter_cpu bc_cpu = {.plan = gpx_plan_same,
				      .state_size = lut_state_size,
				      .prepare = bc_prepare,
				      .rows = lut_rows};

const gpx_filter_def gpx_fdef_brightness_contrast = {
	.name = "brightness_contrast",
	.display_name = "Brightness / contrast",
	.description = "Linear tone adjustment of the color channels; alpha is kept.",
	.params = bc_params,
	.nparams = 2,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &bc_cpu,
};

/* ---- threshold ---------------------------------------------------------- */

GPX_HOT static void threshold_row(uint8_t *restrict g, size_t n, uint32_t t)
{
	for (size_t x = 0; x < n; x++)
		g[x] = g[x] >= t ? 255 : 0;
}

static void threshold_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	uint32_t w = a->in->width, oc = a->out->channels;
	uint32_t t = (uint32_t)a->params[0];
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *s = gpx_image_row(a->in, y);
		uint8_t *d = gpx_image_row(a->out, y);
		uint8_t *g = oc == 1 ? d : scratch;
		gpx_luma_row(s, a->in->channels, g, w);
		threshold_row(g, w, t);
		if (oc == 4)
			gray_to_rgba(g, d, s, w);
	}
}

static const gpx_param_def threshold_params[] = {
	{.name = "value",
	 .display_name = "Threshold",
	 .description = "Pixels whose BT.601 luma is at least this become white, others black",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 128,
	 .min = 0,
	 .max = 255,
	 .step = 1},
};

static const gpx_filter_cpu threshold_cpu = {
	.plan = gpx_plan_gray, .scratch_size = gray_scratch, .rows = threshold_rows};

const gpx_filter_def gpx_fdef_threshold = {
	.name = "threshold",
	.display_name = "Threshold",
	.description = "Black and white by luma. RGB gives a 1-channel image; RGBA keeps its "
		       "alpha.",
	.params = threshold_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &threshold_cpu,
};

/* ---- sepia -------------------------------------------------------------- */

static int plan_sepia(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h,
		      uint32_t *ch, gpx_status *st)
{
	*w = in->width;
	*h = in->height;
	*ch = in->channels == 4 ? 4 : 3;
	return 0;
}

/* One channel: p + k*(sepia - p), rounded, clamped. */
static inline __attribute__((always_inline)) uint8_t sepia_mix(float p, float sp, float k)
{
	return gpx_f2u8(p + k * (sp - p));
}

static inline __attribute__((always_inline)) void
sepia_n(const uint8_t *restrict s, size_t ic, uint8_t *restrict d, size_t oc, size_t n, float k)
{
	for (size_t x = 0; x < n; x++) {
		float r = (float)s[ic * x];
		float g = ic == 1 ? r : (float)s[ic * x + 1];
		float b = ic == 1 ? r : (float)s[ic * x + 2];
		d[oc * x] = sepia_mix(r, 0.393f * r + 0.769f * g + 0.189f * b, k);
		d[oc * x + 1] = sepia_mix(g, 0.349f * r + 0.686f * g + 0.168f * b, k);
		d[oc * x + 2] = sepia_mix(b, 0.272f * r + 0.534f * g + 0.131f * b, k);
		if (oc == 4)
			d[oc * x + 3] = s[ic * x + 3];
	}
}

GPX_HOT static void sepia_row(const uint8_t *restrict s, size_t ic, uint8_t *restrict d, size_t oc,
			      size_t n, float k)
{
	if (ic == 1)
		sepia_n(s, 1, d, 3, n, k);
	else if (ic == 3)
		sepia_n(s, 3, d, 3, n, k);
	else
		sepia_n(s, 4, d, 4, n, k);
}

static void sepia_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	float k = (float)a->params[0];
	for (uint32_t y = y0; y < y1; y++)
		sepia_row(gpx_image_row(a->in, y), a->in->channels, gpx_image_row(a->out, y),
			  a->out->channels, a->in->width, k);
}

static const gpx_param_def sepia_params[] = {
	{.name = "intensity",
	 .display_name = "Intensity",
	 .description = "0 keeps the image, 1 is full sepia",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 1,
	 .min = 0,
	 .max = 1,
	 .step = 0.01},
};

static const gpx_filter_cpu sepia_cpu = {.plan = plan_sepia, .rows = sepia_rows};

const gpx_filter_def gpx_fdef_sepia = {
	.name = "sepia",
	.display_name = "Sepia",
	.description = "Warm brown tone. Gray input gives RGB; RGBA keeps its alpha.",
	.params = sepia_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &sepia_cpu,
};
