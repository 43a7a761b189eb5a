/* Neighbourhood filters: blur (Gaussian), box_blur, sharpen (unsharp mask).
 * Exact definitions: docs/filters.md.
 *
 * The Gaussian runs vertical-first, one output row at a time: the 2r+1
 * input rows are combined into a float row (padded by r pixels on each
 * side using the border rule), then the horizontal pass reads that padded
 * row. No pixel is computed twice, no per-pixel border branch, and the
 * working set is a few rows, which stays in L1/L2 for any band size. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "engine/filters/internal.h"

const char *const gpx_border_options[] = {"reflect", "clamp", "wrap", NULL};

/* Elements per inner block: the accumulators stay in L1. */
#define CONV_BLK 512u

uint32_t gpx_gauss_ksize(double sigma, double kernel_size)
{
	if (kernel_size > 0)
		return (uint32_t)kernel_size;
	return 2u * (uint32_t)ceil(3.0 * sigma) + 1u;
}

void gpx_gauss_kernel(double sigma, uint32_t ksize, float *w)
{
	double tmp[512];
	double sum = 0.0;
	int r = (int)ksize / 2;
	for (int i = 0; i < (int)ksize; i++) {
		double d = (double)(i - r);
		tmp[i] = exp(-(d * d) / (2.0 * sigma * sigma));
		sum += tmp[i];
	}
	for (uint32_t i = 0; i < ksize; i++)
		w[i] = (float)(tmp[i] / sum);
}

size_t gpx_conv_scratch_size(const gpx_image *in, uint32_t ksize)
{
	size_t padded = ((size_t)in->width + ksize) * in->channels;
	return GPX_ALIGN_UP(padded * sizeof(float)) + GPX_ALIGN_UP(CONV_BLK * sizeof(float)) +
	       GPX_ALIGN_UP(ksize * sizeof(const uint8_t *));
}

/* The inner loops, as functions so that their restrict parameters hold. */
static inline __attribute__((always_inline)) void
mul_u8(float *restrict a, const uint8_t *restrict c, float w, size_t m)
{
	for (size_t j = 0; j < m; j++)
		a[j] = w * (float)c[j];
}

static inline __attribute__((always_inline)) void
mac2_u8(float *restrict a, const uint8_t *restrict p, const uint8_t *restrict q, float w, size_t m)
{
	for (size_t j = 0; j < m; j++)
		a[j] += w * (float)(int32_t)((uint32_t)p[j] + q[j]);
}

static inline __attribute__((always_inline)) void mul_f(float *restrict a, const float *restrict c,
							float w, size_t m)
{
	for (size_t j = 0; j < m; j++)
		a[j] = w * c[j];
}

static inline __attribute__((always_inline)) void mac2_f(float *restrict a, const float *restrict p,
							 const float *restrict q, float w, size_t m)
{
	for (size_t j = 0; j < m; j++)
		a[j] += w * (p[j] + q[j]);
}

static inline __attribute__((always_inline)) void round_u8(uint8_t *restrict d,
							   const float *restrict a, size_t m)
{
	for (size_t j = 0; j < m; j++) {
		int32_t i = (int32_t)(a[j] + 0.5f);
		i = i < 0 ? 0 : i;
		d[j] = (uint8_t)(i > 255 ? 255 : i);
	}
}

/* out[j] = w[r]*c[j] + sum_{k<r} w[k]*(rows[k][j] + rows[2r-k][j]) */
GPX_HOT static void conv_vert(const uint8_t *const *rows, const float *w, size_t r, float *out,
			      size_t n)
{
	for (size_t j0 = 0; j0 < n; j0 += CONV_BLK) {
		size_t m = n - j0 < CONV_BLK ? n - j0 : CONV_BLK;
		mul_u8(out + j0, rows[r] + j0, w[r], m);
		for (size_t k = 0; k < r; k++)
			mac2_u8(out + j0, rows[k] + j0, rows[2 * r - k] + j0, w[k], m);
	}
}

/* dst[j] = round(w[r]*vp[j+r*ch] + sum_{k<r} w[k]*(vp[j+k*ch] + vp[j+(2r-k)*ch])) */
GPX_HOT static void conv_horiz(const float *vp, const float *w, size_t r, size_t ch, uint8_t *dst,
			       size_t n, float *acc)
{
	for (size_t j0 = 0; j0 < n; j0 += CONV_BLK) {
		size_t m = n - j0 < CONV_BLK ? n - j0 : CONV_BLK;
		mul_f(acc, vp + j0 + r * ch, w[r], m);
		for (size_t k = 0; k < r; k++)
			mac2_f(acc, vp + j0 + k * ch, vp + j0 + (2 * r - k) * ch, w[k], m);
		round_u8(dst + j0, acc, m);
	}
}

