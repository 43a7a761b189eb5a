/* The in-memory image every engine part shares: 8 bits per channel,
 * interleaved, rows `stride` bytes apart.
 *
 * channels: 1 (gray), 3 (RGB) or 4 (RGBA). Inputs with 16 bits per channel
 * are reduced to 8 by the codecs; CMYK is converted to RGB.
 *
 * Ownership: gpx_image_alloc gives an image whose pixels the image owns;
 * gpx_image_free releases them (and is a no-op on a zeroed image). */
#ifndef GPX_IMAGE_H
#define GPX_IMAGE_H

#include <stddef.h>
#include <stdint.h>

typedef struct gpx_image {
	uint32_t width;
	uint32_t height;
	uint32_t channels;
	size_t stride; /* bytes per row, >= width * channels */
	uint8_t *data;
} gpx_image;

/* Allocates width*height*channels bytes (stride rounded up to 64 bytes so
 * rows stay aligned for vector loads). Returns 0, or -1 on overflow or
 * out of memory. The pixels are not initialised. */
int gpx_image_alloc(gpx_image *img, uint32_t width, uint32_t height, uint32_t channels);
void gpx_image_free(gpx_image *img);

static inline uint8_t *gpx_image_row(const gpx_image *img, uint32_t y)
{
	return img->data + (size_t)y * img->stride;
}

#endif
