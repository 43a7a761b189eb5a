/* Geometry: resize, rotate, flip, crop. Exact definitions: docs/filters.md. */
#include <math.h>
#include <string.h>

#include "engine/filters/internal.h"

#define RESIZE_MAX_SIDE 16384u
#define CROP_MAX 1000000

/* ---- resize ------------------------------------------------------------- */

enum { RS_WIDTH, RS_HEIGHT, RS_KEEP, RS_FILTER };
enum { RS_NEAREST, RS_BILINEAR, RS_LANCZOS3 };
static const char *const resize_filters[] = {"nearest", "bilinear", "lanczos3", NULL};

/* round(a * b / c), half up, in integers (a, b, c < 2^31). */
static uint64_t muldiv_round(uint64_t a, uint64_t b, uint64_t c)
{
	return (2 * a * b + c) / (2 * c);
}

static int resize_plan(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h,
		       uint32_t *ch, gpx_status *st)
{
	uint64_t W = in->width, H = in->height;
	uint64_t tw = (uint64_t)params[RS_WIDTH], th = (uint64_t)params[RS_HEIGHT];
	uint64_t ow, oh;
	if (tw == 0 && th == 0) {
		ow = W;
		oh = H;
	} else if (th == 0) {
		ow = tw;
		oh = muldiv_round(H, tw, W);
	} else if (tw == 0) {
		oh = th;
		ow = muldiv_round(W, th, H);
	} else if (params[RS_KEEP] != 0.0) {
		/* fit inside tw x th: the tighter side decides */
		if (tw * H <= th * W) {
			ow = tw;
			oh = muldiv_round(H, tw, W);
		} else {
			oh = th;
			ow = muldiv_round(W, th, H);
		}
	} else {
		ow = tw;
		oh = th;
	}
	ow = ow ? ow : 1;
	oh = oh ? oh : 1;
	if (ow > RESIZE_MAX_SIDE || oh > RESIZE_MAX_SIDE)
		return gpx_status_set(
			st, GPX_INVALID_ARGUMENT,
			"resize would make a %llux%llu image; the limit is %u per side",
			(unsigned long long)ow, (unsigned long long)oh, RESIZE_MAX_SIDE);
	*w = (uint32_t)ow;
	*h = (uint32_t)oh;
	*ch = in->channels;
	return 0;
}

/* Per output coordinate: the first source index, the tap count and T
 * weights (T fixed per axis, unused ones 0). */
typedef struct rs_axis {
	uint32_t T;
	int32_t *start;
	int32_t *n;
	float *w;
} rs_axis;

static double rs_scale(uint32_t in, uint32_t out)
{
	return (double)in / (double)out;
}

static uint32_t rs_taps(int filter, uint32_t in, uint32_t out)
{
	if (filter == RS_NEAREST)
		return 1;
	if (filter == RS_BILINEAR)
		return 2;
	double s = rs_scale(in, out);
	double support = 3.0 * (s > 1.0 ? s : 1.0);
	return 2 * (uint32_t)ceil(support) + 2;
}

static double sinc(double x)
{
	if (x == 0.0)
		return 1.0;
	x *= M_PI;
	return sin(x) / x;
}

static double lanczos3(double t)
{
	return t > -3.0 && t < 3.0 ? sinc(t) * sinc(t / 3.0) : 0.0;
}

