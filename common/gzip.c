#include "common/gzip.h"

#include <string.h>
#include <zlib.h>

int gpx_gunzip(const uint8_t *in, size_t n, size_t max_out, gpx_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK)
		return -1;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	size_t start = out->len;
	int rc = -1;
	for (;;) {
		if (out->len - start >= max_out) {
			/* Full: only fine if the stream ends right here. */
			uint8_t probe;
			z.next_out = &probe;
			z.avail_out = 1;
			int zr = inflate(&z, Z_NO_FLUSH);
			rc = (zr == Z_STREAM_END && z.avail_out == 1) ? 0 : -2;
			break;
		}
		size_t room = max_out - (out->len - start);
		size_t chunk = room < 65536 ? room : 65536;
		if (gpx_buf_reserve(out, chunk) < 0) {
			rc = -2;
			break;
		}
		z.next_out = out->data + out->len;
		z.avail_out = (uInt)chunk;
		int zr = inflate(&z, Z_NO_FLUSH);
		out->len += chunk - z.avail_out;
		if (zr == Z_STREAM_END) {
			rc = z.avail_in == 0 ? 0 : -1; /* trailing garbage */
			break;
		}
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			break;
		if (zr == Z_BUF_ERROR && z.avail_in == 0)
			break; /* truncated */
	}
	inflateEnd(&z);
	if (rc != 0)
		out->len = start;
	if (out->data)
		out->data[out->len] = 0;
	return rc;
}

int gpx_gzip(const uint8_t *in, size_t n, int level, gpx_buf *out)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	size_t bound = deflateBound(&z, (uLong)n);
	if (gpx_buf_reserve(out, bound) < 0) {
		deflateEnd(&z);
		return -1;
	}
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)n;
	z.next_out = out->data + out->len;
	z.avail_out = (uInt)bound;
	int zr = deflate(&z, Z_FINISH);
	if (zr == Z_STREAM_END)
		out->len += bound - z.avail_out;
	deflateEnd(&z);
	return zr == Z_STREAM_END ? 0 : -1;
}
