/* Planning a pipeline into GPU passes; see plan.h. The host-side tables
 * (Gaussian weights, resize taps, brightness/contrast table) are computed
 * in double exactly as engine/filters/ does and rounded to float once, as
 * docs/filters.md asks of every backend. */
#include "gpu/plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

void gpx_cu_plan_init(gpx_cu_plan *p)
{
	memset(p, 0, sizeof(*p));
}

void gpx_cu_plan_free(gpx_cu_plan *p)
{
	free(p->blob);
	memset(p, 0, sizeof(*p));
}

/* Room for `len` bytes at a 16-byte boundary; NULL when out of memory.
 * The pointer is valid until the next call. */
static void *blob_add(gpx_cu_plan *p, size_t len, size_t *off)
{
	size_t at = (p->blob_len + 15) & ~(size_t)15;
	if (at + len > p->blob_cap) {
		size_t cap = p->blob_cap ? p->blob_cap : 4096;
		while (cap < at + len)
			cap *= 2;
		uint8_t *nb = realloc(p->blob, cap);
		if (!nb)
			return NULL;
		p->blob = nb;
		p->blob_cap = cap;
	}
	memset(p->blob + p->blob_len, 0, at + len - p->blob_len);
	p->blob_len = at + len;
	*off = at;
	return p->blob + at;
}

/* ---- tables, as engine/filters computes them ----------------------------- */

uint32_t gpx_cu_gauss_ksize(double sigma, double kernel_size)
{
	if (kernel_size > 0)
		return (uint32_t)kernel_size;
	return 2u * (uint32_t)ceil(3.0 * sigma) + 1u;
}

void gpx_cu_gauss_kernel(double sigma, uint32_t ksize, float *w)
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

void gpx_cu_bc_lut(double brightness, double contrast, uint8_t *lut)
{
	double c = contrast * 255.0 / 100.0, b = brightness * 255.0 / 100.0;
	double f = 259.0 * (c + 255.0) / (255.0 * (259.0 - c));
	for (int v = 0; v < 256; v++) {
		double t = floor(f * (v - 128.0) + 128.0 + b + 0.5);
		lut[v] = (uint8_t)(t < 0 ? 0 : t > 255 ? 255 : t);
	}
}

enum { RS_NEAREST, RS_BILINEAR, RS_LANCZOS3 };