static void rs_axis_build(int filter, uint32_t in, uint32_t out, rs_axis *ax)
{
	double s = rs_scale(in, out);
	for (uint32_t o = 0; o < out; o++) {
		float *w = ax->w + (size_t)o * ax->T;
		memset(w, 0, ax->T * sizeof(float));
		if (filter == RS_NEAREST) {
			uint64_t i = ((2 * (uint64_t)o + 1) * in) / (2 * (uint64_t)out);
			ax->start[o] = (int32_t)(i < in ? i : in - 1);
			ax->n[o] = 1;
			w[0] = 1.0f;
		} else if (filter == RS_BILINEAR) {
			double src = ((double)o + 0.5) * s - 0.5;
			src = src < 0.0 ? 0.0 : src;
			src = src > (double)(in - 1) ? (double)(in - 1) : src;
			double x0 = floor(src), f = src - x0;
			ax->start[o] = (int32_t)x0;
			if ((uint32_t)x0 + 1 < in) {
				ax->n[o] = 2;
				w[0] = (float)(1.0 - f);
				w[1] = (float)f;
			} else {
				ax->n[o] = 1;
				w[0] = 1.0f;
			}
		} else {
			double fs = s > 1.0 ? s : 1.0;
			double support = 3.0 * fs;
			double center = ((double)o + 0.5) * s;
			int64_t lo = (int64_t)floor(center - support - 0.5);
			int64_t hi = (int64_t)ceil(center + support);
			lo = lo < 0 ? 0 : lo;
			hi = hi > (int64_t)in - 1 ? (int64_t)in - 1 : hi;
			double sum = 0.0;
			int64_t first = -1, last = -1;
			for (int64_t i = lo; i <= hi; i++) {
				double v = lanczos3(((double)i + 0.5 - center) / fs);
				if (v == 0.0)
					continue;
				if (first < 0)
					first = i;
				if (i - first >= (int64_t)ax->T)
					break;
				sum += v;
				last = i;
			}
			if (first < 0 || sum == 0.0) {
				/* cannot happen for in >= 1; keep it total anyway */
				int64_t c = (int64_t)center;
				ax->start[o] = (int32_t)(c < (int64_t)in ? c : (int64_t)in - 1);
				ax->n[o] = 1;
				w[0] = 1.0f;
				continue;
			}
			ax->start[o] = (int32_t)first;
			ax->n[o] = (int32_t)(last - first + 1);
			for (int64_t i = first; i <= last; i++)
				w[i - first] =
					(float)(lanczos3(((double)i + 0.5 - center) / fs) / sum);
		}
	}
}

/* State: x axis then y axis tables. */
static size_t rs_axis_bytes(uint32_t out, uint32_t T)
{
	return GPX_ALIGN_UP((size_t)out * sizeof(int32_t)) * 2 +
	       GPX_ALIGN_UP((size_t)out * T * sizeof(float));
}

static uint8_t *rs_axis_map(uint8_t *p, uint32_t out, uint32_t T, rs_axis *ax)
{
	ax->T = T;
	ax->start = (int32_t *)p;
	p += GPX_ALIGN_UP((size_t)out * sizeof(int32_t));
	ax->n = (int32_t *)p;
	p += GPX_ALIGN_UP((size_t)out * sizeof(int32_t));
	ax->w = (float *)p;
	return p + GPX_ALIGN_UP((size_t)out * T * sizeof(float));
}

static size_t resize_state_size(const double *params, const gpx_image *in, const gpx_image *out)
{
	int f = (int)params[RS_FILTER];
	return rs_axis_bytes(out->width, rs_taps(f, in->width, out->width)) +
	       rs_axis_bytes(out->height, rs_taps(f, in->height, out->height));
}

static void resize_axes(const double *params, const gpx_image *in, const gpx_image *out,
			const void *state, rs_axis *ax, rs_axis *ay)
{
	int f = (int)params[RS_FILTER];
	uint8_t *p = (uint8_t *)(uintptr_t)state;
	p = rs_axis_map(p, out->width, rs_taps(f, in->width, out->width), ax);
	rs_axis_map(p, out->height, rs_taps(f, in->height, out->height), ay);
}

static void resize_prepare(const double *params, const gpx_image *in, const gpx_image *out,
			   void *state)
{
	int f = (int)params[RS_FILTER];
	rs_axis ax, ay;
	resize_axes(params, in, out, state, &ax, &ay);
	rs_axis_build(f, in->width, out->width, &ax);
	rs_axis_build(f, in->height, out->height, &ay);
}

/* The vertical result row, then T zero floats per channel so that every
 * output reads exactly T taps (the unused ones weigh 0). */
static size_t resize_scratch(const double *params, const gpx_image *in, const gpx_image *out)
{
	uint32_t T = rs_taps((int)params[RS_FILTER], in->width, out->width);
	return ((size_t)in->width + T) * in->channels * sizeof(float);
}

GPX_HOT static void rs_vert(const uint8_t *restrict p, float w, float *restrict acc, size_t n,
			    int first)
{
	if (first) {
		for (size_t j = 0; j < n; j++)
			acc[j] = w * (float)p[j];
	} else {
		for (size_t j = 0; j < n; j++)
			acc[j] += w * (float)p[j];
	}
}

