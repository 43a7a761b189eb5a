#include "codec/codec.h"

#include <string.h>
#include <strings.h>

#include "codec/codec_internal.h"

static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void gpx_codec_limits_default(gpx_codec_limits *lim)
{
	lim->max_pixels = GPX_CODEC_DEFAULT_MAX_PIXELS;
	lim->max_side = GPX_CODEC_DEFAULT_MAX_SIDE;
}

int gpx_codec_sniff(const uint8_t *data, size_t len)
{
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return GPX_FMT_JPEG;
	if (len >= sizeof(png_magic) && memcmp(data, png_magic, sizeof(png_magic)) == 0)
		return GPX_FMT_PNG;
	return GPX_FMT_UNKNOWN;
}

const char *gpx_codec_mime(int format)
{
	switch (format) {
	case GPX_FMT_JPEG: return "image/jpeg";
	case GPX_FMT_PNG: return "image/png";
	default: return NULL;
	}
}

const char *gpx_codec_ext(int format)
{
	switch (format) {
	case GPX_FMT_JPEG: return "jpg";
	case GPX_FMT_PNG: return "png";
	default: return NULL;
	}
}

int gpx_codec_format_from_mime(const char *mime)
{
	if (!mime)
		return GPX_FMT_UNKNOWN;
	while (*mime == ' ' || *mime == '\t')
		mime++;
	size_t n = strcspn(mime, "; \t");
	if ((n == 10 && strncasecmp(mime, "image/jpeg", n) == 0) ||
	    (n == 9 && strncasecmp(mime, "image/jpg", n) == 0))
		return GPX_FMT_JPEG;
	if (n == 9 && strncasecmp(mime, "image/png", n) == 0)
		return GPX_FMT_PNG;
	return GPX_FMT_UNKNOWN;
}

static int check_input(const uint8_t *data, size_t len, gpx_status *st)
{
	if (!data || len == 0)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "empty image data");
	int fmt = gpx_codec_sniff(data, len);
	if (fmt == GPX_FMT_UNKNOWN)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "not a JPEG or PNG image");
	return fmt;
}

int gpx_codec_probe(const uint8_t *data, size_t len, gpx_codec_info *info, gpx_status *st)
{
	memset(info, 0, sizeof(*info));
	int fmt = check_input(data, len, st);
	if (fmt < 0)
		return -1;
	if (fmt == GPX_FMT_JPEG)
		return gpx_codec_jpeg_probe(data, len, info, st);
	return gpx_codec_png_probe(data, len, info, st);
}

int gpx_codec_check_limits(const gpx_codec_info *info, const gpx_codec_limits *lim, gpx_status *st)
{
	uint64_t max_pixels =
		lim && lim->max_pixels ? lim->max_pixels : GPX_CODEC_DEFAULT_MAX_PIXELS;
	uint32_t max_side = lim && lim->max_side ? lim->max_side : GPX_CODEC_DEFAULT_MAX_SIDE;
	uint64_t pixels = (uint64_t)info->width * info->height;
	if (pixels > max_pixels)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
				      "image is %ux%u = %llu pixels, over the limit of %llu",
				      info->width, info->height, (unsigned long long)pixels,
				      (unsigned long long)max_pixels);
	if (info->width > max_side || info->height > max_side)
		return gpx_status_set(st, GPX_RESOURCE_EXHAUSTED,
				      "image is %ux%u, a side over the limit of %u", info->width,
				      info->height, max_side);
	return 0;
}

int gpx_codec_decode_scaled(const uint8_t *data, size_t len, const gpx_codec_limits *lim,
			    uint32_t max_width, uint32_t max_height, gpx_image *out, gpx_status *st)
{
	memset(out, 0, sizeof(*out));
	int fmt = check_input(data, len, st);
	if (fmt < 0)
		return -1;
	if (fmt == GPX_FMT_JPEG)
		return gpx_codec_jpeg_decode(data, len, lim, max_width, max_height, out, st);
	return gpx_codec_png_decode(data, len, lim, out, st);
}

int gpx_codec_decode(const uint8_t *data, size_t len, const gpx_codec_limits *lim, gpx_image *out,
		     gpx_status *st)
{
	return gpx_codec_decode_scaled(data, len, lim, 0, 0, out, st);
}

int gpx_codec_encode(const gpx_image *img, int format, int quality, gpx_buf *out, gpx_status *st)
{
	if (!img || !img->data || img->width == 0 || img->height == 0 ||
	    (img->channels != 1 && img->channels != 3 && img->channels != 4) ||
	    img->stride < (size_t)img->width * img->channels)
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "no image to encode");
	switch (format) {
	case GPX_FMT_JPEG:
		if (quality < 0 || quality > 100)
			return gpx_status_set(st, GPX_INVALID_ARGUMENT,
					      "JPEG quality %d is out of range 1..100", quality);
		return gpx_codec_jpeg_encode(
			img, quality ? quality : GPX_CODEC_DEFAULT_JPEG_QUALITY, out, st);
	case GPX_FMT_PNG: return gpx_codec_png_encode(img, out, st);
	default:
		return gpx_status_set(st, GPX_INVALID_ARGUMENT, "unsupported output format %d",
				      format);
	}
}