void gpx_conv_row(const gpx_image *in, uint32_t y, const float *w, uint32_t ksize, int border,
		  uint8_t *dst, void *scratch)
{
	uint32_t W = in->width, ch = in->channels, r = ksize / 2;
	uint32_t n = W * ch;
	size_t padded = ((size_t)W + ksize) * ch;
	float *vp = scratch;
	float *acc = (float *)((uint8_t *)scratch + GPX_ALIGN_UP(padded * sizeof(float)));
	const uint8_t **rows =
		(const uint8_t **)((uint8_t *)acc + GPX_ALIGN_UP(CONV_BLK * sizeof(float)));

	for (uint32_t k = 0; k < ksize; k++)
		rows[k] = gpx_image_row(
			in, (uint32_t)gpx_border_index((int64_t)y + k - r, in->height, border));
	float *vc = vp + (size_t)r * ch;
	conv_vert(rows, w, r, vc, n);
	for (uint32_t i = 1; i <= r; i++) {
		int32_t l = gpx_border_index(-(int64_t)i, W, border);
		int32_t rr = gpx_border_index((int64_t)W - 1 + i, W, border);
		memcpy(vc - (size_t)i * ch, vc + (size_t)l * ch, ch * sizeof(float));
		memcpy(vc + ((size_t)W - 1 + i) * ch, vc + (size_t)rr * ch, ch * sizeof(float));
	}
	conv_horiz(vp, w, r, ch, dst, n, acc);
}

/* ---- blur --------------------------------------------------------------- */

enum { BLUR_SIGMA, BLUR_KSIZE, BLUR_BORDER };

static size_t blur_state_size(const double *params, const gpx_image *in, const gpx_image *out)
{
	return gpx_gauss_ksize(params[BLUR_SIGMA], params[BLUR_KSIZE]) * sizeof(float);
}

static void blur_prepare(const double *params, const gpx_image *in, const gpx_image *out,
			 void *state)
{
	double sigma = params[BLUR_SIGMA];
	gpx_gauss_kernel(sigma, gpx_gauss_ksize(sigma, params[BLUR_KSIZE]), state);
}

static size_t blur_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	return gpx_conv_scratch_size(in, gpx_gauss_ksize(params[BLUR_SIGMA], params[BLUR_KSIZE]));
}

static void blur_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	uint32_t ks = gpx_gauss_ksize(a->params[BLUR_SIGMA], a->params[BLUR_KSIZE]);
	int border = (int)a->params[BLUR_BORDER];
	for (uint32_t y = y0; y < y1; y++)
		gpx_conv_row(a->in, y, a->state, ks, border, gpx_image_row(a->out, y), scratch);
}

static int blur_check(const double *params, gpx_status *st)
{
	double k = params[BLUR_KSIZE];
	if (k != 0 && fmod(k, 2.0) != 1.0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT,
				      "parameter \"blur.kernel_size\" must be 0 (auto) or odd (got "
				      "%g)",
				      k);
	return 0;
}

static const gpx_param_def blur_params[] = {
	{.name = "sigma",
	 .display_name = "Sigma",
	 .description = "Standard deviation of the Gaussian, in pixels",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 2,
	 .min = 0.1,
	 .max = 50,
	 .step = 0.1},
	{.name = "kernel_size",
	 .display_name = "Kernel size",
	 .description = "Odd kernel width in pixels; 0 picks 2*ceil(3*sigma)+1",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = 301,
	 .step = 2},
	{.name = "border",
	 .display_name = "Border",
	 .description = "Pixels beyond the edge: reflect (mirror, edge not repeated), clamp "
			"(repeat the edge) or wrap (tile)",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "reflect",
	 .options = gpx_border_options},
};

static const gpx_filter_cpu blur_cpu = {.plan = gpx_plan_same,
					.state_size = blur_state_size,
					.prepare = blur_prepare,
					.scratch_size = blur_scratch,
					.rows = blur_rows};

const gpx_filter_def gpx_fdef_blur = {
	.name = "blur",
	.display_name = "Gaussian blur",
	.description = "Separable Gaussian blur of every channel (alpha included).",
	.params = blur_params,
	.nparams = 3,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &blur_cpu,
	.check = blur_check,
};

/* ---- box_blur ----------------------------------------------------------- */