static uint32_t rs_taps(int filter, uint32_t in, uint32_t out)
{
	if (filter == RS_NEAREST)
		return 1;
	if (filter == RS_BILINEAR)
		return 2;
	double s = (double)in / (double)out;
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

/* One axis: start[o], n[o] and T weights per output (docs/filters.md,
 * "resize"; the same arithmetic as engine/filters/f_geom.c). */
static void rs_axis_build(int filter, uint32_t in, uint32_t out, uint32_t T, int32_t *start,
			  int32_t *n, float *wt)
{
	double s = (double)in / (double)out;
	for (uint32_t o = 0; o < out; o++) {
		float *w = wt + (size_t)o * T;
		memset(w, 0, T * sizeof(float));
		if (filter == RS_NEAREST) {
			uint64_t i = ((2 * (uint64_t)o + 1) * in) / (2 * (uint64_t)out);
			start[o] = (int32_t)(i < in ? i : in - 1);
			n[o] = 1;
			w[0] = 1.0f;
		} else if (filter == RS_BILINEAR) {
			double src = ((double)o + 0.5) * s - 0.5;
			src = src < 0.0 ? 0.0 : src;
			src = src > (double)(in - 1) ? (double)(in - 1) : src;
			double x0 = floor(src), f = src - x0;
			start[o] = (int32_t)x0;
			if ((uint32_t)x0 + 1 < in) {
				n[o] = 2;
				w[0] = (float)(1.0 - f);
				w[1] = (float)f;
			} else {
				n[o] = 1;
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
				if (i - first >= (int64_t)T)
					break;
				sum += v;
				last = i;
			}
			if (first < 0 || sum == 0.0) {
				int64_t c = (int64_t)center;
				start[o] = (int32_t)(c < (int64_t)in ? c : (int64_t)in - 1);
				n[o] = 1;
				w[0] = 1.0f;
				continue;
			}
			start[o] = (int32_t)first;
			n[o] = (int32_t)(last - first + 1);
			for (int64_t i = first; i <= last; i++)
				w[i - first] =
					(float)(lanczos3(((double)i + 0.5 - center) / fs) / sum);
		}
	}
}

/* ---- steps --------------------------------------------------------------- */

static int option(const char *s, const char *const *names, int count)
{
	for (int i = 0; s && i < count; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

static const char *const borders[] = {"reflect", "clamp", "wrap"};
static const char *const gray_algs[] = {"bt601", "bt709", "average", "lightness", "luminosity"};
static const char *const resize_filters[] = {"nearest", "bilinear", "lanczos3"};

static int is_point(const char *f)
{
	return !strcmp(f, "grayscale") || !strcmp(f, "invert") ||
	       !strcmp(f, "brightness_contrast") || !strcmp(f, "threshold") || !strcmp(f, "sepia");
}

static gpx_cu_pass *new_pass(gpx_cu_plan *p, gpx_cu_pass_kind kind, const gpx_plugin_step *s,
			     uint32_t *cur, gpx_plugin_status *st)
{
	if (p->npass == GPX_CU_MAX_PASSES) {
		gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "more than %d GPU passes",
				GPX_CU_MAX_PASSES);
		return NULL;
	}
	gpx_cu_pass *ps = &p->pass[p->npass++];
	/* not the whole struct: the point program's arrays are 10 KB */
	memset(ps, 0, offsetof(gpx_cu_pass, ops));
	ps->r = ps->border = ps->thr = ps->tx = ps->ty = ps->mode = ps->a = ps->b = 0;
	ps->amount = 0.0f;
	memset(ps->off, 0, sizeof(ps->off));
	ps->kind = kind;
	ps->win = s->in_width;
	ps->hin = s->in_height;
	ps->cin = s->in_channels;
	ps->wout = s->out_width;
	ps->hout = s->out_height;
	ps->cout = s->out_channels;
	ps->src = *cur;
	ps->dst = *cur ^ 1u;
	*cur ^= 1u;
	return ps;
}

static int add_point(gpx_cu_plan *p, const gpx_plugin_step *s, uint32_t *cur, gpx_plugin_status *st)
{
	gpx_cu_pass *ps = p->npass ? &p->pass[p->npass - 1] : NULL;
	int lut = !strcmp(s->filter, "brightness_contrast");
	if (!ps || ps->kind != GPX_CU_POINT || ps->nops == GPX_CU_MAX_POINT_OPS ||
	    (lut && ps->nluts == GPX_CU_MAX_LUTS)) {
		if (!(ps = new_pass(p, GPX_CU_POINT, s, cur, st)))
			return -1;
		ps->nops = 0;
		ps->nluts = 0;
	}
	/* The fused pass reads the first op's input and writes the last's output. */
	ps->wout = s->out_width;
	ps->hout = s->out_height;
	ps->cout = s->out_channels;
	gpx_k_pointop *op = &ps->ops[ps->nops++];
	memset(op, 0, sizeof(*op));
	if (!strcmp(s->filter, "grayscale")) {
		op->kind = GPX_K_GRAY;
		op->arg = option(gpx_plugin_str(s, "algorithm", "bt601"), gray_algs, 5);
		if (op->arg < 0)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED,
					       "grayscale algorithm \"%s\" on the GPU",
					       gpx_plugin_str(s, "algorithm", "?"));
	} else if (!strcmp(s->filter, "invert")) {
		op->kind = GPX_K_INVERT;
	} else if (lut) {
		op->kind = GPX_K_LUT;
		op->lut = (int32_t)ps->nluts;
		gpx_cu_bc_lut(gpx_plugin_num(s, "brightness", 0), gpx_plugin_num(s, "contrast", 0),
			      ps->luts[ps->nluts++]);
	} else if (!strcmp(s->filter, "threshold")) {
		op->kind = GPX_K_THRESH;
		op->arg = (int32_t)gpx_plugin_num(s, "value", 128);
	} else {
		op->kind = GPX_K_SEPIA;
		op->f = (float)gpx_plugin_num(s, "intensity", 1);
	}
	return 0;
}

static int add_gauss(gpx_cu_plan *p, gpx_cu_pass *ps, double sigma, double kernel_size,
		     gpx_plugin_status *st)
{
	uint32_t ks = gpx_cu_gauss_ksize(sigma, kernel_size);
	if (ks < 1 || ks > 511 || ks % 2 == 0)
		return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "kernel size %u", ks);
	float w[512];
	gpx_cu_gauss_kernel(sigma, ks, w);
	ps->r = (int32_t)(ks / 2);
	float *dst = blob_add(p, ((size_t)ps->r + 1) * sizeof(float), &ps->off[0]);
	if (!dst)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	memcpy(dst, w, ((size_t)ps->r + 1) * sizeof(float)); /* symmetric: the first r+1 */
	size_t tmp = (size_t)ps->win * ps->hin * ps->cin * sizeof(float);
	p->tmp_bytes = tmp > p->tmp_bytes ? tmp : p->tmp_bytes;
	return 0;
}