/* d[x] = sum_k w[x][k] * vr[start[x] + k], k < T, for CH channels. */
static inline __attribute__((always_inline)) void
rs_horiz_n(const float *restrict vr, const int32_t *restrict start, const float *restrict w,
	   size_t T, uint8_t *restrict d, size_t ow, size_t ch)
{
	for (size_t x = 0; x < ow; x++) {
		const float *src = vr + (size_t)start[x] * ch;
		const float *wx = w + x * T;
		float acc[4] = {0.0f, 0.0f, 0.0f, 0.0f};
		for (size_t k = 0; k < T; k++)
			for (size_t c = 0; c < ch; c++)
				acc[c] += wx[k] * src[k * ch + c];
		for (size_t c = 0; c < ch; c++)
			d[x * ch + c] = gpx_f2u8(acc[c]);
	}
}

GPX_HOT static void rs_horiz(const float *vr, const rs_axis *ax, uint8_t *d, size_t ow, size_t ch)
{
	/* constant channel counts (and T for bilinear) let the compiler
	 * unroll the inner loops */
	if (ax->T == 2) {
		if (ch == 1)
			rs_horiz_n(vr, ax->start, ax->w, 2, d, ow, 1);
		else if (ch == 3)
			rs_horiz_n(vr, ax->start, ax->w, 2, d, ow, 3);
		else
			rs_horiz_n(vr, ax->start, ax->w, 2, d, ow, 4);
	} else if (ch == 1) {
		rs_horiz_n(vr, ax->start, ax->w, ax->T, d, ow, 1);
	} else if (ch == 3) {
		rs_horiz_n(vr, ax->start, ax->w, ax->T, d, ow, 3);
	} else {
		rs_horiz_n(vr, ax->start, ax->w, ax->T, d, ow, 4);
	}
}

static void copy_px_n(uint8_t *restrict d, const uint8_t *restrict s, const int32_t *restrict idx,
		      size_t n, size_t ch)
{
	switch (ch) {
	case 1:
		for (size_t x = 0; x < n; x++)
			d[x] = s[idx[x]];
		break;
	case 3:
		for (size_t x = 0; x < n; x++)
			memcpy(d + 3 * x, s + 3 * (size_t)idx[x], 3);
		break;
	default:
		for (size_t x = 0; x < n; x++)
			memcpy(d + 4 * x, s + 4 * (size_t)idx[x], 4);
	}
}

static void resize_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	gpx_image *out = a->out;
	size_t ch = in->channels, ow = out->width;
	int f = (int)a->params[RS_FILTER];
	rs_axis ax, ay;
	resize_axes(a->params, in, out, a->state, &ax, &ay);

	if (f == RS_NEAREST) {
		for (uint32_t y = y0; y < y1; y++)
			copy_px_n(gpx_image_row(out, y), gpx_image_row(in, (uint32_t)ay.start[y]),
				  ax.start, ow, ch);
		return;
	}
	float *vr = scratch;
	size_t n = (size_t)in->width * ch;
	memset(vr + n, 0, (size_t)ax.T * ch * sizeof(float));
	for (uint32_t y = y0; y < y1; y++) {
		const float *wy = ay.w + (size_t)y * ay.T;
		for (int32_t k = 0; k < ay.n[y]; k++)
			rs_vert(gpx_image_row(in, (uint32_t)(ay.start[y] + k)), wy[k], vr, n,
				k == 0);
		rs_horiz(vr, &ax, gpx_image_row(out, y), ow, ch);
	}
}

static const gpx_param_def resize_params[] = {
	{.name = "width",
	 .display_name = "Width",
	 .description = "Output width in pixels; 0 derives it from height and the aspect ratio",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = RESIZE_MAX_SIDE,
	 .step = 1},
	{.name = "height",
	 .display_name = "Height",
	 .description = "Output height in pixels; 0 derives it from width and the aspect ratio",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = RESIZE_MAX_SIDE,
	 .step = 1},
	{.name = "keep_aspect",
	 .display_name = "Keep aspect ratio",
	 .description = "With both width and height: fit inside that box instead of stretching",
	 .type = GPX_PARAM_BOOL,
	 .def_bool = 1},
	{.name = "filter",
	 .display_name = "Filter",
	 .description = "Resampling: nearest, bilinear or lanczos3 (antialiased when shrinking)",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "bilinear",
	 .options = resize_filters},
};

