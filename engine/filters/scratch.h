/* A small per-worker pool of large, 64-byte aligned buffers, reused across
 * jobs so that a 1080p pipeline does not pay fresh page faults for every
 * intermediate image (see PITFALLS.md: 20 ms -> 8.6 ms measured).
 *
 * Not thread-safe: one pool per worker thread. Buffers come from
 * posix_memalign, so a buffer taken from the pool may also be released
 * with free() (or gpx_image_free) instead of being put back; it is then
 * simply not reused. The pool keeps at most `max_buffers` idle buffers and
 * `max_bytes` idle bytes; what does not fit is freed. */
#ifndef GPX_SCRATCH_H
#define GPX_SCRATCH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/image.h"

typedef struct gpx_scratch gpx_scratch;

typedef struct gpx_scratch_stats {
	size_t idle_buffers;
	size_t idle_bytes;
	uint64_t hits;	 /* gets served from the pool */
	uint64_t misses; /* gets that had to allocate */
} gpx_scratch_stats;

/* max_buffers 0: 16; max_bytes 0: 512 MiB. 0, or -1 when out of memory. */
int gpx_scratch_create(size_t max_buffers, size_t max_bytes, gpx_scratch **out);
/* Frees the pool and every idle buffer (buffers still out are the
 * holder's to free). NULL is a no-op. */
void gpx_scratch_destroy(gpx_scratch *s);

/* A buffer of at least `size` bytes, 64-byte aligned, uninitialised:
 * the smallest idle one that fits and is not more than twice as large,
 * else a new one. s may be NULL (plain allocation). NULL when out of
 * memory. */
void *gpx_scratch_get(gpx_scratch *s, size_t size);
/* Gives a buffer back; `size` is the size it was asked for. s NULL or p
 * NULL: free(p). */
void gpx_scratch_put(gpx_scratch *s, void *p, size_t size);
/* Frees every idle buffer. */
void gpx_scratch_trim(gpx_scratch *s);
void gpx_scratch_get_stats(const gpx_scratch *s, gpx_scratch_stats *out);

/* gpx_image_alloc with the pixels taken from the pool (s may be NULL).
 * 0, or -1 on bad geometry or out of memory. */
int gpx_scratch_image_alloc(gpx_scratch *s, gpx_image *img, uint32_t width, uint32_t height,
			    uint32_t channels);
/* Puts the pixels back and zeroes img; gpx_image_free is also fine. */
void gpx_scratch_image_release(gpx_scratch *s, gpx_image *img);

#endif