enum { BOX_RADIUS, BOX_BORDER };

/* Vertical sums padded by r pixels each side, then the window sums. */
static size_t box_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	size_t r = (size_t)params[BOX_RADIUS];
	return GPX_ALIGN_UP(((size_t)in->width + 2 * r) * in->channels * sizeof(uint32_t)) +
	       (size_t)in->width * in->channels * sizeof(uint32_t);
}

/* Radii up to this add the window directly (vectorized); larger ones
 * slide it along each channel (O(1) per pixel, sequential). */
#define BOX_DIRECT_MAX_KS 33

static inline __attribute__((always_inline)) void add_u32(uint32_t *restrict h,
							  const uint32_t *restrict v, size_t m)
{
	for (size_t j = 0; j < m; j++)
		h[j] += v[j];
}

/* round(S/N) as trunc(S * (1/N) + 0.5) in double: exact, because S/N is
 * never a half-integer (N is odd) and is at least 1/(2N) away from one,
 * far more than the double rounding error. */
static inline __attribute__((always_inline)) void
box_div(uint8_t *restrict d, const uint32_t *restrict h, size_t m, double inv)
{
	for (size_t j = 0; j < m; j++)
		d[j] = (uint8_t)(int32_t)((double)h[j] * inv + 0.5);
}

GPX_HOT static void box_horiz(const uint32_t *vs, size_t ks, size_t ch, uint8_t *d, size_t n,
			      double inv, uint32_t *h)
{
	if (ks <= BOX_DIRECT_MAX_KS) {
		memcpy(h, vs, n * sizeof(uint32_t));
		for (size_t k = 1; k < ks; k++)
			add_u32(h, vs + k * ch, n);
	} else {
		for (size_t c = 0; c < ch; c++) {
			uint32_t s = 0;
			for (size_t k = 0; k < ks; k++)
				s += vs[k * ch + c];
			h[c] = s;
			for (size_t j = ch + c; j < n; j += ch) {
				s += vs[j + (ks - 1) * ch] - vs[j - ch];
				h[j] = s;
			}
		}
	}
	box_div(d, h, n, inv);
}

GPX_HOT static void box_add_row(uint32_t *restrict s, const uint8_t *restrict p, size_t n)
{
	for (size_t j = 0; j < n; j++)
		s[j] += p[j];
}

GPX_HOT static void box_slide_row(uint32_t *restrict s, const uint8_t *restrict add,
				  const uint8_t *restrict sub, size_t n)
{
	for (size_t j = 0; j < n; j++)
		s[j] = s[j] + add[j] - sub[j];
}

static void box_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	uint32_t W = in->width, H = in->height, ch = in->channels, n = W * ch;
	int64_t r = (int64_t)a->params[BOX_RADIUS];
	int border = (int)a->params[BOX_BORDER];
	uint32_t ks = (uint32_t)(2 * r + 1);
	double inv = 1.0 / ((double)ks * ks);
	uint32_t *vs = scratch;
	uint32_t *vc = vs + (size_t)r * ch;
	uint32_t *hs = (uint32_t *)((uint8_t *)scratch + GPX_ALIGN_UP(((size_t)W + 2 * (size_t)r) *
								      ch * sizeof(uint32_t)));

	for (uint32_t y = y0; y < y1; y++) {
		if (y == y0) {
			memset(vc, 0, n * sizeof(uint32_t));
			for (int64_t k = -r; k <= r; k++)
				box_add_row(vc,
					    gpx_image_row(in, (uint32_t)gpx_border_index(y + k, H,
											 border)),
					    n);
		} else {
			const uint8_t *add = gpx_image_row(
				in, (uint32_t)gpx_border_index((int64_t)y + r, H, border));
			const uint8_t *sub = gpx_image_row(
				in, (uint32_t)gpx_border_index((int64_t)y - 1 - r, H, border));
			box_slide_row(vc, add, sub, n);
		}
		for (int64_t i = 1; i <= r; i++) {
			int32_t l = gpx_border_index(-i, W, border);
			int32_t rr = gpx_border_index((int64_t)W - 1 + i, W, border);
			memcpy(vc - i * ch, vc + (size_t)l * ch, ch * sizeof(uint32_t));
			memcpy(vc + ((size_t)W - 1 + (size_t)i) * ch, vc + (size_t)rr * ch,
			       ch * sizeof(uint32_t));
		}
		box_horiz(vs, ks, ch, gpx_image_row(a->out, y), n, inv, hs);
	}
}

