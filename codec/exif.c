/* EXIF orientation: just enough of JPEG markers and TIFF IFD0 to find tag
 * 0x0112, every offset checked against the segment it claims to be in. */
#include <stddef.h>
#include <string.h>

#include "codec/codec_internal.h"

static unsigned rd16(const uint8_t *p, int le)
{
	return le ? (unsigned)p[0] | (unsigned)p[1] << 8 : (unsigned)p[0] << 8 | (unsigned)p[1];
}

static uint32_t rd32(const uint8_t *p, int le)
{
	if (le)
		return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		       (uint32_t)p[3] << 24;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int gpx_codec_exif_parse(const uint8_t *p, size_t n)
{
	static const char sig[6] = {'E', 'x', 'i', 'f', 0, 0};
	if (n < sizeof(sig) + 8 || memcmp(p, sig, sizeof(sig)) != 0)
		return 0;
	const uint8_t *t = p + sizeof(sig);
	size_t tn = n - sizeof(sig);
	int le;
	if (t[0] == 'I' && t[1] == 'I')
		le = 1;
	else if (t[0] == 'M' && t[1] == 'M')
		le = 0;
	else
		return 0;
	if (rd16(t + 2, le) != 42)
		return 0;
	size_t ifd = rd32(t + 4, le);
	if (ifd > tn || tn - ifd < 2)
		return 0;
	size_t count = rd16(t + ifd, le);
	size_t e = ifd + 2;
	for (size_t i = 0; i < count; i++, e += 12) {
		if (e > tn || tn - e < 12)
			return 0;
		if (rd16(t + e, le) != 0x0112)
			continue;
		/* SHORT, count >= 1: the value sits in the entry itself. */
		if (rd16(t + e + 2, le) != 3 || rd32(t + e + 4, le) < 1)
			return 0;
		unsigned v = rd16(t + e + 8, le);
		return v >= 1 && v <= 8 ? (int)v : 0;
	}
	return 0;
}

int gpx_codec_jpeg_orientation(const uint8_t *d, size_t n)
{
	if (n < 4 || d[0] != 0xff || d[1] != 0xd8)
		return 1;
	size_t pos = 2;
	while (pos < n) {
		if (d[pos] != 0xff)
			return 1;
		while (pos < n && d[pos] == 0xff)
			pos++; /* fill bytes */
		if (pos >= n)
			return 1;
		uint8_t m = d[pos++];
		if (m == 0xd9 || m == 0xda)
			return 1; /* EOI, SOS: no EXIF before the image data */
		if (m == 0x01 || (m >= 0xd0 && m <= 0xd7))
			continue; /* no length */
		if (n - pos < 2)
			return 1;
		size_t seg = (size_t)d[pos] << 8 | d[pos + 1];
		if (seg < 2 || seg > n - pos)
			return 1;
		if (m == 0xe1) {
			int o = gpx_codec_exif_parse(d + pos + 2, seg - 2);
			if (o)
				return o;
		}
		pos += seg;
	}
	return 1;
}

/* Destination of source pixel (sx, sy) is (dx, dy) with
 * dx = ax*sx + bx*sy + cx and dy = ay*sx + by*sy + cy. */
struct affine {
	int ax, bx, ay, by;
	int cx_w, cx_h, cy_w, cy_h; /* cx = cx_w*(W-1) + cx_h*(H-1), same for cy */
};

/* clang-format off */
static const struct affine orient_map[9] = {
	[1] = { 1,  0,  0,  1,  0, 0, 0, 0},
	[2] = {-1,  0,  0,  1,  1, 0, 0, 0},
	[3] = {-1,  0,  0, -1,  1, 0, 0, 1},
	[4] = { 1,  0,  0, -1,  0, 0, 0, 1},
	[5] = { 0,  1,  1,  0,  0, 0, 0, 0},
	[6] = { 0, -1,  1,  0,  0, 1, 0, 0},
	[7] = { 0, -1, -1,  0,  0, 1, 1, 0},
	[8] = { 0,  1, -1,  0,  0, 0, 1, 0},
};
/* clang-format on */

#define TILE 64

int gpx_codec_orient(const gpx_image *src, int o, gpx_image *dst)
{
	if (o < 1 || o > 8)
		o = 1;
	uint32_t w = src->width, h = src->height, c = src->channels;
	int swap = o >= 5;
	if (gpx_image_alloc(dst, swap ? h : w, swap ? w : h, c) < 0)
		return -1;
	const struct affine *a = &orient_map[o];
	ptrdiff_t ds = (ptrdiff_t)dst->stride, pc = (ptrdiff_t)c;
	ptrdiff_t cx = (ptrdiff_t)a->cx_w * (w - 1) + (ptrdiff_t)a->cx_h * (h - 1);
	ptrdiff_t cy = (ptrdiff_t)a->cy_w * (w - 1) + (ptrdiff_t)a->cy_h * (h - 1);
	ptrdiff_t step_x = a->ay * ds + a->ax * pc;
	ptrdiff_t step_y = a->by * ds + a->bx * pc;
	ptrdiff_t base = cy * ds + cx * pc;
	uint8_t *out = dst->data;

	/* Tiles keep both the reads and the scattered writes in cache. */
	for (uint32_t ty = 0; ty < h; ty += TILE) {
		uint32_t ey = ty + TILE < h ? ty + TILE : h;
		for (uint32_t tx = 0; tx < w; tx += TILE) {
			uint32_t ex = tx + TILE < w ? tx + TILE : w;
			for (uint32_t sy = ty; sy < ey; sy++) {
				const uint8_t *s = gpx_image_row(src, sy) + (size_t)tx * c;
				ptrdiff_t d =
					base + (ptrdiff_t)sy * step_y + (ptrdiff_t)tx * step_x;
				switch (c) {
				case 1:
					for (uint32_t sx = tx; sx < ex; sx++, s += 1, d += step_x)
						out[d] = s[0];
					break;
				case 3:
					for (uint32_t sx = tx; sx < ex; sx++, s += 3, d += step_x)
						memcpy(out + d, s, 3);
					break;
				default:
					for (uint32_t sx = tx; sx < ex; sx++, s += 4, d += step_x)
						memcpy(out + d, s, 4);
					break;
				}
			}
		}
	}
	return 0;
}
