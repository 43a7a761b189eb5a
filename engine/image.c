#include "engine/image.h"

#include <stdlib.h>
#include <string.h>

int gpx_image_alloc(gpx_image *img, uint32_t width, uint32_t height, uint32_t channels)
{
	memset(img, 0, sizeof(*img));
	if (width == 0 || height == 0 || channels == 0 || channels > 4)
		return -1;
	size_t row = (size_t)width * channels;
	size_t stride = (row + 63) & ~(size_t)63;
	if (stride / channels < width || (size_t)height > SIZE_MAX / stride)
		return -1;
	void *p = NULL;
	if (posix_memalign(&p, 64, stride * height) != 0)
		return -1;
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->stride = stride;
	img->data = p;
	return 0;
}

void gpx_image_free(gpx_image *img)
{
	free(img->data);
	img->data = NULL;
}