static int add_axis(gpx_cu_plan *p, int filter, uint32_t in, uint32_t out, int32_t *taps,
		    size_t *off, gpx_plugin_status *st)
{
	uint32_t T = rs_taps(filter, in, out);
	int32_t *start = blob_add(p, (size_t)out * sizeof(int32_t), &off[0]);
	int32_t *n = start ? blob_add(p, (size_t)out * sizeof(int32_t), &off[1]) : NULL;
	float *w = n ? blob_add(p, (size_t)out * T * sizeof(float), &off[2]) : NULL;
	if (!w)
		return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
	/* blob_add may have moved the blob: take the pointers again */
	start = (int32_t *)(p->blob + off[0]);
	n = (int32_t *)(p->blob + off[1]);
	rs_axis_build(filter, in, out, T, start, n, w);
	*taps = (int32_t)T;
	return 0;
}

static int add_step(gpx_cu_plan *p, const gpx_plugin_step *s, uint32_t *cur, gpx_plugin_status *st)
{
	const char *f = s->filter;
	gpx_cu_pass *ps;
	if (is_point(f))
		return add_point(p, s, cur, st);
	if (!strcmp(f, "blur") || !strcmp(f, "sharpen")) {
		int sharpen = f[0] == 's';
		if (!(ps = new_pass(p, sharpen ? GPX_CU_SHARPEN : GPX_CU_BLUR, s, cur, st)))
			return -1;
		if (sharpen) {
			ps->border = GPX_K_REFLECT;
			ps->amount = (float)gpx_plugin_num(s, "amount", 1);
			ps->thr = (int32_t)gpx_plugin_num(s, "threshold", 0);
			return add_gauss(p, ps, gpx_plugin_num(s, "sigma", 1), 0, st);
		}
		ps->border = option(gpx_plugin_str(s, "border", "reflect"), borders, 3);
		if (ps->border < 0)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "blur border");
		return add_gauss(p, ps, gpx_plugin_num(s, "sigma", 2),
				 gpx_plugin_num(s, "kernel_size", 0), st);
	}
	if (!strcmp(f, "box_blur")) {
		if (!(ps = new_pass(p, GPX_CU_BOX, s, cur, st)))
			return -1;
		ps->r = (int32_t)gpx_plugin_num(s, "radius", 2);
		ps->border = option(gpx_plugin_str(s, "border", "reflect"), borders, 3);
		/* 16-bit column sums: (2r+1) * 255 must fit */
		if (ps->border < 0 || ps->r < 1 || (2 * ps->r + 1) * 255 > 65535)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "box_blur radius %d",
					       ps->r);
		size_t tmp = (size_t)ps->win * ps->hin * ps->cin * sizeof(uint16_t);
		p->tmp_bytes = tmp > p->tmp_bytes ? tmp : p->tmp_bytes;
		return 0;
	}
	if (!strcmp(f, "edge")) {
		if (!(ps = new_pass(p, GPX_CU_EDGE, s, cur, st)))
			return -1;
		ps->thr = (int32_t)gpx_plugin_num(s, "threshold", 0);
		return 0;
	}
	if (!strcmp(f, "resize")) {
		int filter = option(gpx_plugin_str(s, "filter", "bilinear"), resize_filters, 3);
		if (filter < 0)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "resize filter");
		if (!(ps = new_pass(p, filter == RS_NEAREST ? GPX_CU_NEAREST : GPX_CU_RESIZE, s,
				    cur, st)))
			return -1;
		if (add_axis(p, filter, ps->win, ps->wout, &ps->tx, &ps->off[0], st) < 0 ||
		    add_axis(p, filter, ps->hin, ps->hout, &ps->ty, &ps->off[3], st) < 0)
			return -1;
		if (filter != RS_NEAREST) {
			size_t tmp = (size_t)ps->win * ps->hout * ps->cin * sizeof(float);
			p->tmp_bytes = tmp > p->tmp_bytes ? tmp : p->tmp_bytes;
		}
		return 0;
	}
	if (!strcmp(f, "rotate") || !strcmp(f, "flip") || !strcmp(f, "crop")) {
		if (!(ps = new_pass(p, GPX_CU_GEOM, s, cur, st)))
			return -1;
		if (f[0] == 'r') {
			static const char *const angles[] = {"90", "180", "270"};
			int a = option(gpx_plugin_str(s, "angle", "90"), angles, 3);
			if (a < 0)
				return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED,
						       "rotate angle");
			ps->mode = GPX_K_ROT90 + a;
		} else if (f[0] == 'f') {
			static const char *const dirs[] = {"horizontal", "vertical", "both"};
			int d = option(gpx_plugin_str(s, "direction", "horizontal"), dirs, 3);
			if (d < 0)
				return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED,
						       "flip direction");
			ps->mode = GPX_K_FLIP_H + d;
		} else {
			ps->mode = GPX_K_CROP;
			ps->a = (int32_t)gpx_plugin_num(s, "x", 0);
			ps->b = (int32_t)gpx_plugin_num(s, "y", 0);
			if ((uint64_t)ps->a + ps->wout > ps->win ||
			    (uint64_t)ps->b + ps->hout > ps->hin)
				return gpx_plugin_fail(st, GPX_PLUGIN_INVALID_ARGUMENT,
						       "crop outside the image");
		}
		return 0;
	}
	return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED, "filter \"%s\" has no CUDA kernel", f);
}

