/* The per-element arithmetic of the CUDA kernels, shared by gpu/kernels.cu
 * (compiled by nvcc as device code) and by the CPU emulation the unit tests
 * run without a GPU (tests/unit/gpu/). Every formula follows
 * docs/filters.md in the same order of operations as the CPU backend
 * (engine/filters/), so the results are the same bytes:
 *   - float operations are spelled out with GPX_K_FADD / GPX_K_FMUL, which
 *     are __fadd_rn / __fmul_rn on the device (never contracted into an
 *     FMA, whatever nvcc's -fmad) and plain C operators on the host (C17
 *     mode: -ffp-contract=off);
 *   - float to byte is (int)(v + 0.5f), then a clamp, as the CPU does.
 * Pure C, no allocation, no CUDA headers. */
#ifndef GPX_GPU_KMATH_H
#define GPX_GPU_KMATH_H

#include <stdint.h>

#ifdef __CUDACC__
#define GPX_KD static __device__ __forceinline__
#define GPX_K_FADD(a, b) __fadd_rn((a), (b))
#define GPX_K_FMUL(a, b) __fmul_rn((a), (b))
#define GPX_K_FSUB(a, b) __fsub_rn((a), (b))
#define GPX_K_F2I(v) __float2int_rz(v)
#else
#define GPX_KD static inline
#define GPX_K_FADD(a, b) ((float)(a) + (float)(b))
#define GPX_K_FMUL(a, b) ((float)(a) * (float)(b))
#define GPX_K_FSUB(a, b) ((float)(a) - (float)(b))
#define GPX_K_F2I(v) ((int32_t)(v))
#endif

/* ---- shared rules ------------------------------------------------------- */

enum { GPX_K_REFLECT = 0, GPX_K_CLAMP = 1, GPX_K_WRAP = 2 };

/* docs/filters.md "Borders" (the same as gpx_border_index). */
GPX_KD int32_t gpx_k_border(int32_t i, int32_t n, int32_t rule)
{
	if (i >= 0 && i < n)
		return i;
	if (n == 1)
		return 0;
	if (rule == GPX_K_CLAMP)
		return i < 0 ? 0 : n - 1;
	if (rule == GPX_K_WRAP) {
		int32_t m = i % n;
		return m < 0 ? m + n : m;
	}
	int32_t p = 2 * n - 2;
	int32_t m = i % p;
	if (m < 0)
		m += p;
	return m < n ? m : p - m;
}

GPX_KD uint8_t gpx_k_f2u8(float v)
{
	int32_t i = GPX_K_F2I(GPX_K_FADD(v, 0.5f));
	i = i < 0 ? 0 : i;
	return (uint8_t)(i > 255 ? 255 : i);
}

GPX_KD uint8_t gpx_k_luma601(uint32_t r, uint32_t g, uint32_t b)
{
	return (uint8_t)((19595u * r + 38470u * g + 7471u * b + 32768u) >> 16);
}

/* Luma of one pixel of 1, 3 or 4 channels. */
GPX_KD uint8_t gpx_k_luma(const uint8_t *p, int32_t ch)
{
	return ch == 1 ? p[0] : gpx_k_luma601(p[0], p[1], p[2]);
}

/* ---- point operations, fused: one pixel through a chain ------------------ */

enum {
	GPX_K_GRAY = 0,	  /* arg: algorithm */
	GPX_K_INVERT = 1, /* color channels */
	GPX_K_LUT = 2,	  /* lut: index of a 256-byte table; color channels */
	GPX_K_THRESH = 3, /* arg: value */
	GPX_K_SEPIA = 4,  /* f: intensity */
};
enum { GPX_K_BT601, GPX_K_BT709, GPX_K_AVERAGE, GPX_K_LIGHTNESS, GPX_K_LUMINOSITY };

typedef struct gpx_k_pointop {
	int32_t kind;
	int32_t arg;
	float f;
	int32_t lut;
} gpx_k_pointop;

