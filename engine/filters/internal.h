/* Shared by the built-in filter implementations; not a public header. */
#ifndef GPX_FILTERS_INTERNAL_H
#define GPX_FILTERS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "engine/filters/filter.h"

/* Hot loops are compiled three times: for the baseline, x86-64-v3 (AVX2)
 * and x86-64-v4 (AVX-512), picked at load time. -std=c17 keeps
 * -ffp-contract=off, so every clone does the same float operations in the
 * same order and gives identical results.
 *
 * Writing loops the vectorizer takes (checked with -fopt-info-vec):
 * size_t indices (a uint32_t 3*x may wrap, which blocks it), restrict
 * pointers that are function parameters (GCC ignores block-scope restrict),
 * and clamps on integers after the conversion, not float ternaries (those
 * stay branches without -ffast-math). */
/* Not under TSan: it instruments the ifunc resolvers, which run before
 * its runtime is up, and the program crashes at load. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define GPX_HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GPX_HOT
#endif

#define GPX_ALIGN_UP(n) (((n) + (size_t)63) & ~(size_t)63)

/* Border rules shared by the blurs (option order = enum value). */
enum gpx_border { GPX_BORDER_REFLECT = 0, GPX_BORDER_CLAMP = 1, GPX_BORDER_WRAP = 2 };
extern const char *const gpx_border_options[];

/* Maps i (any integer) into [0, n) by the border rule; docs/filters.md. */
static inline int32_t gpx_border_index(int64_t i, int64_t n, int rule)
{
	if (i >= 0 && i < n)
		return (int32_t)i;
	if (n == 1)
		return 0;
	switch (rule) {
	case GPX_BORDER_CLAMP: return i < 0 ? 0 : (int32_t)(n - 1);
	case GPX_BORDER_WRAP: {
		int64_t m = i % n;
		return (int32_t)(m < 0 ? m + n : m);
	}
	default: { /* reflect without repeating the edge: period 2n-2 */
		int64_t p = 2 * n - 2;
		int64_t m = i % p;
		if (m < 0)
			m += p;
		return (int32_t)(m < n ? m : p - m);
	}
	}
}

/* Float to byte: round half up, clamp to [0, 255]. Same result as
 * clamping first for every value a filter can produce (|v| < 2^30). */
static inline uint8_t gpx_f2u8(float v)
{
	int32_t i = (int32_t)(v + 0.5f);
	i = i < 0 ? 0 : i;
	return (uint8_t)(i > 255 ? 255 : i);
}

/* Luma weights in 1/65536 (sum 65536), rounded half up. */
#define GPX_Y601_R 19595
#define GPX_Y601_G 38470
#define GPX_Y601_B 7471
static inline uint8_t gpx_luma601(unsigned r, unsigned g, unsigned b)
{
	return (uint8_t)((GPX_Y601_R * r + GPX_Y601_G * g + GPX_Y601_B * b + 32768u) >> 16);
}

/* One row of BT.601 luma from a 1, 3 or 4 channel row. */
void gpx_luma_row(const uint8_t *restrict src, uint32_t channels, uint8_t *restrict dst,
		  uint32_t width);

/* Writes a gray row (width bytes) into an output row of 1 or 4 channels;
 * for 4 the alpha comes from `src_rgba` (the input row). */
void gpx_put_gray_row(const uint8_t *restrict gray, uint8_t *restrict dst, uint32_t out_channels,
		      const uint8_t *restrict src_rgba, uint32_t width);

/* Geometry helpers for filters that keep the input size; gray output: 1
 * channel for 1 and 3 channel inputs, 4 (R=G=B) for RGBA. */
int gpx_plan_same(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h, uint32_t *ch,
		  gpx_status *st);
int gpx_plan_gray(const double *params, const gpx_image *in, uint32_t *w, uint32_t *h, uint32_t *ch,
		  gpx_status *st);

/* Gaussian kernel (docs/filters.md): size from sigma and kernel_size. */
uint32_t gpx_gauss_ksize(double sigma, double kernel_size);
void gpx_gauss_kernel(double sigma, uint32_t ksize, float *w);

/* One output row of the separable float convolution of an interleaved
 * 8-bit image with the same odd, symmetric kernel in both directions
 * (docs/filters.md, "blur"). dst: width*channels bytes. scratch:
 * gpx_conv_scratch_size bytes, 64-byte aligned. */
size_t gpx_conv_scratch_size(const gpx_image *in, uint32_t ksize);
void gpx_conv_row(const gpx_image *in, uint32_t y, const float *w, uint32_t ksize, int border,
		  uint8_t *dst, void *scratch);

/* The built-ins, in registry order. */
extern const gpx_filter_def gpx_fdef_grayscale;
extern const gpx_filter_def gpx_fdef_blur;
extern const gpx_filter_def gpx_fdef_box_blur;
extern const gpx_filter_def gpx_fdef_edge;
extern const gpx_filter_def gpx_fdef_sharpen;
extern const gpx_filter_def gpx_fdef_invert;
extern const gpx_filter_def gpx_fdef_brightness_contrast;
extern const gpx_filter_def gpx_fdef_threshold;
extern const gpx_filter_def gpx_fdef_sepia;
extern const gpx_filter_def gpx_fdef_resize;
extern const gpx_filter_def gpx_fdef_rotate;
extern const gpx_filter_def gpx_fdef_flip;
extern const gpx_filter_def gpx_fdef_crop;

#endif
