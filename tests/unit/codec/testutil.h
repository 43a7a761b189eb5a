/* Helpers shared by the codec tests: synthetic images and hand-built PNG
 * files (chunks with real CRCs), so the tests need no fixture files. */
#ifndef GPX_TEST_CODEC_UTIL_H
#define GPX_TEST_CODEC_UTIL_H

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "codec/codec.h"
#include "common/buf.h"
#include "engine/image.h"

/* Smooth gradients (no wrap-around edges) survive JPEG well; each channel,
 * alpha included, runs in its own direction. */
static inline void tu_fill_gradient(gpx_image *img)
{
	uint32_t w = img->width > 1 ? img->width - 1 : 1;
	uint32_t h = img->height > 1 ? img->height - 1 : 1;
	for (uint32_t y = 0; y < img->height; y++) {
		uint8_t *row = gpx_image_row(img, y);
		for (uint32_t x = 0; x < img->width; x++) {
			uint8_t *p = row + (size_t)x * img->channels;
			uint8_t v[4] = {(uint8_t)(x * 255 / w), (uint8_t)(y * 255 / h),
					(uint8_t)((x + y) * 255 / (w + h)),
					(uint8_t)(255 - x * 255 / w)};
			if (img->channels == 1)
				p[0] = (uint8_t)((v[0] + v[1]) / 2);
			else
				memcpy(p, v, img->channels);
		}
	}
}

static inline gpx_image tu_gradient(uint32_t w, uint32_t h, uint32_t ch)
{
	gpx_image img;
	ck_assert_int_eq(gpx_image_alloc(&img, w, h, ch), 0);
	tu_fill_gradient(&img);
	return img;
}

/* Flat 16x16 blocks in distinct colours: exact enough through JPEG to tell
 * which block landed where after an EXIF rotation. */
static inline uint8_t tu_block_value(uint32_t bx, uint32_t by, uint32_t c)
{
	return (uint8_t)(((bx * 7 + by * 3 + c * 5) % 8) * 32 + 16);
}

static inline gpx_image tu_blocks(uint32_t bw, uint32_t bh, uint32_t ch)
{
	gpx_image img;
	ck_assert_int_eq(gpx_image_alloc(&img, bw * 16, bh * 16, ch), 0);
	for (uint32_t y = 0; y < img.height; y++)
		for (uint32_t x = 0; x < img.width; x++)
			for (uint32_t c = 0; c < ch; c++)
				gpx_image_row(&img, y)[(size_t)x * ch + c] =
					tu_block_value(x / 16, y / 16, c);
	return img;
}

/* Mean absolute difference over all samples of two same-shaped images. */
static inline double tu_mean_abs_diff(const gpx_image *a, const gpx_image *b)
{
	ck_assert_uint_eq(a->width, b->width);
	ck_assert_uint_eq(a->height, b->height);
	ck_assert_uint_eq(a->channels, b->channels);
	double sum = 0;
	for (uint32_t y = 0; y < a->height; y++)
		for (size_t i = 0; i < (size_t)a->width * a->channels; i++)
			sum += abs((int)gpx_image_row(a, y)[i] - (int)gpx_image_row(b, y)[i]);
	return sum / ((double)a->width * a->height * a->channels);
}

static inline int tu_images_equal(const gpx_image *a, const gpx_image *b)
{
	if (a->width != b->width || a->height != b->height || a->channels != b->channels)
		return 0;
	for (uint32_t y = 0; y < a->height; y++)
		if (memcmp(gpx_image_row(a, y), gpx_image_row(b, y),
			   (size_t)a->width * a->channels) != 0)
			return 0;
	return 1;
}

static inline double tu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* --- hand-built PNG --- */

static inline void tu_put32(gpx_buf *b, uint32_t v)
{
	uint8_t p[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
	ck_assert_int_eq(gpx_buf_append(b, p, 4), 0);
}

static inline void tu_png_chunk(gpx_buf *b, const char *type, const void *data, uint32_t n)
{
	tu_put32(b, n);
	size_t start = b->len;
	ck_assert_int_eq(gpx_buf_append(b, type, 4), 0);
	if (n)
		ck_assert_int_eq(gpx_buf_append(b, data, n), 0);
	tu_put32(b, (uint32_t)crc32(0L, b->data + start, 4 + n));
}

static inline void tu_png_start(gpx_buf *b, uint32_t w, uint32_t h, int depth, int ctype,
				int interlace)
{
	static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	ck_assert_int_eq(gpx_buf_append(b, sig, 8), 0);
	uint8_t ihdr[13] = {(uint8_t)(w >> 24),
			    (uint8_t)(w >> 16),
			    (uint8_t)(w >> 8),
			    (uint8_t)w,
			    (uint8_t)(h >> 24),
			    (uint8_t)(h >> 16),
			    (uint8_t)(h >> 8),
			    (uint8_t)h,
			    (uint8_t)depth,
			    (uint8_t)ctype,
			    0,
			    0,
			    (uint8_t)interlace};
	tu_png_chunk(b, "IHDR", ihdr, 13);
}

/* IDAT from raw (unfiltered) scanlines of rowbytes each; IEND after. */
static inline void tu_png_finish(gpx_buf *b, const uint8_t *rows, uint32_t h, size_t rowbytes)
{
	size_t rawlen = h * (rowbytes + 1);
	uint8_t *raw = malloc(rawlen);
	ck_assert_ptr_nonnull(raw);
	for (uint32_t y = 0; y < h; y++) {
		raw[y * (rowbytes + 1)] = 0; /* filter: none */
		memcpy(raw + y * (rowbytes + 1) + 1, rows + y * rowbytes, rowbytes);
	}
	uLongf zlen = compressBound(rawlen);
	uint8_t *z = malloc(zlen);
	ck_assert_ptr_nonnull(z);
	ck_assert_int_eq(compress(z, &zlen, raw, rawlen), Z_OK);
	tu_png_chunk(b, "IDAT", z, (uint32_t)zlen);
	tu_png_chunk(b, "IEND", NULL, 0);
	free(z);
	free(raw);
}

#endif