static const gpx_param_def box_params[] = {
	{.name = "radius",
	 .display_name = "Radius",
	 .description = "The window is (2*radius+1) pixels square",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 2,
	 .min = 1,
	 .max = 100,
	 .step = 1},
	{.name = "border",
	 .display_name = "Border",
	 .description = "Pixels beyond the edge: reflect, clamp or wrap",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "reflect",
	 .options = gpx_border_options},
};

static const gpx_filter_cpu box_cpu = {
	.plan = gpx_plan_same, .scratch_size = box_scratch, .rows = box_rows};

const gpx_filter_def gpx_fdef_box_blur = {
	.name = "box_blur",
	.display_name = "Box blur",
	.description = "Mean of a square window, every channel (alpha included).",
	.params = box_params,
	.nparams = 2,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &box_cpu,
};

/* ---- sharpen ------------------------------------------------------------ */

enum { SHARP_AMOUNT, SHARP_SIGMA, SHARP_THRESHOLD };

static size_t sharpen_state_size(const double *params, const gpx_image *in, const gpx_image *out)
{
	return gpx_gauss_ksize(params[SHARP_SIGMA], 0) * sizeof(float);
}

static void sharpen_prepare(const double *params, const gpx_image *in, const gpx_image *out,
			    void *state)
{
	double sigma = params[SHARP_SIGMA];
	gpx_gauss_kernel(sigma, gpx_gauss_ksize(sigma, 0), state);
}

static size_t sharpen_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	return gpx_conv_scratch_size(in, gpx_gauss_ksize(params[SHARP_SIGMA], 0)) +
	       GPX_ALIGN_UP((size_t)in->width * in->channels);
}

GPX_HOT static void unsharp_row(const uint8_t *restrict s, const uint8_t *restrict b,
				uint8_t *restrict d, size_t n, float amount, int32_t thr)
{
	for (size_t j = 0; j < n; j++) {
		int32_t diff = (int32_t)s[j] - (int32_t)b[j];
		int32_t ad = diff < 0 ? -diff : diff;
		int32_t v = (int32_t)((float)s[j] + amount * (float)diff + 0.5f);
		v = v < 0 ? 0 : v;
		v = v > 255 ? 255 : v;
		/* a mask, not ?:, so the float conversion is not made
		 * conditional (which -ftrapping-math forbids vectorizing) */
		int32_t m = -(int32_t)(ad >= thr);
		d[j] = (uint8_t)((v & m) | ((int32_t)s[j] & ~m));
	}
}

static void sharpen_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	uint32_t ks = gpx_gauss_ksize(a->params[SHARP_SIGMA], 0);
	uint32_t W = in->width, ch = in->channels;
	uint8_t *blurred = (uint8_t *)scratch + gpx_conv_scratch_size(in, ks);
	float amount = (float)a->params[SHARP_AMOUNT];
	int32_t thr = (int32_t)a->params[SHARP_THRESHOLD];
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *s = gpx_image_row(in, y);
		uint8_t *d = gpx_image_row(a->out, y);
		gpx_conv_row(in, y, a->state, ks, GPX_BORDER_REFLECT, blurred, scratch);
		unsharp_row(s, blurred, d, W * ch, amount, thr);
		if (ch == 4)
			for (uint32_t x = 0; x < W; x++)
				d[4 * x + 3] = s[4 * x + 3];
	}
}

static const gpx_param_def sharpen_params[] = {
	{.name = "amount",
	 .display_name = "Amount",
	 .description = "How much of the detail (image minus its blur) is added back",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 1,
	 .min = 0,
	 .max = 5,
	 .step = 0.05},
	{.name = "sigma",
	 .display_name = "Radius (sigma)",
	 .description = "Standard deviation of the Gaussian that defines the detail",
	 .type = GPX_PARAM_NUMBER,
	 .def_num = 1,
	 .min = 0.1,
	 .max = 20,
	 .step = 0.1},
	{.name = "threshold",
	 .display_name = "Threshold",
	 .description = "Channels whose detail is smaller than this are left alone",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = 255,
	 .step = 1},
};

static const gpx_filter_cpu sharpen_cpu = {.plan = gpx_plan_same,
					   .state_size = sharpen_state_size,
					   .prepare = sharpen_prepare,
					   .scratch_size = sharpen_scratch,
					   .rows = sharpen_rows};

const gpx_filter_def gpx_fdef_sharpen = {
	.name = "sharpen",
	.display_name = "Sharpen",
	.description = "Unsharp mask of the color channels; alpha is kept.",
	.params = sharpen_params,
	.nparams = 3,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &sharpen_cpu,
};