static const gpx_filter_cpu resize_cpu = {.plan = resize_plan,
					  .state_size = resize_state_size,
					  .prepare = resize_prepare,
					  .scratch_size = resize_scratch,
					  .rows = resize_rows};

const gpx_filter_def gpx_fdef_resize = {
	.name = "resize",
	.display_name = "Resize",
	.description = "Scales the image; every channel alike (alpha included).",
	.params = resize_params,
	.nparams = 4,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &resize_cpu,
};

/* ---- rotate ------------------------------------------------------------- */

enum { ROT_90, ROT_180, ROT_270 };
static const char *const rotate_angles[] = {"90", "180", "270", NULL};

static int rotate_plan(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h,
		       uint32_t *ch, gpx_status *st)
{
	int a = (int)params[0];
	*w = a == ROT_180 ? in->width : in->height;
	*h = a == ROT_180 ? in->height : in->width;
	*ch = in->channels;
	return 0;
}

/* The pixel loops with the channel count as a constant, so each pixel
 * copy is one 1, 3 or 4 byte move. */
static inline __attribute__((always_inline)) void
rotate_n(const gpx_image *in, gpx_image *out, int ang, uint32_t y0, uint32_t y1, size_t ch)
{
	uint32_t W = in->width, H = in->height;
	if (ang == ROT_180) {
		for (uint32_t y = y0; y < y1; y++) {
			const uint8_t *s = gpx_image_row(in, H - 1 - y);
			uint8_t *d = gpx_image_row(out, y);
			for (size_t x = 0; x < W; x++)
				memcpy(d + x * ch, s + (W - 1 - x) * ch, ch);
		}
		return;
	}
	/* Output x walks input rows: read a contiguous run of the band's
	 * source columns and scatter it down the band's rows (a y1-y0 line
	 * working set). 90 clockwise: out(x, y) = in(y, H-1-x);
	 * 270: out(x, y) = in(W-1-y, x). */
	uint8_t *d0 = gpx_image_row(out, y0);
	size_t ostride = out->stride;
	for (size_t x = 0; x < out->width; x++) {
		uint8_t *d = d0 + x * ch;
		if (ang == ROT_90) {
			const uint8_t *s = gpx_image_row(in, H - 1 - (uint32_t)x) + (size_t)y0 * ch;
			for (size_t y = 0; y < y1 - y0; y++)
				memcpy(d + y * ostride, s + y * ch, ch);
		} else {
			const uint8_t *s =
				gpx_image_row(in, (uint32_t)x) + (size_t)(W - 1 - y0) * ch;
			for (size_t y = 0; y < y1 - y0; y++)
				memcpy(d + y * ostride, s - y * ch, ch);
		}
	}
}

static void rotate_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	int ang = (int)a->params[0];
	switch (a->in->channels) {
	case 1: rotate_n(a->in, a->out, ang, y0, y1, 1); break;
	case 3: rotate_n(a->in, a->out, ang, y0, y1, 3); break;
	default: rotate_n(a->in, a->out, ang, y0, y1, 4);
	}
}

static const gpx_param_def rotate_params[] = {
	{.name = "angle",
	 .display_name = "Angle",
	 .description = "Clockwise rotation in degrees",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "90",
	 .options = rotate_angles},
};

static const gpx_filter_cpu rotate_cpu = {.plan = rotate_plan, .rows = rotate_rows};

const gpx_filter_def gpx_fdef_rotate = {
	.name = "rotate",
	.display_name = "Rotate",
	.description = "Rotates clockwise by a multiple of 90 degrees (lossless).",
	.params = rotate_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &rotate_cpu,
};

/* ---- flip --------------------------------------------------------------- */

enum { FLIP_H, FLIP_V, FLIP_BOTH };
static const char *const flip_directions[] = {"horizontal", "vertical", "both", NULL};

static inline __attribute__((always_inline)) void
mirror_row(const uint8_t *restrict s, uint8_t *restrict d, size_t W, size_t ch)
{
	for (size_t x = 0; x < W; x++)
		memcpy(d + x * ch, s + (W - 1 - x) * ch, ch);
}

