/* gzip (RFC 1952) with zlib, bounded on the way in. */
#ifndef GPX_GZIP_H
#define GPX_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Appends the decompressed bytes to out. Stops with -2 as soon as the output
 * would pass max_out (a gzip bomb costs at most max_out bytes of memory),
 * -1 on corrupt or truncated input. */
int gpx_gunzip(const uint8_t *in, size_t n, size_t max_out, gpx_buf *out);
/* Appends the gzip-compressed form of in to out (level 1..9). */
int gpx_gzip(const uint8_t *in, size_t n, int level, gpx_buf *out);

#endif