static int channels_ok(uint32_t c)
{
	return c == 1 || c == 3 || c == 4;
}

int gpx_cu_plan_build(gpx_cu_plan *p, const gpx_plugin_step *steps, uint32_t n,
		      gpx_plugin_status *st)
{
	p->npass = 0;
	p->blob_len = 0;
	p->tmp_bytes = 0;
	if (n == 0)
		return gpx_plugin_fail(st, GPX_PLUGIN_INVALID_ARGUMENT, "no steps");
	p->in_w = steps[0].in_width;
	p->in_h = steps[0].in_height;
	p->in_c = steps[0].in_channels;
	size_t img = (size_t)p->in_w * p->in_h * p->in_c;
	uint32_t cur = 0;
	for (uint32_t i = 0; i < n; i++) {
		const gpx_plugin_step *s = &steps[i];
		if (!s->in_width || !s->in_height || !s->out_width || !s->out_height ||
		    !channels_ok(s->in_channels) || !channels_ok(s->out_channels) ||
		    (i && (s->in_width != steps[i - 1].out_width ||
			   s->in_height != steps[i - 1].out_height ||
			   s->in_channels != steps[i - 1].out_channels)))
			return gpx_plugin_fail(st, GPX_PLUGIN_INVALID_ARGUMENT,
					       "step %u: inconsistent geometry", i);
		/* kernels that give a row to each blockIdx.y (grid.y <= 65535) */
		if (s->in_height > 65535 || s->out_height > 65535)
			return gpx_plugin_fail(st, GPX_PLUGIN_UNIMPLEMENTED,
					       "images taller than 65535 rows run on the CPU");
		if (add_step(p, s, &cur, st) < 0)
			return -1;
		size_t b = (size_t)s->out_width * s->out_height * s->out_channels;
		img = b > img ? b : img;
	}
	/* The point programs go into the blob once complete. */
	for (uint32_t i = 0; i < p->npass; i++) {
		gpx_cu_pass *ps = &p->pass[i];
		if (ps->kind != GPX_CU_POINT)
			continue;
		void *ops = blob_add(p, ps->nops * sizeof(gpx_k_pointop), &ps->off[0]);
		if (ops)
			memcpy(ops, ps->ops, ps->nops * sizeof(gpx_k_pointop));
		void *luts =
			ops ? blob_add(p, (ps->nluts ? ps->nluts : 1) * 256u, &ps->off[1]) : NULL;
		if (!luts)
			return gpx_plugin_fail(st, GPX_PLUGIN_RESOURCE_EXHAUSTED, "out of memory");
		memcpy(luts, ps->luts, ps->nluts * 256u);
	}
	p->out_buf = cur;
	p->out_w = steps[n - 1].out_width;
	p->out_h = steps[n - 1].out_height;
	p->out_c = steps[n - 1].out_channels;
	p->in_bytes = (size_t)p->in_w * p->in_h * p->in_c;
	p->out_bytes = (size_t)p->out_w * p->out_h * p->out_c;
	p->img_bytes = img;
	return 0;
}
