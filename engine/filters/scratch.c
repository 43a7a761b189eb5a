#include "engine/filters/scratch.h"

#include <stdlib.h>
#include <string.h>

#define SCRATCH_DEFAULT_BUFFERS 16
#define SCRATCH_DEFAULT_BYTES ((size_t)512 << 20)

typedef struct idle_buf {
	void *p;
	size_t cap;
} idle_buf;

struct gpx_scratch {
	size_t max_buffers;
	size_t max_bytes;
	size_t idle_bytes;
	size_t n;
	uint64_t hits, misses;
	idle_buf *idle; /* max_buffers entries, n used */
};

/* Requests are rounded up so that buffers of nearly the same size (a
 * 1920x1080 and a 1920x1079 image) share pool entries. */
static size_t round_cap(size_t size)
{
	size_t q = (size_t)4096;
	if (size > SIZE_MAX - q)
		return size;
	return (size + q - 1) & ~(q - 1);
}

int gpx_scratch_create(size_t max_buffers, size_t max_bytes, gpx_scratch **out)
{
	*out = NULL;
	gpx_scratch *s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->max_buffers = max_buffers ? max_buffers : SCRATCH_DEFAULT_BUFFERS;
	s->max_bytes = max_bytes ? max_bytes : SCRATCH_DEFAULT_BYTES;
	s->idle = calloc(s->max_buffers, sizeof(*s->idle));
	if (!s->idle) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
}

void gpx_scratch_trim(gpx_scratch *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->idle[i].p);
	s->n = 0;
	s->idle_bytes = 0;
}

void gpx_scratch_destroy(gpx_scratch *s)
{
	if (!s)
		return;
	gpx_scratch_trim(s);
	free(s->idle);
	free(s);
}

void *gpx_scratch_get(gpx_scratch *s, size_t size)
{
	size_t cap = round_cap(size ? size : 1);
	if (s) {
		size_t best = s->n;
		for (size_t i = 0; i < s->n; i++) {
			size_t c = s->idle[i].cap;
			if (c >= cap && c / 2 <= cap && (best == s->n || c < s->idle[best].cap))
				best = i;
		}
		if (best < s->n) {
			void *p = s->idle[best].p;
			s->idle_bytes -= s->idle[best].cap;
			s->idle[best] = s->idle[--s->n];
			s->hits++;
			return p;
		}
		s->misses++;
	}
	void *p = NULL;
	if (posix_memalign(&p, 64, cap) != 0)
		return NULL;
	return p;
}

void gpx_scratch_put(gpx_scratch *s, void *p, size_t size)
{
	if (!p)
		return;
	if (!s) {
		free(p);
		return;
	}
	size_t cap = round_cap(size ? size : 1);
	if (cap > s->max_bytes) {
		free(p);
		return;
	}
	/* Make room by evicting the largest idle buffers: small ones are the
	 * cheap ones to keep and the likeliest to be asked for again. */
	while (s->n > 0 && (s->n == s->max_buffers || s->idle_bytes + cap > s->max_bytes)) {
		size_t big = 0;
		for (size_t i = 1; i < s->n; i++)
			if (s->idle[i].cap > s->idle[big].cap)
				big = i;
		free(s->idle[big].p);
		s->idle_bytes -= s->idle[big].cap;
		s->idle[big] = s->idle[--s->n];
	}
	s->idle[s->n].p = p;
	s->idle[s->n].cap = cap;
	s->n++;
	s->idle_bytes += cap;
}

void gpx_scratch_get_stats(const gpx_scratch *s, gpx_scratch_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (!s)
		return;
	out->idle_buffers = s->n;
	out->idle_bytes = s->idle_bytes;
	out->hits = s->hits;
	out->misses = s->misses;
}

static int image_bytes(uint32_t width, uint32_t height, uint32_t channels, size_t *stride,
		       size_t *bytes)
{
	if (width == 0 || height == 0 || channels == 0 || channels > 4)
		return -1;
	size_t row = (size_t)width * channels;
	size_t s = (row + 63) & ~(size_t)63;
	if ((size_t)height > SIZE_MAX / s)
		return -1;
	*stride = s;
	*bytes = s * height;
	return 0;
}

int gpx_scratch_image_alloc(gpx_scratch *s, gpx_image *img, uint32_t width, uint32_t height,
			    uint32_t channels)
{
	memset(img, 0, sizeof(*img));
	size_t stride, bytes;
	if (image_bytes(width, height, channels, &stride, &bytes) != 0)
		return -1;
	uint8_t *p = gpx_scratch_get(s, bytes);
	if (!p)
		return -1;
	img->width = width;
	img->height = height;
	img->channels = channels;
	img->stride = stride;
	img->data = p;
	return 0;
}

void gpx_scratch_image_release(gpx_scratch *s, gpx_image *img)
{
	if (img->data)
		gpx_scratch_put(s, img->data, img->stride * img->height);
	memset(img, 0, sizeof(*img));
}
