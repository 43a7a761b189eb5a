/* Image codecs: JPEG (libjpeg-turbo, TurboJPEG API) and PNG (libpng).
 *
 * Every entry point takes the encoded bytes with their length and never
 * reads past it. Decoding reads the header first and checks its dimensions
 * against gpx_codec_limits before any pixel buffer is allocated.
 *
 * Errors fill in a gpx_status and return -1:
 *   GPX_INVALID_ARGUMENT    empty, truncated, corrupt or not JPEG/PNG data,
 *                           unsupported format or parameter for encode
 *   GPX_RESOURCE_EXHAUSTED  header dimensions over the limits; encoded
 *                           output over the gpx_buf limit
 *   GPX_INTERNAL            out of memory, library setup failure
 *
 * Threads: every function may be called from any thread at the same time.
 * TurboJPEG handles are created lazily once per thread and kept in
 * thread-local storage; they are freed when the thread exits (a pthread key
 * destructor) or earlier with gpx_codec_thread_cleanup(). */
#ifndef GPX_CODEC_H
#define GPX_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/status.h"
#include "engine/image.h"

/* Same numbers as gpix.v1.ImageFormat. */
enum {
	GPX_FMT_UNKNOWN = 0,
	GPX_FMT_JPEG = 1,
	GPX_FMT_PNG = 2,
};

#define GPX_CODEC_DEFAULT_MAX_PIXELS 100000000ULL
#define GPX_CODEC_DEFAULT_MAX_SIDE 65535u
#define GPX_CODEC_DEFAULT_JPEG_QUALITY 90

/* What the header says. width and height are the displayed size: for a JPEG
 * whose EXIF orientation is 5..8 they are already swapped, so they equal the
 * size gpx_codec_decode returns. channels is what decode will produce
 * (1, 3 or 4). */
typedef struct gpx_codec_info {
	int format; /* GPX_FMT_* */
	uint32_t width;
	uint32_t height;
	uint32_t channels;
	int orientation; /* EXIF orientation 1..8; 1 for PNG or no EXIF */
} gpx_codec_info;

/* A field left 0 takes its default; a NULL limits pointer means all
 * defaults. */
typedef struct gpx_codec_limits {
	uint64_t max_pixels; /* width * height; default 100 000 000 */
	uint32_t max_side;   /* either side; default 65535 */
} gpx_codec_limits;

void gpx_codec_limits_default(gpx_codec_limits *lim);

/* Reads only the header (and, for JPEG, the APP1 EXIF segment; for PNG, the
 * chunks before the first IDAT). Does not check limits. */
int gpx_codec_probe(const uint8_t *data, size_t len, gpx_codec_info *info, gpx_status *st);

/* GPX_RESOURCE_EXHAUSTED with a message naming the dimensions when info is
 * over lim, else 0. */
int gpx_codec_check_limits(const gpx_codec_info *info, const gpx_codec_limits *lim, gpx_status *st);

/* Decodes the whole image into *out, which the caller then owns and frees
 * with gpx_image_free. On error *out is left zeroed (nothing to free).
 * JPEG: EXIF orientation applied; gray → 1 channel, YCbCr → 3, CMYK/YCCK →
 * 3 (RGB). Any libjpeg warning (truncated data, corrupt entropy data) is an
 * error. PNG: gray → 1; gray+alpha, or any type with tRNS → 4 (RGBA);
 * palette and RGB → 3; RGBA → 4; 16-bit samples scaled to 8; interlaced
 * images de-interlaced. The data must be complete through IEND. */
int gpx_codec_decode(const uint8_t *data, size_t len, const gpx_codec_limits *lim, gpx_image *out,
		     gpx_status *st);

/* Like gpx_codec_decode, but a JPEG may come back smaller: the smallest
 * TurboJPEG scaling factor (1/8, 1/4, 1/2 or 1) whose result is still at
 * least max_width wide and max_height high (displayed size; 0 = no bound on
 * that side). For previews: the caller resizes the rest of the way. PNG is
 * always decoded at full size. Limits apply to the full header size. */
int gpx_codec_decode_scaled(const uint8_t *data, size_t len, const gpx_codec_limits *lim,
			    uint32_t max_width, uint32_t max_height, gpx_image *out,
			    gpx_status *st);

/* Encodes img and APPENDS the bytes to *out (out->len grows; reset it first
 * for a fresh buffer). On error out->len is as it was.
 * JPEG: quality 1..100, 0 = default 90; 4:2:0 subsampling; 1 channel → a
 * grayscale JPEG; 4 channels → alpha dropped.
 * PNG: quality ignored; fast zlib level and the SUB filter; alpha kept. */
int gpx_codec_encode(const gpx_image *img, int format, int quality, gpx_buf *out, gpx_status *st);

/* Format from the first bytes (magic numbers only), GPX_FMT_UNKNOWN if
 * neither. */
int gpx_codec_sniff(const uint8_t *data, size_t len);
/* "image/jpeg", "image/png"; NULL for an unknown format. */
const char *gpx_codec_mime(int format);
/* "jpg", "png" (no dot); NULL for an unknown format. */
const char *gpx_codec_ext(int format);
/* "image/jpeg" / "image/jpg" / "image/png" (parameters after ';' ignored,
 * case-insensitive) → GPX_FMT_*, else GPX_FMT_UNKNOWN. */
int gpx_codec_format_from_mime(const char *mime);

/* Frees the calling thread's TurboJPEG handles now (they are recreated on
 * the next call). Threads that exit need not call it. */
void gpx_codec_thread_cleanup(void);

#endif