GPX_KD uint8_t gpx_k_gray(uint32_t r, uint32_t g, uint32_t b, int32_t alg)
{
	switch (alg) {
	case GPX_K_BT709: return (uint8_t)((13933u * r + 46871u * g + 4732u * b + 32768u) >> 16);
	case GPX_K_LUMINOSITY:
		return (uint8_t)((13763u * r + 47186u * g + 4587u * b + 32768u) >> 16);
	case GPX_K_AVERAGE: return (uint8_t)(((r + g + b + 1u) * 21846u) >> 16);
	case GPX_K_LIGHTNESS: {
		uint32_t mx = r > g ? r : g, mn = r < g ? r : g;
		mx = mx > b ? mx : b;
		mn = mn < b ? mn : b;
		return (uint8_t)((mx + mn + 1u) >> 1);
	}
	default: return gpx_k_luma601(r, g, b);
	}
}

GPX_KD uint8_t gpx_k_sepia_mix(float p, float s, float k)
{
	return gpx_k_f2u8(GPX_K_FADD(p, GPX_K_FMUL(k, GPX_K_FSUB(s, p))));
}

/* Applies one operation to the pixel p (channels *c, 1/3/4), changing the
 * channel count as docs/filters.md says (gray results of RGB are 1
 * channel; RGBA stays RGBA; sepia of gray is RGB). */
GPX_KD void gpx_k_point(const gpx_k_pointop *op, const uint8_t *luts, uint8_t *p, int32_t *c)
{
	int32_t ch = *c, color = ch == 4 ? 3 : ch;
	switch (op->kind) {
	case GPX_K_GRAY:
		if (ch == 1)
			return;
		p[0] = gpx_k_gray(p[0], p[1], p[2], op->arg);
		if (ch == 4) {
			p[1] = p[0];
			p[2] = p[0];
		} else {
			*c = 1;
		}
		return;
	case GPX_K_INVERT:
		for (int32_t i = 0; i < color; i++)
			p[i] = (uint8_t)(255 - p[i]);
		return;
	case GPX_K_LUT: {
		const uint8_t *t = luts + 256 * op->lut;
		for (int32_t i = 0; i < color; i++)
			p[i] = t[p[i]];
		return;
	}
	case GPX_K_THRESH: {
		uint8_t v = gpx_k_luma(p, ch) >= (uint32_t)op->arg ? 255 : 0;
		p[0] = v;
		if (ch == 4) {
			p[1] = v;
			p[2] = v;
		} else {
			*c = 1;
		}
		return;
	}
	case GPX_K_SEPIA: {
		float r = (float)p[0];
		float g = ch == 1 ? r : (float)p[1];
		float b = ch == 1 ? r : (float)p[2];
		float sr = GPX_K_FADD(GPX_K_FADD(GPX_K_FMUL(0.393f, r), GPX_K_FMUL(0.769f, g)),
				      GPX_K_FMUL(0.189f, b));
		float sg = GPX_K_FADD(GPX_K_FADD(GPX_K_FMUL(0.349f, r), GPX_K_FMUL(0.686f, g)),
				      GPX_K_FMUL(0.168f, b));
		float sb = GPX_K_FADD(GPX_K_FADD(GPX_K_FMUL(0.272f, r), GPX_K_FMUL(0.534f, g)),
				      GPX_K_FMUL(0.131f, b));
		p[0] = gpx_k_sepia_mix(r, sr, op->f);
		p[1] = gpx_k_sepia_mix(g, sg, op->f);
		p[2] = gpx_k_sepia_mix(b, sb, op->f);
		if (ch == 1)
			*c = 3;
		return;
	}
	default: return;
	}
}

/* ---- separable Gaussian ------------------------------------------------- */

/* Vertical pass at one sample: col[m * pitch] is the sample of input row
 * y + m - r (border already applied), m = 0 .. 2r. w: r + 1 weights. */
GPX_KD float gpx_k_blur_v(const uint8_t *col, int32_t pitch, const float *w, int32_t r)
{
	float acc = GPX_K_FMUL(w[r], (float)col[r * pitch]);
	for (int32_t k = 0; k < r; k++)
		acc = GPX_K_FADD(acc, GPX_K_FMUL(w[k], (float)((int32_t)col[k * pitch] +
							       (int32_t)col[(2 * r - k) * pitch])));
	return acc;
}

/* Horizontal pass at one sample: row[m * pitch] is the vertical result at
 * column x + m - r (border applied), m = 0 .. 2r; pitch = channels. */
