/* Internal to codec/: the per-format halves behind codec.h, and the EXIF
 * reader (exposed here so its tests can reach it). */
#ifndef GPX_CODEC_INTERNAL_H
#define GPX_CODEC_INTERNAL_H

#include "codec/codec.h"

/* EXIF orientation (1..8) from a JPEG's APP1 "Exif" segment; 1 when there
 * is none or it is malformed. Reads markers up to the first SOS only. */
int gpx_codec_jpeg_orientation(const uint8_t *data, size_t len);

/* Orientation from one APP1 payload (starting at "Exif\0\0"); 0 when the
 * payload is not EXIF or carries no valid orientation tag. */
int gpx_codec_exif_parse(const uint8_t *app1, size_t len);

/* Writes src into *dst turned as EXIF orientation o asks (dst allocated
 * here). o == 1 copies. */
int gpx_codec_orient(const gpx_image *src, int o, gpx_image *dst);

int gpx_codec_jpeg_probe(const uint8_t *data, size_t len, gpx_codec_info *info, gpx_status *st);
int gpx_codec_jpeg_decode(const uint8_t *data, size_t len, const gpx_codec_limits *lim,
			  uint32_t max_width, uint32_t max_height, gpx_image *out, gpx_status *st);
int gpx_codec_jpeg_encode(const gpx_image *img, int quality, gpx_buf *out, gpx_status *st);

int gpx_codec_png_probe(const uint8_t *data, size_t len, gpx_codec_info *info, gpx_status *st);
int gpx_codec_png_decode(const uint8_t *data, size_t len, const gpx_codec_limits *lim,
			 gpx_image *out, gpx_status *st);
int gpx_codec_png_encode(const gpx_image *img, gpx_buf *out, gpx_status *st);

#endif