static void flip_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	const gpx_image *in = a->in;
	uint32_t ch = in->channels, W = in->width, H = in->height;
	int dir = (int)a->params[0];
	for (uint32_t y = y0; y < y1; y++) {
		const uint8_t *s = gpx_image_row(in, dir == FLIP_H ? y : H - 1 - y);
		uint8_t *d = gpx_image_row(a->out, y);
		if (dir == FLIP_V)
			memcpy(d, s, (size_t)W * ch);
		else if (ch == 1)
			mirror_row(s, d, W, 1);
		else if (ch == 3)
			mirror_row(s, d, W, 3);
		else
			mirror_row(s, d, W, 4);
	}
}

static const gpx_param_def flip_params[] = {
	{.name = "direction",
	 .display_name = "Direction",
	 .description = "horizontal mirrors left-right, vertical top-bottom, both does both",
	 .type = GPX_PARAM_ENUM,
	 .def_enum = "horizontal",
	 .options = flip_directions},
};

static const gpx_filter_cpu flip_cpu = {.plan = gpx_plan_same, .rows = flip_rows};

const gpx_filter_def gpx_fdef_flip = {
	.name = "flip",
	.display_name = "Flip",
	.description = "Mirrors the image.",
	.params = flip_params,
	.nparams = 1,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &flip_cpu,
};

/* ---- crop --------------------------------------------------------------- */

enum { CROP_X, CROP_Y, CROP_W, CROP_H };

static int crop_plan(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h,
		     uint32_t *ch, gpx_status *st)
{
	uint64_t x = (uint64_t)params[CROP_X], y = (uint64_t)params[CROP_Y];
	uint64_t cw = (uint64_t)params[CROP_W], chh = (uint64_t)params[CROP_H];
	uint64_t W = in->width, H = in->height;
	if (x < W && cw == 0)
		cw = W - x;
	if (y < H && chh == 0)
		chh = H - y;
	if (x >= W || y >= H || x + cw > W || y + chh > H)
		return gpx_status_set(
			st, GPX_INVALID_ARGUMENT,
			"crop rectangle x=%llu y=%llu width=%llu height=%llu is outside "
			"the %llux%llu image",
			(unsigned long long)x, (unsigned long long)y,
			(unsigned long long)params[CROP_W], (unsigned long long)params[CROP_H],
			(unsigned long long)W, (unsigned long long)H);
	*w = (uint32_t)cw;
	*h = (uint32_t)chh;
	*ch = in->channels;
	return 0;
}

static void crop_rows(const gpx_filter_args *a, uint32_t y0, uint32_t y1, void *scratch)
{
	uint32_t ch = a->in->channels;
	size_t x = (size_t)a->params[CROP_X];
	uint32_t top = (uint32_t)a->params[CROP_Y];
	for (uint32_t y = y0; y < y1; y++)
		memcpy(gpx_image_row(a->out, y), gpx_image_row(a->in, top + y) + x * ch,
		       (size_t)a->out->width * ch);
}

static const gpx_param_def crop_params[] = {
	{.name = "x",
	 .display_name = "Left",
	 .description = "Left edge of the rectangle, in pixels",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = CROP_MAX,
	 .step = 1},
	{.name = "y",
	 .display_name = "Top",
	 .description = "Top edge of the rectangle, in pixels",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = CROP_MAX,
	 .step = 1},
	{.name = "width",
	 .display_name = "Width",
	 .description = "Width of the rectangle; 0 reaches the right edge",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = CROP_MAX,
	 .step = 1},
	{.name = "height",
	 .display_name = "Height",
	 .description = "Height of the rectangle; 0 reaches the bottom edge",
	 .type = GPX_PARAM_INTEGER,
	 .def_num = 0,
	 .min = 0,
	 .max = CROP_MAX,
	 .step = 1},
};

static const gpx_filter_cpu crop_cpu = {.plan = crop_plan, .rows = crop_rows};

const gpx_filter_def gpx_fdef_crop = {
	.name = "crop",
	.display_name = "Crop",
	.description = "Keeps a rectangle; one outside the image is an invalid_argument error.",
	.params = crop_params,
	.nparams = 4,
	.backends = "cpu",
	.plugin = "",
	.version = "1",
	.cpu = &crop_cpu,
};