GPX_KD uint8_t gpx_k_blur_h(const float *row, int32_t pitch, const float *w, int32_t r)
{
	float acc = GPX_K_FMUL(w[r], row[r * pitch]);
	for (int32_t k = 0; k < r; k++)
		acc = GPX_K_FADD(acc, GPX_K_FMUL(w[k], GPX_K_FADD(row[k * pitch],
								  row[(2 * r - k) * pitch])));
	return gpx_k_f2u8(acc);
}

/* Unsharp mask of one color sample s with its blurred value b. */
GPX_KD uint8_t gpx_k_unsharp(int32_t s, int32_t b, float amount, int32_t thr)
{
	int32_t diff = s - b, ad = diff < 0 ? -diff : diff;
	if (ad < thr)
		return (uint8_t)s;
	int32_t v =
		GPX_K_F2I(GPX_K_FADD(GPX_K_FADD((float)s, GPX_K_FMUL(amount, (float)diff)), 0.5f));
	v = v < 0 ? 0 : v;
	return (uint8_t)(v > 255 ? 255 : v);
}

/* ---- box blur: round(S / N), N odd, exact in integers -------------------- */

GPX_KD uint8_t gpx_k_box_div(uint32_t s, uint32_t n)
{
	return (uint8_t)((2u * s + n) / (2u * n));
}

/* ---- Sobel on luma: t, m, b are three luma rows at x-1 .. x+1 ----------- */

GPX_KD uint8_t gpx_k_sobel(const uint8_t *t, const uint8_t *m, const uint8_t *b, int32_t thr)
{
	int32_t gx = ((int32_t)t[2] + 2 * m[2] + b[2]) - ((int32_t)t[0] + 2 * m[0] + b[0]);
	int32_t gy = ((int32_t)b[0] + 2 * b[1] + b[2]) - ((int32_t)t[0] + 2 * t[1] + t[2]);
	int32_t sq = gx * gx + gy * gy, mag = 0;
	for (int32_t bit = 128; bit; bit >>= 1) {
		int32_t c = mag + bit;
		if (c * (c - 1) < sq)
			mag = c;
	}
	return (uint8_t)(thr > 0 ? (mag >= thr ? 255 : 0) : mag);
}

/* ---- resize ------------------------------------------------------------- */

/* Vertical: sum of n taps of column samples col[k * pitch], weights w. */
GPX_KD float gpx_k_resize_v(const uint8_t *col, size_t pitch, const float *w, int32_t n)
{
	float acc = GPX_K_FMUL(w[0], (float)col[0]);
	for (int32_t k = 1; k < n; k++)
		acc = GPX_K_FADD(acc, GPX_K_FMUL(w[k], (float)col[(size_t)k * pitch]));
	return acc;
}

/* Horizontal: from 0, n taps of row[k * pitch]. */
GPX_KD uint8_t gpx_k_resize_h(const float *row, int32_t pitch, const float *w, int32_t n)
{
	float acc = 0.0f;
	for (int32_t k = 0; k < n; k++)
		acc = GPX_K_FADD(acc, GPX_K_FMUL(w[k], row[k * pitch]));
	return gpx_k_f2u8(acc);
}

/* ---- geometry: the source pixel of output (ox, oy) ---------------------- */

enum {
	GPX_K_FLIP_H = 0,
	GPX_K_FLIP_V = 1,
	GPX_K_FLIP_BOTH = 2,
	GPX_K_ROT90 = 3,
	GPX_K_ROT180 = 4,
	GPX_K_ROT270 = 5,
	GPX_K_CROP = 6, /* a, b: the rectangle's corner */
};

GPX_KD void gpx_k_geom_src(int32_t mode, int32_t win, int32_t hin, int32_t ox, int32_t oy,
			   int32_t a, int32_t b, int32_t *sx, int32_t *sy)
{
	switch (mode) {
	case GPX_K_FLIP_H: *sx = win - 1 - ox, *sy = oy; break;
	case GPX_K_FLIP_V: *sx = ox, *sy = hin - 1 - oy; break;
	case GPX_K_FLIP_BOTH:
	case GPX_K_ROT180: *sx = win - 1 - ox, *sy = hin - 1 - oy; break;
	case GPX_K_ROT90: *sx = oy, *sy = hin - 1 - ox; break;
	case GPX_K_ROT270: *sx = win - 1 - oy, *sy = ox; break;
	default: *sx = a + ox, *sy = b + oy; break;
	}
}

#endif
